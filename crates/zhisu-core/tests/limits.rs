//! The limits of `questionnaires/README.md` ("Limits"), each tried with a file just past it:
//! loading finishes and gives exactly one diagnostic naming the limit. Files too large to keep
//! as fixtures are generated here; the small limits are fixtures
//! (`fixtures/malformed/small_limits.toml`, `toml_nesting.toml`).
use zhisu_core::{limits, Diagnostic, Questionnaire};

const HEADER: &str =
    "id = \"t\"\nversion = \"1\"\nlanguages = [\"zh-CN\"]\ntitle.\"zh-CN\" = \"测试\"\n";

/// The errors of `source`, which must not load.
fn errors(source: &str) -> Vec<Diagnostic> {
    let checked = Questionnaire::check_bytes("limits.toml", source.as_bytes());
    assert!(checked.questionnaire.is_none(), "must not load");
    checked.diagnostics.errors().cloned().collect()
}

/// The one error of `source`: its code and both messages.
fn only_error(source: &str) -> (&'static str, String, String) {
    let errors = errors(source);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let d = &errors[0];
    (d.code, d.message.clone(), d.message_zh.clone())
}

fn nested(depth: usize) -> String {
    format!(
        "{HEADER}nested = {}1{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

#[test]
fn toml_nesting_is_the_parsers_limit() {
    // at the limit the syntax is fine (only the unknown key is reported)
    let at_limit = errors(&nested(limits::MAX_TOML_NESTING));
    assert!(
        at_limit.iter().all(|d| d.code != "toml-syntax"),
        "{at_limit:#?}"
    );
    let (code, en, zh) = only_error(&nested(limits::MAX_TOML_NESTING + 1));
    assert_eq!(code, "toml-syntax");
    assert_eq!(en, "lists or tables are nested more than 80 levels deep here; a questionnaire needs only a few: remove the extra [ … ] or { … } around the value");
    assert_eq!(
        zh,
        "这里列表或表嵌套超过 80 层；问卷只需要几层：请去掉值外面多余的 [ … ] 或 { … }"
    );
    // far past it, inline tables too: one problem, quickly
    let (code, ..) = only_error(&nested(100_000));
    assert_eq!(code, "toml-syntax");
    let tables = format!(
        "{HEADER}nested = {}1{}\n",
        "{ a = ".repeat(10_000),
        " }".repeat(10_000)
    );
    assert_eq!(only_error(&tables).0, "toml-syntax");
}
