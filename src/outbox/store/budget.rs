//! The rate budget every process sharing the outbox spends together: requests Pyrus
//! answered per ten minutes (logins and form loads too; an attempt that never reached
//! Pyrus costs nothing), kept under Pyrus's own limit. A claim checks it; the runner counts
//! what was answered.

use rusqlite::{OptionalExtension as _, Transaction, params};

use super::StoreError;
use super::error::db_err;
use crate::domain::JobKind;

/// Pyrus allows 5,000 requests per ten minutes per user; every process sharing this outbox
/// stays under this many together (some room is left for the rest of the agent's tools).
pub const RATE_BUDGET: i64 = 4_500;

/// The rate limit's window.
pub const RATE_WINDOW_MS: i64 = 10 * 60 * 1000;

/// The requests a job of `kind` makes (an attach uploads, then attaches).
pub(super) fn requests_of(kind: JobKind) -> i64 {
    match kind {
        JobKind::Register => 1,
        JobKind::Attach => 2,
        JobKind::Pickup => 0,
        // The form (choices by name), the task's comments (was it posted?), the comment.
        JobKind::Comment => 3,
    }
}

/// The error code a job held back by the budget carries until it goes.
pub const RATE_BUDGET_CODE: &str = "rate_budget";

/// True when `cost` more requests fit in the current window's budget.
pub(super) fn within(tx: &Transaction<'_>, cost: i64, now_ms: i64) -> Result<bool, StoreError> {
    if cost == 0 {
        return Ok(true);
    }
    let used: i64 = tx
        .query_row(
            "SELECT requests FROM rate WHERE window = ?1",
            [now_ms / RATE_WINDOW_MS],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| db_err(&e))?
        .unwrap_or(0);
    Ok(used + cost <= RATE_BUDGET)
}

/// The start of the next window (Unix ms): when a held job may go.
pub(super) fn next_window_ms(now_ms: i64) -> i64 {
    (now_ms / RATE_WINDOW_MS + 1) * RATE_WINDOW_MS
}

/// Counts `answered` requests in the current window.
pub(super) fn count(tx: &Transaction<'_>, answered: i64, now_ms: i64) -> Result<(), StoreError> {
    if answered <= 0 {
        return Ok(());
    }
    let window = now_ms / RATE_WINDOW_MS;
    let cost = answered;
    tx.execute(
        "INSERT INTO rate (window, requests) VALUES (?1, ?2)
         ON CONFLICT(window) DO UPDATE SET requests = requests + ?2",
        params![window, cost],
    )
    .map_err(|e| db_err(&e))?;
    tx.execute("DELETE FROM rate WHERE window < ?1", [window - 1])
        .map_err(|e| db_err(&e))?;
    Ok(())
}

impl super::Store {
    /// The requests Pyrus answered in the current window, by every process sharing this
    /// outbox.
    pub fn requests_counted(&self, now_ms: i64) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                "SELECT requests FROM rate WHERE window = ?1",
                [now_ms / RATE_WINDOW_MS],
                |r| r.get(0),
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(|e| db_err(&e))
    }

    /// Counts requests Pyrus answered (any status) against the shared budget.
    pub fn count_requests(&mut self, answered: u64, now_ms: i64) -> Result<(), StoreError> {
        let tx = self.tx()?;
        count(&tx, i64::try_from(answered).unwrap_or(i64::MAX), now_ms)?;
        tx.commit().map_err(|e| db_err(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{attach_to, call, store};
    use super::super::{AttachPayload, Lane, StoredTarget};

    #[test]
    fn the_rate_budget_is_shared_and_work_waits_for_the_next_window() {
        use super::{RATE_BUDGET, RATE_WINDOW_MS};
        let (_dir, mut s) = store();
        let now = 5 * RATE_WINDOW_MS + 1_000;
        s.conn
            .execute(
                "INSERT INTO rate (window, requests) VALUES (?1, ?2)",
                [now / RATE_WINDOW_MS, RATE_BUDGET - 1],
            )
            .unwrap();
        let direct = AttachPayload {
            target: StoredTarget::Direct(crate::domain::AttachTarget::Task {
                task_id: 3,
                external_id: None,
            }),
            ..attach_to(0)
        };
        let attach = s.insert_attach(&direct, now).unwrap();
        let (_, register) = s.insert_call(&call("c-8"), None, now).unwrap();
        assert!(
            s.claim_due(Lane::Upload, now, now + 1_000)
                .unwrap()
                .is_none(),
            "an upload and an attach would go over the budget"
        );
        let next_window = 6 * RATE_WINDOW_MS;
        let held = s.job(attach).unwrap();
        assert_eq!(held.next_attempt_ms, Some(next_window));
        assert_eq!(
            held.error_code.as_deref(),
            Some(super::RATE_BUDGET_CODE),
            "it says why"
        );
        let one = s
            .claim_due(Lane::Register, now, now + 1_000)
            .unwrap()
            .unwrap();
        assert_eq!(one.job, register, "one request still fits");
        // Claiming spends nothing: what Pyrus answers is counted.
        assert_eq!(s.requests_counted(now).unwrap(), RATE_BUDGET - 1);
        s.count_requests(2, now).unwrap();
        assert_eq!(s.requests_counted(now).unwrap(), RATE_BUDGET + 1);
        let later = s
            .claim_due(Lane::Upload, next_window, next_window + 1_000)
            .unwrap()
            .unwrap();
        assert_eq!(later.job, attach, "a new window, a new budget");
    }
}
