//! Malformed questionnaires: every problem is reported with its line and column, never a panic.
//! Questionnaires that load but are badly written (`fixtures/lint`): the lint's warnings.
//!
//! Each `fixtures/malformed/NAME.toml` sits beside `NAME.diagnostics` (English, `zhisu
//! questionnaire check --lang en`) and `NAME.zh-CN.diagnostics` (the checker's default output).
//! Run with `UPDATE_SNAPSHOTS=1` to rewrite the snapshots after an intended change, then review
//! the diff. Files named `warnings*` among the malformed hold only warnings (legal but odd) and
//! must load.
use std::path::{Path, PathBuf};

use zhisu_core::{Lang, Questionnaire};

fn fixtures(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
}

/// What `zhisu questionnaire check` prints (the lint included); malformed files must not load,
/// lint files must.
fn diagnostics_of(path: &Path, lang: Lang, malformed: bool) -> String {
    let name = path.file_name().unwrap().to_str().unwrap();
    let bytes = std::fs::read(path).unwrap();
    let checked = Questionnaire::lint_bytes(name, &bytes);
    if malformed && name.starts_with("warnings") {
        // legal but odd: warnings only, and the file loads
        assert!(checked.questionnaire.is_some(), "{name}: must load");
        assert!(!checked.diagnostics.has_errors(), "{name}: warnings only");
        assert!(checked.diagnostics.warnings().next().is_some(), "{name}");
    } else if malformed {
        assert!(
            checked.questionnaire.is_none(),
            "{name}: a malformed questionnaire must not load"
        );
    }
    if !malformed {
        assert!(checked.questionnaire.is_some(), "{name}: must load");
        assert!(checked
            .diagnostics
            .warnings()
            .all(|d| d.code.starts_with("lint-")));
    }
    checked.diagnostics.lines_in(lang).to_string()
}

#[test]
fn malformed_fixtures_match_their_snapshots() {
    snapshots("malformed", 5);
}

#[test]
fn lint_fixtures_match_their_snapshots() {
    snapshots("lint", 1);
}

fn snapshots(dir: &str, at_least: usize) {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut checked = 0;
    let mut mismatches = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        for (lang, extension) in [(Lang::En, "diagnostics"), (Lang::ZhCn, "zh-CN.diagnostics")] {
            let actual = diagnostics_of(&path, lang, dir == "malformed");
            let snapshot = path.with_extension(extension);
            let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
            if update {
                std::fs::write(&snapshot, &actual).unwrap();
            } else if actual != expected {
                mismatches.push(format!(
                    "{}\n--- expected\n{expected}--- actual\n{actual}",
                    snapshot.display()
                ));
            }
        }
        checked += 1;
    }
    assert!(checked >= at_least, "fixtures missing");
    assert!(
        mismatches.is_empty(),
        "diagnostics differ (UPDATE_SNAPSHOTS=1 to accept):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn garbage_never_panics() {
    for source in [
        "",
        "\u{0}",
        "[[items]]",
        "items = 3",
        "id = 1",
        "[[[",
        "title = {",
        "id = \"a\"\nversion = \"1\"\nlanguages = []\ntitle = {}\nitems = []",
    ] {
        assert!(
            Questionnaire::from_toml("bad.toml", source).is_err(),
            "{source:?}"
        );
    }
}
