//! The hook doctor's side of the service: what the call sources are and how they are doing
//! (`SourcesReport`), "Simulate a call" through the real pipeline, answering a ringing call
//! in baresip, and a new hook token.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::domain::{
    CallEvent, FolderHealth, SourceId, SourcesReport, TokenOrigin, TwinkleHealth, Verdict,
};
use crate::settings::Settings;
use crate::settings::credentials::{HOOK_TOKEN_ENTRY, SecretStore};
use crate::sources::Heard;
use crate::sources::baresip::BaresipCommand;
use crate::sources::http_hook::{self, TokenCell};
use crate::sources::monitor::Monitor;

/// The running sources, as the service sees them.
pub struct Sources {
    /// What the sources noted.
    pub monitor: Arc<Monitor>,
    /// The hook's token (`None`: the hook is off).
    pub token: Option<TokenCell>,
    /// Where the runtime file goes (rewritten when the token changes).
    pub runtime_dir: PathBuf,
    /// Commands to baresip (`None`: not configured).
    pub baresip: Option<mpsc::Sender<BaresipCommand>>,
    /// The channel every source sends its events into (simulated calls go there too).
    pub events: mpsc::Sender<Heard>,
    /// This program's path, for MicroSIP's hook lines.
    pub program: String,
    /// The running hook, for "Check again" when its port was taken (`None`: the hook is off).
    pub hook: Option<Arc<crate::sources::hook_port::RunningHook>>,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources")
            .field("program", &self.program)
            .finish_non_exhaustive()
    }
}

/// Why a folder cannot be read, or `None` when it can (blocking).
fn folder_problem(path: &Path) -> Option<String> {
    match std::fs::read_dir(path) {
        Ok(_) => None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Some("the folder does not exist".to_owned())
        }
        Err(e) => Some(e.to_string()),
    }
}

/// This computer's address on the network the default route leads to (no packet is sent:
/// a UDP socket is only pointed at a documentation address).
fn lan_address() -> Option<String> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then(|| ip.to_string())
}

/// Everything the doctor shows (blocking: reads the folder).
pub fn report(sources: &Sources, settings: &Settings) -> SourcesReport {
    let snapshot = sources.monitor.snapshot();
    let recordings = settings
        .sources
        .recordings_dir
        .as_ref()
        .map(|path| FolderHealth {
            path: path.clone(),
            problem: folder_problem(path),
        });
    let network = snapshot.hook.as_ref().is_some_and(|h| !h.allow.is_empty());
    let twinkle = twinkle_dir(settings)
        .filter(|dir| dir.is_dir())
        .map(|dir| TwinkleHealth {
            profiles: super::twinkle::profiles(&dir)
                .into_iter()
                .map(|p| (p.name, p.ours))
                .collect(),
            history: settings.sources.twinkle_history && dir.join("twinkle.ch").is_file(),
            dir,
        });
    SourcesReport {
        hook: snapshot.hook,
        token: sources.token.as_ref().map(TokenCell::get),
        baresip: snapshot.baresip,
        outbox_problem: snapshot.outbox_problem,
        recordings,
        twinkle,
        raw: snapshot.raw,
        program: sources.program.clone(),
        host: network
            .then(lan_address)
            .flatten()
            .unwrap_or_else(|| "127.0.0.1".to_owned()),
    }
}

/// Twinkle's folder: the settings' one, else `~/.twinkle`.
pub fn twinkle_dir(settings: &Settings) -> Option<PathBuf> {
    settings
        .sources
        .twinkle_dir
        .clone()
        .or_else(super::twinkle::user_twinkle_dir)
}

/// Points every Twinkle profile's call scripts at `program` (blocking), keeping another
/// program's scripts; says what was done, or why not.
pub fn set_up_twinkle(settings: &Settings, program: &Path) -> Result<String, String> {
    let dir = twinkle_dir(settings).ok_or("cannot find the home folder")?;
    let reports = super::twinkle::set_up(&dir, None, program, false).map_err(|e| e.to_string())?;
    let names: Vec<String> = reports.iter().map(|r| r.name.clone()).collect();
    Ok(names.join(", "))
}

/// What the hook doctor could not do.
#[derive(Debug, thiserror::Error)]
pub enum DoctorError {
    /// The number to simulate a call from is not one.
    #[error(transparent)]
    Event(#[from] crate::domain::EventError),
    /// The call pipeline is gone.
    #[error("the call pipeline has stopped; restart pyrus-phone")]
    Stopped,
    /// No softphone that can answer is set up.
    #[error("No softphone that can answer is connected (set up baresip).")]
    NoAnsweringSoftphone,
    /// baresip is set up but not connected.
    #[error("baresip is not connected: the call cannot be answered from here.")]
    BaresipAway,
    /// baresip's command queue is full.
    #[error("baresip is busy; answer in the softphone.")]
    BaresipBusy,
    /// The hook is off, so it has no token to renew.
    #[error("The event hook is switched off in the settings.")]
    HookOff,
}

/// Feeds ring, answer and end for `number` through the event channel, a second apart, as a
/// softphone would; the call is registered against the Pyrus in use.
pub async fn simulate(sources: &Sources, number: &str) -> Result<String, DoctorError> {
    let call_id = format!("simulated-{}", crate::sources::monitor::now_ms());
    for (i, kind) in ["ring", "answer", "end"].into_iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let event = CallEvent::parse(kind, number, Some(&call_id), None, None, "simulated")?;
        sources.monitor.record(
            SourceId::Simulated,
            &format!("{kind} {number} call_id={call_id}"),
            Verdict::Accepted,
        );
        sources
            .events
            .send(Heard::unacknowledged(event))
            .await
            .map_err(|_| DoctorError::Stopped)?;
    }
    Ok(call_id)
}

/// Asks baresip to answer the ringing call.
pub fn answer(sources: &Sources) -> Result<(), DoctorError> {
    let baresip = sources
        .baresip
        .as_ref()
        .ok_or(DoctorError::NoAnsweringSoftphone)?;
    let connected = sources
        .monitor
        .snapshot()
        .baresip
        .is_some_and(|b| b.connected);
    if !connected {
        return Err(DoctorError::BaresipAway);
    }
    baresip
        .try_send(BaresipCommand::Accept)
        .map_err(|_| DoctorError::BaresipBusy)
}

/// Makes a new hook token and keeps it in the keyring (blocking); the running hook takes it
/// at once. Returns where it is kept; the caller republishes it for command hooks.
pub fn renew_token(
    sources: &Sources,
    secrets: &dyn SecretStore,
) -> Result<TokenOrigin, DoctorError> {
    let cell = sources.token.as_ref().ok_or(DoctorError::HookOff)?;
    let token = http_hook::new_token();
    let origin = match secrets.set(HOOK_TOKEN_ENTRY, &token) {
        Ok(()) => TokenOrigin::Keyring,
        Err(e) => TokenOrigin::ThisRun(e.reason),
    };
    cell.set(token);
    Ok(origin)
}
