//! The limits a questionnaire file must keep (documented in `questionnaires/README.md`). Each
//! bounds the work or memory of loading, so no file can hang or exhaust a tablet; a file past a
//! limit gets a diagnostic saying which one.

pub use crate::expr::{MAX_EXPRESSION_BYTES, MAX_EXPRESSION_DEPTH};

/// The largest file, in bytes (the national questionnaire is about 150 KB).
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;
/// Deepest nesting of lists and tables in the TOML itself (`a = [[[1]]]` is 3 deep): the limit
/// of the `toml` parser, which reports "max recursion depth met" past it; `tests/limits.rs`
/// checks that the figure here is the parser's.
pub const MAX_TOML_NESTING: usize = 80;
/// Most items in one questionnaire.
pub const MAX_ITEMS: usize = 50_000;
/// Most choices in one choice list.
pub const MAX_CHOICES_PER_LIST: usize = 100_000;
/// Most choices over all items together (a list used by several items counts for each).
pub const MAX_CHOICES_OVER_ITEMS: usize = 1_000_000;
/// The longest text (a label, hint, explanation or message) in one language, in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// The longest id, choice key, language, population or attribute, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// The longest version, in characters.
pub const MAX_VERSION_CHARS: usize = 32;
/// The longest media path, in characters.
pub const MAX_MEDIA_PATH_CHARS: usize = 200;
/// Most points one item may be worth.
pub const MAX_POINTS_PER_ITEM: u32 = 1_000;
/// Most points a questionnaire may be worth in total.
pub const MAX_TOTAL_POINTS: u64 = 1_000_000;
/// Most searches for "did you mean" among the names of one file (each looks through at most
/// 500 names); later misspellings get the instruction without a suggestion.
pub const MAX_SUGGESTIONS: usize = 200;
/// Most problems reported for one file; the rest are counted in a last line.
pub const MAX_DIAGNOSTICS: usize = 1_000;
