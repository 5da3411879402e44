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
