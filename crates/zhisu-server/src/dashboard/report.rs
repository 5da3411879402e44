//! The printable district report.

use axum::extract::{Query, State};
use axum::response::{Html, Response};
use chrono::Utc;
use maud::{html, Markup};
use zhisu_server_service::analysis::{self, By, Estimate, ItemShare, LiteracyReport, Progress};
use zhisu_server_service::storage::{QcEntry, QcStatus};
use zhisu_server_service::t;

use super::html::{bars, breakdown_section, count_in_words, estimate_table, page, pct, Heading};
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
    let (report, items, progress, queue) = run(move || {
        let report = ask.literacy()?;
        let items = ask.weakest_items()?;
        let progress = analysis::progress(ask.storage.as_ref(), &ask.scope)?;
        let queue = ask.storage.qc_queue(&ask.scope, None, 100_000)?;
        Ok((report, items, progress, queue))
    })
    .await?;
    let place = filter
        .district
        .unwrap_or_else(|| t(lang, "全市", "the whole city").to_string());
    let today = Utc::now()
        .with_timezone(&state.utc_offset)
        .format("%Y-%m-%d");
    let rules = Rules::of(&state, q.questionnaire());
    let body = html! {
        h1 #report-title { (place) " " (t(lang, "职业健康素养监测报告", "occupational health literacy monitoring report")) }
        p.note {
            (t(lang, "生成日期", "Generated")) " " (today) " · "
            button.no-print #print type="button" { (t(lang, "打印 / 保存为 PDF", "Print / save as PDF")) }
        }
        (findings(&report, &rules, lang))
        (weakest(&items, lang))
        (sample(&progress, &queue, lang))
        (method(&report, &rules, lang))
    };
    let title = t(lang, "区县报告", "District report");
    Ok(page(Some(&session), lang, "report", title, body))
}

/// Part 1: the overall level, the highest and lowest dimension, and the breakdowns by
/// population and industry.
fn findings(report: &LiteracyReport, rules: &Rules, lang: &str) -> Markup {
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
                (highest_and_lowest(&report.dimensions, rules, lang))
                (estimate_table("report-dimensions", t(lang, "维度", "Dimension"), &report.dimensions, lang))
                (bars("report-chart-dimensions", t(lang, "维度", "Dimensions"), &report.dimensions, lang))
                @for breakdown in by_population_and_industry {
                    (breakdown_section(Heading::Subsection, "report-", breakdown, lang))
                }
            },
        }
    }
}

fn highest_and_lowest(dimensions: &[Estimate], rules: &Rules, lang: &str) -> Markup {
    let by_level = |a: &&Estimate, b: &&Estimate| a.proportion.total_cmp(&b.proportion);
    let (Some(low), Some(high)) = (
        dimensions.iter().min_by(by_level),
        dimensions.iter().max_by(by_level),
    ) else {
        return html! {};
    };
    let count = count_in_words(rules.dimensions, lang);
    html! {
        p {
            @if lang == "en" { "Highest dimension: " } @else { (count) "个维度中最高的是" }
            (high.label) "（" (pct(high.proportion)) "），"
            (t(lang, "最低的是", "lowest: ")) (low.label) "（" (pct(low.proportion)) "）。"
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
fn sample(progress: &Progress, queue: &[QcEntry], lang: &str) -> Markup {
    let rejected = queue
        .iter()
        .filter(|e| e.status == QcStatus::Rejected)
        .count();
    let flagged = queue
        .iter()
        .filter(|e| !e.flags.is_empty() || e.same_fingerprint > 0)
        .count();
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
