//! Call back dials through what dials here — baresip, the desktop's `tel:` handler when it
//! is not pyrus-phone — or asks the agent to dial by hand; a `tel:` link that reaches the
//! window fills the form and registers nothing.

use std::time::Duration;

use egui_kittest::kittest::Queryable as _;
use pyrus_phone::domain::BaresipHealth;
use pyrus_phone::platform::browser::TelAnswer;
use pyrus_phone::sources::baresip::BaresipCommand;

use crate::support::wait_until_blocking;
use crate::window::{Rig, RigOptions, rig, rig_with, step_until};

const MISSED: &str = "+79167770011";

/// A missed call in the list, with its Call back button.
fn missed_call(r: &mut Rig) {
    r.h.run();
    r.hear("ring", "79167770011", "m-1", "http");
    r.hear("end", "79167770011", "m-1", "http");
    step_until(&mut r.h, "the missed row", |h| {
        h.query_by_label_contains("Missed · rang").is_some()
    });
}

fn baresip(r: &Rig, connected: bool) {
    r.monitor.set_baresip(BaresipHealth {
        addr: "127.0.0.1:4444".to_owned(),
        connected,
        problem: (!connected).then(|| "Connection refused".to_owned()),
    });
}

/// pyrus-phone is the desktop's `tel:` handler: Call back goes to baresip, the softphone,
/// and no link goes out; with baresip away, the agent is asked to dial by hand.
#[test]
fn call_back_dials_through_the_softphone_never_through_pyrus_phone() {
    let mut r = rig_with(RigOptions {
        tel: Some(TelAnswer::Ours),
        ..RigOptions::default()
    });
    baresip(&r, true);
    missed_call(&mut r);
    r.h.get_by_label("Call back").click();
    r.h.run();
    let command = wait_until_blocking("the dial to reach baresip", Duration::from_secs(20), || {
        r.baresip.try_recv().ok()
    });
    assert_eq!(command, BaresipCommand::Dial(MISSED.to_owned()));
    assert!(r.browser.opened().iter().all(|u| !u.starts_with("tel:")));
    assert!(r.h.query_by_label("Dial it by hand").is_none());

    baresip(&r, false);
    r.h.get_by_label("Call back").click();
    step_until(&mut r.h, "the dial-by-hand dialog", |h| {
        h.query_by_label_contains("baresip is not connected")
            .is_some()
    });
    r.h.get_by_label("+7 916 777-00-11");
    r.h.get_by_label("Copy");
    assert_eq!(r.sandbox.tasks().len(), 1, "the missed call only");
    r.shutdown();
}

/// Where the desktop hands Call back's link straight back to pyrus-phone (a handler this
/// desk cannot be asked about), the window notices and asks to dial by hand.
#[test]
fn a_call_back_link_that_comes_back_asks_to_dial_by_hand() {
    let mut r = rig();
    missed_call(&mut r);
    r.h.get_by_label("Call back").click();
    r.h.run();
    wait_until_blocking(
        "the link handed to the desktop",
        Duration::from_secs(20),
        || r.browser.opened().contains(&format!("tel:{MISSED}")),
    );
    r.hear("outgoing", MISSED, "link-1", "uri");
    step_until(&mut r.h, "the dial-by-hand dialog", |h| {
        h.query_by_label_contains("No program on this computer dials")
            .is_some()
    });
    r.h.get_by_label("Close").click();
    r.h.run();
    assert!(r.h.query_by_label("Dial it by hand").is_none());
    r.shutdown();
}

/// A `tel:` link fills the form as an outgoing call; only Register registers it.
#[test]
fn a_tel_link_fills_the_form_and_registers_nothing_by_itself() {
    let mut r = rig();
    r.h.run();
    r.hear("outgoing", "+79161112233", "link-2", "uri");
    step_until(&mut r.h, "the link's number in the form", |h| {
        h.state().state.form.to == "+79161112233" && h.state().state.form.outgoing
    });
    r.h.get_by_label_contains("The link's number is in the form");
    // An ordinary call heard after it is registered: the link was handled before it, and
    // made no task of its own.
    r.hear("ring", "79160000001", "h-1", "http");
    wait_until_blocking("the heard call registered", Duration::from_secs(20), || {
        (!r.sandbox.tasks().is_empty()).then_some(())
    });
    let tasks = r.sandbox.tasks();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0].from_number, "+79160000001");
    r.shutdown();
}
