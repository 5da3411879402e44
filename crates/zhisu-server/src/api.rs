//! HTTP handlers. Every error is `{code, message}` with a fitting status; see
//! `docs/sync-protocol.md`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zhisu_core::ScoreReport;
use zhisu_protocol::{
    codes, ApiError, CompletedInterview, QuestionnaireDownload, QuestionnaireListing, Receipt,
    ReceiptStatus, UploadRequest, UploadResponse, MAX_BATCH_INTERVIEWS, PROTOCOL_HEADER,
    PROTOCOL_VERSION, QUESTIONNAIRES_PATH, UPLOAD_PATH,
};

use crate::ServerState;

pub fn router(state: ServerState) -> Router {
    let limit = state.max_body_bytes;
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(UPLOAD_PATH, post(upload))
        .route("/api/v1/interviews", get(list_interviews))
        .route(QUESTIONNAIRES_PATH, get(list_questionnaires))
        .route("/api/v1/questionnaires/{id}/{version}", get(download_questionnaire))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// An error response: status plus `{code, message}`.
pub struct Failure {
    status: StatusCode,
    error: ApiError,
}

impl Failure {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Failure {
            status,
            error: ApiError {
                code: code.to_string(),
                message: message.into(),
            },
        }
    }

    fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error");
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL,
            "the server could not complete the request; try again later",
        )
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.status, Json(self.error)).into_response()
    }
}

fn check_protocol(headers: &HeaderMap) -> Result<(), Failure> {
    let given = headers
        .get(PROTOCOL_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if given == PROTOCOL_VERSION.to_string() {
        Ok(())
    } else {
        Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::UNSUPPORTED_PROTOCOL,
            format!("this server speaks sync protocol {PROTOCOL_VERSION}; the request said {given:?} in the {PROTOCOL_HEADER} header"),
        ))
    }
}

fn json_rejection(rejection: JsonRejection) -> Failure {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::BATCH_TOO_LARGE,
            "the request body is too large; send fewer interviews per request",
        )
    } else {
        Failure::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_REQUEST,
            rejection.body_text(),
        )
    }
}

fn rejected(interview: &CompletedInterview, code: &str, message: String) -> Receipt {
    Receipt {
        interview_id: interview.id,
        status: ReceiptStatus::Rejected,
        code: Some(code.to_string()),
        message: Some(message),
    }
}

/// Checks one interview against its questionnaire and scores it, or says why it is rejected.
fn accept(state: &ServerState, interview: &CompletedInterview) -> Result<ScoreReport, Receipt> {
    if !interview.hash_is_valid() {
        return Err(rejected(
            interview,
            codes::CONTENT_HASH_MISMATCH,
            "the content hash does not match the interview; it was changed or damaged in transit"
                .into(),
        ));
    }
    let Some(questionnaire) = state.questionnaires.get(
        &interview.questionnaire_id,
        &interview.questionnaire_version,
    ) else {
        return Err(rejected(
            interview,
            codes::UNKNOWN_QUESTIONNAIRE_VERSION,
            format!(
                "the server has no questionnaire {} version {}",
                interview.questionnaire_id, interview.questionnaire_version
            ),
        ));
    };
    let problems = questionnaire.check_interview(&interview.answers);
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(rejected(interview, codes::INVALID_ANSWERS, list.join("; ")));
    }
    Ok(questionnaire.score(&interview.answers))
}

async fn upload(
    State(state): State<ServerState>,
    headers: HeaderMap,
    body: Result<Json<UploadRequest>, JsonRejection>,
) -> Result<Json<UploadResponse>, Failure> {
    check_protocol(&headers)?;
    let Json(request) = body.map_err(json_rejection)?;
    if request.interviews.len() > MAX_BATCH_INTERVIEWS {
        return Err(Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::BATCH_TOO_LARGE,
            format!(
                "at most {MAX_BATCH_INTERVIEWS} interviews per request; this one had {}",
                request.interviews.len()
            ),
        ));
    }
    let state_for_ingest = state.clone();
    let receipts = tokio::task::spawn_blocking(move || {
        ingest(&state_for_ingest, request.interviews)
    })
    .await
    .map_err(Failure::internal)?
    .map_err(Failure::internal)?;
    Ok(Json(UploadResponse { receipts }))
}

/// Checks, re-scores and stores a batch of interviews; one receipt per interview, in order.
/// Every interview is decided first (pure), then the accepted ones are stored in one
/// transaction: on error nothing of the batch is stored. Used by uploads and backup imports.
pub fn ingest(
    state: &ServerState,
    interviews: Vec<CompletedInterview>,
) -> Result<Vec<Receipt>, crate::DbError> {
    let mut receipts: Vec<Option<Receipt>> = Vec::with_capacity(interviews.len());
    let mut accepted = Vec::new();
    for interview in interviews {
        match accept(state, &interview) {
            Ok(score) => {
                receipts.push(None);
                accepted.push((interview, score));
            }
            Err(receipt) => receipts.push(Some(receipt)),
        }
    }
    let stored = state
        .db
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .ingest(&accepted, Utc::now())?;
    let mut stored = stored.into_iter();
    Ok(receipts
        .into_iter()
        .map(|r| r.or_else(|| stored.next()))
        .collect::<Option<Vec<_>>>()
        .expect("one stored receipt per accepted interview"))
}

/// One interview as the server holds it, with the server's own score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredInterview {
    pub interview: CompletedInterview,
    pub received_at: DateTime<Utc>,
    pub score: ScoreReport,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterviewList {
    pub count: usize,
    pub interviews: Vec<StoredInterview>,
}

async fn list_interviews(State(state): State<ServerState>) -> Result<Json<InterviewList>, Failure> {
    let db = state.db.clone();
    let interviews = tokio::task::spawn_blocking(move || {
        db.lock().unwrap_or_else(|p| p.into_inner()).interviews()
    })
    .await
    .map_err(Failure::internal)?
    .map_err(Failure::internal)?;
    Ok(Json(InterviewList {
        count: interviews.len(),
        interviews,
    }))
}

async fn list_questionnaires(
    State(state): State<ServerState>,
    headers: HeaderMap,
) -> Result<Json<QuestionnaireListing>, Failure> {
    check_protocol(&headers)?;
    Ok(Json(QuestionnaireListing {
        questionnaires: state.questionnaires.refs(),
    }))
}

async fn download_questionnaire(
    State(state): State<ServerState>,
    headers: HeaderMap,
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<QuestionnaireDownload>, Failure> {
    check_protocol(&headers)?;
    state.questionnaires.download(&id, &version).map(Json).ok_or_else(|| {
        Failure::new(
            StatusCode::NOT_FOUND,
            codes::UNKNOWN_QUESTIONNAIRE_VERSION,
            format!("the server publishes no questionnaire {id} version {version}"),
        )
    })
}
