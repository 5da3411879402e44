//! The annual monitoring report's content, in the viewer's scope: every figure and sentence of
//! its sections, as plain data (the HTTP layer sets it as a DOCX document). Figures come from
//! the same analyses as the dashboard ([`crate::analysis`]); what the server does not hold (an
//! earlier round's figures, targets, contact outcomes) is said to be missing,
//! never made up. What each section holds and where its figures come from:
//! `docs/annual-report.md`.

use std::collections::BTreeMap;

use zhisu_core::{AnswerValue, Item, Questionnaire};
use zhisu_server_storage::{ReferenceLevel, Role, Scope, Storage, StorageError};

use crate::analysis::{self, By, Estimate, Filter, ItemShare, Labels, LiteracyReport, Progress};
use crate::comparison::{self, Comparison};
use crate::wording::{self, Coverage};
use crate::{t, QuestionnaireRegistry, Refusal};

/// How many of the weakest items the report lists, and how many recommendations it drafts.
pub const WEAKEST_LISTED: usize = 10;
pub const RECOMMENDATIONS: usize = 5;

/// A yes/no (or "often or always") indicator: how many answered the item and how many gave
/// the answer counted.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub item_id: String,
    pub label: String,
    /// What is counted, in words ("是", "经常、总是").
    pub counted: String,
    pub answered: u64,
    pub yes: u64,
}

impl Indicator {
    pub fn share(&self) -> f64 {
        if self.answered == 0 {
            0.0
        } else {
            self.yes as f64 / self.answered as f64
        }
    }
}

/// One population module's result: the share of its scored items answered correctly by the
/// respondents asked them.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleResult {
    pub title: String,
    pub population: String,
    /// Respondents asked the module (the most asked any of its items).
    pub respondents: u64,
    pub answers: u64,
    pub correct: u64,
    /// The module's item answered correctly least often.
    pub weakest: Option<ItemShare>,
}

/// Sample and quality figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub progress: Progress,
    pub flagged: u64,
    pub rejected: u64,
    pub sites_with_interviews: usize,
    pub districts_with_interviews: usize,
    /// Every contact by disposition and the rates (`fieldwork`; no rates in a population scope).
    pub fieldwork: crate::fieldwork::Fieldwork,
    /// The back-checks of the scope, all together (issue 15; `docs/statistics.md` §13).
    pub backchecks: Option<crate::backcheck::AgreementLine>,
    /// The parts of the filter the plan's progress, the quality-control counts and the contact
    /// outcomes could not be narrowed by (their titles): those figures cover the scope
    /// without them ([`sample_scope`]).
    pub not_narrowed_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AnnualReport {
    /// The round every figure but the comparison's comes from: the one asked for, else the
    /// newest when the selection holds several; `None` when it holds one or none (or only
    /// interviews without a round).
    pub round: Option<String>,
    pub lang: String,
    pub coverage: Coverage,
    pub questionnaire_title: String,
    pub questionnaire_id: String,
    /// The date the report was made, in the server's local time (passed in).
    pub made_on: String,
    pub literacy_threshold_percent: Option<u32>,
    pub literacy: LiteracyReport,
    /// Tie-aware sentence on the dimensions ([`wording::dimension_extremes`]).
    pub dimension_extremes: Option<String>,
    pub sample: Sample,
    pub weakest: Vec<ItemShare>,
    pub modules: Vec<ModuleResult>,
    /// Background indicators (training, examinations, protective equipment, insurance…).
    pub indicators: Vec<Indicator>,
    /// Health status (the questionnaire's scales outside the background and the test).
    pub health: Vec<Indicator>,
    pub recommendations: Vec<String>,
    /// The newest round beside the one before it, in the same scope and filter (no rows with
    /// fewer than two rounds).
    pub comparison: Comparison,
    /// The round whose reference levels are given: the compared current round when levels are
    /// entered for it, else the newest round with any ([`crate::references::current`]).
    pub references_round: Option<String>,
    pub references: Vec<ReferenceLevel>,
}

/// Everything the report needs to read.
pub struct Ask<'a> {
    pub storage: &'a dyn Storage,
    pub registry: &'a QuestionnaireRegistry,
    pub role: &'a Role,
    pub questionnaire_id: &'a str,
    /// Already narrowed by the role (a district's people see their district only).
    pub filter: &'a Filter,
    pub min_cell_n: u64,
    pub lang: &'a str,
    pub made_on: String,
}

/// Builds the annual report for what `ask.role` may read under `ask.filter`.
pub fn annual_report(ask: Ask<'_>) -> Result<AnnualReport, Refusal> {
    let Ask {
        storage,
        registry,
        role,
        questionnaire_id,
        filter,
        min_cell_n,
        lang,
        made_on,
    } = ask;
    let scope = role.scope();
    let labels = Labels::new(registry, questionnaire_id, lang);
    let comparison = comparison::compare(comparison::Ask {
        storage,
        registry,
        scope: &scope,
        questionnaire_id,
        filter,
        current: filter.round(),
        previous: None,
        min_cell_n,
        lang,
    })?;
    // A yearly report is of one round: when the selection holds several and none was asked
    // for, the newest (the comparison's current round); its figures come from its interviews.
    let report_filter;
    let filter = match (filter.round(), &comparison.current) {
        (None, Some(current)) if comparison.rounds.len() > 1 => {
            report_filter = Filter {
                round: Some(current.clone()),
                ..filter.clone()
            };
            &report_filter
        }
        _ => filter,
    };
    let literacy = analysis::literacy(
        storage,
        registry,
        &scope,
        questionnaire_id,
        filter,
        min_cell_n,
        lang,
    )?;
    let items = analysis::weakest_items(
        storage,
        registry,
        &scope,
        questionnaire_id,
        filter,
        min_cell_n,
        lang,
    )?;
    // the sample's counts are kept by district and population only: narrowed as far as they go
    let (counted, not_narrowed_by) = sample_scope(&scope, filter);
    let progress = analysis::progress(storage, &counted)?;
    let fieldwork = crate::fieldwork::fieldwork(storage, &counted)?;
    let backchecks =
        Some(crate::backcheck::agreement_table(&storage.backcheck_tasks(&counted)?).overall);
    // counted in the database: the queue itself may hold a large share of a million interviews
    let zhisu_server_storage::QcCounts { flagged, rejected } = storage.qc_counts(&counted)?;
    let newest = registry.newest(questionnaire_id);
    let questionnaire = newest.as_ref().map(|p| &p.questionnaire);
    let answered = Answered::count(storage, registry, &scope, questionnaire_id, filter)?;
    let (indicators, health) = match questionnaire {
        Some(q) => indicators(q, &answered, lang),
        None => (Vec::new(), Vec::new()),
    };
    let modules = questionnaire.map_or_else(Vec::new, |q| modules(q, &items, lang));
    let district_rows = literacy
        .breakdowns
        .iter()
        .find(|b| b.by == By::District)
        .map_or(0, |b| b.rows.len());
    let sample = Sample {
        sites_with_interviews: progress.sites.iter().filter(|s| s.done > 0).count(),
        districts_with_interviews: district_rows,
        progress,
        flagged,
        rejected,
        fieldwork,
        backchecks,
        not_narrowed_by: not_narrowed_by
            .into_iter()
            .map(|by| by.title(lang).to_string())
            .chain(filter.round().map(|_| t(lang, "轮次", "round").to_string()))
            .collect(),
    };
    let mut recommendations = recommendations(questionnaire, &items, &literacy, lang);
    // what outreach has reached so far, against the weak points (issue 24), in the role's scope
    let outreach =
        crate::outreach::coverage(storage, registry, role, questionnaire_id, min_cell_n, lang)?;
    recommendations.extend(crate::outreach::coverage_sentence(&outreach, lang));
    let levels = storage.reference_levels(Some(questionnaire_id))?;
    let (references_round, references) = match &comparison.current {
        Some(round) if levels.iter().any(|l| &l.round == round) => (
            Some(round.clone()),
            levels.into_iter().filter(|l| &l.round == round).collect(),
        ),
        _ => crate::references::current(&levels),
    };
    Ok(AnnualReport {
        round: filter.round().map(str::to_string),
        lang: lang.to_string(),
        coverage: wording::coverage(role, filter, &labels, lang),
        questionnaire_title: questionnaire.map_or_else(
            || questionnaire_id.to_string(),
            |q| q.title.get(lang, &q.default_language).to_string(),
        ),
        questionnaire_id: questionnaire_id.to_string(),
        made_on,
        literacy_threshold_percent: questionnaire.map(|q| q.literacy_threshold_percent),
        dimension_extremes: wording::dimension_extremes(&literacy.dimensions, lang),
        literacy,
        sample,
        weakest: items
            .iter()
            .filter(|i| !i.small)
            .take(WEAKEST_LISTED)
            .cloned()
            .collect(),
        modules,
        indicators,
        health,
        recommendations,
        comparison,
        references_round,
        references,
    })
}

/// The scope the sample section counts in, under `filter`: the plan's progress, the
/// quality-control queue and the contact outcomes are kept by district and population only, so a
/// district or population filter narrows the scope (one of them: a scope is a district or a set
/// of populations), and every other part of the filter is returned as not applied.
pub fn sample_scope(scope: &Scope, filter: &Filter) -> (Scope, Vec<By>) {
    let wanted = |by: By| filter.wanted(by).filter(|v| !v.is_empty());
    let mut not_applied: Vec<By> = [By::Industry, By::Sex, By::AgeBand, By::Education]
        .into_iter()
        .filter(|by| wanted(*by).is_some())
        .collect();
    let (district, population) = (wanted(By::District), wanted(By::Population));
    let narrowed = match scope {
        Scope::All => match (district, population) {
            (Some(d), p) => {
                if p.is_some() {
                    not_applied.insert(0, By::Population);
                }
                Scope::District(d.to_string())
            }
            (None, Some(p)) => Scope::Populations(vec![p.to_string()]),
            (None, None) => Scope::All,
        },
        Scope::District(d) => {
            if population.is_some() {
                not_applied.insert(0, By::Population);
            }
            Scope::District(d.clone())
        }
        Scope::Populations(ps) => {
            if district.is_some() {
                not_applied.insert(0, By::District);
            }
            match population {
                Some(p) if ps.iter().any(|q| q == p) => Scope::Populations(vec![p.to_string()]),
                _ => Scope::Populations(ps.clone()),
            }
        }
    };
    (narrowed, not_applied)
}

/// The outcomes of the measured items over the interviews in the report (not rejected, of this
/// questionnaire, within the scope and filter), by item id: answered, and counted. Read from
/// the facts ([`zhisu_server_storage::Facts::measures`], each interview's outcome by its own
/// version), never from the answers. (The server stores no screened-out contact: ingest refuses
/// an interview its questionnaire's eligibility rule ends, so there are no contact outcomes to
/// count.)
struct Answered {
    /// item id → (answered, counted)
    counts: BTreeMap<String, (u64, u64)>,
}

impl Answered {
    fn count(
        storage: &dyn Storage,
        registry: &QuestionnaireRegistry,
        scope: &zhisu_server_storage::Scope,
        questionnaire_id: &str,
        filter: &Filter,
    ) -> Result<Answered, StorageError> {
        // per version: its measured items' ids, in the order of the facts (None: unknown version)
        let mut versions: BTreeMap<String, Option<Vec<String>>> = BTreeMap::new();
        let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let round = filter.round();
        crate::analysis::visit_round_facts(storage, scope, questionnaire_id, round, &mut |row| {
            if !filter.matches(row) {
                return;
            }
            let ids = versions
                .entry(row.questionnaire_version.to_string())
                .or_insert_with(|| {
                    let own = registry.get(questionnaire_id, row.questionnaire_version)?;
                    Some(
                        own.questionnaire
                            .measured_items()
                            .iter()
                            .map(|m| m.item.id.clone())
                            .collect(),
                    )
                });
            let Some(ids) = ids else { return };
            for (mark, id) in row.measures.bytes().zip(ids.iter()) {
                if mark == b'-' {
                    continue;
                }
                let c = counts.entry(id.clone()).or_default();
                c.0 += 1;
                c.1 += u64::from(mark == b'1');
            }
        })?;
        Ok(Answered { counts })
    }
}

fn choice_label(q: &Questionnaire, item: &Item, key: &str, lang: &str) -> String {
    item.kind
        .choices()
        .iter()
        .find(|c| c.key == key)
        .map_or_else(
            || key.to_string(),
            |c| c.label.get(lang, &q.default_language).to_string(),
        )
}

/// An item the survey measures outside the test ([`zhisu_core::Measured`]: background yes/no
/// items, share "yes"; ordered scales, their last two choices), with its label and what is
/// counted in words ("是", "经常或总是"), since a scale may run either way.
pub struct Measure<'q> {
    pub item: &'q Item,
    pub label: String,
    /// What is counted, in words ("是", "经常或总是").
    pub counted: String,
    pub health: bool,
    measured: zhisu_core::Measured<'q>,
}

impl Measure<'_> {
    /// Whether `answer` counts (`Some(true)`), answers without counting (`Some(false)`), or is
    /// no answer to this measure (`None`: it is left out of the share).
    pub fn outcome(&self, answer: &AnswerValue) -> Option<bool> {
        self.measured.outcome(answer)
    }
}

/// The questionnaire's measures (see [`Measure`]), in its order.
pub fn measures<'q>(q: &'q Questionnaire, lang: &str) -> Vec<Measure<'q>> {
    q.measured_items()
        .into_iter()
        .map(|measured| {
            let item = measured.item;
            let counted = if measured.counted_keys.is_empty() {
                t(lang, "是", "yes").to_string()
            } else {
                measured
                    .counted_keys
                    .iter()
                    .map(|k| choice_label(q, item, k, lang))
                    .collect::<Vec<_>>()
                    .join(t(lang, "或", " or "))
            };
            Measure {
                item,
                label: item.label.get(lang, &q.default_language).to_string(),
                counted,
                health: measured.health,
                measured,
            }
        })
        .collect()
}

/// The measures as indicators and health status, counted over the report's answers.
fn indicators(
    q: &Questionnaire,
    answered: &Answered,
    lang: &str,
) -> (Vec<Indicator>, Vec<Indicator>) {
    let mut indicators = Vec::new();
    let mut health = Vec::new();
    for measure in measures(q, lang) {
        let (answered, yes) = answered
            .counts
            .get(&measure.item.id)
            .copied()
            .unwrap_or_default();
        let indicator = Indicator {
            item_id: measure.item.id.clone(),
            label: measure.label,
            counted: measure.counted,
            answered,
            yes,
        };
        if measure.health {
            health.push(indicator);
        } else {
            indicators.push(indicator);
        }
    }
    (indicators, health)
}

/// Each population module's share of correct answers, from the item shares.
fn modules(q: &Questionnaire, items: &[ItemShare], lang: &str) -> Vec<ModuleResult> {
    q.sections
        .iter()
        .filter_map(|section| {
            let module = section.module.as_ref()?;
            let in_module: Vec<&ItemShare> = items
                .iter()
                .filter(|share| {
                    q.item(&share.item_id)
                        .is_some_and(|i| i.section.as_deref() == Some(section.id.as_str()))
                })
                .collect();
            if in_module.is_empty() {
                return None;
            }
            Some(ModuleResult {
                title: section.title.get(lang, &q.default_language).to_string(),
                population: module.population.clone(),
                respondents: in_module.iter().map(|s| s.asked).max().unwrap_or(0),
                answers: in_module.iter().map(|s| s.asked).sum(),
                correct: in_module.iter().map(|s| s.correct).sum(),
                // the shares come lowest first
                weakest: in_module.first().map(|s| (*s).clone()),
            })
        })
        .collect()
}

/// Drafts for the editor: one per weakest item (with a reliable sample), saying what so few
/// knew and, from the questionnaire's explanation, what to teach; and one on the lowest
/// dimension(s). Marked as drafts in the document.
fn recommendations(
    q: Option<&Questionnaire>,
    items: &[ItemShare],
    literacy: &LiteracyReport,
    lang: &str,
) -> Vec<String> {
    let en = lang.starts_with("en");
    let mut out = Vec::new();
    let lowest = lowest_dimensions(&literacy.dimensions);
    if !lowest.is_empty() {
        let names: Vec<&str> = lowest.iter().map(|e| e.label.as_str()).collect();
        let level = wording::percent(lowest[0].proportion);
        out.push(if en {
            format!(
                "Give most room in training and health education to {} (literacy level {level}, the lowest of the dimensions).",
                names.join(" and ")
            )
        } else {
            format!(
                "把培训和健康教育的重点放在{}上（素养水平 {level}，为各维度最低）。",
                names.join("和")
            )
        });
    }
    for share in items.iter().filter(|s| !s.small).take(RECOMMENDATIONS) {
        let explanation = q
            .and_then(|q| {
                let item = q.item(&share.item_id)?;
                Some(
                    item.explanation
                        .as_ref()?
                        .get(lang, &q.default_language)
                        .to_string(),
                )
            })
            .unwrap_or_default();
        let pct = wording::percent(share.share);
        out.push(if en {
            format!(
                "Only {pct} answered \"{}\" correctly: explain it in workplace talks and leaflets. {explanation}",
                share.label
            )
        } else {
            format!(
                "只有 {pct} 的人答对“{}”，建议在宣讲和宣传材料中讲清楚：{explanation}",
                share.label
            )
        });
    }
    out
}

/// The dimensions at the lowest printed level (several when tied).
fn lowest_dimensions(dimensions: &[Estimate]) -> Vec<&Estimate> {
    let printed = |e: &Estimate| (e.proportion * 1000.0).round() as i64;
    let Some(min) = dimensions.iter().map(printed).min() else {
        return Vec::new();
    };
    if dimensions.iter().all(|e| printed(e) == min) {
        return Vec::new();
    }
    dimensions.iter().filter(|e| printed(e) == min).collect()
}

#[cfg(test)]
mod sample_scope_tests {
    use super::*;

    fn filter(district: Option<&str>, population: Option<&str>, sex: Option<&str>) -> Filter {
        Filter {
            district: district.map(str::to_string),
            population: population.map(str::to_string),
            sex: sex.map(str::to_string),
            ..Filter::default()
        }
    }

    #[test]
    fn a_district_or_population_filter_narrows_the_sample_and_the_rest_is_named() {
        let all = Scope::All;
        assert_eq!(
            sample_scope(&all, &filter(Some("yuzhong"), None, None)),
            (Scope::District("yuzhong".into()), vec![])
        );
        assert_eq!(
            sample_scope(&all, &filter(None, Some("teacher"), None)),
            (Scope::Populations(vec!["teacher".into()]), vec![])
        );
        assert_eq!(
            sample_scope(
                &all,
                &filter(Some("yuzhong"), Some("teacher"), Some("male"))
            ),
            (
                Scope::District("yuzhong".into()),
                vec![By::Population, By::Sex]
            )
        );
        // an empty value is no filter
        assert_eq!(
            sample_scope(&all, &filter(Some(""), None, None)),
            (Scope::All, vec![])
        );
        // a department's scope narrows to one of its populations, never to another
        let department = Scope::Populations(vec!["teacher".into(), "medical".into()]);
        assert_eq!(
            sample_scope(&department, &filter(None, Some("medical"), None)),
            (Scope::Populations(vec!["medical".into()]), vec![])
        );
        assert_eq!(
            sample_scope(
                &department,
                &filter(Some("yuzhong"), Some("sanitation"), None)
            ),
            (department.clone(), vec![By::District])
        );
        // a district's people stay in their district
        let district = Scope::District("yuzhong".into());
        assert_eq!(
            sample_scope(&district, &filter(Some("yuzhong"), Some("teacher"), None)),
            (district.clone(), vec![By::Population])
        );
    }
}
