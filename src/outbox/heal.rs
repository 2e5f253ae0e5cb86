//! An outbox that heals: a stand-in for an outbox that could not be opened at start tries
//! the real file again — on each use and when asked — and once it opens, every clone of the
//! `Outbox` uses it.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

use super::store::Store;
use super::{Outbox, lock, now_ms};

/// How often a stand-in tries to open the real outbox again, at most: on each use (an
/// event refused, a periodic look at the journal) once this has passed.
const HEAL_EVERY_MS: i64 = 1_000;

impl Outbox {
    /// A stand-in tries to open the real outbox again (at most every second); true when
    /// the real file is in use — opened now, by an earlier use, or from the start — and
    /// every clone of this outbox uses it.
    pub async fn heal(&self) -> bool {
        let (store, path, last) = (
            Arc::clone(&self.store),
            self.path.clone(),
            Arc::clone(&self.last_heal_ms),
        );
        tokio::task::spawn_blocking(move || {
            let mut store = lock(&store);
            heal_in_place(&mut store, &path, &last);
            !store.is_stand_in()
        })
        .await
        .unwrap_or(false)
    }
}

/// Puts the real outbox in a stand-in's place once it opens (tried at most every
/// [`HEAL_EVERY_MS`]); true when it just did.
pub(super) fn heal_in_place(store: &mut Store, path: &Path, last: &AtomicI64) -> bool {
    use std::sync::atomic::Ordering;
    if !store.is_stand_in() {
        return false;
    }
    let now = now_ms();
    if now - last.load(Ordering::Relaxed) < HEAL_EVERY_MS {
        return false;
    }
    last.store(now, Ordering::Relaxed);
    match Store::open_waiting(path, Duration::from_millis(200)) {
        Ok(opened) => {
            *store = opened;
            tracing::info!("the outbox opens again; calls are stored from now on");
            true
        }
        Err(e) => {
            tracing::debug!(error = %e, "the outbox still cannot be opened");
            false
        }
    }
}
