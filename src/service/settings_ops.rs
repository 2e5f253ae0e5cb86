//! Settings operations: check, test the connection, save (file and keyring) and build the
//! engine that replaces the current one; load the form's fields.

use std::sync::Arc;

use super::Engine;
use super::setup::Setup;
use super::shared::Shared;
use crate::bus::{Connection, Event, KeyPlace, Notice, NoticeKind, Refusal};
use crate::domain::Secret;
use crate::pyrus::{ClientConfig, Credentials, PyrusClient};
use crate::settings::Settings;

impl Shared {
    /// Saves settings (one save at a time) and puts the new engine in use.
    pub(super) async fn save(&self, settings: Box<Settings>, key: Option<Secret>) {
        let _one = self.saving.lock().await;
        match save_settings(&self.setup, &settings, key).await {
            Ok((new_engine, place)) => {
                self.ui.send(Event::KeyPlace(place)).await;
                self.announce_admin().await;
                if let Some(autostart) = self.setup.autostart.clone() {
                    let on = settings.window.start_at_login;
                    let applied = tokio::task::spawn_blocking(move || autostart.apply(on))
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|applied| applied.map_err(|e| e.to_string()));
                    if let Err(e) = applied {
                        self.notice(Notice::new(NoticeKind::AutostartFailed, e))
                            .await;
                    }
                }
                let Some(new_engine) = new_engine else {
                    // No account typed: the file is saved, the engine in use stays.
                    self.ui.send(Event::Settings(settings)).await;
                    self.publish().await;
                    return;
                };
                // Handled events are forgotten in the outbox they were kept in.
                self.forget_handled().await;
                self.current.set(new_engine);
                self.set_connection(Connection::Unknown);
                self.ui.send(Event::Settings(settings)).await;
                self.announce_engine().await;
                let engine = self.current.get();
                if let Err(e) = self.take_up(&engine, true).await {
                    self.notice(Notice::new(NoticeKind::OutboxFailed, e)).await;
                }
            }
            Err(refusal) => {
                self.ui.send(Event::SettingsRejected(refusal)).await;
            }
        }
        self.publish().await;
    }
}

impl Shared {
    /// "Enter the key": the engine in use is made again with the typed key, and the work
    /// waiting for credentials goes.
    pub(super) async fn use_key(&self, key: Secret) {
        let _one = self.saving.lock().await;
        let settings = self.current.get().settings().clone();
        match engine_with_key(&self.setup, &settings, key).await {
            Ok((engine, place)) => {
                self.ui.send(Event::KeyPlace(place)).await;
                self.forget_handled().await;
                self.current.set(engine);
                self.set_connection(Connection::Unknown);
                let engine = self.current.get();
                if let Err(e) = self.take_up(&engine, true).await {
                    self.notice(Notice::new(NoticeKind::OutboxFailed, e)).await;
                }
            }
            Err(refusal) => {
                let notice = Notice::new(NoticeKind::Credentials, &refusal.message);
                self.notice(notice.with_code(refusal.code)).await;
            }
        }
        self.publish().await;
    }

    /// Tells the window what the engine in use makes calls with, and its form's fields.
    pub(super) async fn announce_engine(&self) {
        let engine = self.current.get();
        self.ui
            .send(Event::InForce(Box::new(engine.settings().clone())))
            .await;
        self.ui
            .send(Event::FormFields(load_form(&engine).await))
            .await;
    }

    /// Tells the window which settings come from the administrator's file.
    pub(super) async fn announce_admin(&self) {
        let (user, admin) = (
            self.setup.settings_path.clone(),
            self.setup.admin_settings.clone(),
        );
        let keys =
            tokio::task::spawn_blocking(move || Settings::from_admin(&user, admin.as_deref()))
                .await
                .unwrap_or_default();
        self.ui.send(Event::FromAdmin(keys)).await;
    }

    /// Tells the window where the key for the saved login lives.
    pub(super) async fn announce_key_place(&self) {
        let place = key_place(&self.setup, &self.setup.editable.pyrus.login).await;
        self.ui.send(Event::KeyPlace(place)).await;
    }
}

/// Where the key for `login` lives: the environment, this session, the keyring, or nowhere.
async fn key_place(setup: &Setup, login: &str) -> KeyPlace {
    let login = login.trim().to_owned();
    if setup.key_from_env {
        return KeyPlace::Environment;
    }
    if let Some(why) = session_key_for(setup, &login).map(|(_, why)| why) {
        return KeyPlace::ThisSession(why);
    }
    if login.is_empty() {
        return KeyPlace::Missing;
    }
    let secrets = Arc::clone(&setup.secrets);
    match tokio::task::spawn_blocking(move || secrets.get(&login)).await {
        Ok(Ok(Some(_))) => KeyPlace::Keyring,
        Ok(Ok(None)) => KeyPlace::Missing,
        Ok(Err(e)) => KeyPlace::NoKeyring(Refusal::new("keyring_unavailable", e.to_string())),
        Err(e) => KeyPlace::NoKeyring(Refusal::new("internal", e.to_string())),
    }
}

/// The key kept for this session for `login`, with why the keyring did not take it.
fn session_key_for(setup: &Setup, login: &str) -> Option<(Secret, Refusal)> {
    let kept = setup
        .session_key
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    kept.as_ref()
        .filter(|(l, _, _)| l == login)
        .map(|(_, key, why)| (key.clone(), why.clone()))
}

/// The fields of the form named in the settings.
pub(super) async fn load_form(
    engine: &Arc<Engine>,
) -> Result<Vec<crate::domain::FormFieldInfo>, Refusal> {
    let Some(form_id) = engine.settings().pyrus.form_id else {
        return Ok(Vec::new());
    };
    let client = engine
        .client_async()
        .await
        .map_err(|e| Refusal::new("credentials_missing", e.to_string()))?;
    let fields = client.form_fields(form_id).await;
    if let Err(e) = engine.outbox().count_requests(client.take_answered()).await {
        tracing::warn!(error = %e, "the requests Pyrus answered could not be counted");
    }
    let fields = fields.map_err(|e| Refusal::new(e.code(), e.to_string()))?;
    Ok(fields
        .iter()
        .filter_map(crate::pyrus::FormField::to_info)
        .collect())
}

/// The key to use: a newly typed one, or the one stored for the login.
pub(super) async fn key_for(
    setup: &Setup,
    login: &str,
    typed: Option<Secret>,
) -> Result<Secret, Refusal> {
    if let Some(key) = typed.filter(|k| !k.is_blank()) {
        return Ok(key);
    }
    if let Some((key, _)) = session_key_for(setup, login.trim()) {
        return Ok(key);
    }
    let secrets = Arc::clone(&setup.secrets);
    let login = login.to_owned();
    let stored = tokio::task::spawn_blocking(move || secrets.get(&login))
        .await
        .map_err(|e| Refusal::new("internal", e.to_string()))?
        .map_err(|e| Refusal::new("keyring", e.to_string()))?;
    stored.ok_or_else(|| {
        Refusal::new(
            "key_missing",
            "Type the security key: none is stored for this login yet.",
        )
    })
}

pub(super) fn check_fields(settings: &Settings) -> Result<(), Refusal> {
    if settings.pyrus.login.trim().is_empty() {
        return Err(Refusal::new(
            "login_missing",
            "Type the login of the Pyrus bot (or user).",
        ));
    }
    if settings.pyrus.account_id.trim().is_empty() {
        return Err(Refusal::new(
            "account_missing",
            "Type the account id shown in the API telephony extension in Pyrus.",
        ));
    }
    // Everything else types alone cannot check: the first problem, named by its key.
    match settings.validate().into_iter().next() {
        Some(problem) => Err(Refusal::new(problem.code(), problem.to_string())),
        None => Ok(()),
    }
}

/// Logs in with the settings as typed: the API address Pyrus hands out, or what to fix. The
/// login counts against the rate budget of `outbox`.
pub(super) async fn test_connection(
    setup: &Setup,
    outbox: &crate::outbox::Outbox,
    settings: &Settings,
    key: Option<Secret>,
) -> Result<String, Refusal> {
    check_fields(settings)?;
    let key = key_for(setup, settings.pyrus.login.trim(), key).await?;
    let refusal = |e: crate::pyrus::PyrusError| Refusal::new(e.code(), e.to_string());
    let client = PyrusClient::new(
        ClientConfig::new(settings.pyrus.auth_url.trim()),
        Credentials {
            login: settings.pyrus.login.trim().to_owned(),
            security_key: key,
            person_id: settings.pyrus.person_id,
        },
    )
    .map_err(refusal)?;
    let endpoints = client.login().await;
    if let Err(e) = outbox.count_requests(client.take_answered()).await {
        tracing::warn!(error = %e, "the requests Pyrus answered could not be counted");
    }
    Ok(endpoints.map_err(refusal)?.api_url)
}

/// Keeps a typed key for `login`: in the keyring, or — where the keyring cannot keep it —
/// for this session.
async fn keep_key(setup: &Setup, login: &str, key: Secret) -> Result<(), Refusal> {
    let secrets = Arc::clone(&setup.secrets);
    let (l, k) = (login.to_owned(), key.clone());
    let stored = tokio::task::spawn_blocking(move || secrets.set(&l, &k))
        .await
        .map_err(|e| Refusal::new("internal", e.to_string()))?;
    let mut kept = setup
        .session_key
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *kept = match stored {
        Ok(()) => None,
        Err(e) => {
            tracing::warn!(error = %e, "the keyring did not take the key; it is kept for this session");
            Some((
                login.to_owned(),
                key,
                Refusal::new("keyring_unavailable", e.to_string()),
            ))
        }
    };
    Ok(())
}

/// A key typed for work that waits for it ("Enter the key"): kept as Save keeps one, then
/// the engine in use is made again with it and the waiting work goes.
pub(super) async fn engine_with_key(
    setup: &Setup,
    settings: &Settings,
    key: Secret,
) -> Result<(Engine, KeyPlace), Refusal> {
    let internal = |e: &dyn std::fmt::Display| Refusal::new("internal", e.to_string());
    let login = settings.pyrus.login.trim().to_owned();
    if login.is_empty() {
        return Err(Refusal::new(
            "login_missing",
            "Type the Pyrus login in Settings first.",
        ));
    }
    keep_key(setup, &login, key).await?;
    let engine =
        tokio::task::block_in_place(|| (setup.open_engine)(settings)).map_err(|e| internal(&e))?;
    let place = key_place(setup, &login).await;
    let session = session_key_for(setup, &login).map(|(key, _)| key);
    Ok((engine.with_session_key(session), place))
}

/// Saves the settings file, and a typed key in the keyring. Where the keyring cannot keep
/// the key, everything else is still saved and the key is used for this session only;
/// the answer says where the key lives, and the engine the saved account makes — none when
/// no account is typed (the language or a dial command saved in the demo: the engine in use
/// stays).
pub(super) async fn save_settings(
    setup: &Setup,
    settings: &Settings,
    key: Option<Secret>,
) -> Result<(Option<Engine>, KeyPlace), Refusal> {
    let no_account =
        settings.pyrus.login.trim().is_empty() && settings.pyrus.account_id.trim().is_empty();
    if no_account {
        if let Some(problem) = settings.validate().into_iter().next() {
            return Err(Refusal::new(problem.code(), problem.to_string()));
        }
    } else {
        check_fields(settings)?;
    }
    let internal = |e: &dyn std::fmt::Display| Refusal::new("internal", e.to_string());
    let login = settings.pyrus.login.trim().to_owned();
    if let Some(key) = key.filter(|k| !k.is_blank() && !setup.key_from_env) {
        keep_key(setup, &login, key).await?;
    }
    let path = setup.settings_path.clone();
    let admin = setup.admin_settings.clone();
    let (to_save, env) = (settings.clone(), setup.env.clone());
    tokio::task::spawn_blocking(move || {
        // What the environment set for this run stays out of the file.
        let on_disk = Settings::load_with_admin(&path, admin.as_deref()).unwrap_or_default();
        to_save
            .without_env(&env, &on_disk)
            .save_over_admin(&path, admin.as_deref())
    })
    .await
    .map_err(|e| internal(&e))?
    .map_err(|e| internal(&e))?;
    let place = key_place(setup, &login).await;
    if no_account {
        return Ok((None, place));
    }
    // Opening the outbox (and migrating it) is blocking work: let this worker's other
    // tasks move on meanwhile.
    let engine =
        tokio::task::block_in_place(|| (setup.open_engine)(settings)).map_err(|e| internal(&e))?;
    let session = session_key_for(setup, &login).map(|(key, _)| key);
    Ok((Some(engine.with_session_key(session)), place))
}
