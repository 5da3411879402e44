//! Sites, round settings, published questionnaire versions, reference levels.

use super::*;

impl PlanStore for PostgresStorage {
    fn replace_sites(
        &self,
        district: &str,
        sites: &[zhisu_protocol::Site],
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        self.audited(audit, |_| true, |tx| {
            tx.execute("DELETE FROM site WHERE district = $1", &[&district])
                .map_err(db)?;
            for site in sites {
                let quotas = serde_json::to_value(&site.quotas).map_err(corrupt)?;
                // none: NULL, as for sites stored before time slots existed
                let slots = (!site.time_slots.is_empty())
                    .then(|| serde_json::to_value(&site.time_slots))
                    .transpose()
                    .map_err(corrupt)?;
                tx.execute(
                    "INSERT INTO site (id, district, name, site_type, industry, ownership, size, quotas,
                         stratum, weight, latitude, longitude, time_slots)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                    &[
                        &site.id,
                        &district,
                        &site.name,
                        &site.site_type,
                        &site.industry,
                        &site.ownership,
                        &site.size,
                        &quotas,
                        &site.stratum,
                        &site.weight,
                        &site.latitude,
                        &site.longitude,
                        &slots,
                    ],
                ).map_err(db)?;
            }
            Ok(())
        })
    }

    fn sites(&self, district: &str) -> Result<Vec<zhisu_protocol::Site>, StorageError> {
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                "SELECT id, district, name, site_type, industry, ownership, size, quotas,
                 stratum, weight, latitude, longitude, time_slots FROM site
             WHERE district = $1 ORDER BY id",
                &[&district],
            )
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(zhisu_protocol::Site {
                    id: r.get(0),
                    district: r.get(1),
                    name: r.get(2),
                    site_type: r.get(3),
                    industry: r.get(4),
                    ownership: r.get(5),
                    size: r.get(6),
                    quotas: serde_json::from_value(r.get(7)).map_err(corrupt)?,
                    stratum: r.get(8),
                    weight: r.get(9),
                    latitude: r.get(10),
                    longitude: r.get(11),
                    time_slots: r
                        .get::<_, Option<serde_json::Value>>(12)
                        .map(serde_json::from_value)
                        .transpose()
                        .map_err(corrupt)?
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    fn all_sites(&self) -> Result<Vec<zhisu_protocol::Site>, StorageError> {
        let districts: Vec<String> = self
            .pool
            .get()
            .map_err(unavailable)?
            .query("SELECT DISTINCT district FROM site ORDER BY 1", &[])
            .map_err(db)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut all = Vec::new();
        for d in districts {
            all.extend(self.sites(&d)?);
        }
        Ok(all)
    }

    fn round_settings(
        &self,
        round: &str,
    ) -> Result<Option<zhisu_protocol::RoundSettings>, StorageError> {
        let row = self
            .pool
            .get()
            .map_err(unavailable)?
            .query_opt(
                "SELECT settings::text FROM round_settings WHERE round = $1",
                &[&round],
            )
            .map_err(db)?;
        row.map(|r| serde_json::from_str(r.get(0)).map_err(corrupt))
            .transpose()
    }

    fn set_round_settings(
        &self,
        round: &str,
        settings: &zhisu_protocol::RoundSettings,
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        self.audited(
            audit,
            |_| true,
            |tx| {
                let json = serde_json::to_string(settings).map_err(corrupt)?;
                tx.execute(
                    "INSERT INTO round_settings (round, settings) VALUES ($1, $2::text::jsonb)
                 ON CONFLICT (round) DO UPDATE SET settings = excluded.settings",
                    &[&round, &json],
                )
                .map_err(db)?;
                Ok(())
            },
        )
    }

    fn publish_questionnaire(
        &self,
        record: &PublishedRecord,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        self.audited(audit, |kept| *kept, |tx| {
            let inserted = tx.execute(
                "INSERT INTO questionnaire (id, version, round, hash, source, published_at, published_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id, version) DO NOTHING",
                &[
                    &record.id,
                    &record.version,
                    &record.round,
                    &record.hash,
                    &record.source,
                    &record.published_at,
                    &record.published_by,
                ],
            ).map_err(db)?;
            Ok(inserted == 1)
        })
    }

    fn published_questionnaires(&self) -> Result<Vec<PublishedRecord>, StorageError> {
        let rows = self.pool.get().map_err(unavailable)?.query(
            "SELECT id, version, round, hash, source, published_at, published_by FROM questionnaire ORDER BY id, version",
            &[],
        ).map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| PublishedRecord {
                id: r.get(0),
                version: r.get(1),
                round: r.get(2),
                hash: r.get(3),
                source: r.get(4),
                published_at: r.get(5),
                published_by: r.get(6),
            })
            .collect())
    }

    fn reference_levels(
        &self,
        questionnaire_id: Option<&str>,
    ) -> Result<Vec<ReferenceLevel>, StorageError> {
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                "SELECT id, round, questionnaire_id, measure, kind, value_percent, source, year,
                     entered_by, entered_at
                 FROM reference_level WHERE $1::TEXT IS NULL OR questionnaire_id = $1
                 ORDER BY questionnaire_id, round, measure, kind, year, id",
                &[&questionnaire_id],
            )
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                let id: Uuid = r.get(0);
                let kind: String = r.get(4);
                Ok(ReferenceLevel {
                    id,
                    round: r.get(1),
                    questionnaire_id: r.get(2),
                    measure: r.get(3),
                    kind: ReferenceKind::parse(&kind).ok_or_else(|| {
                        StorageError::Corrupt(format!("reference level {id}: kind {kind:?}"))
                    })?,
                    value_percent: r.get(5),
                    source: r.get(6),
                    year: r.get(7),
                    entered_by: r.get(8),
                    entered_at: r.get(9),
                })
            })
            .collect()
    }

    fn put_reference_level(
        &self,
        level: &ReferenceLevel,
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        self.audited(
            audit,
            |_| true,
            |tx| {
                tx.execute(
                    "INSERT INTO reference_level (id, round, questionnaire_id, measure, kind,
                         value_percent, source, year, entered_by, entered_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                     ON CONFLICT (id) DO UPDATE SET round = excluded.round,
                         questionnaire_id = excluded.questionnaire_id, measure = excluded.measure,
                         kind = excluded.kind, value_percent = excluded.value_percent,
                         source = excluded.source, year = excluded.year,
                         entered_by = excluded.entered_by, entered_at = excluded.entered_at",
                    &[
                        &level.id,
                        &level.round,
                        &level.questionnaire_id,
                        &level.measure,
                        &level.kind.as_str(),
                        &level.value_percent,
                        &level.source,
                        &level.year,
                        &level.entered_by,
                        &level.entered_at,
                    ],
                )
                .map_err(db)?;
                Ok(())
            },
        )
    }

    fn delete_reference_level(&self, id: Uuid, audit: &AuditEntry) -> Result<bool, StorageError> {
        self.audited(
            audit,
            |deleted| *deleted,
            |tx| {
                let n = tx
                    .execute("DELETE FROM reference_level WHERE id = $1", &[&id])
                    .map_err(db)?;
                Ok(n == 1)
            },
        )
    }
}
