//! A full disk under the real server: the test mounts a small tmpfs (CI runs as root; without
//! the right to mount, the test fails and says so), fills it, and shows that devices and people
//! are told `503 storage_full` with `Retry-After` (never `500`), that readiness says so while
//! liveness still answers, that nothing half-written is left, and that the server takes uploads
//! again as soon as space is freed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{TimeZone, Utc};
use uuid::Uuid;
use zhisu_core::{AnswerValue, Answers};
use zhisu_protocol::CompletedInterview;

struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status();
        match status {
            Ok(s) if s.success() => Tmpfs(dir.to_path_buf()),
            other => panic!(
                "this test mounts a small tmpfs to fill its disk and needs the right to mount \
                 (run as root, as CI does): mount answered {other:?}"
            ),
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes zeros until the disk is full; returns the file.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    loop {
        if file.write_all(&block).is_err() {
            break;
        }
    }
    // the last partial blocks too
    while file.write_all(&[0u8; 512]).is_ok() {}
    let _ = file.sync_all();
    path
}

fn interview(n: u128) -> CompletedInterview {
    let mut answers = Answers::new();
    answers.insert("age".into(), AnswerValue::Integer(30));
    answers.insert("employer_duty".into(), AnswerValue::Bool(true));
    answers.insert("noise".into(), AnswerValue::Choice("earplugs".into()));
    answers.insert(
        "confined_space".into(),
        AnswerValue::Choices(vec!["ventilate".into()]),
    );
    CompletedInterview {
        id: Uuid::from_u128(n),
        questionnaire_id: "ohl_pilot".into(),
        questionnaire_version: "2026.1".into(),
        started_at: Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap(),
        completed_at: Utc.with_ymd_and_hms(2026, 11, 29, 8, 9, 0).unwrap(),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_told_as_such_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let _mount = Tmpfs::mount(dir.path(), "6m");
    let db = dir.path().join("server.sqlite3");
    let state = zhisu_server::open_sqlite(&db, &zhisu_server_tests::questionnaires_dir()).unwrap();
    state
        .add_person(
            "city",
            "市管理员",
            "a-long-password",
            zhisu_server_storage::Role::CityAdmin,
            "test",
        )
        .unwrap();
    let (_, token) = zhisu_server_tests::enrol(&state, "2026", "yuzhong", "tablet");
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;
    let http = reqwest::Client::new();
    let upload = |from: u128| {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        async move {
            let batch: Vec<CompletedInterview> = (from..from + 50).map(interview).collect();
            let response = http
                .post(format!("{base}/api/v1/interviews/batch"))
                .header("zhisu-protocol", "1")
                .bearer_auth(&token)
                .json(&serde_json::json!({ "interviews": batch }))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let retry = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            let body: serde_json::Value = response.json().await.unwrap();
            (status, retry, body)
        }
    };
    let (status, _, body) = upload(1).await;
    assert_eq!(status, 200, "{body}");

    let filler = fill(dir.path());
    // uploads until the database has used what space it had left: each refused in plain words
    let mut refused = None;
    let mut next = 1_000;
    for _ in 0..40 {
        let (status, retry, body) = upload(next).await;
        assert_ne!(status, 500, "{body}");
        if status == 503 {
            refused = Some((retry, body));
            break;
        }
        assert_eq!(status, 200, "{body}");
        next += 1_000;
    }
    let (retry, body) = refused.expect("a full disk refuses uploads");
    assert_eq!(body["code"], "storage_full", "{body}");
    assert_eq!(retry.as_deref(), Some("60"));
    let stored_before = state.storage.interview_count().unwrap();
    // readiness says so; liveness answers; signing in is refused the same way, not with 500
    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let sign_in = http
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "city", "password": "a-long-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sign_in.status(), 503);
    let body: serde_json::Value = sign_in.json().await.unwrap();
    assert_eq!(body["code"], "storage_full");

    // space freed: the same batch is taken, whole, and nothing was half-stored meanwhile
    std::fs::remove_file(filler).unwrap();
    let (status, _, body) = upload(next).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "stored"));
    assert_eq!(state.storage.interview_count().unwrap(), stored_before + 50);
    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let integrity: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}

/// The real binary with its data on the small tmpfs.
fn start_binary(data: &Path, log: &Path) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_zhisu-server"))
        .env_remove("ZHISU_DATABASE_URL")
        .env_remove("ZHISU_CONFIG")
        .env("ZHISU_DATA_DIR", data)
        .env("ZHISU_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "ZHISU_QUESTIONNAIRES",
            zhisu_server_tests::questionnaires_dir(),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut child = child;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the server exited ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (child, format!("http://127.0.0.1:{port}"))
}

fn stop_binary(mut child: std::process::Child, log: &Path) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let log = std::fs::read_to_string(log).unwrap_or_default();
    assert!(status.success(), "{status:?}\n{log}");
}

/// Stopped cleanly, then started again on a full disk: the server starts read-only. Liveness
/// says so and why, readiness refuses, the dashboard's people already signed in read what is
/// stored and devices fetch their assignment, while uploads and new sign-ins are refused
/// `503 storage_full` in plain words; nothing changes in the file. With space again, a restart
/// stores as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_started_on_a_full_disk_serves_reads_and_says_why_it_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let _mount = Tmpfs::mount(dir.path(), "6m");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let db = data.join("zhisu-server.sqlite3");
    // the logs off the full disk
    let logs = tempfile::tempdir().unwrap();
    let token = {
        let state =
            zhisu_server::open_sqlite(&db, &zhisu_server_tests::questionnaires_dir()).unwrap();
        state
            .add_person(
                "city",
                "市管理员",
                "a-long-password",
                zhisu_server_storage::Role::CityAdmin,
                "test",
            )
            .unwrap();
        zhisu_server_tests::enrol(&state, "2026", "yuzhong", "tablet").1
    };
    let log = logs.path().join("first.log");
    let (child, base) = start_binary(&data, &log);
    let http = reqwest::Client::new();
    let upload = |base: &str, from: u128| {
        let (http, base, token) = (http.clone(), base.to_string(), token.clone());
        async move {
            let batch: Vec<CompletedInterview> = (from..from + 20).map(interview).collect();
            let response = http
                .post(format!("{base}/api/v1/interviews/batch"))
                .header("zhisu-protocol", "1")
                .bearer_auth(&token)
                .json(&serde_json::json!({ "interviews": batch }))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, body) = upload(&base, 1).await;
    assert_eq!(status, 200, "{body}");
    let session = zhisu_server_tests::sign_in(&base, "city", "a-long-password").await;
    stop_binary(child, &log);
    let file_before = std::fs::read(&db).unwrap();

    let filler = fill(dir.path());
    let log = logs.path().join("read-only.log");
    let (child, base) = start_binary(&data, &log);
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let health = health.text().await.unwrap();
    assert!(
        health.contains("read-only") && health.contains("disk was full"),
        "{health}"
    );
    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    // reads: the stored interviews for the signed-in administrator, the device's assignment
    let list = http
        .get(format!("{base}/api/v1/interviews"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    let list: serde_json::Value = list.json().await.unwrap();
    assert_eq!(list["count"], 20, "{list}");
    let assignment = http
        .get(format!("{base}/api/v1/device/assignment"))
        .header("zhisu-protocol", "1")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(assignment.status(), 200);
    // writes: refused, saying why and what to do
    let (status, body) = upload(&base, 100).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "storage_full", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("read-only") && message.contains("restart"),
        "{message}"
    );
    let sign_in = http
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "city", "password": "a-long-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sign_in.status(), 503);
    assert_eq!(
        sign_in.json::<serde_json::Value>().await.unwrap()["code"],
        "storage_full"
    );
    stop_binary(child, &log);
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(log_text.contains("serving read-only"), "{log_text}");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        file_before,
        "nothing changed in the file"
    );

    // space again: a restart stores as before
    std::fs::remove_file(filler).unwrap();
    let log = logs.path().join("again.log");
    let (child, base) = start_binary(&data, &log);
    let (status, body) = upload(&base, 100).await;
    assert_eq!(status, 200, "{body}");
    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    stop_binary(child, &log);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let count: i64 = conn
        .query_row("SELECT count(*) FROM interview", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 40);
}
