//! Bad input exits 2 with a message naming the problem, and nothing reaches Pyrus.

use crate::support::{CALL, Env, write_wav};

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
    let call = |extra: &[&str]| -> Vec<String> {
        CALL.iter().chain(extra).map(|a| (*a).to_owned()).collect()
    };
    let args = |args: &[&str]| -> Vec<String> { args.iter().map(|a| (*a).to_owned()).collect() };
    let attach = |file: &str, target: &[&str]| -> Vec<String> {
        let mut all = vec!["attach".to_owned(), d(file)];
        all.extend(target.iter().map(|a| (*a).to_owned()));
        all
    };

    // What is typed, and what the message must say.
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            args(&["call", "--from", "+7 977 abc", "--to", "+74953009080"]),
            "from: the number contains 'a'",
        ),
        (
            args(&["call", "--from", "+79774221338", "--to", "12"]),
            "to: the number has 2 digit(s)",
        ),
        (call(&["--internal", "x1"]), "internal:"),
        (call(&["--map", &long]), "301 characters"),
        (call(&["--map", "Subject"]), "has no '='"),
        (
            attach("notes.txt", &["--task", "1"]),
            "not an audio file Pyrus attaches",
        ),
        (
            attach("empty.wav", &["--task", "1"]),
            "the recording is empty",
        ),
        (
            attach("missing.wav", &["--task", "1"]),
            "there is no such file",
        ),
        (attach("folder.wav", &["--task", "1"]), "is a directory"),
        (
            attach("ok.wav", &["--from", "+79774221338", "--to", "bad"]),
            "to: the number contains 'b'",
        ),
        // Usage errors come from the argument parser with the same code.
        (attach("ok.wav", &[]), "--task"),
        (args(&["call", "--to", "+74953009080"]), "--from"),
    ];
    for (args, expected) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = env.run(&args).await;
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains(expected),
            "{args:?}: stderr should name the problem ({expected:?}): {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
    }

    assert!(
        env.sandbox.requests().is_empty(),
        "sent: {:?}",
        env.sandbox.requests()
    );
    let jobs = env.jobs().await;
    assert!(jobs.is_empty(), "nothing stored: {jobs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_web_address_is_named_as_such_and_only_where_it_points_is_shown() {
    let env = Env::start().await;
    env.write_settings("[pyrus]\nweb_base = \"http://pyrus.example.org/tasks?session=s3cr3t\"\n");
    let out = env.call(&[]).await;
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

// A file name that is not UTF-8: Windows names are UTF-16, and macOS's file systems refuse
// such a name.
#[cfg(all(unix, not(target_os = "macos")))]
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
