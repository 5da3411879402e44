//! Contacts that did not end in a completed interview, as the server keeps them (issue 15):
//! partial, refused, not eligible, not reached/other. Stored exactly once by id and content
//! hash, like interviews; read back as counts by district, site, surveyor, population and
//! disposition, within a scope.

use serde::{Deserialize, Serialize};
use zhisu_protocol::ContactOutcome;

/// A contact accepted for storage, with the district the plan counts it under.
#[derive(Debug, Clone)]
pub struct AcceptedContact {
    pub contact: ContactOutcome,
    /// The district of the contact's site in the sample plan when it is not the uploading
    /// device's (as [`crate::Accepted::site_district`]).
    pub site_district: Option<String>,
}

impl AcceptedContact {
    /// The district the contact is counted under (its site's, else the device's).
    pub fn district<'a>(&'a self, device: Option<&'a crate::Device>) -> Option<&'a str> {
        self.site_district
            .as_deref()
            .or(device.map(|d| d.district.as_str()))
    }
}

/// How many stored contacts share a district, site, surveyor, population and disposition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ContactCount {
    pub district: Option<String>,
    pub site_id: Option<String>,
    pub surveyor_id: Option<String>,
    pub population: Option<String>,
    /// `partial`, `refused`, `not_eligible` or `other`.
    pub disposition: String,
    pub count: u64,
}

/// One stored interview as the quality table reads it (issue 15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualityRow {
    pub district: Option<String>,
    pub site_id: Option<String>,
    pub surveyor_id: Option<String>,
    /// How long it took, in seconds, when the device measured it.
    pub duration_s: Option<i64>,
    /// It has at least one quality-control flag (too fast, straight-lining, many changes, far
    /// from its site, a clock that looks wrong, a site not in the plan…).
    pub flagged: bool,
    /// Its review state (`unreviewed`, `approved`, `has_issues`, `rejected`).
    pub qc_status: String,
}
