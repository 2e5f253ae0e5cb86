//! The runner: runs a claimed job against Pyrus and writes its outcome to the outbox —
//! registered, uploaded and attached, rescheduled with backoff, parked for credentials or
//! failed for good — reporting each step to a [`Listener`]. The outbox stores; this module is
//! the only one that talks to Pyrus for a job.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio_util::sync::CancellationToken;

use super::outcome::{outcome_mappings, outcome_words};
use super::recording::open_checked;
use crate::domain::{AttachTarget, JobId, JobKind, JobState, Mapping, Registration};
use crate::outbox::{
    AttachPayload, CallRow, Claimed, CommentPayload, LEASE, Lane, Outbox, StoreError, Work,
    backoff, now_ms,
};
use crate::platform::files::FileIdentity;
use crate::pyrus::{ErrorClass, FieldUpdate, FormTemplate, PyrusClient, PyrusError, UploadSource};
use crate::settings::OutcomeSettings;

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

/// Receives [`JobEvent`]s.
pub type Listener = Arc<dyn Fn(JobEvent) + Send + Sync>;

/// The uploads this process is running, by job: what "Cancel" stops.
#[derive(Debug, Default)]
pub struct Uploads(Mutex<HashMap<JobId, CancellationToken>>);

impl Uploads {
    /// Cancels a running upload; true when there was one.
    pub fn cancel(&self, job: JobId) -> bool {
        let token = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&job);
        token.map(|t| t.cancel()).is_some()
    }

    fn start(&self, job: JobId) -> CancellationToken {
        let token = CancellationToken::new();
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(job, token.clone());
        token
    }

    fn end(&self, job: JobId) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&job);
    }
}

/// Whether Pyrus has answered this engine yet since it was last unreachable: the first
/// answer makes the work held back for unreachability due at once.
#[derive(Debug)]
pub struct Reach(AtomicBool);

impl Default for Reach {
    /// Not known to answer yet: the first answer of a run wakes what earlier runs kept.
    fn default() -> Self {
        Self(AtomicBool::new(true))
    }
}

impl Reach {
    /// Pyrus could not be reached.
    fn lost(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Pyrus answered: true the first time since it was unreachable.
    fn answered(&self) -> bool {
        self.0.swap(false, Ordering::Relaxed)
    }
}

/// Returns a claimed job to the queue if its attempt is abandoned (the future dropped).
struct ClaimGuard {
    outbox: Outbox,
    job: JobId,
    token: i64,
    armed: bool,
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (outbox, job, token) = (self.outbox.clone(), self.job, self.token);
        let release = move || {
            if let Err(e) = outbox.release_blocking(job, token) {
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

/// What a job runs with: the outbox, a client, the account and who hears of it.
pub struct Runner<'a> {
    /// Where the job is kept.
    pub outbox: &'a Outbox,
    /// The client that talks to Pyrus.
    pub client: &'a PyrusClient,
    /// The account the calls are registered under.
    pub account_id: &'a str,
    /// The form whose fields comments set.
    pub form_id: Option<u64>,
    /// Word calls' outcomes in Russian (the interface's language), else English.
    pub russian: bool,
    /// The form fields calls' outcomes fill, if any.
    pub outcome: &'a OutcomeSettings,
    /// Who hears of progress and outcomes.
    pub listener: &'a Listener,
    /// The uploads running, to cancel.
    pub uploads: &'a Uploads,
    /// Whether Pyrus answers.
    pub reach: &'a Reach,
}

impl Runner<'_> {
    /// Claims and runs the next due job of `lane`, if there is one.
    pub async fn run_one(&self, lane: Lane) -> Result<Option<JobReport>, StoreError> {
        match self.outbox.claim(lane).await? {
            Some(claimed) => self.run_claimed(claimed).await.map(Some),
            None => Ok(None),
        }
    }

    /// Claims and runs `job` if it is due now (its own time, not waiting for a registration).
    pub async fn run_job(&self, job: JobId) -> Result<Option<JobReport>, StoreError> {
        match self.outbox.claim_job(job).await? {
            Some(claimed) => self.run_claimed(claimed).await.map(Some),
            None => Ok(None),
        }
    }

    /// Runs every due job of `lanes` once, lane by lane, oldest first, and reports each
    /// outcome. Stops early when Pyrus refuses the credentials: nothing else can succeed
    /// until they are fixed.
    pub async fn run_due(&self, lanes: &[Lane]) -> Result<Vec<JobReport>, StoreError> {
        let mut reports = Vec::new();
        for &lane in lanes {
            while let Some(report) = self.run_one(lane).await? {
                let stop = report.state == JobState::NeedsCredentials;
                reports.push(report);
                if stop {
                    return Ok(reports);
                }
            }
        }
        Ok(reports)
    }

    /// Runs a job this process has claimed and reports the outcome; if the attempt is
    /// abandoned (the future dropped), the job goes back to the queue.
    pub async fn run_claimed(&self, claimed: Claimed) -> Result<JobReport, StoreError> {
        let mut guard = ClaimGuard {
            outbox: self.outbox.clone(),
            job: claimed.job,
            token: claimed.token,
            armed: true,
        };
        let report = self.run(claimed).await;
        self.count_answered().await;
        let report = report?;
        guard.armed = false;
        (self.listener)(JobEvent::Finished(report.clone()));
        Ok(report)
    }

    /// Counts what Pyrus answered during the attempt (and whatever else this client sent
    /// meanwhile) against the shared rate budget.
    async fn count_answered(&self) {
        if let Err(e) = self
            .outbox
            .count_requests(self.client.take_answered())
            .await
        {
            tracing::warn!(error = %e, "the requests Pyrus answered could not be counted");
        }
    }

    async fn run(&self, claimed: Claimed) -> Result<JobReport, StoreError> {
        let Claimed {
            job,
            token,
            attempts,
            claimed_before,
            work,
        } = claimed;
        let attempt = Attempt {
            job,
            token,
            attempts,
            claimed_before,
        };
        match work {
            Work::Register(call) => self.register(attempt, call).await,
            Work::Pickup(_) => {
                self.outbox.release(job, token).await?;
                Err(StoreError::Corrupt(format!(
                    "pickup {job} reached a network lane"
                )))
            }
            Work::Attach { payload, resolved } => self.attach(attempt, payload, resolved).await,
            Work::Comment { payload, call } => match (payload.outcome, call) {
                (Some(outcome), Some(call)) if self.outcome.as_fields() => {
                    let task_id = payload.task_id;
                    let internal = call.internal.as_ref().map(|n| n.as_str().to_owned());
                    let mappings = outcome_mappings(&outcome, internal.as_deref(), self.outcome);
                    if mappings.is_empty() {
                        // Nothing the fields can take: said in words instead.
                        self.comment(attempt, payload).await
                    } else {
                        self.outcome_fields(attempt, task_id, *call, mappings).await
                    }
                }
                _ => self.comment(attempt, payload).await,
            },
        }
    }

    /// Posts a comment once: its fields made ids (choices by name) from the form, then —
    /// unless an attempt whose answer was lost posted it already (its marker is among the
    /// task's comments) — the comment itself.
    async fn comment(&self, at: Attempt, payload: CommentPayload) -> Result<JobReport, StoreError> {
        let kind = JobKind::Comment;
        let updates = match self.field_updates(&payload.updates).await {
            Ok(updates) => updates,
            Err(e) => return self.record_failure(at, kind, &e).await,
        };
        // An attempt before this one may have posted it and not heard the answer: look.
        let posted = if at.claimed_before || at.attempts > 0 {
            match self.client.task_comments(payload.task_id).await {
                Ok(texts) => texts.iter().any(|t| t.contains(&payload.marker)),
                Err(e) => return self.record_failure(at, kind, &e).await,
            }
        } else {
            false
        };
        let text = match payload.outcome {
            Some(outcome) => CommentPayload {
                text: outcome_words(&outcome, self.russian),
                ..payload.clone()
            }
            .posted_text(),
            None => payload.posted_text(),
        };
        if !posted
            && let Err(e) = self
                .client
                .add_comment(payload.task_id, &text, &updates)
                .await
        {
            return self.record_failure(at, kind, &e).await;
        }
        self.outbox.complete(at.job, at.token).await?;
        self.answered().await;
        tracing::info!(job = %at.job, task_id = payload.task_id, posted_before = posted, "comment posted");
        Ok(JobReport::done(at.job, kind, None))
    }

    /// Sends a call's outcome as `mappings`: the call registered again under its own
    /// external id, which Pyrus takes as the same call (a repeat after a lost answer sets the
    /// same values again). Without the internal number, so the task's responsible person is
    /// not matched again (a hand-off made during the call stays). When Pyrus answers with
    /// another task than the call's, that is said and the job fails for good.
    async fn outcome_fields(
        &self,
        at: Attempt,
        task_id: u64,
        mut call: crate::domain::CallRequest,
        mappings: Vec<Mapping>,
    ) -> Result<JobReport, StoreError> {
        call.mappings = mappings;
        call.internal = None;
        let registration = match self.client.register_call(self.account_id, &call).await {
            Ok(registration) => registration,
            Err(e) => return self.record_failure(at, JobKind::Comment, &e).await,
        };
        if registration.task_id != task_id {
            let e = PyrusError::Fields {
                code: "outcome_other_task",
                message: format!(
                    "Pyrus put the call's outcome on task {} instead of the call's task {task_id} (it did not take the call id as the same call): send outcomes as comments — clear the codes under [outcome]",
                    registration.task_id
                ),
            };
            return self.record_failure(at, JobKind::Comment, &e).await;
        }
        self.outbox.complete(at.job, at.token).await?;
        self.answered().await;
        tracing::info!(job = %at.job, fields = call.mappings.len(), "call's outcome set on its task");
        Ok(JobReport::done(at.job, JobKind::Comment, None))
    }

    /// A comment's updates as the API takes them: each field by id, a choice by its id.
    async fn field_updates(&self, updates: &[Mapping]) -> Result<Vec<FieldUpdate>, PyrusError> {
        if updates.is_empty() {
            return Ok(Vec::new());
        }
        let Some(form_id) = self.form_id else {
            return Err(PyrusError::Fields {
                code: "form_missing",
                message: "fields can be set only on the form in the settings: choose it in Settings (pyrus.form_id)".to_owned(),
            });
        };
        let template = self.client.form_template(form_id).await?;
        updates.iter().map(|u| field_update(&template, u)).collect()
    }

    async fn register(&self, at: Attempt, call: CallRow) -> Result<JobReport, StoreError> {
        let job = at.job;
        tracing::debug!(%job, from = %call.request.from, to = %call.request.to, "registering call");
        match self
            .client
            .register_call(self.account_id, &call.request)
            .await
        {
            Ok(registration) => {
                (self.listener)(JobEvent::Registered {
                    job,
                    registration: registration.clone(),
                });
                self.outbox
                    .complete_register(job, at.token, call.id, registration.clone())
                    .await?;
                self.answered().await;
                tracing::info!(%job, task_id = registration.task_id, new = registration.is_new_task, "call registered");
                Ok(JobReport::done(job, JobKind::Register, Some(registration)))
            }
            Err(e) => self.record_failure(at, JobKind::Register, &e).await,
        }
    }

    async fn attach(
        &self,
        at: Attempt,
        mut payload: AttachPayload,
        resolved: AttachTarget,
    ) -> Result<JobReport, StoreError> {
        let (job, token) = (at.job, at.token);
        let guid = match payload.file_guid.clone() {
            Some(guid) => guid,
            None => match self
                .upload(job, token, &payload.path, payload.checked)
                .await
            {
                Ok(guid) => {
                    payload.file_guid = Some(guid.clone());
                    self.outbox
                        .save_file_guid(job, token, payload.clone())
                        .await?;
                    guid
                }
                Err(e) => return self.record_failure(at, JobKind::Attach, &e).await,
            },
        };
        match self
            .client
            .attach_call_record(self.account_id, &resolved, &guid, &payload.mappings)
            .await
        {
            Ok(()) => {
                self.outbox.complete(job, token).await?;
                self.answered().await;
                tracing::info!(%job, target = %resolved, "recording attached");
                Ok(JobReport::done(job, JobKind::Attach, None))
            }
            Err(e) if e.code() == "unrecognized_attachment_id" => {
                // The uploaded file expired on the server: upload again next time.
                payload.file_guid = None;
                self.outbox.save_file_guid(job, token, payload).await?;
                let err = PyrusError::Network {
                    reason: "the uploaded file expired; uploading again".to_owned(),
                };
                self.record_failure(at, JobKind::Attach, &err).await
            }
            Err(e) => self.record_failure(at, JobKind::Attach, &e).await,
        }
    }

    async fn upload(
        &self,
        job: JobId,
        token: i64,
        path: &Path,
        checked: Option<FileIdentity>,
    ) -> Result<String, PyrusError> {
        // Opened and checked again on a thread of its own: a pipe, a device or a folder that
        // does not answer holds no async worker and no other job.
        let owned = path.to_path_buf();
        let opened = off_the_workers(OPEN_WITHIN, move || open_checked(&owned, checked)).await;
        let (file, size) = match opened {
            Some(Ok(opened)) => opened,
            Some(Err(e)) => {
                tracing::warn!(%job, code = e.code(), "the kept recording cannot be sent");
                return Err(PyrusError::Recording {
                    code: e.code(),
                    message: e.to_string(),
                    retryable: false,
                });
            }
            None => {
                return Err(PyrusError::Recording {
                    code: "file_not_ready",
                    message: format!(
                        "the recording did not open within {} s (a network folder that does not answer?); it is tried again later — {}",
                        OPEN_WITHIN.as_secs(),
                        path.display()
                    ),
                    retryable: true,
                });
            }
        };
        let file = Arc::new(file);
        // A recording still being written is not sent as a prefix: its size and time must
        // be the same after the upload as before it (asked of the open file).
        let stat = |file: Arc<std::fs::File>| async move {
            off_the_workers(OPEN_WITHIN, move || {
                file.metadata().ok().map(|m| (m.len(), m.modified().ok()))
            })
            .await
            .flatten()
        };
        let before = stat(Arc::clone(&file)).await;
        let source = UploadSource {
            file: Arc::clone(&file),
            size,
            path: path.to_path_buf(),
        };
        let cancel = self.uploads.start(job);
        let progress = self.progress(job, token, cancel.clone());
        let result = match self.client.upload_file(&source, progress, &cancel).await {
            Ok(_) if stat(file).await != before => {
                tracing::warn!(%job, "the recording changed while it was sent; trying again later");
                Err(PyrusError::FileChanged)
            }
            other => other,
        };
        self.uploads.end(job);
        result.map(|file| file.guid)
    }

    /// The upload's progress callback: reports progress and renews the job's lease every
    /// quarter lease; a claim taken over meanwhile cancels the upload.
    fn progress(
        &self,
        job: JobId,
        token: i64,
        cancel: CancellationToken,
    ) -> Arc<dyn Fn(u64, u64) + Send + Sync> {
        let outbox = self.outbox.clone();
        let listener = Arc::clone(self.listener);
        let last_renewal = AtomicI64::new(now_ms());
        let quarter = i64::try_from(LEASE.as_millis() / 4).unwrap_or(i64::MAX);
        Arc::new(move |sent: u64, total: u64| {
            listener(JobEvent::Progress { job, sent, total });
            let now = now_ms();
            if now - last_renewal.load(Ordering::Relaxed) <= quarter {
                return;
            }
            last_renewal.store(now, Ordering::Relaxed);
            let (outbox, taken_over) = (outbox.clone(), cancel.clone());
            let renew = move || match outbox.renew_blocking(job, token) {
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
        })
    }

    /// Pyrus answered: the first time since it was unreachable, what was held back for that
    /// goes at once. The job in hand is done whatever comes of this: a failure here only
    /// leaves the kept work to its backoff, and says so.
    async fn answered(&self) {
        if !self.reach.answered() {
            return;
        }
        match self.outbox.wake_unreachable().await {
            Ok(0) => {}
            Ok(woken) => {
                tracing::info!(
                    jobs = woken,
                    "Pyrus answers again: work kept meanwhile is due now"
                );
            }
            Err(e) => {
                self.reach.lost();
                tracing::warn!(error = %e, "work kept while Pyrus was unreachable waits out its backoff");
            }
        }
    }

    async fn record_failure(
        &self,
        at: Attempt,
        kind: JobKind,
        error: &PyrusError,
    ) -> Result<JobReport, StoreError> {
        let job = at.job;
        let code = error.code().to_owned();
        let message = error.to_string();
        let now = now_ms();
        let (state, retry_at_ms) = match error.class() {
            ErrorClass::Retryable => {
                if matches!(error, PyrusError::Network { .. } | PyrusError::Timeout) {
                    self.reach.lost();
                }
                let delay = backoff::delay(at.attempts + 1, error.retry_after());
                let at = now.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
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
        let error = (code, message);
        match retry_at_ms {
            Some(when) => {
                self.outbox
                    .reschedule(job, at.token, when, error.clone())
                    .await?;
            }
            None => {
                self.outbox
                    .park(job, at.token, state, error.clone())
                    .await?
            }
        }
        Ok(JobReport {
            job,
            kind,
            state,
            error: Some(error),
            registration: None,
            retry_at_ms,
        })
    }
}

/// One attempt at a claimed job.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    job: JobId,
    token: i64,
    attempts: u32,
    /// An earlier claim may have carried it out.
    claimed_before: bool,
}

impl JobReport {
    fn done(job: JobId, kind: JobKind, registration: Option<Registration>) -> Self {
        Self {
            job,
            kind,
            state: JobState::Done,
            error: None,
            registration,
            retry_at_ms: None,
        }
    }
}
/// How long opening a kept recording may take before the attempt is given up (and tried
/// again later): a local file opens at once; a network folder may not answer at all.
const OPEN_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs `work` on a thread of its own and waits at most `within` for it. `None` when it
/// did not finish in time: the thread is left to finish (or hang) by itself, holding
/// neither an async worker nor a thread of the shared blocking pool.
async fn off_the_workers<T: Send + 'static>(
    within: std::time::Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("file-open".into())
        .spawn(move || drop(tx.send(work())));
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start a thread to open a file");
        return None;
    }
    tokio::time::timeout(within, rx).await.ok()?.ok()
}

/// One update as the API takes it: the field of the form whose code it names; a choice
/// field's value by the id of the option with that name (in any case).
fn field_update(template: &FormTemplate, update: &Mapping) -> Result<FieldUpdate, PyrusError> {
    let field = template
        .fields
        .iter()
        .find(|f| {
            f.code
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(&update.code))
        })
        .ok_or_else(|| {
            let codes: Vec<&str> = template
                .fields
                .iter()
                .filter_map(|f| f.code.as_deref())
                .collect();
            PyrusError::Fields {
                code: "unknown_field",
                message: format!(
                    "the form has no field {}; its fields are {} — correct the code (in the wrap-up, --set, or wrapup.fields in the settings)",
                    update.code,
                    codes.join(", ")
                ),
            }
        })?;
    if field.field_type != "multiple_choice" {
        return Ok(FieldUpdate {
            id: field.id,
            value: serde_json::Value::String(update.value.clone()),
        });
    }
    let options = field
        .info
        .as_ref()
        .map(|i| i.options.as_slice())
        .unwrap_or_default();
    options
        .iter()
        .find(|o| {
            !o.deleted
                && o.choice_value
                    .trim()
                    .eq_ignore_ascii_case(update.value.trim())
        })
        .map(|o| FieldUpdate {
            id: field.id,
            value: serde_json::json!({ "choice_id": o.choice_id }),
        })
        .ok_or_else(|| PyrusError::Fields {
            code: "unknown_choice",
            message: format!(
                "{} has no choice \"{}\"; its choices are {}",
                update.code,
                update.value,
                options
                    .iter()
                    .filter(|o| !o.deleted)
                    .map(|o| o.choice_value.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}
