//! The server through its real HTTP boundary: a loopback port, a temporary SQLite file.
use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use uuid::Uuid;
use zhisu_core::{AnswerValue, Answers};
use zhisu_protocol::{
    CompletedInterview, ReceiptStatus, UploadResponse, PROTOCOL_HEADER, UPLOAD_PATH,
};
use zhisu_server::api::InterviewList;
use zhisu_server::ServerState;

struct TestServer {
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start(max_body_bytes: Option<usize>) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let questionnaires = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
    let mut state = ServerState::open(&dir.path().join("server.sqlite3"), &questionnaires).unwrap();
    if let Some(limit) = max_body_bytes {
        state.max_body_bytes = limit;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(zhisu_server::serve(listener, state));
    TestServer {
        base,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

impl TestServer {
    async fn post_raw(&self, body: Vec<u8>, protocol: Option<&str>) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("{}{UPLOAD_PATH}", self.base))
            .header("content-type", "application/json")
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
        let mut request = server.http.get(format!("{}{path}", server.base));
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
    let download: zhisu_protocol::QuestionnaireDownload =
        get(format!("/api/v1/questionnaires/ohl_pilot/{}", pilot.version), true)
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

    let missing = get("/api/v1/questionnaires/ohl_pilot/1999".into(), true).await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["code"], "unknown_questionnaire_version");
    let no_header = get("/api/v1/questionnaires".into(), false).await.unwrap();
    assert_eq!(no_header.status().as_u16(), 400);
}
