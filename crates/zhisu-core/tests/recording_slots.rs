//! The places a recording can go: every item's question, then each of its answers (every
//! choice whatever the filter offers; `true` and `false` for a true/false item), in order.

use zhisu_core::{Questionnaire, RecordingSlot};

#[test]
fn every_question_and_answer_of_the_pilot_is_a_place_for_a_recording() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../questionnaires/pilot.toml"
    );
    let q =
        Questionnaire::from_toml("pilot.toml", &std::fs::read_to_string(path).unwrap()).unwrap();
    let slots: Vec<(String, String)> = q
        .recording_slots()
        .into_iter()
        .map(|RecordingSlot { item_id, option }| (item_id, option))
        .collect();
    let expected: Vec<(String, String)> = [
        ("age", ""),
        ("employer_duty", ""),
        ("employer_duty", "true"),
        ("employer_duty", "false"),
        ("noise", ""),
        ("noise", "earplugs"),
        ("noise", "cotton"),
        ("noise", "get_used"),
        ("confined_space", ""),
    ]
    .iter()
    .map(|(i, o)| (i.to_string(), o.to_string()))
    .collect();
    assert_eq!(slots[..expected.len()], expected[..]);
    assert!(slots[expected.len()..]
        .iter()
        .all(|(item, option)| item == "confined_space" && !option.is_empty()));
    for (item, option) in &slots {
        assert!(q.is_recording_slot(item, option), "{item} {option}");
    }
    for (item, option) in [
        ("age", "1"),
        ("employer_duty", "maybe"),
        ("noise", "true"),
        ("nothing", ""),
    ] {
        assert!(!q.is_recording_slot(item, option), "{item} {option}");
    }
}
