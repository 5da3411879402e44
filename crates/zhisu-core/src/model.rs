use serde::{Deserialize, Serialize};

use crate::{AnswerValue, Text};

/// A validated questionnaire. Built only by [`Questionnaire::from_toml`] (or deserialised from a
/// model that was), so every reference in it resolves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Questionnaire {
    pub id: String,
    pub version: String,
    pub default_language: String,
    pub languages: Vec<String>,
    pub title: Text,
    pub dimensions: Vec<Dimension>,
    /// A respondent has literacy when the score is at least this share (in percent) of the
    /// maximum. 80 by the national rule.
    pub literacy_threshold_percent: u32,
    pub items: Vec<Item>,
}

impl Questionnaire {
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|item| item.id == id)
    }

    pub fn item_index(&self, id: &str) -> Option<usize> {
        self.items.iter().position(|item| item.id == id)
    }

    /// The key a device and the server use to agree on which questionnaire an interview used.
    pub fn version_key(&self) -> (&str, &str) {
        (&self.id, &self.version)
    }
}

/// One of the literacy dimensions (law, protection knowledge, protection skills, behaviour).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimension {
    pub id: String,
    pub label: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub label: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Text>,
    pub required: bool,
    pub kind: ItemKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scoring: Option<ScoringRule>,
    /// Shown to the respondent after the interview: why the right answer is right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ItemKind {
    SingleChoice { choices: Vec<Choice> },
    MultipleChoice { choices: Vec<Choice> },
    TrueFalse,
    Integer { min: Option<i64>, max: Option<i64> },
}

impl ItemKind {
    pub fn name(&self) -> &'static str {
        match self {
            ItemKind::SingleChoice { .. } => "single_choice",
            ItemKind::MultipleChoice { .. } => "multiple_choice",
            ItemKind::TrueFalse => "true_false",
            ItemKind::Integer { .. } => "integer",
        }
    }

    pub fn choices(&self) -> &[Choice] {
        match self {
            ItemKind::SingleChoice { choices } | ItemKind::MultipleChoice { choices } => choices,
            ItemKind::TrueFalse | ItemKind::Integer { .. } => &[],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub key: String,
    pub label: Text,
}

/// How a scored item counts: its dimension, its points and the right answer. Multiple choice
/// scores only on an exact match of the set of keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoringRule {
    pub dimension: String,
    pub points: u32,
    pub key: AnswerValue,
}
