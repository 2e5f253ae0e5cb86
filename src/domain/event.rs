//! What softphones and phones report: ring, answer, end and outgoing events, each with the
//! far party's number and whatever else the source knows.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Direction;
use super::phone::{Country, PhoneError, PhoneNumber};

/// What happened to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// An incoming call rings.
    Ring,
    /// The call was answered (either way).
    Answer,
    /// The call ended.
    End,
    /// The agent dialled out.
    Outgoing,
}

impl EventKind {
    /// Reads an event name as sources spell it (`ring`, `incoming`, `answer`, `established`,
    /// `end`, `hangup`, `closed`, `outgoing`, `dial`), in any case.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "ring" | "ringing" | "incoming" => Some(Self::Ring),
            "answer" | "answered" | "established" | "connected" => Some(Self::Answer),
            "end" | "ended" | "hangup" | "closed" | "disconnected" => Some(Self::End),
            "outgoing" | "dial" | "call" => Some(Self::Outgoing),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ring => "ring",
            Self::Answer => "answer",
            Self::End => "end",
            Self::Outgoing => "outgoing",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// An unknown event name.
    #[error("'{0}' is not an event: use ring, answer, end or outgoing")]
    UnknownKind(String),
    /// The far party's number is not a number.
    #[error("number: {0}")]
    Number(PhoneError),
    /// The line's number is not a number.
    #[error("line: {0}")]
    Line(PhoneError),
    /// The internal number is not a number.
    #[error("internal: {0}")]
    Internal(PhoneError),
    /// A call id over 300 characters or empty.
    #[error("call_id must be 1 to 300 characters")]
    CallId,
    /// A direction that is neither incoming nor outgoing.
    #[error("direction '{0}' is neither incoming nor outgoing")]
    Direction(String),
}

/// One event from a source, checked (it travels as a [`CallEventWire`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEvent {
    /// What happened.
    pub kind: EventKind,
    /// The far party: the caller of an incoming call, the callee of an outgoing one.
    pub number: PhoneNumber,
    /// The source's id for the call (a SIP Call-ID), when it has one.
    pub call_id: Option<String>,
    /// The agent's internal number, when the source knows it.
    pub internal: Option<PhoneNumber>,
    /// Our side's number (the callee of an incoming call), when the source reports it.
    pub line: Option<PhoneNumber>,
    /// Which source said it.
    pub source: EventSource,
    /// Which way the call goes, when the source says so with every event (Twinkle's
    /// triggers do): an end heard before its call's start still makes the right call.
    pub direction: Direction,
    /// The far end's name, when the source has one (a SIP display name).
    pub display: Option<String>,
    /// Why an unanswered call ended, when the source says (`cancelled`, `rejected`, `dnd`,
    /// or its own words).
    pub reason: Option<String>,
}

/// Where an event came from. Kept as its name (`http`, `command`, …) in the journal; a
/// name this build does not know reads as [`EventSource::Unknown`], never as another source.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum EventSource {
    /// The HTTP hook: softphone URL hooks and desk phones' Action URLs.
    Http,
    /// `pyrus-phone event …` from a softphone's command hook.
    Command,
    /// A `tel:`, `callto:` or `sip:` link opened with pyrus-phone.
    Uri,
    /// baresip's `ctrl_tcp`.
    Baresip,
    /// "Simulate a call" in the hook doctor.
    Simulated,
    /// Twinkle's call scripts (`pyrus-phone event --twinkle`).
    Twinkle,
    /// A name this build does not know (kept as it was).
    Unknown(String),
}

impl EventSource {
    /// Its name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Http => "http",
            Self::Command => "command",
            Self::Uri => "uri",
            Self::Baresip => "baresip",
            Self::Simulated => "simulated",
            Self::Twinkle => "twinkle",
            Self::Unknown(name) => name,
        }
    }

    /// The source the hook doctor lists it under (links come through the command hook);
    /// none for an unknown one.
    pub fn listed_as(&self) -> Option<super::SourceId> {
        use super::SourceId;
        match self {
            Self::Http => Some(SourceId::Http),
            Self::Command | Self::Uri => Some(SourceId::Command),
            Self::Twinkle => Some(SourceId::Twinkle),
            Self::Baresip => Some(SourceId::Baresip),
            Self::Simulated => Some(SourceId::Simulated),
            Self::Unknown(_) => None,
        }
    }
}

impl From<super::SourceId> for EventSource {
    fn from(source: super::SourceId) -> Self {
        use super::SourceId;
        match source {
            SourceId::Http => Self::Http,
            SourceId::Command => Self::Command,
            SourceId::Baresip => Self::Baresip,
            SourceId::Simulated => Self::Simulated,
            SourceId::Twinkle => Self::Twinkle,
        }
    }
}

impl From<&str> for EventSource {
    fn from(name: &str) -> Self {
        match name {
            "http" => Self::Http,
            "command" => Self::Command,
            "uri" => Self::Uri,
            "baresip" => Self::Baresip,
            "simulated" => Self::Simulated,
            "twinkle" => Self::Twinkle,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

impl From<String> for EventSource {
    fn from(name: String) -> Self {
        Self::from(name.as_str())
    }
}

impl From<EventSource> for String {
    fn from(source: EventSource) -> Self {
        source.as_str().to_owned()
    }
}

impl fmt::Display for EventSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A call event as it travels: the hook's JSON body, the command hook's hand-over, an event
/// handed to a new start (`--initial-event`) and the journal's rows are all this one shape.
/// `number` may also be called `from`, `line` also `to`; `kind` is the journal's older name
/// for `event`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallEventWire {
    /// What happened (`ring`, `answer`, `end`, `outgoing`, or a source's own word for it).
    #[serde(alias = "kind")]
    pub event: String,
    /// The far party.
    #[serde(alias = "from")]
    pub number: String,
    /// The source's id for the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// The agent's internal number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal: Option<String>,
    /// Our side's number.
    #[serde(default, alias = "to", skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// Which source heard it (the journal's; a request to the hook is told its source by
    /// how it came, never by its body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<EventSource>,
    /// The hook's token, when a phone cannot send a header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Which way the call goes (`incoming` or `outgoing`), when the source knows it with
    /// every event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// The far end's name (a SIP display name), shown beside the number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// Why an unanswered call ended: `cancelled` (the caller gave up), `rejected`, `dnd`, or
    /// the source's own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The most characters kept of a name or a reason an event carries.
pub const EVENT_WORDS_CHARS: usize = 100;

/// Text an event carries for people: one line, trimmed, at most [`EVENT_WORDS_CHARS`].
pub fn words(text: Option<&str>) -> Option<String> {
    let line: String = text?
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(EVENT_WORDS_CHARS)
        .collect();
    let line = line.trim();
    (!line.is_empty()).then(|| line.to_owned())
}

impl CallEventWire {
    /// Checks the fields into an event from `source` (numbers as sent: a SIP URI's user
    /// part is the caller of `number_in`'s choosing).
    pub fn into_event(self, source: EventSource) -> Result<CallEvent, EventError> {
        let direction = match self.direction.as_deref().map(str::trim) {
            None | Some("") => Direction::Unknown,
            Some(d) if d.eq_ignore_ascii_case("incoming") || d.eq_ignore_ascii_case("in") => {
                Direction::Incoming
            }
            Some(d) if d.eq_ignore_ascii_case("outgoing") || d.eq_ignore_ascii_case("out") => {
                Direction::Outgoing
            }
            Some(other) => return Err(EventError::Direction(other.to_owned())),
        };
        let mut event = CallEvent::parse(
            &self.event,
            &self.number,
            self.call_id.as_deref(),
            self.internal.as_deref(),
            self.line.as_deref(),
            source,
        )?;
        event.direction = direction;
        event.display = words(self.display.as_deref());
        event.reason = words(self.reason.as_deref());
        Ok(event)
    }

    /// The event as it is kept in the journal (with its source).
    pub fn kept(event: &CallEvent) -> Self {
        Self {
            source: Some(event.source.clone()),
            ..Self::from(event)
        }
    }

    /// A kept event read back; an event kept without a source was a command hook's.
    pub fn into_kept(self) -> Result<CallEvent, EventError> {
        let source = self.source.clone().unwrap_or(EventSource::Command);
        self.into_event(source)
    }
}

impl From<&CallEvent> for CallEventWire {
    fn from(event: &CallEvent) -> Self {
        Self {
            event: event.kind.as_str().to_owned(),
            number: event.number.as_str().to_owned(),
            call_id: event.call_id.clone(),
            internal: event.internal.as_ref().map(|n| n.as_str().to_owned()),
            line: event.line.as_ref().map(|n| n.as_str().to_owned()),
            direction: match event.direction {
                Direction::Incoming => Some("incoming".to_owned()),
                Direction::Outgoing => Some("outgoing".to_owned()),
                Direction::Unknown => None,
            },
            display: event.display.clone(),
            reason: event.reason.clone(),
            ..Self::default()
        }
    }
}

impl CallEvent {
    /// Checks raw fields into an event.
    pub fn parse(
        kind: &str,
        number: &str,
        call_id: Option<&str>,
        internal: Option<&str>,
        line: Option<&str>,
        source: impl Into<EventSource>,
    ) -> Result<Self, EventError> {
        let kind =
            EventKind::parse(kind).ok_or_else(|| EventError::UnknownKind(kind.to_owned()))?;
        let number = PhoneNumber::parse_extension(number).map_err(EventError::Number)?;
        let blank = |s: &&str| !s.trim().is_empty();
        let internal = internal
            .filter(blank)
            .map(PhoneNumber::parse_extension)
            .transpose()
            .map_err(EventError::Internal)?;
        let line = line
            .filter(blank)
            .map(PhoneNumber::parse_extension)
            .transpose()
            .map_err(EventError::Line)?;
        let call_id = call_id
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        if call_id
            .as_ref()
            .is_some_and(|c| c.chars().count() > super::MAX_VALUE_CHARS)
        {
            return Err(EventError::CallId);
        }
        Ok(Self {
            kind,
            number,
            call_id,
            internal,
            line,
            source: source.into(),
            direction: Direction::Unknown,
            display: None,
            reason: None,
        })
    }

    /// The event with its far party's and line's numbers in the one normalised form
    /// (E.164 with the default country), so the same call lands in the same task whichever
    /// way it arrives. Internal numbers are extensions and stay as they are.
    #[must_use]
    pub fn normalised(mut self, country: Option<Country>) -> Self {
        self.number = self.number.normalised(country);
        self.line = self.line.map(|line| line.normalised(country));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::{CallEvent, EventError, EventKind};

    #[test]
    fn names_as_sources_spell_them() {
        assert_eq!(EventKind::parse("RING"), Some(EventKind::Ring));
        assert_eq!(EventKind::parse("established"), Some(EventKind::Answer));
        assert_eq!(EventKind::parse("hangup"), Some(EventKind::End));
        assert_eq!(EventKind::parse("dial"), Some(EventKind::Outgoing));
        assert_eq!(EventKind::parse("explode"), None);
    }

    #[test]
    fn checks_every_field() {
        let e = CallEvent::parse(
            "ring",
            "+7 977 422-13-38",
            Some(" c1 "),
            Some("200"),
            None,
            "http",
        )
        .unwrap();
        assert_eq!(e.number.as_str(), "+79774221338");
        assert_eq!(e.call_id.as_deref(), Some("c1"));
        assert!(matches!(
            CallEvent::parse("ring", "abc", None, None, None, "x"),
            Err(EventError::Number(_))
        ));
        assert!(matches!(
            CallEvent::parse("boom", "123", None, None, None, "x"),
            Err(EventError::UnknownKind(_))
        ));
        let long = "x".repeat(301);
        assert_eq!(
            CallEvent::parse("end", "123", Some(&long), None, None, "x"),
            Err(EventError::CallId)
        );
    }
}
