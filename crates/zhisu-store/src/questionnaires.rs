//! Questionnaire versions the server delivered, kept exactly as published so that an interview
//! started with a version can always be finished, re-scored and re-sent with it.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use zhisu_core::Questionnaire;
use zhisu_protocol::{QuestionnaireDownload, QuestionnaireRef};

use crate::{timestamp, DeviceStore, StoreError};

impl DeviceStore {
    /// The versions held, for comparing with the server's list.
    pub fn questionnaire_refs(&self) -> Result<Vec<QuestionnaireRef>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, version, hash FROM questionnaire ORDER BY id, version")?;
        let rows = stmt.query_map([], |r| {
            Ok(QuestionnaireRef {
                id: r.get(0)?,
                version: r.get(1)?,
                hash: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Keeps a downloaded questionnaire after checking its hash and validating it with the
    /// core. A version already held is never replaced: the same file again is a no-op, a
    /// different file under the same version is refused.
    pub fn save_questionnaire(
        &mut self,
        download: &QuestionnaireDownload,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let invalid = |reason: String| StoreError::InvalidQuestionnaire {
            id: download.id.clone(),
            version: download.version.clone(),
            reason,
        };
        if !download.hash_is_valid() {
            return Err(invalid("its hash does not match its content".into()));
        }
        let name = format!("{}-{}.toml", download.id, download.version);
        let q = Questionnaire::from_toml(&name, &download.source)
            .map_err(|d| invalid(d.lines().to_string()))?;
        if (q.id.as_str(), q.version.as_str()) != (download.id.as_str(), download.version.as_str())
        {
            return Err(invalid(format!(
                "the file says it is {} {}",
                q.id, q.version
            )));
        }
        let held: Option<String> = self
            .conn
            .query_row(
                "SELECT hash FROM questionnaire WHERE id = ?1 AND version = ?2",
                params![download.id, download.version],
                |r| r.get(0),
            )
            .optional()?;
        match held {
            Some(hash) if hash == download.hash => Ok(()),
            Some(_) => Err(StoreError::QuestionnaireChanged {
                id: download.id.clone(),
                version: download.version.clone(),
            }),
            None => {
                self.conn.execute(
                    "INSERT INTO questionnaire (id, version, hash, source, received_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        download.id,
                        download.version,
                        download.hash,
                        download.source,
                        timestamp(now)
                    ],
                )?;
                Ok(())
            }
        }
    }

    /// One version held, loaded.
    pub fn questionnaire(
        &self,
        id: &str,
        version: &str,
    ) -> Result<Option<Questionnaire>, StoreError> {
        let source: Option<String> = self
            .conn
            .query_row(
                "SELECT source FROM questionnaire WHERE id = ?1 AND version = ?2",
                params![id, version],
                |r| r.get(0),
            )
            .optional()?;
        source
            .map(|source| {
                Questionnaire::from_toml(&format!("{id}-{version}.toml"), &source)
                    .map_err(|d| StoreError::Corrupt(d.lines().to_string()))
            })
            .transpose()
    }

    /// Every questionnaire version held, loaded.
    pub fn questionnaires(&self) -> Result<Vec<Questionnaire>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, version, source FROM questionnaire ORDER BY id, version")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (id, version, source) = row?;
            Questionnaire::from_toml(&format!("{id}-{version}.toml"), &source)
                .map_err(|d| StoreError::Corrupt(d.lines().to_string()))
        })
        .collect()
    }
}
