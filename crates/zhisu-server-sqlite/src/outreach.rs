//! Outreach (issue 24): events and quiz sessions, each quiz session stored once by id and
//! content hash, read by scope.

use super::*;
use zhisu_server_storage::zhisu_protocol::{OutreachEvent, QuizSession};
use zhisu_server_storage::{
    AcceptedQuizSession, EventDeletion, OutreachStore, StoredEvent, StoredQuizSession,
};

impl OutreachStore for SqliteStorage {
    fn ingest_quiz_sessions(
        &self,
        sessions: &[AcceptedQuizSession],
        device: Option<&Device>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Receipt>, StorageError> {
        if sessions.is_empty() {
            return Ok(Vec::new());
        }
        let received = timestamp(now);
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let mut receipts = Vec::with_capacity(sessions.len());
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO quiz_session (id, questionnaire_id, questionnaire_version, content_hash,
                         started_at, received_at, device_id, district, population, event_id, site_id, payload)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                     ON CONFLICT (id) DO NOTHING",
                )
                .map_err(db)?;
            let mut existing = tx
                .prepare_cached("SELECT content_hash FROM quiz_session WHERE id = ?1")
                .map_err(db)?;
            for a in sessions {
                let s = &a.session;
                let id = s.id.to_string();
                let inserted = insert
                    .execute(params![
                        id,
                        s.questionnaire_id,
                        s.questionnaire_version,
                        s.content_hash,
                        timestamp(s.started_at),
                        received,
                        device.map(|d| d.id.to_string()),
                        a.district,
                        a.population,
                        s.event_id.map(|e| e.to_string()),
                        s.site_id,
                        serde_json::to_string(s).map_err(corrupt)?,
                    ])
                    .map_err(db)?;
                let status =
                    crate::offered_row_status(inserted, &mut existing, &id, &s.content_hash)?;
                receipts.push(receipt(s.id, status));
            }
        }
        tx.commit().map_err(db)?;
        Ok(receipts)
    }

    fn quiz_sessions(&self, scope: &Scope) -> Result<Vec<StoredQuizSession>, StorageError> {
        let (condition, value) = scope_condition(scope, "")?;
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT payload, district, population, received_at FROM quiz_session
                 WHERE {condition} ORDER BY started_at, id"
            ))
            .map_err(db)?;
        let rows = stmt
            .query_map(rusqlite::named_params! { ":scope": value }, |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (payload, district, population, received) = row.map_err(db)?;
            Ok(StoredQuizSession {
                session: serde_json::from_str::<QuizSession>(&payload).map_err(corrupt)?,
                district,
                population,
                received_at: parse_time(&received)?,
            })
        })
        .collect()
    }

    fn save_event(
        &self,
        event: &OutreachEvent,
        entered_by: &str,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        let payload = serde_json::to_string(event).map_err(corrupt)?;
        self.audited(
            audit,
            |_| true,
            |tx| {
                tx.execute(
                    "INSERT INTO outreach_event (id, district, population, date, entered_by, entered_at, payload)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (id) DO UPDATE SET district = excluded.district,
                         population = excluded.population, date = excluded.date,
                         entered_by = excluded.entered_by, entered_at = excluded.entered_at,
                         payload = excluded.payload",
                    params![
                        event.id.to_string(),
                        event.district,
                        event.population,
                        event.date.to_string(),
                        entered_by,
                        timestamp(now),
                        payload
                    ],
                )
                .map_err(db)?;
                Ok(())
            },
        )
    }

    fn events(&self, scope: &Scope) -> Result<Vec<StoredEvent>, StorageError> {
        let (condition, value) = scope_condition(scope, "")?;
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT payload, entered_by, entered_at FROM outreach_event
                 WHERE {condition} ORDER BY date, id"
            ))
            .map_err(db)?;
        let rows = stmt
            .query_map(rusqlite::named_params! { ":scope": value }, event_row)
            .map_err(db)?;
        rows.map(|row| stored_event(row.map_err(db)?)).collect()
    }

    fn event(&self, id: Uuid) -> Result<Option<StoredEvent>, StorageError> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT payload, entered_by, entered_at FROM outreach_event WHERE id = ?1",
                [id.to_string()],
                event_row,
            )
            .optional()
            .map_err(db)?;
        row.map(stored_event).transpose()
    }

    fn delete_event(&self, id: Uuid, audit: &AuditEntry) -> Result<EventDeletion, StorageError> {
        self.audited(
            audit,
            |outcome| *outcome == EventDeletion::Deleted,
            |tx| {
                let sessions: i64 = tx
                    .query_row(
                        "SELECT count(*) FROM quiz_session WHERE event_id = ?1",
                        [id.to_string()],
                        |r| r.get(0),
                    )
                    .map_err(db)?;
                if sessions > 0 {
                    return Ok(EventDeletion::HasSessions(sessions as u64));
                }
                let deleted = tx
                    .execute("DELETE FROM outreach_event WHERE id = ?1", [id.to_string()])
                    .map_err(db)?;
                Ok(if deleted == 0 {
                    EventDeletion::NotFound
                } else {
                    EventDeletion::Deleted
                })
            },
        )
    }
}

type EventRow = (String, String, String);

fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn stored_event((payload, entered_by, entered_at): EventRow) -> Result<StoredEvent, StorageError> {
    Ok(StoredEvent {
        event: serde_json::from_str(&payload).map_err(corrupt)?,
        entered_by,
        entered_at: parse_time(&entered_at)?,
    })
}
