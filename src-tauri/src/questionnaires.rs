//! The questionnaires the app can run: those bundled with the app, those the server delivered
//! (kept in the store), and one given in `ZHISU_QUESTIONNAIRE`. Loaded once per version.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use zhisu_core::Questionnaire;
use zhisu_store::DeviceStore;

use crate::CommandError;

const BUNDLED: [(&str, &str); 3] = [
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
];

type Key = (String, String);

pub struct Catalogue {
    loaded: Mutex<BTreeMap<Key, Arc<Questionnaire>>>,
    /// The folder of the questionnaire given in `ZHISU_QUESTIONNAIRE`: its recordings and
    /// pictures are found beside it.
    extra_dir: Option<(Key, PathBuf)>,
}

/// What the home screen shows for a questionnaire.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionnaireSummary {
    pub id: String,
    pub version: String,
    pub title: zhisu_core::Text,
    pub items: usize,
}

fn load(name: &str, source: &str) -> Result<Questionnaire, String> {
    Questionnaire::from_toml(name, source).map_err(|d| d.lines().to_string())
}

impl Catalogue {
    pub fn new(extra: Option<&Path>) -> Result<Self, Box<dyn std::error::Error>> {
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
        Ok(Catalogue {
            loaded: Mutex::new(loaded),
            extra_dir,
        })
    }

    /// Adds the versions the server delivered since the last look (only those are parsed).
    fn refresh(&self, store: &Mutex<DeviceStore>) -> Result<(), CommandError> {
        let store = store.lock().unwrap_or_else(|p| p.into_inner());
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        for r in store.questionnaire_refs()? {
            if let std::collections::btree_map::Entry::Vacant(slot) =
                loaded.entry((r.id, r.version))
            {
                let (id, version) = slot.key();
                if let Some(q) = store.questionnaire(id, version)? {
                    slot.insert(Arc::new(q));
                }
            }
        }
        Ok(())
    }

    pub fn get(
        &self,
        id: &str,
        version: &str,
        store: &Mutex<DeviceStore>,
    ) -> Result<Arc<Questionnaire>, CommandError> {
        let key = (id.to_string(), version.to_string());
        if let Some(q) = self
            .loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(Arc::clone(q));
        }
        self.refresh(store)?;
        self.loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned()
            .ok_or_else(|| CommandError {
                code: "unknown_questionnaire".into(),
                message: format!("this device has no questionnaire {id} {version}"),
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

    /// The label of choice `key` of item `item_id` (`industry`, `ownership`, …) in the
    /// questionnaires on this device, newest version first: the names the assignment's codes
    /// stand for.
    pub fn choice_label(&self, item_id: &str, key: &str) -> Option<zhisu_core::Text> {
        let loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        loaded.values().rev().find_map(|q| {
            q.item(item_id)?
                .kind
                .choices()
                .iter()
                .find(|c| c.key == key)
                .map(|c| c.label.clone())
        })
    }

    /// The newest version of each questionnaire (versions compare as text: "2026.2" > "2026.1").
    pub fn latest(
        &self,
        store: &Mutex<DeviceStore>,
    ) -> Result<Vec<QuestionnaireSummary>, CommandError> {
        self.refresh(store)?;
        let loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        let mut newest: BTreeMap<&str, &Arc<Questionnaire>> = BTreeMap::new();
        for ((id, _), q) in loaded.iter() {
            newest.insert(id, q); // keys are sorted by version within an id: the last wins
        }
        Ok(newest
            .values()
            .map(|q| QuestionnaireSummary {
                id: q.id.clone(),
                version: q.version.clone(),
                title: q.title.clone(),
                items: q.items.len(),
            })
            .collect())
    }
}
