//! What a softphone says of calls besides events, through the outbox's blocking threads: its
//! own call history (a past call stored unless a call script reported it, how far each
//! history file has been read), and a call's far-end name and why it ended.

use super::{Outbox, StoreError, now_ms};
use crate::domain::{CallLife, CallRequest, LINE_NUMBER_MISSING};

impl Outbox {
    /// Stores a finished call from a softphone's history (see
    /// [`super::store::Store::store_past_call`]), held for this line's number with `held`
    /// (why); true when it was stored.
    pub async fn store_past_call(
        &self,
        call: CallRequest,
        held: Option<String>,
        life: CallLife,
        outcome: bool,
    ) -> Result<bool, StoreError> {
        self.db(move |s| {
            let held = held.as_deref().map(|why| (LINE_NUMBER_MISSING, why));
            s.store_past_call(&call, held, life, outcome, now_ms())
        })
        .await
    }

    /// Notes the far end's name and why the call ended on the call stored under
    /// `external_id`; true when its row changed.
    pub async fn note_call_words(
        &self,
        external_id: String,
        display: Option<String>,
        reason: Option<String>,
    ) -> Result<bool, StoreError> {
        self.db(move |s| s.note_call_words(&external_id, display.as_deref(), reason.as_deref()))
            .await
    }

    /// How far the history `source` has been read (epoch seconds), if ever.
    pub async fn history_mark(&self, source: String) -> Result<Option<i64>, StoreError> {
        self.db(move |s| s.history_mark(&source)).await
    }

    /// The history `source` is read up to `mark`.
    pub async fn set_history_mark(&self, source: String, mark: i64) -> Result<(), StoreError> {
        self.db(move |s| s.set_history_mark(&source, mark)).await
    }
}
