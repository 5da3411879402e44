//! `/dashboard/outreach` (issue 24): the coverage of outreach in the viewer's scope — quiz
//! sessions per site, event and day, the items most often missed, what reached each district
//! and population, and which of the survey's weak points had an intervention — and the
//! events, with a CSRF-protected form for the people who manage a district.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{html, Markup};
use uuid::Uuid;
use zhisu_protocol::outreach::EVENT_KINDS;
use zhisu_server_service::analysis::{By, Labels};
use zhisu_server_service::outreach::{self, kind_label, Count, EventInput, OutreachCoverage};
use zhisu_server_service::{t, Refusal};

use super::html::{link, pct, questionnaire_page, scroll_box, QuestionnaireChoice};
use super::*;
use crate::HttpState;

/// `GET /dashboard/outreach`.
pub(super) async fn outreach_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
) -> Result<Html<String>, Response> {
    let coverage = read_coverage(&state, &session, &q).await?;
    Ok(outreach_view(&state, &session, &q, &coverage, None, None))
}

async fn read_coverage(
    state: &HttpState,
    session: &crate::extract::Session,
    q: &ViewQuery,
) -> Result<OutreachCoverage, Response> {
    let server = state.server.clone();
    let role = session.person.role.clone();
    let (qid, lang, min_n) = (
        q.questionnaire().to_string(),
        q.lang().to_string(),
        state.min_cell_n,
    );
    run(move || {
        outreach::coverage(
            server.storage.as_ref(),
            &server.questionnaires,
            &role,
            &qid,
            min_n,
            &lang,
        )
    })
    .await
}

fn counts_table(id: &str, first: &str, rows: &[Count], lang: &str) -> Markup {
    html! {
        (scroll_box(first, html! {
            table.stack id=(id) {
                tr { th { (first) } th { (t(lang, "问答人次", "Quiz sessions")) } }
                @for row in rows {
                    tr data-key=(row.key) {
                        td data-label=(first) { (row.label) }
                        td.num data-label=(t(lang, "问答人次", "Quiz sessions")) { (row.sessions) }
                    }
                }
            }
        }))
    }
}

fn outreach_view(
    state: &HttpState,
    session: &crate::extract::Session,
    q: &ViewQuery,
    c: &OutreachCoverage,
    problem: Option<String>,
    input: Option<&EventInput>,
) -> Html<String> {
    let lang = q.lang();
    let choice = QuestionnaireChoice::of(&state.questionnaires, q.questionnaire(), lang);
    let labels = Labels::new(&state.questionnaires, q.questionnaire(), lang);
    let population = |p: &Option<String>| match p {
        Some(p) => labels.label(By::Population, p),
        None => t(lang, "未指定人群", "No population").to_string(),
    };
    let district = |d: &Option<String>| match d {
        Some(d) => zhisu_server_service::wording::district_name(d, lang),
        None => t(lang, "未知区县", "Unknown district").to_string(),
    };
    let role = &session.person.role;
    let may_record = role.district().map_or(
        matches!(role, zhisu_server_service::people::Role::CityAdmin),
        |d| role.manages(d),
    );
    let csrf = session.csrf_token();
    let body = html! {
        h1 { (t(lang, "宣传活动与知识问答", "Outreach and quizzes")) }
        p.note {
            (t(lang, "知识问答不是调查：不进入素养水平、配额和进度，只在这里计数。覆盖人数：每场活动取登记的人数和活动中问答人次中较大的一个，再加上未关联活动的问答人次。",
                "Quizzes are not interviews: they never enter the literacy levels, quotas or progress, and are counted only here. Workers reached: for each event the larger of the people recorded and its quiz sessions, plus the quiz sessions not attached to an event."))
        }
        p #outreach-summary {
            @if lang == "en" {
                (c.sessions) " quiz sessions (the take-home code offered in " (c.take_home_offered) "); " (c.events.len()) " events; about " (c.workers_reached) " workers reached; "
                (c.weak_points_covered()) " of " (c.weak_points.len()) " weak points had an intervention."
            } @else {
                "知识问答 " (c.sessions) " 人次（其中 " (c.take_home_offered) " 人次给了带回家的二维码）；宣传活动 " (c.events.len()) " 场；约覆盖 " (c.workers_reached) " 名劳动者；"
                (c.weak_points.len()) " 个薄弱知识点中 " (c.weak_points_covered()) " 个已有干预。"
            }
        }
        h2 { (t(lang, "薄弱知识点的干预", "Interventions on the weak points")) }
        @if c.weak_points.is_empty() {
            p.note #no-weak-points { (t(lang, "还没有调查数据，无法找出薄弱知识点。", "No survey data yet to find the weak points.")) }
        } @else {
            (scroll_box(t(lang, "薄弱知识点", "Weak points"), html! {
                table.stack #weak-points {
                    tr {
                        th { (t(lang, "知识点", "Knowledge point")) }
                        th { (t(lang, "调查答对率", "Survey share right")) }
                        th { (t(lang, "问答次数", "Times quizzed")) }
                        th { (t(lang, "问答答对率", "Quiz share right")) }
                        th { (t(lang, "宣传活动", "Events")) }
                        th { (t(lang, "已干预", "Intervention")) }
                    }
                    @for w in &c.weak_points {
                        tr data-item=(w.item_id) data-covered=(w.covered) {
                            td data-label=(t(lang, "知识点", "Knowledge point")) { (w.label) }
                            td.num data-label=(t(lang, "调查答对率", "Survey share right")) { (pct(w.survey_share)) " (n=" (w.survey_asked) ")" }
                            td.num data-label=(t(lang, "问答次数", "Times quizzed")) { (w.quizzed) }
                            td.num data-label=(t(lang, "问答答对率", "Quiz share right")) {
                                @if w.quizzed > 0 { (pct(w.quizzed_right as f64 / w.quizzed as f64)) } @else { "—" }
                            }
                            td.num data-label=(t(lang, "宣传活动", "Events")) { (w.events) }
                            td data-label=(t(lang, "已干预", "Intervention")) {
                                @if w.covered { (t(lang, "是", "yes")) } @else { strong.small { (t(lang, "否", "no")) } }
                            }
                        }
                    }
                }
            }))
        }
        h2 { (t(lang, "各区县、人群的覆盖", "Reach by district and population")) }
        (scroll_box(t(lang, "覆盖", "Reach"), html! {
            table.stack #reach {
                tr {
                    th { (t(lang, "区县", "District")) }
                    th { (t(lang, "人群", "Population")) }
                    th { (t(lang, "活动场次", "Events")) }
                    th { (t(lang, "登记覆盖人数", "People recorded")) }
                    th { (t(lang, "问答人次", "Quiz sessions")) }
                    th { (t(lang, "覆盖劳动者", "Workers reached")) }
                }
                @for r in &c.reach {
                    tr data-district=(r.district.as_deref().unwrap_or("")) data-population=(r.population.as_deref().unwrap_or("")) {
                        td data-label=(t(lang, "区县", "District")) { (district(&r.district)) }
                        td data-label=(t(lang, "人群", "Population")) { (population(&r.population)) }
                        td.num data-label=(t(lang, "活动场次", "Events")) { (r.events) }
                        td.num data-label=(t(lang, "登记覆盖人数", "People recorded")) { (r.people_counted) }
                        td.num data-label=(t(lang, "问答人次", "Quiz sessions")) { (r.sessions) }
                        td.num data-label=(t(lang, "覆盖劳动者", "Workers reached")) { (r.workers_reached) }
                    }
                }
            }
        }))
        h2 { (t(lang, "问答最常答错的题", "Items most often missed in quizzes")) }
        (scroll_box(t(lang, "答错的题", "Items missed"), html! {
            table.stack #missed-items {
                tr {
                    th { (t(lang, "题目", "Item")) }
                    th { (t(lang, "答错次数", "Missed")) }
                    th { (t(lang, "问到次数", "Asked")) }
                }
                @for m in c.missed.iter().take(15) {
                    tr data-item=(m.item_id) {
                        td data-label=(t(lang, "题目", "Item")) { (m.label) }
                        td.num data-label=(t(lang, "答错次数", "Missed")) { (m.missed) }
                        td.num data-label=(t(lang, "问到次数", "Asked")) { (m.asked) }
                    }
                }
            }
        }))
        h2 { (t(lang, "按活动", "By event")) }
        (counts_table("sessions-by-event", t(lang, "活动", "Event"), &c.by_event, lang))
        h2 { (t(lang, "按地点", "By site")) }
        (counts_table("sessions-by-site", t(lang, "地点", "Site"), &c.by_site, lang))
        h2 { (t(lang, "按日期", "By day")) }
        (counts_table("sessions-by-day", t(lang, "日期", "Day"), &c.by_day, lang))
        h2 #events-heading { (t(lang, "宣传活动", "Events")) }
        @if c.events.is_empty() {
            p #no-events { (t(lang, "还没有登记宣传活动。", "No event has been recorded.")) }
        } @else {
            (scroll_box(t(lang, "宣传活动", "Events"), html! {
                table.stack #events {
                    tr {
                        th { (t(lang, "日期", "Date")) }
                        th { (t(lang, "区县", "District")) }
                        th { (t(lang, "类型", "Kind")) }
                        th { (t(lang, "地点", "Place")) }
                        th { (t(lang, "人群", "Population")) }
                        th { (t(lang, "登记覆盖人数", "People recorded")) }
                        th { (t(lang, "发放材料", "Material")) }
                        th { (t(lang, "问答人次", "Quiz sessions")) }
                        th { (t(lang, "问答平均得分", "Mean quiz score")) }
                        @if may_record { th { (t(lang, "删除", "Delete")) } }
                    }
                    @for e in &c.events {
                        tr data-event=(e.event.id) {
                            td data-label=(t(lang, "日期", "Date")) { (e.event.date) }
                            td data-label=(t(lang, "区县", "District")) { (district(&Some(e.event.district.clone()))) }
                            td data-label=(t(lang, "类型", "Kind")) { (kind_label(&e.event.kind, lang)) }
                            td data-label=(t(lang, "地点", "Place")) { (e.event.place) }
                            td data-label=(t(lang, "人群", "Population")) { (population(&e.event.population)) }
                            td.num data-label=(t(lang, "登记覆盖人数", "People recorded")) { (e.event.people_reached) }
                            td data-label=(t(lang, "发放材料", "Material")) { (e.event.material) }
                            td.num data-label=(t(lang, "问答人次", "Quiz sessions")) { (e.sessions) }
                            td.num data-label=(t(lang, "问答平均得分", "Mean quiz score")) {
                                @if e.asked > 0 { (pct(e.right as f64 / e.asked as f64)) } @else { "—" }
                            }
                            @if may_record {
                                td data-label=(t(lang, "删除", "Delete")) {
                                    @if e.sessions > 0 {
                                        span.small { (t(lang, "已有问答，不能删除", "Has quizzes: kept")) }
                                    } @else if role.manages(&e.event.district) {
                                        // a disclosure first, so one stray tap deletes nothing
                                        details.delete-event {
                                            summary { (t(lang, "删除…", "Delete…")) }
                                            form method="post" action="/dashboard/outreach/delete" {
                                                input type="hidden" name="csrf" value=(csrf);
                                                input type="hidden" name="lang" value=(lang);
                                                input type="hidden" name="q" value=(c.questionnaire_id);
                                                input type="hidden" name="id" value=(e.event.id);
                                                button type="submit" id=(format!("delete-event-{}", e.event.id)) {
                                                    (t(lang, "确定删除这个活动", "Yes, delete this event"))
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }))
        }
        @if may_record {
            h2 { (t(lang, "登记宣传活动", "Record an event")) }
            @if let Some(problem) = &problem {
                p.error role="alert" #event-problem tabindex="-1" { (problem) }
            }
            (event_form(session, &labels, c, &csrf, lang, input))
        } @else {
            p.note { (t(lang, "区县管理员和市级管理员可以登记宣传活动。", "District and city administrators record events.")) }
        }
        p { a.target href=(link("/api/v1/outreach/coverage", [("q", q.questionnaire())])) { (t(lang, "覆盖数据（JSON）", "Coverage as JSON")) } }
    };
    questionnaire_page(
        session,
        lang,
        "outreach",
        &choice,
        t(lang, "宣传与问答", "Outreach"),
        body,
    )
}

fn event_form(
    session: &crate::extract::Session,
    labels: &Labels,
    c: &OutreachCoverage,
    csrf: &str,
    lang: &str,
    input: Option<&EventInput>,
) -> Markup {
    let own = session.person.role.district().map(str::to_string);
    let value = |f: fn(&EventInput) -> &str| input.map_or("", f).to_string();
    html! {
        form.filters #event-form method="post" action="/dashboard/outreach" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="lang" value=(lang);
            input type="hidden" name="q" value=(c.questionnaire_id);
            label for="event-district" { (t(lang, "区县（编号）", "District (id)"))
                @match &own {
                    Some(d) => { input #event-district name="district" readonly value=(d); },
                    None => { input #event-district name="district" required value=(value(|i| i.district.as_str())); },
                }
            }
            label for="event-kind" { (t(lang, "类型", "Kind"))
                select #event-kind name="kind" required {
                    @for k in EVENT_KINDS {
                        option value=(k) selected[input.is_some_and(|i| i.kind == k)] { (kind_label(k, lang)) }
                    }
                }
            }
            label for="event-place" { (t(lang, "地点", "Place"))
                input #event-place name="place" required value=(value(|i| i.place.as_str())); }
            label for="event-date" { (t(lang, "日期", "Date"))
                input #event-date name="date" type="date" required value=(value(|i| i.date.as_str())); }
            label for="event-population" { (t(lang, "人群", "Population"))
                select #event-population name="population" {
                    option value="" { (t(lang, "不限", "Any")) }
                    @for (key, name) in labels.choices(By::Population) {
                        option value=(key) selected[input.and_then(|i| i.population.as_deref()) == Some(key.as_str())] { (name) }
                    }
                }
            }
            label for="event-reached" { (t(lang, "覆盖人数", "People reached"))
                input #event-reached name="people_reached" inputmode="numeric" value=(value(|i| i.people_reached.as_str())); }
            label for="event-material" { (t(lang, "发放材料", "Material handed out"))
                input #event-material name="material" value=(value(|i| i.material.as_str())); }
            @if !c.weak_points.is_empty() {
                fieldset #event-items {
                    legend { (t(lang, "讲到的薄弱知识点", "Weak points covered")) }
                    @for w in &c.weak_points {
                        label.check {
                            input type="checkbox" name="items" value=(w.item_id);
                            " " (w.label)
                        }
                    }
                }
            }
            button.primary #save-event type="submit" { (t(lang, "保存活动", "Save the event")) }
        }
    }
}

/// What the form posts (`items` may repeat).
#[derive(Debug, Default)]
pub(super) struct EventForm {
    lang: Option<String>,
    csrf: String,
    q: Option<String>,
    input: EventInput,
}

impl EventForm {
    fn parse(body: &[u8]) -> EventForm {
        let mut form = EventForm::default();
        for (key, value) in form_urlencoded::parse(body) {
            let value = value.into_owned();
            match &*key {
                "lang" => form.lang = Some(value),
                "csrf" => form.csrf = value,
                "q" => form.q = Some(value),
                "id" => form.input.id = Uuid::parse_str(&value).ok(),
                "district" => form.input.district = value,
                "kind" => form.input.kind = value,
                "place" => form.input.place = value,
                "date" => form.input.date = value,
                "population" => form.input.population = Some(value),
                "people_reached" => form.input.people_reached = value,
                "material" => form.input.material = value,
                "items" => form.input.items.push(value),
                _ => {}
            }
        }
        form
    }
}

/// `POST /dashboard/outreach/delete`: deletes an event recorded by mistake (one no quiz was run
/// at), then back to the events; a form without the session's CSRF token changes nothing;
/// someone who does not manage the event's district gets 403.
pub(super) async fn outreach_delete(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    body: axum::body::Bytes,
) -> Response {
    let form = EventForm::parse(&body);
    let lang = language(form.lang.as_deref());
    if !session.csrf_matches(&form.csrf) {
        return super::csrf_refused(lang);
    }
    let q = ViewQuery {
        lang: Some(lang.to_string()),
        q: form.q.clone().filter(|q| !q.is_empty()),
        ..Default::default()
    };
    let Some(id) = form.input.id else {
        return (
            StatusCode::BAD_REQUEST,
            t(lang, "没有这个活动", "no such event"),
        )
            .into_response();
    };
    let server = state.server.clone();
    let (actor, role) = (session.person.username.clone(), session.person.role.clone());
    let lang_owned = lang.to_string();
    let deleted = tokio::task::spawn_blocking(move || {
        outreach::delete_event(&server, &actor, &role, id, &lang_owned)
    })
    .await;
    match deleted {
        Err(e) => internal(e),
        Ok(outcome) => answer_form(&state, &session, &q, outcome, StatusCode::CONFLICT, None).await,
    }
}

/// What a form of this page answers: back to the events when `outcome` is done, else the page
/// again with the refusal in plain words (`invalid` for a refused input) and `input` kept.
async fn answer_form(
    state: &HttpState,
    session: &crate::extract::Session,
    q: &ViewQuery,
    outcome: Result<(), Refusal>,
    invalid: StatusCode,
    input: Option<&EventInput>,
) -> Response {
    let refusal = match outcome {
        Ok(()) => {
            let href = link(
                "/dashboard/outreach",
                [("q", q.questionnaire()), ("lang", q.lang())],
            );
            return Redirect::to(&format!("{href}#events-heading")).into_response();
        }
        Err(refusal) => refusal,
    };
    let status = match &refusal {
        Refusal::Invalid(_) => invalid,
        Refusal::NotFound(_) => StatusCode::NOT_FOUND,
        Refusal::NotNow(_) => StatusCode::FORBIDDEN,
        Refusal::Storage(e) => return internal(e),
    };
    let coverage = match read_coverage(state, session, q).await {
        Ok(c) => c,
        Err(response) => return response,
    };
    (
        status,
        outreach_view(
            state,
            session,
            q,
            &coverage,
            Some(refusal.to_string()),
            input,
        ),
    )
        .into_response()
}

/// `POST /dashboard/outreach`: records an event, then back to the page; a form without the
/// session's CSRF token changes nothing; someone who does not manage the district gets 403.
pub(super) async fn outreach_form(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    body: axum::body::Bytes,
) -> Response {
    let form = EventForm::parse(&body);
    let lang = language(form.lang.as_deref());
    if !session.csrf_matches(&form.csrf) {
        return super::csrf_refused(lang);
    }
    let q = ViewQuery {
        lang: Some(lang.to_string()),
        q: form.q.clone().filter(|q| !q.is_empty()),
        ..Default::default()
    };
    let server = state.server.clone();
    let (actor, role) = (session.person.username.clone(), session.person.role.clone());
    let input = form.input.clone();
    let lang_owned = lang.to_string();
    let saved = tokio::task::spawn_blocking(move || {
        outreach::save_event(&server, &actor, &role, &input, &lang_owned)
    })
    .await;
    match saved {
        Err(e) => internal(e),
        Ok(outcome) => {
            let outcome = outcome.map(|_| ());
            answer_form(
                &state,
                &session,
                &q,
                outcome,
                StatusCode::BAD_REQUEST,
                Some(&form.input),
            )
            .await
        }
    }
}
