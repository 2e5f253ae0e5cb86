//! Which processes working on an outbox are still alive, the same way on Linux, macOS and
//! Windows: each process that opens the outbox holds an exclusive lock on
//! `<outbox>.owners/<pid>.lock` for as long as it lives, and the OS drops that lock when the
//! process ends, however it ends (crash, kill, power cut). A claim whose owner's lock can be
//! taken was left by a dead process. Unlike a process table, this cannot mistake a new
//! process that got a dead owner's pid for the owner.

use std::collections::HashMap;
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

/// The lock files of processes working on one outbox.
#[derive(Debug, Clone)]
pub struct Owners {
    dir: PathBuf,
}

/// This process's own locks, one per outbox folder, held until the process ends.
fn held() -> &'static Mutex<HashMap<PathBuf, File>> {
    static HELD: OnceLock<Mutex<HashMap<PathBuf, File>>> = OnceLock::new();
    HELD.get_or_init(|| Mutex::new(HashMap::new()))
}

impl Owners {
    /// The owners of the outbox database at `database`.
    pub fn of(database: &Path) -> Self {
        let mut name = database.file_name().unwrap_or_default().to_os_string();
        name.push(".owners");
        Self {
            dir: database.with_file_name(name),
        }
    }

    fn file(&self, pid: u32) -> PathBuf {
        self.dir.join(format!("{pid}.lock"))
    }

    /// Marks this process alive for the rest of its life (once per outbox; again is a no-op).
    /// Where this fails, other processes cannot tell this one's claims from a dead one's and
    /// leave them to their lease.
    pub fn register(&self) -> std::io::Result<()> {
        let mut held = held().lock().unwrap_or_else(PoisonError::into_inner);
        if held.contains_key(&self.dir) {
            return Ok(());
        }
        std::fs::create_dir_all(&self.dir)?;
        let path = self.file(std::process::id());
        // A check by another process may hold a dead namesake's file for a moment.
        let mut tries = 0;
        let file = loop {
            let file = crate::platform::files::open_lock_file(&path, true)?;
            match file.try_lock() {
                Ok(()) => break file,
                Err(TryLockError::WouldBlock) if tries < 50 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::WouldBlock,
                        format!("{} stays locked by another process", path.display()),
                    ));
                }
                Err(TryLockError::Error(e)) => return Err(e),
            }
        };
        held.insert(self.dir.clone(), file);
        Ok(())
    }

    /// Whether the process `pid` still works on this outbox. A process that never marked
    /// itself (an older version, or one whose mark failed) counts as alive: its claims end
    /// with their lease.
    pub fn alive(&self, pid: u32) -> bool {
        if pid == std::process::id() {
            return true;
        }
        let path = self.file(pid);
        // A pipe or link in its place is refused at once (never waited on) and tells
        // nothing: the claims are left to their lease.
        let Ok(file) = crate::platform::files::open_lock_file(&path, false) else {
            return true;
        };
        match file.try_lock() {
            // Nobody holds it: its process is gone. The file stays until no claim names
            // that process ([`Owners::dead`], [`Owners::forget`]).
            Ok(()) => false,
            Err(TryLockError::WouldBlock) => true,
            Err(TryLockError::Error(e)) => {
                tracing::debug!(error = %e, pid, "cannot tell whether a process is alive");
                true
            }
        }
    }

    /// The processes whose lock files nobody holds: they have ended.
    pub fn dead(&self) -> Vec<u32> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".lock")?
                    .parse::<u32>()
                    .ok()
            })
            .filter(|pid| !self.alive(*pid))
            .collect()
    }

    /// Removes an ended process's lock file (once none of its claims is left).
    pub fn forget(&self, pid: u32) {
        if pid == std::process::id() {
            return;
        }
        if let Err(e) = std::fs::remove_file(self.file(pid)) {
            tracing::debug!(error = %e, pid, "an ended process's lock file stays");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_file_nobody_holds_means_its_process_is_gone_and_a_held_one_means_alive() {
        let dir = tempfile::tempdir().unwrap();
        let owners = Owners::of(&dir.path().join("outbox.sqlite3"));
        owners.register().unwrap();
        assert!(owners.alive(std::process::id()));
        assert!(
            dir.path()
                .join("outbox.sqlite3.owners")
                .join(format!("{}.lock", std::process::id()))
                .exists()
        );
        // A pid that never marked itself: left to its lease.
        assert!(owners.alive(u32::MAX - 1));
        // A dead process's file: unlocked.
        let dead = owners.file(u32::MAX - 2);
        File::create(&dead).unwrap();
        assert!(!owners.alive(u32::MAX - 2));
        assert!(!owners.alive(u32::MAX - 2), "still dead when asked again");
        assert_eq!(owners.dead(), vec![u32::MAX - 2]);
        owners.forget(u32::MAX - 2);
        assert!(!dead.exists(), "the dead process's file is removed");
        assert!(owners.dead().is_empty());
        // A live one: its lock is held (here by another open file description).
        let live = owners.file(u32::MAX - 3);
        let holder = File::create(&live).unwrap();
        holder.lock().unwrap();
        assert!(owners.alive(u32::MAX - 3));
        drop(holder);
        assert!(!owners.alive(u32::MAX - 3), "the lock went with its holder");
    }

    #[cfg(unix)]
    #[test]
    fn a_pipe_in_a_lock_file_s_place_is_not_waited_on() {
        let dir = tempfile::tempdir().unwrap();
        let owners = Owners::of(&dir.path().join("outbox.sqlite3"));
        owners.register().unwrap();
        let fifo = owners.file(99_999);
        rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, rustix::fs::Mode::RWXU).unwrap();
        // Opening it to write would wait for a reader for ever; it is refused and tells
        // nothing, so its claims are left to their lease.
        assert!(owners.alive(99_999));
        assert!(owners.dead().is_empty());
    }
}
