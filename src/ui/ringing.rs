//! The ringing bars above the calls: one per incoming call ringing now, with Answer for
//! baresip's, its task once registered, To form when calls are registered by hand, ×, and
//! under it who is calling (the caller's card).

use crate::bus::Command;
use crate::domain::{CallRecord, EventSource, RingingCall};
use crate::settings::RegisterOn;

use super::i18n::{Texts, fill};
use super::state::{Outcome, UiState};
use super::theme;
use super::widgets::{icon_button, open_task_button};

/// How a closed bar is remembered while its call rings: its number and start.
fn bar_key(call: &RingingCall) -> (String, i64) {
    (call.number.as_str().to_owned(), call.since_ms)
}

/// What the agent asked of one bar.
#[derive(Debug, Default)]
struct BarAsks {
    to_form: bool,
    dismiss: bool,
}

/// A bar above the calls for each incoming call ringing now; baresip's can be answered, and
/// when calls are registered by hand, any can be put into the form.
pub fn ringing_ui(ui: &mut egui::Ui, state: &mut UiState, commands: &mut Vec<Command>) {
    let dismissed = &state.dismissed;
    let shown: Vec<&RingingCall> = state
        .ringing
        .iter()
        .filter(|c| !dismissed.contains(&bar_key(c)))
        .collect();
    if shown.is_empty() {
        return;
    }
    let t = state.texts();
    let by_hand = state
        .in_force
        .as_ref()
        .is_some_and(|s| s.calls.register_on == RegisterOn::Manual);
    let mut to_form = None;
    let mut dismiss = None;
    egui::Panel::top("ringing")
        .frame(theme::edge_panel(ui.style()))
        .show(ui, |ui| {
            for call in shown {
                // Its task, once registered.
                let task = call
                    .call_id
                    .as_deref()
                    .and_then(|id| state.list.by_external_id(id));
                // Its own task is shown on the bar already.
                let own = task
                    .and_then(|r| r.registration.as_ref())
                    .map(|r| r.task_id);
                let card = state
                    .cards
                    .get_or_ask(call.number.as_str(), commands)
                    .cloned()
                    .map(|c| c.without(own));
                let asks = bar_ui(ui, call, task, by_hand, t, commands);
                if let Some(card) = &card {
                    let salt = format!("ring-{}-{}", call.number.as_str(), call.since_ms);
                    ui.indent(salt.as_str(), |ui| {
                        super::caller_card::card_ui(ui, card, &salt, t, commands);
                    });
                }
                if asks.to_form {
                    to_form = Some(call.clone());
                }
                if asks.dismiss {
                    dismiss = Some(bar_key(call));
                }
            }
        });
    if let Some(key) = dismiss {
        state.dismissed.insert(key);
    }
    if let Some(call) = to_form {
        put_in_form(state, call);
    }
}

/// One ringing call's bar.
fn bar_ui(
    ui: &mut egui::Ui,
    call: &RingingCall,
    task: Option<&CallRecord>,
    by_hand: bool,
    t: &Texts,
    commands: &mut Vec<Command>,
) -> BarAsks {
    let mut asks = BarAsks::default();
    ui.horizontal_wrapped(|ui| {
        ui.colored_label(
            theme::WARN,
            egui::RichText::new(fill(t.ringing, &[&call.number.grouped()])).strong(),
        );
        if call.source == EventSource::Baresip
            && ui.button(t.answer).on_hover_text(t.answer_hover).clicked()
        {
            commands.push(Command::AnswerCall);
        }
        if let Some(record) = task
            && let (Some(url), Some(reg)) = (&record.task_url, &record.registration)
        {
            open_task_button(ui, reg.task_id, url, t, commands);
        }
        if by_hand && ui.button(t.to_form).clicked() {
            asks.to_form = true;
        }
        if icon_button(ui, "×", t.dismiss_ringing, t.dismiss_ringing).clicked() {
            asks.dismiss = true;
        }
    });
    asks
}

/// Puts a ringing call into the form, our side filled from the defaults where it is empty.
fn put_in_form(state: &mut UiState, call: RingingCall) {
    let defaults = state.in_force.as_ref().map(|s| s.defaults.clone());
    let form = &mut state.form;
    form.correcting = None;
    form.from = call.number.as_str().to_owned();
    form.outgoing = false;
    form.external_id = call.call_id.unwrap_or_default();
    if let Some(d) = defaults {
        if form.to.trim().is_empty() {
            form.to = d.line_number;
        }
        if form.internal.trim().is_empty() {
            form.internal = d.internal_number;
        }
    }
    state.outcome = Outcome::Idle;
}
