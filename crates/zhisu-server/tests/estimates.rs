//! The estimate tables (`GET /api/v1/estimates`, `/dashboard/estimates.csv` and `.xlsx`)
//! through the real server on a loopback port with its SQLite file, on a sample plan with two
//! districts, three strata (one with a single site) and weights: the API gives the figures the
//! literacy page shows, the downloads the API's, and a table recomputed from the interview
//! export (its stratum, weight and cluster columns) with the textbook formulas, written out here
//! independently of zhisu-stats, equals the API's.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use serde_json::Value;
use uuid::Uuid;
use zhisu_core::Questionnaire;
use zhisu_protocol::CompletedInterview;
use zhisu_server::ServerState;
use zhisu_server_storage::Role;
use zhisu_server_tests::generate::{self, Respondent, Rng};

const PASSWORD: &str = "a-long-password";

/// (district, site, stratum, weight): "small" spans both districts, "solo" has one site.
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

/// The tables of the literacy page, in the API's order; the others are on the measures page.
const LITERACY_PAGE: [&str; 8] = [
    "overall",
    "dimensions",
    "by_population",
    "by_industry",
    "by_district",
    "by_sex",
    "by_age_band",
    "by_education",
];

fn ohl() -> Questionnaire {
    Questionnaire::from_toml(
        "ohl_2026.toml",
        include_str!("../../../questionnaires/ohl_2026.toml"),
    )
    .unwrap()
}

struct World {
    base: String,
    http: reqwest::Client,
    /// Every interview stored, with the district that sent it.
    interviews: Vec<(&'static str, CompletedInterview)>,
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
    let mut rng = Rng::new(0x0e57_1a7e);
    let mut n = 0u128;
    let mut stored = Vec::new();
    for district in ["yuzhong", "jiangbei"] {
        let (device, _) = zhisu_server_tests::enrol(&state, "2026", district, "平板");
        let mut interviews: Vec<CompletedInterview> = Vec::new();
        for (s, (_, site, _, _)) in PLAN.iter().enumerate().filter(|p| p.1 .0 == district) {
            // a different number of workers at each site, and sites that differ: clusters
            for k in 0..(9 + 2 * s as u64) {
                n += 1;
                let population = POPULATIONS[(k as usize + s) % 3];
                let who = Respondent {
                    population,
                    sex: if (k + s as u64).is_multiple_of(2) {
                        "female"
                    } else {
                        "male"
                    },
                    age: 20 + (n as i64 * 7) % 39,
                    education: ["junior", "senior", "college"][k as usize % 3],
                    industry: "construction",
                    ability: 35 + 6 * s as u64 + if population == "teacher" { 15 } else { 0 },
                    straight_line: false,
                };
                let answers = generate::answers(&q, &who, &mut rng);
                interviews.push(generate::interview(
                    &q,
                    Uuid::from_u128(5000 + n),
                    answers,
                    Utc.with_ymd_and_hms(2026, 11, 20, 1, 0, 0).unwrap(),
                    1500,
                    Some(site),
                ));
            }
        }
        stored.extend(interviews.iter().map(|i| (district, i.clone())));
        let receipts =
            zhisu_server_service::ingest::ingest(&state, interviews, Some(&device)).unwrap();
        assert!(receipts
            .iter()
            .all(|r| r.status == zhisu_protocol::ReceiptStatus::Stored));
    }
    // one interview rejected in review: counted nowhere, still in the export (marked)
    let reviewer = state.storage.person_for_login("city").unwrap().unwrap().0;
    state
        .review(&reviewer, Uuid::from_u128(5001), "rejected", "test")
        .unwrap();
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;
    World {
        base,
        http: reqwest::Client::new(),
        interviews: stored,
        _state: state,
        _dir: dir,
    }
}

impl World {
    async fn api(&self, token: &str, query: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/api/v1/estimates{query}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
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

fn table<'a>(estimates: &'a Value, id: &str) -> &'a Vec<Value> {
    estimates["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("table {id}"))["rows"]
        .as_array()
        .unwrap()
}

fn percent(p: f64) -> String {
    format!("{:.1}%", p * 100.0)
}

/// The text of an HTML fragment without its tags.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

/// The rows of the page's table `id`, by their `data-key`: the text of each cell, and whether
/// the row is marked as a small cell.
fn page_rows(html: &str, id: &str) -> Option<BTreeMap<String, (Vec<String>, bool)>> {
    let start = html.find(&format!("<table id=\"{id}\">"))?;
    let end = start + html[start..].find("</table>").unwrap();
    let mut rows = BTreeMap::new();
    for part in html[start..end].split("<tr data-key=\"").skip(1) {
        let key = part[..part.find('"').unwrap()].to_string();
        let cells = part
            .split("<td")
            .skip(1)
            .map(|c| text(&c[c.find('>').unwrap() + 1..c.find("</td>").unwrap()]))
            .collect();
        rows.insert(key, (cells, part.contains("class=\"small\"")));
    }
    Some(rows)
}

#[tokio::test]
async fn the_api_gives_the_figures_of_the_literacy_page_and_the_downloads_the_apis() {
    let w = world().await;
    for (user, query, lang) in [
        ("city", "", "zh-CN"),
        ("city", "?lang=en&population=teacher", "en"),
        ("yz-admin", "", "zh-CN"),
        ("education", "", "zh-CN"),
    ] {
        let token = zhisu_server_tests::sign_in(&w.base, user, PASSWORD).await;
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, user, PASSWORD).await;
        let api = w.api(&token, query).await;
        let (status, html) = w
            .page(&cookie, &format!("/dashboard/literacy{query}"))
            .await;
        assert_eq!(status, 200);
        let (status, measures_html) = w
            .page(&cookie, &format!("/dashboard/measures{query}"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(api["method"], "design_taylor", "{user}: {api}");
        assert!(html.contains(api["method_note"].as_str().unwrap()));
        assert!(measures_html.contains(api["method_note"].as_str().unwrap()));
        // the literacy page's tables alone: the same, without the others
        let separator = if query.is_empty() { "?" } else { "&" };
        let literacy_only = w
            .api(&token, &format!("{query}{separator}tables=literacy"))
            .await;
        let ids = |v: &Value| -> Vec<String> {
            v["tables"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(ids(&literacy_only), LITERACY_PAGE, "{user}");
        assert_eq!(
            literacy_only["tables"].as_array().unwrap()[..],
            api["tables"].as_array().unwrap()[..LITERACY_PAGE.len()],
            "{user}"
        );
        assert!(ids(&api).len() > LITERACY_PAGE.len());

        let overall = &table(&api, "overall")[0];
        let n = overall["n"].as_u64().unwrap();
        assert!(n > 20, "{user}: {overall}");
        // the interviews this viewer's tables may count, from what was stored: not the
        // rejected one, within the role's district or populations and the filter
        let population_of = |i: &CompletedInterview| match i.answers.get("population") {
            Some(zhisu_core::AnswerValue::Choice(p)) => p.clone(),
            _ => unreachable!("every interview answers the population"),
        };
        let expected = w
            .interviews
            .iter()
            .filter(|(district, i)| {
                i.id != Uuid::from_u128(5001)
                    && (user != "yz-admin" || *district == "yuzhong")
                    && (user != "education" || population_of(i) == "teacher")
                    && (!query.contains("population=teacher") || population_of(i) == "teacher")
            })
            .count() as u64;
        assert_eq!(n, expected, "{user}{query}: the overall n");
        // every table read from the interviews keeps to the same interviews
        for id in ["by_migrant", "by_employment_form", "by_ownership"] {
            let counted: u64 = table(&api, id)
                .iter()
                .map(|r| r["n"].as_u64().unwrap())
                .sum();
            assert_eq!(counted, expected, "{user}{query}: {id}");
        }
        let modules: Vec<&str> = table(&api, "modules")
            .iter()
            .map(|r| r["key"].as_str().unwrap())
            .collect();
        if user == "education" || query.contains("population=teacher") {
            // the teachers' module, and the migrant workers' one, which 2026.2 asks of every
            // migrant worker whatever the population (questionnaires/CHANGELOG.md)
            assert!(
                modules.contains(&"module_teacher")
                    && modules
                        .iter()
                        .all(|m| ["module_teacher", "module_migrant"].contains(m)),
                "{user}{query}: teachers' modules only: {modules:?}"
            );
        } else {
            assert!(modules.len() >= 3, "{user}{query}: {modules:?}");
        }
        assert!(
            html.contains(&format!(
                "<strong class=\"level\">{}</strong>",
                percent(overall["share"].as_f64().unwrap())
            )) && html.contains(&format!("n = <span class=\"n\">{n}</span>")),
            "{user}: the page's overall level is the API's {overall}"
        );
        let mut compared = 0;
        for t in api["tables"].as_array().unwrap() {
            let id = t["id"].as_str().unwrap();
            if id == "overall" {
                continue;
            }
            let page_id = id.replace("by_", "by-");
            let rows = t["rows"].as_array().unwrap();
            let on = if LITERACY_PAGE.contains(&id) {
                &html
            } else {
                &measures_html
            };
            let Some(shown) = page_rows(on, &page_id) else {
                assert!(
                    rows.is_empty(),
                    "{user}: the page leaves out {id} only when empty"
                );
                continue;
            };
            let page_keys: BTreeSet<&str> = shown.keys().map(String::as_str).collect();
            let api_keys: BTreeSet<&str> =
                rows.iter().map(|r| r["key"].as_str().unwrap()).collect();
            assert_eq!(page_keys, api_keys, "{user}: the rows of {id}");
            for row in rows {
                let (cells, small) = &shown[row["key"].as_str().unwrap()];
                let f = |name: &str| row[name].as_f64().unwrap();
                assert_eq!(
                    cells[0].trim_end_matches('*').trim(),
                    row["label"].as_str().unwrap(),
                    "{user} {id}: the page's label"
                );
                assert_eq!(cells[1], percent(f("share")), "{user} {id} {row}");
                assert_eq!(
                    cells[2],
                    format!("{} – {}", percent(f("ci_low")), percent(f("ci_high"))),
                    "{user} {id} {row}"
                );
                assert_eq!(cells[3], row["successes"].to_string(), "{user} {id}");
                assert_eq!(cells[4], row["n"].to_string(), "{user} {id}");
                assert_eq!(*small, row["small"] == true, "{user} {id} {row}");
                // every design-based figure carries its design (se 0 only at a share of 0 or 1,
                // where the interval is Wilson's)
                if row["method"] == "design_taylor" {
                    let at_the_edge = f("share") == 0.0 || f("share") == 1.0;
                    assert!(row["df"].as_u64().unwrap() >= 1, "{row}");
                    assert_eq!(f("se") == 0.0, at_the_edge, "{row}");
                }
                compared += 1;
            }
        }
        assert!(compared >= 10, "{user}: {compared} rows compared");
        // districts by name, not by id
        for row in table(&api, "by_district") {
            let name = row["label"].as_str().unwrap();
            assert!(
                [("yuzhong", "渝中区"), ("jiangbei", "江北区")]
                    .iter()
                    .any(|(id, zh)| row["key"] == *id
                        && (name == *zh || (lang == "en" && name.ends_with("District")))),
                "{row}"
            );
        }

        // the downloads hold the API's figures: the CSV row by row, the workbook a sheet a table
        let (status, csv) = w
            .page(&cookie, &format!("/dashboard/estimates.csv{query}"))
            .await;
        assert_eq!(status, 200);
        let csv = parse_csv(&csv);
        let header = &csv[0];
        let column = |name: &str| header.iter().position(|h| h == name).unwrap();
        let (share, key, title) = if lang == "en" {
            (column("Share"), column("Key"), column("Table"))
        } else {
            (column("素养水平"), column("编码"), column("表"))
        };
        let mut rows_in_api = 0;
        for t in api["tables"].as_array().unwrap() {
            for row in t["rows"].as_array().unwrap() {
                rows_in_api += 1;
                let line = csv
                    .iter()
                    .find(|l| l[title] == t["title"].as_str().unwrap() && l[key] == row["key"])
                    .unwrap_or_else(|| panic!("{user}: {row} in the CSV"));
                assert_eq!(
                    line[share].parse::<f64>().unwrap(),
                    row["share"].as_f64().unwrap()
                );
            }
        }
        assert_eq!(csv.len() - 1, rows_in_api, "{user}: one CSV row per domain");

        let response = w
            .http
            .get(format!("{}/dashboard/estimates.xlsx{query}", w.base))
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
        let tables = api["tables"].as_array().unwrap();
        for (i, t) in tables.iter().enumerate() {
            assert!(
                workbook.contains(&format!("name=\"{}\"", t["domain"].as_str().unwrap())),
                "{user}: a sheet for {t}"
            );
            let sheet = read(&format!("xl/worksheets/sheet{}.xml", i + 1));
            assert_eq!(
                sheet.matches("<row ").count(),
                1 + t["rows"].as_array().unwrap().len(),
                "{user}: the sheet of {}",
                t["id"]
            );
        }
        let method_sheet = if lang == "en" {
            "Method"
        } else {
            "方法说明"
        };
        assert!(workbook.contains(&format!("name=\"{method_sheet}\"")));
        let strings = read("xl/sharedStrings.xml");
        assert!(
            strings.contains("svydesign") && strings.contains("Taylor"),
            "the method sheet says how the figures were made"
        );
    }
}

/// An unknown choice of tables is refused with a code, not guessed at.
#[tokio::test]
async fn an_unknown_choice_of_tables_is_refused() {
    let w = world().await;
    let token = zhisu_server_tests::sign_in(&w.base, "city", PASSWORD).await;
    let response = w
        .http
        .get(format!("{}/api/v1/estimates?tables=everything", w.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "malformed_request", "{body}");
    assert!(body["message"].as_str().unwrap().contains("everything"));
}

/// A CSV file as rows of cells (quoted cells with `""`, line breaks inside quotes).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let text = text.trim_start_matches('\u{feff}');
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    rows
}

/// The exported interviews that count (not rejected in review).
fn counted_all(csv: &[Vec<String>], review: usize) -> Vec<Vec<String>> {
    csv[1..]
        .iter()
        .filter(|r| r[review] != "rejected")
        .cloned()
        .collect()
}

/// Student's t, 97.5 % quantile, for 1 to 10 degrees of freedom (printed tables).
const T975: [f64; 10] = [
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
];

/// A textbook domain estimate from interview records (stratum, cluster, weight, y, in the
/// domain): the weighted ratio, its Taylor-linearised with-replacement variance between the
/// clusters of each stratum (every cluster of the sample, with or without domain members; a
/// stratum of one cluster centred at 0), t interval, design effect.
struct Textbook {
    p: f64,
    se: f64,
    df: usize,
    low: f64,
    high: f64,
    deff: f64,
    n: usize,
}

fn textbook(records: &[(String, String, f64, f64, bool)]) -> Textbook {
    let members: Vec<_> = records.iter().filter(|r| r.4).collect();
    let w_total: f64 = members.iter().map(|r| r.2).sum();
    let p = members.iter().map(|r| r.2 * r.3).sum::<f64>() / w_total;
    // z of every cluster of the sample, by stratum
    let mut strata: BTreeMap<&str, BTreeMap<&str, f64>> = BTreeMap::new();
    for (stratum, cluster, w, y, member) in records {
        let z = strata
            .entry(stratum)
            .or_default()
            .entry(cluster)
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
    let member_clusters: BTreeSet<(&str, &str)> = members
        .iter()
        .map(|r| (r.0.as_str(), r.1.as_str()))
        .collect();
    let member_strata: BTreeSet<&str> = members.iter().map(|r| r.0.as_str()).collect();
    let df = (member_clusters.len() - member_strata.len()).max(1);
    let se = v.sqrt();
    let t = T975[df - 1];
    let n = members.len();
    Textbook {
        p,
        se,
        df,
        low: (p - t * se).max(0.0),
        high: (p + t * se).min(1.0),
        deff: v / (p * (1.0 - p) / n as f64),
        n,
    }
}

#[tokio::test]
async fn a_table_recomputed_from_the_interview_export_equals_the_apis() {
    let w = world().await;
    let token = zhisu_server_tests::sign_in(&w.base, "city", PASSWORD).await;
    let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, "city", PASSWORD).await;
    let api = w.api(&token, "?lang=en").await;
    let (status, csv) = w.page(&cookie, "/dashboard/export.csv?lang=en").await;
    assert_eq!(status, 200);
    let csv = parse_csv(&csv);
    let header = &csv[0];
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name || h.ends_with(&format!("（{name}）")))
            .unwrap_or_else(|| panic!("{name} in {header:?}"))
    };
    let (stratum, weight, cluster) = (
        column("Stratum"),
        column("Weight"),
        column("Cluster (sampling unit)"),
    );
    let (literacy, review, district, population) = (
        column("Has literacy"),
        column("Quality review"),
        column("District"),
        column("population"),
    );
    let interviews: Vec<&Vec<String>> = csv[1..].iter().collect();
    assert_eq!(
        interviews
            .iter()
            .filter(|r| r[review] == "rejected")
            .count(),
        1,
        "the rejected interview is exported, marked"
    );
    // the export's design is the plan's, its places named as well as given by id
    let (district_name, site_name) = (column("District name"), column("Site name"));
    for r in &interviews {
        let (d, site) = r[cluster].split_once('/').unwrap();
        let planned = PLAN.iter().find(|p| p.0 == d && p.1 == site).unwrap();
        assert_eq!(r[site_name], format!("单位 {site}"));
        let name = if d == "yuzhong" {
            "Yuzhong District"
        } else {
            "Jiangbei District"
        };
        assert_eq!(r[district_name], name);
        assert_eq!(
            (
                r[district].as_str(),
                r[stratum].as_str(),
                r[weight].parse().unwrap()
            ),
            (planned.0, planned.2, planned.3)
        );
    }
    let counted: Vec<&&Vec<String>> = interviews
        .iter()
        .filter(|r| r[review] != "rejected")
        .collect();
    let records = |domain: &dyn Fn(&Vec<String>) -> bool| -> Vec<(String, String, f64, f64, bool)> {
        counted
            .iter()
            .map(|r| {
                (
                    r[stratum].clone(),
                    r[cluster].clone(),
                    r[weight].parse().unwrap(),
                    if r[literacy] == "yes" { 1.0 } else { 0.0 },
                    domain(r),
                )
            })
            .collect()
    };
    let check = |what: &str, expected: Textbook, row: &Value| {
        let f = |name: &str| row[name].as_f64().unwrap();
        assert_eq!(row["method"], "design_taylor", "{what}");
        assert_eq!(row["n"].as_u64().unwrap() as usize, expected.n, "{what}");
        assert!(
            (f("share") - expected.p).abs() < 1e-9,
            "{what}: {row} vs {}",
            expected.p
        );
        assert!(
            (f("se") - expected.se).abs() < 1e-9,
            "{what}: {row} vs se {}",
            expected.se
        );
        assert_eq!(row["df"].as_u64().unwrap() as usize, expected.df, "{what}");
        assert!((f("deff") - expected.deff).abs() < 1e-6, "{what}: {row}");
        // the printed t quantiles have four decimals
        let tolerance = 2e-4 * expected.se + 1e-9;
        assert!(
            (f("ci_low") - expected.low).abs() < tolerance
                && (f("ci_high") - expected.high).abs() < tolerance,
            "{what}: {row} vs [{}, {}]",
            expected.low,
            expected.high
        );
    };
    check(
        "overall",
        textbook(&records(&|_| true)),
        &table(&api, "overall")[0],
    );
    let by_population = table(&api, "by_population");
    assert_eq!(by_population.len(), 3);
    for row in by_population {
        let label = row["label"].as_str().unwrap().to_string();
        check(
            &label,
            textbook(&records(&|r: &Vec<String>| r[population] == label)),
            row,
        );
    }
    let by_district = table(&api, "by_district");
    assert_eq!(by_district.len(), 2);
    for row in by_district {
        let key = row["key"].as_str().unwrap().to_string();
        check(
            &key,
            textbook(&records(&|r: &Vec<String>| r[district] == key)),
            row,
        );
    }
    // literacy by the other background roles, from the export's columns
    for (id, item) in [
        ("by_employer_size", "employer_size"),
        ("by_ownership", "ownership"),
        ("by_employment_form", "employment_form"),
        ("by_migrant", "migrant"),
    ] {
        let rows = table(&api, id);
        assert!(rows.len() >= 2, "{id}: {rows:?}");
        let answer = column(item);
        for row in rows {
            let label = row["label"].as_str().unwrap().to_string();
            check(
                &label,
                textbook(&records(&|r: &Vec<String>| r[answer] == label)),
                row,
            );
        }
    }
    // indicators and health items: the share giving the answer counted among those who
    // answered, from the export's answer columns; the row's label names what is counted
    let mut measured = 0;
    for id in ["indicators", "health"] {
        for row in table(&api, id) {
            let item = row["key"].as_str().unwrap();
            let answer = column(item);
            let item_label = header[answer]
                .strip_suffix(&format!("（{item}）"))
                .unwrap()
                .to_string();
            let label = row["label"].as_str().unwrap();
            let counted: Vec<String> = label
                .strip_prefix(&format!("{item_label} ("))
                .and_then(|l| l.strip_suffix(')'))
                .unwrap_or_else(|| panic!("{label}"))
                .split(" or ")
                .map(str::to_string)
                .collect();
            let members: Vec<(String, String, f64, f64, bool)> = counted_all(&csv, review)
                .iter()
                .map(|r| {
                    (
                        r[stratum].clone(),
                        r[cluster].clone(),
                        r[weight].parse().unwrap(),
                        if counted.contains(&r[answer]) {
                            1.0
                        } else {
                            0.0
                        },
                        !r[answer].is_empty(),
                    )
                })
                .collect();
            check(&format!("{id} {item}"), textbook(&members), row);
            measured += 1;
        }
    }
    assert!(measured >= 5, "{measured} indicators and health items");
    // population modules: literacy among those asked each module, scored here by the core
    let q = ohl();
    let modules = table(&api, "modules");
    assert!(modules.len() >= 3, "{modules:?}");
    for row in modules {
        let section = row["key"].as_str().unwrap();
        let members: Vec<(String, String, f64, f64, bool)> = w
            .interviews
            .iter()
            .filter(|(_, i)| i.id != Uuid::from_u128(5001))
            .map(|(district, i)| {
                let site = i.site_id.as_deref().unwrap();
                let planned = PLAN
                    .iter()
                    .find(|p| p.0 == *district && p.1 == site)
                    .unwrap();
                let module = q
                    .score(&i.answers)
                    .modules
                    .into_iter()
                    .find(|m| m.section == section);
                (
                    planned.2.to_string(),
                    format!("{district}/{site}"),
                    planned.3,
                    if module.as_ref().is_some_and(|m| m.has_literacy) {
                        1.0
                    } else {
                        0.0
                    },
                    module.is_some(),
                )
            })
            .collect();
        check(section, textbook(&members), row);
    }
    // the codebook says what the design columns are
    let (_, codebook) = w.page(&cookie, "/dashboard/codebook.csv?lang=en").await;
    for variable in ["stratum", "weight", "cluster"] {
        let line = codebook
            .lines()
            .find(|l| l.starts_with(&format!("{variable},")))
            .unwrap_or_else(|| panic!("{variable} in the codebook"));
        assert!(line.len() > 60, "{line}");
    }
    assert!(codebook.contains("svydesign(ids = ~cluster, strata = ~stratum, weights = ~weight"));
}

/// Every page of the dashboard names the questionnaire it shows and offers the others (the
/// intercept version included); the navigation, the filter and the downloads keep it; the
/// district filter is a choice of district names (a district's people are offered their own).
#[tokio::test]
async fn every_page_names_its_questionnaire_and_the_filters_are_choices() {
    let w = world().await;
    let city = zhisu_server_tests::dashboard_sign_in(&w.base, "city", PASSWORD).await;
    for view in [
        "progress",
        "literacy",
        "items",
        "item-analysis",
        "qc",
        "report",
    ] {
        for (query, shown) in [("", "ohl_2026"), ("?q=ohl_intercept", "ohl_intercept")] {
            let (status, html) = w.page(&city, &format!("/dashboard/{view}{query}")).await;
            assert_eq!(status, 200, "{view}{query}");
            assert!(
                html.contains("<select name=\"q\" id=\"questionnaire\">")
                    && html.contains(&format!("<option value=\"{shown}\" selected>")),
                "{view}{query}: the questionnaire shown is chosen"
            );
            for other in ["ohl_2026", "ohl_intercept", "ohl_pilot"] {
                assert!(
                    html.contains(&format!("<option value=\"{other}\"")),
                    "{view}{query}: {other} is offered"
                );
            }
            assert!(
                html.contains("车站版") && html.contains("2026版"),
                "{view}: questionnaires by title"
            );
            if shown != "ohl_2026" {
                assert!(
                    html.contains("href=\"/dashboard/literacy?q=ohl_intercept\""),
                    "{view}: the navigation keeps the questionnaire"
                );
            }
        }
    }
    // districts by name where the pages list them (progress, tablets, sites)
    let (_, html) = w.page(&city, "/dashboard/progress").await;
    let by_district = &html[html.find("id=\"by-district\"").unwrap()..];
    assert!(
        by_district.contains("渝中区") && by_district.contains("江北区"),
        "the progress page names the districts"
    );
    let (_, html) = w.page(&city, "/dashboard/literacy?q=ohl_intercept").await;
    assert!(
        html.contains("<input type=\"hidden\" name=\"q\" value=\"ohl_intercept\">"),
        "the filter keeps the questionnaire"
    );
    assert!(
        html.contains("href=\"/dashboard/estimates.csv?q=ohl_intercept&amp;lang=zh-CN\"")
            && html.contains("href=\"/dashboard/export.csv?q=ohl_intercept&amp;lang=zh-CN\""),
        "the downloads keep the questionnaire"
    );
    // the district filter: names to choose from, for the city
    let district_select = |html: &str| -> String {
        let start = html
            .find("<select name=\"district\"")
            .expect("a district choice");
        html[start..start + html[start..].find("</select>").unwrap()].to_string()
    };
    let (_, html) = w.page(&city, "/dashboard/literacy?district=jiangbei").await;
    let choice = district_select(&html);
    assert!(
        choice.contains("<option value=\"jiangbei\" selected>江北区</option>")
            && choice.contains("<option value=\"yuzhong\">渝中区</option>"),
        "{choice}"
    );
    assert!(!html.contains("<input name=\"district\""), "no free text");
    // who is signed in, by name: a district's, a department's populations
    let education = zhisu_server_tests::dashboard_sign_in(&w.base, "education", PASSWORD).await;
    let (_, html) = w.page(&education, "/dashboard/literacy").await;
    assert!(
        html.contains("部门查看（学校老师）"),
        "a department's populations by name"
    );
    let yz = zhisu_server_tests::dashboard_sign_in(&w.base, "yz-admin", PASSWORD).await;
    let (_, html) = w.page(&yz, "/dashboard/literacy?district=jiangbei").await;
    assert!(
        html.contains("区县管理员（渝中区）"),
        "a district's people by name"
    );
    let choice = district_select(&html);
    assert!(
        choice.contains("<option value=\"yuzhong\" selected>渝中区</option>")
            && !choice.contains("jiangbei"),
        "a district's people are offered their own district only: {choice}"
    );
}
