//! Repeat respondents (issue #15, intercept surveys at stations): nothing else stops a surveyor
//! from interviewing the same traveller twice on one day. Each interview keeps its respondent
//! fingerprint ([`Questionnaire::respondent_fingerprint`], the server's own function: a hash of
//! the background answers and the site, no names, no answers) and its local day, in the
//! `interview` row (migration 15), so both survive the sealing that deletes the answers. An
//! interview in progress asks whether another interview on this tablet, not discarded, has the
//! same fingerprint at the same site on the same local day.
//!
//! The local day is by the interview's own UTC offset: of its end once completed or closed, of
//! its start while in progress. An interview in progress keeps its fingerprint current as
//! fingerprint items are answered ([`DeviceStore::save_answer`]) and when it is checked.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection};
use uuid::Uuid;
use zhisu_core::{Answers, Questionnaire};

use crate::{
    parse_state, parse_timestamp, DeviceStore, InterviewState, RepeatCheck, RepeatMatch, StoreError,
};

/// `at` on a clock `offset_minutes` from UTC.
fn local(at: DateTime<Utc>, offset_minutes: i32) -> chrono::NaiveDateTime {
    at.naive_utc() + Duration::minutes(offset_minutes.into())
}

/// The day (`YYYY-MM-DD`) of `at` on a clock `offset_minutes` from UTC.
pub(crate) fn local_day(at: DateTime<Utc>, offset_minutes: i32) -> String {
    local(at, offset_minutes).format("%Y-%m-%d").to_string()
}

/// The fingerprint an ended interview keeps: the server's fact for the same answers (`None`
/// when no fingerprint item was answered).
pub(crate) fn ended_fingerprint(
    questionnaire: &Questionnaire,
    answers: &Answers,
    site_id: Option<&str>,
) -> Option<String> {
    Some(questionnaire.respondent_fingerprint(answers, site_id)).filter(|f| !f.is_empty())
}

/// Stores the fingerprint of an interview in progress with `answers` (`NULL` while not yet
/// known) and the local day it started; returns the fingerprint and the day.
pub(crate) fn keep_fingerprint_in_progress(
    conn: &Connection,
    questionnaire: &Questionnaire,
    interview_id: Uuid,
    answers: &Answers,
) -> Result<(Option<String>, String), StoreError> {
    let id = interview_id.to_string();
    let (started_at, offset, site_id): (String, i32, Option<String>) = conn.query_row(
        "SELECT started_at, utc_offset_minutes, site_id FROM interview WHERE id = ?1",
        [&id],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    let fingerprint = questionnaire.known_fingerprint(answers, site_id.as_deref());
    let day = local_day(parse_timestamp(&started_at)?, offset);
    conn.execute(
        "UPDATE interview SET fingerprint = ?2, local_day = ?3 WHERE id = ?1 AND state = 'in_progress'",
        params![id, fingerprint, day],
    )?;
    Ok((fingerprint, day))
}

impl DeviceStore {
    /// For interview `interview_id` in progress: whether another interview on this tablet (in
    /// progress, completed, waiting, sent, acknowledged or returned; not discarded) has the
    /// same respondent fingerprint at the same site on the same local day.
    /// [`RepeatCheck::NotYetKnown`] until every fingerprint item asked is answered. Stores the
    /// interview's fingerprint as it goes.
    pub fn repeat_respondent(
        &mut self,
        questionnaire: &Questionnaire,
        interview_id: Uuid,
    ) -> Result<RepeatCheck, StoreError> {
        let interview = self.open_interview(questionnaire, interview_id)?;
        let answers = self.answers(interview_id)?;
        let (fingerprint, day) =
            keep_fingerprint_in_progress(&self.conn, questionnaire, interview_id, &answers)?;
        let Some(fingerprint) = fingerprint else {
            return Ok(RepeatCheck::NotYetKnown);
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, state, coalesce(completed_at, started_at), utc_offset_minutes
             FROM interview INDEXED BY interview_fingerprint
             WHERE fingerprint = ?1 AND local_day = ?2 AND site_id IS ?3 AND id != ?4
               AND state != 'discarded'
               AND practice = (SELECT practice FROM interview WHERE id = ?4)
             ORDER BY coalesce(completed_at, started_at), id",
        )?;
        let rows = stmt.query_map(
            params![
                fingerprint,
                day,
                interview.site_id,
                interview_id.to_string()
            ],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i32>(3)?,
                ))
            },
        )?;
        let mut matches = Vec::new();
        for row in rows {
            let (id, state, at, offset) = row?;
            let at = parse_timestamp(&at)?;
            matches.push(RepeatMatch {
                interview_id: Uuid::parse_str(&id)
                    .map_err(|e| StoreError::Corrupt(format!("bad interview id '{id}': {e}")))?,
                state: parse_state(&state)?,
                at,
                local_time: local(at, offset).format("%H:%M").to_string(),
            });
        }
        debug_assert!(matches.iter().all(|m| m.state != InterviewState::Discarded));
        Ok(if matches.is_empty() {
            RepeatCheck::NoMatch
        } else {
            RepeatCheck::Match { matches }
        })
    }

    /// The fingerprint and local day an interview keeps (`None` while not known), for tests and
    /// support.
    pub fn kept_fingerprint(
        &self,
        interview_id: Uuid,
    ) -> Result<(Option<String>, Option<String>), StoreError> {
        Ok(self.conn.query_row(
            "SELECT fingerprint, local_day FROM interview WHERE id = ?1",
            [interview_id.to_string()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?)
    }
}
