//! Waiting for something to happen. Every wait in the tests goes through here: it polls a
//! check until it holds, with a deadline and a name for what it waits for, and fails naming
//! that when the deadline passes. A check answers `bool`, or `Option<T>` to hand back what
//! it found.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often a check is made again.
const POLL: Duration = Duration::from_millis(25);

/// What a check answers: done (`true`, `Some`) or not yet.
pub trait Ready {
    /// What a wait on this check returns.
    type Value;
    /// `Some` once the wait is over.
    fn ready(self) -> Option<Self::Value>;
}

impl Ready for bool {
    type Value = ();
    fn ready(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Ready for Option<T> {
    type Value = T;
    fn ready(self) -> Option<T> {
        self
    }
}

/// When a wait for `what` gives up.
struct Deadline<'a> {
    what: &'a str,
    timeout: Duration,
    at: Instant,
}

impl<'a> Deadline<'a> {
    fn after(what: &'a str, timeout: Duration) -> Self {
        Self {
            what,
            timeout,
            at: Instant::now() + timeout,
        }
    }

    /// Fails the test once the deadline has passed.
    fn check(&self) {
        assert!(
            Instant::now() < self.at,
            "timed out after {:?} waiting for {}",
            self.timeout,
            self.what
        );
    }
}

/// Polls the async `check` until it is ready, failing after `timeout`.
pub async fn wait_until_async<R: Ready, F: Future<Output = R>>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> F,
) -> R::Value {
    let deadline = Deadline::after(what, timeout);
    loop {
        if let Some(value) = check().await.ready() {
            return value;
        }
        deadline.check();
        tokio::time::sleep(POLL).await;
    }
}

/// Polls `check` until it is ready, failing after `timeout`; the runtime goes on meanwhile.
pub async fn wait_until<R: Ready>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> R,
) -> R::Value {
    wait_until_async(what, timeout, || std::future::ready(check())).await
}

/// Polls `check` until it is ready, failing after `timeout`, blocking this thread (the
/// window tests, whose instance runs on a runtime of its own).
pub fn wait_until_blocking<R: Ready>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> R,
) -> R::Value {
    let deadline = Deadline::after(what, timeout);
    loop {
        if let Some(value) = check().ready() {
            return value;
        }
        deadline.check();
        std::thread::sleep(POLL);
    }
}
