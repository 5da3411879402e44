//! Names written in a file: ids, choice keys, versions, languages. None may hold invisible or
//! control characters (two keys that look the same must be the same key), and a version ends up
//! in file names and URLs, so it holds no path or line break.

use super::limits::{MAX_NAME_CHARS, MAX_TEXT_CHARS, MAX_VERSION_CHARS};
use super::read::{Place, Str};
use super::Reporter;
use crate::{is_hidden, shown};

/// Lowercase ASCII letters, digits and `_`, starting with a letter or `_`.
pub(super) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// An id (questionnaire, item, dimension, section, population): `what` names it.
pub(super) fn identifier(r: &mut Reporter, s: &Str<'_>, what_en: &str, what_zh: &str) -> bool {
    let id = shown(s.text);
    let length = s.text.chars().count();
    if length > MAX_NAME_CHARS {
        r.error(
            s.at,
            "name-too-long",
            format!(
                "{what_en} '{id}' has {length} characters; shorten it to at most {MAX_NAME_CHARS}"
            ),
            format!("{what_zh}“{id}”有 {length} 个字符；请缩短到不超过 {MAX_NAME_CHARS} 个"),
        );
        return false;
    }
    if is_identifier(s.text) {
        return true;
    }
    let hidden = s.text.chars().any(is_hidden);
    let (en, zh) = if hidden {
        (
            format!("{what_en} '{id}' contains an invisible or control character (shown as \\u{{…}}); retype it with lowercase letters, digits and '_'"),
            format!("{what_zh}“{id}”含有看不见的字符或控制字符（显示为 \\u{{…}}）；请只用小写字母、数字和“_”重新输入"),
        )
    } else {
        (
            format!("{what_en} '{id}' must be lowercase letters, digits and '_', starting with a letter"),
            format!("{what_zh}“{id}”只能用小写字母、数字和“_”，并以字母开头"),
        )
    };
    r.error(s.at, "bad-id", en, zh);
    false
}

/// A choice key: no spaces, quotes, invisible or control characters.
pub(super) fn choice_key(r: &mut Reporter, s: &Str<'_>, list: &str) -> bool {
    let key = shown(s.text);
    let list = shown(list);
    let length = s.text.chars().count();
    let bad: Option<(String, String)> = if s.text.trim().is_empty() {
        Some((
            "is empty; write a key of letters, digits and '_', like \"a\" or \"yes\"".into(),
            "是空的；请写一个由字母、数字和“_”组成的键，如 \"a\" 或 \"yes\"".into(),
        ))
    } else if s.text.chars().any(is_hidden) {
        Some((
            "contains an invisible or control character (shown as \\u{…}); retype it".into(),
            "含有看不见的字符或控制字符（显示为 \\u{…}）；请重新输入".into(),
        ))
    } else if s.text.contains(char::is_whitespace) {
        Some((
            "contains a space; use '_' instead".into(),
            "含有空格；请改用“_”".into(),
        ))
    } else if s.text.contains(['\'', '"', '$', '{', '}']) {
        Some((
            "contains a quote, '$' or a brace, which expressions cannot compare with; use letters, digits and '_'".into(),
            "含有引号、“$”或花括号，表达式无法与它比较；请只用字母、数字和“_”".into(),
        ))
    } else if length > MAX_NAME_CHARS {
        Some((
            format!("has {length} characters; shorten it to at most {MAX_NAME_CHARS}"),
            format!("有 {length} 个字符；请缩短到不超过 {MAX_NAME_CHARS} 个"),
        ))
    } else {
        None
    };
    let ok = bad.is_none();
    if let Some((en, zh)) = bad {
        r.error(
            s.at,
            "bad-choice-key",
            format!("choice key '{key}' in list '{list}' {en}"),
            format!("选项列表“{list}”中的选项键“{key}”{zh}"),
        );
    }
    ok
}

/// A version: letters, digits, `.`, `-`, `_`, `+`; no `..`.
pub(super) fn version(r: &mut Reporter, s: &Str<'_>) -> bool {
    let v = shown(s.text);
    let ok = !s.text.is_empty()
        && s.text.chars().count() <= MAX_VERSION_CHARS
        && s.text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'))
        && !s.text.contains("..")
        && s.text
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if !ok {
        r.error(
            s.at,
            "bad-version",
            format!("version '{v}' must be 1 to {MAX_VERSION_CHARS} letters, digits, '.', '-', '_' or '+', starting with a letter or digit and without '..' (like \"2026.1\")"),
            format!("版本“{v}”只能由 1 到 {MAX_VERSION_CHARS} 个字母、数字、“.”、“-”、“_”或“+”组成，以字母或数字开头，不能有“..”（如 \"2026.1\"）"),
        );
    }
    ok
}

/// A language tag like `zh-CN` or `en`.
pub(super) fn language(r: &mut Reporter, s: &Str<'_>) -> bool {
    let ok = !s.text.is_empty()
        && s.text.len() <= 16
        && s.text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && s.text
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic());
    if !ok {
        let l = shown(s.text);
        r.error(
            s.at,
            "bad-language",
            format!("'{l}' is not a language tag: write one like \"zh-CN\" or \"en\""),
            format!("“{l}”不是语言代码：请写成 \"zh-CN\" 或 \"en\" 这样"),
        );
    }
    ok
}

/// Text an author wrote for people (labels, messages): no control characters but new lines and
/// tabs, nothing that reverses what is shown around it, not too long.
pub(super) fn prose(r: &mut Reporter, at: usize, text: &str, place: &Place, what: &str) {
    let length = text.chars().count();
    if length > MAX_TEXT_CHARS {
        r.error(
            at,
            "text-too-long",
            format!(
                "{}: {what} has {length} characters; shorten it to at most {MAX_TEXT_CHARS} (a long passage can be split over several notes)",
                place.en
            ),
            format!(
                "{}：{what} 有 {length} 个字符；请缩短到不超过 {MAX_TEXT_CHARS} 个（长段文字可以分成几个说明题）",
                place.zh
            ),
        );
        return;
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        r.error(
            at,
            "control-character",
            format!(
                "{}: {what} contains the control character \\u{{{:04x}}}; remove it",
                place.en, c as u32
            ),
            format!(
                "{}：{what} 含有控制字符 \\u{{{:04x}}}；请删除",
                place.zh, c as u32
            ),
        );
    } else if let Some(c) = text
        .chars()
        .find(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    {
        r.warn(
            at,
            "direction-override",
            format!("{}: {what} contains the direction control \\u{{{:04x}}}, which reverses how the text around it is shown; remove it unless it is meant", place.en, c as u32),
            format!("{}：{what} 含有文字方向控制符 \\u{{{:04x}}}，会颠倒周围文字的显示顺序；如非有意请删除", place.zh, c as u32),
        );
    }
}
