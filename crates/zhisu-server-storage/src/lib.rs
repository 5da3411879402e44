//! What the central server keeps, and the traits its storage backends implement: no HTTP, no
//! database driver. Embedded SQLite (`zhisu-server-sqlite`) is the default (zero set-up, one
//! machine); PostgreSQL (`zhisu-server-postgres`) is for deployments that outgrow one machine.
//! Both pass the same conformance suite (`zhisu-server-tests`).
//!
//! The traits are split by concern ([`InterviewStore`], [`PeopleStore`], [`DeviceStore`],
//! [`PlanStore`] (with the reference levels), [`AnalyticsStore`], [`AuditStore`], [`LibraryStore`], [`PracticeStore`], [`BackcheckStore`]); [`Storage`] is all of them in one
//! backend. Methods are blocking: callers run them on the blocking pool (`spawn_blocking`), which
//! suits rusqlite and the synchronous `postgres` client alike.
#![forbid(unsafe_code)]

pub mod backcheck;
pub mod cells;
pub mod contacts;
pub mod devices;
pub mod facts;
pub mod facts_cache;
pub mod field_surveyors;
pub mod library;
pub mod limits;
pub mod outreach;
pub mod people;
pub mod practice;
pub mod references;
pub mod retention;
pub mod rows;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_core::ScoreReport;
use zhisu_protocol::{CompletedInterview, Receipt};

/// The protocol types the stored data is made of (so a backend needs no other crate).
pub use zhisu_protocol;

pub use backcheck::{
    BackcheckCandidate, BackcheckDraw, BackcheckResult, BackcheckStore, BackcheckTask,
};
pub use contacts::{AcceptedContact, ContactCount, QualityRow};
pub use devices::{AuditEntry, Device, EnrolRefusal};
pub use facts::Facts;
pub use field_surveyors::{FieldSurveyor, FieldSurveyorStore};
pub use library::{LibraryStore, StoredPiece};
pub use limits::{TokenBucket, TokenLimit};
pub use outreach::{AcceptedQuizSession, EventDeletion, StoredEvent, StoredQuizSession};
pub use people::{ListedPerson, Person, Role, Scope};
pub use practice::{AcceptedPractice, PracticeInterview, PracticeStore, SurveyorStart};
pub use references::{ReferenceKind, ReferenceLevel};
pub use retention::{Cutoffs, Purged, RecontactDetails, RecontactTarget};
pub use zhisu_core::QcFlag;

/// A driver's error, whatever the backend.
pub type DriverError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database said no (its own error, kept as the source).
    #[error("{backend} error: {source}")]
    Database {
        backend: &'static str,
        #[source]
        source: DriverError,
    },
    /// The disk holding the database is full: nothing can be written until space is freed.
    #[error("the disk holding the {backend} database is full: {source}")]
    Full {
        backend: &'static str,
        #[source]
        source: DriverError,
    },
    /// The database was opened read-only (the server started on a full disk): why, and what to do.
    #[error("{0}")]
    ReadOnly(String),
    /// No connection could be had (a pool timed out, the server is down).
    #[error("cannot get a {backend} connection: {source}")]
    Unavailable {
        backend: &'static str,
        #[source]
        source: DriverError,
    },
    #[error("the database was written by a newer zhisu-server (schema {found}, this one knows up to {supported}); upgrade the server")]
    NewerSchema { found: usize, supported: usize },
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// What this backend does not do (and what to do instead).
    #[error("{0}")]
    Unsupported(String),
    /// A group of batches written together failed as a whole (nothing of it was stored).
    #[error("writing to the database failed: {0}")]
    Write(String),
}

/// One interview as the server holds it, with the server's own score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredInterview {
    pub interview: CompletedInterview,
    pub received_at: DateTime<Utc>,
    pub score: ScoreReport,
    /// The district of the device that sent it (none for backups imported by hand).
    #[serde(default)]
    pub district: Option<String>,
    /// The round of the device that sent it (none for backups imported by hand): the round
    /// the interview belongs to, as in every analysis.
    #[serde(default)]
    pub round: Option<String>,
    /// The respondent's key population (the `population` answer), when asked.
    #[serde(default)]
    pub population: Option<String>,
    /// Where it stands in quality review (`unreviewed`, `approved`, `has_issues`, `rejected`).
    #[serde(default)]
    pub qc_status: Option<String>,
    /// The version of the consent text the respondent answered, as kept at ingest (none for
    /// interviews stored before it was kept, or without a consent item).
    #[serde(default)]
    pub consent_text_version: Option<String>,
}

/// Quality control's counts of a scope ([`InterviewStore::qc_counts`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QcCounts {
    /// With a server flag, or sharing a non-empty respondent fingerprint with another interview
    /// of the same district.
    pub flagged: u64,
    /// Rejected in review.
    pub rejected: u64,
}

/// Calls `visit` with the stored interviews `scope` may read, `page` at a time (at least one)
/// in order of receipt ([`InterviewStore::interviews_page`]), until every one was visited or
/// `visit` returns false (a reader gone). Returns whether every page was visited. What reads a
/// large store with memory flat (exports, item analysis) goes through here.
pub fn for_each_interview_page(
    storage: &dyn Storage,
    scope: &Scope,
    page: usize,
    visit: &mut dyn FnMut(&[StoredInterview]) -> bool,
) -> Result<bool, StorageError> {
    let page = page.max(1);
    let mut after = None;
    loop {
        let interviews = storage.interviews_page(scope, after, page)?;
        let Some(last) = interviews.last() else {
            return Ok(true);
        };
        after = Some((last.received_at, last.interview.id));
        if !visit(&interviews) {
            return Ok(false);
        }
        if interviews.len() < page {
            return Ok(true);
        }
    }
}

/// A stored interview found by its reference ([`InterviewStore::interviews_with_reference`]):
/// enough to tell two apart, nothing of the answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceMatch {
    pub id: Uuid,
    pub district: Option<String>,
    pub site_id: Option<String>,
    pub received_at: DateTime<Utc>,
}

/// The id range of a reference: (lowest, highest) hyphenated ids starting with its eight hex
/// digits, for an index range on either backend; `None` for anything but eight lower-case hex
/// digits.
pub fn reference_bounds(reference: &str) -> Option<(Uuid, Uuid)> {
    if reference.len() != zhisu_core::REFERENCE_HEX_DIGITS
        || !reference
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    {
        return None;
    }
    let low = Uuid::parse_str(&format!("{reference}-0000-0000-0000-000000000000")).ok()?;
    let high = Uuid::parse_str(&format!("{reference}-ffff-ffff-ffff-ffffffffffff")).ok()?;
    Some((low, high))
}

/// A questionnaire version published for a round, as the database keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedRecord {
    pub id: String,
    pub version: String,
    pub round: String,
    pub hash: String,
    pub source: String,
    pub published_at: chrono::DateTime<chrono::Utc>,
    pub published_by: String,
}

/// An interview accepted for storage: as uploaded, with the server's own score and the facts
/// the dashboard reads.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub interview: CompletedInterview,
    pub score: ScoreReport,
    pub facts: Facts,
    /// The district the sample plan places the interview's site in, when ingest found it
    /// there rather than in the uploading device's district (or for a backup, which has no
    /// device): the interview counts for that district, with that site's stratum and weight.
    pub site_district: Option<String>,
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
            site_district: None,
        }
    }

    /// The district the interview is stored and counted under: its site's in the sample plan
    /// when ingest placed it there ([`Accepted::site_district`]), otherwise the uploading
    /// device's (none for a backup whose site the plan does not list).
    pub fn district<'a>(&'a self, device: Option<&'a Device>) -> Option<&'a str> {
        self.site_district
            .as_deref()
            .or(device.map(|d| d.district.as_str()))
    }
}

/// Everything the server keeps, in one backend. Methods are blocking: the HTTP layer calls them
/// on the blocking pool.
/// Every method that carries an `audit: &AuditEntry` is an administrative action: the backend
/// writes the entry in the same transaction as the change, and only when something changed
/// (a username taken, a device or person not found: no entry).
pub trait Storage:
    InterviewStore
    + ContactStore
    + OutreachStore
    + PeopleStore
    + DeviceStore
    + PlanStore
    + MediaStore
    + PackageStore
    + AnalyticsStore
    + AuditStore
    + LibraryStore
    + PracticeStore
    + BackcheckStore
    + FieldSurveyorStore
    + Send
    + Sync
{
    /// Which backend, for logs and `/healthz`.
    fn backend(&self) -> &'static str;

    /// Why every write is refused, when the database was opened read-only (the server
    /// started on a full disk); `None` normally.
    fn read_only(&self) -> Option<&str> {
        None
    }

    /// The schema version the database is at.
    fn schema_version(&self) -> Result<usize, StorageError>;

    /// Ready to take uploads: a small write commits (a full disk or an unreachable database
    /// says so here, before a device's upload finds out).
    fn check_ready(&self, now: DateTime<Utc>) -> Result<(), StorageError>;

    /// Takes a token from the bucket `key` under `limit` at `now`; false when it has none.
    /// The buckets are kept in the database, so every server process on it shares them
    /// (`limits`); buckets full again are forgotten on the way.
    fn take_token(
        &self,
        key: &str,
        limit: TokenLimit,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// Whether the bucket `key` has a token at `now`, without taking it.
    fn has_token(
        &self,
        key: &str,
        limit: TokenLimit,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// Deletes what has outlived its keeping ([`retention`]): sessions, sign-in attempt
    /// counts, enrolment codes, re-contact details past their `delete_after` and (when
    /// `cutoffs.audit` says so) audit entries older than the cut-offs, in one transaction, with `audit` written after (only when something went).
    fn purge_expired(&self, cutoffs: &Cutoffs, audit: &AuditEntry) -> Result<Purged, StorageError>;

    /// Writes a consistent copy of the whole database to `file`, a new file readable by the
    /// server's user only (it holds the same personal data). Safe while serving. A backend
    /// backed up by its own tools (PostgreSQL: `pg_dump`) says so.
    fn backup_into(&self, file: &std::path::Path) -> Result<(), StorageError> {
        let _ = file;
        Err(StorageError::Unsupported(format!(
            "the {} backend is backed up with its own tools (see docs/deployment.md)",
            self.backend()
        )))
    }
}

/// Interviews: storing a batch, reading them by scope, their facts, review.
pub trait InterviewStore {
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

    /// At most `limit` of the stored interviews `scope` may read, in order of receipt
    /// (`received_at`, then id), those after `after` (the receipt time and id of the last one
    /// of the page before): a large store read page by page, with memory flat.
    fn interviews_page(
        &self,
        scope: &Scope,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: usize,
    ) -> Result<Vec<StoredInterview>, StorageError>;

    fn contains(&self, id: Uuid) -> Result<bool, StorageError>;

    /// Stored interviews that lack their facts (stored before schema 6), at most `limit`.
    fn interviews_without_facts(
        &self,
        limit: usize,
    ) -> Result<Vec<CompletedInterview>, StorageError>;

    /// Sets the facts of a stored interview (the backfill of rows stored before schema 6).
    fn set_facts(&self, id: Uuid, facts: &Facts) -> Result<(), StorageError>;

    /// Adds `flag` to a stored interview's quality flags (replacing a flag of the same kind, see
    /// [`facts::with_flag`]) and writes `audit` in the same transaction; nothing else of the
    /// interview changes (its facts, cells and review state stay as ingest left them). False,
    /// and nothing written, when no interview has this id.
    fn flag_for_review(
        &self,
        id: Uuid,
        flag: &QcFlag,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError>;

    /// Erases one stored interview at its respondent's request: its row goes, its counts in
    /// the literacy and progress cells with it, a marker keeps its id (so a tablet or backup
    /// sending it again does not store it again, see [`erased`](Self::erased)) and `audit` is
    /// written, all in one transaction. False, and nothing written, when no interview has
    /// this id.
    fn erase_interview(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError>;

    /// Those of `ids` that were erased ([`erase_interview`](Self::erase_interview)).
    fn erased(&self, ids: &[Uuid]) -> Result<Vec<Uuid>, StorageError>;

    /// The stored interviews whose id starts with `reference` (the eight lower-case hex digits
    /// of [`zhisu_core::parse_reference`]; anything else finds nothing), oldest received first:
    /// how a respondent's request names the interview to erase.
    fn interviews_with_reference(
        &self,
        reference: &str,
    ) -> Result<Vec<ReferenceMatch>, StorageError>;

    /// Keeps how to re-contact the respondent of a stored interview, apart from its answers
    /// (replacing what was kept for it), with `audit`, in one transaction. False, and nothing
    /// written, when no interview has this id. Erasing the interview deletes them with it;
    /// [`Storage::purge_expired`] deletes them after their `delete_after`.
    fn put_recontact(
        &self,
        details: &RecontactDetails,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError>;

    /// Where re-contact details uploaded for interview `id` may go (issue 15): `None` when no
    /// interview has this id; else the device that sent it and whether details are kept for
    /// it already. Reads neither the details nor the answers (nothing to audit).
    fn recontact_target(&self, id: Uuid) -> Result<Option<RecontactTarget>, StorageError>;

    /// The re-contact details of an interview within `scope`, the read written to the audit
    /// log (`audit`) in the same transaction; `None` (nothing audited) when there are none.
    fn recontact(
        &self,
        scope: &Scope,
        id: Uuid,
        audit: &AuditEntry,
    ) -> Result<Option<RecontactDetails>, StorageError>;

    /// Interviews from a device that were rejected in review, with the reviewer's comment.
    fn rejected_for_device(
        &self,
        device: Uuid,
    ) -> Result<Vec<zhisu_protocol::RejectedInterview>, StorageError>;

    /// How many interviews of `scope` quality control flagged (a server flag, or a respondent
    /// fingerprint shared with another interview of the same district) and how many review
    /// rejected: counted in the database, however many there are (what the reports' sample
    /// section says, without reading the queue).
    fn qc_counts(&self, scope: &Scope) -> Result<QcCounts, StorageError>;

    /// The interviews quality control should look at (flagged by the server, or sharing a
    /// respondent fingerprint with another interview of the same district), newest first,
    /// with their review state. `status` narrows to one review state.
    fn qc_queue(
        &self,
        scope: &Scope,
        status: Option<QcStatus>,
        limit: usize,
    ) -> Result<Vec<QcEntry>, StorageError>;

    /// Records a review decision and its audit entry in one transaction. `None` (and nothing
    /// written) when no interview with this id is within `scope`.
    fn review(
        &self,
        scope: &Scope,
        id: Uuid,
        decision: &Review,
        audit: &AuditEntry,
    ) -> Result<Option<()>, StorageError>;
}

/// Contacts that ended otherwise than in a completed interview (issue 15).
pub trait ContactStore {
    /// Stores the accepted contacts of one batch in one transaction, a receipt for each in
    /// order: stored, already stored (same id and content hash) or conflict (same id, other
    /// content, or the id of a stored interview). On error nothing of them is stored.
    fn ingest_contacts(
        &self,
        contacts: &[AcceptedContact],
        device: Option<&Device>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Receipt>, StorageError>;

    /// The stored contacts a scope may read (the same rule as interviews: district, or the
    /// contact's population), counted by district, site, surveyor, population and disposition.
    fn contact_counts(&self, scope: &Scope) -> Result<Vec<ContactCount>, StorageError>;

    /// Every stored interview of a scope as the per-surveyor and per-site quality table reads
    /// it, ordered by district, site, surveyor and id.
    fn quality_rows(&self, scope: &Scope) -> Result<Vec<QualityRow>, StorageError>;
}

/// Outreach events and quiz sessions (issue 24).
pub trait OutreachStore {
    /// Stores the accepted quiz sessions of one upload in one transaction, a receipt for each
    /// in order: stored, already stored (same id and content hash) or conflict (same id, other
    /// content). On error nothing of them is stored.
    fn ingest_quiz_sessions(
        &self,
        sessions: &[AcceptedQuizSession],
        device: Option<&Device>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Receipt>, StorageError>;

    /// The stored quiz sessions a scope may read (district, or the population of their event),
    /// oldest first (by start, then id).
    fn quiz_sessions(&self, scope: &Scope) -> Result<Vec<StoredQuizSession>, StorageError>;

    /// Adds an event or replaces the one with its id, with `audit` in the same transaction.
    fn save_event(
        &self,
        event: &zhisu_protocol::OutreachEvent,
        entered_by: &str,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StorageError>;

    /// The events a scope may read (district, or the event's population), by date then id.
    fn events(&self, scope: &Scope) -> Result<Vec<StoredEvent>, StorageError>;

    /// One event by id, whatever its district.
    fn event(&self, id: Uuid) -> Result<Option<StoredEvent>, StorageError>;

    /// Deletes an event recorded by mistake, with `audit` in the same transaction, unless a
    /// stored quiz session names it (then it is kept and the sessions are counted).
    fn delete_event(&self, id: Uuid, audit: &AuditEntry) -> Result<EventDeletion, StorageError>;
}

/// People and their sessions.
pub trait PeopleStore {
    /// Adds a person; false when the username is taken.
    fn add_person(
        &self,
        person: &Person,
        password_hash: &str,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError>;

    /// A person and their password hash, by username (disabled people are not found).
    fn person_for_login(&self, username: &str) -> Result<Option<(Person, String)>, StorageError>;

    /// Opens a session (a sign-in), with its audit entry in the same transaction.
    fn add_session(
        &self,
        token_hash: &str,
        person: Uuid,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StorageError>;

    /// Counts a sign-in attempt for the username with this [`people::sign_in_key`] at `now`
    /// (as wrong, until [`sign_in_succeeded`](Self::sign_in_succeeded)), atomically: a burst of
    /// attempts, from one process or several, gets no more tries than attempts one after
    /// another. `Ok(Err(wait))` while sign-in for it pauses (nothing counted). Forgets counts a
    /// day old.
    fn begin_sign_in(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(), chrono::Duration>, StorageError>;

    /// The attempt was right: the username's count starts again.
    fn sign_in_succeeded(&self, key: &str) -> Result<(), StorageError>;

    /// How long sign-in for the username still pauses at `now`.
    fn sign_in_pause(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<chrono::Duration>, StorageError>;

    /// The person of a live session: not expired, not ended.
    fn session_person(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Person>, StorageError>;

    /// Ends a session (a sign-out), with its audit entry in the same transaction when a live
    /// session ended.
    fn end_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StorageError>;

    /// Everyone, disabled people included (with when they were disabled), by username.
    fn people(&self) -> Result<Vec<ListedPerson>, StorageError>;

    /// Disables (`Some(when)`) or enables again (`None`) a person. Disabling ends every session
    /// of theirs (enabling them again revives none). False when there is no such username.
    fn set_person_disabled(
        &self,
        username: &str,
        disabled_at: Option<DateTime<Utc>>,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError>;
}

/// Enrolment codes and enrolled devices.
pub trait DeviceStore {
    /// Keeps a new one-time enrolment code (its hash) for a round and district.
    fn add_enrolment_code(
        &self,
        code_hash: &str,
        round: &str,
        district: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
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
    fn revoke_device(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError>;

    fn devices(&self) -> Result<Vec<Device>, StorageError>;

    fn device(&self, id: Uuid) -> Result<Option<Device>, StorageError>;

    /// Notes how many interviews a device says are waiting on it (shown on the dashboard).
    fn note_pending(&self, device: Uuid, pending: u32) -> Result<(), StorageError>;
}

/// The sample plan: sites of each district, the settings of each round, published questionnaire versions.
pub trait PlanStore {
    /// Replaces the sites (and quotas) of one district.
    fn replace_sites(
        &self,
        district: &str,
        sites: &[zhisu_protocol::Site],
        audit: &AuditEntry,
    ) -> Result<(), StorageError>;

    fn sites(&self, district: &str) -> Result<Vec<zhisu_protocol::Site>, StorageError>;

    /// Every site of every district (the progress view's quotas).
    fn all_sites(&self) -> Result<Vec<zhisu_protocol::Site>, StorageError>;

    /// The settings of a round, when an administrator set them.
    fn round_settings(
        &self,
        round: &str,
    ) -> Result<Option<zhisu_protocol::RoundSettings>, StorageError>;

    fn set_round_settings(
        &self,
        round: &str,
        settings: &zhisu_protocol::RoundSettings,
        audit: &AuditEntry,
    ) -> Result<(), StorageError>;

    /// Keeps a published questionnaire version; false when the id and version are taken.
    fn publish_questionnaire(
        &self,
        record: &PublishedRecord,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError>;

    fn published_questionnaires(&self) -> Result<Vec<PublishedRecord>, StorageError>;

    /// The reference levels and targets of one questionnaire (every one with `None`), by
    /// questionnaire, round, measure, kind and year.
    fn reference_levels(
        &self,
        questionnaire_id: Option<&str>,
    ) -> Result<Vec<ReferenceLevel>, StorageError>;

    /// Keeps a reference level, replacing the one with its id (an edit), with the audit entry.
    fn put_reference_level(
        &self,
        level: &ReferenceLevel,
        audit: &AuditEntry,
    ) -> Result<(), StorageError>;

    /// Removes a reference level; false, and nothing audited, when there is none with this id.
    fn delete_reference_level(&self, id: Uuid, audit: &AuditEntry) -> Result<bool, StorageError>;
}

/// A recording as the server keeps it: its place in a questionnaire version and its content
/// (the bytes are kept once per SHA-256, however many places use them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRecording {
    pub questionnaire_id: String,
    pub version: String,
    pub item_id: String,
    /// Empty for the question itself.
    pub option: String,
    pub sha256: String,
    pub size: u64,
    /// `wav`, `ogg`, `webm`, `mp3` or `m4a` (`zhisu_protocol::AudioKind::name`).
    pub kind: String,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
}

/// Recordings of questionnaires read aloud, content-addressed by SHA-256.
pub trait MediaStore {
    /// Keeps `bytes` (once per `recording.sha256`) and makes them the recording of its place,
    /// replacing the one there before, with the audit entry, in one transaction.
    fn put_recording(
        &self,
        recording: &StoredRecording,
        bytes: &[u8],
        audit: &AuditEntry,
    ) -> Result<(), StorageError>;

    /// The recordings of one questionnaire version, or of every version with `None`.
    fn recordings(
        &self,
        questionnaire: Option<(&str, &str)>,
    ) -> Result<Vec<StoredRecording>, StorageError>;

    /// The bytes with this SHA-256 and their kind, when kept.
    fn media(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, StorageError>;
}

/// An app package a city administrator uploaded for tablets to update themselves (issue 22),
/// without its bytes. The server keeps it as it came: only the tablets can verify the
/// signature (`zhisu_protocol::update`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPackage {
    /// Given by the database when stored (ignored by [`PackageStore::put_package`]).
    pub id: i64,
    pub version: String,
    /// One of `zhisu_protocol::update::PLATFORMS`.
    pub platform: String,
    pub size: u64,
    /// Lowercase hex, computed by the server from the bytes it received.
    pub sha256: String,
    /// Base64 of the release signature, as uploaded.
    pub signature: String,
    pub notes_zh: String,
    pub notes_en: String,
    pub uploaded_at: DateTime<Utc>,
    pub uploaded_by: String,
}

/// App packages for tablets, one per platform and version.
pub trait PackageStore {
    /// Keeps the package and its bytes with the audit entry in one transaction, and returns
    /// its id; `None` (nothing stored, no entry) when its platform already has this version.
    fn put_package(
        &self,
        package: &StoredPackage,
        bytes: &[u8],
        audit: &AuditEntry,
    ) -> Result<Option<i64>, StorageError>;

    /// Every package without its bytes, the newest upload first.
    fn packages(&self) -> Result<Vec<StoredPackage>, StorageError>;

    /// The bytes of one package, when kept.
    fn package_bytes(&self, id: i64) -> Result<Option<Vec<u8>>, StorageError>;
}

/// What the analyses read: facts of interviews, literacy and progress cells.
pub trait AnalyticsStore {
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
    /// interview ([`cells`]), with the sample-plan fields of its site. The cells count
    /// exactly what [`visit_facts`](Self::visit_facts) visits, whatever the scope: the caller
    /// applies the scope.
    fn visit_cells(
        &self,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(&cells::CellRow<'_>),
    ) -> Result<(), StorageError>;

    /// Calls `visit` with every item cell of `questionnaire_id` ([`cells`]): per version,
    /// district, site and population, how many of the interviews
    /// [`visit_facts`](Self::visit_facts) visits were asked each scored item and answered it
    /// correctly, whatever the scope (the caller applies it). A cell whose interviews are all
    /// gone may remain with counts of 0.
    fn visit_item_cells(
        &self,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(&cells::ItemCellRow<'_>),
    ) -> Result<(), StorageError>;

    /// Counts the literacy, progress and item cells again from the stored interviews, in one
    /// transaction (after a bulk load that bypassed [`ingest`](Self::ingest); the schema
    /// migration that added the item cells does the same). The audit entry is written in the
    /// same transaction.
    fn rebuild_cells(&self, audit: &AuditEntry) -> Result<(), StorageError>;

    /// Calls `visit` with the facts of every stored interview of `questionnaire_id`, whatever
    /// the scope (the caller applies it), except those rejected in review, each with the round
    /// of the device that sent it (`None` for an interview without a device: a backup
    /// imported by hand). What the comparison of rounds reads.
    fn visit_facts_with_round(
        &self,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(Option<&str>, &FactRow<'_>),
    ) -> Result<(), StorageError>;

    /// Interviews per district, site, population and local day of completion (rejected ones
    /// left out), for the progress view.
    fn progress(&self, scope: &Scope) -> Result<Vec<ProgressCell>, StorageError>;

    /// When each interview at a site with time-slot quotas was started, with the device's
    /// offset from UTC (issue #15: [`zhisu_protocol::TimeSlot::contains`] places it): every
    /// questionnaire, rejected ones left out, within `scope`, in no particular order.
    fn slot_starts(&self, scope: &Scope) -> Result<Vec<InterviewStart>, StorageError>;
}

/// When an interview at a site was started ([`AnalyticsStore::slot_starts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterviewStart {
    pub district: String,
    pub site_id: String,
    pub started_at: DateTime<Utc>,
    pub utc_offset_minutes: i32,
}

/// The audit log of administrative actions.
pub trait AuditStore {
    fn record_audit(&self, entry: &AuditEntry) -> Result<(), StorageError>;

    /// The newest `limit` entries, newest first.
    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StorageError>;
}

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
    /// [`Facts::more`]: the keys of employer size, ownership, employment form, migrant status,
    /// travel direction.
    pub more: [Option<&'a str>; 5],
    /// [`Facts::modules`]: per population module of the version, `1`, `0` or `-`; empty while
    /// the interview awaits these facts (stored before schema 13, until the backfill).
    pub modules: &'a str,
    /// [`Facts::measures`]: per measured item of the version, `1`, `0` or `-` (empty likewise).
    pub measures: &'a str,
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
