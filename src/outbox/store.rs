//! The outbox database: calls and jobs in SQLite (WAL), every change in one transaction.
//!
//! Synchronous; [`super::Outbox`] calls it from blocking threads. Several processes (the
//! window and CLI commands) may share one file: a job is claimed with a lease inside an
//! immediate transaction, so only one of them sends it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension as _, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use super::owners::Owners;
use crate::domain::{
    AttachTarget, CallLife, CallQuery, CallRecord, CallRequest, Direction, ExternalId, JobBrief,
    JobId, JobKind, JobState, JobView, LINE_NUMBER_MISSING, Mapping, PhoneNumber, QUERY_LIMIT,
    RecordingBrief, Registration,
};

/// The database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed: what it means and what to do, then the file.
    #[error("the outbox {} — {path}", sqlite_advice(source))]
    Sqlite {
        /// What SQLite said.
        source: rusqlite::Error,
        /// The database file.
        path: PathBuf,
    },
    /// The outbox could not be opened; nothing can be stored until that is fixed.
    #[error("{0}")]
    Unusable(String),
    /// The outbox's folder cannot be written to.
    #[error(
        "the outbox is on a read-only disk or in a folder that may not be written to: make it writable, or point PYRUS_PHONE_HOME at a writable folder — {0}"
    )]
    ReadOnly(PathBuf),
    /// The file was removed or replaced while it was open.
    #[error(
        "the outbox file was removed or replaced while pyrus-phone ran; nothing more is written to it: restart pyrus-phone — {0}"
    )]
    Gone(PathBuf),
    /// A change could not be written (read-only, full disk, damaged file…).
    #[error("the outbox {0}")]
    Write(String),
    /// A stored row could not be read back.
    #[error("the outbox database holds a row it cannot read ({0}); report this with the log file")]
    Corrupt(String),
    /// The database was written by a newer pyrus-phone.
    #[error(
        "the outbox database was written by a newer pyrus-phone (schema {found}, this one knows up to {known}): run the newer version, or move the file away to start empty — {path}"
    )]
    TooNew {
        /// The database's schema version.
        found: u32,
        /// The newest this build knows.
        known: u32,
        /// The database file.
        path: PathBuf,
    },
    /// No such job.
    #[error("there is no job {0} in the outbox: see `pyrus-phone queue`")]
    NoSuchJob(JobId),
    /// The job is in a state the action does not apply to.
    #[error(
        "job {job} is {state}: only pending, failed or parked jobs can be retried or discarded"
    )]
    WrongState {
        /// The job.
        job: JobId,
        /// Its state.
        state: String,
    },
}

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
}

/// A due job as read for claiming: id, kind, call id, payload, attempts.
type DueRow = (i64, String, Option<i64>, Option<String>, u32);

/// The schema, one migration per version: migration `i` takes a database from version `i`
/// to `i + 1`. A database is at version 0 when new (or made before versions were kept: the
/// first migration creates only what is missing). Append, never edit.
const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE IF NOT EXISTS calls (
    id              INTEGER PRIMARY KEY,
    external_id     TEXT NOT NULL UNIQUE,
    request         TEXT NOT NULL,
    created_ms      INTEGER NOT NULL,
    task_id         INTEGER,
    registration    TEXT
);
CREATE TABLE IF NOT EXISTS jobs (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    call_id         INTEGER REFERENCES calls(id),
    payload         TEXT,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_ms         INTEGER NOT NULL,
    lease_ms        INTEGER,
    owner_pid       INTEGER,
    error_code      TEXT,
    error_message   TEXT,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs(state, next_ms);
CREATE INDEX IF NOT EXISTS jobs_call ON jobs(call_id);
",
    // Jobs are claimed per lane (kind) and by due time.
    "CREATE INDEX IF NOT EXISTS jobs_lane ON jobs(kind, state, next_ms);",
    // Each claim gets a token: only the attempt holding it may finish the job, so an attempt
    // that outlived its lease cannot overwrite the one that took over.
    "ALTER TABLE jobs ADD COLUMN claim INTEGER;",
    // Heard events, stored before they are acknowledged, until they are handled.
    "CREATE TABLE IF NOT EXISTS journal (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        event        TEXT NOT NULL,
        external_id  TEXT NOT NULL,
        received_ms  INTEGER NOT NULL
     );",
    // Requests to Pyrus per ten minutes, counted by every process that shares the outbox.
    "CREATE TABLE IF NOT EXISTS rate (
        window    INTEGER PRIMARY KEY,
        requests  INTEGER NOT NULL
     );",
    // What the softphone said of the call: rang, answered, ended (Unix ms).
    "ALTER TABLE calls ADD COLUMN started_ms INTEGER;
     ALTER TABLE calls ADD COLUMN answered_ms INTEGER;
     ALTER TABLE calls ADD COLUMN ended_ms INTEGER;
     CREATE INDEX IF NOT EXISTS calls_created ON calls (created_ms);",
    // A discard can be taken back for a little while: the state it had before.
    "ALTER TABLE jobs ADD COLUMN undo_state TEXT;",
];

/// How long after a discard it can be taken back.
pub const UNDO_MS: i64 = 10_000;

/// Pyrus allows 5,000 requests per ten minutes per user; every process sharing this outbox
/// stays under this many together (some room is left for the rest of the agent's tools).
pub const RATE_BUDGET: i64 = 4_500;

/// The rate limit's window.
pub const RATE_WINDOW_MS: i64 = 10 * 60 * 1000;

/// The requests a job of `kind` makes (an attach uploads, then attaches).
fn requests_of(kind: &str) -> i64 {
    match kind {
        "register" => 1,
        "attach" => 2,
        _ => 0,
    }
}

/// Counts `cost` requests in the current window; false (nothing counted) when they would
/// go over the budget.
fn spend(tx: &Transaction<'_>, cost: i64, now_ms: i64, force: bool) -> Result<bool, StoreError> {
    if cost == 0 {
        return Ok(true);
    }
    let window = now_ms / RATE_WINDOW_MS;
    let used: i64 = tx
        .query_row(
            "SELECT requests FROM rate WHERE window = ?1",
            [window],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| db_err(&e))?
        .unwrap_or(0);
    if used + cost > RATE_BUDGET && !force {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO rate (window, requests) VALUES (?1, ?2)
         ON CONFLICT(window) DO UPDATE SET requests = requests + ?2",
        params![window, cost],
    )
    .map_err(|e| db_err(&e))?;
    tx.execute("DELETE FROM rate WHERE window < ?1", [window - 1])
        .map_err(|e| db_err(&e))?;
    Ok(true)
}

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Brings the database to [`SCHEMA_VERSION`] in one transaction; refuses a newer one.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let err = |source| StoreError::Sqlite {
        source,
        path: path.to_path_buf(),
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err)?;
    let found: u32 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(err)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found,
            known: SCHEMA_VERSION,
            path: path.to_path_buf(),
        });
    }
    for step in MIGRATIONS.iter().skip(found as usize) {
        tx.execute_batch(step).map_err(err)?;
    }
    if found < SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(err)?;
    }
    tx.commit().map_err(err)
}

/// Which jobs a send loop claims: registrations never wait behind an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// `integrations/call`: short requests that open tasks.
    Register,
    /// Upload and attach recordings: long transfers, one at a time.
    Upload,
    /// Find ended calls' recordings on this computer (no network; the instance that heard
    /// the call runs them).
    Pickup,
}

impl Lane {
    /// The lanes that talk to Pyrus (what the CLI sends).
    pub const NETWORK: [Self; 2] = [Self::Register, Self::Upload];

    fn kind(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Upload => "attach",
            Self::Pickup => "pickup",
        }
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

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_writable(path).map_err(|e| {
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

    fn open_writable(path: &Path) -> Result<Self, StoreError> {
        let err = |source| StoreError::Sqlite {
            source,
            path: path.to_path_buf(),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        }
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        let mut conn = conn;
        migrate(&mut conn, path)?;
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

    fn tx(&mut self) -> Result<Transaction<'_>, StoreError> {
        self.writable()?;
        let path = self.path.clone();
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|source| StoreError::Sqlite { source, path })
    }

    /// Stores a call and its registration job in one transaction. The call must carry
    /// its external id.
    ///
    /// With `hold` (an error code and message), the job is kept as `held` until the setting
    /// it names is made (see [`Store::fill_line`]).
    pub fn insert_call(
        &mut self,
        call: &CallRequest,
        hold: Option<(&str, &str)>,
        now_ms: i64,
    ) -> Result<(i64, JobId), StoreError> {
        let (call_id, job, _) = self.insert_call_as(call, hold, None, now_ms)?;
        Ok((call_id, job))
    }

    /// Stores a call and its registration job already claimed by this process (leased until
    /// `lease_ms`), in one transaction: the caller sends it at once, without a claim round
    /// trip; if this process dies first, the job is taken back like any orphaned claim.
    pub fn insert_call_claimed(
        &mut self,
        call: &CallRequest,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Claimed, StoreError> {
        let token = new_token();
        let (_, job, row) = self.insert_call_as(call, None, Some((lease_ms, token)), now_ms)?;
        Ok(Claimed {
            job,
            token,
            attempts: 0,
            work: Work::Register(row),
        })
    }

    /// The live registration job of the call stored under `external_id` (not discarded),
    /// if there is one: a heard call handled again after a crash finds its first one.
    pub fn live_registration(&self, external_id: &ExternalId) -> Result<Option<JobId>, StoreError> {
        self.conn
            .query_row(
                "SELECT j.id FROM jobs j JOIN calls c ON c.id = j.call_id
                 WHERE c.external_id = ?1 AND j.kind = 'register' AND j.state != 'discarded'
                 ORDER BY j.id DESC LIMIT 1",
                [external_id.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map(|id| id.map(JobId))
            .map_err(|e| self.sql(e))
    }

    fn insert_call_as(
        &mut self,
        call: &CallRequest,
        hold: Option<(&str, &str)>,
        claim: Option<(i64, i64)>,
        now_ms: i64,
    ) -> Result<(i64, JobId, CallRow), StoreError> {
        let external = call
            .external_id
            .as_ref()
            .ok_or_else(|| corrupt("a call without an external id"))?
            .as_str()
            .to_owned();
        let request = serde_json::to_string(call).map_err(corrupt)?;
        let tx = self.tx()?;
        let existing: Option<i64> = tx
            .query_row(
                "SELECT id FROM calls WHERE external_id = ?1",
                [&external],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| db_err(&e))?;
        let call_id = if let Some(id) = existing {
            id
        } else {
            tx.execute(
                "INSERT INTO calls (external_id, request, created_ms) VALUES (?1, ?2, ?3)",
                params![external, request, now_ms],
            )
            .map_err(|e| db_err(&e))?;
            tx.last_insert_rowid()
        };
        let (state, code, message) = match (hold, claim) {
            (Some((code, message)), _) => ("held", Some(code), Some(message)),
            (None, Some(_)) => ("running", None, None),
            (None, None) => ("pending", None, None),
        };
        let owner = claim.map(|_| std::process::id());
        let (lease_ms, token) = claim.unzip();
        tx.execute(
            "INSERT INTO jobs (kind, call_id, state, next_ms, created_ms, updated_ms, error_code, error_message, lease_ms, owner_pid, claim)
             VALUES ('register', ?1, ?3, ?2, ?2, ?2, ?4, ?5, ?6, ?7, ?8)",
            params![call_id, now_ms, state, code, message, lease_ms, owner, token],
        )
        .map_err(|e| db_err(&e))?;
        let job = JobId(tx.last_insert_rowid());
        // A call sent at once is counted (never held back: it is one call, now).
        if claim.is_some() {
            spend(&tx, requests_of("register"), now_ms, true)?;
        }
        let row = load_call(&tx, call_id)?;
        tx.commit().map_err(|e| db_err(&e))?;
        Ok((call_id, job, row))
    }

    /// Stores heard events (JSON) in one transaction, before anyone is told they were
    /// accepted, and forgets the ones handled since; returns the new events' ids in order.
    pub fn journal(
        &mut self,
        events: &[(String, String)],
        handled: &[i64],
        now_ms: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let tx = self.tx()?;
        for id in handled {
            tx.execute("DELETE FROM journal WHERE id = ?1", [id])
                .map_err(|e| db_err(&e))?;
        }
        let mut ids = Vec::with_capacity(events.len());
        for (event, external_id) in events {
            tx.execute(
                "INSERT INTO journal (event, external_id, received_ms) VALUES (?1, ?2, ?3)",
                params![event, external_id, now_ms],
            )
            .map_err(|e| db_err(&e))?;
            ids.push(tx.last_insert_rowid());
        }
        tx.commit().map_err(|e| db_err(&e))?;
        Ok(ids)
    }

    /// Heard events not handled yet (a crash or a stop came first), oldest first.
    pub fn journal_open(&self) -> Result<Vec<(i64, String, String, i64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, event, external_id, received_ms FROM journal ORDER BY id")
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(|e| self.sql(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))
    }

    /// Finds a stored call by external id.
    pub fn call_by_external_id(&self, id: &ExternalId) -> Result<Option<CallRow>, StoreError> {
        self.conn
            .query_row(
                "SELECT id, request, registration FROM calls WHERE external_id = ?1",
                [id.as_str()],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.sql(e))?
            .map(call_row)
            .transpose()
    }

    /// Stores an attach job.
    pub fn insert_attach(
        &mut self,
        payload: &AttachPayload,
        now_ms: i64,
    ) -> Result<JobId, StoreError> {
        let call_id = payload.target.call_id();
        let json = serde_json::to_string(payload).map_err(corrupt)?;
        let tx = self.tx()?;
        let job = insert_job(&tx, "attach", call_id, &json, now_ms)?;
        tx.commit().map_err(|e| db_err(&e))?;
        Ok(job)
    }

    /// Stores a pickup job: look for an ended call's recording. A call gets one pickup: a
    /// repeated end finds the one already stored.
    pub fn insert_pickup(
        &mut self,
        payload: &PickupPayload,
        now_ms: i64,
    ) -> Result<JobId, StoreError> {
        let call_id = payload.target.call_id();
        let json = serde_json::to_string(payload).map_err(corrupt)?;
        let tx = self.tx()?;
        if let Some(id) = call_id {
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT id FROM jobs WHERE kind = 'pickup' AND call_id = ?1 AND state != 'discarded'",
                    [id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| db_err(&e))?;
            if let Some(job) = existing {
                return Ok(JobId(job));
            }
        }
        let job = insert_job(&tx, "pickup", call_id, &json, now_ms)?;
        tx.commit().map_err(|e| db_err(&e))?;
        Ok(job)
    }

    /// Finishes a pickup and, in the same transaction, queues what it found: a recording is
    /// attached exactly once, however often the pickup was interrupted before.
    pub fn complete_pickup(
        &mut self,
        job: JobId,
        token: i64,
        found: Option<&AttachPayload>,
        now_ms: i64,
    ) -> Result<Option<JobId>, StoreError> {
        let tx = self.tx()?;
        let done = tx
            .execute(
                "UPDATE jobs SET state = 'done', lease_ms = NULL, error_code = NULL,
                        error_message = NULL, updated_ms = ?2
                 WHERE id = ?1 AND kind = 'pickup' AND state = 'running' AND claim = ?3",
                params![job.0, now_ms, token],
            )
            .map_err(|e| db_err(&e))?;
        if done == 0 {
            // Discarded or taken over meanwhile: queue nothing.
            return Err(job_state_error(&tx, job));
        }
        let attach = match found {
            Some(payload) => {
                let call_id = payload.target.call_id();
                let json = serde_json::to_string(payload).map_err(corrupt)?;
                let attach = insert_job(&tx, "attach", call_id, &json, now_ms)?;
                // The call's registration may have been discarded, or failed for good, meanwhile.
                tx.execute(
                    "UPDATE jobs SET state = 'discarded'
                     WHERE id = ?1 AND EXISTS (SELECT 1 FROM jobs r WHERE r.call_id = ?2
                                               AND r.kind = 'register' AND r.state = 'discarded')",
                    params![attach.0, call_id],
                )
                .map_err(|e| db_err(&e))?;
                tx.execute(
                    "UPDATE jobs SET state = 'failed', error_code = 'registration_failed',
                     error_message = 'the call could not be registered: retry or discard its registration first'
                     WHERE id = ?1 AND state = 'pending'
                       AND EXISTS (SELECT 1 FROM jobs r WHERE r.call_id = ?2
                                   AND r.kind = 'register' AND r.state = 'failed')",
                    params![attach.0, call_id],
                )
                .map_err(|e| db_err(&e))?;
                Some(attach)
            }
            None => None,
        };
        tx.commit().map_err(|e| db_err(&e))?;
        Ok(attach)
    }

    /// Claims the next due job (a pending one whose time has come, or a running one whose
    /// lease ran out), leasing it until `lease_ms`.
    pub fn claim_due(
        &mut self,
        lane: Lane,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<Claimed>, StoreError> {
        self.claim_where("j.kind = ?2", lane.kind(), now_ms, lease_ms)
    }

    /// Claims one job, if it is due now (a CLI command sends its own job, not others').
    pub fn claim_job(
        &mut self,
        job: JobId,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<Claimed>, StoreError> {
        self.claim_where("j.id = ?2", job.0, now_ms, lease_ms)
    }

    /// The registration a job waits for: its call's register job, while the call has no
    /// task yet.
    pub fn waits_for(&self, job: JobId) -> Result<Option<JobId>, StoreError> {
        self.conn
            .query_row(
                "SELECT r.id FROM jobs a
                 JOIN calls c ON c.id = a.call_id
                 JOIN jobs r ON r.call_id = a.call_id AND r.kind = 'register'
                 WHERE a.id = ?1 AND a.kind = 'attach' AND c.task_id IS NULL
                 ORDER BY r.id DESC LIMIT 1",
                [job.0],
                |r| r.get(0),
            )
            .optional()
            .map(|id| id.map(JobId))
            .map_err(|e| self.sql(e))
    }

    fn claim_where(
        &mut self,
        filter: &str,
        value: impl rusqlite::ToSql,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<Claimed>, StoreError> {
        let tx = self.tx()?;
        let row: Option<DueRow> = tx
            .query_row(
                &format!(
                    "SELECT j.id, j.kind, j.call_id, j.payload, j.attempts FROM jobs j
                     LEFT JOIN calls c ON c.id = j.call_id
                     WHERE {filter}
                       AND ((j.state = 'pending' AND j.next_ms <= ?1)
                            OR (j.state = 'running' AND j.lease_ms < ?1))
                       AND (j.kind IN ('register', 'pickup') OR j.call_id IS NULL OR c.task_id IS NOT NULL)
                     ORDER BY j.next_ms, j.id LIMIT 1"
                ),
                params![now_ms, value],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(|e| db_err(&e))?;
        let Some((id, kind, call_id, payload, attempts)) = row else {
            return Ok(None);
        };
        let job = JobId(id);
        // Read the row before claiming it: one that cannot be read is set aside as failed,
        // with why, and the next one is claimed — it never stops the rest.
        let work = (|| {
            let call = match call_id {
                Some(cid) => Some(load_call(&tx, cid)?),
                None => None,
            };
            read_work(&kind, payload.as_deref(), call)
        })();
        let work = match work {
            Ok(work) => work,
            // Only a row that cannot be decoded is poison; a failing disk is not the job's
            // fault (the claim is rolled back and the error reported).
            Err(e @ StoreError::Corrupt(_)) => {
                tracing::error!(%job, error = %e, "a job that cannot be read is set aside");
                tx.execute(
                    "UPDATE jobs SET state = 'failed', lease_ms = NULL, error_code = 'unreadable',
                            error_message = ?2, updated_ms = ?3 WHERE id = ?1",
                    params![
                        id,
                        format!("this job cannot be read ({e}); discard it — the others are sent as usual"),
                        now_ms
                    ],
                )
                .map_err(|e| db_err(&e))?;
                // Recordings waiting on a registration that cannot be read wait no longer.
                tx.execute(
                    "UPDATE jobs SET state = 'failed', error_code = 'registration_failed',
                     error_message = 'the call could not be registered: retry or discard its registration first',
                     updated_ms = ?2
                     WHERE kind = 'attach' AND state = 'pending' AND ?3 = 'register' AND call_id = ?4",
                    params![id, now_ms, kind, call_id],
                )
                .map_err(|e| db_err(&e))?;
                tx.commit().map_err(|e| db_err(&e))?;
                return self.claim_where(filter, value, now_ms, lease_ms);
            }
            Err(e) => return Err(e),
        };
        // Over this window's budget: the job waits for the next window.
        if !spend(&tx, requests_of(&kind), now_ms, false)? {
            let next_window = (now_ms / RATE_WINDOW_MS + 1) * RATE_WINDOW_MS;
            tracing::warn!(%job, "the rate limit's budget is spent; waiting for the next window");
            tx.execute(
                "UPDATE jobs SET state = 'pending', next_ms = ?2, lease_ms = NULL WHERE id = ?1",
                params![id, next_window],
            )
            .map_err(|e| db_err(&e))?;
            tx.commit().map_err(|e| db_err(&e))?;
            return Ok(None);
        }
        let token = new_token();
        tx.execute(
            "UPDATE jobs SET state = 'running', lease_ms = ?2, owner_pid = ?4, updated_ms = ?3, claim = ?5 WHERE id = ?1",
            params![id, lease_ms, now_ms, std::process::id(), token],
        )
        .map_err(|e| db_err(&e))?;
        tx.commit().map_err(|e| db_err(&e))?;
        Ok(Some(Claimed {
            job,
            token,
            attempts,
            work,
        }))
    }

    /// Extends a running job's lease (long uploads).
    /// Extends a running job's lease while its claim still holds; false when it was taken
    /// over (the attempt should stop).
    pub fn renew_lease(
        &mut self,
        job: JobId,
        token: i64,
        lease_ms: i64,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        let n = self
            .conn
            .execute(
                "UPDATE jobs SET lease_ms = ?2 WHERE id = ?1 AND state = 'running' AND claim = ?3",
                params![job.0, lease_ms, token],
            )
            .map_err(|e| self.sql(e))?;
        Ok(n == 1)
    }

    /// Records a registration and finishes its job, in one transaction.
    pub fn complete_register(
        &mut self,
        job: JobId,
        token: i64,
        call_id: i64,
        registration: &Registration,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(registration).map_err(corrupt)?;
        let tx = self.tx()?;
        // An attempt that outlived its lease does not replace the registration of the one
        // that took over; it fills it in only if there is none.
        let ours = finish(&tx, job, Some(token), JobState::Done, None, now_ms)? == 1;
        tx.execute(
            "UPDATE calls SET task_id = ?2, registration = ?3 WHERE id = ?1 AND (?4 OR task_id IS NULL)",
            params![call_id, registration.task_id as i64, json, ours],
        )
        .map_err(|e| db_err(&e))?;
        // Attach jobs waiting on this call may run now.
        tx.execute(
            "UPDATE jobs SET next_ms = MIN(next_ms, ?2) WHERE call_id = ?1 AND kind = 'attach' AND state = 'pending'",
            params![call_id, now_ms],
        )
        .map_err(|e| db_err(&e))?;
        tx.commit().map_err(|e| db_err(&e))
    }

    /// Saves the uploaded file's guid so a retry attaches without uploading again.
    pub fn save_file_guid(
        &mut self,
        job: JobId,
        token: i64,
        payload: &AttachPayload,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.writable()?;
        let json = serde_json::to_string(payload).map_err(corrupt)?;
        self.conn
            .execute(
                "UPDATE jobs SET payload = ?2, updated_ms = ?3
                 WHERE id = ?1 AND state = 'running' AND claim = ?4",
                params![job.0, json, now_ms, token],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Marks a job done.
    pub fn complete(&mut self, job: JobId, token: i64, now_ms: i64) -> Result<(), StoreError> {
        let tx = self.tx()?;
        finish(&tx, job, Some(token), JobState::Done, None, now_ms)?;
        tx.commit().map_err(|e| db_err(&e))
    }

    /// Puts a claimed job back in the queue for `next_ms`, counting the failed attempt
    /// (nothing, when the claim was taken over meanwhile).
    pub fn reschedule(
        &mut self,
        job: JobId,
        token: i64,
        next_ms: i64,
        error: (&str, &str),
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.writable()?;
        let n = self
            .conn
            .execute(
                "UPDATE jobs SET state = 'pending', attempts = attempts + 1, next_ms = ?2,
                 lease_ms = NULL, error_code = ?3, error_message = ?4, updated_ms = ?5
                 WHERE id = ?1 AND state = 'running' AND claim = ?6",
                params![job.0, next_ms, error.0, error.1, now_ms, token],
            )
            .map_err(|e| self.sql(e))?;
        if n == 0 {
            tracing::warn!(%job, "the job was taken over; this attempt's outcome is dropped");
        }
        Ok(())
    }

    /// Parks a job as failed or waiting for credentials, with its reason: a claimed one
    /// (`token`) only while the claim holds, an unclaimed one (`None`) as it is. A failed
    /// registration fails the attach jobs waiting on it too.
    pub fn park(
        &mut self,
        job: JobId,
        token: Option<i64>,
        state: JobState,
        error: (&str, &str),
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let tx = self.tx()?;
        if finish(&tx, job, token, state, Some(error), now_ms)? == 0 {
            return Ok(());
        }
        tx.execute(
            "UPDATE jobs SET attempts = attempts + 1 WHERE id = ?1",
            [job.0],
        )
        .map_err(|e| db_err(&e))?;
        if state == JobState::Failed {
            tx.execute(
                "UPDATE jobs SET state = 'failed', error_code = 'registration_failed',
                 error_message = 'the call could not be registered: retry or discard its registration first',
                 updated_ms = ?2
                 WHERE kind = 'attach' AND state = 'pending'
                   AND call_id = (SELECT call_id FROM jobs WHERE id = ?1 AND kind = 'register')",
                params![job.0, now_ms],
            )
            .map_err(|e| db_err(&e))?;
        }
        tx.commit().map_err(|e| db_err(&e))
    }

    /// Returns a claimed job to the queue without counting an attempt (the process is
    /// stopping or gave up waiting), while the claim holds.
    pub fn release(&mut self, job: JobId, token: i64, now_ms: i64) -> Result<(), StoreError> {
        self.writable()?;
        self.conn
            .execute(
                "UPDATE jobs SET state = 'pending', lease_ms = NULL, updated_ms = ?2
                 WHERE id = ?1 AND state = 'running' AND claim = ?3",
                params![job.0, now_ms, token],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Removes the lock files of ended processes that no claim names any more (a claim
    /// still naming one is taken up by [`Store::make_due`] first).
    fn forget_ended_owners(&self) {
        let claimers: Result<Vec<u32>, rusqlite::Error> = self
            .conn
            .prepare("SELECT DISTINCT owner_pid FROM jobs WHERE state = 'running' AND owner_pid IS NOT NULL")
            .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect());
        let Ok(claimers) = claimers else { return };
        for pid in self.owners.dead() {
            if !claimers.contains(&pid) {
                self.owners.forget(pid);
            }
        }
    }

    /// Which processes working on this outbox are alive.
    pub fn owners(&self) -> &Owners {
        &self.owners
    }

    /// Takes kept work up at a start: running jobs whose process is gone (`alive` says
    /// which are not: [`Owners::alive`]) become due now, and so do those parked for credentials (when
    /// `credentials_changed`); pending jobs keep their time. Returns how many.
    pub fn make_due(
        &mut self,
        now_ms: i64,
        credentials_changed: bool,
        alive: impl Fn(u32) -> bool,
    ) -> Result<usize, StoreError> {
        let tx = self.tx()?;
        let orphans: Vec<i64> = {
            let mut stmt = tx
                .prepare("SELECT id, owner_pid FROM jobs WHERE state = 'running'")
                .map_err(|e| db_err(&e))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, Option<u32>>(1)?))
                })
                .map_err(|e| db_err(&e))?;
            let mut out = Vec::new();
            for row in rows {
                let (id, pid) = row.map_err(|e| db_err(&e))?;
                if pid.is_none_or(|p| !alive(p)) {
                    out.push(id);
                }
            }
            out
        };
        for id in &orphans {
            tx.execute(
                "UPDATE jobs SET state = 'pending', lease_ms = NULL, owner_pid = NULL, next_ms = ?2 WHERE id = ?1",
                params![id, now_ms],
            )
            .map_err(|e| db_err(&e))?;
        }
        // Pending jobs keep their time (backoff, Retry-After): a new process does not hammer
        // a Pyrus that asked to wait.
        let mut n = orphans.len();
        if credentials_changed {
            n += tx
                .execute(
                    "UPDATE jobs SET state = 'pending', next_ms = ?1, updated_ms = ?1 WHERE state = 'needs_credentials'",
                    [now_ms],
                )
                .map_err(|e| db_err(&e))?;
        }
        tx.commit().map_err(|e| db_err(&e))?;
        Ok(n)
    }

    /// Puts a failed, parked or pending job (and attach jobs waiting on it) back in the
    /// queue, due now.
    pub fn retry(&mut self, job: JobId, now_ms: i64) -> Result<(), StoreError> {
        let tx = self.tx()?;
        retry_in(&tx, job, now_ms)?;
        tx.commit().map_err(|e| db_err(&e))
    }

    /// Replaces a failed (or waiting) call's request with a corrected one and sends it
    /// again: the call keeps its external id, and its registration is due now.
    pub fn resend(
        &mut self,
        job: JobId,
        mut call: CallRequest,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let tx = self.tx()?;
        let found: Option<(i64, String)> = tx
            .query_row(
                "SELECT c.id, c.external_id FROM jobs j JOIN calls c ON c.id = j.call_id
                 WHERE j.id = ?1 AND j.kind = 'register'
                   AND j.state IN ('pending', 'failed', 'needs_credentials')",
                [job.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| db_err(&e))?;
        let Some((call_id, external)) = found else {
            return Err(job_state_error(&tx, job));
        };
        call.external_id = Some(ExternalId::parse(&external).map_err(corrupt)?);
        let request = serde_json::to_string(&call).map_err(corrupt)?;
        tx.execute(
            "UPDATE calls SET request = ?2 WHERE id = ?1",
            params![call_id, request],
        )
        .map_err(|e| db_err(&e))?;
        retry_in(&tx, job, now_ms)?;
        tx.commit().map_err(|e| db_err(&e))
    }

    /// Discards a job the agent gave up on (and attach jobs waiting on it). The row stays,
    /// marked discarded.
    pub fn discard(&mut self, job: JobId, now_ms: i64) -> Result<(), StoreError> {
        let tx = self.tx()?;
        let n = tx
            .execute(
                "UPDATE jobs SET undo_state = state, state = 'discarded', lease_ms = NULL,
                        updated_ms = ?2
                 WHERE id = ?1 AND state IN ('pending', 'failed', 'needs_credentials', 'held')",
                params![job.0, now_ms],
            )
            .map_err(|e| db_err(&e))?;
        if n == 0 {
            return Err(job_state_error(&tx, job));
        }
        tx.execute(
            "UPDATE jobs SET undo_state = state, state = 'discarded', updated_ms = ?2
             WHERE kind IN ('attach', 'pickup') AND state IN ('pending', 'failed')
               AND call_id = (SELECT call_id FROM jobs WHERE id = ?1 AND kind = 'register')",
            params![job.0, now_ms],
        )
        .map_err(|e| db_err(&e))?;
        tx.commit().map_err(|e| db_err(&e))
    }

    /// Takes back a discard made less than [`UNDO_MS`] ago: the job (and the recordings it
    /// took with it) return to the state they had, due now.
    pub fn undiscard(&mut self, job: JobId, now_ms: i64) -> Result<(), StoreError> {
        let tx = self.tx()?;
        let found: Option<(Option<i64>, String, i64)> = tx
            .query_row(
                "SELECT call_id, kind, updated_ms FROM jobs
                 WHERE id = ?1 AND state = 'discarded' AND undo_state IS NOT NULL
                   AND updated_ms >= ?2",
                params![job.0, now_ms - UNDO_MS],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| db_err(&e))?;
        let Some((call_id, kind, discarded_ms)) = found else {
            return Err(job_state_error(&tx, job));
        };
        let back = "SET state = undo_state, undo_state = NULL, lease_ms = NULL,
                        next_ms = MIN(next_ms, ?2), updated_ms = ?2";
        if kind == "register" {
            // The recordings it took with it, in the same discard.
            tx.execute(
                &format!(
                    "UPDATE jobs {back} WHERE kind IN ('attach', 'pickup') AND call_id = ?1
                       AND state = 'discarded' AND undo_state IS NOT NULL AND updated_ms = ?3"
                ),
                params![call_id, now_ms, discarded_ms],
            )
            .map_err(|e| db_err(&e))?;
        }
        tx.execute(
            &format!("UPDATE jobs {back} WHERE id = ?1"),
            params![job.0, now_ms],
        )
        .map_err(|e| db_err(&e))?;
        tx.commit().map_err(|e| db_err(&e))
    }

    /// Hands back every job `pid` holds as running, due now; returns how many.
    pub fn release_owned(&mut self, pid: u32, now_ms: i64) -> Result<usize, StoreError> {
        self.writable()?;
        self.conn
            .execute(
                "UPDATE jobs SET state = 'pending', lease_ms = NULL, owner_pid = NULL,
                        next_ms = MIN(next_ms, ?2), updated_ms = ?2
                 WHERE state = 'running' AND owner_pid = ?1",
                params![pid, now_ms],
            )
            .map_err(|e| self.sql(e))
    }

    /// Completes calls held for this line's number with `line` (the callee of an incoming
    /// call, the caller of an outgoing one) and makes them due; returns how many.
    pub fn fill_line(&mut self, line: &PhoneNumber, now_ms: i64) -> Result<usize, StoreError> {
        let tx = self.tx()?;
        let held: Vec<(i64, i64)> = {
            let mut stmt = tx
                .prepare(
                    "SELECT id, call_id FROM jobs WHERE kind = 'register' AND state = 'held'
                       AND error_code = ?1 AND call_id IS NOT NULL",
                )
                .map_err(|e| db_err(&e))?;
            let rows = stmt
                .query_map([LINE_NUMBER_MISSING], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(|e| db_err(&e))?;
            rows.collect::<Result<_, _>>().map_err(|e| db_err(&e))?
        };
        for (job, call_id) in &held {
            let mut call = load_call(&tx, *call_id)?.request;
            match call.direction {
                Direction::Outgoing => call.from = line.clone(),
                Direction::Incoming | Direction::Unknown => call.to = line.clone(),
            }
            let request = serde_json::to_string(&call).map_err(corrupt)?;
            tx.execute(
                "UPDATE calls SET request = ?2 WHERE id = ?1",
                params![call_id, request],
            )
            .map_err(|e| db_err(&e))?;
            tx.execute(
                "UPDATE jobs SET state = 'pending', next_ms = ?2, updated_ms = ?2,
                        error_code = NULL, error_message = NULL WHERE id = ?1",
                params![job, now_ms],
            )
            .map_err(|e| db_err(&e))?;
        }
        tx.commit().map_err(|e| db_err(&e))?;
        Ok(held.len())
    }

    /// When the next pending job falls due (Unix ms), if any can run.
    pub fn next_due_ms(&self, lane: Option<Lane>) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row(
                "SELECT MIN(CASE WHEN j.state = 'running' THEN j.lease_ms ELSE j.next_ms END) FROM jobs j
                 LEFT JOIN calls c ON c.id = j.call_id
                 WHERE j.state IN ('pending', 'running')
                   AND ((?1 IS NULL AND j.kind IN ('register', 'attach')) OR j.kind = ?1)
                   AND (j.kind IN ('register', 'pickup') OR j.call_id IS NULL OR c.task_id IS NOT NULL)",
                [lane.map(Lane::kind)],
                |r| r.get(0),
            )
            .map_err(|e| self.sql(e))
    }

    /// One job.
    pub fn job(&self, job: JobId) -> Result<JobView, StoreError> {
        self.views("WHERE j.id = ?1", [job.0])?
            .pop()
            .ok_or(StoreError::NoSuchJob(job))
    }

    /// Jobs not yet done or discarded, oldest first.
    pub fn open_jobs(&self) -> Result<Vec<JobView>, StoreError> {
        self.views(
            "WHERE j.state NOT IN ('done', 'discarded') AND ?1 = ?1",
            [0],
        )
    }

    /// The stored call for a row id.
    pub fn call(&self, call_id: i64) -> Result<CallRow, StoreError> {
        load_call(&self.conn, call_id)
    }

    /// Calls stored since `since_ms`, and older ones with work still open, newest first,
    /// each with the state of its jobs. Calls whose registration was discarded are left out.
    pub fn call_records(&self, since_ms: i64) -> Result<Vec<CallRecord>, StoreError> {
        const WANTED: &str =
            "c.created_ms >= ?1 OR EXISTS (SELECT 1 FROM jobs o WHERE o.call_id = c.id
                              AND o.state NOT IN ('done', 'discarded'))";
        self.records(WANTED, &[&since_ms])
    }

    /// Kept calls that answer `query`, newest first, at most [`QUERY_LIMIT`].
    pub fn find_calls(&self, query: &CallQuery) -> Result<Vec<CallRecord>, StoreError> {
        // The newest matching ids first, so the jobs query reads only those calls.
        // Numbers are matched on the call's two numbers only; a missed call is an incoming
        // (or undirected) one that rang and ended unanswered; discarded calls are left out.
        const WANTED: &str = "c.id IN (SELECT k.id FROM calls k
              WHERE (?1 IS NULL OR k.created_ms >= ?1) AND (?2 IS NULL OR k.created_ms < ?2)
                AND (?3 IS NULL OR json_extract(k.request, '$.from') LIKE ?3
                     OR json_extract(k.request, '$.to') LIKE ?3 OR k.task_id = ?4)
                AND (?5 = 0 OR (k.started_ms IS NOT NULL AND k.answered_ms IS NULL
                                AND k.ended_ms IS NOT NULL
                                AND IFNULL(json_extract(k.request, '$.direction'), '')
                                    != 'outgoing'))
                AND NOT EXISTS (SELECT 1 FROM jobs d WHERE d.call_id = k.id
                                AND d.kind = 'register' AND d.state = 'discarded')
              ORDER BY k.created_ms DESC, k.id DESC LIMIT ?6)";
        let like = match (&query.digits, query.task_id) {
            (Some(d), _) => Some(format!("%{d}%")),
            (None, Some(_)) => Some(String::new()),
            (None, None) => None,
        };
        let limit = i64::try_from(QUERY_LIMIT).unwrap_or(i64::MAX);
        self.records(
            WANTED,
            &[
                &query.from_ms,
                &query.until_ms,
                &like,
                &query.task_id,
                &query.missed_only,
                &limit,
            ],
        )
    }

    /// Notes what was heard of the call stored under `external_id` (a time already noted
    /// is kept). False when no call is stored under it.
    pub fn note_life(&mut self, external_id: &str, life: CallLife) -> Result<bool, StoreError> {
        self.writable()?;
        let n = self
            .conn
            .execute(
                "UPDATE calls SET started_ms = COALESCE(started_ms, ?2),
                                  answered_ms = COALESCE(answered_ms, ?3),
                                  ended_ms = COALESCE(ended_ms, ?4)
                 WHERE external_id = ?1",
                params![
                    external_id,
                    life.started_ms,
                    life.answered_ms,
                    life.ended_ms
                ],
            )
            .map_err(|e| self.sql(e))?;
        Ok(n > 0)
    }

    /// The calls (and their jobs) `wanted` selects from `calls c`, newest first.
    fn records(
        &self,
        wanted: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<CallRecord>, StoreError> {
        let mut calls = self
            .conn
            .prepare(&format!(
                "SELECT c.id, c.request, c.registration, c.created_ms,
                        c.started_ms, c.answered_ms, c.ended_ms FROM calls c
                 WHERE {wanted} ORDER BY c.created_ms DESC, c.id DESC"
            ))
            .map_err(|e| self.sql(e))?;
        let rows = calls
            .query_map(args, |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, i64>(3)?,
                    CallLife {
                        started_ms: r.get(4)?,
                        answered_ms: r.get(5)?,
                        ended_ms: r.get(6)?,
                    },
                ))
            })
            .map_err(|e| self.sql(e))?;
        let mut order = Vec::new();
        let mut by_id: HashMap<i64, (CallRow, i64, CallLife)> = HashMap::new();
        for row in rows {
            let (id, request, registration, created, life) = row.map_err(|e| self.sql(e))?;
            match call_row((id, request, registration)) {
                Ok(call) => {
                    order.push(id);
                    by_id.insert(id, (call, created, life));
                }
                Err(e) => {
                    tracing::error!(call = id, error = %e, "a stored call cannot be read; left out of the list")
                }
            }
        }
        let mut jobs = self
            .conn
            .prepare(&format!(
                "SELECT j.call_id, j.id, j.kind, j.state, j.attempts, j.next_ms, j.error_code,
                        j.error_message, j.payload
                 FROM jobs j JOIN calls c ON c.id = j.call_id WHERE {wanted} ORDER BY j.id"
            ))
            .map_err(|e| self.sql(e))?;
        let job_rows = jobs
            .query_map(args, |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    JobRow {
                        id: r.get(1)?,
                        kind: r.get(2)?,
                        state: r.get(3)?,
                        attempts: r.get(4)?,
                        next_ms: r.get(5)?,
                        error_code: r.get(6)?,
                        error_message: r.get(7)?,
                        payload: r.get(8)?,
                    },
                ))
            })
            .map_err(|e| self.sql(e))?;
        let mut registers: HashMap<i64, JobBrief> = HashMap::new();
        let mut recordings: HashMap<i64, Vec<RecordingBrief>> = HashMap::new();
        for row in job_rows {
            let (call_id, job) = row.map_err(|e| self.sql(e))?;
            let Ok(brief) = job.brief() else {
                tracing::error!(job = job.id, "a job cannot be read; left out of the list");
                continue;
            };
            let Some(kind) = JobKind::from_name(&job.kind) else {
                tracing::error!(
                    job = job.id,
                    "a job of an unknown kind; left out of the list"
                );
                continue;
            };
            match kind {
                JobKind::Register => {
                    registers.insert(call_id, brief);
                }
                // A pickup shows while it looks, or when it found nothing; once it found
                // the file, its attach job stands for it.
                JobKind::Pickup => {
                    if !matches!(brief.state, JobState::Done | JobState::Discarded) {
                        recordings.entry(call_id).or_default().push(RecordingBrief {
                            job: brief,
                            kind,
                            file_name: String::new(),
                        });
                    }
                }
                JobKind::Attach => {
                    let Ok(payload) = serde_json::from_str::<AttachPayload>(
                        job.payload.as_deref().unwrap_or_default(),
                    ) else {
                        tracing::error!(
                            job = job.id,
                            "a recording's job cannot be read; left out of the list"
                        );
                        continue;
                    };
                    let file_name = payload
                        .path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    if brief.state != JobState::Discarded {
                        recordings.entry(call_id).or_default().push(RecordingBrief {
                            job: brief,
                            kind,
                            file_name,
                        });
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(order.len());
        for id in order {
            let (Some((call, created_ms, life)), Some(register)) =
                (by_id.remove(&id), registers.remove(&id))
            else {
                continue;
            };
            if register.state == JobState::Discarded {
                continue;
            }
            out.push(CallRecord {
                call_id: id,
                request: call.request,
                created_ms,
                register,
                registration: call.registration,
                task_url: None,
                recordings: recordings.remove(&id).unwrap_or_default(),
                life,
            });
        }
        Ok(out)
    }

    fn views<P: rusqlite::Params>(
        &self,
        filter: &str,
        params: P,
    ) -> Result<Vec<JobView>, StoreError> {
        let sql = format!(
            "SELECT j.id, j.kind, j.state, j.attempts, j.next_ms, j.error_code, j.error_message,
                    j.payload, j.created_ms, c.external_id, c.request, c.task_id, j.owner_pid
             FROM jobs j LEFT JOIN calls c ON c.id = j.call_id {filter} ORDER BY j.id"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map(params, |r| {
                Ok(RawView {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    state: r.get(2)?,
                    attempts: r.get(3)?,
                    next_ms: r.get(4)?,
                    error_code: r.get(5)?,
                    error_message: r.get(6)?,
                    payload: r.get(7)?,
                    created_ms: r.get(8)?,
                    external_id: r.get(9)?,
                    request: r.get(10)?,
                    task_id: r.get(11)?,
                    owner_pid: r.get(12)?,
                })
            })
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for raw in rows {
            let raw = raw.map_err(|e| self.sql(e))?;
            // A row that cannot be read is listed as what it is, never hides the others.
            let (id, kind, state, error_code, created_ms) = (
                raw.id,
                raw.kind.clone(),
                raw.state.clone(),
                raw.error_code.clone(),
                raw.created_ms,
            );
            let alive = |pid| self.owners.alive(pid);
            out.push(raw.into_view(alive).unwrap_or_else(|e| JobView {
                id: JobId(id),
                kind: JobKind::from_name(&kind).unwrap_or(JobKind::Register),
                state: JobState::from_name(&state).unwrap_or(JobState::Failed),
                attempts: 0,
                next_attempt_ms: None,
                error_code: error_code.or_else(|| Some("unreadable".to_owned())),
                error_message: Some(format!(
                    "this job cannot be read ({e}); discard it — the others are sent as usual"
                )),
                external_id: None,
                task_id: None,
                file_name: None,
                summary: format!("job {id} ({kind}) cannot be read"),
                created_ms,
                interrupted: false,
            }));
        }
        Ok(out)
    }
}

struct JobRow {
    id: i64,
    kind: String,
    state: String,
    attempts: u32,
    next_ms: i64,
    error_code: Option<String>,
    error_message: Option<String>,
    payload: Option<String>,
}

impl JobRow {
    fn brief(&self) -> Result<JobBrief, StoreError> {
        let state = JobState::from_name(&self.state)
            .ok_or_else(|| corrupt(format!("unknown job state {}", self.state)))?;
        Ok(JobBrief {
            id: JobId(self.id),
            state,
            attempts: self.attempts,
            next_attempt_ms: (state == JobState::Pending).then_some(self.next_ms),
            error_code: self.error_code.clone(),
            error_message: self.error_message.clone(),
        })
    }
}

struct RawView {
    id: i64,
    kind: String,
    state: String,
    attempts: u32,
    next_ms: i64,
    error_code: Option<String>,
    error_message: Option<String>,
    payload: Option<String>,
    created_ms: i64,
    external_id: Option<String>,
    request: Option<String>,
    task_id: Option<i64>,
    owner_pid: Option<u32>,
}

impl RawView {
    fn into_view(self, alive: impl Fn(u32) -> bool) -> Result<JobView, StoreError> {
        let kind = JobKind::from_name(&self.kind)
            .ok_or_else(|| corrupt(format!("unknown job kind {}", self.kind)))?;
        let state = JobState::from_name(&self.state)
            .ok_or_else(|| corrupt(format!("unknown job state {}", self.state)))?;
        let call: Option<CallRequest> = self
            .request
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(corrupt)?;
        let pickup: Option<PickupPayload> = match kind {
            JobKind::Pickup => self
                .payload
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(corrupt)?,
            _ => None,
        };
        let payload: Option<AttachPayload> = match kind {
            JobKind::Attach => self
                .payload
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(corrupt)?,
            _ => None,
        };
        let mut task_id = self.task_id.map(|t| t as u64);
        let mut external_id = self.external_id;
        let file_name = payload.as_ref().map(|p| {
            p.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        let summary = match (&call, &payload) {
            _ if pickup.is_some() => {
                let dir = pickup.as_ref().map(|p| p.dir.display().to_string());
                match &call {
                    Some(c) => format!(
                        "find the recording of call {} → {} in {}",
                        c.from,
                        c.to,
                        dir.unwrap_or_default()
                    ),
                    None => format!("find a recording in {}", dir.unwrap_or_default()),
                }
            }
            (Some(c), None) => format!("call {} → {}", c.from, c.to),
            (_, Some(p)) => {
                let target = match &p.target {
                    StoredTarget::Call(_) => call.as_ref().map_or_else(
                        || "a stored call".to_owned(),
                        |c| format!("call {} → {}", c.from, c.to),
                    ),
                    StoredTarget::Direct(t) => {
                        if let AttachTarget::Task {
                            task_id: t_id,
                            external_id: e,
                        } = t
                        {
                            task_id = task_id.or(Some(*t_id));
                            external_id =
                                external_id.or_else(|| e.as_ref().map(|e| e.as_str().to_owned()));
                        }
                        if let AttachTarget::ExternalId(e) = t {
                            external_id = external_id.or_else(|| Some(e.as_str().to_owned()));
                        }
                        t.to_string()
                    }
                };
                format!(
                    "recording {} → {target}",
                    file_name.as_deref().unwrap_or("?")
                )
            }
            (None, None) => "?".to_owned(),
        };
        Ok(JobView {
            id: JobId(self.id),
            kind,
            state,
            attempts: self.attempts,
            next_attempt_ms: (state == JobState::Pending).then_some(self.next_ms),
            error_code: self.error_code,
            error_message: self.error_message,
            external_id,
            task_id,
            file_name,
            summary,
            created_ms: self.created_ms,
            interrupted: state == JobState::Running && self.owner_pid.is_none_or(|pid| !alive(pid)),
        })
    }
}

/// What a claimed job is to do, read from its row.
fn read_work(kind: &str, payload: Option<&str>, call: Option<CallRow>) -> Result<Work, StoreError> {
    match kind {
        "register" => {
            Ok(Work::Register(call.ok_or_else(|| {
                corrupt("a register job without its call")
            })?))
        }
        "attach" => {
            let payload: AttachPayload =
                serde_json::from_str(payload.unwrap_or_default()).map_err(corrupt)?;
            let resolved =
                match (&payload.target, call) {
                    (StoredTarget::Direct(t), _) => t.clone(),
                    (StoredTarget::Call(_), Some(call)) => AttachTarget::Task {
                        task_id: call.registration.as_ref().map(|r| r.task_id).ok_or_else(
                            || corrupt("an attach job claimed before its registration"),
                        )?,
                        external_id: call.request.external_id.clone(),
                    },
                    (StoredTarget::Call(_), None) => {
                        return Err(corrupt("an attach job without its call"));
                    }
                };
            Ok(Work::Attach { payload, resolved })
        }
        "pickup" => Ok(Work::Pickup(
            serde_json::from_str(payload.unwrap_or_default()).map_err(corrupt)?,
        )),
        other => Err(corrupt(format!("unknown job kind {other}"))),
    }
}

/// Inserts a pending job of `kind` carrying `payload` (in the caller's transaction).
fn insert_job(
    tx: &Transaction<'_>,
    kind: &str,
    call_id: Option<i64>,
    payload: &str,
    now_ms: i64,
) -> Result<JobId, StoreError> {
    tx.execute(
        "INSERT INTO jobs (kind, call_id, payload, state, next_ms, created_ms, updated_ms)
         VALUES (?1, ?2, ?3, 'pending', ?4, ?4, ?4)",
        params![kind, call_id, payload, now_ms],
    )
    .map_err(|e| db_err(&e))?;
    Ok(JobId(tx.last_insert_rowid()))
}

fn db_err(e: &rusqlite::Error) -> StoreError {
    StoreError::Write(sqlite_advice(e))
}

/// What an SQLite failure means for the agent, and what to do about it.
fn sqlite_advice(e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::ReadOnly) => {
            "is read-only: make the file and its folder writable by you".to_owned()
        }
        Some(ErrorCode::DiskFull) => "cannot grow: the disk is full; free some space".to_owned(),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            "file is damaged: move it away (pyrus-phone starts a new one) and report it with the log".to_owned()
        }
        Some(ErrorCode::CannotOpen) => {
            "cannot be opened: check that its folder exists and is yours".to_owned()
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "is held by another program: try again in a moment".to_owned()
        }
        Some(ErrorCode::PermissionDenied) => {
            "may not be used: check that the file and its folder are yours".to_owned()
        }
        _ => format!("failed ({e})"),
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
        .query_row(
            "SELECT id, request, registration FROM calls WHERE id = ?1",
            [call_id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            },
        )
        .map_err(|e| db_err(&e))?;
    call_row(row)
}

/// Ends a job in `state`; a claimed one (`token`) only while its claim holds. Returns how
/// many rows changed (0: the claim was taken over, and nothing is written).
fn finish(
    tx: &Transaction<'_>,
    job: JobId,
    token: Option<i64>,
    state: JobState,
    error: Option<(&str, &str)>,
    now_ms: i64,
) -> Result<usize, StoreError> {
    let (code, message) = error.unzip();
    let n = tx
        .execute(
            "UPDATE jobs SET state = ?2, lease_ms = NULL, error_code = ?3, error_message = ?4, updated_ms = ?5
             WHERE id = ?1 AND (?6 IS NULL OR (state = 'running' AND claim = ?6))",
            params![job.0, state.as_str(), code, message, now_ms, token],
        )
        .map_err(|e| db_err(&e))?;
    if n == 0 {
        tracing::warn!(%job, "the job was taken over; this attempt's outcome is dropped");
    }
    Ok(n)
}

/// A new claim token.
fn new_token() -> i64 {
    rand::random::<i64>() & i64::MAX
}

/// Puts a job back in the queue, due now (a discarded one stays discarded), with the
/// attaches that failed because it had.
fn retry_in(tx: &Transaction<'_>, job: JobId, now_ms: i64) -> Result<(), StoreError> {
    let n = tx
        .execute(
            "UPDATE jobs SET state = 'pending', next_ms = ?2, lease_ms = NULL, updated_ms = ?2
             WHERE id = ?1 AND state IN ('pending', 'failed', 'needs_credentials')",
            params![job.0, now_ms],
        )
        .map_err(|e| db_err(&e))?;
    if n == 0 {
        return Err(job_state_error(tx, job));
    }
    tx.execute(
        "UPDATE jobs SET state = 'pending', next_ms = ?2, updated_ms = ?2
         WHERE kind = 'attach' AND state = 'failed' AND error_code = 'registration_failed'
           AND call_id = (SELECT call_id FROM jobs WHERE id = ?1 AND kind = 'register')",
        params![job.0, now_ms],
    )
    .map_err(|e| db_err(&e))?;
    Ok(())
}

fn job_state_error(tx: &Transaction<'_>, job: JobId) -> StoreError {
    let state: Option<String> = tx
        .query_row("SELECT state FROM jobs WHERE id = ?1", [job.0], |r| {
            r.get(0)
        })
        .optional()
        .ok()
        .flatten();
    match state {
        None => StoreError::NoSuchJob(job),
        Some(state) => StoreError::WrongState { job, state },
    }
}

#[cfg(test)]
mod tests {
    use super::{
        AttachPayload, Lane, PickupPayload, SCHEMA_VERSION, Store, StoreError, StoredTarget, Work,
    };
    use crate::domain::{CallRequest, Direction, JobState, PhoneNumber, Registration};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("outbox.sqlite3")).unwrap();
        (dir, store)
    }

    fn call(id: &str) -> CallRequest {
        let mut call =
            CallRequest::parse("+79161112200", "+74953009080", None, Some(id), Vec::new()).unwrap();
        call.direction = Direction::Incoming;
        call
    }

    fn attach_to(call_id: i64) -> AttachPayload {
        AttachPayload {
            path: "/tmp/r.wav".into(),
            target: StoredTarget::Call(call_id),
            mappings: Vec::new(),
            file_guid: None,
        }
    }

    fn registration(task_id: u64) -> Registration {
        serde_json::from_value(serde_json::json!({"task_id": task_id, "is_new_task": true}))
            .unwrap()
    }

    #[test]
    fn a_new_database_gets_the_schema_version_and_a_newer_one_is_refused() {
        let (dir, store) = store();
        let path = dir.path().join("outbox.sqlite3");
        let version: u32 = store
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        drop(store);
        // Opening again migrates nothing and keeps the data.
        Store::open(&path).unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
        assert!(err.to_string().contains("newer pyrus-phone"), "{err}");
    }

    #[test]
    fn lanes_claim_their_own_jobs_and_a_lease_keeps_others_off() {
        let (_dir, mut s) = store();
        let (call_id, register) = s.insert_call(&call("c-1"), None, 0).unwrap();
        let direct = AttachPayload {
            target: StoredTarget::Direct(crate::domain::AttachTarget::Task {
                task_id: 5,
                external_id: None,
            }),
            ..attach_to(call_id)
        };
        let attach = s.insert_attach(&direct, 0).unwrap();
        let up = s.claim_due(Lane::Upload, 10, 1_000).unwrap().unwrap();
        assert_eq!(up.job, attach, "the upload lane takes the upload");
        let reg = s.claim_due(Lane::Register, 10, 1_000).unwrap().unwrap();
        assert_eq!(reg.job, register, "the register lane is not held up by it");
        assert!(matches!(reg.work, Work::Register(_)));
        // Leased: nobody else takes them until the lease runs out.
        assert!(s.claim_due(Lane::Register, 500, 2_000).unwrap().is_none());
        let again = s.claim_due(Lane::Register, 1_001, 3_000).unwrap().unwrap();
        assert_eq!(again.job, register, "an expired lease is claimable again");
        // Shutdown hands back what this process holds.
        assert_eq!(s.release_owned(std::process::id(), 1_100).unwrap(), 2);
        assert_eq!(s.job(register).unwrap().state, JobState::Pending);
        assert_eq!(s.job(attach).unwrap().state, JobState::Pending);
    }

    #[test]
    fn an_attach_waits_for_its_call_and_a_failed_registration_fails_it() {
        let (_dir, mut s) = store();
        let (call_id, register) = s.insert_call(&call("c-2"), None, 0).unwrap();
        let attach = s.insert_attach(&attach_to(call_id), 0).unwrap();
        assert!(
            s.claim_due(Lane::Upload, 10, 1_000).unwrap().is_none(),
            "not before the call is registered"
        );
        let first = s.claim_due(Lane::Register, 10, 1_000).unwrap().unwrap();
        s.park(
            register,
            Some(first.token),
            JobState::Failed,
            ("bad_number", "no"),
            20,
        )
        .unwrap();
        let failed = s.job(attach).unwrap();
        assert_eq!(failed.state, JobState::Failed);
        assert_eq!(failed.error_code.as_deref(), Some("registration_failed"));
        // Retrying the registration brings its attach back; once registered it may run.
        s.retry(register, 30).unwrap();
        assert_eq!(s.job(attach).unwrap().state, JobState::Pending);
        let second = s.claim_due(Lane::Register, 40, 1_000).unwrap().unwrap();
        s.complete_register(register, second.token, call_id, &registration(9), 50)
            .unwrap();
        let up = s.claim_due(Lane::Upload, 60, 1_000).unwrap().unwrap();
        assert_eq!(up.job, attach);
        // Discarded work is never claimed again, and cannot be discarded twice.
        s.release(attach, up.token, 70).unwrap();
        s.discard(attach, 80).unwrap();
        assert!(s.claim_due(Lane::Upload, 90, 1_000).unwrap().is_none());
        assert!(matches!(
            s.discard(attach, 100),
            Err(StoreError::WrongState { .. })
        ));
    }

    #[test]
    fn a_corrected_call_is_sent_again_under_its_id_and_a_discard_is_undone_only_at_once() {
        use super::UNDO_MS;
        let (_dir, mut s) = store();
        let (call_id, register) = s.insert_call(&call("c-fix"), None, 0).unwrap();
        let attach = s.insert_attach(&attach_to(call_id), 0).unwrap();
        let first = s.claim_due(Lane::Register, 10, 1_000).unwrap().unwrap();
        s.park(
            register,
            Some(first.token),
            JobState::Failed,
            ("invalid_field_mapping_code", "no"),
            20,
        )
        .unwrap();
        // Corrected: the stored request is replaced, the id kept, the job due now.
        let mut fixed = call("another-id");
        fixed.from = PhoneNumber::parse("+79160000001").unwrap();
        s.resend(register, fixed, 30).unwrap();
        let row = s
            .call_by_external_id(&crate::domain::ExternalId::parse("c-fix").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(row.request.from.as_str(), "+79160000001");
        assert_eq!(row.request.external_id.unwrap().as_str(), "c-fix");
        assert_eq!(s.job(register).unwrap().state, JobState::Pending);
        assert_eq!(s.job(attach).unwrap().state, JobState::Pending);

        // Discarded with its recording; taken back at once, both come back as they were.
        s.discard(register, 40).unwrap();
        assert_eq!(s.job(attach).unwrap().state, JobState::Discarded);
        s.undiscard(register, 40 + UNDO_MS).unwrap();
        assert_eq!(s.job(register).unwrap().state, JobState::Pending);
        assert_eq!(s.job(attach).unwrap().state, JobState::Pending);
        // Too late: the discard is final, and nothing brings the call back.
        s.discard(register, 100).unwrap();
        assert!(s.undiscard(register, 101 + UNDO_MS).is_err());
        assert!(s.retry(register, 200).is_err());
        assert!(s.resend(register, call("x"), 200).is_err());
        assert_eq!(s.job(register).unwrap().state, JobState::Discarded);
    }

    #[test]
    fn kept_calls_are_found_by_their_numbers_task_and_day_and_missed_means_incoming() {
        use crate::domain::{CallLife, CallQuery};
        let (_dir, mut s) = store();
        let life = |answered: Option<i64>| CallLife {
            started_ms: Some(1_000),
            answered_ms: answered,
            ended_ms: Some(5_000),
        };
        let mut missed = call("m");
        missed.internal = Some(PhoneNumber::parse_extension("2001").unwrap());
        s.insert_call(&missed, None, 1_000).unwrap();
        s.note_life("m", life(None)).unwrap();
        let mut out = call("o");
        out.direction = Direction::Outgoing;
        out.from = PhoneNumber::parse("+79990000000").unwrap();
        s.insert_call(&out, None, 2_000).unwrap();
        s.note_life("o", life(None)).unwrap();
        let mut talked = call("t");
        talked.from = PhoneNumber::parse("+79998887766").unwrap();
        s.insert_call(&talked, None, 3_000).unwrap();
        assert!(s.note_life("t", life(Some(2_000))).unwrap());
        assert!(!s.note_life("nobody", life(None)).unwrap(), "no such call");

        let ids = |q: CallQuery, s: &Store| -> Vec<String> {
            s.find_calls(&q)
                .unwrap()
                .into_iter()
                .map(|c| c.request.external_id.unwrap().as_str().to_owned())
                .collect()
        };
        let missed_only = CallQuery {
            missed_only: true,
            ..CallQuery::default()
        };
        assert_eq!(
            ids(missed_only, &s),
            vec!["m"],
            "an outgoing call is not missed"
        );
        // Digits match either number only, not the internal number or the ids.
        let by = |d: &str| CallQuery {
            digits: Some(d.into()),
            ..CallQuery::default()
        };
        assert_eq!(ids(by("8887766"), &s), vec!["t"]);
        assert_eq!(ids(by("4953009080"), &s), vec!["t", "o", "m"]);
        assert!(ids(by("2001"), &s).is_empty(), "not the internal number");
        let day = CallQuery {
            from_ms: Some(1_500),
            until_ms: Some(2_500),
            ..CallQuery::default()
        };
        assert_eq!(ids(day, &s), vec!["o"]);
        // A call noted again keeps its first times.
        s.note_life("t", life(Some(9_999))).unwrap();
        let t = s.find_calls(&by("8887766")).unwrap().remove(0);
        assert_eq!(t.life.answered_ms, Some(2_000));
    }

    #[test]
    fn a_held_call_is_sent_once_this_lines_number_is_known() {
        let (_dir, mut s) = store();
        let mut heard = call("c-3");
        heard.to = heard.from.clone();
        let (call_id, job) = s
            .insert_call(&heard, Some(("line_number_missing", "set it")), 0)
            .unwrap();
        assert_eq!(s.job(job).unwrap().state, JobState::Held);
        assert!(s.claim_due(Lane::Register, 10, 1_000).unwrap().is_none());
        assert!(
            s.retry(job, 10).is_err(),
            "retry cannot send it without the number"
        );
        let line = PhoneNumber::parse("+74953009080").unwrap();
        assert_eq!(s.fill_line(&line, 20).unwrap(), 1);
        assert_eq!(s.fill_line(&line, 21).unwrap(), 0, "once");
        let claimed = s.claim_due(Lane::Register, 30, 1_000).unwrap().unwrap();
        let Work::Register(row) = claimed.work else {
            panic!()
        };
        assert_eq!(row.id, call_id);
        assert_eq!(
            (row.request.from.as_str(), row.request.to.as_str()),
            ("+79161112200", "+74953009080")
        );
    }

    #[test]
    fn a_pickup_runs_without_the_network_and_queues_its_recording_once() {
        let (_dir, mut s) = store();
        let (call_id, _register) = s.insert_call(&call("c-4"), None, 0).unwrap();
        let pickup = s
            .insert_pickup(
                &PickupPayload {
                    dir: "/rec".into(),
                    number: "+79161112200".into(),
                    started_ms: 0,
                    ended_ms: Some(5),
                    answered: true,
                    name: "c-4".into(),
                    target: StoredTarget::Call(call_id),
                },
                0,
            )
            .unwrap();
        assert!(
            s.claim_due(Lane::Upload, 10, 1_000).unwrap().is_none(),
            "the network lanes never take a pickup"
        );
        assert_eq!(s.next_due_ms(None).unwrap(), Some(0), "the registration");
        let claimed = s.claim_due(Lane::Pickup, 10, 1_000).unwrap().unwrap();
        assert_eq!(claimed.job, pickup, "no need to wait for the registration");
        assert!(matches!(&claimed.work, Work::Pickup(p) if p.dir.to_str() == Some("/rec")));
        // A crash: the next start takes the orphan back and claims it again.
        assert_eq!(s.make_due(20, false, |_| false).unwrap(), 1, "the orphan");
        let again = s.claim_due(Lane::Pickup, 30, 1_000).unwrap().unwrap();
        assert_eq!(again.job, pickup);
        assert!(
            s.complete_pickup(pickup, claimed.token, Some(&attach_to(call_id)), 35)
                .is_err(),
            "the crashed attempt's claim no longer counts"
        );
        let attach = s
            .complete_pickup(pickup, again.token, Some(&attach_to(call_id)), 40)
            .unwrap()
            .unwrap();
        assert_eq!(s.job(pickup).unwrap().state, JobState::Done);
        assert_eq!(s.job(attach).unwrap().state, JobState::Pending);
        assert!(
            s.complete_pickup(pickup, again.token, Some(&attach_to(call_id)), 50)
                .is_err(),
            "a finished pickup queues nothing more"
        );
        // A repeated end finds the pickup already stored.
        let payload = PickupPayload {
            dir: "/rec".into(),
            number: "+79161112200".into(),
            started_ms: 0,
            ended_ms: Some(6),
            answered: true,
            name: "c-4".into(),
            target: StoredTarget::Call(call_id),
        };
        assert_eq!(s.insert_pickup(&payload, 60).unwrap(), pickup);
        let records = s.call_records(0).unwrap();
        assert_eq!(records[0].recordings.len(), 1, "its attach stands for it");
    }

    #[test]
    fn an_attempt_that_outlived_its_lease_cannot_overwrite_the_one_that_took_over() {
        let (_dir, mut s) = store();
        let stale = s.insert_call_claimed(&call("c-5"), 0, 100).unwrap();
        assert!(
            s.claim_due(Lane::Register, 50, 1_000).unwrap().is_none(),
            "leased to whoever stored it"
        );
        // Its lease runs out; the lane takes it over.
        let fresh = s.claim_due(Lane::Register, 200, 1_000).unwrap().unwrap();
        assert_eq!(fresh.job, stale.job);
        assert!(
            !s.renew_lease(stale.job, stale.token, 2_000).unwrap(),
            "the old claim is gone"
        );
        // The late attempt fails: it changes nothing.
        s.reschedule(stale.job, stale.token, 9_999, ("timeout", "late"), 300)
            .unwrap();
        s.park(
            stale.job,
            Some(stale.token),
            JobState::Failed,
            ("bad", "late"),
            300,
        )
        .unwrap();
        assert_eq!(s.job(stale.job).unwrap().state, JobState::Running);
        let Work::Register(row) = fresh.work else {
            panic!()
        };
        s.complete_register(fresh.job, fresh.token, row.id, &registration(7), 400)
            .unwrap();
        // A late success does not replace the registration that stands.
        s.complete_register(stale.job, stale.token, row.id, &registration(8), 500)
            .unwrap();
        assert_eq!(s.job(stale.job).unwrap().state, JobState::Done);
        assert_eq!(s.job(stale.job).unwrap().task_id, Some(7));
    }

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
    fn a_job_that_cannot_be_read_is_set_aside_and_the_rest_flows() {
        let (_dir, mut s) = store();
        let direct = |task_id| AttachPayload {
            target: StoredTarget::Direct(crate::domain::AttachTarget::Task {
                task_id,
                external_id: None,
            }),
            ..attach_to(0)
        };
        let bad = s.insert_attach(&direct(1), 0).unwrap();
        let good = s.insert_attach(&direct(2), 1).unwrap();
        s.conn
            .execute(
                "UPDATE jobs SET payload = '{not json' WHERE id = ?1",
                [bad.0],
            )
            .unwrap();
        let claimed = s.claim_due(Lane::Upload, 10, 1_000).unwrap().unwrap();
        assert_eq!(claimed.job, good, "the readable one is sent");
        let listed = s.open_jobs().unwrap();
        let set_aside = listed.iter().find(|j| j.id == bad).unwrap();
        assert_eq!(set_aside.state, JobState::Failed);
        assert_eq!(set_aside.error_code.as_deref(), Some("unreadable"));
        assert!(
            set_aside
                .error_message
                .as_deref()
                .is_some_and(|m| m.contains("cannot be read")),
            "{set_aside:?}"
        );
        assert!(s.claim_due(Lane::Upload, 20, 1_000).unwrap().is_none());
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

    #[test]
    fn the_rate_budget_is_shared_and_work_waits_for_the_next_window() {
        use super::{RATE_BUDGET, RATE_WINDOW_MS};
        let (_dir, mut s) = store();
        let now = 5 * RATE_WINDOW_MS + 1_000;
        s.conn
            .execute(
                "INSERT INTO rate (window, requests) VALUES (?1, ?2)",
                [now / RATE_WINDOW_MS, RATE_BUDGET - 1],
            )
            .unwrap();
        let direct = AttachPayload {
            target: StoredTarget::Direct(crate::domain::AttachTarget::Task {
                task_id: 3,
                external_id: None,
            }),
            ..attach_to(0)
        };
        let attach = s.insert_attach(&direct, now).unwrap();
        let (_, register) = s.insert_call(&call("c-8"), None, now).unwrap();
        assert!(
            s.claim_due(Lane::Upload, now, now + 1_000)
                .unwrap()
                .is_none(),
            "an upload and an attach would go over the budget"
        );
        let next_window = 6 * RATE_WINDOW_MS;
        assert_eq!(s.job(attach).unwrap().next_attempt_ms, Some(next_window));
        let one = s
            .claim_due(Lane::Register, now, now + 1_000)
            .unwrap()
            .unwrap();
        assert_eq!(one.job, register, "one request still fits");
        let later = s
            .claim_due(Lane::Upload, next_window, next_window + 1_000)
            .unwrap()
            .unwrap();
        assert_eq!(later.job, attach, "a new window, a new budget");
    }
}
