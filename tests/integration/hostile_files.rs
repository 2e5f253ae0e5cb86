//! Hostile and broken surroundings, through the real binary: a kept recording replaced by a
//! pipe or swapped for a link to another file after its check, a settings file that is a
//! pipe, a lock file that is a pipe, an outbox locked at start, a restart in the middle of a
//! call. Nothing may block, nothing but the checked file may be uploaded, and a call is
//! registered once.

#![cfg(unix)]

use std::path::Path;
use std::time::{Duration, Instant};

use pyrus_phone::sandbox::Route;

use crate::support::Env;

/// An address where nothing listens: Pyrus is unreachable.
fn nowhere() -> String {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    format!("http://127.0.0.1:{port}/accounts/api/v4/auth")
}

fn mkfifo(path: &Path) {
    rustix::fs::mkfifoat(rustix::fs::CWD, path, rustix::fs::Mode::RWXU).unwrap();
}

/// Registers the call `external`, then keeps an attach of `wav` to it while Pyrus is
/// unreachable; returns the kept job's id.
async fn keep_an_attach(env: &mut Env, external: &str, wav: &Path) -> String {
    env.call(&["--external-id", external]).await.ok();
    let real = std::mem::replace(&mut env.auth_url, nowhere());
    env.attach(wav, &["--external-id", external, "--wait", "1"])
        .await
        .exited(75);
    env.auth_url = real;
    let jobs = env.jobs().await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["kind"], "attach");
    jobs[0]["id"].as_i64().unwrap().to_string()
}

/// The state and error code of the job `id`.
async fn job_outcome(env: &Env, id: &str) -> (String, String) {
    let jobs = env.jobs().await;
    let job = jobs
        .iter()
        .find(|j| j["id"].as_i64().unwrap().to_string() == id)
        .unwrap_or_else(|| panic!("job {id} is not open: {jobs:?}"));
    (
        job["state"].as_str().unwrap_or_default().to_owned(),
        job["error_code"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_swapped_for_a_link_after_its_check_is_never_uploaded() {
    let mut env = Env::start().await;
    let wav = env.recording("rec.wav", 8_000);
    let elsewhere = env.recording("someone-elses.wav", 4_000);
    let id = keep_an_attach(&mut env, "swap-1", &wav).await;
    // Another file goes by the recording's name now.
    std::fs::remove_file(&wav).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &wav).unwrap();
    env.run(&["queue", "retry", &id, "--wait", "10"])
        .await
        .exited(3)
        .stderr_says("replaced after it was checked");
    assert_eq!(env.count(Route::Upload), 0, "nothing was uploaded");
    assert_eq!(
        job_outcome(&env, &id).await,
        ("failed".to_owned(), "file_replaced".to_owned())
    );
    assert!(crate::support::recordings(&env.sandbox.tasks()[0]).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipe_in_a_kept_recording_s_place_holds_up_nothing() {
    let mut env = Env::start().await;
    let wav = env.recording("rec.wav", 8_000);
    let id = keep_an_attach(&mut env, "fifo-1", &wav).await;
    std::fs::remove_file(&wav).unwrap();
    mkfifo(&wav);
    // Nobody writes into the pipe: an open that waited for a writer would never return.
    let started = Instant::now();
    env.run(&["queue", "retry", &id, "--wait", "10"])
        .await
        .exited(3)
        .stderr_says("not an ordinary file");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the wait holds"
    );
    assert_eq!(
        job_outcome(&env, &id).await,
        ("failed".to_owned(), "not_a_file".to_owned())
    );
    // Calls go on being registered meanwhile.
    env.call_from(
        "+79990000001",
        &["--external-id", "after-fifo", "--wait", "10"],
    )
    .await
    .ok();
    assert_eq!(env.sandbox.tasks().len(), 2);
    assert_eq!(env.count(Route::Upload), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settings_file_that_is_a_pipe_is_a_clear_error_at_once() {
    let env = Env::start().await;
    let settings = env.home().join("config").join("settings.toml");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    if settings.exists() {
        std::fs::remove_file(&settings).unwrap();
    }
    mkfifo(&settings);
    let started = Instant::now();
    let out = env.call(&["--wait", "3"]).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "answered in {:?}: {out:?}",
        started.elapsed()
    );
    assert_ne!(out.code, 0, "{out:?}");
    out.stderr_says("a pipe (FIFO), not an ordinary file");
    out.stderr_says("settings.toml");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipe_named_as_a_process_s_lock_file_holds_up_no_open() {
    let env = Env::start().await;
    env.call(&["--external-id", "before"]).await.ok();
    let owners = env.home().join("data").join("outbox.sqlite3.owners");
    std::fs::create_dir_all(&owners).unwrap();
    mkfifo(&owners.join("99999.lock"));
    env.call_from("+79990000001", &["--external-id", "after", "--wait", "10"])
        .await
        .ok();
    assert_eq!(env.sandbox.tasks().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbox_locked_at_start_heals_and_the_refused_event_is_kept() {
    use crate::support::headless::Headless;
    use crate::support::hook::event;
    let env = Env::start().await;
    env.write_settings(crate::support::LINE_SETTINGS);
    // The outbox exists; another program holds it locked for longer than a write waits.
    env.run(&["queue"]).await.ok();
    let db = env.home().join("data").join("outbox.sqlite3");
    let locker = rusqlite::Connection::open(&db).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let locked_at = Instant::now();
    let instance = Headless::start(&env, &[]).await;
    // While it is held, an event is refused.
    assert_eq!(
        instance.post(&event("ring", "+79161114400", "while-locked")),
        503
    );
    // Held for 15 s in all, then released: the instance opens its outbox by itself, and
    // events are stored again.
    let held = Duration::from_secs(15);
    tokio::time::sleep(held.saturating_sub(locked_at.elapsed())).await;
    locker.execute_batch("COMMIT").unwrap();
    drop(locker);
    env.run(&[
        "event",
        "ring",
        "+79161114401",
        "--call-id",
        "kept-by-event",
    ])
    .await;
    crate::support::wait_until("the outbox to open again", Duration::from_secs(10), || {
        instance.post(&event("ring", "+79161114402", "after-lock")) == 202
    })
    .await;
    crate::support::wait_until(
        "both events to be registered",
        Duration::from_secs(20),
        || {
            let ids: Vec<String> = env
                .sandbox
                .tasks()
                .iter()
                .flat_map(|t| t.external_ids.clone())
                .collect();
            ids.contains(&"after-lock".to_owned()) && ids.contains(&"kept-by-event".to_owned())
        },
    )
    .await;
    instance.stop();
}

/// The outbox's calls: (external id, ended) for each.
fn stored_calls(env: &Env) -> Vec<(String, bool)> {
    let db = env.home().join("data").join("outbox.sqlite3");
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT external_id, ended_ms IS NOT NULL FROM calls ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_rung_and_answered_before_a_restart_and_ended_after_it_is_one_call() {
    use crate::support::headless::Headless;
    let env = Env::start().await;
    env.write_settings(crate::support::LINE_SETTINGS);
    // MicroSIP's way: the number only, no call id.
    let number = "89161115500";
    let instance = Headless::start(&env, &[]).await;
    env.run(&["event", "ring", number]).await.ok();
    env.run(&["event", "answer", number]).await.ok();
    env.wait_for_tasks(1, "the call to be registered", 20).await;
    instance.stop();
    let instance = Headless::start(&env, &[]).await;
    env.run(&["event", "end", number]).await.ok();
    crate::support::wait_until("the end to be noted", Duration::from_secs(20), || {
        stored_calls(&env).iter().any(|(_, ended)| *ended)
    })
    .await;
    let calls = stored_calls(&env);
    assert_eq!(
        calls.len(),
        1,
        "one call, not a second one for the end: {calls:?}"
    );
    assert_eq!(env.sandbox.tasks().len(), 1);
    assert_eq!(
        env.sandbox.tasks()[0].external_ids,
        vec![calls[0].0.clone()]
    );
    instance.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_hook_s_delivery_id_reaches_the_outbox() {
    // The store keeps an event sent again under one delivery id once (its unit test); here
    // the id goes from `event` through the hook into the outbox, as it must for that.
    use crate::support::headless::Headless;
    let env = Env::start().await;
    env.write_settings(crate::support::LINE_SETTINGS);
    let instance = Headless::start(&env, &[]).await;
    env.run(&["event", "ring", "+79161116600"]).await.ok();
    let db = env.home().join("data").join("outbox.sqlite3");
    let conn = rusqlite::Connection::open(db).unwrap();
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM deliveries")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(ids[0].starts_with("d-") && ids[0].len() == 34, "{ids:?}");
    instance.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipe_where_the_outbox_goes_is_named_not_opened() {
    let env = Env::start().await;
    let data = env.home().join("data");
    std::fs::create_dir_all(&data).unwrap();
    mkfifo(&data.join("outbox.sqlite3-wal"));
    let out = env.call(&["--wait", "3"]).await;
    assert_ne!(out.code, 0, "{out:?}");
    out.stderr_says("a pipe (FIFO), not an ordinary file: move it away");
    out.stderr_says("outbox.sqlite3-wal");
    assert!(env.sandbox.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_bounds_the_whole_run_whatever_blocks() {
    let env = Env::start().await;
    env.run(&["queue"]).await.ok();
    // Another program holds the outbox for longer than a write waits for it (10 s).
    let db = env.home().join("data").join("outbox.sqlite3");
    let locker = rusqlite::Connection::open(&db).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let started = Instant::now();
    let out = env.call(&["--wait", "1"]).await.exited(75);
    let took = started.elapsed();
    out.stderr_says("did not finish within --wait 1 s");
    // The wait, and the few seconds a run has to close: not the outbox's 10 s lock wait.
    assert!(took < Duration::from_secs(9), "the run took {took:?}");
    locker.execute_batch("COMMIT").unwrap();
}
