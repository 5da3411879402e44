//! Signing in and out of the dashboard (an HttpOnly, SameSite=Strict session cookie).

use axum::extract::{Form, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::html;
use serde::Deserialize;
use zhisu_server_service::t;

use super::html::page;
use super::*;
use crate::extract::SESSION_COOKIE;
use crate::HttpState;
use zhisu_server_service::people::{wait_minutes, SignInRefusal, SESSION_HOURS};

pub(super) async fn login_page(Query(q): Query<LangOnly>) -> Html<String> {
    let error = if q.error.is_some() {
        LoginError::Wrong
    } else {
        LoginError::None
    };
    login_form(language(q.lang.as_deref()), error)
}

pub(super) enum LoginError {
    None,
    Wrong,
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
            LoginError::Paused(minutes) => Some(if lang == "en" {
                format!("Too many wrong passwords for this username. Please try again in {minutes} minutes.")
            } else {
                format!("这个用户名的密码错误次数太多，请 {minutes} 分钟后再试。")
            }),
        }
    }
}

pub(super) fn login_form(lang: &str, error: LoginError) -> Html<String> {
    let (other, other_name) = if lang == "en" {
        ("/dashboard/login", "中文")
    } else {
        ("/dashboard/login?lang=en", "English")
    };
    let body = html! {
        h1 { (t(lang, "登录", "Sign in")) }
        @if let Some(message) = error.message(lang) {
            p.error role="alert" { (message) }
        }
        form method="post" action="/dashboard/login"
            style="display:flex;flex-direction:column;gap:12px;max-width:360px" {
            input type="hidden" name="lang" value=(lang);
            label {
                (t(lang, "用户名", "Username")) br;
                input id="username" name="username" autocomplete="username" required style="width:100%";
            }
            label {
                (t(lang, "密码", "Password")) br;
                input id="password" name="password" type="password" autocomplete="current-password"
                    required style="width:100%";
            }
            button #sign-in.primary type="submit" { (t(lang, "登录", "Sign in")) }
        }
        p.note { a href=(other) { (other_name) } }
    };
    page(None, lang, "", t(lang, "登录", "Sign in"), body)
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    lang: Option<String>,
}

pub(super) async fn login(State(state): State<HttpState>, Form(form): Form<LoginForm>) -> Response {
    let lang = language(form.lang.as_deref());
    let outcome = match crate::api::open_session(&state, form.username, form.password).await {
        Ok(outcome) => outcome,
        Err(failure) => return failure.into_response(),
    };
    match outcome {
        Ok(created) => {
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
                created.token,
                SESSION_HOURS * 3600
            );
            let target = if lang == "en" {
                "/dashboard/progress?lang=en"
            } else {
                "/dashboard/progress"
            };
            ([(header::SET_COOKIE, cookie)], Redirect::to(target)).into_response()
        }
        Err(SignInRefusal::Paused(wait)) => (
            StatusCode::TOO_MANY_REQUESTS,
            login_form(lang, LoginError::Paused(wait_minutes(wait))),
        )
            .into_response(),
        Err(SignInRefusal::BadCredentials) => (
            StatusCode::UNAUTHORIZED,
            login_form(lang, LoginError::Wrong),
        )
            .into_response(),
        Err(SignInRefusal::Storage(e)) => internal(e),
    }
}

pub(super) async fn logout(State(state): State<HttpState>, Viewer(session): Viewer) -> Response {
    let storage = state.storage.clone();
    let hash = session.token_hash.clone();
    let _ = tokio::task::spawn_blocking(move || storage.end_session(&hash, Utc::now())).await;
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to("/dashboard/login"),
    )
        .into_response()
}
