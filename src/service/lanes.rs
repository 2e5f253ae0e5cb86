//! One lane loop for every lane (registrations, uploads, pickups): take a turn; when it
//! ran a job, take the next at once; when nothing was due, sleep until the lane's earliest
//! due job or a wake-up, whichever comes first; when it could not work, wait as the turn
//! says. Every outcome that leaves work due wakes the lane that owns it, so no lane sleeps
//! past its earliest job.

use std::sync::Arc;
use std::time::Duration;

use super::Engine;
use super::shared::Shared;
use crate::bus::{Notice, NoticeKind};
use crate::outbox::{Lane, now_ms};

/// How long a lane with nothing pending sleeps unless woken.
pub(super) const IDLE: Duration = Duration::from_secs(3600);

/// How long a lane waits after its outbox failed.
pub(super) const AFTER_FAILURE: Duration = Duration::from_secs(30);

/// What one turn of a lane did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Turn {
    /// Ran (or started) a job: there may be more due at once.
    Ran,
    /// Nothing was due: sleep until the lane's next job falls due.
    Idle,
    /// Could not work (credentials, a failing outbox): wait this long unless woken.
    Wait(Duration),
}

/// How long to sleep before a job due at `due_ms` (none: [`IDLE`]), at `now_ms`.
pub(super) fn until_due(due_ms: Option<i64>, now_ms: i64) -> Duration {
    due_ms.map_or(IDLE, |at| {
        Duration::from_millis(u64::try_from(at.saturating_sub(now_ms)).unwrap_or(0))
    })
}

/// Runs `lane` until the service stops: `turn` is one attempt with the engine in use.
pub(super) async fn lane_loop<F, Fut>(shared: Arc<Shared>, lane: Lane, mut turn: F)
where
    F: FnMut(Arc<Engine>) -> Fut,
    Fut: Future<Output = Turn>,
{
    let kick = shared.kick_of(lane);
    loop {
        if shared.stop.is_cancelled() {
            return;
        }
        let engine = shared.current.get();
        let wait = match turn(Arc::clone(&engine)).await {
            Turn::Ran => continue,
            Turn::Wait(wait) => wait,
            Turn::Idle => match engine.outbox().next_due_ms(Some(lane)).await {
                Ok(due) => until_due(due, now_ms()),
                Err(e) => {
                    shared
                        .notice(Notice::new(NoticeKind::OutboxFailed, e))
                        .await;
                    AFTER_FAILURE
                }
            },
        };
        tokio::select! {
            () = shared.stop.cancelled() => return,
            () = kick.notified() => {}
            () = tokio::time::sleep(wait.max(Duration::from_millis(20))) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{IDLE, until_due};

    #[test]
    fn a_lane_sleeps_until_its_earliest_job_and_no_longer() {
        assert_eq!(until_due(Some(1_500), 1_000), Duration::from_millis(500));
        assert_eq!(
            until_due(Some(900), 1_000),
            Duration::ZERO,
            "overdue: at once"
        );
        assert_eq!(until_due(None, 1_000), IDLE);
    }
}
