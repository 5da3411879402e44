//! Signing in and out.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use zhisu_protocol::codes;
use zhisu_server_service::people::Person;

use crate::error::{blocking, json_rejection, Failure};
use crate::extract::Session;
use crate::HttpState;
use zhisu_server_service::people::{wait_minutes, SessionCreated, SignInRefusal};

#[derive(Debug, Deserialize)]
pub struct SignIn {
    pub username: String,
    pub password: String,
}

pub(super) async fn sign_in(
    State(state): State<HttpState>,
    body: Result<Json<SignIn>, JsonRejection>,
) -> Result<Json<SessionCreated>, Failure> {
    let Json(request) = body.map_err(json_rejection)?;
    match open_session(&state, request.username, request.password).await? {
        Ok(created) => Ok(Json(created)),
        Err(SignInRefusal::Paused(wait)) => Err(too_many_attempts(wait)),
        Err(SignInRefusal::BadCredentials) => Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            codes::BAD_CREDENTIALS,
            "the username or password is wrong",
        )),
        Err(SignInRefusal::Storage(e)) => Err(Failure::storage(e)),
    }
}

/// Signs in on the blocking pool (Argon2 takes tens of milliseconds by design): the API's and
/// the dashboard's sign-in.
pub(crate) async fn open_session(
    state: &HttpState,
    username: String,
    password: String,
) -> Result<Result<SessionCreated, SignInRefusal>, Failure> {
    let server = state.server.clone();
    tokio::task::spawn_blocking(move || server.sign_in(&username, &password))
        .await
        .map_err(Failure::internal)
}

/// Sign-in paused for a username: how long to wait, in whole minutes (at least one).
pub(super) fn too_many_attempts(wait: std::time::Duration) -> Failure {
    Failure::new(
        StatusCode::TOO_MANY_REQUESTS,
        codes::TOO_MANY_SIGN_IN_ATTEMPTS,
        match wait_minutes(wait) {
            1 => "too many wrong passwords for this username: try again in 1 minute".to_string(),
            n => format!("too many wrong passwords for this username: try again in {n} minutes"),
        },
    )
}

pub(super) async fn sign_out(
    State(state): State<HttpState>,
    session: Session,
) -> Result<StatusCode, Failure> {
    let server = state.server.clone();
    blocking(move || server.sign_out(&session.token_hash, &session.person.username)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn me(session: Session) -> Json<Person> {
    Json(session.person)
}
