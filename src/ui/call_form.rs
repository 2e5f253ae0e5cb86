//! The new-call form (numbers, external id, mappings) and the result of the last
//! registration shown in place.

use crate::bus::Command;
use crate::domain::{
    CallRequest, Country, Direction, FormFieldInfo, InputError, JobId, JobState, Mapping,
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
    /// Why the last Register was refused (checked again as the input changes).
    pub error: Option<InputError>,
    /// Which way the call went (incoming unless the agent says otherwise).
    pub outgoing: bool,
    /// The phone-number tables were asked for.
    pub numbers_prepared: bool,
    /// A failed call loaded to be corrected: Register sends what is shown in its place.
    pub correcting: Option<JobId>,
    /// Next call was pressed (the caller lets the last outcome go).
    pub cleared: bool,
}

impl CallForm {
    /// Validates the buffers into a call. Numbers without a country code are read in the
    /// default country; an empty number on our side is this line's number, and an empty
    /// internal number the agent's own.
    pub fn to_request(&self, cx: &FormContext<'_>) -> Result<CallRequest, InputError> {
        let mappings = self
            .mappings
            .iter()
            .filter(|r| !(r.code.trim().is_empty() && r.value.is_empty()))
            .map(|r| Mapping::new(&r.code, &r.value))
            .collect::<Result<Vec<_>, _>>()?;
        let external = Some(self.external_id.as_str()).filter(|s| !s.trim().is_empty());
        let or_line = |typed: &str, our_side: bool| -> String {
            if our_side && typed.trim().is_empty() {
                cx.line_number.trim().to_owned()
            } else {
                typed.to_owned()
            }
        };
        let from = or_line(&self.from, self.outgoing);
        let to = or_line(&self.to, !self.outgoing);
        let internal = if self.internal.trim().is_empty() {
            cx.internal_number
        } else {
            &self.internal
        };
        let mut call =
            CallRequest::parse_in(&from, &to, Some(internal), external, mappings, cx.country)?;
        call.direction = if self.outgoing {
            Direction::Outgoing
        } else {
            Direction::Incoming
        };
        Ok(call)
    }

    /// Puts a stored call into the form to be corrected and sent again.
    pub fn correct(&mut self, job: JobId, call: &CallRequest) {
        *self = Self {
            from: call.from.as_str().to_owned(),
            to: call.to.as_str().to_owned(),
            internal: call
                .internal
                .as_ref()
                .map(|n| n.as_str().to_owned())
                .unwrap_or_default(),
            external_id: call
                .external_id
                .as_ref()
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default(),
            mappings: call
                .mappings
                .iter()
                .map(|m| MappingRow {
                    code: m.code.clone(),
                    value: m.value.clone(),
                })
                .collect(),
            error: None,
            outgoing: call.direction == Direction::Outgoing,
            numbers_prepared: self.numbers_prepared,
            correcting: Some(job),
            cleared: false,
        };
    }

    /// True when the form holds the same call as `other` (what is typed, not its state).
    pub fn same_call(&self, other: &Self) -> bool {
        (
            &self.from,
            &self.to,
            &self.internal,
            &self.external_id,
            &self.mappings,
            self.outgoing,
        ) == (
            &other.from,
            &other.to,
            &other.internal,
            &other.external_id,
            &other.mappings,
            other.outgoing,
        )
    }

    /// Lets go of the call being corrected when it is `job`'s.
    pub fn stop_correcting(&mut self, job: JobId) {
        if self.correcting == Some(job) {
            self.correcting = None;
        }
    }

    /// Empties the form for the next call (the number tables stay loaded).
    pub fn clear(&mut self) {
        *self = Self {
            numbers_prepared: self.numbers_prepared,
            ..Self::default()
        };
    }
}

/// The id of the From field, so a shortcut can focus it.
pub fn from_field_id() -> egui::Id {
    egui::Id::unique("call_form_from")
}

/// Focuses the From field with its text selected, so typing replaces the old number.
pub fn focus_from(ctx: &egui::Context, text: &str) {
    let id = from_field_id();
    ctx.memory_mut(|m| m.request_focus(id));
    let mut state = egui::TextEdit::load_state(ctx, id).unwrap_or_default();
    state
        .cursor
        .set_char_range(Some(egui::text::CCursorRange::two(
            egui::text::CCursor::new(0),
            egui::text::CCursor::new(text.chars().count()),
        )));
    state.store(ctx, id);
}

/// True when `response`'s field gave up focus because Enter was pressed in it.
pub(super) fn entered(ui: &egui::Ui, response: &egui::Response) -> bool {
    response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))
}

/// A labelled text field; a number field shows under it what will be sent, on a line that
/// is always there (so nothing below moves as the agent types).
struct Field<'t> {
    label: &'t str,
    hint: &'t str,
    id: Option<egui::Id>,
    preview: Option<(Option<Country>, &'t Texts)>,
    width: f32,
}

fn labelled_field(ui: &mut egui::Ui, field: &Field<'_>, text: &mut String) -> egui::Response {
    let label = ui.label(field.label);
    let response = ui
        .vertical(|ui| {
            let mut edit = egui::TextEdit::singleline(text)
                .hint_text(field.hint)
                .desired_width(field.width);
            if let Some(id) = field.id {
                edit = edit.id(id);
            }
            let response = ui.add(edit).labelled_by(label.id);
            if let Some((country, t)) = field.preview {
                preview_ui(ui, text, country, t);
            }
            response
        })
        .inner;
    ui.end_row();
    response
}

/// What the form needs besides its buffers: the default country, presets, form fields and
/// the defaults that fill what the agent leaves empty.
#[derive(Debug, Clone, Copy, Default)]
pub struct FormContext<'a> {
    /// Country for numbers typed without a country code.
    pub country: Option<Country>,
    /// Saved sets of mappings.
    pub presets: &'a [Preset],
    /// The Pyrus form's fields, when known.
    pub fields: &'a [FormFieldInfo],
    /// This line's number: our side of the call when that field is left empty.
    pub line_number: &'a str,
    /// The agent's internal number, sent when the field is left empty.
    pub internal_number: &'a str,
    /// Show the form's heading (a narrow window's tab names it instead).
    pub heading: bool,
    /// Who the far party is, when the index has answered for the number typed.
    pub caller: Option<&'a crate::domain::CallerCard>,
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

/// What the number will be sent as, under its field: one line, always there.
fn preview_ui(ui: &mut egui::Ui, text: &str, country: Option<Country>, t: &Texts) {
    let (words, colour) = if text.trim().is_empty() {
        (" ".to_owned(), theme::PENDING)
    } else {
        match PhoneNumber::parse_in(text, country) {
            Ok(n) if n.is_e164() => (fill(t.sent_as, &[&n.as_str()]), theme::OK),
            Ok(n) => (fill(t.sent_as_typed, &[&n.as_str()]), theme::WARN),
            Err(e) => (t.phone_error(&e), theme::ERROR),
        }
    };
    ui.add(egui::Label::new(egui::RichText::new(words).color(colour)).truncate());
}

/// Below this width the labels sit above their fields.
const STACKED_BELOW: f32 = 440.0;

/// Draws the form; Register (or Enter in any field) pushes `Command::Register`, or
/// `Command::Resend` for a failed call being corrected.
pub fn call_form_ui(
    ui: &mut egui::Ui,
    form: &mut CallForm,
    cx: FormContext<'_>,
    t: &Texts,
    commands: &mut Vec<Command>,
) {
    if cx.heading {
        ui.heading(t.new_call);
    }
    let numbers = numbers_ui(ui, form, &cx, t);
    if !form.numbers_prepared && (numbers.focused || !form.from.is_empty() || !form.to.is_empty()) {
        form.numbers_prepared = true;
        commands.push(Command::PrepareNumbers);
    }
    ui.horizontal_wrapped(|ui| {
        ui.label(t.direction);
        ui.selectable_value(&mut form.outgoing, false, t.incoming);
        ui.selectable_value(&mut form.outgoing, true, t.outgoing);
    });
    if let Some(card) = cx.caller {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            super::caller_card::card_ui(ui, card, "form", t, commands);
        });
    }
    ui.add_space(8.0);
    let mut submit = numbers.entered | mappings_ui(ui, form, &cx, t);
    ui.add_space(8.0);
    // A refusal goes away, or changes, as the agent fixes the input.
    if form.error.is_some() {
        form.error = form.to_request(&cx).err();
    }
    submit |= buttons_ui(ui, form, t);
    if let Some(error) = &form.error {
        ui.colored_label(theme::ERROR, t.input_error(error));
    }
    if submit {
        match form.to_request(&cx) {
            Ok(call) => {
                form.error = None;
                commands.push(match form.correcting {
                    Some(job) => Command::Resend { job, call },
                    None => Command::Register(call),
                });
            }
            Err(e) => {
                form.error = Some(e);
                ui.ctx().request_repaint();
            }
        }
    }
}

/// What the agent did in the number fields this pass.
#[derive(Debug, Clone, Copy, Default)]
struct NumbersTouched {
    /// A number field has the focus.
    focused: bool,
    /// Enter was pressed in one of the fields.
    entered: bool,
}

/// The hints in the empty fields: our side of the call, when left empty, is this line's
/// number, and the internal number the agent's own; the fields say so.
struct Hints {
    from: String,
    to: String,
    internal: String,
}

impl Hints {
    fn new(cx: &FormContext<'_>, outgoing: bool, t: &Texts) -> Self {
        const FAR: &str = "+7 977 422-13-38";
        const OURS: &str = "+7 495 300-90-80";
        let line = cx.line_number.trim();
        let line_hint = || fill(t.line_placeholder, &[&line]);
        let (from, to) = match (!line.is_empty(), outgoing) {
            (true, true) => (line_hint(), OURS.to_owned()),
            (true, false) => (FAR.to_owned(), line_hint()),
            (false, _) => (FAR.to_owned(), OURS.to_owned()),
        };
        let internal = if cx.internal_number.trim().is_empty() {
            t.optional_internal.to_owned()
        } else {
            fill(t.line_placeholder, &[&cx.internal_number.trim()])
        };
        Self { from, to, internal }
    }
}

/// From and To (each with what it will be sent as), the internal number and the external
/// id: labels beside the fields, or above them in a narrow form.
fn numbers_ui(
    ui: &mut egui::Ui,
    form: &mut CallForm,
    cx: &FormContext<'_>,
    t: &Texts,
) -> NumbersTouched {
    let stacked = ui.available_width() < STACKED_BELOW;
    let width = if stacked {
        ui.available_width()
    } else {
        (ui.available_width() - 150.0).clamp(160.0, 320.0)
    };
    let hints = Hints::new(cx, form.outgoing, t);
    let mut touched = NumbersTouched::default();
    let mut fields = |ui: &mut egui::Ui| {
        let preview = Some((cx.country, t));
        for (label, hint, id, text) in [
            (t.from, &hints.from, Some(from_field_id()), &mut form.from),
            (t.to, &hints.to, None, &mut form.to),
        ] {
            let field = Field {
                label,
                hint,
                id,
                preview,
                width,
            };
            let r = labelled_field(ui, &field, text);
            touched.focused |= r.has_focus();
            touched.entered |= entered(ui, &r);
        }
        for (label, text, hint) in [
            (t.internal, &mut form.internal, hints.internal.as_str()),
            (t.external_id, &mut form.external_id, t.optional_external),
        ] {
            let field = Field {
                label,
                hint,
                id: None,
                preview: None,
                width,
            };
            let r = labelled_field(ui, &field, text);
            touched.entered |= entered(ui, &r);
        }
    };
    if stacked {
        ui.vertical(|ui| fields(ui));
    } else {
        egui::Grid::new("call_numbers")
            .num_columns(2)
            .spacing([12.0, 4.0])
            .show(ui, |ui| fields(ui));
    }
    touched
}

/// The mappings: a heading with the presets, one row per mapping, and Add mapping. True when
/// Enter was pressed in a row.
fn mappings_ui(ui: &mut egui::Ui, form: &mut CallForm, cx: &FormContext<'_>, t: &Texts) -> bool {
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
    let mut enter = false;
    let mut remove = None;
    for (i, row) in form.mappings.iter_mut().enumerate() {
        enter |= super::mapping_row::mapping_row_ui(ui, i, row, cx.fields, t, &mut remove);
    }
    if let Some(i) = remove {
        form.mappings.remove(i);
    }
    if ui.button(t.add_mapping).clicked() {
        form.mappings.push(MappingRow::default());
    }
    enter
}

/// Register (Resend for a call being corrected) and Next call. True when Register was
/// clicked.
fn buttons_ui(ui: &mut egui::Ui, form: &mut CallForm, t: &Texts) -> bool {
    let mut register = false;
    ui.horizontal_wrapped(|ui| {
        let label = if form.correcting.is_some() {
            t.resend
        } else {
            t.register
        };
        if ui.button(label).clicked() {
            register = true;
        }
        if ui
            .button(t.next_call)
            .on_hover_text(t.next_call_hover)
            .clicked()
        {
            form.clear();
            form.cleared = true;
            focus_from(ui.ctx(), "");
        }
    });
    register
}

/// Shows where the last registration stands, with Open task once registered; a failed
/// call is corrected in the form above and sent again from there.
pub fn outcome_ui(
    ui: &mut egui::Ui,
    outcome: &Outcome,
    form: &CallForm,
    t: &Texts,
    commands: &mut Vec<Command>,
) {
    match outcome {
        Outcome::Idle => {}
        Outcome::Sending {
            external_id,
            retrying,
            ..
        } => {
            ui.horizontal_wrapped(|ui| {
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
            ui.horizontal_wrapped(|ui| {
                if ui.button(t.open_task).clicked() {
                    commands.push(Command::OpenUrl(task_url.clone()));
                }
                ui.add(egui::Label::new(egui::RichText::new(task_url).weak()).truncate());
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
            if form.correcting == Some(*job) {
                ui.label(egui::RichText::new(t.correct_above).weak());
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
    fn tab_goes_from_a_mappings_code_to_its_value_and_on_to_the_next_code() {
        let mut h = harness();
        h.state_mut().form.mappings = vec![MappingRow::default(), MappingRow::default()];
        h.run();
        h.get_by_label("Mapping 1 code").focus();
        h.run();
        // Nothing is drawn over a row: Add mapping comes below the last value.
        let add = h.get_by_label("Add mapping").rect();
        assert!(
            add.top() >= h.get_by_label("Mapping 2 value").rect().bottom(),
            "{add:?}"
        );
        // Code, value, then × (reachable), then the next mapping's code.
        for next in [
            "Mapping 1 value",
            "Remove mapping 1",
            "Mapping 2 code",
            "Mapping 2 value",
        ] {
            h.key_press(egui::Key::Tab);
            h.run();
            assert!(h.get_by_label(next).is_focused(), "Tab should reach {next}");
        }
        // From a code, the very next Tab is its value, and Enter there deletes nothing.
        h.get_by_label("Mapping 2 code").focus();
        h.run();
        h.key_press(egui::Key::Tab);
        h.run();
        assert!(h.get_by_label("Mapping 2 value").is_focused());
        h.key_press(egui::Key::Enter);
        h.run();
        assert_eq!(h.state().form.mappings.len(), 2, "Enter removed no mapping");
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
