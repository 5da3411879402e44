//! The survey's estimates as data: every figure the dashboard's literacy page shows (the
//! overall level, each dimension, each breakdown), and what else the survey measures (each
//! population module's literacy among those asked it, literacy by employer size, ownership,
//! employment form, migrant status and travel direction (intercept surveys at stations),
//! the background indicators and the health items as shares), one table each, with the domain's
//! `n`, successes, share, 95 % interval, standard error, design degrees of freedom, design
//! effect, method and small-cell flag; and the same tables as CSV (one long table, a row per
//! domain) and as an XLSX workbook (a sheet per table and a sheet describing the method).
//!
//! The literacy page's figures are [`analysis::literacy`]'s, unchanged: the API, the downloads
//! and the dashboard cannot disagree. The other tables are read from the interviews in the
//! viewer's scope and filter (not rejected), with the same method and the same sample design
//! ([`SampleDesign`]: every site of the sample, whatever the domain). Districts are shown by
//! name (the analysis's labels, [`crate::districts`]); keys stay as they are stored, for joining.

use serde::{Deserialize, Serialize};
use zhisu_core::BackgroundRole;
use zhisu_server_storage::{Role, Storage, StorageError};
use zhisu_stats::Method;

use zhisu_server_storage::ReferenceLevel;

use crate::analysis::{self, By, Domain, Estimate, Filter, Labels, LiteracyReport, SampleDesign};
use crate::annual_report::measures;
use crate::comparison::{self, Comparison};
use crate::export::{self, Cell, File};
use crate::references;
use crate::wording;
use crate::{t, QuestionnaireRegistry};

/// One domain of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstimateRow {
    /// The domain's key as stored (`teacher`, `law`, `yuzhong`…); empty for the whole selection.
    pub key: String,
    /// Its display name, in the asked language.
    pub label: String,
    /// Interviews in the domain (unweighted) and how many of them have literacy.
    pub n: u64,
    pub successes: u64,
    /// The literacy level (share with literacy), by `method`.
    pub share: f64,
    /// The 95 % confidence interval.
    pub ci_low: f64,
    pub ci_high: f64,
    /// Standard error of `share` (see [`Estimate::se`]).
    pub se: f64,
    /// Degrees of freedom of the design-based t interval; `None` for unweighted figures.
    pub df: Option<u64>,
    /// Design effect; `None` for unweighted figures and at a share of 0 or 1.
    pub deff: Option<f64>,
    pub method: Method,
    /// `n` below the small-cell minimum: shown, and to be read with care.
    pub small: bool,
}

impl From<&Estimate> for EstimateRow {
    fn from(e: &Estimate) -> Self {
        EstimateRow {
            key: e.key.clone(),
            label: e.label.clone(),
            n: e.n,
            successes: e.successes,
            share: e.proportion,
            ci_low: e.interval.low,
            ci_high: e.interval.high,
            se: e.se,
            df: e.df,
            deff: e.deff,
            method: e.method,
            small: e.small,
        }
    }
}

impl From<&EstimateRow> for Estimate {
    fn from(row: &EstimateRow) -> Estimate {
        Estimate {
            key: row.key.clone(),
            label: row.label.clone(),
            n: row.n,
            successes: row.successes,
            proportion: row.share,
            interval: zhisu_stats::Interval {
                low: row.ci_low,
                high: row.ci_high,
            },
            method: row.method,
            se: row.se,
            df: row.df,
            deff: row.deff,
            small: row.small,
        }
    }
}

/// One table of the literacy page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstimateTable {
    /// `overall`, `dimensions`, `by_` and the breakdown (`by_population`, `by_district`…,
    /// `by_employer_size`, `by_ownership`), `modules`, `indicators` or `health`.
    pub id: String,
    /// What the table shows ("按重点人群分组的素养水平").
    pub title: String,
    /// What its rows are ("重点人群"): a short name, also the sheet's name in the workbook.
    pub domain: String,
    pub rows: Vec<EstimateRow>,
}

/// Every table of the literacy page for a viewer's scope and filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimates {
    pub questionnaire_id: String,
    pub questionnaire_title: String,
    /// Whose interviews the tables cover, in display names ("渝中区", "全市 教师").
    pub coverage: String,
    /// The filter as applied (a district's people always get their own district).
    pub filter: Filter,
    /// The method of the whole selection, and in words.
    pub method: Method,
    pub method_note: String,
    /// The questionnaire's literacy cut-off (percent of the maximum score), when the server
    /// has the questionnaire.
    pub literacy_threshold_percent: Option<u32>,
    /// Cells with `n` below this are marked `small`.
    pub min_cell_n: u64,
    /// Interviews counted without a weight (see [`LiteracyReport::unweighted_interviews`]).
    pub unweighted_interviews: u64,
    pub tables: Vec<EstimateTable>,
    /// The reference levels and targets of the questionnaire's latest round that has any
    /// ([`references::current`]): figures from outside the survey, shown beside these.
    #[serde(default)]
    pub references: Vec<ReferenceLevel>,
    /// The round they were entered for.
    #[serde(default)]
    pub references_round: Option<String>,
    /// The newest round beside the one before it (with every table only: it reads every
    /// interview of the questionnaire).
    #[serde(default)]
    pub comparison: Option<Comparison>,
}

/// What [`estimates`] reads: the viewer's role (its scope and coverage) and the page's
/// questions.
pub struct Ask<'a> {
    pub storage: &'a dyn Storage,
    pub registry: &'a QuestionnaireRegistry,
    pub role: &'a Role,
    pub questionnaire_id: &'a str,
    /// Already narrowed by the role (a district's people see their district only).
    pub filter: &'a Filter,
    pub min_cell_n: u64,
    pub lang: &'a str,
}

/// Which tables to make.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Which {
    /// Every table.
    #[default]
    All,
    /// The literacy page's tables only: from the literacy cells when the filter allows, so
    /// quick at any size (the others read every interview of the selection).
    Literacy,
}

impl Which {
    /// The tables a `tables` query parameter asks for: `all` (or nothing) or `literacy`.
    pub fn parse(asked: Option<&str>) -> Result<Which, crate::Refusal> {
        match asked {
            None | Some("" | "all") => Ok(Which::All),
            Some("literacy") => Ok(Which::Literacy),
            Some(other) => Err(crate::Refusal::Invalid(format!(
                "tables must be all or literacy, not {other:?}"
            ))),
        }
    }
}

/// The tables of what `ask.role` may read under `ask.filter`.
pub fn estimates(ask: Ask<'_>, which: Which) -> Result<Estimates, StorageError> {
    let report = analysis::literacy(
        ask.storage,
        ask.registry,
        &ask.role.scope(),
        ask.questionnaire_id,
        ask.filter,
        ask.min_cell_n,
        ask.lang,
    )?;
    let mut estimates = tables(ask.registry, ask.role, &report, ask.lang);
    let (round, levels) =
        references::current(&ask.storage.reference_levels(Some(ask.questionnaire_id))?);
    estimates.references = levels;
    estimates.references_round = round;
    if which == Which::All {
        // the tables and the comparison of rounds counted in one pass over the facts
        let scope = ask.role.scope();
        let compare = comparison::Ask {
            storage: ask.storage,
            registry: ask.registry,
            scope: &scope,
            questionnaire_id: ask.questionnaire_id,
            filter: ask.filter,
            // the round asked for is the current one, compared with the round before it
            current: ask.filter.round(),
            previous: None,
            min_cell_n: ask.min_cell_n,
            lang: ask.lang,
        };
        let mut rounds = comparison::Rounds::new(&compare);
        estimates.tables.extend(measured_tables_with(
            &ask,
            report.method,
            Some(&mut |round, row| rounds.add(&compare, round, row)),
        )?);
        let compared = rounds.finish(&compare);
        estimates.comparison = match compared {
            Ok(c) => Some(c),
            Err(crate::Refusal::Storage(e)) => return Err(e),
            // a round asked for that has no interviews in the selection: no comparison (the
            // tables are then empty too), not an error
            Err(_) => None,
        };
    }
    Ok(estimates)
}

/// A table's rows being counted: one [`Domain`] per key, in the order keys come.
#[derive(Default)]
struct Rows {
    index: foldhash::HashMap<String, usize>,
    keys: Vec<(String, String)>,
    domains: Vec<Domain>,
}

impl Rows {
    /// A table whose rows are known in advance: (key, label).
    fn fixed(keys: Vec<(String, String)>) -> Rows {
        Rows {
            index: keys
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), i))
                .collect(),
            domains: vec![Domain::default(); keys.len()],
            keys,
        }
    }

    fn domain(&mut self, key: &str) -> Option<&mut Domain> {
        Some(&mut self.domains[*self.index.get(key)?])
    }

    fn finish(
        self,
        id: &str,
        (title, domain): (String, &str),
        method: Method,
        sample: &SampleDesign,
        min_cell_n: u64,
    ) -> EstimateTable {
        EstimateTable {
            id: id.to_string(),
            title,
            domain: domain.to_string(),
            rows: self
                .keys
                .into_iter()
                .zip(&self.domains)
                .filter_map(|((key, label), d)| {
                    let e = d.estimate(&key, label, method, sample, min_cell_n)?;
                    Some(EstimateRow::from(&e))
                })
                .collect(),
        }
    }
}

/// The background roles the literacy page does not break down by, whose breakdowns these tables
/// add: (role, table id, zh, en).
const MORE_BREAKDOWNS: [(BackgroundRole, &str, &str, &str); 5] = [
    (
        BackgroundRole::EmployerSize,
        "by_employer_size",
        "单位规模",
        "Employer size",
    ),
    (
        BackgroundRole::Ownership,
        "by_ownership",
        "单位经济类型",
        "Ownership",
    ),
    (
        BackgroundRole::EmploymentForm,
        "by_employment_form",
        "用工形式",
        "Employment form",
    ),
    (
        BackgroundRole::Migrant,
        "by_migrant",
        "是否农民工",
        "Migrant worker",
    ),
    (
        BackgroundRole::TravelDirection,
        "by_travel_direction",
        "出行方向",
        "Direction of travel",
    ),
];

/// Where one questionnaire version's outcomes go among a table's rows: per population module
/// of the version ([`zhisu_core::Questionnaire::module_sections`]) the row of `modules`, per
/// measured item ([`zhisu_core::Questionnaire::measured_items`]) whether it is a health row and
/// its row; `None` for one the tables do not show (not in the newest version).
struct VersionRows {
    modules: Vec<Option<usize>>,
    measures: Vec<Option<(bool, usize)>>,
}

impl VersionRows {
    fn new(
        own: &zhisu_core::Questionnaire,
        modules: &Rows,
        indicators: &Rows,
        health: &Rows,
    ) -> Self {
        VersionRows {
            modules: own
                .module_sections()
                .map(|s| modules.index.get(&s.id).copied())
                .collect(),
            measures: own
                .measured_items()
                .iter()
                .map(|m| {
                    let id = &m.item.id;
                    indicators
                        .index
                        .get(id)
                        .map(|&at| (false, at))
                        .or_else(|| health.index.get(id).map(|&at| (true, at)))
                })
                .collect(),
        }
    }
}

/// A stored outcome ([`zhisu_server_storage::Facts::modules`], `measures`): `1`, `0`, or `-`
/// for none.
fn outcome_of(mark: u8) -> Option<bool> {
    match mark {
        b'1' => Some(true),
        b'0' => Some(false),
        _ => None,
    }
}

/// The tables read from the interviews: population modules, literacy by employer size and
/// ownership, indicators, health, by `method` (the literacy report's for the same selection).
/// Empty tables when the server lacks the questionnaire.
pub fn measured_tables(ask: &Ask<'_>, method: Method) -> Result<Vec<EstimateTable>, StorageError> {
    measured_tables_with(ask, method, None)
}

/// What else counts every stored interview in the pass of [`measured_tables_with`].
type AlsoCounted<'a> = &'a mut dyn FnMut(Option<&str>, &zhisu_server_storage::FactRow<'_>);

/// [`measured_tables`], and `also` called with every stored interview of the questionnaire
/// (whatever the scope) and its device's round in the same pass over the facts: what the
/// comparison of rounds counts.
fn measured_tables_with(
    ask: &Ask<'_>,
    method: Method,
    mut also: Option<AlsoCounted<'_>>,
) -> Result<Vec<EstimateTable>, StorageError> {
    let lang = ask.lang;
    let newest = ask.registry.newest(ask.questionnaire_id);
    let q = newest.as_ref().map(|p| &p.questionnaire);
    let label = |text: &zhisu_core::Text, q: &zhisu_core::Questionnaire| {
        text.get(lang, &q.default_language).to_string()
    };
    // rows known in advance, in the questionnaire's order
    let module_sections: Vec<(String, String)> = q.map_or_else(Vec::new, |q| {
        q.sections
            .iter()
            .filter(|s| s.module.is_some())
            .map(|s| (s.id.clone(), label(&s.title, q)))
            .collect()
    });
    let mut modules = Rows::fixed(module_sections);
    let mut breakdowns: Vec<Rows> = MORE_BREAKDOWNS
        .iter()
        .map(|(role, ..)| {
            Rows::fixed(q.map_or_else(Vec::new, |q| {
                q.background_item(*role)
                    .map_or_else(Vec::new, |item| match item.kind {
                        zhisu_core::ItemKind::TrueFalse => vec![
                            ("yes".to_string(), t(lang, "是", "yes").to_string()),
                            ("no".to_string(), t(lang, "否", "no").to_string()),
                        ],
                        _ => item
                            .kind
                            .choices()
                            .iter()
                            .map(|c| (c.key.clone(), label(&c.label, q)))
                            .collect(),
                    })
            }))
        })
        .collect();
    let measures = q.map_or_else(Vec::new, |q| measures(q, lang));
    let (mut indicators, mut health) = {
        let rows = |health: bool| {
            Rows::fixed(
                measures
                    .iter()
                    .filter(|m| m.health == health)
                    .map(|m| {
                        let name = if lang.starts_with("en") {
                            format!("{} ({})", m.label, m.counted)
                        } else {
                            format!("{}（{}）", m.label, m.counted)
                        };
                        (m.item.id.clone(), name)
                    })
                    .collect(),
            )
        };
        (rows(false), rows(true))
    };

    let mut sample = SampleDesign::of_round(ask.storage, ask.questionnaire_id, ask.filter.round())?;
    if q.is_some() || also.is_some() {
        // where each version's module and measure outcomes go among the rows (by section and
        // item id); `None`: the server lacks that version, whose interviews count nowhere
        // (a handful of versions: found by comparing, without a string made per interview)
        let mut versions: Vec<(String, Option<VersionRows>)> = Vec::new();
        let scope = ask.role.scope();
        let mut count = |row: &zhisu_server_storage::FactRow<'_>| {
            if q.is_none() || !ask.filter.matches(row) {
                return;
            }
            let at = match versions
                .iter()
                .position(|(v, _)| v == row.questionnaire_version)
            {
                Some(at) => at,
                None => {
                    let rows_of = ask
                        .registry
                        .get(ask.questionnaire_id, row.questionnaire_version)
                        .map(|own| {
                            VersionRows::new(&own.questionnaire, &modules, &indicators, &health)
                        });
                    versions.push((row.questionnaire_version.to_string(), rows_of));
                    versions.len() - 1
                }
            };
            let Some(rows_of) = &versions[at].1 else {
                return;
            };
            let placed = sample.cluster(row.district, row.site_id, row.stratum, row.weight);
            for (outcome, at) in row.modules.bytes().zip(&rows_of.modules) {
                if let (Some(y), Some(at)) = (outcome_of(outcome), at) {
                    modules.domains[*at].add(placed, y);
                }
            }
            for (key, rows) in row.more.iter().zip(&mut breakdowns) {
                if let Some(d) = key.and_then(|key| rows.domain(key)) {
                    d.add(placed, row.has_literacy);
                }
            }
            for (outcome, at) in row.measures.bytes().zip(&rows_of.measures) {
                let (Some(y), Some((is_health, at))) = (outcome_of(outcome), at) else {
                    continue;
                };
                let rows = if *is_health {
                    &mut health
                } else {
                    &mut indicators
                };
                rows.domains[*at].add(placed, y);
            }
        };
        match also.as_mut() {
            None => crate::analysis::visit_round_facts(
                ask.storage,
                &scope,
                ask.questionnaire_id,
                ask.filter.round(),
                &mut count,
            )?,
            Some(also) => {
                // the comparison reads every round; the other tables the round asked for
                ask.storage
                    .visit_facts_with_round(ask.questionnaire_id, &mut |round, row| {
                        also(round, row);
                        if scope.admits(row.district, row.population)
                            && ask.filter.admits_round(round)
                        {
                            count(row);
                        }
                    })?
            }
        }
    }
    let n = ask.min_cell_n;
    let named = |zh: &str, en: &str| t(lang, zh, en).to_string();
    let mut tables = vec![modules.finish(
        "modules",
        (
            named(
                "各专项模块的素养水平（答过该模块的受访者）",
                "Literacy in each population module (among those asked it)",
            ),
            t(lang, "专项模块", "Population modules"),
        ),
        method,
        &sample,
        n,
    )];
    for ((_, id, zh, en), rows) in MORE_BREAKDOWNS.iter().zip(breakdowns) {
        let domain = t(lang, zh, en);
        let title = if lang.starts_with("en") {
            format!("Literacy level by {}", domain.to_lowercase())
        } else {
            format!("按{domain}分组的素养水平")
        };
        tables.push(rows.finish(id, (title, domain), method, &sample, n));
    }
    tables.push(indicators.finish(
        "indicators",
        (
            named(
                "职业健康相关指标（回答者中给出所计答案的比例）",
                "Indicators (share giving the answer counted, among those who answered)",
            ),
            t(lang, "指标", "Indicators"),
        ),
        method,
        &sample,
        n,
    ));
    tables.push(health.finish(
        "health",
        (
            named(
                "健康状况（回答者中给出所计答案的比例）",
                "Health status (share giving the answer counted, among those who answered)",
            ),
            t(lang, "健康状况", "Health"),
        ),
        method,
        &sample,
        n,
    ));
    Ok(tables)
}

/// The tables of a literacy report read by `role`.
pub fn tables(
    registry: &QuestionnaireRegistry,
    role: &Role,
    report: &LiteracyReport,
    lang: &str,
) -> Estimates {
    let labels = Labels::new(registry, &report.questionnaire_id, lang);
    let newest = registry.newest(&report.questionnaire_id);
    let questionnaire = newest.as_ref().map(|p| &p.questionnaire);
    let coverage = wording::coverage(role, &report.filter, &labels, lang);
    let mut tables = vec![
        EstimateTable {
            id: "overall".into(),
            title: t(lang, "总体素养水平", "Overall literacy level").into(),
            domain: t(lang, "总体", "Overall").into(),
            rows: report.overall.iter().map(EstimateRow::from).collect(),
        },
        EstimateTable {
            id: "dimensions".into(),
            title: t(lang, "各维度素养水平", "Literacy level by dimension").into(),
            domain: t(lang, "维度", "Dimension").into(),
            rows: report.dimensions.iter().map(EstimateRow::from).collect(),
        },
    ];
    for breakdown in &report.breakdowns {
        let by = breakdown.by;
        let domain = by.title(lang);
        tables.push(EstimateTable {
            id: format!("by_{}", by.as_str()),
            title: if lang.starts_with("en") {
                format!("Literacy level by {}", domain.to_lowercase())
            } else {
                format!("按{domain}分组的素养水平")
            },
            domain: domain.to_string(),
            rows: breakdown.rows.iter().map(EstimateRow::from).collect(),
        });
    }
    Estimates {
        questionnaire_id: report.questionnaire_id.clone(),
        questionnaire_title: questionnaire.map_or_else(
            || report.questionnaire_id.clone(),
            |q| q.title.get(lang, &q.default_language).to_string(),
        ),
        coverage: coverage.sentence,
        filter: report.filter.clone(),
        method: report.method,
        method_note: report.method_note.clone(),
        literacy_threshold_percent: questionnaire.map(|q| q.literacy_threshold_percent),
        min_cell_n: report.min_cell_n,
        unweighted_interviews: report.unweighted_interviews,
        tables,
        references: Vec::new(),
        references_round: None,
        comparison: None,
    }
}

/// The columns of a table's rows in the downloads: (zh, en) headers.
const COLUMNS: [(&str, &str); 13] = [
    ("编码", "Key"),
    ("组别", "Group"),
    ("样本量（n）", "n"),
    ("具备素养人数", "With literacy"),
    ("素养水平", "Share"),
    ("95% CI 下限", "95% CI low"),
    ("95% CI 上限", "95% CI high"),
    ("标准误", "Standard error"),
    ("自由度", "Design df"),
    ("设计效应", "Design effect"),
    ("估计方法", "Method"),
    ("估计方法编码", "Method code"),
    ("样本量不足", "Small cell"),
];

fn yes_no(b: bool, lang: &str) -> &'static str {
    t(
        lang,
        if b { "是" } else { "否" },
        if b { "yes" } else { "no" },
    )
}

fn row_cells(row: &EstimateRow, lang: &str) -> Vec<Cell> {
    let optional = |v: Option<f64>| v.map_or(Cell::Empty, Cell::Number);
    vec![
        Cell::Text(row.key.clone()),
        Cell::Text(row.label.clone()),
        Cell::Number(row.n as f64),
        Cell::Number(row.successes as f64),
        Cell::Number(row.share),
        Cell::Number(row.ci_low),
        Cell::Number(row.ci_high),
        Cell::Number(row.se),
        optional(row.df.map(|d| d as f64)),
        optional(row.deff),
        Cell::Text(row.method.describe(lang).to_string()),
        Cell::Text(row.method.as_str().to_string()),
        Cell::Text(yes_no(row.small, lang).to_string()),
    ]
}

/// The tables as one CSV table: a row per domain, the table's name first.
pub fn csv(estimates: &Estimates, lang: &str) -> String {
    let headers: Vec<String> = std::iter::once(t(lang, "表", "Table"))
        .chain(COLUMNS.iter().map(|(zh, en)| t(lang, zh, en)))
        .map(str::to_string)
        .collect();
    let rows: Vec<Vec<String>> = estimates
        .tables
        .iter()
        .flat_map(|table| {
            table.rows.iter().map(|row| {
                std::iter::once(table.title.clone())
                    .chain(row_cells(row, lang).into_iter().map(|c| c.csv()))
                    .collect()
            })
        })
        .collect();
    let mut rows = rows;
    rows.extend(
        extra_rows(estimates, lang)
            .into_iter()
            .map(|(table, cells)| {
                std::iter::once(table)
                    .chain(cells.into_iter().map(|c| c.csv()))
                    .collect()
            }),
    );
    export::csv_text(&headers, &rows)
}

/// The reference levels and the comparison of rounds as rows of the long table, under the
/// same columns: a reference's value is its share (no n, interval or method: it is not an
/// estimate); a comparison row is the difference (current − previous), its interval, SE, df
/// and method, labelled with the two rounds.
fn extra_rows(estimates: &Estimates, lang: &str) -> Vec<(String, Vec<Cell>)> {
    let mut out = Vec::new();
    let round = estimates.references_round.as_deref().unwrap_or("");
    for level in &estimates.references {
        let title = if lang.starts_with("en") {
            format!("Reference levels and targets, round {round}")
        } else {
            format!("参考水平和目标（{round} 轮）")
        };
        let mut cells = vec![Cell::Empty; COLUMNS.len()];
        cells[0] = Cell::Text(level.measure.clone());
        cells[1] = Cell::Text(references::describe(level, lang));
        cells[4] = Cell::Number(level.value_percent / 100.0);
        cells[11] = Cell::Text(format!("reference_{}", level.kind.as_str()));
        out.push((title, cells));
    }
    if let Some(c) = &estimates.comparison {
        let (Some(now), Some(before)) = (&c.current, &c.previous) else {
            return out;
        };
        let title = if lang.starts_with("en") {
            format!("Change, round {now} minus round {before}")
        } else {
            format!("变化：{now} 轮减 {before} 轮")
        };
        for row in &c.rows {
            let optional = |v: Option<f64>| v.map_or(Cell::Empty, Cell::Number);
            let mut cells = vec![Cell::Empty; COLUMNS.len()];
            cells[0] = Cell::Text(row.key.clone());
            cells[1] = Cell::Text(format!("{} ({})", row.label, row.change.label(lang)));
            cells[4] = Cell::Number(row.difference);
            cells[5] = Cell::Number(row.ci_low);
            cells[6] = Cell::Number(row.ci_high);
            cells[7] = optional(row.se);
            cells[8] = optional(row.df.map(|d| d as f64));
            cells[10] = Cell::Text(row.method.describe(lang).to_string());
            cells[11] = Cell::Text(row.method.as_str().to_string());
            out.push((title.clone(), cells));
        }
    }
    out
}

/// What the method sheet says: (topic, text) lines.
pub fn method_lines(estimates: &Estimates, lang: &str) -> Vec<(String, String)> {
    let mut lines: Vec<(&str, String)> = vec![
        (
            t(lang, "问卷", "Questionnaire"),
            format!(
                "{} ({})",
                estimates.questionnaire_title, estimates.questionnaire_id
            ),
        ),
        (t(lang, "范围", "Coverage"), estimates.coverage.clone()),
        (
            t(lang, "筛选条件", "Filter"),
            filter_text(&estimates.filter),
        ),
        (t(lang, "估计方法", "Method"), estimates.method_note.clone()),
    ];
    if let Some(percent) = estimates.literacy_threshold_percent {
        lines.push((
            t(lang, "素养判定", "Literacy"),
            if lang.starts_with("en") {
                format!("a respondent has literacy with a score of at least {percent} % of the maximum; the literacy level is the share with literacy (a dimension likewise with that dimension's maximum)")
            } else {
                format!("得分达到满分的 {percent}% 及以上判定为具备素养；素养水平即具备素养者所占比例（各维度按该维度满分同样判定）")
            },
        ));
    }
    lines.push((
        t(lang, "小样本", "Small cells"),
        if lang.starts_with("en") {
            format!(
                "a group with n below {} is marked \"small cell\": shown, but read with care",
                estimates.min_cell_n
            )
        } else {
            format!(
                "n < {} 的组别标为“样本量不足”，结果仅供参考",
                estimates.min_cell_n
            )
        },
    ));
    lines.push((
        t(lang, "无权重问卷", "Unweighted interviews"),
        if lang.starts_with("en") {
            format!("{} interviews have no site with a stratum and weight in the sample plan; with any such interview every figure is unweighted", estimates.unweighted_interviews)
        } else {
            format!("{} 份问卷的调查点在抽样方案中没有层和权重；只要有这样的问卷，全部结果按未加权计算", estimates.unweighted_interviews)
        },
    ));
    let formulas: [(&str, &str, &str); 8] = [
        (
            "design_taylor",
            "加权比率估计 p = Σ w·y / Σ w（w 为调查点的抽样权重，y = 1 表示具备素养）；Taylor 线性化：z_hi = Σ_{群 hi} w·(y − p) / Σ w；层内群间有放回方差 v = Σ_h n_h/(n_h − 1)·Σ_i (z_hi − z̄_h)²，n_h 为第 h 层样本中的群（调查点）数，子总体估计使用全部样本的设计；标准误 se = √v",
            "weighted ratio p = Σ w·y / Σ w (w the site's sampling weight, y = 1 for literacy); Taylor linearisation z_hi = Σ_{cluster hi} w·(y − p) / Σ w; with-replacement variance between clusters within strata v = Σ_h n_h/(n_h − 1)·Σ_i (z_hi − z̄_h)², n_h the sampled clusters (sites) of stratum h, domains estimated with the whole sample's design; standard error se = √v",
        ),
        (
            "design_taylor",
            "95% 置信区间 p ± t(0.975, df)·se，截断到 [0, 1]；自由度 df = 含该组受访者的群数 − 层数（至少 1）；p 为 0 或 1 时 se = 0，给出 Wilson 区间",
            "95 % interval p ± t(0.975, df)·se, clipped to [0, 1]; df = clusters − strata holding the group's respondents (at least 1); at p = 0 or 1 se = 0 and the Wilson interval is given",
        ),
        (
            "design_taylor",
            "设计效应 deff = v / (p(1 − p)/n)，n 为该组的受访者人数",
            "design effect deff = v / (p(1 − p)/n), n the group's respondents",
        ),
        (
            "design_taylor",
            "只有一个群的层（单 PSU 层）：以全部群的均值（0）为中心计算（R survey 的 lonely.psu = \"adjust\"）",
            "a stratum with a single cluster contributes its z centred at the grand mean, 0 (R survey's lonely.psu = \"adjust\")",
        ),
        (
            "design_taylor",
            "R 中可复核：svydesign(ids = ~cluster, strata = ~stratum, weights = ~weight, nest = TRUE, data = 导出数据)，再用 svyciprop 或 svymean",
            "to check in R: svydesign(ids = ~cluster, strata = ~stratum, weights = ~weight, nest = TRUE, data = the interview export), then svymean",
        ),
        (
            "unweighted_wilson",
            "未加权比例 p = x/n，Wilson 得分 95% 置信区间；标准误 se = √(p(1 − p)/n)；无自由度和设计效应",
            "unweighted share p = x/n with the Wilson score 95 % interval; se = √(p(1 − p)/n); no df or design effect",
        ),
        (
            "",
            "被质控退回的问卷不计入；受访者的层、权重和群见问卷数据导出（stratum、weight、cluster 列）",
            "interviews rejected in quality review are not counted; each interview's stratum, weight and cluster are in the interview export (columns stratum, weight, cluster)",
        ),
        (
            "",
            "公式和手算示例：docs/statistics.md",
            "formulas and a hand-worked example: docs/statistics.md",
        ),
    ];
    let mut out: Vec<(String, String)> =
        lines.into_iter().map(|(a, b)| (a.to_string(), b)).collect();
    for (method, zh, en) in formulas {
        let topic = match method {
            "" => t(lang, "说明", "Note").to_string(),
            m => m.to_string(),
        };
        out.push((topic, t(lang, zh, en).to_string()));
    }
    out
}

fn filter_text(filter: &Filter) -> String {
    let parts: Vec<String> = By::ALL
        .into_iter()
        .filter_map(|by| {
            filter
                .wanted(by)
                .filter(|v| !v.is_empty())
                .map(|v| format!("{}={v}", by.as_str()))
        })
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// The workbook: a sheet per table (the table's domain as its name), then the method sheet.
pub fn xlsx(estimates: &Estimates, lang: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let headers: Vec<String> = COLUMNS
        .iter()
        .map(|(zh, en)| t(lang, zh, en).to_string())
        .collect();
    for table in &estimates.tables {
        let rows = table.rows.iter().map(|r| row_cells(r, lang));
        export::add_sheet(&mut book, &table.domain, &headers, rows)?;
    }
    let extra = extra_rows(estimates, lang);
    if !extra.is_empty() {
        let headers: Vec<String> = std::iter::once(t(lang, "表", "Table"))
            .chain(COLUMNS.iter().map(|(zh, en)| t(lang, zh, en)))
            .map(str::to_string)
            .collect();
        let rows = extra
            .into_iter()
            .map(|(table, cells)| std::iter::once(Cell::Text(table)).chain(cells).collect());
        export::add_sheet(
            &mut book,
            t(lang, "参考水平和轮次比较", "References and rounds"),
            &headers,
            rows,
        )?;
    }
    let method_headers = [t(lang, "项目", "Topic"), t(lang, "说明", "Description")]
        .map(str::to_string)
        .to_vec();
    let lines = method_lines(estimates, lang)
        .into_iter()
        .map(|(a, b)| vec![Cell::Text(a), Cell::Text(b)]);
    export::add_sheet(
        &mut book,
        t(lang, "方法说明", "Method"),
        &method_headers,
        lines,
    )?;
    book.save_to_buffer()
}

/// What the dashboard hands out of [`Estimates`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

/// The file of the tables in `format`, named after the questionnaire.
pub fn file(
    estimates: &Estimates,
    format: Format,
    lang: &str,
) -> Result<File, rust_xlsxwriter::XlsxError> {
    let stem = export::file_stem(&estimates.questionnaire_id);
    let rows = estimates.tables.iter().map(|t| t.rows.len()).sum();
    Ok(match format {
        Format::Csv => File {
            bytes: csv(estimates, lang).into_bytes(),
            content_type: "text/csv; charset=utf-8",
            name: format!("zhisu-{stem}-estimates.csv"),
            rows,
        },
        Format::Xlsx => File {
            bytes: xlsx(estimates, lang)?,
            content_type: export::XLSX,
            name: format!("zhisu-{stem}-estimates.xlsx"),
            rows,
        },
    })
}
