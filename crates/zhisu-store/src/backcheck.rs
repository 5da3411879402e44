//! Back-checks (复核, issue 15) on the tablet: the district's open back-checks as the
//! assignment delivered them, shown to every surveyor but the interview's own, and the results
//! done here, queued for the server in a queue of their own.
//!
//! ```text
//! keep_backcheck ──► waiting ──receipt (stored, already_stored)──► acknowledged
//!                       │
//!                       └──receipt (conflict, rejected)──► rejected (code and message kept)
//! ```
//!
//! The tasks are replaced whole by each assignment: a task done elsewhere (another tablet, by
//! phone) leaves the tablet with the respondent's contact, and so does a result acknowledged
//! once its task is no longer delivered.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use uuid::Uuid;
use zhisu_core::{Answers, Questionnaire};
use zhisu_protocol::backcheck::{BackcheckAssignment, BackcheckOutcome};
use zhisu_protocol::Receipt;

use crate::{from_json, to_json, DeviceStore, StoreError};

impl DeviceStore {
    /// Keeps the open back-checks the assignment delivered, replacing those kept before; a
    /// result no longer waiting whose task is gone is forgotten with it.
    pub fn save_backchecks(&mut self, tasks: &[BackcheckAssignment]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM backcheck_task", [])?;
        for task in tasks {
            tx.execute(
                "INSERT OR REPLACE INTO backcheck_task (id, task) VALUES (?1, ?2)",
                params![task.id.to_string(), to_json(task)],
            )?;
        }
        tx.execute(
            "DELETE FROM backcheck_result WHERE state != 'waiting'
                 AND task_id NOT IN (SELECT id FROM backcheck_task)",
            [],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The back-checks `surveyor` may do here: every open one of another surveyor's interview
    /// not yet done on this tablet.
    pub fn backchecks_for(&self, surveyor: &str) -> Result<Vec<BackcheckAssignment>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT task FROM backcheck_task
             WHERE id NOT IN (SELECT task_id FROM backcheck_result) ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            let task: BackcheckAssignment = from_json(&row?)?;
            if task.original_surveyor.as_deref() != Some(surveyor) {
                out.push(task);
            }
        }
        Ok(out)
    }

    /// One back-check kept here, by id.
    pub fn backcheck_task(&self, id: Uuid) -> Result<Option<BackcheckAssignment>, StoreError> {
        let task: Option<String> = self
            .conn
            .query_row(
                "SELECT task FROM backcheck_task WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        task.map(|t| from_json(&t)).transpose()
    }

    /// Keeps a back-check done by `surveyor` and queues it for the server, in one transaction:
    /// only for a task kept here, never by the interview's own surveyor, answers only to its
    /// items, each fitting its item in `questionnaire` (the task's version); none when the
    /// respondent was not reached. Keeping the same result again changes nothing; other
    /// answers for a task already kept are refused ([`StoreError::BackcheckChanged`]).
    pub fn keep_backcheck(
        &mut self,
        questionnaire: &Questionnaire,
        task_id: Uuid,
        surveyor: &str,
        reached: bool,
        answers: &Answers,
        now: DateTime<Utc>,
    ) -> Result<BackcheckOutcome, StoreError> {
        let task: Option<String> = self
            .conn
            .query_row(
                "SELECT task FROM backcheck_task WHERE id = ?1",
                [task_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        let Some(task) = task else {
            return Err(StoreError::UnknownBackcheck(task_id));
        };
        let task: BackcheckAssignment = from_json(&task)?;
        if surveyor.trim().is_empty() {
            return Err(StoreError::SurveyorNeeded);
        }
        if task.original_surveyor.as_deref() == Some(surveyor) {
            return Err(StoreError::OwnBackcheck);
        }
        let answers = if reached {
            answers.clone()
        } else {
            Answers::new()
        };
        for (item_id, value) in &answers {
            if !task.items.contains(item_id) {
                return Err(StoreError::UnknownItem(item_id.clone()));
            }
            let item = questionnaire
                .item(item_id)
                .ok_or_else(|| StoreError::UnknownItem(item_id.clone()))?;
            item.check(value)
                .map_err(|error| StoreError::InvalidAnswer {
                    item_id: item_id.clone(),
                    error,
                })?;
        }
        let outcome = BackcheckOutcome {
            task_id,
            surveyor_id: surveyor.to_string(),
            reached,
            answers,
            completed_at: now,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let kept: Option<String> = tx
            .query_row(
                "SELECT payload FROM backcheck_result WHERE task_id = ?1",
                [task_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(kept) = kept {
            let kept: BackcheckOutcome = from_json(&kept)?;
            let same = kept.surveyor_id == outcome.surveyor_id
                && kept.reached == outcome.reached
                && kept.answers == outcome.answers;
            return if same {
                Ok(kept)
            } else {
                Err(StoreError::BackcheckChanged(task_id))
            };
        }
        tx.execute(
            "INSERT INTO backcheck_result (task_id, state, payload) VALUES (?1, 'waiting', ?2)",
            params![task_id.to_string(), to_json(&outcome)],
        )?;
        tx.commit()?;
        Ok(outcome)
    }

    /// Up to `limit` back-check results waiting for the server, exactly as kept.
    pub fn waiting_backchecks(&self, limit: usize) -> Result<Vec<BackcheckOutcome>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT payload FROM backcheck_result WHERE state = 'waiting' ORDER BY task_id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| r.get::<_, String>(0))?;
        rows.map(|row| from_json(&row?)).collect()
    }

    /// Applies the server's receipts for back-checks (`interview_id` is the task's id) in one
    /// transaction, as for quiz sessions; returns how many left the queue.
    pub fn finish_backcheck_upload(
        &mut self,
        receipts: &[Receipt],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        crate::outreach::apply_receipts(
            &mut self.conn,
            "backcheck_result",
            "task_id",
            receipts,
            now,
        )
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use zhisu_core::AnswerValue;
    use zhisu_protocol::ReceiptStatus;

    use super::*;

    fn task(n: u128, surveyor: &str) -> BackcheckAssignment {
        BackcheckAssignment {
            id: Uuid::from_u128(n),
            questionnaire_id: "ohl_pilot".into(),
            questionnaire_version: "2026.1".into(),
            items: vec!["age".into()],
            original_surveyor: Some(surveyor.into()),
            contact: format!("1380000{n:04}"),
        }
    }

    #[test]
    fn a_backcheck_is_kept_once_by_another_surveyor_and_leaves_with_its_receipt() {
        let mut store = DeviceStore::open_plain(std::path::Path::new(":memory:")).unwrap();
        let q = zhisu_core::Questionnaire::from_toml(
            "pilot.toml",
            include_str!("../../../questionnaires/pilot.toml"),
        )
        .unwrap();
        store
            .save_backchecks(&[task(1, "S01"), task(2, "S02")])
            .unwrap();
        let ids =
            |v: Vec<BackcheckAssignment>| v.iter().map(|t| t.id.as_u128()).collect::<Vec<_>>();
        assert_eq!(ids(store.backchecks_for("S01").unwrap()), vec![2]);
        assert_eq!(ids(store.backchecks_for("S03").unwrap()), vec![1, 2]);
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 6, 0, 0).unwrap();
        let mut answers = Answers::new();
        answers.insert("age".into(), AnswerValue::Integer(35));
        assert!(matches!(
            store.keep_backcheck(&q, Uuid::from_u128(1), "S01", true, &answers, now),
            Err(StoreError::OwnBackcheck)
        ));
        let mut wrong = answers.clone();
        wrong.insert("sex".into(), AnswerValue::Choice("female".into()));
        assert!(matches!(
            store.keep_backcheck(&q, Uuid::from_u128(1), "S02", true, &wrong, now),
            Err(StoreError::UnknownItem(_))
        ));
        assert!(matches!(
            store.keep_backcheck(&q, Uuid::from_u128(9), "S02", true, &answers, now),
            Err(StoreError::UnknownBackcheck(_))
        ));
        let kept = store
            .keep_backcheck(&q, Uuid::from_u128(1), "S02", true, &answers, now)
            .unwrap();
        assert_eq!(
            store
                .keep_backcheck(&q, Uuid::from_u128(1), "S02", true, &answers, now)
                .unwrap(),
            kept,
            "the same again changes nothing"
        );
        assert!(matches!(
            store.keep_backcheck(&q, Uuid::from_u128(1), "S02", false, &answers, now),
            Err(StoreError::BackcheckChanged(_))
        ));
        assert_eq!(
            ids(store.backchecks_for("S03").unwrap()),
            vec![2],
            "done here"
        );
        assert_eq!(store.waiting_backchecks(10).unwrap(), vec![kept.clone()]);
        // the next assignment still lists the task: the waiting result stays
        store.save_backchecks(&[task(1, "S01")]).unwrap();
        assert_eq!(store.waiting_backchecks(10).unwrap().len(), 1);
        let receipt = Receipt {
            interview_id: Uuid::from_u128(1),
            status: ReceiptStatus::Stored,
            code: None,
            message: None,
        };
        assert_eq!(
            store
                .finish_backcheck_upload(std::slice::from_ref(&receipt), now)
                .unwrap(),
            1
        );
        assert_eq!(store.finish_backcheck_upload(&[receipt], now).unwrap(), 0);
        assert!(store.waiting_backchecks(10).unwrap().is_empty());
        // done on the server: the task and its contact leave the tablet
        store.save_backchecks(&[]).unwrap();
        let left: i64 = store
            .conn
            .query_row(
                "SELECT (SELECT count(*) FROM backcheck_task) + (SELECT count(*) FROM backcheck_result)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
    }
}
