//! A summary of a questionnaire for its authors and for reviewers: what `zhisu questionnaire
//! describe` prints.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Questionnaire;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Description {
    pub id: String,
    pub version: String,
    pub default_language: String,
    pub languages: Vec<String>,
    pub items: usize,
    pub items_by_kind: BTreeMap<String, usize>,
    pub sections: Vec<String>,
    /// National test only (module items are counted under `modules`).
    pub scored_items_by_dimension: BTreeMap<String, usize>,
    pub max_score_by_dimension: BTreeMap<String, u32>,
    pub max_score: u32,
    pub literacy_threshold_percent: u32,
    /// The least score that counts as literate.
    pub literacy_cut_score: u32,
    pub has_eligibility_rule: bool,
    pub modules: Vec<ModuleDescription>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleDescription {
    pub section: String,
    pub population: String,
    pub scored_items: usize,
    pub max_score: u32,
}

impl Questionnaire {
    pub fn describe(&self) -> Description {
        let mut items_by_kind = BTreeMap::new();
        let mut scored = BTreeMap::new();
        let mut max_by_dimension = BTreeMap::new();
        for d in &self.dimensions {
            scored.insert(d.id.clone(), 0);
            max_by_dimension.insert(d.id.clone(), 0);
        }
        let mut modules: Vec<ModuleDescription> = self
            .sections
            .iter()
            .filter_map(|s| {
                s.module.as_ref().map(|m| ModuleDescription {
                    section: s.id.clone(),
                    population: m.population.clone(),
                    scored_items: 0,
                    max_score: 0,
                })
            })
            .collect();
        for item in &self.items {
            *items_by_kind
                .entry(item.kind.name().to_string())
                .or_insert(0) += 1;
            let Some(rule) = &item.scoring else { continue };
            match self.module_of(item) {
                Some(section) => {
                    if let Some(m) = modules.iter_mut().find(|m| m.section == section.id) {
                        m.scored_items += 1;
                        m.max_score = m.max_score.saturating_add(rule.points);
                    }
                }
                None => {
                    *scored.entry(rule.dimension.clone()).or_insert(0) += 1;
                    let max = max_by_dimension
                        .entry(rule.dimension.clone())
                        .or_insert(0u32);
                    *max = max.saturating_add(rule.points);
                }
            }
        }
        // a loaded questionnaire is far below these bounds (`limits::MAX_TOTAL_POINTS`); one
        // deserialised from elsewhere may not be, and must still describe without overflow
        let max_score: u32 = max_by_dimension
            .values()
            .fold(0u32, |sum, points| sum.saturating_add(*points));
        let threshold = self.literacy_threshold_percent;
        Description {
            id: self.id.clone(),
            version: self.version.clone(),
            default_language: self.default_language.clone(),
            languages: self.languages.clone(),
            items: self.items.len(),
            items_by_kind,
            sections: self.sections.iter().map(|s| s.id.clone()).collect(),
            scored_items_by_dimension: scored,
            max_score_by_dimension: max_by_dimension,
            max_score,
            literacy_threshold_percent: threshold,
            literacy_cut_score: cut_score(max_score, threshold),
            has_eligibility_rule: self.eligibility.is_some(),
            modules,
        }
    }
}

/// The least score that counts as literate: `threshold` percent of `max`, rounded up, computed
/// without overflow.
pub(crate) fn cut_score(max: u32, threshold_percent: u32) -> u32 {
    let cut = (u64::from(max) * u64::from(threshold_percent)).div_ceil(100);
    u32::try_from(cut).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_score_never_overflows() {
        assert_eq!(cut_score(50, 80), 40);
        assert_eq!(cut_score(4, 80), 4);
        assert_eq!(cut_score(u32::MAX, 100), u32::MAX);
        assert_eq!(cut_score(u32::MAX, 80), 3_435_973_836);
        assert_eq!(cut_score(u32::MAX, u32::MAX), u32::MAX);
    }
}
