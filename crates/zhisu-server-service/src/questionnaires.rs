//! The questionnaire versions the server scores and delivers: the files in the questionnaire
//! folder (for every round) and the versions administrators published for a round (kept in the
//! database). A published version never changes.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use anyhow::Context;
use zhisu_core::Questionnaire;
use zhisu_protocol::{sha256_hex, QuestionnaireDownload, QuestionnaireRef};

/// A questionnaire version: the validated model, the file it came from, and its round.
#[derive(Debug)]
pub struct Published {
    pub questionnaire: Questionnaire,
    pub source: String,
    pub hash: String,
    /// The monitoring round it was published for; `None` for the folder's files (every round).
    pub round: Option<String>,
}

pub use zhisu_server_storage::PublishedRecord;

/// What publishing a version did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishOutcome {
    Published(QuestionnaireRef),
    /// The same file was already published under this version: nothing changed.
    AlreadyPublished(QuestionnaireRef),
    /// Another file is published under this id and version; versions never change.
    VersionTaken,
}

/// The subfolder of the questionnaire folder that keeps the files of replaced versions.
pub const EARLIER_VERSIONS: &str = "earlier";

/// The `*.toml` files in `dir`, sorted.
fn toml_files(dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the questionnaire folder {}", dir.display()))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    Ok(paths)
}

#[derive(Debug, Default)]
pub struct QuestionnaireRegistry {
    by_version: RwLock<BTreeMap<(String, String), Arc<Published>>>,
}

impl QuestionnaireRegistry {
    /// Loads every `*.toml` file in `dir` and in its folder of earlier versions, `dir/earlier`
    /// (when there is one), where a version's file goes when a newer version replaces it, so
    /// interviews of the older version are still checked and scored against it. Any diagnostic
    /// in any file is an error listing them all.
    pub fn load_dir(dir: &Path) -> anyhow::Result<Self> {
        let mut paths = toml_files(dir)?;
        let earlier = dir.join(EARLIER_VERSIONS);
        if earlier.is_dir() {
            paths.extend(toml_files(&earlier)?);
        }
        let mut sources = Vec::new();
        for path in paths {
            let source = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            sources.push((path.display().to_string(), source));
        }
        Self::load_sources(sources.iter().map(|(n, s)| (n.as_str(), s.as_str())))
    }

    /// Loads questionnaire files given as (name, text): the files built into the server's
    /// binary, or those [`load_dir`](Self::load_dir) read. Any diagnostic in any file is an
    /// error listing them all.
    pub fn load_sources<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> anyhow::Result<Self> {
        let registry = QuestionnaireRegistry::default();
        let mut problems = String::new();
        for (name, source) in files {
            match Questionnaire::from_toml(name, source) {
                Ok(q) => registry.insert(q, source.to_string(), None),
                Err(diagnostics) => problems.push_str(&diagnostics.lines().to_string()),
            }
        }
        anyhow::ensure!(
            problems.is_empty(),
            "questionnaires with problems:\n{problems}"
        );
        Ok(registry)
    }

    /// Adds versions published earlier (from the database).
    pub fn add_published(&self, records: &[PublishedRecord]) -> anyhow::Result<()> {
        for record in records {
            let q = Questionnaire::from_toml(
                &format!("{}-{}", record.id, record.version),
                &record.source,
            )
            .map_err(|d| {
                anyhow::anyhow!(
                    "published questionnaire {} {} no longer loads:\n{}",
                    record.id,
                    record.version,
                    d.lines()
                )
            })?;
            if let Some(existing) = self.get(&record.id, &record.version) {
                anyhow::ensure!(
                    existing.hash == record.hash,
                    "questionnaire {} {} is published with other content than the file in the questionnaire folder",
                    record.id,
                    record.version
                );
                continue;
            }
            self.insert(q, record.source.clone(), Some(record.round.clone()));
        }
        Ok(())
    }

    pub fn insert(&self, questionnaire: Questionnaire, source: String, round: Option<String>) {
        let hash = sha256_hex(source.as_bytes());
        self.by_version
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                (questionnaire.id.clone(), questionnaire.version.clone()),
                Arc::new(Published {
                    questionnaire,
                    source,
                    hash,
                    round,
                }),
            );
    }

    /// The newest version of questionnaire `id` (versions in their numeric order:
    /// `2026.10` is newer than `2026.9`).
    pub fn newest(&self, id: &str) -> Option<Arc<Published>> {
        self.by_version
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|((qid, _), _)| qid == id)
            .max_by(|((_, a), _), ((_, b), _)| zhisu_core::compare_versions(a, b))
            .map(|(_, p)| Arc::clone(p))
    }

    pub fn get(&self, id: &str, version: &str) -> Option<Arc<Published>> {
        self.by_version
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(id.to_string(), version.to_string()))
            .cloned()
    }

    /// The versions a device of `round` receives: the folder's and those published for its round.
    pub fn refs_for(&self, round: Option<&str>) -> Vec<QuestionnaireRef> {
        self.by_version
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|p| p.round.is_none() || round.is_none() || p.round.as_deref() == round)
            .map(|p| QuestionnaireRef {
                id: p.questionnaire.id.clone(),
                version: p.questionnaire.version.clone(),
                hash: p.hash.clone(),
            })
            .collect()
    }

    /// Every version, whatever its round.
    pub fn refs(&self) -> Vec<QuestionnaireRef> {
        self.refs_for(None)
    }

    pub fn download(&self, id: &str, version: &str) -> Option<QuestionnaireDownload> {
        self.get(id, version).map(|p| QuestionnaireDownload {
            id: p.questionnaire.id.clone(),
            version: p.questionnaire.version.clone(),
            hash: p.hash.clone(),
            source: p.source.clone(),
        })
    }

    pub fn len(&self) -> usize {
        self.by_version
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A replaced version's file moves to `earlier/` unchanged: the server still scores its
    /// interviews against it (same content, same hash), and the folder's file is the newest.
    #[test]
    fn earlier_versions_load_beside_the_current_ones() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
        let registry = QuestionnaireRegistry::load_dir(&dir).unwrap();
        let mut earlier = 0;
        for entry in std::fs::read_dir(dir.join(EARLIER_VERSIONS)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            let q = Questionnaire::from_toml("earlier.toml", &source).unwrap();
            let published = registry.get(&q.id, &q.version).unwrap();
            assert_eq!(published.hash, sha256_hex(source.as_bytes()), "{path:?}");
            let newest = registry.newest(&q.id).unwrap();
            assert_eq!(
                zhisu_core::compare_versions(&newest.questionnaire.version, &q.version),
                std::cmp::Ordering::Greater,
                "{path:?}: the folder holds a newer version"
            );
            earlier += 1;
        }
        assert!(
            earlier >= 2,
            "the 2026.1 files of ohl_2026 and ohl_intercept"
        );
    }
}
