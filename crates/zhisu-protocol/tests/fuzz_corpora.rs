//! The committed `upload` fuzz corpus (`fuzz/corpus/upload`) replayed on stable through the
//! entry point the fuzz target calls.
use std::path::PathBuf;

use zhisu_core::Questionnaire;

#[test]
fn upload_corpus_decodes_or_is_refused() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let pilot = std::fs::read_to_string(root.join("questionnaires/pilot.toml")).unwrap();
    let pilot = Questionnaire::from_toml("pilot.toml", &pilot).unwrap();
    let dir = root.join("fuzz/corpus/upload");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        zhisu_protocol::fuzzing::upload(&bytes, &pilot);
        count += 1;
    }
    assert!(count >= 4, "corpus missing");
}
