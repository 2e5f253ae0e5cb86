//! `pyrus-phone setup twinkle`: Twinkle's call scripts pointed at this program (or given
//! back with `--undo`), said profile by profile — what was set, what another program keeps,
//! where the backup is — and that Twinkle must be restarted to read them.

use super::commands::load_settings;
use super::{Context, Failure, SetupTwinkleArgs};
use crate::domain::twinkle_profile::KeyChange;
use crate::service::twinkle::{self, TwinkleSetupError};

/// `setup twinkle`.
pub(super) fn twinkle(args: &SetupTwinkleArgs, ctx: &Context) -> Result<(), Failure> {
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => load_settings(ctx)
            .ok()
            .and_then(|s| s.sources.twinkle_dir)
            .or_else(twinkle::user_twinkle_dir)
            .ok_or_else(|| {
                Failure::usage("cannot find the home folder: name Twinkle's folder with --dir")
            })?,
    };
    let failed = |e: TwinkleSetupError| match e {
        TwinkleSetupError::Io { .. } => Failure::internal(e.to_string()),
        _ => Failure::usage(e.to_string()),
    };
    if args.undo {
        for report in twinkle::undo(&dir, args.profile.as_deref()).map_err(failed)? {
            println!(
                "Twinkle profile '{}' ({}): {} call script(s) given back what they ran before.",
                report.name,
                report.path.display(),
                report.given_back
            );
        }
        println!("Restart Twinkle (quit it, then start it) so it reads them.");
        return Ok(());
    }
    let program = std::env::current_exe()
        .map_err(|e| Failure::internal(format!("cannot tell where pyrus-phone is: {e}")))?;
    let reports =
        twinkle::set_up(&dir, args.profile.as_deref(), &program, args.force).map_err(failed)?;
    let mut kept_any = false;
    for report in &reports {
        let ours = report
            .changes
            .iter()
            .filter(|(_, c)| !matches!(c, KeyChange::KeptOther(_)))
            .count();
        println!(
            "Twinkle profile '{}' ({}): {ours} of 8 call scripts run pyrus-phone.",
            report.name,
            report.path.display()
        );
        for (key, change) in &report.changes {
            match change {
                KeyChange::KeptOther(other) => {
                    kept_any = true;
                    println!("  {key} kept: it runs {other}");
                }
                KeyChange::Replaced(other) => println!("  {key} replaced: it ran {other}"),
                KeyChange::Set | KeyChange::Unchanged => {}
            }
        }
        if let Some(backup) = &report.backup {
            println!("  The profile as it was: {}", backup.display());
        }
    }
    if kept_any {
        println!(
            "Scripts that run another program were kept: run again with --force to replace them (pyrus-phone then hears those calls too)."
        );
    }
    println!(
        "Restart Twinkle (quit it, then start it) so it reads them; `pyrus-phone setup twinkle --undo` gives them back."
    );
    Ok(())
}
