//! `pyrus-phone sandbox`, and the in-process sandbox behind `--demo`.

use super::{Context, Failure, SandboxArgs};
use crate::profile::demo::start_demo_with;
use crate::sandbox::{DEMO_ACCOUNT_ID, DEMO_LOGIN, DEMO_SECURITY_KEY};

/// Runs the sandbox until Ctrl-C.
pub(super) async fn serve(args: SandboxArgs, ctx: &Context) -> Result<(), Failure> {
    let paths = ctx.paths.demo();
    let sandbox = start_demo_with(&paths, args.port, args.customers)
        .await
        .map_err(|e| {
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
