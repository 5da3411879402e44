//! Back-checks (复核, issue 15): `/dashboard/backchecks` in the viewer's scope — the draw (a
//! form for district staff and city administrators), the agreement per surveyor and per item,
//! and every task with its outcome; `/dashboard/backchecks/{task}`, the phone back-check form
//! (the respondent's re-contact details, each read audited, and the items to re-ask, never the
//! interview's answers). Rules in `zhisu_server_service::backcheck`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;
use zhisu_core::{AnswerValue, Answers, ItemKind};
use zhisu_server_service::backcheck::{
    answer_from_form, may_backcheck, AgreementLine, BackcheckReport,
};
use zhisu_server_service::storage::BackcheckTask;
use zhisu_server_service::wording::district_name;
use zhisu_server_service::{t, Refusal};

use super::html::{link, page, scroll_box};
use super::{internal, language, run, Viewer};
use crate::extract::Session;
use crate::HttpState;

#[derive(Debug, Default, Deserialize)]
pub struct BackcheckQuery {
    #[serde(default)]
    pub lang: Option<String>,
}

fn percent(x: Option<f64>) -> String {
    x.map(|p| format!("{:.1}", p * 100.0))
        .unwrap_or_else(|| "—".to_string())
}

fn agreement_rows(lines: &[AgreementLine], lang: &str, by_item: bool) -> Markup {
    html! {
        @for l in lines {
            tr data-key=(l.key.as_deref().unwrap_or("")) {
                @if !by_item {
                    td { (l.district.as_deref().map(|d| district_name(d, lang)).unwrap_or_default()) }
                }
                td { (l.key.clone().unwrap_or_else(|| t(lang, "（未登记调查员）", "(no surveyor)").to_string())) }
                @if !by_item {
                    td.num data-col="drawn" { (l.drawn) }
                    td.num data-col="done" { (l.done) }
                    td.num data-col="not-reached" { (l.not_reached) }
                    td.num data-col="failed" { (l.failed) }
                }
                td.num data-col="agreed" { (l.agreement.agreed) " / " (l.agreement.compared) }
                td.num data-col="agreement" { (percent(l.agreement.share())) }
            }
        }
    }
}

fn status_of(task: &BackcheckTask, lang: &str) -> (&'static str, String) {
    match &task.result {
        None => ("open", t(lang, "待复核", "open").to_string()),
        Some(r) if !r.reached => (
            "not_reached",
            t(lang, "未联系上", "not reached").to_string(),
        ),
        Some(r) if r.failed => ("failed", t(lang, "未通过", "failed").to_string()),
        Some(_) => ("passed", t(lang, "通过", "passed").to_string()),
    }
}

async fn backchecks_view(
    state: &HttpState,
    session: &Session,
    lang: &str,
    error: Option<String>,
) -> Result<Html<String>, Response> {
    let scope = session.person.role.scope();
    let server = state.server.clone();
    let storage = state.storage.clone();
    let (tasks, table, round) = run(move || {
        let (tasks, table) = server.backcheck_agreement(&scope).map_err(|e| match e {
            Refusal::Storage(e) => e,
            other => zhisu_server_service::storage::StorageError::Corrupt(other.to_string()),
        })?;
        let round = zhisu_server_service::pace::current_round(storage.as_ref())?.or_else(|| {
            storage
                .devices()
                .ok()
                .and_then(|d| d.into_iter().map(|d| d.round).max())
        });
        Ok((tasks, table, round))
    })
    .await?;
    let role = &session.person.role;
    let may = may_backcheck(role);
    // department viewers read interviews minimised: no surveyor
    let minimised = zhisu_server_service::privacy::reads_minimised(role);
    let title = t(lang, "复核", "Back-checks");
    let csrf = session.csrf_token();
    let body = html! {
        h1 { (title) }
        p.note {
            (t(lang,
               "从已完成、未作废、被访者同意再次联系的问卷中按种子随机抽取复核样本（比例和每位调查员每周最少数在轮次设置里）；由另一位调查员在平板上或由您电话重问几道题。一致率 = 回答一致的题数 ÷ 比较的题数（统计说明 §13）。低于轮次设置的门槛时，这份问卷进入质量控制，并列出不一致的题。",
               "A random sample (seeded and recorded) of completed interviews, not rejected, whose respondents agreed to be re-contacted (the share and the minimum per surveyor and week are in the round's settings); another surveyor re-asks a few items on a tablet, or you do by phone. Agreement = items agreeing ÷ items compared (statistics §13). Below the round's threshold the interview enters quality control with the differences listed."))
        }
        @if let Some(error) = &error {
            p.error role="alert" #backcheck-error { (error) }
        }
        @if may {
            form.draw method="post" action="/dashboard/backchecks/draw" {
                input type="hidden" name="lang" value=(lang);
                input type="hidden" name="csrf" value=(csrf);
                label { (t(lang, "轮次", "Round")) " " input type="text" name="round" required value=(round.clone().unwrap_or_default()); }
                @if matches!(role, zhisu_server_service::storage::Role::CityAdmin) {
                    " " label { (t(lang, "区县（空=全市）", "District (empty: whole city)")) " " input type="text" name="district"; }
                }
                " " label { (t(lang, "种子（可空）", "Seed (optional)")) " " input type="text" name="seed" inputmode="numeric"; }
                " " button type="submit" #draw { (t(lang, "抽取复核样本", "Draw back-checks")) }
            }
        }
        p #backcheck-overall {
            (t(lang, "已抽取 ", "Drawn: ")) b data-col="drawn" { (table.overall.drawn) }
            (t(lang, "，已完成 ", "; done: ")) b data-col="done" { (table.overall.done) }
            (t(lang, "，未联系上 ", "; not reached: ")) b data-col="not-reached" { (table.overall.not_reached) }
            (t(lang, "，未通过 ", "; failed: ")) b data-col="failed" { (table.overall.failed) }
            (t(lang, "；一致率 ", "; agreement ")) b data-col="agreement" { (percent(table.overall.agreement.share())) } " %"
        }
        @if !minimised {
            h2 { (t(lang, "按调查员（被复核的问卷）", "By surveyor (of the interviews checked)")) }
            (scroll_box(t(lang, "按调查员", "By surveyor"), html! { table #backcheck-surveyors {
                tr {
                    th { (t(lang, "区县", "District")) }
                    th { (t(lang, "调查员", "Surveyor")) }
                    th { (t(lang, "抽取", "Drawn")) }
                    th { (t(lang, "完成", "Done")) }
                    th { (t(lang, "未联系上", "Not reached")) }
                    th { (t(lang, "未通过", "Failed")) }
                    th { (t(lang, "一致/比较", "Agreed/compared")) }
                    th { (t(lang, "一致率 %", "Agreement %")) }
                }
                (agreement_rows(&table.per_surveyor, lang, false))
            } }))
        }
        h2 { (t(lang, "按题目", "By item")) }
        (scroll_box(t(lang, "按题目", "By item"), html! { table #backcheck-items {
            tr {
                th { (t(lang, "题目", "Item")) }
                th { (t(lang, "一致/比较", "Agreed/compared")) }
                th { (t(lang, "一致率 %", "Agreement %")) }
            }
            (agreement_rows(&table.per_item, lang, true))
        } }))
        h2 { (t(lang, "复核任务", "Tasks")) }
        (scroll_box(t(lang, "复核任务", "Tasks"), html! { table #backcheck-tasks {
            tr {
                th { (t(lang, "抽取时间", "Drawn")) }
                th { (t(lang, "区县", "District")) }
                th { (t(lang, "问卷编号", "Interview")) }
                th { (t(lang, "原调查员", "Surveyor")) }
                th { (t(lang, "复核人", "Checked by")) }
                th { (t(lang, "状态", "Status")) }
                th { (t(lang, "一致", "Agreement")) }
                th { (t(lang, "电话复核", "Phone")) }
            }
            @for task in &tasks {
                @let (code, label) = status_of(task, lang);
                tr data-task=(task.id) data-interview=(task.interview_id) data-status=(code) {
                    td { (task.drawn_at.format("%Y-%m-%d")) }
                    td { (task.district.as_deref().map(|d| district_name(d, lang)).unwrap_or_default()) }
                    td { (zhisu_core::interview_reference(&task.interview_id.to_string()).unwrap_or_default()) }
                    td { (task.original_surveyor.as_deref().filter(|_| !minimised).unwrap_or("-")) }
                    td { (task.result.as_ref().map(|r| if minimised { r.via.clone() } else { format!("{} ({})", r.surveyor_id, r.via) }).unwrap_or_default()) }
                    td { (label) }
                    td.num data-col="agreement" {
                        @if let Some(r) = task.result.as_ref().filter(|r| r.reached) {
                            (r.agreed) " / " (r.compared)
                        }
                    }
                    td {
                        @if may && task.result.is_none() {
                            a.target href=(link(&format!("/dashboard/backchecks/{}", task.id), [("lang", lang)])) { (t(lang, "电话复核", "Back-check by phone")) }
                        }
                    }
                }
            }
        } }))
    };
    Ok(page(Some(session), lang, "backchecks", title, body))
}

pub(super) async fn backchecks_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<BackcheckQuery>,
) -> Result<Html<String>, Response> {
    let lang = language(q.lang.as_deref());
    backchecks_view(&state, &session, lang, None).await
}

fn refusal_status(refusal: &Refusal) -> StatusCode {
    match refusal {
        Refusal::Invalid(_) => StatusCode::BAD_REQUEST,
        Refusal::NotFound(_) => StatusCode::NOT_FOUND,
        Refusal::NotNow(_) => StatusCode::FORBIDDEN,
        Refusal::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The form fields, repeated keys kept (a multiple-choice item's ticks).
fn fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(super) async fn draw_form(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    body: axum::body::Bytes,
) -> Response {
    let form = fields(&body);
    let lang = language(field(&form, "lang"));
    if !session.csrf_matches(field(&form, "csrf").unwrap_or("")) {
        return super::csrf_refused(lang);
    }
    let round = field(&form, "round").unwrap_or("").trim().to_string();
    let district = field(&form, "district")
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_string);
    let seed = match field(&form, "seed")
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => match s.parse::<u64>() {
            Ok(seed) => Some(seed),
            Err(_) => {
                let error = t(
                    lang,
                    "种子须是非负整数。",
                    "The seed must be a whole number, 0 or more.",
                );
                return match backchecks_view(&state, &session, lang, Some(error.into())).await {
                    Ok(page) => (StatusCode::BAD_REQUEST, page).into_response(),
                    Err(r) => r,
                };
            }
        },
    };
    let (server, person) = (state.server.clone(), session.person.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        if round.is_empty() {
            return Err(Refusal::Invalid("name the round to draw".into()));
        }
        server.draw_backchecks(&person, &round, district.as_deref(), seed, Utc::now())
    })
    .await;
    match outcome {
        Err(e) => internal(e),
        Ok(Ok(_)) => Redirect::to(&link("/dashboard/backchecks", [("lang", lang)])).into_response(),
        Ok(Err(Refusal::Storage(e))) => internal(e),
        Ok(Err(refusal)) => {
            let status = refusal_status(&refusal);
            match backchecks_view(&state, &session, lang, Some(refusal.to_string())).await {
                Ok(page) => (status, page).into_response(),
                Err(r) => r,
            }
        }
    }
}

/// The phone back-check form of one task.
pub(super) async fn task_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Path(id): Path<Uuid>,
    Query(q): Query<BackcheckQuery>,
) -> Response {
    let lang = language(q.lang.as_deref());
    task_view(&state, &session, id, lang, None).await
}

async fn task_view(
    state: &HttpState,
    session: &Session,
    id: Uuid,
    lang: &str,
    error: Option<String>,
) -> Response {
    let title = t(lang, "电话复核", "Back-check by phone");
    if !may_backcheck(&session.person.role) {
        return (
            StatusCode::FORBIDDEN,
            page(
                Some(session),
                lang,
                "backchecks",
                "403",
                html! {
                    p { (t(lang, "您的角色不做复核。", "Your role does not do back-checks.")) }
                },
            ),
        )
            .into_response();
    }
    let scope = session.person.role.scope();
    let (server, actor) = (state.server.clone(), session.person.username.clone());
    let loaded = run(move || {
        let Some(task) = server.storage.backcheck_task(&scope, id)? else {
            return Ok(None);
        };
        let contact = if task.result.is_none() {
            server
                .backcheck_recontact(&scope, &task, &actor)
                .map_err(|e| match e {
                    Refusal::Storage(e) => e,
                    other => {
                        zhisu_server_service::storage::StorageError::Corrupt(other.to_string())
                    }
                })?
        } else {
            None
        };
        let questionnaire = server
            .questionnaires
            .get(&task.questionnaire_id, &task.questionnaire_version);
        Ok(Some((task, contact, questionnaire)))
    })
    .await;
    let (task, contact, questionnaire) = match loaded {
        Err(r) => return r,
        Ok(None) => {
            return (
                StatusCode::NOT_FOUND,
                page(Some(session), lang, "backchecks", "404", html! {
                    p { (t(lang, "找不到这个复核任务，或不在您的管辖范围内。", "No such back-check task within your scope.")) }
                }),
            )
                .into_response()
        }
        Ok(Some(loaded)) => loaded,
    };
    let csrf = session.csrf_token();
    let body = html! {
        h1 { (title) }
        @if let Some(error) = &error {
            p.error role="alert" #backcheck-error { (error) }
        }
        p {
            (t(lang, "问卷编号 ", "Interview "))
            b { (zhisu_core::interview_reference(&task.interview_id.to_string()).unwrap_or_default()) }
            (t(lang, "，完成于 ", ", drawn "))
            (task.drawn_at.format("%Y-%m-%d"))
        }
        @if task.result.is_some() {
            p.note #backcheck-done { (t(lang, "这个任务已经复核过了。", "This task has been done.")) }
        } @else {
            p #recontact {
                (t(lang, "联系方式：", "Contact: "))
                b { (contact.clone().unwrap_or_else(|| t(lang, "（已删除）", "(deleted)").to_string())) }
            }
            form.backcheck method="post" action={ "/dashboard/backchecks/" (task.id) } {
                input type="hidden" name="lang" value=(lang);
                input type="hidden" name="csrf" value=(csrf);
                fieldset {
                    legend { (t(lang, "联系上被访者了吗？", "Was the respondent reached?")) }
                    label { input type="radio" name="reached" value="yes" checked; " " (t(lang, "联系上了", "Reached")) }
                    " "
                    label { input type="radio" name="reached" value="no"; " " (t(lang, "没联系上", "Not reached")) }
                }
                @for item_id in &task.items {
                    @let item = questionnaire.as_ref().and_then(|q| q.questionnaire.item(item_id));
                    fieldset data-item=(item_id) {
                        legend { (item.map(|i| i.label.get(lang, zhisu_core::DEFAULT_LANGUAGE).to_string()).unwrap_or_else(|| item_id.clone())) }
                        @let name = format!("a.{item_id}");
                        @match item.map(|i| &i.kind) {
                            Some(ItemKind::SingleChoice { choices, .. } | ItemKind::Likert { choices }) => {
                                @for c in choices {
                                    label { input type="radio" name=(name) value=(c.key); " " (c.label.get(lang, zhisu_core::DEFAULT_LANGUAGE)) } " "
                                }
                            }
                            Some(ItemKind::MultipleChoice { choices }) => {
                                @for c in choices {
                                    label { input type="checkbox" name=(name) value=(c.key); " " (c.label.get(lang, zhisu_core::DEFAULT_LANGUAGE)) } " "
                                }
                            }
                            Some(ItemKind::TrueFalse) => {
                                label { input type="radio" name=(name) value="true"; " " (t(lang, "对", "True")) } " "
                                label { input type="radio" name=(name) value="false"; " " (t(lang, "错", "False")) }
                            }
                            Some(ItemKind::Integer { .. } | ItemKind::Decimal { .. }) => {
                                input type="text" inputmode="decimal" name=(name) aria-label=(item_id);
                            }
                            _ => { input type="text" name=(name) aria-label=(item_id); }
                        }
                        @if item.is_some_and(|i| i.dont_know) {
                            " " label { input type=(if matches!(item.map(|i| &i.kind), Some(ItemKind::MultipleChoice { .. })) { "checkbox" } else { "radio" }) name=(name) value="dont_know"; " " (t(lang, "不知道", "Don't know")) }
                        }
                    }
                }
                button type="submit" #save-backcheck { (t(lang, "保存复核结果", "Save the back-check")) }
            }
        }
        p { a.target href=(link("/dashboard/backchecks", [("lang", lang)])) { (t(lang, "返回复核", "Back to back-checks")) } }
    };
    page(Some(session), lang, "backchecks", title, body).into_response()
}

pub(super) async fn task_form(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Path(id): Path<Uuid>,
    body: axum::body::Bytes,
) -> Response {
    let form = fields(&body);
    let lang = language(field(&form, "lang"));
    if !session.csrf_matches(field(&form, "csrf").unwrap_or("")) {
        return super::csrf_refused(lang);
    }
    if !may_backcheck(&session.person.role) {
        return (StatusCode::FORBIDDEN, "your role does not do back-checks").into_response();
    }
    let reached = field(&form, "reached") != Some("no");
    let scope = session.person.role.scope();
    let (server, person) = (state.server.clone(), session.person.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        let Some(task) = server.storage.backcheck_task(&scope, id)? else {
            return Err(Refusal::NotFound(format!(
                "no back-check task {id} in your scope"
            )));
        };
        let questionnaire = server
            .questionnaires
            .get(&task.questionnaire_id, &task.questionnaire_version);
        let mut answers = Answers::new();
        let mut problems = Vec::new();
        if reached {
            for item_id in &task.items {
                let values: Vec<String> = form
                    .iter()
                    .filter(|(k, _)| k.strip_prefix("a.") == Some(item_id.as_str()))
                    .map(|(_, v)| v.clone())
                    .collect();
                let answer = match questionnaire
                    .as_ref()
                    .and_then(|q| q.questionnaire.item(item_id))
                {
                    Some(item) => answer_from_form(item, &values),
                    None => Ok(values.first().map(|v| AnswerValue::Text(v.clone()))),
                };
                match answer {
                    Ok(Some(a)) => {
                        answers.insert(item_id.clone(), a);
                    }
                    Ok(None) => {}
                    Err(p) => problems.push(p),
                }
            }
        }
        if !problems.is_empty() {
            return Err(Refusal::Invalid(problems.join("; ")));
        }
        let report = BackcheckReport {
            task_id: id,
            surveyor_id: person.username.clone(),
            via: "phone".into(),
            reached,
            answers,
            completed_at: Utc::now(),
        };
        server.record_backcheck(&scope, &report, &person.username, Utc::now())
    })
    .await;
    match outcome {
        Err(e) => internal(e),
        Ok(Ok(_)) => Redirect::to(&link("/dashboard/backchecks", [("lang", lang)])).into_response(),
        Ok(Err(Refusal::Storage(e))) => internal(e),
        Ok(Err(refusal)) => {
            let status = refusal_status(&refusal);
            let mut response =
                task_view(&state, &session, id, lang, Some(refusal.to_string())).await;
            if response.status() == StatusCode::OK {
                *response.status_mut() = status;
            }
            response
        }
    }
}
