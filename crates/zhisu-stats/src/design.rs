//! Design-based estimate of a (domain) proportion for a stratified cluster sample.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

use crate::tdist::t_quantile_975;
use crate::wilson::{Counts, Interval};

/// A design-based estimate of a (domain) proportion; see [`DesignAccumulator`] and
/// `docs/statistics.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesignEstimate {
    /// Weighted proportion `p = Σ w d y / Σ w d`.
    pub proportion: f64,
    /// Standard error: the square root of the linearised with-replacement variance.
    pub se: f64,
    /// `p ± t_{0.975, df} · se`, clipped to `[0, 1]`.
    pub interval: Interval,
    /// Degrees of freedom of the t quantile: `clusters − strata`, at least 1.
    pub df: u64,
    /// Design effect `v(p) / (p(1−p)/n)`; `None` when `p` is 0 or 1.
    pub deff: Option<f64>,
    /// Unweighted number of domain members (respondents in the domain).
    pub n: u64,
    /// Clusters holding at least one domain member.
    pub clusters: u64,
    /// Strata holding at least one domain member.
    pub strata: u64,
    /// Strata of the sample design with a single cluster (lonely PSU) that hold domain members;
    /// their variance contribution uses the "adjust" policy (see [`DesignAccumulator`]).
    pub singleton_strata: u64,
    /// `Σ w d`: the weighted domain size (estimated number of workers in the domain).
    pub weight_sum: f64,
}

/// Running totals of one cluster, over its domain members only.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct ClusterTotals {
    /// `Σ w d y`.
    wy: f64,
    /// `Σ w d`.
    w: f64,
    /// Domain members observed in the cluster.
    n: u64,
}

/// Accumulates a design-based estimate of one (domain) proportion in a single pass.
///
/// # Design
///
/// Strata (分层) and clusters (整群, the sampled enterprises / primary sampling units) are `u32` ids;
/// clusters are **nested in strata**: `(stratum, cluster)` is the cluster's identity, so the same
/// cluster id in two strata means two clusters. Weights (抽样权重) must be finite and positive.
///
/// # Estimator
///
/// `p = Σ w d y / Σ w d` (`d` = 1 for domain members, 0 otherwise) with the Taylor-linearised,
/// with-replacement (ultimate cluster) variance
/// `v(p) = Σ_h n_h/(n_h−1) Σ_i (z_hi − z̄_h)²`, `z_hi = Σ_{k∈hi} w_k d_k (y_k − p) / Σ w d`, where
/// `n_h` counts **every** cluster of stratum `h` in the sample, including clusters without domain
/// members (their `z_hi` is 0): domain estimation uses the full design, never a subset of it.
/// The interval is `p ± t_{0.975, df} · se` with `df = clusters − strata` (both counted over clusters
/// and strata holding domain members, like R survey's `degf()` of a subset design; at least 1),
/// clipped to `[0, 1]`.
///
/// **Lonely PSU (singleton stratum, 单 PSU 层)**: a stratum with a single cluster in the sample has
/// no within-stratum variance estimate. Policy "adjust", as R survey's
/// `options(survey.lonely.psu = "adjust")`: its `z` is centred at the grand mean of all `z_hi`
/// instead of the stratum mean, with no `n_h/(n_h−1)` factor. For a ratio the `z_hi` sum to 0, so the
/// stratum contributes `z_h1²`. Such strata holding domain members are counted in
/// [`DesignEstimate::singleton_strata`]. (A stratum with several clusters of which only one holds
/// domain members is not lonely: its other clusters contribute `z = 0`.)
///
/// # Feeding it: two equivalent ways
///
/// 1. **One accumulator sees the whole sample.** Call [`observe`](Self::observe) for every
///    interview of the sample with `in_domain` set accordingly; an observation outside the domain
///    only registers its cluster. Then [`estimate`](Self::estimate).
/// 2. **Many domains sharing one cluster registry** (cheaper for a dashboard with dozens of domains):
///    register every cluster of the sample once in a [`ClusterRegistry`] (or use an accumulator that
///    saw the whole sample, via `ClusterRegistry::from(&overall)`), feed each domain accumulator only
///    its own members (`observe(.., true, y)`), and call [`estimate_with`](Self::estimate_with).
///    [`register_cluster`](Self::register_cluster) registers one cluster in an accumulator directly.
///
/// An observation costs one hash lookup (none when it is in the same cluster as the previous one:
/// feed interviews grouped by cluster for speed) and allocates only when the cluster table grows.
/// Accumulators of disjoint parts of the sample combine with [`merge`](Self::merge).
///
/// ```
/// use zhisu_stats::DesignAccumulator;
/// let mut women = DesignAccumulator::new();
/// // (stratum, cluster, weight, woman?, knows?)
/// for &(h, c, w, d, y) in &[(1, 1, 2.0, true, true), (1, 2, 1.0, false, true),
///                            (1, 2, 1.0, true, false), (2, 1, 4.0, true, true),
///                            (2, 2, 1.5, true, false)] {
///     women.observe(h, c, w, d, y);
/// }
/// let e = women.estimate().unwrap();
/// assert_eq!((e.n, e.clusters, e.strata), (4, 4, 2));
/// assert!((e.proportion - 6.0 / 8.5).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Default)]
pub struct DesignAccumulator {
    /// Cluster key → position in `clusters`.
    index: FastMap<usize>,
    /// Every registered cluster with its domain totals, in registration order.
    clusters: Vec<(u64, ClusterTotals)>,
    /// The cluster of the previous lookup.
    last: Option<(u64, usize)>,
    /// Unweighted domain counts.
    counts: Counts,
}

impl DesignAccumulator {
    /// An empty accumulator.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty accumulator with room for `clusters` clusters.
    #[must_use]
    pub fn with_capacity(clusters: usize) -> Self {
        Self {
            index: FastMap::with_capacity_and_hasher(clusters, Default::default()),
            clusters: Vec::with_capacity(clusters),
            last: None,
            counts: Counts::new(),
        }
    }

    /// Adds one interview: its stratum, cluster and weight, whether the respondent is in the domain,
    /// and the outcome `y`. The cluster is registered as part of the sample even when `in_domain` is
    /// false (then `weight` and `y` are ignored).
    #[inline]
    pub fn observe(&mut self, stratum: u32, cluster: u32, weight: f64, in_domain: bool, y: bool) {
        let slot = self.slot(key(stratum, cluster));
        if in_domain {
            debug_assert!(
                weight.is_finite() && weight >= 0.0,
                "weight {weight} must be finite and positive"
            );
            let totals = &mut self.clusters[slot].1;
            totals.w += weight;
            if y {
                totals.wy += weight;
            }
            totals.n += 1;
            self.counts.add(y);
        }
    }

    /// Adds `n` domain members of one cluster who share a weight, `successes` of them with
    /// `y`: the same totals as `n` calls of [`observe`](Self::observe) (up to rounding: the
    /// weight is multiplied, not added `n` times). For reports built from stored counts per
    /// cluster instead of from each interview. Members and successes may come in separate
    /// calls (`n` = 0 adds successes only) as long as, in the end, no cluster has more
    /// successes than members. The cluster is registered either way.
    #[inline]
    pub fn observe_counts(
        &mut self,
        stratum: u32,
        cluster: u32,
        weight: f64,
        n: u64,
        successes: u64,
    ) {
        let slot = self.slot(key(stratum, cluster));
        if n == 0 && successes == 0 {
            return;
        }
        debug_assert!(
            weight.is_finite() && weight >= 0.0,
            "weight {weight} must be finite and positive"
        );
        let totals = &mut self.clusters[slot].1;
        totals.w += weight * n as f64;
        totals.wy += weight * successes as f64;
        totals.n += n;
        self.counts.n += n;
        self.counts.successes += successes;
    }

    /// Registers a cluster of the sample without any domain member (a no-op when it is known).
    #[inline]
    pub fn register_cluster(&mut self, stratum: u32, cluster: u32) {
        self.slot(key(stratum, cluster));
    }

    /// Adds the observations of `other` (another batch or thread over a disjoint part of the
    /// sample, for the same domain).
    pub fn merge(&mut self, other: &DesignAccumulator) {
        for &(k, ref t) in &other.clusters {
            let slot = self.slot(k);
            let mine = &mut self.clusters[slot].1;
            mine.wy += t.wy;
            mine.w += t.w;
            mine.n += t.n;
        }
        self.counts.merge(&other.counts);
    }

    /// Unweighted counts of the domain (respondents and successes), for the
    /// [`Method::UnweightedWilson`](crate::Method::UnweightedWilson) estimate of the same cell.
    #[must_use]
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Number of clusters registered (with or without domain members).
    #[must_use]
    pub fn registered_clusters(&self) -> usize {
        self.clusters.len()
    }

    /// The estimate over the clusters registered in this accumulator; `None` when the domain
    /// weight sum is 0 (no domain member, or only zero weights).
    #[must_use]
    pub fn estimate(&self) -> Option<DesignEstimate> {
        self.estimate_inner(None)
    }

    /// The estimate with the sample design made of the union of `design` and the clusters
    /// registered here: use it when this accumulator was fed only its domain members.
    #[must_use]
    pub fn estimate_with(&self, design: &ClusterRegistry) -> Option<DesignEstimate> {
        self.estimate_inner(Some(design))
    }

    #[inline]
    fn slot(&mut self, key: u64) -> usize {
        if let Some((last_key, slot)) = self.last {
            if last_key == key {
                return slot;
            }
        }
        let next = self.clusters.len();
        let slot = *self.index.entry(key).or_insert(next);
        if slot == next {
            self.clusters.push((key, ClusterTotals::default()));
        }
        self.last = Some((key, slot));
        slot
    }

    fn estimate_inner(&self, design: Option<&ClusterRegistry>) -> Option<DesignEstimate> {
        let (mut weight_sum, mut weighted_successes) = (0.0_f64, 0.0_f64);
        for (_, t) in &self.clusters {
            weight_sum += t.w;
            weighted_successes += t.wy;
        }
        if !(weight_sum > 0.0 && weight_sum.is_finite()) {
            return None;
        }
        let p = (weighted_successes / weight_sum).clamp(0.0, 1.0);

        // Every cluster of the sample, sorted: strata are contiguous runs.
        let mut keys: Vec<u64> = self.clusters.iter().map(|&(k, _)| k).collect();
        if let Some(design) = design {
            keys.extend(design.keys.iter().copied());
        }
        keys.sort_unstable();
        keys.dedup();

        // z of the clusters holding domain members, sorted the same way (a subset of `keys`).
        let mut z: Vec<(u64, f64)> = self
            .clusters
            .iter()
            .filter(|(_, t)| t.n > 0)
            .map(|&(k, t)| (k, (t.wy - p * t.w) / weight_sum))
            .collect();
        z.sort_unstable_by_key(|&(k, _)| k);

        let mut variance = 0.0_f64;
        let (mut strata, mut singleton_strata) = (0_u64, 0_u64);
        let (mut ki, mut zi) = (0, 0);
        while ki < keys.len() {
            let h = stratum_of(keys[ki]);
            let first = ki;
            while ki < keys.len() && stratum_of(keys[ki]) == h {
                ki += 1;
            }
            let n_h = ki - first;
            let z_first = zi;
            while zi < z.len() && stratum_of(z[zi].0) == h {
                zi += 1;
            }
            let domain = &z[z_first..zi];
            if domain.is_empty() {
                continue; // every z_hi is 0: no contribution
            }
            strata += 1;
            if n_h == 1 {
                // Lonely PSU, "adjust": centred at the grand mean of the z_hi, which is 0.
                singleton_strata += 1;
                variance += domain[0].1 * domain[0].1;
            } else {
                let n_hf = n_h as f64;
                let mean = domain.iter().map(|&(_, z)| z).sum::<f64>() / n_hf;
                let zeros = (n_h - domain.len()) as f64;
                let ss = domain
                    .iter()
                    .map(|&(_, z)| (z - mean) * (z - mean))
                    .sum::<f64>()
                    + zeros * mean * mean;
                variance += n_hf / (n_hf - 1.0) * ss;
            }
        }
        debug_assert_eq!(
            zi,
            z.len(),
            "every domain cluster lies in a registered stratum"
        );

        let clusters = z.len() as u64;
        let df = clusters.saturating_sub(strata).max(1);
        let se = variance.max(0.0).sqrt();
        let t = t_quantile_975(df);
        let n = self.counts.n;
        let deff = (p > 0.0 && p < 1.0 && n > 0).then(|| variance / (p * (1.0 - p) / n as f64));
        Some(DesignEstimate {
            proportion: p,
            se,
            interval: Interval {
                low: (p - t * se).max(0.0),
                high: (p + t * se).min(1.0),
            },
            df,
            deff,
            n,
            clusters,
            strata,
            singleton_strata,
            weight_sum,
        })
    }
}

/// The clusters of the sample design, shared by many domain accumulators
/// (see [`DesignAccumulator::estimate_with`]).
#[derive(Debug, Clone, Default)]
pub struct ClusterRegistry {
    keys: FastSet,
}

impl ClusterRegistry {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a cluster of the sample (a no-op when it is known).
    #[inline]
    pub fn register(&mut self, stratum: u32, cluster: u32) {
        self.keys.insert(key(stratum, cluster));
    }

    /// Adds the clusters of `other`.
    pub fn merge(&mut self, other: &ClusterRegistry) {
        self.keys.extend(other.keys.iter().copied());
    }

    /// Whether the cluster is registered.
    #[must_use]
    pub fn contains(&self, stratum: u32, cluster: u32) -> bool {
        self.keys.contains(&key(stratum, cluster))
    }

    /// Number of registered clusters.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no cluster is registered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The clusters registered in an accumulator (typically the "overall" one, fed the whole sample).
impl From<&DesignAccumulator> for ClusterRegistry {
    fn from(accumulator: &DesignAccumulator) -> Self {
        Self {
            keys: accumulator.clusters.iter().map(|&(k, _)| k).collect(),
        }
    }
}

#[inline]
fn key(stratum: u32, cluster: u32) -> u64 {
    (u64::from(stratum) << 32) | u64::from(cluster)
}

#[inline]
fn stratum_of(key: u64) -> u32 {
    (key >> 32) as u32
}

type FastMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;
type FastSet = HashSet<u64, BuildHasherDefault<KeyHasher>>;

/// A fast hasher for the `u64` cluster keys (SipHash is several times slower). The keys are ids the
/// server assigns, not attacker-chosen strings, so HashDoS resistance is not needed.
#[derive(Debug, Default, Clone, Copy)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = mix(self.0 ^ n);
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = mix(self.0 ^ u64::from(b));
        }
    }
}

/// SplitMix64's finaliser: every input bit affects every output bit.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_stratum_and_cluster_apart() {
        assert_eq!(stratum_of(key(7, u32::MAX)), 7);
        assert_ne!(key(1, 2), key(2, 1));
    }

    #[test]
    fn counts_per_cluster_give_the_estimate_of_the_interviews() {
        // (stratum, cluster, weight, members, successes); a cluster with no member registers it
        let cells = [
            (1, 1, 2.5, 7, 3),
            (1, 2, 1.0, 4, 4),
            (1, 3, 3.0, 0, 0),
            (2, 1, 0.5, 9, 2),
            (3, 1, 4.0, 5, 1),
        ];
        let (mut one_by_one, mut counted) = (DesignAccumulator::new(), DesignAccumulator::new());
        for &(h, c, w, n, s) in &cells {
            one_by_one.register_cluster(h, c);
            for i in 0..n {
                one_by_one.observe(h, c, w, true, i < s);
            }
            // successes first, members after: the order does not matter
            counted.observe_counts(h, c, w, 0, s);
            counted.observe_counts(h, c, w, n, 0);
        }
        let (a, b) = (one_by_one.estimate().unwrap(), counted.estimate().unwrap());
        assert_eq!(
            (a.n, a.clusters, a.strata, a.df),
            (b.n, b.clusters, b.strata, b.df)
        );
        assert_eq!(b.n, 25);
        for (x, y) in [
            (a.proportion, b.proportion),
            (a.se, b.se),
            (a.interval.low, b.interval.low),
            (a.interval.high, b.interval.high),
            (a.weight_sum, b.weight_sum),
        ] {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
        assert_eq!(counted.counts(), one_by_one.counts());
        assert_eq!(counted.registered_clusters(), 5);
    }

    #[test]
    fn repeated_and_interleaved_clusters_share_one_slot() {
        let mut acc = DesignAccumulator::new();
        for _ in 0..3 {
            acc.observe(1, 1, 1.0, true, true);
            acc.observe(1, 2, 1.0, false, true);
            acc.register_cluster(1, 1);
        }
        assert_eq!(acc.registered_clusters(), 2);
        assert_eq!(acc.clusters[0].1.n, 3);
        assert_eq!(acc.clusters[1].1.n, 0);
    }
}
