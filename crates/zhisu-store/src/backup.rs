//! Backups a surveyor can hand over on a USB stick when a tablet cannot sync, and reading them
//! on the server side. The format is documented in `docs/backup-format.md`: a SQLite database
//! with the device schema, written with `VACUUM INTO` (a consistent, compact copy taken while
//! the app keeps running). `VACUUM INTO` on the keyed connection writes the copy encrypted with
//! the same key, so a backup on a USB stick is as unreadable as the tablet's file.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use zhisu_protocol::sealed::SealedInterview;
use zhisu_protocol::CompletedInterview;

use crate::{encryption, from_json, migrations, DatabaseKey, DeviceStore, StoreError};

impl DeviceStore {
    /// Writes a complete copy of the device database to `dest` (which must not exist).
    pub fn export_backup(&self, dest: &Path) -> Result<(), StoreError> {
        let path = dest.display().to_string();
        self.conn
            .execute("VACUUM INTO ?1", [&path])
            .map_err(|source| StoreError::Backup { path, source })?;
        Ok(())
    }
}

/// Reads every completed interview from a device backup file, exactly as sealed on the device
/// (acknowledged ones too: importing is idempotent on the server). Opens the file read-only,
/// with `key` (the key of the device that wrote it), or as a plain file when `key` is `None`
/// (backups written before the device store was encrypted).
pub fn read_backup(
    path: &Path,
    key: Option<&DatabaseKey>,
) -> Result<Vec<CompletedInterview>, StoreError> {
    let name = path.display().to_string();
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|_| StoreError::NotABackup(name.clone()))?;
    if let Some(key) = key {
        encryption::keyed(&conn, key).map_err(|_| {
            StoreError::NotABackup(format!(
                "{name} (or it was written by another tablet: this key does not open it)"
            ))
        })?;
    }
    let version =
        migrations::schema_version(&conn).map_err(|_| StoreError::NotABackup(name.clone()))?;
    if version == 0 {
        return Err(StoreError::NotABackup(name));
    }
    if version > migrations::MIGRATIONS.len() {
        return Err(StoreError::NewerSchema {
            found: version,
            supported: migrations::MIGRATIONS.len(),
        });
    }
    // contacts closed otherwise than completed (schema 13 on) are sealed in the same column
    let only_completed = if version >= 13 {
        "AND coalesce(disposition, 'completed') = 'completed'"
    } else {
        ""
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT payload FROM interview WHERE payload IS NOT NULL
           AND state IN ('completed', 'queued', 'sent', 'acknowledged', 'rejected') {only_completed}
         ORDER BY completed_at, id"
    ))?;
    let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
    rows.map(|row| from_json(&row?)).collect()
}

/// The interviews of a device backup that were sealed to their round's key at completion , for the server to open with the round's private key.
/// A backup from before sealing existed has none.
pub fn read_sealed_backup(
    path: &Path,
    key: Option<&DatabaseKey>,
) -> Result<Vec<SealedInterview>, StoreError> {
    let name = path.display().to_string();
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|_| StoreError::NotABackup(name.clone()))?;
    if let Some(key) = key {
        encryption::keyed(&conn, key).map_err(|_| StoreError::NotABackup(name.clone()))?;
    }
    let has_sealed: bool = conn
        .query_row(
            "SELECT count(*) FROM pragma_table_info('interview') WHERE name = 'sealed'",
            [],
            |row| row.get::<_, i64>(0),
        )
        .map_err(|_| StoreError::NotABackup(name))?
        > 0;
    if !has_sealed {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare(
        "SELECT sealed FROM interview WHERE sealed IS NOT NULL
           AND state IN ('completed', 'queued', 'sent', 'acknowledged', 'rejected')
         ORDER BY completed_at, id",
    )?;
    let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
    rows.map(|row| from_json(&row?)).collect()
}
