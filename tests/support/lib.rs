//! Helpers for the end-to-end tests in `tests/e2e/`: the real central server on a loopback
//! port, and the real Tauri app driven through tauri-driver → WebKitWebDriver under Xvfb.
//!
//! Needs: the app built (`target/debug/zhisu-app` under `CARGO_TARGET_DIR` if set, or `ZHISU_APP_BIN`), `tauri-driver` on PATH
//! (or `TAURI_DRIVER`), WebKitWebDriver and an X display. A missing piece fails the test loudly.

use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use zhisu_server::api::interviews::InterviewList;
use zhisu_server::ServerState;

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

pub fn free_port() -> u16 {
    free_ports::<1>()[0]
}

/// `N` distinct free ports. Each is held until all are chosen: two calls of [`free_port`] in a
/// row may be handed the same port, and a tauri-driver told to forward to its own port serves
/// itself in a loop (thousands of "Error serving connection" and a session that never starts).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: [std::net::TcpListener; N] =
        std::array::from_fn(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    listeners.map(|l| l.local_addr().unwrap().port())
}

/// One end-to-end test at a time: each drives a whole app and a webview.
pub static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const ADMIN_USER: &str = "e2e-admin";
const ADMIN_PASSWORD: &str = "e2e-admin-password";

/// The central server, in this process, on a real loopback socket with its own SQLite file.
pub struct Server {
    pub base_url: String,
    pub state: ServerState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Server {
    pub async fn start_on(port: u16, data_dir: &Path) -> Server {
        std::fs::create_dir_all(data_dir).unwrap();
        let state = zhisu_server::open_sqlite(
            &data_dir.join("server.sqlite3"),
            &workspace_root().join("questionnaires"),
        )
        .expect("server state opens");
        // a city administrator to read the interviews back (ignored when already there)
        state
            .add_person(
                ADMIN_USER,
                "管理员",
                ADMIN_PASSWORD,
                zhisu_server_storage::Role::CityAdmin,
                "e2e",
            )
            .expect("add the administrator");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(zhisu_server::serve_until(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        Server {
            base_url: format!("http://{addr}"),
            state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops serving (the database stays); the port is free afterwards.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            // requests in flight finish; idle keep-alive connections are cut after a moment
            if tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err()
            {
                task.abort();
                let _ = task.await;
            }
        }
    }

    /// A one-time enrolment code for the test district.
    pub fn enrolment_code(&self) -> String {
        self.state
            .create_enrolment_code("2026", "yuzhong", chrono::Duration::days(1), "e2e")
            .expect("enrolment code")
    }

    /// A session token of the city administrator, signed in through the HTTP API.
    async fn admin_session(&self) -> String {
        zhisu_server_tests::sign_in(&self.base_url, ADMIN_USER, ADMIN_PASSWORD).await
    }

    /// Sets the test round's settings (`RoundSettings` as JSON) as the city administrator does,
    /// through `PUT /api/v1/rounds/2026/settings`; devices get them with their next assignment.
    pub async fn set_round_settings(&self, settings: serde_json::Value) {
        let http = reqwest::Client::new();
        let token = self.admin_session().await;
        let response = http
            .put(format!("{}/api/v1/rounds/2026/settings", self.base_url))
            .bearer_auth(token)
            .json(&settings)
            .send()
            .await
            .expect("server answers");
        assert!(
            response.status().is_success(),
            "set round settings: {} {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }

    /// What `POST /api/v1/enrolment-codes` answers the city administrator for the test
    /// district: `code`, `enrol_uri`, `qr_svg`.
    pub async fn enrolment_code_created(&self) -> serde_json::Value {
        let token = self.admin_session().await;
        reqwest::Client::new()
            .post(format!("{}/api/v1/enrolment-codes", self.base_url))
            .bearer_auth(token)
            .json(&serde_json::json!({ "round": "2026", "district": "yuzhong" }))
            .send()
            .await
            .expect("server answers")
            .json()
            .await
            .expect("the code as JSON")
    }

    /// A one-time enrolment code for the test district and its QR code (SVG), as the city
    /// administrator gets them from `POST /api/v1/enrolment-codes`.
    pub async fn enrolment_code_with_qr(&self) -> (String, String) {
        let http = reqwest::Client::new();
        let token = self.admin_session().await;
        let created: serde_json::Value = http
            .post(format!("{}/api/v1/enrolment-codes", self.base_url))
            .bearer_auth(token)
            .json(&serde_json::json!({ "round": "2026", "district": "yuzhong" }))
            .send()
            .await
            .expect("server answers")
            .json()
            .await
            .expect("the code as JSON");
        (
            created["code"].as_str().expect("a code").to_string(),
            created["qr_svg"].as_str().expect("a QR code").to_string(),
        )
    }

    /// The interviews as the server's HTTP API reports them to a city administrator.
    pub async fn interviews(&self) -> InterviewList {
        let http = reqwest::Client::new();
        let token = self.admin_session().await;
        http.get(format!("{}/api/v1/interviews", self.base_url))
            .bearer_auth(token)
            .send()
            .await
            .expect("server answers")
            .json()
            .await
            .expect("interview list is JSON")
    }

    /// Waits until the server holds `n` interviews, then returns them.
    pub async fn wait_for_count(&self, n: usize, timeout: Duration) -> InterviewList {
        let deadline = Instant::now() + timeout;
        loop {
            let list = self.interviews().await;
            if list.count >= n || Instant::now() > deadline {
                return list;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// tauri-driver in its own process group; dropping it sends SIGTERM to the whole group
/// (tauri-driver, WebKitWebDriver, the app), so no stray driver keeps a port.
struct ProcessGroup(Child);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        let pgid = self.0.id();
        let group = format!("-{pgid}");
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        // every member, not only tauri-driver: a WebKitWebDriver or app still dying holds its
        // port and its display while the next test starts
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let _ = self.0.try_wait();
            if group_members(pgid) == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
        let deadline = Instant::now() + Duration::from_secs(5);
        while group_members(pgid) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// How many live (not zombie) processes are in process group `pgid`, from `/proc/*/stat`.
fn group_members(pgid: u32) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter(|stat| {
            // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let mut fields = rest.split_whitespace();
            let state = fields.next();
            let pgrp = fields.nth(1).and_then(|f| f.parse::<u32>().ok());
            pgrp == Some(pgid) && state != Some("Z") && state != Some("X")
        })
        .count()
}

/// The real app in a real webview, driven through WebDriver.
pub struct App {
    pub client: Client,
    pub data_dir: PathBuf,
    _driver: ProcessGroup,
}

impl App {
    /// Launches the app with its own data folder, pointed at `server_url`.
    pub async fn launch(data_dir: &Path, server_url: &str) -> App {
        App::launch_with_env(data_dir, server_url, &[]).await
    }

    /// Launches the app as [`App::launch`] does, with more environment variables (such as
    /// `ZHISU_QUESTIONNAIRE`).
    pub async fn launch_with_env(data_dir: &Path, server_url: &str, env: &[(&str, &Path)]) -> App {
        App::launch_program(None, data_dir, server_url, env).await
    }

    /// Launches `program` (default: the app built, or `ZHISU_APP_BIN`) as
    /// [`App::launch_with_env`] does: the update test runs a copy it lets replace itself.
    pub async fn launch_program(
        program: Option<&Path>,
        data_dir: &Path,
        server_url: &str,
        env: &[(&str, &Path)],
    ) -> App {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "no DISPLAY: run the end-to-end tests under xvfb-run (scripts/test.sh does)"
        );
        let app = program
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("ZHISU_APP_BIN").map(PathBuf::from))
            .unwrap_or_else(|| {
                std::env::var_os("CARGO_TARGET_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| workspace_root().join("target"))
                    .join("debug/zhisu-app")
            });
        assert!(
            app.exists(),
            "the app is not built: {} (scripts/test.sh builds it)",
            app.display()
        );
        let [port, native_port] = free_ports();
        let driver_bin = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
        let driver = Command::new(&driver_bin)
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            // inherited by WebKitWebDriver and then by the app it launches
            .env("ZHISU_DATA_DIR", data_dir)
            .env("ZHISU_KEY_DIR", key_dir(data_dir))
            .env("ZHISU_SERVER_URL", server_url)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {driver_bin}: {e}"));
        let driver = ProcessGroup(driver);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), serde_json::json!("wry"));
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app.to_str().unwrap() }),
        );
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session with the app");
        App {
            client,
            data_dir: data_dir.to_path_buf(),
            _driver: driver,
        }
    }

    /// Clicks element `#id` once it is there. The page re-renders as data arrives (sync
    /// status, today's work), so a node found may be replaced before the click (WebKitWebDriver
    /// then answers with a stale-element or an empty error): it is looked up again, within the
    /// same 20 s.
    pub async fn click(&self, id: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let result = match self
                .client
                .wait()
                .at_most(left)
                .for_element(Locator::Id(id))
                .await
            {
                Ok(element) => element.click().await,
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => return,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("click #{id} failed ({e:?}); looking it up again");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("click #{id}: {e}"),
            }
        }
    }

    pub async fn type_into(&self, id: &str, text: &str) {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id} did not appear: {e}"))
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into #{id}: {e}"));
    }

    /// Waits until element `#id` has exactly `text`, and returns it.
    pub async fn wait_for_text(&self, id: &str, text: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut last = String::from("(not found)");
        while Instant::now() < deadline {
            if let Ok(element) = self.client.find(Locator::Id(id)).await {
                if let Ok(t) = element.text().await {
                    if t.trim() == text {
                        return t;
                    }
                    last = t;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("#{id}: expected {text:?}, last saw {last:?}");
    }

    /// Waits until the question screen shows item `item_id`.
    pub async fn wait_for_question(&self, item_id: &str) {
        let last = self
            .wait_for_shown_item(|shown| shown == Some(item_id))
            .await;
        if let Err(last) = last {
            panic!("question {item_id:?} did not appear; last shown {last:?}");
        }
    }

    /// Waits until the app has moved on from item `item_id` (to another question or another
    /// screen): it moves on once the answer is saved.
    pub async fn wait_to_leave_question(&self, item_id: &str) {
        let last = self
            .wait_for_shown_item(|shown| shown != Some(item_id))
            .await;
        if let Err(last) = last {
            panic!("the app stayed on question {item_id:?}; last shown {last:?}");
        }
    }

    /// Waits (20 s at most) until `done` holds for the item the question screen shows (`None`
    /// on another screen); `Err` with the last one seen if it never did.
    async fn wait_for_shown_item(
        &self,
        done: impl Fn(Option<&str>) -> bool,
    ) -> Result<(), Option<String>> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last = None;
        while Instant::now() < deadline {
            last = match self.client.find(Locator::Id("question")).await {
                Ok(element) => element.attr("data-item").await.ok().flatten(),
                Err(_) => None,
            };
            if done(last.as_deref()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(last)
    }

    /// Saves a PNG of the window to `dir/name.png` and returns its path.
    pub async fn screenshot(&self, dir: &Path, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, &png).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "screenshot is a PNG");
        path
    }

    /// Kills the app process with SIGKILL, as the OS or a flat battery would: no chance to
    /// clean up. Finds it by its data folder in the environment.
    pub fn kill_app_process(&self) -> u32 {
        let marker = format!("ZHISU_DATA_DIR={}", self.data_dir.display());
        let mut killed = 0;
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let exe = std::fs::read_link(entry.path().join("exe")).unwrap_or_default();
            if !exe.to_string_lossy().ends_with("zhisu-app") {
                continue;
            }
            let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
            let mine = environ
                .split(|b| *b == 0)
                .any(|var| var == marker.as_bytes());
            if mine {
                let status = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status()
                    .unwrap();
                assert!(status.success(), "kill -KILL {pid}");
                killed += 1;
            }
        }
        killed
    }

    /// Enrols the tablet on the first-run screen with `code`, as a surveyor would.
    pub async fn enrol(&self, code: &str) {
        // The first screen after a launch: a cold debug build of the app on a busy 2-core
        // machine can take longer than the 20 s any later screen gets to start its webview.
        if let Err(e) = self
            .client
            .wait()
            .at_most(Duration::from_secs(90))
            .for_element(Locator::Id("enrol-code"))
            .await
        {
            let page = self
                .client
                .source()
                .await
                .unwrap_or_else(|e| format!("({e})"));
            panic!("#enrol-code did not appear within 90 s: {e}\npage: {page}");
        }
        self.type_into("enrol-code", code).await;
        self.type_into("device-name", "测试平板").await;
        self.click("enrol").await;
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Id("start-ohl_pilot"))
            .await
            .expect("the home screen after enrolment");
    }

    /// Clicks the first element matching a CSS selector.
    pub async fn click_css(&self, selector: &str) {
        let element = self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("{selector} did not appear: {e}"));
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {selector}: {e}"));
    }

    /// The value of attribute `name` on element `#id`.
    pub async fn attribute(&self, id: &str, name: &str) -> Option<String> {
        self.client
            .find(Locator::Id(id))
            .await
            .ok()?
            .attr(name)
            .await
            .ok()
            .flatten()
    }

    /// An attribute of the first element `selector` finds.
    pub async fn attribute_css(&self, selector: &str, name: &str) -> Option<String> {
        self.client
            .find(Locator::Css(selector))
            .await
            .ok()?
            .attr(name)
            .await
            .ok()
            .flatten()
    }

    pub async fn close(self) {
        self.client
            .close()
            .await
            .expect("close the WebDriver session");
    }
}

/// Runs axe-core (from `node_modules/axe-core`, a dev dependency in package.json: `npm ci`)
/// in the page `client` shows, with the WCAG 2.1 A and AA rules, and returns its violations, one
/// line each (rule, impact, the elements). The script is handed to the browser through
/// WebDriver, so the page's content security policy does not apply to it and nothing in the
/// product changes for the test.
pub async fn axe_violations(client: &Client) -> Vec<String> {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let source = SOURCE.get_or_init(|| {
        let path = workspace_root().join("node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "axe-core is missing ({}: {e}): run `npm ci` (scripts/install-deps.sh does)",
                path.display()
            )
        })
    });
    let loaded = client
        .execute(
            &format!("if (!window.axe) {{ {source}\n}} return typeof window.axe.run;"),
            vec![],
        )
        .await
        .expect("axe-core loads into the page");
    assert_eq!(loaded, "function", "axe-core loaded");
    let violations = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] })
                 .then(function (r) {
                   done(r.violations.map(function (v) {
                     return v.id + ' (' + v.impact + '): ' + v.help + ': ' + v.nodes.slice(0, 5).map(function (n) {
                       return n.target.join(' ') + (n.failureSummary ? ' [' + n.failureSummary.replace(/\s+/g, ' ') + ']' : '');
                     }).join(' | ');
                   }));
                 })
                 .catch(function (e) { done(['axe failed: ' + e]); });"#,
            vec![],
        )
        .await
        .expect("axe-core runs");
    violations
        .as_array()
        .expect("a list of violations")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect()
}

/// chromedriver and a headless Chromium session through it; dropping it ends both (and every
/// process Chromium started: they share chromedriver's process group, so none is left behind
/// to slow the tests and benchmarks that follow).
pub struct Chromium {
    pub client: Client,
    _driver: ProcessGroup,
}

impl Chromium {
    /// A fresh headless Chromium (1280 × 900, Chinese), with `extra` command-line switches
    /// (e.g. a fake microphone for recording).
    pub async fn start(extra: &[&str]) -> Chromium {
        let port = free_port();
        let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let driver = Command::new(&bin)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {bin} (install chromium-driver: scripts/install-deps.sh): {e}")
            });
        let driver = ProcessGroup(driver);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            "--lang=zh-CN",
        ];
        args.extend_from_slice(extra);
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "args": args }),
        );
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session from chromedriver");
        Chromium {
            client,
            _driver: driver,
        }
    }

    /// Signs in on the dashboard's form as `username`.
    pub async fn sign_in(&self, base_url: &str, username: &str, password: &str) {
        let client = &self.client;
        client
            .goto(&format!("{base_url}/dashboard/login"))
            .await
            .expect("the sign-in page");
        for (id, text) in [("username", username), ("password", password)] {
            client
                .find(Locator::Id(id))
                .await
                .unwrap_or_else(|e| panic!("#{id}: {e}"))
                .send_keys(text)
                .await
                .unwrap();
        }
        client
            .find(Locator::Id("sign-in"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("header nav"))
            .await
            .expect("signed in: the navigation");
    }
}

/// The folder where the app launched on `data_dir` keeps its database key: beside the data
/// folder, never in it.
pub fn key_dir(data_dir: &Path) -> PathBuf {
    let mut name = data_dir.as_os_str().to_owned();
    name.push("-key");
    PathBuf::from(name)
}

/// Opens the database of the app launched on `data_dir` with the key the app drew.
pub fn open_device_store(data_dir: &Path) -> zhisu_store::DeviceStore {
    let key = zhisu_store::load_or_create_key_file(&key_dir(data_dir)).expect("the app's key");
    zhisu_store::DeviceStore::open(&data_dir.join("zhisu.sqlite3"), &key)
        .expect("the app's database opens with its key")
}
