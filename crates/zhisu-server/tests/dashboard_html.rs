//! The dashboard's HTML escapes what people type: a display name, a district, a tablet's name, a
//! site's id and name, a surveyor id, a review comment and a reference level's source holding markup and quotes show as
//! text on every page that shows them, in both languages, and never as markup.

use chrono::{TimeZone, Utc};
use uuid::Uuid;
use zhisu_core::Questionnaire;
use zhisu_server::ServerState;
use zhisu_server_storage::Role;
use zhisu_server_tests::generate::{self, Respondent, Rng};
use zhisu_server_tests::{questionnaires_dir, serve_on_loopback};

const PASSWORD: &str = "a-long-password";
// What people type, each with markup, both quotes and an ampersand.
const NAME: &str = "<script>alert(\"x\")</script> & 'q'";
const DISTRICT: &str = "<i>渝中\"&'</i>";
const SITE_ID: &str = "<b>site\"&'</b>";
const SITE_NAME: &str = "<u>工地\"&'</u>";
const DEVICE: &str = "<em>平板\"&'</em>";
const SURVEYOR: &str = "<s>s01\"&'</s>";
const COMMENT: &str = "<a href='x'>不可信</a> & \"说明\"";
const SOURCE: &str = "<q>全国\"监测\"&'</q>";
const TYPED: [&str; 8] = [
    NAME, DISTRICT, SITE_ID, SITE_NAME, DEVICE, SURVEYOR, COMMENT, SOURCE,
];

/// How the dashboard writes `text` into a page: `&`, `<`, `>` and `"` as entities (every
/// attribute is double-quoted, so `'` cannot end one).
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A city administrator and a supervisor of [`DISTRICT`] both named [`NAME`], a tablet, a site,
/// interviews by [`SURVEYOR`], one too fast and reviewed with [`COMMENT`].
fn hostile_world() -> (ServerState, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let state =
        zhisu_server::open_sqlite(&dir.path().join("server.sqlite3"), &questionnaires_dir())
            .unwrap();
    let supervisor = Role::Supervisor {
        district: DISTRICT.into(),
    };
    for (user, role) in [("city", Role::CityAdmin), ("super", supervisor)] {
        state
            .add_person(user, NAME, PASSWORD, role, "test")
            .unwrap();
    }
    let site = zhisu_protocol::Site {
        id: SITE_ID.into(),
        district: DISTRICT.into(),
        name: SITE_NAME.into(),
        site_type: "enterprise".into(),
        quotas: [("teacher".to_string(), 10)].into_iter().collect(),
        ..Default::default()
    };
    state
        .storage
        .replace_sites(
            DISTRICT,
            &[site],
            &zhisu_server_storage::AuditEntry::now("test", "replace_sites", ""),
        )
        .unwrap();
    let (device, _) = zhisu_server_tests::enrol(&state, "2026", DISTRICT, DEVICE);
    let q = Questionnaire::from_toml(
        "ohl_2026.toml",
        &std::fs::read_to_string(questionnaires_dir().join("ohl_2026.toml")).unwrap(),
    )
    .unwrap();
    let mut rng = Rng::new(7);
    let batch: Vec<_> = (0..4u128)
        .map(|n| {
            let who = Respondent {
                population: "teacher",
                sex: "female",
                age: 30 + n as i64,
                education: "college",
                industry: "education",
                ability: 85,
                straight_line: false,
            };
            let answers = generate::answers(&q, &who, &mut rng);
            let start = Utc.with_ymd_and_hms(2026, 11, 20, 1, 0, 0).unwrap();
            let seconds = if n == 0 { 60 } else { 1500 };
            let mut interview =
                generate::interview(&q, Uuid::from_u128(n + 1), answers, start, seconds, None);
            interview.site_id = Some(SITE_ID.into());
            interview.surveyor_id = Some(SURVEYOR.into());
            interview.sealed()
        })
        .collect();
    zhisu_server_service::ingest::ingest(&state, batch, Some(&device)).unwrap();
    let (reviewer, _) = state.storage.person_for_login("super").unwrap().unwrap();
    state
        .review(&reviewer, Uuid::from_u128(1), "has_issues", COMMENT)
        .unwrap();
    let reference = zhisu_server_service::references::ReferenceInput {
        round: "2026".into(),
        questionnaire_id: "ohl_2026".into(),
        measure: String::new(),
        kind: zhisu_server_storage::ReferenceKind::National,
        value_percent: 52.6,
        source: SOURCE.into(),
        year: 2022,
    };
    state
        .put_reference_level(&Role::CityAdmin, None, &reference, "city")
        .unwrap();
    (state, dir)
}

async fn sign_in(_http: &reqwest::Client, base: &str, user: &str) -> String {
    zhisu_server_tests::dashboard_sign_in(base, user, PASSWORD).await
}

async fn page(http: &reqwest::Client, base: &str, cookie: &str, path: &str) -> String {
    let response = http
        .get(format!("{base}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

/// The typed texts a page shows to a city administrator, and to a supervisor (whose role label
/// and filter name the district everywhere).
fn shown_on(path: &str, supervisor: bool) -> Vec<&'static str> {
    let mut shown = vec![NAME];
    if supervisor || path.contains("progress") || path.contains("literacy") {
        shown.push(DISTRICT);
    }
    if path.contains("progress") {
        shown.extend([DISTRICT, SITE_NAME, DEVICE]);
    }
    if path.contains("qc") {
        shown.extend([DISTRICT, SITE_ID, SURVEYOR, COMMENT]);
    }
    if path.contains("literacy") || path.contains("references") {
        shown.push(SOURCE);
    }
    shown
}

#[tokio::test]
async fn typed_text_shows_escaped_on_every_page() {
    let (state, _dir) = hostile_world();
    let base = serve_on_loopback(state).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for user in ["city", "super"] {
        let cookie = sign_in(&http, &base, user).await;
        for lang in ["zh-CN", "en"] {
            for path in [
                "progress?",
                "literacy?",
                "items?",
                "qc?status=all&",
                "report?",
                "rounds?",
                "references?",
                "outreach?",
            ] {
                let path = format!("/dashboard/{path}lang={lang}");
                let html = page(&http, &base, &cookie, &path).await;
                for raw in TYPED {
                    assert!(!html.contains(raw), "{user} {path}: {raw} as markup");
                }
                for text in shown_on(&path, user == "super") {
                    assert!(
                        html.contains(&escaped(text)),
                        "{user} {path}: {text} shown escaped"
                    );
                }
            }
        }
    }
}
