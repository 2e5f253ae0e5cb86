//! The user-visible CLI flows through the real binary: register, register again, attach
//! three ways, open the task link.

use crate::support::{Env, recordings};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_new_then_the_same_call_again_is_the_existing_task() {
    let env = Env::start().await;
    let first = env
        .call_from(
            "+7 977 422-13-38",
            &[
                "--internal",
                "200",
                "--external-id",
                "call-1",
                "--map",
                "Subject=Consultation",
                "--json",
            ],
        )
        .await
        .ok();
    let j = first.json();
    assert_eq!(j["is_new_task"], true);
    assert_eq!(j["external_id"], "call-1");
    assert_eq!(j["responsible_person"]["user_id"], "34231");
    let task = j["task_id"].as_u64().unwrap();
    assert_eq!(
        j["task_url"],
        format!("{}/t#id{task}", env.sandbox.base_url())
    );

    let again = env.call(&["--external-id", "call-1", "--json"]).await.ok();
    assert_eq!(again.json()["is_new_task"], false);
    assert_eq!(again.json()["task_id"].as_u64(), Some(task));

    let tasks = env.sandbox.tasks();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].from_number, "+79774221338");
    assert_eq!(tasks[0].external_ids, vec!["call-1".to_owned()]);
    assert_eq!(tasks[0].comments.len(), 2);
    assert_eq!(
        tasks[0].comments[0].mappings,
        vec![("Subject".to_owned(), "Consultation".to_owned())]
    );

    // The human form says the same.
    let text = env.call(&[]).await.ok();
    assert!(
        text.stdout.contains(&format!(
            "Registered: task {task} (comment on an existing task)"
        )),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("Responsible: Ilya Laserson"),
        "{}",
        text.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_external_id_is_stored_and_sent() {
    let env = Env::start().await;
    let out = env.call(&["--json"]).await.ok();
    let id = out.json()["external_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("pp-"), "{id}");
    assert_eq!(env.sandbox.tasks()[0].external_ids, vec![id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_by_task_by_external_id_and_by_number_pair() {
    let env = Env::start().await;
    let reg = env.call(&["--external-id", "c-7", "--json"]).await.ok();
    let task = reg.json()["task_id"].as_u64().unwrap();
    let wav = env.recording("first.wav", 8000);

    let by_task = env
        .attach(
            &wav,
            &["--task", &task.to_string(), "--map", "Rating=5", "--json"],
        )
        .await
        .ok();
    assert_eq!(by_task.json()["task_id"].as_u64(), Some(task));

    let by_external = env.attach(&wav, &["--external-id", "c-7"]).await.ok();
    assert!(
        by_external.stdout.contains(&format!("to task {task}")),
        "{}",
        by_external.stdout
    );

    env.attach(&wav, &["--from", "+79774221338", "--to", "+74953009080"])
        .await
        .ok();

    let tasks = env.sandbox.tasks();
    let recordings = recordings(&tasks[0]);
    assert_eq!(recordings.len(), 3, "{tasks:?}");
    assert!(recordings.iter().all(|(_, name)| name == "first.wav"));
    assert_eq!(
        tasks[0].comments[1].mappings,
        vec![("Rating".to_owned(), "5".to_owned())]
    );

    // The sandbox's task page plays each recording.
    let page = reqwest::get(format!("{}/t", env.sandbox.base_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (guid, _) in &recordings {
        assert!(
            page.contains(&format!("src=\"/sandbox/files/{guid}\"")),
            "{page}"
        );
        let audio = reqwest::get(format!("{}/sandbox/files/{guid}", env.sandbox.base_url()))
            .await
            .unwrap();
        assert_eq!(audio.headers()["content-type"], "audio/wav");
        assert_eq!(audio.bytes().await.unwrap(), std::fs::read(&wav).unwrap());
    }
}

// The link goes to `$BROWSER` (the browser stand-in), honoured on Linux and the BSDs only.
#[cfg(all(unix, not(target_os = "macos")))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_hands_the_task_link_to_the_browser() {
    let env = Env::start().await;
    env.call(&["--open"]).await.ok();
    let opened = crate::support::wait_until(
        "the browser to be handed the link",
        std::time::Duration::from_secs(5),
        || env.opened().pop(),
    )
    .await;
    assert_eq!(opened.url, format!("{}/t#id1", env.sandbox.base_url()));
    assert_eq!(env.opened().len(), 1, "opened once");
}

// Line breaks and quotes in a file name: Windows allows neither.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_name_with_line_breaks_and_quotes_uploads_with_a_safe_header() {
    let env = Env::start().await;
    env.call(&[]).await.ok();
    let wav = env.recording("call\r\nX-Injected: 1\".wav", 478);
    let size = std::fs::metadata(&wav).unwrap().len();
    env.attach(&wav, &["--task", "1", "--json"]).await.ok();
    // The server got the file as it is, no more, under a name with no line breaks.
    let stored = crate::support::file_sizes(&env.home().join("sandbox-files"));
    assert_eq!(stored, vec![size]);
    let task = &env.sandbox.tasks()[0];
    let (_, name) = task
        .comments
        .iter()
        .find_map(|c| c.recording.clone())
        .unwrap();
    assert_eq!(name, "call__X-Injected: 1_.wav");
}

/// The administrator's defaults for every user (a temporary `XDG_CONFIG_DIRS`) carry the
/// account; the user's own file wins where it says something. `XDG_CONFIG_DIRS` is where
/// they are on Linux and the BSDs only.
#[cfg(all(unix, not(target_os = "macos")))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrators_file_supplies_the_account_and_the_users_own_file_wins() {
    let mut env = Env::start().await;
    let admin = tempfile::tempdir().unwrap();
    let text = format!(
        "[pyrus]\nauth_url = \"{}\"\naccount_id = \"demo-account\"\n\n[defaults]\ncountry = \"RU\"\n",
        env.auth_url
    );
    crate::support::write_file(&admin.path().join("pyrus-phone/settings.toml"), &text);
    env.removed = vec!["PYRUS_AUTH_URL".into(), "PYRUS_ACCOUNT_ID".into()];
    env.extra = vec![("XDG_CONFIG_DIRS".into(), admin.path().display().to_string())];
    // Nothing of the account is in the user's settings: it comes from the administrator,
    // and so does the country (a national number is sent in E.164).
    env.run(&["call", "--from", "8 977 422-13-38", "--to", "84953009080"])
        .await
        .ok();
    assert_eq!(env.sandbox.tasks()[0].from_number, "+79774221338");
    // The user's own account id wins over the administrator's.
    env.write_settings("[pyrus]\naccount_id = \"someone-else\"\n");
    let out = env.call_from("+79161112233", &[]).await;
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("unrecognized_account_id")
            || out.stdout.contains("unrecognized_account_id"),
        "{out:?}"
    );
}

/// A broken machine-wide file stops nobody: the call is registered with the user's own
/// settings, and stderr names the file and the line.
#[cfg(all(unix, not(target_os = "macos")))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_administrators_file_warns_and_the_call_goes_with_the_users_settings() {
    let mut env = Env::start().await;
    let admin = tempfile::tempdir().unwrap();
    let file = admin.path().join("pyrus-phone/settings.toml");
    crate::support::write_file(&file, "[defaults]\ncountry = \"KZ\"\n[calls\n");
    env.extra = vec![("XDG_CONFIG_DIRS".into(), admin.path().display().to_string())];
    let out = env.call_from("+79161112233", &[]).await.ok();
    assert!(
        out.stderr
            .contains("administrator's settings file cannot be used")
            && out.stderr.contains("line 3")
            && out.stderr.contains(&file.display().to_string()),
        "{out:?}"
    );
    assert_eq!(env.sandbox.tasks().len(), 1);
}

/// A recording that grows once its attach is under way is sent as it is when stable, and
/// `--json` reports the size that went up, not the size it had when it was checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_reports_the_size_that_went_up() {
    use pyrus_phone::sandbox::{FaultKind, Route};
    let env = Env::start().await;
    env.call(&["--external-id", "grow-1"]).await.ok();
    let wav = env.recording("grow.wav", 8_000);
    env.sandbox.inject(crate::support::fault(
        Route::Upload,
        FaultKind::Slow { delay_ms: 1_500 },
        1,
    ));
    let attach = env.attach(&wav, &["--external-id", "grow-1", "--json", "--wait", "30"]);
    let grow = async {
        // Once the attach is running, the recording grows (as one still being written).
        for _ in 0..200 {
            let jobs = env.jobs().await;
            if jobs
                .iter()
                .any(|j| j["kind"] == "attach" && j["state"] == "running")
            {
                let mut file = std::fs::OpenOptions::new().append(true).open(&wav).unwrap();
                std::io::Write::write_all(&mut file, &[0_u8; 4_000]).unwrap();
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the attach never ran");
    };
    let (out, ()) = tokio::join!(attach, grow);
    let out = out.ok();
    let size = out.json()["size_bytes"].as_u64().unwrap();
    assert_eq!(size, std::fs::metadata(&wav).unwrap().len(), "{out:?}");
    let (guid, _) = recordings(&env.sandbox.tasks()[0]).pop().unwrap();
    let stored = reqwest::get(format!("{}/sandbox/files/{guid}", env.sandbox.base_url()))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(stored.len() as u64, size, "what went up");
}
