//! Reading spanned TOML values: each table's keys are taken in one pass, unknown keys reported
//! with a suggestion, wrong types and missing keys reported in plain words, and reading goes
//! on past every one of them.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::Reporter;
use crate::shown;

pub(super) type Value<'i> = Spanned<DeValue<'i>>;

/// Where a value is, for messages in both languages: `item 'q1'`, `题目“q1”`.
#[derive(Clone, Debug)]
pub(super) struct Place {
    pub en: String,
    pub zh: String,
}

impl Place {
    pub(super) fn new(en: impl Into<String>, zh: impl Into<String>) -> Place {
        Place {
            en: en.into(),
            zh: zh.into(),
        }
    }

    pub(super) fn top() -> Place {
        Place::new("the questionnaire", "问卷")
    }

    pub(super) fn item(id: &str) -> Place {
        let id = shown(id);
        Place::new(format!("item '{id}'"), format!("题目“{id}”"))
    }
}

/// What a value should be, said the way an author writes it.
#[derive(Clone, Copy, Debug)]
pub(super) enum Expect {
    Text,
    Bool,
    WholeNumber {
        at_least: i64,
    },
    /// A text in each language: `label."zh-CN" = "…"`.
    Texts,
    TextList,
    /// `[[key]]` blocks.
    Blocks,
    Table,
}

impl Expect {
    fn words(self, key: &str) -> (String, String) {
        match self {
            Expect::Text => (
                "text in quotes, like \"…\"".into(),
                "带引号的文字，如 \"…\"".into(),
            ),
            Expect::Bool => ("true or false".into(), "true 或 false".into()),
            Expect::WholeNumber { at_least } => (
                format!("a whole number ≥ {at_least}"),
                format!("不小于 {at_least} 的整数"),
            ),
            Expect::Texts => (
                format!("a text for each language, like {key}.\"zh-CN\" = \"…\""),
                format!("按语言写的文字，如 {key}.\"zh-CN\" = \"…\""),
            ),
            Expect::TextList => (
                "a list of texts, like [\"a\", \"b\"]".into(),
                "文字列表，如 [\"a\", \"b\"]".into(),
            ),
            Expect::Blocks => (
                format!("one [[{key}]] block for each entry"),
                format!("每一项一个 [[{key}]] 块"),
            ),
            Expect::Table => (format!("a [{key}] table"), format!("一个 [{key}] 表")),
        }
    }
}

/// A value's kind as an author would call it.
pub(super) fn written_as(value: &DeValue<'_>) -> (&'static str, &'static str) {
    match value {
        DeValue::String(_) => ("text", "文字"),
        DeValue::Integer(_) => ("a whole number", "整数"),
        DeValue::Float(_) => ("a decimal number", "小数"),
        DeValue::Boolean(_) => ("true/false", "true/false"),
        DeValue::Datetime(_) => ("a date-time", "日期时间"),
        DeValue::Array(_) => ("a list [ … ]", "列表 [ … ]"),
        DeValue::Table(_) => ("a table", "表"),
    }
}

/// The known word closest to `word` (at most 2 edits, fewer than the word's length), for
/// "did you mean". Gives none among more than 500 candidates, so it stays cheap on any file
/// (a file with 50,000 misspelt references to 50,000 items).
pub(super) fn suggest<'c, C>(word: &str, candidates: C) -> Option<&'c str>
where
    C: IntoIterator<Item = &'c str>,
    C::IntoIter: ExactSizeIterator,
{
    let candidates = candidates.into_iter();
    // one letter is no misspelling of another ('n' for 'y')
    let length = word.chars().count();
    if !(2..=64).contains(&length) || candidates.len() > 500 {
        return None;
    }
    let word: Vec<char> = word.chars().collect();
    let max = 2.min(length - 1);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let Some(distance) = distance_within(&word, candidate, max) else {
            continue;
        };
        // ties go to the first in alphabetical order: candidates often come from a map, and
        // the same file must always get the same suggestion
        let better = best.is_none_or(|(d, b)| distance < d || distance == d && candidate < b);
        if distance > 0 && better {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// The edit distance from `a` to `b` when it is at most `max` (a transposition, `lable`,
/// counts as one edit), else `None`. Only a band of `2·max + 1` cells of each row is worked
/// out, so a search among 500 long names stays cheap.
fn distance_within(a: &[char], b: &str, max: usize) -> Option<usize> {
    let b: Vec<char> = b.chars().take(a.len() + max + 1).collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    if a.len() == b.len() {
        let mut differing = (0..a.len()).filter(|&i| a[i] != b[i]);
        if let (Some(i), Some(j), None) = (differing.next(), differing.next(), differing.next()) {
            if j == i + 1 && a[i] == b[j] && a[j] == b[i] {
                return Some(1);
            }
        }
    }
    const FAR: usize = usize::MAX / 2;
    let n = b.len();
    let mut previous = vec![FAR; n + 1];
    for (j, cell) in previous.iter_mut().enumerate().take(max + 1) {
        *cell = j;
    }
    let mut current = vec![FAR; n + 1];
    for i in 1..=a.len() {
        let lo = i.saturating_sub(max).max(1);
        let hi = (i + max).min(n);
        current[lo - 1] = if lo == 1 { i } else { FAR };
        let mut row_min = current[lo - 1];
        for j in lo..=hi {
            let substitution = previous[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            current[j] = substitution.min(previous[j] + 1).min(current[j - 1] + 1);
            row_min = row_min.min(current[j]);
        }
        if hi < n {
            current[hi + 1] = FAR;
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut previous, &mut current);
    }
    Some(previous[n]).filter(|d| *d <= max)
}

/// A text value with where it starts (the opening quote) and its span.
#[derive(Clone, Copy, Debug)]
pub(super) struct Str<'a> {
    pub text: &'a str,
    pub at: usize,
    pub span: (usize, usize),
}

/// The values of one table, by known key.
pub(super) struct Fields<'a, 'i> {
    known: &'static [&'static str],
    values: Vec<Option<(&'a Spanned<toml::de::DeString<'i>>, &'a Value<'i>)>>,
    /// Known keys suggested for a misspelt one: not reported missing as well.
    suggested: Vec<&'static str>,
    /// Where the table starts: missing keys are reported here.
    pub at: usize,
    pub place: Place,
}

/// Takes a table's keys in one pass; reports every key not in `known`.
pub(super) fn fields<'a, 'i>(
    r: &mut Reporter,
    table: &'a DeTable<'i>,
    at: usize,
    known: &'static [&'static str],
    place: Place,
) -> Fields<'a, 'i> {
    let mut values = vec![None; known.len()];
    let mut suggested = Vec::new();
    for (key, value) in table.iter() {
        match known.iter().position(|k| *k == key.get_ref().as_ref()) {
            Some(i) => values[i] = Some((key, value)),
            None => suggested.extend(unknown_key(r, key, known, &place)),
        }
    }
    Fields {
        known,
        values,
        suggested,
        at,
        place,
    }
}

fn unknown_key(
    r: &mut Reporter,
    key: &Spanned<toml::de::DeString<'_>>,
    known: &[&'static str],
    place: &Place,
) -> Option<&'static str> {
    let name = key.get_ref().as_ref();
    let k = shown(name);
    let (en, zh) = match suggest(name, known.iter().copied()) {
        Some(s) => (
            format!("{}: unknown key '{k}'; did you mean '{s}'?", place.en),
            format!("{}：没有“{k}”这个键，是不是“{s}”？", place.zh),
        ),
        None => (
            format!(
                "{}: unknown key '{k}'; the keys here are: {}",
                place.en,
                known.join(", ")
            ),
            format!(
                "{}：没有“{k}”这个键；这里可用的键有：{}",
                place.zh,
                known.join("、")
            ),
        ),
    };
    r.error(key.span().start, "unknown-key", en, zh);
    suggest(name, known.iter().copied())
}

impl<'a, 'i> Fields<'a, 'i> {
    /// The same fields, named differently in messages (once the id is known).
    pub(super) fn with_place(self, place: Place) -> Self {
        Fields { place, ..self }
    }

    pub(super) fn value(&self, key: &str) -> Option<&'a Value<'i>> {
        let i = self.known.iter().position(|k| *k == key)?;
        self.values[i].map(|(_, v)| v)
    }

    /// Where the key itself is written (for problems with a key rather than its value).
    pub(super) fn key_at(&self, key: &str) -> Option<usize> {
        let i = self.known.iter().position(|k| *k == key)?;
        self.values[i].map(|(k, _)| k.span().start)
    }

    pub(super) fn wrong_type(
        &self,
        r: &mut Reporter,
        key: &str,
        value: &Value<'_>,
        expect: Expect,
    ) {
        let (want_en, want_zh) = expect.words(key);
        let (got_en, got_zh) = match value.get_ref() {
            DeValue::Integer(n) => (n.to_string(), n.to_string()),
            other => {
                let (en, zh) = written_as(other);
                (en.to_string(), zh.to_string())
            }
        };
        let (en, zh) = match (expect, value.get_ref()) {
            (Expect::Blocks, DeValue::Table(_)) => (
                format!("write [[{key}]] (one block for each entry), not [{key}]"),
                format!("请写 [[{key}]]（每一项一个块），而不是 [{key}]"),
            ),
            (Expect::Texts, DeValue::String(_)) => (
                format!("{}: write {key}.\"zh-CN\" = \"…\" (a text for each language), not {key} = \"…\"", self.place.en),
                format!("{}：请写 {key}.\"zh-CN\" = \"…\"（每种语言一段文字），而不是 {key} = \"…\"", self.place.zh),
            ),
            _ => {
                // a space before Latin letters and digits in Chinese text (应是 true, 而不是 0)
                let spaced = |s: &str| {
                    if s.starts_with(|c: char| c.is_ascii()) {
                        format!(" {s}")
                    } else {
                        s.to_string()
                    }
                };
                (
                    format!("{}: {key} must be {want_en}, not {got_en}", self.place.en),
                    format!(
                        "{}：{key} 应是{}，而不是{}",
                        self.place.zh,
                        spaced(&want_zh),
                        spaced(&got_zh)
                    ),
                )
            }
        };
        r.error(value.span().start, "wrong-type", en, zh);
    }

    pub(super) fn missing(&self, r: &mut Reporter, key: &str, example: &str) {
        self.missing_with(r, key, example, ("", ""));
    }

    /// Like [`Fields::missing`], with a note after the example (`" (the right answer)"`,
    /// `"（正确答案）"`).
    pub(super) fn missing_with(
        &self,
        r: &mut Reporter,
        key: &str,
        example: &str,
        (note_en, note_zh): (&str, &str),
    ) {
        if self.suggested.contains(&key) {
            return; // "did you mean" said it already
        }
        r.error(
            self.at,
            "missing-key",
            format!(
                "{}: {key} is missing; add {key} = {example}{note_en}",
                self.place.en
            ),
            format!(
                "{}：缺少 {key}；请加上 {key} = {example}{note_zh}",
                self.place.zh
            ),
        );
    }

    pub(super) fn string(&self, r: &mut Reporter, key: &str) -> Option<Str<'a>> {
        let value = self.value(key)?;
        match value.get_ref() {
            DeValue::String(s) => Some(Str {
                text: s.as_ref(),
                at: value.span().start,
                span: (value.span().start, value.span().end),
            }),
            _ => {
                self.wrong_type(r, key, value, Expect::Text);
                None
            }
        }
    }

    pub(super) fn required_string(
        &self,
        r: &mut Reporter,
        key: &str,
        example: &str,
    ) -> Option<Str<'a>> {
        if self.value(key).is_none() {
            self.missing(r, key, example);
        }
        self.string(r, key)
    }

    pub(super) fn bool(&self, r: &mut Reporter, key: &str) -> Option<(bool, usize)> {
        let value = self.value(key)?;
        match value.get_ref() {
            DeValue::Boolean(b) => Some((*b, value.span().start)),
            _ => {
                self.wrong_type(r, key, value, Expect::Bool);
                None
            }
        }
    }

    /// A whole number ≥ `at_least`; one outside `i64` or below is reported.
    pub(super) fn whole_number(
        &self,
        r: &mut Reporter,
        key: &str,
        at_least: i64,
    ) -> Option<(i64, usize)> {
        let value = self.value(key)?;
        let n = match value.get_ref() {
            DeValue::Integer(n) => integer(n),
            _ => None,
        };
        match n {
            Some(n) if n >= at_least => Some((n, value.span().start)),
            _ => {
                self.wrong_type(r, key, value, Expect::WholeNumber { at_least });
                None
            }
        }
    }

    pub(super) fn table(&self, r: &mut Reporter, key: &str) -> Option<(&'a DeTable<'i>, usize)> {
        let value = self.value(key)?;
        match value.get_ref() {
            DeValue::Table(t) => Some((t, value.span().start)),
            _ => {
                self.wrong_type(r, key, value, Expect::Table);
                None
            }
        }
    }

    /// A text for each language (`label."zh-CN" = "…"`).
    pub(super) fn texts(&self, r: &mut Reporter, key: &str) -> Option<(&'a DeTable<'i>, usize)> {
        let value = self.value(key)?;
        match value.get_ref() {
            DeValue::Table(t) => Some((t, value.span().start)),
            _ => {
                self.wrong_type(r, key, value, Expect::Texts);
                None
            }
        }
    }

    /// `[[key]]` blocks: each entry a table with where it starts.
    pub(super) fn blocks(
        &self,
        r: &mut Reporter,
        key: &str,
    ) -> Option<(Vec<(&'a DeTable<'i>, usize)>, usize)> {
        let value = self.value(key)?;
        blocks(r, key, value, &self.place)
    }

    pub(super) fn text_list(&self, r: &mut Reporter, key: &str) -> Option<(Vec<Str<'a>>, usize)> {
        let value = self.value(key)?;
        let DeValue::Array(values) = value.get_ref() else {
            self.wrong_type(r, key, value, Expect::TextList);
            return None;
        };
        let mut out = Vec::with_capacity(values.len());
        for v in values.iter() {
            match v.get_ref() {
                DeValue::String(s) => out.push(Str {
                    text: s.as_ref(),
                    at: v.span().start,
                    span: (v.span().start, v.span().end),
                }),
                _ => self.wrong_type(r, key, v, Expect::Text),
            }
        }
        Some((out, value.span().start))
    }
}

/// `[[key]]` blocks (or an inline list of tables).
pub(super) fn blocks<'a, 'i>(
    r: &mut Reporter,
    key: &str,
    value: &'a Value<'i>,
    place: &Place,
) -> Option<(Vec<(&'a DeTable<'i>, usize)>, usize)> {
    let report = |r: &mut Reporter, v: &Value<'_>| {
        let f = no_fields(place.clone());
        f.wrong_type(r, key, v, Expect::Blocks);
    };
    let DeValue::Array(values) = value.get_ref() else {
        report(r, value);
        return None;
    };
    let mut out = Vec::with_capacity(values.len());
    for v in values.iter() {
        match v.get_ref() {
            DeValue::Table(t) => out.push((t, v.span().start)),
            _ => report(r, v),
        }
    }
    Some((out, value.span().start))
}

/// A TOML integer as `i64`, `None` when it does not fit.
pub(super) fn integer(n: &toml::de::DeInteger<'_>) -> Option<i64> {
    i64::from_str_radix(n.as_str(), n.radix()).ok()
}

/// Fields of no table: for reporting a wrong type at `place`.
pub(super) fn no_fields(place: Place) -> Fields<'static, 'static> {
    Fields {
        known: &[],
        values: Vec::new(),
        suggested: Vec::new(),
        at: 0,
        place,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let keys = ["label", "constraint", "relevant", "kind", "id"];
        assert_eq!(suggest("lable", keys), Some("label"));
        assert_eq!(suggest("contraint", keys), Some("constraint"));
        assert_eq!(suggest("relevent", keys), Some("relevant"));
        assert_eq!(suggest("colour", keys), None);
        assert_eq!(suggest("ik", keys), Some("id"));
        assert_eq!(suggest("n", ["y", "a"]), None);
        // an insertion, a deletion, two edits; three are too many
        assert_eq!(suggest("techer", ["teacher"]), Some("teacher"));
        assert_eq!(suggest("teacherr", ["teacher"]), Some("teacher"));
        assert_eq!(suggest("tcher", ["teacher"]), Some("teacher"));
        assert_eq!(suggest("tch", ["teacher"]), None);
        let long = format!("{}_000", "x".repeat(58));
        assert_eq!(
            suggest(&format!("{long}y"), [long.as_str()]),
            Some(long.as_str())
        );
        assert_eq!(suggest("worker", ["teacher", "doctor"]), None);
        // the band gives the same distance as the whole table
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        for (a, b, d) in [
            ("kitten", "sitting", None),
            ("kitten", "sittin", Some(2)),
            ("abc", "abc", Some(0)),
            ("abcdef", "abdcef", Some(1)),
            ("职业病", "职业", Some(1)),
            ("", "ab", Some(2)),
        ] {
            assert_eq!(distance_within(&chars(a), b, 2), d, "{a} {b}");
        }
        // a tie: the first in alphabetical order, whatever the order of the candidates
        assert_eq!(suggest("qq", ["qq2", "qq1"]), Some("qq1"));
        assert_eq!(suggest("qq", ["qq1", "qq2"]), Some("qq1"));
    }

    /// The whole table, with the same rule for one transposition.
    fn full_distance(a: &[char], b: &[char]) -> usize {
        let mut previous: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.iter().enumerate() {
            let mut current = vec![i + 1; b.len() + 1];
            for (j, cb) in b.iter().enumerate() {
                current[j + 1] = (previous[j] + usize::from(ca != cb))
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1);
            }
            previous = current;
        }
        let differing: Vec<usize> = (0..a.len().min(b.len()))
            .filter(|&i| a[i] != b[i])
            .collect();
        if a.len() == b.len()
            && differing.len() == 2
            && differing[1] == differing[0] + 1
            && a[differing[0]] == b[differing[1]]
            && a[differing[1]] == b[differing[0]]
        {
            return 1;
        }
        previous[b.len()]
    }

    #[test]
    fn the_band_agrees_with_the_whole_table() {
        let mut words = vec![String::new()];
        for _ in 0..5 {
            let longer: Vec<String> = words
                .iter()
                .filter(|w| w.len() == words.last().unwrap().len())
                .flat_map(|w| ["a", "b", "c"].map(|c| format!("{w}{c}")))
                .collect();
            words.extend(longer);
        }
        for a in &words {
            let ac: Vec<char> = a.chars().collect();
            for b in &words {
                let bc: Vec<char> = b.chars().collect();
                let d = full_distance(&ac, &bc);
                for max in 1..=2 {
                    assert_eq!(
                        distance_within(&ac, b, max),
                        (d <= max).then_some(d),
                        "{a} {b} {max}"
                    );
                }
            }
        }
    }
}
