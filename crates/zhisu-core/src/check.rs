//! Whether an answer fits its item: the kind of value, a known choice, within the bounds.

use std::collections::BTreeSet;

use crate::answer::is_date;
use crate::{AnswerError, AnswerValue, Item, ItemKind};

fn check_choice(choices: &[crate::Choice], key: &str) -> Result<(), AnswerError> {
    if choices.iter().any(|c| c.key == key) {
        Ok(())
    } else {
        Err(AnswerError::UnknownChoice {
            key: key.to_string(),
        })
    }
}

impl Item {
    /// Checks that `value` fits this item on its own (kind, choices, bounds). Rules that depend
    /// on other answers (constraints, choice filters, relevance) are checked by
    /// [`Questionnaire::check_answer`].
    pub fn check(&self, value: &AnswerValue) -> Result<(), AnswerError> {
        let wrong = || AnswerError::WrongKind {
            expected: self.kind.name(),
        };
        if *value == AnswerValue::DontKnow {
            return if !self.kind.takes_answer() {
                Err(AnswerError::NoAnswerTaken)
            } else if self.dont_know {
                Ok(())
            } else {
                Err(AnswerError::DontKnowNotOffered)
            };
        }
        match (&self.kind, value) {
            (ItemKind::SingleChoice { choices, .. }, AnswerValue::Choice(key))
            | (ItemKind::Likert { choices }, AnswerValue::Choice(key)) => {
                check_choice(choices, key)
            }
            (ItemKind::MultipleChoice { choices }, AnswerValue::Choices(keys)) => {
                if keys.is_empty() {
                    return Err(AnswerError::NothingChosen);
                }
                let mut seen = BTreeSet::new();
                for key in keys {
                    check_choice(choices, key)?;
                    if !seen.insert(key) {
                        return Err(AnswerError::RepeatedChoice { key: key.clone() });
                    }
                }
                Ok(())
            }
            (ItemKind::TrueFalse, AnswerValue::Bool(_)) => Ok(()),
            (ItemKind::Integer { min, max }, AnswerValue::Integer(n)) => {
                if let Some(min) = min.filter(|min| n < min) {
                    return Err(AnswerError::BelowMin {
                        min: min.to_string(),
                    });
                }
                if let Some(max) = max.filter(|max| n > max) {
                    return Err(AnswerError::AboveMax {
                        max: max.to_string(),
                    });
                }
                Ok(())
            }
            (ItemKind::Decimal { min, max }, AnswerValue::Decimal(x)) => {
                if !x.is_finite() {
                    return Err(wrong());
                }
                if let Some(min) = min.filter(|min| x < min) {
                    return Err(AnswerError::BelowMin {
                        min: min.to_string(),
                    });
                }
                if let Some(max) = max.filter(|max| x > max) {
                    return Err(AnswerError::AboveMax {
                        max: max.to_string(),
                    });
                }
                Ok(())
            }
            (ItemKind::Text { max_length }, AnswerValue::Text(text)) => {
                match max_length.filter(|max| text.chars().count() > *max as usize) {
                    Some(max) => Err(AnswerError::TooLong { max }),
                    None => Ok(()),
                }
            }
            (ItemKind::Date { min, max }, AnswerValue::Date(date)) => {
                if !is_date(date) {
                    return Err(AnswerError::BadDate);
                }
                if let Some(min) = min.as_ref().filter(|min| date < *min) {
                    return Err(AnswerError::DateBeforeMin { min: min.clone() });
                }
                if let Some(max) = max.as_ref().filter(|max| date > *max) {
                    return Err(AnswerError::DateAfterMax { max: max.clone() });
                }
                Ok(())
            }
            (ItemKind::Note, _) => Err(AnswerError::NoAnswerTaken),
            _ => Err(wrong()),
        }
    }
}
