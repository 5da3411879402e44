//! P4's export: the CSV of every interview, streamed, with the server's memory flat.
//!
//! For each size in `EXPORT_SIZES` (default `20000,100000`): a fresh SQLite database gets that
//! many interviews of `ohl_2026` through the service's own ingest (checked and scored, as from
//! tablets; not timed), then the real `zhisu-server` binary serves it and a city administrator
//! downloads `/dashboard/export.csv` over loopback. Printed: the server's resident memory
//! before, its peak (`VmHWM`) during the download, the time to the first byte and to the last,
//! the bytes and rows. Memory flat means: the peak does not grow with the number of interviews.
//!
//! `cargo bench -p zhisu-server --bench export_memory`; `EXPORT_SIZES=1000000` for a million
//! (ingest takes minutes, the database several GiB).

use std::path::Path;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use uuid::Uuid;
use zhisu_server_tests::generate::{self, Respondent, Rng};
use zhisu_server_tests::load;

fn main() {
    let sizes: Vec<usize> = std::env::var("EXPORT_SIZES")
        .unwrap_or_else(|_| "20000,100000".into())
        .split(',')
        .map(|s| {
            s.trim()
                .replace('_', "")
                .parse()
                .expect("EXPORT_SIZES: numbers")
        })
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let questionnaires = root.join("questionnaires");
    let q = zhisu_core::Questionnaire::from_toml(
        "ohl_2026.toml",
        &std::fs::read_to_string(questionnaires.join("ohl_2026.toml")).unwrap(),
    )
    .unwrap();
    println!(
        "export of every interview as CSV, streamed; ohl_2026 {}",
        q.version
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for n in sizes {
        let work = tempfile::tempdir().unwrap();
        let data = work.path();
        let t = Instant::now();
        let (username, password) = {
            let state =
                zhisu_server::open_sqlite(&data.join("zhisu-server.sqlite3"), &questionnaires)
                    .unwrap();
            let (_, username, password) = load::prepare_server(&state, 0);
            let mut rng = Rng::new(0xe4_0047);
            let populations = ["teacher", "construction", "sanitation", "medical"];
            let mut batch = Vec::with_capacity(500);
            for i in 0..n {
                let who = Respondent {
                    population: populations[i % populations.len()],
                    sex: if i % 2 == 0 { "male" } else { "female" },
                    age: 20 + (i as i64 * 7) % 39,
                    education: ["junior", "senior", "college"][i % 3],
                    industry: "construction",
                    ability: 60 + (i % 40) as u64,
                    straight_line: false,
                };
                let answers = generate::answers(&q, &who, &mut rng);
                batch.push(generate::interview(
                    &q,
                    Uuid::from_u128(1 + i as u128),
                    answers,
                    Utc.with_ymd_and_hms(2026, 11, 20, 1, 0, 0).unwrap()
                        + chrono::Duration::seconds(i as i64),
                    1500,
                    Some("yz-1"),
                ));
                if batch.len() == 500 || i + 1 == n {
                    zhisu_server_service::ingest::ingest(&state, std::mem::take(&mut batch), None)
                        .unwrap();
                }
            }
            (username, password)
        };
        let db = std::fs::metadata(data.join("zhisu-server.sqlite3"))
            .map(|m| m.len())
            .unwrap_or(0);
        println!(
            "{n} interviews ingested in {:.1} s (not measured), database {:.0} MiB",
            t.elapsed().as_secs_f64(),
            db as f64 / 1048576.0
        );
        runtime.block_on(async {
            let mut server = load::ServerProcess::start(
                Path::new(env!("CARGO_BIN_EXE_zhisu-server")),
                data,
                &questionnaires,
                None,
            );
            server.wait_ready().await;
            let cookie = zhisu_server_tests::dashboard_sign_in(&server.base, username, password).await;
            let (_, before) = load::memory_kib(server.pid());
            let http = reqwest::Client::new();
            let t = Instant::now();
            let mut response = http
                .get(format!("{}/dashboard/export.csv", server.base))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let mut first = None;
            let (mut bytes, mut lines) = (0usize, 0usize);
            while let Some(chunk) = response.chunk().await.unwrap() {
                first.get_or_insert_with(|| t.elapsed());
                bytes += chunk.len();
                lines += chunk.iter().filter(|&&b| b == b'\n').count();
            }
            let total = t.elapsed();
            let (peak, after) = load::memory_kib(server.pid());
            assert_eq!(lines, n + 1, "the header and every interview");
            println!(
                "  {n}: server memory before {:.1} MiB, peak (VmHWM, start included) {:.1} MiB, after {:.1} MiB; first byte {:.3} s, all {:.1} s; {:.0} MiB, {} rows",
                before as f64 / 1024.0,
                peak as f64 / 1024.0,
                after as f64 / 1024.0,
                first.unwrap_or_default().as_secs_f64(),
                total.as_secs_f64(),
                bytes as f64 / 1048576.0,
                lines - 1
            );
        });
    }
}
