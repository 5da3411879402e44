//! Progress against the quotas, and the tablets' sync state.

use axum::extract::{Query, State};
use axum::response::{Html, Response};
use chrono::FixedOffset;
use maud::{html, Markup};
use zhisu_server_service::analysis::{self, By, Labels, Progress, SiteProgress};
use zhisu_server_service::people::Role;
use zhisu_server_service::t;
use zhisu_server_service::time_slots::SlotProgress;
use zhisu_server_service::Device;

use zhisu_server_service::wording::district_name;

use super::html::{fraction, local_minute, questionnaire_page, scroll_box, QuestionnaireChoice};
use super::*;
use crate::HttpState;

pub(super) async fn progress_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
) -> Result<Html<String>, Response> {
    let lang = q.lang();
    let scope = session.person.role.scope();
    let storage = state.storage.clone();
    let today = chrono::Utc::now()
        .with_timezone(&state.utc_offset)
        .date_naive();
    let (progress, devices, fieldwork, site_names, pace, slots) = run(move || {
        let pace = match zhisu_server_service::pace::current_round(storage.as_ref())? {
            Some(round) => {
                zhisu_server_service::pace::pace(storage.as_ref(), &scope, &round, today)?
            }
            None => None,
        };
        Ok((
            analysis::progress(storage.as_ref(), &scope)?,
            storage.devices()?,
            zhisu_server_service::fieldwork::fieldwork(storage.as_ref(), &scope)?,
            super::fieldwork::site_names(&storage.all_sites()?),
            pace,
            zhisu_server_service::time_slots::slot_progress(storage.as_ref(), &scope)?,
        ))
    })
    .await?;
    let labels = Labels::new(&state.questionnaires, q.questionnaire(), lang);
    // tablets: of the viewer's district only; none for a department
    let role = &session.person.role;
    let devices: Vec<Device> = devices
        .into_iter()
        .filter(|d| role.district().is_none_or(|own| d.district == own))
        .collect();
    let body = html! {
        (totals(&progress, lang))
        (districts(&progress, lang))
        (populations(&progress, &labels, lang))
        (sites(&progress, &labels, lang))
        @if let Some(pace) = &pace { (super::pace::section(pace, &labels, lang)) }
        @if !slots.is_empty() { (time_slots(&slots, lang)) }
        (days(&progress, lang))
        (super::fieldwork::section(&fieldwork, &site_names, lang))
        @if !matches!(role, Role::DepartmentViewer { .. }) {
            (tablets(&devices, state.utc_offset, role, &session.csrf_token(), lang))
        }
    };
    let title = t(lang, "工作进度", "Progress");
    let choice = QuestionnaireChoice::of(&state.questionnaires, q.questionnaire(), lang);
    Ok(questionnaire_page(
        &session, lang, "progress", &choice, title, body,
    ))
}

fn totals(progress: &Progress, lang: &str) -> Markup {
    html! {
        h1 { (t(lang, "工作进度", "Progress")) }
        p #total {
            (t(lang, "已完成调查", "Interviews done")) "：" strong { (progress.total) }
            "　" (t(lang, "样本计划", "Sample plan")) "：" strong { (progress.wanted) }
        }
    }
}

/// A heading and a table of (name, done / planned) rows.
fn done_of_planned<'a>(
    id: &str,
    heading: &str,
    first: &str,
    rows: impl Iterator<Item = (String, &'a (u64, u64))>,
    lang: &str,
) -> Markup {
    html! {
        h2 { (heading) }
        (scroll_box(heading, html! {
            table id=(id) {
                tr { th { (first) } th { (t(lang, "完成 / 计划", "Done / planned")) } }
                @for (name, (done, wanted)) in rows {
                    tr { td { (name) } td.num { (fraction(*done, *wanted)) } }
                }
            }
        }))
    }
}

fn districts(progress: &Progress, lang: &str) -> Markup {
    done_of_planned(
        "by-district",
        t(lang, "各区县", "By district"),
        t(lang, "区县", "District"),
        progress
            .districts
            .iter()
            .map(|(d, n)| (district_name(d, lang), n)),
        lang,
    )
}

fn populations(progress: &Progress, labels: &Labels, lang: &str) -> Markup {
    done_of_planned(
        "by-population",
        t(lang, "各重点人群", "By key population"),
        t(lang, "人群", "Population"),
        progress
            .populations
            .iter()
            .map(|(p, n)| (labels.label(By::Population, p), n)),
        lang,
    )
}

fn sites(progress: &Progress, labels: &Labels, lang: &str) -> Markup {
    html! {
        h2 { (t(lang, "各调查点", "By site")) }
        (scroll_box(t(lang, "各调查点", "By site"), html! { table #by-site {
            tr {
                th { (t(lang, "区县", "District")) }
                th { (t(lang, "调查点", "Site")) }
                th { (t(lang, "各人群 完成 / 配额", "Per population: done / quota")) }
                th { (t(lang, "合计", "Total")) }
            }
            @for site in &progress.sites { (site_row(site, labels, lang)) }
        } }))
        @if progress.without_site > 0 {
            p.note {
                (t(lang, "未关联调查点的调查", "Interviews without a site")) "：" (progress.without_site)
            }
        }
    }
}

fn site_row(site: &SiteProgress, labels: &Labels, lang: &str) -> Markup {
    html! {
        tr {
            td { (district_name(&site.district, lang)) }
            td { (site.name) }
            td {
                @for (i, (p, (done, want))) in site.populations.iter().enumerate() {
                    @if i > 0 { "；" }
                    (labels.label(By::Population, p)) " " (done) "/" (want)
                }
            }
            td.num { (fraction(site.done, site.wanted)) }
        }
    }
}

/// The time-slot quotas of the sites in scope (issue 15, travel peaks at stations): each slot's
/// days and hours, done against its target. An interview counts in a slot by its local start
/// (`zhisu_server_service::time_slots`).
fn time_slots(slots: &[SlotProgress], lang: &str) -> Markup {
    let heading = t(lang, "时段配额", "Time-slot quotas");
    html! {
        h2 { (heading) }
        p.note {
            (t(lang,
                "按每份调查开始的当地时间计入时段，不分人群。",
                "An interview counts in a slot by the local time it was started, any population."))
        }
        (scroll_box(heading, html! { table #by-slot {
            tr {
                th { (t(lang, "区县", "District")) }
                th { (t(lang, "调查点", "Site")) }
                th { (t(lang, "时段", "Slot")) }
                th { (t(lang, "日期", "Days")) }
                th { (t(lang, "钟点", "Hours")) }
                th { (t(lang, "完成 / 目标", "Done / target")) }
            }
            @for s in slots {
                tr data-site=(s.site_id) data-slot=(s.slot.label) data-done=(s.done)
                    data-target=(s.slot.target) {
                    td { (district_name(&s.district, lang)) }
                    td { (s.site_name) }
                    td { (s.slot.label) }
                    td { (s.slot.first_day) "–" (s.slot.last_day) }
                    td { (s.slot.from) "–" (s.slot.to) }
                    td.num { (fraction(s.done, u64::from(s.slot.target))) }
                }
            }
        } }))
    }
}

fn days(progress: &Progress, lang: &str) -> Markup {
    html! {
        h2 { (t(lang, "每日完成", "Per day")) }
        (scroll_box(t(lang, "每日完成", "Per day"), html! { table #by-day {
            tr { th { (t(lang, "日期", "Day")) } th { (t(lang, "调查数", "Interviews")) } }
            @for (day, n) in progress.days.iter().rev() {
                tr { td { (day) } td.num { (n) } }
            }
        } }))
    }
}

fn tablets(devices: &[Device], offset: FixedOffset, role: &Role, csrf: &str, lang: &str) -> Markup {
    html! {
        h2 { (t(lang, "平板同步状态", "Tablets and sync")) }
        (scroll_box(t(lang, "平板同步状态", "Tablets and sync"), html! { table #devices {
            tr {
                th { (t(lang, "平板", "Tablet")) }
                th { (t(lang, "区县", "District")) }
                th { (t(lang, "最近联网", "Last seen")) }
                th { (t(lang, "待上传问卷", "Waiting to send")) }
                th { (t(lang, "状态", "State")) }
            }
            @for d in devices {
                tr {
                    td { (d.name) }
                    td { (district_name(&d.district, lang)) }
                    td {
                        @match d.last_seen_at {
                            Some(at) => (local_minute(at, offset)),
                            None => (t(lang, "从未", "never")),
                        }
                    }
                    td.num.pending {
                        @match d.pending { Some(p) => (p), None => "-" }
                    }
                    td {
                        @if d.revoked_at.is_some() { (t(lang, "已停用", "revoked")) }
                        @else {
                            (t(lang, "使用中", "active"))
                            // a lost or stolen tablet is stopped here, after a second look
                            @if role.manages(&d.district) {
                                form.inline method="post" action={ "/dashboard/devices/" (d.id) "/revoke" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="lang" value=(lang);
                                    " "
                                    button type="submit" id={ "revoke-" (d.id) }
                                        aria-label={ (t(lang, "停用…（平板 ", "Revoke… (tablet ")) (d.name) (t(lang, "）", ")")) } {
                                        (t(lang, "停用…", "Revoke…"))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        } }))
    }
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: Option<String>,
    /// Set by the confirmation page's button: without it, the page asks first.
    #[serde(default)]
    confirm: Option<String>,
}

/// Stops a tablet (lost, stolen, or handed back): first a page that says what stopping means
/// and asks again, then, confirmed, the revocation with its audit entry and back to progress.
/// Only those who manage the tablet's district; any other tablet is "not found", as in the API.
pub(super) async fn revoke_device_form(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    axum::extract::Path(id): axum::extract::Path<uuid::Uuid>,
    axum::extract::Form(form): axum::extract::Form<RevokeForm>,
) -> Response {
    use axum::response::IntoResponse;
    let lang = language(form.lang.as_deref());
    if !session.csrf_matches(&form.csrf) {
        return super::csrf_refused(lang);
    }
    let storage = state.storage.clone();
    let device = match run(move || storage.device(id)).await {
        Ok(device) => device.filter(|d| session.person.role.manages(&d.district)),
        Err(response) => return response,
    };
    let Some(device) = device else {
        let body = html! {
            p.error role="alert" {
                (t(lang, "没有这台平板，或者它不归您管理。", "No such tablet, or not one you manage."))
            }
        };
        return (
            axum::http::StatusCode::NOT_FOUND,
            super::html::page(Some(&session), lang, "progress", "404", body),
        )
            .into_response();
    };
    let back = super::html::link("/dashboard/progress", [("lang", lang)]);
    if device.revoked_at.is_some() {
        return axum::response::Redirect::to(&back).into_response();
    }
    if form.confirm.as_deref() != Some("yes") {
        let pending = device.pending.map_or_else(
            || t(lang, "不知道", "unknown").to_string(),
            |p| p.to_string(),
        );
        let body = html! {
            h1 { (t(lang, "停用平板", "Revoke a tablet")) }
            p #revoke-what {
                (t(lang, "平板：", "Tablet: ")) strong { (device.name) }
                "　" (district_name(&device.district, lang))
                "　" (t(lang, "轮次 ", "round ")) (device.round)
            }
            p.note {
                (t(lang,
                    "停用以后，这台平板再也不能上传，也拿不到新任务；别人拿到它也不能往系统里送数据。这一步不能撤销：找回的平板要用新的登记码重新登记。",
                    "Once revoked, the tablet can no longer upload or fetch its work, and nobody holding it can send data. This cannot be undone: a tablet found again is enrolled anew with a new code."))
            }
            p #revoke-pending {
                (t(lang, "它上次联网时还有待上传的问卷：", "Interviews waiting on it at its last sync: "))
                strong { (pending) }
                (t(lang, "。这些只能用平板上导出的备份导入（「上传记录」里的「导出备份」）。",
                    ". These can then only be imported from a backup exported on the tablet (Sync log, Export a backup)."))
            }
            form method="post" action={ "/dashboard/devices/" (device.id) "/revoke" } {
                input type="hidden" name="csrf" value=(session.csrf_token());
                input type="hidden" name="lang" value=(lang);
                input type="hidden" name="confirm" value="yes";
                button.primary type="submit" id="revoke-confirm" { (t(lang, "确定停用", "Revoke it")) }
                " "
                a.button href=(back) id="revoke-cancel" { (t(lang, "取消", "Cancel")) }
            }
        };
        // a step of its own, not the progress page: the navigation marks no page as this one
        return super::html::page(
            Some(&session),
            lang,
            "",
            t(lang, "停用平板", "Revoke a tablet"),
            body,
        )
        .into_response();
    }
    let (server, actor) = (state.server.clone(), session.person.username.clone());
    match run(move || server.revoke_device(device.id, &actor)).await {
        Ok(_) => axum::response::Redirect::to(&back).into_response(),
        Err(response) => response,
    }
}
