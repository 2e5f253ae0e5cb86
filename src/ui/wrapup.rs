//! The wrap-up after a call: a dialog with the notes and the outcome fields the settings
//! name (a choice from the form's options, or text), Save to task; the draft is kept until
//! its comment is posted, so one Pyrus refused opens again as it was, to be corrected. A
//! call's row says where its wrap-up stands.

use std::collections::HashMap;

use crate::bus::{Command, WrapUp};
use crate::domain::{CallRecord, CallRowId, FormFieldInfo, JobBrief, JobId, JobState, Mapping};

use super::i18n::{Texts, fill};
use super::theme;
use super::widgets::dialog;

/// The longest notes a wrap-up takes.
pub const MAX_NOTES_CHARS: usize = 10_000;

/// A wrap-up being written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WrapUpEdit {
    /// The call, when it is one of the list's.
    pub row: Option<CallRowId>,
    /// Its task.
    pub task_id: u64,
    /// The call in words, for the title.
    pub about: String,
    /// The notes.
    pub text: String,
    /// The outcome fields: (code, value), one per field the settings name.
    pub values: Vec<(String, String)>,
    /// The refused wrap-up this corrects.
    pub correcting: Option<JobId>,
    /// Just opened: the notes take the keyboard.
    pub fresh: bool,
}

/// The wrap-up open in the dialog, and the drafts of those saved, by call.
#[derive(Debug, Default)]
pub struct WrapUps {
    /// Open in the dialog.
    pub editing: Option<WrapUpEdit>,
    /// As saved, until posted: a refused one opens again from here.
    pub drafts: HashMap<CallRowId, WrapUpEdit>,
}

impl WrapUps {
    /// Opens the dialog for `call`'s task: a refused wrap-up as it was saved (to correct),
    /// else an empty one with the outcome fields `codes`.
    pub fn open(&mut self, call: &CallRecord, about: String, codes: &[String]) {
        let Some(task_id) = call.registration.as_ref().map(|r| r.task_id) else {
            return;
        };
        let refused = call
            .wrapup
            .as_ref()
            .filter(|w| matches!(w.state, JobState::Failed | JobState::NeedsCredentials));
        if let (Some(job), Some(draft)) = (refused, self.drafts.get(&call.row)) {
            self.editing = Some(WrapUpEdit {
                correcting: Some(job.id),
                fresh: true,
                ..draft.clone()
            });
            return;
        }
        self.editing = Some(WrapUpEdit {
            row: Some(call.row),
            task_id,
            about,
            text: String::new(),
            values: codes.iter().map(|c| (c.clone(), String::new())).collect(),
            correcting: refused.map(|j| j.id),
            fresh: true,
        });
    }
}

/// What is wrong with a wrap-up before it is sent, in words; `None` when it can go.
fn problem(edit: &WrapUpEdit, t: &Texts) -> Option<String> {
    let chars = edit.text.chars().count();
    if chars > MAX_NOTES_CHARS {
        return Some(fill(t.wrapup_too_long, &[&MAX_NOTES_CHARS]));
    }
    if edit
        .text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Some(t.wrapup_control.to_owned());
    }
    for (code, value) in edit.values.iter().filter(|(_, v)| !v.trim().is_empty()) {
        if let Err(e) = Mapping::new(code, value.trim()) {
            return Some(format!("{code}: {}", t.input_error(&e)));
        }
    }
    let empty = edit.text.trim().is_empty() && edit.values.iter().all(|(_, v)| v.trim().is_empty());
    empty.then(|| t.wrapup_nothing.to_owned())
}

/// One outcome field: a choice among the form's options, or a line of text.
fn field_ui(
    ui: &mut egui::Ui,
    code: &str,
    value: &mut String,
    field: Option<&FormFieldInfo>,
    t: &Texts,
) {
    let name = field.map_or(code, |f| f.name.as_str());
    let label = ui.label(name);
    match field.filter(|f| !f.options.is_empty()) {
        Some(field) => {
            let shown = if value.is_empty() {
                t.wrapup_none
            } else {
                value.as_str()
            };
            let combo = egui::ComboBox::from_id_salt(("wrapup_field", code))
                .selected_text(shown.to_owned())
                .show_ui(ui, |ui| {
                    ui.selectable_value(value, String::new(), t.wrapup_none);
                    for option in &field.options {
                        ui.selectable_value(value, option.clone(), option);
                    }
                });
            combo.response.labelled_by(label.id);
        }
        None => {
            ui.add(egui::TextEdit::singleline(value).desired_width(f32::INFINITY))
                .labelled_by(label.id);
        }
    }
    ui.end_row();
}

/// The wrap-up dialog, while one is open.
pub fn wrapup_dialog_ui(
    ctx: &egui::Context,
    wrapups: &mut WrapUps,
    fields: &[FormFieldInfo],
    t: &Texts,
    commands: &mut Vec<Command>,
) {
    let Some(edit) = &mut wrapups.editing else {
        return;
    };
    let (mut close, mut save) = (false, false);
    // As wide as a narrow window allows.
    let width = (ctx.content_rect().width() - 40.0).clamp(220.0, 420.0);
    dialog(t.wrapup_title).show(ctx, |ui| {
        ui.set_max_width(width);
        ui.add(egui::Label::new(egui::RichText::new(&edit.about).weak()).wrap());
        let label = ui.label(t.wrapup_notes);
        let notes = ui
            .add(
                egui::TextEdit::multiline(&mut edit.text)
                    .desired_rows(4)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        if std::mem::take(&mut edit.fresh) {
            notes.request_focus();
        }
        if !edit.values.is_empty() {
            egui::Grid::new("wrapup_fields")
                .num_columns(2)
                .spacing([12.0, 6.0])
                .show(ui, |ui| {
                    for (code, value) in &mut edit.values {
                        let field = fields.iter().find(|f| f.code.eq_ignore_ascii_case(code));
                        field_ui(ui, code, value, field, t);
                    }
                });
        }
        let problem = problem(edit, t);
        if let Some(problem) = &problem {
            ui.add(egui::Label::new(egui::RichText::new(problem).color(theme::WARN)).wrap());
        }
        ui.horizontal(|ui| {
            save = ui
                .add_enabled(problem.is_none(), egui::Button::new(t.save_to_task))
                .clicked();
            close = ui.button(t.cancel).clicked();
        });
    });
    if save {
        let edit = wrapups.editing.take().unwrap_or_default();
        commands.push(Command::WrapUp(WrapUp {
            row: edit.row,
            task_id: edit.task_id,
            text: edit.text.trim_end().to_owned(),
            updates: edit
                .values
                .iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .filter_map(|(c, v)| Mapping::new(c, v.trim()).ok())
                .collect(),
            correcting: edit.correcting,
        }));
        if let Some(row) = edit.row {
            wrapups.drafts.insert(
                row,
                WrapUpEdit {
                    correcting: None,
                    ..edit
                },
            );
        }
    } else if close {
        wrapups.editing = None;
    }
}

/// Where a call's wrap-up stands, on its row; true when the agent asked to correct a
/// refused one.
pub fn wrapup_status_ui(ui: &mut egui::Ui, wrapup: &JobBrief, task_id: u64, t: &Texts) -> bool {
    let (words, colour) = match wrapup.state {
        JobState::Done => (fill(t.wrapup_saved, &[&task_id]), theme::OK),
        JobState::Failed | JobState::NeedsCredentials => (
            fill(
                t.wrapup_refused,
                &[&wrapup.error_message.clone().unwrap_or_default()],
            ),
            theme::ERROR,
        ),
        JobState::Pending if wrapup.attempts > 0 => (
            fill(
                t.wrapup_retrying,
                &[&wrapup.error_message.clone().unwrap_or_default()],
            ),
            theme::WARN,
        ),
        _ => (t.wrapup_saving.to_owned(), theme::PENDING),
    };
    ui.add(egui::Label::new(egui::RichText::new(words).color(colour)).wrap());
    matches!(wrapup.state, JobState::Failed | JobState::NeedsCredentials)
        && ui.button(t.wrapup_correct).clicked()
}
