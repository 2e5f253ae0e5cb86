//! Twinkle's call history (`~/.twinkle/twinkle.ch`) as calls: one `|`-separated line per
//! finished call — start, answer (0 when unanswered) and end in epoch seconds, `in` or `out`,
//! the From and To URIs, the release cause — each given an id of its own made from the line,
//! so the same line is the same call however often it is read. Pure: reading the file is the
//! caller's.

use super::Direction;
use super::uri::number_from_uri;

/// The prefix of a call's external id when it came from Twinkle's history.
pub const HISTORY_ID_PREFIX: &str = "twinkle-history-";

/// One finished call as Twinkle's history records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryCall {
    /// When it started ringing or was dialled (epoch seconds).
    pub start_s: i64,
    /// When it was answered, if it was.
    pub answer_s: Option<i64>,
    /// When it ended.
    pub end_s: i64,
    /// Which way it went.
    pub direction: Direction,
    /// The far end's number (the user part of its URI).
    pub far: String,
    /// Our side's number, when the URI has one.
    pub near: Option<String>,
    /// The far end's display name, when it sent one.
    pub display: Option<String>,
    /// `remote user`, `local user` or `failure`.
    pub cause: String,
    /// Why it went unanswered, from the INVITE's final status (`cancelled`, `rejected`,
    /// `dnd`…), for a call nobody answered.
    pub reason: Option<String>,
    /// The call's id: made from the whole line, the same each time it is read.
    pub external_id: String,
    /// The Twinkle profile that took it.
    pub profile: String,
}

/// The fields of a line Twinkle 1.10 writes; a line with fewer was cut short.
const FIELDS: usize = 20;

/// Times outside these bounds (epoch seconds: 2001 to 2100) are not a call's.
const TIMES: std::ops::RangeInclusive<i64> = 1_000_000_000..=4_102_444_800;

/// The fields of a line, split at each `|` that is not escaped with `\`.
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next()
                    && let Some(last) = out.last_mut()
                {
                    last.push(next);
                }
            }
            '|' => out.push(String::new()),
            c => {
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    out
}

/// A stable 64-bit digest of a line (FNV-1a): the same line gives the same call id in every
/// run and build.
fn digest(line: &str) -> u64 {
    line.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The call a history line records, or `None` for a line that is not one (blank, cut short
/// by a write in progress, a direction or time that does not read).
pub fn parse_line(line: &str) -> Option<HistoryCall> {
    let line = line.trim_end_matches(['\r', '\n']);
    let f = fields(line);
    if f.len() < FIELDS {
        return None;
    }
    let time = |i: usize| f[i].trim().parse::<i64>().ok();
    let (start_s, answer, end_s) = (time(0)?, time(1)?, time(2)?);
    if !TIMES.contains(&start_s)
        || !TIMES.contains(&end_s)
        || (answer != 0 && !TIMES.contains(&answer))
    {
        return None;
    }
    let direction = match f[3].trim() {
        "in" => Direction::Incoming,
        "out" => Direction::Outgoing,
        _ => return None,
    };
    let (from, to) = (number_from_uri(&f[5]), number_from_uri(&f[8]));
    let (far, near, display) = match direction {
        Direction::Outgoing => (to?, from, None),
        _ => (from?, to, super::event::words(Some(&f[4]))),
    };
    Some(HistoryCall {
        start_s,
        answer_s: (answer > 0).then_some(answer),
        end_s: end_s.max(start_s),
        direction,
        far,
        near,
        display,
        cause: f[15].trim().to_owned(),
        reason: (answer == 0)
            .then(|| f.get(16)?.trim().parse::<u16>().ok())
            .flatten()
            .filter(|code| *code >= 300)
            .map(|code| super::twinkle::TwinkleFailure::from_status(code).reason()),
        external_id: format!("{HISTORY_ID_PREFIX}{start_s}-{:016x}", digest(line)),
        profile: f[19].trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::{HISTORY_ID_PREFIX, parse_line};
    use crate::domain::Direction;

    const ANSWERED: &str = "1796219930|1796219930|1796219931|in|Alice|sip:+15551234567@127.0.0.1:27602|||sip:2000@127.0.0.1:20128||||||twinkle live check|remote user|200|OK||tw";

    #[test]
    fn a_history_line_reads_as_its_call_with_an_id_of_its_own() {
        let call = parse_line(ANSWERED).unwrap();
        assert_eq!(
            (call.start_s, call.answer_s, call.end_s),
            (1_796_219_930, Some(1_796_219_930), 1_796_219_931)
        );
        assert_eq!(call.direction, Direction::Incoming);
        assert_eq!(call.far, "+15551234567");
        assert_eq!(call.near.as_deref(), Some("2000"));
        assert_eq!(call.display.as_deref(), Some("Alice"));
        assert_eq!(call.cause, "remote user");
        assert!(call.external_id.starts_with(HISTORY_ID_PREFIX));
        assert_eq!(parse_line(ANSWERED).unwrap().external_id, call.external_id);
        let other = ANSWERED.replace("|1796219931|", "|1796219932|");
        assert_ne!(parse_line(&other).unwrap().external_id, call.external_id);

        let out = "1796219940|0|1796219950|out||sip:2000@127.0.0.1||Bob|sip:3000@127.0.0.1:5070||||||\\|subject|failure|503|Service Unavailable||tw";
        let call = parse_line(out).unwrap();
        assert_eq!(call.direction, Direction::Outgoing);
        assert_eq!((call.far.as_str(), call.answer_s), ("3000", None));
        assert_eq!(call.cause, "failure");
        assert_eq!(call.display, None);
        assert_eq!(call.reason.as_deref(), Some("SIP status 503"));
        let cancelled = ANSWERED
            .replace("|1796219930|1796219931|", "|0|1796219931|")
            .replace("|200|OK|", "|487|Request Terminated|");
        assert_eq!(
            parse_line(&cancelled).unwrap().reason.as_deref(),
            Some("cancelled")
        );
        assert_eq!(parse_line(ANSWERED).unwrap().reason, None);

        let cut = ANSWERED.rsplit_once('|').unwrap().0;
        let future = ANSWERED.replace("|1796219931|", "|99999999999|");
        for broken in [
            cut,
            &future,
            "",
            "1796219930|0|17962",
            "x|0|1|in|||||||||||remote user|",
            "1796219930|0|1796219931|sideways|a|sip:1@h|||sip:2@h|||||||failure||||tw",
        ] {
            assert_eq!(parse_line(broken), None, "{broken:?}");
        }
    }
}
