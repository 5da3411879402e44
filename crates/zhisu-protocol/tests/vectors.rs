//! The test vectors of `docs/protocol-vectors/`: each interview, as some writer wrote it
//! (Python's `\uXXXX` escapes, indentation, any key order, numbers spelled `1.2E1` or `3.000`,
//! timestamps with offsets and any number of fraction digits), parses to the canonical form
//! beside it, and its `content_hash` is the SHA-256 of that form and verifies. The Python
//! reference client checks the same files (`clients/python/zhisu_client.py verify-vectors`).
use std::path::PathBuf;

use zhisu_protocol::{sha256_hex, CompletedInterview, HashRule};

fn vectors() -> Vec<(String, String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/protocol-vectors");
    let mut found: Vec<(String, String, String)> = std::fs::read_dir(&dir)
        .expect("docs/protocol-vectors")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.ends_with(".json") && !name.ends_with(".canonical.json")
        })
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let canonical = path.with_file_name(name.replace(".json", ".canonical.json"));
            (
                name,
                std::fs::read_to_string(&path).unwrap(),
                std::fs::read_to_string(&canonical).expect("a .canonical.json beside each vector"),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn every_vector_parses_to_its_canonical_form_and_verifies() {
    let vectors = vectors();
    assert!(vectors.len() >= 10, "{} vectors", vectors.len());
    for (name, sent, canonical) in &vectors {
        let interview: CompletedInterview =
            serde_json::from_str(sent).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&interview.canonical_form(), canonical, "{name}");
        assert_eq!(
            interview.content_hash,
            sha256_hex(canonical.as_bytes()),
            "{name}: the vector's hash is the SHA-256 of its canonical form"
        );
        assert_eq!(interview.canonical_hash(), interview.content_hash, "{name}");
        assert_eq!(
            interview.check_content_hash(),
            Ok(HashRule::Canonical),
            "{name}"
        );
        // the canonical form is itself an interview with the same canonical form
        let again: CompletedInterview = serde_json::from_str(&format!(
            "{},\"content_hash\":\"{}\"}}",
            canonical.strip_suffix('}').unwrap(),
            interview.content_hash
        ))
        .unwrap();
        assert_eq!(again.canonical_form(), *canonical, "{name}");
    }
}

#[test]
fn the_same_interview_written_three_ways_has_one_hash() {
    let hashes: Vec<String> = vectors()
        .into_iter()
        .filter(|(name, _, _)| {
            ["06-", "07-", "08-"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
        })
        .map(|(_, sent, _)| {
            serde_json::from_str::<CompletedInterview>(&sent)
                .unwrap()
                .content_hash
        })
        .collect();
    assert_eq!(hashes.len(), 3);
    assert!(hashes.iter().all(|h| *h == hashes[0]), "{hashes:?}");
}

/// The document's example of the original rule (docs/sync-protocol.md, "The original rule").
#[test]
fn the_first_vector_under_the_original_rule_is_the_documented_hash() {
    let (name, sent, _) = vectors().into_iter().next().unwrap();
    assert_eq!(name, "01-minimal.json");
    let mut interview: CompletedInterview = serde_json::from_str(&sent).unwrap();
    assert_eq!(
        interview.original_hash(),
        "sha256:a9bc5bbaed5a6b00d0cf18d4fed5f1eb5d88f1aab28c25d286085ad36ebe6d66"
    );
    interview.content_hash = interview.original_hash();
    assert_eq!(interview.check_content_hash(), Ok(HashRule::Original));
}

#[test]
fn a_changed_vector_is_refused_with_what_to_check() {
    let (_, sent, _) = vectors().into_iter().next().unwrap();
    let mut interview: CompletedInterview = serde_json::from_str(&sent).unwrap();
    let expected = interview.canonical_hash();
    interview.questionnaire_version = "2026.2".into();
    let mismatch = interview.check_content_hash().unwrap_err();
    assert_ne!(mismatch.expected, expected);
    assert_eq!(mismatch.expected, interview.canonical_hash());
    let message = mismatch.to_string();
    assert!(
        message.starts_with("the hash of the canonical form differs: "),
        "{message}"
    );
    assert!(message.contains(&mismatch.expected), "{message}");
    assert!(message.contains("check "), "{message}");
    assert!(!message.contains("damaged"), "{message}");
}
