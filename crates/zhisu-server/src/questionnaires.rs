use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use zhisu_core::Questionnaire;

/// Every questionnaire version the server can score, by (id, version).
#[derive(Debug, Default)]
pub struct QuestionnaireRegistry {
    by_version: BTreeMap<(String, String), Questionnaire>,
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
                Ok(q) => registry.insert(q),
                Err(diagnostics) => problems.push_str(&diagnostics.lines().to_string()),
            }
        }
        anyhow::ensure!(
            problems.is_empty(),
            "questionnaires with problems:\n{problems}"
        );
        Ok(registry)
    }

    pub fn insert(&mut self, questionnaire: Questionnaire) {
        self.by_version.insert(
            (questionnaire.id.clone(), questionnaire.version.clone()),
            questionnaire,
        );
    }

    pub fn get(&self, id: &str, version: &str) -> Option<&Questionnaire> {
        self.by_version.get(&(id.to_string(), version.to_string()))
    }

    pub fn len(&self) -> usize {
        self.by_version.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_version.is_empty()
    }
}
