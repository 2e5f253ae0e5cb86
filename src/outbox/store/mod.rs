//! The outbox database: calls and jobs in SQLite (WAL), every change in one transaction.
//!
//! Synchronous; [`super::Outbox`] calls it from blocking threads. Several processes (the
//! window and CLI commands) may share one file: a job is claimed with a lease inside an
//! immediate transaction, so only one of them sends it. One file per concern: `schema`
//! (versions and migrations), `calls` (stored calls and what was heard of them), `journal`
//! (heard events until handled), `jobs` (claims, leases and outcomes), `cascade` (what a
//! registration's fate does to the recordings waiting on it: retry, resend, discard),
//! `budget` (the shared rate budget), `callers` (the index of customers' numbers: their
//! forms' tasks, read page by page), `pickups` (recordings looked for on this computer) and
//! `queries` (what the window and `queue` list). Nothing here words anything for people: rows
//! carry codes and typed data.

mod budget;
mod callers;
mod calls;
mod cascade;
mod claims;
mod comments;
mod error;
mod history;
mod jobs;
mod journal;
mod pickups;
mod queries;
mod schema;
#[cfg(test)]
mod testing;

use std::path::{Path, PathBuf};

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::platform::files::FileIdentity;

use super::owners::Owners;
use crate::domain::{AttachTarget, CallRequest, JobId, JobKind, JobState, Mapping, Registration};
use schema::migrate;

pub use budget::{RATE_BUDGET, RATE_WINDOW_MS};
pub use callers::{CARD_LIMIT, IndexedTask, Reading, peek_caller_subject};
pub use calls::Live;
pub use cascade::UNDO_MS;
pub use claims::Lane;
pub use error::StoreError;
use error::{corrupt, db_err};
pub use schema::SCHEMA_VERSION;

/// Where an attach job's recording goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredTarget {
    /// A call in this outbox; the attach waits for its registration.
    Call(i64),
    /// A call or task Pyrus already knows.
    Direct(AttachTarget),
}

impl StoredTarget {
    /// The stored call, when the target is one.
    pub fn call_id(&self) -> Option<i64> {
        match self {
            Self::Call(id) => Some(*id),
            Self::Direct(_) => None,
        }
    }
}

/// What an attach job carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachPayload {
    /// The recording on disk.
    pub path: PathBuf,
    /// Where it goes.
    pub target: StoredTarget,
    /// Mappings sent with the attach.
    pub mappings: Vec<Mapping>,
    /// The uploaded file's guid, once uploaded.
    pub file_guid: Option<String>,
    /// Which file was checked when the job was stored: only that file is sent (a job kept
    /// by an older version has none, and is checked by its content alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked: Option<FileIdentity>,
}

/// What a pickup job carries: where and what to look for once a heard call has ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickupPayload {
    /// The softphone's recordings folder.
    pub dir: PathBuf,
    /// The far party's number, as file names carry it.
    pub number: String,
    /// When the call started (Unix ms): older files are not its recording.
    pub started_ms: i64,
    /// When the call ended (Unix ms): a file last written long after is another call's.
    #[serde(default)]
    pub ended_ms: Option<i64>,
    /// The call was answered: an unanswered one may well have no recording, and finding
    /// none is not a failure.
    #[serde(default = "answered_by_default")]
    pub answered: bool,
    /// The call's external id, which names a merged file.
    pub name: String,
    /// Where the recording goes once found.
    pub target: StoredTarget,
}

fn answered_by_default() -> bool {
    true
}

/// A comment for a task, as its job keeps it: posted once — its marker, at the end of the
/// text, tells whether an attempt whose answer was lost posted it already.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentPayload {
    /// The task.
    pub task_id: u64,
    /// The notes.
    pub text: String,
    /// Fields to set, by code; a choice by its name (made an id when sent).
    #[serde(default)]
    pub updates: Vec<Mapping>,
    /// Unique to this comment; the last line of what is posted.
    pub marker: String,
    /// A call's outcome, worded when it is sent (then `text` is empty and `task_id` 0 until
    /// the call's task is known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<CallOutcome>,
}

/// What became of a call, as its outcome comment says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallOutcome {
    /// Which way it went.
    pub direction: crate::domain::Direction,
    /// When it started ringing or was dialled (Unix ms).
    pub started_ms: i64,
    /// When it was answered.
    pub answered_ms: Option<i64>,
    /// When it ended.
    pub ended_ms: i64,
}

impl CommentPayload {
    /// The text as posted: the notes, then the marker on a line of its own.
    pub fn posted_text(&self) -> String {
        if self.text.trim().is_empty() {
            self.marker.clone()
        } else {
            format!("{}\n\n{}", self.text.trim_end(), self.marker)
        }
    }
}

/// A stored call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRow {
    /// Row id.
    pub id: i64,
    /// The call as registered.
    pub request: CallRequest,
    /// The registration, once done.
    pub registration: Option<Registration>,
}

/// A job claimed for sending.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The job.
    pub job: JobId,
    /// This claim's token: what finishing the job must show.
    pub token: i64,
    /// Attempts already made.
    pub attempts: u32,
    /// An earlier claim may have sent it (one that ended without a word: a crash, a lost
    /// answer): what it asked for may be done already.
    pub claimed_before: bool,
    /// What to do.
    pub work: Work,
}

/// The work of a claimed job.
#[derive(Debug, Clone)]
pub enum Work {
    /// Register this call.
    Register(CallRow),
    /// Upload and attach.
    Attach {
        /// What to attach where.
        payload: AttachPayload,
        /// The target, with the task resolved when it is a stored call.
        resolved: AttachTarget,
    },
    /// Find a recording and queue it.
    Pickup(PickupPayload),
    /// Post a comment (unless an earlier attempt did).
    Comment {
        /// What to post where.
        payload: CommentPayload,
        /// The call, for a call's outcome (which may go as its fields instead).
        call: Option<Box<CallRequest>>,
    },
}

/// A job's kind is bound as a parameter, never spelled in SQL.
impl ToSql for JobKind {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for JobKind {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let name = value.as_str()?;
        Self::from_name(name)
            .ok_or_else(|| FromSqlError::Other(format!("unknown job kind {name}").into()))
    }
}

impl ToSql for JobState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

/// The open database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The file opened (device and inode on Unix): a write never goes into a file that was
    /// removed or replaced meanwhile.
    identity: Option<(u64, u64)>,
    /// Why the real outbox could not be opened, for a stand-in that refuses every change.
    unusable: Option<String>,
    /// Which processes working on this outbox are alive (for their claims).
    owners: Owners,
}

/// The file's device and inode, where the platform has them.
fn identity(path: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(path).ok().map(|_| (0, 0))
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// `path` with `suffix` added to its name (SQLite's `-wal` and `-shm` files).
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// How long a write waits for another program's lock on the database.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_waiting(path, BUSY_WAIT)
    }

    /// Opens the database at `path`, waiting at most `busy` for another program's lock on
    /// it (a stand-in trying again waits a moment, not the usual [`BUSY_WAIT`]).
    pub fn open_waiting(path: &Path, busy: std::time::Duration) -> Result<Self, StoreError> {
        // A pipe or device where the database or its log goes is named, never opened.
        for file in [
            path.to_path_buf(),
            sidecar(path, "-wal"),
            sidecar(path, "-shm"),
        ] {
            if let Ok(meta) = std::fs::metadata(&file)
                && !meta.is_file()
            {
                return Err(StoreError::NotAFile {
                    what: crate::platform::files::kind_of(&meta).to_owned(),
                    path: file,
                });
            }
        }
        Self::open_writable(path, busy).map_err(|e| {
            // SQLite says "cannot open" when the folder cannot be written to: say which.
            let unwritable = path.parent().is_some_and(|dir| {
                dir.exists()
                    && tempfile::tempfile_in(dir).is_err_and(|e| {
                        matches!(
                            e.kind(),
                            std::io::ErrorKind::ReadOnlyFilesystem
                                | std::io::ErrorKind::PermissionDenied
                        )
                    })
            });
            if unwritable {
                StoreError::ReadOnly(path.to_path_buf())
            } else {
                e
            }
        })
    }

    fn open_writable(path: &Path, busy: std::time::Duration) -> Result<Self, StoreError> {
        let err = |source| StoreError::Sqlite {
            source,
            path: path.to_path_buf(),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        }
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(busy).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        // 512 KiB of pages (SQLite's default is 2 MiB): the outbox is small, its queries go
        // by index and the OS caches the file anyway; a long day should not grow the
        // process for it.
        conn.pragma_update(None, "cache_size", -512).map_err(err)?;
        // The statements a ringing call and the index use are kept prepared (room to spare).
        conn.set_prepared_statement_cache_capacity(32);
        let mut conn = conn;
        migrate(&mut conn, path)?;
        conn.busy_timeout(BUSY_WAIT).map_err(err)?;
        let owners = Owners::of(path);
        if let Err(e) = owners.register() {
            tracing::warn!(error = %e, "other processes cannot tell this one is alive; its claims wait out their lease");
        }
        let store = Self {
            conn,
            path: path.to_path_buf(),
            identity: identity(path),
            unusable: None,
            owners,
        };
        store.forget_ended_owners();
        Ok(store)
    }

    /// A stand-in for an outbox that cannot be opened (`why`): empty, and refusing every
    /// change with the reason, so the instance runs and says so instead of not starting.
    pub fn unusable(path: &Path, why: String) -> Result<Self, StoreError> {
        let err = |source| StoreError::Sqlite {
            source,
            path: path.to_path_buf(),
        };
        let mut conn = Connection::open_in_memory().map_err(err)?;
        migrate(&mut conn, path)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            identity: None,
            unusable: Some(why),
            owners: Owners::of(path),
        })
    }

    /// Whether this is a stand-in ([`Store::unusable`]).
    pub fn is_stand_in(&self) -> bool {
        self.unusable.is_some()
    }

    fn sql(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            source,
            path: self.path.clone(),
        }
    }

    /// Refuses a write into a stand-in or into a file removed or replaced meanwhile.
    fn writable(&self) -> Result<(), StoreError> {
        if let Some(why) = &self.unusable {
            return Err(StoreError::Unusable(why.clone()));
        }
        if identity(&self.path) != self.identity {
            return Err(StoreError::Gone(self.path.clone()));
        }
        Ok(())
    }

    /// Runs `write` with commits that do not wait for the disk: they survive the process
    /// being killed, not a power cut. Only for writes whose cause is on disk already (a
    /// heard event, kept in the journal until what it asked for is stored): the next
    /// ordinary commit — the one that forgets the event — syncs them first.
    pub fn relaxed<T>(
        &mut self,
        write: impl FnOnce(&mut Self) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn
            .prepare_cached("PRAGMA synchronous = NORMAL")
            .and_then(|mut st| st.execute([]))
            .map_err(|e| self.sql(e))?;
        let out = write(self);
        let restored = self
            .conn
            .prepare_cached("PRAGMA synchronous = FULL")
            .and_then(|mut st| st.execute([]))
            .map(drop);
        match (out, restored) {
            (out, Ok(())) => out,
            (_, Err(e)) => Err(self.sql(e)),
        }
    }

    fn tx(&mut self) -> Result<Transaction<'_>, StoreError> {
        self.writable()?;
        let path = self.path.clone();
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|source| StoreError::Sqlite { source, path })
    }
}

fn call_row(
    (id, request, registration): (i64, String, Option<String>),
) -> Result<CallRow, StoreError> {
    Ok(CallRow {
        id,
        request: serde_json::from_str(&request).map_err(corrupt)?,
        registration: registration
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(corrupt)?,
    })
}

fn load_call(conn: &Connection, call_id: i64) -> Result<CallRow, StoreError> {
    let row = conn
        .prepare_cached("SELECT id, request, registration FROM calls WHERE id = ?1")
        .and_then(|mut st| {
            st.query_row([call_id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
        })
        .map_err(|e| db_err(&e))?;
    call_row(row)
}

/// A new claim token.
fn new_token() -> i64 {
    rand::random::<i64>() & i64::MAX
}

#[cfg(test)]
mod tests {
    use super::testing::{call, store};
    use super::{Store, StoreError};

    #[test]
    fn a_damaged_outbox_says_so_and_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite3");
        std::io::Write::write_all(&mut std::fs::File::create(&path).unwrap(), &[0x5a_u8; 8192])
            .unwrap();
        let err = Store::open(&path).unwrap_err().to_string();
        assert!(err.contains("file is damaged: move it away"), "{err}");
        assert!(err.contains("outbox.sqlite3"), "{err}");
    }

    #[test]
    fn nothing_is_written_into_a_file_removed_meanwhile() {
        let (dir, mut s) = store();
        s.insert_call(&call("c-6"), None, 0).unwrap();
        std::fs::remove_file(dir.path().join("outbox.sqlite3")).unwrap();
        let err = s.insert_call(&call("c-7"), None, 1).unwrap_err();
        assert!(matches!(err, StoreError::Gone(_)), "{err}");
        assert!(err.to_string().contains("removed or replaced"), "{err}");
    }
}
