//! The server's files at rest, as the real binary leaves them on disk: its data folder, its
//! SQLite database with the WAL and shared-memory files, and its backups are readable by the
//! server's user only, whatever umask the shell or service manager gave it; a folder or
//! database made readable by others is tightened at start, and the log says so.
#![cfg(unix)]

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The binary run under `umask 022` (files world-readable unless the server sees to it).
fn server(data: &Path) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("umask 022; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_zhisu-server"))
        .env_remove("ZHISU_DATABASE_URL")
        .env("ZHISU_DATA_DIR", data)
        .env(
            "ZHISU_QUESTIONNAIRES",
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires"),
        );
    command
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn get(port: u16, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn the_database_its_logs_and_backups_are_the_servers_users_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // a data folder an operator made by hand, readable by everyone
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = server(&data).arg("devices").output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let log = String::from_utf8_lossy(&run.stderr);
    assert!(log.contains("made private"), "{log}");
    assert_eq!(mode(&data), 0o700);
    let database = data.join("zhisu-server.sqlite3");
    assert_eq!(mode(&database), 0o600);

    // a database copied in world-readable: tightened at start, with a warning
    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o644)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_path = dir.path().join("server.log");
    let mut child = server(&data)
        .env("ZHISU_LISTEN", format!("127.0.0.1:{port}"))
        .stderr(std::fs::File::create(&log_path).unwrap())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // a write commits: the WAL and shared-memory files exist while the server runs
    let ready = get(port, "/readyz");
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    assert_eq!(mode(&database), 0o600);
    for side in ["zhisu-server.sqlite3-wal", "zhisu-server.sqlite3-shm"] {
        assert_eq!(mode(&data.join(side)), 0o600, "{side}");
    }

    // a backup taken while serving: a new file, the user's only, a whole database
    let backup = dir.path().join("backup.sqlite3");
    let run = server(&data).arg("backup").arg(&backup).output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(mode(&backup), 0o600);
    let copy = rusqlite::Connection::open(&backup).unwrap();
    let tables: i64 = copy
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('interview', 'audit_log', 'person')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 3);
    drop(copy);
    // an existing file is never overwritten
    std::fs::write(dir.path().join("taken"), b"keep me").unwrap();
    let run = server(&data)
        .arg("backup")
        .arg(dir.path().join("taken"))
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert_eq!(std::fs::read(dir.path().join("taken")).unwrap(), b"keep me");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(child.wait().unwrap().success());
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("made private") && log.contains("zhisu-server.sqlite3"),
        "{log}"
    );
    // the backup is in the audit log
    let db = rusqlite::Connection::open(&database).unwrap();
    let audited: i64 = db
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'backup'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 1);
    assert_eq!(mode(&database), 0o600);
}

/// The administrative commands of docs/privacy.md on the real binary: erasing needs a reason
/// and an interview that exists (nothing changes otherwise), and the retention purge runs
/// on demand and says what it removed.
#[test]
fn the_privacy_commands_of_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = server(&data)
        .args([
            "erase-interview",
            "00000000-0000-0000-0000-00000000dead",
            "--reason",
            "  ",
        ])
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("--reason must say why"));
    let run = server(&data)
        .args([
            "erase-interview",
            "00000000-0000-0000-0000-00000000dead",
            "--reason",
            "PI-7",
        ])
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("no stored interview"));

    // by the reference the respondent was shown (3F1C-9A2B): one interview has it; two share
    // ABCD-EF01 (both listed, neither erased); a word that is neither is refused
    let questionnaires = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
    let state =
        zhisu_server::open_sqlite(&data.join("zhisu-server.sqlite3"), &questionnaires).unwrap();
    let q = state.questionnaires.newest("ohl_2026").unwrap();
    let q = &q.questionnaire;
    let ids = [
        uuid::Uuid::parse_str("3f1c9a2b-0d4e-4f00-8a11-123456789abc").unwrap(),
        uuid::Uuid::parse_str("abcdef01-0000-4000-8000-000000000001").unwrap(),
        uuid::Uuid::parse_str("abcdef01-ffff-4fff-8fff-000000000002").unwrap(),
    ];
    let mut rng = zhisu_server_tests::generate::Rng::new(7);
    let interviews = ids
        .iter()
        .map(|id| {
            let who = zhisu_server_tests::generate::Respondent {
                population: "construction",
                sex: "male",
                age: 33,
                education: "junior",
                industry: "construction",
                ability: 60,
                straight_line: false,
            };
            let answers = zhisu_server_tests::generate::answers(q, &who, &mut rng);
            let start =
                chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 1, 2, 0, 0).unwrap();
            zhisu_server_tests::generate::interview(q, *id, answers, start, 900, None)
        })
        .collect();
    zhisu_server_service::ingest::ingest(&state, interviews, None).unwrap();
    drop(state);
    let erase = |given: &str| {
        server(&data)
            .args(["erase-interview", given, "--reason", "电话申请"])
            .output()
            .unwrap()
    };
    let shared = erase("abcd-ef01");
    assert!(!shared.status.success());
    let said = String::from_utf8_lossy(&shared.stderr);
    assert!(said.contains("2 interviews have the reference"), "{said}");
    assert!(
        said.contains(&ids[1].to_string()) && said.contains(&ids[2].to_string()),
        "{said}"
    );
    for (given, says) in [
        ("3F1C-9A2X", "neither an interview id nor a reference"),
        ("1111-2222", "no stored interview has the reference"),
    ] {
        let run = erase(given);
        assert!(!run.status.success(), "{given}");
        assert!(
            String::from_utf8_lossy(&run.stderr).contains(says),
            "{given}"
        );
    }
    let one = erase("3F1C-9A2B");
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&one.stdout).trim(),
        format!("erased {}", ids[0])
    );

    let run = server(&data).arg("purge-expired").output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(out.starts_with("purged 0 sessions"), "{out}");
    assert!(out.contains("re-contact details"), "{out}");
    let db = rusqlite::Connection::open(data.join("zhisu-server.sqlite3")).unwrap();
    let erasures: i64 = db
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action IN ('erase_interview', 'purge_expired')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        erasures, 1,
        "the one erasure is audited; the refused ones and an empty purge are not"
    );
    let left: i64 = db
        .query_row("SELECT count(*) FROM interview", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 2, "the two sharing a reference are kept");
}
