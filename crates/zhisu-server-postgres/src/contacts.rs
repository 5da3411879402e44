//! Contacts (issue 15): stored once by id and content hash, counted by scope.

use super::*;
use zhisu_server_storage::{AcceptedContact, ContactCount, ContactStore, QualityRow};

impl ContactStore for PostgresStorage {
    fn ingest_contacts(
        &self,
        contacts: &[AcceptedContact],
        device: Option<&Device>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Receipt>, StorageError> {
        if contacts.is_empty() {
            return Ok(Vec::new());
        }
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        let insert = tx
            .prepare(
                "INSERT INTO contact (id, questionnaire_id, questionnaire_version, content_hash, disposition,
                     started_at, ended_at, received_at, device_id, district, site_id, surveyor_id, population,
                     items_answered, reason, excluded_by, payload)
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::text::jsonb, $17::text::json
                 WHERE NOT EXISTS (SELECT 1 FROM interview WHERE id = $1)
                 ON CONFLICT (id) DO NOTHING",
            )
            .map_err(db)?;
        let mut receipts = Vec::with_capacity(contacts.len());
        for a in contacts {
            let c = &a.contact;
            let excluded = serde_json::to_string(&c.excluded_by).map_err(corrupt)?;
            let payload = serde_json::to_string(c).map_err(corrupt)?;
            let items = i32::try_from(c.items_answered).unwrap_or(i32::MAX);
            let inserted = tx
                .execute(
                    &insert,
                    &[
                        &c.id,
                        &c.questionnaire_id,
                        &c.questionnaire_version,
                        &c.content_hash,
                        &c.disposition.as_str(),
                        &c.started_at,
                        &c.ended_at,
                        &now,
                        &device.map(|d| d.id),
                        &a.district(device),
                        &c.site_id,
                        &c.surveyor_id,
                        &c.population,
                        &items,
                        &c.reason,
                        &excluded,
                        &payload,
                    ],
                )
                .map_err(db)?;
            let status =
                crate::offered_row_status(&mut tx, inserted, "contact", &c.id, &c.content_hash)?;
            receipts.push(receipt(c.id, status));
        }
        tx.commit().map_err(db)?;
        Ok(receipts)
    }

    fn contact_counts(&self, scope: &Scope) -> Result<Vec<ContactCount>, StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let select = |condition: &str| {
            format!(
                "SELECT district, site_id, surveyor_id, population, disposition, count(*) FROM contact
                 {condition}
                 GROUP BY district, site_id, surveyor_id, population, disposition
                 ORDER BY district NULLS FIRST, site_id NULLS FIRST, surveyor_id NULLS FIRST,
                     population NULLS FIRST, disposition"
            )
        };
        let rows = match scope {
            Scope::All => client.query(&select(""), &[]),
            Scope::District(d) => client.query(&select("WHERE district = $1"), &[d]),
            Scope::Populations(p) => client.query(&select("WHERE population = ANY($1)"), &[p]),
        }
        .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| ContactCount {
                district: r.get(0),
                site_id: r.get(1),
                surveyor_id: r.get(2),
                population: r.get(3),
                disposition: r.get(4),
                count: r.get::<_, i64>(5) as u64,
            })
            .collect())
    }

    fn quality_rows(&self, scope: &Scope) -> Result<Vec<QualityRow>, StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let select = |condition: &str| {
            format!(
                "SELECT district, site_id, surveyor_id, duration_s,
                        jsonb_array_length(qc_flags) > 0, qc_status
                 FROM interview {condition}
                 ORDER BY district NULLS FIRST, site_id NULLS FIRST, surveyor_id NULLS FIRST, id"
            )
        };
        let rows = match scope {
            Scope::All => client.query(&select(""), &[]),
            Scope::District(d) => client.query(&select("WHERE district = $1"), &[d]),
            Scope::Populations(p) => client.query(&select("WHERE population = ANY($1)"), &[p]),
        }
        .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| QualityRow {
                district: r.get(0),
                site_id: r.get(1),
                surveyor_id: r.get(2),
                duration_s: r.get::<_, Option<i32>>(3).map(i64::from),
                flagged: r.get(4),
                qc_status: r.get(5),
            })
            .collect())
    }
}
