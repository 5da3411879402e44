//! P4: the literacy report over 1,000,000 interviews.
//!
//! Generates `P4_ROWS` (1,000,000) synthetic stored interviews of the national questionnaire
//! `ohl_2026` (its real dimensions, population, industry, sex and education keys and its scored
//! items) with a seeded PRNG: 40 districts, 25 sites (clusters) in each, every site with an
//! industry, a stratum (district + size band; four districts have a one-site stratum, to exercise
//! the lonely-PSU rule) and a weight; literacy rates that differ by population, site, district
//! and education; ages 16–59; about 2 % of the interviews rejected in review. Interviews arrive
//! in runs of 5–30 from one site, as a device uploads them.
//!
//! The rows are loaded (not timed; printed) into a fresh embedded SQLite opened with the server's
//! own `SqliteStorage::open` (so the schema is the real one) and into PostgreSQL started from the
//! system binaries with its defaults (`TestPostgres::start_durable`), opened with
//! `PostgresStorage::open`; the sites, with stratum and weight, go in through
//! `Storage::replace_sites`, so the report is design-based. Payload and score report are `{}`:
//! the report never reads them.
//!
//! The rows bypass ingest, so the literacy cells are then counted with `Storage::rebuild_cells`
//! (not timed; printed), as the schema migration that added them does.
//!
//! Timed: `analysis::literacy(storage, registry, &Scope::All, "ohl_2026", &Filter::default(), 30,
//! "zh-CN")` on each backend, 5 runs, best and median: the whole product path from the database
//! (it reads the literacy cells). For information: a pass of `Storage::visit_cells` with an empty
//! closure (the database's share), the same report from every interview once
//! (`analysis::literacy_from_interviews`, asserted to give the same figures to 1e-9; it is what a
//! report filtered by industry, sex, age or education does), one `weakest_items` each (from the
//! item cells, and again from every interview's facts, asserted to be the same), the
//! interviews' query plans, the
//! CPU time of this process (and of PostgreSQL's) per report, the same query stepped outside the
//! product in variants (SQLite: with and without the index, without the columns `literacy` does
//! not read, memory-mapped; PostgreSQL: executed in the server alone, narrow), and whether a report
//! filtered to one industry gives the same figure as that industry's breakdown row (printed, not
//! asserted: docs/statistics.md says a domain estimate uses the full design).
//!
//! Baseline: the same data as CSV, read by `benches/p4_pandas.py` with pandas (load timed apart),
//! which computes the same report (unweighted counts and Wilson intervals, and the design-based
//! ratio estimate with its Taylor-linearised variance, per domain), best of 3. The bench checks
//! every domain of the pandas report against the Rust reports: n and successes equal, the
//! unweighted proportion and Wilson interval to 1e-9 (from a second Rust report on SQLite with
//! the sites' weights removed, which the product then reports unweighted), the design-based
//! proportion, interval and design effect to 1e-6.
//!
//! Python: `P4_PYTHON` if set, else `python3` if it imports pandas, else a virtual environment in
//! `target/p4-venv` (created with `python3 -m venv` and `pip install pandas` when missing).
//!
//! `cargo bench -p zhisu-server --bench p4_report`. Environment: `P4_ROWS` (1,000,000),
//! `P4_RUNS` (5), `P4_BACKENDS` (`sqlite,postgres`).
use std::fmt::Write as _;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde_json::Value;
use zhisu_core::Questionnaire;
use zhisu_server_postgres::PostgresStorage;
use zhisu_server_service::analysis::{self, Estimate, Filter, LiteracyReport};
use zhisu_server_service::{QuestionnaireRegistry, Storage};
use zhisu_server_sqlite::SqliteStorage;
use zhisu_server_storage::Scope;
use zhisu_stats::Method;

#[allow(unused_imports)]
use zhisu_server_storage::{AnalyticsStore, InterviewStore, PlanStore};
use zhisu_server_tests::postgres as postgres_harness;

const QUESTIONNAIRE_ID: &str = "ohl_2026";
const DISTRICTS: usize = 40;
const SITES_PER_DISTRICT: usize = 25;
/// Districts whose last site is a stratum of its own (lonely PSU).
const SINGLETON_DISTRICTS: usize = 4;
const MIN_CELL_N: u64 = zhisu_stats::DEFAULT_MIN_CELL_N;
const REJECTED_PERCENT: f64 = 2.0;

// ------------------------------------------------------------------ a seeded PRNG

use zhisu_server_tests::Rng;

// ------------------------------------------------------------------ the synthetic survey

/// Literacy rate of a population (before site, district and education effects), its share of
/// the sites, and the industries its sites are in.
fn population_profile(key: &str) -> (f64, f64, &'static [&'static str]) {
    const MANUFACTURING: &[&str] = &[
        "coal_mining",
        "non_metal_mineral",
        "chemical",
        "ferrous_smelting",
        "nonferrous_smelting",
        "metal_products",
        "general_equipment",
        "special_equipment",
        "automobile",
        "electrical",
        "electronics",
        "textiles",
        "furniture",
        "wood",
        "printing",
        "pharmaceuticals",
        "rubber_plastics",
    ];
    match key {
        "teacher" => (0.60, 12.0, &["education"]),
        "medical" => (0.66, 14.0, &["health_care"]),
        "industrial" => (0.50, 30.0, MANUFACTURING),
        "construction" => (0.42, 12.0, &["construction"]),
        "sanitation" => (0.40, 6.0, &["sanitation"]),
        "sewer" => (0.42, 4.0, &["sanitation", "other"]),
        "driver" => (0.44, 8.0, &["transport"]),
        "new_employment" => (0.36, 10.0, &["courier_delivery", "transport"]),
        _ => (0.45, 5.0, &[]),
    }
}

/// Probability of literacy in a dimension for a respondent with / without overall literacy
/// (marginals about: knowledge 80 %, skills 30 %, law 50 %, behaviour 60 %).
fn dimension_profile(id: &str) -> (f64, f64) {
    match id {
        "knowledge" => (0.95, 0.65),
        "skills" => (0.52, 0.08),
        "law" => (0.80, 0.20),
        "behaviour" => (0.85, 0.35),
        _ => (0.70, 0.30),
    }
}

/// Education keys in order: share of respondents, effect on the literacy rate.
const EDUCATION_PROFILE: [(f64, f64); 5] = [
    (10.0, -0.10),
    (35.0, -0.04),
    (28.0, 0.0),
    (15.0, 0.05),
    (12.0, 0.09),
];

struct SiteSpec {
    district: usize,
    id: String,
    industry: usize,
    stratum: String,
    weight: f64,
    main_population: usize,
    effect: f64,
}

struct ScoredItem {
    dimension: usize,
    /// The population of the module the item belongs to (asked only of that population).
    module: Option<usize>,
    points: u32,
    difficulty: f64,
}

struct Plan {
    version: String,
    dimensions: Vec<String>,
    populations: Vec<String>,
    industries: Vec<String>,
    sexes: Vec<String>,
    educations: Vec<String>,
    districts: Vec<String>,
    sites: Vec<SiteSpec>,
    items: Vec<ScoredItem>,
    /// The keys of the further breakdowns (employer size, ownership, employment form, migrant
    /// status: `facts::MORE_ROLES`), empty where the questionnaire has no such item.
    more_keys: Vec<Vec<String>>,
    /// Per population module of the version, the population it is asked of.
    module_populations: Vec<Option<usize>>,
    /// How many measured items (indicators, health) the version has.
    measured: usize,
}

fn choice_keys(q: &Questionnaire, item: &str) -> Vec<String> {
    let keys: Vec<String> = q
        .item(item)
        .unwrap_or_else(|| panic!("{QUESTIONNAIRE_ID} has no item {item}"))
        .kind
        .choices()
        .iter()
        .map(|c| c.key.clone())
        .collect();
    assert!(!keys.is_empty(), "item {item} has no choices");
    keys
}

impl Plan {
    fn new(q: &Questionnaire, rng: &mut Rng) -> Plan {
        let dimensions: Vec<String> = q.dimensions.iter().map(|d| d.id.clone()).collect();
        let populations = choice_keys(q, "population");
        let industries = choice_keys(q, "industry");
        let sexes = choice_keys(q, "sex");
        let educations = choice_keys(q, "education");
        let items: Vec<ScoredItem> = q
            .items
            .iter()
            .filter_map(|item| {
                let scoring = item.scoring.as_ref()?;
                Some((item, scoring))
            })
            .enumerate()
            .map(|(i, (item, scoring))| ScoredItem {
                dimension: dimensions
                    .iter()
                    .position(|d| *d == scoring.dimension)
                    .unwrap_or(0),
                // a module asked by something other than the population item (ohl_2026's
                // migrant-worker module, by migrant status) is not simulated: never asked
                module: q.module_of(item).and_then(|s| {
                    let m = s.module.as_ref()?;
                    Some(
                        populations
                            .iter()
                            .position(|p| *p == m.population)
                            .unwrap_or(usize::MAX),
                    )
                }),
                points: scoring.points,
                // fixed per item: 0 … 0.3 lower than the respondent's base rate
                difficulty: ((i * 37) % 11) as f64 * 0.03,
            })
            .collect();
        let districts: Vec<String> = (1..=DISTRICTS).map(|d| format!("d{d:02}")).collect();
        let site_shares: Vec<f64> = populations
            .iter()
            .map(|p| population_profile(p).1)
            .collect();
        let mut sites = Vec::new();
        for (d, district) in districts.iter().enumerate() {
            let district_effect = (rng.unit() - 0.5) * 0.08;
            for s in 0..SITES_PER_DISTRICT {
                let (band, base_weight) = if d < SINGLETON_DISTRICTS && s == SITES_PER_DISTRICT - 1
                {
                    ("single", 200.0)
                } else if s < 5 {
                    ("large", 30.0)
                } else if s < 13 {
                    ("medium", 60.0)
                } else {
                    ("small", 120.0)
                };
                let main_population = rng.pick(&site_shares);
                let wanted = population_profile(&populations[main_population]).2;
                let candidates: Vec<usize> = industries
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| wanted.contains(&k.as_str()))
                    .map(|(i, _)| i)
                    .collect();
                let industry = if candidates.is_empty() {
                    rng.index(industries.len())
                } else {
                    candidates[rng.index(candidates.len())]
                };
                let weight = (base_weight * (0.6 + 0.8 * rng.unit()) * 100.0).round() / 100.0;
                sites.push(SiteSpec {
                    district: d,
                    id: format!("s{:02}", s + 1),
                    industry,
                    stratum: format!("{district}-{band}"),
                    weight,
                    main_population,
                    effect: district_effect + (rng.unit() - 0.5) * 0.16,
                });
            }
        }
        let more_keys = zhisu_server_storage::facts::MORE_ROLES
            .iter()
            .map(|role| {
                q.background_item(*role)
                    .map_or_else(Vec::new, |item| match item.kind {
                        zhisu_core::ItemKind::TrueFalse => vec!["yes".into(), "no".into()],
                        _ => item.kind.choices().iter().map(|c| c.key.clone()).collect(),
                    })
            })
            .collect();
        let module_populations = q
            .module_sections()
            .map(|s| {
                let m = s.module.as_ref()?;
                populations.iter().position(|p| *p == m.population)
            })
            .collect();
        Plan {
            more_keys,
            module_populations,
            measured: q.measured_items().len(),
            version: q.version.clone(),
            dimensions,
            populations,
            industries,
            sexes,
            educations,
            districts,
            sites,
            items,
        }
    }

    fn site_records(&self, district: usize) -> Vec<zhisu_protocol::Site> {
        self.sites
            .iter()
            .filter(|s| s.district == district)
            .map(|s| zhisu_protocol::Site {
                id: s.id.clone(),
                district: self.districts[district].clone(),
                name: format!("site {} {}", self.districts[district], s.id),
                site_type: "enterprise".into(),
                industry: Some(self.industries[s.industry].clone()),
                ownership: None,
                size: None,
                quotas: Default::default(),
                stratum: Some(s.stratum.clone()),
                weight: Some(s.weight),
                latitude: None,
                longitude: None,
                time_slots: Vec::new(),
            })
            .collect()
    }
}

const QC_STATUSES: [&str; 4] = ["unreviewed", "approved", "has_issues", "rejected"];

/// One generated interview, compactly; strings are built when it is written.
struct Row {
    id: uuid::Uuid,
    site: u16,
    population: u8,
    sex: u8,
    education: u8,
    age: u8,
    literate: bool,
    dimensions: u8,
    qc: u8,
    score: u16,
    duration_s: u16,
    surveyor: u8,
    /// Seconds after the start of the round.
    completed: u32,
}

struct Data {
    rows: Vec<Row>,
    /// `items_correct` of row `i`: `items[i * width .. (i + 1) * width]`.
    items: Vec<u8>,
    width: usize,
    max_score: u32,
}

impl Data {
    fn items_correct(&self, i: usize) -> &str {
        std::str::from_utf8(&self.items[i * self.width..(i + 1) * self.width]).unwrap()
    }
}

fn generate(plan: &Plan, n: usize, rng: &mut Rng) -> Data {
    let width = plan.items.len();
    let max_score: u32 = plan
        .items
        .iter()
        .filter(|i| i.module.is_none())
        .map(|i| i.points)
        .sum();
    let rates: Vec<f64> = plan
        .populations
        .iter()
        .map(|p| population_profile(p).0)
        .collect();
    let dimension_rates: Vec<(f64, f64)> = plan
        .dimensions
        .iter()
        .map(|d| dimension_profile(d))
        .collect();
    let education_shares: Vec<f64> = (0..plan.educations.len())
        .map(|i| EDUCATION_PROFILE.get(i).map_or(10.0, |e| e.0))
        .collect();
    let mut rows = Vec::with_capacity(n);
    let mut items = Vec::with_capacity(n * width);
    while rows.len() < n {
        // a run of interviews from one site, as a device uploads them
        let s = rng.index(plan.sites.len());
        let site = &plan.sites[s];
        let run = (5 + rng.index(26)).min(n - rows.len());
        for _ in 0..run {
            let population = if rng.probability(0.8) {
                site.main_population
            } else {
                rng.index(plan.populations.len())
            };
            let education = rng.pick(&education_shares);
            let p = (rates[population]
                + site.effect
                + EDUCATION_PROFILE.get(education).map_or(0.0, |e| e.1))
            .clamp(0.02, 0.98);
            let literate = rng.probability(p);
            let mut dimensions = 0u8;
            for (d, (yes, no)) in dimension_rates.iter().enumerate().take(8) {
                if rng.probability(if literate { *yes } else { *no }) {
                    dimensions |= 1 << d;
                }
            }
            let mut score = 0u32;
            for item in &plan.items {
                let c = match item.module {
                    Some(m) if m != population => b'-',
                    _ => {
                        let knows = dimensions & (1 << item.dimension) != 0;
                        let p = if knows { 0.92 } else { 0.62 } - item.difficulty;
                        if rng.probability(p) {
                            if item.module.is_none() {
                                score += item.points;
                            }
                            b'1'
                        } else {
                            b'0'
                        }
                    }
                };
                items.push(c);
            }
            let qc = if rng.probability(REJECTED_PERCENT / 100.0) {
                3
            } else {
                [0u8, 0, 0, 1, 1, 2][rng.index(6)]
            };
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
            bytes[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
            let male = rng.probability(0.55);
            rows.push(Row {
                id: uuid::Builder::from_random_bytes(bytes).into_uuid(),
                site: s as u16,
                population: population as u8,
                sex: if male || plan.sexes.len() < 2 { 0 } else { 1 },
                education: education as u8,
                age: 16 + rng.index(44) as u8,
                literate,
                dimensions,
                qc,
                score: score as u16,
                duration_s: 600 + rng.index(900) as u16,
                surveyor: rng.index(10) as u8,
                completed: (rows.len() as u32).wrapping_mul(5),
            });
        }
    }
    Data {
        rows,
        items,
        width,
        max_score,
    }
}

// ------------------------------------------------------------------ loading

fn round_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()
}

/// The text columns of a row, as both loaders write them.
struct RowText {
    id: String,
    started: String,
    completed: String,
    received: String,
    content_hash: String,
    fingerprint: String,
    surveyor: String,
}

fn row_text(plan: &Plan, row: &Row) -> RowText {
    let completed = round_start() + chrono::Duration::seconds(i64::from(row.completed));
    let started = completed - chrono::Duration::seconds(i64::from(row.duration_s));
    let received = completed + chrono::Duration::hours(1);
    let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
    let site = &plan.sites[row.site as usize];
    let id = row.id.as_u128();
    RowText {
        id: row.id.to_string(),
        started: ts(started),
        completed: ts(completed),
        received: ts(received),
        content_hash: format!("{:032x}{:032x}", id, id.rotate_left(64) ^ 0x5a5a),
        fingerprint: format!("{:016x}", (id >> 64) as u64),
        surveyor: format!("{}-u{:02}", plan.districts[site.district], row.surveyor),
    }
}

const COLUMNS: &str = "id, questionnaire_id, questionnaire_version, content_hash, started_at, completed_at,
    utc_offset_minutes, received_at, payload, score, max_score, has_literacy, score_report, device_id,
    district, population, site_id, surveyor_id, sex, age, education, industry, dimension_literacy,
    items_correct, duration_s, fingerprint, qc_flags, qc_status, employer_size, ownership,
    employment_form, migrant, modules, measures";

/// The facts of the estimate tables for `row`, drawn from its id (so that the seeded stream of
/// the other facts stays as it was): the further breakdowns' keys, module literacy (asked of the
/// row's population, literacy more likely with literacy overall), measured items' outcomes.
fn more_facts(plan: &Plan, row: &Row) -> ([Option<String>; 4], String, String) {
    let id = row.id.as_u128();
    let (a, b) = (id as u64, (id >> 64) as u64);
    let more = std::array::from_fn(|i| {
        let keys = &plan.more_keys[i];
        let pick = (a >> (8 * i)) as usize & 0xff;
        (!keys.is_empty() && !pick.is_multiple_of(10)).then(|| keys[pick % keys.len()].clone())
    });
    let modules = plan
        .module_populations
        .iter()
        .enumerate()
        .map(|(j, p)| match p {
            Some(p) if *p == row.population as usize => {
                if row.literate && (b >> j) & 3 != 0 {
                    '1'
                } else {
                    '0'
                }
            }
            _ => '-',
        })
        .collect();
    let measures = (0..plan.measured)
        .map(|k| match (b.rotate_left(2 * k as u32 + 17) ^ a) & 3 {
            0 => '0',
            1 | 2 => '1',
            _ => '-',
        })
        .collect();
    (more, modules, measures)
}

fn load_sqlite(path: &Path, plan: &Plan, data: &Data) {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(&format!(
                "INSERT INTO interview ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,
                 ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28,
                 ?29, ?30, ?31, ?32, ?33, ?34)"
            ))
            .unwrap();
        for (i, row) in data.rows.iter().enumerate() {
            let t = row_text(plan, row);
            let site = &plan.sites[row.site as usize];
            let (more, modules, measures) = more_facts(plan, row);
            insert
                .execute(rusqlite::params![
                    t.id,
                    QUESTIONNAIRE_ID,
                    plan.version,
                    t.content_hash,
                    t.started,
                    t.completed,
                    480,
                    t.received,
                    "{}",
                    row.score,
                    data.max_score,
                    row.literate,
                    "{}",
                    Option::<String>::None,
                    plan.districts[site.district],
                    plan.populations[row.population as usize],
                    site.id,
                    t.surveyor,
                    plan.sexes[row.sex as usize],
                    row.age,
                    plan.educations[row.education as usize],
                    plan.industries[site.industry],
                    row.dimensions,
                    data.items_correct(i),
                    row.duration_s,
                    t.fingerprint,
                    "[]",
                    QC_STATUSES[row.qc as usize],
                    more[0],
                    more[1],
                    more[2],
                    more[3],
                    modules,
                    measures,
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    // as a long-running server's database would be: the WAL checkpointed into the main file
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
}

fn load_postgres(url: &str, plan: &Plan, data: &Data) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let mut writer = client
        .copy_in(&format!("COPY interview ({COLUMNS}) FROM STDIN"))
        .unwrap();
    let mut buf = String::with_capacity(1 << 20);
    for (i, row) in data.rows.iter().enumerate() {
        let t = row_text(plan, row);
        let site = &plan.sites[row.site as usize];
        let (more, modules, measures) = more_facts(plan, row);
        let more = more.map(|k| k.unwrap_or_else(|| "\\N".to_string()));
        writeln!(
            buf,
            "{}\t{QUESTIONNAIRE_ID}\t{}\t{}\t{}\t{}\t480\t{}\t{{}}\t{}\t{}\t{}\t{{}}\t\\N\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t[]\t{}\t{}\t{}\t{}\t{}\t{modules}\t{measures}",
            t.id,
            plan.version,
            t.content_hash,
            t.started,
            t.completed,
            t.received,
            row.score,
            data.max_score,
            if row.literate { "t" } else { "f" },
            plan.districts[site.district],
            plan.populations[row.population as usize],
            site.id,
            t.surveyor,
            plan.sexes[row.sex as usize],
            row.age,
            plan.educations[row.education as usize],
            plan.industries[site.industry],
            row.dimensions,
            data.items_correct(i),
            row.duration_s,
            t.fingerprint,
            QC_STATUSES[row.qc as usize],
            more[0],
            more[1],
            more[2],
            more[3],
        )
        .unwrap();
        if buf.len() > (1 << 20) - 1024 {
            writer.write_all(buf.as_bytes()).unwrap();
            buf.clear();
        }
    }
    writer.write_all(buf.as_bytes()).unwrap();
    writer.finish().unwrap();
    // what autovacuum does after a bulk insert: statistics for the planner, hint bits set
    client.batch_execute("VACUUM ANALYZE interview").unwrap();
}

/// The interviews as the pandas baseline reads them: the facts and the site's stratum and weight.
fn write_csv(path: &Path, plan: &Plan, data: &Data) {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    writeln!(
        out,
        "district,site_id,stratum,weight,population,industry,sex,education,age,has_literacy,dimension_literacy,qc_status"
    )
    .unwrap();
    for row in &data.rows {
        let site = &plan.sites[row.site as usize];
        // `{}` of an f64 is the shortest text that reads back to the same double
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            plan.districts[site.district],
            site.id,
            site.stratum,
            site.weight,
            plan.populations[row.population as usize],
            plan.industries[site.industry],
            plan.sexes[row.sex as usize],
            plan.educations[row.education as usize],
            row.age,
            u8::from(row.literate),
            row.dimensions,
            QC_STATUSES[row.qc as usize],
        )
        .unwrap();
    }
    out.flush().unwrap();
}

// ------------------------------------------------------------------ pandas

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn imports_pandas(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import pandas, numpy"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A Python with pandas, and how it was found.
fn find_python() -> (PathBuf, String) {
    if let Ok(p) = std::env::var("P4_PYTHON") {
        let p = PathBuf::from(p);
        assert!(
            imports_pandas(&p),
            "P4_PYTHON={} cannot import pandas",
            p.display()
        );
        return (p, "P4_PYTHON".into());
    }
    let system = PathBuf::from("python3");
    if imports_pandas(&system) {
        return (system, "python3 on PATH".into());
    }
    let venv = workspace_root().join("target/p4-venv");
    let python = venv.join("bin/python");
    if python.exists() && imports_pandas(&python) {
        return (
            python,
            format!("existing virtual environment {}", venv.display()),
        );
    }
    println!(
        "python3 has no pandas: creating a virtual environment in {} and installing pandas",
        venv.display()
    );
    let ok = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "python3 -m venv {} failed", venv.display());
    let ok = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "pandas"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "pip install pandas failed");
    assert!(imports_pandas(&python));
    (
        python,
        format!(
            "virtual environment {} created now (python3 -m venv; pip install pandas)",
            venv.display()
        ),
    )
}

fn run_pandas(python: &Path, csv: &Path, dimensions: &[String]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/p4_pandas.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(csv)
        .arg("3")
        .arg(dimensions.join(","))
        .stderr(Stdio::inherit())
        .output()
        .expect("run the pandas script");
    assert!(out.status.success(), "p4_pandas.py failed");
    serde_json::from_slice(&out.stdout).expect("p4_pandas.py prints JSON")
}

// ------------------------------------------------------------------ checks

struct Mismatches {
    lines: Vec<String>,
    compared: usize,
}

impl Mismatches {
    fn close(&mut self, what: &str, rust: f64, pandas: f64, tolerance: f64) {
        let ok = (rust - pandas).abs() <= tolerance * rust.abs().max(1.0);
        if !ok {
            self.lines.push(format!(
                "{what}: Rust {rust:.12} pandas {pandas:.12} (diff {:.3e})",
                rust - pandas
            ));
        }
    }
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// The Rust estimate of one domain of the pandas report.
fn find<'a>(report: &'a LiteracyReport, by: &str, key: &str) -> Option<&'a Estimate> {
    match by {
        "overall" => report.overall.as_ref(),
        "dimension" => report.dimensions.iter().find(|e| e.key == key),
        _ => report
            .breakdowns
            .iter()
            .find(|b| b.by.as_str() == by)?
            .rows
            .iter()
            .find(|e| e.key == key),
    }
}

fn domains(report: &LiteracyReport) -> usize {
    usize::from(report.overall.is_some())
        + report.dimensions.len()
        + report
            .breakdowns
            .iter()
            .map(|b| b.rows.len())
            .sum::<usize>()
}

/// Every domain of the pandas report against the Rust reports: `design` (weighted sites) and
/// `unweighted` (the same interviews, sites without weights).
fn compare(pandas: &Value, design: &LiteracyReport, unweighted: &LiteracyReport) -> Mismatches {
    let mut m = Mismatches {
        lines: Vec::new(),
        compared: 0,
    };
    let estimates = pandas["estimates"].as_array().expect("estimates");
    for e in estimates {
        let by = e["by"].as_str().unwrap();
        let key = e["key"].as_str().unwrap();
        let name = format!("{by}/{key}");
        let (Some(d), Some(u)) = (find(design, by, key), find(unweighted, by, key)) else {
            m.lines.push(format!(
                "{name}: in the pandas report, not in the Rust report"
            ));
            continue;
        };
        m.compared += 1;
        let n = e["n"].as_u64().unwrap();
        let x = e["successes"].as_u64().unwrap();
        for (which, r) in [("design report", d), ("unweighted report", u)] {
            if (r.n, r.successes) != (n, x) {
                m.lines.push(format!(
                    "{name} ({which}): n/successes Rust {}/{} pandas {n}/{x}",
                    r.n, r.successes
                ));
            }
        }
        // unweighted: the product's unweighted report
        assert_eq!(u.method, Method::UnweightedWilson);
        m.close(
            &format!("{name} unweighted proportion"),
            u.proportion,
            f(&e["proportion_unweighted"]),
            1e-9,
        );
        m.close(
            &format!("{name} Wilson low"),
            u.interval.low,
            f(&e["wilson"][0]),
            1e-9,
        );
        m.close(
            &format!("{name} Wilson high"),
            u.interval.high,
            f(&e["wilson"][1]),
            1e-9,
        );
        // design-based
        if d.method != Method::DesignTaylor {
            m.lines.push(format!("{name}: Rust method {:?}", d.method));
            continue;
        }
        let pd = &e["design"];
        m.close(
            &format!("{name} design proportion"),
            d.proportion,
            f(&pd["proportion"]),
            1e-6,
        );
        let (low, high) = if f(&pd["se"]) > 0.0 {
            (f(&pd["low"]), f(&pd["high"]))
        } else {
            (f(&e["wilson"][0]), f(&e["wilson"][1]))
        };
        m.close(&format!("{name} design low"), d.interval.low, low, 1e-6);
        m.close(&format!("{name} design high"), d.interval.high, high, 1e-6);
        match (d.deff, pd["deff"].as_f64()) {
            (Some(a), Some(b)) => m.close(&format!("{name} deff"), a, b, 1e-6),
            (None, None) => {}
            (a, b) => m
                .lines
                .push(format!("{name} deff: Rust {a:?} pandas {b:?}")),
        }
    }
    for report in [design, unweighted] {
        if domains(report) != estimates.len() {
            m.lines.push(format!(
                "the Rust report has {} domains, pandas {}",
                domains(report),
                estimates.len()
            ));
        }
    }
    m
}

// ------------------------------------------------------------------ timing

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn median(sorted: &[Duration]) -> Duration {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

struct Backend {
    /// Reports under every single filter and every pair of filters, from the facts in memory.
    filtered: Vec<(String, Duration)>,
    estimates: Duration,
    first_visit: Duration,
    name: &'static str,
    runs: Vec<Duration>,
    scan: Vec<Duration>,
    scanned: u64,
    weakest: Duration,
    weakest_first: String,
    from_interviews: Duration,
    report: LiteracyReport,
}

impl Backend {
    fn best(&self) -> Duration {
        *self.runs.iter().min().unwrap()
    }

    fn median(&self) -> Duration {
        let mut r = self.runs.clone();
        r.sort();
        median(&r)
    }

    fn scan_best(&self) -> Duration {
        *self.scan.iter().min().unwrap()
    }
}

fn literacy(storage: &dyn Storage, registry: &QuestionnaireRegistry) -> LiteracyReport {
    analysis::literacy(
        storage,
        registry,
        &Scope::All,
        QUESTIONNAIRE_ID,
        &Filter::default(),
        MIN_CELL_N,
        "zh-CN",
    )
    .expect("literacy report")
}

fn time_backend(
    name: &'static str,
    storage: &dyn Storage,
    registry: &QuestionnaireRegistry,
    runs: usize,
    server_cpu: Option<&dyn Fn() -> f64>,
) -> Backend {
    let mut times = Vec::new();
    let mut report = None;
    println!("  {name}: {}", load_average());
    for i in 0..runs {
        let cpu = cpu_seconds();
        let server = server_cpu.map(|f| f());
        let t = Instant::now();
        let r = literacy(storage, registry);
        let e = t.elapsed();
        let server = match (server_cpu, server) {
            (Some(f), Some(before)) => format!(", the database server's {:.2} s", f() - before),
            _ => String::new(),
        };
        println!(
            "  {name}: literacy run {}: {:.3} s (CPU: this process's {:.2} s{server})",
            i + 1,
            secs(e),
            cpu_seconds() - cpu
        );
        times.push(e);
        if let Some(first) = &report {
            assert_eq!(first, &r, "the report changed between runs");
        } else {
            report = Some(r);
        }
    }
    // the database's share: reading the literacy cells (query, join with the sites, decoding)
    let mut scan = Vec::new();
    let mut scanned = 0u64;
    for _ in 0..3 {
        let t = Instant::now();
        let mut count = 0u64;
        storage
            .visit_cells(QUESTIONNAIRE_ID, &mut |_cell| count += 1)
            .unwrap();
        scan.push(t.elapsed());
        scanned = count;
    }
    println!(
        "  {name}: visit_cells with an empty closure: {} (best {:.3} s), {scanned} cells",
        scan.iter()
            .map(|d| format!("{:.3}", secs(*d)))
            .collect::<Vec<_>>()
            .join(" · "),
        secs(*scan.iter().min().unwrap()),
    );
    // the same report from every interview (what a report filtered by industry, sex, age or
    // education does), once: it must give the same figures. The first visit of the facts: it
    // reads them from the database into memory (facts_cache), which every later one reads.
    let rss_before = rss_mib();
    let t = Instant::now();
    let from_interviews = analysis::literacy_from_interviews(
        storage,
        registry,
        &Scope::All,
        QUESTIONNAIRE_ID,
        &Filter::default(),
        MIN_CELL_N,
        "zh-CN",
    )
    .unwrap();
    let interviews_time = t.elapsed();
    let rss_after = rss_mib();
    let worst = compare_reports(report.as_ref().unwrap(), &from_interviews);
    println!(
        "  {name}: the same report from every interview (visit_facts), the first visit (facts read from the database into memory): {:.3} s, resident memory {rss_before:.0} → {rss_after:.0} MiB; largest difference from the report from the cells {worst:.1e}",
        secs(interviews_time)
    );
    let t = Instant::now();
    let again = analysis::literacy_from_interviews(
        storage,
        registry,
        &Scope::All,
        QUESTIONNAIRE_ID,
        &Filter::default(),
        MIN_CELL_N,
        "zh-CN",
    )
    .unwrap();
    println!(
        "  {name}: the same again, from the facts in memory: {:.3} s",
        secs(t.elapsed())
    );
    assert_eq!(again, from_interviews);
    let filtered = time_filtered(name, storage, registry, report.as_ref().unwrap());
    assert!(
        worst < 1e-9,
        "the cells and the interviews give other figures"
    );
    let t = Instant::now();
    let progress = analysis::progress(storage, &Scope::All).unwrap();
    println!(
        "  {name}: progress (the dashboard's first view; reads every interview) once: {:.3} s, {} sites",
        secs(t.elapsed()),
        progress.sites.len()
    );
    let t = Instant::now();
    let items = analysis::weakest_items(
        storage,
        registry,
        &Scope::All,
        QUESTIONNAIRE_ID,
        &Filter::default(),
        MIN_CELL_N,
        "zh-CN",
    )
    .unwrap();
    let weakest = t.elapsed();
    let weakest_first = items
        .first()
        .map(|i| {
            format!(
                "{} items; weakest {} ({}) {:.1} % of {}",
                items.len(),
                i.item_id,
                i.dimension,
                i.share * 100.0,
                i.asked
            )
        })
        .unwrap_or_default();
    println!(
        "  {name}: weakest_items once (from the item cells): {:.3} s ({weakest_first})",
        secs(weakest)
    );
    // the same from every interview's facts (what a filter by industry, sex, age or education
    // reads): the same items in the same order
    let t = Instant::now();
    let from_facts = analysis::weakest_items_from_facts(
        storage,
        registry,
        &Scope::All,
        QUESTIONNAIRE_ID,
        &Filter::default(),
        MIN_CELL_N,
        "zh-CN",
    )
    .unwrap();
    let facts_time = t.elapsed();
    println!(
        "  {name}: the same from every interview's facts: {:.3} s (the cells {:.0}× faster)",
        secs(facts_time),
        facts_time.as_secs_f64() / weakest.as_secs_f64().max(1e-9)
    );
    assert_eq!(items, from_facts, "the item cells and the facts disagree");
    // a district's weakest items (its report): the query itself is narrowed to the district
    let district = report
        .as_ref()
        .and_then(|r| r.breakdowns.iter().find(|b| b.by == analysis::By::District))
        .and_then(|b| b.rows.first())
        .map(|r| r.key.clone())
        .unwrap_or_default();
    let t = Instant::now();
    let items = analysis::weakest_items(
        storage,
        registry,
        &Scope::All,
        QUESTIONNAIRE_ID,
        &Filter {
            district: Some(district.clone()),
            ..Filter::default()
        },
        MIN_CELL_N,
        "zh-CN",
    )
    .unwrap();
    println!(
        "  {name}: weakest_items of district {district} once: {:.3} s ({} interviews asked the first core item)",
        secs(t.elapsed()),
        items.iter().map(|i| i.asked).max().unwrap_or(0)
    );
    // the estimates API's tables, `runs` times: best and median (one run is at the mercy of
    // whatever else the machine does)
    let mut estimate_times = Vec::new();
    let mut estimates = None;
    for _ in 0..runs {
        let t = Instant::now();
        estimates = Some(
            zhisu_server_service::estimates::estimates(
                zhisu_server_service::estimates::Ask {
                    storage,
                    registry,
                    role: &zhisu_server_storage::Role::CityAdmin,
                    questionnaire_id: QUESTIONNAIRE_ID,
                    filter: &Filter::default(),
                    min_cell_n: MIN_CELL_N,
                    lang: "zh-CN",
                },
                zhisu_server_service::estimates::Which::All,
            )
            .unwrap(),
        );
        estimate_times.push(t.elapsed());
    }
    let estimates = estimates.expect("at least one run");
    estimate_times.sort();
    let estimates_time = estimate_times[estimate_times.len() / 2];
    let t = Instant::now();
    let body = serde_json::to_vec(&estimates).unwrap();
    println!(
        "  {name}: the estimates API's tables (every table, the comparison of rounds), best / median of {runs}: {:.3} / {:.3} s, then JSON {:.3} s ({} tables, {} rows, {} KiB)",
        secs(estimate_times[0]),
        secs(estimates_time),
        secs(t.elapsed()),
        estimates.tables.len(),
        estimates.tables.iter().map(|t| t.rows.len()).sum::<usize>(),
        body.len() / 1024
    );
    Backend {
        filtered,
        estimates: estimates_time,
        first_visit: interviews_time,
        name,
        runs: times,
        scan,
        scanned,
        weakest,
        weakest_first,
        from_interviews: interviews_time,
        report: report.unwrap(),
    }
}

/// Resident memory of this process, MiB.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The literacy report under every single filter (a key of each breakdown) and every pair of
/// them, once each: what the dashboard's filters ask. Each reads every interview's facts, from
/// memory. Printed: the slowest, the median, and each.
fn time_filtered(
    name: &str,
    storage: &dyn Storage,
    registry: &QuestionnaireRegistry,
    full: &LiteracyReport,
) -> Vec<(String, Duration)> {
    use analysis::By;
    // the largest domain of each breakdown: a filter that keeps many interviews
    let keys: Vec<(By, String)> = By::ALL
        .into_iter()
        .filter_map(|by| {
            let b = full.breakdowns.iter().find(|b| b.by == by)?;
            let row = b.rows.iter().max_by_key(|r| r.n)?;
            Some((by, row.key.clone()))
        })
        .collect();
    let set = |f: &mut Filter, by: By, key: &str| {
        let slot = match by {
            By::Population => &mut f.population,
            By::Industry => &mut f.industry,
            By::District => &mut f.district,
            By::Sex => &mut f.sex,
            By::AgeBand => &mut f.age_band,
            By::Education => &mut f.education,
        };
        *slot = Some(key.to_string());
    };
    let mut filters = Vec::new();
    for (i, (by, key)) in keys.iter().enumerate() {
        let mut f = Filter::default();
        set(&mut f, *by, key);
        filters.push((format!("{}={key}", by.as_str()), f.clone()));
        for (by2, key2) in &keys[i + 1..] {
            let mut g = f.clone();
            set(&mut g, *by2, key2);
            filters.push((
                format!("{}={key} & {}={key2}", by.as_str(), by2.as_str()),
                g,
            ));
        }
    }
    let mut out = Vec::new();
    for (label, filter) in filters {
        let t = Instant::now();
        let r = analysis::literacy(
            storage,
            registry,
            &Scope::All,
            QUESTIONNAIRE_ID,
            &filter,
            MIN_CELL_N,
            "zh-CN",
        )
        .unwrap();
        let e = t.elapsed();
        let n = r.overall.map_or(0, |o| o.n);
        println!(
            "  {name}: filtered report {label}: {:.3} s (n {n})",
            secs(e)
        );
        out.push((label, e));
    }
    let mut sorted: Vec<Duration> = out.iter().map(|o| o.1).collect();
    sorted.sort();
    let slowest = out.iter().max_by_key(|o| o.1).unwrap();
    println!(
        "  {name}: {} filtered reports (each single filter and each pair): median {:.3} s, slowest {:.3} s ({})",
        out.len(),
        secs(median(&sorted)),
        secs(slowest.1),
        slowest.0
    );
    out
}

/// The product's query (copied from `visit_facts`), for the query plans printed.
const FACTS_QUERY: &str = "SELECT i.questionnaire_version, i.district, i.site_id, i.population, i.industry, i.sex,
     i.education, i.age, i.has_literacy, i.dimension_literacy, i.items_correct, s.stratum, s.weight
 FROM interview i LEFT JOIN site s ON s.district = i.district AND s.id = i.site_id
 WHERE i.questionnaire_id = 'ohl_2026' AND i.qc_status <> 'rejected' AND i.items_correct IS NOT NULL";

fn sqlite_plan(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {FACTS_QUERY}"))
        .unwrap();
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(3))
        .unwrap()
        .map(Result::unwrap)
        .collect::<Vec<_>>();
    rows.join(" | ")
}

/// The product's query without `items_correct` and `questionnaire_version` (which
/// `literacy` does not read), for "where the time goes".
fn narrow_query() -> String {
    FACTS_QUERY
        .replace("SELECT i.questionnaire_version, ", "SELECT ")
        .replace(
            "i.dimension_literacy, i.items_correct,",
            "i.dimension_literacy,",
        )
}

/// Steps through `sql` on SQLite decoding every column as `visit_facts` does (text checked as
/// UTF-8, numbers read), on a new read-only connection like `visit_facts`' (with the database
/// file memory-mapped when `mmap`): best of 3.
fn sqlite_scan(path: &Path, sql: &str, mmap: bool) -> Duration {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap();
    if mmap {
        conn.query_row("PRAGMA mmap_size = 4294967296", [], |_| Ok(()))
            .unwrap();
    }
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let mut stmt = conn.prepare(sql).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        let mut sum = 0u64;
        while let Some(r) = rows.next().unwrap() {
            for i in 0..columns {
                sum += match r.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(t) => {
                        std::str::from_utf8(t).unwrap().len() as u64
                    }
                    rusqlite::types::ValueRef::Integer(v) => v as u64,
                    rusqlite::types::ValueRef::Real(v) => v as u64,
                    _ => 0,
                };
            }
        }
        std::hint::black_box(sum);
        best = best.min(t.elapsed());
    }
    best
}

/// PostgreSQL's own time for the query (`EXPLAIN ANALYZE`: executed in the server, no rows
/// sent), best of 3; and the narrow query (no `items_correct`, no `questionnaire_version`)
/// fetched row by row with `query_raw` and decoded as `visit_facts` does, best of 3.
fn postgres_diagnostics(url: &str) -> (f64, Duration) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let mut server = f64::MAX;
    for _ in 0..3 {
        let rows = client
            .query(&format!("EXPLAIN (ANALYZE, TIMING OFF) {FACTS_QUERY}"), &[])
            .unwrap();
        for r in rows {
            let line: String = r.get(0);
            if let Some(ms) = line
                .trim()
                .strip_prefix("Execution Time: ")
                .and_then(|v| v.strip_suffix(" ms"))
            {
                server = server.min(ms.parse::<f64>().unwrap() / 1000.0);
            }
        }
    }
    let sql = narrow_query();
    let mut narrow = Duration::MAX;
    for _ in 0..3 {
        use postgres::fallible_iterator::FallibleIterator;
        let t = Instant::now();
        let mut rows = client
            .query_raw(sql.as_str(), std::iter::empty::<&str>())
            .unwrap();
        let mut sum = 0u64;
        while let Some(r) = rows.next().unwrap() {
            // district site_id population industry sex education age has_literacy
            // dimension_literacy stratum weight
            for i in [0, 1, 2, 3, 4, 5, 9] {
                sum += r.get::<_, Option<&str>>(i).map_or(0, |s| s.len() as u64);
            }
            sum += r.get::<_, Option<i32>>(6).unwrap_or(0) as u64;
            sum += u64::from(r.get::<_, bool>(7));
            sum += r.get::<_, Option<i32>>(8).unwrap_or(0) as u64;
            sum += r.get::<_, Option<f64>>(10).unwrap_or(0.0) as u64;
        }
        std::hint::black_box(sum);
        narrow = narrow.min(t.elapsed());
    }
    (server, narrow)
}

fn postgres_plan(url: &str) -> String {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client
        .query(&format!("EXPLAIN {FACTS_QUERY}"), &[])
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0).trim().to_string())
        .collect::<Vec<_>>()
        .join(" | ")
}

fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "load average {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(100.0)
}

/// Fields of `/proc/<pid>/stat` after the command name: `[1]` is the parent, `[11]` utime,
/// `[12]` stime.
fn proc_stat(pid: &str) -> Vec<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    rest.split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect()
}

/// The PostgreSQL server's main process (the parent of a backend of `url`).
fn postmaster_pid(url: &str) -> u64 {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let backend: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    proc_stat(&backend.to_string()).get(1).copied().unwrap_or(0)
}

/// CPU time so far of the PostgreSQL server: its main process and its children (the pool's
/// backends stay connected, so their time is all there).
fn postgres_cpu_seconds(postmaster: u64) -> f64 {
    let mut ticks = 0u64;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let f = proc_stat(pid);
        if pid.parse::<u64>().ok() == Some(postmaster) || f.get(1) == Some(&postmaster) {
            ticks += f.get(11).unwrap_or(&0) + f.get(12).unwrap_or(&0);
        }
    }
    ticks as f64 / clock_ticks()
}

/// User + system CPU time of this process so far.
fn cpu_seconds() -> f64 {
    let f = proc_stat("self");
    (f.get(11).unwrap_or(&0) + f.get(12).unwrap_or(&0)) as f64 / clock_ticks()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_default();
    format!(
        "{} CPUs ({cpu}), {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    )
}

fn main() {
    // `cargo bench` passes `--bench`; any filter argument is ignored.
    let var = |name: &str, default: usize| -> usize {
        std::env::var(name)
            .ok()
            .map(|s| {
                s.replace(['_', ','], "")
                    .parse()
                    .unwrap_or_else(|_| panic!("{name} is a number"))
            })
            .unwrap_or(default)
    };
    let n = var("P4_ROWS", 1_000_000).max(1);
    let runs = var("P4_RUNS", 5).max(1);
    let backends = std::env::var("P4_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let root = workspace_root();
    let questionnaires = root.join("questionnaires");
    let source = std::fs::read_to_string(questionnaires.join("ohl_2026.toml")).unwrap();
    let q = Questionnaire::from_toml("ohl_2026.toml", &source)
        .unwrap_or_else(|d| panic!("ohl_2026 has problems:\n{}", d.lines()));
    let registry = QuestionnaireRegistry::load_dir(&questionnaires).unwrap();
    let dir = tempfile::Builder::new()
        .prefix("zhisu-p4-")
        .tempdir_in(std::env::temp_dir())
        .unwrap();
    println!(
        "P4: literacy report over {n} interviews of {QUESTIONNAIRE_ID} {}; {}; work folder {}",
        q.version,
        machine(),
        dir.path().display()
    );

    let t = Instant::now();
    let mut rng = Rng::new(0x5eed_0004);
    let plan = Plan::new(&q, &mut rng);
    let data = generate(&plan, n, &mut rng);
    let rejected = data.rows.iter().filter(|r| r.qc == 3).count();
    let kept: Vec<&Row> = data.rows.iter().filter(|r| r.qc != 3).collect();
    let share = |f: &dyn Fn(&Row) -> bool, rows: &[&Row]| {
        rows.iter().filter(|r| f(r)).count() as f64 / rows.len().max(1) as f64 * 100.0
    };
    let strata: std::collections::BTreeSet<&str> =
        plan.sites.iter().map(|s| s.stratum.as_str()).collect();
    println!(
        "generated in {:.1} s (not measured): {} dimensions, {} populations, {} industries, {} scored items; {} districts, {} sites, {} strata; {rejected} rejected ({:.2} %)",
        t.elapsed().as_secs_f64(),
        plan.dimensions.len(),
        plan.populations.len(),
        plan.industries.len(),
        plan.items.len(),
        plan.districts.len(),
        plan.sites.len(),
        strata.len(),
        rejected as f64 / n as f64 * 100.0
    );
    let mut line = format!(
        "  unweighted literacy of the kept interviews: {:.1} %; dimensions:",
        share(&|r| r.literate, &kept)
    );
    for (d, name) in plan.dimensions.iter().enumerate() {
        write!(
            line,
            " {name} {:.1} %",
            share(&|r| r.dimensions & (1 << d) != 0, &kept)
        )
        .unwrap();
    }
    line.push_str("; populations:");
    for (p, name) in plan.populations.iter().enumerate() {
        let rows: Vec<&Row> = kept
            .iter()
            .copied()
            .filter(|r| r.population as usize == p)
            .collect();
        write!(line, " {name} {:.1} %", share(&|r| r.literate, &rows)).unwrap();
    }
    println!("{line}");

    // ---- SQLite
    let sqlite_path = dir.path().join("zhisu.db");
    let sqlite = SqliteStorage::open(&sqlite_path).unwrap();
    for d in 0..plan.districts.len() {
        sqlite
            .replace_sites(
                &plan.districts[d],
                &plan.site_records(d),
                &zhisu_server_storage::AuditEntry::now("bench", "replace_sites", ""),
            )
            .unwrap();
    }
    let want_sqlite = backends.contains("sqlite");
    if want_sqlite {
        let t = Instant::now();
        load_sqlite(&sqlite_path, &plan, &data);
        println!(
            "SQLite: loaded in {:.1} s (not measured; one transaction), database file {:.0} MiB; query plan: {}",
            t.elapsed().as_secs_f64(),
            std::fs::metadata(&sqlite_path).unwrap().len() as f64 / 1048576.0,
            sqlite_plan(&sqlite_path)
        );
        assert_eq!(sqlite.interview_count().unwrap(), n as u64);
        let t = Instant::now();
        sqlite
            .rebuild_cells(&zhisu_server_storage::AuditEntry::now(
                "bench",
                "rebuild_cells",
                "after the bulk load",
            ))
            .unwrap();
        println!(
            "SQLite: literacy cells counted from the interviews in {:.1} s (not measured; ingest keeps them as interviews arrive)",
            t.elapsed().as_secs_f64()
        );
    }

    // ---- PostgreSQL
    let want_postgres = backends.contains("postgres");
    let pg_server = want_postgres.then(postgres_harness::TestPostgres::start_durable);
    let pg = pg_server.as_ref().map(|server| {
        let url = server.fresh_database("zhisu_p4");
        let storage = PostgresStorage::open(&url, 4).unwrap();
        for d in 0..plan.districts.len() {
            storage
                .replace_sites(
                &plan.districts[d],
                &plan.site_records(d),
                &zhisu_server_storage::AuditEntry::now("bench", "replace_sites", ""),
            )
                .unwrap();
        }
        let t = Instant::now();
        load_postgres(&url, &plan, &data);
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let version: String = client.query_one("SHOW server_version", &[]).unwrap().get(0);
        let size: String = client
            .query_one(
                "SELECT pg_size_pretty(pg_total_relation_size('interview'))",
                &[],
            )
            .unwrap()
            .get(0);
        println!(
            "PostgreSQL {version}: loaded in {:.1} s (not measured; COPY, then VACUUM ANALYZE), table with indexes {size}; query plan: {}",
            t.elapsed().as_secs_f64(),
            postgres_plan(&url)
        );
        assert_eq!(storage.interview_count().unwrap(), n as u64);
        let t = Instant::now();
        storage.rebuild_cells(&zhisu_server_storage::AuditEntry::now("bench", "rebuild_cells", "after the bulk load")).unwrap();
        println!(
            "PostgreSQL: literacy cells counted from the interviews in {:.1} s (not measured)",
            t.elapsed().as_secs_f64()
        );
        (storage, url)
    });

    // ---- the pandas baseline
    let csv = dir.path().join("interviews.csv");
    let t = Instant::now();
    write_csv(&csv, &plan, &data);
    println!(
        "CSV for pandas written in {:.1} s, {:.0} MiB",
        t.elapsed().as_secs_f64(),
        std::fs::metadata(&csv).unwrap().len() as f64 / 1048576.0
    );
    drop(kept);
    let (python, how) = find_python();
    println!("pandas: {} ({how})", python.display());
    let pandas = run_pandas(&python, &csv, &plan.dimensions);
    let pandas_best = f(&pandas["best_s"]);
    println!(
        "pandas {} (numpy {}, Python {}): load {:.2} s (not counted), aggregation {} s, best {:.3} s",
        pandas["pandas"].as_str().unwrap_or("?"),
        pandas["numpy"].as_str().unwrap_or("?"),
        pandas["python"].as_str().unwrap_or("?"),
        f(&pandas["load_s"]),
        pandas["aggregation_s"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| format!("{:.3}", f(v)))
            .collect::<Vec<_>>()
            .join(" · "),
        pandas_best
    );

    // ---- the Rust report, timed
    let mut results: Vec<Backend> = Vec::new();
    if want_sqlite {
        results.push(time_backend("SQLite", &sqlite, &registry, runs, None));
        let not_indexed = FACTS_QUERY.replace("FROM interview i ", "FROM interview i NOT INDEXED ");
        let narrow = narrow_query().replace("FROM interview i ", "FROM interview i NOT INDEXED ");
        println!(
            "  SQLite: visit_facts' query stepped, every column decoded (best of 3): as the planner runs it (index interview_questionnaire) {:.3} s; NOT INDEXED (plain table scan) {:.3} s; NOT INDEXED without items_correct and questionnaire_version {:.3} s; the same with the file memory-mapped (mmap_size) {:.3} s",
            secs(sqlite_scan(&sqlite_path, FACTS_QUERY, false)),
            secs(sqlite_scan(&sqlite_path, &not_indexed, false)),
            secs(sqlite_scan(&sqlite_path, &narrow, false)),
            secs(sqlite_scan(&sqlite_path, &narrow, true)),
        );
    }
    if let Some((storage, url)) = &pg {
        let postmaster = postmaster_pid(url);
        let server_cpu = move || postgres_cpu_seconds(postmaster);
        results.push(time_backend(
            "PostgreSQL",
            storage,
            &registry,
            runs,
            Some(&server_cpu),
        ));
        let (server, narrow) = postgres_diagnostics(url);
        println!(
            "  PostgreSQL: visit_facts' query executed in the server alone (EXPLAIN ANALYZE, no rows sent; best of 3): {server:.3} s; fetched row by row without items_correct and questionnaire_version, decoded (best of 3): {:.3} s",
            secs(narrow)
        );
    }
    assert!(!results.is_empty(), "P4_BACKENDS names no backend");
    for b in &results {
        let slowest = b.filtered.iter().max_by_key(|f| f.1);
        println!(
            "{}: facts read into memory (first visit) {:.3} s; {} filtered reports from memory, slowest {:.3} s ({}); estimates API tables {:.3} s; weakest items city-wide {:.3} s",
            b.name,
            secs(b.first_visit),
            b.filtered.len(),
            slowest.map_or(0.0, |f| secs(f.1)),
            slowest.map_or("", |f| f.0.as_str()),
            secs(b.estimates),
            secs(b.weakest),
        );
    }

    // ---- cross-checks
    let reference = &results[0].report;
    assert_eq!(reference.method, Method::DesignTaylor);
    let overall = reference.overall.as_ref().unwrap();
    assert_eq!(overall.n as usize, n - rejected);
    for other in &results[1..] {
        if &other.report != reference {
            let m = compare_reports(reference, &other.report);
            println!(
                "{} and {} reports differ beyond equality: largest difference {m:.3e}",
                results[0].name, other.name
            );
            assert!(m < 1e-12, "the backends' reports differ");
        } else {
            println!(
                "{} and {} reports are identical",
                results[0].name, other.name
            );
        }
    }
    // A filter selects a domain: docs/statistics.md says a domain estimate uses the full design,
    // so the filtered report's overall figure should be the breakdown's row for that domain.
    let filter_check = {
        let storage: &dyn Storage = match &pg {
            Some((s, _)) if !want_sqlite => s,
            _ => &sqlite,
        };
        // an industry: its sites are some of the clusters of their strata
        let key = plan.industries[plan.sites[0].industry].clone();
        let t = Instant::now();
        let filtered = analysis::literacy(
            storage,
            &registry,
            &Scope::All,
            QUESTIONNAIRE_ID,
            &Filter {
                industry: Some(key.clone()),
                ..Filter::default()
            },
            MIN_CELL_N,
            "zh-CN",
        )
        .unwrap();
        println!(
            "  a report filtered to one industry (reads every interview): {:.3} s",
            secs(t.elapsed())
        );
        let row = find(reference, "industry", &key).unwrap().clone();
        let overall = filtered.overall.unwrap();
        let same = (row.n, row.successes) == (overall.n, overall.successes)
            && (row.proportion - overall.proportion).abs() < 1e-12
            && (row.interval.low - overall.interval.low).abs() < 1e-9
            && (row.interval.high - overall.interval.high).abs() < 1e-9;
        let line = format!(
            "industry = {key}: breakdown row {:.6} [{:.6}, {:.6}] deff {:.3} (n {}); report filtered to it, overall {:.6} [{:.6}, {:.6}] deff {:.3} (n {})",
            row.proportion,
            row.interval.low,
            row.interval.high,
            row.deff.unwrap_or(f64::NAN),
            row.n,
            overall.proportion,
            overall.interval.low,
            overall.interval.high,
            overall.deff.unwrap_or(f64::NAN),
            overall.n,
        );
        println!(
            "filter check ({}): {line}",
            if same { "same" } else { "DIFFERENT" }
        );
        (same, line)
    };
    // the product's unweighted report of the same interviews: sites without stratum and weight
    let unweighted = {
        let storage: &dyn Storage = match &pg {
            Some((s, _)) if !want_sqlite => s,
            _ => &sqlite,
        };
        for d in 0..plan.districts.len() {
            let mut sites = plan.site_records(d);
            for s in &mut sites {
                s.stratum = None;
                s.weight = None;
            }
            storage
                .replace_sites(
                    &plan.districts[d],
                    &sites,
                    &zhisu_server_storage::AuditEntry::now("bench", "replace_sites", ""),
                )
                .unwrap();
        }
        let r = literacy(storage, &registry);
        assert_eq!(r.method, Method::UnweightedWilson);
        r
    };
    let mismatches = compare(&pandas, reference, &unweighted);
    let po = &pandas["overall"];
    println!(
        "overall, Rust ({}): n {} successes {}, design {:.6} [{:.6}, {:.6}] deff {:.3}; unweighted {:.9} [{:.9}, {:.9}]",
        results[0].name,
        overall.n,
        overall.successes,
        overall.proportion,
        overall.interval.low,
        overall.interval.high,
        overall.deff.unwrap_or(f64::NAN),
        unweighted.overall.as_ref().unwrap().proportion,
        unweighted.overall.as_ref().unwrap().interval.low,
        unweighted.overall.as_ref().unwrap().interval.high,
    );
    println!(
        "overall, pandas: n {} successes {}, design {:.6} [{:.6}, {:.6}] deff {:.3} (se {:.6}, df {}); unweighted {:.9} [{:.9}, {:.9}]",
        po["n"],
        po["successes"],
        f(&po["design"]["proportion"]),
        f(&po["design"]["low"]),
        f(&po["design"]["high"]),
        f(&po["design"]["deff"]),
        f(&po["design"]["se"]),
        po["design"]["df"],
        f(&po["proportion_unweighted"]),
        f(&po["wilson"][0]),
        f(&po["wilson"][1]),
    );
    println!(
        "cross-check pandas vs Rust: {} domains compared (n and successes exact, unweighted to 1e-9, design-based to 1e-6): {}",
        mismatches.compared,
        if mismatches.lines.is_empty() {
            "all agree".to_string()
        } else {
            format!("{} MISMATCHES", mismatches.lines.len())
        }
    );
    for l in mismatches.lines.iter().take(40) {
        println!("  MISMATCH {l}");
    }

    // ---- the table
    println!(
        "\nsummary: {n} interviews ({} kept), {} domains; Rust = analysis::literacy from the database (its literacy cells), {runs} runs",
        n - rejected,
        domains(reference)
    );
    println!(
        "| | report best | median | runs | reading the cells alone (best) | the same from every interview (once) | pandas / Rust (best) | under 1 s | ≥ 3× pandas |"
    );
    println!("|---|---:|---:|---|---:|---:|---:|---|---|");
    for b in &results {
        let ratio = pandas_best / secs(b.best());
        println!(
            "| {} | {:.3} s | {:.3} s | {} | {:.3} s ({} cells) | {:.3} s | {:.2}× | {} | {} |",
            b.name,
            secs(b.best()),
            secs(b.median()),
            b.runs
                .iter()
                .map(|d| format!("{:.3}", secs(*d)))
                .collect::<Vec<_>>()
                .join(" · "),
            secs(b.scan_best()),
            b.scanned,
            secs(b.from_interviews),
            ratio,
            if b.median() < Duration::from_secs(1) {
                "met"
            } else {
                "NOT met"
            },
            if ratio >= 3.0 { "met" } else { "NOT met" },
        );
    }
    println!("| pandas (aggregation only, best of 3) | {pandas_best:.3} s | | | | | | | |");
    for b in &results {
        println!(
            "{}: weakest_items {:.3} s ({})",
            b.name,
            secs(b.weakest),
            b.weakest_first
        );
    }

    println!(
        "filter check (not asserted; see docs/statistics.md, domain estimation): {} — {}",
        if filter_check.0 { "same" } else { "DIFFERENT" },
        filter_check.1
    );

    drop(pg);
    drop(pg_server);
    assert!(
        mismatches.lines.is_empty(),
        "pandas and the Rust report disagree (see MISMATCH lines)"
    );
}

/// The largest difference of any figure between two reports with the same domains.
fn compare_reports(a: &LiteracyReport, b: &LiteracyReport) -> f64 {
    let all = |r: &LiteracyReport| -> Vec<Estimate> {
        r.overall
            .iter()
            .chain(&r.dimensions)
            .chain(r.breakdowns.iter().flat_map(|b| &b.rows))
            .cloned()
            .collect()
    };
    let (ea, eb) = (all(a), all(b));
    assert_eq!(
        ea.len(),
        eb.len(),
        "the backends' reports have other domains"
    );
    let mut worst = 0.0f64;
    for (x, y) in ea.iter().zip(&eb) {
        assert_eq!((&x.key, x.n, x.successes), (&y.key, y.n, y.successes));
        worst = worst
            .max((x.proportion - y.proportion).abs())
            .max((x.interval.low - y.interval.low).abs())
            .max((x.interval.high - y.interval.high).abs());
    }
    worst
}
