//! Running the literacy questionnaire as the tablet does: skip logic, eligibility, modules,
//! constraints and scoring, on the shipped `ohl_2026.toml`.
use std::path::PathBuf;

use zhisu_core::{
    AnswerError, AnswerValue, Answers, EligibilityStatus, InterviewProblem, ItemKind, Questionnaire,
};

fn load(name: &str) -> Questionnaire {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../questionnaires")
        .join(name);
    Questionnaire::from_toml(name, &std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|d| panic!("{}", d.lines()))
}

fn set(answers: &mut Answers, pairs: &[(&str, AnswerValue)]) {
    for (id, value) in pairs {
        answers.insert(id.to_string(), value.clone());
    }
}

/// A plausible answer: the key for scored items, otherwise the first choice or the lowest value.
fn typical_answer(q: &Questionnaire, id: &str, answers: &Answers) -> Option<AnswerValue> {
    let item = q.item(id).unwrap();
    if let Some(rule) = &item.scoring {
        return Some(rule.key.clone());
    }
    Some(match &item.kind {
        ItemKind::SingleChoice { .. } | ItemKind::Likert { .. } => {
            AnswerValue::Choice(q.visible_choices(item, answers)[0].key.clone())
        }
        ItemKind::MultipleChoice { choices } => AnswerValue::Choices(vec![choices[0].key.clone()]),
        ItemKind::TrueFalse => AnswerValue::Bool(true),
        ItemKind::Integer { min, .. } => AnswerValue::Integer(min.unwrap_or(0)),
        ItemKind::Decimal { min, .. } => AnswerValue::Decimal(min.unwrap_or(0.0)),
        ItemKind::Text { .. } => AnswerValue::Text("其他".into()),
        ItemKind::Date { min, .. } => {
            AnswerValue::Date(min.clone().unwrap_or_else(|| "2026-01-01".into()))
        }
        ItemKind::Note => return None,
    })
}

/// Walks the interview screen by screen as the app does, answering each item; `fixed` answers
/// win over typical ones. Returns the answers and the ids of the screens shown.
fn walk(q: &Questionnaire, fixed: &[(&str, AnswerValue)]) -> (Answers, Vec<String>) {
    let mut answers = Answers::new();
    let mut shown = Vec::new();
    let mut at = None;
    while let Some(index) = q.next_item(&answers, at) {
        let id = q.items[index].id.clone();
        let value = fixed
            .iter()
            .find(|(f, _)| *f == id)
            .map(|(_, v)| v.clone())
            .or_else(|| typical_answer(q, &id, &answers));
        if let Some(value) = value {
            q.check_answer(&id, &value, &answers)
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            answers.insert(id.clone(), value);
        }
        shown.push(id);
        at = Some(index);
        assert!(shown.len() <= q.items.len(), "the walk does not end");
    }
    (answers, shown)
}

#[test]
fn declining_consent_ends_the_interview_politely() {
    let q = load("ohl_2026.toml");
    let (answers, shown) = walk(&q, &[("consent", AnswerValue::Bool(false))]);
    assert_eq!(shown, vec!["intro", "consent"]);
    assert_eq!(
        q.eligibility_status(&answers),
        EligibilityStatus::Ineligible
    );
    assert_eq!(
        q.check_interview(&answers),
        vec![InterviewProblem::NotEligible]
    );
}

/// An interview that ends at screening is "not eligible" only when its answers are valid ones:
/// otherwise the answers' own problems are named (age 85 where the item allows 10 to 80, a
/// true/false or "don't know" age, age 5), and an answer to an item the other answers skip is
/// named as not asked.
#[test]
fn screening_names_the_real_problems_not_just_not_eligible() {
    let q = load("ohl_2026.toml");
    let with_age = |age: AnswerValue| {
        let mut answers = Answers::new();
        set(
            &mut answers,
            &[
                ("consent", AnswerValue::Bool(true)),
                ("age", age),
                ("frontline", AnswerValue::Bool(true)),
            ],
        );
        q.check_interview(&answers)
    };
    let invalid = |error| InterviewProblem::InvalidAnswer {
        item_id: "age".into(),
        error,
    };
    assert_eq!(
        with_age(AnswerValue::Integer(85)),
        vec![invalid(AnswerError::AboveMax { max: "80".into() })]
    );
    assert_eq!(
        with_age(AnswerValue::Integer(5)),
        vec![invalid(AnswerError::BelowMin { min: "10".into() })]
    );
    assert_eq!(
        with_age(AnswerValue::Bool(true)),
        vec![invalid(AnswerError::WrongKind {
            expected: "integer"
        })]
    );
    assert_eq!(
        with_age(AnswerValue::DontKnow),
        vec![invalid(AnswerError::DontKnowNotOffered)]
    );
    // a valid age outside the survey's 16 to 59: that is what "not eligible" is for
    assert_eq!(
        with_age(AnswerValue::Integer(70)),
        vec![InterviewProblem::NotEligible]
    );
    // consent declined, yet an age was given: the age was never asked
    let mut answers = Answers::new();
    set(
        &mut answers,
        &[
            ("consent", AnswerValue::Bool(false)),
            ("age", AnswerValue::Integer(30)),
        ],
    );
    assert_eq!(
        q.check_interview(&answers),
        vec![InterviewProblem::NotAsked {
            item_id: "age".into()
        }]
    );
    assert!(InterviewProblem::NotAsked {
        item_id: "age".into()
    }
    .to_string()
    .contains("'age' was not asked"));
}

#[test]
fn age_and_frontline_decide_eligibility() {
    let q = load("ohl_2026.toml");
    let mut answers = Answers::new();
    set(&mut answers, &[("consent", AnswerValue::Bool(true))]);
    assert_eq!(
        q.eligibility_status(&answers),
        EligibilityStatus::Undetermined
    );
    set(&mut answers, &[("age", AnswerValue::Integer(15))]);
    assert_eq!(
        q.eligibility_status(&answers),
        EligibilityStatus::Undetermined
    );
    set(&mut answers, &[("frontline", AnswerValue::Bool(true))]);
    assert_eq!(
        q.eligibility_status(&answers),
        EligibilityStatus::Ineligible
    );
    assert_eq!(q.next_item(&answers, Some(3)), None, "no more questions");
    for (age, frontline, status) in [
        (16, true, EligibilityStatus::Eligible),
        (59, true, EligibilityStatus::Eligible),
        (60, true, EligibilityStatus::Ineligible),
        (30, false, EligibilityStatus::Ineligible),
    ] {
        set(
            &mut answers,
            &[
                ("age", AnswerValue::Integer(age)),
                ("frontline", AnswerValue::Bool(frontline)),
            ],
        );
        assert_eq!(q.eligibility_status(&answers), status, "{age} {frontline}");
    }
}

/// The modules of the work people do are asked by population; the migrant-worker module by
/// migrant status, whatever the population (a migrant construction worker answers both).
#[test]
fn each_population_sees_only_its_own_module() {
    let q = load("ohl_2026.toml");
    let modules: Vec<_> = q.sections.iter().filter(|s| s.module.is_some()).collect();
    assert_eq!(modules.len(), 9);
    let populations = match &q.item("population").unwrap().kind {
        ItemKind::SingleChoice { choices, .. } => choices.clone(),
        other => panic!("{other:?}"),
    };
    let mut with_module = 0;
    for population in populations.iter().map(|c| c.key.as_str()) {
        for migrant in [false, true] {
            let (answers, shown) = walk(
                &q,
                &[
                    ("consent", AnswerValue::Bool(true)),
                    ("age", AnswerValue::Integer(35)),
                    ("population", AnswerValue::Choice(population.into())),
                    ("migrant", AnswerValue::Bool(migrant)),
                ],
            );
            let expected: Vec<&str> = modules
                .iter()
                .filter(|m| {
                    let of = m.module.as_ref().unwrap().population.as_str();
                    of == population || (of == "migrant" && migrant)
                })
                .map(|m| m.id.as_str())
                .collect();
            for item in &q.items {
                if let Some(section) = q.module_of(item) {
                    assert_eq!(
                        shown.contains(&item.id),
                        expected.contains(&section.id.as_str()),
                        "{population} (migrant {migrant}): {}",
                        item.id
                    );
                }
            }
            assert!(q.check_interview(&answers).is_empty(), "{population}");
            let report = q.score(&answers);
            let scored: Vec<&str> = report
                .modules
                .iter()
                .map(|m| m.population.as_str())
                .collect();
            assert_eq!(scored.len(), expected.len(), "{population}: {scored:?}");
            for module in &report.modules {
                assert_eq!(module.score, module.max, "{population}");
                assert!(module.has_literacy);
            }
            if !migrant && !expected.is_empty() {
                assert_eq!(scored, vec![population]);
                with_module += 1;
            }
            // every scored core item answered with its key: full marks and literacy
            assert_eq!(report.score, report.max);
            assert_eq!(report.max, q.describe().max_score);
            assert!(report.has_literacy);
        }
    }
    assert_eq!(
        with_module, 8,
        "every population but 'other' has its module"
    );
}

/// One wrong answer never decides a dimension on its own: with every other scored item of the
/// national test right, a respondent keeps literacy in every dimension (the intercept's law
/// dimension needed both of its two-point items in 2026.1).
#[test]
fn no_single_item_decides_a_dimension() {
    for file in ["ohl_2026.toml", "ohl_intercept.toml"] {
        let q = load(file);
        let (right, _) = walk(
            &q,
            &[
                ("consent", AnswerValue::Bool(true)),
                ("age", AnswerValue::Integer(35)),
            ],
        );
        assert!(q.score(&right).dimensions.iter().all(|d| d.has_literacy));
        let mut checked = 0;
        for item in &q.items {
            if item.scoring.is_none() || q.module_of(item).is_some() {
                continue;
            }
            let mut answers = right.clone();
            answers.insert(item.id.clone(), AnswerValue::DontKnow);
            let report = q.score(&answers);
            assert!(report.score < report.max, "{file}: {} counts", item.id);
            for d in &report.dimensions {
                assert!(
                    d.has_literacy,
                    "{file}: {} alone decides {} ({} of {})",
                    item.id, d.dimension, d.score, d.max
                );
            }
            checked += 1;
        }
        assert!(checked >= 20, "{file}: {checked}");
    }
}

#[test]
fn irrelevant_answers_are_kept_but_do_not_count() {
    let q = load("ohl_2026.toml");
    let (mut answers, _) = walk(
        &q,
        &[
            ("consent", AnswerValue::Bool(true)),
            ("age", AnswerValue::Integer(40)),
            ("hazards", AnswerValue::Choices(vec!["dust".into()])),
        ],
    );
    assert!(answers.contains_key("ppe_provided"));
    assert!(q.is_relevant("ppe_worn", &answers));
    // the respondent goes back and says they meet no hazards
    set(
        &mut answers,
        &[("hazards", AnswerValue::Choices(vec!["none".into()]))],
    );
    assert!(!q.is_relevant("ppe_provided", &answers));
    assert!(
        !q.is_relevant("ppe_worn", &answers),
        "masked through ppe_provided"
    );
    let effective = q.effective_answers(&answers);
    assert!(!effective.contains_key("ppe_provided") && !effective.contains_key("ppe_worn"));
    assert!(
        answers.contains_key("ppe_worn"),
        "kept, in case the answer changes back"
    );
    assert!(q.check_interview(&effective).is_empty());
    assert_eq!(q.effective_answers(&effective), effective);
}

#[test]
fn constraints_compare_with_earlier_answers_and_speak_plainly() {
    let q = load("ohl_2026.toml");
    let mut answers = Answers::new();
    set(
        &mut answers,
        &[
            ("consent", AnswerValue::Bool(true)),
            ("age", AnswerValue::Integer(30)),
            ("frontline", AnswerValue::Bool(true)),
            ("years_service", AnswerValue::Integer(5)),
        ],
    );
    assert!(q
        .check_answer("years_current", &AnswerValue::Integer(5), &answers)
        .is_ok());
    let error = q
        .check_answer("years_current", &AnswerValue::Integer(6), &answers)
        .unwrap_err();
    assert!(matches!(error, AnswerError::Constraint { .. }));
    assert!(!error.message("zh-CN").is_empty());
    assert!(
        q.check_answer("years_service", &AnswerValue::Integer(25), &answers)
            .is_err(),
        "service longer than age minus 10"
    );
    let error = q
        .check_answer(
            "hazards",
            &AnswerValue::Choices(vec!["none".into(), "dust".into()]),
            &answers,
        )
        .unwrap_err();
    assert!(matches!(error, AnswerError::Constraint { .. }));
    assert_eq!(
        q.check_answer("ppe_worn", &AnswerValue::Choice("always".into()), &answers),
        Err(AnswerError::NotRelevant),
        "not asked before hazards and PPE are answered"
    );
}

#[test]
fn dont_know_is_an_answer_that_scores_zero() {
    let q = load("ohl_2026.toml");
    let (answers, _) = walk(
        &q,
        &[
            ("consent", AnswerValue::Bool(true)),
            ("age", AnswerValue::Integer(30)),
            ("law_rights", AnswerValue::DontKnow),
            ("know_preventable", AnswerValue::DontKnow),
        ],
    );
    assert!(q.check_interview(&answers).is_empty());
    let report = q.score(&answers);
    assert_eq!(report.score, report.max - 3, "2 + 1 points lost");
    let law = report
        .dimensions
        .iter()
        .find(|d| d.dimension == "law")
        .unwrap();
    assert_eq!(law.score, law.max - 2);
    assert_eq!(
        q.check_answer("sex", &AnswerValue::DontKnow, &answers),
        Err(AnswerError::DontKnowNotOffered)
    );
}

#[test]
fn the_questionnaires_have_the_designed_shape() {
    let q = load("ohl_2026.toml");
    let d = q.describe();
    let core: usize = d.scored_items_by_dimension.values().sum();
    assert!((36..=44).contains(&core), "about 40 core items, got {core}");
    assert_eq!(
        d.scored_items_by_dimension.keys().collect::<Vec<_>>(),
        vec!["behaviour", "knowledge", "law", "skills"]
    );
    assert!(d.scored_items_by_dimension.values().all(|n| *n >= 5));
    assert_eq!(d.modules.len(), 9);
    assert!(d.modules.iter().all(|m| (5..=8).contains(&m.scored_items)));
    assert_eq!(d.literacy_threshold_percent, 80);
    assert!(d.has_eligibility_rule);

    let intercept = load("ohl_intercept.toml").describe();
    let scored: usize = intercept.scored_items_by_dimension.values().sum();
    assert!((16..=24).contains(&scored), "a short test, got {scored}");
    // at least 5 one-point items per dimension: its 80 % never hinges on one answer
    assert!(intercept
        .scored_items_by_dimension
        .values()
        .all(|n| *n >= 5));
    assert_eq!(
        intercept.max_score_by_dimension,
        intercept
            .scored_items_by_dimension
            .iter()
            .map(|(d, n)| (d.clone(), *n as u32))
            .collect()
    );
    assert!(intercept.modules.is_empty());
    assert!(intercept.items < d.items / 2);
}

#[test]
fn an_interview_is_resumed_at_the_first_unanswered_question() {
    let q = load("ohl_2026.toml");
    let (full, shown) = walk(
        &q,
        &[
            ("consent", AnswerValue::Bool(true)),
            ("age", AnswerValue::Integer(35)),
        ],
    );
    assert_eq!(q.resume_point(&full), None, "all answered: review");
    // keep the answers up to the tenth screen, as if the tablet died there
    let cut: Answers = shown[..10]
        .iter()
        .filter_map(|id| full.get(id).map(|v| (id.clone(), v.clone())))
        .collect();
    let resume = q.resume_point(&cut).expect("a question to resume at");
    assert_eq!(q.items[resume].id, shown[10]);
    assert_eq!(
        q.resume_point(&Answers::new()),
        Some(1),
        "the intro note is skipped: consent"
    );
}

#[test]
fn a_contact_screened_out_is_a_refusal_at_consent_or_names_the_rule_that_excluded_it() {
    use zhisu_core::{Disposition, ScreenedOut};
    let q = load("ohl_2026.toml");
    let mut answers = Answers::new();
    // nothing answered: the surveyor may record a refusal or another outcome, not a partial
    assert_eq!(q.screened_out(&answers), None);
    assert_eq!(
        q.closing_dispositions(&answers),
        vec![Disposition::Refused, Disposition::Other]
    );
    set(&mut answers, &[("consent", AnswerValue::Bool(false))]);
    assert_eq!(q.screened_out(&answers), Some(ScreenedOut::Refused));
    assert!(q.closing_dispositions(&answers).is_empty());

    let mut answers = Answers::new();
    set(
        &mut answers,
        &[
            ("consent", AnswerValue::Bool(true)),
            ("age", AnswerValue::Integer(62)),
            ("frontline", AnswerValue::Bool(true)),
        ],
    );
    assert_eq!(
        q.screened_out(&answers),
        Some(ScreenedOut::NotEligible {
            items: vec!["age".into()]
        })
    );
    let mut answers = Answers::new();
    set(
        &mut answers,
        &[
            ("consent", AnswerValue::Bool(true)),
            ("age", AnswerValue::Integer(30)),
            ("frontline", AnswerValue::Bool(false)),
        ],
    );
    assert_eq!(
        q.screened_out(&answers),
        Some(ScreenedOut::NotEligible {
            items: vec!["frontline".into()]
        })
    );
    // eligible and consented: a break-off is a partial (or another outcome), never a refusal
    answers.insert("frontline".into(), AnswerValue::Bool(true));
    assert_eq!(q.screened_out(&answers), None);
    assert_eq!(
        q.closing_dispositions(&answers),
        vec![Disposition::Partial, Disposition::Other]
    );
    // consented, eligibility not settled yet: neither partial nor refusal
    answers.remove("frontline");
    assert_eq!(q.closing_dispositions(&answers), vec![Disposition::Other]);
}

/// Issue #15 (intercept surveys at stations, 2026.3): a worker between jobs who did frontline
/// work in the past 12 months takes part; the question is asked only of those not on the front
/// line now; someone who has done no frontline work this year is screened out by both answers;
/// the travel direction is asked of everyone who takes part.
#[test]
fn a_worker_between_jobs_takes_part_at_the_station_and_is_asked_the_travel_direction() {
    use zhisu_core::ScreenedOut;
    let q = load("ohl_intercept.toml");
    let consent = ("consent", AnswerValue::Bool(true));
    let age = ("age", AnswerValue::Integer(40));

    // on the front line now: the past-year question is never asked
    let (now, shown) = walk(&q, &[consent.clone(), age.clone()]);
    assert!(
        !shown.iter().any(|id| id == "worked_past_year"),
        "{shown:?}"
    );
    assert_eq!(q.eligibility_status(&now), EligibilityStatus::Eligible);
    assert!(shown.iter().any(|id| id == "travel_direction"));

    // between jobs: asked, eligible, and the rest of the interview goes on
    let (between, shown) = walk(
        &q,
        &[
            consent.clone(),
            age.clone(),
            ("frontline", AnswerValue::Bool(false)),
            ("worked_past_year", AnswerValue::Bool(true)),
            (
                "travel_direction",
                AnswerValue::Choice("going_to_work".into()),
            ),
        ],
    );
    assert!(shown.iter().any(|id| id == "worked_past_year"));
    assert_eq!(q.eligibility_status(&between), EligibilityStatus::Eligible);
    assert_eq!(
        between.get("travel_direction"),
        Some(&AnswerValue::Choice("going_to_work".into()))
    );
    assert!(q.score(&between).has_literacy, "the keys were given");
    assert_eq!(q.screened_out(&between), None);

    // not on the front line now, waiting for the past-year answer: not yet decided
    let mut waiting = Answers::new();
    set(
        &mut waiting,
        &[
            consent.clone(),
            age.clone(),
            ("frontline", AnswerValue::Bool(false)),
        ],
    );
    assert_eq!(
        q.eligibility_status(&waiting),
        EligibilityStatus::Undetermined
    );

    // no frontline work this year: screened out, by both screening answers
    let (out, shown) = walk(
        &q,
        &[
            consent,
            age,
            ("frontline", AnswerValue::Bool(false)),
            ("worked_past_year", AnswerValue::Bool(false)),
        ],
    );
    assert_eq!(shown.last().map(String::as_str), Some("worked_past_year"));
    assert_eq!(q.eligibility_status(&out), EligibilityStatus::Ineligible);
    assert_eq!(
        q.screened_out(&out),
        Some(ScreenedOut::NotEligible {
            items: vec!["frontline".into(), "worked_past_year".into()]
        })
    );
}
