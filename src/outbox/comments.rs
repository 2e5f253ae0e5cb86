//! Comments for tasks through the outbox's blocking threads: one stored (with a marker of
//! its own, so it is posted at most once), and one corrected after Pyrus refused it.

use super::{CommentPayload, Outbox, StoreError, now_ms};
use crate::domain::{CallRowId, JobId, Mapping};

/// A marker no other comment carries: the last line of what is posted.
pub fn comment_marker() -> String {
    use rand::Rng as _;
    let random: u64 = rand::rng().random();
    format!("[pyrus-phone {random:016x}]")
}

impl Outbox {
    /// Stores a comment for `task_id` (about the call `row`, when it is one of this outbox's):
    /// `text` and `updates`, with a fresh marker.
    pub async fn add_comment(
        &self,
        task_id: u64,
        text: String,
        updates: Vec<Mapping>,
        row: Option<CallRowId>,
    ) -> Result<JobId, StoreError> {
        let payload = CommentPayload {
            task_id,
            text,
            updates,
            marker: comment_marker(),
            outcome: None,
        };
        self.db(move |s| s.insert_comment(&payload, row.map(|r| r.0), now_ms()))
            .await
    }

    /// Corrects a comment not posted yet (its marker kept) and makes it due now.
    pub async fn correct_comment(
        &self,
        job: JobId,
        task_id: u64,
        text: String,
        updates: Vec<Mapping>,
    ) -> Result<(), StoreError> {
        let payload = CommentPayload {
            task_id,
            text,
            updates,
            marker: String::new(),
            outcome: None,
        };
        self.db(move |s| s.correct_comment(job, &payload, now_ms()))
            .await
    }
}
