//! How the CLI prints: the job table, byte sizes, and the upload progress line.

use std::io::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use crate::domain::{JobId, JobView};
use crate::outbox::{JobEvent, now_ms};

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
            job.summary
        );
        if job.interrupted {
            println!("      its process is gone; the next pyrus-phone run takes it up");
        }
        if let Some(id) = &job.external_id {
            println!("      external id {id}");
        }
        if let Some(next) = job.next_attempt_ms {
            let secs = (next - now).max(0) / 1000;
            if job.attempts > 0 {
                println!("      next try in {secs} s");
            }
        }
        if let Some(message) = &job.error_message {
            println!("      reason: {message}");
        }
    }
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
