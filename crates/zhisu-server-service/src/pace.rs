//! Rounds in time (issue 15): a round's fieldwork window (`RoundSettings::starts_on` to
//! `ends_on`), the interviews expected by each day at an even pace against those done, per
//! day and per site, and the quotas that will not be met at the current pace.
//!
//! The rule, per site and per quota: the window has `D` days, `d` of them have begun by today
//! (1 on the first day, `D` from the last day on). Expected by today = quota × d / D; projected
//! at the end = done × D / d (done: interviews of the window so far). A quota **will not be
//! met** when the projection is below it (after the window: when done is below it). Before the
//! window starts nothing is expected and nothing is flagged.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::analysis::{progress_between, Progress};
use crate::storage::{Scope, Storage};
use crate::StorageError;

/// One quota (a site's, for one population, or a site's total) against the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaPace {
    pub wanted: u64,
    pub done: u64,
    /// Expected by today at an even pace (may be fractional).
    pub expected: f64,
    /// Done at the end if the pace so far holds (`None` before the window).
    pub projected: Option<f64>,
    /// Will not be met at the current pace.
    pub short: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SitePace {
    pub district: String,
    pub site_id: String,
    pub name: String,
    pub total: QuotaPace,
    /// population → its quota's pace
    pub populations: BTreeMap<String, QuotaPace>,
}

/// One day of the window: expected (an even share of every quota) and done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayPace {
    pub day: String,
    pub expected: f64,
    pub done: u64,
}

/// The pace of a round's fieldwork in a scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pace {
    pub round: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub today: NaiveDate,
    /// Days in the window (`D`).
    pub days_total: i64,
    /// Days of the window begun by today (`d`, from 0 to `D`).
    pub days_begun: i64,
    pub total: QuotaPace,
    /// Each day of the window up to today (or its end).
    pub days: Vec<DayPace>,
    pub sites: Vec<SitePace>,
}

impl Pace {
    /// Every quota that will not be met: (site, population or `None` for the site's total).
    pub fn shortfalls(&self) -> Vec<(&SitePace, Option<&str>)> {
        let mut out = Vec::new();
        for site in &self.sites {
            for (p, q) in &site.populations {
                if q.short {
                    out.push((site, Some(p.as_str())));
                }
            }
        }
        out
    }
}

fn quota(wanted: u64, done: u64, days_total: i64, days_begun: i64) -> QuotaPace {
    let share = days_begun as f64 / days_total as f64;
    let projected = (days_begun > 0).then(|| done as f64 * days_total as f64 / days_begun as f64);
    QuotaPace {
        wanted,
        done,
        expected: wanted as f64 * share,
        projected,
        short: projected.is_some_and(|p| p < wanted as f64),
    }
}

/// The pace of `round` in `scope` on `today`, or `None` when the round has no window.
pub fn pace(
    storage: &dyn Storage,
    scope: &Scope,
    round: &str,
    today: NaiveDate,
) -> Result<Option<Pace>, StorageError> {
    let settings = storage.round_settings(round)?.unwrap_or_default();
    let (Some(starts_on), Some(ends_on)) = (settings.starts_on, settings.ends_on) else {
        return Ok(None);
    };
    let (first, last) = (starts_on.to_string(), ends_on.to_string());
    let progress = progress_between(storage, scope, Some((&first, &last)))?;
    Ok(Some(pace_of(round, &progress, starts_on, ends_on, today)))
}

/// The pace from the window's progress (pure: the hand-worked example of the tests).
pub fn pace_of(
    round: &str,
    progress: &Progress,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    today: NaiveDate,
) -> Pace {
    let days_total = (ends_on - starts_on).num_days() + 1;
    let days_begun = ((today - starts_on).num_days() + 1).clamp(0, days_total);
    let sites = progress
        .sites
        .iter()
        .map(|s| SitePace {
            district: s.district.clone(),
            site_id: s.site_id.clone(),
            name: s.name.clone(),
            total: quota(s.wanted, s.done, days_total, days_begun),
            populations: s
                .populations
                .iter()
                .map(|(p, (done, wanted))| {
                    (
                        p.clone(),
                        quota(u64::from(*wanted), *done, days_total, days_begun),
                    )
                })
                .collect(),
        })
        .collect();
    let per_day = progress.wanted as f64 / days_total as f64;
    let days = (0..days_begun)
        .map(|i| {
            let day = (starts_on + chrono::Duration::days(i)).to_string();
            DayPace {
                done: progress.days.get(&day).copied().unwrap_or(0),
                day,
                expected: per_day,
            }
        })
        .collect();
    Pace {
        round: round.to_string(),
        starts_on,
        ends_on,
        today,
        days_total,
        days_begun,
        total: quota(progress.wanted, progress.total, days_total, days_begun),
        days,
        sites,
    }
}

/// The newest round (by name) of the enrolled devices that has a fieldwork window.
pub fn current_round(storage: &dyn Storage) -> Result<Option<String>, StorageError> {
    let mut rounds: Vec<String> = storage.devices()?.into_iter().map(|d| d.round).collect();
    rounds.sort();
    rounds.dedup();
    for round in rounds.into_iter().rev() {
        let settings = storage.round_settings(&round)?.unwrap_or_default();
        if settings.starts_on.is_some() && settings.ends_on.is_some() {
            return Ok(Some(round));
        }
    }
    Ok(None)
}
