//! Paradata (time on screen, visits, answer changes) and the quality-control flags built on it,
//! on the shipped `ohl_2026.toml` and on small questionnaires written here.
use std::path::PathBuf;

use zhisu_core::{
    flags_from_answers, flags_from_paradata, qc_flags, AnswerEvent, AnswerValue, Answers, ItemKind,
    ItemParadata, Location, Paradata, QcFlag, QcThresholds, Questionnaire, ScreenVisit,
};

fn load(name: &str) -> Questionnaire {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../questionnaires")
        .join(name);
    Questionnaire::from_toml(name, &std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|d| panic!("{}", d.lines()))
}

fn parse(source: &str) -> Questionnaire {
    Questionnaire::from_toml("inline.toml", source).unwrap_or_else(|d| panic!("{}", d.lines()))
}

const HEADER: &str = r#"
id = "qc"
version = "1"
default_language = "zh-CN"
languages = ["zh-CN"]
title."zh-CN" = "质控"
dimensions = []

[[choices.abc]]
key = "a"
label."zh-CN" = "甲"

[[choices.abc]]
key = "b"
label."zh-CN" = "乙"

[[choices.abc]]
key = "c"
label."zh-CN" = "丙"
"#;

/// A questionnaire of `n` items: odd items single choice (a, b, c), even items true/false.
fn mixed(n: usize) -> Questionnaire {
    let mut source = HEADER.to_string();
    for i in 1..=n {
        let kind = if !i.is_multiple_of(2) {
            "kind = \"single_choice\"\nchoices = \"abc\""
        } else {
            "kind = \"true_false\""
        };
        source.push_str(&format!(
            "\n[[items]]\nid = \"q{i}\"\n{kind}\nrequired = true\ndont_know = true\nlabel.\"zh-CN\" = \"第{i}题\"\n"
        ));
    }
    parse(&source)
}

/// Answers `q` in order; `pick(n, choices)` gives the position of the n-th item's answer (for
/// true/false, 0 = true).
fn answer_by_position(q: &Questionnaire, pick: impl Fn(usize, usize) -> usize) -> Answers {
    let mut answers = Answers::new();
    for (n, item) in q.items.iter().enumerate() {
        let value = match &item.kind {
            ItemKind::TrueFalse => AnswerValue::Bool(pick(n, 2) == 0),
            ItemKind::SingleChoice { choices, .. } | ItemKind::Likert { choices } => {
                AnswerValue::Choice(choices[pick(n, choices.len()) % choices.len()].key.clone())
            }
            _ => continue,
        };
        answers.insert(item.id.clone(), value);
    }
    answers
}

/// Walks `q` screen by screen as the app does, answering each item with `answer` (or skipping
/// it on `None`). Returns the answers and the ids of the screens shown.
fn walk(
    q: &Questionnaire,
    mut answer: impl FnMut(&Questionnaire, usize, &Answers) -> Option<AnswerValue>,
) -> (Answers, Vec<String>) {
    let mut answers = Answers::new();
    let mut shown = Vec::new();
    let mut at = None;
    while let Some(index) = q.next_item(&answers, at) {
        let id = q.items[index].id.clone();
        if let Some(value) = answer(q, index, &answers) {
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

/// A plausible respondent of the national questionnaire: an eligible construction worker who
/// answers the test right and the background questions in varied ways.
fn plausible(q: &Questionnaire, index: usize, answers: &Answers) -> Option<AnswerValue> {
    let item = &q.items[index];
    let fixed = match item.id.as_str() {
        "consent" | "frontline" => Some(AnswerValue::Bool(true)),
        "age" => Some(AnswerValue::Integer(35)),
        "population" => Some(AnswerValue::Choice("construction".into())),
        // who knows the test wears the protection they are given
        "ppe_worn" => Some(AnswerValue::Choice("always".into())),
        _ => None,
    };
    if fixed.is_some() {
        return fixed;
    }
    if let Some(rule) = &item.scoring {
        return Some(rule.key.clone());
    }
    let spread = index * 7 + 3;
    Some(match &item.kind {
        ItemKind::SingleChoice { .. } | ItemKind::Likert { .. } => {
            let visible = q.visible_choices(item, answers);
            AnswerValue::Choice(visible[spread % visible.len()].key.clone())
        }
        ItemKind::MultipleChoice { choices } => AnswerValue::Choices(vec![choices[0].key.clone()]),
        ItemKind::TrueFalse => AnswerValue::Bool(!index.is_multiple_of(3)),
        ItemKind::Integer { min, max } => {
            AnswerValue::Integer(5.clamp(min.unwrap_or(i64::MIN), max.unwrap_or(i64::MAX)))
        }
        ItemKind::Decimal { min, .. } => AnswerValue::Decimal(min.unwrap_or(0.0)),
        ItemKind::Text { .. } => AnswerValue::Text("其他".into()),
        ItemKind::Date { min, .. } => {
            AnswerValue::Date(min.clone().unwrap_or_else(|| "2026-01-01".into()))
        }
        ItemKind::Note => return None,
    })
}

fn event(item_id: &str, elapsed_ms: u64, value: Option<AnswerValue>) -> AnswerEvent {
    AnswerEvent {
        item_id: item_id.into(),
        elapsed_ms,
        value,
    }
}

fn visit(item_id: &str, shown_ms: u64, left_ms: u64) -> ScreenVisit {
    ScreenVisit {
        item_id: item_id.into(),
        shown_ms,
        left_ms,
    }
}

fn choice(key: &str) -> Option<AnswerValue> {
    Some(AnswerValue::Choice(key.into()))
}

#[test]
fn a_normal_interview_of_the_national_questionnaire_gets_no_flags() {
    let q = load("ohl_2026.toml");
    let (answers, shown) = walk(&q, plausible);
    assert!(q.check_interview(&answers).is_empty());
    let report = q.score(&answers);
    assert_eq!(
        report.score, report.max,
        "the plausible respondent knows everything"
    );

    // 12 s per screen, one answer changed once, the app recording every screen and answer
    let mut visits = Vec::new();
    let mut events = Vec::new();
    for (n, id) in shown.iter().enumerate() {
        let shown_ms = n as u64 * 12_000;
        visits.push(visit(id, shown_ms, shown_ms + 12_000));
        if let Some(value) = answers.get(id) {
            events.push(event(id, shown_ms + 8_000, Some(value.clone())));
        }
    }
    let age_at = events.iter().position(|e| e.item_id == "age").unwrap();
    let age_ms = events[age_at].elapsed_ms;
    events.insert(
        age_at,
        event("age", age_ms - 2_000, Some(AnswerValue::Integer(53))),
    );
    let total_ms = shown.len() as u64 * 12_000;
    let paradata = Paradata::from_visits_and_events(&visits, &events, total_ms);
    assert_eq!(paradata.duration_ms, total_ms);
    assert_eq!(paradata.items.len(), shown.len());
    assert_eq!(paradata.total_changes(), 1);
    assert_eq!(paradata.item("age").unwrap().changes, 1);

    let thresholds = QcThresholds::default();
    assert_eq!(qc_flags(&q, &answers, &paradata, &thresholds), vec![]);
    // the server, with only the start and end times
    assert_eq!(
        flags_from_answers(&q, &answers, 15 * 60_000, &thresholds),
        vec![]
    );
}

#[test]
fn the_national_answer_key_does_not_line_up_but_always_the_first_button_does() {
    let q = load("ohl_2026.toml");
    let (answers, _) = walk(&q, plausible);
    // No run of 5 right answers at one position: a respondent who knows the test is never
    // mistaken for one tapping the same button.
    let strict = QcThresholds {
        straight_lining_run: 5,
        ..QcThresholds::default()
    };
    assert_eq!(flags_from_answers(&q, &answers, 3_600_000, &strict), vec![]);

    let (first, _) = walk(&q, |q, index, answers| {
        let item = &q.items[index];
        match (item.id.as_str(), &item.kind) {
            ("age", _) => Some(AnswerValue::Integer(35)),
            ("population", _) => choice("construction"),
            (_, ItemKind::TrueFalse) => Some(AnswerValue::Bool(true)),
            (_, ItemKind::SingleChoice { .. } | ItemKind::Likert { .. }) => Some(
                AnswerValue::Choice(q.visible_choices(item, answers)[0].key.clone()),
            ),
            _ => plausible(q, index, answers),
        }
    });
    // "population" (construction, not the first choice) ends the screening run; the search
    // list "industry" is passed over; from "job_type" on every button is the first one.
    assert_eq!(
        flags_from_answers(&q, &first, 3_600_000, &QcThresholds::default()),
        vec![QcFlag::StraightLining {
            run: 66,
            position: 0,
            from_item: "job_type".into(),
            items: 75,
            minimum: 8,
        }]
    );
    // the right answers, at one position at most 4 times in a row
    let four = QcThresholds {
        straight_lining_run: 4,
        ..QcThresholds::default()
    };
    assert_eq!(
        flags_from_answers(&q, &answers, 3_600_000, &four),
        vec![QcFlag::StraightLining {
            run: 4,
            position: 1,
            from_item: "know_pneumoconiosis".into(),
            items: 75,
            minimum: 4,
        }]
    );
}

#[test]
fn forty_items_in_sixty_seconds_is_too_fast() {
    let q = mixed(40);
    // a, true, b, false, c, true, …: no two neighbours at the same position
    let answers = answer_by_position(&q, |n, _| n % 2);
    assert_eq!(answers.len(), 40);
    let flags = flags_from_answers(&q, &answers, 60_000, &QcThresholds::default());
    assert_eq!(
        flags,
        vec![QcFlag::TooFast {
            seconds_per_item: 1.5,
            minimum: 3.0,
            items: 40,
        }]
    );
    // exactly at the minimum is fine; one millisecond less is not
    assert_eq!(
        flags_from_answers(&q, &answers, 120_000, &QcThresholds::default()),
        vec![]
    );
    assert_eq!(
        flags_from_answers(&q, &answers, 119_999, &QcThresholds::default())[0].code(),
        "too_fast"
    );
    // a stricter minimum, and the check turned off
    let strict = QcThresholds {
        min_seconds_per_item: 5.0,
        ..QcThresholds::default()
    };
    assert_eq!(
        flags_from_answers(&q, &answers, 180_000, &strict),
        vec![QcFlag::TooFast {
            seconds_per_item: 4.5,
            minimum: 5.0,
            items: 40,
        }]
    );
    let off = QcThresholds {
        min_seconds_per_item: 0.0,
        ..QcThresholds::default()
    };
    assert_eq!(flags_from_answers(&q, &answers, 1, &off), vec![]);
    // nothing answered: nothing to judge
    assert_eq!(
        flags_from_answers(&q, &Answers::new(), 1, &QcThresholds::default()),
        vec![]
    );
}

#[test]
fn only_answered_items_that_are_asked_count_towards_speed() {
    let q = parse(&format!(
        r#"{HEADER}
[[items]]
id = "intro"
kind = "note"
required = false
label."zh-CN" = "说明"

[[items]]
id = "works"
kind = "true_false"
required = true
label."zh-CN" = "您在上班吗？"

[[items]]
id = "job"
kind = "single_choice"
choices = "abc"
required = true
relevant = "${{works}} = true()"
label."zh-CN" = "什么工作？"

[[items]]
id = "years"
kind = "integer"
required = false
label."zh-CN" = "几年？"

[[items]]
id = "comment"
kind = "text"
required = false
label."zh-CN" = "还有什么？"
"#
    ));
    let mut answers = Answers::new();
    answers.insert("works".into(), AnswerValue::Bool(false));
    answers.insert("job".into(), AnswerValue::Choice("a".into())); // kept, but not asked now
    answers.insert("years".into(), AnswerValue::Integer(3));
    // 2 answered asked items (works, years) in 5 s: 2.5 s each
    assert_eq!(
        flags_from_answers(&q, &answers, 5_000, &QcThresholds::default()),
        vec![QcFlag::TooFast {
            seconds_per_item: 2.5,
            minimum: 3.0,
            items: 2,
        }]
    );
    // with "job" asked it is 3 items: 5 s / 3 = 1.67 s each
    answers.insert("works".into(), AnswerValue::Bool(true));
    let flags = flags_from_answers(&q, &answers, 5_000, &QcThresholds::default());
    let QcFlag::TooFast {
        seconds_per_item,
        items,
        ..
    } = flags[0]
    else {
        panic!("{flags:?}");
    };
    assert_eq!(items, 3);
    assert!((seconds_per_item - 5.0 / 3.0).abs() < 1e-12);
    assert!(flags[0].describe("zh-CN").contains("1.7"));
}

#[test]
fn always_the_first_choice_is_straight_lining_alternating_is_not() {
    let q = mixed(12);
    let first = answer_by_position(&q, |_, _| 0);
    assert_eq!(
        flags_from_answers(&q, &first, 600_000, &QcThresholds::default()),
        vec![QcFlag::StraightLining {
            run: 12,
            position: 0,
            from_item: "q1".into(),
            items: 12,
            minimum: 8,
        }]
    );
    let alternating = answer_by_position(&q, |n, _| n % 2);
    assert_eq!(
        flags_from_answers(&q, &alternating, 600_000, &QcThresholds::default()),
        vec![]
    );
    // always the second button (b, false, b, false, …) is straight-lining too
    let second = answer_by_position(&q, |_, _| 1);
    assert_eq!(
        flags_from_answers(&q, &second, 600_000, &QcThresholds::default()),
        vec![QcFlag::StraightLining {
            run: 12,
            position: 1,
            from_item: "q1".into(),
            items: 12,
            minimum: 8,
        }]
    );
    // the longest run is reported: q1..q4 at a, then q5..q12 at position 2 or false
    let mut mixed_runs = answer_by_position(&q, |n, len| if n < 4 { 0 } else { len - 1 });
    assert_eq!(
        flags_from_answers(&q, &mixed_runs, 600_000, &QcThresholds::default()),
        vec![]
    );
    // (c and false are different positions); make q5..q12 all "b"/false instead
    mixed_runs = answer_by_position(&q, |n, _| if n < 4 { 0 } else { 1 });
    assert_eq!(
        flags_from_answers(&q, &mixed_runs, 600_000, &QcThresholds::default()),
        vec![QcFlag::StraightLining {
            run: 8,
            position: 1,
            from_item: "q5".into(),
            items: 12,
            minimum: 8,
        }]
    );
    // 7 in a row is below the default run of 8
    let seven = answer_by_position(&q, |n, _| if n < 7 { 0 } else { n % 2 });
    assert_eq!(
        flags_from_answers(&q, &seven, 600_000, &QcThresholds::default()),
        vec![]
    );
    let off = QcThresholds {
        straight_lining_run: 0,
        ..QcThresholds::default()
    };
    assert_eq!(flags_from_answers(&q, &first, 600_000, &off), vec![]);
}

#[test]
fn dont_know_and_unanswered_items_end_a_run_other_kinds_are_passed_over() {
    let mut source = HEADER.to_string();
    for i in 1..=10 {
        source.push_str(&format!(
            "\n[[items]]\nid = \"q{i}\"\nkind = \"likert\"\nchoices = \"abc\"\nrequired = false\ndont_know = true\nlabel.\"zh-CN\" = \"第{i}题\"\n"
        ));
        if i == 5 {
            source.push_str(
                "\n[[items]]\nid = \"many\"\nkind = \"multiple_choice\"\nchoices = \"abc\"\nrequired = false\nlabel.\"zh-CN\" = \"多选\"\n\n[[items]]\nid = \"n\"\nkind = \"integer\"\nrequired = false\nlabel.\"zh-CN\" = \"数字\"\n",
            );
        }
    }
    let q = parse(&source);
    let mut answers = answer_by_position(&q, |_, _| 2);
    answers.insert("many".into(), AnswerValue::Choices(vec!["b".into()]));
    let thresholds = QcThresholds::default();
    let run = |answers: &Answers| match flags_from_answers(&q, answers, 600_000, &thresholds)
        .as_slice()
    {
        [QcFlag::StraightLining {
            run, position: 2, ..
        }] => *run,
        [] => 0,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        run(&answers),
        10,
        "the multiple choice and number are passed over"
    );
    answers.insert("q4".into(), AnswerValue::DontKnow);
    assert_eq!(run(&answers), 0, "3 then 6 in a row");
    answers.insert("q4".into(), AnswerValue::Choice("c".into()));
    answers.remove("q3");
    assert_eq!(run(&answers), 0, "2 then 7 in a row");
    answers.insert("q3".into(), AnswerValue::Choice("c".into()));
    answers.remove("q10");
    assert_eq!(run(&answers), 9);
}

#[test]
fn the_position_is_among_the_choices_offered() {
    let q = parse(&format!(
        r#"{HEADER}
[[choices.street]]
key = "s1"
label."zh-CN" = "一街"
attributes = {{ district = "x" }}

[[choices.street]]
key = "s2"
label."zh-CN" = "二街"
attributes = {{ district = "y" }}

[[choices.street]]
key = "s3"
label."zh-CN" = "三街"
attributes = {{ district = "y" }}

[[items]]
id = "district"
kind = "single_choice"
choices = "abc"
required = true
label."zh-CN" = "区"

[[items]]
id = "street"
kind = "single_choice"
choices = "street"
choice_filter = "district = 'y'"
required = true
label."zh-CN" = "街"
"#
    ));
    let mut answers = Answers::new();
    answers.insert("district".into(), AnswerValue::Choice("a".into()));
    answers.insert("street".into(), AnswerValue::Choice("s2".into()));
    let one = QcThresholds {
        straight_lining_run: 2,
        ..QcThresholds::default()
    };
    // s2 is the first street offered: both answers are the first button
    assert_eq!(
        flags_from_answers(&q, &answers, 600_000, &one),
        vec![QcFlag::StraightLining {
            run: 2,
            position: 0,
            from_item: "district".into(),
            items: 2,
            minimum: 2,
        }]
    );
    answers.insert("street".into(), AnswerValue::Choice("s3".into()));
    assert_eq!(flags_from_answers(&q, &answers, 600_000, &one), vec![]);
}

#[test]
fn changes_are_counted_after_the_first_answer() {
    let events = vec![
        event("q1", 1_000, choice("a")),                   // first answer
        event("q2", 2_000, None), // clearing what was never answered: ignored
        event("q2", 3_000, Some(AnswerValue::Bool(true))), // first answer
        event("q1", 4_000, choice("a")), // the same again: not a change
        event("q1", 5_000, choice("b")), // 1
        event(
            "m",
            6_000,
            Some(AnswerValue::Choices(vec!["x".into(), "y".into()])),
        ),
        event(
            "m",
            7_000,
            Some(AnswerValue::Choices(vec!["y".into(), "x".into()])),
        ), // same set
        event("m", 8_000, Some(AnswerValue::Choices(vec!["y".into()]))), // 1
        event("q2", 9_000, None),                                        // cleared: 1
        event("q2", 10_000, Some(AnswerValue::Bool(true))),              // answered again: 2
        event("q1", 11_000, choice("a")),                                // 2
    ];
    let paradata = Paradata::from_visits_and_events(&[], &events, 12_000);
    let changes: Vec<(&str, u32)> = paradata
        .items
        .iter()
        .map(|i| (i.item_id.as_str(), i.changes))
        .collect();
    assert_eq!(changes, vec![("q1", 2), ("q2", 2), ("m", 1)]);
    assert_eq!(paradata.total_changes(), 5);

    let thresholds = QcThresholds {
        max_changes: 4,
        ..QcThresholds::default()
    };
    assert_eq!(
        flags_from_paradata(&paradata, &thresholds),
        vec![QcFlag::ManyChanges {
            changes: 5,
            maximum: 4,
        }]
    );
    let at_max = QcThresholds {
        max_changes: 5,
        ..QcThresholds::default()
    };
    assert_eq!(flags_from_paradata(&paradata, &at_max), vec![]);
    assert_eq!(
        flags_from_paradata(&paradata, &QcThresholds::default()),
        vec![]
    );
}

#[test]
fn many_changes_on_the_device_is_added_after_the_answer_flags() {
    let q = mixed(12);
    let answers = answer_by_position(&q, |_, _| 0);
    // 12 items answered in 12 s, each changed once (b, then a; false, then true)
    let mut events = Vec::new();
    for (n, item) in q.items.iter().enumerate() {
        let at = n as u64 * 1_000;
        let wrong = match &item.kind {
            ItemKind::TrueFalse => Some(AnswerValue::Bool(false)),
            _ => choice("b"),
        };
        events.push(event(&item.id, at + 200, wrong));
        events.push(event(&item.id, at + 600, answers.get(&item.id).cloned()));
    }
    let paradata = Paradata::from_visits_and_events(&[], &events, 12_000);
    assert_eq!(paradata.total_changes(), 12);
    let flags = qc_flags(&q, &answers, &paradata, &QcThresholds::default());
    let codes: Vec<&str> = flags.iter().map(QcFlag::code).collect();
    assert_eq!(codes, vec!["too_fast", "straight_lining", "many_changes"]);
    assert_eq!(
        flags[2],
        QcFlag::ManyChanges {
            changes: 12,
            maximum: 10,
        }
    );
    assert_eq!(
        flags[0],
        QcFlag::TooFast {
            seconds_per_item: 1.0,
            minimum: 3.0,
            items: 12,
        }
    );
}

#[test]
fn time_on_screen_adds_up_revisits() {
    // intro, q1, q2, back to q1 (answer changed), next to q2, review, complete at 40 s
    let visits = vec![
        visit("intro", 0, 5_000),
        visit("q1", 5_000, 12_000),
        visit("q2", 12_000, 15_000),
        visit("q1", 15_000, 20_000),
        visit("q2", 20_000, 26_000),
    ];
    let events = vec![
        event("q1", 10_000, choice("a")),
        event("q2", 14_000, Some(AnswerValue::Bool(false))),
        event("q1", 18_000, choice("c")),
    ];
    let paradata = Paradata::from_visits_and_events(&visits, &events, 40_000);
    assert_eq!(paradata.duration_ms, 40_000);
    assert_eq!(
        paradata.items,
        vec![
            ItemParadata {
                item_id: "intro".into(),
                ms_on_screen: 5_000,
                visits: 1,
                changes: 0,
            },
            ItemParadata {
                item_id: "q1".into(),
                ms_on_screen: 12_000,
                visits: 2,
                changes: 1,
            },
            ItemParadata {
                item_id: "q2".into(),
                ms_on_screen: 9_000,
                visits: 2,
                changes: 0,
            },
        ]
    );
    assert!(paradata.flags.is_empty());
    assert_eq!(paradata.location_start, None);

    // visits given out of order sum the same; a visit ending before it starts counts nothing;
    // the duration is at least the last recorded time
    let mut shuffled = visits.clone();
    shuffled.reverse();
    shuffled.push(visit("q2", 30_000, 29_000));
    let again = Paradata::from_visits_and_events(&shuffled, &events, 0);
    assert_eq!(again.duration_ms, 30_000);
    assert_eq!(again.item("q1"), paradata.item("q1"));
    assert_eq!(again.item("q2").unwrap().ms_on_screen, 9_000);
    assert_eq!(again.item("q2").unwrap().visits, 3);
    let order: Vec<&str> = again.items.iter().map(|i| i.item_id.as_str()).collect();
    assert_eq!(order, vec!["intro", "q1", "q2"], "in the order first shown");
}

#[test]
fn without_screen_visits_time_on_screen_is_estimated_from_answer_events() {
    let events = vec![
        event("q1", 4_000, choice("a")),
        event("q2", 9_000, choice("b")),
        event("q1", 15_000, choice("c")), // went back: 6 s more on q1
        event("q3", 16_500, choice("a")),
    ];
    let paradata = Paradata::from_visits_and_events(&[], &events, 20_000);
    let times: Vec<(&str, u64, u32)> = paradata
        .items
        .iter()
        .map(|i| (i.item_id.as_str(), i.ms_on_screen, i.visits))
        .collect();
    assert_eq!(
        times,
        vec![("q1", 10_000, 0), ("q2", 5_000, 0), ("q3", 1_500, 0)]
    );
    assert_eq!(paradata.duration_ms, 20_000);
    assert_eq!(paradata.total_changes(), 1);
}

#[test]
fn paradata_round_trips_through_json_in_a_stable_compact_shape() {
    let mut paradata = Paradata::from_visits_and_events(
        &[visit("q1", 0, 8_000)],
        &[event("q1", 6_000, choice("a"))],
        9_000,
    );
    paradata.flags = vec![
        QcFlag::TooFast {
            seconds_per_item: 1.5,
            minimum: 3.0,
            items: 40,
        },
        QcFlag::StraightLining {
            run: 9,
            position: 0,
            from_item: "law_basic_law".into(),
            items: 30,
            minimum: 8,
        },
        QcFlag::ManyChanges {
            changes: 12,
            maximum: 10,
        },
    ];
    let json = serde_json::to_string(&paradata).unwrap();
    assert_eq!(
        json,
        r#"{"duration_ms":9000,"items":[{"item_id":"q1","ms_on_screen":8000,"visits":1,"changes":0}],"flags":[{"kind":"too_fast","seconds_per_item":1.5,"minimum":3.0,"items":40},{"kind":"straight_lining","run":9,"position":0,"from_item":"law_basic_law","items":30,"minimum":8},{"kind":"many_changes","changes":12,"maximum":10}]}"#
    );
    assert_eq!(serde_json::from_str::<Paradata>(&json).unwrap(), paradata);

    paradata.location_start = Some(Location {
        latitude: 29.563_009,
        longitude: 106.551_556,
        accuracy_m: 12.5,
        at_ms: 300,
    });
    let json = serde_json::to_string(&paradata).unwrap();
    assert!(json.contains(
        r#""location_start":{"latitude":29.563009,"longitude":106.551556,"accuracy_m":12.5,"at_ms":300}"#
    ));
    assert!(!json.contains("location_end"));
    assert_eq!(serde_json::from_str::<Paradata>(&json).unwrap(), paradata);
}

#[test]
fn older_and_empty_payloads_still_parse() {
    assert_eq!(
        serde_json::from_str::<Paradata>("{}").unwrap(),
        Paradata::default()
    );
    let older: Paradata = serde_json::from_str(
        r#"{"duration_ms":61000,"items":[{"item_id":"q1"},{"item_id":"q2","ms_on_screen":700}],"some_newer_field":true}"#,
    )
    .unwrap();
    assert_eq!(older.duration_ms, 61_000);
    assert_eq!(
        older.items[1],
        ItemParadata {
            item_id: "q2".into(),
            ms_on_screen: 700,
            visits: 0,
            changes: 0,
        }
    );
    assert_eq!(older.items[0].ms_on_screen, 0);
    assert!(older.flags.is_empty() && older.location_end.is_none());

    assert_eq!(
        serde_json::from_str::<QcThresholds>("{}").unwrap(),
        QcThresholds::default()
    );
    let thresholds: QcThresholds = serde_json::from_str(r#"{"max_changes":3}"#).unwrap();
    assert_eq!(
        (
            thresholds.min_seconds_per_item,
            thresholds.straight_lining_run,
            thresholds.max_changes
        ),
        (3.0, 8, 3)
    );
    let event: AnswerEvent = serde_json::from_str(r#"{"item_id":"q1","elapsed_ms":5}"#).unwrap();
    assert_eq!(
        event.value, None,
        "a clearing event may leave out the value"
    );
    let event: AnswerEvent = serde_json::from_str(
        r#"{"item_id":"q1","elapsed_ms":5,"value":{"type":"choice","value":"a"}}"#,
    )
    .unwrap();
    assert_eq!(event.value, choice("a"));
}

#[test]
fn flags_describe_themselves_with_their_numbers_in_chinese_and_english() {
    let too_fast = QcFlag::TooFast {
        seconds_per_item: 1.234,
        minimum: 3.0,
        items: 40,
    };
    assert_eq!(
        too_fast.describe("zh-CN"),
        "答题太快：40 道题平均每题 1.2 秒（最少应为 3 秒）"
    );
    assert_eq!(
        too_fast.describe("en"),
        "Answered too fast: 1.2 seconds per question on average over 40 questions (at least 3 expected)"
    );
    let straight = QcFlag::StraightLining {
        run: 12,
        position: 0,
        from_item: "law_basic_law".into(),
        items: 30,
        minimum: 8,
    };
    let many = QcFlag::ManyChanges {
        changes: 14,
        maximum: 10,
    };
    for (flag, code, numbers) in [
        (&too_fast, "too_fast", &["40", "1.2", "3"][..]),
        (
            &straight,
            "straight_lining",
            &["12", "1", "8", "law_basic_law"][..],
        ),
        (&many, "many_changes", &["14", "10"][..]),
    ] {
        assert_eq!(flag.code(), code);
        let zh = flag.describe("zh-CN");
        let en = flag.describe("en-GB");
        assert_ne!(zh, en);
        assert!(
            zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{zh}"
        );
        assert!(
            en.is_ascii() && en.chars().next().unwrap().is_ascii_uppercase(),
            "{en}"
        );
        for number in numbers {
            assert!(zh.contains(number), "{zh} lacks {number}");
            assert!(en.contains(number), "{en} lacks {number}");
        }
        // an unknown language falls back to Chinese
        assert_eq!(flag.describe("fr"), zh);
        // the code is the serialised kind
        let json = serde_json::to_value(flag).unwrap();
        assert_eq!(json["kind"], code);
    }
    assert_eq!(
        straight.describe("zh-CN"),
        "连续 12 道题都选了第 1 个答案（从“law_basic_law”题开始；连续 8 道以上就提示）"
    );
    assert_eq!(many.describe("zh-CN"), "答案改了 14 次（超过 10 次）");
}

#[test]
fn distance_and_the_far_from_site_flag() {
    use zhisu_core::{distance_m, location_flag, Location, Paradata, QcFlag};
    // Chongqing Jiefangbei to Chaotianmen: about 1.6 km (measured on a map)
    let jiefangbei = (29.5579, 106.5770);
    let chaotianmen = (29.5657, 106.5905);
    let d = distance_m(jiefangbei, chaotianmen);
    assert!((1_500.0..1_700.0).contains(&d), "{d}");
    // one degree of latitude is about 111.2 km
    assert!((distance_m((29.0, 106.0), (30.0, 106.0)) - 111_195.0).abs() < 50.0);
    let at = |pos: (f64, f64), accuracy_m: f64| Location {
        latitude: pos.0,
        longitude: pos.1,
        accuracy_m,
        at_ms: 0,
    };
    let mut p = Paradata::default();
    assert_eq!(
        location_flag(&p, jiefangbei, 1_000.0),
        None,
        "no position, no flag"
    );
    p.location_start = Some(at(jiefangbei, 10.0));
    assert_eq!(location_flag(&p, jiefangbei, 1_000.0), None);
    p.location_end = Some(at(chaotianmen, 20.0));
    match location_flag(&p, jiefangbei, 1_000.0) {
        Some(QcFlag::FarFromSite {
            distance_m,
            allowed_m,
        }) => {
            assert!(
                (distance_m - (d - 20.0)).abs() < 1e-6,
                "accuracy given back"
            );
            assert_eq!(allowed_m, 1_000.0);
            let text = QcFlag::FarFromSite {
                distance_m,
                allowed_m,
            }
            .describe("zh-CN");
            let km = format!("{:.1}", distance_m / 1000.0);
            assert!(text.contains("公里") && text.contains(&km), "{text}");
        }
        other => panic!("expected far_from_site, got {other:?}"),
    }
    // a poor fix (accuracy 2 km) is not held against the surveyor
    p.location_end = Some(at(chaotianmen, 2_000.0));
    assert_eq!(location_flag(&p, jiefangbei, 1_000.0), None);
}
