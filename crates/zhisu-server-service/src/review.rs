//! Quality review: a reviewer's decision on one interview, kept with its audit entry in one
//! transaction (a rejected interview leaves every estimate at once, and the surveyor sees why
//! on the tablet at the next sync).

use chrono::Utc;
use uuid::Uuid;

use crate::people::Person;
use crate::storage::{AuditEntry, QcStatus, Review};
use crate::{ServerState, StorageError};

/// Why a review decision was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum ReviewRefusal {
    #[error("your role may not review interviews")]
    NotAllowed,
    #[error("a review decision is approved, has_issues or rejected")]
    UnknownDecision,
    #[error("say why when you reject an interview: the surveyor sees it on the tablet")]
    RejectionWithoutReason,
    #[error("no such interview within your scope")]
    NotFound,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServerState {
    /// Records `reviewer`'s decision (`approved`, `has_issues`, `rejected`) on interview `id`,
    /// with its audit entry in the same transaction. A rejection needs a comment.
    pub fn review(
        &self,
        reviewer: &Person,
        id: Uuid,
        decision: &str,
        comment: &str,
    ) -> Result<Review, ReviewRefusal> {
        if !reviewer.role.may_review() {
            return Err(ReviewRefusal::NotAllowed);
        }
        let status = QcStatus::parse(decision)
            .filter(|s| *s != QcStatus::Unreviewed)
            .ok_or(ReviewRefusal::UnknownDecision)?;
        let comment = comment.trim();
        if status == QcStatus::Rejected && comment.is_empty() {
            return Err(ReviewRefusal::RejectionWithoutReason);
        }
        let review = Review {
            status,
            comment: comment.to_string(),
            reviewer: reviewer.username.clone(),
            at: Utc::now(),
        };
        let audit = AuditEntry::now(
            &reviewer.username,
            "review_interview",
            format!("{id}: {} {}", status.as_str(), review.comment),
        );
        self.storage
            .review(&reviewer.role.scope(), id, &review, &audit)?
            .ok_or(ReviewRefusal::NotFound)?;
        Ok(review)
    }
}
