//! Recordings delivered with questionnaire versions: which question or answer each is the
//! recording of (replaced by the server's list at every sync), and their bytes by SHA-256,
//! kept as they arrive so that a broken download resumes, used only once the hash of the
//! whole matched.

use rusqlite::{params, OptionalExtension};
use zhisu_protocol::{media_hash, RecordingRef};

use crate::{DeviceStore, StoreError};

/// Bytes still to fetch: the whole has `size`, `received` of them are here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaWanted {
    pub sha256: String,
    pub size: u64,
    pub received: u64,
}

impl DeviceStore {
    /// Makes the server's list the recordings of this tablet, in one transaction: places
    /// point at the listed hashes, bytes not held yet are wanted, bytes no place uses any more
    /// are dropped.
    pub fn replace_recordings(&mut self, listing: &[RecordingRef]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM recording", [])?;
        for r in listing {
            tx.execute(
                "INSERT INTO media (sha256, kind, size, bytes) VALUES (?1, ?2, ?3, x'')
                 ON CONFLICT (sha256) DO NOTHING",
                params![r.sha256, r.kind.name(), r.size as i64],
            )?;
            tx.execute(
                "INSERT INTO recording (questionnaire_id, version, item_id, option_key, sha256)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT DO UPDATE SET sha256 = excluded.sha256",
                params![r.questionnaire_id, r.version, r.item_id, r.option, r.sha256],
            )?;
        }
        tx.execute(
            "DELETE FROM media WHERE sha256 NOT IN (SELECT sha256 FROM recording)",
            [],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The recordings whose bytes are not all here (or not yet checked), each once.
    pub fn media_to_fetch(&self) -> Result<Vec<MediaWanted>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT sha256, size, length(bytes) FROM media WHERE complete = 0 ORDER BY sha256",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(MediaWanted {
                sha256: r.get(0)?,
                size: r.get::<_, i64>(1)? as u64,
                received: r.get::<_, i64>(2)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Adds `chunk`, which starts at byte `offset` of the recording, to the bytes received;
    /// returns how many are here now. A chunk that does not continue them is refused (the
    /// caller asks again from what is here).
    pub fn append_media(
        &mut self,
        sha256: &str,
        offset: u64,
        chunk: &[u8],
    ) -> Result<u64, StoreError> {
        let tx = self.conn.transaction()?;
        let (size, received): (i64, i64) = tx
            .query_row(
                "SELECT size, length(bytes) FROM media WHERE sha256 = ?1 AND complete = 0",
                [sha256],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| StoreError::Corrupt(format!("no recording {sha256} is wanted")))?;
        if received as u64 != offset || offset + chunk.len() as u64 > size as u64 {
            return Err(StoreError::Corrupt(format!(
                "recording {sha256}: {} bytes at {offset} do not continue the {received} of {size} here",
                chunk.len()
            )));
        }
        tx.execute(
            "UPDATE media SET bytes = CAST(bytes || ?2 AS BLOB) WHERE sha256 = ?1",
            params![sha256, chunk],
        )?;
        tx.commit()?;
        Ok(offset + chunk.len() as u64)
    }

    /// Checks the bytes received against the hash: all there and matching, the recording is
    /// complete (true); otherwise they are dropped, to be fetched again from the start (false).
    pub fn finish_media(&mut self, sha256: &str) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let Some((size, bytes)): Option<(i64, Vec<u8>)> = tx
            .query_row(
                "SELECT size, bytes FROM media WHERE sha256 = ?1",
                [sha256],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
        else {
            return Ok(false);
        };
        let good = bytes.len() as u64 == size as u64 && media_hash(&bytes) == sha256;
        if good {
            tx.execute("UPDATE media SET complete = 1 WHERE sha256 = ?1", [sha256])?;
        } else {
            tx.execute("UPDATE media SET bytes = x'' WHERE sha256 = ?1", [sha256])?;
        }
        tx.commit()?;
        Ok(good)
    }

    /// The recording of `option` (empty: the question) of an item, when all of it is here:
    /// its kind (`wav`, `ogg`, …) and bytes.
    pub fn recording(
        &self,
        questionnaire_id: &str,
        version: &str,
        item_id: &str,
        option: &str,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT m.kind, m.bytes FROM recording r JOIN media m ON m.sha256 = r.sha256
                 WHERE r.questionnaire_id = ?1 AND r.version = ?2 AND r.item_id = ?3
                   AND r.option_key = ?4 AND m.complete = 1",
                params![questionnaire_id, version, item_id, option],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// The places of a questionnaire version whose recording is all here: (item, option).
    pub fn recorded_places(
        &self,
        questionnaire_id: &str,
        version: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.item_id, r.option_key FROM recording r JOIN media m ON m.sha256 = r.sha256
             WHERE r.questionnaire_id = ?1 AND r.version = ?2 AND m.complete = 1
             ORDER BY r.item_id, r.option_key",
        )?;
        let rows = stmt.query_map(params![questionnaire_id, version], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use zhisu_protocol::AudioKind;

    use super::*;

    fn reference(item: &str, option: &str, bytes: &[u8]) -> RecordingRef {
        RecordingRef {
            questionnaire_id: "pilot".into(),
            version: "1".into(),
            item_id: item.into(),
            option: option.into(),
            sha256: media_hash(bytes),
            size: bytes.len() as u64,
            kind: AudioKind::Wav,
        }
    }

    #[test]
    fn recordings_arrive_in_pieces_are_checked_and_follow_the_servers_list() {
        let dir = tempfile::tempdir().unwrap();
        let mut store =
            DeviceStore::open(&dir.path().join("t.sqlite3"), &crate::test_key()).unwrap();
        let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let listing = [reference("k1", "", &bytes), reference("k1", "a", &bytes)];
        store.replace_recordings(&listing).unwrap();
        let sha = media_hash(&bytes);
        assert_eq!(
            store.media_to_fetch().unwrap(),
            vec![MediaWanted {
                sha256: sha.clone(),
                size: 1000,
                received: 0
            }],
            "the same bytes are fetched once"
        );
        assert_eq!(store.recording("pilot", "1", "k1", "").unwrap(), None);
        // a piece, a restart, then the rest from where it stopped
        assert_eq!(store.append_media(&sha, 0, &bytes[..300]).unwrap(), 300);
        assert!(store.append_media(&sha, 100, &bytes[100..200]).is_err());
        drop(store);
        let mut store =
            DeviceStore::open(&dir.path().join("t.sqlite3"), &crate::test_key()).unwrap();
        assert_eq!(store.media_to_fetch().unwrap()[0].received, 300);
        store.append_media(&sha, 300, &bytes[300..]).unwrap();
        assert!(store.finish_media(&sha).unwrap());
        assert_eq!(store.media_to_fetch().unwrap(), vec![]);
        assert_eq!(
            store.recording("pilot", "1", "k1", "a").unwrap(),
            Some(("wav".to_string(), bytes.clone()))
        );
        assert_eq!(
            store.recorded_places("pilot", "1").unwrap(),
            vec![("k1".into(), "".into()), ("k1".into(), "a".into())]
        );
        // bytes that do not match their hash are dropped and wanted again
        let other = b"RIFF-other-bytes".to_vec();
        let mut wrong = reference("k2", "", &other);
        wrong.sha256 = media_hash(b"something else");
        store
            .replace_recordings(&[listing[0].clone(), wrong.clone()])
            .unwrap();
        store.append_media(&wrong.sha256, 0, &other).unwrap();
        assert!(!store.finish_media(&wrong.sha256).unwrap());
        assert_eq!(store.media_to_fetch().unwrap()[0].received, 0);
        assert_eq!(store.recording("pilot", "1", "k2", "").unwrap(), None);
        // the answer's recording left the server's list: gone; its bytes stay for the question
        assert_eq!(store.recording("pilot", "1", "k1", "a").unwrap(), None);
        assert!(store.recording("pilot", "1", "k1", "").unwrap().is_some());
        store.replace_recordings(&[]).unwrap();
        assert_eq!(store.media_to_fetch().unwrap(), vec![]);
        assert_eq!(store.recorded_places("pilot", "1").unwrap(), vec![]);
    }
}
