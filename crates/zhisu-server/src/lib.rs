//! The central server as a library: [`router`] builds the HTTP API over a [`ServerState`]; the
//! `zhisu-server` binary only reads its configuration and serves it. Tests start the same router
//! on a loopback port.
//!
//! The server never trusts a device's score: every interview is checked and re-scored with
//! `zhisu-core` against the exact questionnaire version it was answered with.
#![forbid(unsafe_code)]

pub mod api;
pub mod db;
pub mod devices;
pub mod questionnaires;
pub mod storage;

use std::path::Path;
use std::sync::{Arc, Mutex};

pub use api::router;
pub use db::{DbError, ServerDb};
pub use questionnaires::QuestionnaireRegistry;

/// Everything a request handler needs.
#[derive(Clone)]
pub struct ServerState {
    pub db: Arc<Mutex<ServerDb>>,
    pub questionnaires: Arc<QuestionnaireRegistry>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl ServerState {
    /// Opens (creating) the database at `database` and loads every questionnaire in
    /// `questionnaires_dir`; a questionnaire with problems stops the start with its diagnostics.
    pub fn open(database: &Path, questionnaires_dir: &Path) -> anyhow::Result<Self> {
        let db = ServerDb::open(database)?;
        let questionnaires = QuestionnaireRegistry::load_dir(questionnaires_dir)?;
        Ok(ServerState {
            db: Arc::new(Mutex::new(db)),
            questionnaires: Arc::new(questionnaires),
            max_body_bytes: 8 * 1024 * 1024,
        })
    }
}

/// Serves the API on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, state: ServerState) -> std::io::Result<()> {
    axum::serve(listener, router(state)).await
}
