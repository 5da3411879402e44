//! The dashboard's downloads: interviews of the viewer's scope and filter as CSV (with its
//! codebook) and XLSX, built by `zhisu_server_service::export`.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use zhisu_server_service::export::{csv_text, table, xlsx_bytes, Table};

use super::{internal, run, ViewQuery, Viewer};
use crate::HttpState;

pub(super) async fn load(
    state: &HttpState,
    viewer: &Viewer,
    q: &ViewQuery,
) -> Result<Table, Response> {
    let scope = viewer.0.person.role.scope();
    let storage = state.storage.clone();
    let interviews = run(move || storage.interviews(&scope)).await?;
    let filter = q.filter_for(&viewer.0.person);
    let (state, qid, lang) = (
        state.clone(),
        q.questionnaire().to_string(),
        q.lang().to_string(),
    );
    // the configured local time for a device offset that is not a real one
    let fallback = state.utc_offset;
    tokio::task::spawn_blocking(move || table(&state, &interviews, &qid, &filter, &lang, fallback))
        .await
        .map_err(internal)
}

pub(super) fn download(body: Vec<u8>, content_type: &str, name: &str, rows: usize) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (
                header::HeaderName::from_static("x-zhisu-rows"),
                rows.to_string(),
            ),
        ],
        body,
    )
        .into_response()
}

pub(super) async fn csv(
    State(state): State<HttpState>,
    viewer: Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    match load(&state, &viewer, &q).await {
        Ok(table) => {
            let n = table.rows.len();
            download(
                csv_text(&table.headers, &table.rows).into_bytes(),
                "text/csv; charset=utf-8",
                &format!("zhisu-{}.csv", q.questionnaire()),
                n,
            )
        }
        Err(r) => r,
    }
}

pub(super) async fn codebook_csv(
    State(state): State<HttpState>,
    viewer: Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    let lang = q.lang().to_string();
    match load(&state, &viewer, &q).await {
        Ok(table) => {
            let headers = ["变量 variable", "标签 label", "类型 type", "取值 values"]
                .map(String::from)
                .to_vec();
            let rows: Vec<Vec<String>> = table.codebook.iter().map(|r| r.to_vec()).collect();
            let _ = lang;
            let n = rows.len();
            download(
                csv_text(&headers, &rows).into_bytes(),
                "text/csv; charset=utf-8",
                &format!("zhisu-{}-codebook.csv", q.questionnaire()),
                n,
            )
        }
        Err(r) => r,
    }
}

pub(super) async fn xlsx(
    State(state): State<HttpState>,
    viewer: Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    let lang = q.lang().to_string();
    match load(&state, &viewer, &q).await {
        Ok(table) => {
            let n = table.rows.len();
            match tokio::task::spawn_blocking(move || xlsx_bytes(&table, &lang)).await {
                Ok(Ok(bytes)) => download(
                    bytes,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    &format!("zhisu-{}.xlsx", q.questionnaire()),
                    n,
                ),
                Ok(Err(e)) => internal(e),
                Err(e) => internal(e),
            }
        }
        Err(r) => r,
    }
}
