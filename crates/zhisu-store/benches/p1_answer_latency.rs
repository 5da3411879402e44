//! P1: the latency of saving one answer on the device, against a bare rusqlite insert + commit
//! into the same file in the same run. Goal: median within 1.3x of the bare figure.
//!
//! cargo bench -p zhisu-store --bench p1_answer_latency [-- SAMPLES]
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use rusqlite::Connection;
use uuid::Uuid;
use zhisu_core::{AnswerValue, Questionnaire};
use zhisu_store::{DeviceStore, NewInterview};

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
fn store_saves(path: &Path, q: &Questionnaire, samples: usize) -> Vec<Duration> {
    let mut store = DeviceStore::open(path).unwrap();
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
fn bare_inserts(path: &Path, samples: usize) -> Vec<Duration> {
    let conn = Connection::open(path).unwrap();
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
    let path = dir.path().join("p1.sqlite3");
    // warm up both paths (file creation, page cache), then interleave two rounds of each
    store_saves(&path, &q, 100);
    bare_inserts(&path, 100);
    let mut store = Vec::new();
    let mut bare = Vec::new();
    for _ in 0..2 {
        store.extend(store_saves(&path, &q, samples / 2));
        bare.extend(bare_inserts(&path, samples / 2));
    }
    println!("P1: saving one answer (synchronous = FULL, WAL), {samples} samples each");
    let (store_median, store_p99) = summary("DeviceStore::save_answer", store);
    let (bare_median, bare_p99) = summary("bare rusqlite insert + commit", bare);
    println!(
        "ratio store / bare: median {:.2}x, p99 {:.2}x   (goal: median within 1.3x)",
        store_median.as_secs_f64() / bare_median.as_secs_f64(),
        store_p99.as_secs_f64() / bare_p99.as_secs_f64()
    );
}
