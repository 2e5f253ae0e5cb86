//! Where call events come from: the loopback HTTP hook (softphone URL hooks, desk phones,
//! and the `pyrus-phone event` command of a second process). Every source turns what it
//! hears into `domain::CallEvent`s on one bounded channel.

pub mod baresip;
pub mod forward;
pub mod guarded;
pub mod hook_port;
pub mod http_hook;
pub mod monitor;
pub mod runtime_file;
mod token;

use tokio::sync::oneshot;

use crate::domain::CallEvent;

/// Why a heard event could not be stored: what is wrong, what to do, and which file (told
/// to a source that waits for the answer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotStored(pub String);

/// An event as a source hands it on, with where to say whether it was stored: a source
/// that can tell its sender (the HTTP hook) acknowledges only once the event is durably in
/// the outbox.
#[derive(Debug)]
pub struct Heard {
    /// The event.
    pub event: CallEvent,
    /// Told `Ok` once the event is stored, or why it could not be.
    pub stored: Option<oneshot::Sender<Result<(), NotStored>>>,
    /// The sender's own id for this delivery (the command hook's), when it has one: an
    /// event it keeps again after no answer is stored once.
    pub delivery: Option<String>,
}

impl Heard {
    /// An event whose source waits for nothing (baresip, Simulate, an event handed over).
    pub fn unacknowledged(event: CallEvent) -> Self {
        Self {
            event,
            stored: None,
            delivery: None,
        }
    }

    /// An event whose source waits until it is stored; the receiver says how that went.
    pub fn acknowledged(
        event: CallEvent,
        delivery: Option<String>,
    ) -> (Self, oneshot::Receiver<Result<(), NotStored>>) {
        let (tx, rx) = oneshot::channel();
        (
            Self {
                event,
                stored: Some(tx),
                delivery,
            },
            rx,
        )
    }
}
