//! Sites of each district and settings of each round.

use crate::api::audit;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use zhisu_protocol::codes;
use zhisu_server_service::people::Role;

use crate::error::{blocking, forbidden, json_rejection, Failure};
use crate::extract::Session;
use crate::HttpState;

pub(super) fn may_read_district(role: &Role, district: &str) -> bool {
    match role {
        Role::CityAdmin => true,
        Role::DistrictAdmin { district: own } | Role::Supervisor { district: own } => {
            own == district
        }
        Role::DepartmentViewer { .. } => false,
    }
}

pub(super) async fn district_sites(
    State(state): State<HttpState>,
    session: Session,
    Path(district): Path<String>,
) -> Result<Json<Vec<zhisu_protocol::Site>>, Failure> {
    if !may_read_district(&session.person.role, &district) {
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
    let Json(mut sites) = body.map_err(json_rejection)?;
    for site in &mut sites {
        site.district = district.clone();
    }
    let problems = zhisu_server_service::sites::site_problems(&sites);
    if !problems.is_empty() {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_REQUEST,
            format!("the sites were not stored: {}", problems.join("; ")),
        ));
    }
    let n = sites.len();
    let storage = state.storage.clone();
    let for_storage = district.clone();
    blocking(move || storage.replace_sites(&for_storage, &sites)).await?;
    audit(
        &state,
        &session.person,
        "replace_sites",
        format!("{district}: {n} sites"),
    )
    .await?;
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
    if session.person.role != zhisu_server_service::people::Role::CityAdmin {
        return Err(forbidden("set a round's settings"));
    }
    let Json(settings) = body.map_err(json_rejection)?;
    let q = &settings.quality;
    if !(q.min_seconds_per_item.is_finite() && q.min_seconds_per_item >= 0.0) {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_REQUEST,
            "quality.min_seconds_per_item must be a number of seconds, 0 or more",
        ));
    }
    let (storage, s2, r2) = (state.storage.clone(), settings.clone(), round.clone());
    blocking(move || storage.set_round_settings(&r2, &s2)).await?;
    let detail = format!(
        "round {round}: {}",
        serde_json::to_string(&settings).unwrap_or_default()
    );
    let (st, actor) = (state.clone(), session.person.username.clone());
    blocking(move || st.audit(&actor, "set_round_settings", &detail)).await?;
    Ok(Json(settings))
}
