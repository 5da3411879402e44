//! The estimate tables of the literacy and measures pages (`zhisu_server_service::estimates`)
//! out of the server:
//! as JSON (`GET /api/v1/estimates`, a session token or the cookie) and as the dashboard's
//! downloads (`/dashboard/estimates.csv` and `.xlsx`, the session cookie), both with the
//! dashboard's filter and language, both in the caller's scope; each download in the audit log.

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use zhisu_server_service::estimates::{self, estimates, Ask, Estimates, Which};

use crate::dashboard::{attachment, internal, ViewQuery, Viewer};
use crate::error::{blocking, Failure};
use crate::extract::Session;
use crate::HttpState;

/// The tables' routes: the API's and the dashboard's downloads.
pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/api/v1/estimates", get(api_estimates))
        .route("/dashboard/estimates.csv", get(estimates_csv))
        .route("/dashboard/estimates.xlsx", get(estimates_xlsx))
}

/// Which tables the API is asked for: `tables=all` (the default) or `tables=literacy`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct TablesQuery {
    #[serde(default)]
    tables: Option<String>,
}

/// `GET /api/v1/estimates`: without a session, `401 unauthorized`; an unknown `tables`,
/// `400 malformed_request`.
pub async fn api_estimates(
    State(state): State<HttpState>,
    session: Session,
    Query(q): Query<ViewQuery>,
    Query(which): Query<TablesQuery>,
) -> Result<Json<Estimates>, Failure> {
    let which = Which::parse(which.tables.as_deref())?;
    let filter = q.filter_for(&session.person);
    let (qid, lang) = (q.questionnaire().to_string(), q.lang().to_string());
    let (server, min_cell_n, role) = (state.server.clone(), state.min_cell_n, session.person.role);
    let tables = blocking(move || {
        estimates(
            Ask {
                storage: server.storage.as_ref(),
                registry: &server.questionnaires,
                role: &role,
                questionnaire_id: &qid,
                filter: &filter,
                min_cell_n,
                lang: &lang,
            },
            which,
        )
    })
    .await?;
    Ok(Json(tables))
}

/// Every estimate table (`zhisu_server_service::estimates`) of the viewer's scope and filter,
/// as a file in `format`; each download in the audit log.
async fn estimates_download(
    state: HttpState,
    viewer: Viewer,
    q: ViewQuery,
    format: estimates::Format,
) -> Response {
    let person = viewer.0.person;
    let filter = q.filter_for(&person);
    let (qid, lang) = (q.questionnaire().to_string(), q.lang().to_string());
    let what = format!(
        "estimates {format:?} of {qid}, scope {:?}, filter {filter:?}",
        person.role.scope()
    );
    let (server, min_cell_n) = (state.server.clone(), state.min_cell_n);
    let made = tokio::task::spawn_blocking(move || {
        let tables = estimates(
            Ask {
                storage: server.storage.as_ref(),
                registry: &server.questionnaires,
                role: &person.role,
                questionnaire_id: &qid,
                filter: &filter,
                min_cell_n,
                lang: &lang,
            },
            Which::All,
        )
        .map_err(|e| e.to_string())?;
        let file = estimates::file(&tables, format, &lang).map_err(|e| e.to_string())?;
        let detail = format!("{what}: {} rows", file.rows);
        server
            .audit(&person.username, "export", &detail)
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(file)
    })
    .await;
    match made {
        Ok(Ok(file)) => attachment(file),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

pub async fn estimates_csv(
    State(state): State<HttpState>,
    viewer: Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    estimates_download(state, viewer, q, estimates::Format::Csv).await
}

pub async fn estimates_xlsx(
    State(state): State<HttpState>,
    viewer: Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    estimates_download(state, viewer, q, estimates::Format::Xlsx).await
}
