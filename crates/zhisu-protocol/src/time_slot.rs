//! Time-slot quotas of a site (issue #15, intercept surveys at stations during travel peaks):
//! interviews wanted at a site within a window of days and hours of the day, such as the
//! Spring Festival peak days from 06:00 to 10:00. One rule places an interview in a slot, used
//! by the server's progress and the tablet's site progress alike, so that they cannot disagree:
//! **the interview's local start** — `started_at` moved by the device's `utc_offset_minutes`
//! (the clock and zone of the tablet that did it) — falls on a day from `first_day` to
//! `last_day` (both included) at a time of day from `from` (included) to `to` (excluded).
//! The start, not the completion, because the peak is when the traveller was approached; an
//! interview begun at 09:55 and finished at 10:05 belongs to the 06:00–10:00 slot.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// The largest offset from UTC a device may report, in minutes (±18 h, as RFC 3339 allows); a
/// larger one is read as UTC.
const MAX_OFFSET_MINUTES: i32 = 18 * 60;

/// One time-slot quota of a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeSlot {
    /// What the slot is called where it is shown (`春运早高峰`).
    pub label: String,
    /// The first and last day of the slot (local dates, both included).
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Local time of day the slot starts (included) and ends (excluded), `HH:MM`.
    pub from: String,
    pub to: String,
    /// Interviews wanted in the slot, any population.
    pub target: u32,
}

/// Why a time slot cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeSlotError {
    #[error("time slot '{0}': the label is empty")]
    NoLabel(String),
    #[error("time slot '{0}': the last day is before the first day")]
    DaysReversed(String),
    #[error("time slot '{0}': '{1}' is not a time of day; write HH:MM, e.g. 06:00")]
    NotATime(String, String),
    #[error("time slot '{0}': 'to' must be later than 'from' on the same day")]
    HoursReversed(String),
    #[error("time slot '{0}': the target must be at least 1")]
    NoTarget(String),
}

/// `HH:MM` (00:00 to 23:59, or 24:00 for the end of the day) in minutes after midnight.
fn minutes(text: &str) -> Option<u32> {
    if text == "24:00" {
        return Some(24 * 60);
    }
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0).map(|t| t.hour() * 60 + t.minute())
}

/// The local date and minute of the day of a moment at a device's offset; `None` beyond the
/// dates chrono holds.
pub fn local_start(started_at: DateTime<Utc>, utc_offset_minutes: i32) -> Option<(NaiveDate, u32)> {
    let offset = if utc_offset_minutes.unsigned_abs() <= MAX_OFFSET_MINUTES.unsigned_abs() {
        utc_offset_minutes
    } else {
        0
    };
    let local = started_at
        .naive_utc()
        .checked_add_signed(Duration::minutes(i64::from(offset)))?;
    Some((local.date(), local.hour() * 60 + local.minute()))
}

impl TimeSlot {
    /// Whether the slot can be stored: a label, days in order, `HH:MM` times with `from`
    /// before `to`, a target of at least 1.
    pub fn check(&self) -> Result<(), TimeSlotError> {
        let name = || self.label.clone();
        if self.label.trim().is_empty() {
            return Err(TimeSlotError::NoLabel(format!(
                "{} {}",
                self.first_day, self.from
            )));
        }
        if self.last_day < self.first_day {
            return Err(TimeSlotError::DaysReversed(name()));
        }
        let from = minutes(&self.from)
            .filter(|m| *m < 24 * 60)
            .ok_or_else(|| TimeSlotError::NotATime(name(), self.from.clone()))?;
        let to =
            minutes(&self.to).ok_or_else(|| TimeSlotError::NotATime(name(), self.to.clone()))?;
        if to <= from {
            return Err(TimeSlotError::HoursReversed(name()));
        }
        if self.target == 0 {
            return Err(TimeSlotError::NoTarget(name()));
        }
        Ok(())
    }

    /// Whether an interview started at `started_at` on a device at `utc_offset_minutes` counts
    /// in this slot (see the module's rule). A slot that does not pass [`TimeSlot::check`]
    /// holds nothing.
    pub fn contains(&self, started_at: DateTime<Utc>, utc_offset_minutes: i32) -> bool {
        let (Some(from), Some(to)) = (minutes(&self.from), minutes(&self.to)) else {
            return false;
        };
        let Some((day, minute)) = local_start(started_at, utc_offset_minutes) else {
            return false;
        };
        (self.first_day..=self.last_day).contains(&day) && (from..to).contains(&minute)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(first: &str, last: &str, from: &str, to: &str) -> TimeSlot {
        TimeSlot {
            label: "春运早高峰".into(),
            first_day: first.parse().unwrap(),
            last_day: last.parse().unwrap(),
            from: from.into(),
            to: to.into(),
            target: 40,
        }
    }

    #[test]
    fn an_interview_counts_by_its_local_start() {
        let s = slot("2027-01-25", "2027-02-05", "06:00", "10:00");
        assert_eq!(s.check(), Ok(()));
        let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
        // 06:00 Beijing time (UTC+8) is 22:00 UTC the day before: in
        assert!(s.contains(at("2027-01-24T22:00:00Z"), 480));
        // the same moment read as UTC is 22:00 on the 24th: out
        assert!(!s.contains(at("2027-01-24T22:00:00Z"), 0));
        // docs/statistics.md §11.1: 06:30 local at UTC+8 is in, 05:30 at UTC+7 is not
        assert!(s.contains(at("2027-01-24T22:30:00Z"), 480));
        assert!(!s.contains(at("2027-01-24T22:30:00Z"), 420));
        // 09:59 in, 10:00 out (the end is excluded)
        assert!(s.contains(at("2027-01-30T01:59:59Z"), 480));
        assert!(!s.contains(at("2027-01-30T02:00:00Z"), 480));
        // the last day is included, the day after is not
        assert!(s.contains(at("2027-02-05T00:30:00Z"), 480));
        assert!(!s.contains(at("2027-02-06T00:30:00Z"), 480));
        // an impossible offset is read as UTC, never a panic
        assert!(!s.contains(at("2027-01-30T01:00:00Z"), i32::MAX));
        assert!(s.contains(at("2027-01-30T07:00:00Z"), i32::MIN));
        // a moment at the edge of chrono's range: no panic either
        assert!(!s.contains(DateTime::<Utc>::MAX_UTC, 480));
    }

    #[test]
    fn a_slot_that_cannot_hold_anything_is_refused_with_its_reason() {
        assert_eq!(
            slot("2027-01-25", "2027-01-25", "00:00", "24:00").check(),
            Ok(())
        );
        assert!(matches!(
            slot("2027-02-05", "2027-01-25", "06:00", "10:00").check(),
            Err(TimeSlotError::DaysReversed(_))
        ));
        assert!(matches!(
            slot("2027-01-25", "2027-02-05", "10:00", "06:00").check(),
            Err(TimeSlotError::HoursReversed(_))
        ));
        for bad in ["6:00", "25:00", "06:60", "0600", "", "06:00:00", "24:00"] {
            assert!(
                matches!(
                    slot("2027-01-25", "2027-02-05", bad, "23:00").check(),
                    Err(TimeSlotError::NotATime(..))
                ),
                "{bad}"
            );
        }
        let mut none = slot("2027-01-25", "2027-02-05", "06:00", "10:00");
        none.target = 0;
        assert!(matches!(none.check(), Err(TimeSlotError::NoTarget(_))));
        none.label = " ".into();
        assert!(matches!(none.check(), Err(TimeSlotError::NoLabel(_))));
    }
}
