//! Rounds side by side (`docs/statistics.md` §8): overall literacy and each dimension of the
//! current round beside the previous one, for one questionnaire (every version of it), in the
//! viewer's scope and filter, with the difference and its 95 % interval.
//!
//! An interview belongs to the round of the device that sent it (interviews carry their
//! questionnaire version, not a round; a device is enrolled for one round); one without a
//! device (a backup imported by hand) belongs to none and is counted apart. Each round is
//! estimated with the design of its own interviews ([`SampleDesign`] of the round, whatever
//! the scope): both rounds design-based when every interview of both in the selection has a
//! site with stratum and weight (then the difference of two independent design-based
//! estimates), otherwise both unweighted (then Newcombe's hybrid score interval).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use zhisu_server_storage::{FactRow, Scope, Storage};
use zhisu_stats::{design_difference, newcombe_difference, DifferenceMethod, Method};

use crate::analysis::{Domain, Estimate, Filter, Labels, SampleDesign};
use crate::{t, QuestionnaireRegistry, Refusal};

/// A round with interviews in the selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundSummary {
    pub round: String,
    /// Interviews of the round in the selection.
    pub n: u64,
    /// Whether every one of them has a site with stratum and weight.
    pub weighted: bool,
}

/// Whether the difference is beyond chance at 95 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The interval lies above 0.
    Rise,
    /// The interval lies below 0.
    Fall,
    /// The interval holds 0.
    NoClearChange,
}

impl Change {
    pub fn label(self, lang: &str) -> &'static str {
        match self {
            Change::Rise => t(lang, "上升", "rise"),
            Change::Fall => t(lang, "下降", "fall"),
            Change::NoClearChange => t(lang, "无明显变化", "no clear change"),
        }
    }
}

/// One measure (overall or a dimension) in both rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparedRow {
    /// Empty for overall literacy, else the dimension's id.
    pub key: String,
    pub label: String,
    pub current: Estimate,
    pub previous: Estimate,
    /// Current minus previous, as a share (0.05 = 5 percentage points).
    pub difference: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Design-based only.
    pub se: Option<f64>,
    pub df: Option<u64>,
    pub method: DifferenceMethod,
    pub change: Change,
}

/// The current round beside the previous one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub questionnaire_id: String,
    pub filter: Filter,
    /// Every round with interviews in the selection, oldest first (as versions order:
    /// `2025` before `2026`).
    pub rounds: Vec<RoundSummary>,
    /// The rounds compared: by default the newest and the one before it.
    pub current: Option<String>,
    pub previous: Option<String>,
    /// How the differences were estimated, and in words (`None` with fewer than two rounds).
    pub method: Option<DifferenceMethod>,
    pub method_note: String,
    /// Interviews in the selection that belong to no round (sent by no device).
    pub without_round: u64,
    pub min_cell_n: u64,
    /// Overall, then each dimension; empty with fewer than two rounds.
    pub rows: Vec<ComparedRow>,
}

/// One round being counted.
struct RoundTally {
    overall: Domain,
    dimensions: Vec<Domain>,
    sample: SampleDesign,
    n: u64,
    weighted: bool,
}

impl RoundTally {
    fn new(dimensions: usize) -> Self {
        RoundTally {
            overall: Domain::default(),
            dimensions: vec![Domain::default(); dimensions],
            sample: SampleDesign::default(),
            n: 0,
            weighted: true,
        }
    }
}

/// What [`compare`] is asked.
pub struct Ask<'a> {
    pub storage: &'a dyn Storage,
    pub registry: &'a QuestionnaireRegistry,
    pub scope: &'a Scope,
    pub questionnaire_id: &'a str,
    pub filter: &'a Filter,
    /// The rounds to compare, when not the newest two: (current, previous).
    pub current: Option<&'a str>,
    pub previous: Option<&'a str>,
    pub min_cell_n: u64,
    pub lang: &'a str,
}

/// The rounds side by side; a round asked for that has no interviews in the selection is
/// refused (`Invalid`).
pub fn compare(ask: Ask<'_>) -> Result<Comparison, Refusal> {
    let mut rounds = Rounds::new(&ask);
    ask.storage
        .visit_facts_with_round(ask.questionnaire_id, &mut |round, row| {
            rounds.add(&ask, round, row)
        })?;
    rounds.finish(&ask)
}

/// The rounds being counted, one interview at a time ([`compare`]; the estimates count them in
/// the same pass as their other tables).
pub(crate) struct Rounds {
    labels: Labels,
    dimensions: usize,
    rounds: HashMap<String, RoundTally>,
    without_round: u64,
}

impl Rounds {
    pub(crate) fn new(ask: &Ask<'_>) -> Rounds {
        let labels = Labels::new(ask.registry, ask.questionnaire_id, ask.lang);
        let dimensions = labels
            .dimensions
            .len()
            .min(zhisu_server_storage::facts::MAX_DIMENSIONS);
        Rounds {
            labels,
            dimensions,
            rounds: HashMap::new(),
            without_round: 0,
        }
    }

    /// One stored interview of the questionnaire (whatever the scope: every interview of a
    /// round is part of its design) and the round of the device that sent it.
    pub(crate) fn add(&mut self, ask: &Ask<'_>, round: Option<&str>, row: &FactRow<'_>) {
        let selected = ask.scope.admits(row.district, row.population) && ask.filter.matches(row);
        let Some(round) = round else {
            self.without_round += u64::from(selected);
            return;
        };
        let dimensions = self.dimensions;
        let tally = match self.rounds.get_mut(round) {
            Some(t) => t,
            None => self
                .rounds
                .entry(round.to_string())
                .or_insert_with(|| RoundTally::new(dimensions)),
        };
        // every interview of the round is part of its design, whatever the selection
        let design = tally
            .sample
            .cluster(row.district, row.site_id, row.stratum, row.weight);
        if !selected {
            return;
        }
        tally.n += 1;
        tally.weighted &= design.is_some();
        tally.overall.add(design, row.has_literacy);
        for (d, domain) in tally.dimensions.iter_mut().enumerate() {
            domain.add(design, row.dimension_literacy & (1 << d) != 0);
        }
    }

    /// The rounds side by side (see [`compare`]).
    pub(crate) fn finish(self, ask: &Ask<'_>) -> Result<Comparison, Refusal> {
        let Rounds {
            labels,
            dimensions,
            rounds,
            without_round,
        } = self;
        let mut names: Vec<String> = rounds
            .iter()
            .filter(|(_, t)| t.n > 0)
            .map(|(r, _)| r.clone())
            .collect();
        names.sort_by(|a, b| zhisu_core::compare_versions(a, b));
        let summaries = names
            .iter()
            .map(|r| RoundSummary {
                round: r.clone(),
                n: rounds[r].n,
                weighted: rounds[r].weighted,
            })
            .collect();
        let known = |asked: &str| -> Result<String, Refusal> {
            if names.iter().any(|r| r == asked) {
                Ok(asked.to_string())
            } else {
                Err(Refusal::Invalid(format!(
                    "round {asked:?} has no interviews in this selection; rounds with interviews: {}",
                    names.join(", ")
                )))
            }
        };
        let current = match ask.current.filter(|r| !r.is_empty()) {
            Some(r) => Some(known(r)?),
            None => names.last().cloned(),
        };
        let previous = match ask.previous.filter(|r| !r.is_empty()) {
            Some(r) => Some(known(r)?),
            None => current.as_ref().and_then(|c| {
                let i = names.iter().position(|r| r == c)?;
                i.checked_sub(1).map(|i| names[i].clone())
            }),
        };
        let mut out = Comparison {
            questionnaire_id: ask.questionnaire_id.to_string(),
            filter: ask.filter.clone(),
            rounds: summaries,
            current: current.clone(),
            previous: previous.clone(),
            method: None,
            method_note: String::new(),
            without_round,
            min_cell_n: ask.min_cell_n,
            rows: Vec::new(),
        };
        let (Some(current), Some(previous)) = (current, previous) else {
            return Ok(out);
        };
        if current == previous {
            return Err(Refusal::Invalid("compare two different rounds".to_string()));
        }
        let (now, before) = (&rounds[&current], &rounds[&previous]);
        let method = if now.weighted && before.weighted {
            Method::DesignTaylor
        } else {
            Method::UnweightedWilson
        };
        let measures = std::iter::once((
            String::new(),
            labels.all.clone(),
            &now.overall,
            &before.overall,
        ))
        .chain(labels.dimensions.iter().take(dimensions).enumerate().map(
            |(i, (key, label))| {
                (
                    key.clone(),
                    label.clone(),
                    &now.dimensions[i],
                    &before.dimensions[i],
                )
            },
        ));
        for (key, label, a, b) in measures {
            let estimate = |d: &Domain, tally: &RoundTally, method| {
                d.estimate(&key, label.clone(), method, &tally.sample, ask.min_cell_n)
            };
            let (Some(mut e1), Some(mut e2)) =
                (estimate(a, now, method), estimate(b, before, method))
            else {
                continue;
            };
            let difference = match (e1.method, e2.method, e1.df, e2.df) {
                (Method::DesignTaylor, Method::DesignTaylor, Some(df1), Some(df2)) => {
                    design_difference((e1.proportion, e1.se, df1), (e2.proportion, e2.se, df2))
                }
                _ => {
                    // compared unweighted: both figures shown as such
                    e1 = estimate(a, now, Method::UnweightedWilson).expect("not empty");
                    e2 = estimate(b, before, Method::UnweightedWilson).expect("not empty");
                    newcombe_difference((e1.successes, e1.n), (e2.successes, e2.n))
                        .expect("both rounds have interviews")
                }
            };
            let (low, high) = (difference.interval.low, difference.interval.high);
            out.rows.push(ComparedRow {
                key,
                label,
                current: e1,
                previous: e2,
                difference: difference.difference,
                ci_low: low,
                ci_high: high,
                se: difference.se,
                df: difference.df,
                method: difference.method,
                change: if low > 0.0 {
                    Change::Rise
                } else if high < 0.0 {
                    Change::Fall
                } else {
                    Change::NoClearChange
                },
            });
        }
        let methods: Vec<DifferenceMethod> = out.rows.iter().map(|r| r.method).collect();
        out.method = methods.first().copied();
        out.method_note = out
            .method
            .map(|m| m.describe(ask.lang).to_string())
            .unwrap_or_default();
        Ok(out)
    }
}
