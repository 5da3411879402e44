//! Expected values are worked out independently: by hand (in the comments and in
//! docs/statistics.md), from published tables (Newcombe 1998; Student t tables), or with exact
//! fractions by tests/fixtures/hand_worked.py (run once by hand; these tests do not call it).

use zhisu_stats::{
    is_reliable, t_quantile_975, wilson, ClusterRegistry, Counts, DesignAccumulator,
    DesignEstimate, Method, DEFAULT_MIN_CELL_N, Z95, Z_FALLBACK_DF,
};

#[track_caller]
fn close(actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual} differs from {expected} by more than {tolerance}"
    );
}

// ------------------------------------------------------------------------------------ Wilson

#[test]
fn wilson_matches_newcombe_1998_table() {
    // Newcombe (1998), Statistics in Medicine 17:857-872, table I, method 3 (score interval).
    for (x, n, low, high) in [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ] {
        let ci = wilson(x, n, Z95).unwrap();
        close(ci.low, low, 5e-5);
        close(ci.high, high, 5e-5);
    }
}

#[test]
fn wilson_hand_worked() {
    // 5/10: centre = (0.5 + z²/20)/(1 + z²/10) = 0.5; half = z/(1 + z²/10)·√(0.025 + z²/400)
    //       = 1.959964/1.384146 · √0.034604 = 0.263407.
    let ci = wilson(5, 10, Z95).unwrap();
    close(ci.low, 0.236593, 5e-6);
    close(ci.high, 0.763407, 5e-6);
    // 0/10: low is exactly 0, high = (z²/20 + z²/20)/(1 + z²/10) = z²/10 / (1 + z²/10) = 0.277533.
    let ci = wilson(0, 10, Z95).unwrap();
    assert_eq!(ci.low, 0.0);
    close(ci.high, 0.277533, 5e-6);
    // 10/10 mirrors 0/10.
    let ci = wilson(10, 10, Z95).unwrap();
    close(ci.low, 0.722467, 5e-6);
    assert_eq!(ci.high, 1.0);
    assert_eq!(wilson(0, 0, Z95), None);
}

#[test]
fn counts_accumulate_merge_and_estimate() {
    assert_eq!(Counts::new().estimate(), None);
    let mut a = Counts::new();
    let mut b = Counts::default();
    for i in 0..6 {
        a.add(i % 2 == 0);
        b.add(i < 2);
    }
    a.merge(&b);
    assert_eq!(
        a,
        Counts {
            n: 12,
            successes: 5
        }
    );
    let e = a.estimate().unwrap();
    assert_eq!((e.n, e.successes), (12, 5));
    close(e.proportion, 5.0 / 12.0, 1e-15);
    assert_eq!(e.interval, wilson(5, 12, Z95).unwrap());
}

// ------------------------------------------------------------------------------------ Student t

#[test]
fn t_quantiles_match_tables() {
    // Printed tables (3 decimals).
    for (df, t) in [
        (1, 12.706),
        (2, 4.303),
        (5, 2.571),
        (10, 2.228),
        (30, 2.042),
        (120, 1.980),
    ] {
        close(t_quantile_975(df), t, 5e-4);
    }
    // 6 decimals, by bisection on the integrated t density (tests/fixtures/hand_worked.py).
    for (df, t) in [
        (1, 12.706205),
        (2, 4.302653),
        (3, 3.182446),
        (4, 2.776445),
        (5, 2.570582),
        (10, 2.228139),
        (30, 2.042272),
        (60, 2.000298),
        (120, 1.979930),
        (1000, 1.962339),
    ] {
        close(t_quantile_975(df), t, 1e-4);
    }
    assert_eq!(t_quantile_975(0), t_quantile_975(1));
    assert_eq!(t_quantile_975(Z_FALLBACK_DF), Z95);
}

#[test]
fn t_quantiles_decrease_towards_z() {
    let mut previous = f64::INFINITY;
    let mut df = 1;
    while df <= 4 * Z_FALLBACK_DF {
        let t = t_quantile_975(df);
        assert!(t <= previous && t >= Z95, "t({df}) = {t} after {previous}");
        previous = t;
        df = if df < 200 { df + 1 } else { df + df / 7 };
    }
    close(t_quantile_975(Z_FALLBACK_DF - 1), Z95, 1e-5);
}

// ------------------------------------------------------------------------------------ design

/// The sample of docs/statistics.md: (stratum, cluster, weight, knows, woman).
const PEOPLE: [(u32, u32, f64, bool, bool); 13] = [
    (1, 1, 2.0, true, true),
    (1, 1, 2.0, true, false),
    (1, 1, 2.0, true, true),
    (1, 2, 1.0, false, false),
    (1, 2, 1.0, true, false),
    (1, 3, 3.0, false, true),
    (1, 3, 3.0, false, true),
    (1, 3, 3.0, true, false),
    (2, 1, 4.0, true, true),
    (2, 1, 4.0, true, false),
    (2, 2, 1.5, false, true),
    (2, 2, 1.5, true, true),
    (2, 2, 1.5, false, false),
];

fn overall() -> DesignEstimate {
    let mut acc = DesignAccumulator::new();
    for &(h, c, w, y, _) in &PEOPLE {
        acc.observe(h, c, w, true, y);
    }
    acc.estimate().unwrap()
}

#[test]
fn design_hand_worked_overall() {
    // docs/statistics.md, "Worked example": p = 19.5/29.5 = 39/59,
    // z (×3481) = 240, −38, −348 | 320, −174; v = 259564/12117361 + 244036/12117361.
    let e = overall();
    close(e.proportion, 39.0 / 59.0, 1e-15);
    close(e.weight_sum, 29.5, 1e-12);
    close(e.se * e.se, 503_600.0 / 12_117_361.0, 1e-15);
    close(e.se, 0.203_863_200_2, 1e-10);
    assert_eq!(
        (e.n, e.clusters, e.strata, e.df, e.singleton_strata),
        (13, 5, 2, 3, 0)
    );
    // p − t(3)·se = 0.66102 − 3.18245 × 0.20386 = 0.01223; the upper bound 1.31 is clipped.
    close(e.interval.low, 0.012_233_260_8, 5e-5);
    assert_eq!(e.interval.high, 1.0);
    // deff = v / (p(1−p)/13)
    close(e.deff.unwrap(), 2.411_184_525_5, 1e-9);
}

#[test]
fn domain_keeps_clusters_without_members() {
    // Women: cluster (1,2) has none, yet stratum 1 keeps n_h = 3.
    // p = 9.5/17 = 19/34; z (×289) = 30, 0, −57 | 30, −3; v = 5859/83521 + 1089/83521.
    let mut domain = DesignAccumulator::new();
    for &(h, c, w, y, woman) in &PEOPLE {
        domain.observe(h, c, w, woman, y);
    }
    let e = domain.estimate().unwrap();
    close(e.proportion, 19.0 / 34.0, 1e-15);
    close(e.weight_sum, 17.0, 1e-12);
    close(e.se * e.se, 6948.0 / 83521.0, 1e-15);
    assert_eq!((e.n, e.clusters, e.strata, e.df), (7, 4, 2, 2));
    assert_eq!(e.interval.low, 0.0); // 0.5588 − 4.3027 × 0.2884 < 0
    assert_eq!(e.interval.high, 1.0);
    close(e.deff.unwrap(), 2.361_974_139_5, 1e-9);
    assert_eq!(domain.counts(), Counts { n: 7, successes: 4 });

    // Fed the women's records alone (a subset, not a domain), cluster (1,2) is lost:
    // stratum 1 then has n_h = 2 and v = 7569/83521 + 1089/83521 — the wrong answer.
    let mut subset = DesignAccumulator::new();
    for &(h, c, w, y, woman) in &PEOPLE {
        if woman {
            subset.observe(h, c, w, true, y);
        }
    }
    let wrong = subset.estimate().unwrap();
    close(wrong.se * wrong.se, 8658.0 / 83521.0, 1e-15);

    // ... and is right again once the design's clusters are supplied.
    let mut design = ClusterRegistry::new();
    for &(h, c, ..) in &PEOPLE {
        design.register(h, c);
    }
    assert_eq!(design.len(), 5);
    assert_eq!(subset.estimate_with(&design), Some(e.clone()));
    subset.register_cluster(1, 2);
    assert_eq!(subset.estimate(), Some(e));
}

#[test]
fn domain_minimal_by_hand() {
    // One stratum, three clusters; domain members: (w 1, y 1) in cluster 1, (w 1, y 0) in
    // cluster 2; cluster 3 only has a non-member. p = 1/2, W = 2, z = 0.25, −0.25, 0, mean 0:
    // v = 3/2 · 0.125 = 0.1875 (and 2 · 0.125 = 0.25 if cluster 3 were forgotten).
    let mut acc = DesignAccumulator::new();
    acc.observe(1, 1, 1.0, true, true);
    acc.observe(1, 2, 1.0, true, false);
    acc.observe(1, 3, 5.0, false, true);
    let e = acc.estimate().unwrap();
    close(e.proportion, 0.5, 1e-15);
    close(e.se * e.se, 0.1875, 1e-15);
    assert_eq!((e.clusters, e.strata, e.df), (2, 1, 1));
    // deff = 0.1875 / (0.25 / 2)
    close(e.deff.unwrap(), 1.5, 1e-12);
}

#[test]
fn singleton_stratum_uses_adjust_policy() {
    // The overall sample plus stratum 3 with one cluster of two people (w 2.5, y 1 and 0).
    // p = 22/34.5 = 44/69; stratum 3 contributes z² = (−95/4761)², not n_h/(n_h−1)·0.
    let mut acc = DesignAccumulator::new();
    for &(h, c, w, y, _) in &PEOPLE {
        acc.observe(h, c, w, true, y);
    }
    acc.observe(3, 1, 2.5, true, true);
    acc.observe(3, 1, 2.5, true, false);
    let e = acc.estimate().unwrap();
    close(e.proportion, 44.0 / 69.0, 1e-15);
    close(e.se * e.se, 233_570.0 / 7_555_707.0, 1e-15);
    assert_eq!(
        (e.n, e.clusters, e.strata, e.df, e.singleton_strata),
        (15, 6, 3, 3, 1)
    );
    close(e.interval.low, 0.078_139_970_7, 5e-5);
    close(e.deff.unwrap(), 2.006_959_958_8, 1e-9);

    // A lonely stratum without domain members contributes nothing and is not counted.
    let mut acc = DesignAccumulator::new();
    for &(h, c, w, y, _) in &PEOPLE {
        acc.observe(h, c, w, true, y);
    }
    acc.observe(3, 1, 2.5, false, true);
    let f = acc.estimate().unwrap();
    assert_eq!(f, overall());
    assert_eq!(f.singleton_strata, 0);
}

#[test]
fn equal_weights_one_person_per_cluster_is_srs_with_n_minus_1() {
    // One stratum, n clusters of one person, equal weights w: z_i = (y_i − p)/n, z̄ = 0, so
    // v = n/(n−1) · Σ (y_i − p)²/n² = n/(n−1) · n p(1−p)/n² = p(1−p)/(n−1); deff = n/(n−1).
    let n = 50_u32;
    let successes = 18;
    let mut acc = DesignAccumulator::new();
    for i in 0..n {
        acc.observe(7, i, 3.7, true, i < successes);
    }
    let e = acc.estimate().unwrap();
    let p = f64::from(successes) / f64::from(n);
    close(e.proportion, p, 1e-15);
    close(e.se, (p * (1.0 - p) / f64::from(n - 1)).sqrt(), 1e-14);
    close(e.deff.unwrap(), f64::from(n) / f64::from(n - 1), 1e-12);
    assert_eq!((e.clusters, e.strata, e.df), (50, 1, 49));
    let t = t_quantile_975(49);
    close(e.interval.low, p - t * e.se, 1e-15);
    close(e.interval.high, p + t * e.se, 1e-15);
}

#[test]
fn estimate_is_none_without_domain_weight() {
    assert_eq!(DesignAccumulator::new().estimate(), None);
    let mut acc = DesignAccumulator::new();
    acc.observe(1, 1, 2.0, false, true);
    assert_eq!(acc.estimate(), None);
    acc.observe(1, 1, 0.0, true, true);
    assert_eq!(acc.estimate(), None);
}

#[test]
fn certain_outcome_has_zero_se_and_no_deff() {
    let mut acc = DesignAccumulator::new();
    for c in 0..4 {
        acc.observe(1, c, 1.0 + f64::from(c), true, true);
    }
    let e = acc.estimate().unwrap();
    assert_eq!((e.proportion, e.se, e.deff), (1.0, 0.0, None));
    assert_eq!((e.interval.low, e.interval.high), (1.0, 1.0));
}

/// A deterministic pseudo-random sample: (stratum, cluster, weight, in_domain, y).
fn synthetic(len: usize) -> Vec<(u32, u32, f64, bool, bool)> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..len)
        .map(|_| {
            let r = next();
            let stratum = (r % 5) as u32;
            // stratum 4 has a single cluster
            let cluster = if stratum == 4 {
                0
            } else {
                ((r >> 8) % 9) as u32
            };
            let weight = 0.5 + ((r >> 16) % 40) as f64 / 8.0;
            let in_domain = (r >> 24) % 3 != 0;
            let y = (r >> 32) % 100 < 40 + 5 * u64::from(stratum) + u64::from(cluster);
            (stratum, cluster, weight, in_domain, y)
        })
        .collect()
}

fn assert_same(a: &DesignEstimate, b: &DesignEstimate) {
    close(a.proportion, b.proportion, 1e-12);
    close(a.se, b.se, 1e-12);
    close(a.interval.low, b.interval.low, 1e-12);
    close(a.interval.high, b.interval.high, 1e-12);
    close(a.deff.unwrap(), b.deff.unwrap(), 1e-9);
    close(a.weight_sum, b.weight_sum, 1e-9);
    assert_eq!(
        (a.df, a.n, a.clusters, a.strata, a.singleton_strata),
        (b.df, b.n, b.clusters, b.strata, b.singleton_strata)
    );
}

#[test]
fn merge_equals_single_pass() {
    let sample = synthetic(5000);
    let mut single = DesignAccumulator::new();
    for &(h, c, w, d, y) in &sample {
        single.observe(h, c, w, d, y);
    }
    let expected = single.estimate().unwrap();
    assert_eq!(expected.singleton_strata, 1);

    let mut merged = DesignAccumulator::with_capacity(8);
    for chunk in sample.chunks(777) {
        let mut part = DesignAccumulator::new();
        for &(h, c, w, d, y) in chunk {
            part.observe(h, c, w, d, y);
        }
        merged.merge(&part);
    }
    assert_same(&merged.estimate().unwrap(), &expected);
    assert_eq!(merged.counts(), single.counts());
    assert_eq!(merged.registered_clusters(), single.registered_clusters());
}

#[test]
fn shared_registry_equals_feeding_every_observation() {
    let sample = synthetic(3000);
    let mut every = DesignAccumulator::new();
    let mut members_only = DesignAccumulator::new();
    let mut overall = DesignAccumulator::new();
    let (mut left, mut right) = (ClusterRegistry::new(), ClusterRegistry::new());
    for (i, &(h, c, w, d, y)) in sample.iter().enumerate() {
        every.observe(h, c, w, d, y);
        overall.observe(h, c, w, true, y);
        if d {
            members_only.observe(h, c, w, true, y);
        }
        if i % 2 == 0 { &mut left } else { &mut right }.register(h, c);
    }
    left.merge(&right);
    let expected = every.estimate().unwrap();
    assert_same(&members_only.estimate_with(&left).unwrap(), &expected);
    assert_same(
        &members_only
            .estimate_with(&ClusterRegistry::from(&overall))
            .unwrap(),
        &expected,
    );
    assert!(left.contains(4, 0) && !left.contains(4, 1));
}

// ------------------------------------------------------------------------------------ misc

#[test]
fn methods_serialise_in_snake_case_and_describe_themselves() {
    assert_eq!(
        serde_json::to_string(&Method::ALL).unwrap(),
        r#"["unweighted_wilson","design_taylor"]"#
    );
    for method in Method::ALL {
        assert_eq!(
            serde_json::to_string(&method).unwrap(),
            format!("\"{}\"", method.as_str())
        );
    }
    assert_eq!(
        Method::UnweightedWilson.describe("zh-CN"),
        "未加权比例，Wilson 95% 置信区间"
    );
    assert_eq!(
        Method::DesignTaylor.describe("zh"),
        "分层整群抽样设计加权估计，Taylor 线性化 95% 置信区间"
    );
    assert_eq!(
        Method::UnweightedWilson.describe("en"),
        "Unweighted proportion, Wilson score 95 % interval"
    );
    assert_eq!(
        Method::DesignTaylor.describe("fr"),
        "Design-based (stratified cluster, weighted) estimate, Taylor linearisation 95 % interval"
    );
}

#[test]
fn estimate_serialises_with_documented_field_names() {
    let json = serde_json::to_value(overall()).unwrap();
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "clusters",
            "deff",
            "df",
            "interval",
            "n",
            "proportion",
            "se",
            "singleton_strata",
            "strata",
            "weight_sum"
        ]
    );
}

#[test]
fn small_cell_rule() {
    assert_eq!(DEFAULT_MIN_CELL_N, 30);
    assert!(!is_reliable(29, DEFAULT_MIN_CELL_N));
    assert!(is_reliable(30, DEFAULT_MIN_CELL_N));
}

// ------------------------------------------------------------------ differences of two rounds

#[test]
fn newcombe_difference_matches_newcombe_1998_table() {
    use zhisu_stats::{newcombe_difference, DifferenceMethod};
    // Newcombe (1998), "Interval estimation for the difference between independent
    // proportions", Statistics in Medicine 17:873-890, table II, method 10 (hybrid score).
    for ((x1, n1), (x2, n2), low, high) in [
        ((56, 70), (48, 80), 0.0524, 0.3339),
        ((9, 10), (3, 10), 0.1705, 0.8090),
        ((6, 7), (2, 7), 0.0582, 0.8062),
        ((5, 56), (0, 29), -0.0381, 0.1926),
        ((0, 10), (0, 20), -0.1611, 0.2775),
        ((10, 10), (0, 20), 0.6791, 1.0),
    ] {
        let d = newcombe_difference((x1, n1), (x2, n2)).unwrap();
        close(
            d.difference,
            x1 as f64 / n1 as f64 - x2 as f64 / n2 as f64,
            1e-12,
        );
        close(d.interval.low, low, 5e-5);
        close(d.interval.high, high, 5e-5);
        assert_eq!(d.method, DifferenceMethod::UnweightedNewcombe);
        assert_eq!((d.se, d.df), (None, None));
    }
    assert!(newcombe_difference((0, 0), (1, 2)).is_none());
}

#[test]
fn newcombe_difference_hand_worked() {
    // docs/statistics.md §8.2: 56/70 against 48/80. Wilson: 0.8 in [0.691834, 0.876953],
    // 0.6 in [0.490455, 0.700382]; d = 0.2;
    // L = 0.2 − √(0.108166² + 0.100382²) = 0.2 − 0.147569 = 0.052431,
    // U = 0.2 + √(0.076953² + 0.109545²) = 0.2 + 0.133873 = 0.333873.
    let d = zhisu_stats::newcombe_difference((56, 70), (48, 80)).unwrap();
    close(d.interval.low, 0.052431, 2e-6);
    close(d.interval.high, 0.333873, 2e-6);
}

#[test]
fn design_difference_hand_worked() {
    use zhisu_stats::{design_difference, DifferenceMethod};
    // docs/statistics.md §8.1: 0.52 (se 0.03, df 40) against 0.45 (se 0.04, df 25):
    // d = 0.07, se = √(0.0009 + 0.0016) = 0.05, df = 25, t = 2.0595,
    // 0.07 ± 2.0595 · 0.05 = [−0.0330, 0.1730].
    let d = design_difference((0.52, 0.03, 40), (0.45, 0.04, 25));
    close(d.difference, 0.07, 1e-12);
    close(d.se.unwrap(), 0.05, 1e-12);
    assert_eq!(d.df, Some(25));
    close(d.interval.low, -0.032977, 5e-5);
    close(d.interval.high, 0.172977, 5e-5);
    assert_eq!(d.method, DifferenceMethod::DesignDifference);
    // the same with the rounds swapped: the difference changes sign, the interval mirrors
    let back = design_difference((0.45, 0.04, 25), (0.52, 0.03, 40));
    close(back.interval.low, -d.interval.high, 1e-12);
    close(back.interval.high, -d.interval.low, 1e-12);
    // clipped to [−1, 1]
    let wide = design_difference((1.0, 0.4, 1), (0.0, 0.4, 3));
    assert_eq!(wide.interval.high, 1.0);
    assert_eq!(wide.df, Some(1));
}

// ------------------------------------------------------------------------- fieldwork rates

#[test]
fn fieldwork_rates_hand_worked() {
    // docs/statistics.md §10.1: I = 40, P = 5, R = 30, NE = 15, O = 10.
    let counts = zhisu_stats::DispositionCounts {
        completed: 40,
        partial: 5,
        refused: 30,
        not_eligible: 15,
        other: 10,
    };
    assert_eq!(counts.total(), 100);
    let rates = counts.rates();
    close(rates.rr1.unwrap(), 40.0 / 85.0, 1e-12);
    close(rates.rr2.unwrap(), 45.0 / 85.0, 1e-12);
    close(rates.coop3.unwrap(), 40.0 / 75.0, 1e-12);
    close(rates.ref1.unwrap(), 30.0 / 85.0, 1e-12);
    close(rates.con1.unwrap(), 75.0 / 85.0, 1e-12);
    close(rates.eligibility.unwrap(), 45.0 / 60.0, 1e-12);
    // each line of the document's example, as the rates print
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/statistics.md"),
    )
    .unwrap();
    let example = &doc[doc.find("### 10.1").expect("the worked example")..];
    for (name, fraction, rate) in [
        ("RR1", "40/85", rates.rr1),
        ("RR2", "45/85", rates.rr2),
        ("COOP3", "40/75", rates.coop3),
        ("REF1", "30/85", rates.ref1),
        ("CON1", "75/85", rates.con1),
        ("e", "45/60", rates.eligibility),
    ] {
        let line = format!("- {name} = {fraction} = {:.1} %", rate.unwrap() * 100.0);
        assert!(example.contains(&line), "the document lacks `{line}`");
    }
    // nothing to divide by: no rate
    let none = zhisu_stats::DispositionCounts::default().rates();
    assert_eq!(none.rr1, None);
    assert_eq!(none.eligibility, None);
}
