//! The eframe application: drains service events in `logic` (also while minimized), draws
//! the UI in `ui`, and sends the commands the views pushed after each pass.

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
        }
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
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain_events();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.ui_pass(ui);
    }
}

/// Window options: title, size, glow renderer.
pub fn native_options() -> eframe::NativeOptions {
    eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("pyrus-phone")
            .with_app_id("pyrus-phone")
            .with_inner_size([980.0, 640.0])
            .with_min_inner_size([640.0, 420.0])
            .with_drag_and_drop(true),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    }
}
