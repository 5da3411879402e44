//! Sync through a hostile network: a small HTTP proxy between the device and the real server
//! injects connection resets, timeouts, 5xx answers, responses dropped after the server stored
//! the batch, duplicated requests and truncated bodies. However the network behaves, every
//! interview must reach the server exactly once and end acknowledged on the device. Half the
//! interviews travel sealed to the round key (issue #18), half in the clear, in the same batches.
//!
//! The fault schedule comes from a seeded PRNG. The seed is printed; set `ZHISU_FAULT_SEED` to
//! replay a run (the schedule is then the same; timing-dependent details may still vary).
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zhisu_testkit::Rng;

use chrono::{Duration as ChronoDuration, TimeZone, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;
use zhisu_core::{AnswerValue, Questionnaire};
use zhisu_server::ServerState;
use zhisu_store::{DeviceStore, NewInterview};
use zhisu_sync::{sync_once, SyncClient, SyncProgress};

/// Interviews on the device. Creating them through the store's API costs six fsync'd
/// transactions each (start, four answers, complete). Measured for 2,000 in a debug build on a
/// 2-core VM: about 4 s on tmpfs, 8-15 s on its virtio disk (see `device_dir`).
const INTERVIEWS: u128 = 2_000;
/// The client gives up on a request after this long; `Fault::Delay` holds a request longer.
const CLIENT_TOTAL_TIMEOUT: Duration = Duration::from_millis(1_500);
const DELAY: Duration = Duration::from_millis(2_000);
/// Bound on sync passes: each pass ends at its first failed request.
const MAX_PASSES: usize = 500;

fn no_progress(_: SyncProgress) {}

fn questionnaires_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires")
}

fn pilot() -> Questionnaire {
    let source = std::fs::read_to_string(questionnaires_dir().join("pilot.toml")).unwrap();
    Questionnaire::from_toml("pilot.toml", &source).unwrap()
}

/// Enrols a test device with the server and returns its token.
fn device_token(state: &ServerState) -> String {
    zhisu_server_tests::enrol(state, "2026", "test", "test tablet").1
}

/// The server, holding the round's key pair: half the interviews come sealed to it.
async fn start_server(dir: &Path) -> (String, ServerState) {
    let state =
        zhisu_server::open_sqlite(&dir.join("server.sqlite3"), &questionnaires_dir()).unwrap();
    let mut http = zhisu_server::HttpState::new(state.clone());
    http.add_round_key(round_key());
    let base = zhisu_server_tests::serve_on_loopback(http).await;
    (base, state)
}

/// The round's key pair of this test (fixed, so the device can seal before it syncs).
fn round_key() -> zhisu_protocol::sealed::RoundSecretKey {
    zhisu_protocol::sealed::RoundSecretKey::from_hex("2026", &"3c".repeat(32)).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The fault schedule

fn fault_seed() -> u64 {
    match std::env::var("ZHISU_FAULT_SEED") {
        Ok(s) => s
            .trim()
            .parse()
            .expect("ZHISU_FAULT_SEED must be an unsigned integer"),
        Err(_) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Forward and relay the whole response.
    Pass,
    /// Close the client connection with a reset, forwarding nothing.
    ResetBefore,
    /// Answer 503 `internal` without forwarding.
    Http503,
    /// Forward, read the server's whole answer, then close the client connection silently.
    DropAfterStore,
    /// Forward the request twice; relay the second answer.
    Duplicate,
    /// Forward, then relay the head (full content-length) and half the body, and close.
    Truncated,
    /// Hold the request longer than the client waits, then forward it anyway.
    Delay,
}

const FAULTS: [Fault; 6] = [
    Fault::ResetBefore,
    Fault::Http503,
    Fault::DropAfterStore,
    Fault::Duplicate,
    Fault::Truncated,
    Fault::Delay,
];
const KINDS: usize = FAULTS.len() + 1;

impl Fault {
    fn index(self) -> usize {
        match self {
            Fault::Pass => 0,
            Fault::ResetBefore => 1,
            Fault::Http503 => 2,
            Fault::DropAfterStore => 3,
            Fault::Duplicate => 4,
            Fault::Truncated => 5,
            Fault::Delay => 6,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Fault::Pass => "pass",
            Fault::ResetBefore => "reset_before",
            Fault::Http503 => "http_503",
            Fault::DropAfterStore => "drop_after_store",
            Fault::Duplicate => "duplicate",
            Fault::Truncated => "truncated",
            Fault::Delay => "delay",
        }
    }

    /// Whether the client sees this request fail.
    fn client_sees_failure(self) -> bool {
        !matches!(self, Fault::Pass | Fault::Duplicate)
    }
}

/// Decides the fault of each connection: in every 10 requests exactly 4 are faulted (positions
/// shuffled), and the faults cycle through every kind in a shuffled order, so a short run still
/// injects every kind. With 2,000 interviews (20 batches) the device needs 20 answered requests
/// (pass or duplicate); two rounds of ten give at most 14, so every run sees at least 8 faults
/// and so every kind.
struct Schedule {
    rng: Rng,
    slots: Vec<bool>,
    faults: Vec<Fault>,
}

impl Schedule {
    const FAULTS_PER_TEN: usize = 4;

    fn new(seed: u64) -> Self {
        Schedule {
            rng: Rng::new(seed),
            slots: Vec::new(),
            faults: Vec::new(),
        }
    }

    fn next(&mut self) -> Fault {
        if self.slots.is_empty() {
            self.slots = (0..10).map(|i| i < Self::FAULTS_PER_TEN).collect();
            self.rng.shuffle(&mut self.slots);
        }
        if !self.slots.pop().unwrap() {
            return Fault::Pass;
        }
        if self.faults.is_empty() {
            self.faults = FAULTS.to_vec();
            self.rng.shuffle(&mut self.faults);
        }
        self.faults.pop().unwrap()
    }
}

// ---------------------------------------------------------------------------------------------
// The proxy

#[derive(Default)]
struct ProxyStats {
    connections: AtomicUsize,
    by_kind: [AtomicUsize; KINDS],
    /// Answers from the server other than `200 OK` (there must be none).
    upstream_not_ok: AtomicUsize,
    /// Connections still being handled (a delayed request may outlive the client's attempt).
    in_flight: AtomicUsize,
    /// Faults in the order they were decided, for the failure message.
    log: Mutex<Vec<Fault>>,
}

impl ProxyStats {
    fn count(&self, fault: Fault) -> usize {
        self.by_kind[fault.index()].load(Ordering::SeqCst)
    }

    fn summary(&self) -> String {
        std::iter::once(Fault::Pass)
            .chain(FAULTS)
            .map(|f| format!("{}={}", f.name(), self.count(f)))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

struct FaultProxy {
    base_url: String,
    stats: Arc<ProxyStats>,
}

async fn start_proxy(upstream: &str, seed: u64) -> FaultProxy {
    let upstream = upstream
        .strip_prefix("http://")
        .expect("an http:// upstream")
        .to_string();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let stats = Arc::new(ProxyStats::default());
    let shared = Arc::clone(&stats);
    tokio::spawn(async move {
        let mut schedule = Schedule::new(seed);
        loop {
            let Ok((client, _)) = listener.accept().await else {
                continue;
            };
            // Decided in accept order, so a seed replays the same schedule.
            let fault = schedule.next();
            shared.connections.fetch_add(1, Ordering::SeqCst);
            shared.by_kind[fault.index()].fetch_add(1, Ordering::SeqCst);
            shared.log.lock().unwrap().push(fault);
            shared.in_flight.fetch_add(1, Ordering::SeqCst);
            let stats = Arc::clone(&shared);
            let upstream = upstream.clone();
            tokio::spawn(async move {
                // An I/O error here is the client having given up (a timeout): nothing to do.
                let _ = handle(client, &upstream, fault, &stats).await;
                stats.in_flight.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    FaultProxy { base_url, stats }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads one HTTP/1.1 request: the head up to the blank line, then `content-length` bytes.
/// Returns the head's lines (without the request line's terminator) and the body.
async fn read_request(client: &mut TcpStream) -> std::io::Result<(Vec<String>, Vec<u8>)> {
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let lines: Vec<String> = head.split("\r\n").map(str::to_string).collect();
    let length: usize = lines
        .iter()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .map(|(_, value)| value.trim().parse().expect("a numeric content-length"))
        .unwrap_or(0);
    let body_start = head_end + 4;
    while buf.len() < body_start + length {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok((lines, buf[body_start..body_start + length].to_vec()))
}

/// The request as forwarded: `connection: close`, so there is one request per connection and
/// the server's answer ends at end of stream.
fn forwarded(lines: &[String], body: &[u8]) -> Vec<u8> {
    let mut out = String::new();
    for line in lines {
        let is_connection = line
            .split_once(':')
            .is_some_and(|(name, _)| name.trim().eq_ignore_ascii_case("connection"));
        if !is_connection {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Sends one request to the server and returns its whole answer (read until the server closes).
async fn exchange(upstream: &str, request: &[u8], stats: &ProxyStats) -> std::io::Result<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(request).await?;
    let mut response = Vec::new();
    server.read_to_end(&mut response).await?;
    if !response.starts_with(b"HTTP/1.1 200 ") {
        stats.upstream_not_ok.fetch_add(1, Ordering::SeqCst);
    }
    Ok(response)
}

async fn handle(
    mut client: TcpStream,
    upstream: &str,
    fault: Fault,
    stats: &ProxyStats,
) -> std::io::Result<()> {
    let (lines, body) = read_request(&mut client).await?;
    let request = forwarded(&lines, &body);
    match fault {
        Fault::Pass => {
            let response = exchange(upstream, &request, stats).await?;
            client.write_all(&response).await?;
            client.shutdown().await?;
        }
        Fault::ResetBefore => {
            client.set_zero_linger()?;
            drop(client);
        }
        Fault::Http503 => {
            let body = r#"{"code":"internal","message":"injected"}"#;
            let answer = format!(
                "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            client.write_all(answer.as_bytes()).await?;
            client.shutdown().await?;
        }
        Fault::DropAfterStore => {
            exchange(upstream, &request, stats).await?;
            drop(client);
        }
        Fault::Duplicate => {
            exchange(upstream, &request, stats).await?;
            let response = exchange(upstream, &request, stats).await?;
            client.write_all(&response).await?;
            client.shutdown().await?;
        }
        Fault::Truncated => {
            let response = exchange(upstream, &request, stats).await?;
            let head_end = find(&response, b"\r\n\r\n").expect("a complete response head") + 4;
            let cut = head_end + (response.len() - head_end) / 2;
            client.write_all(&response[..cut]).await?;
            client.shutdown().await?;
        }
        Fault::Delay => {
            tokio::time::sleep(DELAY).await;
            // The client has given up by now; the server still gets (and stores) the batch.
            let response = exchange(upstream, &request, stats).await?;
            let _ = client.write_all(&response).await;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The device

/// Directory for the device database: tmpfs when the machine has one, where an fsync is nearly
/// free. The store is still driven only through its public API; this test is about the network,
/// not about durability, and on tmpfs it spends its time on that.
fn device_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::tempdir().unwrap()
}

/// Completes `n` interviews with varied answers and returns their ids.
fn complete_interviews(store: &mut DeviceStore, n: u128) -> Vec<Uuid> {
    let q = pilot();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap();
    let noise = ["earplugs", "cotton", "get_used"];
    let confined = ["ventilate", "test_air", "go_alone", "guard_outside"];
    let mut rng = Rng::new(0x5eed_fa11);
    (0..n)
        .map(|i| {
            let started = t0 + ChronoDuration::seconds(i as i64 * 7);
            let id = store
                .start_interview(
                    &q,
                    &NewInterview::new(Uuid::from_u128(0xfa17_0000 + i), started, 480),
                )
                .unwrap();
            let subset = 1 + rng.index(15); // a non-empty subset of the four options
            let answers = [
                ("age", AnswerValue::Integer(16 + rng.index(44) as i64)),
                ("employer_duty", AnswerValue::Bool(rng.index(2) == 0)),
                ("noise", AnswerValue::Choice(noise[rng.index(3)].into())),
                (
                    "confined_space",
                    AnswerValue::Choices(
                        confined
                            .iter()
                            .enumerate()
                            .filter(|(bit, _)| subset & (1 << bit) != 0)
                            .map(|(_, key)| key.to_string())
                            .collect(),
                    ),
                ),
            ];
            for (item, value) in answers {
                store.save_answer(&q, id, item, &value, started).unwrap();
            }
            // every other interview sealed to the round key, the others in the clear (completed
            // before the key came): one queue, both kinds in every batch
            let key = round_key().public_key();
            store.save_round_key((i % 2 == 1).then_some(&key)).unwrap();
            store
                .complete_interview(&q, id, started + ChronoDuration::seconds(5))
                .unwrap();
            id
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_interviews_through_a_faulty_network_arrive_exactly_once() {
    let seed = fault_seed();
    println!("fault seed: {seed} (replay with ZHISU_FAULT_SEED={seed})");
    let began = Instant::now();

    let server_dir = tempfile::tempdir().unwrap();
    let (server_url, server) = start_server(server_dir.path()).await;
    let proxy = start_proxy(&server_url, seed).await;

    let device_dir = device_dir();
    let mut device =
        DeviceStore::open(&device_dir.path().join("device.sqlite3"), &device_key()).unwrap();
    let ids = complete_interviews(&mut device, INTERVIEWS);
    let n = ids.len() as u64;
    println!("created {n} interviews in {:.1?}", began.elapsed());
    assert_eq!(device.state_counts().unwrap().waiting, n);

    let store = Arc::new(Mutex::new(device));
    let client = SyncClient::with_timeouts(
        &proxy.base_url,
        Duration::from_secs(1),
        CLIENT_TOTAL_TIMEOUT,
    )
    .with_token(&device_token(&server));
    let sync_began = Instant::now();
    let mut passes = 0;
    let mut failed_passes = 0;
    let mut error_codes = std::collections::BTreeMap::<String, usize>::new();
    loop {
        let waiting = store.lock().unwrap().state_counts().unwrap().waiting;
        if waiting == 0 {
            break;
        }
        assert!(
            passes < MAX_PASSES,
            "seed {seed}: {waiting} interviews still waiting after {passes} passes ({})",
            proxy.stats.summary()
        );
        passes += 1;
        match sync_once(&store, &client, &no_progress).await {
            Ok(report) => assert_eq!(report.rejected, 0, "seed {seed}: {report:?}"),
            Err(error) => {
                failed_passes += 1;
                *error_codes.entry(error.code().to_string()).or_default() += 1;
            }
        }
    }
    let sync_time = sync_began.elapsed();
    // A delayed request may still be on its way to the server: let it land before counting.
    let settle = Instant::now();
    while proxy.stats.in_flight.load(Ordering::SeqCst) > 0 && settle.elapsed() < 2 * DELAY {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = &proxy.stats;
    println!(
        "synced in {sync_time:.1?}: {passes} passes, {failed_passes} failed ({error_codes:?}); {} requests: {}",
        stats.connections.load(Ordering::SeqCst),
        stats.summary()
    );
    let schedule: Vec<&str> = stats.log.lock().unwrap().iter().map(|f| f.name()).collect();
    let context = format!("seed {seed}, schedule {schedule:?}");

    assert_eq!(
        stats.upstream_not_ok.load(Ordering::SeqCst),
        0,
        "{context}: the server failed a request"
    );

    // The server holds each interview exactly once.
    let db = &server.storage;
    assert_eq!(db.interview_count().unwrap(), n, "{context}");
    for id in &ids {
        assert!(
            db.contains(*id).unwrap(),
            "{context}: {id} is not on the server"
        );
    }

    // The device shows every one acknowledged, none waiting, none rejected.
    let device = store.lock().unwrap();
    let counts = device.state_counts().unwrap();
    assert_eq!(counts.acknowledged, n, "{context}: {counts:?}");
    assert_eq!(
        (counts.waiting, counts.rejected, counts.in_progress),
        (0, 0, 0),
        "{context}: {counts:?}"
    );

    // Every kind of fault was injected, and about 40 % of requests were faulted.
    for fault in FAULTS {
        assert!(
            stats.count(fault) > 0,
            "{context}: no {} injected",
            fault.name()
        );
    }
    let requests = stats.connections.load(Ordering::SeqCst);
    assert!(
        (3 * requests..=5 * requests).contains(&(10 * (requests - stats.count(Fault::Pass)))),
        "{context}: faulted share off 40 %"
    );

    // The sync log has one row per request: the failed ones recorded as failed, the answered
    // ones without a conflict or rejection.
    let log = device.sync_log(10 * requests).unwrap();
    assert_eq!(
        log.len(),
        requests,
        "{context}: one sync attempt per request"
    );
    let failed: Vec<_> = log.iter().filter(|e| e.outcome == "failed").collect();
    let answered: Vec<_> = log.iter().filter(|e| e.outcome == "answered").collect();
    assert_eq!(
        failed.len() + answered.len(),
        requests,
        "{context}: none left 'sending'"
    );
    let visible_faults: usize = FAULTS
        .iter()
        .filter(|f| f.client_sees_failure())
        .map(|f| stats.count(*f))
        .sum();
    // At least every visible fault failed (a slow pass-through may time out too).
    assert!(
        failed.len() >= visible_faults,
        "{context}: {} failed attempts logged, {visible_faults} faults the client must have seen",
        failed.len()
    );
    assert_eq!(
        failed.len(),
        failed_passes,
        "{context}: each failed pass logged once"
    );
    assert!(failed
        .iter()
        .all(|e| e.error_code.is_some() && e.finished_at.is_some()));
    let injected_503 = failed
        .iter()
        .filter(|e| e.http_status == Some(503))
        .inspect(|e| assert_eq!(e.error_code.as_deref(), Some("internal"), "{context}"))
        .count();
    assert_eq!(injected_503, stats.count(Fault::Http503), "{context}");
    assert!(answered
        .iter()
        .all(|e| e.http_status == Some(200) && e.conflicts == 0 && e.rejected == 0));
    let acknowledged: u32 = answered.iter().map(|e| e.stored + e.already_stored).sum();
    assert_eq!(
        acknowledged as u64, n,
        "{context}: one receipt per interview reached the device"
    );
    // Batches the device never heard about were recognised on the re-send, not stored again.
    let already: u32 = answered.iter().map(|e| e.already_stored).sum();
    assert!(
        already > 0,
        "{context}: a re-send of a stored batch was recognised"
    );
    println!("total {:.1?}", began.elapsed());
}

/// The tablet's database key in these tests (the store is encrypted as on a tablet).
fn device_key() -> zhisu_store::DatabaseKey {
    zhisu_store::DatabaseKey::from_bytes([0x5a; 32])
}
