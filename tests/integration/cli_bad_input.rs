//! Bad input exits 2 with a message naming the problem, and nothing reaches Pyrus.

use crate::support::{Env, write_wav};

async fn refused(env: &Env, args: &[&str], expected: &str) {
    let out = env.run(args).await;
    assert_eq!(out.code, 2, "{args:?}: {out:?}");
    assert!(
        out.stderr.contains(expected),
        "{args:?}: stderr should name the problem ({expected:?}): {}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_exits_2_and_sends_nothing() {
    let env = Env::start().await;
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let long = format!("Note={}", "я".repeat(301));
    write_wav(&dir.path().join("ok.wav"), 100);
    std::fs::File::create(dir.path().join("empty.wav")).unwrap();
    std::fs::File::create(dir.path().join("notes.txt")).unwrap();
    std::fs::create_dir(dir.path().join("folder.wav")).unwrap();

    refused(
        &env,
        &["call", "--from", "+7 977 abc", "--to", "+74953009080"],
        "from: the number contains 'a'",
    )
    .await;
    refused(
        &env,
        &["call", "--from", "+79774221338", "--to", "12"],
        "to: the number has 2 digit(s)",
    )
    .await;
    refused(
        &env,
        &[
            "call",
            "--from",
            "+79774221338",
            "--to",
            "+74953009080",
            "--internal",
            "x1",
        ],
        "internal:",
    )
    .await;
    refused(
        &env,
        &[
            "call",
            "--from",
            "+79774221338",
            "--to",
            "+74953009080",
            "--map",
            &long,
        ],
        "301 characters",
    )
    .await;
    refused(
        &env,
        &[
            "call",
            "--from",
            "+79774221338",
            "--to",
            "+74953009080",
            "--map",
            "Subject",
        ],
        "has no '='",
    )
    .await;
    refused(
        &env,
        &["attach", &d("notes.txt"), "--task", "1"],
        "not an audio file Pyrus attaches",
    )
    .await;
    refused(
        &env,
        &["attach", &d("empty.wav"), "--task", "1"],
        "the recording is empty",
    )
    .await;
    refused(
        &env,
        &["attach", &d("missing.wav"), "--task", "1"],
        "there is no such file",
    )
    .await;
    refused(
        &env,
        &["attach", &d("folder.wav"), "--task", "1"],
        "is a directory",
    )
    .await;
    refused(
        &env,
        &[
            "attach",
            &d("ok.wav"),
            "--from",
            "+79774221338",
            "--to",
            "bad",
        ],
        "to: the number contains 'b'",
    )
    .await;
    // Usage errors come from the argument parser with the same code.
    refused(&env, &["attach", &d("ok.wav")], "--task").await;
    refused(&env, &["call", "--to", "+74953009080"], "--from").await;

    assert!(
        env.sandbox.requests().is_empty(),
        "sent: {:?}",
        env.sandbox.requests()
    );
    let queue = env.run(&["queue", "--json"]).await;
    assert_eq!(
        queue.json()["jobs"].as_array().map(Vec::len),
        Some(0),
        "nothing stored: {queue:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_web_address_is_named_as_such_and_only_where_it_points_is_shown() {
    let env = Env::start().await;
    let config = env.home().join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::io::Write::write_all(
        &mut std::fs::File::create(config.join("settings.toml")).unwrap(),
        b"[pyrus]\nweb_base = \"http://pyrus.example.org/tasks?session=s3cr3t\"\n",
    )
    .unwrap();
    let out = env
        .run(&["call", "--from", "+79774221338", "--to", "+74953009080"])
        .await;
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("the web address (web_base) http://pyrus.example.org"),
        "{out:?}"
    );
    assert!(
        !out.stderr.contains("auth URL"),
        "the auth URL is not to blame: {out:?}"
    );
    assert!(!out.stderr.contains("s3cr3t"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_whose_name_is_not_text_is_refused_with_what_to_do() {
    use std::os::unix::ffi::OsStrExt as _;
    let env = Env::start().await;
    let dir = tempfile::tempdir().unwrap();
    let wav = dir
        .path()
        .join(std::ffi::OsStr::from_bytes(b"call-\xff\xfe.wav"));
    write_wav(&wav, 800);
    let out = env
        .command(&["attach", "--task", "1"])
        .arg(&wav)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not valid text (UTF-8)"), "{stderr}");
    assert!(stderr.contains("rename"), "{stderr}");
    assert!(!stderr.contains("cannot read"), "{stderr}");
}
