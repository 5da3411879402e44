//! The tablet's sync engine. [`plan`] decides (pure); this module does the HTTP and the SQLite.
//!
//! Invariant: an interview is marked acknowledged only after the server's receipt for it has
//! arrived *and* the database write recording that has committed. Any failure before that leaves
//! it waiting, and sending it again is safe because the server recognises identical content.
#![forbid(unsafe_code)]

pub mod plan;
pub mod update;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Notify};
use zhisu_protocol::library::{Library, LIBRARY_PATH};
use zhisu_protocol::surveyors::{SurveyorList, SURVEYORS_PATH};
use zhisu_protocol::{
    codes, ApiError, DeviceAssignment, EnrolRequest, Enrolment, QuestionnaireDownload,
    QuestionnaireListing, RecordingListing, UploadRequest, UploadResponse, ASSIGNMENT_PATH,
    ENROL_PATH, MAX_BATCH_INTERVIEWS, MAX_RECORDING_BYTES, MEDIA_PATH, PROTOCOL_HEADER,
    PROTOCOL_VERSION, QUESTIONNAIRES_PATH, QUIZ_SESSIONS_PATH, RECORDINGS_PATH, UPLOAD_PATH,
};
use zhisu_store::{AttemptOutcome, DeviceStore, MediaWanted, StoreError};

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

    /// The server says this device was revoked.
    pub fn is_revoked(&self) -> bool {
        matches!(self, SyncError::Refused { code, .. } if code == codes::DEVICE_REVOKED)
    }

    /// Whether the server may have stored what was sent. Only a refused connection or an error
    /// answer (the server stores nothing of a failed request) say certainly not.
    pub fn may_have_arrived(&self) -> bool {
        match self {
            SyncError::Unreachable(e) => !e.is_connect(),
            SyncError::Refused { .. } | SyncError::Store(_) => false,
            SyncError::BadResponse(_) => true,
        }
    }

    /// The server refused the upload request for what it carried (malformed, or too large):
    /// sending the same interviews again cannot help, sending fewer may.
    pub fn refuses_content(&self) -> bool {
        match self {
            SyncError::Refused { status: 413, .. } => true,
            SyncError::Refused {
                status: 400, code, ..
            } => code == codes::MALFORMED_REQUEST || code == codes::BATCH_TOO_LARGE,
            _ => false,
        }
    }

    fn http_status(&self) -> Option<u16> {
        match self {
            SyncError::Refused { status, .. } => Some(*status),
            SyncError::Unreachable(e) => e.status().map(|s| s.as_u16()),
            _ => None,
        }
    }
}

/// HTTP client for one server.
#[derive(Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    base_url: String,
    /// The device token, sent as `Authorization: Bearer`; `None` before enrolment.
    token: Option<String>,
}

/// How long an idle connection to the server is kept for the next request: below the
/// server's `header_timeout_s` (10 s by default).
pub const IDLE_CONNECTION: Duration = Duration::from_secs(5);

impl SyncClient {
    /// A client with field settings: 5 s to connect, 60 s for a whole upload.
    pub fn new(base_url: &str) -> Self {
        Self::with_timeouts(base_url, Duration::from_secs(5), Duration::from_secs(60))
    }

    pub fn with_timeouts(base_url: &str, connect: Duration, total: Duration) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(connect)
            .timeout(total)
            // drop an idle connection before the server does (it closes them after 10 s,
            // docs/deployment.md), so a request is never sent on one it is closing
            .pool_idle_timeout(IDLE_CONNECTION)
            .build()
            .expect("the HTTP client builds with static settings");
        SyncClient {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            token: None,
        }
    }

    /// The same client, sending this device token with every request.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_string());
        self
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string());
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Exchanges a one-time enrolment code for this device's identity.
    pub async fn enrol(&self, code: &str, device_name: &str) -> Result<Enrolment, SyncError> {
        let response = self
            .request(reqwest::Method::POST, ENROL_PATH)
            .json(&EnrolRequest {
                code: code.to_string(),
                device_name: device_name.to_string(),
            })
            .send()
            .await
            .map_err(SyncError::Unreachable)?;
        Ok(Self::read(response).await?.1)
    }

    /// The round, district, sites and quotas this device is assigned.
    pub async fn assignment(&self) -> Result<DeviceAssignment, SyncError> {
        self.get(ASSIGNMENT_PATH).await
    }

    /// The assignment, telling the server how many interviews wait on this device (shown on
    /// the dashboard's list of tablets).
    pub async fn assignment_with_pending(
        &self,
        pending: u64,
    ) -> Result<DeviceAssignment, SyncError> {
        self.get(&format!("{ASSIGNMENT_PATH}?pending={pending}"))
            .await
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    async fn read<T: serde::de::DeserializeOwned>(
        response: reqwest::Response,
    ) -> Result<(u16, T), SyncError> {
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
        let value =
            serde_json::from_slice(&body).map_err(|e| SyncError::BadResponse(e.to_string()))?;
        Ok((status.as_u16(), value))
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, SyncError> {
        let response = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .map_err(SyncError::Unreachable)?;
        Ok(Self::read(response).await?.1)
    }

    /// The questionnaire versions the server publishes.
    pub async fn questionnaire_listing(&self) -> Result<QuestionnaireListing, SyncError> {
        self.get(QUESTIONNAIRES_PATH).await
    }

    pub async fn download_questionnaire(
        &self,
        id: &str,
        version: &str,
    ) -> Result<QuestionnaireDownload, SyncError> {
        self.get(&format!("{QUESTIONNAIRES_PATH}/{id}/{version}"))
            .await
    }

    /// The recordings of the questionnaire versions this device receives.
    pub async fn recording_listing(&self) -> Result<RecordingListing, SyncError> {
        self.get(RECORDINGS_PATH).await
    }

    /// Whether a newer version of the app is there for `platform` (issue 22).
    pub async fn update_check(
        &self,
        platform: &str,
        current: &str,
    ) -> Result<zhisu_protocol::update::UpdateCheck, SyncError> {
        self.get(&format!(
            "{}?platform={platform}&current={current}",
            zhisu_protocol::update::APP_UPDATE_PATH
        ))
        .await
    }

    /// A package's bytes (`path` from its manifest), with up to 30 minutes for a slow line.
    pub async fn package(&self, path: &str) -> Result<Vec<u8>, SyncError> {
        let response = self
            .request(reqwest::Method::GET, path)
            .timeout(Duration::from_secs(30 * 60))
            .send()
            .await
            .map_err(SyncError::Unreachable)?;
        if !response.status().is_success() {
            return Self::read::<serde_json::Value>(response)
                .await
                .and_then(|_| Err(SyncError::BadResponse("a package download failed".into())));
        }
        Ok(response
            .bytes()
            .await
            .map_err(SyncError::Unreachable)?
            .to_vec())
    }

    /// Asks for a recording's bytes from byte `from` on (all of them from 0).
    async fn media(&self, sha256: &str, from: u64) -> Result<reqwest::Response, SyncError> {
        let mut request = self.request(reqwest::Method::GET, &format!("{MEDIA_PATH}/{sha256}"));
        if from > 0 {
            request = request.header(reqwest::header::RANGE, format!("bytes={from}-"));
        }
        request.send().await.map_err(SyncError::Unreachable)
    }

    /// Sends one batch; on success returns the HTTP status and the receipts.
    pub async fn upload(
        &self,
        request: &UploadRequest,
    ) -> Result<(u16, UploadResponse), SyncError> {
        let response = self
            .request(reqwest::Method::POST, UPLOAD_PATH)
            .json(request)
            .send()
            .await
            .map_err(SyncError::Unreachable)?;
        Self::read(response).await
    }

    /// Sends one batch of quiz sessions; on success returns the HTTP status and the receipts.
    pub async fn upload_quiz_sessions(
        &self,
        upload: &zhisu_protocol::QuizSessionUpload,
    ) -> Result<(u16, UploadResponse), SyncError> {
        let response = self
            .request(reqwest::Method::POST, QUIZ_SESSIONS_PATH)
            .json(upload)
            .send()
            .await
            .map_err(SyncError::Unreachable)?;
        Self::read(response).await
    }
}

impl SyncClient {
    /// Sends one batch of back-check results; on success returns the HTTP status and the
    /// receipts.
    pub async fn upload_backchecks(
        &self,
        upload: &zhisu_protocol::backcheck::BackcheckUpload,
    ) -> Result<(u16, UploadResponse), SyncError> {
        let response = self
            .request(reqwest::Method::POST, zhisu_protocol::BACKCHECKS_PATH)
            .json(upload)
            .send()
            .await
            .map_err(SyncError::Unreachable)?;
        Self::read(response).await
    }
}

/// Uploads every back-check result waiting on the tablet (issue 15), batch by batch, each
/// leaving the queue only once its receipt is committed; returns how many left it. A server
/// that does not know back-checks (404) leaves them waiting.
pub async fn sync_backchecks(store: &SharedStore, client: &SyncClient) -> Result<usize, SyncError> {
    let mut done = 0;
    loop {
        let batch = with_store(store, |s| {
            s.waiting_backchecks(zhisu_protocol::backcheck::MAX_BACKCHECK_BATCH)
        })
        .await?;
        if batch.is_empty() {
            return Ok(done);
        }
        let upload = zhisu_protocol::backcheck::BackcheckUpload { results: batch };
        let (_, response) = match client.upload_backchecks(&upload).await {
            Err(SyncError::Refused { status: 404, .. }) => return Ok(done),
            other => other?,
        };
        let sent: Vec<uuid::Uuid> = upload.results.iter().map(|r| r.task_id).collect();
        let receipts = plan::receipts_for_batch(&sent, &response);
        let left = with_store(store, move |s| {
            s.finish_backcheck_upload(&receipts, Utc::now())
        })
        .await?;
        if left == 0 {
            return Err(SyncError::BadResponse(
                "the server sent no receipt for any back-check sent".into(),
            ));
        }
        done += left;
    }
}

impl SyncClient {
    /// Sends one batch of re-contact details; on success returns the HTTP status and the
    /// receipts.
    pub async fn upload_recontacts(
        &self,
        upload: &zhisu_protocol::recontact::RecontactUpload,
    ) -> Result<(u16, UploadResponse), SyncError> {
        let response = self
            .request(reqwest::Method::POST, zhisu_protocol::RECONTACTS_PATH)
            .json(upload)
            .send()
            .await
            .map_err(SyncError::Unreachable)?;
        Self::read(response).await
    }
}

/// Uploads the re-contact details waiting on the tablet (issue 15) whose interviews the server
/// has acknowledged, batch by batch; each leaves the queue, and its phone number the tablet,
/// only once its receipt is committed. Returns how many left. A server that does not know
/// re-contact details (404) leaves them waiting.
pub async fn sync_recontacts(store: &SharedStore, client: &SyncClient) -> Result<usize, SyncError> {
    let mut done = 0;
    loop {
        let batch = with_store(store, |s| {
            s.waiting_recontacts(zhisu_protocol::recontact::MAX_RECONTACT_BATCH)
        })
        .await?;
        if batch.is_empty() {
            return Ok(done);
        }
        let upload = zhisu_protocol::recontact::RecontactUpload { recontacts: batch };
        let (_, response) = match client.upload_recontacts(&upload).await {
            Err(SyncError::Refused { status: 404, .. }) => return Ok(done),
            other => other?,
        };
        let sent: Vec<uuid::Uuid> = upload.recontacts.iter().map(|r| r.interview_id).collect();
        let receipts = plan::receipts_for_batch(&sent, &response);
        let left = with_store(store, move |s| {
            s.finish_recontact_upload(&receipts, Utc::now())
        })
        .await?;
        if left == 0 {
            return Err(SyncError::BadResponse(
                "the server sent no receipt for any re-contact details sent".into(),
            ));
        }
        done += left;
    }
}

/// Uploads every quiz session waiting on the tablet (issue 24), batch by batch, each leaving
/// the queue only once its receipt is committed; returns how many left it. A server that does
/// not know quiz sessions yet (404) leaves them waiting for a later pass.
pub async fn sync_quiz_sessions(
    store: &SharedStore,
    client: &SyncClient,
) -> Result<usize, SyncError> {
    let mut done = 0;
    loop {
        let batch = with_store(store, |s| {
            s.waiting_quiz_sessions(zhisu_protocol::outreach::MAX_QUIZ_BATCH)
        })
        .await?;
        if batch.is_empty() {
            return Ok(done);
        }
        let upload = zhisu_protocol::QuizSessionUpload { sessions: batch };
        let (_, response) = match client.upload_quiz_sessions(&upload).await {
            Err(SyncError::Refused { status: 404, .. }) => return Ok(done),
            other => other?,
        };
        let sent: Vec<uuid::Uuid> = upload.sessions.iter().map(|s| s.id).collect();
        let receipts = plan::receipts_for_batch(&sent, &response);
        let left = with_store(store, move |s| s.finish_quiz_upload(&receipts, Utc::now())).await?;
        if left == 0 {
            return Err(SyncError::BadResponse(
                "the server sent no receipt for any quiz session sent".into(),
            ));
        }
        done += left;
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

/// Downloads the questionnaire versions the server publishes that the device does not hold
/// (compared by hash), checks and keeps them. Returns how many were new.
pub async fn sync_questionnaires(
    store: &SharedStore,
    client: &SyncClient,
) -> Result<usize, SyncError> {
    let listing = client.questionnaire_listing().await?;
    let held = with_store(store, |s| s.questionnaire_refs()).await?;
    let mut new = 0;
    for wanted in plan::questionnaires_to_fetch(&listing.questionnaires, &held) {
        let download = client
            .download_questionnaire(&wanted.id, &wanted.version)
            .await?;
        if download.hash != wanted.hash {
            return Err(SyncError::BadResponse(format!(
                "questionnaire {} {} changed while downloading",
                wanted.id, wanted.version
            )));
        }
        with_store(store, move |s| s.save_questionnaire(&download, Utc::now())).await?;
        new += 1;
    }
    Ok(new)
}

/// Bytes of a recording kept in the store at a time while it downloads: what arrived before a
/// connection broke is kept, and the next try asks only for the rest.
const MEDIA_PIECE: usize = 256 * 1024;

/// Fetches the list of recordings of the questionnaire versions this device receives, keeps
/// it, and fetches the bytes of each recording not all here yet, once per hash, from where an
/// earlier download stopped (`Range`), checking the hash of the whole; bytes that do not match
/// are dropped and fetched again once. Returns how many recordings were completed.
pub async fn sync_recordings(store: &SharedStore, client: &SyncClient) -> Result<usize, SyncError> {
    let listing = client.recording_listing().await?;
    with_store(store, move |s| s.replace_recordings(&listing.recordings)).await?;
    let wanted = with_store(store, |s| s.media_to_fetch()).await?;
    let mut completed = 0;
    for media in wanted.into_iter().filter(|m| m.size <= MAX_RECORDING_BYTES) {
        let mut fetched = fetch_media(store, client, &media).await?;
        if !fetched {
            tracing::warn!(sha256 = %media.sha256, "a recording did not match its hash; fetching it again");
            let again = MediaWanted {
                received: 0,
                ..media.clone()
            };
            fetched = fetch_media(store, client, &again).await?;
        }
        if !fetched {
            return Err(SyncError::BadResponse(format!(
                "the recording {} twice did not match its hash",
                media.sha256
            )));
        }
        completed += 1;
    }
    Ok(completed)
}

/// One try at the rest of a recording: true when all of it is here and matches its hash.
async fn fetch_media(
    store: &SharedStore,
    client: &SyncClient,
    media: &MediaWanted,
) -> Result<bool, SyncError> {
    let finish = |store: &SharedStore| {
        let store = Arc::clone(store);
        let sha = media.sha256.clone();
        async move { with_store(&store, move |s| s.finish_media(&sha)).await }
    };
    let mut offset = media.received;
    if offset >= media.size {
        return Ok(finish(store).await?);
    }
    let mut response = client.media(&media.sha256, offset).await?;
    let status = response.status().as_u16();
    match status {
        206 => {
            let from = response
                .headers()
                .get(reqwest::header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("bytes "))
                .and_then(|v| v.split('-').next())
                .and_then(|v| v.parse::<u64>().ok());
            if from != Some(offset) {
                return Err(SyncError::BadResponse(format!(
                    "asked for recording {} from byte {offset}, the server sent another range",
                    media.sha256
                )));
            }
        }
        200 if offset > 0 => {
            // the server sent all of it: start again from the first byte
            finish(store).await?;
            offset = 0;
        }
        200 => {}
        416 => return Ok(finish(store).await?),
        _ => {
            return Err(SyncClient::read::<serde_json::Value>(response)
                .await
                .err()
                .unwrap_or_else(|| {
                    SyncError::BadResponse(format!("the server answered {status} for a recording"))
                }))
        }
    }
    let mut piece: Vec<u8> = Vec::with_capacity(MEDIA_PIECE);
    loop {
        let next = response.chunk().await;
        let chunk = match next {
            Ok(Some(chunk)) => Some(chunk),
            Ok(None) => None,
            Err(error) => {
                // keep what arrived, so the next try asks only for the rest
                let (sha, part) = (media.sha256.clone(), std::mem::take(&mut piece));
                if offset + part.len() as u64 <= media.size {
                    with_store(store, move |s| s.append_media(&sha, offset, &part)).await?;
                }
                return Err(SyncError::Unreachable(error));
            }
        };
        let done = chunk.is_none();
        if let Some(chunk) = chunk {
            piece.extend_from_slice(&chunk);
        }
        if (done && !piece.is_empty()) || piece.len() >= MEDIA_PIECE {
            if offset + piece.len() as u64 > media.size {
                // more bytes than the recording has: not it
                finish(store).await?;
                return Ok(false);
            }
            let (sha, part) = (media.sha256.clone(), std::mem::take(&mut piece));
            offset = with_store(store, move |s| s.append_media(&sha, offset, &part)).await?;
        }
        if done {
            break;
        }
    }
    Ok(finish(store).await?)
}

/// Fetches this device's assignment (sites and quotas, review rejections, the round's
/// settings) and keeps it; then the education library when the assignment's digest differs
/// from the library's on the device (a library that cannot be fetched now is fetched at the
/// next pass: it never holds up the interviews).
pub async fn sync_assignment(store: &SharedStore, client: &SyncClient) -> Result<usize, SyncError> {
    let pending = with_store(store, |s| s.state_counts()).await?.waiting;
    let assignment = client.assignment_with_pending(pending).await?;
    let n = assignment.sites.len();
    let wanted_library = assignment.library.clone();
    let wanted_surveyors = assignment.surveyors.clone();
    with_store(store, move |s| {
        s.save_sites(&assignment.sites)?;
        s.save_round_settings(&assignment.settings)?;
        s.save_round_key(assignment.round_key.as_ref())?;
        s.apply_review_rejections(&assignment.rejected)?;
        s.save_outreach(&assignment.events, &assignment.weak_items)?;
        s.save_backchecks(&assignment.backchecks)?;
        Ok(())
    })
    .await?;
    if let Some(digest) = wanted_surveyors {
        match sync_surveyors(store, client, &digest).await {
            Ok(None) => {}
            Ok(Some(kept)) => tracing::info!(kept, "district's surveyors received"),
            Err(error @ SyncError::Unreachable(_)) => return Err(error),
            Err(error) => tracing::warn!(%error, "district's surveyors not fetched"),
        }
    }
    if let Some(digest) = wanted_library {
        match sync_library(store, client, &digest).await {
            Ok(None) => {}
            Ok(Some(kept)) => tracing::info!(kept, "education library received"),
            Err(error @ SyncError::Unreachable(_)) => return Err(error),
            Err(error) => tracing::warn!(%error, "education library not fetched"),
        }
    }
    Ok(n)
}

/// Fetches the education library and replaces the device's when its digest differs from
/// `digest`; how many pieces it kept (`None`: nothing to fetch).
pub async fn sync_library(
    store: &SharedStore,
    client: &SyncClient,
    digest: &str,
) -> Result<Option<usize>, SyncError> {
    let held = with_store(store, |s| s.library_digest()).await?;
    if held == digest {
        return Ok(None);
    }
    let library: Library = client.get(LIBRARY_PATH).await?;
    let kept = with_store(store, move |s| s.replace_library(&library)).await?;
    Ok(Some(kept))
}

/// Fetches the district's surveyors managed on the server and keeps them when their digest
/// differs from `digest` (issue 15); how many can sign in (`None`: nothing to fetch).
pub async fn sync_surveyors(
    store: &SharedStore,
    client: &SyncClient,
    digest: &str,
) -> Result<Option<usize>, SyncError> {
    let held = with_store(store, |s| s.delivered_surveyors_digest()).await?;
    if held == digest {
        return Ok(None);
    }
    let list: SurveyorList = client.get(SURVEYORS_PATH).await?;
    let kept = with_store(store, move |s| {
        s.replace_delivered_surveyors(&list, chrono::Utc::now())
    })
    .await?;
    Ok(Some(kept))
}

/// How far the current sync pass is, for a progress bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncProgress {
    /// Interviews with an answer from the server in this pass.
    pub done: usize,
    /// Interviews waiting when the pass started.
    pub total: usize,
}

/// Uploads every waiting interview, batch by batch, until none is left or an attempt fails.
/// Each attempt is in the sync log; `progress` is told after every batch. One interview the
/// server refuses outright never blocks the queue: a batch refused for what it carries
/// (`SyncError::refuses_content`: malformed, too large) is sent again in halves until the
/// interview at fault is alone, and that one is set aside as rejected, with the server's
/// reason for the surveyor; the rest go on.
pub async fn sync_once(
    store: &SharedStore,
    client: &SyncClient,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    let total = with_store(store, |s| s.state_counts()).await?.waiting as usize;
    progress(SyncProgress { done: 0, total });
    let server_url = client.base_url().to_string();
    let mut limit = MAX_BATCH_INTERVIEWS;
    loop {
        let url = server_url.clone();
        let Some(attempt) =
            with_store(store, move |s| s.begin_upload(limit, &url, Utc::now())).await?
        else {
            return Ok(report);
        };
        let sent = attempt.ids();
        let request = UploadRequest {
            interviews: attempt.interviews.clone(),
            contacts: attempt.contacts.clone(),
            sealed: attempt.sealed.clone(),
        };
        let (status, response) = match client.upload(&request).await {
            Ok(answer) => answer,
            Err(error) => {
                let outcome = AttemptOutcome {
                    http_status: error.http_status(),
                    error_code: error.code().to_string(),
                    error_message: error.to_string(),
                    may_have_arrived: error.may_have_arrived(),
                };
                let unsendable = error.refuses_content();
                let alone = attempt.len() == 1;
                let (code, message) = (error.code().to_string(), error.to_string());
                with_store(store, move |s| {
                    s.fail_upload(&attempt, &outcome, Utc::now())?;
                    if unsendable && alone {
                        s.set_aside_unsendable(&attempt, &code, &message)?;
                    }
                    Ok(())
                })
                .await?;
                if !unsendable {
                    return Err(error);
                }
                if alone {
                    report.rejected += 1;
                    limit = MAX_BATCH_INTERVIEWS;
                } else {
                    limit = (sent.len() / 2).max(1);
                }
                continue;
            }
        };
        let receipts = plan::receipts_for_batch(&sent, &response);
        report.sent += sent.len();
        report.acknowledged += receipts
            .iter()
            .filter(|r| r.status.is_acknowledged())
            .count();
        report.rejected += receipts
            .iter()
            .filter(|r| !r.status.is_acknowledged())
            .count();
        let answered = receipts.len();
        with_store(store, move |s| {
            s.finish_upload(&attempt, status, &receipts, Utc::now())
        })
        .await?;
        progress(SyncProgress {
            done: (report.acknowledged + report.rejected).min(total.max(report.sent)),
            total: total.max(report.sent),
        });
        if answered == 0 {
            return Err(SyncError::BadResponse(
                "the server sent no receipt for any interview sent".into(),
            ));
        }
    }
}

/// What the app shows about sync.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// `None` before the first attempt.
    pub online: Option<bool>,
    /// Set while a pass runs.
    pub progress: Option<SyncProgress>,
    /// The policy says Wi-Fi only and the network is metered: nothing is sent.
    pub waiting_for_wifi: bool,
    /// Not enrolled yet: nothing to sync with.
    pub not_enrolled: bool,
    /// The server revoked this device: syncing stopped.
    pub revoked: bool,
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
    pub policy: plan::SyncPolicy,
    /// Checks for a newer version of the app at every successful pass, when given.
    pub updater: Option<Arc<update::Updater>>,
}

impl Default for SyncSchedule {
    fn default() -> Self {
        SyncSchedule {
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            idle_poll: Duration::from_secs(30),
            policy: plan::SyncPolicy::AnyNetwork,
            updater: None,
        }
    }
}

/// Runs forever: syncs when `trigger` is notified (an interview was completed, "sync now", the
/// device was enrolled), when the idle poll comes round, and after a failure with exponential
/// backoff and jitter, as the network policy allows (`network` says what the platform knows of
/// the connection). The server and token come from the device identity in the store, read
/// before every pass; a revoked device stops syncing until it is enrolled again.
pub async fn run(
    store: SharedStore,
    trigger: Arc<Notify>,
    status: watch::Sender<SyncStatus>,
    schedule: SyncSchedule,
    network: watch::Receiver<plan::NetworkKind>,
) {
    let mut backoff = plan::Backoff::new(schedule.base_backoff, schedule.max_backoff);
    let status = Arc::new(status);
    loop {
        let allowed = plan::may_sync(schedule.policy, *network.borrow());
        status
            .send_if_modified(|s| std::mem::replace(&mut s.waiting_for_wifi, !allowed) == allowed);
        let identity = with_store(&store, |s| s.identity()).await;
        let wait = match identity {
            Ok(None) => {
                status.send_if_modified(|s| !std::mem::replace(&mut s.not_enrolled, true));
                schedule.idle_poll
            }
            Ok(Some(identity)) if identity.revoked_at.is_some() => {
                status.send_modify(|s| {
                    s.not_enrolled = false;
                    s.revoked = true;
                });
                schedule.idle_poll
            }
            Ok(Some(_)) if !allowed => schedule.idle_poll,
            Ok(Some(identity)) => {
                status.send_modify(|s| {
                    s.not_enrolled = false;
                    s.revoked = false;
                });
                let client = SyncClient::new(&identity.server_url).with_token(&identity.token);
                let attempt_at = Utc::now();
                let progress_status = Arc::clone(&status);
                let pass = async {
                    let new = sync_questionnaires(&store, &client).await?;
                    if new > 0 {
                        tracing::info!(new, "questionnaire versions received");
                    }
                    // recordings never hold up the interviews: a failure is logged and the
                    // rest is fetched at the next pass, from where it stopped
                    match sync_recordings(&store, &client).await {
                        Ok(0) => {}
                        Ok(completed) => tracing::info!(completed, "recordings received"),
                        Err(error @ SyncError::Unreachable(_)) => return Err(error),
                        Err(error) => tracing::warn!(%error, "recordings not fetched"),
                    }
                    sync_assignment(&store, &client).await?;
                    let waiting = with_store(&store, |s| s.state_counts()).await?.waiting;
                    let report = if waiting == 0 {
                        SyncReport::default()
                    } else {
                        sync_once(&store, &client, &move |p| {
                            progress_status.send_modify(|s| s.progress = Some(p));
                        })
                        .await?
                    };
                    // quiz sessions are outreach records, not interviews: their own queue,
                    // after the interviews, and never holding them up
                    match sync_quiz_sessions(&store, &client).await {
                        Ok(0) => {}
                        Ok(quizzes) => tracing::info!(quizzes, "quiz sessions acknowledged"),
                        Err(error @ SyncError::Unreachable(_)) => return Err(error),
                        Err(error) => tracing::warn!(%error, "quiz sessions not sent"),
                    }
                    match sync_backchecks(&store, &client).await {
                        Ok(0) => {}
                        Ok(backchecks) => tracing::info!(backchecks, "back-checks acknowledged"),
                        Err(error @ SyncError::Unreachable(_)) => return Err(error),
                        Err(error) => tracing::warn!(%error, "back-checks not sent"),
                    }
                    // after the interviews' receipts: the server holds the interview first
                    match sync_recontacts(&store, &client).await {
                        Ok(0) => {}
                        Ok(recontacts) => {
                            tracing::info!(recontacts, "re-contact details acknowledged")
                        }
                        Err(error @ SyncError::Unreachable(_)) => return Err(error),
                        Err(error) => tracing::warn!(%error, "re-contact details not sent"),
                    }
                    // a newer version of the app: last, and never holding up the rest
                    if let Some(updater) = &schedule.updater {
                        match updater.check(&client).await {
                            Ok(Some(found)) => {
                                tracing::info!(version = %found.version, refused = ?found.refused, "app update")
                            }
                            Ok(None) => {}
                            Err(error) => tracing::warn!(%error, "app update not checked"),
                        }
                    }
                    Ok(report)
                };
                let report = pass.await;
                status.send_modify(|s| s.progress = None);
                match report {
                    Ok(report) => {
                        backoff.reset();
                        status.send_modify(|s| {
                            s.online = Some(true);
                            s.last_attempt_at = Some(attempt_at);
                            s.last_success_at = Some(Utc::now());
                            s.last_error = None;
                            s.last_error_code = None;
                        });
                        if report.sent == 0 {
                            schedule.idle_poll
                        } else {
                            tracing::info!(?report, "sync pass finished");
                            continue; // look again at once: more may have been completed meanwhile
                        }
                    }
                    Err(error) if error.is_revoked() => {
                        tracing::warn!("the server revoked this device; syncing stops");
                        if let Err(e) = with_store(&store, |s| s.mark_revoked(Utc::now())).await {
                            tracing::error!(%e, "cannot record the revocation");
                        }
                        continue;
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
                tracing::error!(%error, "cannot read the device identity");
                backoff.next_delay(jitter_unit())
            }
        };
        let mut network_changed = network.clone();
        tokio::select! {
            _ = trigger.notified() => backoff.reset(),
            _ = network_changed.changed() => backoff.reset(),
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// A random number in `[0, 1)` from the OS generator (by way of a v4 UUID, already a dependency).
fn jitter_unit() -> f64 {
    (uuid::Uuid::new_v4().as_u128() as u64 >> 11) as f64 / (1u64 << 53) as f64
}
