//! Contacts that did not end in a completed interview (protocol v1 addition): a partial
//! interview, a refusal, a respondent screened out, or not reached/other. Uploaded in the same
//! request as completed interviews (`contacts` beside `interviews`), with the same receipts:
//! the id is the interview's, made on the device when the contact was opened, and the content
//! hash makes a re-send `already_stored` (`docs/sync-protocol.md`, "Contact outcomes").

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_core::Disposition;

use crate::content_hash::canonical_timestamp;
use crate::limits::{check_id, check_string, check_time, check_utc_offset, FieldProblem};
use crate::sha256_hex;

/// Longest reason a surveyor may give (characters).
pub const MAX_REASON_CHARS: usize = 500;
/// Most screening items one not-eligible contact may name.
pub const MAX_EXCLUDED_BY: usize = 16;

/// How one contact ended, other than with a completed interview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactOutcome {
    /// The interview's id on the device (a UUID made when the contact was opened).
    pub id: Uuid,
    pub questionnaire_id: String,
    pub questionnaire_version: String,
    pub started_at: DateTime<Utc>,
    /// When the surveyor closed the contact.
    pub ended_at: DateTime<Utc>,
    pub utc_offset_minutes: i32,
    /// `partial`, `refused`, `not_eligible` or `other` (never `completed`: a completed
    /// interview is uploaded as one).
    pub disposition: Disposition,
    /// The surveyor's reason: required for `partial` and `other`, optional for `refused`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Items answered before the contact ended (for `partial`: broke off after N items).
    #[serde(default)]
    pub items_answered: u32,
    /// For `not_eligible`: the screening items whose answers excluded the respondent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surveyor_id: Option<String>,
    /// The respondent's key population, when it was answered before the contact ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<String>,
    pub content_hash: String,
}

#[derive(Serialize)]
struct CanonicalContact<'a> {
    id: &'a Uuid,
    questionnaire_id: &'a str,
    questionnaire_version: &'a str,
    started_at: String,
    ended_at: String,
    utc_offset_minutes: i32,
    disposition: Disposition,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    items_answered: u32,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    excluded_by: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    site_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    surveyor_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    population: Option<&'a str>,
}

impl ContactOutcome {
    /// RFC 8785 JSON of every field but `content_hash`, timestamps as
    /// [`canonical_timestamp`] writes them (the interview's canonical rule).
    pub fn canonical_form(&self) -> String {
        let content = CanonicalContact {
            id: &self.id,
            questionnaire_id: &self.questionnaire_id,
            questionnaire_version: &self.questionnaire_version,
            started_at: canonical_timestamp(&self.started_at),
            ended_at: canonical_timestamp(&self.ended_at),
            utc_offset_minutes: self.utc_offset_minutes,
            disposition: self.disposition,
            reason: self.reason.as_deref(),
            items_answered: self.items_answered,
            excluded_by: &self.excluded_by,
            site_id: self.site_id.as_deref(),
            surveyor_id: self.surveyor_id.as_deref(),
            population: self.population.as_deref(),
        };
        crate::canonical::to_string(&content).expect("a contact has a canonical form")
    }

    /// `sha256:` and the hex SHA-256 of [`Self::canonical_form`].
    pub fn compute_hash(&self) -> String {
        sha256_hex(self.canonical_form().as_bytes())
    }

    pub fn sealed(mut self) -> Self {
        self.content_hash = self.compute_hash();
        self
    }

    pub fn hash_is_valid(&self) -> bool {
        self.content_hash == self.compute_hash()
    }

    /// Every field that breaks a limit or the rules of its disposition (empty: it may be read).
    pub fn field_problems(&self) -> Vec<FieldProblem> {
        let mut problems = Vec::new();
        check_id(&mut problems, "questionnaire_id", &self.questionnaire_id);
        check_string(
            &mut problems,
            || "questionnaire_version".into(),
            &self.questionnaire_version,
            crate::limits::MAX_VERSION_CHARS,
            false,
        );
        for (field, value) in [
            ("site_id", &self.site_id),
            ("surveyor_id", &self.surveyor_id),
            ("population", &self.population),
        ] {
            if let Some(value) = value {
                check_id(&mut problems, field, value);
            }
        }
        check_time(&mut problems, "started_at", self.started_at);
        check_time(&mut problems, "ended_at", self.ended_at);
        check_utc_offset(&mut problems, self.utc_offset_minutes);
        if let Some(reason) = &self.reason {
            check_string(
                &mut problems,
                || "reason".into(),
                reason,
                MAX_REASON_CHARS,
                true,
            );
        }
        if self.excluded_by.len() > MAX_EXCLUDED_BY {
            problems.push(FieldProblem {
                field: "excluded_by".into(),
                problem: format!("more than {MAX_EXCLUDED_BY} items"),
            });
        }
        for item in &self.excluded_by {
            check_id(&mut problems, "excluded_by", item);
        }
        let reason_given = self.reason.as_deref().is_some_and(|r| !r.trim().is_empty());
        let mut wrong = |problem: &str| {
            problems.push(FieldProblem {
                field: "disposition".into(),
                problem: problem.into(),
            })
        };
        match self.disposition {
            Disposition::Completed => {
                wrong("a completed interview is uploaded under `interviews`, not as a contact")
            }
            Disposition::Partial | Disposition::Other if !reason_given => {
                wrong("a partial interview and a contact not reached need a reason")
            }
            Disposition::NotEligible if self.excluded_by.is_empty() => wrong(
                "a contact not eligible names the screening items that excluded it (`excluded_by`)",
            ),
            _ => {}
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn contact(disposition: Disposition, reason: Option<&str>) -> ContactOutcome {
        ContactOutcome {
            id: Uuid::from_u128(7),
            questionnaire_id: "ohl_2026".into(),
            questionnaire_version: "2026.2".into(),
            started_at: Utc.with_ymd_and_hms(2026, 11, 29, 1, 0, 0).unwrap(),
            ended_at: Utc.with_ymd_and_hms(2026, 11, 29, 1, 2, 0).unwrap(),
            utc_offset_minutes: 480,
            disposition,
            reason: reason.map(str::to_string),
            items_answered: 0,
            excluded_by: Vec::new(),
            site_id: None,
            surveyor_id: None,
            population: None,
            content_hash: String::new(),
        }
        .sealed()
    }

    #[test]
    fn a_contact_is_hashed_over_its_canonical_form_and_survives_the_wire() {
        let c = contact(Disposition::Refused, None);
        assert_eq!(
            c.canonical_form(),
            r#"{"disposition":"refused","ended_at":"2026-11-29T01:02:00Z","id":"00000000-0000-0000-0000-000000000007","items_answered":0,"questionnaire_id":"ohl_2026","questionnaire_version":"2026.2","started_at":"2026-11-29T01:00:00Z","utc_offset_minutes":480}"#
        );
        assert!(c.hash_is_valid());
        let back: ContactOutcome =
            serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        assert!(back.hash_is_valid());
        let mut changed = c.clone();
        changed.reason = Some("忙".into());
        assert!(
            !changed.hash_is_valid(),
            "the reason is covered by the hash"
        );
        // a request without contacts is written as before: old servers read it unchanged
        let request = crate::UploadRequest {
            interviews: Vec::new(),
            contacts: Vec::new(),
            sealed: Vec::new(),
        };
        assert_eq!(
            serde_json::to_string(&request).unwrap(),
            r#"{"interviews":[]}"#
        );
        let old: crate::UploadRequest = serde_json::from_str(r#"{"interviews":[]}"#).unwrap();
        assert!(old.contacts.is_empty());
    }

    #[test]
    fn each_disposition_carries_what_it_needs() {
        let fields = |c: &ContactOutcome| -> Vec<String> {
            c.field_problems().iter().map(|p| p.field.clone()).collect()
        };
        assert!(fields(&contact(Disposition::Refused, None)).is_empty());
        assert_eq!(
            fields(&contact(Disposition::Partial, None)),
            ["disposition"]
        );
        assert_eq!(
            fields(&contact(Disposition::Other, Some("  "))),
            ["disposition"]
        );
        assert!(fields(&contact(Disposition::Other, Some("没遇到人"))).is_empty());
        assert_eq!(
            fields(&contact(Disposition::NotEligible, None)),
            ["disposition"]
        );
        assert_eq!(
            fields(&contact(Disposition::Completed, None)),
            ["disposition"]
        );
        let mut long = contact(
            Disposition::Refused,
            Some(&"很".repeat(MAX_REASON_CHARS + 1)),
        );
        long.surveyor_id = Some(String::new());
        assert_eq!(fields(&long), ["surveyor_id", "reason"]);
    }
}
