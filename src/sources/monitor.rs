//! What the sources are doing, for the hook doctor: each source writes its raw messages and
//! its health here; the service reads a snapshot when something changed. Short locks only.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use tokio::sync::Notify;

use crate::domain::sources::RAW_KEPT;
use crate::domain::{BaresipHealth, HookHealth, RawMessage, SourceId, Verdict};

#[derive(Debug, Default)]
struct Inner {
    raw: BTreeMap<SourceId, VecDeque<RawMessage>>,
    hook: Option<HookHealth>,
    baresip: Option<BaresipHealth>,
    outbox_problem: Option<String>,
}

/// The sources' shared notebook.
#[derive(Debug, Default)]
pub struct Monitor {
    inner: Mutex<Inner>,
    changed: Notify,
}

/// What the monitor holds at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The HTTP hook.
    pub hook: Option<HookHealth>,
    /// baresip.
    pub baresip: Option<BaresipHealth>,
    /// Why heard events cannot be stored, when they cannot.
    pub outbox_problem: Option<String>,
    /// The last raw messages of each source, newest first.
    pub raw: Vec<(SourceId, Vec<RawMessage>)>,
}

/// Now, in Unix ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Monitor {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let out = f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner));
        self.changed.notify_one();
        out
    }

    /// Notes a raw message from `source`; the oldest beyond [`RAW_KEPT`] is dropped.
    pub fn record(&self, source: SourceId, text: &str, verdict: Verdict) {
        let message = RawMessage::new(now_ms(), text, verdict);
        self.with(|inner| {
            let list = inner.raw.entry(source).or_default();
            list.push_front(message);
            list.truncate(RAW_KEPT);
        });
    }

    /// Changes the verdict of `source`'s newest accepted message (what became of the call
    /// it carried, once the service knows).
    pub fn revise_newest(&self, source: SourceId, verdict: Verdict) {
        self.with(|inner| {
            if let Some(message) = inner
                .raw
                .get_mut(&source)
                .and_then(|list| list.iter_mut().find(|m| m.verdict == Verdict::Accepted))
            {
                message.verdict = verdict;
            }
        });
    }

    /// Sets the hook's health.
    pub fn set_hook(&self, health: HookHealth) {
        self.with(|inner| inner.hook = Some(health));
    }

    /// Changes the hook's health, if it has one.
    pub fn update_hook(&self, f: impl FnOnce(&mut HookHealth)) {
        self.with(|inner| inner.hook.as_mut().map(f));
    }

    /// Notes whether heard events can be stored (`None`: they can), telling the doctor
    /// only when that changes; true when it did.
    pub fn set_outbox_problem(&self, problem: Option<String>) -> bool {
        let changed = {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            let changed = inner.outbox_problem != problem;
            inner.outbox_problem = problem;
            changed
        };
        if changed {
            self.changed.notify_one();
        }
        changed
    }

    /// Sets baresip's health.
    pub fn set_baresip(&self, health: BaresipHealth) {
        self.with(|inner| inner.baresip = Some(health));
    }

    /// A copy of everything.
    pub fn snapshot(&self) -> Snapshot {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        Snapshot {
            hook: inner.hook.clone(),
            baresip: inner.baresip.clone(),
            outbox_problem: inner.outbox_problem.clone(),
            raw: inner
                .raw
                .iter()
                .map(|(source, list)| (*source, list.iter().cloned().collect()))
                .collect(),
        }
    }

    /// Waits until something changes.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::Monitor;
    use crate::domain::sources::RAW_KEPT;
    use crate::domain::{SourceId, Verdict};

    #[test]
    fn keeps_the_newest_fifty_per_source() {
        let monitor = Monitor::default();
        for i in 0..(RAW_KEPT + 7) {
            monitor.record(SourceId::Http, &format!("m{i}"), Verdict::Accepted);
        }
        monitor.record(SourceId::Baresip, "b", Verdict::Ignored);
        let snap = monitor.snapshot();
        let http = &snap
            .raw
            .iter()
            .find(|(s, _)| *s == SourceId::Http)
            .unwrap()
            .1;
        assert_eq!(http.len(), RAW_KEPT);
        assert_eq!(http[0].text, format!("m{}", RAW_KEPT + 6));
        assert_eq!(http[RAW_KEPT - 1].text, "m7");
        let baresip = &snap
            .raw
            .iter()
            .find(|(s, _)| *s == SourceId::Baresip)
            .unwrap()
            .1;
        assert_eq!(baresip.len(), 1);
    }
}
