//! The call list: every call of the day as a row with its time, numbers, a status chip, the
//! task link and actions; recordings can be attached, dropped on a row, followed and
//! cancelled.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{Datelike as _, Local, TimeZone as _};

use crate::bus::Command;
use crate::domain::{
    CallQuery, CallRecord, CallRowId, CallerCard, Direction, JobBrief, JobId, JobKind, JobState,
    Stage, format_bytes,
};

use super::call_stage::stage_chip;
use super::caller_card::{Cards, row_card_ui};
use super::i18n::{Texts, fill};
use super::theme;
use super::widgets::{local_time, name_widget, open_task_button};
use super::wrapup::wrapup_status_ui;

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

/// A discard the agent can still take back (the outbox has it discarded already, and takes
/// it back for a little longer than the window offers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discarding {
    /// The discarded job.
    pub job: JobId,
    /// Its call's row.
    pub row: CallRowId,
    /// The whole call went (its registration), not one of its recordings.
    pub whole_call: bool,
    /// Who the call was with.
    pub number: String,
    /// Until when Undo is offered.
    pub until: Instant,
}

/// How long Undo is offered after a discard.
pub const UNDO_FOR: Duration = Duration::from_secs(8);

/// The list's search and filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// A number, a task id or a date, as typed.
    pub search: String,
    /// Only calls that rang and were not answered.
    pub missed_only: bool,
}

impl ListFilter {
    /// The query for the kept calls, or `None` to show today's calls.
    pub fn query(&self) -> Option<CallQuery> {
        let text = self.search.trim();
        if text.is_empty() && !self.missed_only {
            return None;
        }
        let mut query = CallQuery {
            missed_only: self.missed_only,
            ..CallQuery::default()
        };
        if let Some((from, until)) = day_of(text) {
            query.from_ms = Some(from);
            query.until_ms = Some(until);
        } else {
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            if digits.is_empty() {
                // Neither a number nor a date: it finds nothing rather than everything.
                query.digits = Some(text.to_owned());
            } else {
                query.task_id = digits.parse().ok();
                // A national "8 916 …" and "+7 916 …" share their last ten digits.
                let tail = digits.len().saturating_sub(10);
                query.digits = Some(digits[tail..].to_owned());
            }
        }
        Some(query)
    }
}

/// A date typed as `2026-11-29`, `29.11.2026` or `29.11`: that local day, in Unix ms.
fn day_of(text: &str) -> Option<(i64, i64)> {
    let today = Local::now().date_naive();
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(text, "%d.%m.%Y"))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(&format!("{text}.{}", today.year()), "%d.%m.%Y").ok()
        })?;
    let start = |d: chrono::NaiveDate| {
        Local
            .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
            .earliest()
            .map(|t| t.timestamp_millis())
    };
    Some((start(date)?, start(date.succ_opt()?)?))
}

/// What the list shows besides the records themselves.
#[derive(Debug, Default)]
pub struct CallList {
    /// The calls of the day, newest first.
    pub calls: Vec<CallRecord>,
    /// Kept calls answering the filter, once the service has sent them.
    pub found: Option<Vec<CallRecord>>,
    /// The search and filter.
    pub filter: ListFilter,
    /// The query last sent.
    pub query_sent: Option<CallQuery>,
    /// The calls changed: a search is sent again to follow them.
    pub refresh: bool,
    /// Running uploads by job.
    pub progress: HashMap<JobId, UploadProgress>,
    /// A recording refused for a call, shown on its row.
    pub attach_errors: HashMap<CallRowId, String>,
    /// A row asked for the file picker (the app runs it after the pass).
    pub pick_for: Option<CallRowId>,
    /// A held call's row asked for the settings (its fix is there).
    pub open_settings: bool,
    /// A row waiting for the security key asked for it.
    pub enter_key: bool,
    /// A failed call's row asked to be corrected in the form.
    pub correct: Option<CallRowId>,
    /// A row asked for its call's wrap-up.
    pub wrap_up: Option<CallRowId>,
    /// Discards that can still be undone.
    pub discarding: Vec<Discarding>,
    /// Files dropped where no row was: the agent is asked which call they are for.
    pub unplaced_drop: Vec<PathBuf>,
    /// The row under the pointer this frame (where a dropped file goes).
    pub drop_target: Option<CallRowId>,
    /// The pointer was seen moving over the window during the current drag.
    pub drag_seen: bool,
    /// Each row's height when last drawn, and at what width: rows out of sight are not
    /// drawn, only their room is kept (a day's 1,200 calls cost what a screenful does).
    pub heights: HashMap<CallRowId, (f32, f32)>,
}

impl CallList {
    /// The calls shown: today's, or those the filter found.
    pub fn shown(&self) -> &[CallRecord] {
        match (&self.found, self.filter.query()) {
            (Some(found), Some(_)) => found,
            _ => &self.calls,
        }
    }

    /// A call shown in the list (today's or found), by row id.
    pub fn call(&self, row: CallRowId) -> Option<&CallRecord> {
        self.calls
            .iter()
            .chain(self.found.iter().flatten())
            .find(|c| c.row == row)
    }

    /// One of today's calls, by the external id it was registered with.
    pub fn by_external_id(&self, external_id: &str) -> Option<&CallRecord> {
        self.calls.iter().find(|c| {
            c.request
                .external_id
                .as_ref()
                .is_some_and(|e| e.as_str() == external_id)
        })
    }

    /// Forgets the discards whose Undo time is over.
    pub fn expire_discards(&mut self) {
        let now = Instant::now();
        self.discarding.retain(|d| now < d.until);
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The chip for a job that is not done: text and colour.
fn job_chip(job: &JobBrief, now: i64, working: &str, t: &Texts) -> (String, egui::Color32) {
    let reason = t.job_advice(job);
    match job.state {
        JobState::Pending if job.error_code.as_deref() == Some("rate_budget") => {
            let at = job.next_attempt_ms.unwrap_or(now);
            let chip = fill(t.chip_budget, &[&local_time(at, "%H:%M")]);
            (chip, theme::WARN)
        }
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

fn waits(call: &CallRecord, now: i64) -> bool {
    call.register.state == JobState::Pending && call.register.attempts > 0
        || call
            .recordings
            .iter()
            .any(|r| r.job.state == JobState::Pending && r.job.attempts > 0)
        || matches!(call.stage(now), Stage::Ringing(_) | Stage::Talking(_))
}

/// The search field and the filter over the list.
fn filter_ui(ui: &mut egui::Ui, list: &mut CallList, t: &Texts, commands: &mut Vec<Command>) {
    ui.horizontal_wrapped(|ui| {
        let search = ui.add(
            egui::TextEdit::singleline(&mut list.filter.search)
                .hint_text(t.search_hint)
                .desired_width(ui.available_width().clamp(120.0, 260.0)),
        );
        name_widget(&search, egui::Role::SearchInput, t.search);
        ui.toggle_value(&mut list.filter.missed_only, t.missed_filter);
        if list.filter.query().is_some() && ui.button(t.show_today).clicked() {
            list.filter = ListFilter::default();
        }
    });
    let query = list.filter.query();
    let changed = query != list.query_sent;
    if changed {
        list.found = None;
    }
    if (changed || list.refresh)
        && let Some(q) = &query
    {
        commands.push(Command::FindCalls(q.clone()));
    }
    list.refresh = false;
    list.query_sent = query;
}

/// Draws the list; returns the call a dropped file should go to, if the pointer is over a
/// row.
pub fn call_list_ui(
    ui: &mut egui::Ui,
    list: &mut CallList,
    cards: &mut Cards,
    t: &Texts,
    commands: &mut Vec<Command>,
) -> Option<CallRowId> {
    filter_ui(ui, list, t, commands);
    let searching = list.filter.query().is_some();
    if !heading_ui(ui, list, searching, t) {
        return None;
    }
    let now = now_ms();
    if list.shown().iter().any(|c| waits(c, now)) {
        ui.ctx().request_repaint_after(Duration::from_secs(1));
    }
    let dragging = ui.ctx().input(|i| !i.raw.hovered_files.is_empty());
    let mut hovered = None;
    // Rows are drawn from the list as it is; what the agent asked of them is applied after.
    let mut asked: Vec<(CallRowId, RowActions)> = Vec::new();
    let drawn: &CallList = list;
    let mut measured: Vec<(CallRowId, f32, f32)> = Vec::new();
    egui::ScrollArea::vertical()
        .id_salt("call_list")
        .auto_shrink([false, false])
        .show_viewport(ui, |ui, viewport| {
            let width = ui.available_width();
            let gap = ui.spacing().item_spacing.y;
            // Where the next row starts, in the list's own coordinates, and the room of
            // the rows out of sight not yet given.
            let (mut y, mut unseen) = (0.0_f32, 0.0_f32);
            for call in drawn.shown() {
                // A call just discarded stays out of sight until the list catches up.
                if drawn
                    .discarding
                    .iter()
                    .any(|d| d.whole_call && d.row == call.row)
                {
                    continue;
                }
                let height = drawn
                    .heights
                    .get(&call.row)
                    .filter(|(w, _)| (w - width).abs() < 0.5)
                    .map_or(ROW_ESTIMATE, |(_, h)| *h);
                if y + height < viewport.min.y - OFFSCREEN || y > viewport.max.y + OFFSCREEN {
                    unseen += height + gap;
                    y += height + gap;
                    continue;
                }
                if unseen > 0.0 {
                    ui.add_space(unseen);
                    unseen = 0.0;
                }
                let top = ui.cursor().top();
                let card = row_card(cards, call, commands);
                let row = Row {
                    call,
                    now,
                    list: drawn,
                    searching,
                    t,
                    card: card.as_ref(),
                };
                let (actions, target) = framed_row_ui(ui, &row, dragging, commands);
                let height = ui.cursor().top() - top - gap;
                measured.push((call.row, width, height));
                y += height + gap;
                if target {
                    hovered = Some(call.row);
                }
                if actions != RowActions::default() {
                    asked.push((call.row, actions));
                }
            }
            if unseen > 0.0 {
                ui.add_space(unseen);
            }
        });
    for (row, width, height) in measured {
        list.heights.insert(row, (width, height));
    }
    for (row, actions) in asked {
        if let Some(call) = list.call(row).cloned() {
            actions.apply(&call, list, commands);
        }
    }
    hovered
}

/// How many calls the list shows (and, when none, why); false when it shows none.
fn heading_ui(ui: &mut egui::Ui, list: &CallList, searching: bool, t: &Texts) -> bool {
    let shown = list.shown().len();
    ui.heading(if searching {
        fill(t.calls_found, &[&shown])
    } else {
        fill(t.calls_today, &[&shown])
    });
    if shown == 0 {
        let words = match (searching, &list.found) {
            (true, None) => t.searching,
            (true, Some(_)) => t.nothing_found,
            (false, _) => t.no_calls,
        };
        ui.label(egui::RichText::new(words).weak());
    }
    shown > 0
}

/// Who the far party of `call` is, without the call's own task (its button is on the row
/// already); asked for when not known yet.
fn row_card(
    cards: &mut Cards,
    call: &CallRecord,
    commands: &mut Vec<Command>,
) -> Option<CallerCard> {
    let own = call.registration.as_ref().map(|r| r.task_id);
    cards
        .get_or_ask(far_number(call).as_str(), commands)
        .cloned()
        .map(|c| c.without(own))
}

/// One row in its frame, lit up when a dragged recording would go to it; what the agent
/// asked of it, and whether the pointer is over it.
fn framed_row_ui(
    ui: &mut egui::Ui,
    row: &Row<'_>,
    dragging: bool,
    commands: &mut Vec<Command>,
) -> (RowActions, bool) {
    let mut prepared = egui::Frame::group(ui.style()).begin(ui);
    let width = prepared.content_ui.available_width();
    prepared.content_ui.set_width(width);
    let actions = row_ui(&mut prepared.content_ui, row, commands);
    let rect = prepared.content_ui.min_rect().expand(6.0);
    let target = ui
        .ctx()
        .pointer_hover_pos()
        .is_some_and(|p| rect.contains(p))
        && ui.clip_rect().intersects(rect);
    if dragging && target {
        // Where a dragged recording would go.
        prepared.frame.stroke = egui::Stroke::new(2.0, theme::OK);
        prepared.frame.fill = ui.visuals().selection.bg_fill.gamma_multiply(0.3);
    }
    prepared.end(ui);
    (actions, target)
}

/// A row's height before it was first drawn (most rows are about this tall).
const ROW_ESTIMATE: f32 = 96.0;

/// How far beyond the visible part of the list rows are still drawn.
const OFFSCREEN: f32 = 200.0;

/// Discards that can still be taken back, above the list.
pub fn discarding_ui(
    ui: &mut egui::Ui,
    list: &mut CallList,
    t: &Texts,
    commands: &mut Vec<Command>,
) {
    list.expire_discards();
    if list.discarding.is_empty() {
        return;
    }
    ui.ctx().request_repaint_after(Duration::from_secs(1));
    let mut undone = None;
    for d in &list.discarding {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(|ui| {
                let left = d.until.saturating_duration_since(Instant::now()).as_secs() + 1;
                let words = if d.whole_call {
                    t.discarding
                } else {
                    t.discarding_recording
                };
                ui.label(egui::RichText::new(fill(words, &[&d.number, &left])).weak());
                if ui.button(t.undo).clicked() {
                    undone = Some(d.job);
                }
            });
        });
    }
    if let Some(job) = undone {
        commands.push(Command::Undiscard(job));
        list.discarding.retain(|d| d.job != job);
    }
}

/// What one row draws.
struct Row<'a> {
    call: &'a CallRecord,
    now: i64,
    list: &'a CallList,
    /// Rows of other days show their date.
    searching: bool,
    t: &'a Texts,
    /// Who the far party is, when the index has answered.
    card: Option<&'a CallerCard>,
}

/// What the agent asked of a row, applied once the row is drawn.
#[derive(Debug, Default, PartialEq, Eq)]
struct RowActions {
    pick: bool,
    open_settings: bool,
    enter_key: bool,
    correct: bool,
    wrap_up: bool,
    discard: Option<JobId>,
}

impl RowActions {
    fn apply(self, call: &CallRecord, list: &mut CallList, commands: &mut Vec<Command>) {
        if self.pick {
            list.pick_for = Some(call.row);
        }
        if self.open_settings {
            list.open_settings = true;
        }
        if self.enter_key {
            list.enter_key = true;
        }
        if self.correct {
            list.correct = Some(call.row);
        }
        if self.wrap_up {
            list.wrap_up = Some(call.row);
        }
        if let Some(job) = self.discard {
            // Discarded at once (no retry may slip through meanwhile); Undo takes it back.
            commands.push(Command::Discard(job));
            list.discarding.push(Discarding {
                job,
                row: call.row,
                whole_call: job == call.register.id,
                number: far_number(call).grouped(),
                until: Instant::now() + UNDO_FOR,
            });
        }
    }
}

fn row_ui(ui: &mut egui::Ui, row: &Row<'_>, commands: &mut Vec<Command>) -> RowActions {
    let Row {
        call,
        now,
        list,
        searching,
        t,
        card,
    } = *row;
    // Rows of other days show their date.
    let format = if searching {
        "%Y-%m-%d %H:%M"
    } else {
        "%H:%M:%S"
    };
    numbers_line_ui(ui, call, &local_time(call.created_ms, format), t);
    if let Some(card) = card {
        row_card_ui(ui, card, t, commands);
    }
    let (chip, colour) = status(call, now, t);
    ui.horizontal_wrapped(|ui| {
        if let Some((stage, colour)) = stage_chip(call, now, t) {
            ui.label(egui::RichText::new(stage).color(colour).strong());
        }
        ui.add(egui::Label::new(egui::RichText::new(&chip).color(colour).strong()).wrap())
            .on_hover_text(&chip);
    });
    recordings_ui(ui, call, list, t);
    upload_ui(ui, call, list, t, commands);
    let mut actions = RowActions::default();
    if let (Some(wrapup), Some(reg)) = (&call.wrapup, &call.registration) {
        actions.wrap_up = wrapup_status_ui(ui, wrapup, reg.task_id, t);
    }
    if let Some(error) = list.attach_errors.get(&call.row) {
        ui.add(egui::Label::new(egui::RichText::new(error).color(theme::ERROR)).wrap());
    }
    if let Some(refused) = &call.outcome_refused {
        ui.horizontal_wrapped(|ui| {
            let why = refused.error_message.clone().unwrap_or_default();
            ui.add(
                egui::Label::new(
                    egui::RichText::new(fill(t.outcome_refused, &[&why])).color(theme::ERROR),
                )
                .wrap(),
            );
            if ui.button(t.outcome_retry).clicked() {
                commands.push(Command::Retry(refused.id));
            }
        });
    }
    ui.horizontal_wrapped(|ui| row_buttons_ui(ui, row, &mut actions, commands));
    actions
}

/// The row's first line: when, which way, and the numbers.
fn numbers_line_ui(ui: &mut egui::Ui, call: &CallRecord, time: &str, t: &Texts) {
    ui.horizontal_wrapped(|ui| {
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
        if let Some(name) = &call.display {
            ui.label(egui::RichText::new(name).strong());
        }
        if call.from_history() {
            ui.label(egui::RichText::new(t.from_history).weak().italics());
        }
        if call.register.state == JobState::Held {
            // Our side is not known yet: only the far party's number is real.
            ui.label(far_number(call).grouped());
        } else {
            ui.label(fill(
                t.number_pair,
                &[&call.request.from.grouped(), &call.request.to.grouped()],
            ));
        }
    });
}

/// One small line per recording: its file and where it stands.
fn recordings_ui(ui: &mut egui::Ui, call: &CallRecord, list: &CallList, t: &Texts) {
    for rec in call.recordings.iter().filter(|r| !r.file_name.is_empty()) {
        let state = match rec.job.state {
            JobState::Done => t.rec_attached,
            JobState::Failed | JobState::NeedsCredentials => t.rec_failed,
            _ if list.progress.contains_key(&rec.job.id) => t.rec_sending,
            _ => t.rec_waiting,
        };
        ui.add(
            egui::Label::new(
                egui::RichText::new(fill(t.recording_line, &[&rec.file_name, &state])).small(),
            )
            .truncate(),
        );
    }
}

/// The recording going up now: a progress bar, bytes and rate, and Cancel.
fn upload_ui(
    ui: &mut egui::Ui,
    call: &CallRecord,
    list: &CallList,
    t: &Texts,
    commands: &mut Vec<Command>,
) {
    let uploading = call
        .recordings
        .iter()
        .filter(|r| matches!(r.job.state, JobState::Pending | JobState::Running))
        .find_map(|r| list.progress.get(&r.job.id).map(|p| (r, p)));
    let Some((rec, p)) = uploading else {
        return;
    };
    ui.horizontal_wrapped(|ui| {
        let fraction = if p.total == 0 {
            1.0
        } else {
            p.sent as f32 / p.total as f32
        };
        ui.add(
            egui::ProgressBar::new(fraction)
                .desired_width(ui.available_width().min(220.0))
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

/// The row's buttons: Open task, Call back, and what its state allows (the held call's fix,
/// Attach, Correct, Retry, Discard).
fn row_buttons_ui(
    ui: &mut egui::Ui,
    row: &Row<'_>,
    actions: &mut RowActions,
    commands: &mut Vec<Command>,
) {
    let Row { call, now, t, .. } = *row;
    if let Some(url) = &call.task_url {
        let task = call.registration.as_ref().map_or(0, |r| r.task_id);
        open_task_button(ui, task, url, t, commands);
        // A wrap-up any time once registered; one on its way is not started twice.
        let sending = call
            .wrapup
            .as_ref()
            .is_some_and(|w| matches!(w.state, JobState::Pending | JobState::Running));
        if !sending && ui.button(t.wrap_up).clicked() {
            actions.wrap_up = true;
        }
    }
    if matches!(call.stage(now), Stage::Missed(_))
        && ui
            .button(t.call_back)
            .on_hover_text(fill(t.call_back_hover, &[&far_number(call).grouped()]))
            .clicked()
    {
        commands.push(Command::CallBack(far_number(call).clone()));
    }
    if call.register.state == JobState::Held {
        if ui.button(t.set_line_number).clicked() {
            actions.open_settings = true;
        }
        if ui.button(t.discard).clicked() {
            actions.discard = Some(call.register.id);
        }
        return;
    }
    // The key is what is missing: ask for it here, once for this session.
    let wants_key = [&call.register]
        .into_iter()
        .chain(call.recordings.iter().map(|r| &r.job))
        .any(|j| j.state == JobState::NeedsCredentials && wants_key(j.error_code.as_deref()));
    if wants_key && ui.button(t.enter_key).clicked() {
        actions.enter_key = true;
    }
    if call.register.state != JobState::Discarded && ui.button(t.attach_recording).clicked() {
        actions.pick = true;
    }
    if matches!(
        call.register.state,
        JobState::Failed | JobState::NeedsCredentials
    ) && ui
        .button(t.correct)
        .on_hover_text(t.correct_hover)
        .clicked()
    {
        actions.correct = true;
    }
    let stuck = [&call.register]
        .into_iter()
        .chain(call.recordings.iter().map(|r| &r.job))
        .find(|j| {
            j.state == JobState::NeedsCredentials
                || matches!(j.state, JobState::Failed | JobState::Pending) && j.attempts > 0
        });
    if let Some(job) = stuck {
        if ui.button(t.retry).clicked() {
            commands.push(Command::Retry(job.id));
        }
        if ui.button(t.discard).clicked() {
            actions.discard = Some(job.id);
        }
    }
}

/// True when a job waits for credentials because no key can be had (none stored, no
/// keyring to give it).
pub fn wants_key(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("key_missing" | "keyring" | "keyring_unavailable")
    )
}

/// Names a call for the agent: "the call from +7… at 14:02".
pub fn describe(call: &CallRecord, t: &Texts) -> String {
    let time = local_time(call.created_ms, "%H:%M");
    fill(t.call_from_at, &[&far_number(call).grouped(), &time])
}

/// The far party's number: who called us, or whom we called.
fn far_number(call: &CallRecord) -> &crate::domain::PhoneNumber {
    match call.request.direction {
        Direction::Outgoing => &call.request.to,
        Direction::Incoming | Direction::Unknown => &call.request.from,
    }
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
