//! PostgreSQL backend: a small connection pool (r2d2) of synchronous clients.
//!
//! One module per concern, as the storage traits are split: `interviews`, `people`, `devices`,
//! `plan`, `analytics`, `audit`; beside them the schema (`migrations`), the batch writer
//! (`group_commit`), the cells kept with every counted write (`cells`) and the row mapping
//! (`rows`).

use chrono::{DateTime, Utc};
use postgres::Client;
use r2d2_postgres::PostgresConnectionManager;
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
pub mod tls;

use cells::*;
use group_commit::*;
pub use migrations::MIGRATIONS;
use migrations::*;
use rows::*;

/// The backend's name in errors and logs.
const BACKEND: &str = "PostgreSQL";

/// A driver error as the storage reports it.
/// The receipt of a row offered with `INSERT ... ON CONFLICT (id) DO NOTHING`: stored when it
/// went in; else already stored when `table` holds the same content hash under `id`; else a
/// conflict (another hash, or an id another table holds). Contacts, quiz sessions and practice
/// interviews share this rule.
fn offered_row_status(
    tx: &mut postgres::Transaction<'_>,
    inserted: u64,
    table: &str,
    id: &uuid::Uuid,
    content_hash: &str,
) -> Result<zhisu_protocol::ReceiptStatus, StorageError> {
    use zhisu_protocol::ReceiptStatus;
    if inserted == 1 {
        return Ok(ReceiptStatus::Stored);
    }
    let hash: Option<String> = tx
        .query_opt(
            &format!("SELECT content_hash FROM {table} WHERE id = $1"),
            &[id],
        )
        .map_err(db)?
        .map(|r| r.get(0));
    Ok(if hash.as_deref() == Some(content_hash) {
        ReceiptStatus::AlreadyStored
    } else {
        ReceiptStatus::Conflict
    })
}

fn db(e: postgres::Error) -> StorageError {
    if e.code() == Some(&postgres::error::SqlState::DISK_FULL) {
        return StorageError::Full {
            backend: BACKEND,
            source: Box::new(e),
        };
    }
    if e.is_closed() {
        return StorageError::Unavailable {
            backend: BACKEND,
            source: Box::new(e),
        };
    }
    StorageError::Database {
        backend: BACKEND,
        source: Box::new(e),
    }
}

/// No connection from the pool.
fn unavailable(e: r2d2::Error) -> StorageError {
    StorageError::Unavailable {
        backend: BACKEND,
        source: Box::new(e),
    }
}

/// Counts every interview the cells count again, replacing what the cells held.
/// Writes an audit entry with the client (or transaction) of the action it records.
fn insert_audit(
    client: &mut impl postgres::GenericClient,
    entry: &AuditEntry,
) -> Result<(), StorageError> {
    client
        .execute(
            "INSERT INTO audit_log (at, actor, action, detail) VALUES ($1, $2, $3, $4)",
            &[&entry.at, &entry.actor, &entry.action, &entry.detail],
        )
        .map_err(db)?;
    Ok(())
}

pub struct PostgresStorage {
    pub(crate) pool: r2d2::Pool<PostgresConnectionManager<tls::RustlsConnect>>,
    /// The analysed interviews' facts between reports (`visit_facts`).
    pub(crate) facts: zhisu_server_storage::facts_cache::FactsCache,
    /// When (milliseconds since the epoch, by the takes' clock) this process last forgot the
    /// full rate buckets.
    rate_buckets_swept_ms: std::sync::atomic::AtomicI64,
}

impl PostgresStorage {
    /// Connects to `url` (`postgres://user@host:port/db`; TLS as its `sslmode` says, see
    /// [`tls`]) and brings the schema up to date. Concurrent starts are safe: migrations run
    /// under an advisory lock.
    pub fn open(url: &str, pool_size: u32) -> Result<Self, StorageError> {
        let (url, root_cert) = tls::split_root_cert(url);
        let config: postgres::Config = url.parse().map_err(db)?;
        let connect = tls::RustlsConnect::new(root_cert.as_deref().map(std::path::Path::new))
            .map_err(|message| StorageError::Unavailable {
                backend: BACKEND,
                source: message.into(),
            })?;
        let manager = PostgresConnectionManager::new(config, connect);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(manager)
            .map_err(unavailable)?;
        Self::migrate(&mut *pool.get().map_err(unavailable)?)?;
        Ok(PostgresStorage {
            pool,
            facts: Default::default(),
            rate_buckets_swept_ms: std::sync::atomic::AtomicI64::new(i64::MIN),
        })
    }

    /// A transaction whose commit does not wait for the disk, for state that paces or advises
    /// and is sent again anyway (rate buckets, a tablet's last-seen time and pending count): a
    /// crash loses at most the last moment's writes, and no interview waits behind their fsync.
    pub(crate) fn unhurried(
        client: &mut Client,
    ) -> Result<postgres::Transaction<'_>, StorageError> {
        let mut tx = client.transaction().map_err(db)?;
        tx.batch_execute("SET LOCAL synchronous_commit = off")
            .map_err(db)?;
        Ok(tx)
    }

    /// Whether a take at `now` should forget the full rate buckets: once a minute, by the one
    /// take that claims it.
    pub(crate) fn rate_buckets_sweep_due(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        use std::sync::atomic::Ordering;
        let now = now.timestamp_millis();
        let last = self.rate_buckets_swept_ms.load(Ordering::Relaxed);
        (last == i64::MIN || now.saturating_sub(last) >= 60_000 || now < last)
            && self
                .rate_buckets_swept_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    pub(crate) fn migrate(client: &mut Client) -> Result<(), StorageError> {
        let mut tx = client.transaction().map_err(db)?;
        tx.execute("SELECT pg_advisory_xact_lock(8470)", &[])
            .map_err(db)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS zhisu_schema (version INTEGER NOT NULL);
             INSERT INTO zhisu_schema (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM zhisu_schema);",
        ).map_err(db)?;
        let found: i32 = tx
            .query_one("SELECT version FROM zhisu_schema", &[])
            .map_err(db)?
            .get(0);
        let found = found as usize;
        if found > MIGRATIONS.len() {
            return Err(StorageError::NewerSchema {
                found,
                supported: MIGRATIONS.len(),
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(found) {
            tx.batch_execute(sql).map_err(db)?;
            if index + 1 == CELLS_SCHEMA {
                rebuild_cells(&mut tx)?;
            }
            tx.execute(
                "UPDATE zhisu_schema SET version = $1",
                &[&((index + 1) as i32)],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)?;
        Ok(())
    }
}

impl PostgresStorage {
    /// Runs an administrative `action` in one transaction with its audit entry, which is
    /// written only when `done` says the action changed something: the log and the data
    /// cannot disagree, whatever fails.
    pub(crate) fn audited<T>(
        &self,
        audit: &AuditEntry,
        done: impl Fn(&T) -> bool,
        action: impl FnOnce(&mut postgres::Transaction<'_>) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        let outcome = action(&mut tx)?;
        if done(&outcome) {
            insert_audit(&mut tx, audit)?;
        }
        tx.commit().map_err(db)?;
        Ok(outcome)
    }
}

impl Storage for PostgresStorage {
    fn backend(&self) -> &'static str {
        "postgresql"
    }

    fn check_ready(&self, now: DateTime<Utc>) -> Result<(), StorageError> {
        self.pool
            .get()
            .map_err(unavailable)?
            .execute(
                "INSERT INTO readiness (id, checked_at) VALUES (1, $1)
                 ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
                &[&now],
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

    fn purge_expired(
        &self,
        cutoffs: &zhisu_server_storage::Cutoffs,
        audit: &AuditEntry,
    ) -> Result<zhisu_server_storage::Purged, StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        let sessions = tx
            .execute(
                "DELETE FROM session WHERE expires_at < $1 OR ended_at < $1",
                &[&cutoffs.sessions],
            )
            .map_err(db)?;
        let sign_in_attempts = tx
            .execute(
                "DELETE FROM sign_in_attempt
                 WHERE last_at < $1 AND (paused_until IS NULL OR paused_until < $1)",
                &[&cutoffs.sign_in_attempts],
            )
            .map_err(db)?;
        let enrolment_codes = tx
            .execute(
                "DELETE FROM enrolment_code WHERE expires_at < $1",
                &[&cutoffs.enrolment_codes],
            )
            .map_err(db)?;
        let audit_entries = match cutoffs.audit {
            Some(before) => tx
                .execute("DELETE FROM audit_log WHERE at < $1", &[&before])
                .map_err(db)?,
            None => 0,
        };
        let recontact_details = tx
            .execute(
                "DELETE FROM recontact WHERE delete_after < $1",
                &[&cutoffs.recontact],
            )
            .map_err(db)?;
        let purged = zhisu_server_storage::Purged {
            sessions,
            sign_in_attempts,
            enrolment_codes,
            audit_entries,
            recontact_details,
        };
        if purged.total() > 0 {
            insert_audit(&mut tx, audit)?;
        }
        tx.commit().map_err(db)?;
        Ok(purged)
    }

    fn has_token(
        &self,
        key: &str,
        limit: TokenLimit,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        limits::has_token(self, key, limit, now)
    }

    fn schema_version(&self) -> Result<usize, StorageError> {
        let version: i32 = self
            .pool
            .get()
            .map_err(unavailable)?
            .query_one("SELECT version FROM zhisu_schema", &[])
            .map_err(db)?
            .get(0);
        Ok(version as usize)
    }
}
