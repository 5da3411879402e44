//! People and their sessions.

use super::*;
use zhisu_server_storage::people::{SignInAttempts, FORGET_AFTER_H};

impl PeopleStore for SqliteStorage {
    fn add_person(
        &self,
        person: &Person,
        password_hash: &str,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        self.audited(audit, |added| *added, |conn| {
            let (role, district, populations) = role_columns(&person.role);
            let inserted = conn.execute(
                "INSERT INTO person (id, username, display_name, password_hash, role, district, populations, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (username) DO NOTHING",
                params![
                    person.id.to_string(),
                    person.username,
                    person.display_name,
                    password_hash,
                    role,
                    district,
                    populations,
                    timestamp(person.created_at)
                ],
            ).map_err(db)?;
            Ok(inserted == 1)
        })
    }

    fn person_for_login(&self, username: &str) -> Result<Option<(Person, String)>, StorageError> {
        let row = self
            .conn()
            .query_row(
                &format!("SELECT {PERSON_COLUMNS}, password_hash FROM person WHERE username = ?1 AND disabled_at IS NULL"),
                [username],
                |r| Ok((person_row(r)?, r.get::<_, String>(7)?)),
            )
            .optional().map_err(db)?;
        row.map(|(p, hash)| Ok((person_from(p)?, hash))).transpose()
    }

    fn add_session(
        &self,
        token_hash: &str,
        person: Uuid,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        self.audited(audit, |()| true, |conn| {
            conn.execute(
                "INSERT INTO session (token_hash, person_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![token_hash, person.to_string(), timestamp(now), timestamp(expires_at)],
            ).map_err(db)?;
            Ok(())
        })
    }

    fn begin_sign_in(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(), chrono::Duration>, StorageError> {
        let mut conn = self.conn();
        // IMMEDIATE: read and write under the write lock, so attempts are counted one by one
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        tx.execute(
            "DELETE FROM sign_in_attempt WHERE last_at < ?1 AND (paused_until IS NULL OR paused_until < ?2)",
            params![
                timestamp(now - chrono::Duration::hours(FORGET_AFTER_H)),
                timestamp(now)
            ],
        )
        .map_err(db)?;
        let previous = tx
            .query_row(
                "SELECT failures, last_at, paused_until FROM sign_in_attempt WHERE key = ?1",
                [key],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(db)?
            .map(|(failures, last, paused)| {
                Ok::<_, StorageError>(SignInAttempts {
                    failures: u32::try_from(failures).unwrap_or(u32::MAX),
                    last_at: parse_time(&last)?,
                    paused_until: paused.as_deref().map(parse_time).transpose()?,
                })
            })
            .transpose()?;
        let outcome = match SignInAttempts::attempt(previous, now) {
            Err(wait) => Err(wait),
            Ok(next) => {
                tx.execute(
                    "INSERT INTO sign_in_attempt (key, failures, last_at, paused_until) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,
                         last_at = excluded.last_at, paused_until = excluded.paused_until",
                    params![
                        key,
                        i64::from(next.failures),
                        timestamp(next.last_at),
                        next.paused_until.map(timestamp)
                    ],
                )
                .map_err(db)?;
                Ok(())
            }
        };
        tx.commit().map_err(db)?;
        Ok(outcome)
    }

    fn sign_in_succeeded(&self, key: &str) -> Result<(), StorageError> {
        self.conn()
            .execute("DELETE FROM sign_in_attempt WHERE key = ?1", [key])
            .map_err(db)?;
        Ok(())
    }

    fn sign_in_pause(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<chrono::Duration>, StorageError> {
        let paused: Option<Option<String>> = self
            .conn()
            .query_row(
                "SELECT paused_until FROM sign_in_attempt WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        Ok(paused
            .flatten()
            .map(|p| parse_time(&p))
            .transpose()?
            .filter(|u| *u > now)
            .map(|u| u - now))
    }

    fn session_person(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Person>, StorageError> {
        let columns = PERSON_COLUMNS
            .split(", ")
            .map(|c| format!("p.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let row = self
            .conn()
            .query_row(
                &format!(
                    "SELECT {columns} FROM session s JOIN person p ON p.id = s.person_id
                     WHERE s.token_hash = ?1 AND s.ended_at IS NULL AND s.expires_at > ?2 AND p.disabled_at IS NULL"
                ),
                params![token_hash, timestamp(now)],
                person_row,
            )
            .optional().map_err(db)?;
        row.map(person_from).transpose()
    }

    fn end_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        self.audited(
            audit,
            |ended| *ended,
            |conn| {
                let changed = conn
                    .execute(
                        "UPDATE session SET ended_at = ?2 WHERE token_hash = ?1 AND ended_at IS NULL",
                        params![token_hash, timestamp(now)],
                    )
                    .map_err(db)?;
                Ok(changed == 1)
            },
        )?;
        Ok(())
    }

    fn people(&self) -> Result<Vec<ListedPerson>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {PERSON_COLUMNS}, disabled_at FROM person ORDER BY username"
            ))
            .map_err(db)?;
        let rows = stmt
            .query_map([], |r| Ok((person_row(r)?, r.get::<_, Option<String>>(7)?)))
            .map_err(db)?;
        rows.map(|row| {
            let (p, disabled) = row.map_err(db)?;
            Ok((
                person_from(p)?,
                disabled.as_deref().map(parse_time).transpose()?,
            ))
        })
        .collect()
    }

    fn set_person_disabled(
        &self,
        username: &str,
        disabled_at: Option<DateTime<Utc>>,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        self.audited(
            audit,
            |found| *found,
            |conn| {
                let changed = conn
                    .execute(
                        "UPDATE person SET disabled_at = ?2 WHERE username = ?1",
                        params![username, disabled_at.map(timestamp)],
                    )
                    .map_err(db)?;
                if let (1, Some(at)) = (changed, disabled_at) {
                    conn.execute(
                        "UPDATE session SET ended_at = ?2
                         WHERE ended_at IS NULL AND person_id = (SELECT id FROM person WHERE username = ?1)",
                        params![username, timestamp(at)],
                    )
                    .map_err(db)?;
                }
                Ok(changed == 1)
            },
        )
    }
}
