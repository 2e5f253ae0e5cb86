//! The index of customers' numbers kept fresh while the app runs: read soon after start,
//! every few minutes, and a little after each of our own registrations or a new engine
//! (several close together make one reading); the window hears when a reading ends, so the
//! cards it shows are asked again.

use std::sync::Arc;
use std::time::Duration;

use super::caller_index::{self, RATE_BUDGET_CODE};
use super::shared::Shared;
use crate::bus::Event;
use crate::domain::FormIndex;

/// How long after start the first reading waits (the start's own work goes first).
const FIRST_AFTER: Duration = Duration::from_secs(2);

/// How often the index is read while nothing wakes it.
pub(super) const EVERY: Duration = Duration::from_secs(5 * 60);

/// How long a wake-up waits for others before the reading (a burst of calls: one reading).
const SETTLE: Duration = Duration::from_secs(5);

/// How long a reading stopped by the rate budget waits (the window moves on in ten minutes).
const AFTER_BUDGET: Duration = Duration::from_secs(60);

/// Reads the index until the service stops.
pub(super) async fn index_loop(shared: Arc<Shared>) {
    let mut wait = FIRST_AFTER;
    loop {
        tokio::select! {
            () = shared.stop.cancelled() => return,
            () = shared.index_kick.notified() => {
                tokio::select! {
                    () = shared.stop.cancelled() => return,
                    () = tokio::time::sleep(SETTLE) => {}
                }
            }
            () = tokio::time::sleep(wait) => {}
        }
        let engine = shared.current.get();
        if engine.settings().caller_forms().is_empty() {
            wait = EVERY;
            continue;
        }
        let states = tokio::select! {
            () = shared.stop.cancelled() => return,
            states = caller_index::read_forms(&engine) => states,
        };
        let held_back = states
            .iter()
            .any(|s| matches!(s, FormIndex::Failed { code, .. } if code == RATE_BUDGET_CODE));
        wait = if held_back { AFTER_BUDGET } else { EVERY };
        shared.ui.send(Event::CallersRead).await;
    }
}
