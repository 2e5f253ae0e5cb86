//! The sandbox's form register (`GET|POST forms/{id}/register`), one task (`GET
//! tasks/{id}`) and a comment on it (`POST tasks/{id}/comments`: `text` and `field_updates`
//! by `id` or `code`, a choice by `choice_id` — an unknown field or choice is refused), as the
//! v4 API documents them: phone values are returned as they were
//! typed and filtered by prefix of that text; `item_count`, `field_ids`,
//! `include_archived`, `modified_after`/`modified_before`, `steps`, an `id` filter and
//! `sort=id`. Empty fields are never returned.

use std::borrow::Cow;
use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

use super::reply::{ApiError, authorize, parse_json};
use super::state::{CommentSnapshot, State as SandboxState};
use super::{DEMO_FORM_ID, SandboxField, Shared, lock};

/// The most tasks one register reply may hold.
const MAX_ITEMS: u64 = 20_000;

/// A task of the form, whichever way it came (a customer's, or a call's).
struct FormTask<'a> {
    id: u64,
    subject: Cow<'a, str>,
    phone: &'a str,
    step: u32,
    closed: bool,
    responsible: Option<&'a str>,
    created_ms: i64,
    modified_ms: i64,
    comments: &'a [CommentSnapshot],
}

/// The tasks of the form with an id above `above`, by id: the calls' (ids from 1), then the
/// customers' (ids from 20,000,001, kept in order, so a page starts where it should without
/// looking at the tasks before it).
fn form_tasks(state: &SandboxState, above: u64) -> impl Iterator<Item = FormTask<'_>> {
    let calls = state
        .tasks
        .iter()
        .filter(move |t| t.id > above)
        .map(|t| FormTask {
            id: t.id,
            subject: Cow::Owned(format!("Call from {}", t.from_number)),
            phone: &t.from_number,
            step: 1,
            closed: false,
            responsible: t.responsible.as_deref(),
            created_ms: t.modified_ms,
            modified_ms: t.modified_ms,
            comments: &t.comments,
        });
    let first = state.customers.partition_point(|c| c.id <= above);
    let customers = state.customers[first..].iter().map(|c| FormTask {
        id: c.id,
        subject: Cow::Borrowed(&c.subject),
        phone: &c.phone,
        step: c.step,
        closed: c.closed,
        responsible: c.responsible.as_deref(),
        created_ms: c.created_ms,
        modified_ms: c.modified_ms,
        comments: &c.comments,
    });
    calls.chain(customers)
}

/// A number filter: `gtA`, `ltB`, both (`gtA,ltB`), a list (`1,2`) or one value.
enum Numbers {
    Range(Option<u64>, Option<u64>),
    Among(Vec<u64>),
}

impl Numbers {
    fn parse(text: &str) -> Option<Self> {
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        if parts
            .iter()
            .any(|p| p.starts_with("gt") || p.starts_with("lt"))
        {
            let (mut above, mut below) = (None, None);
            for part in parts {
                if let Some(n) = part.strip_prefix("gt") {
                    above = Some(n.parse().ok()?);
                } else if let Some(n) = part.strip_prefix("lt") {
                    below = Some(n.parse().ok()?);
                } else {
                    return None;
                }
            }
            return Some(Self::Range(above, below));
        }
        parts
            .iter()
            .map(|p| p.parse().ok())
            .collect::<Option<Vec<u64>>>()
            .map(Self::Among)
    }

    fn holds(&self, n: u64) -> bool {
        match self {
            Self::Range(above, below) => above.is_none_or(|a| n > a) && below.is_none_or(|b| n < b),
            Self::Among(list) => list.contains(&n),
        }
    }
}

/// What a field filter asks of the stored text.
enum FieldMatch {
    Prefix(String),
    Exists,
    Empty,
}

/// A register request, read and checked.
struct Asked {
    item_count: usize,
    include_archived: bool,
    modified_after: Option<i64>,
    modified_before: Option<i64>,
    ids: Option<Numbers>,
    steps: Option<Vec<u32>>,
    field_ids: Option<Vec<u64>>,
    fields: Vec<(u64, FieldMatch)>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad("invalid_value_format", message)
}

fn date(key: &str, text: &str) -> Result<i64, ApiError> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|d| d.timestamp_millis())
        .map_err(|_| {
            invalid(format!(
                "{key} must be a date and time in UTC: YYYY-MM-DDThh:mm:ssZ."
            ))
        })
}

fn list<T: std::str::FromStr>(key: &str, text: &str) -> Result<Vec<T>, ApiError> {
    text.split(',')
        .map(|p| p.trim().parse::<T>())
        .collect::<Result<_, _>>()
        .map_err(|_| invalid(format!("{key} must be a list of numbers.")))
}

impl Asked {
    fn read(params: &BTreeMap<String, String>, fields: &[SandboxField]) -> Result<Self, ApiError> {
        let known = |id: u64| fields.iter().any(|f| f.id == id);
        let mut query = Self {
            item_count: MAX_ITEMS as usize,
            include_archived: false,
            modified_after: None,
            modified_before: None,
            ids: None,
            steps: None,
            field_ids: None,
            fields: Vec::new(),
        };
        for (key, value) in params {
            match key.as_str() {
                "item_count" => {
                    let n: u64 = value
                        .trim()
                        .parse()
                        .map_err(|_| invalid("item_count must be a number."))?;
                    if !(1..=MAX_ITEMS).contains(&n) {
                        return Err(ApiError::bad(
                            "items_count_out_of_range",
                            format!("item_count must be from 1 to {MAX_ITEMS}."),
                        ));
                    }
                    query.item_count = n as usize;
                }
                "include_archived" => {
                    query.include_archived = matches!(value.trim(), "y" | "true");
                }
                "modified_after" => query.modified_after = Some(date(key, value)?),
                "modified_before" => query.modified_before = Some(date(key, value)?),
                "id" => {
                    query.ids = Some(
                        Numbers::parse(value)
                            .ok_or_else(|| invalid("id: a filter of task ids."))?,
                    );
                }
                "steps" => query.steps = Some(list(key, value)?),
                "field_ids" => {
                    let ids: Vec<u64> = list(key, value)?;
                    if let Some(bad) = ids.iter().find(|id| !known(**id)) {
                        return Err(ApiError::bad(
                            "invalid_field_id",
                            format!("Field {bad} is not in the form."),
                        ));
                    }
                    query.field_ids = Some(ids);
                }
                "sort" if value.trim() == "id" => {}
                "sort" => return Err(invalid("sort: only id is supported.")),
                "format" if value.trim() == "json" => {}
                _ => {
                    let Some(id) = key.strip_prefix("fld").and_then(|n| n.parse::<u64>().ok())
                    else {
                        continue;
                    };
                    if !known(id) {
                        return Err(ApiError::bad(
                            "invalid_field_id",
                            format!("Field {id} is not in the form."),
                        ));
                    }
                    let wanted = match value.as_str() {
                        "*" => FieldMatch::Exists,
                        "empty" => FieldMatch::Empty,
                        text => FieldMatch::Prefix(text.to_owned()),
                    };
                    query.fields.push((id, wanted));
                }
            }
        }
        Ok(query)
    }

    fn admits(&self, task: &FormTask<'_>, fields: &[SandboxField]) -> bool {
        (self.include_archived || !task.closed)
            && self.modified_after.is_none_or(|t| task.modified_ms > t)
            && self.modified_before.is_none_or(|t| task.modified_ms <= t)
            && self.ids.as_ref().is_none_or(|ids| ids.holds(task.id))
            && self.steps.as_ref().is_none_or(|s| s.contains(&task.step))
            && self.fields.iter().all(|(id, wanted)| {
                let value = field_value(task, *id, fields).unwrap_or_default();
                match wanted {
                    FieldMatch::Exists => !value.is_empty(),
                    FieldMatch::Empty => value.is_empty(),
                    FieldMatch::Prefix(p) => !value.is_empty() && value.starts_with(p.as_str()),
                }
            })
    }
}

/// The stored text of field `id` on `task`: the customer's phone in the form's phone field.
fn field_value<'a>(task: &FormTask<'a>, id: u64, fields: &[SandboxField]) -> Option<&'a str> {
    let field = fields.iter().find(|f| f.id == id)?;
    (field.field_type == "phone" && !task.phone.is_empty()).then_some(task.phone)
}

fn iso(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A task as the register and `tasks/{id}` return it.
fn task_json(task: &FormTask<'_>, state: &SandboxState, field_ids: Option<&[u64]>) -> Value {
    let fields = &state.config.fields;
    let shown: Vec<Value> = fields
        .iter()
        .filter(|f| field_ids.is_none_or(|ids| ids.contains(&f.id)))
        .filter_map(|f| {
            let value = field_value(task, f.id, fields)?;
            Some(json!({
                "id": f.id, "type": f.field_type, "name": f.name, "code": f.code, "value": value,
            }))
        })
        .collect();
    let mut reply = json!({
        "id": task.id,
        "text": task.subject,
        "subject": task.subject,
        "create_date": iso(task.created_ms),
        "last_modified_date": iso(task.modified_ms),
        "form_id": DEMO_FORM_ID,
        "current_step": task.step,
        "is_closed": task.closed,
        "fields": shown,
    });
    if task.closed {
        reply["close_date"] = json!(iso(task.modified_ms));
    }
    if let Some(user) = task
        .responsible
        .and_then(|id| state.config.users.iter().find(|u| u.user_id == id))
    {
        reply["responsible"] = json!({
            "id": user.user_id.parse::<u64>().unwrap_or_default(),
            "first_name": user.first_name,
            "last_name": user.last_name,
            "type": "user",
        });
    }
    reply
}

/// A form the bot may read (the sandbox's one form), else `access_denied_form`.
pub(super) fn readable_form(id: u64) -> Result<(), ApiError> {
    if id == DEMO_FORM_ID {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "access_denied_form",
        "Form is not found or access is denied.",
    ))
}

/// The parameters of a GET (its query) or a POST (its flat JSON body).
fn parameters(
    method: &Method,
    query: Vec<(String, String)>,
    body: &Bytes,
) -> Result<BTreeMap<String, String>, ApiError> {
    if method != Method::POST {
        return Ok(query.into_iter().collect());
    }
    let map = parse_json(body)?;
    Ok(map
        .into_iter()
        .map(|(key, value)| {
            let text = match value {
                Value::String(s) => s,
                Value::Bool(true) => "y".to_owned(),
                Value::Array(items) => items
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_string(),
            };
            (key, text)
        })
        .collect())
}

pub(super) async fn register(
    State(shared): State<Shared>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Query(query): Query<Vec<(String, String)>>,
    body: Bytes,
) -> Result<axum::Json<Value>, ApiError> {
    authorize(&shared, &headers)?;
    readable_form(id)?;
    let params = parameters(&method, query, &body)?;
    let state = lock(&shared);
    let fields = &state.config.fields;
    let query = Asked::read(&params, fields)?;
    // A page by id (`id=gt…`) starts at its place.
    let above = match &query.ids {
        Some(Numbers::Range(Some(above), _)) => *above,
        _ => 0,
    };
    let tasks: Vec<Value> = form_tasks(&state, above)
        .filter(|t| query.admits(t, fields))
        .take(query.item_count)
        .map(|t| task_json(&t, &state, query.field_ids.as_deref()))
        .collect();
    Ok(axum::Json(json!({ "tasks": tasks })))
}

pub(super) async fn task(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Result<axum::Json<Value>, ApiError> {
    authorize(&shared, &headers)?;
    let state = lock(&shared);
    let Some(task) = form_tasks(&state, id.saturating_sub(1)).find(|t| t.id == id) else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "access_denied_task",
            "Task is not found or access is denied.",
        ));
    };
    let mut reply = task_json(&task, &state, None);
    let comments: Vec<Value> = task
        .comments
        .iter()
        .enumerate()
        .map(|(i, c)| json!({ "id": i + 1, "text": c.text }))
        .collect();
    reply["comments"] = json!(comments);
    Ok(axum::Json(json!({ "task": reply })))
}

/// A field update's value as the task keeps it: a choice by its name, else the text.
fn update_value(field: &SandboxField, value: &Value) -> Result<String, ApiError> {
    if field.field_type == "multiple_choice" {
        let id = value
            .get("choice_id")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                invalid(format!(
                    "{}: a choice is set as {{\"choice_id\": N}}.",
                    field.code
                ))
            })?;
        return usize::try_from(id)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| field.options.get(i))
            .cloned()
            .ok_or_else(|| invalid(format!("{}: there is no choice {id}.", field.code)));
    }
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(invalid(format!(
            "{}: the value must be text or a number.",
            field.code
        ))),
    }
}

/// The updates of a comment, checked against the form: (code, value) each.
fn field_updates(
    body: &serde_json::Map<String, Value>,
    fields: &[SandboxField],
) -> Result<Vec<(String, String)>, ApiError> {
    let Some(items) = body.get("field_updates").filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let items = items
        .as_array()
        .ok_or_else(|| invalid("field_updates must be an array."))?;
    items
        .iter()
        .map(|item| {
            let field = match (item.get("id").and_then(Value::as_u64), item.get("code")) {
                (Some(id), _) => fields.iter().find(|f| f.id == id),
                (None, Some(Value::String(code))) => fields.iter().find(|f| &f.code == code),
                _ => None,
            }
            .ok_or_else(|| {
                ApiError::bad(
                    "invalid_field_id",
                    format!("A field update names no field of the form: {item}."),
                )
            })?;
            let value = item.get("value").unwrap_or(&Value::Null);
            Ok((field.code.clone(), update_value(field, value)?))
        })
        .collect()
}

pub(super) async fn comment(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    body: Bytes,
) -> Result<axum::Json<Value>, ApiError> {
    authorize(&shared, &headers)?;
    let body = parse_json(&body)?;
    let text = match body.get("text") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(invalid("text must be a string.")),
    };
    add_comment(&shared, id, text, &body)?;
    task(State(shared), headers, Path(id)).await
}

/// Adds the comment to task `id`, its updates checked against the form.
fn add_comment(
    shared: &Shared,
    id: u64,
    text: String,
    body: &serde_json::Map<String, Value>,
) -> Result<(), ApiError> {
    let mut state = lock(shared);
    let updates = field_updates(body, &state.config.fields)?;
    if text.trim().is_empty() && updates.is_empty() {
        return Err(ApiError::bad(
            "empty_comment",
            "A comment needs a text or a field update.",
        ));
    }
    let comment = CommentSnapshot {
        text,
        mappings: updates,
        recording: None,
    };
    let now = super::state::now_ms();
    if let Some(task) = state.customers.iter_mut().find(|t| t.id == id) {
        task.comments.push(comment);
        task.modified_ms = now;
    } else if let Some(task) = state.tasks.iter_mut().find(|t| t.id == id) {
        task.comments.push(comment);
        task.modified_ms = now;
    } else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "access_denied_task",
            "Task is not found or access is denied.",
        ));
    }
    Ok(())
}
