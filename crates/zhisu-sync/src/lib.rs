//! The tablet's sync engine. [`plan`] decides (pure); this module does the HTTP and the SQLite.
//!
//! Invariant: an interview is marked acknowledged only after the server's receipt for it has
//! arrived *and* the database write recording that has committed. Any failure before that leaves
//! it waiting, and sending it again is safe because the server recognises identical content.
#![forbid(unsafe_code)]

pub mod plan;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Notify};
use zhisu_protocol::{
    ApiError, UploadRequest, UploadResponse, MAX_BATCH_INTERVIEWS, PROTOCOL_HEADER,
    PROTOCOL_VERSION, UPLOAD_PATH,
};
use zhisu_store::{DeviceStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("cannot reach the server: {0}")]
    Unreachable(#[source] reqwest::Error),
    #[error("the server refused the upload ({status}, {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the server's answer could not be read: {0}")]
    BadResponse(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    pub fn code(&self) -> &str {
        match self {
            SyncError::Unreachable(_) => "server_unreachable",
            SyncError::Refused { code, .. } => code,
            SyncError::BadResponse(_) => "bad_server_response",
            SyncError::Store(e) => e.code(),
        }
    }
}

/// HTTP client for one server.
#[derive(Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    base_url: String,
}

impl SyncClient {
    pub fn new(base_url: &str) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .expect("the HTTP client builds with static settings");
        SyncClient {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub async fn upload(&self, request: &UploadRequest) -> Result<UploadResponse, SyncError> {
        let response = self
            .http
            .post(format!("{}{UPLOAD_PATH}", self.base_url))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .json(request)
            .send()
            .await
            .map_err(SyncError::Unreachable)?;
        let status = response.status();
        let body = response.bytes().await.map_err(SyncError::Unreachable)?;
        if !status.is_success() {
            let error: ApiError = serde_json::from_slice(&body).unwrap_or_else(|_| ApiError {
                code: format!("http_{}", status.as_u16()),
                message: String::from_utf8_lossy(&body).chars().take(200).collect(),
            });
            return Err(SyncError::Refused {
                status: status.as_u16(),
                code: error.code,
                message: error.message,
            });
        }
        serde_json::from_slice(&body).map_err(|e| SyncError::BadResponse(e.to_string()))
    }
}

/// What one sync pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub sent: usize,
    pub acknowledged: usize,
    pub rejected: usize,
}

type SharedStore = Arc<Mutex<DeviceStore>>;

async fn with_store<T: Send + 'static>(
    store: &SharedStore,
    f: impl FnOnce(&mut DeviceStore) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || {
        let mut guard = store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    })
    .await
    .expect("store task does not panic")
}

/// Uploads every waiting interview, batch by batch, until none is left or an attempt fails.
pub async fn sync_once(store: &SharedStore, client: &SyncClient) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    loop {
        let batch = with_store(store, |s| s.waiting_uploads(MAX_BATCH_INTERVIEWS)).await?;
        if batch.is_empty() {
            return Ok(report);
        }
        let sent: Vec<_> = batch.iter().map(|i| i.id).collect();
        let response = client.upload(&UploadRequest { interviews: batch }).await?;
        let receipts = plan::receipts_for_batch(&sent, &response);
        if receipts.is_empty() {
            return Err(SyncError::BadResponse(
                "the server sent no receipt for any interview sent".into(),
            ));
        }
        report.sent += sent.len();
        report.acknowledged += receipts
            .iter()
            .filter(|r| r.status.is_acknowledged())
            .count();
        report.rejected += receipts
            .iter()
            .filter(|r| !r.status.is_acknowledged())
            .count();
        let now = Utc::now();
        with_store(store, move |s| s.apply_receipts(&receipts, now)).await?;
    }
}

/// What the app shows about sync.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// `None` before the first attempt.
    pub online: Option<bool>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_code: Option<String>,
}

/// Settings of the background loop.
#[derive(Debug, Clone)]
pub struct SyncSchedule {
    /// First wait after a failure; doubles up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// How often to look for work when nothing triggers a sync.
    pub idle_poll: Duration,
}

impl Default for SyncSchedule {
    fn default() -> Self {
        SyncSchedule {
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            idle_poll: Duration::from_secs(30),
        }
    }
}

/// Runs forever: syncs when `trigger` is notified (an interview was completed, "sync now"), when
/// the idle poll comes round, and after a failure with exponential backoff and jitter.
pub async fn run(
    store: SharedStore,
    client: SyncClient,
    trigger: Arc<Notify>,
    status: watch::Sender<SyncStatus>,
    schedule: SyncSchedule,
) {
    let mut backoff = plan::Backoff::new(schedule.base_backoff, schedule.max_backoff);
    loop {
        let waiting = with_store(&store, |s| s.state_counts()).await;
        let wait = match waiting {
            Ok(counts) if counts.waiting == 0 => schedule.idle_poll,
            Ok(_) => {
                let attempt_at = Utc::now();
                match sync_once(&store, &client).await {
                    Ok(report) => {
                        tracing::info!(?report, "sync pass finished");
                        backoff.reset();
                        status.send_modify(|s| {
                            s.online = Some(true);
                            s.last_attempt_at = Some(attempt_at);
                            s.last_success_at = Some(Utc::now());
                            s.last_error = None;
                            s.last_error_code = None;
                        });
                        continue; // look again at once: more may have been completed meanwhile
                    }
                    Err(error) => {
                        tracing::warn!(%error, "sync pass failed");
                        status.send_modify(|s| {
                            s.online = Some(!matches!(error, SyncError::Unreachable(_)));
                            s.last_attempt_at = Some(attempt_at);
                            s.last_error_code = Some(error.code().to_string());
                            s.last_error = Some(error.to_string());
                        });
                        backoff.next_delay(jitter_unit())
                    }
                }
            }
            Err(error) => {
                tracing::error!(%error, "cannot read the upload queue");
                backoff.next_delay(jitter_unit())
            }
        };
        tokio::select! {
            _ = trigger.notified() => backoff.reset(),
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// A random number in `[0, 1)` from the OS generator (by way of a v4 UUID, already a dependency).
fn jitter_unit() -> f64 {
    (uuid::Uuid::new_v4().as_u128() as u64 >> 11) as f64 / (1u64 << 53) as f64
}
