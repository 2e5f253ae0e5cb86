//! The durable outbox: every call and recording is stored before the first network attempt,
//! sent by whichever pyrus-phone process reaches Pyrus, retried only when retrying can help,
//! and never dropped silently.

pub mod backoff;
pub mod owners;
pub mod store;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use crate::domain::LINE_NUMBER_MISSING;
use crate::domain::{
    AttachTarget, CallEvent, CallEventWire, CallLife, CallQuery, CallRecord, CallRequest,
    CallRowId, ExternalId, JobId, JobState, JobView, Mapping, Registration,
};
use crate::platform::files::FileIdentity;
mod callers;
mod comments;
mod heal;
mod history;

pub use comments::comment_marker;
use heal::heal_in_place;
use store::Store;
pub use store::{
    AttachPayload, CallOutcome, CallRow, Claimed, CommentPayload, IndexedTask, Lane, PickupPayload,
    Reading, StoreError, StoredTarget, Work,
};

/// How long a claimed job stays leased to one process without news.
pub const LEASE: Duration = Duration::from_secs(120);

/// A heard event as the journal keeps it until it is handled.
#[derive(Debug, Clone)]
pub struct Journaled {
    /// Its row.
    pub id: i64,
    /// The external id a call it starts gets when its source gave none: the same however
    /// often the event is handled (after a crash it is handled again).
    pub external_id: ExternalId,
    /// When it was heard (Unix ms): a kept event is handled as of then.
    pub received_ms: i64,
    /// The event.
    pub event: CallEvent,
}

/// An ended call whose recording is to be picked up.
#[derive(Debug, Clone)]
pub struct EndedCall {
    /// The call's external id, as stored.
    pub external_id: ExternalId,
    /// The far party's number.
    pub number: String,
    /// When it started (Unix ms).
    pub started_ms: i64,
    /// When it ended (Unix ms).
    pub ended_ms: i64,
    /// It was answered.
    pub answered: bool,
}

/// A heard event as the journal keeps it; rows kept by older versions carry `recording`
/// (never set), which is dropped. `None` when it cannot be read.
fn read_kept(json: &str) -> Option<CallEvent> {
    let mut value: serde_json::Value = serde_json::from_str(json).ok()?;
    if let Some(fields) = value.as_object_mut() {
        fields.remove("recording");
    }
    serde_json::from_value::<CallEventWire>(value)
        .ok()?
        .into_kept()
        .ok()
}

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A new external id for a call whose source gave none: time plus randomness.
pub fn generate_external_id() -> ExternalId {
    use rand::Rng as _;
    let random: u32 = rand::rng().random();
    let text = format!("pp-{:x}-{random:08x}", now_ms());
    // Always valid: short and non-empty.
    ExternalId::parse(&text).unwrap_or_else(|_| unreachable!("generated ids are valid"))
}

type SharedStore = Arc<Mutex<Store>>;

fn lock(store: &SharedStore) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Heard events handled since the journal last forgot some, and the open calls as they
/// stand after them: forgotten and kept in one transaction, so a restart finds either both
/// or neither.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Handled {
    /// The journal rows to forget.
    pub ids: Vec<i64>,
    /// The stitcher's open calls after them (JSON), when they changed.
    pub open_calls: Option<String>,
}

impl Handled {
    /// True when there is nothing to forget or keep.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.open_calls.is_none()
    }
}

/// The outbox over its database.
#[derive(Clone)]
pub struct Outbox {
    store: SharedStore,
    path: PathBuf,
    /// When a stand-in last tried to open the real file (Unix ms; shared by clones).
    last_heal_ms: Arc<std::sync::atomic::AtomicI64>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").finish_non_exhaustive()
    }
}

impl Outbox {
    /// The outbox's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A stand-in for the outbox at `path` that could not be opened (`why`): it stores
    /// nothing and says why, so the instance can run and tell the agent.
    pub fn unusable(path: &Path, why: String) -> Result<Self, StoreError> {
        Ok(Self {
            store: Arc::new(Mutex::new(Store::unusable(path, why)?)),
            path: path.to_path_buf(),
            last_heal_ms: Arc::new(std::sync::atomic::AtomicI64::new(now_ms())),
        })
    }

    /// Opens the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            store: Arc::new(Mutex::new(Store::open(path)?)),
            path: path.to_path_buf(),
            last_heal_ms: Arc::new(std::sync::atomic::AtomicI64::new(0)),
        })
    }

    async fn db<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let (store, path, last) = (
            Arc::clone(&self.store),
            self.path.clone(),
            Arc::clone(&self.last_heal_ms),
        );
        tokio::task::spawn_blocking(move || {
            let mut store = lock(&store);
            heal_in_place(&mut store, &path, &last);
            f(&mut store)
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("database task failed: {e}")))?
    }

    /// Stores a call and its registration job; generates the external id when missing.
    pub async fn add_call(&self, mut call: CallRequest) -> Result<(JobId, ExternalId), StoreError> {
        let external = call
            .external_id
            .get_or_insert_with(generate_external_id)
            .clone();
        let (_, job) = self
            .db(move |s| s.insert_call(&call, None, now_ms()))
            .await?;
        tracing::info!(%job, external_id = %external, "call stored");
        Ok((job, external))
    }

    /// Stores a call with its registration job already claimed by this process, to be sent
    /// at once with [`Outbox::run_claimed`]; generates the external id when missing.
    pub async fn add_call_claimed(
        &self,
        mut call: CallRequest,
    ) -> Result<(ExternalId, Claimed), StoreError> {
        let external = call
            .external_id
            .get_or_insert_with(generate_external_id)
            .clone();
        let claimed = self
            .db(move |s| {
                let now = now_ms();
                s.insert_call_claimed(&call, now, now + millis(LEASE))
            })
            .await?;
        tracing::info!(job = %claimed.job, external_id = %external, "call stored");
        Ok((external, claimed))
    }

    /// Stores a call heard at `heard_at_ms` — held (`hold`: why) or claimed to be sent at once
    /// — or finds the one stored under its call id in the last `live_ms` (an event handled
    /// again after a crash); a call id stored longer ago than that (a source that reuses its
    /// ids) gives the call an id of its own. One trip to the database. Returns the
    /// registration job, the id it is stored under, and the claim when it was stored to go.
    pub async fn store_heard(
        &self,
        mut call: CallRequest,
        hold: Option<String>,
        (heard_at_ms, live_ms): (i64, i64),
    ) -> Result<(JobId, ExternalId, Option<Claimed>), StoreError> {
        let mut external = call
            .external_id
            .get_or_insert_with(generate_external_id)
            .clone();
        self.db(move |s| {
            let since = heard_at_ms - live_ms;
            let mut live = s.live_registration(&external, since)?;
            if live == store::Live::Stale {
                external = external.reused_at(heard_at_ms);
                call.external_id = Some(external.clone());
                live = s.live_registration(&external, since)?;
            }
            if let store::Live::Registration(job) = live {
                return Ok((job, external, None));
            }
            if let Some(why) = hold {
                let (_, job) = s.insert_call(&call, Some((LINE_NUMBER_MISSING, &why)), now_ms())?;
                tracing::info!(%job, external_id = %external, "call stored; held for this line's number");
                return Ok((job, external, None));
            }
            let now = now_ms();
            let claimed = s.relaxed(|s| s.insert_call_claimed(&call, now, now + millis(LEASE)))?;
            tracing::debug!(job = %claimed.job, external_id = %external, "call stored");
            Ok((claimed.job, external, Some(claimed)))
        })
        .await
    }

    /// Stores heard events in the journal (one transaction) and forgets the `handled` ones;
    /// only then may their sources be told they were accepted.
    pub async fn journal(
        &self,
        events: Vec<(CallEvent, Option<String>)>,
        handled: Handled,
    ) -> Result<Vec<Journaled>, StoreError> {
        let journaled = self.journal_unsynced(events, handled).await?;
        self.sync_to_disk().await?;
        Ok(journaled)
    }

    /// As [`Outbox::journal`], committed without waiting for the disk: the events can be
    /// handled at once (a process killed now loses nothing), while [`Outbox::sync_to_disk`]
    /// makes them durable — their sources are told they were accepted only after it.
    pub async fn journal_unsynced(
        &self,
        events: Vec<(CallEvent, Option<String>)>,
        handled: Handled,
    ) -> Result<Vec<Journaled>, StoreError> {
        let rows: Vec<(String, String, Option<String>)> = events
            .iter()
            .map(|(e, delivery)| {
                serde_json::to_string(&CallEventWire::kept(e))
                    .map(|json| {
                        let external = generate_external_id().as_str().to_owned();
                        (json, external, delivery.clone())
                    })
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let received_ms = now_ms();
        let ids = {
            let rows = rows.clone();
            self.db(move |s| {
                s.relaxed(|s| {
                    let open_calls = handled.open_calls.as_deref();
                    s.journal(&rows, &handled.ids, open_calls, received_ms)
                })
            })
            .await?
        };
        // An event delivered before (kept again by its sender) is stored already: it is
        // acknowledged, and not handed on twice.
        Ok(ids
            .into_iter()
            .zip(rows)
            .zip(events)
            .filter_map(|((id, (_, external, _)), (event, _))| {
                Some(Journaled {
                    id: id?,
                    external_id: ExternalId::parse(&external).ok()?,
                    received_ms,
                    event,
                })
            })
            .collect())
    }

    /// Waits until everything committed so far is on the disk: the write-ahead log is synced
    /// through a handle of its own, so the database stays free meanwhile (calls are stored
    /// and sent while the disk catches up).
    pub async fn sync_to_disk(&self) -> Result<(), StoreError> {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        let wal = PathBuf::from(wal);
        tokio::task::spawn_blocking(move || std::fs::File::open(&wal).and_then(|f| f.sync_data()))
            .await
            .map_err(|e| StoreError::Corrupt(format!("database task failed: {e}")))?
            .map_err(|e| {
                StoreError::Write(format!(
                    "could not make sure what it stored is on the disk ({e}) — {}",
                    self.path.display()
                ))
            })
    }

    /// Heard events kept from before (not handled when the last run stopped), oldest first.
    /// A row that cannot be read is logged and forgotten, never allowed to block the rest.
    pub async fn open_journal(&self) -> Result<Vec<Journaled>, StoreError> {
        let rows = self.db(|s| s.journal_open()).await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut unreadable = Vec::new();
        for (id, json, external, received_ms) in rows {
            let event = read_kept(&json);
            match (event, ExternalId::parse(&external)) {
                (Some(event), Ok(external_id)) => out.push(Journaled {
                    id,
                    external_id,
                    received_ms,
                    event,
                }),
                _ => {
                    tracing::error!(id, "a heard event in the journal cannot be read; dropped");
                    unreadable.push(id);
                }
            }
        }
        if !unreadable.is_empty() {
            self.db(move |s| s.journal(&[], &unreadable, None, now_ms()).map(|_| ()))
                .await?;
        }
        Ok(out)
    }

    /// The open calls' state as last kept.
    pub async fn open_calls(&self) -> Result<Option<String>, StoreError> {
        self.db(|s| s.open_calls()).await
    }

    /// Completes calls held for this line's number and makes them due.
    pub async fn fill_line(&self, line: crate::domain::PhoneNumber) -> Result<usize, StoreError> {
        self.db(move |s| s.fill_line(&line, now_ms())).await
    }

    /// Stores an upload-and-attach job. An external id naming a call stored here attaches
    /// to that call's task, waiting for its registration when needed.
    pub async fn add_attachment(
        &self,
        path: PathBuf,
        checked: Option<FileIdentity>,
        target: AttachTarget,
        mappings: Vec<Mapping>,
    ) -> Result<JobId, StoreError> {
        self.db(move |s| {
            let target = match &target {
                AttachTarget::ExternalId(id) => match s.call_by_external_id(id)? {
                    Some(call) => StoredTarget::Call(call.id),
                    None => StoredTarget::Direct(target.clone()),
                },
                _ => StoredTarget::Direct(target.clone()),
            };
            let payload = AttachPayload {
                path,
                target,
                mappings,
                file_guid: None,
                checked,
            };
            s.insert_attach(&payload, now_ms())
        })
        .await
    }

    /// Stores an upload-and-attach job for a call stored here; it waits for the call's
    /// registration.
    pub async fn add_attachment_to_call(
        &self,
        row: CallRowId,
        path: PathBuf,
        checked: Option<FileIdentity>,
        mappings: Vec<Mapping>,
    ) -> Result<JobId, StoreError> {
        self.db(move |s| {
            s.call(row.0)?;
            let payload = AttachPayload {
                path,
                target: StoredTarget::Call(row.0),
                mappings,
                file_guid: None,
                checked,
            };
            s.insert_attach(&payload, now_ms())
        })
        .await
    }

    /// Stores a pickup job for an ended call stored here under `call.external_id`: its
    /// recording is looked for and, once found, attached to the call (waiting for its
    /// registration). `None` when this outbox holds no such call (nothing to attach to).
    pub async fn add_pickup(
        &self,
        dir: PathBuf,
        call: EndedCall,
    ) -> Result<Option<JobId>, StoreError> {
        self.db(move |s| {
            let Some(row) = s.call_by_external_id(&call.external_id)? else {
                return Ok(None);
            };
            let payload = PickupPayload {
                dir,
                number: call.number,
                started_ms: call.started_ms,
                ended_ms: Some(call.ended_ms),
                answered: call.answered,
                name: call.external_id.as_str().to_owned(),
                target: StoredTarget::Call(row.id),
            };
            s.insert_pickup(&payload, now_ms()).map(Some)
        })
        .await
    }

    /// Claims the next due pickup (leased like any job: a crash hands it to the next start).
    pub async fn claim_pickup(&self) -> Result<Option<(JobId, i64, PickupPayload)>, StoreError> {
        let now = now_ms();
        let claimed = self
            .db(move |s| s.claim_due(Lane::Pickup, now, now + millis(LEASE)))
            .await?;
        match claimed {
            None => Ok(None),
            Some(Claimed {
                job,
                token,
                work: Work::Pickup(payload),
                ..
            }) => Ok(Some((job, token, payload))),
            Some(other) => {
                let (job, token) = (other.job, other.token);
                self.db(move |s| s.release(job, token, now_ms())).await?;
                Err(StoreError::Corrupt(format!(
                    "job {job} was claimed as a pickup but is not one"
                )))
            }
        }
    }

    /// Ends a pickup: with the recording found, queues its attach job in the same
    /// transaction; returns the attach job.
    pub async fn finish_pickup(
        &self,
        job: JobId,
        token: i64,
        payload: &PickupPayload,
        found: PathBuf,
        checked: Option<FileIdentity>,
    ) -> Result<JobId, StoreError> {
        let attach = AttachPayload {
            path: found,
            target: payload.target.clone(),
            mappings: Vec::new(),
            file_guid: None,
            checked,
        };
        self.db(move |s| s.complete_pickup(job, token, Some(&attach), now_ms()))
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("pickup {job} queued nothing")))
    }

    /// Ends a pickup that found nothing to attach, and rightly so (an unanswered call).
    pub async fn finish_pickup_empty(&self, job: JobId, token: i64) -> Result<(), StoreError> {
        self.db(move |s| s.complete_pickup(job, token, None, now_ms()).map(|_| ()))
            .await
    }

    /// Keeps a pickup that found nothing as failed, with what to do (retry looks again).
    pub async fn fail_pickup(
        &self,
        job: JobId,
        token: i64,
        code: &str,
        message: String,
    ) -> Result<(), StoreError> {
        let code = code.to_owned();
        self.db(move |s| {
            s.park(
                job,
                Some(token),
                JobState::Failed,
                (&code, &message),
                now_ms(),
            )
        })
        .await
    }

    /// Returns a claimed job to the queue without counting an attempt (it could not run
    /// here, or the process is stopping).
    pub async fn release(&self, job: JobId, token: i64) -> Result<(), StoreError> {
        self.db(move |s| s.release(job, token, now_ms())).await
    }

    /// The requests Pyrus answered in the rate limit's current ten minutes.
    pub async fn requests_counted(&self) -> Result<i64, StoreError> {
        self.db(|s| s.requests_counted(now_ms())).await
    }

    /// The due jobs of `lane` wait for credentials, saying why (see
    /// [`store::Store::park_due_for_credentials`]).
    pub async fn park_due_for_credentials(
        &self,
        lane: Lane,
        code: &'static str,
        message: String,
    ) -> Result<usize, StoreError> {
        self.db(move |s| s.park_due_for_credentials(lane.kind(), (code, &message), now_ms()))
            .await
    }

    /// Counts requests Pyrus answered against the rate budget every process shares.
    pub async fn count_requests(&self, answered: u64) -> Result<(), StoreError> {
        if answered == 0 {
            return Ok(());
        }
        self.db(move |s| s.count_requests(answered, now_ms())).await
    }

    /// Renews the lease of a job this process is working on; false when its claim was
    /// taken over (stop working on it).
    pub async fn renew(&self, job: JobId, token: i64) -> Result<bool, StoreError> {
        self.db(move |s| s.renew_lease(job, token, now_ms() + millis(LEASE)))
            .await
    }

    /// Calls stored since `since_ms` (and older ones with open work), newest first.
    pub async fn call_records(&self, since_ms: i64) -> Result<Vec<CallRecord>, StoreError> {
        self.db(move |s| s.call_records(since_ms)).await
    }

    /// Kept calls that answer `query`, newest first.
    pub async fn find_calls(&self, query: CallQuery) -> Result<Vec<CallRecord>, StoreError> {
        self.db(move |s| s.find_calls(&query)).await
    }

    /// Notes what a softphone said of a stored call (rang, answered, ended); when it ended
    /// just now and `outcome` is on, its outcome is queued for its task, once.
    pub async fn note_life(
        &self,
        external_id: &str,
        life: CallLife,
        outcome: bool,
    ) -> Result<bool, StoreError> {
        let id = external_id.to_owned();
        // Noted from heard events, which the journal keeps until they are handled.
        self.db(move |s| s.relaxed(|s| s.note_life(&id, life, outcome)))
            .await
    }

    /// One job as it stands.
    pub async fn job(&self, job: JobId) -> Result<JobView, StoreError> {
        self.db(move |s| s.job(job)).await
    }

    /// Jobs not yet done or discarded.
    pub async fn open_jobs(&self) -> Result<Vec<JobView>, StoreError> {
        self.db(|s| s.open_jobs()).await
    }

    /// How many jobs are still to be done.
    pub async fn open_job_count(&self) -> Result<usize, StoreError> {
        self.db(|s| s.open_job_count()).await
    }

    /// The call stored under `external_id`, as the list shows it.
    pub async fn call_record_by_external_id(
        &self,
        external_id: String,
    ) -> Result<Option<CallRecord>, StoreError> {
        self.db(move |s| s.call_record_by_external_id(&external_id))
            .await
    }

    /// The call `job` belongs to, as the list shows it.
    pub async fn call_record_of(&self, job: JobId) -> Result<Option<CallRecord>, StoreError> {
        self.db(move |s| s.call_record_of(job)).await
    }

    /// The registration of the call a register job carries, once done.
    pub async fn registration_of(
        &self,
        external: &ExternalId,
    ) -> Result<Option<Registration>, StoreError> {
        let id = external.clone();
        self.db(move |s| Ok(s.call_by_external_id(&id)?.and_then(|c| c.registration)))
            .await
    }

    /// Puts a job back in the queue, due now.
    pub async fn retry(&self, job: JobId) -> Result<(), StoreError> {
        self.db(move |s| s.retry(job, now_ms())).await
    }

    /// Sends a failed call again as corrected (same external id), due now.
    pub async fn resend(&self, job: JobId, call: CallRequest) -> Result<(), StoreError> {
        self.db(move |s| s.resend(job, call, now_ms())).await
    }

    /// Discards a job (kept as discarded, never sent).
    pub async fn discard(&self, job: JobId) -> Result<(), StoreError> {
        self.db(move |s| s.discard(job, now_ms())).await
    }

    /// Takes back a discard made moments ago (see [`store::UNDO_MS`]).
    pub async fn undiscard(&self, job: JobId) -> Result<(), StoreError> {
        self.db(move |s| s.undiscard(job, now_ms())).await
    }

    /// Takes kept work up: jobs a crashed process had claimed are due now, and with
    /// `credentials_changed` so is work parked for credentials; pending jobs keep their
    /// time (backoff and `Retry-After` hold across processes).
    pub async fn make_due(&self, credentials_changed: bool) -> Result<usize, StoreError> {
        self.db(move |s| {
            let owners = s.owners().clone();
            s.make_due(now_ms(), credentials_changed, |pid| owners.alive(pid))
        })
        .await
    }

    /// When the next job of `lane` (of any lane with `None`) falls due (Unix ms).
    pub async fn next_due_ms(&self, lane: Option<Lane>) -> Result<Option<i64>, StoreError> {
        self.db(move |s| s.next_due_ms(lane)).await
    }

    /// Hands every job this process has claimed back to the queue, due now (at shutdown).
    pub async fn release_mine(&self) -> Result<usize, StoreError> {
        self.db(|s| s.release_owned(std::process::id(), now_ms()))
            .await
    }

    /// Jobs held back because Pyrus could not be reached fall due now (it answers again).
    pub async fn wake_unreachable(&self) -> Result<usize, StoreError> {
        self.db(|s| s.wake_unreachable(now_ms())).await
    }

    /// The registration `job` waits for, while its call has no task yet.
    pub async fn waits_for(&self, job: JobId) -> Result<Option<JobId>, StoreError> {
        self.db(move |s| s.waits_for(job)).await
    }

    /// Claims the next due job of `lane`, leased to this process.
    pub async fn claim(&self, lane: Lane) -> Result<Option<Claimed>, StoreError> {
        self.db(move |s| {
            let now = now_ms();
            s.claim_due(lane, now, now + millis(LEASE))
        })
        .await
    }

    /// Claims `job` if it is due now (its own time, not waiting for a registration).
    pub async fn claim_job(&self, job: JobId) -> Result<Option<Claimed>, StoreError> {
        self.db(move |s| {
            let now = now_ms();
            s.claim_job(job, now, now + millis(LEASE))
        })
        .await
    }

    /// Records a registration and finishes its job.
    pub async fn complete_register(
        &self,
        job: JobId,
        token: i64,
        call_id: i64,
        registration: Registration,
    ) -> Result<(), StoreError> {
        self.db(move |s| s.complete_register(job, token, call_id, &registration, now_ms()))
            .await
    }

    /// Saves an attach job's payload (the uploaded file's guid, or none to upload again).
    pub async fn save_file_guid(
        &self,
        job: JobId,
        token: i64,
        payload: AttachPayload,
    ) -> Result<(), StoreError> {
        self.db(move |s| s.save_file_guid(job, token, &payload, now_ms()))
            .await
    }

    /// Marks a claimed job done.
    pub async fn complete(&self, job: JobId, token: i64) -> Result<(), StoreError> {
        self.db(move |s| s.complete(job, token, now_ms())).await
    }

    /// Puts a claimed job back for `at` (Unix ms), counting the failed attempt.
    pub async fn reschedule(
        &self,
        job: JobId,
        token: i64,
        at: i64,
        error: (String, String),
    ) -> Result<(), StoreError> {
        self.db(move |s| s.reschedule(job, token, at, (&error.0, &error.1), now_ms()))
            .await
    }

    /// Parks a claimed job as failed or waiting for credentials, with its reason.
    pub async fn park(
        &self,
        job: JobId,
        token: i64,
        state: JobState,
        error: (String, String),
    ) -> Result<(), StoreError> {
        self.db(move |s| s.park(job, Some(token), state, (&error.0, &error.1), now_ms()))
            .await
    }

    /// Returns a claimed job to the queue now, on this thread (blocking: for a thread that
    /// may wait on the disk, or a drop outside the runtime).
    pub fn release_blocking(&self, job: JobId, token: i64) -> Result<(), StoreError> {
        lock(&self.store).release(job, token, now_ms())
    }

    /// Renews a claimed job's lease on this thread (blocking, like
    /// [`Outbox::release_blocking`]); false when the claim was taken over.
    pub fn renew_blocking(&self, job: JobId, token: i64) -> Result<bool, StoreError> {
        lock(&self.store).renew_lease(job, token, now_ms() + millis(LEASE))
    }

    /// Parks a job for credentials without trying it (none are configured).
    pub async fn park_for_credentials(
        &self,
        job: JobId,
        message: String,
    ) -> Result<(), StoreError> {
        self.db(move |s| {
            s.park(
                job,
                None,
                JobState::NeedsCredentials,
                ("credentials_missing", &message),
                now_ms(),
            )
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::read_kept;
    use crate::domain::{CallEvent, CallEventWire, EventKind, EventSource};

    #[test]
    fn kept_events_read_back_whatever_version_kept_them() {
        let event =
            CallEvent::parse("ring", "+79161112200", Some("c-1"), None, None, "baresip").unwrap();
        let now = serde_json::to_string(&CallEventWire::kept(&event)).unwrap();
        assert_eq!(read_kept(&now), Some(event));
        let older = r#"{"kind":"end","number":"+79161112200","call_id":null,"internal":"200",
            "line":null,"recording":null,"source":"http"}"#;
        let read = read_kept(older).unwrap();
        assert_eq!(read.kind, EventKind::End);
        assert_eq!(read.source, EventSource::Http);
        assert_eq!(read.internal.unwrap().as_str(), "200");
        let stranger = r#"{"event":"ring","number":"123","source":"carrier-pigeon"}"#;
        assert_eq!(
            read_kept(stranger).unwrap().source,
            EventSource::Unknown("carrier-pigeon".to_owned())
        );
        assert_eq!(read_kept(r#"{"event":"ring"}"#), None);
    }
}
