//! Pure types and rules of a call: phone numbers, mappings, recordings, jobs and secrets.
//!
//! Owns validation of everything the agent or a softphone hands us. Knows nothing of the
//! network, the disk or the window: no I/O, no async.

pub mod call;
pub mod caller;
pub mod codes;
pub mod event;
pub mod job;
pub mod phone;
pub mod secret;
pub mod sources;
pub mod twinkle;
pub mod twinkle_history;
pub mod twinkle_profile;
pub mod units;
pub mod uri;

pub use call::{
    AUDIO_EXTENSIONS, AttachTarget, CallRequest, Direction, ExternalId, FormFieldInfo, InputError,
    LongField, MAX_UPLOAD_BYTES, MAX_VALUE_CHARS, Mapping, Person, Registration,
    audio_content_matches, audio_mime, check_recording_name,
};
pub use caller::{CallerCard, CallerTask, FormIndex, index_key, quick_keys};
pub use event::{CallEvent, CallEventWire, EventError, EventKind, EventSource};
pub use job::{
    CallLife, CallNumbers, CallQuery, CallRecord, CallRowId, JobBrief, JobId, JobKind, JobState,
    JobSubject, JobView, LINE_NUMBER_MISSING, QUERY_LIMIT, RecordingBrief, RecordingTo, Stage,
};
pub use phone::{Country, PhoneError, PhoneNumber};
pub use secret::Secret;
pub use sources::{
    BaresipHealth, FolderHealth, HookHealth, RawMessage, RingingCall, SourceId, SourcesReport,
    TokenOrigin, TwinkleHealth, Verdict,
};
pub use units::format_bytes;

/// The keyring's service name for the user's own profile's entries (a `PYRUS_PHONE_HOME`
/// profile adds its folder).
pub const KEYRING_SERVICE: &str = "pyrus-phone";
pub use uri::number_from_uri;
