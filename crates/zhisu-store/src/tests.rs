use chrono::TimeZone;
use zhisu_protocol::ReceiptStatus;

use super::*;

fn pilot() -> Questionnaire {
    Questionnaire::from_toml(
        "pilot.toml",
        include_str!("../../../questionnaires/pilot.toml"),
    )
    .unwrap()
}

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 8, minute, 0).unwrap()
}

fn answer_all(store: &mut DeviceStore, q: &Questionnaire, id: Uuid) {
    let answers = [
        ("age", AnswerValue::Integer(41)),
        ("employer_duty", AnswerValue::Bool(true)),
        ("noise", AnswerValue::Choice("earplugs".into())),
        (
            "confined_space",
            AnswerValue::Choices(vec!["ventilate".into(), "test_air".into()]),
        ),
    ];
    for (item, value) in answers {
        store.save_answer(q, id, item, &value, at(2)).unwrap();
    }
}

#[test]
fn answers_survive_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.sqlite3");
    let q = pilot();
    let id = Uuid::from_u128(1);
    {
        let mut store = DeviceStore::open(&path).unwrap();
        store.start_interview(&q, id, at(0), 480).unwrap();
        store
            .save_answer(&q, id, "age", &AnswerValue::Integer(30), at(1))
            .unwrap();
        store
            .save_answer(&q, id, "age", &AnswerValue::Integer(31), at(2))
            .unwrap();
        // the same answer again is not a change
        store
            .save_answer(&q, id, "age", &AnswerValue::Integer(31), at(3))
            .unwrap();
    }
    let store = DeviceStore::open(&path).unwrap();
    let answers = store.answers(id).unwrap();
    assert_eq!(answers.get("age"), Some(&AnswerValue::Integer(31)));
    assert_eq!(store.answer_event_count(id).unwrap(), 2);
    assert_eq!(
        store.interview(id).unwrap().state,
        InterviewState::InProgress
    );
    assert!(store.integrity_ok().unwrap());
}

#[test]
fn invalid_answers_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3")).unwrap();
    let q = pilot();
    let id = store
        .start_interview(&q, Uuid::from_u128(2), at(0), 480)
        .unwrap();
    let err = store
        .save_answer(&q, id, "age", &AnswerValue::Integer(70), at(1))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_answer");
    let err = store
        .save_answer(&q, id, "shoe_size", &AnswerValue::Integer(40), at(1))
        .unwrap_err();
    assert_eq!(err.code(), "unknown_item");
    let err = store
        .save_answer(
            &q,
            Uuid::from_u128(99),
            "age",
            &AnswerValue::Integer(30),
            at(1),
        )
        .unwrap_err();
    assert_eq!(err.code(), "unknown_interview");
    assert!(store.answers(id).unwrap().is_empty());
    assert_eq!(store.answer_event_count(id).unwrap(), 0);
}

#[test]
fn completion_needs_required_answers_then_queues_a_sealed_upload() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3")).unwrap();
    let q = pilot();
    let id = store
        .start_interview(&q, Uuid::from_u128(3), at(0), 480)
        .unwrap();
    store
        .save_answer(&q, id, "age", &AnswerValue::Integer(30), at(1))
        .unwrap();
    let err = store.complete_interview(&q, id, at(5)).unwrap_err();
    assert_eq!(err.code(), "interview_incomplete");
    assert_eq!(
        store.interview(id).unwrap().state,
        InterviewState::InProgress
    );

    answer_all(&mut store, &q, id);
    let upload = store.complete_interview(&q, id, at(9)).unwrap();
    assert!(upload.hash_is_valid());
    assert_eq!(upload.utc_offset_minutes, 480);
    assert_eq!(upload.answers.len(), 4);
    assert_eq!(store.waiting_uploads(10).unwrap(), vec![upload.clone()]);
    assert_eq!(
        store.state_counts().unwrap(),
        StateCounts {
            waiting: 1,
            ..Default::default()
        }
    );

    // a completed interview is closed to changes
    let err = store
        .save_answer(&q, id, "age", &AnswerValue::Integer(33), at(10))
        .unwrap_err();
    assert_eq!(err.code(), "interview_closed");
    assert_eq!(store.waiting_uploads(10).unwrap(), vec![upload]);
}

#[test]
fn receipts_move_interviews_once_and_replays_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3")).unwrap();
    let q = pilot();
    let mut ids = Vec::new();
    for n in 0..3u128 {
        let id = store
            .start_interview(&q, Uuid::from_u128(10 + n), at(0), 480)
            .unwrap();
        answer_all(&mut store, &q, id);
        store.complete_interview(&q, id, at(n as u32 + 1)).unwrap();
        ids.push(id);
    }
    let receipt = |id: Uuid, status| Receipt {
        interview_id: id,
        status,
        code: (status == ReceiptStatus::Rejected).then(|| "invalid_answers".to_string()),
        message: None,
    };
    let receipts = vec![
        receipt(ids[0], ReceiptStatus::Stored),
        receipt(ids[1], ReceiptStatus::Rejected),
        receipt(Uuid::from_u128(404), ReceiptStatus::Stored),
    ];
    store.apply_receipts(&receipts, at(20)).unwrap();
    store.apply_receipts(&receipts, at(21)).unwrap();
    assert_eq!(
        store.state_counts().unwrap(),
        StateCounts {
            in_progress: 0,
            waiting: 1,
            acknowledged: 1,
            rejected: 1
        }
    );
    let rejected = store.interview(ids[1]).unwrap();
    assert_eq!(rejected.sync_code.as_deref(), Some("invalid_answers"));
    let waiting = store.waiting_uploads(10).unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].id, ids[2]);
}
