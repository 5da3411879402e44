//! Outreach (issue 24, protocol v1 addition): health-education events that district staff
//! record on the server and deliver to their district's tablets with the assignment, and the
//! quiz sessions a tablet runs as a knowledge game, uploaded once each to
//! [`QUIZ_SESSIONS_PATH`](crate::QUIZ_SESSIONS_PATH) with the same receipts as interviews. A quiz
//! session is not an interview: no answer of a person, no background, nothing personal — only
//! which scored items were asked and whether each was answered right. It never enters a survey
//! estimate, a quota or progress (`docs/sync-protocol.md`, "Outreach").

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::content_hash::canonical_timestamp;
use crate::limits::{check_id, check_string, check_time, check_utc_offset, FieldProblem};
use crate::sha256_hex;

/// Most items one quiz session may name.
pub const MAX_QUIZ_ITEMS: usize = 100;
/// Most quiz sessions one upload may carry.
pub const MAX_QUIZ_BATCH: usize = 100;
/// Longest place or material description of an event (characters).
pub const MAX_EVENT_TEXT_CHARS: usize = 200;

/// The kinds of outreach event: the guideline's "五进" (into enterprises, schools,
/// institutions and hospitals, communities, villages) and the coach and bus stations where
/// migrant workers travel (`docs/sync-protocol.md`, "Outreach").
pub const EVENT_KINDS: [&str; 6] = [
    "enterprise",
    "school",
    "institution",
    "community",
    "village",
    "station",
];

/// An outreach event of a district, as the server delivers it to the district's tablets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutreachEvent {
    pub id: Uuid,
    pub district: String,
    /// One of [`EVENT_KINDS`].
    pub kind: String,
    /// Where it is held ("江北汽车站候车厅").
    pub place: String,
    /// The local date it is held on.
    pub date: NaiveDate,
    /// The key population it reaches, when it is aimed at one (its quiz sessions are counted
    /// under it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<String>,
    /// How many workers the staff counted as reached (0 until they say).
    #[serde(default)]
    pub people_reached: u32,
    /// What was handed out ("职业病防治手册 200 份").
    #[serde(default)]
    pub material: String,
    /// The scored items (knowledge points) the event's talk or material covered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
}

/// One item asked in a quiz session and whether it was answered right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizItem {
    pub item: String,
    pub right: bool,
}

/// A quiz session as a device uploads it: no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizSession {
    /// Made on the device when the session started.
    pub id: Uuid,
    pub questionnaire_id: String,
    pub questionnaire_version: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub utc_offset_minutes: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    /// The outreach event the session was run at, when the surveyor attached it to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surveyor_id: Option<String>,
    /// The items asked, in the order asked.
    pub items: Vec<QuizItem>,
    /// The score screen offered the take-home QR code of the missed items (a later addition;
    /// absent means `false`, and it is covered by the content hash only when `true`, so no
    /// earlier session's hash changes).
    #[serde(default, skip_serializing_if = "crate::is_false")]
    pub take_home_qr: bool,
    pub content_hash: String,
}

/// The body of `POST /api/v1/quiz-sessions`; the answer is an [`UploadResponse`]
/// (crate::UploadResponse) with one receipt per session, in order (`interview_id` holds the
/// session's id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizSessionUpload {
    pub sessions: Vec<QuizSession>,
}

#[derive(Serialize)]
struct CanonicalQuizSession<'a> {
    id: &'a Uuid,
    questionnaire_id: &'a str,
    questionnaire_version: &'a str,
    started_at: String,
    ended_at: String,
    utc_offset_minutes: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    site_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_id: Option<&'a Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    surveyor_id: Option<&'a str>,
    items: &'a [QuizItem],
    #[serde(skip_serializing_if = "crate::is_false")]
    take_home_qr: bool,
}

impl QuizSession {
    /// RFC 8785 JSON of every field but `content_hash`, timestamps as [`canonical_timestamp`]
    /// writes them (the interview's and the contact's rule).
    pub fn canonical_form(&self) -> String {
        let content = CanonicalQuizSession {
            id: &self.id,
            questionnaire_id: &self.questionnaire_id,
            questionnaire_version: &self.questionnaire_version,
            started_at: canonical_timestamp(&self.started_at),
            ended_at: canonical_timestamp(&self.ended_at),
            utc_offset_minutes: self.utc_offset_minutes,
            site_id: self.site_id.as_deref(),
            event_id: self.event_id.as_ref(),
            surveyor_id: self.surveyor_id.as_deref(),
            items: &self.items,
            take_home_qr: self.take_home_qr,
        };
        crate::canonical::to_string(&content).expect("a quiz session has a canonical form")
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

    /// How many items were answered right.
    pub fn right(&self) -> usize {
        self.items.iter().filter(|i| i.right).count()
    }

    /// Every field that breaks a limit (empty: it may be read).
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
        ] {
            if let Some(value) = value {
                check_id(&mut problems, field, value);
            }
        }
        check_time(&mut problems, "started_at", self.started_at);
        check_time(&mut problems, "ended_at", self.ended_at);
        check_utc_offset(&mut problems, self.utc_offset_minutes);
        if self.ended_at < self.started_at {
            problems.push(FieldProblem {
                field: "ended_at".into(),
                problem: "is before started_at".into(),
            });
        }
        if self.items.is_empty() || self.items.len() > MAX_QUIZ_ITEMS {
            problems.push(FieldProblem {
                field: "items".into(),
                problem: format!("names {} items (1 to {MAX_QUIZ_ITEMS})", self.items.len()),
            });
        }
        let mut seen = std::collections::BTreeSet::new();
        for item in &self.items {
            check_id(&mut problems, "items", &item.item);
            if !seen.insert(item.item.as_str()) {
                problems.push(FieldProblem {
                    field: "items".into(),
                    problem: format!("names {} twice", item.item),
                });
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn session() -> QuizSession {
        QuizSession {
            id: Uuid::from_u128(24),
            questionnaire_id: "ohl_2026".into(),
            questionnaire_version: "2026.2".into(),
            started_at: Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap(),
            ended_at: Utc.with_ymd_and_hms(2026, 12, 1, 2, 3, 0).unwrap(),
            utc_offset_minutes: 480,
            site_id: Some("yz-station".into()),
            event_id: Some(Uuid::from_u128(5)),
            surveyor_id: None,
            items: vec![
                QuizItem {
                    item: "k1".into(),
                    right: true,
                },
                QuizItem {
                    item: "k2".into(),
                    right: false,
                },
            ],
            take_home_qr: false,
            content_hash: String::new(),
        }
        .sealed()
    }

    #[test]
    fn a_quiz_session_is_hashed_over_its_canonical_form_and_survives_the_wire() {
        let s = session();
        assert_eq!(
            s.canonical_form(),
            r#"{"ended_at":"2026-12-01T02:03:00Z","event_id":"00000000-0000-0000-0000-000000000005","id":"00000000-0000-0000-0000-000000000018","items":[{"item":"k1","right":true},{"item":"k2","right":false}],"questionnaire_id":"ohl_2026","questionnaire_version":"2026.2","site_id":"yz-station","started_at":"2026-12-01T02:00:00Z","utc_offset_minutes":480}"#
        );
        assert!(s.hash_is_valid());
        assert_eq!(s.right(), 1);
        let back: QuizSession = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        let mut changed = s.clone();
        changed.items[1].right = true;
        assert!(
            !changed.hash_is_valid(),
            "each answer is covered by the hash"
        );
        // an assignment without events is read as before
        let old: crate::DeviceAssignment = serde_json::from_str(
            r#"{"device_id":"00000000-0000-0000-0000-000000000001","round":"2026","district":"yuzhong","sites":[]}"#,
        )
        .unwrap();
        assert!(old.events.is_empty() && old.weak_items.is_empty());
    }

    #[test]
    fn the_take_home_code_is_hashed_only_when_offered() {
        let before = session();
        let mut offered = before.clone();
        offered.take_home_qr = true;
        assert!(!offered.hash_is_valid(), "covered by the hash when true");
        assert!(
            !before.canonical_form().contains("take_home_qr"),
            "false hashes as absent: an earlier session's hash is unchanged"
        );
        let offered = offered.sealed();
        assert_ne!(offered.content_hash, before.content_hash);
        assert!(offered
            .canonical_form()
            .ends_with(r#""take_home_qr":true,"utc_offset_minutes":480}"#));
        let wire = serde_json::to_string(&before).unwrap();
        assert!(!wire.contains("take_home_qr"), "{wire}");
        let back: QuizSession =
            serde_json::from_str(&serde_json::to_string(&offered).unwrap()).unwrap();
        assert_eq!(back, offered);
    }

    #[test]
    fn a_quiz_session_breaking_a_limit_names_the_field() {
        let fields = |s: &QuizSession| -> Vec<String> {
            s.field_problems().iter().map(|p| p.field.clone()).collect()
        };
        assert!(fields(&session()).is_empty());
        let mut empty = session();
        empty.items.clear();
        assert_eq!(fields(&empty), ["items"]);
        let mut twice = session();
        twice.items[1].item = "k1".into();
        assert_eq!(fields(&twice), ["items"]);
        let mut backwards = session();
        backwards.ended_at = backwards.started_at - chrono::Duration::seconds(1);
        backwards.surveyor_id = Some(String::new());
        assert_eq!(fields(&backwards), ["surveyor_id", "ended_at"]);
    }
}
