use serde::{Deserialize, Serialize};

use crate::{Answers, Questionnaire};

/// The result of scoring one interview: what the respondent is shown and what the server reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreReport {
    pub score: u32,
    pub max: u32,
    pub has_literacy: bool,
    pub dimensions: Vec<DimensionScore>,
    pub items: Vec<ItemResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionScore {
    pub dimension: String,
    pub score: u32,
    pub max: u32,
    pub has_literacy: bool,
}

/// One scored item: whether the answer was right. Unanswered items score zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemResult {
    pub item_id: String,
    pub dimension: String,
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
    /// Scores `answers`. Multiple choice counts only on an exact match of the set of keys.
    pub fn score(&self, answers: &Answers) -> ScoreReport {
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
        for item in &self.items {
            let Some(rule) = &item.scoring else { continue };
            let correct = answers
                .get(&item.id)
                .is_some_and(|given| given.normalized() == rule.key);
            let awarded = if correct { rule.points } else { 0 };
            if let Some(d) = dimensions
                .iter_mut()
                .find(|d| d.dimension == rule.dimension)
            {
                d.score += awarded;
                d.max += rule.points;
            }
            items.push(ItemResult {
                item_id: item.id.clone(),
                dimension: rule.dimension.clone(),
                points: rule.points,
                awarded,
                correct,
            });
        }
        let threshold = self.literacy_threshold_percent;
        for d in &mut dimensions {
            d.has_literacy = reaches(d.score, d.max, threshold);
        }
        let score = dimensions.iter().map(|d| d.score).sum();
        let max = dimensions.iter().map(|d| d.max).sum();
        ScoreReport {
            score,
            max,
            has_literacy: reaches(score, max, threshold),
            dimensions,
            items,
        }
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
