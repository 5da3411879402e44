//! The audit log.

use super::*;

impl AuditStore for PostgresStorage {
    fn record_audit(&self, entry: &AuditEntry) -> Result<(), StorageError> {
        insert_audit(&mut *self.pool.get().map_err(unavailable)?, entry)
    }

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StorageError> {
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                "SELECT at, actor, action, detail FROM audit_log ORDER BY seq DESC LIMIT $1",
                &[&(limit as i64)],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                at: r.get(0),
                actor: r.get(1),
                action: r.get(2),
                detail: r.get(3),
            })
            .collect())
    }
}
