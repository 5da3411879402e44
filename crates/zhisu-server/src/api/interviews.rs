//! Stored interviews, by the reader's scope, page by page in order of receipt.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_server_service::storage::StoredInterview;

use crate::error::{blocking, Failure};
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
            other => return Err(bad(format!("unknown query parameter {other:?}"))),
        }
    }
    let storage = state.storage.clone();
    let scope = session.person.role.scope();
    let interviews = blocking(move || storage.interviews_page(&scope, after, limit)).await?;
    let next = (interviews.len() == limit)
        .then(|| interviews.last().map(cursor))
        .flatten();
    Ok(Json(InterviewList {
        count: interviews.len(),
        interviews,
        next,
    }))
}
