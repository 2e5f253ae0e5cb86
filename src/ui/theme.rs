//! The one place with colours and spacing.

use egui::{Color32, RichText};

/// Colour of error text.
pub const ERROR: Color32 = Color32::from_rgb(0xc0, 0x39, 0x2b);
/// Colour of success text.
pub const OK: Color32 = Color32::from_rgb(0x1e, 0x84, 0x49);
/// Colour of work in progress.
pub const PENDING: Color32 = Color32::from_rgb(0x5d, 0x8a, 0xa8);
/// Colour of warnings (retrying).
pub const WARN: Color32 = Color32::from_rgb(0xb9, 0x77, 0x0e);

/// A small highlighted badge.
pub fn badge(text: &str) -> RichText {
    RichText::new(text)
        .small()
        .strong()
        .color(Color32::BLACK)
        .background_color(Color32::from_rgb(0xfd, 0xe6, 0x8a))
}
