//! The window's commands: quick ones (store a call, retry, discard) run in order; anything
//! that may wait on the network, the keyring or the disk runs as an owned task.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError};

use tokio::sync::mpsc;

use super::doctor::{self};
use super::running::Shared;
use super::settings_ops::{load_form, test_connection};
use super::{Engine, check_recording};
use crate::bus::{Command, Event, Notice, NoticeKind};
use crate::outbox::now_ms;

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
        let engine = shared.current.get();
        // Only what changes the calls needs the list sent again.
        let changes_calls = matches!(
            command,
            Command::Register(_)
                | Command::CancelUpload(_)
                | Command::Retry(_)
                | Command::Resend { .. }
                | Command::Discard(_)
                | Command::Undiscard(_)
        );
        let outcome: Result<(), Notice> = match command {
            Command::Register(call) => match engine.outbox().add_call_claimed(call).await {
                Ok((external_id, claimed)) => {
                    let job = claimed.job;
                    shared
                        .typed
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(job, now_ms());
                    // The window follows the job from here: tell it before any outcome.
                    shared.ui.send(Event::CallQueued { job, external_id }).await;
                    shared.register_now(&engine, claimed);
                    Ok(())
                }
                Err(e) => Err(Notice::new(NoticeKind::CallNotStored, e)),
            },
            Command::AttachRecording { call_id, path } => {
                shared.spawn(attach_recording(Arc::clone(&shared), engine, call_id, path));
                Ok(())
            }
            Command::CancelUpload(job) => {
                if engine.cancel_upload(job) {
                    Ok(())
                } else {
                    Err(Notice::new(NoticeKind::NotUploading, job))
                }
            }
            Command::OpenUrl(url) => {
                let task = Arc::clone(&shared);
                shared.spawn(async move { task.open_link(&engine, url).await });
                Ok(())
            }
            Command::Retry(job) => match engine.outbox().retry(job).await {
                Ok(()) => {
                    shared.kick();
                    Ok(())
                }
                Err(e) => Err(refused(&e)),
            },
            Command::Resend { job, call } => match engine.outbox().resend(job, call).await {
                Ok(()) => {
                    shared
                        .typed
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(job, now_ms());
                    shared.kick();
                    shared.publish().await;
                    Ok(())
                }
                Err(e) => Err(refused(&e)),
            },
            Command::FindCalls(query) => {
                let task = Arc::clone(&shared);
                shared.spawn(async move {
                    match engine.outbox().find_calls(query.clone()).await {
                        Ok(mut calls) => {
                            for call in &mut calls {
                                if let Some(reg) = &call.registration {
                                    call.task_url = Some(engine.task_url(reg.task_id).await);
                                }
                            }
                            task.ui.send(Event::FoundCalls { query, calls }).await;
                        }
                        Err(e) => {
                            task.notice(Notice::new(NoticeKind::ListUnreadable, e))
                                .await
                        }
                    }
                });
                Ok(())
            }
            Command::CallBack(number) => {
                let dial = Arc::clone(&shared);
                shared.spawn(async move { dial.dial(&engine, number).await });
                Ok(())
            }
            Command::Undiscard(job) => engine
                .outbox()
                .undiscard(job)
                .await
                .map(|()| shared.kick())
                .map_err(|e| refused(&e)),
            Command::Discard(job) => engine.discard(job).await.map_err(|e| refused(&e)),
            Command::PrepareNumbers => {
                drop(tokio::task::spawn_blocking(
                    crate::domain::PhoneNumber::warm_up,
                ));
                Ok(())
            }
            Command::LoadForm => {
                let task = Arc::clone(&shared);
                shared.spawn(async move {
                    let fields = load_form(&engine).await;
                    task.ui.send(Event::FormFields(fields)).await;
                });
                Ok(())
            }
            Command::TestConnection { settings, key } => {
                let task = Arc::clone(&shared);
                shared.spawn(async move {
                    let result = test_connection(&task.setup, &settings, key).await;
                    task.ui.send(Event::ConnectionTested(result)).await;
                });
                Ok(())
            }
            Command::SimulateCall(number) => match shared.sources.clone() {
                Some(sources) => {
                    let task = Arc::clone(&shared);
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
                None => Err(Notice::new(NoticeKind::NoSources, "")),
            },
            Command::AnswerCall => match &shared.sources {
                Some(sources) => {
                    doctor::answer(sources).map_err(|e| Notice::new(NoticeKind::AnswerFailed, e))
                }
                None => Err(Notice::new(NoticeKind::NoSources, "")),
            },
            Command::NewHookToken => match shared.sources.clone() {
                Some(sources) => {
                    let task = Arc::clone(&shared);
                    shared.spawn(async move {
                        let secrets = Arc::clone(&task.setup.secrets);
                        let kept = Arc::clone(&sources);
                        let renewed = tokio::task::spawn_blocking(move || {
                            doctor::renew_token(&kept, secrets.as_ref())
                        })
                        .await
                        .unwrap_or_else(|e| Err(e.to_string()));
                        match (renewed, &sources.hook) {
                            (Ok(origin), Some(hook)) => {
                                if let Err(e) = hook.token_renewed(origin).await {
                                    task.notice(Notice::new(NoticeKind::TokenNotRenewed, e))
                                        .await;
                                }
                            }
                            (Ok(origin), None) => {
                                sources.monitor.update_hook(|h| h.token_origin = origin);
                            }
                            (Err(e), _) => {
                                task.notice(Notice::new(NoticeKind::TokenNotRenewed, e))
                                    .await;
                            }
                        }
                    });
                    Ok(())
                }
                None => Err(Notice::new(NoticeKind::NoSources, "")),
            },
            Command::CheckSources => {
                let task = Arc::clone(&shared);
                shared.spawn(async move { task.report_sources().await });
                Ok(())
            }
            Command::CheckHookPort => match shared.sources.as_ref().and_then(|s| s.hook.clone()) {
                Some(hook) => {
                    let task = Arc::clone(&shared);
                    shared.spawn(async move {
                        if let Err(e) = hook.check_again().await {
                            task.notice(Notice::new(NoticeKind::HookPortStays, e)).await;
                        }
                        task.report_sources().await;
                    });
                    Ok(())
                }
                None => Err(Notice::new(NoticeKind::HookOff, "")),
            },
            Command::SaveSettings { settings, key } => {
                let task = Arc::clone(&shared);
                shared.spawn(async move { task.save(settings, key).await });
                Ok(())
            }
        };
        if let Err(notice) = outcome {
            shared.notice(notice).await;
        }
        if changes_calls {
            shared.publish().await;
        }
    }
}

/// A change the outbox refused: the job moved on, or the outbox failed.
fn refused(e: &crate::outbox::StoreError) -> Notice {
    use crate::outbox::StoreError;
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
    call_id: i64,
    path: PathBuf,
) {
    let checked = tokio::task::spawn_blocking(move || check_recording(&path)).await;
    let outcome = match checked {
        Ok(Ok((path, _size))) => {
            match engine
                .outbox()
                .add_attachment_to_call(call_id, path, Vec::new())
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
                    call_id,
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
