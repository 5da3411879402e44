//! The facts the dashboard reads of an interview, taken once when it is stored: the background
//! answers analyses break down by, the literacy of each dimension, which scored items were
//! answered correctly, and the quality-control flags. Stored as plain columns beside the
//! verbatim payload so that a report over a million interviews reads narrow rows, never JSON.

use serde::{Deserialize, Serialize};
use zhisu_core::{
    AnswerValue, BackgroundRole, EligibilityStatus, Item, ItemKind, QcFlag, QcThresholds,
    Questionnaire, ScoreReport,
};
use zhisu_protocol::CompletedInterview;

/// Dimensions whose literacy bits the facts keep (a questionnaire has four): PostgreSQL keeps
/// the bits in a 32-bit integer, and both backends must store the same facts.
pub const MAX_DIMENSIONS: usize = 31;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub population: Option<String>,
    pub sex: Option<String>,
    pub age: Option<i64>,
    pub education: Option<String>,
    pub industry: Option<String>,
    /// Bit `i` set: literacy reached in the questionnaire's `i`-th dimension.
    pub dimension_literacy: i64,
    /// One character per scored item of the questionnaire, in its order: `1` correct, `0` wrong
    /// (or "don't know"), `-` not asked.
    pub items_correct: String,
    /// From start to completion, in whole seconds (as the device's clock saw it).
    pub duration_s: i64,
    /// Quality-control flags: the server's own (too fast, straight-lining, from the answers and
    /// duration) and the device's (many changed answers, from its paradata).
    pub qc_flags: Vec<QcFlag>,
    /// A short hash of the background answers and site, for suspected repeat interviews
    /// ([`Questionnaire::respondent_fingerprint`]).
    pub fingerprint: String,
    /// The keys of the further breakdowns ([`MORE_ROLES`]: employer size, ownership, employment
    /// form, migrant status, travel direction), in that order: a choice's key, `yes` or `no`.
    pub more: [Option<String>; 5],
    /// One character per population module of the questionnaire version
    /// ([`Questionnaire::module_outcomes`]): `1` literacy in it, `0` asked without, `-` not asked.
    pub modules: String,
    /// One character per measured item of the version ([`Questionnaire::measure_outcomes`]):
    /// `1` the answer counted, `0` answered otherwise, `-` not answered.
    pub measures: String,
    /// The answer to the consent item ([`consent_item`]), when asked.
    #[serde(default)]
    pub consent: Option<bool>,
    /// The version of the consent text the respondent answered ([`consent_text_version`]).
    #[serde(default)]
    pub consent_text_version: Option<String>,
}

/// The background roles of [`Facts::more`], in order.
pub const MORE_ROLES: [BackgroundRole; 5] = [
    BackgroundRole::EmployerSize,
    BackgroundRole::Ownership,
    BackgroundRole::EmploymentForm,
    BackgroundRole::Migrant,
    BackgroundRole::TravelDirection,
];

impl Facts {
    pub fn of(
        questionnaire: &Questionnaire,
        interview: &CompletedInterview,
        score: &ScoreReport,
        thresholds: &QcThresholds,
    ) -> Self {
        let choice = |role| match background_answer(questionnaire, interview, role) {
            Some(AnswerValue::Choice(key)) => Some(key.clone()),
            _ => None,
        };
        let age = match background_answer(questionnaire, interview, BackgroundRole::Age) {
            Some(AnswerValue::Integer(n)) => Some(*n),
            _ => None,
        };
        let mut dimension_literacy = 0i64;
        for (i, d) in questionnaire
            .dimensions
            .iter()
            .enumerate()
            .take(MAX_DIMENSIONS)
        {
            if score
                .dimensions
                .iter()
                .any(|s| s.dimension == d.id && s.has_literacy)
            {
                dimension_literacy |= 1 << i;
            }
        }
        // Both lists are in questionnaire order: one walk.
        let mut results = score.items.iter().peekable();
        let items_correct = questionnaire
            .items
            .iter()
            .filter(|item| item.scoring.is_some())
            .map(|item| match results.peek() {
                Some(r) if r.item_id == item.id => {
                    let c = if r.correct { '1' } else { '0' };
                    results.next();
                    c
                }
                _ => '-',
            })
            .collect();
        let duration_s = (interview.completed_at - interview.started_at)
            .num_seconds()
            .max(0);
        Facts {
            population: choice(BackgroundRole::Population),
            sex: choice(BackgroundRole::Sex),
            age,
            education: choice(BackgroundRole::Education),
            industry: choice(BackgroundRole::Industry),
            dimension_literacy,
            items_correct,
            duration_s,
            qc_flags: qc_flags(questionnaire, interview, thresholds),
            // the core's function, which the tablet uses too (its repeat-respondent warning)
            fingerprint: questionnaire
                .respondent_fingerprint(&interview.answers, interview.site_id.as_deref()),
            more: MORE_ROLES.map(|role| {
                background_answer(questionnaire, interview, role)
                    .and_then(zhisu_core::answer_key)
                    .map(str::to_string)
            }),
            modules: questionnaire.module_outcomes(score),
            measures: questionnaire.measure_outcomes(&interview.answers),
            consent: consent_answer(questionnaire, interview),
            consent_text_version: consent_text_version(questionnaire),
        }
    }

    pub fn qc_flags_json(&self) -> String {
        serde_json::to_string(&self.qc_flags).expect("a list of strings serialises")
    }
}

/// A stored list of quality flags (JSON, as both backends keep it) with `flag` added: a flag of
/// the same kind ([`QcFlag::code`]) is replaced, so flagging again does not pile up copies.
pub fn with_flag(stored: &str, flag: &QcFlag) -> Result<String, serde_json::Error> {
    let mut flags: Vec<QcFlag> = serde_json::from_str(stored)?;
    flags.retain(|f| f.code() != flag.code());
    flags.push(flag.clone());
    serde_json::to_string(&flags)
}

/// The server's flags from the answers and duration (screened-out respondents are not
/// flagged: a short interview is what screening out looks like), then any flag the device
/// raised from what only it saw (changed answers), each kind once.
fn qc_flags(
    questionnaire: &Questionnaire,
    interview: &CompletedInterview,
    thresholds: &QcThresholds,
) -> Vec<QcFlag> {
    if questionnaire.eligibility_status(&interview.answers) != EligibilityStatus::Eligible {
        return Vec::new();
    }
    let duration_ms = (interview.completed_at - interview.started_at)
        .num_milliseconds()
        .max(0) as u64;
    let mut flags =
        zhisu_core::flags_from_answers(questionnaire, &interview.answers, duration_ms, thresholds);
    if let Some(paradata) = &interview.paradata {
        for flag in zhisu_core::flags_from_paradata(paradata, thresholds)
            .into_iter()
            .chain(paradata.flags.iter().cloned())
        {
            if !flags.iter().any(|f| f.code() == flag.code()) {
                flags.push(flag);
            }
        }
    }
    flags
}

/// The answer to the item that plays `role` in the questionnaire (declared in its
/// `[background]` table), if it has one and it was answered.
pub fn background_answer<'a>(
    questionnaire: &Questionnaire,
    interview: &'a CompletedInterview,
    role: BackgroundRole,
) -> Option<&'a AnswerValue> {
    interview
        .answers
        .get(&questionnaire.background_item(role)?.id)
}

/// The answers to the questionnaire's fingerprint items (declared in its file), and the site,
/// hashed: equal fingerprints at one site suggest the same person
/// was interviewed twice. Empty when no background item was answered.
/// The score report as the server stores it: without the per-item results, which the
/// `items_correct` fact keeps in a few bytes and the answers can always reproduce.
pub fn stored_score_report(score: &ScoreReport) -> String {
    #[derive(Serialize)]
    struct Slim<'a> {
        score: u32,
        max: u32,
        has_literacy: bool,
        dimensions: &'a [zhisu_core::DimensionScore],
        modules: &'a [zhisu_core::ModuleScore],
    }
    serde_json::to_string(&Slim {
        score: score.score,
        max: score.max,
        has_literacy: score.has_literacy,
        dimensions: &score.dimensions,
        modules: &score.modules,
    })
    .expect("a score report serialises")
}

/// The consent item of a questionnaire: the true/false item `consent` that every shipped
/// questionnaire asks first and its eligibility requires (`${consent} = true()`); `None` for
/// a questionnaire without one.
pub fn consent_item(q: &Questionnaire) -> Option<&Item> {
    q.item("consent")
        .filter(|item| matches!(item.kind, ItemKind::TrueFalse))
}

/// The version of the consent text a respondent answered: `sha256:` and 16 hex digits of
/// what the surveyor read out, every item of the consent item's section up to and including
/// it (the introduction and the question, label and hint), in every language. The same
/// wording in two questionnaire versions gives the same version; any change of a word, a new
/// one. `None` without a consent item.
pub fn consent_text_version(q: &Questionnaire) -> Option<String> {
    let consent = consent_item(q)?;
    let mut text = String::new();
    for item in q
        .items
        .iter()
        .filter(|item| item.section == consent.section)
    {
        for (lang, label) in &item.label.0 {
            text.push_str(&format!("{}.label.{lang}={label}\n", item.id));
        }
        for (lang, hint) in item.hint.iter().flat_map(|h| h.0.iter()) {
            text.push_str(&format!("{}.hint.{lang}={hint}\n", item.id));
        }
        if item.id == consent.id {
            break;
        }
    }
    Some(format!(
        "sha256:{}",
        &zhisu_protocol::sha256_hex(text.as_bytes())[..16]
    ))
}

/// The respondent's consent as recorded in an interview: the answer to the consent item
/// (`None` when the questionnaire has none or it was not answered).
pub fn consent_answer(q: &Questionnaire, interview: &CompletedInterview) -> Option<bool> {
    match interview.answers.get(&consent_item(q)?.id) {
        Some(AnswerValue::Bool(b)) => Some(*b),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fingerprint moved to the core (the tablet computes it too); the facts keep the very
    /// value stored before the move, whose form was `id=<answer JSON>` lines and `site=…`,
    /// hashed with SHA-256, the first 16 hex digits.
    #[test]
    fn the_fingerprint_fact_is_the_value_stored_before_it_moved_to_the_core() {
        let q = Questionnaire::from_toml(
            "pilot.toml",
            include_str!("../../../questionnaires/pilot.toml"),
        )
        .unwrap();
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-29T08:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let mut answers = zhisu_core::Answers::new();
        answers.insert("age".into(), AnswerValue::Integer(30));
        answers.insert("employer_duty".into(), AnswerValue::Bool(true));
        let interview = CompletedInterview {
            id: uuid::Uuid::from_u128(1),
            questionnaire_id: q.id.clone(),
            questionnaire_version: q.version.clone(),
            started_at: at,
            completed_at: at,
            utc_offset_minutes: 480,
            answers,
            site_id: Some("yz-001".into()),
            surveyor_id: None,
            paradata: None,
            practice: false,
            content_hash: String::new(),
        };
        let score = q.score(&interview.answers);
        let facts = Facts::of(&q, &interview, &score, &QcThresholds::default());
        // printf 'age={"type":"integer","value":30}\nsite=yz-001' | sha256sum
        assert_eq!(facts.fingerprint, "3d1708bcd2350139");
    }
}
