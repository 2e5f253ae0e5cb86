//! Claims: which job is due for a lane (or by id), read before it is claimed (a row that
//! cannot be read is set aside, never stops the rest), leased with a token once the rate
//! budget allows it; when the next one falls due.

use rusqlite::{OptionalExtension as _, Transaction, params};

use super::budget::{RATE_BUDGET_CODE, next_window_ms, requests_of, within};
use super::cascade::fail_waiting;
use super::error::{corrupt, db_err};
use super::{
    AttachPayload, CallRow, Claimed, CommentPayload, Store, StoreError, StoredTarget, Work,
    load_call, new_token,
};
use crate::domain::{AttachTarget, JobId, JobKind};

/// A due job as read for claiming: id, kind, call id, payload, attempts, claimed before.
type DueRow = (i64, String, Option<i64>, Option<String>, u32, bool);

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
    /// Comments on tasks: wrap-ups and calls' outcomes.
    Comment,
}

impl Lane {
    /// The lanes that talk to Pyrus (what the CLI sends).
    pub const NETWORK: [Self; 3] = [Self::Register, Self::Upload, Self::Comment];

    /// The kind of job it claims.
    pub fn kind(self) -> JobKind {
        match self {
            Self::Register => JobKind::Register,
            Self::Upload => JobKind::Attach,
            Self::Pickup => JobKind::Pickup,
            Self::Comment => JobKind::Comment,
        }
    }
}

impl Store {
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
                 JOIN jobs r ON r.call_id = a.call_id AND r.kind = ?2
                 WHERE a.id = ?1 AND a.kind = ?3 AND c.task_id IS NULL
                 ORDER BY r.id DESC LIMIT 1",
                params![job.0, JobKind::Register, JobKind::Attach],
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
        let Some((id, kind, call_id, payload, attempts, claimed_before)) =
            due_row(&tx, filter, &value, now_ms)?
        else {
            return Ok(None);
        };
        let job = JobId(id);
        // Read the row before claiming it: one that cannot be read is set aside as failed,
        // with why, and the next one is claimed — it never stops the rest.
        let read = JobKind::from_name(&kind)
            .ok_or_else(|| corrupt(format!("unknown job kind {kind}")))
            .and_then(|kind| {
                let call = call_id.map(|cid| load_call(&tx, cid)).transpose()?;
                Ok((kind, read_work(kind, payload.as_deref(), call)?))
            });
        let (kind, work) = match read {
            Ok(read) => read,
            // Only a row that cannot be decoded is poison; a failing disk is not the job's
            // fault (the claim is rolled back and the error reported).
            Err(e @ StoreError::Corrupt(_)) => {
                set_aside(&tx, job, JobKind::from_name(&kind), call_id, &e, now_ms)?;
                tx.commit().map_err(|e| db_err(&e))?;
                return self.claim_where(filter, value, now_ms, lease_ms);
            }
            Err(e) => return Err(e),
        };
        // Over this window's budget: the job waits for the next window, and says so.
        if !within(&tx, requests_of(kind), now_ms)? {
            let next_window = next_window_ms(now_ms);
            tracing::warn!(%job, "the rate limit's budget is spent; waiting for the next window");
            tx.execute(
                "UPDATE jobs SET state = 'pending', next_ms = ?2, lease_ms = NULL,
                        error_code = ?3, error_message = ?4 WHERE id = ?1",
                params![
                    id,
                    next_window,
                    RATE_BUDGET_CODE,
                    "this computer has used its share of Pyrus's requests for these ten minutes; it goes when the next ten minutes begin"
                ],
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
            claimed_before,
            work,
        }))
    }

    /// When the next pending job of `lane` (of a network lane with `None`) falls due (Unix
    /// ms), if any can run.
    pub fn next_due_ms(&self, lane: Option<Lane>) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row(
                "SELECT MIN(CASE WHEN j.state = 'running' THEN j.lease_ms ELSE j.next_ms END) FROM jobs j
                 LEFT JOIN calls c ON c.id = j.call_id
                 WHERE j.state IN ('pending', 'running')
                   AND ((?1 IS NULL AND j.kind IN (?2, ?3, ?4)) OR j.kind = ?1)
                   AND (j.kind NOT IN (?3, ?4) OR j.call_id IS NULL OR c.task_id IS NOT NULL)",
                params![
                    lane.map(Lane::kind),
                    JobKind::Register,
                    JobKind::Attach,
                    JobKind::Comment
                ],
                |r| r.get(0),
            )
            .map_err(|e| self.sql(e))
    }
}

/// The first due job `filter` (with `value` as `?2`) selects: pending and due, or running
/// with its lease run out; an attach to a stored call only once the call has its task.
fn due_row(
    tx: &Transaction<'_>,
    filter: &str,
    value: &impl rusqlite::ToSql,
    now_ms: i64,
) -> Result<Option<DueRow>, StoreError> {
    tx.query_row(
        &format!(
            "SELECT j.id, j.kind, j.call_id, j.payload, j.attempts, j.claim IS NOT NULL FROM jobs j
             LEFT JOIN calls c ON c.id = j.call_id
             WHERE {filter}
               AND ((j.state = 'pending' AND j.next_ms <= ?1)
                    OR (j.state = 'running' AND j.lease_ms < ?1))
               AND (j.kind NOT IN (?3, ?4) OR j.call_id IS NULL OR c.task_id IS NOT NULL)
             ORDER BY j.next_ms, j.id LIMIT 1"
        ),
        params![now_ms, value, JobKind::Attach, JobKind::Comment],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        },
    )
    .optional()
    .map_err(|e| db_err(&e))
}

/// Sets aside a job whose row cannot be read (`why`), as failed with `unreadable`; the
/// recordings waiting on a registration that cannot be read wait no longer.
fn set_aside(
    tx: &Transaction<'_>,
    job: JobId,
    kind: Option<JobKind>,
    call_id: Option<i64>,
    why: &StoreError,
    now_ms: i64,
) -> Result<(), StoreError> {
    tracing::error!(%job, error = %why, "a job that cannot be read is set aside");
    tx.execute(
        "UPDATE jobs SET state = 'failed', lease_ms = NULL, error_code = 'unreadable',
                error_message = ?2, updated_ms = ?3 WHERE id = ?1",
        params![job.0, why.to_string(), now_ms],
    )
    .map_err(|e| db_err(&e))?;
    match (kind, call_id) {
        (Some(JobKind::Register), Some(call_id)) => fail_waiting(tx, call_id, now_ms),
        _ => Ok(()),
    }
}

/// What a claimed job is to do, read from its row.
fn read_work(
    kind: JobKind,
    payload: Option<&str>,
    call: Option<CallRow>,
) -> Result<Work, StoreError> {
    match kind {
        JobKind::Register => {
            Ok(Work::Register(call.ok_or_else(|| {
                corrupt("a register job without its call")
            })?))
        }
        JobKind::Attach => {
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
        JobKind::Pickup => Ok(Work::Pickup(
            serde_json::from_str(payload.unwrap_or_default()).map_err(corrupt)?,
        )),
        JobKind::Comment => {
            let mut payload: CommentPayload =
                serde_json::from_str(payload.unwrap_or_default()).map_err(corrupt)?;
            // A call's outcome goes to the call's task, known once it is registered.
            if payload.task_id == 0 {
                payload.task_id = call
                    .as_ref()
                    .and_then(|c| c.registration.as_ref().map(|r| r.task_id))
                    .ok_or_else(|| corrupt("a call's outcome claimed before its registration"))?;
            }
            let call = call
                .filter(|_| payload.outcome.is_some())
                .map(|c| Box::new(c.request));
            Ok(Work::Comment { payload, call })
        }
    }
}
