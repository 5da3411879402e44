//! People and their sessions.

use super::*;
use zhisu_server_storage::people::{SignInAttempts, FORGET_AFTER_H};

impl PeopleStore for PostgresStorage {
    fn add_person(
        &self,
        person: &Person,
        password_hash: &str,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        self.audited(audit, |added| *added, |tx| {
            let (role, district, populations) = role_columns(&person.role);
            let populations: serde_json::Value = serde_json::from_str(&populations).map_err(corrupt)?;
            let inserted = tx.execute(
                "INSERT INTO person (id, username, display_name, password_hash, role, district, populations, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (username) DO NOTHING",
                &[
                    &person.id,
                    &person.username,
                    &person.display_name,
                    &password_hash,
                    &role,
                    &district,
                    &populations,
                    &person.created_at,
                ],
            ).map_err(db)?;
            Ok(inserted == 1)
        })
    }

    fn person_for_login(&self, username: &str) -> Result<Option<(Person, String)>, StorageError> {
        let row = self.pool.get().map_err(unavailable)?.query_opt(
            &format!("SELECT {PERSON_COLUMNS}, p.password_hash FROM person p WHERE p.username = $1 AND p.disabled_at IS NULL"),
            &[&username],
        ).map_err(db)?;
        row.map(|r| Ok((person_from(&r)?, r.get(7)))).transpose()
    }

    fn add_session(
        &self,
        token_hash: &str,
        person: Uuid,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        self.audited(audit, |()| true, |tx| {
            tx.execute(
                "INSERT INTO session (token_hash, person_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                &[&token_hash, &person, &now, &expires_at],
            ).map_err(db)?;
            Ok(())
        })
    }

    fn begin_sign_in(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(), chrono::Duration>, StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        tx.execute(
            "DELETE FROM sign_in_attempt WHERE last_at < $1 AND (paused_until IS NULL OR paused_until < $2)",
            &[&(now - chrono::Duration::hours(FORGET_AFTER_H)), &now],
        )
        .map_err(db)?;
        // the row exists before it is locked, so attempts at once from several processes wait
        // for each other on it (a first attempt counts like one after a forgotten count)
        tx.execute(
            "INSERT INTO sign_in_attempt (key, failures, last_at) VALUES ($1, 0, $2) ON CONFLICT (key) DO NOTHING",
            &[&key, &now],
        )
        .map_err(db)?;
        let row = tx
            .query_one(
                "SELECT failures, last_at, paused_until FROM sign_in_attempt WHERE key = $1 FOR UPDATE",
                &[&key],
            )
            .map_err(db)?;
        let previous = SignInAttempts {
            failures: u32::try_from(row.get::<_, i32>(0)).unwrap_or(0),
            last_at: row.get(1),
            paused_until: row.get(2),
        };
        let outcome = match SignInAttempts::attempt(Some(previous), now) {
            Err(wait) => Err(wait),
            Ok(next) => {
                tx.execute(
                    "UPDATE sign_in_attempt SET failures = $2, last_at = $3, paused_until = $4 WHERE key = $1",
                    &[
                        &key,
                        &i32::try_from(next.failures).unwrap_or(i32::MAX),
                        &next.last_at,
                        &next.paused_until,
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
        self.pool
            .get()
            .map_err(unavailable)?
            .execute("DELETE FROM sign_in_attempt WHERE key = $1", &[&key])
            .map_err(db)?;
        Ok(())
    }

    fn sign_in_pause(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<chrono::Duration>, StorageError> {
        let row = self
            .pool
            .get()
            .map_err(unavailable)?
            .query_opt(
                "SELECT paused_until FROM sign_in_attempt WHERE key = $1",
                &[&key],
            )
            .map_err(db)?;
        Ok(row
            .and_then(|r| r.get::<_, Option<DateTime<Utc>>>(0))
            .filter(|u| *u > now)
            .map(|u| u - now))
    }

    fn session_person(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Person>, StorageError> {
        let row = self.pool.get().map_err(unavailable)?.query_opt(
            &format!(
                "SELECT {PERSON_COLUMNS} FROM session s JOIN person p ON p.id = s.person_id
                 WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND p.disabled_at IS NULL"
            ),
            &[&token_hash, &now],
        ).map_err(db)?;
        row.map(|r| person_from(&r)).transpose()
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
            |tx| {
                let changed = tx
                    .execute(
                        "UPDATE session SET ended_at = $2 WHERE token_hash = $1 AND ended_at IS NULL",
                        &[&token_hash, &now],
                    )
                    .map_err(db)?;
                Ok(changed == 1)
            },
        )?;
        Ok(())
    }

    fn people(&self) -> Result<Vec<ListedPerson>, StorageError> {
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                &format!(
                    "SELECT {PERSON_COLUMNS}, p.disabled_at FROM person p ORDER BY p.username"
                ),
                &[],
            )
            .map_err(db)?;
        rows.iter()
            .map(|r| Ok((person_from(r)?, r.get(7))))
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
            |tx| {
                let changed = tx
                    .execute(
                        "UPDATE person SET disabled_at = $2 WHERE username = $1",
                        &[&username, &disabled_at],
                    )
                    .map_err(db)?;
                if let (1, Some(at)) = (changed, disabled_at) {
                    tx.execute(
                        "UPDATE session SET ended_at = $2
                         WHERE ended_at IS NULL AND person_id = (SELECT id FROM person WHERE username = $1)",
                        &[&username, &at],
                    )
                    .map_err(db)?;
                }
                Ok(changed == 1)
            },
        )
    }
}
