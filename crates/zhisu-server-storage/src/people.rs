//! People who use the central server and their roles, as the storage keeps them.
//!
//! Roles: a **city administrator** sees and manages everything; a **district administrator**
//! manages devices, codes and sites of one district and sees its interviews; a **supervisor**
//! reviews the interviews of one district; a **department viewer** (education, housing and
//! construction, transport…) sees the interviews of its populations only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    CityAdmin,
    DistrictAdmin { district: String },
    Supervisor { district: String },
    DepartmentViewer { populations: Vec<String> },
}

impl Role {
    pub fn name(&self) -> &'static str {
        match self {
            Role::CityAdmin => "city_admin",
            Role::DistrictAdmin { .. } => "district_admin",
            Role::Supervisor { .. } => "supervisor",
            Role::DepartmentViewer { .. } => "department_viewer",
        }
    }

    pub fn district(&self) -> Option<&str> {
        match self {
            Role::DistrictAdmin { district } | Role::Supervisor { district } => Some(district),
            _ => None,
        }
    }

    /// May manage devices, enrolment codes and sites of `district`.
    pub fn manages(&self, district: &str) -> bool {
        match self {
            Role::CityAdmin => true,
            Role::DistrictAdmin { district: own } => own == district,
            _ => false,
        }
    }

    /// May read what concerns `district` (its sites, its interviews).
    pub fn may_read_district(&self, district: &str) -> bool {
        match self {
            Role::CityAdmin => true,
            Role::DistrictAdmin { district: own } | Role::Supervisor { district: own } => {
                own == district
            }
            Role::DepartmentViewer { .. } => false,
        }
    }

    /// May record review decisions (quality control).
    pub fn may_review(&self) -> bool {
        matches!(
            self,
            Role::CityAdmin | Role::DistrictAdmin { .. } | Role::Supervisor { .. }
        )
    }

    /// May publish questionnaire versions and make their recordings (city administrators).
    pub fn may_manage_questionnaires(&self) -> bool {
        matches!(self, Role::CityAdmin)
    }

    /// May enter, edit and remove reference levels and targets (city administrators).
    pub fn may_set_references(&self) -> bool {
        matches!(self, Role::CityAdmin)
    }

    /// May write the education library (city administrators: one library serves every
    /// district's tablets and the public take-home page; everyone else reads it and prints
    /// handouts from it).
    pub fn may_write_library(&self) -> bool {
        matches!(self, Role::CityAdmin)
    }

    /// May erase a respondent's interview at their request (city administrators: it changes
    /// every district's figures and cannot be undone).
    pub fn may_erase_interviews(&self) -> bool {
        matches!(self, Role::CityAdmin)
    }

    /// Which interviews this role may read.
    pub fn scope(&self) -> Scope {
        match self {
            Role::CityAdmin => Scope::All,
            Role::DistrictAdmin { district } | Role::Supervisor { district } => {
                Scope::District(district.clone())
            }
            Role::DepartmentViewer { populations } => Scope::Populations(populations.clone()),
        }
    }
}

/// The interviews a person may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    District(String),
    Populations(Vec<String>),
}

impl Scope {
    /// Whether an interview of `district` and `population` is within the scope (the same rule
    /// the backends apply in SQL).
    pub fn admits(&self, district: Option<&str>, population: Option<&str>) -> bool {
        match self {
            Scope::All => true,
            Scope::District(d) => district == Some(d.as_str()),
            Scope::Populations(ps) => population.is_some_and(|p| ps.iter().any(|q| q == p)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    #[serde(flatten)]
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// A person and when they were disabled, if they are.
pub type ListedPerson = (Person, Option<DateTime<Utc>>);

/// Wrong passwords allowed in a row for one username before sign-in pauses for it.
pub const FREE_ATTEMPTS: u32 = 5;
/// The first pause, in seconds; each further wrong password doubles it up to [`LONGEST_PAUSE_S`].
pub const FIRST_PAUSE_S: i64 = 60;
/// The longest pause, in seconds (fifteen minutes).
pub const LONGEST_PAUSE_S: i64 = 15 * 60;
/// A username's count of wrong passwords is forgotten after this long without one, in hours.
pub const FORGET_AFTER_H: i64 = 24;

/// The sign-in attempts of one username, as the database keeps them (by [`sign_in_key`], so
/// the database holds no typed text): every attempt is counted as wrong until it is known to be
/// right. Kept in the database rather than in a process's memory, so that several server
/// processes share it and a flood of other usernames can never push a victim's count out: a
/// count is forgotten only [`FORGET_AFTER_H`] hours after its last wrong password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInAttempts {
    pub failures: u32,
    pub last_at: DateTime<Utc>,
    pub paused_until: Option<DateTime<Utc>>,
}

impl SignInAttempts {
    /// How long sign-in for this username still pauses at `now`.
    pub fn pause(&self, now: DateTime<Utc>) -> Option<chrono::Duration> {
        self.paused_until.filter(|u| *u > now).map(|u| u - now)
    }

    /// An attempt at `now`, counted as wrong until it is known to be right: the new count, or
    /// how long to wait while sign-in for the username pauses (then nothing changes). After
    /// [`FREE_ATTEMPTS`] wrong ones in a row, sign-in pauses a minute; each further wrong one
    /// doubles the pause, up to fifteen minutes.
    pub fn attempt(
        previous: Option<SignInAttempts>,
        now: DateTime<Utc>,
    ) -> Result<SignInAttempts, chrono::Duration> {
        if let Some(wait) = previous.and_then(|p| p.pause(now)) {
            return Err(wait);
        }
        let failures = match previous {
            Some(p) if now - p.last_at <= chrono::Duration::hours(FORGET_AFTER_H) => p.failures,
            _ => 0,
        }
        .saturating_add(1);
        let paused_until = (failures >= FREE_ATTEMPTS).then(|| {
            let doublings = (failures - FREE_ATTEMPTS).min(10);
            now + chrono::Duration::seconds((FIRST_PAUSE_S << doublings).min(LONGEST_PAUSE_S))
        });
        Ok(SignInAttempts {
            failures,
            last_at: now,
            paused_until,
        })
    }
}

/// The key the attempts of a username are kept under: the hash of the username as the sign-in
/// compares it (trimmed, lower case).
pub fn sign_in_key(username: &str) -> String {
    zhisu_protocol::sha256_hex(username.trim().to_lowercase().as_bytes())
}

#[cfg(test)]
mod sign_in_tests {
    use super::*;

    #[test]
    fn wrong_passwords_pause_sign_in_and_each_further_one_doubles_the_pause() {
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-12-04T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let s = chrono::Duration::seconds;
        let mut state = None;
        for i in 1..FREE_ATTEMPTS {
            state = Some(SignInAttempts::attempt(state, t0 + s(i.into())).unwrap());
            assert_eq!(state.unwrap().pause(t0 + s(9)), None);
        }
        // the fifth is still checked, and pauses a minute
        state = Some(SignInAttempts::attempt(state, t0 + s(10)).unwrap());
        assert_eq!(state.unwrap().pause(t0 + s(40)), Some(s(30)));
        assert_eq!(SignInAttempts::attempt(state, t0 + s(40)), Err(s(30)));
        // each further wrong one doubles the pause, up to fifteen minutes
        state = Some(SignInAttempts::attempt(state, t0 + s(71)).unwrap());
        assert_eq!(state.unwrap().pause(t0 + s(71)), Some(s(120)));
        let mut at = t0 + s(200);
        for _ in 0..8 {
            at += state.unwrap().pause(at).unwrap_or_default();
            state = Some(SignInAttempts::attempt(state, at).unwrap());
        }
        assert_eq!(state.unwrap().pause(at), Some(s(LONGEST_PAUSE_S)));
        // forgotten a day after the last wrong one
        let later = at + chrono::Duration::hours(FORGET_AFTER_H) + s(1);
        assert_eq!(SignInAttempts::attempt(state, later).unwrap().failures, 1);
        assert_eq!(sign_in_key(" Zhang "), sign_in_key("zhang"));
    }
}
