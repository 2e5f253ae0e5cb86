//! Pickups: an ended call's recording looked for on this computer, and the attach it
//! queues once found, in the same transaction.

use rusqlite::{OptionalExtension as _, params};

use super::cascade::{job_state_error, settle_new_attach};
use super::error::{corrupt, db_err};
use super::jobs::insert_job;
use super::{AttachPayload, PickupPayload, Store, StoreError};
use crate::domain::{JobId, JobKind};

impl Store {
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
                    "SELECT id FROM jobs WHERE kind = ?2 AND call_id = ?1 AND state != 'discarded'",
                    params![id, JobKind::Pickup],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| db_err(&e))?;
            if let Some(job) = existing {
                return Ok(JobId(job));
            }
        }
        let job = insert_job(&tx, JobKind::Pickup, call_id, &json, now_ms)?;
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
                 WHERE id = ?1 AND kind = ?4 AND state = 'running' AND claim = ?3",
                params![job.0, now_ms, token, JobKind::Pickup],
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
                let attach = insert_job(&tx, JobKind::Attach, call_id, &json, now_ms)?;
                settle_new_attach(&tx, attach, call_id, now_ms)?;
                Some(attach)
            }
            None => None,
        };
        tx.commit().map_err(|e| db_err(&e))?;
        Ok(attach)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{attach_to, call, store};
    use super::super::{Lane, PickupPayload, StoredTarget, Work};
    use crate::domain::JobState;

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
}
