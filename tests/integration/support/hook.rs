//! A raw client of the event hook: the bytes a desk phone or a script sends, and the reply
//! as it came back.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

/// Sends `request` as it is to `ip`:`port` and returns the whole reply, read until the
/// hook closes the connection or `timeout` passes.
pub fn exchange(ip: &str, port: u16, request: &str, timeout: Duration) -> String {
    let mut s = TcpStream::connect((ip, port)).unwrap();
    s.set_read_timeout(Some(timeout)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).ok();
    reply
}

/// The status code of a raw reply; 0 when there is none.
pub fn status(reply: &str) -> u16 {
    reply
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Sends `request` to the hook on `ip`:`port`; the status code.
pub fn raw_to(ip: &str, port: u16, request: &str) -> u16 {
    status(&exchange(ip, port, request, Duration::from_secs(5)))
}

/// Sends `request` to the loopback hook on `port`; the status code.
pub fn raw(port: u16, request: &str) -> u16 {
    raw_to("127.0.0.1", port, request)
}

/// A `POST /events` of the JSON `body` to the loopback hook on `port`, with `headers`
/// (each ending in CRLF) before the content headers.
pub fn post_request(port: u16, headers: &str, body: &str) -> String {
    format!(
        "POST /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Posts the JSON `body` to the loopback hook on `port` with `headers`; the status code.
pub fn post(port: u16, headers: &str, body: &str) -> u16 {
    raw(port, &post_request(port, headers, body))
}

/// The `Authorization` header carrying `token`.
pub fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\n")
}

/// A call event as a phone posts it.
pub fn event(kind: &str, number: &str, call_id: &str) -> String {
    serde_json::json!({"event": kind, "number": number, "call_id": call_id}).to_string()
}

/// A running hook and its token, as an instance published them.
#[derive(Debug, Clone)]
pub struct HookClient {
    pub port: u16,
    pub token: String,
    /// How long a reply may take.
    pub timeout: Duration,
}

impl HookClient {
    pub fn new(port: u16, token: &str) -> Self {
        Self {
            port,
            token: token.to_owned(),
            timeout: Duration::from_secs(10),
        }
    }

    /// Posts one event with the token; the whole reply.
    pub fn post_reply(&self, body: &str) -> String {
        let request = post_request(self.port, &bearer(&self.token), body);
        exchange("127.0.0.1", self.port, &request, self.timeout)
    }

    /// Posts one event with the token; the status code.
    pub fn post(&self, body: &str) -> u16 {
        status(&self.post_reply(body))
    }
}
