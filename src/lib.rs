//! pyrus-phone: a desktop companion that registers softphone calls in Pyrus and attaches
//! their recordings.
//!
//! The library holds everything; `main.rs` only parses the command line and starts either
//! a CLI command, the built-in sandbox or the window. See ARCHITECTURE.md for the map.

pub mod app;
pub mod bus;
pub mod cli;
pub mod domain;
pub mod instance;
pub mod logging;
pub mod outbox;
pub mod platform;
pub mod profile;
pub mod pyrus;
pub mod runtime;
pub mod sandbox;
pub mod service;
pub mod settings;
pub mod sources;
pub mod ui;
