//! The calls view: the ringing bars over the new-call form (with where its last call stands)
//! and the call list, side by side, or as tabs in a narrow window.

use crate::bus::Command;
use crate::domain::Country;

use super::i18n::fill;
use super::state::{NARROW_BELOW, Outcome, Pane, UiState, View};
use super::widgets::filling_scroll;
use super::{call_form, calls, ringing, settings_view, theme};

/// Draws the calls view.
pub fn calls_view_ui(ui: &mut egui::Ui, state: &mut UiState, commands: &mut Vec<Command>) {
    let t = state.texts();
    ringing::ringing_ui(ui, state, commands);
    let width = ui.available_width();
    if width < NARROW_BELOW {
        // A strip beside the softphone: the form and the list take turns.
        egui::Panel::top("calls_tabs")
            .frame(theme::edge_panel(ui.style()))
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.selectable_value(&mut state.pane, Pane::Form, t.new_call);
                    let list = fill(t.calls_tab_n, &[&state.list.calls.len()]);
                    ui.selectable_value(&mut state.pane, Pane::List, list);
                });
            });
        egui::CentralPanel::default()
            .frame(theme::central_panel(ui.style()))
            .show(ui, |ui| match state.pane {
                Pane::Form => form_pane_ui(ui, state, commands, false),
                Pane::List => list_pane_ui(ui, state, commands),
            });
    } else {
        egui::Panel::left("new_call")
            .frame(theme::edge_panel(ui.style()))
            .resizable(true)
            .default_size(420.0)
            .size_range(320.0..=(width * 0.55).max(320.0))
            .show(ui, |ui| form_pane_ui(ui, state, commands, true));
        egui::CentralPanel::default()
            .frame(theme::central_panel(ui.style()))
            .show(ui, |ui| list_pane_ui(ui, state, commands));
    }
}

/// The default country from the settings, when it names one.
fn default_country(state: &UiState) -> Option<Country> {
    let code = state.in_force.as_ref()?.defaults.country.as_deref()?;
    Country::parse(code).ok()
}

/// The new-call form and, under it, where the last registration stands.
fn form_pane_ui(
    ui: &mut egui::Ui,
    state: &mut UiState,
    commands: &mut Vec<Command>,
    heading: bool,
) {
    let t = state.texts();
    let first = commands.len();
    let mut wrap_up = None;
    filling_scroll("form_scroll").show(ui, |ui| {
        if state.set_aside.is_some() && ui.button(t.put_back_typed).clicked() {
            state.put_back_set_aside();
        }
        let in_force = state.in_force.as_ref();
        let presets = in_force
            .map(|s| s.defaults.presets.as_slice())
            .unwrap_or_default();
        // The far party: who calls in, or whom the agent calls; asked about once it reads
        // as a whole number.
        let far = if state.form.outgoing {
            state.form.to.trim()
        } else {
            state.form.from.trim()
        };
        let country = default_country(state);
        // The task of the call just registered from the form is shown below it already.
        let own = match &state.outcome {
            Outcome::Registered { registration, .. } => Some(registration.task_id),
            _ => None,
        };
        let caller = if whole_number(far) {
            state
                .cards
                .get_or_ask(far, commands)
                .cloned()
                .map(|c| c.without(own))
        } else {
            None
        };
        let cx = call_form::FormContext {
            country,
            presets,
            fields: &state.fields,
            line_number: in_force.map_or("", |s| s.defaults.line_number.as_str()),
            internal_number: in_force.map_or("", |s| s.defaults.internal_number.as_str()),
            heading,
            caller: caller.as_ref(),
        };
        call_form::call_form_ui(ui, &mut state.form, cx, t, commands);
        if let Some(refusal) = &state.fields_error {
            ui.colored_label(
                theme::WARN,
                fill(t.fields_error, &[&settings_view::refusal_text(t, refusal)]),
            );
        }
        ui.add_space(12.0);
        call_form::outcome_ui(ui, &state.outcome, &state.form, t, commands);
        // The call just registered: its wrap-up, from here too.
        if let Outcome::Registered { job, .. } = &state.outcome
            && ui.button(t.wrap_up).clicked()
        {
            wrap_up = Some(*job);
        }
    });
    if let Some(job) = wrap_up {
        state.wrapup_registered(job);
    }
    if std::mem::take(&mut state.form.cleared) {
        state.let_outcome_go();
    }
    follow_form_commands(state, &commands[first..]);
}

/// A call is being sent: remember what the form held; a corrected one: follow it.
fn follow_form_commands(state: &mut UiState, pushed: &[Command]) {
    for command in pushed {
        if matches!(command, Command::Register(_) | Command::Resend { .. }) {
            state.typed = Some(state.form.clone());
        }
        if let Command::Resend { job, call } = command {
            let external_id = call
                .external_id
                .as_ref()
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default();
            state.outcome = Outcome::sending(*job, external_id);
        }
    }
}

/// The call list, and what its rows asked of the rest of the window.
fn list_pane_ui(ui: &mut egui::Ui, state: &mut UiState, commands: &mut Vec<Command>) {
    let t = state.texts();
    calls::discarding_ui(ui, &mut state.list, t, commands);
    state.list.drop_target =
        calls::call_list_ui(ui, &mut state.list, &mut state.cards, t, commands);
    // A call discarded here leaves the form and the outcome panel too.
    for d in &state.list.discarding {
        if state.outcome_job() == Some(d.job) {
            state.outcome = Outcome::Idle;
        }
        state.form.stop_correcting(d.job);
    }
    if std::mem::take(&mut state.list.open_settings) {
        state.view = View::Settings;
    }
    if std::mem::take(&mut state.list.enter_key) {
        state.key_prompt = Some(String::new());
    }
    if let Some(row) = state.list.correct.take() {
        state.correct_call(row);
    }
    if let Some(row) = state.list.wrap_up.take() {
        state.open_wrapup(row);
    }
}

/// True when `text` reads as a whole phone number (seven digits or more): worth asking who
/// it is.
fn whole_number(text: &str) -> bool {
    crate::domain::PhoneNumber::parse(text)
        .is_ok_and(|n| n.as_str().trim_start_matches('+').len() >= 7)
}
