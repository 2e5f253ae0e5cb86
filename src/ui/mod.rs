//! The window's contents: a projection of what the service reported, drawn by view
//! functions that push `Command`s and never do I/O.

pub mod call_form;
pub mod calls;
pub mod glyphs;
pub mod i18n;
pub mod settings_view;
pub mod sources_view;
pub mod theme;

use crate::bus::{Command, Connection, Event, KeyPlace, Refusal, Status};
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
    /// The system's own words behind the notice (shown on hover).
    pub notice_detail: Option<String>,
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
    /// In a narrow window, which half of the calls view is shown.
    pub pane: Pane,
    /// Where the security key lives, once the service has said.
    pub key_place: Option<KeyPlace>,
    /// The form as it was when its call was registered.
    pub typed: Option<call_form::CallForm>,
    /// Ringing bars the agent closed (by number and start).
    pub dismissed: std::collections::HashSet<(String, i64)>,
}

/// The halves of the calls view; a narrow window shows one at a time, as tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    /// The new-call form and the last outcome.
    #[default]
    Form,
    /// The call list.
    List,
}

/// Below this width the calls view shows the form and the list as tabs.
pub const NARROW_BELOW: f32 = 720.0;

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
            Event::Notice(notice) => {
                self.notice = Some(self.texts().notice(&notice));
                self.notice_detail = Some(notice.detail).filter(|d| !d.is_empty());
            }
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
                // A search shows kept calls: ask again when they changed, so it follows.
                self.list.refresh |= calls != self.list.calls;
                self.list.calls = calls;
                self.follow_list();
            }
            Event::FoundCalls { query, calls } => {
                // An answer to a query the agent has typed past is dropped.
                if self.list.query_sent.as_ref() == Some(&query) {
                    self.list.found = Some(calls);
                }
            }
            Event::KeyPlace(place) => self.key_place = Some(place),
            Event::FromAdmin(keys) => self.settings_form.admin = keys,
            Event::Simulated(call_id) => self.doctor.simulated = Some(call_id),
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
            Event::AttachRejected {
                call_id,
                code,
                message,
            } => {
                let words = self.texts().advice(Some(code), &message).into_owned();
                self.list.attach_errors.insert(call_id, words);
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
                    *form = settings_view::SettingsForm {
                        admin: std::mem::take(&mut form.admin),
                        ..settings_view::SettingsForm::new(&settings)
                    };
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
            Event::Ringing(calls) => {
                self.dismissed.retain(|(n, at)| {
                    calls
                        .iter()
                        .any(|c| c.number.as_str() == n && c.since_ms == *at)
                });
                self.ringing = calls;
            }
            Event::Raise => self.raise = true,
            Event::ConnectionTested(result) => {
                self.settings_form.testing = false;
                self.settings_form.test_result = Some(result);
            }
        }
    }

    /// The outcome panel follows what the list says of its call: discarded is gone, done
    /// is registered, failed stops (and, when the form still holds the call, it is there
    /// to be corrected).
    fn follow_list(&mut self) {
        let Some(job) = self.outcome_job() else {
            return;
        };
        let Some(call) = self.list.calls.iter().find(|c| c.register.id == job) else {
            // A refused call gone from the list was discarded (here or elsewhere).
            if matches!(self.outcome, Outcome::Stopped { .. }) {
                self.outcome = Outcome::Idle;
                if self.form.correcting == Some(job) {
                    self.form.correcting = None;
                }
            }
            return;
        };
        match call.register.state {
            JobState::Discarded => {
                self.outcome = Outcome::Idle;
                if self.form.correcting == Some(job) {
                    self.form.correcting = None;
                }
            }
            JobState::Done => {
                if let (Some(registration), Some(task_url)) = (&call.registration, &call.task_url)
                    && !matches!(self.outcome, Outcome::Registered { .. })
                {
                    self.outcome = Outcome::Registered {
                        job,
                        registration: registration.clone(),
                        task_url: task_url.clone(),
                    };
                }
                if self.form.correcting == Some(job) {
                    self.form.correcting = None;
                }
            }
            JobState::Failed | JobState::NeedsCredentials => {
                let brief = &call.register;
                self.outcome = Outcome::Stopped {
                    job,
                    code: brief.error_code.clone().unwrap_or_default(),
                    message: brief.error_message.clone().unwrap_or_default(),
                    state: brief.state,
                };
                // The form takes the call up for correction only while it still holds
                // exactly the call that was sent; anything else is the agent's next call.
                let holds_it = self.typed.as_ref().is_some_and(|t| t.same_call(&self.form));
                if self.form.correcting.is_none() && holds_it {
                    self.form.correcting = Some(job);
                }
            }
            JobState::Pending | JobState::Running | JobState::Held => {}
        }
    }

    /// Loads a failed call from the list into the form to be corrected.
    pub fn correct_call(&mut self, call_id: i64) {
        let Some(call) = self.list.calls.iter().find(|c| c.call_id == call_id) else {
            return;
        };
        let job = call.register.id;
        let brief = call.register.clone();
        self.form.correct(job, &call.request);
        self.outcome = Outcome::Stopped {
            job,
            code: brief.error_code.unwrap_or_default(),
            message: brief.error_message.unwrap_or_default(),
            state: brief.state,
        };
        self.pane = Pane::Form;
        self.view = View::Calls;
    }

    /// Shows the window's own message in the status bar (it has no system detail).
    pub fn say(&mut self, text: impl Into<String>) {
        self.notice = Some(text.into());
        self.notice_detail = None;
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
        Connection::Troubled => t.conn_troubled,
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
        // A new number: a failed call being corrected stays in the list (Correct…).
        state.view = View::Calls;
        state.pane = Pane::Form;
        if state.form.correcting.take().is_some() {
            state.outcome = Outcome::Idle;
        }
        call_form::focus_from(ui.ctx(), &state.form.from);
    }
    // In a narrow window, the form and the list by keyboard.
    if pressed(Modifiers::COMMAND, Key::Num1) {
        state.view = View::Calls;
        state.pane = Pane::Form;
    }
    if pressed(Modifiers::COMMAND, Key::Num2) {
        state.view = View::Calls;
        state.pane = Pane::List;
    }
    if pressed(Modifiers::COMMAND, Key::N) {
        state.view = View::Calls;
        state.pane = Pane::Form;
        state.form.clear();
        state.outcome = Outcome::Idle;
        state.typed = None;
        call_form::focus_from(ui.ctx(), "");
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
                t.help_next,
                t.help_panes,
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
    state.list.drop_target = None;
    let t = state.texts();
    let narrow = ui.available_width() < NARROW_BELOW;
    egui::Panel::top("top_bar").show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            if !narrow {
                ui.heading("pyrus-phone");
                ui.separator();
            }
            ui.selectable_value(&mut state.view, View::Calls, t.tab_calls);
            ui.selectable_value(&mut state.view, View::Sources, t.tab_sources);
            ui.selectable_value(&mut state.view, View::Settings, t.tab_settings);
            let help = ui.button("?").on_hover_text(t.help_help);
            help.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, t.help));
            if help.clicked() {
                state.help_open = !state.help_open;
            }
        });
        if state.demo {
            // Obvious at a glance: nothing typed here reaches a real Pyrus.
            egui::Frame::new()
                .fill(theme::DEMO_FILL)
                .inner_margin(egui::Margin::symmetric(6, 3))
                .corner_radius(3.0)
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.add(
                        egui::Label::new(
                            egui::RichText::new(t.demo_banner)
                                .color(theme::DEMO_TEXT)
                                .strong(),
                        )
                        .wrap(),
                    )
                    .on_hover_text(t.demo_hover);
                });
            ui.add_space(2.0);
        }
    });
    help_ui(ui.ctx(), state);
    close_dialog_ui(ui.ctx(), state);
    egui::Panel::bottom("status_bar").show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            let colour = match state.status.connection {
                Connection::SignedIn => theme::OK,
                Connection::Offline | Connection::Troubled => theme::WARN,
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
                let label = ui.add(egui::Label::new(notice.as_str()).wrap());
                if let Some(detail) = &state.notice_detail {
                    label.on_hover_text(detail);
                }
            }
        });
    });
    match state.view {
        View::Settings => {
            egui::Panel::bottom("settings_actions").show(ui, |ui| {
                ui.add_space(4.0);
                let action = settings_view::settings_actions_ui(
                    ui,
                    &mut state.settings_form,
                    state.key_place.as_ref(),
                    t,
                    commands,
                );
                if action == settings_view::SettingsAction::Close {
                    state.view = View::Calls;
                }
                ui.add_space(2.0);
            });
            egui::CentralPanel::default().show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("settings_scroll")
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
                            key_place: state.key_place.as_ref(),
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
                    .id_salt("sources_scroll")
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        let simulated = state.doctor.simulated.as_deref().and_then(|id| {
                            state.list.calls.iter().find(|c| {
                                c.request
                                    .external_id
                                    .as_ref()
                                    .is_some_and(|e| e.as_str() == id)
                            })
                        });
                        sources_view::sources_ui(
                            ui,
                            &mut state.doctor,
                            state.sources.as_ref(),
                            (state.demo, simulated),
                            t,
                            commands,
                        );
                    });
            });
        }
        View::Calls => calls_view_ui(ui, state, commands),
    }
    drops_ui(ui.ctx(), state, commands);
}

/// A bar above the calls for each incoming call ringing now; baresip's can be answered, and
/// when calls are registered by hand, any can be put into the form.
fn ringing_ui(ui: &mut egui::Ui, state: &mut UiState, commands: &mut Vec<Command>) {
    let dismissed = &state.dismissed;
    let shown: Vec<&RingingCall> = state
        .ringing
        .iter()
        .filter(|c| !dismissed.contains(&(c.number.as_str().to_owned(), c.since_ms)))
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
    egui::Panel::top("ringing").show(ui, |ui| {
        for call in shown {
            ui.horizontal_wrapped(|ui| {
                ui.colored_label(
                    theme::WARN,
                    egui::RichText::new(fill(t.ringing, &[&call.number.as_str()])).strong(),
                );
                if call.source == SourceId::Baresip
                    && ui.button(t.answer).on_hover_text(t.answer_hover).clicked()
                {
                    commands.push(Command::AnswerCall);
                }
                // Its task, once registered.
                let task = call.call_id.as_deref().and_then(|id| {
                    state.list.calls.iter().find(|c| {
                        c.request
                            .external_id
                            .as_ref()
                            .is_some_and(|e| e.as_str() == id)
                    })
                });
                if let Some(record) = task
                    && let (Some(url), Some(reg)) = (&record.task_url, &record.registration)
                    && ui
                        .button(fill(t.open_task_n, &[&reg.task_id]))
                        .on_hover_text(url)
                        .clicked()
                {
                    commands.push(Command::OpenUrl(url.clone()));
                }
                if by_hand && ui.button(t.to_form).clicked() {
                    to_form = Some(call.clone());
                }
                let close = ui.button("×").on_hover_text(t.dismiss_ringing);
                close.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::Button, true, t.dismiss_ringing)
                });
                if close.clicked() {
                    dismiss = Some((call.number.as_str().to_owned(), call.since_ms));
                }
            });
        }
    });
    if let Some(key) = dismiss {
        state.dismissed.insert(key);
    }
    if let Some(call) = to_form {
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
}

fn calls_view_ui(ui: &mut egui::Ui, state: &mut UiState, commands: &mut Vec<Command>) {
    let t = state.texts();
    ringing_ui(ui, state, commands);
    let width = ui.available_width();
    if width < NARROW_BELOW {
        // A strip beside the softphone: the form and the list take turns.
        egui::Panel::top("calls_tabs").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.selectable_value(&mut state.pane, Pane::Form, t.new_call);
                let list = fill(t.calls_tab_n, &[&state.list.calls.len()]);
                ui.selectable_value(&mut state.pane, Pane::List, list);
            });
        });
        egui::CentralPanel::default().show(ui, |ui| match state.pane {
            Pane::Form => form_pane_ui(ui, state, commands, false),
            Pane::List => list_pane_ui(ui, state, commands),
        });
    } else {
        egui::Panel::left("new_call")
            .resizable(true)
            .default_size(420.0)
            .size_range(320.0..=(width * 0.55).max(320.0))
            .show(ui, |ui| form_pane_ui(ui, state, commands, true));
        egui::CentralPanel::default().show(ui, |ui| list_pane_ui(ui, state, commands));
    }
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
    egui::ScrollArea::vertical()
        .id_salt("form_scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let in_force = state.in_force.as_ref();
            let presets = in_force
                .map(|s| s.defaults.presets.as_slice())
                .unwrap_or_default();
            let cx = call_form::FormContext {
                country: default_country(state),
                presets,
                fields: &state.fields,
                line_number: in_force.map_or("", |s| s.defaults.line_number.as_str()),
                internal_number: in_force.map_or("", |s| s.defaults.internal_number.as_str()),
                heading,
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
        });
    if std::mem::take(&mut state.form.cleared) {
        state.outcome = Outcome::Idle;
        state.typed = None;
    }
    // A call is being sent: remember what the form held; a corrected one: follow it.
    for command in &commands[first..] {
        if matches!(command, Command::Register(_) | Command::Resend { .. }) {
            state.typed = Some(state.form.clone());
        }
        if let Command::Resend { job, call } = command {
            state.outcome = Outcome::Sending {
                job: *job,
                external_id: call
                    .external_id
                    .as_ref()
                    .map(|e| e.as_str().to_owned())
                    .unwrap_or_default(),
                retrying: None,
            };
        }
    }
}

/// The call list, and files dropped on it.
fn list_pane_ui(ui: &mut egui::Ui, state: &mut UiState, commands: &mut Vec<Command>) {
    let t = state.texts();
    calls::discarding_ui(ui, &mut state.list, t, commands);
    state.list.drop_target = calls::call_list_ui(ui, &mut state.list, t, commands);
    // A call discarded here leaves the form and the outcome panel too.
    for d in &state.list.discarding {
        if state.outcome_job() == Some(d.job) {
            state.outcome = Outcome::Idle;
        }
        if state.form.correcting == Some(d.job) {
            state.form.correcting = None;
        }
    }
    if std::mem::take(&mut state.list.open_settings) {
        state.view = View::Settings;
    }
    if let Some(call_id) = state.list.correct.take() {
        state.correct_call(call_id);
    }
}

/// Attaches `path` to a call and says so, naming the call.
pub fn attach_to(
    state: &mut UiState,
    call_id: i64,
    path: std::path::PathBuf,
    commands: &mut Vec<Command>,
) {
    let t = state.texts();
    state.list.attach_errors.remove(&call_id);
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let call = state
        .list
        .call(call_id)
        .map(|c| calls::describe(c, t))
        .unwrap_or_default();
    state.say(fill(t.attaching_to, &[&file, &call]));
    commands.push(Command::AttachRecording { call_id, path });
}

/// Files dropped on the window go to the row under the pointer; dropped anywhere else,
/// the agent is asked which call they are for.
fn drops_ui(ctx: &egui::Context, state: &mut UiState, commands: &mut Vec<Command>) {
    let t = state.texts();
    // The row under the pointer is trusted only when the pointer was seen moving over the
    // window during this drag: many desktops report no pointer while another program drags,
    // and a position from before the drag could name the wrong call.
    let (hovering, moving) = ctx.input(|i| {
        (
            !i.raw.hovered_files.is_empty(),
            i.pointer.delta() != egui::Vec2::ZERO,
        )
    });
    if hovering {
        state.list.drag_seen |= moving && ctx.pointer_hover_pos().is_some();
    }
    let dropped = calls::dropped_files(ctx);
    if !dropped.is_empty() {
        let seen = std::mem::take(&mut state.list.drag_seen);
        match state.list.drop_target.filter(|_| seen) {
            Some(call_id) => {
                for path in dropped {
                    attach_to(state, call_id, path, commands);
                }
            }
            None if state.list.shown().is_empty() => state.say(t.drop_first),
            // Asked which call; files dropped while asking join the question.
            None => state.list.unplaced_drop.extend(dropped),
        }
    } else if !hovering {
        state.list.drag_seen = false;
    }
    if state.list.unplaced_drop.is_empty() {
        return;
    }
    let names = state
        .list
        .unplaced_drop
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    let mut chosen = None;
    let mut cancel = false;
    egui::Window::new(t.which_call)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            ui.add(egui::Label::new(fill(t.which_call_text, &[&names])).wrap());
            egui::ScrollArea::vertical()
                .id_salt("which_call")
                .max_height(240.0)
                .show(ui, |ui| {
                    for call in state.list.shown().iter().take(20) {
                        if ui.button(calls::describe(call, t)).clicked() {
                            chosen = Some(call.call_id);
                        }
                    }
                });
            if ui.button(t.picker_cancel).clicked() {
                cancel = true;
            }
        });
    if let Some(call_id) = chosen {
        for path in std::mem::take(&mut state.list.unplaced_drop) {
            attach_to(state, call_id, path, commands);
        }
    } else if cancel {
        state.list.unplaced_drop.clear();
    }
}
