//! Comments for tasks (wrap-ups, calls' outcomes): stored with the call they are about,
//! and corrected in place when Pyrus refused one (the job keeps its marker, so it is still
//! posted at most once).

use rusqlite::params;

use super::error::{corrupt, db_err};
use super::jobs::insert_job;
use super::{CommentPayload, Store, StoreError};
use crate::domain::{JobId, JobKind};

impl Store {
    /// Stores a comment job for `payload`'s task, about the call `call_id` when it is one of
    /// this outbox's.
    pub fn insert_comment(
        &mut self,
        payload: &CommentPayload,
        call_id: Option<i64>,
        now_ms: i64,
    ) -> Result<JobId, StoreError> {
        let json = serde_json::to_string(payload).map_err(corrupt)?;
        let tx = self.tx()?;
        let job = insert_job(&tx, JobKind::Comment, call_id, &json, now_ms)?;
        tx.commit().map_err(|e| db_err(&e))?;
        Ok(job)
    }

    /// Replaces a comment not posted yet (refused, or still waiting) with `payload` — its
    /// marker kept — and makes it due now. Fails with `WrongState` for one posted, running
    /// or discarded.
    pub fn correct_comment(
        &mut self,
        job: JobId,
        payload: &CommentPayload,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let tx = self.tx()?;
        let kept: Option<String> = tx
            .query_row(
                "SELECT payload FROM jobs WHERE id = ?1 AND kind = ?2",
                params![job.0, JobKind::Comment],
                |r| r.get(0),
            )
            .map_err(|e| db_err(&e))
            .ok()
            .flatten();
        let Some(kept) = kept else {
            return Err(StoreError::NoSuchJob(job));
        };
        let kept: CommentPayload = serde_json::from_str(&kept).map_err(corrupt)?;
        let corrected = CommentPayload {
            marker: kept.marker,
            ..payload.clone()
        };
        let json = serde_json::to_string(&corrected).map_err(corrupt)?;
        let changed = tx
            .execute(
                "UPDATE jobs SET payload = ?2, state = 'pending', next_ms = ?3, attempts = 0,
                        error_code = NULL, error_message = NULL, updated_ms = ?3
                 WHERE id = ?1 AND state IN ('pending', 'failed', 'needs_credentials')",
                params![job.0, json, now_ms],
            )
            .map_err(|e| db_err(&e))?;
        if changed == 0 {
            return Err(super::cascade::job_state_error(&tx, job));
        }
        tx.commit().map_err(|e| db_err(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::store;
    use super::super::{CommentPayload, Lane, Work};
    use crate::domain::{JobState, Mapping};

    #[test]
    fn a_refused_comment_is_corrected_in_place_and_keeps_its_marker() {
        let (_dir, mut s) = store();
        let payload = CommentPayload {
            task_id: 7,
            text: "Promised a refund".to_owned(),
            updates: vec![Mapping::new("Result", "Solved").unwrap()],
            marker: "pyrus-phone wrap-up w-1".to_owned(),
            outcome: None,
        };
        let job = s.insert_comment(&payload, None, 1_000).unwrap();
        let claimed = s.claim_due(Lane::Comment, 1_000, 60_000).unwrap().unwrap();
        assert_eq!(claimed.job, job);
        s.park(
            job,
            Some(claimed.token),
            JobState::Failed,
            ("invalid_value_format", "no such choice"),
            1_100,
        )
        .unwrap();
        let corrected = CommentPayload {
            updates: vec![Mapping::new("Result", "Resolved").unwrap()],
            marker: "another".to_owned(),
            ..payload
        };
        s.correct_comment(job, &corrected, 2_000).unwrap();
        let again = s.claim_due(Lane::Comment, 2_000, 60_000).unwrap().unwrap();
        let Work::Comment { payload: sent, .. } = again.work else {
            panic!("not a comment: {:?}", again.work);
        };
        assert_eq!(sent.updates[0].value, "Resolved");
        assert_eq!(sent.marker, "pyrus-phone wrap-up w-1", "the marker stays");
        assert_eq!(s.job(job).unwrap().state, JobState::Running);
        assert!(
            s.correct_comment(job, &corrected, 3_000).is_err(),
            "a running comment is not changed under its sender"
        );
    }
}
