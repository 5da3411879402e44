//! XLSForm interop: a questionnaire as an Excel/WPS workbook in the survey world's common
//! format (ODK, KoboToolbox, SurveyCTO), with Zhisu's extras (scoring, modules, background
//! roles, …) in `zhisu::` columns and a `zhisu_dimensions` sheet. The format is documented in
//! questionnaires/README.md ("Writing a questionnaire in Excel/WPS (XLSForm)").
//!
//! `export` writes a loaded questionnaire as a workbook; `import` reads a workbook into the
//! TOML format, reporting every feature Zhisu does not support by sheet, row and column.
//! Export then import gives the same questionnaire (tests/xlsform.rs).

pub mod export;
pub mod import;

/// The reserved choice list for true/false items: `select_one zhisu_true_false`.
pub const TRUE_FALSE_LIST: &str = "zhisu_true_false";
/// The sheet of literacy dimensions.
pub const DIMENSIONS_SHEET: &str = "zhisu_dimensions";

/// `Chinese (zh-CN)`, the XLSForm way to name a language in a column (`label::Chinese (zh-CN)`).
pub fn language_name(tag: &str) -> String {
    let name = match tag {
        "zh-CN" => "Chinese",
        "en" => "English",
        other => other,
    };
    format!("{name} ({tag})")
}

/// The language tag of a column suffix: the code in brackets (`Chinese (zh-CN)`), else a known
/// name (`Chinese`, `中文`, `English`), else the suffix as written.
pub fn language_tag(suffix: &str) -> String {
    let suffix = suffix.trim();
    if let (Some(open), true) = (suffix.rfind('('), suffix.ends_with(')')) {
        let tag = suffix[open + 1..suffix.len() - 1].trim();
        if !tag.is_empty() {
            return tag.to_string();
        }
    }
    match suffix.to_lowercase().as_str() {
        "chinese" | "中文" | "简体中文" | "zh" => "zh-CN".to_string(),
        "english" | "英文" | "英语" => "en".to_string(),
        _ => suffix.to_string(),
    }
}

/// `A`, `B`, …, `Z`, `AA`: a 0-based column as Excel names it.
pub fn column_letters(mut column: u32) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (column % 26) as u8);
        if column < 26 {
            break;
        }
        column = column / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_and_columns_are_named_the_xlsform_way() {
        assert_eq!(language_name("zh-CN"), "Chinese (zh-CN)");
        assert_eq!(language_tag("Chinese (zh-CN)"), "zh-CN");
        assert_eq!(language_tag("English"), "en");
        assert_eq!(language_tag("english"), "en");
        assert_eq!(language_tag("中文"), "zh-CN");
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }
}
