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

use zhisu_server_storage::StoredInterview;
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

/// The item analysis of `questionnaire_id` over `interviews` (already in the viewer's scope)
/// that pass `filter`.
pub fn item_analysis(
    registry: &QuestionnaireRegistry,
    interviews: &[StoredInterview],
    questionnaire_id: &str,
    filter: &Filter,
    lang: &str,
) -> ItemAnalysisReport {
    let newest = registry.newest(questionnaire_id);
    let Some(newest) = newest else {
        return ItemAnalysisReport {
            questionnaire_id: questionnaire_id.to_string(),
            version: None,
            analysis: ItemAnalyser::new(Vec::new()).finish(),
            item_labels: Vec::new(),
            group_labels: Vec::new(),
        };
    };
    let q = &newest.questionnaire;
    let cols = columns(q);
    let position: HashMap<String, usize> = cols
        .iter()
        .enumerate()
        .map(|(n, c)| (c.id.clone(), n))
        .collect();
    let width = cols.len();
    let mut analyser = ItemAnalyser::new(cols);
    // per version: the questionnaire and where each of its scored items goes
    let mut versions: HashMap<String, Option<(Arc<Published>, Vec<Option<usize>>)>> =
        HashMap::new();
    for stored in interviews
        .iter()
        .filter(|i| i.interview.questionnaire_id == questionnaire_id)
        // as every analysis: interviews rejected in review are left out
        .filter(|i| i.qc_status.as_deref() != Some("rejected"))
    {
        let iv = &stored.interview;
        let entry = versions
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
        let Some((own, places)) = entry else { continue };
        if !crate::export::matches(filter, stored, Some(&own.questionnaire)) {
            continue;
        }
        let mut response = Response {
            scores: vec![None; width],
            chosen: vec![Vec::new(); width],
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
        analyser.add(&response);
    }
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
        questionnaire_id: questionnaire_id.to_string(),
        version: Some(q.version.clone()),
        analysis,
        item_labels,
        group_labels,
    }
}
