//! Fieldwork outcomes on the progress page (issue 15): every contact by its final disposition
//! and the AAPOR rates (`docs/statistics.md` §10), overall, per district and per site, in the
//! viewer's scope; and the same table as CSV (`/dashboard/fieldwork.csv`).

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{html, Markup};
use zhisu_server_service::fieldwork::{fieldwork_csv, percent, Fieldwork, FieldworkRow};
use zhisu_server_service::t;
use zhisu_server_service::wording::district_name;

use super::html::scroll_box;
use super::{attachment, run, ViewQuery, Viewer};
use crate::HttpState;

/// Site id → name, from the whole sample plan.
pub(super) fn site_names(sites: &[zhisu_protocol::Site]) -> BTreeMap<String, String> {
    sites
        .iter()
        .map(|s| (s.id.clone(), s.name.clone()))
        .collect()
}

fn rate_cells(row: &FieldworkRow) -> Markup {
    let r = row.rates.unwrap_or_default();
    html! {
        @for (name, rate) in [("rr1", r.rr1), ("rr2", r.rr2), ("coop3", r.coop3), ("ref1", r.ref1), ("con1", r.con1), ("e", r.eligibility)] {
            td.num data-rate=(name) {
                @match rate { Some(_) => { (percent(rate)) "%" }, None => "—" }
            }
        }
    }
}

fn row_cells(row: &FieldworkRow, with_rates: bool) -> Markup {
    let c = &row.counts;
    html! {
        td.num data-count="total" { (c.total()) }
        td.num data-count="completed" { (c.completed) }
        td.num data-count="partial" { (c.partial) }
        td.num data-count="refused" { (c.refused) }
        td.num data-count="not_eligible" { (c.not_eligible) }
        td.num data-count="other" { (c.other) }
        @if with_rates { (rate_cells(row)) }
    }
}

/// The section of the progress page.
pub(super) fn section(
    fieldwork: &Fieldwork,
    names: &BTreeMap<String, String>,
    lang: &str,
) -> Markup {
    let heading = t(lang, "调查结果与应答率", "Contact outcomes and rates");
    let head = html! {
        th { (t(lang, "接触总数", "Contacts")) }
        th { (t(lang, "完成", "Completed")) }
        th { (t(lang, "中途停止", "Partial")) }
        th { (t(lang, "拒绝", "Refused")) }
        th { (t(lang, "不符合条件", "Not eligible")) }
        th { (t(lang, "未接触到/其他", "Not reached/other")) }
        @if fieldwork.with_rates {
            th { abbr title=(t(lang, "应答率1 = 完成 /（完成+中途停止+拒绝+其他）", "Response rate 1 = I/(I+P+R+O)")) { "RR1" } }
            th { abbr title=(t(lang, "应答率2 =（完成+中途停止）/（完成+中途停止+拒绝+其他）", "Response rate 2 = (I+P)/(I+P+R+O)")) { "RR2" } }
            th { abbr title=(t(lang, "合作率3 = 完成 /（完成+中途停止+拒绝）", "Cooperation rate 3 = I/(I+P+R)")) { "COOP3" } }
            th { abbr title=(t(lang, "拒绝率1 = 拒绝 /（完成+中途停止+拒绝+其他）", "Refusal rate 1 = R/(I+P+R+O)")) { "REF1" } }
            th { abbr title=(t(lang, "接触率1 =（完成+中途停止+拒绝）/（完成+中途停止+拒绝+其他）", "Contact rate 1 = (I+P+R)/(I+P+R+O)")) { "CON1" } }
            th { abbr title=(t(lang, "合格率 =（完成+中途停止）/（完成+中途停止+不符合条件）", "Eligibility rate = (I+P)/(I+P+NE)")) { "e" } }
        }
    };
    html! {
        h2 #fieldwork-heading { (heading) }
        p.note {
            (t(lang,
               "每个接触都有一个最终结果（参照 AAPOR 标准定义）；应答率等按接触数计算，不加权。",
               "Every contact has one final disposition (after AAPOR's Standard Definitions); the rates are unweighted counts of contacts."))
            @if !fieldwork.with_rates {
                " " (t(lang,
                       "拒绝的人在回答所属人群之前就结束了，所以按人群查看时只显示数量，不计算比率。",
                       "Refusals end before the population is asked, so a population scope shows counts only, no rates."))
            }
            " " a.target href={"/dashboard/fieldwork.csv?lang=" (lang)} { (t(lang, "下载 CSV", "Download CSV")) }
        }
        (scroll_box(heading, html! { table #fieldwork {
            tr { th { (t(lang, "范围", "Scope")) } (head) }
            tr data-key="" { td { (t(lang, "全部", "All")) } (row_cells(&fieldwork.overall, fieldwork.with_rates)) }
            @for row in &fieldwork.districts {
                tr data-key=(row.key) {
                    td { (row.district.as_deref().map(|d| district_name(d, lang)).unwrap_or_else(|| t(lang, "（无区县）", "(no district)").to_string())) }
                    (row_cells(row, fieldwork.with_rates))
                }
            }
            @for row in &fieldwork.sites {
                tr data-key=(row.key) {
                    td {
                        "　"
                        (row.site_id.as_deref().map(|s| names.get(s).cloned().unwrap_or_else(|| s.to_string())).unwrap_or_else(|| t(lang, "（无调查点）", "(no site)").to_string()))
                    }
                    (row_cells(row, fieldwork.with_rates))
                }
            }
        } }))
    }
}

/// `/dashboard/fieldwork.csv`: the table of the progress page, in the viewer's scope.
pub(super) async fn csv(
    State(state): State<HttpState>,
    viewer: Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    let scope = viewer.0.person.role.scope();
    let storage = state.storage.clone();
    let lang = q.lang().to_string();
    let what = format!("fieldwork CSV, scope {scope:?}");
    let file = match run(move || {
        let fieldwork = zhisu_server_service::fieldwork::fieldwork(storage.as_ref(), &scope)?;
        let names = site_names(&storage.all_sites()?);
        let text = fieldwork_csv(&fieldwork, &names, &lang);
        Ok(zhisu_server_service::export::File {
            bytes: text.into_bytes(),
            content_type: "text/csv; charset=utf-8",
            name: "fieldwork.csv".to_string(),
            rows: 1 + fieldwork.districts.len() + fieldwork.sites.len(),
        })
    })
    .await
    {
        Ok(file) => file,
        Err(response) => return response,
    };
    let (server, actor) = (state.server.clone(), viewer.0.person.username.clone());
    let detail = format!("{what}: {} rows", file.rows);
    if let Err(e) = run(move || server.audit(&actor, "export", &detail)).await {
        return e;
    }
    attachment(file)
}
