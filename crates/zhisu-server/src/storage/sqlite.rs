//! Embedded SQLite backend: the default, nothing to set up.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use uuid::Uuid;
use zhisu_protocol::{Receipt, ReceiptStatus};

use super::{corrupt, Accepted, Storage, StorageError};
use crate::api::StoredInterview;

/// Append-only: migration `i` takes `user_version` from `i` to `i + 1`. Never edit a shipped one.
const MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE interview (
        id                    TEXT PRIMARY KEY NOT NULL,
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        content_hash          TEXT NOT NULL,
        started_at            TEXT NOT NULL,
        completed_at          TEXT NOT NULL,
        utc_offset_minutes    INTEGER NOT NULL,
        received_at           TEXT NOT NULL,
        payload               TEXT NOT NULL,     -- the interview exactly as uploaded (JSON)
        score                 INTEGER NOT NULL,  -- re-scored here with the core
        max_score             INTEGER NOT NULL,
        has_literacy          INTEGER NOT NULL,
        score_report          TEXT NOT NULL      -- ScoreReport as JSON
    ) STRICT;
    CREATE INDEX interview_questionnaire ON interview (questionnaire_id, questionnaire_version);
    "#];

pub struct SqliteStorage {
    conn: Mutex<Connection>,
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl SqliteStorage {
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let mut conn = Connection::open(path)?;
        // WAL: readers (dashboards, exports) never block ingest; FULL: an acknowledged
        // interview must survive a power cut, or the tablet would drop its only other copy.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let found = found as usize;
        if found > MIGRATIONS.len() {
            return Err(StorageError::NewerSchema {
                found,
                supported: MIGRATIONS.len(),
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(found) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (index + 1) as i64)?;
            tx.commit()?;
        }
        Ok(SqliteStorage {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Storage for SqliteStorage {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn schema_version(&self) -> Result<usize, StorageError> {
        let v: i64 = self.conn().query_row("PRAGMA user_version", [], |r| r.get(0))?;
        Ok(v as usize)
    }

    fn ingest(&self, accepted: &[Accepted], now: DateTime<Utc>) -> Result<Vec<Receipt>, StorageError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut receipts = vec![None; accepted.len()];
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO interview (id, questionnaire_id, questionnaire_version, content_hash, started_at,
                     completed_at, utc_offset_minutes, received_at, payload, score, max_score, has_literacy, score_report)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (id) DO NOTHING",
            )?;
            let mut existing = tx.prepare_cached("SELECT content_hash FROM interview WHERE id = ?1")?;
            let received = timestamp(now);
            for index in super::lock_order(accepted) {
                let (interview, score) = &accepted[index];
                let id = interview.id.to_string();
                let inserted = insert.execute(params![
                    id,
                    interview.questionnaire_id,
                    interview.questionnaire_version,
                    interview.content_hash,
                    timestamp(interview.started_at),
                    timestamp(interview.completed_at),
                    interview.utc_offset_minutes,
                    received,
                    serde_json::to_string(interview).map_err(corrupt)?,
                    score.score,
                    score.max,
                    score.has_literacy,
                    serde_json::to_string(score).map_err(corrupt)?,
                ])?;
                let status = if inserted == 1 {
                    ReceiptStatus::Stored
                } else {
                    let hash: String = existing.query_row([&id], |r| r.get(0))?;
                    if hash == interview.content_hash {
                        ReceiptStatus::AlreadyStored
                    } else {
                        ReceiptStatus::Conflict
                    }
                };
                receipts[index] = Some(super::receipt(interview.id, status));
            }
        }
        tx.commit()?;
        Ok(receipts.into_iter().flatten().collect())
    }

    fn interview_count(&self) -> Result<u64, StorageError> {
        let n: i64 = self
            .conn()
            .query_row("SELECT count(*) FROM interview", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn interviews(&self) -> Result<Vec<StoredInterview>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT payload, received_at, score_report FROM interview ORDER BY received_at, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (payload, received_at, score) = row?;
            Ok(StoredInterview {
                interview: serde_json::from_str(&payload).map_err(corrupt)?,
                received_at: DateTime::parse_from_rfc3339(&received_at)
                    .map_err(corrupt)?
                    .with_timezone(&Utc),
                score: serde_json::from_str(&score).map_err(corrupt)?,
            })
        })
        .collect()
    }

    fn contains(&self, id: Uuid) -> Result<bool, StorageError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM interview WHERE id = ?1",
                [id.to_string()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}
