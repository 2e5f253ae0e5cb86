//! The eframe application: drains service events in `logic` (also while minimized), draws
//! the UI in `ui`, and sends the commands the views pushed after each pass.

use std::collections::HashSet;

use tokio::sync::mpsc;

use crate::bus::{Command, Event};
use crate::service::ServiceHandle;
use crate::ui::{self, UiState};

/// The window's state and its two channel ends.
pub struct PhoneApp {
    /// What the window shows.
    pub state: UiState,
    events: mpsc::Receiver<Event>,
    service: ServiceHandle,
    picker: Box<dyn FnMut(&'static ui::i18n::Texts) -> Option<std::path::PathBuf>>,
    /// Calls already shown; a new one the agent did not type asks for attention.
    known_calls: Option<HashSet<i64>>,
    /// The window level last applied.
    on_top: Option<bool>,
    /// Frame timing for the logs (the window benchmark reads them).
    frames: FrameStats,
    /// How often the window was brought to the front for another start.
    raised: u32,
}

/// Frame timing: the first frame after start, then the CPU time of each frame.
#[derive(Debug, Default)]
struct FrameStats {
    started: Option<std::time::Instant>,
    first_logged: bool,
    count: u32,
    total_secs: f32,
    max_secs: f32,
}

impl FrameStats {
    fn record(&mut self, cpu_secs: Option<f32>) {
        if !self.first_logged {
            self.first_logged = true;
            if let Some(started) = self.started {
                tracing::info!(ms = started.elapsed().as_millis(), "first frame");
            }
        }
        let Some(secs) = cpu_secs else {
            return;
        };
        // Start-up frames (font atlas, first layout) are measured as the first frame.
        if self
            .started
            .is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(2))
        {
            return;
        }
        self.count += 1;
        self.total_secs += secs;
        self.max_secs = self.max_secs.max(secs);
        if self.count == 100 {
            tracing::debug!(
                frames = self.count,
                mean_ms = self.total_secs * 1000.0 / self.count as f32,
                max_ms = self.max_secs * 1000.0,
                "frame times"
            );
            *self = Self {
                started: self.started,
                first_logged: true,
                ..Self::default()
            };
        }
    }
}

impl std::fmt::Debug for PhoneApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneApp").finish_non_exhaustive()
    }
}

impl PhoneApp {
    /// Wires the window to a running service.
    pub fn new(state: UiState, events: mpsc::Receiver<Event>, service: ServiceHandle) -> Self {
        Self {
            state,
            events,
            service,
            picker: Box::new(ui::pick_recording),
            known_calls: None,
            on_top: None,
            frames: FrameStats::default(),
            raised: 0,
        }
    }

    /// Logs the time from `started` to the first frame drawn.
    pub fn with_start_time(mut self, started: std::time::Instant) -> Self {
        self.frames.started = Some(started);
        self
    }

    /// Replaces the file dialog (tests answer it themselves).
    pub fn with_picker(
        mut self,
        picker: impl FnMut(&'static ui::i18n::Texts) -> Option<std::path::PathBuf> + 'static,
    ) -> Self {
        self.picker = Box::new(picker);
        self
    }

    /// Applies every event that has arrived; never waits.
    pub fn drain_events(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            self.state.apply(event);
        }
    }

    /// How often the window was brought to the front because another start asked.
    pub fn times_raised(&self) -> u32 {
        self.raised
    }

    /// Everything but drawing: events, the close request, the window level, attention.
    /// eframe runs it before each pass, and also while the window is minimized.
    pub fn logic_pass(&mut self, ctx: &egui::Context) {
        self.drain_events();
        if ctx.input(|i| i.viewport().close_requested())
            && !self.state.close_now
            && self.state.status.open_jobs > 0
        {
            // Work is kept either way; ask before the agent walks away from it.
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.state.confirm_close = true;
        }
        if self.state.close_now {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if std::mem::take(&mut self.state.raise) {
            // Shown, restored and focused; where the window system refuses focus (a
            // second program may not steal it), the taskbar entry asks for attention.
            ctx.send_viewport_cmd(egui::ViewportCommand::Visible(true));
            ctx.send_viewport_cmd(egui::ViewportCommand::Minimized(false));
            ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
            ctx.send_viewport_cmd(egui::ViewportCommand::RequestUserAttention(
                egui::UserAttentionType::Informational,
            ));
            self.raised += 1;
            tracing::info!("brought to the front");
        }
        let on_top = self
            .state
            .in_force
            .as_ref()
            .is_some_and(|s| s.window.always_on_top);
        if self.on_top != Some(on_top) {
            self.on_top = Some(on_top);
            let level = if on_top {
                egui::WindowLevel::AlwaysOnTop
            } else {
                egui::WindowLevel::Normal
            };
            ctx.send_viewport_cmd(egui::ViewportCommand::WindowLevel(level));
        }
        let ids: HashSet<i64> = self.state.list.calls.iter().map(|c| c.call_id).collect();
        if let Some(known) = &self.known_calls {
            let typed_here = self.state.outcome_job();
            let incoming = self
                .state
                .list
                .calls
                .iter()
                .any(|c| !known.contains(&c.call_id) && Some(c.register.id) != typed_here);
            if incoming {
                ctx.send_viewport_cmd(egui::ViewportCommand::RequestUserAttention(
                    egui::UserAttentionType::Informational,
                ));
            }
        }
        if self.known_calls.is_some() || !ids.is_empty() {
            self.known_calls = Some(ids);
        }
    }

    /// One UI pass: draw, then send what the views asked for.
    pub fn ui_pass(&mut self, ui: &mut egui::Ui) {
        let mut commands: Vec<Command> = Vec::new();
        ui::root_ui(ui, &mut self.state, &mut commands);
        if let Some(call_id) = self.state.list.pick_for.take() {
            // The dialog is modal; it runs on this thread as the platforms require.
            if let Some(path) = (self.picker)(self.state.texts()) {
                self.state.list.attach_errors.remove(&call_id);
                commands.push(Command::AttachRecording { call_id, path });
            }
        }
        for command in commands {
            if let Err(reason) = self.service.send(command) {
                self.state.notice = Some(reason);
            }
        }
    }
}

impl eframe::App for PhoneApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.logic_pass(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.ui_pass(ui);
        self.frames.record(frame.info().cpu_usage);
    }
}

/// Window options: title, size, glow renderer; position and size are remembered in
/// `window_state` (eframe storage: losing it is harmless).
pub fn native_options(window_state: std::path::PathBuf) -> eframe::NativeOptions {
    eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("pyrus-phone")
            .with_app_id("pyrus-phone")
            .with_inner_size([980.0, 640.0])
            .with_min_inner_size([640.0, 420.0])
            .with_drag_and_drop(true),
        renderer: eframe::Renderer::Glow,
        persist_window: true,
        persistence_path: Some(window_state),
        ..Default::default()
    }
}
