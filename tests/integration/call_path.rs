//! The call path an agent relies on, through the real binary running `--headless`: every
//! number normalised alike whichever way it arrives, a heard call kept (not dropped) until
//! this line's number is set, no burst of stale tabs after an outage, no zombies from opened
//! links, and a registration that never waits behind an upload.
//!
//! Linux and the BSDs only (`main.rs` gates the module): the instances open tasks through
//! `$BROWSER`, the browser stand-in, which the binary honours there only. Tests that read
//! `/proc` are Linux only.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pyrus_phone::sandbox::{FaultKind, Route};

use crate::support::browser::unix_now;
use crate::support::headless::Headless;
use crate::support::hook::{HookClient, event};
use crate::support::{Env, LINE_SETTINGS, fault, file_sizes, recordings, wait_until, wav_header};

/// Both numbers of the sandbox's task `i`.
fn numbers(env: &Env, i: usize) -> (String, String) {
    let task = &env.sandbox.tasks()[i];
    (task.from_number.clone(), task.to_number.clone())
}

/// The pair `numbers` returns, from literals.
fn pair(from: &str, to: &str) -> (String, String) {
    (from.to_owned(), to.to_owned())
}

/// Waits until a call with the external id `id` is registered.
async fn registered(env: &Env, id: &str, secs: u64) {
    let what = format!("the call {id} to be registered");
    wait_until(&what, Duration::from_secs(secs), || {
        registrations(env).contains_key(id)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_lands_in_the_same_task_whichever_way_its_numbers_arrive() {
    let env = Env::start().await;
    env.write_settings("[defaults]\ncountry = \"RU\"\nline_number = \"8 495 300-90-80\"\n");
    let instance = Headless::start(&env, &[]).await;

    // MicroSIP's command hook, numbers as the softphone prints them.
    for kind in ["ring", "end"] {
        env.run(&["event", kind, "89161112200"]).await.ok();
    }
    env.wait_for_tasks(1, "the heard call to be registered", 15)
        .await;
    assert_eq!(numbers(&env, 0), pair("+79161112200", "+74953009080"));
    let task = env.sandbox.tasks()[0].clone();

    // Typed on the command line the same way: the same task.
    let out = env
        .run(&[
            "call",
            "--from",
            "89161112200",
            "--to",
            "84953009080",
            "--json",
        ])
        .await
        .ok();
    let json = out.json();
    assert_eq!(json["task_id"], task.id);
    assert_eq!(json["is_new_task"], false);

    // An outgoing call from MicroSIP: the agent's line calling the customer, in E.164.
    env.run(&["event", "outgoing", "--call-id", "o-1", "8 916 111-22-00"])
        .await
        .ok();
    env.wait_for_tasks(2, "the outgoing call to be registered", 15)
        .await;
    let tasks = env.sandbox.tasks();
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert_eq!(numbers(&env, 1), pair("+74953009080", "+79161112200"));
    instance.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heard_call_without_this_lines_number_is_kept_and_sent_once_it_is_set() {
    let env = Env::start().await;
    env.write_settings("[defaults]\ncountry = \"RU\"\n");
    let instance = Headless::start(&env, &[]).await;
    for kind in ["ring", "end"] {
        env.run(&["event", kind, "--call-id", "held-1", "89161112200"])
            .await
            .ok();
    }
    // Kept in the outbox, saying what it waits for.
    let is_held = |j: &serde_json::Value| j["external_id"] == "held-1";
    let held = env
        .wait_for_jobs("the heard call in the outbox", 15, |jobs| {
            jobs.iter().any(is_held)
        })
        .await
        .into_iter()
        .find(is_held)
        .unwrap();
    assert_eq!(held["state"], "held", "{held}");
    assert_eq!(held["error_code"], "line_number_missing", "{held}");
    assert!(
        held["error_message"]
            .as_str()
            .unwrap()
            .contains("line's number"),
        "{held}"
    );
    assert_eq!(
        env.count(Route::Call),
        0,
        "nothing sent with a made-up number"
    );
    instance.stop();

    // The number is set; the next start sends the call, once.
    env.write_settings("[defaults]\ncountry = \"RU\"\nline_number = \"8 495 300-90-80\"\n");
    let instance = Headless::start(&env, &[]).await;
    env.wait_for_tasks(1, "the held call to be registered", 15)
        .await;
    assert_eq!(numbers(&env, 0), pair("+79161112200", "+74953009080"));
    env.assert_outbox_empty().await;
    assert_eq!(env.count(Route::Call), 1, "registered once");
    instance.stop();
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_that_ended_during_an_outage_open_no_tabs_and_links_leave_no_zombies() {
    let env = Env::start().await;
    env.write_settings(LINE_SETTINGS);
    let instance = Headless::start(&env, &[]).await;
    // Pyrus answers 500 to the first five registrations.
    env.sandbox
        .inject(fault(Route::Call, FaultKind::ServerError, 5));
    for i in 0..5 {
        for kind in ["ring", "end"] {
            let body = event(kind, &format!("+7916111220{i}"), &format!("out-{i}"));
            assert_eq!(instance.post(&body), 202);
        }
    }
    env.wait_for_tasks(
        5,
        "the kept calls to be registered once Pyrus came back",
        30,
    )
    .await;
    // A call that is still ringing pops; it is the only tab, and it comes after the five.
    assert_eq!(instance.post(&event("ring", "+79161112299", "live")), 202);
    wait_until(
        "the ringing call's task to open",
        Duration::from_secs(15),
        || !env.opened().is_empty(),
    )
    .await;
    let opened = env.opened();
    assert_eq!(opened.len(), 1, "one tab, not a burst: {opened:?}");
    let live = env
        .sandbox
        .tasks()
        .into_iter()
        .find(|t| t.from_number == "+79161112299")
        .unwrap();
    assert!(
        opened[0].url.ends_with(&format!("#id{}", live.id)),
        "{opened:?}"
    );

    // Twenty more ringing calls open twenty tabs; every handler process is reaped.
    for i in 0..20 {
        let body = event("ring", &format!("+7916222{i:04}"), &format!("z-{i}"));
        assert_eq!(instance.post(&body), 202);
    }
    wait_until(
        "every ringing call's task to open",
        Duration::from_secs(30),
        || env.opened().len() == 21,
    )
    .await;
    let pid = instance.pid();
    wait_until(
        "every link handler to be reaped",
        Duration::from_secs(10),
        || zombies_of(pid) == 0,
    )
    .await;
    instance.stop();
}

/// Writes a WAV of `bytes` of silence (a long call's recording) in `dir` under MicroSIP's
/// file name for `number`.
fn long_recording(dir: &Path, number: &str, bytes: u32) -> PathBuf {
    let path = dir.join(format!("20261129-120000-{number}-out.wav"));
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(&wav_header(bytes)).unwrap();
    f.set_len(44 + u64::from(bytes)).unwrap();
    path
}

/// The largest file the sandbox is receiving or has received.
fn largest_upload(dir: &Path) -> u64 {
    file_sizes(dir).into_iter().max().unwrap_or(0)
}

/// Rings `number` through the HTTP hook and returns how long its task took to open.
async fn pop_delay(env: &Env, instance: &Headless, number: &str, call_id: &str) -> f64 {
    let before = env.opened().len();
    let sent = unix_now();
    assert_eq!(instance.post(&event("ring", number, call_id)), 202);
    let what = format!("the task of {call_id} to open");
    let opened = wait_until(&what, Duration::from_secs(30), || {
        let opened = env.opened();
        (opened.len() > before).then_some(opened)
    })
    .await;
    opened[before].at - sent
}

/// A home with a recordings folder and this line's number; the folder.
fn with_recordings(env: &Env) -> String {
    let recordings = env.home().join("recordings");
    std::fs::create_dir_all(&recordings).unwrap();
    env.write_settings(LINE_SETTINGS);
    recordings.to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ringing_call_opens_its_task_while_a_long_recording_uploads() {
    let env = Env::start().await;
    let folder = with_recordings(&env);
    let instance = Headless::start(&env, &["--recordings", &folder]).await;
    let idle = pop_delay(&env, &instance, "+79160000001", "idle").await;

    // A 48 MiB recording goes up at ~4 MiB/s, as from a slow office uplink.
    let throttle = FaultKind::Throttle {
        bytes_per_sec: 4 * 1024 * 1024,
    };
    env.sandbox.inject(fault(Route::Upload, throttle, 1));
    long_recording(Path::new(&folder), "89160000002", 48 * 1024 * 1024);
    for kind in ["ring", "answer", "end"] {
        assert_eq!(instance.post(&event(kind, "+79160000002", "long")), 202);
    }
    let files = env.home().join("sandbox-files");
    wait_until("the upload to get going", Duration::from_secs(60), || {
        largest_upload(&files) > 4 * 1024 * 1024
    })
    .await;
    let busy = pop_delay(&env, &instance, "+79160000003", "busy").await;
    let uploading = largest_upload(&files) < 44 * 1024 * 1024;
    eprintln!("pop delay: idle {idle:.3} s, during a 48 MiB upload {busy:.3} s");
    assert!(
        uploading,
        "the upload finished before the call rang; nothing was shown"
    );
    assert!(
        busy < idle + 0.5,
        "the pop waited behind the upload: {busy:.3} s against {idle:.3} s idle"
    );
    wait_until(
        "the recording to be attached",
        Duration::from_secs(60),
        || env.count(Route::Attach) == 1,
    )
    .await;
    instance.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_pickup_survives_a_crash_and_attaches_once() {
    let env = Env::start().await;
    let folder = with_recordings(&env);
    let instance = Headless::start(&env, &["--recordings", &folder]).await;
    // The end is heard twice (a softphone and a desk phone both report it).
    for kind in ["ring", "answer", "end", "end"] {
        assert_eq!(instance.post(&event(kind, "+79160000009", "crash")), 202);
    }
    // The call has ended: its pickup is on disk, and at work (looking for a recording that
    // is not there yet), when the crash comes.
    let is_pickup = |j: &serde_json::Value| j["kind"] == "pickup" && j["external_id"] == "crash";
    let pickups: Vec<_> = env
        .wait_for_jobs("the call's pickup at work", 15, |jobs| {
            jobs.iter().any(|j| is_pickup(j) && j["state"] == "running")
        })
        .await
        .into_iter()
        .filter(is_pickup)
        .collect();
    assert_eq!(pickups.len(), 1, "one pickup per call: {pickups:?}");
    assert_eq!(pickups[0]["state"], "running", "{pickups:?}");
    instance.crash();
    assert_eq!(
        env.count(Route::Attach),
        0,
        "nothing attached before the crash"
    );
    // The queue tells a claim whose process is gone from one at work.
    let left = env.jobs().await;
    let pickup = left.iter().find(|j| j["kind"] == "pickup").unwrap();
    assert_eq!(pickup["interrupted"], true, "{pickup}");
    let text = env.run(&["queue"]).await;
    assert!(text.stdout.contains("interrupted"), "{text:?}");

    // The softphone finishes the file after the crash; the next start picks it up.
    long_recording(Path::new(&folder), "89160000009", 64 * 1024);
    let instance = Headless::start(&env, &["--recordings", &folder]).await;
    wait_until(
        "the recording of the call cut short by the crash to be attached",
        Duration::from_secs(60),
        || env.count(Route::Attach) >= 1,
    )
    .await;
    env.wait_for_jobs("no work left over", 15, <[_]>::is_empty)
        .await;
    assert_eq!(env.count(Route::Attach), 1, "attached once");
    assert_eq!(env.count(Route::Upload), 1, "uploaded once");
    let tasks = env.sandbox.tasks();
    assert_eq!(tasks.len(), 1, "one call, one task");
    let attached: Vec<_> = recordings(&tasks[0])
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    assert_eq!(
        attached,
        vec!["20261129-120000-89160000009-out.wav".to_owned()]
    );
    instance.stop();
}

/// The `/proc` entries of the pyrus-phone processes running for `home`.
#[cfg(target_os = "linux")]
fn processes_for(home: &Path) -> Vec<PathBuf> {
    let wanted = format!("PYRUS_PHONE_HOME={}", home.display());
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_pyrus-phone")).unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| std::fs::read_link(p.join("exe")).is_ok_and(|p| p == exe))
        .filter(|p| {
            std::fs::read(p.join("environ")).is_ok_and(|environ| {
                environ
                    .split(|b| *b == 0)
                    .any(|var| var == wanted.as_bytes())
            })
        })
        .collect()
}

/// How many pyrus-phone processes run for `home`.
#[cfg(target_os = "linux")]
fn instances_for(home: &Path) -> usize {
    processes_for(home).len()
}

/// Command lines of the pyrus-phone processes running for `home`.
#[cfg(target_os = "linux")]
fn command_lines_for(home: &Path) -> Vec<String> {
    processes_for(home)
        .into_iter()
        .filter_map(|p| std::fs::read(p.join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .collect()
}

/// Children of `pid` that have exited but were never waited for.
#[cfg(target_os = "linux")]
fn zombies_of(pid: u32) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| {
            // "pid (comm) S ppid …": the fields after the command's closing bracket.
            let Some((_, rest)) = stat.rsplit_once(") ") else {
                return false;
            };
            let mut fields = rest.split_whitespace();
            let state = fields.next();
            let ppid = fields.next().and_then(|p| p.parse::<u32>().ok());
            state == Some("Z") && ppid == Some(pid)
        })
        .count()
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_per_home_even_when_the_hook_port_is_taken() {
    let env = Env::start().await;
    env.write_settings(LINE_SETTINGS);
    // Another program holds the configured port.
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = squatter.local_addr().unwrap().port().to_string();
    let instance = Headless::start(&env, &["--hook-port", &port]).await;
    assert_ne!(instance.hook.port.to_string(), port, "it listens elsewhere");
    for i in 0..3 {
        env.run(&["event", "ring", &format!("+7916333000{i}")])
            .await
            .ok();
    }
    env.wait_for_tasks(3, "the events to be registered", 15)
        .await;
    assert_eq!(
        instances_for(env.home()),
        1,
        "no second instance was started"
    );

    // A second headless start on the same home says who runs and stops.
    let started = std::time::Instant::now();
    let second = env.run(&["--headless", "--hook-port", "0"]).await;
    assert!(started.elapsed() < Duration::from_secs(10), "{second:?}");
    assert_eq!(second.code, 0, "{second:?}");
    assert!(
        second.stderr.contains(&format!(
            "already runs for this user and home (process {}",
            instance.pid()
        )),
        "{second:?}"
    );
    // The first keeps serving.
    assert_eq!(
        instance.post(r#"{"event":"ring","number":"+79163330009"}"#),
        202
    );
    env.wait_for_tasks(4, "the first instance to keep serving", 15)
        .await;
    assert_eq!(instances_for(env.home()), 1);
    drop(squatter);
    instance.stop();
}

/// Every file and folder under `dir` that its group or others may use.
#[cfg(target_os = "linux")]
fn not_private(dir: &Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut open = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return open;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.permissions().mode() & 0o077 != 0 {
            open.push(format!(
                "{:o} {}",
                meta.permissions().mode(),
                path.display()
            ));
        }
        if meta.is_dir() {
            open.extend(not_private(&path));
        }
    }
    open
}

/// A home with this line's number and no display: a command hook starts a headless
/// instance of its own.
fn without_a_display(env: &mut Env, settings: &str) {
    env.write_settings(settings);
    env.removed.push("DISPLAY".into());
    env.removed.push("WAYLAND_DISPLAY".into());
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_app_writes_is_private_and_no_number_is_on_a_command_line() {
    let mut env = Env::start().await;
    without_a_display(&mut env, LINE_SETTINGS);
    // No instance runs: the command hook starts one and hands it the call.
    env.run(&["event", "ring", "--call-id", "private-1", "89161112200"])
        .await
        .ok();
    env.wait_for_tasks(1, "the handed-over call to be registered", 20)
        .await;
    let lines = command_lines_for(env.home());
    assert!(!lines.is_empty(), "the instance it started is running");
    assert!(
        lines.iter().all(|l| !l.contains("9161112200")),
        "a number on a command line: {lines:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("private.wav");
    crate::support::write_wav(&wav, 800);
    env.attach(&wav, &["--external-id", "private-1"]).await.ok();
    let run = crate::support::headless::runtime_dir(env.home());
    let started = pyrus_phone::sources::runtime_file::read(&run).unwrap();
    crate::support::headless::terminate(started.pid);
    wait_until("the instance to stop", Duration::from_secs(10), || {
        instances_for(env.home()) == 0
    })
    .await;
    let mut open = Vec::new();
    for dir in ["config", "data", "logs", "run"] {
        let path = env.home().join(dir);
        assert!(path.exists() || dir == "run", "{dir} was never written");
        open.extend(not_private(&path));
        if path.exists() {
            open.extend(
                not_private(env.home())
                    .into_iter()
                    .filter(|p| p.ends_with(&format!("/{dir}"))),
            );
        }
    }
    assert!(open.is_empty(), "readable by others: {open:#?}");
}

/// Rings `n` calls (`{prefix}-1`…) through the hook from 8 threads at once; returns the
/// call ids whose ring was acknowledged (202).
fn ring_from_eight_threads(instance: &Headless, prefix: &str, n: usize) -> Vec<String> {
    let hook = HookClient {
        timeout: Duration::from_secs(20),
        ..instance.hook.clone()
    };
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (hook, prefix) = (hook.clone(), prefix.to_owned());
            std::thread::Builder::new()
                .name(format!("ringer-{t}"))
                .spawn(move || {
                    let mut acknowledged = Vec::new();
                    for i in (t..n).step_by(8) {
                        let id = format!("{prefix}-{i}");
                        if hook.post(&event("ring", &format!("+7916{i:07}"), &id)) == 202 {
                            acknowledged.push(id);
                        }
                    }
                    acknowledged
                })
                .unwrap()
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect()
}

/// Registrations the sandbox received per external id.
fn registrations(env: &Env) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for task in env.sandbox.tasks() {
        for id in task.external_ids {
            *seen.entry(id).or_insert(0) += 1;
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_call_survives_a_kill_or_a_stop() {
    let env = Env::start().await;
    env.write_settings(LINE_SETTINGS);
    // Pyrus is slow: when the process goes, most calls are not registered yet.
    let slow = FaultKind::Slow { delay_ms: 100 };
    env.sandbox.inject(fault(Route::Call, slow, 10_000));
    for (how, prefix) in [("kill", "k"), ("stop", "t")] {
        let requests_before = env.count(Route::Call);
        let instance = Headless::start(&env, &[]).await;
        let acknowledged =
            tokio::task::block_in_place(|| ring_from_eight_threads(&instance, prefix, 100));
        assert_eq!(
            acknowledged.len(),
            100,
            "{how}: every ring was acknowledged"
        );
        let of_these = |seen: &HashMap<String, usize>| {
            seen.keys()
                .filter(|id| id.starts_with(&format!("{prefix}-")))
                .count()
        };
        let registered_before = of_these(&registrations(&env));
        if how == "kill" {
            instance.crash();
        } else {
            instance.stop();
        }
        // The next start handles what was acknowledged and not yet sent.
        let instance = Headless::start(&env, &[]).await;
        let what = format!("{how}: every acknowledged call to be registered");
        wait_until(&what, Duration::from_secs(120), || {
            let seen = registrations(&env);
            acknowledged.iter().all(|id| seen.contains_key(id))
        })
        .await;
        assert_eq!(
            of_these(&registrations(&env)),
            100,
            "{how}: one task per call"
        );
        // A registration in flight when the process is killed is sent again by the next
        // start (it lands as a comment on the same task); one runs at a time.
        // A stop sees registrations in flight through: none is sent twice.
        wait_until(
            "the sandbox to note every registration",
            Duration::from_secs(5),
            || env.count(Route::Call) >= requests_before + 100,
        )
        .await;
        let repeated = env.count(Route::Call) - requests_before - 100;
        eprintln!("{how}: {registered_before} of 100 registered before; {repeated} sent twice");
        let allowed = usize::from(how == "kill");
        assert!(repeated <= allowed, "{how}: {repeated} calls sent twice");
        instance.stop();
    }
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_hook_is_told_when_its_event_was_not_taken_and_the_event_is_kept() {
    let mut env = Env::start().await;
    // A broken settings file: the instance the hook starts stops at once.
    without_a_display(&mut env, "[defaults\nline_number = ");
    let out = env
        .run(&["event", "ring", "--call-id", "kept-1", "89161112200"])
        .await
        .exited(75);
    out.stderr_says("stopped as it started");
    out.stderr_says("The event is kept");
    assert_eq!(instances_for(env.home()), 0);

    // The settings are fixed; the next start handles the kept event first.
    env.write_settings(LINE_SETTINGS);
    let instance = Headless::start(&env, &[]).await;
    registered(&env, "kept-1", 20).await;
    instance.stop();
}

/// Unmounts a folder when dropped.
struct Mounted(PathBuf);

impl Mounted {
    /// Mounts a 2 MiB disk of its own at `dir` (root only: tests/run.sh runs as root).
    fn small_disk(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(
            mounted.success(),
            "mounting a small disk needs root (tests/run.sh runs as root)"
        );
        Self(dir.to_path_buf())
    }

    /// Fills the disk up; the file that fills it.
    fn fill(&self) -> PathBuf {
        let filler = self.0.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0_u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        f.sync_all().ok();
        filler
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status()
            .ok();
    }
}

#[ignore = "system tier (tests/run.sh): needs root, to mount a small tmpfs"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_events_with_the_reason_and_loses_nothing_acknowledged() {
    crate::support::system_tier("root, to mount a small tmpfs");
    let env = Env::start().await;
    env.write_settings(LINE_SETTINGS);
    // The outbox lives on a small disk of its own.
    let disk = Mounted::small_disk(&env.home().join("data"));
    let instance = Headless::start(&env, &[]).await;
    let ring = |id: &str, n: u32| event("ring", &format!("+7916{n:07}"), id);
    assert_eq!(instance.post(&ring("before-full", 1)), 202);
    registered(&env, "before-full", 15).await;

    // The disk fills up.
    let filler = disk.fill();
    let reply = instance.hook.post_reply(&ring("while-full", 2));
    assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
    assert!(reply.contains("NOT accepted"), "{reply}");
    assert!(reply.contains("disk is full"), "{reply}");
    assert!(reply.contains("outbox.sqlite3"), "which file: {reply}");
    let out = env
        .run(&[
            "event",
            "ring",
            "--call-id",
            "hook-while-full",
            "89160000003",
        ])
        .await
        .exited(75);
    out.stderr_says("disk is full");

    // Space again: events are taken, and what was acknowledged before is all there.
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(instance.post(&ring("after-full", 4)), 202);
    registered(&env, "after-full", 30).await;
    let seen = registrations(&env);
    assert!(seen.contains_key("before-full"));
    assert!(
        !seen.contains_key("while-full"),
        "a refused event was not taken"
    );
    instance.stop();
}

#[ignore = "system tier (tests/run.sh): needs root, to mount a small tmpfs"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_outbox_is_named_and_no_event_is_taken_into_it() {
    crate::support::system_tier("root, to mount a small tmpfs");
    let mut env = Env::start().await;
    without_a_display(&mut env, LINE_SETTINGS);
    let data = env.home().join("data");
    let _mounted = Mounted::small_disk(&data);
    // An outbox made earlier, then the disk turned read-only (root ignores file modes).
    env.run(&["queue"]).await.ok();
    let remounted = std::process::Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(&data)
        .status()
        .unwrap();
    assert!(remounted.success());

    // The instance runs and refuses heard calls with the reason, instead of taking them
    // into nowhere (the window shows it too).
    refused_with_reason(&env, "read-only").await;
}

/// Starts an instance whose outbox cannot be used and checks that heard calls are refused,
/// saying `why`, by the HTTP hook (503) and the command hook (exit 75).
async fn refused_with_reason(env: &Env, why: &str) {
    let instance = Headless::start(env, &[]).await;
    let reply = instance
        .hook
        .post_reply(&event("ring", "+79161112200", "refused-1"));
    assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
    assert!(
        reply.contains("NOT accepted") && reply.contains(why),
        "{reply}"
    );
    let out = env
        .run(&["event", "ring", "--call-id", "refused-2", "89161112200"])
        .await
        .exited(75);
    out.stderr_says(why);
    assert_eq!(env.sandbox.tasks().len(), 0);
    instance.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_outbox_is_named_and_no_event_is_taken_into_it() {
    let env = Env::start().await;
    env.write_settings(LINE_SETTINGS);
    let data = env.home().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::File::create(data.join("outbox.sqlite3"))
        .unwrap()
        .write_all(&[0x5a_u8; 8192])
        .unwrap();
    refused_with_reason(&env, "file is damaged").await;
}

#[ignore = "system tier (tests/run.sh): needs root, to mount a small tmpfs"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_stored_but_not_finished_on_a_full_disk_exits_75_not_1() {
    crate::support::system_tier("root, to mount a small tmpfs");
    let env = Env::start().await;
    let disk = Mounted::small_disk(&env.home().join("data"));
    // Pyrus answers slowly; meanwhile the disk fills up.
    let slow = FaultKind::Slow { delay_ms: 3_000 };
    env.sandbox.inject(fault(Route::Call, slow, 1));
    let call = env.command(&[
        "call",
        "--from",
        "+79161112200",
        "--to",
        "+74953009080",
        "--external-id",
        "stored-1",
        "--wait",
        "20",
    ]);
    let running = tokio::task::spawn_blocking(move || {
        let mut call = call;
        call.output().unwrap()
    });
    env.wait_for_jobs("the call to be stored and sent", 10, |jobs| {
        jobs.iter()
            .any(|j| j["external_id"] == "stored-1" && j["state"] == "running")
    })
    .await;
    let filler = disk.fill();
    let out = running.await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{stderr}");
    assert!(stderr.contains("disk is full"), "{stderr}");
    assert!(stderr.contains("kept"), "{stderr}");
    std::fs::remove_file(&filler).unwrap();
    // The call is still there for the next run.
    let left = env.jobs().await;
    assert!(
        left.iter().any(|j| j["external_id"] == "stored-1"),
        "{left:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_kept_by_another_process_while_the_instance_runs_is_handled_without_a_restart() {
    use pyrus_phone::domain::{CallEvent, CallEventWire};
    let env = Env::start().await;
    env.write_settings(LINE_SETTINGS);
    let instance = Headless::start(&env, &[]).await;
    // What a command hook keeps when the instance does not take its event in time.
    let event = CallEvent::parse(
        "ring",
        "+79161112233",
        Some("kept-1"),
        None,
        None,
        "command",
    )
    .unwrap();
    let json = serde_json::to_string(&CallEventWire::kept(&event)).unwrap();
    let database = env.home().join("data").join("outbox.sqlite3");
    let mut store = pyrus_phone::outbox::store::Store::open(&database).unwrap();
    store
        .journal(&[(json, "pp-kept-1".to_owned(), None)], &[], None, 0)
        .unwrap();
    drop(store);
    // The running instance finds it: no restart, no other event.
    env.wait_for_tasks(1, "the kept event's call to be registered", 15)
        .await;
    assert_eq!(env.sandbox.tasks()[0].external_ids, ["kept-1"]);
    instance.stop();
}
