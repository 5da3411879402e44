//! Type-checking an expression against the items it refers to: the same checker runs wherever
//! a questionnaire is loaded (checker, server, tablet). It finds what parses but cannot mean
//! what the author wanted: a true/false answer compared with text (`${consent} = 'yes'` is
//! true for any answer but "no"…, never what was meant), a number or date compared with text
//! that is not one, a choice key the item does not have, `selected()` on an item without
//! choices, arithmetic on text, division by a literal zero.
//!
//! Recursion follows the tree, whose depth the parser bounds ([`crate::MAX_EXPRESSION_DEPTH`]).

use crate::answer::is_date;
use crate::expr::{BinaryOp, Expr, Function};
use crate::ItemKind;

/// What an answer is, as expressions see it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Ty {
    Bool,
    Number,
    Text,
    Date,
    /// One key (single choice, likert).
    Choice,
    /// A set of keys (multiple choice).
    Choices,
    /// A note, an unknown item: nothing to check.
    Unknown,
}

impl Ty {
    pub(crate) fn of(kind: &ItemKind) -> Ty {
        match kind {
            ItemKind::TrueFalse => Ty::Bool,
            ItemKind::Integer { .. } | ItemKind::Decimal { .. } => Ty::Number,
            ItemKind::Text { .. } => Ty::Text,
            ItemKind::Date { .. } => Ty::Date,
            ItemKind::SingleChoice { .. } | ItemKind::Likert { .. } => Ty::Choice,
            ItemKind::MultipleChoice { .. } => Ty::Choices,
            ItemKind::Note => Ty::Unknown,
        }
    }
}

/// The items an expression may name. `.` is asked for as the name `"."`.
pub(crate) trait Known {
    /// The type and kind name of an item.
    fn item(&self, name: &str) -> Option<(Ty, &'static str)>;
    /// Whether a choice item has `key`.
    fn has_choice(&self, name: &str, key: &str) -> bool;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TypeProblem {
    TrueFalseWithText {
        item: String,
        text: String,
    },
    NumberWithText {
        item: String,
        text: String,
    },
    DateWithText {
        item: String,
        text: String,
    },
    DateWithNumber {
        item: String,
    },
    UnknownKey {
        item: String,
        /// The item's id as written (`.` for the item's own answer), to find its choices.
        name: String,
        key: String,
    },
    NotAChoiceItem {
        function: &'static str,
        item: String,
        kind: &'static str,
    },
    ArithmeticOn {
        item: String,
        kind: &'static str,
    },
    DivisionByZero,
}

/// Every type problem in `expr`, in the order met.
pub(crate) fn check(expr: &Expr, known: &dyn Known) -> Vec<TypeProblem> {
    let mut problems = Vec::new();
    walk(expr, known, &mut problems);
    problems
}

fn name_of(e: &Expr) -> Option<&str> {
    match e {
        Expr::Ref(name) => Some(name),
        Expr::Current => Some("."),
        _ => None,
    }
}

fn shown_name(name: &str) -> String {
    if name == "." {
        ".".into()
    } else {
        format!("${{{name}}}")
    }
}

fn is_zero(e: &Expr) -> bool {
    match e {
        Expr::Number(n) => *n == 0.0,
        Expr::Negate(inner) => is_zero(inner),
        _ => false,
    }
}

fn walk(expr: &Expr, known: &dyn Known, out: &mut Vec<TypeProblem>) {
    match expr {
        Expr::Binary(op, a, b) => {
            match op {
                BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge => {
                    compare(*op, a, b, known, out);
                    compare(*op, b, a, known, out);
                }
                BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
                    arithmetic(a, known, out);
                    arithmetic(b, known, out);
                    if matches!(op, BinaryOp::Div | BinaryOp::Mod) && is_zero(b) {
                        out.push(TypeProblem::DivisionByZero);
                    }
                }
                BinaryOp::And | BinaryOp::Or => {}
            }
            walk(a, known, out);
            walk(b, known, out);
        }
        Expr::Negate(inner) => {
            arithmetic(inner, known, out);
            walk(inner, known, out);
        }
        Expr::Call(function, args) => {
            let choice_function = match function {
                Function::Selected => Some("selected"),
                Function::CountSelected => Some("count-selected"),
                _ => None,
            };
            if let (Some(function), Some(name)) = (choice_function, args.first().and_then(name_of))
            {
                if let Some((ty, kind)) = known.item(name) {
                    if !matches!(ty, Ty::Choice | Ty::Choices | Ty::Unknown) {
                        out.push(TypeProblem::NotAChoiceItem {
                            function,
                            item: shown_name(name),
                            kind,
                        });
                    } else if let (Function::Selected, Some(Expr::Text(key))) =
                        (function_of(function), args.get(1))
                    {
                        if ty != Ty::Unknown && !known.has_choice(name, key) {
                            out.push(TypeProblem::UnknownKey {
                                item: shown_name(name),
                                name: name.to_string(),
                                key: key.clone(),
                            });
                        }
                    }
                }
            }
            for a in args {
                walk(a, known, out);
            }
        }
        _ => {}
    }
}

fn function_of(name: &str) -> Function {
    if name == "selected" {
        Function::Selected
    } else {
        Function::CountSelected
    }
}

fn arithmetic(e: &Expr, known: &dyn Known, out: &mut Vec<TypeProblem>) {
    let Some(name) = name_of(e) else { return };
    if let Some((ty, kind)) = known.item(name) {
        if matches!(ty, Ty::Text | Ty::Date | Ty::Choice | Ty::Choices) {
            out.push(TypeProblem::ArithmeticOn {
                item: shown_name(name),
                kind,
            });
        }
    }
}

/// `left op right` where `left` names an item and `right` is a literal.
fn compare(op: BinaryOp, left: &Expr, right: &Expr, known: &dyn Known, out: &mut Vec<TypeProblem>) {
    let Some(name) = name_of(left) else { return };
    let Some((ty, _)) = known.item(name) else {
        return;
    };
    let item = shown_name(name);
    match (ty, right) {
        (Ty::Bool, Expr::Text(text)) if !text.is_empty() => {
            out.push(TypeProblem::TrueFalseWithText {
                item,
                text: text.clone(),
            })
        }
        (Ty::Number, Expr::Text(text))
            if !text.is_empty() && text.trim().parse::<f64>().is_err() =>
        {
            out.push(TypeProblem::NumberWithText {
                item,
                text: text.clone(),
            })
        }
        (Ty::Date, Expr::Text(text)) if !text.is_empty() && !is_date(text) => {
            out.push(TypeProblem::DateWithText {
                item,
                text: text.clone(),
            })
        }
        (Ty::Date, Expr::Number(_)) => out.push(TypeProblem::DateWithNumber { item }),
        (Ty::Choice | Ty::Choices, Expr::Text(key))
            if matches!(op, BinaryOp::Eq | BinaryOp::Ne)
                && !key.is_empty()
                && !known.has_choice(name, key) =>
        {
            out.push(TypeProblem::UnknownKey {
                item,
                name: name.to_string(),
                key: key.clone(),
            })
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Expression;

    struct Items;
    impl Known for Items {
        fn item(&self, name: &str) -> Option<(Ty, &'static str)> {
            Some(match name {
                "consent" => (Ty::Bool, "true_false"),
                "age" | "." => (Ty::Number, "integer"),
                "name" => (Ty::Text, "text"),
                "start" => (Ty::Date, "date"),
                "sex" => (Ty::Choice, "single_choice"),
                "hazards" => (Ty::Choices, "multiple_choice"),
                _ => return None,
            })
        }
        fn has_choice(&self, name: &str, key: &str) -> bool {
            matches!(
                (name, key),
                ("sex", "male" | "female") | ("hazards", "dust" | "noise")
            )
        }
    }

    fn problems(source: &str) -> Vec<TypeProblem> {
        check(Expression::parse(source).unwrap().ast(), &Items)
    }

    #[test]
    fn finds_what_cannot_mean_what_was_meant() {
        use TypeProblem::*;
        let item = |s: &str| s.to_string();
        assert_eq!(
            problems("${consent} = 'yes'"),
            [TrueFalseWithText {
                item: item("${consent}"),
                text: item("yes")
            }]
        );
        assert_eq!(
            problems("selected(${age}, '1')"),
            [NotAChoiceItem {
                function: "selected",
                item: item("${age}"),
                kind: "integer"
            }]
        );
        assert_eq!(problems(". div 0 > 1"), [DivisionByZero]);
        assert_eq!(problems("${age} mod -0"), [DivisionByZero]);
        assert_eq!(
            problems("'abc' < ${age}"),
            [NumberWithText {
                item: item("${age}"),
                text: item("abc")
            }]
        );
        assert_eq!(
            problems("${start} > '2026-13-45'"),
            [DateWithText {
                item: item("${start}"),
                text: item("2026-13-45")
            }]
        );
        assert_eq!(
            problems("${start} > 3"),
            [DateWithNumber {
                item: item("${start}")
            }]
        );
        assert_eq!(
            problems("selected(${hazards}, 'heat') or ${sex} = 'mle'"),
            [
                UnknownKey {
                    item: item("${hazards}"),
                    name: item("hazards"),
                    key: item("heat")
                },
                UnknownKey {
                    item: item("${sex}"),
                    name: item("sex"),
                    key: item("mle")
                }
            ]
        );
        assert_eq!(
            problems("${name} + 1"),
            [ArithmeticOn {
                item: item("${name}"),
                kind: "text"
            }]
        );
    }

    #[test]
    fn accepts_what_is_meant() {
        for ok in [
            "${consent} = true()",
            "${consent} = ''",
            "${age} >= 16 and ${age} <= 59",
            "${age} = '16'",
            "${start} < '2026-04-01'",
            "selected(${hazards}, 'dust') and count-selected(${hazards}) > 1",
            "${sex} = 'female'",
            "selected(${sex}, 'male')",
            ". div 2 > ${age} mod 3",
            "${unknown} = 'x'",
        ] {
            assert_eq!(problems(ok), [], "{ok}");
        }
    }
}
