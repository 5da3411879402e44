//! Scoring: each scored item's rule (dimension, points, key), then the questionnaire as a whole:
//! every declared dimension scores at least one item of the national test, a threshold has
//! something to apply to, and the points add up without overflow.

use std::collections::{HashMap, HashSet};

use toml::de::{DeTable, DeValue};

use super::limits::{MAX_POINTS_PER_ITEM, MAX_TOTAL_POINTS};
use super::parts::{
    instead_of_key, instead_of_name, Dimensions, RawScore, ReadItems, SectionInfo, WrittenKey,
};
use super::read::{fields, Place};
use super::Reporter;
use crate::{shown, AnswerValue, Item, ItemKind, ScoringRule};

/// An item's `score = { … }` as written; `kind` (when understood) gives the example of a
/// missing key.
pub(super) fn read(
    r: &mut Reporter,
    table: &DeTable<'_>,
    at: usize,
    place: &Place,
    kind: Option<&ItemKind>,
) -> RawScore {
    let place = Place::new(
        format!("{}, score", place.en),
        format!("{}的 score", place.zh),
    );
    let f = fields(r, table, at, &["dimension", "points", "key"], place);
    let dimension = f
        .required_string(r, "dimension", "\"law\"")
        .map(|s| (s.text.to_string(), s.at));
    let points = f.value("points").map(|_| f.whole_number(r, "points", 1));
    if f.value("key").is_none() {
        // the keys of the item's list, a few of them, for the author to pick from
        let keys = |choices: &[crate::Choice]| {
            let mut keys: Vec<String> = choices
                .iter()
                .take(8)
                .map(|c| format!("\"{}\"", shown(&c.key)))
                .collect();
            if choices.len() > 8 {
                keys.push("…".into());
            }
            keys
        };
        let (example, note_en, note_zh) = match kind {
            Some(ItemKind::SingleChoice { choices, .. }) if !choices.is_empty() => (
                "\"…\"",
                format!(
                    " with the key of the right choice: {}",
                    keys(choices).join(", ")
                ),
                format!("，填正确选项的键：{}", keys(choices).join("、")),
            ),
            Some(ItemKind::MultipleChoice { choices }) if !choices.is_empty() => (
                "[\"…\", \"…\"]",
                format!(
                    " with the keys of every right choice: {}",
                    keys(choices).join(", ")
                ),
                format!("，填所有正确选项的键：{}", keys(choices).join("、")),
            ),
            Some(ItemKind::SingleChoice { .. }) => (
                "\"…\"",
                " with the key of the right choice".into(),
                "，填正确选项的键".into(),
            ),
            Some(ItemKind::MultipleChoice { .. }) => (
                "[\"…\", \"…\"]",
                " with the keys of every right choice".into(),
                "，填所有正确选项的键".into(),
            ),
            Some(ItemKind::Integer { .. }) => {
                ("3", " (the right number)".into(), "（正确的数）".into())
            }
            _ => (
                "true",
                " (or false: the right answer)".into(),
                "（或 false：正确答案）".into(),
            ),
        };
        f.missing_with(r, "key", example, (&note_en, &note_zh));
    }
    let key = f.value("key").map(|v| {
        let key = match v.get_ref() {
            DeValue::Boolean(b) => WrittenKey::Bool(*b),
            DeValue::String(s) => WrittenKey::Text(s.to_string()),
            DeValue::Integer(n) => WrittenKey::Integer(super::read::integer(n)),
            DeValue::Array(values) => WrittenKey::Texts(
                values
                    .iter()
                    .map(|v| v.get_ref().as_str().map(str::to_string))
                    .collect(),
            ),
            _ => WrittenKey::Other,
        };
        (key, v.span().start)
    });
    RawScore {
        at,
        dimension,
        points,
        key,
    }
}

/// Turns each item's score into a rule; then checks the questionnaire's scoring as a whole.
pub(super) fn rules(
    r: &mut Reporter,
    read: &mut ReadItems,
    dimensions: &Dimensions,
    sections: &HashMap<String, SectionInfo>,
    threshold: Option<(u32, usize)>,
) {
    // dimensions named by an item of the national test (module items score apart)
    let mut national: HashSet<String> = HashSet::new();
    let mut any_unknown_dimension = false;
    let mut total: u64 = 0;
    let mut total_reported = false;
    for i in 0..read.items.len() {
        let Some(score) = read.scores[i].take() else {
            continue;
        };
        let item = &read.items[i];
        let place = Place::item(&item.id);
        let in_module = item
            .section
            .as_deref()
            .and_then(|s| sections.get(s))
            .is_some_and(|s| s.is_module);
        let dimension_ok = match &score.dimension {
            Some((d, at)) => {
                if dimensions.at.contains_key(d) {
                    if !in_module {
                        national.insert(d.clone());
                    }
                    true
                } else {
                    any_unknown_dimension = true;
                    let (en, zh) = instead_of_name(
                        r,
                        d,
                        dimensions.list.iter().map(|x| x.id.as_str()),
                        (
                            &format!("add a [[dimensions]] block with id = \"{}\"", shown(d)),
                            &format!("请加上 id = \"{}\" 的 [[dimensions]] 块", shown(d)),
                        ),
                    );
                    r.error(
                        *at,
                        "unknown-dimension",
                        format!(
                            "{}: is scored in dimension '{}', which is not defined{en}",
                            place.en,
                            shown(d)
                        ),
                        format!(
                            "{}：计入维度“{}”，但没有定义这个维度{zh}",
                            place.zh,
                            shown(d)
                        ),
                    );
                    false
                }
            }
            None => false,
        };
        let points = match score.points {
            None => Some(1),
            Some(None) => None,
            Some(Some((p, at))) if p > i64::from(MAX_POINTS_PER_ITEM) => {
                r.error(
                    at,
                    "too-many-points",
                    format!(
                        "{}: points is {p}; an item may be worth at most {MAX_POINTS_PER_ITEM}: write points = {MAX_POINTS_PER_ITEM} or less",
                        place.en
                    ),
                    format!(
                        "{}：points 是 {p}，一个题目最多 {MAX_POINTS_PER_ITEM} 分：请写 points = {MAX_POINTS_PER_ITEM} 或更小的数",
                        place.zh
                    ),
                );
                None
            }
            Some(Some((p, _))) => u32::try_from(p).ok(),
        };
        if let Some(p) = points {
            total = total.saturating_add(u64::from(p));
            if total > MAX_TOTAL_POINTS && !total_reported {
                total_reported = true;
                r.error(
                    score.at,
                    "too-many-points",
                    format!("{}: from here on the questionnaire is worth more than {MAX_TOTAL_POINTS} points in all: give the items fewer points", place.en),
                    format!("{}：从这里起问卷总分超过 {MAX_TOTAL_POINTS}：请减少各题的分数", place.zh),
                );
            }
        }
        let key = score
            .key
            .as_ref()
            .and_then(|(key, at)| answer_key(r, item, key, *at, &place));
        let scorable = matches!(
            item.kind,
            ItemKind::TrueFalse
                | ItemKind::SingleChoice { .. }
                | ItemKind::MultipleChoice { .. }
                | ItemKind::Integer { .. }
        );
        if item.explanation.is_none() && scorable {
            r.error(
                read.id_at[i],
                "scored-without-explanation",
                format!("{}: is scored but has no explanation for the respondent; add explanation.\"zh-CN\" = \"…\"", place.en),
                format!("{}：计分题缺少给受访者的解释；请加上 explanation.\"zh-CN\" = \"…\"", place.zh),
            );
        }
        if let (true, Some(points), Some(key), Some((dimension, _))) =
            (dimension_ok, points, key, &score.dimension)
        {
            read.items[i].scoring = Some(ScoringRule {
                dimension: dimension.clone(),
                points,
                key,
            });
        }
    }
    // a dimension without national items; not said when an item names a dimension that does
    // not exist (a misspelt dimension would make every other one look empty)
    if !any_unknown_dimension {
        for d in &dimensions.list {
            if !national.contains(&d.id) {
                r.error(
                    dimensions.at[&d.id],
                    "empty-dimension",
                    format!("dimension '{}' has no scored items in the national test (items of scored_separately sections do not count); score at least one item in it or remove it", d.id),
                    format!("维度“{}”在全国统一测试部分没有计分题（单独计分章节的题目不算）；请至少给它一个计分题，或删除这个维度", d.id),
                );
            }
        }
    }
    if let Some((_, at)) = threshold {
        if dimensions.list.is_empty() {
            r.error(
                at,
                "threshold-without-scoring",
                "literacy_threshold_percent is set but the questionnaire declares no dimensions and scores nothing: the cut score would be 0 and everyone would count as literate; add [[dimensions]] and scored items, or remove the threshold".into(),
                "写了 literacy_threshold_percent，但问卷没有维度、也没有计分题：及格分会是 0，人人都算具备素养；请加上 [[dimensions]] 和计分题，或删除这个阈值".into(),
            );
        }
    }
}

/// The scoring key as an answer of the item's kind, checked like an answer.
fn answer_key(
    r: &mut Reporter,
    item: &Item,
    key: &WrittenKey,
    at: usize,
    place: &Place,
) -> Option<AnswerValue> {
    let value = match (&item.kind, key) {
        (ItemKind::TrueFalse, WrittenKey::Bool(b)) => Some(AnswerValue::Bool(*b)),
        (ItemKind::SingleChoice { .. }, WrittenKey::Text(k)) => {
            Some(AnswerValue::Choice(k.clone()))
        }
        (ItemKind::MultipleChoice { .. }, WrittenKey::Texts(Some(keys))) => {
            Some(AnswerValue::Choices(keys.clone()))
        }
        (ItemKind::Integer { .. }, WrittenKey::Integer(Some(n))) => Some(AnswerValue::Integer(*n)),
        _ => None,
    };
    let Some(value) = value else {
        let (en, zh) = match &item.kind {
            ItemKind::TrueFalse => ("true or false", "true 或 false"),
            ItemKind::SingleChoice { .. } => (
                "one choice key in quotes, like \"a\"",
                "带引号的一个选项键，如 \"a\"",
            ),
            ItemKind::MultipleChoice { .. } => (
                "a list of choice keys, like [\"a\", \"b\"]",
                "选项键列表，如 [\"a\", \"b\"]",
            ),
            ItemKind::Integer { .. } => ("a whole number", "整数"),
            other => {
                r.error(
                    at,
                    "not-scorable",
                    format!("{}: is a {} item and cannot be scored; only true_false, single_choice, multiple_choice and integer items can: remove score, or change the kind", place.en, other.name()),
                    format!("{}：是 {} 题，不能计分；只有 true_false、single_choice、multiple_choice 和 integer 题可以计分：请删掉 score，或改题型", place.zh, other.name()),
                );
                return None;
            }
        };
        let space = if zh.starts_with(|c: char| c.is_ascii()) {
            " "
        } else {
            ""
        };
        r.error(
            at,
            "bad-scoring-key",
            format!("{}: the scoring key must be {en}", place.en),
            format!("{}：计分答案（key）应是{space}{zh}", place.zh),
        );
        return None;
    };
    if item.kind.choices().is_empty()
        && matches!(
            item.kind,
            ItemKind::SingleChoice { .. } | ItemKind::MultipleChoice { .. }
        )
    {
        // its choice list is missing or refused, which was reported: no follow-on
        return None;
    }
    // choice keys are checked here, through a set (a key may list many choices of a long
    // list), each problem saying what to write instead
    if let AnswerValue::Choice(_) | AnswerValue::Choices(_) = &value {
        return choice_keys(r, item, value, at, place);
    }
    let probe = Item {
        scoring: None,
        ..item.clone()
    };
    if let Err(error) = probe.check(&value) {
        r.error(
            at,
            "bad-scoring-key",
            format!(
                "{}: the scoring key is not a valid answer: {}",
                place.en,
                error.message("en")
            ),
            format!(
                "{}：计分答案（key）不是有效的答案：{}",
                place.zh,
                error.message("zh-CN")
            ),
        );
        return None;
    }
    Some(value.normalized())
}

/// A scoring key of a choice item: every key one of the item's choices, a list not empty and
/// without repeats. Linear in the keys and choices.
fn choice_keys(
    r: &mut Reporter,
    item: &Item,
    value: AnswerValue,
    at: usize,
    place: &Place,
) -> Option<AnswerValue> {
    let written: &[String] = match &value {
        AnswerValue::Choice(k) => std::slice::from_ref(k),
        AnswerValue::Choices(keys) => keys,
        _ => &[],
    };
    let choices = item.kind.choices();
    let known: HashSet<&str> = choices.iter().map(|c| c.key.as_str()).collect();
    let mut seen: HashSet<&str> = HashSet::with_capacity(written.len());
    let mut ok = true;
    let mut unknown = 0;
    for k in written {
        if !known.contains(k.as_str()) {
            ok = false;
            unknown += 1;
            // "did you mean" for the first few: each is a search of the choices
            let (hint_en, hint_zh) = instead_of_key(r, k, choices, unknown <= 20);
            r.error(
                at,
                "bad-scoring-key",
                format!(
                    "{}: the scoring key '{}' is not one of the item's choices{hint_en}",
                    place.en,
                    shown(k)
                ),
                format!(
                    "{}：计分答案（key）“{}”不是这个题目的选项{hint_zh}",
                    place.zh,
                    shown(k)
                ),
            );
        } else if !seen.insert(k) {
            ok = false;
            r.error(
                at,
                "bad-scoring-key",
                format!(
                    "{}: the scoring key lists '{}' twice; list each right choice once",
                    place.en,
                    shown(k)
                ),
                format!(
                    "{}：计分答案（key）把“{}”列了两次；每个正确选项只列一次",
                    place.zh,
                    shown(k)
                ),
            );
        }
    }
    if written.is_empty() {
        ok = false;
        r.error(
            at,
            "bad-scoring-key",
            format!(
                "{}: the scoring key is an empty list; write the keys of every right choice, like [\"a\", \"b\"]",
                place.en
            ),
            format!(
                "{}：计分答案（key）是空列表；请写出所有正确选项的键，如 [\"a\", \"b\"]",
                place.zh
            ),
        );
    }
    ok.then(|| value.normalized())
}
