//! The kill test: SIGKILL the process writing answers at random moments, hundreds of times, and
//! check after every restart that each answer the writer reported as saved is in the database
//! and that the database passes `PRAGMA integrity_check`.
//!
//! The writer is the test-helper binary `zhisu-store-kill-writer` (src/bin/kill_writer.rs). It
//! works on `questionnaires/ohl_2026.toml` through the public `DeviceStore` API: starts
//! interviews, answers items in order (INSERTs), goes back and changes earlier answers (UPDATEs),
//! completes or discards interviews, and resumes after a restart whatever was left in progress.
//! The writer gives the store a round key, so every completion seals the interview and removes
//! its answers and events: the model follows, and each completed interview's sealed upload is
//! opened with the round's private key and must hold the answers last reported saved.
//! Every iteration runs a new writer on the *same* database file, so the data accumulates and each
//! restart recovers what the killed predecessor left behind (WAL, `-shm`, half-done checkpoint).
//!
//! # Why the check is sound and exact
//!
//! The writer makes one store call at a time and brackets each with two flushed stdout lines: an
//! intent line (`save <id> <item> <json>`) written *before* the call and a result line (`saved …`)
//! written only after the call returned `Ok`, i.e. after the commit. A line is one `write` into a
//! pipe, and what is in a pipe survives the writer's death, so after the kill the test holds every
//! line the writer finished writing. Therefore:
//!
//! * every operation with a result line was committed before the writer was killed: the test
//!   applies it to its model of the database (interviews → state, answers, answer-event count);
//! * at most one operation is unreported — the one named by the last intent line, if it has no
//!   result line; the writer made no store call after it. (An operation whose intent line was
//!   not fully written was never started.) That single operation may or may not have committed,
//!   so the database must show either the model before it or the model after it, nothing else;
//!   the test accepts whichever it finds and adopts it into the model.
//!
//! The database is encrypted (SQLCipher) under a key in a key directory of its own, as in the
//! app: the writer and the checks read it from there.
//!
//! After each kill the test opens the database with `DeviceStore::open` (decryption, migrations,
//! WAL recovery), asserts `integrity_ok()`, and compares the *whole* database with the model: the same
//! interviews, each with the same state, exactly the same answers and the same number of answer
//! events. So an answer reported as saved must be there with its last reported value (or the
//! value of the one in-flight save), nothing unreported may appear, and answer and event rows
//! must commit together.
//!
//! Usually the check runs on a byte copy of the files the killed writer left (database, `-wal`,
//! `-shm`), so that closing the checking connection does not checkpoint the original: the next
//! writer then has to recover the real WAL itself and, as the WAL grows, runs its own checkpoints,
//! which later kills can interrupt. Now and then, and at the end, the check opens the original.
//!
//! Kill timing: usually 1–40 ms after the writer reported `ready` (sometimes 0 ms); one time in
//! eight at a random moment from spawning, which lands in process start-up, questionnaire loading,
//! opening and recovery.
//!
//! Environment: `ZHISU_KILL_ITERATIONS` (default 200; more for a bench run),
//! `ZHISU_KILL_SEED` (default from the clock; always printed, and in any failure). The seed fixes
//! the test's and the writer's choices, not the timing, so a rerun repeats the moves, not
//! necessarily the kill points. On failure the database directory is kept and named.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};
use zhisu_testkit::Rng;

use uuid::Uuid;
use zhisu_core::{AnswerValue, Answers};
use zhisu_protocol::sealed::{RoundSecretKey, SealedInterview};
use zhisu_protocol::CompletedInterview;
use zhisu_store::{load_or_create_key_file, DatabaseKey, DeviceStore, InterviewState, StoreError};

const WRITER: &str = env!("CARGO_BIN_EXE_zhisu-store-kill-writer");
const DEFAULT_ITERATIONS: u64 = 200;
/// Proof that the test exercised something: reported saves per iteration, on average. Typically
/// 6–8 on a busy 2-core machine in a debug build; the floor leaves room for a slower one.
const MIN_SAVES_PER_ITERATION: u64 = 4;
const SIGKILL: i32 = 9;

fn questionnaire_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires/ohl_2026.toml")
}

#[test]
fn every_answer_reported_saved_survives_sigkill_and_the_database_stays_intact() {
    let iterations: u64 = std::env::var("ZHISU_KILL_ITERATIONS")
        .map(|v| v.parse().expect("ZHISU_KILL_ITERATIONS is a number"))
        .unwrap_or(DEFAULT_ITERATIONS);
    let seed: u64 = std::env::var("ZHISU_KILL_SEED")
        .map(|v| v.parse().expect("ZHISU_KILL_SEED is a u64"))
        .unwrap_or_else(|_| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("kill test: seed {seed} (rerun with ZHISU_KILL_SEED={seed}), {iterations} iterations");
    let dir = tempfile::Builder::new()
        .prefix("zhisu-kill-")
        .tempdir()
        .unwrap();
    let started = Instant::now();
    let mut run = Run::new(seed, dir.path());
    let result = (0..iterations)
        .try_for_each(|i| run.iteration(i))
        .and_then(|()| run.final_check());
    if let Err(message) = result {
        let kept = dir.keep();
        panic!(
            "{message}\nkill test seed {seed} (rerun with ZHISU_KILL_SEED={seed}); \
             database kept in {}",
            kept.display()
        );
    }
    let stats = &run.stats;
    println!("{}", stats.summary(iterations, started.elapsed()));
    // Long runs write less per kill (the files grow: restarts recover a longer WAL and checkpoints
    // take more of the short windows), so they must reach the floor of a default run only.
    let floor = MIN_SAVES_PER_ITERATION * iterations.min(DEFAULT_ITERATIONS);
    assert!(
        stats.saves >= floor,
        "only {} saves were reported in {iterations} iterations (floor {floor}): the writer hardly \
         wrote, so the test proved little (seed {seed})",
        stats.saves
    );
    assert!(
        stats.in_flight_committed + stats.in_flight_rolled_back > 0,
        "no kill landed during a store call (seed {seed})"
    );
}

/// One store call of the writer, as named on its stdout.
#[derive(Debug, Clone, PartialEq)]
enum Op {
    Start(Uuid),
    Save(Uuid, String, AnswerValue),
    Complete(Uuid),
    Discard(Uuid),
}

enum Line {
    Ready,
    Intent(Op),
    Done(Op),
    /// `complete` was refused (the interview cannot be completed): nothing was written.
    Refused(Uuid),
}

fn parse_line(line: &str) -> Result<Line, String> {
    let bad = || format!("unreadable writer line {line:?}");
    let mut words = line.splitn(4, ' ');
    let verb = words.next().ok_or_else(bad)?;
    if verb == "ready" {
        return Ok(Line::Ready);
    }
    let id = Uuid::parse_str(words.next().ok_or_else(bad)?).map_err(|_| bad())?;
    let save = |words: &mut std::str::SplitN<'_, char>| -> Result<Op, String> {
        let item = words.next().ok_or_else(bad)?.to_string();
        let value = serde_json::from_str(words.next().ok_or_else(bad)?).map_err(|_| bad())?;
        Ok(Op::Save(id, item, value))
    };
    Ok(match verb {
        "start" => Line::Intent(Op::Start(id)),
        "started" => Line::Done(Op::Start(id)),
        "save" => Line::Intent(save(&mut words)?),
        "saved" => Line::Done(save(&mut words)?),
        "complete" => Line::Intent(Op::Complete(id)),
        "completed" => Line::Done(Op::Complete(id)),
        "incomplete" => Line::Refused(id),
        "discard" => Line::Intent(Op::Discard(id)),
        "discarded" => Line::Done(Op::Discard(id)),
        _ => return Err(bad()),
    })
}

/// What the database must hold for one interview.
#[derive(Debug, Clone, PartialEq)]
struct Expected {
    state: InterviewState,
    answers: Answers,
    events: u64,
    /// Once completed: the answers it was completed with, which are then only in the sealed
    /// upload (the writer gives the store the round key, so every completion seals).
    sealed: Option<Answers>,
}

/// The round key the writer seals completions to (the writer has the same).
const ROUND_KEY_HEX: &str = "5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d";

/// The test's model of the whole database: every committed operation applied in order.
#[derive(Default)]
struct Model {
    interviews: BTreeMap<Uuid, Expected>,
}

impl Model {
    /// Applies an operation the store performed. Fails when the model says the store should have
    /// refused it (which would mean an earlier write was lost or is wrong).
    fn apply(&mut self, op: &Op) -> Result<(), String> {
        let in_progress = |model: &mut Model, id: &Uuid| -> Result<(), String> {
            match model.interviews.get(id) {
                Some(e) if e.state == InterviewState::InProgress => Ok(()),
                Some(e) => Err(format!(
                    "the store accepted {op:?} on interview {id}, which it should hold as {}",
                    e.state
                )),
                None => Err(format!(
                    "the store accepted {op:?} on interview {id}, which was never started"
                )),
            }
        };
        match op {
            Op::Start(id) => {
                if self.interviews.contains_key(id) {
                    return Err(format!("interview {id} was started twice"));
                }
                self.interviews.insert(
                    *id,
                    Expected {
                        state: InterviewState::InProgress,
                        answers: Answers::new(),
                        events: 0,
                        sealed: None,
                    },
                );
            }
            Op::Save(id, item, value) => {
                in_progress(self, id)?;
                let e = self.interviews.get_mut(id).unwrap();
                // The store records nothing for the same answer again.
                if e.answers.get(item) != Some(value) {
                    e.answers.insert(item.clone(), value.clone());
                    e.events += 1;
                }
            }
            Op::Complete(id) => {
                in_progress(self, id)?;
                let e = self.interviews.get_mut(id).unwrap();
                e.state = InterviewState::Completed;
                // sealed: the answers and their events leave the device's tables
                e.sealed = Some(std::mem::take(&mut e.answers));
                e.events = 0;
            }
            Op::Discard(id) => match self.interviews.get_mut(id) {
                Some(e)
                    if matches!(
                        e.state,
                        InterviewState::InProgress | InterviewState::Completed
                    ) =>
                {
                    e.state = InterviewState::Discarded;
                }
                _ => return Err(format!("the store accepted {op:?} in an unexpected state")),
            },
        }
        Ok(())
    }

    /// The one operation the writer started but did not report: the database must show the
    /// model without it or with it. Adopts what it finds; returns whether it had committed.
    fn resolve_in_flight(&mut self, op: &Op, store: &DeviceStore) -> Result<bool, String> {
        let err = |e: StoreError| format!("reading the store after the kill: {e}");
        let state = |id: &Uuid| match store.interview(*id) {
            Ok(summary) => Ok(Some(summary.state)),
            Err(StoreError::UnknownInterview(_)) => Ok(None),
            Err(e) => Err(err(e)),
        };
        let before = |model: &Model, id: &Uuid| model.interviews.get(id).map(|e| e.state);
        let committed = match op {
            Op::Start(id) => match state(id)? {
                None => false,
                Some(InterviewState::InProgress) if store.answers(*id).map_err(err)?.is_empty() => {
                    true
                }
                Some(other) => {
                    return Err(format!(
                        "killed while starting interview {id}: it is {other} (or has answers)"
                    ))
                }
            },
            Op::Save(id, item, value) => {
                let found = store.answers(*id).map_err(err)?.remove(item);
                let old = self.interviews.get(id).and_then(|e| e.answers.get(item));
                if found.as_ref() == old {
                    false
                } else if found.as_ref() == Some(value) {
                    true
                } else {
                    return Err(format!(
                        "killed while saving {item} = {value:?} in interview {id}: the database \
                         holds {found:?}, but only the last reported {old:?} or the new value is \
                         possible"
                    ));
                }
            }
            Op::Complete(id) | Op::Discard(id) => {
                let target = if matches!(op, Op::Complete(_)) {
                    InterviewState::Completed
                } else {
                    InterviewState::Discarded
                };
                let found = state(id)?;
                if found == before(self, id) {
                    false
                } else if found == Some(target) {
                    true
                } else {
                    return Err(format!(
                        "killed during {op:?}: interview {id} is {found:?}, expected {:?} or \
                         {target}",
                        before(self, id)
                    ));
                }
            }
        };
        if committed {
            self.apply(op)?;
        }
        Ok(committed)
    }

    /// The whole database equals the model. Returns the number of answers compared.
    fn compare(
        &self,
        store: &DeviceStore,
        sealed_of: &dyn Fn(Uuid) -> Result<Option<CompletedInterview>, String>,
    ) -> Result<u64, String> {
        let err = |e: StoreError| format!("reading the store: {e}");
        let found: BTreeMap<Uuid, InterviewState> = store
            .interviews()
            .map_err(err)?
            .into_iter()
            .map(|i| (i.id, i.state))
            .collect();
        for id in found.keys() {
            if !self.interviews.contains_key(id) {
                return Err(format!(
                    "interview {id} is in the database but was never started"
                ));
            }
        }
        let mut compared = 0;
        for (id, expected) in &self.interviews {
            let Some(&state) = found.get(id) else {
                return Err(format!(
                    "interview {id}, reported started, is missing ({} answers lost)",
                    expected.answers.len()
                ));
            };
            if state != expected.state {
                return Err(format!(
                    "interview {id} is {state}, but the last reported change made it {}",
                    expected.state
                ));
            }
            let answers = store.answers(*id).map_err(err)?;
            if answers != expected.answers {
                let mut diff = String::new();
                for (item, value) in &expected.answers {
                    match answers.get(item) {
                        None => writeln!(diff, "  {item}: reported saved as {value:?}, missing"),
                        Some(v) if v != value => {
                            writeln!(diff, "  {item}: reported saved as {value:?}, found {v:?}")
                        }
                        _ => Ok(()),
                    }
                    .unwrap();
                }
                for (item, v) in &answers {
                    if !expected.answers.contains_key(item) {
                        writeln!(diff, "  {item}: never saved, found {v:?}").unwrap();
                    }
                }
                return Err(format!("interview {id} has the wrong answers:\n{diff}"));
            }
            let events = store.answer_event_count(*id).map_err(err)?;
            if events != expected.events {
                return Err(format!(
                    "interview {id} has {events} answer events, expected {} (one per change)",
                    expected.events
                ));
            }
            compared += answers.len() as u64;
            match (&expected.sealed, sealed_of(*id)?) {
                (None, None) => {}
                (Some(saved), Some(opened)) => {
                    // the answers that count, each as last reported saved
                    if opened.answers.is_empty()
                        || opened.answers.iter().any(|(k, v)| saved.get(k) != Some(v))
                    {
                        return Err(format!(
                            "interview {id}: the sealed upload holds {:?}, but {saved:?} was saved",
                            opened.answers
                        ));
                    }
                    compared += opened.answers.len() as u64;
                }
                (expected, found) => {
                    return Err(format!(
                        "interview {id}: sealed upload expected {}, found {}",
                        expected.is_some(),
                        found.is_some()
                    ))
                }
            }
        }
        Ok(compared)
    }
}

#[derive(Default)]
struct Stats {
    starts: u64,
    saves: u64,
    completes: u64,
    refused_completes: u64,
    discards: u64,
    kills_before_ready: u64,
    kills_between_calls: u64,
    in_flight_committed: u64,
    in_flight_rolled_back: u64,
    in_flight_by_kind: BTreeMap<&'static str, u64>,
    partial_lines: u64,
    checks_on_copy: u64,
    checks_on_original: u64,
    answers_compared: u64,
    ready_ms_total: u64,
    ready_count: u64,
}

impl Stats {
    fn summary(&self, iterations: u64, elapsed: Duration) -> String {
        format!(
            "kill test: {iterations} kills in {:.1} s (writer ready after {} ms on average)\n\
             reported and verified: {} saves, {} starts, {} completions ({} refused), {} discards\n\
             kills: {} before the writer was ready, {} between store calls, {} during a store call \
             ({} had committed, {} had not; by call: {:?})\n\
             checks: {} on a copy of the files, {} on the original; {} answer comparisons in all; \
             {} partial lines dropped",
            elapsed.as_secs_f64(),
            self.ready_ms_total / self.ready_count.max(1),
            self.saves,
            self.starts,
            self.completes,
            self.refused_completes,
            self.discards,
            self.kills_before_ready,
            self.kills_between_calls,
            self.in_flight_committed + self.in_flight_rolled_back,
            self.in_flight_committed,
            self.in_flight_rolled_back,
            self.in_flight_by_kind,
            self.checks_on_copy,
            self.checks_on_original,
            self.answers_compared,
            self.partial_lines,
        )
    }
}

/// What one writer process printed before it died.
struct Killed {
    lines: Vec<String>,
    partial_line: bool,
    stderr: String,
}

struct Run {
    rng: Rng,
    /// The key directory the writer and the checks read the database key from (apart from the
    /// database's directory, as in the app).
    key_dir: PathBuf,
    key: DatabaseKey,
    db: PathBuf,
    copy: PathBuf,
    model: Model,
    stats: Stats,
}

impl Run {
    fn new(seed: u64, dir: &Path) -> Self {
        let key_dir = dir.join("key");
        let key = load_or_create_key_file(&key_dir).expect("the key file is written");
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        Run {
            rng: Rng::new(seed),
            key_dir,
            key,
            db: data.join("device.sqlite3"),
            copy: data.join("check.sqlite3"),
            model: Model::default(),
            stats: Stats::default(),
        }
    }

    fn iteration(&mut self, i: u64) -> Result<(), String> {
        let killed = self.spawn_and_kill()?;
        self.absorb(&killed)
            .and_then(|in_flight| self.check(in_flight.as_ref()))
            .map_err(|message| {
                let tail = killed.lines[killed.lines.len().saturating_sub(6)..].concat();
                format!(
                    "iteration {i}: {message}\nlast lines from the writer:\n{tail}\
                     writer stderr:\n{}",
                    killed.stderr
                )
            })
    }

    /// Runs one writer on the database and SIGKILLs it at a random moment.
    fn spawn_and_kill(&mut self) -> Result<Killed, String> {
        let mut child = Command::new(WRITER)
            .arg(&self.db)
            .arg(questionnaire_path())
            .arg(self.rng.next_u64().to_string())
            .arg(&self.key_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {WRITER}: {e}"))?;
        let spawned = Instant::now();
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (lines_tx, lines_rx) = mpsc::channel::<String>();
        // Only whole lines count: a line cut by the kill was not reported.
        let reader = thread::spawn(move || {
            let mut stdout = BufReader::new(stdout);
            loop {
                let mut line = Vec::new();
                match stdout.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => return false,
                    Ok(_) if line.ends_with(b"\n") => {
                        let line = String::from_utf8(line).expect("the writer prints UTF-8");
                        if lines_tx.send(line).is_err() {
                            return false;
                        }
                    }
                    Ok(_) => return true, // cut off by the kill
                }
            }
        });
        let stderr_reader = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });

        let mut lines = Vec::new();
        let ready_estimate = self.stats.ready_ms_total / self.stats.ready_count.max(1);
        if self.rng.below(8) == 0 {
            // Anywhere from spawning: start-up, loading, opening, recovery, first writes.
            let delay = self.rng.below(ready_estimate.max(20) + 10);
            thread::sleep(Duration::from_millis(delay));
        } else {
            let deadline = spawned + Duration::from_secs(60);
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match lines_rx.recv_timeout(left) {
                    Ok(line) => {
                        let ready = line == "ready\n";
                        lines.push(line);
                        if ready {
                            self.stats.ready_ms_total += spawned.elapsed().as_millis() as u64;
                            self.stats.ready_count += 1;
                            break;
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        let _ = child.kill();
                        return Err("the writer was not ready after 60 s".into());
                    }
                    // The writer died: the exit status below says how.
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
            let delay = match self.rng.below(10) {
                0 => 0,
                _ => 1 + self.rng.below(40),
            };
            thread::sleep(Duration::from_millis(delay));
        }
        child
            .kill()
            .map_err(|e| format!("cannot kill the writer: {e}"))?;
        let status = child
            .wait()
            .map_err(|e| format!("cannot wait for the writer: {e}"))?;
        let partial_line = reader.join().expect("the stdout reader does not panic");
        lines.extend(lines_rx.try_iter());
        let stderr = stderr_reader
            .join()
            .expect("the stderr reader does not panic");
        if status.signal() != Some(SIGKILL) {
            return Err(format!(
                "the writer ended by itself ({status}) instead of being killed\nstderr:\n{stderr}\
                 last lines:\n{}",
                lines[lines.len().saturating_sub(6)..].concat()
            ));
        }
        Ok(Killed {
            lines,
            partial_line,
            stderr,
        })
    }

    /// Applies every reported operation to the model; returns the unreported one, if any.
    fn absorb(&mut self, killed: &Killed) -> Result<Option<Op>, String> {
        let stats = &mut self.stats;
        stats.partial_lines += u64::from(killed.partial_line);
        let mut ready = false;
        let mut pending: Option<Op> = None;
        for line in &killed.lines {
            match parse_line(line.trim_end_matches('\n'))? {
                Line::Ready if !ready && pending.is_none() => ready = true,
                Line::Ready => return Err("'ready' twice or out of place".into()),
                Line::Intent(op) => {
                    if let Some(p) = &pending {
                        return Err(format!("{op:?} started while {p:?} was unfinished"));
                    }
                    pending = Some(op);
                }
                Line::Done(op) => {
                    if pending.as_ref() != Some(&op) {
                        return Err(format!("{op:?} reported, but {pending:?} was started"));
                    }
                    self.model.apply(&op)?;
                    pending = None;
                    match op {
                        Op::Start(_) => stats.starts += 1,
                        Op::Save(..) => stats.saves += 1,
                        Op::Complete(_) => stats.completes += 1,
                        Op::Discard(_) => stats.discards += 1,
                    }
                }
                Line::Refused(id) => {
                    if pending != Some(Op::Complete(id)) {
                        return Err(format!("refusal of {id} reported, but {pending:?} started"));
                    }
                    pending = None;
                    stats.refused_completes += 1;
                }
            }
        }
        if !ready {
            stats.kills_before_ready += 1;
        } else if pending.is_none() {
            stats.kills_between_calls += 1;
        }
        Ok(pending)
    }

    /// Opens the database the killed writer left (or a byte copy of it) and compares it with the
    /// model.
    fn check(&mut self, in_flight: Option<&Op>) -> Result<(), String> {
        let path = if self.rng.below(16) == 0 {
            self.stats.checks_on_original += 1;
            self.db.clone()
        } else {
            self.stats.checks_on_copy += 1;
            copy_database(&self.db, &self.copy)?;
            self.copy.clone()
        };
        if !self.db.exists() {
            // Killed before SQLite created the file: nothing can have been reported.
            return match self.model.interviews.is_empty() && in_flight.is_none() {
                true => Ok(()),
                false => Err("the database file is gone".into()),
            };
        }
        let store = DeviceStore::open(&path, &self.key)
            .map_err(|e| format!("the database does not open after the kill: {e}"))?;
        if !store.integrity_ok().map_err(|e| e.to_string())? {
            return Err("PRAGMA integrity_check failed after the kill".into());
        }
        if let Some(op) = in_flight {
            let committed = self.model.resolve_in_flight(op, &store)?;
            let stats = &mut self.stats;
            match committed {
                true => stats.in_flight_committed += 1,
                false => stats.in_flight_rolled_back += 1,
            }
            let kind = match op {
                Op::Start(_) => "start",
                Op::Save(..) => "save",
                Op::Complete(_) => "complete",
                Op::Discard(_) => "discard",
            };
            *stats.in_flight_by_kind.entry(kind).or_default() += 1;
        }
        self.stats.answers_compared += self
            .model
            .compare(&store, &sealed_reader(&path, &self.key))?;
        Ok(())
    }

    /// The original file, opened once more after the last kill.
    fn final_check(&mut self) -> Result<(), String> {
        let store =
            DeviceStore::open(&self.db, &self.key).map_err(|e| format!("final open: {e}"))?;
        if !store.integrity_ok().map_err(|e| e.to_string())? {
            return Err("PRAGMA integrity_check failed at the end".into());
        }
        self.stats.answers_compared += self
            .model
            .compare(&store, &sealed_reader(&self.db, &self.key))?;
        Ok(())
    }
}

/// Reads an interview's sealed upload from the database at `path` (with the device key) and
/// opens it with the round's private key, as the server would.
fn sealed_reader(
    path: &Path,
    key: &DatabaseKey,
) -> impl Fn(Uuid) -> Result<Option<CompletedInterview>, String> {
    let path = path.to_path_buf();
    let key = key.clone();
    move |id| {
        let conn = rusqlite::Connection::open(&path).map_err(|e| e.to_string())?;
        conn.pragma_update(None, "key", format!("x'{}'", key.to_hex()))
            .map_err(|e| e.to_string())?;
        let sealed: Option<String> = conn
            .query_row(
                "SELECT sealed FROM interview WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .map_err(|e| e.to_string())?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let sealed: SealedInterview = serde_json::from_str(&sealed).map_err(|e| e.to_string())?;
        let round = RoundSecretKey::from_hex("2026", ROUND_KEY_HEX).unwrap();
        round
            .open(&sealed)
            .map(Some)
            .map_err(|e| format!("interview {id}: the sealed upload does not open: {e}"))
    }
}

/// Copies the database with its `-wal` and `-shm` files exactly as the killed writer left them
/// (no process has them open), replacing any earlier copy.
fn copy_database(from: &Path, to: &Path) -> Result<(), String> {
    for suffix in ["", "-wal", "-shm"] {
        let with = |p: &Path| PathBuf::from(format!("{}{suffix}", p.display()));
        let (source, target) = (with(from), with(to));
        match std::fs::remove_file(&target) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot remove {}: {e}", target.display())),
        }
        if source.exists() {
            std::fs::copy(&source, &target)
                .map_err(|e| format!("cannot copy {}: {e}", source.display()))?;
        }
    }
    Ok(())
}
