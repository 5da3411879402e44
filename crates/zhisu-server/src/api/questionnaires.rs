//! Publishing questionnaire versions for a round.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use zhisu_protocol::{codes, QuestionnaireRef};
use zhisu_server_service::people::Role;

use crate::error::{forbidden, json_rejection, Failure};
use crate::extract::Session;
use crate::HttpState;

#[derive(Debug, Deserialize)]
pub struct Publish {
    /// The monitoring round the version is for (devices enrolled for that round receive it).
    pub round: String,
    /// The questionnaire file (TOML).
    pub source: String,
}

/// Publishes a questionnaire version for a round (city administrators): validated with the core
/// (every problem is reported, with line and column), kept, and delivered to devices from then on.
pub(super) async fn publish_questionnaire(
    State(state): State<HttpState>,
    session: Session,
    body: Result<Json<Publish>, JsonRejection>,
) -> Result<(StatusCode, Json<QuestionnaireRef>), Failure> {
    if session.person.role != Role::CityAdmin {
        return Err(forbidden("publish questionnaires"));
    }
    let Json(publish) = body.map_err(json_rejection)?;
    let for_publish = state.clone();
    let actor = session.person.username.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        for_publish.publish_questionnaire(&publish.round, &publish.source, &actor)
    })
    .await
    .map_err(Failure::internal)?;
    match outcome {
        Ok(zhisu_server_service::questionnaires::PublishOutcome::Published(r)) => Ok((StatusCode::CREATED, Json(r))),
        Ok(zhisu_server_service::questionnaires::PublishOutcome::AlreadyPublished(r)) => Ok((StatusCode::OK, Json(r))),
        Ok(zhisu_server_service::questionnaires::PublishOutcome::VersionTaken) => Err(Failure::new(
            StatusCode::CONFLICT,
            codes::VERSION_TAKEN,
            "another questionnaire is already published under this id and version; publish a new version",
        )),
        Err(zhisu_server_service::PublishError::Invalid(lines)) => Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_QUESTIONNAIRE,
            lines,
        )),
        Err(zhisu_server_service::PublishError::Storage(e)) => Err(Failure::internal(e)),
    }
}
