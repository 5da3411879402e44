//! Literacy levels with their intervals, what else the survey measures (modules, indicators,
//! health), and the weakest items.

use axum::extract::{Query, State};
use axum::response::{Html, Response};
use maud::{html, Markup};
use zhisu_server_service::analysis::{Estimate, ItemShare, Labels, LiteracyReport};
use zhisu_server_service::estimates::EstimateTable;
use zhisu_server_service::t;

use super::html::{
    bars, bars_with, breakdown_section, count_in_words, estimate_table, filter_form, filter_pairs,
    link, pct, questionnaire_page, scroll_box, ChartReference, Heading, QuestionnaireChoice,
};
use super::*;
use crate::HttpState;

pub(super) async fn literacy_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
) -> Result<Html<String>, Response> {
    let lang = q.lang();
    let ask = Ask::new(&state, &session.person, &q);
    let (report, levels) = run(move || {
        let levels = ask.storage.reference_levels(Some(&ask.questionnaire))?;
        Ok((ask.literacy()?, levels))
    })
    .await?;
    let (references_round, references) = zhisu_server_service::references::current(&levels);
    let marks = super::references::chart_references(&references, lang);
    let labels = Labels::new(&state.questionnaires, q.questionnaire(), lang);
    let rules = Rules::of(&state, q.questionnaire());
    let filter = q.filter_for(&session.person);
    let choices = filter_choices(&state, &session.person, lang).await?;
    let choice = QuestionnaireChoice::of(&state.questionnaires, q.questionnaire(), lang);
    let body = html! {
        h1 { (t(lang, "职业健康素养水平", "Occupational health literacy levels")) }
        (filter_form("literacy", &q, &session.person, &labels, &choices, lang))
        (method(&report, lang))
        @match &report.overall {
            None => p #no-data {
                (t(lang, "当前筛选条件下还没有调查数据。", "No interviews match this selection yet."))
            },
            Some(overall) => {
                (overall_level(overall, lang))
                (super::references::reference_list(references_round.as_deref(), &references, &labels, &q, lang))
                @if marks.iter().any(|m| m.key.is_empty()) {
                    (bars_with("chart-overall", t(lang, "总体素养水平与参考水平", "Overall literacy and its reference levels"),
                        std::slice::from_ref(overall), &marks, lang))
                }
                (dimensions(&report, &rules, &marks, lang))
                @for breakdown in report.breakdowns.iter().filter(|b| !b.rows.is_empty()) {
                    (breakdown_section(Heading::Section, "", breakdown, lang))
                }
            },
        }
        (export_links(&filter_pairs(&choice, &filter, lang), lang))
    };
    let title = t(lang, "素养水平", "Literacy");
    Ok(questionnaire_page(
        &session, lang, "literacy", &choice, title, body,
    ))
}

/// What else the survey measures: each population module's literacy among those asked it,
/// literacy by employer size and ownership, the indicators and the health items, with the
/// literacy page's method (read from every interview of the selection, so a page of its own:
/// the literacy page stays as quick as its cells).
pub(super) async fn measures_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
) -> Result<Html<String>, Response> {
    let lang = q.lang();
    let ask = Ask::new(&state, &session.person, &q);
    let role = session.person.role.clone();
    let (report, measured) = run(move || {
        let report = ask.literacy()?;
        let measured = ask.measured(&role, report.method)?;
        Ok((report, measured))
    })
    .await?;
    let labels = Labels::new(&state.questionnaires, q.questionnaire(), lang);
    let filter = q.filter_for(&session.person);
    let choices = filter_choices(&state, &session.person, lang).await?;
    let choice = QuestionnaireChoice::of(&state.questionnaires, q.questionnaire(), lang);
    let body = html! {
        h1 { (t(lang, "专项模块和其他指标", "Population modules and other measures")) }
        p.note {
            (t(lang, "专项模块的素养水平只统计答过该模块的受访者；指标和健康状况是回答者中给出所计答案（括号内）的比例。",
                "A module's literacy level counts those asked the module; an indicator or health item is the share, among those who answered it, giving the answer named in brackets."))
        }
        (filter_form("measures", &q, &session.person, &labels, &choices, lang))
        (method(&report, lang))
        @if measured.iter().all(|t| t.rows.is_empty()) {
            p #no-data {
                (t(lang, "当前筛选条件下还没有调查数据。", "No interviews match this selection yet."))
            }
        }
        @for table in measured.iter().filter(|t| !t.rows.is_empty()) {
            (measured_section(table, lang))
        }
        (export_links(&filter_pairs(&choice, &filter, lang), lang))
    };
    let title = t(lang, "专项与指标", "Modules and measures");
    Ok(questionnaire_page(
        &session, lang, "measures", &choice, title, body,
    ))
}

/// A table read from the interviews, drawn as the literacy page draws a breakdown.
fn measured_section(table: &EstimateTable, lang: &str) -> Markup {
    let rows: Vec<Estimate> = table.rows.iter().map(Estimate::from).collect();
    html! {
        h2 { (table.title) }
        (estimate_table(&table.id.replace("by_", "by-"), &table.domain, &rows, lang))
        (bars(&format!("chart-{}", table.id), &table.title, &rows, lang))
    }
}

/// How the levels were estimated, and which cells are small.
fn method(report: &LiteracyReport, lang: &str) -> Markup {
    html! {
        p.method #method {
            (t(lang, "估计方法", "Method")) "：" (report.method_note) "。"
            span #unweighted {
                (t(lang, "没有权重的问卷（无调查点，或调查点在抽样方案中没有层和权重）：",
                    "Interviews without a weight (no site, or a site without stratum and weight in the sample plan): "))
                (report.unweighted_interviews) (t(lang, " 份。", ". "))
            }
            (t(lang, "标 * 的格子", "Cells marked * have")) " n < " (report.min_cell_n) " "
            (t(lang, "，样本量小，结果仅供参考", ": small samples, read with care"))
        }
    }
}

fn overall_level(overall: &Estimate, lang: &str) -> Markup {
    html! {
        p #overall style="font-size:22px" {
            (t(lang, "总体素养水平", "Overall literacy level")) "："
            strong.level { (pct(overall.proportion)) }
            "（95% CI " (pct(overall.interval.low)) " – " (pct(overall.interval.high))
            "，n = " span.n { (overall.n) } "）"
        }
    }
}

/// The questionnaire's dimensions: a heading that counts them, a table and a chart.
fn dimensions(
    report: &LiteracyReport,
    rules: &Rules,
    marks: &[ChartReference],
    lang: &str,
) -> Markup {
    let count = count_in_words(rules.dimensions, lang);
    html! {
        h2 {
            @if lang == "en" { "The " (count) " dimensions" } @else { (count) "个维度" }
        }
        (estimate_table("dimensions", t(lang, "维度", "Dimension"), &report.dimensions, lang))
        (bars_with("chart-dimensions", t(lang, "维度", "Dimensions"), &report.dimensions, marks, lang))
    }
}

/// Links to the exports of the same filter, with a progress bar and status line for the
/// script (whose messages it reads from the status line's data attributes).
fn export_links(query: &[(&str, &str)], lang: &str) -> Markup {
    let href = |path: &str| link(path, query.iter().copied());
    html! {
        h2 { (t(lang, "导出数据", "Export")) }
        ul.links.no-print {
            li { a data-export #export-csv href=(href("/dashboard/export.csv")) { "CSV" } }
            li { a data-export #export-xlsx href=(href("/dashboard/export.xlsx")) { "Excel (XLSX)" } }
            li { a data-export #codebook href=(href("/dashboard/codebook.csv")) { (t(lang, "编码本", "Codebook")) } }
        }
        h2 { (t(lang, "导出估计表", "Export the estimate tables")) }
        p.note {
            (t(lang, "本页各表的数据（样本量、素养水平、95% 置信区间、标准误、自由度、设计效应、估计方法），每个表一个工作表，另附方法说明。",
                "Every table of this page as data (n, share, 95 % interval, standard error, df, design effect, method): a sheet per table and a sheet on the method."))
        }
        ul.links.no-print {
            li { a data-export #estimates-csv href=(href("/dashboard/estimates.csv")) { (t(lang, "估计表 CSV", "Estimates CSV")) } }
            li { a data-export #estimates-xlsx href=(href("/dashboard/estimates.xlsx")) { (t(lang, "估计表 Excel (XLSX)", "Estimates Excel (XLSX)")) } }
        }
        p.no-print aria-live="polite" {
            progress #export-progress max="1" value="0" hidden {}
            " "
            span #export-status
                data-preparing=(t(lang, "正在准备导出文件…", "Preparing the export…"))
                data-received=(t(lang, "已下载", "Downloaded"))
                data-done=(t(lang, "完成：", "Done: "))
                data-rows=(t(lang, "份问卷", "interviews"))
                data-failed=(t(lang, "导出失败，请重试：", "The export failed; try again: ")) {}
        }
    }
}

pub(super) async fn items_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
) -> Result<Html<String>, Response> {
    let lang = q.lang();
    let ask = Ask::new(&state, &session.person, &q);
    let items = run(move || ask.weakest_items()).await?;
    let labels = Labels::new(&state.questionnaires, q.questionnaire(), lang);
    let choices = filter_choices(&state, &session.person, lang).await?;
    let choice = QuestionnaireChoice::of(&state.questionnaires, q.questionnaire(), lang);
    let body = html! {
        h1 { (t(lang, "薄弱知识和技能", "Weakest knowledge and skills")) }
        p.note {
            (t(lang, "按答对率从低到高排列；答对率低的题目，就是需要加强宣传教育的知识点。",
                "Items ranked by the share answered correctly, lowest first: the facts and skills to target."))
        }
        (filter_form("items", &q, &session.person, &labels, &choices, lang))
        p {
            a.target #print-handout href=(handout_link(&choice, &q.filter_for(&session.person), lang)) {
                (t(lang, "打印最薄弱知识点的宣传单（A4 一页）", "Print a handout of the weakest points (one A4 page)"))
            }
        }
        (items_table(&items, &labels, lang))
    };
    let title = t(lang, "薄弱知识", "Weakest items");
    Ok(questionnaire_page(
        &session, lang, "items", &choice, title, body,
    ))
}

/// The handout of the six weakest points of this view's questionnaire and filter.
fn handout_link(choice: &QuestionnaireChoice, filter: &Filter, lang: &str) -> String {
    let mut pairs = super::html::filter_pairs(choice, filter, lang);
    pairs.push(("weakest", "6"));
    super::html::link("/dashboard/library/handout", pairs)
}

fn items_table(items: &[ItemShare], labels: &Labels, lang: &str) -> Markup {
    let dimension = |item: &ItemShare| {
        labels
            .dimensions
            .iter()
            .find(|(id, _)| *id == item.dimension)
            .map_or(item.dimension.clone(), |(_, l)| l.clone())
    };
    scroll_box(
        t(lang, "题目答对率", "Items by share correct"),
        html! {
            table #items {
                tr {
                    th { "#" }
                    th { (t(lang, "题目", "Item")) }
                    th { (t(lang, "维度", "Dimension")) }
                    th { (t(lang, "答对率", "Correct")) }
                    th { (t(lang, "95% 置信区间", "95% interval")) }
                    th { (t(lang, "作答人数", "Asked")) }
                }
                @for (i, item) in items.iter().enumerate() {
                    tr data-item=(item.item_id) {
                        td.num { (i + 1) }
                        td { (item.label) @if item.small { " " span.small { "*" } } }
                        td { (dimension(item)) }
                        td.num.share { (pct(item.share)) }
                        td.num { (pct(item.interval.low)) " – " (pct(item.interval.high)) }
                        td.num.asked { (item.asked) }
                    }
                }
            }
        },
    )
}
