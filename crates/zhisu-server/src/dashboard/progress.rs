//! Progress against the quotas, and the tablets' sync state.

use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use zhisu_server_service::analysis::{self, By, Labels};
use zhisu_server_service::people::Role;
use zhisu_server_service::t;

use super::*;
use crate::HttpState;

pub(super) async fn progress_page(
    State(state): State<HttpState>,
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
