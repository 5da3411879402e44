//! App updates for tablets (issue 22, city administrators): the packages uploaded so far and a
//! form to upload one with its release signature (made offline with `zhisu-cli update sign`).
//! The server keeps and serves packages; only tablets verify signatures.

use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use zhisu_protocol::codes;
use zhisu_protocol::update::{MAX_PACKAGE_BYTES, PLATFORMS};
use zhisu_server_service::t;
use zhisu_server_service::updates::{NewPackage, PackageError};

use super::html::{local_minute, page};
use super::*;
use crate::HttpState;

fn may_manage(session: &Session) -> bool {
    session.person.role == zhisu_server_service::people::Role::CityAdmin
}

fn not_allowed(session: &Session, lang: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        page(
            Some(session),
            lang,
            "updates",
            "403",
            html! {
                p.error role="alert" {
                    (t(lang, "只有市级管理员可以上传平板软件的新版本。", "Only city administrators upload new versions of the tablet app."))
                }
            },
        ),
    )
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct UpdatesQuery {
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// The packages uploaded (newest first) and the upload form.
pub(super) async fn updates_page(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<UpdatesQuery>,
) -> Result<Html<String>, Response> {
    let lang = language(q.lang.as_deref());
    if !may_manage(&session) {
        return Err(not_allowed(&session, lang));
    }
    let server = state.server.clone();
    let packages = run(move || server.packages()).await?;
    let offset = state.utc_offset;
    let action = if lang == "en" {
        "/dashboard/updates?lang=en"
    } else {
        "/dashboard/updates"
    };
    let body = html! {
        h1 { (t(lang, "平板软件更新", "Tablet app updates")) }
        p.note {
            (t(lang, "平板同步时会检查这里有没有比自己新的版本，下载后核对发布签名，签名对了、又没有正在进行的访谈时才安装。签名由信息科用发布密钥离线制作，服务器不保存密钥。",
                "When tablets sync they look here for a version newer than their own, download it, check the release signature, and install it only when the signature is good and no interview is open. IT makes the signature offline with the release key; the server holds no key."))
        }
        @if let Some(saved) = &q.saved {
            p #package-saved role="status" { (t(lang, "已上传：", "Uploaded: ")) (saved) }
        }
        @if let Some(error) = &q.error {
            p.error #package-error role="alert" { (error) }
        }
        h2 { (t(lang, "已上传的版本", "Versions uploaded")) }
        @if packages.is_empty() {
            p #no-packages { (t(lang, "还没有上传任何版本。", "No version has been uploaded yet.")) }
        } @else {
            div.scroll {
                table #packages {
                    tr {
                        th scope="col" { (t(lang, "平台", "Platform")) }
                        th scope="col" { (t(lang, "版本", "Version")) }
                        th scope="col" { (t(lang, "大小", "Size")) }
                        th scope="col" { "SHA-256" }
                        th scope="col" { (t(lang, "说明", "Notes")) }
                        th scope="col" { (t(lang, "上传", "Uploaded")) }
                    }
                    @for p in &packages {
                        tr {
                            td { (p.platform) }
                            td { (p.version) }
                            td.num { (format!("{:.1} MB", p.size as f64 / 1_000_000.0)) }
                            td { code { (p.sha256.get(..16).unwrap_or(&p.sha256)) "…" } }
                            td { (if lang == "en" && !p.notes_en.is_empty() { &p.notes_en } else { &p.notes_zh }) }
                            td { (local_minute(p.uploaded_at, offset)) " · " (p.uploaded_by) }
                        }
                    }
                }
            }
        }
        h2 { (t(lang, "上传新版本", "Upload a new version")) }
        form #package-form method="post" action=(action) enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(session.csrf_token());
            p {
                label {
                    (t(lang, "平台", "Platform")) " "
                    select name="platform" #package-platform {
                        @for platform in PLATFORMS {
                            option value=(platform) { (platform) }
                        }
                    }
                }
            }
            p {
                label {
                    (t(lang, "版本号（如 1.4.2）", "Version (such as 1.4.2)")) " "
                    input type="text" name="version" #package-version required pattern="[0-9]+(\\.[0-9]+){0,3}";
                }
            }
            p {
                label {
                    (t(lang, "发布签名（zhisu-cli update sign 打印的一行）", "Release signature (the line zhisu-cli update sign prints)")) " "
                    input type="text" name="signature" #package-signature required size="90";
                }
            }
            p {
                label {
                    (t(lang, "更新说明（中文）", "Notes (Chinese)")) br;
                    textarea name="notes_zh" #package-notes-zh rows="3" cols="60" {}
                }
            }
            p {
                label {
                    (t(lang, "更新说明（英文）", "Notes (English)")) br;
                    textarea name="notes_en" #package-notes-en rows="3" cols="60" {}
                }
            }
            p {
                label {
                    (t(lang, "安装包文件", "Package file")) " "
                    input type="file" name="file" #package-file required;
                }
            }
            button.primary type="submit" { (t(lang, "上传", "Upload")) }
        }
    };
    Ok(page(
        Some(&session),
        lang,
        "updates",
        t(lang, "平板软件更新", "Tablet app updates"),
        body,
    ))
}

/// What the page says about a refused package.
fn plain_message(e: &PackageError, lang: &str) -> String {
    match e {
        PackageError::Invalid(zhisu_protocol::update::UpdateError::BadVersion(v)) => match lang {
            "en" => format!("The version “{v}” is not numbers separated by dots, such as 1.4.2."),
            _ => format!("版本号“{v}”不对，应是用点隔开的数字，如 1.4.2。"),
        },
        PackageError::Invalid(zhisu_protocol::update::UpdateError::BadPlatform(_)) => t(
            lang,
            "请从列表里选平台。",
            "Choose the platform from the list.",
        )
        .into(),
        PackageError::Invalid(_) => t(
            lang,
            "签名不对：应是 zhisu-cli update sign 打印的那一行（64 字节的 base64）。",
            "The signature is not right: give the line zhisu-cli update sign printed (64 bytes of base64).",
        )
        .into(),
        PackageError::Empty => t(lang, "没有选安装包文件，或文件是空的。", "No package file was chosen, or it is empty.").into(),
        PackageError::TooLarge => match lang {
            "en" => format!("The package is too large; at most {} MB.", MAX_PACKAGE_BYTES / 1024 / 1024),
            _ => format!("安装包太大了，最大 {} MB。", MAX_PACKAGE_BYTES / 1024 / 1024),
        },
        PackageError::NotesTooLong => t(lang, "更新说明太长了。", "The notes are too long.").into(),
        PackageError::Duplicate { platform, version } => match lang {
            "en" => format!("{platform} already has version {version}; give the new package a new version."),
            _ => format!("{platform} 已经有 {version} 版了，新安装包要用新的版本号。"),
        },
        PackageError::Storage(_) => String::new(),
    }
}

/// The upload form (multipart: `csrf`, `platform`, `version`, `signature`, `notes_zh`,
/// `notes_en`, `file`): kept, then back to the page saying so, or what was wrong.
pub(super) async fn upload_form(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Query(q): Query<UpdatesQuery>,
    mut multipart: Multipart,
) -> Response {
    let lang = language(q.lang.as_deref());
    if !may_manage(&session) {
        return not_allowed(&session, lang);
    }
    let mut csrf = None;
    let mut new = NewPackage::default();
    let mut file = Vec::new();
    let mut too_large = false;
    loop {
        match multipart.next_field().await {
            Ok(Some(mut field)) => {
                let name = field.name().unwrap_or_default().to_string();
                if name == "file" {
                    // read in chunks, to stop at the limit with a plain message
                    loop {
                        match field.chunk().await {
                            Ok(Some(chunk)) => {
                                if (file.len() + chunk.len()) as u64 > MAX_PACKAGE_BYTES {
                                    too_large = true;
                                } else if !too_large {
                                    file.extend_from_slice(&chunk);
                                }
                            }
                            Ok(None) => break,
                            Err(e) => return (e.status(), e.body_text()).into_response(),
                        }
                    }
                    continue;
                }
                let text = match field.text().await {
                    Ok(text) => text,
                    Err(e) => return (e.status(), e.body_text()).into_response(),
                };
                match name.as_str() {
                    "csrf" => csrf = Some(text),
                    "platform" => new.platform = text,
                    "version" => new.version = text,
                    "signature" => new.signature = text,
                    "notes_zh" => new.notes_zh = text,
                    "notes_en" => new.notes_en = text,
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
    let back = |key: &str, value: &str| {
        let mut url = format!("/dashboard/updates?{key}=");
        url.extend(value.bytes().map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        }));
        if lang == "en" {
            url.push_str("&lang=en");
        }
        Redirect::to(&url).into_response()
    };
    if too_large {
        return back("error", &plain_message(&PackageError::TooLarge, lang));
    }
    let server = state.server.clone();
    let actor = session.person.username.clone();
    let kept =
        tokio::task::spawn_blocking(move || server.upload_package(&new, &file, &actor)).await;
    match kept {
        Ok(Ok(p)) => back("saved", &format!("{} {}", p.platform, p.version)),
        Ok(Err(PackageError::Storage(e))) => internal(e),
        Ok(Err(e)) => {
            tracing::info!(code = e.code().unwrap_or(codes::INVALID_PACKAGE), error = %e, "package refused");
            back("error", &plain_message(&e, lang))
        }
        Err(e) => internal(e),
    }
}

/// The largest body the upload route takes: a package at its limit and a form around it.
pub(super) fn upload_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(MAX_PACKAGE_BYTES as usize + 1024 * 1024)
}
