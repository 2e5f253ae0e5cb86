//! The journal: heard events stored before they are acknowledged, until they are handled;
//! and the calls still open when they were (the stitcher's state), so an event heard after
//! a restart joins the call it belongs to.

use rusqlite::params;

use super::error::db_err;
use super::{Store, StoreError};

/// How long a delivery id is remembered: far longer than any sender keeps trying.
const DELIVERIES_KEPT_MS: i64 = 24 * 60 * 60 * 1000;

impl Store {
    /// Stores heard events (JSON, external id, delivery id) in one transaction, before
    /// anyone is told they were accepted, and forgets the ones handled since; returns each
    /// event's journal id in order — `None` for one whose delivery id was seen already in
    /// the last day (its sender kept it again: it is stored once). `open_calls`, when
    /// given, replaces the open calls kept, in the same transaction that forgets the events
    /// that made them what they are.
    pub fn journal(
        &mut self,
        events: &[(String, String, Option<String>)],
        handled: &[i64],
        open_calls: Option<&str>,
        now_ms: i64,
    ) -> Result<Vec<Option<i64>>, StoreError> {
        let tx = self.tx()?;
        if let Some(state) = open_calls {
            tx.prepare_cached(
                "INSERT INTO open_calls (id, state) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET state = excluded.state",
            )
            .and_then(|mut st| st.execute([state]))
            .map_err(|e| db_err(&e))?;
        }
        for id in handled {
            tx.prepare_cached("DELETE FROM journal WHERE id = ?1")
                .and_then(|mut st| st.execute([id]))
                .map_err(|e| db_err(&e))?;
        }
        if events.iter().any(|(_, _, delivery)| delivery.is_some()) {
            tx.prepare_cached("DELETE FROM deliveries WHERE at_ms < ?1")
                .and_then(|mut st| st.execute([now_ms - DELIVERIES_KEPT_MS]))
                .map_err(|e| db_err(&e))?;
        }
        let mut ids = Vec::with_capacity(events.len());
        for (event, external_id, delivery) in events {
            if let Some(delivery) = delivery {
                let new = tx
                    .prepare_cached("INSERT OR IGNORE INTO deliveries (id, at_ms) VALUES (?1, ?2)")
                    .and_then(|mut st| st.execute(params![delivery, now_ms]))
                    .map_err(|e| db_err(&e))?;
                if new == 0 {
                    ids.push(None);
                    continue;
                }
            }
            tx.prepare_cached(
                "INSERT INTO journal (event, external_id, received_ms) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut st| st.execute(params![event, external_id, now_ms]))
            .map_err(|e| db_err(&e))?;
            ids.push(Some(tx.last_insert_rowid()));
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

#[cfg(test)]
mod tests {
    use super::super::testing::store;

    #[test]
    fn an_event_kept_again_by_its_sender_is_stored_once() {
        let (_dir, mut s) = store();
        let row = |delivery: Option<&str>| {
            (
                r#"{"event":"ring"}"#.to_owned(),
                "pp-1".to_owned(),
                delivery.map(str::to_owned),
            )
        };
        let first = s
            .journal(&[row(Some("d-1")), row(None)], &[], None, 1_000)
            .unwrap();
        assert!(first.iter().all(Option::is_some), "{first:?}");
        // The sender heard no answer and kept it itself: the same delivery is not stored
        // again, even once the first was handled and forgotten; one without an id is.
        let handled = first[0].unwrap();
        let again = s
            .journal(&[row(Some("d-1")), row(None)], &[handled], None, 2_000)
            .unwrap();
        assert_eq!(again[0], None);
        assert!(again[1].is_some());
        assert_eq!(s.journal_open().unwrap().len(), 2);
        // A day later the id is forgotten.
        let later = 2_000 + super::DELIVERIES_KEPT_MS + 1;
        assert!(s.journal(&[row(Some("d-1"))], &[], None, later).unwrap()[0].is_some());
    }
}
