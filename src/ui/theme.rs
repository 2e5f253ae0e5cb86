//! The one place with colours and spacing.

use egui::Color32;

/// The frame of a panel along an edge, without a fill of its own.
pub fn edge_panel(style: &egui::Style) -> egui::Frame {
    unfilled(egui::Frame::side_top_panel(style))
}

/// The frame of the central panel, without a fill of its own.
pub fn central_panel(style: &egui::Style) -> egui::Frame {
    unfilled(egui::Frame::central_panel(style))
}

/// Panels draw no background: the window is cleared to the panels' colour each frame
/// (`PhoneApp::clear_color`), so every pixel is shaded once less per frame — most of the
/// drawing's cost where the desktop renders in software (a virtual or remote desktop, Xvfb).
fn unfilled(frame: egui::Frame) -> egui::Frame {
    frame.fill(Color32::TRANSPARENT)
}

/// Colour of error text.
pub const ERROR: Color32 = Color32::from_rgb(0xc0, 0x39, 0x2b);
/// Colour of success text.
pub const OK: Color32 = Color32::from_rgb(0x1e, 0x84, 0x49);
/// Colour of work in progress.
pub const PENDING: Color32 = Color32::from_rgb(0x5d, 0x8a, 0xa8);
/// Colour of warnings (retrying).
pub const WARN: Color32 = Color32::from_rgb(0xb9, 0x77, 0x0e);

/// The demo banner's background.
pub const DEMO_FILL: Color32 = Color32::from_rgb(0xfd, 0xe6, 0x8a);
/// The demo banner's text.
pub const DEMO_TEXT: Color32 = Color32::from_rgb(0x3a, 0x2c, 0x00);
