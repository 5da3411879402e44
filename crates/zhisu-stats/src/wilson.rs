//! Unweighted proportions and the Wilson score interval.

use serde::{Deserialize, Serialize};

/// The 0.975 quantile of the standard normal distribution: the `z` of a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A confidence interval for a proportion, both bounds within `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// Wilson (1927) score interval for `successes` out of `n` at normal quantile `z`
/// (use [`Z95`] for 95 %). `None` when `n == 0`.
///
/// `centre = (p + z²/2n) / (1 + z²/n)`, `half = z / (1 + z²/n) · √(p(1−p)/n + z²/4n²)`, with
/// `p = successes / n`. The bounds are exactly 0 when `successes == 0` and exactly 1 when
/// `successes == n`. `successes` greater than `n` is a caller bug; it is clamped to `n`.
#[must_use]
pub fn wilson(successes: u64, n: u64, z: f64) -> Option<Interval> {
    if n == 0 {
        return None;
    }
    debug_assert!(successes <= n, "wilson: successes {successes} > n {n}");
    let successes = successes.min(n);
    let nf = n as f64;
    let p = successes as f64 / nf;
    let z2 = z * z;
    let denom = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denom;
    let half = z / denom * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    let low = if successes == 0 {
        0.0
    } else {
        (centre - half).clamp(0.0, 1.0)
    };
    let high = if successes == n {
        1.0
    } else {
        (centre + half).clamp(0.0, 1.0)
    };
    Some(Interval { low, high })
}

/// Unweighted estimate of a proportion: the sample proportion with a Wilson 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Unweighted {
    /// Respondents in the cell.
    pub n: u64,
    /// Respondents with the outcome (e.g. "has basic occupational health literacy").
    pub successes: u64,
    /// `successes / n`.
    pub proportion: f64,
    /// Wilson score interval at [`Z95`].
    pub interval: Interval,
}

/// Accumulator for an [`Unweighted`] estimate: respondents and successes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub n: u64,
    pub successes: u64,
}

impl Counts {
    /// An empty accumulator.
    #[must_use]
    pub const fn new() -> Self {
        Self { n: 0, successes: 0 }
    }

    /// Adds one respondent whose outcome is `success`.
    #[inline]
    pub fn add(&mut self, success: bool) {
        self.n += 1;
        self.successes += u64::from(success);
    }

    /// Adds another accumulator (e.g. from another thread or batch).
    pub fn merge(&mut self, other: &Counts) {
        self.n += other.n;
        self.successes += other.successes;
    }

    /// The estimate, `None` when no respondent was added.
    #[must_use]
    pub fn estimate(&self) -> Option<Unweighted> {
        let interval = wilson(self.successes, self.n, Z95)?;
        Some(Unweighted {
            n: self.n,
            successes: self.successes,
            proportion: self.successes as f64 / self.n as f64,
            interval,
        })
    }
}
