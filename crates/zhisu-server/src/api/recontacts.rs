//! Re-contact details (复核, issue 15): a tablet uploads its respondents' yes to being phoned
//! once for a back-check, with the number, after each interview's receipt; the service keeps
//! them apart from the answers (`zhisu_server_service::privacy`, `docs/privacy.md`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use zhisu_protocol::recontact::{RecontactUpload, MAX_RECONTACT_BATCH};
use zhisu_protocol::{codes, UploadResponse};

use crate::error::{blocking, json_rejection, Failure};
use crate::extract::AuthedDevice;
use crate::HttpState;

/// `POST /api/v1/recontacts`: one receipt per interview's details, in order; a re-send is
/// `already_stored`; details of an interview the server does not hold from this device are
/// `rejected` (`not_found`).
pub(super) async fn upload_recontacts(
    State(state): State<HttpState>,
    AuthedDevice(device): AuthedDevice,
    body: Result<Json<RecontactUpload>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<UploadResponse>, Failure> {
    let Json(upload) = body.map_err(json_rejection)?;
    if upload.recontacts.len() > MAX_RECONTACT_BATCH {
        return Err(Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::BATCH_TOO_LARGE,
            format!(
                "at most {MAX_RECONTACT_BATCH} re-contact details per request; this one had {}",
                upload.recontacts.len()
            ),
        ));
    }
    let (server, policy) = (state.server.clone(), state.retention);
    let receipts = blocking(move || {
        server.ingest_recontacts(&device, &upload.recontacts, &policy, chrono::Utc::now())
    })
    .await?;
    Ok(Json(UploadResponse { receipts }))
}

/// The body limit of the route: far below the server's general one.
pub(super) fn upload_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(zhisu_protocol::recontact::MAX_RECONTACT_UPLOAD_BYTES)
}
