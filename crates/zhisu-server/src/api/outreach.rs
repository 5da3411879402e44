//! Outreach (issue 24, `zhisu_server_service::outreach`): tablets upload quiz sessions; people
//! read the coverage in their scope.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use zhisu_protocol::outreach::MAX_QUIZ_BATCH;
use zhisu_protocol::{codes, QuizSessionUpload, UploadResponse};
use zhisu_server_service::outreach::{self, OutreachCoverage};

use crate::dashboard::ViewQuery;
use crate::error::{blocking, json_rejection, Failure};
use crate::extract::{AuthedDevice, Session};
use crate::HttpState;

/// `POST /api/v1/quiz-sessions`: one receipt per session, in order; a re-send is
/// `already_stored`.
pub(super) async fn upload_quiz_sessions(
    State(state): State<HttpState>,
    AuthedDevice(device): AuthedDevice,
    body: Result<Json<QuizSessionUpload>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<UploadResponse>, Failure> {
    let Json(upload) = body.map_err(json_rejection)?;
    if upload.sessions.len() > MAX_QUIZ_BATCH {
        return Err(Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::BATCH_TOO_LARGE,
            format!(
                "at most {MAX_QUIZ_BATCH} quiz sessions per request; this one had {}",
                upload.sessions.len()
            ),
        ));
    }
    let server = state.server.clone();
    let receipts =
        blocking(move || outreach::ingest_quiz_sessions(&server, upload.sessions, Some(&device)))
            .await?;
    Ok(Json(UploadResponse { receipts }))
}

/// `POST /api/v1/backchecks`: back-check results done on a tablet (issue 15), each stored once
/// with a receipt, within the device's district.
pub(super) async fn upload_backchecks(
    State(state): State<HttpState>,
    AuthedDevice(device): AuthedDevice,
    body: Result<
        Json<zhisu_protocol::backcheck::BackcheckUpload>,
        axum::extract::rejection::JsonRejection,
    >,
) -> Result<Json<UploadResponse>, Failure> {
    use zhisu_protocol::backcheck::MAX_BACKCHECK_BATCH;
    let Json(upload) = body.map_err(json_rejection)?;
    if upload.results.len() > MAX_BACKCHECK_BATCH {
        return Err(Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::BATCH_TOO_LARGE,
            format!(
                "at most {MAX_BACKCHECK_BATCH} back-checks per request; this one had {}",
                upload.results.len()
            ),
        ));
    }
    let server = state.server.clone();
    let actor = format!("device {}", device.id);
    let receipts = blocking(move || {
        server.ingest_backchecks(&device.district, &actor, upload.results, chrono::Utc::now())
    })
    .await?;
    Ok(Json(UploadResponse { receipts }))
}

/// `GET /api/v1/outreach/coverage?q=…`: the coverage of outreach in the caller's scope.
pub(super) async fn coverage(
    State(state): State<HttpState>,
    session: Session,
    Query(q): Query<ViewQuery>,
) -> Result<Json<OutreachCoverage>, Failure> {
    let server = state.server.clone();
    let role = session.person.role.clone();
    let (qid, lang, min_n) = (
        q.questionnaire().to_string(),
        q.lang().to_string(),
        state.min_cell_n,
    );
    Ok(Json(
        blocking(move || {
            outreach::coverage(
                server.storage.as_ref(),
                &server.questionnaires,
                &role,
                &qid,
                min_n,
                &lang,
            )
        })
        .await?,
    ))
}
