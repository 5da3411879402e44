//! The content hash of a completed interview, under the two rules protocol v1 accepts
//! (`docs/sync-protocol.md`, "The content hash"; test vectors in `docs/protocol-vectors/`).
//!
//! - [`HashRule::Canonical`]: SHA-256 of the interview's *canonical form*, RFC 8785 (JSON
//!   Canonicalization Scheme) of the parsed interview without `content_hash`, with both
//!   timestamps written in one form ([`canonical_timestamp`]). It does not depend on how the
//!   sender wrote its JSON (escapes, spacing, key order, number spelling, time zone), so any
//!   client can compute it from the document alone.
//! - [`HashRule::Original`]: SHA-256 of the JSON that this crate's own serialiser writes (fields
//!   in a fixed order, chrono's timestamps). Tablets of the first releases seal with it, so the
//!   server keeps accepting it for ever within v1.
//!
//! The server accepts an interview whose `content_hash` matches either rule. Both are SHA-256
//! of a serialisation of the same fields, so accepting both lets nothing through that either
//! one alone would refuse except a second spelling of the same content.

use chrono::{DateTime, Timelike, Utc};
use serde::Serialize;
use uuid::Uuid;
use zhisu_core::Answers;

use crate::{sha256_hex, CompletedInterview};

/// Which rule an interview's `content_hash` was computed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashRule {
    /// SHA-256 of the RFC 8785 canonical form (the rule for every new client).
    Canonical,
    /// SHA-256 of the JSON this crate writes (Zhisu tablets of the first releases).
    Original,
}

/// Why an interview's `content_hash` verifies under neither rule. Its message says what to
/// check and gives the hash the server computed from the canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the hash of the canonical form differs: the server computed {expected} over the canonical form \
     (RFC 8785 JSON of every field except content_hash, timestamps in UTC as \
     2026-11-29T01:09:30.125Z with no trailing zeros in the fraction); check that the hash covers \
     the fields exactly as sent, strings as UTF-8 (no \\u escapes), keys sorted, numbers as \
     RFC 8785 writes them (1 not 1.0), and both timestamps in that form (docs/sync-protocol.md, \
     \"The content hash\"; examples in docs/protocol-vectors/)"
)]
pub struct HashMismatch {
    /// `sha256:…` of the canonical form the server made of the interview it parsed.
    pub expected: String,
}

/// A timestamp as the canonical form writes it: UTC, `YYYY-MM-DDTHH:MM:SS`, then a `.` and
/// the fraction of the second without trailing zeros (up to nanoseconds) when it is not zero,
/// then `Z`. `2026-11-29T09:09:30.500+08:00` → `2026-11-29T01:09:30.5Z`.
pub fn canonical_timestamp(t: &DateTime<Utc>) -> String {
    let mut text = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    // a leap second carries its second's fraction above 1e9
    let nanos = t.nanosecond() % 1_000_000_000;
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// The fields the canonical form covers. Order does not matter (RFC 8785 sorts the keys);
/// optional fields are left out when absent, so a new optional field never changes the hash
/// of an interview without it.
#[derive(Serialize)]
struct CanonicalContent<'a> {
    id: &'a Uuid,
    questionnaire_id: &'a str,
    questionnaire_version: &'a str,
    started_at: String,
    completed_at: String,
    utc_offset_minutes: i32,
    answers: &'a Answers,
    #[serde(skip_serializing_if = "Option::is_none")]
    site_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    surveyor_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    paradata: Option<&'a zhisu_core::Paradata>,
    #[serde(skip_serializing_if = "crate::is_false")]
    practice: bool,
}

/// The fields the original rule covers, in its fixed order (answers are a sorted map).
#[derive(Serialize)]
struct OriginalContent<'a> {
    id: &'a Uuid,
    questionnaire_id: &'a str,
    questionnaire_version: &'a str,
    started_at: &'a DateTime<Utc>,
    completed_at: &'a DateTime<Utc>,
    utc_offset_minutes: i32,
    answers: &'a Answers,
    #[serde(skip_serializing_if = "Option::is_none")]
    site_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    surveyor_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    paradata: Option<&'a zhisu_core::Paradata>,
    #[serde(skip_serializing_if = "crate::is_false")]
    practice: bool,
}

impl CompletedInterview {
    /// The canonical form: RFC 8785 JSON of every field but `content_hash`, as parsed (so with
    /// the paradata's defaults filled in and fields this protocol does not define left out),
    /// timestamps as [`canonical_timestamp`] writes them.
    pub fn canonical_form(&self) -> String {
        let content = CanonicalContent {
            id: &self.id,
            questionnaire_id: &self.questionnaire_id,
            questionnaire_version: &self.questionnaire_version,
            started_at: canonical_timestamp(&self.started_at),
            completed_at: canonical_timestamp(&self.completed_at),
            utc_offset_minutes: self.utc_offset_minutes,
            answers: &self.answers,
            site_id: self.site_id.as_deref(),
            surveyor_id: self.surveyor_id.as_deref(),
            paradata: self.paradata.as_ref(),
            practice: self.practice,
        };
        // only finite floats can be parsed from JSON or built by the app: never fails
        crate::canonical::to_string(&content).expect("an interview's content has a canonical form")
    }

    /// `sha256:` and the hex SHA-256 of [`Self::canonical_form`] (UTF-8).
    pub fn canonical_hash(&self) -> String {
        sha256_hex(self.canonical_form().as_bytes())
    }

    /// `sha256:` and the hex SHA-256 of the JSON this crate writes for every field but the hash
    /// itself, in the order `id, questionnaire_id, questionnaire_version, started_at,
    /// completed_at, utc_offset_minutes, answers, site_id, surveyor_id, paradata, practice` (`practice`
    /// only when `true`).
    pub fn original_hash(&self) -> String {
        let content = OriginalContent {
            id: &self.id,
            questionnaire_id: &self.questionnaire_id,
            questionnaire_version: &self.questionnaire_version,
            started_at: &self.started_at,
            completed_at: &self.completed_at,
            utc_offset_minutes: self.utc_offset_minutes,
            answers: &self.answers,
            site_id: self.site_id.as_deref(),
            surveyor_id: self.surveyor_id.as_deref(),
            paradata: self.paradata.as_ref(),
            practice: self.practice,
        };
        let json = serde_json::to_vec(&content).expect("interview content serialises to JSON");
        sha256_hex(&json)
    }

    /// Which rule `content_hash` was computed by, or what to check when it matches neither.
    ///
    /// The original rule is tried first: Zhisu's tablets seal with it, and it is the cheaper
    /// (no keys to sort; BENCHMARKS.md, P2's "hash check"). The two never both match: the
    /// original form begins with `id`, the canonical one with `answers`.
    pub fn check_content_hash(&self) -> Result<HashRule, HashMismatch> {
        if self.content_hash == self.original_hash() {
            return Ok(HashRule::Original);
        }
        let canonical = self.canonical_hash();
        if self.content_hash == canonical {
            Ok(HashRule::Canonical)
        } else {
            Err(HashMismatch {
                expected: canonical,
            })
        }
    }
}
