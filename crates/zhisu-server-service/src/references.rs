//! Reference levels and targets (`docs/statistics.md` §9): what a level must satisfy before it
//! is kept, and its changes, each written with its audit entry in one transaction. Who may
//! change them is the role's ([`Role::may_set_references`]: city administrators); every role
//! reads them all (published figures about the city or the nation, not data of a district or
//! a population).

use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_server_storage::{ReferenceKind, ReferenceLevel, Role};

use crate::{t, AuditEntry, QuestionnaireRegistry, Refusal, ServerState, StorageError};

/// A reference level as a person enters it (the API's body, the dashboard's form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceInput {
    pub round: String,
    pub questionnaire_id: String,
    /// Empty (or absent) for overall literacy, else a dimension's id.
    #[serde(default)]
    pub measure: String,
    pub kind: ReferenceKind,
    /// Percent, 0 to 100.
    pub value_percent: f64,
    pub source: String,
    pub year: i32,
}

/// The longest round, source and id accepted, in characters.
pub const MAX_TEXT: usize = 300;

/// What is wrong with `input`, every problem at once (empty when it can be kept): a round, a
/// questionnaire the server has, overall or one of its dimensions, a value in 0–100, a source,
/// a plausible year.
pub fn reference_problems(input: &ReferenceInput, registry: &QuestionnaireRegistry) -> Vec<String> {
    let mut problems = Vec::new();
    let round = input.round.trim();
    if round.is_empty() || round.chars().count() > 64 {
        problems.push("round: give the round (1 to 64 characters), e.g. 2026".to_string());
    }
    match registry.newest(input.questionnaire_id.trim()) {
        None => problems.push(format!(
            "questionnaire_id: the server has no questionnaire {:?}",
            input.questionnaire_id
        )),
        Some(p) => {
            let measure = input.measure.trim();
            if !measure.is_empty() && !p.questionnaire.dimensions.iter().any(|d| d.id == measure) {
                let ids: Vec<&str> = p
                    .questionnaire
                    .dimensions
                    .iter()
                    .map(|d| d.id.as_str())
                    .collect();
                problems.push(format!(
                    "measure: empty for overall literacy, or one of the dimensions {}",
                    ids.join(", ")
                ));
            }
        }
    }
    if !(input.value_percent.is_finite() && (0.0..=100.0).contains(&input.value_percent)) {
        problems.push("value_percent: a percentage from 0 to 100".to_string());
    }
    let source = input.source.trim();
    if source.is_empty() || source.chars().count() > MAX_TEXT {
        problems.push(format!(
            "source: say where the figure comes from (1 to {MAX_TEXT} characters)"
        ));
    }
    if !(1949..=2100).contains(&input.year) {
        problems.push("year: the year the figure is of, 1949 to 2100".to_string());
    }
    problems
}

/// A kind in words.
pub fn kind_label(kind: ReferenceKind, lang: &str) -> &'static str {
    match kind {
        ReferenceKind::Target => t(lang, "目标", "Target"),
        ReferenceKind::City => t(lang, "全市水平", "City level"),
        ReferenceKind::National => t(lang, "全国水平", "National level"),
        ReferenceKind::Other => t(lang, "其他参考", "Other reference"),
    }
}

/// How a level is named beside a chart or a figure: "目标 90.0%（健康中国行动，2030）".
pub fn describe(level: &ReferenceLevel, lang: &str) -> String {
    let kind = kind_label(level.kind, lang);
    if lang.starts_with("en") {
        format!(
            "{kind} {:.1}% ({}, {})",
            level.value_percent, level.source, level.year
        )
    } else {
        format!(
            "{kind} {:.1}%（{}，{}）",
            level.value_percent, level.source, level.year
        )
    }
}

/// Where an estimate stands against a reference level, judged by its 95 % interval (a point
/// estimate above a target whose interval still holds it has not been shown to reach it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The whole interval lies above the level.
    Above,
    /// The whole interval lies below the level.
    Below,
    /// The interval holds the level: no difference beyond chance.
    Within,
}

/// Where `estimate` stands against `level` ([`Standing`]).
pub fn standing(estimate: &crate::analysis::Estimate, level: &ReferenceLevel) -> Standing {
    let value = level.value_percent / 100.0;
    if estimate.interval.low > value {
        Standing::Above
    } else if estimate.interval.high < value {
        Standing::Below
    } else {
        Standing::Within
    }
}

/// The sentence a report gives for [`standing`]: a target is reached or not, another level is
/// exceeded or not, and an interval holding the level says that no judgement can be made.
pub fn standing_words(kind: ReferenceKind, standing: Standing, lang: &str) -> &'static str {
    let target = kind == ReferenceKind::Target;
    match (standing, target) {
        (Standing::Above, true) => t(
            lang,
            "置信区间整体高于目标，可以认为已达到目标",
            "the whole interval lies above the target: the target is reached",
        ),
        (Standing::Below, true) => t(
            lang,
            "置信区间整体低于目标，尚未达到目标",
            "the whole interval lies below the target: the target is not reached",
        ),
        (Standing::Within, true) => t(
            lang,
            "置信区间包含目标值，还不能判断是否达到目标",
            "the interval holds the target: whether it is reached cannot be told",
        ),
        (Standing::Above, false) => t(
            lang,
            "置信区间整体高于该水平，高于参考水平",
            "the whole interval lies above it: higher than this level",
        ),
        (Standing::Below, false) => t(
            lang,
            "置信区间整体低于该水平，低于参考水平",
            "the whole interval lies below it: lower than this level",
        ),
        (Standing::Within, false) => t(
            lang,
            "置信区间包含该水平，与参考水平的差别不超出抽样误差",
            "the interval holds it: no difference beyond sampling error",
        ),
    }
}

/// The levels to show beside the figures of a questionnaire: those of its latest round that has
/// any (rounds ordered as versions are, `2025` before `2026`), with that round.
pub fn current(levels: &[ReferenceLevel]) -> (Option<String>, Vec<ReferenceLevel>) {
    let latest = levels
        .iter()
        .map(|l| l.round.as_str())
        .max_by(|a, b| zhisu_core::compare_versions(a, b));
    match latest {
        None => (None, Vec::new()),
        Some(round) => (
            Some(round.to_string()),
            levels
                .iter()
                .filter(|l| l.round == round)
                .cloned()
                .collect(),
        ),
    }
}

impl ServerState {
    /// Every reference level of a questionnaire (of every one with `None`).
    pub fn reference_levels(
        &self,
        questionnaire_id: Option<&str>,
    ) -> Result<Vec<ReferenceLevel>, StorageError> {
        self.storage.reference_levels(questionnaire_id)
    }

    /// Keeps a new reference level (`id` `None`) or replaces the one with `id`.
    pub fn put_reference_level(
        &self,
        role: &Role,
        id: Option<Uuid>,
        input: &ReferenceInput,
        actor: &str,
    ) -> Result<ReferenceLevel, Refusal> {
        if !role.may_set_references() {
            return Err(Refusal::NotNow(
                "only a city administrator may enter reference levels".into(),
            ));
        }
        let problems = reference_problems(input, &self.questionnaires);
        if !problems.is_empty() {
            return Err(Refusal::Invalid(problems.join("; ")));
        }
        if let Some(id) = id {
            if !self
                .storage
                .reference_levels(None)?
                .iter()
                .any(|l| l.id == id)
            {
                return Err(Refusal::NotFound(format!("no reference level {id}")));
            }
        }
        let level = ReferenceLevel {
            id: id.unwrap_or_else(Uuid::new_v4),
            round: input.round.trim().to_string(),
            questionnaire_id: input.questionnaire_id.trim().to_string(),
            measure: input.measure.trim().to_string(),
            kind: input.kind,
            value_percent: input.value_percent,
            source: input.source.trim().to_string(),
            year: input.year,
            entered_by: actor.to_string(),
            entered_at: Utc::now(),
        };
        let detail = format!(
            "{} {}: {}",
            if id.is_some() { "edited" } else { "added" },
            level.id,
            serde_json::to_string(input).unwrap_or_default()
        );
        let audit = AuditEntry::now(actor, "put_reference_level", detail);
        self.storage.put_reference_level(&level, &audit)?;
        Ok(level)
    }

    /// Removes a reference level.
    pub fn delete_reference_level(
        &self,
        role: &Role,
        id: Uuid,
        actor: &str,
    ) -> Result<(), Refusal> {
        if !role.may_set_references() {
            return Err(Refusal::NotNow(
                "only a city administrator may remove reference levels".into(),
            ));
        }
        let audit = AuditEntry::now(actor, "delete_reference_level", id.to_string());
        if self.storage.delete_reference_level(id, &audit)? {
            Ok(())
        } else {
            Err(Refusal::NotFound(format!("no reference level {id}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> QuestionnaireRegistry {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
        QuestionnaireRegistry::load_dir(&dir).unwrap()
    }

    fn input() -> ReferenceInput {
        ReferenceInput {
            round: "2026".into(),
            questionnaire_id: "ohl_2026".into(),
            measure: String::new(),
            kind: ReferenceKind::Target,
            value_percent: 90.0,
            source: "健康中国行动".into(),
            year: 2030,
        }
    }

    #[test]
    fn an_estimate_stands_against_a_level_by_its_whole_interval() {
        let estimate = |low: f64, high: f64| crate::analysis::Estimate {
            key: String::new(),
            label: String::new(),
            n: 100,
            successes: 50,
            proportion: (low + high) / 2.0,
            interval: zhisu_stats::Interval { low, high },
            method: zhisu_stats::Method::UnweightedWilson,
            se: 0.0,
            df: None,
            deff: None,
            small: false,
        };
        let level = |kind, value_percent| ReferenceLevel {
            id: Uuid::nil(),
            round: "2026".into(),
            questionnaire_id: "ohl_2026".into(),
            measure: String::new(),
            kind,
            value_percent,
            source: "s".into(),
            year: 2026,
            entered_by: "t".into(),
            entered_at: Utc::now(),
        };
        let target = level(ReferenceKind::Target, 60.0);
        // the point estimate 61 % is above 60 %, but its interval holds 60 %: not yet reached
        assert_eq!(standing(&estimate(0.57, 0.65), &target), Standing::Within);
        assert_eq!(standing(&estimate(0.601, 0.65), &target), Standing::Above);
        assert_eq!(standing(&estimate(0.50, 0.599), &target), Standing::Below);
        // a bound equal to the level is inside the interval
        assert_eq!(standing(&estimate(0.60, 0.70), &target), Standing::Within);
        assert_eq!(
            standing_words(ReferenceKind::Target, Standing::Within, "zh-CN"),
            "置信区间包含目标值，还不能判断是否达到目标"
        );
        assert!(
            standing_words(ReferenceKind::National, Standing::Above, "en")
                .contains("higher than this level")
        );
    }

    #[test]
    fn a_level_needs_a_round_a_known_measure_a_percentage_a_source_and_a_year() {
        let registry = registry();
        assert_eq!(
            reference_problems(&input(), &registry),
            Vec::<String>::new()
        );
        let dimension = registry
            .newest("ohl_2026")
            .unwrap()
            .questionnaire
            .dimensions[0]
            .id
            .clone();
        let of_dimension = ReferenceInput {
            measure: dimension,
            value_percent: 0.0,
            ..input()
        };
        assert!(reference_problems(&of_dimension, &registry).is_empty());
        let wrong = ReferenceInput {
            round: " ".into(),
            measure: "nothing".into(),
            value_percent: 100.5,
            source: String::new(),
            year: 1900,
            ..input()
        };
        let problems = reference_problems(&wrong, &registry);
        let fields: Vec<&str> = problems
            .iter()
            .map(|p| p.split(':').next().unwrap())
            .collect();
        assert_eq!(
            fields,
            ["round", "measure", "value_percent", "source", "year"]
        );
        let unknown = ReferenceInput {
            questionnaire_id: "nothing".into(),
            value_percent: f64::NAN,
            ..input()
        };
        let problems = reference_problems(&unknown, &registry);
        assert!(problems[0].starts_with("questionnaire_id"), "{problems:?}");
        assert!(problems[1].starts_with("value_percent"), "{problems:?}");
    }

    #[test]
    fn the_levels_shown_are_the_latest_rounds_and_read_in_words() {
        let level = |round: &str, kind| ReferenceLevel {
            id: Uuid::new_v4(),
            round: round.into(),
            questionnaire_id: "ohl_2026".into(),
            measure: String::new(),
            kind,
            value_percent: 52.6,
            source: "全国监测".into(),
            year: 2022,
            entered_by: "city".into(),
            entered_at: Utc::now(),
        };
        assert_eq!(current(&[]), (None, vec![]));
        // rounds order as versions do: 2026.10 after 2026.9
        let levels = [
            level("2026.9", ReferenceKind::City),
            level("2026.10", ReferenceKind::National),
            level("2025", ReferenceKind::Target),
        ];
        let (round, shown) = current(&levels);
        assert_eq!(round.as_deref(), Some("2026.10"));
        assert_eq!(shown, vec![levels[1].clone()]);
        assert_eq!(
            describe(&levels[1], "zh-CN"),
            "全国水平 52.6%（全国监测，2022）"
        );
        assert_eq!(
            describe(&levels[1], "en"),
            "National level 52.6% (全国监测, 2022)"
        );
    }
}
