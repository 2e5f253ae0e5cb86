//! The settings view: edits a copy of the settings (and a newly typed security key, never
//! shown back), tests the connection, and saves or cancels.

use crate::bus::{Command, KeyPlace, Refusal};
use crate::domain::{Mapping, Secret, SourcesReport};
use crate::settings::{AdminView, OpenOn, OpenTask, Preset, ProblemKind, RegisterOn, Settings};

use super::i18n::{Language, Texts, fill};
use super::sources_view::{DoctorForm, token_ui};
use super::theme;
use super::widgets::name_widget;

/// The edit buffers of the settings view.
#[derive(Debug, Clone, Default)]
pub struct SettingsForm {
    /// The copy being edited.
    pub draft: Settings,
    /// The settings in force when editing began.
    pub original: Settings,
    /// A newly typed security key; empty keeps the stored one.
    pub key: String,
    /// Waiting for a Test connection answer.
    pub testing: bool,
    /// The last Test connection answer: the API address, or why not.
    pub test_result: Option<Result<String, Refusal>>,
    /// Waiting for a Save answer.
    pub saving: bool,
    /// Why the last Save was refused.
    pub save_error: Option<Refusal>,
    /// Shown after a successful save.
    pub saved: bool,
    /// The hook's allow-list as typed (commas or spaces between entries).
    pub allow_text: String,
    /// The hook's port as typed.
    pub port_text: String,
    /// The presets as typed: a name, and its mappings as `Code=Value; Code=Value`.
    pub preset_text: Vec<(String, String)>,
    /// A field the view checks is wrong as typed (Save waits until it is fixed).
    pub invalid: bool,
    /// What the administrator's file sets and locks, or why it cannot be used.
    pub admin: AdminView,
}

impl SettingsForm {
    /// Starts editing `settings`.
    pub fn new(settings: &Settings) -> Self {
        Self {
            draft: settings.clone(),
            original: settings.clone(),
            allow_text: settings.hook.allow.join(", "),
            port_text: settings.hook.port.to_string(),
            preset_text: settings
                .defaults
                .presets
                .iter()
                .map(|p| {
                    let maps = p
                        .mappings
                        .iter()
                        .map(|m| format!("{}={}", m.code, m.value))
                        .collect::<Vec<_>>()
                        .join("; ");
                    (p.name.clone(), maps)
                })
                .collect(),
            ..Self::default()
        }
    }

    /// Starts editing `settings` afresh, keeping what the administrator's file sets.
    pub fn restart(&mut self, settings: &Settings) {
        *self = Self {
            admin: std::mem::take(&mut self.admin),
            ..Self::new(settings)
        };
    }

    /// True when something differs from what is in force.
    pub fn dirty(&self) -> bool {
        self.draft != self.original || !self.key.is_empty()
    }

    fn typed_key(&self) -> Option<Secret> {
        Some(Secret::new(self.key.trim())).filter(|k| !k.is_blank())
    }
}

/// What the view asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsAction {
    /// Nothing.
    None,
    /// Leave the view (Cancel).
    Close,
}

/// A refusal in the agent's language.
pub fn refusal_text(t: &Texts, refusal: &Refusal) -> String {
    match refusal.code.as_str() {
        "login_missing" => t.need_login.to_owned(),
        "account_missing" => t.need_account.to_owned(),
        "key_missing" => t.need_key.to_owned(),
        code => t.advice(Some(code), &refusal.message).into_owned(),
    }
}

fn field(ui: &mut egui::Ui, label: &str, text: &mut String, hint: &str, password: bool) {
    marked_field(ui, (label, Origin::Own, None), text, hint, password);
}

/// Below this width a label goes above its field instead of beside it.
const STACK_BELOW: f32 = 520.0;

/// The widest a text field grows.
const FIELD_MAX: f32 = 520.0;

/// Labels beside their fields, in two columns — or above them in a narrow window.
fn fields_ui(ui: &mut egui::Ui, id: &str, add: impl FnOnce(&mut egui::Ui)) {
    if ui.available_width() < STACK_BELOW {
        ui.vertical(add);
    } else {
        egui::Grid::new(id)
            .num_columns(2)
            .spacing([12.0, 6.0])
            .show(ui, add);
    }
}

/// Where a value in the view comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// The user's own file, or the defaults.
    Own,
    /// The administrator's file; the user may set their own.
    Admin,
    /// The administrator's file, locked: shown, not editable.
    Locked,
}

impl Origin {
    /// Where the value of `key` (or what is under it) comes from.
    fn of(admin: &AdminView, key: &str) -> Self {
        if admin.locks(key) {
            Self::Locked
        } else if admin.sets(key) {
            Self::Admin
        } else {
            Self::Own
        }
    }

    fn editable(self) -> bool {
        self != Self::Locked
    }
}

/// A text field whose value may come from the administrator's file: then it says so beside
/// it, and a locked one cannot be edited.
fn marked_field(
    ui: &mut egui::Ui,
    (label, origin, t): (&str, Origin, Option<&Texts>),
    text: &mut String,
    hint: &str,
    password: bool,
) {
    let label = ui.label(label);
    let spacing = ui.spacing().item_spacing.x;
    let body = egui::TextStyle::Body.resolve(ui.style());
    let width_of = |ui: &egui::Ui, text: &str| {
        ui.painter()
            .layout_no_wrap(text.to_owned(), body.clone(), egui::Color32::PLACEHOLDER)
            .size()
            .x
    };
    // The mark takes its room beside the field; the field the rest, up to a point.
    let mark_room = match (origin, t) {
        (Origin::Admin, Some(t)) => width_of(ui, t.admin_mark) * 0.8 + spacing,
        (Origin::Locked, Some(t)) => width_of(ui, t.admin_locked) * 0.8 + spacing,
        _ => 0.0,
    };
    let field = (ui.available_width() - mark_room).clamp(120.0, FIELD_MAX);
    // A hint longer than the field would be cut: it goes under the field instead.
    let hint_fits = width_of(ui, hint) + 24.0 <= field;
    ui.vertical(|ui| {
        ui.horizontal_wrapped(|ui| {
            let edit = egui::TextEdit::singleline(text)
                .password(password)
                .desired_width(field);
            let edit = if hint_fits {
                edit.hint_text(hint)
            } else {
                edit
            };
            ui.add_enabled(origin.editable(), edit)
                .labelled_by(label.id);
            if let Some(t) = t {
                admin_mark(ui, origin, t);
            }
        });
        if !hint_fits && !hint.is_empty() {
            ui.add(egui::Label::new(egui::RichText::new(hint).small().weak()).wrap());
        }
    });
    ui.end_row();
}

/// A [`marked_field`] for a setting that may be unset: empty text is `None`.
fn optional_field(
    ui: &mut egui::Ui,
    label: (&str, Origin, Option<&Texts>),
    value: &mut Option<String>,
    hint: &str,
) {
    let mut text = value.clone().unwrap_or_default();
    marked_field(ui, label, &mut text, hint, false);
    *value = Some(text).filter(|v| !v.trim().is_empty());
}

/// Draws `add` (a checkbox, a row of radios) locked or not, with its mark after it.
fn marked<R>(
    ui: &mut egui::Ui,
    origin: Origin,
    t: &Texts,
    add: impl FnOnce(&mut egui::Ui) -> R,
) -> R {
    ui.horizontal_wrapped(|ui| {
        let inner = ui.add_enabled_ui(origin.editable(), add).inner;
        admin_mark(ui, origin, t);
        inner
    })
    .inner
}

/// "From your administrator" or "locked by your administrator", beside a value that comes
/// from the machine-wide file; nothing beside the user's own.
fn admin_mark(ui: &mut egui::Ui, origin: Origin, t: &Texts) {
    let (words, hover) = match origin {
        Origin::Own => return,
        Origin::Admin => (t.admin_mark, t.admin_hover),
        Origin::Locked => (t.admin_locked, t.admin_locked_hover),
    };
    ui.label(egui::RichText::new(words).small().color(theme::PENDING))
        .on_hover_text(hover);
}

/// Why the administrator's file is not in force, where the agent edits their settings.
fn admin_broken_ui(ui: &mut egui::Ui, admin: &AdminView, t: &Texts) {
    if let Some(broken) = &admin.broken {
        let words = fill(t.admin_broken, &[&broken.reason, &broken.path.display()]);
        ui.add(egui::Label::new(egui::RichText::new(words).color(theme::WARN)).wrap());
        ui.add_space(6.0);
    }
}

/// What the settings view shows besides the form.
#[derive(Debug, Clone, Copy)]
pub struct SettingsContext<'a> {
    /// Talking to the demo sandbox.
    pub demo: bool,
    /// Where the security key lives, once the service has said.
    pub key_place: Option<&'a KeyPlace>,
    /// The language the system asks for.
    pub system: Language,
    /// The call sources' report (for the hook's token).
    pub sources: Option<&'a SourcesReport>,
}

/// When softphone calls are registered and opened.
fn calls_policy_ui(ui: &mut egui::Ui, form: &mut SettingsForm, t: &Texts) {
    let origin = |key: &str| Origin::of(&form.admin, key);
    let (register_on, missed, open_on_origin) = (
        origin("calls.register_on"),
        origin("calls.register_missed"),
        origin("calls.open_on"),
    );
    ui.label(egui::RichText::new(t.register_on).strong());
    let calls = &mut form.draft.calls;
    marked(ui, register_on, t, |ui| {
        ui.radio_value(&mut calls.register_on, RegisterOn::Ring, t.open_on_ring);
        ui.radio_value(&mut calls.register_on, RegisterOn::Answer, t.open_on_answer);
        ui.radio_value(&mut calls.register_on, RegisterOn::Manual, t.open_on_manual);
    });
    if calls.register_on == RegisterOn::Answer {
        marked(ui, missed, t, |ui| {
            ui.checkbox(&mut calls.register_missed, t.register_missed)
        });
    }
    ui.add_space(8.0);
    ui.label(egui::RichText::new(t.open_on).strong());
    let open_on = &mut form.draft.calls.open_on;
    marked(ui, open_on_origin, t, |ui| {
        ui.radio_value(open_on, OpenOn::Ring, t.open_on_ring);
        ui.radio_value(open_on, OpenOn::Answer, t.open_on_answer);
        ui.radio_value(open_on, OpenOn::Manual, t.open_on_manual);
    });
}

/// The softphone pyrus-phone talks to: baresip's address, the recording folder, the dial
/// command.
fn softphone_ui(ui: &mut egui::Ui, form: &mut SettingsForm, t: &Texts) {
    let origin = |key: &str| Origin::of(&form.admin, key);
    let (baresip_origin, folder_origin, dial_origin) = (
        origin("sources.baresip"),
        origin("sources.recordings_dir"),
        origin("sources.dial_command"),
    );
    fields_ui(ui, "softphone", |ui| {
        let sources = &mut form.draft.sources;
        let baresip = (t.baresip_addr, baresip_origin, Some(t));
        optional_field(ui, baresip, &mut sources.baresip, t.baresip_hint);
        let mut folder = sources
            .recordings_dir
            .as_ref()
            .map(|d| d.display().to_string());
        let folder_label = (t.recordings_dir, folder_origin, Some(t));
        optional_field(ui, folder_label, &mut folder, t.recordings_hint);
        sources.recordings_dir = folder.map(std::path::PathBuf::from);
        let dial = (t.dial_command, dial_origin, Some(t));
        optional_field(ui, dial, &mut sources.dial_command, t.dial_command_hint);
    });
    if let Some(ProblemKind::BaresipAddress(addr)) = problem_of(&form.draft, "sources.baresip") {
        ui.colored_label(theme::ERROR, t.advice(Some("bad_baresip"), &addr));
    }
}

/// When softphone calls are opened, and the event hook: token, network, allow-list.
fn hook_ui(
    ui: &mut egui::Ui,
    form: &mut SettingsForm,
    doctor: &mut DoctorForm,
    sources: Option<&SourcesReport>,
    t: &Texts,
    commands: &mut Vec<Command>,
) {
    calls_policy_ui(ui, form, t);
    ui.add_space(8.0);
    softphone_ui(ui, form, t);
    ui.add_space(8.0);
    ui.label(egui::RichText::new(t.hook_section).strong());
    token_ui(ui, doctor, sources, t, commands);
    let (port_origin, network_origin, allow_origin) = (
        Origin::of(&form.admin, "hook.port"),
        Origin::of(&form.admin, "hook.network"),
        Origin::of(&form.admin, "hook.allow"),
    );
    let hook = &mut form.draft.hook;
    marked(ui, port_origin, t, |ui| {
        let label = ui.label(t.hook_port);
        ui.add(
            egui::TextEdit::singleline(&mut form.port_text)
                .hint_text("47812")
                .desired_width(80.0),
        )
        .labelled_by(label.id);
    });
    match form.port_text.trim().parse::<u16>() {
        Ok(port) if port >= 1024 => hook.port = port,
        _ => {
            ui.colored_label(theme::ERROR, t.hook_port_error);
            form.invalid = true;
        }
    }
    marked(ui, network_origin, t, |ui| {
        ui.checkbox(&mut hook.network, t.hook_network)
    });
    if hook.network {
        marked(ui, allow_origin, t, |ui| {
            let label = ui.label(t.hook_allow);
            ui.add(
                egui::TextEdit::singleline(&mut form.allow_text)
                    .hint_text(t.hook_allow_hint)
                    .desired_width(ui.available_width().clamp(120.0, 340.0)),
            )
            .labelled_by(label.id);
        });
        hook.allow = form
            .allow_text
            .split([',', ' ', ';'])
            .filter(|e| !e.trim().is_empty())
            .map(|e| e.trim().to_owned())
            .collect();
        if let Some(ProblemKind::AllowList(why)) = problem_of(&form.draft, "hook.allow") {
            ui.colored_label(theme::ERROR, why.to_string());
        }
    }
}

/// What [`Settings::validate`] finds wrong with `key` in `draft`, if anything.
fn problem_of(draft: &Settings, key: &str) -> Option<ProblemKind> {
    draft
        .validate()
        .into_iter()
        .find(|p| p.key == key)
        .map(|p| p.kind)
}

/// The account: login, key, account id, addresses, form; Test connection and its answer.
fn account_ui(
    ui: &mut egui::Ui,
    form: &mut SettingsForm,
    key_place: Option<&KeyPlace>,
    t: &Texts,
    commands: &mut Vec<Command>,
) {
    ui.label(egui::RichText::new(t.account).strong());
    fields_ui(ui, "account", |ui| {
        let admin = |key: &str| Origin::of(&form.admin, key);
        let p = &mut form.draft.pyrus;
        marked_field(
            ui,
            (t.login, admin("pyrus.login"), Some(t)),
            &mut p.login,
            "bot@example.com",
            false,
        );
        // Says truthfully where the key is now.
        let key_hint = match key_place {
            Some(KeyPlace::Environment) => t.key_hint_env,
            Some(KeyPlace::ThisSession(_)) => t.key_hint_session,
            Some(KeyPlace::NoKeyring(_)) => t.key_hint_no_keyring,
            Some(KeyPlace::Keyring) => t.key_hint_stored,
            Some(KeyPlace::Missing) | None => t.key_hint_new,
        };
        field(ui, t.security_key, &mut form.key, key_hint, true);
        marked_field(
            ui,
            (t.account_id, admin("pyrus.account_id"), Some(t)),
            &mut p.account_id,
            t.account_hint,
            false,
        );
        marked_field(
            ui,
            (t.auth_url, admin("pyrus.auth_url"), Some(t)),
            &mut p.auth_url,
            crate::settings::DEFAULT_AUTH_URL,
            false,
        );
        let web = (t.web_address, admin("pyrus.web_base"), Some(t));
        optional_field(ui, web, &mut p.web_base, t.web_hint);
        let mut form_id = p.form_id.map(|id| id.to_string()).unwrap_or_default();
        marked_field(
            ui,
            (t.form_id, admin("pyrus.form_id"), Some(t)),
            &mut form_id,
            t.form_id_hint,
            false,
        );
        let digits: String = form_id.chars().filter(char::is_ascii_digit).collect();
        p.form_id = digits.parse().ok();
    });
    ui.horizontal(|ui| {
        if ui
            .add_enabled(!form.testing, egui::Button::new(t.test_connection))
            .clicked()
        {
            form.testing = true;
            form.test_result = None;
            commands.push(Command::TestConnection {
                settings: Box::new(form.draft.clone()),
                key: form.typed_key(),
            });
        }
        if form.testing {
            ui.spinner();
        }
    });
    match &form.test_result {
        Some(Ok(api)) => {
            ui.colored_label(theme::OK, fill(t.signed_in_api, &[api]));
        }
        Some(Err(refusal)) => {
            ui.colored_label(theme::ERROR, refusal_text(t, refusal));
        }
        None => {}
    }
}

/// Numbers: default country, this line's number, the agent's internal number.
fn numbers_ui(ui: &mut egui::Ui, form: &mut SettingsForm, t: &Texts) {
    fields_ui(ui, "numbers", |ui| {
        let admin = |key: &str| Origin::of(&form.admin, key);
        let mut country = form.draft.defaults.country.clone().unwrap_or_default();
        marked_field(
            ui,
            (t.default_country, admin("defaults.country"), Some(t)),
            &mut country,
            t.country_hint,
            false,
        );
        let country: String = country
            .trim()
            .chars()
            .take(2)
            .collect::<String>()
            .to_ascii_uppercase();
        form.draft.defaults.country = Some(country).filter(|c| !c.is_empty());
        let (line_admin, internal_admin) = (
            admin("defaults.line_number"),
            admin("defaults.internal_number"),
        );
        let d = &mut form.draft.defaults;
        marked_field(
            ui,
            (t.line_number, line_admin, Some(t)),
            &mut d.line_number,
            t.line_hint,
            false,
        );
        marked_field(
            ui,
            (t.own_internal, internal_admin, Some(t)),
            &mut d.internal_number,
            t.internal_hint,
            false,
        );
    });
    // A country code is judged once both letters are typed.
    let whole_country = form
        .draft
        .defaults
        .country
        .as_deref()
        .is_some_and(|c| c.len() == 2);
    for problem in form.draft.validate() {
        match (problem.key, &problem.kind) {
            ("defaults.country", ProblemKind::Country(e)) if whole_country => {
                ui.colored_label(theme::ERROR, t.phone_error(e));
            }
            ("defaults.line_number", ProblemKind::Number(e)) => {
                ui.colored_label(
                    theme::ERROR,
                    format!("{}: {}", t.line_number, t.phone_error(e)),
                );
            }
            ("defaults.internal_number", ProblemKind::Number(e)) => {
                ui.colored_label(
                    theme::ERROR,
                    format!("{}: {}", t.own_internal, t.phone_error(e)),
                );
            }
            _ => {}
        }
    }
}

/// Presets: named sets of mappings the form applies in one click.
fn presets_ui(ui: &mut egui::Ui, form: &mut SettingsForm, t: &Texts) {
    ui.horizontal(|ui| {
        ui.label(egui::RichText::new(t.presets).strong());
        admin_mark(ui, Origin::of(&form.admin, "defaults.presets"), t);
    });
    ui.label(egui::RichText::new(t.presets_hint).weak());
    let editable = Origin::of(&form.admin, "defaults.presets").editable();
    ui.add_enabled_ui(editable, |ui| preset_rows_ui(ui, form, t));
}

/// The presets' rows as typed, each checked; Add preset.
fn preset_rows_ui(ui: &mut egui::Ui, form: &mut SettingsForm, t: &Texts) {
    let mut remove = None;
    let mut presets = Vec::new();
    let mut problem = None;
    for (i, (name, maps)) in form.preset_text.iter_mut().enumerate() {
        let n = i + 1;
        ui.horizontal_wrapped(|ui| {
            let name_edit = ui.add(
                egui::TextEdit::singleline(name)
                    .hint_text(t.preset_name)
                    .desired_width(140.0),
            );
            name_widget(
                &name_edit,
                egui::Role::TextInput,
                &fill(t.preset_name_n, &[&n]),
            );
            let maps_edit = ui.add(
                egui::TextEdit::singleline(maps)
                    .hint_text(t.presets_example)
                    .desired_width(ui.available_width().clamp(160.0, 420.0) - 40.0),
            );
            let name = fill(t.preset_mappings_n, &[&n]);
            name_widget(&maps_edit, egui::Role::TextInput, &name);
            if ui.button("×").on_hover_text(t.remove).clicked() {
                remove = Some(i);
            }
        });
        let mappings = maps
            .split(';')
            .filter(|m| !m.trim().is_empty())
            .map(|m| match m.split_once('=') {
                Some((code, value)) => Mapping::new(code.trim(), value.trim()),
                None => Err(crate::domain::InputError::MappingWithoutEquals(
                    m.trim().to_owned(),
                )),
            })
            .collect::<Result<Vec<_>, _>>();
        match mappings {
            Ok(mappings) if !name.trim().is_empty() => presets.push(Preset {
                name: name.trim().to_owned(),
                mappings,
            }),
            Ok(mappings) if mappings.is_empty() => {}
            Ok(_) => problem = Some(t.preset_needs_name.to_owned()),
            Err(e) => problem = Some(format!("{}: {}", name.trim(), t.input_error(&e))),
        }
    }
    if let Some(i) = remove {
        form.preset_text.remove(i);
    }
    if ui.button(t.add_preset).clicked() {
        form.preset_text.push((String::new(), String::new()));
    }
    match problem {
        Some(problem) => {
            ui.colored_label(theme::ERROR, problem);
            form.invalid = true;
        }
        None => form.draft.defaults.presets = presets,
    }
}

/// Draws the view's body (the caller puts [`settings_actions_ui`] where it stays visible).
pub fn settings_ui(
    ui: &mut egui::Ui,
    form: &mut SettingsForm,
    doctor: &mut DoctorForm,
    cx: SettingsContext<'_>,
    t: &Texts,
    commands: &mut Vec<Command>,
) {
    let SettingsContext {
        demo,
        key_place,
        system,
        sources,
    } = cx;
    // Checked again below as the fields are drawn.
    form.invalid = false;
    ui.heading(t.settings);
    admin_broken_ui(ui, &form.admin, t);
    if demo {
        ui.label(egui::RichText::new(t.demo_note).color(theme::WARN));
    }
    ui.add_space(6.0);
    // The language comes first: an agent who cannot read the current one finds it at once.
    let origin = |key: &str| Origin::of(&form.admin, key);
    let (language, on_top, at_login, open_task) = (
        origin("window.language"),
        origin("window.always_on_top"),
        origin("window.start_at_login"),
        origin("window.open_task"),
    );
    marked(ui, language, t, |ui| {
        let label = ui.label(egui::RichText::new(t.language).strong());
        let current = Language::chosen(form.draft.window.language.as_deref(), system);
        egui::ComboBox::from_id_salt("language")
            .selected_text(current.name())
            .show_ui(ui, |ui| {
                for lang in Language::ALL {
                    let chosen = Some(lang.code().to_owned());
                    ui.selectable_value(&mut form.draft.window.language, chosen, lang.name());
                }
            })
            .response
            .labelled_by(label.id);
    });
    let window = &mut form.draft.window;
    marked(ui, on_top, t, |ui| {
        ui.checkbox(&mut window.always_on_top, t.always_on_top)
    });
    marked(ui, at_login, t, |ui| {
        ui.checkbox(&mut window.start_at_login, t.start_at_login)
    });
    ui.add_space(8.0);
    account_ui(ui, form, key_place, t, commands);
    ui.add_space(8.0);
    numbers_ui(ui, form, t);
    ui.add_space(8.0);
    presets_ui(ui, form, t);
    ui.add_space(8.0);
    ui.horizontal_wrapped(|ui| {
        ui.label(egui::RichText::new(t.who_opens).strong());
        admin_mark(ui, open_task, t);
    });
    let open = &mut form.draft.window.open_task;
    ui.add_enabled_ui(open_task.editable(), |ui| {
        ui.radio_value(open, OpenTask::App, t.open_app);
        ui.radio_value(open, OpenTask::Pyrus, t.open_pyrus)
            .on_hover_text(t.open_pyrus_hover);
        ui.radio_value(open, OpenTask::Nobody, t.open_nobody);
    });
    ui.add_space(8.0);
    hook_ui(ui, form, doctor, sources, t, commands);
    ui.add_space(8.0);
}

/// Save and Cancel, and what the last save said.
pub fn settings_actions_ui(
    ui: &mut egui::Ui,
    form: &mut SettingsForm,
    key_place: Option<&KeyPlace>,
    t: &Texts,
    commands: &mut Vec<Command>,
) -> SettingsAction {
    let mut action = SettingsAction::None;
    ui.horizontal_wrapped(|ui| {
        let can_save = form.dirty() && !form.saving && !form.invalid;
        if ui
            .add_enabled(can_save, egui::Button::new(t.save))
            .clicked()
        {
            form.saving = true;
            form.saved = false;
            form.save_error = None;
            commands.push(Command::SaveSettings {
                settings: Box::new(form.draft.clone()),
                key: form.typed_key(),
            });
        }
        if ui.button(t.cancel).clicked() {
            let original = std::mem::take(&mut form.original);
            form.restart(&original);
            action = SettingsAction::Close;
        }
        if form.saving {
            ui.spinner();
        }
        if form.invalid {
            ui.colored_label(theme::ERROR, t.fix_before_save);
        }
        if let Some(refusal) = &form.save_error {
            ui.colored_label(theme::ERROR, refusal_text(t, refusal));
        }
        if form.saved {
            // Where the key went, said as it is.
            let (words, colour, why) = match key_place {
                Some(KeyPlace::Environment) => (t.saved_env, theme::OK, None),
                Some(KeyPlace::ThisSession(why)) => (t.saved_session, theme::WARN, Some(why)),
                Some(KeyPlace::NoKeyring(why)) => (t.saved_no_keyring, theme::WARN, Some(why)),
                Some(KeyPlace::Missing) => (t.saved_no_key, theme::WARN, None),
                Some(KeyPlace::Keyring) | None => (t.saved, theme::OK, None),
            };
            let label = ui.add(egui::Label::new(egui::RichText::new(words).color(colour)).wrap());
            if let Some(why) = why {
                label.on_hover_text(&why.message);
            }
        }
    });
    action
}
