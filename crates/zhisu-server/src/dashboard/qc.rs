//! The quality-control queue and review decisions.

use std::fmt::Write as _;

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;
use zhisu_server_service::analysis::{By, Labels};
use zhisu_server_service::storage::QcStatus;
use zhisu_server_service::t;

use super::*;
use crate::HttpState;
use zhisu_server_service::review::ReviewRefusal;

pub(super) fn status_label(status: QcStatus, lang: &str) -> &'static str {
    match status {
        QcStatus::Unreviewed => t(lang, "待审核", "To review"),
        QcStatus::Approved => t(lang, "通过", "Approved"),
        QcStatus::HasIssues => t(lang, "有问题", "Has issues"),
        QcStatus::Rejected => t(lang, "作废", "Rejected"),
    }
}

pub(super) async fn qc_page(
    State(state): State<HttpState>,
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
        let reviewer = session.person.role.may_review();
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
pub(super) struct ReviewForm {
    status: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    lang: Option<String>,
}

pub(super) async fn qc_review(
    State(state): State<HttpState>,
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
    let (server, reviewer) = (state.server.clone(), session.person.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        server.review(&reviewer, id, &form.status, &form.comment)
    })
    .await;
    let refusal = match outcome {
        Ok(Ok(_)) => {
            let back = headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| r.find("/dashboard/qc").map(|i| r[i..].to_string()))
                .unwrap_or_else(|| format!("/dashboard/qc?lang={lang}"));
            return Redirect::to(&back).into_response();
        }
        Ok(Err(refusal)) => refusal,
        Err(e) => return internal(e),
    };
    let (status, title, body) = match refusal {
        ReviewRefusal::NotAllowed => (
            StatusCode::FORBIDDEN,
            "403",
            t(
                lang,
                "<p>您的角色不能审核问卷。</p>",
                "<p>Your role may not review interviews.</p>",
            )
            .to_string(),
        ),
        ReviewRefusal::UnknownDecision => {
            return (StatusCode::BAD_REQUEST, "unknown review decision").into_response()
        }
        ReviewRefusal::RejectionWithoutReason => (
            StatusCode::BAD_REQUEST,
            t(lang, "质量控制", "Quality control"),
            format!(
                "<p class=\"error\" role=\"alert\" id=\"need-comment\">{}</p><p><a href=\"/dashboard/qc?lang={lang}\">{}</a></p>",
                t(lang, "作废问卷时请写明原因：调查员会在平板上看到。", "Say why when you reject an interview: the surveyor sees it on the tablet."),
                t(lang, "返回", "Back")
            ),
        ),
        ReviewRefusal::NotFound => (
            StatusCode::NOT_FOUND,
            "404",
            t(
                lang,
                "<p>找不到这份问卷，或不在您的管辖范围内。</p>",
                "<p>No such interview within your scope.</p>",
            )
            .to_string(),
        ),
        ReviewRefusal::Storage(e) => return internal(e),
    };
    (
        status,
        page(Some(&session.person), lang, "qc", title, &body),
    )
        .into_response()
}
