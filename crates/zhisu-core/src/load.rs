//! Loading a questionnaire file in two phases: parse the TOML into raw types that keep source
//! positions, then validate into a [`Questionnaire`], collecting every problem rather than the first.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::{
    AnswerValue, Choice, Dimension, Item, ItemKind, Questionnaire, ScoringRule, Text,
    DEFAULT_LANGUAGE,
};

/// One problem in a questionnaire file, at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Every problem found in one file, in source order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} problem(s) in the questionnaire", .0.len())]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for DiagnosticsList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 .0 {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

/// `file:line:col: message` lines, one per problem.
pub struct DiagnosticsList<'a>(&'a Diagnostics);

impl Diagnostics {
    pub fn lines(&self) -> DiagnosticsList<'_> {
        DiagnosticsList(self)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestionnaire {
    id: Spanned<String>,
    version: Spanned<String>,
    #[serde(default)]
    default_language: Option<Spanned<String>>,
    languages: Spanned<Vec<String>>,
    title: Spanned<BTreeMap<String, String>>,
    #[serde(default)]
    literacy_threshold_percent: Option<Spanned<u32>>,
    #[serde(default)]
    dimensions: Vec<Spanned<RawDimension>>,
    #[serde(default)]
    choices: BTreeMap<String, Spanned<Vec<Spanned<RawChoice>>>>,
    items: Spanned<Vec<Spanned<RawItem>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDimension {
    id: Spanned<String>,
    label: Spanned<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChoice {
    key: Spanned<String>,
    label: Spanned<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: Spanned<String>,
    kind: Spanned<String>,
    label: Spanned<BTreeMap<String, String>>,
    #[serde(default)]
    hint: Option<Spanned<BTreeMap<String, String>>>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    choices: Option<Spanned<String>>,
    #[serde(default)]
    min: Option<Spanned<i64>>,
    #[serde(default)]
    max: Option<Spanned<i64>>,
    #[serde(default)]
    score: Option<Spanned<RawScore>>,
    #[serde(default)]
    explanation: Option<Spanned<BTreeMap<String, String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScore {
    dimension: Spanned<String>,
    #[serde(default = "one")]
    points: u32,
    key: Spanned<toml::Value>,
}

fn one() -> u32 {
    1
}

/// Collects diagnostics against one source text.
struct Reporter<'a> {
    file: &'a str,
    source: &'a str,
    diagnostics: Vec<Diagnostic>,
}

impl Reporter<'_> {
    fn at(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = line_column(self.source, span.start);
        self.diagnostics.push(Diagnostic {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        });
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = source[line_start..offset].chars().count() + 1;
    (line, column)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Questionnaire {
    /// Parses and validates a questionnaire file. `file` names the file in diagnostics.
    /// Never panics on malformed input; reports every problem it can find.
    pub fn from_toml(file: &str, source: &str) -> Result<Questionnaire, Diagnostics> {
        let mut reporter = Reporter {
            file,
            source,
            diagnostics: Vec::new(),
        };
        let raw: RawQuestionnaire = match toml::from_str(source) {
            Ok(raw) => raw,
            Err(error) => {
                let span = error.span().unwrap_or(0..0);
                reporter.at(span, error.message().to_string());
                return Err(Diagnostics(reporter.diagnostics));
            }
        };
        let questionnaire = validate(raw, &mut reporter);
        if reporter.diagnostics.is_empty() {
            Ok(questionnaire)
        } else {
            let mut diagnostics = reporter.diagnostics;
            diagnostics.sort_by_key(|d| (d.line, d.column));
            Err(Diagnostics(diagnostics))
        }
    }
}

fn validate(raw: RawQuestionnaire, r: &mut Reporter<'_>) -> Questionnaire {
    if !is_identifier(raw.id.get_ref()) {
        r.at(
            raw.id.span(),
            "questionnaire id must be lowercase letters, digits and '_', starting with a letter",
        );
    }
    if raw.version.get_ref().trim().is_empty() {
        r.at(raw.version.span(), "version must not be empty");
    }
    let default_language = raw
        .default_language
        .as_ref()
        .map(|l| l.get_ref().clone())
        .unwrap_or_else(|| DEFAULT_LANGUAGE.to_string());
    let languages = raw.languages.get_ref().clone();
    if !languages.contains(&default_language) {
        let span = raw
            .default_language
            .as_ref()
            .map_or(raw.languages.span(), |l| l.span());
        r.at(
            span,
            format!("the default language '{default_language}' must be listed in languages"),
        );
    }
    let known_languages: BTreeSet<&str> = languages.iter().map(String::as_str).collect();
    let text = |r: &mut Reporter<'_>, what: &str, value: &Spanned<BTreeMap<String, String>>| {
        for lang in value.get_ref().keys() {
            if !known_languages.contains(lang.as_str()) {
                r.at(
                    value.span(),
                    format!("{what} has text in '{lang}', which is not in languages"),
                );
            }
        }
        let text = Text(value.get_ref().clone());
        if !text.has(&default_language) {
            r.at(
                value.span(),
                format!("{what} has no text in the default language '{default_language}'"),
            );
        }
        text
    };

    let title = text(r, "title", &raw.title);

    let threshold = match &raw.literacy_threshold_percent {
        Some(t) if *t.get_ref() == 0 || *t.get_ref() > 100 => {
            r.at(
                t.span(),
                "literacy_threshold_percent must be between 1 and 100",
            );
            80
        }
        Some(t) => *t.get_ref(),
        None => 80,
    };

    let mut dimensions = Vec::new();
    for dimension in &raw.dimensions {
        let d = dimension.get_ref();
        if !is_identifier(d.id.get_ref()) {
            r.at(
                d.id.span(),
                "dimension id must be lowercase letters, digits and '_'",
            );
        }
        if dimensions
            .iter()
            .any(|x: &Dimension| &x.id == d.id.get_ref())
        {
            r.at(
                d.id.span(),
                format!("dimension '{}' is defined twice", d.id.get_ref()),
            );
            continue;
        }
        let label = text(
            r,
            &format!("dimension '{}' label", d.id.get_ref()),
            &d.label,
        );
        dimensions.push(Dimension {
            id: d.id.get_ref().clone(),
            label,
        });
    }

    let mut choice_lists: BTreeMap<&str, Vec<Choice>> = BTreeMap::new();
    for (list_id, list) in &raw.choices {
        let mut choices: Vec<Choice> = Vec::new();
        if list.get_ref().is_empty() {
            r.at(list.span(), format!("choice list '{list_id}' is empty"));
        }
        for choice in list.get_ref() {
            let c = choice.get_ref();
            if c.key.get_ref().is_empty() {
                r.at(c.key.span(), "a choice key must not be empty");
            }
            if choices.iter().any(|x| &x.key == c.key.get_ref()) {
                r.at(
                    c.key.span(),
                    format!(
                        "choice '{}' appears twice in list '{list_id}'",
                        c.key.get_ref()
                    ),
                );
                continue;
            }
            let label = text(r, &format!("choice '{}' label", c.key.get_ref()), &c.label);
            choices.push(Choice {
                key: c.key.get_ref().clone(),
                label,
            });
        }
        choice_lists.insert(list_id, choices);
    }

    if raw.items.get_ref().is_empty() {
        r.at(raw.items.span(), "a questionnaire needs at least one item");
    }
    let mut items: Vec<Item> = Vec::new();
    let mut used_dimensions = BTreeSet::new();
    for spanned_item in raw.items.get_ref() {
        let raw_item = spanned_item.get_ref();
        let id = raw_item.id.get_ref();
        if !is_identifier(id) {
            r.at(
                raw_item.id.span(),
                format!("item id '{id}' must be lowercase letters, digits and '_', starting with a letter"),
            );
        }
        if items.iter().any(|x| &x.id == id) {
            r.at(raw_item.id.span(), format!("item '{id}' is defined twice"));
        }
        let label = text(r, &format!("item '{id}' label"), &raw_item.label);
        let hint = raw_item
            .hint
            .as_ref()
            .map(|h| text(r, &format!("item '{id}' hint"), h));
        let explanation = raw_item
            .explanation
            .as_ref()
            .map(|e| text(r, &format!("item '{id}' explanation"), e));

        let choices = match &raw_item.choices {
            Some(list) => match choice_lists.get(list.get_ref().as_str()) {
                Some(choices) => Some(choices.clone()),
                None => {
                    r.at(
                        list.span(),
                        format!("choice list '{}' is not defined", list.get_ref()),
                    );
                    Some(Vec::new())
                }
            },
            None => None,
        };
        let kind_name = raw_item.kind.get_ref().as_str();
        let kind = match kind_name {
            "single_choice" | "multiple_choice" => {
                let choices = choices.unwrap_or_else(|| {
                    r.at(
                        spanned_item.span(),
                        format!("item '{id}' is {kind_name} but names no choice list (choices = \"...\")"),
                    );
                    Vec::new()
                });
                if kind_name == "single_choice" {
                    ItemKind::SingleChoice { choices }
                } else {
                    ItemKind::MultipleChoice { choices }
                }
            }
            "true_false" | "integer" => {
                if let Some(list) = &raw_item.choices {
                    r.at(
                        list.span(),
                        format!("item '{id}' is {kind_name} and takes no choice list"),
                    );
                }
                if kind_name == "true_false" {
                    ItemKind::TrueFalse
                } else {
                    let min = raw_item.min.as_ref().map(|m| *m.get_ref());
                    let max = raw_item.max.as_ref().map(|m| *m.get_ref());
                    if let (Some(lo), Some(hi), Some(span)) =
                        (min, max, raw_item.min.as_ref().map(|m| m.span()))
                    {
                        if lo > hi {
                            r.at(
                                span,
                                format!("item '{id}': min {lo} is greater than max {hi}"),
                            );
                        }
                    }
                    ItemKind::Integer { min, max }
                }
            }
            other => {
                r.at(
                    raw_item.kind.span(),
                    format!("unknown item kind '{other}'; expected single_choice, multiple_choice, true_false or integer"),
                );
                ItemKind::TrueFalse
            }
        };
        if !matches!(kind, ItemKind::Integer { .. }) {
            for bound in [&raw_item.min, &raw_item.max].into_iter().flatten() {
                r.at(
                    bound.span(),
                    format!("item '{id}': min and max apply to integer items only"),
                );
            }
        }

        let scoring = raw_item
            .score
            .as_ref()
            .and_then(|score| scoring_rule(r, id, &kind, score, &dimensions));
        if let Some(rule) = &scoring {
            used_dimensions.insert(rule.dimension.clone());
        }
        items.push(Item {
            id: id.clone(),
            label,
            hint,
            required: raw_item.required,
            kind,
            scoring,
            explanation,
        });
    }

    for dimension in &raw.dimensions {
        let d = dimension.get_ref();
        if !used_dimensions.contains(d.id.get_ref()) {
            r.at(
                d.id.span(),
                format!("dimension '{}' has no scored items", d.id.get_ref()),
            );
        }
    }

    Questionnaire {
        id: raw.id.into_inner(),
        version: raw.version.into_inner(),
        default_language,
        languages,
        title,
        dimensions,
        literacy_threshold_percent: threshold,
        items,
    }
}

fn scoring_rule(
    r: &mut Reporter<'_>,
    id: &str,
    kind: &ItemKind,
    score: &Spanned<RawScore>,
    dimensions: &[Dimension],
) -> Option<ScoringRule> {
    let s = score.get_ref();
    let mut ok = true;
    if !dimensions.iter().any(|d| &d.id == s.dimension.get_ref()) {
        r.at(
            s.dimension.span(),
            format!(
                "item '{id}' is scored in dimension '{}', which is not defined",
                s.dimension.get_ref()
            ),
        );
        ok = false;
    }
    if s.points == 0 {
        r.at(
            score.span(),
            format!("item '{id}' is scored but worth 0 points"),
        );
        ok = false;
    }
    let key = match (kind, s.key.get_ref()) {
        (ItemKind::TrueFalse, toml::Value::Boolean(b)) => Some(AnswerValue::Bool(*b)),
        (ItemKind::SingleChoice { .. }, toml::Value::String(k)) => {
            Some(AnswerValue::Choice(k.clone()))
        }
        (ItemKind::MultipleChoice { .. }, toml::Value::Array(values)) => values
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(AnswerValue::Choices),
        (ItemKind::Integer { .. }, toml::Value::Integer(n)) => Some(AnswerValue::Integer(*n)),
        _ => None,
    };
    let Some(key) = key else {
        let expected = match kind {
            ItemKind::TrueFalse => "true or false",
            ItemKind::SingleChoice { .. } => "one choice key, as a string",
            ItemKind::MultipleChoice { .. } => "a list of choice keys",
            ItemKind::Integer { .. } => "a whole number",
        };
        r.at(
            s.key.span(),
            format!("item '{id}': the scoring key must be {expected}"),
        );
        return None;
    };
    let probe = Item {
        id: id.to_string(),
        label: Text::default(),
        hint: None,
        required: false,
        kind: kind.clone(),
        scoring: None,
        explanation: None,
    };
    if let Err(error) = probe.check(&key) {
        r.at(
            s.key.span(),
            format!("item '{id}': the scoring key is not a valid answer: {error}"),
        );
        ok = false;
    }
    ok.then(|| ScoringRule {
        dimension: s.dimension.get_ref().clone(),
        points: s.points,
        key: key.normalized(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters() {
        let src = "a = 1\n标题 = \"x\"\n";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 6), (2, 1));
        // "标题 " is 3 characters but 7 bytes
        assert_eq!(line_column(src, 6 + 7), (2, 4));
        assert_eq!(line_column(src, 10_000), (3, 1));
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("age"));
        assert!(is_identifier("q_12"));
        assert!(!is_identifier("12q"));
        assert!(!is_identifier("Age"));
        assert!(!is_identifier(""));
    }
}
