//! Slow and idle clients cannot hold the server, a connection beyond the limit is refused in
//! plain words, and stopping finishes the requests in flight: raw TCP against the real server.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zhisu_server::serve::{serve_with_limits, ConnectionLimits};

struct Running {
    address: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

async fn start(limits: ConnectionLimits) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let state = zhisu_server::open_sqlite(
        &dir.path().join("server.sqlite3"),
        &zhisu_server_tests::questionnaires_dir(),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve_with_limits(listener, state, limits, async {
        let _ = stopped.await;
    }));
    Running {
        address,
        stop: Some(stop),
        task,
        _dir: dir,
    }
}

/// Reads until the server closes the connection (or `limit` passes): what it sent, and how long
/// it took.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout(
            limit.saturating_sub(started.elapsed()),
            stream.read(&mut buffer),
        )
        .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => panic!(
                "the server kept the connection open for {limit:?}; it sent {:?}",
                String::from_utf8_lossy(&received)
            ),
        }
    }
    (
        String::from_utf8_lossy(&received).into_owned(),
        started.elapsed(),
    )
}

fn quick() -> ConnectionLimits {
    ConnectionLimits {
        header_timeout: Duration::from_millis(800),
        body_timeout: Duration::from_millis(800),
        max_connections: 64,
        shutdown_grace: Duration::from_secs(5),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_are_cut_off() {
    let server = start(quick()).await;
    // a request head that never ends (slowloris)
    let mut slow = TcpStream::connect(server.address).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let (_, took) = read_until_closed(&mut slow, Duration::from_secs(5)).await;
    assert!(took < Duration::from_secs(3), "closed after {took:?}");
    // a connection that says nothing at all
    let mut silent = TcpStream::connect(server.address).await.unwrap();
    let (_, took) = read_until_closed(&mut silent, Duration::from_secs(5)).await;
    assert!(took < Duration::from_secs(3), "closed after {took:?}");
    // a keep-alive connection left idle after its answer
    let mut idle = TcpStream::connect(server.address).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (sent, took) = read_until_closed(&mut idle, Duration::from_secs(5)).await;
    assert!(sent.starts_with("HTTP/1.1 200"), "{sent}");
    assert!(took < Duration::from_secs(3), "closed after {took:?}");
    // a body shorter than its Content-Length is not waited on for ever
    let mut short = TcpStream::connect(server.address).await.unwrap();
    short
        .write_all(
            b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"username\":",
        )
        .await
        .unwrap();
    let (sent, took) = read_until_closed(&mut short, Duration::from_secs(5)).await;
    assert!(
        took < Duration::from_secs(3),
        "closed after {took:?}: {sent}"
    );
    assert!(!sent.contains(" 200 "), "{sent}");
    // and the server still answers everyone else
    let health = reqwest::get(format!("http://{}/healthz", server.address))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limit_are_refused_in_plain_words() {
    let server = start(ConnectionLimits {
        header_timeout: Duration::from_secs(10),
        max_connections: 3,
        ..quick()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(server.address).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = TcpStream::connect(server.address).await.unwrap();
    let (sent, _) = read_until_closed(&mut extra, Duration::from_secs(5)).await;
    assert!(sent.starts_with("HTTP/1.1 503"), "{sent}");
    assert!(sent.contains("retry-after: 5"), "{sent}");
    let body = sent.split("\r\n\r\n").nth(1).unwrap();
    let error: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(error["code"], "server_busy");
    // a slot freed is a slot used again
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let health = reqwest::Client::new()
        .get(format!("http://{}/healthz", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_finishes_the_requests_in_flight_and_takes_no_new_ones() {
    let mut server = start(ConnectionLimits {
        body_timeout: Duration::from_secs(5),
        header_timeout: Duration::from_secs(5),
        ..quick()
    })
    .await;
    // a sign-in whose body is half sent when the server is told to stop
    let body = br#"{"username":"nobody","password":"not-the-password"}"#;
    let mut in_flight = TcpStream::connect(server.address).await.unwrap();
    in_flight
        .write_all(
            format!(
                "POST /api/v1/session HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    in_flight.write_all(&body[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.stop.take().unwrap().send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // no new connections
    assert!(
        TcpStream::connect(server.address).await.is_err(),
        "the listener is closed"
    );
    // the request in flight finishes with its answer
    in_flight.write_all(&body[10..]).await.unwrap();
    let (sent, _) = read_until_closed(&mut in_flight, Duration::from_secs(5)).await;
    assert!(sent.starts_with("HTTP/1.1 401"), "{sent}");
    assert!(sent.contains("bad_credentials"), "{sent}");
    // and the server ends
    tokio::time::timeout(Duration::from_secs(5), &mut server.task)
        .await
        .expect("the server stops after its requests")
        .unwrap()
        .unwrap();
}

fn pilot_interview(n: u128) -> zhisu_protocol::CompletedInterview {
    use chrono::TimeZone;
    let mut answers = zhisu_core::Answers::new();
    answers.insert("age".into(), zhisu_core::AnswerValue::Integer(30));
    answers.insert("employer_duty".into(), zhisu_core::AnswerValue::Bool(true));
    answers.insert(
        "noise".into(),
        zhisu_core::AnswerValue::Choice("earplugs".into()),
    );
    answers.insert(
        "confined_space".into(),
        zhisu_core::AnswerValue::Choices(vec!["ventilate".into()]),
    );
    zhisu_protocol::CompletedInterview {
        id: uuid::Uuid::from_u128(0x7_0000 + n),
        questionnaire_id: "ohl_pilot".into(),
        questionnaire_version: "2026.1".into(),
        started_at: chrono::Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap(),
        completed_at: chrono::Utc.with_ymd_and_hms(2026, 12, 1, 8, 9, 0).unwrap(),
        utc_offset_minutes: 480,
        answers,
        site_id: None,
        surveyor_id: None,
        paradata: None,
        practice: false,
        content_hash: String::new(),
    }
    .sealed()
}

/// Uploads beyond `max_concurrent_uploads` wait with their bodies unread: with one permit, an
/// upload whose body is still arriving holds it, a second waits (not refused, not failed), and
/// both are stored once the first body is complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_beyond_the_limit_wait_their_turn() {
    let dir = tempfile::tempdir().unwrap();
    let server = zhisu_server::open_sqlite(
        &dir.path().join("server.sqlite3"),
        &zhisu_server_tests::questionnaires_dir(),
    )
    .unwrap();
    let (_, token) = zhisu_server_tests::enrol(&server, "2026", "yuzhong", "tablet");
    let mut state = zhisu_server::HttpState::new(server.clone());
    state.upload_permits = std::sync::Arc::new(tokio::sync::Semaphore::new(1));
    let base = zhisu_server_tests::serve_on_loopback(state).await;
    let address = base.trim_start_matches("http://").to_string();

    // the first upload: its head and half its body, then a pause
    let body = serde_json::to_vec(&serde_json::json!({
        "interviews": (0..20).map(pilot_interview).collect::<Vec<_>>()
    }))
    .unwrap();
    let mut first = TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/v1/interviews/batch HTTP/1.1\r\nhost: {address}\r\nzhisu-protocol: 1\r\n\
         authorization: Bearer {token}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    first.write_all(head.as_bytes()).await.unwrap();
    let half = body.len() / 2;
    first.write_all(&body[..half]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // the second waits for the permit
    let second = tokio::spawn({
        let (base, token) = (base.clone(), token.clone());
        async move {
            reqwest::Client::new()
                .post(format!("{base}/api/v1/interviews/batch"))
                .header("zhisu-protocol", "1")
                .bearer_auth(token)
                .json(&serde_json::json!({ "interviews": [pilot_interview(100)] }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!second.is_finished(), "the second upload waits its turn");
    assert_eq!(server.storage.interview_count().unwrap(), 0);

    // the rest of the first body: both are stored
    first.write_all(&body[half..]).await.unwrap();
    let (answer, _) = read_until_closed(&mut first, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(second.await.unwrap(), 200);
    assert_eq!(server.storage.interview_count().unwrap(), 21);
}
