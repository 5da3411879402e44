//! Any bytes as the body of an upload (`POST /api/v1/interviews`): decoding never panics, and a
//! batch that decodes hashes, checks and scores against the pilot questionnaire, and survives a
//! round trip through JSON unchanged.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use zhisu_core::Questionnaire;

fn pilot() -> &'static Questionnaire {
    static PILOT: OnceLock<Questionnaire> = OnceLock::new();
    PILOT.get_or_init(|| {
        Questionnaire::from_toml("pilot.toml", include_str!("../../questionnaires/pilot.toml"))
            .expect("the pilot questionnaire loads")
    })
}

fuzz_target!(|data: &[u8]| {
    zhisu_protocol::fuzzing::upload(data, pilot());
});
