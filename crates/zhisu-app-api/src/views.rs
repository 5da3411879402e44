//! The values commands take and return. Some are the device store's own records (an interview,
//! a surveyor, a sync-log row): the store uses these very types, so they are written once.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_core::{ScoreReport, Text};

/// Where an interview is in its life on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterviewState {
    InProgress,
    /// Completed, waiting for the next sync.
    Completed,
    /// In an upload being sent right now.
    Queued,
    /// Sent, but no receipt came back: it may have arrived; it will be sent again.
    Sent,
    /// The server confirmed it holds exactly this interview.
    Acknowledged,
    /// The server will not take it as sent (see the sync code and message).
    Rejected,
    /// Given up on the device, with a reason; never sent.
    Discarded,
}

impl InterviewState {
    pub const ALL: [(InterviewState, &'static str); 7] = [
        (InterviewState::InProgress, "in_progress"),
        (InterviewState::Completed, "completed"),
        (InterviewState::Queued, "queued"),
        (InterviewState::Sent, "sent"),
        (InterviewState::Acknowledged, "acknowledged"),
        (InterviewState::Rejected, "rejected"),
        (InterviewState::Discarded, "discarded"),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(state, _)| *state == self)
            .map(|(_, name)| *name)
            .expect("every state is listed")
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(state, _)| *state)
    }

    /// Completed and not yet confirmed by the server.
    pub fn is_waiting(self) -> bool {
        matches!(
            self,
            InterviewState::Completed | InterviewState::Queued | InterviewState::Sent
        )
    }

    /// Still on the device and not sent: the surveyor may give it up.
    pub fn can_discard(self) -> bool {
        matches!(self, InterviewState::InProgress | InterviewState::Completed)
    }
}

impl fmt::Display for InterviewState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One interview as the device holds it ("my interviews").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterviewSummary {
    pub id: Uuid,
    pub questionnaire_id: String,
    pub questionnaire_version: String,
    pub state: InterviewState,
    pub started_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub site_id: Option<String>,
    pub surveyor_id: Option<String>,
    pub sync_code: Option<String>,
    pub sync_message: Option<String>,
    pub discard_reason: Option<String>,
    /// The language the respondent's screens are shown in (`None`: the questionnaire's default).
    pub language: Option<String>,
    /// How the contact ended (`None` while in progress or discarded).
    #[serde(default)]
    pub disposition: Option<zhisu_core::Disposition>,
    /// The surveyor's reason for a partial, refused or other contact; the items that excluded
    /// a respondent not eligible.
    #[serde(default)]
    pub disposition_reason: Option<String>,
    /// The feedback page of this completed interview can be shown again (kept for a day).
    #[serde(default)]
    pub feedback_kept: bool,
    /// A practice interview of surveyor training (shown marked, never counted).
    #[serde(default)]
    pub practice: bool,
}

/// How many interviews are in each state: what the sync badge shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCounts {
    pub in_progress: u64,
    /// Completed, queued or sent: not yet confirmed by the server.
    pub waiting: u64,
    pub acknowledged: u64,
    pub rejected: u64,
    pub discarded: u64,
}

/// A surveyor on this tablet (the PIN is never handed out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Surveyor {
    pub id: String,
    pub name: String,
}

/// How a sync attempt ended, in the sync log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncOutcome {
    Sending,
    Answered,
    Failed,
}

impl SyncOutcome {
    pub const ALL: [SyncOutcome; 3] = [
        SyncOutcome::Sending,
        SyncOutcome::Answered,
        SyncOutcome::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SyncOutcome::Sending => "sending",
            SyncOutcome::Answered => "answered",
            SyncOutcome::Failed => "failed",
        }
    }

    pub fn from_name(name: &str) -> Option<SyncOutcome> {
        Self::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

impl PartialEq<&str> for SyncOutcome {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One row of the sync log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncLogEntry {
    pub attempt: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub server_url: String,
    pub interviews: Vec<Uuid>,
    pub outcome: SyncOutcome,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub stored: u32,
    pub already_stored: u32,
    pub conflicts: u32,
    pub rejected: u32,
}

/// When a location was taken: as the interview started, or as it was completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationMoment {
    Start,
    End,
}

impl LocationMoment {
    pub fn as_str(self) -> &'static str {
        match self {
            LocationMoment::Start => "start",
            LocationMoment::End => "end",
        }
    }
}

/// A language of the surveyor's screens. Chinese first: it is the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UiLanguage {
    #[default]
    #[serde(rename = "zh-CN")]
    Zh,
    #[serde(rename = "en")]
    En,
}

impl UiLanguage {
    pub const ALL: [UiLanguage; 2] = [UiLanguage::Zh, UiLanguage::En];

    /// The language code (`zh-CN`, `en`), as questionnaires name languages.
    pub fn code(self) -> &'static str {
        match self {
            UiLanguage::Zh => "zh-CN",
            UiLanguage::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<UiLanguage> {
        Self::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// An item's picture for the webview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemPicture {
    /// `data:image/…;base64,…`
    pub url: String,
    /// What the picture shows, for a reader who cannot see it.
    pub alt: Option<Text>,
}

/// How the app's screens look. The high-contrast look is for bright sunlight and weak eyes:
/// black on white, thick black outlines, bold text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    #[default]
    Standard,
    HighContrast,
}

impl Theme {
    pub const ALL: [Theme; 2] = [Theme::Standard, Theme::HighContrast];

    /// The theme's name where it is stored and in the page (a class of the document).
    pub fn code(self) -> &'static str {
        match self {
            Theme::Standard => "standard",
            Theme::HighContrast => "high_contrast",
        }
    }

    pub fn from_code(code: &str) -> Option<Theme> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }
}

/// How large the screens' text is, for a respondent who reads with difficulty: question,
/// answers, buttons and feedback grow together (100 %, 125 %, 150 %).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextSize {
    #[default]
    Normal,
    Larger,
    Largest,
}

impl TextSize {
    pub const ALL: [TextSize; 3] = [TextSize::Normal, TextSize::Larger, TextSize::Largest];

    /// The size's name where it is stored.
    pub fn code(self) -> &'static str {
        match self {
            TextSize::Normal => "normal",
            TextSize::Larger => "larger",
            TextSize::Largest => "largest",
        }
    }

    pub fn from_code(code: &str) -> Option<TextSize> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// 0 (normal) to 2 (largest): the step of the page's `text-N` class.
    pub const fn step(self) -> u8 {
        match self {
            TextSize::Normal => 0,
            TextSize::Larger => 1,
            TextSize::Largest => 2,
        }
    }

    /// The next size up, and back to normal after the largest.
    pub fn next(self) -> TextSize {
        match self {
            TextSize::Normal => TextSize::Larger,
            TextSize::Larger => TextSize::Largest,
            TextSize::Largest => TextSize::Normal,
        }
    }
}

/// What the home screen shows for a questionnaire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionnaireSummary {
    pub id: String,
    pub version: String,
    pub title: Text,
    pub items: usize,
}

/// An interview just started, and the language its respondent's screens are in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedInterview {
    pub id: Uuid,
    pub language: String,
}

/// What the feedback screen shows after completing: the score, and whether this round lets
/// the respondent see the right answers and explanations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    pub report: ScoreReport,
    pub show_answer_key: bool,
    /// The take-home QR code is offered (the answer key is shown, a scored item was answered
    /// wrong and the tablet is enrolled with a server address).
    #[serde(default)]
    pub take_home_qr: bool,
    /// The education library's pieces for the wrong answers, from the library delivered to the
    /// tablet (a wrong item's piece: the first of these, by id, that names it).
    #[serde(default)]
    pub pieces: Vec<LibraryPiece>,
    /// A practice interview: the feedback page shows the trainee `flags`.
    #[serde(default)]
    pub practice: bool,
    /// The quality flags the interview was sealed with (the core's paradata flags under the
    /// round's thresholds): what a supervisor's quality control would see.
    #[serde(default)]
    pub flags: Vec<zhisu_core::QcFlag>,
    /// The round has back-checks and the respondent has not answered the re-contact card yet:
    /// the feedback page asks whether a colleague may phone them once (issue 15).
    #[serde(default)]
    pub ask_recontact: bool,
}

/// A piece of the education library as the feedback page shows it (issue 24): plain Chinese
/// about the knowledge points it names (scored items' ids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryPiece {
    pub id: String,
    pub version: u32,
    pub points: Vec<String>,
    pub title: String,
    /// Paragraphs separated by a blank line.
    pub text: String,
    pub source: String,
    /// A picture that shows the point, carried in the piece (`data:` address).
    #[serde(default)]
    pub picture: Option<PictureView>,
    /// The piece read aloud (`data:` address), for a worker who reads with difficulty.
    #[serde(default)]
    pub audio_url: Option<String>,
}

/// A picture to show: its address and what it shows in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PictureView {
    pub url: String,
    pub alt: String,
}

/// The feedback page of an interview completed on this tablet, shown again: the device keeps
/// its score summary for a day after completion (the answers themselves are sealed and
/// deleted), so a crash or a respondent who comes back does not lose it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeptFeedback {
    pub completion: Completion,
    /// The language of the respondent's screens (`None`: the questionnaire's default).
    pub language: Option<String>,
}

/// Search keys of the long lists of a questionnaire: item id → choice key → pinyin initials
/// and pinyin (made on the native side).
pub type SearchKeys = BTreeMap<String, BTreeMap<String, String>>;

/// How far the upload running now has got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncProgress {
    pub done: usize,
    pub total: usize,
}

/// What the sync badge says about the background sync.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    /// `None` before the first attempt.
    pub online: Option<bool>,
    pub last_error: Option<String>,
    /// Set while a pass runs.
    pub progress: Option<SyncProgress>,
    /// The policy says Wi-Fi only and the network is metered: nothing is sent.
    pub waiting_for_wifi: bool,
    /// The server revoked this device: syncing stopped.
    pub revoked: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncView {
    pub counts: StateCounts,
    pub status: SyncState,
    pub server_url: Option<String>,
}

/// This app's version and updates from the server (issue 22).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateView {
    pub current_version: String,
    /// Why this tablet does not update itself, when it does not.
    pub unavailable: Option<UpdateUnavailable>,
    /// The newer version the server offered, when there is one.
    pub offered: Option<UpdateOffer>,
    /// Interviews in progress: none may be open to install.
    pub open_interviews: u64,
}

/// Why a tablet does not update itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateUnavailable {
    /// IT configured no release key: nothing is ever installed.
    NoKey,
    /// The app was installed by IT (a Debian package): IT installs new versions.
    ManagedInstall,
    /// This kind of device has no update packages.
    Unsupported,
}

/// A newer version downloaded from the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateOffer {
    pub version: String,
    pub notes_zh: String,
    pub notes_en: String,
    /// Checked (size, hash, release signature) and ready to install.
    pub ready: bool,
    /// Why it will not be installed, when it failed a check.
    pub refused: Option<String>,
}

/// This device's enrolment, without the token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IdentityView {
    pub enrolled: bool,
    /// Offered on the enrolment screen.
    pub default_server_url: String,
    pub server_url: Option<String>,
    pub device_id: Option<Uuid>,
    pub device_name: Option<String>,
    pub round: Option<String>,
    pub district: Option<String>,
    pub revoked: bool,
}

/// The surveyor's choices kept on this device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    /// The language of the surveyor's screens.
    pub language: UiLanguage,
    /// How the screens look.
    #[serde(default)]
    pub theme: Theme,
    /// How large the text is.
    #[serde(default)]
    pub text_size: TextSize,
}

/// The tablet's surveyors and the one signed in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyorsView {
    pub surveyors: Vec<Surveyor>,
    pub current: Option<Surveyor>,
    /// The district's surveyors come from the server (issue 15): none is added on the tablet.
    #[serde(default)]
    pub from_server: bool,
    /// Surveyors added on the tablet before, who can no longer sign in since the district's
    /// come from the server (shown with the reason).
    #[serde(default)]
    pub retired: Vec<Surveyor>,
}

/// One population's quota at a site and how many are done on this device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaView {
    pub population: String,
    pub label: Text,
    pub quota: u32,
    pub done: u32,
}

/// A site as "today's work" shows it: codes with their names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteView {
    pub id: String,
    pub name: String,
    pub district: Text,
    pub site_type: String,
    pub site_type_label: Text,
    pub industry: Option<Text>,
    pub ownership: Option<Text>,
    pub size: Option<Text>,
    pub quotas: Vec<QuotaView>,
    /// Interviews completed at this site on this device (any population).
    pub done: u32,
    /// The site's time slot running now (issue #15, travel peaks at stations), if it has one.
    #[serde(default)]
    pub current_slot: Option<SlotNowView>,
}

/// A time-slot quota running now at a site, and what this device has done in it (each
/// interview counted by its local start).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotNowView {
    pub label: String,
    /// Local time of day, `HH:MM`.
    pub from: String,
    pub to: String,
    pub target: u32,
    pub done: u32,
}

/// Today's work: the round, the assigned sites and the one chosen for new interviews.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TodayView {
    pub round: Option<String>,
    pub district: Option<Text>,
    pub current_site: Option<String>,
    pub sites: Vec<SiteView>,
}

impl TodayView {
    /// The site chosen for new interviews.
    pub fn chosen_site(&self) -> Option<&SiteView> {
        let id = self.current_site.as_ref()?;
        self.sites.iter().find(|s| &s.id == id)
    }
}

/// Whether the respondent of an interview in progress may already have answered today: another
/// interview on this tablet (not discarded) with the same respondent fingerprint
/// ([`zhisu_core::Questionnaire::respondent_fingerprint`]: the background answers and the site)
/// at the same site on the same local day. A warning for the surveyor, never a block: two
/// people can give the same background answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RepeatCheck {
    /// Not every fingerprint item that is asked has its answer yet.
    NotYetKnown,
    /// No other interview here today has the same answers.
    NoMatch,
    /// The interviews with the same fingerprint, site and day, earliest first.
    Match { matches: Vec<RepeatMatch> },
}

impl RepeatCheck {
    /// The earliest interview with the same answers, if any.
    pub fn first_match(&self) -> Option<&RepeatMatch> {
        match self {
            RepeatCheck::Match { matches } => matches.first(),
            _ => None,
        }
    }
}

/// Another interview with the same respondent fingerprint at the same site on the same day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatMatch {
    pub interview_id: Uuid,
    pub state: InterviewState,
    /// When it ended (completed or closed), or when it started while it is in progress.
    pub at: DateTime<Utc>,
    /// `at` on the tablet's clock as it was then (its own UTC offset), `HH:MM`.
    pub local_time: String,
}

/// An outreach event a quiz session can be attached to (delivered with the assignment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizEventView {
    pub id: Uuid,
    /// `enterprise`, `school`, `institution`, `community`, `village` or `station`.
    pub kind: String,
    pub place: String,
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
}

/// What the quiz screen offers before a quiz starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizSetupView {
    /// The district's events, newest first.
    pub events: Vec<QuizEventView>,
    /// The server named weak knowledge points for this questionnaire: a short quiz asks them
    /// first.
    pub has_weak_points: bool,
    /// Quiz sessions on this tablet still waiting for the server, and those it holds.
    pub waiting: u32,
    pub acknowledged: u32,
}

/// A quiz drawn by the shell (its randomness and clock): the items to ask, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizPlan {
    pub quiz_id: Uuid,
    pub started_at: DateTime<Utc>,
    pub items: Vec<String>,
    /// The education library's pieces for these items, so a wrong answer opens its piece
    /// offline (the first, by id, that names an item).
    #[serde(default)]
    pub pieces: Vec<LibraryPiece>,
}

/// One item asked in a quiz and whether it was answered right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizAnswer {
    pub item: String,
    pub right: bool,
}

/// A quiz session kept on the tablet and queued for the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizSummary {
    pub quiz_id: Uuid,
    pub right: u32,
    pub asked: u32,
    /// The score screen offers the take-home QR code (an item was missed and the tablet is
    /// enrolled with a server address): decided when the quiz was kept, and sealed into it.
    #[serde(default)]
    pub take_home_qr: bool,
}

/// A back-check (复核, issue 15) the signed-in surveyor may do: who to call, and the items to
/// re-ask (their questions are in the questionnaire version). Never the interview's answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackcheckView {
    pub id: Uuid,
    pub questionnaire_id: String,
    pub version: String,
    pub items: Vec<String>,
    pub contact: String,
}
