//! `pyrus-phone event --twinkle`: what Twinkle runs as each of its eight call scripts. The
//! trigger and the call come from the environment; the event is handed to the running
//! instance, or — never waiting for one to start, as Twinkle holds a ringing call until
//! its script exits — kept in the outbox's journal and an instance started, detached. For a
//! ringing call whose number the index of customers knows, it prints `caller_name=` with the
//! subject of the caller's newest open task (Twinkle shows it), when that takes 5 ms or less;
//! nothing else ever goes to stdout.

use std::time::Duration;

use super::commands::{keep_for_next_start, load_settings, start_detached};
use super::{Context, Failure};
use crate::domain::twinkle::{self, TwinkleEvent};
use crate::domain::{CallEvent, EventSource, quick_keys};
use crate::outbox::store::peek_caller_subject;
use crate::sources::forward::{self, ForwardError};
use crate::sources::runtime_file;

/// How long the caller's name may take before the call is let ring without it.
const NAME_WITHIN: Duration = Duration::from_millis(5);

/// The longest name Twinkle takes.
const NAME_CHARS: usize = 50;

/// `pyrus-phone event --twinkle`.
pub(super) fn event(ctx: &Context) -> Result<(), Failure> {
    let seen = twinkle::from_env(|name| std::env::var(name).ok())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let parsed = CallEvent::parse(
        seen.kind,
        &seen.number,
        Some(&seen.call_id),
        seen.internal.as_deref(),
        seen.line.as_deref(),
        EventSource::Twinkle,
    );
    let mut event = match parsed {
        Ok(event) => event,
        // A hidden caller (`anonymous`) or a name: nothing to register. Said in the log, not
        // in Twinkle's console (where the agent would see a command's error).
        Err(crate::domain::EventError::Number(e)) => {
            tracing::info!(trigger = seen.kind, call_id = %seen.call_id, error = %e, "Twinkle: a call without a number is not registered");
            return Ok(());
        }
        Err(e) => return Err(Failure::usage(e.to_string())),
    };
    // Hooks overlap: an end may be handled before the start of its call.
    event.direction = seen.direction;
    event.display.clone_from(&seen.display);
    event.reason = seen.failure.map(|f| f.reason());
    if let Some(failure) = seen.failure {
        tracing::info!(call_id = %seen.call_id, why = %failure.words(), "Twinkle: the call did not connect");
    }
    if seen.kind == "ring"
        && let Some(name) = caller_name(&seen, ctx)
    {
        println!("caller_name={name}");
    }
    let delivery = forward::new_delivery_id();
    if let Some(instance) = runtime_file::read(&ctx.paths.runtime_dir) {
        match forward::send(&instance, &event, &delivery) {
            Ok(()) => return Ok(()),
            Err(ForwardError::NotRunning(_)) => {}
            // No answer, or refused for now: kept here, under the same delivery id.
            Err(e @ (ForwardError::NoAnswer(_) | ForwardError::Refused { status: 503, .. })) => {
                tracing::warn!(error = %e, "Twinkle's event is kept for the instance");
                return keep_for_next_start(&event, ctx, &delivery);
            }
            Err(e) => return Err(Failure::usage(e.to_string())),
        }
    }
    // Nobody listens: kept for the instance started now, which takes it up as it starts.
    keep_for_next_start(&event, ctx, &delivery)?;
    if !crate::platform::instance_lock::InstanceLock::is_held_elsewhere(&ctx.paths.runtime_dir) {
        start_detached()?;
    }
    Ok(())
}

/// The subject of the caller's newest open task, made fit for Twinkle's display (one line,
/// at most 50 characters), when the index answers within [`NAME_WITHIN`].
fn caller_name(seen: &TwinkleEvent, ctx: &Context) -> Option<String> {
    let number = seen.number.clone();
    let settings = load_settings(ctx).ok()?;
    // With no account the instance runs the demo: its own outbox, its form, its plan
    // unless the settings name another.
    let (path, forms) = if settings.has_account() {
        (ctx.paths.database_file(), settings.caller_forms())
    } else {
        let form = vec![crate::sandbox::DEMO_FORM_ID];
        (ctx.paths.demo().database_file(), form)
    };
    let country = settings.defaults.country.clone().or_else(|| {
        (!settings.has_account()).then(|| crate::profile::demo::DEMO_COUNTRY.to_owned())
    });
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("caller-name".into())
        .spawn(move || {
            let country = country.as_deref().map(str::to_ascii_uppercase);
            let keys = quick_keys(&number, country.as_deref().map(str::trim));
            let found = peek_caller_subject(&path, &keys, &forms).ok().flatten();
            tx.send(found).ok();
        })
        .ok()?;
    let subject = rx.recv_timeout(NAME_WITHIN).ok().flatten()?;
    let line: String = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let name: String = line.chars().take(NAME_CHARS).collect();
    (!name.is_empty()).then_some(name)
}
