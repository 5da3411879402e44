//! Outreach (issue 24): events and quiz sessions, each quiz session stored once by id and
//! content hash, read by scope.

use super::*;
use zhisu_server_storage::zhisu_protocol::{OutreachEvent, QuizSession};
use zhisu_server_storage::{
    AcceptedQuizSession, EventDeletion, OutreachStore, StoredEvent, StoredQuizSession,
};

impl OutreachStore for PostgresStorage {
    fn ingest_quiz_sessions(
        &self,
        sessions: &[AcceptedQuizSession],
        device: Option<&Device>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Receipt>, StorageError> {
        if sessions.is_empty() {
            return Ok(Vec::new());
        }
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        let insert = tx
            .prepare(
                "INSERT INTO quiz_session (id, questionnaire_id, questionnaire_version, content_hash,
                     started_at, received_at, device_id, district, population, event_id, site_id, payload)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text::json)
                 ON CONFLICT (id) DO NOTHING",
            )
            .map_err(db)?;
        let mut receipts = Vec::with_capacity(sessions.len());
        for a in sessions {
            let s = &a.session;
            let payload = serde_json::to_string(s).map_err(corrupt)?;
            let inserted = tx
                .execute(
                    &insert,
                    &[
                        &s.id,
                        &s.questionnaire_id,
                        &s.questionnaire_version,
                        &s.content_hash,
                        &s.started_at,
                        &now,
                        &device.map(|d| d.id),
                        &a.district,
                        &a.population,
                        &s.event_id,
                        &s.site_id,
                        &payload,
                    ],
                )
                .map_err(db)?;
            let status = crate::offered_row_status(
                &mut tx,
                inserted,
                "quiz_session",
                &s.id,
                &s.content_hash,
            )?;
            receipts.push(receipt(s.id, status));
        }
        tx.commit().map_err(db)?;
        Ok(receipts)
    }

    fn quiz_sessions(&self, scope: &Scope) -> Result<Vec<StoredQuizSession>, StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let select = |condition: &str| {
            format!(
                "SELECT payload::text, district, population, received_at FROM quiz_session
                 {condition} ORDER BY started_at, id"
            )
        };
        let rows = match scope {
            Scope::All => client.query(&select(""), &[]),
            Scope::District(d) => client.query(&select("WHERE district = $1"), &[d]),
            Scope::Populations(p) => client.query(&select("WHERE population = ANY($1)"), &[p]),
        }
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(StoredQuizSession {
                    session: serde_json::from_str::<QuizSession>(r.get::<_, &str>(0))
                        .map_err(corrupt)?,
                    district: r.get(1),
                    population: r.get(2),
                    received_at: r.get(3),
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
                     VALUES ($1, $2, $3, $4, $5, $6, $7::text::json)
                     ON CONFLICT (id) DO UPDATE SET district = excluded.district,
                         population = excluded.population, date = excluded.date,
                         entered_by = excluded.entered_by, entered_at = excluded.entered_at,
                         payload = excluded.payload",
                    &[
                        &event.id,
                        &event.district,
                        &event.population,
                        &event.date,
                        &entered_by,
                        &now,
                        &payload,
                    ],
                )
                .map_err(db)?;
                Ok(())
            },
        )
    }

    fn events(&self, scope: &Scope) -> Result<Vec<StoredEvent>, StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let select = |condition: &str| {
            format!(
                "SELECT payload::text, entered_by, entered_at FROM outreach_event
                 {condition} ORDER BY date, id"
            )
        };
        let rows = match scope {
            Scope::All => client.query(&select(""), &[]),
            Scope::District(d) => client.query(&select("WHERE district = $1"), &[d]),
            Scope::Populations(p) => client.query(&select("WHERE population = ANY($1)"), &[p]),
        }
        .map_err(db)?;
        rows.iter().map(stored_event).collect()
    }

    fn event(&self, id: Uuid) -> Result<Option<StoredEvent>, StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let row = client
            .query_opt(
                "SELECT payload::text, entered_by, entered_at FROM outreach_event WHERE id = $1",
                &[&id],
            )
            .map_err(db)?;
        row.as_ref().map(stored_event).transpose()
    }

    fn delete_event(&self, id: Uuid, audit: &AuditEntry) -> Result<EventDeletion, StorageError> {
        self.audited(
            audit,
            |outcome| *outcome == EventDeletion::Deleted,
            |tx| {
                // the event's row locked first, so two deletions (or a deletion and a change)
                // of one event are one after the other
                let found = tx
                    .query_opt(
                        "SELECT 1 FROM outreach_event WHERE id = $1 FOR UPDATE",
                        &[&id],
                    )
                    .map_err(db)?;
                if found.is_none() {
                    return Ok(EventDeletion::NotFound);
                }
                let sessions: i64 = tx
                    .query_one(
                        "SELECT count(*) FROM quiz_session WHERE event_id = $1",
                        &[&id],
                    )
                    .map_err(db)?
                    .get(0);
                if sessions > 0 {
                    return Ok(EventDeletion::HasSessions(sessions as u64));
                }
                tx.execute("DELETE FROM outreach_event WHERE id = $1", &[&id])
                    .map_err(db)?;
                Ok(EventDeletion::Deleted)
            },
        )
    }
}

fn stored_event(r: &postgres::Row) -> Result<StoredEvent, StorageError> {
    Ok(StoredEvent {
        event: serde_json::from_str(r.get::<_, &str>(0)).map_err(corrupt)?,
        entered_by: r.get(1),
        entered_at: r.get(2),
    })
}
