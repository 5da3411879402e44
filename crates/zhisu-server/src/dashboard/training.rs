//! The trainees' record (issue 24): `/dashboard/training` and `/dashboard/training.csv`, in the
//! viewer's scope: who practised on a tablet before fieldwork, how often, what quality control
//! flagged in their practice, and who started real interviews without practice.

use axum::extract::{Query, State};
use axum::response::{Html, Response};
use maud::html;
use serde::Deserialize;
use zhisu_server_service::t;
use zhisu_server_service::training::{
    flag_label, local_time, trainees, trainees_csv, TraineeRecord, TrainingStatus,
};
use zhisu_server_service::wording::district_name;

use super::html::{page, scroll_box};
use super::{attachment, run, Viewer};
use crate::HttpState;

#[derive(Debug, Default, Deserialize)]
pub struct TrainingQuery {
    #[serde(default)]
    pub lang: Option<String>,
}

async fn load(state: &HttpState, viewer: &Viewer) -> Result<TraineeRecord, Response> {
    let scope = viewer.0.person.role.scope();
    let storage = state.storage.clone();
    run(move || trainees(storage.as_ref(), &scope)).await
}

/// The names of the surveyors managed on the server (issue 15), by id.
async fn surveyor_names(
    state: &HttpState,
) -> Result<std::collections::BTreeMap<String, String>, Response> {
    let storage = state.storage.clone();
    run(move || {
        Ok(storage
            .field_surveyors(None)?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect())
    })
    .await
}

pub(super) async fn training_page(
    State(state): State<HttpState>,
    viewer: Viewer,
    Query(q): Query<TrainingQuery>,
) -> Result<Html<String>, Response> {
    let lang = super::language(q.lang.as_deref());
    let record = load(&state, &viewer).await?;
    let names = surveyor_names(&state).await?;
    let offset = state.utc_offset;
    let title = t(lang, "练习记录", "Practice record");
    let body = html! {
        h1 { (title) }
        p.note {
            (t(lang,
               "调查员在平板上做的练习访谈（培训用）：不计入任何调查结果、配额和进度。每行一位调查员：练习次数，练习里质控会标出的问题，第一次和最近一次练习的时间，正式调查数和第一份正式调查的时间。",
               "Practice interviews surveyors ran on their tablets in training: never counted in any result, quota or progress. One row per surveyor: practice interviews, what quality control would flag in them, first and last practice, real interviews and the first one's time."))
            " " a.target href={"/dashboard/training.csv?lang=" (lang)} { (t(lang, "下载 CSV", "Download CSV")) }
        }
        @if record.not_for_scope {
            p.note #training-not-for-scope { (t(lang, "练习记录按区县查看，部门用户看不到。", "The practice record is kept by district; department viewers do not see it.")) }
        } @else if record.lines.is_empty() {
            p.note #training-empty { (t(lang, "还没有练习访谈，也没有正式调查。", "No practice interviews and no interviews yet.")) }
        } @else {
            p #training-summary {
                (t(lang, "练习访谈共 ", "Practice interviews: "))
                b #training-total { (record.practice_total()) }
                (t(lang, " 份；没练习就开始调查的调查员 ", "; surveyors who began fieldwork without practice: "))
                b #training-no-practice { (record.lines.iter().filter(|l| l.status == TrainingStatus::NoPractice).count()) }
                (t(lang, " 位。", "."))
            }
            (scroll_box(title, html! { table #training {
                tr {
                    th { (t(lang, "区县", "District")) }
                    th { (t(lang, "调查员", "Surveyor")) }
                    th { (t(lang, "练习次数", "Practice")) }
                    th { (t(lang, "被标记的练习", "Flagged")) }
                    th { (t(lang, "标记", "Flags")) }
                    th { (t(lang, "第一次练习", "First practice")) }
                    th { (t(lang, "最近一次练习", "Last practice")) }
                    th { (t(lang, "最近一次得分 %", "Last score %")) }
                    th { (t(lang, "正式调查", "Interviews")) }
                    th { (t(lang, "第一份正式调查", "First interview")) }
                    th { (t(lang, "情况", "Status")) }
                }
                @for line in &record.lines {
                    tr data-surveyor=(line.surveyor_id.as_deref().unwrap_or("")) data-status=(line.status.as_str())
                        class=[(line.status != TrainingStatus::PractisedFirst).then_some("outlier")] {
                        td { (line.district.as_deref().map(|d| district_name(d, lang)).unwrap_or_default()) }
                        td {
                            @match &line.surveyor_id {
                                None => { (t(lang, "（未登记调查员）", "(no surveyor)")) }
                                Some(id) => {
                                    @if let Some(name) = names.get(id) { (name) "（" (id) "）" } @else { (id) }
                                }
                            }
                        }
                        td.num data-col="practice" { (line.practice) }
                        td.num data-col="flagged" { (line.flagged) }
                        td data-col="flags" {
                            @for (i, (kind, n)) in line.flags.iter().enumerate() {
                                @if i > 0 { "、" }
                                span data-flag=(kind) { (flag_label(kind, lang)) " " (n) }
                            }
                        }
                        td { (local_time(line.first_practice, offset)) }
                        td { (local_time(line.last_practice, offset)) }
                        td.num { @match line.last_score_percent { Some(p) => (format!("{p:.0}")), None => "—" } }
                        td.num data-col="interviews" { (line.interviews) }
                        td { (local_time(line.first_interview, offset)) }
                        td {
                            @if line.status == TrainingStatus::PractisedFirst { (line.status.label(lang)) }
                            @else { strong { "⚠ " (line.status.label(lang)) } }
                        }
                    }
                }
            } }))
        }
    };
    Ok(page(Some(&viewer.0), lang, "training", title, body))
}

pub(super) async fn training_csv(
    State(state): State<HttpState>,
    viewer: Viewer,
    Query(q): Query<TrainingQuery>,
) -> Response {
    let lang = super::language(q.lang.as_deref());
    let record = match load(&state, &viewer).await {
        Ok(record) => record,
        Err(response) => return response,
    };
    let file = zhisu_server_service::export::File {
        bytes: trainees_csv(&record, lang, state.utc_offset).into_bytes(),
        content_type: "text/csv; charset=utf-8",
        name: "practice-record.csv".to_string(),
        rows: record.lines.len(),
    };
    let (server, actor) = (state.server.clone(), viewer.0.person.username.clone());
    let detail = format!(
        "practice record CSV, scope {:?}: {} rows",
        viewer.0.person.role.scope(),
        file.rows
    );
    if let Err(e) = run(move || server.audit(&actor, "export", &detail)).await {
        return e;
    }
    attachment(file)
}
