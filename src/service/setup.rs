//! What the service is started with: where saved settings and keys go, how an engine is
//! made from them, and the call sources it listens to.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::Engine;
use super::doctor::Sources;
use crate::domain::Secret;
use crate::settings::Settings;
use crate::settings::credentials::SecretStore;
use crate::sources::Heard;

/// Builds an engine for saved settings (the real outbox, the keyring, env overrides).
pub type EngineFactory =
    Box<dyn Fn(&Settings) -> Result<Engine, crate::outbox::StoreError> + Send + Sync>;

/// Where saved settings and keys go, and how an engine is made from them.
pub struct Setup {
    /// The settings file.
    pub settings_path: PathBuf,
    /// The administrator's defaults under it, when the platform has a place for them.
    pub admin_settings: Option<PathBuf>,
    /// The OS keyring (or memory in tests).
    pub secrets: Arc<dyn SecretStore>,
    /// The settings the settings view starts from (the file's, even in the demo).
    pub editable: Settings,
    /// Makes the engine that replaces the current one after a save.
    pub open_engine: EngineFactory,
    /// Events heard from softphones and phones.
    pub call_events: Option<mpsc::Receiver<Heard>>,
    /// Where merged recordings are written.
    pub recordings_out: PathBuf,
    /// The running call sources, for the hook doctor.
    pub sources: Option<Sources>,
    /// Requests from another start of the app to show this window.
    pub raise: Option<mpsc::Receiver<()>>,
    /// The key comes from the environment (`PYRUS_SECURITY_KEY`): the keyring is not used.
    pub key_from_env: bool,
    /// Values the environment sets for this run only (never saved as the user's).
    pub env: crate::settings::EnvOverrides,
    /// Where "Start when I log in" writes its entry (none: the setting does nothing here).
    pub autostart: Option<crate::platform::autostart::Autostart>,
    /// A key the keyring could not keep, by login: used until the app quits.
    pub session_key: Mutex<Option<(String, Secret, crate::bus::Refusal)>>,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("settings_path", &self.settings_path)
            .finish_non_exhaustive()
    }
}
