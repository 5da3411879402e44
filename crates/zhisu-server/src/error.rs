//! The one error type of the HTTP layer: a status and `{code, message}`; internal errors are
//! logged, never shown.

use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use zhisu_protocol::codes;
use zhisu_protocol::{ApiError, PROTOCOL_HEADER, PROTOCOL_VERSION};
use zhisu_server_service::Refusal;

/// An error response: status plus `{code, message}`.
pub struct Failure {
    pub(crate) status: StatusCode,
    pub(crate) error: ApiError,
    /// Seconds for `Retry-After`.
    pub(crate) retry_after: Option<u32>,
}

impl Failure {
    pub(crate) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Failure {
            status,
            error: ApiError {
                code: code.to_string(),
                message: message.into(),
            },
            retry_after: None,
        }
    }

    /// A storage error: the disk full or the database out of reach is `503` with
    /// `Retry-After` and its own code (a device keeps the interviews and tries again later);
    /// anything else `500 internal`.
    pub(crate) fn storage(error: zhisu_server_service::StorageError) -> Self {
        use zhisu_server_service::StorageError;
        let (code, message, retry) = match &error {
            StorageError::Full { .. } => (
                "storage_full",
                "the server's disk is full; nothing was stored (a tablet keeps its interviews and sends them later)",
                60,
            ),
            StorageError::ReadOnly(why) => {
                let mut failure = Failure::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_full",
                    format!("nothing was stored: {why} (a tablet keeps its interviews and sends them later)"),
                );
                failure.retry_after = Some(60);
                return failure;
            }
            StorageError::Unavailable { .. } => (
                "storage_unavailable",
                "the server cannot reach its database just now; nothing was stored; try again shortly",
                10,
            ),
            _ => return Failure::internal(error),
        };
        tracing::error!(%error, code, "storage refused the request");
        let mut failure = Failure::new(StatusCode::SERVICE_UNAVAILABLE, code, message);
        failure.retry_after = Some(retry);
        failure
    }

    pub(crate) fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error");
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL,
            "the server could not complete the request; try again later",
        )
    }
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid(message) => {
                Failure::new(StatusCode::BAD_REQUEST, codes::MALFORMED_REQUEST, message)
            }
            Refusal::NotFound(message) => {
                Failure::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, message)
            }
            // the API said 409 "forbidden" for this before the refusals had a type: kept
            Refusal::NotNow(message) => {
                Failure::new(StatusCode::CONFLICT, codes::FORBIDDEN, message)
            }
            Refusal::Storage(e) => Failure::storage(e),
        }
    }
}

/// Runs a service action on the blocking pool; its refusal becomes the fitting status.
pub(crate) async fn service<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Failure> {
    Ok(tokio::task::spawn_blocking(f)
        .await
        .map_err(Failure::internal)??)
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.error)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

pub(crate) fn check_protocol(headers: &HeaderMap) -> Result<(), Failure> {
    let given = headers
        .get(PROTOCOL_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if given == PROTOCOL_VERSION.to_string() {
        Ok(())
    } else {
        Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::UNSUPPORTED_PROTOCOL,
            format!("this server speaks sync protocol {PROTOCOL_VERSION}; the request said {given:?} in the {PROTOCOL_HEADER} header"),
        ))
    }
}

pub(crate) fn json_rejection(rejection: JsonRejection) -> Failure {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::BATCH_TOO_LARGE,
            "the request body is too large; send fewer interviews per request",
        )
    } else {
        Failure::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_REQUEST,
            rejection.body_text(),
        )
    }
}

pub(crate) fn forbidden(what: &str) -> Failure {
    Failure::new(
        StatusCode::FORBIDDEN,
        codes::FORBIDDEN,
        format!("your role may not {what}"),
    )
}

/// Runs storage work on the blocking pool; its errors become `500 internal`.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::StorageError> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(Failure::internal)?
        .map_err(Failure::storage)
}
