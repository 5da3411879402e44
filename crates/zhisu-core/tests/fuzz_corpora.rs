//! The committed fuzz corpora (`fuzz/corpus/`) replayed on stable through the very entry points
//! the fuzz targets call, so every crash the fuzzers found and every seed stay tests in CI
//! without a nightly toolchain.
use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    inputs.sort();
    inputs
}

#[test]
fn questionnaire_corpus_loads_or_is_diagnosed() {
    let inputs = corpus("questionnaire");
    assert!(inputs.len() >= 5, "corpus missing");
    let mut loaded = 0;
    let mut linted = 0;
    for (_, bytes) in &inputs {
        loaded += usize::from(zhisu_core::fuzzing::questionnaire(bytes).is_some());
        let checked = zhisu_core::Questionnaire::lint_bytes("seed.toml", bytes);
        linted += usize::from(
            checked
                .diagnostics
                .warnings()
                .any(|d| d.code.starts_with("lint-")),
        );
    }
    // the shipped questionnaires among the seeds load
    assert!(loaded >= 2, "{loaded}");
    // and some seed gets as far as the lint, which the entry point runs too
    assert!(linted >= 1, "no seed reaches the lint");
}

#[test]
fn expression_corpus_parses_and_evaluates() {
    let inputs = corpus("expression");
    assert!(inputs.len() >= 5, "corpus missing");
    for (_, bytes) in &inputs {
        zhisu_core::fuzzing::expression(bytes);
    }
}
