//! What a device may send in an uploaded interview, checked at the protocol boundary before
//! anything else reads it: every string has a length limit and no control or invisible
//! characters, the UTC offset is a real one, timestamps are dates a clock can show. Documented
//! in `docs/sync-protocol.md` ("Limits"). A field that breaks a limit refuses the interview
//! (`invalid_interview`, naming the field): no view, report or export ever sees it.
//!
//! A device's clock that is merely *wrong* (a tablet whose battery ran flat shows 2000 or 1970;
//! one set a year ahead) is not a reason to lose a real interview: [`clock_problem`] says how
//! the clock looks wrong, and the server stores the interview with a quality-control flag and
//! counts it by the day the server received it.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::CompletedInterview;
use zhisu_core::AnswerValue;

/// Longest questionnaire, site or surveyor id, and item id in answers and paradata (characters).
pub const MAX_ID_CHARS: usize = 64;
/// Longest questionnaire version (characters).
pub const MAX_VERSION_CHARS: usize = 32;
/// Longest text answer (characters; an item's own `max_length` may be lower).
pub const MAX_TEXT_ANSWER_CHARS: usize = 2_000;
/// Most answers in one interview, choices in one answer, and items in its paradata.
pub const MAX_ANSWERS: usize = 1_000;
/// Most device quality flags in the paradata.
pub const MAX_DEVICE_FLAGS: usize = 16;
/// The UTC offsets that exist on Earth: −12:00 to +14:00, allowed symmetrically.
pub const MAX_UTC_OFFSET_MINUTES: i32 = 14 * 60;
/// Earliest and latest instants a device may name (a clock reset to 1970 is still a clock;
/// the year 262142 is not).
pub fn earliest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid date")
}
/// See [`earliest`]: instants from the year 2100 on are refused.
pub fn latest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid date")
}
/// How far ahead of the server's clock a device's clock may run before it is flagged.
pub const CLOCK_AHEAD_TOLERANCE_MINUTES: i64 = 10;
/// How long before it reaches the server an interview may have been done before its date is
/// flagged (a tablet may stay offline for weeks; not for more than a year).
pub const CLOCK_BEHIND_TOLERANCE_DAYS: i64 = 366;
/// How much earlier than its start an interview may say it completed (a clock corrected by
/// the network during the interview) before it is flagged.
pub const CLOCK_BACKWARDS_TOLERANCE_SECONDS: i64 = 60;

/// A character that must never be in a stored string: control characters (a text answer may
/// hold line breaks and tabs) and the invisible formatting characters that make two strings
/// look alike or reorder what a reader sees (zero-width, bidirectional overrides, byte-order mark).
pub fn is_hidden(c: char, in_free_text: bool) -> bool {
    if in_free_text && matches!(c, '\n' | '\t') {
        return false;
    }
    // the same invisible characters the questionnaire loader refuses in ids and keys
    c.is_control() || zhisu_core::is_invisible(c)
}

/// One field of an uploaded interview that breaks a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The field, as named in the protocol (`surveyor_id`, `answers.age`).
    pub field: String,
    pub problem: String,
}

impl std::fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

pub(crate) fn check_string(
    problems: &mut Vec<FieldProblem>,
    field: impl Fn() -> String,
    value: &str,
    max_chars: usize,
    in_free_text: bool,
) {
    // count only up to the limit: a megabyte string costs no more than the limit to refuse
    if value.chars().nth(max_chars).is_some() {
        problems.push(FieldProblem {
            field: field(),
            problem: format!("longer than {max_chars} characters"),
        });
    } else if let Some(c) = value.chars().find(|c| is_hidden(*c, in_free_text)) {
        problems.push(FieldProblem {
            field: field(),
            problem: format!(
                "holds the control or invisible character U+{:04X}",
                u32::from(c)
            ),
        });
    }
}

pub(crate) fn check_id(problems: &mut Vec<FieldProblem>, field: &str, value: &str) {
    if value.is_empty() {
        problems.push(FieldProblem {
            field: field.to_string(),
            problem: "is empty".into(),
        });
    }
    check_string(problems, || field.to_string(), value, MAX_ID_CHARS, false);
}

pub(crate) fn check_time(problems: &mut Vec<FieldProblem>, field: &str, at: DateTime<Utc>) {
    if at < earliest() || at >= latest() {
        problems.push(FieldProblem {
            field: field.to_string(),
            problem: format!(
                "{} is not a date a device clock can show (allowed: 1970 to 2099)",
                at.to_rfc3339()
            ),
        });
    }
}

pub(crate) fn check_utc_offset(problems: &mut Vec<FieldProblem>, minutes: i32) {
    if minutes.unsigned_abs() > MAX_UTC_OFFSET_MINUTES.unsigned_abs() {
        problems.push(FieldProblem {
            field: "utc_offset_minutes".into(),
            problem: format!(
                "{minutes} is not a UTC offset (allowed: −{MAX_UTC_OFFSET_MINUTES} to +{MAX_UTC_OFFSET_MINUTES} minutes)"
            ),
        });
    }
}

fn check_coordinate(problems: &mut Vec<FieldProblem>, field: &str, value: f64, limit: f64) {
    if !(value.is_finite() && value.abs() <= limit) {
        problems.push(FieldProblem {
            field: field.to_string(),
            problem: if value.abs() < 1e7 {
                format!("{value} is outside ±{limit}")
            } else {
                format!("{value:.3e} is outside ±{limit}")
            },
        });
    }
}

/// Every field of `interview` that breaks a limit (empty: the interview may be read).
pub fn field_problems(interview: &CompletedInterview) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    check_id(
        &mut problems,
        "questionnaire_id",
        &interview.questionnaire_id,
    );
    check_string(
        &mut problems,
        || "questionnaire_version".into(),
        &interview.questionnaire_version,
        MAX_VERSION_CHARS,
        false,
    );
    if let Some(site) = &interview.site_id {
        check_id(&mut problems, "site_id", site);
    }
    if let Some(surveyor) = &interview.surveyor_id {
        check_id(&mut problems, "surveyor_id", surveyor);
    }
    check_time(&mut problems, "started_at", interview.started_at);
    check_time(&mut problems, "completed_at", interview.completed_at);
    check_utc_offset(&mut problems, interview.utc_offset_minutes);
    if interview.answers.len() > MAX_ANSWERS {
        problems.push(FieldProblem {
            field: "answers".into(),
            problem: format!("more than {MAX_ANSWERS} answers"),
        });
    } else {
        for (item_id, value) in &interview.answers {
            check_string(
                &mut problems,
                || "answers (an item id)".into(),
                item_id,
                MAX_ID_CHARS,
                false,
            );
            let field = || {
                format!(
                    "answers.{}",
                    item_id
                        .chars()
                        .take(MAX_ID_CHARS)
                        .collect::<String>()
                        .escape_debug()
                )
            };
            match value {
                AnswerValue::Choice(key) | AnswerValue::Date(key) => {
                    check_string(&mut problems, field, key, MAX_ID_CHARS, false)
                }
                AnswerValue::Choices(keys) if keys.len() > MAX_ANSWERS => {
                    problems.push(FieldProblem {
                        field: field(),
                        problem: format!("more than {MAX_ANSWERS} choices"),
                    })
                }
                AnswerValue::Choices(keys) => {
                    for key in keys {
                        check_string(&mut problems, field, key, MAX_ID_CHARS, false);
                    }
                }
                AnswerValue::Text(text) => {
                    check_string(&mut problems, field, text, MAX_TEXT_ANSWER_CHARS, true)
                }
                AnswerValue::Decimal(x) if !x.is_finite() => problems.push(FieldProblem {
                    field: field(),
                    problem: "is not a finite number".into(),
                }),
                AnswerValue::Decimal(_)
                | AnswerValue::Bool(_)
                | AnswerValue::Integer(_)
                | AnswerValue::DontKnow => {}
            }
        }
    }
    if let Some(paradata) = &interview.paradata {
        if paradata.items.len() > MAX_ANSWERS {
            problems.push(FieldProblem {
                field: "paradata.items".into(),
                problem: format!("more than {MAX_ANSWERS} items"),
            });
        } else {
            for item in &paradata.items {
                check_string(
                    &mut problems,
                    || "paradata.items.item_id".into(),
                    &item.item_id,
                    MAX_ID_CHARS,
                    false,
                );
            }
        }
        if paradata.flags.len() > MAX_DEVICE_FLAGS {
            problems.push(FieldProblem {
                field: "paradata.flags".into(),
                problem: format!("more than {MAX_DEVICE_FLAGS} flags"),
            });
        }
        for flag in &paradata.flags {
            match flag {
                zhisu_core::QcFlag::StraightLining { from_item, .. } => check_string(
                    &mut problems,
                    || "paradata.flags.from_item".into(),
                    from_item,
                    MAX_ID_CHARS,
                    false,
                ),
                zhisu_core::QcFlag::TooFast {
                    seconds_per_item,
                    minimum,
                    ..
                } => {
                    for x in [seconds_per_item, minimum] {
                        check_coordinate(&mut problems, "paradata.flags (too_fast)", *x, 1e9);
                    }
                }
                zhisu_core::QcFlag::FarFromSite {
                    distance_m,
                    allowed_m,
                } => {
                    for x in [distance_m, allowed_m] {
                        check_coordinate(&mut problems, "paradata.flags (far_from_site)", *x, 1e9);
                    }
                }
                zhisu_core::QcFlag::ManyChanges { .. } | zhisu_core::QcFlag::DeviceClock { .. } => {
                }
                zhisu_core::QcFlag::StoredDataProblem { .. }
                | zhisu_core::QcFlag::SiteNotInPlan { .. }
                | zhisu_core::QcFlag::SiteInOtherDistrict { .. }
                | zhisu_core::QcFlag::BackcheckFailed { .. } => problems.push(FieldProblem {
                    field: "paradata.flags".into(),
                    problem: format!(
                        "a device may not send the server's own {} flag",
                        flag.code()
                    ),
                }),
            }
        }
        if let Some(material) = &paradata.material {
            if material.pieces.len() > MAX_ANSWERS {
                problems.push(FieldProblem {
                    field: "paradata.material.pieces".into(),
                    problem: format!("more than {MAX_ANSWERS} pieces"),
                });
            } else {
                for piece in &material.pieces {
                    check_string(
                        &mut problems,
                        || "paradata.material.pieces".into(),
                        piece,
                        MAX_ID_CHARS,
                        false,
                    );
                }
            }
        }
        for (name, location) in [
            ("paradata.location_start", &paradata.location_start),
            ("paradata.location_end", &paradata.location_end),
        ] {
            if let Some(l) = location {
                check_coordinate(&mut problems, name, l.latitude, 90.0);
                check_coordinate(&mut problems, name, l.longitude, 180.0);
                check_coordinate(&mut problems, name, l.accuracy_m, 1e7);
            }
        }
    }
    problems
}

/// How a device's clock looks wrong for an interview the server received at `received_at`:
/// dated in the future, more than a year before it arrived, or completed before it started.
/// `None`: the times are plausible. Total over every instant (stored rows from before the
/// limits may hold any).
pub fn clock_problem(
    interview: &CompletedInterview,
    received_at: DateTime<Utc>,
) -> Option<zhisu_core::QcFlag> {
    let started = interview.started_at;
    let completed = interview.completed_at;
    let ahead = Duration::minutes(CLOCK_AHEAD_TOLERANCE_MINUTES);
    let behind = Duration::days(CLOCK_BEHIND_TOLERANCE_DAYS);
    let backwards = Duration::seconds(CLOCK_BACKWARDS_TOLERANCE_SECONDS);
    let latest_time = started.max(completed);
    let days_off = |t: DateTime<Utc>| (t - received_at).num_days();
    let (days_off_at_receipt, completed_before_start) = (
        if latest_time > received_at + ahead {
            days_off(latest_time).max(1)
        } else if started < received_at - behind {
            days_off(started)
        } else {
            0
        },
        started.signed_duration_since(completed) > backwards,
    );
    (days_off_at_receipt != 0 || completed_before_start).then_some(
        zhisu_core::QcFlag::DeviceClock {
            days_off_at_receipt,
            completed_before_start,
        },
    )
}

/// The server's receipt time stands in for an interview's own when its device's clock looks
/// wrong: what the progress view counts it by.
pub fn time_to_count_by(completed_at: DateTime<Utc>, received_at: DateTime<Utc>) -> DateTime<Utc> {
    let ahead = Duration::minutes(CLOCK_AHEAD_TOLERANCE_MINUTES);
    let behind = Duration::days(CLOCK_BEHIND_TOLERANCE_DAYS);
    let plausible = received_at
        .checked_add_signed(ahead)
        .is_none_or(|limit| completed_at <= limit)
        && received_at
            .checked_sub_signed(behind)
            .is_none_or(|limit| completed_at >= limit);
    if plausible {
        completed_at
    } else {
        received_at
    }
}
