//! The new-call form (numbers, external id, mappings) and the result of the last
//! registration shown in place.

use crate::bus::Command;
use crate::domain::{CallRequest, JobState, MAX_VALUE_CHARS, Mapping};

use super::{Outcome, theme};

/// One editable mapping row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappingRow {
    /// Field code.
    pub code: String,
    /// Value.
    pub value: String,
}

/// The form's edit buffers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallForm {
    /// Caller.
    pub from: String,
    /// Callee.
    pub to: String,
    /// Internal number.
    pub internal: String,
    /// External id.
    pub external_id: String,
    /// Mapping rows.
    pub mappings: Vec<MappingRow>,
    /// Why the last Register was refused.
    pub error: Option<String>,
}

impl CallForm {
    /// Validates the buffers into a call.
    pub fn to_request(&self) -> Result<CallRequest, String> {
        let mappings = self
            .mappings
            .iter()
            .filter(|r| !(r.code.trim().is_empty() && r.value.is_empty()))
            .map(|r| Mapping::new(&r.code, &r.value).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let external = Some(self.external_id.as_str()).filter(|s| !s.trim().is_empty());
        CallRequest::parse(
            &self.from,
            &self.to,
            Some(&self.internal),
            external,
            mappings,
        )
        .map_err(|e| e.to_string())
    }
}

fn labelled_field(ui: &mut egui::Ui, label: &str, text: &mut String, hint: &str) -> egui::Response {
    let label = ui.label(label);
    let response = ui
        .add(
            egui::TextEdit::singleline(text)
                .hint_text(hint)
                .desired_width(260.0),
        )
        .labelled_by(label.id);
    ui.end_row();
    response
}

/// Draws the form; Register (or Enter in a field) pushes `Command::Register`.
pub fn call_form_ui(ui: &mut egui::Ui, form: &mut CallForm, commands: &mut Vec<Command>) {
    ui.heading("New call");
    let mut submit = false;
    egui::Grid::new("call_numbers")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            for (label, text, hint) in [
                ("From", &mut form.from, "+7 977 422-13-38"),
                ("To", &mut form.to, "+7 495 300-90-80"),
                ("Internal number", &mut form.internal, "200 (optional)"),
                ("External id", &mut form.external_id, "call id (optional)"),
            ] {
                let r = labelled_field(ui, label, text, hint);
                submit |= r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            }
        });
    ui.add_space(8.0);
    ui.label(egui::RichText::new("Mappings").strong());
    let mut remove = None;
    egui::Grid::new("mappings")
        .num_columns(4)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            for (i, row) in form.mappings.iter_mut().enumerate() {
                let n = i + 1;
                let code = ui
                    .add(
                        egui::TextEdit::singleline(&mut row.code)
                            .hint_text("Field code")
                            .desired_width(140.0),
                    )
                    .on_hover_text("Pyrus form field code");
                code.widget_info(|| {
                    egui::WidgetInfo::labeled(
                        egui::Role::TextInput,
                        true,
                        format!("Mapping {n} code"),
                    )
                });
                let value = ui.add(
                    egui::TextEdit::singleline(&mut row.value)
                        .hint_text("Value")
                        .desired_width(220.0),
                );
                value.widget_info(|| {
                    egui::WidgetInfo::labeled(
                        egui::Role::TextInput,
                        true,
                        format!("Mapping {n} value"),
                    )
                });
                let len = row.value.chars().count();
                let counter = egui::RichText::new(format!("{len}/{MAX_VALUE_CHARS}"));
                ui.label(if len > MAX_VALUE_CHARS {
                    counter.color(theme::ERROR)
                } else {
                    counter.weak()
                });
                let remove_button = ui.button("Remove");
                remove_button.widget_info(|| {
                    egui::WidgetInfo::labeled(
                        egui::Role::Button,
                        true,
                        format!("Remove mapping {n}"),
                    )
                });
                if remove_button.clicked() {
                    remove = Some(i);
                }
                ui.end_row();
            }
        });
    if let Some(i) = remove {
        form.mappings.remove(i);
    }
    if ui.button("Add mapping").clicked() {
        form.mappings.push(MappingRow::default());
    }
    ui.add_space(8.0);
    if let Some(error) = &form.error {
        ui.colored_label(theme::ERROR, error);
    }
    if ui.button("Register").clicked() {
        submit = true;
    }
    if submit {
        match form.to_request() {
            Ok(call) => {
                form.error = None;
                commands.push(Command::Register(call));
            }
            Err(e) => {
                form.error = Some(e);
                // The message sits above the button: show it on the next pass.
                ui.ctx().request_repaint();
            }
        }
    }
}

/// Shows where the last registration stands, with Open task once registered.
pub fn outcome_ui(ui: &mut egui::Ui, outcome: &Outcome, commands: &mut Vec<Command>) {
    match outcome {
        Outcome::Idle => {}
        Outcome::Sending {
            external_id,
            retrying,
            ..
        } => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("Registering call {external_id}…"));
            });
            if let Some(reason) = retrying {
                ui.colored_label(theme::WARN, format!("Retrying: {reason}"));
            }
        }
        Outcome::Registered {
            registration,
            task_url,
            ..
        } => {
            ui.colored_label(theme::OK, format!("Task {}", registration.task_id));
            ui.label(if registration.is_new_task {
                "New task created"
            } else {
                "Comment added to an existing task"
            });
            if let Some(person) = &registration.responsible {
                ui.label(format!("Responsible: {}", person.display_name()));
            }
            ui.horizontal(|ui| {
                if ui.button("Open task").clicked() {
                    commands.push(Command::OpenUrl(task_url.clone()));
                }
                ui.label(egui::RichText::new(task_url).weak());
            });
        }
        Outcome::Stopped {
            message,
            state,
            job,
        } => {
            let what = if *state == JobState::NeedsCredentials {
                "Waiting for credentials"
            } else {
                "Not registered"
            };
            ui.colored_label(theme::ERROR, format!("{what}: {message}"));
            if ui.button("Retry").clicked() {
                commands.push(Command::Retry(*job));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    use super::{CallForm, MappingRow, call_form_ui};
    use crate::bus::Command;

    struct State {
        form: CallForm,
        commands: Vec<Command>,
    }

    /// Focuses a field the way a keyboard user would, then types into it.
    fn type_into(h: &mut Harness<'static, State>, label: &str, text: &str) {
        h.get_by_label(label).focus();
        h.run();
        h.get_by_label(label).type_text(text);
        h.run();
    }

    fn harness() -> Harness<'static, State> {
        Harness::new_ui_state(
            |ui, s: &mut State| call_form_ui(ui, &mut s.form, &mut s.commands),
            State {
                form: CallForm::default(),
                commands: Vec::new(),
            },
        )
    }

    #[test]
    fn register_sends_a_validated_call() {
        let mut h = harness();
        type_into(&mut h, "From", "+7 977 422-13-38");
        type_into(&mut h, "To", "+74953009080");
        h.get_by_label("Add mapping").click();
        h.run();
        type_into(&mut h, "Mapping 1 code", "Subject");
        type_into(&mut h, "Mapping 1 value", "Consultation");
        h.get_by_label("Register").click();
        h.run();
        let [Command::Register(call)] = h.state().commands.as_slice() else {
            panic!("expected one Register, got {:?}", h.state().commands);
        };
        assert_eq!(call.from.as_str(), "+79774221338");
        assert_eq!(call.mappings[0].value, "Consultation");
    }

    #[test]
    fn a_bad_number_is_refused_inline_and_nothing_is_sent() {
        let mut h = harness();
        type_into(&mut h, "From", "12ab");
        type_into(&mut h, "To", "+74953009080");
        h.get_by_label("Register").click();
        h.run();
        assert!(h.state().commands.is_empty());
        h.get_by_label_contains("from: the number contains 'a'");
    }

    #[test]
    fn an_overlong_value_shows_in_the_counter_and_is_refused() {
        let mut h = harness();
        h.state_mut().form = CallForm {
            from: "+79774221338".into(),
            to: "+74953009080".into(),
            mappings: vec![MappingRow {
                code: "Note".into(),
                value: "x".repeat(301),
            }],
            ..CallForm::default()
        };
        h.run();
        h.get_by_label("301/300");
        h.get_by_label("Register").click();
        h.run();
        assert!(h.state().commands.is_empty());
        h.get_by_label_contains("301 characters");
    }
}
