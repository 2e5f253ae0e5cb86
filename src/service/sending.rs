//! Sending: one loop per network lane, calls sent straight from being stored, and what a
//! finished job means for the window (status, list, the task that opens).

use std::sync::Arc;
use std::time::Duration;

use super::lanes::{AFTER_FAILURE, IDLE, Turn, lane_loop};
use super::runner::{JobEvent, JobReport, Listener};
use super::shared::Shared;
use super::{Engine, PumpError};
use crate::bus::{Connection, Event, Notice, NoticeKind};
use crate::domain::{JobId, JobKind, JobState};
use crate::outbox::{Claimed, Lane, now_ms};

/// What the status bar says of the connection after these job outcomes.
pub(super) fn connection_after(reports: &[JobReport], before: Connection) -> Connection {
    reports.iter().fold(before, |c, r| match r.state {
        JobState::Done => Connection::SignedIn,
        JobState::NeedsCredentials => Connection::NeedsCredentials,
        // Not reached at all is offline; a server that answers with an error is not.
        JobState::Pending => match r.error.as_ref().map(|(code, _)| code.as_str()) {
            Some("network" | "timeout") | None => Connection::Offline,
            Some(_) => Connection::Troubled,
        },
        _ => c,
    })
}

/// How many calls are sent at once straight from being stored. One: a burst never hits
/// Pyrus's rate limit, and a crash can leave at most one registration in flight (sent again
/// by the next start, onto the same task); the rest wait a moment for their turn.
pub(super) const REGISTER_AT_ONCE: usize = 1;

/// How long a stored call waits for a turn before the register lane takes it over.
pub(super) const TURN_WAIT: Duration = Duration::from_secs(10);

impl Shared {
    /// What the outbox reports while a job runs: upload progress goes to the window; a
    /// registration opens its task as soon as Pyrus answers, before it is written down.
    pub(super) fn listener(self: &Arc<Self>) -> Listener {
        let shared = Arc::downgrade(self);
        Arc::new(move |event| {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            match event {
                JobEvent::Progress { job, sent, total } => {
                    shared.ui.offer(Event::Progress { job, sent, total });
                }
                // Pyrus's answer opens the task from here, before anything is written.
                JobEvent::Registered { job, registration } => {
                    let engine = shared.current.get();
                    shared.on_registered(&engine, job, registration.task_id);
                    // Our own registration changed a task: the index reads it soon.
                    shared.index_kick.notify_one();
                }
                JobEvent::Finished(_) => {}
            }
        })
    }

    /// Sends a call stored a moment ago (already claimed) at once, beside the lanes.
    pub(super) fn register_now(self: &Arc<Self>, engine: &Arc<Engine>, claimed: Claimed) {
        let shared = Arc::clone(self);
        let engine = Arc::clone(engine);
        // Not cut at shutdown: a registration Pyrus may have carried out is seen through.
        self.spawn_finishing(async move {
            let (job, token) = (claimed.job, claimed.token);
            // A free turn at once: the claim is a moment old. Else wait for one, then renew
            // the claim for the whole attempt (it must still be ours).
            let (_turn, waited) = match shared.registering.try_acquire() {
                Ok(turn) => (turn, false),
                Err(_) => {
                    // Stopping: not started yet, so it goes back for the next run.
                    let turn = tokio::select! {
                        () = shared.stop.cancelled() => None,
                        turn = tokio::time::timeout(TURN_WAIT, shared.registering.acquire()) => turn.ok().and_then(Result::ok),
                    };
                    match turn {
                        Some(turn) if !shared.stop.is_cancelled() => (turn, true),
                        _ => {
                            // Too many at once: the register lane takes it from the queue
                            // (well within its lease, so nobody else sends it meanwhile).
                            if let Err(e) = engine.outbox().release(job, token).await {
                                tracing::error!(%job, error = %e, "a claimed call could not be handed back");
                            }
                            shared.kick();
                            return;
                        }
                    }
                }
            };
            let renewed = if waited {
                engine.outbox().renew(job, token).await
            } else {
                Ok(true)
            };
            match renewed {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(%job, "a new call's claim was taken over; not sent twice");
                    return;
                }
                Err(e) => {
                    tracing::error!(%job, error = %e, "a new call's claim could not be renewed");
                    shared.kick();
                    return;
                }
            }
            let listener = shared.listener();
            match engine.run_claimed(claimed, &listener).await {
                Ok(report) => {
                    // Whatever came of it, the register lane looks again: a retryable failure
                    // is due at its backoff, and the lane must not sleep past it.
                    let retry = report.state == JobState::Pending;
                    let job = report.job;
                    shared.report(&engine, report).await;
                    shared.publish_job(job).await;
                    if retry {
                        shared.kick_of(Lane::Register).notify_one();
                    }
                }
                Err(e) => {
                    // Back in the queue: the register lane says what is wrong and retries.
                    tracing::warn!(error = %e, "a new call could not be sent at once");
                    shared.kick();
                }
            }
        });
    }

    /// Opens a just-registered call's task when it is still worth opening (see
    /// [`super::pops::Pops::registered`]). Runs once per call however often it is told.
    pub(super) fn on_registered(&self, engine: &Arc<Engine>, job: JobId, task_id: u64) -> String {
        let task_url = engine.task_url(task_id);
        let policy = self.policy();
        let open = self.pops().registered(job, &task_url, now_ms(), policy);
        if let Some(url) = open {
            self.open_link(engine, url);
        }
        task_url
    }
}

/// One network lane's sender: runs its due jobs one at a time, reporting each as it ends.
/// Registrations and uploads have a lane each, so a long upload never holds up the next
/// call's task.
pub(super) async fn send_loop(shared: Arc<Shared>, lane: Lane) {
    let listener = shared.listener();
    let turns = Arc::clone(&shared);
    lane_loop(shared, lane, move |engine| {
        let (shared, listener) = (Arc::clone(&turns), Arc::clone(&listener));
        async move { shared.send_turn(&engine, lane, &listener).await }
    })
    .await;
}

impl Shared {
    /// One turn of a network lane: the next due job, if any, sent and reported.
    async fn send_turn(&self, engine: &Arc<Engine>, lane: Lane, listener: &Listener) -> Turn {
        match engine.pump_one(lane, listener).await {
            Ok(Some(report)) => {
                let job = report.job;
                self.report(engine, report).await;
                self.publish_job(job).await;
                Turn::Ran
            }
            Ok(None) => Turn::Idle,
            Err(PumpError::Credentials(e)) => {
                self.set_connection(Connection::NeedsCredentials);
                // Each waiting row says why, and offers what fixes it (Enter the key).
                let parked = engine
                    .outbox()
                    .park_due_for_credentials(lane, e.code(), e.to_string())
                    .await;
                if let Err(store) = parked {
                    tracing::warn!(error = %store, "work waiting for credentials could not be marked");
                }
                self.notice(Notice::new(NoticeKind::Credentials, &e).with_code(e.code()))
                    .await;
                self.publish().await;
                Turn::Wait(IDLE)
            }
            // The outbox failed (not the credentials): say so, and try again soon.
            Err(e) => {
                self.notice(Notice::new(NoticeKind::OutboxFailed, e)).await;
                self.publish().await;
                Turn::Wait(AFTER_FAILURE)
            }
        }
    }
}

impl Shared {
    /// Tells the window how a job attempt ended, and opens a just-registered call's task
    /// when it is still worth opening (see [`super::pops::Pops`]).
    pub(super) async fn report(&self, engine: &Arc<Engine>, report: JobReport) {
        let before = self.connection();
        self.set_connection(connection_after(std::slice::from_ref(&report), before));
        // Pyrus answers again: work kept while it could not be reached is due now, so every
        // lane looks at once instead of sleeping out its backoff.
        if report.state == JobState::Done && before != Connection::SignedIn {
            self.kick();
        }
        let event = match (report.state, report.kind, report.registration) {
            (JobState::Done, JobKind::Register, Some(registration)) => {
                let task_url = self.on_registered(engine, report.job, registration.task_id);
                Event::Registered {
                    job: report.job,
                    task_url,
                    registration,
                }
            }
            (JobState::Done, _, _) => Event::Attached { job: report.job },
            (state, _, _) => {
                let (code, message) = report.error.unwrap_or_default();
                Event::JobFailed {
                    job: report.job,
                    state,
                    code,
                    message,
                    retry_at_ms: report.retry_at_ms,
                }
            }
        };
        self.ui.send(event).await;
    }
}

#[cfg(test)]
mod tests {
    use super::connection_after;
    use crate::bus::Connection;
    use crate::domain::{JobId, JobKind, JobState};
    use crate::service::JobReport;

    fn pending(code: &str) -> JobReport {
        JobReport {
            job: JobId(1),
            kind: JobKind::Register,
            state: JobState::Pending,
            error: Some((code.to_owned(), String::new())),
            registration: None,
            retry_at_ms: None,
        }
    }

    #[test]
    fn a_server_that_answers_with_errors_is_not_called_offline() {
        let after = |code| connection_after(&[pending(code)], Connection::SignedIn);
        assert_eq!(after("network"), Connection::Offline);
        assert_eq!(after("timeout"), Connection::Offline);
        assert_eq!(after("server_error"), Connection::Troubled);
        assert_eq!(after("too_many_requests"), Connection::Troubled);
    }
}
