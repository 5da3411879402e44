//! Valid interviews of a real questionnaire for tests: the demonstration round's generator
//! (`zhisu_server_service::demo`), with generated answers asserted valid.

use zhisu_core::{Answers, Questionnaire};
pub use zhisu_server_service::demo::{interview, Respondent};

pub use crate::Rng;

/// Answers for one respondent, valid for `q` (checked with `check_interview`).
pub fn answers(q: &Questionnaire, who: &Respondent<'_>, rng: &mut Rng) -> Answers {
    let (answers, problems) = zhisu_server_service::demo::answers(q, who, rng);
    assert!(
        problems.is_empty(),
        "generated answers are invalid: {problems:?}"
    );
    answers
}
