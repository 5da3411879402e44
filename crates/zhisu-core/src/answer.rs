use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{Text, DEFAULT_LANGUAGE};

/// One answer as given. Serialised tagged (`{"type":"choice","value":"a"}`) so that a text answer
/// and a choice key can never be confused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum AnswerValue {
    Choice(String),
    Choices(Vec<String>),
    Bool(bool),
    Integer(i64),
    Decimal(f64),
    Text(String),
    /// `YYYY-MM-DD`.
    Date(String),
    /// "Don't know", where the item offers it.
    DontKnow,
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
    BelowMin { min: String },
    #[error("the number must be at most {max}")]
    AboveMax { max: String },
    #[error("the text must be at most {max} characters")]
    TooLong { max: u32 },
    #[error("the date must look like 2026-03-01")]
    BadDate,
    #[error("the date must be on or after {min}")]
    DateBeforeMin { min: String },
    #[error("the date must be on or before {max}")]
    DateAfterMax { max: String },
    #[error("\"don't know\" is not offered for this item")]
    DontKnowNotOffered,
    #[error("this item takes no answer")]
    NoAnswerTaken,
    #[error("'{key}' is not offered given the earlier answers")]
    ChoiceFiltered { key: String },
    #[error("this item is not asked given the earlier answers")]
    NotRelevant,
    #[error("the answer breaks the rule: {}", .message.as_ref().map_or("", |m| m.get("en", DEFAULT_LANGUAGE)))]
    Constraint { message: Option<Text> },
}

impl AnswerError {
    /// A short, plain message in the interview language (zh-CN default, English second).
    pub fn message(&self, language: &str) -> String {
        if let AnswerError::Constraint { message: Some(m) } = self {
            return m.get(language, DEFAULT_LANGUAGE).to_string();
        }
        if language.starts_with("en") {
            let mut text = self.to_string();
            if let Some(first) = text.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            return text;
        }
        match self {
            AnswerError::WrongKind { .. } => "答案的类型不对，请重新作答".to_string(),
            AnswerError::UnknownChoice { .. } | AnswerError::ChoiceFiltered { .. } => {
                "请从列出的选项中选择".to_string()
            }
            AnswerError::RepeatedChoice { .. } => "同一个选项只能选一次".to_string(),
            AnswerError::NothingChosen => "请至少选择一项".to_string(),
            AnswerError::BelowMin { min } => format!("数字不能小于 {min}"),
            AnswerError::AboveMax { max } => format!("数字不能大于 {max}"),
            AnswerError::TooLong { max } => format!("最多只能写 {max} 个字"),
            AnswerError::BadDate => "请按“年-月-日”填写日期".to_string(),
            AnswerError::DateBeforeMin { min } => format!("日期不能早于 {min}"),
            AnswerError::DateAfterMax { max } => format!("日期不能晚于 {max}"),
            AnswerError::DontKnowNotOffered => "这道题不能选“不知道”".to_string(),
            AnswerError::NoAnswerTaken => "这一页不用作答".to_string(),
            AnswerError::NotRelevant => "根据前面的回答，这道题不用回答".to_string(),
            AnswerError::Constraint { .. } => {
                "这个答案和前面的回答对不上，请再核对一下".to_string()
            }
        }
    }
}

/// `YYYY-MM-DD` with a real month and day.
pub(crate) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|p| p.parse::<u32>().ok());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// A problem with a whole interview's answers, found before it may be completed or accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterviewProblem {
    #[error("the respondent is not eligible for this survey")]
    NotEligible,
    #[error("item '{item_id}' is required but has no answer")]
    MissingRequired { item_id: String },
    #[error("item '{item_id}' is not in this questionnaire")]
    UnknownItem { item_id: String },
    /// An answer to an item that the other answers skip: it was never asked.
    #[error("item '{item_id}' was not asked (the other answers skip it), yet it has an answer")]
    NotAsked { item_id: String },
    #[error("item '{item_id}': {error}")]
    InvalidAnswer { item_id: String, error: AnswerError },
}
