//! Updates of the app for devices (issue 22): whether a newer version is there for a platform,
//! and a package's bytes, resumable with `Range`. Uploads are the dashboard's
//! (`/dashboard/updates`, city administrators).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use zhisu_protocol::codes;
use zhisu_protocol::update::UpdateCheck;
use zhisu_server_service::updates::PackageError;

use super::media::with_range;
use crate::error::{blocking, Failure};
use crate::extract::AuthedDevice;
use crate::HttpState;

#[derive(Debug, Deserialize)]
pub struct UpdateQuery {
    platform: String,
    current: String,
}

/// `GET /api/v1/app/update?platform=…&current=…`: the newest package for the platform when
/// newer than `current`, or `{"update": null}`.
pub(super) async fn update_check(
    State(state): State<HttpState>,
    _device: AuthedDevice,
    Query(q): Query<UpdateQuery>,
) -> Result<Json<UpdateCheck>, Failure> {
    let server = state.server.clone();
    let answer = tokio::task::spawn_blocking(move || server.update_check(&q.platform, &q.current))
        .await
        .map_err(Failure::internal)?;
    match answer {
        Ok(check) => Ok(Json(check)),
        Err(PackageError::Storage(e)) => Err(Failure::storage(e)),
        Err(e) => Err(Failure::new(
            StatusCode::BAD_REQUEST,
            e.code().unwrap_or(codes::MALFORMED_REQUEST),
            e.to_string(),
        )),
    }
}

/// `GET /api/v1/app/packages/{id}`: a package's bytes. A package never changes (a platform
/// has one per version), so the ETag is its SHA-256; `Range` resumes a broken download.
pub(super) async fn package(
    State(state): State<HttpState>,
    _device: AuthedDevice,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, Failure> {
    let server = state.server.clone();
    let Some((manifest, bytes)) = blocking(move || server.package(id)).await? else {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            codes::NOT_FOUND,
            "the server has no app package with this id",
        ));
    };
    let common = [
        (header::CONTENT_TYPE, "application/octet-stream".to_string()),
        (header::ETAG, format!("\"{}\"", manifest.sha256)),
        (header::ACCEPT_RANGES, "bytes".to_string()),
        (
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable".to_string(),
        ),
    ];
    Ok(with_range(common, bytes, &headers, "package"))
}
