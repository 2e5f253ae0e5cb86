//! Opening a task link: the system handler (honouring `$BROWSER`), or a recorder in tests.
//! On Linux and the BSDs the handler is a process of ours (`$BROWSER`, else `xdg-open`),
//! reaped by a small thread so opened links leave no zombies behind.

use std::sync::{Mutex, PoisonError};

/// A link could not be handed on.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// No browser could be started (what was tried, and why).
    #[error("cannot open a browser ({0}); open the link by hand")]
    NoBrowser(String),
    /// No handler for `tel:` links could be started.
    #[error("cannot hand the number to the softphone ({0}); dial it by hand")]
    NoDialler(String),
}

/// Something that opens URLs.
pub trait Browser: Send + Sync {
    /// Opens `url`; the error says why it could not.
    fn open(&self, url: &str) -> Result<(), LinkError>;

    /// Hands a `tel:` link to the system's handler for it (the softphone).
    fn dial(&self, uri: &str) -> Result<(), LinkError> {
        self.open(uri)
    }
}

/// The system's handler: `$BROWSER` when set, else the desktop default.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemBrowser;

#[cfg(all(unix, not(target_os = "macos")))]
impl Browser for SystemBrowser {
    fn open(&self, url: &str) -> Result<(), LinkError> {
        let commands = browser_commands(std::env::var("BROWSER").ok().as_deref(), url);
        let mut last = String::from("no browser command");
        for argv in commands {
            let Some((program, args)) = argv.split_first() else {
                continue;
            };
            match std::process::Command::new(program)
                .args(args)
                .stdin(std::process::Stdio::null())
                .spawn()
            {
                Ok(child) => {
                    reaper::adopt(child);
                    return Ok(());
                }
                Err(e) => last = format!("{program}: {e}"),
            }
        }
        Err(LinkError::NoBrowser(last))
    }

    fn dial(&self, uri: &str) -> Result<(), LinkError> {
        // Not `$BROWSER`: a web browser is no phone. The desktop's `tel:` handler is.
        match std::process::Command::new("xdg-open")
            .arg(uri)
            .stdin(std::process::Stdio::null())
            .spawn()
        {
            Ok(child) => {
                reaper::adopt(child);
                Ok(())
            }
            Err(e) => Err(LinkError::NoDialler(format!("xdg-open: {e}"))),
        }
    }
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
impl Browser for SystemBrowser {
    fn open(&self, url: &str) -> Result<(), LinkError> {
        webbrowser::open(url).map_err(|e| LinkError::NoBrowser(e.to_string()))
    }

    fn dial(&self, uri: &str) -> Result<(), LinkError> {
        // The system's handler for tel: (the softphone), not the web browser.
        #[cfg(target_os = "macos")]
        let mut command = std::process::Command::new("/usr/bin/open");
        #[cfg(windows)]
        let mut command = std::process::Command::new("explorer.exe");
        #[cfg(not(any(target_os = "macos", windows)))]
        let mut command = std::process::Command::new("xdg-open");
        match command.arg(uri).stdin(std::process::Stdio::null()).spawn() {
            Ok(mut child) => {
                // Waited for on a thread of its own, so it leaves no zombie.
                let waiter = std::thread::Builder::new()
                    .name("dial".into())
                    .spawn(move || child.wait());
                if let Err(e) = waiter {
                    tracing::warn!(error = %e, "cannot wait for the tel: handler");
                }
                Ok(())
            }
            Err(e) => Err(LinkError::NoDialler(e.to_string())),
        }
    }
}

/// The commands to try for `url`, in order: each `$BROWSER` entry (`:`-separated; `%s`
/// stands for the link, else it is added at the end), then `xdg-open`.
#[cfg_attr(
    not(all(unix, not(target_os = "macos"))),
    expect(dead_code, reason = "used where the handler is a process of ours")
)]
fn browser_commands(browser: Option<&str>, url: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = browser
        .unwrap_or_default()
        .split(':')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let mut argv: Vec<String> = entry
                .split_whitespace()
                .map(|word| word.replace("%s", url))
                .collect();
            if !entry.contains("%s") {
                argv.push(url.to_owned());
            }
            argv
        })
        .collect();
    out.push(vec!["xdg-open".to_owned(), url.to_owned()]);
    out
}

/// Waits for the link handlers we started, so none is left a zombie.
#[cfg(all(unix, not(target_os = "macos")))]
mod reaper {
    use std::process::Child;
    use std::sync::OnceLock;
    use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
    use std::time::Duration;

    static REAPER: OnceLock<Option<SyncSender<Child>>> = OnceLock::new();

    /// Hands `child` to the reaper thread (started on first use).
    pub(super) fn adopt(child: Child) {
        let sender = REAPER.get_or_init(|| {
            let (tx, rx) = sync_channel(64);
            std::thread::Builder::new()
                .name("reaper".into())
                .spawn(move || run(&rx))
                .map_err(|e| tracing::warn!(error = %e, "no reaper thread; link handlers are reaped at exit"))
                .ok()
                .map(|_| tx)
        });
        if let Some(tx) = sender {
            // A full queue means 64 handlers started within a moment: keep the rest unreaped
            // rather than block the caller; the OS reaps them when we exit.
            tx.try_send(child).ok();
        }
    }

    fn run(rx: &Receiver<Child>) {
        let mut children: Vec<Child> = Vec::new();
        loop {
            let wait = if children.is_empty() {
                Duration::from_secs(3600)
            } else {
                Duration::from_millis(200)
            };
            match rx.recv_timeout(wait) {
                Ok(child) => children.push(child),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            children.retain_mut(|child| matches!(child.try_wait(), Ok(None)));
        }
    }
}

/// Remembers the URLs it was asked to open.
#[derive(Debug, Default)]
pub struct RecordingBrowser {
    opened: Mutex<Vec<String>>,
}

impl RecordingBrowser {
    /// Every URL opened so far.
    pub fn opened(&self) -> Vec<String> {
        self.opened
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Browser for RecordingBrowser {
    fn open(&self, url: &str) -> Result<(), LinkError> {
        self.opened
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(url.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::browser_commands;

    #[test]
    fn browser_entries_take_the_link_where_they_say() {
        let url = "https://pyrus.com/t#id7";
        assert_eq!(
            browser_commands(Some("/x/shim %s:firefox"), url),
            vec![
                vec!["/x/shim".to_owned(), url.to_owned()],
                vec!["firefox".to_owned(), url.to_owned()],
                vec!["xdg-open".to_owned(), url.to_owned()],
            ]
        );
        assert_eq!(
            browser_commands(None, url),
            vec![vec!["xdg-open".to_owned(), url.to_owned()]]
        );
    }
}
