//! Back-checks (issue 15): draws, their tasks, and each task's result stored once.

use super::*;
use zhisu_server_storage::{
    BackcheckCandidate, BackcheckDraw, BackcheckResult, BackcheckStore, BackcheckTask,
};

const TASK_COLUMNS: &str = "t.id, t.draw_id, t.interview_id, t.round, t.district, t.original_surveyor,
     t.questionnaire_id, t.questionnaire_version, t.items::text, t.drawn_at, t.result::text, t.original::text";

fn task_from(r: &postgres::Row) -> Result<BackcheckTask, StorageError> {
    Ok(BackcheckTask {
        id: r.get(0),
        draw_id: r.get(1),
        interview_id: r.get(2),
        round: r.get(3),
        district: r.get(4),
        original_surveyor: r.get(5),
        questionnaire_id: r.get(6),
        questionnaire_version: r.get(7),
        items: serde_json::from_str(r.get::<_, &str>(8)).map_err(corrupt)?,
        original: serde_json::from_str(r.get::<_, &str>(11)).map_err(corrupt)?,
        drawn_at: r.get(9),
        result: r
            .get::<_, Option<&str>>(10)
            .map(|j| serde_json::from_str::<BackcheckResult>(j).map_err(corrupt))
            .transpose()?,
    })
}

impl BackcheckStore for PostgresStorage {
    fn backcheck_candidates(
        &self,
        round: &str,
        district: Option<&str>,
    ) -> Result<Vec<BackcheckCandidate>, StorageError> {
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                "SELECT i.id, i.district, i.surveyor_id, i.completed_at, i.payload::text FROM interview i
                 JOIN device d ON d.id = i.device_id
                 WHERE d.round = $1 AND ($2::text IS NULL OR i.district = $2)
                   AND i.qc_status <> 'rejected'
                   AND EXISTS (SELECT 1 FROM recontact r WHERE r.interview_id = i.id)
                   AND NOT EXISTS (SELECT 1 FROM backcheck_task t WHERE t.interview_id = i.id)
                 ORDER BY i.id",
                &[&round, &district],
            )
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                let interview: zhisu_protocol::CompletedInterview =
                    serde_json::from_str(r.get::<_, &str>(4)).map_err(corrupt)?;
                Ok(BackcheckCandidate {
                    interview_id: r.get(0),
                    district: r.get(1),
                    surveyor_id: r.get(2),
                    completed_at: r.get(3),
                    questionnaire_id: interview.questionnaire_id,
                    questionnaire_version: interview.questionnaire_version,
                    answers: interview.answers,
                })
            })
            .collect()
    }

    fn store_backcheck_draw(
        &self,
        draw: &BackcheckDraw,
        tasks: &[BackcheckTask],
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        tx.execute(
            "INSERT INTO backcheck_draw (id, round, district, seed, drawn_at, drawn_by, candidates, drawn)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &draw.id,
                &draw.round,
                &draw.district,
                &draw.seed.to_string(),
                &draw.drawn_at,
                &draw.drawn_by,
                &(draw.candidates as i64),
                &(draw.drawn as i64),
            ],
        )
        .map_err(db)?;
        let insert = tx
            .prepare(
                "INSERT INTO backcheck_task (id, draw_id, interview_id, round, district, population,
                     original_surveyor, questionnaire_id, questionnaire_version, items, drawn_at, original)
                 SELECT $1, $2, $3, $4, $5, i.population, $6, $7, $8, $9::text::jsonb, $10, $11::text::jsonb
                 FROM interview i WHERE i.id = $3
                 ON CONFLICT (interview_id) DO NOTHING",
            )
            .map_err(db)?;
        for t in tasks {
            let items = serde_json::to_string(&t.items).map_err(corrupt)?;
            let original = serde_json::to_string(&t.original).map_err(corrupt)?;
            let inserted = tx
                .execute(
                    &insert,
                    &[
                        &t.id,
                        &t.draw_id,
                        &t.interview_id,
                        &t.round,
                        &t.district,
                        &t.original_surveyor,
                        &t.questionnaire_id,
                        &t.questionnaire_version,
                        &items,
                        &t.drawn_at,
                        &original,
                    ],
                )
                .map_err(db)?;
            if inserted != 1 {
                return Ok(false); // dropping the transaction rolls it back
            }
        }
        insert_audit(&mut tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(true)
    }

    fn backcheck_draws(&self, round: &str) -> Result<Vec<BackcheckDraw>, StorageError> {
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                "SELECT id, round, district, seed, drawn_at, drawn_by, candidates, drawn
                 FROM backcheck_draw WHERE round = $1 ORDER BY drawn_at, id",
                &[&round],
            )
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(BackcheckDraw {
                    id: r.get(0),
                    round: r.get(1),
                    district: r.get(2),
                    seed: r.get::<_, &str>(3).parse().map_err(corrupt)?,
                    drawn_at: r.get(4),
                    drawn_by: r.get(5),
                    candidates: r.get::<_, i64>(6).max(0) as u64,
                    drawn: r.get::<_, i64>(7).max(0) as u64,
                })
            })
            .collect()
    }

    fn backcheck_tasks(&self, scope: &Scope) -> Result<Vec<BackcheckTask>, StorageError> {
        let (condition, value) = scope_condition(scope, "t.", 1);
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                &format!(
                    "SELECT {TASK_COLUMNS} FROM backcheck_task t WHERE {condition}
                     ORDER BY t.drawn_at, t.id"
                ),
                &value.params(),
            )
            .map_err(db)?;
        rows.iter().map(task_from).collect()
    }

    fn backcheck_task(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<Option<BackcheckTask>, StorageError> {
        let (condition, value) = scope_condition(scope, "t.", 2);
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&id];
        params.extend(value.params());
        let row = self
            .pool
            .get()
            .map_err(unavailable)?
            .query_opt(
                &format!(
                    "SELECT {TASK_COLUMNS} FROM backcheck_task t WHERE t.id = $1 AND {condition}"
                ),
                &params,
            )
            .map_err(db)?;
        row.as_ref().map(task_from).transpose()
    }

    fn record_backcheck_result(
        &self,
        scope: &Scope,
        task: Uuid,
        result: &BackcheckResult,
        audit: &AuditEntry,
    ) -> Result<Option<ReceiptStatus>, StorageError> {
        let (condition, value) = scope_condition(scope, "t.", 2);
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&task];
        params.extend(value.params());
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        let row = tx
            .query_opt(
                &format!(
                    "SELECT t.content_hash FROM backcheck_task t WHERE t.id = $1 AND {condition}
                     FOR UPDATE"
                ),
                &params,
            )
            .map_err(db)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let status = match row.get::<_, Option<String>>(0) {
            Some(hash) if hash == result.content_hash => ReceiptStatus::AlreadyStored,
            Some(_) => ReceiptStatus::Conflict,
            None => {
                let json = serde_json::to_string(result).map_err(corrupt)?;
                tx.execute(
                    "UPDATE backcheck_task SET content_hash = $2, result = $3::text::jsonb
                     WHERE id = $1 AND content_hash IS NULL",
                    &[&task, &result.content_hash, &json],
                )
                .map_err(db)?;
                insert_audit(&mut tx, audit)?;
                ReceiptStatus::Stored
            }
        };
        tx.commit().map_err(db)?;
        Ok(Some(status))
    }
}
