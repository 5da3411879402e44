//! People: listing, adding, disabling (city administrators).

use crate::api::audit;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_protocol::codes;
use zhisu_server_service::people::{Person, Role};

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
    if disable && username == session.person.username {
        return Err(Failure::new(
            StatusCode::CONFLICT,
            codes::FORBIDDEN,
            "you cannot disable yourself; ask another city administrator",
        ));
    }
    let storage = state.storage.clone();
    let name = username.clone();
    let found =
        blocking(move || storage.set_person_disabled(&name, disable.then(Utc::now))).await?;
    if !found {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            codes::NOT_FOUND,
            format!("no person with the username {username}"),
        ));
    }
    audit(
        &state,
        &session.person,
        if disable {
            "disable_person"
        } else {
            "enable_person"
        },
        username,
    )
    .await?;
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
    if let Some(problem) = zhisu_server_service::people::password_problem(&new.password) {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_REQUEST,
            problem,
        ));
    }
    let person = Person {
        id: Uuid::new_v4(),
        username: new.username.trim().to_string(),
        display_name: new.display_name.trim().to_string(),
        role: new.role,
        created_at: Utc::now(),
    };
    let storage = state.storage.clone();
    let stored = person.clone();
    let added = blocking(move || {
        let hash = zhisu_server_service::people::hash_password(&new.password);
        storage.add_person(&stored, &hash)
    })
    .await?;
    if !added {
        return Err(Failure::new(
            StatusCode::CONFLICT,
            codes::USERNAME_TAKEN,
            "that username is taken",
        ));
    }
    audit(
        &state,
        &session.person,
        "add_person",
        format!("{} as {}", person.username, person.role.name()),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(person)))
}
