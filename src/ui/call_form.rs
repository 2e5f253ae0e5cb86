//! The new-call form (numbers, external id, mappings) and the result of the last
//! registration shown in place.

use crate::bus::Command;
use crate::domain::{
    CallRequest, Country, Direction, FormFieldInfo, InputError, JobState, MAX_VALUE_CHARS, Mapping,
    PhoneNumber,
};
use crate::settings::Preset;

use super::i18n::{Texts, fill};
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
    pub error: Option<InputError>,
    /// Which way the call went (incoming unless the agent says otherwise).
    pub outgoing: bool,
    /// The phone-number tables were asked for.
    pub numbers_prepared: bool,
}

impl CallForm {
    /// Validates the buffers into a call; numbers without a country code are read in
    /// `country`.
    pub fn to_request(&self, country: Option<Country>) -> Result<CallRequest, InputError> {
        let mappings = self
            .mappings
            .iter()
            .filter(|r| !(r.code.trim().is_empty() && r.value.is_empty()))
            .map(|r| Mapping::new(&r.code, &r.value))
            .collect::<Result<Vec<_>, _>>()?;
        let external = Some(self.external_id.as_str()).filter(|s| !s.trim().is_empty());
        let mut call = CallRequest::parse_in(
            &self.from,
            &self.to,
            Some(&self.internal),
            external,
            mappings,
            country,
        )?;
        call.direction = if self.outgoing {
            Direction::Outgoing
        } else {
            Direction::Incoming
        };
        Ok(call)
    }
}

/// The id of the From field, so a shortcut can focus it.
pub fn from_field_id() -> egui::Id {
    egui::Id::unique("call_form_from")
}

/// A labelled text field; a number field shows under it what will be sent.
fn labelled_field(
    ui: &mut egui::Ui,
    label: &str,
    text: &mut String,
    hint: &str,
    id: Option<egui::Id>,
    preview: Option<(Option<Country>, &Texts)>,
) -> egui::Response {
    let label = ui.label(label);
    let response = ui
        .vertical(|ui| {
            let mut edit = egui::TextEdit::singleline(text)
                .hint_text(hint)
                .desired_width(260.0);
            if let Some(id) = id {
                edit = edit.id(id);
            }
            let response = ui.add(edit).labelled_by(label.id);
            if let Some((country, t)) = preview {
                preview_ui(ui, text, country, t);
            }
            response
        })
        .inner;
    ui.end_row();
    response
}

/// What the form needs besides its buffers: the default country, presets, form fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct FormContext<'a> {
    /// Country for numbers typed without a country code.
    pub country: Option<Country>,
    /// Saved sets of mappings.
    pub presets: &'a [Preset],
    /// The Pyrus form's fields, when known.
    pub fields: &'a [FormFieldInfo],
}

/// Fills the rows of a preset: a row with the same code gets the preset's value, others
/// are added.
pub fn apply_preset(form: &mut CallForm, preset: &Preset) {
    for mapping in &preset.mappings {
        match form
            .mappings
            .iter_mut()
            .find(|r| r.code.trim() == mapping.code)
        {
            Some(row) => row.value.clone_from(&mapping.value),
            None => form.mappings.push(MappingRow {
                code: mapping.code.clone(),
                value: mapping.value.clone(),
            }),
        }
    }
}

/// What the number will be sent as, under its field.
fn preview_ui(ui: &mut egui::Ui, text: &str, country: Option<Country>, t: &Texts) {
    if text.trim().is_empty() {
        return;
    }
    let (words, colour) = match PhoneNumber::parse_in(text, country) {
        Ok(n) if n.is_e164() => (fill(t.sent_as, &[&n.as_str()]), theme::OK),
        Ok(n) => (fill(t.sent_as_typed, &[&n.as_str()]), theme::WARN),
        Err(e) => (t.phone_error(&e), theme::ERROR),
    };
    ui.label(egui::RichText::new(words).color(colour));
}

/// Draws the form; Register (or Enter in a field) pushes `Command::Register`.
pub fn call_form_ui(
    ui: &mut egui::Ui,
    form: &mut CallForm,
    cx: FormContext<'_>,
    t: &Texts,
    commands: &mut Vec<Command>,
) {
    ui.heading(t.new_call);
    let mut submit = false;
    let mut focused = false;
    egui::Grid::new("call_numbers")
        .num_columns(2)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            let r = labelled_field(
                ui,
                t.from,
                &mut form.from,
                "+7 977 422-13-38",
                Some(from_field_id()),
                Some((cx.country, t)),
            );
            focused |= r.has_focus();
            submit |= r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let r = labelled_field(
                ui,
                t.to,
                &mut form.to,
                "+7 495 300-90-80",
                None,
                Some((cx.country, t)),
            );
            focused |= r.has_focus();
            submit |= r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            for (label, text, hint) in [
                (t.internal, &mut form.internal, t.optional_internal),
                (t.external_id, &mut form.external_id, t.optional_external),
            ] {
                let r = labelled_field(ui, label, text, hint, None, None);
                submit |= r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            }
        });
    if !form.numbers_prepared && (focused || !form.from.is_empty() || !form.to.is_empty()) {
        form.numbers_prepared = true;
        commands.push(Command::PrepareNumbers);
    }
    ui.horizontal(|ui| {
        ui.label(t.direction);
        ui.selectable_value(&mut form.outgoing, false, t.incoming);
        ui.selectable_value(&mut form.outgoing, true, t.outgoing);
    });
    ui.add_space(8.0);
    ui.horizontal_wrapped(|ui| {
        ui.label(egui::RichText::new(t.mappings).strong());
        if !cx.presets.is_empty() {
            ui.separator();
            ui.label(t.presets);
            for preset in cx.presets {
                if ui
                    .button(&preset.name)
                    .on_hover_text(t.preset_hover)
                    .clicked()
                {
                    apply_preset(form, preset);
                }
            }
        }
    });
    let mut remove = None;
    egui::Grid::new("mappings")
        .num_columns(4)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            for (i, row) in form.mappings.iter_mut().enumerate() {
                mapping_row_ui(ui, i, row, cx.fields, t, &mut remove);
            }
        });
    if let Some(i) = remove {
        form.mappings.remove(i);
    }
    if ui.button(t.add_mapping).clicked() {
        form.mappings.push(MappingRow::default());
    }
    ui.add_space(8.0);
    if let Some(error) = &form.error {
        ui.colored_label(theme::ERROR, t.input_error(error));
    }
    if ui.button(t.register).clicked() {
        submit = true;
    }
    if submit {
        match form.to_request(cx.country) {
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

fn mapping_row_ui(
    ui: &mut egui::Ui,
    i: usize,
    row: &mut MappingRow,
    fields: &[FormFieldInfo],
    t: &Texts,
    remove: &mut Option<usize>,
) {
    let n = i + 1;
    ui.horizontal(|ui| {
        let code = ui
            .add(
                egui::TextEdit::singleline(&mut row.code)
                    .hint_text(t.field_code)
                    .desired_width(120.0),
            )
            .on_hover_text(t.field_code_hover);
        code.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::TextInput, true, fill(t.mapping_code_n, &[&n]))
        });
        if !fields.is_empty() {
            let combo = egui::ComboBox::from_id_salt(("field", i))
                .width(24.0)
                .selected_text("")
                .show_ui(ui, |ui| {
                    for field in fields {
                        let label = format!("{} ({})", field.name, field.code);
                        ui.selectable_value(&mut row.code, field.code.clone(), label);
                    }
                });
            combo.response.widget_info(|| {
                egui::WidgetInfo::labeled(
                    egui::Role::ComboBox,
                    true,
                    fill(t.field_options_n, &[&n]),
                )
            });
        }
    });
    ui.horizontal(|ui| {
        let value = ui.add(
            egui::TextEdit::singleline(&mut row.value)
                .hint_text(t.value)
                .desired_width(200.0),
        );
        value.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::TextInput, true, fill(t.mapping_value_n, &[&n]))
        });
        let options = fields
            .iter()
            .find(|f| f.code == row.code.trim())
            .map(|f| f.options.as_slice())
            .unwrap_or_default();
        if !options.is_empty() {
            egui::ComboBox::from_id_salt(("option", i))
                .width(24.0)
                .selected_text("")
                .show_ui(ui, |ui| {
                    for option in options {
                        ui.selectable_value(&mut row.value, option.clone(), option);
                    }
                })
                .response
                .on_hover_text(t.choose_option);
        }
    });
    let len = row.value.chars().count();
    let counter = egui::RichText::new(format!("{len}/{MAX_VALUE_CHARS}"));
    ui.label(if len > MAX_VALUE_CHARS {
        counter.color(theme::ERROR)
    } else {
        counter.weak()
    });
    let remove_button = ui.button(t.remove);
    remove_button.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Button, true, fill(t.remove_n, &[&n]))
    });
    if remove_button.clicked() {
        *remove = Some(i);
    }
    ui.end_row();
}

/// Shows where the last registration stands, with Open task once registered.
pub fn outcome_ui(ui: &mut egui::Ui, outcome: &Outcome, t: &Texts, commands: &mut Vec<Command>) {
    match outcome {
        Outcome::Idle => {}
        Outcome::Sending {
            external_id,
            retrying,
            ..
        } => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(fill(t.registering_call, &[external_id]));
            });
            if let Some((code, reason)) = retrying {
                ui.colored_label(
                    theme::WARN,
                    fill(t.retrying, &[&t.advice(Some(code), reason)]),
                );
            }
        }
        Outcome::Registered {
            registration,
            task_url,
            ..
        } => {
            ui.label(
                egui::RichText::new(fill(t.task_n, &[&registration.task_id]))
                    .heading()
                    .color(theme::OK),
            );
            ui.label(if registration.is_new_task {
                t.new_task
            } else {
                t.existing_task
            });
            if let Some(person) = &registration.responsible {
                ui.label(fill(t.responsible, &[&person.display_name()]));
            }
            ui.horizontal(|ui| {
                if ui.button(t.open_task).clicked() {
                    commands.push(Command::OpenUrl(task_url.clone()));
                }
                ui.label(egui::RichText::new(task_url).weak());
            });
        }
        Outcome::Stopped {
            code,
            message,
            state,
            job,
        } => {
            let what = if *state == JobState::NeedsCredentials {
                t.waiting_credentials
            } else {
                t.not_registered
            };
            ui.colored_label(
                theme::ERROR,
                format!("{what}: {}", t.advice(Some(code), message)),
            );
            if ui.button(t.retry).clicked() {
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

    fn registers(h: &Harness<'static, State>) -> Vec<crate::domain::CallRequest> {
        h.state()
            .commands
            .iter()
            .filter_map(|c| match c {
                Command::Register(call) => Some(call.clone()),
                _ => None,
            })
            .collect()
    }

    fn harness() -> Harness<'static, State> {
        Harness::new_ui_state(
            |ui, s: &mut State| {
                call_form_ui(
                    ui,
                    &mut s.form,
                    super::FormContext::default(),
                    &super::super::i18n::EN,
                    &mut s.commands,
                )
            },
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
        let sent = registers(&h);
        let [call] = sent.as_slice() else {
            panic!("expected one Register, got {:?}", h.state().commands);
        };
        assert!(
            matches!(h.state().commands.first(), Some(Command::PrepareNumbers)),
            "typing a number asks for the number tables first"
        );
        assert_eq!(call.from.as_str(), "+79774221338");
        assert_eq!(call.mappings[0].value, "Consultation");
    }

    #[test]
    fn tab_walks_the_fields_in_order() {
        let mut h = harness();
        h.get_by_label("From").focus();
        h.run();
        for next in ["To", "Internal number", "External id"] {
            h.key_press(egui::Key::Tab);
            h.run();
            assert!(h.get_by_label(next).is_focused(), "Tab should reach {next}");
        }
    }

    #[test]
    fn a_bad_number_is_refused_inline_and_nothing_is_sent() {
        let mut h = harness();
        type_into(&mut h, "From", "12ab");
        type_into(&mut h, "To", "+74953009080");
        h.get_by_label("Register").click();
        h.run();
        assert!(registers(&h).is_empty(), "nothing is sent");
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
        assert!(registers(&h).is_empty(), "nothing is sent");
        h.get_by_label_contains("301 characters");
    }
}
