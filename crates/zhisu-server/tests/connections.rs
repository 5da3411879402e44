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
