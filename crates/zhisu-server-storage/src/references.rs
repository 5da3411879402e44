//! Reference levels and targets: figures from outside the survey (a target, the city's or the
//! nation's published level) that a city administrator enters per round, shown beside the
//! estimates and never mixed into them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a reference level is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceKind {
    /// A level to reach (目标).
    Target,
    /// The city's published level (全市水平).
    City,
    /// The national published level (全国水平).
    National,
    /// Anything else (其他).
    Other,
}

impl ReferenceKind {
    pub const ALL: [ReferenceKind; 4] = [
        ReferenceKind::Target,
        ReferenceKind::City,
        ReferenceKind::National,
        ReferenceKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReferenceKind::Target => "target",
            ReferenceKind::City => "city",
            ReferenceKind::National => "national",
            ReferenceKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One reference level as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceLevel {
    pub id: Uuid,
    /// The round it is entered for (the rounds devices are enrolled in, e.g. `2026`).
    pub round: String,
    pub questionnaire_id: String,
    /// What it is a level of: empty for overall literacy, else a dimension's id.
    #[serde(default)]
    pub measure: String,
    pub kind: ReferenceKind,
    /// The level, in percent (0–100).
    pub value_percent: f64,
    /// Where it comes from ("2022 年全国职业健康素养监测").
    pub source: String,
    /// The year the figure is of.
    pub year: i32,
    pub entered_by: String,
    pub entered_at: DateTime<Utc>,
}
