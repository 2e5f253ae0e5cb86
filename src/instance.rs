//! One running pyrus-phone, built the same way for the window, `--headless` and the tests:
//! the engine (the account's, or the demo sandbox's when no account is set up), the outbox,
//! the call sources (the event hook on its port or a free one, baresip, an event handed over
//! at start) and the service's setup. `main` only picks paths, logging and the front end.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::bus::UiSender;
use crate::domain::{CallEvent, CallEventWire, EventSource, Secret, TokenOrigin};
use crate::outbox::Outbox;
use crate::profile::Context;
use crate::sandbox::{DEMO_SECURITY_KEY, Sandbox, SandboxConfig};
use crate::service::{Engine, EngineFactory, Service, ServiceHandle, Setup, Sources};
use crate::settings::Settings;
use crate::settings::credentials::{HOOK_TOKEN_ENTRY, MemoryStore, SecretStore};
use crate::sources::Heard;
use crate::sources::baresip::BaresipCommand;
use crate::sources::hook_port::{HookPlan, RunningHook};
use crate::sources::http_hook::{self, HookOptions, HookOutputs, TokenCell};
use crate::sources::monitor::Monitor;

/// What this start was asked for (the command line's part).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Run against the demo sandbox even when an account is set up.
    pub demo: bool,
    /// baresip's `ctrl_tcp` address, for this run only.
    pub baresip: Option<String>,
    /// The softphone's recordings folder, for this run only.
    pub recordings: Option<PathBuf>,
    /// The hook's port, for this run only.
    pub hook_port: Option<u16>,
    /// An event handed over by the start that launched this one (JSON).
    pub initial_event: Option<String>,
    /// A window will show: later starts may ask it to come to the front.
    pub window: bool,
    /// The demo sandbox's users and faults (the built-in demo when `None`).
    pub sandbox: Option<SandboxConfig>,
}

/// A built instance, not yet serving.
pub struct Instance {
    engine: Arc<Engine>,
    setup: Setup,
    /// Runs against the demo sandbox.
    pub demo: bool,
    /// No account is set up and the demo was not asked for: the settings open first.
    pub first_run: bool,
    monitor: Arc<Monitor>,
    sandbox: Option<Sandbox>,
    hook: Option<Arc<RunningHook>>,
    baresip: Option<tokio::task::JoinHandle<()>>,
    runtime_dir: PathBuf,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("demo", &self.demo)
            .finish_non_exhaustive()
    }
}

/// A serving instance: the service plus what must live as long as it does.
#[derive(Debug)]
pub struct Running {
    /// The service's handle (the window sends its commands there).
    pub service: ServiceHandle,
    sandbox: Option<Sandbox>,
    hook: Option<Arc<RunningHook>>,
    baresip: Option<tokio::task::JoinHandle<()>>,
    runtime_dir: PathBuf,
}

impl Running {
    /// Stops taking events first (the hook stops listening and its runtime file goes, so a
    /// command hook no longer finds a stopping instance; baresip is let go), then the
    /// service (claimed work released for the next run), then the demo sandbox.
    pub async fn shutdown(self) {
        if let Some(hook) = &self.hook {
            hook.stop().await;
        }
        if let Some(baresip) = &self.baresip {
            baresip.abort();
        }
        let dir = self.runtime_dir;
        tokio::task::spawn_blocking(move || crate::sources::runtime_file::withdraw(&dir))
            .await
            .ok();
        self.service.shutdown().await;
        if let Some(sandbox) = self.sandbox {
            sandbox.shutdown().await;
        }
    }
}

/// The outbox, or — when it cannot be opened (read-only, damaged…) — a stand-in that stores
/// nothing and says why, with the reason: the app still starts, heard calls are refused
/// with the reason and the window shows it, until it is fixed.
fn open_outbox(ctx: &Context) -> Result<(Outbox, Option<String>), String> {
    let path = ctx.paths.database_file();
    match Outbox::open(&path) {
        Ok(outbox) => Ok((outbox, None)),
        Err(e) => {
            let why = e.to_string();
            tracing::error!(error = %why, "the outbox cannot be used; calls are refused until it is fixed");
            let stand_in = Outbox::unusable(&path, why.clone()).map_err(|e| e.to_string())?;
            Ok((stand_in, Some(why)))
        }
    }
}

/// baresip's control connection, when the settings name its address: the commands it
/// takes (Answer) and its task.
fn start_baresip(
    runtime: &tokio::runtime::Runtime,
    settings: &Settings,
    events: &mpsc::Sender<Heard>,
    monitor: &Arc<Monitor>,
) -> (
    Option<mpsc::Sender<BaresipCommand>>,
    Option<tokio::task::JoinHandle<()>>,
) {
    settings
        .sources
        .baresip
        .as_deref()
        .map(str::trim)
        .filter(|addr| !addr.is_empty())
        .map(|addr| {
            let (commands, rx) = mpsc::channel(8);
            let task = runtime.spawn(crate::sources::baresip::run(
                addr.to_owned(),
                events.clone(),
                Arc::clone(monitor),
                rx,
            ));
            (commands, task)
        })
        .unzip()
}

/// The HTTP hook, when it is on (or a port is asked for): listening, published, with its
/// token (kept in the keyring, or for this run).
fn start_hook(
    runtime: &tokio::runtime::Runtime,
    ctx: &Context,
    secrets: &Arc<dyn SecretStore>,
    options: &Options,
    settings: &Settings,
    outputs: HookOutputs,
    monitor: &Arc<Monitor>,
) -> Result<(Option<Arc<RunningHook>>, Option<TokenCell>), String> {
    if !settings.hook.enabled && options.hook_port.is_none() {
        return Ok((None, None));
    }
    let (token, token_origin) = hook_token(Arc::clone(secrets));
    let cell = TokenCell::new(token);
    let plan = HookPlan {
        options: HookOptions {
            port: options.hook_port.unwrap_or(settings.hook.port),
            network: settings.hook.network,
            allow: settings.hook.allow_rules().map_err(|e| e.to_string())?,
        },
        allow_text: settings.hook.allow.clone(),
        token: cell.clone(),
        token_origin,
        outputs,
        runtime_dir: ctx.paths.runtime_dir.clone(),
    };
    let hook = runtime.block_on(RunningHook::start(plan, Arc::clone(monitor)));
    Ok((hook, Some(cell)))
}

/// Reads `settings.toml` with the environment's overrides applied.
pub fn load_settings(ctx: &Context) -> Result<Settings, String> {
    let mut settings = Settings::load_with_admin(
        &ctx.paths.settings_file(),
        ctx.paths.admin_settings_file.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    settings.apply(&ctx.env);
    Ok(settings)
}

impl Instance {
    /// Builds the instance from loaded settings: engine, outbox, demo sandbox, call sources.
    /// Secrets go to `secrets` (the OS keyring in the product).
    pub fn build(
        runtime: &tokio::runtime::Runtime,
        ctx: &Context,
        secrets: Arc<dyn SecretStore>,
        options: &Options,
        mut settings: Settings,
    ) -> Result<Self, String> {
        let no_account = !settings.has_account();
        let demo = options.demo || no_account;
        // Overrides for this run only.
        if let Some(addr) = &options.baresip {
            settings.sources.baresip = Some(addr.clone());
        }
        if let Some(dir) = &options.recordings {
            settings.sources.recordings_dir = Some(dir.clone());
        }
        let open_engine = engine_factory(ctx, Arc::clone(&secrets));
        let (engine, sandbox, outbox_problem) = if demo {
            let (engine, sandbox) = demo_engine(runtime, ctx, options.sandbox.clone(), &settings)?;
            (engine, Some(sandbox), None)
        } else {
            let (outbox, problem) = open_outbox(ctx)?;
            (
                engine_with(ctx, Arc::clone(&secrets), &settings, outbox),
                None,
                problem,
            )
        };

        let (tx, call_events) = mpsc::channel(256);
        let monitor = Arc::new(Monitor::default());
        monitor.set_outbox_problem(outbox_problem);
        let (baresip, baresip_task) = start_baresip(runtime, &settings, &tx, &monitor);
        if let Some(json) = &options.initial_event {
            match initial_event(json) {
                Ok(event) => {
                    tx.try_send(Heard::unacknowledged(event)).ok();
                }
                Err(e) => tracing::error!("the initial event was refused: {e}"),
            }
        }
        let (raise_tx, raise) = if options.window {
            let (tx, rx) = mpsc::channel(4);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let outputs = HookOutputs {
            events: tx.clone(),
            show: raise_tx,
        };
        let (hook, token) = start_hook(
            runtime, ctx, &secrets, options, &settings, outputs, &monitor,
        )?;
        let sources = Sources {
            monitor: Arc::clone(&monitor),
            token,
            runtime_dir: ctx.paths.runtime_dir.clone(),
            baresip,
            events: tx,
            program: std::env::current_exe()
                .map_or_else(|_| "pyrus-phone".to_owned(), |p| p.display().to_string()),
            hook: hook.clone(),
        };
        let setup = Setup {
            settings_path: ctx.paths.settings_file(),
            admin_settings: ctx.paths.admin_settings_file.clone(),
            secrets,
            editable: settings,
            open_engine,
            call_events: Some(call_events),
            recordings_out: ctx.paths.data_dir.join("recordings"),
            sources: Some(sources),
            raise,
            key_from_env: ctx.key_override.is_some(),
            env: ctx.env.clone(),
            autostart: ctx.paths.autostart_dir.clone().and_then(|dir| {
                std::env::current_exe()
                    .ok()
                    .map(|program| crate::platform::autostart::Autostart { dir, program })
            }),
            session_key: std::sync::Mutex::default(),
        };
        Ok(Self {
            engine: Arc::new(engine),
            setup,
            demo,
            first_run: no_account && !options.demo,
            monitor,
            sandbox,
            hook,
            baresip: baresip_task,
            runtime_dir: ctx.paths.runtime_dir.clone(),
        })
    }

    /// The settings the settings view starts from.
    pub fn editable(&self) -> &Settings {
        &self.setup.editable
    }

    /// What the call sources noted (the hook doctor reads it).
    pub fn monitor(&self) -> &Arc<Monitor> {
        &self.monitor
    }

    /// Takes the demo sandbox out of the instance: the caller keeps it and stops it (tests
    /// inject faults and read what it received).
    pub fn take_sandbox(&mut self) -> Option<Sandbox> {
        self.sandbox.take()
    }

    /// Where call sources send their events (tests play a softphone through it).
    pub fn events(&self) -> Option<mpsc::Sender<Heard>> {
        self.setup.sources.as_ref().map(|s| s.events.clone())
    }

    /// Sends Answer and other softphone commands to `commands` instead of a baresip
    /// connection (a fake softphone in tests).
    pub fn set_baresip_commands(&mut self, commands: mpsc::Sender<BaresipCommand>) {
        if let Some(sources) = self.setup.sources.as_mut() {
            sources.baresip = Some(commands);
        }
    }

    /// Starts serving: the service's loops on `runtime`, reporting to `ui`.
    pub fn serve(self, runtime: &tokio::runtime::Handle, ui: UiSender) -> Running {
        let runtime_dir = self.runtime_dir;
        let service = Service::spawn(runtime, self.engine, ui, self.setup);
        Running {
            service,
            sandbox: self.sandbox,
            hook: self.hook,
            baresip: self.baresip,
            runtime_dir,
        }
    }
}

/// Builds an engine for saved settings: the real outbox, `secrets`, env overrides.
fn engine_factory(ctx: &Context, secrets: Arc<dyn SecretStore>) -> EngineFactory {
    let ctx = ctx.clone();
    Box::new(move |saved: &Settings| {
        let outbox = Outbox::open(&ctx.paths.database_file())?;
        Ok(engine_with(&ctx, Arc::clone(&secrets), saved, outbox))
    })
}

/// An engine over `outbox` for `saved` settings with the environment's overrides.
fn engine_with(
    ctx: &Context,
    secrets: Arc<dyn SecretStore>,
    saved: &Settings,
    outbox: Outbox,
) -> Engine {
    let mut settings = saved.clone();
    settings.apply(&ctx.env);
    Engine::new(
        settings,
        outbox,
        secrets,
        ctx.key_override.clone(),
        Arc::clone(&ctx.browser),
    )
}

/// The demo: a fresh sandbox and a fresh outbox of its own (both forget everything when
/// the demo stops).
fn demo_engine(
    runtime: &tokio::runtime::Runtime,
    ctx: &Context,
    config: Option<SandboxConfig>,
    settings: &Settings,
) -> Result<(Engine, Sandbox), String> {
    let paths = ctx.paths.demo();
    if paths.data_dir.exists() {
        std::fs::remove_dir_all(&paths.data_dir).map_err(|e| {
            format!(
                "cannot reset the demo data in {}: {e}",
                paths.data_dir.display()
            )
        })?;
    }
    let sandbox = runtime
        .block_on(async {
            match config {
                None => crate::profile::demo::start_demo(&paths, 0).await,
                Some(config) => {
                    let loopback = std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0));
                    Sandbox::start(config, loopback).await
                }
            }
        })
        .map_err(|e| format!("cannot start the demo sandbox: {e}"))?;
    let outbox = Outbox::open(&paths.database_file()).map_err(|e| e.to_string())?;
    let engine = Engine::new(
        crate::profile::demo::demo_settings(&sandbox, settings),
        outbox,
        Arc::new(MemoryStore::default()),
        Some(Secret::new(DEMO_SECURITY_KEY)),
        Arc::clone(&ctx.browser),
    );
    Ok((engine, sandbox))
}

/// The hook's token: the one kept in `secrets`, or a new one stored there. When the store
/// cannot be used (or does not answer within 3 s) the token is for this run only, and the
/// hook doctor says why.
fn hook_token(secrets: Arc<dyn SecretStore>) -> (Secret, TokenOrigin) {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("keyring".into())
        .spawn(move || {
            let kept = match secrets.get(HOOK_TOKEN_ENTRY) {
                Ok(Some(token)) if !token.is_blank() => Ok(token),
                Ok(_) => {
                    let token = http_hook::new_token();
                    secrets.set(HOOK_TOKEN_ENTRY, &token).map(|()| token)
                }
                Err(e) => Err(e),
            };
            tx.send(kept).ok();
        });
    let why = match spawned {
        Err(e) => e.to_string(),
        Ok(_) => match rx.recv_timeout(std::time::Duration::from_secs(3)) {
            Ok(Ok(token)) => return (token, TokenOrigin::Keyring),
            Ok(Err(e)) => format!("the system keyring is not available: {}", e.reason),
            Err(_) => "the keyring did not answer".to_owned(),
        },
    };
    tracing::warn!("the event hook's token is for this run only: {why}");
    (http_hook::new_token(), TokenOrigin::ThisRun(why))
}

/// Reads an event handed over as JSON (`--initial-event`): the hook's own shape.
pub fn initial_event(json: &str) -> Result<CallEvent, String> {
    let wire: CallEventWire = serde_json::from_str(json).map_err(|e| e.to_string())?;
    wire.into_event(EventSource::Command)
        .map_err(|e| e.to_string())
}
