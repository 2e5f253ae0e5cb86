//! How a second process finds the running one: its hook's port and token in a file in the
//! runtime folder, private to the user and removed when the instance stops. That folder is
//! memory-backed on Linux; on Windows and macOS it is local app data (on disk, private to the
//! user: its access list, mode 0600) — a named pipe would keep the token off the disk there,
//! at the price of a second hand-over path to keep working.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::domain::Secret;

/// What the running instance publishes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Instance {
    /// The hook's port on 127.0.0.1.
    pub port: u16,
    /// The hook's token (kept in the keyring; the settings, outbox and logs never hold it).
    pub token: String,
    /// The instance's process id.
    pub pid: u32,
}

impl Instance {
    /// The token as a secret.
    pub fn secret(&self) -> Secret {
        Secret::new(self.token.clone())
    }
}

/// The file's path in `runtime_dir`.
pub fn path(runtime_dir: &Path) -> PathBuf {
    runtime_dir.join("instance.json")
}

/// Publishes this instance: the folder is made private (0700) and the file 0600.
pub fn publish(runtime_dir: &Path, instance: &Instance) -> std::io::Result<()> {
    std::fs::create_dir_all(runtime_dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(runtime_dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let mut tmp = tempfile::NamedTempFile::new_in(runtime_dir)?;
    tmp.write_all(&serde_json::to_vec(instance).map_err(std::io::Error::other)?)?;
    tmp.persist(path(runtime_dir)).map_err(|e| e.error)?;
    Ok(())
}

/// Reads the running instance, if one published itself.
pub fn read(runtime_dir: &Path) -> Option<Instance> {
    let bytes = std::fs::read(path(runtime_dir)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// How long a second process waits for a running instance that is still starting (it holds
/// the instance lock but has not published its hook yet).
pub const HAND_OVER_WAIT: Duration = Duration::from_secs(10);

/// The one hand-over wait: tries `attempt` with what is published in `runtime_dir` (if
/// anything) at once and then every 100 ms, until it gives something or `wait` runs out
/// (`Ok(None)`). An error ends the wait.
pub fn wait_for<T, E>(
    runtime_dir: &Path,
    wait: Duration,
    mut attempt: impl FnMut(Option<Instance>) -> Result<Option<T>, E>,
) -> Result<Option<T>, E> {
    let deadline = Instant::now() + wait;
    loop {
        if let Some(done) = attempt(read(runtime_dir))? {
            return Ok(Some(done));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Removes the file if it is still this instance's.
pub fn withdraw(runtime_dir: &Path) {
    if read(runtime_dir).is_some_and(|i| i.pid == std::process::id()) {
        std::fs::remove_file(path(runtime_dir)).ok();
    }
}
