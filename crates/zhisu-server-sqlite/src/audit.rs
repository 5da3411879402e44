//! The audit log.

use super::*;

impl AuditStore for SqliteStorage {
    fn record_audit(&self, entry: &AuditEntry) -> Result<(), StorageError> {
        insert_audit(&self.conn(), entry)
    }

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT at, actor, action, detail FROM audit_log ORDER BY seq DESC LIMIT ?1",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (at, actor, action, detail) = row.map_err(db)?;
            Ok(AuditEntry {
                at: parse_time(&at)?,
                actor,
                action,
                detail,
            })
        })
        .collect()
    }
}
