//! The service behind the window: takes `Command`s, stores work in the outbox, sends it,
//! and reports `Event`s. Runs on tokio, so it keeps working while the window is minimized.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc};

use super::Engine;
use crate::bus::{Command, Event, UiSender};
use crate::domain::{AttachTarget, JobKind, JobState};
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

async fn command_loop(
    engine: Arc<Engine>,
    ui: UiSender,
    mut rx: mpsc::Receiver<Command>,
    kick: Arc<Notify>,
) {
    while let Some(command) = rx.recv().await {
        match command {
            Command::Register(call) => match engine.outbox().add_call(call).await {
                Ok((job, external_id)) => {
                    ui.send(Event::CallQueued { job, external_id }).await;
                    kick.notify_one();
                }
                Err(e) => {
                    ui.send(Event::Notice(format!("The call could not be stored: {e}")))
                        .await;
                }
            },
            Command::AttachToTask {
                path,
                task_id,
                external_id,
            } => {
                let target = AttachTarget::Task {
                    task_id,
                    external_id,
                };
                match engine
                    .outbox()
                    .add_attachment(path, target, Vec::new())
                    .await
                {
                    Ok(_) => kick.notify_one(),
                    Err(e) => {
                        ui.send(Event::Notice(format!(
                            "The recording could not be queued: {e}"
                        )))
                        .await;
                    }
                }
            }
            Command::OpenUrl(url) => {
                if let Err(e) = engine.browser().open(&url) {
                    ui.send(Event::Notice(e)).await;
                }
            }
            Command::Retry(job) => match engine.outbox().retry(job).await {
                Ok(()) => kick.notify_one(),
                Err(e) => {
                    ui.send(Event::Notice(e.to_string())).await;
                }
            },
        }
    }
}

/// Sends due work whenever kicked or when the next job falls due.
async fn send_loop(engine: Arc<Engine>, ui: UiSender, kick: Arc<Notify>) {
    if let Err(e) = engine.outbox().make_due(true).await {
        ui.send(Event::Notice(e.to_string())).await;
    }
    let progress_ui = ui.clone();
    let listener: Listener = Arc::new(move |event| {
        if let JobEvent::Progress { job, sent, total } = event {
            progress_ui.offer(Event::Progress { job, sent, total });
        }
    });
    loop {
        let wait = match engine.pump(&listener).await {
            Ok(reports) => {
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
