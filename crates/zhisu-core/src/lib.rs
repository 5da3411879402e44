//! The pure core of Zhisu: the questionnaire model, loading and validating questionnaire files,
//! checking answers and scoring an interview.
//!
//! Architecture invariant: this crate does no I/O, reads no clock and draws no random numbers.
//! It builds for `wasm32-unknown-unknown`, so the tablet (frontend) and the central server run the
//! very same code, and a score shown to a respondent cannot differ from the one reported.
#![forbid(unsafe_code)]

mod answer;
mod load;
mod model;
mod score;
mod text;

pub use answer::{AnswerError, AnswerValue, Answers, InterviewProblem};
pub use load::{Diagnostic, Diagnostics};
pub use model::{Choice, Dimension, Item, ItemKind, Questionnaire, ScoringRule};
pub use score::{DimensionScore, ItemResult, ScoreReport};
pub use text::{Text, DEFAULT_LANGUAGE};
