//! The window's commands: quick ones (store a call, retry, discard) run in order; anything
//! that may wait on the network, the keyring or the disk runs as an owned task. One
//! function per command; the loop only takes them in turn and dispatches.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::doctor::{self, Sources};
use super::settings_ops::{load_form, test_connection};
use super::shared::Shared;
use super::{Engine, check_recording};
use crate::bus::{Command, Event, Notice, NoticeKind, WrapUp};
use crate::domain::{CallQuery, CallRequest, CallRowId, JobId, PhoneNumber, Secret};
use crate::outbox::{Lane, StoreError, now_ms};
use crate::settings::Settings;

/// What a command came to: nothing to say, or a notice for the window.
type Outcome = Result<(), Notice>;

/// Takes the window's commands in order. Quick ones (storing a call, retry, discard) run
/// here; anything that may wait on the network, the keyring or the disk runs as its own
/// task and reports back, so a hanging "Test connection" never holds up Register.
pub(super) async fn command_loop(shared: Arc<Shared>, mut rx: mpsc::Receiver<Command>) {
    shared
        .ui
        .send(Event::Settings(Box::new(shared.setup.editable.clone())))
        .await;
    shared.announce_engine().await;
    shared.announce_key_place().await;
    shared.announce_admin().await;
    loop {
        let command = tokio::select! {
            () = shared.stop.cancelled() => return,
            command = rx.recv() => match command {
                Some(command) => command,
                None => return,
            },
        };
        // Only what changes the calls needs the list sent again.
        let changes_calls = changes_calls(&command);
        if let Err(notice) = dispatch(&shared, command).await {
            shared.notice(notice).await;
        }
        if changes_calls {
            shared.publish().await;
        }
    }
}

/// The commands after which the call list is sent again.
fn changes_calls(command: &Command) -> bool {
    matches!(
        command,
        Command::Register(_)
            | Command::CancelUpload(_)
            | Command::Retry(_)
            | Command::Resend { .. }
            | Command::Discard(_)
            | Command::Undiscard(_)
    )
}

/// Runs one command with the engine in use.
async fn dispatch(shared: &Arc<Shared>, command: Command) -> Outcome {
    let engine = shared.current.get();
    match command {
        Command::Register(call) => register(shared, &engine, call).await,
        Command::AttachRecording { row, path } => {
            shared.spawn(attach_recording(Arc::clone(shared), engine, row, path));
            Ok(())
        }
        Command::CancelUpload(job) => cancel_upload(&engine, job),
        Command::OpenUrl(url) => {
            let task = Arc::clone(shared);
            task.open_link(&engine, url);
            Ok(())
        }
        Command::OpenTask(task_id) => {
            let url = engine.task_url(task_id);
            Arc::clone(shared).open_link(&engine, url);
            Ok(())
        }
        Command::WrapUp(wrap_up) => save_wrap_up(shared, &engine, wrap_up).await,
        Command::LookUpCaller(asked) => {
            shared.spawn(look_up_caller(Arc::clone(shared), engine, asked));
            Ok(())
        }
        Command::Retry(job) => retry(shared, &engine, job).await,
        Command::Resend { job, call } => resend(shared, &engine, job, call).await,
        Command::FindCalls(query) => {
            shared.spawn(find_calls(Arc::clone(shared), engine, query));
            Ok(())
        }
        Command::UseKey(key) => {
            let task = Arc::clone(shared);
            shared.spawn(async move { task.use_key(key).await });
            Ok(())
        }
        Command::CallBack(number) => {
            shared.spawn(call_back(Arc::clone(shared), engine, number));
            Ok(())
        }
        Command::Undiscard(job) => undiscard(shared, &engine, job).await,
        Command::Discard(job) => engine.discard(job).await.map_err(|e| refused(&e)),
        Command::PrepareNumbers => {
            drop(tokio::task::spawn_blocking(PhoneNumber::warm_up));
            Ok(())
        }
        Command::LoadForm => {
            shared.spawn(send_form(Arc::clone(shared), engine));
            Ok(())
        }
        Command::TestConnection { settings, key } => {
            shared.spawn(test(Arc::clone(shared), settings, key));
            Ok(())
        }
        Command::SimulateCall(number) => simulate(shared, number),
        Command::SetUpTwinkle => {
            let task = Arc::clone(shared);
            let settings = engine.settings().clone();
            shared.spawn(async move { set_up_twinkle(&task, settings).await });
            Ok(())
        }
        Command::AnswerCall => answer(shared),
        Command::NewHookToken => new_hook_token(shared),
        Command::CheckSources => {
            let task = Arc::clone(shared);
            shared.spawn(async move { task.report_sources().await });
            Ok(())
        }
        Command::CheckHookPort => check_hook_port(shared),
        Command::SaveSettings { settings, key } => {
            let task = Arc::clone(shared);
            shared.spawn(async move { task.save(settings, key).await });
            Ok(())
        }
    }
}

/// Stores a typed call already claimed, tells the window, and sends it at once.
async fn register(shared: &Arc<Shared>, engine: &Arc<Engine>, call: CallRequest) -> Outcome {
    let (external_id, claimed) = engine
        .outbox()
        .add_call_claimed(call)
        .await
        .map_err(|e| Notice::new(NoticeKind::CallNotStored, e))?;
    let job = claimed.job;
    shared.pops().typed(job, now_ms());
    // The window follows the job from here: tell it before any outcome.
    shared.ui.send(Event::CallQueued { job, external_id }).await;
    shared.register_now(engine, claimed);
    Ok(())
}

fn cancel_upload(engine: &Engine, job: JobId) -> Outcome {
    if engine.cancel_upload(job) {
        Ok(())
    } else {
        Err(Notice::new(NoticeKind::NotUploading, job))
    }
}

async fn retry(shared: &Shared, engine: &Engine, job: JobId) -> Outcome {
    engine.outbox().retry(job).await.map_err(|e| refused(&e))?;
    shared.kick();
    Ok(())
}

/// Sends a refused call again as corrected in the form; its task opens like a typed one's.
async fn resend(shared: &Shared, engine: &Engine, job: JobId, call: CallRequest) -> Outcome {
    engine
        .outbox()
        .resend(job, call)
        .await
        .map_err(|e| refused(&e))?;
    shared.pops().typed(job, now_ms());
    shared.kick();
    shared.publish().await;
    Ok(())
}

async fn undiscard(shared: &Shared, engine: &Engine, job: JobId) -> Outcome {
    engine
        .outbox()
        .undiscard(job)
        .await
        .map_err(|e| refused(&e))?;
    shared.kick();
    Ok(())
}

/// Answers a search over kept calls, with their task links.
async fn find_calls(shared: Arc<Shared>, engine: Arc<Engine>, query: CallQuery) {
    match engine.outbox().find_calls(query.clone()).await {
        Ok(mut calls) => {
            for call in &mut calls {
                if let Some(reg) = &call.registration {
                    call.task_url = Some(engine.task_url(reg.task_id));
                }
            }
            shared.ui.send(Event::FoundCalls { query, calls }).await;
        }
        Err(e) => {
            shared
                .notice(Notice::new(NoticeKind::ListUnreadable, e))
                .await;
        }
    }
}

async fn call_back(shared: Arc<Shared>, engine: Arc<Engine>, number: PhoneNumber) {
    shared.dial(&engine, number).await;
}

async fn send_form(shared: Arc<Shared>, engine: Arc<Engine>) {
    let fields = load_form(&engine).await;
    shared.ui.send(Event::FormFields(fields)).await;
}

async fn test(shared: Arc<Shared>, settings: Box<Settings>, key: Option<Secret>) {
    let engine = shared.current.get();
    let result = test_connection(&shared.setup, engine.outbox(), &settings, key).await;
    shared.ui.send(Event::ConnectionTested(result)).await;
}

/// The call sources, or the notice that this instance has none.
fn sources(shared: &Shared) -> Result<Arc<Sources>, Notice> {
    shared
        .sources
        .clone()
        .ok_or_else(|| Notice::new(NoticeKind::NoSources, ""))
}

/// Feeds a simulated ring, answer and end through the sources' own channel.
fn simulate(shared: &Arc<Shared>, number: String) -> Outcome {
    let sources = sources(shared)?;
    let task = Arc::clone(shared);
    shared.spawn(async move {
        match doctor::simulate(&sources, &number).await {
            Ok(call_id) => {
                task.ui.send(Event::Simulated(call_id)).await;
            }
            Err(e) => {
                task.notice(Notice::new(NoticeKind::SimulateFailed, e))
                    .await;
            }
        }
    });
    Ok(())
}

/// Sets Twinkle up (its files, on a blocking thread) and says so; the doctor is read again.
async fn set_up_twinkle(shared: &Arc<Shared>, settings: Settings) {
    let done = tokio::task::spawn_blocking(move || {
        let program = std::env::current_exe().map_err(|e| e.to_string())?;
        doctor::set_up_twinkle(&settings, &program)
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|done| done);
    let notice = match done {
        Ok(profiles) => {
            tracing::info!(%profiles, "Twinkle set up");
            Notice::new(NoticeKind::TwinkleSetUp, profiles)
        }
        Err(e) => {
            tracing::warn!(error = %e, "Twinkle could not be set up");
            Notice::new(NoticeKind::TwinkleNotSetUp, e)
        }
    };
    shared.notice(notice).await;
    shared.report_sources().await;
}

fn answer(shared: &Shared) -> Outcome {
    doctor::answer(sources(shared)?.as_ref()).map_err(|e| Notice::new(NoticeKind::AnswerFailed, e))
}

/// Replaces the hook's token in the keyring, the running hook and the runtime file.
fn new_hook_token(shared: &Arc<Shared>) -> Outcome {
    let sources = sources(shared)?;
    let task = Arc::clone(shared);
    shared.spawn(async move {
        let secrets = Arc::clone(&task.setup.secrets);
        let kept = Arc::clone(&sources);
        let renewed =
            tokio::task::spawn_blocking(move || doctor::renew_token(&kept, secrets.as_ref()))
                .await
                .map_err(|e| e.to_string())
                .and_then(|renewed| renewed.map_err(|e| e.to_string()));
        let failed = match (renewed, &sources.hook) {
            (Ok(origin), Some(hook)) => hook
                .token_renewed(origin)
                .await
                .err()
                .map(|e| e.to_string()),
            (Ok(origin), None) => {
                sources.monitor.update_hook(|h| h.token_origin = origin);
                None
            }
            (Err(e), _) => Some(e),
        };
        if let Some(e) = failed {
            task.notice(Notice::new(NoticeKind::TokenNotRenewed, e))
                .await;
        }
    });
    Ok(())
}

/// Tries the configured hook port again (another program may have let it go).
fn check_hook_port(shared: &Arc<Shared>) -> Outcome {
    let hook = shared
        .sources
        .as_ref()
        .and_then(|s| s.hook.clone())
        .ok_or_else(|| Notice::new(NoticeKind::HookOff, ""))?;
    let task = Arc::clone(shared);
    shared.spawn(async move {
        if let Err(e) = hook.check_again().await {
            task.notice(Notice::new(NoticeKind::HookPortStays, e)).await;
        }
        task.report_sources().await;
    });
    Ok(())
}

/// A change the outbox refused: the job moved on, or the outbox failed.
fn refused(e: &StoreError) -> Notice {
    let kind = match e {
        StoreError::NoSuchJob(_) | StoreError::WrongState { .. } => NoticeKind::JobRefused,
        _ => NoticeKind::OutboxFailed,
    };
    Notice::new(kind, e)
}

/// Checks a recording the agent chose and queues it for the call.
pub(super) async fn attach_recording(
    shared: Arc<Shared>,
    engine: Arc<Engine>,
    row: CallRowId,
    path: PathBuf,
) {
    let checked = tokio::task::spawn_blocking(move || check_recording(&path)).await;
    let outcome = match checked {
        Ok(Ok(checked)) => {
            match engine
                .outbox()
                .add_attachment_to_call(row, checked.path, checked.identity, Vec::new())
                .await
            {
                Ok(_) => {
                    shared.kick();
                    Ok(())
                }
                Err(e) => Err(Notice::new(NoticeKind::RecordingNotQueued, e)),
            }
        }
        Ok(Err(e)) => {
            shared
                .ui
                .send(Event::AttachRejected {
                    row,
                    code: e.code(),
                    message: e.to_string(),
                })
                .await;
            Ok(())
        }
        Err(e) => Err(Notice::new(NoticeKind::RecordingNotQueued, e)),
    };
    if let Err(notice) = outcome {
        shared.notice(notice).await;
    }
    shared.publish().await;
}

/// Who is calling from `asked`: a local query, answered to the window.
async fn look_up_caller(shared: Arc<Shared>, engine: Arc<Engine>, asked: String) {
    match super::caller_index::card(&engine, &asked).await {
        Ok(card) => {
            shared
                .ui
                .send(Event::CallerCard {
                    asked,
                    card: Box::new(card),
                })
                .await;
        }
        Err(e) => tracing::warn!(error = %e, "the caller could not be looked up"),
    }
}

/// Stores a wrap-up (or its correction) and wakes the comment lane; the call's row follows.
async fn save_wrap_up(shared: &Arc<Shared>, engine: &Arc<Engine>, w: WrapUp) -> Outcome {
    let outbox = engine.outbox();
    let stored = match w.correcting {
        Some(job) => outbox
            .correct_comment(job, w.task_id, w.text, w.updates)
            .await
            .map(|()| job),
        None => {
            outbox
                .add_comment(w.task_id, w.text, w.updates, w.row)
                .await
        }
    };
    let job = stored.map_err(|e| refused(&e))?;
    shared.kick_of(Lane::Comment).notify_one();
    shared.publish_job(job).await;
    Ok(())
}
