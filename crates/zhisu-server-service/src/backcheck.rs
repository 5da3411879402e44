//! Back-checks (复核, issue 15): a round's settings checked against its questionnaires; the
//! seeded, reproducible draw of completed, accepted interviews whose respondents agreed to be
//! re-contacted; a result compared with the interview (the core's rule), stored once, and a
//! failed one flagged for the quality-control queue with its differences; agreement per
//! back-check, per surveyor and per item in a scope (`docs/statistics.md` §13).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_core::{compare_backcheck, Agreement, Answers, QcFlag};
use zhisu_protocol::{BackcheckSettings, ReceiptStatus, RoundSettings};
use zhisu_server_storage::{
    AuditEntry, BackcheckCandidate, BackcheckDraw, BackcheckResult, BackcheckTask, Person, Role,
    Scope,
};

use crate::{Refusal, ServerState};

/// The sort key of a candidate under `seed`: SHA-256 of the seed (8 bytes, big-endian) and
/// the interview id (16 bytes). The order does not depend on how the candidates were read.
fn draw_key(seed: u64, id: Uuid) -> String {
    let mut bytes = Vec::with_capacity(24);
    bytes.extend_from_slice(&seed.to_be_bytes());
    bytes.extend_from_slice(id.as_bytes());
    zhisu_protocol::sha256_hex(&bytes)
}

/// The interviews to back-check among `candidates` (`docs/statistics.md` §13.2): in the order
/// of [`draw_key`], first the `min_per_surveyor_week` first of each surveyor and ISO week (of
/// the completion, UTC), then further ones in key order until at least `share_percent` % of the
/// candidates (rounded up) are drawn. Pure: the same seed and candidates give the same sample.
pub fn draw_sample(
    candidates: &[BackcheckCandidate],
    seed: u64,
    share_percent: f64,
    min_per_surveyor_week: u32,
) -> Vec<Uuid> {
    let mut ordered: Vec<(String, &BackcheckCandidate)> = candidates
        .iter()
        .map(|c| (draw_key(seed, c.interview_id), c))
        .collect();
    ordered.sort_by(|a, b| a.0.cmp(&b.0));
    let share = if share_percent.is_finite() {
        share_percent.clamp(0.0, 100.0)
    } else {
        0.0
    };
    let target = ((share / 100.0) * candidates.len() as f64).ceil() as usize;
    let mut chosen: Vec<Uuid> = Vec::new();
    let mut taken: HashSet<Uuid> = HashSet::new();
    let mut per_week: BTreeMap<(Option<&str>, i32, u32), u32> = BTreeMap::new();
    for (_, c) in &ordered {
        let week = c.completed_at.iso_week();
        let n = per_week
            .entry((c.surveyor_id.as_deref(), week.year(), week.week()))
            .or_default();
        if *n < min_per_surveyor_week {
            *n += 1;
            chosen.push(c.interview_id);
            taken.insert(c.interview_id);
        }
    }
    for (_, c) in &ordered {
        if chosen.len() >= target {
            break;
        }
        if taken.insert(c.interview_id) {
            chosen.push(c.interview_id);
        }
    }
    let rank: BTreeMap<Uuid, usize> = ordered
        .iter()
        .enumerate()
        .map(|(i, (_, c))| (c.interview_id, i))
        .collect();
    chosen.sort_by_key(|id| rank[id]);
    chosen
}

/// One surveyor's (or one item's) back-checks in a scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgreementLine {
    pub district: Option<String>,
    /// The surveyor of the interviews checked, or the item re-asked.
    pub key: Option<String>,
    pub drawn: u64,
    pub done: u64,
    pub not_reached: u64,
    pub failed: u64,
    pub agreement: Agreement,
}

/// Agreement per surveyor (of the interviews checked) and per item in a scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgreementTable {
    pub per_surveyor: Vec<AgreementLine>,
    pub per_item: Vec<AgreementLine>,
    pub overall: AgreementLine,
}

/// A back-check's answers as a tablet or the phone form gives them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackcheckReport {
    pub task_id: Uuid,
    pub surveyor_id: String,
    pub via: String,
    pub reached: bool,
    #[serde(default)]
    pub answers: Answers,
    pub completed_at: DateTime<Utc>,
}

impl BackcheckReport {
    /// The content hash that makes a re-send of the same result idempotent.
    pub fn content_hash(&self) -> String {
        zhisu_protocol::sha256_hex(
            serde_json::to_string(&(
                self.task_id,
                &self.surveyor_id,
                &self.via,
                self.reached,
                &self.answers,
                self.completed_at.timestamp_millis(),
            ))
            .expect("a back-check report serialises")
            .as_bytes(),
        )
    }
}

/// Agreement of the back-checks in `tasks`, per surveyor and per item.
pub fn agreement_table(tasks: &[BackcheckTask]) -> AgreementTable {
    let blank = |district: Option<String>, key: Option<String>| AgreementLine {
        district,
        key,
        drawn: 0,
        done: 0,
        not_reached: 0,
        failed: 0,
        agreement: Agreement::default(),
    };
    let mut surveyors: BTreeMap<(Option<String>, Option<String>), AgreementLine> = BTreeMap::new();
    let mut items: BTreeMap<String, AgreementLine> = BTreeMap::new();
    let mut overall = blank(None, None);
    for t in tasks {
        let line = surveyors
            .entry((t.district.clone(), t.original_surveyor.clone()))
            .or_insert_with(|| blank(t.district.clone(), t.original_surveyor.clone()));
        for l in [&mut *line, &mut overall] {
            l.drawn += 1;
        }
        let Some(r) = &t.result else { continue };
        let agreement = Agreement {
            agreed: r.agreed,
            compared: r.compared,
        };
        for l in [&mut *line, &mut overall] {
            l.done += 1;
            l.not_reached += u64::from(!r.reached);
            l.failed += u64::from(r.failed);
            l.agreement = l.agreement + agreement;
        }
        if r.reached {
            for item in &t.items {
                if !(t.original.contains_key(item) && r.answers.contains_key(item)) {
                    continue;
                }
                let agrees = !r.differences.iter().any(|d| &d.item == item);
                let line = items
                    .entry(item.clone())
                    .or_insert_with(|| blank(None, Some(item.clone())));
                line.done += 1;
                line.agreement = line.agreement
                    + Agreement {
                        agreed: u32::from(agrees),
                        compared: 1,
                    };
            }
        }
    }
    AgreementTable {
        per_surveyor: surveyors.into_values().collect(),
        per_item: items.into_values().collect(),
        overall,
    }
}

/// The back-checks of a scope in one sentence (both reports).
pub fn summary_sentence(overall: &AgreementLine, lang: &str) -> String {
    let share = overall
        .agreement
        .share()
        .map(|s| format!("{:.1}%", s * 100.0))
        .unwrap_or_else(|| "—".to_string());
    if lang.starts_with("en") {
        format!(
            "Back-checks: {} drawn, {} done ({} not reached); {} of {} re-asked answers agree ({share}); {} failed and went to quality control.",
            overall.drawn, overall.done, overall.not_reached, overall.agreement.agreed, overall.agreement.compared, overall.failed
        )
    } else {
        format!(
            "复核：抽取 {} 份，完成 {} 份（未联系上 {} 份）；重问的 {} 个回答中 {} 个一致（一致率 {share}）；{} 份未通过，已进入质量控制。",
            overall.drawn, overall.done, overall.not_reached, overall.agreement.compared, overall.agreement.agreed, overall.failed
        )
    }
}

/// What a role may do with back-checks of `district`: draw them (district administrators and
/// supervisors of their district, city administrators anywhere).
fn may_draw(role: &Role, district: Option<&str>) -> bool {
    match (role, district) {
        (Role::CityAdmin, _) => true,
        (Role::DistrictAdmin { district: own } | Role::Supervisor { district: own }, Some(d)) => {
            own == d
        }
        _ => false,
    }
}

impl ServerState {
    /// Checks a round's back-check settings: a share in (0, 100], a threshold in [0, 100], a
    /// finite tolerance of 0 or more, at least one item, no item twice, and every item one
    /// that takes an answer in a questionnaire the round's devices receive.
    pub fn check_backcheck_settings(
        &self,
        round: &str,
        settings: &BackcheckSettings,
    ) -> Result<(), Refusal> {
        let mut problems = Vec::new();
        if !(settings.share_percent.is_finite()
            && settings.share_percent > 0.0
            && settings.share_percent <= 100.0)
        {
            problems
                .push("backcheck.share_percent must be more than 0 and at most 100".to_string());
        }
        if settings.fail_below_percent > 100 {
            problems.push("backcheck.fail_below_percent must be at most 100".to_string());
        }
        if !(settings.numeric_tolerance.is_finite() && settings.numeric_tolerance >= 0.0) {
            problems.push("backcheck.numeric_tolerance must be a number, 0 or more".to_string());
        }
        if settings.items.is_empty() {
            problems.push("backcheck.items: name at least one item to re-ask".to_string());
        }
        let questionnaires: Vec<_> = self
            .questionnaires
            .refs_for(Some(round))
            .into_iter()
            .filter_map(|r| self.questionnaires.get(&r.id, &r.version))
            .collect();
        let mut seen = HashSet::new();
        for item in &settings.items {
            if !seen.insert(item) {
                problems.push(format!("backcheck.items: '{item}' is named twice"));
                continue;
            }
            let exists = questionnaires.iter().any(|p| {
                p.questionnaire
                    .item(item)
                    .is_some_and(|i| i.kind.takes_answer())
            });
            if !exists {
                problems.push(format!(
                    "backcheck.items: no questionnaire of round {round} has an item '{item}' that takes an answer"
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Refusal::Invalid(format!(
                "the back-check settings were not stored: {}",
                problems.join("; ")
            )))
        }
    }

    /// Draws a round's back-checks (in `district`, or the whole city) with `seed` (a new random
    /// one when `None`), recorded with the draw. Only interviews stored from the round's
    /// devices, not rejected, whose respondent agreed to be re-contacted (re-contact details
    /// kept), and not drawn before. Each task re-asks the settings' items its interview
    /// answered.
    pub fn draw_backchecks(
        &self,
        person: &Person,
        round: &str,
        district: Option<&str>,
        seed: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<(BackcheckDraw, Vec<BackcheckTask>), Refusal> {
        let district = district.or(person.role.district());
        if !may_draw(&person.role, district) {
            return Err(Refusal::NotNow(
                "only the district's administrators and supervisors, or a city administrator, may draw back-checks".into(),
            ));
        }
        let settings: RoundSettings = self.storage.round_settings(round)?.unwrap_or_default();
        let Some(backcheck) = settings.backcheck else {
            return Err(Refusal::Invalid(format!(
                "round {round} has no back-check settings: set the share and the items to re-ask first"
            )));
        };
        let seed = seed.unwrap_or_else(|| Uuid::new_v4().as_u128() as u64);
        let candidates = self.storage.backcheck_candidates(round, district)?;
        let chosen = draw_sample(
            &candidates,
            seed,
            backcheck.share_percent,
            backcheck.min_per_surveyor_week,
        );
        let draw = BackcheckDraw {
            id: Uuid::new_v4(),
            round: round.to_string(),
            district: district.map(str::to_string),
            seed,
            drawn_at: now,
            drawn_by: person.username.clone(),
            candidates: candidates.len() as u64,
            drawn: chosen.len() as u64,
        };
        let by_id: BTreeMap<Uuid, &BackcheckCandidate> =
            candidates.iter().map(|c| (c.interview_id, c)).collect();
        let tasks: Vec<BackcheckTask> = chosen
            .iter()
            .map(|id| {
                let c = by_id[id];
                let items: Vec<String> = backcheck
                    .items
                    .iter()
                    .filter(|i| c.answers.contains_key(*i))
                    .cloned()
                    .collect();
                let original = items
                    .iter()
                    .filter_map(|i| c.answers.get(i).map(|a| (i.clone(), a.clone())))
                    .collect();
                BackcheckTask {
                    id: Uuid::new_v4(),
                    draw_id: draw.id,
                    interview_id: c.interview_id,
                    round: round.to_string(),
                    district: c.district.clone(),
                    original_surveyor: c.surveyor_id.clone(),
                    questionnaire_id: c.questionnaire_id.clone(),
                    questionnaire_version: c.questionnaire_version.clone(),
                    items,
                    original,
                    drawn_at: now,
                    result: None,
                }
            })
            .collect();
        let audit = AuditEntry {
            at: now,
            actor: person.username.clone(),
            action: "draw_backchecks".into(),
            detail: format!(
                "round {round}, {}: seed {seed}, {} of {} interviews drawn",
                district.unwrap_or("whole city"),
                draw.drawn,
                draw.candidates
            ),
        };
        if !self.storage.store_backcheck_draw(&draw, &tasks, &audit)? {
            return Err(Refusal::NotNow(
                "another draw took some of these interviews meanwhile; draw again".into(),
            ));
        }
        Ok((draw, tasks))
    }

    /// Records a back-check's result (from a tablet or the dashboard's phone form) within
    /// `scope`: only by a surveyor other than the interview's, only answers to the task's
    /// items that fit them; compared with the interview (the round's tolerance), stored once
    /// (a re-send with the same content is `AlreadyStored`, another is `Conflict`); a failed
    /// back-check flags its interview for the quality-control queue with the differences.
    pub fn record_backcheck(
        &self,
        scope: &Scope,
        report: &BackcheckReport,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(ReceiptStatus, BackcheckResult), Refusal> {
        let Some(task) = self.storage.backcheck_task(scope, report.task_id)? else {
            return Err(Refusal::NotFound(format!(
                "no back-check task {} in your scope",
                report.task_id
            )));
        };
        if report.surveyor_id.trim().is_empty() {
            return Err(Refusal::Invalid("say who did the back-check".into()));
        }
        if task.original_surveyor.as_deref() == Some(report.surveyor_id.as_str()) {
            return Err(Refusal::Invalid(
                "a back-check is done by a surveyor other than the interview's".into(),
            ));
        }
        if report.via != "tablet" && report.via != "phone" {
            return Err(Refusal::Invalid("via must be 'tablet' or 'phone'".into()));
        }
        let questionnaire = self
            .questionnaires
            .get(&task.questionnaire_id, &task.questionnaire_version);
        let mut problems = Vec::new();
        for (item, answer) in &report.answers {
            if !task.items.contains(item) {
                problems.push(format!("'{item}' is not re-asked by this back-check"));
                continue;
            }
            if let Some(q) = &questionnaire {
                if let Some(Err(e)) = q.questionnaire.item(item).map(|i| i.check(answer)) {
                    problems.push(format!("'{item}': {e}"));
                }
            }
        }
        if !report.reached && !report.answers.is_empty() {
            problems.push("a respondent not reached gave no answers".into());
        }
        if !problems.is_empty() {
            return Err(Refusal::Invalid(problems.join("; ")));
        }
        let settings = self
            .storage
            .round_settings(&task.round)?
            .and_then(|s| s.backcheck);
        let (tolerance, fail_below) = settings
            .as_ref()
            .map_or((0.0, 80), |s| (s.numeric_tolerance, s.fail_below_percent));
        let comparison = compare_backcheck(&task.items, &task.original, &report.answers, tolerance);
        let failed = report.reached && comparison.agreement.fails(f64::from(fail_below) / 100.0);
        let result = BackcheckResult {
            surveyor_id: report.surveyor_id.clone(),
            via: report.via.clone(),
            reached: report.reached,
            answers: report.answers.clone(),
            content_hash: report.content_hash(),
            completed_at: report.completed_at,
            received_at: now,
            agreed: comparison.agreement.agreed,
            compared: comparison.agreement.compared,
            failed,
            differences: comparison.differences.clone(),
        };
        let audit = AuditEntry {
            at: now,
            actor: actor.to_string(),
            action: "record_backcheck".into(),
            detail: format!(
                "task {} (interview {}): {} of {} agree{}",
                task.id,
                task.interview_id,
                result.agreed,
                result.compared,
                if failed { ", failed" } else { "" }
            ),
        };
        let Some(status) = self
            .storage
            .record_backcheck_result(scope, task.id, &result, &audit)?
        else {
            return Err(Refusal::NotFound(format!(
                "no back-check task {} in your scope",
                report.task_id
            )));
        };
        if status == ReceiptStatus::Stored && failed {
            let flag = QcFlag::BackcheckFailed {
                agreed: result.agreed,
                compared: result.compared,
                minimum_percent: fail_below,
                differences: result
                    .differences
                    .iter()
                    .map(|d| format!("{}: {} → {}", d.item, d.original, d.recheck))
                    .collect(),
            };
            let audit = AuditEntry {
                at: now,
                actor: actor.to_string(),
                action: "flag_for_review".into(),
                detail: format!("interview {}: back-check failed", task.interview_id),
            };
            self.storage
                .flag_for_review(task.interview_id, &flag, &audit)?;
        }
        Ok((status, result))
    }

    /// The open back-checks a device of `district` and `round` receives with its assignment,
    /// each with the respondent's re-contact details (each read audited, by `actor`); a task
    /// whose details were purged is left out (nobody can reach the respondent).
    pub fn backchecks_for_device(
        &self,
        district: &str,
        round: &str,
        actor: &str,
    ) -> Result<
        Vec<zhisu_protocol::backcheck::BackcheckAssignment>,
        zhisu_server_storage::StorageError,
    > {
        let scope = Scope::District(district.to_string());
        let mut out = Vec::new();
        for task in self.storage.backcheck_tasks(&scope)? {
            if task.round != round || task.result.is_some() {
                continue;
            }
            let audit = AuditEntry::now(
                actor,
                "read_recontact",
                format!("back-check task {} delivered to the tablet", task.id),
            );
            let Some(details) = self.storage.recontact(&scope, task.interview_id, &audit)? else {
                continue;
            };
            out.push(zhisu_protocol::backcheck::BackcheckAssignment {
                id: task.id,
                questionnaire_id: task.questionnaire_id,
                questionnaire_version: task.questionnaire_version,
                items: task.items,
                original_surveyor: task.original_surveyor,
                contact: details.contact,
            });
        }
        Ok(out)
    }

    /// Stores back-check results uploaded by a device of `district`, a receipt for each in
    /// order (the receipt's `interview_id` is the task's id): stored, already stored, conflict,
    /// or rejected with `invalid_answers` (and why) when the result breaks a rule.
    pub fn ingest_backchecks(
        &self,
        district: &str,
        actor: &str,
        outcomes: Vec<zhisu_protocol::backcheck::BackcheckOutcome>,
        now: DateTime<Utc>,
    ) -> Result<Vec<zhisu_protocol::Receipt>, zhisu_server_storage::StorageError> {
        let scope = Scope::District(district.to_string());
        let mut receipts = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            let report = BackcheckReport {
                task_id: o.task_id,
                surveyor_id: o.surveyor_id,
                via: "tablet".into(),
                reached: o.reached,
                answers: o.answers,
                completed_at: o.completed_at,
            };
            receipts.push(match self.record_backcheck(&scope, &report, actor, now) {
                Ok((status, _)) => zhisu_server_storage::rows::receipt(o.task_id, status),
                Err(Refusal::Storage(e)) => return Err(e),
                Err(refusal) => zhisu_protocol::Receipt {
                    interview_id: o.task_id,
                    status: ReceiptStatus::Rejected,
                    code: Some(
                        match refusal {
                            Refusal::NotFound(_) => zhisu_protocol::codes::NOT_FOUND,
                            _ => zhisu_protocol::codes::INVALID_ANSWERS,
                        }
                        .to_string(),
                    ),
                    message: Some(refusal.to_string()),
                },
            });
        }
        Ok(receipts)
    }

    /// The back-check tasks in `scope` and their agreement per surveyor and per item.
    pub fn backcheck_agreement(
        &self,
        scope: &Scope,
    ) -> Result<(Vec<BackcheckTask>, AgreementTable), Refusal> {
        let tasks = self.storage.backcheck_tasks(scope)?;
        let table = agreement_table(&tasks);
        Ok((tasks, table))
    }

    /// The re-contact details of a task's respondent, for the phone back-check form: within
    /// `scope`, each read audited (`read_recontact`).
    pub fn backcheck_recontact(
        &self,
        scope: &Scope,
        task: &BackcheckTask,
        actor: &str,
    ) -> Result<Option<String>, Refusal> {
        let audit = AuditEntry::now(
            actor,
            "read_recontact",
            format!("back-check task {}", task.id),
        );
        Ok(self
            .storage
            .recontact(scope, task.interview_id, &audit)?
            .map(|d| d.contact))
    }
}

/// The answer a form's `values` give to `item` (the phone back-check form): a choice, the
/// choices ticked, true/false, a number, a date or text as the item takes it; "dont_know" where
/// the item offers it; `None` when nothing was given. `Err` with the problem when the value
/// does not fit the item.
pub fn answer_from_form(
    item: &zhisu_core::Item,
    values: &[String],
) -> Result<Option<zhisu_core::AnswerValue>, String> {
    use zhisu_core::{AnswerValue, ItemKind};
    let values: Vec<&str> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    let Some(first) = values.first().copied() else {
        return Ok(None);
    };
    let answer = if first == "dont_know" {
        AnswerValue::DontKnow
    } else {
        match &item.kind {
            ItemKind::SingleChoice { .. } | ItemKind::Likert { .. } => {
                AnswerValue::Choice(first.to_string())
            }
            ItemKind::MultipleChoice { .. } => {
                AnswerValue::Choices(values.iter().map(|v| v.to_string()).collect())
            }
            ItemKind::TrueFalse => match first {
                "true" => AnswerValue::Bool(true),
                "false" => AnswerValue::Bool(false),
                _ => return Err(format!("'{}': answer true or false", item.id)),
            },
            ItemKind::Integer { .. } => AnswerValue::Integer(
                first
                    .parse()
                    .map_err(|_| format!("'{}': give a whole number", item.id))?,
            ),
            ItemKind::Decimal { .. } => AnswerValue::Decimal(
                first
                    .parse::<f64>()
                    .ok()
                    .filter(|d| d.is_finite())
                    .ok_or_else(|| format!("'{}': give a number", item.id))?,
            ),
            ItemKind::Date { .. } => AnswerValue::Date(first.to_string()),
            ItemKind::Text { .. } => AnswerValue::Text(first.to_string()),
            ItemKind::Note => return Ok(None),
        }
    };
    item.check(&answer)
        .map_err(|e| format!("'{}': {e}", item.id))?;
    Ok(Some(answer))
}

/// Whether `role` may draw back-checks and fill in the phone form (reading the respondent's
/// re-contact details): not a department viewer.
pub fn may_backcheck(role: &Role) -> bool {
    !matches!(role, Role::DepartmentViewer { .. })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn candidate(n: u128, surveyor: &str, day: u32) -> BackcheckCandidate {
        BackcheckCandidate {
            interview_id: Uuid::from_u128(n),
            district: Some("yuzhong".into()),
            surveyor_id: Some(surveyor.into()),
            completed_at: Utc.with_ymd_and_hms(2026, 11, day, 9, 0, 0).unwrap(),
            questionnaire_id: "q".into(),
            questionnaire_version: "1".into(),
            answers: Answers::new(),
        }
    }

    /// The same seed and candidates give the same sample, in whatever order they are read; a
    /// surveyor with interviews in a week gets at least the minimum; the share is met.
    #[test]
    fn the_seeded_draw_is_reproducible_and_keeps_its_minimums() {
        // 2026-11-02 is a Monday: days 2..=6 one week, 9..=13 the next
        let mut candidates: Vec<BackcheckCandidate> = (0..60u128)
            .map(|n| {
                let surveyor = ["wang", "li", "zhang"][(n % 3) as usize];
                let day = if n < 40 {
                    2 + (n % 5) as u32
                } else {
                    9 + (n % 5) as u32
                };
                candidate(n + 1, surveyor, day)
            })
            .collect();
        let a = draw_sample(&candidates, 20261115, 5.0, 1);
        candidates.reverse();
        let b = draw_sample(&candidates, 20261115, 5.0, 1);
        assert_eq!(a, b, "same seed, same data: same sample");
        assert_ne!(
            a,
            draw_sample(&candidates, 7, 5.0, 1),
            "another seed draws another"
        );
        // three surveyors in two weeks: at least six; 5 % of 60 = 3 is below that
        assert_eq!(a.len(), 6);
        for surveyor in ["wang", "li", "zhang"] {
            for week in [45, 46] {
                assert_eq!(
                    a.iter()
                        .filter(|id| {
                            let c = candidates.iter().find(|c| c.interview_id == **id).unwrap();
                            c.surveyor_id.as_deref() == Some(surveyor)
                                && c.completed_at.iso_week().week() == week
                        })
                        .count(),
                    1,
                    "{surveyor} week {week}"
                );
            }
        }
        // a larger share tops up in key order
        let c = draw_sample(&candidates, 20261115, 25.0, 1);
        assert_eq!(c.len(), 15);
        assert!(a.iter().all(|id| c.contains(id)));
        assert!(draw_sample(&[], 1, 5.0, 1).is_empty());
        assert!(draw_sample(&candidates, 1, f64::NAN, 0).is_empty());
    }
}
