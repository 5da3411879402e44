//! Stored interviews, by the reader's scope, page by page in order of receipt.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_protocol::codes;
use zhisu_server_service::privacy::{minimise, reads_minimised};
use zhisu_server_service::storage::StoredInterview;

use crate::error::{blocking, forbidden, json_rejection, Failure};
use crate::extract::Session;
use crate::HttpState;

/// The most interviews one page holds, and how many a page holds when `limit` is not given.
pub const MAX_PAGE: usize = 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterviewList {
    /// Interviews in this page.
    pub count: usize,
    pub interviews: Vec<StoredInterview>,
    /// The `after` of the next page, when this one was full (there may be more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The position after an interview: its receipt time (RFC 3339, full precision) and id.
pub fn cursor(interview: &StoredInterview) -> String {
    format!(
        "{}_{}",
        interview
            .received_at
            .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        interview.interview.id
    )
}

fn parse_cursor(s: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (at, id) = s.rsplit_once('_')?;
    Some((
        DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
        Uuid::parse_str(id).ok()?,
    ))
}

fn bad(message: String) -> Failure {
    Failure::new(StatusCode::BAD_REQUEST, "bad_request", message)
}

/// `GET /api/v1/interviews?limit=N&after=CURSOR`: at most `limit` (1–1000, default 1000)
/// interviews the reader may read, in order of receipt, after the cursor a page before gave
/// as `next`.
pub(super) async fn list_interviews(
    State(state): State<HttpState>,
    session: Session,
    RawQuery(query): RawQuery,
) -> Result<Json<InterviewList>, Failure> {
    let (mut limit, mut after) = (MAX_PAGE, None);
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*key {
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE).contains(n))
                    .ok_or_else(|| {
                        bad(format!("limit must be a whole number from 1 to {MAX_PAGE}"))
                    })?
            }
            "after" => {
                after = Some(parse_cursor(&value).ok_or_else(|| {
                    bad("after must be the `next` of an earlier page".to_string())
                })?)
            }
            // every page and endpoint takes the reader's language; this list has no labels to
            // translate, so it changes nothing here
            "lang" => {}
            other => return Err(bad(format!("unknown query parameter {other:?}"))),
        }
    }
    let server = state.server.clone();
    let role = session.person.role.clone();
    let actor = session.person.username.clone();
    let interviews = blocking(move || {
        let scope = role.scope();
        let mut interviews = server.storage.interviews_page(&scope, after, limit)?;
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
    let next = (interviews.len() == limit)
        .then(|| interviews.last().map(cursor))
        .flatten();
    Ok(Json(InterviewList {
        count: interviews.len(),
        interviews,
        next,
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
