//! Expressions in a file: syntax (with the position inside the string), references (to known,
//! earlier items), `.` and bare names where they belong, types (`crate::typecheck`), and
//! conditions that can never be true (constant, or contradicting themselves: `crate::contradiction`).

use std::collections::HashMap;

use super::parts::{instead_of_key, instead_of_name, ChoiceList, ExprRole, Pending, ReadItems};
use super::read::{Place, Str};
use super::Reporter;
use crate::expr::{Scope, Value};
use crate::typecheck::{self, Known, Ty, TypeProblem};
use crate::{shown, Expression, Lang};

/// Parses an expression written in a TOML string; a syntax error points into the string when
/// the string is written as is (no escapes).
pub(super) fn parse(r: &mut Reporter, s: &Str<'_>, place: &Place, key: &str) -> Option<Expression> {
    match Expression::parse(s.text) {
        Ok(e) => Some(e),
        Err(error) => {
            let start = s.at + 1;
            // `source` is not at hand here: the span's length tells whether the string is
            // written verbatim (one quote each side, no escapes)
            let verbatim = s.span.1.saturating_sub(s.span.0) == s.text.len() + 2;
            let at = if verbatim { start + error.offset } else { s.at };
            r.error(
                at,
                "expression-syntax",
                format!("{}: {key}: {}", place.en, error.kind.message(Lang::En)),
                format!("{}：{key}：{}", place.zh, error.kind.message(Lang::ZhCn)),
            );
            None
        }
    }
}

/// What the expressions of a file may refer to.
pub(super) struct Refs<'a> {
    pub read: &'a ReadItems,
    pub lists: &'a HashMap<String, ChoiceList>,
    /// The item whose answer is `.` in the expression being checked.
    pub current: Option<usize>,
}

impl Known for Refs<'_> {
    fn item(&self, name: &str) -> Option<(Ty, &'static str)> {
        let i = if name == "." {
            self.current?
        } else {
            *self.read.positions.get(name)?
        };
        if !self.read.kind_known[i] {
            return Some((Ty::Unknown, "note"));
        }
        let kind = &self.read.items[i].kind;
        Some((Ty::of(kind), kind.name()))
    }

    fn has_choice(&self, name: &str, key: &str) -> bool {
        self.list(name).is_none_or(|list| {
            // a refused or empty list was reported: no follow-on
            list.refused || list.keys.is_empty() || list.keys.contains(key)
        })
    }
}

impl Refs<'_> {
    /// The choice list of the item `name` (`.`: the current item), when it has a known one.
    fn list(&self, name: &str) -> Option<&ChoiceList> {
        let i = if name == "." {
            self.current?
        } else {
            *self.read.positions.get(name)?
        };
        self.read
            .lists
            .get(i)?
            .as_deref()
            .and_then(|l| self.lists.get(l))
    }

    /// The choices of the item `name`, none when it has no known list.
    fn choices(&self, name: &str) -> &[crate::Choice] {
        self.list(name).map_or(&[], |l| &l.choices)
    }
}

/// No answers at all: what a condition without references always evaluates to.
struct NoAnswers;
impl Scope for NoAnswers {
    fn reference(&self, _: &str) -> Value {
        Value::Empty
    }
}

pub(super) fn check_all(r: &mut Reporter, read: &ReadItems, lists: &HashMap<String, ChoiceList>) {
    for p in &read.pending {
        check(r, p, read, lists);
    }
}

fn check(r: &mut Reporter, p: &Pending, read: &ReadItems, lists: &HashMap<String, ChoiceList>) {
    let (en_place, zh_place, key) = (&p.place.en, &p.place.zh, &p.key);
    let problem = |r: &mut Reporter, code: &'static str, en: String, zh: String| {
        r.error(
            p.at,
            code,
            format!("{en_place}: {key} {en}"),
            format!("{zh_place}：{key} {zh}"),
        );
    };
    // references: known, earlier
    let mut seen = std::collections::HashSet::new();
    for name in p.expression.references() {
        if !seen.insert(name) {
            continue;
        }
        let n = shown(name);
        let position = read.positions.get(name).copied();
        let limit = match p.role {
            ExprRole::Relevant | ExprRole::ChoiceFilter => p.item,
            ExprRole::SectionRelevant => Some(p.item.unwrap_or(read.items.len())),
            ExprRole::Constraint | ExprRole::Eligibility => None,
        };
        match (position, limit) {
            (None, _) => {
                let nearest = r
                    .may_suggest()
                    .then(|| super::read::suggest(name, read.positions.keys().map(String::as_str)))
                    .flatten();
                let (en, zh) = match nearest {
                    Some(s) => {
                        let s = shown(s);
                        (
                            format!("; did you mean ${{{s}}}?"),
                            format!("，是不是 ${{{s}}}？"),
                        )
                    }
                    None => (
                        "; write ${…} with the id of an item between the braces".to_string(),
                        "；请写成 ${…}，花括号里是某个题目的 id".to_string(),
                    ),
                };
                problem(
                    r,
                    "unknown-reference",
                    format!("refers to ${{{n}}}, which is not an item{en}"),
                    format!("引用了 ${{{n}}}，但没有这个题目{zh}"),
                )
            }
            (Some(i), Some(limit)) if i == limit && p.role != ExprRole::SectionRelevant => problem(
                r,
                "self-reference",
                format!("refers to the item itself (${{{n}}}): a cycle; use '.' in a constraint for the item's own answer"),
                format!("引用了题目自身（${{{n}}}），形成循环；在 constraint 里用“.”表示本题的答案"),
            ),
            (Some(i), Some(limit)) if i >= limit => problem(
                r,
                "later-reference",
                format!("refers to ${{{n}}}, which comes later: an item may only depend on earlier answers (this also rules out cycles); move ${{{n}}} before this {}, or refer to an earlier item", if p.role == ExprRole::SectionRelevant { "section" } else { "item" }),
                format!("引用了后面的题目 ${{{n}}}：只能依赖前面题目的答案（这样也不会形成循环）；请把 ${{{n}}} 移到这个{}前面，或改为引用前面的题目", if p.role == ExprRole::SectionRelevant { "章节" } else { "题目" }),
            ),
            _ => {}
        }
    }
    if p.expression.uses_current() && p.role != ExprRole::Constraint {
        problem(
            r,
            "current-outside-constraint",
            "uses '.', which means an item's own answer and belongs in a constraint; refer to the item meant as ${id}, or move the condition to constraint".into(),
            "用了“.”；“.”表示本题的答案，只能用在 constraint 里；请用 ${id} 引用要判断的题目，或把条件移到 constraint".into(),
        );
    }
    // a section's "item" is its first item, or one past the last when it has none
    let attributes = p
        .item
        .filter(|_| p.role == ExprRole::ChoiceFilter)
        .and_then(|i| read.lists.get(i)?.as_deref())
        .and_then(|l| lists.get(l));
    for name in p.expression.attributes() {
        let n = shown(name);
        if p.role != ExprRole::ChoiceFilter {
            problem(
                r,
                "bare-name",
                format!("uses the bare name '{n}'; refer to an item as ${{{n}}}"),
                format!("用了不带 ${{}} 的名字“{n}”；引用题目请写 ${{{n}}}"),
            );
        } else if let Some(list) = attributes.filter(|l| !l.refused && !l.attributes.contains(name))
        {
            let (en, zh) = instead_of_name(
                r,
                name,
                list.attributes.iter().map(String::as_str),
                (
                    &format!("add attributes.{n} = \"…\" to the choices"),
                    &format!("请给选项加上 attributes.{n} = \"…\""),
                ),
            );
            problem(
                r,
                "unknown-attribute",
                format!("uses '{n}', which no choice of this item has as an attribute{en}"),
                format!("用了“{n}”，但这个题目的选项都没有这个属性{zh}"),
            );
        }
    }
    // types
    let refs = Refs {
        read,
        lists,
        current: (p.role == ExprRole::Constraint).then_some(p.item).flatten(),
    };
    for t in typecheck::check(p.expression.ast(), &refs) {
        let (code, mut en, mut zh) = type_problem(&t);
        if let TypeProblem::UnknownKey { name, key, .. } = &t {
            let (hint_en, hint_zh) = instead_of_key(r, key, refs.choices(name), true);
            en.push_str(&hint_en);
            zh.push_str(&hint_zh);
        }
        problem(r, code, en, zh);
    }
    // a condition on nothing: always the same
    let constant = p.expression.references().is_empty()
        && !p.expression.uses_current()
        && p.expression.attributes().is_empty();
    // a condition whose comparisons of one answer contradict each other (`. > 10 and . < 5`)
    let contradiction = (!constant)
        .then(|| crate::contradiction::never_true(p.expression.ast(), &refs))
        .flatten();
    if constant || contradiction.is_some() {
        if constant && p.expression.is_true(&NoAnswers) {
            let consequence = match p.role {
                ExprRole::Relevant => Some((
                    format!("so the item is always asked: remove {key} (an item without it is always asked), or write the condition meant"),
                    format!("这个题目总会被问到：请删掉 {key}（没有 {key} 的题目总会被问到），或写出真正要的条件"),
                )),
                ExprRole::SectionRelevant => Some((
                    format!("so the section is always asked: remove {key} (a section without it is always asked), or write the condition meant"),
                    format!("这个章节总会被问到：请删掉 {key}（没有 {key} 的章节总会被问到），或写出真正要的条件"),
                )),
                ExprRole::ChoiceFilter => Some((
                    format!("so every choice is always offered: remove {key}, or write the condition meant"),
                    format!("所有选项总会显示：请删掉 {key}，或写出真正要的条件"),
                )),
                ExprRole::Eligibility => Some((
                    "so everybody is eligible: remove the [eligibility] table, or write the condition meant, like \"${age} >= 16\"".to_string(),
                    "人人都符合资格：请删掉 [eligibility] 表，或写出真正要的条件，如 \"${age} >= 16\"".to_string(),
                )),
                // a constraint that accepts every answer does no harm
                ExprRole::Constraint => None,
            };
            if let Some((en, zh)) = consequence {
                r.warn(
                    p.at,
                    "always-true",
                    format!("{en_place}: {key} is always true, {en}"),
                    format!("{zh_place}：{key} 永远为真，{zh}"),
                );
            }
        } else {
            let (en, zh) = match p.role {
                ExprRole::Relevant | ExprRole::SectionRelevant => {
                    ("so it would never be asked", "这样永远不会被问到")
                }
                ExprRole::Constraint => (
                    "so no answer would ever be accepted",
                    "这样任何答案都不会被接受",
                ),
                ExprRole::ChoiceFilter => {
                    ("so no choice would ever be offered", "这样不会显示任何选项")
                }
                ExprRole::Eligibility => ("so nobody could be interviewed", "这样没有人能接受调查"),
            };
            let (why_en, why_zh) = match contradiction {
                Some(name) if name == "." => (
                    " (what it asks of the item's own answer '.' contradicts itself)".to_string(),
                    "（对本题答案“.”的要求互相矛盾）".to_string(),
                ),
                Some(name) => {
                    let answer = format!("${{{}}}", shown(&name));
                    (
                        format!(" (what it asks of {answer} contradicts itself)"),
                        format!("（对 {answer} 的要求互相矛盾）"),
                    )
                }
                None => (String::new(), String::new()),
            };
            problem(
                r,
                "never-true",
                format!("can never be true{why_en}, {en}; check the values it compares and each 'and' (perhaps 'or' was meant)"),
                format!("永远不会为真{why_zh}，{zh}；请检查比较的值和每个 and（也许应是 or）"),
            );
        }
    }
}

fn type_problem(t: &TypeProblem) -> (&'static str, String, String) {
    match t {
        TypeProblem::TrueFalseWithText { item, text } => (
            "true-false-with-text",
            format!("compares {item}, a true/false item, with the text '{}'; compare it with true() or false()", shown(text)),
            format!("把是非题 {item} 和文字“{}”比较；请与 true() 或 false() 比较", shown(text)),
        ),
        TypeProblem::NumberWithText { item, text } => (
            "number-with-text",
            format!("compares {item}, a number, with the text '{}', which is not a number; compare it with a number, like {item} >= 16", shown(text)),
            format!("把数字 {item} 和不是数字的文字“{}”比较；请和数字比较，如 {item} >= 16", shown(text)),
        ),
        TypeProblem::DateWithText { item, text } => (
            "date-with-text",
            format!("compares {item}, a date, with '{}', which is not a date like '2026-03-01'", shown(text)),
            format!("把日期 {item} 和“{}”比较，但它不是 '2026-03-01' 这样的日期", shown(text)),
        ),
        TypeProblem::DateWithNumber { item } => (
            "date-with-number",
            format!("compares {item}, a date, with a number; write the date in quotes, like '2026-03-01'"),
            format!("把日期 {item} 和数字比较；日期请加引号，如 '2026-03-01'"),
        ),
        TypeProblem::UnknownKey { item, key, .. } => (
            "unknown-choice-key",
            format!("compares {item} with '{}', which is not one of its choices", shown(key)),
            format!("把 {item} 和“{}”比较，但它不是该题的选项", shown(key)),
        ),
        TypeProblem::NotAChoiceItem { function, item, kind } => (
            "not-a-choice-item",
            format!("uses {function}() on {item}, which is {kind} and has no choices; {function}() is for items with choices: compare {item} directly instead, like {item} = …"),
            format!("对 {item} 用了 {function}()，但它是 {kind}，没有选项；{function}() 只用于有选项的题目：请直接比较 {item}，如 {item} = …"),
        ),
        TypeProblem::ArithmeticOn { item, kind } => (
            "arithmetic-on-non-number",
            format!("does arithmetic with {item}, which is {kind}, not a number; only integer and decimal items can be computed with: compare {item} instead (=, !=, <, >)"),
            format!("对 {item} 做了算术运算，但它是 {kind}，不是数字；只有整数题和小数题能参与计算：请改为比较 {item}（=、!=、<、>）"),
        ),
        TypeProblem::DivisionByZero => (
            "division-by-zero",
            "divides by 0 (div 0 or mod 0), which has no value; divide by a number other than 0".into(),
            "除以 0（div 0 或 mod 0），结果没有意义；请除以不为 0 的数".into(),
        ),
    }
}
