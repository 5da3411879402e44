//! The server through its real HTTP boundary: a loopback port, a temporary SQLite file.
use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use uuid::Uuid;
use zhisu_core::{AnswerValue, Answers};
use zhisu_protocol::{
    CompletedInterview, ReceiptStatus, UploadResponse, PROTOCOL_HEADER, UPLOAD_PATH,
};
use zhisu_server::api::interviews::InterviewList;
use zhisu_server::ServerState;

struct TestServer {
    base: String,
    http: reqwest::Client,
    state: ServerState,
    /// An enrolled device's token.
    token: String,
    /// A city administrator's session token.
    admin: String,
    _dir: tempfile::TempDir,
}

async fn start(max_body_bytes: Option<usize>) -> TestServer {
    start_with(max_body_bytes, None).await
}

async fn start_with(
    max_body_bytes: Option<usize>,
    rate_limit: Option<zhisu_server::rate_limit::RateLimit>,
) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let questionnaires = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
    let mut state = zhisu_server::HttpState::new(
        zhisu_server::open_sqlite(&dir.path().join("server.sqlite3"), &questionnaires).unwrap(),
    );
    state
        .add_person(
            "city",
            "市疾控管理员",
            "city-admin-password",
            zhisu_server_storage::Role::CityAdmin,
            "test",
        )
        .unwrap();
    if let Some(limit) = max_body_bytes {
        state.max_body_bytes = limit;
    }
    if let Some(rate_limit) = rate_limit {
        state.rate_limit = std::sync::Arc::new(rate_limit);
    }
    let (_, token) = zhisu_server_tests::enrol(&state, "2026", "yuzhong", "test tablet");
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;
    let admin = zhisu_server_tests::sign_in(&base, "city", "city-admin-password").await;
    TestServer {
        base,
        http: reqwest::Client::new(),
        state: state.server,
        token,
        admin,
        _dir: dir,
    }
}

impl TestServer {
    async fn post_raw(&self, body: Vec<u8>, protocol: Option<&str>) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("{}{UPLOAD_PATH}", self.base))
            .header("content-type", "application/json")
            .bearer_auth(&self.token)
            .body(body);
        if let Some(p) = protocol {
            request = request.header(PROTOCOL_HEADER, p);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn upload(&self, interviews: &[CompletedInterview]) -> UploadResponse {
        let body = serde_json::to_vec(&json!({ "interviews": interviews })).unwrap();
        let (status, value) = self.post_raw(body, Some("1")).await;
        assert_eq!(status, 200, "{value}");
        serde_json::from_value(value).unwrap()
    }

    async fn list(&self) -> InterviewList {
        self.http
            .get(format!("{}/api/v1/interviews", self.base))
            .bearer_auth(&self.admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

fn interview(n: u128, confined_space: &[&str]) -> CompletedInterview {
    let mut answers = Answers::new();
    answers.insert("age".into(), AnswerValue::Integer(25 + n as i64 % 30));
    answers.insert("employer_duty".into(), AnswerValue::Bool(true));
    answers.insert("noise".into(), AnswerValue::Choice("earplugs".into()));
    answers.insert(
        "confined_space".into(),
        AnswerValue::Choices(confined_space.iter().map(|s| s.to_string()).collect()),
    );
    CompletedInterview {
        id: Uuid::from_u128(n),
        questionnaire_id: "ohl_pilot".into(),
        questionnaire_version: "2026.1".into(),
        started_at: Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap(),
        completed_at: Utc.with_ymd_and_hms(2026, 11, 29, 8, 9, 0).unwrap(),
        utc_offset_minutes: 480,
        answers,
        site_id: None,
        surveyor_id: None,
        paradata: None,
        practice: false,
        content_hash: String::new(),
    }
    .sealed()
}

const RIGHT: &[&str] = &["ventilate", "test_air", "guard_outside"];

#[tokio::test]
async fn stores_once_and_recognises_identical_resends() {
    let server = start(None).await;
    let batch = vec![interview(1, RIGHT), interview(2, &["go_alone"])];
    let first = server.upload(&batch).await;
    assert!(first
        .receipts
        .iter()
        .all(|r| r.status == ReceiptStatus::Stored));
    let again = server.upload(&batch).await;
    assert!(again
        .receipts
        .iter()
        .all(|r| r.status == ReceiptStatus::AlreadyStored));
    let list = server.list().await;
    assert_eq!(list.count, 2);
    // the server's own score: interview 1 all right (4/4), interview 2 missed the 2-point item
    let scores: Vec<(u32, u32, bool)> = list
        .interviews
        .iter()
        .map(|s| (s.score.score, s.score.max, s.score.has_literacy))
        .collect();
    assert!(
        scores.contains(&(4, 4, true)) && scores.contains(&(2, 4, false)),
        "{scores:?}"
    );
    assert_eq!(
        list.interviews
            .iter()
            .find(|s| s.interview.id == Uuid::from_u128(1))
            .unwrap()
            .interview,
        batch[0]
    );
}

#[tokio::test]
async fn same_id_with_other_content_is_a_conflict_and_the_first_is_kept() {
    let server = start(None).await;
    let original = interview(7, RIGHT);
    server.upload(std::slice::from_ref(&original)).await;
    let mut changed = interview(7, RIGHT);
    changed
        .answers
        .insert("age".into(), AnswerValue::Integer(50));
    let changed = changed.sealed();
    let response = server.upload(&[changed]).await;
    assert_eq!(response.receipts[0].status, ReceiptStatus::Conflict);
    assert_eq!(
        response.receipts[0].code.as_deref(),
        Some("different_content")
    );
    let list = server.list().await;
    assert_eq!(list.count, 1);
    assert_eq!(list.interviews[0].interview, original);
}

#[tokio::test]
async fn bad_interviews_are_rejected_one_by_one_and_the_rest_stored() {
    let server = start(None).await;
    let mut tampered = interview(10, RIGHT);
    tampered
        .answers
        .insert("age".into(), AnswerValue::Integer(33));
    let mut unknown_version = interview(11, RIGHT);
    unknown_version.questionnaire_version = "1999.1".into();
    let unknown_version = unknown_version.sealed();
    let mut too_young = interview(12, RIGHT);
    too_young
        .answers
        .insert("age".into(), AnswerValue::Integer(12));
    let too_young = too_young.sealed();
    let good = interview(13, RIGHT);
    let response = server
        .upload(&[tampered, unknown_version, too_young, good])
        .await;
    let got: Vec<(ReceiptStatus, Option<&str>)> = response
        .receipts
        .iter()
        .map(|r| (r.status, r.code.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (ReceiptStatus::Rejected, Some("content_hash_mismatch")),
            (
                ReceiptStatus::Rejected,
                Some("unknown_questionnaire_version")
            ),
            (ReceiptStatus::Rejected, Some("invalid_answers")),
            (ReceiptStatus::Stored, None),
        ]
    );
    let list = server.list().await;
    assert_eq!(list.count, 1);
    assert_eq!(list.interviews[0].interview.id, Uuid::from_u128(13));
}

#[tokio::test]
async fn malformed_and_oversized_requests_get_a_code_and_store_nothing() {
    let server = start(Some(16 * 1024)).await;
    let body = serde_json::to_vec(&json!({ "interviews": [interview(1, RIGHT)] })).unwrap();

    let (status, error) = server.post_raw(body.clone(), None).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("unsupported_protocol"))
    );
    let (status, error) = server.post_raw(body, Some("2")).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("unsupported_protocol"))
    );

    let (status, error) = server
        .post_raw(b"{\"interviews\": [".to_vec(), Some("1"))
        .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("malformed_request"))
    );
    let (status, error) = server
        .post_raw(b"{\"interviews\": 3}".to_vec(), Some("1"))
        .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("malformed_request"))
    );

    let many: Vec<_> = (0..101).map(|n| interview(100 + n, RIGHT)).collect();
    let (status, error) = server
        .post_raw(
            serde_json::to_vec(&json!({ "interviews": many[..60] })).unwrap(),
            Some("1"),
        )
        .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (413, Some("batch_too_large")),
        "body over the byte limit"
    );

    let big = start(None).await;
    let (status, error) = big
        .post_raw(
            serde_json::to_vec(&json!({ "interviews": many })).unwrap(),
            Some("1"),
        )
        .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (413, Some("batch_too_large")),
        "over 100 interviews"
    );

    assert_eq!(server.list().await.count, 0);
    assert_eq!(big.list().await.count, 0);
}

#[tokio::test]
async fn questionnaires_are_listed_and_delivered_with_their_hash() {
    let server = start(None).await;
    let get = |path: String, protocol: bool| {
        let mut request = server
            .http
            .get(format!("{}{path}", server.base))
            .bearer_auth(&server.token);
        if protocol {
            request = request.header(PROTOCOL_HEADER, "1");
        }
        request.send()
    };
    let listing: zhisu_protocol::QuestionnaireListing = get("/api/v1/questionnaires".into(), true)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pilot = listing
        .questionnaires
        .iter()
        .find(|q| q.id == "ohl_pilot")
        .unwrap();
    let download: zhisu_protocol::QuestionnaireDownload = get(
        format!("/api/v1/questionnaires/ohl_pilot/{}", pilot.version),
        true,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(download.hash_is_valid());
    assert_eq!(download.hash, pilot.hash);
    let on_disk = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires/pilot.toml"),
    )
    .unwrap();
    assert_eq!(download.source, on_disk);

    let missing = get("/api/v1/questionnaires/ohl_pilot/1999".into(), true)
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["code"], "unknown_questionnaire_version");
    let no_header = get("/api/v1/questionnaires".into(), false).await.unwrap();
    assert_eq!(no_header.status().as_u16(), 400);
}

#[tokio::test]
async fn devices_must_be_enrolled_and_not_revoked() {
    let server = start(None).await;
    let body = serde_json::to_vec(&json!({ "interviews": [interview(1, RIGHT)] })).unwrap();
    let post = |token: Option<&str>| {
        let mut request = server
            .http
            .post(format!("{}{UPLOAD_PATH}", server.base))
            .header(PROTOCOL_HEADER, "1")
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    for (token, code) in [
        (None, "unauthorized"),
        (Some("forged-token"), "unauthorized"),
    ] {
        let response = post(token).await.unwrap();
        assert_eq!(response.status().as_u16(), 401);
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], code);
    }
    // enrolment: a code works once, then not again; an unknown code is refused
    let enrol = |code: String| {
        server
            .http
            .post(format!("{}/api/v1/enrol", server.base))
            .header(PROTOCOL_HEADER, "1")
            .json(&json!({ "code": code, "device_name": "渝中 5 号" }))
            .send()
    };
    let code = server
        .state
        .create_enrolment_code("2026", "jiangbei", chrono::Duration::days(1), "test")
        .unwrap();
    let first = enrol(code.to_lowercase()).await.unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let enrolment: zhisu_protocol::Enrolment = first.json().await.unwrap();
    assert_eq!(enrolment.district, "jiangbei");
    let again = enrol(code).await.unwrap();
    assert_eq!(again.status().as_u16(), 410);
    let unknown = enrol("ZZZZ-ZZZZ".into()).await.unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    let error: Value = unknown.json().await.unwrap();
    assert_eq!(error["code"], "invalid_enrolment_code");

    assert_eq!(
        post(Some(&enrolment.token))
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert!(server
        .state
        .revoke_device(enrolment.device_id, "test")
        .unwrap());
    let revoked = post(Some(&enrolment.token)).await.unwrap();
    assert_eq!(revoked.status().as_u16(), 401);
    let error: Value = revoked.json().await.unwrap();
    assert_eq!(error["code"], "device_revoked");
    let audit = server.state.storage.audit_log(10).unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert!(
        actions.contains(&"revoke_device") && actions.contains(&"enrol_device"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_device_gets_its_district_sites_and_quotas() {
    let server = start(None).await;
    let mut quotas = std::collections::BTreeMap::new();
    quotas.insert("construction".to_string(), 30);
    let site = zhisu_protocol::Site {
        id: "yz-001".into(),
        district: "yuzhong".into(),
        name: "某工地".into(),
        site_type: "enterprise".into(),
        industry: Some("construction".into()),
        ownership: None,
        size: None,
        quotas,
        ..Default::default()
    };
    server
        .state
        .storage
        .replace_sites(
            "yuzhong",
            std::slice::from_ref(&site),
            &zhisu_server_storage::AuditEntry::now("test", "replace_sites", ""),
        )
        .unwrap();
    server
        .state
        .storage
        .replace_sites(
            "jiangbei",
            &[],
            &zhisu_server_storage::AuditEntry::now("test", "replace_sites", ""),
        )
        .unwrap();
    let assignment: zhisu_protocol::DeviceAssignment = server
        .http
        .get(format!("{}/api/v1/device/assignment", server.base))
        .header(PROTOCOL_HEADER, "1")
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (assignment.round.as_str(), assignment.district.as_str()),
        ("2026", "yuzhong")
    );
    assert_eq!(assignment.sites, vec![site]);
}

#[tokio::test]
async fn sessions_start_with_the_right_password_and_end_on_sign_out() {
    let server = start(None).await;
    let sign_in = |password: &'static str| {
        server
            .http
            .post(format!("{}/api/v1/session", server.base))
            .json(&json!({ "username": "city", "password": password }))
            .send()
    };
    let wrong = sign_in("wrong-password").await.unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let error: Value = wrong.json().await.unwrap();
    assert_eq!(error["code"], "bad_credentials");
    let session: Value = sign_in("city-admin-password")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap();
    assert_eq!(session["person"]["role"], "city_admin");
    let me = |token: &str| {
        server
            .http
            .get(format!("{}/api/v1/me", server.base))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(me(token).await.unwrap().status().as_u16(), 200);
    assert_eq!(
        me(&server.token).await.unwrap().status().as_u16(),
        401,
        "a device token is not a session"
    );
    let out = server
        .http
        .delete(format!("{}/api/v1/session", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 204);
    assert_eq!(me(token).await.unwrap().status().as_u16(), 401, "ended");
}

#[tokio::test]
async fn a_device_that_floods_the_server_is_slowed_down() {
    // 2 requests a second, bursts of 20: 60 requests in a row must run into the limit
    let server = start_with(
        None,
        Some(zhisu_server::rate_limit::RateLimit::per_device(2.0, 20.0)),
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..60 {
        let response = server
            .http
            .get(format!("{}/api/v1/questionnaires", server.base))
            .header(PROTOCOL_HEADER, "1")
            .bearer_auth(&server.token)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert!(statuses[..20].iter().all(|s| *s == 200), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
}

#[tokio::test]
async fn questionnaires_are_published_per_round_checked_and_never_changed() {
    let server = start(None).await;
    let source = include_str!("../../../questionnaires/pilot.toml")
        .replace("id = \"ohl_pilot\"", "id = \"ohl_pilot_b\"");
    let publish = |round: &str, source: String| {
        server
            .http
            .post(format!("{}/api/v1/questionnaires", server.base))
            .bearer_auth(&server.admin)
            .json(&json!({ "round": round, "source": source }))
            .send()
    };
    let first = publish("2027", source.clone()).await.unwrap();
    assert_eq!(first.status().as_u16(), 201);
    assert_eq!(
        publish("2027", source.clone())
            .await
            .unwrap()
            .status()
            .as_u16(),
        200,
        "same file again"
    );
    let changed = publish("2027", source.replace("试用版", "改"))
        .await
        .unwrap();
    assert_eq!(changed.status().as_u16(), 409);
    let broken = publish(
        "2027",
        source.replace("kind = \"integer\"", "kind = \"essay\""),
    )
    .await
    .unwrap();
    assert_eq!(broken.status().as_u16(), 400);
    let error: Value = broken.json().await.unwrap();
    assert_eq!(error["code"], "invalid_questionnaire");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("questionnaire.toml:65:8: item 'age': unknown item kind 'essay'"),
        "{error}"
    );

    // the device of round 2026 does not get a 2027 questionnaire; a 2027 device does
    let listing = |token: String| {
        let http = server.http.clone();
        let url = format!("{}/api/v1/questionnaires", server.base);
        async move {
            let listing: zhisu_protocol::QuestionnaireListing = http
                .get(url)
                .header(PROTOCOL_HEADER, "1")
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            listing
                .questionnaires
                .into_iter()
                .map(|q| q.id)
                .collect::<Vec<_>>()
        }
    };
    assert!(!listing(server.token.clone())
        .await
        .contains(&"ohl_pilot_b".to_string()));
    let code = server
        .state
        .create_enrolment_code("2027", "yuzhong", chrono::Duration::days(1), "test")
        .unwrap();
    let token_2027 = server
        .state
        .enrol(&code, "2027 tablet")
        .unwrap()
        .unwrap()
        .token;
    let ids = listing(token_2027).await;
    assert!(
        ids.contains(&"ohl_pilot_b".to_string()) && ids.contains(&"ohl_2026".to_string()),
        "{ids:?}"
    );

    // kept: a restarted server still knows it
    let reopened = zhisu_server::open_sqlite(
        &server._dir.path().join("server.sqlite3"),
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires"),
    )
    .unwrap();
    assert!(reopened
        .questionnaires
        .get("ohl_pilot_b", "2026.1")
        .is_some());
}

/// What a device sends is checked against the protocol's limits before anything reads it: each
/// finding of the attack on a live server, refused with the field named, or stored with a flag
/// where a field tablet's clock is plausibly wrong; every view still answers afterwards.
#[tokio::test]
async fn device_fields_beyond_the_limits_are_refused_and_wrong_clocks_flagged() {
    let server = start(None).await;
    let at = |y: i32, mo: u32, d: u32| Utc.with_ymd_and_hms(y, mo, d, 8, 0, 0).unwrap();
    let with = |n: u128, change: &dyn Fn(&mut CompletedInterview)| {
        let mut i = interview(n, RIGHT);
        change(&mut i);
        i.sealed()
    };
    let refused = [
        (
            with(1, &|i| {
                i.started_at = "+262142-01-01T00:00:00Z".parse().unwrap()
            }),
            "started_at",
        ),
        (
            with(2, &|i| i.surveyor_id = Some("s".repeat(32_768))),
            "surveyor_id: longer than 64",
        ),
        (
            with(3, &|i| i.utc_offset_minutes = i32::MAX),
            "utc_offset_minutes",
        ),
        (
            with(4, &|i| i.completed_at = at(1900, 1, 1)),
            "completed_at",
        ),
        (
            with(5, &|i| i.site_id = Some("site\u{202e}1".into())),
            "site_id: holds the control or invisible character U+202E",
        ),
        (
            with(6, &|i| {
                i.answers
                    .insert("age".into(), AnswerValue::Text("x\u{1b}[2J".into()));
            }),
            "answers.age",
        ),
    ];
    let batch: Vec<CompletedInterview> = refused.iter().map(|(i, _)| i.clone()).collect();
    let response = server.upload(&batch).await;
    for ((_, field), receipt) in refused.iter().zip(&response.receipts) {
        assert_eq!(receipt.status, ReceiptStatus::Rejected, "{field}");
        assert_eq!(receipt.code.as_deref(), Some("invalid_interview"));
        let message = receipt.message.as_deref().unwrap();
        assert!(message.contains(field), "{field}: {message}");
    }
    // an answer to an item not in the questionnaire is refused, named
    let unasked = with(7, &|i| {
        i.answers
            .insert("not_an_item".into(), AnswerValue::Bool(true));
    });
    let response = server.upload(&[unasked]).await;
    assert_eq!(
        response.receipts[0].code.as_deref(),
        Some("invalid_answers")
    );
    assert!(response.receipts[0]
        .message
        .as_deref()
        .unwrap()
        .contains("not_an_item"));

    // plausible wrong clocks: stored, flagged, counted by the day the server received them
    let flat_battery = with(20, &|i| {
        i.started_at = at(1970, 1, 1);
        i.completed_at = at(1970, 1, 1) + chrono::Duration::minutes(9);
    });
    let ahead = with(21, &|i| {
        i.started_at = at(2036, 3, 1);
        i.completed_at = at(2036, 3, 1) + chrono::Duration::minutes(9);
    });
    let backwards = with(22, &|i| {
        i.completed_at = i.started_at - chrono::Duration::days(6 * 365);
    });
    let fine = interview(23, RIGHT);
    let response = server.upload(&[flat_battery, ahead, backwards, fine]).await;
    assert!(response
        .receipts
        .iter()
        .all(|r| r.status == ReceiptStatus::Stored));
    let stored = server
        .state
        .storage
        .interviews(&zhisu_server_storage::Scope::All)
        .unwrap();
    assert_eq!(stored.len(), 4);
    let flags = |n: u128| {
        server
            .state
            .storage
            .qc_queue(&zhisu_server_storage::Scope::All, None, 100)
            .unwrap()
            .into_iter()
            .find(|row| row.id == Uuid::from_u128(n))
            .map(|row| row.flags)
            .unwrap_or_default()
    };
    for n in [20, 21, 22] {
        assert!(
            flags(n).iter().any(|f| f.code() == "device_clock"),
            "{n}: {:?}",
            flags(n)
        );
    }
    assert!(flags(23).iter().all(|f| f.code() != "device_clock"));
    // progress counts the flagged ones on the day the server received them, not in 1970 or 2036
    let today = Utc::now().format("%Y-%m-%d").to_string();
    let cells = server
        .state
        .storage
        .progress(&zhisu_server_storage::Scope::All)
        .unwrap();
    let days: std::collections::BTreeSet<&str> = cells.iter().map(|c| c.day.as_str()).collect();
    assert!(
        !days
            .iter()
            .any(|d| d.starts_with("1970") || d.starts_with("2036")),
        "{days:?}"
    );
    assert!(cells.iter().any(|c| c.day >= today), "{days:?}");
    for page in [
        "/dashboard/qc",
        "/dashboard/report",
        "/dashboard/progress",
        "/dashboard/export.xlsx",
    ] {
        let status = server
            .http
            .get(format!("{}{page}", server.base))
            .bearer_auth(&server.admin)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200, "{page}");
    }
}

#[tokio::test]
async fn interviews_are_read_page_by_page_and_bad_pages_are_refused() {
    let server = start(None).await;
    // two uploads: ties in receipt time within a batch are ordered by id
    server
        .upload(&(1..=4).map(|n| interview(n, RIGHT)).collect::<Vec<_>>())
        .await;
    server
        .upload(&(5..=7).map(|n| interview(n, RIGHT)).collect::<Vec<_>>())
        .await;
    let whole = server.list().await;
    assert_eq!((whole.count, whole.next.as_deref()), (7, None));
    let get = |query: String| {
        let (http, base, admin) = (
            server.http.clone(),
            server.base.clone(),
            server.admin.clone(),
        );
        async move {
            let response = http
                .get(format!("{base}/api/v1/interviews{query}"))
                .bearer_auth(admin)
                .send()
                .await
                .unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    for limit in [1, 2, 3, 7, 1000] {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut query = format!("?limit={limit}");
            if let Some(a) = &after {
                query.push_str("&after=");
                query.push_str(&form_urlencoded::byte_serialize(a.as_bytes()).collect::<String>());
            }
            let (status, page) = get(query).await;
            assert_eq!(status, 200, "{page}");
            let page: InterviewList = serde_json::from_value(page).unwrap();
            assert!(page.count <= limit && page.count == page.interviews.len());
            pages += 1;
            seen.extend(page.interviews);
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, whole.interviews, "pages of {limit}");
        // a full last page points at an empty one
        assert_eq!(pages, 7 / limit + 1, "pages of {limit}");
    }
    for bad in [
        "?limit=0",
        "?limit=1001",
        "?limit=ten",
        "?after=yesterday",
        "?after=2026-11-29T08:00:00Z_not-a-uuid",
        "?page=2",
    ] {
        let (status, body) = get(bad.to_string()).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["code"], "bad_request", "{bad}");
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
}
