//! The journal: heard events stored before they are acknowledged, until they are handled;
//! and the calls still open when they were (the stitcher's state), so an event heard after
//! a restart joins the call it belongs to.

use rusqlite::params;

use super::error::db_err;
use super::{Store, StoreError};

impl Store {
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

    /// Keeps the open calls' state (JSON), replacing what was kept.
    pub fn save_open_calls(&mut self, state: &str) -> Result<(), StoreError> {
        let tx = self.tx()?;
        tx.execute(
            "INSERT INTO open_calls (id, state) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET state = excluded.state",
            [state],
        )
        .map_err(|e| db_err(&e))?;
        tx.commit().map_err(|e| db_err(&e))
    }

    /// The open calls' state as last kept, if any.
    pub fn open_calls(&self) -> Result<Option<String>, StoreError> {
        use rusqlite::OptionalExtension as _;
        self.conn
            .query_row("SELECT state FROM open_calls WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.sql(e))
    }
}
