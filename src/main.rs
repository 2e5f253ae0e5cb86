//! The `pyrus-phone` binary: parses the command line, then runs a CLI command, the sandbox,
//! or the window (against Pyrus, or the built-in demo sandbox when no account is set up).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser as _;
use pyrus_phone::app::{PhoneApp, native_options};
use pyrus_phone::bus;
use pyrus_phone::cli::{self, Cli, Context};
use pyrus_phone::domain::Secret;
use pyrus_phone::outbox::Outbox;
use pyrus_phone::platform::browser::SystemBrowser;
use pyrus_phone::platform::paths::Paths;
use pyrus_phone::sandbox::DEMO_SECURITY_KEY;
use pyrus_phone::service::{Engine, Service};
use pyrus_phone::settings::credentials::{KeyringStore, MemoryStore, SecretStore};
use pyrus_phone::settings::{EnvOverrides, Settings};
use pyrus_phone::ui::UiState;

fn main() -> ExitCode {
    let args = Cli::parse();
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
    let code = match args.command {
        Some(command) => runtime.block_on(cli::run(command, ctx)),
        None => match run_window(&runtime, &ctx, args.demo) {
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

/// Opens the window; in demo mode (asked for, or no account configured) against an
/// in-process sandbox.
fn run_window(
    runtime: &tokio::runtime::Runtime,
    ctx: &Context,
    demo_asked: bool,
) -> Result<(), String> {
    let mut settings = Settings::load(&ctx.paths.settings_file()).map_err(|e| e.to_string())?;
    settings.apply(&ctx.env);
    let demo = demo_asked || (!settings.has_account() && ctx.key_override.is_none());
    let (paths, settings, secrets, key, sandbox): (_, _, Arc<dyn SecretStore>, _, _) = if demo {
        let paths = ctx.paths.demo();
        let sandbox = runtime
            .block_on(cli::sandbox::start_demo(&paths, 0))
            .map_err(|e| format!("cannot start the demo sandbox: {e}"))?;
        let settings = cli::sandbox::demo_settings(&sandbox, &settings);
        (
            paths,
            settings,
            Arc::new(MemoryStore::default()),
            Some(Secret::new(DEMO_SECURITY_KEY)),
            Some(sandbox),
        )
    } else {
        (
            ctx.paths.clone(),
            settings,
            Arc::new(KeyringStore),
            ctx.key_override.clone(),
            None,
        )
    };
    let outbox = Outbox::open(&paths.database_file()).map_err(|e| e.to_string())?;
    let engine = Arc::new(Engine::new(
        settings,
        outbox,
        secrets,
        key,
        Arc::clone(&ctx.browser),
    ));
    tracing::info!(demo, "opening the window");
    eframe::run_native(
        "pyrus-phone",
        native_options(),
        Box::new(move |cc| {
            let egui_ctx = cc.egui_ctx.clone();
            let (ui_tx, ui_rx) =
                bus::event_channel(256, Arc::new(move || egui_ctx.request_repaint()));
            let handle = Service::spawn(runtime.handle(), engine, ui_tx);
            let state = UiState {
                demo,
                ..UiState::default()
            };
            Ok(Box::new(PhoneApp::new(state, ui_rx, handle)))
        }),
    )
    .map_err(|e| format!("cannot open the window: {e}"))?;
    drop(sandbox);
    Ok(())
}
