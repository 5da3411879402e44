//! What the central server does, without HTTP: [`ServerState`] holds the storage and the
//! questionnaires, and its methods (here and in [`ingest`], [`people`], [`sites`], [`review`])
//! are the actions the HTTP layer (`zhisu-server`) and the administrative commands call;
//! [`analysis`], [`estimates`] and [`export`] compute what the dashboard shows and hands out. Every
//! administrative action writes its audit entry. Nothing here knows axum, a URL or HTML.
//!
//! The server never trusts a device's score: every interview is checked and re-scored with
//! `zhisu-core` against the exact questionnaire version it was answered with.
#![forbid(unsafe_code)]

pub mod analysis;
pub mod annual_report;
pub mod backcheck;
pub mod comparison;
pub mod data_check;
pub mod demo;
pub mod devices;
pub mod districts;
pub mod estimates;
pub mod export;
pub mod fieldwork;
pub mod ingest;
pub mod item_analysis;
pub mod library;
pub mod outreach;
pub mod pace;
pub mod people;
pub mod plan;
pub mod privacy;
pub mod quality;
pub mod questionnaires;
pub mod recordings;
pub mod references;
pub mod review;
pub mod sites;
pub mod surveyors;
pub mod time_slots;
pub mod training;
pub mod updates;
pub mod wording;

use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, Utc};
use uuid::Uuid;
use zhisu_protocol::Enrolment;

pub use devices::{Device, EnrolRefusal};
pub use questionnaires::QuestionnaireRegistry;
pub use zhisu_server_storage as storage;
pub use zhisu_server_storage::{AuditEntry, Storage, StorageError};

/// The server's storage and questionnaires: what every action needs. Cheap to clone.
#[derive(Clone)]
pub struct ServerState {
    pub storage: Arc<dyn Storage>,
    pub questionnaires: Arc<QuestionnaireRegistry>,
    /// Each district's weak points as its tablets receive them, computed at most once per
    /// [`outreach::WEAK_POINTS_KEPT`] (every assignment poll would otherwise read every
    /// interview of the district).
    weak_points: Arc<outreach::WeakPointsKept>,
}

impl ServerState {
    pub fn new(storage: Arc<dyn Storage>, questionnaires: QuestionnaireRegistry) -> Self {
        ServerState {
            storage,
            questionnaires: Arc::new(questionnaires),
            weak_points: Arc::default(),
        }
    }

    /// The same server, its districts' weak points for tablets given out again for
    /// `fresh_for` after they are computed (default [`outreach::WEAK_POINTS_KEPT`]).
    pub fn keeping_weak_points_for(mut self, fresh_for: std::time::Duration) -> Self {
        self.weak_points = Arc::new(outreach::WeakPointsKept::fresh_for(fresh_for));
        self
    }

    /// Questionnaires from the folder and those published earlier (kept in `storage`).
    pub fn with_storage(
        storage: Arc<dyn Storage>,
        questionnaires_dir: &Path,
    ) -> anyhow::Result<Self> {
        Self::with_registry(
            storage,
            QuestionnaireRegistry::load_dir(questionnaires_dir)?,
        )
    }

    /// The questionnaires given (a folder's, or those built into the binary) and those
    /// published earlier (kept in `storage`).
    pub fn with_registry(
        storage: Arc<dyn Storage>,
        questionnaires: QuestionnaireRegistry,
    ) -> anyhow::Result<Self> {
        questionnaires.add_published(&storage.published_questionnaires()?)?;
        let state = Self::new(storage, questionnaires);
        // read-only (started on a full disk): facts are filled at the next start with space
        if state.storage.read_only().is_none() {
            state.backfill_facts()?;
        }
        Ok(state)
    }

    /// Gives interviews stored before schema 6 their facts (the dashboard's columns), re-scored
    /// against their questionnaire version. Returns how many were filled. An interview whose
    /// version the server no longer has gets empty facts (it then counts nowhere) and a warning.
    pub fn backfill_facts(&self) -> Result<usize, StorageError> {
        let mut filled = 0;
        loop {
            let batch = self.storage.interviews_without_facts(500)?;
            if batch.is_empty() {
                break;
            }
            for interview in batch {
                let facts = match self.questionnaires.get(
                    &interview.questionnaire_id,
                    &interview.questionnaire_version,
                ) {
                    Some(p) => {
                        let score = p.questionnaire.score(&interview.answers);
                        storage::Facts::of(
                            &p.questionnaire,
                            &interview,
                            &score,
                            &zhisu_core::QcThresholds::default(),
                        )
                    }
                    None => {
                        tracing::warn!(id = %interview.id, questionnaire = ?interview.questionnaire_id,
                            version = ?interview.questionnaire_version,
                            "stored interview of a questionnaire version this server does not have: left out of the analyses");
                        storage::Facts::default()
                    }
                };
                self.storage.set_facts(interview.id, &facts)?;
                filled += 1;
            }
        }
        if filled > 0 {
            tracing::info!(
                filled,
                "gave interviews stored before schema 6 their analysis facts"
            );
        }
        Ok(filled)
    }

    /// Publishes a questionnaire file for a round: validated, kept, delivered to devices of that
    /// round from then on, written to the audit log.
    pub fn publish_questionnaire(
        &self,
        round: &str,
        source: &str,
        actor: &str,
    ) -> Result<questionnaires::PublishOutcome, PublishError> {
        use questionnaires::PublishOutcome;
        let q = zhisu_core::Questionnaire::from_toml("questionnaire.toml", source)
            .map_err(|d| PublishError::Invalid(d.lines().to_string()))?;
        let reference = zhisu_protocol::QuestionnaireRef {
            id: q.id.clone(),
            version: q.version.clone(),
            hash: zhisu_protocol::sha256_hex(source.as_bytes()),
        };
        if let Some(existing) = self.questionnaires.get(&q.id, &q.version) {
            return Ok(if existing.hash == reference.hash {
                PublishOutcome::AlreadyPublished(reference)
            } else {
                PublishOutcome::VersionTaken
            });
        }
        let record = questionnaires::PublishedRecord {
            id: q.id.clone(),
            version: q.version.clone(),
            round: round.to_string(),
            hash: reference.hash.clone(),
            source: source.to_string(),
            published_at: Utc::now(),
            published_by: actor.to_string(),
        };
        let audit = AuditEntry::now(
            actor,
            "publish_questionnaire",
            format!("{} {} for round {round}", reference.id, reference.version),
        );
        if !self.storage.publish_questionnaire(&record, &audit)? {
            return Ok(PublishOutcome::VersionTaken);
        }
        self.questionnaires
            .insert(q, source.to_string(), Some(round.to_string()));
        Ok(PublishOutcome::Published(reference))
    }

    /// Adds a person with a password (hashed with Argon2id), written with its audit entry in
    /// one transaction. `None` when the username is taken.
    pub fn add_person(
        &self,
        username: &str,
        display_name: &str,
        password: &str,
        role: people::Role,
        actor: &str,
    ) -> Result<Option<people::Person>, Refusal> {
        if let Some(problem) = people::password_problem(password) {
            return Err(Refusal::Invalid(problem.to_string()));
        }
        let username = username.trim();
        if username.is_empty() {
            return Err(Refusal::Invalid("the username is empty".into()));
        }
        let person = people::Person {
            id: Uuid::new_v4(),
            username: username.to_string(),
            display_name: display_name.trim().to_string(),
            role,
            created_at: Utc::now(),
        };
        let audit = AuditEntry::now(
            actor,
            "add_person",
            format!("{username} as {}", person.role.name()),
        );
        let added = self
            .storage
            .add_person(&person, &people::hash_password(password), &audit)?;
        Ok(added.then_some(person))
    }

    /// Creates a one-time enrolment code for a round and district, valid for `valid_for`, and
    /// writes it to the audit log. Returns the code to show (and print as a QR code).
    pub fn create_enrolment_code(
        &self,
        round: &str,
        district: &str,
        valid_for: Duration,
        actor: &str,
    ) -> Result<String, StorageError> {
        let code = devices::new_enrolment_code();
        let now = Utc::now();
        let audit = AuditEntry::now(
            actor,
            "create_enrolment_code",
            format!(
                "round {round}, district {district}, valid until {}",
                now + valid_for
            ),
        );
        self.storage.add_enrolment_code(
            &devices::hash_code(&code),
            round,
            district,
            now + valid_for,
            now,
            &audit,
        )?;
        Ok(code)
    }

    /// Exchanges an enrolment code for a device identity and token.
    pub fn enrol(
        &self,
        code: &str,
        device_name: &str,
    ) -> Result<Result<Enrolment, EnrolRefusal>, StorageError> {
        let token = devices::new_token();
        let id = Uuid::new_v4();
        let outcome = self.storage.enrol(
            &devices::hash_code(code),
            id,
            device_name,
            &devices::hash_token(&token),
            Utc::now(),
        )?;
        Ok(outcome.map(|device| Enrolment {
            device_id: device.id,
            token,
            round: device.round,
            district: device.district,
        }))
    }

    pub fn revoke_device(&self, id: Uuid, actor: &str) -> Result<bool, StorageError> {
        let audit = AuditEntry::now(actor, "revoke_device", id.to_string());
        self.storage.revoke_device(id, Utc::now(), &audit)
    }

    pub fn audit(&self, actor: &str, action: &str, detail: &str) -> Result<(), StorageError> {
        self.storage.record_audit(&devices::AuditEntry {
            at: Utc::now(),
            actor: actor.to_string(),
            action: action.to_string(),
            detail: detail.to_string(),
        })
    }
}

/// The Chinese or the English text, by the reader's language (`en…` for English; Chinese
/// otherwise, the default).
pub fn t<'a>(lang: &str, zh: &'a str, en: &'a str) -> &'a str {
    if lang.starts_with("en") {
        en
    } else {
        zh
    }
}

/// Why an administrative change was not made (nothing was changed).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The request itself is wrong: every problem, in words a person can act on.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// Allowed to the role, but not in this state (one may not disable oneself).
    #[error("{0}")]
    NotNow(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Why a questionnaire could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the questionnaire has problems:\n{0}")]
    Invalid(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}
