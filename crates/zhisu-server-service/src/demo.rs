//! A demonstration round for a newcomer (`zhisu-server load-demo`, `scripts/run.sh --demo`), and
//! the synthetic interviews it is made of, which the tests use too: valid interviews of a real
//! questionnaire, walked through the core's engine the way the tablet walks them (each asked
//! item answered, scored items right with a given chance, the items that play the background
//! roles the analyses use set as asked for). Deterministic for a seed; not personal data.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;
use zhisu_core::{AnswerValue, Answers, BackgroundRole, Item, ItemKind, Questionnaire};
use zhisu_protocol::CompletedInterview;

pub use zhisu_testkit::Rng;

pub struct Respondent<'a> {
    pub population: &'a str,
    pub sex: &'a str,
    pub age: i64,
    pub education: &'a str,
    pub industry: &'a str,
    /// Chance (0–100) of answering a scored item right.
    pub ability: u64,
    /// Every scored single choice at its first choice (straight-lining), whatever is right.
    pub straight_line: bool,
}

fn candidates(q: &Questionnaire, item: &Item, answers: &Answers) -> Vec<AnswerValue> {
    match &item.kind {
        ItemKind::SingleChoice { .. } | ItemKind::Likert { .. } => q
            .visible_choices(item, answers)
            .iter()
            .map(|c| AnswerValue::Choice(c.key.clone()))
            .collect(),
        ItemKind::MultipleChoice { .. } => q
            .visible_choices(item, answers)
            .iter()
            .map(|c| AnswerValue::Choices(vec![c.key.clone()]))
            .collect(),
        ItemKind::TrueFalse => vec![AnswerValue::Bool(true), AnswerValue::Bool(false)],
        ItemKind::Integer { min, max } => {
            let low = min.unwrap_or(0).max(1);
            let high = max.unwrap_or(low + 10).max(low);
            (low..=high.min(low + 20))
                .map(AnswerValue::Integer)
                .collect()
        }
        ItemKind::Decimal { min, .. } => vec![AnswerValue::Decimal(min.unwrap_or(1.0).max(1.0))],
        ItemKind::Text { .. } => vec![AnswerValue::Text("其他".into())],
        ItemKind::Date { .. } => vec![AnswerValue::Date("2026-01-01".into())],
        ItemKind::Note => vec![],
    }
}

/// Answers for one respondent, with the problems `check_interview` finds in them (none for a
/// questionnaire the walk can answer; the tests assert so).
pub fn answers(q: &Questionnaire, who: &Respondent<'_>, rng: &mut Rng) -> (Answers, Vec<String>) {
    let mut answers = Answers::new();
    let mut at = None;
    while let Some(index) = q.next_item(&answers, at) {
        at = Some(index);
        let item = &q.items[index];
        if !item.kind.takes_answer() {
            continue;
        }
        let plays = |role| q.background_item(role).is_some_and(|b| b.id == item.id);
        let fixed = if matches!(item.id.as_str(), "consent" | "frontline") {
            Some(AnswerValue::Bool(true))
        } else if plays(BackgroundRole::Age) {
            Some(AnswerValue::Integer(who.age))
        } else {
            [
                (BackgroundRole::Population, who.population),
                (BackgroundRole::Sex, who.sex),
                (BackgroundRole::Education, who.education),
                (BackgroundRole::Industry, who.industry),
            ]
            .into_iter()
            .find(|(role, _)| plays(*role))
            .map(|(_, key)| AnswerValue::Choice(key.into()))
        };
        let options = candidates(q, item, &answers);
        let value = if let Some(v) = fixed {
            v
        } else if let Some(rule) = &item.scoring {
            let right = rule.key.clone();
            if who.straight_line && !options.is_empty() {
                options[0].clone()
            } else if rng.below(100) < who.ability {
                right
            } else {
                options
                    .iter()
                    .find(|o| o.normalized() != right)
                    .cloned()
                    .unwrap_or(right)
            }
        } else if options.is_empty() {
            continue;
        } else {
            options[rng.below(options.len() as u64) as usize].clone()
        };
        let value = if q.check_answer(&item.id, &value, &answers).is_ok() {
            value
        } else {
            match options
                .into_iter()
                .find(|o| q.check_answer(&item.id, o, &answers).is_ok())
            {
                Some(v) => v,
                None => continue,
            }
        };
        answers.insert(item.id.clone(), value);
    }
    let problems = q
        .check_interview(&answers)
        .iter()
        .map(ToString::to_string)
        .collect();
    (answers, problems)
}

/// A completed interview with these answers, taking `minutes`, started at `start`.
pub fn interview(
    q: &Questionnaire,
    id: Uuid,
    answers: Answers,
    start: DateTime<Utc>,
    seconds: i64,
    site: Option<&str>,
) -> CompletedInterview {
    CompletedInterview {
        id,
        questionnaire_id: q.id.clone(),
        questionnaire_version: q.version.clone(),
        started_at: start,
        completed_at: start + Duration::seconds(seconds),
        utc_offset_minutes: 480,
        answers,
        site_id: site.map(str::to_string),
        surveyor_id: Some("s01".into()),
        paradata: None,
        practice: false,
        content_hash: String::new(),
    }
    .sealed()
}

/// The questionnaire the demonstration round is answered with.
pub const DEMO_QUESTIONNAIRE: &str = "ohl_2026";

/// What [`ServerState::load_demo`] stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub districts: usize,
    pub sites: usize,
    pub interviews: usize,
    pub reviews: usize,
    /// Contacts that ended otherwise (refused, not eligible, broke off).
    pub contacts: usize,
    /// The round before, when the round is a year (`2026` → `2025`), with its interviews.
    pub previous_round: Option<String>,
    pub previous_interviews: usize,
    /// Outreach (issue 24): events recorded, quiz sessions run, practice interviews of the
    /// surveyors' training, and the education library's pieces loaded.
    pub events: usize,
    pub quiz_sessions: usize,
    pub practice: usize,
    pub library_pieces: usize,
}

/// Surveyors per demonstration tablet (ids `<district>-01`…), so that the quality page compares
/// several.
const DEMO_SURVEYORS: u64 = 3;

/// One site of the demonstration sample plan: (id suffix, name, type, industry, size, stratum,
/// weight, the populations interviewed there, their base chance of a right answer).
type DemoSite = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
    &'static [&'static str],
    u64,
);

const DEMO_DISTRICTS: [(&str, u64); 3] = [("yuzhong", 6), ("jiangbei", 0), ("shapingba", 3)];

const DEMO_SITES: [DemoSite; 5] = [
    (
        "school",
        "第一中学（演示）",
        "school",
        "education",
        "large",
        "public_services",
        12.0,
        &["teacher"],
        84,
    ),
    (
        "hospital",
        "人民医院（演示）",
        "hospital",
        "health_care",
        "large",
        "public_services",
        10.0,
        &["medical"],
        86,
    ),
    (
        "site",
        "滨江建筑工地（演示）",
        "enterprise",
        "construction",
        "medium",
        "enterprises",
        25.0,
        &["construction"],
        66,
    ),
    (
        "factory",
        "机械厂（演示）",
        "enterprise",
        "general_equipment",
        "small",
        "enterprises",
        30.0,
        &["industrial"],
        72,
    ),
    (
        "sanitation",
        "环卫所（演示）",
        "enterprise",
        "sanitation",
        "small",
        "enterprises",
        18.0,
        &["sanitation", "sewer"],
        62,
    ),
];

impl crate::ServerState {
    /// Loads a demonstration round into a server with no enrolled device (never into real
    /// data): three districts with a sample plan of five sites each (schools, hospitals,
    /// building sites, factories, sanitation; strata and weights), a demonstration tablet per
    /// district, about 25 interviews per site over the last ten days answered with
    /// [`DEMO_QUESTIONNAIRE`] (abilities differ by population and district, a few too fast for
    /// quality control), and, when `reviewer` may review, some of them reviewed. Every
    /// interview goes through the same ingest as an upload.
    pub fn load_demo(
        &self,
        round: &str,
        reviewer: Option<&crate::people::Person>,
        seed: u64,
    ) -> Result<DemoSummary, crate::Refusal> {
        use crate::Refusal;
        if !self.storage.devices()?.is_empty() {
            return Err(Refusal::NotNow(
                "this server already has enrolled tablets: demonstration data goes only into a new, empty server (use another --data-dir)".into(),
            ));
        }
        let q = self
            .questionnaires
            .newest(DEMO_QUESTIONNAIRE)
            .ok_or_else(|| {
                Refusal::NotFound(format!(
                    "the server has no questionnaire {DEMO_QUESTIONNAIRE}"
                ))
            })?;
        let q = &q.questionnaire;
        let mut rng = Rng::new(seed);
        let mut summary = DemoSummary {
            districts: 0,
            sites: 0,
            interviews: 0,
            reviews: 0,
            contacts: 0,
            previous_round: None,
            previous_interviews: 0,
            events: 0,
            quiz_sessions: 0,
            practice: 0,
            library_pieces: 0,
        };
        let now = chrono::Utc::now();
        let mut stored_ids = Vec::new();
        // the round before, for the comparison of rounds: only when rounds are years
        let previous = round
            .parse::<u32>()
            .ok()
            .filter(|y| *y > 2000)
            .map(|y| (y - 1).to_string());
        for (d, (district, bonus)) in DEMO_DISTRICTS.into_iter().enumerate() {
            let sites: Vec<zhisu_protocol::Site> = DEMO_SITES
                .iter()
                .map(|s| zhisu_protocol::Site {
                    id: format!("{district}-{}", s.0),
                    district: district.to_string(),
                    name: s.1.to_string(),
                    site_type: s.2.to_string(),
                    industry: Some(s.3.to_string()),
                    size: Some(s.4.to_string()),
                    stratum: Some(s.5.to_string()),
                    weight: Some(s.6),
                    quotas: s.7.iter().map(|p| (p.to_string(), 30)).collect(),
                    ..Default::default()
                })
                .collect();
            summary.sites += self.replace_sites(district, sites, "demo")?;
            let code = self.create_enrolment_code(round, district, Duration::hours(1), "demo")?;
            let enrolment = self
                .enrol(&code, &format!("演示平板 {district}"))?
                .map_err(|e| {
                    Refusal::Invalid(format!("the demonstration tablet was not enrolled: {e:?}"))
                })?;
            let device = self
                .storage
                .device(enrolment.device_id)?
                .ok_or_else(|| Refusal::NotFound("the demonstration tablet".into()))?;
            let (mut batch, mut contacts) = (Vec::new(), Vec::new());
            for site in &DEMO_SITES {
                let count = 20 + rng.below(11);
                for n in 0..count {
                    let population = site.7[rng.index(site.7.len())];
                    let ability = (site.8 + bonus).saturating_sub(12) + rng.below(25);
                    let who = Respondent {
                        population,
                        sex: if rng.chance(45) { "female" } else { "male" },
                        age: rng.between(19, 58),
                        education: ["none_primary", "junior", "senior", "college", "bachelor"]
                            [rng.index(5)],
                        industry: site.3,
                        ability: ability.min(99),
                        straight_line: n == 7 && site.0 == "site",
                    };
                    let (answers, problems) = answers(q, &who, &mut rng);
                    if !problems.is_empty() {
                        return Err(Refusal::Invalid(format!(
                            "a demonstration interview is not valid: {}",
                            problems.join("; ")
                        )));
                    }
                    let start = now
                        - Duration::days(1 + rng.between(0, 9))
                        - Duration::minutes(rng.between(0, 600));
                    // one in twenty-five far too fast, for the quality-control page
                    let seconds = if rng.one_in(25) {
                        150
                    } else {
                        rng.between(900, 2100)
                    };
                    let id = uuid::Uuid::from_u128(
                        (u128::from(seed) << 64)
                            | ((d as u128) << 32)
                            | u128::from(rng.next_u64() as u32),
                    );
                    let surveyor = demo_surveyor(district, &mut rng);
                    let mut one = interview(
                        q,
                        id,
                        answers,
                        start,
                        seconds,
                        Some(&format!("{district}-{}", site.0)),
                    );
                    one.surveyor_id = Some(surveyor);
                    batch.push(one.sealed());
                }
                contacts.extend(demo_contacts(q, (seed, d, district), site, now, &mut rng));
            }
            for chunk in batch.chunks(zhisu_protocol::MAX_BATCH_INTERVIEWS) {
                for receipt in crate::ingest::ingest(self, chunk.to_vec(), Some(&device))? {
                    if receipt.status == zhisu_protocol::ReceiptStatus::Stored {
                        summary.interviews += 1;
                        stored_ids.push(receipt.interview_id);
                    }
                }
            }
            for chunk in contacts.chunks(zhisu_protocol::MAX_BATCH_INTERVIEWS) {
                for receipt in crate::ingest::ingest_contacts(self, chunk.to_vec(), Some(&device))?
                {
                    match receipt.status {
                        zhisu_protocol::ReceiptStatus::Stored => summary.contacts += 1,
                        _ => {
                            return Err(Refusal::Invalid(format!(
                                "a demonstration contact was not stored: {:?}",
                                receipt.message
                            )))
                        }
                    }
                }
            }
            self.demo_outreach(q, (seed, d, district), &device, now, &mut rng, &mut summary)?;
            if let Some(previous) = &previous {
                summary.previous_interviews += self.demo_previous_round(
                    q,
                    previous,
                    (seed, d, district, bonus),
                    now,
                    &mut rng,
                )?;
            }
            summary.districts += 1;
        }
        if self.storage.library_outline()?.is_empty() {
            summary.library_pieces = self
                .load_starter_library()
                .map_err(|e| Refusal::Invalid(format!("the starter library: {e:#}")))?;
        }
        if let Some(previous) = &previous {
            self.put_reference_level(
                &crate::people::Role::CityAdmin,
                None,
                &crate::references::ReferenceInput {
                    round: round.to_string(),
                    questionnaire_id: DEMO_QUESTIONNAIRE.to_string(),
                    measure: String::new(),
                    kind: zhisu_server_storage::ReferenceKind::Target,
                    value_percent: 60.0,
                    source: "演示目标（不是正式数据）".to_string(),
                    year: round.parse().unwrap_or(2026),
                },
                "demo",
            )?;
            summary.previous_round = Some(previous.clone());
        }
        if let Some(reviewer) = reviewer.filter(|p| p.role.may_review()) {
            for (n, id) in stored_ids.iter().step_by(9).enumerate() {
                let (decision, comment) = match n % 6 {
                    4 => (
                        "has_issues",
                        "演示：录音里听不清第 12 题的回答，请调查员核实。",
                    ),
                    5 => ("rejected", "演示：受访者不是一线劳动者，不符合调查对象。"),
                    _ => ("approved", ""),
                };
                if self.review(reviewer, *id, decision, comment).is_ok() {
                    summary.reviews += 1;
                }
            }
        }
        self.audit(
            "demo",
            "load_demo",
            &format!(
                "round {round}: {} districts, {} sites, {} interviews, {} reviews, {} contacts; round before: {:?}, {} interviews; {} events, {} quiz sessions, {} practice interviews, {} library pieces",
                summary.districts, summary.sites, summary.interviews, summary.reviews,
                summary.contacts, summary.previous_round, summary.previous_interviews,
                summary.events, summary.quiz_sessions, summary.practice, summary.library_pieces
            ),
        )?;
        Ok(summary)
    }
}

impl crate::ServerState {
    /// A district's outreach for the demonstration (issue 24): an event at a coach station and
    /// one in an enterprise in the last week, quiz sessions at each and a few at no event (ten
    /// scored items each, the take-home code offered when one was missed), and practice
    /// interviews of each surveyor before each round's fieldwork. All through
    /// the same service calls as the dashboard's form and the tablets' uploads.
    fn demo_outreach(
        &self,
        q: &Questionnaire,
        (seed, d, district): (u64, usize, &str),
        device: &zhisu_server_storage::Device,
        now: DateTime<Utc>,
        rng: &mut Rng,
        summary: &mut DemoSummary,
    ) -> Result<(), crate::Refusal> {
        use crate::outreach::{ingest_quiz_sessions, save_event, EventInput};
        use crate::Refusal;
        use zhisu_protocol::{QuizItem, QuizSession, ReceiptStatus};
        let scored: Vec<&str> = q.scored_items().map(|i| i.id.as_str()).collect();
        let china = |at: DateTime<Utc>| (at + Duration::hours(8)).date_naive().to_string();
        let mut events = Vec::new();
        for (kind, place, days, people, covered) in [
            ("station", "汽车站候车厅", 3, 60, 0),
            ("enterprise", "工业园区食堂", 6, 35, 3),
        ] {
            let event = save_event(
                self,
                "demo",
                &crate::people::Role::CityAdmin,
                &EventInput {
                    district: district.to_string(),
                    kind: kind.into(),
                    place: format!("演示：{district} {place}"),
                    date: china(now - Duration::days(days)),
                    people_reached: people.to_string(),
                    material: "职业健康宣传折页 50 份".into(),
                    items: scored[covered..covered + 3]
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                    ..Default::default()
                },
                "zh-CN",
            )?;
            summary.events += 1;
            events.push((event.id, days));
        }
        let mut sessions = Vec::new();
        let plan = events
            .iter()
            .map(|(id, days)| (Some(*id), *days, 8 + rng.below(5)))
            .chain([(None, 1, 3)])
            .collect::<Vec<_>>();
        for (event, days, count) in plan {
            for n in 0..count {
                let started_at =
                    now - Duration::days(days) - Duration::minutes(rng.between(0, 300));
                let mut asked: Vec<&str> = Vec::new();
                while asked.len() < 10.min(scored.len()) {
                    let item = scored[rng.index(scored.len())];
                    if !asked.contains(&item) {
                        asked.push(item);
                    }
                }
                let items: Vec<QuizItem> = asked
                    .iter()
                    .map(|item| QuizItem {
                        item: item.to_string(),
                        right: rng.chance(65),
                    })
                    .collect();
                sessions.push(
                    QuizSession {
                        id: Uuid::from_u128(
                            (u128::from(seed) << 64)
                                | (0xa << 40)
                                | ((d as u128) << 32)
                                | (sessions.len() as u128),
                        ),
                        questionnaire_id: q.id.clone(),
                        questionnaire_version: q.version.clone(),
                        started_at,
                        ended_at: started_at + Duration::seconds(rng.between(120, 400)),
                        utc_offset_minutes: 480,
                        site_id: None,
                        event_id: event,
                        surveyor_id: Some(demo_surveyor(district, rng)),
                        take_home_qr: items.iter().any(|i| !i.right) && n % 4 != 3,
                        items,
                        content_hash: String::new(),
                    }
                    .sealed(),
                );
            }
        }
        for receipt in ingest_quiz_sessions(self, sessions, Some(device))? {
            if receipt.status != ReceiptStatus::Stored {
                return Err(Refusal::Invalid(format!(
                    "a demonstration quiz session was not stored: {:?}",
                    receipt.message
                )));
            }
            summary.quiz_sessions += 1;
        }
        let mut practice = Vec::new();
        // before this round's fieldwork, and before the round before's (eleven months back)
        for (s, days) in (1..=DEMO_SURVEYORS).flat_map(|s| [(s, 12), (s, 350)]) {
            let who = Respondent {
                population: "industrial",
                sex: "female",
                age: 30,
                education: "senior",
                industry: "general_equipment",
                ability: 70,
                straight_line: false,
            };
            let (answers, _) = answers(q, &who, rng);
            let id = Uuid::from_u128(
                (u128::from(seed) << 64)
                    | (0xb << 40)
                    | ((d as u128) << 32)
                    | (u128::from(s) << 16)
                    | days as u128,
            );
            let start = now - Duration::days(days) - Duration::minutes(rng.between(0, 300));
            let mut one = interview(q, id, answers, start, rng.between(700, 1500), None);
            one.surveyor_id = Some(format!("{district}-{s:02}"));
            one.practice = true;
            practice.push(one.sealed());
        }
        for receipt in crate::ingest::ingest(self, practice, Some(device))? {
            if receipt.status != ReceiptStatus::Stored {
                return Err(Refusal::Invalid(format!(
                    "a demonstration practice interview was not stored: {:?}",
                    receipt.message
                )));
            }
            summary.practice += 1;
        }
        Ok(())
    }
}

/// One of the district tablet's surveyors, drawn.
fn demo_surveyor(district: &str, rng: &mut Rng) -> String {
    format!("{district}-{:02}", 1 + rng.below(DEMO_SURVEYORS))
}

/// The contacts at a demonstration site that did not end in an interview: a few refusals at
/// consent (some with a reason), people screened out by age or by not working on the front
/// line, and interviews broken off after some items, with the reason a surveyor writes.
fn demo_contacts(
    q: &Questionnaire,
    (seed, d, district): (u64, usize, &str),
    site: &DemoSite,
    now: DateTime<Utc>,
    rng: &mut Rng,
) -> Vec<zhisu_protocol::ContactOutcome> {
    use zhisu_core::Disposition;
    let mut out = Vec::new();
    let count = 4 + rng.below(6);
    for _ in 0..count {
        let started_at =
            now - Duration::days(1 + rng.between(0, 9)) - Duration::minutes(rng.between(0, 600));
        let (disposition, reason, items_answered, excluded_by) = match rng.below(10) {
            0..=4 => (
                Disposition::Refused,
                ["", "没有时间", "不想参加", ""][rng.index(4)],
                1,
                Vec::new(),
            ),
            5..=7 => (
                Disposition::NotEligible,
                "",
                3,
                vec![if rng.chance(50) { "age" } else { "frontline" }.to_string()],
            ),
            _ => (
                Disposition::Partial,
                ["被叫去上工", "车要开了", "身体不舒服"][rng.index(3)],
                4 + rng.below(20) as u32,
                Vec::new(),
            ),
        };
        let population = site.7[rng.index(site.7.len())];
        out.push(
            zhisu_protocol::ContactOutcome {
                id: Uuid::from_u128(
                    (u128::from(seed) << 64)
                        | (1 << 63)
                        | ((d as u128) << 32)
                        | u128::from(rng.next_u64() as u32),
                ),
                questionnaire_id: q.id.clone(),
                questionnaire_version: q.version.clone(),
                started_at,
                ended_at: started_at + Duration::seconds(rng.between(30, 600)),
                utc_offset_minutes: 480,
                disposition,
                reason: (!reason.is_empty()).then(|| reason.to_string()),
                items_answered,
                excluded_by,
                site_id: Some(format!("{district}-{}", site.0)),
                surveyor_id: Some(demo_surveyor(district, rng)),
                population: (disposition == Disposition::Partial).then(|| population.to_string()),
                content_hash: String::new(),
            }
            .sealed(),
        );
    }
    out
}

impl crate::ServerState {
    /// The round before the demonstration round in one district: a tablet enrolled for it and
    /// fewer interviews, answered somewhat worse, about eleven months ago (within what a
    /// device's clock may be behind, so none is flagged). Returns how many were stored.
    fn demo_previous_round(
        &self,
        q: &Questionnaire,
        previous: &str,
        (seed, d, district, bonus): (u64, usize, &str, u64),
        now: DateTime<Utc>,
        rng: &mut Rng,
    ) -> Result<usize, crate::Refusal> {
        use crate::Refusal;
        let code = self.create_enrolment_code(previous, district, Duration::hours(1), "demo")?;
        let enrolment = self
            .enrol(&code, &format!("演示平板 {district}（上一轮）"))?
            .map_err(|e| {
                Refusal::Invalid(format!("the demonstration tablet was not enrolled: {e:?}"))
            })?;
        let device = self
            .storage
            .device(enrolment.device_id)?
            .ok_or_else(|| Refusal::NotFound("the demonstration tablet".into()))?;
        let mut batch = Vec::new();
        for site in &DEMO_SITES {
            for _ in 0..12 + rng.below(6) {
                let who = Respondent {
                    population: site.7[rng.index(site.7.len())],
                    sex: if rng.chance(45) { "female" } else { "male" },
                    age: rng.between(19, 58),
                    education: ["none_primary", "junior", "senior", "college", "bachelor"]
                        [rng.index(5)],
                    industry: site.3,
                    // a year before, a little less known
                    ability: ((site.8 + bonus).saturating_sub(20) + rng.below(25)).min(99),
                    straight_line: false,
                };
                let (answers, problems) = answers(q, &who, rng);
                if !problems.is_empty() {
                    return Err(Refusal::Invalid(format!(
                        "a demonstration interview is not valid: {}",
                        problems.join("; ")
                    )));
                }
                let start = now
                    - Duration::days(330 + rng.between(0, 14))
                    - Duration::minutes(rng.between(0, 600));
                let id = Uuid::from_u128(
                    (u128::from(seed) << 64)
                        | (1 << 62)
                        | ((d as u128) << 32)
                        | u128::from(rng.next_u64() as u32),
                );
                let mut one = interview(
                    q,
                    id,
                    answers,
                    start,
                    rng.between(900, 2100),
                    Some(&format!("{district}-{}", site.0)),
                );
                one.surveyor_id = Some(demo_surveyor(district, rng));
                batch.push(one.sealed());
            }
        }
        let mut stored = 0;
        for chunk in batch.chunks(zhisu_protocol::MAX_BATCH_INTERVIEWS) {
            for receipt in crate::ingest::ingest(self, chunk.to_vec(), Some(&device))? {
                stored += usize::from(receipt.status == zhisu_protocol::ReceiptStatus::Stored);
            }
        }
        Ok(stored)
    }
}
