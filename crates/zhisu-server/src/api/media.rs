//! Recordings for devices: which recordings the questionnaire versions they receive have, and
//! each recording's bytes by content hash, resumable with `Range`.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use zhisu_protocol::{codes, ApiError, RecordingListing};

use crate::error::{blocking, Failure};
use crate::extract::AuthedDevice;
use crate::HttpState;

pub(super) async fn list_recordings(
    State(state): State<HttpState>,
    AuthedDevice(device): AuthedDevice,
) -> Result<Json<RecordingListing>, Failure> {
    let server = state.server.clone();
    Ok(Json(
        blocking(move || server.recording_listing(&device.round)).await?,
    ))
}

/// The education library for tablets: the newest version of every piece, with its digest.
pub(super) async fn library(
    State(state): State<HttpState>,
    _device: AuthedDevice,
) -> Result<Json<zhisu_protocol::library::Library>, Failure> {
    let server = state.server.clone();
    Ok(Json(blocking(move || server.device_library()).await?))
}

/// The bytes of one recording. Content-addressed, so they never change: the ETag is the hash
/// and the answer may be kept for good. `Range: bytes=N-` (or `N-M`, `-N`) answers
/// `206 Partial Content`, so a download broken off resumes where it stopped.
pub(super) async fn media(
    State(state): State<HttpState>,
    _device: AuthedDevice,
    Path(sha256): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Failure> {
    let server = state.server.clone();
    let wanted = sha256.clone();
    let Some((kind, bytes)) = blocking(move || server.media(&wanted)).await? else {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            codes::NOT_FOUND,
            "the server has no recording with this hash",
        ));
    };
    let etag = format!("\"{sha256}\"");
    let common = [
        (header::CONTENT_TYPE, kind.mime().to_string()),
        (header::ETAG, etag.clone()),
        (header::ACCEPT_RANGES, "bytes".to_string()),
        (
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable".to_string(),
        ),
    ];
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if not_modified {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    Ok(with_range(common, bytes, &headers, "recording"))
}

/// `bytes` with the `common` headers, or the part `Range: bytes=N-` (or `N-M`, `-N`) asks for
/// as `206 Partial Content` (`416` outside them); a Range that cannot be read, or asks for
/// several ranges, gets all bytes (RFC 9110 allows it). `what` names the body in a refusal.
pub(super) fn with_range<const N: usize>(
    common: [(header::HeaderName, String); N],
    bytes: Vec<u8>,
    headers: &HeaderMap,
    what: &str,
) -> Response {
    let total = bytes.len() as u64;
    let spec = headers
        .get(header::RANGE)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.strip_prefix("bytes="))
        .filter(|spec| !spec.contains(','));
    let Some(spec) = spec else {
        return (StatusCode::OK, common, bytes).into_response();
    };
    match byte_range(spec.trim(), total) {
        Some(ByteRange::Satisfiable(start, end)) => {
            let part = bytes[start as usize..=end as usize].to_vec();
            let mut response = (StatusCode::PARTIAL_CONTENT, common, part).into_response();
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {start}-{end}/{total}"))
                    .expect("digits are a header value"),
            );
            response
        }
        Some(ByteRange::Unsatisfiable) => {
            let mut response = (
                StatusCode::RANGE_NOT_SATISFIABLE,
                Json(ApiError {
                    code: codes::RANGE_NOT_SATISFIABLE.into(),
                    message: format!(
                        "the {what} has {total} bytes; the range asked for is outside them"
                    ),
                }),
            )
                .into_response();
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{total}"))
                    .expect("digits are a header value"),
            );
            response
        }
        None => (StatusCode::OK, common, bytes).into_response(),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum ByteRange {
    /// First and last byte, inclusive.
    Satisfiable(u64, u64),
    Unsatisfiable,
}

/// One range of `bytes=` (without the prefix) of a body of `total` bytes; `None` when it
/// cannot be read (the whole body is sent then).
fn byte_range(spec: &str, total: u64) -> Option<ByteRange> {
    let (first, last) = spec.split_once('-')?;
    let number = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (start, end) = if first.is_empty() {
        let suffix = number(last)?;
        if suffix == 0 || total == 0 {
            return Some(ByteRange::Unsatisfiable);
        }
        (total.saturating_sub(suffix), total - 1)
    } else {
        let start = number(first)?;
        let end = if last.is_empty() {
            u64::MAX
        } else {
            number(last)?
        };
        if end < start {
            return None;
        }
        (start, end)
    };
    if start >= total {
        return Some(ByteRange::Unsatisfiable);
    }
    Some(ByteRange::Satisfiable(start, end.min(total - 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        use ByteRange::*;
        assert_eq!(byte_range("0-", 10), Some(Satisfiable(0, 9)));
        assert_eq!(byte_range("4-", 10), Some(Satisfiable(4, 9)));
        assert_eq!(byte_range("2-5", 10), Some(Satisfiable(2, 5)));
        assert_eq!(byte_range("2-50", 10), Some(Satisfiable(2, 9)));
        assert_eq!(byte_range("-3", 10), Some(Satisfiable(7, 9)));
        assert_eq!(byte_range("-30", 10), Some(Satisfiable(0, 9)));
        assert_eq!(byte_range("10-", 10), Some(Unsatisfiable));
        assert_eq!(byte_range("-0", 10), Some(Unsatisfiable));
        assert_eq!(byte_range("5-2", 10), None);
        assert_eq!(byte_range("x-", 10), None);
        assert_eq!(byte_range("+1-", 10), None);
    }
}
