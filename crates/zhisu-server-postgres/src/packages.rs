//! App packages for tablets (issue 22): one per platform and version, bytes in the row.

use super::*;

impl PackageStore for PostgresStorage {
    fn put_package(
        &self,
        package: &StoredPackage,
        bytes: &[u8],
        audit: &AuditEntry,
    ) -> Result<Option<i64>, StorageError> {
        self.audited(
            audit,
            |id: &Option<i64>| id.is_some(),
            |tx| {
                let row = tx
                    .query_opt(
                        "INSERT INTO app_package (version, platform, size, sha256, signature,
                             notes_zh, notes_en, uploaded_at, uploaded_by, bytes)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                         ON CONFLICT (platform, version) DO NOTHING
                         RETURNING id",
                        &[
                            &package.version,
                            &package.platform,
                            &(package.size as i64),
                            &package.sha256,
                            &package.signature,
                            &package.notes_zh,
                            &package.notes_en,
                            &package.uploaded_at,
                            &package.uploaded_by,
                            &bytes,
                        ],
                    )
                    .map_err(db)?;
                Ok(row.map(|r| r.get(0)))
            },
        )
    }

    fn packages(&self) -> Result<Vec<StoredPackage>, StorageError> {
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                "SELECT id, version, platform, size, sha256, signature, notes_zh, notes_en,
                        uploaded_at, uploaded_by
                 FROM app_package ORDER BY id DESC",
                &[],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| StoredPackage {
                id: r.get(0),
                version: r.get(1),
                platform: r.get(2),
                size: r.get::<_, i64>(3) as u64,
                sha256: r.get(4),
                signature: r.get(5),
                notes_zh: r.get(6),
                notes_en: r.get(7),
                uploaded_at: r.get(8),
                uploaded_by: r.get(9),
            })
            .collect())
    }

    fn package_bytes(&self, id: i64) -> Result<Option<Vec<u8>>, StorageError> {
        let row = self
            .pool
            .get()
            .map_err(unavailable)?
            .query_opt("SELECT bytes FROM app_package WHERE id = $1", &[&id])
            .map_err(db)?;
        Ok(row.map(|r| r.get(0)))
    }
}
