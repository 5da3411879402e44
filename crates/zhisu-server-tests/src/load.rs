//! Mixed load on a real `zhisu-server` process, for the R6 benchmark (500 tablets and 20
//! dashboard users for a minute, `benches/r6_load.rs`) and the soak run (`tests/soak.rs`, a
//! minute in CI; 30 minutes by hand): what a round's busiest minutes look like to the server.
//!
//! Each simulated tablet, in a loop until the deadline, waits a random 1–5 s (the surveyor's
//! pace; the first wait is spread over the first seconds) and then does one of: poll its
//! assignment (50 %), list the published questionnaires and download one (25 %), or upload
//! 1–100 new interviews of the bundled questionnaire (25 %; a quarter of the uploads are
//! batches of 100, a tablet draining its backlog). Each dashboard user, every 2–6 s, opens
//! one of the progress, literacy, weakest-items and quality-control pages. Every request is
//! timed from send to the last byte; anything but `200` is an error and kept with its body.
//! The server's memory (`VmRSS`, `VmHWM`) and open files are sampled while it runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;
use zhisu_core::{Answers, Questionnaire};
use zhisu_protocol::{ASSIGNMENT_PATH, PROTOCOL_HEADER, QUESTIONNAIRES_PATH, UPLOAD_PATH};
use zhisu_server_service::demo::{self, Respondent};

use crate::Rng;

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub devices: usize,
    pub dashboard_users: usize,
    pub duration: Duration,
    /// How often the server's memory and open files are sampled.
    pub sample_every: Duration,
    pub seed: u64,
    /// A tablet's pause between two requests, drawn evenly from this range (milliseconds).
    pub device_pause_ms: (u64, u64),
    /// A dashboard user's pause between two pages, drawn evenly from this range (milliseconds).
    pub page_pause_ms: (u64, u64),
}

impl LoadPlan {
    /// R6's stress mix: a tablet every 1–5 s, a dashboard page every 2–6 s.
    pub const STRESS_DEVICE_PAUSE_MS: (u64, u64) = (1_000, 5_000);
    pub const STRESS_PAGE_PAUSE_MS: (u64, u64) = (2_000, 6_000);
}

/// A `zhisu-server` process started from its binary, killed when dropped.
pub struct ServerProcess {
    child: Child,
    pub base: String,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `binary serve` on a free loopback port with the data in `data_dir` (SQLite) or
    /// at `database_url` (PostgreSQL), the questionnaires from `questionnaires`.
    pub fn start(
        binary: &Path,
        data_dir: &Path,
        questionnaires: &Path,
        database_url: Option<&str>,
    ) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = data_dir.join("server.log");
        let mut command = Command::new(binary);
        command
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--questionnaires")
            .arg(questionnaires)
            .env_remove("ZHISU_DATABASE_URL")
            .env_remove("ZHISU_CONFIG")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(url) = database_url {
            command.arg("--database-url").arg(url);
        }
        ServerProcess {
            child: command.spawn().expect("start zhisu-server"),
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    pub async fn wait_ready(&mut self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(format!("{}/healthz", self.base)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "zhisu-server exited ({status}):\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "zhisu-server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `VmHWM` (peak) and `VmRSS` (now) of a process, in KiB.
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Threads of a process now.
pub fn threads(pid: u32) -> usize {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Files a process has open now.
pub fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// User + system CPU time of a process so far, in seconds (0 when it is gone).
pub fn cpu_seconds(pid: u32) -> f64 {
    let ticks: f64 = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0);
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let rest = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (field(11) + field(12)) / ticks
}

/// One sample of the server process.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: Duration,
    pub rss_kib: u64,
    pub open_files: usize,
    pub threads: usize,
}

/// What a run saw.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Latencies per kind of request.
    pub latencies: BTreeMap<&'static str, Vec<Duration>>,
    /// Requests that did not answer `200`: kind, status (0: no answer) and the start of the body.
    pub errors: Vec<(&'static str, u16, String)>,
    pub interviews_uploaded: u64,
    pub samples: Vec<Sample>,
    pub elapsed: Duration,
}

impl LoadReport {
    pub fn requests(&self) -> usize {
        self.latencies.values().map(Vec::len).sum::<usize>() + self.errors.len()
    }

    /// `p` (0–1) of the kind's latencies, sorted in place.
    pub fn percentile(&mut self, kind: &str, p: f64) -> Duration {
        let Some(list) = self.latencies.get_mut(kind) else {
            return Duration::ZERO;
        };
        if list.is_empty() {
            return Duration::ZERO;
        }
        list.sort();
        let index = ((list.len() - 1) as f64 * p).round() as usize;
        list[index]
    }

    /// Every kind with its count, p50, p99 and maximum, in milliseconds.
    pub fn table(&mut self) -> String {
        let kinds: Vec<&'static str> = self.latencies.keys().copied().collect();
        let mut out =
            String::from("| request | n | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|\n");
        for kind in kinds {
            let n = self.latencies[kind].len();
            let (p50, p99, max) = (
                self.percentile(kind, 0.5),
                self.percentile(kind, 0.99),
                self.percentile(kind, 1.0),
            );
            out.push_str(&format!(
                "| {kind} | {n} | {:.1} | {:.1} | {:.1} |\n",
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3,
                max.as_secs_f64() * 1e3
            ));
        }
        out
    }
}

/// Prepared answers of the bundled questionnaire (the demonstration round's), so that an
/// upload only stamps fresh ids and times on them.
pub struct Answering {
    questionnaire: Questionnaire,
    answers: Vec<Answers>,
    next_id: AtomicU64,
}

impl Answering {
    /// `count` answer sets of the newest version of the bundled questionnaire in `dir`.
    pub fn prepare(dir: &Path, count: usize, seed: u64) -> Self {
        let registry = zhisu_server_service::QuestionnaireRegistry::load_dir(dir)
            .expect("the questionnaire folder loads");
        let questionnaire = registry
            .newest(demo::DEMO_QUESTIONNAIRE)
            .expect("the bundled questionnaire")
            .questionnaire
            .clone();
        let mut rng = Rng::new(seed);
        let populations = ["construction", "manufacturing", "teacher", "medical"];
        let answers = (0..count)
            .map(|n| {
                let who = Respondent {
                    population: populations[n % populations.len()],
                    sex: if n % 2 == 0 { "male" } else { "female" },
                    age: 20 + (n % 40) as i64,
                    education: "junior_high",
                    industry: "construction",
                    ability: 60 + (n % 35) as u64,
                    straight_line: false,
                };
                demo::answers(&questionnaire, &who, &mut rng).0
            })
            .collect();
        Answering {
            questionnaire,
            answers,
            next_id: AtomicU64::new(1),
        }
    }

    /// The body of an upload of `count` new interviews.
    pub fn upload_body(&self, count: usize, rng: &mut Rng) -> Vec<u8> {
        let start = chrono::Utc::now() - chrono::Duration::hours(1);
        let interviews: Vec<_> = (0..count)
            .map(|_| {
                let n = self.next_id.fetch_add(1, Ordering::Relaxed);
                let answers = self.answers[rng.index(self.answers.len())].clone();
                demo::interview(
                    &self.questionnaire,
                    Uuid::from_u128((0x10ad_u128 << 64) | u128::from(n)),
                    answers,
                    start,
                    600 + rng.between(0, 600),
                    None,
                )
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({ "interviews": interviews })).unwrap()
    }
}

type Shared = Arc<Mutex<LoadReport>>;

/// A client as a tablet's (`zhisu_sync`): idle connections dropped before the server drops them.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// An error with its causes, for the report.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn timed(
    report: &Shared,
    kind: &'static str,
    request: reqwest::RequestBuilder,
) -> Option<Vec<u8>> {
    let started = Instant::now();
    let outcome = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.bytes().await {
                Ok(body) => Ok((status, body)),
                Err(e) => Err((0, chain(&e))),
            }
        }
        Err(e) => Err((0, chain(&e))),
    };
    let took = started.elapsed();
    let mut report = report.lock().unwrap();
    match outcome {
        Ok((200, body)) => {
            report.latencies.entry(kind).or_default().push(took);
            Some(body.to_vec())
        }
        Ok((status, body)) => {
            let text = String::from_utf8_lossy(&body).chars().take(200).collect();
            report.errors.push((kind, status, text));
            None
        }
        Err((status, text)) => {
            report.errors.push((kind, status, text));
            None
        }
    }
}

async fn run_device(
    base: String,
    token: String,
    answering: Arc<Answering>,
    report: Shared,
    deadline: Instant,
    (seed, (pause_from, pause_to)): (u64, (u64, u64)),
) {
    let mut rng = Rng::new(seed);
    let http = client();
    // the first request within the first pause, then one after each pause
    tokio::time::sleep(Duration::from_millis(rng.below(pause_to.max(1)))).await;
    while Instant::now() < deadline {
        let roll = rng.below(100);
        if roll < 50 {
            let request = http
                .get(format!("{base}{ASSIGNMENT_PATH}"))
                .header(PROTOCOL_HEADER, "1")
                .bearer_auth(&token);
            timed(&report, "assignment", request).await;
        } else if roll < 75 {
            let request = http
                .get(format!("{base}{QUESTIONNAIRES_PATH}"))
                .header(PROTOCOL_HEADER, "1")
                .bearer_auth(&token);
            if let Some(body) = timed(&report, "questionnaire list", request).await {
                let listing: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                if let Some(first) = listing["questionnaires"].as_array().and_then(|l| l.first()) {
                    let (id, version) = (
                        first["id"].as_str().unwrap_or_default(),
                        first["version"].as_str().unwrap_or_default(),
                    );
                    let request = http
                        .get(format!("{base}{QUESTIONNAIRES_PATH}/{id}/{version}"))
                        .header(PROTOCOL_HEADER, "1")
                        .bearer_auth(&token);
                    timed(&report, "questionnaire download", request).await;
                }
            }
        } else {
            let count = if rng.below(4) == 0 {
                100
            } else {
                1 + rng.below(99) as usize
            };
            let body = answering.upload_body(count, &mut rng);
            let kind = match count {
                100 => "upload of 100",
                1..=20 => "upload of 1-20",
                _ => "upload of 21-99",
            };
            let request = http
                .post(format!("{base}{UPLOAD_PATH}"))
                .header(PROTOCOL_HEADER, "1")
                .header("content-type", "application/json")
                .bearer_auth(&token)
                .body(body);
            if let Some(body) = timed(&report, kind, request).await {
                let receipts: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let stored = receipts["receipts"]
                    .as_array()
                    .map_or(0, |r| r.iter().filter(|r| r["status"] == "stored").count());
                let mut report = report.lock().unwrap();
                report.interviews_uploaded += stored as u64;
                if stored != count {
                    report
                        .errors
                        .push((kind, 200, format!("{stored} of {count} stored")));
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(pause(&mut rng, pause_from, pause_to))).await;
    }
}

/// A pause drawn evenly from `from..to` milliseconds (`from` when the range is empty).
fn pause(rng: &mut Rng, from: u64, to: u64) -> u64 {
    from + rng.below(to.saturating_sub(from).max(1))
}

async fn run_dashboard_user(
    base: String,
    session: String,
    report: Shared,
    deadline: Instant,
    (seed, (pause_from, pause_to)): (u64, (u64, u64)),
) {
    let mut rng = Rng::new(seed);
    let http = client();
    tokio::time::sleep(Duration::from_millis(rng.below(pause_to.max(1)))).await;
    let pages = [
        ("dashboard progress", "/dashboard/progress"),
        ("dashboard literacy", "/dashboard/literacy"),
        ("dashboard weakest items", "/dashboard/items"),
        ("dashboard quality control", "/dashboard/qc"),
    ];
    while Instant::now() < deadline {
        let (kind, path) = pages[rng.index(pages.len())];
        let request = http
            .get(format!("{base}{path}"))
            .header("cookie", format!("zhisu_session={session}"));
        timed(&report, kind, request).await;
        tokio::time::sleep(Duration::from_millis(pause(&mut rng, pause_from, pause_to))).await;
    }
}

/// Runs `plan` against the server at `base` (process `pid`) with these device tokens and
/// dashboard sessions; samples the process while it runs.
pub async fn run(
    base: &str,
    pid: u32,
    tokens: Vec<String>,
    sessions: Vec<String>,
    answering: Arc<Answering>,
    plan: &LoadPlan,
) -> LoadReport {
    let report: Shared = Arc::default();
    let started = Instant::now();
    let deadline = started + plan.duration;
    let mut tasks = Vec::new();
    for (n, token) in tokens.into_iter().enumerate() {
        tasks.push(tokio::spawn(run_device(
            base.to_string(),
            token,
            Arc::clone(&answering),
            Arc::clone(&report),
            deadline,
            (plan.seed ^ (n as u64 + 1), plan.device_pause_ms),
        )));
    }
    for (n, session) in sessions.into_iter().enumerate() {
        tasks.push(tokio::spawn(run_dashboard_user(
            base.to_string(),
            session,
            Arc::clone(&report),
            deadline,
            (plan.seed ^ (0xd00d + n as u64), plan.page_pause_ms),
        )));
    }
    let mut samples = Vec::new();
    while Instant::now() < deadline {
        samples.push(Sample {
            at: started.elapsed(),
            rss_kib: memory_kib(pid).1,
            open_files: open_files(pid),
            threads: threads(pid),
        });
        tokio::time::sleep(
            plan.sample_every
                .min(deadline.saturating_duration_since(Instant::now())),
        )
        .await;
    }
    for task in tasks {
        task.await.unwrap();
    }
    samples.push(Sample {
        at: started.elapsed(),
        rss_kib: memory_kib(pid).1,
        open_files: open_files(pid),
        threads: threads(pid),
    });
    let mut report = std::mem::take(&mut *report.lock().unwrap());
    report.samples = samples;
    report.elapsed = started.elapsed();
    report
}

/// Sets up what a run needs in the database at `state` before the server starts: `devices`
/// tablets enrolled in district `yuzhong` (tokens) and a city administrator whose password is
/// returned for the dashboard users to sign in with.
pub fn prepare_server(
    state: &zhisu_server::ServerState,
    devices: usize,
) -> (Vec<String>, &'static str, &'static str) {
    let (username, password) = ("load-admin", "load-admin-password");
    state
        .add_person(
            username,
            "负载测试管理员",
            password,
            zhisu_server_storage::Role::CityAdmin,
            "load",
        )
        .expect("the administrator is added");
    let tokens = (0..devices)
        .map(|n| {
            let code = state
                .create_enrolment_code("2026", "yuzhong", chrono::Duration::days(1), "load")
                .unwrap();
            state
                .enrol(&code, &format!("渝中区 {} 号平板", n + 1))
                .unwrap()
                .unwrap()
                .token
        })
        .collect();
    (tokens, username, password)
}

/// `count` dashboard sessions of `username` (each signs in over HTTP, as a browser does).
pub async fn sign_in_many(base: &str, username: &str, password: &str, count: usize) -> Vec<String> {
    let mut sessions = Vec::with_capacity(count);
    for _ in 0..count {
        sessions.push(crate::sign_in(base, username, password).await);
    }
    sessions
}
