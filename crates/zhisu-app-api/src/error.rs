//! What every command fails with: `{code, message}`, where callers branch on `code`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal,)*) => {
        /// Why a command failed. Serialised as its snake_case code; the frontend matches on
        /// this enum, never on the message.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it crosses the webview (`"wrong_pin"`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The code named `code` (as the store, the sync engine or the server name it).
            pub fn from_code(code: &str) -> Option<ErrorCode> {
                match code {
                    $($code => Some(ErrorCode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

error_codes! {
    // --- the device store (zhisu-store's `StoreError::code`)
    /// A SQLite call failed: nothing was saved.
    StorageFailed = "storage_failed",
    /// The database was written by a newer app.
    DatabaseTooNew = "database_too_new",
    UnknownInterview = "unknown_interview",
    /// The interview is no longer in progress.
    InterviewClosed = "interview_closed",
    WrongQuestionnaire = "wrong_questionnaire",
    UnknownItem = "unknown_item",
    InvalidAnswer = "invalid_answer",
    /// A required answer is missing.
    InterviewIncomplete = "interview_incomplete",
    StorageCorrupt = "storage_corrupt",
    DiscardReasonMissing = "discard_reason_missing",
    CannotDiscard = "cannot_discard",
    /// The answers so far do not allow this disposition (a partial needs an eligible
    /// respondent who consented; a refusal, no consent yet).
    DispositionNotAllowed = "disposition_not_allowed",
    /// A partial or "not reached/other" contact needs the surveyor's reason.
    DispositionReasonMissing = "disposition_reason_missing",
    /// The feedback page of a completed interview is kept for a day only (or the interview was
    /// completed before it was kept).
    FeedbackGone = "feedback_gone",
    BackupFailed = "backup_failed",
    NotABackup = "not_a_backup",
    InvalidQuestionnaire = "invalid_questionnaire",
    QuestionnaireChanged = "questionnaire_changed",
    /// A PIN is 4 to 6 digits.
    BadPin = "bad_pin",
    SurveyorIncomplete = "surveyor_incomplete",
    SurveyorExists = "surveyor_exists",
    UnknownSurveyor = "unknown_surveyor",
    /// A surveyor retired on the server, or one added on the tablet once the district's
    /// surveyors come from the server (issue 15): they can no longer sign in.
    SurveyorRetired = "surveyor_retired",
    /// The district's surveyors come from the server: none is added on the tablet.
    SurveyorsFromServer = "surveyors_from_server",
    BadLocation = "bad_location",
    /// The tablet has surveyors and none is signed in.
    SurveyorNeeded = "surveyor_needed",
    WrongPin = "wrong_pin",
    /// Too many wrong PINs in a row: tries are refused for a while.
    TooManyAttempts = "too_many_attempts",
    /// The site is not assigned to this device.
    UnknownSite = "unknown_site",
    /// A quiz was kept already with other answers (the first is kept).
    QuizChanged = "quiz_changed",
    /// The back-check is not on this tablet (done elsewhere, or no longer open).
    UnknownBackcheck = "unknown_backcheck",
    /// A back-check is done by another surveyor than the interview's.
    OwnBackcheck = "own_backcheck",
    /// The back-check was kept already with other answers (the first is kept).
    BackcheckChanged = "backcheck_changed",
    /// Not a phone number a back-check can call (the message says why, in plain words).
    BadPhone = "bad_phone",
    /// How to address the respondent is too long or holds hidden characters.
    BadCallName = "bad_call_name",
    /// The re-contact card is not asked for this interview (not completed here, a practice
    /// interview, or the round has no back-checks).
    RecontactNotAsked = "recontact_not_asked",
    /// The re-contact card was answered already, otherwise (the first answer is kept).
    RecontactAnswered = "recontact_answered",
    /// A server address starts with http:// or https://.
    BadServerUrl = "bad_server_url",
    DeviceNameMissing = "device_name_missing",
    // --- the shell
    /// An interview is in progress: the app is not updated now (finish or close it first).
    InterviewOpen = "interview_open",
    /// No newer version is downloaded and checked.
    UpdateNotReady = "update_not_ready",
    /// The downloaded version failed its checks (the message says which): never installed.
    UpdateRefused = "update_refused",
    /// The app was installed by IT (or this device cannot update itself): IT installs it.
    UpdateManaged = "update_managed",
    /// Replacing the program failed; the old one is still in place.
    UpdateFailed = "update_failed",
    UnknownQuestionnaire = "unknown_questionnaire",
    /// The item has no recording.
    NoAudio = "no_audio",
    BadAudioPath = "bad_audio_path",
    /// The recording is not on this tablet.
    AudioMissing = "audio_missing",
    AudioTooLarge = "audio_too_large",
    /// The item has no picture.
    NoPicture = "no_picture",
    BadPicturePath = "bad_picture_path",
    /// The picture is not on this tablet.
    PictureMissing = "picture_missing",
    BadPicture = "bad_picture",
    NoQrCode = "no_qr_code",
    /// A fault of the app itself (logged on the native side).
    Internal = "internal",
    // --- the server, when enrolling (zhisu-sync's `SyncError::code`)
    ServerUnreachable = "server_unreachable",
    BadServerResponse = "bad_server_response",
    InvalidEnrolmentCode = "invalid_enrolment_code",
    RateLimited = "rate_limited",
    DeviceRevoked = "device_revoked",
    UnsupportedProtocol = "unsupported_protocol",
    /// The server refused with a code this app does not know (the message says which).
    ServerRefused = "server_refused",
    // --- the webview side of a call
    /// The arguments could not be sent.
    BadArguments = "bad_arguments",
    /// The answer could not be read.
    BadResponse = "bad_response",
    /// The native side did not answer with `{code, message}`.
    AppUnavailable = "app_unavailable",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        ErrorCode::from_code(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code '{code}'")))
    }
}

/// The `{code, message}` every command fails with. The message is for people (and logs); the
/// code is what callers branch on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
}

impl CommandError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        CommandError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for CommandError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_snake_case_unique_and_round_trips() {
        let mut seen = std::collections::BTreeSet::new();
        for &code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(
                text.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{text}"
            );
            assert!(seen.insert(text), "{text} twice");
            assert_eq!(ErrorCode::from_code(text), Some(code));
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        }
        assert_eq!(ErrorCode::from_code("no_such_code"), None);
        assert!(serde_json::from_str::<ErrorCode>("\"no_such_code\"").is_err());
    }

    #[test]
    fn a_command_error_crosses_as_code_and_message() {
        let error = CommandError::new(ErrorCode::WrongPin, "the PIN is not right");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "wrong_pin", "message": "the PIN is not right"})
        );
        assert_eq!(serde_json::from_value::<CommandError>(json).unwrap(), error);
    }
}
