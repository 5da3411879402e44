//! Where the server keeps interviews: one trait, two backends. Embedded SQLite is the default
//! (zero set-up, one machine); PostgreSQL is for deployments that outgrow one machine. Both
//! pass the same conformance suite (`tests/storage.rs`).
//!
//! Methods are blocking: handlers call them on the blocking pool (`spawn_blocking`), which suits
//! rusqlite and the synchronous `postgres` client alike.

pub mod postgres;
pub mod sqlite;

use chrono::{DateTime, Utc};
use uuid::Uuid;
use zhisu_core::ScoreReport;
use zhisu_protocol::{CompletedInterview, Receipt};

use crate::api::StoredInterview;
use crate::devices::{AuditEntry, Device, EnrolRefusal};
use crate::people::{Person, Scope};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("SQLite error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL error: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("cannot get a PostgreSQL connection: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("the database was written by a newer zhisu-server (schema {found}, this one knows up to {supported}); upgrade the server")]
    NewerSchema { found: usize, supported: usize },
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
}

/// An interview accepted for storage with the server's own score.
pub type Accepted = (CompletedInterview, ScoreReport);

pub trait Storage: Send + Sync {
    /// Which backend, for logs and `/healthz`.
    fn backend(&self) -> &'static str;

    /// The schema version the database is at.
    fn schema_version(&self) -> Result<usize, StorageError>;

    /// Stores the accepted interviews of one batch in one transaction and returns a receipt for
    /// each, in order: stored, already stored (same content hash) or conflict (same id, other
    /// content; the stored one is kept). On error nothing of the batch is stored. Safe under
    /// concurrent batches carrying the same interview.
    fn ingest(
        &self,
        accepted: &[Accepted],
        device: Option<&Device>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Receipt>, StorageError>;

    fn interview_count(&self) -> Result<u64, StorageError>;

    /// The stored interviews a scope may read, oldest received first.
    fn interviews(&self, scope: &Scope) -> Result<Vec<StoredInterview>, StorageError>;

    fn contains(&self, id: Uuid) -> Result<bool, StorageError>;

    /// Keeps a new one-time enrolment code (its hash) for a round and district.
    fn add_enrolment_code(
        &self,
        code_hash: &str,
        round: &str,
        district: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Uses an enrolment code: in one transaction checks it (known, unused, not expired), marks
    /// it used and records the device with the code's round and district.
    fn enrol(
        &self,
        code_hash: &str,
        device_id: Uuid,
        device_name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<Device, EnrolRefusal>, StorageError>;

    /// The device a token belongs to (revoked ones included: the caller decides), and notes
    /// that it was seen.
    fn device_for_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Device>, StorageError>;

    /// Revokes a device; false when there is no such device.
    fn revoke_device(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, StorageError>;

    fn devices(&self) -> Result<Vec<Device>, StorageError>;

    fn device(&self, id: Uuid) -> Result<Option<Device>, StorageError>;

    /// Replaces the sites (and quotas) of one district.
    fn replace_sites(
        &self,
        district: &str,
        sites: &[zhisu_protocol::Site],
    ) -> Result<(), StorageError>;

    fn sites(&self, district: &str) -> Result<Vec<zhisu_protocol::Site>, StorageError>;

    fn record_audit(&self, entry: &AuditEntry) -> Result<(), StorageError>;

    /// The newest `limit` entries, newest first.
    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StorageError>;

    /// Adds a person; false when the username is taken.
    fn add_person(&self, person: &Person, password_hash: &str) -> Result<bool, StorageError>;

    /// A person and their password hash, by username (disabled people are not found).
    fn person_for_login(&self, username: &str) -> Result<Option<(Person, String)>, StorageError>;

    fn add_session(
        &self,
        token_hash: &str,
        person: Uuid,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// The person of a live session: not expired, not ended.
    fn session_person(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Person>, StorageError>;

    fn end_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), StorageError>;

    /// Keeps a published questionnaire version; false when the id and version are taken.
    fn publish_questionnaire(
        &self,
        record: &crate::questionnaires::PublishedRecord,
    ) -> Result<bool, StorageError>;

    fn published_questionnaires(
        &self,
    ) -> Result<Vec<crate::questionnaires::PublishedRecord>, StorageError>;
}

/// The key population recorded with an interview: the answer to the `population` item.
fn population_of(interview: &CompletedInterview) -> Option<String> {
    match interview.answers.get("population") {
        Some(zhisu_core::AnswerValue::Choice(key)) => Some(key.clone()),
        _ => None,
    }
}

fn role_columns(role: &crate::people::Role) -> (&'static str, Option<&str>, String) {
    let populations = match role {
        crate::people::Role::DepartmentViewer { populations } => populations.clone(),
        _ => Vec::new(),
    };
    (
        role.name(),
        role.district(),
        serde_json::to_string(&populations).expect("a list of strings serialises"),
    )
}

fn role_from(
    name: &str,
    district: Option<String>,
    populations: &str,
) -> Result<crate::people::Role, StorageError> {
    use crate::people::Role;
    let need =
        |d: Option<String>| d.ok_or_else(|| corrupt(format!("role {name} without a district")));
    Ok(match name {
        "city_admin" => Role::CityAdmin,
        "district_admin" => Role::DistrictAdmin {
            district: need(district)?,
        },
        "supervisor" => Role::Supervisor {
            district: need(district)?,
        },
        "department_viewer" => Role::DepartmentViewer {
            populations: serde_json::from_str(populations).map_err(corrupt)?,
        },
        other => return Err(corrupt(format!("unknown role {other}"))),
    })
}

fn corrupt(e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(e.to_string())
}

/// A receipt for `status`, with the code and message a conflict carries.
fn receipt(interview_id: Uuid, status: zhisu_protocol::ReceiptStatus) -> Receipt {
    let conflict = status == zhisu_protocol::ReceiptStatus::Conflict;
    Receipt {
        interview_id,
        status,
        code: conflict.then(|| zhisu_protocol::codes::DIFFERENT_CONTENT.to_string()),
        message: conflict.then(|| {
            "the server already holds an interview with this id and different answers; the stored one is kept"
                .to_string()
        }),
    }
}

/// The order to write a batch in: by interview id (stable, so a repeated id keeps its order).
/// Concurrent batches then take row locks in the same order and cannot deadlock.
fn lock_order(accepted: &[Accepted]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..accepted.len()).collect();
    order.sort_by_key(|&i| accepted[i].0.id);
    order
}
