//! Personal data on the server through its real HTTP API (#18, docs/privacy.md): one
//! respondent's interview erased at their request (audited, every count updated, never stored
//! again), every read of interview-level data in the audit log, department viewers given
//! interviews without what re-identifies a respondent, and consent with its text version in
//! the exports.
use std::path::PathBuf;

use chrono::{Duration, TimeZone, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;
use zhisu_protocol::ReceiptStatus;
use zhisu_server::ServerState;
use zhisu_server_storage::{Role, Scope};
use zhisu_server_tests::generate::{self, Respondent, Rng};

const PASSWORD: &str = "a-long-password";

struct World {
    base: String,
    http: reqwest::Client,
    state: ServerState,
    device: zhisu_server_storage::Device,
    /// The token of `device`, the tablet that sent `interviews`.
    token: String,
    interviews: Vec<zhisu_protocol::CompletedInterview>,
    _dir: tempfile::TempDir,
}

fn ohl() -> zhisu_core::Questionnaire {
    zhisu_core::Questionnaire::from_toml(
        "ohl_2026.toml",
        include_str!("../../../questionnaires/ohl_2026.toml"),
    )
    .unwrap()
}

/// A city administrator, a supervisor and an education department's viewer; a yuzhong tablet
/// that sent six interviews (teachers and builders) through the real ingest.
async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let questionnaires = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
    let state =
        zhisu_server::open_sqlite(&dir.path().join("server.sqlite3"), &questionnaires).unwrap();
    for (name, role) in [
        ("city", Role::CityAdmin),
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
    ] {
        assert!(state
            .add_person(name, name, PASSWORD, role, "test")
            .unwrap()
            .is_some());
    }
    let code = state
        .create_enrolment_code("2026", "yuzhong", Duration::days(1), "test")
        .unwrap();
    let enrolment = state.enrol(&code, "平板").unwrap().unwrap();
    let device = state.storage.device(enrolment.device_id).unwrap().unwrap();
    let q = ohl();
    let mut rng = Rng::new(18);
    let start = Utc.with_ymd_and_hms(2026, 11, 28, 23, 0, 0).unwrap();
    let interviews: Vec<_> = (0..6u128)
        .map(|n| {
            let who = Respondent {
                population: if n % 2 == 0 {
                    "teacher"
                } else {
                    "construction"
                },
                sex: "female",
                age: 28 + n as i64,
                education: "senior",
                industry: "education",
                ability: 80,
                straight_line: false,
            };
            let answers = generate::answers(&q, &who, &mut rng);
            generate::interview(&q, Uuid::from_u128(7000 + n), answers, start, 1500, None)
        })
        .collect();
    let receipts =
        zhisu_server_service::ingest::ingest(&state, interviews.clone(), Some(&device)).unwrap();
    assert!(receipts.iter().all(|r| r.status == ReceiptStatus::Stored));
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;
    World {
        base,
        http: reqwest::Client::new(),
        state,
        device,
        token: enrolment.token,
        interviews,
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
        token: &str,
        body: Option<Value>,
    ) -> (u16, String) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    fn audited(&self, action: &str) -> Vec<zhisu_server_storage::AuditEntry> {
        self.state
            .storage
            .audit_log(10_000)
            .unwrap()
            .into_iter()
            .filter(|e| e.action == action)
            .collect()
    }

    fn counted(&self) -> u64 {
        self.state
            .storage
            .progress(&Scope::All)
            .unwrap()
            .iter()
            .map(|c| c.count)
            .sum()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_respondents_interview_is_erased_on_request_audited_counted_out_and_never_stored_again() {
    let w = world().await;
    let city = w.sign_in("city").await;
    let supervisor = w.sign_in("yz_sup").await;
    let gone = w.interviews[2].id; // a teacher
    let path = format!("/api/v1/interviews/{gone}/erase");
    let literacy_n = || {
        zhisu_server_service::analysis::literacy(
            w.state.storage.as_ref(),
            &w.state.questionnaires,
            &Scope::All,
            "ohl_2026",
            &Default::default(),
            30,
            "en",
        )
        .unwrap()
        .overall
        .unwrap()
        .n
    };
    let literacy_before = literacy_n();
    assert_eq!(w.counted(), 6);

    // a supervisor may not; no reason is refused; neither changes anything
    let (status, body) = w
        .call(
            Method::POST,
            &path,
            &supervisor,
            Some(json!({"reason": "asked"})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = w
        .call(Method::POST, &path, &city, Some(json!({"reason": "  "})))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("malformed_request"), "{body}");
    assert!(w.state.storage.contains(gone).unwrap());
    assert!(w.audited("erase_interview").is_empty());

    let (status, body) = w
        .call(
            Method::POST,
            &path,
            &city,
            Some(json!({"reason": "电话申请 2026-12-01，编号 PI-7"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert!(!w.state.storage.contains(gone).unwrap());
    // every count lost it in the same transaction
    assert_eq!(w.counted(), 5);
    assert_eq!(
        literacy_n(),
        literacy_before - 1,
        "the literacy figure counts one fewer"
    );
    let entries = w.audited("erase_interview");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor, "city");
    assert!(entries[0].detail.contains(&gone.to_string()));
    assert!(entries[0].detail.contains("PI-7"));
    // again: 404, nothing more audited
    let (status, _) = w
        .call(Method::POST, &path, &city, Some(json!({"reason": "again"})))
        .await;
    assert_eq!(status, 404);
    assert_eq!(w.audited("erase_interview").len(), 1);

    // the tablet sends it again (its receipt was lost), or a backup holds it: acknowledged,
    // not stored
    let receipts = zhisu_server_service::ingest::ingest(
        &w.state,
        vec![w.interviews[2].clone(), w.interviews[3].clone()],
        Some(&w.device),
    )
    .unwrap();
    assert_eq!(receipts[0].status, ReceiptStatus::AlreadyStored);
    assert!(receipts[0].message.as_deref().unwrap().contains("erased"));
    assert_eq!(receipts[1].status, ReceiptStatus::AlreadyStored);
    assert!(receipts[1].message.is_none());
    assert!(!w.state.storage.contains(gone).unwrap());
    assert_eq!(w.counted(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_read_of_interviews_is_audited_and_department_viewers_get_them_minimised() {
    let w = world().await;
    let city = w.sign_in("city").await;
    let edu = w.sign_in("edu").await;
    let q = ohl();
    let withheld = zhisu_server_service::privacy::withheld_items(&q);
    assert!(
        withheld.iter().any(|id| id == "hukou") && !withheld.iter().any(|id| id == "population"),
        "{withheld:?}"
    );

    // the API: the city reads every field, the department viewer its teachers minimised
    let (status, body) = w.call(Method::GET, "/api/v1/interviews", &city, None).await;
    assert_eq!(status, 200);
    let full: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(full["count"], 6);
    let first = &full["interviews"][0]["interview"];
    assert_eq!(first["surveyor_id"], "s01");
    assert!(first["answers"].get("age").is_some());
    let answered_withheld: Vec<&String> = withheld
        .iter()
        .filter(|id| first["answers"].get(id.as_str()).is_some())
        .collect();
    assert!(!answered_withheld.is_empty(), "{first}");

    let (status, body) = w.call(Method::GET, "/api/v1/interviews", &edu, None).await;
    assert_eq!(status, 200);
    let minimised: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(minimised["count"], 3);
    for i in minimised["interviews"].as_array().unwrap() {
        let i = &i["interview"];
        assert!(i.get("surveyor_id").is_none(), "{i}");
        assert!(i.get("paradata").is_none(), "{i}");
        assert!(i["answers"].get("age").is_none(), "{i}");
        for id in &withheld {
            assert!(i["answers"].get(id.as_str()).is_none(), "{id}: {i}");
        }
        // what the analyses need is there
        assert_eq!(i["answers"]["population"]["value"], "teacher");
        assert!(i["answers"].get("consent").is_some());
    }
    let reads = w.audited("read_interviews");
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert!(reads.iter().any(|e| e.actor == "edu"
        && e.detail.contains("minimised")
        && e.detail.ends_with(": 3 interviews")));
    assert!(reads
        .iter()
        .any(|e| e.actor == "city" && e.detail.ends_with(": 6 interviews")));

    // the export: consent and the version of its text for everyone; no surveyor, no withheld
    // item and the age band for the department viewer; each download audited
    let version = zhisu_server_service::privacy::consent_text_version(&q).unwrap();
    assert!(
        version.starts_with("sha256:") && version.len() == 23,
        "{version}"
    );
    let (status, csv) = w
        .call(Method::GET, "/dashboard/export.csv?lang=en", &city, None)
        .await;
    assert_eq!(status, 200, "{csv}");
    let header = csv.lines().next().unwrap().trim_start_matches('\u{feff}');
    assert!(header.contains("Consent,Consent text version"), "{header}");
    assert!(header.contains("Surveyor"), "{header}");
    assert!(header.contains("（hukou）"), "{header}");
    let row = csv.lines().nth(1).unwrap();
    assert!(row.contains(&format!(",yes,{version},")), "{row}");
    assert!(row.contains(",s01,"), "{row}");

    let (status, csv) = w
        .call(Method::GET, "/dashboard/export.csv?lang=en", &edu, None)
        .await;
    assert_eq!(status, 200, "{csv}");
    let mut lines = csv.lines();
    let header = lines.next().unwrap().trim_start_matches('\u{feff}');
    assert!(header.contains("Consent,Consent text version"), "{header}");
    assert!(!header.contains("Surveyor"), "{header}");
    for id in &withheld {
        assert!(!header.contains(&format!("（{id}）")), "{id}: {header}");
    }
    let columns = csv_cells(header);
    let age = columns.iter().position(|c| c.ends_with("（age）")).unwrap();
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3);
    for row in rows {
        assert!(!row.contains("s01"), "{row}");
        let cells = csv_cells(row);
        assert_eq!(cells.len(), columns.len(), "{row}");
        assert!(
            zhisu_core::AGE_BANDS.contains(&cells[age].as_str()),
            "the age band, not the age: {row}"
        );
    }
    assert_eq!(w.audited("export").len(), 2);

    // the quality-control queue lists interviews one by one: each view audited (a teacher's
    // interview flagged, so that the queue lists it)
    assert!(w
        .state
        .storage
        .flag_for_review(
            w.interviews[0].id,
            &zhisu_core::QcFlag::ManyChanges {
                changes: 30,
                maximum: 10
            },
            &zhisu_server_storage::AuditEntry::now("test", "flag_stored_data", "test"),
        )
        .unwrap());
    let (status, _) = w
        .call(Method::GET, "/dashboard/qc?status=all", &city, None)
        .await;
    assert_eq!(status, 200);
    let (_, city_page) = w
        .call(Method::GET, "/dashboard/qc?status=all", &city, None)
        .await;
    assert!(city_page.contains("s01"), "the city sees the surveyor");
    let qc = w.audited("read_qc_queue");
    assert_eq!(qc.len(), 2);
    assert!(qc[0].detail.contains("status all"), "{qc:?}");
    // the department viewer's queue does not name the surveyor (the city's does)
    let (status, page) = w
        .call(Method::GET, "/dashboard/qc?status=all", &edu, None)
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("/ -"), "its teachers are listed");
    assert!(!page.contains("s01"));
    assert_eq!(w.audited("read_qc_queue").len(), 3);
}

/// The cells of one CSV line (quoted cells with doubled quotes; no line breaks in these).
fn csv_cells(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cells.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(String::new()),
            (c, _) => cells.last_mut().unwrap().push(c),
        }
    }
    cells
}

/// Re-contact details for back-checks: kept apart from the answers (never in the interview
/// list or an export, whatever the role), read only with an audit entry, and deleted the
/// configured days after their round ends by the same purge the server runs every hour.
#[tokio::test(flavor = "multi_thread")]
async fn recontact_details_stay_out_of_every_read_and_go_after_their_round() {
    let w = world().await;
    let city = w.sign_in("city").await;
    let policy = zhisu_server_service::privacy::RetentionPolicy::default();
    let round_ends = Utc.with_ymd_and_hms(2026, 12, 31, 16, 0, 0).unwrap();
    let id = w.interviews[0].id;
    let state = w.state.clone();
    let kept = tokio::task::spawn_blocking(move || {
        state.keep_recontact(
            id,
            "13912345678",
            "sha256:re-contact-v1",
            round_ends,
            &policy,
            "backcheck",
        )
    })
    .await
    .unwrap()
    .unwrap();
    assert!(kept);
    assert_eq!(w.audited("put_recontact").len(), 1);

    for path in [
        "/api/v1/interviews",
        "/dashboard/export.csv",
        "/dashboard/export.xlsx",
    ] {
        let (status, body) = w.call(Method::GET, path, &city, None).await;
        assert_eq!(status, 200, "{path}");
        assert!(!body.contains("13912345678"), "{path}");
    }

    // purged the configured days after the round's end, not before
    let storage = w.state.storage.clone();
    let read = move || {
        storage
            .recontact(
                &Scope::All,
                id,
                &zhisu_server_storage::AuditEntry::now("backcheck", "read_recontact", "test"),
            )
            .unwrap()
    };
    let state = w.state.clone();
    let read_before = read.clone();
    let (before, after) = tokio::task::spawn_blocking(move || {
        let day_before =
            round_ends + Duration::days(i64::from(policy.recontact_days)) - Duration::hours(1);
        state.purge_expired(&policy, day_before).unwrap();
        let before = read_before();
        let purged = state
            .purge_expired(
                &policy,
                round_ends + Duration::days(i64::from(policy.recontact_days) + 1),
            )
            .unwrap();
        assert_eq!(purged.recontact_details, 1);
        (before, read())
    })
    .await
    .unwrap();
    assert_eq!(before.unwrap().contact, "13912345678");
    assert_eq!(after, None);
    assert_eq!(
        w.audited("read_recontact").len(),
        1,
        "only the read that found them"
    );
    assert!(w.state.storage.contains(id).unwrap(), "the answers stay");
}

/// Re-contact details uploaded by a tablet (issue 15, `POST /api/v1/recontacts`): refused
/// without a device token (401), for an interview the server does not hold from this tablet
/// (another district's tablet, another tablet of the district, an unknown id: `not_found`),
/// with a number a back-check cannot call (`invalid_recontact`: nothing kept), or in a body
/// too large (413); kept once for the tablet's own interview (a re-send is `already_stored`,
/// one `put_recontact` audit entry), as one contact line, until the round's end plus the
/// retention days; the interview then is a back-check candidate. Nothing is in the interview.
#[tokio::test(flavor = "multi_thread")]
async fn recontact_details_uploaded_by_the_tablet_are_kept_once_for_its_own_interviews() {
    use zhisu_protocol::recontact::{RecontactConsent, RecontactUpload};
    let w = world().await;
    let id = w.interviews[1].id;
    let consent = |id: Uuid, phone: &str| RecontactConsent {
        interview_id: id,
        phone: phone.into(),
        call_name: "王师傅".into(),
        consent_text_version: zhisu_core::RECONTACT_TEXT_VERSION.into(),
        answered_at: Utc::now(),
    };
    let url = format!("{}{}", w.base, zhisu_protocol::RECONTACTS_PATH);
    let post = |token: Option<String>, body: Vec<u8>| {
        let (http, url) = (w.http.clone(), url.clone());
        async move {
            let mut request = http
                .post(url)
                .header(zhisu_protocol::PROTOCOL_HEADER, "1")
                .header("content-type", "application/json")
                .body(body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    let upload = |token: String, items: Vec<RecontactConsent>| {
        let body = serde_json::to_vec(&RecontactUpload { recontacts: items }).unwrap();
        async move {
            let (status, text) = post(Some(token), body).await;
            assert_eq!(status, 200, "{text}");
            serde_json::from_str::<zhisu_protocol::UploadResponse>(&text)
                .unwrap()
                .receipts
        }
    };
    let good = serde_json::to_vec(&RecontactUpload {
        recontacts: vec![consent(id, "13800001234")],
    })
    .unwrap();
    // no token, or one the server never issued
    assert_eq!(post(None, good.clone()).await.0, 401);
    assert_eq!(post(Some("not-a-token".into()), good.clone()).await.0, 401);
    // a tablet of another district, and another tablet of the same district
    let mut others = Vec::new();
    for district in ["jiangbei", "yuzhong"] {
        let code = w
            .state
            .create_enrolment_code("2026", district, Duration::days(1), "test")
            .unwrap();
        others.push(w.state.enrol(&code, "另一台").unwrap().unwrap().token);
    }
    for token in others {
        let receipts = upload(token, vec![consent(id, "13800001234")]).await;
        assert_eq!(receipts[0].status, ReceiptStatus::Rejected);
        assert_eq!(receipts[0].code.as_deref(), Some("not_found"));
    }
    // a bad number, and an interview the server does not hold
    let receipts = upload(
        w.token.clone(),
        vec![
            consent(id, "1380000123"),
            consent(Uuid::from_u128(4242), "13800001234"),
        ],
    )
    .await;
    assert_eq!(
        receipts
            .iter()
            .map(|r| (r.status, r.code.as_deref()))
            .collect::<Vec<_>>(),
        vec![
            (ReceiptStatus::Rejected, Some("invalid_recontact")),
            (ReceiptStatus::Rejected, Some("not_found")),
        ]
    );
    assert!(receipts[0].message.as_deref().unwrap().contains("phone"));
    assert!(w.audited("put_recontact").is_empty(), "nothing kept yet");
    // too large: more than the batch allows, or a body over the route's limit (unread)
    let many = serde_json::to_vec(&RecontactUpload {
        recontacts: vec![consent(id, "13800001234"); 101],
    })
    .unwrap();
    assert!(many.len() < zhisu_protocol::recontact::MAX_RECONTACT_UPLOAD_BYTES);
    let (status, text) = post(Some(w.token.clone()), many).await;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("batch_too_large"), "{text}");
    let mut huge = consent(id, "13800001234");
    huge.consent_text_version = "v".repeat(zhisu_protocol::recontact::MAX_RECONTACT_UPLOAD_BYTES);
    let huge = serde_json::to_vec(&RecontactUpload {
        recontacts: vec![huge],
    })
    .unwrap();
    assert_eq!(post(Some(w.token.clone()), huge).await.0, 413);
    let (status, text) = post(Some(w.token.clone()), b"{\"recontacts\": [1]}".to_vec()).await;
    assert_eq!(status, 400, "{text}");
    assert!(w.audited("put_recontact").is_empty(), "nothing kept yet");

    // the tablet's own interview: kept, and a re-send (a lost receipt) kept once
    let receipts = upload(w.token.clone(), vec![consent(id, "13800001234")]).await;
    assert_eq!(receipts[0].status, ReceiptStatus::Stored);
    let mut again = consent(id, "13900009999");
    again.call_name = String::new();
    let receipts = upload(w.token.clone(), vec![again]).await;
    assert_eq!(receipts[0].status, ReceiptStatus::AlreadyStored);
    assert_eq!(w.audited("put_recontact").len(), 1, "stored once");
    let kept = w
        .state
        .storage
        .recontact(
            &Scope::District("yuzhong".into()),
            id,
            &zhisu_server_storage::AuditEntry::now("test", "read_recontact", "test"),
        )
        .unwrap()
        .expect("kept for the interview's district");
    assert_eq!(kept.contact, "13800001234（王师傅）", "the first is kept");
    assert_eq!(
        kept.consent_text_version,
        zhisu_core::RECONTACT_TEXT_VERSION
    );
    // the round has no end date: 90 days from now, then the retention days
    let expected = Utc::now()
        + Duration::days(
            zhisu_server_service::privacy::UNDATED_ROUND_DAYS
                + i64::from(
                    zhisu_server_service::privacy::RetentionPolicy::default().recontact_days,
                ),
        );
    assert!((kept.delete_after - expected).num_minutes().abs() < 5);
    // the interview itself is unchanged, and now a back-check can draw it
    let stored = w.state.storage.interviews(&Scope::All).unwrap();
    let interview = stored.iter().find(|i| i.interview.id == id).unwrap();
    assert!(!serde_json::to_string(&interview.interview)
        .unwrap()
        .contains("13800001234"));
    let candidates = w.state.storage.backcheck_candidates("2026", None).unwrap();
    assert_eq!(
        candidates
            .iter()
            .map(|c| c.interview_id)
            .collect::<Vec<_>>(),
        vec![id]
    );
}
