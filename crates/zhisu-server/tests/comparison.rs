//! Rounds side by side and reference levels through the real server on a loopback port with
//! its SQLite file. Two rounds with a sample design (tablets enrolled for 2025 and for 2026 at
//! the same sites of a plan with strata and weights), a round without one (2024: interviews
//! without a site), and interviews sent by no tablet (no round). The comparison's figures are
//! recomputed here from the interviews as stored, scored by the core, with the textbook
//! formulas written out (the design-based estimate of each round, the difference with
//! `se = √(se₁² + se₂²)` and `df = min(df₁, df₂)`, Wilson and Newcombe for unweighted rounds),
//! independently of zhisu-stats; the estimates API, the rounds page and the literacy page agree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use uuid::Uuid;
use zhisu_core::Questionnaire;
use zhisu_protocol::CompletedInterview;
use zhisu_server::ServerState;
use zhisu_server_storage::Role;
use zhisu_server_tests::generate::{self, Respondent, Rng};

const PASSWORD: &str = "a-long-password";

/// (district, site, stratum, weight): "solo" has a single site.
const PLAN: [(&str, &str, &str, f64); 8] = [
    ("yuzhong", "y1", "small", 12.0),
    ("yuzhong", "y2", "small", 20.0),
    ("yuzhong", "y3", "small", 8.0),
    ("yuzhong", "y4", "large", 50.0),
    ("yuzhong", "y5", "large", 35.5),
    ("jiangbei", "j1", "small", 15.0),
    ("jiangbei", "j2", "small", 25.0),
    ("jiangbei", "j3", "solo", 40.0),
];

const POPULATIONS: [&str; 3] = ["teacher", "construction", "sanitation"];

/// t_{0.975, df} for df = 1…10 (printed tables).
const T975: [f64; 10] = [
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
];
const Z: f64 = 1.959_964;

fn ohl() -> Questionnaire {
    Questionnaire::from_toml(
        "ohl_2026.toml",
        include_str!("../../../questionnaires/ohl_2026.toml"),
    )
    .unwrap()
}

/// One stored interview: the round of the tablet that sent it (none without one), its district.
struct Stored {
    round: Option<&'static str>,
    district: &'static str,
    interview: CompletedInterview,
}

struct World {
    base: String,
    http: reqwest::Client,
    stored: Vec<Stored>,
    _state: ServerState,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let questionnaires = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
    let state =
        zhisu_server::open_sqlite(&dir.path().join("server.sqlite3"), &questionnaires).unwrap();
    for (user, role) in [
        ("city", Role::CityAdmin),
        (
            "yz-admin",
            Role::DistrictAdmin {
                district: "yuzhong".into(),
            },
        ),
        (
            "education",
            Role::DepartmentViewer {
                populations: vec!["teacher".into()],
            },
        ),
    ] {
        state
            .add_person(user, user, PASSWORD, role, "test")
            .unwrap();
    }
    for district in ["yuzhong", "jiangbei"] {
        let sites: Vec<zhisu_protocol::Site> = PLAN
            .iter()
            .filter(|p| p.0 == district)
            .map(|(_, id, stratum, weight)| zhisu_protocol::Site {
                id: id.to_string(),
                district: district.into(),
                name: format!("单位 {id}"),
                site_type: "enterprise".into(),
                stratum: Some(stratum.to_string()),
                weight: Some(*weight),
                ..Default::default()
            })
            .collect();
        state
            .storage
            .replace_sites(
                district,
                &sites,
                &zhisu_server_storage::AuditEntry::now("test", "test", ""),
            )
            .unwrap();
    }
    let q = ohl();
    let mut rng = Rng::new(0xc0_4a7e);
    let mut n = 0u128;
    let mut stored = Vec::new();
    let respondent = |n: u128, k: u64, s: usize, ability: u64| {
        let population = POPULATIONS[(k as usize + s) % 3];
        Respondent {
            population,
            sex: if (k + s as u64).is_multiple_of(2) {
                "female"
            } else {
                "male"
            },
            age: 20 + (n as i64 * 7) % 39,
            education: ["junior", "senior", "college"][k as usize % 3],
            industry: "construction",
            ability: ability + if population == "teacher" { 15 } else { 0 },
            straight_line: false,
        }
    };
    // 2025 and 2026 at the plan's sites (2026 better and a little larger); 2024 without sites
    for (round, better, more) in [("2025", 0, 0), ("2026", 14, 2), ("2024", 5, 0)] {
        for district in ["yuzhong", "jiangbei"] {
            let (device, _) = zhisu_server_tests::enrol(&state, round, district, "平板");
            let mut interviews = Vec::new();
            for (s, (_, site, _, _)) in PLAN.iter().enumerate().filter(|p| p.1 .0 == district) {
                let count = if round == "2024" {
                    3
                } else {
                    6 + s as u64 + more
                };
                for k in 0..count {
                    n += 1;
                    let who = respondent(n, k, s, 30 + 5 * s as u64 + better);
                    let answers = generate::answers(&q, &who, &mut rng);
                    let site = (round != "2024").then_some(*site);
                    interviews.push(generate::interview(
                        &q,
                        Uuid::from_u128(9000 + n),
                        answers,
                        Utc.with_ymd_and_hms(2026, 11, 20, 1, 0, 0).unwrap(),
                        1500,
                        site,
                    ));
                }
            }
            let receipts =
                zhisu_server_service::ingest::ingest(&state, interviews.clone(), Some(&device))
                    .unwrap();
            assert!(receipts
                .iter()
                .all(|r| r.status == zhisu_protocol::ReceiptStatus::Stored));
            stored.extend(interviews.into_iter().map(|interview| Stored {
                round: Some(round),
                district,
                interview,
            }));
        }
    }
    // a backup imported by hand: no tablet, so no round (its site places it in yuzhong)
    let mut backup = Vec::new();
    for k in 0..4 {
        n += 1;
        let who = respondent(n, k, 0, 40);
        let answers = generate::answers(&q, &who, &mut rng);
        backup.push(generate::interview(
            &q,
            Uuid::from_u128(9000 + n),
            answers,
            Utc.with_ymd_and_hms(2026, 11, 21, 1, 0, 0).unwrap(),
            1500,
            Some("y1"),
        ));
    }
    zhisu_server_service::ingest::ingest(&state, backup.clone(), None).unwrap();
    stored.extend(backup.into_iter().map(|interview| Stored {
        round: None,
        district: "yuzhong",
        interview,
    }));
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;
    World {
        base,
        http: reqwest::Client::new(),
        stored,
        _state: state,
        _dir: dir,
    }
}

impl World {
    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn page(&self, cookie: &str, path: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

/// A round's figure recomputed from its interviews: (stratum, cluster, weight, y, in the
/// selection) of every interview of the round, the design being the round's whole sample.
struct Figure {
    p: f64,
    se: f64,
    df: usize,
    n: usize,
    x: usize,
}

fn textbook(records: &[(&str, String, f64, f64, bool)]) -> Figure {
    let members: Vec<_> = records.iter().filter(|r| r.4).collect();
    let w_total: f64 = members.iter().map(|r| r.2).sum();
    let p = members.iter().map(|r| r.2 * r.3).sum::<f64>() / w_total;
    let mut strata: BTreeMap<&str, BTreeMap<&str, f64>> = BTreeMap::new();
    for (stratum, cluster, w, y, member) in records {
        let z = strata
            .entry(stratum)
            .or_default()
            .entry(cluster.as_str())
            .or_insert(0.0);
        if *member {
            *z += w * (y - p) / w_total;
        }
    }
    let mut v = 0.0;
    for clusters in strata.values() {
        let z: Vec<f64> = clusters.values().copied().collect();
        let n_h = z.len() as f64;
        if z.len() == 1 {
            v += z[0] * z[0];
        } else {
            let mean = z.iter().sum::<f64>() / n_h;
            v += n_h / (n_h - 1.0) * z.iter().map(|z| (z - mean).powi(2)).sum::<f64>();
        }
    }
    let clusters: BTreeSet<(&str, &str)> = members.iter().map(|r| (r.0, r.1.as_str())).collect();
    let strata: BTreeSet<&str> = members.iter().map(|r| r.0).collect();
    Figure {
        p,
        se: v.sqrt(),
        df: (clusters.len() - strata.len()).max(1),
        n: members.len(),
        x: members.iter().filter(|r| r.3 == 1.0).count(),
    }
}

/// Wilson's score interval, written out.
fn wilson(x: usize, n: usize) -> (f64, f64) {
    let (x, n) = (x as f64, n as f64);
    let p = x / n;
    let d = 1.0 + Z * Z / n;
    let centre = (p + Z * Z / (2.0 * n)) / d;
    let half = Z / d * (p * (1.0 - p) / n + Z * Z / (4.0 * n * n)).sqrt();
    (
        if x == 0.0 { 0.0 } else { centre - half },
        if x == n { 1.0 } else { centre + half },
    )
}

#[track_caller]
fn close(what: &str, got: &Value, want: f64, tolerance: f64) {
    let got = got.as_f64().unwrap_or_else(|| panic!("{what}: {got}"));
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: the server says {got}, recomputed {want}"
    );
}

/// Whether interview `s` is in the selection of `user` (its scope) and the `population` filter.
fn selected(user: &str, population: Option<&str>, s: &Stored) -> bool {
    let p = match s.interview.answers.get("population") {
        Some(zhisu_core::AnswerValue::Choice(p)) => p.as_str(),
        _ => unreachable!("every interview answers the population"),
    };
    (user != "yz-admin" || s.district == "yuzhong")
        && (user != "education" || p == "teacher")
        && population.is_none_or(|want| want == p)
}

/// y of an interview for a measure: overall (key "") or a dimension, scored by the core.
fn y(q: &Questionnaire, s: &Stored, key: &str) -> f64 {
    let score = q.score(&s.interview.answers);
    let has = if key.is_empty() {
        score.has_literacy
    } else {
        score
            .dimensions
            .iter()
            .find(|d| d.dimension == key)
            .is_some_and(|d| d.has_literacy)
    };
    if has {
        1.0
    } else {
        0.0
    }
}

/// The textbook's records of `round` for a measure (overall for key "", else a dimension):
/// (stratum, cluster, weight, y scored by the core, in `user`'s selection) of every interview
/// of the round, the design being the round's whole sample.
fn records(
    w: &World,
    q: &Questionnaire,
    round: &str,
    key: &str,
    user: &str,
    population: Option<&str>,
) -> Vec<(&'static str, String, f64, f64, bool)> {
    w.stored
        .iter()
        .filter(|s| s.round == Some(round))
        .map(|s| {
            let site = s.interview.site_id.as_deref().unwrap();
            let planned = PLAN.iter().find(|p| p.1 == site).unwrap();
            (
                planned.2,
                format!("{}/{site}", s.district),
                planned.3,
                y(q, s, key),
                selected(user, population, s),
            )
        })
        .collect()
}

#[tokio::test]
async fn rounds_side_by_side_equal_the_textbook_difference() {
    let w = world().await;
    let q = ohl();
    let dimensions: Vec<String> = q.dimensions.iter().map(|d| d.id.clone()).collect();
    let records = |round: &str, key: &str, user: &str, population: Option<&str>| {
        records(&w, &q, round, key, user, population)
    };
    let mut checked = 0;
    for (user, query, population) in [
        ("city", "", None),
        ("city", "?population=construction", Some("construction")),
        ("yz-admin", "", None),
        ("education", "", None),
    ] {
        let token = zhisu_server_tests::sign_in(&w.base, user, PASSWORD).await;
        let (status, c) = w.get(&token, &format!("/api/v1/comparison{query}")).await;
        assert_eq!(status, 200, "{user}{query}: {c}");
        // the newest round and the one before it, every round with its n, oldest first
        assert_eq!(
            (&c["current"], &c["previous"]),
            (&json!("2026"), &json!("2025"))
        );
        let rounds: Vec<(String, u64)> = c["rounds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["round"].as_str().unwrap().to_string(),
                    r["n"].as_u64().unwrap(),
                )
            })
            .collect();
        let count = |round: Option<&str>| {
            w.stored
                .iter()
                .filter(|s| s.round == round && selected(user, population, s))
                .count() as u64
        };
        let want: Vec<(String, u64)> = ["2024", "2025", "2026"]
            .into_iter()
            .map(|r| (r.to_string(), count(Some(r))))
            .filter(|r| r.1 > 0)
            .collect();
        assert_eq!(rounds, want, "{user}{query}");
        assert_eq!(
            c["without_round"].as_u64().unwrap(),
            count(None),
            "{user}{query}"
        );
        assert_eq!(c["method"], "design_difference", "{user}{query}");
        let rows = c["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1 + dimensions.len(), "{user}{query}");
        for row in rows {
            let key = row["key"].as_str().unwrap();
            let now = textbook(&records("2026", key, user, population));
            let before = textbook(&records("2025", key, user, population));
            let what = format!("{user}{query} {key:?}");
            assert_eq!(
                row["current"]["n"].as_u64().unwrap(),
                now.n as u64,
                "{what}"
            );
            assert_eq!(
                row["previous"]["n"].as_u64().unwrap(),
                before.n as u64,
                "{what}"
            );
            assert_eq!(
                row["current"]["successes"].as_u64().unwrap(),
                now.x as u64,
                "{what}"
            );
            close(
                &format!("{what} current"),
                &row["current"]["proportion"],
                now.p,
                1e-9,
            );
            close(
                &format!("{what} previous"),
                &row["previous"]["proportion"],
                before.p,
                1e-9,
            );
            close(
                &format!("{what} current se"),
                &row["current"]["se"],
                now.se,
                1e-9,
            );
            let d = now.p - before.p;
            let se = (now.se.powi(2) + before.se.powi(2)).sqrt();
            let df = now.df.min(before.df);
            let t = T975[df - 1];
            close(&format!("{what} difference"), &row["difference"], d, 1e-9);
            close(&format!("{what} se"), &row["se"], se, 1e-9);
            assert_eq!(row["df"].as_u64().unwrap(), df as u64, "{what}");
            close(
                &format!("{what} low"),
                &row["ci_low"],
                (d - t * se).max(-1.0),
                1e-3,
            );
            close(
                &format!("{what} high"),
                &row["ci_high"],
                (d + t * se).min(1.0),
                1e-3,
            );
            let change = if d - t * se > 0.0 {
                "rise"
            } else if d + t * se < 0.0 {
                "fall"
            } else {
                "no_clear_change"
            };
            assert_eq!(row["change"], change, "{what}");
            checked += 1;
        }
    }
    assert!(checked >= 4 * 5, "{checked}");

    // 2025 against 2024, which has no design: both unweighted, Newcombe's interval
    let token = zhisu_server_tests::sign_in(&w.base, "city", PASSWORD).await;
    let (status, c) = w
        .get(&token, "/api/v1/comparison?round=2025&against=2024")
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["method"], "unweighted_newcombe");
    for row in c["rows"].as_array().unwrap() {
        let key = row["key"].as_str().unwrap();
        let count = |round: &str| {
            let members: Vec<f64> = w
                .stored
                .iter()
                .filter(|s| s.round == Some(round))
                .map(|s| y(&q, s, key))
                .collect();
            (members.iter().filter(|&&y| y == 1.0).count(), members.len())
        };
        let ((x1, n1), (x2, n2)) = (count("2025"), count("2024"));
        let (p1, p2) = (x1 as f64 / n1 as f64, x2 as f64 / n2 as f64);
        let ((l1, u1), (l2, u2)) = (wilson(x1, n1), wilson(x2, n2));
        let d = p1 - p2;
        let low = d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
        let high = d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
        assert_eq!(row["current"]["method"], "unweighted_wilson");
        assert_eq!(row["previous"]["n"].as_u64().unwrap(), n2 as u64);
        close(&format!("{key} difference"), &row["difference"], d, 1e-9);
        close(&format!("{key} low"), &row["ci_low"], low, 1e-6);
        close(&format!("{key} high"), &row["ci_high"], high, 1e-6);
        assert!(row["se"].is_null() && row["df"].is_null(), "{row}");
    }
    // a round without interviews is refused with its code; the estimates carry the default
    let (status, refused) = w.get(&token, "/api/v1/comparison?round=2019").await;
    assert_eq!(status, 400);
    assert_eq!(refused["code"], "malformed_request");
    let (_, estimates) = w.get(&token, "/api/v1/estimates").await;
    let (_, default) = w.get(&token, "/api/v1/comparison").await;
    assert_eq!(estimates["comparison"], default);
    let (_, literacy_only) = w.get(&token, "/api/v1/estimates?tables=literacy").await;
    assert!(literacy_only["comparison"].is_null());

    // the rounds page shows the same differences, in percentage points, and the change in words
    let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, "city", PASSWORD).await;
    let (status, html) = w.page(&cookie, "/dashboard/rounds").await;
    assert_eq!(status, 200);
    for row in default["rows"].as_array().unwrap() {
        let points = format!("{:+.1}", row["difference"].as_f64().unwrap() * 100.0);
        let key = row["key"].as_str().unwrap();
        let at = html
            .find(&format!("<tr data-key=\"{key}\""))
            .unwrap_or_else(|| panic!("row {key:?} on the page"));
        let tr = &html[at..at + html[at..].find("</tr>").unwrap()];
        assert!(tr.contains(&points), "{key}: {points} in {tr}");
        let change = match row["change"].as_str().unwrap() {
            "rise" => "上升",
            "fall" => "下降",
            _ => "无明显变化",
        };
        assert!(tr.contains(change), "{key}: {change} in {tr}");
    }
    assert!(
        html.contains("id=\"without-round\""),
        "interviews without a round are counted"
    );
    let (status, _) = w.page(&cookie, "/dashboard/rounds?round=2019").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn reference_levels_are_shown_beside_the_figures_and_drawn_on_the_charts() {
    let w = world().await;
    let q = ohl();
    let dimension = q.dimensions[0].id.clone();
    let city = zhisu_server_tests::sign_in(&w.base, "city", PASSWORD).await;
    let post = |body: Value| {
        w.http
            .post(format!("{}/api/v1/reference-levels", w.base))
            .bearer_auth(&city)
            .json(&body)
            .send()
    };
    // an older round's level, then the 2026 round's target and a dimension's national level
    for (round, measure, kind, value, source, year) in [
        ("2025", "", "national", 52.6, "2022 年全国监测", 2022),
        ("2026", "", "target", 60.0, "区县工作方案", 2026),
        (
            "2026",
            dimension.as_str(),
            "national",
            48.5,
            "全国监测 \"2022\"",
            2022,
        ),
    ] {
        let response = post(
            json!({"round": round, "questionnaire_id": "ohl_2026", "measure": measure,
            "kind": kind, "value_percent": value, "source": source, "year": year}),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 201);
        let kept: Value = response.json().await.unwrap();
        assert_eq!(kept["entered_by"], "city");
        assert_eq!(kept["value_percent"].as_f64().unwrap(), value);
    }
    // what is wrong is said, every problem at once, and nothing is kept
    let response = post(
        json!({"round": "", "questionnaire_id": "ohl_2026", "measure": "nothing",
        "kind": "target", "value_percent": 120.0, "source": "", "year": 1800}),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 400);
    let refused: Value = response.json().await.unwrap();
    assert_eq!(refused["code"], "malformed_request");
    for field in ["round", "measure", "value_percent", "source", "year"] {
        assert!(
            refused["message"].as_str().unwrap().contains(field),
            "{refused}"
        );
    }
    let (_, all) = w.get(&city, "/api/v1/reference-levels?q=ohl_2026").await;
    assert_eq!(all.as_array().unwrap().len(), 3);

    // the estimates carry the newest round's levels, for every role
    for user in ["city", "yz-admin", "education"] {
        let token = zhisu_server_tests::sign_in(&w.base, user, PASSWORD).await;
        let (_, estimates) = w.get(&token, "/api/v1/estimates?tables=literacy").await;
        assert_eq!(estimates["references_round"], "2026", "{user}");
        let kinds: Vec<&str> = estimates["references"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["target", "national"],
            "{user}: overall first, then by kind"
        );
    }
    // and the downloads, as rows of their own
    let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, "city", PASSWORD).await;
    let (status, csv) = w.page(&cookie, "/dashboard/estimates.csv").await;
    assert_eq!(status, 200);
    assert!(csv.contains("参考水平和目标（2026 轮）"), "{csv}");
    assert!(
        csv.contains("reference_target") && csv.contains(",0.6,"),
        "{csv}"
    );
    assert!(csv.contains("变化：2026 轮减 2025 轮"));
    let response = w
        .http
        .get(format!("{}/dashboard/estimates.xlsx", w.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut read = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut text).unwrap();
        text
    };
    let workbook = read("xl/workbook.xml");
    assert!(
        workbook.contains("name=\"参考水平和轮次比较\""),
        "{workbook}"
    );
    let strings = read("xl/sharedStrings.xml");
    assert!(
        strings.contains("reference_target") && strings.contains("design_difference"),
        "the sheet holds the levels and the differences"
    );

    // the literacy page names them in words and draws them as marked lines
    let (status, html) = w.page(&cookie, "/dashboard/literacy").await;
    assert_eq!(status, 200);
    assert!(html.contains("<ul id=\"references\">"), "the levels listed");
    assert!(html.contains("目标 60.0%（区县工作方案，2026）"));
    assert!(html.contains("全国水平 48.5%（全国监测 &quot;2022&quot;，2022）"));
    // as a level is written ("全国水平 52.6%"), not a chart's coordinate that happens to match
    assert!(
        !html.contains("52.6%"),
        "an older round's level is not shown"
    );
    let chart = |id: &str| {
        let at = html
            .find(&format!("<svg class=\"chart\" id=\"{id}\""))
            .unwrap_or_else(|| panic!("{id}"));
        html[at..at + html[at..].find("</svg>").unwrap()].to_string()
    };
    let overall = chart("chart-overall");
    assert_eq!(overall.matches("class=\"reference\"").count(), 1);
    // the line at 60 % of the bars' width (420), its mark and its words
    assert!(overall.contains("x1=\"252.0\""), "{overall}");
    assert!(
        overall.contains("A ┆ ") && overall.contains("目标 60.0%"),
        "{overall}"
    );
    assert!(
        overall.contains("aria-label=\"") && overall.contains("参考线 A"),
        "{overall}"
    );
    let dimensions = chart("chart-dimensions");
    assert_eq!(dimensions.matches("class=\"reference\"").count(), 1);
    assert!(
        dimensions.contains("x1=\"203.7\""),
        "48.5 % of 420: {dimensions}"
    );
    assert!(dimensions.contains("B ┆ "), "{dimensions}");

    // the rounds page draws both rounds, and the current round's levels on its bars
    let (status, rounds) = w.page(&cookie, "/dashboard/rounds").await;
    assert_eq!(status, 200);
    let at = rounds
        .find("<svg class=\"chart\" id=\"chart-rounds\"")
        .expect("the rounds chart");
    let chart = &rounds[at..at + rounds[at..].find("</svg>").unwrap()];
    assert_eq!(
        chart.matches("<rect class=\"bar").count(),
        2 * (1 + q.dimensions.len()),
        "two bars a measure"
    );
    assert!(chart.contains("合计（2025 轮）") && chart.contains("合计（2026 轮）"));
    assert_eq!(chart.matches("class=\"reference\"").count(), 2, "{chart}");
    assert!(chart.contains("目标 60.0%"));

    // English, and a page without levels says so
    let (_, html) = w.page(&cookie, "/dashboard/literacy?lang=en").await;
    assert!(html.contains("Target 60.0% (区县工作方案, 2026)"));
    let (_, html) = w.page(&cookie, "/dashboard/literacy?q=ohl_intercept").await;
    assert!(html.contains("id=\"no-references\"") || html.contains("id=\"no-data\""));

    // removed through the API: gone from the page, and in the audit log
    let id = all.as_array().unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let response = w
        .http
        .delete(format!("{}/api/v1/reference-levels/{id}", w.base))
        .bearer_auth(&city)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let (_, audit) = w.get(&city, "/api/v1/audit").await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "put_reference_level")
            .count(),
        3
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "delete_reference_level")
            .count(),
        1
    );
    let (_, after) = w.get(&city, "/api/v1/reference-levels").await;
    assert_eq!(after.as_array().unwrap().len(), 2);
}

/// The text of a DOCX's `word/document.xml`.
fn docx_text(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml)
        .unwrap();
    xml
}

fn pct(p: &Value) -> String {
    format!("{:.1}%", p.as_f64().unwrap() * 100.0)
}

fn points(p: &Value) -> String {
    format!("{:+.1}", p.as_f64().unwrap() * 100.0)
}

#[tokio::test]
async fn the_annual_report_compares_the_rounds_and_reads_the_targets() {
    let w = world().await;
    let q = ohl();
    let city = zhisu_server_tests::sign_in(&w.base, "city", PASSWORD).await;
    // the 2026 round's overall literacy, city-wide, as the comparison API gives it
    let (_, c) = w.get(&city, "/api/v1/comparison").await;
    assert_eq!(c["current"], "2026");
    let overall = c["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "")
        .unwrap()
        .clone();
    let high = overall["current"]["interval"]["high"].as_f64().unwrap();
    let low = overall["current"]["interval"]["low"].as_f64().unwrap();
    // a target above the whole interval (not reached), a national level inside it (no
    // judgement), and a level of the older round (not shown)
    let target = ((high * 100.0 + 5.0) * 10.0).round() / 10.0;
    let national = (((low + high) / 2.0 * 100.0) * 10.0).round() / 10.0;
    for (round, kind, value) in [
        ("2026", "target", target),
        ("2026", "national", national),
        ("2025", "city", 11.1),
    ] {
        let response = w
            .http
            .post(format!("{}/api/v1/reference-levels", w.base))
            .bearer_auth(&city)
            .json(
                &json!({"round": round, "questionnaire_id": "ohl_2026", "measure": "",
                "kind": kind, "value_percent": value, "source": "工作方案", "year": 2026}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }

    for user in ["city", "yz-admin", "education"] {
        let token = zhisu_server_tests::sign_in(&w.base, user, PASSWORD).await;
        let (_, c) = w.get(&token, "/api/v1/comparison").await;
        let response = w
            .http
            .get(format!("{}/api/v1/report.docx", w.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{user}");
        let xml = docx_text(&response.bytes().await.unwrap());
        let at = xml
            .find("八、与上一轮监测和目标的比较")
            .expect("section 八");
        let section = &xml[at..xml.find("九、建议（草稿）").unwrap()];
        // every row of the comparison, as the API gives it in this role's scope
        let rows = c["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1 + q.dimensions.len(), "{user}");
        for row in rows {
            for figure in [
                pct(&row["previous"]["proportion"]),
                pct(&row["current"]["proportion"]),
                points(&row["difference"]),
                format!("{} – {}", points(&row["ci_low"]), points(&row["ci_high"])),
            ] {
                assert!(
                    section.contains(&figure),
                    "{user}: {} {figure} in {section}",
                    row["label"]
                );
            }
        }
        let overall = rows.iter().find(|r| r["key"] == "").unwrap();
        let change = match overall["change"].as_str().unwrap() {
            "rise" => "上升",
            "fall" => "下降",
            _ => "无明显变化",
        };
        let sentence = format!(
            "职业健康素养水平：2025 轮 {}，2026 轮 {}，变化 {} 个百分点（95% 置信区间 {} 至 {}），{change}。",
            pct(&overall["previous"]["proportion"]),
            pct(&overall["current"]["proportion"]),
            points(&overall["difference"]),
            points(&overall["ci_low"]),
            points(&overall["ci_high"]),
        );
        assert!(section.contains(&sentence), "{user}: {sentence}");
        // the round's levels, with the round's own level and where it stands
        assert!(section.contains("2026 轮录入的目标和参考水平"), "{user}");
        assert!(
            section.contains(&format!("目标 {target:.1}%（工作方案，2026）")),
            "{user}"
        );
        assert!(
            !section.contains("全市水平 11.1%"),
            "{user}: another round's level"
        );
        let current = &overall["current"];
        let interval = format!(
            "{}（{} – {}）",
            pct(&current["proportion"]),
            pct(&current["interval"]["low"]),
            pct(&current["interval"]["high"])
        );
        assert!(section.contains(&interval), "{user}: {interval}");
        let (low, high) = (
            current["interval"]["low"].as_f64().unwrap() * 100.0,
            current["interval"]["high"].as_f64().unwrap() * 100.0,
        );
        let reading = |value: f64, target: bool| match (low > value, high < value, target) {
            (true, _, true) => "可以认为已达到目标",
            (_, true, true) => "尚未达到目标",
            (_, _, true) => "还不能判断是否达到目标",
            (true, _, false) => "高于参考水平",
            (_, true, false) => "低于参考水平",
            _ => "与参考水平的差别不超出抽样误差",
        };
        assert!(section.contains(reading(target, true)), "{user}");
        assert!(section.contains(reading(national, false)), "{user}");
    }
}

/// One round asked for (`round=`): the estimates API, the literacy and item-analysis pages and
/// the interview export give that round's interviews only, each figure estimated with that
/// round's own design (equal to the textbook figure of the round), in every role's scope; the
/// annual report of a selection holding several rounds is of the newest and says so.
#[tokio::test]
async fn one_round_asked_for_gives_that_rounds_figures_and_the_report_is_of_the_newest() {
    let w = world().await;
    let q = ohl();
    let records = |round: &str, user: &str| records(&w, &q, round, "", user, None);
    let count = |round: Option<&str>, user: &str| {
        w.stored
            .iter()
            .filter(|s| round.is_none_or(|r| s.round == Some(r)) && selected(user, None, s))
            .count() as u64
    };
    for user in ["city", "yz-admin", "education"] {
        let token = zhisu_server_tests::sign_in(&w.base, user, PASSWORD).await;
        let (status, pooled) = w.get(&token, "/api/v1/estimates").await;
        assert_eq!(status, 200, "{user}: {pooled}");
        let overall = |e: &Value| -> Value {
            e["tables"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["id"] == "overall")
                .unwrap_or_else(|| panic!("{user}: the overall table in {e}"))["rows"][0]
                .clone()
        };
        // without a round: every interview of the scope, rounds and no round pooled
        assert_eq!(overall(&pooled)["n"], count(None, user), "{user}");
        for round in ["2025", "2026"] {
            let (status, e) = w
                .get(&token, &format!("/api/v1/estimates?round={round}"))
                .await;
            assert_eq!(status, 200, "{user} {round}: {e}");
            assert_eq!(e["filter"]["round"], round, "{user}");
            let row = overall(&e);
            let want = textbook(&records(round, user));
            let what = format!("{user} round {round}");
            assert_eq!(row["n"], want.n as u64, "{what}");
            assert_eq!(row["n"], count(Some(round), user), "{what}");
            assert_eq!(row["successes"], want.x as u64, "{what}");
            assert_eq!(row["method"], "design_taylor", "{what}");
            close(&format!("{what} share"), &row["share"], want.p, 1e-9);
            close(&format!("{what} se"), &row["se"], want.se, 1e-9);
            assert_eq!(row["df"], want.df as u64, "{what}: the round's own design");
        }
    }

    let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, "city", PASSWORD).await;
    // the literacy page: the rounds offered, pooling said in words, one round's n
    let (status, pooled) = w.page(&cookie, "/dashboard/literacy").await;
    assert_eq!(status, 200);
    assert!(pooled.contains("id=\"rounds-pooled\""), "pooling is said");
    for round in ["2024", "2025", "2026"] {
        assert!(
            pooled.contains(&format!("<option value=\"{round}\">{round}</option>")),
            "round {round} offered"
        );
    }
    let (_, page) = w.page(&cookie, "/dashboard/literacy?round=2025").await;
    assert!(!page.contains("id=\"rounds-pooled\""));
    assert!(page.contains("<option value=\"2025\" selected>2025</option>"));
    let n = count(Some("2025"), "city");
    assert!(
        page.contains(&format!("<td class=\"num n\">{n}</td>")),
        "n = {n} of round 2025 on the page"
    );
    let (_, analysis) = w.page(&cookie, "/dashboard/item-analysis?round=2026").await;
    assert!(
        analysis.contains(&format!(
            "<strong class=\"respondents\">{}</strong>",
            count(Some("2026"), "city")
        )),
        "item analysis of round 2026"
    );
    // the interview export of one round: its rows only
    let (status, csv) = w.page(&cookie, "/dashboard/export.csv?round=2024").await;
    assert_eq!(status, 200);
    let rows = csv.lines().filter(|l| !l.trim().is_empty()).count() as u64 - 1;
    assert_eq!(rows, count(Some("2024"), "city"), "the 2024 rows only");

    // the annual report: of the newest round, said in part 1, unless another is asked for
    let token = zhisu_server_tests::sign_in(&w.base, "city", PASSWORD).await;
    for (query, round) in [("", "2026"), ("?round=2025", "2025")] {
        let response = w
            .http
            .get(format!("{}/api/v1/report.docx{query}", w.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{query}");
        let xml = docx_text(&response.bytes().await.unwrap());
        assert!(
            xml.contains(&format!("第二至第七部分的数字只来自 {round} 轮的访谈")),
            "{query}"
        );
    }
}
