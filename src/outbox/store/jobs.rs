//! Jobs once claimed: stored, their leases renewed, finished, rescheduled, parked or
//! released — each only by the attempt holding the claim's token; and taking up work a
//! process left behind (a crash, a stop).

use rusqlite::{Transaction, params};

use super::cascade::{fail_waiting, registered_call};
use super::error::{corrupt, db_err};
use super::{AttachPayload, Store, StoreError};
use crate::domain::{JobId, JobKind, JobState, Registration};
use crate::outbox::owners::Owners;

impl Store {
    /// Stores an attach job.
    pub fn insert_attach(
        &mut self,
        payload: &AttachPayload,
        now_ms: i64,
    ) -> Result<JobId, StoreError> {
        let call_id = payload.target.call_id();
        let json = serde_json::to_string(payload).map_err(corrupt)?;
        let tx = self.tx()?;
        let job = insert_job(&tx, JobKind::Attach, call_id, &json, now_ms)?;
        tx.commit().map_err(|e| db_err(&e))?;
        Ok(job)
    }

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
            "UPDATE jobs SET next_ms = MIN(next_ms, ?2) WHERE call_id = ?1 AND kind = ?3 AND state = 'pending'",
            params![call_id, now_ms, JobKind::Attach],
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
        if state == JobState::Failed
            && let Some(call_id) = registered_call(&tx, job)?
        {
            fail_waiting(&tx, call_id, now_ms)?;
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
    pub(super) fn forget_ended_owners(&self) {
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

    /// The due jobs of `kind` wait for credentials (no client can be made: no key, no
    /// keyring), each saying why with `error`; they fall due again when credentials change.
    /// Returns how many.
    pub fn park_due_for_credentials(
        &mut self,
        kind: JobKind,
        (code, message): (&str, &str),
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        self.writable()?;
        self.conn
            .execute(
                "UPDATE jobs SET state = 'needs_credentials', error_code = ?3, error_message = ?4,
                        updated_ms = ?2, lease_ms = NULL
                 WHERE kind = ?1 AND state = 'pending' AND next_ms <= ?2",
                params![kind, now_ms, code, message],
            )
            .map_err(|e| self.sql(e))
    }

    /// Jobs held back only because Pyrus could not be reached (no connection, no answer in
    /// time) fall due now: it has just answered. A server that answered with an error or
    /// asked to wait keeps its time. Returns how many.
    pub fn wake_unreachable(&mut self, now_ms: i64) -> Result<usize, StoreError> {
        self.writable()?;
        self.conn
            .execute(
                "UPDATE jobs SET next_ms = ?1, updated_ms = ?1
                 WHERE state = 'pending' AND next_ms > ?1 AND error_code IN (?2, ?3)",
                params![now_ms, "network", "timeout"],
            )
            .map_err(|e| self.sql(e))
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
}

/// Inserts a pending job of `kind` carrying `payload` (in the caller's transaction).
pub(super) fn insert_job(
    tx: &Transaction<'_>,
    kind: JobKind,
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
            params![job.0, state, code, message, now_ms, token],
        )
        .map_err(|e| db_err(&e))?;
    if n == 0 {
        tracing::warn!(%job, "the job was taken over; this attempt's outcome is dropped");
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{attach_to, call, registration, store};
    use super::super::{AttachPayload, Lane, StoredTarget, Work};
    use crate::domain::JobState;

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
                .is_some_and(|m| m.contains("cannot read") && m.contains("key must be a string")),
            "the row keeps why it cannot be read: {set_aside:?}"
        );
        assert_eq!(set_aside.subject, crate::domain::JobSubject::Unreadable);
        assert!(s.claim_due(Lane::Upload, 20, 1_000).unwrap().is_none());
    }
}
