//! What the respondent sees at the end: the score with a bar per dimension and module, the
//! wrong answers with the right ones (when the round allows), or the polite ending.

use yew::prelude::*;
use zhisu_app_api::LibraryPiece;
use zhisu_core::learn_link::LearnLink;
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

/// What the feedback page offers beside the score, as decided natively at completion.
pub struct Offer<'a> {
    /// The round lets the respondent see the right answers and explanations.
    pub show_answer_key: bool,
    /// The take-home QR code is offered.
    pub take_home_qr: bool,
    /// The library's pieces for the wrong answers.
    pub pieces: &'a [LibraryPiece],
    /// Ask whether a colleague may phone the respondent once (back-checks, issue 15).
    pub ask_recontact: bool,
}

/// The piece that teaches `item_id`: the first, by id, that names it.
pub(crate) fn piece_for<'a>(pieces: &'a [LibraryPiece], item_id: &str) -> Option<&'a LibraryPiece> {
    pieces
        .iter()
        .filter(|p| p.points.iter().any(|point| point == item_id))
        .min_by(|a, b| a.id.cmp(&b.id))
}

/// A library piece under a wrong answer: its title opens it (a link-like disclosure, closed at
/// first so the list stays short), then its paragraphs and its source.
pub(crate) fn piece_view(item_id: &str, piece: &LibraryPiece, l: Lang) -> Html {
    html! {
        <details class="piece" id={format!("piece-{item_id}")} data-piece={piece.id.clone()}>
            <summary>{ l.pick("学一学：", "Learn more: ") }<span lang="zh-CN">{ piece.title.clone() }</span></summary>
            <div lang="zh-CN">
                if let Some(picture) = &piece.picture {
                    <img class="piece-picture" src={picture.url.clone()} alt={picture.alt.clone()} />
                }
                if let Some(audio) = &piece.audio_url {
                    <audio class="piece-audio" controls=true preload="none" src={audio.clone()}
                        aria-label={l.pick("听这段话", "Listen to this piece")}></audio>
                }
                { for piece.text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).map(|p| html! { <p>{ p.to_string() }</p> }) }
                <p class="hint">{ "来源：" }{ piece.source.clone() }</p>
            </div>
        </details>
    }
}

/// The wrong answers with the right ones and why, each with its library piece when the tablet
/// holds one.
fn wrong_answers(
    q: &Questionnaire,
    wrong: &[&ItemResult],
    answers: &Answers,
    pieces: &[LibraryPiece],
    lang: &str,
) -> Html {
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
                            // shown again after sealing, the tablet no longer has the answers
                            if !answers.is_empty() {
                                <div>{ l.pick("您的回答：", "Your answer: ") }{ answer_text(q, lang, item, answers.get(&item.id)) }</div>
                            }
                            <div class="result-good">{ l.pick("正确答案：", "Right answer: ") }{ answer_text(q, lang, item, key.as_ref()) }</div>
                            if let Some(explanation) = &item.explanation {
                                <div class="hint">{ t(q, lang, explanation) }</div>
                            }
                            if let Some(piece) = piece_for(pieces, &item.id) {
                                { piece_view(&item.id, piece, l) }
                            }
                        </li>
                    }
                }) }
            </ul>
        </>
    }
}

/// The address of the take-home page for the items answered wrong: the server this tablet was
/// enrolled with (the address the enrolment QR code gave it, the server's `public_url` when it
/// has one), the link's path, and `lang=en` when the interview was in English. `None` when the
/// tablet is not enrolled or no wrong item is a scored one.
pub fn take_home_url(
    app: &AppContext,
    q: &Questionnaire,
    wrong: &[&ItemResult],
    lang: &str,
) -> Option<String> {
    let identity = app.identity.as_ref().filter(|i| i.enrolled)?;
    let server = identity.server_url.as_deref()?.trim_end_matches('/');
    if server.is_empty() {
        return None;
    }
    let link = LearnLink::for_items(q, wrong.iter().map(|r| r.item_id.as_str()))?;
    let english = if lang.starts_with("en") {
        "&lang=en"
    } else {
        ""
    };
    Some(format!("{server}{}{english}", link.to_path()))
}

/// Modules of quiet zone around the code, as the QR standard asks.
const QUIET_ZONE: usize = 4;

/// `url` as a QR code: inline SVG drawn from the code's modules, dark on white whatever the
/// theme, with its quiet zone; nothing when the text does not fit a QR code.
fn qr_svg(url: &str, label: &str) -> Html {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(url, qrcode::EcLevel::M) else {
        return Html::default();
    };
    let width = code.width();
    let size = width + 2 * QUIET_ZONE;
    let mut path = String::new();
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (x, y) = (i % width + QUIET_ZONE, i / width + QUIET_ZONE);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    html! {
        <svg xmlns="http://www.w3.org/2000/svg" viewBox={format!("0 0 {size} {size}")}
            width="240" height="240" shape-rendering="crispEdges" role="img" aria-label={label.to_string()}>
            <rect width={size.to_string()} height={size.to_string()} fill="#ffffff" />
            <path d={path} fill="#000000" />
        </svg>
    }
}

/// The QR code the worker scans to take the wrong answers home, with what it is for.
pub fn take_home(url: &str, l: Lang) -> Html {
    let words = l.pick(
        "用手机扫一扫，把答错的题和正确答案带回家看。",
        "Scan with your phone to take the questions you got wrong, and their right answers, home.",
    );
    html! {
        <figure class="take-home" id="take-home-qr" data-url={url.to_string()}>
            <div class="take-home-code">{ qr_svg(url, l.pick("二维码", "QR code")) }</div>
            <figcaption>{ words }<br /><small>{ l.pick("链接里没有您的个人信息。", "The link holds nothing about you.") }</small></figcaption>
        </figure>
    }
}

pub fn done_view(
    app: &AppContext,
    q: &Questionnaire,
    report: &ScoreReport,
    answers: &Answers,
    offer: Offer<'_>,
    interview_id: uuid::Uuid,
    lang: &str,
) -> Html {
    let show_answer_key = offer.show_answer_key;
    let l = lang_of(lang);
    let wrong: Vec<&ItemResult> = report.items.iter().filter(|r| !r.correct).collect();
    let reference = zhisu_core::interview_reference(&interview_id.to_string());
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
            if offer.ask_recontact {
                <super::recontact::RecontactCard interview_id={interview_id} language={lang.to_string()} />
            }
            if key_shown {
                { wrong_answers(q, &wrong, answers, offer.pieces, lang) }
                if let Some(url) = take_home_url(app, q, &wrong, lang).filter(|_| offer.take_home_qr) {
                    { take_home(&url, l) }
                }
            }
            if let Some(reference) = reference {
                <p class="hint" id="interview-reference">
                    { l.pick("您这份问卷的编号：", "The number of your answers: ") }
                    <b data-reference={reference.clone()}>{ reference.clone() }</b>
                    { l.pick("。想删掉您的答案，把这个编号告诉区疾控就行。",
                        ". To have your answers deleted, tell the district CDC this number.") }
                </p>
            }
            { home(app, l) }
        </>
    }
}
