//! TEST HELPER, not part of the product: the writer process of the kill test
//! (`crates/zhisu-store/tests/kill.rs`). It is a binary only so that the test can run it as a
//! separate process and SIGKILL it at a random moment; nothing ships or calls it otherwise.
//!
//! ```text
//! zhisu-store-kill-writer <database> <questionnaire.toml> <seed> <key-directory>
//! zhisu-store-kill-writer encrypt <database> <key-directory> <pause-at-step>
//! ```
//!
//! The second form is the writer of the migration kill test (`tests/encryption.rs`): it opens a
//! plain database with the key, which encrypts it in place, printing `step <name>` at each step
//! of the migration, and stops for ever after printing `<pause-at-step>` (or, when that is
//! `none`, after printing `opened`), waiting for the kill.
//!
//! It opens the device store (running migrations and WAL recovery), resumes the interview left
//! in progress by a previous (killed) run or starts a new one, and then writes as fast as it can
//! and for ever, the way an interview screen would: answers items in order, now and then goes
//! back and changes an earlier answer, completes the interview when nothing is left to ask (or
//! discards it when it cannot be completed, or at random), and starts the next one. It never
//! stops by itself: the test kills it.
//!
//! Protocol, one line on stdout per event, each written and flushed before the next store call:
//!
//! ```text
//! ready                    the store is open and what to resume is loaded; writes follow
//! start <id>               → started <id>
//! save <id> <item> <json>  → saved <id> <item> <json>
//! complete <id>            → completed <id>   |  incomplete <id>  (refused, nothing changed)
//! discard <id>             → discarded <id>
//! ```
//!
//! The intent line (`start`, `save`, …) is flushed *before* the store is called, the result line
//! only after the call returned `Ok` (for `save_answer`: after the commit). Store calls happen one
//! at a time, so when the process dies at most one operation is unreported, and it is the one
//! named by the last intent line that has no result line. A store error other than a refused
//! completion is a test failure: the writer panics, and the test sees it exit by itself.
#![forbid(unsafe_code)]

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use zhisu_testkit::Rng;

use chrono::Utc;
use uuid::Uuid;
use zhisu_core::{AnswerValue, Answers, EligibilityStatus, Item, ItemKind, Questionnaire};
use zhisu_store::{
    load_or_create_key_file, DeviceStore, EncryptionStep, InterviewState, NewInterview, StoreError,
};

/// Opens a plain database with the key (encrypting it), reporting each step; pauses for ever
/// after the step named `pause_at`.
fn encrypt(db: &Path, key_dir: &Path, pause_at: &str) -> ExitCode {
    let key = load_or_create_key_file(key_dir).expect("the key file is readable");
    let mut out = Out(std::io::stdout());
    let store = DeviceStore::open_reporting(db, &key, &mut |step: EncryptionStep| {
        out.line(format!("step {}", step.name()));
        if step.name() == pause_at {
            wait_for_the_kill();
            std::process::exit(4);
        }
    })
    .expect("the store opens");
    drop(store);
    out.line("opened".into());
    wait_for_the_kill();
    ExitCode::from(4)
}

/// Sleeps until the test kills the process (or [`GIVE_UP_AFTER`] passed).
fn wait_for_the_kill() {
    std::thread::sleep(GIVE_UP_AFTER);
}

/// If the test is gone without killing us (and its end of the pipe is somehow still open),
/// stop anyway.
const GIVE_UP_AFTER: Duration = Duration::from_secs(300);

/// Writes each line with one `write` and flushes it, so the reader gets whole lines. A broken
/// pipe means the test is gone: stop quietly.
struct Out(std::io::Stdout);

impl Out {
    fn line(&mut self, line: String) {
        let mut lock = self.0.lock();
        let line = line + "\n";
        if lock.write_all(line.as_bytes()).is_err() || lock.flush().is_err() {
            std::process::exit(3);
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let [_, verb, db, key_dir, pause_at] = &args[..] {
        if verb == "encrypt" {
            return encrypt(Path::new(db), Path::new(key_dir), pause_at);
        }
    }
    let [_, db, questionnaire, seed, key_dir] = &args[..] else {
        eprintln!(
            "usage: zhisu-store-kill-writer <database> <questionnaire.toml> <seed> <key-directory>"
        );
        return ExitCode::from(2);
    };
    let key = load_or_create_key_file(Path::new(key_dir)).expect("the key file is readable");
    let seed: u64 = seed.parse().expect("the seed is a u64");
    let text = std::fs::read_to_string(questionnaire).expect("the questionnaire file is readable");
    let q =
        Questionnaire::from_toml(questionnaire, &text).unwrap_or_else(|d| panic!("{}", d.lines()));
    let mut store = DeviceStore::open(Path::new(db), &key).expect("the store opens");
    // every completion is sealed to this round key (the test holds the private half)
    let round = zhisu_protocol::sealed::RoundSecretKey::from_hex("2026", &"5d".repeat(32))
        .expect("a round key");
    store
        .save_round_key(Some(&round.public_key()))
        .expect("the round key is kept");
    let mut out = Out(std::io::stdout());
    Writer {
        q: &q,
        store: &mut store,
        out: &mut out,
        rng: Rng::new(seed),
        answers: Answers::new(),
        unanswerable: HashSet::new(),
    }
    .run();
    ExitCode::from(4) // only after GIVE_UP_AFTER
}

struct Writer<'a> {
    q: &'a Questionnaire,
    store: &'a mut DeviceStore,
    out: &'a mut Out,
    rng: Rng,
    /// The answers of the current interview: read from the store when it is resumed, then kept
    /// up to date after each save (this is the only writer).
    answers: Answers,
    /// Items of the current interview for which no valid answer was found: left unanswered.
    unanswerable: HashSet<String>,
}

impl Writer<'_> {
    fn run(&mut self) {
        let started = Instant::now();
        // Resume what a killed predecessor left in progress, as the app does after a restart.
        let mut current = self
            .store
            .interviews()
            .expect("interviews are listed")
            .into_iter()
            .find(|i| i.state == InterviewState::InProgress && i.questionnaire_id == self.q.id)
            .map(|i| i.id);
        if let Some(id) = current {
            self.answers = self.store.answers(id).expect("answers");
        }
        // From here on, only writes: the test times most kills from this line.
        self.out.line("ready".into());
        while started.elapsed() < GIVE_UP_AFTER {
            let id = match current {
                Some(id) => id,
                None => {
                    let id = self.start();
                    current = Some(id);
                    id
                }
            };
            if !self.step(id) {
                current = None;
                self.answers.clear();
                self.unanswerable.clear();
            }
        }
    }

    fn start(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.rng.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.rng.next_u64().to_le_bytes());
        let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
        self.out.line(format!("start {id}"));
        self.store
            .start_interview(self.q, &NewInterview::new(id, Utc::now(), 480))
            .expect("start_interview");
        self.out.line(format!("started {id}"));
        id
    }

    /// One store write on interview `id`. Returns false when the interview is closed.
    fn step(&mut self, id: Uuid) -> bool {
        let answers = self.answers.clone();
        // Sometimes the respondent gives up half-way.
        if answers.len() >= 3 && self.rng.one_in(400) {
            self.discard(id);
            return false;
        }
        // Sometimes go back and change an earlier answer: an UPDATE of the answer row.
        if self.rng.one_in(4) {
            if let Some((item, value)) = self.revision(&answers) {
                self.save(id, &item, &value);
                return true;
            }
        }
        // Otherwise answer the next unanswered item: an INSERT.
        match self.next_unanswered(&answers) {
            Some(item) => {
                let item = &self.q.items[item];
                match self.pick_value(item, &answers, None) {
                    Some(value) => self.save(id, &item.id.clone(), &value),
                    None => {
                        self.unanswerable.insert(item.id.clone());
                    }
                }
                true
            }
            None => {
                self.out.line(format!("complete {id}"));
                match self.store.complete_interview(self.q, id, Utc::now()) {
                    Ok(_) => self.out.line(format!("completed {id}")),
                    Err(StoreError::Incomplete(_)) => {
                        // Not eligible, or an answer no longer fits after a change: nothing was
                        // written; give the interview up.
                        self.out.line(format!("incomplete {id}"));
                        self.discard(id);
                    }
                    Err(e) => panic!("complete_interview {id}: {e}"),
                }
                false
            }
        }
    }

    fn save(&mut self, id: Uuid, item: &str, value: &AnswerValue) {
        let json = serde_json::to_string(value).expect("answers serialise");
        self.out.line(format!("save {id} {item} {json}"));
        self.store
            .save_answer(self.q, id, item, value, Utc::now())
            .unwrap_or_else(|e| panic!("save_answer {id} {item} {json}: {e}"));
        self.out.line(format!("saved {id} {item} {json}"));
        self.answers.insert(item.to_string(), value.clone());
    }

    fn discard(&mut self, id: Uuid) {
        self.out.line(format!("discard {id}"));
        self.store
            .discard_interview(id, "kill test: respondent stopped", Utc::now())
            .expect("discard_interview");
        self.out.line(format!("discarded {id}"));
    }

    /// The first item asked, in order, that takes an answer and has none yet: what walking the
    /// screens with `next_item` reaches, with relevance computed once.
    fn next_unanswered(&self, answers: &Answers) -> Option<usize> {
        if self.q.eligibility_status(answers) == EligibilityStatus::Ineligible {
            return None;
        }
        let relevant = self.q.relevance(answers);
        (0..self.q.items.len()).find(|&index| {
            let item = &self.q.items[index];
            relevant[index]
                && item.kind.takes_answer()
                && !answers.contains_key(&item.id)
                && !self.unanswerable.contains(&item.id)
        })
    }

    /// A different, valid answer for an earlier item that is still asked.
    fn revision(&mut self, answers: &Answers) -> Option<(String, AnswerValue)> {
        let relevant = self.q.relevance(answers);
        let asked: Vec<&Item> = answers
            .keys()
            .filter_map(|id| self.q.item_index(id))
            .filter(|&index| relevant[index])
            .map(|index| &self.q.items[index])
            .collect();
        if asked.is_empty() {
            return None;
        }
        let item = asked[self.rng.below(asked.len() as u64) as usize];
        let value = self.pick_value(item, answers, answers.get(&item.id))?;
        Some((item.id.clone(), value))
    }

    /// A valid answer for `item` given `answers`, other than `not`. Mostly avoids answers that
    /// end the interview at screening, so that most interviews run long.
    fn pick_value(
        &mut self,
        item: &Item,
        answers: &Answers,
        not: Option<&AnswerValue>,
    ) -> Option<AnswerValue> {
        // Decided once, not per attempt: a yes/no screening item has only one other answer.
        let may_end = self.rng.one_in(20);
        for attempt in 0..20 {
            let value = if attempt == 0 && not.is_none() {
                typical_answer(self.q, item, answers)
            } else {
                self.random_answer(item, answers)
            };
            let Some(value) = value else { continue };
            if Some(&value) == not || self.q.check_answer(&item.id, &value, answers).is_err() {
                continue;
            }
            let mut after = answers.clone();
            after.insert(item.id.clone(), value.clone());
            if self.q.eligibility_status(&after) == EligibilityStatus::Ineligible && !may_end {
                continue;
            }
            return Some(value);
        }
        None
    }

    fn random_answer(&mut self, item: &Item, answers: &Answers) -> Option<AnswerValue> {
        if item.dont_know && self.rng.one_in(10) {
            return Some(AnswerValue::DontKnow);
        }
        Some(match &item.kind {
            ItemKind::SingleChoice { .. } | ItemKind::Likert { .. } => {
                let visible = self.q.visible_choices(item, answers);
                if visible.is_empty() {
                    return None;
                }
                let pick = self.rng.below(visible.len() as u64) as usize;
                AnswerValue::Choice(visible[pick].key.clone())
            }
            ItemKind::MultipleChoice { .. } => {
                let visible = self.q.visible_choices(item, answers);
                if visible.is_empty() {
                    return None;
                }
                let mut keys: Vec<String> = visible
                    .iter()
                    .filter(|_| self.rng.one_in(3))
                    .map(|c| c.key.clone())
                    .collect();
                if keys.is_empty() {
                    let pick = self.rng.below(visible.len() as u64) as usize;
                    keys.push(visible[pick].key.clone());
                }
                AnswerValue::Choices(keys)
            }
            ItemKind::TrueFalse => AnswerValue::Bool(self.rng.one_in(2)),
            ItemKind::Integer { min, max } => {
                let low = min.unwrap_or(0);
                let high = max.unwrap_or(low.saturating_add(100)).max(low);
                let span = (high - low).min(1_000_000) as u64 + 1;
                AnswerValue::Integer(low + self.rng.below(span) as i64)
            }
            ItemKind::Decimal { min, max } => {
                // Halves: exact in binary, so they survive the JSON round trip unchanged.
                let low = min.unwrap_or(0.0).ceil();
                let high = max.unwrap_or(low + 100.0).max(low);
                let steps = ((high - low) * 2.0).min(1_000_000.0) as u64 + 1;
                AnswerValue::Decimal(low + self.rng.below(steps) as f64 / 2.0)
            }
            ItemKind::Text { max_length } => {
                let text = format!("答{}", self.rng.below(1000));
                let max = max_length.unwrap_or(100) as usize;
                AnswerValue::Text(text.chars().take(max.max(1)).collect())
            }
            ItemKind::Date { .. } => AnswerValue::Date(format!(
                "2026-{:02}-{:02}",
                1 + self.rng.below(12),
                1 + self.rng.below(28)
            )),
            ItemKind::Note => return None,
        })
    }
}

/// A plausible answer: the key for scored items, otherwise the first choice, the middle of an
/// integer range or the lowest value (after `typical_answer` in zhisu-core's interview tests).
fn typical_answer(q: &Questionnaire, item: &Item, answers: &Answers) -> Option<AnswerValue> {
    if let Some(rule) = &item.scoring {
        return Some(rule.key.clone());
    }
    Some(match &item.kind {
        ItemKind::SingleChoice { .. } | ItemKind::Likert { .. } => {
            AnswerValue::Choice(q.visible_choices(item, answers).first()?.key.clone())
        }
        ItemKind::MultipleChoice { choices } => AnswerValue::Choices(vec![choices[0].key.clone()]),
        ItemKind::TrueFalse => AnswerValue::Bool(true),
        // The middle, not the minimum: the lowest age ends the interview at screening.
        ItemKind::Integer { min, max } => {
            let low = min.unwrap_or(0);
            AnswerValue::Integer(low + (max.unwrap_or(low) - low) / 2)
        }
        ItemKind::Decimal { min, .. } => AnswerValue::Decimal(min.unwrap_or(0.0)),
        ItemKind::Text { .. } => AnswerValue::Text("其他".into()),
        ItemKind::Date { min, .. } => {
            AnswerValue::Date(min.clone().unwrap_or_else(|| "2026-01-01".into()))
        }
        ItemKind::Note => return None,
    })
}
