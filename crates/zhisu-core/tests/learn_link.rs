//! The take-home link (`zhisu_core::learn_link`) over the shipped questionnaires: the link for
//! any set of wrong items reads back to exactly those scored items, carries nothing but the
//! questionnaire, its version and positions, and reading any text never panics.
use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use zhisu_core::learn_link::{
    LearnLink, LearnLinkError, MAX_LEARN_KEY_CHARS, MAX_LEARN_LINK_CHARS,
};
use zhisu_core::Questionnaire;

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/learn_link.txt"
);

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(cases),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        ..ProptestConfig::default()
    }
}

fn ohl_2026() -> &'static Questionnaire {
    static LOADED: std::sync::OnceLock<Questionnaire> = std::sync::OnceLock::new();
    LOADED.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../questionnaires/ohl_2026.toml"
        );
        let source = std::fs::read_to_string(path).unwrap();
        Questionnaire::from_toml("ohl_2026.toml", &source).unwrap()
    })
}

#[test]
fn the_bundled_questionnaire_fits_in_a_small_code() {
    let q = ohl_2026();
    let scored: Vec<&str> = q.scored_items().map(|i| i.id.as_str()).collect();
    assert!(scored.len() >= 30, "{}", scored.len());
    assert!(scored.len() <= MAX_LEARN_KEY_CHARS * 6);
    // every item wrong: still a short link
    let link = LearnLink::for_items(q, scored.iter().copied()).unwrap();
    let path = link.to_path();
    assert!(path.len() < 60, "{path}");
    assert!(path.starts_with(&format!("/learn/{}/{}?k=", q.id, q.version)));
    // no item id, answer or anything but the points is in it
    for id in &scored {
        assert!(!path.contains(id), "{path} names {id}");
    }
    // items that are not scored (background, unknown) are left out; none at all: no link
    let unscored = q.items.iter().find(|i| i.scoring.is_none()).unwrap();
    assert_eq!(
        LearnLink::for_items(q, [unscored.id.as_str(), "no_such_item"]),
        None
    );
    let one = LearnLink::for_items(q, [scored[3], unscored.id.as_str()]).unwrap();
    assert_eq!(one.points, vec![3]);
    let items = LearnLink::parse(&one.to_path()).unwrap().items(q).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].id, scored[3]);
}

#[test]
fn a_point_past_the_versions_items_or_another_version_is_refused() {
    let q = ohl_2026();
    let count = q.scored_items().count();
    let past = LearnLink {
        questionnaire_id: q.id.clone(),
        version: q.version.clone(),
        points: vec![0, count],
    };
    assert_eq!(
        past.items(q),
        Err(LearnLinkError::UnknownPoint { position: count })
    );
    let other = LearnLink {
        version: "1999.1".into(),
        points: vec![0],
        ..past
    };
    assert_eq!(other.items(q), Err(LearnLinkError::OtherQuestionnaire));
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_set_of_wrong_items_reads_back_exactly(picks in proptest::collection::vec(any::<proptest::sample::Index>(), 0..60)) {
        let q = ohl_2026();
        let scored: Vec<&str> = q.scored_items().map(|i| i.id.as_str()).collect();
        let wrong: BTreeSet<&str> = picks.iter().map(|p| *p.get(&scored)).collect();
        match LearnLink::for_items(q, wrong.iter().copied()) {
            None => prop_assert!(wrong.is_empty()),
            Some(link) => {
                let path = link.to_path();
                prop_assert!(path.len() <= MAX_LEARN_LINK_CHARS);
                let read = LearnLink::parse(&path).unwrap();
                prop_assert_eq!(&read, &link);
                let items: BTreeSet<&str> = read.items(q).unwrap().iter().map(|i| i.id.as_str()).collect();
                prop_assert_eq!(items, wrong);
            }
        }
    }

    #[test]
    fn reading_any_text_never_panics(text in ".{0,200}", tail in "[A-Za-z0-9_=&?/%.-]{0,80}") {
        let q = ohl_2026();
        for candidate in [text.clone(), format!("/learn/{text}"), format!("/learn/ohl_2026/2026.2?k={tail}"), format!("/learn/{tail}")] {
            if let Ok(link) = LearnLink::parse(&candidate) {
                prop_assert!(!link.points.is_empty());
                prop_assert!(link.points.windows(2).all(|w| w[0] < w[1]));
                let _ = link.items(q);
            }
        }
    }
}
