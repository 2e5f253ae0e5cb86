//! The `pyrus-phone` binary: parses the command line, then runs a CLI command, the sandbox,
//! or the window (against Pyrus, or the built-in demo sandbox when no account is set up).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser as _;
use pyrus_phone::app::{PhoneApp, native_options};
use pyrus_phone::bus;
use pyrus_phone::cli::{self, Cli, Context};
use pyrus_phone::domain::{CallEvent, HookHealth, Secret, TokenOrigin};
use pyrus_phone::outbox::Outbox;
use pyrus_phone::platform::browser::SystemBrowser;
use pyrus_phone::platform::instance_lock::InstanceLock;
use pyrus_phone::platform::paths::Paths;
use pyrus_phone::sandbox::DEMO_SECURITY_KEY;
use pyrus_phone::service::{Engine, EngineFactory, Service, Setup, Sources};
use pyrus_phone::settings::credentials::{
    HOOK_TOKEN_ENTRY, KeyringStore, MemoryStore, SecretStore as _,
};
use pyrus_phone::settings::{EnvOverrides, Settings};
use pyrus_phone::sources::monitor::Monitor;
use pyrus_phone::sources::{http_hook, runtime_file};
use pyrus_phone::ui::i18n::Language;
use pyrus_phone::ui::{UiState, View};

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let args = Cli::parse();
    if args.command.is_none() && args.uri.is_none() && !args.headless {
        // The window's GL driver loads while everything else starts.
        pyrus_phone::platform::gl_warmup::start(started);
    }
    let home = std::env::var_os("PYRUS_PHONE_HOME").map(PathBuf::from);
    let paths = match Paths::resolve(home.as_deref()) {
        Ok(paths) => paths,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let _log_guard = match pyrus_phone::logging::init(&paths.log_dir) {
        Ok(guard) => Some(guard),
        Err(e) => {
            eprintln!("warning: {e}; running without a log file");
            None
        }
    };
    let runtime = match pyrus_phone::runtime::build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the I/O runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let ctx = Context {
        paths,
        env: EnvOverrides::from_process(),
        key_override: std::env::var("PYRUS_SECURITY_KEY")
            .ok()
            .filter(|k| !k.trim().is_empty())
            .map(|k| Secret::new(k.trim())),
        browser: Arc::new(SystemBrowser),
    };
    if let Some(uri) = &args.uri {
        return cli::open_uri(uri, &ctx);
    }
    let code = match args.command {
        Some(command) => runtime.block_on(cli::run(command, ctx)),
        None => match run_instance(&runtime, &ctx, &args, started) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                tracing::error!("{message}");
                eprintln!("error: {message}");
                ExitCode::from(1)
            }
        },
    };
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    code
}

/// What the hook needs to listen again on another port.
struct HookOptionsFallback {
    network: bool,
    allow: Vec<pyrus_phone::domain::sources::AllowRule>,
}

/// What a running instance is made of, whether it shows a window or not.
struct Instance {
    engine: Arc<Engine>,
    setup: Setup,
    demo: bool,
    first_run: bool,
    /// Kept alive for the run.
    _sandbox: Option<pyrus_phone::sandbox::Sandbox>,
    _hook: Option<http_hook::HookServer>,
}

/// Builds the engine (the account's, or the demo sandbox's), starts the event hook and
/// publishes it for command hooks, and feeds an initial event in.
fn load_settings(ctx: &Context) -> Result<Settings, String> {
    let mut settings = Settings::load(&ctx.paths.settings_file()).map_err(|e| e.to_string())?;
    settings.apply(&ctx.env);
    Ok(settings)
}

/// Builds the instance from loaded settings: engine, outbox, demo sandbox, event hook.
fn prepare(
    runtime: &tokio::runtime::Runtime,
    ctx: &Context,
    args: &Cli,
    mut settings: Settings,
) -> Result<Instance, String> {
    let no_account = !settings.has_account();
    let demo = args.demo || no_account;
    // Overrides for this run only.
    if let Some(addr) = &args.baresip {
        settings.sources.baresip = Some(addr.clone());
    }
    if let Some(dir) = &args.recordings {
        settings.sources.recordings_dir = Some(dir.clone());
    }

    let real_paths = ctx.paths.clone();
    let key_override = ctx.key_override.clone();
    let browser = Arc::clone(&ctx.browser);
    let env = ctx.env.clone();
    let open_engine: EngineFactory = Box::new(move |saved: &Settings| {
        let mut settings = saved.clone();
        settings.apply(&env);
        let outbox = Outbox::open(&real_paths.database_file()).map_err(|e| e.to_string())?;
        Ok(Engine::new(
            settings,
            outbox,
            Arc::new(KeyringStore),
            key_override.clone(),
            Arc::clone(&browser),
        ))
    });

    let (engine, sandbox) = if demo {
        let paths = ctx.paths.demo();
        // The demo sandbox forgets everything when it stops; so does the demo's outbox.
        if paths.data_dir.exists() {
            std::fs::remove_dir_all(&paths.data_dir).map_err(|e| {
                format!(
                    "cannot reset the demo data in {}: {e}",
                    paths.data_dir.display()
                )
            })?;
        }
        let sandbox = runtime
            .block_on(cli::sandbox::start_demo(&paths, 0))
            .map_err(|e| format!("cannot start the demo sandbox: {e}"))?;
        let outbox = Outbox::open(&paths.database_file()).map_err(|e| e.to_string())?;
        let engine = Engine::new(
            cli::sandbox::demo_settings(&sandbox, &settings),
            outbox,
            Arc::new(MemoryStore::default()),
            Some(Secret::new(DEMO_SECURITY_KEY)),
            Arc::clone(&ctx.browser),
        );
        (engine, Some(sandbox))
    } else {
        (open_engine(&settings)?, None)
    };

    let (tx, call_events) = tokio::sync::mpsc::channel(256);
    let monitor = Arc::new(Monitor::default());
    let baresip = settings
        .sources
        .baresip
        .as_deref()
        .map(str::trim)
        .filter(|addr| !addr.is_empty())
        .map(|addr| {
            let addr = addr.to_owned();
            let (commands, rx) = tokio::sync::mpsc::channel(8);
            runtime.spawn(pyrus_phone::sources::baresip::run(
                addr,
                tx.clone(),
                Arc::clone(&monitor),
                rx,
            ));
            commands
        });
    if let Some(json) = &args.initial_event {
        match initial_event(json) {
            Ok(event) => {
                tx.try_send(event).ok();
            }
            Err(e) => tracing::error!("the initial event was refused: {e}"),
        }
    }
    let wanted = settings.hook.enabled || args.hook_port.is_some();
    let (hook, token) = if wanted {
        let (token, token_origin) = hook_token();
        let cell = http_hook::TokenCell::new(token);
        let options = http_hook::HookOptions {
            port: args.hook_port.unwrap_or(settings.hook.port),
            network: settings.hook.network,
            allow: settings.hook.allow_rules()?,
        };
        let mut health = HookHealth {
            listening: None,
            problem: None,
            token_origin,
            allow: if options.network {
                settings.hook.allow.clone()
            } else {
                Vec::new()
            },
        };
        let port = options.port;
        let fallback = HookOptionsFallback {
            network: options.network,
            allow: options.allow.clone(),
        };
        let mut started = runtime.block_on(http_hook::start(
            options,
            cell.clone(),
            tx.clone(),
            Arc::clone(&monitor),
        ));
        // The port is taken (another program, another agent's session): listen on a free
        // loopback port so command hooks still reach us, and say so.
        if let Err(e) = &started
            && port != 0
        {
            let why = e.to_string();
            let retry = runtime.block_on(http_hook::start(
                http_hook::HookOptions {
                    port: 0,
                    network: fallback.network,
                    allow: fallback.allow,
                },
                cell.clone(),
                tx.clone(),
                Arc::clone(&monitor),
            ));
            if let Ok(server) = &retry {
                tracing::warn!(port, instead = server.addr.port(), error = %why, "the hook's port is taken");
                health.problem = Some(format!(
                    "port {port} is taken ({why}); listening on {} instead: command hooks and Simulate work, desk phones need port {port} — free it and restart pyrus-phone",
                    server.addr.port()
                ));
                started = retry;
            }
        }
        let server = match started {
            Ok(server) => {
                health.listening = Some(server.addr.to_string());
                let published = runtime_file::Instance {
                    port: server.addr.port(),
                    token: cell.get().expose().to_owned(),
                    pid: std::process::id(),
                };
                if let Err(e) = runtime_file::publish(&ctx.paths.runtime_dir, &published) {
                    tracing::error!(error = %e, "command hooks cannot find this instance");
                }
                Some(server)
            }
            Err(e) => {
                tracing::error!(port, error = %e, "the event hook could not start");
                health.problem = Some(format!("port {port}: {e}"));
                None
            }
        };
        monitor.set_hook(health);
        (server, Some(cell))
    } else {
        (None, None)
    };
    let sources = Sources {
        monitor,
        token,
        runtime_dir: ctx.paths.runtime_dir.clone(),
        baresip,
        events: tx,
        program: std::env::current_exe()
            .map_or_else(|_| "pyrus-phone".to_owned(), |p| p.display().to_string()),
    };

    let setup = Setup {
        settings_path: ctx.paths.settings_file(),
        secrets: Arc::new(KeyringStore),
        editable: settings,
        open_engine,
        call_events: Some(call_events),
        recordings_out: ctx.paths.data_dir.join("recordings"),
        sources: Some(sources),
    };
    Ok(Instance {
        engine: Arc::new(engine),
        setup,
        demo,
        first_run: no_account && !args.demo,
        _sandbox: sandbox,
        _hook: hook,
    })
}

/// The hook's token: the one kept in the keyring, or a new one stored there. When the
/// keyring cannot be used (or does not answer within 3 s) the token is for this run only,
/// and the hook doctor says why.
fn hook_token() -> (Secret, TokenOrigin) {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("keyring".into())
        .spawn(move || {
            let store = KeyringStore;
            let kept = match store.get(HOOK_TOKEN_ENTRY) {
                Ok(Some(token)) if !token.is_blank() => Ok(token),
                Ok(_) => {
                    let token = http_hook::new_token();
                    store.set(HOOK_TOKEN_ENTRY, &token).map(|()| token)
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

fn initial_event(json: &str) -> Result<CallEvent, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let field = |k: &str| v.get(k).and_then(serde_json::Value::as_str);
    CallEvent::parse(
        field("event").unwrap_or_default(),
        field("number").unwrap_or_default(),
        field("call_id"),
        field("internal"),
        field("line"),
        "command",
    )
    .map_err(|e| e.to_string())
}

/// Runs an instance: the window, or with `--headless` the service alone until stopped.
fn run_instance(
    runtime: &tokio::runtime::Runtime,
    ctx: &Context,
    args: &Cli,
    started: std::time::Instant,
) -> Result<(), String> {
    // One instance per user and home: a second start hands over and stops.
    let _lock = match InstanceLock::acquire(&ctx.paths.data_dir) {
        Ok(Some(lock)) => lock,
        Ok(None) => return already_running(ctx, args),
        Err(e) => {
            return Err(format!(
                "cannot take the instance lock in {} ({e}); check that the folder is yours and writable",
                ctx.paths.data_dir.display()
            ));
        }
    };
    // A broken settings file is reported before any window opens.
    let settings = load_settings(ctx)?;
    let result = if args.headless {
        prepare(runtime, ctx, args, settings).and_then(|instance| run_headless(runtime, instance))
    } else {
        run_window(runtime, ctx, args, settings, started)
    };
    runtime_file::withdraw(&ctx.paths.runtime_dir);
    result
}

/// Another instance runs for this home: hand it the initial event, if any, and say which
/// process it is.
fn already_running(ctx: &Context, args: &Cli) -> Result<(), String> {
    let mut running = runtime_file::read(&ctx.paths.runtime_dir);
    if let Some(json) = &args.initial_event {
        // The other instance may be starting: give it a moment to publish its hook.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while running.is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(100));
            running = runtime_file::read(&ctx.paths.runtime_dir);
        }
        let instance = running.as_ref().ok_or_else(|| {
            "another pyrus-phone holds this home but never published its hook; the event was not handed over".to_owned()
        })?;
        let event = initial_event(json)?;
        pyrus_phone::sources::forward::send(instance, &event).map_err(|e| e.to_string())?;
    }
    let who = running.map_or_else(
        || "it is still starting".to_owned(),
        |i| format!("process {}", i.pid),
    );
    eprintln!("pyrus-phone already runs for this user and home ({who}); this start stops here");
    tracing::info!("already running ({who}); stopping");
    Ok(())
}

/// The service and the sources with no window, until Ctrl-C or SIGTERM.
fn run_headless(runtime: &tokio::runtime::Runtime, instance: Instance) -> Result<(), String> {
    let Instance {
        engine,
        setup,
        demo,
        _sandbox,
        _hook,
        ..
    } = instance;
    tracing::info!(demo, "running headless");
    let (ui_tx, mut ui_rx) = bus::event_channel(256, Arc::new(|| {}));
    let handle = Service::spawn(runtime.handle(), engine, ui_tx, setup);
    let stopped = runtime.block_on(async move {
        let stop = async {
            #[cfg(unix)]
            {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .map_err(|e| e.to_string())?;
                tokio::select! {
                    r = tokio::signal::ctrl_c() => r.map_err(|e| e.to_string()),
                    _ = term.recv() => Ok(()),
                }
            }
            #[cfg(not(unix))]
            {
                tokio::signal::ctrl_c().await.map_err(|e| e.to_string())
            }
        };
        let log = async {
            while let Some(event) = ui_rx.recv().await {
                if let bus::Event::Notice(text) = event {
                    tracing::warn!("{text}");
                }
            }
        };
        tokio::select! {
            r = stop => r,
            () = log => Ok(()),
        }
    });
    tracing::info!("stopping");
    runtime.block_on(handle.shutdown());
    stopped
}

/// Opens the window; saving an account in the settings view switches to it.
///
/// The window system and GL start on this thread while the engine, the outbox, the demo
/// sandbox and the hook are prepared on another; the window's first pass waits for both.
fn run_window(
    runtime: &tokio::runtime::Runtime,
    ctx: &Context,
    args: &Cli,
    settings: Settings,
    started: std::time::Instant,
) -> Result<(), String> {
    let locales: Vec<String> = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .collect();
    let system_lang = Language::from_locales(locales.iter().map(String::as_str));
    let window_state = ctx
        .paths
        .settings_file()
        .parent()
        .map_or_else(|| PathBuf::from("window.ron"), |dir| dir.join("window.ron"));
    let failed: std::cell::RefCell<Option<String>> = std::cell::RefCell::new(None);
    // The demo sandbox and the hook serve until the window closes; the service is then
    // stopped and its claimed work released.
    let kept = std::cell::RefCell::new(None);
    let service = std::cell::RefCell::new(None);
    let opened = std::thread::scope(|scope| {
        let preparing = std::thread::Builder::new()
            .name("prepare".into())
            .spawn_scoped(scope, || prepare(runtime, ctx, args, settings))
            .map_err(|e| format!("cannot start: {e}"))?;
        tracing::info!(ms = started.elapsed().as_millis(), "opening the window");
        eframe::run_native(
            "pyrus-phone",
            native_options(window_state),
            Box::new(|cc| {
                tracing::debug!(ms = started.elapsed().as_millis(), "window system ready");
                let instance = match preparing.join() {
                    Ok(Ok(instance)) => instance,
                    Ok(Err(message)) => {
                        *failed.borrow_mut() = Some(message.clone());
                        return Err(message.into());
                    }
                    Err(_) => {
                        let message = format!(
                            "pyrus-phone stopped while starting (an internal error, printed above); start it again, and if it repeats, report it with the log in {}",
                            ctx.paths.log_dir.display()
                        );
                        *failed.borrow_mut() = Some(message.clone());
                        return Err(message.into());
                    }
                };
                let Instance {
                    engine,
                    setup,
                    demo,
                    first_run,
                    _sandbox,
                    _hook,
                } = instance;
                *kept.borrow_mut() = Some((_sandbox, _hook));
                let ui_lang = setup
                    .editable
                    .window
                    .language
                    .as_deref()
                    .and_then(Language::from_code)
                    .unwrap_or(system_lang);
                let egui_ctx = cc.egui_ctx.clone();
                let (ui_tx, ui_rx) =
                    bus::event_channel(256, Arc::new(move || egui_ctx.request_repaint()));
                let handle = Service::spawn(runtime.handle(), engine, ui_tx, setup);
                *service.borrow_mut() = Some(handle.clone());
                let state = UiState {
                    demo,
                    first_run,
                    view: if first_run {
                        View::Settings
                    } else {
                        View::Calls
                    },
                    lang: ui_lang,
                    system_lang,
                    ..UiState::default()
                };
                Ok(Box::new(
                    PhoneApp::new(state, ui_rx, handle).with_start_time(started),
                ))
            }),
        )
        .map_err(|e| format!("cannot open the window: {e}"))
    });
    if let Some(handle) = service.into_inner() {
        runtime.block_on(handle.shutdown());
    }
    match failed.into_inner() {
        Some(message) => Err(message),
        None => opened,
    }
}
