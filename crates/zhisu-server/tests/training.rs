//! Practice interviews of surveyor training (issue 24) through the real server on a loopback
//! port with its SQLite file: uploaded by a tablet with `practice: true`, stored exactly once
//! and apart, they change no survey figure (the estimates API, progress, the interview list and
//! export, the quality-control queue, the quality table) and appear on the trainees' record
//! (`/dashboard/training` and its CSV) in each viewer's scope, with what quality control flagged.

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use uuid::Uuid;
use zhisu_core::Questionnaire;
use zhisu_protocol::{
    CompletedInterview, ReceiptStatus, UploadResponse, PROTOCOL_HEADER, UPLOAD_PATH,
};
use zhisu_server_storage::{Role, Scope};
use zhisu_server_tests::generate::{self, Respondent, Rng};

const PASSWORD: &str = "a-long-password";

fn ohl() -> Questionnaire {
    Questionnaire::from_toml(
        "ohl_2026.toml",
        include_str!("../../../questionnaires/ohl_2026.toml"),
    )
    .unwrap()
}

/// An interview of `surveyor` answered by a generated respondent, taking `seconds`.
fn one(
    q: &Questionnaire,
    rng: &mut Rng,
    n: u128,
    surveyor: &str,
    seconds: i64,
    straight_line: bool,
    practice: bool,
) -> CompletedInterview {
    let who = Respondent {
        population: "construction",
        sex: "male",
        age: 30 + (n as i64 % 20),
        education: "junior",
        industry: "construction",
        ability: 60,
        straight_line,
    };
    let answers = generate::answers(q, &who, rng);
    let mut interview = generate::interview(
        q,
        Uuid::from_u128(n),
        answers,
        Utc.with_ymd_and_hms(2026, 11, 20, 1, 0, 0).unwrap() + chrono::Duration::hours(n as i64),
        seconds,
        Some("y1"),
    );
    interview.surveyor_id = Some(surveyor.to_string());
    interview.practice = practice;
    interview.sealed()
}

async fn upload(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    interviews: &[CompletedInterview],
) -> Vec<ReceiptStatus> {
    let response = http
        .post(format!("{base}{UPLOAD_PATH}"))
        .header(PROTOCOL_HEADER, "1")
        .bearer_auth(token)
        .json(&json!({ "interviews": interviews }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let receipts: UploadResponse = response.json().await.unwrap();
    receipts.receipts.iter().map(|r| r.status).collect()
}

async fn get(http: &reqwest::Client, url: String, auth: Auth<'_>) -> (u16, String) {
    let request = match auth {
        Auth::Bearer(token) => http.get(url).bearer_auth(token),
        Auth::Cookie(cookie) => http.get(url).header("cookie", cookie),
    };
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[derive(Clone, Copy)]
enum Auth<'a> {
    Bearer(&'a str),
    Cookie(&'a str),
}

/// What the survey shows the city: the estimates, the interview list, the export, the
/// quality-control queue and the quality table, and progress from the store.
async fn survey_view(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    cookie: &str,
    state: &zhisu_server::ServerState,
) -> Vec<String> {
    let mut seen = Vec::new();
    for path in ["/api/v1/estimates", "/api/v1/interviews"] {
        let (status, body) = get(http, format!("{base}{path}"), Auth::Bearer(token)).await;
        assert_eq!(status, 200, "{path}: {body}");
        // the estimates carry when they were made; the rest must be identical
        let mut value: Value = serde_json::from_str(&body).unwrap();
        if let Some(o) = value.as_object_mut() {
            o.remove("generated_at");
        }
        seen.push(value.to_string());
    }
    for path in [
        "/dashboard/export.csv",
        "/dashboard/qc",
        "/dashboard/quality.csv",
        "/dashboard/fieldwork.csv",
    ] {
        let (status, body) = get(http, format!("{base}{path}"), Auth::Cookie(cookie)).await;
        assert_eq!(status, 200, "{path}");
        // the pages carry a CSRF token of the session: drop the line it is on
        seen.push(
            body.lines()
                .filter(|l| !l.contains("csrf"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    seen.push(format!(
        "{:?}",
        state.storage.progress(&Scope::All).unwrap()
    ));
    seen.push(format!(
        "{:?}",
        state.storage.qc_counts(&Scope::All).unwrap()
    ));
    seen
}

#[tokio::test]
async fn practice_interviews_reach_the_trainees_record_and_no_survey_figure() {
    let dir = tempfile::tempdir().unwrap();
    let questionnaires = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
    let state =
        zhisu_server::open_sqlite(&dir.path().join("server.sqlite3"), &questionnaires).unwrap();
    for (user, role) in [
        ("city", Role::CityAdmin),
        (
            "yz-super",
            Role::Supervisor {
                district: "yuzhong".into(),
            },
        ),
        (
            "jb-admin",
            Role::DistrictAdmin {
                district: "jiangbei".into(),
            },
        ),
        (
            "builders",
            Role::DepartmentViewer {
                populations: vec!["construction".into()],
            },
        ),
    ] {
        state
            .add_person(user, user, PASSWORD, role, "test")
            .unwrap();
    }
    let (_, token) = zhisu_server_tests::enrol(&state, "2026", "yuzhong", "培训平板");
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;
    let http = reqwest::Client::new();
    let city = zhisu_server_tests::sign_in(&base, "city", PASSWORD).await;
    let city_cookie = zhisu_server_tests::dashboard_sign_in(&base, "city", PASSWORD).await;

    let q = ohl();
    let mut rng = Rng::new(0x7ea1);
    // fieldwork: "wang" (who never practised) and "li" do real interviews
    let real: Vec<CompletedInterview> = (1..=12)
        .map(|n| {
            one(
                &q,
                &mut rng,
                n,
                if n % 3 == 0 { "wang" } else { "li" },
                1500,
                false,
                false,
            )
        })
        .collect();
    assert_eq!(
        upload(&http, &base, &token, &real).await,
        vec![ReceiptStatus::Stored; 12]
    );
    let before = survey_view(&http, &base, &city, &city_cookie, &state).await;

    // "zhao" practises three times (one far too fast and straight-lined), "li" once after
    // fieldwork began; a real interview of "zhao" after the practice
    let practice = vec![
        one(&q, &mut rng, 101, "zhao", 60, true, true),
        one(&q, &mut rng, 102, "zhao", 1500, false, true),
        one(&q, &mut rng, 103, "zhao", 1400, false, true),
        one(&q, &mut rng, 104, "li", 1500, false, true),
    ];
    assert_eq!(
        upload(&http, &base, &token, &practice).await,
        vec![ReceiptStatus::Stored; 4]
    );
    // sent again (a lost receipt): recognised, stored exactly once
    assert_eq!(
        upload(&http, &base, &token, &practice).await,
        vec![ReceiptStatus::AlreadyStored; 4]
    );
    // the same id as a real interview, or a stored real one's id as practice: conflicts
    let mut as_real = practice[1].clone();
    as_real.practice = false;
    let as_real = as_real.sealed();
    let mut as_practice = real[0].clone();
    as_practice.practice = true;
    let as_practice = as_practice.sealed();
    assert_eq!(
        upload(&http, &base, &token, &[as_real, as_practice]).await,
        vec![ReceiptStatus::Conflict, ReceiptStatus::Conflict]
    );

    let after = survey_view(&http, &base, &city, &city_cookie, &state).await;
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b, a, "a practice interview changed a survey figure");
    }
    assert_eq!(state.storage.interview_count().unwrap(), 12);
    let stored = state.storage.practice_interviews(&Scope::All).unwrap();
    assert_eq!(stored.len(), 4);
    let fast = stored
        .iter()
        .find(|p| p.id == Uuid::from_u128(101))
        .unwrap();
    let kinds: Vec<&str> = fast.flags.iter().map(|f| f.code()).collect();
    assert!(kinds.contains(&"too_fast"), "{kinds:?}");
    assert!(kinds.contains(&"straight_lining"), "{kinds:?}");

    // zhao's first real interview comes after the practice
    let later = one(&q, &mut rng, 200, "zhao", 1500, false, false);
    assert_eq!(
        upload(&http, &base, &token, &[later]).await,
        vec![ReceiptStatus::Stored]
    );

    // the trainees' record, as the city sees it
    let (status, page) = get(
        &http,
        format!("{base}/dashboard/training"),
        Auth::Cookie(&city_cookie),
    )
    .await;
    assert_eq!(status, 200);
    let row = |surveyor: &str| {
        let at = page
            .find(&format!("data-surveyor=\"{surveyor}\""))
            .unwrap_or_else(|| panic!("no row for {surveyor}"));
        page[at..page[at..].find("</tr>").unwrap() + at].to_string()
    };
    let zhao = row("zhao");
    assert!(zhao.contains("data-status=\"practised_first\""), "{zhao}");
    assert!(zhao.contains("data-col=\"practice\">3<"), "{zhao}");
    assert!(zhao.contains("data-col=\"flagged\">1<"), "{zhao}");
    assert!(zhao.contains("data-flag=\"too_fast\""), "{zhao}");
    assert!(zhao.contains("data-col=\"interviews\">1<"), "{zhao}");
    let li = row("li");
    assert!(li.contains("data-status=\"practised_late\""), "{li}");
    assert!(li.contains("data-col=\"practice\">1<"), "{li}");
    assert!(li.contains("data-col=\"interviews\">8<"), "{li}");
    let wang = row("wang");
    assert!(wang.contains("data-status=\"no_practice\""), "{wang}");
    assert!(wang.contains("data-col=\"practice\">0<"), "{wang}");
    assert!(page.contains("id=\"training-total\">4<"), "{page}");

    // as CSV, the same lines
    let (status, csv) = get(
        &http,
        format!("{base}/dashboard/training.csv?lang=en"),
        Auth::Cookie(&city_cookie),
    )
    .await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].contains("practice_interviews"));
    assert!(csv
        .lines()
        .any(|l| l.contains(",zhao,3,1,") && l.ends_with("practised_first")));

    // in scope: the district's supervisor sees it, another district's administrator and a
    // department viewer do not
    let supervisor = zhisu_server_tests::dashboard_sign_in(&base, "yz-super", PASSWORD).await;
    let (_, page) = get(
        &http,
        format!("{base}/dashboard/training"),
        Auth::Cookie(&supervisor),
    )
    .await;
    assert!(page.contains("data-surveyor=\"zhao\""));
    let other = zhisu_server_tests::dashboard_sign_in(&base, "jb-admin", PASSWORD).await;
    let (status, page) = get(
        &http,
        format!("{base}/dashboard/training"),
        Auth::Cookie(&other),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!page.contains("data-surveyor="), "{page}");
    assert!(page.contains("id=\"training-empty\""));
    let viewer = zhisu_server_tests::dashboard_sign_in(&base, "builders", PASSWORD).await;
    let (status, page) = get(
        &http,
        format!("{base}/dashboard/training"),
        Auth::Cookie(&viewer),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!page.contains("data-surveyor="), "{page}");
    assert!(page.contains("id=\"training-not-for-scope\""));
}
