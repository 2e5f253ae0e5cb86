//! The loopback HTTP hook: `POST /events` (JSON), `GET /events?event=…` (for phones that can
//! only call a URL) and `GET /health`. Bound to 127.0.0.1; every request must carry the
//! token; browser requests (an `Origin` header), foreign `Host`s, bodies over 64 KiB and
//! malformed fields are refused with a status and a body that say why.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use crate::domain::{CallEvent, Secret};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Clone)]
struct Hook {
    token: Secret,
    port: u16,
    events: mpsc::Sender<CallEvent>,
}

/// A running hook.
#[derive(Debug)]
pub struct HookServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HookServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the hook on 127.0.0.1:`port` (0 for any free port).
pub async fn start(
    port: u16,
    token: Secret,
    events: mpsc::Sender<CallEvent>,
) -> std::io::Result<HookServer> {
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    let addr = listener.local_addr()?;
    let hook = Hook {
        token,
        port: addr.port(),
        events,
    };
    let router = Router::new()
        .route("/health", get(health))
        .route("/events", get(event_from_query).post(event_from_json))
        .fallback(|| async {
            refuse(
                StatusCode::NOT_FOUND,
                "no such path: use /events or /health",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(hook);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the event hook stopped");
        }
    });
    tracing::info!(%addr, "event hook listening");
    Ok(HookServer { addr, task })
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (
        status,
        axum::Json(json!({ "accepted": false, "error": why })),
    )
        .into_response()
}

/// Constant-time comparison, so the token cannot be guessed byte by byte from timings.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0_u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Refuses browser requests, foreign hosts and missing or wrong tokens.
fn gate(
    hook: &Hook,
    headers: &HeaderMap,
    query_token: Option<&str>,
) -> Result<(), (StatusCode, &'static str)> {
    if headers.contains_key(header::ORIGIN) {
        return Err((StatusCode::FORBIDDEN, "requests from web pages are refused"));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let allowed = [
        format!("127.0.0.1:{}", hook.port),
        format!("localhost:{}", hook.port),
        format!("[::1]:{}", hook.port),
    ];
    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(host)) {
        return Err((
            StatusCode::FORBIDDEN,
            "the Host must be this computer (127.0.0.1)",
        ));
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match bearer.or(query_token) {
        Some(token) if same(token.trim(), hook.token.expose()) => Ok(()),
        Some(_) => Err((
            StatusCode::UNAUTHORIZED,
            "wrong token: use this run's token from pyrus-phone's runtime file (run/instance.json)",
        )),
        None => Err((
            StatusCode::UNAUTHORIZED,
            "no token: send Authorization: Bearer TOKEN or ?token=TOKEN",
        )),
    }
}

async fn health(
    State(hook): State<Hook>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err((status, why)) = gate(&hook, &headers, q.get("token").map(String::as_str)) {
        return refuse(status, why);
    }
    axum::Json(json!({ "app": "pyrus-phone", "version": env!("CARGO_PKG_VERSION"), "pid": std::process::id() }))
        .into_response()
}

/// An event as sent over HTTP; `number` may also be called `from`, `line` also `to`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventBody {
    event: String,
    #[serde(alias = "from")]
    number: String,
    #[serde(default)]
    call_id: Option<String>,
    #[serde(default)]
    internal: Option<String>,
    #[serde(default, alias = "to")]
    line: Option<String>,
    #[serde(default)]
    token: Option<String>,
}

async fn accept(hook: &Hook, body: EventBody, source: &str) -> Response {
    let event = match CallEvent::parse(
        &body.event,
        &body.number,
        body.call_id.as_deref(),
        body.internal.as_deref(),
        body.line.as_deref(),
        source,
    ) {
        Ok(event) => event,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    tracing::info!(kind = %event.kind, number = %event.number, source, "call event");
    match hook.events.try_send(event) {
        Ok(()) => (
            StatusCode::ACCEPTED,
            axum::Json(json!({ "accepted": true })),
        )
            .into_response(),
        Err(_) => refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy: too many events at once, send it again",
        ),
    }
}

async fn event_from_query(
    State(hook): State<Hook>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err((status, why)) = gate(&hook, &headers, q.get("token").map(String::as_str)) {
        return refuse(status, why);
    }
    let field = |k: &str| q.get(k).cloned();
    let (Some(event), Some(number)) = (field("event"), field("number").or_else(|| field("from")))
    else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "give event=ring|answer|end|outgoing and number=N",
        );
    };
    let body = EventBody {
        event,
        number,
        call_id: field("call_id"),
        internal: field("internal"),
        line: field("line").or_else(|| field("to")),
        token: None,
    };
    accept(&hook, body, "http").await
}

async fn event_from_json(
    State(hook): State<Hook>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let parsed: Result<EventBody, _> = serde_json::from_slice(&body);
    let body_token = parsed.as_ref().ok().and_then(|b| b.token.clone());
    let token = q.get("token").cloned().or(body_token);
    if let Err((status, why)) = gate(&hook, &headers, token.as_deref()) {
        return refuse(status, why);
    }
    match parsed {
        Ok(body) => {
            let source = if headers
                .get("x-pyrus-phone-source")
                .is_some_and(|v| v == "command")
            {
                "command"
            } else {
                "http"
            };
            accept(&hook, body, source).await
        }
        Err(e) => refuse(
            StatusCode::BAD_REQUEST,
            &format!("the body must be JSON like {{\"event\":\"ring\",\"number\":\"+7…\"}}: {e}"),
        ),
    }
}
