//! A headless instance of the real binary on a test's home: started, waited for until it
//! has published its event hook, and stopped or killed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use pyrus_phone::sources::runtime_file;

use super::Env;
use super::hook::HookClient;
use super::wait_until;

/// A running `pyrus-phone --headless`, killed when dropped.
pub struct Headless {
    child: Child,
    /// Its event hook, with the token it published.
    pub hook: HookClient,
}

/// The runtime folder of the instances of `home`, where each publishes its hook.
pub fn runtime_dir(home: &Path) -> PathBuf {
    home.join("run")
}

/// Waits until the instance of `home` has published its hook.
pub async fn published(home: &Path) -> runtime_file::Instance {
    let dir = runtime_dir(home);
    wait_until(
        "the instance to publish its hook",
        Duration::from_secs(20),
        || runtime_file::read(&dir),
    )
    .await
}

impl Headless {
    /// Starts `pyrus-phone --headless` with `extra` arguments, its hook on a free port
    /// unless `extra` names one.
    pub async fn start(env: &Env, extra: &[&str]) -> Self {
        let mut args = vec!["--headless"];
        if !extra.contains(&"--hook-port") {
            args.extend_from_slice(&["--hook-port", "0"]);
        }
        args.extend_from_slice(extra);
        Self::spawn(env, env.command(&args)).await
    }

    /// Runs `command`, a headless start of `env`'s binary (perhaps wrapped), and waits for
    /// its hook.
    pub async fn spawn(env: &Env, mut command: Command) -> Self {
        // What an earlier instance of this home published is not this one's.
        std::fs::remove_file(runtime_dir(env.home()).join("instance.json")).ok();
        let child = command.spawn().unwrap();
        let published = published(env.home()).await;
        Self {
            child,
            hook: HookClient::new(published.port, &published.token),
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Posts one event to its hook; the status code.
    pub fn post(&self, body: &str) -> u16 {
        self.hook.post(body)
    }

    /// Kills it as a crash or a power cut would: nothing runs on the way out.
    pub fn crash(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Stops it the way a desktop session does (SIGTERM) and checks that it stopped well.
    #[cfg(unix)]
    pub fn stop(mut self) {
        terminate(self.child.id());
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

/// Sends SIGTERM to `pid`.
#[cfg(unix)]
pub fn terminate(pid: u32) {
    use rustix::process::{Pid, Signal, kill_process};
    let pid = Pid::from_raw(i32::try_from(pid).unwrap()).unwrap();
    kill_process(pid, Signal::TERM).unwrap();
}
