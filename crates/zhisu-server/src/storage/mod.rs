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
use crate::facts::Facts;
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
    /// A group of batches written together failed as a whole (nothing of it was stored).
    #[error("writing to the database failed: {0}")]
    Write(String),
}

/// An interview accepted for storage: as uploaded, with the server's own score and the facts
/// the dashboard reads.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub interview: CompletedInterview,
    pub score: ScoreReport,
    pub facts: Facts,
}

impl Accepted {
    pub fn new(
        questionnaire: &zhisu_core::Questionnaire,
        interview: CompletedInterview,
        score: ScoreReport,
    ) -> Self {
        Self::with_thresholds(
            questionnaire,
            interview,
            score,
            &zhisu_core::QcThresholds::default(),
        )
    }

    /// With the quality-control thresholds of the interview's round.
    pub fn with_thresholds(
        questionnaire: &zhisu_core::Questionnaire,
        interview: CompletedInterview,
        score: ScoreReport,
        thresholds: &zhisu_core::QcThresholds,
    ) -> Self {
        let facts = Facts::of(questionnaire, &interview, &score, thresholds);
        Accepted {
            interview,
            score,
            facts,
        }
    }
}

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

    /// Calls `visit` with the facts of every stored interview of `questionnaire_id` that
    /// `scope` may read, except those rejected in review, with the sample-plan fields of its
    /// site. Rows are borrowed from the database cursor: a report over a million interviews
    /// allocates nothing per row here.
    fn visit_facts(
        &self,
        scope: &Scope,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(&FactRow<'_>),
    ) -> Result<(), StorageError>;

    /// Calls `visit` with every literacy cell of `questionnaire_id` that counts at least one
    /// interview ([`crate::cells`]), with the sample-plan fields of its site. The cells count
    /// exactly what [`visit_facts`](Self::visit_facts) visits, whatever the scope: the caller
    /// applies the scope.
    fn visit_cells(
        &self,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(&crate::cells::CellRow<'_>),
    ) -> Result<(), StorageError>;

    /// Counts the literacy cells again from the stored interviews, in one transaction (after a
    /// bulk load that bypassed [`ingest`](Self::ingest); the schema migration that added the
    /// cells does the same).
    fn rebuild_cells(&self) -> Result<(), StorageError>;

    /// Interviews per district, site, population and local day of completion (rejected ones
    /// left out), for the progress view.
    fn progress(&self, scope: &Scope) -> Result<Vec<ProgressCell>, StorageError>;

    /// Every site of every district (the progress view's quotas).
    fn all_sites(&self) -> Result<Vec<zhisu_protocol::Site>, StorageError>;

    /// The interviews quality control should look at (flagged by the server, or sharing a
    /// respondent fingerprint with another interview of the same district), newest first,
    /// with their review state. `status` narrows to one review state.
    fn qc_queue(
        &self,
        scope: &Scope,
        status: Option<QcStatus>,
        limit: usize,
    ) -> Result<Vec<QcEntry>, StorageError>;

    /// Records a review decision. `None` when no interview with this id is within `scope`.
    fn review(
        &self,
        scope: &Scope,
        id: Uuid,
        decision: &Review,
    ) -> Result<Option<()>, StorageError>;

    /// Stored interviews that lack their facts (stored before schema 6), at most `limit`.
    fn interviews_without_facts(
        &self,
        limit: usize,
    ) -> Result<Vec<CompletedInterview>, StorageError>;

    /// Sets the facts of a stored interview (the backfill of rows stored before schema 6).
    fn set_facts(&self, id: Uuid, facts: &Facts) -> Result<(), StorageError>;

    /// Everyone, disabled people included (with when they were disabled), by username.
    fn people(&self) -> Result<Vec<ListedPerson>, StorageError>;

    /// Disables (`Some(when)`) or enables again (`None`) a person; their sessions stop working
    /// while disabled. False when there is no such username.
    fn set_person_disabled(
        &self,
        username: &str,
        disabled_at: Option<DateTime<Utc>>,
    ) -> Result<bool, StorageError>;

    /// The settings of a round, when an administrator set them.
    fn round_settings(
        &self,
        round: &str,
    ) -> Result<Option<zhisu_protocol::RoundSettings>, StorageError>;

    fn set_round_settings(
        &self,
        round: &str,
        settings: &zhisu_protocol::RoundSettings,
    ) -> Result<(), StorageError>;

    /// Notes how many interviews a device says are waiting on it (shown on the dashboard).
    fn note_pending(&self, device: Uuid, pending: u32) -> Result<(), StorageError>;

    /// Interviews from a device that were rejected in review, with the reviewer's comment.
    fn rejected_for_device(
        &self,
        device: Uuid,
    ) -> Result<Vec<zhisu_protocol::RejectedInterview>, StorageError>;
}

/// A person and when they were disabled, if they are.
pub type ListedPerson = (Person, Option<DateTime<Utc>>);

/// One stored interview as the dashboard reads it, borrowed from the database row.
#[derive(Debug, Clone, Copy)]
pub struct FactRow<'a> {
    pub questionnaire_version: &'a str,
    pub district: Option<&'a str>,
    pub site_id: Option<&'a str>,
    pub population: Option<&'a str>,
    pub industry: Option<&'a str>,
    pub sex: Option<&'a str>,
    pub education: Option<&'a str>,
    pub age: Option<i64>,
    pub has_literacy: bool,
    /// Bit `i`: literacy in the questionnaire's `i`-th dimension.
    pub dimension_literacy: i64,
    /// Per scored item of the questionnaire version: `1`, `0` or `-` (not asked).
    pub items_correct: &'a str,
    /// The site's stratum and weight from the sample plan, when it has them.
    pub stratum: Option<&'a str>,
    pub weight: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProgressCell {
    pub district: Option<String>,
    pub site_id: Option<String>,
    pub population: Option<String>,
    /// Local date of completion, `YYYY-MM-DD`.
    pub day: String,
    pub count: u64,
}

/// Where an interview stands in quality review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QcStatus {
    Unreviewed,
    Approved,
    HasIssues,
    Rejected,
}

impl QcStatus {
    pub const ALL: [QcStatus; 4] = [
        QcStatus::Unreviewed,
        QcStatus::Approved,
        QcStatus::HasIssues,
        QcStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QcStatus::Unreviewed => "unreviewed",
            QcStatus::Approved => "approved",
            QcStatus::HasIssues => "has_issues",
            QcStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.as_str() == s)
    }
}

/// A review decision on one interview.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Review {
    pub status: QcStatus,
    pub comment: String,
    pub reviewer: String,
    pub at: DateTime<Utc>,
}

/// One interview in the quality-control queue.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QcEntry {
    pub id: Uuid,
    pub questionnaire_id: String,
    pub district: Option<String>,
    pub site_id: Option<String>,
    pub surveyor_id: Option<String>,
    pub device_id: Option<Uuid>,
    pub population: Option<String>,
    pub completed_at: DateTime<Utc>,
    pub duration_s: Option<i64>,
    pub flags: Vec<zhisu_core::QcFlag>,
    /// Other interviews of the same district with the same respondent fingerprint.
    pub same_fingerprint: u64,
    pub status: QcStatus,
    pub comment: Option<String>,
    pub reviewer: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
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
    order.sort_by_key(|&i| accepted[i].interview.id);
    order
}
