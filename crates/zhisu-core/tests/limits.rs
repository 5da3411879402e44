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

#[test]
fn a_file_over_the_size_limit_is_not_read() {
    let mut source = HEADER.as_bytes().to_vec();
    source.resize(limits::MAX_FILE_BYTES + 1, b'#');
    let checked = Questionnaire::check_bytes("limits.toml", &source);
    assert!(checked.questionnaire.is_none());
    let d = &checked.diagnostics.0;
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].code, "file-too-large");
    assert_eq!((d[0].line, d[0].column), (1, 1));
    assert_eq!(
        d[0].message,
        "the file is 16777217 bytes; a questionnaire file may have at most 16777216 bytes (16 MiB): split it into several questionnaires"
    );
    assert_eq!(
        d[0].message_zh,
        "文件有 16777217 字节，问卷文件最多 16777216 字节（16 MiB）：请拆成几份问卷"
    );
}

#[test]
fn too_many_items() {
    let mut source = HEADER.to_string();
    for i in 0..=limits::MAX_ITEMS {
        source.push_str(&format!(
            "[[items]]\nid = \"q{i}\"\nkind = \"note\"\nlabel.\"zh-CN\" = \"说明\"\n"
        ));
    }
    let (code, en, zh) = only_error(&source);
    assert_eq!(code, "too-many-items");
    assert_eq!(en, "the questionnaire has 50001 items; at most 50000 are allowed: split it into several questionnaires");
    assert_eq!(zh, "问卷有 50001 个题目，最多 50000 个：请拆成几份问卷");
}

/// A choice list `name` of `n` choices, keyed `c0`, `c1`, …
fn choice_list(name: &str, n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        out.push_str(&format!(
            "[[choices.{name}]]\nkey = \"c{i}\"\nlabel.\"zh-CN\" = \"选项\"\n"
        ));
    }
    out
}

fn choice_item(id: &str, list: &str) -> String {
    format!("[[items]]\nid = \"{id}\"\nkind = \"single_choice\"\nchoices = \"{list}\"\nlabel.\"zh-CN\" = \"问题\"\n")
}

#[test]
fn too_many_choices_in_one_list() {
    let source = format!(
        "{HEADER}{}{}",
        choice_list("many", limits::MAX_CHOICES_PER_LIST + 1),
        choice_item("q1", "many")
    );
    let (code, en, zh) = only_error(&source);
    assert_eq!(code, "too-many-choices");
    assert_eq!(en, "choice list 'many' has 100001 choices; at most 100000 are allowed: split it into smaller lists");
    assert_eq!(
        zh,
        "选项列表“many”有 100001 个选项，最多 100000 个：请拆成几个较小的列表"
    );
}

/// `items` items offering the same list of 1,000 choices.
fn offering(items: usize) -> String {
    let mut source = format!("{HEADER}{}", choice_list("list", 1_000));
    for i in 1..=items {
        source.push_str(&choice_item(&format!("q{i}"), "list"));
    }
    source
}

#[test]
fn too_many_choices_over_all_items_is_said_once() {
    // exactly 1,000,000 choices in all load
    assert!(Questionnaire::from_toml("limits.toml", &offering(1_000)).is_ok());
    // the 1,001st item goes past the limit; the 1,002nd is not reported again
    let (code, en, zh) = only_error(&offering(1_002));
    assert_eq!(code, "too-many-choices");
    assert_eq!(en, "item 'q1001': from here on the items offer more than 1000000 choices in all (a list counts once for each item that uses it): use shorter lists, or split the questionnaire");
    assert_eq!(zh, "题目“q1001”：从这里起所有题目的选项总数超过 1000000（一个列表被几个题目使用就算几次）：请用较短的列表，或把问卷拆开");
}

/// `items` items of 1,000 points each.
fn worth(items: usize) -> String {
    let mut source = format!("{HEADER}[[dimensions]]\nid = \"law\"\nlabel.\"zh-CN\" = \"法律\"\n");
    for i in 1..=items {
        source.push_str(&format!(
            "[[items]]\nid = \"q{i}\"\nkind = \"true_false\"\nlabel.\"zh-CN\" = \"问题\"\nexplanation.\"zh-CN\" = \"解释\"\nscore = {{ dimension = \"law\", points = {}, key = true }}\n",
            limits::MAX_POINTS_PER_ITEM
        ));
    }
    source
}

#[test]
fn too_many_points_in_all_is_said_once() {
    // exactly 1,000,000 points load
    assert!(Questionnaire::from_toml("limits.toml", &worth(1_000)).is_ok());
    // the 1,001st item goes past the limit; the 1,002nd is not reported again
    let (code, en, zh) = only_error(&worth(1_002));
    assert_eq!(code, "too-many-points");
    assert_eq!(en, "item 'q1001': from here on the questionnaire is worth more than 1000000 points in all: give the items fewer points");
    assert_eq!(
        zh,
        "题目“q1001”：从这里起问卷总分超过 1000000：请减少各题的分数"
    );
}

/// A multiple-choice item on a list of `n` choices, scored with the keys `keys`.
fn scored_on_long_list(n: usize, keys: impl Iterator<Item = String>) -> String {
    let keys: Vec<String> = keys.map(|k| format!("\"{k}\"")).collect();
    format!(
        "{HEADER}[[dimensions]]\nid = \"law\"\nlabel.\"zh-CN\" = \"法律\"\n{}[[items]]\nid = \"q\"\nkind = \"multiple_choice\"\nchoices = \"long\"\nlabel.\"zh-CN\" = \"问题\"\nexplanation.\"zh-CN\" = \"解释\"\nscore = {{ dimension = \"law\", key = [{}] }}\n",
        choice_list("long", n),
        keys.join(", ")
    )
}

#[test]
fn a_scoring_key_of_many_choices_is_checked_in_linear_time() {
    // (checked with a set: 20,000 keys against 20,000 choices one by one would be 4e8
    // comparisons; measured linear from 25,000 to 100,000 keys in a debug build)
    let n = 20_000;
    // every choice right: loads
    let q = Questionnaire::from_toml(
        "limits.toml",
        &scored_on_long_list(n, (0..n).map(|i| format!("c{i}"))),
    )
    .unwrap();
    assert_eq!(q.items[0].kind.choices().len(), n);
    // no key a choice: each reported (up to the cap on problems), without a search of the
    // list for each ("did you mean" looks among at most 500 names)
    let errors = errors(&scored_on_long_list(n, (0..n).map(|i| format!("x{i}"))));
    assert_eq!(errors.len(), limits::MAX_DIAGNOSTICS + 1);
    assert_eq!(errors[0].code, "bad-scoring-key");
    assert_eq!(
        errors[0].message,
        "item 'q': the scoring key 'x0' is not one of the item's choices; write one of its keys: c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, …"
    );
    assert_eq!(errors.last().unwrap().code, "too-many-problems");
}

#[test]
fn a_file_of_misspelt_references_is_checked_in_linear_time() {
    // 400 items with long ids alike, then 20 items whose conditions refer to 500 misspellings
    // of them: "did you mean" (a search among the 420 ids) is searched for the first
    // limits::MAX_SUGGESTIONS only, the rest say how to write a reference
    let id = |i: usize| format!("{}_{i:03}", "x".repeat(58));
    let mut source = HEADER.to_string();
    for i in 0..400 {
        source.push_str(&format!(
            "[[items]]\nid = \"{}\"\nkind = \"integer\"\nlabel.\"zh-CN\" = \"问题\"\n",
            id(i)
        ));
    }
    for i in 0..20 {
        let terms: Vec<String> = (0..25)
            .map(|t| format!("${{{}y}} = 1", id(i * 25 + t)))
            .collect();
        source.push_str(&format!(
            "[[items]]\nid = \"q{i}\"\nkind = \"integer\"\nlabel.\"zh-CN\" = \"问题\"\nrelevant = \"{}\"\n",
            terms.join(" or ")
        ));
    }
    let errors = errors(&source);
    assert_eq!(errors.len(), 500);
    assert!(errors.iter().all(|d| d.code == "unknown-reference"));
    let suggested = errors
        .iter()
        .filter(|d| d.message.contains("; did you mean ${"))
        .count();
    assert_eq!(suggested, limits::MAX_SUGGESTIONS);
    assert!(errors[0].message.contains("; did you mean ${"));
    assert!(errors[499]
        .message
        .ends_with("; write ${…} with the id of an item between the braces"));
}
