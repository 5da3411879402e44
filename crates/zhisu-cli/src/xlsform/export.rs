//! A loaded questionnaire as an XLSForm workbook: `survey`, `choices`, `settings` and
//! `zhisu_dimensions` sheets.

use std::collections::BTreeSet;
use std::path::Path;

use rust_xlsxwriter::{Workbook, XlsxError};
use zhisu_core::{
    AnswerValue, BackgroundRole, Choice, Item, ItemKind, Questionnaire, Text, DEFAULT_FINGERPRINT,
};

use super::{language_name, DIMENSIONS_SHEET, TRUE_FALSE_LIST};

/// One cell to write.
#[derive(Clone)]
enum Cell {
    Text(String),
    Number(f64),
}

/// A sheet: its header row, and rows of (column name, cell).
struct Sheet {
    name: &'static str,
    header: Vec<String>,
    rows: Vec<Vec<(String, Cell)>>,
}

impl Sheet {
    fn new(name: &'static str, header: Vec<String>) -> Self {
        Sheet {
            name,
            header,
            rows: Vec::new(),
        }
    }
}

/// A row being built.
#[derive(Default)]
struct Row(Vec<(String, Cell)>);

impl Row {
    fn text(&mut self, column: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let value = value.into();
        if !value.is_empty() {
            self.0.push((column.into(), Cell::Text(value)));
        }
        self
    }

    fn number(&mut self, column: impl Into<String>, value: f64) -> &mut Self {
        self.0.push((column.into(), Cell::Number(value)));
        self
    }

    /// `column::Chinese (zh-CN)` for each language the text has.
    fn texts(&mut self, column: &str, text: Option<&Text>) -> &mut Self {
        if let Some(text) = text {
            for (lang, value) in &text.0 {
                self.text(format!("{column}::{}", language_name(lang)), value.clone());
            }
        }
        self
    }
}

fn text_columns(column: &str, languages: &[String]) -> Vec<String> {
    languages
        .iter()
        .map(|l| format!("{column}::{}", language_name(l)))
        .collect()
}

/// The choice list an item's choices are written under: lists with the same choices are
/// written once, under the first item's id.
fn list_names(q: &Questionnaire) -> Vec<Option<String>> {
    let mut lists: Vec<(&[Choice], String)> = Vec::new();
    q.items
        .iter()
        .map(|item| {
            let choices = item.kind.choices();
            if choices.is_empty() && !matches!(item.kind, ItemKind::TrueFalse) {
                return None;
            }
            if matches!(item.kind, ItemKind::TrueFalse) {
                return Some(TRUE_FALSE_LIST.to_string());
            }
            if let Some((_, name)) = lists.iter().find(|(c, _)| *c == choices) {
                return Some(name.clone());
            }
            lists.push((choices, item.id.clone()));
            Some(item.id.clone())
        })
        .collect()
}

fn number_text(value: f64) -> String {
    format!("{value:?}")
}

fn key_text(key: &AnswerValue) -> String {
    match key {
        AnswerValue::Choice(k) | AnswerValue::Text(k) | AnswerValue::Date(k) => k.clone(),
        AnswerValue::Choices(keys) => keys.join(" "),
        AnswerValue::Bool(b) => b.to_string(),
        AnswerValue::Integer(n) => n.to_string(),
        AnswerValue::Decimal(x) => number_text(*x),
        AnswerValue::DontKnow => String::new(),
    }
}

fn survey_row(item: &Item, list: Option<&str>) -> Row {
    let mut row = Row::default();
    let (kind, zhisu_kind) = match &item.kind {
        ItemKind::SingleChoice { .. } => (format!("select_one {}", list.unwrap_or("")), ""),
        ItemKind::Likert { .. } => (format!("select_one {}", list.unwrap_or("")), "likert"),
        ItemKind::MultipleChoice { .. } => (format!("select_multiple {}", list.unwrap_or("")), ""),
        ItemKind::TrueFalse => (format!("select_one {TRUE_FALSE_LIST}"), ""),
        ItemKind::Integer { .. } => ("integer".into(), ""),
        ItemKind::Decimal { .. } => ("decimal".into(), ""),
        ItemKind::Text { .. } => ("text".into(), ""),
        ItemKind::Date { .. } => ("date".into(), ""),
        ItemKind::Note => ("note".into(), ""),
    };
    row.text("type", kind).text("name", item.id.clone());
    row.texts("label", Some(&item.label))
        .texts("hint", item.hint.as_ref());
    if item.required {
        row.text("required", "yes");
    }
    if let Some(e) = &item.relevant {
        row.text("relevant", e.source());
    }
    if let Some(c) = &item.constraint {
        row.text("constraint", c.expression.source())
            .texts("constraint_message", c.message.as_ref());
    }
    if let Some(e) = &item.choice_filter {
        row.text("choice_filter", e.source());
    }
    if matches!(item.kind, ItemKind::SingleChoice { search: true, .. }) {
        row.text("appearance", "autocomplete");
    }
    row.text("media::image", item.image.clone().unwrap_or_default())
        .text("media::audio", item.audio.clone().unwrap_or_default());
    row.texts("zhisu::image_alt", item.image_alt.as_ref());
    if item.dont_know {
        row.text("zhisu::dont_know", "yes");
    }
    match &item.kind {
        ItemKind::Integer { min, max } => {
            if let Some(min) = min {
                row.number("zhisu::min", *min as f64);
            }
            if let Some(max) = max {
                row.number("zhisu::max", *max as f64);
            }
        }
        ItemKind::Decimal { min, max } => {
            if let Some(min) = min {
                row.number("zhisu::min", *min);
            }
            if let Some(max) = max {
                row.number("zhisu::max", *max);
            }
        }
        ItemKind::Date { min, max } => {
            row.text("zhisu::min", min.clone().unwrap_or_default())
                .text("zhisu::max", max.clone().unwrap_or_default());
        }
        ItemKind::Text {
            max_length: Some(n),
        } => {
            row.number("zhisu::max_length", f64::from(*n));
        }
        _ => {}
    }
    row.text("zhisu::kind", zhisu_kind);
    if let Some(rule) = &item.scoring {
        row.text("zhisu::dimension", rule.dimension.clone())
            .number("zhisu::points", f64::from(rule.points))
            .text("zhisu::key", key_text(&rule.key));
    }
    row.texts("zhisu::explanation", item.explanation.as_ref());
    row
}

/// Writes `q` as an XLSForm workbook at `path`.
pub fn write(q: &Questionnaire, path: &Path) -> Result<(), XlsxError> {
    let langs = &q.languages;
    let mut header: Vec<String> = vec!["type".into(), "name".into()];
    header.extend(text_columns("label", langs));
    header.extend(text_columns("hint", langs));
    header.extend(
        [
            "required",
            "relevant",
            "constraint",
            "choice_filter",
            "appearance",
            "media::image",
            "media::audio",
        ]
        .map(String::from),
    );
    header.extend(text_columns("constraint_message", langs));
    header.extend(text_columns("zhisu::image_alt", langs));
    header.extend(
        [
            "zhisu::kind",
            "zhisu::dont_know",
            "zhisu::min",
            "zhisu::max",
            "zhisu::max_length",
            "zhisu::module",
            "zhisu::dimension",
            "zhisu::points",
            "zhisu::key",
        ]
        .map(String::from),
    );
    header.extend(text_columns("zhisu::explanation", langs));
    let mut survey = Sheet::new("survey", header);

    // choices: each list once, the reserved true/false list when some item is true/false
    let lists = list_names(q);
    let attributes: BTreeSet<&str> = q
        .items
        .iter()
        .flat_map(|i| i.kind.choices())
        .flat_map(|c| c.attributes.keys().map(String::as_str))
        .collect();
    let mut choices_header: Vec<String> = vec!["list_name".into(), "name".into()];
    choices_header.extend(text_columns("label", langs));
    choices_header.extend(attributes.iter().map(|a| a.to_string()));
    let mut choices = Sheet::new("choices", choices_header);
    let mut written: BTreeSet<&str> = BTreeSet::new();
    for (item, list) in q.items.iter().zip(&lists) {
        let Some(list) = list.as_deref() else {
            continue;
        };
        if !written.insert(list) {
            continue;
        }
        if list == TRUE_FALSE_LIST {
            for (key, zh, en) in [("true", "对", "True"), ("false", "错", "False")] {
                let mut row = Row::default();
                row.text("list_name", list).text("name", key);
                for lang in langs {
                    let label = if lang.starts_with("zh") { zh } else { en };
                    row.text(format!("label::{}", language_name(lang)), label);
                }
                choices.rows.push(row.0);
            }
            continue;
        }
        for choice in item.kind.choices() {
            let mut row = Row::default();
            row.text("list_name", list).text("name", choice.key.clone());
            row.texts("label", Some(&choice.label));
            for (attribute, value) in &choice.attributes {
                row.text(attribute.clone(), value.clone());
            }
            choices.rows.push(row.0);
        }
    }

    // survey: sections as groups around runs of their items
    let mut current: Option<&str> = None;
    let mut opened: BTreeSet<&str> = BTreeSet::new();
    let group_row = |id: &str, first: bool| {
        let mut row = Row::default();
        row.text("type", "begin group").text("name", id);
        if let (Some(section), true) = (q.section(id), first) {
            row.texts("label", Some(&section.title));
            if let Some(e) = &section.relevant {
                row.text("relevant", e.source());
            }
            if let Some(m) = &section.module {
                row.text("zhisu::module", m.population.clone());
            }
        }
        row
    };
    for (item, list) in q.items.iter().zip(&lists) {
        let section = item.section.as_deref();
        if section != current {
            if current.is_some() {
                survey
                    .rows
                    .push(Row::default().text("type", "end group").0.clone());
            }
            if let Some(s) = section {
                let first = opened.insert(s);
                survey.rows.push(group_row(s, first).0);
            }
            current = section;
        }
        survey.rows.push(survey_row(item, list.as_deref()).0);
    }
    if current.is_some() {
        survey
            .rows
            .push(Row::default().text("type", "end group").0.clone());
    }
    for section in &q.sections {
        if opened.insert(&section.id) {
            survey.rows.push(group_row(&section.id, true).0);
            survey
                .rows
                .push(Row::default().text("type", "end group").0.clone());
        }
    }

    // settings: one row
    let mut settings_header: Vec<String> = [
        "form_id",
        "version",
        "form_title",
        "default_language",
        "zhisu::literacy_threshold_percent",
        "zhisu::eligibility",
    ]
    .map(String::from)
    .to_vec();
    settings_header.extend(text_columns("zhisu::title", langs));
    settings_header.extend(text_columns("zhisu::description", langs));
    settings_header.extend(text_columns("zhisu::eligibility_message", langs));
    let mut row = Row::default();
    row.text("form_id", q.id.clone())
        .text("version", q.version.clone())
        .text(
            "form_title",
            q.title
                .0
                .get(&q.default_language)
                .cloned()
                .unwrap_or_default(),
        )
        .text("default_language", language_name(&q.default_language))
        .number(
            "zhisu::literacy_threshold_percent",
            f64::from(q.literacy_threshold_percent),
        );
    let mut title = q.title.clone();
    title.0.remove(&q.default_language);
    row.texts("zhisu::title", Some(&title))
        .texts("zhisu::description", q.description.as_ref());
    if let Some(e) = &q.eligibility {
        row.text("zhisu::eligibility", e.condition.source())
            .texts("zhisu::eligibility_message", Some(&e.message));
    }
    for role in BackgroundRole::ALL {
        let id = q.background.roles.get(&role).map(String::as_str);
        if id.is_some_and(|id| id != role.name()) {
            let column = format!("zhisu::background::{}", role.name());
            settings_header.push(column.clone());
            row.text(column, id.unwrap_or_default());
        }
    }
    if q.background.fingerprint != DEFAULT_FINGERPRINT.map(String::from).to_vec() {
        settings_header.push("zhisu::fingerprint".into());
        row.text("zhisu::fingerprint", q.background.fingerprint.join(" "));
    }
    let mut settings = Sheet::new("settings", settings_header);
    settings.rows.push(row.0);

    let mut dimensions_header = vec!["name".to_string()];
    dimensions_header.extend(text_columns("label", langs));
    let mut dimensions = Sheet::new(DIMENSIONS_SHEET, dimensions_header);
    for d in &q.dimensions {
        let mut row = Row::default();
        row.text("name", d.id.clone())
            .texts("label", Some(&d.label));
        dimensions.rows.push(row.0);
    }

    let mut workbook = Workbook::new();
    for sheet in [survey, choices, settings, dimensions] {
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(sheet.name)?;
        for (col, name) in sheet.header.iter().enumerate() {
            worksheet.write_string(0, col as u16, name)?;
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            for (column, cell) in row {
                let Some(col) = sheet.header.iter().position(|h| h == column) else {
                    continue;
                };
                let (r, col) = (r as u32 + 1, col as u16);
                match cell {
                    Cell::Text(s) => worksheet.write_string(r, col, s)?,
                    Cell::Number(x) => worksheet.write_number(r, col, *x)?,
                };
            }
        }
    }
    workbook.save(path)
}
