//! Recordings of questionnaires read aloud: bytes once per SHA-256, places pointing at them.

use super::*;

impl MediaStore for SqliteStorage {
    fn put_recording(
        &self,
        recording: &StoredRecording,
        bytes: &[u8],
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        self.audited(
            audit,
            |_| true,
            |conn| {
                conn.execute(
                    "INSERT INTO media_blob (sha256, kind, size, bytes, stored_at)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (sha256) DO NOTHING",
                    params![
                        recording.sha256,
                        recording.kind,
                        recording.size as i64,
                        bytes,
                        timestamp(recording.recorded_at)
                    ],
                )
                .map_err(db)?;
                conn.execute(
                    "INSERT INTO recording (questionnaire_id, version, item_id, option_key, sha256,
                         recorded_at, recorded_by)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (questionnaire_id, version, item_id, option_key) DO UPDATE SET
                         sha256 = excluded.sha256, recorded_at = excluded.recorded_at,
                         recorded_by = excluded.recorded_by",
                    params![
                        recording.questionnaire_id,
                        recording.version,
                        recording.item_id,
                        recording.option,
                        recording.sha256,
                        timestamp(recording.recorded_at),
                        recording.recorded_by
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
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(
                "SELECT r.questionnaire_id, r.version, r.item_id, r.option_key, r.sha256, b.size,
                        b.kind, r.recorded_at, r.recorded_by
                 FROM recording r JOIN media_blob b ON b.sha256 = r.sha256
                 WHERE (?1 IS NULL OR (r.questionnaire_id = ?1 AND r.version = ?2))
                 ORDER BY r.questionnaire_id, r.version, r.item_id, r.option_key",
            )
            .map_err(db)?;
        let (id, version) = questionnaire.unzip();
        let rows = stmt
            .query_map(params![id, version], |r| {
                Ok((
                    StoredRecording {
                        questionnaire_id: r.get(0)?,
                        version: r.get(1)?,
                        item_id: r.get(2)?,
                        option: r.get(3)?,
                        sha256: r.get(4)?,
                        size: r.get::<_, i64>(5)? as u64,
                        kind: r.get(6)?,
                        recorded_at: DateTime::<Utc>::UNIX_EPOCH,
                        recorded_by: r.get(8)?,
                    },
                    r.get::<_, String>(7)?,
                ))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (mut recording, at) = row.map_err(db)?;
            recording.recorded_at = parse_time(&at)?;
            Ok(recording)
        })
        .collect()
    }

    fn media(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, StorageError> {
        self.read()
            .query_row(
                "SELECT kind, bytes FROM media_blob WHERE sha256 = ?1",
                [sha256],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db)
    }
}
