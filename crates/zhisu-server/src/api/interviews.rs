//! Stored interviews, by the reader's scope.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_protocol::codes;
use zhisu_server_service::privacy::{minimise, reads_minimised};
use zhisu_server_service::storage::StoredInterview;

use crate::error::{blocking, forbidden, json_rejection, Failure};
use crate::extract::Session;
use crate::HttpState;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterviewList {
    pub count: usize,
    pub interviews: Vec<StoredInterview>,
}

pub(super) async fn list_interviews(
    State(state): State<HttpState>,
    session: Session,
) -> Result<Json<InterviewList>, Failure> {
    let server = state.server.clone();
    let role = session.person.role.clone();
    let actor = session.person.username.clone();
    let interviews = blocking(move || {
        let scope = role.scope();
        let mut interviews = server.storage.interviews(&scope)?;
        // a department viewer reads them without what re-identifies the respondent
        if reads_minimised(&role) {
            for i in &mut interviews {
                let q = server.questionnaires.get(
                    &i.interview.questionnaire_id,
                    &i.interview.questionnaire_version,
                );
                minimise(&mut i.interview, q.as_ref().map(|p| &p.questionnaire));
            }
        }
        // every read of interview-level data is in the audit log
        server.audit_read(
            &actor,
            "read_interviews",
            &format!(
                "GET /api/v1/interviews, scope {scope:?}{}: {} interviews",
                if reads_minimised(&role) {
                    ", minimised"
                } else {
                    ""
                },
                interviews.len()
            ),
        )?;
        Ok::<_, zhisu_server_service::StorageError>(interviews)
    })
    .await?;
    Ok(Json(InterviewList {
        count: interviews.len(),
        interviews,
    }))
}

/// Why an interview is erased: the respondent's request (who asked, when, its reference).
#[derive(Debug, Deserialize)]
pub struct Erasure {
    pub reason: String,
}

/// Erases one respondent's interview at their request (city administrators): it and its counts
/// go in one transaction, audited with the reason; a tablet sending it again does not store it
/// again. 404 when no interview has this id.
pub(super) async fn erase_interview(
    State(state): State<HttpState>,
    session: Session,
    Path(id): Path<Uuid>,
    body: Result<Json<Erasure>, JsonRejection>,
) -> Result<StatusCode, Failure> {
    if !session.person.role.may_erase_interviews() {
        return Err(forbidden("erase interviews"));
    }
    let Json(erasure) = body.map_err(json_rejection)?;
    let reason = erasure.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_REQUEST,
            "say why the interview is erased (the request it answers), in at most 500 characters",
        ));
    }
    let (server, actor) = (state.server.clone(), session.person.username);
    if blocking(move || server.erase_interview(id, &actor, &reason)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Failure::new(
            StatusCode::NOT_FOUND,
            codes::NOT_FOUND,
            "no stored interview has this id",
        ))
    }
}
