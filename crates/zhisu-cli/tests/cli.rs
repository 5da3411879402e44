//! The `zhisu` binary as an author runs it.
use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn zhisu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zhisu"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn check_passes_the_shipped_questionnaires() {
    let output = zhisu(&["questionnaire", "check", "questionnaires"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let out = stdout(&output);
    assert!(
        out.contains("questionnaires/ohl_2026.toml: ok (ohl_2026 2026.1"),
        "{out}"
    );
    assert!(out.contains("questionnaires/pilot.toml: ok"), "{out}");
}

#[test]
fn check_prints_every_problem_and_fails_in_chinese_or_english() {
    let dir = "crates/zhisu-core/tests/fixtures/malformed";
    for (args, suffix) in [
        (vec!["questionnaire", "check", dir], ".zh-CN.diagnostics"),
        (
            vec!["--lang", "en", "questionnaire", "check", dir],
            ".diagnostics",
        ),
    ] {
        let output = zhisu(&args);
        assert_eq!(output.status.code(), Some(1));
        // the same lines as the core's snapshots, with the path as given
        let mut expected = String::new();
        let mut snapshots: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_str().unwrap();
                name.ends_with(suffix)
                    && (suffix != ".diagnostics" || !name.ends_with(".zh-CN.diagnostics"))
            })
            .collect();
        snapshots.sort();
        for snapshot in snapshots {
            for line in std::fs::read_to_string(snapshot).unwrap().lines() {
                expected.push_str(&format!("{dir}/{line}\n"));
            }
        }
        assert_eq!(stdout(&output), expected, "{args:?}");
    }
}

#[test]
fn describe_json_summarises_the_questionnaire() {
    let output = zhisu(&[
        "questionnaire",
        "describe",
        "questionnaires/ohl_2026.toml",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let d: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(d["id"], "ohl_2026");
    assert_eq!(d["languages"], serde_json::json!(["zh-CN", "en"]));
    assert_eq!(d["literacy_threshold_percent"], 80);
    assert_eq!(d["modules"].as_array().unwrap().len(), 8);
    let by_dimension = d["max_score_by_dimension"].as_object().unwrap();
    let sum: u64 = by_dimension.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(d["max_score"].as_u64().unwrap(), sum);
    assert_eq!(
        d["literacy_cut_score"].as_u64().unwrap(),
        (sum * 80).div_ceil(100)
    );
    let text = zhisu(&["questionnaire", "describe", "questionnaires/pilot.toml"]);
    assert_eq!(text.status.code(), Some(0));
    assert!(stdout(&text).contains("national test: max 4 points, literate at 80 % = 4 points"));
}

#[test]
fn unreadable_paths_fail_with_status_2() {
    let output = zhisu(&["questionnaire", "check", "no/such/file.toml"]);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(err.contains("cannot read no/such/file.toml"), "{err}");
}
