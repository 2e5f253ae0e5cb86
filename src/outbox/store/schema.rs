//! The outbox's schema: one migration per version, applied in one transaction at open; a
//! database newer than this build is refused, never misread.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

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
    // The calls still open (rung, answered, not yet ended and forgotten), as the stitcher
    // holds them: one row, replaced after each event.
    "CREATE TABLE IF NOT EXISTS open_calls (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        state  TEXT NOT NULL
     );",
    // Events handed over with a delivery id (the command hook's), for a day: the same
    // event kept again by its sender is recognised, never handled twice.
    "CREATE TABLE IF NOT EXISTS deliveries (
        id     TEXT PRIMARY KEY,
        at_ms  INTEGER NOT NULL
     );",
    // The index of customers' numbers: the forms' tasks, their phone fields' numbers
    // (normalised), and how far each form's reading is.
    "CREATE TABLE IF NOT EXISTS caller_tasks (
        task_id     INTEGER PRIMARY KEY,
        form_id     INTEGER NOT NULL,
        subject     TEXT NOT NULL,
        step        TEXT,
        closed      INTEGER NOT NULL,
        responsible TEXT,
        modified    TEXT NOT NULL
     );
     CREATE TABLE IF NOT EXISTS caller_numbers (
        number   TEXT NOT NULL,
        task_id  INTEGER NOT NULL,
        PRIMARY KEY (number, task_id)
     ) WITHOUT ROWID;
     CREATE INDEX IF NOT EXISTS caller_numbers_by_task ON caller_numbers (task_id);
     CREATE TABLE IF NOT EXISTS caller_forms (
        form_id        INTEGER PRIMARY KEY,
        walked         INTEGER NOT NULL DEFAULT 0,
        in_progress    INTEGER NOT NULL DEFAULT 0,
        after_id       INTEGER NOT NULL DEFAULT 0,
        modified_after TEXT,
        high_water     TEXT,
        as_of_ms       INTEGER,
        problem        TEXT,
        denied         INTEGER NOT NULL DEFAULT 0
     );",
    // How far a softphone's call history has been read: the end (epoch seconds) of the
    // newest call settled, by history file.
    "CREATE TABLE IF NOT EXISTS history_marks (
        source TEXT PRIMARY KEY,
        mark   INTEGER NOT NULL
     );",
    // What the softphone said of a call besides its times: the far end's name, and why an
    // unanswered call ended.
    "ALTER TABLE calls ADD COLUMN display TEXT;
     ALTER TABLE calls ADD COLUMN end_reason TEXT;",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Brings the database to [`SCHEMA_VERSION`] in one transaction; refuses a newer one.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
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

#[cfg(test)]
mod tests {
    use super::super::testing::store;
    use super::super::{Store, StoreError};
    use super::*;

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
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
        assert!(err.to_string().contains("newer pyrus-phone"), "{err}");
    }
}
