//! `check-data`: finds stored interviews that today's upload would refuse or flag (stored
//! before the protocol's limits, or written by another tool): fields beyond the limits,
//! answers that do not fit the questionnaire, a device clock that looks wrong. Each one found
//! is flagged for quality review (`QcFlag::StoredDataProblem`), so the QC page lists it; the
//! views never fail on it either way (each is total over what the database can hold).

use chrono::{DateTime, Utc};
use uuid::Uuid;
use zhisu_core::QcFlag;

use crate::storage::{AuditEntry, Scope, StoredInterview};
use crate::{ServerState, StorageError};

/// One stored interview and what is wrong with it, in plain words (English: the command is
/// for administrators; the QC page describes the flag in the viewer's language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataProblem {
    pub interview_id: Uuid,
    pub received_at: DateTime<Utc>,
    pub problems: Vec<String>,
}

/// Longest problem text kept in a flag (a problem quotes no device text beyond this).
const MAX_PROBLEM_CHARS: usize = 300;

fn shortened(text: String) -> String {
    if text.chars().nth(MAX_PROBLEM_CHARS).is_some() {
        let mut short: String = text.chars().take(MAX_PROBLEM_CHARS).collect();
        short.push('…');
        short
    } else {
        text
    }
}

impl ServerState {
    /// What is wrong with one stored interview (empty: nothing).
    pub fn stored_problems(&self, stored: &StoredInterview) -> Vec<String> {
        let interview = &stored.interview;
        let mut problems: Vec<String> = zhisu_protocol::limits::field_problems(interview)
            .iter()
            .map(ToString::to_string)
            .collect();
        match self.questionnaires.get(
            &interview.questionnaire_id,
            &interview.questionnaire_version,
        ) {
            Some(published) => problems.extend(
                published
                    .questionnaire
                    .check_interview(&interview.answers)
                    .iter()
                    .map(ToString::to_string),
            ),
            None => problems.push(format!(
                "the server has no questionnaire {:?} version {:?}",
                interview.questionnaire_id, interview.questionnaire_version
            )),
        }
        if let Some(flag) = zhisu_protocol::limits::clock_problem(interview, stored.received_at) {
            problems.push(flag.describe("en"));
        }
        problems.into_iter().map(shortened).collect()
    }

    /// Every stored interview with a problem, oldest first. With `flag_as` (who runs the check,
    /// for the audit log), each one is also flagged for quality review so the QC page lists it:
    /// [`QcFlag::StoredDataProblem`] with the problems, and [`QcFlag::DeviceClock`] when its clock
    /// looks wrong, each added to the flags ingest gave it (a far-from-site or site-plan flag
    /// stays) with its audit entry in the same transaction. Nothing else of the interview
    /// changes: its facts and the counts stay as ingest made them.
    pub fn check_data(&self, flag_as: Option<&str>) -> Result<Vec<DataProblem>, StorageError> {
        let mut found = Vec::new();
        for stored in self.storage.interviews(&Scope::All)? {
            let problems = self.stored_problems(&stored);
            if problems.is_empty() {
                continue;
            }
            if let Some(actor) = flag_as {
                let id = stored.interview.id;
                let clock =
                    zhisu_protocol::limits::clock_problem(&stored.interview, stored.received_at);
                let flags = clock.into_iter().chain([QcFlag::StoredDataProblem {
                    problems: problems.clone(),
                }]);
                for flag in flags {
                    let audit = AuditEntry::now(
                        actor,
                        "flag_stored_data",
                        format!("interview {id}: {}", flag.code()),
                    );
                    self.storage.flag_for_review(id, &flag, &audit)?;
                }
            }
            found.push(DataProblem {
                interview_id: stored.interview.id,
                received_at: stored.received_at,
                problems,
            });
        }
        Ok(found)
    }
}
