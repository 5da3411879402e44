//! People and their sessions.

use super::*;

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
