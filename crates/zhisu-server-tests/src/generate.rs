//! Valid interviews of a real questionnaire, walked through the core's engine the way the
//! tablet walks them: each asked item answered (scored items right with a given chance), the
//! items that play the background roles the analyses use set as asked for. Deterministic.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;
use zhisu_core::{AnswerValue, Answers, BackgroundRole, Item, ItemKind, Questionnaire};
use zhisu_protocol::CompletedInterview;

pub use crate::Rng;

pub struct Respondent<'a> {
    pub population: &'a str,
    pub sex: &'a str,
    pub age: i64,
    pub education: &'a str,
    pub industry: &'a str,
    /// Chance (0–100) of answering a scored item right.
    pub ability: u64,
    /// Every scored single choice at its first choice (straight-lining), whatever is right.
    pub straight_line: bool,
}

fn candidates(q: &Questionnaire, item: &Item, answers: &Answers) -> Vec<AnswerValue> {
    match &item.kind {
        ItemKind::SingleChoice { .. } | ItemKind::Likert { .. } => q
            .visible_choices(item, answers)
            .iter()
            .map(|c| AnswerValue::Choice(c.key.clone()))
            .collect(),
        ItemKind::MultipleChoice { .. } => q
            .visible_choices(item, answers)
            .iter()
            .map(|c| AnswerValue::Choices(vec![c.key.clone()]))
            .collect(),
        ItemKind::TrueFalse => vec![AnswerValue::Bool(true), AnswerValue::Bool(false)],
        ItemKind::Integer { min, max } => {
            let low = min.unwrap_or(0).max(1);
            let high = max.unwrap_or(low + 10).max(low);
            (low..=high.min(low + 20))
                .map(AnswerValue::Integer)
                .collect()
        }
        ItemKind::Decimal { min, .. } => vec![AnswerValue::Decimal(min.unwrap_or(1.0).max(1.0))],
        ItemKind::Text { .. } => vec![AnswerValue::Text("其他".into())],
        ItemKind::Date { .. } => vec![AnswerValue::Date("2026-01-01".into())],
        ItemKind::Note => vec![],
    }
}

/// Answers for one respondent, valid for `q` (checked with `check_interview`).
pub fn answers(q: &Questionnaire, who: &Respondent<'_>, rng: &mut Rng) -> Answers {
    let mut answers = Answers::new();
    let mut at = None;
    while let Some(index) = q.next_item(&answers, at) {
        at = Some(index);
        let item = &q.items[index];
        if !item.kind.takes_answer() {
            continue;
        }
        let plays = |role| q.background_item(role).is_some_and(|b| b.id == item.id);
        let fixed = if matches!(item.id.as_str(), "consent" | "frontline") {
            Some(AnswerValue::Bool(true))
        } else if plays(BackgroundRole::Age) {
            Some(AnswerValue::Integer(who.age))
        } else {
            [
                (BackgroundRole::Population, who.population),
                (BackgroundRole::Sex, who.sex),
                (BackgroundRole::Education, who.education),
                (BackgroundRole::Industry, who.industry),
            ]
            .into_iter()
            .find(|(role, _)| plays(*role))
            .map(|(_, key)| AnswerValue::Choice(key.into()))
        };
        let options = candidates(q, item, &answers);
        let value = if let Some(v) = fixed {
            v
        } else if let Some(rule) = &item.scoring {
            let right = rule.key.clone();
            if who.straight_line && !options.is_empty() {
                options[0].clone()
            } else if rng.below(100) < who.ability {
                right
            } else {
                options
                    .iter()
                    .find(|o| o.normalized() != right)
                    .cloned()
                    .unwrap_or(right)
            }
        } else if options.is_empty() {
            continue;
        } else {
            options[rng.below(options.len() as u64) as usize].clone()
        };
        let value = if q.check_answer(&item.id, &value, &answers).is_ok() {
            value
        } else {
            match options
                .into_iter()
                .find(|o| q.check_answer(&item.id, o, &answers).is_ok())
            {
                Some(v) => v,
                None => continue,
            }
        };
        answers.insert(item.id.clone(), value);
    }
    let problems = q.check_interview(&answers);
    assert!(
        problems.is_empty(),
        "generated answers are invalid: {problems:?}"
    );
    answers
}

/// A completed interview with these answers, taking `minutes`, started at `start`.
pub fn interview(
    q: &Questionnaire,
    id: Uuid,
    answers: Answers,
    start: DateTime<Utc>,
    seconds: i64,
    site: Option<&str>,
) -> CompletedInterview {
    CompletedInterview {
        id,
        questionnaire_id: q.id.clone(),
        questionnaire_version: q.version.clone(),
        started_at: start,
        completed_at: start + Duration::seconds(seconds),
        utc_offset_minutes: 480,
        answers,
        site_id: site.map(str::to_string),
        surveyor_id: Some("s01".into()),
        paradata: None,
        content_hash: String::new(),
    }
    .sealed()
}
