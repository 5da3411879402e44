//! `[background]`: every role names an item of the right kind; the fingerprint lists items that
//! take answers, each once. A role not named keeps its default item.

use super::parts::ReadItems;
use super::read::{fields, suggest, Fields, Place, Str};
use super::Reporter;
use crate::{shown, Background, BackgroundRole, ItemKind};

const ROLES: [BackgroundRole; 10] = BackgroundRole::ALL;

const KEYS: &[&str] = &[
    "population",
    "age",
    "sex",
    "education",
    "industry",
    "employer_size",
    "ownership",
    "employment_form",
    "migrant",
    "travel_direction",
    "fingerprint",
];

pub(super) fn background(r: &mut Reporter, top: &Fields<'_, '_>, read: &ReadItems) -> Background {
    let mut background = Background::default();
    let Some((table, at)) = top.table(r, "background") else {
        return background;
    };
    let f = fields(
        r,
        table,
        at,
        KEYS,
        Place::new("[background]", "[background]"),
    );
    let item_of = |s: &Str<'_>| read.positions.get(s.text).map(|&i| &read.items[i]);
    let not_an_item = |r: &mut Reporter, s: &Str<'_>, en: String, zh: String| {
        let nearest = r
            .may_suggest()
            .then(|| suggest(s.text, read.positions.keys().map(String::as_str)))
            .flatten();
        let (hint_en, hint_zh) = match nearest {
            Some(id) => (
                format!("; did you mean '{}'?", shown(id)),
                format!("，是不是“{}”？", shown(id)),
            ),
            None => (
                "; write the id of an item".to_string(),
                "；请写某个题目的 id".to_string(),
            ),
        };
        r.error(
            s.at,
            "unknown-background-item",
            format!("{en}{hint_en}"),
            format!("{zh}{hint_zh}"),
        );
    };
    for role in ROLES {
        let key = role.name();
        let Some(s) = f.string(r, key) else { continue };
        let id = shown(s.text);
        match item_of(&s) {
            None => not_an_item(
                r,
                &s,
                format!("background {key} is '{id}', which is not an item"),
                format!("background 的 {key} 是“{id}”，但没有这个题目"),
            ),
            Some(item) if item.kind.name() != role.kind() => r.error(
                s.at,
                "wrong-background-kind",
                format!(
                    "background {key} is '{id}', which is {} and must be {}; write the id of an item of kind {}",
                    item.kind.name(),
                    role.kind(),
                    role.kind()
                ),
                format!(
                    "background 的 {key} 是“{id}”，它是 {}，应是 {}；请写一个 {} 题目的 id",
                    item.kind.name(),
                    role.kind(),
                    role.kind()
                ),
            ),
            Some(_) => {
                background.roles.insert(role, s.text.to_string());
            }
        }
    }
    if let Some((ids, _)) = f.text_list(r, "fingerprint") {
        background.fingerprint.clear();
        let mut seen = std::collections::HashSet::new();
        for s in ids {
            let id = shown(s.text);
            match item_of(&s) {
                None => not_an_item(
                    r,
                    &s,
                    format!("background fingerprint lists '{id}', which is not an item"),
                    format!("background 的 fingerprint 列了“{id}”，但没有这个题目"),
                ),
                Some(item) if matches!(item.kind, ItemKind::Note) => r.error(
                    s.at,
                    "fingerprint-note",
                    format!("background fingerprint lists '{id}', a note without answers; remove it from the list"),
                    format!("background 的 fingerprint 列了“{id}”，它是说明，没有答案；请把它从列表里删掉"),
                ),
                Some(_) if !seen.insert(s.text) => r.error(
                    s.at,
                    "fingerprint-twice",
                    format!("background fingerprint lists '{id}' twice; list it once"),
                    format!("background 的 fingerprint 把“{id}”列了两次；请只列一次"),
                ),
                Some(_) => background.fingerprint.push(s.text.to_string()),
            }
        }
    }
    background
}
