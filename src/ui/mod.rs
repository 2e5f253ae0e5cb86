//! The window's contents: a projection of what the service reported, drawn by view
//! functions that push `Command`s and never do I/O.

pub mod call_form;
pub mod calls;
pub mod i18n;
pub mod settings_view;
pub mod sources_view;
pub mod theme;

use crate::bus::{Command, Connection, Event, Refusal, Status};
use crate::domain::{
    Country, FormFieldInfo, JobId, JobState, Registration, RingingCall, SourceId, SourcesReport,
};
use crate::settings::{RegisterOn, Settings};
use i18n::{Language, Texts, fill};

/// Which view fills the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// The new-call form and the call list.
    #[default]
    Calls,
    /// The settings.
    Settings,
    /// The call sources (hook doctor).
    Sources,
}

/// Where the last registration stands.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Outcome {
    /// Nothing registered yet.
    #[default]
    Idle,
    /// Stored; being sent.
    Sending {
        /// The registration job.
        job: JobId,
        /// The call's external id.
        external_id: String,
        /// The last failed attempt's code and reason, while retrying.
        retrying: Option<(String, String)>,
    },
    /// Registered.
    Registered {
        /// The registration job.
        job: JobId,
        /// What Pyrus answered.
        registration: Registration,
        /// The task's link.
        task_url: String,
    },
    /// Parked: failed, or waiting for credentials.
    Stopped {
        /// The job.
        job: JobId,
        /// The error code.
        code: String,
        /// Why, in English.
        message: String,
        /// Failed or needs credentials.
        state: JobState,
    },
}

/// Everything the window shows.
#[derive(Debug, Default)]
pub struct UiState {
    /// The new-call form.
    pub form: call_form::CallForm,
    /// The last registration.
    pub outcome: Outcome,
    /// A message for the agent (from the service or a refused command).
    pub notice: Option<String>,
    /// True when talking to the built-in demo sandbox.
    pub demo: bool,
    /// The calls of the day.
    pub list: calls::CallList,
    /// Which view is shown.
    pub view: View,
    /// The settings in force, once the service has said.
    pub settings: Option<Settings>,
    /// The settings view's edit buffers.
    pub settings_form: settings_view::SettingsForm,
    /// Connection state and open job count.
    pub status: Status,
    /// No account was configured at start: the settings view greets the agent.
    pub first_run: bool,
    /// The interface language in use.
    pub lang: Language,
    /// The language the system asks for (used when the settings name none).
    pub system_lang: Language,
    /// The Pyrus form's fields, for the mapping editor.
    pub fields: Vec<FormFieldInfo>,
    /// Why the form's fields could not be read.
    pub fields_error: Option<Refusal>,
    /// The shortcuts popup is open.
    pub help_open: bool,
    /// The settings calls are made with (presets, country).
    pub in_force: Option<Settings>,
    /// The agent tried to close the window while work is waiting: ask.
    pub confirm_close: bool,
    /// The agent chose to close anyway.
    pub close_now: bool,
    /// Another start of the app asked for this window; the next logic pass brings it up.
    pub raise: bool,
    /// The call sources' report, once the service has sent one.
    pub sources: Option<SourcesReport>,
    /// The hook doctor's edit state.
    pub doctor: sources_view::DoctorForm,
    /// Incoming calls ringing now.
    pub ringing: Vec<RingingCall>,
}

impl UiState {
    /// The catalogue of the language in use.
    pub fn texts(&self) -> &'static Texts {
        self.lang.texts()
    }

    /// Applies an event from the service.
    pub fn apply(&mut self, event: Event) {
        match event {
            Event::CallQueued { job, external_id } => {
                self.outcome = Outcome::Sending {
                    job,
                    external_id: external_id.as_str().to_owned(),
                    retrying: None,
                };
            }
            Event::Registered {
                job,
                registration,
                task_url,
            } => {
                if self.tracks(job) {
                    self.outcome = Outcome::Registered {
                        job,
                        registration,
                        task_url,
                    };
                }
            }
            Event::JobFailed {
                job,
                state,
                code,
                message,
                ..
            } => {
                self.list.progress.remove(&job);
                if !self.tracks(job) {
                    return;
                }
                if let Outcome::Sending { retrying, .. } = &mut self.outcome
                    && state == JobState::Pending
                {
                    *retrying = Some((code, message));
                    return;
                }
                self.outcome = Outcome::Stopped {
                    job,
                    code,
                    message,
                    state,
                };
            }
            Event::Notice(text) => self.notice = Some(text),
            Event::Calls(calls) => {
                // Progress of uploads that ended is stale.
                self.list.progress.retain(|job, _| {
                    calls.iter().any(|c| {
                        c.recordings.iter().any(|r| {
                            r.job.id == *job
                                && matches!(r.job.state, JobState::Pending | JobState::Running)
                        })
                    })
                });
                self.list.calls = calls;
            }
            Event::Progress { job, sent, total } => {
                let entry = self
                    .list
                    .progress
                    .entry(job)
                    .or_insert(calls::UploadProgress {
                        sent,
                        total,
                        started: std::time::Instant::now(),
                    });
                entry.sent = sent;
                entry.total = total;
            }
            Event::AttachRejected { call_id, message } => {
                self.list.attach_errors.insert(call_id, message);
            }
            Event::Attached { job } => {
                self.list.progress.remove(&job);
            }
            Event::Status(status) => self.status = status,
            Event::Settings(settings) => {
                let form = &mut self.settings_form;
                if form.saving {
                    // A save went through: the new settings (and a real account) are in force.
                    form.saving = false;
                    form.saved = true;
                    form.key.clear();
                    form.original = (*settings).clone();
                    form.draft = (*settings).clone();
                    self.demo = false;
                    self.first_run = false;
                } else if !form.dirty() {
                    *form = settings_view::SettingsForm::new(&settings);
                }
                self.lang = settings
                    .window
                    .language
                    .as_deref()
                    .and_then(Language::from_code)
                    .unwrap_or(self.system_lang);
                self.settings = Some(*settings);
            }
            Event::SettingsRejected(message) => {
                self.settings_form.saving = false;
                self.settings_form.save_error = Some(message);
            }
            Event::InForce(settings) => self.in_force = Some(*settings),
            Event::FormFields(Ok(fields)) => {
                self.fields = fields;
                self.fields_error = None;
            }
            Event::FormFields(Err(refusal)) => self.fields_error = Some(refusal),
            Event::Sources(report) => self.sources = Some(*report),
            Event::Ringing(calls) => self.ringing = calls,
            Event::Raise => self.raise = true,
            Event::ConnectionTested(result) => {
                self.settings_form.testing = false;
                self.settings_form.test_result = Some(result);
            }
        }
    }

    /// The registration job of the call typed in the form, if any.
    pub fn outcome_job(&self) -> Option<JobId> {
        match &self.outcome {
            Outcome::Sending { job, .. }
            | Outcome::Registered { job, .. }
            | Outcome::Stopped { job, .. } => Some(*job),
            Outcome::Idle => None,
        }
    }

    fn tracks(&self, job: JobId) -> bool {
        match &self.outcome {
            Outcome::Sending { job: j, .. }
            | Outcome::Registered { job: j, .. }
            | Outcome::Stopped { job: j, .. } => *j == job,
            Outcome::Idle => false,
        }
    }
}

fn status_text(state: &UiState) -> String {
    let t = state.texts();
    let connection = match state.status.connection {
        Connection::Unknown => t.conn_unknown,
        Connection::SignedIn => t.conn_signed_in,
        Connection::Offline => t.conn_offline,
        Connection::NeedsCredentials => t.conn_credentials,
    };
    format!("{connection} · {}", t.jobs(state.status.open_jobs))
}

/// Keyboard shortcuts, handled before the views draw.
fn shortcuts(ui: &egui::Ui, state: &mut UiState, commands: &mut Vec<Command>) {
    use egui::{Key, Modifiers};
    let pressed = |m: Modifiers, k: Key| ui.input_mut(|i| i.consume_key(m, k));
    if ui.input(|i| i.key_pressed(Key::Tab)) {
        // egui moves focus at the end of this pass: run one more at once, so keys typed
        // right after Tab go to the field Tab reached.
        ui.ctx().request_repaint();
    }
    if pressed(Modifiers::NONE, Key::F1) {
        state.help_open = !state.help_open;
    }
    // Esc closes the help (and is left for text fields otherwise).
    if state.help_open && pressed(Modifiers::NONE, Key::Escape) {
        state.help_open = false;
    }
    if pressed(Modifiers::COMMAND, Key::Comma) {
        state.view = View::Settings;
    }
    if pressed(Modifiers::NONE, Key::F2) {
        state.view = View::Sources;
    }
    if pressed(Modifiers::COMMAND, Key::L) {
        state.view = View::Calls;
        ui.memory_mut(|m| m.request_focus(call_form::from_field_id()));
    }
    if pressed(Modifiers::COMMAND, Key::O)
        && let Some(url) = state.list.calls.iter().find_map(|c| c.task_url.clone())
    {
        commands.push(Command::OpenUrl(url));
    }
    if pressed(Modifiers::COMMAND, Key::R) {
        state.list.pick_for = state.list.calls.first().map(|c| c.call_id);
    }
}

fn help_ui(ctx: &egui::Context, state: &mut UiState) {
    let t = state.texts();
    let mut open = state.help_open;
    egui::Window::new(t.help)
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            for line in [
                t.help_register,
                t.help_focus,
                t.help_open,
                t.help_attach,
                t.help_settings,
                t.help_sources,
                t.help_help,
            ] {
                ui.label(line);
            }
        });
    state.help_open = open;
}

fn close_dialog_ui(ctx: &egui::Context, state: &mut UiState) {
    if !state.confirm_close {
        return;
    }
    let t = state.texts();
    egui::Window::new(t.close_title)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            ui.label(fill(t.close_text, &[&t.jobs(state.status.open_jobs)]));
            ui.horizontal(|ui| {
                if ui.button(t.keep_open).clicked() {
                    state.confirm_close = false;
                }
                if ui.button(t.close_anyway).clicked() {
                    state.confirm_close = false;
                    state.close_now = true;
                    ui.ctx().request_repaint();
                }
            });
        });
}

/// The default country from the settings, when it names one.
fn default_country(state: &UiState) -> Option<Country> {
    let code = state.in_force.as_ref()?.defaults.country.as_deref()?;
    Country::parse(code).ok()
}

/// Draws the whole window.
pub fn root_ui(ui: &mut egui::Ui, state: &mut UiState, commands: &mut Vec<Command>) {
    shortcuts(ui, state, commands);
    let t = state.texts();
    egui::Panel::top("top_bar").show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.heading("pyrus-phone");
            ui.separator();
            ui.selectable_value(&mut state.view, View::Calls, t.tab_calls);
            ui.selectable_value(&mut state.view, View::Sources, t.tab_sources);
            ui.selectable_value(&mut state.view, View::Settings, t.tab_settings);
            if state.demo {
                ui.separator();
                ui.label(theme::badge(t.demo_badge))
                    .on_hover_text(t.demo_hover);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let help = ui.button("?").on_hover_text(t.help_help);
                help.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, t.help));
                if help.clicked() {
                    state.help_open = !state.help_open;
                }
            });
        });
    });
    help_ui(ui.ctx(), state);
    close_dialog_ui(ui.ctx(), state);
    egui::Panel::bottom("status_bar").show(ui, |ui| {
        ui.horizontal(|ui| {
            let colour = match state.status.connection {
                Connection::SignedIn => theme::OK,
                Connection::Offline => theme::WARN,
                Connection::NeedsCredentials => theme::ERROR,
                Connection::Unknown => theme::PENDING,
            };
            ui.colored_label(colour, status_text(state));
            if state
                .sources
                .as_ref()
                .is_some_and(|s| s.outbox_problem.is_some())
            {
                ui.separator();
                if ui
                    .add(
                        egui::Label::new(
                            egui::RichText::new(t.status_outbox_broken).color(theme::ERROR),
                        )
                        .sense(egui::Sense::click()),
                    )
                    .clicked()
                {
                    state.view = View::Sources;
                }
            }
            if let Some(port) = state
                .sources
                .as_ref()
                .and_then(|s| s.hook.as_ref())
                .and_then(|h| h.taken_port)
            {
                ui.separator();
                if ui
                    .add(
                        egui::Label::new(
                            egui::RichText::new(fill(t.status_port_taken, &[&port]))
                                .color(theme::WARN),
                        )
                        .sense(egui::Sense::click()),
                    )
                    .clicked()
                {
                    state.view = View::Sources;
                }
            }
            if let Some(notice) = &state.notice {
                ui.separator();
                ui.label(notice);
            }
        });
    });
    match state.view {
        View::Settings => {
            egui::Panel::bottom("settings_actions").show(ui, |ui| {
                ui.add_space(4.0);
                let action =
                    settings_view::settings_actions_ui(ui, &mut state.settings_form, t, commands);
                if action == settings_view::SettingsAction::Close {
                    state.view = View::Calls;
                }
                ui.add_space(2.0);
            });
            egui::CentralPanel::default().show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        if state.first_run {
                            ui.label(egui::RichText::new(t.welcome).heading());
                            ui.label(t.welcome_text);
                            if ui.button(t.try_demo).clicked() {
                                state.first_run = false;
                                state.view = View::Calls;
                            }
                            ui.separator();
                        }
                        let cx = settings_view::SettingsContext {
                            demo: state.demo,
                            system: state.system_lang,
                            sources: state.sources.as_ref(),
                        };
                        settings_view::settings_ui(
                            ui,
                            &mut state.settings_form,
                            &mut state.doctor,
                            cx,
                            t,
                            commands,
                        );
                    });
            });
            // The language switch takes effect at once; Cancel puts it back.
            state.lang = state
                .settings_form
                .draft
                .window
                .language
                .as_deref()
                .and_then(Language::from_code)
                .unwrap_or(state.system_lang);
        }
        View::Sources => {
            egui::CentralPanel::default().show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        sources_view::sources_ui(
                            ui,
                            &mut state.doctor,
                            state.sources.as_ref(),
                            state.demo,
                            t,
                            commands,
                        );
                    });
            });
        }
        View::Calls => calls_view_ui(ui, state, commands),
    }
}

/// A bar above the calls for each incoming call ringing now; baresip's can be answered, and
/// when calls are registered by hand, any can be put into the form.
fn ringing_ui(ui: &mut egui::Ui, state: &mut UiState, commands: &mut Vec<Command>) {
    if state.ringing.is_empty() {
        return;
    }
    let t = state.texts();
    let by_hand = state
        .in_force
        .as_ref()
        .is_some_and(|s| s.calls.register_on == RegisterOn::Manual);
    let mut to_form = None;
    egui::Panel::top("ringing").show(ui, |ui| {
        for call in &state.ringing {
            ui.horizontal(|ui| {
                ui.colored_label(
                    theme::WARN,
                    egui::RichText::new(fill(t.ringing, &[&call.number.as_str()])).strong(),
                );
                if call.source == SourceId::Baresip
                    && ui.button(t.answer).on_hover_text(t.answer_hover).clicked()
                {
                    commands.push(Command::AnswerCall);
                }
                if by_hand && ui.button(t.to_form).clicked() {
                    to_form = Some(call.clone());
                }
            });
        }
    });
    if let Some(call) = to_form {
        let defaults = state.in_force.as_ref().map(|s| s.defaults.clone());
        let form = &mut state.form;
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
}

fn calls_view_ui(ui: &mut egui::Ui, state: &mut UiState, commands: &mut Vec<Command>) {
    let t = state.texts();
    ringing_ui(ui, state, commands);
    egui::Panel::left("new_call")
        .resizable(true)
        .default_size(420.0)
        .size_range(360.0..=640.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    let presets = state
                        .in_force
                        .as_ref()
                        .map(|s| s.defaults.presets.as_slice())
                        .unwrap_or_default();
                    let cx = call_form::FormContext {
                        country: default_country(state),
                        presets,
                        fields: &state.fields,
                    };
                    call_form::call_form_ui(ui, &mut state.form, cx, t, commands);
                    if let Some(refusal) = &state.fields_error {
                        ui.colored_label(
                            theme::WARN,
                            fill(t.fields_error, &[&settings_view::refusal_text(t, refusal)]),
                        );
                    }
                    ui.add_space(12.0);
                    call_form::outcome_ui(ui, &state.outcome, t, commands);
                });
        });
    egui::CentralPanel::default().show(ui, |ui| {
        let hovered = calls::call_list_ui(ui, &mut state.list, t, commands);
        if std::mem::take(&mut state.list.open_settings) {
            state.view = View::Settings;
        }
        for path in calls::dropped_files(ui.ctx()) {
            match hovered.or_else(|| state.list.calls.first().map(|c| c.call_id)) {
                Some(call_id) => {
                    state.list.attach_errors.remove(&call_id);
                    commands.push(Command::AttachRecording { call_id, path });
                }
                None => state.notice = Some(t.drop_first.to_owned()),
            }
        }
    });
}

/// Asks the agent for a recording with the system's file dialog (the only rfd call).
pub fn pick_recording(t: &Texts) -> Option<std::path::PathBuf> {
    rfd::FileDialog::new()
        .set_title(t.picker_title)
        .add_filter(t.picker_filter, &crate::domain::AUDIO_EXTENSIONS)
        .pick_file()
}
