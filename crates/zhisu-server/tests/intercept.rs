//! Intercept surveys at stations (issue #15), through the real server on a loopback port with
//! its SQLite file: interviews of `ohl_intercept` (the newest version, which asks the travel
//! direction) at two stations with time-slot quotas and one without, on tablets at two UTC
//! offsets. Literacy by travel direction (the estimates API, the CSV) equals counts made with
//! SQL on the database, and so does each slot's progress (the service and the progress page),
//! for every role in its scope; the SQL places an interview in a slot with SQLite's own date
//! functions, independently of the Rust rule.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{Duration, TimeZone, Utc};
use serde_json::Value;
use uuid::Uuid;
use zhisu_core::{AnswerValue, BackgroundRole};
use zhisu_protocol::{CompletedInterview, TimeSlot};
use zhisu_server_storage::Role;
use zhisu_server_tests::generate::{self, Respondent, Rng};

const PASSWORD: &str = "a-long-password";
const POPULATIONS: [&str; 3] = ["construction", "industrial", "driver"];

fn slot(label: &str, first: &str, last: &str, from: &str, to: &str, target: u32) -> TimeSlot {
    TimeSlot {
        label: label.into(),
        first_day: first.parse().unwrap(),
        last_day: last.parse().unwrap(),
        from: from.into(),
        to: to.into(),
        target,
    }
}

fn station(id: &str, district: &str, slots: Vec<TimeSlot>) -> zhisu_protocol::Site {
    zhisu_protocol::Site {
        id: id.into(),
        district: district.into(),
        name: format!("车站 {id}"),
        site_type: "station".into(),
        quotas: POPULATIONS.iter().map(|p| (p.to_string(), 10)).collect(),
        time_slots: slots,
        ..Default::default()
    }
}

/// Each role and the population condition its scope puts on the SQL (`None`: none).
fn roles() -> Vec<(
    &'static str,
    Role,
    Option<&'static str>,
    Option<&'static str>,
)> {
    vec![
        ("city", Role::CityAdmin, None, None),
        (
            "yz-admin",
            Role::DistrictAdmin {
                district: "yuzhong".into(),
            },
            Some("yuzhong"),
            None,
        ),
        (
            "transport",
            Role::DepartmentViewer {
                populations: vec!["driver".into()],
            },
            None,
            Some("driver"),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn travel_direction_and_time_slot_progress_equal_sql_counts_in_every_scope() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite3");
    let questionnaires = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
    let state = zhisu_server::open_sqlite(&db, &questionnaires).unwrap();
    for (user, role, ..) in roles() {
        state
            .add_person(user, user, PASSWORD, role, "test")
            .unwrap();
    }
    state
        .replace_sites(
            "yuzhong",
            vec![
                station(
                    "cyb",
                    "yuzhong",
                    vec![
                        slot(
                            "春运早高峰",
                            "2027-01-25",
                            "2027-02-05",
                            "06:00",
                            "10:00",
                            20,
                        ),
                        slot("春运午间", "2027-01-25", "2027-02-05", "11:00", "13:30", 5),
                    ],
                ),
                station("plain", "yuzhong", Vec::new()),
            ],
            "test",
        )
        .unwrap();
    state
        .replace_sites(
            "jiangbei",
            vec![station(
                "jbz",
                "jiangbei",
                vec![slot(
                    "返程",
                    "2027-01-26",
                    "2027-02-03",
                    "17:00",
                    "24:00",
                    8,
                )],
            )],
            "test",
        )
        .unwrap();
    // a slot that can hold nothing is refused, and the plan stays as it was
    let refused = state.replace_sites(
        "jiangbei",
        vec![station(
            "jbz",
            "jiangbei",
            vec![slot(
                "反了",
                "2027-01-30",
                "2027-01-28",
                "06:00",
                "10:00",
                8,
            )],
        )],
        "test",
    );
    assert!(
        matches!(&refused, Err(zhisu_server_service::Refusal::Invalid(m)) if m.contains("the last day is before the first day")),
        "{refused:?}"
    );
    assert_eq!(
        state.storage.sites("jiangbei").unwrap()[0].time_slots[0].label,
        "返程"
    );

    let registry = zhisu_server_service::QuestionnaireRegistry::load_dir(&questionnaires).unwrap();
    let q = registry
        .newest("ohl_intercept")
        .unwrap()
        .questionnaire
        .clone();
    let travel = q
        .background_item(BackgroundRole::TravelDirection)
        .expect("the newest intercept version asks the travel direction")
        .id
        .clone();
    let mut rng = Rng::new(0x1a7e_c0de);
    let mut sent: Vec<CompletedInterview> = Vec::new();
    let mut n = 0u128;
    for (district, sites) in [
        ("yuzhong", &["cyb", "plain"][..]),
        ("jiangbei", &["jbz"][..]),
    ] {
        let (device, _) = zhisu_server_tests::enrol(&state, "2027", district, "平板");
        let mut batch = Vec::new();
        for site in sites {
            for k in 0..36u32 {
                n += 1;
                let population = POPULATIONS[(k as usize + n as usize) % 3];
                let who = Respondent {
                    population,
                    sex: if k % 2 == 0 { "female" } else { "male" },
                    age: 18 + (k as i64 * 5) % 40,
                    education: "junior",
                    industry: "construction",
                    ability: 40 + (k as u64 * 7) % 60,
                    straight_line: false,
                };
                let answers = generate::answers(&q, &who, &mut rng);
                // starts spread over days and hours around the slots' edges
                let start = Utc.with_ymd_and_hms(2027, 1, 24, 21, 0, 0).unwrap()
                    + Duration::days(i64::from(k % 13))
                    + Duration::minutes(i64::from((k * 97) % (24 * 60)));
                let mut interview = generate::interview(
                    &q,
                    Uuid::from_u128(7000 + n),
                    answers,
                    start,
                    480,
                    Some(site),
                );
                // a tablet an hour behind: its local start is an hour earlier
                if k % 5 == 0 {
                    interview.utc_offset_minutes = 420;
                    interview = interview.sealed();
                }
                batch.push(interview);
            }
        }
        sent.extend(batch.iter().cloned());
        let receipts = zhisu_server_service::ingest::ingest(&state, batch, Some(&device)).unwrap();
        assert!(receipts
            .iter()
            .all(|r| r.status == zhisu_protocol::ReceiptStatus::Stored));
    }
    // one interview at the station with slots rejected in review: counted nowhere
    let reviewer = state.storage.person_for_login("city").unwrap().unwrap().0;
    state
        .review(&reviewer, Uuid::from_u128(7001), "rejected", "test")
        .unwrap();
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;

    let conn = rusqlite::Connection::open(&db).unwrap();
    // every interview answered the travel direction, and the stored key is its answer
    let stored: BTreeMap<String, String> = conn
        .prepare("SELECT id, travel_direction FROM interview")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(stored.len(), sent.len());
    let mut keys = std::collections::BTreeSet::new();
    for i in &sent {
        let Some(AnswerValue::Choice(key)) = i.answers.get(&travel) else {
            panic!("{}: no travel direction", i.id)
        };
        assert_eq!(stored[&i.id.to_string()], *key);
        keys.insert(key.clone());
    }
    assert_eq!(keys.len(), 3, "every direction is in the sample: {keys:?}");

    let http = reqwest::Client::new();
    let mut slots_seen = 0;
    for (user, role, district, population) in roles() {
        let scope = role.scope();
        let district_sql = district.map_or("1".to_string(), |d| format!("district = '{d}'"));
        let population_sql = population.map_or("1".to_string(), |p| format!("population = '{p}'"));

        // literacy by travel direction: the API's rows against SQL counts of the column
        let expected: BTreeMap<String, (u64, u64)> = conn
            .prepare(&format!(
                "SELECT travel_direction, count(*), sum(has_literacy) FROM interview
                 WHERE questionnaire_id = 'ohl_intercept' AND qc_status != 'rejected'
                   AND travel_direction IS NOT NULL AND {district_sql} AND {population_sql}
                 GROUP BY travel_direction"
            ))
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    (r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64),
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(!expected.is_empty(), "{user}");
        let token = zhisu_server_tests::sign_in(&base, user, PASSWORD).await;
        let api: Value = http
            .get(format!("{base}/api/v1/estimates?q=ohl_intercept&lang=en"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let table = api["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == "by_travel_direction")
            .unwrap_or_else(|| panic!("{user}: no by_travel_direction in {api}"));
        assert_eq!(table["title"], "Literacy level by direction of travel");
        let got: BTreeMap<String, (u64, u64)> = table["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["key"].as_str().unwrap().to_string(),
                    (r["n"].as_u64().unwrap(), r["successes"].as_u64().unwrap()),
                )
            })
            .collect();
        assert_eq!(got, expected, "{user}: literacy by travel direction");
        let going_home = table["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == "going_home")
            .unwrap();
        assert_eq!(going_home["label"], "Going home");

        // the CSV download has the same table
        let cookie = zhisu_server_tests::dashboard_sign_in(&base, user, PASSWORD).await;
        let csv = http
            .get(format!("{base}/dashboard/estimates.csv?q=ohl_intercept"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let lines: Vec<&str> = csv
            .lines()
            .filter(|l| l.starts_with("按出行方向分组的素养水平,"))
            .collect();
        assert_eq!(lines.len(), expected.len(), "{user}: {csv}");
        for (key, (n, _)) in &expected {
            assert!(
                lines
                    .iter()
                    .any(|l| l.contains(&format!(",{key},")) && l.contains(&format!(",{n},"))),
                "{user}: {key} {n} in {lines:?}"
            );
        }

        // each slot's progress against SQL: the local start is started_at moved by the
        // device's offset, the day from first to last, the time from `from` to before `to`
        let progress =
            zhisu_server_service::time_slots::slot_progress(state.storage.as_ref(), &scope)
                .unwrap();
        let wanted_sites: Vec<&str> = match district {
            Some(_) => vec!["cyb", "cyb"],
            None => vec!["jbz", "cyb", "cyb"],
        };
        assert_eq!(
            progress
                .iter()
                .map(|p| p.site_id.as_str())
                .collect::<Vec<_>>(),
            wanted_sites,
            "{user}: the slots of the sites in scope, none of the site without"
        );
        let (_, page) = {
            let response = http
                .get(format!("{base}/dashboard/progress"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            (response.status(), response.text().await.unwrap())
        };
        for p in &progress {
            let local = "datetime(started_at, printf('%+d minutes', utc_offset_minutes))";
            let to = if p.slot.to == "24:00" {
                "24:00:00".to_string()
            } else {
                format!("{}:00", p.slot.to)
            };
            let sql_count: i64 = conn
                .query_row(
                    &format!(
                        "SELECT count(*) FROM interview
                         WHERE district = ?1 AND site_id = ?2 AND qc_status != 'rejected'
                           AND {population_sql}
                           AND date({local}) BETWEEN ?3 AND ?4
                           AND time({local}) >= ?5 AND time({local}) < ?6"
                    ),
                    rusqlite::params![
                        p.district,
                        p.site_id,
                        p.slot.first_day.to_string(),
                        p.slot.last_day.to_string(),
                        format!("{}:00", p.slot.from),
                        to,
                    ],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(
                p.done, sql_count as u64,
                "{user}: {} {}",
                p.site_id, p.slot.label
            );
            if population.is_none() {
                assert!(p.done > 0, "{user}: {} has interviews", p.slot.label);
            }
            // the page shows the same figure against the target
            let row = format!(
                "data-site=\"{}\" data-slot=\"{}\" data-done=\"{}\" data-target=\"{}\"",
                p.site_id, p.slot.label, p.done, p.slot.target
            );
            assert!(page.contains(&row), "{user}: {row}");
            slots_seen += 1;
        }
        if district.is_some() {
            assert!(
                !page.contains("data-site=\"jbz\""),
                "{user}: another district's slot"
            );
        }
    }
    assert_eq!(slots_seen, 3 + 2 + 3);
}
