//! The `pyrus-phone` binary: parses the command line, then runs a CLI command, the sandbox,
//! or the window (against Pyrus, or the built-in demo sandbox when no account is set up).
//! On Windows it is a GUI-subsystem program that attaches to the console it was typed in
//! (`platform::console` says why).
#![cfg_attr(windows, windows_subsystem = "windows")]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser as _;
use pyrus_phone::app::{PhoneApp, native_options};
use pyrus_phone::bus;
use pyrus_phone::cli::{self, Cli, Context};
use pyrus_phone::domain::Secret;
use pyrus_phone::instance::{Instance, Options, initial_event, load_settings};
use pyrus_phone::platform::browser::SystemBrowser;
use pyrus_phone::platform::instance_lock::InstanceLock;
use pyrus_phone::platform::paths::Paths;
use pyrus_phone::settings::EnvOverrides;
use pyrus_phone::settings::Settings;
use pyrus_phone::settings::credentials::KeyringStore;
use pyrus_phone::sources::{forward, runtime_file};
use pyrus_phone::ui::i18n::Language;
use pyrus_phone::ui::{UiState, View};

/// How long the window may wait to draw what the service said: a burst of news (a call's
/// ring, its row, the status) is drawn in one frame, not three.
const UI_COALESCE: std::time::Duration = std::time::Duration::from_millis(40);

fn main() -> ExitCode {
    // Before any thread starts: every thread after this shares two allocator arenas.
    pyrus_phone::platform::memory::limit_arenas();
    pyrus_phone::platform::files::allow_more_open_files();
    // Before any thread starts too: threads take the signal mask of the one starting them.
    pyrus_phone::platform::console::hear_stop_signals();
    let started = std::time::Instant::now();
    let errors_seen = pyrus_phone::platform::console::attach_to_parent();
    // Customers' numbers, logs and settings are this user's alone.
    pyrus_phone::platform::privacy::private_from_now_on();
    let mut args = Cli::parse();
    // `--initial-event -`: the event comes through a pipe (never on a command line).
    if args.initial_event.as_deref() == Some("-") {
        let mut json = String::new();
        let read = std::io::Read::read_to_string(
            &mut std::io::Read::take(std::io::stdin(), 64 * 1024),
            &mut json,
        );
        match read {
            Ok(_) => args.initial_event = Some(json),
            Err(e) => {
                eprintln!("error: cannot read the event handed over on standard input: {e}");
                return ExitCode::from(1);
            }
        }
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
        Ok(guard) => {
            pyrus_phone::logging::record_panics_in(&paths.log_dir);
            Some(guard)
        }
        Err(e) => {
            eprintln!("warning: {e}; running without a log file");
            None
        }
    };
    if args.command.is_none() && args.uri.is_none() && !args.headless {
        // The window's GL driver loads while everything else starts (once the log is
        // there to say how long it took).
        pyrus_phone::platform::gl_warmup::start(started);
    }
    for dir in [
        &paths.config_dir,
        &paths.data_dir,
        &paths.log_dir,
        &paths.runtime_dir,
    ] {
        pyrus_phone::platform::privacy::tighten(dir);
    }
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
                // Started from a menu, a link or at login on Windows and macOS, nobody
                // reads standard error: say it in a dialog (Linux desktops keep it in the
                // session's journal, beside the log file).
                if !errors_seen && cfg!(any(windows, target_os = "macos")) {
                    pyrus_phone::app::tell_fatal(&message);
                }
                ExitCode::from(1)
            }
        },
    };
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    code
}

/// Builds the instance this start asks for, with the OS keyring.
fn build(
    runtime: &tokio::runtime::Runtime,
    ctx: &Context,
    args: &Cli,
    settings: Settings,
) -> Result<Instance, String> {
    Instance::build(
        runtime,
        ctx,
        Arc::new(KeyringStore::new(ctx.paths.keyring_service.clone())),
        &options(args),
        settings,
    )
}

/// What this start asks of the instance.
fn options(args: &Cli) -> Options {
    Options {
        demo: args.demo,
        baresip: args.baresip.clone(),
        recordings: args.recordings.clone(),
        hook_port: args.hook_port,
        initial_event: args.initial_event.clone(),
        window: !args.headless,
        sandbox: None,
    }
}

/// Runs an instance: the window, or with `--headless` the service alone until stopped.
fn run_instance(
    runtime: &tokio::runtime::Runtime,
    ctx: &Context,
    args: &Cli,
    started: std::time::Instant,
) -> Result<(), String> {
    // One instance per user and home: a second start hands over and stops.
    let _lock = match InstanceLock::acquire(&ctx.paths.runtime_dir) {
        Ok(Some(lock)) => lock,
        Ok(None) => return already_running(ctx, args),
        Err(e) => {
            return Err(format!(
                "cannot take the instance lock in {} ({e}); check that the folder is yours and writable",
                ctx.paths.runtime_dir.display()
            ));
        }
    };
    // A broken settings file is reported before any window opens.
    let settings = load_settings(ctx)?;
    let result = if args.headless {
        build(runtime, ctx, args, settings).and_then(|instance| run_headless(runtime, instance))
    } else {
        run_window(runtime, ctx, args, settings, started)
    };
    runtime_file::withdraw(&ctx.paths.runtime_dir);
    result
}

/// Another instance runs for this home: hand it the initial event, or ask its window to
/// come to the front, and say which process it is.
fn already_running(ctx: &Context, args: &Cli) -> Result<(), String> {
    // The other instance may be starting: give it a moment to publish its hook.
    let published = runtime_file::wait_for(
        &ctx.paths.runtime_dir,
        runtime_file::HAND_OVER_WAIT,
        Ok::<_, String>,
    )?;
    let Some(instance) = published else {
        let what = if args.initial_event.is_some() {
            "the event was not handed over"
        } else {
            "this start stops here"
        };
        return Err(format!(
            "another pyrus-phone holds this home but never published its event hook (is the hook off in its settings?); {what}"
        ));
    };
    let who = format!("process {}", instance.pid);
    if let Some(json) = &args.initial_event {
        let event = initial_event(json)?;
        forward::send(&instance, &event, &forward::new_delivery_id()).map_err(|e| e.to_string())?;
    } else if !args.headless && !args.minimized {
        match forward::show(&instance) {
            Ok(true) => {
                eprintln!(
                    "pyrus-phone already runs for this user and home ({who}); its window was brought to the front"
                );
                tracing::info!(
                    "already running ({who}); its window was asked to come to the front"
                );
                return Ok(());
            }
            Ok(false) => {
                eprintln!(
                    "pyrus-phone already runs for this user and home without a window ({who}); stop it to open the window"
                );
                return Ok(());
            }
            Err(e) => {
                tracing::warn!(error = %e, "the running instance was not asked to show its window")
            }
        }
    }
    eprintln!("pyrus-phone already runs for this user and home ({who}); this start stops here");
    tracing::info!("already running ({who}); stopping");
    Ok(())
}

/// The service and the sources with no window, until Ctrl-C or SIGTERM.
fn run_headless(runtime: &tokio::runtime::Runtime, instance: Instance) -> Result<(), String> {
    tracing::info!(demo = instance.demo, "running headless");
    let (ui_tx, mut ui_rx) = bus::event_channel(256, Arc::new(|| {}));
    let running = instance.serve(runtime.handle(), ui_tx);
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
                if let bus::Event::Notice(notice) = event {
                    let what = pyrus_phone::ui::i18n::EN.notice(&notice);
                    tracing::warn!(detail = %notice.detail, "{what}");
                }
            }
        };
        tokio::select! {
            r = stop => r,
            () = log => Ok(()),
        }
    });
    tracing::info!("stopping");
    runtime.block_on(running.shutdown());
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
    let locales = pyrus_phone::platform::desktop::system_locales();
    let system_lang = Language::from_locales(locales.iter().map(String::as_str));
    let place_file = ctx.paths.window_place_file();
    let restored = pyrus_phone::platform::window_place::load(&place_file);
    let failed: std::cell::RefCell<Option<String>> = std::cell::RefCell::new(None);
    // The instance serves until the window closes; it is then stopped and its claimed
    // work released.
    let serving = std::cell::RefCell::new(None);
    let opened = std::thread::scope(|scope| {
        let preparing = std::thread::Builder::new()
            .name("prepare".into())
            .spawn_scoped(scope, || build(runtime, ctx, args, settings))
            .map_err(|e| format!("cannot start: {e}"))?;
        // The fonts are unpacked beside the window system's start, off the UI thread.
        let unpacking = std::thread::Builder::new()
            .name("fonts".into())
            .spawn_scoped(scope, pyrus_phone::app::fonts::definitions)
            .map_err(|e| format!("cannot start: {e}"))?;
        tracing::info!(ms = started.elapsed().as_millis(), "opening the window");
        eframe::run_native(
            "pyrus-phone",
            native_options(restored.as_ref()),
            Box::new(|cc| {
                tracing::info!(ms = started.elapsed().as_millis(), "window system ready");
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
                let (demo, first_run) = (instance.demo, instance.first_run);
                let ui_lang = instance
                    .editable()
                    .window
                    .language
                    .as_deref()
                    .and_then(Language::from_code)
                    .unwrap_or(system_lang);
                let egui_ctx = cc.egui_ctx.clone();
                let (ui_tx, ui_rx) = bus::event_channel(
                    256,
                    Arc::new(move || egui_ctx.request_repaint_after(UI_COALESCE)),
                );
                let running = instance.serve(runtime.handle(), ui_tx);
                pyrus_phone::platform::desktop::probe_in_background();
                let handle = running.service.clone();
                *serving.borrow_mut() = Some(running);
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
                    PhoneApp::new(state, ui_rx, handle)
                        .with_fonts(
                            &cc.egui_ctx,
                            unpacking
                                .join()
                                .unwrap_or_else(|_| pyrus_phone::app::fonts::definitions()),
                        )
                        .with_window_place(place_file.clone(), restored)
                        .with_start_time(started)
                        .minimized(args.minimized),
                ))
            }),
        )
        .map_err(|e| format!("cannot open the window: {e}"))
    });
    if let Some(running) = serving.into_inner() {
        runtime.block_on(running.shutdown());
    }
    match failed.into_inner() {
        Some(message) => Err(message),
        None => opened,
    }
}
