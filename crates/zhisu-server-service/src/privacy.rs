//! Personal data that must go (`docs/privacy.md`): one respondent's interview erased at their
//! request, and what expires purged by the retention rules. Both audited.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;
use zhisu_server_storage::{AuditEntry, Cutoffs, Purged, StorageError};

use zhisu_core::{BackgroundRole, ItemKind, Questionnaire};
use zhisu_protocol::CompletedInterview;
use zhisu_server_storage::Role;

use crate::ServerState;

/// How long what expires is kept. `docs/privacy.md` gives the reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Sessions after they expired or were ended (sign-ins stay in the audit log).
    pub session_days: u32,
    /// A username's count of wrong passwords after its last attempt (the pause it serves
    /// never exceeds fifteen minutes).
    pub sign_in_attempt_days: u32,
    /// Enrolment codes after they expired, used or not.
    pub enrolment_code_days: u32,
    /// Audit entries; `None` keeps the audit log whole. Never less than
    /// [`MIN_AUDIT_DAYS`].
    pub audit_days: Option<u32>,
    /// Re-contact details after the end of their round (time for the back-checks to finish).
    pub recontact_days: u32,
}

/// How long after their upload re-contact details of a round with no end date are taken to
/// wait for the round's end (then `recontact_days` more): about a quarter's fieldwork.
pub const UNDATED_ROUND_DAYS: i64 = 90;

/// Logs of a network service are kept at least six months (Cybersecurity Law of the PRC,
/// art. 21(3)): a shorter audit retention is raised to this.
pub const MIN_AUDIT_DAYS: u32 = 183;

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            session_days: 30,
            sign_in_attempt_days: 1,
            enrolment_code_days: 90,
            audit_days: Some(5 * 365),
            recontact_days: 30,
        }
    }
}

impl RetentionPolicy {
    /// The instants before which each kind goes, at `now`.
    pub fn cutoffs(&self, now: DateTime<Utc>) -> Cutoffs {
        let days = |d: u32| now - Duration::days(i64::from(d));
        Cutoffs {
            sessions: days(self.session_days),
            sign_in_attempts: days(self.sign_in_attempt_days.max(1)),
            enrolment_codes: days(self.enrolment_code_days),
            audit: self.audit_days.map(|d| days(d.max(MIN_AUDIT_DAYS))),
            recontact: now,
        }
    }
}

/// The consent item, its text version and the answer, as the facts keep them at ingest.
pub use zhisu_server_storage::facts::{consent_answer, consent_item, consent_text_version};

/// Who reads interview-level data minimised: department viewers (they need the answers by
/// population, not who gave them).
pub fn reads_minimised(role: &Role) -> bool {
    matches!(role, Role::DepartmentViewer { .. })
}

/// The items a minimised reader never sees: the respondent fingerprint's items that play no
/// background role (ethnicity, marital status, hukou, income, job, years of service…), which
/// together re-identify a worker at a site and no analysis breaks down by, and every free-text
/// item (what a respondent says in their own words can name them or their employer).
pub fn withheld_items(q: &Questionnaire) -> Vec<String> {
    let fingerprint: Vec<&str> = q.fingerprint_items().map(|item| item.id.as_str()).collect();
    q.items
        .iter()
        .filter(|item| {
            let plays_a_role = BackgroundRole::ALL
                .into_iter()
                .any(|role| q.background_item(role).is_some_and(|b| b.id == item.id));
            (fingerprint.contains(&item.id.as_str()) && !plays_a_role)
                || matches!(item.kind, ItemKind::Text { .. })
        })
        .map(|item| item.id.clone())
        .collect()
}

/// An interview as a minimised reader gets it: without the withheld items' answers, the
/// exact age (its band stays readable from the analyses), the surveyor and the paradata (which
/// holds where the interview was done).
pub fn minimise(interview: &mut CompletedInterview, q: Option<&Questionnaire>) {
    if let Some(q) = q {
        for id in withheld_items(q) {
            interview.answers.remove(&id);
        }
        if let Some(age) = q.background_item(BackgroundRole::Age) {
            interview.answers.remove(&age.id);
        }
    }
    interview.surveyor_id = None;
    interview.paradata = None;
}

impl ServerState {
    /// Records a read of interview-level data (who, what, in which scope, how many) in the
    /// audit log. A server started read-only on a full disk cannot write it: the read is then
    /// written to the server's log instead (and served: reading is what read-only serves).
    pub fn audit_read(&self, actor: &str, action: &str, detail: &str) -> Result<(), StorageError> {
        if let Some(why) = self.storage.read_only() {
            tracing::warn!(
                actor,
                action,
                detail,
                why,
                "read of interviews not in the audit log"
            );
            return Ok(());
        }
        self.audit(actor, action, detail)
    }

    /// Keeps how to re-contact the respondent of a stored interview for a back-check, apart
    /// from the answers, until the end of its round plus `policy.recontact_days`; audited. Only
    /// after the respondent agreed to be re-contacted: `consent_text_version` is the version of
    /// that question's text. False when no interview has this id. (The tablets' uploads reach
    /// it through [`Self::ingest_recontacts`].)
    pub fn keep_recontact(
        &self,
        id: Uuid,
        contact: &str,
        consent_text_version: &str,
        round_ends: DateTime<Utc>,
        policy: &RetentionPolicy,
        actor: &str,
    ) -> Result<bool, StorageError> {
        let now = Utc::now();
        let details = zhisu_server_storage::RecontactDetails {
            interview_id: id,
            contact: contact.to_string(),
            consent_text_version: consent_text_version.to_string(),
            stored_at: now,
            delete_after: round_ends + Duration::days(i64::from(policy.recontact_days)),
        };
        let audit = AuditEntry {
            at: now,
            actor: actor.to_string(),
            action: "put_recontact".to_string(),
            detail: format!(
                "interview {id}: re-contact details kept until {}",
                details.delete_after.format("%Y-%m-%d")
            ),
        };
        self.storage.put_recontact(&details, &audit)
    }

    /// Keeps the re-contact details a device uploaded (issue 15), a receipt for each in order
    /// (the receipt's `interview_id` is the interview's): `rejected` with `invalid_recontact`
    /// (the field named) for details that break a rule, with `not_found` for an interview
    /// this server does not hold from this device (another device's, another district's, one
    /// erased or not arrived: the tablet sends details only after the interview's receipt);
    /// `already_stored` when details are kept for it already (a receipt lost, a re-send:
    /// kept once, the first kept); else `stored` through [`Self::keep_recontact`] until the
    /// end of the device's round (its `ends_on`, or [`UNDATED_ROUND_DAYS`] after now when the
    /// round has no end date) plus `policy.recontact_days`.
    pub fn ingest_recontacts(
        &self,
        device: &zhisu_server_storage::Device,
        recontacts: &[zhisu_protocol::recontact::RecontactConsent],
        policy: &RetentionPolicy,
        now: DateTime<Utc>,
    ) -> Result<Vec<zhisu_protocol::Receipt>, StorageError> {
        use zhisu_protocol::{codes, Receipt, ReceiptStatus};
        let actor = format!("device {}", device.id);
        let round_ends = self
            .storage
            .round_settings(&device.round)?
            .and_then(|s| s.ends_on)
            .and_then(|d| d.succ_opt())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
            .unwrap_or_else(|| now + Duration::days(UNDATED_ROUND_DAYS));
        let refused = |id, code: &str, message: String| Receipt {
            interview_id: id,
            status: ReceiptStatus::Rejected,
            code: Some(code.to_string()),
            message: Some(message),
        };
        let mut receipts = Vec::with_capacity(recontacts.len());
        for r in recontacts {
            let id = r.interview_id;
            let problems = r.field_problems();
            if !problems.is_empty() {
                let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
                receipts.push(refused(id, codes::INVALID_RECONTACT, list.join("; ")));
                continue;
            }
            let target = self.storage.recontact_target(id)?;
            let Some(target) = target.filter(|t| t.device_id == Some(device.id)) else {
                receipts.push(refused(
                    id,
                    codes::NOT_FOUND,
                    format!("no interview {id} from this tablet on the server"),
                ));
                continue;
            };
            let status = if target.kept {
                ReceiptStatus::AlreadyStored
            } else if self.keep_recontact(
                id,
                &r.contact(),
                &r.consent_text_version,
                round_ends,
                policy,
                &actor,
            )? {
                ReceiptStatus::Stored
            } else {
                // erased between the two reads
                receipts.push(refused(
                    id,
                    codes::NOT_FOUND,
                    format!("no interview {id} from this tablet on the server"),
                ));
                continue;
            };
            receipts.push(zhisu_server_storage::rows::receipt(id, status));
        }
        Ok(receipts)
    }

    /// Erases one stored interview at its respondent's request (by interview id, which the
    /// surveyor's tablet shows the respondent at the end): the interview, its counts in every
    /// figure and its facts go in one transaction with the audit entry naming who asked and
    /// why; its id is kept so that it is never stored again. False when no interview has
    /// this id (nothing written).
    pub fn erase_interview(
        &self,
        id: Uuid,
        actor: &str,
        reason: &str,
    ) -> Result<bool, StorageError> {
        let now = Utc::now();
        let audit = AuditEntry {
            at: now,
            actor: actor.to_string(),
            action: "erase_interview".to_string(),
            detail: format!("interview {id}: {reason}"),
        };
        self.storage.erase_interview(id, now, &audit)
    }

    /// Deletes what has outlived `policy` at `now`, with an audit entry saying which rules
    /// applied (only when something went).
    pub fn purge_expired(
        &self,
        policy: &RetentionPolicy,
        now: DateTime<Utc>,
    ) -> Result<Purged, StorageError> {
        let audit = AuditEntry {
            at: now,
            actor: "server".to_string(),
            action: "purge_expired".to_string(),
            detail: format!(
                "retention: sessions {} d, sign-in counts {} d, enrolment codes {} d, re-contact details {} d after their round, audit {}",
                policy.session_days,
                policy.sign_in_attempt_days.max(1),
                policy.enrolment_code_days,
                policy.recontact_days,
                policy.audit_days.map_or("kept".to_string(), |d| format!(
                    "{} d",
                    d.max(MIN_AUDIT_DAYS)
                ))
            ),
        };
        self.storage.purge_expired(&policy.cutoffs(now), &audit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_cutoffs_are_the_kept_days_before_now_and_audit_keeps_six_months_at_least() {
        let now = Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, 0).unwrap();
        let policy = RetentionPolicy {
            session_days: 30,
            sign_in_attempt_days: 0,
            enrolment_code_days: 90,
            audit_days: Some(10),
            recontact_days: 30,
        };
        let c = policy.cutoffs(now);
        assert_eq!(
            c.sessions,
            Utc.with_ymd_and_hms(2026, 11, 5, 12, 0, 0).unwrap()
        );
        assert_eq!(
            c.sign_in_attempts,
            Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap()
        );
        assert_eq!(
            c.enrolment_codes,
            Utc.with_ymd_and_hms(2026, 9, 6, 12, 0, 0).unwrap()
        );
        assert_eq!(c.audit, Some(now - Duration::days(183)));
        let whole = RetentionPolicy {
            audit_days: None,
            ..policy
        };
        assert_eq!(whole.cutoffs(now).audit, None);
    }
}
