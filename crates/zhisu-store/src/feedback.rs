//! The feedback page after sealing (issue #18). Completing an interview seals its answers to the
//! round's key and deletes them from the tablet, so the feedback page, once left (by a crash, a
//! tap on "home", a respondent who comes back for the QR code), could never be shown again.
//! The device keeps the score summary that page shows and nothing of the answers: the score
//! report (scores per dimension and module, which scored items were right), whether the round
//! shows the answer key, what was offered (the take-home code, the library's pieces) and, for a
//! practice interview, its flags. Shown again, the page lists the wrong items with their right
//! answers but not what the respondent answered: that is sealed. It is kept in the `interview` row (migration 16) for
//! [`FEEDBACK_KEPT_HOURS`] after completion, then forgotten: at every completion and whenever
//! the app lists the interviews.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_core::{Answers, Questionnaire};

use zhisu_app_api::Completion;

use crate::{from_json, parse_timestamp, timestamp, DeviceStore, KeptFeedback, StoreError};

/// How long after completion the feedback page can be shown again.
pub const FEEDBACK_KEPT_HOURS: i64 = 24;

/// What the `feedback` column holds: the page as it was drawn (score, answer key shown, the
/// take-home code offered, the library pieces of the wrong answers), never an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Kept {
    completion: Completion,
}

impl Kept {
    pub(crate) fn of(
        questionnaire: &Questionnaire,
        answers: &Answers,
        show_answer_key: bool,
        offered: &crate::library::Offered,
        practice: bool,
        flags: Vec<zhisu_core::QcFlag>,
    ) -> Kept {
        let report = questionnaire.score(answers);
        Kept {
            completion: Completion {
                report,
                show_answer_key,
                take_home_qr: offered.take_home_qr,
                // pictures and recordings stay in the library (a page kept for a day need not
                // copy them): put back from it when the page is shown again
                pieces: offered
                    .view()
                    .into_iter()
                    .map(|p| zhisu_app_api::LibraryPiece {
                        picture: None,
                        audio_url: None,
                        ..p
                    })
                    .collect(),
                practice,
                flags,
                // decided when the page is drawn (`kept_feedback`)
                ask_recontact: false,
            },
        }
    }
}

fn cutoff(now: DateTime<Utc>) -> String {
    timestamp(now - Duration::hours(FEEDBACK_KEPT_HOURS))
}

/// Forgets the feedback of interviews completed more than a day before `now`.
pub(crate) fn forget_old(conn: &Connection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE interview SET feedback = NULL WHERE feedback IS NOT NULL AND completed_at < ?1",
        [cutoff(now)],
    )?)
}

impl DeviceStore {
    /// The feedback page of an interview completed on this tablet less than a day before `now`.
    /// [`StoreError::FeedbackGone`] when it is older, was completed before the page was kept,
    /// or is not completed; [`StoreError::UnknownInterview`] when there is no such interview.
    pub fn kept_feedback(&self, id: Uuid, now: DateTime<Utc>) -> Result<KeptFeedback, StoreError> {
        let row: Option<(Option<String>, Option<String>, Option<String>)> = self
            .conn
            .query_row(
                "SELECT feedback, completed_at, language FROM interview WHERE id = ?1",
                [id.to_string()],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        let (feedback, completed_at, language) = row.ok_or(StoreError::UnknownInterview(id))?;
        let (Some(feedback), Some(completed_at)) = (feedback, completed_at) else {
            return Err(StoreError::FeedbackGone(id));
        };
        if parse_timestamp(&completed_at)? < now - Duration::hours(FEEDBACK_KEPT_HOURS) {
            return Err(StoreError::FeedbackGone(id));
        }
        let mut kept: Kept = from_json(&feedback)?;
        let library = self.library()?;
        for piece in &mut kept.completion.pieces {
            if let Some(held) = library
                .iter()
                .find(|p| p.id == piece.id && p.version == piece.version)
            {
                let view = crate::library::piece_view(held);
                piece.picture = view.picture;
                piece.audio_url = view.audio_url;
            }
        }
        // asked while unanswered, whenever the page is drawn (again)
        kept.completion.ask_recontact = self.asks_recontact(id)?;
        Ok(KeptFeedback {
            completion: kept.completion,
            language,
        })
    }

    /// Forgets the feedback pages of interviews completed more than a day before `now`; how
    /// many were forgotten.
    pub fn forget_old_feedback(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        forget_old(&self.conn, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_compares_with_stored_timestamps_as_text() {
        let now = DateTime::parse_from_rfc3339("2026-12-05T10:00:00.000Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(cutoff(now), "2026-12-04T10:00:00.000Z");
        // the stored form sorts as time does, which the UPDATE relies on
        assert!(timestamp(now - Duration::hours(25)) < cutoff(now));
        assert!(timestamp(now - Duration::hours(23)) > cutoff(now));
    }
}
