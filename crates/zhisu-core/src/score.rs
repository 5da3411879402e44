use serde::{Deserialize, Serialize};

use crate::{Answers, Questionnaire};

/// The result of scoring one interview: what the respondent is shown and what the server reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreReport {
    pub score: u32,
    pub max: u32,
    pub has_literacy: bool,
    pub dimensions: Vec<DimensionScore>,
    /// Population modules that were asked, each scored on its own.
    #[serde(default)]
    pub modules: Vec<ModuleScore>,
    /// Left out where the server stores a report: it can be recomputed from the answers.
    #[serde(default)]
    pub items: Vec<ItemResult>,
}

/// The score of one population module, apart from the national score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleScore {
    pub section: String,
    pub population: String,
    pub score: u32,
    pub max: u32,
    pub has_literacy: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionScore {
    pub dimension: String,
    pub score: u32,
    pub max: u32,
    pub has_literacy: bool,
}

/// One scored item that was asked: whether the answer was right. Unanswered and "don't know"
/// score zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemResult {
    pub item_id: String,
    pub dimension: String,
    /// The population module (section id) the item belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    pub points: u32,
    pub awarded: u32,
    pub correct: bool,
}

impl ScoreReport {
    /// Score as a percentage of the maximum, for display (0 when nothing is scored).
    pub fn percent(&self) -> f64 {
        percent(self.score, self.max)
    }
}

impl DimensionScore {
    pub fn percent(&self) -> f64 {
        percent(self.score, self.max)
    }
}

fn percent(score: u32, max: u32) -> f64 {
    if max == 0 {
        0.0
    } else {
        f64::from(score) * 100.0 / f64::from(max)
    }
}

/// `score >= threshold% of max`, in integers so that 32 of 40 at 80 % is exactly literate.
fn reaches(score: u32, max: u32, threshold_percent: u32) -> bool {
    max > 0 && u64::from(score) * 100 >= u64::from(threshold_percent) * u64::from(max)
}

impl Questionnaire {
    /// Scores `answers`. Only items that are asked count; multiple choice counts only on an
    /// exact match of the set of keys; "don't know" and unanswered score zero. Module items are
    /// scored per module and left out of the national score and its dimensions.
    pub fn score(&self, answers: &Answers) -> ScoreReport {
        let relevant = self.relevance(answers);
        let threshold = self.literacy_threshold_percent;
        let mut items = Vec::new();
        let mut dimensions: Vec<DimensionScore> = self
            .dimensions
            .iter()
            .map(|d| DimensionScore {
                dimension: d.id.clone(),
                score: 0,
                max: 0,
                has_literacy: false,
            })
            .collect();
        let mut modules: Vec<ModuleScore> = Vec::new();
        for (item, _) in self.items.iter().zip(&relevant).filter(|(_, r)| **r) {
            let Some(rule) = &item.scoring else { continue };
            let correct = answers
                .get(&item.id)
                .is_some_and(|given| given.normalized() == rule.key);
            let awarded = if correct { rule.points } else { 0 };
            let module = self.module_of(item);
            match module {
                Some(section) => {
                    let population = section.module.as_ref().map_or("", |m| &m.population);
                    let entry = match modules.iter_mut().position(|m| m.section == section.id) {
                        Some(i) => &mut modules[i],
                        None => {
                            modules.push(ModuleScore {
                                section: section.id.clone(),
                                population: population.to_string(),
                                score: 0,
                                max: 0,
                                has_literacy: false,
                            });
                            modules.last_mut().expect("just pushed")
                        }
                    };
                    entry.score = entry.score.saturating_add(awarded);
                    entry.max = entry.max.saturating_add(rule.points);
                }
                None => {
                    if let Some(d) = dimensions
                        .iter_mut()
                        .find(|d| d.dimension == rule.dimension)
                    {
                        d.score = d.score.saturating_add(awarded);
                        d.max = d.max.saturating_add(rule.points);
                    }
                }
            }
            items.push(ItemResult {
                item_id: item.id.clone(),
                dimension: rule.dimension.clone(),
                module: module.map(|s| s.id.clone()),
                points: rule.points,
                awarded,
                correct,
            });
        }
        for d in &mut dimensions {
            d.has_literacy = reaches(d.score, d.max, threshold);
        }
        for m in &mut modules {
            m.has_literacy = reaches(m.score, m.max, threshold);
        }
        // saturating: a loaded questionnaire stays far below (limits::MAX_TOTAL_POINTS)
        let score = dimensions
            .iter()
            .fold(0u32, |s, d| s.saturating_add(d.score));
        let max = dimensions.iter().fold(0u32, |s, d| s.saturating_add(d.max));
        ScoreReport {
            score,
            max,
            has_literacy: reaches(score, max, threshold),
            dimensions,
            modules,
            items,
        }
    }
}

/// A scored item as item analysis sees it (`zhisu_stats::ItemColumn`): its group (the
/// population module's section for module items, else its dimension), the answers it offers and
/// the right ones. A true/false item offers `true` and `false`; an item with "don't know" offers
/// [`DONT_KNOW_OPTION`] too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoredItemOptions {
    pub id: String,
    pub group: String,
    pub options: Vec<String>,
    pub keyed: Vec<String>,
}

/// How item analysis names the "don't know" answer among an item's options.
pub const DONT_KNOW_OPTION: &str = "dont_know";

/// One interview's outcome on one scored item: the score as a share of the item's points
/// (`None`: not asked) and the options chosen.
pub type ItemOutcome = (Option<f64>, Vec<String>);

fn option_keys(value: &crate::AnswerValue) -> Vec<String> {
    use crate::AnswerValue as V;
    match value {
        V::Choice(k) => vec![k.clone()],
        V::Choices(ks) => ks.clone(),
        V::Bool(b) => vec![b.to_string()],
        V::DontKnow => vec![DONT_KNOW_OPTION.to_string()],
        _ => Vec::new(),
    }
}

impl Questionnaire {
    /// The scored items, in the questionnaire's order, as item analysis sees them.
    pub fn scored_item_options(&self) -> Vec<ScoredItemOptions> {
        self.items
            .iter()
            .filter_map(|item| {
                let rule = item.scoring.as_ref()?;
                let mut options: Vec<String> = match &item.kind {
                    crate::ItemKind::TrueFalse => vec!["true".into(), "false".into()],
                    kind => kind.choices().iter().map(|c| c.key.clone()).collect(),
                };
                if item.dont_know {
                    options.push(DONT_KNOW_OPTION.to_string());
                }
                let group = self
                    .module_of(item)
                    .map_or_else(|| rule.dimension.clone(), |s| s.id.clone());
                Some(ScoredItemOptions {
                    id: item.id.clone(),
                    group,
                    options,
                    keyed: option_keys(&rule.key),
                })
            })
            .collect()
    }

    /// Per scored item (in the order of [`scored_item_options`](Self::scored_item_options)),
    /// what `answers` made of it, by the same rules as [`score`](Self::score): an item asked
    /// and left unanswered scores zero and chose nothing.
    pub fn item_outcomes(&self, answers: &Answers) -> Vec<ItemOutcome> {
        let report = self.score(answers);
        let mut asked = report.items.iter().peekable();
        self.items
            .iter()
            .filter(|item| item.scoring.is_some())
            .map(|item| match asked.next_if(|r| r.item_id == item.id) {
                Some(r) => {
                    let share = if r.points == 0 {
                        f64::from(u8::from(r.correct))
                    } else {
                        f64::from(r.awarded) / f64::from(r.points)
                    };
                    let chosen = answers.get(&item.id).map(option_keys).unwrap_or_default();
                    (Some(share), chosen)
                }
                None => (None, Vec::new()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::reaches;

    #[test]
    fn eighty_percent_rule_is_exact() {
        assert!(reaches(32, 40, 80));
        assert!(!reaches(31, 40, 80));
        assert!(reaches(4, 5, 80));
        assert!(!reaches(0, 0, 80));
        assert!(reaches(40, 40, 100));
    }
}
