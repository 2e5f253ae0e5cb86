//! The settings view through AccessKit: first start greets the agent, Test connection fails
//! then succeeds, Save puts the key in the real system keyring and switches the window from
//! the demo to the account, and a call then registers with it.

use std::sync::Arc;

use egui_kittest::kittest::Queryable as _;
use pyrus_phone::sandbox::SandboxConfig;
use pyrus_phone::settings::Settings;
use pyrus_phone::settings::credentials::{KeyringStore, SecretStore as _};
use pyrus_phone::ui::{UiState, View};

use crate::window::{RigOptions, click_until, register, retype, rig_with, type_into};

#[ignore = "system tier (tests/run.sh): needs gnome-keyring in a private D-Bus session"]
#[test]
fn first_start_test_connection_and_save_into_the_keyring() {
    crate::support::system_tier("gnome-keyring in a private D-Bus session");
    let unique: u64 = rand::random();
    let login = format!("agent-{unique:x}@window.test");
    let key = format!("key-{:x}", rand::random::<u64>());
    let files = tempfile::tempdir().unwrap();
    // A service name of the test's own: the user's keyring entries are never touched.
    let keyring = KeyringStore::new(format!("pyrus-phone test {unique:x}"));
    let mut config = SandboxConfig::demo(files.path().to_path_buf());
    config.login.clone_from(&login);
    config.security_key.clone_from(&key);
    // The auth URL comes preset, as an administrator's settings file would have it; the
    // sandbox's address is known only once it runs, so the rig fills it in.
    let mut r = rig_with(RigOptions {
        sandbox: Some(config),
        secrets: Arc::new(keyring.clone()),
        state: UiState {
            demo: true,
            first_run: true,
            view: View::Settings,
            ..UiState::default()
        },
        ..RigOptions::default()
    });
    let mut editable = Settings::default();
    editable.pyrus.auth_url = r.sandbox.auth_url();
    r.h.state_mut().state.settings_form =
        pyrus_phone::ui::settings_view::SettingsForm::new(&editable);
    r.h.run();
    r.h.get_by_label("Welcome to pyrus-phone");
    r.h.get_by_label("Try the demo");

    type_into(&mut r.h, "Login", &login);
    type_into(&mut r.h, "Account id", "demo-account");
    type_into(&mut r.h, "Security key", "wrong-key");
    click_until(&mut r.h, "Test connection", "the refusal", |h| {
        h.query_by_label_contains("check the login and the security key")
            .is_some()
    });
    assert!(
        keyring.get(&login).unwrap().is_none(),
        "a test stores nothing"
    );

    // Fix the key: the test passes, then Save stores it in the system keyring.
    retype(&mut r.h, "Security key", "wrong-key".len(), &key);
    click_until(&mut r.h, "Test connection", "the success", |h| {
        h.query_by_label_contains("Signed in. API at").is_some()
    });
    click_until(&mut r.h, "Save", "the save", |h| {
        h.query_by_label_contains("Saved.").is_some()
    });
    assert_eq!(
        keyring.get(&login).unwrap().map(|k| k.expose().to_owned()),
        Some(key.clone())
    );
    assert!(
        r.h.query_by_label("Demo sandbox — calls go nowhere real")
            .is_none(),
        "the demo badge is gone"
    );
    let saved = std::fs::read_to_string(r.dir.path().join("config/settings.toml")).unwrap();
    assert!(saved.contains(&login) && !saved.contains(&key), "{saved}");

    // The window now registers with the saved account.
    r.h.get_by_label("Calls").click();
    r.h.run();
    register(&mut r);
    let logins = r.sandbox.issued_tokens().len();
    assert!(logins >= 2, "the test and the new engine logged in");
    assert_eq!(r.sandbox.tasks().len(), 1);
    keyring.delete(&login).unwrap();
}

#[test]
fn the_language_switch_changes_the_labels_and_cyrillic_renders() {
    let mut r = rig_with(RigOptions::default());
    r.h.run();
    r.h.get_by_label("Settings").click();
    r.h.run();
    r.h.get_by_label("Language").click();
    r.h.run();
    r.h.get_by_label("Русский").click();
    r.h.run();
    // The whole window speaks Russian at once (and every glyph exists: kittest fails on tofu).
    r.h.get_by_label("Звонки");
    r.h.get_by_label("Проверить подключение");
    r.h.get_by_label("Кто открывает задачу");
    // A login without its account id is refused, in Russian.
    type_into(&mut r.h, "Логин", "bot@example.com");
    click_until(&mut r.h, "Сохранить", "the refusal", |h| {
        h.query_by_label("Введите ID аккаунта из расширения «API телефонии» в Pyrus.")
            .is_some()
    });
    r.h.get_by_label("Звонки").click();
    r.h.run();
    r.h.get_by_label("Новый звонок");
    r.h.get_by_label("Откуда");
    r.h.get_by_label_contains("Сегодня звонков ещё не было");
    r.h.get_by_label("Демо-песочница — звонки никуда не уходят");
    // A bad number is explained in Russian.
    type_into(&mut r.h, "Откуда", "12ab");
    r.h.get_by_label("Зарегистрировать").click();
    r.h.run();
    r.h.get_by_label_contains("Откуда: в номере есть «a»");

    // Back in the settings, Cancel restores English.
    r.h.get_by_label("Настройки").click();
    r.h.run();
    r.h.get_by_label("Отмена").click();
    r.h.run();
    r.h.get_by_label("New call");
}
