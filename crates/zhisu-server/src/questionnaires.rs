use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use zhisu_core::Questionnaire;
use zhisu_protocol::{sha256_hex, QuestionnaireDownload, QuestionnaireRef};

/// A questionnaire version: the validated model and the file it came from.
#[derive(Debug)]
pub struct Published {
    pub questionnaire: Questionnaire,
    pub source: String,
    pub hash: String,
}

/// Every questionnaire version the server can score and deliver, by (id, version).
#[derive(Debug, Default)]
pub struct QuestionnaireRegistry {
    by_version: BTreeMap<(String, String), Published>,
}

impl QuestionnaireRegistry {
    /// Loads every `*.toml` file in `dir`. Any diagnostic in any file is an error listing them all.
    pub fn load_dir(dir: &Path) -> anyhow::Result<Self> {
        let mut registry = QuestionnaireRegistry::default();
        let mut problems = String::new();
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read the questionnaire folder {}", dir.display()))?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let source = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            match Questionnaire::from_toml(&path.display().to_string(), &source) {
                Ok(q) => registry.insert(q, source),
                Err(diagnostics) => problems.push_str(&diagnostics.lines().to_string()),
            }
        }
        anyhow::ensure!(
            problems.is_empty(),
            "questionnaires with problems:\n{problems}"
        );
        Ok(registry)
    }

    pub fn insert(&mut self, questionnaire: Questionnaire, source: String) {
        let hash = sha256_hex(source.as_bytes());
        self.by_version.insert(
            (questionnaire.id.clone(), questionnaire.version.clone()),
            Published {
                questionnaire,
                source,
                hash,
            },
        );
    }

    pub fn get(&self, id: &str, version: &str) -> Option<&Questionnaire> {
        self.by_version
            .get(&(id.to_string(), version.to_string()))
            .map(|p| &p.questionnaire)
    }

    pub fn refs(&self) -> Vec<QuestionnaireRef> {
        self.by_version
            .values()
            .map(|p| QuestionnaireRef {
                id: p.questionnaire.id.clone(),
                version: p.questionnaire.version.clone(),
                hash: p.hash.clone(),
            })
            .collect()
    }

    pub fn download(&self, id: &str, version: &str) -> Option<QuestionnaireDownload> {
        self.by_version
            .get(&(id.to_string(), version.to_string()))
            .map(|p| QuestionnaireDownload {
                id: p.questionnaire.id.clone(),
                version: p.questionnaire.version.clone(),
                hash: p.hash.clone(),
                source: p.source.clone(),
            })
    }

    pub fn len(&self) -> usize {
        self.by_version.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_version.is_empty()
    }
}
