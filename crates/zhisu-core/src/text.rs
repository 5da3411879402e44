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
