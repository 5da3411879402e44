//! A tablet that cannot sync hands over a backup file; the server imports it exactly once.
use std::path::PathBuf;
use std::process::Command;

use chrono::{TimeZone, Utc};
use uuid::Uuid;
use zhisu_core::{AnswerValue, Questionnaire};
use zhisu_server_sqlite::SqliteStorage;
use zhisu_server_storage::Scope;
use zhisu_server_storage::{AnalyticsStore, InterviewStore};
use zhisu_store::{load_or_create_key_file, DeviceStore, NewInterview};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn import(
    data_dir: &std::path::Path,
    key_file: Option<&std::path::Path>,
    backup: &std::path::Path,
) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_zhisu-server"))
        .arg("import-backup")
        .args(
            key_file
                .map(|k| ["--key-file".as_ref(), k.as_os_str()])
                .into_iter()
                .flatten(),
        )
        .arg(backup)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--questionnaires")
        .arg(root().join("questionnaires"))
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[test]
fn a_backup_is_imported_once_however_often_it_is_handed_over() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string(root().join("questionnaires/pilot.toml")).unwrap();
    let q = Questionnaire::from_toml("pilot.toml", &source).unwrap();
    // the tablet's key, in a folder of its own as on the tablet
    let key_dir = dir.path().join("key");
    let key = load_or_create_key_file(&key_dir).unwrap();
    let key_file = key_dir.join(zhisu_store::KEY_FILE_NAME);
    let mut device = DeviceStore::open(&dir.path().join("device.sqlite3"), &key).unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap();
    for n in 0..3u128 {
        let id = device
            .start_interview(&q, &NewInterview::new(Uuid::from_u128(n + 1), t0, 480))
            .unwrap();
        for (item, value) in [
            ("age", AnswerValue::Integer(30)),
            ("employer_duty", AnswerValue::Bool(true)),
            ("noise", AnswerValue::Choice("earplugs".into())),
            (
                "confined_space",
                AnswerValue::Choices(vec!["ventilate".into()]),
            ),
        ] {
            device.save_answer(&q, id, item, &value, t0).unwrap();
        }
        device.complete_interview(&q, id, t0).unwrap();
    }
    let backup = dir.path().join("backup.sqlite3");
    device.export_backup(&backup).unwrap();

    let data = dir.path().join("server");
    // the backup is encrypted: without the tablet's key it is not read, and nothing is stored
    let (status, _) = import(&data, None, &backup);
    assert_eq!(
        status, 1,
        "an encrypted backup without its key fails the import"
    );
    let (status, out) = import(&data, Some(&key_file), &backup);
    assert_eq!(status, 0, "{out}");
    assert!(
        out.contains("3 interviews: 3 stored, 0 already stored"),
        "{out}"
    );
    let (status, out) = import(&data, Some(&key_file), &backup);
    assert_eq!(status, 0, "{out}");
    assert!(
        out.contains("3 interviews: 0 stored, 3 already stored"),
        "{out}"
    );
    let db = SqliteStorage::open(&data.join("zhisu-server.sqlite3")).unwrap();
    assert_eq!(db.interview_count().unwrap(), 3);

    // the cells counted the imported interviews; `rebuild-cells` counts them again after a
    // hand edit spoiled them
    let counts = |db: &SqliteStorage| {
        let progress: u64 = db
            .progress(&Scope::All)
            .unwrap()
            .iter()
            .map(|c| c.count)
            .sum();
        let mut literacy = 0;
        db.visit_cells("ohl_pilot", &mut |c| {
            if c.breakdown == "all" {
                literacy += c.n
            }
        })
        .unwrap();
        (progress, literacy)
    };
    assert_eq!(counts(&db), (3, 3));
    rusqlite::Connection::open(data.join("zhisu-server.sqlite3"))
        .unwrap()
        .execute_batch("DELETE FROM literacy_cell; UPDATE progress_cell SET n = 99;")
        .unwrap();
    assert_eq!(counts(&db), (99, 0));
    let output = Command::new(env!("CARGO_BIN_EXE_zhisu-server"))
        .arg("rebuild-cells")
        .arg("--data-dir")
        .arg(&data)
        .arg("--questionnaires")
        .arg(root().join("questionnaires"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{out}");
    assert!(out.contains("from 3 interviews"), "{out}");
    assert_eq!(counts(&db), (3, 3));

    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"hello").unwrap();
    let (status, _) = import(&data, Some(&key_file), &junk);
    assert_eq!(status, 1, "a file that is not a backup fails the import");
    assert_eq!(db.interview_count().unwrap(), 3);
}

#[test]
fn a_backup_with_sealed_interviews_is_opened_with_the_round_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let made = Command::new(env!("CARGO_BIN_EXE_zhisu-server"))
        .arg("--data-dir")
        .arg(&data)
        .arg("--questionnaires")
        .arg(root().join("questionnaires"))
        .args(["round-key", "--round", "2026"])
        .output()
        .unwrap();
    assert!(made.status.success());
    let secret = zhisu_protocol::sealed::RoundSecretKey::from_hex(
        "2026",
        &std::fs::read_to_string(data.join("round-keys/2026.key")).unwrap(),
    )
    .unwrap();

    let source = std::fs::read_to_string(root().join("questionnaires/pilot.toml")).unwrap();
    let q = Questionnaire::from_toml("pilot.toml", &source).unwrap();
    let key_dir = dir.path().join("key");
    let key = load_or_create_key_file(&key_dir).unwrap();
    let mut device = DeviceStore::open(&dir.path().join("device.sqlite3"), &key).unwrap();
    device.save_round_key(Some(&secret.public_key())).unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 12, 3, 8, 0, 0).unwrap();
    let id = device
        .start_interview(&q, &NewInterview::new(Uuid::from_u128(77), t0, 480))
        .unwrap();
    for (item, value) in [
        ("age", AnswerValue::Integer(41)),
        ("employer_duty", AnswerValue::Bool(true)),
        ("noise", AnswerValue::Choice("earplugs".into())),
        (
            "confined_space",
            AnswerValue::Choices(vec!["ventilate".into()]),
        ),
    ] {
        device.save_answer(&q, id, item, &value, t0).unwrap();
    }
    let sent = device.complete_interview(&q, id, t0).unwrap();
    assert!(
        device.answers(id).unwrap().is_empty(),
        "sealed on the device"
    );
    let backup = dir.path().join("backup.sqlite3");
    device.export_backup(&backup).unwrap();
    assert!(zhisu_store::read_backup(&backup, Some(&key))
        .unwrap()
        .is_empty());
    assert_eq!(
        zhisu_store::read_sealed_backup(&backup, Some(&key))
            .unwrap()
            .len(),
        1
    );

    let key_file = key_dir.join(zhisu_store::KEY_FILE_NAME);
    let (status, out) = import(&data, Some(&key_file), &backup);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("1 interviews: 1 stored"), "{out}");
    let db = SqliteStorage::open(&data.join("zhisu-server.sqlite3")).unwrap();
    let stored = db.interviews(&Scope::All).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].interview, sent);
    assert_eq!(stored[0].score.score, q.score(&sent.answers).score);
}
