//! The hook doctor: one health line per call source, "Simulate a call", the lines to paste
//! into MicroSIP and a desk phone, the hook's token, and each source's last raw messages.

use crate::bus::Command;
use crate::domain::sources::{action_url, microsip_line_fits, microsip_lines};
use crate::domain::{
    CallRecord, JobState, LINE_NUMBER_MISSING, RawMessage, SourceId, SourcesReport, TokenOrigin,
    Verdict,
};

use super::i18n::{Texts, fill};
use super::theme;
use super::widgets::{local_time, open_task_button};

/// The doctor's own edit state.
#[derive(Debug, Clone)]
pub struct DoctorForm {
    /// The number "Simulate a call" rings from.
    pub number: String,
    /// The token is shown in clear.
    pub show_token: bool,
    /// Whose raw messages are listed.
    pub raw_of: SourceId,
    /// The last test call's id, to show its outcome by the button.
    pub simulated: Option<String>,
}

impl Default for DoctorForm {
    fn default() -> Self {
        Self {
            number: "+79990000000".to_owned(),
            show_token: false,
            raw_of: SourceId::Command,
            simulated: None,
        }
    }
}

fn source_name(t: &Texts, source: SourceId) -> &'static str {
    match source {
        SourceId::Http => t.src_http,
        SourceId::Command => t.src_command,
        SourceId::Baresip => t.src_baresip,
        SourceId::Simulated => t.src_simulated,
        SourceId::Twinkle => t.src_twinkle,
    }
}

fn health_row(ui: &mut egui::Ui, name: &str, ok: Option<bool>, line: &str) {
    ui.horizontal_wrapped(|ui| {
        let colour = match ok {
            Some(true) => theme::OK,
            Some(false) => theme::ERROR,
            None => theme::PENDING,
        };
        // A dot drawn, not a glyph: every font has it.
        let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
        if ok.is_some() {
            ui.painter().circle_filled(rect.center(), 4.5, colour);
        } else {
            ui.painter()
                .circle_stroke(rect.center(), 4.0, egui::Stroke::new(1.5, colour));
        }
        ui.strong(name);
        ui.label(line);
    });
}

/// The health lines, one per source.
fn health_ui(ui: &mut egui::Ui, report: &SourcesReport, t: &Texts, commands: &mut Vec<Command>) {
    let (hook_ok, hook_line) = match &report.hook {
        None => (None, t.health_hook_off.to_owned()),
        Some(hook) => {
            let mut parts = vec![match (&hook.listening, &hook.problem) {
                (Some(addr), _) => fill(t.health_listening, &[addr]),
                (None, problem) => fill(
                    t.health_hook_failed,
                    &[&problem.clone().unwrap_or_default()],
                ),
            }];
            parts.push(match &hook.token_origin {
                TokenOrigin::Keyring => t.token_kept.to_owned(),
                TokenOrigin::ThisRun(why) => fill(t.token_this_run, &[why]),
            });
            if !hook.allow.is_empty() {
                parts.push(fill(t.health_allow, &[&hook.allow.join(", ")]));
            }
            (Some(hook.listening.is_some()), parts.join(" · "))
        }
    };
    if let Some(why) = &report.outbox_problem {
        health_row(
            ui,
            t.src_outbox,
            Some(false),
            &fill(t.outbox_broken, &[why]),
        );
    }
    health_row(ui, t.src_http, hook_ok, &hook_line);
    health_row(ui, t.src_command, hook_ok, t.via_command);
    match &report.baresip {
        None => health_row(ui, t.src_baresip, None, t.baresip_none),
        Some(b) if b.connected => {
            health_row(
                ui,
                t.src_baresip,
                Some(true),
                &fill(t.baresip_connected, &[&b.addr]),
            );
        }
        Some(b) => health_row(
            ui,
            t.src_baresip,
            Some(false),
            &fill(
                t.baresip_waiting,
                &[&b.addr, &b.problem.clone().unwrap_or_default()],
            ),
        ),
    }
    twinkle_ui(ui, report, t, commands);
    match &report.recordings {
        None => health_row(ui, t.src_recordings, None, t.folder_none),
        Some(f) => {
            let path = f.path.display().to_string();
            match &f.problem {
                None => health_row(
                    ui,
                    t.src_recordings,
                    Some(true),
                    &fill(t.folder_ok, &[&path]),
                ),
                Some(why) => health_row(
                    ui,
                    t.src_recordings,
                    Some(false),
                    &fill(t.folder_bad, &[&path, why]),
                ),
            }
        }
    }
}

/// Twinkle's line: found or not, set up or not (with the button that sets it up), when its
/// last event came, and whether its call history is read.
fn twinkle_ui(ui: &mut egui::Ui, report: &SourcesReport, t: &Texts, commands: &mut Vec<Command>) {
    let Some(twinkle) = &report.twinkle else {
        health_row(ui, t.src_twinkle, None, t.twinkle_none);
        return;
    };
    let names = |all: bool| {
        twinkle
            .profiles
            .iter()
            .map(|(name, ours)| {
                if all {
                    name.clone()
                } else {
                    format!("{name} {ours}/8")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = vec![if twinkle.set_up() {
        fill(t.twinkle_ready, &[&names(true)])
    } else {
        fill(t.twinkle_not_set_up, &[&names(false)])
    }];
    let heard = report
        .raw
        .iter()
        .find(|(s, _)| *s == SourceId::Twinkle)
        .and_then(|(_, m)| m.first());
    if let Some(last) = heard {
        parts.push(fill(
            t.twinkle_heard,
            &[&local_time(last.at_ms, "%H:%M:%S")],
        ));
    }
    if twinkle.history {
        parts.push(t.twinkle_history.to_owned());
    }
    health_row(
        ui,
        t.src_twinkle,
        Some(twinkle.set_up()),
        &parts.join(" · "),
    );
    if !twinkle.set_up()
        && ui
            .button(t.twinkle_set_up_button)
            .on_hover_text(t.twinkle_set_up_hover)
            .clicked()
    {
        commands.push(Command::SetUpTwinkle);
    }
}

/// When another program holds the hook's port: what works, what does not, and a button to
/// try the port again.
fn port_taken_ui(
    ui: &mut egui::Ui,
    report: &SourcesReport,
    t: &Texts,
    commands: &mut Vec<Command>,
) {
    let Some(hook) = &report.hook else {
        return;
    };
    let (Some(port), Some(addr)) = (hook.taken_port, &hook.listening) else {
        return;
    };
    ui.add_space(4.0);
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.colored_label(theme::WARN, fill(t.port_taken, &[&port, addr, &port]));
        if let Some(why) = &hook.problem {
            ui.weak(why);
        }
        if ui.button(fill(t.port_try_again, &[&port])).clicked() {
            commands.push(Command::CheckHookPort);
        }
    });
}

/// Lines the agent copies: a Copy button for all of them, then the lines as selectable
/// monospace text, each wrapped to the width there is (a path breaks where it must).
fn copy_block(ui: &mut egui::Ui, lines: &[String], t: &Texts) {
    if ui.button(t.copy).clicked() {
        ui.ctx().copy_text(lines.join("\n"));
    }
    let width = ui.available_width();
    for line in lines {
        let mut job = egui::text::LayoutJob::single_section(
            line.clone(),
            egui::TextFormat::simple(
                egui::TextStyle::Monospace.resolve(ui.style()),
                ui.visuals().text_color(),
            ),
        );
        job.wrap = egui::text::TextWrapping {
            max_width: width,
            break_anywhere: true,
            ..egui::text::TextWrapping::default()
        };
        ui.add(egui::Label::new(job).selectable(true));
    }
}

/// The token with Show/Hide, Copy and New token. Shared with the settings view.
pub fn token_ui(
    ui: &mut egui::Ui,
    form: &mut DoctorForm,
    report: Option<&SourcesReport>,
    t: &Texts,
    commands: &mut Vec<Command>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(t.hook_token);
        let Some(token) = report.and_then(|r| r.token.as_ref()) else {
            ui.weak(t.hook_token_none);
            return;
        };
        let shown = if form.show_token {
            token.expose().to_owned()
        } else {
            "•".repeat(16)
        };
        ui.monospace(shown);
        if ui
            .button(if form.show_token { t.hide } else { t.show })
            .clicked()
        {
            form.show_token = !form.show_token;
        }
        if ui.button(t.copy).clicked() {
            ui.ctx().copy_text(token.expose().to_owned());
        }
        if ui
            .button(t.new_token)
            .on_hover_text(t.new_token_hover)
            .clicked()
        {
            commands.push(Command::NewHookToken);
        }
    });
}

fn verdict_text(t: &Texts, verdict: &Verdict) -> (String, egui::Color32) {
    match verdict {
        Verdict::Accepted => (t.verdict_accepted.to_owned(), theme::OK),
        Verdict::Ignored => (t.verdict_ignored.to_owned(), theme::PENDING),
        Verdict::Sent => (t.verdict_sent.to_owned(), theme::OK),
        Verdict::Refused(why) => (fill(t.verdict_refused, &[why]), theme::ERROR),
        Verdict::Waiting(why) => (
            fill(
                t.verdict_waiting,
                &[&t.advice(Some(LINE_NUMBER_MISSING), why)],
            ),
            theme::WARN,
        ),
    }
}

fn raw_ui(ui: &mut egui::Ui, messages: &[RawMessage], t: &Texts) {
    if messages.is_empty() {
        ui.weak(t.raw_none);
        return;
    }
    for message in messages {
        let time = local_time(message.at_ms, "%H:%M:%S");
        let (verdict, colour) = verdict_text(t, &message.verdict);
        ui.horizontal_wrapped(|ui| {
            ui.monospace(time);
            ui.colored_label(colour, verdict);
        });
        ui.add(egui::Label::new(egui::RichText::new(&message.text).monospace()).wrap());
        ui.add_space(2.0);
    }
}

/// Draws the doctor.
pub fn sources_ui(
    ui: &mut egui::Ui,
    form: &mut DoctorForm,
    report: Option<&SourcesReport>,
    (demo, simulated): (bool, Option<&CallRecord>),
    t: &Texts,
    commands: &mut Vec<Command>,
) {
    let Some(report) = report else {
        ui.weak(t.raw_none);
        return;
    };
    health_ui(ui, report, t, commands);
    if ui.button(t.check_again).clicked() {
        commands.push(Command::CheckSources);
    }
    port_taken_ui(ui, report, t, commands);
    ui.separator();

    ui.heading(t.simulate_title);
    ui.label(if demo {
        t.simulate_demo
    } else {
        t.simulate_real
    });
    ui.horizontal_wrapped(|ui| {
        let label = ui.label(t.simulate_number);
        ui.add(
            egui::TextEdit::singleline(&mut form.number)
                .desired_width(ui.available_width().clamp(120.0, 180.0)),
        )
        .labelled_by(label.id);
        if ui.button(t.simulate_button).clicked() {
            form.simulated = None;
            commands.push(Command::SimulateCall(form.number.trim().to_owned()));
        }
        if form.simulated.is_some() {
            simulated_ui(ui, simulated, t, commands);
        }
    });
    ui.separator();

    token_ui(ui, form, Some(report), t, commands);
    ui.add_space(6.0);
    ui.label(t.microsip_title);
    let lines = microsip_lines(&report.program);
    if !lines.iter().all(|l| microsip_line_fits(l)) {
        ui.colored_label(theme::WARN, t.microsip_too_long);
    }
    copy_block(ui, &lines, t);
    action_urls_ui(ui, form, report, t);
    ui.separator();

    ui.heading(t.raw_title);
    ui.horizontal_wrapped(|ui| {
        for source in SourceId::ALL {
            ui.selectable_value(&mut form.raw_of, source, source_name(t, source));
        }
    });
    let messages = report
        .raw
        .iter()
        .find(|(s, _)| *s == form.raw_of)
        .map_or(&[][..], |(_, m)| m.as_slice());
    raw_ui(ui, messages, t);
}

/// What became of the test call, by its button: its task, why it failed, or a spinner.
fn simulated_ui(
    ui: &mut egui::Ui,
    simulated: Option<&CallRecord>,
    t: &Texts,
    commands: &mut Vec<Command>,
) {
    match simulated {
        Some(call) if call.register.state == JobState::Done => {
            if let (Some(url), Some(reg)) = (&call.task_url, &call.registration) {
                open_task_button(ui, reg.task_id, url, t, commands);
            }
        }
        Some(call)
            if matches!(
                call.register.state,
                JobState::Failed | JobState::NeedsCredentials | JobState::Held
            ) =>
        {
            let why = t.job_advice(&call.register);
            ui.colored_label(theme::ERROR, fill(t.chip_failed, &[&why]));
        }
        _ => {
            ui.spinner();
            ui.label(t.simulate_sent);
        }
    }
}

/// A desk phone's Action URLs, once the hook listens and has a token (shown as `TOKEN`
/// while the token is hidden).
fn action_urls_ui(ui: &mut egui::Ui, form: &DoctorForm, report: &SourcesReport, t: &Texts) {
    let port = report
        .hook
        .as_ref()
        .and_then(|h| h.listening.as_deref())
        .and_then(|a| a.rsplit_once(':'))
        .and_then(|(_, p)| p.parse::<u16>().ok());
    let (Some(token), Some(port)) = (report.token.as_ref(), port) else {
        return;
    };
    ui.add_space(6.0);
    ui.label(t.action_url_title);
    let shown = if form.show_token {
        token.expose().to_owned()
    } else {
        "TOKEN".to_owned()
    };
    let urls: Vec<String> = ["ring", "answer", "end", "outgoing"]
        .iter()
        .map(|event| action_url(&report.host, port, &shown, event))
        .collect();
    copy_block(ui, &urls, t);
    if report.host == "127.0.0.1" {
        ui.weak(t.action_url_local);
    }
}
