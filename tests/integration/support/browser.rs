//! The browser stand-in. Where the binary honours `$BROWSER` (Linux and the BSDs; elsewhere
//! it hands links to the system's own handler), each run of it gets a `$BROWSER` naming this
//! very test binary, told to run only [`record_an_opened_link`]: run so, it appends the link
//! it was handed, and when it was asked (Unix seconds), to a log, and does nothing else. No
//! shell script, no `date`.
//!
//! The tests that read the log, and those whose instances open tasks, run where `$BROWSER`
//! is honoured only: `#[cfg(all(unix, not(target_os = "macos")))]`.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// The variable naming the log the stand-in appends to.
const LOG: &str = "PYRUS_PHONE_TEST_OPENED";

/// The stand-in's entry point, by the end of its test name (`$BROWSER` cannot hold the
/// colons of the whole name; no other test's name contains this).
const ENTRY: &str = "record_an_opened_link";

/// Points `command`'s `$BROWSER` at the stand-in, logging into `log`, where the binary
/// honours `$BROWSER`; elsewhere clears it (the binary opens links itself there).
pub fn point_at(command: &mut Command, log: &Path) {
    if !cfg!(all(unix, not(target_os = "macos"))) {
        command.env_remove("BROWSER");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    // `$BROWSER` is split at colons, then at white space.
    let exe = exe.display().to_string();
    assert!(
        !exe.contains(|c: char| c == ':' || c.is_whitespace()),
        "the test binary's path cannot stand in $BROWSER: {exe}"
    );
    command
        .env(
            "BROWSER",
            format!("{exe} {ENTRY} --ignored --quiet --test-threads=1 %s"),
        )
        .env(LOG, log);
}

/// One link the binary opened.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    /// When the stand-in was asked, in Unix seconds.
    pub at: f64,
    pub url: String,
}

/// The links logged in `log` so far, in the order they were asked for.
pub fn opened(log: &Path) -> Vec<Opened> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (at, url) = l.split_once(' ')?;
            Some(Opened {
                at: at.parse().ok()?,
                url: url.to_owned(),
            })
        })
        .collect()
}

/// Now, in Unix seconds.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
#[ignore = "not a test: the browser stand-in's entry point, run by the binary under test"]
fn record_an_opened_link() {
    let Some(log) = std::env::var_os(LOG) else {
        return;
    };
    // The link comes last, after the test harness's own arguments.
    let url = std::env::args().next_back().unwrap();
    let line = format!("{:.6} {url}\n", unix_now());
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap()
        .write_all(line.as_bytes())
        .unwrap();
}
