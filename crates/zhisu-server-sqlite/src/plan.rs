//! Sites, round settings, published questionnaire versions.

use super::*;

impl PlanStore for SqliteStorage {
    fn replace_sites(
        &self,
        district: &str,
        sites: &[zhisu_protocol::Site],
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        self.audited(audit, |_| true, |conn| {
            conn.execute("DELETE FROM site WHERE district = ?1", [district])
                .map_err(db)?;
            for site in sites {
                conn.execute(
                    "INSERT INTO site (id, district, name, site_type, industry, ownership, size, quotas,
                         stratum, weight, latitude, longitude)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    params![
                        site.id,
                        district,
                        site.name,
                        site.site_type,
                        site.industry,
                        site.ownership,
                        site.size,
                        serde_json::to_string(&site.quotas).map_err(corrupt)?,
                        site.stratum,
                        site.weight,
                        site.latitude,
                        site.longitude,
                    ],
                ).map_err(db)?;
            }
            Ok(())
        })
    }

    fn sites(&self, district: &str) -> Result<Vec<zhisu_protocol::Site>, StorageError> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, district, name, site_type, industry, ownership, size, quotas,
                 stratum, weight, latitude, longitude FROM site
             WHERE district = ?1 ORDER BY id",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([district], |r| {
                Ok((
                    zhisu_protocol::Site {
                        id: r.get(0)?,
                        district: r.get(1)?,
                        name: r.get(2)?,
                        site_type: r.get(3)?,
                        industry: r.get(4)?,
                        ownership: r.get(5)?,
                        size: r.get(6)?,
                        quotas: Default::default(),
                        stratum: r.get(8)?,
                        weight: r.get(9)?,
                        latitude: r.get(10)?,
                        longitude: r.get(11)?,
                    },
                    r.get::<_, String>(7)?,
                ))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (mut site, quotas) = row.map_err(db)?;
            site.quotas = serde_json::from_str(&quotas).map_err(corrupt)?;
            Ok(site)
        })
        .collect()
    }

    fn all_sites(&self) -> Result<Vec<zhisu_protocol::Site>, StorageError> {
        let districts: Vec<String> = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare_cached("SELECT DISTINCT district FROM site ORDER BY 1")
                .map_err(db)?;
            let rows = stmt.query_map([], |r| r.get(0)).map_err(db)?;
            rows.collect::<Result<_, _>>().map_err(db)?
        };
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
        // read beside the writer: every upload asks for its round's settings
        let json: Option<String> = self
            .read()
            .query_row(
                "SELECT settings FROM round_settings WHERE round = ?1",
                [round],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        json.map(|j| serde_json::from_str(&j).map_err(corrupt))
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
            |conn| {
                conn.execute(
                    "INSERT INTO round_settings (round, settings) VALUES (?1, ?2)
                 ON CONFLICT (round) DO UPDATE SET settings = excluded.settings",
                    params![round, serde_json::to_string(settings).map_err(corrupt)?],
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
        self.audited(audit, |kept| *kept, |conn| {
            let inserted = conn.execute(
                "INSERT INTO questionnaire (id, version, round, hash, source, published_at, published_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id, version) DO NOTHING",
                params![
                    record.id,
                    record.version,
                    record.round,
                    record.hash,
                    record.source,
                    timestamp(record.published_at),
                    record.published_by
                ],
            ).map_err(db)?;
            Ok(inserted == 1)
        })
    }

    fn published_questionnaires(&self) -> Result<Vec<PublishedRecord>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, version, round, hash, source, published_at, published_by FROM questionnaire ORDER BY id, version",
        ).map_err(db)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (id, version, round, hash, source, at, by) = row.map_err(db)?;
            Ok(PublishedRecord {
                id,
                version,
                round,
                hash,
                source,
                published_at: parse_time(&at)?,
                published_by: by,
            })
        })
        .collect()
    }
}
