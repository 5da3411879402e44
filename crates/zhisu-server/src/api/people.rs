//! People: listing, adding, disabling (city administrators).

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zhisu_protocol::codes;
use zhisu_server_service::people::{Person, Role};

use crate::error::service;
use crate::error::{blocking, forbidden, json_rejection, Failure};
use crate::extract::Session;
use crate::HttpState;

#[derive(Debug, Deserialize)]
pub struct NewPerson {
    pub username: String,
    pub display_name: String,
    pub password: String,
    #[serde(flatten)]
    pub role: Role,
}

/// A person as listed to administrators: never with a password hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonListing {
    #[serde(flatten)]
    pub person: Person,
    pub disabled_at: Option<DateTime<Utc>>,
}

pub(super) async fn list_people(
    State(state): State<HttpState>,
    session: Session,
) -> Result<Json<Vec<PersonListing>>, Failure> {
    if session.person.role != Role::CityAdmin {
        return Err(forbidden("list people"));
    }
    let storage = state.storage.clone();
    let people = blocking(move || storage.people()).await?;
    Ok(Json(
        people
            .into_iter()
            .map(|(person, disabled_at)| PersonListing {
                person,
                disabled_at,
            })
            .collect(),
    ))
}

pub(super) async fn disable_person(
    state: State<HttpState>,
    session: Session,
    path: Path<String>,
) -> Result<StatusCode, Failure> {
    set_disabled(state, session, path, true).await
}

pub(super) async fn enable_person(
    state: State<HttpState>,
    session: Session,
    path: Path<String>,
) -> Result<StatusCode, Failure> {
    set_disabled(state, session, path, false).await
}

/// City administrators disable people (their sessions stop at once) and enable them again;
/// nobody disables themselves (the city would be left without an administrator).
pub(super) async fn set_disabled(
    State(state): State<HttpState>,
    session: Session,
    Path(username): Path<String>,
    disable: bool,
) -> Result<StatusCode, Failure> {
    if session.person.role != Role::CityAdmin {
        return Err(forbidden("disable or enable people"));
    }
    let (server, actor) = (state.server.clone(), session.person.username);
    service(move || server.set_person_disabled(&username, disable, &actor)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn add_person(
    State(state): State<HttpState>,
    session: Session,
    body: Result<Json<NewPerson>, JsonRejection>,
) -> Result<(StatusCode, Json<Person>), Failure> {
    if session.person.role != Role::CityAdmin {
        return Err(forbidden("add people"));
    }
    let Json(new) = body.map_err(json_rejection)?;
    let (server, actor) = (state.server.clone(), session.person.username);
    let added = service(move || {
        server.add_person(
            &new.username,
            &new.display_name,
            &new.password,
            new.role,
            &actor,
        )
    })
    .await?;
    let person = added.ok_or_else(|| {
        Failure::new(
            StatusCode::CONFLICT,
            codes::USERNAME_TAKEN,
            "that username is taken",
        )
    })?;
    Ok((StatusCode::CREATED, Json(person)))
}
