//! Errors to `{code, message}`. Internal failures (SQLite, damaged data, a fault of the app)
//! are logged with their detail and reach the webview with a plain message only.

use zhisu_app_api::{CommandError, ErrorCode};
use zhisu_store::StoreError;
use zhisu_sync::SyncError;

/// What a database job fails with: a store error, or an error already in the webview's terms.
#[derive(Debug)]
pub enum Failure {
    Store(StoreError),
    Command(CommandError),
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Failure::Store(error)
    }
}

impl From<CommandError> for Failure {
    fn from(error: CommandError) -> Self {
        Failure::Command(error)
    }
}

impl From<Failure> for CommandError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Store(error) => store_error(error),
            Failure::Command(error) => error,
        }
    }
}

/// A fault of the app: logged, and said plainly.
pub fn internal(detail: impl std::fmt::Display) -> CommandError {
    tracing::error!(%detail, "internal error");
    CommandError::new(
        ErrorCode::Internal,
        "the app failed; try again, and call the administrator if it keeps failing",
    )
}

pub fn store_error(error: StoreError) -> CommandError {
    let Some(code) = ErrorCode::from_code(error.code()) else {
        return internal(format!("{} (no error code for '{}')", error, error.code()));
    };
    match error {
        StoreError::Sqlite(_) | StoreError::Corrupt(_) => {
            tracing::error!(%error, "storage error");
            let message = match code {
                ErrorCode::StorageFailed => "the device database could not be read or written",
                _ => "data on this device is damaged",
            };
            CommandError::new(code, message)
        }
        error => CommandError::new(code, error.to_string()),
    }
}

/// An enrolment the server or the network refused.
pub fn sync_error(error: SyncError) -> CommandError {
    if let SyncError::Store(error) = error {
        return store_error(error);
    }
    let code = ErrorCode::from_code(error.code()).unwrap_or(ErrorCode::ServerRefused);
    CommandError::new(code, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_store_error_has_an_error_code_and_sqlite_detail_stays_inside() {
        let id = uuid::Uuid::from_u128(1);
        let errors = [
            StoreError::NewerSchema {
                found: 99,
                supported: 11,
            },
            StoreError::UnknownInterview(id),
            StoreError::NotInProgress {
                id,
                state: zhisu_store::InterviewState::Completed,
            },
            StoreError::WrongQuestionnaire {
                id,
                expected: "a".into(),
                given: "b".into(),
            },
            StoreError::UnknownItem("x".into()),
            StoreError::Incomplete(Vec::new()),
            StoreError::Corrupt("bad row".into()),
            StoreError::NoDiscardReason,
            StoreError::CannotDiscard {
                id,
                state: zhisu_store::InterviewState::Sent,
            },
            StoreError::NotABackup("x".into()),
            StoreError::InvalidQuestionnaire {
                id: "q".into(),
                version: "1".into(),
                reason: "r".into(),
            },
            StoreError::QuestionnaireChanged {
                id: "q".into(),
                version: "1".into(),
            },
            StoreError::BadPin,
            StoreError::SurveyorIncomplete,
            StoreError::SurveyorExists("S01".into()),
            StoreError::UnknownSurveyor("S01".into()),
            StoreError::BadLocation("x".into()),
            StoreError::SurveyorNeeded,
            StoreError::WrongPin { tries: 1 },
            StoreError::TooManyPinAttempts {
                until: chrono::Utc::now(),
            },
            StoreError::UnknownSite("x".into()),
            StoreError::QuizChanged(id),
            StoreError::UnknownBackcheck(id),
            StoreError::OwnBackcheck,
            StoreError::BackcheckChanged(id),
            StoreError::BadServerUrl,
            StoreError::DeviceNameMissing,
            StoreError::Sqlite(rusqlite_error()),
        ];
        for error in errors {
            let code = error.code();
            assert_eq!(store_error(error).code.as_str(), code);
        }
        let hidden = store_error(StoreError::Sqlite(rusqlite_error()));
        assert!(!hidden.message.contains("no such table"), "{hidden:?}");
    }

    fn rusqlite_error() -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(1),
            Some("no such table: secrets".into()),
        )
    }
}
