//! The dashboard in a real headless Chromium (chromedriver), against the real server on a
//! loopback port with its SQLite file: each role signs in through the form, opens every view,
//! the figures are checked against the database (read here with SQL), a supervisor rejects a
//! flagged interview through the page, and an export is downloaded with the browser's session
//! and read back. Screenshots of every view go to target/tmp/dashboard-screenshots/.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use fantoccini::{Client, ClientBuilder, Locator};
use uuid::Uuid;
use zhisu_e2e::{free_port, workspace_root};
use zhisu_server_storage::Role;
use zhisu_server_tests::generate::{self, Respondent, Rng};

const PASSWORD: &str = "dashboard-password";

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

async fn screenshot(client: &Client, dir: &Path, name: &str) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// (interviews counted, with literacy) for a role's scope, straight from the database.
fn counted(db: &Path, condition: &str) -> (u64, u64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        &format!("SELECT count(*), coalesce(sum(has_literacy), 0) FROM interview WHERE qc_status != 'rejected' AND {condition}"),
        [],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
    )
    .unwrap()
}

#[tokio::test]
async fn each_role_sees_its_figures_in_a_real_browser() {
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
    // two districts' devices, 40 interviews each
    let mut rng = Rng::new(99);
    for (d, district) in ["yuzhong", "jiangbei"].into_iter().enumerate() {
        state
            .storage
            .replace_sites(
                district,
                &[zhisu_protocol::Site {
                    id: format!("{district}-1"),
                    district: district.into(),
                    name: format!("{district} 建筑工地"),
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
                industry: "construction",
                ability: if population == "teacher" { 88 } else { 70 },
                straight_line: false,
            };
            let answers = generate::answers(&q, &who, &mut rng);
            let seconds = if n == 7 { 90 } else { 1400 };
            batch.push(generate::interview(
                &q,
                Uuid::from_u128(((d as u128) << 32) + n),
                answers,
                Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap(),
                seconds,
                Some(&format!("{district}-1")),
            ));
        }
        let receipts = zhisu_server_service::ingest::ingest(&state, batch, Some(&device)).unwrap();
        assert!(receipts
            .iter()
            .all(|r| r.status == zhisu_protocol::ReceiptStatus::Stored));
    }
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;

    let shots: PathBuf = workspace_root().join("target/tmp/dashboard-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let driver_port = free_port();
    let _driver = chromedriver(driver_port);

    for (user, condition) in [
        ("city", "1=1"),
        ("yz-admin", "district = 'yuzhong'"),
        ("yz-super", "district = 'yuzhong'"),
        ("education", "population = 'teacher'"),
    ] {
        let client = browser(driver_port).await;
        client
            .goto(&format!("{base}/dashboard/literacy"))
            .await
            .unwrap();
        assert!(
            client
                .current_url()
                .await
                .unwrap()
                .path()
                .ends_with("/dashboard/login"),
            "signed out: the sign-in page"
        );
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
        screenshot(&client, &shots, &format!("{user}-progress")).await;
        let (n, k) = counted(&db, condition);
        let total = text(&client, "#total").await;
        assert!(
            total.contains(&n.to_string()),
            "{user}: progress shows {n} interviews: {total}"
        );

        client
            .goto(&format!("{base}/dashboard/literacy"))
            .await
            .unwrap();
        let shown_n: u64 = text(&client, "#overall .n").await.parse().unwrap();
        assert_eq!(shown_n, n, "{user}: n on the page = n in the database");
        let level = text(&client, "#overall .level").await;
        assert_eq!(
            level,
            format!("{:.1}%", k as f64 * 100.0 / n as f64),
            "{user}: the level is k/n of the database"
        );
        assert!(
            client.find(Locator::Css("#chart-dimensions")).await.is_ok(),
            "a chart with whiskers"
        );
        screenshot(&client, &shots, &format!("{user}-literacy")).await;

        client
            .goto(&format!("{base}/dashboard/items"))
            .await
            .unwrap();
        assert!(
            client
                .find_all(Locator::Css("#items tr[data-item]"))
                .await
                .unwrap()
                .len()
                > 30
        );
        screenshot(&client, &shots, &format!("{user}-items")).await;

        client
            .goto(&format!("{base}/dashboard/qc?status=all"))
            .await
            .unwrap();
        screenshot(&client, &shots, &format!("{user}-qc")).await;

        client
            .goto(&format!("{base}/dashboard/report"))
            .await
            .unwrap();
        let summary = text(&client, "#summary").await;
        assert!(
            summary.contains(&n.to_string()),
            "{user}: the report's sample: {summary}"
        );
        screenshot(&client, &shots, &format!("{user}-report")).await;

        if user == "yz-super" {
            // reject the fast interview of Yuzhong through the page
            let fast = Uuid::from_u128(7);
            client.goto(&format!("{base}/dashboard/qc")).await.unwrap();
            let row = client
                .find(Locator::Id(&format!("qc-{fast}")))
                .await
                .unwrap();
            assert!(row.text().await.unwrap().contains("答题太快"));
            row.find(Locator::Css("textarea"))
                .await
                .unwrap()
                .send_keys("用时太短，需要重新调查")
                .await
                .unwrap();
            row.find(Locator::Css("button[value=rejected]"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            client.wait().for_element(Locator::Css("h1")).await.unwrap();
            let conn = rusqlite::Connection::open(&db).unwrap();
            let status: String = conn
                .query_row(
                    "SELECT qc_status FROM interview WHERE id = ?1",
                    [fast.to_string()],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(status, "rejected");
            client
                .goto(&format!("{base}/dashboard/literacy"))
                .await
                .unwrap();
            let after: u64 = text(&client, "#overall .n").await.parse().unwrap();
            assert_eq!(after, n - 1, "the rejected interview left the estimate");
        }

        if user == "city" {
            // the export, downloaded with the browser's own session, read back
            let cookie = client.get_named_cookie("zhisu_session").await.unwrap();
            let http = reqwest::Client::new();
            let csv = http
                .get(format!("{base}/dashboard/export.csv"))
                .header("cookie", format!("zhisu_session={}", cookie.value()))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(csv.lines().count() - 1, 80, "every interview of the city");
            assert!(csv.lines().next().unwrap().contains("具备职业健康素养"));
            let xlsx = http
                .get(format!("{base}/dashboard/export.xlsx"))
                .header("cookie", format!("zhisu_session={}", cookie.value()))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            assert_eq!(&xlsx[..2], b"PK");
            // the export link in the page shows its progress and the number of interviews
            client
                .goto(&format!("{base}/dashboard/literacy"))
                .await
                .unwrap();
            client
                .find(Locator::Id("export-csv"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let status = text(&client, "#export-status").await;
                if status.contains("完成") {
                    assert!(
                        status.contains("80 份问卷") && status.contains(".csv"),
                        "{status}"
                    );
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "the export did not finish: {status}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let bar = client
                .execute(
                    "const p = document.getElementById('export-progress'); return [p.value, p.max];",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(bar[0], bar[1], "the bar is full: {bar}");
            assert!(
                bar[1].as_f64().unwrap() > 1000.0,
                "its maximum is the file's length: {bar}"
            );
            screenshot(&client, &shots, "city-export-done").await;
            // English works too
            client
                .goto(&format!("{base}/dashboard/literacy?lang=en"))
                .await
                .unwrap();
            assert!(text(&client, "h1").await.contains("literacy"));
            screenshot(&client, &shots, "city-literacy-en").await;
        }
        client.close().await.unwrap();
    }
}

/// Serves `pages` (path → HTML) on a fresh loopback port: a page of another origin (same
/// host, other port: the same *site*, so the browser sends the SameSite=Strict cookie along).
async fn foreign_site(pages: Vec<(&'static str, String)>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let pages = pages.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 8192];
                let n = socket.read(&mut buffer).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buffer[..n]);
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                let body = pages
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map_or_else(String::new, |(_, html)| html.clone());
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    base
}

/// A signed-in supervisor opens pages of another origin that try to reject an interview, sign
/// them out and disable a person: in a real Chromium, none of it changes anything.
#[tokio::test]
async fn pages_of_another_origin_change_nothing_in_a_real_browser() {
    let _one = zhisu_e2e::ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite3");
    let questionnaires = workspace_root().join("questionnaires");
    let state = zhisu_server::open_sqlite(&db, &questionnaires).unwrap();
    let supervisor = Role::Supervisor {
        district: "yuzhong".into(),
    };
    state
        .add_person("yz-super", "督导", PASSWORD, supervisor, "test")
        .unwrap();
    state
        .add_person("city", "市管理员", PASSWORD, Role::CityAdmin, "test")
        .unwrap();
    let q = zhisu_core::Questionnaire::from_toml(
        "ohl_2026.toml",
        &std::fs::read_to_string(questionnaires.join("ohl_2026.toml")).unwrap(),
    )
    .unwrap();
    let code = state
        .create_enrolment_code("2026", "yuzhong", chrono::Duration::days(1), "test")
        .unwrap();
    let device_id = state.enrol(&code, "平板").unwrap().unwrap().device_id;
    let device = state.storage.device(device_id).unwrap().unwrap();
    let who = Respondent {
        population: "construction",
        sex: "male",
        age: 30,
        education: "senior",
        industry: "construction",
        ability: 70,
        straight_line: false,
    };
    let fast = Uuid::from_u128(1);
    let answers = generate::answers(&q, &who, &mut Rng::new(5));
    let interview = generate::interview(
        &q,
        fast,
        answers,
        Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap(),
        60,
        None,
    );
    zhisu_server_service::ingest::ingest(&state, vec![interview], Some(&device)).unwrap();
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;
    let foreign = foreign_site(vec![
        (
            "/reject",
            format!(
                r#"<form id="f" method="post" action="{base}/dashboard/qc/{fast}">
                   <input name="status" value="rejected"><input name="comment" value="forged">
                   </form><script>document.getElementById('f').submit()</script>"#
            ),
        ),
        (
            "/logout",
            format!(
                r#"<form id="f" method="post" action="{base}/dashboard/logout"></form>
                   <script>document.getElementById('f').submit()</script>"#
            ),
        ),
        (
            "/disable",
            format!(
                r#"<script>fetch('{base}/api/v1/people/city/disable', {{method: 'POST', credentials: 'include'}})
                   .then(function (r) {{ document.title = 'answered ' + r.status; }})
                   .catch(function () {{ document.title = 'blocked'; }});</script>"#
            ),
        ),
    ])
    .await;

    let driver_port = free_port();
    let _driver = chromedriver(driver_port);
    let client = browser(driver_port).await;
    client
        .goto(&format!("{base}/dashboard/login"))
        .await
        .unwrap();
    client
        .find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys("yz-super")
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

    let qc_status = || -> String {
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row(
                "SELECT qc_status FROM interview WHERE id = ?1",
                [fast.to_string()],
                |r| r.get(0),
            )
            .unwrap()
    };
    // the forged review form is submitted by the browser, cookie and all
    client.goto(&format!("{foreign}/reject")).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while client
        .current_url()
        .await
        .unwrap()
        .as_str()
        .starts_with(&foreign)
    {
        assert!(
            Instant::now() < deadline,
            "the foreign form was not submitted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(qc_status(), "unreviewed", "a foreign form decided a review");
    // the forged sign-out
    client.goto(&format!("{foreign}/logout")).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while client
        .current_url()
        .await
        .unwrap()
        .as_str()
        .starts_with(&foreign)
    {
        assert!(
            Instant::now() < deadline,
            "the foreign form was not submitted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // the script's request to the API
    client.goto(&format!("{foreign}/disable")).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let title = client.title().await.unwrap();
        if title.starts_with("answered") || title == "blocked" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the foreign script did not finish"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let disabled: Option<String> = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT disabled_at FROM person WHERE username = 'city'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(disabled, None, "a foreign script disabled a person");
    // still signed in, and the page's own form still works
    client.goto(&format!("{base}/dashboard/qc")).await.unwrap();
    let row = client
        .find(Locator::Id(&format!("qc-{fast}")))
        .await
        .expect("still signed in: the QC queue");
    row.find(Locator::Css("button[value=approved]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client.wait().for_element(Locator::Css("h1")).await.unwrap();
    assert_eq!(qc_status(), "approved");
    let log: Vec<String> = state
        .storage
        .audit_log(100)
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert!(
        !log.iter().any(|a| a == "sign_out" || a == "disable_person"),
        "{log:?}"
    );
    client.close().await.unwrap();
}
