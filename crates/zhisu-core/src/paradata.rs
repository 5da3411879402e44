//! Paradata and quality control: how an interview was done, as opposed to what was answered.
//!
//! The tablet records, cheaply, when each question screen is shown and left ([`ScreenVisit`])
//! and every change of an answer ([`AnswerEvent`]), both in milliseconds since the interview
//! started by the monotonic clock. [`Paradata::from_visits_and_events`] sums them up per item.
//!
//! Quality-control flags ([`QcFlag`]) point a reviewer at interviews worth a second look; they
//! never reject an interview. The server, which has only the answers and the start and end
//! times, calls [`flags_from_answers`] (too fast, straight-lining); with device paradata,
//! [`qc_flags`] adds the flags only paradata can show (many changes). The thresholds come from
//! the caller ([`QcThresholds`]), so the tablet and the server can use the same settings.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{AnswerValue, Answers, ItemKind, Questionnaire};

/// One change of an answer, as the tablet records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerEvent {
    pub item_id: String,
    /// Milliseconds since the interview started (monotonic clock).
    pub elapsed_ms: u64,
    /// The new answer; `None` when the answer was cleared.
    #[serde(default)]
    pub value: Option<AnswerValue>,
}

/// One stay on a question screen (also a note's screen): shown at `shown_ms`, left at
/// `left_ms` (next, back, review, or the app going to the background), both in milliseconds
/// since the interview started. Going back to a screen is a second visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreenVisit {
    pub item_id: String,
    pub shown_ms: u64,
    pub left_ms: u64,
}

/// Where the tablet was, from its location service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    /// Radius of the location's uncertainty, in metres.
    pub accuracy_m: f64,
    /// When the fix was taken, in milliseconds since the interview started.
    pub at_ms: u64,
}

/// The paradata of one item.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ItemParadata {
    pub item_id: String,
    /// Total time the item's screen was shown, over all visits.
    pub ms_on_screen: u64,
    /// How often the screen was shown; 0 when screen visits were not recorded (then
    /// `ms_on_screen` is estimated from the answer events).
    pub visits: u32,
    /// How often the answer changed after it was first given (clearing counts as a change).
    pub changes: u32,
}

/// The paradata of one interview, sent with it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Paradata {
    /// How long the interview took, in milliseconds (monotonic clock).
    pub duration_ms: u64,
    /// Items in the order they were first shown (or first answered, without screen visits).
    pub items: Vec<ItemParadata>,
    /// The flags computed on the device when the interview was completed.
    pub flags: Vec<QcFlag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_start: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_end: Option<Location>,
    /// What the feedback page offered the respondent to take away (issue 24; added within
    /// protocol v1, absent from older tablets' uploads and when nothing was offered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub material: Option<MaterialOffered>,
}

/// What the feedback page at the end of an interview offered the respondent to learn from and
/// take away: decided on the tablet when the interview is completed, by the same rule that
/// draws the page shown next (the round shows the answer key and something was answered wrong).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MaterialOffered {
    /// Knowledge points answered wrong and shown with their right answers.
    pub points: u32,
    /// The take-home QR code was shown (the tablet is enrolled with a server address).
    pub take_home_qr: bool,
    /// The ids of the library pieces shown beside the wrong answers.
    pub pieces: Vec<String>,
}

impl Paradata {
    /// Sums up screen visits and answer events per item. `duration_ms` is `total_ms`, or the
    /// latest time recorded in `visits` and `events` if that is later.
    ///
    /// With screen visits, time on screen is the sum of `left_ms - shown_ms` over the item's
    /// visits (0 for a visit that ends before it starts). Without any (`visits` empty), it is
    /// estimated from the events: the time from the previous event (of any item; the start of
    /// the interview for the first) to each event of the item, summed; `visits` is then 0.
    ///
    /// A change is an event that gives an item a value different from its current one after
    /// its first answer (multiple-choice answers compare as sets); an event repeating the
    /// current value, or clearing an item never answered, is ignored. Events are taken in time
    /// order (ties in the order given). Locations are left empty, flags too: see [`qc_flags`].
    pub fn from_visits_and_events<'a>(
        visits: &'a [ScreenVisit],
        events: &'a [AnswerEvent],
        total_ms: u64,
    ) -> Paradata {
        let mut items: Vec<ItemParadata> = Vec::new();
        let mut position: HashMap<&'a str, usize> = HashMap::new();
        let mut entry = |items: &mut Vec<ItemParadata>, id: &'a str| -> usize {
            *position.entry(id).or_insert_with(|| {
                items.push(ItemParadata {
                    item_id: id.to_string(),
                    ..ItemParadata::default()
                });
                items.len() - 1
            })
        };

        let mut visits: Vec<&'a ScreenVisit> = visits.iter().collect();
        visits.sort_by_key(|v| v.shown_ms);
        let mut events: Vec<&'a AnswerEvent> = events.iter().collect();
        events.sort_by_key(|e| e.elapsed_ms);

        for visit in visits.iter().copied() {
            let i = entry(&mut items, &visit.item_id);
            let item = &mut items[i];
            item.ms_on_screen = item
                .ms_on_screen
                .saturating_add(visit.left_ms.saturating_sub(visit.shown_ms));
            item.visits = item.visits.saturating_add(1);
        }

        // current value per item: None = never answered, Some(None) = cleared
        let mut current: HashMap<&'a str, Option<AnswerValue>> = HashMap::new();
        let mut previous_ms = 0;
        for event in events.iter().copied() {
            let i = entry(&mut items, &event.item_id);
            if visits.is_empty() {
                let item = &mut items[i];
                item.ms_on_screen = item
                    .ms_on_screen
                    .saturating_add(event.elapsed_ms.saturating_sub(previous_ms));
                previous_ms = event.elapsed_ms;
            }
            let value = event.value.as_ref().map(AnswerValue::normalized);
            match current.get_mut(event.item_id.as_str()) {
                None => {
                    if value.is_some() {
                        current.insert(&event.item_id, value);
                    }
                }
                Some(now) => {
                    if *now != value {
                        *now = value;
                        items[i].changes = items[i].changes.saturating_add(1);
                    }
                }
            }
        }

        let latest = visits
            .iter()
            .map(|v| v.left_ms.max(v.shown_ms))
            .chain(events.iter().map(|e| e.elapsed_ms))
            .max()
            .unwrap_or(0);
        Paradata {
            duration_ms: total_ms.max(latest),
            items,
            flags: Vec::new(),
            location_start: None,
            location_end: None,
            material: None,
        }
    }

    /// Answer changes over all items.
    pub fn total_changes(&self) -> u32 {
        self.items
            .iter()
            .fold(0u32, |sum, item| sum.saturating_add(item.changes))
    }

    /// The paradata of one item, if it was shown or answered.
    pub fn item(&self, item_id: &str) -> Option<&ItemParadata> {
        self.items.iter().find(|i| i.item_id == item_id)
    }
}

/// When an interview is flagged. The defaults suit the national questionnaire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QcThresholds {
    /// Too fast: fewer seconds than this per answered item, on average. 0 turns the check off.
    pub min_seconds_per_item: f64,
    /// Straight-lining: this many or more items in a row answered at the same position.
    /// 0 turns the check off.
    pub straight_lining_run: u32,
    /// Many changes: more answer changes than this over the whole interview.
    pub max_changes: u32,
}

impl Default for QcThresholds {
    fn default() -> Self {
        QcThresholds {
            min_seconds_per_item: 3.0,
            straight_lining_run: 8,
            max_changes: 10,
        }
    }
}

/// Why an interview may need a second look. Serialised with its kind
/// (`{"kind":"too_fast","seconds_per_item":1.5,"minimum":3.0}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QcFlag {
    /// On average fewer than `minimum` seconds per answered item.
    TooFast {
        seconds_per_item: f64,
        minimum: f64,
        /// Answered items counted.
        items: u32,
    },
    /// `run` items in a row answered at the same position (0 = the first choice; for true/false,
    /// 0 = true, the first button), starting at `from_item`; `items` position-answered items
    /// in all.
    StraightLining {
        run: u32,
        position: u32,
        from_item: String,
        items: u32,
        minimum: u32,
    },
    /// More than `maximum` answer changes.
    ManyChanges { changes: u32, maximum: u32 },
    /// Recorded farther than `allowed_m` metres from the site's position (after giving the
    /// reading its own accuracy): the interview may not have been done where it says.
    FarFromSite { distance_m: f64, allowed_m: f64 },
    /// The device's clock looked wrong (raised by the server, which counts the interview by
    /// the day it received it): its times were `days_off_at_receipt` days after (positive) or
    /// more than a year before (negative) the server received it, or it completed before it
    /// started.
    DeviceClock {
        days_off_at_receipt: i64,
        completed_before_start: bool,
    },
    /// Found by the server's `check-data` in an interview stored before today's upload rules:
    /// what today's upload would refuse (in English, for the administrator who reads it).
    StoredDataProblem { problems: Vec<String> },
    /// The interview names a site the sample plan does not list (in any district): it is kept,
    /// without a stratum or weight, until the plan lists the site.
    SiteNotInPlan { site_id: String },
    /// The interview names a site the sample plan places in another district than the
    /// uploading device's: it counts for the site's district, with the site's stratum and
    /// weight.
    SiteInOtherDistrict {
        site_id: String,
        site_district: String,
        device_district: String,
    },
    /// Raised by the server when the interview's back-check (复核, issue 15) agreed on fewer
    /// re-asked items than the round's threshold: `agreed` of `compared`, the threshold in
    /// per cent, and each differing item as `item: interview's answer → back-check's answer`.
    BackcheckFailed {
        agreed: u32,
        compared: u32,
        minimum_percent: u32,
        differences: Vec<String>,
    },
}

/// Seconds with at most one decimal: `1.5`, `3`.
fn seconds(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_string)
}

impl QcFlag {
    /// A stable code, the same as the serialised `kind`.
    pub fn code(&self) -> &'static str {
        match self {
            QcFlag::TooFast { .. } => "too_fast",
            QcFlag::StraightLining { .. } => "straight_lining",
            QcFlag::ManyChanges { .. } => "many_changes",
            QcFlag::FarFromSite { .. } => "far_from_site",
            QcFlag::DeviceClock { .. } => "device_clock",
            QcFlag::StoredDataProblem { .. } => "stored_data_problem",
            QcFlag::SiteNotInPlan { .. } => "site_not_in_plan",
            QcFlag::SiteInOtherDistrict { .. } => "site_in_other_district",
            QcFlag::BackcheckFailed { .. } => "backcheck_failed",
        }
    }

    /// One plain sentence for the surveyor or reviewer: English for `en…`, otherwise zh-CN.
    pub fn describe(&self, language: &str) -> String {
        let en = language.starts_with("en");
        match self {
            QcFlag::TooFast {
                seconds_per_item,
                minimum,
                items,
            } => {
                let (per, min) = (seconds(*seconds_per_item), seconds(*minimum));
                if en {
                    format!("Answered too fast: {per} seconds per question on average over {items} questions (at least {min} expected)")
                } else {
                    format!("答题太快：{items} 道题平均每题 {per} 秒（最少应为 {min} 秒）")
                }
            }
            QcFlag::StraightLining {
                run,
                position,
                from_item,
                minimum,
                ..
            } => {
                let nth = position.saturating_add(1);
                if en {
                    format!("The same answer position {run} times in a row: choice {nth} each time, from question '{from_item}' (flagged from {minimum} in a row)")
                } else {
                    format!("连续 {run} 道题都选了第 {nth} 个答案（从“{from_item}”题开始；连续 {minimum} 道以上就提示）")
                }
            }
            QcFlag::ManyChanges { changes, maximum } => {
                if en {
                    format!("Answers changed {changes} times (more than {maximum})")
                } else {
                    format!("答案改了 {changes} 次（超过 {maximum} 次）")
                }
            }
            QcFlag::FarFromSite {
                distance_m,
                allowed_m,
            } => {
                let km = |m: f64| seconds(m / 1000.0);
                if en {
                    format!(
                        "Recorded about {} km from the site (allowed: {} km)",
                        km(*distance_m),
                        km(*allowed_m)
                    )
                } else {
                    format!(
                        "调查地点离调查点约 {} 公里（应在 {} 公里以内）",
                        km(*distance_m),
                        km(*allowed_m)
                    )
                }
            }
            QcFlag::DeviceClock {
                days_off_at_receipt,
                completed_before_start,
            } => {
                let mut parts = Vec::new();
                let days = days_off_at_receipt.unsigned_abs();
                if *days_off_at_receipt > 0 {
                    parts.push(if en {
                        format!("dated {days} day(s) after it reached the server")
                    } else {
                        format!("记录的时间比服务器收到它还晚 {days} 天")
                    });
                } else if *days_off_at_receipt < 0 {
                    parts.push(if en {
                        format!("dated {days} days before it reached the server")
                    } else {
                        format!("记录的时间比服务器收到它早 {days} 天")
                    });
                }
                if *completed_before_start {
                    parts.push(if en {
                        "completed before it started".to_string()
                    } else {
                        "结束时间早于开始时间".to_string()
                    });
                }
                if en {
                    format!("The tablet's clock looks wrong: {} (counted by the day the server received it)", parts.join("; "))
                } else {
                    format!(
                        "平板的时钟可能不对：{}（按服务器收到的日期统计）",
                        parts.join("；")
                    )
                }
            }
            QcFlag::StoredDataProblem { problems } => {
                if en {
                    format!(
                        "Stored data breaks the upload rules: {}",
                        problems.join("; ")
                    )
                } else {
                    format!("已保存的数据不符合上传规则：{}", problems.join("；"))
                }
            }
            QcFlag::SiteNotInPlan { site_id } => {
                if en {
                    format!("Site '{site_id}' is not in the sample plan: the interview has no weight until the plan lists it")
                } else {
                    format!(
                        "调查点“{site_id}”不在抽样方案中：方案列入该调查点之前，这份问卷没有权重"
                    )
                }
            }
            QcFlag::SiteInOtherDistrict {
                site_id,
                site_district,
                device_district,
            } => {
                if en {
                    format!("Site '{site_id}' belongs to district '{site_district}' in the sample plan, but the tablet is enrolled for '{device_district}': counted for '{site_district}'")
                } else {
                    format!("抽样方案中调查点“{site_id}”属于“{site_district}”，但平板登记在“{device_district}”：计入“{site_district}”")
                }
            }
            QcFlag::BackcheckFailed {
                agreed,
                compared,
                minimum_percent,
                differences,
            } => {
                if en {
                    format!(
                        "Back-check failed: {agreed} of {compared} re-asked answers agree (at least {minimum_percent} % expected); different: {}",
                        differences.join("; ")
                    )
                } else {
                    format!(
                        "复核未通过：重问的 {compared} 道题中 {agreed} 道一致（应至少 {minimum_percent}%）；不一致：{}",
                        differences.join("；")
                    )
                }
            }
        }
    }
}

/// Great-circle distance in metres between two WGS-84 positions (haversine; good to well under
/// 1 % at these distances).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_371_008.8;
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.1 - a.1).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Flags an interview whose recorded position (start or end, the farther) lies more than
/// `allowed_m` metres from the site at `site` (latitude, longitude), after subtracting the
/// reading's accuracy: a poor fix is not held against the surveyor. None without a position.
pub fn location_flag(paradata: &Paradata, site: (f64, f64), allowed_m: f64) -> Option<QcFlag> {
    let farthest = [&paradata.location_start, &paradata.location_end]
        .into_iter()
        .flatten()
        .map(|l| (distance_m((l.latitude, l.longitude), site) - l.accuracy_m.max(0.0)).max(0.0))
        .fold(None, |acc: Option<f64>, d| {
            Some(acc.map_or(d, |a| a.max(d)))
        })?;
    (farthest > allowed_m).then_some(QcFlag::FarFromSite {
        distance_m: farthest,
        allowed_m,
    })
}

/// The flags that need only the answers and how long the interview took: what the server can
/// check for every interview. In order: too fast, straight-lining.
///
/// - **Too fast**: `duration_ms` divided by the number of answered items that are asked (any
///   kind, "don't know" included, notes excluded) is below `min_seconds_per_item`.
/// - **Straight-lining**: the longest run of items answered at the same screen position
///   reaches `straight_lining_run`. The items looked at are the asked single-choice (not the
///   typed-search lists), Likert and true/false items, in questionnaire order; the position is
///   the answer's index among the choices offered (the choice filter applied), and for
///   true/false 0 for true and 1 for false (the buttons' order). Other kinds of item in
///   between are passed over; such an item left unanswered or answered "don't know" ends the
///   run. A well-made test has an answer key that does not line up, so that a respondent who
///   knows every answer is not flagged.
pub fn flags_from_answers(
    questionnaire: &Questionnaire,
    answers: &Answers,
    duration_ms: u64,
    thresholds: &QcThresholds,
) -> Vec<QcFlag> {
    let relevant = questionnaire.relevance(answers);
    let asked = || {
        questionnaire
            .items
            .iter()
            .zip(&relevant)
            .filter(|(_, r)| **r)
            .map(|(item, _)| item)
    };
    let mut flags = Vec::new();

    let answered = asked()
        .filter(|item| item.kind.takes_answer() && answers.contains_key(&item.id))
        .count();
    if answered > 0 && thresholds.min_seconds_per_item > 0.0 {
        let seconds_per_item = duration_ms as f64 / 1000.0 / answered as f64;
        if seconds_per_item < thresholds.min_seconds_per_item {
            flags.push(QcFlag::TooFast {
                seconds_per_item,
                minimum: thresholds.min_seconds_per_item,
                items: u32::try_from(answered).unwrap_or(u32::MAX),
            });
        }
    }

    if thresholds.straight_lining_run > 0 {
        // (position, length, first item) of the current and the longest run
        let mut run: Option<(usize, u32, &str)> = None;
        let mut longest: Option<(usize, u32, &str)> = None;
        let mut items = 0u32;
        for item in asked() {
            let positional = matches!(
                item.kind,
                ItemKind::SingleChoice { search: false, .. }
                    | ItemKind::Likert { .. }
                    | ItemKind::TrueFalse
            );
            if !positional {
                continue;
            }
            let position = match answers.get(&item.id) {
                Some(AnswerValue::Bool(b)) => Some(usize::from(!*b)),
                Some(AnswerValue::Choice(key)) => questionnaire
                    .visible_choices(item, answers)
                    .iter()
                    .position(|c| &c.key == key),
                _ => None,
            };
            let Some(position) = position else {
                run = None;
                continue;
            };
            items += 1;
            run = match run {
                Some((p, n, from)) if p == position => Some((p, n + 1, from)),
                _ => Some((position, 1, item.id.as_str())),
            };
            if run.map(|r| r.1) > longest.map(|l| l.1) {
                longest = run;
            }
        }
        if let Some((position, length, from)) = longest {
            if length >= thresholds.straight_lining_run {
                flags.push(QcFlag::StraightLining {
                    run: length,
                    position: u32::try_from(position).unwrap_or(u32::MAX),
                    from_item: from.to_string(),
                    items,
                    minimum: thresholds.straight_lining_run,
                });
            }
        }
    }
    flags
}

/// The flag only device paradata can show: more answer changes than `max_changes`.
pub fn flags_from_paradata(paradata: &Paradata, thresholds: &QcThresholds) -> Vec<QcFlag> {
    let changes = paradata.total_changes();
    if changes > thresholds.max_changes {
        vec![QcFlag::ManyChanges {
            changes,
            maximum: thresholds.max_changes,
        }]
    } else {
        Vec::new()
    }
}

/// All flags for an interview with device paradata: [`flags_from_answers`] with the paradata's
/// `duration_ms`, then [`flags_from_paradata`]. The flags already in `paradata.flags` are not
/// looked at; store the result there (`paradata.flags = qc_flags(…)`) to send it.
pub fn qc_flags(
    questionnaire: &Questionnaire,
    answers: &Answers,
    paradata: &Paradata,
    thresholds: &QcThresholds,
) -> Vec<QcFlag> {
    let mut flags = flags_from_answers(questionnaire, answers, paradata.duration_ms, thresholds);
    flags.extend(flags_from_paradata(paradata, thresholds));
    flags
}
