//! A round's key pair: made once and never replaced, private (0600), required before the
//! round's tablets are enrolled, and a damaged key file stops the server instead of leaving
//! sealed interviews unreadable without a word.
#![cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn server(data: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_zhisu-server"))
        .arg("--data-dir")
        .arg(data)
        .arg("--questionnaires")
        .arg(root().join("questionnaires"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

#[test]
fn a_round_needs_a_usable_key_pair_that_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let code = ["enrolment-code", "--round", "2026", "--district", "yuzhong"];

    let (ok, out) = server(&data, &code);
    assert!(!ok, "no enrolment before the round has a key pair: {out}");
    assert!(out.contains("round-key --round 2026"), "{out}");

    let (ok, out) = server(&data, &["round-key", "--round", "2026"]);
    assert!(ok, "{out}");
    assert!(out.contains("public key"), "{out}");
    let key_file = data.join("round-keys/2026.key");
    let first = std::fs::read_to_string(&key_file).unwrap();
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = std::fs::metadata(data.join("round-keys"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);

    let (ok, out) = server(&data, &["round-key", "--round", "2026"]);
    assert!(!ok && out.contains("never replaced"), "{out}");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), first);

    let (ok, out) = server(&data, &code);
    assert!(ok, "{out}");

    // a damaged key file: the server does not start
    std::fs::write(&key_file, "damaged").unwrap();
    let (ok, out) = server(&data, &["devices"]);
    assert!(!ok, "{out}");
    assert!(out.contains("not usable"), "{out}");
}
