//! The reference for the window's start-up figures (`tests/bench/window.sh`): a bare eframe
//! window built from the same crates, features and release profile as pyrus-phone, doing the
//! same work up to its first frame and no more. It opens with the window options the app
//! uses (`app::native_options`: the glow renderer, the same size and limits) under its own
//! title, `pyrus-phone-bare`, and draws egui's default fonts in a central panel with one
//! heading and one label. No service, no outbox, no logging.
//!
//! It prints `first frame ms=N` to standard error once — N the milliseconds from the top of
//! `main` to the end of the first UI pass, as the app logs its own — and nothing else, and
//! runs until its window is closed or the process is stopped.
//!
//! ```sh
//! cargo build --release --locked --example bare-window
//! ```

use std::process::ExitCode;
use std::time::Instant;

/// The window's one state: when the process started, and whether the first frame was told.
struct Bare {
    started: Instant,
    first_told: bool,
}

impl eframe::App for Bare {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading("pyrus-phone-bare");
            ui.label("A bare window: the reference for the start-up figures.");
        });
        if !self.first_told {
            self.first_told = true;
            eprintln!("first frame ms={}", self.started.elapsed().as_millis());
        }
    }
}

fn main() -> ExitCode {
    let started = Instant::now();
    // The same options as `app::native_options(None)`, under this window's own name.
    let viewport = egui::ViewportBuilder::default()
        .with_title("pyrus-phone-bare")
        .with_app_id("pyrus-phone-bare")
        .with_inner_size([980.0, 640.0])
        .with_min_inner_size([360.0, 420.0])
        .with_drag_and_drop(true);
    let options = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    if let Err(e) = eframe::run_native(
        "pyrus-phone-bare",
        options,
        Box::new(move |_cc| {
            Ok(Box::new(Bare {
                started,
                first_told: false,
            }))
        }),
    ) {
        eprintln!("error: cannot open the window: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
