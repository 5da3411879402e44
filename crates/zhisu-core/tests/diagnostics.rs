//! Malformed questionnaires: every problem is reported with its line and column, never a panic.
use zhisu_core::Questionnaire;

fn check(source: &str, expect: &[&str]) {
    let diagnostics = Questionnaire::from_toml("bad.toml", source)
        .expect_err("a malformed questionnaire must not load");
    let got: Vec<String> = diagnostics.0.iter().map(ToString::to_string).collect();
    assert_eq!(got, expect, "\nfull output:\n{}", diagnostics.lines());
}

const HEADER: &str = r#"id = "t"
version = "1"
languages = ["zh-CN", "en"]
title."zh-CN" = "测试"
"#;

#[test]
fn toml_syntax_error_has_position() {
    check(
        "id = \"t\"\nversion = \n",
        &["bad.toml:2:11: string values must be quoted, expected literal string"],
    );
}

#[test]
fn reports_every_problem_not_just_the_first() {
    let source = format!(
        r#"{HEADER}
[[dimensions]]
id = "law"
label."zh-CN" = "法律"

[[dimensions]]
id = "skills"
label.en = "Skills"

[[choices.yn]]
key = "y"
label."zh-CN" = "是"

[[items]]
id = "q1"
kind = "single_choice"
choices = "missing_list"
label."zh-CN" = "问题一"

[[items]]
id = "q1"
kind = "true_false"
label."zh-CN" = "问题二"
score = {{ dimension = "law", key = "yes" }}

[[items]]
id = "q3"
kind = "single_choice"
choices = "yn"
label.en = "Question three"
score = {{ dimension = "nowhere", key = "n" }}

[[items]]
id = "q4"
kind = "essay"
label."zh-CN" = "问题四"
"#
    );
    check(
        &source,
        &[
            "bad.toml:7:6: dimension 'law' has no scored items",
            "bad.toml:11:6: dimension 'skills' has no scored items",
            "bad.toml:12:1: dimension 'skills' label has no text in the default language 'zh-CN'",
            "bad.toml:21:11: choice list 'missing_list' is not defined",
            "bad.toml:25:6: item 'q1' is defined twice",
            "bad.toml:28:36: item 'q1': the scoring key must be true or false",
            "bad.toml:34:1: item 'q3' label has no text in the default language 'zh-CN'",
            "bad.toml:35:23: item 'q3' is scored in dimension 'nowhere', which is not defined",
            "bad.toml:35:40: item 'q3': the scoring key is not a valid answer: 'n' is not one of this item's choices",
            "bad.toml:39:8: unknown item kind 'essay'; expected single_choice, multiple_choice, true_false or integer",
        ],
    );
}

#[test]
fn unknown_field_is_an_error() {
    check(
        &format!("{HEADER}colour = \"red\"\n[[items]]\nid = \"a\"\nkind = \"true_false\"\nlabel.\"zh-CN\" = \"x\"\n"),
        &["bad.toml:5:1: unknown field `colour`, expected one of `id`, `version`, `default_language`, `languages`, `title`, `literacy_threshold_percent`, `dimensions`, `choices`, `items`"],
    );
}

#[test]
fn garbage_never_panics() {
    for source in [
        "",
        "\u{0}",
        "[[items]]",
        "items = 3",
        "id = 1",
        "[[[",
        "title = {",
    ] {
        assert!(
            Questionnaire::from_toml("bad.toml", source).is_err(),
            "{source:?}"
        );
    }
}
