//! Sealed interviews over the real HTTP server: the round's public key comes with the
//! assignment, an interview sealed to it is opened, checked, re-scored and stored exactly once,
//! and what does not open is refused or kept for later, never stored half.
use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use uuid::Uuid;
use zhisu_core::{AnswerValue, Questionnaire};
use zhisu_protocol::sealed::{OsRng, RoundSecretKey};
use zhisu_protocol::{ReceiptStatus, UploadRequest};
use zhisu_server_storage::Scope;
use zhisu_store::{DeviceStore, NewInterview};
use zhisu_sync::{SyncClient, SyncError};

fn questionnaires_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires")
}

fn pilot() -> Questionnaire {
    let source = std::fs::read_to_string(questionnaires_dir().join("pilot.toml")).unwrap();
    Questionnaire::from_toml("pilot.toml", &source).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interview_sealed_to_the_round_key_is_scored_and_stored_once_on_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        zhisu_server::open_sqlite(&dir.path().join("server.sqlite3"), &questionnaires_dir())
            .unwrap();
    let round_key = RoundSecretKey::generate("2026", &mut OsRng);
    let mut http = zhisu_server::HttpState::new(server.clone());
    http.add_round_key(round_key.clone());
    let base = zhisu_server_tests::serve_on_loopback(http).await;
    let token = zhisu_server_tests::enrol(&server, "2026", "test", "test tablet").1;
    let client = SyncClient::new(&base).with_token(&token);

    // the assignment brings the round's public key
    let assignment = client.assignment().await.unwrap();
    let public = assignment.round_key.expect("the round's public key");
    assert_eq!(public, round_key.public_key());
    assert!(public.is_usable());

    // a device completes two interviews; the upload carries them sealed
    let q = pilot();
    let key = zhisu_store::DatabaseKey::from_bytes([0x33; 32]);
    let mut device = DeviceStore::open(&dir.path().join("device.sqlite3"), &key).unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    for (n, age) in [(1u128, 23i64), (2, 51)] {
        let id = device
            .start_interview(&q, &NewInterview::new(Uuid::from_u128(n), t0, 480))
            .unwrap();
        for (item, value) in [
            ("age", AnswerValue::Integer(age)),
            ("employer_duty", AnswerValue::Bool(n == 1)),
            ("noise", AnswerValue::Choice("earplugs".into())),
            (
                "confined_space",
                AnswerValue::Choices(vec!["ventilate".into()]),
            ),
        ] {
            device.save_answer(&q, id, item, &value, t0).unwrap();
        }
        device.complete_interview(&q, id, t0).unwrap();
    }
    let interviews = device.waiting_uploads(10).unwrap();
    let sealed: Vec<_> = interviews
        .iter()
        .map(|i| public.seal(i, &mut OsRng).unwrap())
        .collect();
    let body = serde_json::to_string(&UploadRequest {
        contacts: Vec::new(),
        interviews: vec![],
        sealed: sealed.clone(),
    })
    .unwrap();
    assert!(!body.contains("earplugs") && !body.contains("employer_duty"));
    let (status, response) = client
        .upload(&UploadRequest {
            contacts: Vec::new(),
            interviews: vec![],
            sealed,
        })
        .await
        .unwrap();
    assert_eq!(status, 200);
    let statuses: Vec<_> = response.receipts.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [ReceiptStatus::Stored, ReceiptStatus::Stored]);

    // scored on the server exactly as the questionnaire scores the answers
    let stored = server.storage.interviews(&Scope::All).unwrap();
    assert_eq!(stored.len(), 2);
    for interview in &interviews {
        let on_server = stored
            .iter()
            .find(|s| s.interview.id == interview.id)
            .unwrap();
        assert_eq!(&on_server.interview, interview);
        let expected = q.score(&interview.answers);
        let score = &on_server.score;
        assert_eq!(
            (score.score, score.max, &score.dimensions),
            (expected.score, expected.max, &expected.dimensions)
        );
    }

    // sealed again (other bytes, same content): recognised, not doubled; a plain re-send too
    let resealed = public.seal(&interviews[0], &mut OsRng).unwrap();
    let (_, response) = client
        .upload(&UploadRequest {
            contacts: Vec::new(),
            interviews: vec![interviews[1].clone()],
            sealed: vec![resealed.clone()],
        })
        .await
        .unwrap();
    let statuses: Vec<_> = response.receipts.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [ReceiptStatus::AlreadyStored, ReceiptStatus::AlreadyStored]
    );
    assert_eq!(server.storage.interview_count().unwrap(), 2);

    // a damaged seal is refused in its place; the others in the request are stored
    let mut damaged = resealed.clone();
    damaged.id = Uuid::from_u128(99);
    let (_, response) = client
        .upload(&UploadRequest {
            contacts: Vec::new(),
            interviews: vec![],
            sealed: vec![damaged, resealed.clone()],
        })
        .await
        .unwrap();
    assert_eq!(response.receipts[0].status, ReceiptStatus::Rejected);
    assert_eq!(
        response.receipts[0].code.as_deref(),
        Some(zhisu_protocol::codes::SEALED_UNREADABLE)
    );
    assert_eq!(response.receipts[0].interview_id, Uuid::from_u128(99));
    assert_eq!(response.receipts[1].status, ReceiptStatus::AlreadyStored);

    // sealed to a key the server does not hold: 503, nothing stored, the device tries later
    let elsewhere = RoundSecretKey::generate("2027", &mut OsRng).public_key();
    let mut third = interviews[0].clone();
    third.id = Uuid::from_u128(3);
    let refused = client
        .upload(&UploadRequest {
            contacts: Vec::new(),
            interviews: vec![],
            sealed: vec![elsewhere.seal(&third, &mut OsRng).unwrap()],
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), zhisu_protocol::codes::ROUND_KEY_MISSING);
    assert!(matches!(refused, SyncError::Refused { status: 503, .. }));
    assert_eq!(server.storage.interview_count().unwrap(), 2);
}

/// Every text and blob in the device database, read with the device's key (what someone who
/// had the key, or the app itself, could read).
fn everything_readable(path: &std::path::Path, key: &zhisu_store::DatabaseKey) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "key", format!("x'{}'", key.to_hex()))
        .unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = String::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for c in 0..columns {
                match row.get_ref(c).unwrap() {
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        out += &String::from_utf8_lossy(t);
                    }
                    other => out += &format!("{other:?}"),
                }
                out.push('\t');
            }
            out.push('\n');
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_completed_interview_is_unreadable_on_the_device_yet_scored_correctly_on_the_server() {
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let server =
        zhisu_server::open_sqlite(&dir.path().join("server.sqlite3"), &questionnaires_dir())
            .unwrap();
    let mut http = zhisu_server::HttpState::new(server.clone());
    http.add_round_key(RoundSecretKey::generate("2026", &mut OsRng));
    let base = zhisu_server_tests::serve_on_loopback(http).await;
    let token = zhisu_server_tests::enrol(&server, "2026", "test", "test tablet").1;
    let client = SyncClient::new(&base).with_token(&token);

    let path = dir.path().join("device.sqlite3");
    let key = zhisu_store::DatabaseKey::from_bytes([0x44; 32]);
    let store = Arc::new(Mutex::new(DeviceStore::open(&path, &key).unwrap()));
    // one interview completed before the round key arrived (an older assignment): in the clear
    let q = pilot();
    let t0 = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
    let run = |store: &Arc<Mutex<DeviceStore>>, n: u128, age: i64, duty: bool| {
        let mut device = store.lock().unwrap();
        let id = device
            .start_interview(&q, &NewInterview::new(Uuid::from_u128(n), t0, 480))
            .unwrap();
        for (item, value) in [
            ("age", AnswerValue::Integer(age)),
            ("employer_duty", AnswerValue::Bool(duty)),
            ("noise", AnswerValue::Choice("earplugs".into())),
            (
                "confined_space",
                AnswerValue::Choices(vec!["ventilate".into(), "test_air".into()]),
            ),
        ] {
            device.save_answer(&q, id, item, &value, t0).unwrap();
        }
        device.complete_interview(&q, id, t0).unwrap()
    };
    let plain = run(&store, 1, 33, true);
    zhisu_sync::sync_assignment(&store, &client).await.unwrap();
    assert!(store.lock().unwrap().round_key().unwrap().is_some());
    let sealed = run(&store, 2, 58, false);

    // on the device, even with its key: the sealed interview's answers are gone, its
    // interview row keeps only what the screens show
    let readable = everything_readable(&path, &key);
    assert!(
        readable.contains("earplugs"),
        "the search works (the plain one)"
    );
    let line = readable
        .lines()
        .find(|l| l.contains(&sealed.id.to_string()) && l.contains("completed"))
        .expect("the sealed interview's row");
    for needle in [
        "earplugs",
        "ventilate",
        "test_air",
        // an answer keyed by its item (the kept score summary names items, never answers)
        "\"employer_duty\":",
        "\"age\"",
        "\"value\":58",
    ] {
        assert!(!line.contains(needle), "{needle} in {line}");
    }
    {
        let device = store.lock().unwrap();
        assert!(device.answers(sealed.id).unwrap().is_empty());
        assert_eq!(device.answer_event_count(sealed.id).unwrap(), 0);
        let summary = device.interview(sealed.id).unwrap();
        assert_eq!(summary.state, zhisu_store::InterviewState::Completed);
        assert_eq!(device.state_counts().unwrap().waiting, 2);
    }
    let answers_of_sealed = readable
        .lines()
        .filter(|l| l.contains(&sealed.id.to_string()))
        .count();
    assert_eq!(answers_of_sealed, 1, "only the interview row names it");

    // the sync engine sends both; the server opens, checks and scores them
    zhisu_sync::sync_once(&store, &client, &|_| {})
        .await
        .unwrap();
    let counts = store.lock().unwrap().state_counts().unwrap();
    assert_eq!(counts.waiting, 0);
    let stored = server.storage.interviews(&Scope::All).unwrap();
    assert_eq!(stored.len(), 2);
    for sent in [&plain, &sealed] {
        let on_server = stored.iter().find(|s| s.interview.id == sent.id).unwrap();
        assert_eq!(&on_server.interview, sent);
        let expected = q.score(&sent.answers);
        assert_eq!(
            (on_server.score.score, &on_server.score.dimensions),
            (expected.score, &expected.dimensions)
        );
    }
    assert_ne!(
        stored.iter().map(|s| s.score.score).collect::<Vec<_>>()[0],
        stored.iter().map(|s| s.score.score).collect::<Vec<_>>()[1],
        "two different scores, so the check means something"
    );
    // a second sync sends nothing again
    zhisu_sync::sync_once(&store, &client, &|_| {})
        .await
        .unwrap();
    assert_eq!(server.storage.interview_count().unwrap(), 2);
}
