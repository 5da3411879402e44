//! Quality per surveyor and per site (issue 15): `/dashboard/quality` (sortable by any column,
//! outliers marked) and `/dashboard/quality.csv`, in the viewer's scope.

use axum::extract::{Query, State};
use axum::response::{Html, Response};
use maud::{html, Markup};
use serde::Deserialize;
use zhisu_server_service::fieldwork::percent;
use zhisu_server_service::quality::{
    quality, quality_csv, quality_xlsx, sort_lines, QualityBy, QualityLine, QualityTable,
};
use zhisu_server_service::t;
use zhisu_server_service::wording::district_name;

use super::fieldwork::site_names;
use super::html::{page, scroll_box};
use super::{attachment, run, Viewer};
use crate::HttpState;

#[derive(Debug, Default, Deserialize)]
pub struct QualityQuery {
    #[serde(default)]
    pub lang: Option<String>,
    /// `surveyor` (the default) or `site`.
    #[serde(default)]
    pub by: Option<String>,
    /// One of `SORT_COLUMNS`; by name when absent or unknown.
    #[serde(default)]
    pub sort: Option<String>,
    /// `1`: largest first.
    #[serde(default)]
    pub desc: Option<String>,
}

impl QualityQuery {
    fn lang(&self) -> &'static str {
        super::language(self.lang.as_deref())
    }
    fn by(&self) -> QualityBy {
        QualityBy::parse(self.by.as_deref())
    }
    fn sort(&self) -> &str {
        self.sort.as_deref().unwrap_or("name")
    }
    fn descending(&self) -> bool {
        self.desc.as_deref() == Some("1")
    }
}

async fn load(
    state: &HttpState,
    viewer: &Viewer,
    q: &QualityQuery,
) -> Result<(QualityTable, std::collections::BTreeMap<String, String>), Response> {
    let scope = viewer.0.person.role.scope();
    let storage = state.storage.clone();
    let (by, sort, desc) = (q.by(), q.sort().to_string(), q.descending());
    run(move || {
        let mut table = quality(storage.as_ref(), &scope, by)?;
        sort_lines(&mut table.lines, &sort, desc);
        // by surveyor: the names of the surveyors managed on the server beside their ids
        let names = match by {
            QualityBy::Site => site_names(&storage.all_sites()?),
            QualityBy::Surveyor => storage
                .field_surveyors(None)?
                .into_iter()
                .map(|s| (s.id.clone(), format!("{}（{}）", s.name, s.id)))
                .collect(),
        };
        Ok((table, names))
    })
    .await
}

fn name_of(
    table: &QualityTable,
    line: &QualityLine,
    names: &std::collections::BTreeMap<String, String>,
    lang: &str,
) -> String {
    match (&line.id, table.by) {
        (None, QualityBy::Surveyor) => t(lang, "（未登记调查员）", "(no surveyor)").to_string(),
        (None, QualityBy::Site) => t(lang, "（无调查点）", "(no site)").to_string(),
        (Some(id), QualityBy::Site) => names.get(id).cloned().unwrap_or_else(|| id.clone()),
        (Some(id), QualityBy::Surveyor) => names.get(id).cloned().unwrap_or_else(|| id.clone()),
    }
}

fn header(q: &QualityQuery, column: &str, label: &str, lang: &str) -> Markup {
    // a second click on the sorted column turns the order round
    let desc = if q.sort() == column && !q.descending() {
        "1"
    } else {
        "0"
    };
    let mark = match (q.sort() == column, q.descending()) {
        (true, false) => " ▲",
        (true, true) => " ▼",
        _ => "",
    };
    let href = format!(
        "/dashboard/quality?by={}&sort={column}&desc={desc}&lang={lang}",
        q.by().as_str()
    );
    html! { th aria-sort=(match (q.sort() == column, q.descending()) { (true, false) => "ascending", (true, true) => "descending", _ => "none" }) {
        a.target href=(href) { (label) (mark) }
    } }
}

fn row(
    table: &QualityTable,
    line: &QualityLine,
    names: &std::collections::BTreeMap<String, String>,
    lang: &str,
) -> Markup {
    let c = &line.counts;
    let marks: Vec<&str> = line.outliers.iter().map(|o| o.as_str()).collect();
    html! {
        tr data-id=(line.id.as_deref().unwrap_or("")) data-outliers=(marks.join(" ")) class=[(!marks.is_empty()).then_some("outlier")] {
            td { (line.district.as_deref().map(|d| district_name(d, lang)).unwrap_or_default()) }
            td { (name_of(table, line, names, lang)) }
            td.num data-col="interviews" { (line.interviews) }
            td.num { (c.completed) " / " (c.partial) " / " (c.refused) " / " (c.not_eligible) " / " (c.other) }
            td.num data-col="rr1" { (percent(line.rr1)) }
            td.num data-col="coop3" { (percent(line.coop3)) }
            td.num data-col="duration" { @match line.median_duration_min { Some(m) => (format!("{m:.1}")), None => "—" } }
            td.num data-col="flagged" { (percent(line.share_flagged)) }
            td.num data-col="rejected" { (percent(line.rejection_rate)) }
            td.num data-col="backchecks" { (line.backchecks) }
            td.num data-col="agreement" { (percent(line.backcheck_agreement)) }
            td.num data-col="backchecks-failed" { (line.backchecks_failed) }
            td { @for (i, o) in line.outliers.iter().enumerate() { @if i > 0 { "、" } strong { "⚠ " (o.label(lang)) } } }
        }
    }
}

pub(super) async fn quality_page(
    State(state): State<HttpState>,
    viewer: Viewer,
    Query(q): Query<QualityQuery>,
) -> Result<Html<String>, Response> {
    let lang = q.lang();
    let (table, names) = load(&state, &viewer, &q).await?;
    let title = t(lang, "调查员与调查点", "Surveyors and sites");
    let other = match q.by() {
        QualityBy::Surveyor => ("site", t(lang, "按调查点看", "By site")),
        QualityBy::Site => ("surveyor", t(lang, "按调查员看", "By surveyor")),
    };
    let body = html! {
        h1 { (title) }
        p.note {
            (t(lang,
               "每行：调查数；完成/中途停止/拒绝/不符合条件/其他；应答率 RR1 和合作率 COOP3（%）；用时中位数（分钟）；被标记和被退回的比例（%）；复核数、复核一致率（%，统计说明 §13）和未通过的复核数。⚠ 表示明显偏离全部的情况（规则见统计说明 §12）。点表头可以排序。",
               "Each row: interviews; completed/partial/refused/not eligible/other; RR1 and COOP3 (%); median duration (minutes); shares flagged and rejected (%); back-checks, their agreement (%, statistics §13) and those failed. ⚠ marks a row far from the whole (rules: statistics §12). Click a heading to sort."))
            " " a.target href={"/dashboard/quality?by=" (other.0) "&lang=" (lang)} { (other.1) }
            " " a.target href={"/dashboard/quality.csv?by=" (q.by().as_str()) "&sort=" (q.sort()) "&desc=" (if q.descending() { "1" } else { "0" }) "&lang=" (lang)} { (t(lang, "下载 CSV", "Download CSV")) }
            " " a.target href={"/dashboard/quality.xlsx?by=" (q.by().as_str()) "&sort=" (q.sort()) "&desc=" (if q.descending() { "1" } else { "0" }) "&lang=" (lang)} { (t(lang, "下载 Excel", "Download Excel")) }
        }
        (scroll_box(title, html! { table #quality data-by=(q.by().as_str()) {
            tr {
                th { (t(lang, "区县", "District")) }
                (header(&q, "name", match q.by() { QualityBy::Surveyor => t(lang, "调查员", "Surveyor"), QualityBy::Site => t(lang, "调查点", "Site") }, lang))
                (header(&q, "interviews", t(lang, "调查数", "Interviews"), lang))
                th { (t(lang, "完成/中途/拒绝/不符合/其他", "I/P/R/NE/O")) }
                (header(&q, "rr1", "RR1 %", lang))
                (header(&q, "coop3", "COOP3 %", lang))
                (header(&q, "duration", t(lang, "用时中位数（分钟）", "Median minutes"), lang))
                (header(&q, "flagged", t(lang, "被标记 %", "Flagged %"), lang))
                (header(&q, "rejected", t(lang, "被退回 %", "Rejected %"), lang))
                th { (t(lang, "复核数", "Back-checks")) }
                (header(&q, "agreement", t(lang, "复核一致 %", "Agreement %"), lang))
                th { (t(lang, "复核未通过", "Failed")) }
                th { (t(lang, "异常", "Outliers")) }
            }
            @for line in &table.lines { (row(&table, line, &names, lang)) }
            tr.total data-id="" {
                td { (t(lang, "全部", "All")) }
                td {}
                td.num { (table.overall.interviews) }
                td.num { (table.overall.counts.completed) " / " (table.overall.counts.partial) " / " (table.overall.counts.refused) " / " (table.overall.counts.not_eligible) " / " (table.overall.counts.other) }
                td.num { (percent(table.overall.rr1)) }
                td.num { (percent(table.overall.coop3)) }
                td.num { @match table.overall.median_duration_min { Some(m) => (format!("{m:.1}")), None => "—" } }
                td.num { (percent(table.overall.share_flagged)) }
                td.num { (percent(table.overall.rejection_rate)) }
                td.num data-col="backchecks" { (table.overall.backchecks) }
                td.num data-col="agreement" { (percent(table.overall.backcheck_agreement)) }
                td.num data-col="backchecks-failed" { (table.overall.backchecks_failed) }
                td {}
            }
        } }))
        @if !table.with_rates {
            p.note { (t(lang, "按人群查看时不计算应答率：拒绝的人在回答所属人群之前就结束了。", "No response rates in a population scope: refusals end before the population is asked.")) }
        }
    };
    Ok(page(Some(&viewer.0), lang, "quality", title, body))
}

pub(super) async fn quality_csv_download(
    State(state): State<HttpState>,
    viewer: Viewer,
    Query(q): Query<QualityQuery>,
) -> Response {
    let lang = q.lang();
    let (table, names) = match load(&state, &viewer, &q).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    let text = quality_csv(&table, &names, lang);
    let file = zhisu_server_service::export::File {
        bytes: text.into_bytes(),
        content_type: "text/csv; charset=utf-8",
        name: format!("quality-{}.csv", q.by().as_str()),
        rows: table.lines.len(),
    };
    let (server, actor) = (state.server.clone(), viewer.0.person.username.clone());
    let detail = format!(
        "quality CSV by {}, scope {:?}: {} rows",
        q.by().as_str(),
        viewer.0.person.role.scope(),
        file.rows
    );
    if let Err(e) = run(move || server.audit(&actor, "export", &detail)).await {
        return e;
    }
    attachment(file)
}

/// `/dashboard/quality.xlsx`: the table as a workbook, in the viewer's scope, audited as an export.
pub(super) async fn quality_xlsx_download(
    State(state): State<HttpState>,
    viewer: Viewer,
    Query(q): Query<QualityQuery>,
) -> Response {
    let lang = q.lang();
    let (table, names) = match load(&state, &viewer, &q).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    let bytes = match quality_xlsx(&table, &names, lang) {
        Ok(bytes) => bytes,
        Err(e) => return super::internal(e),
    };
    let file = zhisu_server_service::export::File {
        bytes,
        content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        name: format!("quality-{}.xlsx", q.by().as_str()),
        rows: table.lines.len(),
    };
    let (server, actor) = (state.server.clone(), viewer.0.person.username.clone());
    let detail = format!(
        "quality XLSX by {}, scope {:?}: {} rows",
        q.by().as_str(),
        viewer.0.person.role.scope(),
        file.rows
    );
    if let Err(e) = run(move || server.audit(&actor, "export", &detail)).await {
        return e;
    }
    attachment(file)
}
