//! Bytes to text, text to spanned TOML values; TOML syntax errors in plain words.

use std::collections::BTreeSet;

use toml::de::DeTable;
use toml::Spanned;

use super::limits::MAX_TOML_NESTING;
use super::Reporter;
use crate::shown;

/// The file as text: UTF-8 (a leading byte-order mark is allowed). Every byte that is not
/// UTF-8 is reported by offset (line and column come with the diagnostic).
pub(super) fn text<'a>(bytes: &'a [u8], r: &mut Reporter) -> Option<&'a str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Some(text.strip_prefix('\u{feff}').unwrap_or(text)),
        Err(_) => {
            let mut at = 0;
            let mut reported = 0;
            while at < bytes.len() && reported < 20 {
                match std::str::from_utf8(&bytes[at..]) {
                    Ok(_) => break,
                    Err(e) => {
                        let offset = at + e.valid_up_to();
                        let bad = e.error_len().unwrap_or(bytes.len() - offset);
                        let shown_bytes: Vec<String> = bytes[offset..offset + bad]
                            .iter()
                            .map(|b| format!("0x{b:02X}"))
                            .collect();
                        let shown_bytes = shown_bytes.join(" ");
                        r.error(
                            offset,
                            "not-utf8",
                            format!("the file is not UTF-8 text: byte {shown_bytes} at byte offset {offset} is not a character; save the file as UTF-8 (in most editors: Save with encoding, UTF-8)"),
                            format!("文件不是 UTF-8 编码：第 {offset} 字节处的 {shown_bytes} 不是字符；请把文件另存为 UTF-8 编码"),
                        );
                        reported += 1;
                        at = offset + bad.max(1);
                    }
                }
            }
            None
        }
    }
}

/// The document as spanned TOML values, or every syntax error (one per line: what follows
/// the first error on a line is usually its echo).
pub(super) fn parse<'a>(source: &'a str, r: &mut Reporter) -> Option<Spanned<DeTable<'a>>> {
    let (document, errors) = DeTable::parse_recoverable(source);
    if errors.is_empty() {
        return Some(document);
    }
    let mut lines_seen = BTreeSet::new();
    let mut found: Vec<(usize, String)> = errors
        .iter()
        .map(|e| (e.span().map_or(0, |s| s.start), e.message().to_string()))
        .collect();
    found.sort_by_key(|(offset, _)| *offset);
    for (offset, message) in found {
        let offset = offset.min(source.len());
        let (offset, en, zh) = plain_words(source, offset, &message);
        let line_start = source[..floor_char(source, offset)]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        if lines_seen.insert(line_start) {
            r.error(offset, "toml-syntax", en, zh);
        }
    }
    None
}

fn floor_char(source: &str, mut offset: usize) -> usize {
    offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The TOML parser's message as an instruction to an author: where it starts and what to do.
fn plain_words(source: &str, offset: usize, message: &str) -> (usize, String, String) {
    let has = |s: &str| message.contains(s);
    let before = &source[..floor_char(source, offset)];
    if let Some(c) = source[floor_char(source, offset)..]
        .chars()
        .next()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        let code = c as u32;
        return (
            offset,
            format!("the control character \\u{{{code:04x}}} cannot be written in a file; remove it (or write it as the escape \\u{code:04X} inside \"…\")"),
            format!("文件里不能直接出现控制字符 \\u{{{code:04x}}}；请删除它（或在 \"…\" 里写成转义 \\u{code:04X}）"),
        );
    }
    if has("multi-line basic string") || has("multi-line literal string") {
        let quote = if has("basic") { "\"\"\"" } else { "'''" };
        let opened = before.rfind(quote).unwrap_or(offset);
        return (
            opened,
            format!("this {quote} text is never closed: end it with {quote}"),
            format!("这段用 {quote} 开始的文字没有结束：请在末尾加上 {quote}"),
        );
    }
    if has("basic string") || has("literal string") && !has("expected literal string") {
        let quote = if has("basic") { '"' } else { '\'' };
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let opened = before[line_start..]
            .rfind(quote)
            .map_or(offset, |i| line_start + i);
        return (
            opened,
            format!("this text is not closed: end it with {quote} on the same line (or use \"\"\" for text over several lines)"),
            format!("这段文字没有结束：请在同一行末尾加上 {quote}（多行文字请用 \"\"\"）"),
        );
    }
    let (en, zh): (String, String) = if has("string values must be quoted") {
        let word: String = source[floor_char(source, offset)..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != ',' && *c != ']' && *c != '}')
            .collect();
        if word.is_empty() {
            (
                "a value is missing after '=': write key = \"text\", a number, true or false"
                    .into(),
                "“=”后面缺少值：写成 键 = \"文字\"、数字、true 或 false".into(),
            )
        } else {
            let w = shown(&word);
            (
                format!("text must be in quotes: write \"{w}\", not {w}"),
                format!("文字要加引号：写成 \"{w}\"，而不是 {w}"),
            )
        }
    } else if has("duplicate key") {
        let key: String = source[floor_char(source, offset)..]
            .chars()
            .take_while(|c| !c.is_whitespace() && !"]=.".contains(*c))
            .collect();
        let k = shown(&key);
        (
            format!("'{k}' is given twice; each key once per table (and one kind of header: [{k}] for one table or [[{k}]] for each entry of a list, not both)"),
            format!("“{k}”出现了两次；同一个表里每个键只能写一次（表头也只能用一种：单个表写 [{k}]，列表的每一项写 [[{k}]]，不能混用）"),
        )
    } else if has("missing comma between array elements") {
        (
            "a comma is missing between two values of this list; write them like [\"a\", \"b\"]"
                .into(),
            "列表的两个值之间缺少逗号；请写成 [\"a\", \"b\"] 这样".into(),
        )
    } else if has("missing comma between key-value pairs") {
        (
            "a comma is missing between two entries of this { … }; write them like { dimension = \"law\", key = true }".into(),
            "{ … } 的两项之间缺少逗号；请写成 { dimension = \"law\", key = true } 这样".into(),
        )
    } else if has("unclosed array table") {
        (
            "this [[…]] header is not closed: end it with ]]".into(),
            "这个 [[…]] 表头没有结束：请加上 ]]".into(),
        )
    } else if has("unclosed table") {
        (
            "this […] header is not closed: end it with ]".into(),
            "这个 […] 表头没有结束：请加上 ]".into(),
        )
    } else if has("unclosed array") {
        (
            "this list is not closed: end it with ]".into(),
            "这个列表没有结束：请加上 ]".into(),
        )
    } else if has("unclosed inline table") {
        (
            "this { … } is not closed: end it with } on the same line".into(),
            "这个 { … } 没有结束：请在同一行加上 }".into(),
        )
    } else if has("recurse") || has("recursion") {
        (
            format!("lists or tables are nested more than {MAX_TOML_NESTING} levels deep here; a questionnaire needs only a few: remove the extra [ … ] or {{ … }} around the value"),
            format!("这里列表或表嵌套超过 {MAX_TOML_NESTING} 层；问卷只需要几层：请去掉值外面多余的 [ … ] 或 {{ … }}"),
        )
    } else if has("key with no value") || has("missing value") || has("missing assignment") {
        (
            "a key needs a value: write key = value, one per line".into(),
            "键后面需要值：每行写一个 键 = 值".into(),
        )
    } else if has("invalid key") || has("invalid unquoted key") || has("keys cannot be empty") {
        (
            "this key cannot be written like this: use letters, digits, '_' and '-', or put it in quotes (\"zh-CN\")".into(),
            "这个键的写法不对：只能用字母、数字、“_”和“-”，否则请加引号（\"zh-CN\"）".into(),
        )
    } else if has("escape") || has("unicode") {
        (
            "this escape (\\…) is not valid in TOML text: write \\\\ for a backslash, \\\" for a quote, \\n for a new line".into(),
            "这里的转义（\\…）不合法：反斜杠写 \\\\，引号写 \\\"，换行写 \\n".into(),
        )
    } else if has("number")
        || has("integer")
        || has("leading zero")
        || has("sign")
        || has("radix")
        || has("octal")
        || has("float")
    {
        (
            "this number is not written correctly: write it like 12, -3 or 2.5".into(),
            "这个数字写得不对：请写成 12、-3 或 2.5 这样".into(),
        )
    } else {
        let m = shown(message);
        (
            format!("this line is not valid TOML ({m}); compare it with the examples in questionnaires/README.md"),
            format!("这一行不符合 TOML 格式（{m}）；请对照 questionnaires/README.md 里的示例"),
        )
    };
    (offset, en, zh)
}
