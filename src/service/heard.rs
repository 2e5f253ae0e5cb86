//! Calls heard from softphones: the sources' health reports, the call-event loop (stitch,
//! store, register per policy, note which task may open) and the durable recording pickup
//! lane.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc;

use super::pickup;
use super::running::{POP_MEMORY_MS, Pop, Shared};
use super::stitch::{Decision, Stitcher, Touched};
use super::{Engine, check_recording};
use crate::bus::{Event, Notice, NoticeKind};
use crate::domain::{CallLife, EventKind, ExternalId, JobId, SourceId, Verdict};
use crate::outbox::{EndedCall, Journaled, Lane, now_ms};
use crate::sources::Heard;

/// Sends the hook doctor's report at start and whenever a source notes something.
pub(super) async fn sources_loop(shared: Arc<Shared>) {
    let Some(sources) = shared.sources.clone() else {
        return;
    };
    loop {
        shared.report_sources().await;
        sources.monitor.changed().await;
        // Messages come in bursts (a call's events); one report per burst is enough.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many heard events go into the journal in one transaction at most.
const JOURNAL_BATCH: usize = 256;

/// How often handled events are forgotten when nothing new arrives.
const FORGET_EVERY: Duration = Duration::from_secs(2);

/// Takes what every source heard and stores it in the journal — a burst in one transaction —
/// before a waiting source (the HTTP hook) is told it was accepted; then hands it to the
/// event loop. At start, first hands over what the journal kept from a run that stopped
/// before handling it. When the outbox cannot be written, waiting sources are refused with
/// the reason; the others' events are still handled in memory (better than not at all).
pub(super) async fn intake_loop(
    shared: Arc<Shared>,
    mut heard: mpsc::Receiver<Heard>,
    events: mpsc::Sender<Journaled>,
) {
    match shared.current.get().outbox().open_journal().await {
        Ok(kept) => {
            if !kept.is_empty() {
                tracing::info!(
                    events = kept.len(),
                    "handling events kept from the last run"
                );
            }
            for event in kept {
                if events.send(event).await.is_err() {
                    return;
                }
            }
        }
        Err(e) => {
            shared
                .notice(Notice::new(NoticeKind::JournalUnreadable, e))
                .await;
        }
    }
    loop {
        let first = tokio::select! {
            () = shared.stop.cancelled() => return,
            () = tokio::time::sleep(FORGET_EVERY) => {
                shared.forget_handled().await;
                continue;
            }
            first = heard.recv() => match first {
                Some(first) => first,
                None => return,
            },
        };
        let mut batch = vec![first];
        while batch.len() < JOURNAL_BATCH {
            match heard.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let handled = shared.take_handled();
        let outbox = shared.current.get();
        let stored = outbox
            .outbox()
            .journal(
                batch.iter().map(|h| h.event.clone()).collect(),
                handled.clone(),
            )
            .await;
        match stored {
            Ok(journaled) => {
                if let Some(sources) = &shared.sources {
                    sources.monitor.set_outbox_problem(None);
                }
                // Every event of the batch is stored: say so at once, then hand them on.
                for heard in batch {
                    if let Some(ack) = heard.stored {
                        ack.send(Ok(())).ok();
                    }
                }
                for journaled in journaled {
                    if events.send(journaled).await.is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                shared.return_handled(handled);
                // What is wrong, what to do, and which file.
                let file = outbox.outbox().path().display().to_string();
                let why = if e.to_string().contains(&file) {
                    e.to_string()
                } else {
                    format!("{e} — {file}")
                };
                tracing::error!(error = %why, "heard events cannot be stored");
                if let Some(sources) = &shared.sources {
                    sources.monitor.set_outbox_problem(Some(why.clone()));
                }
                for heard in batch {
                    match heard.stored {
                        Some(ack) => {
                            ack.send(Err(why.clone())).ok();
                        }
                        None => {
                            let unstored = Journaled {
                                id: 0,
                                external_id: crate::outbox::generate_external_id(),
                                received_ms: now_ms(),
                                event: heard.event,
                            };
                            if events.send(unstored).await.is_err() {
                                return;
                            }
                        }
                    }
                }
                shared
                    .notice(Notice::new(NoticeKind::HeardNotStored, why))
                    .await;
            }
        }
    }
}

/// Turns events heard from softphones into calls: stitched, stored, registered per policy.
/// Each event is noted as handled once it has been; one handled again after a crash finds
/// the call it stored the first time (its external id is kept with the event).
pub(super) async fn event_loop(shared: Arc<Shared>, mut events: mpsc::Receiver<Journaled>) {
    let mut stitcher = Stitcher::default();
    loop {
        // While a call rings, wake when it would stop counting as ringing.
        let wait = stitcher
            .ringing_expires_in(now_ms())
            .map_or(Duration::from_secs(3600), |ms| {
                Duration::from_millis(u64::try_from(ms).unwrap_or(0) + 10)
            });
        let Journaled {
            id: journal_id,
            external_id: stable_id,
            received_ms: heard_at,
            event,
        } = match tokio::time::timeout(wait, events.recv()).await {
            Ok(Some(journaled)) => journaled,
            Ok(None) => return,
            Err(_) => {
                shared
                    .ui
                    .send(Event::Ringing(stitcher.ringing(now_ms())))
                    .await;
                continue;
            }
        };
        let engine = shared.current.get();
        let settings = engine.settings();
        let event = event.normalised(settings.defaults.country());
        // Stitched at the time it was heard (an event kept from a stopped run is handled
        // later, and must not join calls by the time it is handled).
        let decision = stitcher.on_event(&event, heard_at, settings.calls, &settings.defaults);
        // Whether what this event asked for is committed; if not, the event stays in the
        // journal and is handled again by the next start.
        let mut effect_stored = true;
        shared
            .ui
            .send(Event::Ringing(stitcher.ringing(now_ms())))
            .await;
        if event.kind == EventKind::Answer
            && let Some(job) = stitcher
                .touched()
                .and_then(|c| c.external_id)
                .and_then(|id| shared.pop_job(&id))
        {
            shared.pop(job, None, true).await;
        }
        let ended_id = (event.kind == EventKind::End)
            .then(|| stitcher.touched())
            .flatten()
            .filter(|c| c.ended)
            .and_then(|c| c.external_id);
        if let Some(id) = &ended_id {
            shared.ended(id);
        }
        // A call to register now is stored already claimed, and sent once its pop is noted.
        let mut claimed = None;
        let stored = match decision {
            Decision::Wait => None,
            Decision::Register(mut call) => {
                let external_id = call.external_id.get_or_insert(stable_id).clone();
                Some((
                    match engine.outbox().live_registration(&external_id).await {
                        Ok(Some(job)) => Ok((job, external_id)),
                        Ok(None) => engine.outbox().add_call_claimed(call).await.map(
                            |(external_id, claim)| {
                                let job = claim.job;
                                claimed = Some(claim);
                                (job, external_id)
                            },
                        ),
                        Err(e) => Err(e),
                    },
                    None,
                ))
            }
            Decision::Hold(mut call, why) => {
                let external_id = call.external_id.get_or_insert(stable_id).clone();
                Some((
                    match engine.outbox().live_registration(&external_id).await {
                        Ok(Some(job)) => Ok((job, external_id)),
                        Ok(None) => engine.outbox().add_held_call(call, why.clone()).await,
                        Err(e) => Err(e),
                    },
                    Some(why),
                ))
            }
        };
        let mut changed = false;
        match stored {
            None => {}
            Some((stored, held)) => match stored {
                Ok((job, external_id)) => {
                    stitcher.remember_external_id(external_id.as_str());
                    {
                        let mut pops = shared.pops.lock().unwrap_or_else(PoisonError::into_inner);
                        // A day's calls are plenty to remember.
                        let now = now_ms();
                        pops.retain(|_, p| now - p.heard_ms < POP_MEMORY_MS);
                        pops.insert(
                            job,
                            Pop {
                                external_id: external_id.as_str().to_owned(),
                                heard_ms: now,
                                answered: stitcher.touched_answered(),
                                ended: ended_id.is_some(),
                                ..Pop::default()
                            },
                        );
                    }
                    if let Some(why) = held {
                        tracing::info!(%job, %external_id, source = event.source, "call heard; held");
                        if let Some(sources) = &shared.sources {
                            sources.monitor.revise_newest(
                                SourceId::from_name(&event.source),
                                Verdict::Waiting(why),
                            );
                        }
                    } else {
                        tracing::info!(%job, %external_id, source = event.source, "call heard; registering");
                    }
                    if let Some(claim) = claimed.take() {
                        shared.register_now(&engine, claim);
                    }
                    shared.kick();
                    changed = true;
                }
                Err(e) => {
                    effect_stored = false;
                    shared
                        .notice(Notice::new(NoticeKind::CallNotStored, e))
                        .await
                }
            },
        }
        // The call's row shows what was heard of it: ringing, talking, ended or missed.
        if let Some(call) = stitcher.touched()
            && let Some(id) = &call.external_id
        {
            let life = CallLife {
                started_ms: Some(call.started_ms),
                answered_ms: call.answered_ms,
                ended_ms: call.ended_ms,
            };
            match engine.outbox().note_life(id, life).await {
                Ok(noted) => changed |= noted,
                Err(e) => tracing::warn!(error = %e, "what was heard of a call could not be noted"),
            }
        }
        if changed {
            shared.publish().await;
        }
        let recordings = settings.sources.recordings_dir.clone();
        // Simulated calls have no recording.
        if let (Some(dir), Some(call)) = (recordings, stitcher.touched())
            && event.kind == EventKind::End
            && call.ended
            && event.source != "simulated"
        {
            let answered = stitcher.touched_answered();
            effect_stored &= shared
                .store_pickup(&engine, dir, call, answered, heard_at)
                .await;
        }
        if effect_stored {
            shared.note_handled(journal_id);
        }
    }
}

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
                self.publish().await;
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
    let kick = shared.kick_of(Lane::Pickup);
    loop {
        let engine = shared.current.get();
        let wait = match engine.outbox().claim_pickup().await {
            Ok(Some((job, token, payload))) => {
                shared.spawn(run_pickup(Arc::clone(&shared), engine, job, token, payload));
                continue;
            }
            Ok(None) => match engine.outbox().next_due_ms(Some(Lane::Pickup)).await {
                Ok(Some(at)) => Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0)),
                Ok(None) => Duration::from_secs(3600),
                Err(e) => {
                    shared
                        .notice(Notice::new(NoticeKind::OutboxFailed, e))
                        .await;
                    Duration::from_secs(30)
                }
            },
            Err(e) => {
                shared
                    .notice(Notice::new(NoticeKind::OutboxFailed, e))
                    .await;
                Duration::from_secs(30)
            }
        };
        tokio::select! {
            () = shared.stop.cancelled() => return,
            () = kick.notified() => {}
            () = tokio::time::sleep(wait.max(Duration::from_millis(20))) => {}
        }
    }
}

/// Finds a pickup's recording, waits for it to settle, makes one file of it, checks it
/// like a hand-picked file, and queues it for attaching in the same transaction that ends
/// the pickup.
pub(super) async fn run_pickup(
    shared: Arc<Shared>,
    engine: Arc<Engine>,
    job: JobId,
    token: i64,
    payload: crate::outbox::PickupPayload,
) {
    let outbox = engine.outbox();
    let found = tokio::select! {
        () = shared.stop.cancelled() => return,
        found = prepare_recording(&shared, job, token, &payload, &engine) => found,
    };
    match found {
        Ok(path) => match outbox.finish_pickup(job, token, &payload, path).await {
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
    payload: &crate::outbox::PickupPayload,
    engine: &Engine,
) -> Result<PathBuf, (&'static str, String)> {
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
        let path = pickup::one_file(&files, &out, &name)?
            .ok_or_else(|| "the recording disappeared".to_owned())?;
        check_recording(&path)
            .map(|(path, _)| path)
            .map_err(|e| e.to_string())
    })
    .await;
    match merged {
        Ok(Ok(path)) => Ok(path),
        Ok(Err(e)) => Err(("recording_unusable", e)),
        Err(e) => Err(("recording_unusable", e.to_string())),
    }
}
