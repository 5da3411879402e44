//! Rows to stored types and back.

use super::*;

/// The SQL condition (on interview columns, prefixed `prefix`) for what `scope` may read, with
/// its one parameter `:scope`.
pub(crate) fn scope_condition(
    scope: &Scope,
    prefix: &str,
) -> Result<(String, Option<String>), StorageError> {
    Ok(match scope {
        Scope::All => (":scope IS NULL".to_string(), None),
        Scope::District(d) => (format!("{prefix}district = :scope"), Some(d.clone())),
        Scope::Populations(p) => (
            format!("{prefix}population IN (SELECT value FROM json_each(:scope))"),
            Some(serde_json::to_string(p).map_err(corrupt)?),
        ),
    })
}

pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Reads back what [`timestamp`] wrote, for every instant chrono holds: RFC 3339 cannot
/// write a year beyond 9999 or before 0, so those (stored before the protocol's limits) are
/// written with a sign and more digits (`+262142-01-01T00:00:00.000Z`) and read with `%Y`.
pub(crate) fn parse_time(s: &str) -> Result<DateTime<Utc>, StorageError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|e| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.fZ")
                .map(|t| t.and_utc())
                .map_err(|_| e)
        })
        .map_err(corrupt)
}

pub(crate) fn parse_uuid(s: &str) -> Result<Uuid, StorageError> {
    Uuid::parse_str(s).map_err(corrupt)
}

pub(crate) const PERSON_COLUMNS: &str =
    "id, username, display_name, role, district, populations, created_at";

pub(crate) type PersonRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
);

pub(crate) fn person_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PersonRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

pub(crate) fn person_from(row: PersonRow) -> Result<Person, StorageError> {
    let (id, username, display_name, role, district, populations, created_at) = row;
    Ok(Person {
        id: parse_uuid(&id)?,
        username,
        display_name,
        role: role_from(&role, district, &populations)?,
        created_at: parse_time(&created_at)?,
    })
}

pub(crate) const DEVICE_COLUMNS: &str =
    "id, name, round, district, enrolled_at, revoked_at, last_seen_at, CAST(pending AS TEXT)";

pub(crate) fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; 8]> {
    Ok([
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ])
}

pub(crate) fn device_from(row: [Option<String>; 8]) -> Result<Device, StorageError> {
    let [id, name, round, district, enrolled, revoked, seen, pending] = row;
    let need = |v: Option<String>| v.ok_or_else(|| corrupt("missing device column"));
    Ok(Device {
        id: parse_uuid(&need(id)?)?,
        name: need(name)?,
        round: need(round)?,
        district: need(district)?,
        enrolled_at: parse_time(&need(enrolled)?)?,
        revoked_at: revoked.as_deref().map(parse_time).transpose()?,
        last_seen_at: seen.as_deref().map(parse_time).transpose()?,
        pending: pending.and_then(|p| p.parse().ok()),
    })
}
