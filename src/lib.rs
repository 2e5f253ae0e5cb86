//! pyrus-phone: a desktop companion that registers softphone calls in Pyrus and attaches
//! their recordings.
//!
//! The library holds everything; `main.rs` only parses the command line and starts either
//! a CLI command, the built-in sandbox or the window. See ARCHITECTURE.md for the map.

pub mod domain;
pub mod pyrus;
pub mod sandbox;
pub mod outbox;
pub mod platform;
pub mod settings;
pub mod bus;
pub mod service;
pub mod app;
pub mod cli;
pub mod logging;
pub mod runtime;
pub mod ui;
