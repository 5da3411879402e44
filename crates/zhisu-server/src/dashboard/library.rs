//! The education library (issue 24): `/dashboard/library` lists the pieces (everyone signed in
//! reads them) with what the feedback pages in the viewer's scope offered; city administrators
//! write pieces with a CSRF-protected form (`POST /dashboard/library`: every edit a new version,
//! audited); `/dashboard/library?piece={id}` shows a piece with every version;
//! `/dashboard/library/handout` is a printable one-page A4 handout of the pieces for the
//! weakest knowledge points in the viewer's scope (`weakest=N`, with the filter) or for the
//! pieces chosen (`piece=…`, repeated).

use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;
use zhisu_protocol::library::{LibraryPiece, MAX_PIECE_ALT_CHARS, MAX_PIECE_TITLE_CHARS};
use zhisu_server_service::library::{handout_pieces, MaterialCounts, PieceInput};
use zhisu_server_service::storage::StoredPiece;
use zhisu_server_service::{t, Refusal};

use super::html::{filter_pairs, link, page, questionnaire_page, scroll_box, QuestionnaireChoice};
use super::*;
use crate::HttpState;

/// Most pieces on one handout (a page of A4).
const MAX_HANDOUT_PIECES: usize = 6;

/// Which piece `/dashboard/library` shows.
#[derive(Debug, Default, Deserialize)]
pub(super) struct PieceQuery {
    #[serde(default)]
    piece: Option<String>,
}

/// `/dashboard/library`: every piece, what was offered in the viewer's scope, the handout form
/// and, for city administrators, the form for a new piece; with `piece`, that piece.
pub(super) async fn library_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
    Query(which): Query<PieceQuery>,
) -> Result<Response, Response> {
    if let Some(id) = which.piece.filter(|p| !p.is_empty()) {
        return piece_page(&state, &session, id, &q).await;
    }
    let (storage, server) = (state.storage.clone(), state.server.clone());
    let scope = session.person.role.scope();
    let (pieces, counts) =
        run(move || Ok((storage.library_outline()?, server.material_counts(&scope)?))).await?;
    Ok(library_view(&state, &session, &q, &pieces, counts, None, None).into_response())
}

fn library_view(
    state: &HttpState,
    session: &crate::extract::Session,
    q: &ViewQuery,
    pieces: &[StoredPiece],
    counts: MaterialCounts,
    problem: Option<String>,
    draft: Option<&PieceInput>,
) -> Html<String> {
    let lang = q.lang();
    let choice = QuestionnaireChoice::of(&state.questionnaires, q.questionnaire(), lang);
    let editor = session.person.role.may_write_library();
    let columns = [
        t(lang, "标题", "Title"),
        t(lang, "知识点（题目编号）", "Knowledge points (item ids)"),
        t(lang, "版本", "Version"),
        t(lang, "来源", "Source"),
        t(lang, "写作人", "Written by"),
    ];
    let body = html! {
        h1 { (t(lang, "健康教育学习材料", "Education library")) }
        p.note {
            (t(lang, "每篇学习材料用通俗的话讲一个或几个知识点（按计分题的题目编号对应）。平板同步时收到最新版本，在问卷完成后的反馈页上，答错的题下面就能离线看到；扫二维码带回家的页面也显示它们。",
                "Each piece explains one or more knowledge points in plain words (matched by the scored items' ids). Tablets receive the newest versions when they sync and show them offline under each wrong answer on the feedback page; the take-home page shows them too."))
        }
        h2 { (t(lang, "学习材料发放情况", "Material offered")) }
        p #material-counts data-interviews=(counts.interviews) data-offered=(counts.offered)
            data-qr=(counts.take_home_qr) data-pieces=(counts.with_pieces) {
            @if lang == "en" {
                "Of " (counts.interviews) " interviews in your scope, the feedback page showed "
                (counts.offered) " respondents their wrong answers with the right ones; "
                (counts.take_home_qr) " were offered the take-home QR code and "
                (counts.with_pieces) " saw library pieces."
            } @else {
                "您权限范围内的 " (counts.interviews) " 份问卷中，反馈页给 " (counts.offered)
                " 名受访者显示了答错的题和正确答案；其中 " (counts.take_home_qr) " 名看到了带回家的二维码，"
                (counts.with_pieces) " 名看到了学习材料。"
            }
        }
        h2 { (t(lang, "打印宣传单", "Print a handout")) }
        form.filters method="get" action="/dashboard/library/handout" target="_blank" {
            @if let Some((k, v)) = choice.pair() { input type="hidden" name=(k) value=(v); }
            @if lang == "en" { input type="hidden" name="lang" value="en"; }
            label for="handout-weakest" { (t(lang, "最薄弱的知识点个数", "Weakest knowledge points"))
                input #handout-weakest name="weakest" inputmode="numeric" value="6"; }
            button.primary type="submit" #print-weakest { (t(lang, "生成宣传单（A4 一页）", "Make the handout (one A4 page)")) }
        }
        p.note { (t(lang, "也可以在下表中勾选学习材料，再生成宣传单。", "Or tick pieces in the table below and make a handout of them.")) }
        @if let Some(problem) = &problem {
            p.error role="alert" #library-problem tabindex="-1" { (problem) }
        }
        h2 { (t(lang, "全部学习材料", "Every piece")) }
        form method="get" action="/dashboard/library/handout" target="_blank" {
            @if lang == "en" { input type="hidden" name="lang" value="en"; }
            (scroll_box(t(lang, "学习材料", "Library pieces"), html! {
                table #library {
                    tr {
                        th { (t(lang, "选", "Pick")) }
                        @for c in columns { th { (c) } }
                    }
                    @for stored in pieces {
                        @let p = &stored.piece;
                        tr data-piece=(p.id) {
                            td { input type="checkbox" name="piece" value=(p.id) id={ "pick-" (p.id) }
                                aria-label=(format!("{}{}", t(lang, "选中：", "Pick: "), p.title)); }
                            td { a.target href=(piece_link(&p.id, lang)) { (p.title) } }
                            td { (p.points.join(", ")) }
                            td.num { (p.version) }
                            td { (p.source) }
                            td { (stored.written_by) }
                        }
                    }
                }
            }))
            button type="submit" #print-chosen { (t(lang, "用勾选的材料生成宣传单", "Make a handout of the ticked pieces")) }
        }
        @if editor {
            h2 { (t(lang, "新写一篇学习材料", "Write a new piece")) }
            (piece_form(draft, (false, false), &session.csrf_token(), lang))
        } @else {
            p.note { (t(lang, "只有市级管理员可以新写和修改学习材料。", "Only a city administrator may write and change library pieces.")) }
        }
    };
    questionnaire_page(
        session,
        lang,
        "library",
        &choice,
        t(lang, "学习材料", "Library"),
        body,
    )
}

/// Where a piece is shown.
fn piece_link(id: &str, lang: &str) -> String {
    let mut pairs = vec![("piece", id)];
    pairs.extend(lang_pair(lang));
    link("/dashboard/library", pairs)
}

fn lang_pair(lang: &str) -> Vec<(&'static str, &'static str)> {
    if lang == "en" {
        vec![("lang", "en")]
    } else {
        Vec::new()
    }
}

/// The form of a piece: a new one (`draft` empty) or a new version of `draft` (`has` says
/// whether its newest version has a picture and a recording, kept unless replaced or removed).
fn piece_form(draft: Option<&PieceInput>, has: (bool, bool), csrf: &str, lang: &str) -> Markup {
    let empty = PieceInput::default();
    let d = draft.unwrap_or(&empty);
    let existing = !d.id.is_empty() && draft.is_some();
    html! {
        form.review #piece-form method="post" action="/dashboard/library" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="lang" value=(lang);
            label for="piece-id" { (t(lang, "编号（小写字母、数字和 _，保存后不能改）", "Id (a-z, 0-9 and _; kept for good)"))
                input #piece-id name="id" required value=(d.id) readonly[existing]; }
            label for="piece-points" { (t(lang, "讲的知识点：计分题的题目编号，用逗号分开", "Knowledge points: the scored items' ids, separated by commas"))
                input #piece-points name="points" required value=(d.points); }
            label for="piece-title" { (t(lang, "标题", "Title"))
                input #piece-title name="title" required maxlength=(MAX_PIECE_TITLE_CHARS) value=(d.title); }
            label for="piece-text" { (t(lang, "正文（用小学文化的工人看得懂的话；空一行分段）", "Text (words a worker with primary schooling understands; a blank line between paragraphs)"))
                textarea #piece-text name="text" required rows="8" { (d.text) } }
            label for="piece-source" { (t(lang, "来源（法律、标准或国家材料的名称）", "Source (the law, standard or national material)"))
                input #piece-source name="source" required value=(d.source); }
            label for="piece-picture" {
                (t(lang, "图片（可不选；PNG、JPEG 或 WebP，300 KB 以内）", "Picture (optional; PNG, JPEG or WebP, at most 300 KB)"))
                @if has.0 { " " (t(lang, "不选新图片就保留原来的。", "Without a new one the present picture is kept.")) }
                input #piece-picture name="picture" type="file" accept="image/png,image/jpeg,image/webp";
            }
            label for="piece-picture-alt" { (t(lang, "图片上画的是什么（给看不见图片的人听）", "What the picture shows (read out to someone who cannot see it)"))
                input #piece-picture-alt name="picture_alt" maxlength=(MAX_PIECE_ALT_CHARS) value=(d.picture_alt); }
            @if has.0 {
                label.check { input #piece-remove-picture type="checkbox" name="remove_picture" value="1"; " " (t(lang, "去掉图片", "Remove the picture")) }
            }
            label for="piece-audio" {
                (t(lang, "朗读录音（可不选；MP3、M4A、Ogg、WebM 或 WAV，1 MB 以内）", "Recording read aloud (optional; MP3, M4A, Ogg, WebM or WAV, at most 1 MB)"))
                @if has.1 { " " (t(lang, "不选新录音就保留原来的。", "Without a new one the present recording is kept.")) }
                input #piece-audio name="audio" type="file" accept="audio/*";
            }
            @if has.1 {
                label.check { input #piece-remove-audio type="checkbox" name="remove_audio" value="1"; " " (t(lang, "去掉录音", "Remove the recording")) }
            }
            button.primary type="submit" #save-piece { (t(lang, "保存为新版本", "Save as a new version")) }
        }
    }
}

/// A piece, every version newest first, and the form for its next version (city
/// administrators).
async fn piece_page(
    state: &HttpState,
    session: &crate::extract::Session,
    id: String,
    q: &ViewQuery,
) -> Result<Response, Response> {
    let lang = q.lang();
    let storage = state.storage.clone();
    let history = run(move || storage.piece_history(&id)).await?;
    let Some(newest) = history.first() else {
        let body = html! { p.error #library-problem { (t(lang, "没有这篇学习材料。", "There is no such piece.")) } };
        return Ok((
            StatusCode::NOT_FOUND,
            page(Some(session), lang, "library", "404", body),
        )
            .into_response());
    };
    let draft = PieceInput {
        id: newest.piece.id.clone(),
        points: newest.piece.points.join(", "),
        title: newest.piece.title.clone(),
        text: newest.piece.text.clone(),
        source: newest.piece.source.clone(),
        picture_alt: newest
            .piece
            .picture
            .as_ref()
            .map(|p| p.alt.clone())
            .unwrap_or_default(),
        ..Default::default()
    };
    let has = (newest.piece.picture.is_some(), newest.piece.audio.is_some());
    let editor = session.person.role.may_write_library();
    let body = html! {
        p { a.target href=(link("/dashboard/library", lang_pair(lang))) { (t(lang, "← 全部学习材料", "← Every piece")) } }
        h1 { (newest.piece.title) }
        @for stored in &history {
            section.piece-version data-version=(stored.piece.version) {
                h2 {
                    (t(lang, "第 ", "Version ")) (stored.piece.version) (t(lang, " 版", ""))
                    " · " (stored.written_by) " · " (stored.written_at.with_timezone(&state.utc_offset).format("%Y-%m-%d %H:%M"))
                }
                (piece_body(&stored.piece, lang))
            }
        }
        @if editor {
            h2 { (t(lang, "修改（保存为新版本，旧版本保留）", "Edit (saved as a new version; the old ones are kept)")) }
            (piece_form(Some(&draft), has, &session.csrf_token(), lang))
        }
    };
    Ok(page(Some(session), lang, "library", &newest.piece.title, body).into_response())
}

/// A piece's points, paragraphs and source.
fn piece_body(piece: &LibraryPiece, lang: &str) -> Markup {
    html! {
        h3 lang="zh-CN" { (piece.title) }
        p.note { (t(lang, "知识点：", "Knowledge points: ")) (piece.points.join(", ")) }
        (piece_media(piece))
        div lang="zh-CN" {
            @for paragraph in piece.paragraphs() { p { (paragraph) } }
        }
        p.note { (t(lang, "来源：", "Source: ")) span lang="zh-CN" { (piece.source) } }
    }
}

/// A piece's picture and recording, carried in the page (`data:` addresses: nothing fetched).
pub(crate) fn piece_media(piece: &LibraryPiece) -> Markup {
    html! {
        @if let Some(picture) = &piece.picture {
            img.piece-picture src=(picture.data_url()) alt=(picture.alt) lang="zh-CN";
        }
        @if let Some(audio) = &piece.audio {
            audio.piece-audio controls preload="none" src=(audio.data_url()) {}
        }
    }
}

/// What the piece form posts.
#[derive(Debug, Deserialize, Default)]
pub(super) struct PieceForm {
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    points: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    picture_alt: String,
    #[serde(default)]
    remove_picture: Option<String>,
    #[serde(default)]
    remove_audio: Option<String>,
}

impl PieceForm {
    /// The piece the form describes, without its files.
    fn input(&self) -> PieceInput {
        PieceInput {
            id: self.id.clone(),
            points: self.points.clone(),
            title: self.title.clone(),
            text: self.text.clone(),
            source: self.source.clone(),
            picture_alt: self.picture_alt.clone(),
            remove_picture: self.remove_picture.is_some(),
            remove_audio: self.remove_audio.is_some(),
            ..Default::default()
        }
    }
}

/// The piece form as posted: `multipart/form-data` (the page's form, with its files) or
/// url-encoded (no files).
async fn read_piece_form(
    state: &HttpState,
    request: axum::extract::Request,
) -> Result<(PieceForm, PieceInput), Response> {
    use axum::extract::{FromRequest, Multipart};
    let multipart = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let Form(form) = Form::<PieceForm>::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let input = form.input();
        return Ok((form, input));
    }
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(IntoResponse::into_response)?;
    let mut form = PieceForm::default();
    let (mut picture, mut audio) = (None, None);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err((e.status(), e.body_text()).into_response()),
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "picture" || name == "audio" {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| (e.status(), e.body_text()).into_response())?;
            // a file input left empty sends an empty part
            let bytes = (!bytes.is_empty()).then(|| bytes.to_vec());
            if name == "picture" {
                picture = bytes;
            } else {
                audio = bytes;
            }
            continue;
        }
        let text = field
            .text()
            .await
            .map_err(|e| (e.status(), e.body_text()).into_response())?;
        match name.as_str() {
            "lang" => form.lang = Some(text),
            "csrf" => form.csrf = text,
            "id" => form.id = text,
            "points" => form.points = text,
            "title" => form.title = text,
            "text" => form.text = text,
            "source" => form.source = text,
            "picture_alt" => form.picture_alt = text,
            "remove_picture" => form.remove_picture = Some(text),
            "remove_audio" => form.remove_audio = Some(text),
            _ => {}
        }
    }
    let mut input = form.input();
    input.picture = picture;
    input.audio = audio;
    Ok((form, input))
}

/// `POST /dashboard/library`: keeps the piece as its next version (a new piece at version 1),
/// then shows it; a form without the session's CSRF token, or from someone who may not write
/// the library, changes nothing.
pub(super) async fn piece_form_post(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    request: axum::extract::Request,
) -> Response {
    let (form, input) = match read_piece_form(&state, request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let lang = language(form.lang.as_deref());
    if !session.csrf_matches(&form.csrf) {
        return super::csrf_refused(lang);
    }
    if !session.person.role.may_write_library() {
        let body = html! {
            p.error role="alert" { (t(lang, "只有市级管理员可以新写和修改学习材料。", "Only a city administrator may write and change library pieces.")) }
        };
        return (
            StatusCode::FORBIDDEN,
            page(Some(&session), lang, "library", "403", body),
        )
            .into_response();
    }
    let (server, person, kept) = (state.server.clone(), session.person.clone(), input.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        server.save_piece(&person.role, &kept, &person.username)
    })
    .await;
    let problem = match outcome {
        Ok(Ok(_version)) => {
            return Redirect::to(&piece_link(input.id.trim(), lang)).into_response();
        }
        Ok(Err(Refusal::Invalid(problem))) => problem,
        Ok(Err(Refusal::NotFound(problem))) | Ok(Err(Refusal::NotNow(problem))) => problem,
        Ok(Err(Refusal::Storage(e))) => return internal(e),
        Err(e) => return internal(e),
    };
    let q = ViewQuery {
        lang: Some(lang.to_string()),
        ..Default::default()
    };
    let (storage, server) = (state.storage.clone(), state.server.clone());
    let scope = session.person.role.scope();
    let (pieces, counts) = match run(move || {
        Ok((storage.library_outline()?, server.material_counts(&scope)?))
    })
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let said = format!("{}{problem}", t(lang, "没有保存：", "Nothing was saved: "));
    (
        StatusCode::BAD_REQUEST,
        library_view(
            &state,
            &session,
            &q,
            &pieces,
            counts,
            Some(said),
            Some(&input),
        ),
    )
        .into_response()
}

/// The handout's page: A4, one page, large print, no navigation.
const HANDOUT_STYLE: &str = "
@page { size: A4; margin: 10mm; }
*{box-sizing:border-box}
body{margin:0 auto;max-width:186mm;color:#000;background:#fff;font:9.5pt/1.4 'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif}
h1{font-size:18pt;margin:0 0 1mm;text-align:center}
.lead{text-align:center;margin:0 0 3mm;font-size:10.5pt}
.pieces{columns:2;column-gap:6mm}
article{break-inside:avoid;border:1.5pt solid #000;border-radius:3mm;padding:2mm 3mm;margin:0 0 3mm}
article h2{font-size:11.5pt;margin:0 0 1mm}
article p{margin:0 0 1mm}
article .source{font-size:8pt;color:#222}
article img{display:block;max-width:100%;max-height:40mm;margin:0 auto 1mm}
footer{border-top:1.5pt solid #000;margin-top:1mm;padding-top:1.5mm;font-size:10pt;text-align:center}
.no-print{margin:4mm 0;text-align:center}
a.back{display:inline-flex;align-items:center;min-height:44px;min-width:44px;color:#0a4f96}
@media print{.no-print{display:none}}
@media screen{body{padding:8mm}}
@media screen and (max-width:600px){.pieces{columns:1}body{font-size:12pt}}
";

/// `/dashboard/library/handout`: the pieces for the `weakest` N knowledge points of the
/// questionnaire `q` in the viewer's scope and filter, or the pieces named by `piece` (repeated),
/// as one printable A4 page.
pub(super) async fn handout(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<ViewQuery>,
    uri: Uri,
) -> Result<Response, Response> {
    let lang = q.lang();
    let mut chosen: Vec<String> = Vec::new();
    let mut weakest: Option<usize> = None;
    for (key, value) in form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "piece"
                if chosen.len() < MAX_HANDOUT_PIECES && !chosen.contains(&value.to_string()) =>
            {
                chosen.push(value.into_owned())
            }
            "weakest" => weakest = value.trim().parse().ok(),
            _ => {}
        }
    }
    let storage = state.storage.clone();
    // chosen from the outline; only the pieces printed are read whole (with their pictures)
    let library: Vec<LibraryPiece> = run(move || storage.library_outline())
        .await?
        .into_iter()
        .map(|s| s.piece)
        .collect();
    let (pieces, heading): (Vec<LibraryPiece>, String) = if chosen.is_empty() {
        let n = weakest.unwrap_or(6).clamp(1, 20);
        let ask = Ask::new(&state, &session.person, &q);
        let items = run(move || ask.weakest_items()).await?;
        let points: Vec<String> = items.iter().take(n).map(|i| i.item_id.clone()).collect();
        let pieces = handout_pieces(&library, &points)
            .into_iter()
            .take(MAX_HANDOUT_PIECES)
            .cloned()
            .collect();
        (
            pieces,
            t(
                lang,
                "这些是本地调查中答错最多的知识，请多看看",
                "What workers here got wrong most often in the survey",
            )
            .to_string(),
        )
    } else {
        let pieces = chosen
            .iter()
            .filter_map(|id| library.iter().find(|p| &p.id == id).cloned())
            .collect();
        (
            pieces,
            t(lang, "职业健康小知识", "Health at work: what to know").to_string(),
        )
    };
    // the chosen pieces whole, with their pictures
    let storage = state.storage.clone();
    let ids: Vec<String> = pieces.iter().map(|p| p.id.clone()).collect();
    let pieces: Vec<LibraryPiece> = run(move || {
        let mut whole = Vec::with_capacity(ids.len());
        for id in &ids {
            if let Some(newest) = storage.piece_history(id)?.into_iter().next() {
                whole.push(newest.piece);
            }
        }
        Ok(whole)
    })
    .await?;
    let choice = QuestionnaireChoice::of(&state.questionnaires, q.questionnaire(), lang);
    let filter = q.filter_for(&session.person);
    let back = link("/dashboard/library", filter_pairs(&choice, &filter, lang));
    let markup = html! {
        (DOCTYPE)
        html lang=(lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (t(lang, "职业健康宣传单", "Occupational health handout")) }
                style { (maud::PreEscaped(HANDOUT_STYLE)) }
            }
            body {
                main {
                    p.no-print {
                        a.back href=(back) { (t(lang, "← 返回学习材料", "← Back to the library")) }
                        " · " (t(lang, "用浏览器的“打印”打印在一张 A4 纸上。", "Print it with the browser's Print on one A4 page."))
                    }
                    h1 { (t(lang, "保护自己，健康工作", "Protect yourself, work healthy")) }
                    p.lead { (heading) }
                    @if pieces.is_empty() {
                        p #no-pieces { (t(lang, "没有可以打印的学习材料：还没有调查数据，或者没有选中材料。", "No piece to print: no survey data yet, or no piece chosen.")) }
                    }
                    div.pieces #handout-pieces {
                        @for piece in &pieces {
                            article data-piece=(piece.id) lang="zh-CN" {
                                h2 { (piece.title) }
                                @if let Some(picture) = &piece.picture {
                                    img src=(picture.data_url()) alt=(picture.alt);
                                }
                                @for paragraph in piece.paragraphs() { p { (paragraph) } }
                                p.source { "来源：" (piece.source) }
                            }
                        }
                    }
                    footer lang="zh-CN" {
                        "有疑问，请联系当地疾病预防控制中心，或拨打卫生健康热线 12320。"
                    }
                }
            }
        }
    };
    Ok(Html(markup.into_string()).into_response())
}
