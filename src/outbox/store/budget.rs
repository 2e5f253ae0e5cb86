//! The rate budget every process sharing the outbox spends together: requests to Pyrus per
//! ten minutes, kept under Pyrus's own limit.

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
    }
}

/// Counts `cost` requests in the current window; false (nothing counted) when they would
/// go over the budget.
pub(super) fn spend(
    tx: &Transaction<'_>,
    cost: i64,
    now_ms: i64,
    force: bool,
) -> Result<bool, StoreError> {
    if cost == 0 {
        return Ok(true);
    }
    let window = now_ms / RATE_WINDOW_MS;
    let used: i64 = tx
        .query_row(
            "SELECT requests FROM rate WHERE window = ?1",
            [window],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| db_err(&e))?
        .unwrap_or(0);
    if used + cost > RATE_BUDGET && !force {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO rate (window, requests) VALUES (?1, ?2)
         ON CONFLICT(window) DO UPDATE SET requests = requests + ?2",
        params![window, cost],
    )
    .map_err(|e| db_err(&e))?;
    tx.execute("DELETE FROM rate WHERE window < ?1", [window - 1])
        .map_err(|e| db_err(&e))?;
    Ok(true)
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
        assert_eq!(s.job(attach).unwrap().next_attempt_ms, Some(next_window));
        let one = s
            .claim_due(Lane::Register, now, now + 1_000)
            .unwrap()
            .unwrap();
        assert_eq!(one.job, register, "one request still fits");
        let later = s
            .claim_due(Lane::Upload, next_window, next_window + 1_000)
            .unwrap()
            .unwrap();
        assert_eq!(later.job, attach, "a new window, a new budget");
    }
}
