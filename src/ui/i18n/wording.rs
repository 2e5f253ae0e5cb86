//! Codes, errors and counts in words: notices, Pyrus error advice, refused input and
//! plural forms, read from a language's `Texts`.

use std::borrow::Cow;

use crate::bus::{Notice, NoticeKind};
use crate::domain::{InputError, JobBrief, LongField, PhoneError};

use super::{RU, Texts, fill};

impl Texts {
    /// "N jobs waiting" with the right plural form.
    pub fn jobs(&self, n: usize) -> String {
        if n == 0 {
            return self.jobs_none.to_owned();
        }
        let form = if std::ptr::eq(self, &RU) {
            let (d10, d100) = (n % 10, n % 100);
            if d10 == 1 && d100 != 11 {
                0
            } else if (2..=4).contains(&d10) && !(12..=14).contains(&d100) {
                1
            } else {
                2
            }
        } else if n == 1 {
            0
        } else {
            2
        };
        fill(self.jobs_waiting[form], &[&n])
    }

    /// What to do about a Pyrus `error_code`, or `fallback` for codes without words here.
    pub fn advice<'a>(&self, code: Option<&str>, fallback: &'a str) -> Cow<'a, str> {
        code.and_then(|c| self.advice.iter().find(|(k, _)| *k == c))
            .map_or(Cow::Borrowed(fallback), |(_, v)| Cow::Borrowed(*v))
    }

    /// What to do about a job's last error, or its message when the code has no words here.
    pub fn job_advice<'a>(&self, job: &'a JobBrief) -> Cow<'a, str> {
        self.advice(
            job.error_code.as_deref(),
            job.error_message.as_deref().unwrap_or_default(),
        )
    }

    /// A notice from the service, in words: what happened, and why when a code says so.
    pub fn notice(&self, notice: &Notice) -> String {
        let what = match notice.kind {
            NoticeKind::CallNotStored => self.n_call_not_stored,
            NoticeKind::HeardNotStored => self.n_heard_not_stored,
            NoticeKind::JournalUnreadable => self.n_journal_unreadable,
            NoticeKind::PickupNotStored => self.n_pickup_not_stored,
            NoticeKind::ListUnreadable => self.n_list_unreadable,
            NoticeKind::OutboxFailed => self.n_outbox_failed,
            NoticeKind::Credentials => self.n_credentials,
            NoticeKind::LinkNotOpened => self.n_link_not_opened,
            NoticeKind::DialFailed => self.n_dial_failed,
            NoticeKind::RecordingNotQueued => self.n_recording_not_queued,
            NoticeKind::NotUploading => self.n_not_uploading,
            NoticeKind::JobRefused => self.n_job_refused,
            NoticeKind::NoSources => self.n_no_sources,
            NoticeKind::HookOff => self.n_hook_off,
            NoticeKind::HookPortStays => self.n_hook_port_stays,
            NoticeKind::SimulateFailed => self.n_simulate_failed,
            NoticeKind::AnswerFailed => self.n_answer_failed,
            NoticeKind::TokenNotRenewed => self.n_token_not_renewed,
            NoticeKind::AutostartFailed => self.n_autostart_failed,
            NoticeKind::OutboxOpened => self.n_outbox_opened,
            NoticeKind::TwinkleSetUp => self.n_twinkle_set_up,
            NoticeKind::TwinkleNotSetUp => self.n_twinkle_not_set_up,
        };
        match &notice.code {
            Some(code) => format!("{what}: {}", self.advice(Some(code), &notice.detail)),
            None => what.to_owned(),
        }
    }

    /// Words for a number that is not one.
    pub fn phone_error(&self, error: &PhoneError) -> String {
        match error {
            PhoneError::Empty => self.phone_empty.to_owned(),
            PhoneError::BadCharacter(c) => fill(self.phone_bad_char, &[c]),
            PhoneError::MisplacedPlus => self.phone_plus.to_owned(),
            PhoneError::TooShort { digits, min } => fill(self.phone_short, &[digits, min]),
            PhoneError::TooLong(n) => fill(self.phone_long, &[n]),
            PhoneError::UnknownCountry(code) => fill(self.unknown_country, &[code]),
        }
    }

    /// Words for bad input.
    pub fn input_error(&self, error: &InputError) -> String {
        match error {
            InputError::Phone { field, source } => {
                let name = match *field {
                    "from" => self.field_from,
                    "to" => self.field_to,
                    _ => self.field_internal,
                };
                format!("{name}: {}", self.phone_error(source))
            }
            InputError::MappingWithoutEquals(text) => fill(self.mapping_no_equals, &[text]),
            InputError::EmptyMappingCode => self.mapping_no_code.to_owned(),
            InputError::TooLong { what, len } => {
                let what = match what {
                    LongField::ExternalId => self.long_external_id.to_owned(),
                    LongField::MappingCode => self.long_mapping_code.to_owned(),
                    LongField::MappingValue(code) => fill(self.long_mapping_value, &[code]),
                };
                fill(self.too_long, &[&what, len])
            }
            InputError::EmptyExternalId => self.external_id_empty.to_owned(),
            InputError::HiddenCharacter { what, code } => {
                let what = match what {
                    LongField::ExternalId => self.long_external_id.to_owned(),
                    LongField::MappingCode => self.long_mapping_code.to_owned(),
                    LongField::MappingValue(code) => fill(self.long_mapping_value, &[code]),
                };
                fill(self.hidden_character, &[&what, &format!("{code:04X}")])
            }
            InputError::UnsupportedAudio { name } => fill(self.unsupported_audio, &[name]),
        }
    }
}
