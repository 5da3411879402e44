//! Running an interview: which items are asked given the answers so far, what comes next and
//! before, whether an answer is acceptable now, whether the respondent is eligible, and whether
//! the interview can be completed. Pure functions of (questionnaire, answers).
//!
//! Answers to items that became irrelevant (an earlier answer changed) are kept, so changing the
//! earlier answer back restores them, but they count for nothing: they are masked in every
//! expression, left out of the completed interview ([`Questionnaire::effective_answers`]) and
//! out of the score.

use serde::{Deserialize, Serialize};

use crate::expr::{Scope, Value};
use crate::{AnswerError, AnswerValue, Answers, Choice, InterviewProblem, Item, Questionnaire};

pub(crate) fn value_of(answer: Option<&AnswerValue>) -> Value {
    match answer {
        None | Some(AnswerValue::DontKnow) => Value::Empty,
        Some(AnswerValue::Choice(k)) | Some(AnswerValue::Text(k)) | Some(AnswerValue::Date(k)) => {
            Value::Text(k.clone())
        }
        Some(AnswerValue::Choices(keys)) => Value::Choices(keys.clone()),
        Some(AnswerValue::Bool(b)) => Value::Bool(*b),
        Some(AnswerValue::Integer(n)) => Value::Number(*n as f64),
        Some(AnswerValue::Decimal(x)) => Value::Number(*x),
    }
}

/// Answers as expressions see them: items not (yet) known to be relevant read as empty.
struct AnswerScope<'a> {
    questionnaire: &'a Questionnaire,
    answers: &'a Answers,
    /// Relevance of the items before the one being evaluated (`None`: do not mask).
    relevant: Option<&'a [bool]>,
    current: Option<&'a AnswerValue>,
    choice: Option<&'a Choice>,
}

impl Scope for AnswerScope<'_> {
    fn reference(&self, name: &str) -> Value {
        if let (Some(relevant), Some(i)) = (self.relevant, self.questionnaire.item_index(name)) {
            if !relevant.get(i).copied().unwrap_or(true) {
                return Value::Empty;
            }
        }
        value_of(self.answers.get(name))
    }

    fn current(&self) -> Value {
        value_of(self.current)
    }

    fn attribute(&self, name: &str) -> Value {
        self.choice
            .and_then(|c| c.attributes.get(name))
            .map_or(Value::Empty, |v| Value::Text(v.clone()))
    }
}

/// Where the respondent stands against the eligibility rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EligibilityStatus {
    /// Some item the rule needs is still unanswered.
    Undetermined,
    Eligible,
    /// The interview ends here, politely.
    Ineligible,
}

impl Questionnaire {
    fn scope<'a>(&'a self, answers: &'a Answers, relevant: Option<&'a [bool]>) -> AnswerScope<'a> {
        AnswerScope {
            questionnaire: self,
            answers,
            relevant,
            current: None,
            choice: None,
        }
    }

    /// For each item, in order: is it asked, given `answers`? Items may depend only on earlier
    /// items (the loader enforces it), so one pass in order decides all of them.
    pub fn relevance(&self, answers: &Answers) -> Vec<bool> {
        let mut relevant = Vec::with_capacity(self.items.len());
        let mut section_cache: Option<(&str, bool)> = None;
        for item in &self.items {
            let section_ok = match item.section.as_deref() {
                None => true,
                Some(id) => match section_cache {
                    Some((cached, ok)) if cached == id => ok,
                    _ => {
                        let ok = self
                            .section(id)
                            .and_then(|s| s.relevant.as_ref())
                            .is_none_or(|e| e.is_true(&self.scope(answers, Some(&relevant))));
                        section_cache = Some((id, ok));
                        ok
                    }
                },
            };
            let ok = section_ok
                && item
                    .relevant
                    .as_ref()
                    .is_none_or(|e| e.is_true(&self.scope(answers, Some(&relevant))));
            relevant.push(ok);
        }
        relevant
    }

    /// Is the item with this id asked, given `answers`?
    pub fn is_relevant(&self, item_id: &str, answers: &Answers) -> bool {
        self.item_index(item_id)
            .is_some_and(|i| self.relevance(answers)[i])
    }

    /// The answers that count: those to items that are asked.
    pub fn effective_answers(&self, answers: &Answers) -> Answers {
        let relevant = self.relevance(answers);
        answers
            .iter()
            .filter(|(id, _)| self.item_index(id).is_some_and(|i| relevant[i]))
            .map(|(id, value)| (id.clone(), value.clone()))
            .collect()
    }

    pub fn eligibility_status(&self, answers: &Answers) -> EligibilityStatus {
        let Some(rule) = &self.eligibility else {
            return EligibilityStatus::Eligible;
        };
        let relevant = self.relevance(answers);
        let settled = rule.condition.references().iter().all(|name| {
            self.item_index(name)
                .is_none_or(|i| !relevant[i] || answers.contains_key(*name))
        });
        if !settled {
            EligibilityStatus::Undetermined
        } else if rule
            .condition
            .is_true(&self.scope(answers, Some(&relevant)))
        {
            EligibilityStatus::Eligible
        } else {
            EligibilityStatus::Ineligible
        }
    }

    /// The items referred to by the parts of `condition` (a chain of `and`) that are false for
    /// `answers`, each once, in order.
    pub(crate) fn failing_conjunct_references(
        &self,
        condition: &crate::Expression,
        answers: &Answers,
    ) -> Vec<String> {
        let relevant = self.relevance(answers);
        let scope = self.scope(answers, Some(&relevant));
        let mut items: Vec<String> = Vec::new();
        for part in condition.conjuncts() {
            if part.evaluate(&scope).truthy() {
                continue;
            }
            for name in part.references() {
                if !items.iter().any(|i| i == name) {
                    items.push(name.to_string());
                }
            }
        }
        items
    }

    /// The next item to show after position `after` (`None`: from the start), or `None` when
    /// there is none: the interview goes to review, or ends if the respondent is ineligible.
    pub fn next_item(&self, answers: &Answers, after: Option<usize>) -> Option<usize> {
        if self.eligibility_status(answers) == EligibilityStatus::Ineligible {
            return None;
        }
        let relevant = self.relevance(answers);
        let start = after.map_or(0, |i| i + 1);
        (start..self.items.len()).find(|&i| relevant[i])
    }

    /// Where to resume an interview (after a crash, or picked up later): the first asked item
    /// that takes an answer and has none, or `None` when every asked item is answered (the
    /// review screen) or the respondent turned out ineligible.
    pub fn resume_point(&self, answers: &Answers) -> Option<usize> {
        let mut at = None;
        while let Some(index) = self.next_item(answers, at) {
            let item = &self.items[index];
            if item.kind.takes_answer() && !answers.contains_key(&item.id) {
                return Some(index);
            }
            at = Some(index);
        }
        None
    }

    /// The item to go back to from position `before`.
    pub fn previous_item(&self, answers: &Answers, before: usize) -> Option<usize> {
        let relevant = self.relevance(answers);
        (0..before.min(self.items.len()))
            .rev()
            .find(|&i| relevant[i])
    }

    /// (position among the asked items, number of asked items), both counting from 1, for a
    /// progress bar. Notes count as screens.
    pub fn progress(&self, answers: &Answers, at: usize) -> (usize, usize) {
        let relevant = self.relevance(answers);
        let done = relevant.iter().take(at + 1).filter(|r| **r).count();
        (done, relevant.iter().filter(|r| **r).count())
    }

    /// The choices offered for an item now (its choice filter applied).
    pub fn visible_choices<'a>(&'a self, item: &'a Item, answers: &'a Answers) -> Vec<&'a Choice> {
        let choices = item.kind.choices();
        let Some(filter) = &item.choice_filter else {
            return choices.iter().collect();
        };
        let relevant = self.relevance(answers);
        choices
            .iter()
            .filter(|choice| {
                filter.is_true(&AnswerScope {
                    questionnaire: self,
                    answers,
                    relevant: Some(&relevant),
                    current: None,
                    choice: Some(choice),
                })
            })
            .collect()
    }

    /// Checks an answer to `item_id` given the other answers: the kind and bounds, "don't
    /// know", that the item is asked at all, the choice filter and the item's constraint.
    pub fn check_answer(
        &self,
        item_id: &str,
        value: &AnswerValue,
        answers: &Answers,
    ) -> Result<(), AnswerError> {
        let Some(index) = self.item_index(item_id) else {
            return Err(AnswerError::NotRelevant);
        };
        let item = &self.items[index];
        item.check(value)?;
        let relevant = self.relevance(answers);
        if !relevant[index] {
            return Err(AnswerError::NotRelevant);
        }
        self.check_in_context(item, value, answers, &relevant)
    }

    fn check_in_context(
        &self,
        item: &Item,
        value: &AnswerValue,
        answers: &Answers,
        relevant: &[bool],
    ) -> Result<(), AnswerError> {
        if *value == AnswerValue::DontKnow {
            return Ok(()); // "don't know" is always allowed where offered
        }
        if item.choice_filter.is_some() {
            let visible = self.visible_choices(item, answers);
            let keys: Vec<&String> = match value {
                AnswerValue::Choice(k) => vec![k],
                AnswerValue::Choices(ks) => ks.iter().collect(),
                _ => Vec::new(),
            };
            if let Some(key) = keys
                .into_iter()
                .find(|k| !visible.iter().any(|c| &c.key == *k))
            {
                return Err(AnswerError::ChoiceFiltered { key: key.clone() });
            }
        }
        if let Some(constraint) = &item.constraint {
            let scope = AnswerScope {
                questionnaire: self,
                answers,
                relevant: Some(relevant),
                current: Some(value),
                choice: None,
            };
            if !constraint.expression.is_true(&scope) {
                return Err(AnswerError::Constraint {
                    message: constraint.message.clone(),
                });
            }
        }
        Ok(())
    }

    /// Every problem with `answers` as a complete interview, all at once: an answer to an item
    /// not in the questionnaire or not asked (given the other answers), an answer that does not
    /// fit its item, a required item that is asked but unanswered. When the answers end the
    /// interview at screening, what was not asked after it is not missing, and "not eligible"
    /// is the problem only when every answer given is a valid one: age 85 where the item
    /// allows 10 to 80 is "above the maximum", not "not eligible".
    pub fn check_interview(&self, answers: &Answers) -> Vec<InterviewProblem> {
        let mut problems = Vec::new();
        for item_id in answers.keys() {
            if self.item_index(item_id).is_none() {
                problems.push(InterviewProblem::UnknownItem {
                    item_id: item_id.clone(),
                });
            }
        }
        let ineligible = self.eligibility_status(answers) == EligibilityStatus::Ineligible;
        let relevant = self.relevance(answers);
        for (item, asked) in self.items.iter().zip(&relevant) {
            match (answers.get(&item.id), *asked) {
                (Some(_), false) => problems.push(InterviewProblem::NotAsked {
                    item_id: item.id.clone(),
                }),
                (Some(value), true) => {
                    if let Err(error) = item
                        .check(value)
                        .and_then(|()| self.check_in_context(item, value, answers, &relevant))
                    {
                        problems.push(InterviewProblem::InvalidAnswer {
                            item_id: item.id.clone(),
                            error,
                        });
                    }
                }
                (None, true) if !ineligible && item.required && item.kind.takes_answer() => {
                    problems.push(InterviewProblem::MissingRequired {
                        item_id: item.id.clone(),
                    })
                }
                (None, _) => {}
            }
        }
        if ineligible && problems.is_empty() {
            problems.push(InterviewProblem::NotEligible);
        }
        problems
    }
}
