//! Two server processes on one PostgreSQL behind a round-robin proxy, the documented way to
//! outgrow one machine: to a device and a person they are one server. A device's rate limit,
//! the enrolment guard and the sign-in pause hold across both (the proxy sends every new
//! connection to the other process); a session opened on one works on the other; the same
//! interviews uploaded through both at once are stored exactly once.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use uuid::Uuid;
use zhisu_core::{AnswerValue, Answers};
use zhisu_protocol::{
    CompletedInterview, ReceiptStatus, UploadResponse, ASSIGNMENT_PATH, ENROL_PATH,
    PROTOCOL_HEADER, UPLOAD_PATH,
};
use zhisu_server_tests::postgres::TestPostgres;

const BURST: usize = 20;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_server(dir: &std::path::Path, name: &str, database_url: &str) -> (Server, u16) {
    let port = free_port();
    let config = dir.join(format!("{name}.toml"));
    // one request a second after a burst of 20: what the test can count without racing time
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\ndatabase_url = \"{database_url}\"\n\
             device_requests_per_second = 1.0\ndevice_request_burst = {BURST}.0\n"
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_zhisu-server"))
        .env_remove("ZHISU_DATA_DIR")
        .env_remove("ZHISU_DATABASE_URL")
        .env_remove("ZHISU_LISTEN")
        .env(
            "ZHISU_QUESTIONNAIRES",
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires"),
        )
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join(format!("{name}.log"))).unwrap())
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "server {name} did not start: {}",
            std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, port)
}

/// A TCP proxy that sends each new connection to the next backend in turn; counts them.
fn round_robin_proxy(backends: Vec<u16>) -> (u16, Arc<Vec<AtomicUsize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let counts: Arc<Vec<AtomicUsize>> =
        Arc::new(backends.iter().map(|_| AtomicUsize::new(0)).collect());
    let served = Arc::clone(&counts);
    std::thread::spawn(move || {
        for (n, client) in listener.incoming().enumerate() {
            let Ok(client) = client else { continue };
            let which = n % backends.len();
            served[which].fetch_add(1, Ordering::SeqCst);
            let Ok(backend) = TcpStream::connect(("127.0.0.1", backends[which])) else {
                continue;
            };
            pipe(client, backend);
        }
    });
    (port, counts)
}

fn pipe(client: TcpStream, backend: TcpStream) {
    let copy = |mut from: TcpStream, mut to: TcpStream| {
        std::thread::spawn(move || {
            let mut buffer = [0u8; 16 * 1024];
            while let Ok(n) = from.read(&mut buffer) {
                if n == 0 || to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
            let _ = to.shutdown(std::net::Shutdown::Write);
        });
    };
    copy(client.try_clone().unwrap(), backend.try_clone().unwrap());
    copy(backend, client);
}

/// A client that opens a new connection for every request, so the proxy alternates.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

fn interview(n: u128) -> CompletedInterview {
    let mut answers = Answers::new();
    answers.insert("age".into(), AnswerValue::Integer(30 + (n % 20) as i64));
    answers.insert(
        "employer_duty".into(),
        AnswerValue::Bool(n.is_multiple_of(2)),
    );
    answers.insert("noise".into(), AnswerValue::Choice("earplugs".into()));
    answers.insert(
        "confined_space".into(),
        AnswerValue::Choices(vec!["ventilate".into()]),
    );
    CompletedInterview {
        id: Uuid::from_u128(0x2_0000 + n),
        questionnaire_id: "ohl_pilot".into(),
        questionnaire_version: "2026.1".into(),
        started_at: Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap(),
        completed_at: Utc.with_ymd_and_hms(2026, 12, 1, 8, 9, 0).unwrap(),
        utc_offset_minutes: 480,
        answers,
        site_id: None,
        surveyor_id: Some("s01".into()),
        paradata: None,
        practice: false,
        content_hash: String::new(),
    }
    .sealed()
}

async fn enrol(http: &reqwest::Client, base: &str, code: &str, name: &str) -> String {
    let response = http
        .post(format!("{base}{ENROL_PATH}"))
        .header(PROTOCOL_HEADER, "1")
        .json(&serde_json::json!({ "code": code, "device_name": name }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "enrolment of {name}");
    let body: serde_json::Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

#[test]
fn two_processes_behind_a_round_robin_proxy_are_one_server() {
    let pg = TestPostgres::start();
    let url = pg.fresh_database("two_processes");
    let dir = tempfile::tempdir().unwrap();
    // what an administrator sets up once (in the same database the processes use)
    let state = zhisu_server::open_postgres(&url, &zhisu_server_tests::questionnaires_dir())
        .expect("the database opens");
    state
        .add_person(
            "city",
            "市疾控管理员",
            "city-admin-password",
            zhisu_server_storage::Role::CityAdmin,
            "test",
        )
        .unwrap();
    state
        .add_person(
            "city2",
            "市疾控分析员",
            "second-admin-password",
            zhisu_server_storage::Role::CityAdmin,
            "test",
        )
        .unwrap();
    let codes: Vec<String> = (0..3)
        .map(|_| {
            state
                .create_enrolment_code("2026", "yuzhong", chrono::Duration::days(1), "test")
                .unwrap()
        })
        .collect();

    let (_a, port_a) = start_server(dir.path(), "a", &url);
    let (_b, port_b) = start_server(dir.path(), "b", &url);
    let (proxy, served) = round_robin_proxy(vec![port_a, port_b]);
    let base = format!("http://127.0.0.1:{proxy}");
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
        .block_on(one_server(&state, codes, url, base, served));
}

async fn one_server(
    state: &zhisu_server::ServerState,
    codes: Vec<String>,
    url: String,
    base: String,
    served: Arc<Vec<AtomicUsize>>,
) {
    let http = client();

    // 1. a device's rate limit: 2 × the burst asked at once through both processes gets the
    //    burst (plus what refilled meanwhile at 1 a second), not twice the burst
    let limited = enrol(&http, &base, &codes[0], "tablet A").await;
    let started = Instant::now();
    let statuses: Vec<u16> = futures_join(
        (0..2 * BURST)
            .map(|_| {
                let (http, base, token) = (http.clone(), base.clone(), limited.clone());
                async move {
                    http.get(format!("{base}{ASSIGNMENT_PATH}"))
                        .header(PROTOCOL_HEADER, "1")
                        .bearer_auth(token)
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                }
            })
            .collect(),
    )
    .await;
    let refilled = started.elapsed().as_secs() as usize + 1;
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let limited_count = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(ok + limited_count, 2 * BURST, "{statuses:?}");
    assert!(
        (BURST..=BURST + refilled).contains(&ok),
        "{ok} requests passed of {}: the burst is {BURST} across both processes",
        2 * BURST
    );
    assert!(
        served.iter().all(|c| c.load(Ordering::SeqCst) >= BURST / 2),
        "both processes served requests: {served:?}"
    );

    // 2. the enrolment guard: 10 codes per address, whichever process is asked
    let mut guessed = Vec::new();
    for n in 0..12 {
        let response = http
            .post(format!("{base}{ENROL_PATH}"))
            .header(PROTOCOL_HEADER, "1")
            .json(&serde_json::json!({ "code": format!("WRONG-{n}"), "device_name": "guess" }))
            .send()
            .await
            .unwrap();
        guessed.push(response.status().as_u16());
    }
    // the enrolment of tablet A above came from this address too
    assert_eq!(
        guessed.iter().filter(|s| **s == 404).count(),
        9,
        "{guessed:?}"
    );
    assert!(guessed[9..].iter().all(|s| *s == 429), "{guessed:?}");

    // 3. the sign-in pause: five wrong passwords through both processes pause the username on
    //    both
    let mut tries = Vec::new();
    for _ in 0..6 {
        let response = http
            .post(format!("{base}/api/v1/session"))
            .json(&serde_json::json!({ "username": "city", "password": "not the password" }))
            .send()
            .await
            .unwrap();
        tries.push(response.status().as_u16());
    }
    assert_eq!(tries, [401, 401, 401, 401, 401, 429], "{tries:?}");
    let paused = http
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({ "username": "city", "password": "city-admin-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(paused.status(), 429, "paused on the other process too");

    // 4. exactly once: the same 30 interviews uploaded four times at once (two through each
    //    process), by two tablets, are stored once each, with one `stored` receipt each
    let tablets: Vec<String> = vec![
        enrol_in_service(state, &codes[1], "tablet B").await,
        enrol_in_service(state, &codes[2], "tablet C").await,
    ];
    let batch: Vec<CompletedInterview> = (0..30).map(interview).collect();
    let responses: Vec<UploadResponse> = futures_join(
        (0..4)
            .map(|n| {
                let (http, base) = (http.clone(), base.clone());
                let token = tablets[n % 2].clone();
                let body = serde_json::to_vec(&serde_json::json!({ "interviews": batch })).unwrap();
                async move {
                    let response = http
                        .post(format!("{base}{UPLOAD_PATH}"))
                        .header(PROTOCOL_HEADER, "1")
                        .header("content-type", "application/json")
                        .bearer_auth(token)
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 200);
                    response.json().await.unwrap()
                }
            })
            .collect(),
    )
    .await;
    let mut stored: HashMap<Uuid, usize> = HashMap::new();
    for receipt in responses.iter().flat_map(|r| &r.receipts) {
        match receipt.status {
            ReceiptStatus::Stored => *stored.entry(receipt.interview_id).or_default() += 1,
            ReceiptStatus::AlreadyStored => {
                stored.entry(receipt.interview_id).or_default();
            }
            other => panic!("unexpected receipt {other:?}: {receipt:?}"),
        }
    }
    assert_eq!(stored.len(), 30);
    assert!(stored.values().all(|n| *n == 1), "{stored:?}");
    let rows: i64 = tokio::task::block_in_place(|| {
        assert_eq!(state.storage.interview_count().unwrap(), 30);
        postgres::Client::connect(&url, postgres::NoTls)
            .unwrap()
            .query_one("SELECT count(*) FROM interview", &[])
            .unwrap()
            .get(0)
    });
    assert_eq!(rows, 30);

    // 5. a session opened through one process works on the other (sessions are in the
    //    database): every request on a new connection, so they alternate
    let response = http
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({ "username": "city2", "password": "second-admin-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let session: serde_json::Value = response.json().await.unwrap();
    let token = session["token"].as_str().unwrap().to_string();
    let before: Vec<usize> = served.iter().map(|c| c.load(Ordering::SeqCst)).collect();
    for _ in 0..4 {
        let response = http
            .get(format!("{base}/api/v1/interviews"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let list: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            list["interviews"].as_array().map(Vec::len),
            Some(30),
            "{list}"
        );
    }
    let after: Vec<usize> = served.iter().map(|c| c.load(Ordering::SeqCst)).collect();
    assert!(
        before.iter().zip(&after).all(|(b, a)| a - b == 2),
        "{before:?} → {after:?}"
    );
}

/// Enrolment from this address is paused by part 2; a tablet is enrolled as if from another
/// address, through the service (the same storage the processes use).
async fn enrol_in_service(state: &zhisu_server::ServerState, code: &str, name: &str) -> String {
    let state = state.clone();
    let (code, name) = (code.to_string(), name.to_string());
    tokio::task::spawn_blocking(move || state.enrol(&code, &name).unwrap().unwrap().token)
        .await
        .unwrap()
}

/// Runs every future at once and returns their results in order.
async fn futures_join<T: Send + 'static>(
    futures: Vec<impl std::future::Future<Output = T> + Send + 'static>,
) -> Vec<T> {
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await.unwrap());
    }
    results
}
