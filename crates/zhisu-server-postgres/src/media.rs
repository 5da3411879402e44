//! Recordings of questionnaires read aloud: bytes once per SHA-256, places pointing at them.

use super::*;

impl MediaStore for PostgresStorage {
    fn put_recording(
        &self,
        recording: &StoredRecording,
        bytes: &[u8],
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        self.audited(
            audit,
            |_| true,
            |tx| {
                tx.execute(
                    "INSERT INTO media_blob (sha256, kind, size, bytes, stored_at)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING",
                    &[
                        &recording.sha256,
                        &recording.kind,
                        &(recording.size as i64),
                        &bytes,
                        &recording.recorded_at,
                    ],
                )
                .map_err(db)?;
                tx.execute(
                    "INSERT INTO recording (questionnaire_id, version, item_id, option_key, sha256,
                         recorded_at, recorded_by)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (questionnaire_id, version, item_id, option_key) DO UPDATE SET
                         sha256 = excluded.sha256, recorded_at = excluded.recorded_at,
                         recorded_by = excluded.recorded_by",
                    &[
                        &recording.questionnaire_id,
                        &recording.version,
                        &recording.item_id,
                        &recording.option,
                        &recording.sha256,
                        &recording.recorded_at,
                        &recording.recorded_by,
                    ],
                )
                .map_err(db)?;
                Ok(())
            },
        )
    }

    fn recordings(
        &self,
        questionnaire: Option<(&str, &str)>,
    ) -> Result<Vec<StoredRecording>, StorageError> {
        let (id, version) = questionnaire.unzip();
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                "SELECT r.questionnaire_id, r.version, r.item_id, r.option_key, r.sha256, b.size,
                        b.kind, r.recorded_at, r.recorded_by
                 FROM recording r JOIN media_blob b ON b.sha256 = r.sha256
                 WHERE ($1::TEXT IS NULL OR (r.questionnaire_id = $1 AND r.version = $2))
                 ORDER BY r.questionnaire_id, r.version, r.item_id, r.option_key",
                &[&id, &version],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| StoredRecording {
                questionnaire_id: r.get(0),
                version: r.get(1),
                item_id: r.get(2),
                option: r.get(3),
                sha256: r.get(4),
                size: r.get::<_, i64>(5) as u64,
                kind: r.get(6),
                recorded_at: r.get(7),
                recorded_by: r.get(8),
            })
            .collect())
    }

    fn media(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, StorageError> {
        let row = self
            .pool
            .get()
            .map_err(unavailable)?
            .query_opt(
                "SELECT kind, bytes FROM media_blob WHERE sha256 = $1",
                &[&sha256],
            )
            .map_err(db)?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }
}
