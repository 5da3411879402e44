//! One conformance suite, run against every storage backend: embedded SQLite in a temporary
//! file, and a real PostgreSQL server started by the test itself.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use uuid::Uuid;
use zhisu_core::{AnswerValue, Answers, ScoreReport};
use zhisu_protocol::{CompletedInterview, ReceiptStatus};
use zhisu_server_postgres::PostgresStorage;
use zhisu_server_service::devices::{hash_code, hash_token};
use zhisu_server_service::people::hash_password;
use zhisu_server_sqlite::SqliteStorage;
use zhisu_server_storage::{
    Accepted, AcceptedContact, AcceptedPractice, AcceptedQuizSession, Device, InterviewStore,
    Storage, StorageError,
};
use zhisu_server_storage::{AuditEntry, EnrolRefusal};
use zhisu_server_storage::{Person, Role, Scope, StoredPackage};

use zhisu_server_tests::postgres::TestPostgres;

/// Opens the same database again (a restart), or fails as the backend does.
/// An audit entry for an action taken in a test.
fn audit(action: &str) -> AuditEntry {
    AuditEntry::now("tester", action, "conformance")
}

type Reopen = Box<dyn Fn() -> Result<Box<dyn Storage>, StorageError>>;

struct Fresh {
    storage: Arc<dyn Storage>,
    reopen: Reopen,
    /// Pretends a newer server wrote the database.
    set_version: Box<dyn Fn(usize)>,
    /// Runs SQL on the database behind the storage's back.
    execute: Box<dyn Fn(&str)>,
}

fn interview(n: u128, age: i64) -> Accepted {
    let mut answers = Answers::new();
    answers.insert("age".into(), AnswerValue::Integer(age));
    let interview = CompletedInterview {
        id: Uuid::from_u128(n),
        questionnaire_id: "ohl_pilot".into(),
        questionnaire_version: "2026.1".into(),
        started_at: Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap(),
        completed_at: Utc.with_ymd_and_hms(2026, 11, 29, 8, 9, 0).unwrap(),
        utc_offset_minutes: 480,
        answers,
        site_id: Some("site-1".into()),
        surveyor_id: None,
        paradata: None,
        practice: false,
        content_hash: String::new(),
    }
    .sealed();
    let score = ScoreReport {
        score: 3,
        max: 4,
        has_literacy: false,
        dimensions: vec![],
        modules: vec![],
        items: vec![],
    };
    Accepted::new(&pilot(), interview, score)
}

fn pilot() -> zhisu_core::Questionnaire {
    zhisu_core::Questionnaire::from_toml(
        "pilot.toml",
        include_str!("../../../questionnaires/pilot.toml"),
    )
    .unwrap()
}

/// The pilot with a key-population item (the pilot itself asks none), so that interviews of
/// one population can be stored.
fn pilot_with_population() -> zhisu_core::Questionnaire {
    let source = format!(
        "{}\n{}",
        include_str!("../../../questionnaires/pilot.toml"),
        r#"
[[choices.population]]
key = "teacher"
label."zh-CN" = "教师"

[[items]]
id = "population"
kind = "single_choice"
choices = "population"
label."zh-CN" = "您属于哪类人群？"
"#
    );
    zhisu_core::Questionnaire::from_toml("pilot.toml", &source)
        .unwrap_or_else(|d| panic!("{}", d.lines()))
}

fn statuses(receipts: &[zhisu_protocol::Receipt]) -> Vec<ReceiptStatus> {
    receipts.iter().map(|r| r.status).collect()
}

fn at(minute: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 9, minute, 0).unwrap()
}

/// Every case gets a fresh, empty database from `fresh`.
fn conformance(fresh: &mut dyn FnMut(&str) -> Fresh) {
    use ReceiptStatus::*;

    // stores once, recognises identical re-sends, keeps the first on conflict
    let f = fresh("resends");
    let s = &f.storage;
    assert_eq!(
        s.schema_version().unwrap(),
        f.reopen().unwrap().schema_version().unwrap()
    );
    let batch = vec![interview(1, 30), interview(2, 40)];
    assert_eq!(
        statuses(&s.ingest(&batch, None, at(0)).unwrap()),
        vec![Stored, Stored]
    );
    assert_eq!(
        statuses(&s.ingest(&batch, None, at(1)).unwrap()),
        vec![AlreadyStored, AlreadyStored]
    );
    let changed = interview(1, 31);
    let receipts = s.ingest(&[changed], None, at(2)).unwrap();
    assert_eq!(statuses(&receipts), vec![Conflict]);
    assert_eq!(receipts[0].code.as_deref(), Some("different_content"));
    assert_eq!(s.interview_count().unwrap(), 2);
    let stored = s.interviews(&Scope::All).unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(
        stored[0].interview, batch[0].interview,
        "the first content is kept, exactly"
    );
    assert_eq!(stored[0].score, batch[0].score);
    assert_eq!(stored[0].received_at, at(0));
    assert!(s.contains(Uuid::from_u128(2)).unwrap());
    assert!(!s.contains(Uuid::from_u128(3)).unwrap());

    // the same interview twice in one batch
    let f = fresh("in_batch");
    let receipts = f
        .storage
        .ingest(
            &[interview(5, 30), interview(5, 30), interview(5, 33)],
            None,
            at(0),
        )
        .unwrap();
    assert_eq!(statuses(&receipts), vec![Stored, AlreadyStored, Conflict]);
    assert_eq!(f.storage.interview_count().unwrap(), 1);

    // a restart keeps everything; reopening an up-to-date database changes nothing
    let f = fresh("restart");
    f.storage.ingest(&[interview(7, 30)], None, at(0)).unwrap();
    let again = f.reopen().unwrap();
    assert_eq!(again.interview_count().unwrap(), 1);
    assert_eq!(
        again.interviews(&Scope::All).unwrap()[0].interview,
        interview(7, 30).interview
    );

    // many devices sending the same interviews at once: each stored exactly once
    let f = fresh("concurrent");
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let storage = Arc::clone(&f.storage);
            std::thread::spawn(move || {
                let batch: Vec<Accepted> = (0..60)
                    .map(|n| interview(100 + (n + t * 7) % 60, 30))
                    .collect();
                statuses(&storage.ingest(&batch, None, at(0)).unwrap())
            })
        })
        .collect();
    let mut stored = 0;
    for thread in threads {
        let s = thread.join().unwrap();
        assert!(
            s.iter().all(|r| matches!(r, Stored | AlreadyStored)),
            "{s:?}"
        );
        stored += s.iter().filter(|r| **r == Stored).count();
    }
    assert_eq!(stored, 60, "each of the 60 distinct interviews stored once");
    assert_eq!(f.storage.interview_count().unwrap(), 60);
    // and counted once in the dashboard's cells, whichever batch stored each
    let progress: u64 = f
        .storage
        .progress(&Scope::All)
        .unwrap()
        .iter()
        .map(|c| c.count)
        .sum();
    let mut counted = 0;
    f.storage
        .visit_cells("ohl_pilot", &mut |c| {
            if c.breakdown == "all" {
                counted += c.n
            }
        })
        .unwrap();
    assert_eq!((progress, counted), (60, 60));

    // enrolment codes are used once, before they expire; tokens find their device
    let f = fresh("devices");
    let s = &f.storage;
    let code = hash_code("K7XM-3QPA");
    s.add_enrolment_code(&code, "2026", "yuzhong", at(30), at(0), &audit("test"))
        .unwrap();
    s.add_enrolment_code(
        &hash_code("OLD1-OLD2"),
        "2026",
        "yuzhong",
        at(5),
        at(0),
        &audit("test"),
    )
    .unwrap();
    let tablet = Uuid::from_u128(77);
    let device = s
        .enrol(&code, tablet, "渝中 3 号平板", &hash_token("t0ken"), at(10))
        .unwrap()
        .unwrap();
    assert_eq!(
        (device.round.as_str(), device.district.as_str()),
        ("2026", "yuzhong")
    );
    assert_eq!(
        s.enrol(
            &code,
            Uuid::from_u128(78),
            "again",
            &hash_token("other"),
            at(11)
        )
        .unwrap(),
        Err(EnrolRefusal::Used)
    );
    assert_eq!(
        s.enrol(
            &hash_code("OLD1-OLD2"),
            Uuid::from_u128(79),
            "late",
            &hash_token("x"),
            at(10)
        )
        .unwrap(),
        Err(EnrolRefusal::Expired)
    );
    assert_eq!(
        s.enrol(
            &hash_code("NOPE-NOPE"),
            Uuid::from_u128(80),
            "who",
            &hash_token("y"),
            at(10)
        )
        .unwrap(),
        Err(EnrolRefusal::Unknown)
    );
    let found = s
        .device_for_token(&hash_token("t0ken"), at(12))
        .unwrap()
        .unwrap();
    assert_eq!(found.id, tablet);
    assert!(found.revoked_at.is_none());
    assert!(s
        .device_for_token(&hash_token("forged"), at(12))
        .unwrap()
        .is_none());
    assert!(s.revoke_device(tablet, at(13), &audit("test")).unwrap());
    assert!(!s
        .revoke_device(Uuid::from_u128(999), at(13), &audit("test"))
        .unwrap());
    assert_eq!(s.device(tablet).unwrap().map(|d| d.id), Some(tablet));
    assert!(s.device(Uuid::from_u128(999)).unwrap().is_none());
    let revoked = s
        .device_for_token(&hash_token("t0ken"), at(14))
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(at(13)));
    assert_eq!(
        revoked.last_seen_at,
        Some(at(12)),
        "as it was before this request"
    );
    let listed = s.devices().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_seen_at, Some(at(14)), "this request noted");
    s.ingest(&[interview(11, 30)], Some(&found), at(15))
        .unwrap();

    let scoped = |scope: Scope| -> Vec<Uuid> {
        s.interviews(&scope)
            .unwrap()
            .iter()
            .map(|i| i.interview.id)
            .collect()
    };
    assert_eq!(
        scoped(Scope::District("yuzhong".into())),
        vec![Uuid::from_u128(11)]
    );
    assert!(scoped(Scope::District("jiangbei".into())).is_empty());
    assert!(
        scoped(Scope::Populations(vec!["teacher".into()])).is_empty(),
        "no population answer"
    );
    assert_eq!(scoped(Scope::All).len(), 1);

    // sites and quotas per district; the audit log
    let mut quotas = std::collections::BTreeMap::new();
    quotas.insert("construction".to_string(), 30);
    let site = zhisu_protocol::Site {
        id: "yz-001".into(),
        district: "yuzhong".into(),
        name: "某建筑工地".into(),
        site_type: "enterprise".into(),
        industry: Some("construction".into()),
        ownership: None,
        size: Some("large".into()),
        quotas,
        stratum: Some("construction-large".into()),
        weight: Some(12.5),
        latitude: Some(29.557),
        longitude: Some(106.577),
        // time-slot quotas (issue #15) come back as stored, in order
        time_slots: vec![
            zhisu_protocol::TimeSlot {
                label: "春运早高峰".into(),
                first_day: "2027-01-25".parse().unwrap(),
                last_day: "2027-02-05".parse().unwrap(),
                from: "06:00".into(),
                to: "10:00".into(),
                target: 40,
            },
            zhisu_protocol::TimeSlot {
                label: "返程晚高峰".into(),
                first_day: "2027-02-10".parse().unwrap(),
                last_day: "2027-02-20".parse().unwrap(),
                from: "17:00".into(),
                to: "21:30".into(),
                target: 25,
            },
        ],
    };
    s.replace_sites("yuzhong", std::slice::from_ref(&site), &audit("test"))
        .unwrap();
    let same_id_elsewhere = zhisu_protocol::Site {
        district: "jiangbei".into(),
        ..site.clone()
    };
    s.replace_sites(
        "jiangbei",
        std::slice::from_ref(&same_id_elsewhere),
        &audit("test"),
    )
    .unwrap();
    assert_eq!(s.sites("yuzhong").unwrap(), vec![site.clone()]);
    assert_eq!(
        s.sites("jiangbei").unwrap(),
        vec![same_id_elsewhere],
        "site ids are per district"
    );
    // when the interviews at sites with time slots started (issue #15): none at yz-001; with
    // slots at the interview's site, its start and the device's offset, in scope only
    assert!(s.slot_starts(&Scope::All).unwrap().is_empty());
    let with_slots = zhisu_protocol::Site {
        id: "site-1".into(),
        ..site.clone()
    };
    s.replace_sites(
        "yuzhong",
        &[site.clone(), with_slots.clone()],
        &audit("test"),
    )
    .unwrap();
    let started = vec![zhisu_server_storage::InterviewStart {
        district: "yuzhong".into(),
        site_id: "site-1".into(),
        started_at: Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap(),
        utc_offset_minutes: 480,
    }];
    assert_eq!(s.slot_starts(&Scope::All).unwrap(), started);
    assert_eq!(
        s.slot_starts(&Scope::District("yuzhong".into())).unwrap(),
        started
    );
    assert!(s
        .slot_starts(&Scope::District("jiangbei".into()))
        .unwrap()
        .is_empty());
    assert!(s
        .slot_starts(&Scope::Populations(vec!["teacher".into()]))
        .unwrap()
        .is_empty());
    let without_slots = zhisu_protocol::Site {
        time_slots: Vec::new(),
        ..with_slots
    };
    s.replace_sites("yuzhong", &[site.clone(), without_slots], &audit("test"))
        .unwrap();
    assert!(
        s.slot_starts(&Scope::All).unwrap().is_empty(),
        "a site without slots is not read"
    );
    s.replace_sites("jiangbei", &[], &audit("test")).unwrap();
    assert!(s.sites("jiangbei").unwrap().is_empty());
    s.replace_sites("yuzhong", &[], &audit("test")).unwrap();
    assert!(
        s.sites("yuzhong").unwrap().is_empty(),
        "replaced, not added"
    );
    for (n, action) in ["create_enrolment_code", "revoke_device"]
        .iter()
        .enumerate()
    {
        s.record_audit(&AuditEntry {
            at: at(20 + n as u32),
            actor: "cli".into(),
            action: action.to_string(),
            detail: format!("detail {n}"),
        })
        .unwrap();
    }
    // the actions above wrote their own entries (actor "tester"); these two are the newest
    let log: Vec<AuditEntry> = s.audit_log(2).unwrap();
    assert!(log.iter().all(|e| e.actor == "cli"), "{log:?}");
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].action, "revoke_device", "newest first");

    // people, passwords and sessions
    let f = fresh("people");
    let s = &f.storage;
    let viewer = Person {
        id: Uuid::from_u128(500),
        username: "edu".into(),
        display_name: "教委".into(),
        role: Role::DepartmentViewer {
            populations: vec!["teacher".into()],
        },
        created_at: at(0),
    };
    assert!(s
        .add_person(&viewer, &hash_password("long-enough-pw"), &audit("test"))
        .unwrap());
    assert!(
        !s.add_person(&viewer, "x", &audit("test")).unwrap(),
        "username taken"
    );
    let (found, hash) = s.person_for_login("edu").unwrap().unwrap();
    assert_eq!(found, viewer);
    assert!(zhisu_server_service::people::verify_password(
        "long-enough-pw",
        &hash
    ));
    assert!(s.person_for_login("nobody").unwrap().is_none());
    s.add_session(
        "live",
        viewer.id,
        at(30),
        at(0),
        &AuditEntry::now("t", "sign_in", "viewer"),
    )
    .unwrap();
    s.add_session(
        "old",
        viewer.id,
        at(1),
        at(0),
        &AuditEntry::now("t", "sign_in", "viewer"),
    )
    .unwrap();
    assert_eq!(
        s.session_person("live", at(10)).unwrap(),
        Some(viewer.clone())
    );
    assert_eq!(s.session_person("old", at(10)).unwrap(), None, "expired");
    s.end_session("live", at(11), &AuditEntry::now("t", "sign_out", "viewer"))
        .unwrap();
    assert_eq!(s.session_person("live", at(12)).unwrap(), None, "ended");
    let mut teacher = interview(600, 30);
    teacher
        .interview
        .answers
        .insert("population".into(), AnswerValue::Choice("teacher".into()));
    let teacher = Accepted::new(
        &pilot_with_population(),
        teacher.interview.sealed(),
        teacher.score,
    );
    s.ingest(&[teacher, interview(601, 30)], None, at(0))
        .unwrap();
    let seen: Vec<_> = s
        .interviews(&Scope::Populations(vec!["teacher".into()]))
        .unwrap()
        .into_iter()
        .map(|i| (i.interview.id, i.population))
        .collect();
    assert_eq!(
        seen,
        vec![(Uuid::from_u128(600), Some("teacher".to_string()))]
    );

    // published questionnaire versions: kept once, never replaced
    let record = zhisu_server_storage::PublishedRecord {
        id: "q".into(),
        version: "1".into(),
        round: "2026".into(),
        hash: "sha256:aa".into(),
        source: "id = \"q\"".into(),
        published_at: at(3),
        published_by: "city".into(),
    };
    assert!(s.publish_questionnaire(&record, &audit("test")).unwrap());
    let other = zhisu_server_storage::PublishedRecord {
        hash: "sha256:bb".into(),
        ..record.clone()
    };
    assert!(
        !s.publish_questionnaire(&other, &audit("test")).unwrap(),
        "id and version taken"
    );
    assert_eq!(s.published_questionnaires().unwrap(), vec![record]);

    analysis_conformance(&fresh("analysis"));
    site_district_conformance(&fresh("site_district"));
    audit_conformance(&*fresh("audit").storage);
    flag_for_review_conformance(&*fresh("flag_for_review").storage);
    media_conformance(&*fresh("media").storage);
    reference_conformance(&*fresh("references").storage);
    library_conformance(&*fresh("library").storage);
    contact_conformance(&*fresh("contacts").storage);
    outreach_conformance(&*fresh("outreach").storage);
    practice_conformance(&*fresh("practice").storage);
    field_surveyor_conformance(&*fresh("field_surveyors").storage);
    backcheck_conformance(&*fresh("backcheck").storage);
    package_conformance(&*fresh("package").storage);
    round_conformance(&*fresh("rounds").storage);
    erasure_conformance(&fresh("erasure"));
    retention_conformance(&*fresh("retention").storage);

    // a database written by a newer server is refused, not damaged
    let f = fresh("sign_in");
    sign_in_conformance(&f.storage);
    f.storage.check_ready(at(0)).unwrap();
    f.storage.check_ready(at(1)).unwrap();
    token_conformance(&fresh("tokens").storage);

    let f = fresh("newer");
    f.storage.ingest(&[interview(9, 30)], None, at(0)).unwrap();
    let current = f.storage.schema_version().unwrap();
    (f.set_version)(current + 1);
    match f.reopen() {
        Err(StorageError::NewerSchema { found, supported }) => {
            assert_eq!((found, supported), (current + 1, current))
        }
        Err(other) => panic!("expected NewerSchema, got {other}"),
        Ok(_) => panic!("a newer database must be refused"),
    }
    (f.set_version)(current);
    assert_eq!(f.reopen().unwrap().interview_count().unwrap(), 1);
}

fn contact(n: u128, disposition: zhisu_core::Disposition, reason: &str) -> AcceptedContact {
    AcceptedContact {
        contact: zhisu_protocol::ContactOutcome {
            id: Uuid::from_u128(n),
            questionnaire_id: "ohl_pilot".into(),
            questionnaire_version: "2026.1".into(),
            started_at: at(0),
            ended_at: at(1),
            utc_offset_minutes: 480,
            disposition,
            reason: (!reason.is_empty()).then(|| reason.to_string()),
            items_answered: 2,
            excluded_by: if disposition == zhisu_core::Disposition::NotEligible {
                vec!["age".into()]
            } else {
                vec![]
            },
            site_id: Some("s-1".into()),
            surveyor_id: Some("zhang".into()),
            population: (disposition == zhisu_core::Disposition::Partial)
                .then(|| "teacher".to_string()),
            content_hash: String::new(),
        }
        .sealed(),
        site_district: None,
    }
}

/// Contacts (issue 15): stored once by id and content hash, a re-send is `already_stored`, a
/// changed one or one with a stored interview's id is a conflict and changes nothing; counted
/// by district (the site's when the plan put it elsewhere), surveyor, population and
/// disposition, within a scope.
fn contact_conformance(s: &dyn Storage) {
    use zhisu_core::Disposition::*;
    use ReceiptStatus::*;
    let device = Device {
        id: Uuid::from_u128(77),
        name: "平板".into(),
        round: "2026".into(),
        district: "yuzhong".into(),
        enrolled_at: at(0),
        revoked_at: None,
        last_seen_at: None,
        pending: None,
    };
    s.ingest(&[interview(50, 30)], None, at(0)).unwrap();
    let mut elsewhere = contact(4, Other, "没遇到人");
    elsewhere.site_district = Some("jiangbei".into());
    let batch = vec![
        contact(1, Refused, ""),
        contact(2, NotEligible, ""),
        contact(3, Partial, "被叫走了"),
        elsewhere,
    ];
    assert_eq!(
        statuses(&s.ingest_contacts(&batch, Some(&device), at(2)).unwrap()),
        vec![Stored, Stored, Stored, Stored]
    );
    assert_eq!(
        statuses(&s.ingest_contacts(&batch, Some(&device), at(3)).unwrap()),
        vec![AlreadyStored; 4]
    );
    let changed = contact(1, Refused, "很忙");
    let mut interview_id = contact(50, Refused, "");
    interview_id.contact.id = Uuid::from_u128(50);
    let receipts = s
        .ingest_contacts(&[changed, interview_id], Some(&device), at(4))
        .unwrap();
    assert_eq!(statuses(&receipts), vec![Conflict, Conflict]);
    let counts = s.contact_counts(&Scope::All).unwrap();
    let summary: Vec<(Option<&str>, Option<&str>, &str, u64)> = counts
        .iter()
        .map(|c| {
            (
                c.district.as_deref(),
                c.population.as_deref(),
                c.disposition.as_str(),
                c.count,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (Some("jiangbei"), None, "other", 1),
            (Some("yuzhong"), None, "not_eligible", 1),
            (Some("yuzhong"), None, "refused", 1),
            (Some("yuzhong"), Some("teacher"), "partial", 1),
        ]
    );
    assert!(counts
        .iter()
        .all(|c| c.site_id.as_deref() == Some("s-1") && c.surveyor_id.as_deref() == Some("zhang")));
    let yuzhong = s
        .contact_counts(&Scope::District("yuzhong".into()))
        .unwrap();
    assert_eq!(yuzhong.iter().map(|c| c.count).sum::<u64>(), 3);
    let teachers = s
        .contact_counts(&Scope::Populations(vec!["teacher".into()]))
        .unwrap();
    assert_eq!(teachers.len(), 1);
    assert_eq!(teachers[0].disposition, "partial");
    assert!(s
        .contact_counts(&Scope::District("wanzhou".into()))
        .unwrap()
        .is_empty());

    // the quality table's reading of the interviews: flagged once a flag is added
    let rows = s.quality_rows(&Scope::All).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (
            rows[0].district.as_deref(),
            rows[0].flagged,
            rows[0].qc_status.as_str()
        ),
        (None, false, "unreviewed")
    );
    let expected_duration = (interview(50, 30).interview.completed_at
        - interview(50, 30).interview.started_at)
        .num_seconds();
    assert_eq!(rows[0].duration_s, Some(expected_duration));
    let flag = zhisu_core::QcFlag::SiteNotInPlan {
        site_id: "s-9".into(),
    };
    assert!(s
        .flag_for_review(Uuid::from_u128(50), &flag, &audit("flag"))
        .unwrap());
    assert!(s.quality_rows(&Scope::All).unwrap()[0].flagged);
    assert!(s
        .quality_rows(&Scope::District("yuzhong".into()))
        .unwrap()
        .is_empty());
}

fn quiz_session(n: u128, district: &str, population: Option<&str>) -> AcceptedQuizSession {
    use zhisu_protocol::{QuizItem, QuizSession};
    AcceptedQuizSession {
        session: QuizSession {
            id: Uuid::from_u128(n),
            questionnaire_id: "ohl_pilot".into(),
            questionnaire_version: "2026.1".into(),
            started_at: at(n as u32),
            ended_at: at(n as u32 + 1),
            utc_offset_minutes: 480,
            site_id: Some("s-1".into()),
            event_id: Some(Uuid::from_u128(900)),
            surveyor_id: None,
            items: vec![
                QuizItem {
                    item: "k1".into(),
                    right: n.is_multiple_of(2),
                },
                QuizItem {
                    item: "k2".into(),
                    right: true,
                },
            ],
            // k1 missed: the score screen offered the take-home code
            take_home_qr: !n.is_multiple_of(2),
            content_hash: String::new(),
        }
        .sealed(),
        district: Some(district.into()),
        population: population.map(str::to_string),
    }
}

/// Outreach (issue 24): an event is saved with its audit entry, replaced by id, read within a
/// scope; a quiz session is stored once by id and content hash (a re-send `already_stored`, a
/// changed one a conflict that changes nothing) and read back within a scope.
fn outreach_conformance(s: &dyn Storage) {
    use zhisu_protocol::OutreachEvent;
    use ReceiptStatus::*;
    let mut event = OutreachEvent {
        id: Uuid::from_u128(900),
        district: "yuzhong".into(),
        kind: "station".into(),
        place: "菜园坝汽车站".into(),
        date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        population: Some("construction".into()),
        people_reached: 120,
        material: "手册 100 份".into(),
        items: vec!["k1".into()],
    };
    s.save_event(&event, "admin", at(0), &audit("save_event"))
        .unwrap();
    event.people_reached = 150;
    s.save_event(&event, "admin2", at(1), &audit("save_event"))
        .unwrap();
    let other = OutreachEvent {
        id: Uuid::from_u128(901),
        district: "jiangbei".into(),
        population: None,
        ..event.clone()
    };
    s.save_event(&other, "admin", at(2), &audit("save_event"))
        .unwrap();
    let all = s.events(&Scope::All).unwrap();
    assert_eq!(all.len(), 2);
    let stored = s.event(event.id).unwrap().unwrap();
    assert_eq!(
        (stored.event.clone(), stored.entered_by.as_str()),
        (event.clone(), "admin2")
    );
    assert!(s.event(Uuid::from_u128(999)).unwrap().is_none());
    let yuzhong = s.events(&Scope::District("yuzhong".into())).unwrap();
    assert_eq!(
        yuzhong.iter().map(|e| e.event.id).collect::<Vec<_>>(),
        [event.id]
    );
    let builders = s
        .events(&Scope::Populations(vec!["construction".into()]))
        .unwrap();
    assert_eq!(builders.len(), 1);
    assert_eq!(
        s.audit_log(10)
            .unwrap()
            .iter()
            .filter(|e| e.action == "save_event")
            .count(),
        3
    );

    let device = Device {
        id: Uuid::from_u128(78),
        name: "平板".into(),
        round: "2026".into(),
        district: "yuzhong".into(),
        enrolled_at: at(0),
        revoked_at: None,
        last_seen_at: None,
        pending: None,
    };
    let batch = vec![
        quiz_session(1, "yuzhong", Some("construction")),
        quiz_session(2, "yuzhong", None),
        quiz_session(3, "jiangbei", None),
    ];
    assert_eq!(
        statuses(
            &s.ingest_quiz_sessions(&batch, Some(&device), at(5))
                .unwrap()
        ),
        vec![Stored; 3]
    );
    assert_eq!(
        statuses(
            &s.ingest_quiz_sessions(&batch, Some(&device), at(6))
                .unwrap()
        ),
        vec![AlreadyStored; 3]
    );
    let mut changed = quiz_session(1, "yuzhong", Some("construction"));
    changed.session.items[0].right = !changed.session.items[0].right;
    let changed = AcceptedQuizSession {
        session: changed.session.sealed(),
        ..changed
    };
    assert_eq!(
        statuses(
            &s.ingest_quiz_sessions(&[changed], Some(&device), at(7))
                .unwrap()
        ),
        vec![Conflict]
    );
    let stored = s.quiz_sessions(&Scope::All).unwrap();
    assert_eq!(
        stored.iter().map(|q| &q.session).collect::<Vec<_>>(),
        batch.iter().map(|a| &a.session).collect::<Vec<_>>(),
        "kept as first sent, oldest first"
    );
    assert_eq!(stored[0].received_at, at(5));
    let yuzhong = s.quiz_sessions(&Scope::District("yuzhong".into())).unwrap();
    assert_eq!(yuzhong.len(), 2);
    let builders = s
        .quiz_sessions(&Scope::Populations(vec!["construction".into()]))
        .unwrap();
    assert_eq!(
        builders
            .iter()
            .map(|q| (q.session.id, q.population.as_deref()))
            .collect::<Vec<_>>(),
        [(Uuid::from_u128(1), Some("construction"))]
    );
    assert!(stored[0].session.take_home_qr && !stored[1].session.take_home_qr);
    // a quiz session is no interview: nothing counted
    assert_eq!(s.interview_count().unwrap(), 0);
    assert!(s.progress(&Scope::All).unwrap().is_empty());

    // an event recorded by mistake is deleted with its audit entry, unless quiz sessions were
    // run at it (they would lose their event): then it is kept, and nothing is audited
    use zhisu_server_storage::EventDeletion;
    let deletions = |s: &dyn Storage| {
        s.audit_log(50)
            .unwrap()
            .iter()
            .filter(|e| e.action == "delete_event")
            .count()
    };
    assert_eq!(
        s.delete_event(event.id, &audit("delete_event")).unwrap(),
        EventDeletion::HasSessions(3)
    );
    assert!(s.event(event.id).unwrap().is_some());
    assert_eq!(deletions(s), 0);
    assert_eq!(
        s.delete_event(other.id, &audit("delete_event")).unwrap(),
        EventDeletion::Deleted
    );
    assert!(s.event(other.id).unwrap().is_none());
    assert_eq!(
        s.events(&Scope::All)
            .unwrap()
            .iter()
            .map(|e| e.event.id)
            .collect::<Vec<_>>(),
        [event.id]
    );
    assert_eq!(
        s.delete_event(other.id, &audit("delete_event")).unwrap(),
        EventDeletion::NotFound
    );
    assert_eq!(deletions(s), 1);
    assert_eq!(
        s.quiz_sessions(&Scope::All).unwrap().len(),
        3,
        "no session touched"
    );
}

/// Sign-in attempts are counted in the database, one by one: a burst from many threads gets no
/// more tries than attempts in turn; a flood of other usernames never pushes a count out; a
/// right password starts the count again; a day-old count is forgotten.
fn sign_in_conformance(s: &Arc<dyn Storage>) {
    use zhisu_server_storage::people::{sign_in_key, FREE_ATTEMPTS};
    let now = at(0);
    let victim = sign_in_key("Wang");
    let passed: u32 = std::thread::scope(|threads| {
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let s = Arc::clone(s);
                let key = victim.clone();
                threads.spawn(move || u32::from(s.begin_sign_in(&key, now).unwrap().is_ok()))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(passed, FREE_ATTEMPTS);
    let wait = s.sign_in_pause(&victim, at(0)).unwrap().unwrap();
    assert_eq!(wait, chrono::Duration::seconds(60));
    // 2,000 other names tried meanwhile change nothing for the victim
    for n in 0..2_000 {
        s.begin_sign_in(&sign_in_key(&format!("nobody{n}")), now)
            .unwrap()
            .unwrap();
    }
    assert_eq!(
        s.begin_sign_in(&sign_in_key(" WANG "), now + chrono::Duration::seconds(30))
            .unwrap(),
        Err(chrono::Duration::seconds(30))
    );
    // after the pause, the next wrong one doubles it
    let later = now + chrono::Duration::seconds(61);
    assert_eq!(s.begin_sign_in(&victim, later).unwrap(), Ok(()));
    assert_eq!(
        s.sign_in_pause(&victim, later).unwrap(),
        Some(chrono::Duration::seconds(120))
    );
    // a right password starts again; other names are forgotten a day on
    let other = sign_in_key("li");
    s.begin_sign_in(&other, now).unwrap().unwrap();
    s.sign_in_succeeded(&other).unwrap();
    assert_eq!(s.sign_in_pause(&other, now).unwrap(), None);
    let next_day = now + chrono::Duration::hours(25);
    s.begin_sign_in(&victim, next_day).unwrap().unwrap();
    assert_eq!(s.sign_in_pause(&victim, next_day).unwrap(), None);
}

/// Token buckets are kept in the database and taken one by one: a burst from many threads
/// (as from several server processes) gets exactly the bucket's tokens; they refill at the
/// rate; other keys never touch a bucket; full buckets are forgotten.
fn token_conformance(s: &Arc<dyn Storage>) {
    use zhisu_server_storage::TokenLimit;
    let limit = TokenLimit {
        rate: 2.0,
        burst: 10.0,
    };
    let now = at(0);
    let taken: u32 = std::thread::scope(|threads| {
        let handles: Vec<_> = (0..25)
            .map(|_| {
                let s = Arc::clone(s);
                threads.spawn(move || u32::from(s.take_token("device:a", limit, now).unwrap()))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(taken, 10, "a burst gets exactly the bucket's tokens");
    assert!(!s.has_token("device:a", limit, now).unwrap());
    // another key is untouched, and many of them change nothing for the first
    for n in 0..500 {
        assert!(s.take_token(&format!("address:{n}"), limit, now).unwrap());
    }
    assert!(!s.take_token("device:a", limit, now).unwrap());
    // half a second later one token (2 a second), then none
    let half = now + chrono::Duration::milliseconds(500);
    assert!(s.has_token("device:a", limit, half).unwrap());
    assert!(s.take_token("device:a", limit, half).unwrap());
    assert!(!s.take_token("device:a", limit, half).unwrap());
    // an hour on every bucket is full: the next take forgets them all but its own
    let later = now + chrono::Duration::hours(1);
    assert!(s.take_token("device:a", limit, later).unwrap());
    assert!((1..10).all(|_| s.take_token("device:a", limit, later).unwrap()));
    assert!(!s.take_token("device:a", limit, later).unwrap());
    // takes from many threads while full buckets are being forgotten: a bucket swept away
    // between one take's look-up and its update is made again, never an error (issue 19)
    std::thread::scope(|threads| {
        for thread in 0..8 {
            let s = Arc::clone(s);
            threads.spawn(move || {
                for minute in 1..=30 {
                    let when = later + chrono::Duration::seconds(61 * minute);
                    for n in 0..3 {
                        let key = format!("busy:{thread}:{n}");
                        assert!(
                            s.take_token(&key, limit, when).unwrap(),
                            "a full bucket gives a token"
                        );
                    }
                }
            });
        }
    });
}

/// Recordings: bytes kept once per hash however many places use them, a place recorded again
/// points at the new bytes, listed per version or all, each write audited; bytes of any value
/// (every byte 0..=255) come back exactly.
fn media_conformance(s: &dyn Storage) {
    use zhisu_server_storage::StoredRecording;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let other: Vec<u8> = b"OggS".iter().copied().chain(0..200u8).collect();
    let recording =
        |q: &str, item: &str, option: &str, data: &[u8], kind: &str, minute| StoredRecording {
            questionnaire_id: q.into(),
            version: "1".into(),
            item_id: item.into(),
            option: option.into(),
            sha256: zhisu_protocol::media_hash(data),
            size: data.len() as u64,
            kind: kind.into(),
            recorded_at: at(minute),
            recorded_by: "ann".into(),
        };
    assert_eq!(s.recordings(None).unwrap(), vec![]);
    assert_eq!(s.media(&zhisu_protocol::media_hash(&bytes)).unwrap(), None);
    let question = recording("pilot", "k1", "", &bytes, "wav", 0);
    let answer = recording("pilot", "k1", "a", &bytes, "wav", 1);
    let elsewhere = recording("ohl", "q", "", &other, "ogg", 2);
    for r in [&question, &answer, &elsewhere] {
        let data = if r.kind == "wav" { &bytes } else { &other };
        s.put_recording(r, data, &audit("save_recording")).unwrap();
    }
    assert_eq!(
        s.recordings(None).unwrap(),
        vec![elsewhere.clone(), question.clone(), answer.clone()]
    );
    assert_eq!(
        s.recordings(Some(("pilot", "1"))).unwrap(),
        vec![question.clone(), answer.clone()]
    );
    assert_eq!(s.recordings(Some(("pilot", "2"))).unwrap(), vec![]);
    assert_eq!(
        s.media(&question.sha256).unwrap(),
        Some(("wav".to_string(), bytes.clone()))
    );
    // recorded again: the place points at the new bytes; the old ones stay for the others
    let again = recording("pilot", "k1", "", &other, "ogg", 3);
    s.put_recording(&again, &other, &audit("save_recording"))
        .unwrap();
    assert_eq!(
        s.recordings(Some(("pilot", "1"))).unwrap(),
        vec![again, answer]
    );
    assert_eq!(s.media(&elsewhere.sha256).unwrap().unwrap().1, other);
    assert_eq!(
        s.audit_log(100)
            .unwrap()
            .iter()
            .filter(|e| e.action == "save_recording")
            .count(),
        4
    );
}

/// The dashboard's reads and writes: facts, progress, the review queue and decisions, people,
/// round settings and what devices report. Real interviews of the national questionnaire.
/// Every administrative action writes its audit entry with the change, and none when it
/// changed nothing.
fn audit_conformance(s: &dyn Storage) {
    let count = |action: &str| {
        s.audit_log(1000)
            .unwrap()
            .iter()
            .filter(|e| e.action == action)
            .count()
    };
    let person = Person {
        id: Uuid::from_u128(77),
        username: "ann".into(),
        display_name: "Ann".into(),
        role: Role::CityAdmin,
        created_at: at(0),
    };
    assert!(s.add_person(&person, "hash", &audit("add_person")).unwrap());
    assert!(!s.add_person(&person, "hash", &audit("add_person")).unwrap());
    assert_eq!(count("add_person"), 1, "a taken username is not audited");
    assert!(s
        .set_person_disabled("ann", Some(at(1)), &audit("disable_person"))
        .unwrap());
    assert!(!s
        .set_person_disabled("nobody", Some(at(1)), &audit("disable_person"))
        .unwrap());
    assert_eq!(
        count("disable_person"),
        1,
        "an unknown person is not audited"
    );
    assert!(!s
        .revoke_device(Uuid::from_u128(5), at(2), &audit("revoke_device"))
        .unwrap());
    assert_eq!(
        count("revoke_device"),
        0,
        "an unknown device is not audited"
    );
    s.add_enrolment_code(
        "c",
        "2026",
        "yuzhong",
        at(59),
        at(0),
        &audit("create_enrolment_code"),
    )
    .unwrap();
    assert_eq!(count("create_enrolment_code"), 1);
    s.replace_sites("yuzhong", &[], &audit("replace_sites"))
        .unwrap();
    assert_eq!(count("replace_sites"), 1);
    s.set_round_settings("2026", &Default::default(), &audit("set_round_settings"))
        .unwrap();
    assert_eq!(count("set_round_settings"), 1);
    // the entry carries what the caller said
    let entry = AuditEntry::now("city", "rebuild_cells", "by hand");
    s.rebuild_cells(&entry).unwrap();
    assert!(s
        .audit_log(1000)
        .unwrap()
        .iter()
        .any(|e| (&e.actor, &e.action, &e.detail) == (&entry.actor, &entry.action, &entry.detail)));
}

/// Erasing one respondent's interview (a request under the Personal Information Protection
/// Law): the row goes, the literacy and progress cells lose exactly its counts in the same
/// transaction, the erasure is audited, a re-send of it is known as erased, and erasing an
/// unknown id writes nothing.
fn erasure_conformance(f: &Fresh) {
    use zhisu_server_tests::generate::{self, Respondent, Rng};
    let s = &f.storage;
    let q = zhisu_core::Questionnaire::from_toml(
        "ohl_2026.toml",
        include_str!("../../../questionnaires/ohl_2026.toml"),
    )
    .unwrap();
    let mut rng = Rng::new(18);
    let start = Utc.with_ymd_and_hms(2026, 11, 28, 23, 0, 0).unwrap();
    let batch: Vec<Accepted> = (0..5u128)
        .map(|n| {
            let who = Respondent {
                population: if n < 3 { "construction" } else { "teacher" },
                sex: if n % 2 == 0 { "male" } else { "female" },
                age: 25 + 5 * n as i64,
                education: "junior",
                industry: "construction",
                ability: 70 + 5 * n as u64,
                straight_line: false,
            };
            let answers = generate::answers(&q, &who, &mut rng);
            let i = generate::interview(
                &q,
                Uuid::from_u128(1800 + n),
                answers,
                start,
                1500,
                Some("yz-1"),
            );
            let score = q.score(&i.answers);
            Accepted::new(&q, i, score)
        })
        .collect();
    s.ingest(&batch, None, at(2)).unwrap();
    cells_match_interviews(s.as_ref(), "before erasing");
    // the consent and its text version are kept with each interview
    let version = zhisu_server_storage::facts::consent_text_version(&q);
    assert!(version.as_deref().is_some_and(|v| v.starts_with("sha256:")));
    let stored = s.interviews(&Scope::All).unwrap();
    assert_eq!(stored.len(), 5);
    // found by the reference a respondent was shown: these five share one (their ids start
    // with eight zeros); another finds none, and so does anything but eight hex digits
    let shared = s.interviews_with_reference("00000000").unwrap();
    assert_eq!(
        shared.iter().map(|m| m.id).collect::<Vec<_>>(),
        (1800..1805u128).map(Uuid::from_u128).collect::<Vec<_>>()
    );
    assert!(shared
        .iter()
        .all(|m| m.site_id.as_deref() == Some("yz-1") && m.received_at == at(2)));
    assert!(s.interviews_with_reference("00000001").unwrap().is_empty());
    for bad in [
        "",
        "0000000",
        "000000000",
        "0000000g",
        "00000000-0000",
        "%",
        "0000000%",
        "0000000_",
    ] {
        assert!(
            s.interviews_with_reference(bad).unwrap().is_empty(),
            "{bad:?}"
        );
    }
    assert!(stored.iter().all(|i| i.consent_text_version == version));
    assert!(batch.iter().all(|a| a.facts.consent == Some(true)));
    let before = stored_cells(s.as_ref());
    let erased_count = |s: &dyn Storage| {
        s.audit_log(1000)
            .unwrap()
            .iter()
            .filter(|e| e.action == "erase_interview")
            .count()
    };

    let gone = Uuid::from_u128(1803); // a teacher
                                      // re-contact details kept apart: stored only for a stored interview, read within scope
                                      // only, each read audited
    let details = |n: u128| zhisu_server_storage::RecontactDetails {
        interview_id: Uuid::from_u128(n),
        contact: format!("1380000{n:04}"),
        consent_text_version: "sha256:0123456789abcdef".into(),
        stored_at: at(3),
        delete_after: Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap(),
    };
    // where an upload of details may go: the interview (here from no device), none kept yet
    assert_eq!(
        s.recontact_target(gone).unwrap(),
        Some(zhisu_server_storage::RecontactTarget {
            device_id: None,
            kept: false
        })
    );
    assert_eq!(s.recontact_target(Uuid::from_u128(4242)).unwrap(), None);
    for n in [1803, 1800] {
        assert!(s
            .put_recontact(&details(n), &audit("put_recontact"))
            .unwrap());
    }
    assert!(s.recontact_target(gone).unwrap().unwrap().kept);
    assert!(!s
        .put_recontact(&details(4242), &audit("put_recontact"))
        .unwrap());
    let reads = |s: &dyn Storage| {
        s.audit_log(1000)
            .unwrap()
            .iter()
            .filter(|e| e.action == "read_recontact")
            .count()
    };
    assert_eq!(
        s.recontact(&Scope::All, gone, &audit("read_recontact"))
            .unwrap(),
        Some(details(1803))
    );
    assert_eq!(reads(s.as_ref()), 1);
    // the interviews have no district here: a district's scope reads none of them
    assert_eq!(
        s.recontact(
            &Scope::District("yuzhong".into()),
            gone,
            &audit("read_recontact")
        )
        .unwrap(),
        None
    );
    assert_eq!(
        s.recontact(
            &Scope::Populations(vec!["construction".into()]),
            gone,
            &audit("read_recontact")
        )
        .unwrap(),
        None,
        "a teacher's details are outside the builders' scope"
    );
    assert_eq!(
        reads(s.as_ref()),
        1,
        "reads that found nothing are not audited"
    );
    // never in the interview as read
    assert!(!serde_json::to_string(&s.interviews(&Scope::All).unwrap())
        .unwrap()
        .contains("13800001803"));
    let entry = AuditEntry::now("city", "erase_interview", "respondent's request");
    assert!(s.erase_interview(gone, at(5), &entry).unwrap());
    assert_eq!(
        s.interviews_with_reference("00000000").unwrap().len(),
        4,
        "an erased interview is found by its reference no more"
    );
    assert!(!s.contains(gone).unwrap());
    assert_eq!(s.interview_count().unwrap(), 4);
    assert_eq!(erased_count(s.as_ref()), 1);
    // the cells lost exactly that interview's counts: they equal the remaining interviews
    cells_match_interviews(s.as_ref(), "after erasing");
    let after = stored_cells(s.as_ref());
    assert_ne!(after, before);
    let total = |cells: &CellMap| {
        cells
            .iter()
            .filter(|(k, _)| k.3 == "all")
            .map(|(_, (n, _))| n)
            .sum::<u64>()
    };
    assert_eq!(total(&before) - total(&after), 1);
    assert!(s
        .interviews(&Scope::Populations(vec!["teacher".into()]))
        .unwrap()
        .iter()
        .all(|i| i.interview.id != gone));
    // its id is remembered as erased, nothing else of it
    assert_eq!(
        s.erased(&[gone, Uuid::from_u128(1800), Uuid::from_u128(1)])
            .unwrap(),
        vec![gone]
    );
    assert_eq!(s.erased(&[]).unwrap(), Vec::<Uuid>::new());
    // its re-contact details went with it; another interview's stay
    assert_eq!(
        s.recontact(&Scope::All, gone, &audit("read_recontact"))
            .unwrap(),
        None
    );
    assert!(s
        .recontact(&Scope::All, Uuid::from_u128(1800), &audit("read_recontact"))
        .unwrap()
        .is_some());
    assert!(!s
        .put_recontact(&details(1803), &audit("put_recontact"))
        .unwrap());
    // again, or an id never stored: false, nothing changes, nothing audited
    assert!(!s.erase_interview(gone, at(6), &entry).unwrap());
    assert!(!s
        .erase_interview(Uuid::from_u128(4242), at(6), &entry)
        .unwrap());
    assert_eq!(erased_count(s.as_ref()), 1);
    assert_eq!(stored_cells(s.as_ref()), after);
    // kept across a restart
    let reopened = f.reopen().unwrap();
    assert_eq!(reopened.erased(&[gone]).unwrap(), vec![gone]);
    assert_eq!(reopened.interview_count().unwrap(), 4);
}

/// What expires goes: sessions expired or ended before the cut-off, sign-in counts not
/// touched since theirs (unless still pausing), enrolment codes expired before theirs, audit
/// entries older than the audit cut-off (none without one); the live ones stay, and the purge
/// is audited only when it removed something.
fn retention_conformance(s: &dyn Storage) {
    use zhisu_server_storage::Cutoffs;
    let day = |d: u32| Utc.with_ymd_and_hms(2026, 11, d, 12, 0, 0).unwrap();
    let person = Person {
        id: Uuid::from_u128(31),
        username: "kept".into(),
        display_name: "Kept".into(),
        role: Role::CityAdmin,
        created_at: day(1),
    };
    assert!(s.add_person(&person, "hash", &audit("add_person")).unwrap());
    // an expired session, an ended one, a live one
    s.add_session("old", person.id, day(3), day(2), &audit("sign_in"))
        .unwrap();
    s.add_session("ended", person.id, day(28), day(2), &audit("sign_in"))
        .unwrap();
    s.end_session("ended", day(4), &audit("sign_out")).unwrap();
    s.add_session("live", person.id, day(28), day(19), &audit("sign_in"))
        .unwrap();
    // a sign-in count from before the cut-off, and one after it (within a day, so that
    // counting it does not forget the first on the way)
    let sign_in_cutoff = Utc.with_ymd_and_hms(2026, 11, 3, 0, 0, 0).unwrap();
    s.begin_sign_in("long-ago", day(2)).unwrap().unwrap();
    s.begin_sign_in("recent", sign_in_cutoff + chrono::Duration::hours(6))
        .unwrap()
        .unwrap();
    // an expired enrolment code and a valid one
    s.add_enrolment_code("expired", "2026", "yuzhong", day(5), day(1), &audit("code"))
        .unwrap();
    s.add_enrolment_code("valid", "2026", "yuzhong", day(27), day(19), &audit("code"))
        .unwrap();
    // an old audit entry
    s.record_audit(&AuditEntry {
        at: day(1),
        actor: "old".into(),
        action: "old_action".into(),
        detail: "long ago".into(),
    })
    .unwrap();
    // re-contact details: one past its delete_after, one not yet
    let stored = s
        .ingest(&[interview(3101, 30), interview(3102, 31)], None, day(1))
        .unwrap();
    assert_eq!(stored.len(), 2);
    for (n, until) in [(3101u128, day(9)), (3102, day(25))] {
        assert!(s
            .put_recontact(
                &zhisu_server_storage::RecontactDetails {
                    interview_id: Uuid::from_u128(n),
                    contact: "13800000000".into(),
                    consent_text_version: "v".into(),
                    stored_at: day(1),
                    delete_after: until,
                },
                &audit("put_recontact"),
            )
            .unwrap());
    }
    let purges = |s: &dyn Storage| {
        s.audit_log(1000)
            .unwrap()
            .iter()
            .filter(|e| e.action == "purge_expired")
            .count()
    };

    // the audit log kept whole: everything else before the 10th goes
    let cutoffs = Cutoffs {
        sessions: day(10),
        sign_in_attempts: sign_in_cutoff,
        enrolment_codes: day(10),
        audit: None,
        recontact: day(10),
    };
    let purged = s.purge_expired(&cutoffs, &audit("purge_expired")).unwrap();
    assert_eq!(
        purged,
        zhisu_server_storage::Purged {
            sessions: 2,
            sign_in_attempts: 1,
            enrolment_codes: 1,
            audit_entries: 0,
            recontact_details: 1,
        }
    );
    let read = |n: u128| {
        s.recontact(&Scope::All, Uuid::from_u128(n), &audit("read_recontact"))
            .unwrap()
    };
    assert_eq!(read(3101), None);
    assert_eq!(read(3102).unwrap().delete_after, day(25));
    // the interviews themselves stay: only the way to reach their respondents went
    assert_eq!(s.interview_count().unwrap(), 2);
    assert_eq!(purges(s), 1);
    assert!(s.session_person("live", day(20)).unwrap().is_some());
    assert!(s.session_person("old", day(2)).unwrap().is_none());
    // the valid code still enrols, the expired one is unknown now
    assert!(matches!(
        s.enrol("expired", Uuid::from_u128(1), "t", "tok-1", day(20))
            .unwrap(),
        Err(EnrolRefusal::Unknown)
    ));
    assert!(s
        .enrol("valid", Uuid::from_u128(2), "t", "tok-2", day(20))
        .unwrap()
        .is_ok());
    assert!(s
        .audit_log(1000)
        .unwrap()
        .iter()
        .any(|e| e.action == "old_action"));

    // nothing more to purge: nothing audited
    let again = s.purge_expired(&cutoffs, &audit("purge_expired")).unwrap();
    assert_eq!(again.total(), 0);
    assert_eq!(purges(s), 1);

    // with an audit cut-off, entries older than it go and the purge's own entry stays
    let purged = s
        .purge_expired(
            &Cutoffs {
                audit: Some(day(2)),
                ..cutoffs
            },
            &audit("purge_expired"),
        )
        .unwrap();
    assert_eq!(purged.audit_entries, 1);
    let log = s.audit_log(1000).unwrap();
    assert!(!log.iter().any(|e| e.action == "old_action"));
    assert!(log.iter().any(|e| e.action == "purge_expired"));
}

/// Reference levels: kept as given (every field), listed by questionnaire in a stable order,
/// edited in place by id, removed; each change audited, and removing none audits nothing.
fn reference_conformance(s: &dyn Storage) {
    use zhisu_server_storage::{ReferenceKind, ReferenceLevel};
    let count = |action: &str| {
        s.audit_log(1000)
            .unwrap()
            .iter()
            .filter(|e| e.action == action)
            .count()
    };
    assert_eq!(s.reference_levels(None).unwrap(), vec![]);
    let level = |n: u128, questionnaire: &str, round: &str, measure: &str, kind| ReferenceLevel {
        id: Uuid::from_u128(n),
        round: round.into(),
        questionnaire_id: questionnaire.into(),
        measure: measure.into(),
        kind,
        value_percent: 52.6 + n as f64 / 8.0,
        source: format!("来源 {n} \"quoted\""),
        year: 2020 + n as i32,
        entered_by: "city".into(),
        entered_at: at(n as u32),
    };
    let national = level(1, "ohl_2026", "2026", "", ReferenceKind::National);
    let target = level(2, "ohl_2026", "2026", "", ReferenceKind::Target);
    let law = level(3, "ohl_2026", "2025", "law", ReferenceKind::City);
    let other = level(4, "ohl_intercept", "2026", "", ReferenceKind::Other);
    for l in [&other, &target, &law, &national] {
        s.put_reference_level(l, &audit("put_reference_level"))
            .unwrap();
    }
    assert_eq!(count("put_reference_level"), 4);
    // by questionnaire, round, measure, kind
    assert_eq!(
        s.reference_levels(Some("ohl_2026")).unwrap(),
        vec![law.clone(), national.clone(), target.clone()]
    );
    assert_eq!(
        s.reference_levels(Some("ohl_intercept")).unwrap(),
        vec![other.clone()]
    );
    assert_eq!(s.reference_levels(None).unwrap().len(), 4);
    // an edit keeps the id and replaces the rest
    let edited = ReferenceLevel {
        value_percent: 90.0,
        source: "健康中国行动".into(),
        year: 2030,
        ..target.clone()
    };
    s.put_reference_level(&edited, &audit("put_reference_level"))
        .unwrap();
    assert_eq!(
        s.reference_levels(Some("ohl_2026")).unwrap(),
        vec![law.clone(), national.clone(), edited]
    );
    assert!(s
        .delete_reference_level(law.id, &audit("delete_reference_level"))
        .unwrap());
    assert!(!s
        .delete_reference_level(law.id, &audit("delete_reference_level"))
        .unwrap());
    assert_eq!(
        count("delete_reference_level"),
        1,
        "removing none is not audited"
    );
    assert_eq!(s.reference_levels(Some("ohl_2026")).unwrap().len(), 2);
}

/// The library: a new id starts at version 1, each edit adds one and keeps the old versions;
/// the newest of each piece is listed by id with every field as given; loading only new pieces
/// leaves edited ones alone and audits nothing when nothing is new.
fn library_conformance(s: &dyn Storage) {
    use zhisu_protocol::library::LibraryPiece;
    use zhisu_server_storage::StoredPiece;
    let count = |action: &str| {
        s.audit_log(1000)
            .unwrap()
            .iter()
            .filter(|e| e.action == action)
            .count()
    };
    assert_eq!(s.library().unwrap(), vec![]);
    assert_eq!(s.piece_history("heat").unwrap(), vec![]);
    let piece = |id: &str, title: &str, minute: u32| StoredPiece {
        piece: LibraryPiece {
            id: id.into(),
            version: 99,
            points: vec!["know_heat_stroke".into(), "con_heat_aid".into()],
            title: title.into(),
            text: "第一段 \"引号\"。\n\n第二段。".into(),
            source: "《职业病防治法》; GBZ 41".into(),
            picture: None,
            audio: None,
        },
        written_by: "city".into(),
        written_at: at(minute),
    };
    let with_version = |p: &StoredPiece, version: u32| {
        let mut p = p.clone();
        p.piece.version = version;
        p
    };
    let heat = piece("heat", "中暑", 1);
    let mut dust = piece("dust", "粉尘", 2);
    // a picture and the piece read aloud are kept with their piece
    dust.piece.picture = Some(
        zhisu_protocol::library::PiecePicture::new(
            &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3],
            "工人戴着防尘口罩",
        )
        .unwrap(),
    );
    dust.piece.audio = zhisu_protocol::library::PieceAudio::new(b"OggS\0 speech");
    assert!(dust.piece.problems().is_empty());
    assert_eq!(
        s.put_pieces(&[heat.clone(), dust.clone()], false, &audit("put_pieces"))
            .unwrap(),
        vec![Some(1), Some(1)]
    );
    assert_eq!(
        s.library().unwrap(),
        vec![with_version(&dust, 1), with_version(&heat, 1)]
    );
    // the outline: the same pieces without their pictures and recordings
    let mut bare = with_version(&dust, 1);
    (bare.piece.picture, bare.piece.audio) = (None, None);
    assert_eq!(
        s.library_outline().unwrap(),
        vec![bare, with_version(&heat, 1)]
    );
    let edited = piece("heat", "中暑了怎么办", 3);
    assert_eq!(
        s.put_pieces(std::slice::from_ref(&edited), false, &audit("put_pieces"))
            .unwrap(),
        vec![Some(2)]
    );
    assert_eq!(
        s.library().unwrap(),
        vec![with_version(&dust, 1), with_version(&edited, 2)]
    );
    assert_eq!(
        s.piece_history("heat").unwrap(),
        vec![with_version(&edited, 2), with_version(&heat, 1)]
    );
    assert_eq!(count("put_pieces"), 2);
    // loading only new pieces: the edited one stays, a new one is kept
    let noise = piece("noise", "噪声", 4);
    assert_eq!(
        s.put_pieces(&[heat.clone(), noise.clone()], true, &audit("load_library"))
            .unwrap(),
        vec![None, Some(1)]
    );
    assert_eq!(s.library().unwrap().len(), 3);
    assert_eq!(s.library().unwrap()[1], with_version(&edited, 2));
    assert_eq!(
        s.put_pieces(&[heat, noise], true, &audit("load_library"))
            .unwrap(),
        vec![None, None]
    );
    assert_eq!(
        count("load_library"),
        1,
        "loading nothing new is not audited"
    );
}

/// Each interview's round is its device's; one without a device has none; rejected ones are
/// left out, whatever round.
fn round_conformance(s: &dyn Storage) {
    let mut tablets = Vec::new();
    for (i, (round, district)) in [("2025", "yuzhong"), ("2026", "jiangbei")]
        .into_iter()
        .enumerate()
    {
        let code = hash_code(&format!("code-{round}"));
        s.add_enrolment_code(&code, round, district, at(59), at(0), &audit("code"))
            .unwrap();
        let device = s
            .enrol(
                &code,
                Uuid::from_u128(700 + i as u128),
                "平板",
                &hash_token(&format!("t-{round}")),
                at(1),
            )
            .unwrap()
            .unwrap();
        assert_eq!(device.round, round);
        tablets.push(device);
    }
    s.ingest(
        &[interview(1, 30), interview(2, 31)],
        Some(&tablets[0]),
        at(2),
    )
    .unwrap();
    s.ingest(&[interview(3, 32)], Some(&tablets[1]), at(3))
        .unwrap();
    s.ingest(&[interview(4, 33)], None, at(4)).unwrap();
    let rounds = |s: &dyn Storage| {
        let mut seen: Vec<(Option<String>, i64)> = Vec::new();
        s.visit_facts_with_round("ohl_pilot", &mut |round, row| {
            seen.push((round.map(str::to_string), row.age.unwrap()));
        })
        .unwrap();
        seen.sort();
        seen
    };
    assert_eq!(
        rounds(s),
        vec![
            (None, 33),
            (Some("2025".into()), 30),
            (Some("2025".into()), 31),
            (Some("2026".into()), 32)
        ]
    );
    s.review(
        &Scope::All,
        Uuid::from_u128(2),
        &zhisu_server_storage::Review {
            status: zhisu_server_storage::QcStatus::Rejected,
            comment: "重复".into(),
            reviewer: "tester".into(),
            at: at(5),
        },
        &audit("review_interview"),
    )
    .unwrap()
    .unwrap();
    assert_eq!(rounds(s).len(), 3, "a rejected interview is left out");
    s.visit_facts_with_round("another", &mut |_, _| panic!("another questionnaire"))
        .unwrap();
}

/// `check-data --flag`: a flag is added to what ingest stored (a site-plan flag stays), the
/// same kind again replaces it, the counts and review state do not move, each change is
/// audited, and an unknown interview changes nothing.
fn flag_for_review_conformance(s: &dyn Storage) {
    use zhisu_core::QcFlag;
    let mut flagged = interview(1, 30);
    flagged.facts.qc_flags = vec![QcFlag::SiteNotInPlan {
        site_id: "site-1".into(),
    }];
    s.ingest(&[flagged, interview(2, 40)], None, at(0)).unwrap();
    let counts = || {
        let mut cells = Vec::new();
        s.visit_cells("ohl_pilot", &mut |c| cells.push(format!("{c:?}")))
            .unwrap();
        (cells, s.progress(&Scope::All).unwrap())
    };
    let counts_before = counts();
    assert!(!counts_before.1.is_empty());
    let flags_of = |id: u128| {
        s.qc_queue(&Scope::All, None, 100)
            .unwrap()
            .into_iter()
            .find(|e| e.id == Uuid::from_u128(id))
            .map(|e| (e.flags, e.status))
    };
    let problem = |text: &str| QcFlag::StoredDataProblem {
        problems: vec![text.into()],
    };
    assert!(s
        .flag_for_review(
            Uuid::from_u128(1),
            &problem("first"),
            &audit("flag_stored_data")
        )
        .unwrap());
    assert!(s
        .flag_for_review(
            Uuid::from_u128(1),
            &problem("second"),
            &audit("flag_stored_data")
        )
        .unwrap());
    let (flags, status) = flags_of(1).expect("in the QC queue");
    assert_eq!(
        flags,
        vec![
            QcFlag::SiteNotInPlan {
                site_id: "site-1".into()
            },
            problem("second")
        ]
    );
    assert_eq!(status, zhisu_server_storage::QcStatus::Unreviewed);
    // an interview ingest did not flag enters the queue
    assert!(flags_of(2).is_none());
    assert!(s
        .flag_for_review(
            Uuid::from_u128(2),
            &problem("only"),
            &audit("flag_stored_data")
        )
        .unwrap());
    assert_eq!(flags_of(2).unwrap().0, vec![problem("only")]);
    assert!(!s
        .flag_for_review(
            Uuid::from_u128(99),
            &problem("x"),
            &audit("flag_stored_data")
        )
        .unwrap());
    let audited = s
        .audit_log(100)
        .unwrap()
        .iter()
        .filter(|e| e.action == "flag_stored_data")
        .count();
    assert_eq!(audited, 3, "each change audited, the unknown interview not");
    assert_eq!(counts(), counts_before, "flags change no count");
}

fn analysis_conformance(f: &Fresh) {
    use zhisu_server_storage::{QcCounts, QcStatus, Review};
    use zhisu_server_tests::generate::{self, Respondent, Rng};
    let s = &f.storage;
    let q = zhisu_core::Questionnaire::from_toml(
        "ohl_2026.toml",
        include_str!("../../../questionnaires/ohl_2026.toml"),
    )
    .unwrap();
    s.replace_sites(
        "yuzhong",
        &[zhisu_protocol::Site {
            id: "yz-1".into(),
            district: "yuzhong".into(),
            name: "工地".into(),
            site_type: "enterprise".into(),
            quotas: [("construction".to_string(), 5)].into_iter().collect(),
            stratum: Some("large".into()),
            weight: Some(40.0),
            ..Default::default()
        }],
        &audit("test"),
    )
    .unwrap();
    let code = hash_code("ANALYSIS");
    s.add_enrolment_code(&code, "2026", "yuzhong", at(59), at(0), &audit("test"))
        .unwrap();
    let device = s
        .enrol(
            &code,
            Uuid::from_u128(77),
            "平板",
            &hash_token("t-analysis"),
            at(1),
        )
        .unwrap()
        .unwrap();
    let mut rng = Rng::new(3);
    let start = Utc.with_ymd_and_hms(2026, 11, 28, 23, 0, 0).unwrap(); // 07:00 on the 29th in UTC+8
    let batch: Vec<Accepted> = (0..6u128)
        .map(|n| {
            let who = Respondent {
                population: if n < 4 { "construction" } else { "teacher" },
                sex: "male",
                age: 30 + n as i64,
                education: "junior",
                industry: "construction",
                ability: 80,
                straight_line: false,
            };
            let answers = generate::answers(&q, &who, &mut rng);
            let seconds = if n == 0 { 60 } else { 1500 };
            let i = generate::interview(
                &q,
                Uuid::from_u128(900 + n),
                answers,
                start,
                seconds,
                Some("yz-1"),
            );
            let score = q.score(&i.answers);
            Accepted::new(&q, i, score)
        })
        .collect();
    assert!(batch[0]
        .facts
        .qc_flags
        .iter()
        .any(|f| f.code() == "too_fast"));
    s.ingest(&batch, Some(&device), at(2)).unwrap();

    // facts as stored = facts as computed, with the site's sample plan joined
    let mut seen = Vec::new();
    s.visit_facts(&Scope::All, "ohl_2026", &mut |r| {
        seen.push((
            r.population.map(str::to_string),
            r.age,
            r.has_literacy,
            r.dimension_literacy,
            r.items_correct.to_string(),
            r.stratum.map(str::to_string),
            r.weight,
            r.district.map(str::to_string),
            r.more.map(|k| k.map(str::to_string)),
            r.modules.to_string(),
            r.measures.to_string(),
        ))
    })
    .unwrap();
    seen.sort_by_key(|r| r.1);
    let mut want: Vec<_> = batch
        .iter()
        .map(|a| {
            (
                a.facts.population.clone(),
                a.facts.age,
                a.score.has_literacy,
                a.facts.dimension_literacy,
                a.facts.items_correct.clone(),
                Some("large".to_string()),
                Some(40.0),
                Some("yuzhong".to_string()),
                a.facts.more.clone(),
                a.facts.modules.clone(),
                a.facts.measures.clone(),
            )
        })
        .collect();
    want.sort_by_key(|r| r.1);
    // the estimate tables' facts are there to be compared: modules and measures were taken
    assert!(want.iter().all(|w| !w.10.is_empty() && !w.9.is_empty()));
    assert_eq!(seen, want);
    // read page by page, in order of receipt (ties by id), the pages make the whole
    for scope in [
        Scope::All,
        Scope::District("yuzhong".into()),
        Scope::Populations(vec!["teacher".into()]),
        Scope::District("jiangbei".into()),
    ] {
        let whole = s.interviews(&scope).unwrap();
        for size in [1, 2, 4, 100] {
            let mut paged = Vec::new();
            let mut after = None;
            loop {
                let page = s.interviews_page(&scope, after, size).unwrap();
                assert!(page.len() <= size);
                let Some(last) = page.last() else { break };
                after = Some((last.received_at, last.interview.id));
                let full = page.len() == size;
                paged.extend(page);
                if !full {
                    break;
                }
            }
            assert_eq!(paged, whole, "{scope:?} in pages of {size}");
        }
    }
    assert_eq!(s.interviews(&Scope::All).unwrap().len(), 6);
    // the backend answers from memory between reports (facts_cache), never from an older
    // generation: a new sample plan, a changed row written by hand, both seen at once
    let weights = |s: &dyn Storage| {
        let mut w = Vec::new();
        s.visit_facts(&Scope::All, "ohl_2026", &mut |r| w.push((r.weight, r.age)))
            .unwrap();
        w.sort_by_key(|r| r.1);
        w.into_iter().map(|r| r.0).collect::<Vec<_>>()
    };
    assert_eq!(weights(s.as_ref()), vec![Some(40.0); 6]);
    let mut site = zhisu_protocol::Site {
        id: "yz-1".into(),
        district: "yuzhong".into(),
        name: "工地".into(),
        site_type: "enterprise".into(),
        quotas: [("construction".to_string(), 5)].into_iter().collect(),
        stratum: Some("large".into()),
        weight: Some(12.5),
        ..Default::default()
    };
    s.replace_sites("yuzhong", std::slice::from_ref(&site), &audit("test"))
        .unwrap();
    assert_eq!(weights(s.as_ref()), vec![Some(12.5); 6]);
    site.weight = Some(40.0);
    s.replace_sites("yuzhong", std::slice::from_ref(&site), &audit("test"))
        .unwrap();
    assert_eq!(weights(s.as_ref()), vec![Some(40.0); 6]);
    (f.execute)("UPDATE interview SET age = age + 100");
    let mut ages = Vec::new();
    s.visit_facts(&Scope::All, "ohl_2026", &mut |r| ages.push(r.age.unwrap()))
        .unwrap();
    assert!(ages.iter().all(|&a| a >= 130), "{ages:?}");
    (f.execute)("UPDATE interview SET age = age - 100");
    let mut teachers = 0;
    s.visit_facts(
        &Scope::Populations(vec!["teacher".into()]),
        "ohl_2026",
        &mut |_| teachers += 1,
    )
    .unwrap();
    assert_eq!(teachers, 2);
    let mut elsewhere = 0;
    s.visit_facts(&Scope::District("jiangbei".into()), "ohl_2026", &mut |_| {
        elsewhere += 1
    })
    .unwrap();
    assert_eq!(elsewhere, 0);

    // progress by local day
    let cells = s.progress(&Scope::All).unwrap();
    assert_eq!(cells.iter().map(|c| c.count).sum::<u64>(), 6);
    assert!(
        cells
            .iter()
            .all(|c| c.day == "2026-11-29" && c.site_id.as_deref() == Some("yz-1")),
        "{cells:?}"
    );
    assert_eq!(s.all_sites().unwrap().len(), 1);

    // the counts the reports give equal those made from the whole queue, in every scope
    let counts_from_queue = |scope: &Scope| {
        let queue = s.qc_queue(scope, None, 10_000).unwrap();
        QcCounts {
            flagged: queue
                .iter()
                // every interview here answered the fingerprint items: none is empty
                .filter(|e| !e.flags.is_empty() || e.same_fingerprint > 0)
                .count() as u64,
            rejected: queue
                .iter()
                .filter(|e| e.status == QcStatus::Rejected)
                .count() as u64,
        }
    };
    let check_counts = |when: &str| {
        for scope in [
            Scope::All,
            Scope::District("yuzhong".into()),
            Scope::District("jiangbei".into()),
            Scope::Populations(vec!["teacher".into()]),
        ] {
            assert_eq!(
                s.qc_counts(&scope).unwrap(),
                counts_from_queue(&scope),
                "{when}: {scope:?}"
            );
        }
    };
    check_counts("before review");
    assert!(
        s.qc_counts(&Scope::All).unwrap().flagged > 0,
        "the fast one is flagged"
    );

    // the review queue: the fast one; decisions within scope only
    let queue = s
        .qc_queue(&Scope::All, Some(QcStatus::Unreviewed), 50)
        .unwrap();
    assert!(queue
        .iter()
        .any(|e| e.id == Uuid::from_u128(900) && e.duration_s == Some(60)));
    let reject = Review {
        status: QcStatus::Rejected,
        comment: "太快".into(),
        reviewer: "sup".into(),
        at: at(3),
    };
    let reviews_audited = |s: &dyn Storage| {
        s.audit_log(1000)
            .unwrap()
            .iter()
            .filter(|e| e.action == "review_interview" && e.detail.starts_with("900 "))
            .count()
    };
    let before = reviews_audited(&**s);
    let out_of_scope = AuditEntry::now("sup", "review_interview", "900 out of scope");
    assert_eq!(
        s.review(
            &Scope::District("jiangbei".into()),
            Uuid::from_u128(900),
            &reject,
            &out_of_scope
        )
        .unwrap(),
        None
    );
    // a decision that changed nothing leaves no audit entry
    assert_eq!(reviews_audited(&**s), before);
    let in_scope = AuditEntry::now("sup", "review_interview", "900 rejected");
    assert_eq!(
        s.review(
            &Scope::District("yuzhong".into()),
            Uuid::from_u128(900),
            &reject,
            &in_scope
        )
        .unwrap(),
        Some(())
    );
    // the decision and its audit entry are written together
    assert_eq!(reviews_audited(&**s), before + 1);
    let rejected = s
        .qc_queue(&Scope::All, Some(QcStatus::Rejected), 50)
        .unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        (
            rejected[0].comment.as_deref(),
            rejected[0].reviewer.as_deref()
        ),
        (Some("太快"), Some("sup"))
    );
    assert_eq!(rejected[0].reviewed_at, Some(at(3)));
    check_counts("after a rejection");
    assert_eq!(s.qc_counts(&Scope::All).unwrap().rejected, 1);
    assert_eq!(
        s.qc_counts(&Scope::District("jiangbei".into()))
            .unwrap()
            .rejected,
        0
    );
    let told = s.rejected_for_device(device.id).unwrap();
    assert_eq!(told.len(), 1);
    assert_eq!(
        (told[0].interview_id, told[0].reason.as_str()),
        (Uuid::from_u128(900), "太快")
    );
    let mut counted = 0;
    s.visit_facts(&Scope::All, "ohl_2026", &mut |_| counted += 1)
        .unwrap();
    assert_eq!(counted, 5, "rejected interviews leave the analyses");
    assert_eq!(
        s.progress(&Scope::All)
            .unwrap()
            .iter()
            .map(|c| c.count)
            .sum::<u64>(),
        5
    );
    let listed = s.interviews(&Scope::All).unwrap();
    assert_eq!(
        listed
            .iter()
            .filter(|i| i.qc_status.as_deref() == Some("rejected"))
            .count(),
        1
    );

    // backfill: nothing missing; setting facts again is idempotent
    assert!(s.interviews_without_facts(10).unwrap().is_empty());
    s.set_facts(batch[1].interview.id, &batch[1].facts).unwrap();

    // the literacy cells count what visit_facts shows, after every kind of write
    cells_match_interviews(s.as_ref(), "after ingest, a rejection and a backfill");
    let mut changed = batch[2].facts.clone();
    changed.population = Some("teacher".into());
    changed.age = Some(50);
    changed.dimension_literacy ^= 0b101;
    s.set_facts(batch[2].interview.id, &changed).unwrap();
    cells_match_interviews(s.as_ref(), "after facts that changed");
    let undo = Review {
        status: QcStatus::Approved,
        comment: "看过录音，没问题".into(),
        reviewer: "city".into(),
        at: at(4),
    };
    s.review(
        &Scope::All,
        Uuid::from_u128(900),
        &undo,
        &audit("review_interview"),
    )
    .unwrap()
    .unwrap();
    cells_match_interviews(s.as_ref(), "after a rejection was taken back");
    s.review(
        &Scope::All,
        Uuid::from_u128(901),
        &reject,
        &audit("review_interview"),
    )
    .unwrap()
    .unwrap();
    s.review(
        &Scope::All,
        Uuid::from_u128(901),
        &reject,
        &audit("review_interview"),
    )
    .unwrap()
    .unwrap();
    cells_match_interviews(s.as_ref(), "after the same rejection twice");
    // a re-sent batch counts nothing twice; a new one from the same device adds its own
    s.ingest(&batch, Some(&device), at(5)).unwrap();
    let more: Vec<Accepted> = (0..3u128)
        .map(|n| {
            let who = Respondent {
                population: "teacher",
                sex: "female",
                age: 17 + 20 * n as i64,
                education: "college",
                industry: "education",
                ability: 95,
                straight_line: false,
            };
            let answers = generate::answers(&q, &who, &mut rng);
            let i = generate::interview(&q, Uuid::from_u128(950 + n), answers, start, 1500, None);
            let score = q.score(&i.answers);
            Accepted::new(&q, i, score)
        })
        .collect();
    s.ingest(&more, Some(&device), at(6)).unwrap();
    s.ingest(&more[..1], None, at(6)).unwrap();
    cells_match_interviews(s.as_ref(), "after a re-sent batch and one without a site");
    // one id twice in a batch, and a third time with other answers: stored (and counted) once
    let mut other = more[1].clone();
    other.interview.id = Uuid::from_u128(960);
    other.interview = other.interview.sealed();
    let mut conflicting = more[2].clone();
    conflicting.interview.id = Uuid::from_u128(960);
    conflicting.interview = conflicting.interview.sealed();
    assert_ne!(
        other.interview.content_hash,
        conflicting.interview.content_hash
    );
    let receipts = s
        .ingest(&[other.clone(), conflicting, other], Some(&device), at(7))
        .unwrap();
    assert_eq!(
        statuses(&receipts),
        [
            ReceiptStatus::Stored,
            ReceiptStatus::Conflict,
            ReceiptStatus::AlreadyStored
        ]
    );
    cells_match_interviews(s.as_ref(), "after one id three times in a batch");
    // decisions on one interview racing each other (two reviewers, a double click): each is
    // applied after the one before, so the cells still count what the last one left
    for round in 0..8 {
        s.review(
            &Scope::All,
            Uuid::from_u128(902),
            &reject,
            &audit("review_interview"),
        )
        .unwrap()
        .unwrap();
        std::thread::scope(|threads| {
            for t in 0..4 {
                let decision = if (t + round) % 3 == 0 { &reject } else { &undo };
                let storage = s.as_ref();
                threads.spawn(move || {
                    storage
                        .review(
                            &Scope::All,
                            Uuid::from_u128(902),
                            decision,
                            &audit("review_interview"),
                        )
                        .unwrap()
                        .unwrap()
                });
            }
        });
        cells_match_interviews(
            s.as_ref(),
            &format!("after racing decisions, round {round}"),
        );
    }
    // rebuilding gives the same cells; so does the migration that adds them, on a database
    // that already holds interviews
    let before = stored_cells(s.as_ref());
    s.rebuild_cells(&audit("rebuild_cells")).unwrap();
    assert_eq!(stored_cells(s.as_ref()), before);
    cells_match_interviews(s.as_ref(), "after rebuilding the cells");
    // back to schema 6: without the cells, and without what later migrations add
    (f.execute)("DROP INDEX IF EXISTS interview_qc_queue; ALTER TABLE interview DROP COLUMN travel_direction; ALTER TABLE site DROP COLUMN time_slots; DROP TABLE literacy_cell; DROP TABLE progress_cell; DROP TABLE sign_in_attempt; DROP TABLE readiness; DROP TABLE recording; DROP TABLE media_blob; DROP TABLE rate_bucket; DROP TABLE reference_level; DROP INDEX interview_without_measures; ALTER TABLE interview DROP COLUMN employer_size; ALTER TABLE interview DROP COLUMN ownership; ALTER TABLE interview DROP COLUMN employment_form; ALTER TABLE interview DROP COLUMN migrant; ALTER TABLE interview DROP COLUMN modules; ALTER TABLE interview DROP COLUMN measures; DROP TABLE erased_interview; DROP TABLE recontact; ALTER TABLE interview DROP COLUMN consent; ALTER TABLE interview DROP COLUMN consent_text_version; DROP TABLE contact; DROP TABLE facts_generation; DROP TABLE outreach_event; DROP TABLE quiz_session; DROP TABLE library_piece; DROP TABLE practice_interview; DROP TABLE field_surveyor; DROP TABLE backcheck_task; DROP TABLE backcheck_draw; DROP TABLE app_package; DROP TABLE item_cell;");
    (f.set_version)(6);
    let migrated = f.reopen().unwrap();
    assert_eq!(
        migrated.schema_version().unwrap(),
        s.schema_version().unwrap()
    );
    assert_eq!(stored_cells(migrated.as_ref()), before);
    cells_match_interviews(migrated.as_ref(), "after the migration");
    assert!(before.len() > 20, "{before:?}");

    // people can be listed, disabled and enabled
    let person = Person {
        id: Uuid::from_u128(5),
        username: "p".into(),
        display_name: "某人".into(),
        role: Role::Supervisor {
            district: "yuzhong".into(),
        },
        created_at: at(0),
    };
    assert!(s
        .add_person(&person, &hash_password("password-1234"), &audit("test"))
        .unwrap());
    assert!(s
        .set_person_disabled("p", Some(at(4)), &audit("test"))
        .unwrap());
    assert!(!s
        .set_person_disabled("nobody", Some(at(4)), &audit("test"))
        .unwrap());
    assert_eq!(s.people().unwrap(), vec![(person.clone(), Some(at(4)))]);
    assert!(
        s.person_for_login("p").unwrap().is_none(),
        "disabled people cannot sign in"
    );
    assert!(s.set_person_disabled("p", None, &audit("test")).unwrap());
    assert!(s.person_for_login("p").unwrap().is_some());

    // round settings and what a device reports
    assert_eq!(s.round_settings("2026").unwrap(), None);
    let settings = zhisu_protocol::RoundSettings {
        show_answer_key: false,
        quality: zhisu_core::QcThresholds {
            min_seconds_per_item: 5.0,
            ..Default::default()
        },
        ..Default::default()
    };
    s.set_round_settings("2026", &settings, &audit("test"))
        .unwrap();
    s.set_round_settings("2026", &settings, &audit("test"))
        .unwrap();
    assert_eq!(s.round_settings("2026").unwrap(), Some(settings));
    s.note_pending(device.id, 12).unwrap();
    assert_eq!(s.device(device.id).unwrap().unwrap().pending, Some(12));
    // the same count again (written only when it changes), then a new one, then none left
    s.note_pending(device.id, 12).unwrap();
    assert_eq!(s.device(device.id).unwrap().unwrap().pending, Some(12));
    s.note_pending(device.id, 3).unwrap();
    assert_eq!(s.device(device.id).unwrap().unwrap().pending, Some(3));
    s.note_pending(device.id, 0).unwrap();
    assert_eq!(s.device(device.id).unwrap().unwrap().pending, Some(0));
}

/// An interview the service placed at a site of another district (`Accepted::site_district`)
/// is stored, scoped and counted under the site's district, with the site's stratum and weight,
/// whichever device sent it; its re-send is recognised and counted once.
fn site_district_conformance(f: &Fresh) {
    use zhisu_server_tests::generate::{self, Respondent, Rng};
    let s = &f.storage;
    let q = zhisu_core::Questionnaire::from_toml(
        "ohl_2026.toml",
        include_str!("../../../questionnaires/ohl_2026.toml"),
    )
    .unwrap();
    let site = |id: &str, district: &str, weight: f64| zhisu_protocol::Site {
        id: id.into(),
        district: district.into(),
        name: "工地".into(),
        site_type: "enterprise".into(),
        stratum: Some("large".into()),
        weight: Some(weight),
        ..Default::default()
    };
    s.replace_sites("yuzhong", &[site("yz-1", "yuzhong", 40.0)], &audit("test"))
        .unwrap();
    s.replace_sites(
        "jiangbei",
        &[site("jb-1", "jiangbei", 25.0)],
        &audit("test"),
    )
    .unwrap();
    let code = hash_code("SITE-DISTRICT");
    s.add_enrolment_code(&code, "2026", "yuzhong", at(59), at(0), &audit("test"))
        .unwrap();
    let device = s
        .enrol(
            &code,
            Uuid::from_u128(78),
            "平板",
            &hash_token("t-sd"),
            at(1),
        )
        .unwrap()
        .unwrap();
    let who = Respondent {
        population: "construction",
        sex: "male",
        age: 33,
        education: "junior",
        industry: "construction",
        ability: 80,
        straight_line: false,
    };
    let start = Utc.with_ymd_and_hms(2026, 11, 28, 23, 0, 0).unwrap();
    let accepted = |n: u128, site_id: &str, site_district: Option<&str>| {
        let answers = generate::answers(&q, &who, &mut Rng::new(n as u64));
        let i = generate::interview(&q, Uuid::from_u128(n), answers, start, 1500, Some(site_id));
        let score = q.score(&i.answers);
        let mut a = Accepted::new(&q, i, score);
        a.site_district = site_district.map(str::to_string);
        a
    };
    let batch = vec![
        accepted(1001, "yz-1", None),
        accepted(1002, "jb-1", Some("jiangbei")),
    ];
    assert_eq!(batch[1].district(Some(&device)), Some("jiangbei"));
    assert_eq!(batch[0].district(Some(&device)), Some("yuzhong"));
    let receipts = s.ingest(&batch, Some(&device), at(2)).unwrap();
    assert!(receipts.iter().all(|r| r.status == ReceiptStatus::Stored));
    // a re-send changes nothing
    let receipts = s.ingest(&batch, Some(&device), at(3)).unwrap();
    assert!(receipts
        .iter()
        .all(|r| r.status == ReceiptStatus::AlreadyStored));

    let mut seen = Vec::new();
    s.visit_facts(&Scope::All, "ohl_2026", &mut |r| {
        seen.push((
            r.site_id.map(str::to_string),
            r.district.map(str::to_string),
            r.stratum.map(str::to_string),
            r.weight,
        ))
    })
    .unwrap();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        seen,
        vec![
            (
                Some("jb-1".to_string()),
                Some("jiangbei".to_string()),
                Some("large".to_string()),
                Some(25.0)
            ),
            (
                Some("yz-1".to_string()),
                Some("yuzhong".to_string()),
                Some("large".to_string()),
                Some(40.0)
            ),
        ]
    );
    let in_jiangbei = s.interviews(&Scope::District("jiangbei".into())).unwrap();
    assert_eq!(in_jiangbei.len(), 1);
    assert_eq!(in_jiangbei[0].interview.id, Uuid::from_u128(1002));
    assert_eq!(in_jiangbei[0].district.as_deref(), Some("jiangbei"));
    // the literacy cell of jb-1 is jiangbei's and carries the site's weight
    let mut weights = Vec::new();
    s.visit_cells("ohl_2026", &mut |c| {
        if c.breakdown == zhisu_server_storage::cells::ALL {
            weights.push((
                c.district.map(str::to_string),
                c.site_id.map(str::to_string),
                c.n,
                c.weight,
            ));
        }
    })
    .unwrap();
    weights.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        weights
            .iter()
            .map(|w| (w.0.as_deref(), w.1.as_deref(), w.2, w.3))
            .collect::<Vec<_>>(),
        vec![
            (Some("jiangbei"), Some("jb-1"), 1, Some(25.0)),
            (Some("yuzhong"), Some("yz-1"), 1, Some(40.0)),
        ]
    );
    cells_match_interviews(s.as_ref(), "after an interview placed in another district");
}

type CellMap = std::collections::BTreeMap<(String, String, String, String, String), (u64, u64)>;

/// The stored literacy cells of `ohl_2026`: (district, site, population, breakdown, key) → (n,
/// successes).
fn stored_cells(s: &dyn Storage) -> CellMap {
    let mut cells = CellMap::new();
    s.visit_cells("ohl_2026", &mut |c| {
        let old = cells.insert(
            (
                c.district.unwrap_or("").to_string(),
                c.site_id.unwrap_or("").to_string(),
                c.population.unwrap_or("").to_string(),
                c.breakdown.to_string(),
                c.key.to_string(),
            ),
            (c.n, c.successes),
        );
        assert!(old.is_none(), "one row per cell");
    })
    .unwrap();
    cells
}

/// The cells are the counts of the interviews `visit_facts` shows, counted afresh.
fn cells_match_interviews(s: &dyn Storage, when: &str) {
    let counted = zhisu_server_storage::cells::CellChanges::of_facts(s, "ohl_2026").unwrap();
    let want: CellMap = counted
        .iter()
        .map(|(k, n, successes)| {
            (
                (
                    k.district.to_string(),
                    k.site_id.to_string(),
                    k.population.to_string(),
                    k.breakdown.to_string(),
                    k.key.to_string(),
                ),
                (n as u64, successes as u64),
            )
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(stored_cells(s), want, "{when}");

    // items: per version, district, site, population and scored item, asked and answered
    // correctly (items no interview of the cell was asked left out: a cell keeps a count of 0
    // once the interviews that made it are gone)
    type ItemCell = (String, String, String, String, usize);
    let mut want_items: std::collections::BTreeMap<ItemCell, (u64, u64)> = Default::default();
    for (k, counts) in counted.items() {
        for (position, &(asked, correct)) in counts.iter().enumerate() {
            if asked != 0 || correct != 0 {
                let key = (
                    k.questionnaire_version.to_string(),
                    k.district.to_string(),
                    k.site_id.to_string(),
                    k.population.to_string(),
                    position,
                );
                want_items.insert(key, (asked as u64, correct as u64));
            }
        }
    }
    assert!(!want_items.is_empty());
    let mut stored_items = std::collections::BTreeMap::new();
    let mut cells_seen = std::collections::BTreeSet::new();
    s.visit_item_cells("ohl_2026", &mut |c| {
        let cell = (
            c.questionnaire_version.to_string(),
            c.district.unwrap_or("").to_string(),
            c.site_id.unwrap_or("").to_string(),
            c.population.unwrap_or("").to_string(),
        );
        assert!(cells_seen.insert(cell.clone()), "one row per item cell");
        assert_eq!(c.asked.len(), c.correct.len(), "{cell:?}");
        for (position, (&asked, &correct)) in c.asked.iter().zip(c.correct).enumerate() {
            assert!(correct <= asked, "{cell:?} item {position}");
            if asked != 0 || correct != 0 {
                let key = (
                    cell.0.clone(),
                    cell.1.clone(),
                    cell.2.clone(),
                    cell.3.clone(),
                    position,
                );
                stored_items.insert(key, (asked, correct));
            }
        }
    })
    .unwrap();
    assert_eq!(stored_items, want_items, "item cells {when}");

    // progress: interviews not rejected, per district, site, population and local day
    type Day = (Option<String>, Option<String>, Option<String>, String);
    let mut want: std::collections::BTreeMap<Day, u64> = Default::default();
    for i in s.interviews(&Scope::All).unwrap() {
        if i.qc_status.as_deref() == Some("rejected") {
            continue;
        }
        let day = zhisu_server_storage::cells::local_day(
            i.interview.completed_at,
            i.interview.utc_offset_minutes,
            i.received_at,
        );
        *want
            .entry((i.district, i.interview.site_id, i.population, day))
            .or_default() += 1;
    }
    let scoped = |scope: &Scope| -> std::collections::BTreeMap<Day, u64> {
        s.progress(scope)
            .unwrap()
            .into_iter()
            .map(|c| ((c.district, c.site_id, c.population, c.day), c.count))
            .collect()
    };
    assert_eq!(scoped(&Scope::All), want, "{when}");
    let teachers = want
        .iter()
        .filter(|(k, _)| k.2.as_deref() == Some("teacher"))
        .map(|(k, n)| (k.clone(), *n))
        .collect();
    assert_eq!(
        scoped(&Scope::Populations(vec!["teacher".into()])),
        teachers,
        "{when}"
    );
    let yuzhong = want
        .iter()
        .filter(|(k, _)| k.0.as_deref() == Some("yuzhong"))
        .map(|(k, n)| (k.clone(), *n))
        .collect();
    assert_eq!(
        scoped(&Scope::District("yuzhong".into())),
        yuzhong,
        "{when}"
    );
}

impl Fresh {
    fn reopen(&self) -> Result<Box<dyn Storage>, StorageError> {
        (self.reopen)()
    }
}

#[test]
fn sqlite_backend_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    conformance(&mut |name| {
        let path = root.join(format!("{name}.sqlite3"));
        let storage = SqliteStorage::open(&path).unwrap();
        let reopen_path = path.clone();
        let version_path = path.clone();
        Fresh {
            storage: Arc::new(storage),
            reopen: Box::new(move || {
                Ok(Box::new(SqliteStorage::open(&reopen_path)?) as Box<dyn Storage>)
            }),
            set_version: Box::new(move |v| {
                rusqlite::Connection::open(&version_path)
                    .unwrap()
                    .pragma_update(None, "user_version", v as i64)
                    .unwrap();
            }),
            execute: Box::new(move |sql| {
                rusqlite::Connection::open(&path)
                    .unwrap()
                    .execute_batch(sql)
                    .unwrap();
            }),
        }
    });
}

#[test]
fn postgres_backend_passes_the_conformance_suite() {
    let server = TestPostgres::start();
    conformance(&mut |name| {
        let url = server.fresh_database(&format!("conformance_{name}"));
        let storage = PostgresStorage::open(&url, 8).unwrap();
        let reopen_url = url.clone();
        Fresh {
            storage: Arc::new(storage),
            reopen: Box::new(move || {
                Ok(Box::new(PostgresStorage::open(&reopen_url, 2)?) as Box<dyn Storage>)
            }),
            set_version: Box::new({
                let url = url.clone();
                move |v| {
                    postgres::Client::connect(&url, postgres::NoTls)
                        .unwrap()
                        .execute("UPDATE zhisu_schema SET version = $1", &[&(v as i32)])
                        .unwrap();
                }
            }),
            execute: Box::new(move |sql| {
                postgres::Client::connect(&url, postgres::NoTls)
                    .unwrap()
                    .batch_execute(sql)
                    .unwrap();
            }),
        }
    });
    drop(server);
}

/// Tables, columns, types, nullability and indexes, as PostgreSQL's catalog reports them.
fn pg_schema(client: &mut postgres::Client) -> Vec<String> {
    let columns = client
        .query(
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable
             FROM information_schema.columns WHERE table_schema = 'public'
             ORDER BY table_name, column_name",
            &[],
        )
        .unwrap();
    let indexes = client
        .query(
            "SELECT indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname",
            &[],
        )
        .unwrap();
    columns
        .iter()
        .chain(indexes.iter())
        .map(|r| r.get::<_, String>(0))
        .collect()
}

#[test]
fn postgres_every_historic_version_migrates_to_the_fresh_schema() {
    use zhisu_server_postgres::MIGRATIONS;
    let server = TestPostgres::start();
    let fresh_url = server.fresh_database("migrations_fresh");
    PostgresStorage::open(&fresh_url, 1).unwrap();
    let fresh = pg_schema(&mut postgres::Client::connect(&fresh_url, postgres::NoTls).unwrap());
    for start in 0..=MIGRATIONS.len() {
        let url = server.fresh_database(&format!("migrations_from_{start}"));
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        client
            .batch_execute(
                "CREATE TABLE zhisu_schema (version INTEGER NOT NULL); INSERT INTO zhisu_schema VALUES (0);",
            )
            .unwrap();
        for (i, sql) in MIGRATIONS.iter().enumerate().take(start) {
            client.batch_execute(sql).unwrap();
            client
                .execute("UPDATE zhisu_schema SET version = $1", &[&((i + 1) as i32)])
                .unwrap();
        }
        let storage = PostgresStorage::open(&url, 1).unwrap();
        assert_eq!(storage.schema_version().unwrap(), MIGRATIONS.len());
        assert_eq!(pg_schema(&mut client), fresh, "from version {start}");
    }
}

/// SQLite writes concurrent batches together (group commit, one fsync for many): a batch that
/// fails inside such a group is stored not at all, and the batches beside it are unaffected.
#[test]
fn sqlite_group_commit_keeps_each_batch_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("group.sqlite3");
    let s = Arc::new(SqliteStorage::open(&path).unwrap());
    // a trigger that refuses one particular interview, as a disk or constraint error would
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(&format!(
            "CREATE TRIGGER poison BEFORE INSERT ON interview WHEN NEW.id = '{}'
             BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;",
            Uuid::from_u128(7_005)
        ))
        .unwrap();
    let threads: Vec<_> = (0..24u128)
        .map(|t| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                let batch: Vec<Accepted> = (0..10).map(|i| interview(t * 1_000 + i, 30)).collect();
                (t, s.ingest(&batch, None, at(0)))
            })
        })
        .collect();
    let mut failed = Vec::new();
    for thread in threads {
        let (t, result) = thread.join().unwrap();
        match result {
            Ok(receipts) => {
                assert_eq!(receipts.len(), 10);
                for (i, r) in receipts.iter().enumerate() {
                    assert_eq!(
                        r.interview_id,
                        Uuid::from_u128(t * 1_000 + i as u128),
                        "batch order"
                    );
                    assert_eq!(r.status, ReceiptStatus::Stored);
                }
            }
            Err(_) => failed.push(t),
        }
    }
    assert_eq!(failed, vec![7], "only the batch with the refused row fails");
    assert_eq!(
        s.interview_count().unwrap(),
        230,
        "23 whole batches, nothing of the failed one"
    );
    for i in 0..10 {
        assert!(!s.contains(Uuid::from_u128(7_000 + i)).unwrap());
    }
}
/// Every literacy cell of the pilot, as text.
fn pilot_cells(s: &dyn Storage) -> Vec<String> {
    let mut cells = Vec::new();
    s.visit_cells("ohl_pilot", &mut |c| cells.push(format!("{c:?}")))
        .unwrap();
    cells
}

/// A practice interview of surveyor training (issue 24) for storage: `interview(n, age)`
/// marked as practice and sealed again, with a too-fast flag.
fn practice(n: u128, age: i64) -> AcceptedPractice {
    let mut one = interview(n, age);
    one.interview.practice = true;
    one.interview.surveyor_id = Some("trainee-1".into());
    let interview = one.interview.sealed();
    AcceptedPractice {
        interview,
        score: one.score,
        flags: vec![zhisu_core::QcFlag::TooFast {
            seconds_per_item: 1.5,
            minimum: 3.0,
            items: 4,
        }],
        population: None,
    }
}

/// Practice interviews (issue 24): stored once by id and content hash in their own table; a
/// changed one, or one with a survey interview's id, is a conflict; read back in scope with
/// their flags; and no reader of the survey sees them (interviews, pages, facts, cells,
/// progress, the quality-control queue and counts, the quality table, contacts).
fn practice_conformance(s: &dyn Storage) {
    use ReceiptStatus::*;
    let device = Device {
        id: Uuid::from_u128(78),
        name: "培训平板".into(),
        round: "2026".into(),
        district: "yuzhong".into(),
        enrolled_at: at(0),
        revoked_at: None,
        last_seen_at: None,
        pending: None,
    };
    let mut real = interview(60, 30);
    real.interview.surveyor_id = Some("trainee-1".into());
    real.interview = real.interview.sealed();
    s.ingest(&[real], Some(&device), at(1)).unwrap();
    // re-contact details may come only from the device that sent the interview; a practice
    // interview is no survey interview: none may be kept for it
    assert_eq!(
        s.recontact_target(Uuid::from_u128(60)).unwrap(),
        Some(zhisu_server_storage::RecontactTarget {
            device_id: Some(device.id),
            kept: false
        })
    );
    let survey_before = (
        s.interviews(&Scope::All).unwrap(),
        s.progress(&Scope::All).unwrap(),
        pilot_cells(s),
        s.qc_counts(&Scope::All).unwrap(),
    );

    let batch = vec![practice(61, 30), practice(62, 40)];
    assert_eq!(
        statuses(&s.ingest_practice(&batch, Some(&device), at(2)).unwrap()),
        vec![Stored, Stored]
    );
    assert_eq!(
        statuses(&s.ingest_practice(&batch, Some(&device), at(3)).unwrap()),
        vec![AlreadyStored, AlreadyStored],
        "a re-send is recognised: stored exactly once"
    );
    let survey_id = practice(60, 30);
    let receipts = s
        .ingest_practice(&[practice(61, 31), survey_id], Some(&device), at(4))
        .unwrap();
    assert_eq!(statuses(&receipts), vec![Conflict, Conflict]);
    assert_eq!(receipts[0].code.as_deref(), Some("different_content"));

    let stored = s.practice_interviews(&Scope::All).unwrap();
    assert_eq!(
        stored.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![Uuid::from_u128(61), Uuid::from_u128(62)]
    );
    let first = &stored[0];
    assert_eq!(first.district.as_deref(), Some("yuzhong"));
    assert_eq!(first.device_id, Some(device.id));
    assert_eq!(s.recontact_target(first.id).unwrap(), None);
    assert_eq!(first.surveyor_id.as_deref(), Some("trainee-1"));
    assert_eq!(first.site_id.as_deref(), Some("site-1"));
    assert_eq!((first.score, first.max_score), (3, 4));
    assert_eq!(first.duration_s, 9 * 60);
    assert_eq!(first.received_at, at(2));
    assert_eq!(first.completed_at, batch[0].interview.completed_at);
    assert_eq!(first.flags, batch[0].flags);
    assert_eq!(
        s.practice_interviews(&Scope::District("yuzhong".into()))
            .unwrap()
            .len(),
        2
    );
    assert!(s
        .practice_interviews(&Scope::District("wanzhou".into()))
        .unwrap()
        .is_empty());
    assert!(s
        .practice_interviews(&Scope::Populations(vec!["teacher".into()]))
        .unwrap()
        .is_empty());
    let mut found = s
        .practice_ids(&[
            Uuid::from_u128(60),
            Uuid::from_u128(62),
            Uuid::from_u128(99),
        ])
        .unwrap();
    found.sort();
    assert_eq!(found, vec![Uuid::from_u128(62)]);

    // no reader of the survey sees them
    assert_eq!(s.interview_count().unwrap(), 1);
    let survey_after = (
        s.interviews(&Scope::All).unwrap(),
        s.progress(&Scope::All).unwrap(),
        pilot_cells(s),
        s.qc_counts(&Scope::All).unwrap(),
    );
    assert_eq!(survey_after, survey_before);
    assert_eq!(s.interviews_page(&Scope::All, None, 10).unwrap().len(), 1);
    let mut facts = 0;
    s.visit_facts(&Scope::All, "ohl_pilot", &mut |_| facts += 1)
        .unwrap();
    assert_eq!(facts, 1);
    assert!(s
        .qc_queue(&Scope::All, None, 100)
        .unwrap()
        .iter()
        .all(|e| e.id == Uuid::from_u128(60)));
    assert_eq!(s.quality_rows(&Scope::All).unwrap().len(), 1);
    assert!(s.contact_counts(&Scope::All).unwrap().is_empty());
    assert!(!s.contains(Uuid::from_u128(61)).unwrap());
    // the real interviews per surveyor, for the trainees' record
    let starts = s.surveyor_starts(&Scope::All).unwrap();
    assert_eq!(starts.len(), 1);
    assert_eq!(
        (
            starts[0].district.as_deref(),
            starts[0].surveyor_id.as_deref(),
            starts[0].interviews
        ),
        (Some("yuzhong"), Some("trainee-1"), 1)
    );
    assert_eq!(
        starts[0].first_completed_at,
        interview(60, 30).interview.completed_at
    );
    assert!(s
        .surveyor_starts(&Scope::District("wanzhou".into()))
        .unwrap()
        .is_empty());
}

/// Surveyors managed on the server (issue 15): added once by id (never reused, a retired one's
/// too), a new PIN and retirement only for active ones, read by district, each change audited
/// in its transaction and only when something changed.
fn field_surveyor_conformance(s: &dyn Storage) {
    use zhisu_server_storage::FieldSurveyor;
    let count = |action: &str| {
        s.audit_log(1000)
            .unwrap()
            .iter()
            .filter(|e| e.action == action)
            .count()
    };
    let surveyor = |id: &str, district: &str, name: &str| FieldSurveyor {
        id: id.into(),
        district: district.into(),
        name: name.into(),
        pin_verifier: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${id}"),
        added_by: "yz_admin".into(),
        added_at: at(1),
        pin_set_at: at(1),
        retired_at: None,
    };
    assert_eq!(s.field_surveyors(None).unwrap(), vec![]);
    assert_eq!(s.field_surveyor("sv-1").unwrap(), None);
    let a = surveyor("sv-b", "yuzhong", "张三");
    let b = surveyor("sv-a", "yuzhong", "李四");
    let c = surveyor("sv-c", "jiangbei", "王五 \"老王\"");
    for x in [&a, &b, &c] {
        assert!(s.add_field_surveyor(x, &audit("add_surveyor")).unwrap());
    }
    // an id is taken once, in any district
    let mut again = surveyor("sv-b", "jiangbei", "别人");
    assert!(!s
        .add_field_surveyor(&again, &audit("add_surveyor"))
        .unwrap());
    assert_eq!(count("add_surveyor"), 3, "a refused add is not audited");
    assert_eq!(
        s.field_surveyors(Some("yuzhong")).unwrap(),
        vec![b.clone(), a.clone()],
        "by id within the district"
    );
    assert_eq!(
        s.field_surveyors(Some("jiangbei")).unwrap(),
        vec![c.clone()]
    );
    assert_eq!(s.field_surveyors(Some("wanzhou")).unwrap(), vec![]);
    assert_eq!(
        s.field_surveyors(None).unwrap(),
        vec![c.clone(), b.clone(), a.clone()],
        "by district, then id"
    );
    assert_eq!(s.field_surveyor("sv-c").unwrap(), Some(c.clone()));

    // a new PIN
    assert!(s
        .set_field_surveyor_pin("sv-b", "$argon2id$new", at(5), &audit("set_surveyor_pin"))
        .unwrap());
    let reset = s.field_surveyor("sv-b").unwrap().unwrap();
    assert_eq!(
        (
            reset.pin_verifier.as_str(),
            reset.pin_set_at,
            reset.added_at
        ),
        ("$argon2id$new", at(5), at(1))
    );
    assert!(!s
        .set_field_surveyor_pin("sv-none", "$argon2id$x", at(5), &audit("set_surveyor_pin"))
        .unwrap());
    assert_eq!(count("set_surveyor_pin"), 1);

    // retired: kept, once, and no new PIN after
    assert!(s
        .retire_field_surveyor("sv-b", at(7), &audit("retire_surveyor"))
        .unwrap());
    assert!(!s
        .retire_field_surveyor("sv-b", at(8), &audit("retire_surveyor"))
        .unwrap());
    assert!(!s
        .set_field_surveyor_pin("sv-b", "$argon2id$later", at(9), &audit("set_surveyor_pin"))
        .unwrap());
    assert_eq!(
        (count("retire_surveyor"), count("set_surveyor_pin")),
        (1, 1)
    );
    let retired = s.field_surveyor("sv-b").unwrap().unwrap();
    assert_eq!(retired.retired_at, Some(at(7)));
    assert_eq!(retired.pin_verifier, "$argon2id$new");
    again.id = "sv-b".into();
    assert!(
        !s.add_field_surveyor(&again, &audit("add_surveyor"))
            .unwrap(),
        "a retired surveyor's id is not reused"
    );
    assert_eq!(s.field_surveyors(Some("yuzhong")).unwrap().len(), 2);
}

/// Back-checks (issue 15): the candidates of a draw (the round's interviews, not rejected, with
/// re-contact details, not drawn before), a draw stored whole or not at all, the tasks read in
/// scope with the interview's answers kept, a result stored once by content hash (a re-send is
/// already stored, another result a conflict), and a task erased with its interview.
fn backcheck_conformance(s: &dyn Storage) {
    use zhisu_server_storage::{BackcheckDraw, BackcheckResult, BackcheckTask};
    let code = hash_code("BCK1-BCK2");
    s.add_enrolment_code(&code, "2026", "yuzhong", at(30), at(0), &audit("test"))
        .unwrap();
    let device = s
        .enrol(
            &code,
            Uuid::from_u128(79),
            "渝中复核平板",
            &hash_token("bck"),
            at(1),
        )
        .unwrap()
        .unwrap();
    let batch: Vec<Accepted> = (70..77u128)
        .map(|n| {
            let mut one = interview(n, 30 + n as i64);
            one.interview.surveyor_id = Some(if n % 2 == 0 { "wang" } else { "li" }.into());
            one.interview = one.interview.sealed();
            one
        })
        .collect();
    s.ingest(&batch, Some(&device), at(2)).unwrap();
    for n in 70..76u128 {
        let details = zhisu_server_storage::RecontactDetails {
            interview_id: Uuid::from_u128(n),
            contact: format!("1390000{n:04}"),
            consent_text_version: "sha256:00".into(),
            stored_at: at(3),
            delete_after: Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap(),
        };
        assert!(s.put_recontact(&details, &audit("put_recontact")).unwrap());
    }
    s.review(
        &Scope::All,
        Uuid::from_u128(75),
        &zhisu_server_storage::Review {
            status: zhisu_server_storage::QcStatus::Rejected,
            comment: "重复".into(),
            reviewer: "tester".into(),
            at: at(4),
        },
        &audit("review"),
    )
    .unwrap()
    .unwrap();
    let ids = |c: &[zhisu_server_storage::BackcheckCandidate]| {
        c.iter()
            .map(|c| c.interview_id.as_u128())
            .collect::<Vec<_>>()
    };
    // 75 rejected, 76 without re-contact consent
    let candidates = s.backcheck_candidates("2026", None).unwrap();
    assert_eq!(ids(&candidates), vec![70, 71, 72, 73, 74]);
    assert_eq!(candidates[0].surveyor_id.as_deref(), Some("wang"));
    assert_eq!(candidates[0].district.as_deref(), Some("yuzhong"));
    assert_eq!(candidates[0].questionnaire_id, "ohl_pilot");
    assert_eq!(candidates[0].answers["age"], AnswerValue::Integer(100));
    assert_eq!(
        ids(&s.backcheck_candidates("2026", Some("yuzhong")).unwrap()).len(),
        5
    );
    assert!(s
        .backcheck_candidates("2026", Some("jiangbei"))
        .unwrap()
        .is_empty());
    assert!(s.backcheck_candidates("2025", None).unwrap().is_empty());

    let draw = |id: u128| BackcheckDraw {
        id: Uuid::from_u128(id),
        round: "2026".into(),
        district: Some("yuzhong".into()),
        seed: u64::MAX - 1,
        drawn_at: at(5),
        drawn_by: "tester".into(),
        candidates: 5,
        drawn: 2,
    };
    let task = |id: u128, draw: u128, interview: u128| {
        let mut original = Answers::new();
        original.insert("age".into(), AnswerValue::Integer(30 + interview as i64));
        BackcheckTask {
            id: Uuid::from_u128(id),
            draw_id: Uuid::from_u128(draw),
            interview_id: Uuid::from_u128(interview),
            round: "2026".into(),
            district: Some("yuzhong".into()),
            original_surveyor: Some("wang".into()),
            questionnaire_id: "ohl_pilot".into(),
            questionnaire_version: "2026.1".into(),
            items: vec!["age".into()],
            original,
            drawn_at: at(5),
            result: None,
        }
    };
    assert!(s
        .store_backcheck_draw(
            &draw(900),
            &[task(901, 900, 70), task(902, 900, 72)],
            &audit("draw_backchecks")
        )
        .unwrap());
    // a draw taking an interview drawn before stores nothing
    assert!(!s
        .store_backcheck_draw(
            &draw(910),
            &[task(911, 910, 74), task(912, 910, 70)],
            &audit("draw_backchecks")
        )
        .unwrap());
    let draws = s.backcheck_draws("2026").unwrap();
    assert_eq!(draws, vec![draw(900)], "the seed and counts read back");
    assert!(s.backcheck_draws("2025").unwrap().is_empty());
    assert_eq!(
        ids(&s.backcheck_candidates("2026", None).unwrap()),
        vec![71, 73, 74],
        "drawn interviews are not drawn again; 74 was not taken by the refused draw"
    );
    let tasks = s.backcheck_tasks(&Scope::All).unwrap();
    assert_eq!(tasks, vec![task(901, 900, 70), task(902, 900, 72)]);
    assert_eq!(
        s.backcheck_tasks(&Scope::District("yuzhong".into()))
            .unwrap()
            .len(),
        2
    );
    assert!(s
        .backcheck_tasks(&Scope::District("jiangbei".into()))
        .unwrap()
        .is_empty());
    assert!(s
        .backcheck_tasks(&Scope::Populations(vec!["teacher".into()]))
        .unwrap()
        .is_empty());
    assert_eq!(
        s.backcheck_task(&Scope::All, Uuid::from_u128(901)).unwrap(),
        Some(task(901, 900, 70))
    );
    assert_eq!(
        s.backcheck_task(&Scope::District("jiangbei".into()), Uuid::from_u128(901))
            .unwrap(),
        None
    );

    let mut answers = Answers::new();
    answers.insert("age".into(), AnswerValue::Integer(99));
    let result = BackcheckResult {
        surveyor_id: "li".into(),
        via: "tablet".into(),
        reached: true,
        answers,
        content_hash: "sha256:aa".into(),
        completed_at: at(6),
        received_at: at(7),
        agreed: 0,
        compared: 1,
        failed: true,
        differences: vec![zhisu_core::BackcheckDifference {
            item: "age".into(),
            original: "100".into(),
            recheck: "99".into(),
        }],
    };
    let record = |scope: &Scope, id: u128, r: &BackcheckResult| {
        s.record_backcheck_result(scope, Uuid::from_u128(id), r, &audit("record_backcheck"))
            .unwrap()
    };
    let audited = || {
        s.audit_log(1000)
            .unwrap()
            .iter()
            .filter(|e| e.action == "record_backcheck")
            .count()
    };
    assert_eq!(
        record(&Scope::District("jiangbei".into()), 901, &result),
        None
    );
    assert_eq!(record(&Scope::All, 999, &result), None);
    assert_eq!(audited(), 0);
    assert_eq!(
        record(&Scope::All, 901, &result),
        Some(ReceiptStatus::Stored)
    );
    assert_eq!(
        record(&Scope::District("yuzhong".into()), 901, &result),
        Some(ReceiptStatus::AlreadyStored)
    );
    let mut other = result.clone();
    other.content_hash = "sha256:bb".into();
    other.failed = false;
    assert_eq!(
        record(&Scope::All, 901, &other),
        Some(ReceiptStatus::Conflict)
    );
    assert_eq!(audited(), 1, "only the stored result is audited");
    let stored = s
        .backcheck_task(&Scope::All, Uuid::from_u128(901))
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.result,
        Some(result),
        "the first result is kept, exactly"
    );
    assert_eq!(
        s.backcheck_task(&Scope::All, Uuid::from_u128(902))
            .unwrap()
            .unwrap()
            .result,
        None
    );

    // erasing an interview takes its back-check with it
    assert!(s
        .erase_interview(Uuid::from_u128(70), at(8), &audit("erase_interview"))
        .unwrap());
    assert_eq!(
        s.backcheck_tasks(&Scope::All)
            .unwrap()
            .iter()
            .map(|t| t.id.as_u128())
            .collect::<Vec<_>>(),
        vec![902]
    );
}

fn package(version: &str, platform: &str, bytes: &[u8], minute: u32) -> StoredPackage {
    StoredPackage {
        id: 0,
        version: version.into(),
        platform: platform.into(),
        size: bytes.len() as u64,
        sha256: zhisu_protocol::media_hash(bytes),
        signature: "c2ln".into(),
        notes_zh: format!("{version} 修正"),
        notes_en: format!("{version} fixes"),
        uploaded_at: at(minute),
        uploaded_by: "city".into(),
    }
}

/// App packages (issue 22): kept with their bytes and audit entry, listed newest upload first
/// without bytes, one per platform and version (a second is refused with no entry).
fn package_conformance(s: &dyn Storage) {
    assert_eq!(s.packages().unwrap(), vec![]);
    assert_eq!(s.package_bytes(1).unwrap(), None);
    let first_bytes = b"\x7fELF first".to_vec();
    let second_bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let mut first = package("0.1.1", "linux-x86_64-bin", &first_bytes, 1);
    let mut second = package("0.1.2", "linux-x86_64-bin", &second_bytes, 2);
    let mut deb = package("0.1.2", "linux-x86_64-deb", b"!<arch>", 3);
    first.id = s
        .put_package(&first, &first_bytes, &audit("upload_package"))
        .unwrap()
        .unwrap();
    second.id = s
        .put_package(&second, &second_bytes, &audit("upload_package"))
        .unwrap()
        .unwrap();
    deb.id = s
        .put_package(&deb, b"!<arch>", &audit("upload_package"))
        .unwrap()
        .unwrap();
    assert!(first.id < second.id && second.id < deb.id);
    assert_eq!(
        s.packages().unwrap(),
        vec![deb.clone(), second.clone(), first.clone()]
    );
    assert_eq!(s.package_bytes(first.id).unwrap(), Some(first_bytes));
    assert_eq!(s.package_bytes(second.id).unwrap(), Some(second_bytes));
    assert_eq!(s.package_bytes(deb.id + 100).unwrap(), None);
    // the same platform and version again: nothing stored, nothing audited
    let again = package("0.1.2", "linux-x86_64-bin", b"other", 4);
    assert_eq!(
        s.put_package(&again, b"other", &audit("upload_package"))
            .unwrap(),
        None
    );
    assert_eq!(s.packages().unwrap().len(), 3);
    assert_eq!(s.package_bytes(second.id).unwrap().unwrap().len(), 70_000);
    assert_eq!(
        s.audit_log(100)
            .unwrap()
            .iter()
            .filter(|e| e.action == "upload_package")
            .count(),
        3
    );
}
