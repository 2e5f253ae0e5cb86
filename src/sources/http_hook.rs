//! The HTTP hook: `POST /events` (JSON), `GET /events?event=…` (for phones that can only
//! call a URL), `GET /health`, and `POST /show` (a second start of the app asks this one's
//! window to come to the front; this computer only). Bound to 127.0.0.1 unless the settings open it to listed
//! addresses on the network; every request must carry the token; browser requests (an
//! `Origin` header), foreign `Host`s, bodies over 64 KiB and malformed fields are refused
//! with a status and a body that say why. Every request is noted for the hook doctor, its
//! token blanked out.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::sync::mpsc;

use super::Heard;
use super::guarded::{GuardedListener, Peer};
use super::monitor::Monitor;
use super::token::same_bytes;
pub use super::token::{TokenCell, new_token};
use crate::domain::sources::AllowRule;
use crate::domain::{CallEventWire, EventSource, SourceId, Verdict, number_from_uri};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How the hook listens.
#[derive(Debug, Clone)]
pub struct HookOptions {
    /// The port (0 for any free port).
    pub port: u16,
    /// Listen on every interface, for the addresses in `allow` (else 127.0.0.1 only).
    pub network: bool,
    /// Addresses besides this computer's that may send events.
    pub allow: Vec<AllowRule>,
}

#[derive(Clone)]
struct Hook {
    token: TokenCell,
    port: u16,
    network: bool,
    allow: Arc<[AllowRule]>,
    events: mpsc::Sender<Heard>,
    monitor: Arc<Monitor>,
    show: Option<mpsc::Sender<()>>,
}

/// What the hook hands on: call events, and requests to show the window (`None` when the
/// instance has no window).
#[derive(Debug, Clone)]
pub struct HookOutputs {
    /// Where call events go, each waiting to be told it is stored.
    pub events: mpsc::Sender<Heard>,
    /// Where "show the window" goes.
    pub show: Option<mpsc::Sender<()>>,
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

/// Starts the hook.
pub async fn start(
    options: HookOptions,
    token: TokenCell,
    outputs: HookOutputs,
    monitor: Arc<Monitor>,
) -> std::io::Result<HookServer> {
    let ip = if options.network {
        Ipv4Addr::UNSPECIFIED
    } else {
        Ipv4Addr::LOCALHOST
    };
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((ip, options.port))).await?;
    let addr = listener.local_addr()?;
    let hook = Hook {
        token: token.clone(),
        port: addr.port(),
        network: options.network,
        allow: options.allow.into(),
        events: outputs.events,
        monitor,
        show: outputs.show,
    };
    let router = Router::new()
        .route("/health", get(health))
        .route("/events", get(event_from_query).post(event_from_json))
        .route("/show", axum::routing::post(show))
        .fallback(|| async {
            refuse(
                StatusCode::NOT_FOUND,
                "no such path: use /events or /health",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(refuse_big_bodies))
        .with_state(hook);
    let listener = GuardedListener::new(listener, token);
    let task = tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<Peer>();
        if let Err(e) = axum::serve(listener, service).await {
            tracing::error!(error = %e, "the event hook stopped");
        }
    });
    tracing::info!(%addr, "event hook listening");
    Ok(HookServer { addr, task })
}

/// Refuses a request whose declared body is over the limit before reading any of it.
async fn refuse_big_bodies(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "the body is over {} KiB: send one event per request",
                MAX_BODY_BYTES / 1024
            ),
        );
    }
    next.run(request).await
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
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// True for a `Host` that names this computer: a loopback name, or — when the hook listens
/// on the network — any IP address. Host names are refused either way, which keeps DNS
/// rebinding out.
fn host_allowed(host: &str, port: u16, network: bool) -> bool {
    let Some(name) = host.strip_suffix(&format!(":{port}")) else {
        return false;
    };
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback() || network,
        Err(_) => false,
    }
}

/// Refuses other computers not on the allow-list, browser requests, foreign hosts and
/// missing or wrong tokens.
fn gate(
    hook: &Hook,
    peer: SocketAddr,
    headers: &HeaderMap,
    query_token: Option<&str>,
) -> Result<(), (StatusCode, String)> {
    let forbidden = |why: String| Err((StatusCode::FORBIDDEN, why));
    let ip = peer.ip();
    if !ip.is_loopback() && !hook.allow.iter().any(|rule| rule.contains(ip)) {
        return forbidden(format!(
            "{ip} may not send events: add it to the hook's allowed addresses in pyrus-phone's settings"
        ));
    }
    if headers.contains_key(header::ORIGIN) {
        return forbidden("requests from web pages are refused".to_owned());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !host_allowed(host, hook.port, hook.network) {
        return forbidden("the Host must be this computer (127.0.0.1 or its address)".to_owned());
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match bearer.or(query_token) {
        Some(token) if same(token.trim(), hook.token.get().expose()) => Ok(()),
        Some(_) => Err((
            StatusCode::UNAUTHORIZED,
            "wrong token: copy the token from pyrus-phone's settings (Call sources)".to_owned(),
        )),
        None => Err((
            StatusCode::UNAUTHORIZED,
            "no token: send Authorization: Bearer TOKEN or ?token=TOKEN".to_owned(),
        )),
    }
}

/// The request as the doctor shows it: method, path and query, body; tokens blanked out.
fn describe(method: &Method, uri: &Uri, body: &[u8]) -> String {
    let query = uri.query().map(|q| {
        q.split('&')
            .map(|pair| match pair.split_once('=') {
                Some(("token", _)) => "token=•••".to_owned(),
                _ => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&")
    });
    let mut text = format!("{method} {}", uri.path());
    if let Some(q) = query {
        text.push('?');
        text.push_str(&q);
    }
    if !body.is_empty() {
        let shown = match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(mut value) => {
                if let Some(t) = value.get_mut("token") {
                    *t = json!("•••");
                }
                value.to_string()
            }
            Err(_) => String::from_utf8_lossy(body)
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        };
        text.push(' ');
        text.push_str(&shown);
    }
    text
}

/// Notes the request for the doctor and answers it.
fn answer(
    hook: &Hook,
    source: SourceId,
    text: &str,
    reply: Result<Response, (StatusCode, String)>,
) -> Response {
    match reply {
        Ok(response) => {
            hook.monitor.record(source, text, Verdict::Accepted);
            response
        }
        Err((status, why)) => {
            hook.monitor.record(
                source,
                text,
                Verdict::Refused(format!("{} {why}", status.as_u16())),
            );
            refuse(status, &why)
        }
    }
}

async fn health(
    State(hook): State<Hook>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err((status, why)) = gate(&hook, peer, &headers, q.get("token").map(String::as_str)) {
        return refuse(status, &why);
    }
    axum::Json(json!({ "app": "pyrus-phone", "version": env!("CARGO_PKG_VERSION"), "pid": std::process::id() }))
        .into_response()
}

/// A second start of the app asks this instance to show its window.
async fn show(
    State(hook): State<Hook>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    headers: HeaderMap,
) -> Response {
    if !peer.ip().is_loopback() {
        return refuse(
            StatusCode::FORBIDDEN,
            "only this computer may ask for the window",
        );
    }
    if let Err((status, why)) = gate(&hook, peer, &headers, None) {
        return refuse(status, &why);
    }
    match &hook.show {
        None => refuse(
            StatusCode::CONFLICT,
            "this pyrus-phone runs without a window (--headless)",
        ),
        Some(show) => {
            // A request already waiting brings the window up just the same.
            show.try_send(()).ok();
            tracing::info!("asked to come to the front");
            axum::Json(json!({ "shown": true })).into_response()
        }
    }
}

/// The number in what a phone sends: a plain number, a SIP URI (`$remote`) or `user@host`.
fn number_in(text: &str) -> String {
    number_from_uri(text)
        .or_else(|| text.split_once('@').map(|(user, _)| user.to_owned()))
        .unwrap_or_else(|| text.to_owned())
}

/// The sender's delivery id (`X-Pyrus-Phone-Delivery`: the command hook's, 1 to 64 letters,
/// digits and dashes), with which an event it keeps itself after no answer is stored once.
fn delivery_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-pyrus-phone-delivery")
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            (1..=64).contains(&id.len())
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        .map(str::to_owned)
}

/// How long a request waits for its event to be stored before it is told to send it again.
const STORE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Checks the event, hands it on and answers `202` once it is stored in the outbox — not
/// before: an acknowledged event survives a crash.
async fn accept(
    hook: &Hook,
    body: &CallEventWire,
    source: SourceId,
    link: bool,
    delivery: Option<String>,
) -> Result<Response, (StatusCode, String)> {
    // What a phone sends may be a SIP URI or `user@host`; the source is how it came, never
    // what the body says.
    let event = CallEventWire {
        number: number_in(&body.number),
        internal: body.internal.as_deref().map(number_in),
        line: body.line.as_deref().map(number_in),
        source: None,
        token: None,
        ..body.clone()
    }
    .into_event(if link {
        EventSource::Uri
    } else {
        source.into()
    })
    .map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
    tracing::info!(kind = %event.kind, number = %event.number, source = source.as_str(), "call event");
    let (heard, stored) = Heard::acknowledged(event, delivery);
    hook.events.try_send(heard).map_err(|_| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "busy: too many events at once, send it again".to_owned(),
        )
    })?;
    let unavailable = |why: String| (StatusCode::SERVICE_UNAVAILABLE, why);
    match tokio::time::timeout(STORE_WAIT, stored).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(why))) => {
            return Err(unavailable(format!(
                "the event was NOT accepted: pyrus-phone cannot store it ({why}); send it again once that is fixed"
            )));
        }
        Ok(Err(_)) => {
            return Err(unavailable(
                "the event was NOT accepted: pyrus-phone is stopping; send it again".to_owned(),
            ));
        }
        Err(_) => {
            return Err(unavailable(format!(
                "the event was not stored within {} s (pyrus-phone is busy); send it again",
                STORE_WAIT.as_secs()
            )));
        }
    }
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "accepted": true })),
    )
        .into_response())
}

async fn event_from_query(
    State(hook): State<Hook>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let text = describe(&method, &uri, &[]);
    let checked = gate(&hook, peer, &headers, q.get("token").map(String::as_str)).and_then(|()| {
        let field = |k: &str| q.get(k).cloned();
        let (Some(event), Some(number)) =
            (field("event"), field("number").or_else(|| field("from")))
        else {
            return Err((
                StatusCode::BAD_REQUEST,
                "give event=ring|answer|end|outgoing and number=N".to_owned(),
            ));
        };
        Ok(CallEventWire {
            event,
            number,
            call_id: field("call_id"),
            internal: field("internal"),
            line: field("line").or_else(|| field("to")),
            ..CallEventWire::default()
        })
    });
    let reply = match checked {
        Ok(body) => accept(&hook, &body, SourceId::Http, false, None).await,
        Err(refused) => Err(refused),
    };
    answer(&hook, SourceId::Http, &text, reply)
}

async fn event_from_json(
    State(hook): State<Hook>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    // The command hook's own processes say where they come from (they hold the token,
    // like anyone allowed to send); a link is one of them.
    let from = headers.get("x-pyrus-phone-source");
    let (source, link) = match from.and_then(|v| v.to_str().ok()) {
        Some("command") => (SourceId::Command, false),
        Some("twinkle") => (SourceId::Twinkle, false),
        Some("uri") => (SourceId::Command, true),
        _ => (SourceId::Http, false),
    };
    let text = describe(&method, &uri, &body);
    let parsed: Result<CallEventWire, _> = serde_json::from_slice(&body);
    let body_token = parsed.as_ref().ok().and_then(|b| b.token.clone());
    let token = q.get("token").cloned().or(body_token);
    let checked = gate(&hook, peer, &headers, token.as_deref()).and_then(|()| {
        parsed.map_err(|e| {
            (
                StatusCode::BAD_REQUEST,
                format!(
                    "the body must be JSON like {{\"event\":\"ring\",\"number\":\"+7…\"}}: {e}"
                ),
            )
        })
    });
    let reply = match checked {
        Ok(body) => {
            let delivery = delivery_id(&headers);
            accept(&hook, &body, source, link, delivery).await
        }
        Err(refused) => Err(refused),
    };
    answer(&hook, source, &text, reply)
}

#[cfg(test)]
mod tests {
    use super::{describe, host_allowed, number_in};

    #[test]
    fn hosts_name_this_computer() {
        assert!(host_allowed("127.0.0.1:47812", 47812, false));
        assert!(host_allowed("LOCALHOST:47812", 47812, false));
        assert!(host_allowed("[::1]:47812", 47812, false));
        assert!(!host_allowed("192.168.1.5:47812", 47812, false));
        assert!(host_allowed("192.168.1.5:47812", 47812, true));
        assert!(!host_allowed("evil.example:47812", 47812, true));
        assert!(!host_allowed("127.0.0.1:80", 47812, false));
        assert!(!host_allowed("", 47812, true));
    }

    #[test]
    fn the_doctor_never_sees_the_token() {
        let uri: axum::http::Uri = "/events?token=s3cret&event=ring&number=200"
            .parse()
            .unwrap();
        let text = describe(&axum::http::Method::GET, &uri, b"");
        assert_eq!(text, "GET /events?token=•••&event=ring&number=200");
        let uri: axum::http::Uri = "/events".parse().unwrap();
        let text = describe(
            &axum::http::Method::POST,
            &uri,
            br#"{"event":"ring","number":"200","token":"s3cret"}"#,
        );
        assert!(!text.contains("s3cret") && text.contains("•••"), "{text}");
    }

    #[test]
    fn phones_may_send_sip_uris() {
        assert_eq!(number_in("sip:+79161234567@pbx.local"), "+79161234567");
        assert_eq!(number_in("101@192.168.1.1"), "101");
        assert_eq!(number_in("+79161234567"), "+79161234567");
    }
}
