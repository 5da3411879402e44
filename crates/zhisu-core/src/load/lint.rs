//! Lint for item writing: legal questionnaires whose test items are written in a way that
//! gives the answer away or confuses a respondent. Every finding is a warning with a stable
//! code (`zhisu questionnaire check --strict` turns them into failures), at the item's `id`.
//!
//! The rules, each language-aware (Chinese and English stems and options):
//! - `lint-key-longest-option` / `lint-key-shortest-option`, once per questionnaire: the keyed
//!   option is strictly the longest (shortest) in more than half of the scored single-choice
//!   items with at least three options (and at least [`PATTERN_MIN_ITEMS`] such items). One item
//!   may rightly have its longest option right; a pattern over many teaches test-wise guessing.
//!   Reported at the first such item, naming them all.
//! - `lint-all-none-of-above`: an option "以上都对/以上都不对/以上都是/都不是/all of the above/none
//!   of the above" in a scored item.
//! - `lint-negative-stem`: a scored choice item's question is worded negatively ("下列哪项不是",
//!   不属于, 并非, "not", "except", …; 没有 alone describes, 没有防护); true/false statements may state a misconception
//!   ("噪声听久了不会伤听力") and are not flagged for one negation.
//!   `lint-double-negative`: two different negations in one question (any answered item).
//! - `lint-duplicate-options`: two options of one item read the same in some language.
//! - `lint-explanation-contradicts-key`: a true/false item whose explanation starts by saying the
//!   opposite of its key (keyed true, explanation starts 错/不对/"False"; keyed false, starts
//!   正确/对，/"True").
//! - `lint-long-stem`: a question (in the default language, notes excluded) longer than [`LONG_STEM_CHARS`] characters
//!   ([`LONG_STEM_CHARS_INTERCEPT`] in a questionnaire whose id has `intercept`: read aloud at a
//!   bus station).
//! - `lint-image-without-alt`: an item shows a picture and nobody said what it shows: no
//!   `image_alt`, and not one of the app's built-in pictures (`crate::BUILTIN_PICTURES`), whose
//!   descriptions the app has. A respondent who cannot see it, or a screen reader, gets only
//!   the question's words.

use super::Reporter;
use crate::{AnswerValue, Item, ItemKind, Questionnaire, Text};

/// Fewer scored single-choice items than this make no pattern.
pub const PATTERN_MIN_ITEMS: usize = 4;
/// The longest question (in characters, any language) before `lint-long-stem`.
pub const LONG_STEM_CHARS: usize = 120;
/// The same for an intercept version (`id` contains `intercept`).
pub const LONG_STEM_CHARS_INTERCEPT: usize = 60;

/// Negations of a Chinese question (a bare 不 is not counted: 不良, 不适, 心情不好 do not negate).
/// 没有 counts towards a double negative only: alone it mostly describes (没有防护).
const ZH_NEGATIONS: [&str; 13] = [
    "不是",
    "不属于",
    "不正确",
    "不对",
    "没有",
    "并非",
    "不应",
    "不能",
    "不会",
    "不要",
    "不需要",
    "不可以",
    "错误的是",
];
const EN_NEGATIONS: [&str; 6] = ["not", "never", "except", "none", "cannot", "no"];

const ZH_ALL_NONE: [&str; 10] = [
    "以上都对",
    "以上都不对",
    "以上都是",
    "以上都不是",
    "以上皆是",
    "以上皆非",
    "以上均是",
    "以上均不是",
    "以上全对",
    "都不是",
];
const EN_ALL_NONE: [&str; 4] = [
    "all of the above",
    "none of the above",
    "all the above",
    "none of these",
];

/// Adds the lint warnings for a questionnaire that loaded; `item_at[i]` is where item `i`'s id
/// is written.
pub(super) fn lint(q: &Questionnaire, item_at: &[usize], r: &mut Reporter) {
    let at = |i: usize| item_at.get(i).copied().unwrap_or(0);
    let long_limit = if q.id.contains("intercept") {
        LONG_STEM_CHARS_INTERCEPT
    } else {
        LONG_STEM_CHARS
    };
    for (i, item) in q.items.iter().enumerate() {
        let scored = item.scoring.is_some();
        let (negations, negated) = negations(&item.label);
        if negations >= 2 && item.kind.takes_answer() {
            r.warn(
                at(i),
                "lint-double-negative",
                format!(
                    "item '{}': the question has two negations; say it positively, a double negative is easy to misread",
                    item.id
                ),
                format!("题目“{}”：题干里有两个否定词，容易读错；请改成肯定的说法", item.id),
            );
        } else if negations == 1
            && negated
            && scored
            && matches!(
                item.kind,
                ItemKind::SingleChoice { .. } | ItemKind::MultipleChoice { .. }
            )
        {
            r.warn(
                at(i),
                "lint-negative-stem",
                format!(
                    "item '{}': the question is worded negatively (not, except, …); ask it positively, or make the negation stand out",
                    item.id
                ),
                format!(
                    "题目“{}”：题干是否定的说法（不是、没有……）；请改成肯定的问法，或把否定词突出",
                    item.id
                ),
            );
        }
        if scored {
            if let Some(label) = item
                .kind
                .choices()
                .iter()
                .find(|c| c.label.0.values().any(|l| is_all_or_none(l)))
            {
                r.warn(
                    at(i),
                    "lint-all-none-of-above",
                    format!(
                        "item '{}': option '{}' is \"all/none of the above\"; write a real option instead",
                        item.id, label.key
                    ),
                    format!(
                        "题目“{}”：选项“{}”是“以上都对/以上都不对”一类；请换成一个具体的选项",
                        item.id, label.key
                    ),
                );
            }
        }
        if let Some((a, b)) = duplicate_options(item) {
            r.warn(
                at(i),
                "lint-duplicate-options",
                format!(
                    "item '{}': options '{a}' and '{b}' read the same; make each option different",
                    item.id
                ),
                format!(
                    "题目“{}”：选项“{a}”和“{b}”文字相同；请让每个选项都不一样",
                    item.id
                ),
            );
        }
        if contradicts_key(item) {
            r.warn(
                at(i),
                "lint-explanation-contradicts-key",
                format!(
                    "item '{}': the explanation starts by saying the opposite of the right answer; check the key or the explanation",
                    item.id
                ),
                format!("题目“{}”：答案解释的开头和正确答案相反；请核对答案或解释", item.id),
            );
        }
        if let Some(n) = item
            .label
            .0
            .get(&q.default_language)
            .map(|l| l.chars().count())
            .filter(|n| *n > long_limit && item.kind.takes_answer())
        {
            r.warn(
                at(i),
                "lint-long-stem",
                format!(
                    "item '{}': the question has {n} characters; keep it under {long_limit} so it can be read aloud quickly",
                    item.id
                ),
                format!("题目“{}”：题干有 {n} 个字，请控制在 {long_limit} 个字以内，方便快速读完", item.id),
            );
        }
        if let Some(image) = item
            .image
            .as_deref()
            .filter(|_| item.picture_alt().is_none())
        {
            r.warn(
                at(i),
                "lint-image-without-alt",
                format!(
                    "item '{}': the picture \"{}\" has no image_alt; say in words what it shows (image_alt.\"{}\" = \"…\"), for a respondent who cannot see it and for screen readers",
                    item.id, crate::shown(image), q.default_language
                ),
                format!(
                    "题目“{}”：图片“{}”没有文字说明；请用 image_alt.\"{}\" = \"…\" 写出图上画的是什么，给看不清图的人和读屏软件用",
                    item.id, crate::shown(image), q.default_language
                ),
            );
        }
    }
    key_length_pattern(q, &at, r);
}

/// How many negations the question has, in its most negative language, and whether one of
/// them negates the question itself (not only describes: 没有防护 is "unprotected").
fn negations(label: &Text) -> (usize, bool) {
    label
        .0
        .iter()
        .map(|(lang, text)| {
            if lang.starts_with("zh") {
                zh_negations(text)
            } else {
                let n = en_negations(text);
                (n, n > 0)
            }
        })
        .max()
        .unwrap_or((0, false))
}

/// Different negation words in a Chinese question ("没有颜色、没有气味" is one), and whether one
/// is more than 没有.
fn zh_negations(text: &str) -> (usize, bool) {
    let mut rest = text.to_string();
    let mut count = 0;
    let mut negates = false;
    for word in ZH_NEGATIONS {
        if rest.contains(word) {
            count += 1;
            negates |= word != "没有";
            rest = rest.replace(word, "＿");
        }
    }
    (count, negates)
}

/// Different negation words in an English question.
fn en_negations(text: &str) -> usize {
    let lower = text.to_lowercase();
    let mut words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| EN_NEGATIONS.contains(w) || w.ends_with("n't"))
        .collect();
    words.sort_unstable();
    words.dedup();
    words.len()
}

fn is_all_or_none(label: &str) -> bool {
    let lower = label.trim().to_lowercase();
    let bare: String = lower
        .chars()
        .filter(|c| !c.is_ascii_punctuation() && !"。，！、".contains(*c))
        .collect();
    ZH_ALL_NONE.iter().any(|w| bare.starts_with(w)) || EN_ALL_NONE.iter().any(|w| bare.contains(w))
}

fn duplicate_options(item: &Item) -> Option<(String, String)> {
    let choices = item.kind.choices();
    for (i, a) in choices.iter().enumerate() {
        for b in &choices[i + 1..] {
            let same = a.label.0.iter().any(|(lang, text)| {
                b.label.0.get(lang).is_some_and(|other| {
                    !text.trim().is_empty()
                        && text.trim().to_lowercase() == other.trim().to_lowercase()
                })
            });
            if same {
                return Some((a.key.clone(), b.key.clone()));
            }
        }
    }
    None
}

fn contradicts_key(item: &Item) -> bool {
    let (Some(rule), Some(explanation)) = (&item.scoring, &item.explanation) else {
        return false;
    };
    if !matches!(item.kind, ItemKind::TrueFalse) {
        return false;
    }
    let AnswerValue::Bool(key) = rule.key else {
        return false;
    };
    explanation.0.iter().any(|(lang, text)| {
        let text = text.trim_start();
        let says = if lang.starts_with("zh") {
            zh_verdict(text)
        } else {
            en_verdict(text)
        };
        says == Some(!key)
    })
}

/// What a Chinese explanation's first words say: `Some(false)` for 错/不对, `Some(true)` for
/// 对/正确.
fn zh_verdict(text: &str) -> Option<bool> {
    const FALSE: [&str; 6] = [
        "错",
        "不对",
        "不正确",
        "说法错误",
        "这种说法不对",
        "这个说法不对",
    ];
    const TRUE: [&str; 7] = [
        "对，",
        "对。",
        "对！",
        "正确",
        "是的",
        "没错",
        "这种说法正确",
    ];
    if FALSE.iter().any(|w| text.starts_with(w)) {
        Some(false)
    } else if TRUE.iter().any(|w| text.starts_with(w)) {
        Some(true)
    } else {
        None
    }
}

fn en_verdict(text: &str) -> Option<bool> {
    let first: String = text
        .chars()
        .take_while(|c| c.is_alphabetic())
        .collect::<String>()
        .to_lowercase();
    match first.as_str() {
        "false" | "wrong" | "incorrect" | "no" => Some(false),
        "true" | "correct" | "right" | "yes" => Some(true),
        _ => None,
    }
}

/// The keyed option strictly longest (or shortest) in more than half of the scored
/// single-choice items with three or more options.
fn key_length_pattern(q: &Questionnaire, at: &dyn Fn(usize) -> usize, r: &mut Reporter) {
    let mut considered = 0;
    let mut longest = Vec::new();
    let mut shortest = Vec::new();
    for (i, item) in q.items.iter().enumerate() {
        let (ItemKind::SingleChoice { choices, .. }, Some(rule)) = (&item.kind, &item.scoring)
        else {
            continue;
        };
        let AnswerValue::Choice(key) = &rule.key else {
            continue;
        };
        if choices.len() < 3 {
            continue;
        }
        considered += 1;
        let length = |c: &crate::Choice| {
            c.label
                .get(&q.default_language, &q.default_language)
                .chars()
                .count()
        };
        let Some(keyed) = choices.iter().find(|c| &c.key == key).map(length) else {
            continue;
        };
        let others = choices.iter().filter(|c| &c.key != key).map(length);
        let (mut max, mut min) = (0, usize::MAX);
        for n in others {
            max = max.max(n);
            min = min.min(n);
        }
        if keyed > max {
            longest.push(i);
        }
        if keyed < min {
            shortest.push(i);
        }
    }
    if considered < PATTERN_MIN_ITEMS {
        return;
    }
    for (found, code, en, zh) in [
        (&longest, "lint-key-longest-option", "longest", "最长"),
        (&shortest, "lint-key-shortest-option", "shortest", "最短"),
    ] {
        if found.len() * 2 <= considered {
            continue;
        }
        let names: Vec<&str> = found.iter().map(|&i| q.items[i].id.as_str()).collect();
        r.warn(
            at(found[0]),
            code,
            format!(
                "the right answer is the {en} option in {} of {considered} single-choice test items ({}); respondents learn to guess by length: even out the options",
                found.len(),
                names.join(", ")
            ),
            format!(
                "{considered} 道单选题中有 {} 道的正确答案是{zh}的选项（{}），答题人会按长短猜答案；请让选项长短相近",
                found.len(),
                names.join("、")
            ),
        );
    }
}
