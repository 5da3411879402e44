//! The server's embedded SQLite database. (PostgreSQL joins behind a common trait later.)

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use uuid::Uuid;
use zhisu_core::ScoreReport;
use zhisu_protocol::{codes, CompletedInterview, Receipt, ReceiptStatus};

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

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the server database was written by a newer zhisu-server (schema {found}, this one knows up to {supported}); upgrade the server")]
    NewerSchema { found: usize, supported: usize },
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
}

pub struct ServerDb {
    conn: Connection,
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl ServerDb {
    pub fn open(path: &Path) -> Result<Self, DbError> {
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
            return Err(DbError::NewerSchema {
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
        Ok(ServerDb { conn })
    }

    /// Stores the accepted interviews of one batch in one transaction and returns a receipt for
    /// each: stored, already stored (same content hash) or conflict (same id, other content).
    /// Either the whole batch is recorded or, on error, nothing is.
    pub fn ingest(
        &mut self,
        accepted: &[(CompletedInterview, ScoreReport)],
        now: DateTime<Utc>,
    ) -> Result<Vec<Receipt>, DbError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut receipts = Vec::with_capacity(accepted.len());
        for (interview, score) in accepted {
            let id = interview.id.to_string();
            let existing: Option<String> = tx
                .query_row(
                    "SELECT content_hash FROM interview WHERE id = ?1",
                    [&id],
                    |r| r.get(0),
                )
                .optional()?;
            let (status, code, message) = match existing {
                Some(hash) if hash == interview.content_hash => {
                    (ReceiptStatus::AlreadyStored, None, None)
                }
                Some(_) => (
                    ReceiptStatus::Conflict,
                    Some(codes::DIFFERENT_CONTENT.to_string()),
                    Some("the server already holds an interview with this id and different answers; the stored one is kept".to_string()),
                ),
                None => {
                    tx.execute(
                        "INSERT INTO interview (id, questionnaire_id, questionnaire_version, content_hash, started_at,
                             completed_at, utc_offset_minutes, received_at, payload, score, max_score, has_literacy, score_report)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                        params![
                            id,
                            interview.questionnaire_id,
                            interview.questionnaire_version,
                            interview.content_hash,
                            timestamp(interview.started_at),
                            timestamp(interview.completed_at),
                            interview.utc_offset_minutes,
                            timestamp(now),
                            serde_json::to_string(interview).expect("interview serialises"),
                            score.score,
                            score.max,
                            score.has_literacy,
                            serde_json::to_string(score).expect("score serialises"),
                        ],
                    )?;
                    (ReceiptStatus::Stored, None, None)
                }
            };
            receipts.push(Receipt {
                interview_id: interview.id,
                status,
                code,
                message,
            });
        }
        tx.commit()?;
        Ok(receipts)
    }

    pub fn interview_count(&self) -> Result<u64, DbError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM interview", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Every stored interview, oldest received first.
    pub fn interviews(&self) -> Result<Vec<StoredInterview>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT payload, received_at, score_report FROM interview ORDER BY received_at, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let corrupt = |e: &dyn std::fmt::Display| DbError::Corrupt(e.to_string());
        rows.map(|row| {
            let (payload, received_at, score) = row?;
            Ok(StoredInterview {
                interview: serde_json::from_str(&payload).map_err(|e| corrupt(&e))?,
                received_at: DateTime::parse_from_rfc3339(&received_at)
                    .map_err(|e| corrupt(&e))?
                    .with_timezone(&Utc),
                score: serde_json::from_str(&score).map_err(|e| corrupt(&e))?,
            })
        })
        .collect()
    }

    pub fn contains(&self, id: Uuid) -> Result<bool, DbError> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM interview WHERE id = ?1",
                [id.to_string()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}
