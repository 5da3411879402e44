//! Calls into the Rust side of the app (Tauri commands). The types here mirror what
//! `src-tauri` returns; the two ship together, so they change together.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use zhisu_core::{AnswerValue, QcFlag, Questionnaire, ScoreReport};

#[wasm_bindgen]
extern "C" {
    // window.__TAURI__.core.invoke: present because tauri.conf.json sets app.withGlobalTauri.
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

/// The `{code, message}` every command fails with.
#[derive(Debug, Clone, Deserialize)]
pub struct CommandError {
    pub code: String,
    pub message: String,
}

impl CommandError {
    fn local(code: &str, message: impl Into<String>) -> Self {
        CommandError {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct StateCounts {
    pub in_progress: u64,
    pub waiting: u64,
    pub acknowledged: u64,
    pub rejected: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct SyncProgress {
    pub done: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SyncStatus {
    pub online: Option<bool>,
    pub last_error: Option<String>,
    pub progress: Option<SyncProgress>,
    pub waiting_for_wifi: bool,
    pub revoked: bool,
}

/// This device's enrolment.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct IdentityView {
    pub enrolled: bool,
    pub default_server_url: String,
    pub server_url: Option<String>,
    pub device_name: Option<String>,
    pub round: Option<String>,
    pub district: Option<String>,
    pub revoked: bool,
}

pub async fn identity() -> Result<IdentityView, CommandError> {
    call("identity", NoArgs {}).await
}

pub async fn enrol(
    server_url: &str,
    code: &str,
    device_name: &str,
) -> Result<IdentityView, CommandError> {
    #[derive(Serialize)]
    struct Args<'a> {
        server_url: &'a str,
        code: &'a str,
        device_name: &'a str,
    }
    call(
        "enrol",
        Args {
            server_url,
            code,
            device_name,
        },
    )
    .await
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SyncView {
    pub counts: StateCounts,
    pub status: SyncStatus,
    pub server_url: Option<String>,
}

async fn call<T: DeserializeOwned>(cmd: &str, args: impl Serialize) -> Result<T, CommandError> {
    let args = serde_wasm_bindgen::to_value(&args)
        .map_err(|e| CommandError::local("bad_arguments", e.to_string()))?;
    match tauri_invoke(cmd, args).await {
        Ok(value) => serde_wasm_bindgen::from_value(value)
            .map_err(|e| CommandError::local("bad_response", format!("{cmd}: {e}"))),
        Err(error) => Err(
            serde_wasm_bindgen::from_value(error.clone()).unwrap_or_else(|_| {
                CommandError::local(
                    "app_unavailable",
                    error.as_string().unwrap_or_else(|| format!("{error:?}")),
                )
            }),
        ),
    }
}

#[derive(Serialize)]
struct NoArgs {}

#[derive(Serialize)]
struct VersionArgs<'a> {
    id: &'a str,
    version: &'a str,
}

/// A questionnaire the surveyor can start.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct QuestionnaireSummary {
    pub id: String,
    pub version: String,
    pub title: zhisu_core::Text,
    pub items: usize,
}

/// An interview on this device.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InterviewListing {
    pub id: String,
    pub questionnaire_id: String,
    pub questionnaire_version: String,
    pub state: String,
    pub started_at: String,
    pub completed_at: Option<String>,
    pub sync_code: Option<String>,
    pub sync_message: Option<String>,
    pub discard_reason: Option<String>,
    pub language: Option<String>,
}

/// One sync attempt, as the sync log shows it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SyncLogEntry {
    pub attempt: i64,
    pub started_at: String,
    pub server_url: String,
    pub interviews: Vec<String>,
    pub outcome: String,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub stored: u32,
    pub already_stored: u32,
    pub conflicts: u32,
    pub rejected: u32,
}

pub async fn questionnaires() -> Result<Vec<QuestionnaireSummary>, CommandError> {
    call("questionnaires", NoArgs {}).await
}

pub async fn questionnaire(id: &str, version: &str) -> Result<Questionnaire, CommandError> {
    call("questionnaire", VersionArgs { id, version }).await
}

pub async fn start_interview(
    id: &str,
    version: &str,
    language: &str,
) -> Result<String, CommandError> {
    #[derive(Serialize)]
    struct Args<'a> {
        id: &'a str,
        version: &'a str,
        language: &'a str,
    }
    call(
        "start_interview",
        Args {
            id,
            version,
            language,
        },
    )
    .await
}

pub async fn interviews() -> Result<Vec<InterviewListing>, CommandError> {
    call("interviews", NoArgs {}).await
}

pub async fn interview_answers(interview_id: &str) -> Result<zhisu_core::Answers, CommandError> {
    #[derive(Serialize)]
    struct Args<'a> {
        interview_id: &'a str,
    }
    call("interview_answers", Args { interview_id }).await
}

pub async fn discard_interview(interview_id: &str, reason: &str) -> Result<(), CommandError> {
    #[derive(Serialize)]
    struct Args<'a> {
        interview_id: &'a str,
        reason: &'a str,
    }
    call(
        "discard_interview",
        Args {
            interview_id,
            reason,
        },
    )
    .await
}

pub async fn sync_log() -> Result<Vec<SyncLogEntry>, CommandError> {
    call("sync_log", NoArgs {}).await
}

pub async fn save_answer(
    interview_id: &str,
    item_id: &str,
    value: &AnswerValue,
) -> Result<(), CommandError> {
    #[derive(Serialize)]
    struct Args<'a> {
        interview_id: &'a str,
        item_id: &'a str,
        value: &'a AnswerValue,
    }
    call(
        "save_answer",
        Args {
            interview_id,
            item_id,
            value,
        },
    )
    .await
}

/// The feedback after completing: the score, and whether the round shows the answer key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Completion {
    pub report: ScoreReport,
    pub show_answer_key: bool,
}

pub async fn complete_interview(interview_id: &str) -> Result<Completion, CommandError> {
    #[derive(Serialize)]
    struct Args<'a> {
        interview_id: &'a str,
    }
    call("complete_interview", Args { interview_id }).await
}

pub async fn sync_status() -> Result<SyncView, CommandError> {
    call("sync_status", NoArgs {}).await
}

pub async fn sync_now() -> Result<(), CommandError> {
    call("sync_now", NoArgs {}).await
}

/// Paradata: the screen of `item_id` is shown now (`None`: a screen that is not a question).
pub async fn screen_shown(interview_id: &str, item_id: Option<&str>) -> Result<(), CommandError> {
    #[derive(Serialize)]
    struct Args<'a> {
        interview_id: &'a str,
        item_id: Option<&'a str>,
    }
    call(
        "screen_shown",
        Args {
            interview_id,
            item_id,
        },
    )
    .await
}

/// The quality flags the interview would be sent with if completed now.
pub async fn quality_check(interview_id: &str) -> Result<Vec<QcFlag>, CommandError> {
    #[derive(Serialize)]
    struct Args<'a> {
        interview_id: &'a str,
    }
    call("quality_check", Args { interview_id }).await
}

/// The surveyor's choices kept on this device.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Preferences {
    /// The language of the surveyor's screens: `zh-CN` or `en`.
    pub language: String,
}

pub async fn preferences() -> Result<Preferences, CommandError> {
    call("preferences", NoArgs {}).await
}

pub async fn set_language(language: &str) -> Result<(), CommandError> {
    #[derive(Serialize)]
    struct Args<'a> {
        language: &'a str,
    }
    call("set_language", Args { language }).await
}

/// One population's quota at a site and how many are done on this device.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct QuotaView {
    pub population: String,
    pub label: zhisu_core::Text,
    pub quota: u32,
    pub done: u32,
}

/// An assigned site, with names for its codes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SiteView {
    pub id: String,
    pub name: String,
    pub district: zhisu_core::Text,
    pub site_type: String,
    pub site_type_label: zhisu_core::Text,
    pub industry: Option<zhisu_core::Text>,
    pub ownership: Option<zhisu_core::Text>,
    pub size: Option<zhisu_core::Text>,
    pub quotas: Vec<QuotaView>,
    pub done: u32,
}

/// Today's work: the round, the sites and the one chosen for new interviews.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TodayView {
    pub round: Option<String>,
    pub district: Option<zhisu_core::Text>,
    pub current_site: Option<String>,
    pub sites: Vec<SiteView>,
}

pub async fn today() -> Result<TodayView, CommandError> {
    call("today", NoArgs {}).await
}

pub async fn choose_site(site_id: &str) -> Result<(), CommandError> {
    #[derive(Serialize)]
    struct Args<'a> {
        site_id: &'a str,
    }
    call("choose_site", Args { site_id }).await
}

/// A surveyor on this tablet.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Surveyor {
    pub id: String,
    pub name: String,
}

/// The tablet's surveyors and the one signed in.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SurveyorsView {
    pub surveyors: Vec<Surveyor>,
    pub current: Option<Surveyor>,
}

#[derive(Serialize)]
struct SurveyorArgs<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    pin: &'a str,
}

pub async fn surveyors() -> Result<SurveyorsView, CommandError> {
    call("surveyors", NoArgs {}).await
}

pub async fn add_surveyor(id: &str, name: &str, pin: &str) -> Result<SurveyorsView, CommandError> {
    call(
        "add_surveyor",
        SurveyorArgs {
            id,
            name: Some(name),
            pin,
        },
    )
    .await
}

pub async fn sign_in_surveyor(id: &str, pin: &str) -> Result<SurveyorsView, CommandError> {
    call(
        "sign_in_surveyor",
        SurveyorArgs {
            id,
            name: None,
            pin,
        },
    )
    .await
}

pub async fn sign_out_surveyor() -> Result<(), CommandError> {
    call("sign_out_surveyor", NoArgs {}).await
}

/// Search keys of the long lists of a questionnaire: item id → choice key → pinyin initials
/// and pinyin (made on the native side).
pub type SearchKeys =
    std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>;

pub async fn search_keys(id: &str, version: &str) -> Result<SearchKeys, CommandError> {
    call("search_keys", VersionArgs { id, version }).await
}

/// The recording of an item read aloud, as a `data:` URL.
pub async fn item_audio(id: &str, version: &str, item_id: &str) -> Result<String, CommandError> {
    #[derive(Serialize)]
    struct Args<'a> {
        id: &'a str,
        version: &'a str,
        item_id: &'a str,
    }
    call(
        "item_audio",
        Args {
            id,
            version,
            item_id,
        },
    )
    .await
}

/// A position from the webview's location service.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    pub latitude: f64,
    pub longitude: f64,
    pub accuracy_m: f64,
}

#[wasm_bindgen(inline_js = r#"
export function locate(timeout_ms) {
  return new Promise((resolve) => {
    const geolocation = navigator.geolocation;
    if (!geolocation) { resolve(null); return; }
    let done = false;
    const finish = (value) => { if (!done) { done = true; resolve(value); } };
    // some webviews never answer (no permission handler): give up a little after the timeout
    setTimeout(() => finish(null), timeout_ms + 500);
    try {
      geolocation.getCurrentPosition(
        (p) => finish({ latitude: p.coords.latitude, longitude: p.coords.longitude,
                        accuracy_m: p.coords.accuracy }),
        () => finish(null),
        { enableHighAccuracy: true, timeout: timeout_ms, maximumAge: 300000 });
    } catch (e) { finish(null); }
  });
}
"#)]
extern "C" {
    fn locate(timeout_ms: u32) -> js_sys::Promise;
}

/// Where the tablet is, when the webview can tell within `timeout_ms` (a fix up to five
/// minutes old will do); `None` without a location service, permission or fix.
pub async fn current_fix(timeout_ms: u32) -> Option<Fix> {
    let value = wasm_bindgen_futures::JsFuture::from(locate(timeout_ms))
        .await
        .ok()?;
    serde_wasm_bindgen::from_value::<Option<Fix>>(value)
        .ok()
        .flatten()
}

/// Records `fix` as where interview `interview_id` started (`"start"`) or ended (`"end"`).
pub async fn record_location(
    interview_id: &str,
    moment: &str,
    fix: Fix,
) -> Result<(), CommandError> {
    #[derive(Serialize)]
    struct Args<'a> {
        interview_id: &'a str,
        moment: &'a str,
        latitude: f64,
        longitude: f64,
        accuracy_m: f64,
    }
    call(
        "record_location",
        Args {
            interview_id,
            moment,
            latitude: fix.latitude,
            longitude: fix.longitude,
            accuracy_m: fix.accuracy_m,
        },
    )
    .await
}

#[wasm_bindgen(inline_js = r##"
export function qrPixels(input, maxSide) {
  return new Promise((resolve, reject) => {
    const file = input.files && input.files[0];
    if (!file) { resolve(null); return; }
    const reader = new FileReader();
    reader.onerror = () => reject("bad_picture");
    reader.onload = () => {
      const img = new Image();
      img.onerror = () => reject("bad_picture");
      img.onload = () => {
        let w = img.naturalWidth || img.width, h = img.naturalHeight || img.height;
        if (!w || !h) { w = maxSide; h = maxSide; }
        const scale = Math.min(1, maxSide / Math.max(w, h));
        w = Math.max(1, Math.round(w * scale));
        h = Math.max(1, Math.round(h * scale));
        const canvas = document.createElement("canvas");
        canvas.width = w; canvas.height = h;
        const ctx = canvas.getContext("2d");
        ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
        ctx.drawImage(img, 0, 0, w, h);
        const rgba = ctx.getImageData(0, 0, w, h).data;
        const out = new Uint8Array(8 + w * h);
        const view = new DataView(out.buffer);
        view.setUint32(0, w, true); view.setUint32(4, h, true);
        for (let i = 0, j = 8; i < rgba.length; i += 4, j++) {
          out[j] = (rgba[i] * 299 + rgba[i + 1] * 587 + rgba[i + 2] * 114) / 1000;
        }
        resolve(out);
      };
      img.src = reader.result;
    };
    reader.readAsDataURL(file);
  });
}
"##)]
extern "C" {
    #[wasm_bindgen(js_name = qrPixels)]
    fn qr_pixels(input: &web_sys::HtmlInputElement, max_side: u32) -> js_sys::Promise;
}

/// Pictures are scaled to at most this many pixels a side before the QR code is looked for
/// (the same limit as the native side's).
const QR_MAX_SIDE: u32 = 1600;

/// The text of the QR code in the picture chosen in `input` (drawn here, decoded on the native
/// side); `None` when no file was chosen.
pub async fn read_qr_code(
    input: &web_sys::HtmlInputElement,
) -> Result<Option<String>, CommandError> {
    let pixels = wasm_bindgen_futures::JsFuture::from(qr_pixels(input, QR_MAX_SIDE))
        .await
        .map_err(|_| CommandError::local("bad_picture", "the picture could not be read"))?;
    if pixels.is_null() || pixels.is_undefined() {
        return Ok(None);
    }
    match tauri_invoke("read_qr_code", pixels).await {
        Ok(value) => Ok(value.as_string()),
        Err(error) => Err(serde_wasm_bindgen::from_value(error)
            .unwrap_or_else(|_| CommandError::local("app_unavailable", "read_qr_code failed"))),
    }
}

/// Tells the app its first interactive screen is shown (startup time, P5).
pub async fn mark_interactive() -> Result<(), CommandError> {
    call("mark_interactive", NoArgs {}).await
}
