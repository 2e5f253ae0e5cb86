//! Outbox jobs as the rest of the program sees them: kind, state and last outcome.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use super::{AttachTarget, CallRequest, PhoneNumber};

/// A job's row id in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct JobId(pub i64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// `integrations/call` for a stored call.
    Register,
    /// `files/upload` then `integrations/attachcallrecord`.
    Attach,
    /// Find an ended call's recording in the softphone's folder, wait until it is complete,
    /// and queue it as an `Attach`.
    Pickup,
    /// `tasks/{id}/comments`: a wrap-up (notes and outcome fields) or a call's outcome,
    /// posted once.
    Comment,
}

impl JobKind {
    /// The name stored in the database and shown to the user.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Attach => "attach",
            Self::Pickup => "pickup",
            Self::Comment => "comment",
        }
    }

    /// Parses a stored name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Register, Self::Attach, Self::Pickup, Self::Comment]
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its time (or for the registration it depends on).
    Pending,
    /// Being sent by some process now.
    Running,
    /// Sent and accepted.
    Done,
    /// Refused by Pyrus for a reason retrying cannot fix; kept with the reason.
    Failed,
    /// Waiting for working credentials.
    NeedsCredentials,
    /// Discarded by the agent.
    Discarded,
    /// Kept until a setting it needs is made (its `error_code` says which, e.g.
    /// `line_number_missing`); sent once it is.
    Held,
}

impl JobState {
    /// The name stored in the database and shown to the user.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::NeedsCredentials => "needs_credentials",
            Self::Discarded => "discarded",
            Self::Held => "held",
        }
    }

    /// Parses a stored name.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Running,
            Self::Done,
            Self::Failed,
            Self::NeedsCredentials,
            Self::Discarded,
            Self::Held,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// The error code of a call held until this line's number is set.
pub const LINE_NUMBER_MISSING: &str = "line_number_missing";

/// A job with what the agent needs to judge it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobView {
    /// Row id.
    pub id: JobId,
    /// What it does.
    pub kind: JobKind,
    /// Where it stands.
    pub state: JobState,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (Unix milliseconds), for pending jobs.
    pub next_attempt_ms: Option<i64>,
    /// The last error's `error_code` (or our own code), if any.
    pub error_code: Option<String>,
    /// The last error's message, saying what to do.
    pub error_message: Option<String>,
    /// The call's external id.
    pub external_id: Option<String>,
    /// The task, once known.
    pub task_id: Option<u64>,
    /// The recording's file name, for attach jobs.
    pub file_name: Option<String>,
    /// What it is about (numbers masked when written out).
    pub subject: JobSubject,
    /// When the job was stored (Unix milliseconds).
    pub created_ms: i64,
    /// Claimed by a process that is gone (it crashed or was killed): the next run takes it
    /// up.
    pub interrupted: bool,
}

/// A call's two numbers, as a job's subject names them (masked when written out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallNumbers {
    /// The caller.
    #[serde(serialize_with = "masked")]
    pub from: PhoneNumber,
    /// The callee.
    #[serde(serialize_with = "masked")]
    pub to: PhoneNumber,
}

impl From<&CallRequest> for CallNumbers {
    fn from(call: &CallRequest) -> Self {
        Self {
            from: call.from.clone(),
            to: call.to.clone(),
        }
    }
}

/// A number written out masked, as its `Display` does.
fn masked<S: serde::Serializer>(number: &PhoneNumber, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(number)
}

/// Where a recording goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingTo {
    /// A call stored here (its numbers, when its row can be read).
    Call(Option<CallNumbers>),
    /// A call or task Pyrus already knows (written out as its masked `Display`).
    Target(#[serde(serialize_with = "shown")] AttachTarget),
}

/// A target written out as its `Display` (numbers masked).
fn shown<S: serde::Serializer>(target: &AttachTarget, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(target)
}

/// What a job is about, as data: the front ends word it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum JobSubject {
    /// A call to register.
    Call(CallNumbers),
    /// A recording to upload and attach.
    Recording {
        /// The file's name.
        file_name: String,
        /// Where it goes.
        to: RecordingTo,
    },
    /// A call's recording to find in a folder.
    FindRecording {
        /// The softphone's recordings folder.
        folder: PathBuf,
        /// The call, when its row can be read.
        call: Option<CallNumbers>,
    },
    /// A comment for a task: a wrap-up or a call's outcome.
    Comment {
        /// The task.
        task_id: u64,
    },
    /// The job's row cannot be read.
    Unreadable,
}

/// Where one job stands, briefly: what a call row shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobBrief {
    /// The job.
    pub id: JobId,
    /// Its state.
    pub state: JobState,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due (Unix ms), for pending jobs.
    pub next_attempt_ms: Option<i64>,
    /// The last error's code.
    pub error_code: Option<String>,
    /// The last error's message.
    pub error_message: Option<String>,
}

/// A recording queued for a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordingBrief {
    /// Its job: an attach, or a pickup still looking for the file.
    pub job: JobBrief,
    /// `Attach`, or `Pickup` while the recording is being found.
    pub kind: JobKind,
    /// The file's name (empty for a pickup).
    pub file_name: String,
}

/// A stored call's row in the outbox — never to be confused with a source's call id (a SIP
/// Call-ID, a string), which is the call's external id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CallRowId(pub i64);

impl fmt::Display for CallRowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A stored call with the state of its jobs: one row of the call list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallRecord {
    /// The call's row.
    pub row: CallRowId,
    /// The call as registered.
    pub request: CallRequest,
    /// When it was stored (Unix ms).
    pub created_ms: i64,
    /// Its latest registration job.
    pub register: JobBrief,
    /// What Pyrus answered, once registered.
    pub registration: Option<super::Registration>,
    /// The task's link, once registered.
    pub task_url: Option<String>,
    /// Recordings queued for it, oldest first.
    pub recordings: Vec<RecordingBrief>,
    /// Its latest wrap-up, once one was saved.
    pub wrapup: Option<JobBrief>,
    /// Its outcome, when Pyrus refused it (a field code or choice the form lacks…): shown so
    /// it can be corrected in the settings and sent again.
    pub outcome_refused: Option<JobBrief>,
    /// What was heard of the call itself (nothing for a call typed in).
    pub life: CallLife,
    /// The far end's name, as the softphone gave it.
    pub display: Option<String>,
    /// Why an unanswered call ended, as the softphone said (`cancelled`, `rejected`, `dnd`,
    /// or its own words).
    pub end_reason: Option<String>,
}

/// What a softphone said of a call: when it started, was answered and ended (Unix ms).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CallLife {
    /// When it started ringing or was dialled.
    pub started_ms: Option<i64>,
    /// When it was answered.
    pub answered_ms: Option<i64>,
    /// When it ended.
    pub ended_ms: Option<i64>,
}

/// Where a call stands, as the agent sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Typed in: nothing was heard of it.
    Typed,
    /// Ringing since (Unix ms).
    Ringing(i64),
    /// Answered at (Unix ms), not ended.
    Talking(i64),
    /// Answered and ended: how long the talk lasted (ms).
    Ended(i64),
    /// An incoming call that ended without being answered: how long it rang (ms).
    Missed(i64),
    /// An outgoing call nobody answered: how long it rang (ms).
    NoAnswer(i64),
    /// Rang or talked longer than any call does with no end heard (the softphone's end was
    /// lost, e.g. across a restart).
    Unfinished,
}

/// A call still "ringing" after this long had its end lost.
pub const RINGING_AT_MOST_MS: i64 = 5 * 60 * 1000;

/// A call still "talking" after this long had its end lost.
pub const TALKING_AT_MOST_MS: i64 = 4 * 60 * 60 * 1000;

impl CallRecord {
    /// True for a call registered from a softphone's own call history, not heard live.
    pub fn from_history(&self) -> bool {
        self.request.external_id.as_ref().is_some_and(|id| {
            id.as_str()
                .starts_with(super::twinkle_history::HISTORY_ID_PREFIX)
        })
    }

    /// The call's stage at `now_ms` from what was heard of it.
    pub fn stage(&self, now_ms: i64) -> Stage {
        let outgoing = self.request.direction == super::Direction::Outgoing;
        let life = &self.life;
        match (life.started_ms, life.answered_ms, life.ended_ms) {
            (_, Some(answered), Some(ended)) => Stage::Ended((ended - answered).max(0)),
            (_, Some(answered), None) if now_ms - answered > TALKING_AT_MOST_MS => {
                Stage::Unfinished
            }
            (_, Some(answered), None) => Stage::Talking(answered),
            (Some(started), None, Some(ended)) if outgoing => {
                Stage::NoAnswer((ended - started).max(0))
            }
            (Some(started), None, Some(ended)) => Stage::Missed((ended - started).max(0)),
            (Some(started), None, None) if now_ms - started > RINGING_AT_MOST_MS => {
                Stage::Unfinished
            }
            (Some(started), None, None) => Stage::Ringing(started),
            (None, None, _) => Stage::Typed,
        }
    }
}

/// Which kept calls to show besides today's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallQuery {
    /// Digits that appear in either number.
    pub digits: Option<String>,
    /// A task id.
    pub task_id: Option<i64>,
    /// Stored at or after (Unix ms).
    pub from_ms: Option<i64>,
    /// Stored before (Unix ms).
    pub until_ms: Option<i64>,
    /// Only calls that rang and were not answered.
    pub missed_only: bool,
}

/// At most this many calls answer a query (newest first).
pub const QUERY_LIMIT: usize = 200;
