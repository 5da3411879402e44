//! `compare_versions` is a total order that compares numbers by value: property tests over
//! generated versions (numbers with and without leading zeros, text parts, empty parts).
use std::cmp::Ordering;

use proptest::prelude::*;
use zhisu_core::compare_versions;

fn part() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..30).prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        "0{1,2}[0-9]{1,3}",
        "[0-9]{20,30}",
        "[a-z0-9-]{0,3}",
    ]
}

fn version() -> impl Strategy<Value = String> {
    prop::collection::vec(part(), 1..5).prop_map(|parts| parts.join("."))
}

proptest! {
    #[test]
    fn equal_only_for_the_same_text_and_antisymmetric(a in version(), b in version()) {
        let ab = compare_versions(&a, &b);
        prop_assert_eq!(ab == Ordering::Equal, a == b);
        prop_assert_eq!(ab, compare_versions(&b, &a).reverse());
        prop_assert_eq!(compare_versions(&a, &a), Ordering::Equal);
    }

    #[test]
    fn transitive(a in version(), b in version(), c in version()) {
        let mut sorted = [a, b, c];
        sorted.sort_by(|x, y| compare_versions(x, y));
        let [x, y, z] = &sorted;
        prop_assert_ne!(compare_versions(x, y), Ordering::Greater);
        prop_assert_ne!(compare_versions(y, z), Ordering::Greater);
        prop_assert_ne!(compare_versions(x, z), Ordering::Greater, "{} {} {}", x, y, z);
    }

    #[test]
    fn numeric_versions_compare_by_value(
        a in prop::collection::vec(any::<u64>(), 1..4),
        b in prop::collection::vec(any::<u64>(), 1..4),
    ) {
        let text = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(".");
        prop_assert_eq!(compare_versions(&text(&a), &text(&b)), a.cmp(&b));
    }
}
