//! Embedded SQLite backend: the default, nothing to set up.
//!
//! One module per concern, as the storage traits are split: `interviews`, `people`, `devices`,
//! `plan`, `analytics`, `audit`; beside them the schema (`migrations`), the batch writer
//! (`group_commit`), the cells kept with every counted write (`cells`) and the row mapping
//! (`rows`).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use uuid::Uuid;
use zhisu_server_storage::zhisu_protocol::{self, Receipt, ReceiptStatus};

use zhisu_server_storage::cells::{CellChanges, CellRow, Counted, ItemCellRow};
use zhisu_server_storage::facts;
use zhisu_server_storage::rows::{corrupt, lock_order, receipt, role_columns, role_from};
use zhisu_server_storage::{
    Accepted, AnalyticsStore, AuditEntry, AuditStore, Device, DeviceStore, EnrolRefusal, FactRow,
    Facts, InterviewStore, ListedPerson, MediaStore, PackageStore, PeopleStore, Person, PlanStore,
    ProgressCell, PublishedRecord, QcCounts, QcEntry, QcFlag, QcStatus, ReferenceKind,
    ReferenceLevel, ReferenceMatch, Review, Scope, Storage, StorageError, StoredInterview,
    StoredPackage, StoredRecording, TokenLimit,
};

mod analytics;
mod audit;
mod backcheck;
mod cells;
mod contacts;
mod devices;
mod field_surveyors;
mod group_commit;
mod interviews;
mod library;
mod limits;
mod media;
mod migrations;
mod outreach;
mod packages;
mod people;
mod plan;
mod practice;
mod rows;

use cells::*;
use group_commit::*;

pub use migrations::MIGRATIONS;
use migrations::*;
use rows::*;

/// The backend's name in errors and logs.
const BACKEND: &str = "SQLite";

/// A driver error as the storage reports it.
/// The receipt of a row offered with `INSERT ... ON CONFLICT (id) DO NOTHING`: stored when it
/// went in; else already stored when `existing` (the stored content hash by id) holds the same
/// hash; else a conflict (another hash, or an id another table holds). Contacts, quiz sessions
/// and practice interviews share this rule.
fn offered_row_status(
    inserted: usize,
    existing: &mut rusqlite::Statement<'_>,
    id: &str,
    content_hash: &str,
) -> Result<zhisu_protocol::ReceiptStatus, StorageError> {
    use zhisu_protocol::ReceiptStatus;
    if inserted == 1 {
        return Ok(ReceiptStatus::Stored);
    }
    let hash: Option<String> = existing
        .query_row([id], |r| r.get(0))
        .optional()
        .map_err(db)?;
    Ok(if hash.as_deref() == Some(content_hash) {
        ReceiptStatus::AlreadyStored
    } else {
        ReceiptStatus::Conflict
    })
}

fn db(e: rusqlite::Error) -> StorageError {
    if let rusqlite::Error::SqliteFailure(failure, _) = &e {
        if failure.code == rusqlite::ErrorCode::ReadOnly {
            // the server opens its database read-only only when it started on a full disk
            return StorageError::ReadOnly(READ_ONLY_START.to_string());
        }
        if failure.code == rusqlite::ErrorCode::DiskFull {
            return StorageError::Full {
                backend: BACKEND,
                source: Box::new(e),
            };
        }
    }
    StorageError::Database {
        backend: BACKEND,
        source: Box::new(e),
    }
}

/// Why writes are refused when the server started on a full disk.
pub(crate) const READ_ONLY_START: &str = "the server started read-only because its disk was full; \
     free space on the disk and restart zhisu-server to store again";

pub struct SqliteStorage {
    pub(crate) path: std::path::PathBuf,
    /// Opened read-only (the disk was full at start): the URI every connection opens.
    pub(crate) read_only_uri: Option<String>,
    pub(crate) conn: Mutex<Connection>,
    /// Batches waiting for the writer (group commit, see `ingest`).
    pub(crate) queue: Mutex<Vec<Arc<GroupRequest>>>,
    /// A second connection for the hot read on every device request (the token lookup), so it
    /// does not wait behind a batch being written: WAL lets readers run beside the writer.
    pub(crate) reader: Mutex<Connection>,
    /// The analysed interviews' facts between reports (`visit_facts`).
    pub(crate) facts: zhisu_server_storage::facts_cache::FactsCache,
}

/// Counts every interview the cells count again, replacing what the cells held.
/// Writes an audit entry with the connection (or transaction) of the action it records.
fn insert_audit(conn: &Connection, entry: &AuditEntry) -> Result<(), StorageError> {
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, detail) VALUES (?1, ?2, ?3, ?4)",
        params![timestamp(entry.at), entry.actor, entry.action, entry.detail],
    )
    .map_err(db)?;
    Ok(())
}

impl SqliteStorage {
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        owner_only(path)?;
        let mut conn = Connection::open(path).map_err(db)?;
        // WAL: readers (dashboards, exports) never block ingest; FULL: an acknowledged
        // interview must survive a power cut, or the tablet would drop its only other copy.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(db)?;
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db)?;
        let found = found as usize;
        if found > MIGRATIONS.len() {
            return Err(StorageError::NewerSchema {
                found,
                supported: MIGRATIONS.len(),
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(found) {
            let tx = conn.transaction().map_err(db)?;
            tx.execute_batch(sql).map_err(db)?;
            if index + 1 == CELLS_SCHEMA {
                rebuild_cells(&tx)?;
            }
            tx.pragma_update(None, "user_version", (index + 1) as i64)
                .map_err(db)?;
            tx.commit().map_err(db)?;
        }
        let reader = Connection::open(path).map_err(db)?;
        reader.busy_timeout(Duration::from_secs(5)).map_err(db)?;
        Ok(SqliteStorage {
            path: path.to_path_buf(),
            read_only_uri: None,
            conn: Mutex::new(conn),
            queue: Mutex::new(Vec::new()),
            reader: Mutex::new(reader),
            facts: Default::default(),
        })
    }

    /// Whether the disk holding `path` (a database file, existing or not) is full: a small
    /// file cannot be written beside it. What the server asks when it cannot open its database.
    pub fn disk_is_full(path: &Path) -> bool {
        let probe = path.with_extension("space-probe");
        let written = std::fs::write(&probe, [0u8; 64 * 1024]);
        let _ = std::fs::remove_file(&probe);
        matches!(written, Err(e) if e.kind() == std::io::ErrorKind::StorageFull)
    }

    /// Opens the database read-only, for a server that starts on a full disk: reads are
    /// served (dashboards already signed in, devices' downloads), every write is refused
    /// saying why. The database must be at this server's schema (an
    /// upgrade needs space). After a clean stop SQLite has folded its write-ahead log into the
    /// file, which is then opened as immutable (no shared-memory file to create on the full
    /// disk); a log left by a crash is read through it. Writes are refused as
    /// [`StorageError::ReadOnly`].
    pub fn open_read_only(path: &Path) -> Result<Self, StorageError> {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let log_left = std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0);
        let mut uri = String::from("file:");
        for c in path.to_string_lossy().chars() {
            match c {
                '?' | '#' | '%' => uri.push_str(&format!("%{:02X}", c as u32)),
                c => uri.push(c),
            }
        }
        uri.push_str(if log_left {
            "?mode=ro"
        } else {
            "?mode=ro&immutable=1"
        });
        let open = |uri: &str| -> Result<Connection, StorageError> {
            let conn = Connection::open_with_flags(
                uri,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_URI
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(db)?;
            conn.busy_timeout(Duration::from_secs(5)).map_err(db)?;
            Ok(conn)
        };
        let conn = open(&uri)?;
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db)?;
        let found = found as usize;
        if found > MIGRATIONS.len() {
            return Err(StorageError::NewerSchema {
                found,
                supported: MIGRATIONS.len(),
            });
        }
        if found < MIGRATIONS.len() {
            return Err(StorageError::Full {
                backend: BACKEND,
                source: format!(
                    "the database needs upgrading (schema {found} to {}), which needs space: \
                     free space on the disk first",
                    MIGRATIONS.len()
                )
                .into(),
            });
        }
        let reader = open(&uri)?;
        Ok(SqliteStorage {
            path: path.to_path_buf(),
            read_only_uri: Some(uri),
            conn: Mutex::new(conn),
            queue: Mutex::new(Vec::new()),
            reader: Mutex::new(reader),
            facts: Default::default(),
        })
    }

    /// A connection of its own for a long read (a report, an export): WAL lets it run beside
    /// ingest without holding up the writer or the token look-ups.
    pub(crate) fn read_connection(&self) -> Result<Connection, StorageError> {
        let conn = match &self.read_only_uri {
            Some(uri) => Connection::open_with_flags(
                uri,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_URI
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            ),
            None => Connection::open_with_flags(
                &self.path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            ),
        }
        .map_err(db)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(db)?;
        Ok(conn)
    }

    /// The second connection, for short reads on the device path (WAL: beside the writer).
    pub(crate) fn read(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SqliteStorage {
    /// Runs an administrative `action` in one transaction with its audit entry, which is
    /// written only when `done` says the action changed something: the log and the data
    /// cannot disagree, whatever fails.
    pub(crate) fn audited<T>(
        &self,
        audit: &AuditEntry,
        done: impl Fn(&T) -> bool,
        action: impl FnOnce(&Connection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let outcome = action(&tx)?;
        if done(&outcome) {
            insert_audit(&tx, audit)?;
        }
        tx.commit().map_err(db)?;
        Ok(outcome)
    }
}

/// The database holds personal data: its file is readable and writable by the server's user
/// only (0600), created so before SQLite first writes it, and tightened if it was not. SQLite
/// gives its `-wal` and `-shm` files the database file's mode.
#[cfg(unix)]
fn owner_only(path: &Path) -> Result<(), StorageError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |e: std::io::Error| StorageError::Database {
        backend: BACKEND,
        source: Box::new(std::io::Error::new(
            e.kind(),
            format!("the database file {}: {e}", path.display()),
        )),
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    let mut permissions = file.metadata().map_err(io)?.permissions();
    if permissions.mode() & 0o077 != 0 {
        permissions.set_mode(0o600);
        std::fs::set_permissions(path, permissions).map_err(io)?;
    }
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        if let Ok(meta) = std::fs::metadata(&side) {
            let mut p = meta.permissions();
            if p.mode() & 0o077 != 0 {
                p.set_mode(0o600);
                let _ = std::fs::set_permissions(&side, p);
            }
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_: &Path) -> Result<(), StorageError> {
    Ok(())
}

impl Storage for SqliteStorage {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn read_only(&self) -> Option<&str> {
        self.read_only_uri.as_ref().map(|_| READ_ONLY_START)
    }

    fn check_ready(&self, now: DateTime<Utc>) -> Result<(), StorageError> {
        self.conn()
            .execute(
                "INSERT INTO readiness (id, checked_at) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
                [timestamp(now)],
            )
            .map_err(db)?;
        Ok(())
    }

    fn take_token(
        &self,
        key: &str,
        limit: TokenLimit,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        limits::take_token(self, key, limit, now)
    }

    fn has_token(
        &self,
        key: &str,
        limit: TokenLimit,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        limits::has_token(self, key, limit, now)
    }

    fn purge_expired(
        &self,
        cutoffs: &zhisu_server_storage::Cutoffs,
        audit: &AuditEntry,
    ) -> Result<zhisu_server_storage::Purged, StorageError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let count = |n: usize| n as u64;
        let sessions = tx
            .execute(
                "DELETE FROM session WHERE expires_at < ?1 OR ended_at < ?1",
                [timestamp(cutoffs.sessions)],
            )
            .map_err(db)?;
        let sign_in_attempts = tx
            .execute(
                "DELETE FROM sign_in_attempt
                 WHERE last_at < ?1 AND (paused_until IS NULL OR paused_until < ?1)",
                [timestamp(cutoffs.sign_in_attempts)],
            )
            .map_err(db)?;
        let enrolment_codes = tx
            .execute(
                "DELETE FROM enrolment_code WHERE expires_at < ?1",
                [timestamp(cutoffs.enrolment_codes)],
            )
            .map_err(db)?;
        let audit_entries = match cutoffs.audit {
            Some(before) => tx
                .execute("DELETE FROM audit_log WHERE at < ?1", [timestamp(before)])
                .map_err(db)?,
            None => 0,
        };
        let recontact_details = tx
            .execute(
                "DELETE FROM recontact WHERE delete_after < ?1",
                [timestamp(cutoffs.recontact)],
            )
            .map_err(db)?;
        let purged = zhisu_server_storage::Purged {
            sessions: count(sessions),
            sign_in_attempts: count(sign_in_attempts),
            enrolment_codes: count(enrolment_codes),
            audit_entries: count(audit_entries),
            recontact_details: count(recontact_details),
        };
        if purged.total() > 0 {
            insert_audit(&tx, audit)?;
        }
        tx.commit().map_err(db)?;
        Ok(purged)
    }

    fn backup_into(&self, file: &Path) -> Result<(), StorageError> {
        let io = |e: std::io::Error| StorageError::Database {
            backend: BACKEND,
            source: Box::new(std::io::Error::new(
                e.kind(),
                format!("the backup file {}: {e}", file.display()),
            )),
        };
        // created empty and owner-only before SQLite writes into it (VACUUM INTO fills an
        // empty file and keeps its mode); an existing file is never overwritten
        let mut create = std::fs::OpenOptions::new();
        create.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut create, 0o600);
        create.open(file).map_err(io)?;
        let written = self
            .reader
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .execute("VACUUM INTO ?1", [file.to_string_lossy()])
            .map_err(db);
        if written.is_err() {
            let _ = std::fs::remove_file(file);
        }
        written.map(|_| ())
    }

    fn schema_version(&self) -> Result<usize, StorageError> {
        let v: i64 = self
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db)?;
        Ok(v as usize)
    }
}

impl SqliteStorage {
    pub(crate) fn device_where(
        &self,
        condition: &str,
        value: &str,
    ) -> Result<Option<Device>, StorageError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let row = conn
            .query_row(
                &format!("SELECT {DEVICE_COLUMNS} FROM device WHERE {condition} = ?1"),
                [value],
                device_row,
            )
            .optional()
            .map_err(db)?;
        row.map(device_from).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The database and its WAL files are the server user's only, new or tightened on open.
    #[cfg(unix)]
    #[test]
    fn database_files_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.sqlite3");
        let storage = SqliteStorage::open(&path).unwrap();
        storage
            .record_audit(&AuditEntry::now("t", "t", "t"))
            .unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("server.sqlite3-wal")), 0o600);
        drop(storage);
        // one made world-readable by hand is tightened when the server opens it
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        SqliteStorage::open(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    /// The quality-control queue is chosen from `interview_qc_queue` alone and in its order: no
    /// scan of the table (whose queue columns lie after each payload: issue 19), no sort of the
    /// candidates, the rows shown read by their id.
    #[test]
    fn the_quality_control_queue_reads_its_index_not_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.sqlite3");
        SqliteStorage::open(&path).unwrap();
        let conn = Connection::open(&path).unwrap();
        for scope in [
            Scope::All,
            Scope::District("yuzhong".into()),
            Scope::Populations(vec!["teacher".into()]),
        ] {
            let (condition, _) = rows::scope_condition(&scope, "i.").unwrap();
            let sql = format!(
                "EXPLAIN QUERY PLAN {}",
                interviews::qc_queue_sql(&condition)
            );
            let plan: Vec<String> = conn
                .prepare(&sql)
                .unwrap()
                .query_map(
                    rusqlite::named_params! {
                        ":scope": None::<String>, ":status": None::<String>, ":limit": 500,
                    },
                    |r| r.get::<_, String>(3),
                )
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let text = plan.join("\n");
            assert!(
                plan.iter()
                    .any(|l| l.contains("SCAN i USING COVERING INDEX interview_qc_queue")),
                "{text}"
            );
            assert!(
                plan.iter()
                    .any(|l| l.contains("USING COVERING INDEX interview_fingerprint")),
                "{text}"
            );
            assert!(
                plan.iter()
                    .filter(|l| l.starts_with("SCAN") || l.starts_with("SEARCH"))
                    .filter(|l| l.contains(" i ") || l.ends_with(" i"))
                    .all(|l| l.contains("COVERING INDEX") || l.contains("(id=?)")),
                "the table is read only by id: {text}"
            );
            assert!(!text.contains("TEMP B-TREE"), "nothing sorted: {text}");
        }
    }

    fn schema(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_schema ORDER BY type, name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn every_historic_version_migrates_to_the_fresh_schema() {
        let dir = tempfile::tempdir().unwrap();
        let fresh_path = dir.path().join("fresh.sqlite3");
        SqliteStorage::open(&fresh_path).unwrap();
        let fresh = schema(&Connection::open(&fresh_path).unwrap());
        for start in 0..=MIGRATIONS.len() {
            let path = dir.path().join(format!("from-{start}.sqlite3"));
            {
                let conn = Connection::open(&path).unwrap();
                for (i, sql) in MIGRATIONS.iter().enumerate().take(start) {
                    conn.execute_batch(sql).unwrap();
                    conn.pragma_update(None, "user_version", (i + 1) as i64)
                        .unwrap();
                }
                if start >= 1 {
                    // a row written by that version must survive the later ones
                    conn.execute(
                        "INSERT INTO interview (id, questionnaire_id, questionnaire_version, content_hash, started_at,
                             completed_at, utc_offset_minutes, received_at, payload, score, max_score, has_literacy, score_report)
                         VALUES ('x', 'q', '1', 'h', '2026-11-28T23:50:00.000Z',
                             '2026-11-29T00:10:00.000Z', 480, '2026-11-29T00:11:00.000Z', '{}', 1, 2,
                             0, '{}')",
                        [],
                    )
                    .unwrap();
                }
            }
            let storage = SqliteStorage::open(&path).unwrap();
            assert_eq!(storage.schema_version().unwrap(), MIGRATIONS.len());
            let conn = storage.conn();
            assert_eq!(schema(&conn), fresh, "from version {start}");
            let rows: i64 = conn
                .query_row("SELECT count(*) FROM interview", [], |r| r.get(0))
                .unwrap();
            assert_eq!(rows, i64::from(start >= 1), "from version {start}");
            drop(conn);
            // the migration that added the cells counted it (on the local day, UTC+8)
            let progress = storage.progress(&Scope::All).unwrap();
            if (1..CELLS_SCHEMA).contains(&start) {
                assert_eq!(progress.len(), 1, "from version {start}");
                assert_eq!(
                    (progress[0].day.as_str(), progress[0].count),
                    ("2026-11-29", 1)
                );
            }
        }
    }
}
