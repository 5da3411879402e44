//! The app shell: webview commands (`commands`, typed by `zhisu-app-api`) over the device store
//! (on its own thread, `db`) and the sync engine, errors as `{code, message}`. The rules live
//! in `zhisu-core` and `zhisu-store`; what stays here is wiring and presentation: the
//! catalogue of questionnaires, pinyin search keys (`search`), place names (`places`),
//! recordings as data URLs (`audio`) and reading QR codes (`qr`).

mod audio;
pub mod commands;
pub mod db;
mod error;
mod pictures;
mod places;
mod qr;
mod questionnaires;
mod search;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use tauri::{Manager, Runtime};
use tokio::sync::{watch, Notify};
use zhisu_app_api::Surveyor;
use zhisu_store::DeviceStore;
use zhisu_sync::plan::NetworkKind;
use zhisu_sync::{SyncSchedule, SyncStatus};

use db::Db;
use questionnaires::Catalogue;

const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:8470";

/// When `run` began: the start of the clock for "first interactive screen" (P5).
static STARTED: OnceLock<Instant> = OnceLock::new();
/// Milliseconds from `run` to the first interactive screen, once the webview said so.
static INTERACTIVE_MS: OnceLock<u64> = OnceLock::new();

/// Where the app keeps and finds things.
#[derive(Debug, Clone)]
pub struct Config {
    /// The folder of the device database (`zhisu.sqlite3`) and of `media/`.
    pub data_dir: PathBuf,
    /// The folder of the database key file (`database.key`), mode 0700: never the data folder,
    /// so a copy of the data folder does not carry the key (see `docs/security.md`).
    pub key_dir: PathBuf,
    /// An extra questionnaire file; its recordings are found beside it.
    pub extra_questionnaire: Option<PathBuf>,
    /// A folder with the questionnaires' recordings, looked in before `media/`.
    pub media_dir: Option<PathBuf>,
    /// Offered on the enrolment screen.
    pub default_server_url: String,
    /// Where backups go when IT (or a test) chose a folder (`ZHISU_BACKUP_DIR`); else a USB
    /// stick plugged in, else `documents_dir` (see `commands::device::backup_to_drive`).
    pub backup_dir: Option<PathBuf>,
    /// The platform's documents folder, when it has one: the last place for a backup.
    pub documents_dir: Option<PathBuf>,
    /// The release public keys app updates must be signed with (`update_public_key` of the
    /// app's configuration file, and one built in with `ZHISU_UPDATE_PUBLIC_KEY`); none: the
    /// app never installs an update.
    pub update_keys: Vec<[u8; 32]>,
}

/// The version this app reports and compares with the server's updates.
pub fn app_version() -> &'static str {
    env!("ZHISU_APP_VERSION")
}

/// The device store, shared with the sync engine.
pub type SharedStore = Arc<Mutex<DeviceStore>>;

/// What the commands share.
pub struct AppState {
    db: Db,
    sync_trigger: Arc<Notify>,
    sync_status: watch::Receiver<SyncStatus>,
    default_server_url: String,
    /// The surveyor who signed in with their PIN; forgotten when the app stops, so a tablet
    /// picked up by someone else asks again.
    surveyor: Mutex<Option<Surveyor>>,
    /// Folders with the recordings of the questionnaires.
    media_dirs: Vec<PathBuf>,
    /// The folder IT chose for backups, and the documents folder (`Config`).
    backup_dir: Option<PathBuf>,
    documents_dir: Option<PathBuf>,
    /// Updates of the app from the server (issue 22), shared with the sync engine.
    updater: Arc<zhisu_sync::update::Updater>,
}

impl AppState {
    /// Opens the device database (on the database thread) and the catalogue. Returns the state
    /// and the store, for the sync engine.
    pub fn open(
        config: &Config,
        sync_trigger: Arc<Notify>,
        sync_status: watch::Receiver<SyncStatus>,
    ) -> Result<(AppState, SharedStore), Box<dyn std::error::Error + Send + Sync>> {
        std::fs::create_dir_all(&config.data_dir)?;
        if same_dir(&config.key_dir, &config.data_dir) {
            return Err("the database key must not be kept in the data folder: set ZHISU_KEY_DIR to another folder".into());
        }
        let key = zhisu_store::load_or_create_key_file(&config.key_dir)?;
        let catalogue = Catalogue::new(config.extra_questionnaire.as_deref())?;
        let (db, store) = Db::open(&config.data_dir.join("zhisu.sqlite3"), key, catalogue)?;
        let state = AppState {
            db,
            sync_trigger,
            sync_status,
            default_server_url: config.default_server_url.clone(),
            surveyor: Mutex::new(None),
            media_dirs: config
                .media_dir
                .iter()
                .cloned()
                .chain([config.data_dir.join("media")])
                .collect(),
            backup_dir: config.backup_dir.clone(),
            documents_dir: config.documents_dir.clone(),
            updater: Arc::new(zhisu_sync::update::Updater::new(
                &config.data_dir,
                config.update_keys.clone(),
                app_version(),
            )),
        };
        Ok((state, store))
    }

    fn signed_in(&self) -> Option<Surveyor> {
        self.surveyor
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn sign_in(&self, surveyor: Option<Surveyor>) {
        *self.surveyor.lock().unwrap_or_else(|p| p.into_inner()) = surveyor;
    }
}

/// Whether two folders are one (after resolving links, when they exist).
fn same_dir(a: &std::path::Path, b: &std::path::Path) -> bool {
    let resolve = |p: &std::path::Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    resolve(a) == resolve(b)
}

/// Every webview command, for `Builder::invoke_handler`.
pub fn handlers<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    use commands::{device, interview, quiz, surveyors, update};
    tauri::generate_handler![
        interview::questionnaires,
        interview::questionnaire,
        interview::search_keys,
        interview::item_audio,
        interview::recorded_places,
        interview::item_image,
        interview::start_interview,
        interview::save_answer,
        interview::screen_shown,
        interview::record_location,
        interview::quality_check,
        interview::repeat_respondent,
        interview::complete_interview,
        interview::feedback_again,
        interview::interviews,
        interview::interview_answers,
        interview::discard_interview,
        interview::close_contact,
        device::sync_status,
        device::sync_now,
        device::sync_log,
        device::export_backup,
        device::backup_to_drive,
        device::mark_interactive,
        device::startup_ms,
        device::identity,
        device::enrol,
        device::read_qr_code,
        device::preferences,
        device::set_language,
        device::set_theme,
        device::set_text_size,
        device::today,
        device::choose_site,
        surveyors::surveyors,
        surveyors::add_surveyor,
        surveyors::sign_in_surveyor,
        surveyors::sign_out_surveyor,
        quiz::quiz_setup,
        quiz::start_quiz,
        quiz::finish_quiz,
        quiz::backchecks,
        quiz::save_backcheck,
        interview::answer_recontact,
        update::update_status,
        update::install_update
    ]
}

fn mark_interactive() {
    if let Some(started) = STARTED.get() {
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if INTERACTIVE_MS.set(ms).is_ok() {
            tracing::info!(ms, "first interactive screen");
        }
    }
}

fn startup_ms() -> Option<u64> {
    INTERACTIVE_MS.get().copied()
}

/// The configuration from the environment: `ZHISU_DATA_DIR` (default: the platform's app data
/// folder), `ZHISU_SERVER_URL` (offered on the enrolment screen; without it, `server_url` of the
/// app's configuration file (see [`preset_server_url`]), else `http://127.0.0.1:8470`), `ZHISU_QUESTIONNAIRE` (an extra questionnaire file; its
/// recordings are found beside it), `ZHISU_MEDIA_DIR` (a folder with the questionnaires'
/// recordings, by the paths their files give; `media/` in the data folder is looked in too),
/// `ZHISU_KEY_DIR` (the folder of the database key file; default: `key/` in the platform's app
/// config folder, which on Linux is `~/.config/<app>` apart from the data in `~/.local/share`),
/// `ZHISU_BACKUP_DIR` (where the backup button writes; default: a USB stick, else documents).
fn config_from_env<R: Runtime>(app: &tauri::App<R>) -> tauri::Result<Config> {
    Ok(Config {
        data_dir: match std::env::var_os("ZHISU_DATA_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => app.path().app_data_dir()?,
        },
        key_dir: match std::env::var_os("ZHISU_KEY_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => app.path().app_config_dir()?.join("key"),
        },
        extra_questionnaire: std::env::var_os("ZHISU_QUESTIONNAIRE").map(PathBuf::from),
        media_dir: std::env::var_os("ZHISU_MEDIA_DIR").map(PathBuf::from),
        default_server_url: std::env::var("ZHISU_SERVER_URL")
            .ok()
            .filter(|url| !url.trim().is_empty())
            .or_else(preset_server_url)
            .unwrap_or_else(|| DEFAULT_SERVER_URL.to_string()),
        backup_dir: std::env::var_os("ZHISU_BACKUP_DIR")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from),
        documents_dir: app.path().document_dir().ok(),
        update_keys: update_keys(),
    })
}

/// The release public keys: the one built in (`ZHISU_UPDATE_PUBLIC_KEY` when the app was
/// built) and `update_public_key` of the app's configuration file. A key that cannot be read
/// is logged and passed over.
fn update_keys() -> Vec<[u8; 32]> {
    let configured = read_app_file().and_then(|f| f.update_public_key);
    option_env!("ZHISU_UPDATE_PUBLIC_KEY")
        .map(str::to_string)
        .into_iter()
        .chain(configured)
        .filter(|key| !key.trim().is_empty())
        .filter_map(|key| match zhisu_protocol::update::parse_public_key(&key) {
            Ok(key) => Some(key),
            Err(error) => {
                tracing::warn!(%error, "a release public key cannot be read: not trusted");
                None
            }
        })
        .collect()
}

/// What IT may preset in the app's configuration file.
#[derive(serde::Deserialize)]
struct AppFile {
    server_url: Option<String>,
    update_public_key: Option<String>,
}

/// The app's configuration file, when there is one; a file that cannot be read is logged and
/// passed over.
fn read_app_file() -> Option<AppFile> {
    let file = app_config_file()?;
    let read = std::fs::read_to_string(&file)
        .map_err(|e| e.to_string())
        .and_then(|text| toml::from_str::<AppFile>(&text).map_err(|e| e.to_string()));
    match read {
        Ok(app_file) => Some(app_file),
        Err(error) => {
            tracing::warn!(file = %file.display(), %error, "cannot read the app's configuration");
            None
        }
    }
}

/// The app's configuration file, where IT presets what a tablet offers: `ZHISU_APP_CONFIG`
/// when set, else `app.toml` beside the program, else (Linux) `/etc/zhisu/app.toml`.
fn app_config_file() -> Option<PathBuf> {
    if let Some(file) = std::env::var_os("ZHISU_APP_CONFIG") {
        return Some(PathBuf::from(file));
    }
    let beside = std::env::current_exe().ok()?.parent()?.join("app.toml");
    if beside.is_file() {
        return Some(beside);
    }
    let system = PathBuf::from("/etc/zhisu/app.toml");
    (cfg!(target_os = "linux") && system.is_file()).then_some(system)
}

/// The server address IT preset in the app's configuration file (`server_url = "https://…"`),
/// offered on the enrolment screen. A file that cannot be read or holds no such address is
/// logged and passed over.
fn preset_server_url() -> Option<String> {
    let url = read_app_file()?.server_url;
    match url {
        Some(url) if zhisu_store::check_server_url(&url).is_ok() => Some(url),
        _ => {
            tracing::warn!("no usable server_url in the app's configuration");
            None
        }
    }
}

/// Starts the app (desktop `main`, and the Android/iOS entry point); see `config_from_env`.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    STARTED.get_or_init(Instant::now);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    tauri::Builder::default()
        .setup(|app| {
            let config = config_from_env(app)?;
            let sync_trigger = Arc::new(Notify::new());
            let (status_tx, status_rx) = watch::channel(SyncStatus::default());
            let (state, store) = AppState::open(&config, Arc::clone(&sync_trigger), status_rx)
                .map_err(|e| -> Box<dyn std::error::Error> { e })?;
            let updater = Arc::clone(&state.updater);
            tracing::info!(data_dir = %config.data_dir.display(), version = app_version(), "zhisu-app starting");
            // Desktop Linux cannot tell a metered connection; the Android shell will report it.
            let (network_tx, network_rx) = watch::channel(NetworkKind::Unknown);
            tauri::async_runtime::spawn(zhisu_sync::run(
                store,
                sync_trigger,
                status_tx,
                SyncSchedule {
                    updater: Some(updater),
                    ..SyncSchedule::default()
                },
                network_rx,
            ));
            app.manage(network_tx);
            app.manage(state);
            Ok(())
        })
        .invoke_handler(handlers())
        .run(tauri::generate_context!())
        .expect("the Zhisu app failed to start");
}
