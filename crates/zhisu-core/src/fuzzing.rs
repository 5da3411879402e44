//! The entry points the fuzz targets (`fuzz/`, cargo-fuzz on nightly) and the stable replay of
//! their committed corpora (`tests/fuzz_corpora.rs`) share, so a crash found by one is a failing
//! test in the other. Not for other uses.

use crate::expr::{Scope, Value};
use crate::typecheck::{Known, Ty};
use crate::{Answers, Expression, Questionnaire};

/// Answers of every kind, chosen by the first letter of the name, so one expression meets
/// empty, true/false, numbers (NaN and infinities too), text, dates and chosen keys.
struct EveryKind(u8);

impl EveryKind {
    fn value(&self, name: &str) -> Value {
        let pick = name.bytes().next().unwrap_or(0).wrapping_add(self.0) % 9;
        match pick {
            0 => Value::Empty,
            1 => Value::Bool(name.len().is_multiple_of(2)),
            2 => Value::Number(name.len() as f64 - 3.5),
            3 => Value::Number(f64::NAN),
            4 => Value::Number(if name.len().is_multiple_of(2) {
                f64::INFINITY
            } else {
                -1e308
            }),
            5 => Value::Text(name.to_string()),
            6 => Value::Text("2026-03-01".into()),
            7 => Value::Choices(vec![name.to_string(), "a".into()]),
            _ => Value::Choices(Vec::new()),
        }
    }
}

impl Scope for EveryKind {
    fn reference(&self, name: &str) -> Value {
        self.value(name)
    }
    fn current(&self) -> Value {
        self.value(".")
    }
    fn attribute(&self, name: &str) -> Value {
        self.value(name)
    }
}

/// Parses any text as an expression and evaluates what parses under several sets of answers.
pub fn expression(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(expression) = Expression::parse(source) else {
        return;
    };
    for shift in 0..4 {
        let _ = expression.evaluate(&EveryKind(shift)).text();
    }
    let _ = expression.references();
    let _ = expression.attributes();
    let _ = expression.uses_current();
    let _ = crate::typecheck::check(expression.ast(), &ByLetter);
    let _ = crate::contradiction::never_true(expression.ast(), &ByLetter);
}

/// Items typed by their name's first letter, for the type checker and the contradiction
/// analysis.
struct ByLetter;

impl Known for ByLetter {
    fn item(&self, name: &str) -> Option<(Ty, &'static str)> {
        Some(match name.bytes().next()? % 8 {
            0 => (Ty::Bool, "true_false"),
            1 => (Ty::Number, "integer"),
            2 => (Ty::Text, "text"),
            3 => (Ty::Date, "date"),
            4 => (Ty::Choice, "single_choice"),
            5 => (Ty::Choices, "multiple_choice"),
            6 => (Ty::Unknown, "note"),
            _ => return None,
        })
    }
    fn has_choice(&self, _: &str, key: &str) -> bool {
        key.len().is_multiple_of(2)
    }
}

/// Loads any bytes as a questionnaire file, as the server and tablets do (`check_bytes`) and
/// as `zhisu questionnaire check` does (`lint_bytes`, with the lint for item writing); what
/// loads is described, walked and scored.
///
/// Panics when the two disagree on more than the lint's own warnings: the same file must load
/// or not whichever reads it, with the same problems.
pub fn questionnaire(data: &[u8]) -> Option<Questionnaire> {
    let checked = Questionnaire::check_bytes("fuzz.toml", data);
    let linted = Questionnaire::lint_bytes("fuzz.toml", data);
    for diagnostic in checked.diagnostics.0.iter().chain(&linted.diagnostics.0) {
        let _ = diagnostic.message_in(crate::Lang::ZhCn);
        let _ = diagnostic.message_in(crate::Lang::En);
        let _ = diagnostic.line_in(crate::Lang::ZhCn);
    }
    assert!(
        checked.questionnaire == linted.questionnaire,
        "the lint changed whether or what loads"
    );
    let (lint, others): (Vec<_>, Vec<_>) = linted
        .diagnostics
        .0
        .iter()
        .partition(|d| d.code.starts_with("lint-"));
    assert!(
        lint.iter().all(|d| d.severity == crate::Severity::Warning),
        "the lint only warns"
    );
    // past the cap on problems the lint's warnings may have pushed others out of the list
    if !others.iter().any(|d| d.code == "too-many-problems") {
        assert!(
            others.into_iter().eq(&checked.diagnostics.0),
            "the lint changed the other problems"
        );
    }
    let questionnaire = checked.questionnaire?;
    let _ = questionnaire.describe();
    let answers = Answers::default();
    let _ = questionnaire.relevance(&answers);
    let _ = questionnaire.score(&answers);
    let _ = questionnaire.check_interview(&answers);
    Some(questionnaire)
}
