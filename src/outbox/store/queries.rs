//! What the window and `queue` list: kept calls with the state of their jobs, and jobs
//! with what they are about — as typed rows; the front ends word them.

use std::collections::HashMap;

use rusqlite::params;

use super::error::corrupt;
use super::{
    AttachPayload, CallRow, CommentPayload, PickupPayload, Store, StoreError, StoredTarget,
    call_row,
};
use crate::domain::{
    CallLife, CallNumbers, CallQuery, CallRecord, CallRequest, CallRowId, JobBrief, JobId, JobKind,
    JobState, JobSubject, JobView, QUERY_LIMIT, RecordingBrief, RecordingTo,
};

/// A query's arguments.
type Args<'a> = [&'a dyn rusqlite::ToSql];

/// Kept calls by row id, in the order read.
struct Calls {
    order: Vec<i64>,
    by_id: HashMap<i64, ReadCall>,
}

/// One stored call as the list reads it.
struct ReadCall {
    call: CallRow,
    created_ms: i64,
    life: CallLife,
    display: Option<String>,
    end_reason: Option<String>,
}

/// The jobs of kept calls: each call's registration and its recordings.
#[derive(Default)]
struct CallJobs {
    registers: HashMap<i64, JobBrief>,
    recordings: HashMap<i64, Vec<RecordingBrief>>,
    wrapups: HashMap<i64, JobBrief>,
    /// Outcomes Pyrus refused, by call.
    refused_outcomes: HashMap<i64, JobBrief>,
}

impl Store {
    /// One job.
    pub fn job(&self, job: JobId) -> Result<JobView, StoreError> {
        self.views("WHERE j.id = ?1", params![job.0])?
            .pop()
            .ok_or(StoreError::NoSuchJob(job))
    }

    /// Jobs not yet done or discarded, oldest first.
    pub fn open_jobs(&self) -> Result<Vec<JobView>, StoreError> {
        self.views("WHERE j.state NOT IN ('done', 'discarded')", params![])
    }

    /// How many jobs are still to be done (the status bar's figure).
    pub fn open_job_count(&self) -> Result<usize, StoreError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM jobs WHERE state NOT IN ('done', 'discarded')",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| usize::try_from(n).unwrap_or(0))
            .map_err(|e| self.sql(e))
    }

    /// The call a job belongs to, as the list shows it (`None`: a job of no call, or a call
    /// whose registration was discarded).
    pub fn call_record_of(&self, job: JobId) -> Result<Option<CallRecord>, StoreError> {
        const WANTED: &str = "c.id = (SELECT call_id FROM jobs WHERE id = ?1)";
        Ok(self.records(WANTED, &[&job.0])?.pop())
    }

    /// The call stored under `external_id`, as the list shows it.
    pub fn call_record_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<CallRecord>, StoreError> {
        Ok(self.records("c.external_id = ?1", &[&external_id])?.pop())
    }

    /// Calls stored since `since_ms`, and older ones with work still open, newest first,
    /// each with the state of its jobs. Calls whose registration was discarded are left out.
    pub fn call_records(&self, since_ms: i64) -> Result<Vec<CallRecord>, StoreError> {
        const WANTED: &str =
            "c.created_ms >= ?1 OR EXISTS (SELECT 1 FROM jobs o WHERE o.call_id = c.id
                              AND o.state NOT IN ('done', 'discarded'))";
        self.records(WANTED, &[&since_ms])
    }

    /// Kept calls that answer `query`, newest first, at most [`QUERY_LIMIT`].
    pub fn find_calls(&self, query: &CallQuery) -> Result<Vec<CallRecord>, StoreError> {
        // The newest matching ids first, so the jobs query reads only those calls.
        // Numbers are matched on the call's two numbers only; a missed call is an incoming
        // (or undirected) one that rang and ended unanswered; discarded calls are left out.
        const WANTED: &str = "c.id IN (SELECT k.id FROM calls k
              WHERE (?1 IS NULL OR k.created_ms >= ?1) AND (?2 IS NULL OR k.created_ms < ?2)
                AND (?3 IS NULL OR json_extract(k.request, '$.from') LIKE ?3
                     OR json_extract(k.request, '$.to') LIKE ?3 OR k.task_id = ?4)
                AND (?5 = 0 OR (k.started_ms IS NOT NULL AND k.answered_ms IS NULL
                                AND k.ended_ms IS NOT NULL
                                AND IFNULL(json_extract(k.request, '$.direction'), '')
                                    != 'outgoing'))
                AND NOT EXISTS (SELECT 1 FROM jobs d WHERE d.call_id = k.id
                                AND d.kind = ?7 AND d.state = 'discarded')
              ORDER BY k.created_ms DESC, k.id DESC LIMIT ?6)";
        let like = match (&query.digits, query.task_id) {
            (Some(d), _) => Some(format!("%{d}%")),
            (None, Some(_)) => Some(String::new()),
            (None, None) => None,
        };
        let limit = i64::try_from(QUERY_LIMIT).unwrap_or(i64::MAX);
        self.records(
            WANTED,
            &[
                &query.from_ms,
                &query.until_ms,
                &like,
                &query.task_id,
                &query.missed_only,
                &limit,
                &JobKind::Register,
            ],
        )
    }

    /// The calls (and their jobs) `wanted` selects from `calls c`, newest first.
    fn records(&self, wanted: &str, args: &Args<'_>) -> Result<Vec<CallRecord>, StoreError> {
        let Calls { order, mut by_id } = self.read_calls(wanted, args)?;
        let CallJobs {
            mut registers,
            mut recordings,
            mut wrapups,
            mut refused_outcomes,
        } = self.read_call_jobs(wanted, args)?;
        let mut out = Vec::with_capacity(order.len());
        for id in order {
            let (
                Some(ReadCall {
                    call,
                    created_ms,
                    life,
                    display,
                    end_reason,
                }),
                Some(register),
            ) = (by_id.remove(&id), registers.remove(&id))
            else {
                continue;
            };
            if register.state == JobState::Discarded {
                continue;
            }
            out.push(CallRecord {
                row: CallRowId(id),
                request: call.request,
                created_ms,
                register,
                registration: call.registration,
                task_url: None,
                recordings: recordings.remove(&id).unwrap_or_default(),
                wrapup: wrapups.remove(&id),
                outcome_refused: refused_outcomes.remove(&id),
                life,
                display,
                end_reason,
            });
        }
        Ok(out)
    }

    /// The calls `wanted` selects; one that cannot be read is logged and left out.
    fn read_calls(&self, wanted: &str, args: &Args<'_>) -> Result<Calls, StoreError> {
        let mut calls = self
            .conn
            .prepare(&format!(
                "SELECT c.id, c.request, c.registration, c.created_ms,
                        c.started_ms, c.answered_ms, c.ended_ms, c.display, c.end_reason
                 FROM calls c
                 WHERE {wanted} ORDER BY c.created_ms DESC, c.id DESC"
            ))
            .map_err(|e| self.sql(e))?;
        let rows = calls
            .query_map(args, |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, i64>(3)?,
                    CallLife {
                        started_ms: r.get(4)?,
                        answered_ms: r.get(5)?,
                        ended_ms: r.get(6)?,
                    },
                    (
                        r.get::<_, Option<String>>(7)?,
                        r.get::<_, Option<String>>(8)?,
                    ),
                ))
            })
            .map_err(|e| self.sql(e))?;
        let mut out = Calls {
            order: Vec::new(),
            by_id: HashMap::new(),
        };
        for row in rows {
            let (id, request, registration, created_ms, life, (display, end_reason)) =
                row.map_err(|e| self.sql(e))?;
            match call_row((id, request, registration)) {
                Ok(call) => {
                    out.order.push(id);
                    out.by_id.insert(
                        id,
                        ReadCall {
                            call,
                            created_ms,
                            life,
                            display,
                            end_reason,
                        },
                    );
                }
                Err(e) => {
                    tracing::error!(call = id, error = %e, "a stored call cannot be read; left out of the list");
                }
            }
        }
        Ok(out)
    }

    /// The jobs of the calls `wanted` selects; one that cannot be read is logged and left
    /// out.
    fn read_call_jobs(&self, wanted: &str, args: &Args<'_>) -> Result<CallJobs, StoreError> {
        let mut jobs = self
            .conn
            .prepare(&format!(
                "SELECT j.call_id, j.id, j.kind, j.state, j.attempts, j.next_ms, j.error_code,
                        j.error_message, j.payload
                 FROM jobs j JOIN calls c ON c.id = j.call_id WHERE {wanted} ORDER BY j.id"
            ))
            .map_err(|e| self.sql(e))?;
        let rows = jobs
            .query_map(args, |r| {
                Ok((r.get::<_, i64>(0)?, JobRow::read_from(r, 1)?))
            })
            .map_err(|e| self.sql(e))?;
        let mut out = CallJobs::default();
        for row in rows {
            let (call_id, job) = row.map_err(|e| self.sql(e))?;
            match job.read() {
                Ok(read) => out.add(call_id, read),
                Err(e) => {
                    tracing::error!(job = job.id, error = %e, "a job cannot be read; left out of the list");
                }
            }
        }
        Ok(out)
    }

    fn views(&self, filter: &str, args: &Args<'_>) -> Result<Vec<JobView>, StoreError> {
        let sql = format!(
            "SELECT j.id, j.kind, j.state, j.attempts, j.next_ms, j.error_code, j.error_message,
                    j.payload, j.created_ms, c.external_id, c.request, c.task_id, j.owner_pid
             FROM jobs j LEFT JOIN calls c ON c.id = j.call_id {filter} ORDER BY j.id"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map(args, |r| {
                Ok(RawView {
                    job: JobRow::read_from(r, 0)?,
                    created_ms: r.get(8)?,
                    external_id: r.get(9)?,
                    request: r.get(10)?,
                    task_id: r.get(11)?,
                    owner_pid: r.get(12)?,
                })
            })
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for raw in rows {
            let raw = raw.map_err(|e| self.sql(e))?;
            // A row that cannot be read is listed as what it is, never hides the others.
            let unreadable = raw.unreadable();
            let alive = |pid| self.owners.alive(pid);
            out.push(raw.into_view(alive).unwrap_or_else(|e| JobView {
                error_message: Some(e.to_string()),
                ..unreadable
            }));
        }
        Ok(out)
    }
}

/// A job of a kept call, as read for the list.
struct JobRow {
    id: i64,
    kind: String,
    state: String,
    attempts: u32,
    next_ms: i64,
    error_code: Option<String>,
    error_message: Option<String>,
    payload: Option<String>,
}

/// A job of a kept call, decoded: its kind, where it stands, and a recording's file.
struct ReadJob {
    kind: JobKind,
    brief: JobBrief,
    file_name: String,
    /// A call's outcome (a comment the agent did not write).
    outcome: bool,
}

impl JobRow {
    /// The row's job columns from column `at` on: id, kind, state, attempts, next_ms,
    /// error_code, error_message, payload.
    fn read_from(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(at)?,
            kind: r.get(at + 1)?,
            state: r.get(at + 2)?,
            attempts: r.get(at + 3)?,
            next_ms: r.get(at + 4)?,
            error_code: r.get(at + 5)?,
            error_message: r.get(at + 6)?,
            payload: r.get(at + 7)?,
        })
    }

    /// Its kind, and where it stands.
    fn brief(&self) -> Result<(JobKind, JobBrief), StoreError> {
        let kind = JobKind::from_name(&self.kind)
            .ok_or_else(|| corrupt(format!("unknown job kind {}", self.kind)))?;
        let state = JobState::from_name(&self.state)
            .ok_or_else(|| corrupt(format!("unknown job state {}", self.state)))?;
        Ok((
            kind,
            JobBrief {
                id: JobId(self.id),
                state,
                attempts: self.attempts,
                next_attempt_ms: (state == JobState::Pending).then_some(self.next_ms),
                error_code: self.error_code.clone(),
                error_message: self.error_message.clone(),
            },
        ))
    }

    fn read(&self) -> Result<ReadJob, StoreError> {
        let (kind, brief) = self.brief()?;
        let file_name = match kind {
            JobKind::Attach => file_name(
                &serde_json::from_str::<AttachPayload>(self.payload.as_deref().unwrap_or_default())
                    .map_err(corrupt)?,
            ),
            JobKind::Register | JobKind::Pickup | JobKind::Comment => String::new(),
        };
        let outcome = kind == JobKind::Comment
            && decode::<CommentPayload>(self.payload.as_deref())?
                .is_some_and(|p| p.outcome.is_some());
        Ok(ReadJob {
            kind,
            brief,
            file_name,
            outcome,
        })
    }
}

impl CallJobs {
    fn add(&mut self, call_id: i64, job: ReadJob) {
        let ReadJob {
            kind,
            brief,
            file_name,
            outcome,
        } = job;
        let shown = match kind {
            JobKind::Register => {
                self.registers.insert(call_id, brief);
                return;
            }
            // The latest wrap-up stands for the call (jobs are read oldest first).
            JobKind::Comment => {
                if brief.state != JobState::Discarded && !outcome {
                    self.wrapups.insert(call_id, brief);
                } else if outcome
                    && matches!(brief.state, JobState::Failed | JobState::NeedsCredentials)
                {
                    self.refused_outcomes.insert(call_id, brief);
                }
                return;
            }
            // A pickup shows while it looks, or when it found nothing; once it found the
            // file, its attach job stands for it.
            JobKind::Pickup => !matches!(brief.state, JobState::Done | JobState::Discarded),
            JobKind::Attach => brief.state != JobState::Discarded,
        };
        if shown {
            self.recordings
                .entry(call_id)
                .or_default()
                .push(RecordingBrief {
                    job: brief,
                    kind,
                    file_name,
                });
        }
    }
}

/// A recording's file name, as the list shows it.
fn file_name(payload: &AttachPayload) -> String {
    payload
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A job as read for `queue` and the window's job views.
struct RawView {
    job: JobRow,
    created_ms: i64,
    external_id: Option<String>,
    request: Option<String>,
    task_id: Option<i64>,
    owner_pid: Option<u32>,
}

impl RawView {
    /// What is listed for this row when it cannot be read.
    fn unreadable(&self) -> JobView {
        JobView {
            id: JobId(self.job.id),
            kind: JobKind::from_name(&self.job.kind).unwrap_or(JobKind::Register),
            state: JobState::from_name(&self.job.state).unwrap_or(JobState::Failed),
            attempts: 0,
            next_attempt_ms: None,
            error_code: Some("unreadable".to_owned()),
            error_message: None,
            external_id: None,
            task_id: None,
            file_name: None,
            subject: JobSubject::Unreadable,
            created_ms: self.created_ms,
            interrupted: false,
        }
    }

    fn into_view(self, alive: impl Fn(u32) -> bool) -> Result<JobView, StoreError> {
        let (kind, brief) = self.job.brief()?;
        let state = brief.state;
        let call: Option<CallRequest> = decode(self.request.as_deref())?;
        let numbers = call.as_ref().map(CallNumbers::from);
        let mut task_id = self.task_id.and_then(|t| u64::try_from(t).ok());
        let mut external_id = self.external_id;
        let mut file = None;
        let subject = match kind {
            JobKind::Register => numbers.map_or(JobSubject::Unreadable, JobSubject::Call),
            JobKind::Comment => {
                let payload: Option<CommentPayload> = decode(self.job.payload.as_deref())?;
                let Some(payload) = payload else {
                    return Err(corrupt("a comment job without its payload"));
                };
                task_id = Some(payload.task_id);
                JobSubject::Comment {
                    task_id: payload.task_id,
                }
            }
            JobKind::Pickup => {
                let pickup: Option<PickupPayload> = decode(self.job.payload.as_deref())?;
                JobSubject::FindRecording {
                    folder: pickup.map(|p| p.dir).unwrap_or_default(),
                    call: numbers,
                }
            }
            JobKind::Attach => {
                let payload: Option<AttachPayload> = decode(self.job.payload.as_deref())?;
                let Some(payload) = payload else {
                    return Err(corrupt("an attach job without its payload"));
                };
                let name = file_name(&payload);
                file = Some(name.clone());
                let to = match payload.target {
                    StoredTarget::Call(_) => RecordingTo::Call(numbers),
                    StoredTarget::Direct(target) => {
                        task_id = task_id.or(target.task_id());
                        external_id = external_id
                            .or_else(|| target.external_id().map(|e| e.as_str().to_owned()));
                        RecordingTo::Target(target)
                    }
                };
                JobSubject::Recording {
                    file_name: name,
                    to,
                }
            }
        };
        Ok(JobView {
            id: brief.id,
            kind,
            state,
            attempts: brief.attempts,
            next_attempt_ms: brief.next_attempt_ms,
            error_code: brief.error_code,
            error_message: brief.error_message,
            external_id,
            task_id,
            file_name: file,
            subject,
            created_ms: self.created_ms,
            interrupted: state == JobState::Running && self.owner_pid.is_none_or(|pid| !alive(pid)),
        })
    }
}

/// A stored JSON column, decoded.
fn decode<T: serde::de::DeserializeOwned>(json: Option<&str>) -> Result<Option<T>, StoreError> {
    json.map(serde_json::from_str).transpose().map_err(corrupt)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{call, store};

    use super::super::Store;
    use crate::domain::{Direction, PhoneNumber};

    #[test]
    fn kept_calls_are_found_by_their_numbers_task_and_day_and_missed_means_incoming() {
        use crate::domain::{CallLife, CallQuery};
        let (_dir, mut s) = store();
        let life = |answered: Option<i64>| CallLife {
            started_ms: Some(1_000),
            answered_ms: answered,
            ended_ms: Some(5_000),
        };
        let mut missed = call("m");
        missed.internal = Some(PhoneNumber::parse_extension("2001").unwrap());
        s.insert_call(&missed, None, 1_000).unwrap();
        s.note_life("m", life(None), false).unwrap();
        let mut out = call("o");
        out.direction = Direction::Outgoing;
        out.from = PhoneNumber::parse("+79990000000").unwrap();
        s.insert_call(&out, None, 2_000).unwrap();
        s.note_life("o", life(None), false).unwrap();
        let mut talked = call("t");
        talked.from = PhoneNumber::parse("+79998887766").unwrap();
        s.insert_call(&talked, None, 3_000).unwrap();
        assert!(s.note_life("t", life(Some(2_000)), false).unwrap());
        assert!(
            !s.note_life("nobody", life(None), false).unwrap(),
            "no such call"
        );

        let ids = |q: CallQuery, s: &Store| -> Vec<String> {
            s.find_calls(&q)
                .unwrap()
                .into_iter()
                .map(|c| c.request.external_id.unwrap().as_str().to_owned())
                .collect()
        };
        let missed_only = CallQuery {
            missed_only: true,
            ..CallQuery::default()
        };
        assert_eq!(
            ids(missed_only, &s),
            vec!["m"],
            "an outgoing call is not missed"
        );
        // Digits match either number only, not the internal number or the ids.
        let by = |d: &str| CallQuery {
            digits: Some(d.into()),
            ..CallQuery::default()
        };
        assert_eq!(ids(by("8887766"), &s), vec!["t"]);
        assert_eq!(ids(by("4953009080"), &s), vec!["t", "o", "m"]);
        assert!(ids(by("2001"), &s).is_empty(), "not the internal number");
        let day = CallQuery {
            from_ms: Some(1_500),
            until_ms: Some(2_500),
            ..CallQuery::default()
        };
        assert_eq!(ids(day, &s), vec!["o"]);
        // A call noted again keeps its first times.
        s.note_life("t", life(Some(9_999)), false).unwrap();
        let t = s.find_calls(&by("8887766")).unwrap().remove(0);
        assert_eq!(t.life.answered_ms, Some(2_000));
    }
}
