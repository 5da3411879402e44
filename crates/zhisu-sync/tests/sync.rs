//! Device store + sync engine + the real server over loopback.
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{Duration, TimeZone, Utc};
use uuid::Uuid;
use zhisu_core::{AnswerValue, Questionnaire};
use zhisu_protocol::UploadRequest;
use zhisu_server::ServerState;
use zhisu_store::{DeviceStore, InterviewState, NewInterview, StateCounts};
use zhisu_sync::{
    sync_assignment, sync_once, sync_questionnaires, SyncClient, SyncError, SyncProgress,
};

fn no_progress(_: SyncProgress) {}

fn questionnaires_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires")
}

fn pilot() -> Questionnaire {
    let source = std::fs::read_to_string(questionnaires_dir().join("pilot.toml")).unwrap();
    Questionnaire::from_toml("pilot.toml", &source).unwrap()
}

async fn start_server(dir: &std::path::Path) -> (String, ServerState) {
    let state =
        zhisu_server::open_sqlite(&dir.join("server.sqlite3"), &questionnaires_dir()).unwrap();
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;
    (base, state)
}

/// Completes `n` interviews on the device and returns their ids.
fn complete_interviews(store: &mut DeviceStore, n: u128) -> Vec<Uuid> {
    let q = pilot();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap();
    (0..n)
        .map(|i| {
            let id = store
                .start_interview(&q, &NewInterview::new(Uuid::from_u128(1000 + i), t0, 480))
                .unwrap();
            let answers = [
                ("age", AnswerValue::Integer(20 + (i % 40) as i64)),
                ("employer_duty", AnswerValue::Bool(i % 2 == 0)),
                ("noise", AnswerValue::Choice("earplugs".into())),
                (
                    "confined_space",
                    AnswerValue::Choices(vec!["ventilate".into()]),
                ),
            ];
            for (item, value) in answers {
                store.save_answer(&q, id, item, &value, t0).unwrap();
            }
            store
                .complete_interview(&q, id, t0 + Duration::seconds(i as i64))
                .unwrap();
            id
        })
        .collect()
}

/// Enrols a test device with the server and returns its token.
fn device_token(state: &ServerState) -> String {
    zhisu_server_tests::enrol(state, "2026", "test", "test tablet").1
}

fn server_count(state: &ServerState) -> u64 {
    state.storage.interview_count().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queue_larger_than_one_batch_arrives_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (base, server) = start_server(dir.path()).await;
    let mut device = DeviceStore::open(&dir.path().join("device.sqlite3"), &device_key()).unwrap();
    let ids = complete_interviews(&mut device, 250);
    let store = Arc::new(Mutex::new(device));
    let client = SyncClient::new(&base).with_token(&device_token(&server));

    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let report = sync_once(&store, &client, &move |p| record.lock().unwrap().push(p))
        .await
        .unwrap();
    assert_eq!(
        (report.sent, report.acknowledged, report.rejected),
        (250, 250, 0)
    );
    let steps: Vec<(usize, usize)> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|p| (p.done, p.total))
        .collect();
    assert_eq!(steps, vec![(0, 250), (100, 250), (200, 250), (250, 250)]);
    let log = store.lock().unwrap().sync_log(10).unwrap();
    assert_eq!(log.len(), 3, "three batches of at most 100");
    assert!(log
        .iter()
        .all(|e| e.outcome == "answered" && e.http_status == Some(200)));
    assert_eq!(server_count(&server), 250);
    for id in &ids {
        assert!(server.storage.contains(*id).unwrap());
    }
    assert_eq!(
        store.lock().unwrap().state_counts().unwrap(),
        StateCounts {
            acknowledged: 250,
            ..Default::default()
        }
    );
    // nothing left to send: a second pass sends nothing
    let again = sync_once(&store, &client, &no_progress).await.unwrap();
    assert_eq!(again.sent, 0);
    assert_eq!(server_count(&server), 250);
}

/// One interview the server refuses outright (here: alone larger than the server takes) never
/// blocks the tablet's queue: batches refused as too large are halved, the one at fault is set
/// aside with the server's reason, and every other interview arrives exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn an_interview_the_server_always_refuses_does_not_block_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        zhisu_server::open_sqlite(&dir.path().join("server.sqlite3"), &questionnaires_dir())
            .unwrap();
    let path = dir.path().join("device.sqlite3");
    let mut device = DeviceStore::open(&path, &device_key()).unwrap();
    let ids = complete_interviews(&mut device, 12);
    let one = serde_json::to_vec(&UploadRequest {
        interviews: device.waiting_uploads(1).unwrap(),
        contacts: Vec::new(),
        sealed: vec![],
    })
    .unwrap()
    .len();
    // the server takes about four interviews a request; the tablet sends up to 100
    let mut http = zhisu_server::HttpState::new(server.clone());
    http.max_body_bytes = one * 9 / 2;
    let base = zhisu_server_tests::serve_on_loopback(http).await;
    // the fourth interview grows beyond what the server takes alone (a bug, a hand edit)
    let bad = ids[3];
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        // the tablet's file is encrypted: a hand edit needs its key
        conn.pragma_update(None, "key", format!("x'{}'", device_key().to_hex()))
            .unwrap();
        let payload: String = conn
            .query_row(
                "SELECT payload FROM interview WHERE id = ?1",
                [bad.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        let mut value: serde_json::Value = serde_json::from_str(&payload).unwrap();
        value["answers"]["age"] =
            serde_json::to_value(AnswerValue::Text("九".repeat(one * 2))).unwrap();
        conn.execute(
            "UPDATE interview SET payload = ?2 WHERE id = ?1",
            [bad.to_string(), value.to_string()],
        )
        .unwrap();
    }
    let store = Arc::new(Mutex::new(device));
    let client = SyncClient::new(&base).with_token(&device_token(&server));
    let report = sync_once(&store, &client, &no_progress).await.unwrap();
    assert_eq!((report.acknowledged, report.rejected), (11, 1));
    assert_eq!(server_count(&server), 11);
    for id in ids.iter().filter(|id| **id != bad) {
        assert!(server.storage.contains(*id).unwrap());
    }
    let set_aside = store.lock().unwrap().interview(bad).unwrap();
    assert_eq!(set_aside.state, InterviewState::Rejected);
    assert_eq!(set_aside.sync_code.as_deref(), Some("batch_too_large"));
    assert!(set_aside
        .sync_message
        .as_deref()
        .is_some_and(|m| m.contains("too large")));
    // nothing is stuck: a second pass sends nothing, and nothing is doubled
    let again = sync_once(&store, &client, &no_progress).await.unwrap();
    assert_eq!(again.sent, 0);
    assert_eq!(server_count(&server), 11);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_response_means_a_resend_that_is_recognised_not_doubled() {
    let dir = tempfile::tempdir().unwrap();
    let (base, server) = start_server(dir.path()).await;
    let mut device = DeviceStore::open(&dir.path().join("device.sqlite3"), &device_key()).unwrap();
    complete_interviews(&mut device, 5);
    let client = SyncClient::new(&base).with_token(&device_token(&server));
    // The server stores the batch but the device never learns of it (the response was lost).
    let waiting = device.waiting_uploads(100).unwrap();
    client
        .upload(&UploadRequest {
            interviews: waiting[..3].to_vec(),
            contacts: Vec::new(),
            sealed: vec![],
        })
        .await
        .unwrap();
    assert_eq!(server_count(&server), 3);
    assert_eq!(device.state_counts().unwrap().waiting, 5);

    let store = Arc::new(Mutex::new(device));
    let report = sync_once(&store, &client, &no_progress).await.unwrap();
    assert_eq!((report.sent, report.acknowledged), (5, 5));
    let log = store.lock().unwrap().sync_log(10).unwrap();
    assert_eq!((log[0].stored, log[0].already_stored), (2, 3));
    assert_eq!(server_count(&server), 5);
    assert_eq!(
        store.lock().unwrap().state_counts().unwrap().acknowledged,
        5
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_server_down_nothing_changes_on_the_device() {
    let dir = tempfile::tempdir().unwrap();
    let mut device = DeviceStore::open(&dir.path().join("device.sqlite3"), &device_key()).unwrap();
    complete_interviews(&mut device, 3);
    // a port nobody listens on
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = Arc::new(Mutex::new(device));
    let client = SyncClient::new(&format!("http://127.0.0.1:{port}"));
    let error = sync_once(&store, &client, &no_progress).await.unwrap_err();
    assert!(matches!(error, SyncError::Unreachable(_)), "{error}");
    assert_eq!(error.code(), "server_unreachable");
    assert!(
        !error.may_have_arrived(),
        "a refused connection carried nothing"
    );
    let store = store.lock().unwrap();
    assert_eq!(store.state_counts().unwrap().waiting, 3);
    let first = store.waiting_uploads(1).unwrap()[0].id;
    assert_eq!(
        store.interview(first).unwrap().state,
        InterviewState::Completed
    );
    let log = store.sync_log(10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].outcome.as_str(), log[0].error_code.as_deref()),
        ("failed", Some("server_unreachable"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn published_questionnaires_are_delivered_once_and_kept_as_published() {
    let dir = tempfile::tempdir().unwrap();
    let (base, server) = start_server(dir.path()).await;
    let store = Arc::new(Mutex::new(
        DeviceStore::open(&dir.path().join("device.sqlite3"), &device_key()).unwrap(),
    ));
    let client = SyncClient::new(&base).with_token(&device_token(&server));
    let published = server.questionnaires.refs();
    assert!(published.len() >= 3);

    assert_eq!(
        sync_questionnaires(&store, &client).await.unwrap(),
        published.len()
    );
    assert_eq!(
        sync_questionnaires(&store, &client).await.unwrap(),
        0,
        "nothing new"
    );
    let held = store.lock().unwrap().questionnaire_refs().unwrap();
    assert_eq!(held, published);
    let loaded = store.lock().unwrap().questionnaires().unwrap();
    assert_eq!(loaded.len(), published.len());
    // the current version and the earlier one (questionnaires/earlier/), for interviews begun
    // with it
    let versions: Vec<&str> = loaded
        .iter()
        .filter(|q| q.id == "ohl_2026")
        .map(|q| q.version.as_str())
        .collect();
    assert_eq!(versions, ["2026.1", "2026.2"]);
    let one = store
        .lock()
        .unwrap()
        .questionnaire("ohl_2026", "2026.2")
        .unwrap();
    assert_eq!(
        one.as_ref(),
        loaded
            .iter()
            .find(|q| q.id == "ohl_2026" && q.version == "2026.2")
    );
    assert!(store
        .lock()
        .unwrap()
        .questionnaire("ohl_2026", "1999")
        .unwrap()
        .is_none());

    // a changed file under a published version is refused, the first copy kept
    let mut changed = server
        .questionnaires
        .download("ohl_pilot", "2026.1")
        .unwrap();
    changed.source = changed.source.replace("试用版", "试用");
    changed.hash = zhisu_protocol::sha256_hex(changed.source.as_bytes());
    let error = store
        .lock()
        .unwrap()
        .save_questionnaire(&changed, chrono::Utc::now())
        .unwrap_err();
    assert_eq!(error.code(), "questionnaire_changed");
    // and a damaged download is refused
    let mut damaged = server
        .questionnaires
        .download("ohl_pilot", "2026.1")
        .unwrap();
    damaged.source.push_str("\n[[[");
    let error = store
        .lock()
        .unwrap()
        .save_questionnaire(&damaged, chrono::Utc::now())
        .unwrap_err();
    assert_eq!(error.code(), "invalid_questionnaire");
    assert_eq!(
        store.lock().unwrap().questionnaire_refs().unwrap(),
        published
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn enrolment_assignment_and_revocation_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let (base, server) = start_server(dir.path()).await;
    let store = Arc::new(Mutex::new(
        DeviceStore::open(&dir.path().join("device.sqlite3"), &device_key()).unwrap(),
    ));
    let site = zhisu_protocol::Site {
        id: "yz-009".into(),
        district: "yuzhong".into(),
        name: "菜园坝长途汽车站".into(),
        site_type: "station".into(),
        industry: None,
        ownership: None,
        size: None,
        quotas: [("migrant".to_string(), 50)].into_iter().collect(),
        ..Default::default()
    };
    server
        .storage
        .replace_sites(
            "yuzhong",
            std::slice::from_ref(&site),
            &zhisu_server_storage::AuditEntry::now("test", "replace_sites", ""),
        )
        .unwrap();
    let code = server
        .create_enrolment_code("2026", "yuzhong", chrono::Duration::days(1), "test")
        .unwrap();

    let bad = SyncClient::new(&base)
        .enrol("WRON-GCOD", "平板")
        .await
        .unwrap_err();
    assert_eq!(bad.code(), "invalid_enrolment_code");
    let enrolment = SyncClient::new(&base)
        .enrol(&code, "渝中 2 号")
        .await
        .unwrap();
    let identity = store
        .lock()
        .unwrap()
        .save_identity(&base, "渝中 2 号", &enrolment, chrono::Utc::now())
        .unwrap();
    let client = SyncClient::new(&identity.server_url).with_token(&identity.token);
    assert_eq!(sync_assignment(&store, &client).await.unwrap(), 1);
    assert_eq!(store.lock().unwrap().sites().unwrap(), vec![site]);
    assert_eq!(
        store.lock().unwrap().round_settings().unwrap(),
        zhisu_protocol::RoundSettings::default()
    );

    // the city administrator changes the round's settings: the device keeps them
    let settings = zhisu_protocol::RoundSettings {
        show_answer_key: false,
        quality: zhisu_core::QcThresholds {
            min_seconds_per_item: 30.0,
            ..Default::default()
        },
        ..Default::default()
    };
    server
        .storage
        .set_round_settings(
            "2026",
            &settings,
            &zhisu_server_storage::AuditEntry::now("test", "set_round_settings", ""),
        )
        .unwrap();
    sync_assignment(&store, &client).await.unwrap();
    assert_eq!(store.lock().unwrap().round_settings().unwrap(), settings);

    server.revoke_device(enrolment.device_id, "test").unwrap();
    let error = sync_assignment(&store, &client).await.unwrap_err();
    assert!(error.is_revoked(), "{error}");
    complete_interviews(&mut store.lock().unwrap(), 1);
    let error = sync_once(&store, &client, &no_progress).await.unwrap_err();
    assert!(error.is_revoked());
    assert_eq!(
        store.lock().unwrap().state_counts().unwrap().waiting,
        1,
        "kept on the device for a backup hand-over"
    );
    assert_eq!(server_count(&server), 0);
}

fn ohl() -> Questionnaire {
    let source = std::fs::read_to_string(questionnaires_dir().join("ohl_2026.toml")).unwrap();
    Questionnaire::from_toml("ohl_2026.toml", &source).unwrap()
}

/// A refusal, a respondent screened out and a partial interview (issue 15) travel in the
/// interviews' queue with the same receipts: each arrives exactly once, also when the first
/// response is lost and when the same batch is sent again.
#[tokio::test(flavor = "multi_thread")]
async fn contact_outcomes_arrive_exactly_once_beside_the_interviews() {
    use zhisu_core::Disposition;
    let dir = tempfile::tempdir().unwrap();
    let (base, server) = start_server(dir.path()).await;
    let mut device = DeviceStore::open(&dir.path().join("device.sqlite3"), &device_key()).unwrap();
    let completed = complete_interviews(&mut device, 1)[0];
    let q = ohl();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 29, 9, 0, 0).unwrap();
    let open = |device: &mut DeviceStore, n: u128, answers: &[(&str, AnswerValue)]| {
        let id = device
            .start_interview(&q, &NewInterview::new(Uuid::from_u128(n), t0, 480))
            .unwrap();
        for (item, value) in answers {
            device.save_answer(&q, id, item, value, t0).unwrap();
        }
        id
    };
    let refused = open(&mut device, 1, &[("consent", AnswerValue::Bool(false))]);
    let screened = open(
        &mut device,
        2,
        &[
            ("consent", AnswerValue::Bool(true)),
            ("age", AnswerValue::Integer(62)),
            ("frontline", AnswerValue::Bool(true)),
        ],
    );
    let partial = open(
        &mut device,
        3,
        &[
            ("consent", AnswerValue::Bool(true)),
            ("age", AnswerValue::Integer(35)),
            ("frontline", AnswerValue::Bool(true)),
        ],
    );
    // the rule decides a screened-out contact; a surveyor cannot call it something else
    assert_eq!(
        device
            .close_contact(&q, refused, Some(Disposition::Other), "x", t0)
            .unwrap_err()
            .code(),
        "disposition_not_allowed"
    );
    let r = device.close_contact(&q, refused, None, "", t0).unwrap();
    assert_eq!(r.disposition, Disposition::Refused);
    let s = device.close_contact(&q, screened, None, "", t0).unwrap();
    assert_eq!(
        (s.disposition, s.excluded_by.clone()),
        (Disposition::NotEligible, vec!["age".to_string()])
    );
    // a break-off after consent is a partial, with a reason, never a refusal
    assert_eq!(
        device
            .close_contact(&q, partial, Some(Disposition::Refused), "", t0)
            .unwrap_err()
            .code(),
        "disposition_not_allowed"
    );
    assert_eq!(
        device
            .close_contact(&q, partial, Some(Disposition::Partial), " ", t0)
            .unwrap_err()
            .code(),
        "disposition_reason_missing"
    );
    let p = device
        .close_contact(&q, partial, Some(Disposition::Partial), "被叫去上工", t0)
        .unwrap();
    assert_eq!((p.disposition, p.items_answered), (Disposition::Partial, 3));
    assert_eq!(device.state_counts().unwrap().waiting, 4);
    let shown = device.interview(partial).unwrap();
    assert_eq!(shown.disposition, Some(Disposition::Partial));
    assert_eq!(shown.disposition_reason.as_deref(), Some("被叫去上工"));

    // the first response is lost: the server stores the batch, the device never learns it
    let client = SyncClient::new(&base).with_token(&device_token(&server));
    let (interviews, sealed, contacts) = device.waiting_records(100).unwrap();
    assert_eq!((interviews.len() + sealed.len(), contacts.len()), (1, 3));
    let lost = UploadRequest {
        interviews,
        contacts,
        sealed,
    };
    client.upload(&lost).await.unwrap();
    let store = Arc::new(Mutex::new(device));
    let report = sync_once(&store, &client, &no_progress).await.unwrap();
    assert_eq!((report.sent, report.acknowledged), (4, 4));
    // the same batch sent once more: already stored, nothing doubled
    let (status, again) = client.upload(&lost).await.unwrap();
    assert_eq!(status, 200);
    assert!(again
        .receipts
        .iter()
        .all(|r| r.status == zhisu_protocol::ReceiptStatus::AlreadyStored));
    assert_eq!(again.receipts.len(), 4);
    assert_eq!(server_count(&server), 1);
    assert!(server.storage.contains(completed).unwrap());
    let counts = server
        .storage
        .contact_counts(&zhisu_server_storage::Scope::All)
        .unwrap();
    let mut by: Vec<(String, u64)> = counts
        .iter()
        .map(|c| (c.disposition.clone(), c.count))
        .collect();
    by.sort();
    assert_eq!(
        by,
        vec![
            ("not_eligible".into(), 1),
            ("partial".into(), 1),
            ("refused".into(), 1)
        ]
    );
    let device = store.lock().unwrap();
    assert_eq!(device.state_counts().unwrap().acknowledged, 4);
    assert_eq!(device.state_counts().unwrap().waiting, 0);
}

/// The tablet's database key in these tests (the store is encrypted as on a tablet).
fn device_key() -> zhisu_store::DatabaseKey {
    zhisu_store::DatabaseKey::from_bytes([0x5a; 32])
}

/// The education library (issue 24): the assignment's digest brings the server's library onto
/// the device, is not fetched again while the digest is the same, and an edit on the server
/// (a new version) reaches the device at the next assignment.
#[tokio::test(flavor = "multi_thread")]
async fn the_library_arrives_with_the_assignment_and_follows_the_servers_edits() {
    let dir = tempfile::tempdir().unwrap();
    let (base, server) = start_server(dir.path()).await;
    assert!(server.load_starter_library().unwrap() > 40);
    let device = DeviceStore::open(&dir.path().join("device.sqlite3"), &device_key()).unwrap();
    let store = Arc::new(Mutex::new(device));
    let client = SyncClient::new(&base).with_token(&device_token(&server));
    sync_assignment(&store, &client).await.unwrap();
    let held = store.lock().unwrap().library().unwrap();
    assert_eq!(held, server.library().unwrap());
    let digest = server.device_library().unwrap().digest;
    assert_eq!(store.lock().unwrap().library_digest().unwrap(), digest);
    // the same digest: nothing to fetch
    assert_eq!(
        zhisu_sync::sync_library(&store, &client, &digest)
            .await
            .unwrap(),
        None
    );
    // a new version on the server reaches the device
    let role = zhisu_server_storage::Role::CityAdmin;
    let input = zhisu_server_service::library::PieceInput {
        id: "heat".into(),
        points: "know_heat_stroke".into(),
        title: "中暑了怎么办".into(),
        text: "到阴凉处休息，喝淡盐水。".into(),
        source: "《防暑降温措施管理办法》".into(),
        // with a picture: it travels in the piece and is kept by the device as delivered
        picture: Some(
            include_bytes!("../../../questionnaires/images/sign_warning_triangle.png").to_vec(),
        ),
        picture_alt: "黄色三角形的警告标志".into(),
        ..Default::default()
    };
    assert_eq!(server.save_piece(&role, &input, "city").unwrap(), 2);
    sync_assignment(&store, &client).await.unwrap();
    let held = store.lock().unwrap().library().unwrap();
    let heat = held.iter().find(|p| p.id == "heat").unwrap();
    assert_eq!((heat.version, heat.title.as_str()), (2, "中暑了怎么办"));
    assert_eq!(heat.picture.as_ref().unwrap().alt, "黄色三角形的警告标志");
    assert_eq!(held, server.library().unwrap());
}

/// Surveyors managed on the server (issue 15): the assignment's digest brings the district's
/// surveyors onto the device (only that district's), is not fetched again while the digest is
/// the same, and a new PIN or a retirement on the server reaches the device at the next sync.
#[tokio::test(flavor = "multi_thread")]
async fn the_districts_surveyors_arrive_with_the_assignment_and_follow_the_server() {
    use zhisu_server_service::surveyors::{self, SurveyorInput};
    let dir = tempfile::tempdir().unwrap();
    let (base, server) = start_server(dir.path()).await;
    let admin = zhisu_server_storage::Role::DistrictAdmin {
        district: "yuzhong".into(),
    };
    let add = |name: &str, district: &str, pin: &str| {
        surveyors::add_surveyor(
            &server,
            "yz_admin",
            &zhisu_server_storage::Role::CityAdmin,
            &SurveyorInput {
                district: district.into(),
                name: name.into(),
                pin: pin.into(),
            },
            "zh-CN",
        )
        .unwrap()
    };
    let wang = add("王芳", "yuzhong", "2468");
    let liu = add("刘伟", "yuzhong", "1357");
    add("江北的人", "jiangbei", "1111");
    let device = DeviceStore::open(&dir.path().join("device.sqlite3"), &device_key()).unwrap();
    let store = Arc::new(Mutex::new(device));
    let token = zhisu_server_tests::enrol(&server, "2026", "yuzhong", "tablet B").1;
    let client = SyncClient::new(&base).with_token(&token);
    sync_assignment(&store, &client).await.unwrap();
    let names: Vec<String> = store
        .lock()
        .unwrap()
        .surveyors()
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    let mut expected = [(wang.id.clone(), "王芳"), (liu.id.clone(), "刘伟")];
    expected.sort();
    assert_eq!(
        names,
        expected
            .iter()
            .map(|(_, n)| n.to_string())
            .collect::<Vec<_>>(),
        "only this district's surveyors"
    );
    let digest = surveyors::device_surveyors(&server, "yuzhong")
        .unwrap()
        .digest;
    assert_eq!(
        store.lock().unwrap().delivered_surveyors_digest().unwrap(),
        digest
    );
    assert_eq!(
        zhisu_sync::sync_surveyors(&store, &client, &digest)
            .await
            .unwrap(),
        None,
        "the same digest: nothing fetched"
    );
    // offline from here on for the store: the PIN set on the server signs in
    store
        .lock()
        .unwrap()
        .sign_in_surveyor(&wang.id, "2468", Utc::now())
        .unwrap();

    // a new PIN for 王芳, 刘伟 retired: both reach the device at the next sync
    surveyors::set_surveyor_pin(&server, "yz_admin", &admin, &wang.id, "8642", "zh-CN").unwrap();
    surveyors::retire_surveyor(&server, "yz_admin", &admin, &liu.id, "zh-CN").unwrap();
    sync_assignment(&store, &client).await.unwrap();
    let mut device = store.lock().unwrap();
    assert_eq!(
        device
            .sign_in_surveyor(&liu.id, "1357", Utc::now())
            .unwrap_err()
            .code(),
        "surveyor_retired"
    );
    assert_eq!(
        device
            .sign_in_surveyor(&wang.id, "2468", Utc::now())
            .unwrap_err()
            .code(),
        "wrong_pin"
    );
    device
        .sign_in_surveyor(&wang.id, "8642", Utc::now())
        .unwrap();
    assert_eq!(
        device.delivered_surveyors_digest().unwrap(),
        surveyors::device_surveyors(&server, "yuzhong")
            .unwrap()
            .digest
    );
}

/// Re-contact details (issue 15) through the sync engine and the real server: nothing is sent
/// before the interview's receipt; the details then arrive once, even when the first response
/// was lost and they are sent again; after the receipt the tablet no longer holds the number,
/// and the server's back-check draw finds the interview.
#[tokio::test(flavor = "multi_thread")]
async fn recontact_details_follow_their_interview_once_and_leave_the_tablet() {
    use zhisu_protocol::recontact::RecontactUpload;
    use zhisu_protocol::{BackcheckSettings, ReceiptStatus, RoundSettings};
    let dir = tempfile::tempdir().unwrap();
    let (base, server) = start_server(dir.path()).await;
    let mut device = DeviceStore::open(&dir.path().join("device.sqlite3"), &device_key()).unwrap();
    device
        .save_round_settings(&RoundSettings {
            backcheck: Some(BackcheckSettings {
                share_percent: 100.0,
                min_per_surveyor_week: 1,
                items: vec!["age".into()],
                fail_below_percent: 80,
                numeric_tolerance: 0.0,
            }),
            ..Default::default()
        })
        .unwrap();
    let ids = complete_interviews(&mut device, 2);
    let now = Utc::now();
    device
        .answer_recontact(ids[0], true, "13800001234", "王师傅", now)
        .unwrap();
    device.answer_recontact(ids[1], false, "", "", now).unwrap();
    let store = Arc::new(Mutex::new(device));
    let client = SyncClient::new(&base).with_token(&device_token(&server));
    // before the interviews' receipts: nothing to send
    assert_eq!(
        zhisu_sync::sync_recontacts(&store, &client).await.unwrap(),
        0
    );
    sync_once(&store, &client, &no_progress).await.unwrap();
    // the server keeps them, but the response is lost
    let waiting = store.lock().unwrap().waiting_recontacts(10).unwrap();
    assert_eq!(waiting.len(), 1, "only the yes");
    let (_, lost) = client
        .upload_recontacts(&RecontactUpload {
            recontacts: waiting,
        })
        .await
        .unwrap();
    assert_eq!(lost.receipts[0].status, ReceiptStatus::Stored);
    // the next pass sends them again: recognised, kept once, and the number leaves the tablet
    assert_eq!(
        zhisu_sync::sync_recontacts(&store, &client).await.unwrap(),
        1
    );
    let kept = store
        .lock()
        .unwrap()
        .kept_recontact(ids[0])
        .unwrap()
        .unwrap();
    assert_eq!((kept.state.as_str(), kept.phone), ("acknowledged", None));
    assert_eq!(
        server
            .storage
            .audit_log(100)
            .unwrap()
            .iter()
            .filter(|e| e.action == "put_recontact")
            .count(),
        1
    );
    let candidates = server.storage.backcheck_candidates("2026", None).unwrap();
    assert_eq!(
        candidates
            .iter()
            .map(|c| c.interview_id)
            .collect::<Vec<_>>(),
        vec![ids[0]],
        "the yes can be drawn, the no cannot"
    );
}
