//! Loading a questionnaire file in two phases: parse the TOML into raw types that keep source
//! positions, then validate into a [`Questionnaire`], collecting every problem rather than the first.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::expr::{BinaryOp, Expr, Function};
use crate::{
    AnswerValue, Background, BackgroundRole, Choice, Constraint, Dimension, Eligibility,
    Expression, Item, ItemKind, Module, Questionnaire, ScoringRule, Section, Text,
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

type RawText = Spanned<BTreeMap<String, String>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestionnaire {
    id: Spanned<String>,
    version: Spanned<String>,
    #[serde(default)]
    default_language: Option<Spanned<String>>,
    languages: Spanned<Vec<String>>,
    title: RawText,
    #[serde(default)]
    description: Option<RawText>,
    #[serde(default)]
    literacy_threshold_percent: Option<Spanned<u32>>,
    #[serde(default)]
    eligibility: Option<Spanned<RawEligibility>>,
    #[serde(default)]
    dimensions: Vec<Spanned<RawDimension>>,
    #[serde(default)]
    choices: BTreeMap<String, Spanned<Vec<Spanned<RawChoice>>>>,
    #[serde(default)]
    sections: Vec<Spanned<RawSection>>,
    items: Spanned<Vec<Spanned<RawItem>>>,
    #[serde(default)]
    background: Option<RawBackground>,
}

/// `[background]`: the item id of each role, and the fingerprint's item ids.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackground {
    population: Option<Spanned<String>>,
    age: Option<Spanned<String>>,
    sex: Option<Spanned<String>>,
    education: Option<Spanned<String>>,
    industry: Option<Spanned<String>>,
    employer_size: Option<Spanned<String>>,
    ownership: Option<Spanned<String>>,
    fingerprint: Option<Vec<Spanned<String>>>,
}

impl RawBackground {
    fn roles(&self) -> [(BackgroundRole, &Option<Spanned<String>>); 7] {
        [
            (BackgroundRole::Population, &self.population),
            (BackgroundRole::Age, &self.age),
            (BackgroundRole::Sex, &self.sex),
            (BackgroundRole::Education, &self.education),
            (BackgroundRole::Industry, &self.industry),
            (BackgroundRole::EmployerSize, &self.employer_size),
            (BackgroundRole::Ownership, &self.ownership),
        ]
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEligibility {
    condition: Spanned<String>,
    message: RawText,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDimension {
    id: Spanned<String>,
    label: RawText,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    id: Spanned<String>,
    title: RawText,
    #[serde(default)]
    relevant: Option<Spanned<String>>,
    #[serde(default)]
    scored_separately: Option<Spanned<bool>>,
    #[serde(default)]
    population: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChoice {
    key: Spanned<String>,
    label: RawText,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: Spanned<String>,
    #[serde(default)]
    section: Option<Spanned<String>>,
    kind: Spanned<String>,
    label: RawText,
    #[serde(default)]
    hint: Option<RawText>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    choices: Option<Spanned<String>>,
    #[serde(default)]
    search: Option<Spanned<bool>>,
    #[serde(default)]
    min: Option<Spanned<toml::Value>>,
    #[serde(default)]
    max: Option<Spanned<toml::Value>>,
    #[serde(default)]
    max_length: Option<Spanned<u32>>,
    #[serde(default)]
    dont_know: Option<Spanned<bool>>,
    #[serde(default)]
    relevant: Option<Spanned<String>>,
    #[serde(default)]
    constraint: Option<Spanned<String>>,
    #[serde(default)]
    constraint_message: Option<RawText>,
    #[serde(default)]
    choice_filter: Option<Spanned<String>>,
    #[serde(default)]
    image: Option<Spanned<String>>,
    #[serde(default)]
    audio: Option<Spanned<String>>,
    #[serde(default)]
    score: Option<Spanned<RawScore>>,
    #[serde(default)]
    explanation: Option<RawText>,
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
    let mut offset = offset.min(source.len());
    // an offset computed inside a string with escapes may fall within a character
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
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

type SpannedExpr = (Expression, Range<usize>);

/// Which expressions may use what.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExprRole {
    Relevant,
    Constraint,
    ChoiceFilter,
    SectionRelevant,
    Eligibility,
}

impl ExprRole {
    fn name(self) -> &'static str {
        match self {
            ExprRole::Relevant => "relevant",
            ExprRole::Constraint => "constraint",
            ExprRole::ChoiceFilter => "choice_filter",
            ExprRole::SectionRelevant => "relevant",
            ExprRole::Eligibility => "condition",
        }
    }
}

/// An expression whose references are checked once every item is known.
struct PendingExpr {
    role: ExprRole,
    owner: String,
    /// Items before this position may be referred to (relevance, filters); `None`: any item.
    before: Option<usize>,
    expression: Expression,
    span: Range<usize>,
    /// Attributes a choice filter may use.
    attributes: BTreeSet<String>,
}

impl Reporter<'_> {
    /// Parses an expression written in a TOML string; an error points into the string.
    fn expression(&mut self, owner: &str, value: &Spanned<String>) -> Option<Expression> {
        match Expression::parse(value.get_ref()) {
            Ok(e) => Some(e),
            Err(error) => {
                // Point into the string when it is written as is (one quote, no escapes);
                // otherwise at the string itself.
                let start = value.span().start + 1;
                let verbatim = self
                    .source
                    .get(start..start + value.get_ref().len())
                    .is_some_and(|raw| raw == value.get_ref().as_str());
                let at = if verbatim {
                    start + error.offset
                } else {
                    value.span().start
                };
                self.at(at..at, format!("{owner}: {}", error.kind.message(crate::Lang::En)));
                None
            }
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
    let text = |r: &mut Reporter<'_>, what: &str, value: &RawText| {
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
    let description = raw.description.as_ref().map(|d| text(r, "description", d));

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

    let mut pending: Vec<PendingExpr> = Vec::new();

    let eligibility = raw.eligibility.as_ref().and_then(|e| {
        let e = e.get_ref();
        let message = text(r, "eligibility message", &e.message);
        let condition = r.expression("eligibility condition", &e.condition)?;
        pending.push(PendingExpr {
            role: ExprRole::Eligibility,
            owner: "the eligibility".into(),
            before: None,
            expression: condition.clone(),
            span: e.condition.span(),
            attributes: BTreeSet::new(),
        });
        Some(Eligibility { condition, message })
    });

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
            if c.key.get_ref().trim().is_empty() || c.key.get_ref().contains(char::is_whitespace) {
                r.at(
                    c.key.span(),
                    "a choice key must not be empty or contain spaces",
                );
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
                attributes: c.attributes.clone(),
            });
        }
        choice_lists.insert(list_id, choices);
    }

    let mut sections: Vec<Section> = Vec::new();
    // each section's relevant expression with its span, checked once the items are known
    let mut section_exprs: Vec<(String, Option<SpannedExpr>)> = Vec::new();
    for spanned in &raw.sections {
        let s = spanned.get_ref();
        let id = s.id.get_ref();
        if !is_identifier(id) {
            r.at(
                s.id.span(),
                "section id must be lowercase letters, digits and '_'",
            );
        }
        if sections.iter().any(|x| &x.id == id) {
            r.at(s.id.span(), format!("section '{id}' is defined twice"));
            continue;
        }
        let title = text(r, &format!("section '{id}' title"), &s.title);
        let relevant = s.relevant.as_ref().and_then(|e| {
            r.expression(&format!("section '{id}' relevant"), e)
                .map(|x| (x, e.span()))
        });
        let separately = s.scored_separately.as_ref().is_some_and(|b| *b.get_ref());
        let module = match (&s.population, separately) {
            (Some(p), true) => Some(Module {
                population: p.get_ref().clone(),
            }),
            (None, true) => {
                r.at(
                    spanned.span(),
                    format!("section '{id}' is scored separately but names no population"),
                );
                None
            }
            (Some(p), false) => {
                r.at(
                    p.span(),
                    format!(
                        "section '{id}' names a population but is not scored_separately = true"
                    ),
                );
                None
            }
            (None, false) => None,
        };
        section_exprs.push((id.clone(), relevant.clone()));
        sections.push(Section {
            id: id.clone(),
            title,
            relevant: relevant.map(|(e, _)| e),
            module,
        });
    }

    if raw.items.get_ref().is_empty() {
        r.at(raw.items.span(), "a questionnaire needs at least one item");
    }
    let mut items: Vec<Item> = Vec::new();
    let mut used_dimensions = BTreeSet::new();
    let mut section_first_item: BTreeMap<String, usize> = BTreeMap::new();
    for spanned_item in raw.items.get_ref() {
        let raw_item = spanned_item.get_ref();
        let id = raw_item.id.get_ref();
        let position = items.len();
        if !is_identifier(id) {
            r.at(
                raw_item.id.span(),
                format!("item id '{id}' must be lowercase letters, digits and '_', starting with a letter"),
            );
        }
        if items.iter().any(|x| &x.id == id) {
            r.at(raw_item.id.span(), format!("item '{id}' is defined twice"));
        }
        let section = match &raw_item.section {
            Some(s) => {
                if !sections.iter().any(|x| &x.id == s.get_ref()) {
                    r.at(
                        s.span(),
                        format!("section '{}' is not defined", s.get_ref()),
                    );
                }
                section_first_item
                    .entry(s.get_ref().clone())
                    .or_insert(position);
                Some(s.get_ref().clone())
            }
            None => {
                if !sections.is_empty() {
                    r.at(
                        raw_item.id.span(),
                        format!("item '{id}' has no section (section = \"...\"), but the questionnaire has sections"),
                    );
                }
                None
            }
        };
        let label = text(r, &format!("item '{id}' label"), &raw_item.label);
        let hint = raw_item
            .hint
            .as_ref()
            .map(|h| text(r, &format!("item '{id}' hint"), h));
        let explanation = raw_item
            .explanation
            .as_ref()
            .map(|e| text(r, &format!("item '{id}' explanation"), e));

        let kind_name = raw_item.kind.get_ref().as_str();
        let takes_choices = matches!(kind_name, "single_choice" | "multiple_choice" | "likert");
        let choices = match (&raw_item.choices, takes_choices) {
            (Some(list), true) => match choice_lists.get(list.get_ref().as_str()) {
                Some(choices) => choices.clone(),
                None => {
                    r.at(
                        list.span(),
                        format!("choice list '{}' is not defined", list.get_ref()),
                    );
                    Vec::new()
                }
            },
            (None, true) => {
                r.at(
                    spanned_item.span(),
                    format!(
                        "item '{id}' is {kind_name} but names no choice list (choices = \"...\")"
                    ),
                );
                Vec::new()
            }
            (Some(list), false) => {
                r.at(
                    list.span(),
                    format!("item '{id}' is {kind_name} and takes no choice list"),
                );
                Vec::new()
            }
            (None, false) => Vec::new(),
        };
        let bound = |r: &mut Reporter<'_>,
                     v: &Option<Spanned<toml::Value>>|
         -> Option<BoundValue> {
            let v = v.as_ref()?;
            let parsed = match (kind_name, v.get_ref()) {
                ("integer", toml::Value::Integer(n)) => Some(BoundValue::Int(*n)),
                ("decimal", toml::Value::Integer(n)) => Some(BoundValue::Float(*n as f64)),
                ("decimal", toml::Value::Float(x)) => Some(BoundValue::Float(*x)),
                ("date", toml::Value::String(d)) if crate::answer::is_date(d) => {
                    Some(BoundValue::Date(d.clone()))
                }
                ("integer" | "decimal" | "date", _) => {
                    let expected = match kind_name {
                        "integer" => "a whole number",
                        "decimal" => "a number",
                        _ => "a date string like \"2026-03-01\"",
                    };
                    r.at(
                        v.span(),
                        format!("item '{id}': min and max must be {expected}"),
                    );
                    None
                }
                _ => {
                    r.at(
                        v.span(),
                        format!("item '{id}': min and max apply to integer, decimal and date items only"),
                    );
                    None
                }
            };
            parsed
        };
        let min = bound(r, &raw_item.min);
        let max = bound(r, &raw_item.max);
        if let (Some(lo), Some(hi), Some(span)) =
            (&min, &max, raw_item.min.as_ref().map(|m| m.span()))
        {
            if lo.greater_than(hi) {
                r.at(span, format!("item '{id}': min is greater than max"));
            }
        }
        let search = raw_item.search.as_ref().is_some_and(|b| *b.get_ref());
        if let Some(s) = &raw_item.search {
            if kind_name != "single_choice" {
                r.at(
                    s.span(),
                    format!("item '{id}': search applies to single_choice items only"),
                );
            }
        }
        if let Some(m) = &raw_item.max_length {
            if kind_name != "text" {
                r.at(
                    m.span(),
                    format!("item '{id}': max_length applies to text items only"),
                );
            }
        }
        let kind = match kind_name {
            "single_choice" => ItemKind::SingleChoice { choices, search },
            "multiple_choice" => ItemKind::MultipleChoice { choices },
            "likert" => ItemKind::Likert { choices },
            "true_false" => ItemKind::TrueFalse,
            "integer" => ItemKind::Integer {
                min: min.and_then(BoundValue::int),
                max: max.and_then(BoundValue::int),
            },
            "decimal" => ItemKind::Decimal {
                min: min.and_then(BoundValue::float),
                max: max.and_then(BoundValue::float),
            },
            "date" => ItemKind::Date {
                min: min.and_then(BoundValue::date),
                max: max.and_then(BoundValue::date),
            },
            "text" => ItemKind::Text {
                max_length: raw_item.max_length.as_ref().map(|m| *m.get_ref()),
            },
            "note" => ItemKind::Note,
            other => {
                r.at(
                    raw_item.kind.span(),
                    format!(
                        "unknown item kind '{other}'; expected one of {}",
                        ItemKind::NAMES.join(", ")
                    ),
                );
                ItemKind::Note
            }
        };
        let dont_know = raw_item.dont_know.as_ref().is_some_and(|b| *b.get_ref());
        if let (Some(d), ItemKind::Note) = (&raw_item.dont_know, &kind) {
            r.at(
                d.span(),
                format!("item '{id}' is a note and takes no answer, so no \"don't know\""),
            );
        }

        let mut expression =
            |r: &mut Reporter<'_>, role: ExprRole, value: &Option<Spanned<String>>| {
                let value = value.as_ref()?;
                let e = r.expression(&format!("item '{id}' {}", role.name()), value)?;
                let attributes = if role == ExprRole::ChoiceFilter {
                    kind.choices()
                        .iter()
                        .flat_map(|c| c.attributes.keys().cloned())
                        .collect()
                } else {
                    BTreeSet::new()
                };
                pending.push(PendingExpr {
                    role,
                    owner: format!("item '{id}'"),
                    before: (role != ExprRole::Constraint).then_some(position),
                    expression: e.clone(),
                    span: value.span(),
                    attributes,
                });
                Some(e)
            };
        let relevant = expression(r, ExprRole::Relevant, &raw_item.relevant);
        let choice_filter = expression(r, ExprRole::ChoiceFilter, &raw_item.choice_filter);
        if let Some(f) = &raw_item.choice_filter {
            if !takes_choices {
                r.at(
                    f.span(),
                    format!("item '{id}': choice_filter applies to items with choices only"),
                );
            }
        }
        let constraint =
            expression(r, ExprRole::Constraint, &raw_item.constraint).map(|e| Constraint {
                expression: e,
                message: raw_item
                    .constraint_message
                    .as_ref()
                    .map(|m| text(r, &format!("item '{id}' constraint_message"), m)),
            });
        if let (Some(m), None) = (&raw_item.constraint_message, &raw_item.constraint) {
            r.at(
                m.span(),
                format!("item '{id}' has a constraint_message but no constraint"),
            );
        }
        if matches!(kind, ItemKind::Note) {
            if let Some(c) = &raw_item.constraint {
                r.at(
                    c.span(),
                    format!("item '{id}' is a note and takes no answer, so no constraint"),
                );
            }
        }

        let scoring = raw_item
            .score
            .as_ref()
            .and_then(|score| scoring_rule(r, id, &kind, dont_know, score, &dimensions));
        if let Some(rule) = &scoring {
            used_dimensions.insert(rule.dimension.clone());
            if explanation.is_none() {
                r.at(
                    raw_item.id.span(),
                    format!("scored item '{id}' has no explanation for the respondent"),
                );
            }
        }
        items.push(Item {
            id: id.clone(),
            section,
            label,
            hint,
            required: raw_item.required,
            kind,
            dont_know,
            relevant,
            constraint,
            choice_filter,
            image: raw_item.image.as_ref().map(|s| s.get_ref().clone()),
            audio: raw_item.audio.as_ref().map(|s| s.get_ref().clone()),
            scoring,
            explanation,
        });
    }

    for (section_id, relevant) in section_exprs {
        if let Some((expression, span)) = relevant {
            pending.push(PendingExpr {
                role: ExprRole::SectionRelevant,
                owner: format!("section '{section_id}'"),
                before: Some(
                    section_first_item
                        .get(&section_id)
                        .copied()
                        .unwrap_or(items.len()),
                ),
                expression,
                span,
                attributes: BTreeSet::new(),
            });
        }
    }
    for p in &pending {
        check_references(r, p, &items);
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

    let background = raw
        .background
        .as_ref()
        .map_or_else(Background::default, |b| background(r, b, &items));

    Questionnaire {
        id: raw.id.into_inner(),
        version: raw.version.into_inner(),
        default_language,
        languages,
        title,
        description,
        dimensions,
        literacy_threshold_percent: threshold,
        eligibility,
        sections,
        items,
        background,
        index: Default::default(),
    }
}

/// Checks `[background]`: every role names an item of the right kind, the fingerprint lists
/// items that take answers, each once. A role not named keeps its default item.
fn background(r: &mut Reporter<'_>, raw: &RawBackground, items: &[Item]) -> Background {
    let mut background = Background::default();
    let kind_of = |id: &str| items.iter().find(|i| i.id == id).map(|i| &i.kind);
    for (role, value) in raw.roles() {
        let Some(value) = value else { continue };
        let (key, id) = (role.name(), value.get_ref());
        match kind_of(id) {
            None => r.at(
                value.span(),
                format!("background {key} is '{id}', which is not an item"),
            ),
            Some(kind) if kind.name() != role.kind() => r.at(
                value.span(),
                format!(
                    "background {key} is '{id}', which is {} and must be {}",
                    kind.name(),
                    role.kind()
                ),
            ),
            Some(_) => {
                background.roles.insert(role, id.clone());
            }
        }
    }
    if let Some(ids) = &raw.fingerprint {
        background.fingerprint.clear();
        for id in ids {
            let (span, id) = (id.span(), id.get_ref());
            match kind_of(id) {
                None => r.at(
                    span,
                    format!("background fingerprint lists '{id}', which is not an item"),
                ),
                Some(ItemKind::Note) => r.at(
                    span,
                    format!("background fingerprint lists '{id}', a note without answers"),
                ),
                Some(_) if background.fingerprint.contains(id) => {
                    r.at(span, format!("background fingerprint lists '{id}' twice"))
                }
                Some(_) => background.fingerprint.push(id.clone()),
            }
        }
    }
    background
}

enum BoundValue {
    Int(i64),
    Float(f64),
    Date(String),
}

impl BoundValue {
    fn int(self) -> Option<i64> {
        match self {
            BoundValue::Int(n) => Some(n),
            _ => None,
        }
    }
    fn float(self) -> Option<f64> {
        match self {
            BoundValue::Float(x) => Some(x),
            _ => None,
        }
    }
    fn date(self) -> Option<String> {
        match self {
            BoundValue::Date(d) => Some(d),
            _ => None,
        }
    }
    fn greater_than(&self, other: &BoundValue) -> bool {
        match (self, other) {
            (BoundValue::Int(a), BoundValue::Int(b)) => a > b,
            (BoundValue::Float(a), BoundValue::Float(b)) => a > b,
            (BoundValue::Date(a), BoundValue::Date(b)) => a > b,
            _ => false,
        }
    }
}

/// Unknown references, references to later items (which would allow cycles), misuse of `.` and
/// bare names, and string literals compared with a choice item that are not among its keys.
fn check_references(r: &mut Reporter<'_>, p: &PendingExpr, items: &[Item]) {
    let at = p.span.clone();
    let what = format!("{} {}", p.owner, p.role.name());
    let position = |name: &str| items.iter().position(|i| i.id == name);
    for name in p.expression.references() {
        match (position(name), p.before) {
            (None, _) => r.at(at.clone(), format!("{what} refers to ${{{name}}}, which is not an item")),
            (Some(i), Some(before)) if i == before && p.role != ExprRole::SectionRelevant => r.at(
                at.clone(),
                format!("{what} refers to the item itself (${{{name}}}): a cycle"),
            ),
            (Some(i), Some(before)) if i >= before => r.at(
                at.clone(),
                format!("{what} refers to ${{{name}}}, which comes later: an item may only depend on earlier answers (this also rules out cycles)"),
            ),
            _ => {}
        }
    }
    if p.expression.uses_current() && p.role != ExprRole::Constraint {
        r.at(
            at.clone(),
            format!(
                "{what} uses '.', which means an item's own answer and belongs in a constraint"
            ),
        );
    }
    for name in p.expression.attributes() {
        if p.role != ExprRole::ChoiceFilter {
            r.at(
                at.clone(),
                format!("{what} uses the bare name '{name}'; refer to an item as ${{{name}}}"),
            );
        } else if !p.attributes.contains(name) {
            r.at(
                at.clone(),
                format!("{what} uses '{name}', which no choice of this item has as an attribute"),
            );
        }
    }
    // `${x} = 'key'`, `selected(${x}, 'key')`: the key must be one of x's choices
    let mut literal_checks: Vec<(String, String)> = Vec::new();
    collect_key_comparisons(p.expression.ast(), &mut literal_checks);
    for (name, key) in literal_checks {
        let Some(item) = items.iter().find(|i| i.id == name) else {
            continue;
        };
        let choices = item.kind.choices();
        if !choices.is_empty() && !choices.iter().any(|c| c.key == key) {
            r.at(
                at.clone(),
                format!(
                    "{what} compares ${{{name}}} with '{key}', which is not one of its choices"
                ),
            );
        }
    }
}

fn collect_key_comparisons(expr: &Expr, out: &mut Vec<(String, String)>) {
    match expr {
        Expr::Binary(BinaryOp::Eq | BinaryOp::Ne, a, b) => {
            if let (Expr::Ref(name), Expr::Text(key)) | (Expr::Text(key), Expr::Ref(name)) =
                (a.as_ref(), b.as_ref())
            {
                out.push((name.clone(), key.clone()));
            }
            collect_key_comparisons(a, out);
            collect_key_comparisons(b, out);
        }
        Expr::Binary(_, a, b) => {
            collect_key_comparisons(a, out);
            collect_key_comparisons(b, out);
        }
        Expr::Call(Function::Selected, args) => {
            if let (Some(Expr::Ref(name)), Some(Expr::Text(key))) = (args.first(), args.get(1)) {
                out.push((name.clone(), key.clone()));
            }
            args.iter().for_each(|a| collect_key_comparisons(a, out));
        }
        Expr::Call(_, args) => args.iter().for_each(|a| collect_key_comparisons(a, out)),
        Expr::Negate(inner) => collect_key_comparisons(inner, out),
        _ => {}
    }
}

fn scoring_rule(
    r: &mut Reporter<'_>,
    id: &str,
    kind: &ItemKind,
    dont_know: bool,
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
            other => {
                r.at(
                    score.span(),
                    format!("item '{id}' is {} and cannot be scored", other.name()),
                );
                return None;
            }
        };
        r.at(
            s.key.span(),
            format!("item '{id}': the scoring key must be {expected}"),
        );
        return None;
    };
    let probe = Item {
        id: id.to_string(),
        section: None,
        label: Text::default(),
        hint: None,
        required: false,
        kind: kind.clone(),
        dont_know,
        relevant: None,
        constraint: None,
        choice_filter: None,
        image: None,
        audio: None,
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
        // inside a multi-byte character: the character's own position
        assert_eq!(line_column(src, 6 + 1), (2, 1));
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
