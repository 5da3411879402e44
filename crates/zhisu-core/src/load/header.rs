//! The top of the file: id, version, languages, title, description, threshold; and texts by
//! language, which every part of the file uses.

use std::collections::BTreeMap;

use toml::de::{DeTable, DeValue};

use super::names;
use super::read::{Expect, Fields, Place, Str};
use super::Reporter;
use crate::{shown, Text, DEFAULT_LANGUAGE};

pub(super) const TOP_KEYS: &[&str] = &[
    "id",
    "version",
    "default_language",
    "languages",
    "title",
    "description",
    "literacy_threshold_percent",
    "eligibility",
    "dimensions",
    "choices",
    "sections",
    "items",
    "background",
];

/// The languages a file's texts may use.
pub(super) struct Languages {
    pub default: String,
    pub all: Vec<String>,
}

pub(super) struct Header {
    pub id: String,
    pub version: String,
    pub languages: Languages,
    pub title: Text,
    pub description: Option<Text>,
    /// The threshold and where it is written, when given.
    pub threshold: Option<(u32, usize)>,
}

pub(super) fn header(r: &mut Reporter, top: &Fields<'_, '_>) -> Header {
    let id = top.required_string(r, "id", "\"my_survey\"");
    if let Some(id) = &id {
        names::identifier(r, id, "questionnaire id", "问卷 id");
    }
    let version = top.required_string(r, "version", "\"2026.1\"");
    if let Some(v) = &version {
        names::version(r, v);
    }
    let languages = languages(r, top);
    let title = texts(r, top, "title", &languages, true).unwrap_or_default();
    let description = texts(r, top, "description", &languages, false);
    let threshold = top
        .whole_number(r, "literacy_threshold_percent", 1)
        .and_then(|(n, at)| {
            if n > 100 {
                r.error(
                    at,
                    "bad-threshold",
                    format!("literacy_threshold_percent is {n}; it must be between 1 and 100 (the national rule is 80)"),
                    format!("literacy_threshold_percent 是 {n}；应在 1 到 100 之间（国家标准为 80）"),
                );
                return None;
            }
            if n != 80 {
                r.warn(
                    at,
                    "threshold-not-national",
                    format!("literacy_threshold_percent is {n}; the national rule is 80, so results will not compare with national figures: remove the line (80 is the default) unless a local rule sets {n}"),
                    format!("literacy_threshold_percent 是 {n}；国家标准为 80，结果将无法与全国数据比较：除非地方规定为 {n}，请删除这一行（默认即 80）"),
                );
            }
            Some((n as u32, at))
        });
    Header {
        id: id.map(|s| s.text.to_string()).unwrap_or_default(),
        version: version.map(|s| s.text.to_string()).unwrap_or_default(),
        languages,
        title,
        description,
        threshold,
    }
}

fn languages(r: &mut Reporter, top: &Fields<'_, '_>) -> Languages {
    let default = top.string(r, "default_language");
    if let Some(d) = &default {
        names::language(r, d);
    }
    let listed = match top.text_list(r, "languages") {
        Some(list) => Some(list),
        None => {
            if top.value("languages").is_none() {
                top.missing(r, "languages", "[\"zh-CN\", \"en\"]");
            }
            None
        }
    };
    let mut all: Vec<String> = Vec::new();
    if let Some((list, _)) = &listed {
        for l in list {
            if !names::language(r, l) {
                continue;
            }
            if all.iter().any(|x| x == l.text) {
                r.error(
                    l.at,
                    "duplicate-language",
                    format!("language '{}' is listed twice; list it once", l.text),
                    format!("语言“{}”列了两次；请只列一次", l.text),
                );
            } else if all.len() < 50 {
                all.push(l.text.to_string());
            }
        }
    }
    let default_text = default.map_or(DEFAULT_LANGUAGE.to_string(), |d| d.text.to_string());
    if let Some((_, at)) = &listed {
        if !all.contains(&default_text) {
            let at = default.map_or(*at, |d: Str<'_>| d.at);
            let d = shown(&default_text);
            r.error(
                at,
                "default-language-not-listed",
                format!("the default language '{d}' must be listed in languages; add \"{d}\" to languages"),
                format!("默认语言“{d}”必须列在 languages 里；请把 \"{d}\" 加进 languages"),
            );
        }
    }
    Languages {
        default: default_text,
        all,
    }
}

/// A text for each language (`key."zh-CN" = "…"`), complete in the default language.
pub(super) fn texts(
    r: &mut Reporter,
    fields: &Fields<'_, '_>,
    key: &str,
    languages: &Languages,
    required: bool,
) -> Option<Text> {
    if fields.value(key).is_none() {
        if required {
            fields.missing(r, key, &format!("{{ \"{}\" = \"…\" }}", languages.default));
        }
        return None;
    }
    let (table, at) = fields.texts(r, key)?;
    Some(text_table(r, table, at, key, languages, &fields.place))
}

pub(super) fn text_table(
    r: &mut Reporter,
    table: &DeTable<'_>,
    at: usize,
    key: &str,
    languages: &Languages,
    place: &Place,
) -> Text {
    let mut text = BTreeMap::new();
    for (lang, value) in table.iter() {
        let lang_name = lang.get_ref().as_ref();
        let DeValue::String(s) = value.get_ref() else {
            let f = super::read::no_fields(place.clone());
            f.wrong_type(
                r,
                &format!("{key}.\"{}\"", shown(lang_name)),
                value,
                Expect::Text,
            );
            continue;
        };
        if !languages.all.iter().any(|l| l == lang_name) {
            let l = shown(lang_name);
            let (en, zh) = match super::read::suggest(lang_name, languages.all.iter().map(String::as_str)) {
                Some(s) => (
                    format!("{}: {key} has text in '{l}', which is not in languages; did you mean '{s}'?", place.en),
                    format!("{}：{key} 有“{l}”语言的文字，但 languages 里没有它，是不是“{s}”？", place.zh),
                ),
                None => (
                    format!("{}: {key} has text in '{l}', which is not in languages; add \"{l}\" to languages, or remove this text", place.en),
                    format!("{}：{key} 有“{l}”语言的文字，但 languages 里没有它；请把 \"{l}\" 加进 languages，或删掉这段文字", place.zh),
                ),
            };
            r.error(lang.span().start, "unknown-language", en, zh);
            continue;
        }
        names::prose(r, value.span().start, s, place, key);
        text.insert(lang_name.to_string(), s.to_string());
    }
    let text = Text(text);
    if !text.has(&languages.default) {
        let d = shown(&languages.default);
        r.error(
            at,
            "missing-default-text",
            format!(
                "{}: {key} has no text in the default language '{d}'; add {key}.\"{d}\" = \"…\"",
                place.en
            ),
            format!(
                "{}：{key} 缺少默认语言“{d}”的文字；请加上 {key}.\"{d}\" = \"…\"",
                place.zh
            ),
        );
    }
    text
}
