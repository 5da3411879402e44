//! Item analysis for questionnaire authors: which items are too easy, too hard, do not tell those
//! who know from those who do not, or offer wrong answers nobody picks; and how consistently each
//! dimension's items measure one thing. Figures from `zhisu_server_service::item_analysis`.

use axum::extract::{Query, State};
use axum::response::{Html, Response};
use maud::{html, Markup};
use zhisu_server_service::analysis::Labels;
use zhisu_server_service::item_analysis::{
    item_analysis_of_store, ItemAnalysisReport, ITEM_ANALYSIS_PAGE,
};
use zhisu_server_service::t;
use zhisu_stats::{item_thresholds, ItemFlag};

use super::html::{filter_form, pct, questionnaire_page, scroll_box, QuestionnaireChoice};
use super::*;
use crate::HttpState;

pub(super) async fn item_analysis_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
) -> Result<Html<String>, Response> {
    let lang = q.lang().to_string();
    let scope = session.person.role.scope();
    let storage = state.storage.clone();
    let registry = state.questionnaires.clone();
    let (filter, qid, l) = (
        q.filter_for(&session.person),
        q.questionnaire().to_string(),
        lang.clone(),
    );
    // read a page of interviews at a time: memory flat however many the scope holds
    let report = run(move || {
        item_analysis_of_store(
            storage.as_ref(),
            &scope,
            &registry,
            &qid,
            &filter,
            &l,
            ITEM_ANALYSIS_PAGE,
        )
    })
    .await?;
    let lang = lang.as_str();
    let labels = Labels::new(&state.questionnaires, q.questionnaire(), lang);
    let choices = filter_choices(&state, &session.person, lang).await?;
    let choice = QuestionnaireChoice::of(&state.questionnaires, q.questionnaire(), lang);
    let body = html! {
        h1 { (t(lang, "题目分析", "Item analysis")) }
        p.note {
            (t(lang,
                "给出题人看的：每道计分题有多少人答对、能不能区分懂和不懂的人、每个选项有多少人选，以及每个维度的题目是否一致。标出的题目，下一版问卷应当修改。",
                "For questionnaire authors: how many answered each scored item right, whether it tells those who know from those who do not, how many chose each option, and how consistently each dimension's items measure one thing. Flagged items should be revised in the next version."))
        }
        (filter_form("item-analysis", &q, &session.person, &labels, &choices, lang))
        (summary(&report, lang))
        (groups_table(&report, lang))
        (items_table(&report, lang))
        (how_to_read(lang))
    };
    let title = t(lang, "题目分析", "Item analysis");
    Ok(questionnaire_page(
        &session,
        lang,
        "item-analysis",
        &choice,
        title,
        body,
    ))
}

fn summary(report: &ItemAnalysisReport, lang: &str) -> Markup {
    let flagged = report
        .analysis
        .items
        .iter()
        .filter(|i| !i.flags.is_empty())
        .count();
    html! {
        p #summary {
            @match &report.version {
                Some(v) => {
                    (t(lang, "问卷 ", "Questionnaire ")) (report.questionnaire_id) " " (v) "："
                    (t(lang, "分析了 ", "")) strong.respondents { (report.analysis.respondents) }
                    (t(lang, " 份问卷，", " interviews analysed, "))
                    strong.flagged { (flagged) }
                    (t(lang, " 道题被标出。", " items flagged."))
                }
                None => { (t(lang, "服务器上没有这份问卷。", "The server has no such questionnaire.")) }
            }
        }
    }
}

fn coefficient(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), |x| format!("{x:.2}"))
}

fn groups_table(report: &ItemAnalysisReport, lang: &str) -> Markup {
    scroll_box(
        t(lang, "各维度的一致性", "Consistency per dimension"),
        html! {
            table #alpha {
                caption { (t(lang, "各维度的一致性（克朗巴赫 α，0.7 以上较好）", "Consistency per dimension (Cronbach's alpha; 0.7 or more is good)")) }
                tr {
                    th scope="col" { (t(lang, "维度或模块", "Dimension or module")) }
                    th scope="col" { (t(lang, "题数", "Items")) }
                    th scope="col" { (t(lang, "全部作答人数", "Asked every item")) }
                    th scope="col" { "α" }
                }
                @for (g, (_, label)) in report.analysis.groups.iter().zip(&report.group_labels) {
                    tr data-group=(g.group) {
                        th scope="row" { (label) }
                        td.num { (g.items) }
                        td.num { (g.n) }
                        td.num.alpha { (coefficient(g.alpha)) }
                    }
                }
            }
        },
    )
}

/// The flag's name as the JSON of `zhisu questionnaire analyse` gives it.
fn flag_code(flag: &ItemFlag) -> &'static str {
    match flag {
        ItemFlag::TooEasy => "too_easy",
        ItemFlag::TooHard => "too_hard",
        ItemFlag::NotDiscriminating => "not_discriminating",
        ItemFlag::UnusedDistractors { .. } => "unused_distractors",
    }
}

fn flag_words(flag: &ItemFlag, options: &[(String, String)], lang: &str) -> String {
    match flag {
        ItemFlag::TooEasy => t(lang, "太容易", "too easy").into(),
        ItemFlag::TooHard => t(lang, "太难", "too hard").into(),
        ItemFlag::NotDiscriminating => t(lang, "区分度低", "does not discriminate").into(),
        ItemFlag::UnusedDistractors { options: unused } => {
            let names: Vec<&str> = unused
                .iter()
                .map(|key| {
                    options
                        .iter()
                        .find(|(k, _)| k == key)
                        .map_or(key.as_str(), |(_, l)| l.as_str())
                })
                .collect();
            format!(
                "{}{}",
                t(lang, "几乎没人选：", "wrong options nobody picks: "),
                names.join(t(lang, "、", ", "))
            )
        }
    }
}

fn items_table(report: &ItemAnalysisReport, lang: &str) -> Markup {
    scroll_box(
        t(lang, "各题的分析", "Items"),
        html! {
            table #item-analysis {
                caption { (t(lang, "各题的分析（按问卷顺序）", "Items (in the questionnaire's order)")) }
                tr {
                    th scope="col" { (t(lang, "题目", "Item")) }
                    th scope="col" { (t(lang, "作答人数", "Asked")) }
                    th scope="col" { (t(lang, "答对率", "Right")) }
                    th scope="col" { (t(lang, "区分度", "Discrimination")) }
                    th scope="col" { (t(lang, "删去后的 α", "Alpha if deleted")) }
                    th scope="col" { (t(lang, "各选项的选择比例", "Share choosing each option")) }
                    th scope="col" { (t(lang, "问题", "Flags")) }
                }
                @for (item, (label, options)) in report.analysis.items.iter().zip(&report.item_labels) {
                    tr data-item=(item.id) {
                        th scope="row" { (label) br; span.small { (item.id) } }
                        td.num.asked { (item.n) @if item.small { " " span.small { "*" } } }
                        td.num.difficulty { (item.difficulty.map_or_else(|| "–".into(), pct)) }
                        td.num.discrimination { (coefficient(item.discrimination)) }
                        td.num.alpha-if-deleted { (coefficient(item.alpha_if_deleted)) }
                        td {
                            ul.options {
                                @for ((key, share), (_, text)) in item.options.iter().zip(options) {
                                    li data-option=(key) { (text) "：" span.share { (pct(*share)) } }
                                }
                            }
                        }
                        td.flags {
                            @if item.flags.is_empty() {
                                @if item.small { (t(lang, "人数太少，不作判断", "too few to judge")) }
                            } @else {
                                ul {
                                    @for flag in &item.flags {
                                        li.flag data-flag=(flag_code(flag)) { "⚠ " (flag_words(flag, options, lang)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn how_to_read(lang: &str) -> Markup {
    let min_n = item_thresholds::MIN_N;
    html! {
        h2 { (t(lang, "怎么看", "How to read this")) }
        ul.note {
            li { (t(lang, "答对率：作答的人里答对的比例。超过 95% 算太容易，低于 20% 算太难。",
                "Right: the share of those asked who answered right. Above 95 % is too easy, below 20 % too hard.")) }
            li { (t(lang, "区分度：这道题的得分和其他题总分的相关（校正的点二列相关）。低于 0.20，说明懂的人和不懂的人在这道题上差别不大，题目可能有歧义或答案有问题。",
                "Discrimination: the correlation of the item's score with the score on the other items (corrected point-biserial). Below 0.20 the item barely tells those who know from those who do not: it may be ambiguous or wrongly keyed.")) }
            li { (t(lang, "几乎没人选的错误选项（不到 1%）起不到干扰作用，应换成常见的错误想法。",
                "A wrong option chosen by fewer than 1 % does no work as a distractor: replace it with a common misconception.")) }
            li { (t(lang, "删去后的 α 比本维度的 α 高，说明这道题和同维度的其他题不一致。",
                "An alpha if deleted above the dimension's alpha means the item does not agree with the rest of its dimension.")) }
            li { (t(lang, "作答人数少于 ", "Items asked of fewer than ")) (min_n)
                (t(lang, " 人的题目标 *，不作判断。计算方法见 docs/statistics.md。",
                    " people are marked * and not judged. Formulas: docs/statistics.md.")) }
        }
    }
}
