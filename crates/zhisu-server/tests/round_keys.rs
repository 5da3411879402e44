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

/// Through HTTP as the binary serves (keys required): the API and the dashboard's printable
/// sheet make enrolment codes only for a round whose key pair the server holds, and say what
/// to do otherwise.
#[tokio::test]
async fn enrolment_codes_over_http_need_the_rounds_key_pair() {
    let dir = tempfile::tempdir().unwrap();
    let state = zhisu_server::open_sqlite(
        &dir.path().join("server.sqlite3"),
        &root().join("questionnaires"),
    )
    .unwrap();
    state
        .add_person(
            "city",
            "市疾控",
            "a-long-password",
            zhisu_server_storage::Role::CityAdmin,
            "test",
        )
        .unwrap();
    let mut http = zhisu_server::HttpState::new(state.clone());
    http.require_round_keys = true;
    http.add_round_key(zhisu_protocol::sealed::RoundSecretKey::generate(
        "2026",
        &mut zhisu_protocol::sealed::OsRng,
    ));
    let base = zhisu_server_tests::serve_on_loopback(http).await;
    let token = zhisu_server_tests::sign_in(&base, "city", "a-long-password").await;
    let client = reqwest::Client::new();
    let create = |round: &'static str| {
        client
            .post(format!("{base}/api/v1/enrolment-codes"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "round": round, "district": "yuzhong" }))
            .send()
    };
    let refused = create("2027").await.unwrap();
    assert_eq!(refused.status(), 409);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "round_key_missing");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("zhisu-server round-key --round 2027"),
        "{body}"
    );
    assert_eq!(create("2026").await.unwrap().status(), 201);

    // the printable sheet says the same, in Chinese, and prints no code
    let cookie = zhisu_server_tests::dashboard_sign_in(&base, "city", "a-long-password").await;
    let form = client
        .get(format!("{base}/dashboard/enrolment-sheet"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = zhisu_server_tests::csrf_of(&form);
    let page = client
        .post(format!("{base}/dashboard/enrolment-sheet"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("round", "2027"),
            ("district", "yuzhong"),
            ("count", "2"),
            ("valid_days", "7"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 409);
    let html = page.text().await.unwrap();
    assert!(html.contains("服务器上还没有 2027 轮的密钥"), "{html}");
    assert!(!html.contains("data-enrol-uri"), "no code printed");
}
