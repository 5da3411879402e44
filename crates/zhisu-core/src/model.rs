use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::{AnswerValue, Background, BackgroundRole, Expression, Text};

/// A validated questionnaire. Built by [`Questionnaire::from_toml`] (or deserialised from a
/// model that was), so every reference in it resolves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Questionnaire {
    pub id: String,
    pub version: String,
    pub default_language: String,
    pub languages: Vec<String>,
    pub title: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    pub dimensions: Vec<Dimension>,
    /// A respondent has literacy when the score is at least this share (in percent) of the
    /// maximum. 80 by the national rule.
    pub literacy_threshold_percent: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligibility: Option<Eligibility>,
    #[serde(default)]
    pub sections: Vec<Section>,
    pub items: Vec<Item>,
    /// Which items play the background roles (population, age, …) and make the respondent
    /// fingerprint; the defaults when the file has no `[background]` table.
    #[serde(default)]
    pub background: Background,
    #[serde(skip)]
    pub(crate) index: ItemIndex,
}

/// Item id → position, built on first use (also after deserialising).
#[derive(Debug, Clone, Default)]
pub(crate) struct ItemIndex(OnceLock<HashMap<String, usize>>);

impl PartialEq for ItemIndex {
    fn eq(&self, _: &Self) -> bool {
        true // derived data: equal questionnaires have equal indexes
    }
}

/// Where a recording of the questionnaire read aloud can go: an item's question (`option`
/// empty) or one of its answers (a choice's key; `true` and `false` for a true/false item's two
/// answers). Recordings are made for a questionnaire version and delivered with it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RecordingSlot {
    pub item_id: String,
    /// Empty for the question itself.
    pub option: String,
}

impl Questionnaire {
    /// Every place a recording can go, in the questionnaire's order: each item's question,
    /// then each of its answers (every choice, whatever the choice filter offers).
    pub fn recording_slots(&self) -> Vec<RecordingSlot> {
        let mut slots = Vec::new();
        for item in &self.items {
            let slot = |option: &str| RecordingSlot {
                item_id: item.id.clone(),
                option: option.to_string(),
            };
            slots.push(slot(""));
            match &item.kind {
                ItemKind::TrueFalse => slots.extend([slot("true"), slot("false")]),
                kind => slots.extend(kind.choices().iter().map(|c| slot(&c.key))),
            }
        }
        slots
    }

    /// Whether `option` (empty for the question) of item `item_id` is a place for a recording.
    pub fn is_recording_slot(&self, item_id: &str, option: &str) -> bool {
        let Some(item) = self.item(item_id) else {
            return false;
        };
        match &item.kind {
            _ if option.is_empty() => true,
            ItemKind::TrueFalse => option == "true" || option == "false",
            kind => kind.choices().iter().any(|c| c.key == option),
        }
    }
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.item_index(id).map(|i| &self.items[i])
    }

    pub fn item_index(&self, id: &str) -> Option<usize> {
        self.index
            .0
            .get_or_init(|| {
                self.items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| (item.id.clone(), i))
                    .collect()
            })
            .get(id)
            .copied()
    }

    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }

    /// The population module an item belongs to, if any.
    pub fn module_of(&self, item: &Item) -> Option<&Section> {
        item.section
            .as_deref()
            .and_then(|s| self.section(s))
            .filter(|s| s.module.is_some())
    }

    /// The language an interview is done in when `wanted` is asked for (the surveyor's
    /// language, or the one an interview was started in): `wanted` when the questionnaire has
    /// it, else the questionnaire's default language.
    pub fn interview_language<'a>(&'a self, wanted: Option<&'a str>) -> &'a str {
        wanted
            .filter(|l| self.languages.iter().any(|x| x == l))
            .unwrap_or(&self.default_language)
    }

    /// The key a device and the server use to agree on which questionnaire an interview used.
    pub fn version_key(&self) -> (&str, &str) {
        (&self.id, &self.version)
    }
}

/// Who may be interviewed: when `condition` is false the interview ends with `message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Eligibility {
    pub condition: Expression,
    pub message: Text,
}

/// One of the literacy dimensions (law, protection knowledge, protection skills, behaviour).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimension {
    pub id: String,
    pub label: Text,
}

/// A group of items, asked in order. A section with a `module` is a population module: shown
/// only when relevant and scored on its own, apart from the national score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub id: String,
    pub title: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<Expression>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<Module>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Module {
    /// The key population the module is for (`teacher`, `construction`, …).
    pub population: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    pub label: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Text>,
    pub required: bool,
    pub kind: ItemKind,
    /// Offers "don't know", which counts as an answer and scores zero.
    #[serde(default)]
    pub dont_know: bool,
    /// Skip logic: the item is asked only when this is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<Expression>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<Constraint>,
    /// Which choices to offer; bare names are the choices' attributes (`district = ${district}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice_filter: Option<Expression>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// What the picture shows, in words (its text alternative): read by a screen reader and by
    /// the surveyor to a respondent who cannot see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_alt: Option<Text>,
    /// A recording of the item read aloud, for respondents who cannot read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scoring: Option<ScoringRule>,
    /// Shown to the respondent after the interview: why the right answer is right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Text>,
}

/// A rule on an answer, with `.` standing for the answer, and what to say when it is broken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Constraint {
    pub expression: Expression,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ItemKind {
    SingleChoice {
        choices: Vec<Choice>,
        /// A long list (industry, district) chosen by typing to search.
        #[serde(default)]
        search: bool,
    },
    MultipleChoice {
        choices: Vec<Choice>,
    },
    TrueFalse,
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Decimal {
        min: Option<f64>,
        max: Option<f64>,
    },
    Text {
        max_length: Option<u32>,
    },
    /// `YYYY-MM-DD`, with optional bounds in the same form.
    Date {
        min: Option<String>,
        max: Option<String>,
    },
    /// An ordered scale (never … always); answered like a single choice.
    Likert {
        choices: Vec<Choice>,
    },
    /// Text only, no answer.
    Note,
}

impl ItemKind {
    pub const NAMES: [&'static str; 9] = [
        "single_choice",
        "multiple_choice",
        "true_false",
        "integer",
        "decimal",
        "text",
        "date",
        "likert",
        "note",
    ];

    pub fn name(&self) -> &'static str {
        match self {
            ItemKind::SingleChoice { .. } => "single_choice",
            ItemKind::MultipleChoice { .. } => "multiple_choice",
            ItemKind::TrueFalse => "true_false",
            ItemKind::Integer { .. } => "integer",
            ItemKind::Decimal { .. } => "decimal",
            ItemKind::Text { .. } => "text",
            ItemKind::Date { .. } => "date",
            ItemKind::Likert { .. } => "likert",
            ItemKind::Note => "note",
        }
    }

    pub fn choices(&self) -> &[Choice] {
        match self {
            ItemKind::SingleChoice { choices, .. }
            | ItemKind::MultipleChoice { choices }
            | ItemKind::Likert { choices } => choices,
            _ => &[],
        }
    }

    pub fn takes_answer(&self) -> bool {
        !matches!(self, ItemKind::Note)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub key: String,
    pub label: Text,
    /// Extra attributes for choice filters (a street's `district`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// How a scored item counts: its dimension, its points and the right answer. Multiple choice
/// scores only on an exact match of the set of keys; "don't know" scores zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoringRule {
    pub dimension: String,
    pub points: u32,
    pub key: AnswerValue,
}

impl Questionnaire {
    /// The item that plays `role`, when this questionnaire has one (`None`: it does not ask).
    pub fn background_item(&self, role: BackgroundRole) -> Option<&Item> {
        self.item(self.background.roles.get(&role)?)
    }

    /// The fingerprint items this questionnaire has, in the declared order.
    pub fn fingerprint_items(&self) -> impl Iterator<Item = &Item> {
        self.background
            .fingerprint
            .iter()
            .filter_map(|id| self.item(id))
    }
}
