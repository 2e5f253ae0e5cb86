//! Twinkle's call scripts, understood: one run of a script is one trigger, told in the
//! environment from the SIP message that caused it. This turns that environment into a call
//! event — which trigger means what, which party is the far end (the message's From or To,
//! by trigger), the SIP Call-ID as the call's id, and why a call failed.

/// Why an incoming call ended unanswered, or an outgoing one did not connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwinkleFailure {
    /// The caller gave up (487).
    Cancelled,
    /// Rejected here (486 busy, 603 declined).
    Rejected,
    /// Do not disturb was on (480).
    DoNotDisturb,
    /// Another SIP status.
    Status(u16),
}

impl TwinkleFailure {
    /// The failure a final SIP status means.
    pub fn from_status(code: u16) -> Self {
        match code {
            487 => Self::Cancelled,
            486 | 603 => Self::Rejected,
            480 => Self::DoNotDisturb,
            other => Self::Status(other),
        }
    }

    /// The reason an event carries: `cancelled`, `rejected`, `dnd`, or `SIP status N`.
    pub fn reason(self) -> String {
        match self {
            Self::Cancelled => "cancelled".to_owned(),
            Self::Rejected => "rejected".to_owned(),
            Self::DoNotDisturb => "dnd".to_owned(),
            Self::Status(code) => format!("SIP status {code}"),
        }
    }

    /// In words, for the log.
    pub fn words(self) -> String {
        match self {
            Self::Cancelled => "the caller gave up (487)".to_owned(),
            Self::Rejected => "rejected (486/603)".to_owned(),
            Self::DoNotDisturb => "do not disturb was on (480)".to_owned(),
            Self::Status(code) => format!("SIP status {code}"),
        }
    }
}

/// One Twinkle trigger as a call event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwinkleEvent {
    /// `ring`, `answer`, `end` or `outgoing`.
    pub kind: &'static str,
    /// The far end's number (as SIP gave it).
    pub number: String,
    /// The SIP Call-ID.
    pub call_id: String,
    /// Our side's number, when the message names a full number (see [`near_side`]).
    pub line: Option<String>,
    /// The agent's extension, when our side is a short SIP user (`2000`).
    pub internal: Option<String>,
    /// The far end's display name, from `SIP_FROM` of an incoming call.
    pub display: Option<String>,
    /// Why it failed, for `in_call_failed` and `out_call_failed`.
    pub failure: Option<TwinkleFailure>,
    /// Which way the call goes: known from every trigger but the two releases.
    pub direction: super::Direction,
}

/// Why the environment is not a Twinkle trigger pyrus-phone can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TwinkleError {
    /// `TWINKLE_TRIGGER` is missing: not run by Twinkle.
    #[error(
        "TWINKLE_TRIGGER is not set: `event --twinkle` is what Twinkle runs as a call script (run `pyrus-phone setup twinkle`)"
    )]
    NotTwinkle,
    /// A trigger this build does not know.
    #[error(
        "Twinkle trigger '{0}' is not one of the eight call scripts; point only the profile's script_* keys at `pyrus-phone event --twinkle`"
    )]
    UnknownTrigger(String),
    /// A variable the trigger needs is empty.
    #[error(
        "Twinkle gave no {0} for this call, so it cannot be told apart from others; the event is left out — check Twinkle's SIP settings"
    )]
    Missing(&'static str),
}

/// Our side of a call as Twinkle names it (the profile's SIP user): a full number
/// (`+74953009080`, or ten digits and more) is this line's number; a short user (`2000`) is
/// the agent's extension, which Pyrus matches against users' Work phone. Returns (line,
/// internal).
pub fn near_side(user: Option<String>) -> (Option<String>, Option<String>) {
    // A SIP user that is a name (`ivanov`) is neither: left out, never a reason to lose the
    // event.
    let Some(user) = user
        .map(|u| u.trim().to_owned())
        .filter(|u| super::PhoneNumber::parse_extension(u).is_ok())
    else {
        return (None, None);
    };
    let digits = user.chars().filter(char::is_ascii_digit).count();
    if user.starts_with('+') || digits >= 10 {
        (Some(user), None)
    } else {
        (None, Some(user))
    }
}

/// The display name in a SIP address (`"Alice" <sip:…>` or `Alice <sip:…>`), if any.
fn display_name(address: &str) -> Option<String> {
    let before = address.split('<').next()?.trim();
    let name = before.trim_matches('"').trim();
    (!name.is_empty() && address.contains('<')).then(|| name.chars().take(100).collect())
}

/// The call event of one script run, from its environment (`get` reads a variable).
pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<TwinkleEvent, TwinkleError> {
    let var = |name: &str| {
        get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let trigger = var("TWINKLE_TRIGGER").ok_or(TwinkleError::NotTwinkle)?;
    // The far end: From for incoming triggers and a BYE from the far end; To for outgoing
    // ones and our own BYE (the message is ours then).
    let (kind, far_is_from) = match trigger.as_str() {
        "in_call" => ("ring", true),
        "in_call_answered" => ("answer", true),
        "in_call_failed" => ("end", true),
        "out_call" => ("outgoing", false),
        "out_call_answered" => ("answer", false),
        "out_call_failed" => ("end", false),
        "remote_release" => ("end", true),
        "local_release" => ("end", false),
        other => return Err(TwinkleError::UnknownTrigger(other.to_owned())),
    };
    let (far, near) = if far_is_from {
        ("SIP_FROM_USER", "SIP_TO_USER")
    } else {
        ("SIP_TO_USER", "SIP_FROM_USER")
    };
    let number = var(far).ok_or(TwinkleError::Missing(far))?;
    let call_id = var("SIP_CALL_ID").ok_or(TwinkleError::Missing("SIP_CALL_ID"))?;
    let failure = trigger
        .ends_with("_failed")
        .then(|| var("SIPSTATUS_CODE").and_then(|c| c.parse().ok()))
        .flatten()
        .map(TwinkleFailure::from_status);
    let display = trigger
        .starts_with("in_")
        .then(|| var("SIP_FROM").as_deref().and_then(display_name))
        .flatten();
    let (line, internal) = near_side(var(near));
    let direction = if trigger.starts_with("in_") {
        super::Direction::Incoming
    } else if trigger.starts_with("out_") {
        super::Direction::Outgoing
    } else {
        super::Direction::Unknown
    };
    Ok(TwinkleEvent {
        kind,
        number,
        call_id,
        line,
        internal,
        display,
        failure,
        direction,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::{TwinkleError, TwinkleFailure, from_env};

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const CALL: [(&str, &str); 4] = [
        ("SIP_CALL_ID", "1-29713@127.0.0.1"),
        (
            "SIP_FROM",
            "\"Alice\" <sip:+15551234567@127.0.0.1:23414>;tag=29528SIPpTag001",
        ),
        ("SIP_FROM_USER", "+15551234567"),
        ("SIP_TO_USER", "2000"),
    ];

    #[test]
    fn each_trigger_is_an_event_with_the_far_end_by_the_report_s_rule() {
        let with = |trigger: &str, extra: &[(&str, &str)]| {
            let mut pairs = CALL.to_vec();
            pairs.push(("TWINKLE_TRIGGER", trigger));
            pairs.extend_from_slice(extra);
            from_env(env(&pairs)).unwrap()
        };
        let ring = with("in_call", &[]);
        assert_eq!((ring.kind, ring.number.as_str()), ("ring", "+15551234567"));
        assert_eq!(
            (ring.line.as_deref(), ring.internal.as_deref()),
            (None, Some("2000")),
            "a short SIP user is the agent's extension"
        );
        assert_eq!(
            super::near_side(Some("+74953009080".into())),
            (Some("+74953009080".into()), None)
        );
        assert_eq!(super::near_side(Some("ivanov".into())), (None, None));
        assert_eq!(ring.display.as_deref(), Some("Alice"));
        assert_eq!(ring.call_id, "1-29713@127.0.0.1");
        assert_eq!(with("in_call_answered", &[]).kind, "answer");
        assert_eq!(with("remote_release", &[]).number, "+15551234567");
        // Our own BYE on an incoming call: From and To are swapped in the message.
        let ours = from_env(env(&[
            ("TWINKLE_TRIGGER", "local_release"),
            ("SIP_CALL_ID", "1-29713@127.0.0.1"),
            ("SIP_FROM_USER", "2000"),
            ("SIP_TO_USER", "+15551234567"),
        ]))
        .unwrap();
        assert_eq!((ours.kind, ours.number.as_str()), ("end", "+15551234567"));
        let out = from_env(env(&[
            ("TWINKLE_TRIGGER", "out_call"),
            ("SIP_CALL_ID", "berysoglmsvbcim@vm"),
            ("SIP_FROM_USER", "2000"),
            ("SIP_TO_USER", "3000"),
        ]))
        .unwrap();
        assert_eq!((out.kind, out.number.as_str()), ("outgoing", "3000"));
        assert_eq!(out.display, None, "no display name for an outgoing call");
        for (code, failure) in [
            ("487", TwinkleFailure::Cancelled),
            ("486", TwinkleFailure::Rejected),
            ("603", TwinkleFailure::Rejected),
            ("480", TwinkleFailure::DoNotDisturb),
            ("404", TwinkleFailure::Status(404)),
        ] {
            let failed = with("in_call_failed", &[("SIPSTATUS_CODE", code)]);
            assert_eq!((failed.kind, failed.failure), ("end", Some(failure)));
        }
    }

    #[test]
    fn what_is_not_a_twinkle_trigger_says_so() {
        assert_eq!(from_env(env(&CALL)), Err(TwinkleError::NotTwinkle));
        let mut pairs = CALL.to_vec();
        pairs.push(("TWINKLE_TRIGGER", "in_call_transferred"));
        assert!(matches!(
            from_env(env(&pairs)),
            Err(TwinkleError::UnknownTrigger(_))
        ));
        assert_eq!(
            from_env(env(&[
                ("TWINKLE_TRIGGER", "in_call"),
                ("SIP_FROM_USER", "1")
            ])),
            Err(TwinkleError::Missing("SIP_CALL_ID"))
        );
    }
}
