//! P1: the latency of saving one answer on the device, against a bare rusqlite insert + commit
//! in the same run. Goal: median within 1.3x of the bare figure.
//!
//! The device store is encrypted (SQLCipher); the run also measures the same store on a plain
//! file (`DeviceStore::open_plain`) and bare inserts into a plain and into a keyed file, so the
//! cost of encryption is read off figures taken side by side.
//!
//! cargo bench -p zhisu-store --bench p1_answer_latency [-- SAMPLES]
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use rusqlite::Connection;
use uuid::Uuid;
use zhisu_core::{AnswerValue, Questionnaire};
use zhisu_store::{DatabaseKey, DeviceStore, NewInterview};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn summary(name: &str, mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let (median, p99) = (percentile(&samples, 0.5), percentile(&samples, 0.99));
    println!(
        "{name:<34} median {:>8.1} µs   p99 {:>8.1} µs   ({} samples)",
        median.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        samples.len()
    );
    (median, p99)
}

/// The store's path: validate against the questionnaire, read the old value, upsert the answer,
/// append the change event, commit (synchronous = FULL).
fn store_saves(
    path: &Path,
    key: Option<&DatabaseKey>,
    q: &Questionnaire,
    samples: usize,
) -> Vec<Duration> {
    let mut store = match key {
        Some(key) => DeviceStore::open(path, key).unwrap(),
        None => DeviceStore::open_plain(path).unwrap(),
    };
    let mut times = Vec::with_capacity(samples);
    let mut interview = None;
    for n in 0..samples {
        // a fresh interview every 40 answers, as in the field
        if n % 40 == 0 {
            let id = Uuid::new_v4();
            store
                .start_interview(q, &NewInterview::new(id, Utc::now(), 480))
                .unwrap();
            interview = Some(id);
        }
        let id = interview.unwrap();
        let value = AnswerValue::Integer(16 + (n % 44) as i64);
        let start = Instant::now();
        store.save_answer(q, id, "age", &value, Utc::now()).unwrap();
        times.push(start.elapsed());
    }
    times
}

/// The floor: one row inserted and committed with the same pragmas, nothing else.
fn bare_inserts(path: &Path, key: Option<&DatabaseKey>, samples: usize) -> Vec<Duration> {
    let conn = Connection::open(path).unwrap();
    if let Some(key) = key {
        conn.pragma_update(None, "key", format!("x'{}'", key.to_hex()))
            .unwrap();
    }
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS bare (id INTEGER PRIMARY KEY, item TEXT, value TEXT, at TEXT)",
    )
    .unwrap();
    let mut times = Vec::with_capacity(samples);
    for n in 0..samples {
        let start = Instant::now();
        conn.execute(
            "INSERT INTO bare (item, value, at) VALUES ('age', ?1, ?2)",
            rusqlite::params![
                format!("{{\"type\":\"integer\",\"value\":{}}}", n % 44),
                Utc::now().to_rfc3339()
            ],
        )
        .unwrap();
        times.push(start.elapsed());
    }
    times
}

fn main() {
    let samples: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires/pilot.toml");
    let q =
        Questionnaire::from_toml("pilot.toml", &std::fs::read_to_string(root).unwrap()).unwrap();
    // Same file system as the data would live on: a temporary folder under target/.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let key = DatabaseKey::generate().unwrap();
    let encrypted = dir.path().join("p1.sqlite3");
    let plain = dir.path().join("p1-plain.sqlite3");
    let bare_keyed = dir.path().join("bare-keyed.sqlite3");
    // warm up every path (file creation, page cache), then interleave two rounds of each
    store_saves(&encrypted, Some(&key), &q, 100);
    store_saves(&plain, None, &q, 100);
    bare_inserts(&plain, None, 100);
    bare_inserts(&bare_keyed, Some(&key), 100);
    let (mut store, mut store_plain, mut bare, mut bare_key) = (vec![], vec![], vec![], vec![]);
    for _ in 0..2 {
        store.extend(store_saves(&encrypted, Some(&key), &q, samples / 2));
        store_plain.extend(store_saves(&plain, None, &q, samples / 2));
        bare.extend(bare_inserts(&plain, None, samples / 2));
        bare_key.extend(bare_inserts(&bare_keyed, Some(&key), samples / 2));
    }
    println!("P1: saving one answer (synchronous = FULL, WAL), {samples} samples each");
    let (store_median, store_p99) = summary("DeviceStore::save_answer (encrypted)", store);
    let (plain_median, plain_p99) = summary("DeviceStore::save_answer (plain file)", store_plain);
    let (bare_median, bare_p99) = summary("bare rusqlite insert + commit", bare);
    let (keyed_median, keyed_p99) = summary("bare insert + commit (keyed file)", bare_key);
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "ratio store / bare: median {:.2}x, p99 {:.2}x   (goal: median within 1.3x)",
        ratio(store_median, bare_median),
        ratio(store_p99, bare_p99)
    );
    println!(
        "cost of encryption: store encrypted / plain median {:.2}x, p99 {:.2}x; \
         bare keyed / plain median {:.2}x, p99 {:.2}x",
        ratio(store_median, plain_median),
        ratio(store_p99, plain_p99),
        ratio(keyed_median, bare_median),
        ratio(keyed_p99, bare_p99)
    );
}
