//! The facts of every analysed interview of a questionnaire, held in memory between reports.
//!
//! A report filtered by industry, sex, age or education, the estimate tables, the weakest items
//! and the annual report all read every interview's facts ([`AnalyticsStore::visit_facts`]):
//! a million rows from the database take seconds, from memory a few hundred milliseconds. The
//! backends keep one [`FactsCache`] and answer `visit_facts` from it.
//!
//! **Never stale.** Every write that changes what `visit_facts` shows bumps the database's
//! *facts generation* in the same transaction: ingest, a review decision, facts set again, a
//! respondent's data deleted (all of which change the literacy cells, and the backends bump the
//! generation where they apply cell changes), and a new sample plan (the joined stratum and
//! weight). A visit reads the generation first, a one-row query; a snapshot of another
//! generation is dropped and read again from the database, so a report never shows less than
//! what was committed before it started, whichever server process wrote it. A snapshot is read
//! after its generation, so a write during the read makes it one generation behind at once
//! (read again next time), never ahead.
//!
//! **Busy stores.** A snapshot is read only when the facts have stayed as they were for
//! [`QUIET`] since a visit last found its snapshot stale; while interviews keep arriving, visits
//! read the database directly and hold nothing.
//!
//! **Memory.** Strings are interned (versions, districts, sites, keys, module and measure
//! outcomes repeat); per-item correctness is packed four items to a byte. About 110 bytes per
//! interview of a hundred scored items, 110 MB for a million (BENCHMARKS.md, P4). While a snapshot is read again the old
//! one stays until the new one is ready.
//!
//! [`AnalyticsStore::visit_facts`]: crate::AnalyticsStore::visit_facts

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{FactRow, Scope, StorageError};

/// What a backend gives the cache: the generation, and one pass over the facts.
pub trait FactsSource {
    /// The facts generation: changed by every committed write that changes what
    /// [`scan_facts`](Self::scan_facts) gives.
    fn facts_generation(&self) -> Result<i64, StorageError>;

    /// Every analysed interview of `questionnaire_id` (not rejected, with facts), whatever the
    /// scope, with the device that sent it (its id as text) and its site's stratum and weight.
    fn scan_facts(
        &self,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(Option<&str>, &FactRow<'_>),
    ) -> Result<(), StorageError>;
}

/// The snapshots of each questionnaire. One per backend.
pub struct FactsCache {
    slots: Mutex<HashMap<String, Slot>>,
    quiet: Duration,
}

impl Default for FactsCache {
    fn default() -> Self {
        FactsCache {
            slots: Mutex::default(),
            quiet: QUIET,
        }
    }
}

/// How long the facts must have stayed as they were before a snapshot is read. While
/// interviews keep arriving (fieldwork: a write every few seconds), a snapshot would be stale
/// by the next report and reading it again each time would only churn memory: reports then read
/// the database directly, as before there was a snapshot, and hold nothing.
pub const QUIET: Duration = Duration::from_secs(30);

/// One questionnaire's snapshot, if read, and when the last one was found stale; locked while
/// it is read, so that one reader reads it.
type Slot = Arc<Mutex<SlotState>>;

#[derive(Default)]
struct SlotState {
    snapshot: Option<Arc<Snapshot>>,
    /// When a visit last found no snapshot of the current generation.
    missed_at: Option<Instant>,
}

impl FactsCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// A cache that reads a snapshot once the facts have stayed as they were for `quiet`
    /// ([`QUIET`] by default; zero: always).
    pub fn with_quiet(quiet: Duration) -> Self {
        FactsCache {
            quiet,
            ..Self::default()
        }
    }

    /// Calls `visit` with the facts of every analysed interview of `questionnaire_id` that
    /// `scope` may read, from the snapshot of the current generation (read from `source`
    /// first when there is none).
    pub fn visit(
        &self,
        source: &dyn FactsSource,
        scope: &Scope,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(&FactRow<'_>),
    ) -> Result<(), StorageError> {
        match self.snapshot(source, questionnaire_id)? {
            Some(snapshot) => snapshot.visit(scope, &mut |_, row| visit(row)),
            None => source.scan_facts(questionnaire_id, &mut |_, row| {
                if scope.admits(row.district, row.population) {
                    visit(row)
                }
            })?,
        }
        Ok(())
    }

    /// [`visit`](Self::visit) of every analysed interview, whatever the scope, each with the
    /// id of the device that sent it (the backend joins what it needs of the device, which
    /// changes without moving the generation).
    pub fn visit_with_device(
        &self,
        source: &dyn FactsSource,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(Option<&str>, &FactRow<'_>),
    ) -> Result<(), StorageError> {
        match self.snapshot(source, questionnaire_id)? {
            Some(snapshot) => snapshot.visit(&Scope::All, visit),
            None => source.scan_facts(questionnaire_id, visit)?,
        }
        Ok(())
    }

    /// [`visit_with_device`](Self::visit_with_device) with each device's round looked up in
    /// `rounds` (device id → round, read fresh by the backend: a round changes without moving
    /// the generation). Interviews come in runs from one device: the last device's round is
    /// kept at hand rather than hashed per interview.
    pub fn visit_with_round(
        &self,
        source: &dyn FactsSource,
        questionnaire_id: &str,
        rounds: &HashMap<String, String>,
        visit: &mut dyn FnMut(Option<&str>, &FactRow<'_>),
    ) -> Result<(), StorageError> {
        let mut last: (String, Option<&str>) = (String::new(), None);
        self.visit_with_device(source, questionnaire_id, &mut |device, row| {
            let round = match device {
                None => None,
                Some(d) if d == last.0 && !d.is_empty() => last.1,
                Some(d) => {
                    let round = rounds.get(d).map(String::as_str);
                    last.0.clear();
                    last.0.push_str(d);
                    last.1 = round;
                    round
                }
            };
            visit(round, row)
        })
    }

    /// Drops every snapshot (a test's way of reading from the database again).
    pub fn clear(&self) {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The snapshot of the current generation, read now if the facts have been quiet; `None`
    /// while they keep changing (the caller reads the database).
    fn snapshot(
        &self,
        source: &dyn FactsSource,
        questionnaire_id: &str,
    ) -> Result<Option<Arc<Snapshot>>, StorageError> {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(questionnaire_id.to_string())
            .or_default()
            .clone();
        // one reader per questionnaire: a second report waits for the snapshot the first reads
        let mut held = slot.lock().unwrap_or_else(|e| e.into_inner());
        let generation = source.facts_generation()?;
        if let Some(snapshot) = held
            .snapshot
            .as_ref()
            .filter(|s| s.generation == generation)
        {
            return Ok(Some(snapshot.clone()));
        }
        // stale or none: the memory of a stale one goes now
        held.snapshot = None;
        let now = Instant::now();
        let busy = held
            .missed_at
            .is_some_and(|at| now.duration_since(at) < self.quiet);
        held.missed_at = Some(now);
        if busy {
            return Ok(None);
        }
        let mut builder = Builder::new(generation);
        source.scan_facts(questionnaire_id, &mut |device, row| {
            builder.push(device, row)
        })?;
        let snapshot = Arc::new(builder.finish());
        held.snapshot = Some(snapshot.clone());
        Ok(Some(snapshot))
    }
}

/// No string (`None`; the empty string is a string like any other).
const NONE: u32 = 0;
/// `items_len` of a row whose correctness is not made of `0`, `1` and `-` only: `items_at` is
/// then an interned string.
const VERBATIM: u16 = u16::MAX;
/// An age of `None`.
const NO_AGE: i64 = i64::MIN;

#[derive(Debug, Clone, Copy)]
struct Packed {
    version: u32,
    device: u32,
    district: u32,
    site: u32,
    population: u32,
    industry: u32,
    sex: u32,
    education: u32,
    more: [u32; 5],
    modules: u32,
    measures: u32,
    /// Index into the snapshot's plans (stratum and weight), [`NONE`] for none.
    plan: u32,
    dimension_literacy: u32,
    items_at: u32,
    items_len: u16,
    has_literacy: bool,
    age: i64,
}

/// Each packed byte as its four items.
const UNPACK: [[u8; 4]; 256] = {
    let mut table = [[0u8; 4]; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut i = 0;
        while i < 4 {
            table[byte][i] = match (byte >> (2 * i)) & 3 {
                0 => b'0',
                1 => b'1',
                _ => b'-',
            };
            i += 1;
        }
        byte += 1;
    }
    table
};

/// One generation's facts of one questionnaire.
struct Snapshot {
    generation: i64,
    /// Interned strings; index 0 stands for none ([`NONE`]).
    strings: Vec<Box<str>>,
    /// Strata and weights; index 0 unused ([`NONE`]).
    plans: Vec<(u32, Option<f64>)>,
    rows: Vec<Packed>,
    /// Per-item correctness, four items to a byte.
    items: Vec<u8>,
}

struct Builder {
    snapshot: Snapshot,
    index: HashMap<Box<str>, u32>,
    plan_index: HashMap<(u32, Option<u64>), u32>,
}

impl Builder {
    fn new(generation: i64) -> Self {
        Builder {
            snapshot: Snapshot {
                generation,
                strings: vec!["".into()],
                plans: vec![(NONE, None)],
                rows: Vec::new(),
                items: Vec::new(),
            },
            index: HashMap::new(),
            plan_index: HashMap::new(),
        }
    }

    fn intern(&mut self, s: Option<&str>) -> u32 {
        let Some(s) = s else {
            return NONE;
        };
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.snapshot.strings.len() as u32;
        self.snapshot.strings.push(s.into());
        self.index.insert(s.into(), i);
        i
    }

    fn push(&mut self, device: Option<&str>, row: &FactRow<'_>) {
        let plan = match (row.stratum, row.weight) {
            (None, None) => NONE,
            (stratum, weight) => {
                let stratum = self.intern(stratum);
                let next = self.snapshot.plans.len() as u32;
                let at = *self
                    .plan_index
                    .entry((stratum, weight.map(f64::to_bits)))
                    .or_insert(next);
                if at == next {
                    self.snapshot.plans.push((stratum, weight));
                }
                at
            }
        };
        let (items_at, items_len) = self.pack_items(row.items_correct);
        let packed = Packed {
            version: self.intern(Some(row.questionnaire_version)),
            device: self.intern(device),
            district: self.intern(row.district),
            site: self.intern(row.site_id),
            population: self.intern(row.population),
            industry: self.intern(row.industry),
            sex: self.intern(row.sex),
            education: self.intern(row.education),
            more: row.more.map(|k| self.intern(k)),
            modules: self.intern(Some(row.modules)),
            measures: self.intern(Some(row.measures)),
            plan,
            dimension_literacy: row.dimension_literacy as u32,
            items_at,
            items_len,
            has_literacy: row.has_literacy,
            age: row.age.unwrap_or(NO_AGE),
        };
        self.snapshot.rows.push(packed);
    }

    /// Packs `0`, `1` and `-` four to a byte; anything else is interned as it is.
    fn pack_items(&mut self, items: &str) -> (u32, u16) {
        let packable = items.len() < VERBATIM as usize
            && items.bytes().all(|b| matches!(b, b'0' | b'1' | b'-'));
        if !packable {
            return (self.intern(Some(items)), VERBATIM);
        }
        let at = self.snapshot.items.len() as u32;
        for chunk in items.as_bytes().chunks(4) {
            let mut byte = 0u8;
            for (i, b) in chunk.iter().enumerate() {
                let code = match b {
                    b'0' => 0,
                    b'1' => 1,
                    _ => 2,
                };
                byte |= code << (2 * i);
            }
            self.snapshot.items.push(byte);
        }
        (at, items.len() as u16)
    }

    fn finish(mut self) -> Snapshot {
        self.snapshot.rows.shrink_to_fit();
        self.snapshot.items.shrink_to_fit();
        self.snapshot.strings.shrink_to_fit();
        self.snapshot
    }
}

impl Snapshot {
    fn text(&self, i: u32) -> Option<&str> {
        (i != NONE).then(|| &*self.strings[i as usize])
    }

    fn find(&self, s: &str) -> Option<u32> {
        // the scope's few values, looked up once per visit
        self.strings
            .iter()
            .position(|t| &**t == s)
            .map(|i| i as u32)
            .filter(|&i| i != NONE)
    }

    fn visit(&self, scope: &Scope, visit: &mut dyn FnMut(Option<&str>, &FactRow<'_>)) {
        enum Admit {
            All,
            District(Option<u32>),
            Populations(Vec<u32>),
        }
        let admit = match scope {
            Scope::All => Admit::All,
            Scope::District(d) => Admit::District(self.find(d)),
            Scope::Populations(ps) => {
                Admit::Populations(ps.iter().filter_map(|p| self.find(p)).collect())
            }
        };
        let mut items: Vec<u8> = Vec::new();
        for row in &self.rows {
            let admitted = match &admit {
                Admit::All => true,
                Admit::District(d) => *d == Some(row.district),
                Admit::Populations(ps) => ps.contains(&row.population),
            };
            if !admitted {
                continue;
            }
            let items_correct = if row.items_len == VERBATIM {
                self.text(row.items_at).unwrap_or("")
            } else {
                // four items a byte, through a table: the visit's main cost otherwise
                let len = row.items_len as usize;
                let packed = &self.items[row.items_at as usize..][..len.div_ceil(4)];
                items.clear();
                for &byte in packed {
                    items.extend_from_slice(&UNPACK[byte as usize]);
                }
                items.truncate(len);
                std::str::from_utf8(&items).expect("0, 1 and - only")
            };
            let (stratum, weight) = match row.plan {
                NONE => (None, None),
                p => {
                    let (stratum, weight) = self.plans[p as usize];
                    (self.text(stratum), weight)
                }
            };
            visit(
                self.text(row.device),
                &FactRow {
                    questionnaire_version: self.text(row.version).unwrap_or(""),
                    district: self.text(row.district),
                    site_id: self.text(row.site),
                    population: self.text(row.population),
                    industry: self.text(row.industry),
                    sex: self.text(row.sex),
                    education: self.text(row.education),
                    age: (row.age != NO_AGE).then_some(row.age),
                    has_literacy: row.has_literacy,
                    dimension_literacy: i64::from(row.dimension_literacy),
                    items_correct,
                    stratum,
                    weight,
                    more: row.more.map(|k| self.text(k)),
                    modules: self.text(row.modules).unwrap_or(""),
                    measures: self.text(row.measures).unwrap_or(""),
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Facts as a backend would give them, with the generation a write would bump.
    struct Rows {
        generation: std::cell::Cell<i64>,
        scans: std::cell::Cell<u32>,
        rows: Vec<Given>,
    }

    /// Version, district, population, age, items, stratum and weight.
    type Given = (
        String,
        Option<String>,
        Option<String>,
        Option<i64>,
        String,
        Option<(String, f64)>,
    );

    impl FactsSource for Rows {
        fn facts_generation(&self) -> Result<i64, StorageError> {
            Ok(self.generation.get())
        }

        fn scan_facts(
            &self,
            _questionnaire_id: &str,
            visit: &mut dyn FnMut(Option<&str>, &FactRow<'_>),
        ) -> Result<(), StorageError> {
            self.scans.set(self.scans.get() + 1);
            for (version, district, population, age, items, plan) in &self.rows {
                let device = district.as_ref().map(|_| "0b6e8a64-device");
                visit(
                    device,
                    &FactRow {
                        questionnaire_version: version,
                        district: district.as_deref(),
                        site_id: Some("s1"),
                        population: population.as_deref(),
                        industry: None,
                        sex: Some("female"),
                        education: None,
                        age: *age,
                        has_literacy: items.starts_with('1'),
                        dimension_literacy: 0b1011,
                        items_correct: items,
                        stratum: plan.as_ref().map(|p| p.0.as_str()),
                        weight: plan.as_ref().map(|p| p.1),
                        more: [
                            Some("small"),
                            None,
                            Some("dispatch"),
                            Some("yes"),
                            Some("going_home"),
                        ],
                        modules: "-1-",
                        measures: "01-1",
                    },
                );
            }
            Ok(())
        }
    }

    fn seen(cache: &FactsCache, source: &Rows, scope: &Scope) -> Vec<String> {
        let mut out = Vec::new();
        match scope {
            Scope::All => cache
                .visit_with_device(source, "q", &mut |d, r| out.push(format!("{d:?} {r:?}")))
                .unwrap(),
            _ => cache
                .visit(source, scope, "q", &mut |r| out.push(format!("{r:?}")))
                .unwrap(),
        }
        out
    }

    /// What the source gives, formatted the same way, straight.
    fn straight(source: &Rows, scope: &Scope) -> Vec<String> {
        let mut out = Vec::new();
        source
            .scan_facts("q", &mut |d, r| match scope {
                Scope::All => out.push(format!("{d:?} {r:?}")),
                _ if scope.admits(r.district, r.population) => out.push(format!("{r:?}")),
                _ => {}
            })
            .unwrap();
        out
    }

    #[test]
    fn the_snapshot_gives_back_exactly_what_it_was_given_and_is_read_again_when_the_generation_moves(
    ) {
        let mut source = Rows {
            generation: 1.into(),
            scans: 0.into(),
            rows: vec![
                (
                    "2026.2".into(),
                    Some("yuzhong".into()),
                    Some("teacher".into()),
                    Some(33),
                    "10-1-0011".into(),
                    Some(("large".into(), 40.5)),
                ),
                ("2026.1".into(), None, None, None, "".into(), None),
                (
                    "2026.2".into(),
                    Some("jiangbei".into()),
                    Some("medical".into()),
                    Some(-5),
                    "1x?".into(),
                    Some(("small".into(), 0.1 + 0.2)),
                ),
                (
                    "2026.2".into(),
                    Some("yuzhong".into()),
                    Some("medical".into()),
                    Some(i64::MAX),
                    "-".repeat(1001),
                    Some(("large".into(), 40.5)),
                ),
            ],
        };
        let cache = FactsCache::with_quiet(Duration::ZERO);
        let scopes = [
            Scope::All,
            Scope::District("yuzhong".into()),
            Scope::District("nowhere".into()),
            Scope::Populations(vec!["medical".into(), "none".into()]),
            Scope::Populations(vec![]),
        ];
        let want: Vec<Vec<String>> = scopes.iter().map(|s| straight(&source, s)).collect();
        source.scans.set(0);
        for (scope, want) in scopes.iter().zip(&want) {
            assert_eq!(&seen(&cache, &source, scope), want, "{scope:?}");
        }
        assert_eq!(want[2].len(), 0);
        assert_eq!(want[3].len(), 2);
        assert_eq!(
            source.scans.get(),
            1,
            "one read for every visit of one generation"
        );
        // a write elsewhere: the snapshot is read again
        source.rows.pop();
        source.generation.set(2);
        let want = straight(&source, &Scope::All);
        source.scans.set(0);
        assert_eq!(seen(&cache, &source, &Scope::All), want);
        assert_eq!(seen(&cache, &source, &Scope::All).len(), 3);
        assert_eq!(source.scans.get(), 1, "read again once");

        // while the facts keep changing, visits read the source and keep no snapshot
        let busy = FactsCache::new();
        let want = straight(&source, &Scope::All);
        source.scans.set(0);
        assert_eq!(seen(&busy, &source, &Scope::All), want, "the first read");
        source.generation.set(3);
        assert_eq!(seen(&busy, &source, &Scope::All), want, "changed at once");
        assert_eq!(seen(&busy, &source, &Scope::All), want, "held nothing");
        assert_eq!(source.scans.get(), 3, "every visit read the source");
        assert!(busy.slots.lock().unwrap()["q"]
            .lock()
            .unwrap()
            .snapshot
            .is_none());
    }
}
