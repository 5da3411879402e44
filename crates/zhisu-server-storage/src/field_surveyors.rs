//! Surveyors managed on the server (issue 15): the field people of a district, made and retired
//! by the district's staff, delivered to the district's tablets. The PIN is kept only as the
//! verifier tablets receive (Argon2id, its own salt); a surveyor has no password for the server.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AuditEntry, StorageError};

/// One surveyor as the server keeps them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSurveyor {
    /// Stable, never reused (`zhisu_protocol::surveyors`).
    pub id: String,
    pub district: String,
    pub name: String,
    /// Argon2id of the PIN as a PHC string, what tablets check the PIN against.
    pub pin_verifier: String,
    /// The username of who made them.
    pub added_by: String,
    pub added_at: DateTime<Utc>,
    /// When the PIN was last set (at creation, then at each reset).
    pub pin_set_at: DateTime<Utc>,
    /// When they were retired; a retired surveyor is delivered to no tablet.
    pub retired_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for FieldSurveyor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldSurveyor")
            .field("id", &self.id)
            .field("district", &self.district)
            .field("name", &self.name)
            .field("pin_verifier", &"[redacted]")
            .field("added_by", &self.added_by)
            .field("added_at", &self.added_at)
            .field("pin_set_at", &self.pin_set_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

impl FieldSurveyor {
    /// As a tablet receives them.
    pub fn delivered(&self) -> zhisu_protocol::surveyors::DeliveredSurveyor {
        zhisu_protocol::surveyors::DeliveredSurveyor {
            id: self.id.clone(),
            name: self.name.clone(),
            pin_verifier: self.pin_verifier.clone(),
        }
    }
}

/// Surveyors managed on the server. Every change carries its audit entry, written in the same
/// transaction and only when something changed.
pub trait FieldSurveyorStore {
    /// Adds a surveyor; false when the id is taken (retired ones included: ids are never reused).
    fn add_field_surveyor(
        &self,
        surveyor: &FieldSurveyor,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError>;

    /// Sets a new PIN verifier for an active surveyor; false when there is no active surveyor
    /// with this id.
    fn set_field_surveyor_pin(
        &self,
        id: &str,
        pin_verifier: &str,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError>;

    /// Retires an active surveyor; false when there is no active surveyor with this id.
    fn retire_field_surveyor(
        &self,
        id: &str,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError>;

    /// The surveyors of `district` (every district when `None`), retired ones included, by
    /// district then id.
    fn field_surveyors(&self, district: Option<&str>) -> Result<Vec<FieldSurveyor>, StorageError>;

    /// One surveyor by id, whatever their district.
    fn field_surveyor(&self, id: &str) -> Result<Option<FieldSurveyor>, StorageError>;
}
