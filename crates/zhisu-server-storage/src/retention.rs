//! How long the server keeps what expires (`docs/privacy.md`): the cut-offs a purge applies and
//! what it removed. The service decides the cut-offs from the configuration; the backends
//! delete in one transaction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Everything older than these instants goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    /// Sessions that expired or were ended before this.
    pub sessions: DateTime<Utc>,
    /// Sign-in attempt counts last touched before this (and no longer pausing).
    pub sign_in_attempts: DateTime<Utc>,
    /// Enrolment codes that expired before this (used or not).
    pub enrolment_codes: DateTime<Utc>,
    /// Audit entries written before this; `None` keeps the audit log whole.
    pub audit: Option<DateTime<Utc>>,
    /// Re-contact details whose own `delete_after` is before this (the purge's "now").
    pub recontact: DateTime<Utc>,
}

/// How many rows a purge removed, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purged {
    pub sessions: u64,
    pub sign_in_attempts: u64,
    pub enrolment_codes: u64,
    pub audit_entries: u64,
    pub recontact_details: u64,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.sessions
            + self.sign_in_attempts
            + self.enrolment_codes
            + self.audit_entries
            + self.recontact_details
    }
}

impl std::fmt::Display for Purged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} sessions, {} sign-in attempt counts, {} enrolment codes, {} audit entries, {} re-contact details",
            self.sessions,
            self.sign_in_attempts,
            self.enrolment_codes,
            self.audit_entries,
            self.recontact_details
        )
    }
}

/// How to reach a respondent again for a back-check (复核), kept apart from the answers: given
/// only after a yes to the separate re-contact consent question, never in an export or the
/// interview list, read only through [`crate::InterviewStore::recontact`] (each read audited),
/// deleted after `delete_after` by the purge (the round's end plus the configured period) or
/// with its interview when that is erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecontactDetails {
    pub interview_id: uuid::Uuid,
    /// How to reach them, as the respondent gave it (a phone number).
    pub contact: String,
    /// The version of the re-contact consent text they agreed to.
    pub consent_text_version: String,
    pub stored_at: DateTime<Utc>,
    pub delete_after: DateTime<Utc>,
}

/// A stored interview as the upload of its re-contact details needs it
/// ([`crate::InterviewStore::recontact_target`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecontactTarget {
    /// The device that sent the interview (`None` for one imported from a backup file).
    pub device_id: Option<uuid::Uuid>,
    /// Re-contact details are kept for it already.
    pub kept: bool,
}
