//! The call list: every call of the day as a row with its time, numbers, a status chip, the
//! task link and actions; recordings can be attached, dropped on a row, followed and
//! cancelled.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use chrono::{Local, TimeZone as _};

use crate::bus::Command;
use crate::domain::{CallRecord, Direction, JobBrief, JobId, JobKind, JobState, format_bytes};

use super::i18n::{Texts, fill};
use super::theme;

/// Upload progress as the window follows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UploadProgress {
    /// Bytes sent.
    pub sent: u64,
    /// Bytes in all.
    pub total: u64,
    /// When the first report came.
    pub started: Instant,
}

impl UploadProgress {
    /// Bytes per second so far.
    pub fn rate(&self) -> f64 {
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        self.sent as f64 / secs
    }
}

/// What the list shows besides the records themselves.
#[derive(Debug, Default)]
pub struct CallList {
    /// The calls of the day, newest first.
    pub calls: Vec<CallRecord>,
    /// Running uploads by job.
    pub progress: HashMap<JobId, UploadProgress>,
    /// A recording refused for a call, shown on its row.
    pub attach_errors: HashMap<i64, String>,
    /// A row asked for the file picker (the app runs it after the pass).
    pub pick_for: Option<i64>,
    /// A held call's row asked for the settings (its fix is there).
    pub open_settings: bool,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The chip for a job that is not done: text and colour.
fn job_chip(job: &JobBrief, now: i64, working: &str, t: &Texts) -> (String, egui::Color32) {
    let reason = t.advice(
        job.error_code.as_deref(),
        job.error_message.as_deref().unwrap_or_default(),
    );
    match job.state {
        JobState::Pending if job.attempts == 0 => (working.to_owned(), theme::PENDING),
        JobState::Pending => {
            let secs = job
                .next_attempt_ms
                .map_or(0, |at| ((at - now).max(0) + 999) / 1000);
            (fill(t.chip_retrying, &[&secs, &reason]), theme::WARN)
        }
        JobState::Running => (working.to_owned(), theme::PENDING),
        JobState::NeedsCredentials => (fill(t.chip_credentials, &[&reason]), theme::ERROR),
        JobState::Failed => (fill(t.chip_failed, &[&reason]), theme::ERROR),
        JobState::Done => (t.chip_done.to_owned(), theme::OK),
        JobState::Discarded => (t.chip_discarded.to_owned(), theme::PENDING),
        JobState::Held => (t.chip_held_line.to_owned(), theme::WARN),
    }
}

/// The row's status: the registration until done, then the latest recording.
fn status(call: &CallRecord, now: i64, t: &Texts) -> (String, egui::Color32) {
    if call.register.state != JobState::Done {
        return job_chip(&call.register, now, t.chip_registering, t);
    }
    match call.recordings.last() {
        None => (t.chip_registered.to_owned(), theme::OK),
        Some(rec) if rec.job.state == JobState::Done => (t.chip_attached.to_owned(), theme::OK),
        Some(rec) if rec.kind == JobKind::Pickup => {
            job_chip(&rec.job, now, t.chip_finding_recording, t)
        }
        Some(rec) => job_chip(&rec.job, now, t.chip_attaching, t),
    }
}

fn waits(call: &CallRecord) -> bool {
    call.register.state == JobState::Pending && call.register.attempts > 0
        || call
            .recordings
            .iter()
            .any(|r| r.job.state == JobState::Pending && r.job.attempts > 0)
}

/// Draws the list; returns the call a dropped file should go to, if the pointer is over a row.
pub fn call_list_ui(
    ui: &mut egui::Ui,
    list: &mut CallList,
    t: &Texts,
    commands: &mut Vec<Command>,
) -> Option<i64> {
    ui.heading(fill(t.calls_today, &[&list.calls.len()]));
    if list.calls.is_empty() {
        ui.label(egui::RichText::new(t.no_calls).weak());
        return None;
    }
    let now = now_ms();
    if list.calls.iter().any(waits) {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_secs(1));
    }
    let mut hovered = None;
    let row_height = 64.0;
    let CallList {
        calls,
        progress,
        attach_errors,
        pick_for,
        open_settings,
    } = list;
    egui::ScrollArea::vertical()
        .auto_shrink([false, true])
        .show_rows(ui, row_height, calls.len(), |ui, range| {
            for call in &calls[range] {
                let response = egui::Frame::group(ui.style())
                    .show(ui, |ui| {
                        ui.set_min_height(row_height - 12.0);
                        ui.set_width(ui.available_width());
                        let row = Row {
                            call,
                            now,
                            progress,
                            attach_error: attach_errors.get(&call.call_id),
                            t,
                        };
                        row_ui(ui, &row, (pick_for, open_settings), commands);
                    })
                    .response;
                if response.contains_pointer() {
                    hovered = Some(call.call_id);
                }
            }
        });
    hovered
}

/// What one row draws.
struct Row<'a> {
    call: &'a CallRecord,
    now: i64,
    progress: &'a HashMap<JobId, UploadProgress>,
    attach_error: Option<&'a String>,
    t: &'a Texts,
}

fn row_ui(
    ui: &mut egui::Ui,
    row: &Row<'_>,
    (pick_for, open_settings): (&mut Option<i64>, &mut bool),
    commands: &mut Vec<Command>,
) {
    let Row {
        call,
        now,
        progress,
        attach_error,
        t,
    } = *row;
    let time = Local
        .timestamp_millis_opt(call.created_ms)
        .single()
        .map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_default();
    let (chip, colour) = status(call, now, t);
    ui.horizontal(|ui| {
        ui.label(egui::RichText::new(time).monospace());
        match call.request.direction {
            Direction::Incoming => {
                ui.label(egui::RichText::new(t.incoming).weak());
            }
            Direction::Outgoing => {
                ui.label(egui::RichText::new(t.outgoing).weak());
            }
            Direction::Unknown => {}
        }
        if call.register.state == JobState::Held {
            // Our side is not known yet: only the far party's number is real.
            let far = match call.request.direction {
                Direction::Outgoing => &call.request.to,
                Direction::Incoming | Direction::Unknown => &call.request.from,
            };
            ui.label(far.as_str());
        } else {
            ui.label(fill(
                t.number_pair,
                &[&call.request.from.as_str(), &call.request.to.as_str()],
            ));
        }
        ui.label(egui::RichText::new(&chip).color(colour).strong())
            .on_hover_text(&chip);
    });
    let uploading = call
        .recordings
        .iter()
        .filter(|r| matches!(r.job.state, JobState::Pending | JobState::Running))
        .find_map(|r| progress.get(&r.job.id).map(|p| (r, p)));
    if let Some((rec, p)) = uploading {
        ui.horizontal(|ui| {
            let fraction = if p.total == 0 {
                1.0
            } else {
                p.sent as f32 / p.total as f32
            };
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_width(220.0)
                    .text(format!("{:.0}%", fraction * 100.0)),
            );
            ui.label(format!(
                "{} / {} · {}/s",
                format_bytes(p.sent),
                format_bytes(p.total),
                format_bytes(p.rate() as u64)
            ));
            if ui.button(t.cancel_upload).clicked() {
                commands.push(Command::CancelUpload(rec.job.id));
            }
        });
    }
    if let Some(error) = attach_error {
        ui.colored_label(theme::ERROR, error);
    }
    ui.horizontal(|ui| {
        if let Some(url) = &call.task_url {
            let task = call.registration.as_ref().map_or(0, |r| r.task_id);
            if ui
                .button(fill(t.open_task_n, &[&task]))
                .on_hover_text(url)
                .clicked()
            {
                commands.push(Command::OpenUrl(url.clone()));
            }
        }
        if call.register.state == JobState::Held {
            if ui.button(t.set_line_number).clicked() {
                *open_settings = true;
            }
            if ui.button(t.discard).clicked() {
                commands.push(Command::Discard(call.register.id));
            }
            return;
        }
        if ui.button(t.attach_recording).clicked() {
            *pick_for = Some(call.call_id);
        }
        let stuck = [&call.register]
            .into_iter()
            .chain(call.recordings.iter().map(|r| &r.job))
            .find(|j| {
                matches!(
                    j.state,
                    JobState::Failed | JobState::NeedsCredentials | JobState::Pending
                ) && j.attempts > 0
            });
        if let Some(job) = stuck {
            if ui.button(t.retry).clicked() {
                commands.push(Command::Retry(job.id));
            }
            if ui.button(t.discard).clicked() {
                commands.push(Command::Discard(job.id));
            }
        }
    });
}

/// Files dropped on the window this frame.
pub fn dropped_files(ctx: &egui::Context) -> Vec<PathBuf> {
    ctx.input(|i| {
        i.raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_path_buf())
            .filter(|p| !p.as_os_str().is_empty())
            .collect()
    })
}
