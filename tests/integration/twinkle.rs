//! Twinkle's call scripts: `pyrus-phone event --twinkle` run with the environment Twinkle
//! gives each trigger (as its field report records them), handed to the running instance;
//! the ringing call's customer printed for Twinkle to show.

use std::process::Output;
use std::time::Duration;

use crate::support::headless::Headless;
use crate::support::{Env, wait_until};

/// Runs `event --twinkle` as Twinkle does for `trigger` of the call `call_id` between the
/// far end `far` and our `2000`.
async fn script(
    env: &Env,
    trigger: &str,
    call_id: &str,
    far: &str,
    extra: &[(&str, &str)],
) -> Output {
    let incoming = trigger.starts_with("in_") || trigger == "remote_release";
    let (from, to) = if incoming {
        (far, "2000")
    } else {
        ("2000", far)
    };
    let mut command = env.command(&["event", "--twinkle"]);
    command
        .env("TWINKLE_TRIGGER", trigger)
        .env("TWINKLE_LINE", "1")
        .env("TWINKLE_USER_PROFILE", "tw")
        .env("SIP_CALL_ID", call_id)
        .env(
            "SIP_FROM",
            format!("\"Alice\" <sip:{from}@127.0.0.1:23414>;tag=1"),
        )
        .env("SIP_FROM_USER", from)
        .env("SIP_TO_USER", to)
        .env("SIP_SUBJECT", "");
    for (k, v) in extra {
        command.env(k, v);
    }
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// The demo's customer ("+7 916 123-45-67") rings through Twinkle's `in_call` script: the
/// script exits well and tells Twinkle the customer's open task as the caller's name.
async fn customer_rings_and_is_named(env: &Env, call_id: &str) {
    let ring = script(env, "in_call", call_id, "+79161234567", &[]).await;
    assert!(ring.status.success(), "{ring:?}");
    assert_eq!(
        String::from_utf8_lossy(&ring.stdout),
        "caller_name=Order 123 not delivered\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twinkles_triggers_make_one_call_and_a_known_caller_is_named_for_twinkle() {
    let env = Env::start().await;
    env.write_settings(
        "[pyrus]\nform_id = 1\n\n[defaults]\ncountry = \"RU\"\nline_number = \"+74953009080\"\n",
    );
    let instance = Headless::start(&env, &[]).await;
    // The index of customers read by the instance.
    let db = env.home().join("data").join("outbox.sqlite3");
    crate::support::wait_for_caller_index(&db).await;

    // A customer rings (the demo's "+7 916 123-45-67"): Twinkle is told who it is.
    customer_rings_and_is_named(&env, "1-100@127.0.0.1").await;
    for trigger in ["in_call_answered", "remote_release"] {
        let out = script(&env, trigger, "1-100@127.0.0.1", "+79161234567", &[]).await;
        assert!(
            out.status.success() && out.stdout.is_empty(),
            "{trigger}: {out:?}"
        );
    }
    // Somebody else, who gives up: nothing printed, a missed call.
    let other = script(&env, "in_call", "1-101@127.0.0.1", "+79035550101", &[]).await;
    assert!(other.stdout.is_empty(), "{other:?}");
    script(
        &env,
        "in_call_failed",
        "1-101@127.0.0.1",
        "+79035550101",
        &[("SIPSTATUS_CODE", "487")],
    )
    .await;
    // Our own BYE on an outgoing call: the far end is in To.
    for trigger in ["out_call", "out_call_answered", "local_release"] {
        script(&env, trigger, "berysoglmsvbcim@vm", "+79035550102", &[]).await;
    }
    wait_until(
        "the three calls registered",
        Duration::from_secs(20),
        || {
            let tasks = env.sandbox.tasks();
            ["1-100@127.0.0.1", "1-101@127.0.0.1", "berysoglmsvbcim@vm"]
                .iter()
                .all(|id| {
                    tasks
                        .iter()
                        .any(|t| t.external_ids.contains(&(*id).to_owned()))
                })
        },
    )
    .await;
    let tasks = env.sandbox.tasks();
    let of = |id: &str| {
        tasks
            .iter()
            .filter(|t| t.external_ids.contains(&id.to_owned()))
            .count()
    };
    assert_eq!(of("1-100@127.0.0.1"), 1, "one task for the three triggers");
    let outgoing = tasks
        .iter()
        .find(|t| t.external_ids.contains(&"berysoglmsvbcim@vm".to_owned()))
        .unwrap();
    assert_eq!(
        outgoing.to_number, "+79035550102",
        "the far end of an outgoing call"
    );
    // Not run by Twinkle: said so, nothing kept.
    let out = env.run(&["event", "--twinkle"]).await.exited(2);
    out.stderr_says("TWINKLE_TRIGGER is not set");
    instance.stop();
}

/// One line of Twinkle's call history (its format, from the field report): `start`,
/// `answer` (0: unanswered) and `end` in epoch seconds.
fn history_line(start: i64, answer: i64, end: i64, dir: &str, far: &str) -> String {
    let (from, to) = if dir == "in" {
        (far, "2000")
    } else {
        ("2000", far)
    };
    let cause = if answer > 0 { "remote user" } else { "failure" };
    format!(
        "{start}|{answer}|{end}|{dir}|Alice|sip:{from}@127.0.0.1:27602|||sip:{to}@127.0.0.1:20128||||||subject|{cause}|200|OK||tw\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_twinkles_history_that_no_script_reported_are_registered_once_without_a_tab() {
    use std::io::Write as _;
    let env = Env::start().await;
    let dir = env.home().join(".twinkle");
    crate::support::write_file(&dir.join("tw.cfg"), "user_name=2000\n");
    // Another profile, not set up: its calls are not pyrus-phone's to register.
    crate::support::write_file(&dir.join("private.cfg"), "user_name=3000\n");
    env.run(&["setup", "twinkle", "--profile", "tw"])
        .await
        .exited(0);
    env.write_settings(crate::support::LINE_SETTINGS);
    let now = unix_now();
    let history = dir.join("twinkle.ch");
    let mut lines = String::new();
    // Two days ago: older than a first reading goes back.
    lines += &history_line(now - 172_800, 0, now - 172_790, "in", "+79160000001");
    // While the app was closed: answered, then missed, then one the agent made.
    lines += &history_line(now - 600, now - 590, now - 410, "in", "+79160000002");
    lines += &history_line(now - 300, 0, now - 288, "in", "+79160000003");
    lines += &history_line(now - 200, now - 195, now - 100, "out", "+79160000004");
    lines += &history_line(now - 150, now - 145, now - 90, "in", "+79160000009")
        .replace("||tw\n", "||private\n");
    crate::support::write_file(&history, &lines);

    let instance = Headless::start(&env, &[]).await;
    let numbers = |env: &Env| {
        let mut n: Vec<String> = env
            .sandbox
            .tasks()
            .iter()
            .map(|t| format!("{}>{}", t.from_number, t.to_number))
            .collect();
        n.sort();
        n
    };
    wait_until(
        "the three calls registered",
        Duration::from_secs(60),
        || numbers(&env).len() == 3,
    )
    .await;
    assert_eq!(
        numbers(&env),
        [
            "+74953009080>+79160000004",
            "+79160000002>+74953009080",
            "+79160000003>+74953009080"
        ]
    );
    // What became of each reaches its task: the missed one as missed.
    wait_until("the outcomes", Duration::from_secs(60), || {
        env.sandbox
            .tasks()
            .iter()
            .filter(|t| {
                t.comments
                    .iter()
                    .any(|c| c.text.contains("[pyrus-phone outcome"))
            })
            .count()
            == 3
    })
    .await;
    let missed = env
        .sandbox
        .tasks()
        .into_iter()
        .find(|t| t.from_number == "+79160000003")
        .unwrap();
    assert!(
        missed
            .comments
            .iter()
            .any(|c| c.text.contains("Missed call")),
        "{:?}",
        missed.comments
    );
    // A call a script reported (rang, the caller gave up) is not registered again from
    // the history; a call after it that no script reported is.
    let rang = unix_now();
    let ring = script(&env, "in_call", "1-300@127.0.0.1", "+79160000005", &[]).await;
    assert!(ring.status.success(), "{ring:?}");
    let failed = [("SIPSTATUS_CODE", "487")];
    script(
        &env,
        "in_call_failed",
        "1-300@127.0.0.1",
        "+79160000005",
        &failed,
    )
    .await;
    wait_until("the scripted call", Duration::from_secs(60), || {
        numbers(&env).len() == 4
    })
    .await;
    let mut appended = std::fs::OpenOptions::new()
        .append(true)
        .open(&history)
        .unwrap();
    appended
        .write_all(history_line(rang, 0, rang + 1, "in", "+79160000005").as_bytes())
        .unwrap();
    appended
        .write_all(history_line(rang, 0, rang + 2, "in", "+79160000006").as_bytes())
        .unwrap();
    drop(appended);
    wait_until(
        "the call no script reported",
        Duration::from_secs(60),
        || numbers(&env).iter().any(|n| n.starts_with("+79160000006")),
    )
    .await;
    instance.stop();
    assert_eq!(numbers(&env).len(), 5, "{:?}", numbers(&env));

    // A restart, the history rewritten from the start with one call more: that call only.
    let later = unix_now() - 12;
    lines += &history_line(later, 0, later + 2, "in", "+79160000007");
    crate::support::write_file(&history, &lines);
    let instance = Headless::start(&env, &[]).await;
    wait_until("the newest call", Duration::from_secs(60), || {
        numbers(&env).iter().any(|n| n.starts_with("+79160000007"))
    })
    .await;
    instance.stop();
    assert_eq!(numbers(&env).len(), 6, "{:?}", numbers(&env));
    // One tab: the scripted call's, rung live; none for the calls from the history.
    assert_eq!(env.opened().len(), 1, "{:?}", env.opened());
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_account_the_demos_customer_is_named_for_twinkle() {
    let mut env = Env::start().await;
    // No account: the instance runs the demo, with its own outbox and customers.
    env.removed = [
        "PYRUS_AUTH_URL",
        "PYRUS_LOGIN",
        "PYRUS_SECURITY_KEY",
        "PYRUS_ACCOUNT_ID",
    ]
    .map(str::to_owned)
    .to_vec();
    let instance = Headless::start(&env, &["--demo"]).await;
    let db = env.home().join("data").join("demo").join("outbox.sqlite3");
    crate::support::wait_for_caller_index(&db).await;
    customer_rings_and_is_named(&env, "1-400@127.0.0.1").await;
    // A hidden caller: nothing to register, and nothing said in Twinkle's console.
    let hidden = script(&env, "in_call", "1-401@127.0.0.1", "anonymous", &[]).await;
    assert!(
        hidden.status.success() && hidden.stdout.is_empty() && hidden.stderr.is_empty(),
        "{hidden:?}"
    );
    instance.stop();
}
