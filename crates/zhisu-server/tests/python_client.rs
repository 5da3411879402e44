//! The protocol's second implementation: the Python reference client
//! (`clients/python/zhisu_client.py`, standard library only, written from
//! `docs/sync-protocol.md`) checks every test vector of `docs/protocol-vectors/`, then enrols,
//! reads its assignment and questionnaires, uploads interviews it wrote its own way (Python's
//! `\uXXXX` escapes, timestamps with `+08:00`) and reads the receipts, against the real server
//! on a loopback port. `scripts/install-deps.sh` installs python3.
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use uuid::Uuid;
use zhisu_core::Questionnaire;
use zhisu_protocol::HashRule;
use zhisu_server_storage::Scope;
use zhisu_server_tests::generate::{self, Respondent, Rng};

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python(args: &[&str]) -> std::process::Output {
    Command::new("python3")
        .arg(repository().join("clients/python/zhisu_client.py"))
        .args(args)
        .output()
        .expect("python3 runs (scripts/install-deps.sh installs it)")
}

#[test]
fn the_python_client_verifies_every_vector() {
    let vectors = repository().join("docs/protocol-vectors");
    let count = std::fs::read_dir(&vectors)
        .unwrap()
        .filter(|e| {
            let name = e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .to_string();
            name.ends_with(".json") && !name.ends_with(".canonical.json")
        })
        .count();
    assert!(count >= 10);
    let output = python(&["verify-vectors", vectors.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!("{count} passed, 0 failed")),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_client_enrols_uploads_and_reads_its_receipts() {
    let dir = tempfile::tempdir().unwrap();
    let state = zhisu_server::open_sqlite(
        &dir.path().join("server.sqlite3"),
        &zhisu_server_tests::questionnaires_dir(),
    )
    .unwrap();
    let pieces = state.load_starter_library().unwrap();
    state
        .replace_sites(
            "yuzhong",
            vec![zhisu_protocol::Site {
                id: "yz-1".into(),
                district: "yuzhong".into(),
                name: "解放碑某工地".into(),
                site_type: "enterprise".into(),
                stratum: Some("urban".into()),
                weight: Some(40.0),
                ..Default::default()
            }],
            "test",
        )
        .unwrap();
    let code = state
        .create_enrolment_code("2026", "yuzhong", chrono::Duration::days(1), "test")
        .unwrap();
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;

    // interviews of a real questionnaire, as data: the client writes and hashes them itself
    let path = zhisu_server_tests::questionnaires_dir().join("ohl_2026.toml");
    let q =
        Questionnaire::from_toml("ohl_2026.toml", &std::fs::read_to_string(path).unwrap()).unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-20T01:00:00.5Z")
        .unwrap()
        .to_utc();
    let written: Vec<Value> = (0..3u128)
        .map(|n| {
            let who = Respondent {
                population: "construction",
                sex: "female",
                age: 30 + n as i64,
                education: "junior",
                industry: "construction",
                ability: 70,
                straight_line: false,
            };
            let answers = generate::answers(&q, &who, &mut Rng::new(n as u64 + 1));
            let interview =
                generate::interview(&q, Uuid::from_u128(500 + n), answers, start, 1501, None);
            let mut value = serde_json::to_value(&interview).unwrap();
            value.as_object_mut().unwrap().remove("content_hash");
            value
        })
        .collect();
    let file = dir.path().join("interviews.json");
    std::fs::write(&file, serde_json::to_string(&written).unwrap()).unwrap();

    let args = [
        "run".to_string(),
        "--server".into(),
        base.clone(),
        "--code".into(),
        code.clone(),
        "--interviews".into(),
        file.to_string_lossy().to_string(),
    ];
    let output = tokio::task::spawn_blocking(move || {
        python(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["district"], "yuzhong");
    // the library the assignment names, its digest checked from the document's rule
    assert_eq!(
        summary["library"],
        serde_json::json!({ "pieces": pieces, "same_digest": true })
    );
    assert_eq!(summary["sites"], serde_json::json!(["yz-1"]));
    assert!(summary["questionnaires"].as_u64().unwrap() > 0, "{summary}");
    assert_eq!(
        summary["first"],
        serde_json::json!(["stored", "stored", "stored"])
    );
    assert_eq!(
        summary["again"],
        serde_json::json!(["already_stored", "already_stored", "already_stored"])
    );
    assert_eq!(summary["altered"]["status"], "rejected");
    assert_eq!(summary["altered"]["code"], "content_hash_mismatch");
    let message = summary["altered"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the hash of the canonical form differs: ")
            && message.contains("check"),
        "{message}"
    );
    assert_eq!(
        summary["bad_token"],
        serde_json::json!({ "status": 401, "code": "unauthorized" })
    );

    // what the server keeps: the same instants, the site, hashes by the canonical rule
    let stored = state.storage.interviews(&Scope::All).unwrap();
    assert_eq!(stored.len(), 3);
    for kept in &stored {
        let i = &kept.interview;
        assert_eq!(i.check_content_hash(), Ok(HashRule::Canonical));
        assert_eq!(i.started_at, start);
        assert_eq!(i.site_id.as_deref(), Some("yz-1"));
        assert_eq!(kept.district.as_deref(), Some("yuzhong"));
        let sent = written
            .iter()
            .find(|w| w["id"] == i.id.to_string())
            .unwrap();
        assert_eq!(serde_json::to_value(&i.answers).unwrap(), sent["answers"]);
    }
}
