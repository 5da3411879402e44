//! The monitoring dashboard: server-rendered HTML in Chinese (English with `?lang=en`), no
//! script needed to read it, printable. Every view reads through the signed-in person's scope;
//! the figures come from `zhisu_server_service::analysis`, the same code the JSON API and the reports use.
//!
//! Sessions: the sign-in form sets an HttpOnly, SameSite=Strict cookie holding the same kind
//! of session token the API issues; forms that change data are POSTs, which SameSite=Strict
//! keeps from other sites.

mod export;
mod literacy;
mod login;
mod progress;
mod qc;
mod report;

use std::fmt::Write as _;
use zhisu_server_service::QuestionnaireRegistry;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use zhisu_server_service::analysis::{self, By, Estimate, Filter, Labels};
use zhisu_server_service::people::{Person, Role};
use zhisu_server_service::storage::facts::AGE_BANDS;
use zhisu_server_service::t;

use crate::extract::Session;
use crate::HttpState;
use literacy::*;
use login::*;
use progress::*;
use qc::*;
use report::*;

/// Cells with fewer interviews than this are marked as unreliable (still shown).
pub const MIN_CELL_N: u64 = zhisu_stats::DEFAULT_MIN_CELL_N;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route(
            "/dashboard",
            get(|| async { Redirect::to("/dashboard/progress") }),
        )
        .route("/dashboard/login", get(login_page).post(login))
        .route("/dashboard/logout", post(logout))
        .route("/dashboard/progress", get(progress_page))
        .route("/dashboard/literacy", get(literacy_page))
        .route("/dashboard/items", get(items_page))
        .route("/dashboard/qc", get(qc_page))
        .route("/dashboard/qc/{id}", post(qc_review))
        .route("/dashboard/report", get(report_page))
        .route("/dashboard/export.csv", get(export::csv))
        .route("/dashboard/codebook.csv", get(export::codebook_csv))
        .route("/dashboard/export.xlsx", get(export::xlsx))
}

/// Query parameters every view understands: the language and the filter.
#[derive(Debug, Default, Deserialize)]
pub struct ViewQuery {
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(flatten)]
    pub filter: Filter,
    #[serde(default)]
    pub status: Option<String>,
}

impl ViewQuery {
    pub fn lang(&self) -> &str {
        match self.lang.as_deref() {
            Some(l) if l.starts_with("en") => "en",
            _ => "zh-CN",
        }
    }

    pub fn questionnaire(&self) -> &str {
        self.q
            .as_deref()
            .filter(|q| !q.is_empty())
            .unwrap_or(analysis::DEFAULT_QUESTIONNAIRE)
    }

    /// The filter, with a district admin's or supervisor's district imposed (they may not
    /// look elsewhere; the storage scope enforces it too).
    pub fn filter_for(&self, person: &Person) -> Filter {
        let mut filter = self.filter.clone();
        if let Some(d) = person.role.district() {
            filter.district = Some(d.to_string());
        }
        filter
    }
}

/// What a view asks the analysis for: the viewer's scope, the filter, the questionnaire and the
/// language, with what it needs to answer on the blocking pool.
pub(super) struct Ask {
    storage: std::sync::Arc<dyn crate::Storage>,
    registry: std::sync::Arc<QuestionnaireRegistry>,
    scope: zhisu_server_service::people::Scope,
    filter: Filter,
    questionnaire: String,
    lang: String,
}

impl Ask {
    fn new(state: &HttpState, person: &Person, q: &ViewQuery) -> Ask {
        Ask {
            storage: state.storage.clone(),
            registry: state.questionnaires.clone(),
            scope: person.role.scope(),
            filter: q.filter_for(person),
            questionnaire: q.questionnaire().to_string(),
            lang: q.lang().to_string(),
        }
    }

    fn literacy(&self) -> Result<analysis::LiteracyReport, crate::StorageError> {
        analysis::literacy(
            self.storage.as_ref(),
            &self.registry,
            &self.scope,
            &self.questionnaire,
            &self.filter,
            MIN_CELL_N,
            &self.lang,
        )
    }

    fn weakest_items(&self) -> Result<Vec<analysis::ItemShare>, crate::StorageError> {
        analysis::weakest_items(
            self.storage.as_ref(),
            &self.registry,
            &self.scope,
            &self.questionnaire,
            &self.filter,
            MIN_CELL_N,
            &self.lang,
        )
    }
}

/// A signed-in person, or a redirect to the sign-in page.
pub struct Viewer(pub Session);

impl axum::extract::FromRequestParts<HttpState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &HttpState,
    ) -> Result<Self, Response> {
        match Session::from_request_parts(parts, state).await {
            Ok(s) => Ok(Viewer(s)),
            Err(_) => Err(Redirect::to("/dashboard/login").into_response()),
        }
    }
}

pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) const STYLE: &str = r#"
:root { --ink:#1a1a1a; --muted:#4a4a4a; --line:#c8c8c8; --accent:#0b5cad; --warn:#8a4b00; --bad:#a4161a; --ok:#1b6e20; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC","WenQuanYi Zen Hei","PingFang SC","Microsoft YaHei",sans-serif; color: var(--ink); margin: 0; font-size: 16px; line-height: 1.5; background:#fff; }
header { background: #0b3d6e; color: #fff; padding: 10px 20px; display:flex; flex-wrap:wrap; gap: 6px 18px; align-items:center; }
header a { color:#fff; text-decoration:none; padding:10px 6px; min-height:44px; display:inline-block; }
header a.current { border-bottom: 3px solid #fff; font-weight: bold; }
header .who { margin-left:auto; font-size: 14px; }
header form { display:inline; }
header button { background:none; color:#fff; border:1px solid #fff; border-radius:4px; padding:8px 12px; cursor:pointer; font-size:14px; }
main { padding: 16px 20px 40px; max-width: 1200px; }
h1 { font-size: 24px; margin: 8px 0 12px; }
h2 { font-size: 20px; margin: 24px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
table { border-collapse: collapse; margin: 8px 0 16px; min-width: 50%; }
th, td { border: 1px solid var(--line); padding: 6px 10px; text-align: left; vertical-align: top; }
th { background: #eef2f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.small { color: var(--warn); font-weight: bold; }
.note { color: var(--muted); font-size: 14px; }
.method { background:#f3f6f9; border-left: 4px solid var(--accent); padding: 6px 10px; font-size: 14px; margin: 8px 0; }
.flag { display:inline-block; background:#fff4e5; color: var(--warn); border:1px solid #e0b070; border-radius: 4px; padding: 0 6px; margin: 2px 4px 2px 0; font-size: 14px; }
.status-rejected { color: var(--bad); font-weight: bold; }
.status-approved { color: var(--ok); font-weight: bold; }
.status-has_issues { color: var(--warn); font-weight: bold; }
form.filters { display:flex; flex-wrap: wrap; gap: 8px 16px; align-items: end; background:#f7f7f7; padding: 10px; border-radius: 6px; }
form.filters label { display:flex; flex-direction: column; font-size: 14px; }
select, input, textarea, button { font-size: 16px; min-height: 40px; }
button.primary { background: var(--accent); color:#fff; border:none; border-radius:4px; padding: 8px 16px; cursor:pointer; }
.error { color: var(--bad); font-weight: bold; }
.bar { fill: #2f6fb0; } .bar.small { fill: #9bb7d4; } .whisker { stroke: #111; stroke-width: 1.5; }
svg text { font-size: 13px; fill: #1a1a1a; }
.progress-bar { background:#e3e3e3; width: 160px; height: 14px; display:inline-block; vertical-align: middle; }
.progress-bar span { background:#2f6fb0; height:14px; display:block; }
@media print { header, form.filters, .no-print { display: none !important; } main { max-width: none; padding: 0; } h2 { break-after: avoid; } table, svg { break-inside: avoid; } }
"#;

pub fn page(
    person: Option<&Person>,
    lang: &str,
    current: &str,
    title: &str,
    body: &str,
) -> Html<String> {
    let mut nav = String::new();
    if let Some(p) = person {
        let suffix = if lang == "en" { "?lang=en" } else { "" };
        for (href, zh, en) in [
            ("progress", "工作进度", "Progress"),
            ("literacy", "素养水平", "Literacy"),
            ("items", "薄弱知识", "Weakest items"),
            ("qc", "质量控制", "Quality control"),
            ("report", "区县报告", "District report"),
        ] {
            let class = if href == current {
                " class=\"current\""
            } else {
                ""
            };
            let _ = write!(
                nav,
                "<a href=\"/dashboard/{href}{suffix}\"{class}>{}</a>",
                t(lang, zh, en)
            );
        }
        let _ = write!(
            nav,
            "<span class=\"who\">{} · {}</span><form method=\"post\" action=\"/dashboard/logout\"><button type=\"submit\">{}</button></form>",
            esc(&p.display_name),
            esc(&role_label(&p.role, lang)),
            t(lang, "退出", "Sign out")
        );
    }
    Html(format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title} · 职素</title><style>{STYLE}</style></head><body><header><strong>职素 · {}</strong>{nav}</header><main>{body}</main></body></html>",
        t(lang, "职业健康素养监测", "Occupational health literacy monitoring"),
        title = esc(title),
    ))
}

pub fn role_label(role: &Role, lang: &str) -> String {
    match role {
        Role::CityAdmin => t(lang, "市级管理员", "City administrator").to_string(),
        Role::DistrictAdmin { district } => {
            format!(
                "{}（{}）",
                t(lang, "区县管理员", "District administrator"),
                district
            )
        }
        Role::Supervisor { district } => {
            format!("{}（{}）", t(lang, "质控督导", "Supervisor"), district)
        }
        Role::DepartmentViewer { populations } => format!(
            "{}（{}）",
            t(lang, "部门查看", "Department viewer"),
            populations.join("、")
        ),
    }
}

#[derive(Deserialize, Default)]
pub(super) struct LangOnly {
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

pub(super) fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "dashboard");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error; see the server log",
    )
        .into_response()
}

pub async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::StorageError> + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(internal)?
        .map_err(internal)
}

pub(super) fn pct(p: f64) -> String {
    format!("{:.1}%", p * 100.0)
}

pub(super) fn fraction(done: u64, wanted: u64) -> String {
    let width = if wanted == 0 {
        0.0
    } else {
        (done as f64 / wanted as f64).min(1.0) * 100.0
    };
    format!(
        "<span class=\"progress-bar\" aria-hidden=\"true\"><span style=\"width:{width:.0}%\"></span></span> {done} / {wanted}"
    )
}

pub(super) fn filter_form(
    action: &str,
    q: &ViewQuery,
    person: &Person,
    labels: &Labels,
    lang: &str,
) -> String {
    let filter = q.filter_for(person);
    let mut f = format!("<form class=\"filters\" method=\"get\" action=\"/dashboard/{action}\"><input type=\"hidden\" name=\"lang\" value=\"{lang}\">");
    let select = |f: &mut String,
                  name: &str,
                  title: &str,
                  options: Vec<(String, String)>,
                  current: Option<&str>,
                  locked: bool| {
        let _ = write!(
            f,
            "<label>{title}<select name=\"{name}\" id=\"filter-{name}\"{}>",
            if locked { " disabled" } else { "" }
        );
        let _ = write!(f, "<option value=\"\">{}</option>", t(lang, "全部", "All"));
        for (key, label) in options {
            let sel = if current == Some(key.as_str()) {
                " selected"
            } else {
                ""
            };
            let _ = write!(
                f,
                "<option value=\"{}\"{sel}>{}</option>",
                esc(&key),
                esc(&label)
            );
        }
        f.push_str("</select></label>");
    };
    for (by, item) in [
        (
            By::Population,
            zhisu_server_service::storage::facts::POPULATION_ITEM,
        ),
        (
            By::Industry,
            zhisu_server_service::storage::facts::INDUSTRY_ITEM,
        ),
        (By::Sex, zhisu_server_service::storage::facts::SEX_ITEM),
        (
            By::Education,
            zhisu_server_service::storage::facts::EDUCATION_ITEM,
        ),
    ] {
        let options = labels.choices(item);
        let current = match by {
            By::Population => filter.population.as_deref(),
            By::Industry => filter.industry.as_deref(),
            By::Sex => filter.sex.as_deref(),
            _ => filter.education.as_deref(),
        };
        select(&mut f, by.as_str(), by.title(lang), options, current, false);
    }
    select(
        &mut f,
        "age_band",
        By::AgeBand.title(lang),
        AGE_BANDS
            .iter()
            .map(|a| (a.to_string(), a.to_string()))
            .collect(),
        filter.age_band.as_deref(),
        false,
    );
    let locked = person.role.district().is_some();
    let _ = write!(
        f,
        "<label>{}<input name=\"district\" id=\"filter-district\" value=\"{}\"{} size=\"12\"></label>",
        By::District.title(lang),
        esc(filter.district.as_deref().unwrap_or("")),
        if locked { " readonly" } else { "" }
    );
    let _ = write!(
        f,
        "<button class=\"primary\" type=\"submit\" id=\"apply\">{}</button></form>",
        t(lang, "筛选", "Apply")
    );
    f
}

/// Horizontal bars with 95 % interval whiskers, one per estimate.
pub fn bars(id: &str, rows: &[Estimate], lang: &str) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let (label_w, bar_w, row_h) = (220.0, 460.0, 26.0);
    let height = rows.len() as f64 * row_h + 24.0;
    let mut s = format!(
        "<svg id=\"{id}\" role=\"img\" aria-label=\"{}\" width=\"{}\" height=\"{height}\" viewBox=\"0 0 {} {height}\">",
        t(lang, "素养水平条形图（含95%置信区间）", "Literacy levels with 95% intervals"),
        label_w + bar_w + 90.0,
        label_w + bar_w + 90.0
    );
    for (i, e) in rows.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let w = e.proportion * bar_w;
        let (lo, hi) = (
            label_w + e.interval.low * bar_w,
            label_w + e.interval.high * bar_w,
        );
        let class = if e.small { "bar small" } else { "bar" };
        let mid = y + row_h / 2.0 - 2.0;
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect class=\"{class}\" x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\"/><line class=\"whisker\" x1=\"{lo:.1}\" x2=\"{hi:.1}\" y1=\"{mid:.1}\" y2=\"{mid:.1}\"/><line class=\"whisker\" x1=\"{lo:.1}\" x2=\"{lo:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/><line class=\"whisker\" x1=\"{hi:.1}\" x2=\"{hi:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/><text x=\"{:.1}\" y=\"{}\">{}{}</text>",
            label_w - 8.0,
            y + 16.0,
            esc(&e.label),
            row_h - 8.0,
            mid - 5.0,
            mid + 5.0,
            mid - 5.0,
            mid + 5.0,
            label_w + bar_w + 6.0,
            y + 16.0,
            pct(e.proportion),
            if e.small { " *" } else { "" }
        );
    }
    let axis_y = rows.len() as f64 * row_h + 18.0;
    for k in 0..=4 {
        let x = label_w + bar_w * f64::from(k) / 4.0;
        let _ = write!(
            s,
            "<text x=\"{x:.0}\" y=\"{axis_y}\" text-anchor=\"middle\">{}%</text>",
            k * 25
        );
    }
    s.push_str("</svg>");
    s
}

/// One breakdown as a heading, its table and its chart (element ids prefixed with `prefix`).
pub(super) fn breakdown_section(
    heading: &str,
    prefix: &str,
    breakdown: &analysis::Breakdown,
    lang: &str,
) -> String {
    let by = breakdown.by.as_str();
    format!(
        "<{heading}>{}{}</{heading}>{}{}",
        t(lang, "按", "By "),
        esc(&breakdown.title),
        estimate_table(
            &format!("{prefix}by-{by}"),
            &breakdown.title,
            &breakdown.rows,
            lang
        ),
        bars(&format!("{prefix}chart-{by}"), &breakdown.rows, lang)
    )
}

/// A table of estimates: label, level, interval, n, with small cells marked.
pub fn estimate_table(id: &str, first: &str, rows: &[Estimate], lang: &str) -> String {
    let mut s = format!(
        "<table id=\"{id}\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(first),
        t(lang, "素养水平", "Literacy level"),
        t(lang, "95% 置信区间", "95% interval"),
        t(lang, "具备素养人数", "With literacy"),
        t(lang, "样本量 n", "n"),
    );
    for e in rows {
        let mark = if e.small {
            format!(
                " <span class=\"small\" title=\"{}\">*</span>",
                t(
                    lang,
                    "样本量小，结果仅供参考",
                    "small sample: read with care"
                )
            )
        } else {
            String::new()
        };
        let _ = write!(
            s,
            "<tr data-key=\"{}\"><td>{}{mark}</td><td class=\"num level\">{}</td><td class=\"num\">{} – {}</td><td class=\"num\">{}</td><td class=\"num n\">{}</td></tr>",
            esc(&e.key),
            esc(&e.label),
            pct(e.proportion),
            pct(e.interval.low),
            pct(e.interval.high),
            e.successes,
            e.n
        );
    }
    s.push_str("</table>");
    s
}

/// `key=value&…` for links that keep the filter.
pub(super) fn filter_query(filter: &Filter) -> String {
    By::ALL
        .into_iter()
        .filter_map(|by| {
            filter
                .wanted(by)
                .filter(|v| !v.is_empty())
                .map(|v| format!("{}={}", by.as_str(), urlencode(v)))
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
