//! The sandbox's HTTP surface: routes, the fault/rate-limit middleware and the handlers.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest as _, Multipart, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use md5::Digest as _;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt as _;

use super::reply::{ApiError, authorize, parse_json};
use super::state::{CommentSnapshot, RequestRecord, TaskSnapshot, random_guid};
use super::{Fault, FaultKind, Route, Shared, lock, page};

const MAX_VALUE_CHARS: usize = 300;
const AUDIO: [&str; 5] = ["ac3", "mp3", "ogg", "wav", "wma"];

pub(super) fn router(shared: Shared) -> Router {
    let api = Router::new()
        .route("/accounts/api/v4/auth", post(auth))
        .route("/api/v4/integrations/call", post(register_call))
        .route("/api/v4/integrations/attachcallrecord", post(attach))
        .route("/api/v4/forms/{id}", get(form))
        .route(
            "/api/v4/forms/{id}/register",
            get(super::register::register).post(super::register::register),
        )
        .route("/api/v4/tasks/{id}", get(super::register::task))
        .route(
            "/api/v4/tasks/{id}/comments",
            post(super::register::comment),
        )
        .route("/api/v4/files/upload", post(upload))
        .route("/files/v4/files/upload", post(upload))
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), gate));
    Router::new()
        .merge(api)
        .route("/", get(task_page))
        .route("/t", get(task_page))
        .route("/sandbox/files/{guid}", get(download))
        .route("/sandbox/faults", post(add_fault))
        .route("/sandbox/expire-tokens", post(expire_tokens))
        .route("/sandbox/tasks", get(tasks_json))
        .fallback(not_found)
        .with_state(shared)
}

fn route_of(path: &str) -> Option<Route> {
    if path.ends_with("/auth") {
        Some(Route::Auth)
    } else if path.ends_with("/integrations/call") {
        Some(Route::Call)
    } else if path.ends_with("/integrations/attachcallrecord") {
        Some(Route::Attach)
    } else if path.ends_with("/files/upload") {
        Some(Route::Upload)
    } else if path.ends_with("/register") {
        Some(Route::Register)
    } else if path.ends_with("/comments") {
        Some(Route::Comments)
    } else if path.contains("/tasks/") {
        Some(Route::Tasks)
    } else if path.contains("/forms/") {
        Some(Route::Forms)
    } else {
        None
    }
}

/// The request with its body read at `bytes_per_sec` at most.
fn throttled(request: Request, bytes_per_sec: u64) -> Request {
    use futures_util::StreamExt as _;
    let rate = bytes_per_sec.max(1) as f64;
    let (parts, body) = request.into_parts();
    let slow = body.into_data_stream().then(move |chunk| async move {
        if let Ok(bytes) = &chunk {
            tokio::time::sleep(Duration::from_secs_f64(bytes.len() as f64 / rate)).await;
        }
        chunk
    });
    Request::from_parts(parts, Body::from_stream(slow))
}

/// Logs each API request, fires injected faults, and applies the rate limit and its headers.
async fn gate(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let route = route_of(&path);
    let fault = route.and_then(|r| lock(&shared).take_fault(r));
    let request = match fault.map(|f| f.kind) {
        Some(FaultKind::Throttle { bytes_per_sec }) => throttled(request, bytes_per_sec),
        _ => request,
    };
    let mut response = match fault.map(|f| f.kind) {
        Some(FaultKind::ServerError) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Injected server error.",
        )
        .into_response(),
        Some(FaultKind::InvalidValue) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_value_format",
            "Injected: a value does not suit its field.",
        )
        .into_response(),
        Some(FaultKind::RateLimited { retry_after_secs }) => {
            let mut r = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too many requests.",
            )
            .into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            r
        }
        Some(FaultKind::DropConnection) => {
            let broken = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped"))
            });
            Response::new(Body::from_stream(broken))
        }
        Some(FaultKind::LateReply { delay_ms }) => {
            // Carried out at once; the answer comes late (a client gone by then never
            // hears it).
            let response = next.run(request).await;
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            response
        }
        other => {
            if let Some(FaultKind::Slow { delay_ms }) = other {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            }
            if other == Some(FaultKind::ExpireToken) {
                lock(&shared).expire_tokens();
            }
            let counted = if route.is_some_and(|r| r != Route::Auth) {
                Some(lock(&shared).count_request())
            } else {
                None
            };
            match counted {
                Some((None, reset)) => {
                    let mut r = ApiError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "too_many_requests",
                        "Request limit exceeded.",
                    )
                    .into_response();
                    set_rate_headers(r.headers_mut(), 0, reset, &shared);
                    r
                }
                Some((Some(remaining), reset)) => {
                    let mut r = next.run(request).await;
                    set_rate_headers(r.headers_mut(), remaining, reset, &shared);
                    r
                }
                None => next.run(request).await,
            }
        }
    };
    let status = response.status().as_u16();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    lock(&shared).requests.push(RequestRecord {
        method,
        path,
        route,
        status,
    });
    response
}

fn set_rate_headers(headers: &mut HeaderMap, remaining: u32, reset: u64, shared: &Shared) {
    let limit = lock(shared).config.rate_limit;
    headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
}

/// A request's JSON body, once its Bearer token is checked (in that order, as Pyrus does).
fn authorized_json(
    shared: &Shared,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    authorize(shared, headers)?;
    parse_json(body)
}

/// A string field: absent/null → None; a non-string → validation_error; too long → limit.
fn opt_str(map: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            if s.chars().count() > MAX_VALUE_CHARS {
                return Err(ApiError::bad(
                    "text_field_value_limit_exceeded",
                    format!("Field {key} is longer than {MAX_VALUE_CHARS} characters."),
                ));
            }
            Ok(Some(s.clone()).filter(|s| !s.is_empty()))
        }
        Some(_) => Err(ApiError::bad(
            "validation_error",
            format!("Field {key} must be a string."),
        )),
    }
}

fn req_str(map: &serde_json::Map<String, Value>, key: &str) -> Result<String, ApiError> {
    opt_str(map, key)?.ok_or_else(|| {
        ApiError::bad(
            "required_parameter_missing",
            format!("Required parameter {key} is missing."),
        )
    })
}

fn mappings(
    map: &serde_json::Map<String, Value>,
    shared: &Shared,
) -> Result<Vec<(String, String)>, ApiError> {
    let Some(value) = map.get("mappings").filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = value else {
        return Err(ApiError::bad(
            "validation_error",
            "mappings must be an array.",
        ));
    };
    let state = lock(shared);
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(m) = item else {
            return Err(ApiError::bad(
                "validation_error",
                "Each mapping must be an object.",
            ));
        };
        let code = req_str(m, "code")?;
        let value = match m.get("value") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                return Err(ApiError::bad(
                    "invalid_value_format",
                    format!("Mapping {code} needs a string value."),
                ));
            }
        };
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(ApiError::bad(
                "text_field_value_limit_exceeded",
                format!("Mapping {code} value is longer than {MAX_VALUE_CHARS} characters."),
            ));
        }
        let Some(field) = state.config.fields.iter().find(|f| f.code == code) else {
            return Err(ApiError::bad(
                "invalid_field_mapping_code",
                format!("The form has no field with code {code}."),
            ));
        };
        if field.field_type == "multiple_choice" && !field.options.contains(&value) {
            return Err(ApiError::bad(
                "invalid_value_format",
                format!("{value} is not an option of {code}."),
            ));
        }
        out.push((code, value));
    }
    Ok(out)
}

async fn auth(State(shared): State<Shared>, body: Bytes) -> Result<axum::Json<Value>, ApiError> {
    let map = parse_json(&body)?;
    let login = req_str(&map, "login")?;
    let key = req_str(&map, "security_key")?;
    let mut state = lock(&shared);
    if login != state.config.login || key != state.config.security_key {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Invalid login or security key.",
        ));
    }
    let token = state.issue_token(&login);
    Ok(axum::Json(json!({
        "access_token": token,
        "api_url": format!("{}/api/v4/", state.base),
        "files_url": format!("{}/files/", state.base),
    })))
}

fn check_account(shared: &Shared, account: &str) -> Result<(), ApiError> {
    if lock(shared).config.account_id != account {
        return Err(ApiError::bad(
            "unrecognized_account_id",
            "The account_id is not known for this extension.",
        ));
    }
    Ok(())
}

async fn register_call(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<Value>, ApiError> {
    let map = authorized_json(&shared, &headers, &body)?;
    let account = req_str(&map, "account_id")?;
    let from = req_str(&map, "from_number")?;
    let to = req_str(&map, "to_number")?;
    let internal = opt_str(&map, "internal_number")?;
    let external = opt_str(&map, "external_id")?;
    let mapped = mappings(&map, &shared)?;
    check_account(&shared, &account)?;

    let mut state = lock(&shared);
    let matched = internal.as_deref().and_then(|n| state.user_by_phone(n));
    let existing = state.tasks.iter().position(|t| {
        external
            .as_ref()
            .is_some_and(|id| t.external_ids.contains(id))
            || (t.from_number == from && t.to_number == to)
    });
    let is_new = existing.is_none();
    let index = existing.unwrap_or_else(|| {
        let id = state.tasks.len() as u64 + 1;
        state.tasks.push(TaskSnapshot {
            id,
            from_number: from.clone(),
            to_number: to.clone(),
            external_ids: Vec::new(),
            responsible: None,
            comments: Vec::new(),
            modified_ms: 0,
        });
        state.tasks.len() - 1
    });
    let users = state.config.users.clone();
    let task = &mut state.tasks[index];
    if let Some(id) = &external
        && !task.external_ids.contains(id)
    {
        task.external_ids.push(id.clone());
    }
    let mut text = format!("Call from {from} to {to}");
    if let Some(id) = &external {
        text.push_str(&format!(" (call id {id})"));
    }
    if let Some(user) = &matched {
        task.responsible = Some(user.user_id.clone());
        text.push_str(&format!(
            "; internal number {} matched {} {}, now responsible",
            internal.as_deref().unwrap_or_default(),
            user.first_name,
            user.last_name
        ));
    } else if let Some(n) = &internal {
        text.push_str(&format!("; internal number {n} matched no user"));
    }
    task.comments.push(CommentSnapshot {
        text,
        mappings: mapped,
        recording: None,
    });
    task.modified_ms = super::state::now_ms();
    let mut reply = json!({ "task_id": task.id, "is_new_task": is_new });
    if let Some(user) = task
        .responsible
        .as_ref()
        .and_then(|id| users.iter().find(|u| &u.user_id == id))
    {
        reply["responsible_person"] = json!({
            "user_id": user.user_id,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "work_phone": user.work_phone,
        });
    }
    Ok(axum::Json(reply))
}

async fn attach(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<Value>, ApiError> {
    let map = authorized_json(&shared, &headers, &body)?;
    if let Some(account) = opt_str(&map, "account_id")? {
        check_account(&shared, &account)?;
    }
    let record = req_str(&map, "record_file")?;
    let external = opt_str(&map, "external_id")?;
    let from = opt_str(&map, "from_number")?;
    let to = opt_str(&map, "to_number")?;
    let task_id = match map.get("task_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| ApiError::bad("validation_error", "task_id must be a number."))?,
        ),
    };
    let mapped = mappings(&map, &shared)?;

    let mut state = lock(&shared);
    let index = if let Some(id) = task_id {
        state.tasks.iter().position(|t| t.id == id).ok_or_else(|| {
            ApiError::bad("unrecognized_task_id", format!("Task {id} is not found."))
        })?
    } else if let Some(id) = &external {
        state
            .tasks
            .iter()
            .position(|t| t.external_ids.contains(id))
            .ok_or_else(|| {
                ApiError::bad("unrecognized_call_id", "No call with this external_id.")
            })?
    } else if let (Some(from), Some(to)) = (&from, &to) {
        state
            .tasks
            .iter()
            .rposition(|t| &t.from_number == from && &t.to_number == to)
            .ok_or_else(|| {
                ApiError::bad("unrecognized_call_id", "No call between these numbers.")
            })?
    } else {
        return Err(ApiError::bad(
            "required_parameters_not_specified",
            "Specify external_id, task_id, or from_number and to_number.",
        ));
    };
    let Some(file) = state.files.get(&record) else {
        return Err(ApiError::bad(
            "unrecognized_attachment_id",
            "record_file is not an uploaded file.",
        ));
    };
    let ext = file
        .name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !AUDIO.contains(&ext.as_str()) {
        return Err(ApiError::bad(
            "unsupported_record_file_format",
            "The record file must be ac3, mp3, ogg, wav or wma.",
        ));
    }
    let name = file.name.clone();
    let size = file.size;
    state.tasks[index].comments.push(CommentSnapshot {
        text: format!("Call recording attached ({size} bytes)"),
        mappings: mapped,
        recording: Some((record, name)),
    });
    state.tasks[index].modified_ms = super::state::now_ms();
    Ok(axum::Json(json!({})))
}

async fn upload(
    State(shared): State<Shared>,
    request: Request,
) -> Result<axum::Json<Value>, ApiError> {
    authorize(&shared, request.headers())?;
    let bad = |msg: String| ApiError::bad("bad_multipart_content", msg);
    let mut multipart = Multipart::from_request(request, &shared)
        .await
        .map_err(|e| bad(format!("Expected multipart/form-data: {e}")))?;
    let (dir, limit) = {
        let state = lock(&shared);
        (
            state.config.files_dir.clone(),
            state.config.max_upload_bytes,
        )
    };
    let mut stored: Option<(String, String, std::path::PathBuf, u64, String)> = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| bad(format!("Malformed multipart body: {e}")))?
    {
        let Some(name) = field.file_name().map(str::to_owned) else {
            continue;
        };
        if stored.is_some() {
            return Err(bad("Exactly one file per request is allowed.".to_owned()));
        }
        let guid = random_guid();
        let path = dir.join(&guid);
        let mut out = tokio::fs::File::create(&path).await.map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "Cannot store the file.",
            )
        })?;
        let mut hash = md5::Md5::new();
        let mut size = 0_u64;
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| bad(format!("Malformed multipart body: {e}")))?
        {
            size += chunk.len() as u64;
            if size > limit {
                drop(out);
                tokio::fs::remove_file(&path).await.ok();
                return Err(ApiError::bad(
                    "attachment_too_big",
                    "The file is larger than allowed.",
                ));
            }
            hash.update(&chunk);
            out.write_all(&chunk).await.map_err(|_| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "Cannot store the file.",
                )
            })?;
        }
        out.flush().await.ok();
        let md5: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        stored = Some((guid, name, path, size, md5));
    }
    let Some((guid, name, path, size, md5)) = stored else {
        return Err(ApiError::bad(
            "no_file_in_request",
            "The request has no file.",
        ));
    };
    if size == 0 {
        tokio::fs::remove_file(&path).await.ok();
        return Err(ApiError::bad("empty_file", "The file is empty."));
    }
    lock(&shared)
        .files
        .insert(guid.clone(), super::state::StoredFile { name, path, size });
    Ok(axum::Json(json!({ "guid": guid, "md5_hash": md5 })))
}

async fn form(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Result<axum::Json<Value>, ApiError> {
    authorize(&shared, &headers)?;
    super::register::readable_form(id)?;
    let state = lock(&shared);
    let fields: Vec<Value> = state
        .config
        .fields
        .iter()
        .map(|f| {
            let mut field =
                json!({ "id": f.id, "name": f.name, "type": f.field_type, "code": f.code });
            if !f.options.is_empty() {
                let options: Vec<Value> = f
                    .options
                    .iter()
                    .enumerate()
                    .map(|(i, o)| json!({ "choice_id": i + 1, "choice_value": o }))
                    .collect();
                field["info"] = json!({ "options": options });
            }
            field
        })
        .collect();
    let steps: serde_json::Map<String, Value> = state
        .config
        .steps
        .iter()
        .enumerate()
        .map(|(i, name)| ((i + 1).to_string(), json!(name)))
        .collect();
    Ok(axum::Json(
        json!({ "id": id, "name": "Calls", "steps": steps, "fields": fields }),
    ))
}

async fn task_page(State(shared): State<Shared>) -> Html<String> {
    let state = lock(&shared);
    Html(page::render(&state.tasks, &state.files))
}

async fn download(State(shared): State<Shared>, Path(guid): Path<String>) -> Response {
    let found = lock(&shared)
        .files
        .get(&guid)
        .map(|f| (f.path.clone(), f.name.clone(), f.size));
    let Some((path, name, size)) = found else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let Ok(file) = tokio::fs::File::open(&path).await else {
        return (StatusCode::NOT_FOUND, "file is gone").into_response();
    };
    let mime = crate::domain::audio_mime(&name);
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    (
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_LENGTH, size.to_string()),
        ],
        body,
    )
        .into_response()
}

async fn add_fault(State(shared): State<Shared>, body: Bytes) -> Response {
    match serde_json::from_slice::<Fault>(&body) {
        Ok(fault) => {
            lock(&shared).faults.push(fault);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("bad fault: {e}")).into_response(),
    }
}

async fn expire_tokens(State(shared): State<Shared>) -> StatusCode {
    lock(&shared).expire_tokens();
    StatusCode::NO_CONTENT
}

async fn tasks_json(State(shared): State<Shared>) -> axum::Json<Vec<TaskSnapshot>> {
    axum::Json(lock(&shared).snapshot())
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(
            json!({ "Message": "No HTTP resource was found that matches the request URI." }),
        ),
    )
        .into_response()
}
