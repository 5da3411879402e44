//! The sync protocol between a tablet and the central server, documented in
//! `docs/sync-protocol.md`. Tablets in the field are not updated in step with the server, so
//! within a major version changes are additive only: new optional fields, new endpoints, new
//! error codes. Both sides use these types, so they cannot drift apart.
#![forbid(unsafe_code)]

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zhisu_core::Answers;

pub mod canonical;
mod contact;
mod content_hash;
pub mod outreach;
pub use contact::{ContactOutcome, MAX_EXCLUDED_BY, MAX_REASON_CHARS};
pub use outreach::{OutreachEvent, QuizItem, QuizSession, QuizSessionUpload};
/// The enrolment URI of QR codes lives in `zhisu-core` (the webview reads it too).
pub use zhisu_core::enrol_uri;
pub mod backcheck;
pub mod library;
pub mod limits;
pub mod recontact;
pub mod sealed;
pub mod surveyors;
pub mod time_slot;
pub mod update;
pub use content_hash::{canonical_timestamp, HashMismatch, HashRule};
pub use time_slot::{TimeSlot, TimeSlotError};

/// The protocol's major version, also the `/api/v1` path prefix.
pub const PROTOCOL_VERSION: u32 = 1;
/// Every request carries this header with [`PROTOCOL_VERSION`]; the server refuses other majors.
pub const PROTOCOL_HEADER: &str = "zhisu-protocol";
/// Upload completed interviews (POST, [`UploadRequest`] → [`UploadResponse`]).
pub const UPLOAD_PATH: &str = "/api/v1/interviews/batch";
/// List the questionnaire versions the server publishes (GET, → [`QuestionnaireListing`]).
pub const QUESTIONNAIRES_PATH: &str = "/api/v1/questionnaires";
/// Exchange a one-time enrolment code for a device token (POST, [`EnrolRequest`] →
/// [`Enrolment`]). The only endpoint that takes no token.
pub const ENROL_PATH: &str = "/api/v1/enrol";
/// What the device is assigned to: round, district, sites and quotas (GET, →
/// [`DeviceAssignment`]). Also how a device learns it was revoked (`401 device_revoked`).
pub const ASSIGNMENT_PATH: &str = "/api/v1/device/assignment";
/// The recordings of the questionnaire versions this device receives (GET, →
/// [`RecordingListing`]).
pub const RECORDINGS_PATH: &str = "/api/v1/recordings";
/// One recording's bytes by its SHA-256 (GET `/api/v1/media/{sha256}`), with `Range` support so
/// a broken download resumes.
pub const MEDIA_PATH: &str = "/api/v1/media";
/// Upload quiz sessions, the outreach records of quiz mode (POST,
/// [`QuizSessionUpload`] → [`UploadResponse`]; protocol v1 addition, see [`outreach`]).
pub const QUIZ_SESSIONS_PATH: &str = "/api/v1/quiz-sessions";
/// Upload back-check results done on the tablet (POST, [`backcheck::BackcheckUpload`] →
/// [`UploadResponse`]; protocol v1 addition, issue 15).
pub const BACKCHECKS_PATH: &str = "/api/v1/backchecks";
/// Upload respondents' re-contact details for back-checks, each after its interview's receipt
/// (POST, [`recontact::RecontactUpload`] → [`UploadResponse`]; protocol v1 addition, issue 15).
pub const RECONTACTS_PATH: &str = "/api/v1/recontacts";
/// Most interviews one upload may carry; a device splits larger queues.
pub const MAX_BATCH_INTERVIEWS: usize = 100;

/// A completed interview as a device sends it. Its `id` is made on the device when the interview
/// starts; `content_hash` covers every other field, so a re-send is recognised as identical.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletedInterview {
    pub id: Uuid,
    pub questionnaire_id: String,
    pub questionnaire_version: String,
    pub started_at: DateTime<Utc>,
    pub completed_at: DateTime<Utc>,
    /// The device's offset from UTC when the interview started, in minutes (+480 in China).
    pub utc_offset_minutes: i32,
    pub answers: Answers,
    /// The site (unit, school, station…) where the interview took place, when chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    /// The surveyor who ran it, when signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surveyor_id: Option<String>,
    /// How the interview went: time on each question, changed answers, total duration, the
    /// device's quality flags and where it was done (protocol v1 addition; optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paradata: Option<zhisu_core::Paradata>,
    /// A practice interview of surveyor training (protocol v1 addition; absent means `false`):
    /// run like a real one, stored apart by the server and never counted as survey data.
    /// Covered by the content hash only when `true`, so the hash of every interview without it
    /// is unchanged.
    #[serde(default, skip_serializing_if = "is_false")]
    pub practice: bool,
    pub content_hash: String,
}

/// For `skip_serializing_if`: a `false` flag is left out of the JSON (and of the hash).
pub(crate) fn is_false(flag: &bool) -> bool {
    !*flag
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    /// The one-time code, as typed or read from its QR code (case and dashes do not matter).
    pub code: String,
    /// A name for the tablet, shown to administrators ("渝中区 3 号平板").
    pub device_name: String,
}

/// The device's identity. The token goes in `Authorization: Bearer …` on every later request;
/// the server keeps only its hash, so a lost token cannot be shown again, only revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    pub device_id: Uuid,
    pub token: String,
    pub round: String,
    pub district: String,
}

/// The kinds of survey site a sample plan may list (`Site::site_type`).
pub const SITE_TYPES: [&str; 6] = [
    "enterprise",
    "school",
    "hospital",
    "station",
    "community",
    "village",
];

/// A place where interviews are done, with the sample quota per key population.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub id: String,
    pub district: String,
    pub name: String,
    /// One of [`SITE_TYPES`].
    pub site_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Interviews wanted per population key (`construction` → 30).
    #[serde(default)]
    pub quotas: std::collections::BTreeMap<String, u32>,
    /// Sample plan: the stratum the site (a cluster) was drawn from. With `weight`, the
    /// dashboard gives design-based estimates; without, unweighted ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stratum: Option<String>,
    /// Sample plan: the weight of each worker interviewed at this site (how many workers of
    /// the population each stands for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// Where the site is (WGS-84), to check an interview's recorded location against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    /// Time-slot quotas for travel peaks (issue #15; protocol v1 addition: an older device
    /// ignores them): interviews wanted in a window of days and hours ([`TimeSlot`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub time_slots: Vec<TimeSlot>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceAssignment {
    pub device_id: Uuid,
    pub round: String,
    pub district: String,
    pub sites: Vec<Site>,
    /// Interviews from this device that a supervisor rejected in review (protocol v1 addition:
    /// older devices ignore it). The device marks them rejected and shows the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<RejectedInterview>,
    /// The round's settings (protocol v1 addition: a device that gets none uses the defaults).
    #[serde(default)]
    pub settings: RoundSettings,
    /// The round's public key to seal completed interviews to (protocol v1 addition, see
    /// [`sealed`]); absent while the server holds no key pair for the round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_key: Option<sealed::RoundPublicKey>,
    /// The district's outreach events from a week ago on (protocol v1 addition, issue 24): a
    /// surveyor may attach a quiz session to one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<OutreachEvent>,
    /// Per questionnaire id, the scored items the district's workers answered worst so far,
    /// weakest first (at most 10; protocol v1 addition, issue 24): what a quiz asks first.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub weak_items: std::collections::BTreeMap<String, Vec<String>>,
    /// The digest of the education library the server delivers ([`library::library_digest`];
    /// protocol v1 addition): the device fetches [`library::LIBRARY_PATH`] when it holds another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
    /// The district's open back-checks of the round (protocol v1 addition, issue 15), for a
    /// surveyor other than the interview's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backchecks: Vec<backcheck::BackcheckAssignment>,
    /// The digest of the district's surveyors managed on the server
    /// ([`surveyors::surveyors_digest`]; protocol v1 addition, issue 15): the device fetches
    /// [`surveyors::SURVEYORS_PATH`] when it holds another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surveyors: Option<String>,
}

/// Settings of a monitoring round, set by the city administrator and delivered to devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoundSettings {
    /// Show the respondent the right answers and explanations after the interview.
    pub show_answer_key: bool,
    /// When an interview is flagged in quality control (the tablet warns the surveyor; the
    /// server flags it for review).
    pub quality: zhisu_core::QcThresholds,
    /// The round's first day of fieldwork, a local date (added within v1; devices ignore it):
    /// progress shows the expected pace from it to `ends_on`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_on: Option<chrono::NaiveDate>,
    /// The round's last day of fieldwork, a local date (added within v1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_on: Option<chrono::NaiveDate>,
    /// The round's back-checks (复核, issue 15; added within v1, devices ignore it): none
    /// when the round has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backcheck: Option<BackcheckSettings>,
}

/// How a round's back-checks are drawn and judged (`docs/statistics.md` §13).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackcheckSettings {
    /// The share of the eligible interviews to draw, in per cent (e.g. 5).
    pub share_percent: f64,
    /// At least this many per surveyor and ISO week with eligible interviews (e.g. 1).
    pub min_per_surveyor_week: u32,
    /// The items re-asked, by id (each must exist in the round's questionnaires).
    pub items: Vec<String>,
    /// A back-check agreeing on fewer than this per cent of the re-asked items fails and
    /// puts its interview in the quality-control queue (e.g. 80).
    pub fail_below_percent: u32,
    /// Numeric answers within this of each other agree (0: only equal ones; e.g. 1 for age).
    #[serde(default)]
    pub numeric_tolerance: f64,
}

impl Default for RoundSettings {
    fn default() -> Self {
        RoundSettings {
            show_answer_key: true,
            quality: zhisu_core::QcThresholds::default(),
            starts_on: None,
            ends_on: None,
            backcheck: None,
        }
    }
}

/// An interview rejected in the central quality review, with the reviewer's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedInterview {
    pub interview_id: Uuid,
    pub reason: String,
}

/// The lowercase hex SHA-256 of a recording's bytes, without a prefix: how `/api/v1/media/`
/// names it.
pub fn media_hash(bytes: &[u8]) -> String {
    sha256_hex(bytes)["sha256:".len()..].to_string()
}

/// `sha256:` and the lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(7 + 64);
    hex.push_str("sha256:");
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// One published questionnaire version; `hash` is [`sha256_hex`] of its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionnaireRef {
    pub id: String,
    pub version: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionnaireListing {
    pub questionnaires: Vec<QuestionnaireRef>,
}

/// A recording of part of a questionnaire version read aloud: the item's question (`option`
/// empty) or one of its answers (a choice's key, `true` or `false`). Its bytes are at
/// `GET /api/v1/media/{sha256}`, the same for every recording with the same content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingRef {
    pub questionnaire_id: String,
    pub version: String,
    pub item_id: String,
    #[serde(default)]
    pub option: String,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    pub size: u64,
    /// What the bytes are ([`AudioKind`]).
    pub kind: AudioKind,
}

/// GET [`RECORDINGS_PATH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingListing {
    pub recordings: Vec<RecordingRef>,
}

/// Largest recording the server keeps and a device fetches.
pub const MAX_RECORDING_BYTES: u64 = 8 * 1024 * 1024;

/// The kinds of recording the server keeps, told by their first bytes (never by a file name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioKind {
    /// RIFF WAVE.
    Wav,
    /// Ogg (Vorbis or Opus).
    Ogg,
    /// WebM/Matroska, as a browser's MediaRecorder makes (Opus).
    Webm,
    /// MPEG audio layer III, with or without an ID3 tag.
    Mp3,
    /// MPEG-4 audio (`.m4a`, AAC).
    M4a,
}

impl AudioKind {
    /// The kind of `bytes`, from their first bytes; `None` when they are no recording we know.
    pub fn sniff(bytes: &[u8]) -> Option<AudioKind> {
        let at =
            |offset: usize, magic: &[u8]| bytes.get(offset..offset + magic.len()) == Some(magic);
        if at(0, b"RIFF") && at(8, b"WAVE") {
            Some(AudioKind::Wav)
        } else if at(0, b"OggS") {
            Some(AudioKind::Ogg)
        } else if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
            Some(AudioKind::Webm)
        } else if at(0, b"ID3")
            || (bytes.len() >= 2
                && bytes[0] == 0xFF
                && bytes[1] & 0xE0 == 0xE0
                && bytes[1] & 0x06 != 0)
        {
            Some(AudioKind::Mp3)
        } else if at(4, b"ftyp") {
            Some(AudioKind::M4a)
        } else {
            None
        }
    }

    /// Its media type, for `Content-Type` and `data:` URLs.
    pub fn mime(self) -> &'static str {
        match self {
            AudioKind::Wav => "audio/wav",
            AudioKind::Ogg => "audio/ogg",
            AudioKind::Webm => "audio/webm",
            AudioKind::Mp3 => "audio/mpeg",
            AudioKind::M4a => "audio/mp4",
        }
    }

    /// Its name in the protocol and the databases (`wav`, `ogg`, …).
    pub fn name(self) -> &'static str {
        match self {
            AudioKind::Wav => "wav",
            AudioKind::Ogg => "ogg",
            AudioKind::Webm => "webm",
            AudioKind::Mp3 => "mp3",
            AudioKind::M4a => "m4a",
        }
    }

    pub fn from_name(name: &str) -> Option<AudioKind> {
        [
            AudioKind::Wav,
            AudioKind::Ogg,
            AudioKind::Webm,
            AudioKind::Mp3,
            AudioKind::M4a,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// A questionnaire file as published (GET `/api/v1/questionnaires/{id}/{version}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionnaireDownload {
    pub id: String,
    pub version: String,
    pub hash: String,
    /// The questionnaire file (TOML), loaded on the device with `zhisu-core`.
    pub source: String,
}

impl QuestionnaireDownload {
    pub fn hash_is_valid(&self) -> bool {
        self.hash == sha256_hex(self.source.as_bytes())
    }
}

impl CompletedInterview {
    /// The hash Zhisu's tablets seal an interview with: the original rule
    /// ([`CompletedInterview::original_hash`]), which every server of protocol v1 accepts. The
    /// server accepts the canonical rule too ([`CompletedInterview::canonical_hash`]).
    pub fn compute_hash(&self) -> String {
        self.original_hash()
    }

    /// Sets `content_hash` from the content (original rule, see [`Self::compute_hash`]).
    pub fn sealed(mut self) -> Self {
        self.content_hash = self.compute_hash();
        self
    }

    /// Sets `content_hash` to the hash of the canonical form, as a client written from the
    /// document does.
    pub fn sealed_canonical(mut self) -> Self {
        self.content_hash = self.canonical_hash();
        self
    }

    /// `content_hash` matches the content under either rule the protocol accepts.
    pub fn hash_is_valid(&self) -> bool {
        self.check_content_hash().is_ok()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadRequest {
    pub interviews: Vec<CompletedInterview>,
    /// Contacts that ended otherwise than in a completed interview (protocol v1 addition; a
    /// request without it is as before). Their receipts come last in the response, after those
    /// of `interviews` and `sealed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<ContactOutcome>,
    /// Interviews sealed to the round's public key (protocol v1 addition, `sealed`): the
    /// server opens each and treats it as if it had come in `interviews`. Receipts come for
    /// `interviews` first, then for `sealed`, each in the order sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sealed: Vec<sealed::SealedInterview>,
}

/// One receipt per uploaded interview, in the order sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadResponse {
    pub receipts: Vec<Receipt>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub interview_id: Uuid,
    pub status: ReceiptStatus,
    /// For `conflict` and `rejected`: a stable machine-readable code (see [`codes`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// For people: why, in plain words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// Stored now.
    Stored,
    /// The server already holds this interview with the same content hash: nothing changed.
    AlreadyStored,
    /// The server holds an interview with this id and a different content hash; kept as it was.
    Conflict,
    /// Not stored and never will be as sent (see `code`).
    Rejected,
}

impl ReceiptStatus {
    /// The server holds exactly this interview: the device may mark it acknowledged.
    pub fn is_acknowledged(self) -> bool {
        matches!(self, ReceiptStatus::Stored | ReceiptStatus::AlreadyStored)
    }
}

/// The body of every error response: callers branch on `code`, never on `message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

/// Error and receipt codes. New codes may be added within a major version; devices treat an
/// unknown code like its HTTP status class.
#[doc(hidden)]
pub mod fuzzing;

pub mod codes {
    pub const UNSUPPORTED_PROTOCOL: &str = "unsupported_protocol";
    pub const MALFORMED_REQUEST: &str = "malformed_request";
    pub const BATCH_TOO_LARGE: &str = "batch_too_large";
    pub const INTERNAL: &str = "internal";
    pub const CONTENT_HASH_MISMATCH: &str = "content_hash_mismatch";
    pub const UNKNOWN_QUESTIONNAIRE_VERSION: &str = "unknown_questionnaire_version";
    pub const INVALID_ANSWERS: &str = "invalid_answers";
    pub const DIFFERENT_CONTENT: &str = "different_content";
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const DEVICE_REVOKED: &str = "device_revoked";
    pub const INVALID_ENROLMENT_CODE: &str = "invalid_enrolment_code";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const FORBIDDEN: &str = "forbidden";
    pub const BAD_CREDENTIALS: &str = "bad_credentials";
    /// Too many wrong passwords for one username in a row: sign-in pauses for it.
    pub const TOO_MANY_SIGN_IN_ATTEMPTS: &str = "too_many_sign_in_attempts";
    pub const USERNAME_TAKEN: &str = "username_taken";
    pub const NOT_FOUND: &str = "not_found";
    pub const INVALID_QUESTIONNAIRE: &str = "invalid_questionnaire";
    pub const VERSION_TAKEN: &str = "version_taken";
    /// An uploaded recording is not audio the server keeps (wav, ogg, webm, mp3, m4a).
    pub const NOT_AUDIO: &str = "not_audio";
    /// An uploaded recording is larger than `MAX_RECORDING_BYTES`.
    pub const RECORDING_TOO_LARGE: &str = "recording_too_large";
    /// The questionnaire version has no such item or answer to record.
    pub const UNKNOWN_ITEM: &str = "unknown_item";
    /// A `Range` the recording cannot satisfy (416).
    pub const RANGE_NOT_SATISFIABLE: &str = "range_not_satisfiable";
    /// A field of an uploaded interview breaks a limit of the protocol (`limits`), or it
    /// answers an item the interview did not ask: refused, the field named.
    pub const INVALID_INTERVIEW: &str = "invalid_interview";
    /// A sealed interview does not open with the round's private key, or holds something else
    /// than the interview its envelope names: refused.
    pub const SEALED_UNREADABLE: &str = "sealed_unreadable";
    /// Sealed to a key this server does not hold (503: the device keeps it and tries later).
    pub const ROUND_KEY_MISSING: &str = "round_key_missing";
    /// An app package's version, platform or signature is malformed (`update`).
    pub const INVALID_PACKAGE: &str = "invalid_package";
    /// An app package is larger than `update::MAX_PACKAGE_BYTES`.
    pub const PACKAGE_TOO_LARGE: &str = "package_too_large";
    /// Re-contact details that break a rule (a number a back-check cannot call, …): refused,
    /// the field named.
    pub const INVALID_RECONTACT: &str = "invalid_recontact";
}

#[cfg(test)]
mod tests {
    use super::*;
    use zhisu_core::AnswerValue;

    fn interview() -> CompletedInterview {
        let mut answers = Answers::new();
        answers.insert("age".into(), AnswerValue::Integer(30));
        answers.insert("noise".into(), AnswerValue::Choice("earplugs".into()));
        CompletedInterview {
            id: Uuid::from_u128(7),
            questionnaire_id: "ohl_pilot".into(),
            questionnaire_version: "2026.1".into(),
            started_at: "2026-11-29T01:00:00Z".parse().unwrap(),
            completed_at: "2026-11-29T01:09:30.125Z".parse().unwrap(),
            utc_offset_minutes: 480,
            answers,
            site_id: None,
            surveyor_id: None,
            paradata: None,
            practice: false,
            content_hash: String::new(),
        }
        .sealed()
    }

    /// Paradata carries floats (positions, accuracies, seconds per item): whatever float the
    /// device sends, the server parses the very same one back, so the content hash it
    /// recomputes matches. (serde_json's default parser is off by one ulp for some inputs.)
    #[test]
    fn floats_in_paradata_survive_the_trip_and_keep_the_hash() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = |shift: u32| (x >> shift) as f64 / 2f64.powi(40);
            let mut i = interview();
            i.paradata = Some(zhisu_core::Paradata {
                duration_ms: 600_000,
                location_start: Some(zhisu_core::Location {
                    latitude: 29.0 + f(30),
                    longitude: 106.0 + f(20),
                    accuracy_m: f(10) * 1000.0,
                    at_ms: 0,
                }),
                flags: vec![zhisu_core::QcFlag::TooFast {
                    seconds_per_item: f(24) / 7.0,
                    minimum: 3.0,
                    items: 40,
                }],
                ..Default::default()
            });
            let sent = i.sealed();
            let json = serde_json::to_string(&sent).unwrap();
            let received: CompletedInterview = serde_json::from_str(&json).unwrap();
            assert_eq!(received, sent, "{json}");
            assert!(received.hash_is_valid());
        }
    }

    #[test]
    fn hash_is_stable_and_covers_content() {
        let a = interview();
        assert!(a.hash_is_valid());
        // pinned: a change here breaks every tablet in the field (identical re-sends would conflict)
        assert_eq!(
            a.content_hash,
            "sha256:102f9199b52306e200870623f405ac9d3f520ab83c4dd3d9e7a2b8d68735836c"
        );
        assert_eq!(a.content_hash.len(), 7 + 64);
        let mut b = a.clone();
        b.answers.insert("age".into(), AnswerValue::Integer(31));
        assert!(!b.hash_is_valid());
        assert_ne!(b.sealed().content_hash, a.content_hash);
    }

    /// Both rules verify; the original one stays pinned above, the canonical one here (and in
    /// `docs/protocol-vectors/`).
    #[test]
    fn the_canonical_rule_and_the_original_rule_both_verify() {
        let original = interview();
        assert_eq!(original.check_content_hash(), Ok(HashRule::Original));
        let canonical = original.clone().sealed_canonical();
        assert_eq!(canonical.check_content_hash(), Ok(HashRule::Canonical));
        assert_ne!(canonical.content_hash, original.content_hash);
        assert_eq!(
            canonical.canonical_form(),
            r#"{"answers":{"age":{"type":"integer","value":30},"noise":{"type":"choice","value":"earplugs"}},"completed_at":"2026-11-29T01:09:30.125Z","id":"00000000-0000-0000-0000-000000000007","questionnaire_id":"ohl_pilot","questionnaire_version":"2026.1","started_at":"2026-11-29T01:00:00Z","utc_offset_minutes":480}"#
        );
        assert_eq!(
            canonical.content_hash,
            sha256_hex(canonical.canonical_form().as_bytes())
        );
    }

    /// The forms the issue found refused: Python's escapes and timestamps with an offset or
    /// other fraction digits. Each parses to the same canonical form, so one hash verifies all.
    #[test]
    fn any_json_spelling_of_an_interview_has_one_canonical_hash() {
        let mut base = interview();
        base.answers
            .insert("ethnicity".into(), AnswerValue::Text("苗族".into()));
        let base = base.sealed_canonical();
        let rust = serde_json::to_string(&base).unwrap();
        let spellings = [
            rust.replace("苗族", r"\u82d7\u65cf"),
            rust.replace("01:09:30.125Z", "09:09:30.125+08:00")
                .replace("2026-11-29T01:00:00Z", "2026-11-29T01:00:00.000Z"),
            rust.replace("01:09:30.125Z", "01:09:30.125000000Z")
                .replace("2026-11-29T01:00:00Z", "2026-11-28T20:00:00-05:00"),
        ];
        for sent in spellings {
            assert_ne!(sent, rust);
            let parsed: CompletedInterview = serde_json::from_str(&sent).unwrap();
            assert_eq!(parsed.canonical_form(), base.canonical_form(), "{sent}");
            assert_eq!(
                parsed.check_content_hash(),
                Ok(HashRule::Canonical),
                "{sent}"
            );
        }
    }

    #[test]
    fn canonical_timestamps_are_utc_with_the_fraction_trimmed() {
        for (sent, canonical) in [
            ("2026-11-29T01:00:00Z", "2026-11-29T01:00:00Z"),
            ("2026-11-29T01:00:00.000Z", "2026-11-29T01:00:00Z"),
            ("2026-11-29T01:00:00.5Z", "2026-11-29T01:00:00.5Z"),
            ("2026-11-29T01:00:00.500Z", "2026-11-29T01:00:00.5Z"),
            ("2026-11-29T09:00:00.120+08:00", "2026-11-29T01:00:00.12Z"),
            ("2026-11-29T00:30:00-00:30", "2026-11-29T01:00:00Z"),
            (
                "2026-11-29T01:00:00.000000001Z",
                "2026-11-29T01:00:00.000000001Z",
            ),
        ] {
            let t: DateTime<Utc> = serde_json::from_str(&format!("\"{sent}\"")).unwrap();
            assert_eq!(canonical_timestamp(&t), canonical, "{sent}");
        }
    }

    #[test]
    fn optional_fields_are_hashed_only_when_present() {
        let plain = interview();
        let mut with_site = interview();
        with_site.site_id = Some("yuzhong-001".into());
        let with_site = with_site.sealed();
        assert_ne!(with_site.content_hash, plain.content_hash);
        let json = serde_json::to_string(&plain).unwrap();
        assert!(
            !json.contains("site_id"),
            "absent optional fields are not sent"
        );
    }

    /// A practice interview (issue 24): `practice` is hashed only when true, so every
    /// interview without it keeps the hash tablets in the field sealed it with, and a flipped
    /// flag never verifies.
    #[test]
    fn practice_is_hashed_only_when_true() {
        let real = interview();
        assert!(!real.practice);
        let json = serde_json::to_string(&real).unwrap();
        assert!(!json.contains("practice"), "false is never sent: {json}");
        // an old tablet's upload (no field) parses as not practice and keeps its pinned hash
        let old: CompletedInterview = serde_json::from_str(&json).unwrap();
        assert!(!old.practice);
        assert_eq!(old.check_content_hash(), Ok(HashRule::Original));
        // "practice": false hashes as absent, under either rule
        let spelled_false = json.replace("\"content_hash\"", "\"practice\":false,\"content_hash\"");
        let parsed: CompletedInterview = serde_json::from_str(&spelled_false).unwrap();
        assert_eq!(parsed.content_hash, real.content_hash);
        assert!(parsed.hash_is_valid());

        let mut practice = interview();
        practice.practice = true;
        let practice = practice.sealed();
        assert_ne!(practice.content_hash, real.content_hash);
        assert_eq!(practice.check_content_hash(), Ok(HashRule::Original));
        assert!(serde_json::to_string(&practice)
            .unwrap()
            .contains("\"practice\":true"));
        assert!(practice.canonical_form().contains("\"practice\":true"));
        let canonical = practice.clone().sealed_canonical();
        assert_eq!(canonical.check_content_hash(), Ok(HashRule::Canonical));
        // the flag flipped either way, without sealing again, does not verify
        let mut flipped = practice.clone();
        flipped.practice = false;
        assert!(!flipped.hash_is_valid());
        let mut flipped = real.clone();
        flipped.practice = true;
        assert!(!flipped.hash_is_valid());
    }

    #[test]
    fn survives_json_round_trip() {
        let a = interview();
        let json = serde_json::to_string(&a).unwrap();
        let back: CompletedInterview = serde_json::from_str(&json).unwrap();
        assert!(back.hash_is_valid());
        assert_eq!(back, a);
    }

    #[test]
    fn receipt_wire_format() {
        let r = Receipt {
            interview_id: Uuid::from_u128(1),
            status: ReceiptStatus::AlreadyStored,
            code: None,
            message: None,
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"interview_id":"00000000-0000-0000-0000-000000000001","status":"already_stored"}"#
        );
    }
}

#[cfg(test)]
mod audio_tests {
    use super::*;

    #[test]
    fn recordings_are_told_by_their_first_bytes() {
        let cases: [(&[u8], Option<AudioKind>); 9] = [
            (b"RIFF\x24\0\0\0WAVEfmt ", Some(AudioKind::Wav)),
            (b"RIFF\x24\0\0\0AVI LIST", None),
            (b"OggS\0\x02\0\0", Some(AudioKind::Ogg)),
            (&[0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42], Some(AudioKind::Webm)),
            (b"ID3\x04\0\0\0\0", Some(AudioKind::Mp3)),
            (&[0xFF, 0xFB, 0x90, 0x64], Some(AudioKind::Mp3)),
            (b"\0\0\0\x20ftypM4A ", Some(AudioKind::M4a)),
            (b"<svg xmlns=", None),
            (b"", None),
        ];
        for (bytes, kind) in cases {
            assert_eq!(AudioKind::sniff(bytes), kind, "{bytes:?}");
        }
        for kind in [
            AudioKind::Wav,
            AudioKind::Ogg,
            AudioKind::Webm,
            AudioKind::Mp3,
            AudioKind::M4a,
        ] {
            assert_eq!(AudioKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(media_hash(b"abc").len(), 64);
        assert!(sha256_hex(b"abc").ends_with(&media_hash(b"abc")));
    }
}
