//! The dashboard's downloads: interviews of the viewer's scope and filter as CSV (with its
//! codebook) and XLSX, built by `zhisu_server_service::export`.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use zhisu_server_service::export::{file, table_of_store, Format, Table};
use zhisu_server_service::privacy::reads_minimised;

use super::{attachment, internal, run, ViewQuery, Viewer};
use crate::HttpState;

pub(super) async fn load(
    state: &HttpState,
    viewer: &Viewer,
    q: &ViewQuery,
) -> Result<Table, Response> {
    let scope = viewer.0.person.role.scope();
    let filter = q.filter_for(&viewer.0.person);
    let (state, qid, lang) = (
        state.clone(),
        q.questionnaire().to_string(),
        q.lang().to_string(),
    );
    // the configured local time for a device offset that is not a real one
    let fallback = state.utc_offset;
    let minimised = reads_minimised(&viewer.0.person.role);
    // read a page of interviews at a time: only the table's rows are held
    run(move || table_of_store(&state, &scope, &qid, &filter, &lang, fallback, minimised)).await
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

/// The viewer's interviews under the page's filter as CSV, streamed: read and written a page of
/// interviews at a time (`export::write_csv`), so the server's memory stays flat whatever the
/// number. A failure before the first bytes answers 500; one later cuts the connection, so a
/// download is never silently short. The audit entry is written at the end, with the rows
/// sent, or how far a cut-short download got.
pub(super) async fn csv(
    State(state): State<HttpState>,
    viewer: Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    let scope = viewer.0.person.role.scope();
    let filter = q.filter_for(&viewer.0.person);
    let minimised = reads_minimised(&viewer.0.person.role);
    let (qid, lang) = (q.questionnaire().to_string(), q.lang().to_string());
    let what = format!(
        "Csv of {qid}, scope {scope:?}, filter {filter:?}{}",
        if minimised { ", minimised" } else { "" }
    );
    let name = format!(
        "zhisu-{}.csv",
        zhisu_server_service::export::file_stem(&qid)
    );
    let (server, actor, fallback) = (
        state.server.clone(),
        viewer.0.person.username.clone(),
        state.utc_offset,
    );
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let result = zhisu_server_service::export::write_csv(
            &server,
            &scope,
            &qid,
            &filter,
            &lang,
            fallback,
            minimised,
            &mut |bytes| tx.blocking_send(Ok(bytes)).is_ok(),
        );
        let detail = match &result {
            Ok((rows, true)) => format!("{what}: {rows} rows"),
            Ok((rows, false)) => {
                format!("{what}: cut short after {rows} rows (the download stopped)")
            }
            Err(e) => format!("{what}: failed: {e}"),
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "CSV export");
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
        if let Err(e) = server.audit_read(&actor, "export", &detail) {
            tracing::error!(error = %e, "the audit entry of a CSV export");
        }
    });
    let first = match rx.recv().await {
        Some(Ok(bytes)) => bytes,
        Some(Err(e)) => return internal(e),
        None => return internal("the export stopped before it began"),
    };
    let rest = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let body = futures_util::stream::iter([Ok(first)]).chain(rest);
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response()
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
