//! Upgrading a server between versions (issue 22): a database written by the previous release
//! — kept in `fixtures/upgrade/` as that release's server left it, on both backends — is opened
//! by this version, which applies its newer migrations; every interview, contact, quiz session,
//! practice interview, event, library piece, tablet and person is still there and unchanged,
//! the stored data passes the server's own check, and the administrator of the old release
//! signs in and reads the dashboard.
//!
//! The fixture is remade at each release (its schema is then the one being upgraded from):
//! `cargo test -p zhisu-server-tests --test upgrade -- --ignored make_the_upgrade_fixture`, run
//! at the release's commit (a worktree of it), then the files copied here. See
//! `docs/deployment.md`, "Upgrading".

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use zhisu_server_service::ServerState;
use zhisu_server_storage::Scope;
use zhisu_server_tests::postgres::TestPostgres;

const USERNAME: &str = "admin";
/// The old release's administrator (a test database's, nothing else's).
const PASSWORD: &str = "upgrade-fixture-password-2026";
const SEED: u64 = 22;

fn fixture_dir() -> PathBuf {
    std::env::var_os("ZHISU_UPGRADE_FIXTURE_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/upgrade"))
}

/// An interview as kept: id, content hash, quality-review status, district, round.
type InterviewKept = (String, String, String, Option<String>, Option<String>);

/// What must survive an upgrade, read through the storage API (no schema detail), in an order
/// that does not depend on the backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Snapshot {
    schema_version: usize,
    interviews: Vec<InterviewKept>,
    /// interviews counted per district in progress
    progress: Vec<(Option<String>, u64)>,
    /// contacts per disposition
    contacts: Vec<(String, u64)>,
    quiz_sessions: Vec<(String, String)>,
    practice: Vec<String>,
    events: Vec<String>,
    library: Vec<(String, u32)>,
    devices: Vec<String>,
    people: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    /// The release the fixture was made with (`git describe`).
    made_by: String,
    sqlite: Snapshot,
    postgres: Snapshot,
}

fn snapshot(state: &ServerState) -> Snapshot {
    let s = &state.storage;
    let mut interviews: Vec<_> = s
        .interviews(&Scope::All)
        .unwrap()
        .into_iter()
        .map(|i| {
            assert!(i.interview.hash_is_valid(), "{}", i.interview.id);
            (
                i.interview.id.to_string(),
                i.interview.content_hash.clone(),
                format!("{:?}", i.qc_status),
                i.district.clone(),
                i.round.clone(),
            )
        })
        .collect();
    interviews.sort();
    let mut progress = std::collections::BTreeMap::<Option<String>, u64>::new();
    for cell in s.progress(&Scope::All).unwrap() {
        *progress.entry(cell.district).or_default() += cell.count;
    }
    let mut contacts = std::collections::BTreeMap::<String, u64>::new();
    for c in s.contact_counts(&Scope::All).unwrap() {
        *contacts.entry(c.disposition).or_default() += c.count;
    }
    let mut quiz_sessions: Vec<_> = s
        .quiz_sessions(&Scope::All)
        .unwrap()
        .into_iter()
        .map(|q| {
            assert!(q.session.hash_is_valid(), "{}", q.session.id);
            (q.session.id.to_string(), q.session.content_hash)
        })
        .collect();
    quiz_sessions.sort();
    let mut practice: Vec<_> = s
        .practice_interviews(&Scope::All)
        .unwrap()
        .into_iter()
        .map(|p| p.id.to_string())
        .collect();
    practice.sort();
    let mut events: Vec<_> = s
        .events(&Scope::All)
        .unwrap()
        .into_iter()
        .map(|e| e.event.id.to_string())
        .collect();
    events.sort();
    let mut library: Vec<_> = s
        .library()
        .unwrap()
        .into_iter()
        .map(|p| (p.piece.id, p.piece.version))
        .collect();
    library.sort();
    let mut devices: Vec<_> = s
        .devices()
        .unwrap()
        .into_iter()
        .map(|d| d.id.to_string())
        .collect();
    devices.sort();
    let mut people: Vec<_> = s
        .people()
        .unwrap()
        .into_iter()
        .map(|(p, _)| p.username)
        .collect();
    people.sort();
    Snapshot {
        schema_version: s.schema_version().unwrap(),
        interviews,
        progress: progress.into_iter().collect(),
        contacts: contacts.into_iter().collect(),
        quiz_sessions,
        practice,
        events,
        library,
        devices,
        people,
    }
}

/// The old release's administrator and its demonstration round, through the service as the
/// `first-sign-in` and `load-demo` commands make them.
fn fill(state: &ServerState) {
    let admin = state
        .add_person(
            USERNAME,
            "管理员",
            PASSWORD,
            zhisu_server_service::people::Role::CityAdmin,
            "fixture",
        )
        .unwrap()
        .unwrap();
    state.load_demo("2026", Some(&admin), SEED).unwrap();
}

/// A program of the PostgreSQL client next to the server binaries the harness runs.
fn pg_program(name: &str) -> PathBuf {
    zhisu_server_tests::postgres::client_program(name)
}

fn run(command: &mut Command) {
    let out = command.output().expect("run the PostgreSQL client");
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn gzip(from: &[u8], to: &Path) {
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::best(),
    );
    encoder.write_all(from).unwrap();
    encoder.finish().unwrap();
}

fn gunzip(from: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(from).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

/// Makes the fixture with this version (run at a release: see the module's notes).
#[test]
#[ignore = "makes the fixture at a release; not a check"]
fn make_the_upgrade_fixture() {
    let out = fixture_dir();
    std::fs::create_dir_all(&out).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zhisu-server.sqlite3");
    let sqlite = {
        let state =
            zhisu_server::open_sqlite(&file, &zhisu_server_tests::questionnaires_dir()).unwrap();
        fill(&state);
        snapshot(&state)
    };
    // one file, as a clean stop leaves it
    let conn = rusqlite::Connection::open(&file).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")
        .unwrap();
    drop(conn);
    gzip(
        &std::fs::read(&file).unwrap(),
        &out.join("sqlite.sqlite3.gz"),
    );

    let pg = TestPostgres::start();
    let url = pg.fresh_database("upgrade_fixture");
    let postgres = {
        let state =
            zhisu_server::open_postgres(&url, &zhisu_server_tests::questionnaires_dir()).unwrap();
        fill(&state);
        snapshot(&state)
    };
    let dump = Command::new(pg_program("pg_dump"))
        .args(["--no-owner", "--no-privileges", "--dbname", &url])
        .output()
        .unwrap();
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    gzip(&dump.stdout, &out.join("postgres.sql.gz"));

    let made_by = Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let manifest = Manifest {
        made_by,
        sqlite,
        postgres,
    };
    std::fs::write(
        out.join("manifest.json"),
        serde_json::to_string_pretty(&manifest).unwrap() + "\n",
    )
    .unwrap();
}

fn manifest() -> Manifest {
    serde_json::from_slice(&std::fs::read(fixture_dir().join("manifest.json")).unwrap()).unwrap()
}

/// The upgraded server still holds what the old one did, checks clean, and its administrator
/// signs in and reads the dashboard over HTTP.
fn assert_upgraded(state: ServerState, before: &Snapshot, latest: usize) {
    let after = snapshot(&state);
    assert_eq!(
        after.schema_version, latest,
        "every newer migration applied"
    );
    assert!(before.schema_version <= latest);
    assert!(before.interviews.len() > 300 && !before.quiz_sessions.is_empty());
    assert_eq!(
        Snapshot {
            schema_version: before.schema_version,
            ..after
        },
        *before,
        "nothing lost or changed"
    );
    assert_eq!(
        state.check_data(None).unwrap(),
        vec![],
        "the stored data checks clean"
    );
    // the last handle on the storage is dropped here, outside the runtime (the PostgreSQL
    // client's connections must not be closed from within one)
    let keep = state.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let base = zhisu_server_tests::serve_on_loopback(state).await;
        let cookie = zhisu_server_tests::dashboard_sign_in(&base, USERNAME, PASSWORD).await;
        let progress = reqwest::Client::new()
            .get(format!("{base}/dashboard/progress"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(progress.status(), 200);
    });
    drop(runtime);
    drop(keep);
}

#[test]
fn a_sqlite_database_of_the_previous_release_is_upgraded_with_everything_in_it() {
    let before = manifest().sqlite;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zhisu-server.sqlite3");
    std::fs::write(&file, gunzip(&fixture_dir().join("sqlite.sqlite3.gz"))).unwrap();
    let old = rusqlite::Connection::open(&file).unwrap();
    let version: i64 = old
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        version as usize, before.schema_version,
        "the old release's schema"
    );
    drop(old);
    let state =
        zhisu_server::open_sqlite(&file, &zhisu_server_tests::questionnaires_dir()).unwrap();
    assert_upgraded(state, &before, zhisu_server_sqlite::MIGRATIONS.len());
    // and once more: opening an upgraded database changes nothing
    let again =
        zhisu_server::open_sqlite(&file, &zhisu_server_tests::questionnaires_dir()).unwrap();
    assert_eq!(snapshot(&again).interviews, before.interviews);
}

#[test]
fn a_postgres_database_of_the_previous_release_is_upgraded_with_everything_in_it() {
    let before = manifest().postgres;
    let pg = TestPostgres::start();
    let url = pg.fresh_database("upgrade_from_previous");
    let dump = dir_with(&gunzip(&fixture_dir().join("postgres.sql.gz")));
    run(Command::new(pg_program("psql"))
        .args([
            "--quiet",
            "--no-psqlrc",
            "-v",
            "ON_ERROR_STOP=1",
            "--dbname",
            &url,
            "--file",
        ])
        .arg(dump.path().join("dump.sql")));
    let state =
        zhisu_server::open_postgres(&url, &zhisu_server_tests::questionnaires_dir()).unwrap();
    assert_upgraded(state, &before, zhisu_server_postgres::MIGRATIONS.len());
    // migration 27: new payloads and score reports are compressed with lz4 (this PostgreSQL
    // has it); the rows stored before, still pglz, read back unchanged (the snapshot above)
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let methods: Vec<(String, i8)> = client
        .query(
            "SELECT attname::text, attcompression FROM pg_attribute
             WHERE attrelid = 'interview'::regclass AND attname IN ('payload', 'score_report')
             ORDER BY attname",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        methods,
        vec![
            ("payload".to_string(), b'l' as i8),
            ("score_report".to_string(), b'l' as i8)
        ],
        "lz4 for the interview's payload and score report"
    );
}

fn dir_with(dump: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dump.sql"), dump).unwrap();
    dir
}
