//! The estimation methods, as reported next to every published figure.

use serde::{Deserialize, Serialize};

/// How a proportion and its interval were estimated. Serialised in snake_case:
/// `"unweighted_wilson"`, `"design_taylor"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// [`crate::Counts`] / [`crate::Unweighted`]: sample proportion, Wilson score 95 % interval.
    UnweightedWilson,
    /// [`crate::DesignAccumulator`] / [`crate::DesignEstimate`]: weighted ratio estimator for the
    /// stratified cluster design, Taylor linearisation, Student t 95 % interval.
    DesignTaylor,
}

impl Method {
    /// Every method, in a stable order.
    pub const ALL: [Method; 2] = [Method::UnweightedWilson, Method::DesignTaylor];

    /// The serialised name (`"unweighted_wilson"`, `"design_taylor"`).
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Method::UnweightedWilson => "unweighted_wilson",
            Method::DesignTaylor => "design_taylor",
        }
    }

    /// A one-line human description: Chinese for a `lang` starting with `zh` (`zh`, `zh-CN`,
    /// `zh-Hans`…, case-insensitive), English otherwise.
    #[must_use]
    pub fn describe(&self, lang: &str) -> &'static str {
        let zh = lang
            .get(..2)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case("zh"));
        match (self, zh) {
            (Method::UnweightedWilson, true) => "未加权比例，Wilson 95% 置信区间",
            (Method::UnweightedWilson, false) => "Unweighted proportion, Wilson score 95 % interval",
            (Method::DesignTaylor, true) => "分层整群抽样设计加权估计，Taylor 线性化 95% 置信区间",
            (Method::DesignTaylor, false) => {
                "Design-based (stratified cluster, weighted) estimate, Taylor linearisation 95 % interval"
            }
        }
    }
}
