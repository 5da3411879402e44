//! HTTP handlers. Every error is `{code, message}` with a fitting status; see
//! `docs/sync-protocol.md`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use zhisu_core::ScoreReport;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use uuid::Uuid;
use zhisu_protocol::{
    codes, ApiError, CompletedInterview, DeviceAssignment, EnrolRequest, Enrolment,
    QuestionnaireDownload, QuestionnaireListing, QuestionnaireRef, Receipt, ReceiptStatus,
    UploadRequest, UploadResponse, ASSIGNMENT_PATH, ENROL_PATH, MAX_BATCH_INTERVIEWS,
    PROTOCOL_HEADER, PROTOCOL_VERSION, QUESTIONNAIRES_PATH, UPLOAD_PATH,
};

use crate::devices::{hash_token, AuditEntry, Device, EnrolRefusal};
use crate::people::{verify_password, Person, Role, SESSION_HOURS};
use crate::ServerState;

pub fn router(state: ServerState) -> Router {
    let limit = state.max_body_bytes;
    Router::new()
        .route("/healthz", get(health))
        .route(ENROL_PATH, post(enrol))
        .route(ASSIGNMENT_PATH, get(assignment))
        .route(UPLOAD_PATH, post(upload))
        .route("/api/v1/interviews", get(list_interviews))
        .route("/api/v1/session", post(sign_in).delete(sign_out))
        .route("/api/v1/me", get(me))
        .route("/api/v1/people", get(list_people).post(add_person))
        .route("/api/v1/people/{username}/disable", post(disable_person))
        .route("/api/v1/people/{username}/enable", post(enable_person))
        .route("/api/v1/enrolment-codes", post(create_enrolment_code))
        .route("/api/v1/devices", get(list_devices))
        .route("/api/v1/devices/{id}/revoke", post(revoke_device))
        .route(
            "/api/v1/districts/{district}/sites",
            get(district_sites).put(replace_district_sites),
        )
        .route("/api/v1/audit", get(audit_log))
        .route(
            "/api/v1/rounds/{round}/settings",
            get(get_round_settings).put(put_round_settings),
        )
        .route(
            QUESTIONNAIRES_PATH,
            get(list_questionnaires).post(publish_questionnaire),
        )
        .route(
            "/api/v1/questionnaires/{id}/{version}",
            get(download_questionnaire),
        )
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi))
        .merge(crate::dashboard::routes())
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_request,
        ))
        .with_state(state)
}

/// Counts every request by its route template (not its path: ids would explode the series).
async fn count_request(
    State(state): State<ServerState>,
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

async fn metrics(State(state): State<ServerState>) -> Result<Response, Failure> {
    let storage = state.storage.clone();
    let stored = blocking(move || storage.interview_count()).await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(stored),
    )
        .into_response())
}

async fn health(State(state): State<ServerState>) -> Result<String, Failure> {
    let storage = state.storage.clone();
    let version = blocking(move || storage.schema_version()).await?;
    Ok(format!("ok {} schema {version}", state.storage.backend()))
}

/// Runs storage work on the blocking pool; its errors become `500 internal`.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::StorageError> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(Failure::internal)?
        .map_err(Failure::internal)
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The dashboard's session cookie (HttpOnly, SameSite=Strict; set by its sign-in form).
pub const SESSION_COOKIE: &str = "zhisu_session";

fn session_cookie(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE && !value.is_empty()).then_some(value)
        })
}

/// An enrolled, not revoked device, from its `Authorization: Bearer` token; rate-limited.
pub struct AuthedDevice(pub Device);

impl FromRequestParts<ServerState> for AuthedDevice {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &ServerState) -> Result<Self, Failure> {
        check_protocol(&parts.headers)?;
        let unauthorized = || {
            Failure::new(
                StatusCode::UNAUTHORIZED,
                codes::UNAUTHORIZED,
                "this device is not enrolled (missing or unknown token); enrol it with a code from the administrator",
            )
        };
        let token_hash = hash_token(bearer(parts).ok_or_else(unauthorized)?);
        let storage = state.storage.clone();
        let device = blocking(move || storage.device_for_token(&token_hash, Utc::now()))
            .await?
            .ok_or_else(unauthorized)?;
        if device.revoked_at.is_some() {
            return Err(Failure::new(
                StatusCode::UNAUTHORIZED,
                codes::DEVICE_REVOKED,
                "this device has been revoked by the administrator; hand its data over as a backup",
            ));
        }
        if !state.rate_limit.allow(device.id) {
            return Err(Failure::new(
                StatusCode::TOO_MANY_REQUESTS,
                codes::RATE_LIMITED,
                "too many requests from this device; wait a moment",
            ));
        }
        Ok(AuthedDevice(device))
    }
}

/// A signed-in person, from the `Authorization: Bearer` session token.
pub struct Session {
    pub person: Person,
    pub(crate) token_hash: String,
}

impl FromRequestParts<ServerState> for Session {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &ServerState) -> Result<Self, Failure> {
        let unauthorized = || {
            Failure::new(
                StatusCode::UNAUTHORIZED,
                codes::UNAUTHORIZED,
                "sign in first (the session is missing, ended or expired)",
            )
        };
        let token = bearer(parts)
            .or_else(|| session_cookie(parts))
            .ok_or_else(unauthorized)?;
        let token_hash = hash_token(token);
        let storage = state.storage.clone();
        let lookup = token_hash.clone();
        let person = blocking(move || storage.session_person(&lookup, Utc::now()))
            .await?
            .ok_or_else(unauthorized)?;
        Ok(Session { person, token_hash })
    }
}

fn forbidden(what: &str) -> Failure {
    Failure::new(
        StatusCode::FORBIDDEN,
        codes::FORBIDDEN,
        format!("your role may not {what}"),
    )
}

/// A token bucket per device: `rate` requests a second on average, bursts up to `burst`.
pub struct RateLimit {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<Uuid, (f64, Instant)>>,
}

impl RateLimit {
    pub fn per_device(rate: f64, burst: f64) -> Self {
        RateLimit {
            rate,
            burst,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn allow(&self, device: Uuid) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = buckets.entry(device).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

async fn enrol(
    State(state): State<ServerState>,
    headers: HeaderMap,
    body: Result<Json<EnrolRequest>, JsonRejection>,
) -> Result<Json<Enrolment>, Failure> {
    check_protocol(&headers)?;
    let Json(request) = body.map_err(json_rejection)?;
    let name = request.device_name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_REQUEST,
            "give the device a name of 1 to 100 characters",
        ));
    }
    let for_enrol = state.clone();
    let outcome = tokio::task::spawn_blocking(move || for_enrol.enrol(&request.code, &name))
        .await
        .map_err(Failure::internal)?
        .map_err(Failure::internal)?;
    match outcome {
        Ok(enrolment) => {
            state.metrics.enrolment();
            let audit_state = state.clone();
            let detail = format!(
                "device {} in {} ({})",
                enrolment.device_id, enrolment.district, enrolment.round
            );
            blocking(move || audit_state.audit("device", "enrol_device", &detail)).await?;
            Ok(Json(enrolment))
        }
        Err(refusal) => Err(Failure::new(
            match refusal {
                EnrolRefusal::Unknown => StatusCode::NOT_FOUND,
                EnrolRefusal::Used | EnrolRefusal::Expired => StatusCode::GONE,
            },
            codes::INVALID_ENROLMENT_CODE,
            refusal.to_string(),
        )),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AssignmentQuery {
    /// Interviews waiting on the device, for the dashboard's view of the tablets.
    #[serde(default)]
    pub pending: Option<u32>,
}

async fn assignment(
    State(state): State<ServerState>,
    AuthedDevice(device): AuthedDevice,
    axum::extract::Query(query): axum::extract::Query<AssignmentQuery>,
) -> Result<Json<DeviceAssignment>, Failure> {
    let storage = state.storage.clone();
    let district = device.district.clone();
    let round = device.round.clone();
    let device_id = device.id;
    let (sites, rejected, settings) = blocking(move || {
        if let Some(pending) = query.pending {
            storage.note_pending(device_id, pending)?;
        }
        Ok::<_, crate::StorageError>((
            storage.sites(&district)?,
            storage.rejected_for_device(device_id)?,
            storage.round_settings(&round)?.unwrap_or_default(),
        ))
    })
    .await?;
    Ok(Json(DeviceAssignment {
        device_id: device.id,
        round: device.round,
        district: device.district,
        sites,
        rejected,
        settings,
    }))
}

async fn get_round_settings(
    State(state): State<ServerState>,
    _session: Session,
    Path(round): Path<String>,
) -> Result<Json<zhisu_protocol::RoundSettings>, Failure> {
    let storage = state.storage.clone();
    Ok(Json(
        blocking(move || storage.round_settings(&round))
            .await?
            .unwrap_or_default(),
    ))
}

/// Sets a round's settings (city administrators): delivered to its devices at their next sync.
async fn put_round_settings(
    State(state): State<ServerState>,
    session: Session,
    Path(round): Path<String>,
    body: Result<Json<zhisu_protocol::RoundSettings>, JsonRejection>,
) -> Result<Json<zhisu_protocol::RoundSettings>, Failure> {
    if session.person.role != crate::people::Role::CityAdmin {
        return Err(forbidden("set a round's settings"));
    }
    let Json(settings) = body.map_err(json_rejection)?;
    let q = &settings.quality;
    if !(q.min_seconds_per_item.is_finite() && q.min_seconds_per_item >= 0.0) {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_REQUEST,
            "quality.min_seconds_per_item must be a number of seconds, 0 or more",
        ));
    }
    let (storage, s2, r2) = (state.storage.clone(), settings.clone(), round.clone());
    blocking(move || storage.set_round_settings(&r2, &s2)).await?;
    let detail = format!(
        "round {round}: {}",
        serde_json::to_string(&settings).unwrap_or_default()
    );
    let (st, actor) = (state.clone(), session.person.username.clone());
    blocking(move || st.audit(&actor, "set_round_settings", &detail)).await?;
    Ok(Json(settings))
}

/// An error response: status plus `{code, message}`.
pub struct Failure {
    pub(crate) status: StatusCode,
    pub(crate) error: ApiError,
}

impl Failure {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Failure {
            status,
            error: ApiError {
                code: code.to_string(),
                message: message.into(),
            },
        }
    }

    fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error");
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL,
            "the server could not complete the request; try again later",
        )
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.status, Json(self.error)).into_response()
    }
}

fn check_protocol(headers: &HeaderMap) -> Result<(), Failure> {
    let given = headers
        .get(PROTOCOL_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if given == PROTOCOL_VERSION.to_string() {
        Ok(())
    } else {
        Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::UNSUPPORTED_PROTOCOL,
            format!("this server speaks sync protocol {PROTOCOL_VERSION}; the request said {given:?} in the {PROTOCOL_HEADER} header"),
        ))
    }
}

fn json_rejection(rejection: JsonRejection) -> Failure {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::BATCH_TOO_LARGE,
            "the request body is too large; send fewer interviews per request",
        )
    } else {
        Failure::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_REQUEST,
            rejection.body_text(),
        )
    }
}

fn rejected(interview: &CompletedInterview, code: &str, message: String) -> Receipt {
    Receipt {
        interview_id: interview.id,
        status: ReceiptStatus::Rejected,
        code: Some(code.to_string()),
        message: Some(message),
    }
}

/// Checks one interview against its questionnaire and scores it, or says why it is rejected.
fn accept(
    state: &ServerState,
    interview: CompletedInterview,
    thresholds: &zhisu_core::QcThresholds,
) -> Result<crate::storage::Accepted, Receipt> {
    if !interview.hash_is_valid() {
        return Err(rejected(
            &interview,
            codes::CONTENT_HASH_MISMATCH,
            "the content hash does not match the interview; it was changed or damaged in transit"
                .into(),
        ));
    }
    let Some(published) = state.questionnaires.get(
        &interview.questionnaire_id,
        &interview.questionnaire_version,
    ) else {
        return Err(rejected(
            &interview,
            codes::UNKNOWN_QUESTIONNAIRE_VERSION,
            format!(
                "the server has no questionnaire {} version {}",
                interview.questionnaire_id, interview.questionnaire_version
            ),
        ));
    };
    let questionnaire = &published.questionnaire;
    let problems = questionnaire.check_interview(&interview.answers);
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(rejected(
            &interview,
            codes::INVALID_ANSWERS,
            list.join("; "),
        ));
    }
    let score = questionnaire.score(&interview.answers);
    Ok(crate::storage::Accepted::with_thresholds(
        questionnaire,
        interview,
        score,
        thresholds,
    ))
}

async fn upload(
    State(state): State<ServerState>,
    AuthedDevice(device): AuthedDevice,
    body: Result<Json<UploadRequest>, JsonRejection>,
) -> Result<Json<UploadResponse>, Failure> {
    let Json(request) = body.map_err(json_rejection)?;
    if request.interviews.len() > MAX_BATCH_INTERVIEWS {
        return Err(Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::BATCH_TOO_LARGE,
            format!(
                "at most {MAX_BATCH_INTERVIEWS} interviews per request; this one had {}",
                request.interviews.len()
            ),
        ));
    }
    let state_for_ingest = state.clone();
    let receipts = tokio::task::spawn_blocking(move || {
        ingest(&state_for_ingest, request.interviews, Some(&device))
    })
    .await
    .map_err(Failure::internal)?
    .map_err(Failure::internal)?;
    for receipt in &receipts {
        state.metrics.receipt(receipt.status);
    }
    Ok(Json(UploadResponse { receipts }))
}

/// How far from its site's position an interview may be recorded before it is flagged.
pub const MAX_DISTANCE_FROM_SITE_M: f64 = 2_000.0;

/// Adds the "far from the site" flag to interviews whose recorded position (from the device's
/// paradata) is far from their site's position in the sample plan.
fn flag_far_from_site(
    state: &ServerState,
    device: &Device,
    accepted: &mut [crate::storage::Accepted],
) -> Result<(), crate::StorageError> {
    let located = |a: &crate::storage::Accepted| {
        a.interview.site_id.is_some()
            && a.interview
                .paradata
                .as_ref()
                .is_some_and(|p| p.location_start.is_some() || p.location_end.is_some())
    };
    if !accepted.iter().any(located) {
        return Ok(());
    }
    let sites = state.storage.sites(&device.district)?;
    for a in accepted.iter_mut().filter(|a| located(a)) {
        let site = sites
            .iter()
            .find(|s| a.interview.site_id.as_deref() == Some(s.id.as_str()));
        if let (Some(site), Some(paradata)) = (site, &a.interview.paradata) {
            if let (Some(lat), Some(lon)) = (site.latitude, site.longitude) {
                if let Some(flag) =
                    zhisu_core::location_flag(paradata, (lat, lon), MAX_DISTANCE_FROM_SITE_M)
                {
                    a.facts.qc_flags.push(flag);
                }
            }
        }
    }
    Ok(())
}

/// Checks, re-scores and stores a batch of interviews; one receipt per interview, in order.
/// Every interview is decided first (pure), then the accepted ones are stored in one
/// transaction: on error nothing of the batch is stored. Used by uploads and backup imports.
pub fn ingest(
    state: &ServerState,
    interviews: Vec<CompletedInterview>,
    device: Option<&Device>,
) -> Result<Vec<Receipt>, crate::StorageError> {
    let mut receipts: Vec<Option<Receipt>> = Vec::with_capacity(interviews.len());
    let mut accepted = Vec::new();
    let thresholds = match device {
        Some(d) => {
            state
                .storage
                .round_settings(&d.round)?
                .unwrap_or_default()
                .quality
        }
        None => zhisu_core::QcThresholds::default(),
    };
    for interview in interviews {
        match accept(state, interview, &thresholds) {
            Ok(one) => {
                receipts.push(None);
                accepted.push(one);
            }
            Err(receipt) => receipts.push(Some(receipt)),
        }
    }
    if let Some(device) = device {
        flag_far_from_site(state, device, &mut accepted)?;
    }
    let stored = state.storage.ingest(&accepted, device, Utc::now())?;
    let mut stored = stored.into_iter();
    Ok(receipts
        .into_iter()
        .map(|r| r.or_else(|| stored.next()))
        .collect::<Option<Vec<_>>>()
        .expect("one stored receipt per accepted interview"))
}

/// One interview as the server holds it, with the server's own score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredInterview {
    pub interview: CompletedInterview,
    pub received_at: DateTime<Utc>,
    pub score: ScoreReport,
    /// The district of the device that sent it (none for backups imported by hand).
    #[serde(default)]
    pub district: Option<String>,
    /// The respondent's key population (the `population` answer), when asked.
    #[serde(default)]
    pub population: Option<String>,
    /// Where it stands in quality review (`unreviewed`, `approved`, `has_issues`, `rejected`).
    #[serde(default)]
    pub qc_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterviewList {
    pub count: usize,
    pub interviews: Vec<StoredInterview>,
}

async fn list_interviews(
    State(state): State<ServerState>,
    session: Session,
) -> Result<Json<InterviewList>, Failure> {
    let storage = state.storage.clone();
    let scope = session.person.role.scope();
    let interviews = blocking(move || storage.interviews(&scope)).await?;
    Ok(Json(InterviewList {
        count: interviews.len(),
        interviews,
    }))
}

async fn list_questionnaires(
    State(state): State<ServerState>,
    AuthedDevice(device): AuthedDevice,
) -> Result<Json<QuestionnaireListing>, Failure> {
    Ok(Json(QuestionnaireListing {
        questionnaires: state.questionnaires.refs_for(Some(&device.round)),
    }))
}

async fn download_questionnaire(
    State(state): State<ServerState>,
    _device: AuthedDevice,
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<QuestionnaireDownload>, Failure> {
    state
        .questionnaires
        .download(&id, &version)
        .map(Json)
        .ok_or_else(|| {
            Failure::new(
                StatusCode::NOT_FOUND,
                codes::UNKNOWN_QUESTIONNAIRE_VERSION,
                format!("the server publishes no questionnaire {id} version {version}"),
            )
        })
}

#[derive(Debug, Deserialize)]
pub struct SignIn {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SessionCreated {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub person: Person,
}

async fn sign_in(
    State(state): State<ServerState>,
    body: Result<Json<SignIn>, JsonRejection>,
) -> Result<Json<SessionCreated>, Failure> {
    let Json(request) = body.map_err(json_rejection)?;
    Ok(Json(create_session(&state, request).await?))
}

/// Checks a username and password and opens a session (the API's and the dashboard's sign-in).
pub(crate) async fn create_session(
    state: &ServerState,
    request: SignIn,
) -> Result<SessionCreated, Failure> {
    let guard = &state.sign_in_guard;
    if let Err(wait) = guard.begin(&request.username, std::time::Instant::now()) {
        return Err(too_many_attempts(wait));
    }
    let storage = state.storage.clone();
    let username = request.username.trim().to_string();
    let found = blocking(move || storage.person_for_login(&username)).await?;
    // verify on the blocking pool: Argon2 takes tens of milliseconds by design
    let password = request.password;
    let person = tokio::task::spawn_blocking(move || {
        found.and_then(|(person, hash)| verify_password(&password, &hash).then_some(person))
    })
    .await
    .map_err(Failure::internal)?;
    let Some(person) = person else {
        if let Err(pause) = guard.check(&request.username, std::time::Instant::now()) {
            tracing::warn!(
                username = %request.username.trim(),
                pause_s = pause.as_secs(),
                "wrong passwords in a row: sign-in paused for this username"
            );
        }
        return Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            codes::BAD_CREDENTIALS,
            "the username or password is wrong",
        ));
    };
    guard.succeeded(&request.username);
    let token = crate::devices::new_token();
    let expires_at = Utc::now() + chrono::Duration::hours(SESSION_HOURS);
    let storage = state.storage.clone();
    let (token_hash, id) = (hash_token(&token), person.id);
    blocking(move || storage.add_session(&token_hash, id, expires_at, Utc::now())).await?;
    Ok(SessionCreated {
        token,
        expires_at,
        person,
    })
}

/// Sign-in paused for a username: how long to wait, in whole minutes (at least one).
fn too_many_attempts(wait: std::time::Duration) -> Failure {
    Failure::new(
        StatusCode::TOO_MANY_REQUESTS,
        codes::TOO_MANY_SIGN_IN_ATTEMPTS,
        match wait_minutes(wait) {
            1 => "too many wrong passwords for this username: try again in 1 minute".to_string(),
            n => format!("too many wrong passwords for this username: try again in {n} minutes"),
        },
    )
}

/// Whole minutes to wait, rounded up, at least one.
pub(crate) fn wait_minutes(wait: std::time::Duration) -> u64 {
    wait.as_secs().div_ceil(60).max(1)
}

async fn sign_out(
    State(state): State<ServerState>,
    session: Session,
) -> Result<StatusCode, Failure> {
    let storage = state.storage.clone();
    blocking(move || storage.end_session(&session.token_hash, Utc::now())).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(session: Session) -> Json<Person> {
    Json(session.person)
}

/// Writes an administrative action to the audit log.
async fn audit(
    state: &ServerState,
    actor: &Person,
    action: &str,
    detail: String,
) -> Result<(), Failure> {
    let (state, actor, action) = (state.clone(), actor.username.clone(), action.to_string());
    blocking(move || state.audit(&actor, &action, &detail)).await
}

#[derive(Debug, Deserialize)]
pub struct NewPerson {
    pub username: String,
    pub display_name: String,
    pub password: String,
    #[serde(flatten)]
    pub role: Role,
}

/// A person as listed to administrators: never with a password hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonListing {
    #[serde(flatten)]
    pub person: Person,
    pub disabled_at: Option<DateTime<Utc>>,
}

async fn list_people(
    State(state): State<ServerState>,
    session: Session,
) -> Result<Json<Vec<PersonListing>>, Failure> {
    if session.person.role != Role::CityAdmin {
        return Err(forbidden("list people"));
    }
    let storage = state.storage.clone();
    let people = blocking(move || storage.people()).await?;
    Ok(Json(
        people
            .into_iter()
            .map(|(person, disabled_at)| PersonListing {
                person,
                disabled_at,
            })
            .collect(),
    ))
}

async fn disable_person(
    state: State<ServerState>,
    session: Session,
    path: Path<String>,
) -> Result<StatusCode, Failure> {
    set_disabled(state, session, path, true).await
}

async fn enable_person(
    state: State<ServerState>,
    session: Session,
    path: Path<String>,
) -> Result<StatusCode, Failure> {
    set_disabled(state, session, path, false).await
}

/// City administrators disable people (their sessions stop at once) and enable them again;
/// nobody disables themselves (the city would be left without an administrator).
async fn set_disabled(
    State(state): State<ServerState>,
    session: Session,
    Path(username): Path<String>,
    disable: bool,
) -> Result<StatusCode, Failure> {
    if session.person.role != Role::CityAdmin {
        return Err(forbidden("disable or enable people"));
    }
    if disable && username == session.person.username {
        return Err(Failure::new(
            StatusCode::CONFLICT,
            codes::FORBIDDEN,
            "you cannot disable yourself; ask another city administrator",
        ));
    }
    let storage = state.storage.clone();
    let name = username.clone();
    let found =
        blocking(move || storage.set_person_disabled(&name, disable.then(Utc::now))).await?;
    if !found {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            codes::NOT_FOUND,
            format!("no person with the username {username}"),
        ));
    }
    audit(
        &state,
        &session.person,
        if disable {
            "disable_person"
        } else {
            "enable_person"
        },
        username,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn add_person(
    State(state): State<ServerState>,
    session: Session,
    body: Result<Json<NewPerson>, JsonRejection>,
) -> Result<(StatusCode, Json<Person>), Failure> {
    if session.person.role != Role::CityAdmin {
        return Err(forbidden("add people"));
    }
    let Json(new) = body.map_err(json_rejection)?;
    if let Some(problem) = crate::people::password_problem(&new.password) {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_REQUEST,
            problem,
        ));
    }
    let person = Person {
        id: Uuid::new_v4(),
        username: new.username.trim().to_string(),
        display_name: new.display_name.trim().to_string(),
        role: new.role,
        created_at: Utc::now(),
    };
    let storage = state.storage.clone();
    let stored = person.clone();
    let added = blocking(move || {
        let hash = crate::people::hash_password(&new.password);
        storage.add_person(&stored, &hash)
    })
    .await?;
    if !added {
        return Err(Failure::new(
            StatusCode::CONFLICT,
            codes::USERNAME_TAKEN,
            "that username is taken",
        ));
    }
    audit(
        &state,
        &session.person,
        "add_person",
        format!("{} as {}", person.username, person.role.name()),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(person)))
}

#[derive(Debug, Deserialize)]
pub struct NewEnrolmentCode {
    pub round: String,
    pub district: String,
    #[serde(default = "default_valid_days")]
    pub valid_days: i64,
}

fn default_valid_days() -> i64 {
    7
}

#[derive(Debug, Serialize, Deserialize)]
pub struct EnrolmentCodeCreated {
    pub code: String,
    /// The code as a QR code (SVG), for the tablet's camera.
    pub qr_svg: String,
}

async fn create_enrolment_code(
    State(state): State<ServerState>,
    session: Session,
    body: Result<Json<NewEnrolmentCode>, JsonRejection>,
) -> Result<(StatusCode, Json<EnrolmentCodeCreated>), Failure> {
    let Json(request) = body.map_err(json_rejection)?;
    if !session.person.role.manages(&request.district) {
        return Err(forbidden("enrol devices in this district"));
    }
    if request.district.trim().is_empty() || request.round.trim().is_empty() {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_REQUEST,
            "district and round must not be empty",
        ));
    }
    if !(1..=90).contains(&request.valid_days) {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_REQUEST,
            "valid_days must be 1 to 90",
        ));
    }
    let for_code = state.clone();
    let actor = session.person.username.clone();
    let code = blocking(move || {
        for_code.create_enrolment_code(
            &request.round,
            &request.district,
            chrono::Duration::days(request.valid_days),
            &actor,
        )
    })
    .await?;
    let qr_svg = qrcode::QrCode::new(code.as_bytes())
        .map_err(Failure::internal)?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .build();
    Ok((
        StatusCode::CREATED,
        Json(EnrolmentCodeCreated { code, qr_svg }),
    ))
}

async fn list_devices(
    State(state): State<ServerState>,
    session: Session,
) -> Result<Json<Vec<Device>>, Failure> {
    let role = session.person.role;
    if !matches!(role, Role::CityAdmin | Role::DistrictAdmin { .. }) {
        return Err(forbidden("list devices"));
    }
    let storage = state.storage.clone();
    let devices = blocking(move || storage.devices()).await?;
    Ok(Json(
        devices
            .into_iter()
            .filter(|d| role.manages(&d.district))
            .collect(),
    ))
}

async fn revoke_device(
    State(state): State<ServerState>,
    session: Session,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, Failure> {
    let storage = state.storage.clone();
    let device = blocking(move || storage.device(id)).await?;
    let Some(device) = device.filter(|d| session.person.role.manages(&d.district)) else {
        // the same answer for "no such device" and "not yours": nothing leaks
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            codes::NOT_FOUND,
            "no such device",
        ));
    };
    let storage = state.storage.clone();
    blocking(move || storage.revoke_device(device.id, Utc::now())).await?;
    audit(&state, &session.person, "revoke_device", id.to_string()).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn may_read_district(role: &Role, district: &str) -> bool {
    match role {
        Role::CityAdmin => true,
        Role::DistrictAdmin { district: own } | Role::Supervisor { district: own } => {
            own == district
        }
        Role::DepartmentViewer { .. } => false,
    }
}

async fn district_sites(
    State(state): State<ServerState>,
    session: Session,
    Path(district): Path<String>,
) -> Result<Json<Vec<zhisu_protocol::Site>>, Failure> {
    if !may_read_district(&session.person.role, &district) {
        return Err(forbidden("see this district's sites"));
    }
    let storage = state.storage.clone();
    Ok(Json(blocking(move || storage.sites(&district)).await?))
}

async fn replace_district_sites(
    State(state): State<ServerState>,
    session: Session,
    Path(district): Path<String>,
    body: Result<Json<Vec<zhisu_protocol::Site>>, JsonRejection>,
) -> Result<StatusCode, Failure> {
    if !session.person.role.manages(&district) {
        return Err(forbidden("change this district's sites"));
    }
    let Json(mut sites) = body.map_err(json_rejection)?;
    for site in &mut sites {
        site.district = district.clone();
    }
    let problems = crate::site_problems(&sites);
    if !problems.is_empty() {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_REQUEST,
            format!("the sites were not stored: {}", problems.join("; ")),
        ));
    }
    let n = sites.len();
    let storage = state.storage.clone();
    let for_storage = district.clone();
    blocking(move || storage.replace_sites(&for_storage, &sites)).await?;
    audit(
        &state,
        &session.person,
        "replace_sites",
        format!("{district}: {n} sites"),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn audit_log(
    State(state): State<ServerState>,
    session: Session,
) -> Result<Json<Vec<AuditEntry>>, Failure> {
    if session.person.role != Role::CityAdmin {
        return Err(forbidden("read the audit log"));
    }
    let storage = state.storage.clone();
    Ok(Json(blocking(move || storage.audit_log(500)).await?))
}

/// The OpenAPI description of this API (`docs/openapi.json`, checked against the router by a
/// test).
pub const OPENAPI: &str = include_str!("../../../docs/openapi.json");

async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct Publish {
    /// The monitoring round the version is for (devices enrolled for that round receive it).
    pub round: String,
    /// The questionnaire file (TOML).
    pub source: String,
}

/// Publishes a questionnaire version for a round (city administrators): validated with the core
/// (every problem is reported, with line and column), kept, and delivered to devices from then on.
async fn publish_questionnaire(
    State(state): State<ServerState>,
    session: Session,
    body: Result<Json<Publish>, JsonRejection>,
) -> Result<(StatusCode, Json<QuestionnaireRef>), Failure> {
    if session.person.role != Role::CityAdmin {
        return Err(forbidden("publish questionnaires"));
    }
    let Json(publish) = body.map_err(json_rejection)?;
    let for_publish = state.clone();
    let actor = session.person.username.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        for_publish.publish_questionnaire(&publish.round, &publish.source, &actor)
    })
    .await
    .map_err(Failure::internal)?;
    match outcome {
        Ok(crate::questionnaires::PublishOutcome::Published(r)) => Ok((StatusCode::CREATED, Json(r))),
        Ok(crate::questionnaires::PublishOutcome::AlreadyPublished(r)) => Ok((StatusCode::OK, Json(r))),
        Ok(crate::questionnaires::PublishOutcome::VersionTaken) => Err(Failure::new(
            StatusCode::CONFLICT,
            codes::VERSION_TAKEN,
            "another questionnaire is already published under this id and version; publish a new version",
        )),
        Err(crate::PublishError::Invalid(lines)) => Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_QUESTIONNAIRE,
            lines,
        )),
        Err(crate::PublishError::Storage(e)) => Err(Failure::internal(e)),
    }
}
