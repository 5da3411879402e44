//! Back-checks (issue 15): draws, their tasks, and each task's result stored once.

use super::*;
use zhisu_server_storage::{
    BackcheckCandidate, BackcheckDraw, BackcheckResult, BackcheckStore, BackcheckTask,
};

const TASK_COLUMNS: &str =
    "t.id, t.draw_id, t.interview_id, t.round, t.district, t.original_surveyor,
     t.questionnaire_id, t.questionnaire_version, t.items, t.drawn_at, t.result, t.original";

type TaskRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
);

fn task_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TaskRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
    ))
}

fn task_from(row: TaskRow) -> Result<BackcheckTask, StorageError> {
    let (
        id,
        draw,
        interview,
        round,
        district,
        surveyor,
        qid,
        qversion,
        items,
        drawn,
        result,
        original,
    ) = row;
    Ok(BackcheckTask {
        id: parse_uuid(&id)?,
        draw_id: parse_uuid(&draw)?,
        interview_id: parse_uuid(&interview)?,
        round,
        district,
        original_surveyor: surveyor,
        questionnaire_id: qid,
        questionnaire_version: qversion,
        items: serde_json::from_str(&items).map_err(corrupt)?,
        original: serde_json::from_str(&original).map_err(corrupt)?,
        drawn_at: parse_time(&drawn)?,
        result: result
            .map(|r| serde_json::from_str::<BackcheckResult>(&r).map_err(corrupt))
            .transpose()?,
    })
}

impl BackcheckStore for SqliteStorage {
    fn backcheck_candidates(
        &self,
        round: &str,
        district: Option<&str>,
    ) -> Result<Vec<BackcheckCandidate>, StorageError> {
        let conn = self.read_connection()?;
        let mut stmt = conn
            .prepare(
                "SELECT i.id, i.district, i.surveyor_id, i.completed_at, i.payload FROM interview i
                 JOIN device d ON d.id = i.device_id
                 WHERE d.round = ?1 AND (?2 IS NULL OR i.district = ?2)
                   AND i.qc_status != 'rejected'
                   AND EXISTS (SELECT 1 FROM recontact r WHERE r.interview_id = i.id)
                   AND NOT EXISTS (SELECT 1 FROM backcheck_task t WHERE t.interview_id = i.id)
                 ORDER BY i.id",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![round, district], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (id, district, surveyor_id, completed, payload) = row.map_err(db)?;
            let interview: zhisu_protocol::CompletedInterview =
                serde_json::from_str(&payload).map_err(corrupt)?;
            Ok(BackcheckCandidate {
                interview_id: parse_uuid(&id)?,
                district,
                surveyor_id,
                completed_at: parse_time(&completed)?,
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
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        tx.execute(
            "INSERT INTO backcheck_draw (id, round, district, seed, drawn_at, drawn_by, candidates, drawn)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                draw.id.to_string(),
                draw.round,
                draw.district,
                draw.seed.to_string(),
                timestamp(draw.drawn_at),
                draw.drawn_by,
                draw.candidates as i64,
                draw.drawn as i64,
            ],
        )
        .map_err(db)?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO backcheck_task (id, draw_id, interview_id, round, district, population,
                         original_surveyor, questionnaire_id, questionnaire_version, items, drawn_at, original)
                     SELECT ?1, ?2, ?3, ?4, ?5, i.population, ?6, ?7, ?8, ?9, ?10, ?11
                     FROM interview i WHERE i.id = ?3
                     ON CONFLICT (interview_id) DO NOTHING",
                )
                .map_err(db)?;
            for t in tasks {
                let inserted = insert
                    .execute(params![
                        t.id.to_string(),
                        t.draw_id.to_string(),
                        t.interview_id.to_string(),
                        t.round,
                        t.district,
                        t.original_surveyor,
                        t.questionnaire_id,
                        t.questionnaire_version,
                        serde_json::to_string(&t.items).map_err(corrupt)?,
                        timestamp(t.drawn_at),
                        serde_json::to_string(&t.original).map_err(corrupt)?,
                    ])
                    .map_err(db)?;
                if inserted != 1 {
                    return Ok(false); // dropping the transaction rolls it back
                }
            }
        }
        insert_audit(&tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(true)
    }

    fn backcheck_draws(&self, round: &str) -> Result<Vec<BackcheckDraw>, StorageError> {
        let conn = self.read_connection()?;
        let mut stmt = conn
            .prepare(
                "SELECT id, round, district, seed, drawn_at, drawn_by, candidates, drawn
                 FROM backcheck_draw WHERE round = ?1 ORDER BY drawn_at, id",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([round], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (id, round, district, seed, at, by, candidates, drawn) = row.map_err(db)?;
            Ok(BackcheckDraw {
                id: parse_uuid(&id)?,
                round,
                district,
                seed: seed.parse().map_err(corrupt)?,
                drawn_at: parse_time(&at)?,
                drawn_by: by,
                candidates: candidates.max(0) as u64,
                drawn: drawn.max(0) as u64,
            })
        })
        .collect()
    }

    fn backcheck_tasks(&self, scope: &Scope) -> Result<Vec<BackcheckTask>, StorageError> {
        let (condition, value) = scope_condition(scope, "t.")?;
        let conn = self.read_connection()?;
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {TASK_COLUMNS} FROM backcheck_task t WHERE {condition}
                 ORDER BY t.drawn_at, t.id"
            ))
            .map_err(db)?;
        let rows = stmt
            .query_map(rusqlite::named_params! { ":scope": value }, task_row)
            .map_err(db)?;
        rows.map(|r| task_from(r.map_err(db)?)).collect()
    }

    fn backcheck_task(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<Option<BackcheckTask>, StorageError> {
        let (condition, value) = scope_condition(scope, "t.")?;
        let conn = self.read_connection()?;
        let row = conn
            .query_row(
                &format!(
                    "SELECT {TASK_COLUMNS} FROM backcheck_task t WHERE t.id = :id AND {condition}"
                ),
                rusqlite::named_params! { ":scope": value, ":id": id.to_string() },
                task_row,
            )
            .optional()
            .map_err(db)?;
        row.map(task_from).transpose()
    }

    fn record_backcheck_result(
        &self,
        scope: &Scope,
        task: Uuid,
        result: &BackcheckResult,
        audit: &AuditEntry,
    ) -> Result<Option<ReceiptStatus>, StorageError> {
        let (condition, value) = scope_condition(scope, "t.")?;
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let stored: Option<Option<String>> = tx
            .query_row(
                &format!(
                    "SELECT t.content_hash FROM backcheck_task t WHERE t.id = :id AND {condition}"
                ),
                rusqlite::named_params! { ":scope": value, ":id": task.to_string() },
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        let status = match stored {
            None => return Ok(None),
            Some(Some(hash)) if hash == result.content_hash => ReceiptStatus::AlreadyStored,
            Some(Some(_)) => ReceiptStatus::Conflict,
            Some(None) => {
                tx.execute(
                    "UPDATE backcheck_task SET content_hash = ?2, result = ?3
                     WHERE id = ?1 AND content_hash IS NULL",
                    params![
                        task.to_string(),
                        result.content_hash,
                        serde_json::to_string(result).map_err(corrupt)?,
                    ],
                )
                .map_err(db)?;
                insert_audit(&tx, audit)?;
                ReceiptStatus::Stored
            }
        };
        tx.commit().map_err(db)?;
        Ok(Some(status))
    }
}
