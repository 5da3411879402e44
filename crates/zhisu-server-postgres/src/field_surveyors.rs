//! Surveyors managed on the server (issue 15).

use super::*;
use zhisu_server_storage::{FieldSurveyor, FieldSurveyorStore};

const COLUMNS: &str =
    "id, district, name, pin_verifier, added_by, added_at, pin_set_at, retired_at";

fn surveyor_from(r: &postgres::Row) -> Result<FieldSurveyor, StorageError> {
    Ok(FieldSurveyor {
        id: r.try_get(0).map_err(db)?,
        district: r.try_get(1).map_err(db)?,
        name: r.try_get(2).map_err(db)?,
        pin_verifier: r.try_get(3).map_err(db)?,
        added_by: r.try_get(4).map_err(db)?,
        added_at: r.try_get(5).map_err(db)?,
        pin_set_at: r.try_get(6).map_err(db)?,
        retired_at: r.try_get(7).map_err(db)?,
    })
}

impl FieldSurveyorStore for PostgresStorage {
    fn add_field_surveyor(
        &self,
        s: &FieldSurveyor,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        self.audited(
            audit,
            |added| *added,
            |tx| {
                let added = tx
                    .execute(
                        &format!(
                            "INSERT INTO field_surveyor ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                             ON CONFLICT (id) DO NOTHING"
                        ),
                        &[
                            &s.id,
                            &s.district,
                            &s.name,
                            &s.pin_verifier,
                            &s.added_by,
                            &s.added_at,
                            &s.pin_set_at,
                            &s.retired_at,
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
            |tx| {
                let changed = tx
                    .execute(
                        "UPDATE field_surveyor SET pin_verifier = $2, pin_set_at = $3
                         WHERE id = $1 AND retired_at IS NULL",
                        &[&id, &pin_verifier, &now],
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
            |tx| {
                let changed = tx
                    .execute(
                        "UPDATE field_surveyor SET retired_at = $2
                         WHERE id = $1 AND retired_at IS NULL",
                        &[&id, &now],
                    )
                    .map_err(db)?;
                Ok(changed == 1)
            },
        )
    }

    fn field_surveyors(&self, district: Option<&str>) -> Result<Vec<FieldSurveyor>, StorageError> {
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM field_surveyor
                     WHERE $1::text IS NULL OR district = $1 ORDER BY district, id"
                ),
                &[&district],
            )
            .map_err(db)?;
        rows.iter().map(surveyor_from).collect()
    }

    fn field_surveyor(&self, id: &str) -> Result<Option<FieldSurveyor>, StorageError> {
        let row = self
            .pool
            .get()
            .map_err(unavailable)?
            .query_opt(
                &format!("SELECT {COLUMNS} FROM field_surveyor WHERE id = $1"),
                &[&id],
            )
            .map_err(db)?;
        row.as_ref().map(surveyor_from).transpose()
    }
}
