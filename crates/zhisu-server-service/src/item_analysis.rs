//! Item analysis of a round for questionnaire authors (the dashboard's "题目分析" page): per
//! scored item the share right, discrimination, the share choosing each option, Cronbach's alpha
//! per dimension and alpha if the item is deleted (`zhisu_stats::ItemAnalyser`), over the
//! viewer's interviews under the page's filter. `zhisu questionnaire analyse` computes the same
//! from an export.
//!
//! The columns are the newest version's scored items; every interview is scored with the version
//! it was answered with (`zhisu_core::Questionnaire::item_outcomes`) and its outcomes placed by
//! item id, so an item a version did not have counts as not asked.

use std::collections::HashMap;
use std::sync::Arc;

use zhisu_server_storage::{
    for_each_interview_page, Scope, Storage, StorageError, StoredInterview,
};
use zhisu_stats::{ItemAnalyser, ItemAnalysis, ItemColumn, Response};

use crate::analysis::Filter;
use crate::questionnaires::{Published, QuestionnaireRegistry};

/// The analysis with what a page needs to name things.
#[derive(Debug, Clone)]
pub struct ItemAnalysisReport {
    pub questionnaire_id: String,
    /// The version whose items are the columns (`None`: the server has no such questionnaire).
    pub version: Option<String>,
    pub analysis: ItemAnalysis,
    /// Per item (in the analysis's order): its label and (option key, label) pairs.
    pub item_labels: Vec<(String, Vec<(String, String)>)>,
    /// (group id, label): dimensions by their names, module sections by their titles.
    pub group_labels: Vec<(String, String)>,
}

fn columns(q: &zhisu_core::Questionnaire) -> Vec<ItemColumn> {
    q.scored_item_options()
        .into_iter()
        .map(|s| ItemColumn {
            id: s.id,
            group: s.group,
            options: s.options,
            keyed: s.keyed,
        })
        .collect()
}

fn option_label(
    q: &zhisu_core::Questionnaire,
    item: &zhisu_core::Item,
    key: &str,
    lang: &str,
) -> String {
    let zh = !lang.starts_with("en");
    match key {
        "true" if matches!(item.kind, zhisu_core::ItemKind::TrueFalse) => {
            (if zh { "对" } else { "true" }).into()
        }
        "false" if matches!(item.kind, zhisu_core::ItemKind::TrueFalse) => {
            (if zh { "错" } else { "false" }).into()
        }
        zhisu_core::DONT_KNOW_OPTION => (if zh { "不知道" } else { "don't know" }).into(),
        key => item
            .kind
            .choices()
            .iter()
            .find(|c| c.key == key)
            .map_or_else(
                || key.to_string(),
                |c| c.label.get(lang, &q.default_language).to_string(),
            ),
    }
}

/// A published version and, for each of its scored items, the analysis column it feeds.
type VersionColumns = (Arc<Published>, Vec<Option<usize>>);

/// The item analysis of one questionnaire, fed one stored interview at a time: what it keeps
/// is a few sums per item and option ([`ItemAnalyser`]), so a round of any size is analysed
/// with memory flat when the interviews are read page by page ([`item_analysis_of_store`]).
pub struct ItemAnalysisBuilder<'a> {
    registry: &'a QuestionnaireRegistry,
    questionnaire_id: &'a str,
    filter: &'a Filter,
    newest: Option<Arc<Published>>,
    position: HashMap<String, usize>,
    width: usize,
    analyser: ItemAnalyser,
    /// per version: the questionnaire and where each of its scored items goes
    versions: HashMap<String, Option<VersionColumns>>,
}

impl<'a> ItemAnalysisBuilder<'a> {
    pub fn new(
        registry: &'a QuestionnaireRegistry,
        questionnaire_id: &'a str,
        filter: &'a Filter,
    ) -> Self {
        let newest = registry.newest(questionnaire_id);
        let cols = newest
            .as_ref()
            .map(|n| columns(&n.questionnaire))
            .unwrap_or_default();
        let position = cols
            .iter()
            .enumerate()
            .map(|(n, c)| (c.id.clone(), n))
            .collect();
        ItemAnalysisBuilder {
            registry,
            questionnaire_id,
            filter,
            newest,
            position,
            width: cols.len(),
            analyser: ItemAnalyser::new(cols),
            versions: HashMap::new(),
        }
    }

    /// Counts `stored` when it is an interview of this questionnaire that passes the filter and
    /// was not rejected in review (as in every analysis).
    pub fn add(&mut self, stored: &StoredInterview) {
        let iv = &stored.interview;
        if self.newest.is_none()
            || iv.questionnaire_id != self.questionnaire_id
            || stored.qc_status.as_deref() == Some("rejected")
        {
            return;
        }
        let (registry, position, questionnaire_id) =
            (self.registry, &self.position, self.questionnaire_id);
        let entry = self
            .versions
            .entry(iv.questionnaire_version.clone())
            .or_insert_with(|| {
                let own = registry.get(questionnaire_id, &iv.questionnaire_version)?;
                let places = own
                    .questionnaire
                    .scored_item_options()
                    .iter()
                    .map(|s| position.get(&s.id).copied())
                    .collect();
                Some((own, places))
            });
        let Some((own, places)) = entry else { return };
        if !crate::export::matches(self.filter, stored, Some(&own.questionnaire)) {
            return;
        }
        let mut response = Response {
            scores: vec![None; self.width],
            chosen: vec![Vec::new(); self.width],
        };
        for ((score, chosen), place) in own
            .questionnaire
            .item_outcomes(&iv.answers)
            .into_iter()
            .zip(places.iter())
        {
            if let Some(p) = *place {
                response.scores[p] = score;
                response.chosen[p] = chosen;
            }
        }
        self.analyser.add(&response);
    }

    /// The analysis, its items and groups named in `lang`.
    pub fn finish(self, lang: &str) -> ItemAnalysisReport {
        let questionnaire_id = self.questionnaire_id.to_string();
        let Some(newest) = self.newest else {
            return ItemAnalysisReport {
                questionnaire_id,
                version: None,
                analysis: ItemAnalyser::new(Vec::new()).finish(),
                item_labels: Vec::new(),
                group_labels: Vec::new(),
            };
        };
        report(&newest.questionnaire, questionnaire_id, self.analyser, lang)
    }
}

/// The item analysis of `questionnaire_id` over `interviews` (already in the viewer's scope)
/// that pass `filter`.
pub fn item_analysis(
    registry: &QuestionnaireRegistry,
    interviews: &[StoredInterview],
    questionnaire_id: &str,
    filter: &Filter,
    lang: &str,
) -> ItemAnalysisReport {
    let mut builder = ItemAnalysisBuilder::new(registry, questionnaire_id, filter);
    for stored in interviews {
        builder.add(stored);
    }
    builder.finish(lang)
}

/// Interviews read at a time by [`item_analysis_of_store`].
pub const ITEM_ANALYSIS_PAGE: usize = 500;

/// The item analysis of every interview `scope` may read in `storage`, read `page` at a time
/// in order of receipt: a page of the dashboard over a million interviews holds one page of
/// them, not all (as [`item_analysis`] of a loaded list would).
pub fn item_analysis_of_store(
    storage: &dyn Storage,
    scope: &Scope,
    registry: &QuestionnaireRegistry,
    questionnaire_id: &str,
    filter: &Filter,
    lang: &str,
    page: usize,
) -> Result<ItemAnalysisReport, StorageError> {
    let mut builder = ItemAnalysisBuilder::new(registry, questionnaire_id, filter);
    for_each_interview_page(storage, scope, page, &mut |interviews| {
        interviews.iter().for_each(|stored| builder.add(stored));
        true
    })?;
    Ok(builder.finish(lang))
}

fn report(
    q: &zhisu_core::Questionnaire,
    questionnaire_id: String,
    analyser: ItemAnalyser,
    lang: &str,
) -> ItemAnalysisReport {
    let analysis = analyser.finish();
    let item_labels = analysis
        .items
        .iter()
        .map(|figures| {
            let item = q.item(&figures.id);
            let label = item.map_or_else(
                || figures.id.clone(),
                |i| i.label.get(lang, &q.default_language).to_string(),
            );
            let options = figures
                .options
                .iter()
                .map(|(key, _)| {
                    let text = item.map_or_else(|| key.clone(), |i| option_label(q, i, key, lang));
                    (key.clone(), text)
                })
                .collect();
            (label, options)
        })
        .collect();
    let group_labels = analysis
        .groups
        .iter()
        .map(|g| {
            let label = q
                .dimensions
                .iter()
                .find(|d| d.id == g.group)
                .map(|d| d.label.get(lang, &q.default_language).to_string())
                .or_else(|| {
                    q.sections
                        .iter()
                        .find(|s| s.id == g.group)
                        .map(|s| s.title.get(lang, &q.default_language).to_string())
                })
                .unwrap_or_else(|| g.group.clone());
            (g.group.clone(), label)
        })
        .collect();
    ItemAnalysisReport {
        questionnaire_id,
        version: Some(q.version.clone()),
        analysis,
        item_labels,
        group_labels,
    }
}
