//! The dashboard's downloads: interviews of the viewer's scope and filter as CSV (with its
//! codebook) and XLSX, built by `zhisu_server_service::export`; the literacy page's estimate
//! tables as CSV and XLSX, built by `zhisu_server_service::estimates`.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use zhisu_server_service::estimates;
use zhisu_server_service::export::{file, table, File, Format, Table};

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
    run(move || table(&state, &interviews, &qid, &filter, &lang, fallback)).await
}

/// The viewer's interviews under the page's filter, as a file in `format`.
async fn download(state: HttpState, viewer: Viewer, q: ViewQuery, format: Format) -> Response {
    let table = match load(&state, &viewer, &q).await {
        Ok(table) => table,
        Err(response) => return response,
    };
    let (qid, lang) = (q.questionnaire().to_string(), q.lang().to_string());
    let what = format!(
        "{format:?} of {qid}, scope {:?}, filter {:?}",
        viewer.0.person.role.scope(),
        q.filter_for(&viewer.0.person)
    );
    let file = match tokio::task::spawn_blocking(move || file(&table, format, &qid, &lang)).await {
        Ok(Ok(file)) => file,
        Ok(Err(e)) => return internal(e),
        Err(e) => return internal(e),
    };
    // every download is in the audit log: who, what, in which scope, how many rows
    let (server, actor) = (state.server.clone(), viewer.0.person.username.clone());
    let detail = format!("{what}: {} rows", file.rows);
    if let Err(e) = run(move || server.audit(&actor, "export", &detail)).await {
        return e;
    }
    attachment(file)
}

/// A file as a download, with its row count in `x-zhisu-rows` (the page's progress line).
fn attachment(file: File) -> Response {
    (
        [
            (header::CONTENT_TYPE, file.content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file.name),
            ),
            (
                header::HeaderName::from_static("x-zhisu-rows"),
                file.rows.to_string(),
            ),
        ],
        file.bytes,
    )
        .into_response()
}

pub(super) async fn csv(
    State(state): State<HttpState>,
    viewer: Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    download(state, viewer, q, Format::Csv).await
}

pub(super) async fn codebook_csv(
    State(state): State<HttpState>,
    viewer: Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    download(state, viewer, q, Format::CodebookCsv).await
}

pub(super) async fn xlsx(
    State(state): State<HttpState>,
    viewer: Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    download(state, viewer, q, Format::Xlsx).await
}

/// The literacy page's tables (`zhisu_server_service::estimates`) of the viewer's scope and
/// filter, as a file in `format`; each download in the audit log.
async fn estimates_download(
    state: HttpState,
    viewer: Viewer,
    q: ViewQuery,
    format: estimates::Format,
) -> Response {
    let person = viewer.0.person;
    let filter = q.filter_for(&person);
    let (qid, lang) = (q.questionnaire().to_string(), q.lang().to_string());
    let what = format!(
        "estimates {format:?} of {qid}, scope {:?}, filter {filter:?}",
        person.role.scope()
    );
    let (server, min_cell_n) = (state.server.clone(), state.min_cell_n);
    let made = tokio::task::spawn_blocking(move || {
        let tables = estimates::estimates(estimates::Ask {
            storage: server.storage.as_ref(),
            registry: &server.questionnaires,
            role: &person.role,
            questionnaire_id: &qid,
            filter: &filter,
            min_cell_n,
            lang: &lang,
        })
        .map_err(internal)?;
        let file = estimates::file(&tables, format, &lang).map_err(internal)?;
        let detail = format!("{what}: {} rows", file.rows);
        server
            .audit(&person.username, "export", &detail)
            .map_err(internal)?;
        Ok::<_, Response>(file)
    })
    .await;
    match made {
        Ok(Ok(file)) => attachment(file),
        Ok(Err(response)) => response,
        Err(e) => internal(e),
    }
}

pub(super) async fn estimates_csv(
    State(state): State<HttpState>,
    viewer: Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    estimates_download(state, viewer, q, estimates::Format::Csv).await
}

pub(super) async fn estimates_xlsx(
    State(state): State<HttpState>,
    viewer: Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    estimates_download(state, viewer, q, estimates::Format::Xlsx).await
}
