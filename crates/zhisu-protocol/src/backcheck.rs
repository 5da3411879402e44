//! Back-checks (复核, issue 15) on the tablets: the open tasks of the device's district and
//! round delivered with the assignment (what to re-ask and how to reach the respondent, never
//! the interview's answers), and the results uploaded to
//! [`BACKCHECKS_PATH`](crate::BACKCHECKS_PATH) with the same receipts as interviews (a receipt's
//! `interview_id` is the task's id). Protocol v1 addition (`docs/sync-protocol.md`, "Back-checks").

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_core::Answers;

/// Most results one upload may carry.
pub const MAX_BACKCHECK_BATCH: usize = 100;

/// One back-check a surveyor of the district may do: every surveyor but `original_surveyor`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackcheckAssignment {
    pub id: Uuid,
    pub questionnaire_id: String,
    pub questionnaire_version: String,
    /// The items to re-ask, by id, in the questionnaire's order.
    pub items: Vec<String>,
    /// The surveyor of the interview checked (who may not do this back-check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_surveyor: Option<String>,
    /// How to reach the respondent, as they gave it when they agreed to be re-contacted.
    pub contact: String,
}

/// A back-check done on a tablet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackcheckOutcome {
    pub task_id: Uuid,
    /// The surveyor who re-asked (signed in on the tablet).
    pub surveyor_id: String,
    /// The respondent was reached; when not, `answers` is empty.
    pub reached: bool,
    #[serde(default)]
    pub answers: Answers,
    pub completed_at: DateTime<Utc>,
}

/// `POST /api/v1/backchecks` (→ [`crate::UploadResponse`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackcheckUpload {
    pub results: Vec<BackcheckOutcome>,
}
