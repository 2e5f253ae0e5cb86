//! `login`, `call`, `attach` and `queue`: each validates its input first (exit 2, nothing
//! stored or sent), stores the work in the outbox, then sends its own job — within
//! `--wait`, whatever the network does — and kept jobs whose time has come.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::output::{self, ProgressLine};
use super::{AttachArgs, CallArgs, Context, Failure, LoginArgs, QueueAction, QueueArgs};
use crate::domain::{
    AttachTarget, CallRequest, Country, Direction, ExternalId, JobId, JobState, JobView, Mapping,
    PhoneNumber, Secret,
};
use crate::outbox::store::RATE_BUDGET;
use crate::outbox::{Claimed, Lane, Outbox, now_ms};
use crate::pyrus::{ClientConfig, Credentials, ErrorClass, PyrusClient};
use crate::service::{Engine, JobEvent, Listener, PumpError, check_recording};
use crate::settings::Settings;
use crate::settings::credentials::{KeyringStore, SecretStore};

/// The settings in force; a broken administrator's file is said on stderr and left out.
pub(super) fn load_settings(ctx: &Context) -> Result<Settings, Failure> {
    let (mut settings, admin) = Settings::load_layered(
        &ctx.paths.settings_file(),
        ctx.paths.admin_settings_file.as_deref(),
    )
    .map_err(|e| Failure::usage(e.to_string()))?;
    if let Some(broken) = admin.broken {
        eprintln!(
            "warning: the administrator's settings file cannot be used ({broken}); your own settings are used — tell your administrator"
        );
    }
    settings.apply(&ctx.env);
    Ok(settings)
}

/// Opens the engine and takes up what a dead process had claimed (pending jobs keep their
/// time).
pub(super) async fn open_engine(ctx: &Context, settings: Settings) -> Result<Arc<Engine>, Failure> {
    let outbox =
        Outbox::open(&ctx.paths.database_file()).map_err(|e| Failure::internal(e.to_string()))?;
    outbox
        .make_due(false)
        .await
        .map_err(|e| Failure::internal(e.to_string()))?;
    Ok(Arc::new(Engine::new(
        settings,
        outbox,
        Arc::new(KeyringStore::new(ctx.paths.keyring_service.clone())),
        ctx.key_override.clone(),
        Arc::clone(&ctx.browser),
    )))
}

pub(super) fn parse_mappings(raw: &[String]) -> Result<Vec<Mapping>, Failure> {
    raw.iter()
        .map(|m| Mapping::parse_assignment(m).map_err(|e| Failure::usage(e.to_string())))
        .collect()
}

fn kept_note(view: &JobView) -> String {
    let id = view
        .external_id
        .as_deref()
        .map(|e| format!(", external id {e}"))
        .unwrap_or_default();
    format!(
        "It is kept in the outbox as job {}{id} and will be sent by the next pyrus-phone run that reaches Pyrus; `pyrus-phone queue` shows it.",
        view.id
    )
}

/// Sends `job` (and the registration it waits for) until it is done, refused, or `wait`
/// runs out — whatever the network does: the whole run is cut at `wait`, an attempt still
/// in flight then is abandoned and its job handed back for the next run. Kept jobs of
/// other runs are sent after this one succeeds, at their own time, in what is left of `wait`.
pub(super) async fn drive(
    engine: &Arc<Engine>,
    job: JobId,
    wait: Duration,
    listener: &Listener,
) -> Result<JobView, Failure> {
    drive_first(engine, (job, None), wait, listener).await
}

/// As [`drive`], with the job already claimed when it was stored (it goes ahead of kept
/// work and of the rate budget's hold, as a call heard or typed in the window does).
async fn drive_first(
    engine: &Arc<Engine>,
    (job, claimed): (JobId, Option<Claimed>),
    wait: Duration,
    listener: &Listener,
) -> Result<JobView, Failure> {
    let deadline = Instant::now() + wait;
    let outcome = tokio::time::timeout(wait, drive_own(engine, job, claimed, listener)).await;
    let view = match outcome {
        Ok(Ok(view)) => view,
        Ok(Err(failure)) => return Err(failure),
        Err(_) => {
            let view = engine
                .outbox()
                .job(job)
                .await
                .map_err(|e| Failure::internal(e.to_string()))?;
            let why = view
                .error_message
                .clone()
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "no answer yet".to_owned());
            return Err(Failure::unreachable(format!(
                "Pyrus did not answer within {} s ({why}). {}",
                wait.as_secs(),
                kept_note(&view)
            )));
        }
    };
    // Pyrus answers: send kept work that is due, while time is left; stop at the first
    // attempt that fails (no hammering).
    let left = deadline.saturating_duration_since(Instant::now());
    let kept = async {
        for lane in Lane::NETWORK {
            while let Ok(Some(report)) = engine.pump_one(lane, listener).await {
                if report.state != JobState::Done {
                    return;
                }
            }
        }
    };
    if tokio::time::timeout(left, kept).await.is_err() {
        tracing::info!("kept work left for the next run: this one's time is up");
    }
    Ok(view)
}

/// Runs `job` — or first the registration it waits for — whenever it is due, until it ends.
async fn drive_own(
    engine: &Arc<Engine>,
    job: JobId,
    mut claimed: Option<Claimed>,
    listener: &Listener,
) -> Result<JobView, Failure> {
    // The job is stored by now: a failure from here on leaves it kept (exit 75), so a script
    // that retries on 75 does not store it twice.
    let internal = |e: &dyn std::fmt::Display| {
        Failure::unreachable(format!(
            "the outbox failed while this run was sending ({e}); what was stored is kept and sent by the next run"
        ))
    };
    loop {
        let next = engine
            .outbox()
            .waits_for(job)
            .await
            .map_err(|e| internal(&e))?
            .unwrap_or(job);
        let attempt = match claimed.take() {
            Some(claimed) => engine.run_claimed(claimed, listener).await.map(Some),
            None => engine.run_job(next, listener).await,
        };
        match attempt {
            Ok(_) => {}
            Err(PumpError::Credentials(e)) => {
                engine
                    .outbox()
                    .park_for_credentials(job, e.to_string())
                    .await
                    .map_err(|e| internal(&e))?;
                let view = engine.outbox().job(job).await.map_err(|e| internal(&e))?;
                return Err(Failure::credentials(format!("{e}. {}", kept_note(&view))));
            }
            Err(PumpError::Store(e)) => return Err(internal(&e)),
        }
        let view = engine.outbox().job(job).await.map_err(|e| internal(&e))?;
        let reason = view.error_message.clone().unwrap_or_default();
        match view.state {
            JobState::Done => return Ok(view),
            JobState::Failed => {
                return Err(Failure::refused(format!(
                    "{reason}. The job is kept as failed (job {id}): fix the cause, then `pyrus-phone queue retry {id}`, or `pyrus-phone queue discard {id}`.",
                    id = view.id
                )));
            }
            JobState::NeedsCredentials => {
                return Err(Failure::credentials(format!(
                    "{reason}. {}",
                    kept_note(&view)
                )));
            }
            JobState::Discarded => {
                return Err(Failure::internal(format!(
                    "job {} was discarded meanwhile",
                    view.id
                )));
            }
            JobState::Held => {
                return Err(Failure::usage(format!("{reason}. {}", kept_note(&view))));
            }
            JobState::Pending | JobState::Running => {
                let waited_on = engine.outbox().job(next).await.map_err(|e| internal(&e))?;
                // The registration this recording waits for cannot go now: say why, as for
                // the recording itself, rather than wait the whole run for nothing.
                if next != job {
                    let why = waited_on.error_message.clone().unwrap_or_default();
                    let about = format!(
                        "the call this recording belongs to (job {}) cannot be registered now: {why}. {}",
                        waited_on.id,
                        kept_note(&view)
                    );
                    match waited_on.state {
                        JobState::Held => return Err(Failure::usage(about)),
                        JobState::NeedsCredentials => return Err(Failure::credentials(about)),
                        JobState::Failed | JobState::Discarded => {
                            return Err(Failure::refused(about));
                        }
                        JobState::Pending | JobState::Running | JobState::Done => {}
                    }
                }
                // Wake when the job (or the registration it waits for) is due again.
                let due = waited_on
                    .next_attempt_ms
                    .map_or(Duration::from_millis(500), |at| {
                        Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0))
                    });
                tokio::time::sleep(due.clamp(Duration::from_millis(50), Duration::from_secs(5)))
                    .await;
            }
        }
    }
}

pub(super) fn quiet_listener() -> Listener {
    Arc::new(|_event: JobEvent| {})
}

/// `pyrus-phone call`.
pub(super) async fn call(args: CallArgs, ctx: &Context) -> Result<(), Failure> {
    let mappings = parse_mappings(&args.mappings)?;
    let settings = load_settings(ctx)?;
    let country = settings
        .defaults
        .country
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(Country::parse)
        .transpose()
        .map_err(|e| Failure::usage(format!("settings, defaults.country: {e}")))?;
    let mut request = CallRequest::parse_in(
        &args.from,
        &args.to,
        args.internal.as_deref(),
        args.external_id.as_deref(),
        mappings,
        country,
    )
    .map_err(|e| Failure::usage(e.to_string()))?;
    request.direction = match args.direction {
        Some(super::CallDirection::Incoming) => Direction::Incoming,
        Some(super::CallDirection::Outgoing) => Direction::Outgoing,
        None => Direction::Unknown,
    };
    let engine = open_engine(ctx, settings).await?;
    // Stored already claimed: this run's own call goes first.
    let (external_id, claimed) = engine
        .outbox()
        .add_call_claimed(request)
        .await
        .map_err(|e| Failure::internal(e.to_string()))?;
    drive_first(
        &engine,
        (claimed.job, Some(claimed)),
        Duration::from_secs(args.wait),
        &quiet_listener(),
    )
    .await?;
    let registration = engine
        .outbox()
        .registration_of(&external_id)
        .await
        .map_err(|e| Failure::internal(e.to_string()))?
        .ok_or_else(|| Failure::internal("the call is registered but its task is not recorded"))?;
    let task_url = engine.task_url(registration.task_id);
    if args.json {
        let out = json!({
            "task_id": registration.task_id,
            "is_new_task": registration.is_new_task,
            "responsible_person": registration.responsible,
            "task_url": task_url,
            "external_id": external_id.as_str(),
        });
        println!("{out}");
    } else {
        let kind = if registration.is_new_task {
            "new task"
        } else {
            "comment on an existing task"
        };
        println!("Registered: task {} ({kind})", registration.task_id);
        match &registration.responsible {
            Some(person) => println!("Responsible: {}", person.display_name()),
            None => println!("Responsible: nobody matched the internal number"),
        }
        println!("External id: {external_id}");
        println!("Task: {task_url}");
    }
    if args.open
        && let Err(e) = engine.browser().open(&task_url)
    {
        eprintln!("warning: {e}");
    }
    Ok(())
}

/// `pyrus-phone attach`.
pub(super) async fn attach(args: AttachArgs, ctx: &Context) -> Result<(), Failure> {
    let mappings = parse_mappings(&args.mappings)?;
    let usage = |e: &dyn std::fmt::Display| Failure::usage(e.to_string());
    let target = match (&args.task, &args.external_id, &args.from, &args.to) {
        (Some(task_id), external, _, _) => AttachTarget::Task {
            task_id: *task_id,
            external_id: external
                .as_deref()
                .map(ExternalId::parse)
                .transpose()
                .map_err(|e| usage(&e))?,
        },
        (None, Some(external), _, _) => {
            AttachTarget::ExternalId(ExternalId::parse(external).map_err(|e| usage(&e))?)
        }
        (None, None, Some(from), Some(to)) => AttachTarget::Numbers {
            from: PhoneNumber::parse(from).map_err(|e| Failure::usage(format!("from: {e}")))?,
            to: PhoneNumber::parse(to).map_err(|e| Failure::usage(format!("to: {e}")))?,
        },
        _ => {
            return Err(Failure::usage(
                "say where the recording goes: --task ID, --external-id ID, or --from N --to N",
            ));
        }
    };
    let checked = check_recording(&args.file).map_err(|e| Failure::usage(e.to_string()))?;
    let (path, size) = (checked.path, checked.size);
    let settings = load_settings(ctx)?;
    let engine = open_engine(ctx, settings).await?;
    let job = engine
        .outbox()
        .add_attachment(path.clone(), checked.identity, target.clone(), mappings)
        .await
        .map_err(|e| Failure::internal(e.to_string()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // The size that went up is the upload's own: the file may have grown since the check
    // (a recording still being written is sent again once it is stable).
    let uploaded = Arc::new(std::sync::atomic::AtomicU64::new(size));
    let seen = Arc::clone(&uploaded);
    let line = (std::io::stderr().is_terminal() && !args.json)
        .then(|| Arc::new(ProgressLine::new(name.clone(), job)));
    let listener: Listener = Arc::new(move |event| {
        if let JobEvent::Progress { total, .. } = &event {
            seen.store(*total, std::sync::atomic::Ordering::Relaxed);
        }
        if let Some(line) = &line {
            line.update(&event);
        }
    });
    let result = drive(&engine, job, Duration::from_secs(args.wait), &listener).await;
    if std::io::stderr().is_terminal() && !args.json {
        eprintln!();
    }
    let view = result?;
    let size = uploaded.load(std::sync::atomic::Ordering::Relaxed);
    if args.json {
        let out = json!({
            "job_id": view.id,
            "file": name,
            "size_bytes": size,
            "task_id": view.task_id,
            "external_id": view.external_id,
            "attached": true,
        });
        println!("{out}");
    } else {
        let place = view
            .task_id
            .map_or_else(|| target.to_string(), |task| format!("task {task}"));
        println!("Attached {name} ({}) to {place}", output::bytes(size));
    }
    Ok(())
}

/// `pyrus-phone queue`.
pub(super) async fn queue(args: QueueArgs, ctx: &Context) -> Result<(), Failure> {
    let internal = |e: &dyn std::fmt::Display| Failure::internal(e.to_string());
    match args.action {
        None => {
            let outbox = Outbox::open(&ctx.paths.database_file()).map_err(|e| internal(&e))?;
            let jobs = outbox.open_jobs().await.map_err(|e| internal(&e))?;
            let answered = outbox.requests_counted().await.map_err(|e| internal(&e))?;
            if args.json {
                let budget = json!({ "answered": answered, "budget": RATE_BUDGET });
                println!("{}", json!({ "jobs": jobs, "rate": budget }));
            } else {
                output::print_jobs(&jobs);
                println!(
                    "Requests Pyrus answered in these ten minutes: {answered} of this computer's {RATE_BUDGET}."
                );
            }
            Ok(())
        }
        Some(QueueAction::Discard { id }) => {
            let outbox = Outbox::open(&ctx.paths.database_file()).map_err(|e| internal(&e))?;
            outbox
                .discard(JobId(id))
                .await
                .map_err(|e| Failure::usage(e.to_string()))?;
            println!("Job {id} discarded; it will not be sent.");
            Ok(())
        }
        Some(QueueAction::Retry { id, wait }) => {
            let settings = load_settings(ctx)?;
            let engine = open_engine(ctx, settings).await?;
            engine
                .outbox()
                .retry(JobId(id))
                .await
                .map_err(|e| Failure::usage(e.to_string()))?;
            let view = drive(
                &engine,
                JobId(id),
                Duration::from_secs(wait),
                &quiet_listener(),
            )
            .await?;
            if args.json {
                println!("{}", json!({ "job": view }));
            } else {
                println!("Job {id} sent: {}", output::describe(&view));
            }
            Ok(())
        }
    }
}

fn prompt_line(label: &str, current: &str) -> Result<String, Failure> {
    let tty = std::io::stdin().is_terminal();
    if tty {
        if current.is_empty() {
            eprint!("{label}: ");
        } else {
            eprint!("{label} [{current}]: ");
        }
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::usage(format!("cannot read {label}: {e}")))?;
    let line = line.trim();
    Ok(if line.is_empty() {
        current.to_owned()
    } else {
        line.to_owned()
    })
}

/// `pyrus-phone login`.
pub(super) async fn login(args: LoginArgs, ctx: &Context) -> Result<(), Failure> {
    let mut settings = load_settings(ctx)?;
    let login = match args.login {
        Some(l) => l,
        None => prompt_line("Pyrus login", &settings.pyrus.login)?,
    };
    let account_id = match args.account_id {
        Some(a) => a,
        None => prompt_line("Account id", &settings.pyrus.account_id)?,
    };
    let login = login.trim().to_owned();
    let account_id = account_id.trim().to_owned();
    if login.is_empty() {
        return Err(Failure::usage(
            "the login is empty: give the bot's login (--login or at the prompt)",
        ));
    }
    if account_id.is_empty() {
        return Err(Failure::usage(
            "the account id is empty: copy it from the API telephony extension in Pyrus (--account-id or at the prompt)",
        ));
    }
    let key = read_key()?;
    if let Some(url) = args.auth_url {
        settings.pyrus.auth_url = url;
    }
    if args.person_id.is_some() {
        settings.pyrus.person_id = args.person_id;
    }
    settings.pyrus.login.clone_from(&login);
    settings.pyrus.account_id = account_id;

    let client = PyrusClient::new(
        ClientConfig::new(settings.pyrus.auth_url.trim()),
        Credentials {
            login: login.clone(),
            security_key: key.clone(),
            person_id: settings.pyrus.person_id,
        },
    )
    .map_err(|e| Failure::usage(e.to_string()))?;
    if let Err(e) = client.login().await {
        return Err(match e.class() {
            ErrorClass::NeedsCredentials => {
                Failure::credentials(format!("{e}. Nothing was stored."))
            }
            ErrorClass::Retryable => Failure::unreachable(format!(
                "{e}. Nothing was stored; try again when Pyrus is reachable."
            )),
            ErrorClass::Permanent => Failure::refused(format!("{e}. Nothing was stored.")),
        });
    }
    let store = KeyringStore::new(ctx.paths.keyring_service.clone());
    store
        .set(&login, &key)
        .map_err(|e| Failure::credentials(e.to_string()))?;
    settings
        .save_over_admin(
            &ctx.paths.settings_file(),
            ctx.paths.admin_settings_file.as_deref(),
        )
        .map_err(|e| Failure::internal(e.to_string()))?;
    println!(
        "Signed in as {login}. The security key is stored in the {}.",
        store.name()
    );

    send_kept_work(ctx, settings).await
}

/// The security key: hidden at a terminal, else one line of standard input.
fn read_key() -> Result<Secret, Failure> {
    let key = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Security key (hidden): ")
            .map_err(|e| Failure::usage(format!("cannot read the security key: {e}")))?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::usage(format!("cannot read the security key from stdin: {e}")))?;
        line
    };
    let key = Secret::new(key.trim());
    if key.is_blank() {
        return Err(Failure::usage(
            "the security key is empty: paste it from your Pyrus profile (Get new security key)",
        ));
    }
    Ok(key)
}

/// After a login: work kept while credentials were missing or wrong goes out now.
async fn send_kept_work(ctx: &Context, settings: Settings) -> Result<(), Failure> {
    let engine = open_engine(ctx, settings).await?;
    engine
        .outbox()
        .make_due(true)
        .await
        .map_err(|e| Failure::internal(e.to_string()))?;
    match engine.pump(&Lane::NETWORK, &quiet_listener()).await {
        Ok(reports) if !reports.is_empty() => {
            let sent = reports.iter().filter(|r| r.state == JobState::Done).count();
            println!(
                "Kept work: {sent} of {} job(s) sent; `pyrus-phone queue` shows the rest.",
                reports.len()
            );
        }
        Ok(_) => {}
        Err(e) => eprintln!("warning: kept work was not sent: {e}"),
    }
    Ok(())
}

/// `pyrus-phone event`: hands the event to the running instance, or starts one with it.
pub(super) fn event(args: &super::EventArgs, ctx: &Context) -> Result<(), Failure> {
    let event = crate::domain::CallEvent::parse(
        args.kind.as_deref().unwrap_or_default(),
        args.number.as_deref().unwrap_or_default(),
        args.call_id.as_deref(),
        args.internal.as_deref(),
        args.line.as_deref(),
        "command",
    )
    .map_err(|e| Failure::usage(e.to_string()))?;
    hand_over(&event, ctx)
}

/// Hands `event` to the running instance, or starts one with it when none runs.
pub(super) fn hand_over(event: &crate::domain::CallEvent, ctx: &Context) -> Result<(), Failure> {
    use crate::platform::instance_lock::InstanceLock;
    use crate::sources::forward::{self, ForwardError};
    use crate::sources::runtime_file::{self, HAND_OVER_WAIT, Instance};
    // One id for this event, however it goes: sent, or kept here after no answer.
    let delivery = forward::new_delivery_id();
    let try_send = |published: Option<Instance>| match published {
        Some(instance) => match forward::send(&instance, event, &delivery) {
            Ok(()) => {
                // A link the agent clicked: show the window with its call.
                if event.source == crate::domain::EventSource::Uri
                    && let Err(e) = forward::show(&instance)
                {
                    tracing::warn!(error = %e, "the window was not asked to come to the front");
                }
                Ok(Some(()))
            }
            Err(ForwardError::NotRunning(_)) => Ok(None),
            // It may or may not have stored it (no answer), or it could not (503: its
            // outbox cannot be opened, it is stopping): kept here under the same delivery
            // id, where the instance finds it once it can — stored once either way.
            Err(e @ (ForwardError::NoAnswer(_) | ForwardError::Refused { status: 503, .. })) => {
                Err(kept_after(&e, event, ctx, &delivery))
            }
            Err(e) => Err(Failure::usage(e.to_string())),
        },
        None => Ok(None),
    };
    let dir = &ctx.paths.runtime_dir;
    if try_send(runtime_file::read(dir))?.is_some() {
        return Ok(());
    }
    // An instance holds the lock but is not listening yet (starting): wait for it rather
    // than start a second one.
    if InstanceLock::is_held_elsewhere(dir) {
        if runtime_file::wait_for(dir, HAND_OVER_WAIT, try_send)?.is_some() {
            return Ok(());
        }
        keep_for_next_start(event, ctx, &delivery)?;
        return Err(Failure::unreachable(format!(
            "a pyrus-phone is running here but did not take the event within {} s (is its event hook off?); see its log in {}. The event is kept and handled when pyrus-phone next starts.",
            HAND_OVER_WAIT.as_secs(),
            ctx.paths.log_dir.display()
        )));
    }
    // Nobody is listening: start pyrus-phone, wait until it listens, and hand the event
    // over like any other — acknowledged once stored. If it does not come up, the event is
    // kept in the outbox's journal, where the next start finds it, and the softphone is
    // told it was not delivered.
    let mut child = start_detached()?;
    // Handed over once it listens; or why not, when it stopped as it started.
    let outcome = runtime_file::wait_for(dir, START_WAIT, |published| {
        if try_send(published)?.is_some() {
            return Ok(Some(None));
        }
        Ok(match child.try_wait() {
            Ok(Some(status)) => Some(Some(format!(
                "pyrus-phone stopped as it started ({status})"
            ))),
            _ => None,
        })
    })?;
    let why = match outcome {
        Some(None) => return Ok(()),
        Some(Some(why)) => why,
        None => format!(
            "pyrus-phone did not start listening for events within {} s (is the event hook off in its settings?)",
            START_WAIT.as_secs()
        ),
    };
    keep_for_next_start(event, ctx, &delivery)?;
    Err(Failure::unreachable(format!(
        "{why}; see its log in {}. The event is kept and handled when pyrus-phone next starts.",
        ctx.paths.log_dir.display()
    )))
}

/// Starts pyrus-phone (the window, or headless without a desktop), not as a child of the
/// softphone's hook: it keeps running after the hook's process ends.
pub(super) fn start_detached() -> Result<std::process::Child, Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| Failure::internal(format!("cannot find pyrus-phone itself: {e}")))?;
    let mut command = std::process::Command::new(exe);
    if !crate::platform::desktop::has_graphical_session() {
        command.arg("--headless");
    }
    crate::platform::desktop::detach(&mut command);
    // It outlives this run: whatever this run was handed (a softphone's pipe, sockets, lock
    // file) must not stay open in it.
    crate::platform::console::keep_inherited_descriptors_from_children();
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    command
        .spawn()
        .map_err(|e| Failure::internal(format!("cannot start pyrus-phone: {e}")))
}

/// An event the running instance did not confirm (`e`), kept in the journal here: the
/// failure says so, or why it could not be kept either.
fn kept_after(
    e: &crate::sources::forward::ForwardError,
    event: &crate::domain::CallEvent,
    ctx: &Context,
    delivery: &str,
) -> Failure {
    Failure::unreachable(match keep_for_next_start(event, ctx, delivery) {
        Ok(()) => {
            format!("{e}. The event is kept and handled once as soon as pyrus-phone can take it.")
        }
        Err(kept) => format!("{e}. {}", kept.message),
    })
}

/// How long a command hook waits for the pyrus-phone it started to listen.
const START_WAIT: Duration = Duration::from_secs(15);

/// Keeps an event no instance could take in the outbox's journal (the next start handles
/// it first).
pub(super) fn keep_for_next_start(
    event: &crate::domain::CallEvent,
    ctx: &Context,
    delivery: &str,
) -> Result<(), Failure> {
    let cannot = |e: &dyn std::fmt::Display| {
        Failure::internal(format!(
            "the event could not be delivered, nor kept for later ({e}); check {}",
            ctx.paths.data_dir.display()
        ))
    };
    let mut store =
        crate::outbox::store::Store::open(&ctx.paths.database_file()).map_err(|e| cannot(&e))?;
    let json = serde_json::to_string(&crate::domain::CallEventWire::kept(event))
        .map_err(|e| cannot(&e))?;
    let external_id = crate::outbox::generate_external_id().as_str().to_owned();
    store
        .journal(
            &[(json, external_id, Some(delivery.to_owned()))],
            &[],
            None,
            now_ms(),
        )
        .map_err(|e| cannot(&e))?;
    tracing::info!("an event no instance took is kept for the next start");
    Ok(())
}
