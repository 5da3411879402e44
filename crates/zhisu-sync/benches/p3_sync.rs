//! P3: how long a device with a large backlog takes to sync.
//!
//! 10,000 completed interviews queued on a device store are synced with `sync_once` over loopback
//! to the in-process server (embedded SQLite), device and server databases in a temp dir on disk.
//! Baselines in the same run, on the same copy of the device store: reading the payloads from the
//! device store plus storing them directly in a fresh server database with `SqliteStorage::ingest`, in
//! batches of 100, without HTTP; and the same through the server's whole ingest path
//! (`api::ingest`: hash check, answer checks, re-scoring). Goal: the sync under 5 s.
//!
//! The backlog is built once (through `DeviceStore`'s API, not measured) and copied for each of
//! `P3_RUNS` runs (default 3); the medians are reported. The device store is encrypted as on a
//! tablet; `ZHISU_BENCH_PLAIN_DEVICE=1` runs it on a plain file for comparison.
//!
//! `cargo bench -p zhisu-sync --bench p3_sync` (release profile). `P3_INTERVIEWS` changes the
//! number of interviews.
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{Duration as ChronoDuration, TimeZone, Utc};
use uuid::Uuid;
use zhisu_core::{AnswerValue, Questionnaire};
use zhisu_protocol::{Receipt, ReceiptStatus};

use zhisu_server_sqlite::SqliteStorage;
#[allow(unused_imports)]
use zhisu_server_storage::{AnalyticsStore, InterviewStore, PlanStore};
use zhisu_store::{DeviceStore, NewInterview};
use zhisu_sync::{sync_once, SyncClient, SyncProgress};

const BATCH: usize = 100;

fn questionnaires_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires")
}

fn pilot() -> Questionnaire {
    let source = std::fs::read_to_string(questionnaires_dir().join("pilot.toml")).unwrap();
    Questionnaire::from_toml("pilot.toml", &source).unwrap()
}

/// Completes `n` interviews with varied answers through the store's public API (each answer an
/// fsync'd transaction, as on a tablet).
fn complete_interviews(store: &mut DeviceStore, q: &Questionnaire, n: usize) {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap();
    let noise = ["earplugs", "cotton", "get_used"];
    let confined = ["ventilate", "test_air", "go_alone", "guard_outside"];
    for i in 0..n {
        let started = t0 + ChronoDuration::seconds(i as i64 * 7);
        let id = store
            .start_interview(
                q,
                &NewInterview::new(Uuid::from_u128(0xb3_0000 + i as u128), started, 480),
            )
            .unwrap();
        let subset = 1 + (i * 7) % 15;
        let answers = [
            ("age", AnswerValue::Integer(16 + (i % 44) as i64)),
            ("employer_duty", AnswerValue::Bool(i % 3 != 0)),
            ("noise", AnswerValue::Choice(noise[i % 3].into())),
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
            store.save_answer(q, id, item, &value, started).unwrap();
        }
        store
            .complete_interview(q, id, started + ChronoDuration::seconds(300))
            .unwrap();
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Where the device store is built: tmpfs when there is one. Setup is 60,000 fsync'd
/// transactions, minutes on a VM disk; the finished file is then copied to a disk temp dir and
/// every measured run works on a copy there.
fn setup_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::tempdir().unwrap()
}

/// Copies a closed SQLite database (and its WAL, if one was left) to `to`.
fn copy_db(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    let wal = |p: &Path| PathBuf::from(format!("{}-wal", p.display()));
    if wal(from).exists() {
        std::fs::copy(wal(from), wal(to)).unwrap();
    }
}

/// Baseline: read the queue from the device store, score each interview with the core (the
/// server stores its own score with every row) and store the rows directly, 100 per transaction,
/// with `SqliteStorage::ingest`. Returns the times of (read, score, ingest).
fn direct(device: &DeviceStore, q: &Questionnaire, n: usize, db_path: &Path) -> [Duration; 3] {
    let db = SqliteStorage::open(db_path).unwrap();
    let t = Instant::now();
    let payloads = device.waiting_uploads(n).unwrap();
    let read = t.elapsed();
    assert_eq!(payloads.len(), n);
    let mut score = Duration::ZERO;
    let mut ingest = Duration::ZERO;
    for batch in payloads.chunks(BATCH) {
        let t = Instant::now();
        let rows: Vec<_> = batch
            .iter()
            .map(|i| zhisu_server_storage::Accepted::new(q, i.clone(), q.score(&i.answers)))
            .collect();
        score += t.elapsed();
        let t = Instant::now();
        let receipts = db.ingest(&rows, None, Utc::now()).unwrap();
        ingest += t.elapsed();
        assert_eq!(receipts.len(), batch.len());
    }
    assert_eq!(db.interview_count().unwrap(), n as u64);
    [read, score, ingest]
}

/// Second baseline: the same with the server's whole ingest path (hash check, answer checks,
/// re-scoring, storing) but no HTTP and no device bookkeeping.
fn direct_with_checks(device: &DeviceStore, n: usize, db_path: &Path) -> Duration {
    let state = zhisu_server::open_sqlite(db_path, &questionnaires_dir()).unwrap();
    let t = Instant::now();
    let payloads = device.waiting_uploads(n).unwrap();
    for batch in payloads.chunks(BATCH) {
        let receipts = zhisu_server_service::ingest::ingest(&state, batch.to_vec(), None).unwrap();
        assert!(receipts.iter().all(|r| r.status.is_acknowledged()));
    }
    let elapsed = t.elapsed();
    assert_eq!(state.storage.interview_count().unwrap(), n as u64);
    elapsed
}

/// The device's own part of a sync without any network: for each batch of 100, `begin_upload`
/// and `finish_upload` with a `stored` receipt for each (two fsync'd transactions per batch).
fn device_bookkeeping(device_path: &Path, n: usize) -> Duration {
    let mut device = open_device(device_path);
    let t = Instant::now();
    while let Some(attempt) = device
        .begin_upload(BATCH, "http://127.0.0.1:1", Utc::now())
        .unwrap()
    {
        let receipts: Vec<Receipt> = attempt
            .ids()
            .into_iter()
            .map(|id| Receipt {
                interview_id: id,
                status: ReceiptStatus::Stored,
                code: None,
                message: None,
            })
            .collect();
        device
            .finish_upload(&attempt, 200, &receipts, Utc::now())
            .unwrap();
    }
    let elapsed = t.elapsed();
    assert_eq!(device.state_counts().unwrap().acknowledged, n as u64);
    elapsed
}

/// One measured sync of the whole backlog on a fresh copy of the device store and a fresh
/// server database, both on disk.
fn sync_run(
    runtime: &tokio::runtime::Runtime,
    device_path: &Path,
    dir: &Path,
    n: usize,
) -> Duration {
    let store = Arc::new(Mutex::new(open_device(device_path)));
    let (elapsed, report) = runtime.block_on(async {
        let server =
            zhisu_server::open_sqlite(&dir.join("server.sqlite3"), &questionnaires_dir()).unwrap();
        let code = server
            .create_enrolment_code("2026", "bench", chrono::Duration::days(1), "bench")
            .unwrap();
        let token = server.enrol(&code, "bench tablet").unwrap().unwrap().token;
        let base = zhisu_server_tests::serve_on_loopback(server.clone()).await;
        let client = SyncClient::new(&base).with_token(&token);
        let t = Instant::now();
        let report = sync_once(&store, &client, &|_: SyncProgress| {})
            .await
            .unwrap();
        let elapsed = t.elapsed();
        assert_eq!(server.storage.interview_count().unwrap(), n as u64);
        (elapsed, report)
    });
    assert_eq!((report.sent, report.acknowledged), (n, n));
    assert_eq!(
        store.lock().unwrap().state_counts().unwrap().acknowledged,
        n as u64
    );
    elapsed
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; any filter argument is ignored.
    let var = |name: &str, default: usize| -> usize {
        std::env::var(name)
            .ok()
            .map(|s| s.parse().unwrap_or_else(|_| panic!("{name} is a number")))
            .unwrap_or(default)
    };
    let n = var("P3_INTERVIEWS", 10_000);
    let runs = var("P3_RUNS", 3).max(1);
    let q = pilot();
    let setup = setup_dir();
    let dir = tempfile::tempdir().unwrap();
    println!(
        "P3: sync of a {n}-interview backlog; device store built in {}, runs in {}",
        setup.path().display(),
        dir.path().display()
    );

    let t = Instant::now();
    let pristine = setup.path().join("device.sqlite3");
    {
        let mut device = open_device(&pristine);
        complete_interviews(&mut device, &q, n);
        assert_eq!(device.state_counts().unwrap().waiting, n as u64);
    }
    println!(
        "setup (not measured): {n} interviews completed through DeviceStore in {:.1} s",
        secs(t.elapsed())
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut syncs = Vec::new();
    let mut directs = Vec::new();
    let mut checked = Vec::new();
    let mut bookkeeping = Vec::new();
    for run in 0..runs {
        let run_dir = dir.path().join(format!("run{run}"));
        std::fs::create_dir(&run_dir).unwrap();
        let device_path = run_dir.join("device.sqlite3");
        copy_db(&pristine, &device_path);
        let bookkeeping_path = run_dir.join("bookkeeping.sqlite3");
        copy_db(&pristine, &bookkeeping_path);
        bookkeeping.push(device_bookkeeping(&bookkeeping_path, n));
        // Baselines first: they only read the device's queue.
        let [read, score, ingest] = {
            let device = open_device(&device_path);
            let parts = direct(&device, &q, n, &run_dir.join("direct.sqlite3"));
            checked.push(direct_with_checks(
                &device,
                n,
                &run_dir.join("checked.sqlite3"),
            ));
            parts
        };
        let direct_total = read + score + ingest;
        directs.push(direct_total);
        let sync_time = sync_run(&runtime, &device_path, &run_dir, n);
        syncs.push(sync_time);
        println!(
            "run {}: sync_once {:.3} s ({:.0} interviews/s); direct {:.3} s = read {:.3} + score {:.3} + SqliteStorage::ingest {:.3}; direct with server checks {:.3} s; device bookkeeping alone {:.3} s",
            run + 1,
            secs(sync_time),
            n as f64 / secs(sync_time),
            secs(direct_total),
            secs(read),
            secs(score),
            secs(ingest),
            secs(checked[run]),
            secs(bookkeeping[run]),
        );
        std::fs::remove_dir_all(&run_dir).unwrap();
    }
    let sync_time = median(syncs);
    let direct_time = median(directs);
    let checked_time = median(checked);
    let bookkeeping_time = median(bookkeeping);
    println!("median of {runs} runs:");
    println!(
        "  sync_once over loopback HTTP: {:.3} s for {n} interviews in {} batches = {:.0} interviews/s",
        secs(sync_time),
        n.div_ceil(BATCH),
        n as f64 / secs(sync_time)
    );
    println!(
        "  direct (read + SqliteStorage::ingest, batches of {BATCH}): {:.3} s = {:.0} interviews/s",
        secs(direct_time),
        n as f64 / secs(direct_time)
    );
    println!(
        "  direct with the server's checks and re-scoring (api::ingest): {:.3} s",
        secs(checked_time)
    );
    println!(
        "  device bookkeeping alone (begin_upload + finish_upload per batch, no network): {:.3} s",
        secs(bookkeeping_time)
    );
    println!(
        "  ratio sync / direct: {:.2}",
        secs(sync_time) / secs(direct_time)
    );
    println!(
        "  ratio sync / direct with checks: {:.2}",
        secs(sync_time) / secs(checked_time)
    );
    println!(
        "  goal (< 5 s): {}",
        if sync_time < Duration::from_secs(5) {
            "met"
        } else {
            "NOT met"
        }
    );
}

/// The device store as on a tablet: encrypted (SQLCipher) under a fixed bench key; with
/// `ZHISU_BENCH_PLAIN_DEVICE=1` a plain file, to read off what encryption costs.
fn open_device(path: &Path) -> DeviceStore {
    if std::env::var_os("ZHISU_BENCH_PLAIN_DEVICE").is_some_and(|v| v == "1") {
        DeviceStore::open_plain(path).unwrap()
    } else {
        DeviceStore::open(path, &zhisu_store::DatabaseKey::from_bytes([0x42; 32])).unwrap()
    }
}
