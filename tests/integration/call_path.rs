//! The call path an agent relies on, through the real binary running `--headless`: every
//! number normalised alike whichever way it arrives, a heard call kept (not dropped) until
//! this line's number is set, no burst of stale tabs after an outage, no zombies from opened
//! links, and a registration that never waits behind an upload.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pyrus_phone::sandbox::{Fault, FaultKind, Route};

use crate::support::{Env, wait_for, wav_header};

/// A headless instance on its own port and home, with a browser shim that logs each link
/// it is asked to open with the time (Unix seconds) it was asked.
struct Headless {
    child: std::process::Child,
    port: u16,
    token: String,
    opened: PathBuf,
}

fn write_settings(env: &Env, toml: &str) {
    let dir = env.home().join("config");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::File::create(dir.join("settings.toml"))
        .unwrap()
        .write_all(toml.as_bytes())
        .unwrap();
}

impl Headless {
    async fn start(env: &mut Env, extra: &[&str]) -> Self {
        let opened = env.home().join("opened.txt");
        let shim = env.home().join("browser.sh");
        std::fs::File::create(&shim)
            .unwrap()
            .write_all(
                format!(
                    "#!/bin/sh\necho \"$(date +%s.%N) $1\" >> {}\n",
                    opened.display()
                )
                .as_bytes(),
            )
            .unwrap();
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&shim)
            .status()
            .unwrap();
        if !env.extra.iter().any(|(k, _)| k == "BROWSER") {
            env.extra
                .push(("BROWSER".into(), format!("{} %s", shim.display())));
        }
        let published = env.home().join("run/instance.json");
        std::fs::remove_file(&published).ok();
        let mut args = vec!["--headless"];
        if !extra.contains(&"--hook-port") {
            args.extend_from_slice(&["--hook-port", "0"]);
        }
        args.extend_from_slice(extra);
        let child = env.command(&args).spawn().unwrap();
        assert!(
            wait_for(Duration::from_secs(20), || published.exists()).await,
            "the instance never published its hook"
        );
        let info: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&published).unwrap()).unwrap();
        Self {
            child,
            port: u16::try_from(info["port"].as_u64().unwrap()).unwrap(),
            token: info["token"].as_str().unwrap().to_owned(),
            opened,
        }
    }

    /// Posts one event to the HTTP hook; returns the status code.
    fn post(&self, body: &str) -> u16 {
        let reply = self.post_reply(body);
        reply
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }

    /// Posts one event to the HTTP hook; returns the whole reply.
    fn post_reply(&self, body: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let request = format!(
            "POST /events HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            self.token,
            body.len()
        );
        s.write_all(request.as_bytes()).unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).ok();
        reply
    }

    /// The links opened so far, with when each was asked for.
    fn opened(&self) -> Vec<(f64, String)> {
        std::fs::read_to_string(&self.opened)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let (at, url) = l.split_once(' ')?;
                Some((at.parse().ok()?, url.to_owned()))
            })
            .collect()
    }

    /// Kills it as a crash or a power cut would (SIGKILL): nothing runs on the way out.
    fn crash(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Stops it the way a desktop session does (SIGTERM) and waits for it.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the instance stopped badly: {status:?}");
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Children of `pid` that have exited but were never waited for.
fn zombies_of(pid: u32) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_lands_in_the_same_task_whichever_way_its_numbers_arrive() {
    let mut env = Env::start().await;
    write_settings(
        &env,
        "[defaults]\ncountry = \"RU\"\nline_number = \"8 495 300-90-80\"\n",
    );
    let instance = Headless::start(&mut env, &[]).await;

    // MicroSIP's command hook, numbers as the softphone prints them.
    for kind in ["ring", "end"] {
        let out = env.run(&["event", kind, "89161112200"]).await;
        assert_eq!(out.code, 0, "{out:?}");
    }
    assert!(
        wait_for(Duration::from_secs(15), || env.sandbox.tasks().len() == 1).await,
        "the heard call was not registered"
    );
    let task = env.sandbox.tasks()[0].clone();
    assert_eq!(
        (task.from_number.as_str(), task.to_number.as_str()),
        ("+79161112200", "+74953009080")
    );

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
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    let json = out.json();
    assert_eq!(json["task_id"], task.id);
    assert_eq!(json["is_new_task"], false);

    // An outgoing call from MicroSIP and a tel: link to the same number: one task, the
    // agent's line calling the customer, in E.164 both times.
    let out = env
        .run(&["event", "outgoing", "--call-id", "o-1", "8 916 111-22-00"])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        wait_for(Duration::from_secs(15), || env.sandbox.tasks().len() == 2).await,
        "the outgoing call was not registered"
    );
    let out = env.run(&["tel:8(916)1112200"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        wait_for(Duration::from_secs(15), || env.count(Route::Call) == 4).await,
        "the link's call was not registered"
    );
    let tasks = env.sandbox.tasks();
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert_eq!(
        (tasks[1].from_number.as_str(), tasks[1].to_number.as_str()),
        ("+74953009080", "+79161112200")
    );
    instance.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heard_call_without_this_lines_number_is_kept_and_sent_once_it_is_set() {
    let mut env = Env::start().await;
    write_settings(&env, "[defaults]\ncountry = \"RU\"\n");
    let instance = Headless::start(&mut env, &[]).await;
    for kind in ["ring", "end"] {
        let out = env
            .run(&["event", kind, "--call-id", "held-1", "89161112200"])
            .await;
        assert_eq!(out.code, 0, "{out:?}");
    }
    // Kept in the outbox, saying what it waits for.
    let jobs = queue_until(&env, 15, |jobs| {
        jobs.iter().any(|j| j["external_id"] == "held-1")
    })
    .await;
    let held = jobs
        .into_iter()
        .find(|j| j["external_id"] == "held-1")
        .unwrap_or_default();
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
    write_settings(
        &env,
        "[defaults]\ncountry = \"RU\"\nline_number = \"8 495 300-90-80\"\n",
    );
    let instance = Headless::start(&mut env, &[]).await;
    assert!(
        wait_for(Duration::from_secs(15), || env.sandbox.tasks().len() == 1).await,
        "the held call was not registered"
    );
    let task = env.sandbox.tasks()[0].clone();
    assert_eq!(
        (task.from_number.as_str(), task.to_number.as_str()),
        ("+79161112200", "+74953009080")
    );
    let out = env.run(&["queue", "--json"]).await;
    assert_eq!(
        out.json()["jobs"].as_array().map(Vec::len),
        Some(0),
        "{out:?}"
    );
    assert_eq!(env.count(Route::Call), 1, "registered once");
    instance.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_that_ended_during_an_outage_open_no_tabs_and_links_leave_no_zombies() {
    let mut env = Env::start().await;
    write_settings(&env, "[defaults]\nline_number = \"+74953009080\"\n");
    let instance = Headless::start(&mut env, &[]).await;
    // Pyrus answers 500 to the first five registrations.
    env.sandbox.inject(Fault {
        route: Route::Call,
        kind: FaultKind::ServerError,
        times: 5,
    });
    for i in 0..5 {
        for kind in ["ring", "end"] {
            let body =
                format!(r#"{{"event":"{kind}","number":"+7916111220{i}","call_id":"out-{i}"}}"#);
            assert_eq!(instance.post(&body), 202);
        }
    }
    assert!(
        wait_for(Duration::from_secs(30), || env.sandbox.tasks().len() == 5).await,
        "the kept calls were not all registered once Pyrus came back"
    );
    // A call that is still ringing pops; it is the only tab, and it comes after the five.
    let ring = r#"{"event":"ring","number":"+79161112299","call_id":"live"}"#;
    assert_eq!(instance.post(ring), 202);
    assert!(
        wait_for(Duration::from_secs(15), || !instance.opened().is_empty()).await,
        "the ringing call's task did not open"
    );
    let opened = instance.opened();
    assert_eq!(opened.len(), 1, "one tab, not a burst: {opened:?}");
    let live = env
        .sandbox
        .tasks()
        .into_iter()
        .find(|t| t.from_number == "+79161112299")
        .unwrap();
    assert!(
        opened[0].1.ends_with(&format!("#id{}", live.id)),
        "{opened:?}"
    );

    // Twenty more ringing calls open twenty tabs; every handler process is reaped.
    for i in 0..20 {
        let body = format!(r#"{{"event":"ring","number":"+7916222{i:04}","call_id":"z-{i}"}}"#);
        assert_eq!(instance.post(&body), 202);
    }
    assert!(
        wait_for(Duration::from_secs(30), || instance.opened().len() == 21).await,
        "not every ringing call opened: {:?}",
        instance.opened().len()
    );
    let pid = instance.child.id();
    assert!(
        wait_for(Duration::from_secs(10), || zombies_of(pid) == 0).await,
        "{} zombie link handlers",
        zombies_of(pid)
    );
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
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

/// Rings `number` through the HTTP hook and returns how long its task took to open.
async fn pop_delay(instance: &Headless, number: &str, call_id: &str) -> f64 {
    let before = instance.opened().len();
    let body = format!(r#"{{"event":"ring","number":"{number}","call_id":"{call_id}"}}"#);
    let sent = now_secs();
    assert_eq!(instance.post(&body), 202);
    assert!(
        wait_for(Duration::from_secs(30), || instance.opened().len() > before).await,
        "the task of {call_id} never opened"
    );
    instance.opened()[before].0 - sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ringing_call_opens_its_task_while_a_long_recording_uploads() {
    let mut env = Env::start().await;
    let recordings = env.home().join("recordings");
    std::fs::create_dir_all(&recordings).unwrap();
    write_settings(&env, "[defaults]\nline_number = \"+74953009080\"\n");
    let instance = Headless::start(&mut env, &["--recordings", recordings.to_str().unwrap()]).await;
    let idle = pop_delay(&instance, "+79160000001", "idle").await;

    // A 48 MiB recording goes up at ~4 MiB/s, as from a slow office uplink.
    env.sandbox.inject(Fault {
        route: Route::Upload,
        kind: FaultKind::Throttle {
            bytes_per_sec: 4 * 1024 * 1024,
        },
        times: 1,
    });
    long_recording(&recordings, "89160000002", 48 * 1024 * 1024);
    for kind in ["ring", "answer", "end"] {
        let body = format!(r#"{{"event":"{kind}","number":"+79160000002","call_id":"long"}}"#);
        assert_eq!(instance.post(&body), 202);
    }
    let files = env.home().join("sandbox-files");
    assert!(
        wait_for(Duration::from_secs(60), || largest_upload(&files)
            > 4 * 1024 * 1024)
        .await,
        "the upload did not get going"
    );
    let busy = pop_delay(&instance, "+79160000003", "busy").await;
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
    assert!(
        wait_for(Duration::from_secs(60), || env.count(Route::Attach) == 1).await,
        "the recording was not attached"
    );
    instance.stop();
}

/// Open jobs in the outbox, as `queue --json` lists them.
async fn open_jobs(env: &Env) -> Vec<serde_json::Value> {
    let out = env.run(&["queue", "--json"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    out.json()["jobs"].as_array().cloned().unwrap_or_default()
}

/// The open jobs, read again until `done` holds of them or `secs` pass; the last reading.
async fn queue_until(
    env: &Env,
    secs: u64,
    done: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let jobs = open_jobs(env).await;
        if done(&jobs) || Instant::now() >= deadline {
            return jobs;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_pickup_survives_a_crash_and_attaches_once() {
    let mut env = Env::start().await;
    let recordings = env.home().join("recordings");
    std::fs::create_dir_all(&recordings).unwrap();
    write_settings(&env, "[defaults]\nline_number = \"+74953009080\"\n");
    let folder = recordings.to_str().unwrap().to_owned();
    let instance = Headless::start(&mut env, &["--recordings", &folder]).await;
    // The end is heard twice (a softphone and a desk phone both report it).
    for kind in ["ring", "answer", "end", "end"] {
        let body = format!(r#"{{"event":"{kind}","number":"+79160000009","call_id":"crash"}}"#);
        assert_eq!(instance.post(&body), 202);
    }
    // The call has ended: its pickup is on disk, and at work (looking for a recording that
    // is not there yet), when the crash comes.
    let is_pickup = |j: &serde_json::Value| j["kind"] == "pickup" && j["external_id"] == "crash";
    let pickups: Vec<_> = queue_until(&env, 15, |jobs| {
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
    let left = open_jobs(&env).await;
    let pickup = left.iter().find(|j| j["kind"] == "pickup").unwrap();
    assert_eq!(pickup["interrupted"], true, "{pickup}");
    let text = env.run(&["queue"]).await;
    assert!(text.stdout.contains("interrupted"), "{text:?}");

    // The softphone finishes the file after the crash; the next start picks it up.
    long_recording(&recordings, "89160000009", 64 * 1024);
    let instance = Headless::start(&mut env, &["--recordings", &folder]).await;
    assert!(
        wait_for(Duration::from_secs(60), || env.count(Route::Attach) >= 1).await,
        "the recording of the call cut short by the crash was never attached"
    );
    let open = queue_until(&env, 15, <[serde_json::Value]>::is_empty).await;
    assert!(open.is_empty(), "work left over: {open:?}");
    assert_eq!(env.count(Route::Attach), 1, "attached once");
    assert_eq!(env.count(Route::Upload), 1, "uploaded once");
    let tasks = env.sandbox.tasks();
    assert_eq!(tasks.len(), 1, "one call, one task");
    let attached: Vec<_> = tasks[0]
        .comments
        .iter()
        .filter_map(|c| c.recording.as_ref().map(|(_, name)| name.clone()))
        .collect();
    assert_eq!(
        attached,
        vec!["20261129-120000-89160000009-out.wav".to_owned()]
    );
    instance.stop();
}

/// pyrus-phone processes running for `home`.
fn instances_for(home: &Path) -> usize {
    let wanted = format!("PYRUS_PHONE_HOME={}", home.display());
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_pyrus-phone")).unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| std::fs::read_link(e.path().join("exe")).is_ok_and(|p| p == exe))
        .filter_map(|e| std::fs::read(e.path().join("environ")).ok())
        .filter(|environ| {
            environ
                .split(|b| *b == 0)
                .any(|var| var == wanted.as_bytes())
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_per_home_even_when_the_hook_port_is_taken() {
    let mut env = Env::start().await;
    write_settings(&env, "[defaults]\nline_number = \"+74953009080\"\n");
    // Another program holds the configured port.
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = squatter.local_addr().unwrap().port().to_string();
    let instance = Headless::start(&mut env, &["--hook-port", &port]).await;
    assert_ne!(instance.port.to_string(), port, "it listens elsewhere");
    for i in 0..3 {
        let out = env
            .run(&["event", "ring", &format!("+7916333000{i}")])
            .await;
        assert_eq!(out.code, 0, "{out:?}");
    }
    assert!(
        wait_for(Duration::from_secs(15), || env.sandbox.tasks().len() == 3).await,
        "the events were not all registered"
    );
    assert_eq!(
        instances_for(env.home()),
        1,
        "no second instance was started"
    );

    // A second headless start on the same home says who runs and stops.
    let started = Instant::now();
    let second = env.run(&["--headless", "--hook-port", "0"]).await;
    assert!(started.elapsed() < Duration::from_secs(10), "{second:?}");
    assert_eq!(second.code, 0, "{second:?}");
    assert!(
        second.stderr.contains(&format!(
            "already runs for this user and home (process {}",
            instance.child.id()
        )),
        "{second:?}"
    );
    // The first keeps serving.
    assert_eq!(
        instance.post(r#"{"event":"ring","number":"+79163330009"}"#),
        202
    );
    assert!(
        wait_for(Duration::from_secs(15), || env.sandbox.tasks().len() == 4).await,
        "the first instance stopped serving"
    );
    assert_eq!(instances_for(env.home()), 1);
    drop(squatter);
    instance.stop();
}

/// Command lines of the pyrus-phone processes running for `home`.
fn command_lines_for(home: &Path) -> Vec<String> {
    let wanted = format!("PYRUS_PHONE_HOME={}", home.display());
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_pyrus-phone")).unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| std::fs::read_link(e.path().join("exe")).is_ok_and(|p| p == exe))
        .filter(|e| {
            std::fs::read(e.path().join("environ")).is_ok_and(|environ| {
                environ
                    .split(|b| *b == 0)
                    .any(|var| var == wanted.as_bytes())
            })
        })
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .collect()
}

/// Every file and folder under `dir` that its group or others may use.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_app_writes_is_private_and_no_number_is_on_a_command_line() {
    let mut env = Env::start().await;
    write_settings(&env, "[defaults]\nline_number = \"+74953009080\"\n");
    env.removed.push("DISPLAY".into());
    env.removed.push("WAYLAND_DISPLAY".into());
    // No instance runs: the command hook starts one and hands it the call.
    let out = env
        .run(&["event", "ring", "--call-id", "private-1", "89161112200"])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        wait_for(Duration::from_secs(20), || env.sandbox.tasks().len() == 1).await,
        "the handed-over call was not registered"
    );
    let lines = command_lines_for(env.home());
    assert!(!lines.is_empty(), "the instance it started is running");
    assert!(
        lines.iter().all(|l| !l.contains("9161112200")),
        "a number on a command line: {lines:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("private.wav");
    crate::support::write_wav(&wav, 800);
    let out = env
        .run(&[
            "attach",
            wav.to_str().unwrap(),
            "--external-id",
            "private-1",
        ])
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    let published = env.home().join("run/instance.json");
    let pid: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&published).unwrap()).unwrap();
    let pid = pid["pid"].as_u64().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || instances_for(env.home()) == 0).await,
        "the instance did not stop"
    );
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
    let (port, token) = (instance.port, instance.token.clone());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (token, prefix) = (token.clone(), prefix.to_owned());
            std::thread::Builder::new().name(format!("ringer-{t}")).spawn(move || {
                let mut acknowledged = Vec::new();
                for i in (t..n).step_by(8) {
                    let id = format!("{prefix}-{i}");
                    let body = format!(
                        r#"{{"event":"ring","number":"+7916{i:07}","call_id":"{id}"}}"#
                    );
                    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                    let request = format!(
                        "POST /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    s.write_all(request.as_bytes()).unwrap();
                    let mut reply = String::new();
                    s.read_to_string(&mut reply).ok();
                    if reply.starts_with("HTTP/1.1 202") {
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
fn registrations(env: &Env) -> std::collections::HashMap<String, usize> {
    let mut seen = std::collections::HashMap::new();
    for task in env.sandbox.tasks() {
        for id in task.external_ids {
            *seen.entry(id).or_insert(0) += 1;
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_call_survives_a_kill_or_a_stop() {
    let mut env = Env::start().await;
    write_settings(&env, "[defaults]\nline_number = \"+74953009080\"\n");
    // Pyrus is slow: when the process goes, most calls are not registered yet.
    env.sandbox.inject(Fault {
        route: Route::Call,
        kind: FaultKind::Slow { delay_ms: 100 },
        times: 10_000,
    });
    for (how, prefix) in [("kill", "k"), ("stop", "t")] {
        let requests_before = env.count(Route::Call);
        let instance = Headless::start(&mut env, &[]).await;
        let acknowledged =
            tokio::task::block_in_place(|| ring_from_eight_threads(&instance, prefix, 100));
        assert_eq!(
            acknowledged.len(),
            100,
            "{how}: every ring was acknowledged"
        );
        let registered_before = registrations(&env)
            .keys()
            .filter(|id| id.starts_with(&format!("{prefix}-")))
            .count();
        if how == "kill" {
            instance.crash();
        } else {
            instance.stop();
        }
        // The next start handles what was acknowledged and not yet sent.
        let instance = Headless::start(&mut env, &[]).await;
        let all = |env: &Env| {
            let seen = registrations(env);
            acknowledged.iter().all(|id| seen.contains_key(id))
        };
        assert!(
            wait_for(Duration::from_secs(120), || all(&env)).await,
            "{how}: acknowledged calls were lost"
        );
        let seen = registrations(&env);
        let tasks_of_these = seen
            .iter()
            .filter(|(id, _)| id.starts_with(&format!("{prefix}-")))
            .count();
        assert_eq!(tasks_of_these, 100, "{how}: one task per call");
        // A registration in flight when the process is killed is sent again by the next
        // start (it lands as a comment on the same task); one runs at a time.
        // A stop sees registrations in flight through: none is sent twice.
        wait_for(Duration::from_secs(5), || {
            env.count(Route::Call) >= requests_before + 100
        })
        .await;
        let repeated = env.count(Route::Call) - requests_before - 100;
        eprintln!("{how}: {registered_before} of 100 registered before; {repeated} sent twice");
        let allowed = usize::from(how == "kill");
        assert!(repeated <= allowed, "{how}: {repeated} calls sent twice");
        instance.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_hook_is_told_when_its_event_was_not_taken_and_the_event_is_kept() {
    let mut env = Env::start().await;
    env.removed.push("DISPLAY".into());
    env.removed.push("WAYLAND_DISPLAY".into());
    // A broken settings file: the instance the hook starts stops at once.
    write_settings(&env, "[defaults\nline_number = ");
    let out = env
        .run(&["event", "ring", "--call-id", "kept-1", "89161112200"])
        .await;
    assert_eq!(out.code, 75, "{out:?}");
    assert!(out.stderr.contains("stopped as it started"), "{out:?}");
    assert!(out.stderr.contains("The event is kept"), "{out:?}");
    assert_eq!(instances_for(env.home()), 0);

    // The settings are fixed; the next start handles the kept event first.
    write_settings(&env, "[defaults]\nline_number = \"+74953009080\"\n");
    let instance = Headless::start(&mut env, &[]).await;
    assert!(
        wait_for(Duration::from_secs(20), || registrations(&env)
            .contains_key("kept-1"))
        .await,
        "the kept event was not handled"
    );
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
    let mut env = Env::start().await;
    write_settings(&env, "[defaults]\nline_number = \"+74953009080\"\n");
    // The outbox lives on a small disk of its own.
    let data = env.home().join("data");
    let _mounted = Mounted::small_disk(&data);
    let instance = Headless::start(&mut env, &[]).await;
    let ring =
        |id: &str, n: u32| format!(r#"{{"event":"ring","number":"+7916{n:07}","call_id":"{id}"}}"#);
    assert_eq!(instance.post(&ring("before-full", 1)), 202);
    assert!(
        wait_for(Duration::from_secs(15), || registrations(&env)
            .contains_key("before-full"))
        .await,
        "the first call was not registered"
    );

    // The disk fills up.
    let filler = data.join("filler");
    {
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0_u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        f.sync_all().ok();
    }
    let reply = instance.post_reply(&ring("while-full", 2));
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
        .await;
    assert_eq!(out.code, 75, "{out:?}");
    assert!(out.stderr.contains("disk is full"), "{out:?}");

    // Space again: events are taken, and what was acknowledged before is all there.
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(instance.post(&ring("after-full", 4)), 202);
    assert!(
        wait_for(Duration::from_secs(30), || registrations(&env)
            .contains_key("after-full"))
        .await,
        "the call after the disk was freed was not registered"
    );
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
    write_settings(&env, "[defaults]\nline_number = \"+74953009080\"\n");
    env.removed.push("DISPLAY".into());
    env.removed.push("WAYLAND_DISPLAY".into());
    let data = env.home().join("data");
    let _mounted = Mounted::small_disk(&data);
    // An outbox made earlier, then the disk turned read-only (root ignores file modes).
    let out = env.run(&["queue"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let remounted = std::process::Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(&data)
        .status()
        .unwrap();
    assert!(remounted.success());

    // The instance runs and refuses heard calls with the reason, instead of taking them
    // into nowhere (the window shows it too).
    refused_with_reason(&mut env, "read-only").await;
}

/// Starts an instance whose outbox cannot be used and checks that heard calls are refused,
/// saying `why`, by the HTTP hook (503) and the command hook (exit 75).
async fn refused_with_reason(env: &mut Env, why: &str) {
    let instance = Headless::start(env, &[]).await;
    let reply =
        instance.post_reply(r#"{"event":"ring","number":"+79161112200","call_id":"refused-1"}"#);
    assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
    assert!(
        reply.contains("NOT accepted") && reply.contains(why),
        "{reply}"
    );
    let out = env
        .run(&["event", "ring", "--call-id", "refused-2", "89161112200"])
        .await;
    assert_eq!(out.code, 75, "{out:?}");
    assert!(out.stderr.contains(why), "{out:?}");
    assert_eq!(env.sandbox.tasks().len(), 0);
    instance.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_outbox_is_named_and_no_event_is_taken_into_it() {
    let mut env = Env::start().await;
    write_settings(&env, "[defaults]\nline_number = \"+74953009080\"\n");
    let data = env.home().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::File::create(data.join("outbox.sqlite3"))
        .unwrap()
        .write_all(&[0x5a_u8; 8192])
        .unwrap();
    refused_with_reason(&mut env, "file is damaged").await;
}

#[ignore = "system tier (tests/run.sh): needs root, to mount a small tmpfs"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_stored_but_not_finished_on_a_full_disk_exits_75_not_1() {
    crate::support::system_tier("root, to mount a small tmpfs");
    let env = Env::start().await;
    let data = env.home().join("data");
    let _mounted = Mounted::small_disk(&data);
    // Pyrus answers slowly; meanwhile the disk fills up.
    env.sandbox.inject(Fault {
        route: Route::Call,
        kind: FaultKind::Slow { delay_ms: 3_000 },
        times: 1,
    });
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
    let stored = queue_until(&env, 10, |jobs| {
        jobs.iter()
            .any(|j| j["external_id"] == "stored-1" && j["state"] == "running")
    })
    .await
    .iter()
    .any(|j| j["external_id"] == "stored-1" && j["state"] == "running");
    assert!(stored, "the call was never stored and sent");
    let filler = data.join("filler");
    {
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0_u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        f.sync_all().ok();
    }
    let out = running.await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{stderr}");
    assert!(stderr.contains("disk is full"), "{stderr}");
    assert!(stderr.contains("kept"), "{stderr}");
    std::fs::remove_file(&filler).unwrap();
    // The call is still there for the next run.
    let left = open_jobs(&env).await;
    assert!(
        left.iter().any(|j| j["external_id"] == "stored-1"),
        "{left:?}"
    );
}
