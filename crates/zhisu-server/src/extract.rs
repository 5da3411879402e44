//! Who is asking: an enrolled device (bearer token, rate-limited) or a signed-in person (bearer
//! token, or the dashboard's cookie where it may be used).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use chrono::Utc;
use zhisu_protocol::codes;
use zhisu_server_service::people::Person;
use zhisu_server_service::storage::Device;

use crate::error::{blocking, check_protocol, Failure};
use crate::HttpState;

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The dashboard's session cookie (HttpOnly, SameSite=Strict; set by its sign-in form).
pub const SESSION_COOKIE: &str = "zhisu_session";

fn session_cookie(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE && !value.is_empty()).then_some(value)
        })
}

/// An enrolled, not revoked device, from its `Authorization: Bearer` token; rate-limited.
pub struct AuthedDevice(pub Device);

impl FromRequestParts<HttpState> for AuthedDevice {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, Failure> {
        check_protocol(&parts.headers)?;
        let unauthorized = || {
            Failure::new(
                StatusCode::UNAUTHORIZED,
                codes::UNAUTHORIZED,
                "this device is not enrolled (missing or unknown token); enrol it with a code from the administrator",
            )
        };
        let token_hash =
            zhisu_server_service::devices::hash_token(bearer(parts).ok_or_else(unauthorized)?);
        let storage = state.storage.clone();
        let device = blocking(move || storage.device_for_token(&token_hash, Utc::now()))
            .await?
            .ok_or_else(unauthorized)?;
        if device.revoked_at.is_some() {
            return Err(Failure::new(
                StatusCode::UNAUTHORIZED,
                codes::DEVICE_REVOKED,
                "this device has been revoked by the administrator; hand its data over as a backup",
            ));
        }
        if !state.rate_limit.allow(device.id, &state.storage).await? {
            return Err(Failure::new(
                StatusCode::TOO_MANY_REQUESTS,
                codes::RATE_LIMITED,
                "too many requests from this device; wait a moment",
            ));
        }
        Ok(AuthedDevice(device))
    }
}

/// A signed-in person, from the `Authorization: Bearer` session token.
pub struct Session {
    pub person: Person,
    pub(crate) token_hash: String,
}

impl Session {
    /// The CSRF token the dashboard's forms of this session carry.
    pub fn csrf_token(&self) -> String {
        crate::security::csrf_token(&self.token_hash)
    }

    /// Whether a form sent `token` as this session's CSRF token.
    pub fn csrf_matches(&self, token: &str) -> bool {
        crate::security::same_secret(&self.csrf_token(), token)
    }

    /// The session of a request: its bearer token, or, where `cookie_allowed`, the
    /// dashboard's cookie.
    pub(crate) async fn of_request(
        parts: &Parts,
        state: &HttpState,
        cookie_allowed: bool,
    ) -> Result<Self, Failure> {
        let unauthorized = || {
            Failure::new(
                StatusCode::UNAUTHORIZED,
                codes::UNAUTHORIZED,
                "sign in first (the session is missing, ended or expired)",
            )
        };
        let token = bearer(parts)
            .or_else(|| session_cookie(parts).filter(|_| cookie_allowed))
            .ok_or_else(unauthorized)?;
        let token_hash = zhisu_server_service::devices::hash_token(token);
        let storage = state.storage.clone();
        let lookup = token_hash.clone();
        let person = blocking(move || storage.session_person(&lookup, Utc::now()))
            .await?
            .ok_or_else(unauthorized)?;
        Ok(Session { person, token_hash })
    }
}

/// The API's sessions: the bearer token, or the dashboard's cookie for requests that change
/// nothing (GET), so that a page of another site can never make the API act with the cookie
/// (the dashboard's own forms check a CSRF token instead).
impl FromRequestParts<HttpState> for Session {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, Failure> {
        let reads_only = matches!(
            parts.method,
            axum::http::Method::GET | axum::http::Method::HEAD
        );
        Session::of_request(parts, state, reads_only).await
    }
}

/// The address the request came from: the TCP peer, or, when the server is configured to sit
/// behind a proxy on the same machine (`behind_proxy`) and the peer is a loopback address, the
/// address the proxy put last in `X-Forwarded-For`. `None` when the server was not started
/// with peer addresses (`serve` starts it with them).
pub struct PeerAddress(pub Option<std::net::IpAddr>);

impl FromRequestParts<HttpState> for PeerAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded = || {
            parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .next_back()?
                .trim()
                .parse()
                .ok()
        };
        Ok(PeerAddress(match peer {
            Some(p) if state.behind_proxy && p.is_loopback() => forwarded().or(Some(p)),
            other => other,
        }))
    }
}
