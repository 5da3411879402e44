//! The tablet's database at rest: encrypted with the device key (SQLCipher), a plain database
//! from an older app encrypted in place with nothing lost, even when the process is killed at
//! any step of that migration; backups encrypted too.
//!
//! A lost tablet is modelled by copying its files (database, `-wal`, `-shm`) while the app has
//! them open, and searching the raw bytes for what was just entered: the surveyor's name and id,
//! the PIN hash, the interview's id, its items, choices and answers. The same search on the same
//! work stored in a plain file finds every one of them, so the search is shown to work.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use uuid::Uuid;
use zhisu_core::{AnswerValue, Questionnaire};
use zhisu_store::{
    is_plain_database, load_or_create_key_file, read_backup, DatabaseKey, DeviceStore,
    NewInterview, StoreError,
};
use zhisu_testkit::Rng;

const WRITER: &str = env!("CARGO_BIN_EXE_zhisu-store-kill-writer");
const SURVEYOR_ID: &str = "svy-7731";
const SURVEYOR_NAME: &str = "欧阳秀英";
const PIN: &str = "480213";
/// A respondent's number given on the re-contact card (back-checks, issue 15).
const PHONE: &str = "13957204816";
const CALL_NAME: &str = "欧阳师傅";
/// The shortest secret searched for in ciphertext (see the encrypted copy's check).
const MIN_NEEDLE: usize = 6;

fn pilot() -> Questionnaire {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires/pilot.toml");
    Questionnaire::from_toml("pilot.toml", &std::fs::read_to_string(path).unwrap()).unwrap()
}

fn answers() -> Vec<(&'static str, AnswerValue)> {
    vec![
        ("age", AnswerValue::Integer(47)),
        ("employer_duty", AnswerValue::Bool(true)),
        ("noise", AnswerValue::Choice("earplugs".into())),
        (
            "confined_space",
            AnswerValue::Choices(vec!["ventilate".into()]),
        ),
    ]
}

/// What a surveyor does on a tablet: is added with a PIN, signs in, runs interviews; `n`
/// interviews, the last one left in progress. Returns the interview ids.
fn fill(store: &mut DeviceStore, q: &Questionnaire, n: u128) -> Vec<Uuid> {
    let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    if store.surveyors().unwrap().is_empty() {
        store
            .add_surveyor(SURVEYOR_ID, SURVEYOR_NAME, PIN, t0)
            .unwrap();
    }
    store.sign_in_surveyor(SURVEYOR_ID, PIN, t0).unwrap();
    // a round with back-checks: the first respondent gives a number on the re-contact card
    store
        .save_round_settings(&zhisu_protocol::RoundSettings {
            backcheck: Some(zhisu_protocol::BackcheckSettings {
                share_percent: 5.0,
                min_per_surveyor_week: 1,
                items: vec!["age".into()],
                fail_below_percent: 80,
                numeric_tolerance: 0.0,
            }),
            ..Default::default()
        })
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let id = Uuid::from_u128(0x5eed_0000 + i);
        let mut new = NewInterview::new(id, t0, 480);
        new.surveyor_id = Some(SURVEYOR_ID.into());
        store.start_interview(q, &new).unwrap();
        for (item, value) in answers() {
            store.save_answer(q, id, item, &value, t0).unwrap();
        }
        if i + 1 < n {
            store.complete_interview(q, id, t0).unwrap();
            if i == 0 {
                store
                    .answer_recontact(id, true, PHONE, CALL_NAME, t0)
                    .unwrap();
            }
        }
        ids.push(id);
    }
    ids
}

/// Everything a screen or an upload can read from the store, as text to compare.
fn snapshot(store: &DeviceStore) -> String {
    let mut out = format!("{:?}\n", store.surveyors().unwrap());
    for interview in store.interviews().unwrap() {
        out += &format!(
            "{interview:?}\n{:?}\nevents {}\n",
            store.answers(interview.id).unwrap(),
            store.answer_event_count(interview.id).unwrap()
        );
    }
    for upload in store.waiting_uploads(1000).unwrap() {
        out += &format!("{}\n", upload.content_hash);
    }
    out
}

/// The PIN hash as stored (read with the key, as only the app can).
fn pin_hash(path: &Path, key: Option<&DatabaseKey>) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    if let Some(key) = key {
        conn.pragma_update(None, "key", format!("x'{}'", key.to_hex()))
            .unwrap();
    }
    conn.query_row(
        "SELECT pin_hash FROM surveyor WHERE id = ?1",
        [SURVEYOR_ID],
        |row| row.get(0),
    )
    .unwrap()
}

/// The secrets to look for in the raw bytes.
fn secrets(ids: &[Uuid], pin_hash: &str) -> Vec<(String, Vec<u8>)> {
    let mut secrets = vec![
        (
            "surveyor name".to_string(),
            SURVEYOR_NAME.as_bytes().to_vec(),
        ),
        ("surveyor id".into(), SURVEYOR_ID.as_bytes().to_vec()),
        ("PIN hash".into(), pin_hash.as_bytes().to_vec()),
    ];
    for id in ids {
        secrets.push((format!("interview id {id}"), id.to_string().into_bytes()));
    }
    for (item, value) in answers() {
        secrets.push((format!("item id {item}"), item.as_bytes().to_vec()));
        secrets.push((
            format!("answer to {item}"),
            serde_json::to_string(&value).unwrap().into_bytes(),
        ));
    }
    secrets.push(("re-contact phone number".into(), PHONE.as_bytes().to_vec()));
    secrets.push((
        "re-contact form of address".into(),
        CALL_NAME.as_bytes().to_vec(),
    ));
    secrets.push(("choice earplugs".into(), b"earplugs".to_vec()));
    secrets.push(("choice ventilate".into(), b"ventilate".to_vec()));
    secrets
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Copies the database and its `-wal` and `-shm` as they are on disk right now, as a thief
/// would; returns the copy's path and the raw bytes of all three files.
fn steal(path: &Path, into: &Path) -> (PathBuf, Vec<u8>) {
    std::fs::create_dir_all(into).unwrap();
    let copy = into.join(path.file_name().unwrap());
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", path.display()));
        if let Ok(data) = std::fs::read(&from) {
            std::fs::write(format!("{}{suffix}", copy.display()), &data).unwrap();
            bytes.extend(data);
        }
    }
    (copy, bytes)
}

fn wal_len(path: &Path) -> u64 {
    std::fs::metadata(format!("{}-wal", path.display()))
        .map(|m| m.len())
        .unwrap_or(0)
}

#[test]
fn a_copy_of_the_tablet_files_shows_no_answer_name_or_pin_hash_and_does_not_open_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let q = pilot();
    let key = load_or_create_key_file(&dir.path().join("key")).unwrap();

    // the same work on a plain file: the search finds every secret there
    let plain_path = dir.path().join("plain/zhisu.sqlite3");
    std::fs::create_dir_all(plain_path.parent().unwrap()).unwrap();
    let mut plain = DeviceStore::open_plain(&plain_path).unwrap();
    let ids = fill(&mut plain, &q, 3);
    let (_, plain_bytes) = steal(&plain_path, &dir.path().join("stolen-plain"));
    let plain_secrets = secrets(&ids, &pin_hash(&plain_path, None));
    for (what, needle) in &plain_secrets {
        assert!(
            contains(&plain_bytes, needle),
            "the search must find the {what} in a plain file"
        );
    }

    // the tablet's encrypted store, copied while the app has it open (answers in the WAL)
    let path = dir.path().join("data/zhisu.sqlite3");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut store = DeviceStore::open(&path, &key).unwrap();
    assert_eq!(fill(&mut store, &q, 3), ids);
    assert!(wal_len(&path) > 0, "the answers are in the WAL too");
    let (stolen, bytes) = steal(&path, &dir.path().join("stolen"));
    let pin_hash = pin_hash(&path, Some(&key));
    // a needle of a few bytes turns up by chance in megabytes of ciphertext (three bytes: once
    // in 16 MiB, and the store's files are several; CI once found `age`); from six bytes on it
    // cannot (once in 2^48). The short ones (the item id `age`, a number) are found in the
    // plain file above, and the longer secrets of the same rows are looked for in every
    // encrypted file below.
    let searchable: Vec<(String, Vec<u8>)> = secrets(&ids, &pin_hash)
        .into_iter()
        .filter(|(_, needle)| needle.len() >= MIN_NEEDLE)
        .collect();
    assert!(
        searchable.len() >= 10,
        "most secrets are long enough to be searched for"
    );
    for (what, needle) in &searchable {
        assert!(
            !contains(&bytes, needle),
            "the {what} is readable in a copy of the encrypted files"
        );
    }
    assert!(!contains(&bytes, b"SQLite format 3"), "not even the header");
    assert!(!is_plain_database(&stolen).unwrap());

    // without the key the copy does not open, neither with SQLite nor with a wrong key
    let conn = rusqlite::Connection::open(&stolen).unwrap();
    let err = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap_err();
    assert_eq!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase),
        "{err}"
    );
    // (closing it may checkpoint the still-encrypted WAL frames into the file: no harm)
    drop(conn);
    let wrong = DatabaseKey::generate().unwrap();
    let refused = DeviceStore::open(&stolen, &wrong).err().unwrap();
    assert!(matches!(refused, StoreError::WrongKey), "{refused}");
    assert_eq!(refused.code(), "database_key_wrong");
    let mut after = Vec::new();
    for suffix in ["", "-wal"] {
        after.extend(std::fs::read(format!("{}{suffix}", stolen.display())).unwrap_or_default());
    }
    for (what, needle) in &searchable {
        assert!(
            !contains(&after, needle),
            "the {what} is readable after a wrong key"
        );
    }

    // with the key, the copy still holds exactly what the app shows
    let reopened = DeviceStore::open(&stolen, &key).unwrap();
    assert_eq!(snapshot(&reopened), snapshot(&store));
    assert!(reopened.check_pin(SURVEYOR_ID, PIN).unwrap());

    // a backup is encrypted too, and reads back only with the key
    let backup = dir.path().join("usb/backup.sqlite3");
    std::fs::create_dir_all(backup.parent().unwrap()).unwrap();
    store.export_backup(&backup).unwrap();
    let backup_bytes = std::fs::read(&backup).unwrap();
    for (what, needle) in &searchable {
        assert!(
            !contains(&backup_bytes, needle),
            "the {what} is readable in the backup"
        );
    }
    assert_eq!(read_backup(&backup, Some(&key)).unwrap().len(), 2);
    assert!(read_backup(&backup, None).is_err());
    assert!(read_backup(&backup, Some(&wrong)).is_err());
}

#[test]
fn the_key_file_is_private_kept_and_never_half_written() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key_dir = dir.path().join("config/key");
    let key = load_or_create_key_file(&key_dir).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&key_dir), 0o700);
    assert_eq!(mode(&key_dir.join(zhisu_store::KEY_FILE_NAME)), 0o600);
    assert_eq!(load_or_create_key_file(&key_dir).unwrap(), key, "kept");
    assert_eq!(format!("{key:?}"), "DatabaseKey(<redacted>)");
    // a leftover half-written key from a killed first start is ignored
    std::fs::write(key_dir.join("database.key.new"), "12").unwrap();
    assert_eq!(load_or_create_key_file(&key_dir).unwrap(), key);
    // a damaged key file is refused, never replaced by a new key
    std::fs::write(key_dir.join(zhisu_store::KEY_FILE_NAME), "not a key").unwrap();
    let err = load_or_create_key_file(&key_dir).unwrap_err();
    assert_eq!(err.code(), "database_key_unusable");
    assert_eq!(
        std::fs::read_to_string(key_dir.join(zhisu_store::KEY_FILE_NAME)).unwrap(),
        "not a key"
    );
}

/// A plain database as an older app leaves it: surveyors, completed interviews and one in
/// progress, the last commits still in the WAL (copied while open, as after a crash).
fn plain_template(dir: &Path, q: &Questionnaire) -> (PathBuf, String) {
    let live = dir.join("live/zhisu.sqlite3");
    std::fs::create_dir_all(live.parent().unwrap()).unwrap();
    let mut store = DeviceStore::open_plain(&live).unwrap();
    fill(&mut store, &q.clone(), 40);
    assert!(wal_len(&live) > 0);
    let expected = snapshot(&store);
    let (template, _) = steal(&live, &dir.join("template"));
    drop(store);
    (template, expected)
}

fn place_copy(template: &Path, dir: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(dir);
    steal(template, dir).0
}

fn leftovers(path: &Path) -> Vec<String> {
    [".encrypting", ".encrypting-journal", ".plain-old"]
        .iter()
        .map(|s| format!("{}{s}", path.display()))
        .filter(|p| Path::new(p).exists())
        .collect()
}

#[test]
fn a_plain_database_is_encrypted_in_place_with_nothing_lost() {
    let dir = tempfile::tempdir().unwrap();
    let q = pilot();
    let key = load_or_create_key_file(&dir.path().join("key")).unwrap();
    let (template, expected) = plain_template(dir.path(), &q);
    let path = place_copy(&template, &dir.path().join("device"));
    assert!(is_plain_database(&path).unwrap());
    let mut steps = Vec::new();
    let store = DeviceStore::open_reporting(&path, &key, &mut |s| steps.push(s.name())).unwrap();
    assert_eq!(
        steps,
        [
            "plain_found",
            "checkpointed",
            "copy_written",
            "replaced",
            "plain_wiped"
        ]
    );
    assert_eq!(snapshot(&store), expected);
    assert!(store.integrity_ok().unwrap());
    assert!(!is_plain_database(&path).unwrap());
    assert!(leftovers(&path).is_empty(), "{:?}", leftovers(&path));
    drop(store);
    let bytes = std::fs::read(&path).unwrap();
    assert!(!contains(&bytes, SURVEYOR_NAME.as_bytes()));
    assert!(!contains(&bytes, b"earplugs"));
    // the next open finds it encrypted: no step
    let mut again = Vec::new();
    let store = DeviceStore::open_reporting(&path, &key, &mut |s| again.push(s)).unwrap();
    assert!(again.is_empty());
    assert_eq!(snapshot(&store), expected);
}

/// Runs the writer's `encrypt` mode on `path` and SIGKILLs it once it printed `pause_at` (a
/// step name, or `opened`), or after `after` when given.
fn encrypt_and_kill(path: &Path, key_dir: &Path, pause_at: &str, after: Option<Duration>) {
    let mut child = Command::new(WRITER)
        .arg("encrypt")
        .arg(path)
        .arg(key_dir)
        .arg(pause_at)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    match after {
        Some(delay) => std::thread::sleep(delay),
        None => {
            let wanted = match pause_at {
                "opened" => "opened".to_string(),
                step => format!("step {step}"),
            };
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            loop {
                match lines.next() {
                    Some(Ok(line)) if line == wanted => break,
                    Some(Ok(_)) => {}
                    other => panic!("the writer stopped before '{wanted}': {other:?}"),
                }
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn killed_at_any_step_of_the_encryption_the_next_open_finds_every_answer() {
    let dir = tempfile::tempdir().unwrap();
    let q = pilot();
    let key_dir = dir.path().join("key");
    let key = load_or_create_key_file(&key_dir).unwrap();
    let (template, expected) = plain_template(dir.path(), &q);
    let check = |path: &Path, what: &str| {
        let store = DeviceStore::open(path, &key)
            .unwrap_or_else(|e| panic!("killed {what}: the database does not open: {e}"));
        assert!(store.integrity_ok().unwrap(), "killed {what}");
        assert_eq!(snapshot(&store), expected, "killed {what}: data differs");
        drop(store);
        assert!(!is_plain_database(path).unwrap(), "killed {what}");
        assert!(
            leftovers(path).is_empty(),
            "killed {what}: {:?}",
            leftovers(path)
        );
    };
    // at each step, and once more after opening
    for step in [
        "plain_found",
        "checkpointed",
        "copy_written",
        "replaced",
        "plain_wiped",
        "opened",
    ] {
        let path = place_copy(&template, &dir.path().join(format!("at-{step}")));
        encrypt_and_kill(&path, &key_dir, step, None);
        check(&path, &format!("at step {step}"));
    }
    // and at random moments, twice in a row on the same files before the check
    let mut rng = Rng::new(0x00e1_c0de);
    for i in 0..12 {
        let path = place_copy(&template, &dir.path().join(format!("random-{i}")));
        for _ in 0..2 {
            let delay = Duration::from_millis(rng.below(60));
            encrypt_and_kill(&path, &key_dir, "never", Some(delay));
        }
        check(&path, &format!("at random (run {i})"));
    }
}
