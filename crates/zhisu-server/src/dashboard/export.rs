//! The dashboard's downloads: interviews of the viewer's scope and filter as CSV (with its
//! codebook) and XLSX, built by `zhisu_server_service::export`.

use axum::extract::{Query, State};
use axum::response::Response;
use zhisu_server_service::export::{file, table_for, Format, Table};
use zhisu_server_service::privacy::reads_minimised;

use super::{attachment, internal, run, ViewQuery, Viewer};
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
    let minimised = reads_minimised(&viewer.0.person.role);
    run(move || {
        table_for(
            &state,
            &interviews,
            &qid,
            &filter,
            &lang,
            fallback,
            minimised,
        )
    })
    .await
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
    if let Err(e) = run(move || server.audit_read(&actor, "export", &detail)).await {
        return e;
    }
    attachment(file)
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
