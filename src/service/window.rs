//! The service behind the window: takes `Command`s, stores work in the outbox, sends it,
//! and reports `Event`s — the call list (rebuilt from the outbox after every change), the
//! status bar's figures, settings. Runs on tokio, so it keeps working while the window is
//! minimized. Saving settings builds a new engine from them and swaps it in.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use chrono::{Local, TimeZone as _};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::doctor::{self, Sources};
use super::pickup;
use super::stitch::{Decision, Stitcher, Touched};
use super::{Engine, check_recording};
use crate::bus::{Command, Connection, Event, Refusal, Status, UiSender};
use crate::domain::{
    CallEvent, EventKind, ExternalId, JobId, JobKind, JobState, Secret, SourceId, Verdict,
};
use crate::outbox::{JobEvent, JobReport, Lane, Listener, now_ms};
use crate::pyrus::{ClientConfig, Credentials, PyrusClient};
use crate::settings::credentials::SecretStore;
use crate::settings::{OpenOn, OpenTask, Settings};

/// Builds an engine for saved settings (the real outbox, the keyring, env overrides).
pub type EngineFactory = Box<dyn Fn(&Settings) -> Result<Engine, String> + Send + Sync>;

/// Where saved settings and keys go, and how an engine is made from them.
pub struct Setup {
    /// The settings file.
    pub settings_path: PathBuf,
    /// The OS keyring (or memory in tests).
    pub secrets: Arc<dyn SecretStore>,
    /// The settings the settings view starts from (the file's, even in the demo).
    pub editable: Settings,
    /// Makes the engine that replaces the current one after a save.
    pub open_engine: EngineFactory,
    /// Events heard from softphones and phones.
    pub call_events: Option<mpsc::Receiver<CallEvent>>,
    /// Where merged recordings are written.
    pub recordings_out: PathBuf,
    /// The running call sources, for the hook doctor.
    pub sources: Option<Sources>,
    /// Requests from another start of the app to show this window.
    pub raise: Option<mpsc::Receiver<()>>,
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
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

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
        match shared.current.get().outbox().release_mine().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "claimed work released for the next run"),
            Err(e) => tracing::error!(error = %e, "claimed work could not be released"),
        }
    }

    /// Queues a command; an error means the service is busy or gone (say so to the agent).
    pub fn send(&self, command: Command) -> Result<(), String> {
        self.commands.try_send(command).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => {
                "pyrus-phone is busy; try again in a moment".to_owned()
            }
            mpsc::error::TrySendError::Closed(_) => {
                "the background service has stopped; restart pyrus-phone".to_owned()
            }
        })
    }
}

/// The engine in use; replaced when settings are saved.
struct Current(RwLock<Arc<Engine>>);

impl Current {
    fn get(&self) -> Arc<Engine> {
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }
    fn set(&self, engine: Engine) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(engine);
    }
}

/// How long a heard call's opening is remembered (longer than any call lasts).
const POP_MEMORY_MS: i64 = 24 * 60 * 60 * 1000;

/// A heard call's task: opened once, when the `open_on` policy says.
#[derive(Debug, Default)]
struct Pop {
    external_id: String,
    heard_ms: i64,
    answered: bool,
    /// The call ended: its task no longer opens by itself (the list has Open task).
    ended: bool,
    url: Option<String>,
    opened: bool,
}

/// A typed call's task opens only if it is registered this soon after Register; one kept
/// through an outage is opened from the list, not popped in a burst.
const TYPED_POP_MS: i64 = 2 * 60 * 1000;

/// Shared by the loops.
struct Shared {
    current: Current,
    ui: UiSender,
    /// Wakes the lanes (one `Notify` each, so none steals another's wake-up): register,
    /// upload, pickup.
    kicks: [Notify; 3],
    setup: Setup,
    connection: RwLock<Connection>,
    sources: Option<Arc<Sources>>,
    /// Heard calls by registration job.
    pops: Mutex<HashMap<JobId, Pop>>,
    /// Calls typed in the window by registration job, with when Register was pressed.
    typed: Mutex<HashMap<JobId, i64>>,
    /// One settings save at a time.
    saving: tokio::sync::Mutex<()>,
    /// Turns for sending calls straight from being stored.
    registering: tokio::sync::Semaphore,
    /// Every task the service starts, so shutdown can wait for them.
    tasks: TaskTracker,
    /// Cancelled at shutdown.
    stop: CancellationToken,
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
            registering: tokio::sync::Semaphore::new(REGISTER_AT_ONCE),
            tasks: TaskTracker::new(),
            stop: CancellationToken::new(),
        });
        let _entered = runtime.enter();
        if let Some(events) = call_events {
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
            shared.spawn(send_loop(Arc::clone(&shared), lane));
        }
        shared.spawn(pickup_loop(Arc::clone(&shared)));
        let start = Arc::clone(&shared);
        shared.spawn(async move {
            let engine = start.current.get();
            if let Err(e) = start.take_up(&engine, true).await {
                start.notice(e).await;
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
fn start_of_day_ms() -> i64 {
    let today = Local::now().date_naive();
    today
        .and_hms_opt(0, 0, 0)
        .and_then(|midnight| Local.from_local_datetime(&midnight).earliest())
        .map_or(0, |t| t.timestamp_millis())
}

impl Shared {
    /// Wakes every lane: there may be work for it.
    fn kick(&self) {
        for kick in &self.kicks {
            kick.notify_one();
        }
    }

    /// The wake-up of one lane.
    fn kick_of(&self, lane: Lane) -> &Notify {
        match lane {
            Lane::Register => &self.kicks[0],
            Lane::Upload => &self.kicks[1],
            Lane::Pickup => &self.kicks[2],
        }
    }

    /// Makes the engine in use send what it can: kept work due now, calls held for this
    /// line's number completed from the settings.
    async fn take_up(&self, engine: &Engine, credentials_changed: bool) -> Result<(), String> {
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

    fn set_connection(&self, connection: Connection) {
        *self
            .connection
            .write()
            .unwrap_or_else(PoisonError::into_inner) = connection;
    }

    /// Sends the window the calls of the day and the status bar's figures.
    async fn publish(&self) {
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
                self.ui
                    .send(Event::Notice(format!("The call list cannot be read: {e}")))
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
    async fn announce_engine(&self) {
        let engine = self.current.get();
        self.ui
            .send(Event::InForce(Box::new(engine.settings().clone())))
            .await;
        self.ui
            .send(Event::FormFields(load_form(&engine).await))
            .await;
    }

    async fn notice(&self, text: String) {
        self.ui.send(Event::Notice(text)).await;
    }

    /// Sends the hook doctor's report.
    async fn report_sources(&self) {
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
    async fn pop(&self, job: JobId, registered: Option<String>, answered: bool) {
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
    async fn open_link(&self, engine: &Arc<Engine>, url: String) {
        let engine = Arc::clone(engine);
        let opened = tokio::task::spawn_blocking(move || engine.browser().open(&url))
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
        if let Err(e) = opened {
            self.notice(e).await;
        }
    }

    /// Notes that a heard call ended: its task is not popped any more.
    fn ended(&self, external_id: &str) {
        let mut pops = self.pops.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(pop) = pops.values_mut().find(|p| p.external_id == external_id) {
            pop.ended = true;
        }
    }

    /// The registration job of the heard call with this external id.
    fn pop_job(&self, external_id: &str) -> Option<JobId> {
        self.pops
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|(_, p)| p.external_id == external_id)
            .map(|(job, _)| *job)
    }
}

/// Sends the hook doctor's report at start and whenever a source notes something.
async fn sources_loop(shared: Arc<Shared>) {
    let Some(sources) = shared.sources.clone() else {
        return;
    };
    loop {
        shared.report_sources().await;
        sources.monitor.changed().await;
        // Messages come in bursts (a call's events); one report per burst is enough.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Turns events heard from softphones into calls: stitched, stored, registered per policy.
async fn event_loop(shared: Arc<Shared>, mut events: mpsc::Receiver<CallEvent>) {
    let mut stitcher = Stitcher::default();
    loop {
        // While a call rings, wake when it would stop counting as ringing.
        let wait = stitcher
            .ringing_expires_in(now_ms())
            .map_or(Duration::from_secs(3600), |ms| {
                Duration::from_millis(u64::try_from(ms).unwrap_or(0) + 10)
            });
        let event = match tokio::time::timeout(wait, events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => return,
            Err(_) => {
                shared
                    .ui
                    .send(Event::Ringing(stitcher.ringing(now_ms())))
                    .await;
                continue;
            }
        };
        let engine = shared.current.get();
        let settings = engine.settings();
        let event = event.normalised(settings.defaults.country());
        let decision = stitcher.on_event(&event, now_ms(), settings.calls, &settings.defaults);
        shared
            .ui
            .send(Event::Ringing(stitcher.ringing(now_ms())))
            .await;
        if event.kind == EventKind::Answer
            && let Some(job) = stitcher
                .touched()
                .and_then(|c| c.external_id)
                .and_then(|id| shared.pop_job(&id))
        {
            shared.pop(job, None, true).await;
        }
        let ended_id = (event.kind == EventKind::End)
            .then(|| stitcher.touched())
            .flatten()
            .filter(|c| c.ended)
            .and_then(|c| c.external_id);
        if let Some(id) = &ended_id {
            shared.ended(id);
        }
        // A call to register now is stored already claimed, and sent once its pop is noted.
        let mut claimed = None;
        let stored = match decision {
            Decision::Wait => None,
            Decision::Register(call) => Some((
                engine
                    .outbox()
                    .add_call_claimed(call)
                    .await
                    .map(|(external_id, claim)| {
                        let job = claim.job;
                        claimed = Some(claim);
                        (job, external_id)
                    }),
                None,
            )),
            Decision::Hold(call, why) => Some((
                engine.outbox().add_held_call(call, why.clone()).await,
                Some(why),
            )),
        };
        match stored {
            None => {}
            Some((stored, held)) => match stored {
                Ok((job, external_id)) => {
                    stitcher.remember_external_id(external_id.as_str());
                    {
                        let mut pops = shared.pops.lock().unwrap_or_else(PoisonError::into_inner);
                        // A day's calls are plenty to remember.
                        let now = now_ms();
                        pops.retain(|_, p| now - p.heard_ms < POP_MEMORY_MS);
                        pops.insert(
                            job,
                            Pop {
                                external_id: external_id.as_str().to_owned(),
                                heard_ms: now,
                                answered: stitcher.touched_answered(),
                                ended: ended_id.is_some(),
                                ..Pop::default()
                            },
                        );
                    }
                    if let Some(why) = held {
                        tracing::info!(%job, %external_id, source = event.source, "call heard; held");
                        if let Some(sources) = &shared.sources {
                            sources.monitor.revise_newest(
                                SourceId::from_name(&event.source),
                                Verdict::Waiting(why),
                            );
                        }
                    } else {
                        tracing::info!(%job, %external_id, source = event.source, "call heard; registering");
                    }
                    if let Some(claim) = claimed.take() {
                        shared.register_now(&engine, claim);
                    }
                    shared.kick();
                    shared.publish().await;
                }
                Err(e) => {
                    shared
                        .notice(format!("The call could not be stored: {e}"))
                        .await
                }
            },
        }
        let recordings = settings.sources.recordings_dir.clone();
        if let (Some(dir), Some(call)) = (recordings, stitcher.touched())
            && event.kind == EventKind::End
            && call.ended
        {
            shared.store_pickup(&engine, dir, call).await;
        }
    }
}

impl Shared {
    /// Stores a pickup job for an ended call at once, so finding and attaching its
    /// recording survives a quit or a crash; the pickup lane runs it.
    async fn store_pickup(&self, engine: &Engine, dir: PathBuf, call: Touched) {
        let Some(external_id) = call
            .external_id
            .as_deref()
            .and_then(|id| ExternalId::parse(id).ok())
        else {
            self.notice(format!(
                "The recording of the call with {} was not attached: the call is not registered",
                call.number
            ))
            .await;
            return;
        };
        let number = call.number.as_str().to_owned();
        match engine
            .outbox()
            .add_pickup(dir, number, call.started_ms, external_id)
            .await
        {
            Ok(job) => {
                tracing::info!(%job, "recording pickup stored");
                self.kick_of(Lane::Pickup).notify_one();
                self.publish().await;
            }
            Err(e) => {
                self.notice(format!("The recording pickup could not be stored: {e}"))
                    .await;
            }
        }
    }
}

/// How often, and how long, a pickup looks for a recording to appear after its call ends.
const FIND_TRIES: u32 = 20;
const FIND_EVERY: Duration = Duration::from_millis(500);

/// The pickup lane: claims each due pickup and runs it as its own task (several calls may
/// be settling at once). A pickup interrupted by a quit or a crash is claimed again by the
/// next start.
async fn pickup_loop(shared: Arc<Shared>) {
    let kick = shared.kick_of(Lane::Pickup);
    loop {
        let engine = shared.current.get();
        let wait = match engine.outbox().claim_pickup().await {
            Ok(Some((job, payload))) => {
                shared.spawn(run_pickup(Arc::clone(&shared), engine, job, payload));
                continue;
            }
            Ok(None) => match engine.outbox().next_due_ms(Some(Lane::Pickup)).await {
                Ok(Some(at)) => Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0)),
                Ok(None) => Duration::from_secs(3600),
                Err(e) => {
                    shared.notice(e.to_string()).await;
                    Duration::from_secs(30)
                }
            },
            Err(e) => {
                shared.notice(e.to_string()).await;
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

/// Finds a pickup's recording, waits for it to settle, makes one file of it, checks it
/// like a hand-picked file, and queues it for attaching in the same transaction that ends
/// the pickup.
async fn run_pickup(
    shared: Arc<Shared>,
    engine: Arc<Engine>,
    job: JobId,
    payload: crate::outbox::PickupPayload,
) {
    let outbox = engine.outbox();
    let found = tokio::select! {
        () = shared.stop.cancelled() => return,
        found = prepare_recording(&shared, job, &payload, &engine) => found,
    };
    match found {
        Ok(path) => match outbox.finish_pickup(job, &payload, path).await {
            Ok(attach) => {
                tracing::info!(%job, %attach, "recording picked up");
                shared.kick_of(Lane::Upload).notify_one();
            }
            Err(e) => tracing::warn!(%job, error = %e, "the pickup ended elsewhere"),
        },
        Err((code, message)) => {
            tracing::warn!(%job, code, "recording pickup failed");
            if let Err(e) = outbox.fail_pickup(job, code, message).await {
                shared.notice(e.to_string()).await;
            }
        }
    }
    shared.publish().await;
}

/// The recording of a pickup, ready to upload, or why there is none (code, message).
async fn prepare_recording(
    shared: &Shared,
    job: JobId,
    payload: &crate::outbox::PickupPayload,
    engine: &Engine,
) -> Result<PathBuf, (&'static str, String)> {
    let mut files = Vec::new();
    for _ in 0..FIND_TRIES {
        let (dir, number, started) = (
            payload.dir.clone(),
            payload.number.clone(),
            payload.started_ms,
        );
        files = tokio::task::spawn_blocking(move || pickup::find(&dir, &number, started))
            .await
            .unwrap_or_default();
        if !files.is_empty() {
            break;
        }
        tokio::time::sleep(FIND_EVERY).await;
    }
    if files.is_empty() {
        return Err((
            "recording_not_found",
            format!(
                "no recording of this call appeared in {}: attach it with Attach recording…, or Retry to look again",
                payload.dir.display()
            ),
        ));
    }
    // Settling takes up to a minute: keep the claim.
    if let Err(e) = engine.outbox().renew(job).await {
        tracing::warn!(%job, error = %e, "cannot renew the pickup's lease");
    }
    pickup::settle(&files).await;
    let out = shared.setup.recordings_out.clone();
    let name = payload.name.clone();
    let merged = tokio::task::spawn_blocking(move || {
        let path = pickup::one_file(&files, &out, &name)?
            .ok_or_else(|| "the recording disappeared".to_owned())?;
        check_recording(&path)
            .map(|(path, _)| path)
            .map_err(|e| e.to_string())
    })
    .await;
    match merged {
        Ok(Ok(path)) => Ok(path),
        Ok(Err(e)) => Err(("recording_unusable", e)),
        Err(e) => Err(("recording_unusable", e.to_string())),
    }
}

/// Takes the window's commands in order. Quick ones (storing a call, retry, discard) run
/// here; anything that may wait on the network, the keyring or the disk runs as its own
/// task and reports back, so a hanging "Test connection" never holds up Register.
async fn command_loop(shared: Arc<Shared>, mut rx: mpsc::Receiver<Command>) {
    shared
        .ui
        .send(Event::Settings(Box::new(shared.setup.editable.clone())))
        .await;
    shared.announce_engine().await;
    loop {
        let command = tokio::select! {
            () = shared.stop.cancelled() => return,
            command = rx.recv() => match command {
                Some(command) => command,
                None => return,
            },
        };
        let engine = shared.current.get();
        let outcome: Result<(), String> = match command {
            Command::Register(call) => match engine.outbox().add_call_claimed(call).await {
                Ok((external_id, claimed)) => {
                    let job = claimed.job;
                    shared
                        .typed
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(job, now_ms());
                    shared.register_now(&engine, claimed);
                    shared.ui.send(Event::CallQueued { job, external_id }).await;
                    Ok(())
                }
                Err(e) => Err(format!("The call could not be stored: {e}")),
            },
            Command::AttachRecording { call_id, path } => {
                shared.spawn(attach_recording(Arc::clone(&shared), engine, call_id, path));
                Ok(())
            }
            Command::CancelUpload(job) => {
                if engine.outbox().cancel(job) {
                    Ok(())
                } else {
                    Err(format!("Job {job} is not uploading any more."))
                }
            }
            Command::OpenUrl(url) => {
                let task = Arc::clone(&shared);
                shared.spawn(async move { task.open_link(&engine, url).await });
                Ok(())
            }
            Command::Retry(job) => match engine.outbox().retry(job).await {
                Ok(()) => {
                    shared.kick();
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            },
            Command::Discard(job) => engine
                .outbox()
                .discard(job)
                .await
                .map_err(|e| e.to_string()),
            Command::PrepareNumbers => {
                drop(tokio::task::spawn_blocking(
                    crate::domain::PhoneNumber::warm_up,
                ));
                Ok(())
            }
            Command::LoadForm => {
                let task = Arc::clone(&shared);
                shared.spawn(async move {
                    let fields = load_form(&engine).await;
                    task.ui.send(Event::FormFields(fields)).await;
                });
                Ok(())
            }
            Command::TestConnection { settings, key } => {
                let task = Arc::clone(&shared);
                shared.spawn(async move {
                    let result = test_connection(&task.setup, &settings, key).await;
                    task.ui.send(Event::ConnectionTested(result)).await;
                });
                Ok(())
            }
            Command::SimulateCall(number) => match shared.sources.clone() {
                Some(sources) => {
                    let task = Arc::clone(&shared);
                    shared.spawn(async move {
                        if let Err(e) = doctor::simulate(&sources, &number).await {
                            task.notice(e).await;
                        }
                    });
                    Ok(())
                }
                None => Err("Call sources are not running in this window.".to_owned()),
            },
            Command::AnswerCall => match &shared.sources {
                Some(sources) => doctor::answer(sources),
                None => Err("Call sources are not running in this window.".to_owned()),
            },
            Command::NewHookToken => match shared.sources.clone() {
                Some(sources) => {
                    let task = Arc::clone(&shared);
                    shared.spawn(async move {
                        let secrets = Arc::clone(&task.setup.secrets);
                        let renewed = tokio::task::spawn_blocking(move || {
                            doctor::renew_token(&sources, secrets.as_ref())
                        })
                        .await
                        .unwrap_or_else(|e| Err(e.to_string()));
                        if let Err(e) = renewed {
                            task.notice(e).await;
                        }
                    });
                    Ok(())
                }
                None => Err("Call sources are not running in this window.".to_owned()),
            },
            Command::CheckSources => {
                let task = Arc::clone(&shared);
                shared.spawn(async move { task.report_sources().await });
                Ok(())
            }
            Command::CheckHookPort => match shared.sources.as_ref().and_then(|s| s.hook.clone()) {
                Some(hook) => {
                    let task = Arc::clone(&shared);
                    shared.spawn(async move {
                        if let Err(e) = hook.check_again().await {
                            task.notice(format!("The event hook stays where it is: {e}."))
                                .await;
                        }
                        task.report_sources().await;
                    });
                    Ok(())
                }
                None => Err("The event hook is off.".to_owned()),
            },
            Command::SaveSettings { settings, key } => {
                let task = Arc::clone(&shared);
                shared.spawn(async move { task.save(settings, key).await });
                Ok(())
            }
        };
        if let Err(message) = outcome {
            shared.notice(message).await;
        }
        shared.publish().await;
    }
}

/// Checks a recording the agent chose and queues it for the call.
async fn attach_recording(shared: Arc<Shared>, engine: Arc<Engine>, call_id: i64, path: PathBuf) {
    let checked = tokio::task::spawn_blocking(move || check_recording(&path)).await;
    let outcome = match checked {
        Ok(Ok((path, _size))) => {
            match engine
                .outbox()
                .add_attachment_to_call(call_id, path, Vec::new())
                .await
            {
                Ok(_) => {
                    shared.kick();
                    Ok(())
                }
                Err(e) => Err(format!("The recording could not be queued: {e}")),
            }
        }
        Ok(Err(e)) => {
            shared
                .ui
                .send(Event::AttachRejected {
                    call_id,
                    message: e.to_string(),
                })
                .await;
            Ok(())
        }
        Err(e) => Err(format!("The recording could not be checked: {e}")),
    };
    if let Err(message) = outcome {
        shared.notice(message).await;
    }
    shared.publish().await;
}

impl Shared {
    /// Runs `task` owned by the service: cancelled and awaited at shutdown.
    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                () = task => {}
            }
        });
    }

    /// Saves settings (one save at a time) and puts the new engine in use.
    async fn save(&self, settings: Box<Settings>, key: Option<Secret>) {
        let _one = self.saving.lock().await;
        match save_settings(&self.setup, &settings, key).await {
            Ok(new_engine) => {
                self.current.set(new_engine);
                self.set_connection(Connection::Unknown);
                self.ui.send(Event::Settings(settings)).await;
                self.announce_engine().await;
                let engine = self.current.get();
                if let Err(e) = self.take_up(&engine, true).await {
                    self.notice(e).await;
                }
            }
            Err(refusal) => {
                self.ui.send(Event::SettingsRejected(refusal)).await;
            }
        }
        self.publish().await;
    }
}

/// The fields of the form named in the settings.
async fn load_form(engine: &Engine) -> Result<Vec<crate::domain::FormFieldInfo>, Refusal> {
    let Some(form_id) = engine.settings().pyrus.form_id else {
        return Ok(Vec::new());
    };
    let client = engine
        .client()
        .map_err(|e| Refusal::new("credentials_missing", e.to_string()))?;
    let fields = client
        .form_fields(form_id)
        .await
        .map_err(|e| Refusal::new(e.code(), e.to_string()))?;
    Ok(fields
        .iter()
        .filter_map(crate::pyrus::FormField::to_info)
        .collect())
}

/// The key to use: a newly typed one, or the one stored for the login.
async fn key_for(setup: &Setup, login: &str, typed: Option<Secret>) -> Result<Secret, Refusal> {
    if let Some(key) = typed.filter(|k| !k.is_blank()) {
        return Ok(key);
    }
    let secrets = Arc::clone(&setup.secrets);
    let login = login.to_owned();
    let stored = tokio::task::spawn_blocking(move || secrets.get(&login))
        .await
        .map_err(|e| Refusal::new("internal", e.to_string()))?
        .map_err(|e| Refusal::new("keyring", e.to_string()))?;
    stored.ok_or_else(|| {
        Refusal::new(
            "key_missing",
            "Type the security key: none is stored for this login yet.",
        )
    })
}

fn check_fields(settings: &Settings) -> Result<(), Refusal> {
    if settings.pyrus.login.trim().is_empty() {
        return Err(Refusal::new(
            "login_missing",
            "Type the login of the Pyrus bot (or user).",
        ));
    }
    if settings.pyrus.account_id.trim().is_empty() {
        return Err(Refusal::new(
            "account_missing",
            "Type the account id shown in the API telephony extension in Pyrus.",
        ));
    }
    settings
        .hook
        .allow_rules()
        .map_err(|why| Refusal::new("hook_allow", why))?;
    if let Some(addr) = settings.sources.baresip.as_deref()
        && addr
            .trim()
            .rsplit_once(':')
            .is_none_or(|(host, port)| host.is_empty() || port.parse::<u16>().is_err())
    {
        return Err(Refusal::new(
            "bad_baresip",
            format!(
                "'{addr}' is not baresip's control address: write host:port, e.g. 127.0.0.1:4444"
            ),
        ));
    }
    for (what, number) in [
        ("This line's number", &settings.defaults.line_number),
        ("The internal number", &settings.defaults.internal_number),
    ] {
        if !number.trim().is_empty() {
            crate::domain::PhoneNumber::parse_extension(number)
                .map_err(|e| Refusal::new("bad_number", format!("{what}: {e}")))?;
        }
    }
    let bad_url = |e: crate::pyrus::PyrusError| Refusal::new("bad_url", e.to_string());
    crate::pyrus::check_url(settings.pyrus.auth_url.trim()).map_err(bad_url)?;
    if let Some(web) = settings
        .pyrus
        .web_base
        .as_deref()
        .filter(|w| !w.trim().is_empty())
    {
        crate::pyrus::check_url(web.trim()).map_err(bad_url)?;
    }
    Ok(())
}

async fn test_connection(
    setup: &Setup,
    settings: &Settings,
    key: Option<Secret>,
) -> Result<String, Refusal> {
    check_fields(settings)?;
    let key = key_for(setup, settings.pyrus.login.trim(), key).await?;
    let refusal = |e: crate::pyrus::PyrusError| Refusal::new(e.code(), e.to_string());
    let client = PyrusClient::new(
        ClientConfig::new(settings.pyrus.auth_url.trim()),
        Credentials {
            login: settings.pyrus.login.trim().to_owned(),
            security_key: key,
            person_id: settings.pyrus.person_id,
        },
    )
    .map_err(refusal)?;
    let endpoints = client.login().await.map_err(refusal)?;
    Ok(endpoints.api_url)
}

async fn save_settings(
    setup: &Setup,
    settings: &Settings,
    key: Option<Secret>,
) -> Result<Engine, Refusal> {
    check_fields(settings)?;
    let internal = |e: &dyn std::fmt::Display| Refusal::new("internal", e.to_string());
    let login = settings.pyrus.login.trim().to_owned();
    if let Some(key) = key.filter(|k| !k.is_blank()) {
        let secrets = Arc::clone(&setup.secrets);
        let l = login.clone();
        tokio::task::spawn_blocking(move || secrets.set(&l, &key))
            .await
            .map_err(|e| internal(&e))?
            .map_err(|e| Refusal::new("keyring", e.to_string()))?;
    }
    let path = setup.settings_path.clone();
    let to_save = settings.clone();
    tokio::task::spawn_blocking(move || to_save.save(&path))
        .await
        .map_err(|e| internal(&e))?
        .map_err(|e| internal(&e))?;
    (setup.open_engine)(settings).map_err(|e| internal(&e))
}

fn connection_after(reports: &[JobReport], before: Connection) -> Connection {
    reports.iter().fold(before, |c, r| match r.state {
        JobState::Done => Connection::SignedIn,
        JobState::NeedsCredentials => Connection::NeedsCredentials,
        JobState::Pending => Connection::Offline,
        _ => c,
    })
}

/// How many calls are sent at once straight from being stored (a burst of calls must not
/// hit Pyrus's rate limit; the rest wait for a turn, already claimed).
const REGISTER_AT_ONCE: usize = 4;

/// How long a stored call waits for a turn before the register lane takes it over.
const TURN_WAIT: Duration = Duration::from_secs(10);

impl Shared {
    /// What the outbox reports while a job runs: upload progress goes to the window; a
    /// registration opens its task as soon as Pyrus answers, before it is written down.
    fn listener(self: &Arc<Self>) -> Listener {
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
    fn register_now(self: &Arc<Self>, engine: &Arc<Engine>, claimed: crate::outbox::Claimed) {
        let shared = Arc::clone(self);
        let engine = Arc::clone(engine);
        self.spawn(async move {
            let turn = tokio::time::timeout(TURN_WAIT, shared.registering.acquire()).await;
            let Ok(Ok(_turn)) = turn else {
                // Too many at once: the register lane takes it from the queue (well within
                // its lease, so nobody else sends it meanwhile).
                let job = claimed.job;
                if let Err(e) = engine.outbox().release(job).await {
                    tracing::error!(%job, error = %e, "a claimed call could not be handed back");
                }
                shared.kick();
                return;
            };
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
    async fn on_registered(&self, engine: &Arc<Engine>, job: JobId, task_id: u64) -> String {
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
async fn send_loop(shared: Arc<Shared>, lane: Lane) {
    let kick = shared.kick_of(lane);
    let listener = shared.listener();
    loop {
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
                    shared.notice(e.to_string()).await;
                    Duration::from_secs(30)
                }
            },
            Err(e) => {
                shared.set_connection(Connection::NeedsCredentials);
                shared.notice(e.to_string()).await;
                shared.publish().await;
                Duration::from_secs(3600)
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
    async fn report(&self, engine: &Arc<Engine>, report: JobReport) {
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
