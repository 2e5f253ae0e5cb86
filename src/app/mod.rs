//! The eframe application: drains service events in `logic` (also while minimized), draws
//! the UI in `ui`, follows the file chooser, and sends the commands the views pushed after
//! each pass.

pub mod chooser;
pub mod fonts;

use std::collections::HashSet;
use std::path::PathBuf;
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::bus::{Command, Event};
use crate::domain::CallRowId;
use crate::platform::window_place::WindowPlace;
use crate::service::ServiceHandle;
use crate::ui::{self, UiState};

/// The window's state and its two channel ends.
pub struct PhoneApp {
    /// What the window shows.
    pub state: UiState,
    events: mpsc::Receiver<Event>,
    service: ServiceHandle,
    picker: chooser::Picker,
    /// The system's file dialog, while it is open.
    native_pick: Option<chooser::NativePicking>,
    /// The built-in chooser, while it is open.
    built_in_pick: Option<chooser::BuiltInPicking>,
    /// Calls already shown; a new one the agent did not type asks for attention.
    known_calls: Option<HashSet<CallRowId>>,
    /// The window level last applied.
    on_top: Option<bool>,
    /// Frame timing for the logs (the window benchmark reads them).
    frames: FrameStats,
    /// How often the window was brought to the front for another start.
    raised: u32,
    /// Ringing calls already announced (by source and start).
    announced: HashSet<(String, i64)>,
    /// A click on a notification asks for the window here.
    clicked_tx: std::sync::mpsc::SyncSender<()>,
    clicked_rx: std::sync::mpsc::Receiver<()>,
    /// How many desktop notifications were shown.
    notified: u32,
    /// The chooser's drawn glyphs are installed.
    glyphs: bool,
    /// Minimise the window on the first pass (a start with the session).
    start_minimized: bool,
    /// The window's fonts are installed.
    fonts: bool,
    /// Where the window is, to put it back at the next start.
    place: Option<PlaceKeeper>,
}

/// Frame timing: the first frame after start, then the CPU time of each frame.
#[derive(Debug, Default)]
struct FrameStats {
    started: Option<Instant>,
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
            .is_some_and(|t| t.elapsed() < Duration::from_secs(2))
        {
            return;
        }
        self.count += 1;
        self.total_secs += secs;
        self.max_secs = self.max_secs.max(secs);
        if self.count == 100 {
            tracing::info!(
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
        let (clicked_tx, clicked_rx) = std::sync::mpsc::sync_channel(8);
        Self {
            state,
            events,
            service,
            picker: Box::new(chooser::system_chooser),
            native_pick: None,
            built_in_pick: None,
            known_calls: None,
            on_top: None,
            frames: FrameStats::default(),
            raised: 0,
            announced: HashSet::new(),
            clicked_tx,
            clicked_rx,
            notified: 0,
            glyphs: false,
            start_minimized: false,
            fonts: false,
            place: None,
        }
    }

    /// Keeps where the window is in `file`; `restored` is where it was put at this start.
    pub fn with_window_place(mut self, file: PathBuf, restored: Option<WindowPlace>) -> Self {
        self.place = Some(PlaceKeeper {
            file,
            restored,
            current: None,
            saved: restored,
        });
        self
    }

    /// Gives the window its fonts (`fonts::definitions`) before its first pass (otherwise the
    /// first pass does, and they show from the second).
    pub fn with_fonts(mut self, ctx: &egui::Context, fonts: egui::FontDefinitions) -> Self {
        ctx.set_fonts(fonts);
        self.fonts = true;
        self
    }

    /// Starts with the window minimised to the taskbar (a start with the session).
    pub fn minimized(mut self, yes: bool) -> Self {
        self.start_minimized = yes;
        self
    }

    /// Logs the time from `started` to the first frame drawn.
    pub fn with_start_time(mut self, started: Instant) -> Self {
        self.frames.started = Some(started);
        self
    }

    /// Replaces the choice of file dialog (tests answer it themselves).
    pub fn with_picker(
        mut self,
        picker: impl FnMut(&'static ui::i18n::Texts, Option<&std::path::Path>) -> chooser::Chooser
        + 'static,
    ) -> Self {
        self.picker = Box::new(picker);
        self
    }

    /// True while a file chooser (the system's or the built-in one) is open.
    pub fn choosing(&self) -> bool {
        self.native_pick.is_some() || self.built_in_pick.is_some()
    }

    /// Applies every event that has arrived; never waits.
    pub fn drain_events(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            self.state.apply(event);
        }
    }

    /// How often the window was brought to the front (another start, or a click on a
    /// notification, asked).
    pub fn times_raised(&self) -> u32 {
        self.raised
    }

    /// How many desktop notifications of ringing calls were sent.
    pub fn times_notified(&self) -> u32 {
        self.notified
    }

    /// A call that starts ringing while the window is not in front is announced: a desktop
    /// notification (a click brings the window up) and the taskbar's attention request.
    fn announce_ringing(&mut self, ctx: &egui::Context) {
        while self.clicked_rx.try_recv().is_ok() {
            self.state.raise = true;
        }
        if self.state.ringing.is_empty() && self.announced.is_empty() {
            return;
        }
        let away = ctx.input(|i| !i.focused || i.viewport().minimized == Some(true));
        let ringing: HashSet<(String, i64)> = self
            .state
            .ringing
            .iter()
            .map(|c| (c.number.as_str().to_owned(), c.since_ms))
            .collect();
        let t = self.state.texts();
        for call in &self.state.ringing {
            let key = (call.number.as_str().to_owned(), call.since_ms);
            if self.announced.contains(&key) {
                continue;
            }
            self.announced.insert(key);
            if !away {
                continue;
            }
            let clicked = self.clicked_tx.clone();
            let wake = ctx.clone();
            crate::platform::notify::notify(
                crate::platform::notify::Note {
                    title: t.notify_ringing.to_owned(),
                    body: call.number.as_str().to_owned(),
                    action: t.notify_show.to_owned(),
                },
                Box::new(move || {
                    if clicked.try_send(()).is_ok() {
                        wake.request_repaint();
                    }
                }),
            );
            self.notified += 1;
            ctx.send_viewport_cmd(egui::ViewportCommand::RequestUserAttention(
                egui::UserAttentionType::Critical,
            ));
        }
        self.announced.retain(|k| ringing.contains(k));
    }

    /// Everything but drawing: events, the close request, the window level, attention.
    /// eframe runs it before each pass, and also while the window is minimized.
    pub fn logic_pass(&mut self, ctx: &egui::Context) {
        if !std::mem::replace(&mut self.fonts, true) {
            fonts::install(ctx);
        }
        if let Some(place) = &mut self.place {
            place.follow(ctx);
        }
        if std::mem::take(&mut self.start_minimized) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Minimized(true));
        }
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
        self.announce_ringing(ctx);
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
        let ids: HashSet<CallRowId> = self.state.list.calls.iter().map(|c| c.row).collect();
        if let Some(known) = &self.known_calls {
            let typed_here = self.state.outcome_job();
            let incoming = self
                .state
                .list
                .calls
                .iter()
                .any(|c| !known.contains(&c.row) && Some(c.register.id) != typed_here);
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
        if !self.glyphs {
            ui::glyphs::install(ui.ctx());
            self.glyphs = true;
        }
        let mut commands: Vec<Command> = Vec::new();
        ui::root_ui(ui, &mut self.state, &mut commands);
        if let Some(row) = self.state.list.pick_for.take() {
            self.start_pick(row);
        }
        self.follow_pick(ui.ctx(), &mut commands);
        self.send(commands);
    }

    fn send(&mut self, commands: Vec<Command>) {
        for command in commands {
            if let Err(refused) = self.service.send(command) {
                let t = self.state.texts();
                self.state.say(
                    match refused {
                        crate::service::SendError::Busy => t.n_busy,
                        crate::service::SendError::Stopped => t.n_stopped,
                    }
                    .to_owned(),
                );
            }
        }
    }
}

impl PhoneApp {
    fn recordings_dir(&self) -> Option<PathBuf> {
        self.state
            .in_force
            .as_ref()
            .and_then(|s| s.sources.recordings_dir.clone())
    }

    /// Opens a chooser for `row`: the system's dialog where there is one (it never
    /// blocks a frame), else the built-in one.
    fn start_pick(&mut self, row: CallRowId) {
        let t = self.state.texts();
        let dir = self.recordings_dir();
        if self.built_in_pick.is_some() {
            self.state.say(t.picker_busy);
            return;
        }
        if self.native_pick.take().is_some() {
            // Asked again while the system's dialog is still out (behind a window, or never
            // shown): the window's own chooser takes over.
            self.state.say(t.picker_fell_back);
            self.built_in_pick = Some(chooser::BuiltInPicking::open(row, t, dir.as_deref()));
            return;
        }
        match (self.picker)(t, dir.as_deref()) {
            chooser::Chooser::Native(pick) => {
                self.native_pick = Some(chooser::NativePicking::new(row, pick));
            }
            chooser::Chooser::BuiltIn => {
                self.built_in_pick = Some(chooser::BuiltInPicking::open(row, t, dir.as_deref()));
            }
        }
    }

    /// Follows the open chooser: a picked file is attached (and named in the status bar);
    /// a system dialog that answered "nothing" at once never opened, so the built-in one
    /// takes its place.
    fn follow_pick(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let t = self.state.texts();
        if let Some(native) = &mut self.native_pick
            && let Poll::Ready(answer) = native.poll(ctx)
        {
            let (row, quick) = (
                native.row,
                native.started.elapsed() < Duration::from_millis(500),
            );
            self.native_pick = None;
            match answer {
                Some(path) => ui::attach_to(&mut self.state, row, path, commands),
                None if quick => {
                    tracing::warn!("the system file dialog did not open; using the built-in one");
                    self.state.say(t.picker_fell_back);
                    let dir = self.recordings_dir();
                    self.built_in_pick =
                        Some(chooser::BuiltInPicking::open(row, t, dir.as_deref()));
                }
                None => {}
            }
        }
        if let Some(built_in) = &mut self.built_in_pick {
            match built_in.show(ctx) {
                chooser::BuiltInAnswer::Open => {}
                chooser::BuiltInAnswer::Picked(path) => {
                    let row = built_in.row;
                    self.built_in_pick = None;
                    ui::attach_to(&mut self.state, row, path, commands);
                }
                chooser::BuiltInAnswer::Cancelled => self.built_in_pick = None,
            }
        }
    }
}

impl eframe::App for PhoneApp {
    /// The panels' colour: the panels draw no background of their own (`ui::theme`).
    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        visuals.panel_fill.to_normalized_gamma_f32()
    }

    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.logic_pass(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.ui_pass(ui);
        self.frames.record(frame.info().cpu_usage);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        if let Some(place) = &mut self.place {
            place.save();
        }
    }
}

/// Shows a start-up failure in the system's own message box and waits for OK: for a start
/// from the desktop, where no one reads standard error.
pub fn tell_fatal(message: &str) {
    let _ = rfd::MessageDialog::new()
        .set_level(rfd::MessageLevel::Error)
        .set_title("pyrus-phone")
        .set_description(format!("pyrus-phone cannot start: {message}"))
        .set_buttons(rfd::MessageButtons::Ok)
        .show();
}

/// Window options: title, glow renderer, and the size and position the window was left
/// at (`place`, see [`PhoneApp::with_window_place`]) or the default size.
pub fn native_options(place: Option<&WindowPlace>) -> eframe::NativeOptions {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("pyrus-phone")
        .with_app_id("pyrus-phone")
        .with_inner_size([980.0, 640.0])
        .with_min_inner_size([360.0, 420.0])
        .with_drag_and_drop(true);
    if let Some(place) = place {
        viewport = viewport.with_inner_size([place.width, place.height]);
        if let (Some(x), Some(y)) = (place.x, place.y) {
            viewport = viewport.with_position([x, y]);
        }
    }
    eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    }
}

/// Keeps the window's place: follows where the agent moves and sizes it, and saves it when
/// the window closes.
#[derive(Debug)]
struct PlaceKeeper {
    file: PathBuf,
    /// Where the window was put at start, until its monitor is known.
    restored: Option<WindowPlace>,
    /// Where it is now, and since when.
    current: Option<(WindowPlace, Instant)>,
    saved: Option<WindowPlace>,
}

/// How long the window stays put before its place is saved (so a crash or a logout keeps
/// it too, without a write for every step of a drag).
const PLACE_SETTLES: Duration = Duration::from_secs(1);

impl PlaceKeeper {
    fn follow(&mut self, ctx: &egui::Context) {
        let (outer, inner, monitor, hidden) = ctx.input(|i| {
            let v = i.viewport();
            (
                v.outer_rect,
                v.inner_rect,
                v.monitor_size,
                v.minimized == Some(true)
                    || v.maximized == Some(true)
                    || v.fullscreen == Some(true),
            )
        });
        let monitor = monitor.map(|m| (m.x, m.y));
        // A different monitor than when the place was saved: the desk changed, and the old
        // position may lie where no monitor is now.
        if let (Some(was), Some(now)) = (self.restored, monitor) {
            self.restored = None;
            if was.x.is_some() && was.monitor.is_some_and(|m| m != now) {
                tracing::info!(
                    "the monitor changed since the window was last placed; placing it anew"
                );
                ctx.send_viewport_cmd(egui::ViewportCommand::OuterPosition(egui::pos2(32.0, 32.0)));
                return;
            }
        }
        let Some(inner) = inner else { return };
        if hidden {
            return;
        }
        let now = WindowPlace {
            x: outer.map(|r| r.min.x),
            y: outer.map(|r| r.min.y),
            width: inner.width(),
            height: inner.height(),
            monitor,
        };
        match self.current {
            Some((place, since)) if place == now => {
                if self.saved != Some(place) {
                    if since.elapsed() >= PLACE_SETTLES {
                        self.save();
                    } else {
                        ctx.request_repaint_after(PLACE_SETTLES.saturating_sub(since.elapsed()));
                    }
                }
            }
            _ => {
                self.current = Some((now, Instant::now()));
                if self.saved != Some(now) {
                    ctx.request_repaint_after(PLACE_SETTLES);
                }
            }
        }
    }

    fn save(&mut self) {
        let Some(place) = self.current.map(|(p, _)| p).filter(WindowPlace::is_sane) else {
            return;
        };
        if self.saved == Some(place) {
            return;
        }
        match crate::platform::window_place::save(&self.file, &place) {
            Ok(()) => self.saved = Some(place),
            Err(e) => {
                tracing::warn!(file = %self.file.display(), error = %e, "cannot keep where the window was")
            }
        }
    }
}
