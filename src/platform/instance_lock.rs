//! One instance per user and home: an exclusive advisory lock on `instance.lock` in the data
//! folder, held for the life of the process. The standard library's `File::try_lock` takes it
//! (`flock` on Linux and macOS, `LockFileEx` on Windows); the OS lets go of it when the
//! process ends, a crash included, so there is no stale pid file to clean up.

use std::fs::{File, TryLockError};
use std::path::Path;

/// The held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

impl InstanceLock {
    /// Takes the lock in `dir`; `Ok(None)` when another process holds it.
    pub fn acquire(dir: &Path) -> std::io::Result<Option<Self>> {
        std::fs::create_dir_all(dir)?;
        let file = super::files::open_lock_file(&dir.join("instance.lock"), true)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Self { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    /// True when a running instance holds the lock in `dir` (checked by taking and
    /// releasing it at once).
    pub fn is_held_elsewhere(dir: &Path) -> bool {
        matches!(Self::acquire(dir), Ok(None))
    }
}

#[cfg(test)]
mod tests {
    use super::InstanceLock;

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = InstanceLock::acquire(dir.path()).unwrap();
        assert!(first.is_some());
        assert!(InstanceLock::acquire(dir.path()).unwrap().is_none());
        assert!(InstanceLock::is_held_elsewhere(dir.path()));
        drop(first);
        assert!(!InstanceLock::is_held_elsewhere(dir.path()));
        assert!(InstanceLock::acquire(dir.path()).unwrap().is_some());
    }
}
