//! The soak run, short: the real server process (this build) under a steady mixed load of
//! tablets and dashboard users (`zhisu_server_tests::load`) keeps its memory and its open
//! files flat, and answers every request. CI runs one minute at 60 tablets and 3 dashboard
//! users; the long run (30 minutes at a third of R6's load, 167 tablets and 7 users) is
//! `SOAK_SECONDS=1800 SOAK_DEVICES=167 SOAK_USERS=7 cargo test --release -p zhisu-server
//! --test soak -- --nocapture` (BENCHMARKS.md, "R6 and the soak run"). A tablet pauses 1–5 s
//! between requests (R6's stress mix); `SOAK_PAUSE_FROM_MS` and `SOAK_PAUSE_TO_MS` change it
//! (R6's field mix: 10000 and 30000).

use std::sync::Arc;
use std::time::Duration;

use zhisu_server_tests::load::{self, LoadPlan};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn memory_and_open_files_stay_flat_under_a_steady_load() {
    let plan = LoadPlan {
        devices: setting("SOAK_DEVICES", 60) as usize,
        dashboard_users: setting("SOAK_USERS", 3) as usize,
        duration: Duration::from_secs(setting("SOAK_SECONDS", 60)),
        sample_every: Duration::from_secs(5),
        seed: 19,
        device_pause_ms: (
            setting("SOAK_PAUSE_FROM_MS", LoadPlan::STRESS_DEVICE_PAUSE_MS.0),
            setting("SOAK_PAUSE_TO_MS", LoadPlan::STRESS_DEVICE_PAUSE_MS.1),
        ),
        page_pause_ms: LoadPlan::STRESS_PAGE_PAUSE_MS,
    };
    let dir = tempfile::tempdir().unwrap();
    let questionnaires = zhisu_server_tests::questionnaires_dir();
    let (tokens, username, password) = {
        let state =
            zhisu_server::open_sqlite(&dir.path().join("zhisu-server.sqlite3"), &questionnaires)
                .unwrap();
        load::prepare_server(&state, plan.devices)
    };
    let answering = Arc::new(load::Answering::prepare(&questionnaires, 200, plan.seed));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut server = load::ServerProcess::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_zhisu-server")),
        dir.path(),
        &questionnaires,
        None,
    );
    let mut report = runtime.block_on(async {
        server.wait_ready().await;
        let sessions =
            load::sign_in_many(&server.base, username, password, plan.dashboard_users).await;
        load::run(
            &server.base,
            server.pid(),
            tokens,
            sessions,
            answering,
            &plan,
        )
        .await
    });
    let table = report.table();
    let (peak, _) = load::memory_kib(server.pid());
    println!("{table}");
    for s in &report.samples {
        println!(
            "{:>5.0} s  RSS {:>6.1} MiB  open files {}  threads {}",
            s.at.as_secs_f64(),
            s.rss_kib as f64 / 1024.0,
            s.open_files,
            s.threads
        );
    }
    println!(
        "{} requests, {} interviews stored, peak RSS {:.1} MiB",
        report.requests(),
        report.interviews_uploaded,
        peak as f64 / 1024.0
    );
    assert!(report.errors.is_empty(), "errors: {:?}", report.errors);
    assert!(report.interviews_uploaded > 0 && report.requests() > plan.devices);
    let stored =
        zhisu_server::open_sqlite(&dir.path().join("zhisu-server.sqlite3"), &questionnaires)
            .unwrap()
            .storage
            .interview_count()
            .unwrap();
    assert_eq!(
        stored, report.interviews_uploaded,
        "every stored receipt is in the database"
    );

    // flat: after the first half (start-up, caches and the blocking threads filling), the level memory settles at
    // (the median of the last third of the samples) is no more than 16 MiB above where it
    // started, however long the run: a leak raises it for good. A single sample may catch a
    // request in flight (a quality-control page of a growing queue, the allocator's arenas of
    // a dozen threads) and stand higher for a moment: up to 32 MiB, never more. Open files
    // grow by no more than 16.
    let settled: Vec<_> = report
        .samples
        .iter()
        .filter(|s| s.at >= plan.duration / 2)
        .collect();
    assert!(settled.len() >= 3, "{:?}", report.samples);
    let (first, last) = (settled[0], settled[settled.len() - 1]);
    let most_rss = settled.iter().map(|s| s.rss_kib).max().unwrap();
    let most_files = settled.iter().map(|s| s.open_files).max().unwrap();
    let mut end: Vec<u64> = settled[settled.len() - settled.len().div_ceil(3)..]
        .iter()
        .map(|s| s.rss_kib)
        .collect();
    end.sort_unstable();
    let settled_at = end[end.len() / 2];
    assert!(
        settled_at <= first.rss_kib + 16 * 1024,
        "memory settled {} KiB above where it started ({} KiB): {:?}",
        settled_at.saturating_sub(first.rss_kib),
        first.rss_kib,
        report.samples
    );
    assert!(
        most_rss <= first.rss_kib + 32 * 1024,
        "memory peaked at {most_rss} KiB from {} KiB: {:?}",
        first.rss_kib,
        report.samples
    );
    assert!(
        most_files <= first.open_files + 16,
        "open files grew from {} to {most_files}: {:?}",
        first.open_files,
        report.samples
    );
    assert!(last.open_files > 0 && last.rss_kib > 0);
}
