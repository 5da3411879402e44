//! Practice interviews (issue 24): their own table, stored once by id and content hash.

use super::*;
use zhisu_server_storage::{AcceptedPractice, PracticeInterview, PracticeStore, SurveyorStart};

/// Rows of `select` (with `{condition}` where the scope's `WHERE` goes), within `scope`.
fn scoped(
    client: &mut Client,
    scope: &Scope,
    select: impl Fn(&str) -> String,
) -> Result<Vec<postgres::Row>, StorageError> {
    match scope {
        Scope::All => client.query(&select(""), &[]),
        Scope::District(d) => client.query(&select("WHERE district = $1"), &[d]),
        Scope::Populations(p) => client.query(&select("WHERE population = ANY($1)"), &[p]),
    }
    .map_err(db)
}

impl PracticeStore for PostgresStorage {
    fn ingest_practice(
        &self,
        accepted: &[AcceptedPractice],
        device: Option<&Device>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Receipt>, StorageError> {
        if accepted.is_empty() {
            return Ok(Vec::new());
        }
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        let insert = tx
            .prepare(
                "INSERT INTO practice_interview (id, questionnaire_id, questionnaire_version, content_hash,
                     device_id, district, site_id, surveyor_id, population, started_at, completed_at,
                     received_at, duration_s, score, max_score, qc_flags)
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::text::jsonb
                 WHERE NOT EXISTS (SELECT 1 FROM interview WHERE id = $1)
                   AND NOT EXISTS (SELECT 1 FROM contact WHERE id = $1)
                 ON CONFLICT (id) DO NOTHING",
            )
            .map_err(db)?;
        let mut receipts = Vec::with_capacity(accepted.len());
        for a in accepted {
            let i = &a.interview;
            let flags = serde_json::to_string(&a.flags).map_err(corrupt)?;
            let inserted = tx
                .execute(
                    &insert,
                    &[
                        &i.id,
                        &i.questionnaire_id,
                        &i.questionnaire_version,
                        &i.content_hash,
                        &device.map(|d| d.id),
                        &device.map(|d| d.district.as_str()),
                        &i.site_id,
                        &i.surveyor_id,
                        &a.population,
                        &i.started_at,
                        &i.completed_at,
                        &now,
                        &a.duration_s(),
                        &i64::from(a.score.score),
                        &i64::from(a.score.max),
                        &flags,
                    ],
                )
                .map_err(db)?;
            let status = crate::offered_row_status(
                &mut tx,
                inserted,
                "practice_interview",
                &i.id,
                &i.content_hash,
            )?;
            receipts.push(receipt(i.id, status));
        }
        tx.commit().map_err(db)?;
        Ok(receipts)
    }

    fn practice_interviews(&self, scope: &Scope) -> Result<Vec<PracticeInterview>, StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let rows = scoped(&mut client, scope, |condition| {
            format!(
                "SELECT id, questionnaire_id, questionnaire_version, device_id, district, site_id,
                        surveyor_id, population, started_at, completed_at, received_at, duration_s,
                        score, max_score, qc_flags::text
                 FROM practice_interview {condition}
                 ORDER BY district NULLS FIRST, surveyor_id NULLS FIRST, completed_at, id"
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(PracticeInterview {
                    id: r.get(0),
                    questionnaire_id: r.get(1),
                    questionnaire_version: r.get(2),
                    device_id: r.get(3),
                    district: r.get(4),
                    site_id: r.get(5),
                    surveyor_id: r.get(6),
                    population: r.get(7),
                    started_at: r.get(8),
                    completed_at: r.get(9),
                    received_at: r.get(10),
                    duration_s: r.get(11),
                    score: r.get(12),
                    max_score: r.get(13),
                    flags: serde_json::from_str(r.get::<_, &str>(14)).map_err(corrupt)?,
                })
            })
            .collect()
    }

    fn practice_ids(&self, ids: &[Uuid]) -> Result<Vec<Uuid>, StorageError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                "SELECT id FROM practice_interview WHERE id = ANY($1)",
                &[&ids],
            )
            .map_err(db)?;
        Ok(rows.iter().map(|r| r.get::<_, Uuid>(0)).collect())
    }

    fn surveyor_starts(&self, scope: &Scope) -> Result<Vec<SurveyorStart>, StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let rows = scoped(&mut client, scope, |condition| {
            format!(
                "SELECT district, surveyor_id, count(*), min(completed_at) FROM interview
                 {condition}
                 GROUP BY district, surveyor_id
                 ORDER BY district NULLS FIRST, surveyor_id NULLS FIRST"
            )
        })?;
        Ok(rows
            .iter()
            .map(|r| SurveyorStart {
                district: r.get(0),
                surveyor_id: r.get(1),
                interviews: r.get::<_, i64>(2) as u64,
                first_completed_at: r.get(3),
            })
            .collect())
    }
}
