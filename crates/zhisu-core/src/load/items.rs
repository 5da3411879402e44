//! Dimensions, choice lists, sections and items.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use toml::de::{DeTable, DeValue};

use super::header::{texts, Languages};
use super::limits::{MAX_CHOICES_OVER_ITEMS, MAX_CHOICES_PER_LIST, MAX_ITEMS};
use super::media::{self, Media};
use super::names;
use super::parts::{
    did_you_mean, instead_of_name, ChoiceList, Dimensions, ExprRole, Pending, ReadItems,
    SectionInfo,
};
use super::read::{fields, Expect, Fields, Place, Str};
use super::scoring;
use super::Reporter;
use crate::{shown, Choice, Constraint, Dimension, Expression, Item, ItemKind, Module, Section};

pub(super) fn dimensions(
    r: &mut Reporter,
    top: &Fields<'_, '_>,
    languages: &Languages,
) -> Dimensions {
    let mut out = Dimensions {
        list: Vec::new(),
        at: HashMap::new(),
    };
    let Some((blocks, _)) = top.blocks(r, "dimensions") else {
        return out;
    };
    for (table, at) in blocks {
        let f = fields(
            r,
            table,
            at,
            &["id", "label"],
            Place::new("a dimension", "一个维度"),
        );
        let Some(id) = f.required_string(r, "id", "\"law\"") else {
            continue;
        };
        let place = Place::new(
            format!("dimension '{}'", shown(id.text)),
            format!("维度“{}”", shown(id.text)),
        );
        let f = f.with_place(place);
        let label = texts(r, &f, "label", languages, true).unwrap_or_default();
        if !names::identifier(r, &id, "dimension id", "维度 id") {
            continue;
        }
        if out.at.contains_key(id.text) {
            r.error(
                id.at,
                "duplicate-dimension",
                format!(
                    "dimension '{}' is defined twice; give this one an id of its own, or remove it",
                    id.text
                ),
                format!("维度“{}”定义了两次；请给这一个换一个 id，或删掉它", id.text),
            );
            continue;
        }
        out.at.insert(id.text.to_string(), id.at);
        out.list.push(Dimension {
            id: id.text.to_string(),
            label,
        });
    }
    out
}

pub(super) fn choice_lists(
    r: &mut Reporter,
    top: &Fields<'_, '_>,
    languages: &Languages,
) -> HashMap<String, ChoiceList> {
    let mut lists = HashMap::new();
    let Some((table, _)) = top.table(r, "choices") else {
        return lists;
    };
    for (name, value) in table.iter() {
        let name_text = name.get_ref().as_ref();
        let list_name = shown(name_text);
        let place = Place::new(
            format!("choice list '{list_name}'"),
            format!("选项列表“{list_name}”"),
        );
        let Some((blocks, at)) =
            super::read::blocks(r, &format!("choices.{list_name}"), value, &place)
        else {
            lists.insert(name_text.to_string(), ChoiceList::refused());
            continue;
        };
        if blocks.is_empty() {
            r.error(
                at,
                "empty-choice-list",
                format!("choice list '{list_name}' is empty; add its choices, each a [[choices.{list_name}]] block with key = \"…\" and label.\"zh-CN\" = \"…\""),
                format!("选项列表“{list_name}”是空的；请加上选项，每个选项一个 [[choices.{list_name}]] 块，写 key = \"…\" 和 label.\"zh-CN\" = \"…\""),
            );
        }
        if blocks.len() > MAX_CHOICES_PER_LIST {
            r.error(
                at,
                "too-many-choices",
                format!("choice list '{list_name}' has {} choices; at most {MAX_CHOICES_PER_LIST} are allowed: split it into smaller lists", blocks.len()),
                format!("选项列表“{list_name}”有 {} 个选项，最多 {MAX_CHOICES_PER_LIST} 个：请拆成几个较小的列表", blocks.len()),
            );
            lists.insert(name_text.to_string(), ChoiceList::refused());
            continue;
        }
        let mut list = ChoiceList {
            choices: Vec::with_capacity(blocks.len()),
            keys: HashSet::with_capacity(blocks.len()),
            attributes: BTreeSet::new(),
            refused: false,
        };
        for (table, at) in blocks {
            let f = fields(r, table, at, &["key", "label", "attributes"], place.clone());
            let key = f.required_string(r, "key", "\"a\"");
            let label = texts(r, &f, "label", languages, true).unwrap_or_default();
            let attributes = f
                .table(r, "attributes")
                .map(|(t, _)| attributes(r, t, &place))
                .unwrap_or_default();
            let Some(key) = key else { continue };
            if !names::choice_key(r, &key, name_text) {
                continue;
            }
            if !list.keys.insert(key.text.to_string()) {
                r.error(
                    key.at,
                    "duplicate-choice",
                    format!("choice key '{}' appears twice in list '{list_name}'; give this choice a key of its own", key.text),
                    format!("选项键“{}”在列表“{list_name}”里出现了两次；请给这个选项换一个不同的键", key.text),
                );
                continue;
            }
            list.attributes.extend(attributes.keys().cloned());
            list.choices.push(Choice {
                key: key.text.to_string(),
                label,
                attributes,
            });
        }
        lists.insert(name_text.to_string(), list);
    }
    lists
}

fn attributes(r: &mut Reporter, table: &DeTable<'_>, place: &Place) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, value) in table.iter() {
        let n = Str {
            text: name.get_ref().as_ref(),
            at: name.span().start,
            span: (name.span().start, name.span().end),
        };
        if !names::identifier(r, &n, "choice attribute", "选项属性") {
            continue;
        }
        match value.get_ref() {
            DeValue::String(s) => {
                names::prose(r, value.span().start, s, place, n.text);
                out.insert(n.text.to_string(), s.to_string());
            }
            _ => super::read::no_fields(place.clone()).wrong_type(r, n.text, value, Expect::Text),
        }
    }
    out
}

pub(super) fn sections(
    r: &mut Reporter,
    top: &Fields<'_, '_>,
    languages: &Languages,
) -> (Vec<Section>, HashMap<String, SectionInfo>) {
    let mut sections = Vec::new();
    let mut info = HashMap::new();
    let Some((blocks, _)) = top.blocks(r, "sections") else {
        return (sections, info);
    };
    for (table, at) in blocks {
        let f = fields(
            r,
            table,
            at,
            &["id", "title", "relevant", "scored_separately", "population"],
            Place::new("a section", "一个章节"),
        );
        let Some(id) = f.required_string(r, "id", "\"main\"") else {
            continue;
        };
        let place = Place::new(
            format!("section '{}'", shown(id.text)),
            format!("章节“{}”", shown(id.text)),
        );
        let f = f.with_place(place);
        let title = texts(r, &f, "title", languages, true).unwrap_or_default();
        let relevant = f.string(r, "relevant").and_then(|s| {
            super::expressions::parse(r, &s, &f.place, "relevant").map(|e| (e, s.at))
        });
        let separately = f.bool(r, "scored_separately").is_some_and(|(b, _)| b);
        let population = f.string(r, "population");
        if let Some(p) = &population {
            names::identifier(r, p, "population", "人群");
        }
        let module = match (population, separately) {
            (Some(p), true) => Some(Module {
                population: p.text.to_string(),
            }),
            (None, true) => {
                r.error(
                    f.key_at("scored_separately").unwrap_or(at),
                    "module-without-population",
                    format!("section '{}' is scored separately but names no population; add population = \"teacher\"", shown(id.text)),
                    format!("章节“{}”单独计分，但没有写人群；请加上 population = \"teacher\"", shown(id.text)),
                );
                None
            }
            (Some(p), false) => {
                r.error(
                    p.at,
                    "population-without-module",
                    format!(
                        "section '{}' names a population but is not scored separately; add scored_separately = true, or remove population",
                        shown(id.text)
                    ),
                    format!(
                        "章节“{}”写了人群，但不是单独计分；请加上 scored_separately = true，或删掉 population",
                        shown(id.text)
                    ),
                );
                None
            }
            (None, false) => None,
        };
        if !names::identifier(r, &id, "section id", "章节 id") {
            continue;
        }
        if info.contains_key(id.text) {
            r.error(
                id.at,
                "duplicate-section",
                format!(
                    "section '{}' is defined twice; give this one an id of its own, or remove it",
                    id.text
                ),
                format!("章节“{}”定义了两次；请给这一个换一个 id，或删掉它", id.text),
            );
            continue;
        }
        info.insert(
            id.text.to_string(),
            SectionInfo {
                relevant: relevant.clone(),
                is_module: module.is_some(),
            },
        );
        sections.push(Section {
            id: id.text.to_string(),
            title,
            relevant: relevant.map(|(e, _)| e),
            module,
        });
    }
    (sections, info)
}

const ITEM_KEYS: &[&str] = &[
    "id",
    "section",
    "kind",
    "label",
    "hint",
    "required",
    "choices",
    "search",
    "min",
    "max",
    "max_length",
    "dont_know",
    "relevant",
    "constraint",
    "constraint_message",
    "choice_filter",
    "image",
    "image_alt",
    "audio",
    "score",
    "explanation",
];

/// What validating the items needs to know besides the items.
pub(super) struct ItemContext<'a> {
    pub languages: &'a Languages,
    pub lists: &'a HashMap<String, ChoiceList>,
    pub sections: &'a HashMap<String, SectionInfo>,
    pub has_sections: bool,
}

pub(super) fn items(r: &mut Reporter, top: &Fields<'_, '_>, cx: &ItemContext<'_>) -> ReadItems {
    let mut out = ReadItems {
        items: Vec::new(),
        positions: HashMap::new(),
        lists: Vec::new(),
        kind_known: Vec::new(),
        scores: Vec::new(),
        pending: Vec::new(),
        section_first_item: HashMap::new(),
        id_at: Vec::new(),
    };
    if top.value("items").is_none() {
        r.error(
            top.at,
            "no-items",
            "a questionnaire needs at least one item: add an [[items]] block".into(),
            "问卷至少需要一个题目：请加上 [[items]] 块".into(),
        );
        return out;
    }
    let Some((blocks, at)) = top.blocks(r, "items") else {
        return out;
    };
    if blocks.is_empty() {
        r.error(
            at,
            "no-items",
            "a questionnaire needs at least one item: add an [[items]] block".into(),
            "问卷至少需要一个题目：请加上 [[items]] 块".into(),
        );
    }
    if blocks.len() > MAX_ITEMS {
        r.error(
            at,
            "too-many-items",
            format!(
                "the questionnaire has {} items; at most {MAX_ITEMS} are allowed: split it into several questionnaires",
                blocks.len()
            ),
            format!("问卷有 {} 个题目，最多 {MAX_ITEMS} 个：请拆成几份问卷", blocks.len()),
        );
        return out;
    }
    let mut choices_over_items = 0usize;
    for (table, at) in blocks {
        item(r, table, at, cx, &mut out, &mut choices_over_items);
    }
    out
}

fn item(
    r: &mut Reporter,
    table: &DeTable<'_>,
    at: usize,
    cx: &ItemContext<'_>,
    out: &mut ReadItems,
    choices_over_items: &mut usize,
) {
    let position = out.items.len();
    // the id first, so that every problem of the item (unknown keys too) names it
    let written_id = table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == "id")
        .and_then(|(_, v)| v.get_ref().as_str());
    let first_place = written_id.map_or_else(|| Place::new("an item", "一个题目"), Place::item);
    let f = fields(r, table, at, ITEM_KEYS, first_place);
    let id = f.required_string(r, "id", "\"q1\"");
    let id_text = id.map_or_else(|| format!("#{}", position + 1), |s| s.text.to_string());
    let f = f.with_place(Place::item(&id_text));
    let place = f.place.clone();
    if let Some(id) = &id {
        if names::identifier(r, id, "item id", "题目 id") && out.positions.contains_key(id.text) {
            r.error(
                id.at,
                "duplicate-item",
                format!(
                    "item '{}' is defined twice; give this one an id of its own, or remove it",
                    id.text
                ),
                format!("题目“{}”定义了两次；请给这一个换一个 id，或删掉它", id.text),
            );
        }
    }

    // section
    let section = f.string(r, "section");
    if let Some(s) = &section {
        if !cx.sections.contains_key(s.text) {
            let (en, zh) = instead_of_name(
                r,
                s.text,
                cx.sections.keys().map(String::as_str),
                (
                    &format!("add a [[sections]] block with id = \"{}\"", shown(s.text)),
                    &format!("请加上 id = \"{}\" 的 [[sections]] 块", shown(s.text)),
                ),
            );
            r.error(
                s.at,
                "unknown-section",
                format!(
                    "{}: section '{}' is not defined{en}",
                    place.en,
                    shown(s.text)
                ),
                format!("{}：没有定义章节“{}”{zh}", place.zh, shown(s.text)),
            );
        } else {
            out.section_first_item
                .entry(s.text.to_string())
                .or_insert(position);
        }
    } else if cx.has_sections && f.value("section").is_none() {
        r.error(
            id.map_or(at, |i| i.at),
            "item-without-section",
            format!(
                "{}: has no section, but the questionnaire has sections; add section = \"…\"",
                place.en
            ),
            format!(
                "{}：没有写章节，但问卷分了章节；请加上 section = \"…\"",
                place.zh
            ),
        );
    }

    let label = texts(r, &f, "label", cx.languages, true).unwrap_or_default();
    let hint = texts(r, &f, "hint", cx.languages, false);
    let explanation = texts(r, &f, "explanation", cx.languages, false);

    // kind
    if f.value("kind").is_none() {
        f.missing_with(
            r,
            "kind",
            "\"single_choice\"",
            (
                &format!(" or another kind: {}", ItemKind::NAMES.join(", ")),
                &format!("，或其他题型：{}", ItemKind::NAMES.join("、")),
            ),
        );
    }
    let kind_name = f.string(r, "kind");
    let kind_name = kind_name.and_then(|k| {
        if ItemKind::NAMES.contains(&k.text) {
            Some(k.text)
        } else {
            let (en, zh) = did_you_mean(k.text, ItemKind::NAMES.iter().copied());
            let (en, zh) = if en.is_empty() {
                (
                    format!("; the kinds are: {}", ItemKind::NAMES.join(", ")),
                    format!("；可用的题型有：{}", ItemKind::NAMES.join("、")),
                )
            } else {
                (en, zh)
            };
            r.error(
                k.at,
                "unknown-kind",
                format!("{}: unknown item kind '{}'{en}", place.en, shown(k.text)),
                format!("{}：没有“{}”这种题型{zh}", place.zh, shown(k.text)),
            );
            None
        }
    });
    let kind = kind_name.map(|k| kind_of(r, &f, k, cx, choices_over_items));
    let kind_known = kind.is_some();
    let list_name = kind_name
        .filter(|k| matches!(*k, "single_choice" | "multiple_choice" | "likert"))
        .and(f.string(r, "choices"))
        .map(|s| s.text.to_string());
    let kind = kind.unwrap_or(ItemKind::Note);

    let required = f.bool(r, "required");
    let dont_know = f.bool(r, "dont_know");
    if kind_known && !kind.takes_answer() {
        for (key, value) in [("required", required), ("dont_know", dont_know)] {
            if let Some((true, at)) = value {
                r.error(
                    at,
                    "note-takes-no-answer",
                    format!("{}: is a note and takes no answer, so no {key}; remove {key}, or give the item a kind that takes an answer", place.en),
                    format!("{}：是说明（note），不需要回答，所以不能有 {key}；请删掉 {key}，或改成需要回答的题型", place.zh),
                );
            }
        }
    }

    // expressions: parsed now, checked once every item is known
    let mut expression = |r: &mut Reporter, key: &str, role: ExprRole| -> Option<Expression> {
        let s = f.string(r, key)?;
        let e = super::expressions::parse(r, &s, &place, key)?;
        out.pending.push(Pending {
            role,
            place: place.clone(),
            key: key.to_string(),
            item: Some(position),
            expression: e.clone(),
            at: s.at,
        });
        Some(e)
    };
    let relevant = expression(r, "relevant", ExprRole::Relevant);
    let choice_filter = expression(r, "choice_filter", ExprRole::ChoiceFilter);
    let constraint_expression = expression(r, "constraint", ExprRole::Constraint);
    if let Some(at) = f.key_at("choice_filter") {
        if kind_known && kind.choices().is_empty() && list_name.is_none() {
            r.error(
                at,
                "filter-without-choices",
                format!(
                    "{}: choice_filter applies to items with choices only; remove it",
                    place.en
                ),
                format!("{}：choice_filter 只能用于有选项的题目；请删掉它", place.zh),
            );
        }
    }
    let constraint_message = texts(r, &f, "constraint_message", cx.languages, false);
    if let (Some(at), None) = (f.key_at("constraint_message"), f.value("constraint")) {
        r.error(
            at,
            "message-without-constraint",
            format!("{}: has a constraint_message but no constraint; add constraint = \"…\", or remove constraint_message", place.en),
            format!("{}：有 constraint_message，却没有 constraint；请加上 constraint = \"…\"，或删掉 constraint_message", place.zh),
        );
    }
    if let (Some(at), true) = (f.key_at("constraint"), kind_known && !kind.takes_answer()) {
        r.error(
            at,
            "note-takes-no-answer",
            format!(
                "{}: is a note and takes no answer, so no constraint; remove constraint, or give the item a kind that takes an answer",
                place.en
            ),
            format!(
                "{}：是说明（note），不需要回答，所以不能有 constraint；请删掉 constraint，或改成需要回答的题型",
                place.zh
            ),
        );
    }
    let constraint = constraint_expression.map(|expression| Constraint {
        expression,
        message: constraint_message,
    });

    // media
    let image = f.string(r, "image");
    if let Some(s) = &image {
        media::check(r, s, Media::Image, &place);
    }
    let image_alt = texts(r, &f, "image_alt", cx.languages, false);
    if let (Some(at), None) = (f.key_at("image_alt"), f.value("image")) {
        r.error(
            at,
            "image-alt-without-image",
            format!("{}: has an image_alt but no image; add image = \"images/….png\", or remove image_alt", place.en),
            format!("{}：有 image_alt（图片的文字说明），却没有 image；请加上 image = \"images/….png\"，或删掉 image_alt", place.zh),
        );
    }
    let audio = f.string(r, "audio");
    if let Some(s) = &audio {
        media::check(r, s, Media::Audio, &place);
    }

    // scoring: read now, checked against the kind and the dimensions later
    let score = f
        .table(r, "score")
        .map(|(t, at)| scoring::read(r, t, at, &place, kind_known.then_some(&kind)));

    if let Some(id) = &id {
        out.positions.entry(id.text.to_string()).or_insert(position);
    }
    out.id_at.push(id.map_or(at, |i| i.at));
    out.lists.push(list_name);
    out.kind_known.push(kind_known);
    out.scores.push(score);
    out.items.push(Item {
        id: id_text,
        section: section.map(|s| s.text.to_string()),
        label,
        hint,
        required: required.is_some_and(|(b, _)| b),
        kind,
        dont_know: dont_know.is_some_and(|(b, _)| b),
        relevant,
        constraint,
        choice_filter,
        image: image.map(|s| s.text.to_string()),
        image_alt,
        audio: audio.map(|s| s.text.to_string()),
        scoring: None,
        explanation,
    });
}

/// The kind with its choices and bounds; keys that do not fit the kind are reported.
fn kind_of(
    r: &mut Reporter,
    f: &Fields<'_, '_>,
    kind: &str,
    cx: &ItemContext<'_>,
    choices_over_items: &mut usize,
) -> ItemKind {
    let place = &f.place;
    let takes_choices = matches!(kind, "single_choice" | "multiple_choice" | "likert");
    let only = |r: &mut Reporter, key: &str, en: &str, zh: &str| {
        if let Some(at) = f.key_at(key) {
            r.error(
                at,
                "key-not-for-kind",
                format!(
                    "{}: {key} applies to {en} only, and this item is {kind}; remove {key}",
                    place.en
                ),
                format!(
                    "{}：{key} 只能用于{zh}，而这个题目是 {kind}；请删掉 {key}",
                    place.zh
                ),
            );
        }
    };
    let choices: Vec<Choice> = if takes_choices {
        match f.string(r, "choices") {
            Some(list) => match cx.lists.get(list.text) {
                Some(l) if l.refused => Vec::new(),
                Some(l) => {
                    let before = *choices_over_items;
                    *choices_over_items = before.saturating_add(l.choices.len());
                    if *choices_over_items > MAX_CHOICES_OVER_ITEMS {
                        // said once, at the item that goes past the limit
                        if before <= MAX_CHOICES_OVER_ITEMS {
                            r.error(
                                list.at,
                                "too-many-choices",
                                format!("{}: from here on the items offer more than {MAX_CHOICES_OVER_ITEMS} choices in all (a list counts once for each item that uses it): use shorter lists, or split the questionnaire", place.en),
                                format!("{}：从这里起所有题目的选项总数超过 {MAX_CHOICES_OVER_ITEMS}（一个列表被几个题目使用就算几次）：请用较短的列表，或把问卷拆开", place.zh),
                            );
                        }
                        Vec::new()
                    } else {
                        l.choices.clone()
                    }
                }
                None => {
                    let (en, zh) = instead_of_name(
                        r,
                        list.text,
                        cx.lists.keys().map(String::as_str),
                        (
                            &format!("add its choices as [[choices.{}]] blocks", shown(list.text)),
                            &format!("请用 [[choices.{}]] 块写出它的选项", shown(list.text)),
                        ),
                    );
                    r.error(
                        list.at,
                        "unknown-choice-list",
                        format!(
                            "{}: choice list '{}' is not defined{en}",
                            place.en,
                            shown(list.text)
                        ),
                        format!("{}：没有定义选项列表“{}”{zh}", place.zh, shown(list.text)),
                    );
                    Vec::new()
                }
            },
            None => {
                if f.value("choices").is_none() {
                    r.error(
                        f.at,
                        "missing-choices",
                        format!(
                            "{}: is {kind} but names no choice list; add choices = \"…\"",
                            place.en
                        ),
                        format!(
                            "{}：是 {kind}，但没有写选项列表；请加上 choices = \"…\"",
                            place.zh
                        ),
                    );
                }
                Vec::new()
            }
        }
    } else {
        only(
            r,
            "choices",
            "single_choice, multiple_choice and likert items",
            "单选、多选和量表题",
        );
        Vec::new()
    };
    if kind != "single_choice" {
        only(r, "search", "single_choice items", "单选题");
    }
    if kind != "text" {
        only(r, "max_length", "text items", "文字题");
    }
    let search = f.bool(r, "search").is_some_and(|(b, _)| b);
    let max_length = if kind == "text" {
        f.whole_number(r, "max_length", 1)
            .map(|(n, _)| u32::try_from(n).unwrap_or(u32::MAX))
    } else {
        None
    };
    let bounded = matches!(kind, "integer" | "decimal" | "date");
    if !bounded {
        only(
            r,
            "min",
            "integer, decimal and date items",
            "整数、小数和日期题",
        );
        only(
            r,
            "max",
            "integer, decimal and date items",
            "整数、小数和日期题",
        );
    }
    let bound = |r: &mut Reporter, key: &str| -> Option<Bound> {
        let value = f.value(key).filter(|_| bounded)?;
        let bound = match (kind, value.get_ref()) {
            ("integer", DeValue::Integer(n)) => super::read::integer(n).map(Bound::Int),
            ("decimal", DeValue::Integer(n)) => {
                super::read::integer(n).map(|n| Bound::Float(n as f64))
            }
            ("decimal", DeValue::Float(x)) => x
                .as_str()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Bound::Float),
            ("date", DeValue::String(d)) if crate::answer::is_date(d) => {
                Some(Bound::Date(d.to_string()))
            }
            _ => None,
        };
        if bound.is_none() {
            let (en, zh) = match kind {
                "integer" => ("a whole number, like 16", "整数，如 16"),
                "decimal" => ("a number, like 2.5", "数字，如 2.5"),
                _ => (
                    "a date in quotes, like \"2026-03-01\"",
                    "带引号的日期，如 \"2026-03-01\"",
                ),
            };
            r.error(
                value.span().start,
                "bad-bound",
                format!("{}: {key} must be {en}", place.en),
                format!("{}：{key} 应是{zh}", place.zh),
            );
        }
        bound.map(|b| (b, value.span().start)).map(|(b, _)| b)
    };
    let min = bound(r, "min");
    let max = bound(r, "max");
    if let (Some(lo), Some(hi), Some(at)) = (&min, &max, f.value("min")) {
        if lo.greater_than(hi) {
            r.error(
                at.span().start,
                "min-above-max",
                format!(
                    "{}: min ({}) is greater than max ({}); swap them: min = {}, max = {}",
                    place.en,
                    lo.written(),
                    hi.written(),
                    hi.written(),
                    lo.written()
                ),
                format!(
                    "{}：min（{}）大于 max（{}）；请对调：min = {}，max = {}",
                    place.zh,
                    lo.written(),
                    hi.written(),
                    hi.written(),
                    lo.written()
                ),
            );
        }
    }
    match kind {
        "single_choice" => ItemKind::SingleChoice { choices, search },
        "multiple_choice" => ItemKind::MultipleChoice { choices },
        "likert" => ItemKind::Likert { choices },
        "true_false" => ItemKind::TrueFalse,
        "integer" => ItemKind::Integer {
            min: min.and_then(Bound::int),
            max: max.and_then(Bound::int),
        },
        "decimal" => ItemKind::Decimal {
            min: min.and_then(Bound::float),
            max: max.and_then(Bound::float),
        },
        "date" => ItemKind::Date {
            min: min.and_then(Bound::date),
            max: max.and_then(Bound::date),
        },
        "text" => ItemKind::Text { max_length },
        _ => ItemKind::Note,
    }
}

enum Bound {
    Int(i64),
    Float(f64),
    Date(String),
}

impl Bound {
    fn int(self) -> Option<i64> {
        match self {
            Bound::Int(n) => Some(n),
            _ => None,
        }
    }
    fn float(self) -> Option<f64> {
        match self {
            Bound::Float(x) => Some(x),
            _ => None,
        }
    }
    fn date(self) -> Option<String> {
        match self {
            Bound::Date(d) => Some(d),
            _ => None,
        }
    }
    /// As it would be written in the file.
    fn written(&self) -> String {
        match self {
            Bound::Int(n) => n.to_string(),
            Bound::Float(x) => format!("{x:?}"),
            Bound::Date(d) => format!("\"{d}\""),
        }
    }
    fn greater_than(&self, other: &Bound) -> bool {
        match (self, other) {
            (Bound::Int(a), Bound::Int(b)) => a > b,
            (Bound::Float(a), Bound::Float(b)) => a > b,
            (Bound::Date(a), Bound::Date(b)) => a > b,
            _ => false,
        }
    }
}
