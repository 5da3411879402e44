//! The take-home page (issue 24, "material that goes home"): `GET /learn/{id}/{version}?k=…`,
//! what the QR code at the end of an interview opens on the worker's own phone. For each
//! knowledge point the link names (`zhisu_core::learn_link`): the question, the right answer
//! and its explanation, in plain Chinese (English with `lang=en`), big text, one column that
//! fits a phone, no script.
//!
//! Under each point, the education library's piece that teaches it (issue 24; once per piece),
//! else only the questionnaire's explanation.
//!
//! Public: no sign-in, no cookie set, nothing written; one read of the library's outline (the
//! newest version of each piece without pictures, a few dozen rows) and of the pieces shown, besides the questionnaire versions the server holds
//! in memory; its work is bounded by the link's limits (1024 characters, 384 points). The link names
//! knowledge points, not the person; the page shows what any holder of the questionnaire file
//! can read (the answer key and explanations of a version the server holds;
//! `docs/privacy.md`). The security headers are the server's, as on every response.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, DOCTYPE};
use zhisu_core::learn_link::{LearnLink, LearnLinkError};
use zhisu_core::{AnswerValue, Item, ItemKind, Questionnaire};
use zhisu_protocol::library::{pieces_for, LibraryPiece};
use zhisu_server_service::t;

use crate::extract::PeerAddress;
use crate::HttpState;

pub fn routes() -> Router<HttpState> {
    Router::new().route("/learn/{id}/{version}", get(learn_page))
}

/// Large text in one column as wide as the phone, dark on white, nothing loaded from elsewhere.
const STYLE: &str = "
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:#fff;color:#111;font:1.25rem/1.7 system-ui,-apple-system,'PingFang SC','Noto Sans CJK SC','Microsoft YaHei',sans-serif;overflow-wrap:anywhere}
main,footer{max-width:40rem;margin:0 auto;padding:1rem}
.notice{background:#eef5ff;border-left:.35rem solid #1a56b0;padding:.75rem 1rem;margin:0 0 1rem}
h1{font-size:1.6rem;line-height:1.35;margin:.5rem 0 1rem}
ol{padding:0;margin:0;list-style:none}
li{border:2px solid #ccc;border-radius:.6rem;padding:1rem;margin:0 0 1rem}
h2{font-size:1.3rem;line-height:1.5;margin:0 0 .75rem}
.answer{margin:0 0 .5rem;color:#0b5e1c}
.answer strong{font-size:1.35rem}
.why{margin:0}
.piece{margin:1rem 0 0;padding:.75rem 1rem;background:#f3f8f1;border-left:.35rem solid #0b5e1c}
.piece h3{font-size:1.2rem;margin:0 0 .5rem}
.piece p{margin:0 0 .5rem}
.piece .source{font-size:1rem;color:#333;margin:0}
.piece img{display:block;max-width:100%;height:auto;margin:0 0 .75rem}
.piece audio{display:block;width:100%;min-height:48px;margin:0 0 .75rem}
.listen{margin:0 0 .25rem}
.lang{display:inline-block;padding:.5rem 0;color:#1a56b0}
footer{border-top:2px solid #ccc;color:#333;font-size:1.1rem}
";

/// What the link asks for and what this server holds.
async fn learn_page(
    State(state): State<HttpState>,
    PeerAddress(address): PeerAddress,
    uri: Uri,
) -> Response {
    let lang = language(uri.query());
    // one address reading page after page is slowed down before anything is read
    match state.page_guard.may_read(address, &state.storage).await {
        Ok(true) => {}
        Ok(false) => return too_many(lang),
        Err(error) => return error.into_response(),
    }
    let text = uri
        .path_and_query()
        .map_or_else(|| uri.path(), |p| p.as_str());
    let link = match LearnLink::parse(text) {
        Ok(link) => link,
        Err(error) => return refused(lang, &error),
    };
    let Some(published) = state
        .questionnaires
        .get(&link.questionnaire_id, &link.version)
    else {
        return not_found(lang);
    };
    let q = &published.questionnaire;
    let items = match link.items(q) {
        Ok(items) => items,
        Err(error) => return refused(lang, &error),
    };
    let server = state.server.clone();
    let points: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
    // the page still helps without the library (a database out of reach): explanations only;
    // only the pieces it shows are read whole (with their pictures and recordings)
    let library = match tokio::task::spawn_blocking(move || server.pieces_teaching(&points)).await {
        Ok(Ok(pieces)) => pieces,
        Ok(Err(error)) => {
            tracing::warn!(%error, "take-home page without the library");
            Vec::new()
        }
        Err(error) => {
            tracing::warn!(%error, "take-home page without the library");
            Vec::new()
        }
    };
    Html(points_page(q, &link, &items, &library, lang).into_string()).into_response()
}

/// 429 in plain words, with when to try again: one address opened too many pages at once.
fn too_many(lang: &str) -> Response {
    let body = frame(
        lang,
        t(lang, "请稍等", "Please wait"),
        html! {
            h1 { (t(lang, "打开的人太多了，请等一两秒再打开。", "Too many people opened this page at once. Please wait a second or two and open it again.")) }
        },
    );
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(axum::http::header::RETRY_AFTER, "2")],
        Html(body.into_string()),
    )
        .into_response()
}

/// The page language the query's `lang` asks for: English for `en…`, otherwise Chinese.
fn language(query: Option<&str>) -> &'static str {
    let asked = query
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("lang="));
    match asked {
        Some(l) if l.starts_with("en") => "en",
        _ => "zh-CN",
    }
}

/// The frame every answer of this route shares: the notice, the body, the footer.
fn frame(lang: &str, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                main { (body) }
                footer #cdc {
                    p { (t(lang,
                        "本页来自当地疾病预防控制中心（疾控中心）的职业健康素养调查。想多了解职业健康，或有疑问，请联系当地疾控中心，或拨打卫生健康热线 12320。",
                        "This page comes from the occupational health literacy survey of your local Centre for Disease Control and Prevention (CDC). To learn more about health at work, or with a question, contact your local CDC or call the health hotline 12320.")) }
                }
            }
        }
    }
}

/// The knowledge points: each question, its right answer and why.
fn points_page(
    q: &Questionnaire,
    link: &LearnLink,
    items: &[&Item],
    library: &[LibraryPiece],
    lang: &str,
) -> Markup {
    let pieces = pieces_for(library, items.iter().map(|i| i.id.as_str()));
    let piece_of = |item: &Item| {
        pieces
            .iter()
            .find(|(point, _)| *point == item.id)
            .map(|(_, piece)| *piece)
    };
    let (other, other_name) = if lang == "en" {
        (link.to_path(), "中文")
    } else {
        (format!("{}&lang=en", link.to_path()), "English")
    };
    let title = t(
        lang,
        "答错的题和正确答案",
        "What you got wrong, and the right answers",
    );
    html! {
        (frame(lang, title, html! {
            p.notice #notice { (t(lang,
                "这是您在职业健康素养调查里答错的题目和正确答案。不含您的个人信息。",
                "These are the questions you got wrong in the occupational health literacy survey, with the right answers. Nothing here is about you personally.")) }
            a.lang href=(other) lang=(if lang == "en" { "zh-CN" } else { "en" }) { (other_name) }
            h1 { (title) }
            p { (q.title.get(lang, &q.default_language)) }
            ol #points {
                @for item in items {
                    li data-item=(item.id) {
                        h2 { (item.label.get(lang, &q.default_language)) }
                        @if let Some(key) = item.scoring.as_ref().map(|s| &s.key) {
                            p.answer { (t(lang, "正确答案：", "Right answer: ")) strong { (answer_text(q, item, key, lang)) } }
                        }
                        @if let Some(explanation) = &item.explanation {
                            p.why { (explanation.get(lang, &q.default_language)) }
                        }
                        @if let Some(piece) = piece_of(item) {
                            (piece_view(piece, lang))
                        }
                    }
                }
            }
        }))
    }
}

/// A library piece: its title, its paragraphs and its source (written in Chinese).
fn piece_view(piece: &LibraryPiece, lang: &str) -> Markup {
    html! {
        section.piece data-piece=(piece.id) {
            h3 { (t(lang, "学一学：", "Learn more (in Chinese): ")) span lang="zh-CN" { (piece.title) } }
            // carried in the page (`data:`): nothing else is fetched
            @if let Some(picture) = &piece.picture {
                img src=(picture.data_url()) alt=(picture.alt) lang="zh-CN";
            }
            @if let Some(audio) = &piece.audio {
                p.listen { (t(lang, "听一听：", "Listen: ")) }
                audio controls preload="none" src=(audio.data_url()) aria-label=(t(lang, "听这段话", "Listen to this piece")) {}
            }
            div lang="zh-CN" {
                @for paragraph in piece.paragraphs() {
                    p { (paragraph) }
                }
                p.source { "来源：" (piece.source) }
            }
        }
    }
}

/// The right answer as the respondent reads it: a scored true/false item is a statement,
/// right or wrong; a choice by its label.
fn answer_text(q: &Questionnaire, item: &Item, key: &AnswerValue, lang: &str) -> String {
    let choice = |k: &str| {
        item.kind.choices().iter().find(|c| c.key == k).map_or_else(
            || k.to_string(),
            |c| c.label.get(lang, &q.default_language).to_string(),
        )
    };
    match key {
        AnswerValue::Bool(b) if matches!(item.kind, ItemKind::TrueFalse) => (if *b {
            t(lang, "对", "True")
        } else {
            t(lang, "错", "False")
        })
        .to_string(),
        AnswerValue::Bool(b) => (if *b {
            t(lang, "是", "Yes")
        } else {
            t(lang, "否", "No")
        })
        .to_string(),
        AnswerValue::Choice(k) => choice(k),
        AnswerValue::Choices(keys) => keys
            .iter()
            .map(|k| choice(k))
            .collect::<Vec<_>>()
            .join(t(lang, "、", "; ")),
        AnswerValue::Integer(n) => n.to_string(),
        AnswerValue::Decimal(x) => x.to_string(),
        AnswerValue::Text(s) | AnswerValue::Date(s) => s.clone(),
        AnswerValue::DontKnow => t(lang, "不知道", "Don't know").to_string(),
    }
}

/// `400`: a link that is cut short, altered or names more than a version holds.
fn refused(lang: &str, error: &LearnLinkError) -> Response {
    tracing::debug!(%error, "take-home link refused");
    let title = t(lang, "链接打不开", "This link cannot be opened");
    let body = html! {
        h1 { (title) }
        p #problem { (t(lang,
            "这个链接不完整或者有错。请用手机重新扫一下平板上的二维码，或者问问调查员。",
            "This link is incomplete or has a mistake in it. Scan the code on the tablet again with your phone, or ask the surveyor.")) }
    };
    (
        StatusCode::BAD_REQUEST,
        Html(frame(lang, title, body).into_string()),
    )
        .into_response()
}

/// `404`: a questionnaire version this server does not hold.
fn not_found(lang: &str) -> Response {
    let title = t(lang, "找不到这份问卷", "Questionnaire not found");
    let body = html! {
        h1 { (title) }
        p #problem { (t(lang,
            "这个链接说的问卷不在这台服务器上。请问问调查员，或者联系当地疾控中心。",
            "The questionnaire this link names is not on this server. Ask the surveyor, or contact your local CDC.")) }
    };
    (
        StatusCode::NOT_FOUND,
        Html(frame(lang, title, body).into_string()),
    )
        .into_response()
}
