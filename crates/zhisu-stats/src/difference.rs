//! The difference between two proportions from independent samples (two survey rounds), with
//! its 95 % interval: design-based (the difference of two independent design-based estimates)
//! or, for unweighted shares, Newcombe's hybrid score interval built from the two Wilson
//! intervals. Formulas and a hand-worked example in `docs/statistics.md` §8.

use serde::{Deserialize, Serialize};

use crate::tdist::t_quantile_975;
use crate::wilson::{wilson, Interval, Z95};

/// How a difference and its interval were estimated. Serialised in snake_case:
/// `"design_difference"`, `"unweighted_newcombe"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceMethod {
    /// [`design_difference`]: `se = √(se₁² + se₂²)`, `df = min(df₁, df₂)`, t interval.
    DesignDifference,
    /// [`newcombe_difference`]: Newcombe's (1998) hybrid score interval from two Wilson intervals.
    UnweightedNewcombe,
}

impl DifferenceMethod {
    /// The serialised name.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            DifferenceMethod::DesignDifference => "design_difference",
            DifferenceMethod::UnweightedNewcombe => "unweighted_newcombe",
        }
    }

    /// A one-line description: Chinese for a `lang` starting with `zh`, English otherwise.
    #[must_use]
    pub fn describe(&self, lang: &str) -> &'static str {
        let zh = lang
            .get(..2)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case("zh"));
        match (self, zh) {
            (DifferenceMethod::DesignDifference, true) => {
                "两轮独立样本的设计加权估计之差，se = √(se₁² + se₂²)，自由度取两者较小者，t 95% 置信区间"
            }
            (DifferenceMethod::DesignDifference, false) => {
                "difference of two independent design-based estimates, se = √(se₁² + se₂²), df = the smaller of the two, t 95 % interval"
            }
            (DifferenceMethod::UnweightedNewcombe, true) => {
                "两轮未加权比例之差，Newcombe 混合得分 95% 置信区间（由两个 Wilson 区间构成）"
            }
            (DifferenceMethod::UnweightedNewcombe, false) => {
                "difference of two unweighted proportions, Newcombe's hybrid score 95 % interval (from the two Wilson intervals)"
            }
        }
    }
}

/// A difference `p₁ − p₂` with its 95 % interval (bounds within `[−1, 1]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    pub difference: f64,
    pub interval: Interval,
    /// The standard error of the difference (design-based only).
    pub se: Option<f64>,
    /// The degrees of freedom of the t quantile (design-based only).
    pub df: Option<u64>,
    pub method: DifferenceMethod,
}

/// The difference of two independent design-based estimates `p₁` (se `se₁`, `df₁` degrees of
/// freedom) and `p₂`: `se = √(se₁² + se₂²)`, `df = min(df₁, df₂)`, interval
/// `p₁ − p₂ ± t_{0.975, df} · se`, clipped to `[−1, 1]`.
#[must_use]
pub fn design_difference(
    (p1, se1, df1): (f64, f64, u64),
    (p2, se2, df2): (f64, f64, u64),
) -> Difference {
    let d = p1 - p2;
    let se = (se1 * se1 + se2 * se2).sqrt();
    let df = df1.min(df2).max(1);
    let half = t_quantile_975(df) * se;
    Difference {
        difference: d,
        interval: Interval {
            low: (d - half).max(-1.0),
            high: (d + half).min(1.0),
        },
        se: Some(se),
        df: Some(df),
        method: DifferenceMethod::DesignDifference,
    }
}

/// Newcombe's (1998, method 10) hybrid score interval for `x₁/n₁ − x₂/n₂` from independent
/// samples, with `(l₁, u₁)` and `(l₂, u₂)` the Wilson 95 % intervals of the two proportions:
///
/// `L = d − √((p₁ − l₁)² + (u₂ − p₂)²)`, `U = d + √((u₁ − p₁)² + (p₂ − l₂)²)`.
///
/// `None` when either sample is empty.
#[must_use]
pub fn newcombe_difference((x1, n1): (u64, u64), (x2, n2): (u64, u64)) -> Option<Difference> {
    let w1 = wilson(x1, n1, Z95)?;
    let w2 = wilson(x2, n2, Z95)?;
    let p1 = x1.min(n1) as f64 / n1 as f64;
    let p2 = x2.min(n2) as f64 / n2 as f64;
    let d = p1 - p2;
    let low = d - ((p1 - w1.low).powi(2) + (w2.high - p2).powi(2)).sqrt();
    let high = d + ((w1.high - p1).powi(2) + (p2 - w2.low).powi(2)).sqrt();
    Some(Difference {
        difference: d,
        interval: Interval {
            low: low.max(-1.0),
            high: high.min(1.0),
        },
        se: None,
        df: None,
        method: DifferenceMethod::UnweightedNewcombe,
    })
}
