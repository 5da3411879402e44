//! Outreach (issue 24), as the server keeps it: the events district staff record (the "五进"
//! and stations), delivered to their district's tablets, and the quiz sessions tablets upload,
//! stored exactly once by id and content hash like interviews. Quiz sessions are not
//! interviews: nothing here is read by an estimate, a quota or progress.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zhisu_protocol::{OutreachEvent, QuizSession};

/// A quiz session accepted for storage, with where it is counted.
#[derive(Debug, Clone)]
pub struct AcceptedQuizSession {
    pub session: QuizSession,
    /// The district it is counted under: its event's, else its site's in the plan, else the
    /// uploading device's.
    pub district: Option<String>,
    /// The key population it is counted under: its event's, when the event names one (a quiz
    /// session asks nothing about the person).
    pub population: Option<String>,
}

/// A stored quiz session with the district and population it is counted under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredQuizSession {
    pub session: QuizSession,
    pub district: Option<String>,
    pub population: Option<String>,
    pub received_at: DateTime<Utc>,
}

/// What deleting an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventDeletion {
    /// Deleted, with its audit entry.
    Deleted,
    /// No event has that id.
    NotFound,
    /// Kept: this many quiz sessions were run at it (they would lose their event; change the
    /// event instead).
    HasSessions(u64),
}

/// A stored event with who entered it last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub event: OutreachEvent,
    pub entered_by: String,
    pub entered_at: DateTime<Utc>,
}
