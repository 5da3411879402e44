//! The dashboard in a real headless Chromium (chromedriver), against the real server on a
//! loopback port with its SQLite file: each role signs in through the form, opens every view,
//! the figures are checked against the database (read here with SQL), a supervisor rejects a
//! flagged interview through the page, and an export is downloaded with the browser's session
//! and read back. Every view of every role (the recordings, the enrolment sheet and the question
//! before revoking a tablet included) is checked at 1280 px and at 412 px (a phone): no
//! sideways scrolling, chart labels inside their charts, one name per chart, touch targets of
//! 44 px on the narrow screen, axe-core's WCAG 2.1 A/AA rules; and the keyboard paths: the skip
//! link, the focus after a refused sign-in and after a review. Screenshots of every view go to
//! target/tmp/dashboard-screenshots/.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use fantoccini::{Client, ClientBuilder, Locator};
use uuid::Uuid;
use zhisu_e2e::{axe_violations, free_port, workspace_root};
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

/// What is wrong with the page's layout at the window's width: sideways scrolling of the page,
/// chart labels outside their chart, charts sharing a name, the navigation's current page,
/// and (at 720 px or less) touch targets under 44 × 44 px.
const LAYOUT_PROBLEMS: &str = r#"
const problems = [];
const describe = function (e) {
  return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().replace(/\s+/g, '.') : '') + ' "' + (e.textContent || e.value || '').trim().slice(0, 30) + '"';
};
const root = document.documentElement;
if (root.scrollWidth > root.clientWidth) {
  const wide = Array.from(document.querySelectorAll('body *'))
    .filter(function (e) { return !e.closest('.scroll') && e.getBoundingClientRect().right > root.clientWidth + 1; })
    .slice(0, 5).map(describe);
  problems.push('the page scrolls sideways: ' + root.scrollWidth + ' > ' + root.clientWidth + ' px; too wide: ' + wide.join(', '));
}
// a picture that is not a chart (a QR code) is named by what holds it, or hidden
document.querySelectorAll('svg:not(.chart)').forEach(function (svg) {
  if (!svg.closest('[role=img][aria-label], [aria-hidden=true]')) problems.push('a picture without a name: ' + describe(svg.parentElement));
});
const names = new Set();
document.querySelectorAll('svg.chart').forEach(function (svg) {
  const name = svg.getAttribute('aria-label');
  if (svg.getAttribute('role') !== 'img' || !name) problems.push('a chart without a name: ' + describe(svg));
  if (names.has(name)) problems.push('two charts named ' + name);
  names.add(name);
  const box = svg.viewBox.baseVal;
  svg.querySelectorAll('text').forEach(function (t) {
    const b = t.getBBox();
    if (b.x < box.x - 0.5 || b.x + b.width > box.x + box.width + 0.5) problems.push('a chart label is cut off: "' + t.textContent + '" (' + Math.round(b.x) + ' to ' + Math.round(b.x + b.width) + ' of ' + box.x + ' to ' + (box.x + box.width) + ')');
  });
});
const nav = document.querySelector('header nav');
if (nav) {
  // a view of the navigation, or a page under one (a questionnaire's recordings), is marked by
  // exactly its link; a page the navigation does not list (the enrolment sheet) marks none
  const current = Array.from(nav.querySelectorAll('a[aria-current=page]'));
  const mine = Array.from(nav.querySelectorAll('a[href]')).filter(function (a) {
    const path = new URL(a.href).pathname;
    return path === location.pathname || location.pathname.startsWith(path + '/');
  });
  if (mine.length > 0 ? current.length !== 1 || mine.indexOf(current[0]) < 0 : current.length !== 0) problems.push('the navigation does not mark this page as the current one');
}
if (window.innerWidth <= 720) {
  document.querySelectorAll('a[href], button, select, input:not([type=hidden]), textarea').forEach(function (e) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return;
    if (r.width < 44 || r.height < 44) problems.push('a target of ' + Math.round(r.width) + ' x ' + Math.round(r.height) + ' px: ' + describe(e));
  });
}
return problems;
"#;

/// Checks the page shown: its layout (see [`LAYOUT_PROBLEMS`]) and axe-core's WCAG 2.1 A/AA rules.
async fn check_page(client: &Client, what: &str) {
    let problems = client.execute(LAYOUT_PROBLEMS, vec![]).await.unwrap();
    let problems: Vec<&str> = problems
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
    let violations = axe_violations(client).await;
    assert!(
        violations.is_empty(),
        "{what}: axe-core finds\n{}",
        violations.join("\n")
    );
}

/// Sets the window so that the page is `width` CSS pixels wide.
async fn window_width(client: &Client, width: u32, height: u32) {
    client.set_window_size(width, height).await.unwrap();
    let inner = client
        .execute("return window.innerWidth;", vec![])
        .await
        .unwrap();
    assert_eq!(inner.as_u64(), Some(u64::from(width)), "the page's width");
}

/// The element that has the keyboard's focus: (tag, id, id of the row it is in).
async fn focused(client: &Client) -> (String, String, String) {
    let f = client
        .execute(
            "const e = document.activeElement; const row = e.closest('tr'); \
             return [e.tagName.toLowerCase(), e.id || '', row ? row.id : ''];",
            vec![],
        )
        .await
        .unwrap();
    let part = |i: usize| f[i].as_str().unwrap_or_default().to_string();
    (part(0), part(1), part(2))
}

async fn press(client: &Client, key: &str) {
    client
        .active_element()
        .await
        .unwrap()
        .send_keys(key)
        .await
        .unwrap();
}

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

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

/// The item-analysis page and `zhisu questionnaire analyse` on the page's own export give the
/// same figures: the export's labels read back into the same answers, scored by the same rules.
async fn the_export_analysed_by_the_cli_agrees(client: &Client, base: &str) {
    let cookie = zhisu_server_tests::dashboard_sign_in(base, "city", PASSWORD).await;
    let csv = reqwest::Client::new()
        .get(format!("{base}/dashboard/export.csv"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.csv");
    std::fs::write(&export, &csv).unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from);
    let zhisu = target.join("debug/zhisu");
    assert!(
        zhisu.exists(),
        "{} is built (cargo build --workspace --all-targets)",
        zhisu.display()
    );
    let output = Command::new(&zhisu)
        .args(["questionnaire", "analyse", "--json", "--questionnaire"])
        .arg(workspace_root().join("questionnaires/ohl_2026.toml"))
        .arg(&export)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let cli: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(cli["unread"], serde_json::json!([]), "every cell read back");
    let items = cli["analysis"]["items"].as_array().unwrap();
    let mut flagged = 0;
    for item in items {
        let id = item["id"].as_str().unwrap();
        let shown = text(
            client,
            &format!("#item-analysis tr[data-item='{id}'] td.difficulty"),
        )
        .await;
        let expected = item["difficulty"]
            .as_f64()
            .map_or("–".to_string(), |p| format!("{:.1}%", p * 100.0));
        assert_eq!(
            shown, expected,
            "{id}: share right on the page and from the CLI"
        );
        let shown = text(
            client,
            &format!("#item-analysis tr[data-item='{id}'] td.discrimination"),
        )
        .await;
        let expected = item["discrimination"]
            .as_f64()
            .map_or("–".to_string(), |r| format!("{r:.2}"));
        assert_eq!(
            shown, expected,
            "{id}: discrimination on the page and from the CLI"
        );
        let row = format!("#item-analysis tr[data-item='{id}']");
        let shown = text(client, &format!("{row} td.alpha-if-deleted")).await;
        let expected = item["alpha_if_deleted"]
            .as_f64()
            .map_or("–".to_string(), |a| format!("{a:.2}"));
        assert_eq!(shown, expected, "{id}: alpha if deleted");
        for option in item["options"].as_array().unwrap() {
            let (key, share) = (option[0].as_str().unwrap(), option[1].as_f64().unwrap());
            let shown = text(client, &format!("{row} li[data-option='{key}'] .share")).await;
            assert_eq!(
                shown,
                format!("{:.1}%", share * 100.0),
                "{id}: the share choosing {key}"
            );
        }
        let mut flags_shown = Vec::new();
        for li in client
            .find_all(Locator::Css(&format!("{row} li.flag")))
            .await
            .unwrap()
        {
            flags_shown.push(li.attr("data-flag").await.unwrap().unwrap());
        }
        let flags: Vec<String> = item["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["flag"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(flags_shown, flags, "{id}: the flags");
        flagged += usize::from(!flags.is_empty());
    }
    assert!(
        flagged > 0,
        "some item is flagged, so the flags are compared"
    );
    for group in cli["analysis"]["groups"].as_array().unwrap() {
        let id = group["group"].as_str().unwrap();
        let shown = text(client, &format!("#alpha tr[data-group='{id}'] td.alpha")).await;
        let expected = group["alpha"]
            .as_f64()
            .map_or("–".to_string(), |a| format!("{a:.2}"));
        assert_eq!(shown, expected, "{id}: alpha on the page and from the CLI");
    }
}

#[tokio::test]
async fn each_role_sees_its_figures_in_a_real_browser() {
    let _one = zhisu_e2e::ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite3");
    let questionnaires = workspace_root().join("questionnaires");
    let state = zhisu_server::open_sqlite(&db, &questionnaires).unwrap();
    state.load_starter_library().unwrap();
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
    // the district's surveyors (issue 15): one active, one retired
    for name in ["王芳", "刘伟"] {
        let made = zhisu_server_service::surveyors::add_surveyor(
            &state,
            "yz-admin",
            &Role::CityAdmin,
            &zhisu_server_service::surveyors::SurveyorInput {
                district: "yuzhong".into(),
                name: name.into(),
                pin: "2468".into(),
            },
            "zh-CN",
        )
        .unwrap();
        if name == "刘伟" {
            zhisu_server_service::surveyors::retire_surveyor(
                &state,
                "yz-admin",
                &Role::CityAdmin,
                &made.id,
                "zh-CN",
            )
            .unwrap();
        }
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
                    // a time-slot quota (issue #15) spanning every interview of the test, so
                    // that the progress page's slot table is drawn and checked for each role
                    time_slots: vec![zhisu_protocol::TimeSlot {
                        label: "全天".into(),
                        first_day: "2020-01-01".parse().unwrap(),
                        last_day: "2035-12-31".parse().unwrap(),
                        from: "00:00".into(),
                        to: "24:00".into(),
                        target: 60,
                    }],
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
            let seconds = match n {
                7 => 90,
                9 => 100,
                _ => 1400,
            };
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
        check_page(&client, "the sign-in page").await;
        if user == "city" {
            // a wrong password: the page opens at the message, the username kept
            window_width(&client, 412, 915).await;
            check_page(&client, "the sign-in page at 412 px").await;
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
                .send_keys("wrong password")
                .await
                .unwrap();
            press(&client, ENTER).await;
            client
                .wait()
                .for_element(Locator::Id("sign-in-error"))
                .await
                .unwrap();
            assert_eq!(
                focused(&client).await.1,
                "sign-in-error",
                "the focus is on the message"
            );
            let kept = client.find(Locator::Id("username")).await.unwrap();
            assert_eq!(kept.prop("value").await.unwrap().as_deref(), Some(user));
            let password = client.find(Locator::Id("password")).await.unwrap();
            assert_eq!(password.prop("value").await.unwrap().as_deref(), Some(""));
            check_page(&client, "the sign-in page after a wrong password").await;
            screenshot(&client, &shots, "sign-in-wrong-412").await;
            window_width(&client, 1280, 900).await;
            kept.clear().await.unwrap();
        }
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
        check_page(&client, &format!("{user}: progress")).await;
        // the skip link is the first Tab stop and takes the keyboard to the content
        press(&client, TAB).await;
        let (tag, _, _) = focused(&client).await;
        let skip = client
            .execute("return document.activeElement.className;", vec![])
            .await
            .unwrap();
        assert_eq!(
            (tag.as_str(), skip.as_str()),
            ("a", Some("skip")),
            "the first Tab"
        );
        press(&client, ENTER).await;
        assert_eq!(
            focused(&client).await.1,
            "main",
            "the skip link leads to the content"
        );
        let (n, k) = counted(&db, condition);
        // each time slot's done / target: the interviews at its site in the role's scope
        let slots = client
            .find_all(Locator::Css("#by-slot tr[data-site]"))
            .await
            .unwrap();
        let wanted_slots = if condition.starts_with("district") {
            1
        } else {
            2
        };
        assert_eq!(slots.len(), wanted_slots, "{user}: the slots in scope");
        for row in slots {
            let site = row.attr("data-site").await.unwrap().unwrap();
            let done: u64 = row
                .attr("data-done")
                .await
                .unwrap()
                .unwrap()
                .parse()
                .unwrap();
            let district = site.trim_end_matches("-1");
            let (expected, _) = counted(
                &db,
                &format!("{condition} AND district = '{district}' AND site_id = '{site}'"),
            );
            assert_eq!(done, expected, "{user}: slot of {site}");
        }
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
        check_page(&client, &format!("{user}: literacy")).await;

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
        check_page(&client, &format!("{user}: items")).await;

        client
            .goto(&format!("{base}/dashboard/item-analysis"))
            .await
            .unwrap();
        let respondents: u64 = text(&client, "#summary .respondents")
            .await
            .parse()
            .unwrap();
        assert_eq!(
            respondents, n,
            "{user}: item analysis over the scope's interviews"
        );
        let rows = client
            .find_all(Locator::Css("#item-analysis tr[data-item]"))
            .await
            .unwrap();
        assert!(rows.len() > 30, "{user}: every scored item");
        if user == "city" {
            the_export_analysed_by_the_cli_agrees(&client, &base).await;
        }
        screenshot(&client, &shots, &format!("{user}-item-analysis")).await;
        check_page(&client, &format!("{user}: item analysis")).await;

        client
            .goto(&format!("{base}/dashboard/qc?status=all"))
            .await
            .unwrap();
        screenshot(&client, &shots, &format!("{user}-qc")).await;
        check_page(&client, &format!("{user}: quality control")).await;

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
        check_page(&client, &format!("{user}: report")).await;

        // the trainees' record (issue 24)
        client
            .goto(&format!("{base}/dashboard/training"))
            .await
            .unwrap();
        screenshot(&client, &shots, &format!("{user}-training")).await;
        check_page(&client, &format!("{user}: practice record")).await;

        // every page on a phone's width, in both languages
        window_width(&client, 412, 915).await;
        for view in [
            "progress",
            "literacy",
            "measures",
            "items",
            "item-analysis",
            "qc?status=all",
            "report",
            "rounds",
            "references",
            "quality",
            "quality?by=site&sort=rr1&desc=1",
            "recordings",
            "recordings/ohl_2026/2026.2",
            "enrolment-sheet",
            "outreach",
            "library",
            "library?piece=heat",
            "library/handout?piece=heat&piece=noise",
            "library/handout?weakest=6",
            "training",
            "backchecks",
            // the district's surveyors (issue 15): not shown to department viewers
            "surveyors",
        ]
        .into_iter()
        .filter(|view| *view != "surveyors" || user != "education")
        {
            for lang in ["zh-CN", "en"] {
                let sep = if view.contains('?') { '&' } else { '?' };
                client
                    .goto(&format!("{base}/dashboard/{view}{sep}lang={lang}"))
                    .await
                    .unwrap();
                check_page(&client, &format!("{user}: {view} in {lang} at 412 px")).await;
                let name = view.split('?').next().unwrap().replace('/', "-");
                screenshot(&client, &shots, &format!("{user}-{name}-{lang}-412")).await;
            }
        }
        if user == "city" {
            // the pages behind a form, on a phone's width: the printable enrolment sheet and
            // the question before a tablet is revoked
            for lang in ["zh-CN", "en"] {
                client
                    .goto(&format!("{base}/dashboard/enrolment-sheet?lang={lang}"))
                    .await
                    .unwrap();
                let district = client
                    .find(Locator::Css("input[name=district]"))
                    .await
                    .unwrap();
                district.send_keys("yuzhong").await.unwrap();
                let count = client
                    .find(Locator::Css("input[name=count]"))
                    .await
                    .unwrap();
                count.clear().await.unwrap();
                count.send_keys("2").await.unwrap();
                client
                    .find(Locator::Id("make-sheet"))
                    .await
                    .unwrap()
                    .click()
                    .await
                    .unwrap();
                client
                    .wait()
                    .at_most(Duration::from_secs(20))
                    .for_element(Locator::Css("main svg"))
                    .await
                    .expect("the sheet's QR codes");
                check_page(&client, &format!("the enrolment sheet in {lang} at 412 px")).await;
                screenshot(&client, &shots, &format!("city-enrolment-sheet-{lang}-412")).await;

                client
                    .goto(&format!("{base}/dashboard/progress?lang={lang}"))
                    .await
                    .unwrap();
                client
                    .find(Locator::Css("button[id^=revoke-]"))
                    .await
                    .expect("a tablet to revoke")
                    .click()
                    .await
                    .unwrap();
                client
                    .wait()
                    .at_most(Duration::from_secs(20))
                    .for_element(Locator::Id("revoke-confirm"))
                    .await
                    .expect("the question before revoking");
                check_page(&client, &format!("revoking a tablet in {lang} at 412 px")).await;
                screenshot(&client, &shots, &format!("city-revoke-{lang}-412")).await;
                // and not revoked: the other tests of this run need both tablets
                client
                    .find(Locator::Id("revoke-cancel"))
                    .await
                    .unwrap()
                    .click()
                    .await
                    .unwrap();
                client
                    .wait()
                    .at_most(Duration::from_secs(20))
                    .for_element(Locator::Id("total"))
                    .await
                    .expect("back at progress");
            }
            let revoked: i64 = rusqlite::Connection::open(&db)
                .unwrap()
                .query_row(
                    "SELECT count(*) FROM device WHERE revoked_at IS NOT NULL",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(revoked, 0, "cancelled: nothing revoked");
        }
        window_width(&client, 1280, 900).await;

        if user == "city" {
            // a handout of the six longest pieces still prints on one page of A4
            let mut pieces = state.library().unwrap();
            pieces.sort_by_key(|p| {
                std::cmp::Reverse(p.text.chars().count() + p.source.chars().count())
            });
            let query: Vec<String> = pieces
                .iter()
                .take(6)
                .map(|p| format!("piece={}", p.id))
                .collect();
            client
                .goto(&format!(
                    "{base}/dashboard/library/handout?{}",
                    query.join("&")
                ))
                .await
                .unwrap();
            let shown: Vec<String> = serde_json::from_value(
                client
                    .execute(
                        "return [...document.querySelectorAll('article')].map(a => a.dataset.piece);",
                        vec![],
                    )
                    .await
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(shown.len(), 6, "{shown:?}");
            let pdf = client
                .print(fantoccini::wd::PrintConfiguration::default())
                .await
                .unwrap();
            let file = shots.join("city-handout-longest.pdf");
            std::fs::write(&file, &pdf).unwrap();
            let info = Command::new("pdfinfo").arg(&file).output().unwrap();
            let info = String::from_utf8_lossy(&info.stdout).to_string();
            let pages = info
                .lines()
                .find_map(|l| l.strip_prefix("Pages:"))
                .map(|n| n.trim().to_string());
            assert_eq!(pages.as_deref(), Some("1"), "one page of A4: {info}");
            assert!(info.contains("595.") && info.contains("841."), "A4: {info}");
        }

        if user == "yz-super" {
            // reject the fast interview of Yuzhong through the page
            // by keyboard, on a phone's width
            window_width(&client, 412, 915).await;
            let fast = Uuid::from_u128(7);
            client.goto(&format!("{base}/dashboard/qc")).await.unwrap();
            let row = client
                .find(Locator::Id(&format!("qc-{fast}")))
                .await
                .unwrap();
            assert!(row.text().await.unwrap().contains("答题太快"));
            // the row the keyboard goes on with: the one below, or above for the last row
            let next = client
                .execute(
                    "const row = document.getElementById(arguments[0]); \
                     const other = [row.nextElementSibling, row.previousElementSibling] \
                       .find(function (r) { return r && r.id.startsWith('qc-'); }); \
                     return other ? other.id : null;",
                    vec![serde_json::json!(format!("qc-{fast}"))],
                )
                .await
                .unwrap();
            let next = next.as_str().expect("two flagged interviews").to_string();
            row.find(Locator::Css("textarea"))
                .await
                .unwrap()
                .send_keys("用时太短，需要重新调查")
                .await
                .unwrap();
            // comment → 通过 → 有问题 → 作废
            for _ in 0..3 {
                press(&client, TAB).await;
            }
            let button = client
                .execute("return document.activeElement.value;", vec![])
                .await
                .unwrap();
            assert_eq!(button, "rejected", "three Tabs from the comment: 作废");
            press(&client, ENTER).await;
            client.wait().for_element(Locator::Css("h1")).await.unwrap();
            let (tag, _, focused_row) = focused(&client).await;
            assert_eq!(
                (tag.as_str(), focused_row.as_str()),
                ("tr", next.as_str()),
                "after a review the keyboard is at the next row"
            );
            let hash = client
                .execute("return location.hash;", vec![])
                .await
                .unwrap();
            assert_eq!(hash, format!("#{next}"));
            press(&client, TAB).await;
            let (tag, _, focused_row) = focused(&client).await;
            assert_eq!(
                (tag.as_str(), focused_row.as_str()),
                ("textarea", next.as_str()),
                "one Tab on: the next row's comment"
            );
            check_page(&client, "the queue after a review at 412 px").await;
            screenshot(&client, &shots, "yz-super-qc-after-review-412").await;
            window_width(&client, 1280, 900).await;
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
    // the old page has an h1 too: wait for the decision itself (a loaded machine is slow)
    let deadline = Instant::now() + Duration::from_secs(30);
    while qc_status() != "approved" && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(qc_status(), "approved");
    client.wait().for_element(Locator::Css("h1")).await.unwrap();
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
