//! The dashboard and API against a hostile web page and a careless client, through the real
//! HTTP boundary (threats and defences in `docs/security.md`).

use chrono::{TimeZone, Utc};
use reqwest::redirect::Policy;
use serde_json::Value;
use uuid::Uuid;
use zhisu_core::{AnswerValue, Answers};
use zhisu_protocol::CompletedInterview;
use zhisu_server_storage::Role;

const PASSWORD: &str = "a-long-password";

struct Server {
    base: String,
    state: zhisu_server::ServerState,
    _dir: tempfile::TempDir,
}

async fn start(secure_cookies: bool) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let state = zhisu_server::open_sqlite(
        &dir.path().join("server.sqlite3"),
        &zhisu_server_tests::questionnaires_dir(),
    )
    .unwrap();
    state
        .add_person("city", "市管理员", PASSWORD, Role::CityAdmin, "test")
        .unwrap();
    state
        .add_person("other", "另一位管理员", PASSWORD, Role::CityAdmin, "test")
        .unwrap();
    let mut http = zhisu_server::HttpState::new(state.clone());
    http.secure_cookies = secure_cookies;
    let base = zhisu_server_tests::serve_on_loopback(http).await;
    Server {
        base,
        state,
        _dir: dir,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn actions(state: &zhisu_server::ServerState) -> Vec<(String, String, String)> {
    state
        .storage
        .audit_log(1000)
        .unwrap()
        .into_iter()
        .map(|a| (a.actor, a.action, a.detail))
        .collect()
}

#[tokio::test]
async fn every_response_has_security_headers_and_every_error_a_code() {
    let s = start(false).await;
    let http = client();
    for path in ["/dashboard/login", "/healthz", "/no/such/page"] {
        let r = http.get(format!("{}{path}", s.base)).send().await.unwrap();
        let h = r.headers();
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert_eq!(h["cache-control"], "no-store");
    }
    let token = zhisu_server_tests::sign_in(&s.base, "city", PASSWORD).await;
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (
            http.get(format!("{}/no/such/page", s.base)),
            404,
            "not_found",
        ),
        (
            http.delete(format!("{}/api/v1/people", s.base))
                .bearer_auth(&token),
            405,
            "method_not_allowed",
        ),
        (
            http.post(format!("{}/api/v1/devices/not-a-uuid/revoke", s.base))
                .bearer_auth(&token),
            400,
            "malformed_request",
        ),
        (
            http.get(format!("{}/dashboard/progress?by=%FF%FE", s.base))
                .bearer_auth(&token),
            200,
            "",
        ),
    ];
    for (request, status, code) in cases {
        let r = request.send().await.unwrap();
        assert_eq!(r.status().as_u16(), status);
        if !code.is_empty() {
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["code"], code, "{body}");
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
    }
}

#[tokio::test]
async fn pages_of_other_sites_change_nothing() {
    let s = start(false).await;
    let http = client();
    let cookie = zhisu_server_tests::dashboard_sign_in(&s.base, "city", PASSWORD).await;
    // the API takes no cookie for a change: a page's fetch with credentials cannot disable a
    // person, whatever its origin
    let r = http
        .post(format!("{}/api/v1/people/other/disable", s.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // a form of another port of the same host (same site, other origin), even with the token
    let page = http
        .get(format!("{}/dashboard/progress", s.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = zhisu_server_tests::csrf_of(&page);
    for (origin, site) in [
        ("http://127.0.0.1:1", "same-site"),
        ("https://evil.example", "cross-site"),
    ] {
        let r = http
            .post(format!("{}/dashboard/logout", s.base))
            .header("cookie", &cookie)
            .header("origin", origin)
            .header("sec-fetch-site", site)
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{origin}");
    }
    // a form without the session's token
    let r = http
        .post(format!("{}/dashboard/logout", s.base))
        .header("cookie", &cookie)
        .form(&[("lang", "zh-CN")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // still signed in: none of them signed the person out
    let r = http
        .get(format!("{}/dashboard/progress", s.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(!actions(&s.state).iter().any(|a| a.1 == "sign_out"));
    // login CSRF: a sign-in form not from this browser's sign-in page signs nobody in
    let r = http
        .post(format!("{}/dashboard/login", s.base))
        .form(&[("username", "city"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r
        .headers()
        .get_all("set-cookie")
        .iter()
        .all(|c| !c.to_str().unwrap().starts_with("zhisu_session=")));
    // the page's own forms work
    let r = http
        .post(format!("{}/dashboard/logout", s.base))
        .header("cookie", &cookie)
        .header("origin", &s.base)
        .header("sec-fetch-site", "same-origin")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(actions(&s.state)
        .iter()
        .any(|a| a.0 == "city" && a.1 == "sign_out"));
}

#[tokio::test]
async fn sign_ins_sign_outs_and_exports_are_audited_and_cookies_secure_behind_tls() {
    let s = start(true).await;
    let http = client();
    let wrong = http
        .post(format!("{}/api/v1/session", s.base))
        .json(&serde_json::json!({"username": "city\nforged line", "password": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let r = zhisu_server_tests::post_dashboard_sign_in(&http, &s.base, "city", PASSWORD).await;
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("; Secure"), "{cookie}");
    let cookie = cookie.split(';').next().unwrap().to_string();
    // an interview whose surveyor id a spreadsheet would run as a formula
    let q = s.state.questionnaires.newest("ohl_pilot").unwrap();
    let mut answers = Answers::new();
    answers.insert("age".into(), AnswerValue::Integer(30));
    answers.insert("employer_duty".into(), AnswerValue::Bool(true));
    answers.insert("noise".into(), AnswerValue::Choice("earplugs".into()));
    answers.insert(
        "confined_space".into(),
        AnswerValue::Choices(vec!["ventilate".into()]),
    );
    let interview = CompletedInterview {
        id: Uuid::from_u128(1),
        questionnaire_id: "ohl_pilot".into(),
        questionnaire_version: q.questionnaire.version.clone(),
        started_at: Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap(),
        completed_at: Utc.with_ymd_and_hms(2026, 11, 29, 8, 9, 0).unwrap(),
        utc_offset_minutes: 480,
        answers,
        site_id: Some("-2+3".into()),
        surveyor_id: Some("=HYPERLINK(\"http://evil.example\")".into()),
        paradata: None,
        practice: false,
        content_hash: String::new(),
    }
    .sealed();
    let receipts = zhisu_server_service::ingest::ingest(&s.state, vec![interview], None).unwrap();
    assert!(receipts[0].status.is_acknowledged(), "{receipts:?}");
    let csv = http
        .get(format!("{}/dashboard/export.csv?q=ohl_pilot", s.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\")\""),
        "{csv}"
    );
    assert!(csv.contains(",'-2+3,"), "{csv}");
    assert!(!csv.contains(",=HYPERLINK"));
    let log = actions(&s.state);
    assert!(
        log.iter()
            .any(|a| a.1 == "sign_in_failed" && a.0 == "\"city\\nforged line\""),
        "{log:?}"
    );
    assert!(log.iter().any(|a| a.0 == "city" && a.1 == "sign_in"));
    assert!(
        log.iter()
            .any(|a| a.0 == "city" && a.1 == "export" && a.2.contains("1 rows")),
        "{log:?}"
    );
}

/// An unknown username costs the same password check as a known one, so the answer time does
/// not tell which usernames exist.
#[tokio::test]
async fn unknown_usernames_take_as_long_as_known_ones() {
    let s = start(false).await;
    let http = client();
    let time = |username: &'static str| {
        let (http, base) = (http.clone(), s.base.clone());
        async move {
            let started = std::time::Instant::now();
            let r = http
                .post(format!("{base}/api/v1/session"))
                .json(&serde_json::json!({"username": username, "password": "wrong-password"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401);
            started.elapsed()
        }
    };
    // one wrong password fewer than pauses the name; the two kinds taken in turn, and the
    // fastest of each compared, so that a busy moment of the machine (which only ever makes a
    // request slower) cannot make the test fail or pass
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        known.push(time("other").await);
        unknown.push(time("nobody-by-this-name").await);
    }
    let (known, unknown) = (known.iter().min().unwrap(), unknown.iter().min().unwrap());
    assert!(
        unknown.as_secs_f64() > known.as_secs_f64() * 0.5,
        "unknown {unknown:?} vs known {known:?}"
    );
}

async fn enrol(http: &reqwest::Client, base: &str, code: &str, forwarded: Option<&str>) -> u16 {
    let mut request = http
        .post(format!("{base}/api/v1/enrol"))
        .header("zhisu-protocol", "1")
        .json(&serde_json::json!({"code": code, "device_name": "平板"}));
    if let Some(f) = forwarded {
        request = request.header("x-forwarded-for", f);
    }
    request.send().await.unwrap().status().as_u16()
}

/// Guessing enrolment codes is slowed per client address (behind the proxy, from its
/// X-Forwarded-For) and every failure is audited; a right code still enrols.
#[tokio::test]
async fn enrolment_guesses_are_throttled_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let state = zhisu_server::open_sqlite(
        &dir.path().join("server.sqlite3"),
        &zhisu_server_tests::questionnaires_dir(),
    )
    .unwrap();
    let mut http_state = zhisu_server::HttpState::new(state.clone());
    http_state.behind_proxy = true;
    let base = zhisu_server_tests::serve_on_loopback(http_state).await;
    let http = client();
    for _ in 0..10 {
        assert_eq!(
            enrol(&http, &base, "WRONG-CODE1", Some("203.0.113.7")).await,
            404
        );
    }
    assert_eq!(
        enrol(&http, &base, "WRONG-CODE1", Some("203.0.113.7")).await,
        429
    );
    // another client behind the same proxy is not held up by the first
    let code = state
        .create_enrolment_code("2026", "yuzhong", chrono::Duration::days(1), "test")
        .unwrap();
    assert_eq!(code.len(), 11);
    assert_eq!(enrol(&http, &base, &code, Some("198.51.100.2")).await, 200);
    let failed: Vec<_> = actions(&state)
        .into_iter()
        .filter(|a| a.1 == "enrol_failed")
        .collect();
    assert_eq!(failed.len(), 10, "{failed:?}");
    assert!(failed.iter().all(|a| a.2.contains("from 203.0.113.7")));
}

/// `/metrics` is for the machine itself, or for the holder of its token: never through the proxy.
#[tokio::test]
async fn metrics_are_not_public() {
    let s = start(false).await;
    let http = client();
    let get = |forwarded: Option<&'static str>, token: Option<&'static str>| {
        let mut r = http.get(format!("{}/metrics", s.base));
        if let Some(f) = forwarded {
            r = r.header("x-forwarded-for", f);
        }
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        async move { r.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get(None, None).await, 200, "from this machine");
    assert_eq!(
        get(Some("203.0.113.7"), None).await,
        404,
        "through the proxy"
    );
    let mut with_token = zhisu_server::HttpState::new(s.state.clone());
    with_token.metrics_token = Some("a-long-metrics-token".into());
    let base = zhisu_server_tests::serve_on_loopback(with_token).await;
    let status = |token: Option<&'static str>| {
        let mut r = http.get(format!("{base}/metrics"));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        async move { r.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(None).await, 404);
    assert_eq!(status(Some("wrong")).await, 404);
    assert_eq!(status(Some("a-long-metrics-token")).await, 200);
}
