//! What softphones and phones report: ring, answer, end and outgoing events, each with the
//! far party's number and whatever else the source knows.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

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
}

/// One event from a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The recording the source made, when it says.
    pub recording: Option<PathBuf>,
    /// Which source said it (`http`, `command`, `baresip`, `uri`).
    pub source: String,
}

impl CallEvent {
    /// Checks raw fields into an event.
    pub fn parse(
        kind: &str,
        number: &str,
        call_id: Option<&str>,
        internal: Option<&str>,
        line: Option<&str>,
        source: &str,
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
            recording: None,
            source: source.to_owned(),
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
