//! `pyrus-phone setup twinkle`: Twinkle's call scripts pointed at this program (or given
//! back with `--undo`), said profile by profile — what was set, what another program keeps
//! and what pyrus-phone then does not hear, where the backup is — and that Twinkle must be
//! restarted to read them, when anything changed.

use std::io::Write as _;

use super::commands::load_settings;
use super::{Context, Failure, SetupTwinkleArgs};
use crate::domain::twinkle_profile::{KeyChange, changes_anything};
use crate::service::twinkle::{self, TwinkleSetupError};

/// What a kept script means pyrus-phone does not hear.
fn unheard(key: &str) -> &'static str {
    match key {
        "script_incoming_call" => {
            "incoming calls ringing (the call is still known from its later triggers)"
        }
        "script_in_call_answered" | "script_out_call_answered" => "answers",
        "script_in_call_failed" => {
            "missed calls (they stay ringing until the list gives up on them)"
        }
        "script_outgoing_call" => "outgoing calls being dialled",
        "script_out_call_failed" => "outgoing calls that did not connect",
        "script_local_release" | "script_remote_release" => {
            "calls ending (they stay in progress; their outcome is not sent)"
        }
        _ => "its events",
    }
}

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
    if args.dir.is_some() && !dir.is_dir() {
        return Err(Failure::usage(format!(
            "{} is not a folder: name Twinkle's folder (the one holding its PROFILE.cfg files)",
            dir.display()
        )));
    }
    let failed = |e: TwinkleSetupError| match e {
        TwinkleSetupError::Io { .. } => Failure::internal(e.to_string()),
        _ => Failure::usage(e.to_string()),
    };
    // What is said goes to a pipe that may close early (`| head`): never a panic for that.
    let mut out = std::io::stdout().lock();
    if args.undo {
        let reports = twinkle::undo(&dir, args.profile.as_deref()).map_err(failed)?;
        say_undone(&mut out, &reports);
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
        writeln!(
            out,
            "Twinkle profile '{}' ({}): {ours} of 8 call scripts run pyrus-phone.",
            report.name,
            report.path.display()
        )
        .ok();
        for (key, change) in &report.changes {
            match change {
                KeyChange::KeptOther(other) => {
                    kept_any = true;
                    writeln!(
                        out,
                        "  {key} kept: it runs {other} — pyrus-phone does not hear {}",
                        unheard(key)
                    )
                    .ok();
                }
                KeyChange::Replaced(other) => {
                    writeln!(
                        out,
                        "  {key} replaced: it ran {other}, which no longer runs"
                    )
                    .ok();
                }
                KeyChange::Set | KeyChange::Unchanged => {}
            }
        }
        if let Some(backup) = &report.backup {
            writeln!(out, "  The profile as it was: {}", backup.display()).ok();
        }
    }
    if kept_any {
        writeln!(
            out,
            "Scripts that run another program were kept. --force replaces them (that program then no longer runs for those calls; a script of your own can run it after pyrus-phone)."
        )
        .ok();
    }
    if reports.iter().any(|r| changes_anything(&r.changes)) {
        writeln!(
            out,
            "Restart Twinkle (quit it, then start it) so it reads them; `pyrus-phone setup twinkle --undo` gives them back."
        )
        .ok();
    } else {
        writeln!(out, "Nothing changed: Twinkle runs these already.").ok();
    }
    Ok(())
}

/// What `--undo` did, profile by profile.
fn say_undone(out: &mut impl std::io::Write, reports: &[twinkle::ProfileReport]) {
    for report in reports {
        writeln!(
            out,
            "Twinkle profile '{}' ({}): {} call script(s) given back what they ran before.",
            report.name,
            report.path.display(),
            report.given_back
        )
        .ok();
    }
    if reports.iter().any(|r| r.given_back > 0) {
        writeln!(
            out,
            "Restart Twinkle (quit it, then start it) so it reads them."
        )
        .ok();
    }
}
