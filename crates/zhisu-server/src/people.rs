//! People who use the central server, their roles and sessions.
//!
//! Roles: a **city administrator** sees and manages everything; a **district administrator**
//! manages devices, codes and sites of one district and sees its interviews; a **supervisor**
//! reviews the interviews of one district; a **department viewer** (education, housing and
//! construction, transport…) sees the interviews of its populations only. Passwords are hashed
//! with Argon2id (memory-hard); sessions expire.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long a session lasts after login.
pub const SESSION_HOURS: i64 = 8;

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    #[serde(flatten)]
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(&crate::devices::random_bytes(16))
        .expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 hashes any password with default parameters")
        .to_string()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A password people can live with and attackers cannot guess quickly.
pub fn password_problem(password: &str) -> Option<&'static str> {
    if password.chars().count() < 10 {
        Some("a password needs at least 10 characters")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = hash_password("correct horse battery");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("x", "not a hash"));
        assert_ne!(hash, hash_password("correct horse battery"), "salted");
    }

    #[test]
    fn roles_scope_and_manage() {
        let admin = Role::DistrictAdmin {
            district: "yuzhong".into(),
        };
        assert!(admin.manages("yuzhong") && !admin.manages("jiangbei"));
        assert!(Role::CityAdmin.manages("jiangbei"));
        assert!(!Role::Supervisor {
            district: "yuzhong".into()
        }
        .manages("yuzhong"));
        assert_eq!(
            Role::DepartmentViewer {
                populations: vec!["teacher".into()]
            }
            .scope(),
            Scope::Populations(vec!["teacher".into()])
        );
    }
}
