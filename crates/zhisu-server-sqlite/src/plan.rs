//! Sites, round settings, published questionnaire versions, reference levels.

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
                         stratum, weight, latitude, longitude, time_slots)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
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
                        // none: NULL, as for sites stored before time slots existed
                        (!site.time_slots.is_empty())
                            .then(|| serde_json::to_string(&site.time_slots))
                            .transpose()
                            .map_err(corrupt)?,
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
                 stratum, weight, latitude, longitude, time_slots FROM site
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
                        time_slots: Vec::new(),
                    },
                    r.get::<_, String>(7)?,
                    r.get::<_, Option<String>>(12)?,
                ))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (mut site, quotas, slots) = row.map_err(db)?;
            site.quotas = serde_json::from_str(&quotas).map_err(corrupt)?;
            if let Some(slots) = slots {
                site.time_slots = serde_json::from_str(&slots).map_err(corrupt)?;
            }
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

    fn reference_levels(
        &self,
        questionnaire_id: Option<&str>,
    ) -> Result<Vec<ReferenceLevel>, StorageError> {
        let conn = self.read_connection()?;
        let mut stmt = conn
            .prepare(
                "SELECT id, round, questionnaire_id, measure, kind, value_percent, source, year,
                     entered_by, entered_at
                 FROM reference_level WHERE ?1 IS NULL OR questionnaire_id = ?1
                 ORDER BY questionnaire_id, round, measure, kind, year, id",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([questionnaire_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, f64>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, String>(9)?,
                ))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (id, round, questionnaire_id, measure, kind, value, source, year, by, at) =
                row.map_err(db)?;
            Ok(ReferenceLevel {
                id: parse_uuid(&id)?,
                round,
                questionnaire_id,
                measure,
                kind: ReferenceKind::parse(&kind).ok_or_else(|| {
                    StorageError::Corrupt(format!("reference level {id}: kind {kind:?}"))
                })?,
                value_percent: value,
                source,
                year: i32::try_from(year)
                    .map_err(|_| StorageError::Corrupt(format!("reference level {id}: year")))?,
                entered_by: by,
                entered_at: parse_time(&at)?,
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
            |conn| {
                conn.execute(
                    "INSERT INTO reference_level (id, round, questionnaire_id, measure, kind,
                         value_percent, source, year, entered_by, entered_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT (id) DO UPDATE SET round = excluded.round,
                         questionnaire_id = excluded.questionnaire_id, measure = excluded.measure,
                         kind = excluded.kind, value_percent = excluded.value_percent,
                         source = excluded.source, year = excluded.year,
                         entered_by = excluded.entered_by, entered_at = excluded.entered_at",
                    params![
                        level.id.to_string(),
                        level.round,
                        level.questionnaire_id,
                        level.measure,
                        level.kind.as_str(),
                        level.value_percent,
                        level.source,
                        i64::from(level.year),
                        level.entered_by,
                        timestamp(level.entered_at),
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
            |conn| {
                let n = conn
                    .execute(
                        "DELETE FROM reference_level WHERE id = ?1",
                        [id.to_string()],
                    )
                    .map_err(db)?;
                Ok(n == 1)
            },
        )
    }
}
