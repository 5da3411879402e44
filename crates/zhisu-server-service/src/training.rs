//! The trainees' record (issue 24, surveyor training): who practised on a tablet, how many
//! practice interviews, what quality control flagged in them and when, beside when each
//! surveyor's first real interview came in, so a supervisor sees who practised before
//! fieldwork and who started without practice. Read from the practice interviews, which the
//! server keeps apart from the survey ([`crate::storage::PracticeStore`]), in the viewer's scope.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::storage::{Scope, Storage};
use crate::wording::district_name;
use crate::{t, StorageError};

/// Where a surveyor stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainingStatus {
    /// Practised, and no real interview came in before the first practice one.
    PractisedFirst,
    /// Real interviews came in before the first practice interview.
    PractisedLate,
    /// Real interviews and no practice interview.
    NoPractice,
}

impl TrainingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TrainingStatus::PractisedFirst => "practised_first",
            TrainingStatus::PractisedLate => "practised_late",
            TrainingStatus::NoPractice => "no_practice",
        }
    }

    pub fn label(self, lang: &str) -> &'static str {
        match self {
            TrainingStatus::PractisedFirst => t(lang, "调查前已练习", "practised before fieldwork"),
            TrainingStatus::PractisedLate => t(
                lang,
                "先做了正式调查才练习",
                "practised after fieldwork began",
            ),
            TrainingStatus::NoPractice => t(lang, "没练习就开始调查", "no practice"),
        }
    }
}

/// A short name of a quality flag's kind, for the record's columns.
pub fn flag_label(code: &str, lang: &str) -> String {
    match code {
        "too_fast" => t(lang, "答题太快", "too fast"),
        "straight_lining" => t(lang, "连续选同一位置", "straight-lining"),
        "many_changes" => t(lang, "改答案太多", "many changes"),
        "far_from_site" => t(lang, "离调查点太远", "far from site"),
        "device_clock" => t(lang, "平板时间不对", "device clock"),
        other => other,
    }
    .to_string()
}

/// One surveyor in one district.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraineeLine {
    pub district: Option<String>,
    pub surveyor_id: Option<String>,
    /// Practice interviews received.
    pub practice: u64,
    /// Of them, with at least one quality flag.
    pub flagged: u64,
    /// Flag kind (`too_fast`…) → practice interviews with it.
    pub flags: BTreeMap<String, u64>,
    pub first_practice: Option<DateTime<Utc>>,
    pub last_practice: Option<DateTime<Utc>>,
    /// The last practice interview's share of the maximum score, in percent.
    pub last_score_percent: Option<f64>,
    /// Real (survey) interviews received, and when the first was completed.
    pub interviews: u64,
    pub first_interview: Option<DateTime<Utc>>,
    pub status: TrainingStatus,
}

/// The record of a scope: one line per surveyor and district, by district and surveyor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraineeRecord {
    pub lines: Vec<TraineeLine>,
    /// The scope is a department viewer's (populations): practice is a matter of the
    /// districts' fieldwork staff, so the record is not shown there.
    pub not_for_scope: bool,
}

impl TraineeRecord {
    /// Practice interviews in the record.
    pub fn practice_total(&self) -> u64 {
        self.lines.iter().map(|l| l.practice).sum()
    }
}

/// The trainees' record of `scope`.
pub fn trainees(storage: &dyn Storage, scope: &Scope) -> Result<TraineeRecord, StorageError> {
    if matches!(scope, Scope::Populations(_)) {
        return Ok(TraineeRecord {
            lines: Vec::new(),
            not_for_scope: true,
        });
    }
    type Key = (Option<String>, Option<String>);
    let mut lines: BTreeMap<Key, TraineeLine> = BTreeMap::new();
    let blank = |district: &Option<String>, surveyor: &Option<String>| TraineeLine {
        district: district.clone(),
        surveyor_id: surveyor.clone(),
        practice: 0,
        flagged: 0,
        flags: BTreeMap::new(),
        first_practice: None,
        last_practice: None,
        last_score_percent: None,
        interviews: 0,
        first_interview: None,
        status: TrainingStatus::NoPractice,
    };
    // in order of completion within each surveyor: the last seen is the last practice
    for p in storage.practice_interviews(scope)? {
        let key = (p.district.clone(), p.surveyor_id.clone());
        let line = lines
            .entry(key)
            .or_insert_with(|| blank(&p.district, &p.surveyor_id));
        line.practice += 1;
        if !p.flags.is_empty() {
            line.flagged += 1;
        }
        let mut kinds: Vec<&str> = p.flags.iter().map(|f| f.code()).collect();
        kinds.dedup();
        for kind in kinds {
            *line.flags.entry(kind.to_string()).or_default() += 1;
        }
        line.first_practice = Some(
            line.first_practice
                .map_or(p.completed_at, |f| f.min(p.completed_at)),
        );
        line.last_practice = Some(
            line.last_practice
                .map_or(p.completed_at, |l| l.max(p.completed_at)),
        );
        if line.last_practice == Some(p.completed_at) && p.max_score > 0 {
            line.last_score_percent = Some(p.score as f64 * 100.0 / p.max_score as f64);
        }
    }
    for start in storage.surveyor_starts(scope)? {
        let key = (start.district.clone(), start.surveyor_id.clone());
        let line = lines
            .entry(key)
            .or_insert_with(|| blank(&start.district, &start.surveyor_id));
        line.interviews = start.interviews;
        line.first_interview = Some(start.first_completed_at);
    }
    let mut lines: Vec<TraineeLine> = lines.into_values().collect();
    for line in &mut lines {
        line.status = match (line.first_practice, line.first_interview) {
            (None, _) => TrainingStatus::NoPractice,
            (Some(practice), Some(real)) if real < practice => TrainingStatus::PractisedLate,
            (Some(_), _) => TrainingStatus::PractisedFirst,
        };
    }
    Ok(TraineeRecord {
        lines,
        not_for_scope: false,
    })
}

/// A time as the record shows it, in the dashboard's offset from UTC.
pub fn local_time(at: Option<DateTime<Utc>>, offset: chrono::FixedOffset) -> String {
    at.map(|at| {
        at.with_timezone(&offset)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    })
    .unwrap_or_default()
}

/// The record as CSV (as the other exports write it).
pub fn trainees_csv(record: &TraineeRecord, lang: &str, offset: chrono::FixedOffset) -> String {
    let headers: Vec<String> = [
        t(lang, "区县", "district"),
        t(lang, "调查员", "surveyor"),
        t(lang, "练习次数", "practice_interviews"),
        t(lang, "被标记的练习", "practice_flagged"),
        t(lang, "标记", "flags"),
        t(lang, "第一次练习", "first_practice"),
        t(lang, "最近一次练习", "last_practice"),
        t(lang, "最近一次得分 %", "last_score_percent"),
        t(lang, "正式调查数", "interviews"),
        t(lang, "第一份正式调查", "first_interview"),
        t(lang, "情况", "status"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<Vec<String>> = record
        .lines
        .iter()
        .map(|l| {
            vec![
                l.district
                    .as_deref()
                    .map(|d| district_name(d, lang))
                    .unwrap_or_default(),
                l.surveyor_id.clone().unwrap_or_default(),
                l.practice.to_string(),
                l.flagged.to_string(),
                l.flags
                    .iter()
                    .map(|(k, n)| format!("{} {n}", flag_label(k, lang)))
                    .collect::<Vec<_>>()
                    .join("; "),
                local_time(l.first_practice, offset),
                local_time(l.last_practice, offset),
                l.last_score_percent
                    .map(|p| format!("{p:.0}"))
                    .unwrap_or_default(),
                l.interviews.to_string(),
                local_time(l.first_interview, offset),
                l.status.as_str().to_string(),
            ]
        })
        .collect();
    crate::export::csv_text(&headers, &rows)
}
