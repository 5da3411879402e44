//! Practice interviews (issue 24): their own table, stored once by id and content hash.

use super::*;
use zhisu_server_storage::{AcceptedPractice, PracticeInterview, PracticeStore, SurveyorStart};

impl PracticeStore for SqliteStorage {
    fn ingest_practice(
        &self,
        accepted: &[AcceptedPractice],
        device: Option<&Device>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Receipt>, StorageError> {
        if accepted.is_empty() {
            return Ok(Vec::new());
        }
        let received = timestamp(now);
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let mut receipts = Vec::with_capacity(accepted.len());
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO practice_interview (id, questionnaire_id, questionnaire_version, content_hash,
                         device_id, district, site_id, surveyor_id, population, started_at, completed_at,
                         received_at, duration_s, score, max_score, qc_flags)
                     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16
                     WHERE NOT EXISTS (SELECT 1 FROM interview WHERE id = ?1)
                       AND NOT EXISTS (SELECT 1 FROM contact WHERE id = ?1)
                     ON CONFLICT (id) DO NOTHING",
                )
                .map_err(db)?;
            let mut existing = tx
                .prepare_cached("SELECT content_hash FROM practice_interview WHERE id = ?1")
                .map_err(db)?;
            for a in accepted {
                let i = &a.interview;
                let id = i.id.to_string();
                let inserted = insert
                    .execute(params![
                        id,
                        i.questionnaire_id,
                        i.questionnaire_version,
                        i.content_hash,
                        device.map(|d| d.id.to_string()),
                        device.map(|d| d.district.as_str()),
                        i.site_id,
                        i.surveyor_id,
                        a.population,
                        timestamp(i.started_at),
                        timestamp(i.completed_at),
                        received,
                        a.duration_s(),
                        i64::from(a.score.score),
                        i64::from(a.score.max),
                        serde_json::to_string(&a.flags).map_err(corrupt)?,
                    ])
                    .map_err(db)?;
                let status =
                    crate::offered_row_status(inserted, &mut existing, &id, &i.content_hash)?;
                receipts.push(receipt(i.id, status));
            }
        }
        tx.commit().map_err(db)?;
        Ok(receipts)
    }

    fn practice_interviews(&self, scope: &Scope) -> Result<Vec<PracticeInterview>, StorageError> {
        let (condition, value) = scope_condition(scope, "")?;
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = conn
            .prepare(&format!(
                "SELECT id, questionnaire_id, questionnaire_version, device_id, district, site_id,
                        surveyor_id, population, started_at, completed_at, received_at, duration_s,
                        score, max_score, qc_flags
                 FROM practice_interview WHERE {condition}
                 ORDER BY district, surveyor_id, completed_at, id"
            ))
            .map_err(db)?;
        let rows = stmt
            .query_map(rusqlite::named_params! { ":scope": value }, |r| {
                Ok((
                    (
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ),
                    (
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, Option<String>>(7)?,
                        r.get::<_, String>(8)?,
                        r.get::<_, String>(9)?,
                    ),
                    (
                        r.get::<_, String>(10)?,
                        r.get::<_, i64>(11)?,
                        r.get::<_, i64>(12)?,
                        r.get::<_, i64>(13)?,
                        r.get::<_, String>(14)?,
                    ),
                ))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (
                (id, questionnaire_id, questionnaire_version, device_id, district),
                (site_id, surveyor_id, population, started, completed),
                (received, duration_s, score, max_score, flags),
            ) = row.map_err(db)?;
            Ok(PracticeInterview {
                id: Uuid::parse_str(&id).map_err(corrupt)?,
                questionnaire_id,
                questionnaire_version,
                device_id: device_id
                    .as_deref()
                    .map(Uuid::parse_str)
                    .transpose()
                    .map_err(corrupt)?,
                district,
                site_id,
                surveyor_id,
                population,
                started_at: parse_time(&started)?,
                completed_at: parse_time(&completed)?,
                received_at: parse_time(&received)?,
                duration_s,
                score,
                max_score,
                flags: serde_json::from_str(&flags).map_err(corrupt)?,
            })
        })
        .collect()
    }

    fn practice_ids(&self, ids: &[Uuid]) -> Result<Vec<Uuid>, StorageError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = serde_json::to_string(&ids.iter().map(Uuid::to_string).collect::<Vec<_>>())
            .map_err(corrupt)?;
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = conn
            .prepare_cached(
                "SELECT id FROM practice_interview WHERE id IN (SELECT value FROM json_each(?1))",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([list], |r| r.get::<_, String>(0))
            .map_err(db)?;
        rows.map(|id| Uuid::parse_str(&id.map_err(db)?).map_err(corrupt))
            .collect()
    }

    fn surveyor_starts(&self, scope: &Scope) -> Result<Vec<SurveyorStart>, StorageError> {
        let (condition, value) = scope_condition(scope, "")?;
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = conn
            .prepare(&format!(
                "SELECT district, surveyor_id, count(*), min(completed_at) FROM interview
                 WHERE {condition}
                 GROUP BY district, surveyor_id ORDER BY district, surveyor_id"
            ))
            .map_err(db)?;
        let rows = stmt
            .query_map(rusqlite::named_params! { ":scope": value }, |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (district, surveyor_id, n, first) = row.map_err(db)?;
            Ok(SurveyorStart {
                district,
                surveyor_id,
                interviews: n as u64,
                first_completed_at: parse_time(&first)?,
            })
        })
        .collect()
    }
}
