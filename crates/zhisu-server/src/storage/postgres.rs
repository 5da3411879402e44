//! PostgreSQL backend: a small connection pool (r2d2) of synchronous clients.

use chrono::{DateTime, Utc};
use postgres::{Client, NoTls};
use r2d2_postgres::PostgresConnectionManager;
use uuid::Uuid;
use zhisu_protocol::{Receipt, ReceiptStatus};

use super::{corrupt, Accepted, Storage, StorageError};
use crate::api::StoredInterview;

/// Append-only: migration `i` takes the version in `zhisu_schema` from `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE interview (
        id                    UUID PRIMARY KEY,
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        content_hash          TEXT NOT NULL,
        started_at            TIMESTAMPTZ NOT NULL,
        completed_at          TIMESTAMPTZ NOT NULL,
        utc_offset_minutes    INTEGER NOT NULL,
        received_at           TIMESTAMPTZ NOT NULL,
        payload               JSONB NOT NULL,
        score                 INTEGER NOT NULL,
        max_score             INTEGER NOT NULL,
        has_literacy          BOOLEAN NOT NULL,
        score_report          JSONB NOT NULL
    );
    CREATE INDEX interview_questionnaire ON interview (questionnaire_id, questionnaire_version);
    CREATE INDEX interview_received ON interview (received_at, id);
    "#];

pub struct PostgresStorage {
    pool: r2d2::Pool<PostgresConnectionManager<NoTls>>,
}

impl PostgresStorage {
    /// Connects to `url` (`postgres://user@host:port/db`) and brings the schema up to date.
    /// Concurrent starts are safe: migrations run under an advisory lock.
    pub fn open(url: &str, pool_size: u32) -> Result<Self, StorageError> {
        let config: postgres::Config = url.parse()?;
        let manager = PostgresConnectionManager::new(config, NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(manager)?;
        Self::migrate(&mut *pool.get()?)?;
        Ok(PostgresStorage { pool })
    }

    fn migrate(client: &mut Client) -> Result<(), StorageError> {
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock(8470)", &[])?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS zhisu_schema (version INTEGER NOT NULL);
             INSERT INTO zhisu_schema (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM zhisu_schema);",
        )?;
        let found: i32 = tx.query_one("SELECT version FROM zhisu_schema", &[])?.get(0);
        let found = found as usize;
        if found > MIGRATIONS.len() {
            return Err(StorageError::NewerSchema {
                found,
                supported: MIGRATIONS.len(),
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(found) {
            tx.batch_execute(sql)?;
            tx.execute("UPDATE zhisu_schema SET version = $1", &[&((index + 1) as i32)])?;
        }
        tx.commit()?;
        Ok(())
    }
}

const SELECT_STORED: &str = "SELECT payload, received_at, score_report FROM interview";

impl Storage for PostgresStorage {
    fn backend(&self) -> &'static str {
        "postgresql"
    }

    fn schema_version(&self) -> Result<usize, StorageError> {
        let version: i32 = self
            .pool
            .get()?
            .query_one("SELECT version FROM zhisu_schema", &[])?
            .get(0);
        Ok(version as usize)
    }

    fn ingest(&self, accepted: &[Accepted], now: DateTime<Utc>) -> Result<Vec<Receipt>, StorageError> {
        let mut client = self.pool.get()?;
        let mut tx = client.transaction()?;
        let insert = tx.prepare(
            "INSERT INTO interview (id, questionnaire_id, questionnaire_version, content_hash, started_at,
                 completed_at, utc_offset_minutes, received_at, payload, score, max_score, has_literacy, score_report)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (id) DO NOTHING",
        )?;
        let existing = tx.prepare("SELECT content_hash FROM interview WHERE id = $1")?;
        let mut receipts = vec![None; accepted.len()];
        for index in super::lock_order(accepted) {
            let (interview, score) = &accepted[index];
            let payload = serde_json::to_value(interview).map_err(corrupt)?;
            let report = serde_json::to_value(score).map_err(corrupt)?;
            let inserted = tx.execute(
                &insert,
                &[
                    &interview.id,
                    &interview.questionnaire_id,
                    &interview.questionnaire_version,
                    &interview.content_hash,
                    &interview.started_at,
                    &interview.completed_at,
                    &interview.utc_offset_minutes,
                    &now,
                    &payload,
                    &(score.score as i32),
                    &(score.max as i32),
                    &score.has_literacy,
                    &report,
                ],
            )?;
            let status = if inserted == 1 {
                ReceiptStatus::Stored
            } else {
                let hash: String = tx.query_one(&existing, &[&interview.id])?.get(0);
                if hash == interview.content_hash {
                    ReceiptStatus::AlreadyStored
                } else {
                    ReceiptStatus::Conflict
                }
            };
            receipts[index] = Some(super::receipt(interview.id, status));
        }
        tx.commit()?;
        Ok(receipts.into_iter().flatten().collect())
    }

    fn interview_count(&self) -> Result<u64, StorageError> {
        let n: i64 = self
            .pool
            .get()?
            .query_one("SELECT count(*) FROM interview", &[])?
            .get(0);
        Ok(n as u64)
    }

    fn interviews(&self) -> Result<Vec<StoredInterview>, StorageError> {
        let rows = self
            .pool
            .get()?
            .query(&format!("{SELECT_STORED} ORDER BY received_at, id"), &[])?;
        rows.iter()
            .map(|row| {
                Ok(StoredInterview {
                    interview: serde_json::from_value(row.get(0)).map_err(corrupt)?,
                    received_at: row.get(1),
                    score: serde_json::from_value(row.get(2)).map_err(corrupt)?,
                })
            })
            .collect()
    }

    fn contains(&self, id: Uuid) -> Result<bool, StorageError> {
        Ok(self
            .pool
            .get()?
            .query_opt("SELECT 1 FROM interview WHERE id = $1", &[&id])?
            .is_some())
    }
}
