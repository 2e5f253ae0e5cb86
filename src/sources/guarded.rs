//! The hook's listener under hostile local load. Connections are accepted while file
//! descriptors last ([`connection_cap`]: the open-file limit less a reserve for the rest of
//! the app, at most 4,096 — so a few hundred idle or trickling connections never keep a
//! softphone waiting in the kernel's queue). Each connection is held to deadlines, whatever
//! it sends:
//! - its first byte within [`FIRST_BYTE`];
//! - each request whole — head and body — within [`REQUEST_WITHIN`] of its first byte, so a
//!   client sending one byte every few seconds is closed, not kept;
//! - between requests on a kept-alive connection, at most [`IDLE`] of silence;
//! - once a request is whole, its connection is not cut while the answer is prepared (a
//!   slow store never cuts a valid request); the answer itself must move within [`IDLE`].
//!
//! A peer on the network (a desk phone, when the hook listens beyond this computer) holds at
//! most [`PER_PEER`] connections: one device cannot take every slot. Local processes all
//! come from the loopback address, so they share the whole cap and the deadlines above.
//!
//! Connections that have shown the hook's token (`Authorization: Bearer` or `?token=` in
//! their head) go ahead of the rest: when every slot is held and another connection comes,
//! the oldest connection that has not shown it — and is not being answered — is closed to
//! make room. A flood without the token can fill the slots but never keep a softphone out.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use super::token::TokenCell;

/// The most connections served at once, whatever the file limit.
pub const MAX_CONNECTIONS: usize = 4096;

/// Files kept for the rest of the app (the outbox, logs, the browser, baresip…).
const FILES_RESERVED: usize = 256;

/// How long a new connection may take to send its first byte.
pub const FIRST_BYTE: Duration = Duration::from_secs(2);

/// How long a request may take to arrive whole (head and body) from its first byte: a
/// softphone's or the forwarder's arrives in one go.
pub const REQUEST_WITHIN: Duration = Duration::from_secs(3);

/// How long a connection may stay silent between requests, or while its answer is written.
pub const IDLE: Duration = Duration::from_secs(15);

/// Connections one address on the network may hold at once.
pub const PER_PEER: usize = 32;

/// How many connections each network address holds (loopback is not counted).
#[derive(Debug, Default)]
struct PeerSlots(Mutex<std::collections::HashMap<std::net::IpAddr, usize>>);

/// One connection counted against its address; given back when dropped.
#[derive(Debug)]
struct PeerSlot {
    peers: Arc<PeerSlots>,
    ip: std::net::IpAddr,
}

impl PeerSlots {
    /// A slot for a connection from `ip`: always for loopback, else while it holds fewer
    /// than [`PER_PEER`].
    fn take(self: &Arc<Self>, ip: std::net::IpAddr) -> Option<Option<PeerSlot>> {
        if ip.is_loopback() || ip.to_canonical().is_loopback() {
            return Some(None);
        }
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(ip).or_insert(0);
        if *count >= PER_PEER {
            return None;
        }
        *count += 1;
        Some(Some(PeerSlot {
            peers: Arc::clone(self),
            ip,
        }))
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut held = self.peers.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.ip);
            }
        }
    }
}

/// How a held connection stands when room must be made.
#[derive(Debug, Default)]
struct Standing {
    /// It showed the hook's token: never closed to make room.
    proven: AtomicBool,
    /// A whole request of its is being answered: not closed either.
    answering: AtomicBool,
    /// Closed to make room: its next poll ends it.
    put_out: AtomicBool,
    /// What to wake when it is put out.
    waker: Mutex<Option<Waker>>,
}

impl Standing {
    fn put_out(&self) {
        self.put_out.store(true, Ordering::SeqCst);
        let waker = self
            .waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn is_put_out(&self) -> bool {
        self.put_out.load(Ordering::SeqCst)
    }

    /// Remembers who to wake (a connection waiting to read or write).
    fn watch(&self, cx: &Context<'_>) {
        let mut waker = self.waker.lock().unwrap_or_else(PoisonError::into_inner);
        if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *waker = Some(cx.waker().clone());
        }
    }
}

/// The connections held, oldest first.
#[derive(Debug, Default)]
struct Roster(Mutex<VecDeque<Weak<Standing>>>);

impl Roster {
    /// A new connection's standing, counted as the newest.
    fn join(&self, cap: usize) -> Arc<Standing> {
        let standing = Arc::new(Standing::default());
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if held.len() >= cap.saturating_mul(2) {
            held.retain(|w| w.strong_count() > 0);
        }
        held.push_back(Arc::downgrade(&standing));
        standing
    }

    /// Puts out the oldest connection that has not shown the token and is not being
    /// answered; false when there is none.
    fn make_room(&self) -> bool {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        while held.front().is_some_and(|w| w.strong_count() == 0) {
            held.pop_front();
        }
        let stranger = held.iter().filter_map(Weak::upgrade).find(|s| {
            !s.proven.load(Ordering::SeqCst)
                && !s.answering.load(Ordering::SeqCst)
                && !s.is_put_out()
        });
        match stranger {
            Some(standing) => {
                standing.put_out();
                true
            }
            None => false,
        }
    }
}

/// How long a whole request may wait for its answer before the connection is given up.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

/// Connections served at once: the open-file limit less [`FILES_RESERVED`], between 64 and
/// [`MAX_CONNECTIONS`].
pub fn connection_cap() -> usize {
    #[cfg(unix)]
    {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
        let files = limit.map_or(MAX_CONNECTIONS, |n| {
            usize::try_from(n).unwrap_or(MAX_CONNECTIONS)
        });
        files
            .saturating_sub(FILES_RESERVED)
            .clamp(64, MAX_CONNECTIONS)
    }
    #[cfg(not(unix))]
    {
        MAX_CONNECTIONS
    }
}

/// A listener that hands out connections within the limits.
#[derive(Debug)]
pub struct GuardedListener {
    inner: TcpListener,
    cap: usize,
    slots: Arc<Semaphore>,
    peers: Arc<PeerSlots>,
    roster: Roster,
    token: TokenCell,
}

impl GuardedListener {
    /// Guards `inner`; connections showing `token` go ahead of the rest.
    pub fn new(inner: TcpListener, token: TokenCell) -> Self {
        let cap = connection_cap();
        Self {
            inner,
            cap,
            slots: Arc::new(Semaphore::new(cap)),
            peers: Arc::default(),
            roster: Roster::default(),
            token,
        }
    }

    /// A slot for a connection just accepted: a free one, else the one a stranger is put
    /// out of (or, when every connection has shown the token, the next one freed).
    async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        if let Ok(slot) = Arc::clone(&self.slots).try_acquire_owned() {
            return Some(slot);
        }
        if self.roster.make_room() {
            tracing::debug!("every hook connection is held: the oldest without the token closed");
        }
        // (The semaphore is never closed.)
        Arc::clone(&self.slots).acquire_owned().await.ok()
    }
}

impl axum::serve::Listener for GuardedListener {
    type Io = Guarded;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((io, addr)) => {
                    // One device over its share is closed at once.
                    let Some(peer) = self.peers.take(addr.ip()) else {
                        tracing::debug!("a network peer holds its share of connections; closed");
                        continue;
                    };
                    // Over the limit, this one waits for a slot (and the rest in the
                    // kernel's queue).
                    let slot = self.slot().await;
                    return (
                        Guarded {
                            io,
                            idle: Box::pin(tokio::time::sleep(FIRST_BYTE)),
                            request: Request::Waiting,
                            standing: self.roster.join(self.cap),
                            token: self.token.clone(),
                            _slot: slot,
                            _peer: peer,
                        },
                        addr,
                    );
                }
                Err(e) => {
                    // Out of files or a connection reset before accept: wait a moment.
                    tracing::warn!(error = %e, "the event hook could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Who is on the other end of a guarded connection (what the handlers check).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, GuardedListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, GuardedListener>) -> Self {
        Self(*stream.remote_addr())
    }
}

/// How much of a head line is kept to read a header (the request line, with its query,
/// is the longest wanted).
const LINE_KEPT: usize = 512;

/// Where a connection is in its current request, as far as its deadlines go.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Request {
    /// No byte of a request yet.
    Waiting,
    /// The head is arriving: `line` is the line so far (its first [`LINE_KEPT`] bytes) and
    /// `line_len` its length, `first` whether it is the request line, `length` and
    /// `chunked` what the head said of the body.
    Head {
        line: Vec<u8>,
        line_len: usize,
        first: bool,
        length: u64,
        chunked: bool,
    },
    /// The body is arriving: `left` bytes of it, or chunked (ends with `0\r\n\r\n`).
    Body { left: u64 },
    /// A chunked body: the last bytes seen, to spot its end.
    Chunked { tail: u32 },
    /// Whole: the answer is being prepared.
    Whole,
}

/// True when `line` starts with `name` in any case.
fn names(line: &[u8], name: &[u8]) -> bool {
    line.get(..name.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(name))
}

/// The token a head line shows: `?token=` in the request line, or an `Authorization:
/// Bearer` header.
fn token_in(line: &[u8], first: bool) -> Option<&[u8]> {
    if first {
        let target = line.split(|b| *b == b' ').nth(1)?;
        let query = target.splitn(2, |b| *b == b'?').nth(1)?;
        return query
            .split(|b| *b == b'&')
            .find_map(|pair| pair.strip_prefix(b"token="));
    }
    if !names(line, b"authorization:") {
        return None;
    }
    let value = line["authorization:".len()..].trim_ascii();
    names(value, b"bearer ").then(|| value["bearer ".len()..].trim_ascii())
}

impl Request {
    /// Follows `bytes` read from the client; true when they complete a request. A token
    /// the head shows is put in `shown`.
    fn read(&mut self, bytes: &[u8], shown: &mut Option<Vec<u8>>) -> bool {
        let mut whole = false;
        for &b in bytes {
            if self.step(b, shown) {
                whole = true;
            }
        }
        whole
    }

    fn step(&mut self, b: u8, shown: &mut Option<Vec<u8>>) -> bool {
        match self {
            Self::Waiting | Self::Whole => {
                *self = Self::Head {
                    line: Vec::new(),
                    line_len: 0,
                    first: true,
                    length: 0,
                    chunked: false,
                };
                self.step(b, shown)
            }
            Self::Head {
                line,
                line_len,
                first,
                length,
                chunked,
            } => {
                if b != b'\n' {
                    if b != b'\r' {
                        *line_len += 1;
                        if line.len() < LINE_KEPT {
                            line.push(b);
                        }
                    }
                    return false;
                }
                if *line_len > 0 {
                    if let Some(token) = token_in(line, *first) {
                        *shown = Some(token.to_vec());
                    }
                    if names(line, b"content-length:") {
                        *length = std::str::from_utf8(&line["content-length:".len()..])
                            .ok()
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                    } else if names(line, b"transfer-encoding:")
                        && line
                            .trim_ascii_end()
                            .to_ascii_lowercase()
                            .ends_with(b"chunked")
                    {
                        *chunked = true;
                    }
                    line.clear();
                    *line_len = 0;
                    *first = false;
                    return false;
                }
                // The empty line: the head is whole.
                *self = if *chunked {
                    Self::Chunked { tail: 0 }
                } else if *length > 0 {
                    Self::Body { left: *length }
                } else {
                    Self::Whole
                };
                *self == Self::Whole
            }
            Self::Body { left } => {
                *left -= 1;
                if *left == 0 {
                    *self = Self::Whole;
                    return true;
                }
                false
            }
            Self::Chunked { tail } => {
                *tail = (*tail << 8) | u32::from(b);
                // "0\r\n\r\n" ends the body ("\r\n0\r\n\r\n", its last four bytes
                // after a zero: close enough, as the answer comes only after the body).
                if *tail == u32::from_be_bytes(*b"\r\n\r\n") {
                    *self = Self::Whole;
                    return true;
                }
                false
            }
        }
    }
}

/// A connection held to the deadlines in the module doc; frees its slot when done.
#[derive(Debug)]
pub struct Guarded {
    io: TcpStream,
    idle: Pin<Box<Sleep>>,
    request: Request,
    standing: Arc<Standing>,
    token: TokenCell,
    _slot: Option<OwnedSemaphorePermit>,
    _peer: Option<PeerSlot>,
}

impl Guarded {
    /// Bytes came in: a request's first byte starts its deadline, its last byte lifts it.
    fn received(&mut self, bytes: &[u8]) {
        let starting = matches!(self.request, Request::Waiting | Request::Whole);
        if bytes.is_empty() {
            return;
        }
        let mut shown = None;
        let whole = self.request.read(bytes, &mut shown);
        if shown.is_some_and(|token| self.token.matches(&token)) {
            self.standing.proven.store(true, Ordering::SeqCst);
        }
        if whole {
            self.standing.answering.store(true, Ordering::SeqCst);
            self.deadline(ANSWER_WITHIN);
        } else if starting {
            self.deadline(REQUEST_WITHIN);
        }
    }

    /// The answer moved: the connection may wait [`IDLE`] for the next request.
    fn answered(&mut self) {
        if self.request == Request::Whole {
            self.request = Request::Waiting;
            self.standing.answering.store(false, Ordering::SeqCst);
        }
        self.deadline(IDLE);
    }

    fn deadline(&mut self, after: Duration) {
        self.idle.as_mut().reset(Instant::now() + after);
    }

    fn timed_out(&mut self, cx: &mut Context<'_>) -> bool {
        self.idle.as_mut().poll(cx).is_ready()
    }
}

fn put_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "closed to make room for a connection with the hook's token",
    )
}

fn silent() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the connection did not keep to its deadlines",
    )
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.standing.is_put_out() {
            return Poll::Ready(Err(put_out()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.received(&buf.filled()[before..]);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending if this.timed_out(cx) => Poll::Ready(Err(silent())),
            Poll::Pending => {
                this.standing.watch(cx);
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.standing.is_put_out() {
            return Poll::Ready(Err(put_out()));
        }
        match Pin::new(&mut this.io).poll_write(cx, buf) {
            Poll::Ready(done) => {
                this.answered();
                Poll::Ready(done)
            }
            Poll::Pending if this.timed_out(cx) => Poll::Ready(Err(silent())),
            Poll::Pending => {
                this.standing.watch(cx);
                Poll::Pending
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::Request;

    fn feed(request: &mut Request, text: &[u8]) -> Vec<bool> {
        text.iter()
            .map(|b| request.read(&[*b], &mut None))
            .collect()
    }

    fn read(request: &mut Request, text: &[u8]) -> bool {
        request.read(text, &mut None)
    }

    #[test]
    fn a_request_is_whole_at_the_end_of_its_head_or_its_body() {
        let mut r = Request::Waiting;
        let done = feed(&mut r, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(done.iter().filter(|d| **d).count(), 1);
        assert_eq!(done.last(), Some(&true));
        assert_eq!(r, Request::Whole);

        let mut r = Request::Waiting;
        let head = b"POST /events HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
        assert!(
            !feed(&mut r, head).contains(&true),
            "the body is still to come"
        );
        assert_eq!(r, Request::Body { left: 5 });
        assert!(!read(&mut r, b"{\"a\""));
        assert!(read(&mut r, b"}\n"), "the last byte of the body");

        let mut r = Request::Waiting;
        let head = b"POST /events HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(!read(&mut r, head));
        assert!(!read(&mut r, b"2\r\n{}\r\n"));
        assert!(read(&mut r, b"0\r\n\r\n"));
        // A kept-alive connection's next request starts over.
        assert!(read(&mut r, b"GET / HTTP/1.1\r\n\r\n"));
    }

    #[test]
    fn a_network_peer_holds_its_share_and_loopback_is_not_counted() {
        use super::{PER_PEER, PeerSlots};
        use std::net::IpAddr;
        let peers = std::sync::Arc::new(PeerSlots::default());
        let phone: IpAddr = "192.168.1.50".parse().unwrap();
        let other: IpAddr = "192.168.1.51".parse().unwrap();
        let held: Vec<_> = (0..PER_PEER)
            .map(|_| peers.take(phone).unwrap().unwrap())
            .collect();
        assert!(peers.take(phone).is_none(), "over its share");
        assert!(
            peers.take(other).unwrap().is_some(),
            "another device is served"
        );
        for local in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            let ip: IpAddr = local.parse().unwrap();
            assert!(
                matches!(peers.take(ip), Some(None)),
                "{local} is not counted"
            );
        }
        drop(held);
        assert!(peers.take(phone).unwrap().is_some(), "its slots came back");
    }

    #[test]
    fn a_trickle_never_makes_a_request_whole() {
        let mut r = Request::Waiting;
        assert!(!feed(&mut r, b"POST /events HTTP/1.1\r\nX-Slow: ").contains(&true));
        assert!(matches!(r, Request::Head { .. }));
    }

    #[test]
    fn a_head_shows_its_token_in_a_bearer_header_or_the_query() {
        let shown = |text: &[u8]| {
            let mut r = Request::Waiting;
            let mut shown = None;
            r.read(text, &mut shown);
            shown
        };
        assert_eq!(
            shown(b"POST /events HTTP/1.1\r\nauthorization:  BEARER ab12 \r\n\r\n"),
            Some(b"ab12".to_vec())
        );
        assert_eq!(
            shown(b"GET /events?event=ring&token=cd34&number=1 HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some(b"cd34".to_vec())
        );
        assert_eq!(
            shown(b"GET /events?event=ring HTTP/1.1\r\nX-Token: token=ef\r\n\r\n"),
            None,
            "only the request line's query and Authorization count"
        );
        assert_eq!(
            shown(b"GET /x HTTP/1.1\r\nAuthorization: Basic Zm9v\r\n\r\n"),
            None
        );
    }

    #[test]
    fn room_is_made_by_the_oldest_connection_without_the_token() {
        use super::Roster;
        use std::sync::atomic::Ordering;
        let roster = Roster::default();
        let proven = roster.join(8);
        proven.proven.store(true, Ordering::SeqCst);
        let answering = roster.join(8);
        answering.answering.store(true, Ordering::SeqCst);
        let gone = roster.join(8);
        drop(gone);
        let stranger = roster.join(8);
        let newer = roster.join(8);
        assert!(roster.make_room());
        assert!(stranger.is_put_out(), "the oldest stranger");
        assert!(!proven.is_put_out() && !answering.is_put_out() && !newer.is_put_out());
        assert!(roster.make_room());
        assert!(newer.is_put_out());
        assert!(
            !roster.make_room(),
            "only proven and answering connections are left"
        );
    }
}
