//! A real softphone: Debian's baresip (ctrl_tcp on loopback, sndfile recording, auto-answer)
//! takes a call placed by sipp from a numeric caller. pyrus-phone, headless against the
//! sandbox, must register the call with the caller's number and the SIP Call-ID, open its
//! task once, and after hang-up attach one stereo WAV holding both sides.

use std::io::Write as _;
use std::net::{TcpListener, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{Env, wait_for, write_wav};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn free_tcp() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn free_udp() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write(path: &std::path::Path, text: &str) {
    std::fs::File::create(path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_baresip_call_is_registered_popped_once_and_its_recording_attached() {
    let mut env = Env::start().await;
    let home = env.home().to_path_buf();
    let phone = home.join("baresip");
    let rec = phone.join("rec");
    std::fs::create_dir_all(&rec).unwrap();
    write_wav(&phone.join("in.wav"), 80_000);
    let (sip, ctrl, sipp_port) = (free_udp(), free_tcp(), free_udp());
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
    write(
        &phone.join("accounts"),
        &format!("<sip:agent@127.0.0.1:{sip}>;regint=0;answermode=auto\n"),
    );
    let _baresip = Killed(
        Command::new("baresip")
            .arg("-f")
            .arg(&phone)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("baresip is installed (the test command installs baresip-core)"),
    );

    std::fs::create_dir_all(home.join("config")).unwrap();
    write(
        &home.join("config/settings.toml"),
        "[defaults]\nline_number = \"+74953009080\"\n",
    );
    let pops = home.join("opened.txt");
    let shim = home.join("browser.sh");
    write(
        &shim,
        &format!("#!/bin/sh\necho \"$1\" >> {}\n", pops.display()),
    );
    Command::new("chmod").arg("+x").arg(&shim).status().unwrap();
    env.extra
        .push(("BROWSER".into(), format!("{} %s", shim.display())));
    let ctrl_addr = format!("127.0.0.1:{ctrl}");
    let _instance = Killed(
        env.command(&[
            "--headless",
            "--hook-port",
            "0",
            "--baresip",
            &ctrl_addr,
            "--recordings",
            rec.to_str().unwrap(),
        ])
        .spawn()
        .unwrap(),
    );
    let log_dir = home.join("logs");
    let connected = wait_for(Duration::from_secs(20), || {
        std::fs::read_dir(&log_dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|f| {
                std::fs::read_to_string(f.path())
                    .unwrap_or_default()
                    .contains("connected to baresip")
            })
    })
    .await;
    assert!(
        connected,
        "pyrus-phone never connected to baresip's ctrl_tcp"
    );

    // sipp's own caller scenario, with a numeric caller.
    let scenario = Command::new("sipp")
        .arg("-sd")
        .arg("uac")
        .output()
        .expect("sipp is installed (sip-tester)");
    let xml = String::from_utf8_lossy(&scenario.stdout)
        .replace("sip:sipp@", "sip:79774221338@")
        .replace("From: sipp ", "From: \"79774221338\" ");
    write(&phone.join("uac.xml"), &xml);
    let call = tokio::task::spawn_blocking({
        let phone = phone.clone();
        move || {
            Command::new("timeout")
                .args(["30", "sipp", "-sf"])
                .arg(phone.join("uac.xml"))
                .args([
                    "-s",
                    "agent",
                    "-d",
                    "2000",
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
        }
    })
    .await
    .unwrap();
    assert!(call.success(), "sipp's call failed: {call:?}");

    assert!(
        wait_for(Duration::from_secs(20), || env.sandbox.tasks().len() == 1).await,
        "the call was not registered"
    );
    let task = env.sandbox.tasks().remove(0);
    assert_eq!(task.from_number, "79774221338");
    assert_eq!(task.to_number, "+74953009080");
    let call_id = &task.external_ids[0];
    assert!(
        call_id.ends_with("@127.0.0.1") && call_id.contains('-'),
        "the SIP Call-ID is the external id: {call_id}"
    );

    let attached = wait_for(Duration::from_secs(60), || {
        env.sandbox.tasks()[0]
            .comments
            .iter()
            .any(|c| c.recording.is_some())
    })
    .await;
    assert!(
        attached,
        "the recording was not attached: {:?}",
        env.sandbox.tasks()
    );
    let tasks = env.sandbox.tasks();
    let recordings: Vec<_> = tasks[0]
        .comments
        .iter()
        .filter_map(|c| c.recording.clone())
        .collect();
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

    assert!(
        wait_for(Duration::from_secs(5), || pops.exists()).await,
        "the task never opened"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let opened = std::fs::read_to_string(&pops).unwrap();
    assert_eq!(opened.lines().count(), 1, "the task opened once: {opened}");
    assert!(opened.contains("/t#id1"), "{opened}");
}
