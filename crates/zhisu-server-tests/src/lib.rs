//! The server's test kit, shared by its tests and benchmarks: a seeded random-number generator,
//! synthetic interviews walked through the core's engine ([`generate`]), a real PostgreSQL
//! started from the system binaries ([`postgres`]), the repository's questionnaire folder, a
//! server on a loopback port, and mixed load on a server process ([`load`]: R6 and the soak
//! run). The storage conformance suite (`tests/conformance.rs`) runs against both backends.

pub mod generate;
pub mod load;
pub mod postgres;

use std::path::PathBuf;

pub use zhisu_testkit::Rng;

/// The repository's `questionnaires/` folder (product and test corpus at once).
pub fn questionnaires_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires")
}

/// Serves `state` on a fresh loopback port in the current tokio runtime; returns its base URL
/// (`http://127.0.0.1:PORT`).
pub async fn serve_on_loopback(state: impl Into<zhisu_server::HttpState>) -> String {
    let state: zhisu_server::HttpState = state.into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("its address"));
    tokio::spawn(zhisu_server::serve(listener, state));
    base
}

/// Enrols a tablet for `round` and `district` the way an administrator and a surveyor do (a
/// one-time code, then the enrolment): the device as the server keeps it, and its token.
pub fn enrol(
    state: &zhisu_server::ServerState,
    round: &str,
    district: &str,
    name: &str,
) -> (zhisu_server_storage::Device, String) {
    let code = state
        .create_enrolment_code(round, district, chrono::Duration::days(1), "test kit")
        .expect("an enrolment code");
    let enrolment = state
        .enrol(&code, name)
        .expect("the storage answers")
        .expect("a fresh code enrols");
    let device = state
        .storage
        .device(enrolment.device_id)
        .expect("the storage answers")
        .expect("the enrolled device is kept");
    (device, enrolment.token)
}

/// Signs in through the API and returns the session token.
pub async fn sign_in(base: &str, username: &str, password: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 200, "sign-in as {username}");
    let session: serde_json::Value = response.json().await.expect("a session");
    session["token"].as_str().expect("a token").to_string()
}

/// The CSRF token of a dashboard page's forms (`name="csrf" value="…"`).
pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[at..]
        .split('"')
        .next()
        .expect("a closed value")
        .to_string()
}

/// The sign-in form posted as a browser does: the page first (its form token and the cookie
/// bound to it), then the form. Returns the response, not followed.
pub async fn post_dashboard_sign_in(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let page = http
        .get(format!("{base}/dashboard/login"))
        .send()
        .await
        .expect("the server answers");
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("zhisu_login="))
        .and_then(|c| c.split(';').next())
        .expect("the sign-in page sets its cookie")
        .to_string();
    let csrf = csrf_of(&page.text().await.expect("the page"));
    http.post(format!("{base}/dashboard/login"))
        .header("cookie", cookie)
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .expect("the server answers")
}

/// Signs in through the dashboard's form and returns the session cookie (`zhisu_session=…`).
pub async fn dashboard_sign_in(base: &str, username: &str, password: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let response = post_dashboard_sign_in(&http, base, username, password).await;
    assert_eq!(
        response.status(),
        303,
        "{username} signs in on the dashboard"
    );
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("a cookie")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    cookie.split(';').next().expect("name=value").to_string()
}
