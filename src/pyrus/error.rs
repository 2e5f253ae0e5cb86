//! Everything that can go wrong talking to Pyrus, classified so callers never parse strings.

use std::time::Duration;

/// How the outbox should treat an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Try again later (network, timeout, 5xx, 429).
    Retryable,
    /// Nothing will work until the login, security key or account id is fixed.
    NeedsCredentials,
    /// Pyrus refused this request for good; retrying the same request cannot help.
    Permanent,
}

/// A failed exchange with Pyrus.
#[derive(Debug, thiserror::Error)]
pub enum PyrusError {
    /// Pyrus answered with an `error_code`.
    #[error(
        "Pyrus refused the request ({code}, HTTP {status}): {}",
        advice(code, message)
    )]
    Api {
        /// HTTP status.
        status: u16,
        /// The stable `error_code`.
        code: String,
        /// The (possibly localized) `error` text.
        message: String,
        /// How long Pyrus asked us to wait, from `Retry-After` or `X-RateLimit-Reset`.
        retry_after: Option<Duration>,
    },
    /// A reply that is not a Pyrus error body (HTML, `{"Message":…}`, garbage).
    #[error("unexpected response from Pyrus (HTTP {status}); {}", unexpected_advice(*status))]
    Unexpected {
        /// HTTP status.
        status: u16,
        /// How long to wait, when the server said.
        retry_after: Option<Duration>,
    },
    /// A success reply whose body is not what the API documents (a field missing, a wrong
    /// type): serde's words say which.
    #[error(
        "Pyrus answered (HTTP {status}) with a reply pyrus-phone cannot read ({reason}); check that the auth URL points at Pyrus, and report this with the log file"
    )]
    Unreadable {
        /// HTTP status.
        status: u16,
        /// What serde could not read, and where.
        reason: String,
    },
    /// Could not connect, or the connection broke.
    #[error(
        "Pyrus is not reachable ({reason}); the work is kept and retried — check the network or the auth URL"
    )]
    Network {
        /// What failed, without URLs or secrets.
        reason: String,
    },
    /// No answer in time.
    #[error("Pyrus did not answer in time; the work is kept and retried")]
    Timeout,
    /// The recording changed while it was being sent (it is still being written).
    #[error(
        "the recording changed while it was being sent (still being written?); it is sent again once it stops changing"
    )]
    FileChanged,
    /// The upload was cancelled by the agent.
    #[error("the upload was cancelled")]
    Cancelled,
    /// The local recording could not be read.
    #[error("cannot read the recording: {reason} — {path}")]
    File {
        /// What went wrong.
        reason: String,
        /// Which file (last, as sensitive data goes last).
        path: String,
    },
    /// The recording on disk cannot be sent as it is now (checked again at send time):
    /// `code` says why (`file_replaced`, `not_a_file`, `file_not_ready`, …).
    #[error("{message}")]
    Recording {
        /// The stable code.
        code: &'static str,
        /// What is wrong and what to do, the path last.
        message: String,
        /// Whether it may come right by itself (a folder that does not answer yet).
        retryable: bool,
    },
    /// The server answered with a redirect: never followed, so credentials and recordings go
    /// only where the settings say.
    #[error(
        "the server at the configured address answered HTTP {status} with a redirect to {to}; pyrus-phone never follows redirects, so the login and key go only to the auth URL in the settings — check that URL (Pyrus's own is https://accounts.pyrus.com/api/v4/auth)"
    )]
    Redirected {
        /// HTTP status.
        status: u16,
        /// Where it pointed: scheme, host and port only.
        to: String,
    },
    /// The API (not the login) answered with a redirect: a server problem, not a
    /// credentials one — nothing was sent to where it pointed.
    #[error(
        "the Pyrus API at {api} answered HTTP {status} with a redirect to {to}; pyrus-phone never follows redirects, so nothing went there — the work is kept and retried; if this goes on, the server's address or a proxy in between is wrong"
    )]
    ApiRedirected {
        /// HTTP status.
        status: u16,
        /// The API's address (scheme, host and port).
        api: String,
        /// Where it pointed: scheme, host and port only.
        to: String,
    },
    /// A comment's field update names no field of the form, or a choice the field does not
    /// have (`code`): corrected by the agent, never sent as it is.
    #[error("{message}")]
    Fields {
        /// The stable code (`unknown_field`, `unknown_choice`).
        code: &'static str,
        /// Which field and value, and what the form has instead.
        message: String,
    },
    /// A URL that would send credentials in clear text, or that does not parse.
    #[error("refusing to use {what} {url}: {reason}")]
    BadUrl {
        /// Which address (the auth URL, the web address, …).
        what: &'static str,
        /// Why.
        reason: &'static str,
        /// The URL (no secrets in it).
        url: String,
    },
}

impl PyrusError {
    /// Classifies the error for the outbox.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Api { status, code, .. } => classify_code(*status, code),
            Self::Unexpected { status, .. } => {
                if *status >= 500 || *status == 429 || *status == 408 {
                    ErrorClass::Retryable
                } else if *status == 401 {
                    ErrorClass::NeedsCredentials
                } else {
                    ErrorClass::Permanent
                }
            }
            Self::Network { .. }
            | Self::Timeout
            | Self::FileChanged
            | Self::ApiRedirected { .. } => ErrorClass::Retryable,
            Self::Recording { retryable, .. } => {
                if *retryable {
                    ErrorClass::Retryable
                } else {
                    ErrorClass::Permanent
                }
            }
            Self::Cancelled | Self::File { .. } | Self::Unreadable { .. } | Self::Fields { .. } => {
                ErrorClass::Permanent
            }
            Self::BadUrl { .. } | Self::Redirected { .. } => ErrorClass::NeedsCredentials,
        }
    }

    /// The stable code to store and show: Pyrus's `error_code`, or one of ours.
    pub fn code(&self) -> &str {
        match self {
            Self::Api { code, .. } => code,
            Self::Unexpected { .. } | Self::Unreadable { .. } => "unexpected_response",
            Self::Network { .. } => "network",
            Self::Timeout => "timeout",
            Self::Cancelled => "cancelled",
            Self::FileChanged => "file_changed",
            Self::File { .. } => "file_unreadable",
            Self::Recording { code, .. } | Self::Fields { code, .. } => code,
            Self::BadUrl { .. } => "bad_url",
            Self::Redirected { .. } => "redirect_refused",
            Self::ApiRedirected { .. } => "server_error",
        }
    }

    /// How long the server asked us to wait before trying again.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api { retry_after, .. } | Self::Unexpected { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// True for the 401 token codes that a fresh login cures.
    pub fn is_token_problem(&self) -> bool {
        matches!(self, Self::Api { code, .. } if is_token_code(code))
    }
}

/// The 401 codes that mean "log in again", as opposed to wrong credentials.
pub fn is_token_code(code: &str) -> bool {
    matches!(
        code,
        "expired_token" | "revoked_token" | "invalid_token" | "token_not_specified"
    )
}

fn classify_code(status: u16, code: &str) -> ErrorClass {
    match code {
        "server_error" | "too_many_requests" => ErrorClass::Retryable,
        "invalid_credentials"
        | "authorization_error"
        | "account_blocked"
        | "invalid_application_id"
        | "unrecognized_account_id"
        | "access_denied"
        | "access_denied_form"
        | "access_denied_task"
        | "access_denied_file" => ErrorClass::NeedsCredentials,
        c if is_token_code(c) => ErrorClass::NeedsCredentials,
        _ if status >= 500 || status == 429 => ErrorClass::Retryable,
        _ if status == 401 || status == 403 => ErrorClass::NeedsCredentials,
        _ => ErrorClass::Permanent,
    }
}

fn unexpected_advice(status: u16) -> &'static str {
    if status >= 500 {
        "the server had a problem; the work is kept and retried"
    } else if status == 404 {
        "check the auth URL (it must be the full /auth endpoint) and the server's address"
    } else {
        "check the auth URL and that it points at Pyrus"
    }
}

/// What the agent should do about an `error_code`, in words.
pub fn advice(code: &str, message: &str) -> String {
    let text = match code {
        "invalid_credentials" => "check the login and the security key (run `pyrus-phone login`)",
        "authorization_error" => "authorization failed: check the login and the security key",
        "account_blocked" => "the Pyrus account is blocked: ask your Pyrus administrator",
        "invalid_application_id" => "the application id is not valid: check the login settings",
        "expired_token" | "revoked_token" | "invalid_token" | "token_not_specified" => {
            "the session ended and logging in again did not help: check the login and security key"
        }
        "access_denied" | "access_denied_form" | "access_denied_task" | "access_denied_file" => {
            "this login has no access: give the bot access to the form the telephony extension is connected to"
        }
        "unrecognized_account_id" => {
            "the account id is not known: copy it from the API telephony extension settings in Pyrus"
        }
        "required_parameter_missing" | "required_parameters_not_specified" => {
            "the request lacks a call identifier or a required field: give a task id, an external id, or both numbers"
        }
        "validation_error" | "invalid_json" | "empty_body" | "invalid_request" => {
            "Pyrus could not read the request: report this with the log file"
        }
        "invalid_field_mapping_code" => {
            "a mapping uses a field code the form does not have: check the codes in the form editor"
        }
        "unsupported_record_file_format" => "the recording must be ac3, mp3, ogg, wav or wma",
        "unrecognized_call_id" => {
            "Pyrus knows no call with that external id or those numbers: register the call first"
        }
        "unrecognized_task_id" => {
            "there is no such task, or this login cannot see it: check the task id"
        }
        "unrecognized_attachment_id" => "the uploaded file has expired: attach the recording again",
        "text_field_value_limit_exceeded" | "max_text_length_exceeded" => {
            "a value is too long: keep each mapping value to 300 characters"
        }
        "invalid_value_format" => {
            "a mapping value does not fit its field (date, number or choice): fix the value"
        }
        "empty_file" => "the recording is empty: pick the real recording file",
        "bad_multipart_content" | "no_file_in_request" => {
            "the upload was malformed: attach the recording again"
        }
        "too_large_request_length" | "attachment_too_big" => {
            "the recording is larger than Pyrus accepts (2 GB)"
        }
        "too_many_requests" => "too many requests: the work is kept and sent when Pyrus allows",
        "server_error" => "Pyrus had an internal error: the work is kept and retried",
        _ => "",
    };
    // Where Pyrus names the field or value it refused, its own words say which.
    let names_the_field = matches!(
        code,
        "invalid_field_mapping_code"
            | "invalid_value_format"
            | "text_field_value_limit_exceeded"
            | "max_text_length_exceeded"
    );
    if text.is_empty() {
        format!("{message} (code not known to pyrus-phone)")
    } else if names_the_field && !message.trim().is_empty() {
        format!("{text} (Pyrus: {})", message.trim())
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {

    use super::{ErrorClass, PyrusError};

    #[test]
    fn the_clients_own_codes_are_known_to_the_window() {
        for error in [
            PyrusError::Timeout,
            PyrusError::Cancelled,
            PyrusError::FileChanged,
            PyrusError::Unexpected {
                status: 502,
                retry_after: None,
            },
            PyrusError::Network { reason: "x".into() },
            PyrusError::Unreadable {
                status: 200,
                reason: "x".into(),
            },
            PyrusError::File {
                reason: "x".into(),
                path: "x".into(),
            },
        ] {
            assert!(
                crate::domain::codes::ALL.contains(&error.code()),
                "{}",
                error.code()
            );
        }
    }

    fn api(status: u16, code: &str) -> PyrusError {
        PyrusError::Api {
            status,
            code: code.into(),
            message: "localized text".into(),
            retry_after: None,
        }
    }

    #[test]
    fn classification_follows_the_code_not_the_text() {
        assert_eq!(api(500, "server_error").class(), ErrorClass::Retryable);
        assert_eq!(api(429, "too_many_requests").class(), ErrorClass::Retryable);
        assert_eq!(
            api(401, "invalid_credentials").class(),
            ErrorClass::NeedsCredentials
        );
        assert_eq!(
            api(401, "expired_token").class(),
            ErrorClass::NeedsCredentials
        );
        assert_eq!(api(400, "empty_file").class(), ErrorClass::Permanent);
        assert_eq!(api(400, "some_new_code").class(), ErrorClass::Permanent);
        assert_eq!(api(503, "some_new_code").class(), ErrorClass::Retryable);
        assert_eq!(PyrusError::Timeout.class(), ErrorClass::Retryable);
        assert_eq!(
            PyrusError::Unexpected {
                status: 502,
                retry_after: None
            }
            .class(),
            ErrorClass::Retryable
        );
    }

    #[test]
    fn every_documented_code_has_advice() {
        for code in [
            "invalid_credentials",
            "expired_token",
            "revoked_token",
            "invalid_token",
            "token_not_specified",
            "authorization_error",
            "account_blocked",
            "invalid_application_id",
            "access_denied",
            "unrecognized_account_id",
            "required_parameter_missing",
            "required_parameters_not_specified",
            "validation_error",
            "invalid_json",
            "empty_body",
            "invalid_field_mapping_code",
            "unsupported_record_file_format",
            "unrecognized_call_id",
            "unrecognized_task_id",
            "unrecognized_attachment_id",
            "text_field_value_limit_exceeded",
            "max_text_length_exceeded",
            "invalid_value_format",
            "empty_file",
            "bad_multipart_content",
            "no_file_in_request",
            "too_large_request_length",
            "attachment_too_big",
            "too_many_requests",
            "server_error",
        ] {
            let text = super::advice(code, "x");
            assert!(
                !text.contains("code not known to pyrus-phone"),
                "{code} has no advice"
            );
        }
        assert!(api(400, "brand_new").to_string().contains("localized text"));
    }
}
