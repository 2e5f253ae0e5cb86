//! A call to register, the recording to attach, and the checks both pass before anything is sent.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::phone::{Country, PhoneError, PhoneNumber};

/// Pyrus accepts at most this many characters in a mapping value (and in other string fields).
pub const MAX_VALUE_CHARS: usize = 300;

/// Audio file extensions Pyrus accepts for a call recording.
pub const AUDIO_EXTENSIONS: [&str; 5] = ["ac3", "mp3", "ogg", "wav", "wma"];

/// The largest file `/files/upload` accepts (2 GiB).
pub const MAX_UPLOAD_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Bad input from the agent or a softphone. The message names the problem and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A number field does not hold a phone number.
    #[error("{field}: {source}")]
    Phone {
        /// Which field ("from", "to", "internal").
        field: &'static str,
        /// What is wrong with it.
        source: PhoneError,
    },
    /// `--map` text without `=`.
    #[error("mapping '{0}' has no '=': write it as CODE=VALUE, e.g. Subject=Consultation")]
    MappingWithoutEquals(String),
    /// A mapping with an empty field code.
    #[error("a mapping has an empty field code: write it as CODE=VALUE")]
    EmptyMappingCode,
    /// A value longer than Pyrus accepts.
    #[error("{what} is {len} characters long: Pyrus accepts at most {MAX_VALUE_CHARS}; shorten it")]
    TooLong {
        /// What is too long.
        what: LongField,
        /// Its length in characters.
        len: usize,
    },
    /// An empty external id.
    #[error("the external id is empty: give the call's id from the softphone, or leave it out")]
    EmptyExternalId,
    /// A control character, or one that reorders or hides text (U+202E and its kind).
    #[error("{what} holds a hidden character (U+{code:04X}): type it again without it")]
    HiddenCharacter {
        /// Where it is.
        what: LongField,
        /// The character's code point.
        code: u32,
    },
    /// A recording whose extension Pyrus will not attach.
    #[error("'{name}' is not an audio file Pyrus attaches: use one of ac3, mp3, ogg, wav, wma")]
    UnsupportedAudio {
        /// The file name.
        name: String,
    },
}

/// Which text was too long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LongField {
    /// The external id.
    ExternalId,
    /// A mapping's field code.
    MappingCode,
    /// The value of the mapping with this code.
    MappingValue(String),
}

impl fmt::Display for LongField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ExternalId => f.write_str("the external id"),
            Self::MappingCode => f.write_str("a mapping code"),
            Self::MappingValue(code) => write!(f, "the value of mapping {code}"),
        }
    }
}

/// The call's id in the calling system, sent as the Pyrus `external_id`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExternalId(String);

impl ExternalId {
    /// Checks an id given by a softphone or the agent.
    pub fn parse(text: &str) -> Result<Self, InputError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(InputError::EmptyExternalId);
        }
        check_len(LongField::ExternalId, text)?;
        Ok(Self(text.to_owned()))
    }

    /// The id as sent to Pyrus.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An id of its own for a call whose source reused this id (heard at `heard_at_ms`):
    /// the same for the same event, different from the old call's, never too long.
    #[must_use]
    pub fn reused_at(&self, heard_at_ms: i64) -> Self {
        let suffix = format!("@{heard_at_ms}");
        let keep = MAX_VALUE_CHARS.saturating_sub(suffix.chars().count());
        let mut id: String = self.0.chars().take(keep).collect();
        id.push_str(&suffix);
        Self(id)
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExternalId({})", self.0)
    }
}

fn check_len(what: LongField, value: &str) -> Result<(), InputError> {
    let len = value.chars().count();
    if len > MAX_VALUE_CHARS {
        return Err(InputError::TooLong { what, len });
    }
    // A line break or a tab may be part of a value; nothing else that hides or reorders.
    let multiline = matches!(what, LongField::MappingValue(_));
    if let Some(c) = value
        .chars()
        .find(|c| hidden(*c) && !(multiline && matches!(c, '\n' | '\t')))
    {
        return Err(InputError::HiddenCharacter {
            what,
            code: u32::from(c),
        });
    }
    Ok(())
}

/// A control character, or a format character that reorders or hides text.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// One mapping: a Pyrus form field code and the value to put in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// The form field's code.
    pub code: String,
    /// The value, at most [`MAX_VALUE_CHARS`] characters.
    pub value: String,
}

impl Mapping {
    /// Checks a code and value pair.
    pub fn new(code: &str, value: &str) -> Result<Self, InputError> {
        let code = code.trim();
        if code.is_empty() {
            return Err(InputError::EmptyMappingCode);
        }
        check_len(LongField::MappingCode, code)?;
        check_len(LongField::MappingValue(code.to_owned()), value)?;
        Ok(Self {
            code: code.to_owned(),
            value: value.to_owned(),
        })
    }

    /// Parses `CODE=VALUE` as written on the command line.
    pub fn parse_assignment(text: &str) -> Result<Self, InputError> {
        let Some((code, value)) = text.split_once('=') else {
            return Err(InputError::MappingWithoutEquals(text.to_owned()));
        };
        Self::new(code, value)
    }
}

/// A call as the agent or a softphone reported it, checked and ready to register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRequest {
    /// Caller.
    pub from: PhoneNumber,
    /// Callee.
    pub to: PhoneNumber,
    /// The operator's extension, matched by Pyrus against users' Work phone.
    pub internal: Option<PhoneNumber>,
    /// The call's id; generated by the outbox when the source gave none.
    pub external_id: Option<ExternalId>,
    /// Form fields to fill.
    pub mappings: Vec<Mapping>,
    /// Which way the call went, when the source said.
    #[serde(default)]
    pub direction: Direction,
}

/// Which way a call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The source did not say.
    #[default]
    Unknown,
    /// A client called the agent.
    Incoming,
    /// The agent called a client.
    Outgoing,
}

impl CallRequest {
    /// Validates raw text fields into a call; numbers with a `+` country code are written
    /// in E.164.
    pub fn parse(
        from: &str,
        to: &str,
        internal: Option<&str>,
        external_id: Option<&str>,
        mappings: Vec<Mapping>,
    ) -> Result<Self, InputError> {
        Self::parse_in(from, to, internal, external_id, mappings, None)
    }

    /// Validates raw text fields into a call; numbers typed without a country code are
    /// read in `country` and written in E.164 when they are valid there.
    pub fn parse_in(
        from: &str,
        to: &str,
        internal: Option<&str>,
        external_id: Option<&str>,
        mappings: Vec<Mapping>,
        country: Option<Country>,
    ) -> Result<Self, InputError> {
        let from = PhoneNumber::parse_in(from, country).map_err(|source| InputError::Phone {
            field: "from",
            source,
        })?;
        let to = PhoneNumber::parse_in(to, country).map_err(|source| InputError::Phone {
            field: "to",
            source,
        })?;
        let internal = internal
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                PhoneNumber::parse_extension(s).map_err(|source| InputError::Phone {
                    field: "internal",
                    source,
                })
            })
            .transpose()?;
        let external_id = external_id.map(ExternalId::parse).transpose()?;
        Ok(Self {
            from,
            to,
            internal,
            external_id,
            mappings,
            direction: Direction::Unknown,
        })
    }
}

/// Which call a recording belongs to, most specific first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachTarget {
    /// A registered task (and the call's external id when known).
    Task {
        /// The task id from registration.
        task_id: u64,
        /// The call's external id, sent along when known.
        external_id: Option<ExternalId>,
    },
    /// A call known to Pyrus by its external id.
    ExternalId(ExternalId),
    /// A call known only by its two numbers.
    Numbers {
        /// Caller.
        from: PhoneNumber,
        /// Callee.
        to: PhoneNumber,
    },
}

impl AttachTarget {
    /// The task, when the target names one.
    pub fn task_id(&self) -> Option<u64> {
        match self {
            Self::Task { task_id, .. } => Some(*task_id),
            Self::ExternalId(_) | Self::Numbers { .. } => None,
        }
    }

    /// The call's external id, when the target carries one.
    pub fn external_id(&self) -> Option<&ExternalId> {
        match self {
            Self::Task { external_id, .. } => external_id.as_ref(),
            Self::ExternalId(id) => Some(id),
            Self::Numbers { .. } => None,
        }
    }
}

impl fmt::Display for AttachTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Task { task_id, .. } => write!(f, "task {task_id}"),
            Self::ExternalId(id) => write!(f, "call {id}"),
            Self::Numbers { from, to } => write!(f, "call {from} → {to}"),
        }
    }
}

/// A field of the Pyrus form that mappings can fill: what the mapping editor offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormFieldInfo {
    /// The code mappings use.
    pub code: String,
    /// The field's name in the form.
    pub name: String,
    /// Pyrus field type (`phone`, `date`, `number`, `multiple_choice`, `text`, …).
    pub field_type: String,
    /// The live choice options of a `multiple_choice` field.
    pub options: Vec<String>,
}

/// A Pyrus user, as `integrations/call` reports the responsible person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// User id (a string in the API).
    pub user_id: String,
    /// First name.
    #[serde(default)]
    pub first_name: String,
    /// Last name.
    #[serde(default)]
    pub last_name: String,
    /// Work phone, when set.
    #[serde(default)]
    pub work_phone: Option<String>,
}

impl Person {
    /// "First Last", or the user id when both names are empty.
    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.first_name, self.last_name);
        let name = name.trim();
        if name.is_empty() {
            format!("user {}", self.user_id)
        } else {
            name.to_owned()
        }
    }
}

/// What Pyrus answered to a registered call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The task the call went to.
    pub task_id: u64,
    /// True when Pyrus made a new task; false when it commented on an existing one.
    pub is_new_task: bool,
    /// The user who became responsible, when the internal number matched one.
    pub responsible: Option<Person>,
}

/// Checks that a file name has an extension Pyrus attaches; returns the lower-case extension.
pub fn check_recording_name(name: &str) -> Result<&'static str, InputError> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    AUDIO_EXTENSIONS
        .iter()
        .copied()
        .find(|allowed| *allowed == ext)
        .ok_or_else(|| InputError::UnsupportedAudio {
            name: name.to_owned(),
        })
}

/// The media type of a recording named `name` (by its extension), for the upload's part and
/// for serving it; `application/octet-stream` for anything else.
pub fn audio_mime(name: &str) -> &'static str {
    match name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("wav") => "audio/wav",
        Some("mp3") => "audio/mpeg",
        Some("ogg") => "audio/ogg",
        Some("wma") => "audio/x-ms-wma",
        Some("ac3") => "audio/ac3",
        _ => "application/octet-stream",
    }
}

/// True when `head` (a file's first bytes) starts the way a file of the audio format `ext`
/// does: WAV (RIFF…WAVE), MP3 (an ID3 tag or an MPEG audio frame), OGG (OggS), WMA (the
/// ASF header) or AC3 (its sync word).
pub fn audio_content_matches(ext: &str, head: &[u8]) -> bool {
    const ASF: [u8; 8] = [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11];
    match ext {
        "wav" => head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WAVE",
        "mp3" => {
            head.starts_with(b"ID3")
                || (head.len() >= 2 && head[0] == 0xff && head[1] & 0xe0 == 0xe0)
        }
        "ogg" => head.starts_with(b"OggS"),
        "wma" => head.starts_with(&ASF),
        "ac3" => head.starts_with(&[0x0b, 0x77]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{CallRequest, InputError, Mapping, check_recording_name};

    #[test]
    fn mapping_assignment_needs_equals_and_a_code() {
        assert_eq!(
            Mapping::parse_assignment("Subject=Consultation=1").unwrap(),
            Mapping {
                code: "Subject".into(),
                value: "Consultation=1".into()
            }
        );
        assert!(matches!(
            Mapping::parse_assignment("Subject"),
            Err(InputError::MappingWithoutEquals(_))
        ));
        assert_eq!(
            Mapping::parse_assignment("=x"),
            Err(InputError::EmptyMappingCode)
        );
    }

    #[test]
    fn mapping_value_is_limited_to_300_characters_not_bytes() {
        let cyrillic = "я".repeat(300);
        assert!(Mapping::new("Note", &cyrillic).is_ok());
        let err = Mapping::new("Note", &"x".repeat(301)).unwrap_err();
        assert!(err.to_string().contains("301 characters"), "{err}");
    }

    #[test]
    fn call_fields_name_the_bad_field() {
        let err = CallRequest::parse("+7977", "abc", None, None, vec![]).unwrap_err();
        assert!(err.to_string().starts_with("to:"), "{err}");
        let err = CallRequest::parse("+7977", "+7495", Some("2x"), None, vec![]).unwrap_err();
        assert!(err.to_string().starts_with("internal:"), "{err}");
        let ok = CallRequest::parse("+7977", "+7495", Some(" "), Some("c-1"), vec![]).unwrap();
        assert!(ok.internal.is_none());
        assert_eq!(ok.external_id.unwrap().as_str(), "c-1");
    }

    #[test]
    fn recording_extensions() {
        assert_eq!(check_recording_name("a.WAV").unwrap(), "wav");
        assert_eq!(check_recording_name("x.y.mp3").unwrap(), "mp3");
        assert!(check_recording_name("notes.txt").is_err());
        assert!(check_recording_name("noext").is_err());
    }
}
