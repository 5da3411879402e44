//! Enrolment codes and devices (district and city administrators).

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_protocol::codes;
use zhisu_server_service::people::Role;
use zhisu_server_service::storage::Device;

use crate::error::{blocking, forbidden, json_rejection, Failure};
use crate::extract::Session;
use crate::HttpState;

#[derive(Debug, Deserialize)]
pub struct NewEnrolmentCode {
    pub round: String,
    pub district: String,
    #[serde(default = "default_valid_days")]
    pub valid_days: i64,
}

pub(super) fn default_valid_days() -> i64 {
    7
}

#[derive(Debug, Serialize, Deserialize)]
pub struct EnrolmentCodeCreated {
    pub code: String,
    /// The enrolment URI: this server's address and the code (docs/sync-protocol.md).
    pub enrol_uri: String,
    /// The enrolment URI as a QR code (SVG): one scan sets a tablet up.
    pub qr_svg: String,
}

/// `text` as a QR code (SVG) at least 240 pixels a side.
pub fn qr_svg(text: &str) -> Result<String, qrcode::types::QrError> {
    Ok(qrcode::QrCode::new(text.as_bytes())?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .build())
}

pub(super) async fn create_enrolment_code(
    State(state): State<HttpState>,
    session: Session,
    headers: axum::http::HeaderMap,
    body: Result<Json<NewEnrolmentCode>, JsonRejection>,
) -> Result<(StatusCode, Json<EnrolmentCodeCreated>), Failure> {
    let Json(request) = body.map_err(json_rejection)?;
    if !session.person.role.manages(&request.district) {
        return Err(forbidden("enrol devices in this district"));
    }
    if request.district.trim().is_empty() || request.round.trim().is_empty() {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_REQUEST,
            "district and round must not be empty",
        ));
    }
    if !(1..=90).contains(&request.valid_days) {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_REQUEST,
            "valid_days must be 1 to 90",
        ));
    }
    if let Some(problem) = state.round_key_missing(&request.round, "en") {
        return Err(Failure::new(
            StatusCode::CONFLICT,
            codes::ROUND_KEY_MISSING,
            problem,
        ));
    }
    let for_code = state.clone();
    let actor = session.person.username.clone();
    let code = blocking(move || {
        for_code.create_enrolment_code(
            &request.round,
            &request.district,
            chrono::Duration::days(request.valid_days),
            &actor,
        )
    })
    .await?;
    let enrol_uri = state.enrol_uri(&headers, &code);
    let qr_svg = qr_svg(&enrol_uri).map_err(Failure::internal)?;
    Ok((
        StatusCode::CREATED,
        Json(EnrolmentCodeCreated {
            code,
            enrol_uri,
            qr_svg,
        }),
    ))
}

pub(super) async fn list_devices(
    State(state): State<HttpState>,
    session: Session,
) -> Result<Json<Vec<Device>>, Failure> {
    let role = session.person.role;
    if !matches!(role, Role::CityAdmin | Role::DistrictAdmin { .. }) {
        return Err(forbidden("list devices"));
    }
    let storage = state.storage.clone();
    let devices = blocking(move || storage.devices()).await?;
    Ok(Json(
        devices
            .into_iter()
            .filter(|d| role.manages(&d.district))
            .collect(),
    ))
}

pub(super) async fn revoke_device(
    State(state): State<HttpState>,
    session: Session,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, Failure> {
    let storage = state.storage.clone();
    let device = blocking(move || storage.device(id)).await?;
    let Some(device) = device.filter(|d| session.person.role.manages(&d.district)) else {
        // the same answer for "no such device" and "not yours": nothing leaks
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            codes::NOT_FOUND,
            "no such device",
        ));
    };
    let (server, actor) = (state.server.clone(), session.person.username);
    blocking(move || server.revoke_device(device.id, &actor)).await?;
    Ok(StatusCode::NO_CONTENT)
}
