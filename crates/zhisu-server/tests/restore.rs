//! The restore test of docs/deployment.md (step 6), as an IT person runs it: a server holding a
//! round's interviews is backed up with the guide's commands (SQLite: `sqlite3 .backup` while the
//! server serves; PostgreSQL: `pg_dump`), restored into a new place (copy, or `pg_restore`),
//! checked with `check-data` and counted again with `rebuild-cells`, and every interview reads
//! back exactly as it was stored. Plain `#[test]`s: the PostgreSQL client is synchronous.

use std::process::Command;

use zhisu_server_storage::{InterviewStore, Scope, StoredInterview};

fn server(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_zhisu-server"))
        .env_remove("ZHISU_DATA_DIR")
        .env_remove("ZHISU_DATABASE_URL")
        .env_remove("ZHISU_QUESTIONNAIRES")
        .env_remove("ZHISU_CONFIG")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every interview as JSON, sorted by id: what must survive a backup and restore.
fn every_interview(storage: &dyn InterviewStore) -> Vec<String> {
    let mut all: Vec<StoredInterview> = storage.interviews(&Scope::All).unwrap();
    all.sort_by_key(|s| s.interview.id);
    all.iter()
        .map(|s| serde_json::to_string(s).unwrap())
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[cfg(unix)]
#[test]
fn a_sqlite_backup_taken_while_serving_restores_every_interview() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    server(&["--data-dir", data_arg, "load-demo", "--round", "2026"]);
    let database = data.join("zhisu-server.sqlite3");

    // the nightly backup, taken while the server serves
    let port = free_port();
    let mut serving = Command::new(env!("CARGO_BIN_EXE_zhisu-server"))
        .env_remove("ZHISU_QUESTIONNAIRES")
        .args([
            "--data-dir",
            data_arg,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let backup = dir.path().join("zhisu-2026-05-01.sqlite3");
    run(
        "sqlite3",
        &[
            database.to_str().unwrap(),
            &format!(".backup {}", backup.display()),
        ],
    );
    Command::new("kill")
        .args(["-TERM", &serving.id().to_string()])
        .status()
        .unwrap();
    assert!(serving.wait().unwrap().success());

    // the restore, by the guide, into a new data folder
    let restored = dir.path().join("restored");
    std::fs::create_dir_all(&restored).unwrap();
    std::fs::copy(&backup, restored.join("zhisu-server.sqlite3")).unwrap();
    let restored_arg = restored.to_str().unwrap();
    let checked = server(&["--data-dir", restored_arg, "check-data"]);
    let original = zhisu_server_sqlite::SqliteStorage::open(&database).unwrap();
    let count = original.interview_count().unwrap();
    assert!(count > 300, "the demonstration round: {count}");
    assert!(
        checked.contains(&format!("0 of {count} stored interviews have problems")),
        "{checked}"
    );
    assert!(server(&["--data-dir", restored_arg, "rebuild-cells"]).contains("counted again"));
    let copy =
        zhisu_server_sqlite::SqliteStorage::open(&restored.join("zhisu-server.sqlite3")).unwrap();
    assert_eq!(every_interview(&copy), every_interview(&original));
}

#[test]
fn a_postgresql_dump_restores_every_interview() {
    let pg = zhisu_server_tests::postgres::TestPostgres::start();
    let source = pg.fresh_database("zhisu_backup_source");
    server(&["--database-url", &source, "load-demo", "--round", "2026"]);
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("zhisu-2026-05-01.dump");
    run(
        "pg_dump",
        &[
            "--format=custom",
            "--file",
            dump.to_str().unwrap(),
            "--dbname",
            &source,
        ],
    );
    let target = pg.fresh_database("zhisu_backup_target");
    run(
        "pg_restore",
        &["--no-owner", "--dbname", &target, dump.to_str().unwrap()],
    );
    let checked = server(&["--database-url", &target, "check-data"]);
    assert!(checked.contains("0 of "), "{checked}");
    assert!(server(&["--database-url", &target, "rebuild-cells"]).contains("counted again"));
    let original = zhisu_server_postgres::PostgresStorage::open(&source, 2).unwrap();
    let copy = zhisu_server_postgres::PostgresStorage::open(&target, 2).unwrap();
    let before = every_interview(&original);
    assert!(
        before.len() > 300,
        "the demonstration round: {}",
        before.len()
    );
    assert_eq!(every_interview(&copy), before);
}
