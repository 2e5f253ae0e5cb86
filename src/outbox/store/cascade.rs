//! What the agent does to a job (retry, resend corrected, discard, take the discard back),
//! and what a registration's fate does to the recordings waiting on it.

use rusqlite::{OptionalExtension as _, Transaction, params};

use super::error::{corrupt, db_err};
use super::{Store, StoreError};
use crate::domain::{CallRequest, ExternalId, JobId, JobKind};

/// How long after a discard it can be taken back.
pub const UNDO_MS: i64 = 10_000;

/// The code of a recording whose call could not be registered.
const REGISTRATION_FAILED: &str = "registration_failed";

impl Store {
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
                 WHERE j.id = ?1 AND j.kind = ?2
                   AND j.state IN ('pending', 'failed', 'needs_credentials')",
                params![job.0, JobKind::Register],
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

    /// Discards a job the agent gave up on (and the recordings waiting on it). The row
    /// stays, marked discarded.
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
        if let Some(call_id) = registered_call(&tx, job)? {
            tx.execute(
                "UPDATE jobs SET undo_state = state, state = 'discarded', updated_ms = ?2
                 WHERE kind IN (?3, ?4) AND state IN ('pending', 'failed') AND call_id = ?1",
                params![call_id, now_ms, JobKind::Attach, JobKind::Pickup],
            )
            .map_err(|e| db_err(&e))?;
        }
        tx.commit().map_err(|e| db_err(&e))
    }

    /// Takes back a discard made less than [`UNDO_MS`] ago: the job (and the recordings it
    /// took with it) return to the state they had, due now.
    pub fn undiscard(&mut self, job: JobId, now_ms: i64) -> Result<(), StoreError> {
        let tx = self.tx()?;
        let found: Option<(Option<i64>, JobKind, i64)> = tx
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
        if kind == JobKind::Register {
            // The recordings it took with it, in the same discard.
            tx.execute(
                &format!(
                    "UPDATE jobs {back} WHERE kind IN (?4, ?5) AND call_id = ?1
                       AND state = 'discarded' AND undo_state IS NOT NULL AND updated_ms = ?3"
                ),
                params![
                    call_id,
                    now_ms,
                    discarded_ms,
                    JobKind::Attach,
                    JobKind::Pickup
                ],
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
}

/// The call whose registration `job` is, when it is a register job with a call.
pub(super) fn registered_call(tx: &Transaction<'_>, job: JobId) -> Result<Option<i64>, StoreError> {
    tx.query_row(
        "SELECT call_id FROM jobs WHERE id = ?1 AND kind = ?2",
        params![job.0, JobKind::Register],
        |r| r.get::<_, Option<i64>>(0),
    )
    .optional()
    .map(Option::flatten)
    .map_err(|e| db_err(&e))
}

/// The recordings waiting on `call_id`'s registration fail with it: they can go only once
/// the registration is retried.
pub(super) fn fail_waiting(
    tx: &Transaction<'_>,
    call_id: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE jobs SET state = 'failed', error_code = ?3, error_message = NULL, updated_ms = ?2
         WHERE kind = ?4 AND state = 'pending' AND call_id = ?1",
        params![call_id, now_ms, REGISTRATION_FAILED, JobKind::Attach],
    )
    .map_err(|e| db_err(&e))?;
    Ok(())
}

/// A recording queued for `call_id` after its registration was discarded or failed for good
/// shares that fate at once.
pub(super) fn settle_new_attach(
    tx: &Transaction<'_>,
    attach: JobId,
    call_id: Option<i64>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let Some(call_id) = call_id else {
        return Ok(());
    };
    let register: Option<String> = tx
        .query_row(
            "SELECT state FROM jobs WHERE call_id = ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1",
            params![call_id, JobKind::Register],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| db_err(&e))?;
    let (state, code) = match register.as_deref() {
        Some("discarded") => ("discarded", None),
        Some("failed") => ("failed", Some(REGISTRATION_FAILED)),
        _ => return Ok(()),
    };
    tx.execute(
        "UPDATE jobs SET state = ?2, error_code = ?3, updated_ms = ?4 WHERE id = ?1",
        params![attach.0, state, code, now_ms],
    )
    .map_err(|e| db_err(&e))?;
    Ok(())
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
    if let Some(call_id) = registered_call(tx, job)? {
        tx.execute(
            "UPDATE jobs SET state = 'pending', next_ms = ?2, updated_ms = ?2
             WHERE kind = ?3 AND state = 'failed' AND error_code = ?4 AND call_id = ?1",
            params![call_id, now_ms, JobKind::Attach, REGISTRATION_FAILED],
        )
        .map_err(|e| db_err(&e))?;
    }
    Ok(())
}

/// Why an action does not apply to `job`: there is no such job, or it is in another state.
pub(super) fn job_state_error(tx: &Transaction<'_>, job: JobId) -> StoreError {
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
    use super::super::testing::{attach_to, call, registration, store};
    use super::super::{Lane, StoreError};
    use crate::domain::{JobState, PhoneNumber};

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
}
