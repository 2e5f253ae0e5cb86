//! Who is calling, timed: fills an index of customers' tasks (100,000 by default) in an
//! outbox of its own, then looks 2,000 callers up as `who` and the window do (the card:
//! the tasks of the number, each form's state, through the outbox's blocking threads), and,
//! side by side in the same run, the same SQL on a bare connection to the same file.
//! Prints p50 and p99 of each.
//!
//! cargo run --release --locked --example caller-lookup [TASKS]

use std::sync::Arc;
use std::time::{Duration, Instant};

use pyrus_phone::domain::CallerTask;
use pyrus_phone::outbox::{IndexedTask, Outbox};
use pyrus_phone::platform::browser::SystemBrowser;
use pyrus_phone::service::{Engine, caller_index};
use pyrus_phone::settings::Settings;
use pyrus_phone::settings::credentials::MemoryStore;

const LOOKUPS: usize = 2_000;
const PAGE: usize = 500;

fn number(i: usize) -> String {
    format!("+7900{i:07}")
}

fn task(i: usize) -> IndexedTask {
    IndexedTask {
        task: CallerTask {
            task_id: 20_000_001 + i as u64,
            form_id: 1,
            subject: format!("Customer {i}: order {}", i * 7 % 1000),
            step: Some("New".to_owned()),
            closed: i % 5 == 4,
            responsible: Some("Ilya Laserson".to_owned()),
            modified: format!("2026-11-{:02}T10:00:00Z", 1 + i % 28),
        },
        numbers: vec![number(i)],
    }
}

fn percentile(times: &mut [Duration], p: f64) -> Duration {
    times.sort_unstable();
    let at = ((times.len() as f64 - 1.0) * p).round() as usize;
    times[at]
}

fn show(name: &str, times: &mut [Duration]) {
    let p50 = percentile(times, 0.5);
    let p99 = percentile(times, 0.99);
    println!(
        "{name:<44} p50 {:>7.3} ms   p99 {:>7.3} ms",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tasks: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("outbox.sqlite3");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let outbox = Outbox::open(&file)?;
    let filled = Instant::now();
    runtime.block_on(async {
        outbox.begin_caller_reading(1, None).await?;
        for start in (0..tasks).step_by(PAGE) {
            let page = (start..(start + PAGE).min(tasks)).map(task).collect();
            outbox.store_caller_page(1, page).await?;
        }
        outbox.finish_caller_reading(1).await
    })?;
    println!(
        "index of {tasks} tasks filled in {:.1} s",
        filled.elapsed().as_secs_f64()
    );

    let mut settings = Settings::default();
    settings.pyrus.form_id = Some(1);
    settings.defaults.country = Some("RU".to_owned());
    let engine = Engine::new(
        settings,
        outbox,
        Arc::new(MemoryStore::default()),
        None,
        Arc::new(SystemBrowser),
    );
    // The same callers for both sides, spread over the index.
    let callers: Vec<String> = (0..LOOKUPS).map(|k| number(k * 7919 % tasks)).collect();

    let mut card_times = Vec::with_capacity(LOOKUPS);
    runtime.block_on(async {
        for caller in callers.iter().take(100) {
            caller_index::card(&engine, caller).await?;
        }
        for caller in &callers {
            let started = Instant::now();
            let card = caller_index::card(&engine, caller).await?;
            card_times.push(started.elapsed());
            assert_eq!(card.open.len() + card.closed.len(), 1, "{caller}");
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;

    let bare = rusqlite::Connection::open(&file)?;
    let mut query = bare.prepare(
        "SELECT t.task_id, t.form_id, t.subject, t.step, t.closed, t.responsible, t.modified
         FROM caller_numbers n JOIN caller_tasks t ON t.task_id = n.task_id
         WHERE n.number = ?1 ORDER BY t.modified DESC, t.task_id DESC",
    )?;
    let mut bare_times = Vec::with_capacity(LOOKUPS);
    for caller in callers.iter().take(100) {
        query.query_map([caller], |r| r.get::<_, i64>(0))?.count();
    }
    for caller in &callers {
        let started = Instant::now();
        let found = query
            .query_map([caller], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })?
            .count();
        bare_times.push(started.elapsed());
        assert_eq!(found, 1, "{caller}");
    }
    println!("{LOOKUPS} lookups among {tasks} tasks:");
    show("the card (as `who` and the window ask)", &mut card_times);
    show("reference: the same SQL, bare connection", &mut bare_times);
    Ok(())
}
