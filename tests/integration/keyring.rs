//! The security key goes through the real Secret Service (gnome-keyring in a private D-Bus
//! session, started by the test command) and nowhere else: after a full run, no file under
//! the config, data or log folders holds the key or any access token.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use pyrus_phone::domain::Secret;
use pyrus_phone::platform::paths::Paths;
use pyrus_phone::sandbox::{Sandbox, SandboxConfig};
use pyrus_phone::settings::credentials::{
    HOOK_TOKEN_ENTRY, KEYRING_SERVICE, KeyringStore, SecretStore as _,
};

use crate::support::headless::Headless;
use crate::support::{Env, write_wav};

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Nothing under `home` holds the key or an access token, and its logs hold no full number.
fn assert_no_secret_on_disk(home: &Path, key: &str, tokens: &[String]) {
    let mut files = Vec::new();
    for dir in ["config", "data", "logs"] {
        files_under(&home.join(dir), &mut files);
    }
    assert!(files.iter().any(|f| f.ends_with("settings.toml")));
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().contains("pyrus-phone.log"))
    );
    assert!(files.iter().any(|f| f.ends_with("outbox.sqlite3")));
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !contains(&bytes, key),
            "the security key is in {}",
            file.display()
        );
        for token in tokens {
            assert!(
                !contains(&bytes, token),
                "an access token is in {}",
                file.display()
            );
        }
        assert!(
            !contains(&bytes, "79774221338") || !file.to_string_lossy().contains(".log"),
            "a full number is in the log {}",
            file.display()
        );
    }
}

#[ignore = "system tier (tests/run.sh): needs gnome-keyring in a private D-Bus session"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_lives_in_the_system_keyring_and_nowhere_on_disk() {
    crate::support::system_tier("gnome-keyring in a private D-Bus session");
    let unique: u64 = rand::random();
    let login = format!("bot-{unique:x}@keyring.test");
    let key = format!("key-{unique:x}-{:x}", rand::random::<u64>());
    let home = tempfile::tempdir().unwrap();
    let mut config = SandboxConfig::demo(home.path().join("sandbox-files"));
    config.login.clone_from(&login);
    config.security_key.clone_from(&key);
    let sandbox = Sandbox::start(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let mut env = Env::start().await;
    env.sandbox = sandbox;
    env.auth_url = env.sandbox.auth_url();
    env.home = home;
    env.removed = vec![
        "PYRUS_SECURITY_KEY".into(),
        "PYRUS_LOGIN".into(),
        "PYRUS_ACCOUNT_ID".into(),
    ];

    // The binary keeps this profile's keys under its own service name, never the user's own.
    let store = KeyringStore::new(Paths::under(env.home()).keyring_service);
    assert_ne!(store.service(), KEYRING_SERVICE);

    // A wrong key is refused and not stored.
    env.run_with_stdin(
        &["login", "--login", &login, "--account-id", "demo-account"],
        "wrong\n",
    )
    .await
    .exited(4);
    assert!(
        store.get(&login).unwrap().is_none(),
        "a refused key was stored"
    );

    let out = env
        .run_with_stdin(
            &["login", "--login", &login, "--account-id", "demo-account"],
            &format!("{key}\n"),
        )
        .await
        .ok();
    assert!(
        out.stdout.contains("stored in the system keyring"),
        "{}",
        out.stdout
    );

    // Another client of the Secret Service reads the same key, under the profile's service
    // and not the default profile's.
    assert_eq!(store.get(&login).unwrap(), Some(Secret::new(key.clone())));
    assert!(
        KeyringStore::new(KEYRING_SERVICE)
            .get(&login)
            .unwrap()
            .is_none(),
        "a PYRUS_PHONE_HOME profile wrote into the user's own keyring entries"
    );

    // A run with no key in the environment takes it from the keyring.
    env.call(&["--internal", "200"]).await.ok();
    let wav = env.home().join("rec.wav");
    write_wav(&wav, 800);
    env.attach(&wav, &["--task", "1"]).await.ok();
    std::fs::remove_file(&wav).unwrap();

    let tokens = env.sandbox.issued_tokens();
    assert!(tokens.len() >= 3, "each run logged in: {tokens:?}");
    assert_no_secret_on_disk(env.home(), &key, &tokens);

    store.delete(&login).unwrap();
    assert!(store.get(&login).unwrap().is_none());
}

#[ignore = "system tier (tests/run.sh): needs gnome-keyring in a private D-Bus session"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hook_token_is_kept_in_the_keyring_and_survives_a_restart() {
    crate::support::system_tier("gnome-keyring in a private D-Bus session");
    // The profile's token, put in its keyring entry before the first start: every start
    // must read this one.
    let env = Env::start().await;
    let store = KeyringStore::new(Paths::under(env.home()).keyring_service);
    let kept = Secret::new(format!("{:032x}", rand::random::<u128>()));
    store.set(HOOK_TOKEN_ENTRY, &kept).unwrap();
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let instance = Headless::start(&env, &[]).await;
        let health = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{}/health", instance.hook.port))
            .bearer_auth(kept.expose())
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200, "the kept token opens the hook");
        tokens.push(instance.hook.token.clone());
        instance.crash();
    }
    assert_eq!(tokens[0], kept.expose());
    assert_eq!(tokens[0], tokens[1], "the same token after a restart");

    // It is in no file the app keeps (the runtime folder is memory-backed and per session).
    let mut files = Vec::new();
    for dir in ["config", "data", "logs"] {
        let dir = env.home().join(dir);
        if dir.exists() {
            files_under(&dir, &mut files);
        }
    }
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !contains(&bytes, kept.expose()),
            "the hook token is in {}",
            file.display()
        );
    }
}
