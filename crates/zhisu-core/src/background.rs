//! Background roles: which items of a questionnaire say who the respondent is (population, age,
//! sex, …), so that the app and the analyses find them by their meaning instead of by ids
//! written into Rust. Declared in the questionnaire file's `[background]` table; a role the
//! file does not name is played by the item of the same id, as before roles existed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A background question the app or the analyses read by its meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackgroundRole {
    /// The key population (a single choice whose keys are the populations of quotas and
    /// modules).
    Population,
    /// Age in whole years (an integer).
    Age,
    Sex,
    Education,
    Industry,
    /// The employer's size (a single choice).
    EmployerSize,
    /// The employer's ownership type (a single choice).
    Ownership,
    /// How the respondent is employed: contract, dispatched, platform… (a single choice).
    EmploymentForm,
    /// Whether the respondent is a migrant worker (农民工; yes or no).
    Migrant,
    /// Where a traveller interviewed at a station is going: home, out to work, or other (a
    /// single choice; intercept surveys at stations during travel peaks, issue #15).
    TravelDirection,
}

impl BackgroundRole {
    pub const ALL: [BackgroundRole; 10] = [
        BackgroundRole::Population,
        BackgroundRole::Age,
        BackgroundRole::Sex,
        BackgroundRole::Education,
        BackgroundRole::Industry,
        BackgroundRole::EmployerSize,
        BackgroundRole::Ownership,
        BackgroundRole::EmploymentForm,
        BackgroundRole::Migrant,
        BackgroundRole::TravelDirection,
    ];

    /// The role's key in `[background]`, which is also the id of the item that plays it when
    /// the file does not say.
    pub fn name(self) -> &'static str {
        match self {
            BackgroundRole::Population => "population",
            BackgroundRole::Age => "age",
            BackgroundRole::Sex => "sex",
            BackgroundRole::Education => "education",
            BackgroundRole::Industry => "industry",
            BackgroundRole::EmployerSize => "employer_size",
            BackgroundRole::Ownership => "ownership",
            BackgroundRole::EmploymentForm => "employment_form",
            BackgroundRole::Migrant => "migrant",
            BackgroundRole::TravelDirection => "travel_direction",
        }
    }

    /// The kind of item that can play the role: an integer for age, yes or no for migrant
    /// status, a single choice otherwise.
    pub fn kind(self) -> &'static str {
        match self {
            BackgroundRole::Age => "integer",
            BackgroundRole::Migrant => "true_false",
            _ => "single_choice",
        }
    }
}

/// The age bands the analyses report by, over the eligible ages (16 to 59), from the item that
/// plays [`BackgroundRole::Age`].
pub const AGE_BANDS: [&str; 4] = ["16-24", "25-34", "35-44", "45-59"];

/// The band of an age in whole years; `None` outside the eligible ages.
pub fn age_band(age: i64) -> Option<&'static str> {
    match age {
        16..=24 => Some(AGE_BANDS[0]),
        25..=34 => Some(AGE_BANDS[1]),
        35..=44 => Some(AGE_BANDS[2]),
        45..=59 => Some(AGE_BANDS[3]),
        _ => None,
    }
}

/// The fingerprint items when a file does not list its own: the national questionnaire's
/// background items.
pub const DEFAULT_FINGERPRINT: [&str; 14] = [
    "sex",
    "age",
    "ethnicity",
    "marital",
    "education",
    "hukou",
    "income",
    "population",
    "industry",
    "job_type",
    "years_service",
    "years_current",
    "ownership",
    "employer_size",
];

/// Which items play the background roles, and the items whose answers together identify a
/// respondent well enough to suspect a repeat interview (the respondent fingerprint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Background {
    /// Role → item id, for every role.
    pub roles: BTreeMap<BackgroundRole, String>,
    /// Item ids, in order.
    pub fingerprint: Vec<String>,
}

impl Default for Background {
    /// Every role played by the item of the same id; the default fingerprint.
    fn default() -> Self {
        Background {
            roles: BackgroundRole::ALL
                .into_iter()
                .map(|role| (role, role.name().to_string()))
                .collect(),
            fingerprint: DEFAULT_FINGERPRINT.map(String::from).to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_eligible_age_has_exactly_its_band_and_no_other_age_has_one() {
        for age in -5..=130 {
            let band = age_band(age);
            assert_eq!(band.is_some(), (16..=59).contains(&age), "{age}");
            if let Some(band) = band {
                let (low, high) = band.split_once('-').unwrap();
                assert!((low.parse().unwrap()..=high.parse().unwrap()).contains(&age));
            }
        }
        assert_eq!(age_band(i64::MAX), None);
        assert_eq!(age_band(i64::MIN), None);
    }
}
