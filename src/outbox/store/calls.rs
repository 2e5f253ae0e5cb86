//! Stored calls: a call and its registration job in one transaction (held, pending, or
//! claimed to be sent at once), found by external id, completed with this line's number,
//! and what the softphone said of it (rang, answered, ended).

use rusqlite::{OptionalExtension as _, params};

use super::error::{corrupt, db_err};
use super::jobs::insert_job;
use super::{
    CallOutcome, CallRow, Claimed, CommentPayload, Store, StoreError, Work, call_row, load_call,
    new_token,
};
use crate::domain::{
    CallLife, CallRequest, Direction, ExternalId, JobId, JobKind, LINE_NUMBER_MISSING, PhoneNumber,
};

/// What a call id finds among the stored calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Live {
    /// Nothing stored under it.
    None,
    /// A call stored under it lately: its registration job.
    Registration(JobId),
    /// A call stored under it long ago: a source that reuses call ids; the new call needs an
    /// id of its own.
    Stale,
}

impl Store {
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
            claimed_before: false,
            work: Work::Register(row),
        })
    }

    /// The live registration job of the call stored under `external_id` (not discarded),
    /// if there is one: a heard call handled again after a crash finds its first one.
    pub fn live_registration(
        &self,
        external_id: &ExternalId,
        since_ms: i64,
    ) -> Result<Live, StoreError> {
        let found: Option<(i64, i64)> = self
            .conn
            .prepare_cached(
                "SELECT j.id, c.created_ms FROM calls c
                 LEFT JOIN jobs j ON j.call_id = c.id AND j.kind = ?2 AND j.state != 'discarded'
                 WHERE c.external_id = ?1
                 ORDER BY j.id DESC LIMIT 1",
            )
            .and_then(|mut st| {
                st.query_row(params![external_id.as_str(), JobKind::Register], |r| {
                    Ok((r.get::<_, Option<i64>>(0)?.unwrap_or(0), r.get(1)?))
                })
            })
            .optional()
            .map_err(|e| self.sql(e))?;
        Ok(match found {
            None => Live::None,
            Some((_, created)) if created < since_ms => Live::Stale,
            Some((0, _)) => Live::None,
            Some((job, _)) => Live::Registration(JobId(job)),
        })
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
            .prepare_cached("SELECT id FROM calls WHERE external_id = ?1")
            .and_then(|mut st| st.query_row([&external], |r| r.get(0)))
            .optional()
            .map_err(|e| db_err(&e))?;
        let call_id = if let Some(id) = existing {
            id
        } else {
            tx.prepare_cached(
                "INSERT INTO calls (external_id, request, created_ms) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut st| st.execute(params![external, request, now_ms]))
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
        tx.prepare_cached(
            "INSERT INTO jobs (kind, call_id, state, next_ms, created_ms, updated_ms, error_code, error_message, lease_ms, owner_pid, claim)
             VALUES (?9, ?1, ?3, ?2, ?2, ?2, ?4, ?5, ?6, ?7, ?8)",
        )
        .and_then(|mut st| {
            st.execute(params![call_id, now_ms, state, code, message, lease_ms, owner, token, JobKind::Register])
        })
        .map_err(|e| db_err(&e))?;
        let job = JobId(tx.last_insert_rowid());
        // A call sent at once is never held back by the budget (it is one call, now); what
        // Pyrus answers is counted by the runner.
        let row = load_call(&tx, call_id)?;
        tx.commit().map_err(|e| db_err(&e))?;
        Ok((call_id, job, row))
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

    /// Completes calls held for this line's number with `line` (the callee of an incoming
    /// call, the caller of an outgoing one) and makes them due; returns how many.
    pub fn fill_line(&mut self, line: &PhoneNumber, now_ms: i64) -> Result<usize, StoreError> {
        let tx = self.tx()?;
        let held: Vec<(i64, i64)> = {
            let mut stmt = tx
                .prepare(
                    "SELECT id, call_id FROM jobs WHERE kind = ?2 AND state = 'held'
                       AND error_code = ?1 AND call_id IS NOT NULL",
                )
                .map_err(|e| db_err(&e))?;
            let rows = stmt
                .query_map(params![LINE_NUMBER_MISSING, JobKind::Register], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
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

    /// The stored call for a row id.
    pub fn call(&self, call_id: i64) -> Result<CallRow, StoreError> {
        load_call(&self.conn, call_id)
    }

    /// Notes what was heard of the call stored under `external_id` (a time already noted
    /// is kept). False when no call is stored under it.
    pub fn note_life(
        &mut self,
        external_id: &str,
        life: CallLife,
        outcome: bool,
    ) -> Result<bool, StoreError> {
        let tx = self.tx()?;
        // Ended just now (not before): its outcome is queued in the same transaction, once.
        let ending: Option<(i64, i64)> = match life.ended_ms {
            Some(_) if outcome => tx
                .query_row(
                    "SELECT id, COALESCE(started_ms, created_ms) FROM calls
                     WHERE external_id = ?1 AND ended_ms IS NULL",
                    [external_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(|e| db_err(&e))?,
            _ => None,
        };
        let n = tx
            .execute(
                "UPDATE calls SET started_ms = COALESCE(started_ms, ?2),
                                  answered_ms = COALESCE(answered_ms, ?3),
                                  ended_ms = COALESCE(ended_ms, ?4)
                 WHERE external_id = ?1
                   AND ((started_ms IS NULL AND ?2 IS NOT NULL)
                        OR (answered_ms IS NULL AND ?3 IS NOT NULL)
                        OR (ended_ms IS NULL AND ?4 IS NOT NULL))",
                params![
                    external_id,
                    life.started_ms,
                    life.answered_ms,
                    life.ended_ms
                ],
            )
            .map_err(|e| db_err(&e))?;
        if let (Some((call_id, stored_start)), Some(ended_ms)) = (ending, life.ended_ms) {
            let call = load_call(&tx, call_id)?;
            let payload = CommentPayload {
                task_id: 0,
                text: String::new(),
                updates: Vec::new(),
                marker: format!("[pyrus-phone outcome {external_id}]"),
                outcome: Some(CallOutcome {
                    direction: call.request.direction,
                    started_ms: life.started_ms.unwrap_or(stored_start),
                    answered_ms: life.answered_ms,
                    ended_ms,
                }),
            };
            let json = serde_json::to_string(&payload).map_err(corrupt)?;
            insert_job(&tx, JobKind::Comment, Some(call_id), &json, ended_ms)?;
        }
        tx.commit().map_err(|e| db_err(&e))?;
        Ok(n > 0)
    }
}

impl Store {
    /// Notes the far end's name and why the call ended, as the softphone said them, on the
    /// call stored under `external_id` (what was noted first is kept). True when a row
    /// changed.
    pub fn note_call_words(
        &mut self,
        external_id: &str,
        display: Option<&str>,
        reason: Option<&str>,
    ) -> Result<bool, StoreError> {
        let tx = self.tx()?;
        let n = tx
            .execute(
                "UPDATE calls SET display = COALESCE(display, ?2), end_reason = COALESCE(end_reason, ?3)
                 WHERE external_id = ?1
                   AND ((display IS NULL AND ?2 IS NOT NULL) OR (end_reason IS NULL AND ?3 IS NOT NULL))",
                params![external_id, display, reason],
            )
            .map_err(|e| db_err(&e))?;
        tx.commit().map_err(|e| db_err(&e))?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{call, store};
    use super::super::{Lane, Work};
    use crate::domain::{JobState, PhoneNumber};

    #[test]
    fn a_call_id_finds_its_call_only_for_a_while_and_life_is_noted_once() {
        use super::Live;
        let (_dir, mut s) = store();
        let old = call("1-22309@127.0.0.1");
        let id = old.external_id.clone().unwrap();
        let (_, job) = s.insert_call(&old, None, 1_000).unwrap();
        assert_eq!(
            s.live_registration(&id, 0).unwrap(),
            Live::Registration(job)
        );
        assert_eq!(s.live_registration(&id, 5_000).unwrap(), Live::Stale);
        let fresh = id.reused_at(90_000);
        assert_ne!(fresh, id);
        assert_eq!(s.live_registration(&fresh, 5_000).unwrap(), Live::None);
        // What was heard of a call is written when it says something new, only.
        let life = crate::domain::CallLife {
            started_ms: Some(1_000),
            answered_ms: None,
            ended_ms: None,
        };
        assert!(s.note_life(id.as_str(), life, false).unwrap());
        assert!(
            !s.note_life(id.as_str(), life, false).unwrap(),
            "nothing new"
        );
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
    fn an_ended_calls_outcome_is_queued_once_and_waits_for_its_task() {
        use super::super::testing::registration;
        use crate::domain::CallLife;
        let (_dir, mut s) = store();
        let c = call("outcome-1");
        let id = c.external_id.clone().unwrap();
        let (call_id, job) = s.insert_call(&c, None, 1_000).unwrap();
        let life = |ended| CallLife {
            started_ms: Some(1_000),
            answered_ms: Some(2_000),
            ended_ms: ended,
        };
        s.note_life(id.as_str(), life(None), true).unwrap();
        s.note_life(id.as_str(), life(Some(182_000)), true).unwrap();
        // The end heard again (an echo, a restart): still one outcome.
        s.note_life(id.as_str(), life(Some(183_000)), true).unwrap();
        assert!(
            s.claim_due(Lane::Comment, 200_000, 300_000)
                .unwrap()
                .is_none(),
            "the call has no task yet"
        );
        assert_eq!(s.next_due_ms(Some(Lane::Comment)).unwrap(), None);
        let claimed = s
            .claim_due(Lane::Register, 200_000, 300_000)
            .unwrap()
            .unwrap();
        assert_eq!(claimed.job, job);
        s.complete_register(job, claimed.token, call_id, &registration(77), 200_000)
            .unwrap();
        let outcome = s
            .claim_due(Lane::Comment, 200_000, 300_000)
            .unwrap()
            .unwrap();
        let Work::Comment { payload, .. } = outcome.work else {
            panic!("not a comment");
        };
        assert_eq!(payload.task_id, 77);
        let said = payload.outcome.unwrap();
        assert_eq!((said.answered_ms, said.ended_ms), (Some(2_000), 182_000));
        assert!(
            s.claim_due(Lane::Comment, 200_000, 300_000)
                .unwrap()
                .is_none()
        );
        s.complete(outcome.job, outcome.token, 210_000).unwrap();
        // Switched off: nothing queued.
        let quiet = call("outcome-2");
        let quiet_id = quiet.external_id.clone().unwrap();
        s.insert_call(&quiet, None, 1_000).unwrap();
        s.note_life(quiet_id.as_str(), life(Some(5_000)), false)
            .unwrap();
        assert_eq!(s.next_due_ms(Some(Lane::Comment)).unwrap(), None);
    }
}
