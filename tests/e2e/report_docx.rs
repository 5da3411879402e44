//! The annual report (DOCX) per role, end to end: the real server on a loopback port with its
//! SQLite file, each role signing in through the dashboard's form in headless Chromium, the
//! report page's download link followed with the browser's session, the document unzipped and
//! its `word/document.xml` checked against the database (read here with SQL) for that scope and
//! not another district's (and, for what the server does not hold, a plain statement), and its first pages rendered by LibreOffice (DOCX → PDF) and
//! pdftoppm (PDF → PNG) into target/tmp/report-screenshots/. The API's route gives the same
//! document to a session token and `401 {code, message}` without one.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use fantoccini::{Client, ClientBuilder, Locator};
use uuid::Uuid;
use zhisu_e2e::{free_port, workspace_root};
use zhisu_server_storage::Role;
use zhisu_server_tests::generate::{self, Respondent, Rng};

const PASSWORD: &str = "report-password";

struct Chromedriver(Child);

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromedriver(port: u16) -> Chromedriver {
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {bin} (install chromium-driver: scripts/install-deps.sh): {e}")
        });
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Chromedriver(child)
}

async fn browser(driver_port: u16) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=zh-CN"]
        }),
    );
    ClientBuilder::native()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("a Chromium session from chromedriver")
}

/// (interviews, with literacy, with literacy in each of the four dimensions) of the stored
/// interviews that count (not rejected) under `condition`, straight from the database.
fn counted(db: &Path, condition: &str) -> (u64, u64, [u64; 4]) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        &format!(
            "SELECT count(*), coalesce(sum(has_literacy), 0),
                    coalesce(sum(dimension_literacy & 1 != 0), 0), coalesce(sum(dimension_literacy & 2 != 0), 0),
                    coalesce(sum(dimension_literacy & 4 != 0), 0), coalesce(sum(dimension_literacy & 8 != 0), 0)
             FROM interview WHERE qc_status != 'rejected' AND {condition}"
        ),
        [],
        |r| {
            let g = |i| r.get::<_, i64>(i).map(|v| v as u64);
            Ok((g(0)?, g(1)?, [g(2)?, g(3)?, g(4)?, g(5)?]))
        },
    )
    .unwrap()
}

/// What a role's report must say: (user, the SQL condition of its scope, the title's subject,
/// district names it must hold, names it must not hold).
type Expected = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

/// k of n as the report prints a level (the share, then in percent, to 0.1).
fn level(k: u64, n: u64) -> String {
    format!("{:.1}%", (k as f64 / n as f64) * 100.0)
}

/// The text of a DOCX's body (`word/document.xml`) and how many pictures it holds.
fn document_xml(docx: &[u8]) -> (String, usize) {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx)).expect("a DOCX is a ZIP");
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .expect("a DOCX has word/document.xml")
        .read_to_string(&mut xml)
        .unwrap();
    let pictures = zip
        .file_names()
        .filter(|n| n.starts_with("word/media/") && n.ends_with(".png"))
        .count();
    (xml, pictures)
}

/// DOCX → PDF with LibreOffice, then its first pages → PNG with pdftoppm, into `shots` as
/// `{name}-1.png`, …; returns the first page's file.
fn render(docx: &[u8], shots: &Path, name: &str) -> PathBuf {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join(format!("{name}.docx"));
    std::fs::write(&input, docx).unwrap();
    let soffice = std::env::var("SOFFICE").unwrap_or_else(|_| "soffice".into());
    // its own profile folder: no clash with another LibreOffice running on the machine
    let profile = format!(
        "-env:UserInstallation=file://{}",
        work.path().join("profile").display()
    );
    let status = Command::new(&soffice)
        .args([profile.as_str(), "--headless", "--convert-to", "pdf", "--outdir"])
        .arg(work.path())
        .arg(&input)
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| {
            panic!("cannot run {soffice}: LibreOffice converts the report to PDF for its screenshot (install libreoffice-writer-nogui: scripts/install-deps.sh): {e}")
        });
    assert!(
        status.success(),
        "{soffice} could not convert {name}.docx to PDF: {status}"
    );
    let pdf = work.path().join(format!("{name}.pdf"));
    assert!(pdf.exists(), "{soffice} wrote no PDF for {name}.docx");
    let prefix = shots.join(name);
    let status = Command::new("pdftoppm")
        .args(["-png", "-r", "60", "-f", "1", "-l", "3"])
        .arg(&pdf)
        .arg(&prefix)
        .status()
        .unwrap_or_else(|e| {
            panic!("cannot run pdftoppm: it renders the report's pages as PNG (install poppler-utils: scripts/install-deps.sh): {e}")
        });
    assert!(status.success(), "pdftoppm failed on {name}.pdf: {status}");
    let first = shots.join(format!("{name}-1.png"));
    let png =
        std::fs::read(&first).unwrap_or_else(|e| panic!("no first page {}: {e}", first.display()));
    assert!(png.starts_with(b"\x89PNG"), "the first page is a PNG");
    first
}

#[tokio::test]
async fn each_role_downloads_its_annual_report_from_the_dashboard() {
    let _one = zhisu_e2e::ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite3");
    let questionnaires = workspace_root().join("questionnaires");
    let state = zhisu_server::open_sqlite(&db, &questionnaires).unwrap();
    for (user, role) in [
        ("city", Role::CityAdmin),
        (
            "yz-admin",
            Role::DistrictAdmin {
                district: "yuzhong".into(),
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
            .add_person(user, user, PASSWORD, role, "test")
            .unwrap();
    }
    let q = zhisu_core::Questionnaire::from_toml(
        "ohl_2026.toml",
        &std::fs::read_to_string(questionnaires.join("ohl_2026.toml")).unwrap(),
    )
    .unwrap();
    // two districts, 40 interviews each: teachers answer better than construction workers, and
    // the districts differ (Jiangbei's construction workers answer worst)
    let mut rng = Rng::new(7);
    for (d, district) in ["yuzhong", "jiangbei"].into_iter().enumerate() {
        state
            .storage
            .replace_sites(
                district,
                &[zhisu_protocol::Site {
                    id: format!("{district}-1"),
                    district: district.into(),
                    name: format!("{district} 工地"),
                    site_type: "enterprise".into(),
                    quotas: [
                        ("teacher".to_string(), 30),
                        ("construction".to_string(), 30),
                    ]
                    .into_iter()
                    .collect(),
                    ..Default::default()
                }],
                &zhisu_server_storage::AuditEntry::now("test", "test", ""),
            )
            .unwrap();
        let code = state
            .create_enrolment_code("2026", district, chrono::Duration::days(1), "test")
            .unwrap();
        let device_id = state.enrol(&code, "平板").unwrap().unwrap().device_id;
        let device = state.storage.device(device_id).unwrap().unwrap();
        let mut batch = Vec::new();
        for n in 0..40u128 {
            let population = if n % 2 == 0 {
                "teacher"
            } else {
                "construction"
            };
            let who = Respondent {
                population,
                sex: if n % 3 == 0 { "female" } else { "male" },
                age: 22 + (n as i64 % 35),
                education: "senior",
                industry: if population == "teacher" {
                    "education"
                } else {
                    "construction"
                },
                ability: match (population, d) {
                    ("teacher", _) => 88,
                    (_, 0) => 72,
                    _ => 60,
                },
                straight_line: false,
            };
            let answers = generate::answers(&q, &who, &mut rng);
            batch.push(generate::interview(
                &q,
                Uuid::from_u128(((d as u128) << 32) + n),
                answers,
                Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap(),
                1400,
                Some(&format!("{district}-1")),
            ));
        }
        let receipts = zhisu_server_service::ingest::ingest(&state, batch, Some(&device)).unwrap();
        assert!(receipts
            .iter()
            .all(|r| r.status == zhisu_protocol::ReceiptStatus::Stored));
        // contacts that did not end in an interview: Yuzhong has more
        let mut contacts = Vec::new();
        let outcomes: &[(zhisu_core::Disposition, Option<&str>)] = if d == 0 {
            use zhisu_core::Disposition::*;
            &[
                (Refused, None),
                (Refused, None),
                (Refused, None),
                (NotEligible, None),
                (NotEligible, None),
                (Partial, Some("teacher")),
            ]
        } else {
            &[(zhisu_core::Disposition::Refused, None)]
        };
        for (n, (disposition, population)) in outcomes.iter().enumerate() {
            let started_at = Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).unwrap();
            let partial = *disposition == zhisu_core::Disposition::Partial;
            contacts.push(
                zhisu_protocol::ContactOutcome {
                    id: Uuid::from_u128((9 << 64) + ((d as u128) << 32) + n as u128),
                    questionnaire_id: q.id.clone(),
                    questionnaire_version: q.version.clone(),
                    started_at,
                    ended_at: started_at + chrono::Duration::seconds(200),
                    utc_offset_minutes: 480,
                    disposition: *disposition,
                    reason: partial.then(|| "被叫去上工".to_string()),
                    items_answered: if partial { 5 } else { 1 },
                    excluded_by: if *disposition == zhisu_core::Disposition::NotEligible {
                        vec!["age".to_string()]
                    } else {
                        Vec::new()
                    },
                    site_id: Some(format!("{district}-1")),
                    surveyor_id: None,
                    population: population.map(str::to_string),
                    content_hash: String::new(),
                }
                .sealed(),
            );
        }
        let receipts =
            zhisu_server_service::ingest::ingest_contacts(&state, contacts, Some(&device)).unwrap();
        assert!(receipts
            .iter()
            .all(|r| r.status == zhisu_protocol::ReceiptStatus::Stored));
    }
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;
    let shots = workspace_root().join("target/tmp/report-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let driver_port = free_port();
    let _driver = chromedriver(driver_port);
    let http = reqwest::Client::new();

    let roles: [Expected; 4] = [
        ("city", "1=1", "全市", &["渝中区", "江北区"], &[]),
        (
            "yz-admin",
            "district = 'yuzhong'",
            "渝中区",
            &["渝中区"],
            &["江北区", "全市"],
        ),
        (
            "yz-super",
            "district = 'yuzhong'",
            "渝中区",
            &["渝中区"],
            &["江北区", "全市"],
        ),
        (
            "education",
            "population = 'teacher'",
            "学校老师",
            &["渝中区", "江北区"],
            &["全市"],
        ),
    ];
    for (user, condition, subject, present, absent) in roles {
        let client = browser(driver_port).await;
        client
            .goto(&format!("{base}/dashboard/login"))
            .await
            .unwrap();
        client
            .find(Locator::Id("username"))
            .await
            .unwrap()
            .send_keys(user)
            .await
            .unwrap();
        client
            .find(Locator::Id("password"))
            .await
            .unwrap()
            .send_keys(PASSWORD)
            .await
            .unwrap();
        client
            .find(Locator::Id("sign-in"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client
            .wait()
            .for_element(Locator::Id("total"))
            .await
            .unwrap();

        // the HTML quick view: display names in its title, the same scope as the document
        client
            .goto(&format!("{base}/dashboard/report"))
            .await
            .unwrap();
        let title = client
            .find(Locator::Id("report-title"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(
            title,
            format!("{subject}职业健康素养监测报告"),
            "{user}: the page's title"
        );
        let link = client.find(Locator::Id("report-docx")).await.unwrap();
        let href = link.attr("href").await.unwrap().expect("the download link");
        assert!(href.starts_with("/dashboard/report.docx"), "{href}");

        // the document, downloaded with the browser's session
        let cookie = client.get_named_cookie("zhisu_session").await.unwrap();
        let response = http
            .get(format!("{base}{href}"))
            .header("cookie", format!("zhisu_session={}", cookie.value()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{user}: the download");
        assert_eq!(
            response.headers()["content-type"],
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        let docx = response.bytes().await.unwrap().to_vec();
        std::fs::write(shots.join(format!("{user}-report.docx")), &docx).unwrap();
        let (xml, pictures) = document_xml(&docx);

        let (n, k, dims) = counted(&db, condition);
        assert!(n > 0);
        assert!(
            xml.contains(&format!("{subject}职业健康素养监测报告")),
            "{user}: the document's title names {subject}"
        );
        assert!(
            xml.contains(&format!(
                "共调查有效问卷 {n} 份，职业健康素养水平为 {}",
                level(k, n)
            )),
            "{user}: the document gives the database's n = {n} and level {}",
            level(k, n)
        );
        for (dimension, successes) in ["law", "knowledge", "skills", "behaviour"].iter().zip(dims) {
            assert!(
                xml.contains(&level(successes, n)),
                "{user}: the level of {dimension} from the database, {}",
                level(successes, n)
            );
        }
        // the contact outcomes: the database's counts, with the rates except in a population
        // scope
        let conn = rusqlite::Connection::open(&db).unwrap();
        let contacts = |disposition: &str| -> i64 {
            conn.query_row(
                &format!(
                    "SELECT count(*) FROM contact WHERE disposition = '{disposition}' AND {condition}"
                ),
                [],
                |r| r.get(0),
            )
            .unwrap()
        };
        let (partial, refused, not_eligible) = (
            contacts("partial"),
            contacts("refused"),
            contacts("not_eligible"),
        );
        let sentence = format!(
            "共接触 {} 人：完成 {n}，中途停止 {partial}，拒绝 {refused}，不符合条件 {not_eligible}，",
            n as i64 + partial + refused + not_eligible
        );
        assert!(xml.contains(&sentence), "{user}: {sentence}");
        assert_eq!(
            xml.contains("应答率 RR1"),
            user != "education",
            "{user}: the rates"
        );
        for name in present {
            assert!(xml.contains(name), "{user}: the document names {name}");
        }
        for name in absent {
            assert!(
                !xml.contains(name),
                "{user}: the document must not hold {name}"
            );
        }
        // each district's row shows its own figures
        for (district, name) in [("yuzhong", "渝中区"), ("jiangbei", "江北区")] {
            if !present.contains(&name) || user == "yz-admin" {
                continue;
            }
            let (dn, dk, _) = counted(&db, &format!("{condition} AND district = '{district}'"));
            assert!(
                xml.contains(&dn.to_string()) && xml.contains(&level(dk, dn)),
                "{user}: {name}'s row: n = {dn}, level {}",
                level(dk, dn)
            );
        }
        match user {
            "education" => {
                assert!(
                    !xml.contains("建筑工人专题"),
                    "a department viewer's report holds no other population's module"
                );
                assert!(xml.contains("教师专题"));
            }
            _ => assert!(xml.contains("建筑工人专题") && xml.contains("教师专题")),
        }
        for section in [
            "一、概述与方法",
            "二、样本情况",
            "六、最薄弱的知识点",
            "七、健康状况和相关指标",
            "九、建议（草稿）",
        ] {
            assert!(xml.contains(section), "{user}: the section {section}");
        }
        // not made up: no earlier round and no targets are stored
        assert!(xml.contains("本报告不作与上一轮的比较"), "{user}");
        assert!(
            xml.contains("服务器上没有录入本轮的目标值或参考水平"),
            "{user}"
        );
        assert!(
            pictures >= 3,
            "{user}: the charts are pictures ({pictures})"
        );

        let page = render(&docx, &shots, &format!("{user}-report"));
        assert!(std::fs::metadata(&page).unwrap().len() > 1000);
        client.close().await.unwrap();
    }

    // the API: the same document for a session token, in that person's scope
    let token: serde_json::Value = http
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "yz-admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap();
    let response = http
        .get(format!("{base}/api/v1/report.docx?lang=en"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let english = response.bytes().await.unwrap().to_vec();
    render(&english, &shots, "yz-admin-report-en");
    let (xml, _) = document_xml(&english);
    let (n, k, _) = counted(&db, "district = 'yuzhong'");
    assert!(xml.contains("Yuzhong District: occupational health literacy monitoring report"));
    assert!(xml.contains(&format!(
        "{n} valid interviews; the occupational health literacy level is {}",
        level(k, n)
    )));
    assert!(
        !xml.contains("Jiangbei"),
        "the API answers in the caller's scope"
    );
    let refused = http
        .get(format!("{base}/api/v1/report.docx"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");

    // every download is in the audit log, with who asked and in which scope
    let log = state.storage.audit_log(1000).unwrap();
    for (user, scope) in [
        ("city", "All"),
        ("yz-admin", "District(\"yuzhong\")"),
        ("education", "Populations([\"teacher\"])"),
    ] {
        assert!(
            log.iter().any(|e| e.actor == user
                && e.action == "report"
                && e.detail.contains(&format!("scope {scope}"))),
            "{user}: the download is audited"
        );
    }
}
