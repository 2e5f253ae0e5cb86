//! baresip's `ctrl_tcp`: one connection, netstring-framed JSON, events mapped to the call
//! model (number from `peeruri`, `id` — the SIP Call-ID — as the call id). Reconnects with
//! backoff when baresip restarts, and carries the window's commands (answer) the other way.
//! baresip allows one client at a time.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::mpsc;

use super::Heard;
use super::monitor::Monitor;
use crate::domain::{BaresipHealth, CallEvent, SourceId, Verdict, number_from_uri};

/// baresip's stream is not netstrings (the connection is dropped and made again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NetstringError {
    /// More than 12 digits before any `:`.
    #[error("a netstring length is too long")]
    LengthTooLong,
    /// The length is not a number.
    #[error("a netstring does not start with its length")]
    NoLength,
    /// The payload is not followed by `,`.
    #[error("a netstring does not end with ','")]
    NoComma,
}

/// Splits complete netstrings (`<len>:<payload>,`) off the front of `buf`.
pub fn take_netstrings(buf: &mut Vec<u8>) -> Result<Vec<Vec<u8>>, NetstringError> {
    let mut out = Vec::new();
    loop {
        let Some(colon) = buf.iter().position(|b| *b == b':') else {
            if buf.len() > 12 {
                return Err(NetstringError::LengthTooLong);
            }
            return Ok(out);
        };
        let len: usize = std::str::from_utf8(&buf[..colon])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(NetstringError::NoLength)?;
        if buf.len() < colon + 1 + len + 1 {
            return Ok(out);
        }
        if buf[colon + 1 + len] != b',' {
            return Err(NetstringError::NoComma);
        }
        out.push(buf[colon + 1..colon + 1 + len].to_vec());
        buf.drain(..colon + 2 + len);
    }
}

/// Maps one baresip message to a call event; `seen` remembers calls already started, since
/// with auto-answer baresip sends no `CALL_INCOMING` and the first event starts the call.
pub fn to_event(message: &Value, seen: &mut HashSet<String>) -> Option<CallEvent> {
    if message.get("event").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    let field = |k: &str| message.get(k).and_then(Value::as_str);
    let id = field("id")?;
    let number = number_from_uri(field("peeruri")?)?;
    let outgoing = field("direction") == Some("outgoing");
    let kind = match field("type")? {
        "CALL_INCOMING" => "ring",
        "CALL_OUTGOING" => "outgoing",
        "CALL_ANSWERED" | "CALL_ESTABLISHED" => "answer",
        "CALL_CLOSED" => "end",
        _ if !seen.contains(id) => {
            if outgoing {
                "outgoing"
            } else {
                "ring"
            }
        }
        _ => return None,
    };
    if kind == "end" {
        seen.remove(id);
    } else {
        seen.insert(id.to_owned());
    }
    CallEvent::parse(kind, &number, Some(id), None, None, "baresip").ok()
}

/// What the window can ask baresip to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaresipCommand {
    /// Answer the ringing call.
    Accept,
    /// Call this number (or SIP address) from baresip's current account.
    Dial(String),
}

/// One command as a netstring (`token` ties baresip's reply to it).
pub fn encode(command: &BaresipCommand, token: &str) -> Vec<u8> {
    let json = match command {
        BaresipCommand::Accept => serde_json::json!({ "command": "accept", "token": token }),
        BaresipCommand::Dial(number) => {
            serde_json::json!({ "command": "dial", "params": number, "token": token })
        }
    }
    .to_string();
    format!("{}:{json},", json.len()).into_bytes()
}

/// Keeps one connection to baresip at `addr`, forever: what it hears goes to `events`, the
/// window's commands from `commands` go to baresip, and everything is noted in `monitor`.
pub async fn run(
    addr: String,
    events: mpsc::Sender<Heard>,
    monitor: Arc<Monitor>,
    mut commands: mpsc::Receiver<BaresipCommand>,
) {
    let health = |connected: bool, problem: Option<String>| BaresipHealth {
        addr: addr.clone(),
        connected,
        problem,
    };
    monitor.set_baresip(health(false, None));
    let mut delay = Duration::from_millis(250);
    let mut sent = 0_u64;
    loop {
        match tokio::net::TcpStream::connect(&addr).await {
            Ok(stream) => {
                tracing::info!(%addr, "connected to baresip");
                monitor.set_baresip(health(true, None));
                delay = Duration::from_millis(250);
                let (mut reader, mut writer) = stream.into_split();
                let mut seen = HashSet::new();
                let mut buf = Vec::new();
                let mut chunk = [0_u8; 8192];
                let why = loop {
                    tokio::select! {
                        read = reader.read(&mut chunk) => match read {
                            Ok(0) => break "baresip closed the connection".to_owned(),
                            Err(e) => break e.to_string(),
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        },
                        command = commands.recv() => {
                            let Some(command) = command else { return };
                            sent += 1;
                            let frame = encode(&command, &format!("pp-{sent}"));
                            let text = String::from_utf8_lossy(&frame).into_owned();
                            match writer.write_all(&frame).await {
                                Ok(()) => monitor.record(SourceId::Baresip, &text, Verdict::Sent),
                                Err(e) => {
                                    monitor.record(SourceId::Baresip, &text, Verdict::Refused(e.to_string()));
                                    break e.to_string();
                                }
                            }
                            continue;
                        }
                    }
                    let frames = match take_netstrings(&mut buf) {
                        Ok(frames) => frames,
                        Err(e) => {
                            tracing::warn!(error = %e, "baresip sent something that is not a netstring");
                            break e.to_string();
                        }
                    };
                    for frame in frames {
                        let text = String::from_utf8_lossy(&frame).into_owned();
                        let Ok(message) = serde_json::from_slice::<Value>(&frame) else {
                            monitor.record(
                                SourceId::Baresip,
                                &text,
                                Verdict::Refused("not JSON".to_owned()),
                            );
                            continue;
                        };
                        let Some(event) = to_event(&message, &mut seen) else {
                            monitor.record(SourceId::Baresip, &text, Verdict::Ignored);
                            continue;
                        };
                        monitor.record(SourceId::Baresip, &text, Verdict::Accepted);
                        tracing::info!(kind = %event.kind, number = %event.number, "baresip event");
                        if events.send(Heard::unacknowledged(event)).await.is_err() {
                            return;
                        }
                    }
                };
                monitor.set_baresip(health(false, Some(why)));
                tracing::warn!(%addr, "baresip connection closed; reconnecting");
            }
            Err(e) => {
                tracing::debug!(%addr, error = %e, "baresip not reachable");
                monitor.set_baresip(health(false, Some(e.to_string())));
            }
        }
        // Commands given while baresip is away are not kept: a call cannot be answered later.
        while commands.try_recv().is_ok() {}
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::{BaresipCommand, encode, take_netstrings, to_event};

    #[test]
    fn commands_are_netstrings_baresip_reads() {
        let mut frame = encode(&BaresipCommand::Accept, "pp-1");
        let payloads = take_netstrings(&mut frame).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&payloads[0]).unwrap();
        assert_eq!(json["command"], "accept");
        assert_eq!(json["token"], "pp-1");
        let mut frame = encode(&BaresipCommand::Dial("+79161112233".into()), "pp-2");
        let json: serde_json::Value =
            serde_json::from_slice(&take_netstrings(&mut frame).unwrap()[0]).unwrap();
        assert_eq!(json["command"], "dial");
        assert_eq!(json["params"], "+79161112233");
    }
    use crate::domain::EventKind;

    #[test]
    fn netstrings_come_apart_even_when_split() {
        let mut buf = b"5:hello,3:ab".to_vec();
        assert_eq!(take_netstrings(&mut buf).unwrap(), vec![b"hello".to_vec()]);
        buf.extend_from_slice(b"c,");
        assert_eq!(take_netstrings(&mut buf).unwrap(), vec![b"abc".to_vec()]);
        assert!(buf.is_empty());
        assert!(take_netstrings(&mut b"x:y,".to_vec()).is_err());
        assert!(take_netstrings(&mut b"1:ab".to_vec()).is_err());
    }

    #[test]
    fn the_verified_trace_maps_to_one_call() {
        let trace = [
            r#"{"event":true,"type":"CALL_REMOTE_SDP","class":"other","direction":"incoming","peeruri":"sip:79774221338@127.0.0.1:5094","id":"1-22309@127.0.0.1","param":"offer"}"#,
            r#"{"event":true,"type":"CALL_LOCAL_SDP","class":"other","direction":"incoming","peeruri":"sip:79774221338@127.0.0.1:5094","id":"1-22309@127.0.0.1","param":"answer"}"#,
            r#"{"response":true,"ok":true,"data":"","token":"t1"}"#,
            r#"{"event":true,"type":"CALL_ESTABLISHED","class":"call","direction":"incoming","peeruri":"sip:79774221338@127.0.0.1:5094","id":"1-22309@127.0.0.1"}"#,
            r#"{"event":true,"type":"CALL_CLOSED","class":"call","direction":"incoming","peeruri":"sip:79774221338@127.0.0.1:5094","id":"1-22309@127.0.0.1","param":"Connection reset by peer"}"#,
        ];
        let mut seen = HashSet::new();
        let kinds: Vec<EventKind> = trace
            .iter()
            .filter_map(|t| to_event(&serde_json::from_str(t).unwrap(), &mut seen))
            .map(|e| {
                assert_eq!(e.number.as_str(), "79774221338");
                assert_eq!(e.call_id.as_deref(), Some("1-22309@127.0.0.1"));
                e.kind
            })
            .collect();
        assert_eq!(
            kinds,
            vec![EventKind::Ring, EventKind::Answer, EventKind::End]
        );
    }
}
