//! Search keys for long choice lists (industry, district, …): a surveyor types the pinyin
//! initials ("jz" for 建筑业) or the pinyin ("jianzhu") as well as the characters. Made here,
//! on the native side, when a questionnaire is opened, so the wasm bundle carries no pinyin table.

use std::collections::BTreeMap;

use pinyin::ToPinyinMulti;
use zhisu_core::{ItemKind, Questionnaire};

/// Readings of a label with several heteronyms multiply; past this many, only the first
/// (most common) reading of each character is used.
const MAX_VARIANTS: usize = 16;

/// The search key of one label: its pinyin initials (one variant per combination of the
/// characters' readings, so 行业 gives both `xy` and `hy`) and its full pinyin (first
/// readings), lowercase, separated by spaces. Letters and digits are kept as they are;
/// punctuation is left out.
pub fn search_key(label: &str) -> String {
    let mut initials: Vec<String> = vec![String::new()];
    let mut full = String::new();
    for c in label.chars() {
        if let Some(readings) = c.to_pinyin_multi() {
            let mut letters: Vec<&str> = Vec::new();
            for reading in readings {
                let letter = reading.first_letter();
                if !letters.contains(&letter) {
                    letters.push(letter);
                }
            }
            if let Some(first) = readings.into_iter().next() {
                full.push_str(first.plain());
            }
            if initials.len() * letters.len() > MAX_VARIANTS {
                letters.truncate(1);
            }
            initials = initials
                .iter()
                .flat_map(|prefix| letters.iter().map(move |l| format!("{prefix}{l}")))
                .collect();
        } else if c.is_alphanumeric() {
            let lower: String = c.to_lowercase().collect();
            for variant in &mut initials {
                variant.push_str(&lower);
            }
            full.push_str(&lower);
        }
    }
    initials.push(full);
    initials.dedup();
    initials.join(" ")
}

/// For each searchable list of `questionnaire`: choice key → search key of its labels (every
/// language), by item id.
pub fn search_keys(questionnaire: &Questionnaire) -> BTreeMap<String, BTreeMap<String, String>> {
    questionnaire
        .items
        .iter()
        .filter(|item| matches!(item.kind, ItemKind::SingleChoice { search: true, .. }))
        .map(|item| {
            let keys = item
                .kind
                .choices()
                .iter()
                .map(|choice| {
                    // the questionnaire's own language first: its first token is what the
                    // list ranks best matches by
                    let default = choice.label.0.get(&questionnaire.default_language);
                    let others = choice
                        .label
                        .0
                        .iter()
                        .filter(|(lang, _)| **lang != questionnaire.default_language)
                        .map(|(_, label)| label);
                    let key = default
                        .into_iter()
                        .chain(others)
                        .map(|label| search_key(label))
                        .filter(|k| !k.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ");
                    (choice.key.clone(), key)
                })
                .collect();
            (item.id.clone(), keys)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_and_pinyin_of_labels() {
        assert_eq!(search_key("建筑业"), "jzy jianzhuye");
        let hang = search_key("行业");
        assert!(hang.split(' ').any(|k| k == "xy"), "{hang}");
        assert!(hang.split(' ').any(|k| k == "hy"), "{hang}");
        let company = search_key("ABC 公司");
        assert!(company.starts_with("abcgs "), "{company}");
        assert!(company.ends_with(" abcgongsi"), "{company}");
        assert_eq!(search_key("（）、"), "");
    }

    #[test]
    fn the_industry_list_of_the_national_questionnaire_is_searchable_by_initials() {
        let q = Questionnaire::from_toml(
            "ohl_2026.toml",
            include_str!("../../questionnaires/ohl_2026.toml"),
        )
        .unwrap();
        let keys = search_keys(&q);
        let industry = &keys["industry"];
        let found: Vec<&str> = industry
            .iter()
            .filter(|(_, key)| key.contains("jz"))
            .map(|(choice, _)| choice.as_str())
            .collect();
        assert!(found.contains(&"construction"), "{found:?}");
        assert!(!found.contains(&"coal_mining"), "{found:?}");
        assert!(
            industry["construction"].starts_with("jzy "),
            "the Chinese label's usual initials first: {}",
            industry["construction"]
        );
        assert!(
            industry["construction"].contains("construction"),
            "English labels too"
        );
    }
}
