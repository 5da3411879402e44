//! Literacy analysis for the dashboard and the reports: levels overall, per dimension and per
//! population, industry, district, sex, age band and education band, each with its 95 %
//! interval and sample size; the weakest items; progress against the quotas.
//!
//! Literacy comes from the literacy cells ([`cells`], [`Storage::visit_cells`]: counts per
//! site, population and breakdown key) when the filter narrows by district and population only,
//! and otherwise from one pass over the stored facts ([`Storage::visit_facts`]); both give the
//! same figures (tested). Keys interned to small integers, one accumulator per domain. Progress
//! reads the progress cells. Design-based estimates (Taylor linearisation, `zhisu-stats`)
//! when every interview in the selection comes from a site with a stratum and a weight in the
//! round's sample plan; unweighted proportions with Wilson intervals otherwise. The method is
//! reported with every figure. Rejected interviews never count.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use zhisu_core::BackgroundRole;
use zhisu_stats::{ClusterRegistry, Counts, DesignAccumulator, Interval, Method};

use zhisu_core::age_band;
use zhisu_server_storage::cells::{self, CellRow};
use zhisu_server_storage::{FactRow, Scope, Storage, StorageError};

use crate::QuestionnaireRegistry;

/// The questionnaire the dashboard analyses unless told otherwise.
pub const DEFAULT_QUESTIONNAIRE: &str = "ohl_2026";

/// What a breakdown groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    Population,
    Industry,
    District,
    Sex,
    AgeBand,
    Education,
}

impl By {
    pub const ALL: [By; 6] = [
        By::Population,
        By::Industry,
        By::District,
        By::Sex,
        By::AgeBand,
        By::Education,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            By::Population => "population",
            By::Industry => "industry",
            By::District => "district",
            By::Sex => "sex",
            By::AgeBand => "age_band",
            By::Education => "education",
        }
    }

    pub fn title(self, lang: &str) -> &'static str {
        let en = lang.starts_with("en");
        match (self, en) {
            (By::Population, false) => "重点人群",
            (By::Population, true) => "Key population",
            (By::Industry, false) => "行业",
            (By::Industry, true) => "Industry",
            (By::District, false) => "区县",
            (By::District, true) => "District",
            (By::Sex, false) => "性别",
            (By::Sex, true) => "Sex",
            (By::AgeBand, false) => "年龄组",
            (By::AgeBand, true) => "Age band",
            (By::Education, false) => "文化程度",
            (By::Education, true) => "Education",
        }
    }

    /// The background role whose answers this breakdown groups by (`None` for districts,
    /// which come from the device; age bands group the `age` role's answers).
    pub fn role(self) -> Option<BackgroundRole> {
        match self {
            By::Population => Some(BackgroundRole::Population),
            By::Industry => Some(BackgroundRole::Industry),
            By::Sex => Some(BackgroundRole::Sex),
            By::Education => Some(BackgroundRole::Education),
            By::AgeBand => Some(BackgroundRole::Age),
            By::District => None,
        }
    }

    fn key<'a>(self, row: &FactRow<'a>) -> Option<&'a str> {
        match self {
            By::Population => row.population,
            By::Industry => row.industry,
            By::District => row.district,
            By::Sex => row.sex,
            By::AgeBand => row.age.and_then(age_band),
            By::Education => row.education,
        }
    }
}

/// Narrows the interviews analysed (within the viewer's scope).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_band: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub education: Option<String>,
    /// One round only (the round of the device that sent each interview): every figure, and
    /// the sample design behind it, from that round's interviews. None or empty: every round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<String>,
}

/// Calls `visit` with the facts of every analysed interview of `questionnaire_id` that `scope`
/// may read, of `round` only when one is given (the round of the device that sent it; an
/// interview without a device belongs to none), else of every round.
pub fn visit_round_facts(
    storage: &dyn Storage,
    scope: &Scope,
    questionnaire_id: &str,
    round: Option<&str>,
    visit: &mut dyn FnMut(&FactRow<'_>),
) -> Result<(), StorageError> {
    match round.filter(|r| !r.is_empty()) {
        None => storage.visit_facts(scope, questionnaire_id, visit),
        Some(round) => storage.visit_facts_with_round(questionnaire_id, &mut |r, row| {
            if r == Some(round) && scope.admits(row.district, row.population) {
                visit(row);
            }
        }),
    }
}

impl Filter {
    /// The round asked for, if any.
    pub fn round(&self) -> Option<&str> {
        self.round.as_deref().filter(|r| !r.is_empty())
    }

    /// Whether an interview of `round` (the round of the device that sent it) passes the
    /// filter's round.
    pub fn admits_round(&self, round: Option<&str>) -> bool {
        self.round().is_none_or(|want| round == Some(want))
    }

    /// The value this filter wants for `by`, if any.
    pub fn wanted(&self, by: By) -> Option<&str> {
        match by {
            By::Population => self.population.as_deref(),
            By::Industry => self.industry.as_deref(),
            By::District => self.district.as_deref(),
            By::Sex => self.sex.as_deref(),
            By::AgeBand => self.age_band.as_deref(),
            By::Education => self.education.as_deref(),
        }
    }

    pub fn matches(&self, row: &FactRow<'_>) -> bool {
        self.admits(|by| by.key(row))
    }

    /// Whether an interview whose value for each breakdown is `value(by)` passes the filter:
    /// the one rule for reports and exports alike.
    pub fn admits<'a>(&self, value: impl Fn(By) -> Option<&'a str>) -> bool {
        By::ALL.into_iter().all(|by| match self.wanted(by) {
            None | Some("") => true,
            Some(want) => value(by) == Some(want),
        })
    }

    /// Whether the literacy cells can answer a report under this filter: it narrows by
    /// district and population only (the cells' own columns).
    pub fn cells_can_answer(&self) -> bool {
        // the cells count every round together
        self.round().is_none()
            && By::ALL.into_iter().all(|by| {
                matches!(by, By::Population | By::District)
                    || self.wanted(by).is_none_or(str::is_empty)
            })
    }

    /// Whether a cell's interviews pass the filter (only for a filter the cells can answer).
    fn matches_cell(&self, cell: &CellRow<'_>) -> bool {
        self.matches_place(cell.district, cell.population)
    }

    /// Whether interviews of `district` and `population` pass the filter (only for a filter
    /// the cells can answer: it narrows by nothing else).
    fn matches_place(&self, district: Option<&str>, population: Option<&str>) -> bool {
        let pass = |want: Option<&str>, have: Option<&str>| match want {
            None | Some("") => true,
            Some(want) => have == Some(want),
        };
        pass(self.population.as_deref(), population) && pass(self.district.as_deref(), district)
    }

    pub fn is_empty(&self) -> bool {
        self.round().is_none()
            && By::ALL
                .into_iter()
                .all(|by| self.wanted(by).is_none_or(str::is_empty))
    }
}

/// One literacy figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The domain's key (`teacher`, `law`, `yuzhong`…); empty for the whole selection.
    pub key: String,
    pub label: String,
    /// Interviews in the domain and how many of them have literacy (unweighted counts).
    pub n: u64,
    pub successes: u64,
    /// The level (share with literacy), and its 95 % interval, by `method`.
    pub proportion: f64,
    pub interval: Interval,
    pub method: Method,
    /// Standard error of `proportion`: the square root of the linearised with-replacement
    /// variance for design-based figures, the binomial `√(p(1−p)/n)` for unweighted ones (whose
    /// interval is Wilson's, not `p ± z·se`).
    #[serde(default)]
    pub se: f64,
    /// Degrees of freedom of the t quantile (clusters − strata holding domain members), for
    /// design-based figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub df: Option<u64>,
    /// Design effect, for design-based figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deff: Option<f64>,
    /// n below the minimum for a reliable figure: shown, and marked.
    pub small: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    pub by: By,
    pub title: String,
    pub rows: Vec<Estimate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiteracyReport {
    pub questionnaire_id: String,
    pub filter: Filter,
    pub method: Method,
    pub method_note: String,
    pub min_cell_n: u64,
    /// Interviews counted without a weight: no site, or a site without a stratum and weight
    /// in the sample plan (a site the plan does not list is flagged `site_not_in_plan` at
    /// ingest). One is enough for the whole report to fall back to unweighted figures.
    #[serde(default)]
    pub unweighted_interviews: u64,
    pub overall: Option<Estimate>,
    pub dimensions: Vec<Estimate>,
    pub breakdowns: Vec<Breakdown>,
}

/// Interned keys of one breakdown.
#[derive(Default)]
struct Keys {
    index: foldhash::HashMap<String, u32>,
    names: Vec<String>,
}

impl Keys {
    fn id(&mut self, key: &str) -> u32 {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        let i = self.names.len() as u32;
        self.index.insert(key.to_string(), i);
        self.names.push(key.to_string());
        i
    }
}

/// Accumulates one domain both ways; which one is reported is decided at the end
/// ([`Domain::estimate`]).
#[derive(Default, Clone)]
pub struct Domain {
    counts: Counts,
    design: DesignAccumulator,
}

/// Where a respondent stands in the sample design: (stratum, cluster, weight), from
/// [`SampleDesign::cluster`]; `None` without a design.
pub type Placed = Option<(u32, u32, f64)>;

impl Domain {
    /// One member of the domain, with the outcome `y`.
    pub fn add(&mut self, cluster: Placed, y: bool) {
        self.counts.add(y);
        if let Some((stratum, cluster, weight)) = cluster {
            self.design.observe(stratum, cluster, weight, true, y);
        }
    }

    /// `n` members and `successes` of them with the outcome (either may be 0: a dimension's
    /// successes come apart from its members).
    fn add_counts(&mut self, cluster: Placed, n: u64, successes: u64) {
        self.counts.n += n;
        self.counts.successes += successes;
        if let Some((stratum, cluster, weight)) = cluster {
            self.design
                .observe_counts(stratum, cluster, weight, n, successes);
        }
    }
}

impl Domain {
    /// The domain's figure as the reports give it: design-based when `method` is, against
    /// every cluster of the sample (`sample`), else (or when the design gives nothing)
    /// unweighted with a Wilson interval; `None` for an empty domain. At a share of 0 or 1 the
    /// linearised interval collapses to a point: Wilson's is kept.
    pub fn estimate(
        &self,
        key: &str,
        label: String,
        method: Method,
        sample: &SampleDesign,
        min_cell_n: u64,
    ) -> Option<Estimate> {
        let unweighted = self.counts.estimate()?;
        let small = !zhisu_stats::is_reliable(unweighted.n, min_cell_n);
        let mut e = Estimate {
            key: key.to_string(),
            label,
            n: unweighted.n,
            successes: unweighted.successes,
            proportion: unweighted.proportion,
            interval: unweighted.interval,
            method: Method::UnweightedWilson,
            se: binomial_se(unweighted.proportion, unweighted.n),
            df: None,
            deff: None,
            small,
        };
        if method == Method::DesignTaylor {
            if let Some(design) = self.design.estimate_with(&sample.registry) {
                e.proportion = design.proportion;
                if design.se > 0.0 {
                    e.interval = design.interval;
                }
                e.se = design.se;
                e.df = Some(design.df);
                e.deff = design.deff;
                e.method = Method::DesignTaylor;
            }
        }
        Some(e)
    }
}

/// Every cluster (site) of a questionnaire's sample, with strata and clusters interned to
/// small integers: a domain estimate needs the whole sample's design, whatever the domain
/// (docs/statistics.md).
#[derive(Default)]
pub struct SampleDesign {
    registry: ClusterRegistry,
    strata: Keys,
    clusters: Keys,
    cluster_key: String,
    /// The last site placed (district, site, stratum, weight's bits) and where: interviews
    /// come in runs from one site, and comparing is cheaper than hashing.
    last: Option<LastSite>,
}

/// District, site, stratum, the weight's bits, and the site's stratum, cluster and weight.
type LastSite = (String, String, String, u64, (u32, u32, f64));

impl SampleDesign {
    /// The sites of every counted interview of `questionnaire_id`, whatever the scope, from the
    /// literacy cells.
    pub fn of_sample(
        storage: &dyn Storage,
        questionnaire_id: &str,
    ) -> Result<SampleDesign, StorageError> {
        let mut sample = SampleDesign::default();
        storage.visit_cells(questionnaire_id, &mut |cell| {
            sample.cluster(cell.district, cell.site_id, cell.stratum, cell.weight);
        })?;
        Ok(sample)
    }

    /// The sites of every counted interview of `questionnaire_id` in `round` (whatever the
    /// scope), or of every round when `round` is `None` ([`SampleDesign::of_sample`]).
    pub fn of_round(
        storage: &dyn Storage,
        questionnaire_id: &str,
        round: Option<&str>,
    ) -> Result<SampleDesign, StorageError> {
        let Some(round) = round.filter(|r| !r.is_empty()) else {
            return SampleDesign::of_sample(storage, questionnaire_id);
        };
        let mut sample = SampleDesign::default();
        visit_round_facts(
            storage,
            &Scope::All,
            questionnaire_id,
            Some(round),
            &mut |row| {
                sample.cluster(row.district, row.site_id, row.stratum, row.weight);
            },
        )?;
        Ok(sample)
    }

    /// The stratum, cluster and weight of a site, registering the cluster as part of the
    /// sample; `None` when the site lacks a stratum or a usable weight.
    pub fn cluster(
        &mut self,
        district: Option<&str>,
        site: Option<&str>,
        stratum: Option<&str>,
        weight: Option<f64>,
    ) -> Placed {
        match (stratum, weight, site) {
            (Some(stratum), Some(weight), Some(site)) if weight.is_finite() && weight >= 0.0 => {
                let district = district.unwrap_or("");
                if let Some((d, st, sr, w, placed)) = &self.last {
                    if d == district && st == site && sr == stratum && *w == weight.to_bits() {
                        return Some(*placed);
                    }
                }
                self.cluster_key.clear();
                self.cluster_key.push_str(district);
                self.cluster_key.push('\u{1f}');
                self.cluster_key.push_str(site);
                let s = self.strata.id(stratum);
                let c = self.clusters.id(&self.cluster_key);
                self.registry.register(s, c);
                match &mut self.last {
                    Some((d, st, sr, w, placed)) => {
                        d.clear();
                        d.push_str(district);
                        st.clear();
                        st.push_str(site);
                        sr.clear();
                        sr.push_str(stratum);
                        *w = weight.to_bits();
                        *placed = (s, c, weight);
                    }
                    None => {
                        self.last = Some((
                            district.to_string(),
                            site.to_string(),
                            stratum.to_string(),
                            weight.to_bits(),
                            (s, c, weight),
                        ))
                    }
                }
                Some((s, c, weight))
            }
            _ => None,
        }
    }
}

/// Everything one report accumulates, from interviews or from literacy cells.
struct Tally {
    overall: Domain,
    per_dimension: Vec<Domain>,
    keys: Vec<Keys>,
    domains: Vec<Vec<Domain>>,
    sample: SampleDesign,
    all_weighted: bool,
    /// Interviews counted without a design (no site, stratum or weight).
    unweighted: u64,
}

impl Tally {
    fn new(dimensions: usize) -> Self {
        Tally {
            overall: Domain::default(),
            per_dimension: vec![Domain::default(); dimensions],
            keys: By::ALL.iter().map(|_| Keys::default()).collect(),
            domains: By::ALL.iter().map(|_| Vec::new()).collect(),
            sample: SampleDesign::default(),
            all_weighted: true,
            unweighted: 0,
        }
    }

    fn design(
        &mut self,
        district: Option<&str>,
        site: Option<&str>,
        stratum: Option<&str>,
        weight: Option<f64>,
    ) -> Placed {
        self.sample.cluster(district, site, stratum, weight)
    }

    fn domain(&mut self, by: By, key: &str) -> &mut Domain {
        // the breakdowns are kept in the order of `By::ALL`, which `report` reads them in
        let b = By::ALL
            .iter()
            .position(|&x| x == by)
            .expect("every breakdown is in By::ALL");
        let i = self.keys[b].id(key) as usize;
        if i == self.domains[b].len() {
            self.domains[b].push(Domain::default());
        }
        &mut self.domains[b][i]
    }

    /// One interview in the viewer's scope and the filter.
    fn add_interview(&mut self, design: Placed, row: &FactRow<'_>) {
        if design.is_none() {
            self.all_weighted = false;
            self.unweighted += 1;
        }
        self.overall.add(design, row.has_literacy);
        for (d, domain) in self.per_dimension.iter_mut().enumerate() {
            domain.add(design, row.dimension_literacy & (1 << d) != 0);
        }
        for by in By::ALL {
            if let Some(key) = by.key(row) {
                self.domain(by, key).add(design, row.has_literacy);
            }
        }
    }

    /// One literacy cell in the viewer's scope and the filter.
    fn add_cell(&mut self, design: Placed, cell: &CellRow<'_>) {
        let (n, successes) = (cell.n, cell.successes);
        let by = match cell.breakdown {
            cells::ALL => {
                if design.is_none() {
                    self.all_weighted = false;
                    self.unweighted += n;
                }
                self.overall.add_counts(design, n, successes);
                // every dimension's domain is the whole cell; its successes come in its own row
                for domain in &mut self.per_dimension {
                    domain.add_counts(design, n, 0);
                }
                if let Some(p) = cell.population {
                    self.domain(By::Population, p)
                        .add_counts(design, n, successes);
                }
                if let Some(d) = cell.district {
                    self.domain(By::District, d)
                        .add_counts(design, n, successes);
                }
                return;
            }
            cells::DIMENSION => {
                if let Some(domain) = cell
                    .key
                    .parse::<usize>()
                    .ok()
                    .and_then(|d| self.per_dimension.get_mut(d))
                {
                    domain.add_counts(design, 0, successes);
                }
                return;
            }
            cells::INDUSTRY => By::Industry,
            cells::SEX => By::Sex,
            cells::AGE_BAND => By::AgeBand,
            cells::EDUCATION => By::Education,
            _ => return,
        };
        self.domain(by, cell.key).add_counts(design, n, successes);
    }
}

/// Builds the literacy report of `questionnaire_id` for what `scope` may read, narrowed by
/// `filter`. Reads the literacy cells ([`cells`]) when the filter narrows by district
/// and population only (the full report, and what district and department viewers open), and
/// every interview otherwise; both give the same figures.
pub fn literacy(
    storage: &dyn Storage,
    registry: &QuestionnaireRegistry,
    scope: &Scope,
    questionnaire_id: &str,
    filter: &Filter,
    min_cell_n: u64,
    lang: &str,
) -> Result<LiteracyReport, StorageError> {
    let ask = (storage, registry, scope, questionnaire_id, filter);
    literacy_with(ask, min_cell_n, lang, filter.cells_can_answer())
}

/// [`literacy`] from every interview, whatever the filter (the reference the cells are tested
/// and benchmarked against).
pub fn literacy_from_interviews(
    storage: &dyn Storage,
    registry: &QuestionnaireRegistry,
    scope: &Scope,
    questionnaire_id: &str,
    filter: &Filter,
    min_cell_n: u64,
    lang: &str,
) -> Result<LiteracyReport, StorageError> {
    let ask = (storage, registry, scope, questionnaire_id, filter);
    literacy_with(ask, min_cell_n, lang, false)
}

type Ask<'a> = (
    &'a dyn Storage,
    &'a QuestionnaireRegistry,
    &'a Scope,
    &'a str,
    &'a Filter,
);

fn literacy_with(
    (storage, registry, scope, questionnaire_id, filter): Ask<'_>,
    min_cell_n: u64,
    lang: &str,
    from_cells: bool,
) -> Result<LiteracyReport, StorageError> {
    let labels = Labels::new(registry, questionnaire_id, lang);
    let mut tally = Tally::new(
        labels
            .dimensions
            .len()
            .min(zhisu_server_storage::facts::MAX_DIMENSIONS),
    );
    if from_cells {
        storage.visit_cells(questionnaire_id, &mut |cell| {
            // every site of the sample is part of the design, whatever the domain
            let design = tally.design(cell.district, cell.site_id, cell.stratum, cell.weight);
            if scope.admits(cell.district, cell.population) && filter.matches_cell(cell) {
                tally.add_cell(design, cell);
            }
        })?;
    } else {
        literacy_scan(storage, scope, questionnaire_id, filter, &mut tally)?;
    }
    Ok(report(
        tally,
        &labels,
        questionnaire_id,
        filter,
        min_cell_n,
        lang,
    ))
}

fn literacy_scan(
    storage: &dyn Storage,
    scope: &Scope,
    questionnaire_id: &str,
    filter: &Filter,
    tally: &mut Tally,
) -> Result<(), StorageError> {
    // Every interview of the questionnaire is read, whatever the scope and filter: a domain
    // estimate needs the whole sample's design (every sampled cluster of every stratum, with
    // or without members of the domain; docs/statistics.md). Only the interviews in the
    // viewer's scope and the filter are counted.
    // With a round asked for, that round is the survey: its interviews are the sample.
    visit_round_facts(
        storage,
        &Scope::All,
        questionnaire_id,
        filter.round(),
        &mut |row| {
            let design = tally.design(row.district, row.site_id, row.stratum, row.weight);
            if scope.admits(row.district, row.population) && filter.matches(row) {
                tally.add_interview(design, row);
            }
        },
    )
}

fn report(
    tally: Tally,
    labels: &Labels,
    questionnaire_id: &str,
    filter: &Filter,
    min_cell_n: u64,
    lang: &str,
) -> LiteracyReport {
    let method = if tally.all_weighted && tally.overall.counts.n > 0 {
        Method::DesignTaylor
    } else {
        Method::UnweightedWilson
    };
    let finish = |key: &str, label: String, d: &Domain| -> Option<Estimate> {
        d.estimate(key, label, method, &tally.sample, min_cell_n)
    };
    let overall_estimate = finish("", labels.all.clone(), &tally.overall);
    let dimension_estimates = tally
        .per_dimension
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let (key, label) = &labels.dimensions[i];
            finish(key, label.clone(), d)
        })
        .collect();
    let breakdowns = By::ALL
        .into_iter()
        .enumerate()
        .map(|(b, by)| {
            let mut rows: Vec<Estimate> = tally.keys[b]
                .names
                .iter()
                .zip(&tally.domains[b])
                .filter_map(|(key, d)| finish(key, labels.label(by, key), d))
                .collect();
            rows.sort_by_key(|a| labels.order(by, &a.key));
            Breakdown {
                by,
                title: by.title(lang).to_string(),
                rows,
            }
        })
        .collect();
    LiteracyReport {
        questionnaire_id: questionnaire_id.to_string(),
        filter: filter.clone(),
        method,
        method_note: method.describe(lang).to_string(),
        min_cell_n,
        unweighted_interviews: tally.unweighted,
        overall: overall_estimate,
        dimensions: dimension_estimates,
        breakdowns,
    }
}

/// The standard error of an unweighted proportion, `√(p(1−p)/n)` (0 for `n = 0`).
pub fn binomial_se(p: f64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        (p * (1.0 - p) / n as f64).sqrt()
    }
}

/// One item's share answered correctly, among those who were asked it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemShare {
    pub item_id: String,
    pub label: String,
    pub dimension: String,
    pub asked: u64,
    pub correct: u64,
    pub share: f64,
    pub interval: Interval,
    pub small: bool,
}

/// Scored items ranked by the share answered correctly, lowest first, within the filter.
/// Reads the item cells ([`cells`]) when the filter narrows by district and population only
/// (what the tablets' weak points, a district's viewer and the unfiltered page ask), else every
/// interview's facts.
pub fn weakest_items(
    storage: &dyn Storage,
    registry: &QuestionnaireRegistry,
    scope: &Scope,
    questionnaire_id: &str,
    filter: &Filter,
    min_cell_n: u64,
    lang: &str,
) -> Result<Vec<ItemShare>, StorageError> {
    let from_cells = filter.cells_can_answer();
    weakest_items_with(
        storage,
        registry,
        scope,
        questionnaire_id,
        filter,
        min_cell_n,
        lang,
        from_cells,
    )
}

/// [`weakest_items`] from every interview's facts, whatever the filter (the reference the
/// item cells are tested against).
pub fn weakest_items_from_facts(
    storage: &dyn Storage,
    registry: &QuestionnaireRegistry,
    scope: &Scope,
    questionnaire_id: &str,
    filter: &Filter,
    min_cell_n: u64,
    lang: &str,
) -> Result<Vec<ItemShare>, StorageError> {
    weakest_items_with(
        storage,
        registry,
        scope,
        questionnaire_id,
        filter,
        min_cell_n,
        lang,
        false,
    )
}

#[allow(clippy::too_many_arguments)]
fn weakest_items_with(
    storage: &dyn Storage,
    registry: &QuestionnaireRegistry,
    scope: &Scope,
    questionnaire_id: &str,
    filter: &Filter,
    min_cell_n: u64,
    lang: &str,
    from_cells: bool,
) -> Result<Vec<ItemShare>, StorageError> {
    let mut versions: ItemCounts = HashMap::new();
    if from_cells {
        storage.visit_item_cells(questionnaire_id, &mut |cell| {
            if !scope.admits(cell.district, cell.population)
                || !filter.matches_place(cell.district, cell.population)
            {
                return;
            }
            let len = cell.asked.len().min(cell.correct.len());
            let counts = item_slots(&mut versions, cell.questionnaire_version, len);
            for ((slot, &asked), &correct) in counts.iter_mut().zip(cell.asked).zip(cell.correct) {
                slot.0 += asked;
                slot.1 += correct;
            }
        })?;
        return Ok(rank_items(
            versions,
            registry,
            questionnaire_id,
            min_cell_n,
            lang,
        ));
    }
    // Shares of items are unweighted: only the interviews in the selection are needed, so a
    // filter by district or population narrows the query itself (its index) when the viewer's
    // scope does not already.
    let narrowed = match (
        scope,
        filter.district.as_deref(),
        filter.population.as_deref(),
    ) {
        (Scope::All, Some(d), _) if !d.is_empty() => Scope::District(d.to_string()),
        (Scope::All, _, Some(p)) if !p.is_empty() => Scope::Populations(vec![p.to_string()]),
        _ => scope.clone(),
    };
    visit_round_facts(
        storage,
        &narrowed,
        questionnaire_id,
        filter.round(),
        &mut |row| {
            if !scope.admits(row.district, row.population) || !filter.matches(row) {
                return;
            }
            let bytes = row.items_correct.as_bytes();
            let counts = item_slots(&mut versions, row.questionnaire_version, bytes.len());
            for (slot, b) in counts.iter_mut().zip(bytes) {
                match b {
                    b'1' => {
                        slot.0 += 1;
                        slot.1 += 1;
                    }
                    b'0' => slot.0 += 1,
                    _ => {}
                }
            }
        },
    )?;
    Ok(rank_items(
        versions,
        registry,
        questionnaire_id,
        min_cell_n,
        lang,
    ))
}

/// Per questionnaire version: (asked, correct) per scored-item position.
type ItemCounts = HashMap<String, Vec<(u64, u64)>>;

/// The counts of `version`, at least `len` long.
fn item_slots<'m>(
    versions: &'m mut ItemCounts,
    version: &str,
    len: usize,
) -> &'m mut Vec<(u64, u64)> {
    if !versions.contains_key(version) {
        versions.insert(version.to_string(), Vec::new());
    }
    let counts = versions.get_mut(version).expect("just inserted");
    if counts.len() < len {
        counts.resize(len, (0, 0));
    }
    counts
}

/// Items by id across versions (each version's counts by scored-item position), ranked by
/// the share answered correctly, lowest first.
fn rank_items(
    versions: ItemCounts,
    registry: &QuestionnaireRegistry,
    questionnaire_id: &str,
    min_cell_n: u64,
    lang: &str,
) -> Vec<ItemShare> {
    let mut by_item: BTreeMap<String, (String, String, u64, u64)> = BTreeMap::new();
    for (version, counts) in versions {
        let Some(published) = registry.get(questionnaire_id, &version) else {
            continue;
        };
        let q = &published.questionnaire;
        let scored = q.items.iter().filter(|i| i.scoring.is_some());
        for (item, (asked, correct)) in scored.zip(counts) {
            let entry = by_item.entry(item.id.clone()).or_insert_with(|| {
                (
                    item.label.get(lang, &q.default_language).to_string(),
                    item.scoring
                        .as_ref()
                        .map(|s| s.dimension.clone())
                        .unwrap_or_default(),
                    0,
                    0,
                )
            });
            entry.2 += asked;
            entry.3 += correct;
        }
    }
    let mut items: Vec<ItemShare> = by_item
        .into_iter()
        .filter(|(_, v)| v.2 > 0)
        .map(|(item_id, (label, dimension, asked, correct))| ItemShare {
            item_id,
            label,
            dimension,
            asked,
            correct,
            share: correct as f64 / asked as f64,
            interval: zhisu_stats::wilson(correct, asked, zhisu_stats::Z95).expect("asked > 0"),
            small: !zhisu_stats::is_reliable(asked, min_cell_n),
        })
        .collect();
    items.sort_by(|a, b| {
        a.share
            .total_cmp(&b.share)
            .then_with(|| a.item_id.cmp(&b.item_id))
    });
    items
}

/// Labels for keys, from the newest version of the questionnaire.
pub struct Labels {
    questionnaire: Option<std::sync::Arc<crate::questionnaires::Published>>,
    lang: String,
    pub all: String,
    /// (id, label) of each dimension, in order.
    pub dimensions: Vec<(String, String)>,
}

impl Labels {
    pub fn new(registry: &QuestionnaireRegistry, questionnaire_id: &str, lang: &str) -> Self {
        let questionnaire = registry.newest(questionnaire_id);
        let dimensions = questionnaire
            .as_ref()
            .map(|p| {
                let q = &p.questionnaire;
                q.dimensions
                    .iter()
                    .map(|d| {
                        (
                            d.id.clone(),
                            d.label.get(lang, &q.default_language).to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Labels {
            questionnaire,
            lang: lang.to_string(),
            all: if lang.starts_with("en") {
                "All".into()
            } else {
                "合计".into()
            },
            dimensions,
        }
    }

    /// The item whose choices label a breakdown's keys (`None` for districts and age bands).
    fn item(&self, by: By) -> Option<&zhisu_core::Item> {
        if by == By::AgeBand {
            return None;
        }
        let q = &self.questionnaire.as_ref()?.questionnaire;
        q.background_item(by.role()?)
    }

    fn choice(&self, by: By, key: &str) -> Option<(usize, String)> {
        let q = &self.questionnaire.as_ref()?.questionnaire;
        let choices = self.item(by)?.kind.choices();
        choices.iter().enumerate().find_map(|(i, c)| {
            (c.key == key).then(|| (i, c.label.get(&self.lang, &q.default_language).to_string()))
        })
    }

    /// The label of a key of a breakdown: a district's name, a choice's label (the key itself
    /// when neither is known).
    pub fn label(&self, by: By, key: &str) -> String {
        if by == By::District {
            return crate::districts::district_name(key, &self.lang);
        }
        self.choice(by, key)
            .map(|(_, l)| l)
            .unwrap_or_else(|| key.to_string())
    }

    /// Sort order: the questionnaire's order of choices, then the key.
    fn order(&self, by: By, key: &str) -> (usize, String) {
        (
            self.choice(by, key).map_or(usize::MAX, |(i, _)| i),
            key.to_string(),
        )
    }

    /// The choices a breakdown's filter offers: (key, label), in the questionnaire's order
    /// (none for districts and age bands).
    pub fn choices(&self, by: By) -> Vec<(String, String)> {
        let (Some(p), Some(item)) = (&self.questionnaire, self.item(by)) else {
            return Vec::new();
        };
        let q = &p.questionnaire;
        item.kind
            .choices()
            .iter()
            .map(|c| {
                (
                    c.key.clone(),
                    c.label.get(&self.lang, &q.default_language).to_string(),
                )
            })
            .collect()
    }
}

/// Progress of one site against its quotas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteProgress {
    pub district: String,
    pub site_id: String,
    pub name: String,
    pub site_type: String,
    /// population → (done, wanted)
    pub populations: BTreeMap<String, (u64, u32)>,
    pub done: u64,
    pub wanted: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub total: u64,
    pub wanted: u64,
    /// district → (done, wanted)
    pub districts: BTreeMap<String, (u64, u64)>,
    /// population → (done, wanted)
    pub populations: BTreeMap<String, (u64, u64)>,
    pub sites: Vec<SiteProgress>,
    /// local day → interviews
    pub days: BTreeMap<String, u64>,
    /// interviews without a site (intercepts before sites were set up, imports)
    pub without_site: u64,
}

/// Interviews against the sample plan's quotas, for what `scope` may read.
pub fn progress(storage: &dyn Storage, scope: &Scope) -> Result<Progress, StorageError> {
    progress_between(storage, scope, None)
}

/// [`progress`] counting only the interviews done on the days `first..=last` (local dates,
/// `YYYY-MM-DD`), when given: a round's fieldwork window.
pub fn progress_between(
    storage: &dyn Storage,
    scope: &Scope,
    days: Option<(&str, &str)>,
) -> Result<Progress, StorageError> {
    let cells: Vec<_> = storage
        .progress(scope)?
        .into_iter()
        .filter(|c| {
            days.is_none_or(|(first, last)| c.day.as_str() >= first && c.day.as_str() <= last)
        })
        .collect();
    let sites: Vec<_> = storage
        .all_sites()?
        .into_iter()
        .filter(|s| match scope {
            Scope::All => true,
            Scope::District(d) => &s.district == d,
            Scope::Populations(_) => true,
        })
        .collect();
    let allowed_population = |p: &str| match scope {
        Scope::Populations(list) => list.iter().any(|x| x == p),
        _ => true,
    };
    let mut out = Progress {
        total: 0,
        wanted: 0,
        districts: BTreeMap::new(),
        populations: BTreeMap::new(),
        sites: Vec::new(),
        days: BTreeMap::new(),
        without_site: 0,
    };
    let mut site_index: HashMap<(String, String), usize> = HashMap::new();
    for site in &sites {
        let mut populations = BTreeMap::new();
        let mut wanted = 0u64;
        for (p, &n) in &site.quotas {
            if allowed_population(p) {
                populations.insert(p.clone(), (0u64, n));
                wanted += u64::from(n);
                out.populations.entry(p.clone()).or_insert((0, 0)).1 += u64::from(n);
            }
        }
        out.districts
            .entry(site.district.clone())
            .or_insert((0, 0))
            .1 += wanted;
        out.wanted += wanted;
        site_index.insert((site.district.clone(), site.id.clone()), out.sites.len());
        out.sites.push(SiteProgress {
            district: site.district.clone(),
            site_id: site.id.clone(),
            name: site.name.clone(),
            site_type: site.site_type.clone(),
            populations,
            done: 0,
            wanted,
        });
    }
    for cell in cells {
        out.total += cell.count;
        *out.days.entry(cell.day.clone()).or_default() += cell.count;
        let district = cell.district.clone().unwrap_or_default();
        out.districts.entry(district.clone()).or_insert((0, 0)).0 += cell.count;
        if let Some(p) = &cell.population {
            out.populations.entry(p.clone()).or_insert((0, 0)).0 += cell.count;
        }
        match cell
            .site_id
            .as_ref()
            .and_then(|s| site_index.get(&(district.clone(), s.clone())))
        {
            Some(&i) => {
                let site = &mut out.sites[i];
                site.done += cell.count;
                if let Some(p) = &cell.population {
                    site.populations.entry(p.clone()).or_insert((0, 0)).0 += cell.count;
                }
            }
            None => out.without_site += cell.count,
        }
    }
    Ok(out)
}
