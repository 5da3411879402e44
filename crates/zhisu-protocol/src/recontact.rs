//! Re-contact details (复核, issue 15; protocol v1 addition): when the round has back-checks,
//! the tablet's feedback page asks the respondent whether a colleague may phone them once to
//! check a few answers. A yes, with the phone number and how to address them, is kept on the
//! tablet apart from the interview's answers (never in its payload or its content hash) and
//! uploaded once to [`RECONTACTS_PATH`](crate::RECONTACTS_PATH), only after the interview's
//! own receipt, with the same receipts as interviews (a receipt's `interview_id` is the
//! interview's). After the receipt the tablet deletes the number. A no is kept only on the
//! tablet: the server holds no details for that interview, so no back-check can draw it
//! (`docs/sync-protocol.md`, "Re-contact details").

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::limits::{check_string, check_time, FieldProblem, MAX_VERSION_CHARS};

/// Most re-contact details one upload may carry.
pub const MAX_RECONTACT_BATCH: usize = 100;
/// Largest body of an upload of re-contact details, in bytes (a full batch is about 20 KiB):
/// the server refuses a larger one unread (`413`).
pub const MAX_RECONTACT_UPLOAD_BYTES: usize = 64 * 1024;

/// A respondent's yes to being phoned once for a back-check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecontactConsent {
    /// The interview the respondent gave (already stored on the server).
    pub interview_id: Uuid,
    /// The number to call: digits only, as [`zhisu_core::normalize_phone`] leaves it (a
    /// mainland mobile number, or a landline with its area code).
    pub phone: String,
    /// How to address them (称呼, not a full name); empty when they gave none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub call_name: String,
    /// The version of the re-contact question's words they said yes to
    /// ([`zhisu_core::RECONTACT_TEXT_VERSION`]).
    pub consent_text_version: String,
    /// When they said yes (the tablet's clock).
    pub answered_at: DateTime<Utc>,
}

impl RecontactConsent {
    /// The fields that break a rule: a number that is not one a back-check can call (or not
    /// in its digits-only form), a form of address too long or with hidden characters, an
    /// empty or too long text version, a time no clock shows.
    pub fn field_problems(&self) -> Vec<FieldProblem> {
        let mut problems = Vec::new();
        match zhisu_core::normalize_phone(&self.phone) {
            Ok(digits) if digits == self.phone => {}
            Ok(_) => problems.push(FieldProblem {
                field: "phone".into(),
                problem: "send the digits only".into(),
            }),
            Err(e) => problems.push(FieldProblem {
                field: "phone".into(),
                problem: e.to_string(),
            }),
        }
        if zhisu_core::normalize_call_name(&self.call_name).as_deref()
            != Some(self.call_name.as_str())
        {
            problems.push(FieldProblem {
                field: "call_name".into(),
                problem: format!(
                    "at most {} characters, without spaces around it or hidden characters",
                    zhisu_core::MAX_CALL_NAME_CHARS
                ),
            });
        }
        if self.consent_text_version.is_empty() {
            problems.push(FieldProblem {
                field: "consent_text_version".into(),
                problem: "is empty".into(),
            });
        }
        check_string(
            &mut problems,
            || "consent_text_version".into(),
            &self.consent_text_version,
            MAX_VERSION_CHARS,
            false,
        );
        check_time(&mut problems, "answered_at", self.answered_at);
        problems
    }

    /// How the back-check reaches the respondent, as the server keeps it and the back-check
    /// screen and phone form show it: the number, and how to address them.
    pub fn contact(&self) -> String {
        zhisu_core::contact_line(&self.phone, &self.call_name)
    }
}

/// `POST /api/v1/recontacts` (→ [`crate::UploadResponse`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecontactUpload {
    pub recontacts: Vec<RecontactConsent>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consent() -> RecontactConsent {
        RecontactConsent {
            interview_id: Uuid::from_u128(15),
            phone: "13800001234".into(),
            call_name: "王师傅".into(),
            consent_text_version: zhisu_core::RECONTACT_TEXT_VERSION.into(),
            answered_at: "2026-12-06T02:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_recontact_upload_survives_the_wire_and_a_bad_phone_is_named() {
        let upload = RecontactUpload {
            recontacts: vec![consent()],
        };
        let json = serde_json::to_string(&upload).unwrap();
        assert_eq!(
            serde_json::from_str::<RecontactUpload>(&json).unwrap(),
            upload
        );
        assert!(consent().field_problems().is_empty());
        assert_eq!(consent().contact(), "13800001234（王师傅）");
        for (phone, why) in [
            ("1380000123", "11 digits"),
            ("138 0000 1234", "digits only"),
            ("", "phone number"),
            ("abc", "only digits"),
        ] {
            let mut bad = consent();
            bad.phone = phone.into();
            let problems = bad.field_problems();
            assert_eq!(problems.len(), 1, "{phone}: {problems:?}");
            assert_eq!(problems[0].field, "phone");
            assert!(problems[0].problem.contains(why), "{phone}: {problems:?}");
        }
        let mut bad = consent();
        bad.call_name = "王\u{200b}".into();
        bad.consent_text_version = String::new();
        bad.answered_at = "2200-01-01T00:00:00Z".parse().unwrap();
        let fields: Vec<String> = bad.field_problems().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            vec!["call_name", "consent_text_version", "answered_at"]
        );
    }

    /// Any bytes decode to an upload or to an error, never a panic; what decodes is checked
    /// without panicking and encodes back the same.
    #[test]
    fn decoding_a_recontact_upload_is_total() {
        let valid = serde_json::to_vec(&RecontactUpload {
            recontacts: vec![consent()],
        })
        .unwrap();
        // a small xorshift of its own (the protocol crate takes no test dependencies)
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut below = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let mut decoded = 0;
        for round in 0..4000 {
            let mut bytes = valid.clone();
            for _ in 0..=(round % 4) {
                let at = below(bytes.len() as u64) as usize;
                match below(3) {
                    0 => bytes[at] = below(256) as u8,
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, b"\"0{}[],:1e\\\xff"[below(12) as usize]),
                }
                if bytes.is_empty() {
                    break;
                }
            }
            if let Ok(upload) = serde_json::from_slice::<RecontactUpload>(&bytes) {
                decoded += 1;
                for r in &upload.recontacts {
                    let _ = r.field_problems();
                    let _ = r.contact();
                }
                let again = serde_json::to_vec(&upload).unwrap();
                assert_eq!(
                    serde_json::from_slice::<RecontactUpload>(&again).unwrap(),
                    upload
                );
            }
        }
        assert!(decoded > 0, "some mutations still decode");
        for bad in [&b""[..], b"null", b"{}", b"{\"recontacts\":7}", b"\xff\xfe"] {
            assert!(serde_json::from_slice::<RecontactUpload>(bad).is_err());
        }
    }
}
