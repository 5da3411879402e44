//! Enrolment codes and devices.

use super::*;

impl DeviceStore for PostgresStorage {
    fn add_enrolment_code(
        &self,
        code_hash: &str,
        round: &str,
        district: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        self.audited(audit, |_| true, |tx| {
            tx.execute(
                "INSERT INTO enrolment_code (code_hash, round, district, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                &[&code_hash, &round, &district, &now, &expires_at],
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
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        let Some(code) = tx.query_opt(
            "SELECT round, district, expires_at, used_at FROM enrolment_code WHERE code_hash = $1 FOR UPDATE",
            &[&code_hash],
        ).map_err(db)?
        else {
            return Ok(Err(EnrolRefusal::Unknown));
        };
        let (round, district): (String, String) = (code.get(0), code.get(1));
        let expires_at: DateTime<Utc> = code.get(2);
        let used_at: Option<DateTime<Utc>> = code.get(3);
        if used_at.is_some() {
            return Ok(Err(EnrolRefusal::Used));
        }
        if expires_at <= now {
            return Ok(Err(EnrolRefusal::Expired));
        }
        tx.execute(
            "UPDATE enrolment_code SET used_at = $2, device_id = $3 WHERE code_hash = $1",
            &[&code_hash, &now, &device_id],
        )
        .map_err(db)?;
        let row = tx.query_one(
            &format!(
                "INSERT INTO device (id, name, round, district, token_hash, enrolled_at) VALUES ($1, $2, $3, $4, $5, $6)
                 RETURNING {DEVICE_COLUMNS}"
            ),
            &[&device_id, &device_name, &round, &district, &token_hash, &now],
        ).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Ok(device_from(&row)))
    }

    fn device_for_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Device>, StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let Some(row) = client
            .query_opt(
                &format!("SELECT {DEVICE_COLUMNS} FROM device WHERE token_hash = $1"),
                &[&token_hash],
            )
            .map_err(db)?
        else {
            return Ok(None);
        };
        let device = device_from(&row);
        let stale = now - chrono::Duration::seconds(60);
        if device.last_seen_at.is_none_or(|seen| seen < stale) {
            // when a tablet was last seen is advice for the dashboard (500 tablets make a
            // write like this several times a second)
            let mut tx = Self::unhurried(&mut client)?;
            tx.execute(
                "UPDATE device SET last_seen_at = $2 WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at < $3)",
                &[&device.id, &now, &stale],
            )
            .map_err(db)?;
            tx.commit().map_err(db)?;
        }
        Ok(Some(device))
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
            |tx| {
                let n = tx
                    .execute(
                        "UPDATE device SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1",
                        &[&id, &now],
                    )
                    .map_err(db)?;
                Ok(n == 1)
            },
        )
    }

    fn devices(&self) -> Result<Vec<Device>, StorageError> {
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                &format!("SELECT {DEVICE_COLUMNS} FROM device ORDER BY district, name, id"),
                &[],
            )
            .map_err(db)?;
        Ok(rows.iter().map(device_from).collect())
    }

    fn device(&self, id: Uuid) -> Result<Option<Device>, StorageError> {
        let row = self
            .pool
            .get()
            .map_err(unavailable)?
            .query_opt(
                &format!("SELECT {DEVICE_COLUMNS} FROM device WHERE id = $1"),
                &[&id],
            )
            .map_err(db)?;
        Ok(row.as_ref().map(device_from))
    }

    fn note_pending(&self, device: Uuid, pending: u32) -> Result<(), StorageError> {
        // a count the next poll sends again: written only when it changed
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = Self::unhurried(&mut client)?;
        tx.execute(
            "UPDATE device SET pending = $2 WHERE id = $1 AND pending IS DISTINCT FROM $2",
            &[&device, &(pending as i32)],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(())
    }
}
