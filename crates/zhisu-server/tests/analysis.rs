//! The dashboard's figures, quality control and exports, through the real HTTP server on a
//! loopback port with its SQLite file: interviews uploaded by an enrolled device, literacy
//! checked against counts made here from the interviews themselves (scored by the core) and
//! Wilson intervals from the textbook formula, role scopes, a review rejection reaching the
//! device's assignment, and the exports read back.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use uuid::Uuid;
use zhisu_core::Questionnaire;
use zhisu_protocol::{
    CompletedInterview, DeviceAssignment, ASSIGNMENT_PATH, PROTOCOL_HEADER, UPLOAD_PATH,
};
use zhisu_server::ServerState;
use zhisu_server_service::analysis::{self, Filter};
use zhisu_server_storage::{Role, Scope};

use zhisu_server_tests::generate::{self, Respondent, Rng};

fn ohl() -> Questionnaire {
    Questionnaire::from_toml(
        "ohl_2026.toml",
        include_str!("../../../questionnaires/ohl_2026.toml"),
    )
    .unwrap()
}

/// Textbook Wilson score interval (Wilson 1927), written out independently of zhisu-stats.
fn wilson(k: f64, n: f64) -> (f64, f64) {
    let z: f64 = 1.959963984540054;
    let p = k / n;
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    (centre - half, centre + half)
}

struct World {
    base: String,
    http: reqwest::Client,
    state: ServerState,
    token: String,
    interviews: Vec<CompletedInterview>,
    _dir: tempfile::TempDir,
}

const POPULATIONS: [&str; 3] = ["teacher", "construction", "sanitation"];

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
            "jb-admin",
            Role::DistrictAdmin {
                district: "jiangbei".into(),
            },
        ),
        (
            "yz-super",
            Role::Supervisor {
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
            .add_person(user, user, "a-long-password", role, "test")
            .unwrap();
    }
    let site = |id: &str, quota: u32| zhisu_protocol::Site {
        id: id.into(),
        district: "yuzhong".into(),
        name: format!("调查点 {id}"),
        site_type: "enterprise".into(),
        quotas: POPULATIONS.iter().map(|p| (p.to_string(), quota)).collect(),
        ..Default::default()
    };
    state
        .storage
        .replace_sites(
            "yuzhong",
            &[site("yz-1", 20), site("yz-2", 20)],
            &zhisu_server_storage::AuditEntry::now("test", "test", ""),
        )
        .unwrap();
    let (_, token) = zhisu_server_tests::enrol(&state, "2026", "yuzhong", "平板 1");
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;

    let q = ohl();
    let mut rng = Rng::new(0x5eed_1234_abcd);
    let mut interviews = Vec::new();
    let start = Utc.with_ymd_and_hms(2026, 11, 20, 1, 0, 0).unwrap();
    for n in 0..90u128 {
        let population = POPULATIONS[n as usize % 3];
        let who = Respondent {
            population,
            sex: if n % 2 == 0 { "male" } else { "female" },
            age: 20 + (n as i64 * 7) % 39,
            education: ["junior", "senior", "college"][n as usize % 3],
            industry: "construction",
            // teachers know more than sanitation workers
            ability: match population {
                "teacher" => 90,
                "construction" => 75,
                _ => 55,
            },
            straight_line: n == 89,
        };
        let answers = generate::answers(&q, &who, &mut rng);
        // one interview in 2 minutes: too fast; the rest take 25 minutes
        let seconds = if n == 88 { 120 } else { 1500 };
        let day = chrono::Duration::days((n % 3) as i64);
        interviews.push(generate::interview(
            &q,
            Uuid::from_u128(1000 + n),
            answers,
            start + day,
            seconds,
            Some(if n % 2 == 0 { "yz-1" } else { "yz-2" }),
        ));
    }
    let http = reqwest::Client::new();
    for chunk in interviews.chunks(40) {
        let response = http
            .post(format!("{base}{UPLOAD_PATH}"))
            .bearer_auth(&token)
            .header(PROTOCOL_HEADER, "1")
            .json(&json!({ "interviews": chunk }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        for r in body["receipts"].as_array().unwrap() {
            assert_eq!(r["status"], "stored", "{r}");
        }
    }
    World {
        base,
        http,
        state,
        token,
        interviews,
        _dir: dir,
    }
}

/// The device's assignment, as its sync asks for it.
async fn assignment(base: &str, token: &str) -> DeviceAssignment {
    reqwest::Client::new()
        .get(format!("{base}{ASSIGNMENT_PATH}"))
        .bearer_auth(token)
        .header(PROTOCOL_HEADER, "1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

impl World {
    /// Signs in through the dashboard's form and returns the session cookie.
    async fn sign_in(&self, user: &str) -> String {
        zhisu_server_tests::dashboard_sign_in(&self.base, user, "a-long-password").await
    }

    async fn get(&self, cookie: &str, path: &str) -> (u16, String) {
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

#[tokio::test]
async fn literacy_figures_match_counts_made_from_the_interviews() {
    let w = world().await;
    let q = ohl();
    // expected, from the interviews themselves, scored by the core here
    let mut expected: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let mut dims = vec![(0u64, 0u64); q.dimensions.len()];
    for i in &w.interviews {
        let score = q.score(&i.answers);
        let population = match i.answers.get("population") {
            Some(zhisu_core::AnswerValue::Choice(p)) => p.as_str(),
            _ => unreachable!(),
        };
        for key in ["", population] {
            let e = expected
                .entry(if key.is_empty() { "" } else { key })
                .or_default();
            e.0 += 1;
            e.1 += u64::from(score.has_literacy);
        }
        for (d, dim) in q.dimensions.iter().enumerate() {
            dims[d].0 += 1;
            dims[d].1 += u64::from(
                score
                    .dimensions
                    .iter()
                    .any(|s| s.dimension == dim.id && s.has_literacy),
            );
        }
    }
    let report = analysis::literacy(
        w.state.storage.as_ref(),
        &w.state.questionnaires,
        &Scope::All,
        "ohl_2026",
        &Filter::default(),
        30,
        "zh-CN",
    )
    .unwrap();
    assert_eq!(
        report.method,
        zhisu_stats::Method::UnweightedWilson,
        "no sample plan weights"
    );
    let overall = report.overall.as_ref().unwrap();
    let (n, k) = expected[""];
    assert_eq!((overall.n, overall.successes), (n, k));
    let (lo, hi) = wilson(k as f64, n as f64);
    assert!(
        (overall.interval.low - lo).abs() < 1e-12 && (overall.interval.high - hi).abs() < 1e-12
    );
    let by_population = report
        .breakdowns
        .iter()
        .find(|b| b.by == analysis::By::Population)
        .unwrap();
    assert_eq!(by_population.rows.len(), 3);
    for row in &by_population.rows {
        let (n, k) = expected[row.key.as_str()];
        assert_eq!((row.n, row.successes), (n, k), "{}", row.key);
        assert!(!row.small, "n = {} is not below 30", row.n);
        assert!(
            !row.label.is_empty() && row.label != row.key,
            "a Chinese label: {}",
            row.label
        );
    }
    for (d, e) in report.dimensions.iter().enumerate() {
        assert_eq!((e.n, e.successes), dims[d], "dimension {}", e.key);
    }
    // teachers (ability 90) do better than sanitation workers (55): the data are not flat
    let level = |key: &str| {
        by_population
            .rows
            .iter()
            .find(|r| r.key == key)
            .unwrap()
            .proportion
    };
    assert!(level("teacher") > level("sanitation"));

    // a filter narrows every figure
    let teachers = analysis::literacy(
        w.state.storage.as_ref(),
        &w.state.questionnaires,
        &Scope::All,
        "ohl_2026",
        &Filter {
            population: Some("teacher".into()),
            ..Filter::default()
        },
        30,
        "zh-CN",
    )
    .unwrap();
    assert_eq!(teachers.overall.unwrap().n, expected["teacher"].0);
    let teacher_sexes = &teachers
        .breakdowns
        .iter()
        .find(|b| b.by == analysis::By::Sex)
        .unwrap()
        .rows;
    assert_eq!(teacher_sexes.iter().map(|r| r.n).sum::<u64>(), 30);
    assert!(
        teacher_sexes.iter().all(|r| r.small),
        "cells of 15 are marked, not hidden"
    );

    // the weakest items: ranked by share correct, with the counts of the facts
    let items = analysis::weakest_items(
        w.state.storage.as_ref(),
        &w.state.questionnaires,
        &Scope::All,
        "ohl_2026",
        &Filter::default(),
        30,
        "zh-CN",
    )
    .unwrap();
    assert!(items.windows(2).all(|p| p[0].share <= p[1].share));
    let first = &items[0];
    let (mut asked, mut correct) = (0, 0);
    for i in &w.interviews {
        if let Some(r) = q
            .score(&i.answers)
            .items
            .iter()
            .find(|r| r.item_id == first.item_id)
        {
            asked += 1;
            correct += u64::from(r.correct);
        }
    }
    assert_eq!((first.asked, first.correct), (asked, correct));

    // and the page shows the same overall figure
    let cookie = w.sign_in("city").await;
    let (status, html) = w.get(&cookie, "/dashboard/literacy").await;
    assert_eq!(status, 200);
    let shown = format!("{:.1}%", overall.proportion * 100.0);
    assert!(
        html.contains(&shown) && html.contains(&format!("n = <span class=\"n\">{n}</span>")),
        "{shown} in the page"
    );
    assert!(html.contains("未加权比例"), "the method is stated");
}

#[tokio::test]
async fn every_view_keeps_to_the_viewers_scope() {
    let w = world().await;
    let teachers = w
        .interviews
        .iter()
        .filter(|i| {
            i.answers.get("population") == Some(&zhisu_core::AnswerValue::Choice("teacher".into()))
        })
        .count();
    for (user, overall_n) in [
        ("yz-admin", Some(90)),
        ("jb-admin", None),
        ("education", Some(teachers)),
    ] {
        let cookie = w.sign_in(user).await;
        let (status, html) = w.get(&cookie, "/dashboard/literacy").await;
        assert_eq!(status, 200, "{user}");
        match overall_n {
            Some(n) => assert!(
                html.contains(&format!("n = <span class=\"n\">{n}</span>")),
                "{user} sees {n}"
            ),
            None => assert!(
                html.contains("id=\"no-data\""),
                "{user} sees no other district's data"
            ),
        }
        // a district admin cannot widen the filter to another district
        let (_, other) = w
            .get(&cookie, "/dashboard/literacy?district=jiangbei")
            .await;
        if user == "yz-admin" {
            assert!(
                other.contains("n = <span class=\"n\">90</span>"),
                "the district stays imposed"
            );
        }
        let (_, csv) = w.get(&cookie, "/dashboard/export.csv").await;
        let rows = csv.lines().count() - 1;
        assert_eq!(rows, overall_n.unwrap_or(0), "{user}'s export");
    }
    // signed out: every view sends to the sign-in page
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in [
        "/dashboard/progress",
        "/dashboard/literacy",
        "/dashboard/items",
        "/dashboard/qc",
        "/dashboard/report",
        "/dashboard/export.csv",
    ] {
        let r = client
            .get(format!("{}{path}", w.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(r.headers()["location"], "/dashboard/login");
    }
    // a forged cookie is no session
    let (status, html) = w.get("zhisu_session=forged", "/dashboard/literacy").await;
    assert_eq!(status, 200, "the sign-in page after the redirect");
    assert!(
        html.contains("id=\"sign-in\"") && !html.contains("id=\"overall\""),
        "a forged cookie gets the sign-in form, no figures"
    );
}

/// The report's sample figures (interviews done against the plan, quality control, contacts)
/// follow a district or population filter, in the page and the DOCX, and say which parts of a
/// filter they cannot follow.
#[tokio::test]
async fn the_reports_sample_figures_follow_the_filter() {
    let w = world().await;
    let cookie = w.sign_in("city").await;
    let token = zhisu_server_tests::sign_in(&w.base, "city", "a-long-password").await;
    let sample = |html: &str| {
        let at = html
            .find("id=\"report-sample\"")
            .expect("the sample paragraph");
        html[at..at + html[at..].find("</p>").unwrap()].to_string()
    };
    // (filter, done, planned, note on what is not followed)
    for (query, done, planned, note) in [
        ("", 90, 120, None),
        ("?district=jiangbei", 0, 0, None),
        ("?population=teacher", 30, 40, None),
        (
            "?district=yuzhong&population=teacher",
            90,
            120,
            Some("重点人群"),
        ),
        ("?sex=male", 90, 120, Some("性别")),
    ] {
        // the counts as the storage keeps them, by district and population
        let scope = match (query.contains("district="), query.contains("population=")) {
            (true, _) if query.contains("jiangbei") => Scope::District("jiangbei".into()),
            (true, _) => Scope::District("yuzhong".into()),
            (false, true) => Scope::Populations(vec!["teacher".into()]),
            _ => Scope::All,
        };
        let progress = analysis::progress(w.state.storage.as_ref(), &scope).unwrap();
        assert_eq!(
            (progress.total, progress.wanted),
            (done, planned),
            "{query}"
        );

        let (status, html) = w.get(&cookie, &format!("/dashboard/report{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert!(
            sample(&html).contains(&format!("{done} / {planned}")),
            "{query}: {}",
            sample(&html)
        );
        match note {
            Some(title) => assert!(
                html.contains("id=\"report-not-narrowed\"")
                    && html.contains(&format!("没有按{title}筛选")),
                "{query}"
            ),
            None => assert!(!html.contains("report-not-narrowed"), "{query}"),
        }

        let response = w
            .http
            .get(format!("{}/api/v1/report.docx{query}", w.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{query}");
        let bytes = response.bytes().await.unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml)
            .unwrap();
        assert!(
            xml.contains(&format!("完成调查 {done} 份，计划 {planned} 份")),
            "{query}"
        );
        assert_eq!(
            note.is_some_and(|title| xml.contains(&format!("没有按{title}筛选"))),
            note.is_some(),
            "{query}"
        );
    }
}

#[tokio::test]
async fn flagged_interviews_are_reviewed_and_a_rejection_reaches_the_device() {
    let w = world().await;
    let fast = Uuid::from_u128(1000 + 88);
    let straight = Uuid::from_u128(1000 + 89);
    let queue = w.state.storage.qc_queue(&Scope::All, None, 100).unwrap();
    let codes = |id: Uuid| -> Vec<String> {
        queue
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.flags.iter().map(|f| f.code().to_string()).collect())
            .unwrap_or_default()
    };
    assert_eq!(codes(fast), vec!["too_fast".to_string()]);
    assert!(
        codes(straight).contains(&"straight_lining".to_string()),
        "{:?}",
        codes(straight)
    );
    let supervisor = w.sign_in("yz-super").await;
    let (status, html) = w.get(&supervisor, "/dashboard/qc").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("qc-{fast}")) && html.contains("答题太快"));

    // a department viewer may not review; a rejection needs a reason
    let viewer = w.sign_in("education").await;
    // a form as the dashboard's page sends it: with the session's CSRF token
    let post = |cookie: String, form: Vec<(&'static str, &'static str)>| {
        let http = w.http.clone();
        let base = w.base.clone();
        async move {
            let page = http
                .get(format!("{base}/dashboard/progress"))
                .header("cookie", cookie.clone())
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let csrf = zhisu_server_tests::csrf_of(&page);
            let mut form: Vec<(&str, &str)> = form;
            form.push(("csrf", &csrf));
            http.post(format!("{base}/dashboard/qc/{fast}"))
                .header("cookie", cookie)
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // without the token, or from another site's page, nothing is decided
    let forged = w
        .http
        .post(format!("{}/dashboard/qc/{fast}", w.base))
        .header("cookie", supervisor.clone())
        .form(&[("status", "rejected"), ("comment", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let csrf = zhisu_server_tests::csrf_of(&html);
    let cross_site = w
        .http
        .post(format!("{}/dashboard/qc/{fast}", w.base))
        .header("cookie", supervisor.clone())
        .header("origin", "http://127.0.0.1:1")
        .header("sec-fetch-site", "same-site")
        .form(&[
            ("status", "rejected"),
            ("comment", "forged"),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let body: serde_json::Value = cross_site.json().await.unwrap();
    assert_eq!(body["code"], "forbidden");
    let (_, unchanged) = w.get(&supervisor, "/dashboard/qc?status=rejected").await;
    assert!(!unchanged.contains("forged"));
    assert_eq!(
        post(viewer, vec![("status", "rejected"), ("comment", "x")]).await,
        403
    );
    assert_eq!(
        post(
            supervisor.clone(),
            vec![("status", "rejected"), ("comment", " ")]
        )
        .await,
        400
    );
    let before = analysis::literacy(
        w.state.storage.as_ref(),
        &w.state.questionnaires,
        &Scope::All,
        "ohl_2026",
        &Filter::default(),
        30,
        "zh-CN",
    )
    .unwrap()
    .overall
    .unwrap()
    .n;
    // the redirect after the POST lands on the queue again
    assert_eq!(
        post(
            supervisor.clone(),
            vec![
                ("status", "rejected"),
                ("comment", "两分钟答完 40 多道题，不可信")
            ]
        )
        .await,
        200
    );
    let after = analysis::literacy(
        w.state.storage.as_ref(),
        &w.state.questionnaires,
        &Scope::All,
        "ohl_2026",
        &Filter::default(),
        30,
        "zh-CN",
    )
    .unwrap()
    .overall
    .unwrap()
    .n;
    assert_eq!(
        after,
        before - 1,
        "a rejected interview leaves the estimates"
    );
    let (_, rejected_view) = w.get(&supervisor, "/dashboard/qc?status=rejected").await;
    assert!(rejected_view.contains("两分钟答完"));
    let audit = w.state.storage.audit_log(10).unwrap();
    assert!(audit
        .iter()
        .any(|a| a.action == "review_interview" && a.actor == "yz-super"));

    // the device learns it at its next sync
    let assignment = assignment(&w.base, &w.token).await;
    assert_eq!(assignment.rejected.len(), 1);
    assert_eq!(assignment.rejected[0].interview_id, fast);
    assert_eq!(
        assignment.rejected[0].reason,
        "两分钟答完 40 多道题，不可信"
    );

    // progress counts it no more either
    let progress = analysis::progress(w.state.storage.as_ref(), &Scope::All).unwrap();
    assert_eq!(progress.total, 89);
    assert_eq!(progress.wanted, 2 * 3 * 20);
    assert_eq!(progress.days.values().sum::<u64>(), 89);
    assert_eq!(progress.sites.iter().map(|s| s.done).sum::<u64>(), 89);
}

#[tokio::test]
async fn exports_carry_chinese_labels_and_a_codebook() {
    let w = world().await;
    let cookie = w.sign_in("city").await;
    let (status, csv) = w
        .get(&cookie, "/dashboard/export.csv?population=teacher")
        .await;
    assert_eq!(status, 200);
    assert!(csv.starts_with('\u{feff}'), "a byte-order mark for Excel");
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(
        header.contains("问卷编号")
            && header.contains("具备职业健康素养")
            && header.contains("（sex）"),
        "{header}"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 30, "the filter applies to the export");
    // the sites of this plan have no stratum or weight: the design columns stay empty, the
    // places are named
    let headers: Vec<&str> = header.trim_start_matches('\u{feff}').split(',').collect();
    let at = |name: &str| headers.iter().position(|h| *h == name).unwrap();
    for row in &rows {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(
            (
                cells[at("抽样层")],
                cells[at("抽样权重")],
                cells[at("整群（抽样单位）")]
            ),
            ("", "", ""),
            "{row}"
        );
        assert_eq!(cells[at("区县名称")], "渝中区");
        assert!(cells[at("调查点名称")].starts_with("调查点 yz-"), "{row}");
    }
    assert!(
        rows.iter()
            .all(|r| r.contains("教师") || r.contains("老师")),
        "value labels, not keys"
    );
    let (_, codebook) = w.get(&cookie, "/dashboard/codebook.csv").await;
    assert!(
        codebook.contains("population,") && codebook.contains("teacher = "),
        "{}",
        &codebook[..200.min(codebook.len())]
    );

    let response = w
        .http
        .get(format!("{}/dashboard/export.xlsx", w.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-zhisu-rows"], "90");
    let bytes = response.bytes().await.unwrap();
    // read it back: a workbook with a data sheet and a codebook sheet, 91 rows of data (the
    // header and 90 interviews), the Chinese headers and value labels among its strings
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut read = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut text).unwrap();
        text
    };
    let workbook = read("xl/workbook.xml");
    assert!(
        workbook.contains("name=\"数据\"") && workbook.contains("name=\"编码本\""),
        "{workbook}"
    );
    let data = read("xl/worksheets/sheet1.xml");
    assert_eq!(data.matches("<row ").count(), 91);
    let codebook = read("xl/worksheets/sheet2.xml");
    assert!(
        codebook.matches("<row ").count() > 100,
        "every item in the codebook"
    );
    let strings = read("xl/sharedStrings.xml");
    assert!(strings.contains("具备职业健康素养") && strings.contains("问卷编号"));
    assert!(
        strings.contains("男") && strings.contains("建筑"),
        "value labels"
    );
}

#[tokio::test]
async fn interviews_stored_before_the_facts_existed_get_them_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let questionnaires = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
    let path = dir.path().join("server.sqlite3");
    let q = ohl();
    let mut rng = Rng::new(7);
    let who = Respondent {
        population: "teacher",
        sex: "female",
        age: 33,
        education: "college",
        industry: "education",
        ability: 100,
        straight_line: false,
    };
    let interview = generate::interview(
        &q,
        Uuid::from_u128(5),
        generate::answers(&q, &who, &mut rng),
        Utc.with_ymd_and_hms(2026, 11, 1, 1, 0, 0).unwrap(),
        1200,
        None,
    );
    {
        let state = zhisu_server::open_sqlite(&path, &questionnaires).unwrap();
        let receipts = zhisu_server_service::ingest::ingest(&state, vec![interview], None).unwrap();
        assert_eq!(receipts[0].status, zhisu_protocol::ReceiptStatus::Stored);
    }
    // the facts of the estimate tables (schema 13) as ingest took them
    let facts_13 = |path: &std::path::Path| -> Vec<Option<String>> {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.query_row(
            "SELECT employer_size, ownership, employment_form, migrant, modules, measures
             FROM interview",
            [],
            |r| (0..6).map(|i| r.get(i)).collect(),
        )
        .unwrap()
    };
    let ingested = facts_13(&path);
    assert!(
        ingested[4]
            .as_deref()
            .is_some_and(|m| m.contains(['0', '1'])),
        "{ingested:?}"
    );
    assert!(
        ingested[5]
            .as_deref()
            .is_some_and(|m| m.contains(['0', '1'])),
        "{ingested:?}"
    );
    // stored by a server of schema 12: every fact but those of the estimate tables
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE interview SET modules = NULL, measures = NULL", [])
        .unwrap();
    drop(conn);
    let state = zhisu_server::open_sqlite(&path, &questionnaires).unwrap();
    assert_eq!(facts_13(&path), ingested, "filled in at start");
    let report = analysis::literacy(
        state.storage.as_ref(),
        &state.questionnaires,
        &Scope::All,
        "ohl_2026",
        &Filter::default(),
        30,
        "zh-CN",
    )
    .unwrap();
    let overall = report.overall.unwrap();
    assert_eq!(
        (overall.n, overall.successes),
        (1, 1),
        "the cells count it once, after its facts were set again"
    );
    drop(state);

    // as a server before schema 6 would have left it, upgraded: no facts
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE interview SET items_correct = NULL, sex = NULL, population = NULL,
             employer_size = NULL, ownership = NULL, employment_form = NULL, migrant = NULL,
             modules = NULL, measures = NULL",
        [],
    )
    .unwrap();
    drop(conn);
    let state = zhisu_server::open_sqlite(&path, &questionnaires).unwrap();
    assert_eq!(
        facts_13(&path),
        ingested,
        "the estimate tables' facts filled in again"
    );
    let report = analysis::literacy(
        state.storage.as_ref(),
        &state.questionnaires,
        &Scope::All,
        "ohl_2026",
        &Filter {
            sex: Some("female".into()),
            ..Filter::default()
        },
        30,
        "zh-CN",
    )
    .unwrap();
    let overall = report.overall.unwrap();
    assert_eq!(
        (overall.n, overall.successes),
        (1, 1),
        "filled in at start and counted"
    );
}

/// With a sample plan (strata, clusters = sites, weights), the figures are design-based: the
/// weighted proportion and a Taylor-linearised interval, computed here from the formulas in
/// docs/statistics.md, written out independently of zhisu-stats.
#[tokio::test]
async fn with_a_sample_plan_the_estimates_are_design_based() {
    let dir = tempfile::tempdir().unwrap();
    let questionnaires = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
    let state =
        zhisu_server::open_sqlite(&dir.path().join("server.sqlite3"), &questionnaires).unwrap();
    // two strata of three sites each; every worker at a site stands for `weight` workers
    let plan = [
        ("s1", "small", 12.0),
        ("s2", "small", 20.0),
        ("s3", "small", 8.0),
        ("s4", "large", 50.0),
        ("s5", "large", 35.0),
        ("s6", "large", 60.0),
    ];
    let sites: Vec<zhisu_protocol::Site> = plan
        .iter()
        .map(|(id, stratum, weight)| zhisu_protocol::Site {
            id: id.to_string(),
            district: "yuzhong".into(),
            name: id.to_string(),
            site_type: "enterprise".into(),
            stratum: Some(stratum.to_string()),
            weight: Some(*weight),
            ..Default::default()
        })
        .collect();
    state
        .storage
        .replace_sites(
            "yuzhong",
            &sites,
            &zhisu_server_storage::AuditEntry::now("test", "test", ""),
        )
        .unwrap();
    let (device, _) = zhisu_server_tests::enrol(&state, "2026", "yuzhong", "t");
    let q = ohl();
    let mut rng = Rng::new(11);
    let mut interviews = Vec::new();
    for n in 0..48u128 {
        let site = plan[n as usize % 6].0;
        let who = Respondent {
            population: "construction",
            // no woman at s3: that cluster has no member of the domain "women"
            sex: if n % 6 != 2 && n % 2 == 0 {
                "female"
            } else {
                "male"
            },
            age: 30,
            education: "senior",
            industry: "construction",
            ability: 50 + 8 * (n as u64 % 6),
            straight_line: false,
        };
        let answers = generate::answers(&q, &who, &mut rng);
        interviews.push(generate::interview(
            &q,
            Uuid::from_u128(3000 + n),
            answers,
            Utc.with_ymd_and_hms(2026, 11, 20, 1, 0, 0).unwrap(),
            1500,
            Some(site),
        ));
    }
    zhisu_server_service::ingest::ingest(&state, interviews.clone(), Some(&device)).unwrap();

    // by hand: ratio estimator, linearised, with-replacement variance between clusters
    let ys: Vec<(usize, f64, f64)> = interviews
        .iter()
        .map(|i| {
            let site = plan
                .iter()
                .position(|p| Some(p.0) == i.site_id.as_deref())
                .unwrap();
            let y = if q.score(&i.answers).has_literacy {
                1.0
            } else {
                0.0
            };
            (site, plan[site].2, y)
        })
        .collect();
    let total_w: f64 = ys.iter().map(|(_, w, _)| w).sum();
    let p = ys.iter().map(|(_, w, y)| w * y).sum::<f64>() / total_w;
    let z: Vec<f64> = (0..6)
        .map(|c| {
            ys.iter()
                .filter(|(s, _, _)| *s == c)
                .map(|(_, w, y)| w * (y - p))
                .sum::<f64>()
                / total_w
        })
        .collect();
    let mut v = 0.0;
    for stratum in [[0, 1, 2], [3, 4, 5]] {
        let mean = stratum.iter().map(|&c| z[c]).sum::<f64>() / 3.0;
        v += 3.0 / 2.0 * stratum.iter().map(|&c| (z[c] - mean).powi(2)).sum::<f64>();
    }
    let se = v.sqrt();
    let t4 = 2.776445105; // Student t, 97.5 %, 6 clusters − 2 strata = 4 degrees of freedom
    let report = analysis::literacy(
        state.storage.as_ref(),
        &state.questionnaires,
        &Scope::All,
        "ohl_2026",
        &Filter::default(),
        30,
        "zh-CN",
    )
    .unwrap();
    assert_eq!(report.method, zhisu_stats::Method::DesignTaylor);
    assert!(
        report.method_note.contains("Taylor"),
        "{}",
        report.method_note
    );
    let o = report.overall.unwrap();
    assert_eq!(o.n, 48);
    assert!((o.proportion - p).abs() < 1e-12, "{} vs {p}", o.proportion);
    assert!(
        (o.interval.low - (p - t4 * se).max(0.0)).abs() < 1e-4
            && (o.interval.high - (p + t4 * se).min(1.0)).abs() < 1e-4,
        "{:?} vs {} ± {}",
        o.interval,
        p,
        t4 * se
    );
    assert!(o.deff.is_some());

    // a filtered report is the same domain estimate as that row of the full report: the
    // clusters without women still belong to the design
    let women_row = report
        .breakdowns
        .iter()
        .find(|b| b.by == analysis::By::Sex)
        .unwrap()
        .rows
        .iter()
        .find(|r| r.key == "female")
        .unwrap()
        .clone();
    let women = analysis::literacy(
        state.storage.as_ref(),
        &state.questionnaires,
        &Scope::All,
        "ohl_2026",
        &Filter {
            sex: Some("female".into()),
            ..Filter::default()
        },
        30,
        "zh-CN",
    )
    .unwrap()
    .overall
    .unwrap();
    assert_eq!(
        (women.n, women.successes),
        (women_row.n, women_row.successes)
    );
    assert!((women.proportion - women_row.proportion).abs() < 1e-12);
    assert!(
        (women.interval.low - women_row.interval.low).abs() < 1e-12,
        "{women:?} vs {women_row:?}"
    );
    assert!((women.interval.high - women_row.interval.high).abs() < 1e-12);
}

/// An interview recorded far from its site (the device's paradata position against the site's
/// position in the sample plan) is flagged for review; one recorded at the site is not.
#[tokio::test]
async fn interviews_recorded_far_from_their_site_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let questionnaires = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
    let state =
        zhisu_server::open_sqlite(&dir.path().join("server.sqlite3"), &questionnaires).unwrap();
    let site = (29.5579, 106.5770);
    state
        .storage
        .replace_sites(
            "yuzhong",
            &[zhisu_protocol::Site {
                id: "yz-1".into(),
                district: "yuzhong".into(),
                name: "解放碑某工地".into(),
                site_type: "enterprise".into(),
                latitude: Some(site.0),
                longitude: Some(site.1),
                ..Default::default()
            }],
            &zhisu_server_storage::AuditEntry::now("test", "test", ""),
        )
        .unwrap();
    let (device, _) = zhisu_server_tests::enrol(&state, "2026", "yuzhong", "t");
    let q = ohl();
    let mut rng = Rng::new(5);
    let who = Respondent {
        population: "construction",
        sex: "male",
        age: 40,
        education: "junior",
        industry: "construction",
        ability: 70,
        straight_line: false,
    };
    let located = |n: u128, pos: (f64, f64), rng: &mut Rng| {
        let mut i = generate::interview(
            &q,
            Uuid::from_u128(n),
            generate::answers(&q, &who, rng),
            Utc.with_ymd_and_hms(2026, 11, 20, 1, 0, 0).unwrap(),
            1500,
            Some("yz-1"),
        );
        i.paradata = Some(zhisu_core::Paradata {
            duration_ms: 1_500_000,
            location_start: Some(zhisu_core::Location {
                latitude: pos.0,
                longitude: pos.1,
                accuracy_m: 15.0,
                at_ms: 1_000,
            }),
            ..Default::default()
        });
        i.sealed()
    };
    let near = located(1, (29.5585, 106.5775), &mut rng);
    let far = located(2, (29.6100, 106.5770), &mut rng); // about 5.8 km north
    let receipts =
        zhisu_server_service::ingest::ingest(&state, vec![near, far], Some(&device)).unwrap();
    assert!(receipts
        .iter()
        .all(|r| r.status == zhisu_protocol::ReceiptStatus::Stored));
    let queue = state.storage.qc_queue(&Scope::All, None, 10).unwrap();
    let flags = |id: u128| -> Vec<&'static str> {
        queue
            .iter()
            .find(|e| e.id == Uuid::from_u128(id))
            .map(|e| e.flags.iter().map(|f| f.code()).collect())
            .unwrap_or_default()
    };
    assert_eq!(flags(2), vec!["far_from_site"]);
    assert!(
        flags(1).is_empty(),
        "recorded at the site: not in the queue"
    );
}

/// Two interviews at one site with the same background answers suggest the same worker was
/// interviewed twice: both go to the review queue, each pointing at the other.
#[tokio::test]
async fn a_repeated_respondent_is_suspected() {
    let w = world().await;
    let q = ohl();
    let who = Respondent {
        population: "construction",
        sex: "female",
        age: 41,
        education: "junior",
        industry: "construction",
        ability: 70,
        straight_line: false,
    };
    // the same seed: the same background answers
    let twins: Vec<CompletedInterview> = (0..2u128)
        .map(|n| {
            generate::interview(
                &q,
                Uuid::from_u128(8_000 + n),
                generate::answers(&q, &who, &mut Rng::new(42)),
                Utc.with_ymd_and_hms(2026, 11, 21, 2, n as u32, 0).unwrap(),
                1500,
                Some("yz-1"),
            )
        })
        .collect();
    let response = w
        .http
        .post(format!("{}{UPLOAD_PATH}", w.base))
        .bearer_auth(&w.token)
        .header(PROTOCOL_HEADER, "1")
        .json(&json!({ "interviews": twins }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let queue = w.state.storage.qc_queue(&Scope::All, None, 500).unwrap();
    for twin in &twins {
        let entry = queue
            .iter()
            .find(|e| e.id == twin.id)
            .expect("in the queue");
        assert_eq!(entry.same_fingerprint, 1);
    }
    let suspected = queue.iter().filter(|e| e.same_fingerprint > 0).count();
    assert_eq!(
        suspected, 2,
        "the 90 different respondents are not suspected"
    );
    let cookie = w.sign_in("yz-super").await;
    let (_, html) = w.get(&cookie, "/dashboard/qc").await;
    assert_eq!(html.matches("data-flag=\"duplicate_suspect\"").count(), 2);
}

/// The full report, and reports narrowed by district or population, come from the literacy
/// cells; every other report reads the interviews. Both must give the same figures for every
/// scope: design-based (two districts, strata with one and with several sites, a site of the
/// plan without interviews) and unweighted (an interview without a site), after rejections and
/// a rejection taken back.
#[tokio::test]
async fn reports_from_the_literacy_cells_equal_reports_from_the_interviews() {
    use zhisu_server_storage::{QcStatus, Review};
    let dir = tempfile::tempdir().unwrap();
    let questionnaires = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
    let state =
        zhisu_server::open_sqlite(&dir.path().join("server.sqlite3"), &questionnaires).unwrap();
    let plan: [(&str, &str, &str, f64); 7] = [
        ("yuzhong", "y1", "yz-small", 12.0),
        ("yuzhong", "y2", "yz-small", 20.0),
        ("yuzhong", "y3", "yz-large", 45.0),
        ("jiangbei", "j1", "jb-all", 30.0),
        ("jiangbei", "j2", "jb-all", 18.0),
        ("jiangbei", "j3", "jb-all", 25.0),
        ("jiangbei", "j4", "jb-all", 40.0), // sampled, nobody interviewed yet
    ];
    let sites = |district: &str, with_plan: bool| -> Vec<zhisu_protocol::Site> {
        plan.iter()
            .filter(|p| p.0 == district)
            .map(|&(d, id, stratum, weight)| zhisu_protocol::Site {
                id: id.into(),
                district: d.into(),
                name: id.into(),
                site_type: "enterprise".into(),
                stratum: with_plan.then(|| stratum.to_string()),
                weight: with_plan.then_some(weight),
                ..Default::default()
            })
            .collect()
    };
    for d in ["yuzhong", "jiangbei"] {
        state
            .storage
            .replace_sites(
                d,
                &sites(d, true),
                &zhisu_server_storage::AuditEntry::now("test", "test", ""),
            )
            .unwrap();
    }
    let q = ohl();
    let mut rng = Rng::new(0xce11);
    let mut ids = Vec::new();
    for (d, district) in ["yuzhong", "jiangbei"].into_iter().enumerate() {
        let (device, _) = zhisu_server_tests::enrol(&state, "2026", district, "t");
        let site_ids: Vec<&str> = plan
            .iter()
            .filter(|p| p.0 == district && p.1 != "j4")
            .map(|p| p.1)
            .collect();
        let mut interviews = Vec::new();
        for n in 0..60u128 {
            let population =
                ["teacher", "construction", "sanitation", "medical"][rng.below(4) as usize];
            let who = Respondent {
                population,
                sex: ["male", "female"][rng.below(2) as usize],
                age: 16 + rng.below(44) as i64,
                education: ["primary", "junior", "senior", "college"][rng.below(4) as usize],
                industry: ["construction", "education", "health"][rng.below(3) as usize],
                ability: 45 + rng.below(50),
                straight_line: false,
            };
            let answers = generate::answers(&q, &who, &mut rng);
            let id = Uuid::from_u128(5000 + 100 * d as u128 + n);
            ids.push(id);
            interviews.push(generate::interview(
                &q,
                id,
                answers,
                Utc.with_ymd_and_hms(2026, 11, 20, 1, 0, 0).unwrap(),
                1500,
                Some(site_ids[rng.below(site_ids.len() as u64) as usize]),
            ));
        }
        zhisu_server_service::ingest::ingest(&state, interviews, Some(&device)).unwrap();
    }
    let decide = |id: Uuid, status: QcStatus| {
        let review = Review {
            status,
            comment: "抽查".into(),
            reviewer: "city".into(),
            at: Utc::now(),
        };
        state
            .storage
            .review(
                &Scope::All,
                id,
                &review,
                &zhisu_server_storage::AuditEntry::now("test", "review_interview", "analysis"),
            )
            .unwrap()
            .unwrap();
    };
    for &id in ids.iter().step_by(7) {
        decide(id, QcStatus::Rejected);
    }
    decide(ids[7], QcStatus::Approved);

    let scopes = [
        Scope::All,
        Scope::District("yuzhong".into()),
        Scope::District("jiangbei".into()),
        Scope::District("nowhere".into()),
        Scope::Populations(vec!["teacher".into()]),
        Scope::Populations(vec!["teacher".into(), "medical".into()]),
    ];
    let filters = [
        Filter::default(),
        Filter {
            population: Some("construction".into()),
            ..Filter::default()
        },
        Filter {
            district: Some("jiangbei".into()),
            ..Filter::default()
        },
        Filter {
            district: Some("yuzhong".into()),
            population: Some("teacher".into()),
            ..Filter::default()
        },
    ];
    let compare = |method: zhisu_stats::Method| {
        let mut checked = 0;
        for scope in &scopes {
            for filter in &filters {
                assert!(filter.cells_can_answer());
                let args = (state.storage.as_ref(), &*state.questionnaires, scope);
                let cells =
                    analysis::literacy(args.0, args.1, args.2, "ohl_2026", filter, 30, "zh-CN")
                        .unwrap();
                let interviews = analysis::literacy_from_interviews(
                    args.0, args.1, args.2, "ohl_2026", filter, 30, "zh-CN",
                )
                .unwrap();
                let what = format!("{scope:?} {filter:?}");
                same_report(&cells, &interviews, &what);
                // the weakest items read the same selection (narrowed in the query when the
                // filter allows): the core items are asked of everyone in it
                let items = analysis::weakest_items(
                    args.0, args.1, args.2, "ohl_2026", filter, 30, "zh-CN",
                )
                .unwrap();
                assert_eq!(
                    items.iter().map(|i| i.asked).max(),
                    cells.overall.as_ref().map(|o| o.n),
                    "{what}"
                );
                // from the item cells, the same items, counts and order as from every
                // interview's facts
                let from_facts = analysis::weakest_items_from_facts(
                    args.0, args.1, args.2, "ohl_2026", filter, 30, "zh-CN",
                )
                .unwrap();
                assert_eq!(items, from_facts, "{what}");
                // an empty selection (another district, nowhere) has no estimate to make
                if cells.overall.is_some() {
                    checked += 1;
                    if method == zhisu_stats::Method::DesignTaylor
                        || (*scope == Scope::All && filter.is_empty())
                    {
                        assert_eq!(cells.method, method, "{what}");
                    }
                }
            }
        }
        assert!(checked >= 15, "{checked} reports with figures");
    };
    compare(zhisu_stats::Method::DesignTaylor);
    // an interview without a site: the selections holding it are no longer all in the plan
    let (device, _) = zhisu_server_tests::enrol(&state, "2026", "yuzhong", "t2");
    let who = Respondent {
        population: "teacher",
        sex: "female",
        age: 33,
        education: "college",
        industry: "education",
        ability: 90,
        straight_line: false,
    };
    let answers = generate::answers(&q, &who, &mut rng);
    let lone = generate::interview(
        &q,
        Uuid::from_u128(6000),
        answers,
        Utc.with_ymd_and_hms(2026, 11, 21, 1, 0, 0).unwrap(),
        1500,
        None,
    );
    zhisu_server_service::ingest::ingest(&state, vec![lone], Some(&device)).unwrap();
    compare(zhisu_stats::Method::UnweightedWilson);
}

/// The same figures, to rounding (the cells multiply a site's weight by its counts where the
/// interviews add it once per interview).
fn same_report(a: &analysis::LiteracyReport, b: &analysis::LiteracyReport, what: &str) {
    assert_eq!(a.method, b.method, "{what}");
    let same = |x: &analysis::Estimate, y: &analysis::Estimate| {
        assert_eq!(
            (&x.key, &x.label, x.n, x.successes, x.method, x.small),
            (&y.key, &y.label, y.n, y.successes, y.method, y.small),
            "{what}"
        );
        for (p, q) in [
            (x.proportion, y.proportion),
            (x.interval.low, y.interval.low),
            (x.interval.high, y.interval.high),
            (x.deff.unwrap_or(-1.0), y.deff.unwrap_or(-1.0)),
        ] {
            assert!((p - q).abs() < 1e-9, "{what}: {x:?} vs {y:?}");
        }
    };
    assert_eq!(a.overall.is_some(), b.overall.is_some(), "{what}");
    if let (Some(x), Some(y)) = (&a.overall, &b.overall) {
        same(x, y);
    }
    assert_eq!(a.dimensions.len(), b.dimensions.len(), "{what}");
    for (x, y) in a.dimensions.iter().zip(&b.dimensions) {
        same(x, y);
    }
    assert_eq!(a.breakdowns.len(), b.breakdowns.len(), "{what}");
    for (x, y) in a.breakdowns.iter().zip(&b.breakdowns) {
        assert_eq!((x.by, x.rows.len()), (y.by, y.rows.len()), "{what}");
        for (r, s) in x.rows.iter().zip(&y.rows) {
            same(r, s);
        }
    }
}

/// The CSV export is written as it is read, a page of interviews at a time: an export across
/// several pages holds every interview once, in order of receipt, with the same rows as the
/// table built in one piece; a download the client stops is cut short and audited as such.
#[tokio::test]
async fn the_csv_export_streams_every_interview_once_across_pages() {
    let w = world().await;
    let q = ohl();
    let mut rng = Rng::new(0xc5f);
    let more: Vec<CompletedInterview> = (0..1_150u128)
        .map(|n| {
            let who = Respondent {
                population: POPULATIONS[n as usize % 3],
                sex: "female",
                age: 30,
                education: "senior",
                industry: "construction",
                ability: 70,
                straight_line: false,
            };
            let answers = generate::answers(&q, &who, &mut rng);
            generate::interview(
                &q,
                Uuid::from_u128(50_000 + n),
                answers,
                Utc.with_ymd_and_hms(2026, 11, 21, 1, 0, 0).unwrap(),
                1500,
                Some("yz-1"),
            )
        })
        .collect();
    for chunk in more.chunks(100) {
        let receipts =
            zhisu_server_service::ingest::ingest(&w.state, chunk.to_vec(), None).unwrap();
        assert!(receipts
            .iter()
            .all(|r| r.status == zhisu_protocol::ReceiptStatus::Stored));
    }
    let total = w.interviews.len() + more.len();
    assert!(total > 2 * zhisu_server_service::export::CSV_PAGE);
    let cookie = w.sign_in("city").await;
    let (status, csv) = w.get(&cookie, "/dashboard/export.csv").await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.trim_end_matches("\r\n").split("\r\n").collect();
    assert!(lines[0].starts_with('\u{feff}'));
    let ids: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids.len(), total, "every interview, once");
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), total);
    // the same text as the table built in one piece from every interview
    let all = w.state.storage.interviews(&Scope::All).unwrap();
    let table = zhisu_server_service::export::table(
        &w.state,
        &all,
        "ohl_2026",
        &Filter::default(),
        "zh-CN",
        chrono::FixedOffset::east_opt(8 * 3600).unwrap(),
    )
    .unwrap();
    assert_eq!(
        csv,
        zhisu_server_service::export::csv_text(&table.headers, &table.rows)
    );
    // the XLSX's table, read page by page, is the same table
    let paged = zhisu_server_service::export::table_of_store(
        &w.state,
        &Scope::All,
        "ohl_2026",
        &Filter::default(),
        "zh-CN",
        chrono::FixedOffset::east_opt(8 * 3600).unwrap(),
        false,
    )
    .unwrap();
    assert_eq!((&paged.headers, &paged.rows), (&table.headers, &table.rows));
    let audited = |w: &World| {
        w.state
            .storage
            .audit_log(10)
            .unwrap()
            .into_iter()
            .find(|e| e.action == "export")
            .map(|e| e.detail)
            .unwrap()
    };
    assert!(
        audited(&w).ends_with(&format!(": {total} rows")),
        "{}",
        audited(&w)
    );

    // a reader that stops after the first chunk stops the export there (the service's word
    // for a download the client dropped; over HTTP the socket's buffers may take the rest first)
    let mut chunks = 0;
    let (rows, finished) = zhisu_server_service::export::write_csv(
        &w.state,
        &Scope::All,
        "ohl_2026",
        &Filter::default(),
        "zh-CN",
        chrono::FixedOffset::east_opt(8 * 3600).unwrap(),
        false,
        &mut |_| {
            chunks += 1;
            false
        },
    )
    .unwrap();
    assert_eq!((chunks, finished), (1, false));
    assert_eq!(
        rows,
        zhisu_server_service::export::CSV_PAGE,
        "the first page only"
    );
    // over HTTP: a download dropped after its first bytes is audited when it ends, and the
    // server goes on serving
    let mut response = w
        .http
        .get(format!("{}/dashboard/export.csv", w.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.chunk().await.unwrap().is_some());
    drop(response);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while w
        .state
        .storage
        .audit_log(10)
        .unwrap()
        .iter()
        .filter(|e| e.action == "export")
        .count()
        < 2
    {
        assert!(std::time::Instant::now() < deadline, "no audit entry");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (status, again) = w.get(&cookie, "/dashboard/export.csv").await;
    assert_eq!((status, again.len()), (200, csv.len()));
}

/// The item-analysis page reads the store a page of interviews at a time (memory flat over a
/// million interviews); whatever the page size, and in every role's scope, its figures are
/// those of the analysis of every interview loaded at once.
#[test]
fn item_analysis_read_page_by_page_equals_the_analysis_of_all_interviews() {
    use zhisu_server_service::item_analysis::{item_analysis, item_analysis_of_store};
    let dir = tempfile::tempdir().unwrap();
    let questionnaires = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
    let state =
        zhisu_server::open_sqlite(&dir.path().join("server.sqlite3"), &questionnaires).unwrap();
    let reviewer = state
        .add_person("city", "city", "a-long-password", Role::CityAdmin, "test")
        .unwrap()
        .expect("a new person");
    let summary = state.load_demo("2026", Some(&reviewer), 7).unwrap();
    assert!(
        summary.reviews > 0,
        "some reviewed, rejected ones among them"
    );
    let qid = zhisu_server_service::demo::DEMO_QUESTIONNAIRE;
    let districts: Vec<String> = state
        .storage
        .interviews(&Scope::All)
        .unwrap()
        .iter()
        .filter_map(|i| i.district.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(districts.len() >= 2, "{districts:?}");
    let scopes = [
        Scope::All,
        Scope::District(districts[0].clone()),
        Scope::Populations(vec!["teacher".into(), "construction".into()]),
    ];
    let filters = [
        Filter::default(),
        Filter {
            district: Some(districts[1].clone()),
            ..Filter::default()
        },
    ];
    for scope in &scopes {
        let all = state.storage.interviews(scope).unwrap();
        for filter in &filters {
            let whole = item_analysis(&state.questionnaires, &all, qid, filter, "zh-CN");
            assert!(
                whole.analysis.respondents > 0 || filter.district.is_some(),
                "{scope:?}"
            );
            for page in [1, 7, 500, 100_000] {
                let paged = item_analysis_of_store(
                    state.storage.as_ref(),
                    scope,
                    &state.questionnaires,
                    qid,
                    filter,
                    "zh-CN",
                    page,
                )
                .unwrap();
                assert_eq!(
                    paged.analysis, whole.analysis,
                    "{scope:?} {filter:?} {page}"
                );
                assert_eq!(paged.item_labels, whole.item_labels);
                assert_eq!(paged.group_labels, whole.group_labels);
            }
        }
    }
    // a questionnaire the server does not have: an empty report, not an error
    let none = item_analysis_of_store(
        state.storage.as_ref(),
        &Scope::All,
        &state.questionnaires,
        "no_such_questionnaire",
        &Filter::default(),
        "en",
        10,
    )
    .unwrap();
    assert_eq!((none.version, none.analysis.respondents), (None, 0));
}

/// The district's weak points a tablet receives with its assignment are computed once and
/// given out again until they are `WEAK_POINTS_KEPT` old (issue 19: every poll used to read
/// every interview of the district); a server keeping them for no time computes them anew.
#[tokio::test(flavor = "multi_thread")]
async fn the_weak_points_tablets_receive_are_kept_for_a_while_then_computed_anew() {
    let w = world().await;
    let weak_points = |base: String, token: String| async move {
        assignment(&base, &token)
            .await
            .weak_items
            .get("ohl_2026")
            .cloned()
            .unwrap_or_default()
    };
    let computed = |state: &ServerState| -> Vec<String> {
        analysis::weakest_items(
            state.storage.as_ref(),
            &state.questionnaires,
            &Scope::District("yuzhong".into()),
            "ohl_2026",
            &Filter::default(),
            1,
            "zh-CN",
        )
        .unwrap()
        .into_iter()
        .take(zhisu_server_service::outreach::WEAK_POINTS)
        .map(|i| i.item_id)
        .collect()
    };
    let before = weak_points(w.base.clone(), w.token.clone()).await;
    assert_eq!(before, computed(&w.state));
    assert_eq!(before.len(), zhisu_server_service::outreach::WEAK_POINTS);

    // 200 more interviews, every answer right but one true/false item that was not weak
    let q = ohl();
    let item = q
        .items
        .iter()
        .find(|i| {
            matches!(i.kind, zhisu_core::ItemKind::TrueFalse)
                && i.scoring.is_some()
                && !before.contains(&i.id)
        })
        .expect("a true/false item outside the weak points");
    let zhisu_core::AnswerValue::Bool(right) = item.scoring.as_ref().unwrap().key else {
        panic!("a true/false item's key is a yes or no");
    };
    let mut rng = Rng::new(19);
    let start = Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap();
    let more: Vec<CompletedInterview> = (0..200u128)
        .map(|n| {
            let who = Respondent {
                population: POPULATIONS[n as usize % 3],
                sex: if n % 2 == 0 { "male" } else { "female" },
                age: 20 + (n as i64 * 3) % 39,
                education: "senior",
                industry: "construction",
                ability: 100,
                straight_line: false,
            };
            let mut answers = generate::answers(&q, &who, &mut rng);
            if answers.contains_key(&item.id) {
                answers.insert(item.id.clone(), zhisu_core::AnswerValue::Bool(!right));
            }
            generate::interview(
                &q,
                Uuid::from_u128(5000 + n),
                answers,
                start,
                1500,
                Some("yz-1"),
            )
        })
        .collect();
    let receipts = zhisu_server_service::ingest::ingest(&w.state, more, None).unwrap();
    assert!(receipts
        .iter()
        .all(|r| r.status == zhisu_protocol::ReceiptStatus::Stored));
    let now = computed(&w.state);
    assert_eq!(
        now[0], item.id,
        "the item answered wrong is the weakest now"
    );

    // the same server gives out the points it computed
    assert_eq!(weak_points(w.base.clone(), w.token.clone()).await, before);
    // a server that keeps them for no time computes them at each poll
    let fresh = w
        .state
        .clone()
        .keeping_weak_points_for(std::time::Duration::ZERO);
    let base = zhisu_server_tests::serve_on_loopback(fresh).await;
    assert_eq!(weak_points(base, w.token.clone()).await, now);
}
