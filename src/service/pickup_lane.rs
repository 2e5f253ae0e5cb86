//! The recording pickup lane: an ended call's pickup is stored at once (so finding and
//! attaching its recording survives a quit or a crash), then found, settled, merged into one
//! file, checked like a hand-picked one, and queued for attaching in the same transaction
//! that ends the pickup.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::lanes::{AFTER_FAILURE, Turn, lane_loop};
use super::recording::CheckedRecording;
use super::shared::Shared;
use super::stitch::Touched;
use super::{Engine, check_recording, pickup};
use crate::bus::{Notice, NoticeKind};
use crate::domain::{ExternalId, JobId};
use crate::outbox::{EndedCall, Lane, PickupPayload};

impl Shared {
    /// Stores a pickup job for an ended call at once, so finding and attaching its
    /// recording survives a quit or a crash; the pickup lane runs it. A call gets one pickup
    /// however often its end is heard. False when it could not be stored.
    pub(super) async fn store_pickup(
        &self,
        engine: &Engine,
        dir: PathBuf,
        call: Touched,
        answered: bool,
        ended_ms: i64,
    ) -> bool {
        let external_id = call
            .external_id
            .as_deref()
            .and_then(|id| ExternalId::parse(id).ok());
        let stored = match external_id {
            Some(external_id) => {
                let ended = EndedCall {
                    external_id,
                    number: call.number.as_str().to_owned(),
                    started_ms: call.started_ms,
                    ended_ms,
                    answered,
                };
                engine.outbox().add_pickup(dir, ended).await
            }
            None => Ok(None),
        };
        match stored {
            Ok(Some(job)) => {
                tracing::info!(%job, "recording pickup stored");
                self.kick_of(Lane::Pickup).notify_one();
                self.publish_job(job).await;
                true
            }
            Ok(None) => {
                tracing::info!(number = %call.number, "an ended call that was not stored here: no recording to attach");
                true
            }
            Err(e) => {
                self.notice(Notice::new(NoticeKind::PickupNotStored, e))
                    .await;
                false
            }
        }
    }
}

/// How many recording pickups merge files at once.
pub(super) const PICKUPS_AT_ONCE: usize = 2;

/// How often, and how long, a pickup looks for a recording to appear after its call ends.
pub(super) const FIND_TRIES: u32 = 20;
pub(super) const FIND_EVERY: Duration = Duration::from_millis(500);

/// The pickup lane: claims each due pickup and runs it as its own task (several calls may
/// be settling at once). A pickup interrupted by a quit or a crash is claimed again by the
/// next start.
pub(super) async fn pickup_loop(shared: Arc<Shared>) {
    let turns = Arc::clone(&shared);
    lane_loop(shared, Lane::Pickup, move |engine| {
        let shared = Arc::clone(&turns);
        async move {
            match engine.outbox().claim_pickup().await {
                Ok(Some((job, token, payload))) => {
                    let run = run_pickup(Arc::clone(&shared), engine, job, token, payload);
                    shared.spawn(run);
                    Turn::Ran
                }
                Ok(None) => Turn::Idle,
                Err(e) => {
                    shared
                        .notice(Notice::new(NoticeKind::OutboxFailed, e))
                        .await;
                    Turn::Wait(AFTER_FAILURE)
                }
            }
        }
    })
    .await;
}

/// Finds a pickup's recording, waits for it to settle, makes one file of it, checks it
/// like a hand-picked file, and queues it for attaching in the same transaction that ends
/// the pickup.
pub(super) async fn run_pickup(
    shared: Arc<Shared>,
    engine: Arc<Engine>,
    job: JobId,
    token: i64,
    payload: PickupPayload,
) {
    let outbox = engine.outbox();
    let found = tokio::select! {
        () = shared.stop.cancelled() => return,
        found = prepare_recording(&shared, job, token, &payload, &engine) => found,
    };
    match found {
        Ok(found) => match outbox
            .finish_pickup(job, token, &payload, found.path, found.identity)
            .await
        {
            Ok(attach) => {
                tracing::info!(%job, %attach, "recording picked up");
                shared.kick_of(Lane::Upload).notify_one();
            }
            Err(e) => tracing::warn!(%job, error = %e, "the pickup ended elsewhere"),
        },
        Err(_) if !payload.answered => {
            // An unanswered call usually has no recording: nothing to keep.
            tracing::info!(%job, "no recording of an unanswered call");
            if let Err(e) = outbox.finish_pickup_empty(job, token).await {
                tracing::warn!(%job, error = %e, "the pickup ended elsewhere");
            }
        }
        Err((code, message)) => {
            tracing::warn!(%job, code, "recording pickup failed");
            if let Err(e) = outbox.fail_pickup(job, token, code, message).await {
                shared
                    .notice(Notice::new(NoticeKind::OutboxFailed, e))
                    .await;
            }
        }
    }
    shared.publish().await;
}

/// The recording of a pickup, ready to upload, or why there is none (code, message).
pub(super) async fn prepare_recording(
    shared: &Shared,
    job: JobId,
    token: i64,
    payload: &PickupPayload,
    engine: &Engine,
) -> Result<CheckedRecording, (&'static str, String)> {
    let mut files = Vec::new();
    // An unanswered call's recording, if the softphone made one at all, is there at once:
    // one look, so missed calls never hold up the pickups of answered ones.
    let tries = if payload.answered { FIND_TRIES } else { 1 };
    for attempt in 1..=tries {
        let (dir, number, started, ended) = (
            payload.dir.clone(),
            payload.number.clone(),
            payload.started_ms,
            payload.ended_ms,
        );
        files = tokio::task::spawn_blocking(move || pickup::find(&dir, &number, started, ended))
            .await
            .unwrap_or_default();
        if !files.is_empty() || attempt == tries {
            break;
        }
        tokio::time::sleep(FIND_EVERY).await;
    }
    if files.is_empty() {
        return Err((
            "recording_not_found",
            format!(
                "no recording of this call appeared in {}: attach it with Attach recording…, or Retry to look again",
                payload.dir.display()
            ),
        ));
    }
    // Settling takes up to a minute, merging a while more: keep the claim all along.
    let taken_over = || {
        (
            "pickup_taken_over",
            "another pyrus-phone took this pickup over".to_owned(),
        )
    };
    if !engine.outbox().renew(job, token).await.unwrap_or(false) {
        return Err(taken_over());
    }
    pickup::settle(&files).await;
    if !engine.outbox().renew(job, token).await.unwrap_or(false) {
        return Err(taken_over());
    }
    // A few merges at a time: each reads two whole WAVs.
    let Ok(_turn) = shared.picking.acquire().await else {
        return Err(taken_over());
    };
    let out = shared.setup.recordings_out.clone();
    let name = payload.name.clone();
    let merged = tokio::task::spawn_blocking(move || {
        let path = pickup::one_file(&files, &out, &name)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "the recording disappeared".to_owned())?;
        check_recording(&path).map_err(|e| e.to_string())
    })
    .await;
    match merged {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(e)) => Err(("recording_unusable", e)),
        Err(e) => Err(("recording_unusable", e.to_string())),
    }
}
