//! Paradata on the device: when each question screen was shown and left, on the interview's
//! monotonic clock (the one answer events use), summed up with `zhisu-core` at completion.

use rusqlite::OptionalExtension;
use rusqlite::{params, TransactionBehavior};
use uuid::Uuid;
use zhisu_core::{
    AnswerEvent, Location, Paradata, QcFlag, QcThresholds, Questionnaire, ScreenVisit,
};

use crate::{from_json, DeviceStore, InterviewState, LocationMoment, StoreError};

/// Rounds the floating-point numbers of the paradata to a few decimals (milliseconds of a
/// second; micro-degrees and decimetres for a location). The content hash is taken over the JSON
/// of the interview, and the server re-serialises what it parsed: a float with 16–17
/// significant digits does not always come back to the same bits through `serde_json`'s default
/// parser, which would make the server refuse the interview as changed. Short decimals do.
pub(crate) fn round_floats(paradata: &mut Paradata) {
    let round = |x: f64, scale: f64| (x * scale).round() / scale;
    for flag in &mut paradata.flags {
        if let QcFlag::TooFast {
            seconds_per_item,
            minimum,
            ..
        } = flag
        {
            *seconds_per_item = round(*seconds_per_item, 1000.0);
            *minimum = round(*minimum, 1000.0);
        }
    }
    for location in [&mut paradata.location_start, &mut paradata.location_end]
        .into_iter()
        .flatten()
    {
        location.latitude = round(location.latitude, 1e6);
        location.longitude = round(location.longitude, 1e6);
        location.accuracy_m = round(location.accuracy_m, 10.0);
    }
}

impl DeviceStore {
    /// Records where the tablet was (from the platform's location service, with its accuracy
    /// in metres) at the start or the end of an interview in progress, at the interview's
    /// monotonic time now. The first start fix is kept; a later end fix replaces an earlier one.
    /// A position that is not on Earth is refused.
    pub fn record_location(
        &mut self,
        interview_id: Uuid,
        moment: LocationMoment,
        latitude: f64,
        longitude: f64,
        accuracy_m: f64,
    ) -> Result<(), StoreError> {
        let on_earth = (-90.0..=90.0).contains(&latitude)
            && (-180.0..=180.0).contains(&longitude)
            && accuracy_m.is_finite()
            && accuracy_m >= 0.0;
        if !on_earth {
            return Err(StoreError::BadLocation(format!(
                "{latitude}, {longitude} (±{accuracy_m} m)"
            )));
        }
        let interview = self.interview(interview_id)?;
        if interview.state != InterviewState::InProgress {
            return Err(StoreError::NotInProgress {
                id: interview_id,
                state: interview.state,
            });
        }
        let at_ms = self.elapsed_ms(interview_id)?;
        let conflict = match moment {
            LocationMoment::Start => "DO NOTHING",
            LocationMoment::End => "DO UPDATE SET latitude = excluded.latitude, longitude = excluded.longitude, accuracy_m = excluded.accuracy_m, at_ms = excluded.at_ms",
        };
        self.conn.execute(
            &format!(
                "INSERT INTO interview_location (interview_id, moment, latitude, longitude, accuracy_m, at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (interview_id, moment) {conflict}"
            ),
            params![
                interview_id.to_string(),
                moment.as_str(),
                latitude,
                longitude,
                accuracy_m,
                at_ms
            ],
        )?;
        Ok(())
    }

    /// The start and end locations of an interview, when recorded.
    pub fn locations(
        &self,
        interview_id: Uuid,
    ) -> Result<(Option<Location>, Option<Location>), StoreError> {
        let get = |moment: LocationMoment| -> Result<Option<Location>, StoreError> {
            Ok(self
                .conn
                .query_row(
                    "SELECT latitude, longitude, accuracy_m, at_ms FROM interview_location
                     WHERE interview_id = ?1 AND moment = ?2",
                    params![interview_id.to_string(), moment.as_str()],
                    |r| {
                        Ok(Location {
                            latitude: r.get(0)?,
                            longitude: r.get(1)?,
                            accuracy_m: r.get(2)?,
                            at_ms: r.get::<_, i64>(3)?.max(0) as u64,
                        })
                    },
                )
                .optional()?)
        };
        Ok((get(LocationMoment::Start)?, get(LocationMoment::End)?))
    }

    /// The surveyor's screen changed: the screen shown until now (if any) is left, and item
    /// `item_id`'s screen is shown (`None`: a screen that is not a question, such as the review).
    /// Only for an interview in progress.
    pub fn screen_shown(
        &mut self,
        interview_id: Uuid,
        item_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let interview = self.interview(interview_id)?;
        if interview.state != InterviewState::InProgress {
            return Err(StoreError::NotInProgress {
                id: interview_id,
                state: interview.state,
            });
        }
        let now = self.elapsed_ms(interview_id)?;
        let id = interview_id.to_string();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE screen_visit SET left_ms = max(shown_ms, ?2) WHERE interview_id = ?1 AND left_ms IS NULL",
            params![id, now],
        )?;
        if let Some(item_id) = item_id {
            tx.execute(
                "INSERT INTO screen_visit (interview_id, item_id, shown_ms) VALUES (?1, ?2, ?3)",
                params![id, item_id, now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Closes a visit still open (at completion).
    pub(crate) fn close_screen_visits(&mut self, interview_id: Uuid) -> Result<(), StoreError> {
        let now = self.elapsed_ms(interview_id)?;
        self.conn.execute(
            "UPDATE screen_visit SET left_ms = max(shown_ms, ?2) WHERE interview_id = ?1 AND left_ms IS NULL",
            params![interview_id.to_string(), now],
        )?;
        Ok(())
    }

    /// The screen visits of an interview in order. A visit still open (the screen on show, or
    /// the one the app died on) ends at the latest time known for the interview.
    pub fn screen_visits(&mut self, interview_id: Uuid) -> Result<Vec<ScreenVisit>, StoreError> {
        let now = self.elapsed_ms(interview_id)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT item_id, shown_ms, left_ms FROM screen_visit WHERE interview_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([interview_id.to_string()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, Option<i64>>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (item_id, shown, left) = row?;
            let shown = shown.max(0) as u64;
            Ok(ScreenVisit {
                item_id,
                shown_ms: shown,
                left_ms: left
                    .map_or(now.max(0) as u64, |l| l.max(0) as u64)
                    .max(shown),
            })
        })
        .collect()
    }

    /// Every answer change of an interview, with its monotonic time (0 for changes recorded
    /// before the time was kept).
    pub fn answer_events(&self, interview_id: Uuid) -> Result<Vec<AnswerEvent>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT item_id, coalesce(elapsed_ms, 0), new_value FROM answer_event WHERE interview_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([interview_id.to_string()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (item_id, elapsed, value) = row?;
            Ok(AnswerEvent {
                item_id,
                elapsed_ms: elapsed.max(0) as u64,
                value: Some(from_json(&value)?),
            })
        })
        .collect()
    }

    /// The paradata of an interview up to now, with its quality flags under `thresholds`
    /// (the answers that count, as they would be sent). What completion seals, and what the
    /// surveyor is warned about before completing.
    pub fn paradata(
        &mut self,
        questionnaire: &Questionnaire,
        interview_id: Uuid,
        thresholds: &QcThresholds,
    ) -> Result<Paradata, StoreError> {
        let visits = self.screen_visits(interview_id)?;
        let events = self.answer_events(interview_id)?;
        let total_ms = self.elapsed_ms(interview_id)?.max(0) as u64;
        let mut paradata = Paradata::from_visits_and_events(&visits, &events, total_ms);
        (paradata.location_start, paradata.location_end) = self.locations(interview_id)?;
        let answers = questionnaire.effective_answers(&self.answers(interview_id)?);
        paradata.flags = zhisu_core::qc_flags(questionnaire, &answers, &paradata, thresholds);
        round_floats(&mut paradata);
        Ok(paradata)
    }
}
