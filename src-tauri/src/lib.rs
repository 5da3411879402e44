//! The app shell: maps webview commands to `zhisu-store` and `zhisu-sync` calls, and errors to
//! `{code, message}`. No interview logic lives here.

mod audio;
mod places;
mod qr;
mod questionnaires;
mod search;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Local, Utc};
use serde::Serialize;
use tauri::Manager;
use tokio::sync::{watch, Notify};
use uuid::Uuid;
use zhisu_core::{AnswerValue, Answers, QcFlag, Questionnaire, ScoreReport, Text};
use zhisu_protocol::Site;
use zhisu_store::{
    DeviceStore, InterviewState, InterviewSummary, LocationMoment, NewInterview, StateCounts,
    StoreError, Surveyor, SyncLogEntry,
};
use zhisu_sync::plan::NetworkKind;
use zhisu_sync::{SyncClient, SyncSchedule, SyncStatus};

use questionnaires::{Catalogue, QuestionnaireSummary};

const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:8470";

/// When `run` began: the start of the clock for "first interactive screen" (P5).
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
/// Milliseconds from `run` to the first interactive screen, once the webview said so.
static INTERACTIVE_MS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

struct AppState {
    store: Arc<Mutex<DeviceStore>>,
    catalogue: Catalogue,
    sync_trigger: Arc<Notify>,
    sync_status: watch::Receiver<SyncStatus>,
    /// Offered on the enrolment screen; the enrolled server is in the device identity.
    default_server_url: String,
    /// The surveyor who signed in with their PIN; forgotten when the app stops, so a tablet
    /// picked up by someone else asks again.
    surveyor: Mutex<Option<Surveyor>>,
    /// Wrong PINs in a row, and since when new tries are refused.
    pin_failures: Mutex<(u32, Option<std::time::Instant>)>,
    /// Folders with the recordings and pictures of the questionnaires (`ZHISU_MEDIA_DIR`, then
    /// `media/` in the data folder).
    media_dirs: Vec<PathBuf>,
}

/// After this many wrong PINs in a row, tries are refused for [`PIN_LOCKOUT`].
const PIN_TRIES: u32 = 5;
const PIN_LOCKOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// What every command fails with. Callers branch on `code`.
#[derive(Debug, Serialize)]
struct CommandError {
    code: String,
    message: String,
}

impl From<StoreError> for CommandError {
    fn from(error: StoreError) -> Self {
        if matches!(error, StoreError::Sqlite(_) | StoreError::Corrupt(_)) {
            tracing::error!(%error, "storage error");
        }
        CommandError {
            code: error.code().to_string(),
            message: error.to_string(),
        }
    }
}

fn bad_request(code: &str, message: impl Into<String>) -> CommandError {
    CommandError {
        code: code.to_string(),
        message: message.into(),
    }
}

fn parse_id(id: &str) -> Result<Uuid, CommandError> {
    Uuid::parse_str(id)
        .map_err(|_| bad_request("bad_interview_id", format!("'{id}' is not an interview id")))
}

/// Runs `f` on the store off the async runtime (SQLite calls block).
async fn with_store<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut DeviceStore) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, CommandError> {
    let store = Arc::clone(&state.store);
    tauri::async_runtime::spawn_blocking(move || {
        let mut guard = store.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    })
    .await
    .map_err(|e| bad_request("internal", e.to_string()))?
    .map_err(CommandError::from)
}

/// The questionnaire an interview was started with.
async fn questionnaire_of(
    state: &AppState,
    interview_id: Uuid,
) -> Result<Arc<Questionnaire>, CommandError> {
    let summary = with_store(state, move |s| s.interview(interview_id)).await?;
    state.catalogue.get(
        &summary.questionnaire_id,
        &summary.questionnaire_version,
        &state.store,
    )
}

/// The questionnaires a surveyor can start: the newest version of each.
#[tauri::command]
fn questionnaires(
    state: tauri::State<'_, AppState>,
) -> Result<Vec<QuestionnaireSummary>, CommandError> {
    state.catalogue.latest(&state.store)
}

#[tauri::command]
fn questionnaire(
    state: tauri::State<'_, AppState>,
    id: String,
    version: String,
) -> Result<Questionnaire, CommandError> {
    Ok((*state.catalogue.get(&id, &version, &state.store)?).clone())
}

/// Starts an interview in `language` (the respondent's screens follow it; a language the
/// questionnaire does not have falls back to its default).
/// For each long list of a questionnaire (a single choice with search), the search key of
/// each choice (pinyin initials and pinyin), by item id and choice key.
#[tauri::command]
fn search_keys(
    state: tauri::State<'_, AppState>,
    id: String,
    version: String,
) -> Result<
    std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    CommandError,
> {
    let q = state.catalogue.get(&id, &version, &state.store)?;
    Ok(search::search_keys(&q))
}

#[tauri::command]
async fn start_interview(
    state: tauri::State<'_, AppState>,
    id: String,
    version: String,
    language: Option<String>,
) -> Result<String, CommandError> {
    let q = state.catalogue.get(&id, &version, &state.store)?;
    let offset_minutes = Local::now().offset().local_minus_utc() / 60;
    let mut new = NewInterview::new(Uuid::new_v4(), Utc::now(), offset_minutes);
    new.site_id = with_store(&state, current_site).await?;
    new.surveyor_id = current_surveyor(&state).await?.map(|s| s.id);
    new.language = Some(
        language
            .filter(|l| q.languages.contains(l))
            .unwrap_or_else(|| q.default_language.clone()),
    );
    let interview_id = with_store(&state, move |s| s.start_interview(&q, &new)).await?;
    tracing::info!(%interview_id, questionnaire = %id, "interview started");
    Ok(interview_id.to_string())
}

#[tauri::command(rename_all = "snake_case")]
async fn save_answer(
    state: tauri::State<'_, AppState>,
    interview_id: String,
    item_id: String,
    value: AnswerValue,
) -> Result<(), CommandError> {
    let id = parse_id(&interview_id)?;
    let q = questionnaire_of(&state, id).await?;
    with_store(&state, move |s| {
        s.save_answer(&q, id, &item_id, &value, Utc::now())
    })
    .await
}

/// The recording of item `item_id` read aloud, as a `data:` URL for an audio element.
#[tauri::command(rename_all = "snake_case")]
async fn item_audio(
    state: tauri::State<'_, AppState>,
    id: String,
    version: String,
    item_id: String,
) -> Result<String, CommandError> {
    let q = state.catalogue.get(&id, &version, &state.store)?;
    let Some(file) = q.item(&item_id).and_then(|item| item.audio.clone()) else {
        return Err(bad_request(
            "no_audio",
            format!("item '{item_id}' has no recording"),
        ));
    };
    let dirs = state.catalogue.media_dirs(&id, &version, &state.media_dirs);
    tauri::async_runtime::spawn_blocking(move || audio::data_url(&dirs, &file))
        .await
        .map_err(|e| bad_request("internal", e.to_string()))?
}

/// Where the tablet was at the start or the end of an interview, from the webview's location
/// service (absent where the platform has none: then this is never called).
#[tauri::command(rename_all = "snake_case")]
async fn record_location(
    state: tauri::State<'_, AppState>,
    interview_id: String,
    moment: LocationMoment,
    latitude: f64,
    longitude: f64,
    accuracy_m: f64,
) -> Result<(), CommandError> {
    let id = parse_id(&interview_id)?;
    with_store(&state, move |s| {
        s.record_location(id, moment, latitude, longitude, accuracy_m)
    })
    .await
}

/// The surveyor's screen changed: item `item_id`'s screen is shown (`None`: a screen that is
/// not a question, such as the review). Paradata: time on each screen.
#[tauri::command(rename_all = "snake_case")]
async fn screen_shown(
    state: tauri::State<'_, AppState>,
    interview_id: String,
    item_id: Option<String>,
) -> Result<(), CommandError> {
    let id = parse_id(&interview_id)?;
    with_store(&state, move |s| s.screen_shown(id, item_id.as_deref())).await
}

/// The quality flags the interview would be sent with if completed now, under the round's
/// thresholds: the surveyor is warned before completing a flagged interview.
#[tauri::command(rename_all = "snake_case")]
async fn quality_check(
    state: tauri::State<'_, AppState>,
    interview_id: String,
) -> Result<Vec<QcFlag>, CommandError> {
    let id = parse_id(&interview_id)?;
    let q = questionnaire_of(&state, id).await?;
    with_store(&state, move |s| {
        let thresholds = s.round_settings()?.quality;
        Ok(s.paradata(&q, id, &thresholds)?.flags)
    })
    .await
}

/// What the feedback screen shows after completing: the score, and whether this round lets
/// the respondent see the right answers and explanations.
#[derive(Serialize)]
struct Completion {
    report: ScoreReport,
    show_answer_key: bool,
}

#[tauri::command(rename_all = "snake_case")]
async fn complete_interview(
    state: tauri::State<'_, AppState>,
    interview_id: String,
) -> Result<Completion, CommandError> {
    let id = parse_id(&interview_id)?;
    let q = questionnaire_of(&state, id).await?;
    let scorer = Arc::clone(&q);
    let (upload, settings) = with_store(&state, move |s| {
        let upload = s.complete_interview(&q, id, Utc::now())?;
        Ok((upload, s.round_settings()?))
    })
    .await?;
    tracing::info!(%id, "interview completed and queued");
    state.sync_trigger.notify_one();
    Ok(Completion {
        report: scorer.score(&upload.answers),
        show_answer_key: settings.show_answer_key,
    })
}

/// An interview on this device, for the "my interviews" list.
#[derive(Serialize)]
struct InterviewListing {
    id: String,
    questionnaire_id: String,
    questionnaire_version: String,
    state: InterviewState,
    started_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
    sync_code: Option<String>,
    sync_message: Option<String>,
    discard_reason: Option<String>,
    language: Option<String>,
}

impl From<InterviewSummary> for InterviewListing {
    fn from(s: InterviewSummary) -> Self {
        InterviewListing {
            id: s.id.to_string(),
            questionnaire_id: s.questionnaire_id,
            questionnaire_version: s.questionnaire_version,
            state: s.state,
            started_at: s.started_at,
            completed_at: s.completed_at,
            sync_code: s.sync_code,
            sync_message: s.sync_message,
            discard_reason: s.discard_reason,
            language: s.language,
        }
    }
}

#[tauri::command]
async fn interviews(
    state: tauri::State<'_, AppState>,
) -> Result<Vec<InterviewListing>, CommandError> {
    let list = with_store(&state, |s| s.interviews()).await?;
    Ok(list.into_iter().map(InterviewListing::from).collect())
}

/// The saved answers of an interview, to resume it exactly where it stopped.
#[tauri::command(rename_all = "snake_case")]
async fn interview_answers(
    state: tauri::State<'_, AppState>,
    interview_id: String,
) -> Result<Answers, CommandError> {
    let id = parse_id(&interview_id)?;
    with_store(&state, move |s| s.answers(id)).await
}

#[derive(Serialize)]
struct SyncView {
    counts: StateCounts,
    status: SyncStatus,
    server_url: Option<String>,
}

#[tauri::command]
async fn sync_status(state: tauri::State<'_, AppState>) -> Result<SyncView, CommandError> {
    let (counts, identity) = with_store(&state, |s| Ok((s.state_counts()?, s.identity()?))).await?;
    Ok(SyncView {
        counts,
        status: state.sync_status.borrow().clone(),
        server_url: identity.map(|i| i.server_url),
    })
}

/// This device's enrolment, without the token.
#[derive(Serialize)]
struct IdentityView {
    enrolled: bool,
    default_server_url: String,
    server_url: Option<String>,
    device_id: Option<String>,
    device_name: Option<String>,
    round: Option<String>,
    district: Option<String>,
    revoked: bool,
}

#[tauri::command]
async fn identity(state: tauri::State<'_, AppState>) -> Result<IdentityView, CommandError> {
    let identity = with_store(&state, |s| s.identity()).await?;
    Ok(IdentityView {
        enrolled: identity.is_some(),
        default_server_url: state.default_server_url.clone(),
        revoked: identity.as_ref().is_some_and(|i| i.revoked_at.is_some()),
        server_url: identity.as_ref().map(|i| i.server_url.clone()),
        device_id: identity.as_ref().map(|i| i.device_id.to_string()),
        device_name: identity.as_ref().map(|i| i.device_name.clone()),
        round: identity.as_ref().map(|i| i.round.clone()),
        district: identity.map(|i| i.district),
    })
}

/// Enrols this device with the server: exchanges the one-time code for the device's identity,
/// keeps it, and starts syncing. Nothing is stored when the server refuses the code.
#[tauri::command(rename_all = "snake_case")]
async fn enrol(
    state: tauri::State<'_, AppState>,
    server_url: String,
    code: String,
    device_name: String,
) -> Result<IdentityView, CommandError> {
    let server_url = server_url.trim().trim_end_matches('/').to_string();
    if !(server_url.starts_with("http://") || server_url.starts_with("https://")) {
        return Err(bad_request(
            "bad_server_url",
            "the server address starts with http:// or https://",
        ));
    }
    let device_name = device_name.trim().to_string();
    if device_name.is_empty() {
        return Err(bad_request(
            "device_name_missing",
            "give this tablet a name",
        ));
    }
    let enrolment = SyncClient::new(&server_url)
        .enrol(code.trim(), &device_name)
        .await
        .map_err(|e| CommandError {
            code: e.code().to_string(),
            message: e.to_string(),
        })?;
    with_store(&state, move |s| {
        s.save_identity(&server_url, &device_name, &enrolment, Utc::now())
    })
    .await?;
    tracing::info!("device enrolled");
    state.sync_trigger.notify_one();
    identity(state).await
}

/// The surveyor's choices kept on this device.
#[derive(Serialize)]
struct Preferences {
    /// The language of the surveyor's screens.
    language: String,
}

const LANGUAGES: [&str; 2] = ["zh-CN", "en"];

#[tauri::command]
async fn preferences(state: tauri::State<'_, AppState>) -> Result<Preferences, CommandError> {
    let language = with_store(&state, |s| s.preference("language")).await?;
    Ok(Preferences {
        language: language
            .filter(|l| LANGUAGES.contains(&l.as_str()))
            .unwrap_or_else(|| LANGUAGES[0].to_string()),
    })
}

/// Keeps the language of the surveyor's screens (`zh-CN` or `en`).
#[tauri::command]
async fn set_language(
    state: tauri::State<'_, AppState>,
    language: String,
) -> Result<(), CommandError> {
    if !LANGUAGES.contains(&language.as_str()) {
        return Err(bad_request(
            "unknown_language",
            format!("the app speaks zh-CN and en, not '{language}'"),
        ));
    }
    with_store(&state, move |s| s.set_preference("language", &language)).await
}

/// The surveyor who signed in. When the tablet has surveyors, one must be signed in to start
/// an interview (`surveyor_needed`); a tablet without any runs without.
async fn current_surveyor(state: &AppState) -> Result<Option<Surveyor>, CommandError> {
    let current = state
        .surveyor
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if current.is_some() {
        return Ok(current);
    }
    let any = !with_store(state, |s| s.surveyors()).await?.is_empty();
    if any {
        return Err(bad_request(
            "surveyor_needed",
            "choose the surveyor with their PIN first",
        ));
    }
    Ok(None)
}

#[derive(Serialize)]
struct SurveyorsView {
    surveyors: Vec<Surveyor>,
    current: Option<Surveyor>,
}

#[tauri::command]
async fn surveyors(state: tauri::State<'_, AppState>) -> Result<SurveyorsView, CommandError> {
    let surveyors = with_store(&state, |s| s.surveyors()).await?;
    let current = state
        .surveyor
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    Ok(SurveyorsView { surveyors, current })
}

/// Adds a surveyor with a PIN of 4 to 6 digits, and signs them in.
#[tauri::command]
async fn add_surveyor(
    state: tauri::State<'_, AppState>,
    id: String,
    name: String,
    pin: String,
) -> Result<SurveyorsView, CommandError> {
    let added = with_store(&state, move |s| {
        s.add_surveyor(&id, &name, &pin, Utc::now())
    })
    .await?;
    tracing::info!(surveyor = %added.id, "surveyor added");
    *state.surveyor.lock().unwrap_or_else(|p| p.into_inner()) = Some(added);
    surveyors(state).await
}

/// Signs surveyor `id` in with their PIN. After [`PIN_TRIES`] wrong PINs in a row, tries are
/// refused for a while (`too_many_attempts`).
#[tauri::command]
async fn sign_in_surveyor(
    state: tauri::State<'_, AppState>,
    id: String,
    pin: String,
) -> Result<SurveyorsView, CommandError> {
    {
        let mut failures = state.pin_failures.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(since) = failures.1 {
            if since.elapsed() < PIN_LOCKOUT {
                return Err(bad_request(
                    "too_many_attempts",
                    "too many wrong PINs: wait half a minute",
                ));
            }
            *failures = (0, None);
        }
    }
    let who = id.clone();
    let (ok, surveyors) = with_store(&state, move |s| {
        Ok((s.check_pin(&who, &pin)?, s.surveyors()?))
    })
    .await?;
    let mut failures = state.pin_failures.lock().unwrap_or_else(|p| p.into_inner());
    if !ok {
        failures.0 += 1;
        if failures.0 >= PIN_TRIES {
            failures.1 = Some(std::time::Instant::now());
        }
        tracing::warn!(surveyor = %id, tries = failures.0, "wrong PIN");
        return Err(bad_request("wrong_pin", "the PIN is not right"));
    }
    *failures = (0, None);
    drop(failures);
    let signed_in = surveyors.iter().find(|s| s.id == id).cloned();
    *state.surveyor.lock().unwrap_or_else(|p| p.into_inner()) = signed_in.clone();
    Ok(SurveyorsView {
        surveyors,
        current: signed_in,
    })
}

/// The surveyor hands the tablet over: nobody is signed in until the next PIN.
#[tauri::command]
fn sign_out_surveyor(state: tauri::State<'_, AppState>) {
    *state.surveyor.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

/// The site chosen on "today's work", if it is still assigned to this device.
fn current_site(store: &mut DeviceStore) -> Result<Option<String>, StoreError> {
    let chosen = store.preference("site")?;
    let sites = store.sites()?;
    Ok(chosen.filter(|id| sites.iter().any(|s| &s.id == id)))
}

/// One population's quota at a site and how many are done on this device.
#[derive(Serialize)]
struct QuotaView {
    population: String,
    label: Text,
    quota: u32,
    done: u32,
}

/// A site as "today's work" shows it: codes with their names.
#[derive(Serialize)]
struct SiteView {
    id: String,
    name: String,
    district: Text,
    site_type: String,
    site_type_label: Text,
    industry: Option<Text>,
    ownership: Option<Text>,
    size: Option<Text>,
    quotas: Vec<QuotaView>,
    /// Interviews completed at this site on this device (any population).
    done: u32,
}

#[derive(Serialize)]
struct TodayView {
    round: Option<String>,
    district: Option<Text>,
    current_site: Option<String>,
    sites: Vec<SiteView>,
}

/// Today's work: the round, the assigned sites with their quotas and what this device has done,
/// and the site chosen for new interviews.
#[tauri::command]
async fn today(state: tauri::State<'_, AppState>) -> Result<TodayView, CommandError> {
    let (identity, sites, done, current) = with_store(&state, |s| {
        Ok((
            s.identity()?,
            s.sites()?,
            s.done_at_sites()?,
            current_site(s)?,
        ))
    })
    .await?;
    let catalogue = &state.catalogue;
    let label = |item: &str, key: &str| {
        catalogue
            .choice_label(item, key)
            .unwrap_or_else(|| Text([("zh-CN".to_string(), key.to_string())].into()))
    };
    let sites = sites
        .into_iter()
        .map(|site| {
            let here = || done.iter().filter(|d| d.site_id == site.id);
            SiteView {
                quotas: site
                    .quotas
                    .iter()
                    .map(|(population, quota)| QuotaView {
                        label: label("population", population),
                        quota: *quota,
                        done: here()
                            .filter(|d| d.population.as_deref() == Some(population))
                            .map(|d| d.done)
                            .sum(),
                        population: population.clone(),
                    })
                    .collect(),
                done: here().map(|d| d.done).sum(),
                district: places::district(&site.district),
                site_type_label: places::site_type(&site.site_type),
                industry: site.industry.as_deref().map(|k| label("industry", k)),
                ownership: site.ownership.as_deref().map(|k| label("ownership", k)),
                size: site.size.as_deref().map(|k| label("employer_size", k)),
                site_type: site.site_type,
                name: site.name,
                id: site.id,
            }
        })
        .collect();
    Ok(TodayView {
        round: identity.as_ref().map(|i| i.round.clone()),
        district: identity.as_ref().map(|i| places::district(&i.district)),
        current_site: current,
        sites,
    })
}

/// Chooses the site new interviews are done at (one of the assigned sites).
#[tauri::command(rename_all = "snake_case")]
async fn choose_site(
    state: tauri::State<'_, AppState>,
    site_id: String,
) -> Result<(), CommandError> {
    let sites = with_store(&state, |s| s.sites()).await?;
    if !sites.iter().any(|s| s.id == site_id) {
        return Err(bad_request(
            "unknown_site",
            format!("site '{site_id}' is not assigned to this device"),
        ));
    }
    with_store(&state, move |s| s.set_preference("site", &site_id)).await
}

/// Reads the text of a QR code (the enrolment code) from a picture. The body is raw bytes:
/// width and height (u32, little-endian) and one grey byte per pixel, as the webview drew it.
#[tauri::command]
async fn read_qr_code(request: tauri::ipc::Request<'_>) -> Result<String, CommandError> {
    let tauri::ipc::InvokeBody::Raw(message) = request.body() else {
        return Err(bad_request("bad_picture", "send the picture's grey pixels"));
    };
    let message = message.clone();
    tauri::async_runtime::spawn_blocking(move || qr::decode(&message))
        .await
        .map_err(|e| bad_request("internal", e.to_string()))?
        .map_err(|code| {
            bad_request(
                code,
                match code {
                    "no_qr_code" => "no QR code was found in the picture",
                    _ => "the picture could not be read",
                },
            )
        })
}

/// The sites this device is assigned, with their quotas.
#[tauri::command]
async fn sites(state: tauri::State<'_, AppState>) -> Result<Vec<Site>, CommandError> {
    with_store(&state, |s| s.sites()).await
}

/// The webview shows its first interactive screen (home with the questionnaires, or the
/// enrolment form): logged once, with the time since the app started.
#[tauri::command]
fn mark_interactive() {
    if let Some(started) = STARTED.get() {
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if INTERACTIVE_MS.set(ms).is_ok() {
            tracing::info!(ms, "first interactive screen");
        }
    }
}

/// Milliseconds from the app's start to its first interactive screen (for the P5 benchmark).
#[tauri::command]
fn startup_ms() -> Option<u64> {
    INTERACTIVE_MS.get().copied()
}

#[tauri::command]
fn sync_now(state: tauri::State<'_, AppState>) {
    state.sync_trigger.notify_one();
}

#[tauri::command(rename_all = "snake_case")]
async fn discard_interview(
    state: tauri::State<'_, AppState>,
    interview_id: String,
    reason: String,
) -> Result<(), CommandError> {
    let id = parse_id(&interview_id)?;
    with_store(&state, move |s| {
        s.discard_interview(id, &reason, Utc::now())
    })
    .await
}

/// The newest sync attempts: what was sent and what the server answered.
#[tauri::command]
async fn sync_log(state: tauri::State<'_, AppState>) -> Result<Vec<SyncLogEntry>, CommandError> {
    with_store(&state, |s| s.sync_log(50)).await
}

/// Writes a backup of the whole device database to `path` (a USB stick) for hand-over.
#[tauri::command]
async fn export_backup(
    state: tauri::State<'_, AppState>,
    path: String,
) -> Result<(), CommandError> {
    with_store(&state, move |s| {
        s.export_backup(std::path::Path::new(&path))
    })
    .await
}

/// Starts the app (desktop `main`, and the Android/iOS entry point). Environment (for
/// deployments and tests):
/// `ZHISU_DATA_DIR` (default: the platform's app data folder), `ZHISU_SERVER_URL` (the server
/// address offered on the enrolment screen, default `http://127.0.0.1:8470`),
/// `ZHISU_QUESTIONNAIRE` (an extra questionnaire file; its recordings are found beside it),
/// `ZHISU_MEDIA_DIR` (a folder with the questionnaires' recordings, by the paths their files
/// give; `media/` in the data folder is looked in too).
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    STARTED.get_or_init(std::time::Instant::now);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    tauri::Builder::default()
        .setup(|app| {
            let data_dir = match std::env::var_os("ZHISU_DATA_DIR") {
                Some(dir) => PathBuf::from(dir),
                None => app.path().app_data_dir()?,
            };
            std::fs::create_dir_all(&data_dir)?;
            let database = data_dir.join("zhisu.sqlite3");
            let store = Arc::new(Mutex::new(DeviceStore::open(&database)?));
            let extra = std::env::var_os("ZHISU_QUESTIONNAIRE").map(PathBuf::from);
            let catalogue = Catalogue::new(extra.as_deref())?;
            let media_dirs: Vec<PathBuf> = std::env::var_os("ZHISU_MEDIA_DIR")
                .map(PathBuf::from)
                .into_iter()
                .chain([data_dir.join("media")])
                .collect();
            let default_server_url = std::env::var("ZHISU_SERVER_URL")
                .unwrap_or_else(|_| DEFAULT_SERVER_URL.to_string());
            tracing::info!(database = %database.display(), "zhisu-app starting");

            let sync_trigger = Arc::new(Notify::new());
            let (status_tx, status_rx) = watch::channel(SyncStatus::default());
            // Desktop Linux cannot tell a metered connection; the Android shell will report it.
            let (network_tx, network_rx) = watch::channel(NetworkKind::Unknown);
            tauri::async_runtime::spawn(zhisu_sync::run(
                Arc::clone(&store),
                Arc::clone(&sync_trigger),
                status_tx,
                SyncSchedule::default(),
                network_rx,
            ));
            app.manage(network_tx);
            app.manage(AppState {
                store,
                catalogue,
                sync_trigger,
                sync_status: status_rx,
                default_server_url,
                surveyor: Mutex::new(None),
                pin_failures: Mutex::new((0, None)),
                media_dirs,
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            questionnaires,
            questionnaire,
            search_keys,
            item_audio,
            start_interview,
            save_answer,
            screen_shown,
            record_location,
            quality_check,
            complete_interview,
            interviews,
            interview_answers,
            sync_status,
            sync_now,
            mark_interactive,
            startup_ms,
            discard_interview,
            sync_log,
            export_backup,
            identity,
            enrol,
            read_qr_code,
            sites,
            preferences,
            set_language,
            today,
            choose_site,
            surveyors,
            add_surveyor,
            sign_in_surveyor,
            sign_out_surveyor
        ])
        .run(tauri::generate_context!())
        .expect("the Zhisu app failed to start");
}
