//! Sites belong to the sample plan, not to the device: a tablet of one district uploading for a
//! site of another is flagged, and the interview keeps the site's stratum and weight (the report
//! stays design-based); an unknown site is flagged and counted as unweighted, and the report
//! says how many interviews had no weight. Through the real HTTP server and SQLite.
use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use uuid::Uuid;
use zhisu_core::Questionnaire;
use zhisu_protocol::{
    CompletedInterview, UploadResponse, PROTOCOL_HEADER, PROTOCOL_VERSION, UPLOAD_PATH,
};
use zhisu_server::ServerState;
use zhisu_server_service::analysis::{self, Filter};
use zhisu_server_service::Refusal;
use zhisu_server_storage::{Role, Scope};
use zhisu_server_tests::generate::{self, Respondent, Rng};

fn ohl() -> Questionnaire {
    let path = zhisu_server_tests::questionnaires_dir().join("ohl_2026.toml");
    Questionnaire::from_toml("ohl_2026.toml", &std::fs::read_to_string(path).unwrap()).unwrap()
}

fn site(id: &str, district: &str, stratum: &str, weight: f64) -> zhisu_protocol::Site {
    zhisu_protocol::Site {
        id: id.into(),
        district: district.into(),
        name: format!("调查点 {id}"),
        site_type: "enterprise".into(),
        stratum: Some(stratum.into()),
        weight: Some(weight),
        ..Default::default()
    }
}

fn interviews(first: u128, count: u128, site: &str) -> Vec<CompletedInterview> {
    let q = ohl();
    (first..first + count)
        .map(|n| {
            let who = Respondent {
                population: "construction",
                sex: if n % 2 == 0 { "male" } else { "female" },
                age: 20 + (n as i64 * 7) % 39,
                education: "junior",
                industry: "construction",
                ability: 40 + (n as u64 * 13) % 60,
                straight_line: false,
            };
            generate::interview(
                &q,
                Uuid::from_u128(n),
                generate::answers(&q, &who, &mut Rng::new(n as u64 + 7)),
                Utc.with_ymd_and_hms(2026, 11, 20, 1, n as u32 % 60, 0)
                    .unwrap(),
                1500,
                Some(site),
            )
        })
        .collect()
}

async fn upload(base: &str, token: &str, batch: Vec<CompletedInterview>) -> UploadResponse {
    let response = reqwest::Client::new()
        .post(format!("{base}{UPLOAD_PATH}"))
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .bearer_auth(token)
        .json(&json!({ "interviews": batch }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn report(state: &ServerState) -> analysis::LiteracyReport {
    let from_cells = analysis::literacy(
        &*state.storage,
        &state.questionnaires,
        &Scope::All,
        "ohl_2026",
        &Filter::default(),
        30,
        "en",
    )
    .unwrap();
    let from_interviews = analysis::literacy_from_interviews(
        &*state.storage,
        &state.questionnaires,
        &Scope::All,
        "ohl_2026",
        &Filter::default(),
        30,
        "en",
    )
    .unwrap();
    assert_eq!(
        from_cells.unweighted_interviews,
        from_interviews.unweighted_interviews
    );
    assert_eq!(from_cells.method, from_interviews.method);
    from_cells
}

/// (district, stratum, weight) of each stored interview, as the analyses read them.
fn design_of(state: &ServerState, id: u128) -> (Option<String>, Option<String>, Option<f64>) {
    let mut found = None;
    let wanted = Uuid::from_u128(id);
    let stored = state.storage.interviews(&Scope::All).unwrap();
    let interview = stored.iter().find(|i| i.interview.id == wanted).unwrap();
    state
        .storage
        .visit_facts(&Scope::All, "ohl_2026", &mut |row| {
            if row.site_id == interview.interview.site_id.as_deref()
                && row.district == interview.district.as_deref()
            {
                found = Some((
                    row.district.map(str::to_string),
                    row.stratum.map(str::to_string),
                    row.weight,
                ));
            }
        })
        .unwrap();
    found.unwrap()
}

fn flags(state: &ServerState, id: u128) -> Vec<zhisu_core::QcFlag> {
    state
        .storage
        .qc_queue(&Scope::All, None, 100)
        .unwrap()
        .into_iter()
        .find(|e| e.id == Uuid::from_u128(id))
        .map(|e| e.flags)
        .unwrap_or_default()
}

#[tokio::test]
async fn a_site_of_another_district_keeps_its_weight_and_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let questionnaires = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
    let state =
        zhisu_server::open_sqlite(&dir.path().join("server.sqlite3"), &questionnaires).unwrap();
    state
        .replace_sites(
            "yuzhong",
            vec![site("yz-1", "yuzhong", "urban", 40.0)],
            "test",
        )
        .unwrap();
    state
        .replace_sites(
            "jiangbei",
            vec![site("jb-1", "jiangbei", "rural", 25.0)],
            "test",
        )
        .unwrap();
    // a site id belongs to one district: the plan refuses it for a second
    match state.replace_sites(
        "jiangbei",
        vec![
            site("jb-1", "jiangbei", "rural", 25.0),
            site("yz-1", "jiangbei", "rural", 25.0),
        ],
        "test",
    ) {
        Err(Refusal::Invalid(message)) => {
            assert!(
                message.contains("site yz-1: the sample plan has it in district yuzhong"),
                "{message}"
            )
        }
        other => panic!("a second district for yz-1 is refused: {other:?}"),
    }
    let (_, yuzhong_token) = zhisu_server_tests::enrol(&state, "2026", "yuzhong", "渝中 1");
    let (_, jiangbei_token) = zhisu_server_tests::enrol(&state, "2026", "jiangbei", "江北 1");
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;

    let batch = interviews(1, 3, "yz-1");
    upload(&base, &yuzhong_token, batch).await;
    let mut batch = interviews(11, 3, "jb-1");
    // the jiangbei tablet also interviews at yuzhong's site yz-1
    batch.extend(interviews(21, 1, "yz-1"));
    let receipts = upload(&base, &jiangbei_token, batch).await;
    assert!(
        receipts.receipts.iter().all(|r| r.status.is_acknowledged()),
        "flagged, not refused: {receipts:?}"
    );

    // flagged for review...
    assert_eq!(
        flags(&state, 21),
        vec![zhisu_core::QcFlag::SiteInOtherDistrict {
            site_id: "yz-1".into(),
            site_district: "yuzhong".into(),
            device_district: "jiangbei".into(),
        }]
    );
    assert!(flags(&state, 11).is_empty() && flags(&state, 1).is_empty());
    // ...counted where the site is, with the site's stratum and weight, unchanged
    assert_eq!(
        design_of(&state, 21),
        (Some("yuzhong".into()), Some("urban".into()), Some(40.0))
    );
    assert_eq!(design_of(&state, 1), design_of(&state, 21));
    assert_eq!(
        design_of(&state, 11),
        (Some("jiangbei".into()), Some("rural".into()), Some(25.0))
    );
    let report_before = report(&state);
    assert_eq!(report_before.method, zhisu_stats::Method::DesignTaylor);
    assert_eq!(report_before.unweighted_interviews, 0);
    assert_eq!(report_before.overall.as_ref().unwrap().n, 7);

    // a site the plan does not list: stored, flagged, and the report says it has no weight
    let unknown = interviews(31, 1, "nowhere-9");
    let receipts = upload(&base, &jiangbei_token, unknown).await;
    assert!(receipts.receipts[0].status.is_acknowledged());
    assert_eq!(
        flags(&state, 31),
        vec![zhisu_core::QcFlag::SiteNotInPlan {
            site_id: "nowhere-9".into()
        }]
    );
    let after = report(&state);
    assert_eq!(after.unweighted_interviews, 1);
    assert_eq!(after.method, zhisu_stats::Method::UnweightedWilson);
    assert_eq!(after.overall.as_ref().unwrap().n, 8);

    // and the dashboard says so, beside the method
    state
        .add_person("city", "市疾控", "a-long-password", Role::CityAdmin, "test")
        .unwrap();
    let client = reqwest::Client::new();
    let cookie = zhisu_server_tests::dashboard_sign_in(&base, "city", "a-long-password").await;
    let html = client
        .get(format!("{base}/dashboard/literacy?lang=en"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Interviews without a weight (no site, or a site without stratum and weight in the sample plan): 1."),
        "{html}"
    );
    let queue: Value = json!(flags(&state, 31)
        .iter()
        .map(|f| f.describe("en"))
        .collect::<Vec<_>>());
    assert_eq!(
        queue,
        json!(["Site 'nowhere-9' is not in the sample plan: the interview has no weight until the plan lists it"])
    );
}
