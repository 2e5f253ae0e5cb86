//! The service behind the window and `--headless`: its setup, the handle the window holds,
//! the state its loops share, and starting and stopping them. Runs on tokio, so it keeps
//! working while the window is minimized.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use chrono::{Local, TimeZone as _};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Engine;
use super::commands::command_loop;
use super::doctor::{self, Sources};
use super::heard::{PICKUPS_AT_ONCE, event_loop, intake_loop, pickup_loop, sources_loop};
use super::sending::{REGISTER_AT_ONCE, send_loop};
use super::settings_ops::load_form;
use crate::bus::{Command, Connection, Event, Notice, NoticeKind, Status, UiSender};
use crate::domain::{JobId, PhoneNumber, Secret};
use crate::outbox::Lane;
use crate::settings::credentials::SecretStore;
use crate::settings::{OpenOn, OpenTask, Settings};
use crate::sources::Heard;

/// Builds an engine for saved settings (the real outbox, the keyring, env overrides).
pub type EngineFactory = Box<dyn Fn(&Settings) -> Result<Engine, String> + Send + Sync>;

/// Where saved settings and keys go, and how an engine is made from them.
pub struct Setup {
    /// The settings file.
    pub settings_path: PathBuf,
    /// The administrator's defaults under it, when the platform has a place for them.
    pub admin_settings: Option<PathBuf>,
    /// The OS keyring (or memory in tests).
    pub secrets: Arc<dyn SecretStore>,
    /// The settings the settings view starts from (the file's, even in the demo).
    pub editable: Settings,
    /// Makes the engine that replaces the current one after a save.
    pub open_engine: EngineFactory,
    /// Events heard from softphones and phones.
    pub call_events: Option<mpsc::Receiver<Heard>>,
    /// Where merged recordings are written.
    pub recordings_out: PathBuf,
    /// The running call sources, for the hook doctor.
    pub sources: Option<Sources>,
    /// Requests from another start of the app to show this window.
    pub raise: Option<mpsc::Receiver<()>>,
    /// The key comes from the environment (`PYRUS_SECURITY_KEY`): the keyring is not used.
    pub key_from_env: bool,
    /// Where "Start when I log in" writes its entry (none: the setting does nothing here).
    pub autostart: Option<crate::platform::autostart::Autostart>,
    /// A key the keyring could not keep, by login: used until the app quits.
    pub session_key: Mutex<Option<(String, Secret, crate::bus::Refusal)>>,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("settings_path", &self.settings_path)
            .finish_non_exhaustive()
    }
}

/// The window's handle: sends commands without ever blocking, and stops the service.
#[derive(Clone)]
pub struct ServiceHandle {
    commands: mpsc::Sender<Command>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ServiceHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceHandle").finish_non_exhaustive()
    }
}

/// How long shutdown waits for the service's tasks before releasing their work anyway.
pub(super) const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

impl ServiceHandle {
    /// Stops every task of the service (an upload in flight is abandoned), waits for them
    /// up to [`SHUTDOWN_WAIT`], and hands this process's claimed jobs back to the outbox so
    /// the next run sends them at once.
    pub async fn shutdown(&self) {
        let shared = &self.shared;
        shared.stop.cancel();
        shared.tasks.close();
        if tokio::time::timeout(SHUTDOWN_WAIT, shared.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("some work did not stop in time; its jobs are released anyway");
        }
        shared.forget_handled().await;
        match shared.current.get().outbox().release_mine().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "claimed work released for the next run"),
            Err(e) => tracing::error!(error = %e, "claimed work could not be released"),
        }
    }

    /// Queues a command; an error means the service is busy or gone (say so to the agent).
    pub fn send(&self, command: Command) -> Result<(), SendError> {
        self.commands.try_send(command).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SendError::Busy,
            mpsc::error::TrySendError::Closed(_) => SendError::Stopped,
        })
    }
}

/// Why a command was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Too many commands are waiting.
    #[error("pyrus-phone is busy; try again in a moment")]
    Busy,
    /// The service has stopped.
    #[error("the background service has stopped; restart pyrus-phone")]
    Stopped,
}

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

/// How long a heard call's opening is remembered (longer than any call lasts).
pub(super) const POP_MEMORY_MS: i64 = 24 * 60 * 60 * 1000;

/// A heard call's task: opened once, when the `open_on` policy says.
#[derive(Debug, Default)]
pub(super) struct Pop {
    pub(super) external_id: String,
    pub(super) heard_ms: i64,
    pub(super) answered: bool,
    /// The call ended: its task no longer opens by itself (the list has Open task).
    pub(super) ended: bool,
    pub(super) url: Option<String>,
    pub(super) opened: bool,
}

/// A typed call's task opens only if it is registered this soon after Register; one kept
/// through an outage is opened from the list, not popped in a burst.
pub(super) const TYPED_POP_MS: i64 = 2 * 60 * 1000;

/// Shared by the loops.
pub(super) struct Shared {
    pub(super) current: Current,
    pub(super) ui: UiSender,
    /// Wakes the lanes (one `Notify` each, so none steals another's wake-up): register,
    /// upload, pickup.
    pub(super) kicks: [Notify; 3],
    pub(super) setup: Setup,
    pub(super) connection: RwLock<Connection>,
    pub(super) sources: Option<Arc<Sources>>,
    /// Heard calls by registration job.
    pub(super) pops: Mutex<HashMap<JobId, Pop>>,
    /// Calls typed in the window by registration job, with when Register was pressed.
    pub(super) typed: Mutex<HashMap<JobId, i64>>,
    /// One settings save at a time.
    pub(super) saving: tokio::sync::Mutex<()>,
    /// Heard events handled since the journal last forgot some.
    pub(super) handled: Mutex<Vec<i64>>,
    /// Turns for sending calls straight from being stored.
    pub(super) registering: tokio::sync::Semaphore,
    /// Turns for recording pickups (each may read two whole WAVs).
    pub(super) picking: tokio::sync::Semaphore,
    /// Every task the service starts, so shutdown can wait for them.
    pub(super) tasks: TaskTracker,
    /// Cancelled at shutdown.
    pub(super) stop: CancellationToken,
}

/// The running service.
#[derive(Debug)]
pub struct Service;

impl Service {
    /// Starts the command loop and the sender on `runtime`; kept work is made due first.
    pub fn spawn(
        runtime: &tokio::runtime::Handle,
        engine: Arc<Engine>,
        ui: UiSender,
        mut setup: Setup,
    ) -> ServiceHandle {
        let (tx, rx) = mpsc::channel(64);
        let call_events = setup.call_events.take();
        let raise = setup.raise.take();
        let sources = setup.sources.take().map(Arc::new);
        let shared = Arc::new(Shared {
            current: Current(RwLock::new(engine)),
            ui,
            kicks: [Notify::new(), Notify::new(), Notify::new()],
            setup,
            connection: RwLock::new(Connection::Unknown),
            sources,
            pops: Mutex::new(HashMap::new()),
            typed: Mutex::new(HashMap::new()),
            saving: tokio::sync::Mutex::new(()),
            handled: Mutex::new(Vec::new()),
            registering: tokio::sync::Semaphore::new(REGISTER_AT_ONCE),
            picking: tokio::sync::Semaphore::new(PICKUPS_AT_ONCE),
            tasks: TaskTracker::new(),
            stop: CancellationToken::new(),
        });
        let _entered = runtime.enter();
        if let Some(heard) = call_events {
            let (journaled, events) = mpsc::channel(256);
            shared.spawn(intake_loop(Arc::clone(&shared), heard, journaled));
            shared.spawn(event_loop(Arc::clone(&shared), events));
        }
        if shared.sources.is_some() {
            shared.spawn(sources_loop(Arc::clone(&shared)));
        }
        if let Some(mut raise) = raise {
            let ui = shared.ui.clone();
            let stop = shared.stop.clone();
            shared.spawn(async move {
                loop {
                    tokio::select! {
                        () = stop.cancelled() => return,
                        asked = raise.recv() => match asked {
                            Some(()) => { ui.send(Event::Raise).await; }
                            None => return,
                        },
                    }
                }
            });
        }
        shared.spawn(command_loop(Arc::clone(&shared), rx));
        for lane in Lane::NETWORK {
            // A registration in flight is seen through at shutdown; an upload is cut
            // (it may take minutes) and goes again from the start next time.
            let sender = send_loop(Arc::clone(&shared), lane);
            match lane {
                Lane::Register => shared.spawn_finishing(sender),
                _ => shared.spawn(sender),
            }
        }
        shared.spawn(pickup_loop(Arc::clone(&shared)));
        let start = Arc::clone(&shared);
        shared.spawn(async move {
            let engine = start.current.get();
            if let Err(e) = start.take_up(&engine, true).await {
                start.notice(Notice::new(NoticeKind::OutboxFailed, e)).await;
            }
            start.publish().await;
        });
        ServiceHandle {
            commands: tx,
            shared,
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
    /// Notes that a heard event has been handled (0: one never stored).
    pub(super) fn note_handled(&self, journal_id: i64) {
        if journal_id != 0 {
            self.handled
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(journal_id);
        }
    }

    /// The handled events not yet forgotten (the journal forgets them with its next write).
    pub(super) fn take_handled(&self) -> Vec<i64> {
        std::mem::take(&mut *self.handled.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Puts handled events back when the journal could not forget them.
    pub(super) fn return_handled(&self, ids: Vec<i64>) {
        self.handled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(ids);
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
        }
    }

    /// Makes the engine in use send what it can: kept work due now, calls held for this
    /// line's number completed from the settings.
    pub(super) async fn take_up(
        &self,
        engine: &Engine,
        credentials_changed: bool,
    ) -> Result<(), String> {
        engine
            .outbox()
            .make_due(credentials_changed)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(line) = engine.settings().defaults.line() {
            let filled = engine
                .outbox()
                .fill_line(line)
                .await
                .map_err(|e| e.to_string())?;
            if filled > 0 {
                tracing::info!(filled, "held calls completed with this line's number");
            }
        }
        self.kick();
        Ok(())
    }

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
                        call.task_url = Some(engine.task_url(reg.task_id).await);
                    }
                }
                self.ui.send(Event::Calls(calls)).await;
            }
            Err(e) => {
                self.notice(Notice::new(NoticeKind::ListUnreadable, e))
                    .await;
            }
        }
        let open_jobs = engine
            .outbox()
            .open_jobs()
            .await
            .map_or(0, |jobs| jobs.len());
        let connection = *self
            .connection
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        self.ui
            .send(Event::Status(Status {
                connection,
                open_jobs,
            }))
            .await;
    }

    /// Tells the window what the engine in use makes calls with, and its form's fields.
    pub(super) async fn announce_engine(&self) {
        let engine = self.current.get();
        self.ui
            .send(Event::InForce(Box::new(engine.settings().clone())))
            .await;
        self.ui
            .send(Event::FormFields(load_form(&engine).await))
            .await;
    }

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

    /// Opens a heard call's task once, if the policy says it is time: `registered` carries
    /// the task link when the registration just came back.
    pub(super) async fn pop(&self, job: JobId, registered: Option<String>, answered: bool) {
        let engine = self.current.get();
        let settings = engine.settings();
        let url = {
            let mut pops = self.pops.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(pop) = pops.get_mut(&job) else {
                return;
            };
            if registered.is_some() {
                pop.url = registered;
            }
            pop.answered |= answered;
            let time = match settings.calls.open_on {
                OpenOn::Ring => true,
                OpenOn::Answer => pop.answered,
                OpenOn::Manual => false,
            };
            if pop.opened || pop.ended || !time || settings.window.open_task != OpenTask::App {
                return;
            }
            let Some(url) = pop.url.clone() else {
                return;
            };
            pop.opened = true;
            url
        };
        self.open_link(&engine, url).await;
    }

    /// Opens a link off the async workers (starting a process can block).
    pub(super) async fn open_link(&self, engine: &Arc<Engine>, url: String) {
        let engine = Arc::clone(engine);
        let opened = tokio::task::spawn_blocking(move || engine.browser().open(&url))
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
        if let Err(e) = opened {
            self.notice(Notice::new(NoticeKind::LinkNotOpened, e)).await;
        }
    }

    /// Calls `number` through the system's `tel:` handler (the softphone).
    pub(super) async fn dial(&self, engine: &Arc<Engine>, number: PhoneNumber) {
        let engine = Arc::clone(engine);
        let uri = format!("tel:{}", number.as_str());
        let dialled = tokio::task::spawn_blocking(move || engine.browser().dial(&uri))
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
        if let Err(e) = dialled {
            self.notice(Notice::new(NoticeKind::DialFailed, e)).await;
        }
    }

    /// Notes that a heard call ended: its task is not popped any more.
    pub(super) fn ended(&self, external_id: &str) {
        let mut pops = self.pops.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(pop) = pops.values_mut().find(|p| p.external_id == external_id) {
            pop.ended = true;
        }
    }

    /// The registration job of the heard call with this external id.
    pub(super) fn pop_job(&self, external_id: &str) -> Option<JobId> {
        self.pops
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|(_, p)| p.external_id == external_id)
            .map(|(job, _)| *job)
    }
}

impl Shared {
    /// Runs `task` owned by the service, which ends it itself at shutdown (after the job in
    /// hand: a request Pyrus may already have carried out is not cut, so it is not sent
    /// twice); awaited up to the shutdown's wait.
    pub(super) fn spawn_finishing(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(task);
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
