//! The tablet's local store. An answer is committed to SQLite before the call returns, so what
//! the interview screen shows as saved survives a crash or a power cut.
//!
//! This crate owns the device schema and the interview lifecycle:
//!
//! ```text
//! in_progress ──complete──► completed ──begin_upload──► queued ──receipt──► acknowledged | rejected
//!      │                        ▲                          │
//!      └──discard──► discarded  └──── request failed ──────┴──► sent (may have arrived) ──► queued …
//! ```
//!
//! It never talks to the network and never decides *when* to sync: that is `zhisu-sync`.
#![forbid(unsafe_code)]

mod backcheck;
mod backup;
mod encryption;
mod feedback;
pub use encryption::{
    is_plain_database, load_or_create_key_file, DatabaseKey, EncryptionStep, KEY_FILE_NAME,
};
mod identity;
mod library;
pub use library::{piece_view, Offered};
mod media;
mod migrations;
mod outreach;
mod paradata;
mod questionnaires;
mod recontact;
mod repeat;
mod surveyors;
pub use feedback::FEEDBACK_KEPT_HOURS;
pub use surveyors::{PIN_LOCKOUT_SECONDS, PIN_TRIES};
mod upload;

pub use backup::{read_backup, read_sealed_backup};
pub use identity::{
    check_device_name, check_server_url, DeviceIdentity, QuotaProgress, SiteCount, SiteProgress,
    SlotDone,
};
pub use media::MediaWanted;
pub use outreach::{PlayedQuiz, QuizCounts};
pub use upload::{AttemptOutcome, UploadAttempt};
/// The store's records that the app's webview shows are the command API's types.
pub use zhisu_app_api::{
    InterviewState, InterviewSummary, KeptFeedback, LocationMoment, RepeatCheck, RepeatMatch,
    StateCounts, Surveyor, SyncLogEntry, SyncOutcome, TextSize, Theme, UiLanguage,
};

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_core::{
    AnswerError, AnswerValue, Answers, BackgroundRole, Disposition, InterviewProblem,
    Questionnaire, ScreenedOut,
};
use zhisu_protocol::{CompletedInterview, ContactOutcome};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("this database was written by a newer version of Zhisu (schema {found}, this app knows up to {supported}); update the app, the data is untouched")]
    NewerSchema { found: usize, supported: usize },
    #[error("no interview {0} on this device")]
    UnknownInterview(Uuid),
    #[error("interview {id} is {state} and can no longer be changed")]
    NotInProgress { id: Uuid, state: InterviewState },
    #[error("interview {id} was started with questionnaire {expected}, not {given}")]
    WrongQuestionnaire {
        id: Uuid,
        expected: String,
        given: String,
    },
    #[error("item '{0}' is not in this questionnaire")]
    UnknownItem(String),
    #[error("item '{item_id}': {error}")]
    InvalidAnswer { item_id: String, error: AnswerError },
    #[error("the interview cannot be completed yet: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Incomplete(Vec<InterviewProblem>),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("a reason is needed to discard an interview")]
    NoDiscardReason,
    #[error("interview {id} is {state} and can no longer be discarded")]
    CannotDiscard { id: Uuid, state: InterviewState },
    #[error("cannot write the backup to {path}: {source}")]
    Backup {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{0} is not a Zhisu device backup")]
    NotABackup(String),
    #[error("the questionnaire {id} {version} from the server is not valid: {reason}")]
    InvalidQuestionnaire {
        id: String,
        version: String,
        reason: String,
    },
    #[error("the server changed questionnaire {id} {version} after publishing it; the first copy is kept")]
    QuestionnaireChanged { id: String, version: String },
    #[error("a PIN is 4 to 6 digits")]
    BadPin,
    #[error("a surveyor needs an id and a name")]
    SurveyorIncomplete,
    #[error("there is already a surveyor '{0}' on this tablet")]
    SurveyorExists(String),
    #[error("no surveyor '{0}' on this tablet")]
    UnknownSurveyor(String),
    #[error("surveyor '{0}' can no longer sign in on this tablet: sign in as a surveyor the district set up on the server")]
    SurveyorRetired(String),
    #[error("the district sets up this tablet's surveyors on the server: they arrive at sync")]
    SurveyorsFromServer,
    #[error("{0} is not a position on Earth")]
    BadLocation(String),
    #[error("choose the surveyor with their PIN first")]
    SurveyorNeeded,
    #[error("the PIN is not right ({tries} wrong in a row)")]
    WrongPin { tries: u32 },
    #[error("too many wrong PINs in a row: try again after {until}")]
    TooManyPinAttempts { until: DateTime<Utc> },
    #[error("site '{0}' is not assigned to this device")]
    UnknownSite(String),
    #[error("the server address starts with http:// or https://")]
    BadServerUrl,
    #[error("give this tablet a name")]
    DeviceNameMissing,
    #[error("this contact cannot end as {wanted}: {why}")]
    DispositionNotAllowed { wanted: String, why: String },
    #[error("write down why the contact ended ({0})")]
    DispositionReasonMissing(String),
    #[error("the feedback page of interview {0} is no longer kept on this tablet (a day after completion)")]
    FeedbackGone(Uuid),
    #[error("quiz {0} was already kept with other answers; the first is kept")]
    QuizChanged(Uuid),
    #[error("no back-check {0} on this tablet (done elsewhere, or no longer open)")]
    UnknownBackcheck(Uuid),
    #[error("a back-check is done by a surveyor other than the one who did the interview")]
    OwnBackcheck,
    #[error("back-check {0} was already kept with other answers; the first is kept")]
    BackcheckChanged(Uuid),
    #[error("{0}")]
    BadPhone(zhisu_core::PhoneProblem),
    #[error(
        "say how to address them in at most {} characters, without hidden characters",
        zhisu_core::MAX_CALL_NAME_CHARS
    )]
    BadCallName,
    #[error("interview {0} does not ask whether the respondent may be phoned again (not completed here, practice, or no back-checks this round)")]
    RecontactNotAsked(Uuid),
    #[error("the respondent of interview {0} already answered whether they may be phoned again; the first answer is kept")]
    RecontactAnswered(Uuid),
    #[error("the database key is not usable: {0}")]
    Key(String),
    #[error("the database cannot be opened with this device's key (wrong key, or not a Zhisu database); the file is left as it is")]
    WrongKey,
    #[error("cannot use {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    /// A stable code for the `{code, message}` boundary to the webview.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Sqlite(_) => "storage_failed",
            StoreError::NewerSchema { .. } => "database_too_new",
            StoreError::UnknownInterview(_) => "unknown_interview",
            StoreError::NotInProgress { .. } => "interview_closed",
            StoreError::WrongQuestionnaire { .. } => "wrong_questionnaire",
            StoreError::UnknownItem(_) => "unknown_item",
            StoreError::InvalidAnswer { .. } => "invalid_answer",
            StoreError::Incomplete(_) => "interview_incomplete",
            StoreError::Corrupt(_) => "storage_corrupt",
            StoreError::NoDiscardReason => "discard_reason_missing",
            StoreError::CannotDiscard { .. } => "cannot_discard",
            StoreError::Backup { .. } => "backup_failed",
            StoreError::NotABackup(_) => "not_a_backup",
            StoreError::InvalidQuestionnaire { .. } => "invalid_questionnaire",
            StoreError::QuestionnaireChanged { .. } => "questionnaire_changed",
            StoreError::BadPin => "bad_pin",
            StoreError::SurveyorIncomplete => "surveyor_incomplete",
            StoreError::SurveyorExists(_) => "surveyor_exists",
            StoreError::UnknownSurveyor(_) => "unknown_surveyor",
            StoreError::SurveyorRetired(_) => "surveyor_retired",
            StoreError::SurveyorsFromServer => "surveyors_from_server",
            StoreError::BadLocation(_) => "bad_location",
            StoreError::SurveyorNeeded => "surveyor_needed",
            StoreError::WrongPin { .. } => "wrong_pin",
            StoreError::TooManyPinAttempts { .. } => "too_many_attempts",
            StoreError::UnknownSite(_) => "unknown_site",
            StoreError::BadServerUrl => "bad_server_url",
            StoreError::DeviceNameMissing => "device_name_missing",
            StoreError::DispositionNotAllowed { .. } => "disposition_not_allowed",
            StoreError::DispositionReasonMissing(_) => "disposition_reason_missing",
            StoreError::FeedbackGone(_) => "feedback_gone",
            StoreError::QuizChanged(_) => "quiz_changed",
            StoreError::UnknownBackcheck(_) => "unknown_backcheck",
            StoreError::OwnBackcheck => "own_backcheck",
            StoreError::BackcheckChanged(_) => "backcheck_changed",
            StoreError::BadPhone(_) => "bad_phone",
            StoreError::BadCallName => "bad_call_name",
            StoreError::RecontactNotAsked(_) => "recontact_not_asked",
            StoreError::RecontactAnswered(_) => "recontact_answered",
            StoreError::Key(_) => "database_key_unusable",
            StoreError::WrongKey => "database_key_wrong",
            StoreError::Io { .. } => "storage_failed",
        }
    }
}

/// A state as stored in the `interview` table.
fn parse_state(s: &str) -> Result<InterviewState, StoreError> {
    InterviewState::from_name(s).ok_or_else(|| StoreError::Corrupt(format!("unknown state '{s}'")))
}

/// Why a practice contact that ended otherwise than completed was discarded: practice
/// contacts are not uploaded (only completed practice interviews are, for the trainee's record).
pub const PRACTICE_CONTACT_REASON: &str = "练习：没做完的练习不上传";

/// What is known when an interview starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInterview {
    pub id: Uuid,
    pub started_at: DateTime<Utc>,
    /// The device's offset from UTC, in minutes (+480 in China).
    pub utc_offset_minutes: i32,
    pub site_id: Option<String>,
    pub surveyor_id: Option<String>,
    /// The language the respondent's screens are shown in.
    pub language: Option<String>,
    /// A practice interview of surveyor training: uploaded marked as practice, never counted.
    pub practice: bool,
}

impl NewInterview {
    pub fn new(id: Uuid, started_at: DateTime<Utc>, utc_offset_minutes: i32) -> Self {
        NewInterview {
            id,
            started_at,
            utc_offset_minutes,
            site_id: None,
            surveyor_id: None,
            language: None,
            practice: false,
        }
    }
}

/// What the tablet is told when a surveyor starts an interview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TabletStart<'a> {
    pub id: Uuid,
    pub started_at: DateTime<Utc>,
    /// The device's offset from UTC, in minutes.
    pub utc_offset_minutes: i32,
    /// The surveyor signed in, if any.
    pub signed_in: Option<&'a str>,
    /// The language wanted for the respondent's screens.
    pub language: Option<&'a str>,
    /// A practice interview of surveyor training.
    pub practice: bool,
}

pub struct DeviceStore {
    conn: Connection,
    /// Per interview, the monotonic instant it (virtually) started: answer events record the
    /// time since then, which wall-clock changes cannot disturb. After a restart the clock
    /// resumes from the last recorded elapsed time.
    clocks: HashMap<Uuid, Instant>,
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_timestamp(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("bad timestamp '{s}': {e}")))
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("store values serialise to JSON")
}

fn from_json<T: for<'de> Deserialize<'de>>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("bad stored JSON: {e}")))
}

impl DeviceStore {
    /// Opens (creating if needed) the device database at `path`, encrypted with `key`, and brings
    /// its schema up to date. A plain database left by an older app is encrypted in place first
    /// (`src/encryption.rs`); a wrong key is [`StoreError::WrongKey`].
    pub fn open(path: &Path, key: &DatabaseKey) -> Result<Self, StoreError> {
        Self::open_reporting(path, key, &mut |_| {})
    }

    /// [`DeviceStore::open`], telling `on_step` each step of encrypting a plain database.
    pub fn open_reporting(
        path: &Path,
        key: &DatabaseKey,
        on_step: &mut dyn FnMut(EncryptionStep),
    ) -> Result<Self, StoreError> {
        let conn = encryption::open_encrypted(path, key, on_step)?;
        Self::with_connection(conn)
    }

    /// Opens a database with no encryption: what the app did before encryption came, kept for
    /// the tests that make such a database and for the benchmarks' baseline. The app never
    /// calls it.
    pub fn open_plain(path: &Path) -> Result<Self, StoreError> {
        Self::with_connection(Connection::open(path)?)
    }

    fn with_connection(mut conn: Connection) -> Result<Self, StoreError> {
        // WAL: a reader (the sync task, a status poll) never blocks the writer saving an answer,
        // and a commit is one sequential append.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: in WAL mode NORMAL may lose the last commits on power loss; an answer the screen
        // showed as saved must survive a flat battery, and one fsync per answer is cheap.
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Answers and events must belong to an interview that exists.
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // A second connection (backup export, a test reading the file) may hold a lock briefly.
        conn.busy_timeout(Duration::from_secs(5))?;
        migrations::migrate(&mut conn)?;
        Ok(DeviceStore {
            conn,
            clocks: HashMap::new(),
        })
    }

    /// Milliseconds since the interview started, by the monotonic clock.
    fn elapsed_ms(&mut self, id: Uuid) -> Result<i64, StoreError> {
        if let Some(start) = self.clocks.get(&id) {
            return Ok(start.elapsed().as_millis() as i64);
        }
        let last: Option<i64> = self.conn.query_row(
            "SELECT max(coalesce((SELECT max(elapsed_ms) FROM answer_event WHERE interview_id = ?1), 0),
                        coalesce((SELECT max(max(shown_ms, coalesce(left_ms, 0))) FROM screen_visit WHERE interview_id = ?1), 0))",
            [id.to_string()],
            |row| row.get(0),
        )?;
        let last = last.unwrap_or(0).max(0);
        let start = Instant::now()
            .checked_sub(Duration::from_millis(last as u64))
            .unwrap_or_else(Instant::now);
        self.clocks.insert(id, start);
        Ok(last)
    }

    /// Starts an interview of `questionnaire` and returns its id.
    pub fn start_interview(
        &mut self,
        questionnaire: &Questionnaire,
        new: &NewInterview,
    ) -> Result<Uuid, StoreError> {
        self.conn.execute(
            "INSERT INTO interview (id, questionnaire_id, questionnaire_version, state, started_at, utc_offset_minutes, site_id, surveyor_id, language, practice)
             VALUES (?1, ?2, ?3, 'in_progress', ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                new.id.to_string(),
                questionnaire.id,
                questionnaire.version,
                timestamp(new.started_at),
                new.utc_offset_minutes,
                new.site_id,
                new.surveyor_id,
                new.language,
                new.practice,
            ],
        )?;
        self.clocks.insert(new.id, Instant::now());
        Ok(new.id)
    }

    /// Starts an interview as a surveyor does on the tablet: by the surveyor signed in (see
    /// [`DeviceStore::interview_surveyor`]), at the site chosen for today, in the language
    /// asked for when the questionnaire has it (else its default). Returns what was stored.
    pub fn start_interview_on_tablet(
        &mut self,
        questionnaire: &Questionnaire,
        start: &TabletStart<'_>,
    ) -> Result<NewInterview, StoreError> {
        let mut new = NewInterview::new(start.id, start.started_at, start.utc_offset_minutes);
        new.surveyor_id = self.interview_surveyor(start.signed_in)?;
        new.site_id = self.current_site()?;
        new.language = Some(questionnaire.interview_language(start.language).to_string());
        new.practice = start.practice;
        self.start_interview(questionnaire, &new)?;
        Ok(new)
    }

    pub fn interview(&self, id: Uuid) -> Result<InterviewSummary, StoreError> {
        self.conn
            .query_row(
                "SELECT questionnaire_id, questionnaire_version, state, started_at, completed_at, site_id,
                        surveyor_id, sync_code, sync_message, discard_reason, language,
                        disposition, disposition_reason, feedback IS NOT NULL, practice
                 FROM interview WHERE id = ?1",
                [id.to_string()],
                |row| {
                    Ok((
                        (
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, String>(3)?,
                            row.get::<_, Option<String>>(4)?,
                        ),
                        (
                            row.get::<_, Option<String>>(5)?,
                            row.get::<_, Option<String>>(6)?,
                            row.get::<_, Option<String>>(7)?,
                            row.get::<_, Option<String>>(8)?,
                            row.get::<_, Option<String>>(9)?,
                        ),
                        (
                            row.get::<_, Option<String>>(10)?,
                            row.get::<_, Option<String>>(11)?,
                            row.get::<_, Option<String>>(12)?,
                            row.get::<_, bool>(13)?,
                            row.get::<_, bool>(14)?,
                        ),
                    ))
                },
            )
            .optional()?
            .ok_or(StoreError::UnknownInterview(id))
            .and_then(
                |(
                    (qid, qver, state, started, completed),
                    (site, surveyor, code, message, reason),
                    (language, disposition, disposition_reason, feedback_kept, practice),
                )| {
                    let state = parse_state(&state)?;
                    let disposition = match disposition {
                        Some(name) => Some(Disposition::from_name(&name).ok_or_else(|| {
                            StoreError::Corrupt(format!("unknown disposition '{name}'"))
                        })?),
                        // completed before dispositions were kept
                        None if !matches!(
                            state,
                            InterviewState::InProgress | InterviewState::Discarded
                        ) =>
                        {
                            Some(Disposition::Completed)
                        }
                        None => None,
                    };
                    Ok(InterviewSummary {
                        id,
                        questionnaire_id: qid,
                        questionnaire_version: qver,
                        state,
                        started_at: parse_timestamp(&started)?,
                        completed_at: completed.as_deref().map(parse_timestamp).transpose()?,
                        site_id: site,
                        surveyor_id: surveyor,
                        sync_code: code,
                        sync_message: message,
                        discard_reason: reason,
                        language,
                        disposition,
                        disposition_reason,
                        feedback_kept,
                        practice,
                    })
                },
            )
    }

    fn open_interview(
        &self,
        questionnaire: &Questionnaire,
        id: Uuid,
    ) -> Result<InterviewSummary, StoreError> {
        let interview = self.interview(id)?;
        if interview.state != InterviewState::InProgress {
            return Err(StoreError::NotInProgress {
                id,
                state: interview.state,
            });
        }
        if (
            interview.questionnaire_id.as_str(),
            interview.questionnaire_version.as_str(),
        ) != questionnaire.version_key()
        {
            return Err(StoreError::WrongQuestionnaire {
                id,
                expected: format!(
                    "{} {}",
                    interview.questionnaire_id, interview.questionnaire_version
                ),
                given: format!("{} {}", questionnaire.id, questionnaire.version),
            });
        }
        Ok(interview)
    }

    /// Validates and saves one answer, and records the change as an event, in one transaction.
    /// When this returns `Ok`, the answer is on disk.
    pub fn save_answer(
        &mut self,
        questionnaire: &Questionnaire,
        interview_id: Uuid,
        item_id: &str,
        value: &AnswerValue,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if questionnaire.item(item_id).is_none() {
            return Err(StoreError::UnknownItem(item_id.to_string()));
        }
        self.open_interview(questionnaire, interview_id)?;
        let answers = self.answers(interview_id)?;
        questionnaire
            .check_answer(item_id, value, &answers)
            .map_err(|error| StoreError::InvalidAnswer {
                item_id: item_id.to_string(),
                error,
            })?;
        let elapsed_ms = self.elapsed_ms(interview_id)?;
        let id = interview_id.to_string();
        let new_value = to_json(value);
        let at = timestamp(now);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let old_value: Option<String> = tx
            .query_row(
                "SELECT value FROM answer WHERE interview_id = ?1 AND item_id = ?2",
                params![id, item_id],
                |row| row.get(0),
            )
            .optional()?;
        if old_value.as_deref() == Some(new_value.as_str()) {
            return Ok(()); // the same answer again: nothing changed, no event
        }
        tx.execute(
            "INSERT INTO answer (interview_id, item_id, value, answered_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (interview_id, item_id) DO UPDATE SET value = excluded.value, answered_at = excluded.answered_at",
            params![id, item_id, new_value, at],
        )?;
        tx.execute(
            "INSERT INTO answer_event (interview_id, item_id, old_value, new_value, recorded_at, elapsed_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, item_id, old_value, new_value, at, elapsed_ms],
        )?;
        // The fingerprint changes only with a fingerprint item's answer: kept current for the
        // repeat check of the other interviews on this tablet.
        if questionnaire
            .fingerprint_items()
            .any(|item| item.id == item_id)
        {
            let mut answers = answers;
            answers.insert(item_id.to_string(), value.clone());
            repeat::keep_fingerprint_in_progress(&tx, questionnaire, interview_id, &answers)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The current answers of an interview.
    pub fn answers(&self, interview_id: Uuid) -> Result<Answers, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT item_id, value FROM answer WHERE interview_id = ?1")?;
        let rows = stmt.query_map([interview_id.to_string()], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?;
        let mut answers = Answers::new();
        for row in rows {
            let (item_id, value) = row?;
            answers.insert(item_id, from_json(&value)?);
        }
        Ok(answers)
    }

    /// Number of recorded answer changes (first answers included) for an interview.
    pub fn answer_event_count(&self, interview_id: Uuid) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM answer_event WHERE interview_id = ?1",
            [interview_id.to_string()],
            |row| row.get(0),
        )?;
        Ok(n as u64)
    }

    /// Completes an interview whose answers satisfy the questionnaire, seals the upload payload
    /// and queues it. Refuses (changing nothing) while a required answer is missing.
    pub fn complete_interview(
        &mut self,
        questionnaire: &Questionnaire,
        interview_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<CompletedInterview, StoreError> {
        let interview = self.open_interview(questionnaire, interview_id)?;
        // Answers to items that are no longer asked stay on the device but are not sent.
        let answers = questionnaire.effective_answers(&self.answers(interview_id)?);
        let problems = questionnaire.check_interview(&answers);
        if !problems.is_empty() {
            return Err(StoreError::Incomplete(problems));
        }
        let offset: i32 = self.conn.query_row(
            "SELECT utc_offset_minutes FROM interview WHERE id = ?1",
            [interview_id.to_string()],
            |row| row.get(0),
        )?;
        // How it went: time on each screen, changes, and the round's quality flags.
        let settings = self.round_settings()?;
        let (thresholds, show_answer_key) = (settings.quality, settings.show_answer_key);
        let mut paradata = self.paradata(questionnaire, interview_id, &thresholds)?;
        // what the feedback page shown next offers, by the rule that draws it
        let offered = self.offered(questionnaire, &answers)?;
        paradata.material = offered.material();
        // Stored timestamps have millisecond precision: seal exactly what a re-read would give.
        let completed_at = parse_timestamp(&timestamp(now))?;
        let upload = CompletedInterview {
            id: interview_id,
            questionnaire_id: interview.questionnaire_id,
            questionnaire_version: interview.questionnaire_version,
            started_at: interview.started_at,
            completed_at,
            utc_offset_minutes: offset,
            answers,
            site_id: interview.site_id,
            surveyor_id: interview.surveyor_id,
            paradata: Some(paradata),
            practice: interview.practice,
            content_hash: String::new(),
        }
        .sealed();
        // With the round's public key, the content is sealed to it and the device keeps only
        // the sealed upload and what its screens show (state, times, site); the answers, their
        // history, the screen times and the places go in the same transaction.
        let sealed = match self.round_key()? {
            Some(key) => Some(
                key.seal(&upload, &mut zhisu_protocol::sealed::OsRng)
                    .map_err(|e| StoreError::Corrupt(format!("the round key: {e}")))?,
            ),
            None => None,
        };
        self.close_screen_visits(interview_id)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The respondent fingerprint stays when the answers go: the server's very fact, and the
        // day the interview ended, for the repeat check of later interviews.
        let fingerprint =
            repeat::ended_fingerprint(questionnaire, &upload.answers, upload.site_id.as_deref());
        // The feedback page, kept for a day so that it can be shown again after a crash: the
        // score and the answers to the items answered wrong, never the rest.
        let kept = feedback::Kept::of(
            questionnaire,
            &upload.answers,
            show_answer_key,
            &offered,
            upload.practice,
            upload
                .paradata
                .as_ref()
                .map(|p| p.flags.clone())
                .unwrap_or_default(),
        );
        let changed = tx.execute(
            "UPDATE interview SET state = 'completed', completed_at = ?2, payload = ?3, content_hash = ?4, sealed = ?5,
                 disposition = 'completed', fingerprint = ?6, local_day = ?7, feedback = ?8
             WHERE id = ?1 AND state = 'in_progress'",
            params![
                interview_id.to_string(),
                timestamp(completed_at),
                sealed.is_none().then(|| to_json(&upload)),
                upload.content_hash,
                sealed.as_ref().map(to_json),
                fingerprint,
                repeat::local_day(completed_at, offset),
                to_json(&kept),
            ],
        )?;
        feedback::forget_old(&tx, completed_at)?;
        if changed != 1 {
            return Err(StoreError::Corrupt(format!(
                "interview {interview_id} changed state while completing"
            )));
        }
        if sealed.is_some() {
            for table in [
                "answer_event",
                "answer",
                "screen_visit",
                "interview_location",
            ] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE interview_id = ?1"),
                    [interview_id.to_string()],
                )?;
            }
        }
        tx.commit()?;
        self.clocks.remove(&interview_id);
        Ok(upload)
    }

    /// Ends an unfinished contact with its disposition, seals it and queues it for upload like
    /// a completed interview (same queue, same receipts). `wanted` `None`: the disposition the
    /// eligibility rule decided (refused at consent, or not eligible, naming the screening
    /// items); otherwise one of [`Questionnaire::closing_dispositions`] for the answers so far.
    /// A partial or "not reached/other" contact needs a reason; a refusal may have one.
    pub fn close_contact(
        &mut self,
        questionnaire: &Questionnaire,
        interview_id: Uuid,
        wanted: Option<Disposition>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<ContactOutcome, StoreError> {
        let interview = self.open_interview(questionnaire, interview_id)?;
        let practice = interview.practice;
        let answers = questionnaire.effective_answers(&self.answers(interview_id)?);
        let reason = reason.trim();
        let not_allowed = |wanted: Disposition, why: &str| StoreError::DispositionNotAllowed {
            wanted: wanted.as_str().to_string(),
            why: why.to_string(),
        };
        let (disposition, excluded_by) = match (questionnaire.screened_out(&answers), wanted) {
            (Some(ScreenedOut::Refused), None | Some(Disposition::Refused)) => {
                (Disposition::Refused, Vec::new())
            }
            (Some(ScreenedOut::NotEligible { items }), None | Some(Disposition::NotEligible)) => {
                (Disposition::NotEligible, items)
            }
            (Some(_), Some(wanted)) => {
                return Err(not_allowed(
                    wanted,
                    "the eligibility rule already decided how this contact ended",
                ))
            }
            (None, None) => return Err(not_allowed(
                Disposition::NotEligible,
                "the answers have not screened the respondent out; choose how the contact ended",
            )),
            (None, Some(wanted)) => {
                if !questionnaire
                    .closing_dispositions(&answers)
                    .contains(&wanted)
                {
                    let why = match wanted {
                        Disposition::Partial => "a partial interview needs a respondent who agreed and is eligible",
                        Disposition::Refused => "the respondent already agreed to take part: a break-off is a partial interview",
                        Disposition::NotEligible => "the answers have not screened the respondent out",
                        _ => "complete the interview instead",
                    };
                    return Err(not_allowed(wanted, why));
                }
                (wanted, Vec::new())
            }
        };
        if reason.is_empty() && matches!(disposition, Disposition::Partial | Disposition::Other) {
            return Err(StoreError::DispositionReasonMissing(
                disposition.as_str().to_string(),
            ));
        }
        let offset: i32 = self.conn.query_row(
            "SELECT utc_offset_minutes FROM interview WHERE id = ?1",
            [interview_id.to_string()],
            |row| row.get(0),
        )?;
        let population = questionnaire
            .background_item(BackgroundRole::Population)
            .and_then(|item| match answers.get(&item.id) {
                Some(AnswerValue::Choice(key)) => Some(key.clone()),
                _ => None,
            });
        let ended_at = parse_timestamp(&timestamp(now))?;
        let shown_reason = match disposition {
            Disposition::NotEligible => Some(excluded_by.join(", ")),
            _ => (!reason.is_empty()).then(|| reason.to_string()),
        };
        let contact = ContactOutcome {
            id: interview_id,
            questionnaire_id: interview.questionnaire_id,
            questionnaire_version: interview.questionnaire_version,
            started_at: interview.started_at,
            ended_at,
            utc_offset_minutes: offset,
            disposition,
            reason: (!reason.is_empty()).then(|| reason.to_string()),
            items_answered: answers.len() as u32,
            excluded_by,
            site_id: interview.site_id,
            surveyor_id: interview.surveyor_id,
            population,
            content_hash: String::new(),
        }
        .sealed();
        if practice {
            // a practice contact is not survey fieldwork: it ends on the tablet, never uploaded
            self.conn.execute(
                "UPDATE interview SET state = 'discarded', discarded_at = ?2, discard_reason = ?3,
                     disposition = ?4, disposition_reason = ?5
                 WHERE id = ?1 AND state = 'in_progress'",
                params![
                    interview_id.to_string(),
                    timestamp(ended_at),
                    PRACTICE_CONTACT_REASON,
                    disposition.as_str(),
                    shown_reason,
                ],
            )?;
            self.close_screen_visits(interview_id)?;
            self.clocks.remove(&interview_id);
            return Ok(contact);
        }
        let fingerprint =
            repeat::ended_fingerprint(questionnaire, &answers, contact.site_id.as_deref());
        let changed = self.conn.execute(
            "UPDATE interview SET state = 'completed', completed_at = ?2, payload = ?3, content_hash = ?4,
                 disposition = ?5, disposition_reason = ?6, fingerprint = ?7, local_day = ?8
             WHERE id = ?1 AND state = 'in_progress'",
            params![
                interview_id.to_string(),
                timestamp(ended_at),
                to_json(&contact),
                contact.content_hash,
                disposition.as_str(),
                shown_reason,
                fingerprint,
                repeat::local_day(ended_at, offset),
            ],
        )?;
        if changed != 1 {
            return Err(StoreError::Corrupt(format!(
                "interview {interview_id} changed state while closing"
            )));
        }
        self.close_screen_visits(interview_id)?;
        self.clocks.remove(&interview_id);
        Ok(contact)
    }

    /// Gives up an interview that has not been sent (refused half-way, started by mistake),
    /// with the surveyor's reason. Its answers stay on the device for review.
    pub fn discard_interview(
        &mut self,
        interview_id: Uuid,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if reason.trim().is_empty() {
            return Err(StoreError::NoDiscardReason);
        }
        let interview = self.interview(interview_id)?;
        // a contact closed with its outcome (refused, not eligible…) is counted as it is
        let closed_contact = !matches!(interview.disposition, None | Some(Disposition::Completed));
        if closed_contact
            || !matches!(
                interview.state,
                InterviewState::InProgress | InterviewState::Completed
            )
        {
            return Err(StoreError::CannotDiscard {
                id: interview_id,
                state: interview.state,
            });
        }
        self.conn.execute(
            "UPDATE interview SET state = 'discarded', discarded_at = ?2, discard_reason = ?3
             WHERE id = ?1 AND state IN ('in_progress', 'completed')",
            params![interview_id.to_string(), timestamp(now), reason.trim()],
        )?;
        self.clocks.remove(&interview_id);
        Ok(())
    }

    /// The monotonic milliseconds since start recorded with each answer change, in order.
    pub fn answer_event_times(&self, interview_id: Uuid) -> Result<Vec<(String, i64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT item_id, coalesce(elapsed_ms, 0) FROM answer_event WHERE interview_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([interview_id.to_string()], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn state_counts(&self) -> Result<StateCounts, StoreError> {
        let mut counts = StateCounts::default();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT state, count(*) FROM interview GROUP BY state")?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)? as u64))
        })?;
        for row in rows {
            let (state, n) = row?;
            match parse_state(&state)? {
                InterviewState::InProgress => counts.in_progress = n,
                state if state.is_waiting() => counts.waiting += n,
                InterviewState::Acknowledged => counts.acknowledged = n,
                InterviewState::Rejected => counts.rejected = n,
                InterviewState::Discarded => counts.discarded = n,
                _ => unreachable!("waiting states are matched above"),
            }
        }
        Ok(counts)
    }

    /// All interviews, newest first.
    pub fn interviews(&self) -> Result<Vec<InterviewSummary>, StoreError> {
        let ids: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT id FROM interview ORDER BY started_at DESC, id")?;
            let rows = stmt.query_map([], |row| row.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        ids.iter()
            .map(|id| {
                let id = Uuid::parse_str(id)
                    .map_err(|e| StoreError::Corrupt(format!("bad interview id '{id}': {e}")))?;
                self.interview(id)
            })
            .collect()
    }

    /// `PRAGMA integrity_check` said "ok".
    pub fn integrity_ok(&self) -> Result<bool, StoreError> {
        let result: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
        Ok(result == "ok")
    }
}

#[cfg(test)]
mod tests;

/// The key the unit tests open their databases with.
#[cfg(test)]
pub(crate) fn test_key() -> DatabaseKey {
    DatabaseKey::from_bytes([7; 32])
}
