//! Sending: one loop per network lane, calls sent straight from being stored, and what a
//! finished job means for the window (status, list, the task that opens).

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use super::Engine;
use super::runner::{JobEvent, JobReport, Listener};
use super::running::{Shared, TYPED_POP_MS};
use crate::bus::{Connection, Event, Notice, NoticeKind};
use crate::domain::{JobId, JobKind, JobState};
use crate::outbox::{Lane, now_ms};
use crate::settings::OpenTask;

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
                JobEvent::Registered { job, registration } => {
                    let task = Arc::clone(&shared);
                    shared.spawn(async move {
                        let engine = task.current.get();
                        task.on_registered(&engine, job, registration.task_id).await;
                    });
                }
                JobEvent::Finished(_) => {}
            }
        })
    }

    /// Sends a call stored a moment ago (already claimed) at once, beside the lanes.
    pub(super) fn register_now(
        self: &Arc<Self>,
        engine: &Arc<Engine>,
        claimed: crate::outbox::Claimed,
    ) {
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
                    shared.report(&engine, report).await;
                    shared.publish().await;
                }
                Err(e) => {
                    // Back in the queue: the register lane says what is wrong and retries.
                    tracing::warn!(error = %e, "a new call could not be sent at once");
                    shared.kick();
                }
            }
        });
    }

    /// Opens a just-registered call's task when it is still worth opening: a heard call
    /// per [`Shared::pop`], a typed one within [`TYPED_POP_MS`]. Runs once per call however
    /// often it is told.
    pub(super) async fn on_registered(
        &self,
        engine: &Arc<Engine>,
        job: JobId,
        task_id: u64,
    ) -> String {
        let task_url = engine.task_url(task_id).await;
        let heard = self
            .pops
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&job);
        let typed_ms = self
            .typed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&job);
        if heard {
            self.pop(job, Some(task_url.clone()), false).await;
        } else if typed_ms.is_some_and(|at| now_ms() - at < TYPED_POP_MS)
            && engine.settings().window.open_task == OpenTask::App
        {
            self.open_link(engine, task_url.clone()).await;
        }
        task_url
    }
}

/// One lane's sender: runs its due jobs one at a time, reporting each as it ends, whenever
/// kicked or when its next job falls due. Registrations and uploads have a lane each, so a
/// long upload never holds up the next call's task.
pub(super) async fn send_loop(shared: Arc<Shared>, lane: Lane) {
    let kick = shared.kick_of(lane);
    let listener = shared.listener();
    loop {
        if shared.stop.is_cancelled() {
            return;
        }
        let engine = shared.current.get();
        let wait = match engine.pump_one(lane, &listener).await {
            Ok(Some(report)) => {
                shared.report(&engine, report).await;
                shared.publish().await;
                // There may be more due at once.
                continue;
            }
            Ok(None) => match engine.outbox().next_due_ms(Some(lane)).await {
                Ok(Some(at)) => Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0)),
                Ok(None) => Duration::from_secs(3600),
                Err(e) => {
                    shared
                        .notice(Notice::new(NoticeKind::OutboxFailed, e))
                        .await;
                    Duration::from_secs(30)
                }
            },
            Err(crate::service::PumpError::Credentials(e)) => {
                shared.set_connection(Connection::NeedsCredentials);
                shared
                    .notice(Notice::new(NoticeKind::Credentials, &e).with_code(e.code()))
                    .await;
                shared.publish().await;
                Duration::from_secs(3600)
            }
            // The outbox failed (not the credentials): say so, and try again soon.
            Err(e) => {
                shared
                    .notice(Notice::new(NoticeKind::OutboxFailed, e))
                    .await;
                shared.publish().await;
                Duration::from_secs(30)
            }
        };
        tokio::select! {
            () = shared.stop.cancelled() => return,
            () = kick.notified() => {}
            () = tokio::time::sleep(wait.max(Duration::from_millis(20))) => {}
        }
    }
}

impl Shared {
    /// Tells the window how a job attempt ended, and opens a just-registered call's task
    /// when it is still worth opening (see [`Shared::pop`] and [`TYPED_POP_MS`]).
    pub(super) async fn report(&self, engine: &Arc<Engine>, report: JobReport) {
        let before = *self
            .connection
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        self.set_connection(connection_after(std::slice::from_ref(&report), before));
        let event = match (report.state, report.kind, report.registration) {
            (JobState::Done, JobKind::Register, Some(registration)) => {
                let task_url = self
                    .on_registered(engine, report.job, registration.task_id)
                    .await;
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
