//! The settings view: edits a copy of the settings (and a newly typed security key, never
//! shown back), tests the connection, and saves or cancels.

use crate::bus::Command;
use crate::domain::Secret;
use crate::settings::{OpenTask, Settings};

use super::theme;

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
    /// The last Test connection answer.
    pub test_result: Option<Result<String, String>>,
    /// Waiting for a Save answer.
    pub saving: bool,
    /// Why the last Save was refused.
    pub save_error: Option<String>,
    /// Shown after a successful save.
    pub saved: bool,
}

impl SettingsForm {
    /// Starts editing `settings`.
    pub fn new(settings: &Settings) -> Self {
        Self {
            draft: settings.clone(),
            original: settings.clone(),
            ..Self::default()
        }
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

fn field(ui: &mut egui::Ui, label: &str, text: &mut String, hint: &str, password: bool) {
    let label = ui.label(label);
    ui.add(
        egui::TextEdit::singleline(text)
            .hint_text(hint)
            .password(password)
            .desired_width(340.0),
    )
    .labelled_by(label.id);
    ui.end_row();
}

/// Draws the view.
pub fn settings_ui(
    ui: &mut egui::Ui,
    form: &mut SettingsForm,
    demo: bool,
    commands: &mut Vec<Command>,
) -> SettingsAction {
    let mut action = SettingsAction::None;
    ui.heading("Settings");
    if demo {
        ui.label(
            egui::RichText::new(
                "You are in the demo sandbox. Enter your Pyrus account and press Save to switch to it.",
            )
            .color(theme::WARN),
        );
    }
    ui.add_space(6.0);
    ui.label(egui::RichText::new("Pyrus account").strong());
    egui::Grid::new("account")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            let p = &mut form.draft.pyrus;
            field(ui, "Login", &mut p.login, "bot@example.com", false);
            let key_hint = if form.original.pyrus.login.is_empty() {
                "from your Pyrus profile"
            } else {
                "stored in the system keyring; type to replace"
            };
            field(ui, "Security key", &mut form.key, key_hint, true);
            field(
                ui,
                "Account id",
                &mut p.account_id,
                "from the API telephony extension",
                false,
            );
            field(
                ui,
                "Auth URL",
                &mut p.auth_url,
                crate::settings::DEFAULT_AUTH_URL,
                false,
            );
            let mut web = p.web_base.clone().unwrap_or_default();
            field(
                ui,
                "Web address",
                &mut web,
                "derived from the API address",
                false,
            );
            p.web_base = Some(web).filter(|w| !w.trim().is_empty());
        });
    ui.add_space(8.0);
    ui.label(egui::RichText::new("Who opens the task").strong());
    let open = &mut form.draft.window.open_task;
    ui.radio_value(open, OpenTask::App, "This app, when the call is registered");
    ui.radio_value(
        open,
        OpenTask::Pyrus,
        "Pyrus, for the user whose Work phone matches the internal number",
    )
    .on_hover_text("Opening it here as well would give the agent two tabs.");
    ui.radio_value(open, OpenTask::Nobody, "Nobody: I click Open task");
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        if ui
            .add_enabled(!form.testing, egui::Button::new("Test connection"))
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
        Some(Ok(text)) => {
            ui.colored_label(theme::OK, text);
        }
        Some(Err(text)) => {
            ui.colored_label(theme::ERROR, text);
        }
        None => {}
    }
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        let can_save = form.dirty() && !form.saving;
        if ui
            .add_enabled(can_save, egui::Button::new("Save"))
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
        if ui.button("Cancel").clicked() {
            *form = SettingsForm::new(&form.original);
            action = SettingsAction::Close;
        }
        if form.saving {
            ui.spinner();
        }
    });
    if let Some(error) = &form.save_error {
        ui.colored_label(theme::ERROR, error);
    }
    if form.saved {
        ui.colored_label(
            theme::OK,
            "Saved. The security key is in the system keyring.",
        );
    }
    action
}
