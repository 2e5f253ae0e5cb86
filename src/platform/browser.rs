//! Opening a task link: the system handler (honouring `$BROWSER`), or a recorder in tests.
//! On Linux and the BSDs the handler is a process of ours (`$BROWSER`, else `xdg-open`):
//! what it answers can be watched for a while (`Opened::failure` — xdg-open exits 3 when no
//! program takes the link), then it is reaped by a small thread so opened links leave no
//! zombies behind.

use std::process::Child;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A link could not be handed on.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// No browser could be started (what was tried, and why).
    #[error("cannot open a browser ({0}); open the link by hand")]
    NoBrowser(String),
    /// No handler for `tel:` links could be started.
    #[error("cannot hand the number to the softphone ({0}); dial it by hand")]
    NoDialler(String),
    /// pyrus-phone itself handles `tel:` links here: handing one over dials nothing.
    #[error(
        "pyrus-phone is this computer's program for tel: links, so no softphone would get the number; dial it by hand"
    )]
    TelIsUs,
    /// No program handles `tel:` links here.
    #[error("no program dials tel: links here; dial it by hand")]
    NoTelHandler,
    /// The handler started, then said it could not (its program and exit status).
    #[error("{program} could not open the link ({status}); open it by hand")]
    HandlerFailed {
        /// The handler.
        program: String,
        /// How it ended.
        status: String,
    },
}

/// What to do when a watched handler fails: told its failure, once.
pub type OnFailure = Box<dyn FnOnce(LinkError) + Send>;

/// A link handed to a program that may still fail; dropping it lets the program run on.
#[derive(Debug, Default)]
pub struct Opened {
    child: Option<(String, Child)>,
}

impl Opened {
    /// Nothing to watch: the link went where it goes.
    pub fn done() -> Self {
        Self::default()
    }

    fn watch_child(program: &str, child: Child) -> Self {
        Self {
            child: Some((program.to_owned(), child)),
        }
    }

    /// Lets the handler run on, and calls `on_failure` if it ends in failure within
    /// `within` (xdg-open exits 3 when no program takes the link). Never blocks: one
    /// thread watches every handler started.
    pub fn watch(mut self, within: Duration, on_failure: OnFailure) {
        if let Some((program, child)) = self.child.take() {
            let_run(child, Some((program, Instant::now() + within, on_failure)));
        }
    }
}

impl Drop for Opened {
    fn drop(&mut self) {
        if let Some((_, child)) = self.child.take() {
            let_run(child, None);
        }
    }
}

/// A handler's failure, told to whoever watches it until its deadline.
type Watch = (String, Instant, OnFailure);

/// Lets a handler run on; it is waited for, so it leaves no zombie, and a failure before
/// the watch's deadline is told.
fn let_run(child: Child, watch: Option<Watch>) {
    #[cfg(all(unix, not(target_os = "macos")))]
    reaper::adopt(child, watch);
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    {
        let mut child = child;
        let waiter = std::thread::Builder::new()
            .name("link".into())
            .spawn(move || {
                let status = child.wait();
                if let (Ok(status), Some((program, deadline, on_failure))) = (status, watch)
                    && !status.success()
                    && Instant::now() < deadline
                {
                    on_failure(LinkError::HandlerFailed {
                        program,
                        status: status.to_string(),
                    });
                }
            });
        if let Err(e) = waiter {
            tracing::warn!(error = %e, "cannot wait for a link handler");
        }
    }
}

/// Something that opens URLs.
pub trait Browser: Send + Sync {
    /// Opens `url`; the error says why it could not.
    fn open(&self, url: &str) -> Result<Opened, LinkError>;

    /// Hands a `tel:` link to the system's handler for it (the softphone).
    fn dial(&self, uri: &str) -> Result<Opened, LinkError> {
        self.open(uri)
    }
}

/// The system's handler: `$BROWSER` when set, else the desktop default.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemBrowser;

#[cfg(all(unix, not(target_os = "macos")))]
impl Browser for SystemBrowser {
    fn open(&self, url: &str) -> Result<Opened, LinkError> {
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
                Ok(child) => return Ok(Opened::watch_child(program, child)),
                Err(e) => last = format!("{program}: {e}"),
            }
        }
        Err(LinkError::NoBrowser(last))
    }

    fn dial(&self, uri: &str) -> Result<Opened, LinkError> {
        // Not `$BROWSER`: a web browser is no phone. The desktop's `tel:` handler is — when
        // there is one, and it is not pyrus-phone.
        match super::dial::tel_handler() {
            super::dial::TelHandler::Ours => return Err(LinkError::TelIsUs),
            super::dial::TelHandler::Nobody => return Err(LinkError::NoTelHandler),
            super::dial::TelHandler::Other(_) | super::dial::TelHandler::Unknown => {}
        }
        match std::process::Command::new("xdg-open")
            .arg(uri)
            .stdin(std::process::Stdio::null())
            .spawn()
        {
            Ok(child) => Ok(Opened::watch_child("xdg-open", child)),
            Err(e) => Err(LinkError::NoDialler(format!("xdg-open: {e}"))),
        }
    }
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
impl Browser for SystemBrowser {
    fn open(&self, url: &str) -> Result<Opened, LinkError> {
        webbrowser::open(url)
            .map(|()| Opened::done())
            .map_err(|e| LinkError::NoBrowser(e.to_string()))
    }

    fn dial(&self, uri: &str) -> Result<Opened, LinkError> {
        // The system's handler for tel: (the softphone), not the web browser.
        #[cfg(target_os = "macos")]
        let mut command = std::process::Command::new("/usr/bin/open");
        #[cfg(windows)]
        let mut command = std::process::Command::new("explorer.exe");
        #[cfg(not(any(target_os = "macos", windows)))]
        let mut command = std::process::Command::new("xdg-open");
        match command.arg(uri).stdin(std::process::Stdio::null()).spawn() {
            // Not watched: explorer.exe's exit status says nothing of the link.
            Ok(child) => {
                let_run(child, None);
                Ok(Opened::done())
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

/// Waits for the link handlers we started, so none is left a zombie, and tells a watched
/// one's failure.
#[cfg(all(unix, not(target_os = "macos")))]
mod reaper {
    use std::process::Child;
    use std::sync::OnceLock;
    use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
    use std::time::{Duration, Instant};

    use super::{LinkError, Watch};

    type Adopted = (Child, Option<Watch>);

    static REAPER: OnceLock<Option<SyncSender<Adopted>>> = OnceLock::new();

    /// Hands `child` to the reaper thread (started on first use).
    pub(super) fn adopt(child: Child, watch: Option<Watch>) {
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
            tx.try_send((child, watch)).ok();
        }
    }

    fn run(rx: &Receiver<Adopted>) {
        let mut children: Vec<Adopted> = Vec::new();
        loop {
            // Quickly while a handler's verdict is awaited; then only to reap (a browser
            // that stays open is not polled 40 times a second).
            let wait = if children.iter().any(|(_, watch)| watch.is_some()) {
                Duration::from_millis(25)
            } else if children.is_empty() {
                Duration::from_secs(3600)
            } else {
                Duration::from_millis(500)
            };
            match rx.recv_timeout(wait) {
                Ok(adopted) => children.push(adopted),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            let now = Instant::now();
            children.retain_mut(|(child, watch)| {
                if watch
                    .as_ref()
                    .is_some_and(|(_, deadline, _)| now >= *deadline)
                {
                    *watch = None;
                }
                match child.try_wait() {
                    Ok(None) => true,
                    Ok(Some(status)) => {
                        if let Some((program, _, on_failure)) = watch.take()
                            && !status.success()
                        {
                            on_failure(LinkError::HandlerFailed {
                                program,
                                status: status.to_string(),
                            });
                        }
                        false
                    }
                    Err(_) => false,
                }
            });
        }
    }
}

/// Remembers the URLs it was asked to open; as a desktop whose `tel:` handler is `tel`.
#[derive(Debug, Default)]
pub struct RecordingBrowser {
    opened: Mutex<Vec<String>>,
    /// What `dial` answers (`None`: another program takes the link).
    tel: Option<TelAnswer>,
}

/// How a recording browser's desktop answers a `tel:` link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TelAnswer {
    /// pyrus-phone is the handler.
    Ours,
    /// Nobody handles them.
    Nobody,
}

impl RecordingBrowser {
    /// A recorder on a desk whose `tel:` handler answers `tel`.
    pub fn answering_tel(tel: Option<TelAnswer>) -> Self {
        Self {
            tel,
            ..Self::default()
        }
    }

    /// Every URL opened so far.
    pub fn opened(&self) -> Vec<String> {
        self.opened
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Browser for RecordingBrowser {
    fn open(&self, url: &str) -> Result<Opened, LinkError> {
        self.opened
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(url.to_owned());
        Ok(Opened::done())
    }

    fn dial(&self, uri: &str) -> Result<Opened, LinkError> {
        match self.tel {
            None => self.open(uri),
            Some(TelAnswer::Ours) => Err(LinkError::TelIsUs),
            Some(TelAnswer::Nobody) => Err(LinkError::NoTelHandler),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::browser_commands;

    /// A handler that starts, then says it could not (as xdg-open with nothing for the
    /// link), is told to whoever watches it; one that succeeds is not.
    #[cfg(all(unix, not(target_os = "macos")))]
    #[test]
    fn a_handler_that_fails_after_it_started_is_told() {
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        for (name, code) in [("fine", 0), ("xdg-open", 3)] {
            let child = std::process::Command::new("sh")
                .args(["-c", &format!("exit {code}")])
                .spawn()
                .unwrap();
            let tx = tx.clone();
            super::Opened::watch_child(name, child).watch(
                std::time::Duration::from_secs(30),
                Box::new(move |e| tx.send(e.to_string()).unwrap()),
            );
        }
        let told = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        assert!(
            told.starts_with("xdg-open could not open the link"),
            "{told}"
        );
        assert!(told.contains('3'), "{told}");
    }

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
