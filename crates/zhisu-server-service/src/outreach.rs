//! Outreach (issue 24): the events district staff record, the quiz sessions tablets upload,
//! and the coverage the dashboard reports, all in the viewer's scope. A quiz session is not an
//! interview: nothing here is read by an estimate, a quota or progress, and nothing of the
//! interviews is written here.
//!
//! Where things are counted (`docs/sync-protocol.md`, "Outreach"):
//! - a quiz session in its event's district, else its site's district in the plan, else its
//!   device's; under its event's population when the event names one (a quiz session asks
//!   nothing about the person, so it has no population of its own);
//! - an event in its district and under its population;
//! - **workers reached**: per event, the larger of the people the staff counted and the quiz
//!   sessions run at it, plus every quiz session not attached to an event;
//! - a **weak point** is one of the survey's ten weakest scored items in the viewer's scope
//!   (lowest share answered right); it **had an intervention** when a quiz session in scope
//!   asked it or an event in scope covered it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_protocol::outreach::{EVENT_KINDS, MAX_EVENT_TEXT_CHARS, MAX_QUIZ_BATCH};
use zhisu_protocol::{codes, OutreachEvent, QuizSession, Receipt, ReceiptStatus};
use zhisu_server_storage::{
    AcceptedQuizSession, Device, EventDeletion, Role, Scope, StoredEvent, StoredQuizSession,
};

use crate::analysis::{self, Filter};
use crate::{t, AuditEntry, QuestionnaireRegistry, Refusal, ServerState, Storage, StorageError};

/// How many of the survey's weakest items count as its weak points, and how many a tablet
/// receives to quiz first.
pub const WEAK_POINTS: usize = 10;
/// How long after its date an event is still delivered to tablets (days).
pub const EVENT_DELIVERED_DAYS: i64 = 7;

/// An event's kind in words.
pub fn kind_label(kind: &str, lang: &str) -> &'static str {
    match kind {
        "enterprise" => t(lang, "进企业", "Enterprises"),
        "school" => t(lang, "进学校", "Schools"),
        "institution" => t(lang, "进机关、医院", "Institutions and hospitals"),
        "community" => t(lang, "进社区", "Communities"),
        "village" => t(lang, "进农村", "Villages"),
        "station" => t(lang, "进车站", "Stations"),
        _ => t(lang, "其他", "Other"),
    }
}

/// Checks a quiz session or says why it is rejected: its limits, its content hash, a
/// questionnaire version the server has, and items that are scored items of that version.
fn accept(state: &ServerState, session: &QuizSession) -> Result<(), Receipt> {
    let refuse = |code: &str, message: String| Receipt {
        interview_id: session.id,
        status: ReceiptStatus::Rejected,
        code: Some(code.to_string()),
        message: Some(message),
    };
    let problems = session.field_problems();
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(refuse(codes::INVALID_INTERVIEW, list.join("; ")));
    }
    if !session.hash_is_valid() {
        return Err(refuse(
            codes::CONTENT_HASH_MISMATCH,
            format!(
                "the hash of the quiz session's canonical form differs: the server computed {} \
                 (RFC 8785 JSON of every field except content_hash, timestamps in UTC; \
                 docs/sync-protocol.md, \"Outreach\")",
                session.compute_hash()
            ),
        ));
    }
    let Some(published) = state
        .questionnaires
        .get(&session.questionnaire_id, &session.questionnaire_version)
    else {
        return Err(refuse(
            codes::UNKNOWN_QUESTIONNAIRE_VERSION,
            format!(
                "the server has no questionnaire {} version {}",
                session.questionnaire_id, session.questionnaire_version
            ),
        ));
    };
    let q = &published.questionnaire;
    let unscored: Vec<&str> = session
        .items
        .iter()
        .filter(|i| {
            !q.items
                .iter()
                .any(|item| item.id == i.item && item.scoring.is_some())
        })
        .map(|i| i.item.as_str())
        .collect();
    if !unscored.is_empty() {
        return Err(refuse(
            codes::INVALID_INTERVIEW,
            format!(
                "items: {} {} not a scored item of this version",
                unscored.join(", "),
                if unscored.len() == 1 { "is" } else { "are" }
            ),
        ));
    }
    Ok(())
}

/// Checks and stores the quiz sessions of an upload: one receipt per session, in order; the
/// accepted ones in one transaction, each counted where the module's rule says.
pub fn ingest_quiz_sessions(
    state: &ServerState,
    sessions: Vec<QuizSession>,
    device: Option<&Device>,
) -> Result<Vec<Receipt>, StorageError> {
    if sessions.is_empty() {
        return Ok(Vec::new());
    }
    let mut receipts: Vec<Option<Receipt>> = Vec::with_capacity(sessions.len());
    let mut accepted = Vec::new();
    let mut events: HashMap<Uuid, Option<StoredEvent>> = HashMap::new();
    let plan = if sessions.iter().any(|s| s.site_id.is_some()) {
        state.storage.all_sites()?
    } else {
        Vec::new()
    };
    for session in sessions {
        if let Err(receipt) = accept(state, &session) {
            receipts.push(Some(receipt));
            continue;
        }
        let event = match session.event_id {
            Some(id) => match events.get(&id) {
                Some(e) => e.clone(),
                None => {
                    let e = state.storage.event(id)?;
                    events.insert(id, e.clone());
                    e
                }
            },
            None => None,
        };
        let site_district = session.site_id.as_ref().and_then(|site| {
            plan.iter()
                .find(|s| &s.id == site)
                .map(|s| s.district.clone())
        });
        let district = event
            .as_ref()
            .map(|e| e.event.district.clone())
            .or(site_district)
            .or(device.map(|d| d.district.clone()));
        let population = event.and_then(|e| e.event.population);
        receipts.push(None);
        accepted.push(AcceptedQuizSession {
            session,
            district,
            population,
        });
    }
    let stored = state
        .storage
        .ingest_quiz_sessions(&accepted, device, Utc::now())?;
    let mut stored = stored.into_iter();
    Ok(receipts
        .into_iter()
        .map(|r| r.or_else(|| stored.next()))
        .collect::<Option<Vec<_>>>()
        .expect("one stored receipt per accepted quiz session"))
}

/// The most quiz sessions one upload may carry.
pub const MAX_SESSIONS_PER_UPLOAD: usize = MAX_QUIZ_BATCH;

/// An event as a person enters it (the dashboard's form).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventInput {
    /// Set to change an event already recorded.
    #[serde(default)]
    pub id: Option<Uuid>,
    pub district: String,
    pub kind: String,
    pub place: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    #[serde(default)]
    pub population: Option<String>,
    #[serde(default)]
    pub people_reached: String,
    #[serde(default)]
    pub material: String,
    #[serde(default)]
    pub items: Vec<String>,
}

/// Records an event (a new one, or changes one by id) with its audit entry. Who may: the
/// district's administrators and city administrators ([`Role::manages`]); the district of an
/// event changed must be theirs too. Every problem of the input at once.
pub fn save_event(
    state: &ServerState,
    actor: &str,
    role: &Role,
    input: &EventInput,
    lang: &str,
) -> Result<OutreachEvent, Refusal> {
    let district = input.district.trim();
    if !role.manages(district) {
        return Err(Refusal::NotNow(
            t(
                lang,
                "只有本区县的管理员和市级管理员可以录入本区县的宣传活动。",
                "Only the district's administrators and city administrators may record its outreach events.",
            )
            .to_string(),
        ));
    }
    let mut problems = Vec::new();
    if district.is_empty() {
        problems.push(t(lang, "请选择区县", "choose the district"));
    }
    if !EVENT_KINDS.contains(&input.kind.as_str()) {
        problems.push(t(lang, "请选择活动类型", "choose the kind of event"));
    }
    let place = input.place.trim();
    if place.is_empty() || place.chars().count() > MAX_EVENT_TEXT_CHARS {
        problems.push(t(
            lang,
            "请填写活动地点（200 字以内）",
            "give the place (at most 200 characters)",
        ));
    }
    let material = input.material.trim();
    if material.chars().count() > MAX_EVENT_TEXT_CHARS {
        problems.push(t(
            lang,
            "发放材料请写在 200 字以内",
            "describe the material in at most 200 characters",
        ));
    }
    let date = NaiveDate::parse_from_str(input.date.trim(), "%Y-%m-%d").ok();
    if date.is_none() {
        problems.push(t(lang, "请填写活动日期", "give the date"));
    }
    let reached = input.people_reached.trim();
    let people_reached = if reached.is_empty() {
        Some(0)
    } else {
        reached.parse::<u32>().ok().filter(|n| *n <= 1_000_000)
    };
    if people_reached.is_none() {
        problems.push(t(
            lang,
            "覆盖人数请填写 0 到 1000000 的整数",
            "give the people reached as a whole number from 0 to 1000000",
        ));
    }
    let population = input
        .population
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    if population.is_some_and(|p| p.chars().count() > 64) {
        problems.push(t(lang, "请选择人群", "choose a population"));
    }
    let items: Vec<String> = input
        .items
        .iter()
        .map(|i| i.trim().to_string())
        .filter(|i| !i.is_empty())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if items.len() > 60 || items.iter().any(|i| i.chars().count() > 64) {
        problems.push(t(
            lang,
            "知识点最多 60 个",
            "name at most 60 knowledge points",
        ));
    }
    if let Some(id) = input.id {
        match state.storage.event(id)? {
            None => {
                return Err(Refusal::NotFound(
                    t(lang, "没有这个活动", "no such event").to_string(),
                ))
            }
            Some(old) if !role.manages(&old.event.district) => {
                return Err(Refusal::NotNow(
                    t(
                        lang,
                        "这个活动属于另一个区县。",
                        "This event belongs to another district.",
                    )
                    .to_string(),
                ))
            }
            Some(_) => {}
        }
    }
    if !problems.is_empty() {
        return Err(Refusal::Invalid(problems.join(t(lang, "；", "; "))));
    }
    let event = OutreachEvent {
        id: input.id.unwrap_or_else(Uuid::new_v4),
        district: district.to_string(),
        kind: input.kind.clone(),
        place: place.to_string(),
        date: date.expect("checked"),
        population: population.map(str::to_string),
        people_reached: people_reached.expect("checked"),
        material: material.to_string(),
        items,
    };
    let now = Utc::now();
    let audit = AuditEntry {
        at: now,
        actor: actor.to_string(),
        action: "save_outreach_event".into(),
        detail: format!(
            "{} event {} in {} on {}: {} people reached",
            if input.id.is_some() { "changed" } else { "new" },
            event.id,
            event.district,
            event.date,
            event.people_reached
        ),
    };
    state.storage.save_event(&event, actor, now, &audit)?;
    Ok(event)
}

/// Deletes an event recorded by mistake, with its audit entry. Who may: as for
/// [`save_event`], for the event's district. An event that quiz sessions were run at is kept
/// (they would lose their event and its coverage): the refusal says how many and to change the
/// event instead. Tablets stop offering a deleted event at their next sync.
pub fn delete_event(
    state: &ServerState,
    actor: &str,
    role: &Role,
    id: Uuid,
    lang: &str,
) -> Result<(), Refusal> {
    let not_found = || Refusal::NotFound(t(lang, "没有这个活动", "no such event").to_string());
    let Some(old) = state.storage.event(id)? else {
        return Err(not_found());
    };
    if !role.manages(&old.event.district) {
        return Err(Refusal::NotNow(
            t(
                lang,
                "只有本区县的管理员和市级管理员可以删除本区县的宣传活动。",
                "Only the district's administrators and city administrators may delete its outreach events.",
            )
            .to_string(),
        ));
    }
    let audit = AuditEntry {
        at: Utc::now(),
        actor: actor.to_string(),
        action: "delete_outreach_event".into(),
        detail: format!(
            "deleted event {} in {} on {} ({})",
            id, old.event.district, old.event.date, old.event.place
        ),
    };
    match state.storage.delete_event(id, &audit)? {
        EventDeletion::Deleted => Ok(()),
        EventDeletion::NotFound => Err(not_found()),
        EventDeletion::HasSessions(n) => Err(Refusal::Invalid(match lang {
            "en" => format!("{n} quiz sessions were run at this event, so it cannot be deleted; correct it instead."),
            _ => format!("这个活动已有 {n} 人次知识问答，不能删除；请改正活动的内容。"),
        })),
    }
}

/// The events delivered to a district's tablets: from [`EVENT_DELIVERED_DAYS`] days before
/// `today` on.
pub fn events_for_tablets(
    state: &ServerState,
    district: &str,
    today: NaiveDate,
) -> Result<Vec<OutreachEvent>, StorageError> {
    let from = today - Duration::days(EVENT_DELIVERED_DAYS);
    Ok(state
        .storage
        .events(&Scope::District(district.to_string()))?
        .into_iter()
        .map(|e| e.event)
        .filter(|e| e.date >= from)
        .collect())
}

/// How long a district's weak points, once computed for its tablets, are given out again
/// before they are computed anew. They move slowly (ten items out of thousands of answers),
/// and without this every assignment poll would read every interview of the district: under
/// R6's 500 tablets that was most of the server's time (BENCHMARKS.md, R6).
pub const WEAK_POINTS_KEPT: std::time::Duration = std::time::Duration::from_secs(300);

/// Weak points per district and round, with when they were computed.
pub struct WeakPointsKept {
    fresh_for: std::time::Duration,
    points: std::sync::Mutex<HashMap<(String, String), (std::time::Instant, WeakPoints)>>,
}

type WeakPoints = BTreeMap<String, Vec<String>>;

impl Default for WeakPointsKept {
    fn default() -> Self {
        WeakPointsKept::fresh_for(WEAK_POINTS_KEPT)
    }
}

impl WeakPointsKept {
    /// Weak points given out again for `fresh_for` after they were computed.
    pub fn fresh_for(fresh_for: std::time::Duration) -> Self {
        WeakPointsKept {
            fresh_for,
            points: std::sync::Mutex::default(),
        }
    }
}

/// Per questionnaire the server publishes to `round`, the district's weakest scored items
/// (at most [`WEAK_POINTS`], weakest first): what its tablets quiz first. Computed again once
/// older than [`WEAK_POINTS_KEPT`], by one request while the others are given the points
/// computed before (each server process keeps its own).
pub fn weak_items_for_tablets(
    state: &ServerState,
    district: &str,
    round: &str,
) -> Result<WeakPoints, StorageError> {
    let kept = &state.weak_points;
    let key = (district.to_string(), round.to_string());
    let lock = || kept.points.lock().unwrap_or_else(|e| e.into_inner());
    {
        let mut points = lock();
        match points.get_mut(&key) {
            Some((at, points)) if at.elapsed() < kept.fresh_for => return Ok(points.clone()),
            // this request computes them anew; the others meanwhile take the older ones
            Some((at, _)) => *at = std::time::Instant::now(),
            None => {}
        }
    }
    let computed_at = std::time::Instant::now();
    match compute_weak_items_for_tablets(state, district, round) {
        Ok(points) => {
            lock().insert(key, (computed_at, points.clone()));
            Ok(points)
        }
        Err(e) => {
            // the next request tries again
            if let Some((at, _)) = lock().get_mut(&key) {
                *at = computed_at
                    .checked_sub(kept.fresh_for)
                    .unwrap_or(computed_at);
            }
            Err(e)
        }
    }
}

fn compute_weak_items_for_tablets(
    state: &ServerState,
    district: &str,
    round: &str,
) -> Result<BTreeMap<String, Vec<String>>, StorageError> {
    let ids: BTreeSet<String> = state
        .questionnaires
        .refs_for(Some(round))
        .into_iter()
        .map(|r| r.id)
        .collect();
    let mut out = BTreeMap::new();
    for id in ids {
        let items = analysis::weakest_items(
            state.storage.as_ref(),
            &state.questionnaires,
            &Scope::District(district.to_string()),
            &id,
            &Filter::default(),
            1,
            "zh-CN",
        )?;
        let weakest: Vec<String> = items
            .into_iter()
            .take(WEAK_POINTS)
            .map(|i| i.item_id)
            .collect();
        if !weakest.is_empty() {
            out.insert(id, weakest);
        }
    }
    Ok(out)
}

/// A count under a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub key: String,
    pub label: String,
    pub sessions: u64,
}

/// An event with its quiz sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventCoverage {
    pub event: OutreachEvent,
    pub entered_by: String,
    pub sessions: u64,
    /// Items answered right in its sessions, and items asked.
    pub right: u64,
    pub asked: u64,
    /// The larger of the people counted and its sessions.
    pub reached: u64,
}

/// One item's quiz answers: how often asked and missed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissedItem {
    pub item_id: String,
    pub label: String,
    pub asked: u64,
    pub missed: u64,
}

/// What reached one district and population.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reach {
    pub district: Option<String>,
    pub population: Option<String>,
    pub events: u64,
    pub people_counted: u64,
    pub sessions: u64,
    pub workers_reached: u64,
}

/// One of the survey's weak points and the interventions it had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeakPoint {
    pub item_id: String,
    pub label: String,
    /// The survey's share answered right, and of how many.
    pub survey_share: f64,
    pub survey_asked: u64,
    /// Quiz sessions that asked it, and how many of them answered it right.
    pub quizzed: u64,
    pub quizzed_right: u64,
    /// Events that covered it.
    pub events: u64,
    pub covered: bool,
}

/// The coverage of outreach in a scope (`/dashboard/outreach`, `/api/v1/outreach/coverage`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutreachCoverage {
    pub questionnaire_id: String,
    /// Quiz sessions of the questionnaire in scope.
    pub sessions: u64,
    /// Quiz sessions whose score screen offered the take-home QR code.
    pub take_home_offered: u64,
    pub workers_reached: u64,
    pub events: Vec<EventCoverage>,
    pub by_site: Vec<Count>,
    pub by_day: Vec<Count>,
    pub by_event: Vec<Count>,
    /// Items most often missed first.
    pub missed: Vec<MissedItem>,
    pub reach: Vec<Reach>,
    pub weak_points: Vec<WeakPoint>,
}

impl OutreachCoverage {
    /// How many weak points had an intervention.
    pub fn weak_points_covered(&self) -> usize {
        self.weak_points.iter().filter(|w| w.covered).count()
    }
}

fn local_day(at: DateTime<Utc>, offset_minutes: i32) -> NaiveDate {
    (at + Duration::minutes(i64::from(offset_minutes))).date_naive()
}

/// The coverage a role may read: quiz sessions of `questionnaire_id` and every event in its
/// scope, counted as the module's rules say.
pub fn coverage(
    storage: &dyn Storage,
    registry: &QuestionnaireRegistry,
    role: &Role,
    questionnaire_id: &str,
    min_cell_n: u64,
    lang: &str,
) -> Result<OutreachCoverage, StorageError> {
    let scope = role.scope();
    let sessions: Vec<StoredQuizSession> = storage
        .quiz_sessions(&scope)?
        .into_iter()
        .filter(|s| s.session.questionnaire_id == questionnaire_id)
        .collect();
    let events = storage.events(&scope)?;
    let newest = registry.newest(questionnaire_id);
    let label = |item: &str| -> String {
        newest
            .as_ref()
            .and_then(|p| {
                let q = &p.questionnaire;
                q.items
                    .iter()
                    .find(|i| i.id == item)
                    .map(|i| i.label.get(lang, &q.default_language).to_string())
            })
            .unwrap_or_else(|| item.to_string())
    };
    let place_of: HashMap<Uuid, &OutreachEvent> =
        events.iter().map(|e| (e.event.id, &e.event)).collect();

    let mut by_site: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_day: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    let mut by_event: BTreeMap<Option<Uuid>, u64> = BTreeMap::new();
    let mut per_event: HashMap<Uuid, (u64, u64, u64)> = HashMap::new();
    let mut items: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut reach: BTreeMap<(Option<String>, Option<String>), Reach> = BTreeMap::new();
    let mut take_home_offered = 0;
    for stored in &sessions {
        let s = &stored.session;
        take_home_offered += u64::from(s.take_home_qr);
        *by_site
            .entry(s.site_id.clone().unwrap_or_default())
            .or_default() += 1;
        *by_day
            .entry(local_day(s.started_at, s.utc_offset_minutes))
            .or_default() += 1;
        *by_event.entry(s.event_id).or_default() += 1;
        for item in &s.items {
            let entry = items.entry(item.item.clone()).or_default();
            entry.0 += 1;
            if !item.right {
                entry.1 += 1;
            }
        }
        if let Some(e) = s.event_id {
            let entry = per_event.entry(e).or_default();
            entry.0 += 1;
            entry.1 += s.right() as u64;
            entry.2 += s.items.len() as u64;
        }
        let row = reach
            .entry((stored.district.clone(), stored.population.clone()))
            .or_insert_with(|| Reach {
                district: stored.district.clone(),
                population: stored.population.clone(),
                events: 0,
                people_counted: 0,
                sessions: 0,
                workers_reached: 0,
            });
        row.sessions += 1;
        // a session at an event is reached through its event (below)
        if s.event_id.is_none_or(|e| !place_of.contains_key(&e)) {
            row.workers_reached += 1;
        }
    }
    let mut event_rows = Vec::new();
    for stored in &events {
        let e = &stored.event;
        let (n, right, asked) = per_event.get(&e.id).copied().unwrap_or_default();
        let reached = u64::from(e.people_reached).max(n);
        let row = reach
            .entry((Some(e.district.clone()), e.population.clone()))
            .or_insert_with(|| Reach {
                district: Some(e.district.clone()),
                population: e.population.clone(),
                events: 0,
                people_counted: 0,
                sessions: 0,
                workers_reached: 0,
            });
        row.events += 1;
        row.people_counted += u64::from(e.people_reached);
        row.workers_reached += reached;
        event_rows.push(EventCoverage {
            event: e.clone(),
            entered_by: stored.entered_by.clone(),
            sessions: n,
            right,
            asked,
            reached,
        });
    }
    let site_names: HashMap<String, String> = storage
        .all_sites()?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let by_site = by_site
        .into_iter()
        .map(|(key, sessions)| Count {
            label: site_names.get(&key).cloned().unwrap_or_else(|| {
                if key.is_empty() {
                    t(lang, "未选地点", "No site").to_string()
                } else {
                    key.clone()
                }
            }),
            key,
            sessions,
        })
        .collect();
    let by_day = by_day
        .into_iter()
        .map(|(day, sessions)| Count {
            key: day.to_string(),
            label: day.to_string(),
            sessions,
        })
        .collect();
    let by_event = by_event
        .into_iter()
        .map(|(id, sessions)| Count {
            key: id.map(|i| i.to_string()).unwrap_or_default(),
            label: match id.and_then(|i| place_of.get(&i)) {
                Some(e) => format!("{} {} {}", e.date, kind_label(&e.kind, lang), e.place),
                None if id.is_some() => {
                    t(lang, "不在查看范围内的活动", "An event outside your view").to_string()
                }
                None => t(lang, "未关联活动", "No event").to_string(),
            },
            sessions,
        })
        .collect();
    let mut missed: Vec<MissedItem> = items
        .iter()
        .map(|(item, (asked, missed))| MissedItem {
            item_id: item.clone(),
            label: label(item),
            asked: *asked,
            missed: *missed,
        })
        .collect();
    missed.sort_by(|a, b| {
        b.missed
            .cmp(&a.missed)
            .then_with(|| a.item_id.cmp(&b.item_id))
    });
    let weakest = analysis::weakest_items(
        storage,
        registry,
        &scope,
        questionnaire_id,
        &Filter::default(),
        min_cell_n,
        lang,
    )?;
    let weak_points = weakest
        .into_iter()
        .take(WEAK_POINTS)
        .map(|w| {
            let (quizzed, quiz_missed) = items.get(&w.item_id).copied().unwrap_or_default();
            let event_count = events
                .iter()
                .filter(|e| e.event.items.contains(&w.item_id))
                .count() as u64;
            WeakPoint {
                covered: quizzed > 0 || event_count > 0,
                item_id: w.item_id,
                label: w.label,
                survey_share: w.share,
                survey_asked: w.asked,
                quizzed,
                quizzed_right: quizzed - quiz_missed,
                events: event_count,
            }
        })
        .collect();
    let reach: Vec<Reach> = reach.into_values().collect();
    Ok(OutreachCoverage {
        questionnaire_id: questionnaire_id.to_string(),
        sessions: sessions.len() as u64,
        take_home_offered,
        workers_reached: reach.iter().map(|r| r.workers_reached).sum(),
        events: event_rows,
        by_site,
        by_day,
        by_event,
        missed,
        reach,
        weak_points,
    })
}

/// One sentence on the coverage of the weak points, as the annual report's recommendations
/// cite it; `None` when the scope had no outreach at all.
pub fn coverage_sentence(c: &OutreachCoverage, lang: &str) -> Option<String> {
    if c.sessions == 0 && c.events.is_empty() {
        return None;
    }
    let covered = c.weak_points_covered();
    let total = c.weak_points.len();
    Some(if lang.starts_with("en") {
        format!(
            "Outreach so far: {} events and {} quiz sessions reached about {} workers; {covered} of the {total} weakest knowledge points had an intervention (a quiz item or an event).",
            c.events.len(),
            c.sessions,
            c.workers_reached
        )
    } else {
        format!(
            "已开展宣传活动 {} 场、知识问答 {} 人次，约覆盖 {} 名劳动者；最薄弱的 {total} 个知识点中有 {covered} 个已有干预（问答题目或宣传活动）。",
            c.events.len(),
            c.sessions,
            c.workers_reached
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weak(item: &str, covered: bool) -> WeakPoint {
        WeakPoint {
            item_id: item.into(),
            label: item.into(),
            survey_share: 0.3,
            survey_asked: 40,
            quizzed: u64::from(covered),
            quizzed_right: 0,
            events: 0,
            covered,
        }
    }

    #[test]
    fn the_reports_sentence_counts_what_reached_the_weak_points_or_says_nothing() {
        let mut c = OutreachCoverage {
            questionnaire_id: "ohl_2026".into(),
            sessions: 0,
            take_home_offered: 0,
            workers_reached: 0,
            events: Vec::new(),
            by_site: Vec::new(),
            by_day: Vec::new(),
            by_event: Vec::new(),
            missed: Vec::new(),
            reach: Vec::new(),
            weak_points: vec![weak("k1", true), weak("k2", false), weak("k3", true)],
        };
        assert_eq!(
            coverage_sentence(&c, "zh-CN"),
            None,
            "no outreach: nothing said"
        );
        c.sessions = 12;
        c.workers_reached = 52;
        assert_eq!(c.weak_points_covered(), 2);
        assert_eq!(
            coverage_sentence(&c, "zh-CN").unwrap(),
            "已开展宣传活动 0 场、知识问答 12 人次，约覆盖 52 名劳动者；最薄弱的 3 个知识点中有 2 个已有干预（问答题目或宣传活动）。"
        );
        assert!(coverage_sentence(&c, "en")
            .unwrap()
            .contains("2 of the 3 weakest knowledge points had an intervention"));
    }

    #[test]
    fn every_kind_of_event_has_its_words() {
        for kind in EVENT_KINDS {
            assert_ne!(kind_label(kind, "zh-CN"), "其他", "{kind}");
            assert_ne!(kind_label(kind, "en"), "Other", "{kind}");
        }
    }
}
