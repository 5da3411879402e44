//! The shipped questionnaires are product and test corpus at once: each must load cleanly.
use std::path::PathBuf;

use zhisu_core::{AnswerValue, Answers, Questionnaire};

fn questionnaires_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires")
}

fn load(name: &str) -> Questionnaire {
    let path = questionnaires_dir().join(name);
    let source = std::fs::read_to_string(&path).unwrap();
    Questionnaire::from_toml(name, &source)
        .unwrap_or_else(|d| panic!("{name} has problems:\n{}", d.lines()))
}

#[test]
fn every_shipped_questionnaire_and_example_loads_without_diagnostics() {
    let mut loaded = 0;
    // earlier/: the files of replaced versions, kept unchanged for their interviews
    for dir in ["", "examples", "earlier"] {
        for entry in std::fs::read_dir(questionnaires_dir().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let name = format!("{dir}/{}", path.file_name().unwrap().to_str().unwrap());
                let q = load(name.trim_start_matches('/'));
                assert!(!q.items.is_empty(), "{name}");
                loaded += 1;
            }
        }
    }
    assert!(loaded >= 6, "questionnaires missing");
}

#[test]
fn the_format_example_uses_every_kind_and_feature() {
    let q = load("examples/all_features.toml");
    let kinds: std::collections::BTreeSet<&str> = q.items.iter().map(|i| i.kind.name()).collect();
    assert_eq!(kinds.len(), zhisu_core::ItemKind::NAMES.len(), "{kinds:?}");
    let mut answers = Answers::new();
    answers.insert("district".into(), AnswerValue::Choice("jiangbei".into()));
    let street = q.item("street").unwrap();
    let offered: Vec<&str> = q
        .visible_choices(street, &answers)
        .iter()
        .map(|c| c.key.as_str())
        .collect();
    assert_eq!(offered, vec!["guanyinqiao"], "the choice filter cascades");
    assert!(q
        .check_answer(
            "street",
            &AnswerValue::Choice("jiefangbei".into()),
            &answers
        )
        .is_err());
    let welcome = q.item("welcome").unwrap();
    assert!(welcome.audio.is_some());
    assert_eq!(welcome.picture_alt(), welcome.image_alt.clone());
    assert!(welcome.image_alt.as_ref().is_some_and(|a| a.has("en")));
    assert!(q.eligibility.is_some() && q.description.is_some());
}

#[test]
fn pilot_scores_all_right_as_literate_and_all_wrong_as_not() {
    let q = load("pilot.toml");
    let mut answers = Answers::new();
    answers.insert("age".into(), AnswerValue::Integer(35));
    answers.insert("employer_duty".into(), AnswerValue::Bool(true));
    answers.insert("noise".into(), AnswerValue::Choice("earplugs".into()));
    // tapped in another order than the key lists them: still an exact set match
    answers.insert(
        "confined_space".into(),
        AnswerValue::Choices(vec![
            "guard_outside".into(),
            "ventilate".into(),
            "test_air".into(),
        ]),
    );
    assert!(q.check_interview(&answers).is_empty());
    let report = q.score(&answers);
    assert_eq!((report.score, report.max), (4, 4));
    assert!(report.has_literacy);
    assert!(report.dimensions.iter().all(|d| d.has_literacy));

    // a subset of the right choices scores nothing: exact match only
    answers.insert(
        "confined_space".into(),
        AnswerValue::Choices(vec!["ventilate".into(), "test_air".into()]),
    );
    let report = q.score(&answers);
    assert_eq!((report.score, report.max), (2, 4));
    assert!(!report.has_literacy, "2 of 4 is below 80 %");
    let skills = report
        .dimensions
        .iter()
        .find(|d| d.dimension == "skills")
        .unwrap();
    assert_eq!(
        (skills.score, skills.max, skills.has_literacy),
        (0, 2, false)
    );
}

#[test]
fn pilot_rejects_out_of_range_and_missing_answers() {
    let q = load("pilot.toml");
    let mut answers = Answers::new();
    answers.insert("age".into(), AnswerValue::Integer(12));
    answers.insert("noise".into(), AnswerValue::Choice("shout".into()));
    answers.insert("favourite_colour".into(), AnswerValue::Choice("red".into()));
    let problems: Vec<String> = q
        .check_interview(&answers)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        problems,
        vec![
            "item 'favourite_colour' is not in this questionnaire",
            "item 'age': the number must be at least 16",
            "item 'employer_duty' is required but has no answer",
            "item 'noise': 'shout' is not one of this item's choices",
            "item 'confined_space' is required but has no answer",
        ]
    );
}

#[test]
fn model_round_trips_through_json_for_the_webview() {
    let q = load("pilot.toml");
    let json = serde_json::to_string(&q).unwrap();
    let back: Questionnaire = serde_json::from_str(&json).unwrap();
    assert_eq!(q, back);
}

#[test]
fn background_roles_are_found_by_meaning_and_default_to_the_same_ids() {
    use zhisu_core::BackgroundRole;
    let national = load("ohl_2026.toml");
    // the travel direction is asked only at stations (the intercept file)
    for role in BackgroundRole::ALL
        .into_iter()
        .filter(|r| *r != BackgroundRole::TravelDirection)
    {
        let item = national
            .background_item(role)
            .unwrap_or_else(|| panic!("{role:?}"));
        assert_eq!(item.id, role.name());
        assert_eq!(item.kind.name(), role.kind(), "{role:?}");
    }
    assert_eq!(national.fingerprint_items().count(), 14);
    let intercept = load("ohl_intercept.toml");
    assert!(intercept
        .background_item(BackgroundRole::EmployerSize)
        .is_none());
    let ids: Vec<&str> = intercept
        .fingerprint_items()
        .map(|i| i.id.as_str())
        .collect();
    // declared in the file (2026.3): at a busy station many travellers share the national
    // defaults' answers, so migrant status, household place and travel direction are in it
    assert_eq!(
        ids,
        [
            "sex",
            "age",
            "education",
            "population",
            "industry",
            "migrant",
            "hukou_place",
            "travel_direction"
        ]
    );
    let travel = intercept
        .background_item(BackgroundRole::TravelDirection)
        .expect("the intercept file asks the travel direction");
    assert_eq!(travel.kind.name(), BackgroundRole::TravelDirection.kind());
    let keys: Vec<&str> = travel
        .kind
        .choices()
        .iter()
        .map(|c| c.key.as_str())
        .collect();
    assert_eq!(keys, ["going_home", "going_to_work", "other"]);
    assert!(national
        .background_item(BackgroundRole::TravelDirection)
        .is_none());

    // a file without [background] (the shipped files keep the content tablets already hold:
    // their hash is how a tablet knows a version): the items of the same ids play the roles
    let without = std::fs::read_to_string(questionnaires_dir().join("ohl_2026.toml")).unwrap();
    assert!(!without.contains("[background]"));
    let old = Questionnaire::from_toml("old.toml", &without).unwrap();
    assert_eq!(old.background, zhisu_core::Background::default());
    assert_eq!(
        old.background_item(BackgroundRole::Industry).map(|i| &i.id),
        national
            .background_item(BackgroundRole::Industry)
            .map(|i| &i.id)
    );

    // another id for a role
    let renamed = without
        .replace("id = \"industry\"", "id = \"trade\"")
        .replace("${industry}", "${trade}")
        .replace(
            "# ---- Dimensions",
            "[background]\nindustry = \"trade\"\n\n# ---- Dimensions",
        );
    let renamed = Questionnaire::from_toml("renamed.toml", &renamed)
        .unwrap_or_else(|d| panic!("{}", d.lines()));
    assert_eq!(
        renamed
            .background_item(BackgroundRole::Industry)
            .map(|i| i.id.as_str()),
        Some("trade")
    );
    let json = serde_json::to_string(&renamed).unwrap();
    let back: Questionnaire = serde_json::from_str(&json).unwrap();
    assert_eq!(back.background, renamed.background);

    // migrant status is a yes/no role, employment form a single choice
    let declared = |table: &str| {
        Questionnaire::from_toml(
            "declared.toml",
            &without.replace(
                "# ---- Dimensions",
                &format!("{table}\n\n# ---- Dimensions"),
            ),
        )
    };
    let q = declared("[background]\nmigrant = \"night_shift\"\nemployment_form = \"hukou\"")
        .unwrap_or_else(|d| panic!("{}", d.lines()));
    assert_eq!(
        q.background_item(BackgroundRole::Migrant)
            .map(|i| i.id.as_str()),
        Some("night_shift")
    );
    assert_eq!(
        q.background_item(BackgroundRole::EmploymentForm)
            .map(|i| i.id.as_str()),
        Some("hukou")
    );
    // the travel direction is a single choice, under any id
    let q = declared("[background]\ntravel_direction = \"hukou\"")
        .unwrap_or_else(|d| panic!("{}", d.lines()));
    assert_eq!(
        q.background_item(BackgroundRole::TravelDirection)
            .map(|i| i.id.as_str()),
        Some("hukou")
    );
    let wrong = declared("[background]\ntravel_direction = \"night_shift\"").unwrap_err();
    assert!(
        wrong.lines().to_string().contains(
            "background travel_direction is 'night_shift', which is true_false and must be single_choice"
        ),
        "{}",
        wrong.lines()
    );
    let wrong = declared("[background]\ntravel_direction = \"travel\"").unwrap_err();
    assert!(
        wrong
            .lines()
            .to_string()
            .contains("background travel_direction is 'travel', which is not an item"),
        "{}",
        wrong.lines()
    );
    let wrong = declared("[background]\nmigrant = \"hukou\"").unwrap_err();
    assert!(
        wrong.lines().to_string().contains(
            "background migrant is 'hukou', which is single_choice and must be true_false"
        ),
        "{}",
        wrong.lines()
    );
}

#[test]
fn the_interview_language_is_the_wanted_one_when_the_questionnaire_has_it() {
    let q = load("pilot.toml");
    assert_eq!(q.interview_language(Some("en")), "en");
    assert_eq!(q.interview_language(Some("bo")), "zh-CN");
    assert_eq!(q.interview_language(None), "zh-CN");
}

/// Every scored item of the current national and intercept questionnaires says where its key
/// comes from (a law article, a standard, the catalogue of occupational diseases, a paper) in a
/// `# 依据：` comment just above it, or above the choice list written for it.
#[test]
fn every_scored_item_of_the_current_questionnaires_names_its_source() {
    for name in ["ohl_2026.toml", "ohl_intercept.toml"] {
        let q = load(name);
        let text = std::fs::read_to_string(questionnaires_dir().join(name)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut checked = 0;
        for item in q.items.iter().filter(|i| i.scoring.is_some()) {
            let at = lines
                .iter()
                .position(|l| *l == format!("id = \"{}\"", item.id))
                .unwrap_or_else(|| panic!("{name}: {}", item.id));
            // back from the item over its own choice list (written just above it) to the
            // comment that opens the block
            let list = format!("[[choices.{}]]", item.id);
            let ends_the_previous_item = |line: &str| {
                line.starts_with("[[items]]")
                    || line.starts_with("# ====")
                    || line.starts_with("explanation")
                    || line.starts_with("score =")
                    || (line.starts_with("[[") && line != list)
            };
            let mut start = at - 1;
            while start > 0 && !ends_the_previous_item(lines[start - 1]) {
                start -= 1;
            }
            let comments: Vec<&str> = lines[start..at]
                .iter()
                .copied()
                .filter(|l| l.starts_with('#'))
                .collect();
            assert!(
                comments.iter().any(|l| l.contains("依据")),
                "{name}: item {} has no 依据 comment above it",
                item.id
            );
            checked += 1;
        }
        assert!(checked >= 20, "{name}: {checked}");
    }
}
