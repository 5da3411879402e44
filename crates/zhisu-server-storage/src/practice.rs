//! Practice interviews of surveyor training (issue 24), as the server keeps them: in a table of
//! their own, apart from the survey's interviews, so that no reader of the survey (estimates,
//! cells, facts, progress, quotas, quality control, exports, reports) can count one by mistake.
//! Stored exactly once by id and content hash like interviews; only what the trainees' record
//! shows is kept (who, where, when, how long, the quality flags, the score), not the answers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_core::{QcFlag, ScoreReport};
use zhisu_protocol::CompletedInterview;

/// A practice interview accepted for storage: checked and re-scored against its questionnaire
/// version like a survey interview, with the quality flags the server's quality control would
/// raise on a real one.
#[derive(Debug, Clone)]
pub struct AcceptedPractice {
    pub interview: CompletedInterview,
    pub score: ScoreReport,
    /// The core's paradata flags under the round's thresholds, as computed at ingest.
    pub flags: Vec<QcFlag>,
    /// The respondent's key population (the `population` answer), for the scope rule.
    pub population: Option<String>,
}

/// A stored practice interview, as the trainees' record reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PracticeInterview {
    pub id: Uuid,
    pub questionnaire_id: String,
    pub questionnaire_version: String,
    /// The device that sent it (none for a backup imported by hand).
    pub device_id: Option<Uuid>,
    /// The district of the device that sent it.
    pub district: Option<String>,
    pub site_id: Option<String>,
    pub surveyor_id: Option<String>,
    pub population: Option<String>,
    pub started_at: DateTime<Utc>,
    pub completed_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// How long it took by the device's paradata (else from its times), in seconds.
    pub duration_s: i64,
    pub score: i64,
    pub max_score: i64,
    pub flags: Vec<QcFlag>,
}

/// Real (survey) interviews of one surveyor in one district: how many and the first one's
/// completion, so the trainees' record can tell who started fieldwork without practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyorStart {
    pub district: Option<String>,
    pub surveyor_id: Option<String>,
    pub interviews: u64,
    pub first_completed_at: DateTime<Utc>,
}

impl AcceptedPractice {
    /// Its duration in seconds: the paradata's, else completed minus started (never negative).
    pub fn duration_s(&self) -> i64 {
        let i = &self.interview;
        i.paradata
            .as_ref()
            .filter(|p| p.duration_ms > 0)
            .map(|p| (p.duration_ms / 1000) as i64)
            .unwrap_or_else(|| (i.completed_at - i.started_at).num_seconds())
            .max(0)
    }
}

/// Practice interviews: stored apart, read for the trainees' record.
pub trait PracticeStore {
    /// Stores the accepted practice interviews of one batch in one transaction, a receipt for
    /// each in order: stored, already stored (same id and content hash) or conflict (same id,
    /// other content, or the id of a stored survey interview or contact). On error nothing of
    /// them is stored.
    fn ingest_practice(
        &self,
        accepted: &[AcceptedPractice],
        device: Option<&crate::Device>,
        now: DateTime<Utc>,
    ) -> Result<Vec<zhisu_protocol::Receipt>, crate::StorageError>;

    /// The stored practice interviews `scope` may read (district, or the practice
    /// respondent's population), by district, surveyor and completion.
    fn practice_interviews(
        &self,
        scope: &crate::Scope,
    ) -> Result<Vec<PracticeInterview>, crate::StorageError>;

    /// Those of `ids` stored as practice interviews (a survey upload with such an id is a
    /// conflict).
    fn practice_ids(&self, ids: &[Uuid]) -> Result<Vec<Uuid>, crate::StorageError>;

    /// The survey interviews of `scope` per district and surveyor: how many, and when the
    /// first was completed.
    fn surveyor_starts(
        &self,
        scope: &crate::Scope,
    ) -> Result<Vec<SurveyorStart>, crate::StorageError>;
}
