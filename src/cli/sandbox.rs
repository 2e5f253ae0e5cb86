//! `pyrus-phone sandbox`, and the in-process sandbox behind `--demo`.

use std::net::{Ipv4Addr, SocketAddr};

use super::{Context, Failure, SandboxArgs};
use crate::domain::Mapping;
use crate::platform::paths::Paths;
use crate::sandbox::{DEMO_ACCOUNT_ID, DEMO_LOGIN, DEMO_SECURITY_KEY, Sandbox, SandboxConfig};
use crate::settings::{Preset, Settings};

/// Starts a demo sandbox on a free loopback port, with its files under the demo data dir.
pub async fn start_demo(paths: &Paths, port: u16) -> std::io::Result<Sandbox> {
    let dir = paths.sandbox_files_dir();
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    Sandbox::start(
        SandboxConfig::demo(dir),
        SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
    )
    .await
}

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
    if settings.defaults.country.is_none() {
        settings.defaults.country = Some("RU".to_owned());
    }
    // Calls heard from softphones need this line's number; the demo has one of its own.
    if settings.defaults.line_number.trim().is_empty() {
        settings.defaults.line_number = DEMO_LINE_NUMBER.to_owned();
    }
    settings
}

/// Runs the sandbox until Ctrl-C.
pub(super) async fn serve(args: SandboxArgs, ctx: &Context) -> Result<(), Failure> {
    let paths = ctx.paths.demo();
    let sandbox = start_demo(&paths, args.port).await.map_err(|e| {
        Failure::usage(format!(
            "cannot start the sandbox on port {} ({e}): pick another --port",
            args.port
        ))
    })?;
    println!("Pyrus sandbox running at {}", sandbox.base_url());
    println!("  auth URL:     {}", sandbox.auth_url());
    println!("  api_url:      {}", sandbox.api_url());
    println!("  files_url:    {}", sandbox.files_url());
    println!("  task pages:   {}/t", sandbox.base_url());
    println!("  login:        {DEMO_LOGIN}");
    println!("  security key: {DEMO_SECURITY_KEY}   (opens only this sandbox)");
    println!("  account id:   {DEMO_ACCOUNT_ID}");
    println!(
        "  faults:       POST {}/sandbox/faults {{\"route\":\"call\",\"kind\":\"server_error\",\"times\":1}}",
        sandbox.base_url()
    );
    println!();
    println!("Try it:");
    println!(
        "  PYRUS_AUTH_URL={} PYRUS_LOGIN={DEMO_LOGIN} PYRUS_SECURITY_KEY={DEMO_SECURITY_KEY} PYRUS_ACCOUNT_ID={DEMO_ACCOUNT_ID} pyrus-phone call --from +79774221338 --to +74953009080 --internal 200",
        sandbox.auth_url()
    );
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| Failure::internal(format!("cannot wait for Ctrl-C: {e}")))?;
    sandbox.shutdown().await;
    Ok(())
}
