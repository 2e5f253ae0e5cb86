//! The hook's listener under hostile local load: at most [`MAX_CONNECTIONS`] connections at
//! once (well under a 1024-file limit, so accepting never fails for want of files); a
//! connection that has sent nothing [`FIRST_BYTE`] after it opened is closed, and so is one
//! that stays silent for [`IDLE`] (stalled in a request, or idle between keep-alive ones).
//! Further connections wait in the kernel's queue; a flood of idle connections churns
//! through in seconds, so valid events keep being served.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 512;

/// How long a new connection may take to send its first byte.
pub const FIRST_BYTE: Duration = Duration::from_secs(3);

/// How long a connection may stay silent (longer than a request waits for its event to
/// be stored, so a slow store never cuts a valid request).
pub const IDLE: Duration = Duration::from_secs(15);

/// A listener that hands out connections within the limits.
#[derive(Debug)]
pub struct GuardedListener {
    inner: TcpListener,
    slots: Arc<Semaphore>,
}

impl GuardedListener {
    /// Guards `inner`.
    pub fn new(inner: TcpListener) -> Self {
        Self {
            inner,
            slots: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
        }
    }
}

impl axum::serve::Listener for GuardedListener {
    type Io = Guarded;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            // A free slot first: over the limit, connections wait in the kernel's queue.
            // (The semaphore is never closed.)
            let slot = Arc::clone(&self.slots).acquire_owned().await.ok();
            match self.inner.accept().await {
                Ok((io, addr)) => {
                    return (
                        Guarded {
                            io,
                            idle: Box::pin(tokio::time::sleep(FIRST_BYTE)),
                            _slot: slot,
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

/// A connection that ends when it stays silent for [`IDLE`], and frees its slot when done.
#[derive(Debug)]
pub struct Guarded {
    io: TcpStream,
    idle: Pin<Box<Sleep>>,
    _slot: Option<OwnedSemaphorePermit>,
}

impl Guarded {
    fn active(&mut self) {
        self.idle.as_mut().reset(Instant::now() + IDLE);
    }

    fn timed_out(&mut self, cx: &mut Context<'_>) -> bool {
        self.idle.as_mut().poll(cx).is_ready()
    }
}

fn silent() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the connection stayed silent too long",
    )
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(done) => {
                this.active();
                Poll::Ready(done)
            }
            Poll::Pending if this.timed_out(cx) => Poll::Ready(Err(silent())),
            Poll::Pending => Poll::Pending,
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
        match Pin::new(&mut this.io).poll_write(cx, buf) {
            Poll::Ready(done) => {
                this.active();
                Poll::Ready(done)
            }
            Poll::Pending if this.timed_out(cx) => Poll::Ready(Err(silent())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
