//! How the CLI prints: the job table, byte sizes, and the upload progress line.

use std::io::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use crate::domain::{CallNumbers, JobId, JobSubject, JobView, RecordingTo};
use crate::outbox::now_ms;
use crate::service::JobEvent;

pub(super) use crate::domain::format_bytes as bytes;

/// Prints open jobs as a table with their reasons.
pub(super) fn print_jobs(jobs: &[JobView]) {
    if jobs.is_empty() {
        println!("The outbox is empty: every call and recording has been sent.");
        return;
    }
    println!(
        "{:<5} {:<9} {:<18} {:>5}  WHAT",
        "JOB", "KIND", "STATE", "TRIES"
    );
    let now = now_ms();
    for job in jobs {
        let state = if job.interrupted {
            "interrupted"
        } else {
            job.state.as_str()
        };
        println!(
            "{:<5} {:<9} {:<18} {:>5}  {}",
            job.id.0,
            job.kind.as_str(),
            state,
            job.attempts,
            describe(job)
        );
        if job.interrupted {
            println!("      its process is gone; the next pyrus-phone run takes it up");
        }
        if let Some(id) = &job.external_id {
            println!("      external id {id}");
        }
        if let Some(next) = job.next_attempt_ms {
            let secs = (next - now).max(0) / 1000;
            if job.error_code.as_deref() == Some("rate_budget") {
                println!(
                    "      held by the rate budget: goes at {} (in {secs} s)",
                    local_clock(next)
                );
            } else if job.attempts > 0 {
                println!("      next try in {secs} s");
            }
        }
        if let Some(reason) = reason(job) {
            println!("      reason: {reason}");
        }
    }
}

/// A moment as this computer's clock shows it (`14:30:00`).
fn local_clock(ms: i64) -> String {
    use chrono::TimeZone as _;
    chrono::Local
        .timestamp_millis_opt(ms)
        .single()
        .map_or_else(|| format!("{ms} ms"), |t| t.format("%H:%M:%S").to_string())
}

/// One self-rewriting progress line on stderr.
pub(super) struct ProgressLine {
    name: String,
    job: JobId,
    started: Instant,
    last: Mutex<Option<Instant>>,
}

impl ProgressLine {
    pub(super) fn new(name: String, job: JobId) -> Self {
        Self {
            name,
            job,
            started: Instant::now(),
            last: Mutex::new(None),
        }
    }

    pub(super) fn update(&self, event: &JobEvent) {
        let JobEvent::Progress { job, sent, total } = event else {
            return;
        };
        if *job != self.job {
            return;
        }
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let done = sent >= total;
        if !done && last.is_some_and(|t| t.elapsed().as_millis() < 100) {
            return;
        }
        *last = Some(Instant::now());
        let percent = if *total == 0 { 100 } else { sent * 100 / total };
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = (*sent as f64 / secs) as u64;
        let mut err = std::io::stderr().lock();
        write!(
            err,
            "\rUploading {}: {percent:>3}%  {} / {}  {}/s   ",
            self.name,
            bytes(*sent),
            bytes(*total),
            bytes(rate)
        )
        .ok();
        err.flush().ok();
    }
}

/// What a job is about, in words (numbers masked).
pub(super) fn describe(job: &JobView) -> String {
    let call = |n: &CallNumbers| format!("call {} → {}", n.from, n.to);
    match &job.subject {
        JobSubject::Call(numbers) => call(numbers),
        JobSubject::Comment { task_id } => format!("comment → task {task_id}"),
        JobSubject::Recording { file_name, to } => {
            let target = match to {
                RecordingTo::Call(Some(numbers)) => call(numbers),
                RecordingTo::Call(None) => "a stored call".to_owned(),
                RecordingTo::Target(target) => target.to_string(),
            };
            format!("recording {file_name} → {target}")
        }
        JobSubject::FindRecording {
            folder,
            call: Some(numbers),
        } => format!(
            "find the recording of {} in {}",
            call(numbers),
            folder.display()
        ),
        JobSubject::FindRecording { folder, call: None } => {
            format!("find a recording in {}", folder.display())
        }
        JobSubject::Unreadable => format!("job {} ({}) cannot be read", job.id, job.kind.as_str()),
    }
}

/// Why a job stands where it does: the app's own codes in words, with what the row says.
fn reason(job: &JobView) -> Option<String> {
    let advice = match job.error_code.as_deref() {
        Some("registration_failed") => {
            Some("the call could not be registered: retry or discard its registration first")
        }
        Some("unreadable") => {
            Some("this job cannot be read; discard it — the others are sent as usual")
        }
        _ => None,
    };
    match (advice, &job.error_message) {
        (Some(advice), Some(detail)) => Some(format!("{advice} ({detail})")),
        (Some(advice), None) => Some(advice.to_owned()),
        (None, detail) => detail.clone(),
    }
}
