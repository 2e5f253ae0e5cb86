//! Who is calling, as the window shows it: the cards it asked the service for (by the
//! number as shown or typed), the card under a ringing call and in the form — the caller's
//! open tasks newest first, the closed ones under History, or what to do when the index
//! cannot say — and the one line a call's row gives it.

use std::collections::{BTreeMap, BTreeSet};

use crate::bus::Command;
use crate::domain::{CallerCard, CallerTask, FormIndex};

use super::i18n::{Texts, fill};
use super::theme;
use super::widgets::local_time;

/// Open tasks listed before "N more open".
const OPEN_SHOWN: usize = 3;

/// Cards kept before the oldest asked are forgotten.
const KEPT: usize = 256;

/// The caller cards the window has, by the number as it asked.
#[derive(Debug, Default)]
pub struct Cards {
    known: BTreeMap<String, CallerCard>,
    asked: BTreeSet<String>,
}

impl Cards {
    /// The card for `number` when the service has answered; asks for it (once) when not.
    pub fn get_or_ask(&mut self, number: &str, commands: &mut Vec<Command>) -> Option<&CallerCard> {
        let number = number.trim();
        if number.is_empty() {
            return None;
        }
        if !self.asked.contains(number) {
            if self.asked.len() >= KEPT {
                self.asked.clear();
                self.known.clear();
            }
            self.asked.insert(number.to_owned());
            commands.push(Command::LookUpCaller(number.to_owned()));
        }
        self.known.get(number)
    }

    /// The card the service answered for `asked`.
    pub fn arrived(&mut self, asked: String, card: CallerCard) {
        self.known.insert(asked, card);
    }

    /// The index was read again: every card is asked for anew when next shown (the old one
    /// stays until the answer comes).
    pub fn read_again(&mut self) {
        self.asked.clear();
    }
}

/// When a task last changed, in local time (today: the time only).
fn changed(task: &CallerTask) -> String {
    let Ok(at) = chrono::DateTime::parse_from_rfc3339(&task.modified) else {
        return task.modified.clone();
    };
    let ms = at.timestamp_millis();
    let today =
        local_time(ms, "%Y-%m-%d") == local_time(chrono::Utc::now().timestamp_millis(), "%Y-%m-%d");
    local_time(ms, if today { "%H:%M" } else { "%Y-%m-%d" })
}

/// One task: its subject, then step · responsible · last change, and Open.
fn task_ui(ui: &mut egui::Ui, task: &CallerTask, t: &Texts, commands: &mut Vec<Command>) {
    ui.horizontal_wrapped(|ui| {
        ui.add(egui::Label::new(egui::RichText::new(&task.subject).strong()).wrap());
        if ui
            .small_button(fill(t.card_open, &[&task.task_id]))
            .clicked()
        {
            commands.push(Command::OpenTask(task.task_id));
        }
    });
    let mut details: Vec<String> = Vec::new();
    details.extend(task.step.clone());
    details.extend(task.responsible.clone());
    details.push(fill(t.card_changed, &[&changed(task)]));
    ui.add(egui::Label::new(egui::RichText::new(details.join(" · ")).weak().small()).wrap());
}

/// What a form's state asks the agent, when it asks anything.
fn form_words(form: &FormIndex, t: &Texts) -> Option<(String, egui::Color32)> {
    match form {
        FormIndex::Ready { .. } | FormIndex::Syncing { .. } => None,
        FormIndex::Denied { form_id, .. } => {
            Some((fill(t.card_denied, &[form_id, form_id]), theme::WARN))
        }
        FormIndex::Failed { form_id, code, .. } => {
            Some((fill(t.card_failed, &[form_id, code]), theme::PENDING))
        }
    }
}

/// The whole card: open tasks (the first few, then "N more open"), History (N), and what
/// the index cannot say. `salt` keeps each card's folds apart.
pub fn card_ui(
    ui: &mut egui::Ui,
    card: &CallerCard,
    salt: &str,
    t: &Texts,
    commands: &mut Vec<Command>,
) {
    let weak = |ui: &mut egui::Ui, text: &str| {
        ui.add(egui::Label::new(egui::RichText::new(text).weak()).wrap());
    };
    if card.forms.is_empty() {
        weak(ui, t.card_no_form);
        return;
    }
    for (words, colour) in card.forms.iter().filter_map(|f| form_words(f, t)) {
        ui.add(egui::Label::new(egui::RichText::new(words).color(colour)).wrap());
    }
    if card.open.is_empty() && card.closed.is_empty() {
        let syncing = card
            .forms
            .iter()
            .any(|f| matches!(f, FormIndex::Syncing { .. }));
        if syncing {
            weak(ui, t.card_syncing);
        } else if card
            .forms
            .iter()
            .any(|f| matches!(f, FormIndex::Ready { .. }))
        {
            weak(ui, t.card_nobody);
        }
        return;
    }
    for task in card.open.iter().take(OPEN_SHOWN) {
        task_ui(ui, task, t, commands);
    }
    let more = card.open.len().saturating_sub(OPEN_SHOWN);
    if more > 0 {
        egui::CollapsingHeader::new(fill(t.card_more, &[&more]))
            .id_salt(("card_more", salt))
            .show(ui, |ui| {
                for task in card.open.iter().skip(OPEN_SHOWN) {
                    task_ui(ui, task, t, commands);
                }
            });
    }
    if !card.closed.is_empty() {
        egui::CollapsingHeader::new(fill(t.card_history, &[&card.closed.len()]))
            .id_salt(("card_history", salt))
            .show(ui, |ui| {
                for task in &card.closed {
                    task_ui(ui, task, t, commands);
                }
            });
    }
    let stale = card
        .forms
        .iter()
        .any(|f| matches!(f, FormIndex::Failed { .. }));
    if stale && let Some(at) = card.as_of_ms() {
        weak(ui, &fill(t.card_as_of, &[&local_time(at, "%H:%M")]));
    }
}

/// A call's row: its caller's newest open task and Open, "N more open", or History (N)
/// when all are closed; nothing when the index knows nobody.
pub fn row_card_ui(ui: &mut egui::Ui, card: &CallerCard, t: &Texts, commands: &mut Vec<Command>) {
    if let Some(task) = card.open.first() {
        ui.horizontal_wrapped(|ui| {
            ui.add(egui::Label::new(egui::RichText::new(&task.subject).color(theme::OK)).wrap());
            if ui
                .small_button(fill(t.card_open, &[&task.task_id]))
                .clicked()
            {
                commands.push(Command::OpenTask(task.task_id));
            }
            if card.open.len() > 1 {
                ui.label(egui::RichText::new(fill(t.card_more, &[&(card.open.len() - 1)])).weak());
            }
        });
    } else if !card.closed.is_empty() {
        ui.label(egui::RichText::new(fill(t.card_history, &[&card.closed.len()])).weak());
    }
}
