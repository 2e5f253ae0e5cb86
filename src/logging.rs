//! Log files: daily rolling files in the log directory. Nothing secret is ever logged
//! (secrets print as placeholders) and phone numbers print masked.

use std::path::Path;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Keeps the background log writer alive; drop it last.
pub type LogGuard = tracing_appender::non_blocking::WorkerGuard;

/// Starts logging to `dir/pyrus-phone.log.YYYY-MM-DD`. The level comes from
/// `PYRUS_PHONE_LOG` (e.g. `debug`), default info for pyrus-phone and warn for libraries.
pub fn init(dir: &Path) -> Result<LogGuard, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the log folder {}: {e}", dir.display()))?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("pyrus-phone.log")
        .max_log_files(14)
        .build(dir)
        .map_err(|e| format!("cannot open a log file in {}: {e}", dir.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    // `debug`, or per target: `pyrus_phone=debug,reqwest=info,warn`.
    let default = || "pyrus_phone=info,warn".parse::<Targets>();
    let filter = std::env::var("PYRUS_PHONE_LOG")
        .ok()
        .and_then(|spec| spec.parse::<Targets>().ok())
        .map_or_else(default, Ok)
        .map_err(|e| format!("cannot start logging: {e}"))?;
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false),
        )
        .with(filter)
        .try_init()
        .map_err(|e| format!("cannot start logging: {e}"))?;
    Ok(guard)
}
