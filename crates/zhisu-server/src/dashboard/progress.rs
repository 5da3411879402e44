//! Progress against the quotas, and the tablets' sync state.

use axum::extract::{Query, State};
use axum::response::{Html, Response};
use chrono::FixedOffset;
use maud::{html, Markup};
use zhisu_server_service::analysis::{self, By, Labels, Progress, SiteProgress};
use zhisu_server_service::people::Role;
use zhisu_server_service::t;
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
    let (progress, devices, fieldwork, site_names, pace) = run(move || {
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
        (days(&progress, lang))
        (super::fieldwork::section(&fieldwork, &site_names, lang))
        @if !matches!(role, Role::DepartmentViewer { .. }) {
            (tablets(&devices, state.utc_offset, lang))
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

fn tablets(devices: &[Device], offset: FixedOffset, lang: &str) -> Markup {
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
                        @else { (t(lang, "使用中", "active")) }
                    }
                }
            }
        } }))
    }
}
