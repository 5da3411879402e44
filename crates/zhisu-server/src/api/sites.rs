//! Sites of each district and settings of each round.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use zhisu_server_service::people::Role;

use crate::error::service;
use crate::error::{blocking, forbidden, json_rejection, Failure};
use crate::extract::Session;
use crate::HttpState;

pub(super) async fn district_sites(
    State(state): State<HttpState>,
    session: Session,
    Path(district): Path<String>,
) -> Result<Json<Vec<zhisu_protocol::Site>>, Failure> {
    if !session.person.role.may_read_district(&district) {
        return Err(forbidden("see this district's sites"));
    }
    let storage = state.storage.clone();
    Ok(Json(blocking(move || storage.sites(&district)).await?))
}

pub(super) async fn replace_district_sites(
    State(state): State<HttpState>,
    session: Session,
    Path(district): Path<String>,
    body: Result<Json<Vec<zhisu_protocol::Site>>, JsonRejection>,
) -> Result<StatusCode, Failure> {
    if !session.person.role.manages(&district) {
        return Err(forbidden("change this district's sites"));
    }
    let Json(sites) = body.map_err(json_rejection)?;
    let (server, actor) = (state.server.clone(), session.person.username);
    service(move || server.replace_sites(&district, sites, &actor)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn get_round_settings(
    State(state): State<HttpState>,
    _session: Session,
    Path(round): Path<String>,
) -> Result<Json<zhisu_protocol::RoundSettings>, Failure> {
    let storage = state.storage.clone();
    Ok(Json(
        blocking(move || storage.round_settings(&round))
            .await?
            .unwrap_or_default(),
    ))
}

/// Sets a round's settings (city administrators): delivered to its devices at their next sync.
pub(super) async fn put_round_settings(
    State(state): State<HttpState>,
    session: Session,
    Path(round): Path<String>,
    body: Result<Json<zhisu_protocol::RoundSettings>, JsonRejection>,
) -> Result<Json<zhisu_protocol::RoundSettings>, Failure> {
    if session.person.role != Role::CityAdmin {
        return Err(forbidden("set a round's settings"));
    }
    let Json(settings) = body.map_err(json_rejection)?;
    let (server, actor, kept) = (
        state.server.clone(),
        session.person.username,
        settings.clone(),
    );
    service(move || server.set_round_settings(&round, &kept, &actor)).await?;
    Ok(Json(settings))
}
