//! Thin shims over the operating system: where files live, how a link is opened (both
//! replaced in tests), which program dials a number, the one-instance lock, files private to the user, files others
//! control opened without blocking or being fooled (`files`), and loading the GL driver early
//! for the window.

pub mod autostart;
pub mod browser;
pub mod console;
pub mod desktop;
pub mod dial;
pub mod files;
pub mod gl_warmup;
pub mod instance_lock;
pub mod memory;
pub mod notify;
pub mod paths;
pub mod privacy;
pub mod window_place;
