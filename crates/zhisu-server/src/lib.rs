//! The central server's HTTP layer, the only crate that knows axum: [`router`] serves the JSON
//! API (`api`, the sync protocol and the people endpoints) and the dashboard (`dashboard`,
//! HTML) over an [`HttpState`]; handlers parse the request, call `zhisu-server-service` on the
//! blocking pool and map its errors to `{code, message}` ([`error::Failure`]). The
//! `zhisu-server` binary reads its configuration, opens the storage and serves it; tests start
//! the same router on a loopback port.
#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod estimates;
pub mod extract;
pub mod learn;
pub mod metrics;
pub mod rate_limit;
pub mod report_docx;
pub mod security;
pub mod serve;

use std::path::Path;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::response::Response;
use axum::Router;

pub use zhisu_server_service::{ServerState, Storage, StorageError};

/// What a request handler needs: the server's state and what only HTTP knows (body limit, rate
/// limit, request counts, how the dashboard shows times and small cells). Dereferences to the
/// [`ServerState`].
#[derive(Clone)]
pub struct HttpState {
    pub server: ServerState,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    pub rate_limit: Arc<rate_limit::RateLimit>,
    /// Slows down guessing enrolment codes (per address, and failures in all).
    pub enrol_guard: Arc<rate_limit::EnrolGuard>,
    /// Slows down one address reading the public take-home page (`/learn`) in a flood.
    pub page_guard: Arc<rate_limit::PageGuard>,
    pub metrics: Arc<metrics::Metrics>,
    /// Uploads read and stored at once (`max_concurrent_uploads`); the others wait unread.
    pub upload_permits: Arc<tokio::sync::Semaphore>,
    /// How many permits `upload_permits` was made with.
    pub upload_permits_total: usize,
    /// The local time the dashboard shows (and exports fall back to for a device's offset
    /// that is not a real one).
    pub utc_offset: chrono::FixedOffset,
    /// Estimates from fewer interviews than this are marked as unreliable (still shown).
    pub min_cell_n: u64,
    /// Mark the dashboard's cookies `Secure` (the server is reached over HTTPS).
    pub secure_cookies: bool,
    /// A proxy on this machine forwards every request: trust its `X-Forwarded-For`.
    pub behind_proxy: bool,
    /// `/metrics` answers a request with this bearer token; without one, only requests from
    /// this machine that did not come through the proxy.
    pub metrics_token: Option<String>,
    /// The address tablets reach this server at (`public_url`), carried by enrolment QR codes;
    /// without it, the address the request came to.
    pub public_url: Option<String>,
    /// The rounds' private keys, by key id (the round's name): the public half goes to the
    /// round's devices with the assignment, the private half opens what they seal.
    pub round_keys: Arc<std::collections::BTreeMap<String, zhisu_protocol::sealed::RoundSecretKey>>,
    /// Whether enrolment codes are made only for a round whose key pair the server holds
    /// (`round_keys`), so that no tablet starts a round whose sealed interviews nobody could
    /// open. The binary sets it; a server built in code that never seals (tests of other
    /// things) leaves it off.
    pub require_round_keys: bool,
    /// The retention rules (`docs/privacy.md`): how long uploaded re-contact details are kept
    /// after their round; the hourly purge applies them all.
    pub retention: zhisu_server_service::privacy::RetentionPolicy,
}

impl HttpState {
    pub fn new(server: ServerState) -> Self {
        HttpState {
            server,
            max_body_bytes: 8 * 1024 * 1024,
            // a tablet draining a large backlog sends about 40 batches a second; well above that is abuse
            rate_limit: Arc::new(rate_limit::RateLimit::per_device(50.0, 100.0)),
            enrol_guard: Arc::default(),
            page_guard: Arc::default(),
            metrics: Arc::default(),
            upload_permits: Arc::new(tokio::sync::Semaphore::new(
                config::DEFAULT_MAX_CONCURRENT_UPLOADS,
            )),
            upload_permits_total: config::DEFAULT_MAX_CONCURRENT_UPLOADS,
            utc_offset: config::CHINA_STANDARD_TIME,
            min_cell_n: zhisu_stats::DEFAULT_MIN_CELL_N,
            secure_cookies: false,
            behind_proxy: false,
            metrics_token: None,
            public_url: None,
            round_keys: Arc::default(),
            require_round_keys: false,
            retention: zhisu_server_service::privacy::RetentionPolicy::default(),
        }
    }

    /// Why no enrolment code may be made for `round` (`None`: it may): with
    /// `require_round_keys`, a round without a key pair on this server.
    pub fn round_key_missing(&self, round: &str, lang: &str) -> Option<String> {
        if !self.require_round_keys || self.round_keys.contains_key(round) {
            return None;
        }
        Some(if lang.starts_with("en") {
            format!(
                "Round {round} has no key pair on this server, so its tablets' interviews could not be opened. Run `zhisu-server round-key --round {round}`, back the key file up, and restart the server. No code was made."
            )
        } else {
            format!(
                "服务器上还没有 {round} 轮的密钥，平板上传的问卷将无法打开。请先运行 `zhisu-server round-key --round {round}`，备份密钥文件，再重启服务器。没有生成登记码。"
            )
        })
    }

    /// The address tablets reach this server at: `public_url` when set, otherwise the scheme
    /// and `Host` the request came with (the proxy's `X-Forwarded-Proto` when behind one).
    pub fn server_address(&self, headers: &axum::http::HeaderMap) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(',').next().unwrap_or_default().trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let scheme = match header("x-forwarded-proto") {
            Some(proto) if self.behind_proxy && (proto == "https" || proto == "http") => proto,
            _ if self.secure_cookies => "https".to_string(),
            _ => "http".to_string(),
        };
        let host = header("host").unwrap_or_else(|| "127.0.0.1:8470".to_string());
        format!("{scheme}://{host}")
    }

    /// The enrolment URI of `code` for this server (what its QR code holds).
    pub fn enrol_uri(&self, headers: &axum::http::HeaderMap, code: &str) -> String {
        zhisu_protocol::enrol_uri::EnrolUri {
            server_url: self.server_address(headers),
            code: code.to_string(),
        }
        .to_uri()
    }

    /// Adds a round's key pair (its key id is the round's name).
    pub fn add_round_key(&mut self, key: zhisu_protocol::sealed::RoundSecretKey) {
        Arc::make_mut(&mut self.round_keys).insert(key.key_id.clone(), key);
    }

    /// What every cookie the dashboard sets ends with beyond its own attributes.
    pub fn cookie_attributes(&self) -> &'static str {
        if self.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    }
}

impl std::ops::Deref for HttpState {
    type Target = ServerState;

    fn deref(&self) -> &ServerState {
        &self.server
    }
}

impl From<ServerState> for HttpState {
    fn from(server: ServerState) -> Self {
        HttpState::new(server)
    }
}

/// The whole server: the API, the dashboard, the body limit and the request counts.
pub fn router(state: impl Into<HttpState>) -> Router {
    let state = state.into();
    let limit = state.max_body_bytes;
    api::routes()
        .merge(dashboard::routes())
        .merge(report_docx::routes())
        .merge(estimates::routes())
        .merge(learn::routes())
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(security::same_origin_writes))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            security::panicked,
        ))
        .layer(axum::middleware::from_fn(security::headers_and_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_request,
        ))
        .with_state(state)
}

/// Counts every request by its route template (not its path: ids would explode the series).
async fn count_request(
    State(state): State<HttpState>,
    matched: Option<axum::extract::MatchedPath>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = request.method().to_string();
    let route = matched.map_or("(unmatched)".to_string(), |m| m.as_str().to_string());
    let response = next.run(request).await;
    state
        .metrics
        .request(&route, &method, response.status().as_u16());
    response
}

/// Embedded SQLite at `database` (created if missing), questionnaires from a folder; a
/// questionnaire with problems stops the start with its diagnostics.
/// On a full disk, where the database cannot be opened for writing, it is opened read-only:
/// reads are served and every write is refused with `storage_full`, saying why.
pub fn open_sqlite(database: &Path, questionnaires_dir: &Path) -> anyhow::Result<ServerState> {
    open_sqlite_with(
        database,
        zhisu_server_service::QuestionnaireRegistry::load_dir(questionnaires_dir)?,
    )
}

/// Embedded SQLite at `database` with the questionnaires given (see [`open_sqlite`]).
pub fn open_sqlite_with(
    database: &Path,
    questionnaires: zhisu_server_service::QuestionnaireRegistry,
) -> anyhow::Result<ServerState> {
    use zhisu_server_sqlite::SqliteStorage;
    let storage = match SqliteStorage::open(database) {
        Ok(storage) => storage,
        Err(error) if database.exists() && SqliteStorage::disk_is_full(database) => {
            let storage = SqliteStorage::open_read_only(database).map_err(|read_only| {
                anyhow::anyhow!(
                    "the disk holding {} is full ({error}), and the database cannot be read \
                     either: {read_only}",
                    database.display()
                )
            })?;
            tracing::error!(%error, database = %database.display(),
                "the disk is full: serving read-only; free space and restart to store again");
            storage
        }
        Err(error) => return Err(error.into()),
    };
    ServerState::with_registry(Arc::new(storage), questionnaires)
}

/// PostgreSQL at `url` (`postgres://user@host:port/db`, TLS as its `sslmode` says).
pub fn open_postgres(url: &str, questionnaires_dir: &Path) -> anyhow::Result<ServerState> {
    open_postgres_with(
        url,
        zhisu_server_service::QuestionnaireRegistry::load_dir(questionnaires_dir)?,
    )
}

/// PostgreSQL at `url` with the questionnaires given (see [`open_postgres`]).
pub fn open_postgres_with(
    url: &str,
    questionnaires: zhisu_server_service::QuestionnaireRegistry,
) -> anyhow::Result<ServerState> {
    let storage = zhisu_server_postgres::PostgresStorage::open(url, 16)?;
    ServerState::with_registry(Arc::new(storage), questionnaires)
}

/// The questionnaire files built into the binary: the workspace's `questionnaires/*.toml` and
/// `questionnaires/earlier/*.toml` when it was built.
pub mod built_in {
    include!(concat!(env!("OUT_DIR"), "/questionnaires.rs"));

    /// The built-in questionnaires, loaded.
    pub fn questionnaires() -> anyhow::Result<zhisu_server_service::QuestionnaireRegistry> {
        zhisu_server_service::QuestionnaireRegistry::load_sources(FILES.iter().copied())
    }
}

/// The server's questionnaires: from `folder` when one is configured, otherwise those built
/// into the binary (docs/deployment.md, "Questionnaires").
pub fn load_questionnaires(
    folder: Option<&Path>,
) -> anyhow::Result<zhisu_server_service::QuestionnaireRegistry> {
    match folder {
        Some(folder) => zhisu_server_service::QuestionnaireRegistry::load_dir(folder),
        None => built_in::questionnaires(),
    }
}

/// Serves the API on `listener` until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: impl Into<HttpState>,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await
}

/// Serves the API until `shutdown` completes, then finishes the requests in flight.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    state: impl Into<HttpState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
