//! The hook doctor and heard calls in the window, with the real service and the sandbox:
//! "Simulate a call" registers through the same pipeline as a softphone and lists its raw
//! messages; health lines and setup lines; a ringing baresip call shows a bar whose Answer
//! reaches baresip's command channel; tasks open when `open_on` says; a new hook token.

use std::time::Duration;

use egui_kittest::kittest::{NodeT as _, Queryable as _, by};
use pyrus_phone::domain::{BaresipHealth, HookHealth, TokenOrigin};
use pyrus_phone::settings::{OpenOn, RegisterOn, Settings};
use pyrus_phone::sources::baresip::BaresipCommand;

use crate::support::wait_until_blocking;
use crate::window::{
    Rig, RigOptions, click_until, erase, opened_at_least, rig, rig_with, step_until, type_into,
};

fn open_sources(r: &mut Rig) {
    r.h.run();
    r.h.get_by_label("Call sources").click();
    r.h.run();
}

fn hear(r: &Rig, kind: &str, number: &str, call_id: &str, source: &str) {
    r.hear(kind, number, call_id, source);
}

/// Events are handled in order: once a later call has shown its ringing bar, every earlier
/// event has been handled (stored, registered per policy, its pop decided). The later call
/// then ends, and its bar goes.
fn after_a_later_event(r: &mut Rig, number: &str) {
    let id = format!("later-{number}");
    hear(r, "ring", number, &id, "http");
    let bar = format!(
        "Incoming call: {}",
        pyrus_phone::domain::PhoneNumber::parse(&format!("+{number}"))
            .unwrap()
            .grouped()
    );
    step_until(&mut r.h, "a later call's ringing bar", |h| {
        h.query_by_label(&bar).is_some()
    });
    hear(r, "end", number, &id, "http");
    step_until(&mut r.h, "the later call's bar to go", |h| {
        h.query_by_label(&bar).is_none()
    });
}

#[test]
fn the_doctor_simulates_a_call_through_the_real_pipeline_and_shows_what_it_heard() {
    let mut r = rig();
    r.monitor.set_hook(HookHealth {
        listening: Some("127.0.0.1:47812".to_owned()),
        problem: None,
        taken_port: None,
        token_origin: TokenOrigin::Keyring,
        allow: Vec::new(),
    });
    open_sources(&mut r);
    step_until(&mut r.h, "the hook's health line", |h| {
        h.query_by_label_contains("listening on 127.0.0.1:47812")
            .is_some()
    });
    r.h.get_by_label_contains("the token is kept in the system keyring");
    r.h.get_by_label_contains("not set up (settings file: sources.baresip)");
    // MicroSIP's lines name this very program.
    let program = std::env::current_exe().unwrap().display().to_string();
    r.h.get_by_label(&format!("cmdIncomingCall={program} event ring"));
    r.h.get_by_label(&format!("cmdCallEnd={program} event end"));
    r.h.get_by_label(
        "http://127.0.0.1:47812/events?token=TOKEN&event=ring&number=$remote&call_id=$call_id",
    );

    r.h.get_by_label("Simulate").click();
    r.h.run();
    step_until(&mut r.h, "the simulated call to be registered", |_| {
        !r.sandbox.tasks().is_empty()
    });
    let task = r.sandbox.tasks().remove(0);
    assert_eq!(task.from_number, "+79990000000");
    assert_eq!(task.to_number, "+74950000000", "the demo line's number");
    assert!(task.external_ids[0].starts_with("simulated-"));
    // Its outcome shows beside the button: the task, to open from there.
    step_until(&mut r.h, "the test call's task by the button", |h| {
        h.query_by_label("Open task 1").is_some()
    });

    // Its raw messages: ring, answer, end, newest first.
    r.h.get_by_label("Simulated calls").click();
    r.h.run();
    step_until(&mut r.h, "the end message", |h| {
        h.query_by_label_contains("end +79990000000").is_some()
    });
    r.h.get_by_label_contains("ring +79990000000");
    r.h.get_by_label_contains("answer +79990000000");
    assert_eq!(r.h.query_all_by_label("accepted").count(), 3);

    // One task opened, once; the call is in the list.
    let browser = std::sync::Arc::clone(&r.browser);
    step_until(&mut r.h, "the task to open", |_| {
        !browser.opened().is_empty()
    });
    r.h.get_by_label("Calls").click();
    r.h.run();
    after_a_later_event(&mut r, "79990000009");
    let opened = r.browser.opened();
    assert_eq!(
        opened.iter().filter(|url| url.ends_with("#id1")).count(),
        1,
        "{opened:?}"
    );
    step_until(&mut r.h, "the row", |h| {
        h.query_by_label("+7 999 000-00-00 to +7 495 000-00-00")
            .is_some()
    });
    r.shutdown();
}

#[test]
fn a_ringing_baresip_call_shows_a_bar_and_answer_reaches_baresip() {
    let mut r = rig();
    r.monitor.set_baresip(BaresipHealth {
        addr: "127.0.0.1:4444".to_owned(),
        connected: true,
        problem: None,
    });
    r.h.run();
    hear(&r, "ring", "79774221338", "1-9@127.0.0.1", "baresip");
    step_until(&mut r.h, "the ringing bar", |h| {
        h.query_by_label("Incoming call: +7 977 422-13-38")
            .is_some()
    });
    r.h.get_by_label("Answer").click();
    r.h.run();
    let command = wait_until_blocking("Answer to reach baresip", Duration::from_secs(20), || {
        r.baresip.try_recv().ok()
    });
    assert_eq!(command, BaresipCommand::Accept);
    hear(&r, "answer", "79774221338", "1-9@127.0.0.1", "baresip");
    step_until(&mut r.h, "the bar to go", |h| {
        h.query_by_label("Incoming call: +7 977 422-13-38")
            .is_none()
    });

    // A call from a source that cannot answer shows the bar without the button.
    hear(&r, "ring", "79160000001", "h-1", "http");
    step_until(&mut r.h, "the second bar", |h| {
        h.query_by_label("Incoming call: +7 916 000-00-01")
            .is_some()
    });
    assert!(r.h.query_by_label("Answer").is_none());
    r.shutdown();
}

/// The window with the real service and sandbox, showing its settings.
fn rig_in_settings() -> Rig {
    let mut r = rig();
    r.h.run();
    r.h.get_by_label("Settings").click();
    r.h.run();
    r
}

fn rig_opening_on(open_on: OpenOn) -> Rig {
    let mut in_force = Settings::default();
    in_force.calls.open_on = open_on;
    rig_with(RigOptions {
        in_force,
        ..RigOptions::default()
    })
}

fn wait_registered(r: &mut Rig, n: usize) {
    step_until(&mut r.h, "the heard call to be registered", |_| {
        r.sandbox.tasks().len() >= n
    });
    // The window hears of each registration after its task was opened or not.
    step_until(&mut r.h, "the registrations in the list", |h| {
        h.query_all_by_label_contains("Open task").count() >= n
    });
}

#[test]
fn a_heard_call_opens_its_task_when_the_open_on_setting_says() {
    // On answer: registered at the ring, opened at the answer, once.
    let mut r = rig_opening_on(OpenOn::Answer);
    r.h.run();
    hear(&r, "ring", "79774221338", "c-1", "baresip");
    wait_registered(&mut r, 1);
    assert!(
        r.browser.opened().is_empty(),
        "nothing opens while it rings"
    );
    hear(&r, "answer", "79774221338", "c-1", "baresip");
    opened_at_least(&r.browser, 1);
    hear(&r, "end", "79774221338", "c-1", "baresip");
    after_a_later_event(&mut r, "79990000009");
    assert_eq!(r.browser.opened().len(), 1, "opened once");
    // A missed call is registered but never opens.
    hear(&r, "ring", "79160000002", "c-2", "baresip");
    hear(&r, "end", "79160000002", "c-2", "baresip");
    wait_registered(&mut r, 3);
    assert_eq!(r.browser.opened().len(), 1, "the missed call did not open");
    r.shutdown();

    // By hand: never opened by itself.
    let mut r = rig_opening_on(OpenOn::Manual);
    r.h.run();
    hear(&r, "ring", "79774221338", "c-3", "baresip");
    hear(&r, "answer", "79774221338", "c-3", "baresip");
    wait_registered(&mut r, 1);
    assert!(r.browser.opened().is_empty());
    r.shutdown();
}

#[test]
fn the_hook_token_is_shown_on_request_and_can_be_replaced() {
    let mut r = rig_in_settings();
    step_until(&mut r.h, "the token row", |h| {
        h.query_by_label("Event hook token").is_some()
    });
    assert!(
        r.h.query_by_label("rig-hook-token").is_none(),
        "hidden at first"
    );
    r.h.get_by_label("Show").scroll_to_me();
    r.h.run();
    r.h.get_by_label("Show").click();
    r.h.run();
    r.h.get_by_label("rig-hook-token");
    r.h.get_by_label("New token").click();
    r.h.run();
    step_until(&mut r.h, "a new token", |h| {
        h.query_by_label("rig-hook-token").is_none()
    });
    let fresh = |l: &str| l.len() == 32 && l.chars().all(|c| c.is_ascii_hexdigit());
    let labels: Vec<String> =
        r.h.query_all(by())
            .filter_map(|n| {
                n.accesskit_node()
                    .value()
                    .or_else(|| n.accesskit_node().label())
            })
            .collect();
    let token = labels
        .iter()
        .find(|l| fresh(l))
        .unwrap_or_else(|| panic!("a fresh 32-digit token is shown: {labels:?}"));
    assert_ne!(token, "rig-hook-token");
    r.shutdown();
}

#[test]
fn registering_by_hand_puts_the_ringing_call_into_the_form() {
    let mut in_force = Settings::default();
    in_force.calls.register_on = RegisterOn::Manual;
    let mut r = rig_with(RigOptions {
        in_force,
        ..RigOptions::default()
    });
    r.h.run();
    hear(&r, "ring", "79774221338", "sip-call-7", "http");
    step_until(&mut r.h, "the ringing bar", |h| {
        h.query_by_label("Incoming call: +7 977 422-13-38")
            .is_some()
    });
    after_a_later_event(&mut r, "79990000009");
    assert!(
        r.sandbox.tasks().is_empty() && r.h.query_by_label("No calls yet today.").is_some(),
        "nothing is stored or registered by itself"
    );
    r.h.get_by_label("To the form").click();
    r.h.run();
    click_until(&mut r.h, "Register", "the task id", |h| {
        h.query_by_label("Task 1").is_some()
    });
    let task = r.sandbox.tasks().remove(0);
    assert_eq!(
        task.from_number, "+79774221338",
        "read in the default country"
    );
    assert_eq!(
        task.to_number, "+74950000000",
        "the line's number went into To"
    );
    assert_eq!(task.external_ids, vec!["sip-call-7".to_owned()]);
    r.shutdown();
}

#[test]
fn listening_on_the_network_asks_for_the_allowed_addresses() {
    let mut r = rig_in_settings();
    let network = "Listen on the network for desk phones (plain HTTP: trusted office network only; applies after a restart)";
    r.h.get_by_label(network).scroll_to_me();
    r.h.run();
    r.h.get_by_label(network).click();
    r.h.run();
    r.h.get_by_label_contains("listening on the network needs the phones' addresses");
    r.h.get_by_label("Allowed addresses").scroll_to_me();
    r.h.run();
    type_into(&mut r.h, "Allowed addresses", "192.168.1.0/33");
    r.h.get_by_label_contains("'192.168.1.0/33': the part after / must be 0 to 32");
    erase(&mut r.h, "Allowed addresses", 2);
    type_into(&mut r.h, "Allowed addresses", "24, 192.168.5.7");
    assert!(
        r.h.query_by_label_contains("needs the phones' addresses")
            .is_none()
            && r.h.query_by_label_contains("must be 0 to").is_none(),
        "a good list is accepted"
    );
    let draft = &r.h.state().state.settings_form.draft.hook;
    assert!(draft.network);
    assert_eq!(draft.allow, ["192.168.1.0/24", "192.168.5.7"]);
    r.shutdown();
}

#[test]
fn the_softphone_fields_are_checked_on_save_and_kept_in_the_settings_file() {
    let mut r = rig_in_settings();
    type_into(&mut r.h, "Login", "bot@example.com");
    type_into(&mut r.h, "Account id", "demo-account");
    r.h.get_by_label("baresip control address").scroll_to_me();
    r.h.run();
    type_into(&mut r.h, "baresip control address", "localhost");
    click_until(&mut r.h, "Save", "the refusal", |h| {
        h.query_by_label_contains("this is not a baresip control address")
            .is_some()
    });
    type_into(&mut r.h, "baresip control address", ":4444");
    let folder = r.dir.path().join("My Recordings");
    type_into(
        &mut r.h,
        "Softphone's recording folder",
        &folder.display().to_string(),
    );
    click_until(&mut r.h, "Save", "the save", |h| {
        h.query_by_label_contains("Saved").is_some()
    });
    let saved = Settings::load(&r.dir.path().join("config/settings.toml")).unwrap();
    assert_eq!(saved.sources.baresip.as_deref(), Some("localhost:4444"));
    assert_eq!(saved.sources.recordings_dir, Some(folder));
    r.shutdown();
}

#[test]
fn another_start_brings_the_window_to_the_front() {
    let mut r = rig();
    r.h.run();
    assert_eq!(r.h.state().times_raised(), 0);
    // A second start finds this instance where it published itself and asks for its window.
    let published = r.published();
    assert!(pyrus_phone::sources::forward::show(&published).unwrap());
    step_until(&mut r.h, "the window to be raised", |h| {
        h.state().times_raised() == 1
    });
    r.shutdown();
}

#[test]
fn a_taken_hook_port_is_shown_and_tried_again_from_the_call_sources() {
    let mut r = rig_with(RigOptions {
        hook_port_taken: true,
        ..RigOptions::default()
    });
    let port = r.blocker.as_ref().unwrap().local_addr().unwrap().port();
    // The status bar says so on every view, and leads to the call sources.
    let warning = format!("Port {port} taken: desk phones can't reach pyrus-phone (F2)");
    step_until(&mut r.h, "the status bar's port warning", |h| {
        h.query_by_label(&warning).is_some()
    });
    r.h.get_by_label(&warning).click();
    r.h.run();
    let again = format!("Try port {port} again");
    step_until(&mut r.h, "the port conflict in the call sources", |h| {
        h.query_by_label(&again).is_some()
            && h.query_by_label_contains(&format!("Port {port} is taken by another program"))
                .is_some()
    });
    // Still held: the agent is told, and nothing moves.
    r.h.get_by_label(&again).click();
    step_until(&mut r.h, "the answer that it is still taken", |h| {
        h.query_by_label_contains("stays on its other port")
            .is_some()
    });
    // The other program lets go: the hook moves back and the warning goes.
    drop(r.blocker.take());
    r.h.get_by_label(&again).click();
    step_until(&mut r.h, "the hook back on its port", |h| {
        h.query_by_label_contains(&format!("listening on 127.0.0.1:{port}"))
            .is_some()
            && h.query_by_label(&warning).is_none()
    });
    r.shutdown();
}

#[test]
fn an_outbox_that_cannot_store_calls_is_shown_with_why() {
    let mut r = rig();
    r.h.run();
    r.monitor.set_outbox_problem(Some(
        "the outbox cannot grow: the disk is full; free some space — /home/agent/outbox.sqlite3"
            .to_owned(),
    ));
    // Every view's status bar says so, and leads to the call sources.
    let warning = "Calls cannot be stored: see Call sources (F2)";
    step_until(&mut r.h, "the status bar's outbox line", |h| {
        h.query_by_label(warning).is_some()
    });
    r.h.get_by_label(warning).click();
    r.h.run();
    step_until(&mut r.h, "the outbox's health line", |h| {
        h.query_by_label_contains("heard calls cannot be stored")
            .is_some_and(|n| format!("{n:?}").contains("disk is full"))
    });
    // Fixed: the warning goes.
    r.monitor.set_outbox_problem(None);
    step_until(&mut r.h, "the warning to go", |h| {
        h.query_by_label(warning).is_none()
    });
    r.shutdown();
}

#[test]
fn an_outbox_locked_at_start_opens_by_itself_and_the_window_says_so() {
    // Another program holds the outbox locked for longer than a start waits for it.
    let mut r = rig_with(RigOptions {
        outbox_locked: true,
        account: true,
        ..RigOptions::default()
    });
    r.h.run();
    let warning = "Calls cannot be stored: see Call sources (F2)";
    step_until(&mut r.h, "the status bar's outbox line", |h| {
        h.query_by_label(warning).is_some()
    });
    // It lets go: within a few seconds the instance opens the outbox by itself, the warning
    // goes and the window says calls are stored again.
    let locker = r.outbox_locker.take().unwrap();
    locker.execute_batch("COMMIT").unwrap();
    drop(locker);
    step_until(&mut r.h, "the notice that the outbox opened", |h| {
        h.query_by_label_contains("The outbox opens again")
            .is_some()
            && h.query_by_label(warning).is_none()
    });
    // And a heard call is stored and registered.
    hear(&r, "ring", "79774221390", "after-the-lock", "baresip");
    wait_registered(&mut r, 1);
    r.shutdown();
}

#[test]
fn call_sources_shows_twinkle_and_sets_it_up_with_a_button() {
    let dir = tempfile::tempdir().unwrap();
    let twinkle = dir.path().join(".twinkle");
    crate::support::write_file(
        &twinkle.join("tw.cfg"),
        "user_name=2000\nuser_domain=127.0.0.1\n",
    );
    let mut in_force = Settings::default();
    in_force.sources.twinkle_dir = Some(twinkle.clone());
    let mut r = rig_with(RigOptions {
        in_force,
        ..RigOptions::default()
    });
    open_sources(&mut r);
    step_until(&mut r.h, "Twinkle's line", |h| {
        h.query_by_label_contains("found, not set up — call scripts running pyrus-phone: tw 0/8")
            .is_some()
    });
    r.h.get_by_label("Set up Twinkle").click();
    r.h.run();
    step_until(&mut r.h, "Twinkle set up", |h| {
        assert!(
            h.query_by_label_contains("could not be set up").is_none(),
            "Twinkle could not be set up"
        );
        h.query_by_label("set up: tw").is_some() && h.query_by_label("Set up Twinkle").is_none()
    });
    r.h.get_by_label_contains("Twinkle's call scripts now run pyrus-phone");
    let profile = std::fs::read_to_string(twinkle.join("tw.cfg")).unwrap();
    let program = std::env::current_exe().unwrap().display().to_string();
    assert!(
        profile.contains(&format!("script_incoming_call={program} event --twinkle")),
        "{profile}"
    );
    assert!(profile.starts_with("user_name=2000\nuser_domain=127.0.0.1\n"));
}

#[test]
fn an_outcome_the_form_refuses_is_shown_on_its_row_and_can_be_sent_again() {
    use pyrus_phone::sandbox::Route;
    let mut in_force = Settings::default();
    in_force.outcome.result = Some("NoSuchField".to_owned());
    let mut r = rig_with(RigOptions {
        in_force,
        ..RigOptions::default()
    });
    r.h.run();
    hear(&r, "ring", "79774221391", "refused-outcome", "http");
    hear(&r, "end", "79774221391", "refused-outcome", "http");
    step_until(&mut r.h, "the refused outcome on the row", |h| {
        h.query_by_label_contains("The call's outcome was not taken")
            .is_some_and(|n| {
                let node = n.accesskit_node();
                let text = node.label().or(node.value()).unwrap_or_default();
                assert!(
                    text.contains("NoSuchField"),
                    "the field Pyrus refused is named: {text}"
                );
                true
            })
    });
    let sandbox = &r.sandbox;
    let calls = || {
        sandbox
            .requests()
            .iter()
            .filter(|q| q.route == Some(Route::Call))
            .count()
    };
    let before = calls();
    r.h.get_by_label("Send the outcome again").click();
    r.h.run();
    step_until(&mut r.h, "the outcome sent again", |_| calls() > before);
    r.shutdown();
}
