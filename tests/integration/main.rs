//! The integration tests: one binary (linked once) driving the real `pyrus-phone` binary,
//! the Pyrus client and the window against the built-in sandbox.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test that cannot set itself up should fail loudly"
)]

// Part of the harness serves only tests that run on Linux (and the BSDs: see `call_path`).
#[cfg_attr(
    not(target_os = "linux"),
    expect(dead_code, reason = "some helpers serve tests that run on Linux only")
)]
mod support;

// Its instances open tasks through `$BROWSER` (the browser stand-in), which the binary
// honours on Linux and the BSDs only: elsewhere they would open the real browser.
#[cfg(all(unix, not(target_os = "macos")))]
mod call_path;
mod caller;
mod cli_bad_input;
mod cli_flows;
mod cli_resilience;
mod client_any_server;
mod hook;
mod hostile_files;
mod keyring;
mod layers;
mod sandbox_api;
mod softphone;
mod twinkle;
mod twinkle_live;
mod window;
mod window_caller;
mod window_desk;
mod window_dial;
mod window_fit;
mod window_settings;
mod window_sources;
mod wrapup;
