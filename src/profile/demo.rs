//! The demo: an in-process sandbox on a free loopback port with its files under the demo
//! data folder, and the settings a profile runs with against it.

use std::net::{Ipv4Addr, SocketAddr};

use crate::domain::Mapping;
use crate::platform::paths::Paths;
use crate::sandbox::{DEMO_ACCOUNT_ID, DEMO_LOGIN, Sandbox, SandboxConfig};
use crate::settings::{Preset, Settings};

/// Starts a demo sandbox on a free loopback port, with its files under the demo data dir.
pub async fn start_demo(paths: &Paths, port: u16) -> std::io::Result<Sandbox> {
    start_demo_with(paths, port, 0).await
}

/// As [`start_demo`], with `customers` more customers' tasks (for load).
pub async fn start_demo_with(paths: &Paths, port: u16, customers: u32) -> std::io::Result<Sandbox> {
    let dir = paths.sandbox_files_dir();
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let mut config = SandboxConfig::demo(dir);
    config
        .customers
        .extend(crate::sandbox::SandboxCustomer::generated(customers));
    Sandbox::start(config, SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await
}

/// The demo's numbering plan, unless the agent's own settings name one.
pub const DEMO_COUNTRY: &str = "RU";

/// The demo's line: the `to` number of calls heard from softphones in the demo.
pub const DEMO_LINE_NUMBER: &str = "+74950000000";

/// The settings the demo runs with: the sandbox's address and login, two presets, a default
/// country and a line number, unless the agent's own settings already give them.
pub fn demo_settings(sandbox: &Sandbox, base: &Settings) -> Settings {
    let mut settings = base.clone();
    settings.pyrus.auth_url = sandbox.auth_url();
    settings.pyrus.login = DEMO_LOGIN.to_owned();
    settings.pyrus.account_id = DEMO_ACCOUNT_ID.to_owned();
    settings.pyrus.web_base = None;
    settings.pyrus.person_id = None;
    settings.pyrus.form_id = Some(crate::sandbox::DEMO_FORM_ID);
    if settings.defaults.presets.is_empty() {
        let preset = |name: &str, rows: &[(&str, &str)]| Preset {
            name: name.to_owned(),
            mappings: rows
                .iter()
                .map(|(code, value)| Mapping {
                    code: (*code).to_owned(),
                    value: (*value).to_owned(),
                })
                .collect(),
        };
        settings.defaults.presets = vec![
            preset("Consultation", &[("Subject", "Consultation")]),
            preset(
                "Complaint",
                &[("Subject", "Complaint"), ("Note", "Callback within a day")],
            ),
        ];
    }
    if settings.wrapup.fields.is_empty() {
        settings.wrapup.fields = vec!["Result".to_owned()];
    }
    // A call's outcome fills the demo form's fields for it (not a comment).
    if !settings.outcome.as_fields() {
        let code = |c: &str| Some(c.to_owned());
        settings.outcome.result = code("CallResult");
        settings.outcome.started = code("CallStartTime");
        settings.outcome.ended = code("CallEndTime");
        settings.outcome.talk_seconds = code("TalkSeconds");
    }
    if settings.defaults.country.is_none() {
        settings.defaults.country = Some(DEMO_COUNTRY.to_owned());
    }
    // Calls heard from softphones need this line's number; the demo has one of its own.
    if settings.defaults.line_number.trim().is_empty() {
        settings.defaults.line_number = DEMO_LINE_NUMBER.to_owned();
    }
    settings
}
