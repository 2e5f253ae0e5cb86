//! The loopback event hook: what it accepts and what it refuses, a storm of random requests,
//! and a MicroSIP-style ring/answer/end through the command hook of the real binary.

use std::net::TcpStream;
use std::sync::Arc;

use pyrus_phone::domain::sources::AllowRule;
use pyrus_phone::domain::{CallEvent, EventKind, Secret, SourceId, TokenOrigin, Verdict};
use pyrus_phone::sources::hook_port::{HookPlan, RunningHook};
use pyrus_phone::sources::http_hook::{self, HookOptions, HookOutputs, HookServer, TokenCell};
use pyrus_phone::sources::monitor::Monitor;
use pyrus_phone::sources::{Heard, forward, runtime_file};
use tokio::sync::mpsc;

use crate::support::hook::{bearer, post, raw, raw_to};

const TOKEN: &str = "hook-test-token";

/// Where the hook's events go in these tests: each is acknowledged as stored at once and
/// passed on to `tx`, as the service's journal would after its write.
fn storing(tx: mpsc::Sender<CallEvent>) -> mpsc::Sender<Heard> {
    let (heard_tx, mut heard) = mpsc::channel::<Heard>(16);
    tokio::spawn(async move {
        while let Some(h) = heard.recv().await {
            if let Some(ack) = h.stored {
                ack.send(Ok(())).ok();
            }
            if tx.send(h.event).await.is_err() {
                return;
            }
        }
    });
    heard_tx
}

/// The hook's options: a free port, loopback or the network, and the allowed addresses.
fn options(network: bool, allow: &[&str]) -> HookOptions {
    HookOptions {
        port: 0,
        network,
        allow: allow.iter().map(|a| AllowRule::parse(a).unwrap()).collect(),
    }
}

/// A hook with the test token, sending to `outputs`; what its doctor saw.
async fn serve_hook(options: HookOptions, outputs: HookOutputs) -> (HookServer, Arc<Monitor>) {
    let monitor = Arc::new(Monitor::default());
    let hook = http_hook::start(
        options,
        TokenCell::new(Secret::new(TOKEN)),
        outputs,
        Arc::clone(&monitor),
    )
    .await
    .unwrap();
    (hook, monitor)
}

/// A hook for events only, which it stores and passes on to `tx`.
async fn start_hook(
    tx: mpsc::Sender<CallEvent>,
    network: bool,
    allow: &[&str],
) -> (HookServer, Arc<Monitor>) {
    let outputs = HookOutputs {
        events: storing(tx),
        show: None,
    };
    serve_hook(options(network, allow), outputs).await
}

/// Requests the hook must refuse: what, headers, body, status.
fn refusals(auth: &str, good: &str) -> Vec<(&'static str, String, String, u16)> {
    vec![
        ("no token", String::new(), good.to_owned(), 401),
        (
            "wrong token",
            "Authorization: Bearer nope\r\n".to_owned(),
            good.to_owned(),
            401,
        ),
        (
            "a web page",
            format!("{auth}Origin: https://evil.example\r\n"),
            good.to_owned(),
            403,
        ),
        (
            "malformed JSON",
            auth.to_owned(),
            "{\"event\":".to_owned(),
            400,
        ),
        (
            "a bad number",
            auth.to_owned(),
            r#"{"event":"ring","number":"call me"}"#.to_owned(),
            400,
        ),
        (
            "an unknown event",
            auth.to_owned(),
            r#"{"event":"explode","number":"123"}"#.to_owned(),
            400,
        ),
        (
            "an unknown field",
            auth.to_owned(),
            r#"{"event":"ring","number":"123","x":1}"#.to_owned(),
            400,
        ),
        (
            "an oversized body",
            auth.to_owned(),
            format!(
                r#"{{"event":"ring","number":"123","call_id":"{}"}}"#,
                "x".repeat(70_000)
            ),
            413,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hook_accepts_good_events_and_refuses_everything_else() {
    let (tx, mut rx) = mpsc::channel(16);
    let (hook, monitor) = start_hook(tx, false, &[]).await;
    let port = hook.addr.port();
    let auth = bearer(TOKEN);
    let good = r#"{"event":"ring","number":"+7 977 422-13-38","call_id":"c-1","internal":"200"}"#;

    let (p, a) = (port, auth.clone());
    let status = tokio::task::spawn_blocking(move || post(p, &a, good))
        .await
        .unwrap();
    assert_eq!(status, 202);
    let event = rx.recv().await.unwrap();
    assert_eq!(event.kind, EventKind::Ring);
    assert_eq!(event.number.as_str(), "+79774221338");
    assert_eq!(event.call_id.as_deref(), Some("c-1"));

    // A phone that can only call a URL.
    let p = port;
    let status = tokio::task::spawn_blocking(move || {
        raw(p, &format!("GET /events?event=end&from=123456&token={TOKEN} HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nConnection: close\r\n\r\n"))
    })
    .await
    .unwrap();
    assert_eq!(status, 202);
    assert_eq!(rx.recv().await.unwrap().kind, EventKind::End);

    let refusals = refusals(&auth, good);
    for (what, headers, body, expected) in refusals {
        let p = port;
        let status = tokio::task::spawn_blocking(move || post(p, &headers, &body))
            .await
            .unwrap();
        assert_eq!(status, expected, "{what}");
    }
    // A foreign Host (DNS rebinding).
    let p = port;
    let status = tokio::task::spawn_blocking(move || {
        raw(p, &format!("POST /events HTTP/1.1\r\nHost: evil.example:{p}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{good}", good.len()))
    })
    .await
    .unwrap();
    assert_eq!(status, 403, "foreign host");
    assert!(
        rx.try_recv().is_err(),
        "nothing refused reached the service"
    );

    // The doctor saw every request, refused ones with the reason, and never the token.
    let raw = monitor.snapshot().raw;
    let http = &raw.iter().find(|(s, _)| *s == SourceId::Http).unwrap().1;
    // Every refusal but the oversized body, which is cut off before it is read.
    assert_eq!(
        http.iter()
            .filter(|m| matches!(m.verdict, Verdict::Refused(_)))
            .count(),
        8,
        "{http:?}"
    );
    assert!(http.iter().all(|m| !m.text.contains(TOKEN)), "{http:?}");
    assert!(
        http.iter().any(
            |m| matches!(&m.verdict, Verdict::Refused(why) if why.starts_with("401 wrong token"))
        ),
        "{http:?}"
    );
    assert_eq!(
        http.iter()
            .filter(|m| m.verdict == Verdict::Accepted)
            .count(),
        2,
        "the two good events"
    );
}

/// This computer's address on its network (no packet is sent).
fn lan_ip() -> String {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    socket
        .connect("192.0.2.1:9")
        .expect("this machine has a network address (the test needs one besides loopback)");
    socket.local_addr().unwrap().ip().to_string()
}

#[ignore = "system tier (tests/run.sh): needs a network address besides loopback"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_network_only_listed_addresses_may_send_events() {
    crate::support::system_tier("a network address besides loopback");
    let lan = lan_ip();
    assert!(!lan.starts_with("127."), "a non-loopback address: {lan}");
    let request = |port: u16, host: &str| {
        format!(
            "GET /events?event=ring&number=sip:101@pbx.local&call_id=yl-1&token={TOKEN} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
        )
    };

    // Loopback only (the default): the LAN address is not even listened on.
    let (tx, _rx) = mpsc::channel(16);
    let (local, _) = start_hook(tx, false, &[]).await;
    let port = local.addr.port();
    let (ip, req) = (lan.clone(), request(port, &lan));
    let refused = tokio::task::spawn_blocking(move || {
        TcpStream::connect((ip.as_str(), port)).map(|_| req.len())
    })
    .await
    .unwrap();
    assert!(
        refused.is_err(),
        "a loopback hook is reachable from the network"
    );

    // On the network, for another address: this computer's LAN address is refused.
    let (tx, mut rx) = mpsc::channel(16);
    let (hook, monitor) = start_hook(tx, true, &["192.0.2.7"]).await;
    let port = hook.addr.port();
    let (ip, req) = (lan.clone(), request(port, &lan));
    let status = tokio::task::spawn_blocking(move || raw_to(&ip, port, &req))
        .await
        .unwrap();
    assert_eq!(status, 403, "an address not on the list");
    assert!(rx.try_recv().is_err());
    let raw = monitor.snapshot().raw;
    let why = match &raw[0].1[0].verdict {
        Verdict::Refused(why) => why.clone(),
        other => panic!("{other:?}"),
    };
    assert!(
        why.contains(&lan) && why.contains("allowed addresses"),
        "{why}"
    );

    // Listed (as a network): accepted, with the Host an IP address and $remote a SIP URI.
    let (tx, mut rx) = mpsc::channel(16);
    let net = format!("{lan}/32");
    let (hook, _) = start_hook(tx, true, &[&net]).await;
    let port = hook.addr.port();
    let (ip, req) = (lan.clone(), request(port, &lan));
    let status = tokio::task::spawn_blocking(move || raw_to(&ip, port, &req))
        .await
        .unwrap();
    assert_eq!(status, 202);
    let event = rx.recv().await.unwrap();
    assert_eq!(event.number.as_str(), "101");
    assert_eq!(event.call_id.as_deref(), Some("yl-1"));
    // A host name is refused even on the network (DNS rebinding).
    let (ip, req) = (lan.clone(), request(port, "phones.example"));
    let status = tokio::task::spawn_blocking(move || raw_to(&ip, port, &req))
        .await
        .unwrap();
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hook_survives_a_storm_of_random_requests() {
    let (tx, mut rx) = mpsc::channel(4096);
    let (hook, _monitor) = start_hook(tx, false, &[]).await;
    let port = hook.addr.port();
    let auth = bearer(TOKEN);
    let sent = tokio::task::spawn_blocking(move || {
        use rand::Rng as _;
        let mut rng = rand::rng();
        let pieces = ["event", "ring", "number", "+7", "{", "}", "\"", ":", ",", "token", TOKEN, "\u{0}", "я", "%", "&", "="];
        let mut accepted = 0;
        for i in 0..3000 {
            let mut body = String::new();
            for _ in 0..rng.random_range(0..12) {
                body.push_str(pieces[rng.random_range(0..pieces.len())]);
            }
            let status = if i % 3 == 0 {
                let path: String = (0..rng.random_range(0..20)).map(|_| rng.random_range(b'!'..=b'~') as char).collect();
                raw(port, &format!("GET /{path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"))
            } else {
                post(port, &auth, &body)
            };
            assert!(status != 0 && status != 500, "request {i} got {status}: {body:?}");
            if status == 202 {
                accepted += 1;
            }
        }
        // Still serving, and still correct.
        let status = post(port, &auth, r#"{"event":"answer","number":"123456"}"#);
        assert_eq!(status, 202);
        accepted + 1
    })
    .await
    .unwrap();
    let mut received = 0;
    while rx.try_recv().is_ok() {
        received += 1;
    }
    assert_eq!(
        received, sent,
        "every accepted event, and only those, arrived"
    );
}

// Its instance opens tasks through `$BROWSER`, honoured on Linux and the BSDs only.
#[cfg(all(unix, not(target_os = "macos")))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_microsip_sequence_through_the_command_hook_is_one_call_and_one_pop() {
    use crate::support::headless::Headless;
    use crate::support::{Env, LINE_SETTINGS, wait_until};
    use pyrus_phone::sandbox::Route;
    use std::time::{Duration, Instant};

    let env = Env::start().await;
    env.write_settings(LINE_SETTINGS);
    let _instance = Headless::start(&env, &[]).await;
    let mut slowest = Duration::ZERO;
    for kind in ["ring", "answer", "end"] {
        let started = Instant::now();
        let out = env.run(&["event", kind, "89774221338"]).await;
        slowest = slowest.max(started.elapsed());
        assert_eq!(out.code, 0, "{kind}: {out:?}");
    }
    eprintln!("slowest forwarding process: {slowest:?}");
    env.wait_for_tasks(1, "the call to be registered", 15).await;
    // Events are handled in order: once a later call is registered, answer and end were
    // handled too, and registered nothing more.
    env.run(&["event", "ring", "--call-id", "later", "89990000001"])
        .await
        .ok();
    env.wait_for_tasks(2, "the later call to be registered", 15)
        .await;
    // The sandbox notes a request just after answering it.
    wait_until(
        "the sandbox to note both registrations",
        Duration::from_secs(5),
        || env.count(Route::Call) >= 2,
    )
    .await;
    assert_eq!(env.count(Route::Call), 2, "one registration per call");
    let task = &env.sandbox.tasks()[0];
    assert_eq!(task.from_number, "89774221338");
    assert_eq!(task.to_number, "+74953009080");
    let pops = wait_until("each call's task to open", Duration::from_secs(5), || {
        let pops = env.opened();
        (pops.len() == 2).then_some(pops)
    })
    .await;
    assert!(pops[0].url.ends_with("#id1"), "{pops:?}");

    // A tel: link is handed over the same way, and registers nothing by itself (a window
    // puts it in the form): the call heard after it is the next task.
    env.run(&["tel:%2B7-999-000-00-01"]).await.ok();
    env.run(&["event", "outgoing", "--call-id", "o-9", "+7 999 000-00-02"])
        .await
        .ok();
    env.wait_for_tasks(3, "the call after the link to be registered", 15)
        .await;
    let tasks = env.sandbox.tasks();
    assert_eq!(tasks.len(), 3, "{tasks:?}");
    assert_eq!(
        (tasks[2].from_number.as_str(), tasks[2].to_number.as_str()),
        ("+74953009080", "+79990000002")
    );
    let not_a_link = env.run(&["https://example.org"]).await.exited(2);
    assert!(
        not_a_link
            .stderr
            .contains("is not a tel:, callto: or sip: link")
    );

    // A bad event is refused by the forwarding process itself.
    env.run(&["event", "explode", "123"]).await.exited(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_start_may_ask_the_window_to_come_to_the_front_and_nobody_else_may() {
    let (plain, _rx) = mpsc::channel(4);
    let events = storing(plain.clone());
    let (show_tx, mut show_rx) = mpsc::channel(4);
    let outputs = HookOutputs {
        events,
        show: Some(show_tx),
    };
    let (windowed, _monitor) = serve_hook(options(false, &[]), outputs).await;
    let (headless, _monitor) = start_hook(plain, false, &[]).await;
    let ask = |port: u16, auth: &'static str| {
        tokio::task::spawn_blocking(move || {
            raw(
                port,
                &format!(
                    "POST /show HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
                ),
            )
        })
    };
    let port = windowed.addr.port();
    assert_eq!(ask(port, "").await.unwrap(), 401, "no token");
    assert_eq!(
        ask(port, "Authorization: Bearer nope\r\n").await.unwrap(),
        401,
        "wrong token"
    );
    let from_a_page = "Authorization: Bearer hook-test-token\r\nOrigin: http://evil.example\r\n";
    assert_eq!(ask(port, from_a_page).await.unwrap(), 403, "a web page");
    assert!(show_rx.try_recv().is_err(), "refused: nothing shown");
    // What a second start reads from the runtime file.
    let published = |port| runtime_file::Instance {
        port,
        token: TOKEN.to_owned(),
        pid: 1,
    };
    let instance = published(windowed.addr.port());
    let shown = tokio::task::spawn_blocking(move || forward::show(&instance))
        .await
        .unwrap()
        .unwrap();
    assert!(shown);
    assert_eq!(show_rx.recv().await, Some(()), "the window was asked");
    let no_window = published(headless.addr.port());
    let shown = tokio::task::spawn_blocking(move || forward::show(&no_window))
        .await
        .unwrap()
        .unwrap();
    assert!(!shown, "a headless instance says it has no window");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_falls_back_to_a_free_one_and_check_again_moves_back() {
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let wanted = blocker.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let (events, mut rx) = mpsc::channel(4);
    let events = storing(events);
    let monitor = Arc::new(Monitor::default());
    let plan = HookPlan {
        options: HookOptions {
            port: wanted,
            ..options(false, &[])
        },
        allow_text: Vec::new(),
        token: TokenCell::new(Secret::new(TOKEN)),
        token_origin: TokenOrigin::Keyring,
        outputs: HookOutputs { events, show: None },
        runtime_dir: dir.path().to_path_buf(),
    };
    let hook = RunningHook::start(plan, Arc::clone(&monitor))
        .await
        .unwrap();
    let fallback = hook.addr().await.unwrap();
    assert_ne!(fallback.port(), wanted);
    let health = monitor.snapshot().hook.unwrap();
    assert_eq!(health.taken_port, Some(wanted), "{health:?}");
    assert!(
        health
            .problem
            .as_deref()
            .is_some_and(|p| p.contains(&format!("port {wanted} is taken"))),
        "{health:?}"
    );
    let published = runtime_file::read(dir.path()).unwrap();
    assert_eq!(
        published.port,
        fallback.port(),
        "command hooks find the fallback"
    );

    // Still taken: it says so and stays where it is.
    let still = hook.check_again().await.unwrap_err();
    assert!(still.to_string().contains("still taken"), "{still}");
    assert_eq!(hook.addr().await, Some(fallback));

    // The other program lets go: the hook moves back, and command hooks follow.
    drop(blocker);
    let back = hook.check_again().await.unwrap();
    assert_eq!(back.port(), wanted);
    assert_eq!(runtime_file::read(dir.path()).unwrap().port, wanted);
    let health = monitor.snapshot().hook.unwrap();
    assert_eq!(health.taken_port, None, "{health:?}");
    assert_eq!(health.listening, Some(back.to_string()));
    let instance = runtime_file::read(dir.path()).unwrap();
    let event = CallEvent::parse("ring", "+79161112200", None, None, None, "command").unwrap();
    tokio::task::spawn_blocking(move || {
        forward::send(&instance, &event, &forward::new_delivery_id())
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        rx.recv().await.unwrap().kind,
        EventKind::Ring,
        "heard on the configured port"
    );
}

// The file limits are Unix's; the instance opens the call's task through `$BROWSER`,
// honoured on Linux and the BSDs only.
#[cfg(all(unix, not(target_os = "macos")))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_events_are_served_while_1100_idle_connections_are_held_open() {
    use crate::support::headless::Headless;
    use crate::support::hook::{HookClient, event};
    use crate::support::{Env, LINE_SETTINGS};
    use std::time::Duration;
    // This test holds 1100 connections itself: it needs the files for them.
    files_for_connections(1100);

    let env = Env::start().await;
    env.write_settings(LINE_SETTINGS);
    // The instance runs under a 1024-file limit.
    let instance = Headless::spawn(&env, with_files(&env, 1024)).await;
    let port = instance.hook.port;

    // Any local process, no token: 1100 connections that never send a byte.
    let idle: Vec<TcpStream> = (0..1100)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    // A declared 10 MB body is refused before any of it is read.
    let big = tokio::task::spawn_blocking(move || {
        raw(
            port,
            &format!(
                "POST /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 10000000\r\nConnection: close\r\n\r\n"
            ),
        )
    });
    // A valid event still goes through, and is registered.
    let hook = HookClient {
        timeout: Duration::from_secs(60),
        ..instance.hook.clone()
    };
    let status = tokio::task::spawn_blocking(move || {
        hook.post(&event("ring", "+79161112200", "under-load"))
    })
    .await
    .unwrap();
    assert_eq!(status, 202, "the valid event was not served");
    assert_eq!(big.await.unwrap(), 413, "a 10 MB body declared up front");
    env.wait_for_tasks(1, "the call to be registered", 20).await;
    drop(idle);
}

/// A headless start of `env`'s instance under an open-file limit of `files` (soft and hard).
#[cfg(all(unix, not(target_os = "macos")))]
fn with_files(env: &crate::support::Env, files: u32) -> std::process::Command {
    let plain = env.command(&["--headless", "--hook-port", "0"]);
    let mut limited = std::process::Command::new("sh");
    limited
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .arg("-c")
        .arg(format!("ulimit -n {files} && exec \"$0\" \"$@\""))
        .arg(plain.get_program())
        .args(plain.get_args());
    for (key, value) in plain.get_envs() {
        match value {
            Some(value) => limited.env(key, value),
            None => limited.env_remove(key),
        };
    }
    limited
}

/// Raises this test process's open-file limit (to 4,096 at most) so that it can hold
/// `connections` of its own beside the other tests' files.
#[cfg(all(unix, not(target_os = "macos")))]
fn files_for_connections(connections: u64) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let wanted = limit.maximum.map_or(4096, |max| max.min(4096));
    assert!(
        wanted >= 1300.max(connections + 200),
        "the file limit ({limit:?}) leaves no room for {connections} connections"
    );
    let raised = Rlimit {
        current: Some(wanted),
        maximum: limit.maximum,
    };
    setrlimit(Resource::Nofile, raised).unwrap();
}

/// Opens a connection to the hook (no delay on small writes), or `None` when it is not
/// taking connections.
#[cfg(all(unix, not(target_os = "macos")))]
fn trickler(port: u16) -> Option<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_nodelay(true).ok()?;
    Some(stream)
}

// The file limits are Unix's; the instance opens the call's task through `$BROWSER`,
// honoured on Linux and the BSDs only.
#[cfg(all(unix, not(target_os = "macos")))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_events_are_served_within_a_second_through_a_trickling_flood() {
    use std::time::Duration;

    use crate::support::headless::Headless;
    use crate::support::hook::event;
    use crate::support::{Env, LINE_SETTINGS};
    // This test holds 600 connections itself: it needs the files for them.
    files_for_connections(600);
    let env = Env::start().await;
    env.write_settings(LINE_SETTINGS);
    let instance = Headless::start(&env, &["--hook-port", "0"]).await;
    // One event before the flood: what a first event loads once (the numbering plan) is
    // not the flood's doing.
    let first = instance.hook.clone();
    let status = tokio::task::spawn_blocking(move || {
        first.post(&event("ring", "+79161113299", "before-flood"))
    })
    .await
    .unwrap();
    assert_eq!(status, 202);

    let (slowest, reopened) = send_through_a_flood(&instance.hook, 600).await;
    // The flood was real: the hook cut its connections and they came back.
    assert!(reopened > 600, "the trickling connections were never cut");
    assert!(slowest < Duration::from_secs(1), "slowest: {slowest:?}");
    env.wait_for_tasks(6, "the events to be registered", 20)
        .await;
}

/// Sends five valid events through the hook, one every two seconds, while `connections`
/// local connections without the token trickle — half a head, half a declared body, one
/// byte a second each, each opened again as soon as the hook closes it. Gives the slowest
/// event's time and how many flood connections were opened.
#[cfg(all(unix, not(target_os = "macos")))]
async fn send_through_a_flood(
    hook: &crate::support::hook::HookClient,
    connections: usize,
) -> (std::time::Duration, usize) {
    use std::io::Write as _;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use crate::support::hook::{HookClient, event};
    let port = hook.port;
    let stop = Arc::new(AtomicBool::new(false));
    let flood = {
        let stop = Arc::clone(&stop);
        std::thread::Builder::new().name("flood".into()).spawn(move || {
            let head = format!("POST /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: ");
            let body = format!(
                "POST /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 1000\r\n\r\n"
            );
            let opening = |i: usize| {
                if i.is_multiple_of(2) {
                    head.as_bytes()
                } else {
                    body.as_bytes()
                }
            };
            let mut held: Vec<Option<TcpStream>> = (0..connections).map(|_| None).collect();
            let mut reopened = 0_usize;
            while !stop.load(Ordering::Relaxed) {
                for (i, slot) in held.iter_mut().enumerate() {
                    let alive = match slot {
                        Some(stream) => stream.write_all(b"x").is_ok(),
                        None => false,
                    };
                    if !alive {
                        *slot = trickler(port).and_then(|mut s| {
                            s.write_all(opening(i)).ok()?;
                            Some(s)
                        });
                        reopened += 1;
                    }
                }
                std::thread::sleep(Duration::from_secs(1));
            }
            reopened
        })
    };
    // Let the flood take hold before the first event.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let hook = HookClient {
        timeout: Duration::from_secs(30),
        ..hook.clone()
    };
    let mut slowest = Duration::ZERO;
    for i in 0..5 {
        let hook = hook.clone();
        let (status, took) = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let status = hook.post(&event(
                "ring",
                &format!("+7916111{connections:03}{i}"),
                &format!("flood-{connections}-{i}"),
            ));
            (status, started.elapsed())
        })
        .await
        .unwrap();
        assert_eq!(status, 202, "event {i} was not served");
        slowest = slowest.max(took);
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let reopened = tokio::task::spawn_blocking(move || flood.unwrap().join().unwrap())
        .await
        .unwrap();
    eprintln!(
        "slowest valid event under a flood of {connections}: {slowest:?}; flood connections opened: {reopened}"
    );
    (slowest, reopened)
}

// The file limits are Unix's; the instance opens the call's task through `$BROWSER`,
// honoured on Linux and the BSDs only.
#[cfg(all(unix, not(target_os = "macos")))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokened_events_go_ahead_of_a_flood_that_holds_every_slot() {
    use crate::support::headless::Headless;
    use crate::support::hook::event;
    use crate::support::{Env, LINE_SETTINGS};
    use std::time::Duration;
    files_for_connections(300);
    let env = Env::start().await;
    env.write_settings(LINE_SETTINGS);
    // 320 files: the hook serves at most 64 connections at once (its floor).
    let instance = Headless::spawn(&env, with_files(&env, 320)).await;
    let first = instance.hook.clone();
    let status = tokio::task::spawn_blocking(move || {
        first.post(&event("ring", "+79161113399", "before-the-flood"))
    })
    .await
    .unwrap();
    assert_eq!(status, 202);
    // 300 connections without the token: far more than every slot.
    let (slowest, reopened) = send_through_a_flood(&instance.hook, 300).await;
    assert!(reopened > 300 * 2, "the flood's connections were never cut");
    assert!(slowest < Duration::from_secs(1), "slowest: {slowest:?}");
    env.wait_for_tasks(6, "the events to be registered", 20)
        .await;
}
