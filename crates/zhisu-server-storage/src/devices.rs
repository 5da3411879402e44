//! Enrolled devices and the audit log, as the storage keeps them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An enrolled device as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub id: Uuid,
    pub name: String,
    pub round: String,
    pub district: String,
    pub enrolled_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Interviews waiting on the device to be sent, as it said at its last sync.
    #[serde(default)]
    pub pending: Option<u32>,
}

/// Why an enrolment code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnrolRefusal {
    #[error("this enrolment code is not known; check it with the administrator")]
    Unknown,
    #[error("this enrolment code was already used; ask the administrator for a new one")]
    Used,
    #[error("this enrolment code has expired; ask the administrator for a new one")]
    Expired,
}

/// One administrative action, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

impl AuditEntry {
    /// An entry for an action taken now.
    pub fn now(actor: &str, action: &str, detail: impl Into<String>) -> Self {
        AuditEntry {
            at: Utc::now(),
            actor: actor.to_string(),
            action: action.to_string(),
            detail: detail.into(),
        }
    }
}
