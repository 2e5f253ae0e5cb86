//! The durable outbox: every call and recording is stored before the first network attempt,
//! sent by whichever pyrus-phone process reaches Pyrus, retried only when retrying can help,
//! and never dropped silently.

mod backoff;
pub mod owners;
pub mod store;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio_util::sync::CancellationToken;

pub use crate::domain::LINE_NUMBER_MISSING;
use crate::domain::{
    AttachTarget, CallLife, CallQuery, CallRecord, CallRequest, ExternalId, JobId, JobKind,
    JobState, JobView, Mapping, Registration,
};
use crate::pyrus::{ErrorClass, PyrusClient, PyrusError};
pub use store::{AttachPayload, CallRow, Claimed, Lane, PickupPayload, StoreError, StoredTarget};
use store::{Store, Work};

/// How long a claimed job stays leased to one process without news.
const LEASE: Duration = Duration::from_secs(120);

/// What the outbox reports while it works.
#[derive(Debug, Clone)]
pub enum JobEvent {
    /// Upload progress.
    Progress {
        /// The job.
        job: JobId,
        /// Bytes sent.
        sent: u64,
        /// Bytes in all.
        total: u64,
    },
    /// Pyrus registered a call; sent as soon as it answers, before the registration is
    /// written (a task may open without waiting for the disk).
    Registered {
        /// The register job.
        job: JobId,
        /// What Pyrus answered.
        registration: Registration,
    },
    /// A job attempt ended.
    Finished(JobReport),
}

/// How one attempt at a job ended.
#[derive(Debug, Clone)]
pub struct JobReport {
    /// The job.
    pub job: JobId,
    /// What it does.
    pub kind: JobKind,
    /// Its state now.
    pub state: JobState,
    /// The error's code and message, when it failed.
    pub error: Option<(String, String)>,
    /// The registration, for a register job that succeeded.
    pub registration: Option<Registration>,
    /// When it will be tried again, for a retryable failure (Unix ms).
    pub retry_at_ms: Option<i64>,
}

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
    pub event: crate::domain::CallEvent,
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

/// Receives [`JobEvent`]s.
pub type Listener = Arc<dyn Fn(JobEvent) + Send + Sync>;

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

/// Returns a claimed job to the queue if its attempt is abandoned (the future dropped).
struct ClaimGuard {
    store: SharedStore,
    job: JobId,
    token: i64,
    armed: bool,
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (store, job, token) = (Arc::clone(&self.store), self.job, self.token);
        let release = move || {
            if let Err(e) = lock(&store).release(job, token, now_ms()) {
                tracing::error!(%job, error = %e, "cannot release an abandoned job");
            }
        };
        // Never a database write on an async worker: hand it to a blocking thread.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(release)),
            Err(_) => release(),
        }
    }
}

/// The outbox over its database.
pub struct Outbox {
    store: SharedStore,
    path: PathBuf,
    cancels: Mutex<HashMap<JobId, CancellationToken>>,
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
            cancels: Mutex::new(HashMap::new()),
        })
    }

    /// Opens the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            store: Arc::new(Mutex::new(Store::open(path)?)),
            path: path.to_path_buf(),
            cancels: Mutex::new(HashMap::new()),
        })
    }

    async fn db<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(&mut lock(&store)))
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

    /// Stores heard events in the journal (one transaction) and forgets the `handled` ones;
    /// only then may their sources be told they were accepted.
    pub async fn journal(
        &self,
        events: Vec<crate::domain::CallEvent>,
        handled: Vec<i64>,
    ) -> Result<Vec<Journaled>, StoreError> {
        let rows: Vec<(String, String)> = events
            .iter()
            .map(|e| {
                serde_json::to_string(e)
                    .map(|json| (json, generate_external_id().as_str().to_owned()))
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let received_ms = now_ms();
        let ids = {
            let rows = rows.clone();
            self.db(move |s| s.journal(&rows, &handled, received_ms))
                .await?
        };
        Ok(ids
            .into_iter()
            .zip(rows)
            .zip(events)
            .filter_map(|((id, (_, external)), event)| {
                Some(Journaled {
                    id,
                    external_id: ExternalId::parse(&external).ok()?,
                    received_ms,
                    event,
                })
            })
            .collect())
    }

    /// Heard events kept from before (not handled when the last run stopped), oldest first.
    /// A row that cannot be read is logged and forgotten, never allowed to block the rest.
    pub async fn open_journal(&self) -> Result<Vec<Journaled>, StoreError> {
        let rows = self.db(|s| s.journal_open()).await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut unreadable = Vec::new();
        for (id, json, external, received_ms) in rows {
            match (serde_json::from_str(&json), ExternalId::parse(&external)) {
                (Ok(event), Ok(external_id)) => out.push(Journaled {
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
            self.db(move |s| s.journal(&[], &unreadable, now_ms()))
                .await?;
        }
        Ok(out)
    }

    /// The live registration job of a heard call already stored under `external_id`.
    pub async fn live_registration(
        &self,
        external_id: &ExternalId,
    ) -> Result<Option<JobId>, StoreError> {
        let id = external_id.clone();
        self.db(move |s| s.live_registration(&id)).await
    }

    /// Stores a heard call that cannot be sent until this line's number is set: the
    /// unknown side holds the far party's number until [`Outbox::fill_line`] replaces it.
    pub async fn add_held_call(
        &self,
        mut call: CallRequest,
        message: String,
    ) -> Result<(JobId, ExternalId), StoreError> {
        let external = call
            .external_id
            .get_or_insert_with(generate_external_id)
            .clone();
        let (_, job) = self
            .db(move |s| s.insert_call(&call, Some((LINE_NUMBER_MISSING, &message)), now_ms()))
            .await?;
        tracing::info!(%job, external_id = %external, "call stored; held for this line's number");
        Ok((job, external))
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
            };
            s.insert_attach(&payload, now_ms())
        })
        .await
    }

    /// Stores an upload-and-attach job for a call stored here; it waits for the call's
    /// registration.
    pub async fn add_attachment_to_call(
        &self,
        call_id: i64,
        path: PathBuf,
        mappings: Vec<Mapping>,
    ) -> Result<JobId, StoreError> {
        self.db(move |s| {
            s.call(call_id)?;
            let payload = AttachPayload {
                path,
                target: StoredTarget::Call(call_id),
                mappings,
                file_guid: None,
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
    ) -> Result<JobId, StoreError> {
        let attach = AttachPayload {
            path: found,
            target: payload.target.clone(),
            mappings: Vec::new(),
            file_guid: None,
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

    /// Notes what a softphone said of a stored call (rang, answered, ended).
    pub async fn note_life(&self, external_id: &str, life: CallLife) -> Result<bool, StoreError> {
        let id = external_id.to_owned();
        self.db(move |s| s.note_life(&id, life)).await
    }

    /// One job as it stands.
    pub async fn job(&self, job: JobId) -> Result<JobView, StoreError> {
        self.db(move |s| s.job(job)).await
    }

    /// Jobs not yet done or discarded.
    pub async fn open_jobs(&self) -> Result<Vec<JobView>, StoreError> {
        self.db(|s| s.open_jobs()).await
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
        self.cancel(job);
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

    /// When the next job falls due (Unix ms).
    /// When the next job of `lane` (of any lane with `None`) falls due (Unix ms).
    pub async fn next_due_ms(&self, lane: Option<Lane>) -> Result<Option<i64>, StoreError> {
        self.db(move |s| s.next_due_ms(lane)).await
    }

    /// Cancels a running upload; true when there was one.
    pub fn cancel(&self, job: JobId) -> bool {
        let token = self
            .cancels
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&job);
        token.map(|t| t.cancel()).is_some()
    }

    /// Hands every job this process has claimed back to the queue, due now (at shutdown).
    pub async fn release_mine(&self) -> Result<usize, StoreError> {
        self.db(|s| s.release_owned(std::process::id(), now_ms()))
            .await
    }

    /// Claims and runs the next due job of `lane`, if there is one.
    pub async fn run_one(
        &self,
        lane: Lane,
        client: &PyrusClient,
        account_id: &str,
        listener: &Listener,
    ) -> Result<Option<JobReport>, StoreError> {
        self.claim_and_run(
            move |s, now| s.claim_due(lane, now, now + millis(LEASE)),
            client,
            account_id,
            listener,
        )
        .await
    }

    /// Claims a job with `claim` and runs it, if there was one to claim.
    async fn claim_and_run(
        &self,
        claim: impl FnOnce(&mut Store, i64) -> Result<Option<Claimed>, StoreError> + Send + 'static,
        client: &PyrusClient,
        account_id: &str,
        listener: &Listener,
    ) -> Result<Option<JobReport>, StoreError> {
        let Some(claimed) = self.db(move |s| claim(s, now_ms())).await? else {
            return Ok(None);
        };
        self.run_claimed(claimed, client, account_id, listener)
            .await
            .map(Some)
    }

    /// Claims and runs `job` if it is due now (its own time, not waiting for a registration).
    pub async fn run_job(
        &self,
        job: JobId,
        client: &PyrusClient,
        account_id: &str,
        listener: &Listener,
    ) -> Result<Option<JobReport>, StoreError> {
        self.claim_and_run(
            move |s, now| s.claim_job(job, now, now + millis(LEASE)),
            client,
            account_id,
            listener,
        )
        .await
    }

    /// The registration `job` waits for, while its call has no task yet.
    pub async fn waits_for(&self, job: JobId) -> Result<Option<JobId>, StoreError> {
        self.db(move |s| s.waits_for(job)).await
    }

    /// Runs a job this process has claimed and reports the outcome; if the attempt is
    /// abandoned (the future dropped), the job goes back to the queue.
    pub async fn run_claimed(
        &self,
        claimed: Claimed,
        client: &PyrusClient,
        account_id: &str,
        listener: &Listener,
    ) -> Result<JobReport, StoreError> {
        let mut guard = ClaimGuard {
            store: Arc::clone(&self.store),
            job: claimed.job,
            token: claimed.token,
            armed: true,
        };
        let report = self.run(claimed, client, account_id, listener).await?;
        guard.armed = false;
        listener(JobEvent::Finished(report.clone()));
        Ok(report)
    }

    /// Runs every due job of `lanes` once, lane by lane, oldest first, and reports each
    /// outcome. Stops early when Pyrus refuses the credentials: nothing else can succeed
    /// until they are fixed.
    pub async fn run_due(
        &self,
        lanes: &[Lane],
        client: &PyrusClient,
        account_id: &str,
        listener: &Listener,
    ) -> Result<Vec<JobReport>, StoreError> {
        let mut reports = Vec::new();
        for &lane in lanes {
            while let Some(report) = self.run_one(lane, client, account_id, listener).await? {
                let stop = report.state == JobState::NeedsCredentials;
                reports.push(report);
                if stop {
                    return Ok(reports);
                }
            }
        }
        Ok(reports)
    }

    async fn run(
        &self,
        claimed: Claimed,
        client: &PyrusClient,
        account_id: &str,
        listener: &Listener,
    ) -> Result<JobReport, StoreError> {
        let Claimed {
            job,
            token,
            attempts,
            work,
        } = claimed;
        match work {
            Work::Register(call) => {
                tracing::info!(%job, from = %call.request.from, to = %call.request.to, "registering call");
                match client.register_call(account_id, &call.request).await {
                    Ok(registration) => {
                        listener(JobEvent::Registered {
                            job,
                            registration: registration.clone(),
                        });
                        let reg = registration.clone();
                        self.db(move |s| s.complete_register(job, token, call.id, &reg, now_ms()))
                            .await?;
                        tracing::info!(%job, task_id = registration.task_id, new = registration.is_new_task, "call registered");
                        Ok(JobReport {
                            job,
                            kind: JobKind::Register,
                            state: JobState::Done,
                            error: None,
                            registration: Some(registration),
                            retry_at_ms: None,
                        })
                    }
                    Err(e) => {
                        self.record_failure(job, token, JobKind::Register, attempts, &e)
                            .await
                    }
                }
            }
            Work::Pickup(_) => {
                self.db(move |s| s.release(job, token, now_ms())).await?;
                Err(StoreError::Corrupt(format!(
                    "pickup {job} reached a network lane"
                )))
            }
            Work::Attach {
                mut payload,
                resolved,
            } => {
                let guid = match payload.file_guid.clone() {
                    Some(guid) => guid,
                    None => match self
                        .upload(job, token, &payload.path, client, listener)
                        .await
                    {
                        Ok(guid) => {
                            payload.file_guid = Some(guid.clone());
                            let saved = payload.clone();
                            self.db(move |s| s.save_file_guid(job, token, &saved, now_ms()))
                                .await?;
                            guid
                        }
                        Err(e) => {
                            return self
                                .record_failure(job, token, JobKind::Attach, attempts, &e)
                                .await;
                        }
                    },
                };
                match client
                    .attach_call_record(account_id, &resolved, &guid, &payload.mappings)
                    .await
                {
                    Ok(()) => {
                        self.db(move |s| s.complete(job, token, now_ms())).await?;
                        tracing::info!(%job, target = %resolved, "recording attached");
                        Ok(JobReport {
                            job,
                            kind: JobKind::Attach,
                            state: JobState::Done,
                            error: None,
                            registration: None,
                            retry_at_ms: None,
                        })
                    }
                    Err(e) if e.code() == "unrecognized_attachment_id" => {
                        // The uploaded file expired on the server: upload again next time.
                        payload.file_guid = None;
                        let saved = payload.clone();
                        self.db(move |s| s.save_file_guid(job, token, &saved, now_ms()))
                            .await?;
                        let err = PyrusError::Network {
                            reason: "the uploaded file expired; uploading again".to_owned(),
                        };
                        self.record_failure(job, token, JobKind::Attach, attempts, &err)
                            .await
                    }
                    Err(e) => {
                        self.record_failure(job, token, JobKind::Attach, attempts, &e)
                            .await
                    }
                }
            }
        }
    }

    async fn upload(
        &self,
        job: JobId,
        token: i64,
        path: &Path,
        client: &PyrusClient,
        listener: &Listener,
    ) -> Result<String, PyrusError> {
        let cancel = CancellationToken::new();
        self.cancels
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(job, cancel.clone());
        let store = Arc::clone(&self.store);
        let listener = Arc::clone(listener);
        let cancel_on_loss = cancel.clone();
        let last_renewal = AtomicI64::new(now_ms());
        let progress = Arc::new(move |sent: u64, total: u64| {
            listener(JobEvent::Progress { job, sent, total });
            let now = now_ms();
            if now - last_renewal.load(Ordering::Relaxed) > millis(LEASE) / 4 {
                last_renewal.store(now, Ordering::Relaxed);
                let store = Arc::clone(&store);
                let taken_over = cancel_on_loss.clone();
                let renew = move || match lock(&store).renew_lease(job, token, now + millis(LEASE))
                {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(%job, "the upload's job was taken over; stopping");
                        taken_over.cancel();
                    }
                    Err(e) => tracing::warn!(%job, error = %e, "cannot renew the upload's lease"),
                };
                // The callback runs on an async worker: the write goes to a blocking thread.
                match tokio::runtime::Handle::try_current() {
                    Ok(runtime) => drop(runtime.spawn_blocking(renew)),
                    Err(_) => renew(),
                }
            }
        });
        // A recording still being written is not sent as a prefix: its size and time must
        // be the same after the upload as before it.
        let stat = |path: PathBuf| async move {
            tokio::task::spawn_blocking(move || {
                std::fs::metadata(&path)
                    .ok()
                    .map(|m| (m.len(), m.modified().ok()))
            })
            .await
            .ok()
            .flatten()
        };
        let before = stat(path.to_path_buf()).await;
        let result = match client.upload_file(path, progress, &cancel).await {
            Ok(_) if stat(path.to_path_buf()).await != before => {
                tracing::warn!(%job, "the recording changed while it was sent; trying again later");
                Err(PyrusError::FileChanged)
            }
            other => other,
        };
        self.cancels
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&job);
        result.map(|file| file.guid)
    }

    async fn record_failure(
        &self,
        job: JobId,
        token: i64,
        kind: JobKind,
        attempts: u32,
        error: &PyrusError,
    ) -> Result<JobReport, StoreError> {
        let code = error.code().to_owned();
        let message = error.to_string();
        let now = now_ms();
        let (state, retry_at_ms) = match error.class() {
            ErrorClass::Retryable => {
                let at = now + millis(backoff::delay(attempts + 1, error.retry_after()));
                tracing::warn!(%job, code, retry_in_ms = at - now, "attempt failed; will retry");
                (JobState::Pending, Some(at))
            }
            ErrorClass::NeedsCredentials => {
                tracing::warn!(%job, code, "credentials refused; job parked");
                (JobState::NeedsCredentials, None)
            }
            ErrorClass::Permanent => {
                tracing::error!(%job, code, "job failed for good");
                (JobState::Failed, None)
            }
        };
        let (c, m) = (code.clone(), message.clone());
        self.db(move |s| match retry_at_ms {
            Some(at) => s.reschedule(job, token, at, (&c, &m), now),
            None => s.park(job, Some(token), state, (&c, &m), now),
        })
        .await?;
        Ok(JobReport {
            job,
            kind,
            state,
            error: Some((code, message)),
            registration: None,
            retry_at_ms,
        })
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
