//! Stitches the events of one call into one record: by the source's call id when it has
//! one, otherwise by number and time (MicroSIP reports only the number), and decides when
//! the call is registered. The same call is registered — and so opened — once. Its open
//! calls are kept in the outbox after each event (`saved`, `restored`), so an answer or end
//! heard after a restart joins its call instead of making a second one.

use crate::domain::{
    CallEvent, CallRequest, Direction, EventKind, EventSource, ExternalId, PhoneNumber, RingingCall,
};
use crate::settings::{CallDefaults, CallPolicy, RegisterOn};

/// Events for a number join its open call while the last one is this recent.
const RING_WINDOW_MS: i64 = 5 * 60 * 1000;
/// …or this recent once the call was answered (calls can be long).
const TALK_WINDOW_MS: i64 = 4 * 60 * 60 * 1000;
/// A repeated "end" this soon after the end belongs to the ended call.
const ECHO_MS: i64 = 5 * 1000;
/// How long an ended call is kept: for a repeated end ([`ECHO_MS`]) and late news of it,
/// with room to spare; a busy day's ended calls are not carried for hours (the outbox
/// still finds a call by its id for 12 hours).
pub const ENDED_KEEP_MS: i64 = 30 * 1000;
/// Calls are forgotten this long after their last event.
const FORGET_MS: i64 = 12 * 60 * 60 * 1000;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct LiveCall {
    call_id: Option<String>,
    number: PhoneNumber,
    direction: Direction,
    internal: Option<PhoneNumber>,
    line: Option<PhoneNumber>,
    last_ms: i64,
    answered: bool,
    answered_ms: Option<i64>,
    ended_ms: Option<i64>,
    registered: bool,
    first_ms: i64,
    external_id: Option<String>,
    source: EventSource,
    /// The far end's name and why it ended, as its events said (kept until the call is
    /// stored: with registration on answer, the ring's name is still known then).
    #[serde(default)]
    display: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// The call the last event belonged to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touched {
    /// The far party.
    pub number: PhoneNumber,
    /// The call's external id: the source's call id, or the one stored with it.
    pub external_id: Option<String>,
    /// When its first event came (Unix ms).
    pub started_ms: i64,
    /// True when the last event ended it.
    pub ended: bool,
    /// When it was answered (Unix ms).
    pub answered_ms: Option<i64>,
    /// When it ended (Unix ms).
    pub ended_ms: Option<i64>,
    /// The far end's name, as its events said.
    pub display: Option<String>,
    /// Why it ended unanswered, as its events said.
    pub reason: Option<String>,
}

/// What the service should do about an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing (yet).
    Wait,
    /// Register this call.
    Register(CallRequest),
    /// Store this call, held until this line's number is set (the reason says so); its
    /// unknown side holds the far party's number until then.
    Hold(CallRequest, String),
}

/// The calls heard recently.
#[derive(Debug, Default)]
pub struct Stitcher {
    calls: Vec<LiveCall>,
    last: Option<usize>,
    /// The open calls as last kept ([`Stitcher::changes`]).
    kept: String,
}

impl Stitcher {
    /// Takes one event at `now_ms`; returns what to do.
    pub fn on_event(
        &mut self,
        event: &CallEvent,
        now_ms: i64,
        policy: CallPolicy,
        defaults: &CallDefaults,
    ) -> Decision {
        self.forget(now_ms);
        let found = self
            .calls
            .iter()
            .position(|c| match (&event.call_id, &c.call_id) {
                (Some(id), Some(known)) => id == known,
                (Some(_), None) | (None, Some(_)) => false,
                (None, None) => {
                    c.number == event.number
                        && match c.ended_ms {
                            Some(ended) => event.kind == EventKind::End && now_ms - ended < ECHO_MS,
                            None => {
                                let window = if c.answered {
                                    TALK_WINDOW_MS
                                } else {
                                    RING_WINDOW_MS
                                };
                                // A new ring on an answered call is a new call.
                                now_ms - c.last_ms < window
                                    && (event.kind != EventKind::Ring || !c.answered)
                            }
                        }
                }
            });
        let index = found.unwrap_or_else(|| {
            self.calls.push(LiveCall {
                call_id: event.call_id.clone(),
                number: event.number.clone(),
                direction: if event.kind == EventKind::Outgoing
                    || event.direction == Direction::Outgoing
                {
                    Direction::Outgoing
                } else {
                    Direction::Incoming
                },
                internal: None,
                line: None,
                last_ms: now_ms,
                answered: false,
                answered_ms: None,
                ended_ms: None,
                registered: false,
                first_ms: now_ms,
                external_id: event.call_id.clone(),
                source: event.source.clone(),
                display: None,
                reason: None,
            });
            self.calls.len() - 1
        });
        self.last = Some(index);
        let call = &mut self.calls[index];
        call.last_ms = now_ms;
        call.internal = event.internal.clone().or(call.internal.take());
        call.line = event.line.clone().or(call.line.take());
        call.display = call.display.take().or_else(|| event.display.clone());
        call.reason = call.reason.take().or_else(|| event.reason.clone());
        match event.kind {
            EventKind::Answer => {
                call.answered = true;
                call.answered_ms = Some(call.answered_ms.unwrap_or(now_ms));
            }
            EventKind::End => call.ended_ms = Some(call.ended_ms.unwrap_or(now_ms)),
            EventKind::Ring | EventKind::Outgoing => {}
        }
        if call.registered {
            return Decision::Wait;
        }
        let due = match policy.register_on {
            RegisterOn::Ring => true,
            RegisterOn::Answer => {
                call.answered || (event.kind == EventKind::End && policy.register_missed)
            }
            RegisterOn::Manual => false,
        };
        if !due {
            return Decision::Wait;
        }
        call.registered = true;
        request_for(call, defaults)
    }
}

impl Stitcher {
    /// The open calls, to keep across a restart (JSON).
    pub fn saved(&self) -> String {
        serde_json::to_string(&self.calls).unwrap_or_default()
    }

    /// The open calls to keep, when they changed since this was last asked.
    pub fn changes(&mut self) -> Option<String> {
        let now = self.saved();
        (now != self.kept).then(|| {
            self.kept.clone_from(&now);
            now
        })
    }

    /// The open calls as [`Stitcher::saved`] kept them, less those to forget by `now_ms`;
    /// state that cannot be read gives none (and says so in the log).
    pub fn restored(saved: &str, now_ms: i64) -> Self {
        let calls = serde_json::from_str::<Vec<LiveCall>>(saved).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the open calls kept at the last stop cannot be read");
            Vec::new()
        });
        let mut stitcher = Self {
            calls,
            last: None,
            kept: saved.to_owned(),
        };
        stitcher.forget(now_ms);
        stitcher
    }

    /// The call the last event belonged to.
    pub fn touched(&self) -> Option<Touched> {
        let call = self.calls.get(self.last?)?;
        Some(Touched {
            number: call.number.clone(),
            external_id: call.external_id.clone(),
            started_ms: call.first_ms,
            ended: call.ended_ms.is_some(),
            answered_ms: call.answered_ms,
            ended_ms: call.ended_ms,
            display: call.display.clone(),
            reason: call.reason.clone(),
        })
    }

    /// Incoming calls ringing at `now_ms`: not answered, not ended, heard from lately.
    pub fn ringing(&self, now_ms: i64) -> Vec<RingingCall> {
        self.calls
            .iter()
            .filter(|c| {
                c.direction == Direction::Incoming
                    && !c.answered
                    && c.ended_ms.is_none()
                    && now_ms - c.last_ms < RING_WINDOW_MS
            })
            .map(|c| RingingCall {
                number: c.number.clone(),
                call_id: c.call_id.clone(),
                source: c.source.clone(),
                since_ms: c.first_ms,
            })
            .collect()
    }

    /// Forgets calls that ended a while ago, and others silent for long (the last event's
    /// call with them: positions move).
    pub fn forget(&mut self, now_ms: i64) {
        let before = self.calls.len();
        self.calls.retain(|c| match c.ended_ms {
            Some(ended) => now_ms - ended < ENDED_KEEP_MS,
            None => now_ms - c.last_ms < FORGET_MS,
        });
        if self.calls.len() != before {
            self.last = None;
        }
    }

    /// True when some ended call is still kept (to be forgotten soon).
    pub fn holds_ended(&self) -> bool {
        self.calls.iter().any(|c| c.ended_ms.is_some())
    }

    /// How long until the oldest ringing call stops counting as ringing.
    pub fn ringing_expires_in(&self, now_ms: i64) -> Option<i64> {
        self.calls
            .iter()
            .filter(|c| c.direction == Direction::Incoming && !c.answered && c.ended_ms.is_none())
            .map(|c| c.last_ms + RING_WINDOW_MS - now_ms)
            .filter(|left| *left > 0)
            .min()
    }

    /// True when the last event's call was answered.
    pub fn touched_answered(&self) -> bool {
        self.last
            .and_then(|i| self.calls.get(i))
            .is_some_and(|c| c.answered)
    }

    /// Remembers the external id the outbox gave the last call (when its source had none).
    pub fn remember_external_id(&mut self, id: &str) {
        if let Some(call) = self.last.and_then(|i| self.calls.get_mut(i)) {
            call.external_id.get_or_insert_with(|| id.to_owned());
        }
    }
}

/// The request for a finished call no source heard live (a softphone's history): the same
/// sides, internal number and mappings as a heard call's, held the same way without this
/// line's number.
pub fn past_request(
    number: PhoneNumber,
    direction: Direction,
    line: Option<PhoneNumber>,
    internal: Option<PhoneNumber>,
    defaults: &CallDefaults,
) -> Decision {
    let call = LiveCall {
        call_id: None,
        number,
        direction,
        internal,
        line,
        last_ms: 0,
        answered: false,
        answered_ms: None,
        ended_ms: None,
        registered: false,
        first_ms: 0,
        external_id: None,
        source: EventSource::Twinkle,
        display: None,
        reason: None,
    };
    request_for(&call, defaults)
}

fn request_for(call: &LiveCall, defaults: &CallDefaults) -> Decision {
    let default_internal = PhoneNumber::parse_extension(&defaults.internal_number).ok();
    // A source's own word wins over the settings', but Twinkle's is a guess (the SIP user of
    // the message): the internal number set in the settings wins over it.
    let internal = if call.source == EventSource::Twinkle {
        default_internal.or_else(|| call.internal.clone())
    } else {
        call.internal.clone().or(default_internal)
    };
    // Our side is this line's number, as the source reported it or as the settings give it;
    // never the agent's internal number (an extension is no line): without it, the call waits.
    let ours = call.line.clone().or_else(|| defaults.line());
    let held = ours.is_none();
    let ours = ours.unwrap_or_else(|| call.number.clone());
    let (from, to) = match call.direction {
        Direction::Outgoing => (ours, call.number.clone()),
        Direction::Incoming | Direction::Unknown => (call.number.clone(), ours),
    };
    // A call id that is no valid external id (too long) is replaced by a generated one.
    let external_id = call
        .call_id
        .as_deref()
        .and_then(|id| ExternalId::parse(id).ok());
    let request = CallRequest {
        from,
        to,
        internal,
        external_id,
        mappings: defaults.mappings.clone(),
        direction: call.direction,
    };
    if held {
        let why = if defaults.line_number.trim().is_empty() {
            "this line's number is not set: set it in the settings (defaults.line_number) and the call is registered".to_owned()
        } else {
            format!(
                "this line's number in the settings (defaults.line_number = '{}') is not a phone number: correct it and the call is registered",
                defaults.line_number.trim()
            )
        };
        Decision::Hold(request, why)
    } else {
        Decision::Register(request)
    }
}

#[cfg(test)]
mod tests {
    use super::{Decision, Stitcher};
    use crate::domain::CallEvent;
    use crate::settings::{CallDefaults, CallPolicy, RegisterOn};

    fn ev(kind: &str, number: &str, call_id: Option<&str>) -> CallEvent {
        CallEvent::parse(kind, number, call_id, None, None, "test").unwrap()
    }

    fn defaults() -> CallDefaults {
        CallDefaults {
            line_number: "+74953009080".into(),
            ..CallDefaults::default()
        }
    }

    fn registers(d: &Decision) -> bool {
        matches!(d, Decision::Register(_))
    }

    const MIN: i64 = 60_000;

    #[test]
    fn a_microsip_sequence_is_one_call_registered_once() {
        let mut s = Stitcher::default();
        let p = CallPolicy::default();
        let d = defaults();
        let first = s.on_event(&ev("ring", "89774221338", None), 0, p, &d);
        let Decision::Register(call) = &first else {
            panic!("{first:?}")
        };
        assert_eq!(call.from.as_str(), "89774221338");
        assert_eq!(call.to.as_str(), "+74953009080");
        assert_eq!(
            s.on_event(&ev("answer", "89774221338", None), 5_000, p, &d),
            Decision::Wait
        );
        assert_eq!(
            s.on_event(&ev("end", "89774221338", None), 30 * MIN, p, &d),
            Decision::Wait
        );
        assert_eq!(
            s.on_event(&ev("end", "89774221338", None), 30 * MIN + 1_000, p, &d),
            Decision::Wait
        );
    }

    #[test]
    fn an_end_after_a_restart_joins_the_call_it_ends() {
        let mut before = Stitcher::default();
        let p = CallPolicy {
            register_on: RegisterOn::Answer,
            register_missed: true,
            ..CallPolicy::default()
        };
        let d = defaults();
        assert_eq!(
            before.on_event(&ev("ring", "89774221338", None), 0, p, &d),
            Decision::Wait
        );
        assert!(registers(&before.on_event(
            &ev("answer", "89774221338", None),
            5_000,
            p,
            &d
        )));
        before.remember_external_id("pp-kept");
        let saved = before.saved();
        // A new run, from what was kept: the end is the same call's, not a missed one.
        let mut after = Stitcher::restored(&saved, 6_000);
        assert_eq!(
            after.on_event(&ev("end", "89774221338", None), 7 * MIN, p, &d),
            Decision::Wait
        );
        let touched = after.touched().unwrap();
        assert_eq!(touched.external_id.as_deref(), Some("pp-kept"));
        assert_eq!(touched.started_ms, 0);
        assert!(touched.ended);
        // Without what was kept, the same end would have been a missed call of its own.
        let mut fresh = Stitcher::default();
        assert!(registers(&fresh.on_event(
            &ev("end", "89774221338", None),
            7 * MIN,
            p,
            &d
        )));
        // Unreadable state is no state.
        assert!(Stitcher::restored("{not json", 0).touched().is_none());
    }

    #[test]
    fn the_same_number_ten_minutes_later_is_another_call() {
        let mut s = Stitcher::default();
        let p = CallPolicy::default();
        let d = defaults();
        assert!(registers(&s.on_event(
            &ev("ring", "123456", None),
            0,
            p,
            &d
        )));
        assert!(!registers(&s.on_event(
            &ev("end", "123456", None),
            MIN,
            p,
            &d
        )));
        assert!(registers(&s.on_event(
            &ev("ring", "123456", None),
            11 * MIN,
            p,
            &d
        )));
        // Even without an end, a ring ten minutes on is a new call.
        assert!(registers(&s.on_event(
            &ev("ring", "123456", None),
            21 * MIN,
            p,
            &d
        )));
    }

    #[test]
    fn call_ids_keep_concurrent_calls_apart() {
        let mut s = Stitcher::default();
        let p = CallPolicy::default();
        let d = defaults();
        assert!(registers(&s.on_event(
            &ev("ring", "123456", Some("a")),
            0,
            p,
            &d
        )));
        assert!(registers(&s.on_event(
            &ev("ring", "123456", Some("b")),
            1,
            p,
            &d
        )));
        assert!(!registers(&s.on_event(
            &ev("answer", "123456", Some("a")),
            2,
            p,
            &d
        )));
        let Decision::Register(call) =
            s.on_event(&ev("established", "555000", Some("c")), 3, p, &d)
        else {
            panic!("a call first heard when answered is still a call");
        };
        assert_eq!(call.external_id.unwrap().as_str(), "c");
    }

    #[test]
    fn ringing_calls_are_the_unanswered_incoming_ones() {
        let mut s = Stitcher::default();
        let p = CallPolicy::default();
        let d = defaults();
        s.on_event(&ev("ring", "111222", Some("a")), 0, p, &d);
        s.on_event(&ev("ring", "333444", Some("b")), 10, p, &d);
        s.on_event(&ev("outgoing", "555666", Some("c")), 20, p, &d);
        let numbers = |s: &Stitcher, now| {
            s.ringing(now)
                .iter()
                .map(|c| c.number.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(numbers(&s, 30), ["111222", "333444"]);
        s.on_event(&ev("answer", "111222", Some("a")), 40, p, &d);
        assert_eq!(numbers(&s, 50), ["333444"]);
        assert_eq!(s.ringing_expires_in(50), Some(super::RING_WINDOW_MS - 40));
        // A ring nobody ends stops counting after the ring window.
        assert!(numbers(&s, super::RING_WINDOW_MS + 11).is_empty());
        assert_eq!(s.ringing_expires_in(super::RING_WINDOW_MS + 11), None);
        s.on_event(&ev("end", "333444", Some("b")), 60, p, &d);
        assert!(numbers(&s, 70).is_empty());
    }

    #[test]
    fn registering_on_answer_and_missed_calls() {
        let mut s = Stitcher::default();
        let on_answer = CallPolicy {
            register_on: RegisterOn::Answer,
            register_missed: true,
            ..CallPolicy::default()
        };
        let d = defaults();
        assert!(!registers(&s.on_event(
            &ev("ring", "111222", None),
            0,
            on_answer,
            &d
        )));
        assert!(registers(&s.on_event(
            &ev("answer", "111222", None),
            1_000,
            on_answer,
            &d
        )));
        // Rang and ended unanswered: a missed call, registered per the setting.
        assert!(!registers(&s.on_event(
            &ev("ring", "333444", None),
            0,
            on_answer,
            &d
        )));
        assert!(registers(&s.on_event(
            &ev("end", "333444", None),
            20_000,
            on_answer,
            &d
        )));
        let no_missed = CallPolicy {
            register_on: RegisterOn::Answer,
            register_missed: false,
            ..CallPolicy::default()
        };
        assert!(!registers(&s.on_event(
            &ev("ring", "555666", None),
            0,
            no_missed,
            &d
        )));
        assert!(!registers(&s.on_event(
            &ev("end", "555666", None),
            20_000,
            no_missed,
            &d
        )));
    }

    #[test]
    fn what_the_source_said_of_the_far_end_stays_with_the_call() {
        let mut ring = ev("ring", "+79774221339", Some("named@vm"));
        ring.display = Some("Alice".to_owned());
        let policy = CallPolicy {
            register_on: RegisterOn::Answer,
            ..CallPolicy::default()
        };
        let mut named = Stitcher::default();
        assert_eq!(
            named.on_event(&ring, 0, policy, &defaults()),
            Decision::Wait
        );
        let mut failed = ev("end", "+79774221339", Some("named@vm"));
        failed.reason = Some("cancelled".to_owned());
        assert!(registers(&named.on_event(&failed, 1, policy, &defaults())));
        let touched = named.touched().unwrap();
        assert_eq!(
            (touched.display.as_deref(), touched.reason.as_deref()),
            (Some("Alice"), Some("cancelled"))
        );
    }

    #[test]
    fn outgoing_calls_run_from_the_line() {
        let mut s = Stitcher::default();
        let Decision::Register(call) = s.on_event(
            &ev("outgoing", "+79774221338", None),
            0,
            CallPolicy::default(),
            &defaults(),
        ) else {
            panic!()
        };
        assert_eq!(call.from.as_str(), "+74953009080");
        assert_eq!(call.to.as_str(), "+79774221338");
        // An end that overtook its call's start (two hooks a millisecond apart) still makes
        // an outgoing call when the source says so.
        let mut s = Stitcher::default();
        let mut end = ev("end", "+79774221338", Some("x@vm"));
        end.direction = crate::domain::Direction::Outgoing;
        let Decision::Register(call) = s.on_event(&end, 0, CallPolicy::default(), &defaults())
        else {
            panic!()
        };
        assert_eq!(call.from.as_str(), "+74953009080");
        assert_eq!(call.to.as_str(), "+79774221338");
        let late = ev("outgoing", "+79774221338", Some("x@vm"));
        assert_eq!(
            s.on_event(&late, 1, CallPolicy::default(), &defaults()),
            Decision::Wait,
            "the late start joins its call"
        );
        let mut s = Stitcher::default();
        let held = s.on_event(
            &ev("ring", "123456", None),
            0,
            CallPolicy::default(),
            &CallDefaults::default(),
        );
        // Without this line's number the call is kept, not dropped, and says what it needs.
        let Decision::Hold(call, why) = held else {
            panic!("{held:?}")
        };
        assert_eq!(call.from.as_str(), "123456");
        assert!(why.contains("line_number"), "{why}");
        // An internal number set is no line: the call still waits.
        let only_internal = CallDefaults {
            internal_number: "200".into(),
            ..CallDefaults::default()
        };
        let mut s = Stitcher::default();
        let held = s.on_event(
            &ev("ring", "+79774221338", None),
            0,
            CallPolicy::default(),
            &only_internal,
        );
        let Decision::Hold(call, _) = held else {
            panic!("registered with the internal number as the line: {held:?}")
        };
        assert_eq!(
            call.internal.map(|n| n.as_str().to_owned()).as_deref(),
            Some("200")
        );
        // A line number that is no number is named as such, not as missing.
        let mistyped = CallDefaults {
            line_number: "call me".into(),
            ..CallDefaults::default()
        };
        let mut s = Stitcher::default();
        let held = s.on_event(
            &ev("ring", "+79774221338", None),
            0,
            CallPolicy::default(),
            &mistyped,
        );
        let Decision::Hold(_, why) = held else {
            panic!("{held:?}")
        };
        assert!(
            why.contains("(defaults.line_number = 'call me') is not a phone number"),
            "{why}"
        );
    }

    #[test]
    fn the_line_number_setting_is_normalised_with_the_default_country() {
        let defaults = CallDefaults {
            line_number: "8 495 300-90-80".into(),
            country: Some("ru".into()),
            ..CallDefaults::default()
        };
        let mut s = Stitcher::default();
        let ru = defaults.country();
        let event = ev("ring", "89161112200", None).normalised(ru);
        let Decision::Register(call) = s.on_event(&event, 0, CallPolicy::default(), &defaults)
        else {
            panic!()
        };
        assert_eq!(
            (call.from.as_str(), call.to.as_str()),
            ("+79161112200", "+74953009080")
        );
        // A number the country cannot make sense of is kept as it came.
        let short = ev("ring", "200", None).normalised(ru);
        assert_eq!(short.number.as_str(), "200");
    }
}
