//! Reference levels and targets (`/dashboard/references`: everyone reads them, city
//! administrators enter, edit and remove them with CSRF-protected forms) and the rounds side by
//! side (`/dashboard/rounds`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;
use zhisu_server_service::analysis::{Estimate, Labels};
use zhisu_server_service::comparison::{self, Comparison};
use zhisu_server_service::references::{describe, kind_label, ReferenceInput};
use zhisu_server_service::storage::{ReferenceKind, ReferenceLevel};
use zhisu_server_service::{t, Refusal};

use super::html::{
    bars, bars_with, filter_form, filter_pairs, link, page, pct, questionnaire_page, scroll_box,
    ChartReference, QuestionnaireChoice,
};
use super::*;
use crate::HttpState;

/// The levels as chart marks: A, B, C… in the order given.
pub(super) fn chart_references(levels: &[ReferenceLevel], lang: &str) -> Vec<ChartReference> {
    levels
        .iter()
        .zip('A'..='Z')
        .map(|(l, mark)| ChartReference {
            key: l.measure.clone(),
            value: l.value_percent / 100.0,
            mark,
            text: describe(l, lang),
        })
        .collect()
}

/// What a level is of: overall literacy or a dimension, by name.
fn measure_label(measure: &str, labels: &Labels) -> String {
    if measure.is_empty() {
        return labels.all.clone();
    }
    labels
        .dimensions
        .iter()
        .find(|(id, _)| id == measure)
        .map_or_else(|| measure.to_string(), |(_, l)| l.clone())
}

/// The literacy page's list of the reference levels drawn on its charts, in words.
pub(super) fn reference_list(
    round: Option<&str>,
    levels: &[ReferenceLevel],
    labels: &Labels,
    q: &ViewQuery,
    lang: &str,
) -> Markup {
    let href = link(
        "/dashboard/references",
        [("q", q.questionnaire()), ("lang", lang)],
    );
    html! {
        h2 { (t(lang, "参考水平和目标", "Reference levels and targets")) }
        @match round {
            None => p.note #no-references {
                (t(lang, "还没有录入参考水平或目标。", "No reference level or target has been entered."))
                " " a.target href=(href) { (t(lang, "查看和录入", "See and enter them")) }
            },
            Some(round) => {
                p.note {
                    @if lang == "en" { "Round " (round) ": drawn on the charts below as dashed lines marked with their letter." }
                    @else { (round) " 轮；在下面的图中画为虚线，用字母标注。" }
                    " " a.target href=(href) { (t(lang, "全部参考水平", "All reference levels")) }
                }
                ul #references {
                    @for (level, mark) in levels.iter().zip('A'..='Z') {
                        li data-kind=(level.kind.as_str()) data-measure=(level.measure) {
                            strong { (mark) } " ┆ " (measure_label(&level.measure, labels)) "：" (describe(level, lang))
                        }
                    }
                }
            }
        }
    }
}

/// `/dashboard/references`: every level of the questionnaire; the forms for city administrators.
pub(super) async fn references_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
) -> Result<Html<String>, Response> {
    let lang = q.lang();
    let qid = q.questionnaire().to_string();
    let server = state.server.clone();
    let levels = run(move || server.reference_levels(Some(&qid))).await?;
    Ok(references_view(&state, &session, &q, &levels, None, lang))
}

fn references_view(
    state: &HttpState,
    session: &crate::extract::Session,
    q: &ViewQuery,
    levels: &[ReferenceLevel],
    problem: Option<String>,
    lang: &str,
) -> Html<String> {
    let labels = Labels::new(&state.questionnaires, q.questionnaire(), lang);
    let choice = QuestionnaireChoice::of(&state.questionnaires, q.questionnaire(), lang);
    let editor = session.person.role.may_set_references();
    let csrf = session.csrf_token();
    let columns = [
        t(lang, "轮次", "Round"),
        t(lang, "指标", "Measure"),
        t(lang, "类别", "Kind"),
        t(lang, "数值", "Value"),
        t(lang, "来源", "Source"),
        t(lang, "年份", "Year"),
        t(lang, "录入人", "Entered by"),
    ];
    let body = html! {
        h1 { (t(lang, "参考水平和目标", "Reference levels and targets")) }
        p.note {
            (t(lang, "参考水平是调查之外的数字（目标、全市或全国已发布的水平），按轮次录入，显示在素养水平页的图表上，不参与估计。",
                "Reference levels are figures from outside the survey (a target, the city's or the nation's published level), entered per round and drawn on the literacy page's charts; they never enter the estimates."))
        }
        @if let Some(problem) = &problem {
            p.error role="alert" #reference-problem tabindex="-1" { (problem) }
        }
        @if levels.is_empty() {
            p #no-references { (t(lang, "这份问卷还没有参考水平。", "This questionnaire has no reference levels yet.")) }
        } @else {
            (scroll_box(t(lang, "参考水平", "Reference levels"), html! {
                table #reference-levels {
                    tr {
                        @for c in columns { th { (c) } }
                        @if editor { th { (t(lang, "修改", "Change")) } }
                    }
                    @for level in levels {
                        tr data-id=(level.id) {
                            td { (level.round) }
                            td { (measure_label(&level.measure, &labels)) }
                            td { (kind_label(level.kind, lang)) }
                            td.num { (format!("{:.1}%", level.value_percent)) }
                            td { (level.source) }
                            td.num { (level.year) }
                            td { (level.entered_by) }
                            @if editor {
                                td {
                                    details {
                                        summary { (t(lang, "修改", "Edit")) }
                                        (level_form(Some(level), &labels, q.questionnaire(), &csrf, lang))
                                    }
                                    form method="post" action="/dashboard/references" {
                                        input type="hidden" name="csrf" value=(csrf);
                                        input type="hidden" name="lang" value=(lang);
                                        input type="hidden" name="questionnaire_id" value=(level.questionnaire_id);
                                        input type="hidden" name="id" value=(level.id);
                                        button type="submit" name="delete" value="1" { (t(lang, "删除", "Remove")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }))
        }
        @if editor {
            h2 { (t(lang, "录入参考水平或目标", "Enter a reference level or target")) }
            (level_form(None, &labels, q.questionnaire(), &csrf, lang))
        } @else {
            p.note { (t(lang, "只有市级管理员可以录入和修改参考水平。", "Only a city administrator may enter and change reference levels.")) }
        }
    };
    let title = t(lang, "参考水平", "References");
    questionnaire_page(session, lang, "references", &choice, title, body)
}

/// The form of a level: a new one, or `level` to edit.
fn level_form(
    level: Option<&ReferenceLevel>,
    labels: &Labels,
    questionnaire_id: &str,
    csrf: &str,
    lang: &str,
) -> Markup {
    let suffix = level.map_or("new".to_string(), |l| l.id.to_string());
    let field = |name: &str| format!("ref-{name}-{suffix}");
    let measure = level.map_or("", |l| l.measure.as_str());
    let kind = level.map_or(ReferenceKind::Target, |l| l.kind);
    let measures = std::iter::once((String::new(), labels.all.clone()))
        .chain(labels.dimensions.iter().cloned());
    html! {
        form.filters method="post" action="/dashboard/references" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="lang" value=(lang);
            input type="hidden" name="questionnaire_id" value=(questionnaire_id);
            @if let Some(l) = level { input type="hidden" name="id" value=(l.id); }
            label for=(field("round")) { (t(lang, "轮次", "Round"))
                input id=(field("round")) name="round" required value=(level.map_or("", |l| l.round.as_str())); }
            label for=(field("measure")) { (t(lang, "指标", "Measure"))
                select id=(field("measure")) name="measure" {
                    @for (key, name) in measures {
                        option value=(key) selected[key == measure] { (name) }
                    }
                }
            }
            label for=(field("kind")) { (t(lang, "类别", "Kind"))
                select id=(field("kind")) name="kind" {
                    @for k in ReferenceKind::ALL {
                        option value=(k.as_str()) selected[k == kind] { (kind_label(k, lang)) }
                    }
                }
            }
            label for=(field("value")) { (t(lang, "数值（%）", "Value (%)"))
                input id=(field("value")) name="value_percent" required inputmode="decimal"
                    value=(level.map_or(String::new(), |l| l.value_percent.to_string())); }
            label for=(field("source")) { (t(lang, "来源", "Source"))
                input id=(field("source")) name="source" required value=(level.map_or("", |l| l.source.as_str())); }
            label for=(field("year")) { (t(lang, "年份", "Year"))
                input id=(field("year")) name="year" required inputmode="numeric"
                    value=(level.map_or(String::new(), |l| l.year.to_string())); }
            button.primary type="submit" { (t(lang, "保存", "Save")) }
        }
    }
}

/// What the forms post.
#[derive(Debug, Deserialize, Default)]
pub(super) struct ReferenceForm {
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    delete: Option<String>,
    #[serde(default)]
    round: String,
    #[serde(default)]
    questionnaire_id: String,
    #[serde(default)]
    measure: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    value_percent: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    year: String,
}

impl ReferenceForm {
    /// The input, or what is wrong with the numbers and the kind (the service checks the rest).
    fn input(&self, lang: &str) -> Result<ReferenceInput, String> {
        let mut problems = Vec::new();
        let value = self.value_percent.trim().trim_end_matches('%').trim();
        let value_percent = value.parse::<f64>().unwrap_or_else(|_| {
            problems.push(t(
                lang,
                "数值请填写 0 到 100 之间的百分数",
                "give the value as a percentage from 0 to 100",
            ));
            f64::NAN
        });
        let year = self.year.trim().parse::<i32>().unwrap_or_else(|_| {
            problems.push(t(
                lang,
                "年份请填写四位数字",
                "give the year in four digits",
            ));
            0
        });
        let kind = ReferenceKind::parse(&self.kind).unwrap_or_else(|| {
            problems.push(t(lang, "请选择类别", "choose a kind"));
            ReferenceKind::Other
        });
        if !problems.is_empty() {
            return Err(problems.join(t(lang, "；", "; ")));
        }
        Ok(ReferenceInput {
            round: self.round.clone(),
            questionnaire_id: self.questionnaire_id.clone(),
            measure: self.measure.clone(),
            kind,
            value_percent,
            source: self.source.clone(),
            year,
        })
    }
}

/// `POST /dashboard/references`: adds, edits (`id`) or removes (`id` and `delete`) a level,
/// then back to the list; a form without the session's CSRF token changes nothing.
pub(super) async fn references_form(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Form(form): Form<ReferenceForm>,
) -> Response {
    let lang = language(form.lang.as_deref());
    if !session.csrf_matches(&form.csrf) {
        return super::csrf_refused(lang);
    }
    if !session.person.role.may_set_references() {
        let body = html! {
            p.error role="alert" { (t(lang, "只有市级管理员可以录入和修改参考水平。", "Only a city administrator may enter and change reference levels.")) }
        };
        return (
            StatusCode::FORBIDDEN,
            page(Some(&session), lang, "references", "403", body),
        )
            .into_response();
    }
    let q = ViewQuery {
        lang: Some(lang.to_string()),
        q: Some(form.questionnaire_id.clone()),
        ..Default::default()
    };
    let id = match form
        .id
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(Uuid::parse_str)
    {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return (StatusCode::NOT_FOUND, "no such reference level").into_response(),
    };
    let (server, person) = (state.server.clone(), session.person.clone());
    let outcome = match (id, form.delete.is_some()) {
        (Some(id), true) => {
            tokio::task::spawn_blocking(move || {
                server.delete_reference_level(&person.role, id, &person.username)
            })
            .await
        }
        _ => match form.input(lang) {
            Err(problem) => Ok(Err(Refusal::Invalid(problem))),
            Ok(input) => {
                tokio::task::spawn_blocking(move || {
                    server
                        .put_reference_level(&person.role, id, &input, &person.username)
                        .map(|_| ())
                })
                .await
            }
        },
    };
    let back = link(
        "/dashboard/references",
        [("q", q.questionnaire()), ("lang", lang)],
    );
    let status = match outcome {
        Ok(Ok(())) => return Redirect::to(&back).into_response(),
        Ok(Err(Refusal::Invalid(problem))) => (StatusCode::BAD_REQUEST, problem),
        Ok(Err(Refusal::NotFound(problem))) => (StatusCode::NOT_FOUND, problem),
        Ok(Err(Refusal::NotNow(problem))) => (StatusCode::FORBIDDEN, problem),
        Ok(Err(Refusal::Storage(e))) => return internal(e),
        Err(e) => return internal(e),
    };
    let (code, problem) = status;
    let qid = q.questionnaire().to_string();
    let server = state.server.clone();
    let levels = match run(move || server.reference_levels(Some(&qid))).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let said = format!("{}{problem}", t(lang, "没有保存：", "Nothing was saved: "));
    (
        code,
        references_view(&state, &session, &q, &levels, Some(said), lang),
    )
        .into_response()
}

/// `/dashboard/rounds`: the current round beside the previous one.
pub(super) async fn rounds_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
    Query(rounds): Query<RoundsQuery>,
) -> Result<Response, Response> {
    let lang = q.lang().to_string();
    let filter = q.filter_for(&session.person);
    let (server, min_cell_n, scope) = (
        state.server.clone(),
        state.min_cell_n,
        session.person.role.scope(),
    );
    let (qid, lang2, filter2) = (q.questionnaire().to_string(), lang.clone(), filter.clone());
    let compared = tokio::task::spawn_blocking(move || {
        let levels = server.reference_levels(Some(&qid))?;
        let compared = comparison::compare(comparison::Ask {
            storage: server.storage.as_ref(),
            registry: &server.questionnaires,
            scope: &scope,
            questionnaire_id: &qid,
            filter: &filter2,
            current: rounds.round.as_deref(),
            previous: rounds.against.as_deref(),
            min_cell_n,
            lang: &lang2,
        })?;
        Ok::<_, Refusal>((compared, levels))
    })
    .await
    .map_err(internal)?;
    let lang = lang.as_str();
    let (compared, problem) = match compared {
        Ok((c, levels)) => {
            // the current round's reference levels, drawn on its bars
            let levels: Vec<ReferenceLevel> = levels
                .into_iter()
                .filter(|l| Some(&l.round) == c.current.as_ref())
                .collect();
            (Some((c, levels)), None)
        }
        Err(Refusal::Invalid(p)) => (None, Some(p)),
        Err(Refusal::Storage(e)) => return Err(internal(e)),
        Err(e) => return Err(internal(e)),
    };
    let labels = Labels::new(&state.questionnaires, q.questionnaire(), lang);
    let choices = filter_choices(&state, &session.person, lang).await?;
    let choice = QuestionnaireChoice::of(&state.questionnaires, q.questionnaire(), lang);
    let pairs = filter_pairs(&choice, &filter, lang);
    let body = html! {
        h1 { (t(lang, "轮次比较", "Rounds compared")) }
        p.note {
            (t(lang, "同一份问卷（各版本）的本轮与上一轮并列：总体和各维度的素养水平、两轮之差及其 95% 置信区间。每份问卷算作上传它的平板所登记的轮次。",
                "The current round beside the previous one for the same questionnaire (all its versions): overall and per dimension, the difference and its 95 % interval. An interview counts in the round of the tablet that sent it."))
        }
        (filter_form("rounds", &q, &session.person, &labels, &choices, lang))
        @if let Some(problem) = &problem {
            p.error role="alert" #rounds-problem { (problem) }
        }
        @if let Some((c, levels)) = &compared { (comparison_view(c, levels, &pairs, lang)) }
    };
    let title = t(lang, "轮次比较", "Rounds");
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        questionnaire_page(&session, lang, "rounds", &choice, title, body),
    )
        .into_response())
}

fn comparison_view(
    c: &Comparison,
    levels: &[ReferenceLevel],
    pairs: &[(&str, &str)],
    lang: &str,
) -> Markup {
    let round_title = |r: &str| {
        if lang == "en" {
            format!("Round {r}")
        } else {
            format!("{r} 轮")
        }
    };
    let level = |e: &Estimate| {
        html! {
            (pct(e.proportion)) @if e.small { " " span.small { "*" } } br;
            span.note { "95% CI " (pct(e.interval.low)) " – " (pct(e.interval.high)) "，n = " (e.n) }
        }
    };
    html! {
        @if c.without_round > 0 {
            p.note #without-round {
                (c.without_round)
                (t(lang, " 份问卷不是由平板上传的（如手工导入的备份），没有轮次，不参加比较。",
                    " interviews were not sent by a tablet (backups imported by hand): they have no round and are left out."))
            }
        }
        @if c.rounds.len() < 2 {
            p #one-round {
                (t(lang, "当前筛选条件下只有一个轮次（或没有）的调查数据，无法比较。", "This selection has interviews of one round at most: nothing to compare."))
            }
        }
        @if c.rounds.len() >= 2 {
            form.filters method="get" action="/dashboard/rounds" {
                @for (k, v) in pairs { input type="hidden" name=(k) value=(v); }
                label for="round" { (t(lang, "本轮", "Current round"))
                    select name="round" id="round" {
                        @for r in &c.rounds { option value=(r.round) selected[Some(&r.round) == c.current.as_ref()] { (r.round) " (n = " (r.n) ")" } }
                    }
                }
                label for="against" { (t(lang, "对比轮次", "Compared with"))
                    select name="against" id="against" {
                        @for r in &c.rounds { option value=(r.round) selected[Some(&r.round) == c.previous.as_ref()] { (r.round) " (n = " (r.n) ")" } }
                    }
                }
                button.primary type="submit" id="compare" { (t(lang, "比较", "Compare")) }
            }
        }
        @if let (Some(now), Some(before)) = (&c.current, &c.previous) {
            p.method #comparison-method {
                (t(lang, "差值的估计方法", "Method of the differences")) "：" (c.method_note)
                (t(lang, "。差值 = 本轮 − 对比轮次，单位为百分点；区间不含 0 时判为上升或下降。", ". Difference = current − compared, in percentage points; a rise or a fall when the interval excludes 0."))
            }
            (scroll_box(t(lang, "轮次比较", "Rounds compared"), html! {
                table #comparison {
                    tr {
                        th { (t(lang, "指标", "Measure")) }
                        th { (round_title(before)) }
                        th { (round_title(now)) }
                        th { (t(lang, "差值（百分点）", "Difference (points)")) }
                        th { (t(lang, "差值 95% 置信区间", "95% interval of the difference")) }
                        th { (t(lang, "变化", "Change")) }
                    }
                    @for row in &c.rows {
                        tr data-key=(row.key) data-change=(serde_json::to_value(row.change).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()) {
                            td { (row.label) }
                            td.num.previous { (level(&row.previous)) }
                            td.num.current { (level(&row.current)) }
                            td.num.difference { (points(row.difference)) }
                            td.num { (points(row.ci_low)) " – " (points(row.ci_high)) }
                            td { (row.change.label(lang)) }
                        }
                    }
                }
            }))
            (rounds_chart(c, levels, (now, before), lang))
        }
    }
}

/// Each measure's two rounds as bars, the previous above the current, with the current round's
/// reference levels drawn on the current round's bars.
fn rounds_chart(
    c: &Comparison,
    levels: &[ReferenceLevel],
    (now, before): (&str, &str),
    lang: &str,
) -> Markup {
    let named = |e: &Estimate, round: &str, key: String| {
        let mut e = e.clone();
        e.label = if lang == "en" {
            format!("{} (round {round})", e.label)
        } else {
            format!("{}（{round} 轮）", e.label)
        };
        e.key = key;
        e
    };
    let rows: Vec<Estimate> = c
        .rows
        .iter()
        .flat_map(|r| {
            [
                named(&r.previous, before, format!("{}@{before}", r.key)),
                named(&r.current, now, r.key.clone()),
            ]
        })
        .collect();
    let marks = chart_references(levels, lang);
    let title = if lang == "en" {
        format!("Round {now} beside round {before}")
    } else {
        format!("{now} 轮与 {before} 轮")
    };
    if marks.is_empty() {
        bars("chart-rounds", &title, &rows, lang)
    } else {
        html! {
            p.note {
                (t(lang, "虚线是本轮的参考水平和目标，用字母标注，文字见图下。",
                    "Dashed lines are the current round's reference levels and targets, marked with a letter and named under the chart."))
            }
            (bars_with("chart-rounds", &title, &rows, &marks, lang))
        }
    }
}

/// A difference in percentage points, signed, one decimal.
fn points(d: f64) -> String {
    format!("{:+.1}", d * 100.0)
}
