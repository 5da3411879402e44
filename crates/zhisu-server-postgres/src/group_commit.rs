//! Storing batches of interviews.

use super::*;

/// One batch as column arrays, for `unnest`.
#[derive(Default)]
pub(crate) struct BatchColumns {
    pub(crate) id: Vec<Uuid>,
    pub(crate) questionnaire_id: Vec<String>,
    pub(crate) questionnaire_version: Vec<String>,
    pub(crate) content_hash: Vec<String>,
    pub(crate) started_at: Vec<DateTime<Utc>>,
    pub(crate) completed_at: Vec<DateTime<Utc>>,
    pub(crate) utc_offset: Vec<i32>,
    pub(crate) payload: Vec<String>,
    pub(crate) score: Vec<i32>,
    pub(crate) max_score: Vec<i32>,
    pub(crate) has_literacy: Vec<bool>,
    pub(crate) score_report: Vec<String>,
    pub(crate) population: Vec<Option<String>>,
    pub(crate) site_id: Vec<Option<String>>,
    pub(crate) surveyor_id: Vec<Option<String>>,
    pub(crate) sex: Vec<Option<String>>,
    pub(crate) age: Vec<Option<i32>>,
    pub(crate) education: Vec<Option<String>>,
    pub(crate) industry: Vec<Option<String>>,
    pub(crate) dimension_literacy: Vec<i32>,
    pub(crate) items_correct: Vec<String>,
    pub(crate) duration_s: Vec<i32>,
    pub(crate) fingerprint: Vec<String>,
    pub(crate) qc_flags: Vec<String>,
    /// The district of the row's site in the plan when not the device's (`Accepted::site_district`).
    pub(crate) site_district: Vec<Option<String>>,
    /// `Facts::more`, one column per further breakdown.
    pub(crate) more: [Vec<Option<String>>; 5],
    pub(crate) modules: Vec<String>,
    pub(crate) measures: Vec<String>,
    pub(crate) consent: Vec<Option<bool>>,
    pub(crate) consent_text_version: Vec<Option<String>>,
}

impl BatchColumns {
    pub(crate) fn with_capacity(_n: usize) -> Self {
        Self::default()
    }

    pub(crate) fn push(&mut self, a: &Accepted) -> Result<(), StorageError> {
        let (i, f) = (&a.interview, &a.facts);
        let small = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
        self.id.push(i.id);
        self.site_district.push(a.site_district.clone());
        self.questionnaire_id.push(i.questionnaire_id.clone());
        self.questionnaire_version
            .push(i.questionnaire_version.clone());
        self.content_hash.push(i.content_hash.clone());
        self.started_at.push(i.started_at);
        self.completed_at.push(i.completed_at);
        self.utc_offset.push(i.utc_offset_minutes);
        self.payload
            .push(serde_json::to_string(i).map_err(corrupt)?);
        self.score.push(small(a.score.score.into()));
        self.max_score.push(small(a.score.max.into()));
        self.has_literacy.push(a.score.has_literacy);
        self.score_report
            .push(zhisu_server_storage::facts::stored_score_report(&a.score));
        self.population.push(f.population.clone());
        self.site_id.push(i.site_id.clone());
        self.surveyor_id.push(i.surveyor_id.clone());
        self.sex.push(f.sex.clone());
        self.age.push(f.age.map(small));
        self.education.push(f.education.clone());
        self.industry.push(f.industry.clone());
        self.dimension_literacy.push(small(f.dimension_literacy));
        self.items_correct.push(f.items_correct.clone());
        self.duration_s.push(small(f.duration_s));
        self.fingerprint.push(f.fingerprint.clone());
        self.qc_flags.push(f.qc_flags_json());
        for (column, key) in self.more.iter_mut().zip(&f.more) {
            column.push(key.clone());
        }
        self.modules.push(f.modules.clone());
        self.measures.push(f.measures.clone());
        self.consent.push(f.consent);
        self.consent_text_version
            .push(f.consent_text_version.clone());
        Ok(())
    }
}
