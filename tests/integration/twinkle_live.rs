//! A real Twinkle: Debian's `twinkle-console` (headless: no sound card, no registrar, its
//! console on a pipe), its profile's call scripts written by `pyrus-phone setup twinkle`,
//! and sipp as the far end of every outcome — answered and hung up by either side,
//! cancelled, rejected, refused while Do not disturb is on, and a call the agent makes.
//! What the sandbox got is checked: one registration per call under its SIP Call-ID, the
//! sides the right way round, the missed ones said missed, and the task of each answered
//! call opened once. Calls taken before the scripts were set up, with pyrus-phone closed, are
//! registered from Twinkle's history when it starts; a call taken with pyrus-phone closed
//! after set-up starts it.

use std::fs::File;
use std::io::Write as _;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::support::headless::{Headless, runtime_dir, terminate};
use crate::support::{Env, wait_until, write_file};

/// This line's number, as the settings give it.
const LINE: &str = "+74953009080";

fn free_udp() -> u16 {
    loop {
        let port = 20_000 + rand::random::<u16>() % 12_000;
        // Twinkle takes the port and the one above it (RTP pairs) on every address.
        if port.is_multiple_of(2)
            && UdpSocket::bind(("0.0.0.0", port)).is_ok()
            && UdpSocket::bind(("0.0.0.0", port + 1)).is_ok()
        {
            return port;
        }
    }
}

/// A running twinkle-console, its console fed through a FIFO held open here.
struct Twinkle {
    child: Child,
    console: File,
    out: PathBuf,
}

impl Twinkle {
    /// Starts Twinkle on `sip` with the profile `tw` of the test's home, and waits for its
    /// prompt (its SIP socket is bound then).
    async fn start(env: &Env, sip: u16) -> Self {
        let dir = env.home().join(".twinkle");
        write_file(
            &dir.join("twinkle.sys"),
            &format!(
                "dev_ringtone=alsa:null\ndev_speaker=alsa:null\ndev_mic=alsa:null\nvalidate_audio_dev=no\n\
                 play_ringtone=no\nplay_ringback=no\nsip_port={sip}\nrtp_port={}\nlog_show_sip=yes\n",
                free_udp()
            ),
        );
        let fifo = env.home().join(format!("twinkle-console-{sip}"));
        std::fs::remove_file(&fifo).ok();
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Read and write: opening never blocks, and Twinkle never sees the end of its input.
        let console = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&fifo)
            .unwrap();
        let out = env.home().join(format!("twinkle-{sip}.out"));
        let mut command = env.command_for("twinkle-console", &["tw.cfg"]);
        command
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdin(console.try_clone().unwrap())
            .stdout(File::create(&out).unwrap())
            .stderr(Stdio::null());
        let child = command
            .spawn()
            .expect("twinkle-console is installed (tests/run.sh installs it)");
        let twinkle = Self {
            child,
            console,
            out,
        };
        wait_until("Twinkle's prompt", Duration::from_secs(20), || {
            twinkle.said().contains("Twinkle>")
        })
        .await;
        twinkle
    }

    fn said(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Types a command at Twinkle's console.
    fn say(&mut self, command: &str) {
        writeln!(self.console, "{command}").unwrap();
        self.console.flush().unwrap();
    }

    /// Quits Twinkle as its console does, and waits for it to exit.
    async fn quit(mut self) {
        self.say("quit");
        wait_until("Twinkle to quit", Duration::from_secs(15), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        })
        .await;
    }
}

impl Drop for Twinkle {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// How the far end (sipp, calling Twinkle) behaves.
#[derive(Clone, Copy)]
enum Caller {
    /// Waits for the answer, talks `ms`, hangs up.
    HangsUp(u32),
    /// Waits for the answer, then for Twinkle's BYE.
    WaitsForBye,
    /// Gives up while it rings.
    GivesUp,
    /// Takes a refusal (486, 480 or 603).
    IsRefused,
}

/// A caller's scenario for sipp, from `number` with the display name "Alice".
fn scenario(caller: Caller, number: &str) -> String {
    // A CANCEL, and the ACK of a refusal, belong to the INVITE's transaction: its branch.
    let head = |method: &str, cseq: &str, to_tag: bool| {
        let branch = if matches!(method, "INVITE" | "CANCEL" | "ACK-INVITE") {
            "z9hG4bK-tw-[pid]-[call_number]"
        } else {
            "[branch]"
        };
        let method = method.trim_end_matches("-INVITE");
        format!(
            "{method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n\
             Via: SIP/2.0/[transport] [local_ip]:[local_port];branch={branch}\n\
             From: \"Alice\" <sip:{number}@[local_ip]:[local_port]>;tag=[pid]tw[call_number]\n\
             To: <sip:[service]@[remote_ip]:[remote_port]>{}\n\
             Call-ID: [call_id]\nCSeq: {cseq} {method}\nMax-Forwards: 70\n",
            if to_tag { "[peer_tag_param]" } else { "" }
        )
    };
    let invite = format!(
        "<send retrans=\"500\"><![CDATA[\n{}Contact: <sip:{number}@[local_ip]:[local_port]>\n\
         Content-Type: application/sdp\nContent-Length: [len]\n\nv=0\n\
         o=alice 1 1 IN IP[local_ip_type] [local_ip]\ns=-\nc=IN IP[media_ip_type] [media_ip]\n\
         t=0 0\nm=audio [media_port] RTP/AVP 8 0\na=rtpmap:8 PCMA/8000\na=rtpmap:0 PCMU/8000\n]]></send>\n\
         <recv response=\"100\" optional=\"true\"/>\n",
        head("INVITE", "1", false)
    );
    // The ACK of an answer is a transaction of its own; that of a refusal is the INVITE's.
    let ack = |of: &str| {
        format!(
            "<send><![CDATA[\n{}Content-Length: 0\n\n]]></send>\n",
            head(of, "1", true)
        )
    };
    let answered = format!(
        "<recv response=\"180\" optional=\"true\"/>\n<recv response=\"200\" rrs=\"true\"/>\n{}",
        ack("ACK")
    );
    let body = match caller {
        Caller::HangsUp(ms) => format!(
            "{answered}<pause milliseconds=\"{ms}\"/>\n<send retrans=\"500\"><![CDATA[\n{}Content-Length: 0\n\n]]></send>\n<recv response=\"200\"/>\n",
            head("BYE", "2", true)
        ),
        Caller::WaitsForBye => format!(
            "{answered}<recv request=\"BYE\"/>\n<send><![CDATA[\nSIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:]\n[last_Call-ID:]\n[last_CSeq:]\nContent-Length: 0\n\n]]></send>\n"
        ),
        Caller::GivesUp => format!(
            "<recv response=\"180\"/>\n<pause milliseconds=\"1500\"/>\n<send><![CDATA[\n{}Content-Length: 0\n\n]]></send>\n\
             <recv response=\"200\" optional=\"true\"/>\n<recv response=\"487\"/>\n{}",
            head("CANCEL", "1", false),
            ack("ACK-INVITE")
        ),
        Caller::IsRefused => format!(
            "<recv response=\"180\" optional=\"true\"/>\n<recv response=\"486\" optional=\"true\" next=\"refused\"/>\n\
             <recv response=\"603\" optional=\"true\" next=\"refused\"/>\n<recv response=\"480\"/>\n<label id=\"refused\"/>\n{}",
            ack("ACK-INVITE")
        ),
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"caller\">\n{invite}{body}</scenario>\n"
    )
}

/// sipp calling Twinkle on `sip` from `number` as `caller` does, the call's SIP Call-ID
/// being `{label}@127.0.0.1`. Runs in the background: await it for sipp's exit status.
fn call_twinkle(
    home: &Path,
    sip: u16,
    caller: Caller,
    number: &str,
    label: &str,
) -> tokio::task::JoinHandle<std::process::Output> {
    let file = home.join(format!("{label}.xml"));
    write_file(&file, &scenario(caller, number));
    let label = label.to_owned();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new("timeout")
            .args(["40", "sipp", "-sf"])
            .arg(&file)
            .arg(format!("127.0.0.1:{sip}"))
            .args([
                "-i",
                "127.0.0.1",
                "-mi",
                "127.0.0.1",
                "-s",
                "2000",
                "-m",
                "1",
            ])
            .args([
                "-timeout",
                "30",
                "-nostdin",
                "-cid_str",
                &format!("{label}@%s"),
            ])
            .arg("-p")
            .arg(free_udp().to_string())
            .arg("-mp")
            .arg(free_udp().to_string())
            .stdin(Stdio::null())
            .output()
            .expect("sipp is installed (sip-tester)")
    })
}

/// sipp answering a call Twinkle makes, on `port` (its own callee scenario: it answers at
/// once and waits for the BYE).
fn answer_twinkle(port: u16) -> tokio::task::JoinHandle<std::process::Output> {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new("timeout")
            .args(["40", "sipp", "-sn", "uas", "-i", "127.0.0.1", "-m", "1"])
            .args(["-timeout", "30", "-nostdin", "-p", &port.to_string()])
            .arg("-mp")
            .arg(free_udp().to_string())
            .stdin(Stdio::null())
            .output()
            .expect("sipp is installed (sip-tester)")
    })
}

async fn finished(call: tokio::task::JoinHandle<std::process::Output>, what: &str) {
    let out = call.await.unwrap();
    assert!(
        out.status.success(),
        "sipp ({what}): {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .rev()
            .take(60)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The sandbox's task holding the call `call_id`: (from, to, task id, comments' text).
fn task_of(env: &Env, call_id: &str) -> Option<(String, String, u64, String)> {
    let tasks = env.sandbox.tasks();
    let mut found = tasks
        .iter()
        .filter(|t| t.external_ids.iter().any(|id| id == call_id));
    let task = found.next()?;
    assert!(found.next().is_none(), "{call_id} registered as two tasks");
    let comments: Vec<String> = task.comments.iter().map(|c| c.text.clone()).collect();
    Some((
        task.from_number.clone(),
        task.to_number.clone(),
        task.id,
        comments.join("\n"),
    ))
}

/// How often the task of `call_id` was opened in the browser.
fn opened_for(env: &Env, call_id: &str) -> usize {
    let Some((_, _, id, _)) = task_of(env, call_id) else {
        return 0;
    };
    env.opened()
        .iter()
        .filter(|o| o.url.ends_with(&format!("#id{id}")))
        .count()
}

/// Waits up to 30 s for `check`; when it never holds, fails with what Twinkle's console said
/// and what the sandbox holds.
async fn until(what: &str, twinkle: &Twinkle, env: &Env, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !check() {
        if std::time::Instant::now() > deadline {
            let said = twinkle.said();
            let tail: Vec<&str> = said.lines().rev().take(40).collect();
            panic!(
                "timed out waiting for {what}; Twinkle's console, newest first:\n{}\nthe sandbox's tasks: {:?}",
                tail.join("\n"),
                env.sandbox
                    .tasks()
                    .iter()
                    .map(|t| (&t.from_number, &t.to_number, &t.external_ids))
                    .collect::<Vec<_>>()
            );
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn registered(env: &Env, call_id: &str) {
    wait_until(
        &format!("{call_id} registered"),
        Duration::from_secs(30),
        || task_of(env, call_id).is_some(),
    )
    .await;
}

async fn said_on_task(env: &Env, call_id: &str, words: &str) {
    wait_until(
        &format!("{call_id}'s task to say '{words}'"),
        Duration::from_secs(30),
        || task_of(env, call_id).is_some_and(|t| t.3.contains(words)),
    )
    .await;
}

#[ignore = "system tier (tests/run.sh): needs twinkle-console and sipp"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_twinkle_tells_of_every_outcome_and_of_calls_taken_while_closed() {
    crate::support::system_tier("twinkle-console and sipp");
    let env = Env::start().await;
    // The demo form's customers are indexed: Twinkle is told who is calling.
    env.write_settings(&format!(
        "[pyrus]\nform_id = 1\n\n[defaults]\ncountry = \"RU\"\nline_number = \"{LINE}\"\n\n[calls]\nopen_on = \"answer\"\n"
    ));
    let home = env.home().to_path_buf();
    let dir = home.join(".twinkle");
    write_file(
        &dir.join("tw.cfg"),
        "user_name=2000\nuser_domain=127.0.0.1\nuser_display=Agent\nregister_at_startup=no\n\
         pres_publish_startup=no\nmwi_sollicited=no\n",
    );
    write_file(&dir.join("tw.svc"), "auto_answer=yes\n");
    let sip = free_udp();

    // Before set-up, pyrus-phone closed: two calls Twinkle only writes in its history.
    let twinkle = Twinkle::start(&env, sip).await;
    for (number, label) in [("+79160000301", "before-1"), ("+79160000302", "before-2")] {
        finished(
            call_twinkle(&home, sip, Caller::HangsUp(500), number, label),
            label,
        )
        .await;
    }
    // Twinkle writes a call's line a little after it ends (and not at all when it quits
    // first).
    wait_until("Twinkle's history of both", Duration::from_secs(30), || {
        std::fs::read_to_string(dir.join("twinkle.ch"))
            .is_ok_and(|h| h.contains("+79160000301") && h.contains("+79160000302"))
    })
    .await;
    twinkle.quit().await;

    // Set up; pyrus-phone starts and registers both from the history.
    let setup = env.run(&["setup", "twinkle"]).await.exited(0);
    setup.stdout_says("8 of 8 call scripts run pyrus-phone");
    let instance = Headless::start(&env, &[]).await;
    wait_until(
        "the two calls from Twinkle's history",
        Duration::from_secs(40),
        || {
            let tasks = env.sandbox.tasks();
            ["+79160000301", "+79160000302"].iter().all(|n| {
                tasks
                    .iter()
                    .any(|t| t.from_number == *n && t.to_number == LINE)
            })
        },
    )
    .await;

    // Twinkle with its scripts: every outcome.
    let mut twinkle = Twinkle::start(&env, sip).await;
    let db = home.join("data").join("outbox.sqlite3");
    crate::support::wait_for_caller_index(&db).await;
    // Answered, the caller (a customer with an open task) hangs up; Twinkle shows who it is.
    finished(
        call_twinkle(
            &home,
            sip,
            Caller::HangsUp(1000),
            "+79161234567",
            "answered-they-hang-up",
        ),
        "answered",
    )
    .await;
    assert!(
        twinkle
            .said()
            .contains("From:\t\tOrder 123 not delivered <sip:+79161234567@"),
        "Twinkle names the customer: {}",
        twinkle.said()
    );
    said_on_task(
        &env,
        "answered-they-hang-up@127.0.0.1",
        "Incoming call answered",
    )
    .await;
    // Answered, the agent hangs up once the task has opened.
    let call = call_twinkle(
        &home,
        sip,
        Caller::WaitsForBye,
        "+79160000202",
        "answered-we-hang-up",
    );
    wait_until(
        "the answered call's task to open",
        Duration::from_secs(30),
        || opened_for(&env, "answered-we-hang-up@127.0.0.1") == 1,
    )
    .await;
    twinkle.say("bye");
    finished(call, "answered, hung up here").await;
    said_on_task(
        &env,
        "answered-we-hang-up@127.0.0.1",
        "Incoming call answered",
    )
    .await;

    // Not answered: the caller gives up; rejected here; Do not disturb.
    twinkle.say("auto_answer -a off");
    finished(
        call_twinkle(&home, sip, Caller::GivesUp, "+79160000203", "cancelled"),
        "cancelled",
    )
    .await;
    let call = call_twinkle(&home, sip, Caller::IsRefused, "+79160000204", "rejected");
    registered(&env, "rejected@127.0.0.1").await;
    twinkle.say("reject");
    finished(call, "rejected").await;
    twinkle.say("dnd -a on");
    finished(
        call_twinkle(&home, sip, Caller::IsRefused, "+79160000205", "dnd"),
        "do not disturb",
    )
    .await;
    twinkle.say("dnd -a off");
    for id in ["cancelled", "rejected", "dnd"] {
        said_on_task(&env, &format!("{id}@127.0.0.1"), "Missed call").await;
    }
    // Each row has the caller's name and why the call went unanswered.
    let words = |id: &str| {
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row(
                "SELECT display, end_reason FROM calls WHERE external_id = ?1",
                [format!("{id}@127.0.0.1")],
                |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, Option<String>>(1)?,
                    ))
                },
            )
            .unwrap()
    };
    for (id, why) in [
        ("cancelled", "cancelled"),
        ("rejected", "rejected"),
        ("dnd", "dnd"),
    ] {
        assert_eq!(
            words(id),
            (Some("Alice".to_owned()), Some(why.to_owned())),
            "{id}"
        );
    }

    // The agent calls out; the callee answers; the agent hangs up.
    let callee = free_udp();
    let answer = answer_twinkle(callee);
    // sipp takes a moment to start: call once its port is taken.
    until("sipp to listen", &twinkle, &env, || {
        UdpSocket::bind(("127.0.0.1", callee)).is_err()
    })
    .await;
    twinkle.say(&format!("call sip:+79160000206@127.0.0.1:{callee}"));
    let outgoing = || {
        env.sandbox
            .tasks()
            .into_iter()
            .find(|t| t.to_number == "+79160000206")
    };
    until("the outgoing call's task to open", &twinkle, &env, || {
        outgoing().is_some_and(|t| {
            env.opened()
                .iter()
                .any(|o| o.url.ends_with(&format!("#id{}", t.id)))
        })
    })
    .await;
    twinkle.say("bye");
    finished(answer, "outgoing").await;
    wait_until(
        "the outgoing call's outcome",
        Duration::from_secs(30),
        || {
            outgoing().is_some_and(|t| {
                t.comments
                    .iter()
                    .any(|c| c.text.contains("Outgoing call answered"))
            })
        },
    )
    .await;
    let out = outgoing().unwrap();
    assert_eq!(out.from_number, LINE);
    assert_eq!(
        out.external_ids.len(),
        1,
        "the call under Twinkle's own Call-ID"
    );

    // Each incoming call once, under its Call-ID, from the caller to this line; the task
    // of each answered call opened once, no missed call's.
    for (id, number, answered) in [
        ("answered-they-hang-up", "+79161234567", true),
        ("answered-we-hang-up", "+79160000202", true),
        ("cancelled", "+79160000203", false),
        ("rejected", "+79160000204", false),
        ("dnd", "+79160000205", false),
    ] {
        let call_id = format!("{id}@127.0.0.1");
        let (from, to, _, _) = task_of(&env, &call_id).unwrap();
        assert_eq!((from.as_str(), to.as_str()), (number, LINE), "{id}");
        assert_eq!(opened_for(&env, &call_id), usize::from(answered), "{id}");
    }

    // Closed again: a call now starts pyrus-phone through its script, and is registered
    // once though Twinkle's history holds it too.
    instance.stop();
    std::fs::remove_file(runtime_dir(&home).join("instance.json")).ok();
    twinkle.say("auto_answer -a on");
    finished(
        call_twinkle(
            &home,
            sip,
            Caller::HangsUp(500),
            "+79160000207",
            "while-closed",
        ),
        "while closed",
    )
    .await;
    registered(&env, "while-closed@127.0.0.1").await;
    let started = crate::support::headless::published(&home).await;
    // Its history line read and settled (the mark past its end) without a second task.
    let ended = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - 1;
    wait_until(
        "the history read past the call",
        Duration::from_secs(40),
        || {
            rusqlite::Connection::open(&db)
                .and_then(|c| {
                    c.query_row("SELECT MAX(mark) FROM history_marks", [], |r| {
                        r.get::<_, i64>(0)
                    })
                })
                .is_ok_and(|mark| mark >= ended)
        },
    )
    .await;
    let tasks = env.sandbox.tasks();
    assert_eq!(
        tasks
            .iter()
            .filter(|t| t.from_number == "+79160000207")
            .count(),
        1
    );
    twinkle.quit().await;
    // Started by a call script, it still stops as a session stops it (Twinkle runs its
    // scripts with SIGTERM blocked, and a process starts with its starter's mask).
    terminate(started.pid);
    let proc = PathBuf::from(format!("/proc/{}", started.pid));
    wait_until(
        "the instance a script started to stop",
        Duration::from_secs(15),
        || std::fs::read_to_string(proc.join("stat")).map_or(true, |stat| stat.contains(") Z ")),
    )
    .await;
}
