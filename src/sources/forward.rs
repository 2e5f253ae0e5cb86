//! The client half of the command hook: a second process hands its event to the running
//! instance over the loopback hook and exits at once (MicroSIP waits for it).

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use super::runtime_file::Instance;
use crate::domain::{CallEvent, CallEventWire};

/// Why the event could not be handed over.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// Nothing listens where the instance said (it is gone).
    #[error("no running pyrus-phone answered ({0})")]
    NotRunning(std::io::Error),
    /// The instance took the connection but did not answer in time (it is busy): it runs,
    /// so nobody may start another.
    #[error(
        "the running pyrus-phone took the event but did not answer in time ({0}); if the call does not show, check its window or log"
    )]
    NoAnswer(std::io::Error),
    /// The instance refused the event.
    #[error("pyrus-phone refused the event (HTTP {status}): {body}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Its explanation.
        body: String,
    },
}

/// A new delivery id: the same event sent, then kept by its sender when the instance did
/// not answer, is stored once.
pub fn new_delivery_id() -> String {
    use rand::Rng as _;
    let bits: u128 = rand::rng().random();
    format!("d-{bits:032x}")
}

/// Sends `event` to the running `instance` with a plain HTTP/1.1 request on loopback,
/// under the delivery id `delivery` ([`new_delivery_id`]).
pub fn send(instance: &Instance, event: &CallEvent, delivery: &str) -> Result<(), ForwardError> {
    let full = CallEventWire::from(event);
    // Strings and options only: it always serializes.
    let wire = serde_json::to_string(&full).unwrap_or_default();
    // A link the agent clicked says so: the window puts its number in the form.
    let from = match event.source {
        crate::domain::EventSource::Uri => "uri",
        crate::domain::EventSource::Twinkle => "twinkle",
        _ => "command",
    };
    let (mut status, mut body) = post(instance, "/events", &wire, from, Some(delivery))?;
    // An instance of an older version (running through an upgrade) refuses the fields it
    // does not know: the event again without them, rather than lost.
    let extras = full.direction.is_some() || full.display.is_some() || full.reason.is_some();
    if status == 400 && extras {
        let bare = CallEventWire {
            direction: None,
            display: None,
            reason: None,
            ..full
        };
        let wire = serde_json::to_string(&bare).unwrap_or_default();
        (status, body) = post(instance, "/events", &wire, from, Some(delivery))?;
    }
    if status == 202 {
        return Ok(());
    }
    Err(ForwardError::Refused { status, body })
}

/// Asks the running `instance` to bring its window to the front. `Ok(false)`: it runs
/// without a window.
pub fn show(instance: &Instance) -> Result<bool, ForwardError> {
    match post(instance, "/show", "", "command", None)? {
        (200, _) => Ok(true),
        (409, _) => Ok(false),
        (status, body) => Err(ForwardError::Refused { status, body }),
    }
}

/// One `POST` to the hook, from `from` (`command` or `uri`) with its delivery id when it
/// carries an event; returns the status and the body.
fn post(
    instance: &Instance,
    path: &str,
    body: &str,
    from: &str,
    delivery: Option<&str>,
) -> Result<(u16, String), ForwardError> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, instance.port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(ForwardError::NotRunning)?;
    // Longer than the hook waits for an event to be stored, so a slow store is answered
    // (stored or not), never taken for "no answer".
    stream.set_read_timeout(Some(Duration::from_secs(15))).ok();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\
         X-Pyrus-Phone-Source: {from}\r\n{delivery}Content-Type: application/json\r\n\
         Content-Length: {len}\r\nConnection: close\r\n\r\n{body}",
        port = instance.port,
        token = instance.token,
        len = body.len(),
        delivery = delivery.map_or(String::new(), |id| format!(
            "X-Pyrus-Phone-Delivery: {id}\r\n"
        )),
    );
    stream
        .write_all(request.as_bytes())
        .map_err(ForwardError::NoAnswer)?;
    let mut reply = String::new();
    stream
        .read_to_string(&mut reply)
        .map_err(ForwardError::NoAnswer)?;
    let status = reply
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(0);
    let body = reply
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .trim()
        .to_owned();
    Ok((status, body))
}
