//! A real softphone: Debian's baresip (ctrl_tcp on loopback, sndfile recording, auto-answer)
//! takes a call placed by sipp from a numeric caller. pyrus-phone, headless against the
//! sandbox, must register the call with the caller's number and the SIP Call-ID, open its
//! task once, and after hang-up attach one stereo WAV holding both sides. Without
//! auto-answer, a ringing call is answered through ctrl_tcp, and a restarted baresip is
//! connected to again.

use std::io::Write as _;
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use pyrus_phone::domain::{EventKind, SourceId, Verdict};
use pyrus_phone::sources::baresip::{self, BaresipCommand};
use pyrus_phone::sources::monitor::Monitor;

use crate::support::headless::Headless;
use crate::support::{Env, LINE_SETTINGS, recordings, wait_until, write_wav};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// A free port below the range the system hands out to outgoing connections, so another
/// test's many connections cannot take it between now and baresip binding it.
fn free_port(bindable: impl Fn(u16) -> bool) -> u16 {
    loop {
        let port = 20_000 + rand::random::<u16>() % 12_000;
        if bindable(port) {
            return port;
        }
    }
}

fn free_tcp() -> u16 {
    free_port(|p| TcpListener::bind(("127.0.0.1", p)).is_ok())
}

fn free_udp() -> u16 {
    free_port(|p| UdpSocket::bind(("127.0.0.1", p)).is_ok())
}

fn write(path: &Path, text: &str) {
    std::fs::File::create(path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}

/// baresip's config and account in `phone` (sndfile into `rec`, ctrl_tcp on `ctrl`).
fn write_baresip_config(phone: &Path, rec: &Path, sip: u16, ctrl: u16, auto_answer: bool) {
    write(
        &phone.join("config"),
        &format!(
            "sip_listen 127.0.0.1:{sip}\nnet_interface 127.0.0.1\naudio_player aufile,{p}/play.wav\n\
             audio_source aufile,{p}/in.wav\nmodule_path /usr/lib/baresip/modules\nmodule g711.so\n\
             module aufile.so\nmodule sndfile.so\nmodule_app account.so\nmodule_app contact.so\n\
             module_app menu.so\nmodule_app ctrl_tcp.so\nctrl_tcp_listen 127.0.0.1:{ctrl}\nsnd_path {r}\n",
            p = phone.display(),
            r = rec.display()
        ),
    );
    let answer = if auto_answer { ";answermode=auto" } else { "" };
    write(
        &phone.join("accounts"),
        &format!("<sip:agent@127.0.0.1:{sip}>;regint=0{answer}\n"),
    );
}

fn start_baresip(phone: &Path) -> Killed {
    Killed(
        Command::new("baresip")
            .arg("-f")
            .arg(phone)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("baresip is installed (the test command installs baresip-core)"),
    )
}

/// sipp's own caller scenario from a numeric caller to baresip on `sip`; the call lasts
/// `talk_ms` once answered. Runs in the background; await the handle for its exit status.
fn sipp_call(
    phone: &Path,
    sip: u16,
    sipp_port: u16,
    talk_ms: u32,
) -> tokio::task::JoinHandle<std::process::ExitStatus> {
    let scenario = Command::new("sipp")
        .arg("-sd")
        .arg("uac")
        .output()
        .expect("sipp is installed (sip-tester)");
    let xml = String::from_utf8_lossy(&scenario.stdout)
        .replace("sip:sipp@", "sip:79774221338@")
        .replace("From: sipp ", "From: \"79774221338\" ");
    let file = phone.join(format!("uac-{sipp_port}.xml"));
    write(&file, &xml);
    tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .args(["30", "sipp", "-sf"])
            .arg(&file)
            .args([
                "-s",
                "agent",
                "-d",
                &talk_ms.to_string(),
                "-m",
                "1",
                "-i",
                "127.0.0.1",
                "-p",
            ])
            .arg(sipp_port.to_string())
            .arg(format!("127.0.0.1:{sip}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
    })
}

#[ignore = "system tier (tests/run.sh): needs baresip and sipp"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_baresip_call_is_registered_popped_once_and_its_recording_attached() {
    crate::support::system_tier("baresip and sipp");
    let env = Env::start().await;
    let home = env.home().to_path_buf();
    let phone = home.join("baresip");
    let rec = phone.join("rec");
    std::fs::create_dir_all(&rec).unwrap();
    write_wav(&phone.join("in.wav"), 80_000);
    let (sip, ctrl, sipp_port) = (free_udp(), free_tcp(), free_udp());
    write_baresip_config(&phone, &rec, sip, ctrl, true);
    let _baresip = start_baresip(&phone);

    env.write_settings(LINE_SETTINGS);
    let ctrl_addr = format!("127.0.0.1:{ctrl}");
    let recordings_dir = rec.to_str().unwrap();
    let _instance = Headless::start(
        &env,
        &["--baresip", &ctrl_addr, "--recordings", recordings_dir],
    )
    .await;
    let log_dir = home.join("logs");
    wait_until(
        "pyrus-phone to connect to baresip's ctrl_tcp",
        Duration::from_secs(20),
        || {
            std::fs::read_dir(&log_dir)
                .into_iter()
                .flatten()
                .flatten()
                .any(|f| {
                    std::fs::read_to_string(f.path())
                        .unwrap_or_default()
                        .contains("connected to baresip")
                })
        },
    )
    .await;

    let call = sipp_call(&phone, sip, sipp_port, 2000).await.unwrap();
    assert!(call.success(), "sipp's call failed: {call:?}");

    env.wait_for_tasks(1, "the call to be registered", 20).await;
    let task = env.sandbox.tasks().remove(0);
    assert_eq!(task.from_number, "79774221338");
    assert_eq!(task.to_number, "+74953009080");
    let call_id = &task.external_ids[0];
    assert!(
        call_id.ends_with("@127.0.0.1") && call_id.contains('-'),
        "the SIP Call-ID is the external id: {call_id}"
    );

    wait_until(
        "the recording to be attached",
        Duration::from_secs(60),
        || !recordings(&env.sandbox.tasks()[0]).is_empty(),
    )
    .await;
    let tasks = env.sandbox.tasks();
    let recordings = recordings(&tasks[0]);
    assert_eq!(tasks.len(), 1, "one task");
    assert_eq!(recordings.len(), 1, "one recording");
    let wav = reqwest::get(format!(
        "{}/sandbox/files/{}",
        env.sandbox.base_url(),
        recordings[0].0
    ))
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(
        u16::from_le_bytes([wav[22], wav[23]]),
        2,
        "both sides in one stereo WAV"
    );
    assert!(
        wav.len() > 44 + 8000,
        "it holds the call's audio ({} bytes)",
        wav.len()
    );

    wait_until("the task to open", Duration::from_secs(5), || {
        !env.opened().is_empty()
    })
    .await;
    // The recording was attached after the call's end was handled: every decision to
    // open its task has been made by now.
    let opened = env.opened();
    assert_eq!(opened.len(), 1, "the task opened once: {opened:?}");
    assert!(opened[0].url.contains("/t#id1"), "{opened:?}");
}

/// The next call event within `secs`.
async fn next_event(
    rx: &mut tokio::sync::mpsc::Receiver<pyrus_phone::sources::Heard>,
    secs: u64,
) -> pyrus_phone::domain::CallEvent {
    tokio::time::timeout(Duration::from_secs(secs), rx.recv())
        .await
        .expect("baresip sent no call event in time")
        .expect("the baresip source stopped")
        .event
}

fn baresip_connected(monitor: &Monitor) -> bool {
    monitor.snapshot().baresip.is_some_and(|b| b.connected)
}

#[ignore = "system tier (tests/run.sh): needs baresip and sipp"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ringing_baresip_call_is_answered_from_here_and_a_restarted_baresip_is_found_again() {
    crate::support::system_tier("baresip and sipp");
    let dir = tempfile::tempdir().unwrap();
    let phone = dir.path().join("baresip");
    let rec = phone.join("rec");
    std::fs::create_dir_all(&rec).unwrap();
    write_wav(&phone.join("in.wav"), 8_000);
    let (sip, ctrl) = (free_udp(), free_tcp());
    write_baresip_config(&phone, &rec, sip, ctrl, false);
    let mut baresip = Some(start_baresip(&phone));

    let monitor = Arc::new(Monitor::default());
    let (events, mut rx) = tokio::sync::mpsc::channel(16);
    let (commands, command_rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(baresip::run(
        format!("127.0.0.1:{ctrl}"),
        events,
        Arc::clone(&monitor),
        command_rx,
    ));
    wait_until("a connection to baresip", Duration::from_secs(20), || {
        baresip_connected(&monitor)
    })
    .await;

    // Without auto-answer the call rings until we answer it through ctrl_tcp.
    for round in 0..2 {
        let call = sipp_call(&phone, sip, free_udp(), 500);
        let ring = next_event(&mut rx, 15).await;
        assert_eq!(ring.kind, EventKind::Ring, "round {round}: {ring:?}");
        assert_eq!(ring.number.as_str(), "79774221338");
        commands.send(BaresipCommand::Accept).await.unwrap();
        // Events arrive in order: the one after the ring is the answer we asked for, so the
        // call only rang until then.
        let answered = next_event(&mut rx, 10).await;
        assert_eq!(answered.kind, EventKind::Answer, "round {round}");
        assert_eq!(answered.call_id, ring.call_id);
        let ended = next_event(&mut rx, 15).await;
        assert_eq!(ended.kind, EventKind::End, "round {round}");
        assert!(
            call.await.unwrap().success(),
            "sipp's call went through once answered"
        );
        let raw = monitor.snapshot().raw;
        let baresip_raw = &raw.iter().find(|(s, _)| *s == SourceId::Baresip).unwrap().1;
        assert!(
            baresip_raw
                .iter()
                .any(|m| m.verdict == Verdict::Sent && m.text.contains("\"accept\"")),
            "the accept command is in the doctor's list"
        );

        if round == 0 {
            // baresip restarts: the source notices, and connects again by itself.
            drop(baresip.take());
            wait_until(
                "the source to notice baresip stopping",
                Duration::from_secs(10),
                || !baresip_connected(&monitor),
            )
            .await;
            baresip = Some(start_baresip(&phone));
            wait_until(
                "the source to reconnect to the restarted baresip",
                Duration::from_secs(20),
                || baresip_connected(&monitor),
            )
            .await;
        }
    }
    drop(baresip);
}
