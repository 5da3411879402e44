//! What the respondent sees at the end: the score with a bar per dimension and module, the
//! wrong answers with the right ones (when the round allows), or the polite ending.

use yew::prelude::*;
use zhisu_core::{AnswerValue, Answers, Item, ItemResult, Questionnaire, ScoreReport};

use crate::context::{AppContext, Route};
use crate::i18n::{lang_of, t, Lang, Words};

/// A scored true/false item is a statement: right or wrong. Any other is a question: yes or no.
pub fn yes_no(item: &Item, value: bool, lang: Lang) -> &'static str {
    match (item.scoring.is_some(), value) {
        (true, true) => lang.pick("对", "True"),
        (true, false) => lang.pick("错", "False"),
        (false, true) => lang.pick("是", "Yes"),
        (false, false) => lang.pick("否", "No"),
    }
}

/// An answer as the respondent reads it, in `lang` (the interview's language).
pub fn answer_text(
    q: &Questionnaire,
    lang: &str,
    item: &Item,
    value: Option<&AnswerValue>,
) -> String {
    let l = lang_of(lang);
    let choice = |key: &str| {
        item.kind
            .choices()
            .iter()
            .find(|c| c.key == key)
            .map_or(key.to_string(), |c| t(q, lang, &c.label).to_string())
    };
    match value {
        None => l.pick("（未回答）", "(no answer)").to_string(),
        Some(AnswerValue::DontKnow) => l.pick("不知道", "Don't know").to_string(),
        Some(AnswerValue::Bool(b)) => yes_no(item, *b, l).to_string(),
        Some(AnswerValue::Integer(n)) => n.to_string(),
        Some(AnswerValue::Decimal(x)) => x.to_string(),
        Some(AnswerValue::Text(s)) | Some(AnswerValue::Date(s)) => s.clone(),
        Some(AnswerValue::Choice(key)) => choice(key),
        Some(AnswerValue::Choices(keys)) => keys
            .iter()
            .map(|k| choice(k))
            .collect::<Vec<_>>()
            .join("、"),
    }
}

/// "Home", in the respondent's language.
fn home(app: &AppContext, l: Lang) -> Html {
    let home = app.navigate.reform(|_| Route::Home);
    html! {
        <button id="home" class="primary" onclick={home}>{ l.pick("返回首页", "Home") }</button>
    }
}

/// The polite ending for someone the survey is not for. `end` records how the contact ended
/// (refused or not eligible, as the rule decided) and goes home; `back` returns to the last
/// screening question (a mistaken tap).
pub fn ineligible_view(
    q: &Questionnaire,
    lang: &str,
    end: Callback<MouseEvent>,
    back: Callback<MouseEvent>,
    busy: bool,
) -> Html {
    let l = lang_of(lang);
    let message = q.eligibility.as_ref().map_or(
        l.pick(
            "谢谢您！这次调查不需要您再回答了。",
            "Thank you! There are no more questions for you.",
        ),
        |e| t(q, lang, &e.message),
    );
    html! {
        <>
            <h1>{ l.pick("谢谢您！", "Thank you!") }</h1>
            <p id="ineligible">{ message }</p>
            <div class="nav">
                <button id="back" onclick={back} disabled={busy}>{ l.pick("上一题", "Back") }</button>
                <button id="end-contact" class="primary" onclick={end} disabled={busy}>{ l.pick("结束", "Finish") }</button>
            </div>
        </>
    }
}

/// One part's bar: its name, a word with a mark that says whether it is passed (never the
/// colour alone), the bar in an outlined track, and the score.
fn bar(label: &str, score: u32, max: u32, good: bool, l: Lang) -> Html {
    let percent = (score * 100).checked_div(max).unwrap_or(0);
    let (class, verdict) = if good {
        ("good", l.pick("✔ 合格", "✔ Passed"))
    } else {
        ("weak", l.pick("✘ 还要多学", "✘ Keep learning"))
    };
    html! {
        <div class="bar-row">
            <span class="bar-label">{ label }</span>
            <span class={classes!("bar-verdict", class)}>{ verdict }</span>
            <span class="bar-track">
                <span class={classes!("bar-fill", class)} style={format!("width:{percent}%")}></span>
            </span>
            <span class="bar-value">{ format!("{score} / {max}") }</span>
        </div>
    }
}

/// The dimensions and modules as bars: long and green when well known, short and red when not.
fn bars(q: &Questionnaire, report: &ScoreReport, lang: &str) -> Html {
    let l = lang_of(lang);
    html! {
        <div class="bars" id="dimension-bars" role="group" aria-label={l.pick("各方面得分", "Score in each part")}>
            { for report.dimensions.iter().map(|d| {
                let label = q.dimensions.iter().find(|x| x.id == d.dimension)
                    .map_or(d.dimension.as_str(), |x| t(q, lang, &x.label));
                bar(label, d.score, d.max, d.has_literacy, l)
            }) }
            { for report.modules.iter().map(|m| {
                let label = q.section(&m.section).map_or(m.section.as_str(), |s| t(q, lang, &s.title));
                bar(label, m.score, m.max, m.has_literacy, l)
            }) }
        </div>
    }
}

/// The wrong answers with the right ones and why.
fn wrong_answers(q: &Questionnaire, wrong: &[&ItemResult], answers: &Answers, lang: &str) -> Html {
    let l = lang_of(lang);
    html! {
        <>
            <h2>{ l.pick("答错的题", "Wrong answers") }</h2>
            <ul class="review" id="wrong-answers">
                { for wrong.iter().filter_map(|r| q.item(&r.item_id)).map(|item| {
                    let key = item.scoring.as_ref().map(|s| s.key.clone());
                    html! {
                        <li>
                            <div>{ t(q, lang, &item.label) }</div>
                            <div>{ l.pick("您的回答：", "Your answer: ") }{ answer_text(q, lang, item, answers.get(&item.id)) }</div>
                            <div class="result-good">{ l.pick("正确答案：", "Right answer: ") }{ answer_text(q, lang, item, key.as_ref()) }</div>
                            if let Some(explanation) = &item.explanation {
                                <div class="hint">{ t(q, lang, explanation) }</div>
                            }
                        </li>
                    }
                }) }
            </ul>
        </>
    }
}

pub fn done_view(
    app: &AppContext,
    q: &Questionnaire,
    report: &ScoreReport,
    answers: &Answers,
    show_answer_key: bool,
    lang: &str,
) -> Html {
    let l = lang_of(lang);
    let wrong: Vec<&ItemResult> = report.items.iter().filter(|r| !r.correct).collect();
    // a round can keep the answer key from respondents (e.g. while colleagues wait to be
    // interviewed at the same site)
    let key_shown = show_answer_key && !wrong.is_empty();
    html! {
        <>
            <h1>{ l.pick("访谈完成，谢谢您！", "All done. Thank you!") }</h1>
            <p id="score">{ format!("{}{} / {}", l.pick("得分：", "Score: "), report.score, report.max) }</p>
            if report.has_literacy {
                <p class="result-good" id="literacy">{ l.pick("您具备职业健康素养，请继续保持！", "You have occupational health literacy. Keep it up!") }</p>
            } else if key_shown {
                <p class="result-bad" id="literacy">{ l.pick("您还没有达到职业健康素养的要求。看看下面的正确答案吧。", "You do not have occupational health literacy yet. Look at the right answers below.") }</p>
            } else {
                <p class="result-bad" id="literacy">{ l.pick("您还没有达到职业健康素养的要求。", "You do not have occupational health literacy yet.") }</p>
            }
            { bars(q, report, lang) }
            if key_shown {
                { wrong_answers(q, &wrong, answers, lang) }
            }
            { home(app, l) }
        </>
    }
}
