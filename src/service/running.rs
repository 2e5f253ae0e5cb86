//! Starting and stopping the service behind the window and `--headless`: the handle the
//! window holds, and the loops started on tokio (so it keeps working while the window is
//! minimized). It only starts things: what they share is `shared`, what they do lives in
//! their own files.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::Engine;
use super::commands::command_loop;
use super::heard::{event_loop, intake_loop, sources_loop};
use super::pickup_lane::{PICKUPS_AT_ONCE, pickup_loop};
use super::sending::{REGISTER_AT_ONCE, send_loop};
use super::setup::Setup;
use super::shared::Shared;
use crate::bus::{Command, Event, Notice, NoticeKind, UiSender};
use crate::outbox::Lane;

/// The window's handle: sends commands without ever blocking, and stops the service.
#[derive(Clone)]
pub struct ServiceHandle {
    commands: mpsc::Sender<Command>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ServiceHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceHandle").finish_non_exhaustive()
    }
}

/// How long shutdown waits for the service's tasks before releasing their work anyway.
pub(super) const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

impl ServiceHandle {
    /// Stops every task of the service (an upload in flight is abandoned), waits for them
    /// up to [`SHUTDOWN_WAIT`], and hands this process's claimed jobs back to the outbox so
    /// the next run sends them at once.
    pub async fn shutdown(&self) {
        let shared = &self.shared;
        if !shared.stop_tasks(SHUTDOWN_WAIT).await {
            tracing::warn!("some work did not stop in time; its jobs are released anyway");
        }
        shared.forget_handled().await;
        match shared.current.get().outbox().release_mine().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "claimed work released for the next run"),
            Err(e) => tracing::error!(error = %e, "claimed work could not be released"),
        }
    }

    /// Queues a command; an error means the service is busy or gone (say so to the agent).
    pub fn send(&self, command: Command) -> Result<(), SendError> {
        self.commands.try_send(command).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SendError::Busy,
            mpsc::error::TrySendError::Closed(_) => SendError::Stopped,
        })
    }
}

/// Why a command was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Too many commands are waiting.
    #[error("pyrus-phone is busy; try again in a moment")]
    Busy,
    /// The service has stopped.
    #[error("the background service has stopped; restart pyrus-phone")]
    Stopped,
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
        mut setup: Setup,
    ) -> ServiceHandle {
        let (tx, rx) = mpsc::channel(64);
        let call_events = setup.call_events.take();
        let raise = setup.raise.take();
        let sources = setup.sources.take().map(Arc::new);
        let shared = Arc::new(Shared::new(
            engine,
            ui,
            setup,
            sources,
            (REGISTER_AT_ONCE, PICKUPS_AT_ONCE),
        ));
        let _entered = runtime.enter();
        if let Some(heard) = call_events {
            let (journaled, events) = mpsc::channel(256);
            shared.spawn(intake_loop(Arc::clone(&shared), heard, journaled));
            shared.spawn(event_loop(Arc::clone(&shared), events));
        }
        if shared.sources.is_some() {
            shared.spawn(sources_loop(Arc::clone(&shared)));
        }
        if let Some(mut raise) = raise {
            let ui = shared.ui.clone();
            let stop = shared.stop.clone();
            shared.spawn(async move {
                loop {
                    tokio::select! {
                        () = stop.cancelled() => return,
                        asked = raise.recv() => match asked {
                            Some(()) => { ui.send(Event::Raise).await; }
                            None => return,
                        },
                    }
                }
            });
        }
        shared.spawn(command_loop(Arc::clone(&shared), rx));
        for lane in Lane::NETWORK {
            // A registration in flight is seen through at shutdown; an upload is cut
            // (it may take minutes) and goes again from the start next time.
            let sender = send_loop(Arc::clone(&shared), lane);
            match lane {
                Lane::Register => shared.spawn_finishing(sender),
                _ => shared.spawn(sender),
            }
        }
        shared.spawn(pickup_loop(Arc::clone(&shared)));
        shared.spawn(super::index_lane::index_loop(Arc::clone(&shared)));
        shared.spawn(super::history_lane::history_loop(Arc::clone(&shared)));
        let start = Arc::clone(&shared);
        shared.spawn(async move {
            let engine = start.current.get();
            if let Err(e) = start.take_up(&engine, true).await {
                start.notice(Notice::new(NoticeKind::OutboxFailed, e)).await;
            }
            start.publish().await;
        });
        ServiceHandle {
            commands: tx,
            shared,
        }
    }
}
