//! The messages between the window and the service: `Command`s go down, `Event`s come up,
//! and every event wakes the window. Both channels are bounded.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::domain::{
    CallQuery, CallRecord, CallRequest, CallRowId, CallerCard, ExternalId, FormFieldInfo, JobId,
    JobState, PhoneNumber, Registration, RingingCall, Secret, SourcesReport,
};
use crate::settings::{AdminView, Settings};

/// Wakes the window (in the app: `egui::Context::request_repaint`).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// What the window asks the service to do.
#[derive(Debug, Clone)]
pub enum Command {
    /// Store and register a call (already validated by the window).
    Register(CallRequest),
    /// Check a recording, then upload it and attach it to a stored call's task.
    AttachRecording {
        /// The call's row.
        row: CallRowId,
        /// The recording.
        path: PathBuf,
    },
    /// Stop a running upload (the job is kept as failed: `cancelled`).
    CancelUpload(JobId),
    /// Open a link with the system browser.
    OpenUrl(String),
    /// Open a task (by id) in the system browser, its link made by the engine in use.
    OpenTask(u64),
    /// Who is calling from this number (as shown or typed): the service answers with
    /// `Event::CallerCard` from the local index.
    LookUpCaller(String),
    /// Save a wrap-up to a task (or correct one Pyrus refused).
    WrapUp(WrapUp),
    /// Try a job again now.
    Retry(JobId),
    /// Send a failed call again with what the window shows now (the call keeps its id).
    Resend {
        /// Its registration job.
        job: JobId,
        /// The corrected call.
        call: CallRequest,
    },
    /// Find kept calls (any day) for the list's search and filters.
    FindCalls(CallQuery),
    /// Use this security key for the login in force ("Enter the key" on work waiting for
    /// it): kept in the keyring where there is one, else for this session.
    UseKey(Secret),
    /// Call a number back: through the dial command, baresip, or the desktop's `tel:`
    /// handler when that is not pyrus-phone.
    CallBack(PhoneNumber),
    /// Take back a discard made moments ago.
    Undiscard(JobId),
    /// Give up on a job (kept as discarded, never sent).
    Discard(JobId),
    /// Check credentials against the auth URL without saving them. With no key, the one
    /// stored for the login is used.
    TestConnection {
        /// The settings to try.
        settings: Box<Settings>,
        /// A newly typed security key.
        key: Option<Secret>,
    },
    /// Read the configured form's field codes and choice options for the mapping editor.
    LoadForm,
    /// Load the phone-number tables now (the agent is about to type a number); they cost a
    /// few MiB and a moment, so they are not loaded before anyone needs them.
    PrepareNumbers,
    /// Feed ring, answer and end for this number through the call pipeline (hook doctor).
    SimulateCall(String),
    /// Point Twinkle's call scripts at pyrus-phone (every profile; another program's
    /// scripts kept).
    SetUpTwinkle,
    /// Answer the ringing call in the softphone (baresip).
    AnswerCall,
    /// Replace the event hook's token (the old one stops working).
    NewHookToken,
    /// Send the hook doctor's report now.
    CheckSources,
    /// Try the hook's configured port again (another program held it at start).
    CheckHookPort,
    /// Save settings (and a newly typed key into the OS keyring), then use them.
    SaveSettings {
        /// The new settings.
        settings: Box<Settings>,
        /// A newly typed security key.
        key: Option<Secret>,
    },
}

/// A wrap-up as the agent saved it: the notes and the outcome fields, for a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrapUp {
    /// The call it is about, when it is one of the list's.
    pub row: Option<CallRowId>,
    /// The call's task.
    pub task_id: u64,
    /// The notes.
    pub text: String,
    /// Fields of the form, by code; a choice by its name.
    pub updates: Vec<crate::domain::Mapping>,
    /// The refused wrap-up this corrects.
    pub correcting: Option<JobId>,
}

/// How the service stands with Pyrus, for the status bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Connection {
    /// Nothing sent yet.
    #[default]
    Unknown,
    /// The last exchange succeeded.
    SignedIn,
    /// Pyrus could not be reached; work is kept and retried.
    Offline,
    /// Pyrus answers, with errors it says pass (5xx, 429); work is kept and retried.
    Troubled,
    /// Credentials are missing or refused; nothing is sent until they are fixed.
    NeedsCredentials,
}

/// The status bar's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Status {
    /// How the service stands with Pyrus.
    pub connection: Connection,
    /// Jobs not yet done (pending, running, failed or parked).
    pub open_jobs: usize,
}

/// What the service tells the window.
#[derive(Debug, Clone)]
pub enum Event {
    /// The calls of the day with the state of their jobs, newest first (sent at start and
    /// after every change).
    Calls(Vec<CallRecord>),
    /// A call was stored and is being registered.
    CallQueued {
        /// Its registration job.
        job: JobId,
        /// Its external id.
        external_id: ExternalId,
    },
    /// Pyrus registered a call.
    Registered {
        /// The registration job.
        job: JobId,
        /// What Pyrus answered.
        registration: Registration,
        /// The task's link.
        task_url: String,
    },
    /// An attempt failed; the job is kept.
    JobFailed {
        /// The job.
        job: JobId,
        /// Its state now (pending = will retry, failed, needs credentials).
        state: JobState,
        /// The error code.
        code: String,
        /// What to do.
        message: String,
        /// When it will be retried (Unix ms).
        retry_at_ms: Option<i64>,
    },
    /// One call changed (a job of it ran, or something was heard of it): its row as the
    /// list shows it.
    CallChanged(Box<CallRecord>),
    /// Upload progress.
    Progress {
        /// The job.
        job: JobId,
        /// Bytes sent.
        sent: u64,
        /// Bytes in all.
        total: u64,
    },
    /// A test call went through the call pipeline under this call id.
    Simulated(String),
    /// What the administrator's file sets, locks, or why it cannot be used (at start and
    /// after each save).
    FromAdmin(AdminView),
    /// Where the security key lives now (at start and after each save).
    KeyPlace(KeyPlace),
    /// Kept calls answering a query, newest first.
    FoundCalls {
        /// The query they answer.
        query: CallQuery,
        /// The calls.
        calls: Vec<CallRecord>,
    },
    /// A recording was attached.
    Attached {
        /// The job.
        job: JobId,
    },
    /// A recording was refused before anything was stored or sent.
    AttachRejected {
        /// The call it was meant for.
        row: CallRowId,
        /// Why, as an error code.
        code: &'static str,
        /// What is wrong with the file.
        message: String,
    },
    /// Something the agent should read (a command could not be carried out).
    Notice(Notice),
    /// The status bar's figures changed.
    Status(Status),
    /// The settings the settings view edits (at start and after a save).
    Settings(Box<Settings>),
    /// The settings calls are made with now (in the demo: the sandbox's), at start and
    /// after a save: defaults, presets, country.
    InForce(Box<Settings>),
    /// A save was refused or failed; nothing changed.
    SettingsRejected(Refusal),
    /// The fields of the configured form, or why they could not be read.
    FormFields(Result<Vec<FormFieldInfo>, Refusal>),
    /// The call sources' health and last raw messages (at start and after every change).
    Sources(Box<SourcesReport>),
    /// The incoming calls ringing now (after every call event).
    Ringing(Vec<RingingCall>),
    /// Who is calling from a number the window asked about.
    CallerCard {
        /// The number as the window asked (shown or typed).
        asked: String,
        /// What the index knows.
        card: Box<CallerCard>,
    },
    /// The index of customers' numbers was read again: cards shown may have changed.
    CallersRead,
    /// The answer to `TestConnection`: the API address Pyrus handed out, or what to fix.
    ConnectionTested(Result<String, Refusal>),
    /// Another start of the app asked for this window: bring it to the front.
    Raise,
    /// A `tel:` link reached pyrus-phone: the number goes into the form as an outgoing
    /// call, for the agent to register (or not).
    LinkNumber(PhoneNumber),
    /// Call back could not hand the number to any program that dials it: the agent dials
    /// it by hand.
    DialByHand {
        /// The number to dial.
        number: PhoneNumber,
        /// Why.
        why: DialTrouble,
        /// The system's own words, when there are any.
        detail: String,
    },
}

/// Why Call back did not dial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialTrouble {
    /// No dial command, no softphone pyrus-phone talks to, and no program for `tel:` links
    /// but pyrus-phone itself (or none at all).
    NoProgram,
    /// The dial command could not be started, or is not a command line.
    CommandFailed,
    /// baresip is the softphone but is not connected.
    SoftphoneAway,
    /// The desktop's `tel:` handler started and failed.
    HandlerFailed,
}

/// Something the agent should read: what happened as a kind the window puts in words, an
/// error code when one says why, and the system's own words for the log-minded (shown on
/// hover).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// What happened.
    pub kind: NoticeKind,
    /// Why, as an error code (see `domain::codes`), when there is one.
    pub code: Option<String>,
    /// The technical detail, as the system said it.
    pub detail: String,
}

impl Notice {
    /// A notice of `kind` with `detail`.
    pub fn new(kind: NoticeKind, detail: impl std::fmt::Display) -> Self {
        Self {
            kind,
            code: None,
            detail: detail.to_string(),
        }
    }

    /// The same notice, with the error code that says why.
    #[must_use]
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
}

/// What a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// A call could not be stored.
    CallNotStored,
    /// Heard calls could not be kept.
    HeardNotStored,
    /// Events kept from the last run cannot be read.
    JournalUnreadable,
    /// A recording pickup could not be stored.
    PickupNotStored,
    /// The call list (or a search) cannot be read.
    ListUnreadable,
    /// The outbox failed while sending; retried soon.
    OutboxFailed,
    /// Credentials are missing or unusable.
    Credentials,
    /// A link could not be opened.
    LinkNotOpened,
    /// A number could not be handed to the softphone.
    DialFailed,
    /// A recording could not be checked or queued.
    RecordingNotQueued,
    /// Cancel: the upload had ended already.
    NotUploading,
    /// Retry, discard or resend: the job is not in a state that allows it.
    JobRefused,
    /// Call sources are not running in this window.
    NoSources,
    /// The event hook is off.
    HookOff,
    /// The event hook stays on its other port.
    HookPortStays,
    /// A test call could not be made.
    SimulateFailed,
    /// The call could not be answered.
    AnswerFailed,
    /// The hook's token could not be renewed.
    TokenNotRenewed,
    /// "Start when I log in" could not be written or removed.
    AutostartFailed,
    /// The outbox that could not be opened opens again: calls are stored from now on.
    OutboxOpened,
    /// Twinkle's call scripts run pyrus-phone now (it must be restarted to read them).
    TwinkleSetUp,
    /// Twinkle could not be set up.
    TwinkleNotSetUp,
}

impl NoticeKind {
    /// Every kind (the catalogue test reads it).
    pub const ALL: [Self; 22] = [
        Self::CallNotStored,
        Self::HeardNotStored,
        Self::JournalUnreadable,
        Self::PickupNotStored,
        Self::ListUnreadable,
        Self::OutboxFailed,
        Self::Credentials,
        Self::LinkNotOpened,
        Self::DialFailed,
        Self::RecordingNotQueued,
        Self::NotUploading,
        Self::JobRefused,
        Self::NoSources,
        Self::HookOff,
        Self::HookPortStays,
        Self::SimulateFailed,
        Self::AnswerFailed,
        Self::TokenNotRenewed,
        Self::AutostartFailed,
        Self::OutboxOpened,
        Self::TwinkleSetUp,
        Self::TwinkleNotSetUp,
    ];
}

/// Where the security key lives, as the window tells the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPlace {
    /// In the system keyring.
    Keyring,
    /// In the environment (`PYRUS_SECURITY_KEY`); the keyring is not used.
    Environment,
    /// The keyring cannot keep it: the key typed is used until the app quits.
    ThisSession(Refusal),
    /// The keyring cannot be used, and no key was typed in this session.
    NoKeyring(Refusal),
    /// No key is stored for the login yet.
    Missing,
}

/// Why something was refused: a stable code the window puts in words, and the English text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `login_missing`, `account_missing`, `key_missing`, a Pyrus `error_code`, …
    pub code: String,
    /// What happened, in English.
    pub message: String,
}

impl Refusal {
    /// A refusal with a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// The service's end of the event channel.
#[derive(Clone)]
pub struct UiSender {
    tx: mpsc::Sender<Event>,
    waker: Waker,
}

impl std::fmt::Debug for UiSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UiSender").finish_non_exhaustive()
    }
}

impl UiSender {
    /// Sends an event, waiting for room, then wakes the window. False when it is gone.
    pub async fn send(&self, event: Event) -> bool {
        let sent = self.tx.send(event).await.is_ok();
        if sent {
            (self.waker)();
        }
        sent
    }

    /// Sends an event if there is room (for lossy updates such as progress), then wakes.
    pub fn offer(&self, event: Event) {
        if self.tx.try_send(event).is_ok() {
            (self.waker)();
        }
    }
}

/// Makes the event channel: the service's sender and the window's receiver.
pub fn event_channel(capacity: usize, waker: Waker) -> (UiSender, mpsc::Receiver<Event>) {
    let (tx, rx) = mpsc::channel(capacity);
    (UiSender { tx, waker }, rx)
}
