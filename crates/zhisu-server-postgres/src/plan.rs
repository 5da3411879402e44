//! Sites, round settings, published questionnaire versions.

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
                tx.execute(
                    "INSERT INTO site (id, district, name, site_type, industry, ownership, size, quotas,
                         stratum, weight, latitude, longitude)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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
                 stratum, weight, latitude, longitude FROM site
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
}
