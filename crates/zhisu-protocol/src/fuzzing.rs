//! The entry point the `upload` fuzz target (`fuzz/`, cargo-fuzz on nightly) and the stable
//! replay of its committed corpus (`tests/fuzz_corpora.rs`) share. Not for other uses.

use zhisu_core::Questionnaire;

use crate::UploadRequest;

/// Decodes any bytes as an upload body the way the server does (JSON into [`UploadRequest`]);
/// a batch that decodes is hashed, checked and scored against `questionnaire` like the server's
/// ingest, and must come back unchanged from a round trip through JSON.
pub fn upload(data: &[u8], questionnaire: &Questionnaire) {
    let Ok(request) = serde_json::from_slice::<UploadRequest>(data) else {
        return;
    };
    for interview in &request.interviews {
        let _ = interview.hash_is_valid();
        let _ = questionnaire.check_interview(&interview.answers);
        let _ = questionnaire.score(&interview.answers);
        if let Some(paradata) = &interview.paradata {
            let _ = zhisu_core::flags_from_paradata(paradata, &Default::default());
        }
    }
    let json = serde_json::to_vec(&request).expect("a decoded upload encodes again");
    let again: UploadRequest = serde_json::from_slice(&json).expect("an encoded upload decodes");
    assert_eq!(again, request, "an upload changed in a JSON round trip");
}
