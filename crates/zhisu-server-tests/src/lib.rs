//! The server's test kit, shared by its tests and benchmarks: a seeded random-number generator,
//! synthetic interviews walked through the core's engine ([`generate`]), a real PostgreSQL
//! started from the system binaries ([`postgres`]), the repository's questionnaire folder and a
//! server on a loopback port. The storage conformance suite (`tests/conformance.rs`) runs
//! against both backends.

pub mod generate;
pub mod postgres;

use std::path::PathBuf;

pub use zhisu_testkit::Rng;

/// The repository's `questionnaires/` folder (product and test corpus at once).
pub fn questionnaires_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires")
}

/// Serves `state` on a fresh loopback port in the current tokio runtime; returns its base URL
/// (`http://127.0.0.1:PORT`).
pub async fn serve_on_loopback(state: impl Into<zhisu_server::HttpState>) -> String {
    let state: zhisu_server::HttpState = state.into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("its address"));
    tokio::spawn(zhisu_server::serve(listener, state));
    base
}
