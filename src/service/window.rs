//! The service behind the window: takes `Command`s, stores work in the outbox, sends it,
//! and reports `Event`s — including the call list, rebuilt from the outbox after every
//! change. Runs on tokio, so it keeps working while the window is minimized.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Local, TimeZone as _};
use tokio::sync::{Notify, mpsc};

use super::{Engine, check_recording};
use crate::bus::{Command, Event, UiSender};
use crate::domain::{JobKind, JobState};
use crate::outbox::{JobEvent, Listener, now_ms};

/// The window's handle: sends commands without ever blocking.
#[derive(Debug, Clone)]
pub struct ServiceHandle {
    commands: mpsc::Sender<Command>,
}

impl ServiceHandle {
    /// Queues a command; an error means the service is busy or gone (say so to the agent).
    pub fn send(&self, command: Command) -> Result<(), String> {
        self.commands.try_send(command).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => {
                "pyrus-phone is busy; try again in a moment".to_owned()
            }
            mpsc::error::TrySendError::Closed(_) => {
                "the background service has stopped; restart pyrus-phone".to_owned()
            }
        })
    }
}

/// The running service.
#[derive(Debug)]
pub struct Service;

impl Service {
    /// Starts the command loop and the sender on `runtime`; kept work is made due first.
    pub fn spawn(
        runtime: &tokio::runtime::Handle,
        engine: Arc<Engine>,
        ui: UiSender,
    ) -> ServiceHandle {
        let (tx, rx) = mpsc::channel(64);
        let kick = Arc::new(Notify::new());
        runtime.spawn(command_loop(
            Arc::clone(&engine),
            ui.clone(),
            rx,
            Arc::clone(&kick),
        ));
        runtime.spawn(send_loop(engine, ui, kick));
        ServiceHandle { commands: tx }
    }
}

/// Midnight today, local time, in Unix ms.
fn start_of_day_ms() -> i64 {
    let today = Local::now().date_naive();
    today
        .and_hms_opt(0, 0, 0)
        .and_then(|midnight| Local.from_local_datetime(&midnight).earliest())
        .map_or(0, |t| t.timestamp_millis())
}

/// Sends the window the calls of the day as they stand in the outbox.
async fn publish_calls(engine: &Engine, ui: &UiSender) {
    match engine.outbox().call_records(start_of_day_ms()).await {
        Ok(mut calls) => {
            for call in &mut calls {
                if let Some(reg) = &call.registration {
                    call.task_url = Some(engine.task_url(reg.task_id).await);
                }
            }
            ui.send(Event::Calls(calls)).await;
        }
        Err(e) => {
            ui.send(Event::Notice(format!("The call list cannot be read: {e}")))
                .await;
        }
    }
}

async fn command_loop(
    engine: Arc<Engine>,
    ui: UiSender,
    mut rx: mpsc::Receiver<Command>,
    kick: Arc<Notify>,
) {
    while let Some(command) = rx.recv().await {
        let outcome: Result<(), String> = match command {
            Command::Register(call) => match engine.outbox().add_call(call).await {
                Ok((job, external_id)) => {
                    ui.send(Event::CallQueued { job, external_id }).await;
                    kick.notify_one();
                    Ok(())
                }
                Err(e) => Err(format!("The call could not be stored: {e}")),
            },
            Command::AttachRecording { call_id, path } => {
                let checked = tokio::task::spawn_blocking(move || check_recording(&path)).await;
                match checked {
                    Ok(Ok((path, _size))) => {
                        match engine
                            .outbox()
                            .add_attachment_to_call(call_id, path, Vec::new())
                            .await
                        {
                            Ok(_) => {
                                kick.notify_one();
                                Ok(())
                            }
                            Err(e) => Err(format!("The recording could not be queued: {e}")),
                        }
                    }
                    Ok(Err(e)) => {
                        ui.send(Event::AttachRejected {
                            call_id,
                            message: e.to_string(),
                        })
                        .await;
                        Ok(())
                    }
                    Err(e) => Err(format!("The recording could not be checked: {e}")),
                }
            }
            Command::CancelUpload(job) => {
                if engine.outbox().cancel(job) {
                    Ok(())
                } else {
                    Err(format!("Job {job} is not uploading any more."))
                }
            }
            Command::OpenUrl(url) => engine.browser().open(&url),
            Command::Retry(job) => match engine.outbox().retry(job).await {
                Ok(()) => {
                    kick.notify_one();
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            },
            Command::Discard(job) => engine
                .outbox()
                .discard(job)
                .await
                .map_err(|e| e.to_string()),
        };
        if let Err(message) = outcome {
            ui.send(Event::Notice(message)).await;
        }
        publish_calls(&engine, &ui).await;
    }
}

/// Sends due work whenever kicked or when the next job falls due.
async fn send_loop(engine: Arc<Engine>, ui: UiSender, kick: Arc<Notify>) {
    if let Err(e) = engine.outbox().make_due(true).await {
        ui.send(Event::Notice(e.to_string())).await;
    }
    publish_calls(&engine, &ui).await;
    let progress_ui = ui.clone();
    let listener: Listener = Arc::new(move |event| {
        if let JobEvent::Progress { job, sent, total } = event {
            progress_ui.offer(Event::Progress { job, sent, total });
        }
    });
    loop {
        let wait = match engine.pump(&listener).await {
            Ok(reports) => {
                let changed = !reports.is_empty();
                for report in reports {
                    let event = match (report.state, report.kind, report.registration) {
                        (JobState::Done, JobKind::Register, Some(registration)) => {
                            Event::Registered {
                                job: report.job,
                                task_url: engine.task_url(registration.task_id).await,
                                registration,
                            }
                        }
                        (JobState::Done, _, _) => Event::Attached { job: report.job },
                        (state, _, _) => {
                            let (code, message) = report.error.unwrap_or_default();
                            Event::JobFailed {
                                job: report.job,
                                state,
                                code,
                                message,
                                retry_at_ms: report.retry_at_ms,
                            }
                        }
                    };
                    ui.send(event).await;
                }
                if changed {
                    publish_calls(&engine, &ui).await;
                }
                match engine.outbox().next_due_ms().await {
                    Ok(Some(at)) => {
                        Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0))
                    }
                    Ok(None) => Duration::from_secs(3600),
                    Err(e) => {
                        ui.send(Event::Notice(e.to_string())).await;
                        Duration::from_secs(30)
                    }
                }
            }
            Err(e) => {
                ui.send(Event::Notice(e.to_string())).await;
                Duration::from_secs(3600)
            }
        };
        tokio::select! {
            () = kick.notified() => {}
            () = tokio::time::sleep(wait.max(Duration::from_millis(20))) => {}
        }
    }
}
