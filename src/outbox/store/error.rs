//! What can go wrong with the outbox's database, and what SQLite's failures mean for the
//! agent (what to do about them).

use std::path::PathBuf;

use crate::domain::JobId;

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
    /// Something other than a file (a pipe, a device, a folder) is where the outbox goes.
    #[error(
        "where the outbox goes there is {what}, not an ordinary file: move it away (pyrus-phone starts a new outbox) — {path}"
    )]
    NotAFile {
        /// What is there.
        what: String,
        /// The database file.
        path: PathBuf,
    },
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

/// A write that failed, with what it means for the agent.
pub(super) fn db_err(e: &rusqlite::Error) -> StoreError {
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

/// A stored row that cannot be decoded.
pub(super) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}
