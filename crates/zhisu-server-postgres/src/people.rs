//! People and their sessions.

use super::*;

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
