//! Recordings of questionnaires read aloud (city administrators, who publish questionnaires):
//! every item's question and answers of a version with its recording state, what is missing,
//! a record button (the browser's microphone through MediaRecorder, in `dashboard.js`) and a
//! file upload form that works without script.

use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use maud::html;
use serde::Deserialize;
use zhisu_protocol::{codes, ApiError, RecordingRef};
use zhisu_server_service::recordings::{RecordingError, SlotState};
use zhisu_server_service::t;

use super::html::page;
use super::*;
use crate::HttpState;

/// The header the record button's upload carries this session's CSRF token in.
const CSRF_HEADER: &str = "x-csrf-token";

fn may_manage(session: &Session) -> bool {
    session.person.role.may_manage_questionnaires()
}

fn not_allowed(session: &Session, lang: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        page(
            Some(session),
            lang,
            "recordings",
            "403",
            html! {
                p.error role="alert" {
                    (t(lang, "只有市级管理员可以管理问卷录音。", "Only city administrators manage the questionnaires' recordings."))
                }
            },
        ),
    )
        .into_response()
}

fn lang_suffix(lang: &str) -> &'static str {
    if lang == "en" {
        "?lang=en"
    } else {
        ""
    }
}

/// Every questionnaire version with how many recordings it still lacks.
pub(super) async fn recordings_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<LangOnly>,
) -> Result<Html<String>, Response> {
    let lang = language(q.lang.as_deref());
    if !may_manage(&session) {
        return Err(not_allowed(&session, lang));
    }
    let mut versions = state.questionnaires.refs();
    versions.sort_by(|a, b| {
        a.id.cmp(&b.id)
            .then(zhisu_core::compare_versions(&b.version, &a.version))
    });
    let server = state.server.clone();
    let listed = versions.clone();
    let missing = run(move || {
        listed
            .iter()
            .map(|v| {
                Ok(server
                    .recording_slots(&v.id, &v.version)?
                    .map_or(0, |slots| {
                        slots.iter().filter(|s| s.recording.is_none()).count()
                    }))
            })
            .collect::<Result<Vec<_>, crate::StorageError>>()
    })
    .await?;
    let body = html! {
        h1 { (t(lang, "问卷录音", "Recordings")) }
        p.note {
            (t(lang, "给每道题和每个选项配上录音，不识字的受访者也能听题作答。录音随问卷版本发到平板。",
                "Give every question and every answer a recording, so respondents who cannot read can listen. Recordings reach the tablets with the questionnaire version."))
        }
        div.scroll {
            table #recording-versions {
                tr {
                    th scope="col" { (t(lang, "问卷", "Questionnaire")) }
                    th scope="col" { (t(lang, "版本", "Version")) }
                    th scope="col" { (t(lang, "还缺", "Missing")) }
                }
                @for (v, missing) in versions.iter().zip(&missing) {
                    tr {
                        td {
                            a.target href={ "/dashboard/recordings/" (v.id) "/" (v.version) (lang_suffix(lang)) } { (v.id) }
                        }
                        td { (v.version) }
                        td.num { (missing_words(*missing, lang)) }
                    }
                }
            }
        }
    };
    Ok(page(
        Some(&session),
        lang,
        "recordings",
        t(lang, "问卷录音", "Recordings"),
        body,
    ))
}

fn missing_words(n: usize, lang: &str) -> String {
    match (n, lang) {
        (0, "en") => "none missing".into(),
        (0, _) => "已齐全".into(),
        (n, "en") => format!("{n} missing"),
        (n, _) => format!("还缺 {n} 条录音"),
    }
}

#[derive(Deserialize, Default)]
pub(super) struct VersionQuery {
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// One version: every place, its recording (to listen to) or that it is missing, the record
/// buttons and the upload form.
pub(super) async fn version_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Path((id, version)): Path<(String, String)>,
    Query(q): Query<VersionQuery>,
) -> Result<Html<String>, Response> {
    let lang = language(q.lang.as_deref());
    if !may_manage(&session) {
        return Err(not_allowed(&session, lang));
    }
    let Some(published) = state.questionnaires.get(&id, &version) else {
        return Err((StatusCode::NOT_FOUND, "no such questionnaire version").into_response());
    };
    let server = state.server.clone();
    let (qid, qversion) = (id.clone(), version.clone());
    let slots = run(move || server.recording_slots(&qid, &qversion))
        .await?
        .unwrap_or_default();
    let questionnaire = &published.questionnaire;
    let fallback = questionnaire.default_language.clone();
    let text = |t: &zhisu_core::Text| t.get(lang, &fallback).to_string();
    let place = |s: &SlotState| -> (String, String) {
        let Some(item) = questionnaire.item(&s.slot.item_id) else {
            return (s.slot.item_id.clone(), s.slot.option.clone());
        };
        let question = format!("{} {}", item.id, text(&item.label));
        let answer = match (s.slot.option.as_str(), &item.kind) {
            ("", _) => t(lang, "题目", "The question").to_string(),
            (b, zhisu_core::ItemKind::TrueFalse) => {
                let yes = b == "true";
                match (item.scoring.is_some(), yes) {
                    (true, true) => t(lang, "对", "True"),
                    (true, false) => t(lang, "错", "False"),
                    (false, true) => t(lang, "是", "Yes"),
                    (false, false) => t(lang, "否", "No"),
                }
                .to_string()
            }
            (key, kind) => kind
                .choices()
                .iter()
                .find(|c| c.key == key)
                .map_or(key.to_string(), |c| format!("{key}. {}", text(&c.label))),
        };
        (question, answer)
    };
    let missing: Vec<&SlotState> = slots.iter().filter(|s| s.recording.is_none()).collect();
    let csrf = session.csrf_token();
    let base = format!("/dashboard/recordings/{id}/{version}");
    let suffix = lang_suffix(lang);
    let body = html! {
        h1 { (t(lang, "问卷录音", "Recordings")) " · " (id) " " (version) }
        @if let Some(saved) = &q.saved {
            p #recording-saved role="status" { (t(lang, "已保存录音：", "Recording saved: ")) (saved) }
        }
        @if let Some(error) = &q.error {
            p.error #recording-error role="alert" { (error) }
        }
        p #missing-count {
            @if missing.is_empty() {
                (t(lang, "每道题和每个选项都有录音了。", "Every question and answer has a recording."))
            } @else if lang == "en" {
                (missing.len()) " recordings missing (of " (slots.len()) ")."
            } @else {
                "还缺 " (missing.len()) " 条录音（共 " (slots.len()) " 条）。"
            }
        }
        @if !missing.is_empty() {
            details #missing-list {
                summary { (t(lang, "缺哪些", "Which are missing")) }
                ul {
                    @for s in &missing {
                        @let (question, answer) = place(s);
                        li { (question) " — " (answer) }
                    }
                }
            }
        }
        h2 { (t(lang, "上传录音文件", "Upload a recording file")) }
        form #upload-form method="post" action={ (base) (suffix) } enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(csrf);
            label {
                (t(lang, "录给", "For")) " "
                select name="slot" #upload-slot {
                    @for s in missing.iter().copied().chain(slots.iter().filter(|s| s.recording.is_some())) {
                        @let (question, answer) = place(s);
                        option value={ (s.slot.item_id) "|" (s.slot.option) } {
                            (question) " — " (answer)
                            @if s.recording.is_some() { " (" (t(lang, "已有，替换", "has one; replace")) ")" }
                        }
                    }
                }
            }
            " "
            label {
                (t(lang, "文件（wav、ogg、webm、mp3、m4a，最大 8 MB）", "File (wav, ogg, webm, mp3, m4a; at most 8 MB)")) " "
                input type="file" name="file" accept="audio/*" required;
            }
            " "
            button.primary type="submit" { (t(lang, "上传", "Upload")) }
        }
        h2 { (t(lang, "每道题的录音", "Recordings by question")) }
        p.note #record-help hidden {
            (t(lang, "按“录音”开始用麦克风录，再按一次停止并保存。", "Press “Record” to record with the microphone; press again to stop and save."))
        }
        div.scroll {
            table #recordings data-upload={ (base) "/record" } data-csrf=(csrf)
                data-say-record=(t(lang, "录音", "Record")) data-say-stop=(t(lang, "停止并保存", "Stop and save"))
                data-say-saving=(t(lang, "正在保存…", "Saving…")) data-say-failed=(t(lang, "没有保存：", "Not saved: ")) {
                tr {
                    th scope="col" { (t(lang, "题目", "Question")) }
                    th scope="col" { (t(lang, "题目或选项", "Question or answer")) }
                    th scope="col" { (t(lang, "录音", "Recording")) }
                }
                @for s in &slots {
                    @let (question, answer) = place(s);
                    tr data-item=(s.slot.item_id) data-option=(s.slot.option) {
                        td { (question) }
                        td { (answer) }
                        td {
                            @match &s.recording {
                                Some(r) => {
                                    audio.recording controls preload="none" src={ "/dashboard/media/" (r.sha256) }
                                        aria-label={ (t(lang, "试听：", "Listen: ")) (answer) } {}
                                    " " span.note { (r.kind) ", " (r.size / 1024 + 1) " KB" }
                                }
                                None => span.missing { (t(lang, "缺录音", "Missing")) }
                            }
                            " "
                            button.record type="button" hidden aria-label={ (t(lang, "录音：", "Record: ")) (question) " — " (answer) } {
                                (t(lang, "录音", "Record"))
                            }
                            " " span.record-status role="status" {}
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        Some(&session),
        lang,
        "recordings",
        t(lang, "问卷录音", "Recordings"),
        body,
    ))
}

/// The status and code of a recording refused for what it is; `None` for a storage failure.
fn refusal(e: &RecordingError) -> Option<(StatusCode, &'static str)> {
    Some(match e {
        RecordingError::UnknownQuestionnaire(..) => {
            (StatusCode::NOT_FOUND, codes::UNKNOWN_QUESTIONNAIRE_VERSION)
        }
        RecordingError::UnknownItem { .. } => (StatusCode::BAD_REQUEST, codes::UNKNOWN_ITEM),
        RecordingError::NotAudio => (StatusCode::UNSUPPORTED_MEDIA_TYPE, codes::NOT_AUDIO),
        RecordingError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, codes::RECORDING_TOO_LARGE),
        RecordingError::Storage(_) => return None,
    })
}

fn plain_message(code: &str, lang: &str, detail: &str) -> String {
    match code {
        codes::NOT_AUDIO => t(
            lang,
            "这个文件不是平板能播放的录音（wav、ogg、webm、mp3、m4a）。",
            "The file is not a recording the tablets can play (wav, ogg, webm, mp3, m4a).",
        )
        .into(),
        codes::RECORDING_TOO_LARGE => t(
            lang,
            "录音太大了，最大 8 MB。",
            "The recording is too large; at most 8 MB.",
        )
        .into(),
        codes::UNKNOWN_ITEM => t(
            lang,
            "问卷里没有这道题或这个选项。",
            "The questionnaire has no such question or answer.",
        )
        .into(),
        _ => detail.to_string(),
    }
}

async fn save(
    state: &HttpState,
    session: &Session,
    (id, version, item_id, option): (String, String, String, String),
    bytes: Bytes,
) -> Result<Result<RecordingRef, RecordingError>, Response> {
    let server = state.server.clone();
    let actor = session.person.username.clone();
    tokio::task::spawn_blocking(move || {
        server.save_recording(&id, &version, &item_id, &option, &bytes, &actor)
    })
    .await
    .map_err(internal)
}

/// The upload form (multipart: `csrf`, `slot` as `item|option`, `file`): saved, then back to
/// the page saying so, or what was wrong.
pub(super) async fn upload_form(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Path((id, version)): Path<(String, String)>,
    Query(q): Query<LangOnly>,
    mut multipart: Multipart,
) -> Response {
    let lang = language(q.lang.as_deref());
    if !may_manage(&session) {
        return not_allowed(&session, lang);
    }
    let (mut csrf, mut slot, mut file) = (None, None, None);
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                match name.as_str() {
                    "csrf" => csrf = field.text().await.ok(),
                    "slot" => slot = field.text().await.ok(),
                    "file" => match field.bytes().await {
                        Ok(b) => file = Some(b),
                        Err(e) => return (e.status(), e.body_text()).into_response(),
                    },
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => return (e.status(), e.body_text()).into_response(),
        }
    }
    if !csrf.is_some_and(|c| session.csrf_matches(&c)) {
        return csrf_refused(lang);
    }
    let back = |pair: (&str, &str)| {
        let mut url = format!("/dashboard/recordings/{id}/{version}?{}=", pair.0);
        url.push_str(&utf8_percent(pair.1));
        if lang == "en" {
            url.push_str("&lang=en");
        }
        Redirect::to(&url).into_response()
    };
    let Some((item_id, option)) = slot.as_deref().and_then(|s| s.split_once('|')) else {
        return back((
            "error",
            plain_message(codes::UNKNOWN_ITEM, lang, "").as_str(),
        ));
    };
    let (item_id, option) = (item_id.to_string(), option.to_string());
    let file = file.unwrap_or_default();
    let place = format!("{item_id} {option}");
    match save(
        &state,
        &session,
        (id.clone(), version.clone(), item_id, option),
        file,
    )
    .await
    {
        Ok(Ok(_)) => back(("saved", place.trim())),
        Ok(Err(e)) => match refusal(&e) {
            Some((_, code)) => back(("error", &plain_message(code, lang, &e.to_string()))),
            None => internal(e),
        },
        Err(response) => response,
    }
}

#[derive(Deserialize)]
pub(super) struct RecordQuery {
    item: String,
    #[serde(default)]
    option: String,
}

/// The record button's upload: the recording as the body (as MediaRecorder made it), the
/// CSRF token in `x-csrf-token`. `201` with the recording's reference, or `{code, message}`.
pub(super) async fn record(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Path((id, version)): Path<(String, String)>,
    Query(q): Query<RecordQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let error = |status: StatusCode, code: &str, message: String| {
        (
            status,
            Json(ApiError {
                code: code.into(),
                message,
            }),
        )
            .into_response()
    };
    if !may_manage(&session) {
        return error(
            StatusCode::FORBIDDEN,
            codes::FORBIDDEN,
            "only city administrators manage recordings".into(),
        );
    }
    let token = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !session.csrf_matches(token) {
        return error(
            StatusCode::FORBIDDEN,
            codes::FORBIDDEN,
            "the request did not carry this session's CSRF token; nothing was changed".into(),
        );
    }
    match save(&state, &session, (id, version, q.item, q.option), body).await {
        Ok(Ok(reference)) => (StatusCode::CREATED, Json(reference)).into_response(),
        Ok(Err(e)) => match refusal(&e) {
            Some((status, code)) => error(status, code, e.to_string()),
            None => internal(e),
        },
        Err(response) => response,
    }
}

/// A recording's bytes, to listen to on the page.
pub(super) async fn media(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Path(sha256): Path<String>,
) -> Response {
    if !may_manage(&session) {
        return not_allowed(&session, "zh-CN");
    }
    let server = state.server.clone();
    match run(move || server.media(&sha256)).await {
        Ok(Some((kind, bytes))) => (
            [
                (header::CONTENT_TYPE, kind.mime()),
                (
                    header::CACHE_CONTROL,
                    "private, max-age=31536000, immutable",
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no such recording").into_response(),
        Err(response) => response,
    }
}

/// `s` for a query string: unreserved bytes as they are, every other byte `%XX`.
fn utf8_percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The largest body the upload routes take: a recording at its limit and a form around it.
pub(super) fn upload_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(zhisu_protocol::MAX_RECORDING_BYTES as usize + 1024 * 1024)
}
