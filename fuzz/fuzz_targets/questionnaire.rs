//! Any bytes as a questionnaire file: loading (with and without the lint for item writing, which
//! must agree but for the lint's warnings) returns a questionnaire or diagnostics, never a
//! panic, a stack overflow or a hang; what loads can be described and sent as JSON.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    zhisu_core::fuzzing::questionnaire(data);
});
