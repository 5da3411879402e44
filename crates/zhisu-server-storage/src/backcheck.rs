//! Back-checks (复核, issue 15) as the server keeps them: each draw with its seed, the tasks it
//! drew (one per interview, never two) and each task's result, stored once by its content hash.
//! The answers re-asked are kept with the result; the re-contact details stay in `recontact`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_core::{Answers, BackcheckDifference};

/// An interview a draw may pick: stored, not rejected in review, with re-contact details (so
/// its respondent agreed to be re-contacted), of the round, and not drawn before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackcheckCandidate {
    pub interview_id: Uuid,
    pub district: Option<String>,
    pub surveyor_id: Option<String>,
    pub completed_at: DateTime<Utc>,
    pub questionnaire_id: String,
    pub questionnaire_version: String,
    /// The interview's answers (the draw keeps those of the items re-asked).
    pub answers: Answers,
}

/// One draw: who drew, when, with which seed, from how many candidates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackcheckDraw {
    pub id: Uuid,
    pub round: String,
    /// The district drawn for; `None` for the whole city.
    pub district: Option<String>,
    /// The seed (a decimal `u64`): the same seed and candidates give the same sample.
    pub seed: u64,
    pub drawn_at: DateTime<Utc>,
    pub drawn_by: String,
    pub candidates: u64,
    pub drawn: u64,
}

/// One interview drawn for a back-check: what to re-ask, never the interview's answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackcheckTask {
    pub id: Uuid,
    pub draw_id: Uuid,
    pub interview_id: Uuid,
    pub round: String,
    pub district: Option<String>,
    /// The surveyor of the interview: the back-check goes to another.
    pub original_surveyor: Option<String>,
    pub questionnaire_id: String,
    pub questionnaire_version: String,
    /// The items to re-ask, by id.
    pub items: Vec<String>,
    /// The interview's answers to them, kept on the server to compare a result with; never
    /// sent to a tablet or shown on the back-check form.
    pub original: Answers,
    pub drawn_at: DateTime<Utc>,
    pub result: Option<BackcheckResult>,
}

/// How a back-check came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackcheckResult {
    /// Who re-asked (a surveyor id from a tablet, or the dashboard user's name for a phone
    /// back-check).
    pub surveyor_id: String,
    /// `tablet` or `phone`.
    pub via: String,
    /// The respondent was reached (else nothing was compared).
    pub reached: bool,
    pub answers: Answers,
    /// Identifies the result: a re-send with the same hash is already stored, another is a
    /// conflict.
    pub content_hash: String,
    pub completed_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub agreed: u32,
    pub compared: u32,
    pub failed: bool,
    pub differences: Vec<BackcheckDifference>,
}

/// Back-checks: draws, tasks and results.
pub trait BackcheckStore {
    /// The interviews of `round` (by the round of the device that sent them) a draw may pick,
    /// in `district` when given: not rejected, with re-contact details, not drawn before; by id.
    fn backcheck_candidates(
        &self,
        round: &str,
        district: Option<&str>,
    ) -> Result<Vec<BackcheckCandidate>, crate::StorageError>;

    /// Stores a draw and its tasks with `audit` in one transaction. False, and nothing stored,
    /// when one of the tasks' interviews was drawn before (a draw made meanwhile).
    fn store_backcheck_draw(
        &self,
        draw: &BackcheckDraw,
        tasks: &[BackcheckTask],
        audit: &crate::AuditEntry,
    ) -> Result<bool, crate::StorageError>;

    /// The draws of a round, oldest first.
    fn backcheck_draws(&self, round: &str) -> Result<Vec<BackcheckDraw>, crate::StorageError>;

    /// The tasks `scope` may read (by their interview's district or population), oldest
    /// drawn first, with their results.
    fn backcheck_tasks(
        &self,
        scope: &crate::Scope,
    ) -> Result<Vec<BackcheckTask>, crate::StorageError>;

    /// One task by id, within `scope`.
    fn backcheck_task(
        &self,
        scope: &crate::Scope,
        id: Uuid,
    ) -> Result<Option<BackcheckTask>, crate::StorageError>;

    /// Stores a task's result once, with `audit` when stored: `Stored`; `AlreadyStored` when it
    /// holds a result with the same content hash; `Conflict` when another result; `None` when no
    /// task of `scope` has this id.
    fn record_backcheck_result(
        &self,
        scope: &crate::Scope,
        task: Uuid,
        result: &BackcheckResult,
        audit: &crate::AuditEntry,
    ) -> Result<Option<zhisu_protocol::ReceiptStatus>, crate::StorageError>;
}
