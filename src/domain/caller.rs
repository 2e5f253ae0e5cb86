//! Who is calling: a customer's Pyrus task as the local index keeps it, the card made of a
//! caller's tasks, how far the index is, and how a phone stored by a person becomes the
//! index's key (the same E.164 rules as calls).

use serde::{Deserialize, Serialize};

use super::phone::{Country, PhoneNumber};

/// A customer's task, as the index keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerTask {
    /// The task.
    pub task_id: u64,
    /// Its form.
    pub form_id: u64,
    /// Its title.
    pub subject: String,
    /// The step it is on, by name when the form names it.
    pub step: Option<String>,
    /// Closed.
    pub closed: bool,
    /// The responsible person.
    pub responsible: Option<String>,
    /// When it last changed (ISO 8601 UTC).
    pub modified: String,
}

/// How far the index of one form is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FormIndex {
    /// Never read yet, or its first reading is under way.
    Syncing {
        /// The form.
        form_id: u64,
    },
    /// Read; fresh as of `as_of_ms`.
    Ready {
        /// The form.
        form_id: u64,
        /// When it was last read to the end (Unix milliseconds).
        as_of_ms: i64,
    },
    /// Pyrus refused the bot this form (`access_denied_form` and the like).
    Denied {
        /// The form.
        form_id: u64,
        /// Pyrus's error code.
        code: String,
    },
    /// The last reading failed for another reason (Pyrus down, no key…); what is kept is
    /// still shown.
    Failed {
        /// The form.
        form_id: u64,
        /// The error code.
        code: String,
        /// When it was last read to the end, if ever.
        as_of_ms: Option<i64>,
    },
}

impl FormIndex {
    /// The form it is about.
    pub fn form_id(&self) -> u64 {
        match self {
            Self::Syncing { form_id }
            | Self::Ready { form_id, .. }
            | Self::Denied { form_id, .. }
            | Self::Failed { form_id, .. } => *form_id,
        }
    }

    /// When the form was last read to the end.
    pub fn as_of_ms(&self) -> Option<i64> {
        match self {
            Self::Ready { as_of_ms, .. } => Some(*as_of_ms),
            Self::Failed { as_of_ms, .. } => *as_of_ms,
            Self::Syncing { .. } | Self::Denied { .. } => None,
        }
    }
}

/// What the index knows of a caller: their open tasks and their closed ones, newest first,
/// and how far each form's index is (empty when no form is set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerCard {
    /// The number looked up, normalised.
    pub number: String,
    /// Open tasks, newest change first.
    pub open: Vec<CallerTask>,
    /// Closed tasks, newest change first.
    pub closed: Vec<CallerTask>,
    /// Each form's index.
    pub forms: Vec<FormIndex>,
}

impl CallerCard {
    /// The same card without the task `task_id` (a call's own task, shown beside it
    /// already).
    #[must_use]
    pub fn without(mut self, task_id: Option<u64>) -> Self {
        if let Some(id) = task_id {
            self.open.retain(|t| t.task_id != id);
            self.closed.retain(|t| t.task_id != id);
        }
        self
    }

    /// The oldest "fresh as of" among the forms read (what the card may claim).
    pub fn as_of_ms(&self) -> Option<i64> {
        self.forms.iter().filter_map(FormIndex::as_of_ms).min()
    }
}

/// The index's key for a phone as a person stored it (`+7 916 123-45-67`, `8 (916)
/// 765-43-21`, `tel. +7 916…`): its digits (and a leading `+`), normalised as calls are —
/// E.164 when valid with its own code or in `country`. `None` when it holds no number.
pub fn index_key(stored: &str, country: Option<Country>) -> Option<String> {
    let from_plus = stored.find('+').filter(|at| {
        // A `+` counts only before the first digit.
        !stored[..*at].chars().any(|c| c.is_ascii_digit())
    });
    let mut text: String = stored
        .chars()
        .filter(char::is_ascii_digit)
        .take(16)
        .collect();
    if from_plus.is_some() {
        text.insert(0, '+');
    }
    PhoneNumber::parse_in(&text, country)
        .ok()
        .map(|n| n.as_str().to_owned())
}

/// The forms the index may keep `number` in, made by rule — without the numbering tables,
/// which take longer to load than a ringing call may wait: with a `+` before its digits, as
/// it is, and for the +7 plan (`country` RU or KZ) a national `8…`, `7…` or ten-digit number
/// in E.164.
pub fn quick_keys(number: &str, country: Option<&str>) -> Vec<String> {
    let plus = number.trim_start().starts_with('+');
    let digits: String = number
        .chars()
        .filter(char::is_ascii_digit)
        .take(16)
        .collect();
    if digits.is_empty() {
        return Vec::new();
    }
    let mut keys = vec![format!("+{digits}")];
    if !plus {
        keys.push(digits.clone());
        if matches!(country, Some("RU" | "KZ")) {
            match digits.len() {
                11 if digits.starts_with('8') || digits.starts_with('7') => {
                    keys.push(format!("+7{}", &digits[1..]));
                }
                10 => keys.push(format!("+7{digits}")),
                _ => {}
            }
        }
    }
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::{index_key, quick_keys};

    #[test]
    fn quick_keys_meet_the_index_without_the_tables() {
        assert_eq!(quick_keys("+79161234567", Some("RU")), ["+79161234567"]);
        assert!(quick_keys("89161234567", Some("RU")).contains(&"+79161234567".to_owned()));
        assert!(quick_keys("9161234567", Some("RU")).contains(&"+79161234567".to_owned()));
        assert!(quick_keys("79161234567", None).contains(&"+79161234567".to_owned()));
        assert_eq!(quick_keys("200", None), ["+200", "200"]);
        assert!(quick_keys("anonymous", None).is_empty());
    }
    use crate::domain::Country;

    #[test]
    fn numbers_stored_as_typed_meet_the_calls_numbers() {
        let ru = Some(Country::parse("RU").unwrap());
        for (stored, key) in [
            ("+7 916 123-45-67", "+79161234567"),
            ("8 (916) 765-43-21", "+79167654321"),
            ("+79161112233", "+79161112233"),
            ("tel. +7 (916) 123 45 67, mobile", "+79161234567"),
            ("200", "200"),
        ] {
            assert_eq!(index_key(stored, ru).as_deref(), Some(key), "{stored}");
        }
        assert_eq!(index_key("no phone", ru), None);
        assert_eq!(
            index_key("8 (916) 765-43-21", None).as_deref(),
            Some("89167654321"),
            "without a country a national number stays as typed"
        );
    }
}
