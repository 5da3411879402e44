//! Serving the annual report: the dashboard's link (`/dashboard/report.docx`, the session
//! cookie) and the API (`GET /api/v1/report.docx`, a session token or the cookie), both with
//! the dashboard's filter and language, both in the caller's scope, each download in the
//! audit log.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use zhisu_server_service::annual_report::{annual_report, Ask};
use zhisu_server_service::people::Person;

use super::docx_bytes;
use crate::dashboard::{ViewQuery, Viewer};
use crate::error::Failure;
use crate::extract::Session;
use crate::HttpState;

/// The DOCX media type.
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// The report of what `person` may read under the query's filter, as a DOCX download.
async fn report(state: HttpState, person: Person, q: ViewQuery) -> Result<Response, Failure> {
    let filter = q.filter_for(&person);
    let (qid, lang) = (q.questionnaire().to_string(), q.lang().to_string());
    let made_on = Utc::now()
        .with_timezone(&state.utc_offset)
        .format("%Y-%m-%d")
        .to_string();
    let what = format!(
        "annual report of {qid}, scope {:?}, filter {filter:?}",
        person.role.scope()
    );
    let server = state.server.clone();
    let min_cell_n = state.min_cell_n;
    let role = person.role.clone();
    let (bytes, file_stem) = tokio::task::spawn_blocking(move || {
        let report = annual_report(Ask {
            storage: server.storage.as_ref(),
            registry: &server.questionnaires,
            role: &role,
            questionnaire_id: &qid,
            filter: &filter,
            min_cell_n,
            lang: &lang,
            made_on,
        })?;
        let bytes = docx_bytes(&report).map_err(Failure::internal)?;
        let stem = format!("{}-{}", qid, report.made_on);
        server
            .audit(
                &person.username,
                "report",
                &format!("{what}: {} bytes", bytes.len()),
            )
            .map_err(Failure::storage)?;
        Ok::<_, Failure>((bytes, stem))
    })
    .await
    .map_err(Failure::internal)??;
    Ok((
        [
            (header::CONTENT_TYPE, DOCX.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"report-{file_stem}.docx\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /dashboard/report.docx`: signed out, the sign-in page.
pub async fn dashboard_report(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    report(state, session.person, q)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// `GET /api/v1/report.docx`: without a session, `401 unauthorized`.
pub async fn api_report(
    State(state): State<HttpState>,
    session: Session,
    Query(q): Query<ViewQuery>,
) -> Result<Response, Failure> {
    report(state, session.person, q).await
}
