//! No stored row can make a page, report or export fail. Interviews that break every limit of
//! the protocol (from before the limits existed, or written by another tool) are stored
//! directly through the storage, bypassing the upload's checks; then every dashboard view and
//! export, in both languages and as a city and a district administrator, must answer 200, and
//! `check-data` must find each bad row. Property-style: seeded random mixes of hostile fields.

use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;
use zhisu_core::AnswerValue;
use zhisu_protocol::CompletedInterview;
use zhisu_server_storage::{Accepted, Role};
use zhisu_server_tests::generate::{answers, interview, Respondent};
use zhisu_server_tests::Rng;

fn far_times() -> Vec<DateTime<Utc>> {
    vec![
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MAX_UTC,
        "+262142-01-01T00:00:00Z".parse().unwrap(),
        Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2099, 12, 31, 23, 59, 59).unwrap(),
        Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2056, 6, 1, 0, 0, 0).unwrap(),
    ]
}

fn hostile_text(rng: &mut Rng) -> String {
    let texts = [
        "x".repeat(40_000),
        "=HYPERLINK(\"http://evil.example\",\"点我\")".to_string(),
        "+cmd|' /C calc'!A0".to_string(),
        "-2+3".to_string(),
        "@SUM(A1)".to_string(),
        "\u{1b}[31mred\u{1b}[0m\r\nforged log line".to_string(),
        "\u{202e}txt.exe".to_string(),
        "<script>alert(1)</script>\"'&".to_string(),
        String::new(),
        "\u{0}\u{7}\u{8}".to_string(),
    ];
    texts[rng.index(texts.len())].clone()
}

/// A valid interview of `q`, then a random mix of hostile fields.
fn hostile(q: &zhisu_core::Questionnaire, rng: &mut Rng, n: u128) -> CompletedInterview {
    let who = Respondent {
        population: "construction",
        sex: "male",
        age: 30,
        education: "junior_high",
        industry: "construction",
        ability: 70,
        straight_line: false,
    };
    let a = answers(q, &who, rng);
    let start = Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).unwrap();
    let mut i = interview(q, Uuid::from_u128(n), a, start, 900, Some("site-1"));
    let times = far_times();
    if rng.chance(50) {
        i.started_at = times[rng.index(times.len())];
    }
    if rng.chance(50) {
        i.completed_at = times[rng.index(times.len())];
    }
    if rng.chance(50) {
        i.utc_offset_minutes = [i32::MAX, i32::MIN, -841, 841, 0, 14 * 60][rng.index(6)];
    }
    if rng.chance(50) {
        i.surveyor_id = Some(hostile_text(rng));
    }
    if rng.chance(30) {
        i.site_id = Some(hostile_text(rng));
    }
    if rng.chance(30) {
        i.questionnaire_version = hostile_text(rng);
    }
    if rng.chance(50) {
        i.answers
            .insert(hostile_text(rng), AnswerValue::Text(hostile_text(rng)));
    }
    if rng.chance(40) {
        let wrong = [
            AnswerValue::Integer(i64::MAX),
            AnswerValue::Integer(i64::MIN),
            AnswerValue::Bool(true),
            AnswerValue::DontKnow,
            AnswerValue::Decimal(1e308),
            AnswerValue::Choices(vec![hostile_text(rng); 3]),
            AnswerValue::Text(hostile_text(rng)),
        ];
        let ids: Vec<String> = i.answers.keys().cloned().collect();
        for _ in 0..3 {
            let id = ids[rng.index(ids.len())].clone();
            i.answers.insert(id, wrong[rng.index(wrong.len())].clone());
        }
    }
    if rng.chance(30) {
        i.paradata = Some(zhisu_core::Paradata {
            duration_ms: u64::MAX,
            items: vec![zhisu_core::ItemParadata {
                item_id: hostile_text(rng),
                ms_on_screen: u64::MAX,
                visits: u32::MAX,
                changes: u32::MAX,
            }],
            flags: vec![zhisu_core::QcFlag::StraightLining {
                run: u32::MAX,
                position: u32::MAX,
                from_item: hostile_text(rng),
                items: u32::MAX,
                minimum: 0,
            }],
            location_start: Some(zhisu_core::Location {
                latitude: 1e308,
                longitude: -1e308,
                accuracy_m: -1.0,
                at_ms: u64::MAX,
            }),
            location_end: None,
            material: Some(zhisu_core::MaterialOffered {
                points: u32::MAX,
                take_home_qr: true,
                pieces: vec![hostile_text(rng)],
            }),
        });
    }
    i.sealed()
}

async fn views_answer(base: &str, token: &str, who: &str) {
    let http = reqwest::Client::new();
    let pages = [
        "/dashboard/progress",
        "/dashboard/literacy",
        "/dashboard/literacy?by=industry",
        "/dashboard/literacy?by=age_band",
        "/dashboard/literacy?by=district",
        "/dashboard/items",
        "/dashboard/qc",
        "/dashboard/qc?status=rejected",
        "/dashboard/report",
        "/dashboard/export.csv",
        "/dashboard/codebook.csv",
        "/dashboard/export.xlsx",
        "/dashboard/report.docx",
        "/api/v1/interviews",
        "/api/v1/report.docx",
    ];
    for page in pages {
        for lang in ["", "lang=en"] {
            let sep = if page.contains('?') { '&' } else { '?' };
            let url = format!("{base}{page}{sep}{lang}");
            let response = http.get(&url).bearer_auth(token).send().await.unwrap();
            let status = response.status();
            let body = response.bytes().await.unwrap();
            assert_eq!(
                status,
                200,
                "{who}: {url} answered {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(400)])
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_stored_row_makes_a_view_or_export_fail() {
    let dir = tempfile::tempdir().unwrap();
    let state = zhisu_server::open_sqlite(
        &dir.path().join("server.sqlite3"),
        &zhisu_server_tests::questionnaires_dir(),
    )
    .unwrap();
    let q = state
        .questionnaires
        .newest("ohl_2026")
        .expect("the bundled questionnaire")
        .questionnaire
        .clone();
    for (name, role) in [
        ("city", Role::CityAdmin),
        (
            "district",
            Role::DistrictAdmin {
                district: "yuzhong".into(),
            },
        ),
    ] {
        state
            .add_person(name, name, "a-long-password", role, "test")
            .unwrap();
    }
    let (device, _) = zhisu_server_tests::enrol(&state, "2026", "yuzhong", "tablet");
    let mut rng = Rng::new(20261204);
    let received = Utc.with_ymd_and_hms(2026, 11, 3, 0, 0, 0).unwrap();
    let mut n = 0u128;
    let mut hostile_count = 0;
    for _batch in 0..6 {
        let accepted: Vec<Accepted> = (0..10)
            .map(|_| {
                n += 1;
                let i = hostile(&q, &mut rng, n);
                let score = q.score(&i.answers);
                Accepted::new(&q, i, score)
            })
            .collect();
        hostile_count += accepted
            .iter()
            .filter(|a| !zhisu_protocol::limits::field_problems(&a.interview).is_empty())
            .count();
        state
            .storage
            .ingest(
                &accepted,
                Some(&device),
                received + Duration::minutes(n as i64),
            )
            .unwrap();
    }
    assert!(
        hostile_count > 30,
        "the mix is hostile: {hostile_count} of {n}"
    );
    // and some interviews with nothing wrong, received the day after they were done
    let clean: Vec<Accepted> = (0..5)
        .map(|k| {
            let who = Respondent {
                population: "teacher",
                sex: "female",
                age: 40,
                education: "college",
                industry: "education",
                ability: 90,
                straight_line: false,
            };
            let a = answers(&q, &who, &mut rng);
            let start = Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).unwrap();
            let i = interview(
                &q,
                Uuid::from_u128(10_000 + k),
                a,
                start,
                900,
                Some("site-1"),
            );
            let score = q.score(&i.answers);
            Accepted::new(&q, i, score)
        })
        .collect();
    state
        .storage
        .ingest(&clean, Some(&device), received)
        .unwrap();
    // the cells can be rebuilt from these rows too
    state
        .storage
        .rebuild_cells(&zhisu_server_storage::AuditEntry::now(
            "test",
            "rebuild_cells",
            "",
        ))
        .unwrap();
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;
    for who in ["city", "district"] {
        let token = zhisu_server_tests::sign_in(&base, who, "a-long-password").await;
        views_answer(&base, &token, who).await;
    }
    // every bad row is found, with what is wrong with it
    let report = state.check_data(Some("test")).unwrap();
    let listed: std::collections::HashSet<Uuid> = report.iter().map(|r| r.interview_id).collect();
    for stored in state
        .storage
        .interviews(&zhisu_server_storage::Scope::All)
        .unwrap()
    {
        let id = stored.interview.id;
        let field_problems = zhisu_protocol::limits::field_problems(&stored.interview);
        if id.as_u128() >= 10_000 {
            assert!(
                !listed.contains(&id),
                "a clean interview is listed: {report:#?}"
            );
        } else if !field_problems.is_empty() {
            let found = report
                .iter()
                .find(|r| r.interview_id == id)
                .expect("listed");
            for problem in field_problems {
                assert!(
                    found.problems.iter().any(|p| p.starts_with(&problem.field)),
                    "{problem} in {found:?}"
                );
            }
        }
    }
    assert!(report.iter().all(|r| !r.problems.is_empty()
        && r.problems
            .iter()
            .all(|p| !p.is_empty() && p.chars().count() <= 301)));
    // flagged for review: the QC page lists them, escaped, and still answers
    let token = zhisu_server_tests::sign_in(&base, "city", "a-long-password").await;
    let qc = reqwest::Client::new()
        .get(format!("{base}/dashboard/qc?lang=en"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(qc.status(), 200);
    let page = qc.text().await.unwrap();
    assert!(
        page.contains("Stored data breaks the upload rules"),
        "{page}"
    );
    assert!(!page.contains("<script>alert(1)"));
    views_answer(&base, &token, "city after check-data").await;
}
