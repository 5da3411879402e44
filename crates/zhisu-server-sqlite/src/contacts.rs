//! Contacts (issue 15): stored once by id and content hash, counted by scope.

use super::*;
use zhisu_server_storage::{AcceptedContact, ContactCount, ContactStore, QualityRow};

impl ContactStore for SqliteStorage {
    fn ingest_contacts(
        &self,
        contacts: &[AcceptedContact],
        device: Option<&Device>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Receipt>, StorageError> {
        if contacts.is_empty() {
            return Ok(Vec::new());
        }
        let received = timestamp(now);
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let mut receipts = Vec::with_capacity(contacts.len());
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO contact (id, questionnaire_id, questionnaire_version, content_hash, disposition,
                         started_at, ended_at, received_at, device_id, district, site_id, surveyor_id, population,
                         items_answered, reason, excluded_by, payload)
                     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17
                     WHERE NOT EXISTS (SELECT 1 FROM interview WHERE id = ?1)
                     ON CONFLICT (id) DO NOTHING",
                )
                .map_err(db)?;
            let mut existing = tx
                .prepare_cached("SELECT content_hash FROM contact WHERE id = ?1")
                .map_err(db)?;
            for a in contacts {
                let c = &a.contact;
                let id = c.id.to_string();
                let inserted = insert
                    .execute(params![
                        id,
                        c.questionnaire_id,
                        c.questionnaire_version,
                        c.content_hash,
                        c.disposition.as_str(),
                        timestamp(c.started_at),
                        timestamp(c.ended_at),
                        received,
                        device.map(|d| d.id.to_string()),
                        a.district(device),
                        c.site_id,
                        c.surveyor_id,
                        c.population,
                        c.items_answered,
                        c.reason,
                        serde_json::to_string(&c.excluded_by).map_err(corrupt)?,
                        serde_json::to_string(c).map_err(corrupt)?,
                    ])
                    .map_err(db)?;
                let status =
                    crate::offered_row_status(inserted, &mut existing, &id, &c.content_hash)?;
                receipts.push(receipt(c.id, status));
            }
        }
        tx.commit().map_err(db)?;
        Ok(receipts)
    }

    fn contact_counts(&self, scope: &Scope) -> Result<Vec<ContactCount>, StorageError> {
        let (condition, value): (&str, Option<String>) = match scope {
            Scope::All => ("?1 IS NULL", None),
            Scope::District(d) => ("district = ?1", Some(d.clone())),
            Scope::Populations(p) => (
                "population IN (SELECT value FROM json_each(?1))",
                Some(serde_json::to_string(p).map_err(corrupt)?),
            ),
        };
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT district, site_id, surveyor_id, population, disposition, count(*) FROM contact
                 WHERE {condition}
                 GROUP BY district, site_id, surveyor_id, population, disposition
                 ORDER BY district, site_id, surveyor_id, population, disposition"
            ))
            .map_err(db)?;
        let rows = stmt
            .query_map([value], |r| {
                Ok(ContactCount {
                    district: r.get(0)?,
                    site_id: r.get(1)?,
                    surveyor_id: r.get(2)?,
                    population: r.get(3)?,
                    disposition: r.get(4)?,
                    count: r.get::<_, i64>(5)? as u64,
                })
            })
            .map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }

    fn quality_rows(&self, scope: &Scope) -> Result<Vec<QualityRow>, StorageError> {
        let (condition, value) = scope_condition(scope, "")?;
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT district, site_id, surveyor_id, duration_s,
                        coalesce(json_array_length(qc_flags), 0) > 0, qc_status
                 FROM interview WHERE {condition}
                 ORDER BY district, site_id, surveyor_id, id"
            ))
            .map_err(db)?;
        let rows = stmt
            .query_map(rusqlite::named_params! { ":scope": value }, |r| {
                Ok(QualityRow {
                    district: r.get(0)?,
                    site_id: r.get(1)?,
                    surveyor_id: r.get(2)?,
                    duration_s: r.get(3)?,
                    flagged: r.get(4)?,
                    qc_status: r.get(5)?,
                })
            })
            .map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }
}
