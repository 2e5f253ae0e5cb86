//! The wrap-up: notes and outcome fields saved to the task as one comment — a choice by its
//! name, a wrong one refused with the field named — and at most one comment however the run
//! ends.

use std::time::Duration;

use pyrus_phone::sandbox::{CommentSnapshot, FaultKind, Route};

use crate::support::{Env, fault, wait_until};

/// The demo's customer with an open task.
const TASK: u64 = 20_000_001;

fn comments(env: &Env) -> Vec<CommentSnapshot> {
    env.sandbox
        .customers()
        .into_iter()
        .find(|t| t.id == TASK)
        .unwrap()
        .comments
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrap_up_sets_the_outcome_by_its_name_and_a_wrong_one_is_refused_with_the_field() {
    let env = Env::start().await;
    env.write_settings("[pyrus]\nform_id = 1\n");
    let task = TASK.to_string();
    // A choice the field does not have: refused before anything is posted, the field and
    // its choices named.
    let out = env
        .run(&[
            "wrapup",
            "--task",
            &task,
            "--text",
            "Promised a refund",
            "--set",
            "Result=Solved",
        ])
        .await
        .exited(3);
    out.stderr_says(
        "Result has no choice \"Solved\"; its choices are Resolved, Call back, Escalated",
    );
    assert!(comments(&env).is_empty());
    // Corrected: one comment, the notes and the choice.
    let out = env
        .run(&[
            "wrapup",
            "--task",
            &task,
            "--text",
            "Promised a refund",
            "--set",
            "result=resolved",
            "--json",
        ])
        .await
        .exited(0);
    let reply: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(reply["task_id"], TASK);
    let posted = comments(&env);
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert!(
        posted[0].text.starts_with("Promised a refund"),
        "{posted:?}"
    );
    assert_eq!(
        posted[0].mappings,
        [("Result".to_owned(), "Resolved".to_owned())]
    );
    // Nothing to save, or notes with a control character: refused, nothing stored.
    env.run(&["wrapup", "--task", &task]).await.exited(2);
    env.run(&["wrapup", "--task", &task, "--text", "bell\u{7}"])
        .await
        .exited(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrap_up_whose_run_is_killed_before_the_answer_is_posted_once() {
    let env = Env::start().await;
    env.write_settings("[pyrus]\nform_id = 1\n");
    // Pyrus takes the comment at once and answers 20 s later.
    env.sandbox.inject(fault(
        Route::Comments,
        FaultKind::LateReply { delay_ms: 20_000 },
        1,
    ));
    let task = TASK.to_string();
    let mut run = env
        .command(&[
            "wrapup",
            "--task",
            &task,
            "--text",
            "Call back on Monday",
            "--wait",
            "60",
        ])
        .spawn()
        .unwrap();
    wait_until(
        "the comment to reach Pyrus",
        Duration::from_secs(20),
        || !comments(&env).is_empty(),
    )
    .await;
    // Killed before the answer: the run never hears it was posted.
    run.kill().unwrap();
    run.wait().unwrap();
    // The next run sends the kept wrap-up: it finds its comment on the task, posts nothing.
    let listed = env.run(&["queue", "--json"]).await.exited(0);
    let jobs: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    let job = jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["kind"] == "comment")
        .unwrap_or_else(|| panic!("the wrap-up is kept: {jobs}"));
    let id = job["id"].to_string();
    env.run(&["queue", "retry", &id, "--wait", "20"])
        .await
        .exited(0);
    assert_eq!(comments(&env).len(), 1, "{:?}", comments(&env));
    let listed = env.run(&["queue", "--json"]).await.exited(0);
    assert!(
        !listed.stdout.contains("\"kind\":\"comment\""),
        "the wrap-up is no longer kept: {}",
        listed.stdout
    );
}

/// The text of the comments on the task of the call heard as `call_id`.
fn call_comments(env: &Env, call_id: &str) -> Vec<String> {
    env.sandbox
        .tasks()
        .into_iter()
        .find(|t| t.external_ids.contains(&call_id.to_owned()))
        .map(|t| t.comments.into_iter().map(|c| c.text).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answered_call_and_a_missed_one_end_up_different_on_their_tasks() {
    use crate::support::headless::Headless;
    use crate::support::hook::event;
    let env = Env::start().await;
    env.write_settings(crate::support::LINE_SETTINGS);
    let instance = Headless::start(&env, &[]).await;
    // Answered, three seconds of talk, then hung up; another rings out unanswered.
    for (kind, number, id) in [
        ("ring", "+79161117701", "talked"),
        ("answer", "+79161117701", "talked"),
        ("ring", "+79161117702", "missed"),
        ("end", "+79161117702", "missed"),
    ] {
        assert_eq!(instance.post(&event(kind, number, id)), 202);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(instance.post(&event("end", "+79161117701", "talked")), 202);
    let said = |id: &'static str, what: &'static str| {
        let env = &env;
        move || call_comments(env, id).iter().any(|c| c.contains(what))
    };
    wait_until(
        "the answered call's outcome",
        Duration::from_secs(20),
        said("talked", "call answered at"),
    )
    .await;
    wait_until(
        "the missed call's outcome",
        Duration::from_secs(20),
        said("missed", "Missed call: rang at"),
    )
    .await;
    let talked = call_comments(&env, "talked");
    let outcome = talked.iter().find(|c| c.contains("answered")).unwrap();
    assert!(
        ["talk 0:03.", "talk 0:04."]
            .iter()
            .any(|d| outcome.contains(d)),
        "the talk's length: {outcome}"
    );
    assert!(
        call_comments(&env, "missed")
            .iter()
            .all(|c| !c.contains("talk"))
    );
    // Once each.
    instance.stop();
    let outcomes = |id| {
        call_comments(&env, id)
            .iter()
            .filter(|c| c.contains("[pyrus-phone outcome"))
            .count()
    };
    assert_eq!((outcomes("talked"), outcomes("missed")), (1, 1));
}

/// The mappings each call's registrations carried, by the call heard as `call_id`.
fn call_mappings(env: &Env, call_id: &str) -> Vec<(String, String)> {
    env.sandbox
        .tasks()
        .into_iter()
        .find(|t| t.external_ids.contains(&call_id.to_owned()))
        .map(|t| t.comments.into_iter().flat_map(|c| c.mappings).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_outcome_fields_set_the_outcome_fills_them_instead_of_a_comment() {
    use crate::support::headless::Headless;
    use crate::support::hook::event;
    let env = Env::start().await;
    env.write_settings(&format!(
        "{}[outcome]\nresult = \"CallResult\"\nended = \"CallEndTime\"\ntalk_seconds = \"TalkSeconds\"\n",
        crate::support::LINE_SETTINGS
    ));
    let instance = Headless::start(&env, &[]).await;
    for (kind, number, id) in [
        ("ring", "+79161117711", "talked"),
        ("answer", "+79161117711", "talked"),
        ("ring", "+79161117712", "missed"),
        ("end", "+79161117712", "missed"),
    ] {
        assert_eq!(instance.post(&event(kind, number, id)), 202);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(instance.post(&event("end", "+79161117711", "talked")), 202);
    let valued = |id: &'static str, code: &'static str| {
        let env = &env;
        move || call_mappings(env, id).iter().any(|(c, _)| c == code)
    };
    wait_until(
        "the answered call's result",
        Duration::from_secs(20),
        valued("talked", "CallResult"),
    )
    .await;
    wait_until(
        "the missed call's result",
        Duration::from_secs(20),
        valued("missed", "CallResult"),
    )
    .await;
    instance.stop();
    let value = |id: &str, code: &str| {
        call_mappings(&env, id)
            .into_iter()
            .filter(|(c, _)| c == code)
            .map(|(_, v)| v)
            .collect::<Vec<_>>()
    };
    assert_eq!(value("talked", "CallResult"), ["Answered"]);
    assert_eq!(value("missed", "CallResult"), ["Missed"]);
    assert_eq!(value("missed", "TalkSeconds"), ["0"]);
    let talk = value("talked", "TalkSeconds");
    assert!(
        talk == ["2"] || talk == ["3"],
        "the talk's length: {talk:?}"
    );
    let ended = value("talked", "CallEndTime");
    assert!(
        ended.len() == 1 && ended[0].ends_with('Z') && ended[0].contains('T'),
        "the end as ISO 8601 UTC: {ended:?}"
    );
    // The same call, not a new task; and no comment besides.
    assert_eq!(
        env.sandbox
            .tasks()
            .iter()
            .filter(|t| t.external_ids.contains(&"talked".to_owned()))
            .count(),
        1
    );
    for id in ["talked", "missed"] {
        assert!(
            call_comments(&env, id)
                .iter()
                .all(|c| !c.contains("[pyrus-phone outcome")),
            "{:?}",
            call_comments(&env, id)
        );
    }
}
