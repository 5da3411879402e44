//! Reference levels and targets (`zhisu_server_service::references`): every signed-in person
//! reads them; city administrators enter, edit and remove them. And the comparison of rounds
//! (`zhisu_server_service::comparison`) in the caller's scope.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use uuid::Uuid;
use zhisu_server_service::comparison::{self, Comparison};
use zhisu_server_service::references::ReferenceInput;
use zhisu_server_service::storage::ReferenceLevel;

use crate::dashboard::{RoundsQuery, ViewQuery};
use crate::error::{blocking, forbidden, json_rejection, service, Failure};
use crate::extract::Session;
use crate::HttpState;

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct QuestionnaireQuery {
    #[serde(default)]
    q: Option<String>,
}

/// `GET /api/v1/reference-levels`: every level, or those of the questionnaire `q`.
pub(super) async fn list_reference_levels(
    State(state): State<HttpState>,
    _session: Session,
    Query(query): Query<QuestionnaireQuery>,
) -> Result<Json<Vec<ReferenceLevel>>, Failure> {
    let server = state.server.clone();
    let q = query.q.filter(|q| !q.is_empty());
    Ok(Json(
        blocking(move || server.reference_levels(q.as_deref())).await?,
    ))
}

/// `POST /api/v1/reference-levels` (city administrators): `201` with the level as kept.
pub(super) async fn add_reference_level(
    State(state): State<HttpState>,
    session: Session,
    body: Result<Json<ReferenceInput>, JsonRejection>,
) -> Result<(StatusCode, Json<ReferenceLevel>), Failure> {
    put(state, session, None, body)
        .await
        .map(|l| (StatusCode::CREATED, l))
}

/// `PUT /api/v1/reference-levels/{id}` (city administrators): the level as kept.
pub(super) async fn edit_reference_level(
    State(state): State<HttpState>,
    session: Session,
    Path(id): Path<String>,
    body: Result<Json<ReferenceInput>, JsonRejection>,
) -> Result<Json<ReferenceLevel>, Failure> {
    let id = parse_id(&id)?;
    put(state, session, Some(id), body).await
}

async fn put(
    state: HttpState,
    session: Session,
    id: Option<Uuid>,
    body: Result<Json<ReferenceInput>, JsonRejection>,
) -> Result<Json<ReferenceLevel>, Failure> {
    if !session.person.role.may_set_references() {
        return Err(forbidden("enter reference levels"));
    }
    let Json(input) = body.map_err(json_rejection)?;
    let (server, person) = (state.server.clone(), session.person);
    let level =
        service(move || server.put_reference_level(&person.role, id, &input, &person.username))
            .await?;
    Ok(Json(level))
}

/// `DELETE /api/v1/reference-levels/{id}` (city administrators).
pub(super) async fn delete_reference_level(
    State(state): State<HttpState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<StatusCode, Failure> {
    if !session.person.role.may_set_references() {
        return Err(forbidden("remove reference levels"));
    }
    let id = parse_id(&id)?;
    let (server, person) = (state.server.clone(), session.person);
    service(move || server.delete_reference_level(&person.role, id, &person.username)).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn parse_id(id: &str) -> Result<Uuid, Failure> {
    Uuid::parse_str(id).map_err(|_| {
        Failure::new(
            StatusCode::NOT_FOUND,
            zhisu_protocol::codes::NOT_FOUND,
            format!("no reference level {id:?}"),
        )
    })
}

/// `GET /api/v1/comparison`: the current round beside the previous one, in the caller's scope
/// and the dashboard's filter; a round without interviews in the selection, `400`.
pub(super) async fn compare_rounds(
    State(state): State<HttpState>,
    session: Session,
    Query(q): Query<ViewQuery>,
    Query(rounds): Query<RoundsQuery>,
) -> Result<Json<Comparison>, Failure> {
    let filter = q.filter_for(&session.person);
    let (qid, lang) = (q.questionnaire().to_string(), q.lang().to_string());
    let (server, min_cell_n, scope) = (
        state.server.clone(),
        state.min_cell_n,
        session.person.role.scope(),
    );
    let compared = service(move || {
        comparison::compare(comparison::Ask {
            storage: server.storage.as_ref(),
            registry: &server.questionnaires,
            scope: &scope,
            questionnaire_id: &qid,
            filter: &filter,
            current: rounds.round.as_deref(),
            previous: rounds.against.as_deref(),
            min_cell_n,
            lang: &lang,
        })
    })
    .await?;
    Ok(Json(compared))
}
