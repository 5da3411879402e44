use chrono::TimeZone;
use zhisu_protocol::{Receipt, ReceiptStatus};

use super::*;

fn start(store: &mut DeviceStore, q: &Questionnaire, n: u128, minute: u32) -> Uuid {
    store
        .start_interview(q, &NewInterview::new(Uuid::from_u128(n), at(minute), 480))
        .unwrap()
}

fn pilot() -> Questionnaire {
    Questionnaire::from_toml(
        "pilot.toml",
        include_str!("../../../questionnaires/pilot.toml"),
    )
    .unwrap()
}

fn intercept() -> Questionnaire {
    Questionnaire::from_toml(
        "ohl_intercept.toml",
        include_str!("../../../questionnaires/ohl_intercept.toml"),
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
        let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
        start(&mut store, &q, 1, 0);
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
    let store = DeviceStore::open(&path, &crate::test_key()).unwrap();
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
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let q = pilot();
    let id = start(&mut store, &q, 2, 0);
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
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let q = pilot();
    let id = start(&mut store, &q, 3, 0);
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

fn receipt(id: Uuid, status: ReceiptStatus) -> Receipt {
    Receipt {
        interview_id: id,
        status,
        code: (status == ReceiptStatus::Rejected).then(|| "invalid_answers".to_string()),
        message: None,
    }
}

fn completed(store: &mut DeviceStore, q: &Questionnaire, n: u128) -> Uuid {
    let id = start(store, q, n, 0);
    answer_all(store, q, id);
    store
        .complete_interview(q, id, at(n as u32 % 50 + 1))
        .unwrap();
    id
}

#[test]
fn receipts_move_interviews_once_and_replays_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let q = pilot();
    let ids: Vec<Uuid> = (0..3).map(|n| completed(&mut store, &q, 10 + n)).collect();
    let attempt = store
        .begin_upload(10, "http://server", at(20))
        .unwrap()
        .unwrap();
    assert_eq!(attempt.ids(), ids);
    let queued = store.interview(ids[0]).unwrap().state;
    assert_eq!(queued, InterviewState::Queued);
    let receipts = vec![
        receipt(ids[0], ReceiptStatus::Stored),
        receipt(ids[1], ReceiptStatus::Rejected),
        receipt(Uuid::from_u128(404), ReceiptStatus::Stored),
    ];
    store
        .finish_upload(&attempt, 200, &receipts, at(21))
        .unwrap();
    store
        .finish_upload(&attempt, 200, &receipts, at(22))
        .unwrap();
    assert_eq!(
        store.state_counts().unwrap(),
        StateCounts {
            waiting: 1,
            acknowledged: 1,
            rejected: 1,
            ..Default::default()
        }
    );
    let rejected = store.interview(ids[1]).unwrap();
    assert_eq!(rejected.sync_code.as_deref(), Some("invalid_answers"));
    // no receipt for the third: it may have arrived, so it is "sent" and will go again
    assert_eq!(store.interview(ids[2]).unwrap().state, InterviewState::Sent);
    let waiting = store.waiting_uploads(10).unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].id, ids[2]);

    let log = store.sync_log(10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, "answered");
    assert_eq!(log[0].interviews, ids);
    assert_eq!(
        (log[0].stored, log[0].rejected, log[0].already_stored),
        (1, 1, 0)
    );
}

#[test]
fn failed_attempts_keep_interviews_waiting_and_are_logged() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let q = pilot();
    let id = completed(&mut store, &q, 30);

    let attempt = store
        .begin_upload(10, "http://down", at(20))
        .unwrap()
        .unwrap();
    let refused = AttemptOutcome {
        http_status: None,
        error_code: "server_unreachable".into(),
        error_message: "connection refused".into(),
        may_have_arrived: false,
    };
    store.fail_upload(&attempt, &refused, at(21)).unwrap();
    assert_eq!(
        store.interview(id).unwrap().state,
        InterviewState::Completed
    );

    let attempt = store
        .begin_upload(10, "http://flaky", at(22))
        .unwrap()
        .unwrap();
    let reset = AttemptOutcome {
        http_status: None,
        error_code: "server_unreachable".into(),
        error_message: "connection reset".into(),
        may_have_arrived: true,
    };
    store.fail_upload(&attempt, &reset, at(23)).unwrap();
    assert_eq!(store.interview(id).unwrap().state, InterviewState::Sent);

    // killed mid-sync: the next attempt closes the dangling log row and sends again
    let cut = store
        .begin_upload(10, "http://flaky", at(24))
        .unwrap()
        .unwrap();
    drop(store);
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    assert_eq!(store.interview(id).unwrap().state, InterviewState::Queued);
    let again = store
        .begin_upload(10, "http://flaky", at(25))
        .unwrap()
        .unwrap();
    assert_eq!(again.interviews, cut.interviews);
    let log = store.sync_log(10).unwrap();
    let outcomes: Vec<(&str, Option<&str>)> = log
        .iter()
        .map(|e| (e.outcome.as_str(), e.error_code.as_deref()))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("sending", None),
            ("failed", Some("interrupted")),
            ("failed", Some("server_unreachable")),
            ("failed", Some("server_unreachable")),
        ]
    );
    assert_eq!(store.state_counts().unwrap().waiting, 1);
}

#[test]
fn discarding_needs_a_reason_and_only_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let q = pilot();
    let id = start(&mut store, &q, 40, 0);
    assert_eq!(
        store.discard_interview(id, "  ", at(1)).unwrap_err().code(),
        "discard_reason_missing"
    );
    store
        .discard_interview(id, "受访者中途离开", at(1))
        .unwrap();
    let summary = store.interview(id).unwrap();
    assert_eq!(summary.state, InterviewState::Discarded);
    assert_eq!(summary.discard_reason.as_deref(), Some("受访者中途离开"));
    assert_eq!(store.state_counts().unwrap().discarded, 1);

    let sent = completed(&mut store, &q, 41);
    store.begin_upload(10, "http://server", at(30)).unwrap();
    assert_eq!(
        store
            .discard_interview(sent, "mistake", at(31))
            .unwrap_err()
            .code(),
        "cannot_discard"
    );
}

#[test]
fn answer_events_carry_monotonic_time_that_resumes_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.sqlite3");
    let q = pilot();
    let id = {
        let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
        let mut new = NewInterview::new(Uuid::from_u128(50), at(0), 480);
        new.site_id = Some("site-7".into());
        new.surveyor_id = Some("s-12".into());
        let id = store.start_interview(&q, &new).unwrap();
        store
            .save_answer(&q, id, "age", &AnswerValue::Integer(30), at(1))
            .unwrap();
        std::thread::sleep(Duration::from_millis(30));
        store
            .save_answer(&q, id, "employer_duty", &AnswerValue::Bool(true), at(0))
            .unwrap();
        id
    };
    let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    store
        .save_answer(
            &q,
            id,
            "noise",
            &AnswerValue::Choice("earplugs".into()),
            at(0),
        )
        .unwrap();
    let times: Vec<i64> = store
        .answer_event_times(id)
        .unwrap()
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(times.len(), 3);
    assert!(times[1] - times[0] >= 30, "{times:?}");
    assert!(
        times[2] >= times[1],
        "resumed, not restarted from zero: {times:?}"
    );
    // the wall clock went backwards (at(0) after at(1)); the monotonic times did not
    let summary = store.interview(id).unwrap();
    assert_eq!(summary.site_id.as_deref(), Some("site-7"));
    answer_all(&mut store, &q, id);
    let upload = store.complete_interview(&q, id, at(9)).unwrap();
    assert_eq!(upload.surveyor_id.as_deref(), Some("s-12"));
}

#[test]
fn a_backup_holds_every_completed_interview_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let q = pilot();
    let done: Vec<Uuid> = (0..3).map(|n| completed(&mut store, &q, 60 + n)).collect();
    start(&mut store, &q, 70, 0); // in progress: not in the backup's interviews
                                  // a contact closed otherwise (issue 15) is sealed too, but is no interview
    let other = start(&mut store, &q, 71, 0);
    store
        .close_contact(
            &q,
            other,
            Some(zhisu_core::Disposition::Other),
            "没遇到人",
            at(30),
        )
        .unwrap();
    // and is counted as it is: it cannot be discarded before it is sent
    assert_eq!(
        store
            .discard_interview(other, "算了", at(31))
            .unwrap_err()
            .code(),
        "cannot_discard"
    );
    let attempt = store
        .begin_upload(1, "http://server", at(40))
        .unwrap()
        .unwrap();
    store
        .finish_upload(
            &attempt,
            200,
            &[receipt(done[0], ReceiptStatus::Stored)],
            at(41),
        )
        .unwrap();

    let backup = dir.path().join("zhisu-backup.sqlite3");
    store.export_backup(&backup).unwrap();
    let interviews = read_backup(&backup, Some(&crate::test_key())).unwrap();
    let ids: Vec<Uuid> = interviews.iter().map(|i| i.id).collect();
    assert_eq!(ids, done);
    assert!(interviews.iter().all(|i| i.hash_is_valid()));
    // exporting again to the same file is refused rather than overwriting
    assert_eq!(
        store.export_backup(&backup).unwrap_err().code(),
        "backup_failed"
    );

    let junk = dir.path().join("junk.sqlite3");
    std::fs::write(&junk, b"not a database").unwrap();
    assert_eq!(
        read_backup(&junk, Some(&crate::test_key()))
            .unwrap_err()
            .code(),
        "not_a_backup"
    );
}

#[test]
fn the_upload_queue_is_read_in_index_order_without_sorting() {
    let dir = tempfile::tempdir().unwrap();
    let store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let plan: Vec<String> = {
        let mut stmt = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", upload::WAITING_SQL))
            .unwrap();
        stmt.query_map([100], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let plan = plan.join(" | ");
    assert!(plan.contains("interview_waiting"), "{plan}");
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");
}

#[test]
fn identity_is_kept_replaced_on_re_enrolment_and_marked_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.sqlite3");
    let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
    assert!(store.identity().unwrap().is_none());
    let enrolment = zhisu_protocol::Enrolment {
        device_id: Uuid::from_u128(5),
        token: "secret-token".into(),
        round: "2026".into(),
        district: "yuzhong".into(),
    };
    let identity = store
        .save_identity("http://server:8470/", "渝中 1 号", &enrolment, at(0))
        .unwrap();
    assert_eq!(identity.server_url, "http://server:8470");
    assert!(
        !format!("{identity:?}").contains("secret-token"),
        "the token is redacted in Debug"
    );
    let site = zhisu_protocol::Site {
        id: "yz-1".into(),
        district: "yuzhong".into(),
        name: "工地".into(),
        site_type: "enterprise".into(),
        industry: None,
        ownership: None,
        size: None,
        quotas: Default::default(),
        ..Default::default()
    };
    store.save_sites(std::slice::from_ref(&site)).unwrap();
    store.mark_revoked(at(5)).unwrap();
    drop(store);
    let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
    let kept = store.identity().unwrap().unwrap();
    assert_eq!(kept.revoked_at, Some(at(5)));
    assert_eq!(store.sites().unwrap(), vec![site]);
    let again = zhisu_protocol::Enrolment {
        device_id: Uuid::from_u128(6),
        ..enrolment
    };
    let fresh = store
        .save_identity("http://other", "渝中 1 号", &again, at(9))
        .unwrap();
    assert_eq!(fresh.device_id, Uuid::from_u128(6));
    assert!(fresh.revoked_at.is_none());
    assert!(
        store.sites().unwrap().is_empty(),
        "sites belong to the old enrolment"
    );
}

#[test]
fn round_settings_are_kept_and_forgotten_on_a_new_enrolment() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let defaults = zhisu_protocol::RoundSettings::default();
    assert!(defaults.show_answer_key);
    assert_eq!(store.round_settings().unwrap(), defaults);
    let settings = zhisu_protocol::RoundSettings {
        show_answer_key: false,
        quality: zhisu_core::QcThresholds {
            min_seconds_per_item: 30.0,
            straight_lining_run: 5,
            max_changes: 2,
        },
        ..Default::default()
    };
    store.save_round_settings(&settings).unwrap();
    store.save_round_settings(&settings).unwrap();
    assert_eq!(store.round_settings().unwrap(), settings);
    let enrolment = zhisu_protocol::Enrolment {
        device_id: Uuid::from_u128(7),
        token: "t".into(),
        round: "2027".into(),
        district: "yuzhong".into(),
    };
    store
        .save_identity("http://cdc.example", "平板", &enrolment, at(0))
        .unwrap();
    assert_eq!(
        store.round_settings().unwrap(),
        defaults,
        "a new round starts from the defaults"
    );
}

#[test]
fn completion_seals_paradata_with_screen_visits_changes_and_the_rounds_flags() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let q = pilot();
    store
        .save_round_settings(&zhisu_protocol::RoundSettings {
            show_answer_key: true,
            quality: zhisu_core::QcThresholds {
                min_seconds_per_item: 30.0,
                straight_lining_run: 0,
                max_changes: 0,
            },
            ..Default::default()
        })
        .unwrap();
    let id = start(&mut store, &q, 11, 0);
    store.screen_shown(id, Some("age")).unwrap();
    store
        .save_answer(&q, id, "age", &AnswerValue::Integer(30), at(1))
        .unwrap();
    store.screen_shown(id, Some("employer_duty")).unwrap();
    store.screen_shown(id, Some("age")).unwrap(); // back
    store
        .save_answer(&q, id, "age", &AnswerValue::Integer(31), at(1))
        .unwrap();
    store.screen_shown(id, Some("employer_duty")).unwrap();
    answer_all(&mut store, &q, id); // age 41: a second change
    store.screen_shown(id, None).unwrap(); // the review screen

    let thresholds = store.round_settings().unwrap().quality;
    let preview = store.paradata(&q, id, &thresholds).unwrap();
    let codes: Vec<&str> = preview.flags.iter().map(|f| f.code()).collect();
    assert_eq!(codes, ["too_fast", "many_changes"], "{:?}", preview.flags);

    let upload = store.complete_interview(&q, id, at(9)).unwrap();
    let paradata = upload.paradata.as_ref().expect("paradata is sent");
    let age = paradata.item("age").unwrap();
    assert_eq!((age.visits, age.changes), (2, 2));
    assert_eq!(paradata.item("employer_duty").unwrap().visits, 2);
    assert_eq!(paradata.items[0].item_id, "age", "in the order first shown");
    // the same flags (the too-fast figure moves on with the clock between the two)
    let sealed: Vec<&str> = paradata.flags.iter().map(|f| f.code()).collect();
    assert_eq!(sealed, codes);
    assert!(upload.hash_is_valid());
    // what is queued is what was sealed, paradata included
    assert_eq!(store.waiting_uploads(10).unwrap(), vec![upload]);
    let err = store.screen_shown(id, Some("age")).unwrap_err();
    assert_eq!(err.code(), "interview_closed");
}

#[test]
fn paradata_floats_survive_the_servers_json_parser_so_the_hash_holds() {
    // 1.7546217903306627 does not come back to the same bits through serde_json's default
    // (fast) float parser: sent as is, the server would re-hash a different number.
    let lossy = 1.754_621_790_330_662_7_f64;
    let mut paradata = zhisu_core::Paradata {
        duration_ms: 7019,
        flags: vec![zhisu_core::QcFlag::TooFast {
            seconds_per_item: lossy,
            minimum: 3.0,
            items: 4,
        }],
        location_start: Some(zhisu_core::Location {
            latitude: 29.557_063_271_824_197,
            longitude: 106.577_037_139_876_54,
            accuracy_m: 12.345_678_901_234_567,
            at_ms: 5,
        }),
        ..Default::default()
    };
    crate::paradata::round_floats(&mut paradata);
    let q = pilot();
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let id = completed(&mut store, &q, 12);
    let mut upload = store.waiting_uploads(1).unwrap().remove(0);
    assert_eq!(upload.id, id);
    upload.paradata = Some(paradata);
    let upload = upload.sealed();
    let received: CompletedInterview =
        serde_json::from_str(&serde_json::to_string(&upload).unwrap()).unwrap();
    assert!(
        received.hash_is_valid(),
        "the server computes the same hash"
    );
}

#[test]
fn interviews_done_are_counted_per_site_and_population() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let q = intercept();
    let pilot = pilot();
    let begin = |store: &mut DeviceStore, q: &Questionnaire, n: u128, site: &str| {
        let mut new = NewInterview::new(Uuid::from_u128(n), at(0), 480);
        new.site_id = Some(site.to_string());
        store.start_interview(q, &new).unwrap()
    };
    // two construction workers at yz-001 (one completed, one still in progress), one pilot
    // interview (no population item) there, and a discarded one
    for (n, done) in [(1, true), (2, false)] {
        let id = begin(&mut store, &q, n, "yz-001");
        store
            .save_answer(
                &q,
                id,
                "population",
                &AnswerValue::Choice("construction".into()),
                at(1),
            )
            .unwrap();
        if done {
            // complete_interview needs every required answer: mark it completed directly
            store
                .conn
                .execute(
                    "UPDATE interview SET state = 'acknowledged' WHERE id = ?1",
                    [id.to_string()],
                )
                .unwrap();
        }
    }
    let id = begin(&mut store, &pilot, 3, "yz-001");
    answer_all(&mut store, &pilot, id);
    store.complete_interview(&pilot, id, at(5)).unwrap();
    let id = begin(&mut store, &pilot, 4, "yz-002");
    store.discard_interview(id, "受访者离开", at(2)).unwrap();

    // each questionnaire version's own population item, by its background role
    let population_item = |id: &str, _version: &str| {
        [&q, &pilot]
            .into_iter()
            .find(|x| x.id == id)?
            .background_item(zhisu_core::BackgroundRole::Population)
            .map(|item| item.id.clone())
    };
    assert_eq!(
        store.done_at_sites(&population_item).unwrap(),
        vec![
            SiteCount {
                site_id: "yz-001".into(),
                population: None,
                done: 1
            },
            SiteCount {
                site_id: "yz-001".into(),
                population: Some("construction".into()),
                done: 1
            },
        ]
    );
}

#[test]
fn locations_at_start_and_end_are_sent_with_the_paradata() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let q = pilot();
    let id = start(&mut store, &q, 21, 0);
    store
        .record_location(
            id,
            LocationMoment::Start,
            29.556_301_234_567_89,
            106.577_01,
            12.5,
        )
        .unwrap();
    // a second start fix does not move the start
    store
        .record_location(id, LocationMoment::Start, 30.0, 107.0, 5.0)
        .unwrap();
    answer_all(&mut store, &q, id);
    store
        .record_location(id, LocationMoment::End, 29.5564, 106.5771, 30.0)
        .unwrap();
    store
        .record_location(id, LocationMoment::End, 29.5565, 106.5772, 8.0)
        .unwrap();
    let err = store
        .record_location(id, LocationMoment::End, 95.0, 106.0, 8.0)
        .unwrap_err();
    assert_eq!(err.code(), "bad_location");
    let upload = store.complete_interview(&q, id, at(9)).unwrap();
    let paradata = upload.paradata.unwrap();
    let start = paradata.location_start.unwrap();
    assert_eq!(
        (start.latitude, start.longitude, start.accuracy_m),
        (29.556301, 106.57701, 12.5)
    );
    let end = paradata.location_end.unwrap();
    assert_eq!(
        (end.latitude, end.longitude, end.accuracy_m),
        (29.5565, 106.5772, 8.0)
    );
    assert!(end.at_ms >= start.at_ms);

    // an interview without a fix sends none
    let other = completed(&mut store, &q, 22);
    let upload = store
        .waiting_uploads(10)
        .unwrap()
        .into_iter()
        .find(|u| u.id == other)
        .unwrap();
    let paradata = upload.paradata.unwrap();
    assert!(paradata.location_start.is_none() && paradata.location_end.is_none());
}

fn site(id: &str, quotas: &[(&str, u32)]) -> zhisu_protocol::Site {
    serde_json::from_value(serde_json::json!({
        "id": id,
        "district": "yuzhong",
        "name": format!("调查点 {id}"),
        "site_type": "enterprise",
        "quotas": quotas.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
    }))
    .unwrap()
}

#[test]
fn an_interview_on_the_tablet_needs_a_surveyor_once_there_are_any_and_takes_the_chosen_site() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let q = pilot();
    let start =
        |n: u128, signed_in: Option<&'static str>, language: Option<&'static str>| TabletStart {
            id: Uuid::from_u128(n),
            started_at: at(0),
            utc_offset_minutes: 480,
            signed_in,
            language,
            practice: false,
        };
    // no surveyors, no site: nobody and nowhere; a language the questionnaire lacks: its own
    let new = store
        .start_interview_on_tablet(&q, &start(1, None, Some("bo")))
        .unwrap();
    assert_eq!(
        (new.surveyor_id, new.site_id, new.language.as_deref()),
        (None, None, Some("zh-CN"))
    );

    store.save_sites(&[site("yz-001", &[])]).unwrap();
    assert_eq!(
        store.choose_site("yz-404").unwrap_err().code(),
        "unknown_site"
    );
    store.choose_site("yz-001").unwrap();
    assert_eq!(store.current_site().unwrap().as_deref(), Some("yz-001"));
    store.add_surveyor("S01", "张三", "1234", at(0)).unwrap();
    assert_eq!(
        store
            .start_interview_on_tablet(&q, &start(2, None, None))
            .unwrap_err()
            .code(),
        "surveyor_needed"
    );
    assert_eq!(
        store
            .start_interview_on_tablet(&q, &start(2, Some("S09"), None))
            .unwrap_err()
            .code(),
        "unknown_surveyor"
    );
    let new = store
        .start_interview_on_tablet(&q, &start(2, Some("S01"), Some("en")))
        .unwrap();
    let stored = store.interview(new.id).unwrap();
    assert_eq!(
        (
            stored.surveyor_id.as_deref(),
            stored.site_id.as_deref(),
            stored.language.as_deref()
        ),
        (Some("S01"), Some("yz-001"), Some("en"))
    );
    assert_eq!(
        store.interviews().unwrap().len(),
        2,
        "nothing stored when refused"
    );

    // a site no longer assigned is no longer the current one
    store.save_sites(&[site("yz-002", &[])]).unwrap();
    assert_eq!(store.current_site().unwrap(), None);
}

/// Issue #15 (travel peaks at stations): the slot running now at each site, and the
/// interviews this device did in it, each by its own local start (started_at and its offset);
/// unfinished and practice interviews, and those outside the slot, do not count.
#[test]
fn the_current_time_slot_counts_done_interviews_by_their_local_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let q = intercept();
    let mut station = site("cyb", &[("construction", 30)]);
    station.site_type = "station".into();
    station.time_slots = vec![
        zhisu_protocol::TimeSlot {
            label: "春运早高峰".into(),
            first_day: "2027-01-25".parse().unwrap(),
            last_day: "2027-02-05".parse().unwrap(),
            from: "06:00".into(),
            to: "10:00".into(),
            target: 40,
        },
        zhisu_protocol::TimeSlot {
            label: "晚高峰".into(),
            first_day: "2027-01-25".parse().unwrap(),
            last_day: "2027-02-05".parse().unwrap(),
            from: "17:00".into(),
            to: "21:00".into(),
            target: 30,
        },
    ];
    store
        .save_sites(&[station, site("yz-002", &[("teacher", 5)])])
        .unwrap();
    let utc = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    // (id, start, offset, state, practice): local starts 06:30 on the 30th, 07:59 on the 26th,
    // 05:30 (offset 420: before the slot), 10:00 (the end, excluded), 08:00 unfinished, 08:00
    // practice, 18:00 (the other slot)
    for (n, start, offset, state, practice) in [
        (1, "2027-01-29T22:30:00Z", 480, "completed", false),
        (2, "2027-01-25T23:59:00Z", 480, "acknowledged", false),
        (3, "2027-01-29T22:30:00Z", 420, "completed", false),
        (4, "2027-01-30T02:00:00Z", 480, "completed", false),
        (5, "2027-01-30T00:00:00Z", 480, "in_progress", false),
        (6, "2027-01-30T00:00:00Z", 480, "completed", true),
        (7, "2027-01-30T10:00:00Z", 480, "completed", false),
    ] {
        let mut new = NewInterview::new(Uuid::from_u128(n), utc(start), offset);
        new.site_id = Some("cyb".into());
        new.practice = practice;
        let id = store.start_interview(&q, &new).unwrap();
        store
            .conn
            .execute(
                "UPDATE interview SET state = ?2 WHERE id = ?1",
                [id.to_string(), state.to_string()],
            )
            .unwrap();
    }
    // 08:15 on 1 February, Beijing time: the morning slot, with interviews 1 and 2 in it
    let now = store
        .current_slots(utc("2027-02-01T00:15:00Z"), 480)
        .unwrap();
    assert_eq!(
        now.keys().collect::<Vec<_>>(),
        ["cyb"],
        "only the station has slots"
    );
    assert_eq!(
        (now["cyb"].slot.label.as_str(), now["cyb"].done),
        ("春运早高峰", 2)
    );
    // 18:00: the evening slot, interview 7
    let evening = store
        .current_slots(utc("2027-01-31T10:00:00Z"), 480)
        .unwrap();
    assert_eq!(
        (evening["cyb"].slot.label.as_str(), evening["cyb"].done),
        ("晚高峰", 1)
    );
    // between slots, and after the last day: none
    assert!(store
        .current_slots(utc("2027-02-01T04:00:00Z"), 480)
        .unwrap()
        .is_empty());
    assert!(store
        .current_slots(utc("2027-02-06T00:15:00Z"), 480)
        .unwrap()
        .is_empty());
}

#[test]
fn quota_progress_counts_done_interviews_per_population_of_each_site() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let q = intercept();
    store
        .save_sites(&[
            site("yz-001", &[("construction", 30), ("migrant", 10)]),
            site("yz-002", &[("teacher", 5)]),
        ])
        .unwrap();
    for (n, population) in [(1, "construction"), (2, "construction"), (3, "teacher")] {
        let mut new = NewInterview::new(Uuid::from_u128(n), at(0), 480);
        new.site_id = Some("yz-001".into());
        let id = store.start_interview(&q, &new).unwrap();
        let value = AnswerValue::Choice(population.into());
        store
            .save_answer(&q, id, "population", &value, at(1))
            .unwrap();
        store
            .conn
            .execute(
                "UPDATE interview SET state = 'completed' WHERE id = ?1",
                [id.to_string()],
            )
            .unwrap();
    }
    let population = |_: &str, _: &str| Some("population".to_string());
    let progress = store.site_progress(&population).unwrap();
    type Quotas<'a> = Vec<(&'a str, u32, u32)>;
    let summary: Vec<(&str, u32, Quotas)> = progress
        .iter()
        .map(|p| {
            let quotas = p
                .quotas
                .iter()
                .map(|q| (q.population.as_str(), q.done, q.quota))
                .collect();
            (p.site.id.as_str(), p.done, quotas)
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "yz-001",
                3,
                vec![("construction", 2, 30), ("migrant", 0, 10)]
            ),
            ("yz-002", 0, vec![("teacher", 0, 5)]),
        ]
    );
}

#[test]
fn the_screen_language_is_kept_and_chinese_before_any_choice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.sqlite3");
    let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
    assert_eq!(store.screen_language().unwrap(), UiLanguage::Zh);
    store.set_screen_language(UiLanguage::En).unwrap();
    drop(store);
    let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
    assert_eq!(store.screen_language().unwrap(), UiLanguage::En);
    store.set_preference("language", "fr").unwrap();
    assert_eq!(store.screen_language().unwrap(), UiLanguage::Zh);
}

#[test]
fn the_screen_theme_is_kept_and_standard_before_any_choice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.sqlite3");
    let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
    assert_eq!(store.screen_theme().unwrap(), Theme::Standard);
    store.set_screen_theme(Theme::HighContrast).unwrap();
    drop(store);
    let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
    assert_eq!(store.screen_theme().unwrap(), Theme::HighContrast);
    store.set_preference("theme", "neon").unwrap();
    assert_eq!(store.screen_theme().unwrap(), Theme::Standard);
}

#[test]
fn the_text_size_is_kept_and_normal_before_any_choice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.sqlite3");
    let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
    assert_eq!(store.screen_text_size().unwrap(), TextSize::Normal);
    store.set_screen_text_size(TextSize::Largest).unwrap();
    drop(store);
    let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
    assert_eq!(store.screen_text_size().unwrap(), TextSize::Largest);
    // a value this app never wrote reads as the normal size
    store.set_preference("text_size", "huge").unwrap();
    assert_eq!(store.screen_text_size().unwrap(), TextSize::Normal);
}

#[test]
fn server_addresses_and_tablet_names_are_checked_before_enrolling() {
    assert_eq!(
        check_server_url("  https://cdc.example/ ").unwrap(),
        "https://cdc.example"
    );
    assert_eq!(
        check_server_url("http://10.0.0.2:8470").unwrap(),
        "http://10.0.0.2:8470"
    );
    for bad in ["cdc.example", "ftp://cdc.example", ""] {
        assert_eq!(check_server_url(bad).unwrap_err().code(), "bad_server_url");
    }
    assert_eq!(check_device_name(" 渝中 1 号 ").unwrap(), "渝中 1 号");
    assert_eq!(
        check_device_name("  ").unwrap_err().code(),
        "device_name_missing"
    );
}

#[test]
fn wrong_pins_lock_sign_in_for_everyone_and_a_right_one_clears_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    store.add_surveyor("S01", "张三", "1234", at(0)).unwrap();
    store.add_surveyor("S02", "李四", "5678", at(0)).unwrap();
    // four wrong, then right: the count starts again
    for _ in 0..PIN_TRIES - 1 {
        let e = store.sign_in_surveyor("S01", "0000", at(1)).unwrap_err();
        assert_eq!(e.code(), "wrong_pin");
    }
    assert_eq!(
        store.sign_in_surveyor("S01", "1234", at(1)).unwrap().name,
        "张三"
    );
    // five wrong in a row, some for an unknown surveyor: locked for everyone, right PIN or not
    for id in ["S01", "S09", "S02", "S01"] {
        assert!(store.sign_in_surveyor(id, "0000", at(2)).is_err());
    }
    assert_eq!(
        store
            .sign_in_surveyor("S02", "0000", at(2))
            .unwrap_err()
            .code(),
        "wrong_pin"
    );
    let locked = store.sign_in_surveyor("S02", "5678", at(2)).unwrap_err();
    assert_eq!(locked.code(), "too_many_attempts");
    // after the pause, the right PIN signs in
    let later = at(2) + chrono::Duration::seconds(PIN_LOCKOUT_SECONDS);
    assert_eq!(
        store.sign_in_surveyor("S02", "5678", later).unwrap().name,
        "李四"
    );
}

#[test]
fn a_burst_of_parallel_pin_guesses_gets_no_more_tries_than_guesses_in_turn_even_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.sqlite3");
    DeviceStore::open(&path, &crate::test_key())
        .unwrap()
        .add_surveyor("S01", "张三", "1234", at(0))
        .unwrap();
    // 24 threads, each with its own connection to the file, guess at once
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(24));
    let outcomes: Vec<&'static str> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..24)
            .map(|n| {
                let (path, barrier) = (path.clone(), barrier.clone());
                scope.spawn(move || {
                    let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
                    barrier.wait();
                    let guess = format!("{:04}", 5000 + n);
                    store
                        .sign_in_surveyor("S01", &guess, at(1))
                        .unwrap_err()
                        .code()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let wrong = outcomes.iter().filter(|c| **c == "wrong_pin").count();
    let refused = outcomes
        .iter()
        .filter(|c| **c == "too_many_attempts")
        .count();
    assert_eq!(
        (wrong, refused),
        (PIN_TRIES as usize, 24 - PIN_TRIES as usize),
        "{outcomes:?}"
    );
    // the app restarts: still locked, even for the right PIN
    let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
    assert_eq!(
        store
            .sign_in_surveyor("S01", "1234", at(1))
            .unwrap_err()
            .code(),
        "too_many_attempts"
    );
    let later = at(1) + chrono::Duration::seconds(PIN_LOCKOUT_SECONDS);
    assert_eq!(
        store.sign_in_surveyor("S01", "1234", later).unwrap().id,
        "S01"
    );
}

fn start_at(
    store: &mut DeviceStore,
    q: &Questionnaire,
    n: u128,
    site: &str,
    started_at: DateTime<Utc>,
) -> Uuid {
    let mut new = NewInterview::new(Uuid::from_u128(n), started_at, 480);
    new.site_id = Some(site.to_string());
    store.start_interview(q, &new).unwrap()
}

fn aged(store: &mut DeviceStore, q: &Questionnaire, id: Uuid, age: i64) {
    store
        .save_answer(q, id, "age", &AnswerValue::Integer(age), at(3))
        .unwrap();
}

fn matched(check: &RepeatCheck) -> Vec<Uuid> {
    match check {
        RepeatCheck::Match { matches } => matches.iter().map(|m| m.interview_id).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn a_repeat_respondent_is_found_at_the_same_site_on_the_same_local_day_even_once_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let q = pilot(); // its one fingerprint item: age
    let round = zhisu_protocol::sealed::RoundSecretKey::generate(
        "2026",
        &mut zhisu_protocol::sealed::OsRng,
    );
    store.save_round_key(Some(&round.public_key())).unwrap();

    // the first interview, completed at 08:09 UTC (16:09 in Chongqing) and sealed
    let first = start_at(&mut store, &q, 1, "yz-001", at(0));
    answer_all(&mut store, &q, first);
    let upload = store.complete_interview(&q, first, at(9)).unwrap();
    assert!(
        store.answers(first).unwrap().is_empty(),
        "sealed: answers gone"
    );
    let (kept, day) = store.kept_fingerprint(first).unwrap();
    assert_eq!(
        kept.as_deref(),
        Some(
            q.respondent_fingerprint(&upload.answers, Some("yz-001"))
                .as_str()
        ),
        "the server's fact for the same interview"
    );
    assert_eq!(day.as_deref(), Some("2026-11-29"));

    // the same answers at the same site that day: not known before the age, then a match
    let second = start_at(&mut store, &q, 2, "yz-001", at(20));
    assert_eq!(
        store.repeat_respondent(&q, second).unwrap(),
        RepeatCheck::NotYetKnown
    );
    aged(&mut store, &q, second, 41);
    let check = store.repeat_respondent(&q, second).unwrap();
    let first_match = check.first_match().unwrap();
    assert_eq!(first_match.interview_id, first);
    assert_eq!(first_match.state, InterviewState::Completed);
    assert_eq!(first_match.local_time, "16:09");
    // another age: no match
    aged(&mut store, &q, second, 42);
    assert_eq!(
        store.repeat_respondent(&q, second).unwrap(),
        RepeatCheck::NoMatch
    );
    aged(&mut store, &q, second, 41);

    // another site the same day
    let elsewhere = start_at(&mut store, &q, 3, "yz-002", at(30));
    aged(&mut store, &q, elsewhere, 41);
    assert_eq!(
        store.repeat_respondent(&q, elsewhere).unwrap(),
        RepeatCheck::NoMatch
    );

    // the same site the next local day: 16:30 UTC is 00:30 on the 30th in Chongqing
    let late = Utc.with_ymd_and_hms(2026, 11, 29, 16, 30, 0).unwrap();
    let tomorrow = start_at(&mut store, &q, 4, "yz-001", late);
    aged(&mut store, &q, tomorrow, 41);
    assert_eq!(
        store.repeat_respondent(&q, tomorrow).unwrap(),
        RepeatCheck::NoMatch
    );
    // …where a morning interview of the 30th (02:00 UTC, 10:00 local) finds it
    let morning = Utc.with_ymd_and_hms(2026, 11, 30, 2, 0, 0).unwrap();
    let next_day = start_at(&mut store, &q, 5, "yz-001", morning);
    aged(&mut store, &q, next_day, 41);
    assert_eq!(
        matched(&store.repeat_respondent(&q, next_day).unwrap()),
        vec![tomorrow]
    );

    // an interview in progress counts (its fingerprint kept as the age was saved, not only
    // when it was checked), a discarded one does not
    let third = start_at(&mut store, &q, 6, "yz-001", at(40));
    aged(&mut store, &q, third, 41);
    assert_eq!(
        matched(&store.repeat_respondent(&q, third).unwrap()),
        vec![first, second]
    );
    store.discard_interview(second, "录错了", at(41)).unwrap();
    assert_eq!(
        matched(&store.repeat_respondent(&q, third).unwrap()),
        vec![first]
    );
    store.discard_interview(first, "重复访问", at(42)).unwrap();
    assert_eq!(
        store.repeat_respondent(&q, third).unwrap(),
        RepeatCheck::NoMatch
    );

    // asked only of an interview in progress
    assert_eq!(
        store.repeat_respondent(&q, first).unwrap_err().code(),
        "interview_closed"
    );
}

#[test]
fn an_interview_that_sent_its_answers_still_counts_and_so_does_a_closed_contact() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let q = pilot();
    let first = start_at(&mut store, &q, 1, "yz-001", at(0));
    answer_all(&mut store, &q, first);
    store.complete_interview(&q, first, at(9)).unwrap();
    let attempt = store
        .begin_upload(10, "http://cdc", at(10))
        .unwrap()
        .unwrap();
    store
        .finish_upload(
            &attempt,
            200,
            &[receipt(first, ReceiptStatus::Stored)],
            at(11),
        )
        .unwrap();
    assert_eq!(
        store.interview(first).unwrap().state,
        InterviewState::Acknowledged
    );
    // a break-off after the age, closed as partial
    let partial = start_at(&mut store, &q, 2, "yz-001", at(12));
    aged(&mut store, &q, partial, 41);
    store
        .close_contact(&q, partial, Some(Disposition::Partial), "车来了", at(13))
        .unwrap();
    let third = start_at(&mut store, &q, 3, "yz-001", at(20));
    aged(&mut store, &q, third, 41);
    let check = store.repeat_respondent(&q, third).unwrap();
    assert_eq!(matched(&check), vec![first, partial]);
    assert_eq!(
        check.first_match().unwrap().state,
        InterviewState::Acknowledged
    );
}

#[test]
fn the_repeat_check_waits_for_every_fingerprint_item_that_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let q = intercept();
    let fingerprint: Vec<String> = q.fingerprint_items().map(|i| i.id.clone()).collect();
    assert!(fingerprint.len() >= 4, "{fingerprint:?}");
    let interview = |store: &mut DeviceStore, n: u128, skip_last: bool| {
        let id = start_at(store, &q, n, "cq-bus-station", at(n as u32));
        let mut answers: Vec<(String, AnswerValue)> = vec![
            ("consent".into(), AnswerValue::Bool(true)),
            ("frontline".into(), AnswerValue::Bool(true)),
        ];
        for item in q.fingerprint_items() {
            // 2026.3 lists migrant status (yes or no) among its fingerprint items
            let value = match (&item.kind, item.id.as_str()) {
                (_, "age") => AnswerValue::Integer(35),
                (zhisu_core::ItemKind::TrueFalse, _) => AnswerValue::Bool(true),
                _ => AnswerValue::Choice(item.kind.choices()[0].key.clone()),
            };
            answers.push((item.id.clone(), value));
        }
        if skip_last {
            answers.pop();
        }
        for (item, value) in answers {
            store
                .save_answer(&q, id, &item, &value, at(n as u32))
                .unwrap();
        }
        id
    };
    let first = interview(&mut store, 1, false);
    assert_eq!(
        store.repeat_respondent(&q, first).unwrap(),
        RepeatCheck::NoMatch
    );
    let unfinished = interview(&mut store, 2, true);
    assert_eq!(
        store.repeat_respondent(&q, unfinished).unwrap(),
        RepeatCheck::NotYetKnown,
        "{} not answered yet",
        fingerprint.last().unwrap()
    );
    assert_eq!(store.kept_fingerprint(unfinished).unwrap().0, None);
    let same = interview(&mut store, 3, false);
    assert_eq!(
        matched(&store.repeat_respondent(&q, same).unwrap()),
        vec![first]
    );
}

#[test]
fn the_feedback_page_is_kept_for_a_day_after_sealing_with_only_the_wrong_answers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.sqlite3");
    let q = pilot();
    let round = zhisu_protocol::sealed::RoundSecretKey::generate(
        "2026",
        &mut zhisu_protocol::sealed::OsRng,
    );
    let id = {
        let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
        store.save_round_key(Some(&round.public_key())).unwrap();
        let id = start(&mut store, &q, 1, 0);
        // right: employer_duty, noise; wrong: confined_space (guard_outside missing)
        answer_all(&mut store, &q, id);
        assert!(
            !store.interview(id).unwrap().feedback_kept,
            "nothing is kept while in progress"
        );
        let err = store.kept_feedback(id, at(5)).unwrap_err();
        assert_eq!(err.code(), "feedback_gone");
        let upload = store.complete_interview(&q, id, at(9)).unwrap();
        assert!(store.answers(id).unwrap().is_empty(), "sealed");
        let expected = q.score(&upload.answers);
        let kept = store.kept_feedback(id, at(10)).unwrap();
        assert_eq!(kept.completion.report, expected);
        assert!(kept.completion.show_answer_key);
        assert_eq!(kept.language, None);
        // the score summary, never an answer
        let column: String = store
            .conn
            .query_row(
                "SELECT feedback FROM interview WHERE id = ?1",
                [id.to_string()],
                |row| row.get(0),
            )
            .unwrap();
        for answer in ["ventilate", "test_air", "earplugs", "41"] {
            assert!(!column.contains(answer), "{answer} in {column}");
        }
        assert!(store.interview(id).unwrap().feedback_kept);
        id
    };
    // after a crash (the file opened again) it is still there
    let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
    assert_eq!(
        store
            .kept_feedback(id, at(9) + chrono::Duration::hours(23))
            .unwrap()
            .completion
            .report
            .score,
        q.score(&{
            let mut a = Answers::new();
            a.insert("employer_duty".into(), AnswerValue::Bool(true));
            a.insert("noise".into(), AnswerValue::Choice("earplugs".into()));
            a
        })
        .score,
        "employer_duty and noise right, confined_space wrong"
    );
    // a day later it is refused, then forgotten
    let later = at(9) + chrono::Duration::hours(24) + chrono::Duration::minutes(1);
    assert_eq!(
        store.kept_feedback(id, later).unwrap_err().code(),
        "feedback_gone"
    );
    assert_eq!(store.forget_old_feedback(later).unwrap(), 1);
    assert!(!store.interview(id).unwrap().feedback_kept);
    let stored: Option<String> = store
        .conn
        .query_row(
            "SELECT feedback FROM interview WHERE id = ?1",
            [id.to_string()],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(stored, None, "the column is emptied, not only hidden");
    // another completion forgets old pages too; an unknown interview is unknown
    let second = start(&mut store, &q, 2, 0);
    answer_all(&mut store, &q, second);
    store.complete_interview(&q, second, later).unwrap();
    assert!(store.kept_feedback(second, later).is_ok());
    assert_eq!(
        store
            .kept_feedback(Uuid::from_u128(77), later)
            .unwrap_err()
            .code(),
        "unknown_interview"
    );
}

#[test]
fn a_round_that_hides_the_answer_key_keeps_that_choice_with_the_feedback() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let q = pilot();
    let mut settings = store.round_settings().unwrap();
    settings.show_answer_key = false;
    store.save_round_settings(&settings).unwrap();
    let id = start(&mut store, &q, 1, 0);
    answer_all(&mut store, &q, id);
    store.complete_interview(&q, id, at(9)).unwrap();
    assert!(
        !store
            .kept_feedback(id, at(10))
            .unwrap()
            .completion
            .show_answer_key
    );
}

fn piece(id: &str, points: &[&str]) -> zhisu_protocol::library::LibraryPiece {
    zhisu_protocol::library::LibraryPiece {
        id: id.into(),
        version: 2,
        points: points.iter().map(|p| p.to_string()).collect(),
        title: format!("标题 {id}"),
        text: "第一段。\n\n第二段。".into(),
        source: "GBZ 49".into(),
        picture: None,
        audio: None,
    }
}

/// The library is replaced whole (a piece breaking the rules left out) and its digest is what
/// the assignment is compared with; completing an interview seals what the feedback page
/// offers — the wrong points, the QR code once enrolled, the pieces — into the paradata, and
/// nothing when the round hides the answer key.
#[test]
fn the_library_is_kept_and_what_the_feedback_page_offers_is_sealed_into_the_paradata() {
    use zhisu_protocol::library::{library_digest, Library};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.sqlite3");
    let q = pilot();
    let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
    assert_eq!(store.library().unwrap(), vec![]);
    assert_eq!(store.library_digest().unwrap(), library_digest(&[]));
    let mut ears = piece("ears", &["noise", "know_noise_hearing"]);
    // a picture and the piece read aloud travel in the piece and are kept with it
    ears.picture = zhisu_protocol::library::PiecePicture::new(
        &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 7, 7],
        "一个工人戴着耳塞",
    );
    ears.audio = zhisu_protocol::library::PieceAudio::new(b"ID3\x04 speech");
    assert!(ears.problems().is_empty(), "{:?}", ears.problems());
    let good = vec![ears, piece("pits", &["confined_space"])];
    let mut bad = piece("Bad Id", &["noise"]);
    bad.title = String::new();
    let mut delivered = good.clone();
    delivered.push(bad);
    let library = Library::new(delivered);
    assert_eq!(store.replace_library(&library).unwrap(), 2);
    assert_eq!(store.library().unwrap(), good);
    assert_eq!(store.library_digest().unwrap(), library_digest(&good));
    assert_ne!(store.library_digest().unwrap(), library.digest);

    // noise and confined_space wrong, employer_duty right; not enrolled: no QR code
    let wrong = |store: &mut DeviceStore, n: u128| {
        let id = start(store, &q, n, 0);
        for (item, value) in [
            ("age", AnswerValue::Integer(41)),
            ("employer_duty", AnswerValue::Bool(true)),
            ("noise", AnswerValue::Choice("cotton".into())),
            (
                "confined_space",
                AnswerValue::Choices(vec!["go_alone".into()]),
            ),
        ] {
            store.save_answer(&q, id, item, &value, at(2)).unwrap();
        }
        store.complete_interview(&q, id, at(5)).unwrap()
    };
    let upload = wrong(&mut store, 1);
    let offered = zhisu_core::MaterialOffered {
        points: 2,
        take_home_qr: false,
        pieces: vec!["ears".into(), "pits".into()],
    };
    assert_eq!(
        upload.paradata.as_ref().unwrap().material,
        Some(offered.clone())
    );
    assert!(upload.hash_is_valid());
    let shown = store.offered(&q, &upload.answers).unwrap();
    assert_eq!(shown.wrong, ["noise", "confined_space"]);
    assert_eq!(shown.view()[0].title, "标题 ears");
    let picture = shown.view()[0].picture.clone().unwrap();
    assert!(picture.url.starts_with("data:image/png;base64,"));
    assert_eq!(picture.alt, "一个工人戴着耳塞");
    assert!(shown.view()[0]
        .audio_url
        .as_deref()
        .unwrap()
        .starts_with("data:audio/mpeg;base64,"));
    assert_eq!(shown.view()[1].picture, None);
    // enrolled: the QR code too
    let enrolment = zhisu_protocol::Enrolment {
        device_id: Uuid::from_u128(5),
        token: "token".into(),
        round: "2026".into(),
        district: "yuzhong".into(),
    };
    store
        .save_identity("http://server:8470", "平板", &enrolment, at(0))
        .unwrap();
    let upload = wrong(&mut store, 2);
    assert_eq!(
        upload.paradata.as_ref().unwrap().material,
        Some(zhisu_core::MaterialOffered {
            take_home_qr: true,
            ..offered
        })
    );
    // the page kept for a day does not copy the picture and recording; shown again, it has them
    let kept: String = store
        .conn
        .query_row(
            "SELECT feedback FROM interview WHERE id = ?1",
            [upload.id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!kept.contains("base64"), "{kept}");
    let again = store.kept_feedback(upload.id, at(6)).unwrap();
    assert_eq!(again.completion.pieces, shown.view());
    // a round that hides the answer key offers nothing
    store
        .save_round_settings(&zhisu_protocol::RoundSettings {
            show_answer_key: false,
            ..Default::default()
        })
        .unwrap();
    let upload = wrong(&mut store, 3);
    assert_eq!(upload.paradata.as_ref().unwrap().material, None);
    // kept across a restart
    drop(store);
    let store = DeviceStore::open(&path, &crate::test_key()).unwrap();
    assert_eq!(store.library().unwrap(), good);
}

/// Practice interviews of surveyor training (issue 24): run like real ones and uploaded marked
/// as practice (the flag is in the sealed content), never counted towards a quota, never
/// matched against real interviews by the repeat check; a practice contact that ends otherwise
/// is discarded on the tablet, never uploaded.
#[test]
fn practice_interviews_are_uploaded_marked_and_count_towards_no_quota() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
    let q = pilot();
    store
        .save_sites(&[site("yz-001", &[("construction", 30)])])
        .unwrap();
    store.choose_site("yz-001").unwrap();
    let begin = |store: &mut DeviceStore, n: u128, practice: bool| {
        let start = TabletStart {
            id: Uuid::from_u128(n),
            started_at: at(0),
            utc_offset_minutes: 480,
            signed_in: None,
            language: None,
            practice,
        };
        store.start_interview_on_tablet(&q, &start).unwrap().id
    };
    // a real interview done first, then a practice one with the same respondent
    let real = begin(&mut store, 1, false);
    answer_all(&mut store, &q, real);
    let real_upload = store.complete_interview(&q, real, at(9)).unwrap();
    assert!(!real_upload.practice);
    let practice = begin(&mut store, 2, true);
    assert!(store.interview(practice).unwrap().practice);
    assert!(!store.interview(real).unwrap().practice);
    answer_all(&mut store, &q, practice);
    assert_eq!(
        matched(&store.repeat_respondent(&q, practice).unwrap()),
        Vec::<Uuid>::new(),
        "a practice interview is never taken for a real respondent's repeat"
    );
    let upload = store.complete_interview(&q, practice, at(10)).unwrap();
    assert!(upload.practice);
    assert!(upload.hash_is_valid());
    let waiting = store.waiting_uploads(10).unwrap();
    assert_eq!(waiting.len(), 2);
    assert!(waiting.iter().any(|w| w.id == practice && w.practice));
    assert!(waiting.iter().any(|w| w.id == real && !w.practice));

    // quota progress counts the real interview only (the pilot asks no population: by site)
    let population = |_: &str, _: &str| None;
    let progress = store.site_progress(&population).unwrap();
    assert_eq!(progress[0].done, 1, "{progress:?}");

    // a practice contact ended otherwise than completed stays on the tablet
    let contact = begin(&mut store, 3, true);
    store
        .save_answer(&q, contact, "age", &AnswerValue::Integer(41), at(11))
        .unwrap();
    store
        .close_contact(&q, contact, Some(Disposition::Partial), "被叫走了", at(12))
        .unwrap();
    let closed = store.interview(contact).unwrap();
    assert_eq!(closed.state, InterviewState::Discarded);
    assert_eq!(
        closed.discard_reason.as_deref(),
        Some(PRACTICE_CONTACT_REASON)
    );
    assert_eq!(store.waiting_uploads(10).unwrap().len(), 2);
}
