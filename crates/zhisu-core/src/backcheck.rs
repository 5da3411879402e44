//! Back-checks (复核, issue 15): whether the answers a respondent gives when re-asked agree with
//! the interview's, and the agreement of a back-check, an item or a surveyor
//! (`docs/statistics.md` §13, with a hand-worked example). Pure: the server compares a result
//! with the stored interview; the same rule would serve a tablet.

use serde::{Deserialize, Serialize};

use crate::{AnswerValue, Answers};

/// Whether two answers to one item agree:
///
/// - single choice, true/false, date, "don't know": the same answer;
/// - multiple choice: the same set of choices (the order of taps does not matter; one choice
///   more or fewer disagrees, as multiple choice is scored only on an exact match);
/// - integer and decimal: within `numeric_tolerance` of each other (0: equal);
/// - text: equal after trimming and ignoring case and runs of white space;
/// - answers of different kinds (a number and "don't know") disagree.
pub fn answers_agree(
    original: &AnswerValue,
    recheck: &AnswerValue,
    numeric_tolerance: f64,
) -> bool {
    use AnswerValue::*;
    let tolerance = if numeric_tolerance.is_finite() {
        numeric_tolerance.max(0.0)
    } else {
        0.0
    };
    match (original, recheck) {
        (Choices(_), Choices(_)) => original.normalized() == recheck.normalized(),
        (Integer(a), Integer(b)) => (a.abs_diff(*b) as f64) <= tolerance,
        (Integer(_) | Decimal(_), Integer(_) | Decimal(_)) => {
            let as_f64 = |v: &AnswerValue| match v {
                Integer(i) => *i as f64,
                Decimal(d) => *d,
                _ => f64::NAN,
            };
            (as_f64(original) - as_f64(recheck)).abs() <= tolerance
        }
        (Text(a), Text(b)) => plain_text(a) == plain_text(b),
        _ => original == recheck,
    }
}

fn plain_text(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// An answer as a short text for a reviewer: a choice's key, choices joined by commas, numbers
/// as written.
pub fn answer_text(v: &AnswerValue) -> String {
    match v.normalized() {
        AnswerValue::Choice(k) => k,
        AnswerValue::Choices(ks) => ks.join(","),
        AnswerValue::Bool(b) => b.to_string(),
        AnswerValue::Integer(i) => i.to_string(),
        AnswerValue::Decimal(d) => d.to_string(),
        AnswerValue::Text(t) => t,
        AnswerValue::Date(d) => d,
        AnswerValue::DontKnow => "dont_know".to_string(),
    }
}

/// One re-asked item whose answers disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackcheckDifference {
    pub item: String,
    /// The interview's answer, as [`answer_text`].
    pub original: String,
    /// The back-check's answer, as [`answer_text`].
    pub recheck: String,
}

/// Agreeing answers out of those compared: the agreement of a back-check, an item or a
/// surveyor (pooled over their back-checks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    pub agreed: u32,
    pub compared: u32,
}

impl Agreement {
    /// agreed / compared; `None` when nothing was compared.
    pub fn share(self) -> Option<f64> {
        (self.compared > 0).then(|| f64::from(self.agreed) / f64::from(self.compared))
    }

    /// Below `fail_below` (a share, 0 to 1): the back-check failed. Nothing compared (the
    /// respondent was not reached) never fails.
    pub fn fails(self, fail_below: f64) -> bool {
        self.share().is_some_and(|s| s < fail_below)
    }
}

impl std::ops::Add for Agreement {
    type Output = Agreement;

    /// Pooled: the agreed and compared items of both.
    fn add(self, other: Agreement) -> Agreement {
        Agreement {
            agreed: self.agreed + other.agreed,
            compared: self.compared + other.compared,
        }
    }
}

/// A back-check compared with its interview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackcheckComparison {
    pub agreement: Agreement,
    /// Per re-asked item, in the order given: `Some(true)` agrees, `Some(false)` differs,
    /// `None` not compared (no answer on one side).
    pub items: Vec<(String, Option<bool>)>,
    pub differences: Vec<BackcheckDifference>,
}

/// Compares the re-asked `items` of a back-check: an item is compared only when both the
/// interview and the back-check have an answer to it (an item the interview did not ask, or
/// the respondent would not answer again, is left out of the denominator).
pub fn compare_backcheck(
    items: &[String],
    original: &Answers,
    recheck: &Answers,
    numeric_tolerance: f64,
) -> BackcheckComparison {
    let mut agreement = Agreement::default();
    let mut per_item = Vec::with_capacity(items.len());
    let mut differences = Vec::new();
    for item in items {
        let outcome = match (original.get(item), recheck.get(item)) {
            (Some(a), Some(b)) => {
                let agrees = answers_agree(a, b, numeric_tolerance);
                agreement.compared += 1;
                if agrees {
                    agreement.agreed += 1;
                } else {
                    differences.push(BackcheckDifference {
                        item: item.clone(),
                        original: answer_text(a),
                        recheck: answer_text(b),
                    });
                }
                Some(agrees)
            }
            _ => None,
        };
        per_item.push((item.clone(), outcome));
    }
    BackcheckComparison {
        agreement,
        items: per_item,
        differences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AnswerValue::*;

    fn answers(pairs: &[(&str, AnswerValue)]) -> Answers {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn keys(ks: &[&str]) -> AnswerValue {
        Choices(ks.iter().map(|k| k.to_string()).collect())
    }

    #[test]
    fn agreement_by_kind() {
        assert!(answers_agree(&keys(&["a", "c"]), &keys(&["c", "a"]), 0.0));
        assert!(!answers_agree(&keys(&["a", "c"]), &keys(&["a"]), 0.0));
        assert!(answers_agree(&Integer(34), &Integer(35), 1.0));
        assert!(!answers_agree(&Integer(34), &Integer(36), 1.0));
        assert!(!answers_agree(&Integer(34), &Integer(35), 0.0));
        assert!(answers_agree(&Decimal(1.5), &Integer(2), 0.5));
        assert!(answers_agree(
            &Text(" Zhang  San".into()),
            &Text("zhang san".into()),
            0.0
        ));
        assert!(!answers_agree(&Integer(3), &DontKnow, 10.0));
        assert!(answers_agree(&Bool(true), &Bool(true), 0.0));
        assert!(!answers_agree(
            &Choice("a".into()),
            &Choice("b".into()),
            0.0
        ));
        assert!(!answers_agree(&Integer(1), &Integer(2), f64::NAN));
    }

    /// `docs/statistics.md` §13.1: the hand-worked example, line by line.
    #[test]
    fn hand_worked_example_of_statistics_md() {
        let items: Vec<String> = ["sex", "age", "education", "k1", "k2", "k3"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // surveyor wang's two interviews and their back-checks
        let first = compare_backcheck(
            &items,
            &answers(&[
                ("sex", Choice("female".into())),
                ("age", Integer(34)),
                ("education", Choice("junior".into())),
                ("k1", Bool(true)),
                ("k2", Choice("b".into())),
                ("k3", keys(&["a", "c"])),
            ]),
            &answers(&[
                ("sex", Choice("female".into())),
                ("age", Integer(35)),
                ("education", Choice("junior".into())),
                ("k1", Bool(true)),
                ("k2", Choice("c".into())),
                ("k3", keys(&["c", "a"])),
            ]),
            1.0,
        );
        assert_eq!(
            first.agreement,
            Agreement {
                agreed: 5,
                compared: 6
            }
        );
        assert_eq!(
            first.differences,
            vec![BackcheckDifference {
                item: "k2".into(),
                original: "b".into(),
                recheck: "c".into()
            }]
        );
        let second = compare_backcheck(
            &items,
            &answers(&[
                ("sex", Choice("male".into())),
                ("age", Integer(41)),
                ("education", Choice("primary".into())),
                ("k1", Bool(false)),
                ("k2", Choice("a".into())),
                ("k3", keys(&["a", "b"])),
            ]),
            &answers(&[
                ("sex", Choice("male".into())),
                ("age", Integer(44)),
                ("education", Choice("junior".into())),
                ("k1", Bool(true)),
                ("k2", Choice("a".into())),
            ]),
            1.0,
        );
        assert_eq!(
            second.agreement,
            Agreement {
                agreed: 2,
                compared: 5
            }
        );
        assert_eq!(second.items[5], ("k3".to_string(), None));
        // 5/6 = 83.3 % passes at 80 %; 2/5 = 40 % fails
        assert!((first.agreement.share().unwrap() - 0.833).abs() < 0.001);
        assert!(!first.agreement.fails(0.8));
        assert_eq!(second.agreement.share(), Some(0.4));
        assert!(second.agreement.fails(0.8));
        // the surveyor, pooled: 7/11 = 63.6 %
        let wang = first.agreement + second.agreement;
        assert_eq!(
            wang,
            Agreement {
                agreed: 7,
                compared: 11
            }
        );
        assert!((wang.share().unwrap() - 0.636).abs() < 0.001);
        // per item over both: age 1/2, k3 1/1
        let item = |name: &str| {
            [&first, &second]
                .iter()
                .filter_map(|c| {
                    c.items
                        .iter()
                        .find(|(i, _)| i == name)
                        .and_then(|(_, o)| *o)
                })
                .fold(Agreement::default(), |a, agrees| {
                    a + Agreement {
                        agreed: u32::from(agrees),
                        compared: 1,
                    }
                })
        };
        assert_eq!(
            item("age"),
            Agreement {
                agreed: 1,
                compared: 2
            }
        );
        assert_eq!(
            item("k3"),
            Agreement {
                agreed: 1,
                compared: 1
            }
        );
        assert_eq!(
            item("sex"),
            Agreement {
                agreed: 2,
                compared: 2
            }
        );
        // not reached: nothing compared, no share, never failed
        let none = compare_backcheck(&items, &Answers::new(), &Answers::new(), 1.0);
        assert_eq!(none.agreement.share(), None);
        assert!(!none.agreement.fails(0.8));
    }
}
