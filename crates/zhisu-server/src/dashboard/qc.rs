//! The quality-control queue and review decisions.

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;
use zhisu_server_service::analysis::{By, Labels};
use zhisu_server_service::storage::{QcEntry, QcStatus};
use zhisu_server_service::t;

use super::html::{link, local_minute, page, questionnaire_page, QuestionnaireChoice};
use super::*;
use crate::HttpState;
use zhisu_server_service::review::ReviewRefusal;
use zhisu_server_service::wording::district_name;

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
) -> Result<Html<String>, Response> {
    let lang = q.lang();
    let scope = session.person.role.scope();
    let status = q
        .status
        .as_deref()
        .and_then(QcStatus::parse)
        .or(Some(QcStatus::Unreviewed))
        .filter(|_| q.status.as_deref() != Some("all"));
    let (server, actor) = (state.server.clone(), session.person.username.clone());
    let entries = run(move || {
        let entries = server.storage.qc_queue(&scope, status, 500)?;
        // interview-level data (surveyor, site, times, flags): every read is audited
        server.audit_read(
            &actor,
            "read_qc_queue",
            &format!(
                "/dashboard/qc, scope {scope:?}, status {}: {} interviews",
                status.map_or("all", |s| s.as_str()),
                entries.len()
            ),
        )?;
        Ok::<_, zhisu_server_service::StorageError>(entries)
    })
    .await?;
    let row = QueueRow {
        labels: Labels::new(&state.questionnaires, q.questionnaire(), lang),
        reviewer: session.person.role.may_review(),
        minimised: zhisu_server_service::privacy::reads_minimised(&session.person.role),
        csrf: session.csrf_token(),
        offset: state.utc_offset,
        lang,
    };
    let shown = q.status.as_deref().unwrap_or("unreviewed");
    let body = html! {
        h1 { (t(lang, "质量控制", "Quality control")) }
        p.note {
            (t(lang, "答题太快、连续选同一个位置、改答案多、疑似重复调查的问卷会进入这里。作废的问卷不计入统计，平板下次同步时会收到通知。",
                "Interviews done too fast, with straight-lining, many changed answers or a suspected repeat respondent land here. Rejected interviews leave the estimates; the tablet is told at its next sync."))
        }
        (status_links(shown, lang))
        @if entries.is_empty() {
            p #qc-empty { (t(lang, "没有需要处理的问卷。", "Nothing to review.")) }
        } @else {
            (queue(&entries, &row))
        }
    };
    let title = t(lang, "质量控制", "Quality control");
    let choice = QuestionnaireChoice::of(&state.questionnaires, q.questionnaire(), lang);
    Ok(questionnaire_page(
        &session, lang, "qc", &choice, title, body,
    ))
}

/// Links to the queue of each review state, and to all of it (`shown` marked as the current one).
fn status_links(shown: &str, lang: &str) -> Markup {
    let states = [
        QcStatus::Unreviewed,
        QcStatus::HasIssues,
        QcStatus::Approved,
        QcStatus::Rejected,
    ]
    .map(|s| (s.as_str(), status_label(s, lang)));
    html! {
        nav.no-print aria-label=(t(lang, "按审核状态查看", "By review state")) {
            ul.links {
                @for (key, label) in states.into_iter().chain([("all", t(lang, "全部", "All"))]) {
                    li {
                        a href=(link("/dashboard/qc", [("status", key), ("lang", lang)])) id={ "qc-" (key) }
                            aria-current=[(key == shown).then_some("page")] {
                            (label)
                        }
                    }
                }
            }
        }
    }
}

/// What every row of the queue is drawn with.
struct QueueRow<'a> {
    labels: Labels,
    /// Whether the viewer may review (and so sees the review form).
    reviewer: bool,
    /// A department viewer: the surveyor is not shown (`privacy::reads_minimised`).
    minimised: bool,
    /// The session's CSRF token, carried by every review form.
    csrf: String,
    offset: chrono::FixedOffset,
    lang: &'a str,
}

/// The queue's column headings, also shown above each cell when the rows stack on a narrow screen.
fn columns(lang: &str) -> [&'static str; 6] {
    [
        t(lang, "完成时间", "Completed"),
        t(lang, "区县 / 调查点 / 调查员", "District / site / surveyor"),
        t(lang, "人群", "Population"),
        t(lang, "问题", "Flags"),
        t(lang, "状态", "State"),
        t(lang, "审核", "Review"),
    ]
}

fn queue(entries: &[QcEntry], row: &QueueRow<'_>) -> Markup {
    let lang = row.lang;
    // after a review, the keyboard goes on with the row below (or above, for the last row)
    let next = |i: usize| {
        entries
            .get(i + 1)
            .or_else(|| i.checked_sub(1).and_then(|j| entries.get(j)))
            .map(|e| e.id)
    };
    html! {
        table.stack #qc {
            tr { @for heading in columns(lang) { th { (heading) } } }
            @for (i, entry) in entries.iter().enumerate() { (queue_row(entry, next(i), row)) }
        }
    }
}

fn queue_row(e: &QcEntry, next: Option<Uuid>, row: &QueueRow<'_>) -> Markup {
    let lang = row.lang;
    let population = e.population.as_deref();
    let [completed, place, people, problems, state, review] = columns(lang);
    // tabindex -1: the row takes the keyboard's focus when the address names it (after a
    // review), and is no stop of its own for Tab
    html! {
        tr id={ "qc-" (e.id) } tabindex="-1" {
            td data-label=(completed) {
                (local_minute(e.completed_at, row.offset))
                @if let Some(seconds) = e.duration_s {
                    br;
                    span.note {
                        (t(lang, "用时", "took")) " " (format!("{:.1}", seconds as f64 / 60.0)) " " (t(lang, "分钟", "min"))
                    }
                }
            }
            td data-label=(place) {
                (e.district.as_deref().map_or_else(|| "-".to_string(), |d| district_name(d, row.lang))) " / " (e.site_id.as_deref().unwrap_or("-"))
                " / " (e.surveyor_id.as_deref().filter(|_| !row.minimised).unwrap_or("-"))
            }
            td data-label=(people) { (population.map(|p| row.labels.label(By::Population, p)).unwrap_or_default()) }
            td data-label=(problems) { (flags(e, lang, row.minimised)) }
            td data-label=(state) class={ "status-" (e.status.as_str()) } {
                (status_label(e.status, lang))
                @if let Some(comment) = e.comment.as_deref().filter(|c| !c.is_empty()) {
                    br; span.note { (comment) }
                }
            }
            td data-label=(review) {
                @if row.reviewer { (review_form(e, next, &row.csrf, lang)) }
            }
        }
    }
}

/// The quality flags of an interview, and a suspected repeat respondent. A minimised reader
/// sees which items a failed back-check found different, not the answers.
fn flags(e: &QcEntry, lang: &str, minimised: bool) -> Markup {
    let shown = |flag: &zhisu_core::QcFlag| match flag {
        zhisu_core::QcFlag::BackcheckFailed {
            agreed,
            compared,
            minimum_percent,
            differences,
        } if minimised => zhisu_core::QcFlag::BackcheckFailed {
            agreed: *agreed,
            compared: *compared,
            minimum_percent: *minimum_percent,
            differences: differences
                .iter()
                .map(|d| d.split(':').next().unwrap_or_default().to_string())
                .collect(),
        }
        .describe(lang),
        other => other.describe(lang),
    };
    html! {
        @for flag in &e.flags {
            span.flag data-flag=(flag.code()) { (shown(flag)) }
        }
        @if e.same_fingerprint > 0 {
            span.flag data-flag="duplicate_suspect" {
                (t(lang, "疑似重复调查：同一调查点另有 ", "Suspected repeat respondent: "))
                (e.same_fingerprint)
                (t(lang, " 份背景信息相同的问卷", " other interview(s) at this site with the same background answers"))
            }
        }
    }
}

/// A comment and the three decisions, posted to `/dashboard/qc/{id}` with the row to go on
/// with (`next`).
fn review_form(e: &QcEntry, next: Option<Uuid>, csrf: &str, lang: &str) -> Markup {
    let comment = t(lang, "审核意见", "Comment");
    html! {
        form.review method="post" action={ "/dashboard/qc/" (e.id) } {
            input type="hidden" name="lang" value=(lang);
            input type="hidden" name="csrf" value=(csrf);
            @if let Some(next) = next { input type="hidden" name="next" value=(next); }
            textarea name="comment" rows="2" cols="24" placeholder=(comment) aria-label=(comment) {
                (e.comment.as_deref().unwrap_or(""))
            }
            @for status in [QcStatus::Approved, QcStatus::HasIssues, QcStatus::Rejected] {
                button name="status" value=(status.as_str()) type="submit" { (status_label(status, lang)) }
            }
        }
    }
}

#[derive(Deserialize)]
pub(super) struct ReviewForm {
    status: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    csrf: String,
    /// The row below the one reviewed, where the keyboard goes on.
    #[serde(default)]
    next: Option<Uuid>,
}

pub(super) async fn qc_review(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    Form(form): Form<ReviewForm>,
) -> Response {
    let lang = language(form.lang.as_deref());
    if !session.csrf_matches(&form.csrf) {
        return super::csrf_refused(lang);
    }
    let next = form.next;
    let (server, reviewer) = (state.server.clone(), session.person.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        server.review(&reviewer, id, &form.status, &form.comment)
    })
    .await;
    let back = link("/dashboard/qc", [("lang", lang)]);
    match outcome {
        Ok(Ok(_)) => {
            // back to the queue as it was filtered, at the next row
            let back = headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| r.find("/dashboard/qc").map(|i| r[i..].to_string()))
                .unwrap_or(back);
            Redirect::to(&at_row(&back, next)).into_response()
        }
        Ok(Err(refusal)) => refused(refusal, &session, &back, lang),
        Err(e) => internal(e),
    }
}

/// The queue's address `back` (path and query) at row `next`: its anchor, which the browser
/// scrolls to and gives the keyboard's focus (the row takes focus: tabindex -1), so the next
/// Tab is in that row's comment box.
fn at_row(back: &str, next: Option<Uuid>) -> String {
    let back = back.split('#').next().unwrap_or(back);
    match next {
        Some(id) => format!("{back}#qc-{id}"),
        None => back.to_string(),
    }
}

/// The page that says why a review was refused (a bare response for a decision no page sends,
/// and for a storage error).
fn refused(refusal: ReviewRefusal, session: &Session, back: &str, lang: &str) -> Response {
    let (status, title, body) = match refusal {
        ReviewRefusal::NotAllowed => (
            StatusCode::FORBIDDEN,
            "403",
            html! { p { (t(lang, "您的角色不能审核问卷。", "Your role may not review interviews.")) } },
        ),
        ReviewRefusal::UnknownDecision => {
            return (StatusCode::BAD_REQUEST, "unknown review decision").into_response()
        }
        ReviewRefusal::RejectionWithoutReason => (
            StatusCode::BAD_REQUEST,
            t(lang, "质量控制", "Quality control"),
            html! {
                p.error role="alert" #need-comment {
                    (t(lang, "作废问卷时请写明原因：调查员会在平板上看到。",
                        "Say why when you reject an interview: the surveyor sees it on the tablet."))
                }
                p { a.target href=(back) { (t(lang, "返回", "Back")) } }
            },
        ),
        ReviewRefusal::NotFound => (
            StatusCode::NOT_FOUND,
            "404",
            html! { p { (t(lang, "找不到这份问卷，或不在您的管辖范围内。", "No such interview within your scope.")) } },
        ),
        ReviewRefusal::Storage(e) => return internal(e),
    };
    (status, page(Some(session), lang, "qc", title, body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_review_goes_back_to_the_queue_at_the_next_row() {
        let next = Uuid::from_u128(2);
        assert_eq!(
            at_row("/dashboard/qc?status=all&lang=en", Some(next)),
            format!("/dashboard/qc?status=all&lang=en#qc-{next}")
        );
        // an earlier anchor is replaced, not piled up
        assert_eq!(
            at_row("/dashboard/qc?lang=en#qc-x", Some(next)),
            format!("/dashboard/qc?lang=en#qc-{next}")
        );
        assert_eq!(
            at_row("/dashboard/qc?lang=en#qc-x", None),
            "/dashboard/qc?lang=en"
        );
    }
}
