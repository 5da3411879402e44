//! The parts every view is drawn with: the page around a view (style, header, navigation), the
//! filter form, tables of estimates and their bar charts, progress bars, local times and links.
//! Drawn with maud, which escapes every inserted value; nothing here writes HTML into a string.

use axum::response::Html;
use chrono::{DateTime, FixedOffset, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use zhisu_core::AGE_BANDS;
use zhisu_server_service::analysis::{self, By, Estimate, Labels};
use zhisu_server_service::people::{Person, Role};
use zhisu_server_service::t;
use zhisu_server_service::wording::district_name;

use super::ViewQuery;
use crate::extract::Session;

const STYLE: &str = r#"
:root { --ink:#1a1a1a; --muted:#4a4a4a; --line:#767676; --rule:#c8c8c8; --accent:#0b5cad; --warn:#8a4b00; --bad:#a4161a; --ok:#1b6e20; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC","WenQuanYi Zen Hei","PingFang SC","Microsoft YaHei",sans-serif; color: var(--ink); margin: 0; font-size: 16px; line-height: 1.5; background:#fff; overflow-wrap: anywhere; }
.skip { position:absolute; left:8px; top:-100px; background:#fff; color:var(--accent); padding:10px 14px; border:2px solid var(--accent); z-index:10; }
.skip:focus { top:8px; }
:focus-visible, tr:focus { outline: 3px solid #f0b400; outline-offset: 2px; }
header { background: #0b3d6e; color: #fff; padding: 6px 20px; display:flex; flex-wrap:wrap; gap: 4px 18px; align-items:center; }
header nav ul { display:flex; flex-wrap:wrap; gap: 0 6px; margin:0; padding:0; list-style:none; }
header a { color:#fff; text-decoration:none; padding:10px 6px; min-height:44px; display:inline-flex; align-items:center; }
header a[aria-current="page"] { border-bottom: 3px solid #fff; font-weight: bold; }
header .who { margin-left:auto; font-size: 14px; }
header form { display:inline; }
header button { background:none; color:#fff; border:1px solid #fff; border-radius:4px; padding:8px 12px; cursor:pointer; font-size:14px; min-height:44px; }
main { padding: 16px 20px 40px; max-width: 1200px; }
main:focus { outline: none; }
h1 { font-size: 24px; margin: 8px 0 12px; }
h2 { font-size: 20px; margin: 24px 0 8px; border-bottom: 1px solid var(--rule); padding-bottom: 4px; }
.scroll { max-width: 100%; overflow-x: auto; margin: 8px 0 16px; }
table { border-collapse: separate; border-spacing: 0; min-width: 50%; border-top: 1px solid var(--rule); border-left: 1px solid var(--rule); }
.scroll table { margin: 0; }
th, td { border-right: 1px solid var(--rule); border-bottom: 1px solid var(--rule); padding: 6px 10px; text-align: left; vertical-align: top; background:#fff; overflow-wrap: normal; }
th { background: #eef2f6; }
.scroll th:first-child, .scroll td:first-child { position: sticky; left: 0; z-index: 1; box-shadow: 2px 0 0 var(--rule); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.small { color: var(--warn); font-weight: bold; }
.note { color: var(--muted); font-size: 14px; }
.method { background:#f3f6f9; border-left: 4px solid var(--accent); padding: 6px 10px; font-size: 14px; margin: 8px 0; }
.flag { display:inline-block; background:#fff4e5; color: var(--warn); border:1px solid #e0b070; border-radius: 4px; padding: 0 6px; margin: 2px 4px 2px 0; font-size: 14px; }
.status-rejected { color: var(--bad); font-weight: bold; }
.status-approved { color: var(--ok); font-weight: bold; }
.status-has_issues { color: var(--warn); font-weight: bold; }
.links { display:flex; flex-wrap:wrap; gap: 4px 8px; padding:0; margin: 8px 0; list-style: none; }
.links a { display:inline-flex; align-items:center; justify-content:center; min-height:44px; min-width:44px; padding: 0 10px; border:1px solid var(--line); border-radius:4px; color: var(--accent); }
.links a[aria-current="page"] { background: var(--accent); color:#fff; font-weight:bold; }
a.button { display:inline-flex; align-items:center; justify-content:center; min-height:44px; min-width:44px; padding: 8px 14px; border:1px solid var(--line); border-radius:4px; color: var(--accent); background:#fff; text-decoration:none; }
a.target { display:inline-flex; align-items:center; min-height:44px; min-width:44px; padding: 0 8px; }
form.filters { display:flex; flex-wrap: wrap; gap: 8px 16px; align-items: end; background:#f7f7f7; padding: 10px; border-radius: 6px; }
form.filters label { display:flex; flex-direction: column; font-size: 14px; flex: 1 1 10em; min-width: 0; max-width: 100%; }
form.filters select, form.filters input { width: 100%; max-width: 100%; }
form.questionnaire-choice { margin: 0 0 12px; display:flex; flex-wrap: wrap; gap: 8px; align-items: end; }
form.questionnaire-choice label { display:flex; flex-direction: column; font-size: 14px; min-width: 0; max-width: 100%; }
select, input, textarea, button { font-size: 16px; min-height: 44px; border: 1px solid var(--line); border-radius: 4px; background: #fff; color: var(--ink); max-width: 100%; }
button { padding: 8px 14px; cursor: pointer; }
summary { padding: 10px 0; min-height: 44px; cursor: pointer; }
img.piece-picture { display: block; max-width: 100%; height: auto; margin: 8px 0; }
audio.piece-audio { display: block; width: 100%; max-width: 480px; min-height: 48px; margin: 8px 0; }
input[type=checkbox] { width: 44px; min-width: 44px; height: 44px; margin: 0; }
button.primary { background: var(--accent); color:#fff; border-color: var(--accent); padding: 8px 16px; }
.error { color: var(--bad); font-weight: bold; }
.error:focus { outline: 3px solid var(--bad); outline-offset: 3px; }
svg.chart { display:block; width: 100%; height: auto; margin: 8px 0 16px; }
.bar { fill: #2f6fb0; } .bar.small { fill: #9bb7d4; } .whisker { stroke: #111; stroke-width: 1.5; }
.reference { stroke: #8a4b00; stroke-width: 3; stroke-dasharray: 6 4; } svg text.mark, svg text.legend { font-size: 16px; font-weight: bold; }
svg text { font-size: 18px; fill: #1a1a1a; } svg text.axis { font-size: 16px; }
.progress-bar { background:#e3e3e3; width: 160px; max-width: 30vw; height: 14px; display:inline-block; vertical-align: middle; border: 1px solid var(--line); }
.progress-bar span { background:#2f6fb0; height:12px; display:block; }
form.review { display:flex; flex-wrap:wrap; gap: 6px; align-items:flex-start; }
form.review textarea { flex: 1 1 100%; width: 100%; min-width: 12em; }
@media (max-width: 720px) {
  header { padding: 4px 12px; } main { padding: 12px 12px 32px; }
  header .who { margin-left: 0; }
  table.stack { display:block; border: none; min-width: 0; }
  table.stack tbody, table.stack tr, table.stack td { display:block; }
  table.stack tr:first-child { position:absolute; width:1px; height:1px; overflow:hidden; clip-path: inset(50%); }
  table.stack tr { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 12px; }
  table.stack td { border: none; border-bottom: 1px solid var(--rule); }
  table.stack td:last-child { border-bottom: none; }
  table.stack td[data-label]::before { content: attr(data-label); display:block; font-size: 14px; color: var(--muted); font-weight: bold; }
  form.review textarea { min-width: 0; }
}
@media print { header, form.filters, form.questionnaire-choice, .no-print, .skip { display: none !important; } main { max-width: none; padding: 0; } h2 { break-after: avoid; } table, svg { break-inside: avoid; } .scroll { overflow: visible; } }
"#;

/// The views in the navigation: (path under /dashboard/, Chinese, English).
const VIEWS: [(&str, &str, &str); 14] = [
    ("progress", "工作进度", "Progress"),
    ("literacy", "素养水平", "Literacy"),
    ("rounds", "轮次比较", "Rounds"),
    ("references", "参考水平", "References"),
    ("measures", "专项与指标", "Modules and measures"),
    ("items", "薄弱知识", "Weakest items"),
    ("item-analysis", "题目分析", "Item analysis"),
    ("qc", "质量控制", "Quality control"),
    ("quality", "调查员与调查点", "Surveyors and sites"),
    ("backchecks", "复核", "Back-checks"),
    ("outreach", "宣传与问答", "Outreach"),
    ("training", "练习记录", "Practice record"),
    ("report", "区县报告", "District report"),
    ("library", "学习材料", "Library"),
];

/// A whole page: `body` under the header, with the navigation when someone is signed in
/// (`current` is the view to mark).
pub fn page(
    session: Option<&Session>,
    lang: &str,
    current: &str,
    title: &str,
    body: Markup,
) -> Html<String> {
    page_with(session, lang, current, None, title, body)
}

/// The questionnaires a view can be shown for, and the one it shows: every page of a
/// questionnaire says which one it is and offers the others (the intercept version included).
pub struct QuestionnaireChoice {
    pub current: String,
    /// (id, display name), the dashboard's default first.
    pub options: Vec<(String, String)>,
    /// The populations of the questionnaire shown: (key, label), to name a department's.
    pub populations: Vec<(String, String)>,
}

impl QuestionnaireChoice {
    pub fn of(
        registry: &zhisu_server_service::QuestionnaireRegistry,
        current: &str,
        lang: &str,
    ) -> QuestionnaireChoice {
        let mut ids: Vec<String> = registry.refs().into_iter().map(|r| r.id).collect();
        if !ids.iter().any(|id| id == current) {
            ids.push(current.to_string());
        }
        ids.sort_by(|a, b| {
            (a != analysis::DEFAULT_QUESTIONNAIRE, a)
                .cmp(&(b != analysis::DEFAULT_QUESTIONNAIRE, b))
        });
        ids.dedup();
        let options = ids
            .into_iter()
            .map(|id| {
                let name = registry.newest(&id).map_or_else(
                    || {
                        format!(
                            "{id} ({})",
                            t(lang, "服务器上没有这份问卷", "not on this server")
                        )
                    },
                    |p| {
                        let q = &p.questionnaire;
                        format!("{}（{id}）", q.title.get(lang, &q.default_language))
                    },
                );
                (id, name)
            })
            .collect();
        QuestionnaireChoice {
            current: current.to_string(),
            options,
            populations: Labels::new(registry, current, lang).choices(By::Population),
        }
    }

    /// The query pair that keeps this questionnaire in a link (none for the default).
    pub fn pair(&self) -> Option<(&'static str, &str)> {
        (self.current != analysis::DEFAULT_QUESTIONNAIRE).then_some(("q", self.current.as_str()))
    }
}

/// A page of a questionnaire: [`page`] with the questionnaire named and chosen above the view,
/// and the navigation keeping it.
pub fn questionnaire_page(
    session: &Session,
    lang: &str,
    current: &str,
    choice: &QuestionnaireChoice,
    title: &str,
    body: Markup,
) -> Html<String> {
    let body = html! {
        form.questionnaire-choice #questionnaire-choice method="get" action={ "/dashboard/" (current) } {
            input type="hidden" name="lang" value=(lang);
            label {
                (t(lang, "问卷", "Questionnaire")) " "
                select name="q" id="questionnaire" {
                    @for (id, name) in &choice.options {
                        option value=(id) selected[*id == choice.current] { (name) }
                    }
                }
            }
            " "
            button type="submit" id="show-questionnaire" { (t(lang, "查看", "Show")) }
        }
        (body)
    };
    page_with(Some(session), lang, current, Some(choice), title, body)
}

fn page_with(
    session: Option<&Session>,
    lang: &str,
    current: &str,
    choice: Option<&QuestionnaireChoice>,
    title: &str,
    body: Markup,
) -> Html<String> {
    let markup = html! {
        (DOCTYPE)
        html lang=(lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · 职素" }
                style { (PreEscaped(STYLE)) }
                @if session.is_some() { script src="/dashboard/dashboard.js" defer {} }
            }
            body {
                a.skip href="#main" { (t(lang, "跳到正文", "Skip to the content")) }
                header {
                    strong { "职素 · " (t(lang, "职业健康素养监测", "Occupational health literacy monitoring")) }
                    @if let Some(session) = session { (navigation(session, lang, current, choice)) }
                }
                main #main tabindex="-1" { (body) }
            }
        }
    };
    Html(markup.into_string())
}

fn navigation(
    session: &Session,
    lang: &str,
    current: &str,
    choice: Option<&QuestionnaireChoice>,
) -> Markup {
    let person = &session.person;
    let suffix = if lang == "en" { "?lang=en" } else { "" };
    // the views of a questionnaire keep it
    let pairs: Vec<(&str, &str)> = choice
        .and_then(QuestionnaireChoice::pair)
        .into_iter()
        .chain((lang == "en").then_some(("lang", "en")))
        .collect();
    html! {
        nav aria-label=(t(lang, "页面", "Pages")) {
            ul {
                @for (view, zh, en) in VIEWS {
                    li {
                        a href=(link(&format!("/dashboard/{view}"), pairs.iter().copied()))
                            aria-current=[(view == current).then_some("page")] {
                            (t(lang, zh, en))
                        }
                    }
                }
                @if !matches!(person.role, zhisu_server_service::people::Role::DepartmentViewer { .. }) {
                    li {
                        a href={ "/dashboard/surveyors" (suffix) }
                            aria-current=[("surveyors" == current).then_some("page")] {
                            (t(lang, "调查员", "Surveyors"))
                        }
                    }
                }
                @if person.role.may_manage_questionnaires() {
                    li {
                        a href={ "/dashboard/recordings" (suffix) }
                            aria-current=[("recordings" == current).then_some("page")] {
                            (t(lang, "问卷录音", "Recordings"))
                        }
                    }
                }
                @if person.role == zhisu_server_service::people::Role::CityAdmin {
                    li {
                        a href={ "/dashboard/updates" (suffix) }
                            aria-current=[("updates" == current).then_some("page")] {
                            (t(lang, "软件更新", "App updates"))
                        }
                    }
                }
            }
        }
        span.who {
            (person.display_name) " · "
            (role_label(&person.role, choice.map_or(&[][..], |c| &c.populations), lang))
        }
        form method="post" action="/dashboard/logout" {
            input type="hidden" name="csrf" value=(session.csrf_token());
            button type="submit" { (t(lang, "退出", "Sign out")) }
        }
    }
}

/// The signed-in person's role, with their district or populations by name (a department's
/// populations named by `populations_named`, (key, label), where it knows them).
fn role_label(role: &Role, populations_named: &[(String, String)], lang: &str) -> String {
    let (name, within) = match role {
        Role::CityAdmin => return t(lang, "市级管理员", "City administrator").to_string(),
        Role::DistrictAdmin { district } => (
            t(lang, "区县管理员", "District administrator"),
            district_name(district, lang),
        ),
        Role::Supervisor { district } => (
            t(lang, "质控督导", "Supervisor"),
            district_name(district, lang),
        ),
        Role::DepartmentViewer { populations } => (
            t(lang, "部门查看", "Department viewer"),
            populations
                .iter()
                .map(|p| {
                    populations_named
                        .iter()
                        .find(|(key, _)| key == p)
                        .map_or(p.as_str(), |(_, label)| label.as_str())
                })
                .collect::<Vec<_>>()
                .join(t(lang, "、", ", ")),
        ),
    };
    format!("{name}（{within}）")
}

pub(super) fn pct(p: f64) -> String {
    zhisu_server_service::wording::percent(p)
}

/// `at` in the configured local time, to the minute.
pub(super) fn local_minute(at: DateTime<Utc>, offset: FixedOffset) -> String {
    at.with_timezone(&offset)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A small count as the page's sentences say it ("四", "four"); digits above ten (the
/// reports' shared wording).
pub(super) fn count_in_words(n: usize, lang: &str) -> String {
    zhisu_server_service::wording::count_in_words(n, lang)
}

/// `path` with a query string of `pairs`, each key and value percent-encoded.
pub(super) fn link<'a>(path: &str, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

/// A bar for `done` of `wanted`, then the two numbers.
pub(super) fn fraction(done: u64, wanted: u64) -> Markup {
    let width = if wanted == 0 {
        0.0
    } else {
        (done as f64 / wanted as f64).min(1.0) * 100.0
    };
    html! {
        span.progress-bar aria-hidden="true" { span style=(format!("width:{width:.0}%")) {} }
        " " (done) " / " (wanted)
    }
}

/// The filter every analysis view offers: the background breakdowns, age band and district
/// (read-only for a person held to one district).
pub(super) fn filter_form(
    action: &str,
    q: &ViewQuery,
    person: &Person,
    labels: &Labels,
    choices: &super::FilterChoices,
    lang: &str,
) -> Markup {
    let (districts, rounds) = (&choices.districts, &choices.rounds);
    let filter = q.filter_for(person);
    let ages = AGE_BANDS.iter().map(|a| (a.to_string(), a.to_string()));
    // the comparison of rounds chooses its rounds itself; elsewhere one round, or all of them
    let offer_rounds = action != "rounds" && (rounds.len() > 1 || filter.round().is_some());
    html! {
        @if offer_rounds && filter.round().is_none() {
            p.note #rounds-pooled {
                (t(lang,
                    "下面的数字合并了所有轮次的访谈。要看某一轮（某一年）的结果，请在“轮次”里选这一轮。",
                    "The figures below pool the interviews of every round. For one round (one year), choose it under Round."))
            }
        }
        form.filters method="get" action={ "/dashboard/" (action) } {
            input type="hidden" name="lang" value=(lang);
            input type="hidden" name="q" value=(q.questionnaire());
            @for by in [By::Population, By::Industry, By::Sex, By::Education] {
                (select(by, labels.choices(by), filter.wanted(by), lang))
            }
            (select(By::AgeBand, ages.collect(), filter.wanted(By::AgeBand), lang))
            @match person.role.district() {
                // a district's people see their own district only: named, not offered
                Some(own) => label {
                    (By::District.title(lang))
                    select name="district" id="filter-district" {
                        option value=(own) selected { (district_name(own, lang)) }
                    }
                },
                None => (select(By::District, districts.to_vec(), filter.wanted(By::District), lang)),
            }
            @if offer_rounds {
                label {
                    (t(lang, "轮次", "Round"))
                    select name="round" id="filter-round" {
                        option value="" { (t(lang, "全部轮次（合并）", "Every round (pooled)")) }
                        @for round in rounds {
                            option value=(round) selected[filter.round() == Some(round.as_str())] { (round) }
                        }
                    }
                }
            }
            button.primary type="submit" id="apply" { (t(lang, "筛选", "Apply")) }
        }
    }
}

/// One breakdown's choice in the filter form: "all", then `options` as (key, label).
fn select(by: By, options: Vec<(String, String)>, current: Option<&str>, lang: &str) -> Markup {
    let name = by.as_str();
    html! {
        label {
            (by.title(lang))
            select name=(name) id={ "filter-" (name) } {
                option value="" { (t(lang, "全部", "All")) }
                @for (key, label) in &options {
                    option value=(key) selected[current == Some(key.as_str())] { (label) }
                }
            }
        }
    }
}

/// Sizes of a bar chart, in the units of its view box (drawn at most at its own size, and
/// scaled down with its container): each row is a label on its own line above its bar, so a
/// label of any length starts at the left edge and the box is made wide enough for the
/// longest one.
const BAR_W: f64 = 420.0;
const ROW_H: f64 = 50.0;
const LABEL_FONT: f64 = 18.0;
/// Room left of the bars and labels, for glyphs that reach left of where they start ("j").
const MARGIN: f64 = 4.0;
/// Room right of the bars for the level ("100.0% *").
const VALUE_W: f64 = 96.0;

/// A width, in view-box units, that `label` at the chart's label size cannot exceed: a full em
/// for a wide (CJK) character, 0.7 em for any other.
fn label_width(label: &str) -> f64 {
    label
        .chars()
        .map(|c| if (c as u32) >= 0x1100 { 1.0 } else { 0.7 })
        .sum::<f64>()
        * LABEL_FONT
}

/// A reference level drawn on a chart: a dashed line at `value` (a share) across the bar of the
/// row whose key is `key`, marked with `mark` (a letter) and named in words below the chart.
pub struct ChartReference {
    pub key: String,
    pub value: f64,
    pub mark: char,
    pub text: String,
}

/// Horizontal bars with 95 % interval whiskers, one per estimate; `title` (what the bars are
/// broken down by) makes the chart's accessible name, one of its own on the page.
pub fn bars(id: &str, title: &str, rows: &[Estimate], lang: &str) -> Markup {
    bars_with(id, title, rows, &[], lang)
}

/// [`bars`] with reference levels drawn as marked lines, each named in words under the axis
/// and in the chart's accessible name (not by colour).
pub fn bars_with(
    id: &str,
    title: &str,
    rows: &[Estimate],
    references: &[ChartReference],
    lang: &str,
) -> Markup {
    if rows.is_empty() {
        return html! {};
    }
    let legend: Vec<String> = references
        .iter()
        .map(|r| {
            let row = rows
                .iter()
                .find(|e| e.key == r.key)
                .map_or("", |e| e.label.as_str());
            format!("{} ┆ {row}：{}", r.mark, r.text)
        })
        .collect();
    let longest = rows
        .iter()
        .map(|e| label_width(&e.label))
        .chain(legend.iter().map(|l| label_width(l)))
        .fold(0.0, f64::max);
    let width = (BAR_W + VALUE_W).max(longest + 8.0).ceil();
    // room under each bar for the marks of its reference lines
    let row_h = if references.is_empty() {
        ROW_H
    } else {
        ROW_H + 18.0
    };
    let axis_y = rows.len() as f64 * row_h + 22.0;
    let height = axis_y + 8.0 + 26.0 * legend.len() as f64;
    let mut aria = if lang == "en" {
        format!("{title}: literacy levels with 95% intervals (the table above has the figures)")
    } else {
        format!("{title}：素养水平条形图，含95%置信区间（数字见上表）")
    };
    for l in &legend {
        aria.push_str(if lang == "en" {
            "; reference line "
        } else {
            "；参考线 "
        });
        aria.push_str(l);
    }
    html! {
        svg.chart id=(id) role="img" aria-label=(aria) style=(format!("max-width:{}px", width + MARGIN))
            viewBox={ (-MARGIN) " 0 " (width + MARGIN) " " (height) } preserveAspectRatio="xMinYMin meet" {
            @for (i, e) in rows.iter().enumerate() {
                (bar(i as f64 * row_h, e))
                @for r in references.iter().filter(|r| r.key == e.key) {
                    (reference_line(i as f64 * row_h, r))
                }
            }
            @for k in 0..=4 {
                text.axis x=(format!("{:.0}", BAR_W * f64::from(k) / 4.0)) y=(axis_y)
                    text-anchor=(match k { 0 => "start", 4 => "end", _ => "middle" }) { (k * 25) "%" }
            }
            @for (j, l) in legend.iter().enumerate() {
                text.legend x="0" y=(format!("{:.1}", axis_y + 26.0 * (j as f64 + 1.0))) { (l) }
            }
        }
    }
}

/// A reference line across the bar of the row starting at `top`, with its mark under the bar.
fn reference_line(top: f64, r: &ChartReference) -> Markup {
    let x = r.value.clamp(0.0, 1.0) * BAR_W;
    let anchor = if r.value < 0.05 {
        "start"
    } else if r.value > 0.95 {
        "end"
    } else {
        "middle"
    };
    html! {
        line.reference x1=(format!("{x:.1}")) x2=(format!("{x:.1}")) y1=(format!("{:.1}", top + 22.0))
            y2=(format!("{:.1}", top + 50.0)) {
            title { (r.mark) "：" (r.text) }
        }
        text.mark x=(format!("{x:.1}")) y=(format!("{:.1}", top + 64.0)) text-anchor=(anchor) { (r.mark) }
    }
}

/// A row of a bar chart starting at `top`: the label, then the bar, whiskers from the interval
/// and the level.
fn bar(top: f64, e: &Estimate) -> Markup {
    let bar_y = top + 26.0;
    let bar_h = 18.0;
    let mid = bar_y + bar_h / 2.0;
    let x = |share: f64| format!("{:.1}", share.clamp(0.0, 1.0) * BAR_W);
    let (lo, hi) = (x(e.interval.low), x(e.interval.high));
    let (whisker_top, whisker_bottom) = (format!("{:.1}", mid - 6.0), format!("{:.1}", mid + 6.0));
    let mid = format!("{mid:.1}");
    html! {
        text x="0" y=(format!("{:.1}", top + 19.0)) { (e.label) }
        rect.bar.small[e.small] x="0" y=(bar_y) width=(x(e.proportion)) height=(bar_h) {}
        line.whisker x1=(lo) x2=(hi) y1=(mid) y2=(mid) {}
        line.whisker x1=(lo) x2=(lo) y1=(whisker_top) y2=(whisker_bottom) {}
        line.whisker x1=(hi) x2=(hi) y1=(whisker_top) y2=(whisker_bottom) {}
        text.axis x=(format!("{:.1}", BAR_W + 8.0)) y=(format!("{:.1}", bar_y + 15.0)) {
            (pct(e.proportion)) @if e.small { " *" }
        }
    }
}

/// A table in a box of its own that scrolls sideways when the page is narrower than the table
/// (its first column stays in view); `label` names the box for assistive technology. The
/// dashboard's script makes an overflowing box reachable with the keyboard.
pub(super) fn scroll_box(label: &str, table: Markup) -> Markup {
    html! {
        div.scroll role="region" aria-label=(label) { (table) }
    }
}

/// The level of a breakdown's heading: a section of a view, or of a section of the report.
#[derive(Clone, Copy)]
pub(super) enum Heading {
    Section,
    Subsection,
}

/// One breakdown as a heading, its table and its chart (element ids prefixed with `prefix`).
pub(super) fn breakdown_section(
    level: Heading,
    prefix: &str,
    breakdown: &analysis::Breakdown,
    lang: &str,
) -> Markup {
    let by = breakdown.by.as_str();
    let heading = format!("{}{}", t(lang, "按", "By "), breakdown.title);
    html! {
        @match level {
            Heading::Section => h2 { (heading) },
            Heading::Subsection => h3 { (heading) },
        }
        (estimate_table(&format!("{prefix}by-{by}"), &breakdown.title, &breakdown.rows, lang))
        (bars(&format!("{prefix}chart-{by}"), &heading, &breakdown.rows, lang))
    }
}

/// A table of estimates: label, level, interval, n, with small cells marked.
pub fn estimate_table(id: &str, first: &str, rows: &[Estimate], lang: &str) -> Markup {
    let small = t(
        lang,
        "样本量小，结果仅供参考",
        "small sample: read with care",
    );
    let region = if lang == "en" {
        format!("Table: {first}")
    } else {
        format!("表格：{first}")
    };
    scroll_box(
        &region,
        html! {
            table id=(id) {
                tr {
                    th { (first) }
                    th { (t(lang, "素养水平", "Literacy level")) }
                    th { (t(lang, "95% 置信区间", "95% interval")) }
                    th { (t(lang, "具备素养人数", "With literacy")) }
                    th { (t(lang, "样本量 n", "n")) }
                }
                @for e in rows {
                    tr data-key=(e.key) {
                        td { (e.label) @if e.small { " " span.small title=(small) { "*" } } }
                        td.num.level { (pct(e.proportion)) }
                        td.num { (pct(e.interval.low)) " – " (pct(e.interval.high)) }
                        td.num { (e.successes) }
                        td.num.n { (e.n) }
                    }
                }
            }
        },
    )
}

/// The query of links that keep the questionnaire and the filter, with the language last.
pub(super) fn filter_pairs<'a>(
    choice: &'a QuestionnaireChoice,
    filter: &'a analysis::Filter,
    lang: &'a str,
) -> Vec<(&'a str, &'a str)> {
    choice
        .pair()
        .into_iter()
        .chain(By::ALL.into_iter().filter_map(|by| {
            filter
                .wanted(by)
                .filter(|v| !v.is_empty())
                .map(|v| (by.as_str(), v))
        }))
        .chain(filter.round().map(|r| ("round", r)))
        .chain([("lang", lang)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_encode_keys_and_values() {
        assert_eq!(link("/a", []), "/a");
        assert_eq!(
            link(
                "/dashboard/export.csv",
                [("district", "渝中 & \"x\""), ("lang", "en")]
            ),
            "/dashboard/export.csv?district=%E6%B8%9D%E4%B8%AD+%26+%22x%22&lang=en"
        );
    }

    #[test]
    fn counts_read_as_words_up_to_ten() {
        assert_eq!(count_in_words(4, "zh-CN"), "四");
        assert_eq!(count_in_words(4, "en"), "four");
        assert_eq!(count_in_words(12, "en"), "12");
    }
}
