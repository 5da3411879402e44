//! The printable district report.

use axum::extract::{Query, State};
use axum::response::{Html, Response};
use chrono::Utc;
use maud::{html, Markup};
use zhisu_server_service::analysis::{self, By, ItemShare, LiteracyReport, Progress};
use zhisu_server_service::storage::QcCounts;
use zhisu_server_service::{t, wording};

use super::html::{
    bars, breakdown_section, estimate_table, link, pct, questionnaire_page, Heading,
    QuestionnaireChoice,
};
use super::*;
use crate::HttpState;

pub(super) async fn report_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
) -> Result<Html<String>, Response> {
    let lang = q.lang();
    let filter = q.filter_for(&session.person);
    let ask = Ask::new(&state, &session.person, &q);
    // the sample's counts narrowed by the filter as far as they go (district or population)
    let (counted, not_narrowed_by) =
        zhisu_server_service::annual_report::sample_scope(&ask.scope, &filter);
    let (report, items, progress, qc, fieldwork, backchecks) = run(move || {
        let report = ask.literacy()?;
        let items = ask.weakest_items()?;
        let progress = analysis::progress(ask.storage.as_ref(), &counted)?;
        // counted in the database (the queue was read here, cut at 100,000 entries)
        let qc = ask.storage.qc_counts(&counted)?;
        let fieldwork = zhisu_server_service::fieldwork::fieldwork(ask.storage.as_ref(), &counted)?;
        let backchecks = zhisu_server_service::backcheck::agreement_table(
            &ask.storage.backcheck_tasks(&counted)?,
        )
        .overall;
        Ok((report, items, progress, qc, fieldwork, backchecks))
    })
    .await?;
    let not_narrowed: Vec<&str> = not_narrowed_by.iter().map(|by| by.title(lang)).collect();
    let labels = analysis::Labels::new(&state.questionnaires, q.questionnaire(), lang);
    let coverage = wording::coverage(&session.person.role, &filter, &labels, lang);
    let today = Utc::now()
        .with_timezone(&state.utc_offset)
        .format("%Y-%m-%d");
    let rules = Rules::of(&state, q.questionnaire());
    let docx_pairs = docx_query(&q);
    let docx_href = link(
        "/dashboard/report.docx",
        docx_pairs.iter().map(|(k, v)| (*k, v.as_str())),
    );
    let body = html! {
        h1 #report-title {
            @if lang == "en" {
                (coverage.subject) ": occupational health literacy monitoring report"
            } @else {
                (coverage.subject) "职业健康素养监测报告"
            }
        }
        p #report-coverage { (coverage.sentence) }
        p.note {
            (t(lang, "生成日期", "Generated")) " " (today) " · "
            button.no-print #print type="button" { (t(lang, "打印 / 保存为 PDF", "Print / save as PDF")) }
        }
        p.no-print {
            a.target #report-docx href=(docx_href) {
                (t(lang, "下载年度报告（Word 文档，可编辑）", "Download the annual report (Word document, editable)"))
            }
        }
        (findings(&report, lang))
        (weakest(&items, lang))
        (sample(&progress, qc, lang))
        p #report-contacts { (zhisu_server_service::fieldwork::summary_sentence(&fieldwork, lang)) }
        p #report-backchecks { (zhisu_server_service::backcheck::summary_sentence(&backchecks, lang)) }
        @if let Some(note) = zhisu_server_service::wording::not_narrowed(&not_narrowed, lang) {
            p.note #report-not-narrowed { (note) }
        }
        (method(&report, &rules, lang))
    };
    let title = t(lang, "区县报告", "District report");
    let choice = QuestionnaireChoice::of(&state.questionnaires, q.questionnaire(), lang);
    Ok(questionnaire_page(
        &session, lang, "report", &choice, title, body,
    ))
}

/// Part 1: the overall level, the highest and lowest dimension, and the breakdowns by
/// population and industry.
fn findings(report: &LiteracyReport, lang: &str) -> Markup {
    let by_population_and_industry = report
        .breakdowns
        .iter()
        .filter(|b| matches!(b.by, By::Population | By::Industry) && !b.rows.is_empty());
    html! {
        h2 { (t(lang, "一、主要结果", "1. Main findings")) }
        @match &report.overall {
            None => p { (t(lang, "还没有调查数据。", "No interviews yet.")) },
            Some(overall) => {
                p #summary {
                    (t(lang, "本次共调查有效问卷 ", "Valid interviews: ")) (overall.n) "，"
                    (t(lang, "职业健康素养水平为 ", "literacy level ")) (pct(overall.proportion))
                    "（95% CI " (pct(overall.interval.low)) " – " (pct(overall.interval.high)) "）。"
                }
                @if let Some(sentence) = wording::dimension_extremes(&report.dimensions, lang) {
                    p #report-extremes { (sentence) }
                }
                (estimate_table("report-dimensions", t(lang, "维度", "Dimension"), &report.dimensions, lang))
                (bars("report-chart-dimensions", t(lang, "维度", "Dimensions"), &report.dimensions, lang))
                @for breakdown in by_population_and_industry {
                    (breakdown_section(Heading::Subsection, "report-", breakdown, lang))
                }
            },
        }
    }
}

/// Part 2: the ten items answered correctly least often.
fn weakest(items: &[ItemShare], lang: &str) -> Markup {
    html! {
        h2 { (t(lang, "二、最薄弱的十个知识点", "2. The ten weakest items")) }
        ol #report-weakest {
            @for item in items.iter().take(10) {
                li {
                    (item.label) "（" (t(lang, "答对率", "correct")) " " (pct(item.share))
                    "，n = " (item.asked) "）"
                }
            }
        }
    }
}

/// Part 3: interviews done against the plan, flagged and rejected.
fn sample(progress: &Progress, qc: QcCounts, lang: &str) -> Markup {
    let QcCounts { flagged, rejected } = qc;
    html! {
        h2 { (t(lang, "三、样本和质量", "3. Sample and quality")) }
        p #report-sample {
            (t(lang, "完成调查", "Interviews done against the plan:")) " "
            (progress.total) " / " (progress.wanted) "；"
            (t(lang, "质控标记问卷", "flagged in quality control:")) " " (flagged) "；"
            (t(lang, "作废（不计入统计）", "rejected (left out of the estimates):")) " " (rejected) "。"
        }
    }
}

/// Part 4: how the levels were estimated: the method, the questionnaire's cut-off, small cells.
fn method(report: &LiteracyReport, rules: &Rules, lang: &str) -> Markup {
    let min_n = report.min_cell_n;
    html! {
        h2 { (t(lang, "四、方法说明", "4. Method")) }
        p.method {
            (report.method_note) "。"
            (t(lang, "没有权重的问卷（无调查点，或调查点在抽样方案中没有层和权重）：",
                "Interviews without a weight (no site, or a site without stratum and weight in the sample plan): "))
            (report.unweighted_interviews) (t(lang, " 份。", ". "))
            @if let Some(cut) = rules.literacy_threshold_percent {
                @if lang == "en" {
                    "Has literacy: a score of at least " (cut) " % of the maximum; a dimension likewise at "
                    (cut) " % of its maximum. "
                } @else {
                    "具备职业健康素养：总分达到满分的 " (cut) "% 及以上；维度素养同理按该维度满分的 "
                    (cut) "% 判定。"
                }
            }
            @if lang == "en" {
                "The literacy level is the share with literacy. Cells with n below " (min_n)
                " are marked * (read with care). Formulas: docs/statistics.md."
            } @else {
                "素养水平为具备素养者所占比例。样本量小于 " (min_n) " 的格子标 *，结果仅供参考。公式见 docs/statistics.md。"
            }
        }
    }
}

/// The page's own query (language, questionnaire, filter) for the DOCX link: the document
/// covers what the page shows.
fn docx_query(q: &ViewQuery) -> Vec<(&'static str, String)> {
    let mut pairs: Vec<(&'static str, String)> = Vec::new();
    if let Some(lang) = &q.lang {
        pairs.push(("lang", lang.clone()));
    }
    if let Some(id) = &q.q {
        pairs.push(("q", id.clone()));
    }
    for by in analysis::By::ALL {
        if let Some(v) = q.filter.wanted(by).filter(|v| !v.is_empty()) {
            pairs.push((by.as_str(), v.to_string()));
        }
    }
    if let Some(round) = q.filter.round() {
        pairs.push(("round", round.to_string()));
    }
    pairs
}
