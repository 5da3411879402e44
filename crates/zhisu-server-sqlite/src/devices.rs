//! Enrolment codes and devices.

use super::*;

impl DeviceStore for SqliteStorage {
    fn add_enrolment_code(
        &self,
        code_hash: &str,
        round: &str,
        district: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        self.audited(audit, |_| true, |conn| {
            conn.execute(
                "INSERT INTO enrolment_code (code_hash, round, district, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![code_hash, round, district, timestamp(now), timestamp(expires_at)],
            ).map_err(db)?;
            Ok(())
        })
    }

    fn enrol(
        &self,
        code_hash: &str,
        device_id: Uuid,
        device_name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<Device, EnrolRefusal>, StorageError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let code: Option<(String, String, String, Option<String>)> = tx
            .query_row(
                "SELECT round, district, expires_at, used_at FROM enrolment_code WHERE code_hash = ?1",
                [code_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional().map_err(db)?;
        let Some((round, district, expires_at, used_at)) = code else {
            return Ok(Err(EnrolRefusal::Unknown));
        };
        if used_at.is_some() {
            return Ok(Err(EnrolRefusal::Used));
        }
        if parse_time(&expires_at)? <= now {
            return Ok(Err(EnrolRefusal::Expired));
        }
        tx.execute(
            "UPDATE enrolment_code SET used_at = ?2, device_id = ?3 WHERE code_hash = ?1",
            params![code_hash, timestamp(now), device_id.to_string()],
        )
        .map_err(db)?;
        tx.execute(
            "INSERT INTO device (id, name, round, district, token_hash, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![device_id.to_string(), device_name, round, district, token_hash, timestamp(now)],
        ).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Ok(Device {
            id: device_id,
            name: device_name.to_string(),
            round,
            district,
            enrolled_at: parse_time(&timestamp(now))?,
            revoked_at: None,
            last_seen_at: None,
            pending: None,
        }))
    }

    fn device_for_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Device>, StorageError> {
        let device = self.device_where("token_hash", token_hash)?;
        let stale_before = now - chrono::Duration::seconds(60);
        if let Some(d) = device
            .as_ref()
            .filter(|_| self.read_only_uri.is_none())
            .filter(|d| d.last_seen_at.is_none_or(|seen| seen < stale_before))
        {
            // at most one write a minute per device: last-seen is for people, not for audits
            let stale = timestamp(stale_before);
            self.conn().execute(
                "UPDATE device SET last_seen_at = ?2 WHERE id = ?1 AND (last_seen_at IS NULL OR last_seen_at < ?3)",
                params![d.id.to_string(), timestamp(now), stale],
            ).map_err(db)?;
        }
        Ok(device)
    }

    fn revoke_device(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        self.audited(
            audit,
            |found| *found,
            |conn| {
                let changed = conn
                    .execute(
                        "UPDATE device SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
                        params![id.to_string(), timestamp(now)],
                    )
                    .map_err(db)?;
                Ok(changed == 1)
            },
        )
    }

    fn devices(&self) -> Result<Vec<Device>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {DEVICE_COLUMNS} FROM device ORDER BY district, name, id"
            ))
            .map_err(db)?;
        let rows = stmt.query_map([], device_row).map_err(db)?;
        rows.map(|row| device_from(row.map_err(db)?)).collect()
    }

    fn device(&self, id: Uuid) -> Result<Option<Device>, StorageError> {
        self.device_where("id", &id.to_string())
    }

    fn note_pending(&self, device: Uuid, pending: u32) -> Result<(), StorageError> {
        self.conn()
            .execute(
                // written only when it changed: most polls send the same count
                "UPDATE device SET pending = ?2 WHERE id = ?1 AND pending IS NOT ?2",
                params![device.to_string(), pending],
            )
            .map_err(db)?;
        Ok(())
    }
}
