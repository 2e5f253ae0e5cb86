//! `pyrus-phone wrapup --task N`: a call's wrap-up — notes and outcome fields — stored and
//! sent as one comment on the task, at most once however the run ends.

use std::time::Duration;

use serde_json::json;

use super::commands::{drive, load_settings, open_engine, parse_mappings, quiet_listener};
use super::{Context, Failure, WrapupArgs};

/// The longest notes a wrap-up takes.
pub const MAX_NOTES_CHARS: usize = 10_000;

/// `pyrus-phone wrapup`.
pub(super) async fn wrapup(args: WrapupArgs, ctx: &Context) -> Result<(), Failure> {
    let updates = parse_mappings(&args.set)?;
    let text = args.text.unwrap_or_default();
    if text.trim().is_empty() && updates.is_empty() {
        return Err(Failure::usage(
            "nothing to save: give the notes with --text, or fields with --set CODE=VALUE",
        ));
    }
    let chars = text.chars().count();
    if chars > MAX_NOTES_CHARS {
        return Err(Failure::usage(format!(
            "the notes have {chars} characters: at most {MAX_NOTES_CHARS} are sent; shorten them"
        )));
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(Failure::usage(format!(
            "the notes hold a control character (U+{:04X}); remove it",
            u32::from(c)
        )));
    }
    let settings = load_settings(ctx)?;
    let engine = open_engine(ctx, settings).await?;
    let job = engine
        .outbox()
        .add_comment(args.task, text, updates, None)
        .await
        .map_err(|e| Failure::internal(e.to_string()))?;
    let view = drive(
        &engine,
        job,
        Duration::from_secs(args.wait),
        &quiet_listener(),
    )
    .await?;
    if args.json {
        println!(
            "{}",
            json!({ "task_id": args.task, "job": view.id.0, "state": "done" })
        );
    } else {
        println!("Saved to task {}.", args.task);
    }
    Ok(())
}
