//! The window's contents: a projection of what the service reported, drawn by view
//! functions that push `Command`s and never do I/O.

pub mod call_form;
pub mod calls;
pub mod theme;

use crate::bus::{Command, Event};
use crate::domain::{JobId, JobState, Registration};

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
        /// The last failed attempt's reason, while retrying.
        retrying: Option<String>,
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
        /// Why.
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
}

impl UiState {
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
                    *retrying = Some(message);
                    return;
                }
                self.outcome = Outcome::Stopped {
                    job,
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

/// Draws the whole window.
pub fn root_ui(ui: &mut egui::Ui, state: &mut UiState, commands: &mut Vec<Command>) {
    egui::Panel::top("top_bar").show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.heading("pyrus-phone");
            if state.demo {
                ui.label(theme::badge("DEMO SANDBOX")).on_hover_text(
                    "No Pyrus account is configured: calls go to a built-in sandbox.",
                );
            }
        });
    });
    egui::Panel::bottom("status_bar").show(ui, |ui| {
        ui.horizontal(|ui| {
            let text = match &state.notice {
                Some(n) => n.clone(),
                None if state.demo => "Demo: registering against the built-in sandbox".to_owned(),
                None => "Ready".to_owned(),
            };
            ui.label(text);
        });
    });
    egui::Panel::left("new_call")
        .resizable(true)
        .default_size(400.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                call_form::call_form_ui(ui, &mut state.form, commands);
                ui.add_space(12.0);
                call_form::outcome_ui(ui, &state.outcome, commands);
            });
        });
    egui::CentralPanel::default().show(ui, |ui| {
        let hovered = calls::call_list_ui(ui, &mut state.list, commands);
        for path in calls::dropped_files(ui.ctx()) {
            match hovered.or_else(|| state.list.calls.first().map(|c| c.call_id)) {
                Some(call_id) => {
                    state.list.attach_errors.remove(&call_id);
                    commands.push(Command::AttachRecording { call_id, path });
                }
                None => {
                    state.notice =
                        Some("Register the call first, then drop its recording on it.".to_owned());
                }
            }
        }
    });
}

/// Asks the agent for a recording with the system's file dialog (the only rfd call).
pub fn pick_recording() -> Option<std::path::PathBuf> {
    rfd::FileDialog::new()
        .set_title("Attach recording")
        .add_filter("Call recordings", &crate::domain::AUDIO_EXTENSIONS)
        .pick_file()
}
