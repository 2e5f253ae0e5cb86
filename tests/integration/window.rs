//! The window, driven through AccessKit on an instance the product's builder makes (the
//! demo sandbox, its outbox, the event hook): type a call,
//! click Register, see the task id come back, open it; attach a recording to its row, follow
//! and cancel the upload, retry it; refuse a bad file inline.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use pyrus_phone::app::PhoneApp;
use pyrus_phone::app::chooser::Chooser;
use pyrus_phone::bus;
use pyrus_phone::cli::Context;
use pyrus_phone::domain::{CallEvent, JobId, JobState, Secret};
use pyrus_phone::instance::{Instance, Options, Running};
use pyrus_phone::outbox::Outbox;
use pyrus_phone::platform::browser::{Browser, RecordingBrowser, TelAnswer};
use pyrus_phone::platform::paths::Paths;
use pyrus_phone::sandbox::{FaultKind, Route, Sandbox, SandboxConfig};
use pyrus_phone::settings::credentials::{HOOK_TOKEN_ENTRY, MemoryStore, SecretStore};
use pyrus_phone::settings::{EnvOverrides, Settings};
use pyrus_phone::sources::baresip::BaresipCommand;
use pyrus_phone::sources::monitor::Monitor;
use pyrus_phone::sources::{Heard, runtime_file};
use pyrus_phone::ui::UiState;

use crate::support::{fault, recordings, wait_until_blocking, write_wav};

pub struct Rig {
    pub h: Harness<'static, PhoneApp>,
    pub sandbox: Sandbox,
    pub browser: Arc<RecordingBrowser>,
    /// How the next Attach recording… is answered (nothing set: as the product decides on
    /// this desk, which has no system dialog).
    pub picked: Rc<RefCell<Option<Chooser>>>,
    /// The home: `config/`, `data/`, `run/` as the product lays them out.
    pub dir: tempfile::TempDir,
    pub runtime: tokio::runtime::Runtime,
    /// What the call sources noted (the doctor reads it).
    pub monitor: Arc<Monitor>,
    /// Commands the window sent to baresip.
    pub baresip: tokio::sync::mpsc::Receiver<BaresipCommand>,
    /// Where sources send call events.
    pub events: tokio::sync::mpsc::Sender<Heard>,
    /// Holds the hook's configured port, when the rig was asked to start with it taken.
    pub blocker: Option<std::net::TcpListener>,
    /// Holds the outbox locked, when the rig was asked to start with it so.
    pub outbox_locker: Option<rusqlite::Connection>,
    running: Running,
}

/// How a rig starts: the sandbox, where keys go, the settings file's content, the window's
/// first state.
pub struct RigOptions {
    pub sandbox: Option<SandboxConfig>,
    pub secrets: Arc<dyn SecretStore>,
    pub state: UiState,
    /// The settings as read from the file (the demo puts the sandbox's address and login in).
    pub in_force: Settings,
    /// Another program holds the event hook's configured port.
    pub hook_port_taken: bool,
    /// Every widget must have an accessible name (the built-in chooser's own path fields
    /// have none, so its test turns this off).
    pub accessibility_check: bool,
    /// The administrator's settings file for this machine, when there is one.
    pub admin_settings: Option<String>,
    /// What the desktop probe answers (is there a system file dialog?); `None`: this desk's
    /// own answer.
    pub file_dialog: Option<bool>,
    /// Who handles `tel:` links on this desk (`None`: another program, which takes them).
    pub tel: Option<TelAnswer>,
    /// Another program holds the outbox locked (the rig's `outbox_locker`) as it starts.
    pub outbox_locked: bool,
    /// Runs with an account (the sandbox's, its key in `secrets`, a line number) and the
    /// profile's own outbox, as a signed-in desk does, instead of the demo.
    pub account: bool,
}

impl Default for RigOptions {
    fn default() -> Self {
        Self {
            sandbox: None,
            secrets: Arc::new(MemoryStore::default()),
            in_force: Settings::default(),
            hook_port_taken: false,
            accessibility_check: true,
            admin_settings: None,
            file_dialog: None,
            tel: None,
            outbox_locked: false,
            account: false,
            state: UiState {
                demo: true,
                ..UiState::default()
            },
        }
    }
}

pub fn rig() -> Rig {
    rig_with(RigOptions::default())
}

/// The administrator's settings file with `text`, in its machine-wide place under `dir`.
fn admin_file(dir: &std::path::Path, text: &str) -> PathBuf {
    let file = dir.join("admin").join("pyrus-phone").join("settings.toml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let mut f = std::fs::File::create(&file).unwrap();
    std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
    file
}

/// The window on an instance built by the product's own builder (`Instance::build`, in the
/// demo: a sandbox, its outbox, the event hook), with a recording browser, keys in
/// `secrets` and a fake baresip that records the commands sent to it.
pub fn rig_with(options: RigOptions) -> Rig {
    let runtime = pyrus_phone::runtime::build().unwrap();
    runtime.block_on(async {
        rustls::crypto::ring::default_provider()
            .install_default()
            .ok();
    });
    let dir = tempfile::tempdir().unwrap();
    let browser = Arc::new(RecordingBrowser::answering_tel(options.tel));
    let mut paths = Paths::under(dir.path());
    paths.admin_settings_file = options
        .admin_settings
        .as_ref()
        .map(|text| admin_file(dir.path(), text));
    // As a start reads them: the user's file over the administrator's.
    let mut in_force = match &paths.admin_settings_file {
        Some(admin) => Settings::load_with_admin(&paths.settings_file(), Some(admin)).unwrap(),
        None => options.in_force,
    };
    // A softphone's files are the rig's own, never this machine user's.
    in_force
        .sources
        .twinkle_dir
        .get_or_insert_with(|| dir.path().join(".twinkle"));
    let sandbox = options
        .sandbox
        .unwrap_or_else(|| SandboxConfig::demo(dir.path().join("files")));
    // With an account, the sandbox is Pyrus: started here, as the account's server.
    let account = options.account.then(|| {
        let loopback = std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0));
        let server = runtime
            .block_on(Sandbox::start(sandbox.clone(), loopback))
            .unwrap();
        in_force.pyrus.auth_url = server.auth_url();
        in_force.pyrus.login = pyrus_phone::sandbox::DEMO_LOGIN.to_owned();
        in_force.pyrus.account_id = pyrus_phone::sandbox::DEMO_ACCOUNT_ID.to_owned();
        in_force.pyrus.form_id = Some(pyrus_phone::sandbox::DEMO_FORM_ID);
        in_force.defaults.line_number = "+74950000000".to_owned();
        options
            .secrets
            .set(
                pyrus_phone::sandbox::DEMO_LOGIN,
                &Secret::new(pyrus_phone::sandbox::DEMO_SECURITY_KEY),
            )
            .unwrap();
        server
    });
    let ctx = Context {
        paths,
        env: EnvOverrides::default(),
        key_override: None,
        browser: Arc::clone(&browser) as Arc<dyn Browser>,
    };
    // The hook's token as the keyring keeps it between runs.
    // (A desk without a keyring keeps none: the hook makes one for the run.)
    options
        .secrets
        .set(HOOK_TOKEN_ENTRY, &Secret::new("rig-hook-token"))
        .ok();
    let blocker = options
        .hook_port_taken
        .then(|| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    let hook_port = blocker
        .as_ref()
        .map_or(0, |b| b.local_addr().unwrap().port());
    let outbox_locker = options.outbox_locked.then(|| {
        let file = ctx.paths.database_file();
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        let locker = rusqlite::Connection::open(file).unwrap();
        locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
        locker
    });
    let mut instance = Instance::build(
        &runtime,
        &ctx,
        options.secrets,
        &Options {
            demo: account.is_none(),
            hook_port: Some(hook_port),
            window: true,
            sandbox: Some(sandbox),
            ..Options::default()
        },
        in_force,
    )
    .unwrap();
    let (baresip_tx, baresip) = tokio::sync::mpsc::channel(4);
    instance.set_baresip_commands(baresip_tx);
    let monitor = Arc::clone(instance.monitor());
    let events = instance.events().unwrap();
    let sandbox = account.unwrap_or_else(|| instance.take_sandbox().unwrap());
    let (tx, rx) = bus::event_channel(64, Arc::new(|| {}));
    let running = instance.serve(runtime.handle(), tx);
    let picked: Rc<RefCell<Option<Chooser>>> = Rc::default();
    let answer = Rc::clone(&picked);
    let file_dialog = options.file_dialog;
    let app =
        PhoneApp::new(options.state, rx, running.service.clone()).with_picker(move |t, dir| {
            answer
                .borrow_mut()
                .take()
                .unwrap_or_else(|| match file_dialog {
                    Some(has_dialog) => pyrus_phone::app::chooser::chooser_for(has_dialog, t, dir),
                    None => pyrus_phone::app::chooser::system_chooser(t, dir),
                })
        });
    let h = Harness::builder()
        .with_size([1000.0, 700.0])
        .with_max_steps(12)
        .with_accessibility_check(options.accessibility_check)
        .build_ui_state(
            |ui, app: &mut PhoneApp| {
                app.logic_pass(&ui.ctx().clone());
                app.ui_pass(ui);
            },
            app,
        );
    Rig {
        h,
        sandbox,
        browser,
        picked,
        dir,
        runtime,
        monitor,
        baresip,
        events,
        blocker,
        outbox_locker,
        running,
    }
}

impl Rig {
    /// The next Attach recording… is answered at once with `path` by the system's dialog.
    pub fn answer_with(&self, path: PathBuf) {
        *self.picked.borrow_mut() = Some(Chooser::Native(Box::pin(std::future::ready(Some(path)))));
    }

    /// A softphone event reaches the instance as a source hands it over.
    pub fn hear(&self, kind: &str, number: &str, call_id: &str, source: &str) {
        let event = CallEvent::parse(kind, number, Some(call_id), None, None, source).unwrap();
        self.runtime
            .block_on(self.events.send(Heard::unacknowledged(event)))
            .unwrap();
    }

    /// The service, to send it a command the window would not.
    pub fn service(&self) -> pyrus_phone::service::ServiceHandle {
        self.running.service.clone()
    }

    /// A job's state as the demo's outbox keeps it.
    pub fn queue_state(&self, job: JobId) -> JobState {
        stored_state(self.dir.path(), &self.runtime, job)
    }

    /// Closes the window, stops the instance, then the sandbox, on the rig's runtime.
    pub fn shutdown(self) {
        let Self {
            h,
            sandbox,
            runtime,
            running,
            ..
        } = self;
        drop(h);
        runtime.block_on(running.shutdown());
        runtime.block_on(sandbox.shutdown());
    }

    /// The running instance as a second start finds it.
    pub fn published(&self) -> runtime_file::Instance {
        runtime_file::read(&self.dir.path().join("run")).unwrap()
    }
}

/// A job's state in the demo outbox under `home`.
pub fn stored_state(
    home: &std::path::Path,
    runtime: &tokio::runtime::Runtime,
    job: JobId,
) -> JobState {
    let path = Paths::under(home).demo().database_file();
    let outbox = Outbox::open(&path).unwrap();
    runtime.block_on(outbox.job(job)).unwrap().state
}

pub fn type_into(h: &mut Harness<'_, PhoneApp>, label: &str, text: &str) {
    h.get_by_label(label).focus();
    h.run();
    h.get_by_label(label).type_text(text);
    h.run();
}

/// Steps the window until `done` holds of it, failing after 20 s naming `what`.
pub fn step_until(
    h: &mut Harness<'_, PhoneApp>,
    what: &str,
    mut done: impl FnMut(&Harness<'_, PhoneApp>) -> bool,
) {
    let mut first = true;
    wait_until_blocking(what, Duration::from_secs(20), || {
        if !std::mem::take(&mut first) {
            h.step();
        }
        done(h)
    });
}

/// Clicks `label`, then steps the window until `done` holds of it.
pub fn click_until(
    h: &mut Harness<'_, PhoneApp>,
    label: &str,
    what: &str,
    done: impl FnMut(&Harness<'_, PhoneApp>) -> bool,
) {
    h.get_by_label(label).click();
    // A spinner may show meanwhile, so step rather than run to quiet.
    h.step();
    step_until(h, what, done);
}

/// Presses `key`, then steps the window until `done` holds of it.
pub fn press_until(
    h: &mut Harness<'_, PhoneApp>,
    key: egui::Key,
    what: &str,
    done: impl FnMut(&Harness<'_, PhoneApp>) -> bool,
) {
    h.key_press(key);
    h.step();
    step_until(h, what, done);
}

/// Types a call from `from` to the demo line into the form.
pub fn type_call(h: &mut Harness<'_, PhoneApp>, from: &str) {
    type_into(h, "From", from);
    type_into(h, "To", "+74953009080");
}

/// Erases the last `n` characters of the field `label`.
pub fn erase(h: &mut Harness<'_, PhoneApp>, label: &str, n: usize) {
    h.get_by_label(label).focus();
    h.run();
    for _ in 0..n {
        h.key_press(egui::Key::Backspace);
    }
    h.run();
}

/// Replaces the last `n` characters of the field `label` with `text`.
pub fn retype(h: &mut Harness<'_, PhoneApp>, label: &str, n: usize, text: &str) {
    erase(h, label, n);
    h.get_by_label(label).type_text(text);
    h.run();
}

/// Waits (without stepping the window) until the browser has opened `n` links; all it
/// opened.
pub fn opened_at_least(browser: &RecordingBrowser, n: usize) -> Vec<String> {
    let what = format!("the browser to open {n} link(s)");
    wait_until_blocking(&what, Duration::from_secs(20), || {
        let opened = browser.opened();
        (opened.len() >= n).then_some(opened)
    })
}

pub fn register(r: &mut Rig) {
    type_call(&mut r.h, "+7 977 422-13-38");
    type_into(&mut r.h, "Internal number", "200");
    click_until(&mut r.h, "Register", "the task id", |h| {
        h.query_by_label("Task 1").is_some()
    });
}

#[test]
fn the_window_registers_a_call_and_opens_its_task() {
    let mut r = rig();
    r.h.run();
    r.h.get_by_label("Demo sandbox — calls go nowhere real");
    register(&mut r);
    r.h.get_by_label("New task created");
    r.h.get_by_label("Responsible: Ilya Laserson");
    let tasks = r.sandbox.tasks();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].from_number, "+79774221338");
    assert_eq!(tasks[0].responsible.as_deref(), Some("34231"));

    // The call list shows the row with its status and task.
    step_until(&mut r.h, "the row", |h| {
        h.query_by_label("Registered").is_some()
    });
    r.h.get_by_label("+7 977 422-13-38 to +7 495 300-90-80");
    assert_eq!(
        r.h.query_all_by_label("Incoming").count(),
        2,
        "the form's direction and the row's"
    );

    // "This app opens the task" is the default: the link opened once, by itself.
    let url = format!("{}/t#id1", r.sandbox.base_url());
    assert_eq!(opened_at_least(&r.browser, 1), vec![url.clone()]);
    r.h.get_by_label("Open task").click();
    r.h.run();
    assert_eq!(opened_at_least(&r.browser, 2), vec![url.clone(), url]);
    r.shutdown();
}

#[test]
fn a_typed_call_that_meets_one_server_error_is_registered_with_nothing_else_happening() {
    let mut r = rig();
    r.sandbox
        .inject(fault(Route::Call, FaultKind::ServerError, 1));
    type_call(&mut r.h, "+79774221338");
    // No other call, no Retry: the failed attempt alone brings the next one.
    click_until(
        &mut r.h,
        "Register",
        "the registration after one 500",
        |h| h.query_by_label("Task 1").is_some(),
    );
    let calls: Vec<u16> = r
        .sandbox
        .requests()
        .iter()
        .filter(|q| q.route == Some(Route::Call))
        .map(|q| q.status)
        .collect();
    assert_eq!(calls, [500, 200], "one failure, then the retry");
    assert_eq!(r.sandbox.tasks().len(), 1);
    r.shutdown();
}

#[test]
fn a_recording_is_attached_from_its_row_with_progress_cancel_and_retry() {
    let mut r = rig();
    register(&mut r);
    step_until(&mut r.h, "the row", |h| {
        h.query_by_label("Registered").is_some()
    });

    // A bad file is refused on the row, and nothing is sent.
    let text = r.dir.path().join("notes.txt");
    write_wav(&text, 10);
    r.answer_with(text);
    r.h.get_by_label("Attach recording…").click();
    r.h.run();
    step_until(&mut r.h, "the inline error", |h| {
        h.query_by_label_contains("the recording must be ac3, mp3, ogg, wav or wma")
            .is_some()
    });
    let uploads = r.sandbox.requests();
    assert!(
        uploads.iter().all(|q| q.route != Some(Route::Upload)),
        "{uploads:?}"
    );

    // A large recording on a slow uplink: progress shows, then the agent cancels mid-way.
    let wav = r.dir.path().join("call.wav");
    write_wav(&wav, 8_000_000);
    r.sandbox.inject(fault(
        Route::Upload,
        FaultKind::Throttle {
            bytes_per_sec: 1_048_576,
        },
        1,
    ));
    r.answer_with(wav);
    click_until(&mut r.h, "Attach recording…", "upload progress", |h| {
        h.query_by_label("Cancel upload").is_some()
    });
    r.h.get_by_label_contains("MiB /");
    click_until(&mut r.h, "Cancel upload", "the cancelled chip", |h| {
        h.query_by_label_contains("the upload was stopped")
            .is_some()
    });

    // Retry sends it; the chip turns to attached and the sandbox holds the recording.
    click_until(&mut r.h, "Retry", "the attached chip", |h| {
        h.query_by_label("Recording attached").is_some()
    });
    let recordings = recordings(&r.sandbox.tasks()[0]);
    assert_eq!(recordings.len(), 1);
    assert_eq!(recordings[0].1, "call.wav");
    r.shutdown();
}

#[test]
fn numbers_are_previewed_presets_fill_rows_and_the_form_offers_its_codes() {
    let mut r = rig();
    r.h.run();
    step_until(&mut r.h, "the form's fields", |h| {
        !h.state().state.fields.is_empty()
    });

    // The demo's default country is RU: a national number is previewed in E.164.
    type_into(&mut r.h, "From", "8 977 422-13-38");
    r.h.get_by_label("Sent as +79774221338");
    type_into(&mut r.h, "To", "12ab");
    r.h.get_by_label_contains("the number contains 'a'");
    type_into(&mut r.h, "Internal number", "200");

    // A preset fills its rows.
    r.h.get_by_label("Complaint").click();
    r.h.run();
    let rows: Vec<(String, String)> =
        r.h.state()
            .state
            .form
            .mappings
            .iter()
            .map(|m| (m.code.clone(), m.value.clone()))
            .collect();
    assert_eq!(
        rows,
        vec![
            ("Subject".to_owned(), "Complaint".to_owned()),
            ("Note".to_owned(), "Callback within a day".to_owned())
        ]
    );

    // The row's field list comes from the Pyrus form.
    r.h.get_by_label("Mapping 2 options").click();
    r.h.run();
    r.h.get_by_label("Order number (OrderNumber)").click();
    r.h.run();
    assert_eq!(r.h.state().state.form.mappings[1].code, "OrderNumber");
    r.h.get_by_label("Remove mapping 2").click();
    r.h.run();

    // Fix the number and register: what was previewed is what Pyrus gets.
    retype(&mut r.h, "To", 4, "(495) 300-90-80");
    r.h.get_by_label("Sent as +74953009080");
    click_until(&mut r.h, "Register", "the task id", |h| {
        h.query_by_label("Task 1").is_some()
    });
    let task = &r.sandbox.tasks()[0];
    assert_eq!(task.from_number, "+79774221338");
    assert_eq!(task.to_number, "+74953009080");
    assert_eq!(
        task.comments[0].mappings,
        vec![("Subject".to_owned(), "Complaint".to_owned())]
    );
}

#[test]
fn shortcuts_and_their_help() {
    let mut r = rig();
    r.h.run();
    // Presses `key`; whether the help shows then.
    let help_after = |h: &mut Harness<'static, PhoneApp>, key| {
        h.key_press(key);
        h.run();
        h.query_by_label("Ctrl+L — go to the From field").is_some()
    };
    assert!(help_after(&mut r.h, egui::Key::F1), "F1 opens the help");
    assert!(!help_after(&mut r.h, egui::Key::F1), "F1 closes it again");
    assert!(help_after(&mut r.h, egui::Key::F1), "F1 opens it again");
    assert!(
        !help_after(&mut r.h, egui::Key::Escape),
        "Esc closes it too"
    );
    r.h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Comma);
    r.h.run();
    r.h.get_by_label("Test connection");
    r.h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
    r.h.run();
    assert!(
        r.h.get_by_label("From").is_focused(),
        "Ctrl+L focuses the number field"
    );
}

#[test]
fn closing_with_work_waiting_asks_first() {
    let mut r = rig();
    r.sandbox
        .inject(fault(Route::Call, FaultKind::ServerError, 1000));
    type_call(&mut r.h, "+79774221338");
    click_until(&mut r.h, "Register", "the waiting job", |h| {
        h.state().state.status.open_jobs == 1
    });
    let close = |h: &mut Harness<'static, PhoneApp>| {
        h.input_mut()
            .viewports
            .entry(egui::ViewportId::ROOT)
            .or_default()
            .events
            .push(egui::ViewportEvent::Close);
        h.step();
        h.step();
    };
    let commands = |h: &Harness<'static, PhoneApp>| {
        h.output()
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .map(|v| v.commands.clone())
            .unwrap_or_default()
    };
    close(&mut r.h);
    r.h.get_by_label("Calls are still waiting to be sent");
    r.h.get_by_label_contains("1 job waiting. They are kept");
    r.h.get_by_label("Keep open").click();
    r.h.step();
    r.h.step();
    assert!(
        r.h.query_by_label("Calls are still waiting to be sent")
            .is_none()
    );
    assert!(!commands(&r.h).contains(&egui::ViewportCommand::Close));

    close(&mut r.h);
    r.h.get_by_label("Close anyway").click();
    r.h.step();
    r.h.step();
    assert!(
        commands(&r.h).contains(&egui::ViewportCommand::Close),
        "{:?}",
        commands(&r.h)
    );
}
