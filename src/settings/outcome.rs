//! `[outcome]`: the form fields a call's outcome fills by itself. When any code is set, the
//! outcome goes to the call's task as values of those fields (a second registration of the
//! same call); when none is, as a short comment.

use serde::{Deserialize, Serialize};

/// The codes of the form's fields that take a call's outcome; unset ones are left alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct OutcomeSettings {
    /// A choice (or text) field: answered, missed or not answered, in [`OutcomeWords`].
    pub result: Option<String>,
    /// A choice (or text) field: incoming or outgoing.
    pub direction: Option<String>,
    /// When the call started ringing or was dialled (ISO 8601, UTC).
    pub started: Option<String>,
    /// When it was answered (ISO 8601, UTC; left alone when it was not).
    pub answered: Option<String>,
    /// When it ended (ISO 8601, UTC).
    pub ended: Option<String>,
    /// A number field: the talk in whole seconds (0 when not answered).
    pub talk_seconds: Option<String>,
    /// The agent's internal number (extension) the call was heard on, when known.
    pub internal: Option<String>,
    /// The words the choice fields take, as the form spells its choices.
    pub words: OutcomeWords,
}

impl OutcomeSettings {
    /// True when at least one field code is set: the outcome goes as field values.
    pub fn as_fields(&self) -> bool {
        [
            &self.result,
            &self.direction,
            &self.started,
            &self.answered,
            &self.ended,
            &self.talk_seconds,
            &self.internal,
        ]
        .iter()
        .any(|code| code.as_deref().is_some_and(|c| !c.trim().is_empty()))
    }
}

/// How a call's result and direction are spelled for the form's choice fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutcomeWords {
    /// An answered call.
    pub answered: String,
    /// An incoming call nobody answered.
    pub missed: String,
    /// An outgoing call the other side did not answer.
    pub not_answered: String,
    /// A call to the agent.
    pub incoming: String,
    /// A call the agent made.
    pub outgoing: String,
}

impl Default for OutcomeWords {
    fn default() -> Self {
        Self {
            answered: "Answered".to_owned(),
            missed: "Missed".to_owned(),
            not_answered: "Not answered".to_owned(),
            incoming: "Incoming".to_owned(),
            outgoing: "Outgoing".to_owned(),
        }
    }
}
