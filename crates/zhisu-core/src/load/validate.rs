//! The questionnaire from its spanned TOML values, by concern, in the order a reader meets them.

use toml::de::DeTable;
use toml::Spanned;

use super::expressions;
use super::header::{header, texts, TOP_KEYS};
use super::items::{self, ItemContext};
use super::parts::{ExprRole, Pending};
use super::read::{fields, Place};
use super::{background, scoring, Reporter};
use crate::{Eligibility, Questionnaire};

/// The questionnaire, and where each item's id is written (for the lint).
pub(super) fn questionnaire(
    document: &Spanned<DeTable<'_>>,
    r: &mut Reporter,
) -> (Questionnaire, Vec<usize>) {
    let top = fields(r, document.get_ref(), 0, TOP_KEYS, Place::top());
    let header = header(r, &top);
    let languages = &header.languages;
    let dimensions = items::dimensions(r, &top, languages);
    let lists = items::choice_lists(r, &top, languages);
    let (sections, section_info) = items::sections(r, &top, languages);
    let cx = ItemContext {
        languages,
        lists: &lists,
        sections: &section_info,
        has_sections: !sections.is_empty(),
    };
    let mut read = items::items(r, &top, &cx);

    let eligibility = top.table(r, "eligibility").and_then(|(table, at)| {
        let f = fields(
            r,
            table,
            at,
            &["condition", "message"],
            Place::new("the eligibility", "资格条件"),
        );
        let message = texts(r, &f, "message", languages, true).unwrap_or_default();
        let s = f.required_string(r, "condition", "\"${age} >= 16\"")?;
        let condition = expressions::parse(r, &s, &f.place, "condition")?;
        read.pending.push(Pending {
            role: ExprRole::Eligibility,
            place: f.place.clone(),
            key: "condition".into(),
            item: None,
            expression: condition.clone(),
            at: s.at,
        });
        Some(Eligibility { condition, message })
    });
    for section in &sections {
        let Some((expression, at)) = section_info
            .get(&section.id)
            .and_then(|s| s.relevant.clone())
        else {
            continue;
        };
        read.pending.push(Pending {
            role: ExprRole::SectionRelevant,
            place: Place::new(
                format!("section '{}'", section.id),
                format!("章节“{}”", section.id),
            ),
            key: "relevant".into(),
            item: Some(
                read.section_first_item
                    .get(&section.id)
                    .copied()
                    .unwrap_or(read.items.len()),
            ),
            expression,
            at,
        });
    }
    expressions::check_all(r, &read, &lists);
    scoring::rules(r, &mut read, &dimensions, &section_info, header.threshold);
    let background = background::background(r, &top, &read);

    let q = Questionnaire {
        id: header.id,
        version: header.version,
        default_language: header.languages.default,
        languages: header.languages.all,
        title: header.title,
        description: header.description,
        dimensions: dimensions.list,
        literacy_threshold_percent: header.threshold.map_or(80, |(t, _)| t),
        eligibility,
        sections,
        items: read.items,
        background,
        index: Default::default(),
    };
    (q, read.id_at)
}
