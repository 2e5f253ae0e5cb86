//! How the sandbox answers like Pyrus: an error reply (`error_code` and `error`), a request's
//! JSON body read, and the Bearer token checked.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::state::TokenCheck;
use super::{Shared, lock};

/// A Pyrus error reply.
pub(super) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    pub(super) fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error_code": self.code, "error": self.message });
        (self.status, axum::Json(body)).into_response()
    }
}

pub(super) fn parse_json(body: &Bytes) -> Result<serde_json::Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad("empty_body", "Request body is empty."));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad(
            "invalid_json",
            "Request body must be a JSON object.",
        )),
        Err(_) => Err(ApiError::bad(
            "invalid_json",
            "Request body is not valid JSON.",
        )),
    }
}

/// Checks the request's Bearer token, as Pyrus does before anything else.
pub(super) fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let unauthorized = |code, msg: &str| ApiError::new(StatusCode::UNAUTHORIZED, code, msg);
    match lock(shared).check_token(token) {
        TokenCheck::Ok => Ok(()),
        TokenCheck::Missing => Err(unauthorized(
            "token_not_specified",
            "Access token is not specified.",
        )),
        TokenCheck::Invalid => Err(unauthorized("invalid_token", "Access token is invalid.")),
        TokenCheck::Expired => Err(unauthorized("expired_token", "Access token has expired.")),
        TokenCheck::Revoked => Err(unauthorized(
            "revoked_token",
            "Authorization token has been revoked.",
        )),
    }
}
