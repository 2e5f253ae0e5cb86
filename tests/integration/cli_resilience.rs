//! Failures through the real binary: injected faults, token expiry, refusals, bad
//! credentials and an unreachable Pyrus — each ends as the exit code, and kept work
//! is sent by a later run.

use std::time::{Duration, Instant};

use pyrus_phone::sandbox::{FaultKind, Route};

use crate::support::{Env, fault, file_sizes, recordings, wait_until};

/// Pyrus's 429, asking to come back in `secs`.
fn rate_limited(secs: u64) -> FaultKind {
    FaultKind::RateLimited {
        retry_after_secs: secs,
    }
}

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
    env.sandbox
        .inject(fault(Route::Call, FaultKind::ServerError, 1));
    env.call(&[]).await.ok();
    assert_eq!(statuses(&env, Route::Call), vec![500, 200]);
    assert_eq!(env.sandbox.tasks().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_retried_no_sooner_than_retry_after() {
    let env = Env::start().await;
    env.sandbox.inject(fault(Route::Call, rate_limited(2), 1));
    let started = Instant::now();
    env.call(&[]).await.ok();
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
    env.sandbox
        .inject(fault(Route::Call, FaultKind::DropConnection, 1));
    env.sandbox
        .inject(fault(Route::Call, FaultKind::Slow { delay_ms: 700 }, 1));
    env.call(&[]).await.ok();
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
    env.call(&[]).await.ok();
    let auths_before = env.count(Route::Auth);
    let wav = env.recording("r.wav", 800);
    // The token dies between the upload and the attach.
    env.sandbox
        .inject(fault(Route::Attach, FaultKind::ExpireToken, 1));
    env.attach(&wav, &["--task", "1"]).await.ok();
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
    env.sandbox
        .inject(fault(Route::Call, FaultKind::ExpireToken, 2));
    let out = env.call(&[]).await.exited(4);
    out.stderr_says("expired_token");
    assert_eq!(env.count(Route::Auth), 2, "exactly one re-login");
    assert_eq!(statuses(&env, Route::Call), vec![401, 401]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_exit_4_and_the_call_is_sent_once_they_are_right() {
    let mut env = Env::start().await;
    env.key = "wrong-key".into();
    let out = env.call(&["--external-id", "kept-1"]).await.exited(4);
    out.stderr_says("invalid_credentials");
    out.stderr_says("check the login and the security key");
    out.stderr_says("kept in the outbox");
    let queue = env.jobs().await;
    assert_eq!(queue[0]["state"], "needs_credentials");

    // Credentials fixed: `queue retry` sends it.
    env.key = pyrus_phone::sandbox::DEMO_SECURITY_KEY.into();
    let id = queue[0]["id"].as_i64().unwrap().to_string();
    env.run(&["queue", "retry", &id]).await.ok();
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
    let out = env.call(&[]).await.exited(4);
    out.stderr_says("no Pyrus login is configured");
    assert!(env.sandbox.requests().is_empty());

    env.removed.clear();
    env.extra
        .push(("PYRUS_ACCOUNT_ID".into(), "someone-else".into()));
    let out = env.call(&[]).await.exited(4);
    out.stderr_says("unrecognized_account_id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_exit_3_and_stay_in_the_queue_with_their_code() {
    let env = Env::start().await;
    let out = env.call(&["--map", "NoSuchField=1"]).await.exited(3);
    out.stderr_says("invalid_field_mapping_code");
    let queue = env.jobs().await;
    assert_eq!(queue[0]["state"], "failed");
    assert_eq!(queue[0]["error_code"], "invalid_field_mapping_code");

    let wav = env.recording("r.wav", 800);
    let out = env.attach(&wav, &["--task", "999"]).await.exited(3);
    out.stderr_says("unrecognized_task_id");
    let out = env
        .attach(&wav, &["--external-id", "nobody"])
        .await
        .exited(3);
    out.stderr_says("unrecognized_call_id");

    // Discarded jobs leave the queue.
    for job in env.jobs().await {
        let id = job["id"].as_i64().unwrap().to_string();
        env.run(&["queue", "discard", &id]).await.ok();
    }
    env.assert_outbox_empty().await;
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
        .call(&["--external-id", "offline-1", "--wait", "5"])
        .await
        .exited(75);
    out.stderr_says("kept in the outbox");
    out.stderr_says("offline-1");

    // The process has ended; the job is still there.
    let queue = env.jobs().await;
    assert_eq!(queue[0]["state"], "pending");
    assert_eq!(queue[0]["external_id"], "offline-1");
    assert!(queue[0]["attempts"].as_u64().unwrap() >= 1);

    // Its next attempt has a time set by its backoff, for every process alike.
    assert!(queue[0]["next_attempt_ms"].is_i64(), "{}", queue[0]);
    // Attempts that reached nobody cost nothing of the rate budget.
    assert_eq!(env.requests_answered().await, 0);
    // Pyrus is back: the next run sends its own call, then the kept one at once — Pyrus
    // answering again ends the backoff of what was kept for want of it — with the same
    // external id.
    env.auth_url = real_auth;
    env.call_from(
        "+79990000000",
        &["--external-id", "online-1", "--wait", "1", "--json"],
    )
    .await
    .ok();
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
    env.assert_outbox_empty().await;
    // What Pyrus answered is counted, the login included.
    let served = env.sandbox.requests().len();
    assert_eq!(served, 3, "a login and two registrations");
    assert_eq!(env.requests_answered().await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attach_waits_for_its_registration() {
    let mut env = Env::start().await;
    let real_auth = env.auth_url.clone();
    env.auth_url = "http://127.0.0.1:9/accounts/api/v4/auth".into();
    env.call(&["--external-id", "later-1", "--wait", "0"])
        .await
        .exited(75);
    let wav = env.recording("r.wav", 800);
    env.attach(&wav, &["--external-id", "later-1", "--wait", "0"])
        .await
        .exited(75);

    env.auth_url = real_auth;
    env.attach(&wav, &["--external-id", "later-1"]).await.ok();
    let tasks = env.sandbox.tasks();
    assert_eq!(tasks.len(), 1);
    assert_eq!(
        recordings(&tasks[0]).len(),
        2,
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
    assert_eq!(env.call(&[]).await.code, 0);
    let wav = env.recording("crash.wav", 80_000);
    env.sandbox.inject(fault(
        Route::Upload,
        FaultKind::Slow { delay_ms: 10_000 },
        1,
    ));
    let mut child = env
        .command(&["attach", wav.to_str().unwrap(), "--task", "1"])
        .spawn()
        .unwrap();
    env.wait_for_jobs("the upload to start", 10, |jobs| {
        jobs.first().is_some_and(|j| j["state"] == "running")
    })
    .await;
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let queue = env.jobs().await;
    assert_eq!(
        queue[0]["state"], "running",
        "the dead process still holds it"
    );

    // The next run sees the claim's process is gone and sends the recording first: within
    // its own wait, a quarter of the lease the dead claim would otherwise hold it for.
    assert!(Duration::from_secs(30) * 4 <= pyrus_phone::outbox::LEASE);
    env.call_from("+79990000000", &["--wait", "30"])
        .await
        .exited(0);
    assert_eq!(
        recordings(&env.sandbox.tasks()[0]).len(),
        1,
        "sent by the next run, no waiting for the lease to run out"
    );
    env.assert_outbox_empty().await;
}

/// Stores `n` calls and leaves them kept, due now, without trying them (`--wait 0`).
async fn keep_calls(env: &Env, n: usize) {
    for i in 0..n {
        let from = format!("+7916{i:07}");
        env.call_from(&from, &["--wait", "0"]).await.exited(75);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pyrus_that_never_answers_cannot_hold_a_run_past_its_wait() {
    let env = Env::start().await;
    keep_calls(&env, 12).await;
    // Pyrus takes the connections and never answers.
    env.sandbox.inject(fault(
        Route::Any,
        FaultKind::Slow { delay_ms: 600_000 },
        1_000,
    ));
    let started = Instant::now();
    let out = env.call(&["--wait", "10"]).await;
    let took = started.elapsed();
    assert_eq!(out.code, 75, "{out:?}");
    assert!(
        took <= Duration::from_secs(15),
        "call --wait 10 took {took:?}"
    );
    out.stderr_says("did not answer within 10 s");

    let wav = env.recording("call.wav", 8000);
    let started = Instant::now();
    let out = env.attach(&wav, &["--task", "1", "--wait", "5"]).await;
    let took = started.elapsed();
    assert_eq!(out.code, 75, "{out:?}");
    assert!(
        took <= Duration::from_secs(10),
        "attach --wait 5 took {took:?}"
    );
    // Nothing was lost: the calls and the recording are kept for the next run.
    let queue = env.jobs().await;
    assert_eq!(queue.len(), 14, "{queue:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_waits_are_refused_before_anything_is_stored() {
    let env = Env::start().await;
    let out = env
        .call(&["--wait", "18446744073709551615"])
        .await
        .exited(2);
    out.stderr_says("more than a day");
    let out = env.call(&["--wait", "soon"]).await.exited(2);
    out.stderr_says("not a number of seconds");
    env.assert_outbox_empty().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_holds_for_the_next_process_too() {
    let env = Env::start().await;
    env.sandbox.inject(fault(Route::Call, rate_limited(5), 1));
    let refused_at = Instant::now();
    env.call(&["--wait", "1"]).await.exited(75);
    assert_eq!(statuses(&env, Route::Call), vec![429]);
    // A new call from a new process goes at once; the refused one waits its 5 s.
    env.call_from("+79160000001", &[]).await.ok();
    assert!(
        refused_at.elapsed() < Duration::from_secs(5),
        "too slow to tell"
    );
    assert_eq!(
        statuses(&env, Route::Call),
        vec![429, 200],
        "the refused call was not tried again before its time"
    );
    let jobs = env.jobs().await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
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
    env.sandbox
        .inject(fault(Route::Any, FaultKind::ServerError, 100_000));
    env.call(&["--wait", "5"]).await.exited(75);
    let attempts = env.count(Route::Call);
    assert!(
        (1..=5).contains(&attempts),
        "{attempts} attempts at integrations/call"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_still_being_written_is_attached_once_it_stops_growing() {
    let env = Env::start().await;
    env.call(&[]).await.ok();
    let wav = env.recording("growing.wav", 1_500_000);
    // The first upload goes slowly, and the softphone writes more meanwhile.
    env.sandbox.inject(fault(
        Route::Upload,
        FaultKind::Throttle {
            bytes_per_sec: 1024 * 1024,
        },
        1,
    ));
    let files = env.home().join("sandbox-files");
    let growing = wav.clone();
    let writer = tokio::spawn(async move {
        let receiving = || std::fs::read_dir(&files).is_ok_and(|mut d| d.next().is_some());
        wait_until("an upload to begin", Duration::from_secs(20), receiving).await;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&growing)
            .unwrap();
        std::io::Write::write_all(&mut f, &[0_u8; 100_000]).unwrap();
    });
    let out = env
        .attach(&wav, &["--task", "1", "--json", "--wait", "60"])
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
    let stored = file_sizes(&env.home().join("sandbox-files"));
    assert!(
        stored.contains(&size),
        "the whole file arrived: {stored:?} against {size}"
    );
}
