//! Surveyors managed on the server (issue 15).

use super::*;
use zhisu_server_storage::{FieldSurveyor, FieldSurveyorStore};

const COLUMNS: &str =
    "id, district, name, pin_verifier, added_by, added_at, pin_set_at, retired_at";

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn surveyor_from(row: Row) -> Result<FieldSurveyor, StorageError> {
    let (id, district, name, pin_verifier, added_by, added_at, pin_set_at, retired_at) = row;
    Ok(FieldSurveyor {
        id,
        district,
        name,
        pin_verifier,
        added_by,
        added_at: parse_time(&added_at)?,
        pin_set_at: parse_time(&pin_set_at)?,
        retired_at: retired_at.as_deref().map(parse_time).transpose()?,
    })
}

impl FieldSurveyorStore for SqliteStorage {
    fn add_field_surveyor(
        &self,
        s: &FieldSurveyor,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        self.audited(
            audit,
            |added| *added,
            |conn| {
                let added = conn
                    .execute(
                        &format!(
                            "INSERT INTO field_surveyor ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                             ON CONFLICT (id) DO NOTHING"
                        ),
                        params![
                            s.id,
                            s.district,
                            s.name,
                            s.pin_verifier,
                            s.added_by,
                            timestamp(s.added_at),
                            timestamp(s.pin_set_at),
                            s.retired_at.map(timestamp)
                        ],
                    )
                    .map_err(db)?;
                Ok(added == 1)
            },
        )
    }

    fn set_field_surveyor_pin(
        &self,
        id: &str,
        pin_verifier: &str,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        self.audited(
            audit,
            |changed| *changed,
            |conn| {
                let changed = conn
                    .execute(
                        "UPDATE field_surveyor SET pin_verifier = ?2, pin_set_at = ?3
                         WHERE id = ?1 AND retired_at IS NULL",
                        params![id, pin_verifier, timestamp(now)],
                    )
                    .map_err(db)?;
                Ok(changed == 1)
            },
        )
    }

    fn retire_field_surveyor(
        &self,
        id: &str,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        self.audited(
            audit,
            |changed| *changed,
            |conn| {
                let changed = conn
                    .execute(
                        "UPDATE field_surveyor SET retired_at = ?2
                         WHERE id = ?1 AND retired_at IS NULL",
                        params![id, timestamp(now)],
                    )
                    .map_err(db)?;
                Ok(changed == 1)
            },
        )
    }

    fn field_surveyors(&self, district: Option<&str>) -> Result<Vec<FieldSurveyor>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM field_surveyor
                 WHERE ?1 IS NULL OR district = ?1 ORDER BY district, id"
            ))
            .map_err(db)?;
        let rows = stmt.query_map([district], row).map_err(db)?;
        rows.map(|r| surveyor_from(r.map_err(db)?)).collect()
    }

    fn field_surveyor(&self, id: &str) -> Result<Option<FieldSurveyor>, StorageError> {
        let conn = self.conn();
        let found = conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM field_surveyor WHERE id = ?1"),
                [id],
                row,
            )
            .optional()
            .map_err(db)?;
        found.map(surveyor_from).transpose()
    }
}
