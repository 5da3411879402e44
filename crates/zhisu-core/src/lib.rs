//! The pure core of Zhisu: the questionnaire model, loading and validating questionnaire files,
//! checking answers, scoring an interview and the quality-control flags on how it was done.
//!
//! Architecture invariant: this crate does no I/O, reads no clock and draws no random numbers.
//! It builds for `wasm32-unknown-unknown`, so the tablet (frontend) and the central server run the
//! very same code, and a score shown to a respondent cannot differ from the one reported.
#![forbid(unsafe_code)]

mod answer;
mod backcheck;
mod background;
mod check;
mod contradiction;
mod describe;
mod disposition;
pub mod enrol_uri;
pub mod expr;
mod fingerprint;
#[doc(hidden)]
pub mod fuzzing;
mod interview;
pub mod learn_link;
mod load;
mod measures;
mod model;
mod paradata;
mod pictures;
pub mod quiz;
mod recontact;
mod reference;
mod score;
mod text;
mod typecheck;
mod version;

pub use answer::{AnswerError, AnswerValue, Answers, InterviewProblem};
pub use backcheck::{
    answer_text, answers_agree, compare_backcheck, Agreement, BackcheckComparison,
    BackcheckDifference,
};
pub use background::{age_band, Background, BackgroundRole, AGE_BANDS, DEFAULT_FINGERPRINT};
pub use describe::{Description, ModuleDescription};
pub use disposition::{Disposition, ScreenedOut, CONSENT_ITEM};
pub use expr::{ExprError, ExprErrorKind, Expression, MAX_EXPRESSION_BYTES, MAX_EXPRESSION_DEPTH};
pub use fingerprint::FINGERPRINT_HEX_DIGITS;
pub use interview::EligibilityStatus;
pub use load::{limits, Checked, Diagnostic, Diagnostics, DiagnosticsList, Severity};
pub use measures::{answer_key, Measured};
pub use model::{
    Choice, Constraint, Dimension, Eligibility, Item, ItemKind, Module, Questionnaire,
    RecordingSlot, ScoringRule, Section,
};
pub use paradata::{
    distance_m, flags_from_answers, flags_from_paradata, location_flag, qc_flags, AnswerEvent,
    ItemParadata, Location, MaterialOffered, Paradata, QcFlag, QcThresholds, ScreenVisit,
};
pub use pictures::{builtin_picture_alt, BUILTIN_PICTURES};
pub use recontact::{
    contact_line, normalize_call_name, normalize_phone, PhoneProblem, MAX_CALL_NAME_CHARS,
    RECONTACT_TEXT_VERSION,
};
pub use reference::{interview_reference, parse_reference, REFERENCE_HEX_DIGITS};
pub use score::{
    DimensionScore, ItemOutcome, ItemResult, ModuleScore, ScoreReport, ScoredItemOptions,
    DONT_KNOW_OPTION,
};
pub use text::{escape_hidden, is_hidden, is_invisible, shown, Lang, Text, DEFAULT_LANGUAGE};
pub use version::compare_versions;
