//! The index of customers' numbers, through the outbox's blocking threads: how far each
//! form's reading is, a page stored, a caller looked up.

use super::store::{IndexedTask, Reading};
use super::{Outbox, StoreError, now_ms};
use crate::domain::CallerTask;

impl Outbox {
    /// How far `form_id`'s reading is.
    pub async fn caller_reading(&self, form_id: u64) -> Result<Reading, StoreError> {
        self.db(move |s| s.caller_reading(form_id)).await
    }

    /// Starts a reading of `form_id`, or finds the one under way.
    pub async fn begin_caller_reading(
        &self,
        form_id: u64,
        modified_after: Option<String>,
    ) -> Result<Reading, StoreError> {
        self.db(move |s| s.begin_caller_reading(form_id, modified_after.as_deref()))
            .await
    }

    /// Stores one page of `form_id`'s register.
    pub async fn store_caller_page(
        &self,
        form_id: u64,
        tasks: Vec<IndexedTask>,
    ) -> Result<(), StoreError> {
        self.db(move |s| s.store_caller_page(form_id, &tasks)).await
    }

    /// The reading of `form_id` reached the end now.
    pub async fn finish_caller_reading(&self, form_id: u64) -> Result<(), StoreError> {
        self.db(move |s| s.finish_caller_reading(form_id, now_ms()))
            .await
    }

    /// The reading of `form_id` failed with `code`.
    pub async fn note_caller_problem(
        &self,
        form_id: u64,
        code: String,
        denied: bool,
    ) -> Result<(), StoreError> {
        self.db(move |s| s.note_caller_problem(form_id, &code, denied))
            .await
    }

    /// The tasks of `forms` whose phones hold `number` (normalised), newest first.
    pub async fn find_caller(
        &self,
        number: String,
        forms: Vec<u64>,
    ) -> Result<Vec<CallerTask>, StoreError> {
        self.db(move |s| s.find_caller(&number, &forms)).await
    }
}
