//! The index of customers' numbers: each form's tasks as the register last gave them, the
//! numbers of their phone fields (normalised once, as calls are), and how far each form's
//! reading is — resumable page by page after a restart.

use rusqlite::{OptionalExtension as _, params};

use super::error::db_err;
use super::{Store, StoreError};
use crate::domain::CallerTask;

/// The most tasks a card lists.
pub const CARD_LIMIT: i64 = 50;

/// The subject of the newest open task of `forms` whose phones hold one of `numbers` (the
/// forms the index may keep the number in, tried in turn),
/// read from the outbox at `path` through a connection of its own that only reads — no
/// migration, no lock waited for (a call script waiting on this holds a ringing call). `None` when there is
/// no outbox, no index, or no such task.
pub fn peek_caller_subject(
    path: &std::path::Path,
    numbers: &[String],
    forms: &[u64],
) -> Result<Option<String>, StoreError> {
    use rusqlite::OpenFlags;
    let err = |source| StoreError::Sqlite {
        source,
        path: path.to_path_buf(),
    };
    if !path.is_file() {
        return Ok(None);
    }
    // Read and write, never create: a reader of a WAL database needs its shared memory
    // (nothing is written here, and no lock is waited for).
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    // An outbox from before the index: nobody is known.
    let Ok(mut stmt) = conn.prepare(
        "SELECT t.subject, t.form_id FROM caller_numbers n
         JOIN caller_tasks t ON t.task_id = n.task_id
         WHERE n.number = ?1 AND t.closed = 0
         ORDER BY t.modified DESC, t.task_id DESC",
    ) else {
        return Ok(None);
    };
    for number in numbers {
        let rows = stmt
            .query_map([number], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .map_err(err)?;
        for row in rows {
            let (subject, form) = row.map_err(err)?;
            if forms.contains(&(form as u64)) {
                return Ok(Some(subject));
            }
        }
    }
    Ok(None)
}

/// A task read from the register, with its numbers' keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedTask {
    /// The task as the card shows it.
    pub task: CallerTask,
    /// Its phone fields' numbers, normalised.
    pub numbers: Vec<String>,
}

/// How far one form's reading is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// The form has been read to the end at least once.
    pub walked: bool,
    /// A reading is under way: it goes on after `after_id`.
    pub in_progress: bool,
    /// The last task id stored by the reading under way.
    pub after_id: u64,
    /// The reading under way asks for tasks changed after this (none: every task).
    pub modified_after: Option<String>,
    /// The newest change seen so far (ISO 8601 UTC).
    pub high_water: Option<String>,
    /// When the form was last read to the end (Unix ms).
    pub as_of_ms: Option<i64>,
    /// The error code of the last reading that failed.
    pub problem: Option<String>,
    /// Pyrus refused the bot this form.
    pub denied: bool,
}

impl Store {
    /// How far `form_id`'s reading is (a default one when never read).
    pub fn caller_reading(&self, form_id: u64) -> Result<Reading, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT walked, in_progress, after_id, modified_after, high_water, as_of_ms,
                        problem, denied
                 FROM caller_forms WHERE form_id = ?1",
                [form_id as i64],
                |r| {
                    Ok(Reading {
                        walked: r.get(0)?,
                        in_progress: r.get(1)?,
                        after_id: r.get::<_, i64>(2)? as u64,
                        modified_after: r.get(3)?,
                        high_water: r.get(4)?,
                        as_of_ms: r.get(5)?,
                        problem: r.get(6)?,
                        denied: r.get(7)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.sql(e))?;
        Ok(row.unwrap_or_default())
    }

    /// Starts a reading of `form_id` (unless one is under way): every task when it was never
    /// read to the end, else those changed after `modified_after`.
    pub fn begin_caller_reading(
        &mut self,
        form_id: u64,
        modified_after: Option<&str>,
    ) -> Result<Reading, StoreError> {
        let tx = self.tx()?;
        tx.execute(
            "INSERT INTO caller_forms (form_id, in_progress, after_id, modified_after)
             VALUES (?1, 1, 0, ?2)
             ON CONFLICT(form_id) DO UPDATE SET
                in_progress = 1, after_id = 0, modified_after = ?2
             WHERE in_progress = 0",
            params![form_id as i64, modified_after],
        )
        .map_err(|e| db_err(&e))?;
        tx.commit().map_err(|e| db_err(&e))?;
        self.caller_reading(form_id)
    }

    /// Stores one page of `form_id`'s register in one transaction: its tasks (replacing
    /// what was kept of them, numbers too) and how far the reading is.
    pub fn store_caller_page(
        &mut self,
        form_id: u64,
        tasks: &[IndexedTask],
    ) -> Result<(), StoreError> {
        let tx = self.tx()?;
        let mut last_id = 0_u64;
        let mut newest: Option<&str> = None;
        {
            let mut task_row = tx
                .prepare_cached(
                    "INSERT INTO caller_tasks
                        (task_id, form_id, subject, step, closed, responsible, modified)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT(task_id) DO UPDATE SET form_id = ?2, subject = ?3, step = ?4,
                        closed = ?5, responsible = ?6, modified = ?7",
                )
                .map_err(|e| db_err(&e))?;
            let mut forget = tx
                .prepare_cached("DELETE FROM caller_numbers WHERE task_id = ?1")
                .map_err(|e| db_err(&e))?;
            let mut number_row = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO caller_numbers (number, task_id) VALUES (?1, ?2)",
                )
                .map_err(|e| db_err(&e))?;
            for IndexedTask { task, numbers } in tasks {
                let id = task.task_id as i64;
                task_row
                    .execute(params![
                        id,
                        form_id as i64,
                        task.subject,
                        task.step,
                        task.closed,
                        task.responsible,
                        task.modified
                    ])
                    .map_err(|e| db_err(&e))?;
                forget.execute([id]).map_err(|e| db_err(&e))?;
                for number in numbers {
                    number_row
                        .execute(params![number, id])
                        .map_err(|e| db_err(&e))?;
                }
                last_id = last_id.max(task.task_id);
                if newest.is_none_or(|n| task.modified.as_str() > n) {
                    newest = Some(&task.modified);
                }
            }
        }
        tx.execute(
            "UPDATE caller_forms SET after_id = MAX(after_id, ?2),
                high_water = CASE WHEN high_water IS NULL OR ?3 > high_water
                                  THEN ?3 ELSE high_water END
             WHERE form_id = ?1",
            params![form_id as i64, last_id as i64, newest],
        )
        .map_err(|e| db_err(&e))?;
        tx.commit().map_err(|e| db_err(&e))
    }

    /// The reading of `form_id` reached the end at `now_ms`: the index is fresh as of then.
    pub fn finish_caller_reading(&mut self, form_id: u64, now_ms: i64) -> Result<(), StoreError> {
        let tx = self.tx()?;
        tx.execute(
            "UPDATE caller_forms SET walked = 1, in_progress = 0, after_id = 0,
                modified_after = NULL, as_of_ms = ?2, problem = NULL, denied = 0
             WHERE form_id = ?1",
            params![form_id as i64, now_ms],
        )
        .map_err(|e| db_err(&e))?;
        tx.commit().map_err(|e| db_err(&e))
    }

    /// The reading of `form_id` failed with `code` (`denied`: the bot may not read it); what
    /// was read is kept, and the reading goes on from there next time.
    pub fn note_caller_problem(
        &mut self,
        form_id: u64,
        code: &str,
        denied: bool,
    ) -> Result<(), StoreError> {
        let tx = self.tx()?;
        tx.execute(
            "INSERT INTO caller_forms (form_id, problem, denied) VALUES (?1, ?2, ?3)
             ON CONFLICT(form_id) DO UPDATE SET problem = ?2, denied = ?3",
            params![form_id as i64, code, denied],
        )
        .map_err(|e| db_err(&e))?;
        tx.commit().map_err(|e| db_err(&e))
    }

    /// The tasks of `forms` whose phone fields hold `number` (normalised), newest change
    /// first, at most [`CARD_LIMIT`] of each kind (open, closed).
    pub fn find_caller(&self, number: &str, forms: &[u64]) -> Result<Vec<CallerTask>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT t.task_id, t.form_id, t.subject, t.step, t.closed, t.responsible,
                        t.modified
                 FROM caller_numbers n JOIN caller_tasks t ON t.task_id = n.task_id
                 WHERE n.number = ?1 AND t.closed = ?2
                 ORDER BY t.modified DESC, t.task_id DESC",
            )
            .map_err(|e| self.sql(e))?;
        let mut found = Vec::new();
        for closed in [false, true] {
            let rows = stmt
                .query_map(params![number, closed], |r| {
                    Ok(CallerTask {
                        task_id: r.get::<_, i64>(0)? as u64,
                        form_id: r.get::<_, i64>(1)? as u64,
                        subject: r.get(2)?,
                        step: r.get(3)?,
                        closed: r.get(4)?,
                        responsible: r.get(5)?,
                        modified: r.get(6)?,
                    })
                })
                .map_err(|e| self.sql(e))?;
            let mut kept = 0;
            for row in rows {
                let task = row.map_err(|e| self.sql(e))?;
                if forms.contains(&task.form_id) && kept < CARD_LIMIT {
                    kept += 1;
                    found.push(task);
                }
            }
        }
        Ok(found)
    }

    /// How many tasks of `form_id` the index holds.
    pub fn caller_task_count(&self, form_id: u64) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM caller_tasks WHERE form_id = ?1",
                [form_id as i64],
                |r| r.get(0),
            )
            .map_err(|e| self.sql(e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::store;
    use super::IndexedTask;
    use crate::domain::CallerTask;

    fn task(id: u64, subject: &str, closed: bool, modified: &str, numbers: &[&str]) -> IndexedTask {
        IndexedTask {
            task: CallerTask {
                task_id: id,
                form_id: 1,
                subject: subject.to_owned(),
                step: Some("New".to_owned()),
                closed,
                responsible: None,
                modified: modified.to_owned(),
            },
            numbers: numbers.iter().map(|n| (*n).to_owned()).collect(),
        }
    }

    #[test]
    fn a_reading_goes_on_from_its_last_page_and_a_caller_is_found_by_number() {
        let (_dir, mut s) = store();
        let first = s.begin_caller_reading(1, None).unwrap();
        assert!(first.in_progress && !first.walked && first.after_id == 0);
        s.store_caller_page(
            1,
            &[
                task(
                    10,
                    "Order 123",
                    false,
                    "2026-01-02T10:00:00Z",
                    &["+79161234567"],
                ),
                task(
                    11,
                    "Refund",
                    true,
                    "2026-01-03T10:00:00Z",
                    &["+79161234567"],
                ),
            ],
        )
        .unwrap();
        // A restart: the reading is not begun again, it goes on after task 11.
        let again = s.begin_caller_reading(1, None).unwrap();
        assert_eq!(again.after_id, 11);
        assert_eq!(again.high_water.as_deref(), Some("2026-01-03T10:00:00Z"));
        s.store_caller_page(
            1,
            &[task(
                12,
                "Router",
                false,
                "2026-01-04T10:00:00Z",
                &["+79167654321"],
            )],
        )
        .unwrap();
        s.finish_caller_reading(1, 5_000).unwrap();
        let done = s.caller_reading(1).unwrap();
        assert!(done.walked && !done.in_progress && done.as_of_ms == Some(5_000));

        let found = s.find_caller("+79161234567", &[1]).unwrap();
        let ids: Vec<(u64, bool)> = found.iter().map(|t| (t.task_id, t.closed)).collect();
        assert_eq!(ids, [(10, false), (11, true)]);
        assert!(
            s.find_caller("+79161234567", &[2]).unwrap().is_empty(),
            "another form"
        );

        // A task's number changes: it is found by its new number only.
        s.begin_caller_reading(1, Some("2026-01-04T09:59:00Z"))
            .unwrap();
        s.store_caller_page(
            1,
            &[task(
                10,
                "Order 123",
                false,
                "2026-01-05T10:00:00Z",
                &["+79990001122"],
            )],
        )
        .unwrap();
        assert_eq!(s.find_caller("+79161234567", &[1]).unwrap().len(), 1);
        assert_eq!(s.find_caller("+79990001122", &[1]).unwrap()[0].task_id, 10);
        assert_eq!(s.caller_task_count(1).unwrap(), 3);
    }
}
