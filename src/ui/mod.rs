//! The window's contents: a projection of what the service reported (`state`), drawn by view
//! functions that push `Command`s and never do I/O. `root` lays out the window and hands each
//! part to its view.

pub mod call_form;
pub mod call_stage;
pub mod caller_card;
pub mod calls;
mod calls_view;
mod drops;
pub mod glyphs;
pub mod i18n;
mod mapping_row;
mod ringing;
mod root;
pub mod settings_view;
mod shortcuts;
pub mod sources_view;
mod state;
pub mod theme;
mod widgets;
pub mod wrapup;

pub use drops::attach_to;
pub use root::root_ui;
pub use state::{NARROW_BELOW, Outcome, Pane, UiState, View};
