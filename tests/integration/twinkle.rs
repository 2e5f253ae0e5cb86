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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twinkles_triggers_make_one_call_and_a_known_caller_is_named_for_twinkle() {
    let env = Env::start().await;
    env.write_settings(
        "[pyrus]\nform_id = 1\n\n[defaults]\ncountry = \"RU\"\nline_number = \"+74953009080\"\n",
    );
    let instance = Headless::start(&env, &[]).await;
    // The index of customers read by the instance.
    let db = env.home().join("data").join("outbox.sqlite3");
    wait_until("the customers' index", Duration::from_secs(30), || {
        rusqlite::Connection::open(&db)
            .and_then(|c| {
                c.query_row("SELECT walked FROM caller_forms", [], |r| {
                    r.get::<_, i64>(0)
                })
            })
            .is_ok_and(|w| w == 1)
    })
    .await;

    // A customer rings (the demo's "+7 916 123-45-67"): Twinkle is told who it is.
    let ring = script(&env, "in_call", "1-100@127.0.0.1", "+79161234567", &[]).await;
    assert!(ring.status.success(), "{ring:?}");
    assert_eq!(
        String::from_utf8_lossy(&ring.stdout),
        "caller_name=Order 123 not delivered\n"
    );
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
