//! The state the service's loops share, and what they do with it: the engine in use, the
//! window's sender, the lanes' wake-ups, the status, the pops, the journal's handled
//! events, and the tasks the service owns. The loops themselves live beside it; this file
//! starts none of them.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use chrono::{Local, TimeZone as _};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Engine;
use super::doctor::{self, Sources};
use super::pops::{Policy, Pops};
use super::setup::Setup;
use crate::bus::{Connection, Event, Notice, NoticeKind, Status, UiSender};
use crate::domain::JobId;
use crate::outbox::{Handled, Lane, StoreError};

/// The engine in use; replaced when settings are saved.
pub(super) struct Current(pub(super) RwLock<Arc<Engine>>);

impl Current {
    pub(super) fn get(&self) -> Arc<Engine> {
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }
    pub(super) fn set(&self, engine: Engine) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(engine);
    }
}

/// Shared by the loops.
pub(super) struct Shared {
    pub(super) current: Current,
    pub(super) ui: UiSender,
    /// Wakes the lanes (one `Notify` each, so none steals another's wake-up): register,
    /// upload, pickup, comment.
    kicks: [Notify; 4],
    /// Wakes the index of customers' numbers (a registration, a new engine).
    pub(super) index_kick: Notify,
    pub(super) setup: Setup,
    connection: RwLock<Connection>,
    pub(super) sources: Option<Arc<Sources>>,
    /// The calls whose tasks may open by themselves.
    pops: Mutex<Pops>,
    /// One settings save at a time.
    pub(super) saving: tokio::sync::Mutex<()>,
    /// Heard events handled since the journal last forgot some, and the open calls after
    /// them (forgotten and kept in one transaction).
    handled: Mutex<Handled>,
    /// Turns for sending calls straight from being stored.
    pub(super) registering: tokio::sync::Semaphore,
    /// Turns for recording pickups (each may read two whole WAVs).
    pub(super) picking: tokio::sync::Semaphore,
    /// Every task the service starts, so shutdown can wait for them.
    tasks: TaskTracker,
    /// Cancelled at shutdown.
    pub(super) stop: CancellationToken,
    /// The number last handed to the desktop's `tel:` handler, and when: the same number
    /// coming back as a link moments later means the handler is pyrus-phone.
    pub(super) handed_tel: Mutex<Option<(String, std::time::Instant)>>,
}

impl Shared {
    /// The state of a service that starts with `engine`, with `turns` calls sent at once
    /// and `pickups` recordings merged at once.
    pub(super) fn new(
        engine: Arc<Engine>,
        ui: UiSender,
        setup: Setup,
        sources: Option<Arc<Sources>>,
        turns: (usize, usize),
    ) -> Self {
        Self {
            current: Current(RwLock::new(engine)),
            ui,
            kicks: [Notify::new(), Notify::new(), Notify::new(), Notify::new()],
            index_kick: Notify::new(),
            setup,
            connection: RwLock::new(Connection::Unknown),
            sources,
            pops: Mutex::new(Pops::default()),
            saving: tokio::sync::Mutex::new(()),
            handled: Mutex::new(Handled::default()),
            registering: tokio::sync::Semaphore::new(turns.0),
            picking: tokio::sync::Semaphore::new(turns.1),
            tasks: TaskTracker::new(),
            stop: CancellationToken::new(),
            handed_tel: Mutex::new(None),
        }
    }
}

/// Midnight today, local time, in Unix ms.
pub(super) fn start_of_day_ms() -> i64 {
    let today = Local::now().date_naive();
    today
        .and_hms_opt(0, 0, 0)
        .and_then(|midnight| Local.from_local_datetime(&midnight).earliest())
        .map_or(0, |t| t.timestamp_millis())
}

impl Shared {
    /// Notes a heard event as handled (0: one never stored), with the open calls as they stand after it when
    /// they changed: the journal forgets it, and keeps them, with its next write.
    pub(super) fn note_handled(&self, journal_id: i64, open_calls: Option<String>) {
        let mut handled = self.handled.lock().unwrap_or_else(PoisonError::into_inner);
        if journal_id != 0 {
            handled.ids.push(journal_id);
        }
        if open_calls.is_some() {
            handled.open_calls = open_calls;
        }
    }

    /// The handled events not yet forgotten, and the open calls to keep with them.
    pub(super) fn take_handled(&self) -> Handled {
        std::mem::take(&mut *self.handled.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Puts handled events back when the journal could not forget them (open calls noted
    /// since stay: they are newer).
    pub(super) fn return_handled(&self, returned: Handled) {
        let mut handled = self.handled.lock().unwrap_or_else(PoisonError::into_inner);
        handled.ids.extend(returned.ids);
        if handled.open_calls.is_none() {
            handled.open_calls = returned.open_calls;
        }
    }

    /// Has the journal forget the handled events now (quiet times, and shutdown).
    pub(super) async fn forget_handled(&self) {
        let handled = self.take_handled();
        if handled.is_empty() {
            return;
        }
        if let Err(e) = self
            .current
            .get()
            .outbox()
            .journal(Vec::new(), handled.clone())
            .await
        {
            tracing::warn!(error = %e, "handled events could not be forgotten yet");
            self.return_handled(handled);
        }
    }

    /// Wakes every lane: there may be work for it.
    pub(super) fn kick(&self) {
        for kick in &self.kicks {
            kick.notify_one();
        }
    }

    /// The wake-up of one lane.
    pub(super) fn kick_of(&self, lane: Lane) -> &Notify {
        match lane {
            Lane::Register => &self.kicks[0],
            Lane::Upload => &self.kicks[1],
            Lane::Pickup => &self.kicks[2],
            Lane::Comment => &self.kicks[3],
        }
    }

    /// Makes the engine in use send what it can: kept work due now, calls held for this
    /// line's number completed from the settings.
    pub(super) async fn take_up(
        &self,
        engine: &Engine,
        credentials_changed: bool,
    ) -> Result<(), StoreError> {
        engine.outbox().make_due(credentials_changed).await?;
        if let Some(line) = engine.settings().defaults.line() {
            let filled = engine.outbox().fill_line(line).await?;
            if filled > 0 {
                tracing::info!(filled, "held calls completed with this line's number");
            }
        }
        self.kick();
        self.index_kick.notify_one();
        Ok(())
    }

    /// What the status bar says of the connection now.
    pub(super) fn connection(&self) -> Connection {
        *self
            .connection
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Says what the status bar is to say of the connection.
    pub(super) fn set_connection(&self, connection: Connection) {
        *self
            .connection
            .write()
            .unwrap_or_else(PoisonError::into_inner) = connection;
    }

    /// Sends the window the calls of the day and the status bar's figures.
    pub(super) async fn publish(&self) {
        let engine = self.current.get();
        match engine.outbox().call_records(start_of_day_ms()).await {
            Ok(mut calls) => {
                for call in &mut calls {
                    if let Some(reg) = &call.registration {
                        call.task_url = Some(engine.task_url(reg.task_id));
                    }
                }
                self.ui.send(Event::Calls(calls)).await;
            }
            Err(e) => {
                self.notice(Notice::new(NoticeKind::ListUnreadable, e))
                    .await;
            }
        }
        self.publish_status(&engine).await;
    }

    /// Tells the window of the one call `job` belongs to, and the status bar's figures:
    /// the work of one call, however many the day holds.
    pub(super) async fn publish_job(&self, job: JobId) {
        let engine = self.current.get();
        let call = engine.outbox().call_record_of(job).await;
        self.publish_one(&engine, call).await;
    }

    /// As [`Shared::publish_job`], for the call stored under `external_id`.
    pub(super) async fn publish_call(&self, external_id: &str) {
        let engine = self.current.get();
        let call = engine
            .outbox()
            .call_record_by_external_id(external_id.to_owned())
            .await;
        self.publish_one(&engine, call).await;
    }

    async fn publish_one(
        &self,
        engine: &Engine,
        call: Result<Option<crate::domain::CallRecord>, StoreError>,
    ) {
        match call {
            Ok(Some(mut call)) => {
                if let Some(reg) = &call.registration {
                    call.task_url = Some(engine.task_url(reg.task_id));
                }
                self.ui.send(Event::CallChanged(Box::new(call))).await;
            }
            // Its call is gone from the list (discarded): the whole list, as it is now.
            Ok(None) => return self.publish().await,
            Err(e) => {
                self.notice(Notice::new(NoticeKind::ListUnreadable, e))
                    .await;
            }
        }
        self.publish_status(engine).await;
    }

    /// The status bar's figures: the connection, and how many jobs are still to be done.
    async fn publish_status(&self, engine: &Engine) {
        let open_jobs = engine.outbox().open_job_count().await.unwrap_or(0);
        let connection = self.connection();
        self.ui
            .send(Event::Status(Status {
                connection,
                open_jobs,
            }))
            .await;
    }

    /// Tells the window of a notice.
    pub(super) async fn notice(&self, notice: Notice) {
        self.ui.send(Event::Notice(notice)).await;
    }

    /// Sends the hook doctor's report.
    pub(super) async fn report_sources(&self) {
        let Some(sources) = self.sources.clone() else {
            return;
        };
        let settings = self.current.get().settings().clone();
        if let Ok(report) =
            tokio::task::spawn_blocking(move || doctor::report(&sources, &settings)).await
        {
            self.ui.send(Event::Sources(Box::new(report))).await;
        }
    }

    /// The pop policy of the engine in use.
    pub(super) fn policy(&self) -> Policy {
        let engine = self.current.get();
        let settings = engine.settings();
        Policy {
            open_on: settings.calls.open_on,
            open_task: settings.window.open_task,
        }
    }

    /// The calls whose tasks may open by themselves.
    pub(super) fn pops(&self) -> MutexGuard<'_, Pops> {
        self.pops.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens a heard call's task once, if the policy says it is time: `registered` carries
    /// the task link when the registration just came back.
    pub(super) async fn pop(&self, job: JobId, registered: Option<String>, answered: bool) {
        let policy = self.policy();
        let url = self.pops().heard_news(job, registered, answered, policy);
        if let Some(url) = url {
            self.open_link(&self.current.get(), url);
        }
    }
}

impl Shared {
    /// Runs `task` owned by the service, which ends it itself at shutdown (after the job in
    /// hand: a request Pyrus may already have carried out is not cut, so it is not sent
    /// twice); awaited up to the shutdown's wait.
    pub(super) fn spawn_finishing(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(task);
    }

    /// Stops every task: cancels them, and waits up to `wait` for them to end; false when
    /// some did not in time.
    pub(super) async fn stop_tasks(&self, wait: std::time::Duration) -> bool {
        self.stop.cancel();
        self.tasks.close();
        tokio::time::timeout(wait, self.tasks.wait()).await.is_ok()
    }

    /// Runs `task` owned by the service: cancelled at once at shutdown.
    pub(super) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                () = task => {}
            }
        });
    }
}
