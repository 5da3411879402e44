//! The printable sheet of enrolment codes (`/dashboard/enrolment-sheet`): a city or district
//! administrator asks for codes for a district's tablets and prints one page with a QR code per
//! tablet; each QR code holds the enrolment URI (this server's address and the code,
//! docs/sync-protocol.md), so each tablet is set up by one scan. Codes are made only by the
//! CSRF-protected form (`POST`), each with its audit entry.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use maud::{html, PreEscaped};
use serde::Deserialize;
use zhisu_server_service::districts::district_name;
use zhisu_server_service::t;

use super::html::page;
use super::*;
use crate::HttpState;

/// Most codes on one sheet.
pub const MAX_CODES: u32 = 60;

/// What the form posts.
#[derive(Debug, Deserialize, Default)]
pub(super) struct SheetForm {
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    round: String,
    #[serde(default)]
    district: String,
    #[serde(default)]
    count: String,
    #[serde(default)]
    valid_days: String,
}

fn refused(session: &crate::extract::Session, lang: &str) -> Response {
    let body = html! {
        p.error role="alert" { (t(lang, "只有市级和区县管理员可以为平板生成登记码。", "Only city and district administrators may make enrolment codes for tablets.")) }
    };
    (
        StatusCode::FORBIDDEN,
        page(Some(session), lang, "enrolment-sheet", "403", body),
    )
        .into_response()
}

/// `GET /dashboard/enrolment-sheet`: the form (city and district administrators).
pub(super) async fn sheet_page(Viewer(session): Viewer, Query(q): Query<LangOnly>) -> Response {
    let lang = language(q.lang.as_deref());
    form_view(&session, lang, None, StatusCode::OK)
}

fn form_view(
    session: &crate::extract::Session,
    lang: &str,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    use zhisu_server_service::people::Role;
    let district = match &session.person.role {
        Role::CityAdmin => None,
        Role::DistrictAdmin { district } => Some(district.clone()),
        _ => return refused(session, lang),
    };
    let year = chrono::Utc::now().format("%Y").to_string();
    let body = html! {
        h1 { (t(lang, "打印平板登记码", "Print enrolment codes for tablets")) }
        p.hint { (t(lang, "每台平板一个二维码。用平板扫一下，服务器地址和登记码就都填好了。每个码只能用一次。",
            "One QR code per tablet. Scanning it fills in the server address and the code. Each code works once.")) }
        @if let Some(problem) = problem {
            p.error role="alert" id="sheet-problem" { (problem) }
        }
        form method="post" action="/dashboard/enrolment-sheet" {
            input type="hidden" name="csrf" value=(session.csrf_token());
            input type="hidden" name="lang" value=(lang);
            label { (t(lang, "监测轮次", "Round")) " " input name="round" value=(year) required; }
            label { (t(lang, "区县（代码）", "District (id)")) " "
                @match &district {
                    Some(d) => { input name="district" value=(d) readonly; }
                    None => { input name="district" required; }
                }
            }
            label { (t(lang, "平板数量", "Tablets")) " " input name="count" type="number" min="1" max=(MAX_CODES) value="10" required; }
            label { (t(lang, "有效天数", "Days valid")) " " input name="valid_days" type="number" min="1" max="90" value="7" required; }
            button type="submit" id="make-sheet" { (t(lang, "生成并打印", "Make and print")) }
        }
    };
    (
        status,
        page(
            Some(session),
            lang,
            "enrolment-sheet",
            t(lang, "登记码", "Enrolment codes"),
            body,
        ),
    )
        .into_response()
}

/// `POST /dashboard/enrolment-sheet`: makes the codes and answers the printable sheet.
pub(super) async fn sheet_form(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    headers: HeaderMap,
    Form(form): Form<SheetForm>,
) -> Response {
    let lang = language(form.lang.as_deref());
    if !session.csrf_matches(&form.csrf) {
        return super::csrf_refused(lang);
    }
    let (round, district) = (
        form.round.trim().to_string(),
        form.district.trim().to_string(),
    );
    if !session.person.role.manages(&district) {
        return refused(&session, lang);
    }
    let count = form.count.trim().parse::<u32>().ok();
    let valid_days = form.valid_days.trim().parse::<i64>().ok();
    let (Some(count), Some(valid_days)) = (
        count.filter(|n| (1..=MAX_CODES).contains(n)),
        valid_days.filter(|d| (1..=90).contains(d)),
    ) else {
        let problem = if lang == "en" {
            format!("Tablets: 1 to {MAX_CODES}; days valid: 1 to 90. No code was made.")
        } else {
            format!(
                "平板数量要在 1 到 {MAX_CODES} 之间，有效天数要在 1 到 90 之间。没有生成登记码。"
            )
        };
        return form_view(&session, lang, Some(&problem), StatusCode::BAD_REQUEST);
    };
    if round.is_empty() || district.is_empty() {
        let problem = t(
            lang,
            "请填写轮次和区县。没有生成登记码。",
            "Fill in the round and the district. No code was made.",
        );
        return form_view(&session, lang, Some(problem), StatusCode::BAD_REQUEST);
    }
    if let Some(problem) = state.round_key_missing(&round, lang) {
        return form_view(&session, lang, Some(&problem), StatusCode::CONFLICT);
    }
    let server = state.server.clone();
    let actor = session.person.username.clone();
    let (r, d) = (round.clone(), district.clone());
    let codes = match run(move || {
        (0..count)
            .map(|_| {
                server.create_enrolment_code(&r, &d, chrono::Duration::days(valid_days), &actor)
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    {
        Ok(codes) => codes,
        Err(response) => return response,
    };
    let address = state.server_address(&headers);
    let until = (chrono::Utc::now() + chrono::Duration::days(valid_days))
        .with_timezone(&state.utc_offset)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let place = district_name(&district, lang);
    let mut cards = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let uri = state.enrol_uri(&headers, code);
        let svg = match crate::api::enrolment::qr_svg(&uri) {
            Ok(svg) => svg,
            Err(e) => return internal(e),
        };
        cards.push(html! {
            figure.enrol-card data-enrol-uri=(uri) {
                // the SVG is ours (the QR renderer's), not text from anyone; one name per code
                div.qr role="img" aria-label={
                    (t(lang, "平板 ", "QR code of tablet ")) (i + 1) (t(lang, " 的登记二维码：", ": ")) (code)
                } {
                    (PreEscaped(svg))
                }
                figcaption {
                    strong { (format!("{} {}", t(lang, "平板", "Tablet"), i + 1)) } br;
                    span.code { (code) } br;
                    (place) " · " (round) br;
                    small { (address) } br;
                    small { (t(lang, "有效至 ", "Valid until ")) (until) }
                }
            }
        });
    }
    let body = html! {
        style { (PreEscaped(".enrol-sheet{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:12px}\
            .enrol-card{break-inside:avoid;border:1px dashed #888;padding:8px;margin:0;text-align:center}\
            .enrol-card svg{width:100%;max-width:220px;height:auto}\
            .enrol-card .code{font-family:monospace;font-size:1.2em;letter-spacing:.08em}\
            @media print{nav,header,.no-print{display:none}.enrol-sheet{grid-template-columns:repeat(3,1fr)}}")) }
        h1 { (t(lang, "平板登记码", "Enrolment codes")) " · " (place) " · " (round) }
        p.hint.no-print { (t(lang, "请现在打印这一页（浏览器菜单里的“打印”，或按 Ctrl+P）：登记码只显示这一次。每台平板扫一个码。",
            "Print this page now (the browser's Print, or Ctrl+P): the codes are shown only this once. Scan one code per tablet.")) }
        div.enrol-sheet id="enrol-sheet" { @for card in &cards { (card) } }
    };
    Html(
        page(
            Some(&session),
            lang,
            "enrolment-sheet",
            t(lang, "登记码", "Enrolment codes"),
            body,
        )
        .0,
    )
    .into_response()
}
