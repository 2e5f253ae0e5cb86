//! Log files: daily rolling files in the log directory. Nothing secret is ever logged
//! (secrets print as placeholders) and phone numbers print masked.

use std::path::Path;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The day's log file in `dir`, as the rolling writer names it (UTC date).
fn todays_file(dir: &Path) -> std::path::PathBuf {
    dir.join(format!(
        "pyrus-phone.log.{}",
        chrono::Utc::now().format("%Y-%m-%d")
    ))
}

/// Writes one line saying what panicked and where straight into the day's log file: the
/// release build aborts on a panic, and the background writer's buffer goes with it.
fn record_panic(dir: &Path, what: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(todays_file(dir))?;
    writeln!(
        file,
        "{} ERROR pyrus-phone stopped on a panic: {what}",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    )?;
    file.sync_all()
}

/// Has a panic recorded in the log file (see [`record_panic`]) before the default hook
/// prints it and the process ends.
pub fn record_panics_in(dir: &Path) {
    let dir = dir.to_path_buf();
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // Best effort: the process is ending, and there is nowhere left to say it failed.
        record_panic(&dir, &info.to_string()).ok();
        default(info);
    }));
}

/// Keeps the background log writer alive; drop it last.
pub type LogGuard = tracing_appender::non_blocking::WorkerGuard;

/// Log lines the background writer holds before new ones are dropped (32 bytes each).
const QUEUED_LINES: usize = 8192;

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
    // The writer's queue is allocated whole at start: its default of 128,000 lines would
    // take 4 MiB of the window's memory to hold what a burst never reaches.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(QUEUED_LINES)
        .finish(appender);
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_is_written_into_the_days_log_file_beside_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let file = super::todays_file(dir.path());
        std::io::Write::write_all(
            &mut std::fs::File::create(&file).unwrap(),
            b"an earlier line\n",
        )
        .unwrap();
        super::record_panic(dir.path(), "panicked at src/x.rs:1:1: boom").unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.starts_with("an earlier line\n"), "{text}");
        assert!(
            text.contains("stopped on a panic: panicked at src/x.rs:1:1: boom"),
            "{text}"
        );
    }
}
