//! The questionnaires the app can run: those bundled with the app, those the server delivered
//! (kept in the store), and one given in `ZHISU_QUESTIONNAIRE`. Loaded once per version.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zhisu_app_api::{CommandError, ErrorCode, QuestionnaireSummary};
use zhisu_core::{compare_versions, BackgroundRole, Questionnaire, Text};
use zhisu_store::{DeviceStore, StoreError};

use crate::error::Failure;

/// The current versions, and the earlier versions they replaced (`questionnaires/earlier/`,
/// unchanged): an interview started with an earlier version before the app was updated is
/// resumed and completed with that version.
pub(crate) const BUNDLED: [(&str, &str); 6] = [
    (
        "ohl_2026.toml",
        include_str!("../../questionnaires/ohl_2026.toml"),
    ),
    (
        "ohl_intercept.toml",
        include_str!("../../questionnaires/ohl_intercept.toml"),
    ),
    (
        "pilot.toml",
        include_str!("../../questionnaires/pilot.toml"),
    ),
    (
        "earlier/ohl_2026-2026.1.toml",
        include_str!("../../questionnaires/earlier/ohl_2026-2026.1.toml"),
    ),
    (
        "earlier/ohl_intercept-2026.1.toml",
        include_str!("../../questionnaires/earlier/ohl_intercept-2026.1.toml"),
    ),
    (
        "earlier/ohl_intercept-2026.2.toml",
        include_str!("../../questionnaires/earlier/ohl_intercept-2026.2.toml"),
    ),
];

type Key = (String, String);

/// Lives on the database thread (see `db`), which hands it the store when it must look for
/// versions the server delivered.
pub struct Catalogue {
    loaded: BTreeMap<Key, Arc<Questionnaire>>,
    /// The folder of the questionnaire given in `ZHISU_QUESTIONNAIRE`: its recordings and
    /// pictures are found beside it.
    extra_dir: Option<(Key, PathBuf)>,
}

fn load(name: &str, source: &str) -> Result<Questionnaire, String> {
    Questionnaire::from_toml(name, source).map_err(|d| d.lines().to_string())
}

impl Catalogue {
    pub fn new(extra: Option<&Path>) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let mut loaded = BTreeMap::new();
        let mut add = |q: Questionnaire| {
            let key = (q.id.clone(), q.version.clone());
            loaded.insert(key.clone(), Arc::new(q));
            key
        };
        for (name, source) in BUNDLED {
            add(load(name, source)?);
        }
        let mut extra_dir = None;
        if let Some(path) = extra {
            let source = std::fs::read_to_string(path)?;
            let key = add(load(&path.display().to_string(), &source)?);
            let dir = path
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            extra_dir = Some((key, dir));
        }
        Ok(Catalogue { loaded, extra_dir })
    }

    /// Adds the versions the server delivered since the last look (only those are parsed).
    pub fn refresh(&mut self, store: &DeviceStore) -> Result<(), StoreError> {
        for r in store.questionnaire_refs()? {
            if let Entry::Vacant(slot) = self.loaded.entry((r.id, r.version)) {
                let (id, version) = slot.key();
                if let Some(q) = store.questionnaire(id, version)? {
                    slot.insert(Arc::new(q));
                }
            }
        }
        Ok(())
    }

    /// Questionnaire `id` `version`, bundled or delivered.
    pub fn get(
        &mut self,
        id: &str,
        version: &str,
        store: &DeviceStore,
    ) -> Result<Arc<Questionnaire>, Failure> {
        let key = (id.to_string(), version.to_string());
        if !self.loaded.contains_key(&key) {
            self.refresh(store)?;
        }
        self.loaded.get(&key).cloned().ok_or_else(|| {
            Failure::Command(CommandError::new(
                ErrorCode::UnknownQuestionnaire,
                format!("this device has no questionnaire {id} {version}"),
            ))
        })
    }

    /// Where the media files (recordings, pictures) of questionnaire `id` `version` are
    /// looked for, in order: beside the `ZHISU_QUESTIONNAIRE` file for that one, then
    /// `media_dirs` (the app's media folders).
    pub fn media_dirs(&self, id: &str, version: &str, media_dirs: &[PathBuf]) -> Vec<PathBuf> {
        self.extra_dir
            .iter()
            .filter(|((i, v), _)| i == id && v == version)
            .map(|(_, dir)| dir.clone())
            .chain(media_dirs.iter().cloned())
            .collect()
    }

    /// Every questionnaire on this device, the newest version of each id first.
    fn newest_first(&self) -> Vec<&Arc<Questionnaire>> {
        let mut all: Vec<&Arc<Questionnaire>> = self.loaded.values().collect();
        all.sort_by(|a, b| {
            a.id.cmp(&b.id)
                .then_with(|| compare_versions(&b.version, &a.version))
        });
        all
    }

    /// The item playing `role` in questionnaire `id` `version`, when it is loaded and has one.
    pub fn background_item(&self, id: &str, version: &str, role: BackgroundRole) -> Option<String> {
        let q = self.loaded.get(&(id.to_string(), version.to_string()))?;
        q.background_item(role).map(|item| item.id.clone())
    }

    /// The label of choice `key` of the item playing `role` (industry, ownership, …) in the
    /// questionnaires on this device, newest version first: the names the assignment's codes
    /// stand for.
    pub fn choice_label(&self, role: BackgroundRole, key: &str) -> Option<Text> {
        self.newest_first().into_iter().find_map(|q| {
            q.background_item(role)?
                .kind
                .choices()
                .iter()
                .find(|c| c.key == key)
                .map(|c| c.label.clone())
        })
    }

    /// The newest version of each questionnaire, by [`compare_versions`].
    pub fn latest(&self) -> Vec<QuestionnaireSummary> {
        let mut newest: Vec<&Arc<Questionnaire>> = self.newest_first();
        newest.dedup_by(|later, first| later.id == first.id);
        newest
            .into_iter()
            .map(|q| QuestionnaireSummary {
                id: q.id.clone(),
                version: q.version.clone(),
                title: q.title.clone(),
                items: q.items.len(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_version_is_found_by_number_not_by_text() {
        let mut catalogue = Catalogue::new(None).unwrap();
        let pilot = catalogue.loaded[&("ohl_pilot".to_string(), "2026.1".to_string())].clone();
        for version in ["2026.9", "2026.10", "2026.2"] {
            let mut q = (*pilot).clone();
            q.version = version.to_string();
            catalogue
                .loaded
                .insert((q.id.clone(), q.version.clone()), Arc::new(q));
        }
        let latest = catalogue.latest();
        let pilot = latest.iter().find(|q| q.id == "ohl_pilot").unwrap();
        assert_eq!(pilot.version, "2026.10");
        assert_eq!(latest.len(), 3, "one per questionnaire");
        assert_eq!(
            catalogue
                .choice_label(BackgroundRole::Industry, "construction")
                .map(|t| t.get("zh-CN", "zh-CN").to_string())
                .as_deref(),
            Some("建筑业")
        );
    }
}
