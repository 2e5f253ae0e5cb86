//! The window on an agent's desk: narrow to wide, failed calls corrected where they
//! happened, discards that can be taken back, drops that land on the row under the pointer,
//! a file chooser that works without a system dialog and never blocks, settings without a
//! keyring, and a ringing call announced while the window is away.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::kittest::{NodeT as _, Queryable as _};
use pyrus_phone::app::chooser::Chooser;
use pyrus_phone::domain::{JobState, Secret};
use pyrus_phone::settings::credentials::{SecretError, SecretStore};
use pyrus_phone::settings::{RegisterOn, Settings};

use crate::support::{wait_until_blocking, write_wav};
use crate::window::{
    Rig, RigOptions, click_until, press_until, register, retype, rig, rig_with, step_until,
    stored_state, type_call, type_into,
};

/// Every widget labelled `label` lies inside a `width`×`height` window.
fn inside(r: &Rig, label: &str, width: f32, height: f32) {
    let nodes: Vec<_> = r.h.query_all_by_label(label).collect();
    assert!(!nodes.is_empty(), "{label} is missing at {width} px");
    for node in nodes {
        let rect = node.rect();
        assert!(
            rect.left() >= -0.5
                && rect.right() <= width + 0.5
                && rect.top() >= -0.5
                && rect.bottom() <= height + 0.5,
            "{label} at {width} px is outside the window: {rect:?}"
        );
    }
}

/// A call Pyrus refuses for good: its mapping names no field of the form.
fn register_refused(r: &mut Rig, from: &str) {
    type_call(&mut r.h, from);
    r.h.get_by_label("Add mapping").click();
    r.h.run();
    type_into(&mut r.h, "Mapping 1 code", "Subjekt");
    type_into(&mut r.h, "Mapping 1 value", "Consultation");
    click_until(&mut r.h, "Register", "the refusal", |h| {
        h.query_all_by_label_contains("the form has no field with this code")
            .next()
            .is_some()
    });
}

fn next_call(r: &mut Rig) {
    r.h.get_by_label("Next call").click();
    r.h.run();
    assert_eq!(
        r.h.state().state.form,
        pyrus_phone::ui::call_form::CallForm {
            numbers_prepared: true,
            ..Default::default()
        },
        "Next call empties the form"
    );
}

#[test]
fn every_key_control_fits_at_360_600_and_1280_px() {
    let mut r = rig();
    register(&mut r);
    next_call(&mut r);
    register_refused(&mut r, "+79160000001");
    next_call(&mut r);
    step_until(&mut r.h, "two rows", |h| {
        h.state().state.list.calls.len() == 2
    });
    let form = ["From", "To", "Internal number", "Register", "Next call"];
    let list = [
        "Attach recording…",
        "Correct…",
        "Retry",
        "Discard",
        "Search calls",
        "Missed",
    ];
    for (width, height) in [(360.0, 640.0), (600.0, 800.0), (1280.0, 800.0)] {
        r.h.set_size(egui::vec2(width, height));
        r.h.run();
        if width < pyrus_phone::ui::NARROW_BELOW {
            // A strip beside the softphone: the form and the list take turns.
            inside(&r, "New call", width, height);
            inside(&r, "Calls (2)", width, height);
            r.h.get_by_label("New call").click();
            r.h.run();
            for label in form {
                inside(&r, label, width, height);
            }
            r.h.get_by_label("Calls (2)").click();
            r.h.run();
            for label in list {
                inside(&r, label, width, height);
            }
            // The number pair wraps rather than running off the row.
            inside(&r, "+7 977 422-13-38 to +7 495 300-90-80", width, height);
        } else {
            for label in form.iter().chain(&list) {
                inside(&r, label, width, height);
            }
        }
        inside(&r, "Demo sandbox — calls go nowhere real", width, height);
        // The status bar wraps rather than running off the window.
        let status: Vec<_> = r.h.query_all_by_label_contains("waiting").collect();
        assert!(!status.is_empty(), "the status bar at {width} px");
        for node in status {
            assert!(node.rect().right() <= width + 0.5, "the status bar wraps");
        }
    }
    r.shutdown();
}

#[test]
fn a_refused_call_is_corrected_in_the_form_and_retry_sends_what_is_shown() {
    let mut r = rig();
    register_refused(&mut r, "+79774221338");
    // The form still holds the call, and now sends it again in its place.
    r.h.get_by_label("Retry with these values");
    retype(&mut r.h, "Mapping 1 code", 7, "Subject");
    click_until(
        &mut r.h,
        "Retry with these values",
        "the corrected call's task",
        |h| h.query_by_label("Task 1").is_some(),
    );
    let tasks = r.sandbox.tasks();
    assert_eq!(tasks.len(), 1, "one call, sent again: one task");
    assert_eq!(
        tasks[0].comments[0].mappings,
        vec![("Subject".to_owned(), "Consultation".to_owned())],
        "Pyrus got the corrected mapping"
    );
    // The row agrees: one call, registered.
    step_until(&mut r.h, "the row to follow", |h| {
        let calls = &h.state().state.list.calls;
        calls.len() == 1 && calls[0].register.state == JobState::Done
    });
    r.shutdown();
}

#[test]
fn enter_in_a_mapping_field_registers() {
    let mut r = rig();
    type_call(&mut r.h, "+79774221338");
    r.h.get_by_label("Add mapping").click();
    r.h.run();
    type_into(&mut r.h, "Mapping 1 code", "Subject");
    type_into(&mut r.h, "Mapping 1 value", "Consultation");
    press_until(&mut r.h, egui::Key::Enter, "the task", |h| {
        h.query_by_label("Task 1").is_some()
    });
    assert_eq!(
        r.sandbox.tasks()[0].comments[0].mappings,
        vec![("Subject".to_owned(), "Consultation".to_owned())]
    );
    r.shutdown();
}

#[test]
fn a_discard_can_be_undone_then_is_final() {
    let mut r = rig();
    register_refused(&mut r, "+79774221338");
    step_until(&mut r.h, "the failed row", |h| {
        h.query_by_label("Correct…").is_some()
    });
    let job = r.h.state().state.list.calls[0].register.id;
    click_until(&mut r.h, "Discard", "the Undo strip", |h| {
        h.query_by_label_contains("Discarded: the call with +7 977 422-13-38")
            .is_some()
    });
    // Discarded at once in the outbox, so no retry slips through meanwhile.
    step_until(&mut r.h, "the discard in the outbox", |_| {
        stored_state(r.dir.path(), &r.runtime, job) == JobState::Discarded
    });
    click_until(&mut r.h, "Undo", "the row to come back", |h| {
        h.query_by_label("Correct…").is_some()
    });
    assert_eq!(r.queue_state(job), JobState::Failed, "Undo restored it");
    assert!(r.h.state().state.list.discarding.is_empty());

    // Discarded for good: once the undo time is over the row and the outcome are gone,
    // and neither Undo nor a retry brings it back.
    r.h.get_by_label("Discard").click();
    r.h.step();
    for d in &mut r.h.state_mut().state.list.discarding {
        d.until = Instant::now();
    }
    r.h.step();
    step_until(&mut r.h, "the discarded row to go", |h| {
        h.state().state.list.calls.is_empty() && h.query_by_label("Undo").is_none()
    });
    assert!(r.h.query_by_label_contains("Pyrus refused").is_none());
    assert!(r.h.query_by_label("Retry with these values").is_none());
    r.h.state_mut().state.notice = None;
    r.service()
        .send(pyrus_phone::bus::Command::Retry(job))
        .unwrap();
    step_until(&mut r.h, "the refusal of the retry", |h| {
        h.state()
            .state
            .notice
            .as_deref()
            .is_some_and(|n| n.contains("has moved on"))
    });
    let stored = r.queue_state(job);
    assert_eq!(stored, JobState::Discarded);
    assert!(r.sandbox.tasks().is_empty(), "nothing reached Pyrus");
    r.shutdown();
}

#[test]
fn a_file_dropped_on_the_third_row_goes_to_the_third_call() {
    let mut r = rig();
    for (i, from) in ["+79160000001", "+79160000002", "+79160000003"]
        .into_iter()
        .enumerate()
    {
        type_call(&mut r.h, from);
        r.h.get_by_label("Register").click();
        r.h.step();
        let n = i + 1;
        step_until(&mut r.h, "the task", |h| {
            h.query_by_label(&format!("Task {n}")).is_some()
        });
        next_call(&mut r);
    }
    step_until(&mut r.h, "three registered rows", |h| {
        let calls = &h.state().state.list.calls;
        calls.len() == 3 && calls.iter().all(|c| c.register.state == JobState::Done)
    });
    r.h.run();
    // Newest first: the third row is the first call.
    let third =
        r.h.get_by_label("+7 916 000-00-01 to +7 495 300-90-80")
            .rect();
    let wav = r.dir.path().join("first.wav");
    write_wav(&wav, 8_000);
    // The file is dragged in from a file manager, across the list, onto the third row.
    r.h.input_mut().hovered_files.push(egui::HoveredFile {
        path: Some(wav.clone()),
        ..Default::default()
    });
    r.h.hover_at(third.center() - egui::vec2(0.0, 40.0));
    r.h.step();
    r.h.hover_at(third.center());
    r.h.step();
    r.h.input_mut().hovered_files.clear();
    r.h.input_mut().dropped_files.push(Arc::new(Dropped(wav)));
    r.h.step();
    r.h.step();
    r.h.get_by_label_contains("Attaching first.wav to the call from +7 916 000-00-01");
    step_until(&mut r.h, "the recording on the first call's task", |_| {
        r.sandbox
            .tasks()
            .iter()
            .any(|t| t.comments.iter().any(|c| c.recording.is_some()))
    });
    let tasks = r.sandbox.tasks();
    let with_recording: Vec<_> = tasks
        .iter()
        .filter(|t| t.comments.iter().any(|c| c.recording.is_some()))
        .map(|t| t.from_number.clone())
        .collect();
    assert_eq!(with_recording, vec!["+79160000001".to_owned()]);

    // A drop the window saw no pointer for (the desktop reports none during another
    // program's drag) asks which call, even over a row; so does a drop where no row is.
    let other = r.dir.path().join("other.wav");
    write_wav(&other, 8_000);
    r.h.input_mut().dropped_files.push(Arc::new(Dropped(other)));
    r.h.run();
    r.h.get_by_label("Which call is this recording for?");
    r.h.get_by_label_contains("Dropped: other.wav");
    r.h.get_by_label_contains("the call from +7 916 000-00-02")
        .click();
    r.h.step();
    step_until(&mut r.h, "the second call's recording", |_| {
        r.sandbox
            .tasks()
            .iter()
            .filter(|t| t.comments.iter().any(|c| c.recording.is_some()))
            .count()
            == 2
    });
    r.shutdown();
}

/// A file dropped from a file manager.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// A recordings folder with an older and a newer recording.
#[cfg(all(unix, not(target_os = "macos")))]
fn recordings(dir: &Path) -> (PathBuf, PathBuf) {
    let folder = dir.join("recordings");
    std::fs::create_dir_all(&folder).unwrap();
    let older = folder.join("older.wav");
    let newer = folder.join("newer.wav");
    write_wav(&older, 8_000);
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&older)
        .unwrap()
        .set_modified(old)
        .unwrap();
    write_wav(&newer, 8_000);
    write_wav(&folder.join("notes.txt"), 10);
    (older, newer)
}

#[test]
fn without_a_system_dialog_the_built_in_chooser_opens_in_the_recordings_folder() {
    let dir = tempfile::tempdir().unwrap();
    let (_, newer) = recordings(dir.path());
    let mut in_force = Settings::default();
    in_force.sources.recordings_dir = Some(newer.parent().unwrap().to_path_buf());
    let mut r = rig_with(RigOptions {
        in_force,
        // The chooser's own path and file-name fields carry no accessible names.
        accessibility_check: false,
        // The desktop probe finds no portal and no zenity, whatever this desk has.
        file_dialog: Some(false),
        ..RigOptions::default()
    });
    register(&mut r);
    step_until(&mut r.h, "the row", |h| {
        h.query_by_label("Attach recording…").is_some()
    });
    r.h.get_by_label("Attach recording…").click();
    r.h.run();
    r.h.run();
    let newer_row = r.h.get_by_label("🗋 newer.wav").rect();
    let older_row = r.h.get_by_label("🗋 older.wav").rect();
    assert!(newer_row.top() < older_row.top(), "newest first");
    assert!(
        r.h.query_by_label("🗋 notes.txt").is_none(),
        "only recordings are offered"
    );
    r.h.get_by_label("🗋 newer.wav").click();
    r.h.run();
    click_until(&mut r.h, "Attach", "the attached chip", |h| {
        h.query_by_label("Recording attached").is_some()
    });
    let recording = r.sandbox.tasks()[0]
        .comments
        .iter()
        .find_map(|c| c.recording.clone())
        .unwrap();
    assert_eq!(recording.1, "newer.wav");
    r.h.get_by_label_contains("Recording newer.wav — attached");
    r.shutdown();
}

#[test]
fn the_window_keeps_drawing_while_the_system_dialog_is_open() {
    let mut r = rig();
    register(&mut r);
    let (answer, pick) = tokio::sync::oneshot::channel::<PathBuf>();
    *r.picked.borrow_mut() = Some(Chooser::Native(Box::pin(async move { pick.await.ok() })));
    r.h.get_by_label("Attach recording…").click();
    r.h.step();
    assert!(r.h.state().choosing());
    // A call rings while the agent is still in the dialog: it shows at once.
    r.hear("ring", "79161234567", "ring-1", "http");
    step_until(&mut r.h, "the ringing bar", |h| {
        h.query_by_label("Incoming call: +7 916 123-45-67")
            .is_some()
    });
    assert!(r.h.state().choosing(), "the dialog is still open");
    let wav = r.dir.path().join("late.wav");
    write_wav(&wav, 8_000);
    answer.send(wav).unwrap();
    step_until(&mut r.h, "the dialog's answer", |h| !h.state().choosing());
    r.shutdown();
}

/// A desk without a Secret Service: every keyring call fails as it does there.
#[derive(Debug)]
struct NoSecretService;

impl SecretStore for NoSecretService {
    fn get(&self, _: &str) -> Result<Option<Secret>, SecretError> {
        Err(no_service())
    }
    fn set(&self, _: &str, _: &Secret) -> Result<(), SecretError> {
        Err(no_service())
    }
    fn delete(&self, _: &str) -> Result<(), SecretError> {
        Err(no_service())
    }
    fn name(&self) -> &'static str {
        "system keyring"
    }
}

fn no_service() -> SecretError {
    SecretError {
        reason: "The name org.freedesktop.secrets was not provided by any .service files"
            .to_owned(),
    }
}

#[test]
fn without_a_keyring_everything_but_the_key_is_saved_and_the_window_says_so() {
    let mut r = rig_with(RigOptions {
        secrets: Arc::new(NoSecretService),
        ..RigOptions::default()
    });
    r.h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Comma);
    r.h.run();
    type_into(&mut r.h, "Login", "bot@example.com");
    type_into(&mut r.h, "Security key", "secret-key");
    type_into(&mut r.h, "Account id", "42");
    type_into(&mut r.h, "This line's number", "+74953009080");
    r.h.get_by_label("Language").click();
    r.h.run();
    r.h.get_by_label("Русский").click();
    r.h.run();
    click_until(&mut r.h, "Сохранить", "the save's answer", |h| {
        h.query_by_label_contains("Сохранено всё, кроме ключа безопасности")
            .is_some()
    });
    assert!(
        r.h.query_by_label_contains("связке ключей").is_none(),
        "nothing says the key is in a keyring"
    );
    // What the next start reads: everything but the key.
    let file = r.dir.path().join("config").join("settings.toml");
    let saved = Settings::load(&file).unwrap();
    assert_eq!(saved.pyrus.login, "bot@example.com");
    assert_eq!(saved.pyrus.account_id, "42");
    assert_eq!(saved.defaults.line_number, "+74953009080");
    assert_eq!(saved.window.language.as_deref(), Some("ru"));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains("secret-key"),
        "the key is never written to disk"
    );
    r.shutdown();
}

/// No keyring, and the key not typed at Save (a restart forgets a key kept for the
/// session): a typed call waits for it on its row, which asks for it; once entered the
/// call goes, and the hint never speaks of a keyring that is not there.
#[test]
fn without_a_keyring_a_call_waiting_for_the_key_asks_for_it_and_then_goes() {
    let mut r = rig_with(RigOptions {
        secrets: Arc::new(NoSecretService),
        ..RigOptions::default()
    });
    let mut editable = Settings::default();
    editable.pyrus.auth_url = r.sandbox.auth_url();
    r.h.state_mut().state.settings_form =
        pyrus_phone::ui::settings_view::SettingsForm::new(&editable);
    r.h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Comma);
    r.h.run();
    type_into(&mut r.h, "Login", pyrus_phone::sandbox::DEMO_LOGIN);
    type_into(&mut r.h, "Account id", "demo-account");
    click_until(&mut r.h, "Save", "the save's answer", |h| {
        !h.state().state.settings_form.saving && h.state().state.settings_form.saved
    });
    r.h.get_by_label("Calls").click();
    r.h.run();
    type_call(&mut r.h, "+7 977 422-13-38");
    click_until(&mut r.h, "Register", "the row asking for the key", |h| {
        h.query_all_by_label("Enter the key").count() > 0
    });
    assert!(r.h.query_all_by_label_contains("none on this desk").count() > 0);
    assert!(
        r.h.query_all_by_label_contains("unlock").next().is_none(),
        "no keyring to unlock"
    );
    r.h.query_all_by_label("Enter the key")
        .next()
        .unwrap()
        .click();
    r.h.run();
    type_into(
        &mut r.h,
        "Security key",
        pyrus_phone::sandbox::DEMO_SECURITY_KEY,
    );
    r.h.get_by_label_contains("no keyring: the key is used until pyrus-phone closes");
    click_until(&mut r.h, "Use this key", "the call registered", |h| {
        h.query_by_label("Task 1").is_some()
    });
    assert_eq!(r.sandbox.tasks().len(), 1);
    r.shutdown();
}

#[ignore = "system tier (tests/run.sh): needs a notification service (dunst) in a private D-Bus session"]
#[test]
fn a_call_ringing_while_the_window_is_away_is_announced_and_the_click_brings_it_up() {
    crate::support::system_tier("a notification service (dunst) in a private D-Bus session");
    let mut r = rig();
    r.h.run();
    // The agent is in the browser: the window has no keyboard focus.
    r.h.input_mut().focused = false;
    r.h.run();
    let before = dunst_count();
    r.hear("ring", "79165550101", "away-1", "http");
    step_until(&mut r.h, "the notification", |h| {
        h.state().times_notified() == 1
    });
    // It reached the desktop's notification service on this session bus.
    wait_until_blocking(
        "the notification service to get it",
        Duration::from_secs(10),
        || dunst_count() > before,
    );
    // The agent clicks it: the window is asked to come to the front.
    let raised = r.h.state().times_raised();
    dunstctl(&["action", "0"]);
    step_until(&mut r.h, "the window to be raised", |h| {
        h.state().times_raised() > raised
    });
    let asked =
        r.h.output()
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .map(|v| v.commands.clone())
            .unwrap_or_default();
    assert!(asked.contains(&egui::ViewportCommand::Focus), "{asked:?}");
    r.shutdown();
}

fn dunstctl(args: &[&str]) -> String {
    let out = std::process::Command::new("dunstctl")
        .args(args)
        .output()
        .expect("dunstctl (the test session's notification service) is missing: run tests/run.sh");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Notifications dunst has shown or keeps.
fn dunst_count() -> u32 {
    ["displayed", "history", "waiting"]
        .iter()
        .map(|what| {
            dunstctl(&["count", what])
                .trim()
                .parse::<u32>()
                .unwrap_or(0)
        })
        .sum()
}

#[test]
fn missed_calls_are_found_and_called_back() {
    let mut r = rig();
    r.h.run();
    r.hear("ring", "79167770011", "m-1", "http");
    r.hear("end", "79167770011", "m-1", "http");
    step_until(&mut r.h, "the missed row", |h| {
        h.query_by_label_contains("Missed · rang").is_some()
    });
    r.h.get_by_label("Call back").click();
    r.h.run();
    wait_until_blocking(
        "the number to be handed to the softphone",
        Duration::from_secs(20),
        || r.browser.opened().contains(&"tel:+79167770011".to_owned()),
    );
    // The filter shows missed calls only; a search finds the call by its number.
    type_call(&mut r.h, "+7 977 422-13-38");
    click_until(&mut r.h, "Register", "the typed call's task", |h| {
        h.query_by_label("Task 2").is_some()
    });
    click_until(&mut r.h, "Missed", "the missed calls", |h| {
        h.state()
            .state
            .list
            .found
            .as_ref()
            .is_some_and(|f| f.len() == 1)
    });
    r.h.get_by_label("Missed").click();
    type_into(&mut r.h, "Search calls", "7770011");
    r.h.step();
    step_until(&mut r.h, "the search", |h| {
        h.state()
            .state
            .list
            .found
            .as_ref()
            .is_some_and(|f| f.len() == 1 && f[0].request.from.as_str() == "+79167770011")
    });
    r.shutdown();
}

#[test]
fn the_next_call_after_a_refusal_is_a_new_call_and_the_refused_one_stays() {
    let mut r = rig();
    register_refused(&mut r, "+79774221338");
    next_call(&mut r);
    // Typed as the refusal is still being followed: it must not replace the refused call.
    type_call(&mut r.h, "+79160000009");
    press_until(&mut r.h, egui::Key::Enter, "the new call's task", |h| {
        h.query_by_label("Task 1").is_some()
    });
    assert_eq!(r.sandbox.tasks()[0].from_number, "+79160000009");
    step_until(&mut r.h, "both rows", |h| {
        h.state().state.list.calls.len() == 2
    });
    let calls = &r.h.state().state.list.calls;
    let refused = calls
        .iter()
        .find(|c| c.request.from.as_str() == "+79774221338")
        .expect("the refused call is still listed");
    assert_eq!(refused.register.state, JobState::Failed);
    assert_eq!(
        refused.request.mappings[0].code, "Subjekt",
        "kept as it was"
    );
    r.shutdown();
}

// The XDG autostart entry: macOS has a launch agent instead, and Windows a registry value
// (the user's own, which a test must not touch).
#[cfg(all(unix, not(target_os = "macos")))]
#[test]
fn start_when_i_log_in_writes_and_removes_the_autostart_entry() {
    let mut r = rig();
    r.h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Comma);
    r.h.run();
    type_into(&mut r.h, "Login", "bot@example.com");
    type_into(&mut r.h, "Security key", "secret-key");
    type_into(&mut r.h, "Account id", "42");
    let entry = r.dir.path().join("autostart").join("pyrus-phone.desktop");
    let save = |r: &mut Rig| {
        click_until(&mut r.h, "Save", "the save", |h| {
            h.query_by_label_contains("Saved").is_some() && !h.state().state.settings_form.saving
        });
    };
    r.h.get_by_label("Start when I log in (minimised)").click();
    r.h.run();
    save(&mut r);
    let text = std::fs::read_to_string(&entry).expect("the autostart entry is written");
    let program = std::env::current_exe().unwrap().display().to_string();
    assert!(text.contains("[Desktop Entry]"), "{text}");
    assert!(text.contains(&format!("{program} --minimized")), "{text}");
    r.h.get_by_label("Start when I log in (minimised)").click();
    r.h.run();
    save(&mut r);
    assert!(!entry.exists(), "turned off, the entry is gone");
    r.shutdown();
}

/// The window under an administrator's file holding `text`, showing its settings.
fn settings_under_admin(text: &str) -> Rig {
    let mut r = rig_with(RigOptions {
        admin_settings: Some(text.to_owned()),
        ..RigOptions::default()
    });
    r.h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Comma);
    r.h.run();
    r
}

#[test]
fn the_window_marks_what_the_administrator_set_until_the_agent_sets_it() {
    let mut r = settings_under_admin(
        "[pyrus]\naccount_id = \"fleet-account\"\n\n[[defaults.presets]]\nname = \"Fleet preset\"\nmappings = [{ code = \"Subject\", value = \"Sale\" }]\n",
    );
    step_until(&mut r.h, "the administrator's marks", |h| {
        h.query_all_by_label("from your administrator").count() == 2
    });
    assert_eq!(
        r.h.get_by_label("Account id").value().as_deref(),
        Some("fleet-account")
    );
    r.h.get_by_label("Preset 1 name");
    // The agent sets the account id: it is theirs now, and the mark beside it goes.
    type_into(&mut r.h, "Login", "bot@example.com");
    type_into(&mut r.h, "Security key", "secret-key");
    type_into(&mut r.h, "Account id", "-mine");
    click_until(&mut r.h, "Save", "one mark left (the presets)", |h| {
        !h.state().state.settings_form.saving
            && h.query_all_by_label("from your administrator").count() == 1
    });
    let user = r.dir.path().join("config").join("settings.toml");
    let text = std::fs::read_to_string(&user).unwrap();
    assert!(text.contains("fleet-account-mine"), "{text}");
    assert!(
        !text.contains("Fleet preset"),
        "the administrator's presets stay theirs"
    );
    assert!(
        !text.contains("register_on") && !text.contains("port"),
        "Save writes no default: {text}"
    );
    // The administrator sets a value after the agent's Save: it is in force at the next start.
    let admin = r
        .dir
        .path()
        .join("admin")
        .join("pyrus-phone")
        .join("settings.toml");
    let mut more = std::fs::read_to_string(&admin).unwrap();
    more.push_str("\n[calls]\nregister_on = \"answer\"\n");
    crate::support::write_file(&admin, &more);
    let next = Settings::load_with_admin(&user, Some(&admin)).unwrap();
    assert_eq!(next.calls.register_on, RegisterOn::Answer);
    assert_eq!(next.pyrus.account_id, "fleet-account-mine");
    r.shutdown();
}

/// Radios and checkboxes are marked too, and a locked value is shown but cannot be changed.
#[test]
fn every_administrators_value_is_marked_and_a_locked_one_cannot_be_changed() {
    let mut r = settings_under_admin(
        "locked = [\"calls.register_on\"]\n\n[calls]\nregister_on = \"answer\"\n\n[window]\nalways_on_top = true\nopen_task = \"nobody\"\n",
    );
    // Always on top and who opens the task.
    step_until(&mut r.h, "the administrator's marks", |h| {
        h.query_all_by_label("from your administrator").count() == 2
            && h.query_all_by_label("locked by your administrator").count() == 1
    });
    // "only by hand": when to register (locked), then when to open (the agent's).
    let by_hand: Vec<bool> =
        r.h.query_all_by_label("only by hand")
            .map(|n| n.accesskit_node().is_disabled())
            .collect();
    assert_eq!(by_hand, vec![true, false], "only the locked radios");
    assert!(
        !r.h.get_by_label("Keep the window above others")
            .accesskit_node()
            .is_disabled(),
        "a value from the administrator that is not locked is the agent's to change"
    );
    r.shutdown();
}

/// A broken machine-wide file never stops the window: the agent's own settings run, the
/// status bar says so, and the settings say which file and where.
#[test]
fn a_broken_administrators_file_starts_the_window_and_says_which_file_and_where() {
    let mut r = rig_with(RigOptions {
        admin_settings: Some("[pyrus]\naccount_id = \"fleet\"\n\n[calls\n".to_owned()),
        ..RigOptions::default()
    });
    step_until(&mut r.h, "the notice in the status bar", |h| {
        h.query_by_label("Administrator's settings not used")
            .is_some()
    });
    r.h.get_by_label("Administrator's settings not used")
        .click();
    r.h.run();
    step_until(&mut r.h, "which file and where", |h| {
        h.query_by_label_contains("cannot be used (line 4")
            .is_some()
    });
    r.h.get_by_label_contains("pyrus-phone/settings.toml");
    r.shutdown();
}

/// In the demo, a setting of the window's own (the language) saves without an account, and
/// the demo stays in force.
#[test]
fn in_the_demo_the_language_saves_without_an_account_and_the_demo_stays() {
    let mut r = rig();
    r.h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Comma);
    r.h.run();
    r.h.get_by_label("Language").click();
    r.h.run();
    r.h.get_by_label("Русский").click();
    r.h.run();
    click_until(&mut r.h, "Сохранить", "the save's answer", |h| {
        let form = &h.state().state.settings_form;
        !form.saving && (form.saved || form.save_error.is_some())
    });
    assert!(
        r.h.state().state.settings_form.save_error.is_none(),
        "{:?}",
        r.h.state().state.settings_form.save_error
    );
    let text = std::fs::read_to_string(r.dir.path().join("config").join("settings.toml")).unwrap();
    assert!(text.contains("language = \"ru\""), "{text}");
    assert!(!text.contains("login"), "{text}");
    assert!(r.h.state().state.demo, "still the demo");
    r.shutdown();
}
