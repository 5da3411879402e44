//! The order of questionnaire versions.

use std::cmp::Ordering;

/// One dot-separated part of a version: a number, or text.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Part<'a> {
    /// Digits without leading zeros, compared by length first: any size, no overflow.
    Number(usize, &'a str),
    Text(&'a str),
}

fn part(s: &str) -> Part<'_> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let digits = s.trim_start_matches('0');
        Part::Number(digits.len(), digits)
    } else {
        Part::Text(s)
    }
}

/// Orders two questionnaire versions: part by part between the dots, numbers by value
/// (`"2026.9" < "2026.10"`) and other parts as text; a number comes before text in the same
/// place, and a version before its own extensions (`"2026" < "2026.1"`). Versions that differ
/// only in leading zeros (`"2026.01"`, `"2026.1"`) are ordered as text, so the order is total:
/// `Equal` only for equal strings, and it can key a `BTreeMap` or pick the newest version.
///
/// The app (which version to offer) and the server (which version's labels to show) both use
/// this, so they agree on what "newest" means.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    a.split('.')
        .map(part)
        .cmp(b.split('.').map(part))
        .then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_by_value_and_text_as_text() {
        let mut versions = vec![
            "2026.10",
            "2026.9",
            "2026",
            "2026.1",
            "2025.12",
            "2026.1-rc",
            "2026.01",
            "10",
            "9",
        ];
        versions.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(
            versions,
            [
                "9",
                "10",
                "2025.12",
                "2026",
                "2026.01",
                "2026.1",
                "2026.9",
                "2026.10",
                "2026.1-rc"
            ]
        );
        assert_eq!(compare_versions("2026.10", "2026.10"), Ordering::Equal);
        assert_eq!(
            compare_versions("1.99999999999999999999999", "1.100000000000000000000000"),
            Ordering::Less,
            "numbers of any length"
        );
    }
}
