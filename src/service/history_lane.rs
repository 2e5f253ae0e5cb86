//! Twinkle's call history read while the app runs: soon after start, then whenever the file
//! changes (looked at every few seconds). Each finished call of a profile set up for
//! pyrus-phone that no call script reported — taken while pyrus-phone was closed, or before
//! the profile was set up — is stored as a heard call would be, with what became of it, and
//! registered; it never opens a tab. A reading goes back a day at most; the newest call
//! settled is remembered per file, so a file rewritten, cut short or replaced is read again
//! without sending anything twice (each line is a call of its own id). Lines from the
//! future (a clock set wrong) and a half-written last line wait.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::shared::Shared;
use super::stitch::{Decision, past_request};
use super::twinkle::{profiles, user_twinkle_dir};
use crate::domain::twinkle::near_side;
use crate::domain::twinkle_history::{HistoryCall, parse_line};
use crate::domain::{CallEvent, CallLife, EventSource, ExternalId};
use crate::platform::files::read_bounded;
use crate::service::engine::Engine;
use crate::settings::RegisterOn;

/// How long after start the first reading waits (calls kept by call scripts go first).
const FIRST_AFTER: Duration = Duration::from_secs(3);

/// How often the file is looked at.
const EVERY: Duration = Duration::from_secs(5);

/// A first reading goes back this far (seconds).
const BACKFILL_S: i64 = 24 * 60 * 60;

/// A call that ended this recently (seconds) waits: its call scripts may still be on their
/// way, and they know it better (its Call-ID, the pop).
const SETTLE_S: i64 = 10;

/// The largest history read (Twinkle keeps a few hundred lines at most).
const HISTORY_LIMIT: u64 = 8 * 1024 * 1024;

/// What one reading did.
#[derive(Debug, Default)]
struct Read {
    /// Calls stored.
    stored: usize,
    /// Some calls ended too recently to settle: read again even if the file stays.
    young: bool,
}

/// Reads Twinkle's history until the service stops.
pub(super) async fn history_loop(shared: Arc<Shared>) {
    let mut last: Option<(PathBuf, u64, Option<SystemTime>)> = None;
    let mut young = false;
    let mut wait = FIRST_AFTER;
    loop {
        tokio::select! {
            () = shared.stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = EVERY;
        let engine = shared.current.get();
        let sources = &engine.settings().sources;
        if !sources.twinkle_history {
            continue;
        }
        let Some(dir) = sources.twinkle_dir.clone().or_else(user_twinkle_dir) else {
            continue;
        };
        let path = dir.join("twinkle.ch");
        // Off the async threads: a home on a share that does not answer holds only this.
        let file = path.clone();
        let Ok(Ok(meta)) = tokio::task::spawn_blocking(move || std::fs::metadata(file)).await
        else {
            continue;
        };
        let stamp = (path.clone(), meta.len(), meta.modified().ok());
        if last.as_ref() == Some(&stamp) && !young {
            continue;
        }
        match read_history(&engine, &dir, &path).await {
            Ok(read) => {
                last = Some(stamp);
                young = read.young;
                if read.stored > 0 {
                    tracing::info!(calls = read.stored, "calls from Twinkle's history stored");
                    shared.kick();
                    shared.publish().await;
                }
            }
            // Read again at the next look (the outbox may be busy for a moment).
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "Twinkle's history could not be read");
            }
        }
    }
}

/// Reads the history file once: stores each settled call after the remembered mark (and at
/// most a day back), of the profiles whose call scripts run pyrus-phone — set up, so the
/// agent asked for it.
async fn read_history(engine: &Arc<Engine>, dir: &Path, path: &Path) -> Result<Read, String> {
    let (file, folder) = (path.to_path_buf(), dir.to_path_buf());
    let (bytes, ours) = tokio::task::spawn_blocking(move || {
        let ours: Vec<String> = profiles(&folder)
            .into_iter()
            .filter(|p| p.ours > 0)
            .map(|p| p.name)
            .collect();
        read_bounded(&file, HISTORY_LIMIT).map(|bytes| (bytes, ours))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    // A name in another encoding spoils its own line's letters, never the file.
    let text = String::from_utf8_lossy(&bytes);
    // The last line may be half written: only whole lines.
    let whole = text.rfind('\n').map_or("", |end| &text[..end]);
    let source = format!("twinkle:{}", path.display());
    let outbox = engine.outbox();
    let now_s = crate::outbox::now_ms() / 1000;
    let floor = match outbox.history_mark(source.clone()).await {
        Ok(mark) => mark.unwrap_or(0).max(now_s - BACKFILL_S),
        Err(e) => return Err(e.to_string()),
    };
    let mut read = Read::default();
    let mut mark = floor;
    for call in whole.lines().filter_map(parse_line) {
        // Ended before the mark, in the future (a clock set wrong), or another profile's.
        if call.end_s < floor || call.end_s > now_s + 60 || !ours.contains(&call.profile) {
            continue;
        }
        if now_s - call.end_s < SETTLE_S {
            read.young = true;
            continue;
        }
        if store_call(engine, &call).await? {
            read.stored += 1;
        }
        mark = mark.max(call.end_s.min(now_s));
    }
    if mark > floor || read.stored > 0 {
        outbox
            .set_history_mark(source, mark)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(read)
}

/// Stores one past call as a heard one would be (its sides by the same rules, held without
/// this line's number), unless the settings would not have registered it by itself (calls
/// registered by hand, or answered ones only and it was not); true when it was stored.
async fn store_call(engine: &Arc<Engine>, call: &HistoryCall) -> Result<bool, String> {
    let settings = engine.settings();
    let policy = settings.calls;
    // As for a call heard live: registered by hand only means not by itself; missed calls
    // only when they are wanted.
    let unwanted = match policy.register_on {
        RegisterOn::Manual => true,
        RegisterOn::Answer => call.answer_s.is_none() && !policy.register_missed,
        RegisterOn::Ring => false,
    };
    if unwanted {
        return Ok(false);
    }
    let (line, internal) = near_side(call.near.clone());
    let Ok(event) = CallEvent::parse(
        "ring",
        &call.far,
        None,
        internal.as_deref(),
        line.as_deref(),
        EventSource::Twinkle,
    ) else {
        tracing::info!("a call in Twinkle's history has no number to register; left out");
        return Ok(false);
    };
    let event = event.normalised(settings.defaults.country());
    let (mut request, held) = match past_request(
        event.number,
        call.direction,
        event.line,
        event.internal,
        &settings.defaults,
    ) {
        Decision::Register(request) => (request, None),
        Decision::Hold(request, why) => (request, Some(why)),
        Decision::Wait => return Ok(false),
    };
    request.external_id = ExternalId::parse(&call.external_id).ok();
    let life = CallLife {
        started_ms: Some(call.start_s * 1000),
        answered_ms: call.answer_s.map(|s| s * 1000),
        ended_ms: Some(call.end_s * 1000),
    };
    let outbox = engine.outbox();
    let external_id = call.external_id.clone();
    let stored = outbox
        .store_past_call(request, held, life, policy.send_outcome)
        .await
        .map_err(|e| e.to_string())?;
    if stored && (call.display.is_some() || call.reason.is_some()) {
        outbox
            .note_call_words(external_id, call.display.clone(), call.reason.clone())
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(stored)
}
