//! Conditions that can never be true because what they ask of one answer contradicts itself:
//! `. > 10 and . < 5`, `${age} >= 65 and ${age} < 18`, `${sex} = 'm' and ${sex} = 'f'`,
//! `(. < 0 or . > 120) and . = 50`. The loader reports them as it reports a constant condition
//! that is false, since an item behind one is never asked or a constraint never accepts.
//!
//! The analysis is sound, not complete: it says "never true" only when the evaluator
//! (`crate::expr`) could not make the condition true for any answers. It reads the condition in
//! disjunctive normal form (`or` of `and`s, at most [`MAX_CONJUNCTIONS`] of them, else it gives
//! up); in each conjunction it keeps the comparisons of an answer with a literal that, when true,
//! pin the answer down — by number (`<`, `<=`, `>`, `>=` with a number; `=` a number for number
//! items), by text order (`<` … with a text such as a date), by text (`=` a text for text, choice
//! and date items) — and the conjunction is impossible when one answer's pins cannot all hold.
//! Anything else (`not()`, `!=`, `selected()`, arithmetic, two answers compared with each other)
//! is left out of its conjunction, which can only make the conjunction look easier to satisfy.
//!
//! Recursion follows the tree, whose depth the parser bounds ([`crate::MAX_EXPRESSION_DEPTH`]).

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::expr::{BinaryOp, Expr};
use crate::typecheck::{Known, Ty};

/// The most `and`-groups the normal form may have before the analysis gives up (and says the
/// condition may be true): `(a or b) and (c or d) and …` doubles them at every `and`.
pub(crate) const MAX_CONJUNCTIONS: usize = 64;

/// Whether `condition` can never be true, whatever the answers: the answer (`.` or an item's
/// name) whose comparisons contradict each other, in the first of its `and`-groups.
pub(crate) fn never_true(condition: &Expr, known: &dyn Known) -> Option<String> {
    let conjunctions = normal_form(condition, known)?;
    let mut first = None;
    for c in &conjunctions {
        let name = impossible(c)?;
        first.get_or_insert(name);
    }
    first.map(str::to_string)
}

/// What one comparison, when true, says about one answer.
#[derive(Clone, Debug, PartialEq)]
enum Pin {
    /// Its value as a number stands in this relation to the number.
    Number(Ordering, bool, f64),
    /// It is text that stands in this relation to the text (string order).
    TextOrder(Ordering, bool, String),
    /// Its text is exactly this.
    TextIs(String),
}

/// One `and`-group: each answer (by name, `.` for the item's own) with its pins.
type Conjunction = Vec<(String, Pin)>;

/// The condition as `or` of conjunctions, or `None` when that would have too many.
fn normal_form(e: &Expr, known: &dyn Known) -> Option<Vec<Conjunction>> {
    match e {
        Expr::Binary(BinaryOp::Or, a, b) => {
            let mut left = normal_form(a, known)?;
            left.extend(normal_form(b, known)?);
            (left.len() <= MAX_CONJUNCTIONS).then_some(left)
        }
        Expr::Binary(BinaryOp::And, a, b) => {
            let (left, right) = (normal_form(a, known)?, normal_form(b, known)?);
            if left.len().saturating_mul(right.len()) > MAX_CONJUNCTIONS {
                return None;
            }
            Some(
                left.iter()
                    .flat_map(|l| right.iter().map(move |r| [l.clone(), r.clone()].concat()))
                    .collect(),
            )
        }
        _ => Some(vec![pin(e, known).into_iter().collect()]),
    }
}

/// The pin a comparison of an answer with a literal puts on the answer, if it puts one.
fn pin(e: &Expr, known: &dyn Known) -> Option<(String, Pin)> {
    let Expr::Binary(op, a, b) = e else {
        return None;
    };
    // the answer on the left, the literal on the right (`5 < .` is `. > 5`)
    let (op, name, literal) = match (subject(a), subject(b)) {
        (Some(name), None) => (*op, name, &**b),
        (None, Some(name)) => (flipped(*op)?, name, &**a),
        _ => return None,
    };
    let ty = known.item(name).map(|(ty, _)| ty);
    let relation = match op {
        BinaryOp::Lt => Some((Ordering::Less, false)),
        BinaryOp::Le => Some((Ordering::Less, true)),
        BinaryOp::Gt => Some((Ordering::Greater, false)),
        BinaryOp::Ge => Some((Ordering::Greater, true)),
        _ => None,
    };
    let pin = match (op, number(literal), literal) {
        // a comparison with a number is numeric whatever the answer (text that is no number,
        // choices and an empty answer make it false)
        (_, Some(n), _) if relation.is_some() => {
            let (towards, equal) = relation?;
            Pin::Number(towards, equal, n)
        }
        // `=` a number: numeric unless the answer is true/false (compared by truth) or unknown
        (BinaryOp::Eq, Some(n), _) if ty.is_some_and(|t| !matches!(t, Ty::Bool | Ty::Unknown)) => {
            Pin::Number(Ordering::Equal, true, n)
        }
        // text that is no number: compared as text with text answers, false with any other
        (_, None, Expr::Text(t)) if relation.is_some() && is_no_number(t) => {
            let (towards, equal) = relation?;
            Pin::TextOrder(towards, equal, t.clone())
        }
        // `=` a text: the answer's text, for answers that are text (true/false compares by truth)
        (BinaryOp::Eq, None, Expr::Text(t))
            if !t.is_empty()
                && ty.is_some_and(|t| {
                    matches!(t, Ty::Text | Ty::Choice | Ty::Choices | Ty::Date)
                }) =>
        {
            Pin::TextIs(t.clone())
        }
        _ => return None,
    };
    Some((name.to_string(), pin))
}

fn subject(e: &Expr) -> Option<&str> {
    match e {
        Expr::Ref(name) => Some(name),
        Expr::Current => Some("."),
        _ => None,
    }
}

fn flipped(op: BinaryOp) -> Option<BinaryOp> {
    Some(match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        BinaryOp::Eq => BinaryOp::Eq,
        _ => return None,
    })
}

/// A literal number (`5`, `-5`, `--5`), never NaN.
fn number(e: &Expr) -> Option<f64> {
    match e {
        Expr::Number(n) if !n.is_nan() => Some(*n),
        Expr::Negate(inner) => number(inner).map(|n| -n),
        _ => None,
    }
}

/// Text the evaluator does not read as a number (so comparisons with it are by text).
fn is_no_number(t: &str) -> bool {
    t.trim().parse::<f64>().map_or(true, |n| n.is_nan())
}

/// The answer whose pins in one conjunction cannot all hold, if there is one.
fn impossible(conjunction: &Conjunction) -> Option<&str> {
    let mut numbers: HashMap<&str, Range<f64>> = HashMap::new();
    let mut texts: HashMap<&str, Range<&str>> = HashMap::new();
    let mut exactly: HashMap<&str, &str> = HashMap::new();
    for (name, pin) in conjunction {
        let name = name.as_str();
        match pin {
            Pin::Number(towards, equal, n) => numbers
                .entry(name)
                .or_default()
                .narrow(*towards, *equal, *n),
            Pin::TextOrder(towards, equal, t) => {
                texts
                    .entry(name)
                    .or_default()
                    .narrow(*towards, *equal, t.as_str())
            }
            Pin::TextIs(t) => {
                if exactly.insert(name, t).is_some_and(|before| before != t) {
                    return Some(name);
                }
            }
        }
    }
    // an exact text must also fit the text order the same answer is held to
    for (name, t) in &exactly {
        if let Some(range) = texts.get_mut(name) {
            range.narrow(Ordering::Equal, true, t);
        }
    }
    numbers
        .iter()
        .find_map(|(n, r)| r.is_empty().then_some(*n))
        .or_else(|| texts.iter().find_map(|(n, r)| r.is_empty().then_some(*n)))
}

/// The values an answer may still take: between two bounds, each with whether it is included.
#[derive(Clone, Debug)]
struct Range<T> {
    low: Option<(T, bool)>,
    high: Option<(T, bool)>,
}

impl<T> Default for Range<T> {
    fn default() -> Self {
        Range {
            low: None,
            high: None,
        }
    }
}

impl<T: PartialOrd + Copy> Range<T> {
    /// Keeps the values `v` with `v towards value` (or equal to it when `equal`).
    fn narrow(&mut self, towards: Ordering, equal: bool, value: T) {
        if towards != Ordering::Less {
            self.low = Some(tighter(self.low, (value, equal), Ordering::Greater));
        }
        if towards != Ordering::Greater {
            self.high = Some(tighter(self.high, (value, equal), Ordering::Less));
        }
    }

    fn is_empty(&self) -> bool {
        match (self.low, self.high) {
            (Some((low, low_in)), Some((high, high_in))) => match low.partial_cmp(&high) {
                Some(Ordering::Greater) => true,
                Some(Ordering::Equal) => !(low_in && high_in),
                _ => false,
            },
            _ => false,
        }
    }
}

/// Of a bound and a new one, the one further `towards` (an excluded bound beats an included one
/// at the same value).
fn tighter<T: PartialOrd + Copy>(
    old: Option<(T, bool)>,
    new: (T, bool),
    towards: Ordering,
) -> (T, bool) {
    match old {
        None => new,
        Some(old) => match new.0.partial_cmp(&old.0) {
            Some(o) if o == towards => new,
            Some(Ordering::Equal) => (new.0, new.1 && old.1),
            _ => old,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Expression;

    /// Items of every type: `n` number, `b` true/false, `t` text, `d` date, `c` one choice,
    /// `m` several choices; `.` is a number.
    struct Items;
    impl Known for Items {
        fn item(&self, name: &str) -> Option<(Ty, &'static str)> {
            let ty = match name {
                "n" | "." => Ty::Number,
                "b" => Ty::Bool,
                "t" => Ty::Text,
                "d" => Ty::Date,
                "c" => Ty::Choice,
                "m" => Ty::Choices,
                _ => return None,
            };
            Some((ty, "an item"))
        }
        fn has_choice(&self, _: &str, _: &str) -> bool {
            true
        }
    }

    fn never(source: &str) -> bool {
        never_true(Expression::parse(source).unwrap().ast(), &Items).is_some()
    }

    #[test]
    fn contradictory_ranges_are_never_true() {
        for source in [
            ". > 10 and . < 5",
            ". >= 10 and . <= 9.5",
            ". > 5 and . < 5",
            ". >= 5 and . < 5",
            ". > 5 and . <= 5",
            "10 < . and 5 > .",
            ". > -1 and . < -3",
            "${n} = 3 and ${n} = 4",
            "${n} = 3 and ${n} > 3",
            "${c} = 'a' and ${c} = 'b'",
            "${t} = 'yes' and ${t} = 'no'",
            "${d} > '2026-06-01' and ${d} < '2026-01-01'",
            "${d} = '2025-01-01' and ${d} >= '2026-01-01'",
            "(. < 0 or . > 120) and . = 50",
            ". > 10 and ${n} > 1 and . < 5",
            "(. > 10 and . < 5) or (. > 20 and . < 15)",
            "(${n} > 10 and ${n} < 5) and ${b}",
        ] {
            assert!(never(source), "{source} can never be true");
        }
    }

    #[test]
    fn conditions_that_can_be_true_are_not_reported() {
        for source in [
            ". > 5 and . < 10",
            ". >= 5 and . <= 5",
            ". > 5",
            ". > 10 or . < 5",
            ". != 3 and . != 4",
            "${n} > 10 and ${t} < '5'",
            // a true/false answer equals every non-zero number and every non-empty text
            "${b} = 1 and ${b} = 2",
            "${b} = 'a' and ${b} = 'b'",
            // an unknown item: nothing known about how `=` compares it
            "${x} = 1 and ${x} = 2",
            // text that is a number compares numerically with a number answer
            "${n} = '3' and ${n} = 3",
            "not(. > 10) and . > 10",
            ". + 1 > 10 and . < 5",
            "${n} > ${t} and ${n} < ${t}",
            "(. < 0 or . > 120) and . = 120.5",
        ] {
            assert!(!never(source), "{source} can be true");
        }
    }

    #[test]
    fn a_normal_form_too_large_is_given_up_rather_than_expanded() {
        // 2^7 = 128 conjunctions, every one of them impossible: beyond the limit, so "may be true"
        let group = "(. > 10 or . > 11)";
        let source = format!("{} and . < 5", [group; 7].join(" and "));
        assert!(!never(&source));
        let source = format!("{} and . < 5", [group; 5].join(" and "));
        assert!(never(&source));
    }

    /// The analysis agrees with the evaluator: for every condition it calls never true, no
    /// answer among many (numbers around the literals, texts, dates, empty) makes it true.
    #[test]
    fn never_true_is_never_true_for_the_evaluator() {
        use crate::expr::{Scope, Value};
        struct One(Value);
        impl Scope for One {
            fn reference(&self, _: &str) -> Value {
                self.0.clone()
            }
            fn current(&self) -> Value {
                self.0.clone()
            }
        }
        let mut values = vec![Value::Empty, Value::Bool(true), Value::Bool(false)];
        for n in -4..=25 {
            values.push(Value::Number(f64::from(n) / 2.0));
            values.push(Value::Text((f64::from(n) / 2.0).to_string()));
        }
        for t in [
            "a",
            "b",
            "yes",
            "no",
            "2025-01-01",
            "2026-03-01",
            "2026-07-01",
            "",
        ] {
            values.push(Value::Text(t.into()));
            values.push(Value::Choices(vec![t.into()]));
        }
        // each with the answers its item could hold: any value (numeric order holds for all),
        // numbers (a number item), text-like values (text, choice and date items)
        let number = |v: &Value| matches!(v, Value::Number(_) | Value::Empty);
        let text = |v: &Value| matches!(v, Value::Text(_) | Value::Choices(_) | Value::Empty);
        let any = |_: &Value| true;
        type Holds<'a> = &'a dyn Fn(&Value) -> bool;
        let sources: [(&str, Holds); 7] = [
            (". > 10 and . < 5", &any),
            (". >= 5 and . < 5", &any),
            ("${n} = 3 and ${n} > 3", &number),
            ("${c} = 'a' and ${c} = 'b'", &text),
            ("${d} > '2026-06-01' and ${d} < '2026-01-01'", &any),
            ("${d} = '2025-01-01' and ${d} >= '2026-01-01'", &text),
            ("(. < 0 or . > 12) and . = 5", &number),
        ];
        for (source, holds) in sources {
            assert!(never(source), "{source}");
            let expression = Expression::parse(source).unwrap();
            for v in values.iter().filter(|v| holds(v)) {
                let verdict = expression.evaluate(&One(v.clone())).truthy();
                assert!(!verdict, "{source} is true for {v:?}");
            }
        }
    }
}
