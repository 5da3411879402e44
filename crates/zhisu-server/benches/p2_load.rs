//! P2: the server under load from many devices at once.
//!
//! 50 simulated devices, each enrolled with its own one-time code, upload 60-item
//! interviews concurrently over loopback (`POST /api/v1/interviews/batch`, batches of 20) to the
//! real `zhisu-server` binary, first on embedded SQLite, then on PostgreSQL. Reported: interviews
//! per second (wall clock from the first request to the last receipt), p50/p99 request latency
//! (send to the last byte of the receipts) and the server process's peak memory. Every receipt
//! must say `stored`, and the database must hold every interview afterwards.
//!
//! Baselines in the same run, on the same interviews, each into a fresh database in the same
//! folder with the same settings: storing the rows with their scores directly through
//! `Storage::ingest` (no HTTP, no checks; same batch size), and the server's whole ingest path
//! without HTTP (`api::ingest`: hash check, answer checks, re-scoring, storing). On SQLite each
//! runs with one caller (the backend has one connection behind a mutex); on PostgreSQL the direct
//! store runs with one caller and with 16 (the server's pool size), `api::ingest` with 16, since
//! PostgreSQL takes concurrent writers; its "direct rate" is the faster of the two. Goals: at
//! least 5,000 interviews/s over HTTP, and at least 40 % of the direct rate. A line of CPU costs
//! per interview (each step of the ingest path alone, one thread) helps read the phases.
//!
//! The server runs as a separate process (the `zhisu-server serve` binary that cargo builds for
//! benches, `CARGO_BIN_EXE_zhisu-server`), exactly as deployed: its own runtime, the product's
//! per-device rate limit (50 requests/s, bursts of 100; the bench counts `429`s and reports them,
//! so a binding limit would show), and a peak-memory figure that is the server's alone:
//! `VmHWM` (peak resident set over the process's life: start, enrolment and the run) from
//! `/proc/<pid>/status`; PostgreSQL's own processes are reported apart (their PSS at the end of
//! the run). An in-process server would have mixed its memory with the prepared payloads and the
//! clients'. The simulated devices run in this process on a tokio runtime, each with its own HTTP
//! client, and share the machine's cores with the server; the CPU time of the server, of this
//! process and of PostgreSQL during the run is printed. The request bodies are serialised before
//! the clock starts (a tablet's work, not the server's). Latency is per request in a closed
//! loop (each device sends its next batch when the receipts arrive), so it is about
//! devices × batch / rate.
//!
//! PostgreSQL is started by the bench from the system binaries with its durable defaults
//! (`fsync` and `synchronous_commit` on; `TestPostgres::start_durable`), data in a temp folder on
//! disk. SQLite runs with the server's own settings (WAL, `synchronous = FULL`), also on disk.
//!
//! `cargo bench -p zhisu-server --bench p2_load` (release profile). Environment: `P2_DEVICES`
//! (50), `P2_PER_DEVICE` (interviews per device, 400), `P2_BATCH` (20), `P2_BACKENDS`
//! (`sqlite,postgres`).
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use chrono::{TimeZone, Utc};
use uuid::Uuid;
use zhisu_core::{AnswerValue, Answers, Questionnaire};
use zhisu_protocol::{
    CompletedInterview, ReceiptStatus, UploadRequest, UploadResponse, PROTOCOL_HEADER, UPLOAD_PATH,
};
use zhisu_server_postgres::PostgresStorage;
use zhisu_server_service::{Device, ServerState, Storage};
use zhisu_server_sqlite::SqliteStorage;
use zhisu_server_storage::Accepted;

#[allow(unused_imports)]
use zhisu_server_storage::{AnalyticsStore, InterviewStore};
use zhisu_server_tests::postgres as postgres_harness;

const QUESTIONNAIRE_ID: &str = "p2_load";
const QUESTIONNAIRE_VERSION: &str = "bench.1";
/// The server's PostgreSQL pool size (`ServerState::open_postgres`).
const PG_WRITERS: usize = 16;

// ------------------------------------------------------------------ a seeded PRNG

use zhisu_server_tests::Rng;
use zhisu_testkit::toml::{dimensions, eligibility, head, table, text_field};

// ------------------------------------------------------------------ the 60-item questionnaire

const DIMENSIONS: [(&str, &str, &str); 4] = [
    ("law", "法律知识", "Law: rights and duties"),
    ("knowledge", "防护知识", "Protection knowledge"),
    ("skills", "防护技能", "Protection skills"),
    ("behaviour", "健康工作方式和行为", "Healthy work style"),
];
const ABCD: [&str; 4] = ["a", "b", "c", "d"];
const POPULATIONS: [&str; 4] = ["teacher", "medical", "industrial", "construction"];
/// Scored items: 56, plus consent, age, population and years in the job = 60 items.
const SCORED_ITEMS: usize = 56;

#[derive(Clone, Copy)]
enum Key {
    /// single choice: index into `ABCD`
    Single(usize),
    TrueFalse(bool),
    /// multiple choice: a non-empty subset of `ABCD` as bits
    Multiple(u8),
    /// a whole number in 0..=24
    Integer(i64),
}

struct ScoredItem {
    id: String,
    key: Key,
}

/// The scored items: kinds in turn (single choice, true/false, multiple choice, integer), four
/// dimensions, keys varied.
fn scored_items() -> Vec<ScoredItem> {
    (0..SCORED_ITEMS)
        .map(|i| ScoredItem {
            id: format!("q{:02}", i + 1),
            key: match i % 4 {
                0 => Key::Single((i / 4) % 4),
                1 => Key::TrueFalse(i % 3 != 0),
                2 => Key::Multiple(1 + ((i * 5) % 15) as u8),
                _ => Key::Integer(2 + (i % 10) as i64),
            },
        })
        .collect()
}

fn dimension_of(index: usize) -> &'static str {
    // shifted so that every dimension gets every kind
    DIMENSIONS[(index + index / 4) % 4].0
}

fn item_header(out: &mut String, id: &str, kind: &str, zh: &str, en: &str) {
    table(out, "items", &[("id", id), ("kind", kind)]);
    out.push_str("required = true\n");
    text_field(out, "label", zh, en);
}

/// A questionnaire of 60 items in the shape of the real one (consent and eligibility, age,
/// population, a constrained integer, then 56 scored items over four dimensions with their
/// explanations), written as a questionnaire file.
fn questionnaire_toml(items: &[ScoredItem]) -> String {
    let mut out = String::new();
    head(
        &mut out,
        "Generated by crates/zhisu-server/benches/p2_load.rs: 60 items.",
        QUESTIONNAIRE_ID,
        QUESTIONNAIRE_VERSION,
        (
            "职业健康素养调查（负载测试）",
            "Occupational health literacy survey (load test)",
        ),
    );
    eligibility(
        &mut out,
        "${consent} = true() and ${age} >= 16 and ${age} <= 59",
        (
            "谢谢您！这次调查只请 16 到 59 岁的劳动者参加。",
            "Thank you! This survey is for workers aged 16 to 59.",
        ),
    );
    dimensions(&mut out, &DIMENSIONS);
    for key in ABCD {
        table(&mut out, "choices.abcd", &[("key", key)]);
        text_field(
            &mut out,
            "label",
            &format!("选项 {key}：按规定做好防护"),
            &format!("Option {key}: protect yourself as the rules say"),
        );
    }
    for key in POPULATIONS {
        table(&mut out, "choices.population", &[("key", key)]);
        text_field(&mut out, "label", &format!("人群 {key}"), key);
    }

    item_header(
        &mut out,
        "consent",
        "true_false",
        "您愿意参加这次调查吗？",
        "Do you agree to take part?",
    );
    item_header(
        &mut out,
        "age",
        "integer",
        "您今年多少岁？",
        "How old are you?",
    );
    out.push_str("min = 16\nmax = 59\n");
    item_header(
        &mut out,
        "population",
        "single_choice",
        "您属于哪类人群？",
        "Which group are you in?",
    );
    out.push_str("choices = \"population\"\n");
    item_header(
        &mut out,
        "years_in_job",
        "integer",
        "您干这份工作几年了？",
        "How many years have you done this job?",
    );
    out.push_str("min = 0\nmax = 45\nconstraint = \". <= ${age} - 14\"\n");
    text_field(
        &mut out,
        "constraint_message",
        "工作年数不能比年龄减 14 还多",
        "Years in the job cannot exceed age minus 14",
    );

    for (index, item) in items.iter().enumerate() {
        let dimension = dimension_of(index);
        let (kind, points, key) = match item.key {
            Key::Single(k) => ("single_choice", 1, format!("\"{}\"", ABCD[k])),
            Key::TrueFalse(b) => ("true_false", 1, b.to_string()),
            Key::Multiple(bits) => {
                let keys: Vec<String> = (0..4)
                    .filter(|b| bits & (1 << b) != 0)
                    .map(|b| format!("\"{}\"", ABCD[b]))
                    .collect();
                ("multiple_choice", 2, format!("[{}]", keys.join(", ")))
            }
            Key::Integer(n) => ("integer", 1, n.to_string()),
        };
        item_header(
            &mut out,
            &item.id,
            kind,
            &format!("第 {} 题：在工作中，下面哪种做法是对的？", index + 1),
            &format!("Question {}: which of these is right at work?", index + 1),
        );
        match item.key {
            Key::Single(_) => out.push_str("choices = \"abcd\"\ndont_know = true\n"),
            Key::TrueFalse(_) => out.push_str("dont_know = true\n"),
            Key::Multiple(_) => out.push_str("choices = \"abcd\"\n"),
            Key::Integer(_) => out.push_str("min = 0\nmax = 24\n"),
        }
        writeln!(
            out,
            "score = {{ dimension = \"{dimension}\", points = {points}, key = {key} }}"
        )
        .unwrap();
        text_field(
            &mut out,
            "explanation",
            "这是正确的做法：法律和防护知识都这样要求。",
            "This is right: the law and good protection practice both say so.",
        );
    }
    out
}

// ------------------------------------------------------------------ interviews

/// Answers to all 60 items: the scoring key 78 % of the time, "don't know" 4 % where offered,
/// else a random valid answer.
fn answers(rng: &mut Rng, items: &[ScoredItem]) -> Answers {
    let mut answers = Answers::new();
    let age = rng.between(16, 59);
    answers.insert("consent".into(), AnswerValue::Bool(true));
    answers.insert("age".into(), AnswerValue::Integer(age));
    answers.insert(
        "population".into(),
        AnswerValue::Choice(POPULATIONS[rng.below(4) as usize].into()),
    );
    answers.insert(
        "years_in_job".into(),
        AnswerValue::Integer(rng.between(0, (age - 14).min(45))),
    );
    for item in items {
        let dont_know_offered = matches!(item.key, Key::Single(_) | Key::TrueFalse(_));
        let value = if rng.chance(78) {
            match item.key {
                Key::Single(k) => AnswerValue::Choice(ABCD[k].into()),
                Key::TrueFalse(b) => AnswerValue::Bool(b),
                Key::Multiple(bits) => choices(bits),
                Key::Integer(n) => AnswerValue::Integer(n),
            }
        } else if dont_know_offered && rng.chance(18) {
            AnswerValue::DontKnow
        } else {
            match item.key {
                Key::Single(_) => AnswerValue::Choice(ABCD[rng.below(4) as usize].into()),
                Key::TrueFalse(_) => AnswerValue::Bool(rng.chance(50)),
                Key::Multiple(_) => choices(1 + rng.below(15) as u8),
                Key::Integer(_) => AnswerValue::Integer(rng.between(0, 24)),
            }
        };
        answers.insert(item.id.clone(), value);
    }
    answers
}

fn choices(bits: u8) -> AnswerValue {
    AnswerValue::Choices(
        (0..4)
            .filter(|b| bits & (1 << b) != 0)
            .map(|b| ABCD[b].to_string())
            .collect(),
    )
}

/// `per_device` interviews for each device, with random (v4) ids as tablets make them.
fn interviews(
    devices: usize,
    per_device: usize,
    items: &[ScoredItem],
) -> Vec<Vec<CompletedInterview>> {
    let mut rng = Rng::new(0x5eed_0002);
    let t0 = Utc.with_ymd_and_hms(2026, 11, 29, 1, 0, 0).unwrap();
    (0..devices)
        .map(|device| {
            (0..per_device)
                .map(|i| {
                    let started =
                        t0 + chrono::Duration::seconds((device * 100_000 + i * 900) as i64);
                    CompletedInterview {
                        id: Uuid::new_v4(),
                        questionnaire_id: QUESTIONNAIRE_ID.into(),
                        questionnaire_version: QUESTIONNAIRE_VERSION.into(),
                        started_at: started,
                        completed_at: started
                            + chrono::Duration::milliseconds(rng.between(300_000, 900_000)),
                        utc_offset_minutes: 480,
                        answers: answers(&mut rng, items),
                        site_id: Some(format!("yz-{:03}", device % 40)),
                        surveyor_id: Some(format!("surveyor-{:02}", device)),
                        paradata: None,
                        practice: false,
                        content_hash: String::new(),
                    }
                    .sealed()
                })
                .collect()
        })
        .collect()
}

// ------------------------------------------------------------------ measurements

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    // nearest rank
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `VmHWM` and `VmRSS` of a process, in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// User + system CPU time of a process so far, in seconds (0 when it is gone).
fn cpu_seconds(pid: u32, ticks: f64) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // fields after the command name, which is in parentheses and may hold spaces
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields[11].parse().unwrap();
    let stime: f64 = fields[12].parse().unwrap();
    (utime + stime) / ticks
}

fn parent_of(pid: u32) -> Option<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .and_then(|p| p.trim().parse().ok())
}

/// The PostgreSQL server's processes: the postmaster (found as the parent of a backend) and
/// its children.
fn postgres_processes(url: &str) -> Vec<u32> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let backend: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let postmaster = parent_of(backend as u32).unwrap();
    drop(client);
    let mut pids = vec![postmaster];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) {
            if parent_of(pid) == Some(postmaster) {
                pids.push(pid);
            }
        }
    }
    pids
}

/// Proportional set size (shared pages split between the processes sharing them), in KiB.
fn pss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// One measured phase.
struct Phase {
    backend: &'static str,
    path: String,
    interviews: usize,
    elapsed: Duration,
    /// per request (HTTP) or per batch (direct), sorted
    latencies: Vec<Duration>,
    /// for HTTP: the server's peak and idle resident memory, KiB
    memory: Option<(u64, u64)>,
    note: String,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.interviews as f64 / self.elapsed.as_secs_f64()
    }

    fn print(&self) {
        println!(
            "  {:<10} {:<58} {:>7} in {:>6.2} s = {:>7} interviews/s; latency p50 {:>7.1} ms, p99 {:>7.1} ms{}",
            self.backend,
            self.path,
            self.interviews,
            self.elapsed.as_secs_f64(),
            thousands(self.rate()),
            ms(percentile(&self.latencies, 50.0)),
            ms(percentile(&self.latencies, 99.0)),
            self.note
        );
    }
}

// ------------------------------------------------------------------ direct baselines

/// Runs `ingest_batch(i)` for every batch index with `callers` threads, each taking the next
/// batch in turn; returns the wall-clock time and the sorted per-batch latencies.
fn run_batches(
    callers: usize,
    batches: usize,
    ingest_batch: impl Fn(usize) + Sync,
) -> (Duration, Vec<Duration>) {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let mut latencies: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..callers)
            .map(|_| {
                scope.spawn(|| {
                    let mut latencies = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= batches {
                            break latencies;
                        }
                        let t = Instant::now();
                        ingest_batch(i);
                        latencies.push(t.elapsed());
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let elapsed = started.elapsed();
    latencies.sort();
    (elapsed, latencies)
}

fn callers_text(n: usize) -> String {
    format!("{n} caller{}", if n == 1 { "" } else { "s" })
}

/// Stores the prepared rows (interview + score) through `Storage::ingest`, batch by batch.
fn direct_storage(
    backend: &'static str,
    storage: &dyn Storage,
    batches: &[Vec<Accepted>],
    device: &Device,
    callers: usize,
) -> Phase {
    let (elapsed, latencies) = run_batches(callers, batches.len(), |i| {
        let receipts = storage
            .ingest(&batches[i], Some(device), Utc::now())
            .unwrap();
        assert!(receipts.iter().all(|r| r.status == ReceiptStatus::Stored));
    });
    let n: usize = batches.iter().map(Vec::len).sum();
    assert_eq!(storage.interview_count().unwrap(), n as u64);
    Phase {
        backend,
        path: format!(
            "direct Storage::ingest, batches of {}, {}",
            batches[0].len(),
            callers_text(callers)
        ),
        interviews: n,
        elapsed,
        latencies,
        memory: None,
        note: String::new(),
    }
}

/// The server's whole ingest path without HTTP (`api::ingest`: hash check, answer checks,
/// re-scoring, storing), batch by batch.
fn direct_api(
    backend: &'static str,
    state: &ServerState,
    batches: &[Vec<Accepted>],
    device: &Device,
    callers: usize,
) -> Phase {
    // api::ingest takes the interviews by value: copies made before the clock starts
    let owned: Vec<Mutex<Option<Vec<CompletedInterview>>>> = batches
        .iter()
        .map(|b| Mutex::new(Some(b.iter().map(|a| a.interview.clone()).collect())))
        .collect();
    let (elapsed, latencies) = run_batches(callers, batches.len(), |i| {
        let batch = owned[i].lock().unwrap().take().unwrap();
        let receipts = zhisu_server_service::ingest::ingest(state, batch, Some(device)).unwrap();
        assert!(receipts.iter().all(|r| r.status == ReceiptStatus::Stored));
    });
    let n: usize = batches.iter().map(Vec::len).sum();
    assert_eq!(state.storage.interview_count().unwrap(), n as u64);
    Phase {
        backend,
        path: format!(
            "direct api::ingest (checks, re-score, store), batches of {}, {}",
            batches[0].len(),
            callers_text(callers)
        ),
        interviews: n,
        elapsed,
        latencies,
        memory: None,
        note: String::new(),
    }
}

fn bench_device() -> Device {
    Device {
        id: Uuid::new_v4(),
        name: "direct".into(),
        round: "2026".into(),
        district: "bench".into(),
        enrolled_at: Utc::now(),
        revoked_at: None,
        last_seen_at: None,
        pending: None,
    }
}

/// Where a server's CPU time per interview goes: each step of the ingest path alone, one
/// thread, over the first batches (up to 5,000 interviews). Not a phase: for reading the others.
fn cpu_profile(work: &Workload, questionnaire: &Questionnaire) {
    let batches: Vec<&Vec<Accepted>> = work
        .rows
        .iter()
        .scan(0, |n, b| {
            *n += b.len();
            (*n <= 5_000.max(b.len())).then_some(b)
        })
        .collect();
    let rows: Vec<&Accepted> = batches.iter().flat_map(|b| b.iter()).collect();
    let n = rows.len() as f64;
    let per_interview = |f: &dyn Fn()| {
        let t = Instant::now();
        f();
        t.elapsed().as_secs_f64() * 1e6 / n
    };
    let bodies: Vec<Bytes> = batches
        .iter()
        .map(|b| {
            let interviews: Vec<CompletedInterview> =
                b.iter().map(|a| a.interview.clone()).collect();
            Bytes::from(
                serde_json::to_vec(&UploadRequest {
                    interviews,
                    contacts: Vec::new(),
                    sealed: vec![],
                })
                .unwrap(),
            )
        })
        .collect();
    let parse = per_interview(&|| {
        for body in &bodies {
            std::hint::black_box(serde_json::from_slice::<UploadRequest>(body).unwrap());
        }
    });
    let hash = per_interview(&|| {
        for a in &rows {
            assert!(std::hint::black_box(a.interview.hash_is_valid()));
        }
    });
    let check = per_interview(&|| {
        for a in &rows {
            assert!(questionnaire
                .check_interview(&a.interview.answers)
                .is_empty());
        }
    });
    let score = per_interview(&|| {
        for a in &rows {
            std::hint::black_box(questionnaire.score(&a.interview.answers));
        }
    });
    let facts = per_interview(&|| {
        for a in &rows {
            std::hint::black_box(zhisu_server_storage::facts::Facts::of(
                questionnaire,
                &a.interview,
                &a.score,
                &zhisu_core::QcThresholds::default(),
            ));
        }
    });
    let payload = per_interview(&|| {
        for a in &rows {
            std::hint::black_box(serde_json::to_string(&a.interview).unwrap());
        }
    });
    let report = per_interview(&|| {
        for a in &rows {
            std::hint::black_box(zhisu_server_storage::facts::stored_score_report(&a.score));
        }
    });
    let values = per_interview(&|| {
        for a in &rows {
            std::hint::black_box(serde_json::to_value(&a.interview).unwrap());
            std::hint::black_box(serde_json::to_value(&a.score).unwrap());
        }
    });
    let report_bytes: usize = rows
        .iter()
        .map(|a| zhisu_server_storage::facts::stored_score_report(&a.score).len())
        .sum();
    let payload_bytes: usize = rows
        .iter()
        .map(|a| serde_json::to_string(&a.interview).unwrap().len())
        .sum();
    println!(
        "CPU per interview, one thread, over {} interviews (not a phase): parse request JSON {parse:.1} µs, \
         hash check {hash:.1} µs, answer checks {check:.1} µs, score {score:.1} µs, analysis facts and \
         quality flags {facts:.1} µs; stored columns: \
         payload JSON {payload:.1} µs ({:.0} bytes), score report JSON {report:.1} µs ({:.0} bytes); \
         both as serde_json::Value (PostgreSQL's JSONB parameters) {values:.1} µs",
        rows.len(),
        payload_bytes as f64 / n,
        report_bytes as f64 / n,
    );
}

// ------------------------------------------------------------------ the server process

struct ServerProcess {
    child: Child,
    base: String,
    log: PathBuf,
}

impl ServerProcess {
    fn start(data_dir: &Path, questionnaires: &Path, database_url: Option<&str>) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = data_dir.join("server.log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_zhisu-server"));
        command
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--questionnaires")
            .arg(questionnaires)
            .env_remove("ZHISU_DATABASE_URL")
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

    async fn wait_ready(&mut self) {
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

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct DeviceOutcome {
    latencies: Vec<Duration>,
    rate_limited: usize,
    stored: usize,
}

/// One simulated device: its own HTTP client (connection), its batches one after the other.
async fn run_device(base: String, token: String, bodies: Vec<Bytes>) -> DeviceOutcome {
    let client = reqwest::Client::new();
    let url = format!("{base}{UPLOAD_PATH}");
    let mut outcome = DeviceOutcome {
        latencies: Vec::with_capacity(bodies.len()),
        rate_limited: 0,
        stored: 0,
    };
    for body in bodies {
        loop {
            let t = Instant::now();
            let response = client
                .post(&url)
                .header(PROTOCOL_HEADER, "1")
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .bearer_auth(&token)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = response.status();
            let bytes = response.bytes().await.unwrap();
            let latency = t.elapsed();
            if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                // what the tablet does: back off and send the same batch again
                outcome.rate_limited += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            assert!(
                status.is_success(),
                "upload: {status}: {}",
                String::from_utf8_lossy(&bytes)
            );
            outcome.latencies.push(latency);
            let receipts: UploadResponse = serde_json::from_slice(&bytes).unwrap();
            outcome.stored += receipts
                .receipts
                .iter()
                .filter(|r| r.status == ReceiptStatus::Stored)
                .count();
            break;
        }
    }
    outcome
}

/// Prepared input shared by both backends.
struct Workload {
    questionnaires: PathBuf,
    /// per device, the request bodies (JSON) of its batches
    bodies: Vec<Vec<Bytes>>,
    /// the same interviews with their scores, in batches
    rows: Vec<Vec<Accepted>>,
    total: usize,
    batch: usize,
}

/// The HTTP run: start the server on a fresh database, enrol the devices over HTTP, then every
/// device uploads its batches at once; measure until the last receipt.
fn http_run(
    runtime: &tokio::runtime::Runtime,
    backend: &'static str,
    work: &Workload,
    data_dir: &Path,
    database_url: Option<&str>,
    ticks: f64,
) -> Phase {
    std::fs::create_dir_all(data_dir).unwrap();
    let devices = work.bodies.len();
    // codes are made like `zhisu-server enrolment-code` does, before the server starts
    // enrolled before the server starts, as `zhisu-server enrolment-code` and a tablet would:
    // over HTTP, the enrolment guard lets one address try 10 codes, then one every 6 s
    let tokens: Vec<String> = {
        let state = match database_url {
            Some(url) => zhisu_server::open_postgres(url, &work.questionnaires).unwrap(),
            None => zhisu_server::open_sqlite(
                &data_dir.join("zhisu-server.sqlite3"),
                &work.questionnaires,
            )
            .unwrap(),
        };
        (0..devices)
            .map(|i| {
                let code = state
                    .create_enrolment_code("2026", "yuzhong", chrono::Duration::days(1), "bench")
                    .unwrap();
                state
                    .enrol(&code, &format!("渝中区 {} 号平板", i + 1))
                    .unwrap()
                    .unwrap()
                    .token
            })
            .collect()
    };
    let mut server = ServerProcess::start(data_dir, &work.questionnaires, database_url);
    runtime.block_on(server.wait_ready());
    let idle_rss = memory_kib(server.pid()).1;
    // the server's pool connects at start, so its backends are among these
    let pg_pids = database_url.map(postgres_processes).unwrap_or_default();
    let pg_cpu_before: f64 = pg_pids.iter().map(|&p| cpu_seconds(p, ticks)).sum();
    let server_cpu_before = cpu_seconds(server.pid(), ticks);
    let client_cpu_before = cpu_seconds(std::process::id(), ticks);
    let (outcomes, elapsed) = runtime.block_on(async {
        let started = Instant::now();
        let tasks: Vec<_> = tokens
            .into_iter()
            .zip(work.bodies.iter().cloned())
            .map(|(token, bodies)| tokio::spawn(run_device(server.base.clone(), token, bodies)))
            .collect();
        let mut outcomes = Vec::with_capacity(devices);
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        (outcomes, started.elapsed())
    });
    let server_cpu = cpu_seconds(server.pid(), ticks) - server_cpu_before;
    let client_cpu = cpu_seconds(std::process::id(), ticks) - client_cpu_before;
    let pg_cpu = pg_pids.iter().map(|&p| cpu_seconds(p, ticks)).sum::<f64>() - pg_cpu_before;
    let (peak, _) = memory_kib(server.pid());
    let pg_pss: u64 = database_url
        .map(postgres_processes)
        .unwrap_or_default()
        .iter()
        .map(|&p| pss_kib(p))
        .sum();
    drop(server);
    let stored: usize = outcomes.iter().map(|o| o.stored).sum();
    let rate_limited: usize = outcomes.iter().map(|o| o.rate_limited).sum();
    assert_eq!(stored, work.total, "every receipt says stored");
    let count = match database_url {
        Some(url) => PostgresStorage::open(url, 1)
            .unwrap()
            .interview_count()
            .unwrap(),
        None => SqliteStorage::open(&data_dir.join("zhisu-server.sqlite3"))
            .unwrap()
            .interview_count()
            .unwrap(),
    };
    assert_eq!(
        count, work.total as u64,
        "the database holds every interview"
    );
    let mut latencies: Vec<Duration> = outcomes.into_iter().flat_map(|o| o.latencies).collect();
    latencies.sort();
    let mut note = format!(
        "\n{:14}server VmHWM {:.1} MiB (idle after enrolment {:.1} MiB); CPU: server {:.1} s, devices (bench process) {:.1} s",
        "",
        peak as f64 / 1024.0,
        idle_rss as f64 / 1024.0,
        server_cpu,
        client_cpu
    );
    if database_url.is_some() {
        write!(
            note,
            ", PostgreSQL {:.1} s; PostgreSQL processes' PSS at the end {:.1} MiB",
            pg_cpu,
            pg_pss as f64 / 1024.0
        )
        .unwrap();
    }
    write!(note, "; 429 rate_limited responses: {rate_limited}").unwrap();
    Phase {
        backend,
        path: format!(
            "HTTP, {devices} devices, batches of {} (zhisu-server process)",
            work.batch
        ),
        interviews: work.total,
        elapsed,
        latencies,
        memory: Some((peak, idle_rss)),
        note,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; any filter argument is ignored.
    let var = |name: &str, default: usize| -> usize {
        std::env::var(name)
            .ok()
            .map(|s| s.parse().unwrap_or_else(|_| panic!("{name} is a number")))
            .unwrap_or(default)
    };
    let devices = var("P2_DEVICES", 50).max(1);
    let per_device = var("P2_PER_DEVICE", 400).max(1);
    let batch = var("P2_BATCH", 20).clamp(1, zhisu_protocol::MAX_BATCH_INTERVIEWS);
    let backends = std::env::var("P2_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let total = devices * per_device;
    let ticks = clock_ticks();

    let dir = tempfile::Builder::new()
        .prefix("zhisu-p2-")
        .tempdir_in(std::env::temp_dir())
        .unwrap();
    println!(
        "P2: {devices} devices × {per_device} interviews of 60 items = {total}, batches of {batch}; work folder {}",
        dir.path().display()
    );

    // the questionnaire, checked as the server will load it
    let items = scored_items();
    let source = questionnaire_toml(&items);
    let questionnaire = Questionnaire::from_toml("p2_load.toml", &source)
        .unwrap_or_else(|d| panic!("the bench questionnaire has problems:\n{}", d.lines()));
    assert_eq!(questionnaire.items.len(), 60);
    let questionnaires = dir.path().join("questionnaires");
    std::fs::create_dir(&questionnaires).unwrap();
    std::fs::write(questionnaires.join("p2_load.toml"), &source).unwrap();

    // the interviews, their scores and the request bodies: a tablet's work, not measured
    let t = Instant::now();
    let per_device_interviews = interviews(devices, per_device, &items);
    let mut rows: Vec<Vec<Accepted>> = Vec::new();
    let mut bodies: Vec<Vec<Bytes>> = Vec::new();
    let mut body_bytes = 0usize;
    for device_interviews in &per_device_interviews {
        let mut device_bodies = Vec::new();
        for chunk in device_interviews.chunks(batch) {
            for interview in chunk {
                assert!(questionnaire.check_interview(&interview.answers).is_empty());
            }
            rows.push(
                chunk
                    .iter()
                    .map(|i| {
                        Accepted::new(&questionnaire, i.clone(), questionnaire.score(&i.answers))
                    })
                    .collect(),
            );
            let body = serde_json::to_vec(&UploadRequest {
                interviews: chunk.to_vec(),
                contacts: Vec::new(),
                sealed: vec![],
            })
            .unwrap();
            body_bytes += body.len();
            device_bodies.push(Bytes::from(body));
        }
        bodies.push(device_bodies);
    }
    drop(per_device_interviews);
    let requests: usize = bodies.iter().map(Vec::len).sum();
    let literate = rows
        .iter()
        .flatten()
        .filter(|a| a.score.has_literacy)
        .count();
    println!(
        "prepared in {:.1} s (not measured): {requests} requests, {:.1} KiB per request body on average ({:.0} bytes per interview), {:.1} % literate",
        t.elapsed().as_secs_f64(),
        body_bytes as f64 / requests as f64 / 1024.0,
        body_bytes as f64 / total as f64,
        100.0 * literate as f64 / total as f64,
    );
    let work = Workload {
        questionnaires,
        bodies,
        rows,
        total,
        batch,
    };
    cpu_profile(&work, &questionnaire);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let device = bench_device();
    let mut summary: Vec<(Phase, Vec<Phase>)> = Vec::new();

    if backends.split(',').any(|b| b.trim() == "sqlite") {
        let base = dir.path().join("sqlite");
        std::fs::create_dir(&base).unwrap();
        let direct = {
            let storage = SqliteStorage::open(&base.join("direct.sqlite3")).unwrap();
            direct_storage("SQLite", &storage, &work.rows, &device, 1)
        };
        direct.print();
        let api = {
            let state =
                zhisu_server::open_sqlite(&base.join("api.sqlite3"), &work.questionnaires).unwrap();
            direct_api("SQLite", &state, &work.rows, &device, 1)
        };
        api.print();
        let http = http_run(&runtime, "SQLite", &work, &base.join("http"), None, ticks);
        http.print();
        summary.push((http, vec![direct, api]));
    }

    if backends.split(',').any(|b| b.trim() == "postgres") {
        let pg = postgres_harness::TestPostgres::start_durable();
        let direct1 = {
            let storage =
                PostgresStorage::open(&pg.fresh_database("p2_direct1"), PG_WRITERS as u32).unwrap();
            direct_storage("PostgreSQL", &storage, &work.rows, &device, 1)
        };
        direct1.print();
        let direct16 = {
            let storage =
                PostgresStorage::open(&pg.fresh_database("p2_direct16"), PG_WRITERS as u32)
                    .unwrap();
            direct_storage("PostgreSQL", &storage, &work.rows, &device, PG_WRITERS)
        };
        direct16.print();
        let api = {
            let state =
                zhisu_server::open_postgres(&pg.fresh_database("p2_api"), &work.questionnaires)
                    .unwrap();
            direct_api("PostgreSQL", &state, &work.rows, &device, PG_WRITERS)
        };
        api.print();
        let url = pg.fresh_database("p2_http");
        let http = http_run(
            &runtime,
            "PostgreSQL",
            &work,
            &dir.path().join("postgres-http"),
            Some(&url),
            ticks,
        );
        http.print();
        summary.push((http, vec![direct1, direct16, api]));
        drop(pg);
    }

    println!("\nsummary ({devices} devices, {total} interviews of 60 items, batches of {batch}):");
    for (http, baselines) in &summary {
        let best = baselines
            .iter()
            .filter(|p| p.path.starts_with("direct Storage::ingest"))
            .map(Phase::rate)
            .fold(0.0, f64::max);
        let api = baselines
            .iter()
            .find(|p| p.path.starts_with("direct api::ingest"))
            .map(Phase::rate)
            .unwrap_or(f64::NAN);
        let (peak, idle) = http.memory.unwrap();
        println!(
            "  {}: HTTP {} interviews/s, p50 {:.1} ms, p99 {:.1} ms per request, server peak RSS {:.1} MiB (idle {:.1}); \
             direct {} interviews/s; HTTP / direct = {:.0} %; HTTP / api::ingest = {:.0} %",
            http.backend,
            thousands(http.rate()),
            ms(percentile(&http.latencies, 50.0)),
            ms(percentile(&http.latencies, 99.0)),
            peak as f64 / 1024.0,
            idle as f64 / 1024.0,
            thousands(best),
            100.0 * http.rate() / best,
            100.0 * http.rate() / api,
        );
        println!(
            "    goal ≥ 5,000 interviews/s: {}; goal ≥ 40 % of direct: {}",
            if http.rate() >= 5000.0 {
                "met"
            } else {
                "NOT met"
            },
            if http.rate() >= 0.4 * best {
                "met"
            } else {
                "NOT met"
            },
        );
    }
    println!(
        "  (ODK Central's published figure: 41 interviews/s.) bench process peak RSS {:.0} MiB (prepared payloads included)",
        memory_kib(std::process::id()).0 as f64 / 1024.0
    );
}
