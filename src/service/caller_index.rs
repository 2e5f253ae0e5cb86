//! Who is calling: keeps the index of customers' numbers (each form's register read page
//! by page, by task id — the one order Pyrus documents — so a form of any size is read in
//! bounded steps and a reading cut short goes on where it stopped), within the shared rate
//! budget at the lowest priority, and makes a caller's card from it with a local query.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Engine;
use crate::domain::{CallerCard, CallerTask, Country, FormIndex, index_key};
use crate::outbox::store::RATE_BUDGET;
use crate::outbox::{IndexedTask, Outbox, Reading, StoreError};
use crate::pyrus::{PyrusClient, PyrusError, RegisterPage, RegisterTask};

/// Tasks asked for per page.
pub const PAGE: u32 = 500;

/// The index reads only while every process sharing the outbox has spent less than this
/// of the rate window: the rest of the budget is left to calls and recordings.
pub const SYNC_BUDGET: i64 = RATE_BUDGET - 500;

/// An increment asks again for what changed this long before the newest change it saw
/// (changes in the same second, clocks a little apart).
const OVERLAP_SECS: i64 = 60;

/// Why a reading stopped before the end.
pub(super) const RATE_BUDGET_CODE: &str = "rate_budget";

/// Reads every indexed form's changes (the whole form the first time); what each form's
/// index is now.
pub async fn read_forms(engine: &Arc<Engine>) -> Vec<FormIndex> {
    let forms = engine.settings().caller_forms();
    let mut states = Vec::with_capacity(forms.len());
    if forms.is_empty() {
        return states;
    }
    let client = match engine.client_async().await {
        Ok(client) => client,
        Err(e) => {
            for form_id in forms {
                note(engine.outbox(), form_id, e.code(), false).await;
                states.push(form_state(engine.outbox(), form_id).await);
            }
            return states;
        }
    };
    for form_id in forms {
        if let Err(e) = read_form(engine, &client, form_id).await {
            let denied = e.code().starts_with("access_denied") || e.code() == "form_is_deleted";
            tracing::warn!(form_id, code = e.code(), error = %e, "a form could not be indexed");
            note(engine.outbox(), form_id, e.code(), denied).await;
        }
        if let Err(e) = engine.outbox().count_requests(client.take_answered()).await {
            tracing::warn!(error = %e, "the requests Pyrus answered could not be counted");
        }
        states.push(form_state(engine.outbox(), form_id).await);
    }
    states
}

/// A reading failed: what was read stays, and the card says why.
async fn note(outbox: &Outbox, form_id: u64, code: &str, denied: bool) {
    if let Err(e) = outbox
        .note_caller_problem(form_id, code.to_owned(), denied)
        .await
    {
        tracing::warn!(error = %e, "the index's problem could not be noted");
    }
}

/// What stopped a reading.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error(transparent)]
    Pyrus(#[from] PyrusError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the form has no phone field (set caller.phone_fields to the codes of its phone fields)"
    )]
    NoPhoneField,
    #[error("the rate budget is spent for now; the index goes on in the next window")]
    Budget,
}

impl ReadError {
    fn code(&self) -> &str {
        match self {
            Self::Pyrus(e) => e.code(),
            Self::Store(_) => "outbox",
            Self::NoPhoneField => "no_phone_field",
            Self::Budget => RATE_BUDGET_CODE,
        }
    }
}

/// Reads one form from where its reading is to the end.
async fn read_form(
    engine: &Arc<Engine>,
    client: &Arc<PyrusClient>,
    form_id: u64,
) -> Result<(), ReadError> {
    let outbox = engine.outbox();
    let settings = engine.settings();
    let country = settings.defaults.country();
    let template = client.form_template(form_id).await?;
    let phones = template.phone_fields(&settings.caller.phone_fields);
    if phones.is_empty() {
        return Err(ReadError::NoPhoneField);
    }
    let known = outbox.caller_reading(form_id).await?;
    let since = known
        .walked
        .then(|| known.high_water.as_deref().map(earlier))
        .flatten();
    let mut reading: Reading = outbox.begin_caller_reading(form_id, since).await?;
    loop {
        if outbox.requests_counted().await? >= SYNC_BUDGET {
            return Err(ReadError::Budget);
        }
        let page = RegisterPage {
            form_id,
            after_id: reading.after_id,
            modified_after: reading.modified_after.clone(),
            item_count: PAGE,
            field_ids: phones.clone(),
        };
        let tasks = client.form_register(&page).await?;
        outbox.count_requests(client.take_answered()).await?;
        let full = tasks.len() >= PAGE as usize;
        let last = tasks.iter().map(|t| t.id).max();
        let indexed = tasks
            .into_iter()
            .map(|t| indexed(t, form_id, &template.steps, country))
            .collect();
        outbox.store_caller_page(form_id, indexed).await?;
        match last {
            Some(last) if full => reading.after_id = last,
            _ => break,
        }
    }
    outbox.finish_caller_reading(form_id).await?;
    Ok(())
}

/// `modified` less [`OVERLAP_SECS`], in the same form.
fn earlier(modified: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(modified).map_or_else(
        |_| modified.to_owned(),
        |t| {
            (t.with_timezone(&chrono::Utc) - chrono::Duration::seconds(OVERLAP_SECS))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        },
    )
}

fn indexed(
    task: RegisterTask,
    form_id: u64,
    steps: &BTreeMap<u32, String>,
    country: Option<Country>,
) -> IndexedTask {
    let mut numbers: Vec<String> = task
        .phones
        .iter()
        .filter_map(|p| index_key(p, country))
        .collect();
    numbers.dedup();
    IndexedTask {
        task: CallerTask {
            task_id: task.id,
            form_id,
            subject: task.subject,
            step: task
                .step
                .map(|n| steps.get(&n).cloned().unwrap_or_else(|| n.to_string())),
            closed: task.closed,
            responsible: task.responsible,
            modified: task.modified,
        },
        numbers,
    }
}

/// How far `form_id`'s index is, as the card says it.
async fn form_state(outbox: &Outbox, form_id: u64) -> FormIndex {
    match outbox.caller_reading(form_id).await {
        Ok(reading) => state_of(form_id, &reading),
        Err(e) => {
            tracing::warn!(error = %e, "the index's state could not be read");
            FormIndex::Failed {
                form_id,
                code: "outbox".to_owned(),
                as_of_ms: None,
            }
        }
    }
}

fn state_of(form_id: u64, reading: &Reading) -> FormIndex {
    match (&reading.problem, reading.denied) {
        (Some(code), true) => FormIndex::Denied {
            form_id,
            code: code.clone(),
        },
        (Some(code), false) => FormIndex::Failed {
            form_id,
            code: code.clone(),
            as_of_ms: reading.as_of_ms,
        },
        (None, _) => match (reading.walked, reading.as_of_ms) {
            (true, Some(as_of_ms)) => FormIndex::Ready { form_id, as_of_ms },
            _ => FormIndex::Syncing { form_id },
        },
    }
}

/// True when some indexed form was never read to the end (and Pyrus did not refuse it).
pub async fn needs_first_reading(engine: &Engine) -> bool {
    for form_id in engine.settings().caller_forms() {
        match engine.outbox().caller_reading(form_id).await {
            Ok(r) if r.walked || r.denied => {}
            _ => return true,
        }
    }
    false
}

/// The caller's card: a local query, whatever Pyrus is doing.
pub async fn card(engine: &Engine, number: &str) -> Result<CallerCard, StoreError> {
    let settings = engine.settings();
    let forms = settings.caller_forms();
    let key = index_key(number, settings.defaults.country()).unwrap_or_else(|| number.to_owned());
    let tasks = if forms.is_empty() {
        Vec::new()
    } else {
        engine
            .outbox()
            .find_caller(key.clone(), forms.clone())
            .await?
    };
    let mut states = Vec::with_capacity(forms.len());
    for form_id in forms {
        states.push(form_state(engine.outbox(), form_id).await);
    }
    let (closed, open) = tasks.into_iter().partition(|t| t.closed);
    Ok(CallerCard {
        number: key,
        open,
        closed,
        forms: states,
    })
}

#[cfg(test)]
mod tests {
    use super::earlier;

    #[test]
    fn an_increment_asks_again_for_the_last_minute() {
        assert_eq!(earlier("2026-12-03T10:00:30Z"), "2026-12-03T09:59:30Z");
        assert_eq!(earlier("not a date"), "not a date");
    }
}
