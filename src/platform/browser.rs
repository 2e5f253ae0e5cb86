//! Opening a task link: the system handler (honouring `$BROWSER`), or a recorder in tests.

use std::sync::{Mutex, PoisonError};

/// Something that opens URLs.
pub trait Browser: Send + Sync {
    /// Opens `url`; the error says why it could not.
    fn open(&self, url: &str) -> Result<(), String>;
}

/// The system's handler: `$BROWSER` when set, else the desktop default.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemBrowser;

impl Browser for SystemBrowser {
    fn open(&self, url: &str) -> Result<(), String> {
        webbrowser::open(url)
            .map_err(|e| format!("cannot open a browser ({e}); open the link by hand"))
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
    fn open(&self, url: &str) -> Result<(), String> {
        self.opened
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(url.to_owned());
        Ok(())
    }
}
