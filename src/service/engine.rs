//! The engine: settings, credentials, outbox, client and browser, put together once.

use std::sync::{Arc, Mutex, PoisonError};

use super::runner::{JobReport, Listener, Reach, Runner, Uploads};
use crate::domain::{JobId, Secret};
use crate::outbox::{Claimed, Lane, Outbox, StoreError};
use crate::platform::browser::Browser;
use crate::pyrus::{ClientConfig, Credentials, PyrusClient, PyrusError};
use crate::settings::Settings;
use crate::settings::credentials::{SecretError, SecretStore};

/// Credentials are missing or unusable.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// No login configured.
    #[error("no Pyrus login is configured: run `pyrus-phone login` (or set PYRUS_LOGIN)")]
    MissingLogin,
    /// No account id configured.
    #[error(
        "no account id is configured: run `pyrus-phone login` (or set PYRUS_ACCOUNT_ID); it is shown in the API telephony extension in Pyrus"
    )]
    MissingAccountId,
    /// No key stored for the login.
    #[error(
        "no security key is stored for {login}: run `pyrus-phone login` (or set PYRUS_SECURITY_KEY)"
    )]
    MissingKey {
        /// The login.
        login: String,
    },
    /// The keyring failed.
    #[error(transparent)]
    Keyring(#[from] SecretError),
    /// An address in the settings is unusable (the error names which).
    #[error("{0}; fix it in the settings")]
    BadUrl(PyrusError),
}

impl CredentialsError {
    /// The error code the window words (see `domain::codes`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingLogin => "login_missing",
            Self::MissingAccountId => "account_missing",
            Self::MissingKey { .. } => "key_missing",
            Self::Keyring(_) => "keyring",
            Self::BadUrl(_) => "bad_url",
        }
    }
}

/// Sending kept work failed before any job could run.
#[derive(Debug, thiserror::Error)]
pub enum PumpError {
    /// Credentials are missing.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Settings, secrets, outbox, client and browser.
pub struct Engine {
    settings: Settings,
    outbox: Outbox,
    secrets: Arc<dyn SecretStore>,
    key_override: Option<Secret>,
    /// A key typed in the window that the keyring could not keep: used until the app quits.
    session_key: Option<Secret>,
    browser: Arc<dyn Browser>,
    client: Mutex<Option<Arc<PyrusClient>>>,
    uploads: Uploads,
    reach: Reach,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    /// Puts the parts together. `key_override` (from `PYRUS_SECURITY_KEY` or the demo) wins
    /// over the keyring, which is then never touched.
    pub fn new(
        settings: Settings,
        outbox: Outbox,
        secrets: Arc<dyn SecretStore>,
        key_override: Option<Secret>,
        browser: Arc<dyn Browser>,
    ) -> Self {
        Self {
            settings,
            outbox,
            secrets,
            key_override,
            session_key: None,
            browser,
            client: Mutex::new(None),
            uploads: Uploads::default(),
            reach: Reach::default(),
        }
    }

    /// Uses `key` for this run only (the keyring could not keep it).
    #[must_use]
    pub fn with_session_key(mut self, key: Option<Secret>) -> Self {
        self.session_key = key;
        self
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The outbox.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The browser.
    pub fn browser(&self) -> &dyn Browser {
        self.browser.as_ref()
    }

    /// The client, built on first use from the settings and the stored key.
    pub fn client(&self) -> Result<Arc<PyrusClient>, CredentialsError> {
        if let Some(client) = self.cached_client() {
            return Ok(client);
        }
        // The lock is not held while the keyring answers (it may take a while): two
        // callers may both build a client; the first one kept wins.
        let pyrus = &self.settings.pyrus;
        let login = pyrus.login.trim();
        if login.is_empty() {
            return Err(CredentialsError::MissingLogin);
        }
        if pyrus.account_id.trim().is_empty() {
            return Err(CredentialsError::MissingAccountId);
        }
        let key = match self.key_override.as_ref().or(self.session_key.as_ref()) {
            Some(key) => key.clone(),
            None => self
                .secrets
                .get(login)?
                .filter(|k| !k.is_blank())
                .ok_or_else(|| CredentialsError::MissingKey {
                    login: login.to_owned(),
                })?,
        };
        let mut config = ClientConfig::new(pyrus.auth_url.trim());
        config.web_base = pyrus.web_base.clone().filter(|w| !w.trim().is_empty());
        let client = PyrusClient::new(
            config,
            Credentials {
                login: login.to_owned(),
                security_key: key,
                person_id: pyrus.person_id,
            },
        )
        .map_err(CredentialsError::BadUrl)?;
        let mut guard = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(Arc::clone(guard.get_or_insert_with(|| Arc::new(client))))
    }

    /// The client, when one was built already.
    fn cached_client(&self) -> Option<Arc<PyrusClient>> {
        self.client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(Arc::clone)
    }

    /// The client, built on a blocking thread the first time (reading the key may wait on
    /// the keyring: D-Bus, or a Keychain prompt), never on an async worker.
    pub async fn client_async(self: &Arc<Self>) -> Result<Arc<PyrusClient>, CredentialsError> {
        if let Some(client) = self.cached_client() {
            return Ok(client);
        }
        let engine = Arc::clone(self);
        tokio::task::spawn_blocking(move || engine.client())
            .await
            .map_err(|e| {
                CredentialsError::Keyring(SecretError {
                    reason: format!("the keyring look-up stopped: {e}"),
                })
            })?
    }

    /// Runs the next due job of `lane`, if any.
    pub async fn pump_one(
        self: &Arc<Self>,
        lane: Lane,
        listener: &Listener,
    ) -> Result<Option<JobReport>, PumpError> {
        let client = self.client_async().await?;
        Ok(self.runner(&client, listener).run_one(lane).await?)
    }

    /// Runs a job this process claimed when it stored it (a call to register at once). When
    /// no client can be made, the job goes back to the queue and the error is returned.
    pub async fn run_claimed(
        self: &Arc<Self>,
        claimed: Claimed,
        listener: &Listener,
    ) -> Result<JobReport, PumpError> {
        let (job, token) = (claimed.job, claimed.token);
        let client = match self.client_async().await {
            Ok(client) => client,
            Err(e) => {
                self.outbox.release(job, token).await?;
                return Err(e.into());
            }
        };
        Ok(self.runner(&client, listener).run_claimed(claimed).await?)
    }

    /// Runs `job` if it is due now.
    pub async fn run_job(
        self: &Arc<Self>,
        job: JobId,
        listener: &Listener,
    ) -> Result<Option<JobReport>, PumpError> {
        let client = self.client_async().await?;
        Ok(self.runner(&client, listener).run_job(job).await?)
    }

    /// Runs every due job of `lanes` once.
    pub async fn pump(
        self: &Arc<Self>,
        lanes: &[Lane],
        listener: &Listener,
    ) -> Result<Vec<JobReport>, PumpError> {
        let client = self.client_async().await?;
        Ok(self.runner(&client, listener).run_due(lanes).await?)
    }

    fn runner<'a>(&'a self, client: &'a PyrusClient, listener: &'a Listener) -> Runner<'a> {
        Runner {
            outbox: &self.outbox,
            client,
            account_id: self.settings.pyrus.account_id.trim(),
            form_id: self.settings.pyrus.form_id,
            russian: self.settings.window.language.as_deref() == Some("ru"),
            outcome: &self.settings.outcome,
            listener,
            uploads: &self.uploads,
            reach: &self.reach,
        }
    }

    /// Cancels an upload this engine is running; true when there was one.
    pub fn cancel_upload(&self, job: JobId) -> bool {
        self.uploads.cancel(job)
    }

    /// Discards a job (kept as discarded, never sent), stopping its upload if one runs.
    pub async fn discard(&self, job: JobId) -> Result<(), StoreError> {
        self.uploads.cancel(job);
        self.outbox.discard(job).await
    }

    /// The browser link of a task.
    pub fn task_url(&self, task_id: u64) -> String {
        // Never builds a client here (that may wait on the keyring): a task was registered,
        // so there is one, unless the engine was replaced meanwhile.
        match self.cached_client() {
            Some(client) => client.task_url(task_id),
            None => {
                let web = self.settings.pyrus.web_base.clone().unwrap_or_else(|| {
                    crate::pyrus::derive_web_base(crate::pyrus::FALLBACK_API_URL)
                });
                format!("{}/t#id{task_id}", web.trim_end_matches('/'))
            }
        }
    }
}
