//! Rows to stored types and back.

use super::*;

/// The SQL condition (on interview columns, prefixed `prefix`) for what `scope` may read; its
/// parameter, when it has one, is `$n`.
pub(crate) fn scope_condition(scope: &Scope, prefix: &str, n: usize) -> (String, ScopeValue) {
    match scope {
        Scope::All => ("TRUE".to_string(), ScopeValue::None),
        Scope::District(d) => (
            format!("{prefix}district = ${n}"),
            ScopeValue::One(d.clone()),
        ),
        Scope::Populations(p) => (
            format!("{prefix}population = ANY(${n})"),
            ScopeValue::Many(p.clone()),
        ),
    }
}

/// The parameter of a scope condition.
pub(crate) enum ScopeValue {
    None,
    One(String),
    Many(Vec<String>),
}

impl ScopeValue {
    pub(crate) fn params(&self) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
        match self {
            ScopeValue::None => vec![],
            ScopeValue::One(v) => vec![v],
            ScopeValue::Many(v) => vec![v],
        }
    }
}

pub(crate) const PERSON_COLUMNS: &str =
    "p.id, p.username, p.display_name, p.role, p.district, p.populations::text, p.created_at";

pub(crate) fn person_from(row: &postgres::Row) -> Result<Person, StorageError> {
    let populations: String = row.get(5);
    Ok(Person {
        id: row.get(0),
        username: row.get(1),
        display_name: row.get(2),
        role: role_from(&row.get::<_, String>(3), row.get(4), &populations)?,
        created_at: row.get(6),
    })
}

pub(crate) const DEVICE_COLUMNS: &str =
    "id, name, round, district, enrolled_at, revoked_at, last_seen_at, pending";

pub(crate) fn device_from(row: &postgres::Row) -> Device {
    Device {
        id: row.get(0),
        name: row.get(1),
        round: row.get(2),
        district: row.get(3),
        enrolled_at: row.get(4),
        revoked_at: row.get(5),
        last_seen_at: row.get(6),
        pending: row.get::<_, Option<i32>>(7).map(|p| p.max(0) as u32),
    }
}
