//! Failures through the real binary: injected faults, token expiry, refusals, bad
//! credentials and an unreachable Pyrus — each ends as the exit code, and kept work
//! is sent by a later run.

use std::time::{Duration, Instant};

use pyrus_phone::sandbox::{Fault, FaultKind, Route};

use crate::support::{Env, wait_for, write_wav};

const CALL: [&str; 5] = ["call", "--from", "+79774221338", "--to", "+74953009080"];

fn statuses(env: &Env, route: Route) -> Vec<u16> {
    env.sandbox
        .requests()
        .iter()
        .filter(|r| r.route == Some(route))
        .map(|r| r.status)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_then_success() {
    let env = Env::start().await;
    env.sandbox.inject(Fault {
        route: Route::Call,
        kind: FaultKind::ServerError,
        times: 1,
    });
    let out = env.run(&CALL).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(statuses(&env, Route::Call), vec![500, 200]);
    assert_eq!(env.sandbox.tasks().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_retried_no_sooner_than_retry_after() {
    let env = Env::start().await;
    env.sandbox.inject(Fault {
        route: Route::Call,
        kind: FaultKind::RateLimited {
            retry_after_secs: 2,
        },
        times: 1,
    });
    let started = Instant::now();
    let out = env.run(&CALL).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "retried after {:?}",
        started.elapsed()
    );
    assert_eq!(statuses(&env, Route::Call), vec![429, 200]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_and_a_slow_reply_are_survived() {
    let env = Env::start().await;
    env.sandbox.inject(Fault {
        route: Route::Call,
        kind: FaultKind::DropConnection,
        times: 1,
    });
    env.sandbox.inject(Fault {
        route: Route::Call,
        kind: FaultKind::Slow { delay_ms: 700 },
        times: 1,
    });
    let out = env.run(&CALL).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(env.count(Route::Call), 2);
    assert_eq!(
        env.sandbox.tasks().len(),
        1,
        "the dropped attempt may not make a second task"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_expiry_mid_run_logs_in_once_more_and_succeeds() {
    let env = Env::start().await;
    let reg = env.run(&CALL).await;
    assert_eq!(reg.code, 0, "{reg:?}");
    let auths_before = env.count(Route::Auth);
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("r.wav");
    write_wav(&wav, 800);
    // The token dies between the upload and the attach.
    env.sandbox.inject(Fault {
        route: Route::Attach,
        kind: FaultKind::ExpireToken,
        times: 1,
    });
    let out = env
        .run(&["attach", wav.to_str().unwrap(), "--task", "1"])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        env.count(Route::Auth) - auths_before,
        2,
        "one login, one re-login"
    );
    assert_eq!(statuses(&env, Route::Attach), vec![401, 200]);
    assert_eq!(env.count(Route::Upload), 1, "the upload is not repeated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_refused_twice_is_not_retried_in_a_loop() {
    let env = Env::start().await;
    env.sandbox.inject(Fault {
        route: Route::Call,
        kind: FaultKind::ExpireToken,
        times: 2,
    });
    let out = env.run(&CALL).await;
    assert_eq!(out.code, 4, "{out:?}");
    assert!(out.stderr.contains("expired_token"), "{}", out.stderr);
    assert_eq!(env.count(Route::Auth), 2, "exactly one re-login");
    assert_eq!(statuses(&env, Route::Call), vec![401, 401]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_exit_4_and_the_call_is_sent_once_they_are_right() {
    let mut env = Env::start().await;
    env.key = "wrong-key".into();
    let out = env
        .run(&[&CALL[..], &["--external-id", "kept-1"]].concat())
        .await;
    assert_eq!(out.code, 4, "{out:?}");
    assert!(out.stderr.contains("invalid_credentials"), "{}", out.stderr);
    assert!(
        out.stderr.contains("check the login and the security key"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("kept in the outbox"), "{}", out.stderr);
    let queue = env.run(&["queue", "--json"]).await.json();
    assert_eq!(queue["jobs"][0]["state"], "needs_credentials");

    // Credentials fixed: `queue retry` sends it.
    env.key = pyrus_phone::sandbox::DEMO_SECURITY_KEY.into();
    let id = queue["jobs"][0]["id"].as_i64().unwrap().to_string();
    let retry = env.run(&["queue", "retry", &id]).await;
    assert_eq!(retry.code, 0, "{retry:?}");
    assert_eq!(
        env.sandbox.tasks()[0].external_ids,
        vec!["kept-1".to_owned()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_and_an_unknown_account_exit_4() {
    let mut env = Env::start().await;
    env.removed.push("PYRUS_SECURITY_KEY".into());
    env.removed.push("PYRUS_LOGIN".into());
    let out = env.run(&CALL).await;
    assert_eq!(out.code, 4, "{out:?}");
    assert!(
        out.stderr.contains("no Pyrus login is configured"),
        "{}",
        out.stderr
    );
    assert!(env.sandbox.requests().is_empty());

    env.removed.clear();
    env.extra
        .push(("PYRUS_ACCOUNT_ID".into(), "someone-else".into()));
    let out = env.run(&CALL).await;
    assert_eq!(out.code, 4, "{out:?}");
    assert!(
        out.stderr.contains("unrecognized_account_id"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_exit_3_and_stay_in_the_queue_with_their_code() {
    let env = Env::start().await;
    let out = env
        .run(&[&CALL[..], &["--map", "NoSuchField=1"]].concat())
        .await;
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stderr.contains("invalid_field_mapping_code"),
        "{}",
        out.stderr
    );
    let queue = env.run(&["queue", "--json"]).await.json();
    assert_eq!(queue["jobs"][0]["state"], "failed");
    assert_eq!(queue["jobs"][0]["error_code"], "invalid_field_mapping_code");

    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("r.wav");
    write_wav(&wav, 800);
    let out = env
        .run(&["attach", wav.to_str().unwrap(), "--task", "999"])
        .await;
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stderr.contains("unrecognized_task_id"),
        "{}",
        out.stderr
    );
    let out = env
        .run(&["attach", wav.to_str().unwrap(), "--external-id", "nobody"])
        .await;
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stderr.contains("unrecognized_call_id"),
        "{}",
        out.stderr
    );

    // Discarded jobs leave the queue.
    let jobs = env.run(&["queue", "--json"]).await.json();
    for job in jobs["jobs"].as_array().unwrap() {
        let id = job["id"].as_i64().unwrap().to_string();
        assert_eq!(env.run(&["queue", "discard", &id]).await.code, 0);
    }
    let after = env.run(&["queue", "--json"]).await.json();
    assert_eq!(after["jobs"].as_array().map(Vec::len), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_pyrus_exits_75_and_the_next_run_sends_the_kept_call() {
    let mut env = Env::start().await;
    let real_auth = env.auth_url.clone();
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    env.auth_url = format!("http://127.0.0.1:{port}/accounts/api/v4/auth");
    let out = env
        .run(&[&CALL[..], &["--external-id", "offline-1", "--wait", "2"]].concat())
        .await;
    assert_eq!(out.code, 75, "{out:?}");
    assert!(out.stderr.contains("kept in the outbox"), "{}", out.stderr);
    assert!(out.stderr.contains("offline-1"), "{}", out.stderr);

    // The process has ended; the job is still there.
    let queue = env.run(&["queue", "--json"]).await.json();
    assert_eq!(queue["jobs"][0]["state"], "pending");
    assert_eq!(queue["jobs"][0]["external_id"], "offline-1");
    assert!(queue["jobs"][0]["attempts"].as_u64().unwrap() >= 1);

    // Its next attempt is due at the time its backoff set, for every process alike.
    let due_at = queue["jobs"][0]["next_attempt_ms"].as_i64().unwrap();
    let now_ms = || {
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap()
    };
    assert!(
        wait_for(Duration::from_secs(10), || now_ms() >= due_at).await,
        "the kept call's time never came"
    );

    // Pyrus is back: the next run sends its own call, then the kept one (its time has
    // come), with the same external id.
    env.auth_url = real_auth;
    let next = env
        .run(&[
            "call",
            "--from",
            "+79990000000",
            "--to",
            "+74953009080",
            "--external-id",
            "online-1",
            "--json",
        ])
        .await;
    assert_eq!(next.code, 0, "{next:?}");
    let tasks = env.sandbox.tasks();
    assert_eq!(tasks.len(), 2);
    assert_eq!(
        tasks[0].external_ids,
        vec!["online-1".to_owned()],
        "its own first"
    );
    assert_eq!(
        tasks[1].external_ids,
        vec!["offline-1".to_owned()],
        "then kept work"
    );
    let queue = env.run(&["queue", "--json"]).await.json();
    assert_eq!(queue["jobs"].as_array().map(Vec::len), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attach_waits_for_its_registration() {
    let mut env = Env::start().await;
    let real_auth = env.auth_url.clone();
    env.auth_url = "http://127.0.0.1:9/accounts/api/v4/auth".into();
    let out = env
        .run(&[&CALL[..], &["--external-id", "later-1", "--wait", "0"]].concat())
        .await;
    assert_eq!(out.code, 75, "{out:?}");
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("r.wav");
    write_wav(&wav, 800);
    let out = env
        .run(&[
            "attach",
            wav.to_str().unwrap(),
            "--external-id",
            "later-1",
            "--wait",
            "0",
        ])
        .await;
    assert_eq!(out.code, 75, "{out:?}");

    env.auth_url = real_auth;
    let out = env
        .run(&["attach", wav.to_str().unwrap(), "--external-id", "later-1"])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    let tasks = env.sandbox.tasks();
    assert_eq!(tasks.len(), 1);
    let recordings = tasks[0]
        .comments
        .iter()
        .filter(|c| c.recording.is_some())
        .count();
    assert_eq!(
        recordings, 2,
        "both kept and new recordings attached after registration: {tasks:?}"
    );
    let order: Vec<_> = env
        .sandbox
        .requests()
        .iter()
        .filter_map(|r| r.route)
        .filter(|r| *r != Route::Auth)
        .collect();
    assert_eq!(
        order.first(),
        Some(&Route::Call),
        "registration first: {order:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_upload_loses_nothing() {
    let env = Env::start().await;
    assert_eq!(env.run(&CALL).await.code, 0);
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("crash.wav");
    write_wav(&wav, 80_000);
    env.sandbox.inject(Fault {
        route: Route::Upload,
        kind: FaultKind::Slow { delay_ms: 10_000 },
        times: 1,
    });
    let mut child = env
        .command(&["attach", wav.to_str().unwrap(), "--task", "1"])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let queue = env.run(&["queue", "--json"]).await.json();
        if queue["jobs"][0]["state"] == "running" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the upload never started: {queue}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let queue = env.run(&["queue", "--json"]).await.json();
    assert_eq!(
        queue["jobs"][0]["state"], "running",
        "the dead process still holds it"
    );

    // The next run sees the claim's process is gone and sends the recording first.
    let started = Instant::now();
    let out = env
        .run(&["call", "--from", "+79990000000", "--to", "+74953009080"])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "no waiting for the lease to run out"
    );
    let recordings = env.sandbox.tasks()[0]
        .comments
        .iter()
        .filter(|c| c.recording.is_some())
        .count();
    assert_eq!(recordings, 1);
    let queue = env.run(&["queue", "--json"]).await.json();
    assert_eq!(queue["jobs"].as_array().map(Vec::len), Some(0), "{queue}");
}

/// Stores `n` calls and leaves them kept, due now, without trying them (`--wait 0`).
async fn keep_calls(env: &Env, n: usize) {
    for i in 0..n {
        let from = format!("+7916{i:07}");
        let out = env
            .run(&[
                "call",
                "--from",
                &from,
                "--to",
                "+74953009080",
                "--wait",
                "0",
            ])
            .await;
        assert_eq!(out.code, 75, "{out:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pyrus_that_never_answers_cannot_hold_a_run_past_its_wait() {
    let env = Env::start().await;
    keep_calls(&env, 12).await;
    // Pyrus takes the connections and never answers.
    env.sandbox.inject(Fault {
        route: Route::Any,
        kind: FaultKind::Slow { delay_ms: 600_000 },
        times: 1_000,
    });
    let started = Instant::now();
    let out = env.run(&[&CALL[..], &["--wait", "10"]].concat()).await;
    let took = started.elapsed();
    assert_eq!(out.code, 75, "{out:?}");
    assert!(
        took <= Duration::from_secs(15),
        "call --wait 10 took {took:?}"
    );
    assert!(out.stderr.contains("did not answer within 10 s"), "{out:?}");

    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("call.wav");
    write_wav(&wav, 8000);
    let started = Instant::now();
    let out = env
        .run(&[
            "attach",
            wav.to_str().unwrap(),
            "--task",
            "1",
            "--wait",
            "5",
        ])
        .await;
    let took = started.elapsed();
    assert_eq!(out.code, 75, "{out:?}");
    assert!(
        took <= Duration::from_secs(10),
        "attach --wait 5 took {took:?}"
    );
    // Nothing was lost: the calls and the recording are kept for the next run.
    let queue = env.run(&["queue", "--json"]).await;
    assert_eq!(
        queue.json()["jobs"].as_array().map(Vec::len),
        Some(14),
        "{queue:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_waits_are_refused_before_anything_is_stored() {
    let env = Env::start().await;
    let out = env
        .run(&[&CALL[..], &["--wait", "18446744073709551615"]].concat())
        .await;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("more than a day"), "{out:?}");
    let out = env.run(&[&CALL[..], &["--wait", "soon"]].concat()).await;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("not a number of seconds"), "{out:?}");
    let queue = env.run(&["queue", "--json"]).await;
    assert_eq!(queue.json()["jobs"].as_array().map(Vec::len), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_holds_for_the_next_process_too() {
    let env = Env::start().await;
    env.sandbox.inject(Fault {
        route: Route::Call,
        kind: FaultKind::RateLimited {
            retry_after_secs: 5,
        },
        times: 1,
    });
    let refused_at = Instant::now();
    let out = env.run(&[&CALL[..], &["--wait", "1"]].concat()).await;
    assert_eq!(out.code, 75, "{out:?}");
    assert_eq!(statuses(&env, Route::Call), vec![429]);
    // A new call from a new process goes at once; the refused one waits its 5 s.
    let out = env
        .run(&["call", "--from", "+79160000001", "--to", "+74953009080"])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        refused_at.elapsed() < Duration::from_secs(5),
        "too slow to tell"
    );
    assert_eq!(
        statuses(&env, Route::Call),
        vec![429, 200],
        "the refused call was not tried again before its time"
    );
    let queue = env.run(&["queue", "--json"]).await;
    let jobs = queue.json()["jobs"].as_array().cloned().unwrap_or_default();
    assert_eq!(jobs.len(), 1, "{queue:?}");
    assert_eq!(jobs[0]["state"], "pending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_kept_calls_and_pyrus_down_make_a_handful_of_attempts() {
    let env = Env::start().await;
    {
        let outbox =
            pyrus_phone::outbox::Outbox::open(&env.home().join("data/outbox.sqlite3")).unwrap();
        for i in 0..1_000 {
            let call = pyrus_phone::domain::CallRequest::parse(
                &format!("+7916{i:07}"),
                "+74953009080",
                None,
                None,
                Vec::new(),
            )
            .unwrap();
            outbox.add_call(call).await.unwrap();
        }
    }
    env.sandbox.inject(Fault {
        route: Route::Any,
        kind: FaultKind::ServerError,
        times: 100_000,
    });
    let out = env.run(&[&CALL[..], &["--wait", "5"]].concat()).await;
    assert_eq!(out.code, 75, "{out:?}");
    let attempts = env.count(Route::Call);
    assert!(
        (1..=5).contains(&attempts),
        "{attempts} attempts at integrations/call"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_still_being_written_is_attached_once_it_stops_growing() {
    let env = Env::start().await;
    let out = env.run(&CALL).await;
    assert_eq!(out.code, 0, "{out:?}");
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("growing.wav");
    write_wav(&wav, 1_500_000);
    // The first upload goes slowly, and the softphone writes more meanwhile.
    env.sandbox.inject(Fault {
        route: Route::Upload,
        kind: FaultKind::Throttle {
            bytes_per_sec: 1024 * 1024,
        },
        times: 1,
    });
    let files = env.home().join("sandbox-files");
    let growing = wav.clone();
    let writer = tokio::spawn(async move {
        let receiving = || std::fs::read_dir(&files).is_ok_and(|mut d| d.next().is_some());
        assert!(
            wait_for(Duration::from_secs(20), receiving).await,
            "no upload began"
        );
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&growing)
            .unwrap();
        std::io::Write::write_all(&mut f, &[0_u8; 100_000]).unwrap();
    });
    let out = env
        .run(&[
            "attach",
            wav.to_str().unwrap(),
            "--task",
            "1",
            "--json",
            "--wait",
            "60",
        ])
        .await;
    writer.await.unwrap();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        env.count(Route::Upload),
        2,
        "sent again once it stopped changing"
    );
    assert_eq!(env.count(Route::Attach), 1, "attached once");
    let size = std::fs::metadata(&wav).unwrap().len();
    let stored: Vec<u64> = std::fs::read_dir(env.home().join("sandbox-files"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .collect();
    assert!(
        stored.contains(&size),
        "the whole file arrived: {stored:?} against {size}"
    );
}
