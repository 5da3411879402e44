//! Literacy cells: counts of stored interviews per questionnaire, district, site, population
//! and breakdown key, kept by the storage in the same transaction as the interviews they count.
//!
//! Beside them, progress cells: interviews per district, site, population and local day of
//! completion, for the progress view, and item cells: per questionnaire version, district, site
//! and population, how many interviews were asked each scored item and how many answered it
//! correctly (one row holding a count per item, so a batch of interviews changes a row per site
//! and population, not a row per item), for the weakest items (the dashboard's page, the
//! tablets' weak points, the handout and the annual report). All are kept by the same writes.
//!
//! The full literacy report (and any report narrowed only by district or population, which is
//! what a district or department viewer sees first) reads these counts instead of every
//! interview: about a hundred rows per site instead of a thousand interviews, so a city-wide
//! report over a million interviews reads tens of thousands of rows (BENCHMARKS.md, P4). The
//! design-based estimate needs nothing more, because a site is a cluster with one stratum and one
//! weight: a domain's totals in a cluster are the weight times the counts
//! ([`zhisu_stats::DesignAccumulator::observe_counts`]).
//!
//! What a cell counts is exactly what [`crate::AnalyticsStore::visit_facts`] visits: interviews
//! with their facts, not rejected in review. Every write that changes that set (ingest, a review
//! decision that rejects or takes a rejection back, the backfill of facts) applies the
//! difference to the cells in its own transaction, computed here, so both backends keep them the
//! same way. The storage conformance suite checks the cells against the interviews after each of
//! those writes.
//!
//! Cells of one interview, all with its questionnaire, district, site and population (an empty
//! text where it has none):
//!
//! | breakdown   | key                    | n | successes                     |
//! |-------------|------------------------|---|-------------------------------|
//! | `all`       | empty                  | 1 | has literacy                  |
//! | `dimension` | the dimension's index  | 1 | 1 (only for dimensions reached) |
//! | `industry`, `sex`, `age_band`, `education` | its answer (age: its band) | 1 | has literacy |
//!
//! A dimension's domain is the whole cell (its size is the `all` row's `n`); only the
//! dimensions reached are stored, so the questionnaire's number of dimensions is not needed
//! here. Population and district breakdowns are the `all` rows grouped by those columns.

use std::collections::BTreeMap;

use crate::FactRow;
use zhisu_core::age_band;

pub const ALL: &str = "all";
pub const DIMENSION: &str = "dimension";
pub const INDUSTRY: &str = "industry";
pub const SEX: &str = "sex";
pub const AGE_BAND: &str = "age_band";
pub const EDUCATION: &str = "education";

/// What an interview contributes to the cells: the columns the cells are keyed and counted by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// Local date of completion (`YYYY-MM-DD`), for the progress cells.
    pub day: String,
    /// Whether the interview has its facts (all do but rows stored before schema 6 until the
    /// backfill); only those count in the literacy cells.
    pub has_facts: bool,
    pub questionnaire_id: String,
    pub questionnaire_version: String,
    pub district: Option<String>,
    pub site_id: Option<String>,
    pub population: Option<String>,
    pub industry: Option<String>,
    pub sex: Option<String>,
    pub education: Option<String>,
    pub age: Option<i64>,
    pub has_literacy: bool,
    pub dimension_literacy: i64,
    /// Per scored item of the version: `1`, `0` or `-` (not asked), as the facts keep it
    /// (empty without facts).
    pub items_correct: String,
}

impl Counted {
    /// What an accepted interview from a device of `district`, received at `received_at`,
    /// counts.
    pub fn of(
        a: &crate::Accepted,
        district: Option<&str>,
        received_at: chrono::DateTime<chrono::Utc>,
    ) -> Counted {
        let f = &a.facts;
        let i = &a.interview;
        Counted {
            day: local_day(i.completed_at, i.utc_offset_minutes, received_at),
            has_facts: true,
            questionnaire_id: a.interview.questionnaire_id.clone(),
            questionnaire_version: a.interview.questionnaire_version.clone(),
            district: district.map(str::to_string),
            site_id: a.interview.site_id.clone(),
            population: f.population.clone(),
            industry: f.industry.clone(),
            sex: f.sex.clone(),
            education: f.education.clone(),
            age: f.age,
            has_literacy: a.score.has_literacy,
            dimension_literacy: f.dimension_literacy,
            items_correct: f.items_correct.clone(),
        }
    }
}

/// The local date of completion, `YYYY-MM-DD`: the device's clock and UTC offset at the end
/// of the interview, or the server's clock when it received the interview if the device's
/// clock looks wrong (`zhisu_protocol::limits::time_to_count_by`). Total: an offset that is
/// not a real one (stored before the protocol's limits) counts as UTC, and no date overflows.
pub fn local_day(
    completed_at: chrono::DateTime<chrono::Utc>,
    utc_offset_minutes: i32,
    received_at: chrono::DateTime<chrono::Utc>,
) -> String {
    use zhisu_protocol::limits::{time_to_count_by, MAX_UTC_OFFSET_MINUTES};
    let at = time_to_count_by(completed_at, received_at);
    let offset = if utc_offset_minutes.unsigned_abs() <= MAX_UTC_OFFSET_MINUTES.unsigned_abs() {
        utc_offset_minutes
    } else {
        0
    };
    at.checked_add_signed(chrono::Duration::minutes(i64::from(offset)))
        .unwrap_or(at)
        .format("%Y-%m-%d")
        .to_string()
}

/// A progress cell: interviews per district, site, population and local day of completion,
/// every questionnaire together, rejected ones left out (what the progress view shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProgressKey<'a> {
    pub district: &'a str,
    pub site_id: &'a str,
    pub population: &'a str,
    pub day: &'a str,
}

/// The identity of a literacy cell (empty texts for "none").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellKey<'a> {
    pub questionnaire_id: &'a str,
    pub district: &'a str,
    pub site_id: &'a str,
    pub population: &'a str,
    pub breakdown: &'a str,
    pub key: &'a str,
}

/// The identity of an item cell: one questionnaire version's interviews in a district, site
/// and population (empty texts for "none"). The cell holds a count per scored item, by the
/// item's place among the version's scored items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemKey<'a> {
    pub questionnaire_id: &'a str,
    pub questionnaire_version: &'a str,
    pub district: &'a str,
    pub site_id: &'a str,
    pub population: &'a str,
}

/// Keys of the dimension cells, by the dimension's index.
static DIMENSION_KEYS: [&str; 63] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
    "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32",
    "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47", "48",
    "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61", "62",
];

/// Nested maps keyed by text, looked up by `&str` (no allocation unless the key is new).
type Level<V> = BTreeMap<String, V>;
/// breakdown → key → (n, successes)
type Breakdowns = BTreeMap<&'static str, Level<(i64, i64)>>;
/// (asked, correct) per scored item, by the item's place among the version's scored items
type ItemCounts = Vec<(i64, i64)>;

fn level<'m, V: Default>(map: &'m mut Level<V>, key: &str) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_string(), V::default());
    }
    map.get_mut(key).expect("just inserted")
}

/// Changes to the cells, summed per cell: one interview's worth is a few map look-ups without
/// allocation once its cells are known. Iterated in key order, so that a batch's changes are
/// written in one order and concurrent writers on PostgreSQL take row locks in the same order
/// (they wait for each other, never deadlock).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CellChanges {
    /// questionnaire → district → site → population → breakdown → key
    literacy: Level<Level<Level<Level<Breakdowns>>>>,
    /// district → site → population → day
    progress: Level<Level<Level<Level<i64>>>>,
    /// questionnaire → version → district → site → population → (Δasked, Δcorrect) per
    /// scored item
    items: Level<Level<Level<Level<Level<ItemCounts>>>>>,
}

impl CellChanges {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts an interview (`sign` 1) or takes it out of the counts (`sign` −1).
    pub fn add(&mut self, c: &Counted, sign: i64) {
        let district = c.district.as_deref().unwrap_or("");
        let site = c.site_id.as_deref().unwrap_or("");
        let population = c.population.as_deref().unwrap_or("");
        let progress = level(level(&mut self.progress, district), site);
        *level(level(progress, population), &c.day) += sign;
        if !c.has_facts {
            return;
        }
        let cells = level(
            level(
                level(level(&mut self.literacy, &c.questionnaire_id), district),
                site,
            ),
            population,
        );
        let literate = i64::from(c.has_literacy);
        let mut bump = |breakdown: &'static str, key: &str, successes: i64| {
            let slot = level(cells.entry(breakdown).or_default(), key);
            slot.0 += sign;
            slot.1 += sign * successes;
        };
        bump(ALL, "", literate);
        for (bit, key) in DIMENSION_KEYS.iter().enumerate() {
            if c.dimension_literacy & (1 << bit) != 0 {
                bump(DIMENSION, key, 1);
            }
        }
        for (breakdown, key) in [
            (INDUSTRY, c.industry.as_deref()),
            (SEX, c.sex.as_deref()),
            (AGE_BAND, c.age.and_then(age_band)),
            (EDUCATION, c.education.as_deref()),
        ] {
            if let Some(key) = key {
                bump(breakdown, key, literate);
            }
        }
        // the item cells: each scored item asked, and answered correctly
        let items = level(
            level(
                level(
                    level(
                        level(&mut self.items, &c.questionnaire_id),
                        &c.questionnaire_version,
                    ),
                    district,
                ),
                site,
            ),
            population,
        );
        // a row written by another tool may hold anything: no questionnaire has more items
        let answers = c.items_correct.as_bytes();
        let answers = &answers[..answers.len().min(MAX_ITEMS)];
        if items.len() < answers.len() {
            items.resize(answers.len(), (0, 0));
        }
        for (slot, answer) in items.iter_mut().zip(answers) {
            match answer {
                b'1' => {
                    slot.0 += sign;
                    slot.1 += sign;
                }
                b'0' => slot.0 += sign,
                _ => {}
            }
        }
    }

    /// The progress cells that change, in key order: (cell, Δn).
    pub fn progress(&self) -> impl Iterator<Item = (ProgressKey<'_>, i64)> {
        self.progress.iter().flat_map(|(district, sites)| {
            sites.iter().flat_map(move |(site_id, populations)| {
                populations.iter().flat_map(move |(population, days)| {
                    days.iter().filter(|(_, &n)| n != 0).map(move |(day, &n)| {
                        (
                            ProgressKey {
                                district,
                                site_id,
                                population,
                                day,
                            },
                            n,
                        )
                    })
                })
            })
        })
    }

    /// The literacy cells that change, in key order: (cell, Δn, Δsuccesses).
    pub fn iter(&self) -> impl Iterator<Item = (CellKey<'_>, i64, i64)> {
        self.literacy
            .iter()
            .flat_map(|(questionnaire_id, districts)| {
                districts.iter().flat_map(move |(district, sites)| {
                    sites.iter().flat_map(move |(site_id, populations)| {
                        populations
                            .iter()
                            .flat_map(move |(population, breakdowns)| {
                                breakdowns.iter().flat_map(move |(breakdown, keys)| {
                                    keys.iter().filter(|(_, &(n, s))| n != 0 || s != 0).map(
                                        move |(key, &(n, s))| {
                                            (
                                                CellKey {
                                                    questionnaire_id,
                                                    district,
                                                    site_id,
                                                    population,
                                                    breakdown,
                                                    key,
                                                },
                                                n,
                                                s,
                                            )
                                        },
                                    )
                                })
                            })
                    })
                })
            })
    }

    /// The item cells that change, in key order: (cell, (Δasked, Δcorrect) per scored item),
    /// the cells whose counts do not change left out.
    pub fn items(&self) -> impl Iterator<Item = (ItemKey<'_>, &[(i64, i64)])> {
        self.items.iter().flat_map(|(questionnaire_id, versions)| {
            versions
                .iter()
                .flat_map(move |(questionnaire_version, districts)| {
                    districts.iter().flat_map(move |(district, sites)| {
                        sites.iter().flat_map(move |(site_id, populations)| {
                            populations
                                .iter()
                                .filter(|(_, counts)| counts.iter().any(|&c| c != (0, 0)))
                                .map(move |(population, counts)| {
                                    (
                                        ItemKey {
                                            questionnaire_id,
                                            questionnaire_version,
                                            district,
                                            site_id,
                                            population,
                                        },
                                        counts.as_slice(),
                                    )
                                })
                        })
                    })
                })
        })
    }

    /// The change from what the cells counted of one interview (`before`, `None` when they did
    /// not count it) to what they count now.
    pub fn between(before: Option<&Counted>, after: Option<&Counted>) -> CellChanges {
        let mut changes = CellChanges::new();
        if let Some(b) = before {
            changes.add(b, -1);
        }
        if let Some(a) = after {
            changes.add(a, 1);
        }
        changes
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
            && self.progress().next().is_none()
            && self.items().next().is_none()
    }

    /// The literacy and item cells of the interviews `visit_facts` shows, counted afresh (to
    /// check the stored ones; the progress cells are not made here).
    pub fn of_facts(
        storage: &dyn crate::Storage,
        questionnaire_id: &str,
    ) -> Result<CellChanges, crate::StorageError> {
        let mut out = CellChanges::new();
        storage.visit_facts(
            &crate::people::Scope::All,
            questionnaire_id,
            &mut |row: &FactRow<'_>| {
                out.add(
                    &Counted {
                        day: String::new(),
                        has_facts: true,
                        questionnaire_id: questionnaire_id.to_string(),
                        questionnaire_version: row.questionnaire_version.to_string(),
                        district: row.district.map(str::to_string),
                        site_id: row.site_id.map(str::to_string),
                        population: row.population.map(str::to_string),
                        industry: row.industry.map(str::to_string),
                        sex: row.sex.map(str::to_string),
                        education: row.education.map(str::to_string),
                        age: row.age,
                        has_literacy: row.has_literacy,
                        dimension_literacy: row.dimension_literacy,
                        items_correct: row.items_correct.to_string(),
                    },
                    1,
                )
            },
        )?;
        Ok(out)
    }
}

/// One stored cell as a report reads it, with the sample-plan fields of its site.
#[derive(Debug, Clone, Copy)]
pub struct CellRow<'a> {
    pub district: Option<&'a str>,
    pub site_id: Option<&'a str>,
    pub population: Option<&'a str>,
    pub breakdown: &'a str,
    pub key: &'a str,
    pub n: u64,
    pub successes: u64,
    pub stratum: Option<&'a str>,
    pub weight: Option<f64>,
}

/// One stored item cell as the weakest items read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemCellRow<'a> {
    pub questionnaire_version: &'a str,
    pub district: Option<&'a str>,
    pub site_id: Option<&'a str>,
    pub population: Option<&'a str>,
    /// Per scored item of the version, in its order: the interviews asked it.
    pub asked: &'a [u64],
    /// Per scored item likewise: those that answered it correctly.
    pub correct: &'a [u64],
}

/// The most counts an item cell is read with: no questionnaire has more items.
pub const MAX_ITEMS: usize = zhisu_core::limits::MAX_ITEMS;

/// Counts per scored item as a cell's text keeps them on SQLite: decimal numbers separated by
/// commas (`3,0,12`).
pub fn counts_text(counts: impl IntoIterator<Item = i64>) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    for (i, n) in counts.into_iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        let _ = write!(text, "{n}"); // writing to a String cannot fail
    }
    text
}

/// [`counts_text`] read back into `into` (cleared first); a part that is not a number counts as
/// 0 and a negative count as 0, so a damaged cell cannot stop a report. At most
/// [`MAX_ITEMS`] counts are read.
pub fn read_counts(text: &str, into: &mut Vec<u64>) {
    into.clear();
    if text.is_empty() {
        return;
    }
    into.extend(
        text.split(',')
            .take(MAX_ITEMS)
            .map(|part| part.trim().parse::<i64>().unwrap_or(0).max(0) as u64),
    );
}

/// Adds `changes` (Δasked, Δcorrect per item) to stored counts, lengthening them as needed.
pub fn add_counts(asked: &mut Vec<i64>, correct: &mut Vec<i64>, changes: &[(i64, i64)]) {
    let len = changes.len().max(asked.len()).max(correct.len());
    asked.resize(len, 0);
    correct.resize(len, 0);
    for (i, &(da, dc)) in changes.iter().enumerate() {
        asked[i] += da;
        correct[i] += dc;
    }
}

/// The empty text a cell stores for "none" read back as `None`.
pub fn none_if_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted() -> Counted {
        Counted {
            day: "2026-11-29".into(),
            has_facts: true,
            questionnaire_id: "ohl".into(),
            questionnaire_version: "1".into(),
            district: Some("yuzhong".into()),
            site_id: Some("s1".into()),
            population: Some("teacher".into()),
            industry: Some("education".into()),
            sex: Some("female".into()),
            education: None,
            age: Some(30),
            has_literacy: true,
            dimension_literacy: 0b1010,
            items_correct: "10-1".into(),
        }
    }

    #[test]
    fn an_interview_counts_once_in_each_of_its_cells() {
        let mut c = CellChanges::new();
        c.add(&counted(), 1);
        let cells: Vec<_> = c
            .iter()
            .map(|(k, n, s)| (k.breakdown, k.key, n, s))
            .collect();
        assert_eq!(
            cells,
            vec![
                ("age_band", "25-34", 1, 1),
                ("all", "", 1, 1),
                ("dimension", "1", 1, 1),
                ("dimension", "3", 1, 1),
                ("industry", "education", 1, 1),
                ("sex", "female", 1, 1),
            ]
        );
        // each item asked counts once, a correct answer once more; one not asked not at all
        let items: Vec<_> = c.items().collect();
        assert_eq!(items.len(), 1);
        let (key, counts) = items[0];
        assert_eq!(counts, [(1, 1), (1, 0), (0, 0), (1, 1)]);
        assert_eq!(
            (
                key.questionnaire_version,
                key.district,
                key.site_id,
                key.population
            ),
            ("1", "yuzhong", "s1", "teacher")
        );
    }

    #[test]
    fn counting_and_taking_out_again_changes_nothing() {
        let mut c = CellChanges::new();
        c.add(&counted(), 1);
        let mut other = counted();
        other.has_literacy = false;
        other.site_id = None;
        c.add(&other, 1);
        let mut without_facts = counted();
        without_facts.has_facts = false;
        without_facts.items_correct = String::new();
        c.add(&without_facts, 1);
        // (site none) 1, (site s1) 2: two interviews there, one without its facts yet
        assert_eq!(c.progress().map(|(_, n)| n).collect::<Vec<_>>(), [1, 2]);
        c.add(&counted(), -1);
        c.add(&other, -1);
        c.add(&without_facts, -1);
        assert!(c.is_empty());
    }

    #[test]
    fn counts_are_kept_as_text_and_read_back_whatever_the_text() {
        assert_eq!(counts_text([3, 0, 12]), "3,0,12");
        assert_eq!(counts_text([]), "");
        let mut read = vec![9];
        read_counts("3,0,12", &mut read);
        assert_eq!(read, [3, 0, 12]);
        read_counts("", &mut read);
        assert!(read.is_empty());
        read_counts("1,x,-4, 2", &mut read);
        assert_eq!(read, [1, 0, 0, 2]);
        read_counts(&",".repeat(100_000), &mut read);
        assert_eq!(read.len(), MAX_ITEMS);
        let (mut asked, mut correct) = (vec![1, 1], vec![1, 0]);
        add_counts(&mut asked, &mut correct, &[(1, 0), (0, 0), (2, 1)]);
        assert_eq!((asked, correct), (vec![2, 1, 2], vec![1, 0, 1]));
    }
}
