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
        interviews: vec![],
        sealed: sealed.clone(),
    })
    .unwrap();
    assert!(!body.contains("earplugs") && !body.contains("employer_duty"));
    let (status, response) = client
        .upload(&UploadRequest {
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
            interviews: vec![],
            sealed: vec![elsewhere.seal(&third, &mut OsRng).unwrap()],
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), zhisu_protocol::codes::ROUND_KEY_MISSING);
    assert!(matches!(refused, SyncError::Refused { status: 503, .. }));
    assert_eq!(server.storage.interview_count().unwrap(), 2);
}
