//! Any text as an expression: parsing never panics or overflows the stack, and what parses
//! evaluates (against answers of every kind) without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    zhisu_core::fuzzing::expression(data);
});
