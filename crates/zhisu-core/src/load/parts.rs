//! What the readers of a questionnaire file share: the items, choice lists, dimensions and
//! sections read so far, expressions waiting for every item to be known, scoring as written.
//! Plain data (and one wording helper), so that `items`, `expressions` and `scoring` each
//! depend on it and never on each other in a circle.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::read::{suggest, Place};
use super::Reporter;
use crate::{shown, Choice, Dimension, Expression, Item};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum ExprRole {
    Relevant,
    Constraint,
    ChoiceFilter,
    SectionRelevant,
    Eligibility,
}

/// An expression whose references are checked once every item is known.
pub(super) struct Pending {
    pub role: ExprRole,
    pub place: Place,
    pub key: String,
    /// The item it belongs to (its own answer is `.`); for a section: its first item.
    pub item: Option<usize>,
    pub expression: Expression,
    pub at: usize,
}

/// A scoring key as written.
pub(super) enum WrittenKey {
    Bool(bool),
    Text(String),
    /// A list; `None` when some entry is not text.
    Texts(Option<Vec<String>>),
    Integer(Option<i64>),
    Other,
}

pub(super) struct RawScore {
    pub at: usize,
    pub dimension: Option<(String, usize)>,
    /// `None`: not written (one point); `Some(None)`: written wrong (reported).
    pub points: Option<Option<(i64, usize)>>,
    pub key: Option<(WrittenKey, usize)>,
}

pub(super) struct Dimensions {
    pub list: Vec<Dimension>,
    /// Where each is declared.
    pub at: HashMap<String, usize>,
}

pub(super) struct ChoiceList {
    pub choices: Vec<Choice>,
    pub keys: HashSet<String>,
    pub attributes: BTreeSet<String>,
    /// Written but not read (not a list of blocks, or too long), which was reported: items
    /// using it get no choices and no follow-on problem ("not defined", unknown keys).
    pub refused: bool,
}

impl ChoiceList {
    pub(super) fn refused() -> ChoiceList {
        ChoiceList {
            choices: Vec::new(),
            keys: HashSet::new(),
            attributes: BTreeSet::new(),
            refused: true,
        }
    }
}

pub(super) struct SectionInfo {
    pub relevant: Option<(Expression, usize)>,
    pub is_module: bool,
}

/// Items read so far, with what later checks need.
pub(super) struct ReadItems {
    pub items: Vec<Item>,
    /// Item id → position (the first, for a duplicate).
    pub positions: HashMap<String, usize>,
    /// Each item's choice list name (for key checks through the list's key set).
    pub lists: Vec<Option<String>>,
    /// Whether each item's kind was understood (else its type is unknown to expressions).
    pub kind_known: Vec<bool>,
    pub scores: Vec<Option<RawScore>>,
    pub pending: Vec<Pending>,
    pub section_first_item: HashMap<String, usize>,
    pub id_at: Vec<usize>,
}

/// `; did you mean 'x'?` in both languages, or nothing.
pub(super) fn did_you_mean<'c, C>(word: &str, candidates: C) -> (String, String)
where
    C: IntoIterator<Item = &'c str>,
    C::IntoIter: ExactSizeIterator,
{
    match suggest(word, candidates) {
        Some(s) => (format!("; did you mean '{s}'?"), format!("，是不是“{s}”？")),
        None => (String::new(), String::new()),
    }
}

/// What to write instead of a choice key the item does not have, in both languages: "did
/// you mean" the nearest key, else the keys there are (the first 10).
pub(super) fn instead_of_key(
    r: &mut Reporter,
    key: &str,
    choices: &[Choice],
    did_you_mean: bool,
) -> (String, String) {
    let nearest = (did_you_mean && r.may_suggest())
        .then(|| suggest(key, choices.iter().map(|c| c.key.as_str())))
        .flatten();
    if let Some(s) = nearest {
        let s = shown(s);
        return (format!("; did you mean '{s}'?"), format!("，是不是“{s}”？"));
    }
    if choices.is_empty() {
        return (String::new(), String::new());
    }
    let mut keys: Vec<String> = choices.iter().take(10).map(|c| shown(&c.key)).collect();
    if choices.len() > 10 {
        keys.push("…".into());
    }
    (
        format!("; write one of its keys: {}", keys.join(", ")),
        format!("；请写它的一个选项键：{}", keys.join("、")),
    )
}

/// What to write instead of a name that is not defined: "did you mean" the nearest of
/// `names` (none among more than 500), else how to define it and, when there are at most
/// 10, the names there are. `define` says how to define it, in English and Chinese
/// (`"add a [[sections]] block with id = \"x\""`).
pub(super) fn instead_of_name<'c, C>(
    r: &mut Reporter,
    word: &str,
    names: C,
    (define_en, define_zh): (&str, &str),
) -> (String, String)
where
    C: IntoIterator<Item = &'c str>,
    C::IntoIter: ExactSizeIterator + Clone,
{
    let names = names.into_iter();
    if let Some(s) = r
        .may_suggest()
        .then(|| suggest(word, names.clone()))
        .flatten()
    {
        let s = shown(s);
        return (format!("; did you mean '{s}'?"), format!("，是不是“{s}”？"));
    }
    // the names themselves only when there are few (sorted: a file always gets the same
    // message)
    let mut listed: Vec<&str> = if names.len() <= 10 {
        names.collect()
    } else {
        Vec::new()
    };
    listed.sort_unstable();
    let listed: Vec<String> = listed.into_iter().map(shown).collect();
    if listed.is_empty() {
        (format!("; {define_en}"), format!("；{define_zh}"))
    } else {
        (
            format!("; {define_en}, or write one of: {}", listed.join(", ")),
            format!("；{define_zh}，或写其中之一：{}", listed.join("、")),
        )
    }
}
