use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{Item, ItemKind, Questionnaire};

/// One answer as given. Serialised tagged (`{"type":"choice","value":"a"}`) so that a text answer
/// and a choice key can never be confused when more kinds arrive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum AnswerValue {
    Choice(String),
    Choices(Vec<String>),
    Bool(bool),
    Integer(i64),
}

impl AnswerValue {
    /// Multiple-choice answers compare as sets: the order of taps does not matter.
    pub fn normalized(&self) -> AnswerValue {
        match self {
            AnswerValue::Choices(keys) => {
                let set: BTreeSet<&String> = keys.iter().collect();
                AnswerValue::Choices(set.into_iter().cloned().collect())
            }
            other => other.clone(),
        }
    }
}

/// The answers of one interview so far, by item id.
pub type Answers = BTreeMap<String, AnswerValue>;

/// Why an answer does not fit its item. Messages are for the person holding the tablet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("this item takes a {expected} answer")]
    WrongKind { expected: &'static str },
    #[error("'{key}' is not one of this item's choices")]
    UnknownChoice { key: String },
    #[error("'{key}' is chosen twice")]
    RepeatedChoice { key: String },
    #[error("choose at least one answer")]
    NothingChosen,
    #[error("the number must be at least {min}")]
    BelowMin { min: i64 },
    #[error("the number must be at most {max}")]
    AboveMax { max: i64 },
}

impl AnswerError {
    /// A short, plain message in the interview language (zh-CN default, English second).
    pub fn message(&self, language: &str) -> String {
        if language.starts_with("en") {
            let mut text = self.to_string();
            if let Some(first) = text.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            return text;
        }
        match self {
            AnswerError::WrongKind { .. } => "答案的类型不对，请重新作答".to_string(),
            AnswerError::UnknownChoice { .. } => "请从列出的选项中选择".to_string(),
            AnswerError::RepeatedChoice { .. } => "同一个选项只能选一次".to_string(),
            AnswerError::NothingChosen => "请至少选择一项".to_string(),
            AnswerError::BelowMin { min } => format!("数字不能小于 {min}"),
            AnswerError::AboveMax { max } => format!("数字不能大于 {max}"),
        }
    }
}

impl Item {
    /// Checks that `value` is a possible answer to this item.
    pub fn check(&self, value: &AnswerValue) -> Result<(), AnswerError> {
        let wrong = || AnswerError::WrongKind {
            expected: self.kind.name(),
        };
        match (&self.kind, value) {
            (ItemKind::SingleChoice { choices }, AnswerValue::Choice(key)) => {
                if choices.iter().any(|c| &c.key == key) {
                    Ok(())
                } else {
                    Err(AnswerError::UnknownChoice { key: key.clone() })
                }
            }
            (ItemKind::MultipleChoice { choices }, AnswerValue::Choices(keys)) => {
                if keys.is_empty() {
                    return Err(AnswerError::NothingChosen);
                }
                let mut seen = BTreeSet::new();
                for key in keys {
                    if !choices.iter().any(|c| &c.key == key) {
                        return Err(AnswerError::UnknownChoice { key: key.clone() });
                    }
                    if !seen.insert(key) {
                        return Err(AnswerError::RepeatedChoice { key: key.clone() });
                    }
                }
                Ok(())
            }
            (ItemKind::TrueFalse, AnswerValue::Bool(_)) => Ok(()),
            (ItemKind::Integer { min, max }, AnswerValue::Integer(n)) => {
                if let Some(min) = min.filter(|min| n < min) {
                    return Err(AnswerError::BelowMin { min });
                }
                if let Some(max) = max.filter(|max| n > max) {
                    return Err(AnswerError::AboveMax { max });
                }
                Ok(())
            }
            _ => Err(wrong()),
        }
    }
}

/// A problem with a whole interview's answers, found before it may be completed or accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterviewProblem {
    #[error("item '{item_id}' is required but has no answer")]
    MissingRequired { item_id: String },
    #[error("item '{item_id}' is not in this questionnaire")]
    UnknownItem { item_id: String },
    #[error("item '{item_id}': {error}")]
    InvalidAnswer { item_id: String, error: AnswerError },
}

impl Questionnaire {
    /// Every problem with `answers` as a complete interview of this questionnaire.
    pub fn check_interview(&self, answers: &Answers) -> Vec<InterviewProblem> {
        let mut problems = Vec::new();
        for item_id in answers.keys() {
            if self.item(item_id).is_none() {
                problems.push(InterviewProblem::UnknownItem {
                    item_id: item_id.clone(),
                });
            }
        }
        for item in &self.items {
            match answers.get(&item.id) {
                Some(value) => {
                    if let Err(error) = item.check(value) {
                        problems.push(InterviewProblem::InvalidAnswer {
                            item_id: item.id.clone(),
                            error,
                        });
                    }
                }
                None if item.required => problems.push(InterviewProblem::MissingRequired {
                    item_id: item.id.clone(),
                }),
                None => {}
            }
        }
        problems
    }
}
