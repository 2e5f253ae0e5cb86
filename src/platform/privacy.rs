//! Private by default: everything pyrus-phone writes (the outbox with customers' numbers,
//! logs, settings, merged recordings, the runtime file) is readable by its user only. On Unix
//! the process's file-creation mask is set to 077 before anything is written, and folders
//! and files left by older versions are tightened at start. Elsewhere the per-user profile
//! folders are already private to the user.

use std::path::Path;

/// Makes files and folders created from now on private to this user.
pub fn private_from_now_on() {
    #[cfg(unix)]
    {
        rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    }
}

/// Tightens `dir` (0700) and the files directly in it (0600), where they exist.
#[cfg(unix)]
pub fn tighten(dir: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let set = |path: &Path, mode: u32| {
        if let Ok(meta) = std::fs::symlink_metadata(path)
            && !meta.file_type().is_symlink()
            && meta.permissions().mode() & 0o077 != 0
            && let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        {
            tracing::warn!(path = %path.display(), error = %e, "cannot make it private");
        }
    };
    set(dir, 0o700);
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            set(&path, if is_dir { 0o700 } else { 0o600 });
        }
    }
}

/// Tightens `dir`: the per-user profile folders are private already here.
#[cfg(not(unix))]
pub fn tighten(_dir: &Path) {}
