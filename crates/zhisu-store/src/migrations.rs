//! Append-only schema migrations, tracked in SQLite's `user_version`.
//!
//! Rules: a migration that has shipped is never edited; a change is a new entry at the end.
//! A database whose `user_version` is above [`MIGRATIONS`]`.len()` was written by a newer app and is
//! refused untouched.

use rusqlite::Connection;

use crate::StoreError;

/// Migration `i` takes the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: interviews, current answers, every answer change as an event.
    r#"
    CREATE TABLE interview (
        id                    TEXT PRIMARY KEY NOT NULL,   -- UUID made on the device
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        state                 TEXT NOT NULL CHECK (state IN ('in_progress', 'completed', 'acknowledged', 'rejected')),
        started_at            TEXT NOT NULL,               -- RFC 3339, UTC
        utc_offset_minutes    INTEGER NOT NULL,            -- device offset when started
        completed_at          TEXT,
        acknowledged_at       TEXT,
        payload               TEXT,                        -- the sealed upload, fixed at completion
        content_hash          TEXT,
        sync_code             TEXT,                        -- last receipt code for rejected/conflict
        sync_message          TEXT
    ) STRICT;
    CREATE INDEX interview_state ON interview (state, completed_at);

    CREATE TABLE answer (
        interview_id TEXT NOT NULL REFERENCES interview (id),
        item_id      TEXT NOT NULL,
        value        TEXT NOT NULL,                        -- AnswerValue as JSON
        answered_at  TEXT NOT NULL,
        PRIMARY KEY (interview_id, item_id)
    ) STRICT;

    CREATE TABLE answer_event (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        interview_id TEXT NOT NULL REFERENCES interview (id),
        item_id      TEXT NOT NULL,
        old_value    TEXT,                                 -- NULL for a first answer
        new_value    TEXT NOT NULL,
        recorded_at  TEXT NOT NULL
    ) STRICT;
    CREATE INDEX answer_event_interview ON answer_event (interview_id, seq);
    "#,
];

pub(crate) fn schema_version(conn: &Connection) -> rusqlite::Result<usize> {
    conn.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))
        .map(|v| v as usize)
}

/// Brings the schema to the newest version, one transaction per migration.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    migrate_to(conn, MIGRATIONS.len())
}

pub(crate) fn migrate_to(conn: &mut Connection, target: usize) -> Result<(), StoreError> {
    let found = schema_version(conn)?;
    if found > MIGRATIONS.len() {
        return Err(StoreError::NewerSchema {
            found,
            supported: MIGRATIONS.len(),
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().take(target).skip(found) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema as SQLite reports it, for comparing two databases.
    fn schema(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_schema ORDER BY type, name")
            .unwrap();
        stmt.query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn every_historic_version_migrates_to_the_fresh_schema() {
        let mut fresh = Connection::open_in_memory().unwrap();
        migrate(&mut fresh).unwrap();
        assert_eq!(schema_version(&fresh).unwrap(), MIGRATIONS.len());
        for start in 0..=MIGRATIONS.len() {
            let mut old = Connection::open_in_memory().unwrap();
            migrate_to(&mut old, start).unwrap();
            assert_eq!(schema_version(&old).unwrap(), start);
            migrate(&mut old).unwrap();
            assert_eq!(schema(&old), schema(&fresh), "from version {start}");
        }
    }

    #[test]
    fn newer_database_is_refused_and_left_alone() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let newer = MIGRATIONS.len() as i64 + 1;
        conn.pragma_update(None, "user_version", newer).unwrap();
        let before = schema(&conn);
        let err = migrate(&mut conn).unwrap_err();
        assert!(matches!(err, StoreError::NewerSchema { .. }), "{err}");
        assert!(err.to_string().contains("newer version of Zhisu"), "{err}");
        assert_eq!(schema(&conn), before);
        assert_eq!(schema_version(&conn).unwrap(), newer as usize);
    }
}
