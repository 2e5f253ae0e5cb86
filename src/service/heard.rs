//! Calls heard from softphones: the sources' health reports, the intake (every event stored
//! in the journal before its source is told it was accepted) and the call-event loop
//! (stitch, store, register per policy, note which task may open, store the pickup).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::Engine;
use super::shared::Shared;
use super::stitch::{Decision, Stitcher};
use crate::bus::{Event, Notice, NoticeKind};
use crate::domain::{CallEvent, CallLife, EventKind, EventSource, ExternalId, JobId, Verdict};
use crate::outbox::{Claimed, Journaled, StoreError, generate_external_id, now_ms};
use crate::sources::{Heard, NotStored};

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

/// How long a call id finds the call stored under it: events of one call come within
/// hours; a source that reuses its call ids later makes a new call.
const LIVE_FOR_MS: i64 = 12 * 60 * 60 * 1000;

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
    // The journal's rows this run has handed on (until they are forgotten): any other row is
    // one kept by another process (a command hook that found no instance listening yet), and
    // is handed on too, whenever it appears.
    let mut handed = HashSet::new();
    if !shared.hand_over_kept(&events, &mut handed).await {
        return;
    }
    loop {
        let first = tokio::select! {
            () = shared.stop.cancelled() => return,
            () = tokio::time::sleep(FORGET_EVERY) => {
                shared.heal_outbox().await;
                shared.forget_handled().await;
                if !shared.hand_over_kept(&events, &mut handed).await {
                    return;
                }
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
        if !shared.journal_batch(batch, &events, &mut handed).await {
            return;
        }
    }
}

/// Turns events heard from softphones into calls: stitched, stored, registered per policy.
/// Each event is noted as handled once it has been; one handled again after a crash finds
/// the call it stored the first time (its external id is kept with the event).
pub(super) async fn event_loop(shared: Arc<Shared>, mut events: mpsc::Receiver<Journaled>) {
    // The calls still open when the last run stopped: their next events join them.
    let mut stitcher = match shared.current.get().outbox().open_calls().await {
        Ok(Some(saved)) => Stitcher::restored(&saved, now_ms()),
        Ok(None) => Stitcher::default(),
        Err(e) => {
            tracing::warn!(error = %e, "the open calls kept at the last stop cannot be read");
            Stitcher::default()
        }
    };
    loop {
        // While a call rings, wake when it would stop counting as ringing; while ended calls
        // are kept, when they may be forgotten.
        let forgetting = stitcher
            .holds_ended()
            .then_some(super::stitch::ENDED_KEEP_MS);
        let wait = stitcher
            .ringing_expires_in(now_ms())
            .into_iter()
            .chain(forgetting)
            .min()
            .map_or(Duration::from_secs(3600), |ms| {
                Duration::from_millis(u64::try_from(ms).unwrap_or(0) + 10)
            });
        match tokio::time::timeout(wait, events.recv()).await {
            Ok(Some(journaled)) => shared.handle_event(&mut stitcher, journaled).await,
            Ok(None) => return,
            Err(_) => {
                stitcher.forget(now_ms());
                shared
                    .ui
                    .send(Event::Ringing(stitcher.ringing(now_ms())))
                    .await;
            }
        }
    }
}

/// A heard call as stored: its registration job and external id, why it is held (if it
/// is), and its claim when it is to be sent at once.
struct Stored {
    job: JobId,
    external_id: ExternalId,
    held: Option<String>,
    claimed: Option<Claimed>,
}

impl Shared {
    /// An outbox that could not be opened is tried again; once it opens, the window and
    /// the hook doctor stop saying calls cannot be stored, the window says it opened, and
    /// the call list is read from it.
    async fn heal_outbox(&self) {
        if self.current.get().outbox().heal().await {
            self.note_outbox_problem(None).await;
        }
    }

    /// Notes whether heard events can be stored (`None`: they can); when a problem goes,
    /// the window says the outbox opened and reads the call list from it.
    async fn note_outbox_problem(&self, problem: Option<String>) {
        let Some(sources) = &self.sources else {
            return;
        };
        let healed = problem.is_none();
        if sources.monitor.set_outbox_problem(problem) && healed {
            self.notice(Notice::new(NoticeKind::OutboxOpened, "")).await;
            self.publish().await;
        }
    }

    /// Hands the event loop what the journal holds that this run has not handed on yet —
    /// kept by a run that stopped before handling it, or by another process meanwhile;
    /// false when the event loop is gone.
    async fn hand_over_kept(
        &self,
        events: &mpsc::Sender<Journaled>,
        handed: &mut HashSet<i64>,
    ) -> bool {
        match self.current.get().outbox().open_journal().await {
            Ok(kept) => {
                // What was handled and forgotten is gone from the journal, and from here.
                handed.retain(|id| kept.iter().any(|k| k.id == *id));
                let new: Vec<Journaled> = kept
                    .into_iter()
                    .filter(|k| !handed.contains(&k.id))
                    .collect();
                if !new.is_empty() {
                    tracing::info!(events = new.len(), "handling events kept in the journal");
                }
                for event in new {
                    handed.insert(event.id);
                    if events.send(event).await.is_err() {
                        return false;
                    }
                }
            }
            Err(e) => {
                self.notice(Notice::new(NoticeKind::JournalUnreadable, e))
                    .await;
            }
        }
        true
    }

    /// Stores a burst of heard events in one transaction and hands them on at once; once
    /// the disk has them, tells their sources they were accepted. False when the event
    /// loop is gone.
    async fn journal_batch(
        &self,
        batch: Vec<Heard>,
        events: &mpsc::Sender<Journaled>,
        handed: &mut HashSet<i64>,
    ) -> bool {
        let handled = self.take_handled();
        let engine = self.current.get();
        let stored = engine
            .outbox()
            .journal_unsynced(
                batch
                    .iter()
                    .map(|h| (h.event.clone(), h.delivery.clone()))
                    .collect(),
                handled.clone(),
            )
            .await;
        match stored {
            Ok(journaled) => {
                // Stored (a process killed now loses none of them): their calls go while the
                // disk catches up, and the sources hear "accepted" only once it has.
                for journaled in journaled {
                    handed.insert(journaled.id);
                    if events.send(journaled).await.is_err() {
                        return false;
                    }
                }
                let durable = engine.outbox().sync_to_disk().await;
                self.note_outbox_problem(durable.as_ref().err().map(ToString::to_string))
                    .await;
                for heard in batch {
                    if let Some(ack) = heard.stored {
                        let answer = durable
                            .as_ref()
                            .copied()
                            .map_err(|e| NotStored(e.to_string()));
                        ack.send(answer).ok();
                    }
                }
                true
            }
            Err(e) => {
                self.return_handled(handled);
                self.refuse_batch(&engine, batch, &e, events).await
            }
        }
    }

    /// A burst the journal could not store: waiting sources are refused with the reason
    /// and the file; the others' events are handled in memory. False when the event loop
    /// is gone.
    async fn refuse_batch(
        &self,
        engine: &Engine,
        batch: Vec<Heard>,
        e: &StoreError,
        events: &mpsc::Sender<Journaled>,
    ) -> bool {
        // What is wrong, what to do, and which file.
        let file = engine.outbox().path().display().to_string();
        let why = if e.to_string().contains(&file) {
            e.to_string()
        } else {
            format!("{e} — {file}")
        };
        tracing::error!(error = %why, "heard events cannot be stored");
        self.note_outbox_problem(Some(why.clone())).await;
        for heard in batch {
            match heard.stored {
                Some(ack) => {
                    ack.send(Err(NotStored(why.clone()))).ok();
                }
                None => {
                    let unstored = Journaled {
                        id: 0,
                        external_id: generate_external_id(),
                        received_ms: now_ms(),
                        event: heard.event,
                    };
                    if events.send(unstored).await.is_err() {
                        return false;
                    }
                }
            }
        }
        self.notice(Notice::new(NoticeKind::HeardNotStored, why))
            .await;
        true
    }

    /// Handles one heard event: stitched at the time it was heard, its call stored (and
    /// sent, or held) per policy, the pop told of an answer or an end, what was heard noted
    /// on the call's row, the recording's pickup stored. The event is noted as handled only
    /// once all it asked for is committed; else the next start handles it again.
    async fn handle_event(self: &Arc<Self>, stitcher: &mut Stitcher, journaled: Journaled) {
        let Journaled {
            id: journal_id,
            external_id: stable_id,
            received_ms: heard_at,
            event,
        } = journaled;
        let engine = self.current.get();
        let settings = engine.settings();
        let event = event.normalised(settings.defaults.country());
        // A link fills the form; the agent decides whether it is a call to register.
        if event.source == EventSource::Uri {
            self.link_heard(event.number).await;
            self.note_handled(journal_id, None);
            return;
        }
        // Stitched at the time it was heard (an event kept from a stopped run is handled
        // later, and must not join calls by the time it is handled).
        let decision = stitcher.on_event(&event, heard_at, settings.calls, &settings.defaults);
        let ended = self.follow_the_call(stitcher, &event).await;
        let mut effect_stored = true;
        let mut changed = false;
        match self
            .store_decision(&engine, decision, (stable_id, heard_at))
            .await
        {
            None => {}
            Some(Ok(stored)) => {
                if self.note_stored(&engine, stitcher, stored, &event, ended) {
                    // The call's registration goes first: it starts on this thread now,
                    // before what follows here (the ringing bars, the row) takes it.
                    tokio::task::yield_now().await;
                }
                changed = true;
            }
            Some(Err(e)) => {
                effect_stored = false;
                self.notice(Notice::new(NoticeKind::CallNotStored, e)).await;
            }
        }
        // The ringing bars follow once the call is on its way.
        self.ui
            .send(Event::Ringing(stitcher.ringing(now_ms())))
            .await;
        changed |= self.note_life(&engine, stitcher).await;
        changed |= note_words(&engine, stitcher).await;
        // The touched call's row, not the day's list: the work of one call.
        let touched = stitcher.touched().and_then(|c| c.external_id.clone());
        match touched {
            Some(id) if changed => self.publish_call(&id).await,
            None if changed => self.publish().await,
            _ => {}
        }
        // Simulated calls have no recording.
        if let (Some(dir), Some(call)) =
            (settings.sources.recordings_dir.clone(), stitcher.touched())
            && event.kind == EventKind::End
            && call.ended
            && event.source != EventSource::Simulated
        {
            let answered = stitcher.touched_answered();
            effect_stored &= self
                .store_pickup(&engine, dir, call, answered, heard_at)
                .await;
        }
        // The open calls are kept in the transaction that forgets the event: a restart
        // finds both, or neither (and handles the event again).
        if effect_stored {
            self.note_handled(journal_id, stitcher.changes());
        }
    }

    /// Tells the pop of an answer (its task may open now) or an end (it opens no more);
    /// true when the event ended its call.
    async fn follow_the_call(&self, stitcher: &Stitcher, event: &CallEvent) -> bool {
        let touched = stitcher.touched();
        let id = touched.as_ref().and_then(|c| c.external_id.clone());
        let answered = if event.kind == EventKind::Answer {
            id.as_deref().and_then(|id| self.pops().job_of(id))
        } else {
            None
        };
        if let Some(job) = answered {
            self.pop(job, None, true).await;
        }
        let ended = event.kind == EventKind::End && touched.is_some_and(|c| c.ended);
        if ended && let Some(id) = &id {
            self.pops().ended(id);
        }
        ended && id.is_some()
    }

    /// Stores the call a decision asks for (already claimed when it is to be sent now), or
    /// finds the one stored the first time the event was handled.
    async fn store_decision(
        &self,
        engine: &Engine,
        decision: Decision,
        (stable_id, heard_at): (ExternalId, i64),
    ) -> Option<Result<Stored, StoreError>> {
        let (mut call, held) = match decision {
            Decision::Wait => return None,
            Decision::Register(call) => (call, None),
            Decision::Hold(call, why) => (call, Some(why)),
        };
        call.external_id.get_or_insert(stable_id);
        let stored = engine
            .outbox()
            .store_heard(call, held.clone(), (heard_at, LIVE_FOR_MS))
            .await;
        Some(stored.map(|(job, external_id, claimed)| Stored {
            job,
            external_id,
            held,
            claimed,
        }))
    }

    /// A heard call is stored: its pop is noted, then it is sent (or said to wait); true
    /// when it is being sent now.
    fn note_stored(
        self: &Arc<Self>,
        engine: &Arc<Engine>,
        stitcher: &mut Stitcher,
        stored: Stored,
        event: &CallEvent,
        ended: bool,
    ) -> bool {
        let Stored {
            job,
            external_id,
            held,
            claimed,
        } = stored;
        stitcher.remember_external_id(external_id.as_str());
        self.pops().heard(
            job,
            external_id.as_str(),
            now_ms(),
            stitcher.touched_answered(),
            ended,
        );
        if let Some(why) = held {
            tracing::info!(%job, %external_id, source = %event.source, "call heard; held");
            if let (Some(sources), Some(listed)) = (&self.sources, event.source.listed_as()) {
                sources.monitor.revise_newest(listed, Verdict::Waiting(why));
            }
        } else {
            tracing::info!(%job, %external_id, source = %event.source, "call heard; registering");
        }
        let sending = claimed.is_some();
        if let Some(claim) = claimed {
            self.register_now(engine, claim);
        }
        self.kick();
        sending
    }

    /// Notes on the call's row what was heard of it (ringing, talking, ended or missed);
    /// true when a row changed.
    async fn note_life(&self, engine: &Engine, stitcher: &Stitcher) -> bool {
        let Some(call) = stitcher.touched() else {
            return false;
        };
        let Some(id) = &call.external_id else {
            return false;
        };
        let life = CallLife {
            started_ms: Some(call.started_ms),
            answered_ms: call.answered_ms,
            ended_ms: call.ended_ms,
        };
        let outcome = engine.settings().calls.send_outcome;
        match engine.outbox().note_life(id, life, outcome).await {
            Ok(noted) => {
                if noted && life.ended_ms.is_some() {
                    // An outcome may be queued: the comment lane looks.
                    self.kick_of(crate::outbox::Lane::Comment).notify_one();
                }
                noted
            }
            Err(e) => {
                tracing::warn!(error = %e, "what was heard of a call could not be noted");
                false
            }
        }
    }
}

/// Notes the far end's name and why the call ended, as the touched call's events said them,
/// on its row (once it is stored); true when it changed.
async fn note_words(engine: &Engine, stitcher: &Stitcher) -> bool {
    let Some(call) = stitcher.touched() else {
        return false;
    };
    let (Some(id), true) = (
        call.external_id,
        call.display.is_some() || call.reason.is_some(),
    ) else {
        return false;
    };
    match engine
        .outbox()
        .note_call_words(id, call.display, call.reason)
        .await
    {
        Ok(changed) => changed,
        Err(e) => {
            tracing::warn!(error = %e, "the caller's name or why the call ended was not noted");
            false
        }
    }
}
