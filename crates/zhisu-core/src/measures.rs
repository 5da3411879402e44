//! What the survey measures besides the test: the population modules, the yes/no indicators of
//! the background section and the ordered scales (indicators in the background, health status
//! elsewhere). Found by kind and section, never by id, so that a new questionnaire version
//! reports the same way. The server keeps each interview's outcomes as facts at ingest
//! ([`Questionnaire::measure_outcomes`], [`Questionnaire::module_outcomes`]) so that the
//! estimate tables read a few bytes per interview, never its answers.

use crate::{AnswerValue, BackgroundRole, Item, ItemKind, Questionnaire, ScoreReport};

/// An item reported as the share giving the answer counted: a yes/no item of the background
/// section (share "yes") or an ordered scale (its last two choices in the questionnaire's order,
/// "经常", "总是"; a scale may run either way, so the report names them).
#[derive(Debug, Clone, PartialEq)]
pub struct Measured<'q> {
    pub item: &'q Item,
    /// Outside the background section: a health status, not an indicator.
    pub health: bool,
    /// The choice keys counted; empty for a yes/no item.
    pub counted_keys: Vec<&'q str>,
}

impl Measured<'_> {
    /// Whether `answer` counts (`Some(true)`), answers without counting (`Some(false)`), or is
    /// no answer to this measure (`None`: it is left out of the share).
    pub fn outcome(&self, answer: &AnswerValue) -> Option<bool> {
        match (&self.item.kind, answer) {
            (ItemKind::TrueFalse, AnswerValue::Bool(b)) => Some(*b),
            (ItemKind::TrueFalse, AnswerValue::DontKnow) => Some(false),
            (ItemKind::Likert { .. }, AnswerValue::Choice(k)) => {
                Some(self.counted_keys.contains(&k.as_str()))
            }
            _ => None,
        }
    }
}

/// The key a breakdown groups an answer by: a choice's key, `yes` or `no`.
pub fn answer_key(answer: &AnswerValue) -> Option<&str> {
    match answer {
        AnswerValue::Choice(key) => Some(key),
        AnswerValue::Bool(true) => Some("yes"),
        AnswerValue::Bool(false) => Some("no"),
        _ => None,
    }
}

/// One outcome as the facts keep it: `1` counted (or literacy reached), `0` not, `-` not asked
/// or not answered.
fn mark(outcome: Option<bool>) -> char {
    match outcome {
        Some(true) => '1',
        Some(false) => '0',
        None => '-',
    }
}

impl Questionnaire {
    /// The measured items (see [`Measured`]), in the questionnaire's order. Scored items and
    /// the eligibility questions are not measures.
    pub fn measured_items(&self) -> Vec<Measured<'_>> {
        let background_section = self
            .background_item(BackgroundRole::Population)
            .and_then(|i| i.section.as_deref());
        let eligibility_items: Vec<&str> = self
            .eligibility
            .as_ref()
            .map(|e| e.condition.references())
            .unwrap_or_default();
        let mut out = Vec::new();
        for item in &self.items {
            if item.scoring.is_some() || eligibility_items.contains(&item.id.as_str()) {
                continue;
            }
            let in_background =
                item.section.is_some() && item.section.as_deref() == background_section;
            match &item.kind {
                ItemKind::TrueFalse if in_background => out.push(Measured {
                    item,
                    health: false,
                    counted_keys: Vec::new(),
                }),
                ItemKind::Likert { choices } if choices.len() >= 3 => out.push(Measured {
                    item,
                    health: !in_background,
                    counted_keys: choices[choices.len() - 2..]
                        .iter()
                        .map(|c| c.key.as_str())
                        .collect(),
                }),
                _ => {}
            }
        }
        out
    }

    /// One character per measured item ([`measured_items`](Self::measured_items)), in order:
    /// `1` the answer counted, `0` answered otherwise, `-` not answered.
    pub fn measure_outcomes(&self, answers: &crate::Answers) -> String {
        self.measured_items()
            .iter()
            .map(|m| mark(answers.get(&m.item.id).and_then(|a| m.outcome(a))))
            .collect()
    }

    /// The sections that are population modules, in the questionnaire's order.
    pub fn module_sections(&self) -> impl Iterator<Item = &crate::Section> {
        self.sections.iter().filter(|s| s.module.is_some())
    }

    /// One character per population module ([`module_sections`](Self::module_sections)), in
    /// order: `1` literacy reached in it, `0` asked without literacy, `-` not asked.
    pub fn module_outcomes(&self, score: &ScoreReport) -> String {
        self.module_sections()
            .map(|s| {
                mark(
                    score
                        .modules
                        .iter()
                        .find(|m| m.section == s.id)
                        .map(|m| m.has_literacy),
                )
            })
            .collect()
    }
}
