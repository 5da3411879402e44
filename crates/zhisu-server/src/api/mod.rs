//! The JSON API under `/api/v1` (devices and people), `/healthz`, `/metrics` and the OpenAPI
//! document. Every error is `{code, message}` with a fitting status; see `docs/sync-protocol.md`.

mod devices;
pub mod enrolment;
pub mod interviews;
mod media;
mod outreach;
mod people;
mod questionnaires;
mod recontacts;
mod references;
mod sessions;

pub(crate) use sessions::open_session;
mod sites;
mod updates;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use zhisu_server_service::people::Role;
use zhisu_server_service::storage::AuditEntry;

use crate::error::{blocking, forbidden, Failure};
use crate::extract::Session;
use crate::HttpState;
use axum::routing::{get, post};
use axum::Router;
use devices::*;
use enrolment::*;
use interviews::*;
use media::*;
use outreach::*;
use people::*;
use questionnaires::*;
use recontacts::*;
use references::*;
use sessions::*;
use sites::*;
use updates::*;
use zhisu_protocol::{
    ASSIGNMENT_PATH, ENROL_PATH, MEDIA_PATH, QUESTIONNAIRES_PATH, QUIZ_SESSIONS_PATH,
    RECORDINGS_PATH, UPLOAD_PATH,
};

/// The API's routes (the dashboard's are in [`crate::dashboard::routes`]).
pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/healthz", get(health))
        .route("/readyz", get(ready))
        .route(ENROL_PATH, post(enrol))
        .route(ASSIGNMENT_PATH, get(assignment))
        .route(zhisu_protocol::library::LIBRARY_PATH, get(library))
        .route(
            zhisu_protocol::surveyors::SURVEYORS_PATH,
            get(device_surveyors),
        )
        .route(UPLOAD_PATH, post(upload))
        .route(QUIZ_SESSIONS_PATH, post(upload_quiz_sessions))
        .route(zhisu_protocol::BACKCHECKS_PATH, post(upload_backchecks))
        .route(
            zhisu_protocol::RECONTACTS_PATH,
            post(upload_recontacts).layer(recontacts::upload_limit()),
        )
        .route("/api/v1/outreach/coverage", get(coverage))
        .route("/api/v1/interviews", get(list_interviews))
        .route("/api/v1/interviews/{id}/erase", post(erase_interview))
        .route("/api/v1/session", post(sign_in).delete(sign_out))
        .route("/api/v1/me", get(me))
        .route("/api/v1/people", get(list_people).post(add_person))
        .route("/api/v1/people/{username}/disable", post(disable_person))
        .route("/api/v1/people/{username}/enable", post(enable_person))
        .route("/api/v1/enrolment-codes", post(create_enrolment_code))
        .route("/api/v1/devices", get(list_devices))
        .route("/api/v1/devices/{id}/revoke", post(revoke_device))
        .route(
            "/api/v1/districts/{district}/sites",
            get(district_sites).put(replace_district_sites),
        )
        .route("/api/v1/audit", get(audit_log))
        .route(
            "/api/v1/reference-levels",
            get(list_reference_levels).post(add_reference_level),
        )
        .route(
            "/api/v1/reference-levels/{id}",
            axum::routing::put(edit_reference_level).delete(delete_reference_level),
        )
        .route("/api/v1/comparison", get(compare_rounds))
        .route(
            "/api/v1/rounds/{round}/settings",
            get(get_round_settings).put(put_round_settings),
        )
        .route(
            QUESTIONNAIRES_PATH,
            get(list_questionnaires).post(publish_questionnaire),
        )
        .route(
            "/api/v1/questionnaires/{id}/{version}",
            get(download_questionnaire),
        )
        .route(RECORDINGS_PATH, get(list_recordings))
        .route(&format!("{MEDIA_PATH}/{{sha256}}"), get(media))
        .route(zhisu_protocol::update::APP_UPDATE_PATH, get(update_check))
        .route(
            &format!("{}/{{id}}", zhisu_protocol::update::APP_PACKAGES_PATH),
            get(package),
        )
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi))
}

/// The request counts, for a monitoring system: with `metrics_token` configured, for its bearer
/// token only; without, for requests from this machine only (not through the proxy, which must
/// not forward `/metrics`: see docs/deployment.md).
async fn metrics(
    State(state): State<HttpState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
) -> Result<Response, Failure> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let allowed = match &state.metrics_token {
        Some(token) => bearer.is_some_and(|b| crate::security::same_secret(b.trim(), token)),
        None => peer.ip().is_loopback() && !headers.contains_key("x-forwarded-for"),
    };
    if !allowed {
        return Err(Failure::new(
            axum::http::StatusCode::NOT_FOUND,
            zhisu_protocol::codes::NOT_FOUND,
            "there is nothing at this address",
        ));
    }
    let storage = state.storage.clone();
    let stored = blocking(move || storage.interview_count()).await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(stored),
    )
        .into_response())
}

/// Readiness: a write commits (`503 storage_full` or `storage_unavailable` otherwise), for a
/// load balancer or monitoring to stop sending uploads here. `/healthz` is liveness only.
async fn ready(State(state): State<HttpState>) -> Result<String, Failure> {
    let storage = state.storage.clone();
    blocking(move || storage.check_ready(chrono::Utc::now())).await?;
    Ok(format!("ready {}", state.storage.backend()))
}

async fn health(State(state): State<HttpState>) -> Result<String, Failure> {
    let storage = state.storage.clone();
    let version = blocking(move || storage.schema_version()).await?;
    Ok(match state.storage.read_only() {
        None => format!("ok {} schema {version}", state.storage.backend()),
        Some(why) => format!(
            "ok {} schema {version} read-only: {why}",
            state.storage.backend()
        ),
    })
}

/// The OpenAPI description of this API (`docs/openapi.json`, checked against the router by a
/// test).
pub const OPENAPI: &str = include_str!("../../../../docs/openapi.json");

async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
        .into_response()
}

async fn audit_log(
    State(state): State<HttpState>,
    session: Session,
) -> Result<Json<Vec<AuditEntry>>, Failure> {
    if session.person.role != Role::CityAdmin {
        return Err(forbidden("read the audit log"));
    }
    let storage = state.storage.clone();
    Ok(Json(blocking(move || storage.audit_log(500)).await?))
}
