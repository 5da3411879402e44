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
        out.contains("questionnaires/ohl_2026.toml: ok (ohl_2026 2026.2"),
        "{out}"
    );
    assert!(out.contains("questionnaires/pilot.toml: ok"), "{out}");
}

/// The current versions pass the item-writing lint as well (the files of replaced versions in
/// questionnaires/earlier/ stay as they were published, warnings and all).
#[test]
fn the_current_questionnaires_pass_the_strict_check() {
    let output = zhisu(&["questionnaire", "check", "--strict", "questionnaires"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    for file in ["ohl_2026.toml", "ohl_intercept.toml", "pilot.toml"] {
        assert!(out.contains(&format!("questionnaires/{file}: ok")), "{out}");
    }
    assert!(!out.contains("earlier"), "{out}");
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
            for line in std::fs::read_to_string(&snapshot).unwrap().lines() {
                expected.push_str(&format!("{dir}/{line}\n"));
            }
            // a warnings* fixture loads (warnings only): the checker says so after them
            let name = snapshot.file_name().unwrap().to_str().unwrap();
            if name.starts_with("warnings") {
                let file = format!("{}.toml", name.strip_suffix(suffix).unwrap());
                let bytes = std::fs::read(snapshot.with_file_name(&file)).unwrap();
                let q = zhisu_core::Questionnaire::from_bytes(&file, &bytes).unwrap();
                expected.push_str(&format!(
                    "{dir}/{file}: ok ({} {}, {} items)\n",
                    q.id,
                    q.version,
                    q.items.len()
                ));
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
    assert_eq!(d["modules"].as_array().unwrap().len(), 9);
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

/// The hand-worked example of docs/statistics.md ("Item analysis"), read back from an export.
#[test]
fn analyse_gives_the_hand_worked_figures_from_an_export() {
    let dir = "crates/zhisu-cli/tests/fixtures";
    let output = zhisu(&[
        "questionnaire",
        "analyse",
        "--questionnaire",
        &format!("{dir}/item_analysis.toml"),
        &format!("{dir}/item_analysis.csv"),
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let v: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let a = &v["analysis"];
    assert_eq!(a["respondents"], 5);
    let close = |x: &serde_json::Value, y: f64| {
        assert!((x.as_f64().unwrap() - y).abs() < 1e-9, "{x} ≠ {y}");
    };
    let items = a["items"].as_array().unwrap();
    for (item, (p, r, without)) in items.iter().zip([
        (0.8, 1.0 / (0.8f64 * 2.0).sqrt(), -0.4),
        (0.6, 0.4 / (1.2f64 * 2.8).sqrt(), 2.0 * (1.0 - 0.5 / 0.7)),
        (0.4, 0.2 / (1.2f64 * 3.2).sqrt(), 0.75),
    ]) {
        close(&item["difficulty"], p);
        close(&item["discrimination"], r);
        close(&item["alpha_if_deleted"], without);
        assert_eq!(item["n"], 5);
    }
    close(&a["groups"][0]["alpha"], 0.5);
    // options of a true/false item: true and false, with the shares that chose them
    assert_eq!(
        items[0]["options"],
        serde_json::json!([["true", 0.8], ["false", 0.2]])
    );
    assert_eq!(v["unread"], serde_json::json!([]));

    // the same in words, in English
    let output = zhisu(&[
        "--lang",
        "en",
        "questionnaire",
        "analyse",
        "--questionnaire",
        &format!("{dir}/item_analysis.toml"),
        &format!("{dir}/item_analysis.csv"),
    ]);
    let out = stdout(&output);
    assert!(
        out.contains("knowledge: α = 0.500 (3 items, n = 5)"),
        "{out}"
    );
    assert!(
        out.contains("i1 [knowledge] n = 5, p = 80.0%, r = 0.791, α−i = -0.400"),
        "{out}"
    );
    assert!(out.contains("fewer than 30 asked: no flags"), "{out}");
}

#[test]
fn analyse_shows_cells_it_cannot_read_and_refuses_an_export_of_another_questionnaire() {
    let dir = std::env::temp_dir().join(format!("zhisu-analyse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = root().join("crates/zhisu-cli/tests/fixtures");
    let q = fixtures.join("item_analysis.toml");
    // English labels read back too; "maybe" is no answer of a true/false item
    let csv = dir.join("en.csv");
    std::fs::write(
        &csv,
        "Interview id,Noise can damage hearing. (i1),A dust mask protects against dust. (i2)\n\
         r1,yes,no\nr2,maybe,yes\n",
    )
    .unwrap();
    let output = zhisu(&[
        "questionnaire",
        "analyse",
        "--questionnaire",
        q.to_str().unwrap(),
        csv.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        v["unread"],
        serde_json::json!([{"line": 3, "item": "i1", "cell": "maybe"}])
    );
    assert_eq!(v["missing_columns"], serde_json::json!(["i3"]));
    assert_eq!(v["analysis"]["items"][1]["difficulty"], 0.5);

    let other = dir.join("other.csv");
    std::fs::write(&other, "问卷编号,年龄（age）\nr1,30\n").unwrap();
    let output = zhisu(&[
        "questionnaire",
        "analyse",
        "--questionnaire",
        q.to_str().unwrap(),
        other.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(
        err.contains("no column of the export is a scored item of item_analysis_example"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn lint_warnings_pass_the_check_but_fail_it_with_strict() {
    let file = "crates/zhisu-core/tests/fixtures/lint/item_writing.toml";
    let output = zhisu(&["--lang", "en", "questionnaire", "check", file]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let out = stdout(&output);
    for code_words in [
        "worded negatively",
        "longest option in 4 of 4",
        "all/none of the above",
        "read the same",
        "opposite of the right answer",
        "two negations",
        "keep it under 120",
    ] {
        assert!(out.contains(code_words), "{code_words}: {out}");
    }
    let strict = zhisu(&["--lang", "en", "questionnaire", "check", "--strict", file]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&strict.stderr).contains("warnings fail the check with --strict")
    );
    // a questionnaire without lint findings passes --strict
    let clean = zhisu(&[
        "questionnaire",
        "check",
        "--strict",
        "questionnaires/pilot.toml",
    ]);
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
}

/// A release key made and a package signed as IT does: the signature verifies under the
/// printed public key for that platform, version and file only; the secret is readable by its
/// owner only and never overwritten.
#[test]
fn a_release_key_signs_packages_that_verify_under_its_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("release.key");
    let made = zhisu(&["update-key", "new", "--out", key.to_str().unwrap()]);
    assert_eq!(made.status.code(), Some(0), "{made:?}");
    let public = stdout(&made).trim().to_string();
    let trusted = [zhisu_protocol::update::parse_public_key(&public).unwrap()];
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = zhisu(&["update-key", "new", "--out", key.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2), "an existing key is kept");

    let package = dir.path().join("zhisu-app");
    let bytes = b"\x7fELF a new version".to_vec();
    std::fs::write(&package, &bytes).unwrap();
    let sig_file = dir.path().join("zhisu-app.sig");
    let signed = zhisu(&[
        "update",
        "sign",
        "--key",
        key.to_str().unwrap(),
        "--platform",
        "linux-x86_64-bin",
        "--version",
        "0.2.0",
        package.to_str().unwrap(),
        "--out",
        sig_file.to_str().unwrap(),
    ]);
    assert_eq!(signed.status.code(), Some(0), "{signed:?}");
    let signature = stdout(&signed).trim().to_string();
    assert_eq!(
        std::fs::read_to_string(&sig_file).unwrap().trim(),
        signature
    );
    let sha = zhisu_protocol::media_hash(&bytes);
    let verify = |platform: &str, version: &str| {
        zhisu_protocol::update::verify(
            &trusted,
            platform,
            version,
            bytes.len() as u64,
            &sha,
            &signature,
        )
    };
    assert_eq!(verify("linux-x86_64-bin", "0.2.0"), Ok(()));
    assert!(verify("linux-x86_64-bin", "0.2.1").is_err());
    assert!(verify("linux-x86_64-deb", "0.2.0").is_err());

    // a version or platform the tablets would not take is refused before signing
    for (platform, version) in [("linux-x86_64-bin", "v0.2"), ("mac", "0.2.0")] {
        let refused = zhisu(&[
            "update",
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--platform",
            platform,
            "--version",
            version,
            package.to_str().unwrap(),
        ]);
        assert_eq!(refused.status.code(), Some(2), "{platform} {version}");
    }
}
