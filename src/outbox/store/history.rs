//! Calls from a softphone's own history (Twinkle's `twinkle.ch`), stored as finished calls —
//! the call, what became of it, its registration job and its outcome in one transaction —
//! unless a call script reported them already (the same id, or the same far end starting
//! within a few seconds); and how far each history file has been read.

use rusqlite::{OptionalExtension as _, params};

use super::error::{corrupt, db_err};
use super::jobs::insert_job;
use super::{CallOutcome, CommentPayload, Store, StoreError};
use crate::domain::{CallLife, CallRequest, Direction, JobKind};

/// A call reported by a script matches a history line when it started this close to it
/// (the history keeps whole seconds; a script hears the ring a little after it starts) — or
/// later, while the line's call lasted (a call whose ring was not heard starts at the first
/// event that was).
const SAME_START_MS: i64 = 2_000;

impl Store {
    /// Stores a finished call from a softphone's history, unless it is stored already (its
    /// id) or a call script reported it (the same far end, started within 2 s of it or while
    /// it lasted). With `held`,
    /// its registration waits like any heard call's; with `outcome`, what became of it is
    /// queued for its task. True when it was stored.
    pub fn store_past_call(
        &mut self,
        call: &CallRequest,
        held: Option<(&str, &str)>,
        life: CallLife,
        outcome: bool,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let external = call
            .external_id
            .as_ref()
            .ok_or_else(|| corrupt("a past call without an external id"))?
            .as_str()
            .to_owned();
        let started = life.started_ms.unwrap_or(now_ms);
        let far = far_end(call);
        let tx = self.tx()?;
        let known: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM calls WHERE external_id = ?1)",
                [&external],
                |r| r.get(0),
            )
            .map_err(|e| db_err(&e))?;
        if known {
            return Ok(false);
        }
        // Stored calls are found by when they were stored (indexed), then by their start.
        let mut near = tx
            .prepare(
                "SELECT request FROM calls
                 WHERE created_ms BETWEEN ?1 AND ?2
                   AND COALESCE(started_ms, created_ms) BETWEEN ?3 - ?5 AND ?4 + ?5",
            )
            .map_err(|e| db_err(&e))?;
        let window = 10 * 60 * 1000;
        let reported = near
            .query_map(
                params![
                    started - window,
                    started + window,
                    started,
                    life.ended_ms.unwrap_or(started).max(started),
                    SAME_START_MS + 999
                ],
                |r| r.get::<_, String>(0),
            )
            .map_err(|e| db_err(&e))?
            .filter_map(Result::ok)
            .filter_map(|json| serde_json::from_str::<CallRequest>(&json).ok())
            .any(|stored| far_end(&stored) == far);
        drop(near);
        if reported {
            return Ok(false);
        }
        let request = serde_json::to_string(call).map_err(corrupt)?;
        tx.execute(
            "INSERT INTO calls (external_id, request, created_ms, started_ms, answered_ms, ended_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            // Listed when it happened, not when the history was read.
            params![external, request, started, life.started_ms, life.answered_ms, life.ended_ms],
        )
        .map_err(|e| db_err(&e))?;
        let call_id = tx.last_insert_rowid();
        let (state, code, message) = match held {
            Some((code, message)) => ("held", Some(code), Some(message)),
            None => ("pending", None, None),
        };
        tx.execute(
            "INSERT INTO jobs (kind, call_id, state, next_ms, created_ms, updated_ms, error_code, error_message)
             VALUES (?1, ?2, ?3, ?4, ?4, ?4, ?5, ?6)",
            params![JobKind::Register, call_id, state, now_ms, code, message],
        )
        .map_err(|e| db_err(&e))?;
        if let (true, Some(ended_ms)) = (outcome, life.ended_ms) {
            let payload = CommentPayload {
                task_id: 0,
                text: String::new(),
                updates: Vec::new(),
                marker: format!("[pyrus-phone outcome {external}]"),
                outcome: Some(CallOutcome {
                    direction: call.direction,
                    started_ms: started,
                    answered_ms: life.answered_ms,
                    ended_ms,
                }),
            };
            let json = serde_json::to_string(&payload).map_err(corrupt)?;
            insert_job(&tx, JobKind::Comment, Some(call_id), &json, now_ms)?;
        }
        tx.commit().map_err(|e| db_err(&e))?;
        Ok(true)
    }

    /// How far the history `source` has been read (epoch seconds), if ever.
    pub fn history_mark(&self, source: &str) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row(
                "SELECT mark FROM history_marks WHERE source = ?1",
                [source],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql(e))
    }

    /// The history `source` is read up to `mark` (never moved back).
    pub fn set_history_mark(&mut self, source: &str, mark: i64) -> Result<(), StoreError> {
        let tx = self.tx()?;
        tx.execute(
            "INSERT INTO history_marks (source, mark) VALUES (?1, ?2)
             ON CONFLICT (source) DO UPDATE SET mark = MAX(mark, excluded.mark)",
            params![source, mark],
        )
        .map_err(|e| db_err(&e))?;
        tx.commit().map_err(|e| db_err(&e))
    }
}

/// The far end of a call: the caller of an incoming one, the callee of an outgoing one.
fn far_end(call: &CallRequest) -> &str {
    match call.direction {
        Direction::Outgoing => call.to.as_str(),
        Direction::Incoming | Direction::Unknown => call.from.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{call, store};
    use crate::domain::{CallLife, Direction, ExternalId, PhoneNumber};

    #[test]
    fn a_past_call_is_stored_once_and_never_beside_the_call_a_script_reported() {
        let (_dir, mut s) = store();
        // A call script reported a ring from +79161112200 at 1,000,000 ms.
        let mut heard = call("1-1@127.0.0.1");
        heard.direction = Direction::Incoming;
        s.insert_call(&heard, None, 1_000_000).unwrap();
        let life = |start: i64| CallLife {
            started_ms: Some(start),
            answered_ms: None,
            ended_ms: Some(start + 9_000),
        };
        // The same call in the history (started a second before the script heard it).
        let mut past = heard.clone();
        past.external_id = Some(ExternalId::parse("twinkle-history-1").unwrap());
        assert!(
            !s.store_past_call(&past, None, life(999_000), true, 2_000_000)
                .unwrap()
        );
        // Another call from the same number a minute later: stored, with its outcome.
        past.external_id = Some(ExternalId::parse("twinkle-history-2").unwrap());
        assert!(
            s.store_past_call(&past, None, life(1_060_000), true, 2_000_000)
                .unwrap()
        );
        assert!(
            !s.store_past_call(&past, None, life(1_060_000), true, 2_000_000)
                .unwrap()
        );
        // Someone else at the same moment: another call.
        past.external_id = Some(ExternalId::parse("twinkle-history-3").unwrap());
        past.from = PhoneNumber::parse("+79035550000").unwrap();
        assert!(
            s.store_past_call(
                &past,
                Some(("held", "why")),
                life(1_000_000),
                false,
                2_000_000
            )
            .unwrap()
        );
        let jobs: Vec<(String, String)> = s
            .conn
            .prepare("SELECT kind, state FROM jobs ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let pairs: Vec<(&str, &str)> = jobs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("register", "pending"),
                ("register", "pending"),
                ("comment", "pending"),
                ("register", "held")
            ]
        );
        assert_eq!(s.history_mark("h").unwrap(), None);
        s.set_history_mark("h", 20).unwrap();
        s.set_history_mark("h", 10).unwrap();
        assert_eq!(s.history_mark("h").unwrap(), Some(20));
    }
}
