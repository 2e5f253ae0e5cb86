//! What the window shows: `UiState`, the service's events applied to it one kind at a time,
//! and the moves several views make on it (correct a call, say something, let the last
//! outcome go).

use std::collections::HashSet;
use std::time::Instant;

use crate::bus::{DialTrouble, Event, KeyPlace, Refusal, Status};
use crate::domain::{
    CallRecord, CallRowId, FormFieldInfo, JobBrief, JobId, JobState, PhoneNumber, Registration,
    RingingCall, SourcesReport,
};
use crate::settings::Settings;

use super::i18n::{Language, Texts};
use super::{call_form, calls, settings_view, sources_view};

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
    /// Who is calling: the caller cards asked for and answered.
    pub cards: super::caller_card::Cards,
    /// The wrap-up being written, and the drafts of those saved.
    pub wrapups: super::wrapup::WrapUps,
    /// In a narrow window, which half of the calls view is shown.
    pub pane: Pane,
    /// Where the security key lives, once the service has said.
    pub key_place: Option<KeyPlace>,
    /// The form as it was when its call was registered.
    pub typed: Option<call_form::CallForm>,
    /// A call the agent was typing when a `tel:` link filled the form: kept to put back.
    pub set_aside: Option<call_form::CallForm>,
    /// The form as the last `tel:` link filled it (not the agent's typing).
    pub link_fill: Option<call_form::CallForm>,
    /// Ringing bars the agent closed (by number and start).
    pub dismissed: HashSet<(String, i64)>,
    /// Call back dialled nothing: the number for the agent to dial, why, and the system's
    /// words.
    pub dial_by_hand: Option<(PhoneNumber, DialTrouble, String)>,
    /// "Enter the key" is open, with the key as typed (never shown back).
    pub key_prompt: Option<String>,
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

impl Outcome {
    /// Stored and being sent; nothing has failed yet.
    pub fn sending(job: JobId, external_id: String) -> Self {
        Self::Sending {
            job,
            external_id,
            retrying: None,
        }
    }

    /// Parked, as the call's registration job says.
    pub fn stopped(register: &JobBrief) -> Self {
        Self::Stopped {
            job: register.id,
            code: register.error_code.clone().unwrap_or_default(),
            message: register.error_message.clone().unwrap_or_default(),
            state: register.state,
        }
    }

    /// The registration job it follows, if any.
    pub fn job(&self) -> Option<JobId> {
        match self {
            Self::Sending { job, .. }
            | Self::Registered { job, .. }
            | Self::Stopped { job, .. } => Some(*job),
            Self::Idle => None,
        }
    }
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
                self.outcome = Outcome::sending(job, external_id.as_str().to_owned());
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
            } => self.job_failed(job, state, code, message),
            Event::Notice(notice) => {
                self.notice = Some(self.texts().notice(&notice));
                self.notice_detail = Some(notice.detail).filter(|d| !d.is_empty());
            }
            Event::Calls(calls) => self.calls_changed(calls),
            Event::CallChanged(call) => self.call_changed(*call),
            Event::FoundCalls { query, calls } => {
                // An answer to a query the agent has typed past is dropped.
                if self.list.query_sent.as_ref() == Some(&query) {
                    self.list.found = Some(calls);
                }
            }
            Event::KeyPlace(place) => self.key_place = Some(place),
            Event::FromAdmin(keys) => self.settings_form.admin = keys,
            Event::Simulated(call_id) => self.doctor.simulated = Some(call_id),
            Event::Progress { job, sent, total } => self.upload_progressed(job, sent, total),
            Event::AttachRejected { row, code, message } => {
                let words = self.texts().advice(Some(code), &message).into_owned();
                self.list.attach_errors.insert(row, words);
            }
            Event::Attached { job } => {
                self.list.progress.remove(&job);
            }
            Event::Status(status) => self.status = status,
            Event::Settings(settings) => self.settings_arrived(settings),
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
            Event::Ringing(calls) => self.ringing_changed(calls),
            Event::CallerCard { asked, card } => self.cards.arrived(asked, *card),
            Event::CallersRead => self.cards.read_again(),
            Event::Raise => self.raise = true,
            Event::LinkNumber(number) => self.link_number(&number),
            Event::DialByHand {
                number,
                why,
                detail,
            } => self.dial_by_hand = Some((number, why, detail)),
            Event::ConnectionTested(result) => {
                self.settings_form.testing = false;
                self.settings_form.test_result = Some(result);
            }
        }
    }

    /// An attempt failed: a retry of the form's call is said beside it, anything else stops
    /// it.
    fn job_failed(&mut self, job: JobId, state: JobState, code: String, message: String) {
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

    /// The calls of the day changed.
    fn calls_changed(&mut self, calls: Vec<CallRecord>) {
        // Progress of uploads that ended is stale.
        self.list.progress.retain(|job, _| {
            calls.iter().any(|c| {
                c.recordings.iter().any(|r| {
                    r.job.id == *job && matches!(r.job.state, JobState::Pending | JobState::Running)
                })
            })
        });
        // Heights of rows no longer listed are forgotten.
        let rows: HashSet<CallRowId> = calls.iter().map(|c| c.row).collect();
        self.list.heights.retain(|row, _| rows.contains(row));
        // A search shows kept calls: ask again when they changed, so it follows.
        self.list.refresh |= calls != self.list.calls;
        self.list.calls = calls;
        self.follow_list();
    }

    /// One call changed: its row is replaced (or added, newest first) — the rest of the list
    /// stays as it is.
    fn call_changed(&mut self, call: CallRecord) {
        let calls = &mut self.list.calls;
        match calls.iter().position(|c| c.row == call.row) {
            Some(i) if calls[i] == call => return,
            Some(i) => {
                let ended: Vec<JobId> = calls[i]
                    .recordings
                    .iter()
                    .map(|r| r.job.id)
                    .filter(|job| {
                        !call.recordings.iter().any(|r| {
                            r.job.id == *job
                                && matches!(r.job.state, JobState::Pending | JobState::Running)
                        })
                    })
                    .collect();
                for job in ended {
                    self.list.progress.remove(&job);
                }
                calls[i] = call;
            }
            None => {
                let at = calls
                    .iter()
                    .position(|c| (c.created_ms, c.row) < (call.created_ms, call.row))
                    .unwrap_or(calls.len());
                // A long day's list grows by a few rows at a time, not by doubling.
                if calls.len() == calls.capacity() {
                    calls.reserve_exact(64);
                }
                calls.insert(at, call);
            }
        }
        self.list.refresh = true;
        self.follow_list();
    }

    fn upload_progressed(&mut self, job: JobId, sent: u64, total: u64) {
        let entry = self
            .list
            .progress
            .entry(job)
            .or_insert(calls::UploadProgress {
                sent,
                total,
                started: Instant::now(),
            });
        entry.sent = sent;
        entry.total = total;
    }

    /// The settings the view edits arrived: after a save, or from elsewhere.
    fn settings_arrived(&mut self, settings: Box<Settings>) {
        let form = &mut self.settings_form;
        if form.saving {
            // A save went through: the new settings (and a real account) are in force.
            form.saving = false;
            form.saved = true;
            form.key.clear();
            form.original = (*settings).clone();
            form.draft = (*settings).clone();
            // A save with an account switches to it; one without keeps the demo.
            self.demo &= !settings.has_account();
            self.first_run &= !settings.has_account();
        } else if !form.dirty() {
            form.restart(&settings);
        }
        self.lang = Language::chosen(settings.window.language.as_deref(), self.system_lang);
        self.settings = Some(*settings);
    }

    /// The calls ringing now; a closed bar stays closed while its call rings.
    fn ringing_changed(&mut self, calls: Vec<RingingCall>) {
        self.dismissed.retain(|(n, at)| {
            calls
                .iter()
                .any(|c| c.number.as_str() == n && c.since_ms == *at)
        });
        self.ringing = calls;
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
                self.form.stop_correcting(job);
            }
            return;
        };
        match call.register.state {
            JobState::Discarded => {
                self.outcome = Outcome::Idle;
                self.form.stop_correcting(job);
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
                self.form.stop_correcting(job);
            }
            JobState::Failed | JobState::NeedsCredentials => {
                self.outcome = Outcome::stopped(&call.register);
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

    /// Opens the wrap-up of a registered call of the list (a refused one as it was saved).
    pub fn open_wrapup(&mut self, row: CallRowId) {
        let Some(call) = self.list.call(row).cloned() else {
            return;
        };
        let codes = self
            .in_force
            .as_ref()
            .map(|s| s.wrapup.fields.clone())
            .unwrap_or_default();
        let about = calls::describe(&call, self.texts());
        self.wrapups.open(&call, about, &codes);
    }

    /// The form's Wrap up for the call it registered last.
    pub fn wrapup_registered(&mut self, job: JobId) {
        let row = self
            .list
            .calls
            .iter()
            .find(|c| c.register.id == job)
            .map(|c| c.row);
        if let Some(row) = row {
            self.open_wrapup(row);
        }
    }

    /// Loads a failed call from the list into the form to be corrected.
    pub fn correct_call(&mut self, row: CallRowId) {
        let Some(call) = self.list.calls.iter().find(|c| c.row == row) else {
            return;
        };
        self.form.correct(call.register.id, &call.request);
        self.outcome = Outcome::stopped(&call.register);
        self.show_pane(Pane::Form);
    }

    /// A `tel:` link's number goes into an empty form as an outgoing call; the agent decides
    /// whether to register it.
    fn link_number(&mut self, number: &PhoneNumber) {
        // What the agent was typing (and has not registered) is set aside, never lost.
        let blank = call_form::CallForm::default();
        let unchanged = |kept: &Option<call_form::CallForm>| {
            kept.as_ref().is_some_and(|k| k.same_call(&self.form))
        };
        let typing =
            !self.form.same_call(&blank) && !unchanged(&self.typed) && !unchanged(&self.link_fill);
        if typing {
            self.set_aside = Some(self.form.clone());
        }
        self.form.clear();
        self.form.outgoing = true;
        self.form.to = number.as_str().to_owned();
        self.link_fill = Some(self.form.clone());
        self.let_outcome_go();
        self.show_pane(Pane::Form);
        self.say(if typing {
            self.texts().link_in_form_set_aside
        } else {
            self.texts().link_in_form
        });
    }

    /// Puts back the call set aside when a link filled the form (the link's number goes).
    pub fn put_back_set_aside(&mut self) {
        if let Some(form) = self.set_aside.take() {
            self.form = form;
            self.let_outcome_go();
        }
    }

    /// Shows the calls view, with `pane` in front in a narrow window.
    pub fn show_pane(&mut self, pane: Pane) {
        self.view = View::Calls;
        self.pane = pane;
    }

    /// Lets the last registration go: the form is for the next call.
    pub fn let_outcome_go(&mut self) {
        self.outcome = Outcome::Idle;
        self.typed = None;
    }

    /// Shows the window's own message in the status bar (it has no system detail).
    pub fn say(&mut self, text: impl Into<String>) {
        self.notice = Some(text.into());
        self.notice_detail = None;
    }

    /// The registration job of the call typed in the form, if any.
    pub fn outcome_job(&self) -> Option<JobId> {
        self.outcome.job()
    }

    fn tracks(&self, job: JobId) -> bool {
        self.outcome_job() == Some(job)
    }
}

#[cfg(test)]
mod tests {
    use super::UiState;
    use crate::bus::Event;
    use crate::domain::PhoneNumber;

    #[test]
    fn a_link_sets_aside_the_call_being_typed_and_it_can_be_put_back() {
        let mut state = UiState::default();
        let link = |n: &str| Event::LinkNumber(PhoneNumber::parse(n).unwrap());
        // An empty form: nothing to set aside.
        state.apply(link("+79161112200"));
        assert_eq!(state.form.to, "+79161112200");
        assert!(state.set_aside.is_none());
        // A second link over the first link's number: nothing of the agent's is lost.
        state.apply(link("+79161112201"));
        assert!(state.set_aside.is_none());
        // The agent types a call; a link comes in the middle of it.
        state.form.clear();
        state.form.from = "+74951234567".to_owned();
        state.form.external_id = "half-typed".to_owned();
        state.apply(link("+79161112202"));
        assert_eq!(state.form.to, "+79161112202");
        assert!(state.form.outgoing);
        let kept = state.set_aside.as_ref().unwrap();
        assert_eq!(kept.external_id, "half-typed");
        assert!(state.notice.as_deref().unwrap().contains("set aside"));
        state.put_back_set_aside();
        assert_eq!(state.form.from, "+74951234567");
        assert_eq!(state.form.external_id, "half-typed");
        assert!(state.set_aside.is_none());
    }
}
