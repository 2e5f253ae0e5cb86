//! Where pyrus-phone keeps its settings, its database and its logs.

use std::path::{Path, PathBuf};

/// The three directories of one installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// `settings.toml` lives here.
    pub config_dir: PathBuf,
    /// The outbox database and the sandbox's files live here.
    pub data_dir: PathBuf,
    /// Rolling log files.
    pub log_dir: PathBuf,
    /// Files that live only while an instance runs (the hook's port and token).
    pub runtime_dir: PathBuf,
    /// Where "Start when I log in" puts its entry (Linux and macOS; Windows uses the
    /// registry); under the home folder when one is given, so a test never touches the
    /// user's session.
    pub autostart_dir: Option<PathBuf>,
}

/// No home directory could be found and `PYRUS_PHONE_HOME` is not set.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot find a home directory for settings and data: set PYRUS_PHONE_HOME to a writable folder"
)]
pub struct NoHomeError;

impl Paths {
    /// Everything under one folder (what `PYRUS_PHONE_HOME` selects).
    pub fn under(dir: &Path) -> Self {
        Self {
            config_dir: dir.join("config"),
            data_dir: dir.join("data"),
            log_dir: dir.join("logs"),
            runtime_dir: dir.join("run"),
            autostart_dir: Some(dir.join("autostart")),
        }
    }

    /// `PYRUS_PHONE_HOME` when given, otherwise the platform's usual places.
    pub fn resolve(home_override: Option<&Path>) -> Result<Self, NoHomeError> {
        if let Some(dir) = home_override {
            return Ok(Self::under(dir));
        }
        let dirs =
            directories::ProjectDirs::from("com", "Pyrus", "pyrus-phone").ok_or(NoHomeError)?;
        Ok(Self {
            config_dir: dirs.config_dir().to_path_buf(),
            data_dir: dirs.data_dir().to_path_buf(),
            log_dir: dirs.data_local_dir().join("logs"),
            runtime_dir: dirs
                .runtime_dir()
                .map_or_else(|| dirs.data_local_dir().join("run"), Path::to_path_buf),
            autostart_dir: crate::platform::autostart::Autostart::for_user(PathBuf::new())
                .map(|a| a.dir),
        })
    }

    /// A copy whose data lives in a `demo` subfolder, so demo calls never mix with real ones.
    pub fn demo(&self) -> Self {
        Self {
            config_dir: self.config_dir.clone(),
            data_dir: self.data_dir.join("demo"),
            log_dir: self.log_dir.clone(),
            runtime_dir: self.runtime_dir.join("demo"),
            autostart_dir: self.autostart_dir.clone(),
        }
    }

    /// The settings file.
    pub fn settings_file(&self) -> PathBuf {
        self.config_dir.join("settings.toml")
    }

    /// The outbox database.
    pub fn database_file(&self) -> PathBuf {
        self.data_dir.join("outbox.sqlite3")
    }

    /// Where the built-in sandbox keeps uploaded files.
    pub fn sandbox_files_dir(&self) -> PathBuf {
        self.data_dir.join("sandbox-files")
    }
}
