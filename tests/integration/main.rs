//! The integration tests: one binary (linked once) driving the real `pyrus-phone` binary,
//! the Pyrus client and the window against the built-in sandbox.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test that cannot set itself up should fail loudly"
)]

mod support;

mod call_path;
mod cli_bad_input;
mod cli_flows;
mod cli_resilience;
mod client_any_server;
mod hook;
mod keyring;
mod layers;
mod sandbox_api;
mod softphone;
mod window;
mod window_desk;
mod window_settings;
mod window_sources;
