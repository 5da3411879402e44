//! R6: 500 tablets and 20 dashboard users on the real `zhisu-server` process for 60 s, on
//! embedded SQLite and on PostgreSQL (durable settings, started by the bench).
//!
//! Each tablet waits 1–5 s between requests and then polls its assignment (50 %), lists and
//! downloads the questionnaire (25 %) or uploads 1–100 new interviews of the bundled
//! questionnaire (25 %; a quarter of them batches of 100); each dashboard user opens the
//! progress, literacy, weakest-items or quality-control page every 2–6 s
//! (`zhisu_server_tests::load`). Reported per kind of request: count, p50, p99 and maximum
//! latency (send to last byte); every request that did not answer 200; the server's peak and
//! final memory (`VmHWM`, `VmRSS`), its open files and threads, and the CPU time of the
//! server, of PostgreSQL and of this process (the clients) during the run. The server runs with
//! its defaults (`max_concurrent_uploads = 8`, `max_connections = 1024`, 50 requests/s per
//! device).
//!
//! `cargo bench -p zhisu-server --bench r6_load` (release profile). Environment: `R6_DEVICES`
//! (500), `R6_USERS` (20), `R6_SECONDS` (60), `R6_BACKENDS` (`sqlite,postgres`), and the
//! pauses: `R6_PAUSE_FROM_MS`/`R6_PAUSE_TO_MS` (a tablet's, 1000–5000) and
//! `R6_PAGE_PAUSE_FROM_MS`/`R6_PAGE_PAUSE_TO_MS` (a dashboard user's, 2000–6000).
//! `R6_KEEP=1` keeps the work folder with each server's log.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use zhisu_server_tests::load::{self, LoadPlan};

fn var(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|s| s.parse().unwrap_or_else(|_| panic!("{name} is a number")))
        .unwrap_or(default)
}

/// The PostgreSQL server's processes: the postmaster and its children.
fn postgres_processes(url: &str) -> Vec<u32> {
    let parent_of = |pid: u32| -> Option<u32> {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("PPid:"))
            .and_then(|p| p.trim().parse().ok())
    };
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

fn run_backend(
    backend: &str,
    plan: &LoadPlan,
    work: &Path,
    questionnaires: &Path,
    answering: &Arc<load::Answering>,
    database_url: Option<&str>,
) {
    let data = work.join(backend);
    std::fs::create_dir_all(&data).unwrap();
    let (tokens, username, password) = {
        let state = match database_url {
            Some(url) => zhisu_server::open_postgres(url, questionnaires).unwrap(),
            None => zhisu_server::open_sqlite(&data.join("zhisu-server.sqlite3"), questionnaires)
                .unwrap(),
        };
        load::prepare_server(&state, plan.devices)
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut server = load::ServerProcess::start(
        Path::new(env!("CARGO_BIN_EXE_zhisu-server")),
        &data,
        questionnaires,
        database_url,
    );
    let sessions = runtime.block_on(async {
        server.wait_ready().await;
        load::sign_in_many(&server.base, username, password, plan.dashboard_users).await
    });
    let pg = database_url.map(postgres_processes).unwrap_or_default();
    let cpu = |pids: &[u32]| pids.iter().map(|&p| load::cpu_seconds(p)).sum::<f64>();
    let (server_cpu, pg_cpu, own_cpu) = (
        load::cpu_seconds(server.pid()),
        cpu(&pg),
        load::cpu_seconds(std::process::id()),
    );
    let (_, rss_before) = load::memory_kib(server.pid());
    let mut report = runtime.block_on(load::run(
        &server.base,
        server.pid(),
        tokens,
        sessions,
        Arc::clone(answering),
        plan,
    ));
    let seconds = report.elapsed.as_secs_f64();
    let (peak, rss_after) = load::memory_kib(server.pid());
    let most_rss = report.samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    let most_files = report
        .samples
        .iter()
        .map(|s| s.open_files)
        .max()
        .unwrap_or(0);
    let most_threads = report.samples.iter().map(|s| s.threads).max().unwrap_or(0);
    println!(
        "\n## {backend}: {} tablets, {} dashboard users, {seconds:.0} s",
        plan.devices, plan.dashboard_users
    );
    println!(
        "{} requests ({:.0}/s), {} interviews stored ({:.0}/s), {} errors",
        report.requests(),
        report.requests() as f64 / seconds,
        report.interviews_uploaded,
        report.interviews_uploaded as f64 / seconds,
        report.errors.len()
    );
    println!("{}", report.table());
    for (kind, status, body) in report.errors.iter().take(10) {
        println!("error: {kind}: {status}: {body}");
    }
    println!(
        "server memory: before the run {:.1} MiB, most while running {:.1} MiB (VmHWM {:.1} MiB \
         since start, sign-ins included), after {:.1} MiB; open files at most {most_files}; \
         threads at most {most_threads}",
        rss_before as f64 / 1024.0,
        most_rss as f64 / 1024.0,
        peak as f64 / 1024.0,
        rss_after as f64 / 1024.0
    );
    println!(
        "CPU during the run: server {:.1} s, PostgreSQL {:.1} s, clients (this process) {:.1} s, \
         of {:.0} s × 2 cores",
        load::cpu_seconds(server.pid()) - server_cpu,
        cpu(&pg) - pg_cpu,
        load::cpu_seconds(std::process::id()) - own_cpu,
        seconds
    );
}

fn main() {
    let plan = LoadPlan {
        devices: var("R6_DEVICES", 500) as usize,
        dashboard_users: var("R6_USERS", 20) as usize,
        duration: Duration::from_secs(var("R6_SECONDS", 60)),
        sample_every: Duration::from_secs(2),
        seed: 6,
        device_pause_ms: (
            var("R6_PAUSE_FROM_MS", LoadPlan::STRESS_DEVICE_PAUSE_MS.0),
            var("R6_PAUSE_TO_MS", LoadPlan::STRESS_DEVICE_PAUSE_MS.1),
        ),
        page_pause_ms: (
            var("R6_PAGE_PAUSE_FROM_MS", LoadPlan::STRESS_PAGE_PAUSE_MS.0),
            var("R6_PAGE_PAUSE_TO_MS", LoadPlan::STRESS_PAGE_PAUSE_MS.1),
        ),
    };
    let backends = std::env::var("R6_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let work = tempfile::Builder::new()
        .prefix("zhisu-r6-")
        .tempdir()
        .unwrap();
    let questionnaires = zhisu_server_tests::questionnaires_dir();
    let answering = Arc::new(load::Answering::prepare(&questionnaires, 500, plan.seed));
    println!(
        "R6: {} tablets (a request every {}–{} ms) and {} dashboard users (a page every {}–{} ms) \
         for {} s per backend",
        plan.devices,
        plan.device_pause_ms.0,
        plan.device_pause_ms.1,
        plan.dashboard_users,
        plan.page_pause_ms.0,
        plan.page_pause_ms.1,
        plan.duration.as_secs()
    );
    for backend in backends.split(',').map(str::trim) {
        match backend {
            "sqlite" => run_backend(
                "sqlite",
                &plan,
                work.path(),
                &questionnaires,
                &answering,
                None,
            ),
            "postgres" => {
                let pg = zhisu_server_tests::postgres::TestPostgres::start_durable();
                let url = pg.fresh_database("r6");
                run_backend(
                    "postgres",
                    &plan,
                    work.path(),
                    &questionnaires,
                    &answering,
                    Some(&url),
                );
            }
            other => panic!("unknown backend {other}: use sqlite or postgres"),
        }
    }
    if std::env::var_os("R6_KEEP").is_some() {
        // the servers' logs (`<backend>/server.log`) kept for reading
        println!("kept: {}", work.keep().display());
    }
}
