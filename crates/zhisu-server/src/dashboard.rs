//! The monitoring dashboard: server-rendered HTML in Chinese (English with `?lang=en`), no
//! script needed to read it, printable. Every view reads through the signed-in person's scope;
//! the figures come from [`crate::analysis`], the same code the JSON API and the reports use.
//!
//! Sessions: the sign-in form sets an HttpOnly, SameSite=Strict cookie holding the same kind
//! of session token the API issues; forms that change data are POSTs, which SameSite=Strict
//! keeps from other sites.

use std::fmt::Write as _;

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use serde::Deserialize;
use uuid::Uuid;

use crate::analysis::{self, By, Estimate, Filter, Labels, AGE_BANDS};
use crate::api::{create_session, Session, SignIn, SESSION_COOKIE};
use crate::people::{Person, Role};
use crate::storage::{QcStatus, Review};
use crate::ServerState;

/// Cells with fewer interviews than this are marked as unreliable (still shown).
pub const MIN_CELL_N: u64 = zhisu_stats::DEFAULT_MIN_CELL_N;

pub fn routes() -> Router<ServerState> {
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
        .route("/dashboard/export.csv", get(crate::export::csv))
        .route("/dashboard/codebook.csv", get(crate::export::codebook_csv))
        .route("/dashboard/export.xlsx", get(crate::export::xlsx))
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
struct Ask {
    storage: std::sync::Arc<dyn crate::Storage>,
    registry: std::sync::Arc<crate::QuestionnaireRegistry>,
    scope: crate::people::Scope,
    filter: Filter,
    questionnaire: String,
    lang: String,
}

impl Ask {
    fn new(state: &ServerState, person: &Person, q: &ViewQuery) -> Ask {
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

impl axum::extract::FromRequestParts<ServerState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &ServerState,
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

/// zh-CN or English.
pub fn t<'a>(lang: &str, zh: &'a str, en: &'a str) -> &'a str {
    if lang.starts_with("en") {
        en
    } else {
        zh
    }
}

const STYLE: &str = r#"
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
struct LangOnly {
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

async fn login_page(Query(q): Query<LangOnly>) -> Html<String> {
    let lang = if q.lang.as_deref().is_some_and(|l| l.starts_with("en")) {
        "en"
    } else {
        "zh-CN"
    };
    let error = if q.error.is_some() {
        LoginError::Wrong
    } else {
        LoginError::None
    };
    login_form(lang, error)
}

enum LoginError {
    None,
    Wrong,
    /// Sign-in paused for the username, for about this many minutes.
    Paused(u64),
}

fn login_form(lang: &str, error: LoginError) -> Html<String> {
    let alert = |text: String| format!("<p class=\"error\" role=\"alert\">{text}</p>");
    let error = match error {
        LoginError::None => String::new(),
        LoginError::Wrong => alert(
            t(
                lang,
                "用户名或密码不对，请再试一次。",
                "The username or password is wrong; please try again.",
            )
            .to_string(),
        ),
        LoginError::Paused(minutes) => alert(if lang == "en" {
            format!("Too many wrong passwords for this username. Please try again in {minutes} minutes.")
        } else {
            format!("这个用户名的密码错误次数太多，请 {minutes} 分钟后再试。")
        }),
    };
    let body = format!(
        "<h1>{}</h1>{error}<form method=\"post\" action=\"/dashboard/login\" style=\"display:flex;flex-direction:column;gap:12px;max-width:360px\">\
         <input type=\"hidden\" name=\"lang\" value=\"{lang}\">\
         <label>{}<br><input id=\"username\" name=\"username\" autocomplete=\"username\" required style=\"width:100%\"></label>\
         <label>{}<br><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required style=\"width:100%\"></label>\
         <button id=\"sign-in\" class=\"primary\" type=\"submit\">{}</button></form>\
         <p class=\"note\"><a href=\"/dashboard/login{}\">{}</a></p>",
        t(lang, "登录", "Sign in"),
        t(lang, "用户名", "Username"),
        t(lang, "密码", "Password"),
        t(lang, "登录", "Sign in"),
        if lang == "en" { "" } else { "?lang=en" },
        if lang == "en" { "中文" } else { "English" },
    );
    page(None, lang, "", t(lang, "登录", "Sign in"), &body)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    lang: Option<String>,
}

async fn login(State(state): State<ServerState>, Form(form): Form<LoginForm>) -> Response {
    let lang = if form.lang.as_deref().is_some_and(|l| l.starts_with("en")) {
        "en"
    } else {
        "zh-CN"
    };
    let username = form.username.clone();
    match create_session(
        &state,
        SignIn {
            username: form.username,
            password: form.password,
        },
    )
    .await
    {
        Ok(created) => {
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
                created.token,
                crate::people::SESSION_HOURS * 3600
            );
            let target = if lang == "en" {
                "/dashboard/progress?lang=en"
            } else {
                "/dashboard/progress"
            };
            ([(header::SET_COOKIE, cookie)], Redirect::to(target)).into_response()
        }
        Err(failure) if failure.error.code == zhisu_protocol::codes::TOO_MANY_SIGN_IN_ATTEMPTS => {
            let wait = state
                .sign_in_guard
                .check(&username, std::time::Instant::now())
                .err()
                .unwrap_or_default();
            let minutes = crate::api::wait_minutes(wait);
            (
                StatusCode::TOO_MANY_REQUESTS,
                login_form(lang, LoginError::Paused(minutes)),
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::UNAUTHORIZED,
            login_form(lang, LoginError::Wrong),
        )
            .into_response(),
    }
}

async fn logout(State(state): State<ServerState>, Viewer(session): Viewer) -> Response {
    let storage = state.storage.clone();
    let hash = session.token_hash.clone();
    let _ = tokio::task::spawn_blocking(move || storage.end_session(&hash, Utc::now())).await;
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to("/dashboard/login"),
    )
        .into_response()
}

fn internal(e: impl std::fmt::Display) -> Response {
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

fn pct(p: f64) -> String {
    format!("{:.1}%", p * 100.0)
}

fn fraction(done: u64, wanted: u64) -> String {
    let width = if wanted == 0 {
        0.0
    } else {
        (done as f64 / wanted as f64).min(1.0) * 100.0
    };
    format!(
        "<span class=\"progress-bar\" aria-hidden=\"true\"><span style=\"width:{width:.0}%\"></span></span> {done} / {wanted}"
    )
}

async fn progress_page(
    State(state): State<ServerState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    let lang = q.lang().to_string();
    let scope = session.person.role.scope();
    let storage = state.storage.clone();
    let scope2 = scope.clone();
    let (progress, devices) = match run(move || {
        Ok((
            analysis::progress(storage.as_ref(), &scope2)?,
            storage.devices()?,
        ))
    })
    .await
    {
        Ok(v) => v,
        Err(r) => return r,
    };
    let labels = Labels::new(&state.questionnaires, q.questionnaire(), &lang);
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>{}</h1><p id=\"total\">{}：<strong>{}</strong>　{}：<strong>{}</strong></p>",
        t(&lang, "工作进度", "Progress"),
        t(&lang, "已完成调查", "Interviews done"),
        progress.total,
        t(&lang, "样本计划", "Sample plan"),
        progress.wanted
    );
    let _ = write!(
        b,
        "<h2>{}</h2><table id=\"by-district\"><tr><th>{}</th><th>{}</th></tr>",
        t(&lang, "各区县", "By district"),
        t(&lang, "区县", "District"),
        t(&lang, "完成 / 计划", "Done / planned")
    );
    for (d, (done, wanted)) in &progress.districts {
        let _ = write!(
            b,
            "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
            esc(d),
            fraction(*done, *wanted)
        );
    }
    b.push_str("</table>");
    let _ = write!(
        b,
        "<h2>{}</h2><table id=\"by-population\"><tr><th>{}</th><th>{}</th></tr>",
        t(&lang, "各重点人群", "By key population"),
        t(&lang, "人群", "Population"),
        t(&lang, "完成 / 计划", "Done / planned")
    );
    for (p, (done, wanted)) in &progress.populations {
        let _ = write!(
            b,
            "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
            esc(&labels.label(By::Population, p)),
            fraction(*done, *wanted)
        );
    }
    b.push_str("</table>");
    let _ = write!(
        b,
        "<h2>{}</h2><table id=\"by-site\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t(&lang, "各调查点", "By site"),
        t(&lang, "区县", "District"),
        t(&lang, "调查点", "Site"),
        t(&lang, "各人群 完成 / 配额", "Per population: done / quota"),
        t(&lang, "合计", "Total")
    );
    for s in &progress.sites {
        let per: Vec<String> = s
            .populations
            .iter()
            .map(|(p, (done, want))| {
                format!("{} {done}/{want}", esc(&labels.label(By::Population, p)))
            })
            .collect();
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            esc(&s.district),
            esc(&s.name),
            per.join("；"),
            fraction(s.done, s.wanted)
        );
    }
    b.push_str("</table>");
    if progress.without_site > 0 {
        let _ = write!(
            b,
            "<p class=\"note\">{}：{}</p>",
            t(&lang, "未关联调查点的调查", "Interviews without a site"),
            progress.without_site
        );
    }
    let _ = write!(
        b,
        "<h2>{}</h2><table id=\"by-day\"><tr><th>{}</th><th>{}</th></tr>",
        t(&lang, "每日完成", "Per day"),
        t(&lang, "日期", "Day"),
        t(&lang, "调查数", "Interviews")
    );
    for (day, n) in progress.days.iter().rev() {
        let _ = write!(
            b,
            "<tr><td>{}</td><td class=\"num\">{n}</td></tr>",
            esc(day)
        );
    }
    b.push_str("</table>");
    // devices: the scope's districts only
    let district = session.person.role.district().map(str::to_string);
    let devices: Vec<_> = devices
        .into_iter()
        .filter(|d| district.as_ref().is_none_or(|own| &d.district == own))
        .collect();
    if !matches!(session.person.role, Role::DepartmentViewer { .. }) {
        let _ = write!(b, "<h2>{}</h2><table id=\"devices\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>", t(&lang, "平板同步状态", "Tablets and sync"), t(&lang, "平板", "Tablet"), t(&lang, "区县", "District"), t(&lang, "最近联网", "Last seen"), t(&lang, "待上传问卷", "Waiting to send"), t(&lang, "状态", "State"));
        for d in devices {
            let seen = d.last_seen_at.map_or_else(
                || t(&lang, "从未", "never").to_string(),
                |at| {
                    at.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
                        .format("%Y-%m-%d %H:%M")
                        .to_string()
                },
            );
            let state_text = if d.revoked_at.is_some() {
                t(&lang, "已停用", "revoked")
            } else {
                t(&lang, "使用中", "active")
            };
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num pending\">{}</td><td>{}</td></tr>",
                esc(&d.name),
                esc(&d.district),
                seen,
                d.pending.map_or_else(|| "-".to_string(), |p| p.to_string()),
                state_text
            );
        }
        b.push_str("</table>");
    }
    page(
        Some(&session.person),
        &lang,
        "progress",
        t(&lang, "工作进度", "Progress"),
        &b,
    )
    .into_response()
}

fn filter_form(
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
        (By::Population, crate::facts::POPULATION_ITEM),
        (By::Industry, crate::facts::INDUSTRY_ITEM),
        (By::Sex, crate::facts::SEX_ITEM),
        (By::Education, crate::facts::EDUCATION_ITEM),
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
fn breakdown_section(
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

async fn literacy_page(
    State(state): State<ServerState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    let lang = q.lang().to_string();
    let ask = Ask::new(&state, &session.person, &q);
    let report = match run(move || ask.literacy()).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let labels = Labels::new(&state.questionnaires, q.questionnaire(), &lang);
    let mut b = format!(
        "<h1>{}</h1>",
        t(
            &lang,
            "职业健康素养水平",
            "Occupational health literacy levels"
        )
    );
    b.push_str(&filter_form(
        "literacy",
        &q,
        &session.person,
        &labels,
        &lang,
    ));
    let _ = write!(
        b,
        "<p class=\"method\" id=\"method\">{}：{}。{}</p>",
        t(&lang, "估计方法", "Method"),
        esc(&report.method_note),
        esc(&format!(
            "{} n < {} {}",
            t(&lang, "标 * 的格子", "Cells marked * have"),
            report.min_cell_n,
            t(
                &lang,
                "，样本量小，结果仅供参考",
                ": small samples, read with care"
            )
        ))
    );
    match &report.overall {
        None => {
            let _ = write!(
                b,
                "<p id=\"no-data\">{}</p>",
                t(
                    &lang,
                    "当前筛选条件下还没有调查数据。",
                    "No interviews match this selection yet."
                )
            );
        }
        Some(o) => {
            let _ = write!(
                b,
                "<p id=\"overall\" style=\"font-size:22px\">{}：<strong class=\"level\">{}</strong>（95% CI {} – {}，n = <span class=\"n\">{}</span>）</p>",
                t(&lang, "总体素养水平", "Overall literacy level"),
                pct(o.proportion),
                pct(o.interval.low),
                pct(o.interval.high),
                o.n
            );
            let _ = write!(
                b,
                "<h2>{}</h2>",
                t(&lang, "四个维度", "The four dimensions")
            );
            b.push_str(&estimate_table(
                "dimensions",
                t(&lang, "维度", "Dimension"),
                &report.dimensions,
                &lang,
            ));
            b.push_str(&bars("chart-dimensions", &report.dimensions, &lang));
            for breakdown in &report.breakdowns {
                if breakdown.rows.is_empty() {
                    continue;
                }
                b.push_str(&breakdown_section("h2", "", breakdown, &lang));
            }
        }
    }
    let query = {
        let fq = q.filter_for(&session.person).query();
        if fq.is_empty() {
            format!("lang={lang}")
        } else {
            format!("{fq}&lang={lang}")
        }
    };
    let _ = write!(
        b,
        "<h2>{}</h2><p class=\"no-print\"><a data-export id=\"export-csv\" href=\"/dashboard/export.csv?{query}\">CSV</a> · <a data-export id=\"export-xlsx\" href=\"/dashboard/export.xlsx?{query}\">Excel (XLSX)</a> · <a data-export id=\"codebook\" href=\"/dashboard/codebook.csv?{query}\">{}</a></p>\
         <p class=\"no-print\" aria-live=\"polite\"><progress id=\"export-progress\" max=\"1\" value=\"0\" hidden></progress> <span id=\"export-status\"></span></p>{}",
        t(&lang, "导出数据", "Export"),
        t(&lang, "编码本", "Codebook"),
        export_script(&lang)
    );
    page(
        Some(&session.person),
        &lang,
        "literacy",
        t(&lang, "素养水平", "Literacy"),
        &b,
    )
    .into_response()
}

async fn items_page(
    State(state): State<ServerState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    let lang = q.lang().to_string();
    let ask = Ask::new(&state, &session.person, &q);
    let items = match run(move || ask.weakest_items()).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let labels = Labels::new(&state.questionnaires, q.questionnaire(), &lang);
    let mut b = format!("<h1>{}</h1><p class=\"note\">{}</p>", t(&lang, "薄弱知识和技能", "Weakest knowledge and skills"), t(&lang, "按答对率从低到高排列；答对率低的题目，就是需要加强宣传教育的知识点。", "Items ranked by the share answered correctly, lowest first: the facts and skills to target."));
    b.push_str(&filter_form("items", &q, &session.person, &labels, &lang));
    let _ = write!(b, "<table id=\"items\"><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>", t(&lang, "题目", "Item"), t(&lang, "维度", "Dimension"), t(&lang, "答对率", "Correct"), t(&lang, "95% 置信区间", "95% interval"), t(&lang, "作答人数", "Asked"));
    for (i, item) in items.iter().enumerate() {
        let dim = labels
            .dimensions
            .iter()
            .find(|(id, _)| *id == item.dimension)
            .map_or(item.dimension.clone(), |(_, l)| l.clone());
        let mark = if item.small {
            " <span class=\"small\">*</span>"
        } else {
            ""
        };
        let _ = write!(b, "<tr data-item=\"{}\"><td class=\"num\">{}</td><td>{}{mark}</td><td>{}</td><td class=\"num share\">{}</td><td class=\"num\">{} – {}</td><td class=\"num asked\">{}</td></tr>", esc(&item.item_id), i + 1, esc(&item.label), esc(&dim), pct(item.share), pct(item.interval.low), pct(item.interval.high), item.asked);
    }
    b.push_str("</table>");
    page(
        Some(&session.person),
        &lang,
        "items",
        t(&lang, "薄弱知识", "Weakest items"),
        &b,
    )
    .into_response()
}

/// Downloads an export with a progress bar (bytes received of the announced length, and the
/// number of interviews), then hands the file to the browser. Without script the links still
/// download directly.
fn export_script(lang: &str) -> String {
    let preparing = t(lang, "正在准备导出文件…", "Preparing the export…");
    let received = t(lang, "已下载", "Downloaded");
    let done = t(lang, "完成：", "Done: ");
    let rows = t(lang, "份问卷", "interviews");
    let failed = t(lang, "导出失败，请重试：", "The export failed; try again: ");
    format!(
        r#"<script>
document.querySelectorAll('a[data-export]').forEach(function (link) {{
  link.addEventListener('click', async function (event) {{
    event.preventDefault();
    var bar = document.getElementById('export-progress');
    var status = document.getElementById('export-status');
    bar.hidden = false; bar.removeAttribute('value'); status.textContent = '{preparing}';
    try {{
      var response = await fetch(link.href, {{ credentials: 'same-origin' }});
      if (!response.ok) throw new Error(response.status + ' ' + response.statusText);
      var total = Number(response.headers.get('content-length')) || 0;
      var count = response.headers.get('x-zhisu-rows') || '';
      var reader = response.body.getReader(), chunks = [], got = 0;
      bar.max = total || 1; bar.value = 0;
      for (;;) {{
        var step = await reader.read();
        if (step.done) break;
        chunks.push(step.value); got += step.value.length; bar.value = total ? got : 0;
        status.textContent = '{received} ' + Math.round(got / 1024) + (total ? ' / ' + Math.round(total / 1024) : '') + ' KB';
      }}
      var name = (response.headers.get('content-disposition') || '').split('filename="')[1] || 'zhisu-export';
      var blob = new Blob(chunks, {{ type: response.headers.get('content-type') || 'application/octet-stream' }});
      var a = document.createElement('a');
      a.href = URL.createObjectURL(blob); a.download = name.replace('"', ''); document.body.appendChild(a); a.click(); a.remove();
      bar.value = bar.max;
      status.textContent = '{done}' + a.download + (count ? '（' + count + ' {rows}）' : '');
    }} catch (e) {{
      status.textContent = '{failed}' + e.message;
    }}
  }});
}});
</script>"#
    )
}

/// May review (approve, mark, reject) interviews: supervisors and administrators.
pub fn may_review(role: &Role) -> bool {
    !matches!(role, Role::DepartmentViewer { .. })
}

fn status_label(status: QcStatus, lang: &str) -> &'static str {
    match status {
        QcStatus::Unreviewed => t(lang, "待审核", "To review"),
        QcStatus::Approved => t(lang, "通过", "Approved"),
        QcStatus::HasIssues => t(lang, "有问题", "Has issues"),
        QcStatus::Rejected => t(lang, "作废", "Rejected"),
    }
}

async fn qc_page(
    State(state): State<ServerState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    let lang = q.lang().to_string();
    let scope = session.person.role.scope();
    let status = q
        .status
        .as_deref()
        .and_then(QcStatus::parse)
        .or(Some(QcStatus::Unreviewed))
        .filter(|_| q.status.as_deref() != Some("all"));
    let storage = state.storage.clone();
    let entries = match run(move || storage.qc_queue(&scope, status, 500)).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let labels = Labels::new(&state.questionnaires, q.questionnaire(), &lang);
    let mut b = format!("<h1>{}</h1><p class=\"note\">{}</p>", t(&lang, "质量控制", "Quality control"), t(&lang, "答题太快、连续选同一个位置、改答案多、疑似重复调查的问卷会进入这里。作废的问卷不计入统计，平板下次同步时会收到通知。", "Interviews done too fast, with straight-lining, many changed answers or a suspected repeat respondent land here. Rejected interviews leave the estimates; the tablet is told at its next sync."));
    let _ = write!(b, "<p class=\"no-print\">");
    for (key, label) in [
        ("unreviewed", status_label(QcStatus::Unreviewed, &lang)),
        ("has_issues", status_label(QcStatus::HasIssues, &lang)),
        ("approved", status_label(QcStatus::Approved, &lang)),
        ("rejected", status_label(QcStatus::Rejected, &lang)),
        ("all", t(&lang, "全部", "All")),
    ] {
        let _ = write!(
            b,
            "<a href=\"/dashboard/qc?status={key}&lang={lang}\" id=\"qc-{key}\">{label}</a>　"
        );
    }
    b.push_str("</p>");
    if entries.is_empty() {
        let _ = write!(
            b,
            "<p id=\"qc-empty\">{}</p>",
            t(&lang, "没有需要处理的问卷。", "Nothing to review.")
        );
    } else {
        let _ = write!(b, "<table id=\"qc\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>", t(&lang, "完成时间", "Completed"), t(&lang, "区县 / 调查点 / 调查员", "District / site / surveyor"), t(&lang, "人群", "Population"), t(&lang, "问题", "Flags"), t(&lang, "状态", "State"), t(&lang, "审核", "Review"));
        let reviewer = may_review(&session.person.role);
        for e in &entries {
            let mut flags: String = e
                .flags
                .iter()
                .map(|f| {
                    format!(
                        "<span class=\"flag\" data-flag=\"{}\">{}</span>",
                        f.code(),
                        esc(&f.describe(&lang))
                    )
                })
                .collect();
            if e.same_fingerprint > 0 {
                let _ = write!(
                    flags,
                    "<span class=\"flag\" data-flag=\"duplicate_suspect\">{}</span>",
                    esc(&format!(
                        "{}{}{}",
                        t(
                            &lang,
                            "疑似重复调查：同一调查点另有 ",
                            "Suspected repeat respondent: "
                        ),
                        e.same_fingerprint,
                        t(
                            &lang,
                            " 份背景信息相同的问卷",
                            " other interview(s) at this site with the same background answers"
                        )
                    ))
                );
            }
            let when = e
                .completed_at
                .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
                .format("%Y-%m-%d %H:%M");
            let minutes = e.duration_s.map_or(String::new(), |s| {
                format!(
                    "<br><span class=\"note\">{} {:.1} {}</span>",
                    t(&lang, "用时", "took"),
                    s as f64 / 60.0,
                    t(&lang, "分钟", "min")
                )
            });
            let form = if reviewer {
                format!(
                    "<form method=\"post\" action=\"/dashboard/qc/{id}\" class=\"review\"><input type=\"hidden\" name=\"lang\" value=\"{lang}\"><textarea name=\"comment\" rows=\"2\" cols=\"24\" placeholder=\"{}\" aria-label=\"{}\">{}</textarea><br><button name=\"status\" value=\"approved\" type=\"submit\">{}</button> <button name=\"status\" value=\"has_issues\" type=\"submit\">{}</button> <button name=\"status\" value=\"rejected\" type=\"submit\">{}</button></form>",
                    t(&lang, "审核意见", "Comment"),
                    t(&lang, "审核意见", "Comment"),
                    esc(e.comment.as_deref().unwrap_or("")),
                    status_label(QcStatus::Approved, &lang),
                    status_label(QcStatus::HasIssues, &lang),
                    status_label(QcStatus::Rejected, &lang),
                    id = e.id
                )
            } else {
                String::new()
            };
            let _ = write!(
                b,
                "<tr id=\"qc-{}\"><td>{when}{minutes}</td><td>{} / {} / {}</td><td>{}</td><td>{flags}</td><td class=\"status-{}\">{}{}</td><td>{form}</td></tr>",
                e.id,
                esc(e.district.as_deref().unwrap_or("-")),
                esc(e.site_id.as_deref().unwrap_or("-")),
                esc(e.surveyor_id.as_deref().unwrap_or("-")),
                esc(&e.population.as_deref().map(|p| labels.label(By::Population, p)).unwrap_or_default()),
                e.status.as_str(),
                status_label(e.status, &lang),
                e.comment.as_deref().filter(|c| !c.is_empty()).map(|c| format!("<br><span class=\"note\">{}</span>", esc(c))).unwrap_or_default(),
            );
        }
        b.push_str("</table>");
    }
    page(
        Some(&session.person),
        &lang,
        "qc",
        t(&lang, "质量控制", "Quality control"),
        &b,
    )
    .into_response()
}

#[derive(Deserialize)]
struct ReviewForm {
    status: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    lang: Option<String>,
}

async fn qc_review(
    State(state): State<ServerState>,
    Viewer(session): Viewer,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    Form(form): Form<ReviewForm>,
) -> Response {
    let lang = if form.lang.as_deref().is_some_and(|l| l.starts_with("en")) {
        "en"
    } else {
        "zh-CN"
    };
    if !may_review(&session.person.role) {
        return (
            StatusCode::FORBIDDEN,
            page(
                Some(&session.person),
                lang,
                "qc",
                "403",
                t(
                    lang,
                    "<p>您的角色不能审核问卷。</p>",
                    "<p>Your role may not review interviews.</p>",
                ),
            ),
        )
            .into_response();
    }
    let Some(status) = QcStatus::parse(&form.status).filter(|s| *s != QcStatus::Unreviewed) else {
        return (StatusCode::BAD_REQUEST, "unknown review decision").into_response();
    };
    if status == QcStatus::Rejected && form.comment.trim().is_empty() {
        let body = format!("<p class=\"error\" role=\"alert\" id=\"need-comment\">{}</p><p><a href=\"/dashboard/qc?lang={lang}\">{}</a></p>", t(lang, "作废问卷时请写明原因：调查员会在平板上看到。", "Say why when you reject an interview: the surveyor sees it on the tablet."), t(lang, "返回", "Back"));
        return (
            StatusCode::BAD_REQUEST,
            page(
                Some(&session.person),
                lang,
                "qc",
                t(lang, "质量控制", "Quality control"),
                &body,
            ),
        )
            .into_response();
    }
    let decision = Review {
        status,
        comment: form.comment.trim().to_string(),
        reviewer: session.person.username.clone(),
        at: Utc::now(),
    };
    let scope = session.person.role.scope();
    let storage = state.storage.clone();
    let d2 = decision.clone();
    let found = match run(move || storage.review(&scope, id, &d2)).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    if found.is_none() {
        return (
            StatusCode::NOT_FOUND,
            page(
                Some(&session.person),
                lang,
                "qc",
                "404",
                t(
                    lang,
                    "<p>找不到这份问卷，或不在您的管辖范围内。</p>",
                    "<p>No such interview within your scope.</p>",
                ),
            ),
        )
            .into_response();
    }
    let (audit_state, actor) = (state.clone(), session.person.username.clone());
    let detail = format!("{id}: {} {}", decision.status.as_str(), decision.comment);
    if let Err(r) = run(move || audit_state.audit(&actor, "review_interview", &detail)).await {
        return r;
    }
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("/dashboard/qc").map(|i| r[i..].to_string()))
        .unwrap_or_else(|| format!("/dashboard/qc?lang={lang}"));
    Redirect::to(&back).into_response()
}

async fn report_page(
    State(state): State<ServerState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
) -> Response {
    let lang = q.lang().to_string();
    let filter = q.filter_for(&session.person);
    let ask = Ask::new(&state, &session.person, &q);
    let (report, items, progress, queue) = match run(move || {
        let report = ask.literacy()?;
        let items = ask.weakest_items()?;
        let progress = analysis::progress(ask.storage.as_ref(), &ask.scope)?;
        let queue = ask.storage.qc_queue(&ask.scope, None, 100_000)?;
        Ok((report, items, progress, queue))
    })
    .await
    {
        Ok(v) => v,
        Err(r) => return r,
    };
    let place = filter
        .district
        .clone()
        .unwrap_or_else(|| t(&lang, "全市", "the whole city").to_string());
    let today = Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .format("%Y-%m-%d");
    let mut b = format!("<h1 id=\"report-title\">{} {}</h1><p class=\"note\">{} {today} · <a class=\"no-print\" href=\"javascript:window.print()\">{}</a></p>", esc(&place), t(&lang, "职业健康素养监测报告", "occupational health literacy monitoring report"), t(&lang, "生成日期", "Generated"), t(&lang, "打印 / 保存为 PDF", "Print / save as PDF"));
    let _ = write!(
        b,
        "<h2>{}</h2>",
        t(&lang, "一、主要结果", "1. Main findings")
    );
    match &report.overall {
        Some(o) => {
            let _ = write!(
                b,
                "<p id=\"summary\">{}{}，{}{}（95% CI {} – {}）。</p>",
                t(&lang, "本次共调查有效问卷 ", "Valid interviews: "),
                o.n,
                t(&lang, "职业健康素养水平为 ", "literacy level "),
                pct(o.proportion),
                pct(o.interval.low),
                pct(o.interval.high)
            );
            if let (Some(low), Some(high)) = (
                report
                    .dimensions
                    .iter()
                    .min_by(|a, b| a.proportion.total_cmp(&b.proportion)),
                report
                    .dimensions
                    .iter()
                    .max_by(|a, b| a.proportion.total_cmp(&b.proportion)),
            ) {
                let _ = write!(
                    b,
                    "<p>{}{}（{}），{}{}（{}）。</p>",
                    t(&lang, "四个维度中最高的是", "Highest dimension: "),
                    esc(&high.label),
                    pct(high.proportion),
                    t(&lang, "最低的是", "lowest: "),
                    esc(&low.label),
                    pct(low.proportion)
                );
            }
            b.push_str(&estimate_table(
                "report-dimensions",
                t(&lang, "维度", "Dimension"),
                &report.dimensions,
                &lang,
            ));
            b.push_str(&bars("report-chart-dimensions", &report.dimensions, &lang));
            for breakdown in report
                .breakdowns
                .iter()
                .filter(|b| matches!(b.by, By::Population | By::Industry) && !b.rows.is_empty())
            {
                b.push_str(&breakdown_section("h3", "report-", breakdown, &lang));
            }
        }
        None => {
            let _ = write!(
                b,
                "<p>{}</p>",
                t(&lang, "还没有调查数据。", "No interviews yet.")
            );
        }
    }
    let _ = write!(
        b,
        "<h2>{}</h2><ol id=\"report-weakest\">",
        t(&lang, "二、最薄弱的十个知识点", "2. The ten weakest items")
    );
    for item in items.iter().take(10) {
        let _ = write!(
            b,
            "<li>{}（{} {}，n = {}）</li>",
            esc(&item.label),
            t(&lang, "答对率", "correct"),
            pct(item.share),
            item.asked
        );
    }
    b.push_str("</ol>");
    let rejected = queue
        .iter()
        .filter(|e| e.status == QcStatus::Rejected)
        .count();
    let flagged = queue
        .iter()
        .filter(|e| !e.flags.is_empty() || e.same_fingerprint > 0)
        .count();
    let _ = write!(
        b,
        "<h2>{}</h2><p id=\"report-sample\">{} {} / {}；{} {}；{} {}。</p>",
        t(&lang, "三、样本和质量", "3. Sample and quality"),
        t(&lang, "完成调查", "Interviews done against the plan:"),
        progress.total,
        progress.wanted,
        t(&lang, "质控标记问卷", "flagged in quality control:"),
        flagged,
        t(
            &lang,
            "作废（不计入统计）",
            "rejected (left out of the estimates):"
        ),
        rejected
    );
    let _ = write!(b, "<h2>{}</h2><p class=\"method\">{}。{}</p>", t(&lang, "四、方法说明", "4. Method"), esc(&report.method_note), t(&lang, "具备职业健康素养：总分达到满分的 80% 及以上；维度素养同理按该维度满分的 80% 判定。素养水平为具备素养者所占比例。样本量小于 30 的格子标 *，结果仅供参考。公式见 docs/statistics.md。", "Has literacy: a score of at least 80 % of the maximum; a dimension likewise at 80 % of its maximum. The literacy level is the share with literacy. Cells with n below 30 are marked * (read with care). Formulas: docs/statistics.md."));
    page(
        Some(&session.person),
        &lang,
        "report",
        t(&lang, "区县报告", "District report"),
        &b,
    )
    .into_response()
}
