//! Stored interviews, by the reader's scope.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use zhisu_server_service::storage::StoredInterview;

use crate::error::{blocking, Failure};
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
    let storage = state.storage.clone();
    let scope = session.person.role.scope();
    let interviews = blocking(move || storage.interviews(&scope)).await?;
    Ok(Json(InterviewList {
        count: interviews.len(),
        interviews,
    }))
}
