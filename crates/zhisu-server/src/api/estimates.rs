//! `GET /api/v1/estimates`: the literacy page's tables as JSON, in the caller's scope, with the
//! dashboard's filter and language (the same figures: `zhisu_server_service::estimates`).

use axum::extract::{Query, State};
use axum::Json;
use zhisu_server_service::estimates::{estimates, Ask, Estimates};

use crate::dashboard::ViewQuery;
use crate::error::{blocking, Failure};
use crate::extract::Session;
use crate::HttpState;

pub(super) async fn get_estimates(
    State(state): State<HttpState>,
    session: Session,
    Query(q): Query<ViewQuery>,
) -> Result<Json<Estimates>, Failure> {
    let filter = q.filter_for(&session.person);
    let (qid, lang) = (q.questionnaire().to_string(), q.lang().to_string());
    let (server, min_cell_n, role) = (state.server.clone(), state.min_cell_n, session.person.role);
    let tables = blocking(move || {
        estimates(Ask {
            storage: server.storage.as_ref(),
            registry: &server.questionnaires,
            role: &role,
            questionnaire_id: &qid,
            filter: &filter,
            min_cell_n,
            lang: &lang,
        })
    })
    .await?;
    Ok(Json(tables))
}
