//! Who is calling, in the window: the caller's card under a ringing call, in the form as a
//! number is typed, and on the call's row — read from the demo's customers, opened with
//! Open, and saying what to do when the bot may not read a form.

use egui_kittest::kittest::Queryable as _;
use pyrus_phone::settings::Settings;

use crate::window::{RigOptions, click_until, erase, rig, rig_with, step_until, type_into};

/// The demo's customer with an open task (changed 95 minutes ago) and a closed one.
const CUSTOMER: &str = "+79161234567";

#[test]
fn a_ringing_call_shows_the_callers_tasks_and_opens_one() {
    let mut r = rig();
    r.h.run();
    r.hear("ring", CUSTOMER, "card-1", "baresip");
    // The index is read a moment after start; the card follows it.
    step_until(
        &mut r.h,
        "the caller's open task under the ringing bar",
        |h| {
            h.query_all_by_label_contains("Order 123 not delivered")
                .next()
                .is_some()
        },
    );
    assert!(
        r.h.query_all_by_label_contains("Refund for order 98")
            .next()
            .is_none(),
        "the closed task waits under History"
    );
    click_until(&mut r.h, "History (1)", "the closed task", |h| {
        h.query_all_by_label_contains("Refund for order 98")
            .next()
            .is_some()
    });
    r.h.get_all_by_label("Open #20000001")
        .next()
        .unwrap()
        .click();
    r.h.run();
    let opened = crate::window::opened_at_least(&r.browser, 1);
    assert!(
        opened.iter().any(|u| u.ends_with("/t#id20000001")),
        "{opened:?}"
    );
    // The call's row says who it was, once it is registered.
    step_until(&mut r.h, "the row with its caller", |h| {
        h.query_all_by_label_contains("Order 123 not delivered")
            .count()
            >= 2
    });
    r.shutdown();
}

#[test]
fn a_number_typed_in_the_form_shows_its_caller() {
    let mut r = rig();
    r.h.run();
    type_into(&mut r.h, "From", "+7 916 123-45-67");
    step_until(&mut r.h, "the card in the form", |h| {
        h.query_all_by_label_contains("Order 123 not delivered")
            .next()
            .is_some()
    });
    // Someone the index does not know.
    erase(&mut r.h, "From", "+7 916 123-45-67".len());
    type_into(&mut r.h, "From", "+7 903 000-00-01");
    step_until(&mut r.h, "the card saying nobody", |h| {
        h.query_by_label_contains("No tasks with this number")
            .is_some()
    });
    r.shutdown();
}

#[test]
fn a_form_the_bot_may_not_read_says_whom_to_ask() {
    let mut in_force = Settings::default();
    in_force.caller.forms = vec![99];
    let mut r = rig_with(RigOptions {
        in_force,
        ..RigOptions::default()
    });
    r.h.run();
    r.hear("ring", CUSTOMER, "card-2", "baresip");
    step_until(&mut r.h, "the advice for form 99", |h| {
        h.query_all_by_label_contains("give the bot access to form 99")
            .next()
            .is_some()
    });
    // The readable form's tasks are shown all the same.
    step_until(&mut r.h, "the open task of form 1", |h| {
        h.query_all_by_label_contains("Order 123 not delivered")
            .next()
            .is_some()
    });
    r.shutdown();
}

/// The wrap-up from a call's row: notes and the Result choice saved to the task as one
/// comment; one Pyrus refused is corrected from the row and posted once.
#[test]
fn a_wrap_up_is_saved_to_the_task_and_a_refused_one_corrected() {
    use pyrus_phone::sandbox::{FaultKind, Route};
    let mut r = rig();
    r.h.run();
    r.hear("ring", "79161119900", "wrap-1", "baresip");
    r.hear("answer", "79161119900", "wrap-1", "baresip");
    r.hear("end", "79161119900", "wrap-1", "baresip");
    step_until(&mut r.h, "the registered row's Wrap up", |h| {
        h.query_by_label("Wrap up").is_some()
    });
    // Pyrus refuses the first try.
    r.sandbox.inject(crate::support::fault(
        Route::Comments,
        FaultKind::InvalidValue,
        1,
    ));
    r.h.get_by_label("Wrap up").click();
    r.h.run();
    type_into(&mut r.h, "Notes", "Promised a refund by Friday");
    r.h.get_by_label("Result").click();
    r.h.run();
    r.h.get_by_label("Resolved").click();
    r.h.run();
    click_until(&mut r.h, "Save to task", "the refusal on the row", |h| {
        h.query_by_label_contains("Wrap-up refused").is_some()
    });
    // Corrected from the row: the draft comes back as it was saved.
    r.h.get_by_label("Correct the wrap-up").click();
    r.h.run();
    let notes = r.h.get_by_label("Notes");
    assert_eq!(
        notes.value().as_deref(),
        Some("Promised a refund by Friday")
    );
    click_until(&mut r.h, "Save to task", "the wrap-up saved", |h| {
        h.query_by_label_contains("Wrap-up saved to task").is_some()
    });
    let task = r
        .sandbox
        .tasks()
        .into_iter()
        .find(|t| t.external_ids.contains(&"wrap-1".to_owned()))
        .unwrap();
    let wrapups: Vec<_> = task
        .comments
        .iter()
        .filter(|c| c.text.starts_with("Promised a refund by Friday"))
        .collect();
    assert_eq!(wrapups.len(), 1, "{:?}", task.comments);
    assert_eq!(
        wrapups[0].mappings,
        [("Result".to_owned(), "Resolved".to_owned())]
    );
    r.shutdown();
}
