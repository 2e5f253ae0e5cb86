//! The first window, driven through AccessKit with the real service and the sandbox: type a
//! call, click Register, see the task id come back, open it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use pyrus_phone::app::PhoneApp;
use pyrus_phone::bus;
use pyrus_phone::cli::sandbox::demo_settings;
use pyrus_phone::domain::Secret;
use pyrus_phone::outbox::Outbox;
use pyrus_phone::platform::browser::RecordingBrowser;
use pyrus_phone::sandbox::DEMO_SECURITY_KEY;
use pyrus_phone::service::{Engine, Service};
use pyrus_phone::settings::Settings;
use pyrus_phone::settings::credentials::MemoryStore;
use pyrus_phone::ui::UiState;

use crate::support::start_sandbox;

fn type_into(h: &mut Harness<'_, PhoneApp>, label: &str, text: &str) {
    h.get_by_label(label).focus();
    h.run();
    h.get_by_label(label).type_text(text);
    h.run();
}

fn step_until(
    h: &mut Harness<'_, PhoneApp>,
    what: &str,
    mut done: impl FnMut(&Harness<'_, PhoneApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done(h) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
}

#[test]
fn the_first_window_registers_a_call_and_opens_its_task() {
    let runtime = pyrus_phone::runtime::build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sandbox = runtime.block_on(start_sandbox(dir.path().join("files")));
    let settings = demo_settings(&sandbox, &Settings::default());
    let outbox = Outbox::open(&dir.path().join("outbox.sqlite3")).unwrap();
    let browser = Arc::new(RecordingBrowser::default());
    let engine = Arc::new(Engine::new(
        settings,
        outbox,
        Arc::new(MemoryStore::default()),
        Some(Secret::new(DEMO_SECURITY_KEY)),
        Arc::clone(&browser) as Arc<dyn pyrus_phone::platform::browser::Browser>,
    ));
    let (tx, rx) = bus::event_channel(64, Arc::new(|| {}));
    let handle = Service::spawn(runtime.handle(), engine, tx);
    let app = PhoneApp::new(
        UiState {
            demo: true,
            ..UiState::default()
        },
        rx,
        handle,
    );
    let mut h = Harness::builder().with_size([600.0, 700.0]).build_ui_state(
        |ui, app: &mut PhoneApp| {
            app.drain_events();
            app.ui_pass(ui);
        },
        app,
    );
    h.run();
    h.get_by_label("DEMO SANDBOX");

    type_into(&mut h, "From", "+7 977 422-13-38");
    type_into(&mut h, "To", "+74953009080");
    type_into(&mut h, "Internal number", "200");
    h.get_by_label("Register").click();
    // A spinner shows while registering, so step rather than run to quiet.
    h.step();
    step_until(&mut h, "the task id", |h| {
        h.query_by_label("Task 1").is_some()
    });
    h.get_by_label("New task created");
    h.get_by_label("Responsible: Ilya Laserson");

    let tasks = sandbox.tasks();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].from_number, "+79774221338");
    assert_eq!(tasks[0].responsible.as_deref(), Some("34231"));

    h.get_by_label("Open task").click();
    h.run();
    let url = format!("{}/t#id1", sandbox.base_url());
    let deadline = Instant::now() + Duration::from_secs(5);
    while browser.opened().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(browser.opened(), vec![url]);
    drop(h);
    runtime.block_on(sandbox.shutdown());
}
