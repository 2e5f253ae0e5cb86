//! Shared test fixtures: a sandbox with a private home folder, a runner for the real binary
//! with the environment pointing at that sandbox, and the harness every test uses: waits
//! with a deadline ([`wait`]), a raw client of the event hook ([`hook`]), the browser
//! stand-in that records the links the binary opens ([`browser`]) and a headless instance
//! ([`headless`]).

pub mod browser;
pub mod headless;
pub mod hook;
pub mod wait;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use pyrus_phone::sandbox::{
    DEMO_ACCOUNT_ID, DEMO_LOGIN, DEMO_SECURITY_KEY, Fault, FaultKind, Route, Sandbox,
    SandboxConfig, TaskSnapshot,
};

pub use wait::{wait_until, wait_until_async, wait_until_blocking};

/// The call most tests register: a customer calling the demo line.
pub const CALL: [&str; 5] = ["call", "--from", "+79774221338", "--to", "+74953009080"];

/// This line's number in the settings of the tests that hear calls.
pub const LINE_SETTINGS: &str = "[defaults]\nline_number = \"+74953009080\"\n";

/// A test of the system tier: it needs what `tests/run.sh` provides (a private D-Bus
/// session with gnome-keyring and dunst, baresip, twinkle-console, sipp, root for tmpfs, a
/// network address).
/// Such tests are `#[ignore]`d, so plain `cargo test` runs the portable tier only; run
/// outside `tests/run.sh` they stop here, before touching the developer's own session.
pub fn system_tier(needs: &str) {
    assert!(
        std::env::var_os("PYRUS_PHONE_SYSTEM_TIER").is_some(),
        "this test needs {needs}: run it through `bash tests/run.sh`, which provides it in a private session"
    );
}

/// What a finished run of the binary printed and returned.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Checks that the run exited with `code`; the run, for what else a test checks.
    #[track_caller]
    pub fn exited(self, code: i32) -> Self {
        assert_eq!(self.code, code, "{self:?}");
        self
    }

    /// Checks that the run's stdout says `text`.
    #[track_caller]
    pub fn stdout_says(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "stdout should say {text:?}: {self:?}"
        );
        self
    }

    /// Checks that the run's stderr says `text`.
    #[track_caller]
    pub fn stderr_says(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "stderr should say {text:?}: {self:?}"
        );
        self
    }

    /// Checks that the run succeeded (exit 0).
    #[track_caller]
    pub fn ok(self) -> Self {
        self.exited(0)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }
}

/// A sandbox plus a private `PYRUS_PHONE_HOME`.
pub struct Env {
    pub home: tempfile::TempDir,
    pub sandbox: Sandbox,
    pub auth_url: String,
    pub key: String,
    pub extra: Vec<(String, String)>,
    pub removed: Vec<String>,
}

impl Env {
    pub async fn start() -> Self {
        Self::start_with(|config| config).await
    }

    /// As [`Env::start`], the sandbox configured by `config` from the demo's.
    pub async fn start_with(config: impl FnOnce(SandboxConfig) -> SandboxConfig) -> Self {
        let home = tempfile::tempdir().unwrap();
        let sandbox = sandbox_with(config(SandboxConfig::demo(
            home.path().join("sandbox-files"),
        )))
        .await;
        let auth_url = sandbox.auth_url();
        Self {
            home,
            sandbox,
            auth_url,
            key: DEMO_SECURITY_KEY.to_owned(),
            extra: Vec::new(),
            removed: Vec::new(),
        }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// Runs the binary with the environment pointing at the sandbox.
    pub async fn run(&self, args: &[&str]) -> Out {
        self.run_with_stdin(args, "").await
    }

    /// Registers [`CALL`] with `extra` arguments after it.
    pub async fn call(&self, extra: &[&str]) -> Out {
        self.call_from(CALL[2], extra).await
    }

    /// Registers a call from `from` to the demo line, with `extra` arguments after it.
    pub async fn call_from(&self, from: &str, extra: &[&str]) -> Out {
        let call = ["call", "--from", from, "--to", CALL[4]];
        self.run(&[&call[..], extra].concat()).await
    }

    /// Attaches the recording `wav`, with `extra` arguments after it (the call it is for).
    pub async fn attach(&self, wav: &Path, extra: &[&str]) -> Out {
        let attach = ["attach", wav.to_str().unwrap()];
        self.run(&[&attach[..], extra].concat()).await
    }

    /// The requests Pyrus answered in these ten minutes, as `queue` counts them.
    pub async fn requests_answered(&self) -> u64 {
        let out = self.run(&["queue", "--json"]).await;
        assert_eq!(out.code, 0, "{out:?}");
        out.json()["rate"]["answered"].as_u64().unwrap()
    }

    /// The open jobs in the outbox, as `queue --json` lists them.
    pub async fn jobs(&self) -> Vec<serde_json::Value> {
        let out = self.run(&["queue", "--json"]).await;
        assert_eq!(out.code, 0, "{out:?}");
        out.json()["jobs"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("no list of jobs: {out:?}"))
    }

    /// Checks that the outbox holds no open job.
    pub async fn assert_outbox_empty(&self) {
        let jobs = self.jobs().await;
        assert!(jobs.is_empty(), "jobs left: {jobs:?}");
    }

    /// Writes a recording of `samples` samples named `name` in a folder of this test's.
    pub fn recording(&self, name: &str, samples: u32) -> PathBuf {
        let path = self.home().join("recordings-made").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        write_wav(&path, samples);
        path
    }

    /// Waits until the sandbox holds `n` tasks.
    pub async fn wait_for_tasks(&self, n: usize, what: &str, secs: u64) {
        let timeout = std::time::Duration::from_secs(secs);
        wait_until(what, timeout, || self.sandbox.tasks().len() == n).await;
    }

    /// Waits until the open jobs satisfy `done`, and returns them.
    pub async fn wait_for_jobs(
        &self,
        what: &str,
        secs: u64,
        done: impl Fn(&[serde_json::Value]) -> bool,
    ) -> Vec<serde_json::Value> {
        let done = &done;
        let timeout = std::time::Duration::from_secs(secs);
        wait_until_async(what, timeout, || async move {
            let jobs = self.jobs().await;
            done(&jobs).then_some(jobs)
        })
        .await
    }

    /// The binary with the environment pointing at the sandbox, and links it opens going
    /// to the browser stand-in.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        self.command_for(env!("CARGO_BIN_EXE_pyrus-phone"), args)
    }

    /// `program` with the environment [`Env::command`] gives the binary: a softphone whose
    /// call scripts run the binary hand it this test's home, sandbox and browser.
    pub fn command_for(&self, program: &str, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        cmd.args(args)
            .env("PYRUS_PHONE_HOME", self.home())
            // A softphone's files (Twinkle's ~/.twinkle) are this test's, never the user's.
            .env("HOME", self.home())
            .env("PYRUS_AUTH_URL", &self.auth_url)
            .env("PYRUS_LOGIN", DEMO_LOGIN)
            .env("PYRUS_SECURITY_KEY", &self.key)
            .env("PYRUS_ACCOUNT_ID", DEMO_ACCOUNT_ID)
            .env_remove("PYRUS_PHONE_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        browser::point_at(&mut cmd, &self.opened_log());
        for (k, v) in &self.extra {
            cmd.env(k, v);
        }
        for k in &self.removed {
            cmd.env_remove(k);
        }
        cmd
    }

    pub async fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Out {
        let mut cmd = self.command(args);
        let input = stdin.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut child = cmd.spawn().expect("the binary starts");
            {
                use std::io::Write as _;
                let mut pipe = child.stdin.take().unwrap();
                pipe.write_all(input.as_bytes()).ok();
            }
            let output = child.wait_with_output().unwrap();
            Out {
                code: output.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            }
        })
        .await
        .unwrap()
    }

    pub fn count(&self, route: Route) -> usize {
        self.sandbox
            .requests()
            .iter()
            .filter(|r| r.route == Some(route))
            .count()
    }

    /// Writes the user's settings file.
    pub fn write_settings(&self, toml: &str) {
        write_file(&self.home().join("config").join("settings.toml"), toml);
    }

    /// Where the browser stand-in logs the links this home's runs open.
    pub fn opened_log(&self) -> PathBuf {
        self.home().join("opened.txt")
    }

    /// The links this home's runs opened so far, in order.
    pub fn opened(&self) -> Vec<browser::Opened> {
        browser::opened(&self.opened_log())
    }
}

pub async fn start_sandbox(files: PathBuf) -> Sandbox {
    sandbox_with(SandboxConfig::demo(files)).await
}

async fn sandbox_with(config: SandboxConfig) -> Sandbox {
    // Tests talk raw HTTP with reqwest too; it needs the process's TLS provider.
    rustls::crypto::ring::default_provider()
        .install_default()
        .ok();
    Sandbox::start(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap()
}

/// A fault the sandbox plays `times` times on `route`.
pub fn fault(route: Route, kind: FaultKind, times: u32) -> Fault {
    Fault { route, kind, times }
}

/// Writes `text` to `path`, making its folder first.
pub fn write_file(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut file = std::fs::File::create(path).unwrap();
    std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
}

/// The recordings attached to `task`: the file's guid and name, oldest first.
pub fn recordings(task: &TaskSnapshot) -> Vec<(String, String)> {
    task.comments
        .iter()
        .filter_map(|c| c.recording.clone())
        .collect()
}

/// The sizes of the files under `dir` (the sandbox's received uploads); none when it is not
/// there yet.
pub fn file_sizes(dir: &Path) -> Vec<u64> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .collect()
}

/// The 44-byte header of an 8 kHz mono 16-bit PCM WAV holding `data_len` bytes of samples.
pub fn wav_header(data_len: u32) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(44);
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes()); // PCM
    bytes.extend_from_slice(&1u16.to_le_bytes()); // mono
    bytes.extend_from_slice(&8000u32.to_le_bytes());
    bytes.extend_from_slice(&16000u32.to_le_bytes());
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&16u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data_len.to_le_bytes());
    bytes
}

/// Writes a small but real 8 kHz mono 16-bit WAV of `samples` samples.
pub fn write_wav(path: &Path, samples: u32) {
    let data_len = samples * 2;
    let mut bytes = wav_header(data_len);
    bytes.reserve(data_len as usize);
    for i in 0..samples {
        let v =
            ((f64::from(i) * 440.0 * 2.0 * std::f64::consts::PI / 8000.0).sin() * 8000.0) as i16;
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let mut f = std::fs::File::create(path).unwrap();
    std::io::Write::write_all(&mut f, &bytes).unwrap();
}

/// Waits until the instance whose outbox is `db` has read its form of customers to the end
/// (the index Twinkle's caller names and the window's cards come from).
pub async fn wait_for_caller_index(db: &Path) {
    wait_until(
        "the customers' index",
        std::time::Duration::from_secs(30),
        || {
            rusqlite::Connection::open(db)
                .and_then(|c| {
                    c.query_row("SELECT walked FROM caller_forms", [], |r| {
                        r.get::<_, i64>(0)
                    })
                })
                .is_ok_and(|walked| walked == 1)
        },
    )
    .await;
}
