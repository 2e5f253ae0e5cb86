//! When a call's task opens by itself (the pop policy): a heard call's task once, when
//! `open_on` says (at the registration, at the answer, or never) and only while the call
//! rings or talks; a typed call's only when Pyrus registers it soon after Register, so work
//! kept through an outage never comes back as a burst of tabs. Pure: the service asks, then
//! opens what it is told.

use std::collections::HashMap;

use crate::domain::JobId;
use crate::settings::{OpenOn, OpenTask};

/// How long a heard call's opening is remembered (longer than any call lasts).
pub(super) const POP_MEMORY_MS: i64 = 24 * 60 * 60 * 1000;

/// A typed call's task opens only if it is registered this soon after Register; one kept
/// through an outage is opened from the list, not popped in a burst.
pub(super) const TYPED_POP_MS: i64 = 2 * 60 * 1000;

/// What the settings say about opening tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Policy {
    /// When a heard call's task opens.
    pub(super) open_on: OpenOn,
    /// Whether the app opens tasks at all.
    pub(super) open_task: OpenTask,
}

/// A heard call's task: opened once, when the policy says.
#[derive(Debug, Default)]
struct Pop {
    external_id: String,
    heard_ms: i64,
    answered: bool,
    /// The call ended: its task no longer opens by itself (the list has Open task).
    ended: bool,
    url: Option<String>,
    opened: bool,
}

/// The calls whose tasks may open by themselves, by registration job.
#[derive(Debug, Default)]
pub(super) struct Pops {
    heard: HashMap<JobId, Pop>,
    /// The heard calls' jobs by external id.
    by_external_id: HashMap<String, JobId>,
    /// Calls typed in the window, with when Register was pressed.
    typed: HashMap<JobId, i64>,
}

impl Pops {
    /// Notes a heard call stored as `job` (a day's calls are remembered, no more).
    pub(super) fn heard(
        &mut self,
        job: JobId,
        external_id: &str,
        now_ms: i64,
        answered: bool,
        ended: bool,
    ) {
        let by_id = &mut self.by_external_id;
        self.heard.retain(|_, p| {
            let keep = now_ms - p.heard_ms < POP_MEMORY_MS;
            if !keep {
                by_id.remove(&p.external_id);
            }
            keep
        });
        // An ended call's task no longer opens by itself: nothing to remember.
        if ended {
            return;
        }
        self.by_external_id.insert(external_id.to_owned(), job);
        self.heard.insert(
            job,
            Pop {
                external_id: external_id.to_owned(),
                heard_ms: now_ms,
                answered,
                ended,
                ..Pop::default()
            },
        );
    }

    /// Notes a call typed in the window (or resent corrected) at `now_ms`.
    pub(super) fn typed(&mut self, job: JobId, now_ms: i64) {
        self.typed.insert(job, now_ms);
    }

    /// The registration job of the heard call with this external id.
    pub(super) fn job_of(&self, external_id: &str) -> Option<JobId> {
        self.by_external_id.get(external_id).copied()
    }

    /// Notes that a heard call ended: its task is not popped any more, so it is forgotten.
    pub(super) fn ended(&mut self, external_id: &str) {
        if let Some(job) = self.by_external_id.remove(external_id) {
            self.heard.remove(&job);
        }
    }

    /// A heard call's news (its task link as registered, or its answer): the link to open
    /// now, if the policy says it is time and it was not opened yet.
    pub(super) fn heard_news(
        &mut self,
        job: JobId,
        registered: Option<String>,
        answered: bool,
        policy: Policy,
    ) -> Option<String> {
        let pop = self.heard.get_mut(&job)?;
        if registered.is_some() {
            pop.url = registered;
        }
        pop.answered |= answered;
        let time = match policy.open_on {
            OpenOn::Ring => true,
            OpenOn::Answer => pop.answered,
            OpenOn::Manual => false,
        };
        if pop.opened || pop.ended || !time || policy.open_task != OpenTask::App {
            return None;
        }
        let url = pop.url.clone()?;
        pop.opened = true;
        Some(url)
    }

    /// A call was registered with `url`: the link to open now, if any — a heard call's per
    /// [`Pops::heard_news`], a typed one's when it came within [`TYPED_POP_MS`] of Register.
    /// A typed call is answered for once.
    pub(super) fn registered(
        &mut self,
        job: JobId,
        url: &str,
        now_ms: i64,
        policy: Policy,
    ) -> Option<String> {
        let typed_ms = self.typed.remove(&job);
        if self.heard.contains_key(&job) {
            return self.heard_news(job, Some(url.to_owned()), false, policy);
        }
        (typed_ms.is_some_and(|at| now_ms - at < TYPED_POP_MS) && policy.open_task == OpenTask::App)
            .then(|| url.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::{POP_MEMORY_MS, Policy, Pops, TYPED_POP_MS};
    use crate::domain::JobId;
    use crate::settings::{OpenOn, OpenTask};

    fn policy(open_on: OpenOn) -> Policy {
        Policy {
            open_on,
            open_task: OpenTask::App,
        }
    }

    const URL: &str = "https://pyrus.com/t#id7";

    #[test]
    fn a_heard_call_opens_once_at_registration_when_it_opens_on_ring() {
        let mut pops = Pops::default();
        pops.heard(JobId(1), "e-1", 0, false, false);
        let ring = policy(OpenOn::Ring);
        assert_eq!(
            pops.registered(JobId(1), URL, 10, ring),
            Some(URL.to_owned())
        );
        assert_eq!(pops.registered(JobId(1), URL, 20, ring), None, "once");
        assert_eq!(pops.heard_news(JobId(1), None, true, ring), None, "once");
    }

    #[test]
    fn on_answer_it_waits_for_both_the_task_and_the_answer_in_either_order() {
        let answer = policy(OpenOn::Answer);
        let mut pops = Pops::default();
        pops.heard(JobId(1), "e-1", 0, false, false);
        assert_eq!(
            pops.registered(JobId(1), URL, 10, answer),
            None,
            "not answered yet"
        );
        assert_eq!(pops.job_of("e-1"), Some(JobId(1)));
        assert_eq!(
            pops.heard_news(JobId(1), None, true, answer),
            Some(URL.to_owned())
        );
        let mut pops = Pops::default();
        pops.heard(JobId(2), "e-2", 0, false, false);
        assert_eq!(
            pops.heard_news(JobId(2), None, true, answer),
            None,
            "no task yet"
        );
        assert_eq!(
            pops.registered(JobId(2), URL, 10, answer),
            Some(URL.to_owned())
        );
    }

    #[test]
    fn an_ended_call_manual_policy_or_the_browser_off_never_pop() {
        let mut pops = Pops::default();
        pops.heard(JobId(1), "e-1", 0, true, false);
        pops.ended("e-1");
        assert_eq!(
            pops.registered(JobId(1), URL, 10, policy(OpenOn::Ring)),
            None
        );
        pops.heard(JobId(2), "e-2", 0, true, false);
        assert_eq!(
            pops.registered(JobId(2), URL, 10, policy(OpenOn::Manual)),
            None
        );
        pops.heard(JobId(3), "e-3", 0, true, false);
        let off = Policy {
            open_on: OpenOn::Ring,
            open_task: OpenTask::Nobody,
        };
        assert_eq!(pops.registered(JobId(3), URL, 10, off), None);
    }

    #[test]
    fn a_typed_call_opens_only_when_registered_soon_after_register() {
        let ring = policy(OpenOn::Ring);
        let mut pops = Pops::default();
        pops.typed(JobId(1), 1_000);
        assert_eq!(
            pops.registered(JobId(1), URL, 1_000 + TYPED_POP_MS - 1, ring),
            Some(URL.to_owned())
        );
        pops.typed(JobId(2), 1_000);
        assert_eq!(
            pops.registered(JobId(2), URL, 1_000 + TYPED_POP_MS, ring),
            None
        );
        assert_eq!(
            pops.registered(JobId(3), URL, 0, ring),
            None,
            "not typed here"
        );
    }

    #[test]
    fn heard_calls_are_forgotten_after_a_day() {
        let mut pops = Pops::default();
        pops.heard(JobId(1), "e-1", 0, false, false);
        pops.heard(JobId(2), "e-2", POP_MEMORY_MS, false, false);
        assert_eq!(pops.job_of("e-1"), None);
        assert_eq!(pops.job_of("e-2"), Some(JobId(2)));
    }
}
