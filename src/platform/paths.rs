//! Where pyrus-phone keeps its settings, its database and its logs.

use std::path::{Path, PathBuf};

use crate::domain::KEYRING_SERVICE;

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
    /// The administrator's defaults for every user of this machine, when the platform has
    /// a place for them (they apply under each user's own settings).
    pub admin_settings_file: Option<PathBuf>,
    /// The keyring service the security keys are stored under: `pyrus-phone` for the
    /// user's own profile, `pyrus-phone (FOLDER)` for one under `PYRUS_PHONE_HOME`, so
    /// such a profile (a test's, a second account's) never touches the user's own keys.
    pub keyring_service: String,
}

/// Where the runtime file (the running instance's hook port and token) and the instance
/// lock live: the session's memory-backed runtime folder on Linux; elsewhere local app data,
/// private to the user (mode 0600 on macOS, the profile's access list on Windows), the file
/// removed when the instance stops. Not macOS's `$TMPDIR`: it is purged of files not used
/// for days, and a purged lock would let a second instance start beside a long-running one.
fn runtime_dir(dirs: &directories::ProjectDirs) -> PathBuf {
    dirs.runtime_dir()
        .map_or_else(|| dirs.data_local_dir().join("run"), Path::to_path_buf)
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
            admin_settings_file: admin_settings_file(),
            keyring_service: format!("{KEYRING_SERVICE} ({})", dir.display()),
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
            // Local, not roaming: on Windows the roaming profile is copied at log-off, and
            // the outbox and recordings must stay on this machine (same folder elsewhere).
            data_dir: dirs.data_local_dir().to_path_buf(),
            log_dir: dirs.data_local_dir().join("logs"),
            runtime_dir: runtime_dir(&dirs),
            autostart_dir: crate::platform::autostart::Autostart::for_user(PathBuf::new())
                .map(|a| a.dir),
            admin_settings_file: admin_settings_file(),
            keyring_service: KEYRING_SERVICE.to_owned(),
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
            admin_settings_file: self.admin_settings_file.clone(),
            keyring_service: self.keyring_service.clone(),
        }
    }

    /// Where the window was left (its position and size).
    pub fn window_place_file(&self) -> PathBuf {
        self.config_dir.join("window.json")
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

/// Where an administrator puts defaults for every user: the first folder of
/// `$XDG_CONFIG_DIRS` (else `/etc/xdg`) on Linux, `%ProgramData%` on Windows,
/// `/Library/Application Support` on macOS — each with `pyrus-phone/settings.toml`.
pub fn admin_settings_file() -> Option<PathBuf> {
    #[cfg(all(unix, not(target_os = "macos")))]
    let base = {
        // The first folder of the search path that has the file, else the first folder.
        let dirs: Vec<PathBuf> = std::env::var_os("XDG_CONFIG_DIRS")
            .map(|dirs| {
                std::env::split_paths(&dirs)
                    .filter(|d| d.is_absolute())
                    .collect()
            })
            .filter(|dirs: &Vec<PathBuf>| !dirs.is_empty())
            .unwrap_or_else(|| vec![PathBuf::from("/etc/xdg")]);
        dirs.iter()
            .find(|d| d.join("pyrus-phone").join("settings.toml").is_file())
            .or_else(|| dirs.first())
            .cloned()
    };
    #[cfg(windows)]
    let base = std::env::var_os("ProgramData").map(PathBuf::from);
    #[cfg(target_os = "macos")]
    let base = Some(PathBuf::from("/Library/Application Support"));
    #[cfg(not(any(unix, windows)))]
    let base: Option<PathBuf> = None;
    base.map(|b| b.join("pyrus-phone").join("settings.toml"))
}
