//! Recordings reach the tablet through a network that breaks: a download cut off half-way
//! resumes with `Range` from the bytes the device kept, bytes that do not match their hash are
//! dropped and fetched again, and the same bytes are fetched once for every place using them.
//! The real server on loopback, the real device store, a proxy between them that cuts or
//! damages the answers it is told to.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use zhisu_protocol::media_hash;
use zhisu_server::ServerState;
use zhisu_store::DeviceStore;
use zhisu_sync::{sync_recordings, SyncClient, SyncError};

const PILOT: (&str, &str) = ("ohl_pilot", "2026.1");

#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Half of the answer's body, then the connection closes.
    Truncated,
    /// One byte of the body changed.
    Damaged,
}

#[derive(Default)]
struct Proxy {
    /// Applied in turn to the answers for `/api/v1/media/…`; other requests pass.
    faults: Mutex<VecDeque<Fault>>,
    /// Every media request: its path and its `Range` header.
    media_requests: Mutex<Vec<(String, Option<String>)>>,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn start_proxy(upstream: String) -> (String, Arc<Proxy>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let proxy = Arc::new(Proxy::default());
    let shared = Arc::clone(&proxy);
    tokio::spawn(async move {
        loop {
            let (client, _) = listener.accept().await.unwrap();
            let (proxy, upstream) = (Arc::clone(&shared), upstream.clone());
            tokio::spawn(async move {
                let _ = handle(client, &upstream, &proxy).await;
            });
        }
    });
    (address, proxy)
}

/// One request per connection (GET only: no body), answered from the server and changed as
/// the next fault says.
async fn handle(mut client: TcpStream, upstream: &str, proxy: &Proxy) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    while find(&head, b"\r\n\r\n").is_none() {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    let path = lines[0].split(' ').nth(1).unwrap_or_default().to_string();
    let mut request = String::new();
    for line in &lines {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            request.push_str(line);
            request.push_str("\r\n");
        }
    }
    request.push_str("connection: close\r\n\r\n");
    let mut server = TcpStream::connect(upstream.trim_start_matches("http://")).await?;
    server.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    server.read_to_end(&mut response).await?;
    let fault = if path.starts_with("/api/v1/media/") {
        let range = lines
            .iter()
            .filter_map(|l| l.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("range"))
            .map(|(_, value)| value.trim().to_string());
        proxy.media_requests.lock().unwrap().push((path, range));
        proxy.faults.lock().unwrap().pop_front()
    } else {
        None
    };
    let body_at = find(&response, b"\r\n\r\n").unwrap() + 4;
    match fault {
        None => client.write_all(&response).await?,
        Some(Fault::Truncated) => {
            let cut = body_at + (response.len() - body_at) / 2;
            client.write_all(&response[..cut]).await?;
        }
        Some(Fault::Damaged) => {
            let at = body_at + (response.len() - body_at) / 3;
            response[at] ^= 0x5A;
            client.write_all(&response).await?;
        }
    }
    client.shutdown().await
}

/// A recording: a RIFF WAVE head and `size` bytes of changing samples.
fn recording(size: usize, seed: u8) -> Vec<u8> {
    let mut bytes = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
    bytes.extend((0..size).map(|i| (i as u8).wrapping_mul(seed).wrapping_add(i as u8 >> 3)));
    bytes
}

fn save(server: &ServerState, item: &str, option: &str, bytes: &[u8]) {
    server
        .save_recording(PILOT.0, PILOT.1, item, option, bytes, "city")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_resume_after_a_broken_download_and_are_checked_against_their_hash() {
    let dir = tempfile::tempdir().unwrap();
    let server = zhisu_server::open_sqlite(
        &dir.path().join("server.sqlite3"),
        &zhisu_server_tests::questionnaires_dir(),
    )
    .unwrap();
    let base = zhisu_server_tests::serve_on_loopback(server.clone()).await;
    let (address, proxy) = start_proxy(base).await;
    let token = zhisu_server_tests::enrol(&server, "2026", "test", "test tablet").1;
    let client = SyncClient::new(&address).with_token(&token);
    let device = DeviceStore::open(&dir.path().join("device.sqlite3"), &device_key()).unwrap();
    let store = Arc::new(Mutex::new(device));

    // one long recording for the question and its first answer (fetched once), cut off
    // half-way on its first download
    let long = recording(900_000, 7);
    save(&server, "noise", "", &long);
    save(&server, "noise", "earplugs", &long);
    proxy.faults.lock().unwrap().push_back(Fault::Truncated);
    let error = sync_recordings(&store, &client).await.unwrap_err();
    assert!(matches!(error, SyncError::Unreachable(_)), "{error}");
    let kept = store.lock().unwrap().media_to_fetch().unwrap();
    assert_eq!(kept.len(), 1, "the same bytes are wanted once: {kept:?}");
    assert!(
        kept[0].received > 0 && kept[0].received < long.len() as u64,
        "what arrived before the break is kept: {kept:?}"
    );
    assert_eq!(
        store
            .lock()
            .unwrap()
            .recording(PILOT.0, PILOT.1, "noise", "")
            .unwrap(),
        None
    );

    // the next pass asks only for the rest
    assert_eq!(sync_recordings(&store, &client).await.unwrap(), 1);
    let requests = proxy.media_requests.lock().unwrap().clone();
    let path = format!("/api/v1/media/{}", media_hash(&long));
    assert_eq!(
        requests,
        vec![
            (path.clone(), None),
            (path, Some(format!("bytes={}-", kept[0].received)))
        ]
    );
    for option in ["", "earplugs"] {
        assert_eq!(
            store
                .lock()
                .unwrap()
                .recording(PILOT.0, PILOT.1, "noise", option)
                .unwrap(),
            Some(("wav".to_string(), long.clone())),
            "{option:?}"
        );
    }

    // damaged on the way: dropped, fetched again from the first byte, then right
    let short = recording(5_000, 13);
    save(&server, "employer_duty", "true", &short);
    proxy.media_requests.lock().unwrap().clear();
    proxy.faults.lock().unwrap().push_back(Fault::Damaged);
    assert_eq!(sync_recordings(&store, &client).await.unwrap(), 1);
    assert_eq!(proxy.media_requests.lock().unwrap().len(), 2);
    assert_eq!(
        store
            .lock()
            .unwrap()
            .recording(PILOT.0, PILOT.1, "employer_duty", "true")
            .unwrap(),
        Some(("wav".to_string(), short.clone()))
    );

    // damaged twice: refused, nothing used, and fetched whole at the next pass
    let other = recording(3_000, 29);
    save(&server, "employer_duty", "false", &other);
    proxy
        .faults
        .lock()
        .unwrap()
        .extend([Fault::Damaged, Fault::Damaged]);
    let error = sync_recordings(&store, &client).await.unwrap_err();
    assert_eq!(error.code(), "bad_server_response", "{error}");
    assert_eq!(
        store
            .lock()
            .unwrap()
            .recording(PILOT.0, PILOT.1, "employer_duty", "false")
            .unwrap(),
        None
    );
    assert_eq!(sync_recordings(&store, &client).await.unwrap(), 1);
    assert_eq!(
        store
            .lock()
            .unwrap()
            .recording(PILOT.0, PILOT.1, "employer_duty", "false")
            .unwrap(),
        Some(("wav".to_string(), other))
    );
    // nothing left to fetch: a pass asks for no bytes
    proxy.media_requests.lock().unwrap().clear();
    assert_eq!(sync_recordings(&store, &client).await.unwrap(), 0);
    assert!(proxy.media_requests.lock().unwrap().is_empty());
}

/// The tablet's database key in these tests (the store is encrypted as on a tablet).
fn device_key() -> zhisu_store::DatabaseKey {
    zhisu_store::DatabaseKey::from_bytes([0x5a; 32])
}
