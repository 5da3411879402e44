//! `/dashboard/surveyors` (issue 15): the surveyors managed on the server, who sign in on any
//! tablet of their district with a PIN set here. Those who manage a district (its
//! administrators, city administrators) add surveyors, set a new PIN and retire them with
//! CSRF-protected forms, each change in the audit log; the district's supervisors read the
//! list; department viewers do not see it (403).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{html, Markup};
use zhisu_server_service::people::Role;
use zhisu_server_service::storage::FieldSurveyor;
use zhisu_server_service::surveyors::{self, SurveyorInput, UnlistedSurveyor};
use zhisu_server_service::wording::district_name;
use zhisu_server_service::{t, Refusal};

use super::html::{link, page, scroll_box};
use super::{internal, language, run, LangOnly, Viewer};
use crate::extract::Session;
use crate::HttpState;

fn may_see(role: &Role) -> bool {
    !matches!(role, Role::DepartmentViewer { .. })
}

fn may_manage(role: &Role) -> bool {
    role.district()
        .map_or(matches!(role, Role::CityAdmin), |d| role.manages(d))
}

fn not_for_viewers(session: &Session, lang: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        page(
            Some(session),
            lang,
            "surveyors",
            "403",
            html! {
                p.error role="alert" #surveyors-forbidden {
                    (t(lang, "调查员由区县管理，部门用户看不到。", "Surveyors are managed by district; department viewers do not see them."))
                }
            },
        ),
    )
        .into_response()
}

/// `GET /dashboard/surveyors`.
pub(super) async fn surveyors_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<LangOnly>,
) -> Response {
    let lang = language(q.lang.as_deref());
    if !may_see(&session.person.role) {
        return not_for_viewers(&session, lang);
    }
    match list(&state, &session).await {
        Ok(listed) => view(&session, lang, &listed, None, None).into_response(),
        Err(response) => response,
    }
}

/// The surveyors the viewer may read, and the surveyor ids their districts received uploads
/// under that are not on the list.
type Listed = (Vec<FieldSurveyor>, Vec<UnlistedSurveyor>);

async fn list(state: &HttpState, session: &Session) -> Result<Listed, Response> {
    let server = state.server.clone();
    let role = session.person.role.clone();
    run(move || {
        Ok((
            surveyors::surveyors_in_view(&server, &role)?,
            surveyors::unlisted_surveyors(&server, &role)?,
        ))
    })
    .await
}

fn view(
    session: &Session,
    lang: &str,
    (list, unlisted): &Listed,
    problem: Option<String>,
    input: Option<&SurveyorInput>,
) -> Html<String> {
    let role = &session.person.role;
    let manage = may_manage(role);
    let csrf = session.csrf_token();
    let active = list.iter().filter(|s| s.retired_at.is_none()).count();
    let day = |at: chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%d").to_string();
    let body = html! {
        h1 { (t(lang, "调查员", "Surveyors")) }
        p.note {
            (t(lang,
                "这里建的调查员会在下次同步时发到本区县的每台平板。调查员在任何一台平板上选自己的名字、输入这里设的 PIN 就能登录，没有网络也可以。停用后，平板下次同步就不能再用这个名字登录；已做的调查保留。平板上以前自己添加的调查员，在本区县有了这里建的调查员以后就不能再登录。",
                "Surveyors made here reach every tablet of their district at its next sync. A surveyor signs in on any of those tablets with the PIN set here, offline too. Once retired, they cannot sign in on a tablet after its next sync; their interviews stay. Surveyors added on a tablet itself can no longer sign in there once the district has surveyors made here."))
        }
        p #surveyors-summary {
            (t(lang, "在用的调查员 ", "Active surveyors: ")) b #surveyors-active { (active) }
            (t(lang, " 位；已停用 ", "; retired: ")) b #surveyors-retired { (list.len() - active) }
            (t(lang, " 位。", "."))
        }
        @if let Some(problem) = &problem {
            p.error role="alert" #surveyor-problem tabindex="-1" { (problem) }
        }
        @if list.is_empty() {
            p.note #no-surveyors { (t(lang, "还没有调查员。", "No surveyor yet.")) }
        } @else {
            (scroll_box(t(lang, "调查员", "Surveyors"), html! {
                table.stack #surveyors {
                    tr {
                        th { (t(lang, "姓名", "Name")) }
                        th { (t(lang, "编号", "Id")) }
                        th { (t(lang, "区县", "District")) }
                        th { (t(lang, "建立", "Added")) }
                        th { (t(lang, "PIN 设置于", "PIN set on")) }
                        th { (t(lang, "状态", "State")) }
                        @if manage { th { (t(lang, "操作", "Actions")) } }
                    }
                    @for s in list {
                        tr data-surveyor=(s.id) data-retired=(s.retired_at.is_some()) {
                            td data-label=(t(lang, "姓名", "Name")) { (s.name) }
                            td data-label=(t(lang, "编号", "Id")) { code { (s.id) } }
                            td data-label=(t(lang, "区县", "District")) { (district_name(&s.district, lang)) }
                            td data-label=(t(lang, "建立", "Added")) { (day(s.added_at)) " " (s.added_by) }
                            td data-label=(t(lang, "PIN 设置于", "PIN set on")) { (day(s.pin_set_at)) }
                            td data-label=(t(lang, "状态", "State")) {
                                @match s.retired_at {
                                    Some(at) => { (t(lang, "已停用 ", "retired ")) (day(at)) }
                                    None => { (t(lang, "在用", "active")) }
                                }
                            }
                            @if manage {
                                td data-label=(t(lang, "操作", "Actions")) {
                                    @if s.retired_at.is_none() && role.manages(&s.district) {
                                        (row_forms(s, &csrf, lang))
                                    }
                                }
                            }
                        }
                    }
                }
            }))
        }
        @if !unlisted.is_empty() {
            h2 #unlisted-heading { (t(lang, "不在名单上的调查员编号", "Surveyor ids not on the list")) }
            p.note {
                (t(lang,
                    "这些调查和接触记录上的调查员编号不是本区县在这里建的调查员：多半是平板上以前自己添加的调查员，或者还没同步到名单的平板。数据照常收下、照常统计；请让这些调查员改用这里建的名字登录。",
                    "These interviews and contacts carry a surveyor id that is not one of the district's surveyors made here: mostly surveyors added on a tablet before, or tablets that have not received the list yet. They are kept and counted as usual; ask these surveyors to sign in with a name made here."))
            }
            (scroll_box(t(lang, "不在名单上的调查员编号", "Surveyor ids not on the list"), html! {
                table.stack #unlisted-surveyors {
                    tr {
                        th { (t(lang, "区县", "District")) }
                        th { (t(lang, "调查员编号", "Surveyor id")) }
                        th { (t(lang, "调查", "Interviews")) }
                        th { (t(lang, "其他接触", "Other contacts")) }
                    }
                    @for u in unlisted {
                        tr data-surveyor=(u.surveyor_id.as_deref().unwrap_or("")) {
                            td data-label=(t(lang, "区县", "District")) { (district_name(&u.district, lang)) }
                            td data-label=(t(lang, "调查员编号", "Surveyor id")) {
                                @match (&u.surveyor_id, &u.other_district) {
                                    (None, _) => { (t(lang, "（未登录调查员）", "(nobody signed in)")) }
                                    (Some(id), Some(other)) => { code { (id) } " " (t(lang, "（属于", "(of ")) (district_name(other, lang)) (t(lang, "）", ")")) }
                                    (Some(id), None) => { code { (id) } }
                                }
                            }
                            td.num data-label=(t(lang, "调查", "Interviews")) { (u.interviews) }
                            td.num data-label=(t(lang, "其他接触", "Other contacts")) { (u.contacts) }
                        }
                    }
                }
            }))
        }
        @if manage {
            h2 #add-surveyor-heading { (t(lang, "新建调查员", "Add a surveyor")) }
            (add_form(session, &csrf, lang, input))
        } @else {
            p.note { (t(lang, "区县管理员和市级管理员可以新建、停用调查员和重设 PIN。", "District and city administrators add and retire surveyors and set their PINs.")) }
        }
    };
    page(
        Some(session),
        lang,
        "surveyors",
        t(lang, "调查员", "Surveyors"),
        body,
    )
}

fn row_forms(s: &FieldSurveyor, csrf: &str, lang: &str) -> Markup {
    html! {
        form.filters.pin-form method="post" action="/dashboard/surveyors" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="lang" value=(lang);
            input type="hidden" name="action" value="pin";
            input type="hidden" name="id" value=(s.id);
            label { (t(lang, "新 PIN（4 到 6 位数字）", "New PIN (4 to 6 digits)"))
                input name="pin" type="password" inputmode="numeric" autocomplete="new-password" required; }
            button type="submit" { (t(lang, "重设 PIN", "Set the PIN")) }
        }
        form.retire-form method="post" action="/dashboard/surveyors" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="lang" value=(lang);
            input type="hidden" name="action" value="retire";
            input type="hidden" name="id" value=(s.id);
            button type="submit" { (t(lang, "停用", "Retire")) }
        }
    }
}

fn add_form(session: &Session, csrf: &str, lang: &str, input: Option<&SurveyorInput>) -> Markup {
    let own = session.person.role.district().map(str::to_string);
    let value = |f: fn(&SurveyorInput) -> &str| input.map_or("", f).to_string();
    html! {
        form.filters #surveyor-form method="post" action="/dashboard/surveyors" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="lang" value=(lang);
            input type="hidden" name="action" value="add";
            label for="surveyor-district" { (t(lang, "区县（编号）", "District (id)"))
                @match &own {
                    Some(d) => { input #surveyor-district name="district" readonly value=(d); },
                    None => { input #surveyor-district name="district" required value=(value(|i| i.district.as_str())); },
                }
            }
            label for="surveyor-name" { (t(lang, "姓名", "Name"))
                input #surveyor-name name="name" required maxlength="40" value=(value(|i| i.name.as_str())); }
            label for="surveyor-pin" { (t(lang, "PIN（4 到 6 位数字，告诉调查员本人）", "PIN (4 to 6 digits, tell the surveyor in person)"))
                input #surveyor-pin name="pin" type="password" inputmode="numeric" autocomplete="new-password" required; }
            button.primary #add-surveyor type="submit" { (t(lang, "新建", "Add")) }
        }
    }
}

/// What the forms post.
#[derive(Debug, Default)]
pub(super) struct SurveyorForm {
    lang: Option<String>,
    csrf: String,
    action: String,
    id: String,
    input: SurveyorInput,
}

impl SurveyorForm {
    fn parse(body: &[u8]) -> SurveyorForm {
        let mut form = SurveyorForm::default();
        for (key, value) in form_urlencoded::parse(body) {
            let value = value.into_owned();
            match &*key {
                "lang" => form.lang = Some(value),
                "csrf" => form.csrf = value,
                "action" => form.action = value,
                "id" => form.id = value,
                "district" => form.input.district = value,
                "name" => form.input.name = value,
                "pin" => form.input.pin = value,
                _ => {}
            }
        }
        form
    }
}

/// `POST /dashboard/surveyors`: adds a surveyor (`action=add`), sets a new PIN (`pin`) or
/// retires one (`retire`), then back to the page. A form without the session's CSRF token
/// changes nothing (403); someone who does not manage the district gets 403.
pub(super) async fn surveyors_form(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    body: axum::body::Bytes,
) -> Response {
    let form = SurveyorForm::parse(&body);
    let lang = language(form.lang.as_deref());
    if !session.csrf_matches(&form.csrf) {
        return super::csrf_refused(lang);
    }
    if !may_see(&session.person.role) {
        return not_for_viewers(&session, lang);
    }
    let server = state.server.clone();
    let (actor, role) = (session.person.username.clone(), session.person.role.clone());
    let (action, id, input) = (form.action.clone(), form.id.clone(), form.input.clone());
    let lang_owned = lang.to_string();
    let done = tokio::task::spawn_blocking(move || match action.as_str() {
        "add" => surveyors::add_surveyor(&server, &actor, &role, &input, &lang_owned).map(|_| ()),
        "pin" => surveyors::set_surveyor_pin(&server, &actor, &role, &id, &input.pin, &lang_owned),
        "retire" => surveyors::retire_surveyor(&server, &actor, &role, &id, &lang_owned),
        _ => Err(Refusal::Invalid(
            t(&lang_owned, "不认识的操作", "unknown action").to_string(),
        )),
    })
    .await;
    let refusal = match done {
        Err(e) => return internal(e),
        Ok(Ok(())) => {
            let href = link("/dashboard/surveyors", [("lang", lang)]);
            return Redirect::to(&format!("{href}#surveyors-summary")).into_response();
        }
        Ok(Err(refusal)) => refusal,
    };
    let status = match &refusal {
        Refusal::Invalid(_) => StatusCode::BAD_REQUEST,
        Refusal::NotFound(_) => StatusCode::NOT_FOUND,
        Refusal::NotNow(_) => StatusCode::FORBIDDEN,
        Refusal::Storage(e) => return internal(e),
    };
    let listed = match list(&state, &session).await {
        Ok(listed) => listed,
        Err(response) => return response,
    };
    let mut input = form.input;
    input.pin.clear();
    let shown = (form.action == "add").then_some(&input);
    (
        status,
        view(&session, lang, &listed, Some(refusal.to_string()), shown),
    )
        .into_response()
}
