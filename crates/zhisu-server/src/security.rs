//! What stands between the server and a hostile web page (threats and tests in
//! `docs/security.md`): state changes only from the server's own pages (the browser's
//! `Sec-Fetch-Site` and `Origin` checked on every request that changes something, and a CSRF
//! token bound to the session on every dashboard form), security headers on every response,
//! and every error as `{code, message}` (404, 405, bad paths and queries, a handler that
//! panicked), never internal text.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use zhisu_protocol::codes;

use crate::error::Failure;

/// Whether a request that changes something comes from a page of this server. A browser says
/// where a request comes from (`Sec-Fetch-Site` in current browsers, `Origin` on every POST in
/// all of them); a request without either is not from a browser page (a tablet, a script) and
/// carries a bearer token instead of the cookie.
pub fn from_this_site(headers: &HeaderMap) -> bool {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = value("sec-fetch-site") {
        if !matches!(site, "same-origin" | "none") {
            return false;
        }
    }
    match (value("origin"), value("host")) {
        (None, _) => true,
        // a sandboxed frame or a privacy setting: not a page of this server
        (Some("null"), _) => false,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
    }
}

/// Refuses a request that would change something when it comes from another site's page
/// (cross-site or same-site: another port or subdomain of this host is another origin).
pub async fn same_origin_writes(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && !from_this_site(request.headers()) {
        tracing::warn!(
            method = %request.method(),
            path = ?request.uri().path(),
            origin = ?request.headers().get("origin"),
            "refused a request from another site's page"
        );
        return Failure::new(
            StatusCode::FORBIDDEN,
            codes::FORBIDDEN,
            "this request came from a page of another site; changes are taken only from this server's own pages",
        )
        .into_response();
    }
    next.run(request).await
}

/// The dashboard's pages load nothing from elsewhere, run only the server's own script, are
/// never framed and never cached; no response is sniffed as another type.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' blob: data:; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// Security headers on every response, and every error a `{code, message}` body: axum's own
/// rejections (a path that does not parse, a bad query, 404, 405) are plain text; they are
/// rewritten here so that callers can branch on `code`.
pub async fn headers_and_errors(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let status = response.status();
    let plain_error = (status.is_client_error() || status.is_server_error())
        && !response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/json") || t.starts_with("text/html"));
    if plain_error {
        let body = axum::body::to_bytes(std::mem::take(response.body_mut()), 4096)
            .await
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        let code = match status {
            StatusCode::NOT_FOUND => codes::NOT_FOUND,
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::PAYLOAD_TOO_LARGE => codes::BATCH_TOO_LARGE,
            StatusCode::UNAUTHORIZED => codes::UNAUTHORIZED,
            StatusCode::FORBIDDEN => codes::FORBIDDEN,
            StatusCode::TOO_MANY_REQUESTS => codes::RATE_LIMITED,
            _ => codes::MALFORMED_REQUEST,
        };
        let code = if status.is_server_error() {
            codes::INTERNAL
        } else {
            code
        };
        let message = match status {
            _ if status.is_server_error() => {
                "the server could not complete the request; try again later".to_string()
            }
            StatusCode::NOT_FOUND => "there is nothing at this address".to_string(),
            StatusCode::METHOD_NOT_ALLOWED => "this address does not take this method".to_string(),
            _ if text.trim().is_empty() => status
                .canonical_reason()
                .unwrap_or("bad request")
                .to_string(),
            _ => text.trim().chars().take(300).collect(),
        };
        let headers = std::mem::take(response.headers_mut());
        response = Failure::new(status, code, message).into_response();
        for name in [header::ALLOW, header::RETRY_AFTER] {
            if let Some(v) = headers.get(&name) {
                response.headers_mut().insert(name, v.clone());
            }
        }
    }
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::CACHE_CONTROL, "no-store");
    response
}

/// A handler that panicked: `500 {code: internal}`, nothing of the panic to the client (it is
/// logged).
pub fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    Failure::internal(format!("a request handler panicked: {what}")).into_response()
}

/// The CSRF token of a session: derived from the session token's hash, which only the server
/// and the holder of the session cookie can know, so a page of another site cannot put it in
/// a form. Nothing to store; it changes with every session.
pub fn csrf_token(session_token_hash: &str) -> String {
    zhisu_protocol::sha256_hex(format!("zhisu csrf\n{session_token_hash}").as_bytes())[7..39]
        .to_string()
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn only_this_sites_pages_may_change_things() {
        assert!(from_this_site(&headers(&[("host", "cdc.example:8470")])));
        assert!(from_this_site(&headers(&[
            ("host", "cdc.example:8470"),
            ("origin", "https://cdc.example:8470"),
            ("sec-fetch-site", "same-origin"),
        ])));
        // another port of the same host is the same site but another origin
        assert!(!from_this_site(&headers(&[
            ("host", "cdc.example:8470"),
            ("origin", "http://cdc.example:9999"),
        ])));
        assert!(!from_this_site(&headers(&[
            ("host", "cdc.example:8470"),
            ("sec-fetch-site", "same-site"),
        ])));
        assert!(!from_this_site(&headers(&[
            ("host", "cdc.example:8470"),
            ("origin", "null"),
        ])));
        assert!(!from_this_site(&headers(&[
            ("host", "cdc.example:8470"),
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ])));
    }

    #[test]
    fn csrf_tokens_differ_by_session_and_compare_exactly() {
        let a = csrf_token("hash-a");
        assert_eq!(a.len(), 32);
        assert_ne!(a, csrf_token("hash-b"));
        assert!(same_secret(&a, &csrf_token("hash-a")));
        assert!(!same_secret(&a, &csrf_token("hash-b")));
        assert!(!same_secret(&a, ""));
    }
}
