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
        }
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
            .with_inner_size([560.0, 640.0])
            .with_min_inner_size([420.0, 360.0]),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    }
}
