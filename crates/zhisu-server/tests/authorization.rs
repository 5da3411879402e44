//! The authorisation matrix: every administrative endpoint × every role × own / other district
//! × own / other population, plus missing, forged, expired and ended sessions and device tokens
//! used as sessions. No cell may leak data or change anything it should not.
use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{Duration, TimeZone, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;
use zhisu_core::{AnswerValue, Answers, ScoreReport};
use zhisu_protocol::CompletedInterview;
use zhisu_server::ServerState;
use zhisu_server_storage::Role;

const PASSWORD: &str = "a-long-password";
/// Already served from the questionnaire folder: publishing it again changes nothing (200).
const PILOT: &str = include_str!("../../../questionnaires/pilot.toml");

struct World {
    base: String,
    http: reqwest::Client,
    state: ServerState,
    _dir: tempfile::TempDir,
}

fn interview(n: u128, population: &str) -> zhisu_server_storage::Accepted {
    let mut answers = Answers::new();
    answers.insert("population".into(), AnswerValue::Choice(population.into()));
    let interview = CompletedInterview {
        id: Uuid::from_u128(n),
        questionnaire_id: "ohl_2026".into(),
        questionnaire_version: "2026.2".into(),
        started_at: Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap(),
        completed_at: Utc.with_ymd_and_hms(2026, 11, 29, 8, 20, 0).unwrap(),
        utc_offset_minutes: 480,
        answers,
        site_id: None,
        surveyor_id: None,
        paradata: None,
        practice: false,
        content_hash: String::new(),
    }
    .sealed();
    let score = ScoreReport {
        score: 40,
        max: 49,
        has_literacy: true,
        dimensions: vec![],
        modules: vec![],
        items: vec![],
    };
    let questionnaire = zhisu_core::Questionnaire::from_toml(
        "ohl_2026.toml",
        include_str!("../../../questionnaires/ohl_2026.toml"),
    )
    .unwrap();
    zhisu_server_storage::Accepted::new(&questionnaire, interview, score)
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let questionnaires = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
    let state =
        zhisu_server::open_sqlite(&dir.path().join("server.sqlite3"), &questionnaires).unwrap();
    let people = [
        ("city", Role::CityAdmin),
        (
            "yz_admin",
            Role::DistrictAdmin {
                district: "yuzhong".into(),
            },
        ),
        (
            "jb_admin",
            Role::DistrictAdmin {
                district: "jiangbei".into(),
            },
        ),
        (
            "yz_sup",
            Role::Supervisor {
                district: "yuzhong".into(),
            },
        ),
        (
            "edu",
            Role::DepartmentViewer {
                populations: vec!["teacher".into()],
            },
        ),
    ];
    for (name, role) in people {
        assert!(state
            .add_person(name, name, PASSWORD, role, "test")
            .unwrap()
            .is_some());
    }
    // one device per district, each with one interview: a teacher in yuzhong, a builder in jiangbei
    for (n, district, population) in [
        (1u128, "yuzhong", "teacher"),
        (2, "jiangbei", "construction"),
    ] {
        let code = state
            .create_enrolment_code("2026", district, Duration::days(1), "test")
            .unwrap();
        let enrolment = state.enrol(&code, district).unwrap().unwrap();
        let device = state
            .storage
            .devices()
            .unwrap()
            .into_iter()
            .find(|d| d.id == enrolment.device_id)
            .unwrap();
        state
            .storage
            .ingest(&[interview(n, population)], Some(&device), Utc::now())
            .unwrap();
    }
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;
    World {
        base,
        http: reqwest::Client::new(),
        state,
        _dir: dir,
    }
}

impl World {
    async fn sign_in(&self, username: &str) -> String {
        let session: Value = self
            .http
            .post(format!("{}/api/v1/session", self.base))
            .json(&json!({ "username": username, "password": PASSWORD }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        session["token"].as_str().unwrap().to_string()
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A request from a freshly enrolled device of the 2026 round.
    async fn call_device(&self, method: Method, path: &str) -> Value {
        let code = self
            .state
            .create_enrolment_code("2026", "yuzhong", Duration::days(1), "test")
            .unwrap();
        let token = self.state.enrol(&code, "device").unwrap().unwrap().token;
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header(zhisu_protocol::PROTOCOL_HEADER, "1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// A fresh device in `district`, for a revocation attempt.
    fn spare_device(&self, district: &str) -> Uuid {
        let code = self
            .state
            .create_enrolment_code("2026", district, Duration::days(1), "test")
            .unwrap();
        self.state.enrol(&code, "spare").unwrap().unwrap().device_id
    }
}

const ROLES: [&str; 5] = ["city", "yz_admin", "jb_admin", "yz_sup", "edu"];

#[tokio::test(flavor = "multi_thread")]
async fn every_endpoint_for_every_role() {
    let w = world().await;
    let mut tokens = std::collections::BTreeMap::new();
    for role in ROLES {
        tokens.insert(role, w.sign_in(role).await);
    }
    let site = json!([{ "id": "s-1", "district": "ignored", "name": "站点", "site_type": "station", "quotas": { "migrant": 10 } }]);
    // reference levels: two kept by the city beforehand, one to edit and one to remove
    let reference = json!({"round": "2026", "questionnaire_id": "ohl_2026", "measure": "", "kind": "target", "value_percent": 60.0, "source": "规划", "year": 2026});
    let input: zhisu_server_service::references::ReferenceInput =
        serde_json::from_value(reference.clone()).unwrap();
    let kept: Vec<String> = (0..2)
        .map(|_| {
            w.state
                .put_reference_level(&Role::CityAdmin, None, &input, "city")
                .unwrap()
                .id
                .to_string()
        })
        .collect();
    let edit_path = format!("/api/v1/reference-levels/{}", kept[0]);
    let delete_path = format!("/api/v1/reference-levels/{}", kept[1]);
    // a site id belongs to one district of the plan: jiangbei's list has its own
    let jiangbei_site = json!([{ "id": "s-2", "district": "ignored", "name": "站点", "site_type": "station", "quotas": { "migrant": 10 } }]);
    // (method, path, body, expected status per role in ROLES order)
    let cases: Vec<(Method, &str, Option<Value>, [u16; 5])> = vec![
        (Method::GET, "/api/v1/me", None, [200, 200, 200, 200, 200]),
        // outreach coverage: everyone, each in their own scope (outreach_keeps_to_each_roles_scope)
        (
            Method::GET,
            "/api/v1/outreach/coverage",
            None,
            [200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/interviews",
            None,
            [200, 200, 200, 200, 200],
        ),
        // erasing a respondent's interview: city administrators only (an id never stored: 404)
        (
            Method::POST,
            "/api/v1/interviews/00000000-0000-0000-0000-00000000dead/erase",
            Some(json!({"reason": "respondent's request"})),
            [404, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            "/api/v1/estimates",
            None,
            [200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/estimates?district=jiangbei&population=construction",
            None,
            [200, 200, 200, 200, 200],
        ),
        (
            Method::POST,
            "/api/v1/enrolment-codes",
            Some(json!({"round": "2026", "district": "yuzhong"})),
            [201, 201, 403, 403, 403],
        ),
        (
            Method::POST,
            "/api/v1/enrolment-codes",
            Some(json!({"round": "2026", "district": "jiangbei"})),
            [201, 403, 201, 403, 403],
        ),
        (
            Method::GET,
            "/api/v1/devices",
            None,
            [200, 200, 200, 403, 403],
        ),
        (
            Method::GET,
            "/api/v1/districts/yuzhong/sites",
            None,
            [200, 200, 403, 200, 403],
        ),
        (
            Method::GET,
            "/api/v1/districts/jiangbei/sites",
            None,
            [200, 403, 200, 403, 403],
        ),
        (
            Method::PUT,
            "/api/v1/districts/yuzhong/sites",
            Some(site.clone()),
            [204, 204, 403, 403, 403],
        ),
        (
            Method::PUT,
            "/api/v1/districts/jiangbei/sites",
            Some(jiangbei_site),
            [204, 403, 204, 403, 403],
        ),
        (
            Method::GET,
            "/api/v1/audit",
            None,
            [200, 403, 403, 403, 403],
        ),
        (
            Method::POST,
            "/api/v1/questionnaires",
            Some(json!({"round": "2026", "source": PILOT})),
            [200, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            "/api/v1/people",
            None,
            [200, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            "/api/v1/rounds/2026/settings",
            None,
            [200, 200, 200, 200, 200],
        ),
        (
            Method::PUT,
            "/api/v1/rounds/2026/settings",
            Some(json!({"show_answer_key": false})),
            [200, 403, 403, 403, 403],
        ),
        // reference levels: everyone reads them all, only the city enters, edits, removes
        (
            Method::GET,
            "/api/v1/reference-levels",
            None,
            [200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/reference-levels?q=ohl_2026",
            None,
            [200, 200, 200, 200, 200],
        ),
        (
            Method::POST,
            "/api/v1/reference-levels",
            Some(reference.clone()),
            [201, 403, 403, 403, 403],
        ),
        (
            Method::PUT,
            edit_path.as_str(),
            Some(reference.clone()),
            [200, 403, 403, 403, 403],
        ),
        (
            Method::DELETE,
            delete_path.as_str(),
            None,
            [204, 403, 403, 403, 403],
        ),
        // rounds side by side: every role, in its own scope
        (
            Method::GET,
            "/api/v1/comparison",
            None,
            [200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/comparison?district=jiangbei&population=construction",
            None,
            [200, 200, 200, 200, 200],
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, expected) in &cases {
        for (role, want) in ROLES.iter().zip(expected) {
            let (got, _) = w
                .call(method.clone(), path, Some(&tokens[role]), body.clone())
                .await;
            if got != *want {
                failures.push(format!("{method} {path} as {role}: {got}, expected {want}"));
            }
        }
    }
    // what the matrix changed: one level added by the city, one edited, one removed, each audited
    let levels = w.state.reference_levels(Some("ohl_2026")).unwrap();
    assert_eq!(levels.len(), 2, "{levels:?}");
    assert!(levels.iter().any(|l| l.id.to_string() == kept[0]));
    assert!(!levels.iter().any(|l| l.id.to_string() == kept[1]));
    let audited = |action: &str| {
        w.state
            .storage
            .audit_log(1000)
            .unwrap()
            .iter()
            .filter(|e| e.action == action)
            .count()
    };
    assert_eq!(
        audited("put_reference_level"),
        4,
        "two kept, one added, one edited"
    );
    assert_eq!(audited("delete_reference_level"), 1);
    // the dashboard's form: the city's session enters a level, every other role is refused
    // and changes nothing, and a form without the session's CSRF token changes nothing
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for role in ROLES {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        let page = no_redirect
            .get(format!("{}/dashboard/references", w.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "{role} reads the reference levels");
        let html = page.text().await.unwrap();
        assert!(html.contains("规划"), "{role} sees the levels");
        assert_eq!(
            html.contains("name=\"value_percent\""),
            role == "city",
            "{role}: the form only for the city"
        );
        let csrf = zhisu_server_tests::csrf_of(&html);
        let before = w.state.reference_levels(None).unwrap().len();
        for (token, want) in [
            ("forged", 403),
            (csrf.as_str(), if role == "city" { 303 } else { 403 }),
        ] {
            let response = no_redirect
                .post(format!("{}/dashboard/references", w.base))
                .header("cookie", &cookie)
                .form(&[
                    ("csrf", token),
                    ("round", "2026"),
                    ("questionnaire_id", "ohl_2026"),
                    ("measure", "law"),
                    ("kind", "national"),
                    ("value_percent", "48.5"),
                    ("source", "全国监测"),
                    ("year", "2022"),
                ])
                .send()
                .await
                .unwrap();
            if response.status().as_u16() != want {
                failures.push(format!(
                    "POST /dashboard/references as {role} (csrf {token}): {}, expected {want}",
                    response.status()
                ));
            }
        }
        let after = w.state.reference_levels(None).unwrap().len();
        assert_eq!(after, before + usize::from(role == "city"), "{role}");
    }
    // adding people: only the city administrator (a new name each time, so 201 means allowed)
    for (i, role) in ROLES.iter().enumerate() {
        let body = json!({ "username": format!("new{i}"), "display_name": "新人", "password": PASSWORD, "role": "supervisor", "district": "yuzhong" });
        let (got, _) = w
            .call(
                Method::POST,
                "/api/v1/people",
                Some(&tokens[role]),
                Some(body),
            )
            .await;
        let want = if *role == "city" { 201 } else { 403 };
        if got != want {
            failures.push(format!(
                "POST /api/v1/people as {role}: {got}, expected {want}"
            ));
        }
    }
    // disabling people: only the city administrator; a disabled person's session stops at once,
    // and enabling brings sign-in back
    for role in ROLES {
        let (got, _) = w
            .call(
                Method::POST,
                "/api/v1/people/new0/disable",
                Some(&tokens[role]),
                None,
            )
            .await;
        let want = if role == "city" { 204 } else { 403 };
        if got != want {
            failures.push(format!(
                "POST /api/v1/people/new0/disable as {role}: {got}, expected {want}"
            ));
        }
    }
    let (got, _) = w
        .call(
            Method::POST,
            "/api/v1/people/city/disable",
            Some(&tokens["city"]),
            None,
        )
        .await;
    assert_eq!(got, 409, "nobody disables themselves");
    let disabled_session = tokens["yz_admin"].clone();
    let (got, _) = w
        .call(
            Method::POST,
            "/api/v1/people/yz_admin/disable",
            Some(&tokens["city"]),
            None,
        )
        .await;
    assert_eq!(got, 204);
    let (got, _) = w
        .call(Method::GET, "/api/v1/me", Some(&disabled_session), None)
        .await;
    assert_eq!(got, 401, "a disabled person's session stops");
    let listed: Value = w
        .call(Method::GET, "/api/v1/people", Some(&tokens["city"]), None)
        .await
        .1;
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["username"] == "yz_admin")
        .unwrap();
    assert!(
        row["disabled_at"].is_string() && row.get("password_hash").is_none(),
        "{row}"
    );
    let (got, _) = w
        .call(
            Method::POST,
            "/api/v1/people/yz_admin/enable",
            Some(&tokens["city"]),
            None,
        )
        .await;
    assert_eq!(got, 204);
    let (got, _) = w
        .call(Method::GET, "/api/v1/me", Some(&disabled_session), None)
        .await;
    assert_eq!(
        got, 401,
        "enabling a person again does not revive the sessions disabling ended"
    );
    let fresh = w.sign_in("yz_admin").await;
    let (got, _) = w.call(Method::GET, "/api/v1/me", Some(&fresh), None).await;
    assert_eq!(got, 200, "enabled again: a new sign-in works");
    tokens.insert("yz_admin", fresh);
    // the round's settings reach the devices of the round
    let assignment: Value = w
        .call_device(Method::GET, "/api/v1/device/assignment")
        .await;
    assert_eq!(
        assignment["settings"]["show_answer_key"], false,
        "{assignment}"
    );
    // revoking: own district yes, other district looks like "no such device"
    for role in ROLES {
        let device = w.spare_device("yuzhong");
        let path = format!("/api/v1/devices/{device}/revoke");
        let (got, _) = w.call(Method::POST, &path, Some(&tokens[role]), None).await;
        let want = if matches!(role, "city" | "yz_admin") {
            204
        } else {
            404
        };
        if got != want {
            failures.push(format!("POST {path} as {role}: {got}, expected {want}"));
        }
        let revoked = w
            .state
            .storage
            .devices()
            .unwrap()
            .into_iter()
            .find(|d| d.id == device)
            .unwrap();
        assert_eq!(
            revoked.revoked_at.is_some(),
            want == 204,
            "{role}: revocation happened iff allowed"
        );
    }
    assert!(
        failures.is_empty(),
        "authorisation matrix:\n{}",
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_role_reads_only_its_own_interviews_and_devices() {
    let w = world().await;
    let expectations: [(&str, &[u128]); 5] = [
        ("city", &[1, 2]),
        ("yz_admin", &[1]),
        ("jb_admin", &[2]),
        ("yz_sup", &[1]),
        ("edu", &[1]), // teachers only, wherever they are
    ];
    for (role, ids) in expectations {
        let token = w.sign_in(role).await;
        let (status, list) = w
            .call(Method::GET, "/api/v1/interviews", Some(&token), None)
            .await;
        assert_eq!(status, 200);
        let mut seen: Vec<u128> = list["interviews"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                Uuid::parse_str(i["interview"]["id"].as_str().unwrap())
                    .unwrap()
                    .as_u128()
            })
            .collect();
        seen.sort();
        assert_eq!(seen, ids, "{role} sees exactly its interviews");
        if matches!(role, "city" | "yz_admin" | "jb_admin") {
            let (_, devices) = w
                .call(Method::GET, "/api/v1/devices", Some(&token), None)
                .await;
            let districts: Vec<&str> = devices
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["district"].as_str().unwrap())
                .collect();
            match role {
                "yz_admin" => assert!(districts.iter().all(|d| *d == "yuzhong"), "{districts:?}"),
                "jb_admin" => assert!(districts.iter().all(|d| *d == "jiangbei"), "{districts:?}"),
                _ => assert_eq!(districts.len(), 2),
            }
        }
    }
}

/// The estimate tables (API and the dashboard's downloads) by role × district asked ×
/// population asked: each role sees exactly the interviews of its scope that the filter
/// picks; a district's people keep their district whatever they ask; nobody signed out gets a
/// table.
#[tokio::test(flavor = "multi_thread")]
async fn estimates_keep_to_each_roles_district_and_population() {
    let w = world().await;
    // the world's interviews: (district, population)
    let stored = [("yuzhong", "teacher"), ("jiangbei", "construction")];
    // what each role may read: (its district, its populations)
    let reads: [(&str, Option<&str>, Option<&str>); 5] = [
        ("city", None, None),
        ("yz_admin", Some("yuzhong"), None),
        ("jb_admin", Some("jiangbei"), None),
        ("yz_sup", Some("yuzhong"), None),
        ("edu", None, Some("teacher")),
    ];
    let asks: [(Option<&str>, Option<&str>); 6] = [
        (None, None),
        (Some("yuzhong"), None),
        (Some("jiangbei"), None),
        (None, Some("teacher")),
        (None, Some("construction")),
        (Some("jiangbei"), Some("teacher")),
    ];
    let mut failures = Vec::new();
    for (role, own_district, own_population) in reads {
        let token = w.sign_in(role).await;
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        for (district, population) in asks {
            let mut query = vec![];
            if let Some(d) = district {
                query.push(format!("district={d}"));
            }
            if let Some(p) = population {
                query.push(format!("population={p}"));
            }
            let query = format!("?{}", query.join("&"));
            // the district a district's person gets is their own, whatever they ask
            let district_applied = own_district.or(district);
            let expected: Vec<(&str, &str)> = stored
                .iter()
                .copied()
                .filter(|(d, p)| {
                    district_applied.is_none_or(|x| x == *d)
                        && own_population.is_none_or(|x| x == *p)
                        && population.is_none_or(|x| x == *p)
                })
                .collect();
            let expected_districts: BTreeSet<&str> = expected.iter().map(|e| e.0).collect();
            let expected_populations: BTreeSet<&str> = expected.iter().map(|e| e.1).collect();

            let (status, api) = w
                .call(
                    Method::GET,
                    &format!("/api/v1/estimates{query}"),
                    Some(&token),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{role} {query}");
            let rows = |id: &str| -> Vec<Value> {
                api["tables"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|t| t["id"] == id)
                    .unwrap()["rows"]
                    .as_array()
                    .unwrap()
                    .clone()
            };
            let keys = |id: &str| -> BTreeSet<String> {
                rows(id)
                    .iter()
                    .map(|r| r["key"].as_str().unwrap().to_string())
                    .collect()
            };
            let overall_n = rows("overall")
                .first()
                .map_or(0, |r| r["n"].as_u64().unwrap());
            let seen = (
                overall_n,
                keys("by_district"),
                keys("by_population"),
                api["filter"]["district"].as_str().map(str::to_string),
            );
            let want = (
                expected.len() as u64,
                expected_districts.iter().map(|s| s.to_string()).collect(),
                expected_populations.iter().map(|s| s.to_string()).collect(),
                district_applied.map(str::to_string),
            );
            if seen != want {
                failures.push(format!(
                    "GET /api/v1/estimates{query} as {role}: {seen:?}, expected {want:?}"
                ));
            }

            // the CSV download: the same domains, no other district's rows
            let response = w
                .http
                .get(format!("{}/dashboard/estimates.csv{query}", w.base))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{role} {query}");
            let csv = response.text().await.unwrap();
            let lines: Vec<Vec<&str>> = csv
                .trim_start_matches('\u{feff}')
                .lines()
                .map(|l| l.split(',').collect())
                .collect();
            let districts_in_csv: BTreeSet<String> = lines
                .iter()
                .filter(|l| l[0] == "按区县分组的素养水平")
                .map(|l| l[1].to_string())
                .collect();
            let overall_in_csv: u64 = lines
                .iter()
                .find(|l| l[0] == "总体素养水平")
                .map_or(0, |l| l[3].parse().unwrap());
            if (overall_in_csv, &districts_in_csv) != (want.0, &want.1) {
                failures.push(format!(
                    "GET /dashboard/estimates.csv{query} as {role}: n {overall_in_csv}, districts {districts_in_csv:?}, expected {want:?}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "estimates by role, district and population:\n{}",
        failures.join("\n")
    );
    // signed out: the downloads send to the sign-in page, the API refuses
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in [
        "/dashboard/estimates.csv",
        "/dashboard/estimates.xlsx",
        "/dashboard/measures",
    ] {
        let r = client
            .get(format!("{}{path}", w.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(r.headers()["location"], "/dashboard/login", "{path}");
    }
    let (status, body) = w.call(Method::GET, "/api/v1/estimates", None, None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    // every download is in the audit log
    let downloads = w
        .state
        .storage
        .audit_log(1000)
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "export" && a.detail.starts_with("estimates Csv"))
        .count();
    assert_eq!(downloads, 5 * asks.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_forged_expired_ended_and_device_tokens_are_refused_everywhere() {
    let w = world().await;
    // an expired session, made directly in the database
    let person = w.state.storage.person_for_login("city").unwrap().unwrap().0;
    let expired_token = "expired-session-token";
    w.state
        .storage
        .add_session(
            &zhisu_server_service::devices::hash_token(expired_token),
            person.id,
            Utc::now() - Duration::minutes(1),
            Utc::now() - Duration::hours(9),
            &zhisu_server_storage::AuditEntry::now("test", "sign_in", "city"),
        )
        .unwrap();
    // an ended session
    let ended = w.sign_in("city").await;
    let (status, _) = w
        .call(Method::DELETE, "/api/v1/session", Some(&ended), None)
        .await;
    assert_eq!(status, 204);
    // a device token
    let code = w
        .state
        .create_enrolment_code("2026", "yuzhong", Duration::days(1), "t")
        .unwrap();
    let device_token = w.state.enrol(&code, "t").unwrap().unwrap().token;

    let endpoints = [
        (Method::GET, "/api/v1/me"),
        (Method::GET, "/api/v1/interviews"),
        (
            Method::POST,
            "/api/v1/interviews/00000000-0000-0000-0000-00000000dead/erase",
        ),
        (Method::GET, "/api/v1/estimates"),
        (Method::POST, "/api/v1/enrolment-codes"),
        (Method::GET, "/api/v1/devices"),
        (Method::GET, "/api/v1/districts/yuzhong/sites"),
        (Method::PUT, "/api/v1/districts/yuzhong/sites"),
        (Method::GET, "/api/v1/audit"),
        (Method::POST, "/api/v1/people"),
        (Method::POST, "/api/v1/questionnaires"),
        (Method::DELETE, "/api/v1/session"),
        (Method::GET, "/api/v1/people"),
        (Method::POST, "/api/v1/people/yz_admin/disable"),
        (Method::POST, "/api/v1/people/yz_admin/enable"),
        (Method::GET, "/api/v1/rounds/2026/settings"),
        (Method::PUT, "/api/v1/rounds/2026/settings"),
    ];
    let bad: [(&str, Option<&str>); 5] = [
        ("missing", None),
        ("forged", Some("0123456789abcdef")),
        ("expired", Some(expired_token)),
        ("ended", Some(&ended)),
        ("device token", Some(&device_token)),
    ];
    // what the refused requests may have done: anything in the audit log but sign-ins
    let changes = || {
        w.state
            .storage
            .audit_log(1000)
            .unwrap()
            .into_iter()
            .filter(|a| a.action != "sign_in")
            .count()
    };
    let before = changes();
    for (method, path) in endpoints {
        for (what, token) in bad {
            let (status, body) = w.call(method.clone(), path, token, Some(json!({}))).await;
            assert_eq!(status, 401, "{method} {path} with a {what} token");
            assert_eq!(
                body["code"], "unauthorized",
                "{method} {path} with a {what} token"
            );
        }
    }
    // and session tokens do not work on device endpoints
    let session = w.sign_in("city").await;
    for (method, path) in [
        (Method::GET, "/api/v1/device/assignment"),
        (Method::GET, zhisu_protocol::surveyors::SURVEYORS_PATH),
        (Method::GET, "/api/v1/questionnaires"),
        (Method::POST, "/api/v1/interviews/batch"),
    ] {
        let response = w
            .http
            .request(method.clone(), format!("{}{path}", w.base))
            .header("zhisu-protocol", "1")
            .bearer_auth(&session)
            .json(&json!({ "interviews": [] }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            401,
            "{method} {path} with a session token"
        );
    }
    assert_eq!(changes(), before, "no refused request did anything");
}

/// A district's sites with mistakes are refused whole, every mistake named, and the stored list
/// stays as it was; an enrolment code needs a district.
#[tokio::test(flavor = "multi_thread")]
async fn bad_sites_and_empty_districts_are_refused_and_change_nothing() {
    let w = world().await;
    let token = w.sign_in("city").await;
    let good = json!([{ "id": "s-1", "district": "x", "name": "站点", "site_type": "station", "quotas": { "migrant": 10 } }]);
    let (status, _) = w
        .call(
            Method::PUT,
            "/api/v1/districts/yuzhong/sites",
            Some(&token),
            Some(good),
        )
        .await;
    assert_eq!(status, 204);
    let bad = json!([
        { "id": "", "district": "x", "name": "无编号", "site_type": "station" },
        { "id": "a", "district": "x", "name": "商场", "site_type": "mall", "weight": -3.0 },
        { "id": "a", "district": "x", "name": "", "site_type": "school", "latitude": 95.0, "longitude": 106.5 },
        { "id": "b", "district": "x", "name": "工厂", "site_type": "enterprise", "latitude": 29.5, "stratum": " " }
    ]);
    let (status, body) = w
        .call(
            Method::PUT,
            "/api/v1/districts/yuzhong/sites",
            Some(&token),
            Some(bad),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "malformed_request", "{body}");
    let message = body["message"].as_str().unwrap();
    for problem in [
        "site 1: the id is empty",
        "site a: site_type must be one of",
        "site a: the weight must be a positive number",
        "site a: the id is listed twice",
        "site a: the name is empty",
        "site a: the position is not on Earth",
        "site b: give both latitude and longitude, or neither",
        "site b: the stratum is empty",
    ] {
        assert!(message.contains(problem), "{problem} in {message}");
    }
    let (_, stored) = w
        .call(
            Method::GET,
            "/api/v1/districts/yuzhong/sites",
            Some(&token),
            None,
        )
        .await;
    let ids: Vec<&str> = stored
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["s-1"], "nothing of the bad list was stored");

    for district in ["", "  "] {
        let (status, body) = w
            .call(
                Method::POST,
                "/api/v1/enrolment-codes",
                Some(&token),
                Some(json!({ "round": "2026", "district": district })),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["code"], "malformed_request", "{body}");
    }
}

/// Guessing passwords: after five wrong ones in a row sign-in pauses for that username, even
/// with the right password, through the API and the dashboard's form alike; other people are
/// not held up.
#[tokio::test(flavor = "multi_thread")]
async fn wrong_passwords_in_a_row_pause_sign_in_for_that_username() {
    let w = world().await;
    let attempt = |username: &'static str, password: &'static str| {
        let http = w.http.clone();
        let url = format!("{}/api/v1/session", w.base);
        async move {
            let response = http
                .post(url)
                .json(&json!({ "username": username, "password": password }))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    for _ in 0..zhisu_server_service::people::FREE_ATTEMPTS {
        let (status, body) = attempt("yz_admin", "guess-1234").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("bad_credentials"))
        );
    }
    let (status, body) = attempt("yz_admin", PASSWORD).await;
    assert_eq!(status, 429, "the right password waits too: {body}");
    assert_eq!(body["code"], "too_many_sign_in_attempts");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("try again in 1 minute"),
        "{body}"
    );
    // the dashboard's form says so in Chinese
    let response = zhisu_server_tests::post_dashboard_sign_in(
        &reqwest::Client::new(),
        &w.base,
        "YZ_admin",
        PASSWORD,
    )
    .await;
    assert_eq!(response.status(), 429);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("这个用户名的密码错误次数太多，请 1 分钟后再试。"),
        "{page}"
    );
    // someone else signs in as usual
    let (status, body) = attempt("jb_admin", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
}

fn contact(
    n: u128,
    disposition: zhisu_core::Disposition,
    population: Option<&str>,
) -> zhisu_server_storage::AcceptedContact {
    use zhisu_core::Disposition;
    zhisu_server_storage::AcceptedContact {
        contact: zhisu_protocol::ContactOutcome {
            id: Uuid::from_u128(n),
            questionnaire_id: "ohl_2026".into(),
            questionnaire_version: "2026.2".into(),
            started_at: Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap(),
            ended_at: Utc.with_ymd_and_hms(2026, 11, 29, 8, 2, 0).unwrap(),
            utc_offset_minutes: 480,
            disposition,
            reason: matches!(disposition, Disposition::Partial | Disposition::Other)
                .then(|| "走了".to_string()),
            items_answered: 3,
            excluded_by: if disposition == Disposition::NotEligible {
                vec!["age".into()]
            } else {
                vec![]
            },
            site_id: None,
            surveyor_id: None,
            population: population.map(str::to_string),
            content_hash: String::new(),
        }
        .sealed(),
        site_district: None,
    }
}

/// The fieldwork outcomes (the progress page's table and its CSV) by role: each role counts
/// exactly the contacts and interviews of its scope; a population scope gets counts and no
/// rates; nobody signed out gets the table.
#[tokio::test(flavor = "multi_thread")]
async fn fieldwork_outcomes_keep_to_each_roles_scope() {
    use zhisu_core::Disposition::*;
    let w = world().await;
    let devices = w.state.storage.devices().unwrap();
    let device = |district: &str| devices.iter().find(|d| d.district == district).unwrap();
    w.state
        .storage
        .ingest_contacts(
            &[
                contact(101, Refused, None),
                contact(102, NotEligible, None),
                contact(103, Partial, Some("teacher")),
            ],
            Some(device("yuzhong")),
            Utc::now(),
        )
        .unwrap();
    w.state
        .storage
        .ingest_contacts(
            &[
                contact(201, Refused, None),
                contact(202, Refused, None),
                contact(203, Other, Some("construction")),
            ],
            Some(device("jiangbei")),
            Utc::now(),
        )
        .unwrap();
    // (role, [total, completed, partial, refused, not eligible, other], RR1 column)
    let expected: [(&str, [u64; 6], &str); 5] = [
        ("city", [8, 2, 1, 3, 1, 1], "28.6"), // 2 / (2 + 1 + 3 + 1)
        ("yz_admin", [4, 1, 1, 1, 1, 0], "33.3"),
        ("jb_admin", [4, 1, 0, 2, 0, 1], "25.0"),
        ("yz_sup", [4, 1, 1, 1, 1, 0], "33.3"),
        ("edu", [2, 1, 1, 0, 0, 0], ""),
    ];
    for (role, counts, rr1) in expected {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        let csv = w
            .http
            .get(format!("{}/dashboard/fieldwork.csv?lang=en", w.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(csv.status(), 200, "{role}");
        let text = csv.text().await.unwrap();
        let all = text
            .lines()
            .find(|l| l.trim_start_matches('\u{feff}').starts_with("all,"))
            .unwrap_or_else(|| panic!("{role}: no overall row in {text}"));
        let cells: Vec<&str> = all.split(',').collect();
        let got: Vec<u64> = cells[3..9].iter().map(|c| c.parse().unwrap()).collect();
        assert_eq!(got, counts, "{role}: {all}");
        assert_eq!(cells[9], rr1, "{role}: RR1 in {all}");
        let page = w
            .http
            .get(format!("{}/dashboard/progress", w.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("id=\"fieldwork\""), "{role}");
        assert!(
            page.contains(&format!("data-count=\"total\">{}<", counts[0])),
            "{role}: the page's overall count"
        );
        assert_eq!(page.contains("data-rate=\"rr1\""), role != "edu", "{role}");
    }
    // every download is in the audit log
    let downloads = w
        .state
        .storage
        .audit_log(100)
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "export" && a.detail.starts_with("fieldwork CSV"))
        .count();
    assert_eq!(downloads, 5);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .get(format!("{}/dashboard/fieldwork.csv", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/dashboard/login");
}

/// An interview of `population` at `site`, completed on `day` (local date, +08:00).
fn interview_at(n: u128, population: &str, site: &str, day: u32) -> zhisu_server_storage::Accepted {
    let mut a = interview(n, population);
    a.interview.site_id = Some(site.to_string());
    a.interview.started_at = Utc.with_ymd_and_hms(2026, 11, day, 8, 0, 0).unwrap();
    a.interview.completed_at = Utc.with_ymd_and_hms(2026, 11, day, 8, 20, 0).unwrap();
    let interview = a.interview.sealed();
    let questionnaire = zhisu_core::Questionnaire::from_toml(
        "ohl_2026.toml",
        include_str!("../../../questionnaires/ohl_2026.toml"),
    )
    .unwrap();
    zhisu_server_storage::Accepted::new(&questionnaire, interview, a.score)
}

/// Rounds in time (issue 15): a round's window set by the city; the pace worked by hand; the
/// progress page shows it in each district's scope; a window that ends before it starts is
/// refused and changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_rounds_window_gives_the_expected_pace_and_the_quotas_that_will_not_be_met() {
    use zhisu_server_service::pace;
    let w = world().await;
    let city = w.sign_in("city").await;
    // the window: 2026-11-27 to 2026-12-06, ten days
    let (status, _) = w
        .call(
            Method::PUT,
            "/api/v1/rounds/2026/settings",
            Some(&city),
            Some(json!({"show_answer_key": true, "starts_on": "2026-11-27", "ends_on": "2026-12-06"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = w
        .call(
            Method::PUT,
            "/api/v1/rounds/2026/settings",
            Some(&city),
            Some(json!({"starts_on": "2026-12-06", "ends_on": "2026-11-27"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("malformed_request"))
    );
    let (status, _) = w
        .call(
            Method::PUT,
            "/api/v1/rounds/2026/settings",
            Some(&w.sign_in("yz_admin").await),
            Some(json!({"starts_on": "2026-11-01", "ends_on": "2026-11-02"})),
        )
        .await;
    assert_eq!(status, 403);
    let kept = w.state.storage.round_settings("2026").unwrap().unwrap();
    assert_eq!(
        (
            kept.starts_on.unwrap().to_string(),
            kept.ends_on.unwrap().to_string()
        ),
        ("2026-11-27".to_string(), "2026-12-06".to_string())
    );
    // yuzhong's site: 10 teachers and 20 construction workers wanted
    let site = zhisu_protocol::Site {
        id: "yz-1".into(),
        district: "yuzhong".into(),
        name: "解放碑工地".into(),
        site_type: "enterprise".into(),
        quotas: [
            ("teacher".to_string(), 10),
            ("construction".to_string(), 20),
        ]
        .into_iter()
        .collect(),
        ..Default::default()
    };
    w.state
        .storage
        .replace_sites(
            "yuzhong",
            &[site],
            &zhisu_server_storage::AuditEntry::now("test", "replace_sites", "yz-1"),
        )
        .unwrap();
    let devices = w.state.storage.devices().unwrap();
    let yuzhong = devices.iter().find(|d| d.district == "yuzhong").unwrap();
    let batch = vec![
        interview_at(301, "teacher", "yz-1", 27),
        interview_at(302, "teacher", "yz-1", 27),
        interview_at(303, "construction", "yz-1", 28),
        interview_at(304, "teacher", "yz-1", 29),
        interview_at(305, "teacher", "yz-1", 29),
        interview_at(306, "teacher", "yz-1", 20), // before the window: not this round's pace
    ];
    w.state
        .storage
        .ingest(&batch, Some(yuzhong), Utc::now())
        .unwrap();
    // on 2026-11-30, 4 of 10 days have begun:
    //   teachers: expected 10·4/10 = 4, done 4, projected 4·10/4 = 10: met;
    //   construction: expected 20·4/10 = 8, done 1, projected 1·10/4 = 2.5 < 20: not met;
    //   each day expects 30/10 = 3.
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let scope = zhisu_server_storage::Scope::District("yuzhong".into());
    assert_eq!(
        pace::current_round(w.state.storage.as_ref())
            .unwrap()
            .as_deref(),
        Some("2026")
    );
    let p = pace::pace(w.state.storage.as_ref(), &scope, "2026", today)
        .unwrap()
        .unwrap();
    assert_eq!((p.days_total, p.days_begun), (10, 4));
    let yz1 = &p.sites[0];
    let teacher = &yz1.populations["teacher"];
    assert_eq!(
        (
            teacher.done,
            teacher.expected,
            teacher.projected,
            teacher.short
        ),
        (4, 4.0, Some(10.0), false)
    );
    let builders = &yz1.populations["construction"];
    assert_eq!(
        (
            builders.done,
            builders.expected,
            builders.projected,
            builders.short
        ),
        (1, 8.0, Some(2.5), true)
    );
    let days: Vec<(&str, u64)> = p.days.iter().map(|d| (d.day.as_str(), d.done)).collect();
    assert_eq!(
        days,
        // the world's own yuzhong interview (no site) was done on 11-29 too: the days count
        // every interview of the scope, the sites those of their site
        [
            ("2026-11-27", 2),
            ("2026-11-28", 1),
            ("2026-11-29", 3),
            ("2026-11-30", 0)
        ]
    );
    assert!(p.days.iter().all(|d| d.expected == 3.0));
    assert_eq!(p.shortfalls().len(), 1);
    // before the window nothing is expected or flagged
    let early = pace::pace(
        w.state.storage.as_ref(),
        &scope,
        "2026",
        chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(early.days_begun, 0);
    assert!(early.shortfalls().is_empty());
    // the page, in each scope: yuzhong's people see the site and its shortfall, jiangbei's not
    for (role, sees) in [("city", true), ("yz_sup", true), ("jb_admin", false)] {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        let page = w
            .http
            .get(format!("{}/dashboard/progress", w.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("id=\"pace-window\""), "{role}");
        assert_eq!(
            page.contains(
                "data-site=\"yz-1\" data-population=\"construction\" data-short=\"true\""
            ),
            sees,
            "{role}"
        );
    }
}

/// A teacher's interview by `surveyor` that took `seconds`.
fn interview_by(n: u128, surveyor: &str, seconds: i64) -> zhisu_server_storage::Accepted {
    let mut a = interview(n, "teacher");
    a.interview.surveyor_id = Some(surveyor.to_string());
    a.interview.completed_at = a.interview.started_at + Duration::seconds(seconds);
    let interview = a.interview.sealed();
    let questionnaire = zhisu_core::Questionnaire::from_toml(
        "ohl_2026.toml",
        include_str!("../../../questionnaires/ohl_2026.toml"),
    )
    .unwrap();
    zhisu_server_storage::Accepted::new(&questionnaire, interview, a.score)
}

/// Quality per surveyor and per site (issue 15), worked by hand (docs/statistics.md §12): a
/// fast surveyor with many flagged and a rejected interview is marked; each role sees its
/// scope; a population scope has no rates; the table sorts and downloads as CSV.
#[tokio::test(flavor = "multi_thread")]
async fn quality_per_surveyor_marks_the_outliers_in_each_roles_scope() {
    use zhisu_server_service::quality::{self, Outlier, QualityBy};
    use zhisu_server_storage::{AuditEntry, QcFlag, QcStatus, Review, Scope};
    let w = world().await;
    let devices = w.state.storage.devices().unwrap();
    let yuzhong = devices.iter().find(|d| d.district == "yuzhong").unwrap();
    let mut batch = Vec::new();
    for (n, s) in [(401, 600), (402, 600), (403, 900), (404, 900)] {
        batch.push(interview_by(n, "zhang", s));
    }
    for (n, s) in [(411, 120), (412, 120), (413, 180), (414, 180)] {
        batch.push(interview_by(n, "li", s));
    }
    w.state
        .storage
        .ingest(&batch, Some(yuzhong), Utc::now())
        .unwrap();
    let audit = AuditEntry::now("test", "flag", "");
    for n in [411u128, 412] {
        let flag = QcFlag::SiteNotInPlan {
            site_id: "x".into(),
        };
        assert!(w
            .state
            .storage
            .flag_for_review(Uuid::from_u128(n), &flag, &audit)
            .unwrap());
    }
    let review = Review {
        status: QcStatus::Rejected,
        comment: "录音对不上".into(),
        reviewer: "yz_sup".into(),
        at: Utc::now(),
    };
    w.state
        .storage
        .review(&Scope::All, Uuid::from_u128(413), &review, &audit)
        .unwrap()
        .unwrap();
    let mut refused = contact(421, zhisu_core::Disposition::Refused, None);
    refused.contact.surveyor_id = Some("zhang".into());
    let refused = zhisu_server_storage::AcceptedContact {
        contact: refused.contact.sealed(),
        site_district: None,
    };
    w.state
        .storage
        .ingest_contacts(&[refused], Some(yuzhong), Utc::now())
        .unwrap();

    // yuzhong: 9 interviews (the world's own, 20 minutes, has no surveyor). Durations sorted:
    // 2, 2, 3, 3, 10, 10, 15, 15, 20 minutes: median 10; li's 2.5 < 10/2: fast. Flagged: li 2/4
    // = 50 % > max(2 × 2/9, 2/9 + 10 %) = 44.4 %. Rejected: li 1/4 = 25 % > max(2/9, 1/9 + 10 %)
    // = 22.2 %. zhang: RR1 = 4/(4 + 1) = 80 %; li: 3/3 = 100 % (the rejected one is no I).
    let table = quality::quality(
        w.state.storage.as_ref(),
        &Scope::District("yuzhong".into()),
        QualityBy::Surveyor,
    )
    .unwrap();
    assert_eq!(table.overall.interviews, 9);
    assert_eq!(table.overall.median_duration_min, Some(10.0));
    let line = |id: &str| {
        table
            .lines
            .iter()
            .find(|l| l.id.as_deref() == Some(id))
            .unwrap()
    };
    let li = line("li");
    assert_eq!(li.median_duration_min, Some(2.5));
    assert_eq!(
        (li.share_flagged, li.rejection_rate),
        (Some(0.5), Some(0.25))
    );
    assert_eq!(
        li.outliers,
        [Outlier::Fast, Outlier::Flagged, Outlier::Rejected]
    );
    assert_eq!(li.rr1, Some(1.0));
    let zhang = line("zhang");
    assert_eq!(zhang.median_duration_min, Some(12.5));
    assert_eq!(zhang.rr1, Some(0.8));
    assert!(zhang.outliers.is_empty());
    // the response rule: 20 points or more below the whole
    let mut lines = vec![zhang.clone()];
    lines[0].rr1 = Some(0.4);
    let mut overall = table.overall.clone();
    overall.rr1 = Some(0.6);
    quality::mark_outliers(&overall, &mut lines);
    assert_eq!(lines[0].outliers, [Outlier::LowResponse]);
    // sorting: by median duration, shortest first, lines without one last
    let mut sorted = table.lines.clone();
    quality::sort_lines(&mut sorted, "duration", false);
    assert_eq!(sorted[0].id.as_deref(), Some("li"));

    // the page and the CSV, per role
    for (role, sees_li, rates) in [
        ("city", true, true),
        ("yz_admin", true, true),
        ("yz_sup", true, true),
        ("jb_admin", false, true),
        ("edu", true, false),
    ] {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        let get = |path: &str| {
            let (http, url, cookie) = (w.http.clone(), format!("{}{path}", w.base), cookie.clone());
            async move {
                let r = http.get(url).header("cookie", cookie).send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        let (status, page) = get("/dashboard/quality?sort=duration").await;
        assert_eq!(status, 200, "{role}");
        assert_eq!(
            page.contains("data-id=\"li\" data-outliers=\"fast flagged rejected\""),
            sees_li,
            "{role}"
        );
        let (status, csv) = get("/dashboard/quality.csv?lang=en").await;
        assert_eq!(status, 200, "{role}");
        let li_row = csv.lines().find(|l| l.contains(",li,"));
        assert_eq!(li_row.is_some(), sees_li, "{role}: {csv}");
        if let Some(row) = li_row {
            let cells: Vec<&str> = row.split(',').collect();
            assert_eq!(cells[2], "4", "{role}: {row}");
            assert_eq!(cells[8], if rates { "100.0" } else { "" }, "{role}: {row}");
            assert_eq!(cells[13], "fast flagged rejected", "{role}: {row}");
        }
        assert!(!csv.contains("jiangbei") || role != "yz_sup");
        // the workbook: the same rows, in the same scope, the counts as numbers
        let r = w
            .http
            .get(format!("{}/dashboard/quality.xlsx?lang=en", w.base))
            .header("cookie", cookie.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{role}");
        let bytes = r.bytes().await.unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let mut strings = String::new();
        std::io::Read::read_to_string(
            &mut zip.by_name("xl/sharedStrings.xml").unwrap(),
            &mut strings,
        )
        .unwrap();
        assert_eq!(strings.contains("<t>li</t>"), sees_li, "{role}");
        assert_eq!(
            strings.contains("<t>fast flagged rejected</t>"),
            sees_li,
            "{role}"
        );
        assert!(strings.contains("<t>back-check agreement %</t>"), "{role}");
        assert!(!strings.contains("<t>4</t>"), "{role}: counts are numbers");
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in [
        "/dashboard/quality",
        "/dashboard/quality.csv",
        "/dashboard/quality.xlsx",
    ] {
        let r = client
            .get(format!("{}{path}", w.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{path}");
    }
}

/// The printable sheet of enrolment codes (`/dashboard/enrolment-sheet`): city administrators for
/// any district, district administrators for their own; supervisors and department viewers get
/// neither the form nor codes; a form without the session's CSRF token or with a bad count makes
/// no code. Every code printed enrols a tablet, and its QR code holds the enrolment URI.
#[tokio::test(flavor = "multi_thread")]
async fn the_sheet_of_enrolment_codes_for_every_role() {
    let w = world().await;
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut failures = Vec::new();
    // (role, GET form, POST for yuzhong)
    let expected = [
        ("city", 200, 200),
        ("yz_admin", 200, 200),
        ("jb_admin", 200, 403),
        ("yz_sup", 403, 403),
        ("edu", 403, 403),
    ];
    for (role, want_form, want_sheet) in expected {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        let form = no_redirect
            .get(format!("{}/dashboard/enrolment-sheet", w.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        if form.status().as_u16() != want_form {
            failures.push(format!(
                "GET /dashboard/enrolment-sheet as {role}: {}, expected {want_form}",
                form.status()
            ));
        }
        // a page of this session that carries its CSRF token
        let html = no_redirect
            .get(format!("{}/dashboard/references", w.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = zhisu_server_tests::csrf_of(&html);
        let post = |token: String, count: &'static str| {
            let (no_redirect, cookie, base) = (no_redirect.clone(), cookie.clone(), w.base.clone());
            async move {
                no_redirect
                    .post(format!("{base}/dashboard/enrolment-sheet"))
                    .header("cookie", &cookie)
                    .form(&[
                        ("csrf", token.as_str()),
                        ("round", "2026"),
                        ("district", "yuzhong"),
                        ("count", count),
                        ("valid_days", "7"),
                    ])
                    .send()
                    .await
                    .unwrap()
            }
        };
        let forged = post("forged".into(), "2").await;
        assert_eq!(forged.status(), 403, "{role}: forged CSRF token");
        assert!(!forged.text().await.unwrap().contains("data-enrol-uri"));
        let bad = post(csrf.clone(), "1000").await;
        let want_bad = if want_sheet == 200 { 400 } else { 403 };
        assert_eq!(bad.status().as_u16(), want_bad, "{role}: 1000 codes");
        assert!(!bad.text().await.unwrap().contains("data-enrol-uri"));
        let sheet = post(csrf, "2").await;
        if sheet.status().as_u16() != want_sheet {
            failures.push(format!(
                "POST /dashboard/enrolment-sheet as {role}: {}, expected {want_sheet}",
                sheet.status()
            ));
            continue;
        }
        let html = sheet.text().await.unwrap();
        let uris: Vec<String> = html
            .split("data-enrol-uri=\"")
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].replace("&amp;", "&"))
            .collect();
        if want_sheet != 200 {
            assert!(uris.is_empty(), "{role} got codes");
            continue;
        }
        assert_eq!(uris.len(), 2, "{role}: two codes on the sheet");
        assert_eq!(html.matches("<svg").count(), 2, "{role}: a QR code each");
        for uri in uris {
            let parsed = zhisu_protocol::enrol_uri::EnrolUri::parse(&uri)
                .unwrap_or_else(|| panic!("{role}: {uri} is an enrolment URI"));
            assert_eq!(parsed.server_url, w.base, "{role}");
            let enrolment = w.state.enrol(&parsed.code, "sheet tablet").unwrap();
            assert_eq!(
                enrolment.unwrap().district,
                "yuzhong",
                "{role}: the code enrols a yuzhong tablet"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The dashboard's 停用 button for a lost tablet: shown to those who manage its district only;
/// the first post asks again (what stopping means, the interviews still waiting) and changes
/// nothing; the confirmed post revokes it, audited, and the tablet is then refused; another
/// district's administrator, a supervisor, a department viewer and a post without the session's
/// CSRF token change nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_tablet_is_revoked_from_the_dashboard_by_those_who_manage_its_district() {
    let w = world().await;
    let devices = w.state.storage.devices().unwrap();
    let yz = devices.iter().find(|d| d.district == "yuzhong").unwrap().id;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let progress = |cookie: String| {
        let http = http.clone();
        let url = format!("{}/dashboard/progress", w.base);
        async move {
            http.get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let post = |cookie: String, form: Vec<(&'static str, String)>| {
        let http = http.clone();
        let url = format!("{}/dashboard/devices/{yz}/revoke", w.base);
        async move {
            let response = http
                .post(url)
                .header("cookie", cookie)
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    let revoked = || {
        w.state
            .storage
            .device(yz)
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    };
    let button = format!("id=\"revoke-{yz}\"");
    // those who may not: no button, and a post changes nothing
    for user in ["jb_admin", "yz_sup", "edu"] {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, user, PASSWORD).await;
        let page = progress(cookie.clone()).await;
        assert!(!page.contains(&button), "{user} sees no button");
        let csrf = zhisu_server_tests::csrf_of(&page);
        let (status, _) = post(cookie, vec![("csrf", csrf), ("confirm", "yes".into())]).await;
        assert!(matches!(status, 403 | 404), "{user}: {status}");
        assert!(!revoked(), "{user} changed nothing");
    }
    let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, "yz_admin", PASSWORD).await;
    let page = progress(cookie.clone()).await;
    assert!(
        page.contains(&button),
        "the district's administrator sees the button"
    );
    let csrf = zhisu_server_tests::csrf_of(&page);
    // without the session's token: refused
    let (status, _) = post(
        cookie.clone(),
        vec![("csrf", "forged".into()), ("confirm", "yes".into())],
    )
    .await;
    assert_eq!(status, 403);
    assert!(!revoked());
    // the first post asks again and changes nothing
    let (status, confirm) = post(cookie.clone(), vec![("csrf", csrf.clone())]).await;
    assert_eq!(status, 200);
    assert!(confirm.contains("id=\"revoke-confirm\""), "{confirm}");
    assert!(confirm.contains("不能撤销"), "says it cannot be undone");
    assert!(
        confirm.contains("导出备份"),
        "says how waiting interviews still arrive"
    );
    assert!(!revoked(), "asking changes nothing");
    // confirmed: revoked, audited, back to progress; the tablet is then refused
    let (status, _) = post(
        cookie.clone(),
        vec![("csrf", csrf), ("confirm", "yes".into())],
    )
    .await;
    assert_eq!(status, 303);
    assert!(revoked());
    let audit = w.state.storage.audit_log(20).unwrap();
    assert!(
        audit.iter().any(|a| a.action == "revoke_device"
            && a.actor == "yz_admin"
            && a.detail == yz.to_string()),
        "{audit:?}"
    );
    let page = progress(cookie).await;
    assert!(!page.contains(&button), "no button for a revoked tablet");
}

/// The scored items of the bundled questionnaire's version 2026.2, in file order.
fn scored_items() -> Vec<String> {
    zhisu_core::Questionnaire::from_toml(
        "ohl_2026.toml",
        include_str!("../../../questionnaires/ohl_2026.toml"),
    )
    .unwrap()
    .scored_items()
    .map(|i| i.id.clone())
    .collect()
}

fn quiz(
    n: u128,
    event: Option<Uuid>,
    day: u32,
    items: &[(&str, bool)],
) -> zhisu_protocol::QuizSession {
    zhisu_protocol::QuizSession {
        id: Uuid::from_u128(n),
        questionnaire_id: "ohl_2026".into(),
        questionnaire_version: "2026.2".into(),
        started_at: Utc.with_ymd_and_hms(2026, 12, day, 2, 0, 0).unwrap(),
        ended_at: Utc.with_ymd_and_hms(2026, 12, day, 2, 4, 0).unwrap(),
        utc_offset_minutes: 480,
        site_id: None,
        event_id: event,
        surveyor_id: Some("S01".into()),
        items: items
            .iter()
            .map(|(item, right)| zhisu_protocol::QuizItem {
                item: item.to_string(),
                right: *right,
            })
            .collect(),
        // the score screen offered the take-home code: an item was missed (every other one,
        // as a tablet without a server address would not)
        take_home_qr: n % 2 == 1 && items.iter().any(|(_, right)| !right),
        content_hash: String::new(),
    }
    .sealed()
}

/// Outreach (issue 24): events are recorded through the dashboard's form by the people who
/// manage their district (CSRF-checked, audited), delivered to that district's tablets only;
/// quiz sessions uploaded by tablets are stored once (a re-send is `already_stored`); the
/// coverage each role reads equals counts made here from the database in its scope; and no
/// estimate changes.
#[tokio::test(flavor = "multi_thread")]
async fn outreach_keeps_to_each_roles_scope() {
    let w = world().await;
    let estimates_before = w
        .call(
            Method::GET,
            "/api/v1/estimates",
            Some(&w.sign_in("city").await),
            None,
        )
        .await;
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // (role, district of the event posted, expected status)
    let posts = [
        ("yz_admin", "yuzhong", 303),
        ("jb_admin", "yuzhong", 403),
        ("yz_sup", "yuzhong", 403),
        ("edu", "yuzhong", 403),
        ("jb_admin", "jiangbei", 303),
        ("city", "jiangbei", 303),
    ];
    for (role, district, want) in posts {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        let page = no_redirect
            .get(format!("{}/dashboard/outreach", w.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "{role} reads the outreach page");
        let html = page.text().await.unwrap();
        assert_eq!(
            html.contains("id=\"event-form\""),
            matches!(role, "city" | "yz_admin" | "jb_admin"),
            "{role}: the form only for those who manage a district"
        );
        let csrf = zhisu_server_tests::csrf_of(&html);
        let (place, population, reached) = match (role, district) {
            (_, "yuzhong") => ("解放碑学校", "teacher", "50"),
            ("city", _) => ("江北车站", "", ""),
            _ => ("江北工地", "construction", "30"),
        };
        for (token, expected) in [("forged", 403), (csrf.as_str(), want)] {
            let before = w
                .state
                .storage
                .events(&zhisu_server_storage::Scope::All)
                .unwrap()
                .len();
            let response = no_redirect
                .post(format!("{}/dashboard/outreach", w.base))
                .header("cookie", &cookie)
                .form(&[
                    ("csrf", token),
                    ("district", district),
                    ("kind", "school"),
                    ("place", place),
                    ("date", "2026-12-01"),
                    ("population", population),
                    ("people_reached", reached),
                    ("material", "手册 50 份"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status().as_u16(),
                expected,
                "{role} posts a {district} event (csrf {token})"
            );
            let after = w
                .state
                .storage
                .events(&zhisu_server_storage::Scope::All)
                .unwrap()
                .len();
            assert_eq!(
                after,
                before + usize::from(expected == 303),
                "{role}, {token}"
            );
        }
    }
    // a bad form says what is wrong and keeps nothing
    let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, "yz_admin", PASSWORD).await;
    let html = no_redirect
        .get(format!("{}/dashboard/outreach", w.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = zhisu_server_tests::csrf_of(&html);
    let bad = no_redirect
        .post(format!("{}/dashboard/outreach", w.base))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("district", "yuzhong"),
            ("kind", "moon"),
            ("place", ""),
            ("date", "tomorrow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("id=\"event-problem\""));
    let events = w
        .state
        .storage
        .events(&zhisu_server_storage::Scope::All)
        .unwrap();
    assert_eq!(events.len(), 3);
    let audited = w
        .state
        .storage
        .audit_log(200)
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "save_outreach_event")
        .count();
    assert_eq!(audited, 3, "every event recorded is in the audit log");
    let event_of = |place: &str| {
        events
            .iter()
            .find(|e| e.event.place == place)
            .unwrap()
            .event
            .id
    };
    let (school, site, station) = (
        event_of("解放碑学校"),
        event_of("江北工地"),
        event_of("江北车站"),
    );

    // each district's tablets receive their own district's events
    let device = |district: &str| {
        let code = w
            .state
            .create_enrolment_code("2026", district, Duration::days(1), "test")
            .unwrap();
        w.state.enrol(&code, "quiz tablet").unwrap().unwrap().token
    };
    let (yz_token, jb_token) = (device("yuzhong"), device("jiangbei"));
    for (token, expected) in [(&yz_token, vec![school]), (&jb_token, vec![site, station])] {
        let assignment: zhisu_protocol::DeviceAssignment = w
            .http
            .get(format!("{}{}", w.base, zhisu_protocol::ASSIGNMENT_PATH))
            .bearer_auth(token)
            .header(zhisu_protocol::PROTOCOL_HEADER, "1")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut got: Vec<Uuid> = assignment.events.iter().map(|e| e.id).collect();
        let mut expected = expected;
        got.sort();
        expected.sort();
        assert_eq!(got, expected);
    }

    // quiz sessions through the tablets' endpoint, each stored once
    let k = scored_items();
    let upload = |token: String, sessions: Vec<zhisu_protocol::QuizSession>| {
        let http = w.http.clone();
        let url = format!("{}{}", w.base, zhisu_protocol::QUIZ_SESSIONS_PATH);
        async move {
            let response = http
                .post(url)
                .bearer_auth(token)
                .header(zhisu_protocol::PROTOCOL_HEADER, "1")
                .json(&zhisu_protocol::QuizSessionUpload { sessions })
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let r: zhisu_protocol::UploadResponse = response.json().await.unwrap();
            r.receipts.into_iter().map(|r| r.status).collect::<Vec<_>>()
        }
    };
    use zhisu_protocol::ReceiptStatus::*;
    let yuzhong = vec![
        quiz(1, Some(school), 1, &[(&k[0], false), (&k[1], true)]),
        quiz(2, Some(school), 1, &[(&k[0], false), (&k[2], false)]),
        quiz(3, Some(school), 2, &[(&k[0], true)]),
        quiz(4, None, 2, &[(&k[3], false)]),
    ];
    assert_eq!(
        upload(yz_token.clone(), yuzhong.clone()).await,
        vec![Stored; 4]
    );
    assert_eq!(
        upload(yz_token.clone(), yuzhong).await,
        vec![AlreadyStored; 4],
        "a re-send stores nothing again"
    );
    let jiangbei = vec![
        quiz(5, Some(site), 1, &[(&k[1], false)]),
        quiz(6, Some(site), 1, &[(&k[1], false), (&k[4], true)]),
        quiz(7, Some(station), 3, &[(&k[4], false)]),
        // not a scored item: refused, kept nowhere
        quiz(8, None, 3, &[("population", true)]),
    ];
    assert_eq!(
        upload(jb_token, jiangbei).await,
        vec![Stored, Stored, Stored, Rejected]
    );

    // counts from the database, per scope
    let db = rusqlite::Connection::open(w._dir.path().join("server.sqlite3")).unwrap();
    let scope_sql = |role: &str| match role {
        "city" => "1".to_string(),
        "yz_admin" | "yz_sup" => "district = 'yuzhong'".to_string(),
        "jb_admin" => "district = 'jiangbei'".to_string(),
        _ => "population IN ('teacher')".to_string(),
    };
    for role in ROLES {
        let condition = scope_sql(role);
        let sessions = db
            .query_row(
                &format!("SELECT count(*) FROM quiz_session WHERE {condition}"),
                [],
                |r| r.get::<_, i64>(0).map(|n| n as u64),
            )
            .unwrap();
        // per event in scope: the larger of the people recorded and its sessions; plus the
        // sessions in scope without an event
        let reached = db
            .query_row(
                &format!(
                    "SELECT coalesce(sum(max(json_extract(e.payload, '$.people_reached'),
                        (SELECT count(*) FROM quiz_session q WHERE q.event_id = e.id))), 0)
                       + (SELECT count(*) FROM quiz_session WHERE event_id IS NULL AND {condition})
                     FROM outreach_event e WHERE {}",
                    condition
                        .replace("district", "e.district")
                        .replace("population", "e.population")
                ),
                [],
                |r| r.get::<_, i64>(0).map(|n| n as u64),
            )
            .unwrap();
        let mut missed: Vec<(String, u64, u64)> = db
            .prepare(&format!(
                "SELECT json_extract(j.value, '$.item'), count(*), sum(json_extract(j.value, '$.right') = 0)
                 FROM quiz_session, json_each(quiz_session.payload, '$.items') j
                 WHERE {condition} GROUP BY 1"
            ))
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, i64>(1)? as u64,
                    r.get::<_, i64>(2)? as u64,
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        missed.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        let per_day: Vec<(String, u64)> = db
            .prepare(&format!(
                "SELECT date(started_at, '+8 hours'), count(*) FROM quiz_session WHERE {condition} GROUP BY 1 ORDER BY 1"
            ))
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let take_home = db
            .query_row(
                &format!("SELECT count(*) FROM quiz_session WHERE json_extract(payload, '$.take_home_qr') = 1 AND {condition}"),
                [],
                |r| r.get::<_, i64>(0).map(|n| n as u64),
            )
            .unwrap();
        let token = w.sign_in(role).await;
        let (status, coverage) = w
            .call(Method::GET, "/api/v1/outreach/coverage", Some(&token), None)
            .await;
        assert_eq!(status, 200, "{role}");
        assert_eq!(coverage["sessions"].as_u64().unwrap(), sessions, "{role}");
        assert_eq!(
            coverage["take_home_offered"].as_u64().unwrap(),
            take_home,
            "{role}: the take-home codes offered"
        );
        assert_eq!(
            coverage["workers_reached"].as_u64().unwrap(),
            reached,
            "{role}"
        );
        let got_missed: Vec<(String, u64, u64)> = coverage["missed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["item_id"].as_str().unwrap().to_string(),
                    m["asked"].as_u64().unwrap(),
                    m["missed"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got_missed, missed, "{role}: the items most often missed");
        let got_days: Vec<(String, u64)> = coverage["by_day"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["key"].as_str().unwrap().to_string(),
                    d["sessions"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got_days, per_day, "{role}: sessions per day");
        let events_in_scope = db
            .query_row(
                &format!("SELECT count(*) FROM outreach_event WHERE {}", condition),
                [],
                |r| r.get::<_, i64>(0).map(|n| n as u64),
            )
            .unwrap();
        assert_eq!(
            coverage["events"].as_array().unwrap().len() as u64,
            events_in_scope,
            "{role}"
        );
        // the page says the same
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        let page = w
            .http
            .get(format!("{}/dashboard/outreach", w.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&format!("知识问答 {sessions} 人次")),
            "{role}"
        );
        assert_eq!(
            page.contains("江北工地"),
            matches!(role, "city" | "jb_admin"),
            "{role}"
        );
        assert_eq!(
            page.contains("解放碑学校"),
            matches!(role, "city" | "yz_admin" | "yz_sup" | "edu"),
            "{role}"
        );
    }
    // the figures a role expects, spelled out once: the city sees all seven sessions
    let city = w.sign_in("city").await;
    let (_, coverage) = w
        .call(Method::GET, "/api/v1/outreach/coverage", Some(&city), None)
        .await;
    assert_eq!(coverage["sessions"], 7);
    // school: max(50, 3) + site: max(30, 2) + station: max(0, 1) + one session without an event
    assert_eq!(coverage["workers_reached"], 50 + 30 + 1 + 1);
    // sessions 1, 5 and 7 missed an item and were offered the code (3 answered all right)
    assert_eq!(coverage["take_home_offered"], 3);
    // quiz sessions are not interviews: every estimate is as before
    let estimates_after = w
        .call(Method::GET, "/api/v1/estimates", Some(&city), None)
        .await;
    assert_eq!(estimates_after, estimates_before);
    assert_eq!(w.state.storage.interview_count().unwrap(), 2);
}

/// The education library (issue 24): every role reads the list, a piece's versions and a
/// handout; only a city administrator writes a piece (a forged CSRF token refused for all,
/// another role refused with its own token, nothing kept, nothing audited); what the feedback
/// pages offered is counted in each role's scope as the database holds it.
#[tokio::test(flavor = "multi_thread")]
async fn the_library_is_read_by_every_role_and_written_by_the_city_only() {
    let w = world().await;
    w.state.load_starter_library().unwrap();
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut failures = Vec::new();
    for role in ROLES {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        for path in [
            "/dashboard/library",
            "/dashboard/library?piece=heat",
            "/dashboard/library/handout?piece=heat",
            "/dashboard/library/handout?weakest=3",
        ] {
            let response = no_redirect
                .get(format!("{}{path}", w.base))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            if response.status() != 200 {
                failures.push(format!("GET {path} as {role}: {}", response.status()));
            }
        }
        let page = no_redirect
            .get(format!("{}/dashboard/library", w.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(
            page.contains("id=\"piece-form\""),
            role == "city",
            "{role}: the form only for the city"
        );
        // counted in the role's scope: each district's one interview, neither with paradata
        let scope = w
            .state
            .storage
            .person_for_login(role)
            .unwrap()
            .unwrap()
            .0
            .role
            .scope();
        let in_scope = w.state.storage.interviews(&scope).unwrap().len();
        assert!(
            page.contains(&format!(
                "data-interviews=\"{in_scope}\" data-offered=\"0\""
            )),
            "{role}: {in_scope} interviews"
        );
        let csrf = zhisu_server_tests::csrf_of(&page);
        let versions = || w.state.storage.piece_history("noise").unwrap().len();
        let before = versions();
        for (token, want) in [
            ("forged", 403),
            (csrf.as_str(), if role == "city" { 303 } else { 403 }),
        ] {
            let response = no_redirect
                .post(format!("{}/dashboard/library", w.base))
                .header("cookie", &cookie)
                .form(&[
                    ("csrf", token),
                    ("id", "noise"),
                    ("points", "know_noise_hearing"),
                    ("title", "噪声伤耳朵"),
                    ("text", "戴好耳塞。"),
                    ("source", "GBZ 49"),
                ])
                .send()
                .await
                .unwrap();
            if response.status().as_u16() != want {
                failures.push(format!(
                    "POST /dashboard/library as {role} (csrf {token}): {}, expected {want}",
                    response.status()
                ));
            }
        }
        assert_eq!(versions(), before + usize::from(role == "city"), "{role}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let edits: Vec<_> = w
        .state
        .storage
        .audit_log(1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "put_library_piece")
        .collect();
    assert_eq!(edits.len(), 1, "{edits:?}");
    assert_eq!(edits[0].actor, "city");
    // a piece that does not exist: 404 for everyone
    let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, "edu", PASSWORD).await;
    let response = no_redirect
        .get(format!("{}/dashboard/library?piece=nothing_here", w.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

/// The trainees' record (`/dashboard/training` and `.csv`, issue 24): each role sees the
/// practice of its own district's tablets (the city every district's); a department viewer
/// sees none (practice belongs to the districts' fieldwork staff); no session, no page.
#[tokio::test(flavor = "multi_thread")]
async fn the_trainees_record_keeps_to_each_roles_district() {
    use zhisu_server_storage::AcceptedPractice;
    let w = world().await;
    let devices = w.state.storage.devices().unwrap();
    for (n, district, surveyor) in [
        (501u128, "yuzhong", "yz-trainee"),
        (502, "jiangbei", "jb-trainee"),
    ] {
        let device = devices.iter().find(|d| d.district == district).unwrap();
        let mut one = interview(n, "teacher");
        one.interview.practice = true;
        one.interview.surveyor_id = Some(surveyor.into());
        let practice = AcceptedPractice {
            interview: one.interview.sealed(),
            score: one.score,
            flags: vec![],
            population: Some("teacher".into()),
        };
        let receipts = w
            .state
            .storage
            .ingest_practice(&[practice], Some(device), Utc::now())
            .unwrap();
        assert_eq!(receipts[0].status, zhisu_protocol::ReceiptStatus::Stored);
    }
    for (role, sees_yuzhong, sees_jiangbei) in [
        ("city", true, true),
        ("yz_admin", true, false),
        ("yz_sup", true, false),
        ("jb_admin", false, true),
        ("edu", false, false),
    ] {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        for path in ["/dashboard/training", "/dashboard/training.csv"] {
            let r = w
                .http
                .get(format!("{}{path}", w.base))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path} as {role}");
            let body = r.text().await.unwrap();
            assert_eq!(
                body.contains("yz-trainee"),
                sees_yuzhong,
                "{path} as {role}: {body}"
            );
            assert_eq!(
                body.contains("jb-trainee"),
                sees_jiangbei,
                "{path} as {role}: {body}"
            );
        }
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in ["/dashboard/training", "/dashboard/training.csv"] {
        let r = client
            .get(format!("{}{path}", w.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{path}");
    }
}

/// An outreach event recorded by mistake (issue 24) is deleted from the dashboard by the people
/// who manage its district (CSRF-checked, audited) and leaves its district's tablets at their
/// next sync; one that quizzes were run at is kept with a plain reason (its sessions would lose
/// their event); nobody else can delete it.
#[tokio::test(flavor = "multi_thread")]
async fn a_mistaken_event_is_deleted_only_by_those_who_manage_its_district() {
    use zhisu_server_service::outreach::{save_event, EventInput};
    use zhisu_server_storage::Scope;
    let w = world().await;
    let today = chrono::Local::now().date_naive().to_string();
    let record = |district: &str, place: &str| {
        save_event(
            &w.state,
            "setup",
            &zhisu_server_storage::Role::CityAdmin,
            &EventInput {
                district: district.into(),
                kind: "community".into(),
                place: place.into(),
                date: today.clone(),
                ..Default::default()
            },
            "zh-CN",
        )
        .unwrap()
        .id
    };
    let (mistake, quizzed, other) = (
        record("yuzhong", "写错的社区"),
        record("yuzhong", "有问答的社区"),
        record("jiangbei", "江北社区"),
    );
    let k = scored_items();
    let stored = zhisu_server_service::outreach::ingest_quiz_sessions(
        &w.state,
        vec![quiz(1, Some(quizzed), 1, &[(&k[0], true)])],
        None,
    )
    .unwrap();
    assert_eq!(stored[0].status, zhisu_protocol::ReceiptStatus::Stored);
    let code = w
        .state
        .create_enrolment_code("2026", "yuzhong", Duration::days(1), "test")
        .unwrap();
    let tablet = w.state.enrol(&code, "tablet").unwrap().unwrap().token;
    let delivered = || {
        let (http, url, tablet) = (
            w.http.clone(),
            format!("{}{}", w.base, zhisu_protocol::ASSIGNMENT_PATH),
            tablet.clone(),
        );
        async move {
            let a: zhisu_protocol::DeviceAssignment = http
                .get(url)
                .bearer_auth(tablet)
                .header(zhisu_protocol::PROTOCOL_HEADER, "1")
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let mut ids: Vec<Uuid> = a.events.iter().map(|e| e.id).collect();
            ids.sort();
            ids
        }
    };
    let mut both = vec![mistake, quizzed];
    both.sort();
    assert_eq!(delivered().await, both);

    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let exists = |id: Uuid| w.state.storage.event(id).unwrap().is_some();
    // (role, event, with its CSRF token, expected status, deleted)
    let tries = [
        ("jb_admin", mistake, true, 403, false),
        ("yz_sup", mistake, true, 403, false),
        ("edu", mistake, true, 403, false),
        ("yz_admin", mistake, false, 403, false),
        ("yz_admin", quizzed, true, 409, false),
        ("yz_admin", mistake, true, 303, true),
        ("yz_admin", mistake, true, 404, true),
        ("yz_admin", other, true, 403, false),
        ("city", other, true, 303, true),
    ];
    for (role, id, with_csrf, expected, deleted) in tries {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        let page = no_redirect
            .get(format!("{}/dashboard/outreach", w.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // a delete button only where the viewer may use it, never beside a quizzed event
        let button = format!("delete-event-{id}");
        assert_eq!(
            page.contains(&button),
            exists(id)
                && id != quizzed
                && matches!((role, id == other), ("yz_admin", false) | ("city", _)),
            "{role} {id}"
        );
        assert!(!page.contains(&format!("delete-event-{quizzed}")));
        let csrf = if with_csrf {
            zhisu_server_tests::csrf_of(&page)
        } else {
            "forged".into()
        };
        let response = no_redirect
            .post(format!("{}/dashboard/outreach/delete", w.base))
            .header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str()), ("id", &id.to_string())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{role} deleting {id}");
        let text = response.text().await.unwrap();
        if expected == 409 {
            assert!(text.contains("已有 1 人次知识问答，不能删除"), "{text}");
        }
        assert_eq!(!exists(id), deleted, "{role} deleting {id}");
    }
    assert!(exists(quizzed));
    assert_eq!(w.state.storage.events(&Scope::All).unwrap().len(), 1);
    let audited: Vec<String> = w
        .state
        .storage
        .audit_log(200)
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "delete_outreach_event")
        .map(|a| a.actor)
        .collect();
    assert_eq!(audited.len(), 2, "each deletion audited once");
    assert!(audited.contains(&"yz_admin".to_string()) && audited.contains(&"city".to_string()));
    // the tablet stops offering it at its next sync; the quiz session is untouched
    assert_eq!(delivered().await, vec![quizzed]);
    assert_eq!(w.state.storage.quiz_sessions(&Scope::All).unwrap().len(), 1);
}

/// Surveyors managed on the server (`/dashboard/surveyors`, issue 15): those who manage a
/// district (its administrators, city administrators) add surveyors, set their PINs and retire
/// them, each change audited without the PIN; supervisors read their district's list; department
/// viewers see none (403); a form without the session's CSRF token changes nothing; a device
/// receives only its own district's active surveyors.
#[tokio::test(flavor = "multi_thread")]
async fn surveyors_are_managed_by_those_who_manage_their_district() {
    use zhisu_server_service::surveyors::{self, SurveyorInput};
    let w = world().await;
    let make = |district: &str, name: &str| {
        surveyors::add_surveyor(
            &w.state,
            "city",
            &Role::CityAdmin,
            &SurveyorInput {
                district: district.into(),
                name: name.into(),
                pin: "2468".into(),
            },
            "zh-CN",
        )
        .unwrap()
    };
    let yz = make("yuzhong", "渝中调查员");
    let jb = make("jiangbei", "江北调查员");
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let count = || w.state.storage.field_surveyors(None).unwrap().len();
    let page = |cookie: String| {
        let client = no_redirect.clone();
        let base = w.base.clone();
        async move {
            let r = client
                .get(format!("{base}/dashboard/surveyors"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // (role, status of the page, sees yuzhong's, sees jiangbei's, has the form)
    for (role, status, sees_yz, sees_jb, form) in [
        ("city", 200, true, true, true),
        ("yz_admin", 200, true, false, true),
        ("jb_admin", 200, false, true, true),
        ("yz_sup", 200, true, false, false),
        ("edu", 403, false, false, false),
    ] {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        let (got, html) = page(cookie).await;
        assert_eq!(got, status, "{role} reads the surveyors page");
        assert_eq!(html.contains(&yz.id), sees_yz, "{role}: {html}");
        assert_eq!(html.contains(&jb.id), sees_jb, "{role}");
        assert_eq!(
            html.contains("id=\"surveyor-form\""),
            form,
            "{role}: the form"
        );
        assert!(
            !html.contains("$argon2id$"),
            "{role}: no verifier on the page"
        );
    }
    // adding: (role, district, expected status)
    for (role, district, want) in [
        ("yz_admin", "yuzhong", 303),
        ("jb_admin", "yuzhong", 403),
        ("yz_sup", "yuzhong", 403),
        ("edu", "yuzhong", 403),
        ("city", "jiangbei", 303),
    ] {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        let csrf = zhisu_server_tests::csrf_of(&page(cookie.clone()).await.1);
        for (token, expected) in [("forged", 403), (csrf.as_str(), want)] {
            let before = count();
            let r = no_redirect
                .post(format!("{}/dashboard/surveyors", w.base))
                .header("cookie", &cookie)
                .form(&[
                    ("csrf", token),
                    ("action", "add"),
                    ("district", district),
                    ("name", "新调查员"),
                    ("pin", "975310"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status().as_u16(),
                expected,
                "{role} adds in {district} ({token})"
            );
            assert_eq!(
                count(),
                before + usize::from(expected == 303),
                "{role}, {token}"
            );
        }
    }
    // a bad form says what is wrong and keeps nothing
    let admin = zhisu_server_tests::dashboard_sign_in(&w.base, "yz_admin", PASSWORD).await;
    let csrf = zhisu_server_tests::csrf_of(&page(admin.clone()).await.1);
    let post = |cookie: &str, fields: &[(&str, &str)]| {
        no_redirect
            .post(format!("{}/dashboard/surveyors", w.base))
            .header("cookie", cookie)
            .form(fields)
            .send()
    };
    let before = count();
    let bad = post(
        &admin,
        &[
            ("csrf", &csrf),
            ("action", "add"),
            ("district", "yuzhong"),
            ("name", " "),
            ("pin", "12"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 400);
    let text = bad.text().await.unwrap();
    assert!(
        text.contains("id=\"surveyor-problem\"") && text.contains("PIN 要 4 到 6 位数字"),
        "{text}"
    );
    assert_eq!(count(), before);

    // a new PIN and retirement: only for the district's managers
    let verifier = |id: &str| {
        w.state
            .storage
            .field_surveyor(id)
            .unwrap()
            .unwrap()
            .pin_verifier
    };
    let old = verifier(&yz.id);
    for (role, want) in [
        ("jb_admin", 404),
        ("yz_sup", 403),
        ("edu", 403),
        ("yz_admin", 303),
    ] {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        let csrf = if role == "edu" {
            // the page is refused to them; the form's token is the session's all the same
            let r = no_redirect
                .get(format!("{}/dashboard/progress", w.base))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            zhisu_server_tests::csrf_of(&r.text().await.unwrap())
        } else {
            zhisu_server_tests::csrf_of(&page(cookie.clone()).await.1)
        };
        let r = post(
            &cookie,
            &[
                ("csrf", &csrf),
                ("action", "pin"),
                ("id", &yz.id),
                ("pin", "1357"),
            ],
        )
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), want, "{role} sets a yuzhong PIN");
        assert_eq!(verifier(&yz.id) != old, want == 303, "{role}");
    }
    assert!(zhisu_server_service::people::verify_password(
        "1357",
        &verifier(&yz.id)
    ));
    for (role, want) in [
        ("jb_admin", 404),
        ("yz_sup", 403),
        ("yz_admin", 303),
        ("yz_admin", 403),
    ] {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        let csrf = zhisu_server_tests::csrf_of(&page(cookie.clone()).await.1);
        let r = post(
            &cookie,
            &[("csrf", &csrf), ("action", "retire"), ("id", &yz.id)],
        )
        .await
        .unwrap();
        assert_eq!(
            r.status().as_u16(),
            want,
            "{role} retires a yuzhong surveyor"
        );
    }
    assert!(w
        .state
        .storage
        .field_surveyor(&yz.id)
        .unwrap()
        .unwrap()
        .retired_at
        .is_some());

    // every change in the audit log, never with a PIN
    let log = w.state.storage.audit_log(500).unwrap();
    let audited = |action: &str| log.iter().filter(|e| e.action == action).count();
    assert_eq!(
        (
            audited("add_surveyor"),
            audited("set_surveyor_pin"),
            audited("retire_surveyor")
        ),
        (4, 1, 1)
    );
    for pin in ["2468", "975310", "1357"] {
        assert!(
            log.iter().all(|e| !e.detail.contains(pin)),
            "{pin} in the audit log"
        );
    }

    // a device of yuzhong: only yuzhong's active surveyors, with the assignment's digest
    let list = w
        .call_device(Method::GET, zhisu_protocol::surveyors::SURVEYORS_PATH)
        .await;
    let ids: Vec<&str> = list["surveyors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "the one added by yz_admin: {list}");
    assert!(!ids.contains(&yz.id.as_str()) && !ids.contains(&jb.id.as_str()));
    let assignment = w
        .call_device(Method::GET, "/api/v1/device/assignment")
        .await;
    assert_eq!(assignment["surveyors"], list["digest"]);

    // the quality page by surveyor names a server surveyor beside their id, in its scope
    let devices = w.state.storage.devices().unwrap();
    let yuzhong = devices.iter().find(|d| d.district == "yuzhong").unwrap();
    w.state
        .storage
        .ingest(&[interview_by(901, &yz.id, 600)], Some(yuzhong), Utc::now())
        .unwrap();
    let named = format!("渝中调查员（{}）", yz.id);
    for (role, sees) in [("yz_admin", true), ("jb_admin", false)] {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        // the quality page and the trainees' record (real interviews per surveyor)
        for path in ["/dashboard/quality", "/dashboard/training"] {
            let html = no_redirect
                .get(format!("{}{path}", w.base))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(html.contains(&named), sees, "{role} {path}: {html}");
        }
    }

    // uploads under ids not on the district's list are kept and listed for its staff: a
    // tablet-added id, another district's surveyor, nobody signed in (the world's interview)
    w.state
        .storage
        .ingest(
            &[
                interview_by(902, "S01", 600),
                interview_by(903, &jb.id, 600),
            ],
            Some(yuzhong),
            Utc::now(),
        )
        .unwrap();
    for (role, listed, not_listed) in [
        (
            "yz_admin",
            vec!["S01", jb.id.as_str(), ""],
            vec![yz.id.as_str()],
        ),
        (
            "yz_sup",
            vec!["S01", jb.id.as_str(), ""],
            vec![yz.id.as_str()],
        ),
        (
            "jb_admin",
            vec![""],
            vec!["S01", jb.id.as_str(), yz.id.as_str()],
        ),
    ] {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        let html = page(cookie).await.1;
        let table = html
            .split("id=\"unlisted-surveyors\"")
            .nth(1)
            .unwrap_or_else(|| panic!("{role}: no unlisted table: {html}"));
        for id in listed {
            assert!(
                table.contains(&format!("data-surveyor=\"{id}\"")),
                "{role}: {id}"
            );
        }
        for id in not_listed {
            assert!(
                !table.contains(&format!("data-surveyor=\"{id}\"")),
                "{role}: {id}"
            );
        }
    }
    assert_eq!(
        w.state.storage.interview_count().unwrap(),
        5,
        "every upload kept"
    );

    // no session, no page
    for method in [Method::GET, Method::POST] {
        let r = no_redirect
            .request(method.clone(), format!("{}/dashboard/surveyors", w.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{method}");
    }
}

/// Back-checks (issue 15) for every role: round settings with items that do not exist are
/// refused; district staff draw their district (a department viewer may not); the page, the
/// phone form and the quality table keep to each role's scope; the phone form shows the
/// re-contact details (each read audited) and a back-check with one differing answer fails and
/// puts the interview in the quality-control queue with the difference; a tablet of the
/// district receives the open tasks and uploads a result once, never by the interview's own
/// surveyor.
#[tokio::test(flavor = "multi_thread")]
async fn backchecks_keep_to_each_roles_scope() {
    use zhisu_protocol::backcheck::{BackcheckOutcome, BackcheckUpload};
    use zhisu_protocol::{BackcheckSettings, ReceiptStatus, RoundSettings};
    let w = world().await;
    let devices = w.state.storage.devices().unwrap();
    let questionnaire = zhisu_core::Questionnaire::from_toml(
        "ohl_2026.toml",
        include_str!("../../../questionnaires/ohl_2026.toml"),
    )
    .unwrap();
    let with_answers = |n: u128, population: &str, surveyor: &str| {
        let mut one = interview(n, population);
        one.interview.surveyor_id = Some(surveyor.into());
        one.interview
            .answers
            .insert("age".into(), AnswerValue::Integer(30));
        one.interview
            .answers
            .insert("sex".into(), AnswerValue::Choice("female".into()));
        zhisu_server_storage::Accepted::new(&questionnaire, one.interview.sealed(), one.score)
    };
    for (district, ns, population, surveyor) in [
        ("yuzhong", [601u128, 602], "teacher", "wang"),
        ("jiangbei", [611, 612], "construction", "zhao"),
    ] {
        let device = devices.iter().find(|d| d.district == district).unwrap();
        let batch: Vec<_> = ns
            .iter()
            .map(|n| with_answers(*n, population, surveyor))
            .collect();
        w.state
            .storage
            .ingest(&batch, Some(device), Utc::now())
            .unwrap();
        for n in ns {
            assert!(w
                .state
                .keep_recontact(
                    Uuid::from_u128(n),
                    &format!("1380000{n:04}"),
                    "v1",
                    Utc::now() + Duration::days(30),
                    &zhisu_server_service::privacy::RetentionPolicy::default(),
                    "test",
                )
                .unwrap());
        }
    }
    let mut settings = RoundSettings {
        backcheck: Some(BackcheckSettings {
            share_percent: 100.0,
            min_per_surveyor_week: 1,
            items: vec!["age".into(), "sex".into(), "no_such_item".into()],
            fail_below_percent: 80,
            numeric_tolerance: 1.0,
        }),
        ..RoundSettings::default()
    };
    let refused = w.state.set_round_settings("2026", &settings, "city");
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("no_such_item")),
        "{refused:?}"
    );
    assert!(w.state.storage.round_settings("2026").unwrap().is_none());
    settings.backcheck.as_mut().unwrap().items = vec!["age".into(), "sex".into()];
    w.state
        .set_round_settings("2026", &settings, "city")
        .unwrap();

    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |cookie: String, path: String| {
        let http = no_redirect.clone();
        let base = w.base.clone();
        async move {
            let r = http
                .get(format!("{base}{path}"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        }
    };
    // drawing: the department viewer may not; district staff draw their own district
    for (role, want) in [("edu", 403u16), ("yz_sup", 303), ("jb_admin", 303)] {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        let (status, html) = get(cookie.clone(), "/dashboard/backchecks".into()).await;
        assert_eq!(status, 200, "{role}");
        assert_eq!(html.contains("id=\"draw\""), role != "edu", "{role}");
        let csrf = zhisu_server_tests::csrf_of(&html);
        let r = no_redirect
            .post(format!("{}/dashboard/backchecks/draw", w.base))
            .header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str()), ("round", "2026"), ("seed", "42")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), want, "draw as {role}");
    }
    let draws = w.state.storage.backcheck_draws("2026").unwrap();
    assert_eq!(draws.len(), 2);
    assert!(draws.iter().all(|d| d.seed == 42 && d.drawn == 2));
    let tasks = w
        .state
        .storage
        .backcheck_tasks(&zhisu_server_storage::Scope::All)
        .unwrap();
    let task_of = |n: u128| {
        tasks
            .iter()
            .find(|t| t.interview_id == Uuid::from_u128(n))
            .unwrap()
            .id
    };
    assert_eq!(tasks.len(), 4);
    // the page keeps to each role's scope (the department viewer sees teachers only)
    for (role, sees_yuzhong, sees_jiangbei) in [
        ("city", true, true),
        ("yz_admin", true, false),
        ("yz_sup", true, false),
        ("jb_admin", false, true),
        ("edu", true, false),
    ] {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        let (_, html) = get(cookie.clone(), "/dashboard/backchecks".into()).await;
        assert_eq!(
            html.contains(&Uuid::from_u128(601).to_string()),
            sees_yuzhong,
            "{role}"
        );
        assert_eq!(
            html.contains(&Uuid::from_u128(611).to_string()),
            sees_jiangbei,
            "{role}"
        );
        // the phone form: only staff of the task's district, with the re-contact details
        let (status, html) = get(cookie, format!("/dashboard/backchecks/{}", task_of(601))).await;
        let want = match role {
            "edu" => 403,
            "jb_admin" => 404,
            _ => 200,
        };
        assert_eq!(status, want, "phone form as {role}");
        assert_eq!(html.contains("13800000601"), want == 200, "{role}");
    }
    let reads = w
        .state
        .storage
        .audit_log(1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "read_recontact")
        .count();
    assert_eq!(reads, 3, "each read of the re-contact details is audited");

    // a phone back-check with one differing answer (age 34 for 30, beyond the tolerance of 1)
    let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, "yz_sup", PASSWORD).await;
    let (_, html) = get(
        cookie.clone(),
        format!("/dashboard/backchecks/{}", task_of(601)),
    )
    .await;
    let csrf = zhisu_server_tests::csrf_of(&html);
    let r = no_redirect
        .post(format!("{}/dashboard/backchecks/{}", w.base, task_of(601)))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("reached", "yes"),
            ("a.age", "34"),
            ("a.sex", "female"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let done = w
        .state
        .storage
        .backcheck_task(&zhisu_server_storage::Scope::All, task_of(601))
        .unwrap()
        .unwrap()
        .result
        .unwrap();
    assert_eq!((done.agreed, done.compared, done.failed), (1, 2, true));
    assert_eq!(done.via, "phone");
    let (_, qc) = get(cookie.clone(), "/dashboard/qc".into()).await;
    assert!(qc.contains("data-flag=\"backcheck_failed\""), "{qc}");
    assert!(qc.contains("age: 30 → 34"), "the difference is shown");
    // a department viewer (interviews minimised) sees which item differs, not the answers,
    // and no surveyor
    let edu = zhisu_server_tests::dashboard_sign_in(&w.base, "edu", PASSWORD).await;
    let (_, qc) = get(edu.clone(), "/dashboard/qc".into()).await;
    assert!(qc.contains("data-flag=\"backcheck_failed\""), "{qc}");
    assert!(
        !qc.contains("30 → 34") && qc.contains("不一致：age"),
        "{qc}"
    );
    let (_, page) = get(edu, "/dashboard/backchecks".into()).await;
    assert!(!page.contains("wang") && !page.contains("yz_sup"), "{page}");
    // the quality table and its CSV give the surveyor's agreement, 1 of 2 = 50 %
    for path in ["/dashboard/quality", "/dashboard/quality.csv"] {
        let (_, body) = get(cookie.clone(), path.into()).await;
        assert!(body.contains("50.0"), "{path}: {body}");
    }
    let (_, body) = get(
        zhisu_server_tests::dashboard_sign_in(&w.base, "jb_admin", PASSWORD).await,
        "/dashboard/quality".into(),
    )
    .await;
    assert!(
        !body.contains("50.0"),
        "jiangbei does not see yuzhong's agreement"
    );

    // a yuzhong tablet gets the open task with its contact and uploads it once
    let code = w
        .state
        .create_enrolment_code("2026", "yuzhong", Duration::days(1), "test")
        .unwrap();
    let token = w.state.enrol(&code, "yz tablet").unwrap().unwrap().token;
    let assignment: Value = w
        .http
        .get(format!("{}{}", w.base, zhisu_protocol::ASSIGNMENT_PATH))
        .bearer_auth(&token)
        .header(zhisu_protocol::PROTOCOL_HEADER, "1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let delivered = assignment["backchecks"].as_array().unwrap();
    assert_eq!(delivered.len(), 1, "{assignment}");
    assert_eq!(delivered[0]["id"], json!(task_of(602)));
    assert_eq!(delivered[0]["contact"], json!("13800000602"));
    assert_eq!(delivered[0]["original_surveyor"], json!("wang"));
    assert!(delivered[0].get("original").is_none(), "never the answers");
    let mut answers = Answers::new();
    answers.insert("age".into(), AnswerValue::Integer(31));
    answers.insert("sex".into(), AnswerValue::Choice("female".into()));
    let upload = |surveyor: &str, token: String| {
        let body = BackcheckUpload {
            results: vec![BackcheckOutcome {
                task_id: task_of(602),
                surveyor_id: surveyor.into(),
                reached: true,
                answers: answers.clone(),
                completed_at: Utc.with_ymd_and_hms(2026, 12, 3, 6, 0, 0).unwrap(),
            }],
        };
        let (http, base) = (w.http.clone(), w.base.clone());
        async move {
            let r: zhisu_protocol::UploadResponse = http
                .post(format!("{base}{}", zhisu_protocol::BACKCHECKS_PATH))
                .bearer_auth(token)
                .header(zhisu_protocol::PROTOCOL_HEADER, "1")
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r.receipts[0].clone()
        }
    };
    let own = upload("wang", token.clone()).await;
    assert_eq!(own.status, ReceiptStatus::Rejected);
    assert_eq!(own.code.as_deref(), Some("invalid_answers"));
    let code = w
        .state
        .create_enrolment_code("2026", "jiangbei", Duration::days(1), "test")
        .unwrap();
    let other_district = w.state.enrol(&code, "jb tablet").unwrap().unwrap().token;
    assert_eq!(
        upload("li", other_district).await.code.as_deref(),
        Some("not_found")
    );
    assert_eq!(
        upload("li", token.clone()).await.status,
        ReceiptStatus::Stored
    );
    assert_eq!(
        upload("li", token.clone()).await.status,
        ReceiptStatus::AlreadyStored
    );
    let done = w
        .state
        .storage
        .backcheck_task(&zhisu_server_storage::Scope::All, task_of(602))
        .unwrap()
        .unwrap()
        .result
        .unwrap();
    assert_eq!((done.agreed, done.compared, done.failed), (2, 2, false));
    // done tasks leave the tablets
    let assignment: Value = w
        .http
        .get(format!("{}{}", w.base, zhisu_protocol::ASSIGNMENT_PATH))
        .bearer_auth(&token)
        .header(zhisu_protocol::PROTOCOL_HEADER, "1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(assignment.get("backchecks").is_none(), "{assignment}");
    // the district report gives each district its own back-checks: 3 of 4 answers agree
    for (role, want) in [
        ("yz_sup", "抽取 2 份，完成 2 份（未联系上 0 份）；重问的 4 个回答中 3 个一致（一致率 75.0%）；1 份未通过"),
        ("jb_admin", "抽取 2 份，完成 0 份（未联系上 0 份）；重问的 0 个回答中 0 个一致（一致率 —）；0 份未通过"),
    ] {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, role, PASSWORD).await;
        let (status, html) = get(cookie, "/dashboard/report".into()).await;
        assert_eq!(status, 200, "{role}");
        assert!(html.contains(want), "{role}: {html}");
    }
}
