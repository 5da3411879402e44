//! Surveyors managed on the server (issue 15): the people who carry the tablets, made, given a
//! PIN and retired by those who manage their district ([`Role::manages`]: the district's
//! administrators and city administrators), read by them and by the district's supervisors,
//! and delivered to every tablet of the district (`zhisu_protocol::surveyors`).
//!
//! The PIN is kept only as the verifier tablets check it against: Argon2id with a salt of its
//! own, the same hash as people's passwords ([`crate::people::hash_password`]). A surveyor has
//! no password for the server, so a verifier copied from a stolen tablet signs in nowhere but
//! on a tablet of the district, and only after a search through the PINs (slowed by Argon2id,
//! counted and paused by the tablet's lockout when typed).

use chrono::Utc;
use uuid::Uuid;
use zhisu_protocol::surveyors::{surveyors_digest, SurveyorList, MAX_SURVEYOR_NAME_CHARS};
use zhisu_server_storage::{AuditEntry, FieldSurveyor, Role, StorageError};

use crate::people::hash_password;
use crate::{t, Refusal, ServerState};

/// 4 to 6 ASCII digits, as on the tablet.
pub fn pin_is_well_formed(pin: &str) -> bool {
    (4..=6).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// Who may read the surveyors of `district`: those who manage it and its supervisors.
pub fn may_read(role: &Role, district: &str) -> bool {
    role.manages(district) || matches!(role, Role::Supervisor { district: own } if own == district)
}

/// A new surveyor as the dashboard's form gives it.
#[derive(Debug, Default, Clone)]
pub struct SurveyorInput {
    pub district: String,
    pub name: String,
    pub pin: String,
}

fn refused_district(lang: &str) -> Refusal {
    Refusal::NotNow(
        t(
            lang,
            "只有本区县的管理员和市级管理员可以管理本区县的调查员。",
            "Only the district's administrators and city administrators may manage its surveyors.",
        )
        .to_string(),
    )
}

fn bad_pin(lang: &str) -> &'static str {
    t(
        lang,
        "PIN 要 4 到 6 位数字",
        "the PIN must be 4 to 6 digits",
    )
}

/// A new id: `sv-` and 10 hex digits from a random UUID, never a tablet-made id.
fn new_id() -> String {
    let hex: String = Uuid::new_v4()
        .as_bytes()
        .iter()
        .take(5)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sv-{hex}")
}

/// The surveyors `role` may read, by district then id (retired ones included); the city
/// administrator's are every district's.
pub fn surveyors_in_view(
    state: &ServerState,
    role: &Role,
) -> Result<Vec<FieldSurveyor>, StorageError> {
    match role {
        Role::CityAdmin => state.storage.field_surveyors(None),
        Role::DistrictAdmin { district } | Role::Supervisor { district } => {
            state.storage.field_surveyors(Some(district))
        }
        Role::DepartmentViewer { .. } => Ok(Vec::new()),
    }
}

/// Makes a surveyor with their first PIN, with its audit entry (which never holds the PIN).
/// Every problem of the input at once.
pub fn add_surveyor(
    state: &ServerState,
    actor: &str,
    role: &Role,
    input: &SurveyorInput,
    lang: &str,
) -> Result<FieldSurveyor, Refusal> {
    let district = input.district.trim();
    if !role.manages(district) {
        return Err(refused_district(lang));
    }
    let mut problems = Vec::new();
    if district.is_empty() {
        problems.push(t(lang, "请选择区县", "choose the district"));
    }
    let name = input.name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_SURVEYOR_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        problems.push(t(
            lang,
            "请填写姓名（40 字以内）",
            "give the name (at most 40 characters)",
        ));
    }
    if !pin_is_well_formed(&input.pin) {
        problems.push(bad_pin(lang));
    }
    if !problems.is_empty() {
        return Err(Refusal::Invalid(problems.join(t(lang, "；", "; "))));
    }
    let now = Utc::now();
    let verifier = hash_password(&input.pin);
    for _ in 0..4 {
        let surveyor = FieldSurveyor {
            id: new_id(),
            district: district.to_string(),
            name: name.to_string(),
            pin_verifier: verifier.clone(),
            added_by: actor.to_string(),
            added_at: now,
            pin_set_at: now,
            retired_at: None,
        };
        let audit = AuditEntry {
            at: now,
            actor: actor.to_string(),
            action: "add_surveyor".into(),
            detail: format!("surveyor {} in {district}", surveyor.id),
        };
        if state.storage.add_field_surveyor(&surveyor, &audit)? {
            return Ok(surveyor);
        }
    }
    Err(Refusal::NotNow(
        t(lang, "请再试一次", "try again").to_string(),
    ))
}

/// The active surveyor `id` if `role` manages their district.
fn managed_surveyor(
    state: &ServerState,
    role: &Role,
    id: &str,
    lang: &str,
) -> Result<FieldSurveyor, Refusal> {
    let found = state.storage.field_surveyor(id)?;
    match found {
        Some(s) if !may_read(role, &s.district) => Err(Refusal::NotFound(
            t(lang, "没有这个调查员", "no such surveyor").to_string(),
        )),
        Some(s) if !role.manages(&s.district) => Err(refused_district(lang)),
        Some(s) if s.retired_at.is_some() => Err(Refusal::NotNow(
            t(
                lang,
                "这个调查员已停用。",
                "This surveyor has been retired.",
            )
            .to_string(),
        )),
        Some(s) => Ok(s),
        None => Err(Refusal::NotFound(
            t(lang, "没有这个调查员", "no such surveyor").to_string(),
        )),
    }
}

/// Sets a new PIN for an active surveyor (a forgotten PIN), with its audit entry. Tablets of
/// the district take it at their next sync; the old PIN works there until then.
pub fn set_surveyor_pin(
    state: &ServerState,
    actor: &str,
    role: &Role,
    id: &str,
    pin: &str,
    lang: &str,
) -> Result<(), Refusal> {
    let surveyor = managed_surveyor(state, role, id, lang)?;
    if !pin_is_well_formed(pin) {
        return Err(Refusal::Invalid(bad_pin(lang).to_string()));
    }
    let now = Utc::now();
    let audit = AuditEntry {
        at: now,
        actor: actor.to_string(),
        action: "set_surveyor_pin".into(),
        detail: format!("surveyor {} in {}", surveyor.id, surveyor.district),
    };
    state
        .storage
        .set_field_surveyor_pin(&surveyor.id, &hash_password(pin), now, &audit)?;
    Ok(())
}

/// Retires an active surveyor, with its audit entry: delivered to no tablet from now on, so
/// none of the district's tablets signs them in after its next sync. Their interviews stay.
pub fn retire_surveyor(
    state: &ServerState,
    actor: &str,
    role: &Role,
    id: &str,
    lang: &str,
) -> Result<(), Refusal> {
    let surveyor = managed_surveyor(state, role, id, lang)?;
    let now = Utc::now();
    let audit = AuditEntry {
        at: now,
        actor: actor.to_string(),
        action: "retire_surveyor".into(),
        detail: format!("surveyor {} in {}", surveyor.id, surveyor.district),
    };
    state
        .storage
        .retire_field_surveyor(&surveyor.id, now, &audit)?;
    Ok(())
}

/// What the district's tablets receive: the active surveyors by id, with their digest.
pub fn device_surveyors(state: &ServerState, district: &str) -> Result<SurveyorList, StorageError> {
    let surveyors: Vec<_> = state
        .storage
        .field_surveyors(Some(district))?
        .iter()
        .filter(|s| s.retired_at.is_none())
        .map(FieldSurveyor::delivered)
        .collect();
    Ok(SurveyorList {
        digest: surveyors_digest(&surveyors),
        surveyors,
    })
}

/// Interviews and contacts a district received under a surveyor id that is not one of its
/// surveyors managed on the server: a surveyor added on a tablet before the district's list
/// reached it, a tablet not yet updated, or another district's surveyor. Protocol v1 keeps
/// accepting them (nothing is refused or changed); the surveyors page lists them so the
/// district's staff see who still works outside the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnlistedSurveyor {
    pub district: String,
    /// `None`: no surveyor was signed in.
    pub surveyor_id: Option<String>,
    /// The name when the id is a server surveyor of another district.
    pub other_district: Option<String>,
    pub interviews: u64,
    pub contacts: u64,
}

/// The [`UnlistedSurveyor`]s in what `role` may read, only for districts that have surveyors
/// managed on the server, by district then id.
pub fn unlisted_surveyors(
    state: &ServerState,
    role: &Role,
) -> Result<Vec<UnlistedSurveyor>, StorageError> {
    use std::collections::BTreeMap;
    let managed = surveyors_in_view(state, role)?;
    if managed.is_empty() {
        return Ok(Vec::new());
    }
    let all: BTreeMap<String, String> = state
        .storage
        .field_surveyors(None)?
        .into_iter()
        .map(|s| (s.id, s.district))
        .collect();
    let districts: std::collections::BTreeSet<&str> =
        managed.iter().map(|s| s.district.as_str()).collect();
    let scope = role.scope();
    let mut found: BTreeMap<(String, Option<String>), (u64, u64)> = BTreeMap::new();
    let mut note = |district: &Option<String>, surveyor: &Option<String>, interviews, contacts| {
        let Some(district) = district.as_deref().filter(|d| districts.contains(d)) else {
            return;
        };
        let listed = surveyor
            .as_deref()
            .is_some_and(|id| all.get(id).map(String::as_str) == Some(district));
        if !listed {
            let entry = found
                .entry((district.to_string(), surveyor.clone()))
                .or_default();
            entry.0 += interviews;
            entry.1 += contacts;
        }
    };
    for row in state.storage.quality_rows(&scope)? {
        note(&row.district, &row.surveyor_id, 1, 0);
    }
    for count in state.storage.contact_counts(&scope)? {
        note(&count.district, &count.surveyor_id, 0, count.count);
    }
    Ok(found
        .into_iter()
        .map(
            |((district, surveyor_id), (interviews, contacts))| UnlistedSurveyor {
                other_district: surveyor_id.as_deref().and_then(|id| all.get(id)).cloned(),
                district,
                surveyor_id,
                interviews,
                contacts,
            },
        )
        .collect())
}
