use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The language every questionnaire must be complete in, and the last step of every fallback.
pub const DEFAULT_LANGUAGE: &str = "zh-CN";

/// A piece of text in several languages, keyed by language tag (`zh-CN`, `en`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Text(pub BTreeMap<String, String>);

impl Text {
    /// The text in `language`, else in `fallback` (the questionnaire's default language),
    /// else in [`DEFAULT_LANGUAGE`], else any translation at all: never a blank when a
    /// translation exists.
    pub fn get<'a>(&'a self, language: &str, fallback: &str) -> &'a str {
        [language, fallback, DEFAULT_LANGUAGE]
            .iter()
            .find_map(|lang| self.0.get(*lang).filter(|s| !s.trim().is_empty()))
            .or_else(|| self.0.values().find(|s| !s.trim().is_empty()))
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn has(&self, language: &str) -> bool {
        self.0.get(language).is_some_and(|s| !s.trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(pairs: &[(&str, &str)]) -> Text {
        Text(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn falls_back_to_default_language_never_blank() {
        let t = text(&[("zh-CN", "您今年多少岁？"), ("en", "")]);
        assert_eq!(t.get("en", "zh-CN"), "您今年多少岁？");
        assert_eq!(t.get("fr", "zh-CN"), "您今年多少岁？");
        let only_en = text(&[("en", "Age")]);
        assert_eq!(only_en.get("zh-CN", "zh-CN"), "Age");
        assert_eq!(Text::default().get("zh-CN", "zh-CN"), "");
    }

    #[test]
    fn prefers_requested_language() {
        let t = text(&[("zh-CN", "年龄"), ("en", "Age")]);
        assert_eq!(t.get("en", "zh-CN"), "Age");
        assert!(t.has("en"));
        assert!(!t.has("fr"));
    }
}

/// The language of a message to a questionnaire author: the checker speaks Chinese unless told
/// otherwise (`--lang en`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    ZhCn,
    En,
}

impl Lang {
    /// `zh-CN` (also `zh`) or `en`.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        match tag {
            "zh-CN" | "zh" | "zh-cn" => Some(Lang::ZhCn),
            "en" | "en-US" | "en-GB" => Some(Lang::En),
            _ => None,
        }
    }
}

/// Characters that change how text looks without being seen: zero-width spaces and joiners,
/// bidirectional overrides and isolates, the byte-order mark, soft hyphens, invisible fillers,
/// line and paragraph separators and language tags. In an id or a key they make two different
/// values look the same (or reverse what is shown around them).
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFFB}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}')
}

/// A control character (C0, DEL, C1) or an invisible one: never printed raw.
pub fn is_hidden(c: char) -> bool {
    c.is_control() || is_invisible(c)
}

/// Text from a file made safe to print in a message: control and invisible characters written
/// as `\u{…}` escapes (so a terminal escape sequence or a right-to-left override shows as
/// what it is), and long text cut to its first 60 characters.
pub fn shown(text: &str) -> String {
    const MOST: usize = 60;
    let mut out = String::with_capacity(text.len().min(4 * MOST));
    for (i, c) in text.chars().enumerate() {
        if i == MOST {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_hidden(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `text` with control and invisible characters written as `\u{…}` escapes, uncut.
pub fn escape_hidden(text: String) -> String {
    if !text.chars().any(is_hidden) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_hidden(c) {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod shown_tests {
    use super::*;

    #[test]
    fn shown_escapes_what_cannot_be_seen() {
        assert_eq!(shown("a\u{1b}[31mb"), "a\\u{001b}[31mb");
        assert_eq!(shown("ab\u{202e}cd\u{200b}"), "ab\\u{202e}cd\\u{200b}");
        assert_eq!(shown("line\nnext"), "line\\nnext");
        assert_eq!(shown("职业健康"), "职业健康");
        assert_eq!(shown(&"x".repeat(100)), format!("{}…", "x".repeat(60)));
    }
}
