//! Every webview command: its name, its arguments and its result. A command's arguments cross
//! as one object under the key [`ARGS`] (`{"args": {...}}`); a command without arguments takes
//! `()`. It fails with [`CommandError`](crate::CommandError).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_core::{AnswerValue, Answers, QcFlag, Questionnaire};

use crate::views::*;

/// The key the arguments are sent under.
pub const ARGS: &str = "args";

/// One webview command.
pub trait Command {
    /// The name it is invoked by (the Tauri command's function name).
    const NAME: &'static str;
    type Args: Serialize + DeserializeOwned;
    type Output: Serialize + DeserializeOwned;
}

macro_rules! commands {
    ($($(#[$doc:meta])* $name:ident = $cmd:literal ($args:ty) -> $out:ty;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;

            impl Command for $name {
                const NAME: &'static str = $cmd;
                type Args = $args;
                type Output = $out;
            }
        )*

        /// The names of every command, in declaration order.
        pub const ALL: &[&str] = &[$($cmd,)*];
    };
}

/// A questionnaire version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionArgs {
    pub id: String,
    pub version: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemAudioArgs {
    pub id: String,
    pub version: String,
    pub item_id: String,
    /// Which answer's recording (a choice key, `true` or `false`); empty for the question.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub option: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartInterviewArgs {
    pub id: String,
    pub version: String,
    /// The language wanted for the respondent's screens (the surveyor's, usually); one the
    /// questionnaire does not have gives its default language.
    pub language: Option<String>,
    /// A practice interview of surveyor training (marked as practice everywhere, never
    /// counted as survey data).
    #[serde(default)]
    pub practice: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterviewArgs {
    pub interview_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaveAnswerArgs {
    pub interview_id: Uuid,
    pub item_id: String,
    pub value: AnswerValue,
}

/// The screen of `item_id` is shown (`None`: a screen that is not a question).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreenShownArgs {
    pub interview_id: Uuid,
    pub item_id: Option<String>,
}

/// A position from the webview's location service.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    pub latitude: f64,
    pub longitude: f64,
    pub accuracy_m: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RecordLocationArgs {
    pub interview_id: Uuid,
    pub moment: LocationMoment,
    pub fix: Fix,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscardArgs {
    pub interview_id: Uuid,
    pub reason: String,
}

/// Ends an unfinished contact with its disposition. `disposition` `None`: the one the
/// eligibility rule decided (refused at consent, or not eligible); otherwise `partial`,
/// `refused` or `other`, as the answers allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseContactArgs {
    pub interview_id: Uuid,
    #[serde(default)]
    pub disposition: Option<zhisu_core::Disposition>,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportBackupArgs {
    pub path: String,
}

/// Where [`BackupToDrive`] wrote the backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupWritten {
    /// The backup file (encrypted with the tablet's database key).
    pub path: String,
    /// On a removable drive (a USB stick) rather than in the tablet's own folders.
    pub removable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolArgs {
    pub server_url: String,
    pub code: String,
    pub device_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetLanguageArgs {
    pub language: UiLanguage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetThemeArgs {
    pub theme: Theme,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetTextSizeArgs {
    pub text_size: TextSize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChooseSiteArgs {
    pub site_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddSurveyorArgs {
    pub id: String,
    pub name: String,
    pub pin: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInArgs {
    pub id: String,
    pub pin: String,
}

/// A quiz of a questionnaire version: ten items (the weak points first) or all scored items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartQuizArgs {
    pub id: String,
    pub version: String,
    #[serde(default)]
    pub whole: bool,
}

/// A quiz played to the end: what was asked and answered right, and the event it was run at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishQuizArgs {
    pub quiz_id: Uuid,
    pub id: String,
    pub version: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    #[serde(default)]
    pub event_id: Option<Uuid>,
    pub items: Vec<QuizAnswer>,
}

/// A back-check done: reached or not, and the answers given again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaveBackcheckArgs {
    pub task_id: Uuid,
    pub reached: bool,
    #[serde(default)]
    pub answers: zhisu_core::Answers,
}

/// The respondent's answer to the re-contact card of the feedback page (复核, issue 15): may a
/// colleague phone them once? With a yes, the number and how to address them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecontactArgs {
    pub interview_id: Uuid,
    pub consent: bool,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub call_name: String,
}

commands! {
    /// The questionnaires a surveyor can start: the newest version of each.
    Questionnaires = "questionnaires"(()) -> Vec<QuestionnaireSummary>;
    GetQuestionnaire = "questionnaire"(VersionArgs) -> Questionnaire;
    /// For each long list (a single choice with search): choice key → pinyin search key.
    GetSearchKeys = "search_keys"(VersionArgs) -> SearchKeys;
    /// The recording of an item's question or of one of its answers read aloud, as a `data:`
    /// URL: the one delivered with the questionnaire version, else (the question) the file the
    /// questionnaire names.
    ItemAudio = "item_audio"(ItemAudioArgs) -> String;
    /// The questions and answers of a questionnaire version whose recordings are on the tablet.
    RecordedPlaces = "recorded_places"(VersionArgs) -> Vec<zhisu_core::RecordingSlot>;
    /// An item's picture, with its alternative text when the app knows it.
    ItemImage = "item_image"(ItemAudioArgs) -> ItemPicture;
    /// Starts an interview at the chosen site, by the signed-in surveyor (`practice`: a
    /// practice interview of surveyor training).
    StartInterview = "start_interview"(StartInterviewArgs) -> StartedInterview;
    /// Saves one answer; when this returns, the answer is on disk.
    SaveAnswer = "save_answer"(SaveAnswerArgs) -> ();
    /// Paradata: time on each screen.
    ScreenShown = "screen_shown"(ScreenShownArgs) -> ();
    /// Where the tablet was at the start or the end of an interview.
    RecordLocation = "record_location"(RecordLocationArgs) -> ();
    /// The quality flags the interview would be sent with if completed now.
    QualityCheck = "quality_check"(InterviewArgs) -> Vec<QcFlag>;
    /// For an interview in progress: whether another interview on this tablet (not discarded)
    /// has the same respondent fingerprint at the same site on the same local day.
    RepeatRespondent = "repeat_respondent"(InterviewArgs) -> RepeatCheck;
    CompleteInterview = "complete_interview"(InterviewArgs) -> Completion;
    /// The feedback page of an interview completed on this tablet in the last day, again.
    FeedbackAgain = "feedback_again"(InterviewArgs) -> KeptFeedback;
    /// Every interview on this device, newest first.
    Interviews = "interviews"(()) -> Vec<InterviewSummary>;
    /// The saved answers of an interview, to resume it where it stopped.
    InterviewAnswers = "interview_answers"(InterviewArgs) -> Answers;
    DiscardInterview = "discard_interview"(DiscardArgs) -> ();
    /// Ends an unfinished contact with its disposition (sealed and queued for upload).
    CloseContact = "close_contact"(CloseContactArgs) -> InterviewSummary;
    GetSyncStatus = "sync_status"(()) -> SyncView;
    SyncNow = "sync_now"(()) -> ();
    /// The newest sync attempts.
    GetSyncLog = "sync_log"(()) -> Vec<SyncLogEntry>;
    /// Writes a backup of the device database (for hand-over on a USB stick).
    ExportBackup = "export_backup"(ExportBackupArgs) -> ();
    /// Writes a backup where the surveyor can hand it over, the app choosing the place: the
    /// folder IT set (`ZHISU_BACKUP_DIR`), else a USB stick plugged in, else the documents folder.
    BackupToDrive = "backup_to_drive"(()) -> BackupWritten;
    /// The webview shows its first interactive screen (startup time, P5).
    MarkInteractive = "mark_interactive"(()) -> ();
    /// Milliseconds from the app's start to its first interactive screen.
    StartupMs = "startup_ms"(()) -> Option<u64>;
    GetIdentity = "identity"(()) -> IdentityView;
    Enrol = "enrol"(EnrolArgs) -> IdentityView;
    /// The text of a QR code. Its body is not JSON but raw bytes: width and height (u32,
    /// little-endian) and one grey byte per pixel.
    ReadQrCode = "read_qr_code"(()) -> String;
    GetPreferences = "preferences"(()) -> Preferences;
    SetLanguage = "set_language"(SetLanguageArgs) -> ();
    /// Switches the screens' look (kept on the device).
    SetTheme = "set_theme"(SetThemeArgs) -> ();
    /// Sets the screens' text size (kept on the device).
    SetTextSize = "set_text_size"(SetTextSizeArgs) -> ();
    /// Today's work: the round, the sites with their quotas, the site chosen.
    Today = "today"(()) -> TodayView;
    ChooseSite = "choose_site"(ChooseSiteArgs) -> ();
    GetSurveyors = "surveyors"(()) -> SurveyorsView;
    /// Adds a surveyor with a PIN of 4 to 6 digits, and signs them in.
    AddSurveyor = "add_surveyor"(AddSurveyorArgs) -> SurveyorsView;
    /// Signs a surveyor in with their PIN (wrong tries in a row are limited).
    SignInSurveyor = "sign_in_surveyor"(SignInArgs) -> SurveyorsView;
    /// Nobody is signed in until the next PIN.
    SignOutSurveyor = "sign_out_surveyor"(()) -> ();
    /// Quiz mode: the events to attach a quiz to, and the quiz sessions waiting.
    QuizSetup = "quiz_setup"(VersionArgs) -> QuizSetupView;
    /// Draws a quiz (the shell's randomness and clock); nothing is kept yet.
    StartQuiz = "start_quiz"(StartQuizArgs) -> QuizPlan;
    /// Keeps a quiz played to the end and queues it for the server (an outreach record, never
    /// an interview). Sending the same quiz again changes nothing.
    FinishQuiz = "finish_quiz"(FinishQuizArgs) -> QuizSummary;
    /// The back-checks the signed-in surveyor may do (none for the interview's own surveyor).
    Backchecks = "backchecks"(()) -> Vec<BackcheckView>;
    /// Keeps a back-check by the signed-in surveyor and queues it for the server.
    SaveBackcheck = "save_backcheck"(SaveBackcheckArgs) -> ();
    /// Keeps the respondent's answer to the re-contact card apart from the interview's
    /// answers; a yes (with the number) is uploaded after the interview and then deleted here.
    AnswerRecontact = "answer_recontact"(RecontactArgs) -> ();
    /// This app's version and the newer one downloaded from the server, if any (issue 22).
    GetUpdateStatus = "update_status"(()) -> UpdateView;
    /// Installs the newer version downloaded and checked, then restarts the app; refused with
    /// `interview_open` while an interview is in progress. Answers the version installed just
    /// before the app closes.
    InstallUpdate = "install_update"(()) -> String;
}

/// Largest side, in pixels, of a picture sent to [`ReadQrCode`].
pub const QR_MAX_SIDE: u32 = 1600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names_are_unique_and_arguments_cross_as_objects() {
        let mut names = ALL.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        let args = RecordLocationArgs {
            interview_id: Uuid::from_u128(1),
            moment: LocationMoment::End,
            fix: Fix {
                latitude: 29.5,
                longitude: 106.5,
                accuracy_m: 10.0,
            },
        };
        assert_eq!(
            serde_json::to_value(args).unwrap(),
            serde_json::json!({
                "interview_id": "00000000-0000-0000-0000-000000000001",
                "moment": "end",
                "fix": {"latitude": 29.5, "longitude": 106.5, "accuracy_m": 10.0}
            })
        );
        let language = SetLanguageArgs {
            language: UiLanguage::Zh,
        };
        assert_eq!(
            serde_json::to_value(language).unwrap(),
            serde_json::json!({"language": "zh-CN"})
        );
    }
}
