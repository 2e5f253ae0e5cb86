//! A call's stage on its row: ringing, talking, ended or missed (and why, when the softphone
//! said) with how long, as words and a colour.

use crate::domain::{CallRecord, Stage};

use super::i18n::{Texts, fill};
use super::theme;

/// "m:ss" (or "h:mm:ss") for a duration in ms.
pub fn clock(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// The call's stage as words and a colour; `None` for a call typed in.
pub(super) fn stage_chip(
    call: &CallRecord,
    now: i64,
    t: &Texts,
) -> Option<(String, egui::Color32)> {
    match call.stage(now) {
        Stage::Typed => None,
        Stage::NoAnswer(ms) => Some((fill(t.stage_no_answer, &[&clock(ms)]), theme::WARN)),
        Stage::Unfinished => Some((t.stage_unfinished.to_owned(), theme::PENDING)),
        Stage::Ringing(since) => Some((fill(t.stage_ringing, &[&clock(now - since)]), theme::WARN)),
        Stage::Talking(since) => Some((fill(t.stage_talking, &[&clock(now - since)]), theme::OK)),
        Stage::Ended(ms) => Some((fill(t.stage_ended, &[&clock(ms)]), theme::PENDING)),
        Stage::Missed(ms) => {
            let mut words = fill(t.stage_missed, &[&clock(ms)]);
            if let Some(why) = end_reason_words(call, t) {
                words = format!("{words} · {why}");
            }
            Some((words, theme::ERROR))
        }
    }
}

/// Why an unanswered call ended, in words, when its softphone said.
fn end_reason_words(call: &CallRecord, t: &Texts) -> Option<String> {
    let reason = call.end_reason.as_deref()?;
    Some(match reason {
        "cancelled" => t.reason_cancelled.to_owned(),
        "rejected" => t.reason_rejected.to_owned(),
        "dnd" => t.reason_dnd.to_owned(),
        other => other.to_owned(),
    })
}
