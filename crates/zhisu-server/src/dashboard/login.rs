//! Signing in and out of the dashboard (an HttpOnly, SameSite=Strict session cookie).

use axum::extract::{Form, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use zhisu_server_service::t;

use super::html::page;
use super::*;
use crate::extract::SESSION_COOKIE;
use crate::HttpState;
use zhisu_server_service::people::{wait_minutes, SignInRefusal, SESSION_HOURS};

/// The cookie that binds the sign-in form to the browser that opened it (login CSRF: a page of
/// another site cannot sign a browser in as the attacker, because it cannot read the cookie to
/// put the same value in its form).
const LOGIN_COOKIE: &str = "zhisu_login";

pub(super) async fn login_page(
    State(state): State<HttpState>,
    Query(q): Query<LangOnly>,
) -> Response {
    let error = if q.error.is_some() {
        LoginError::Wrong
    } else {
        LoginError::None
    };
    login_response(
        &state,
        StatusCode::OK,
        language(q.lang.as_deref()),
        error,
        "",
    )
}

/// The sign-in form with a fresh form token, set as a cookie too; `username` is filled in again
/// after a refusal.
fn login_response(
    state: &HttpState,
    status: StatusCode,
    lang: &str,
    error: LoginError,
    username: &str,
) -> Response {
    let token = zhisu_server_service::devices::new_token();
    let cookie = format!(
        "{LOGIN_COOKIE}={token}; Path=/dashboard/login; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        state.cookie_attributes()
    );
    (
        status,
        [(header::SET_COOKIE, cookie)],
        login_form(lang, error, &token, username),
    )
        .into_response()
}

fn cookie_value<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (n, value) = pair.trim().split_once('=')?;
            (n == name && !value.is_empty()).then_some(value)
        })
}

pub(super) enum LoginError {
    None,
    Wrong,
    /// The form did not carry the token of the browser's sign-in page.
    StaleForm,
    /// Sign-in paused for the username, for about this many minutes.
    Paused(u64),
}

impl LoginError {
    fn message(&self, lang: &str) -> Option<String> {
        match self {
            LoginError::None => None,
            LoginError::Wrong => Some(
                t(
                    lang,
                    "用户名或密码不对，请再试一次。",
                    "The username or password is wrong; please try again.",
                )
                .to_string(),
            ),
            LoginError::StaleForm => Some(
                t(
                    lang,
                    "登录页面已过期，请重新输入用户名和密码。",
                    "The sign-in page had expired; please enter your username and password again.",
                )
                .to_string(),
            ),
            LoginError::Paused(minutes) => Some(if lang == "en" {
                format!("Too many wrong passwords for this username. Please try again in {minutes} minutes.")
            } else {
                format!("这个用户名的密码错误次数太多，请 {minutes} 分钟后再试。")
            }),
        }
    }
}

/// The sign-in page. After a refusal the message is where the page opens with the keyboard's
/// focus (a screen reader reads it first), the username is kept and the password is empty.
pub(super) fn login_form(
    lang: &str,
    error: LoginError,
    form_token: &str,
    username: &str,
) -> Html<String> {
    let (other, other_name) = if lang == "en" {
        ("/dashboard/login", "中文")
    } else {
        ("/dashboard/login?lang=en", "English")
    };
    let body = html! {
        h1 { (t(lang, "登录", "Sign in")) }
        @if let Some(message) = error.message(lang) {
            p.error #sign-in-error role="alert" tabindex="-1" autofocus { (message) }
        }
        form method="post" action="/dashboard/login"
            style="display:flex;flex-direction:column;gap:12px;max-width:360px" {
            input type="hidden" name="lang" value=(lang);
            input type="hidden" name="csrf" value=(form_token);
            label {
                (t(lang, "用户名", "Username")) br;
                input id="username" name="username" autocomplete="username" required style="width:100%"
                    value=(username);
            }
            label {
                (t(lang, "密码", "Password")) br;
                input id="password" name="password" type="password" autocomplete="current-password"
                    required style="width:100%";
            }
            button #sign-in.primary type="submit" { (t(lang, "登录", "Sign in")) }
        }
        p.note { a.target href=(other) lang=(if lang == "en" { "zh-CN" } else { "en" }) { (other_name) } }
    };
    page(None, lang, "", t(lang, "登录", "Sign in"), body)
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    csrf: String,
}

pub(super) async fn login(
    State(state): State<HttpState>,
    headers: axum::http::HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = language(form.lang.as_deref());
    let bound = cookie_value(&headers, LOGIN_COOKIE)
        .is_some_and(|cookie| crate::security::same_secret(cookie, &form.csrf));
    if !bound {
        tracing::warn!("a sign-in form without its page's token: refused, nothing checked");
        return login_response(
            &state,
            StatusCode::FORBIDDEN,
            lang,
            LoginError::StaleForm,
            &form.username,
        );
    }
    let username = form.username.clone();
    let outcome = match crate::api::open_session(&state, form.username, form.password).await {
        Ok(outcome) => outcome,
        Err(failure) => return failure.into_response(),
    };
    match outcome {
        Ok(created) => {
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
                created.token,
                SESSION_HOURS * 3600,
                state.cookie_attributes()
            );
            let target = if lang == "en" {
                "/dashboard/progress?lang=en"
            } else {
                "/dashboard/progress"
            };
            ([(header::SET_COOKIE, cookie)], Redirect::to(target)).into_response()
        }
        Err(SignInRefusal::Paused(wait)) => login_response(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            lang,
            LoginError::Paused(wait_minutes(wait)),
            &username,
        ),
        Err(SignInRefusal::BadCredentials) => login_response(
            &state,
            StatusCode::UNAUTHORIZED,
            lang,
            LoginError::Wrong,
            &username,
        ),
        Err(SignInRefusal::Storage(e)) => internal(e),
    }
}

#[derive(Deserialize)]
pub(super) struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

pub(super) async fn logout(
    State(state): State<HttpState>,
    Viewer(session): Viewer,
    Form(form): Form<LogoutForm>,
) -> Response {
    if !session.csrf_matches(&form.csrf) {
        return super::csrf_refused("zh-CN");
    }
    let server = state.server.clone();
    let (hash, username) = (session.token_hash.clone(), session.person.username.clone());
    let _ = tokio::task::spawn_blocking(move || server.sign_out(&hash, &username)).await;
    let cookie = format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        state.cookie_attributes()
    );
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to("/dashboard/login"),
    )
        .into_response()
}
