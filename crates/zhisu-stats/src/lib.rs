//! Survey estimation for Zhisu: proportions with 95 % confidence intervals.
//!
//! Two methods (see [`Method`] and `docs/statistics.md` for the formulas and a hand-worked example):
//!
//! - **Unweighted** ([`Counts`] → [`Unweighted`]): the sample proportion with a Wilson score interval
//!   ([`wilson`]). What local reports and intercept surveys (no frame, no weights) use.
//! - **Design-based** ([`DesignAccumulator`] → [`DesignEstimate`]): the weighted ratio estimator for a
//!   stratified cluster sample (enterprises are the clusters), with a Taylor-linearisation,
//!   with-replacement ("ultimate cluster") variance and a Student t interval ([`t_quantile_975`]).
//!   Domain estimates (a population, a district, an industry…) use the full design.
//! - **Differences** between two independent samples (two survey rounds, [`Difference`]):
//!   [`design_difference`] of two design-based estimates, or Newcombe's hybrid score interval
//!   ([`newcombe_difference`]) of two unweighted proportions.
//!
//! And **item analysis** for questionnaire authors ([`ItemAnalyser`] → [`ItemAnalysis`]): difficulty,
//! corrected item–total correlation, option shares, Cronbach's alpha and alpha if item deleted.
//!
//! Architecture invariant: this crate does no I/O, reads no clock and draws no random numbers; its only
//! dependency is `serde`. Accumulators are built for a single pass over a million interviews: an
//! observation costs one hash lookup at most (none when consecutive observations share a cluster) and no
//! allocation beyond the growth of the per-cluster table.
#![forbid(unsafe_code)]

mod design;
mod difference;
mod items;
mod method;
mod rates;
mod tdist;
mod wilson;

pub use design::{ClusterRegistry, DesignAccumulator, DesignEstimate};
pub use difference::{design_difference, newcombe_difference, Difference, DifferenceMethod};
pub use items::{
    thresholds as item_thresholds, GroupFigures, ItemAnalyser, ItemAnalysis, ItemColumn,
    ItemFigures, ItemFlag, Response,
};
pub use method::Method;
pub use rates::{DispositionCounts, OutcomeRates};
pub use tdist::{t_quantile_975, Z_FALLBACK_DF};
pub use wilson::{wilson, Counts, Interval, Unweighted, Z95};

/// Default minimum unweighted sample size of a reliable cell (小样本单元): the dashboard marks a
/// cell with `n` below the (configurable) minimum as unreliable but still shows it.
pub const DEFAULT_MIN_CELL_N: u64 = 30;

/// Whether a cell of unweighted sample size `n` is reliable under the minimum `min_n`
/// (`n >= min_n`); see [`DEFAULT_MIN_CELL_N`].
#[must_use]
pub fn is_reliable(n: u64, min_n: u64) -> bool {
    n >= min_n
}
