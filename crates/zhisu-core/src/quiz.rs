//! Quiz mode (issue 24): a knowledge game built from a questionnaire's scored items, run at
//! outreach events. Not an interview: no background, no eligibility, nothing kept of the
//! person but which items were asked and whether each was answered right.
//!
//! This module holds the rules both the tablet and its tests use — which items a quiz asks and
//! whether an answer is right — and draws no random numbers itself: the caller (the app shell)
//! gives the randomness as a function returning an index below a bound.

use crate::{AnswerValue, Item, Questionnaire};

/// How many items a short quiz asks.
pub const SHORT_QUIZ_ITEMS: usize = 10;

impl Item {
    /// Whether `given` is this scored item's right answer, by the score's rule (a multiple
    /// choice compared as a set, exact match); `false` for an item that is not scored.
    pub fn answered_right(&self, given: &AnswerValue) -> bool {
        self.scoring
            .as_ref()
            .is_some_and(|rule| given.normalized() == rule.key)
    }
}

/// The items of a quiz, in the order to ask them.
///
/// - `whole`: every scored item of the questionnaire, in the file's order;
/// - otherwise [`SHORT_QUIZ_ITEMS`] items (all there are when fewer): first the `weak` items
///   (the server's weakest knowledge points, weakest first; ids that are not scored items of
///   this questionnaire are left out), then a fair draw from the other scored items, and the
///   chosen ones asked in a shuffled order.
///
/// `random(n)` must return an index in `0..n` (uniform for a fair draw); an index out of range
/// is taken modulo `n`, so a bad source cannot make this panic.
pub fn quiz_items(
    q: &Questionnaire,
    weak: &[String],
    whole: bool,
    random: &mut dyn FnMut(usize) -> usize,
) -> Vec<String> {
    let scored: Vec<&str> = q.scored_items().map(|i| i.id.as_str()).collect();
    if whole {
        return scored.into_iter().map(str::to_string).collect();
    }
    let mut chosen: Vec<&str> = Vec::with_capacity(SHORT_QUIZ_ITEMS);
    for w in weak {
        if chosen.len() == SHORT_QUIZ_ITEMS {
            break;
        }
        if let Some(id) = scored.iter().find(|s| **s == w.as_str()) {
            if !chosen.contains(id) {
                chosen.push(id);
            }
        }
    }
    let mut rest: Vec<&str> = scored
        .iter()
        .copied()
        .filter(|s| !chosen.contains(s))
        .collect();
    // a partial Fisher–Yates shuffle: each of the rest equally likely to be drawn
    while chosen.len() < SHORT_QUIZ_ITEMS && !rest.is_empty() {
        let pick = random(rest.len()) % rest.len();
        chosen.push(rest.swap_remove(pick));
    }
    for i in (1..chosen.len()).rev() {
        let j = random(i + 1) % (i + 1);
        chosen.swap(i, j);
    }
    chosen.into_iter().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> Questionnaire {
        Questionnaire::from_toml(
            "ohl_2026.toml",
            include_str!("../../../questionnaires/ohl_2026.toml"),
        )
        .unwrap()
    }

    #[test]
    fn a_short_quiz_asks_the_weak_points_first_then_a_fair_draw() {
        let q = bundled();
        let scored: Vec<String> = q.scored_items().map(|i| i.id.clone()).collect();
        assert!(scored.len() > SHORT_QUIZ_ITEMS, "{scored:?}");
        let weak = vec![
            scored[3].clone(),
            "not-an-item".to_string(),
            scored[1].clone(),
            scored[3].clone(),
        ];
        let mut state = 7usize;
        let mut random = |n: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        let items = quiz_items(&q, &weak, false, &mut random);
        assert_eq!(items.len(), SHORT_QUIZ_ITEMS);
        assert!(items.contains(&scored[3]) && items.contains(&scored[1]));
        let unique: std::collections::BTreeSet<&String> = items.iter().collect();
        assert_eq!(unique.len(), items.len(), "no item twice");
        assert!(items.iter().all(|i| scored.contains(i)));
        // every scored item can be drawn: over many draws each one turns up
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            seen.extend(quiz_items(&q, &[], false, &mut random));
        }
        assert_eq!(seen.len(), scored.len());
        // a source out of range does not panic
        let items = quiz_items(&q, &[], false, &mut |n| n + 5);
        assert_eq!(items.len(), SHORT_QUIZ_ITEMS);
        // the whole questionnaire: every scored item in the file's order
        assert_eq!(quiz_items(&q, &weak, true, &mut random), scored);
    }

    #[test]
    fn an_answer_is_right_by_the_scores_rule() {
        let q = bundled();
        for item in q.scored_items() {
            let key = item.scoring.as_ref().unwrap().key.clone();
            assert!(item.answered_right(&key), "{}", item.id);
            if let AnswerValue::Choices(mut keys) = key.clone() {
                keys.reverse();
                assert!(item.answered_right(&AnswerValue::Choices(keys)), "as a set");
            }
            assert!(!item.answered_right(&AnswerValue::DontKnow));
        }
        let unscored = q.items.iter().find(|i| i.scoring.is_none()).unwrap();
        assert!(!unscored.answered_right(&AnswerValue::Bool(true)));
    }
}
