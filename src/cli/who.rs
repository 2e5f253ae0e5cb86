//! `pyrus-phone who NUMBER`: the caller's card from the local index of customers — their
//! open tasks, then the closed ones — read from Pyrus first when a form was never read.

use std::time::Duration;

use super::commands::{load_settings, open_engine};
use super::{Context, Failure, WhoArgs};
use crate::domain::{CallerCard, CallerTask, FormIndex, PhoneNumber};
use crate::service::caller_index;

/// `pyrus-phone who`.
pub(super) async fn who(args: WhoArgs, ctx: &Context) -> Result<(), Failure> {
    let number =
        PhoneNumber::parse(&args.number).map_err(|e| Failure::usage(format!("the number: {e}")))?;
    let settings = load_settings(ctx)?;
    let engine = open_engine(ctx, settings).await?;
    if caller_index::needs_first_reading(&engine).await {
        let reading = caller_index::read_forms(&engine);
        if tokio::time::timeout(Duration::from_secs(args.wait), reading)
            .await
            .is_err()
        {
            eprintln!(
                "note: the forms were not read to the end within --wait {} s; what was read is shown, and the rest is read next time",
                args.wait
            );
        }
    }
    let card = caller_index::card(&engine, number.as_str())
        .await
        .map_err(|e| Failure::internal(e.to_string()))?;
    if args.json {
        println!("{}", card_json(&card));
    } else {
        print!("{}", card_text(&card));
    }
    Ok(())
}

fn iso(ms: i64) -> Option<String> {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn local(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms).map_or_else(String::new, |t| {
        t.with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    })
}

/// The card as JSON: the number, open and closed tasks, as of when, and each form's state.
fn card_json(card: &CallerCard) -> serde_json::Value {
    let tasks = |tasks: &[CallerTask]| -> Vec<serde_json::Value> {
        tasks
            .iter()
            .map(|t| {
                serde_json::json!({
                    "task_id": t.task_id,
                    "form_id": t.form_id,
                    "subject": t.subject,
                    "step": t.step,
                    "closed": t.closed,
                    "responsible": t.responsible,
                    "modified": t.modified,
                })
            })
            .collect()
    };
    serde_json::json!({
        "number": card.number,
        "open": tasks(&card.open),
        "closed": tasks(&card.closed),
        "as_of": card.as_of_ms().and_then(iso),
        "forms": card.forms,
    })
}

/// One task's line.
fn task_line(t: &CallerTask) -> String {
    let mut parts = vec![t.subject.clone()];
    parts.extend(t.step.clone());
    parts.extend(t.responsible.clone());
    let changed = chrono::DateTime::parse_from_rfc3339(&t.modified)
        .map_or_else(|_| t.modified.clone(), |d| local(d.timestamp_millis()));
    parts.push(format!("changed {changed}"));
    format!("  #{}  {}\n", t.task_id, parts.join(" — "))
}

/// What a form's state asks of the reader, when it asks anything.
fn form_line(form: &FormIndex) -> Option<String> {
    match form {
        FormIndex::Ready { .. } => None,
        FormIndex::Syncing { form_id } => Some(format!(
            "The customers of form {form_id} are still being read from Pyrus: ask again in a minute."
        )),
        FormIndex::Denied { form_id, code } => Some(format!(
            "Pyrus does not let the bot read form {form_id} ({code}): ask your Pyrus administrator to give the bot access to form {form_id}."
        )),
        FormIndex::Failed {
            form_id,
            code,
            as_of_ms,
        } => Some(match as_of_ms {
            Some(at) => format!(
                "Form {form_id} could not be read just now ({code}); its tasks are as of {}.",
                local(*at)
            ),
            None => format!(
                "Form {form_id} could not be read ({code}); `pyrus-phone who` reads it again."
            ),
        }),
    }
}

/// The card as text for people.
fn card_text(card: &CallerCard) -> String {
    let shown =
        PhoneNumber::parse(&card.number).map_or_else(|_| card.number.clone(), |n| n.grouped());
    if card.forms.is_empty() {
        return format!(
            "{shown}: no form is set, so callers cannot be looked up — choose the form in Settings (pyrus.form_id), or add forms to caller.forms.\n"
        );
    }
    let mut text = match card.as_of_ms() {
        Some(at) => format!(
            "{shown}: {} open task(s), {} closed (as of {})\n",
            card.open.len(),
            card.closed.len(),
            local(at)
        ),
        None => format!(
            "{shown}: {} open task(s), {} closed\n",
            card.open.len(),
            card.closed.len()
        ),
    };
    for task in &card.open {
        text.push_str(&task_line(task));
    }
    if !card.closed.is_empty() {
        text.push_str(&format!("History ({}):\n", card.closed.len()));
        for task in &card.closed {
            text.push_str(&task_line(task));
        }
    }
    for line in card.forms.iter().filter_map(form_line) {
        text.push_str(&line);
        text.push('\n');
    }
    text
}
