//! Updates of the app from the Zhisu server (issue 22), on the device: at sync, ask the server
//! for a newer version of this platform, download it into `updates/` of the data folder, check
//! its size, SHA-256 and release signature against the public keys IT gave the tablet, and keep
//! it as ready (or say why it was refused); on the surveyor's word, and only when no interview
//! is open (the caller checks), replace the program's executable with it.
//!
//! The device's data is never touched: the new version opens the same database and migrates it
//! as every version does. The executable is replaced by an atomic rename of a complete, synced
//! copy beside it, so a power cut leaves the old program or the new one, never half of one.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zhisu_protocol::update::{self, UpdateManifest, APP_PACKAGES_PATH};

use crate::{SyncClient, SyncError};

/// The folder of the data folder that holds downloaded packages.
pub const UPDATE_DIR: &str = "updates";
const STATE_FILE: &str = "state.json";

/// The platform this build installs packages of (`zhisu_protocol::update::PLATFORMS`), when it
/// can update itself: the executable alone on Linux. `None` elsewhere.
pub fn this_platform() -> Option<&'static str> {
    if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        Some("linux-x86_64-bin")
    } else if cfg!(all(target_os = "linux", target_arch = "aarch64")) {
        Some("linux-aarch64-bin")
    } else {
        None
    }
}

/// A package the device has downloaded, as kept in `updates/state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Downloaded {
    pub version: String,
    pub platform: String,
    pub size: u64,
    pub sha256: String,
    pub signature: String,
    pub notes_zh: String,
    pub notes_en: String,
    /// `None`: checked and ready to install. Else why it will not be installed (the bytes are
    /// deleted then).
    pub refused: Option<String>,
}

/// Why an update was not installed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("no new version has been downloaded")]
    NothingReady,
    #[error("the downloaded version was refused: {0}")]
    Refused(String),
    #[error("this app was installed by IT (in {0}); ask IT to install the new version")]
    ManagedInstall(String),
    #[error("this device cannot update itself (no platform for it)")]
    Unsupported,
    #[error("cannot replace the program: {0}")]
    Io(#[from] std::io::Error),
}

/// The device's updater: where packages go, which keys it trusts, which version it runs.
#[derive(Debug, Clone)]
pub struct Updater {
    dir: PathBuf,
    trusted: Vec<[u8; 32]>,
    current: String,
}

impl Updater {
    /// `data_dir` is the app's data folder (packages go in its `updates/`); `trusted` the
    /// release public keys; `current` the version this program is.
    pub fn new(data_dir: &Path, trusted: Vec<[u8; 32]>, current: &str) -> Self {
        Updater {
            dir: data_dir.join(UPDATE_DIR),
            trusted,
            current: current.to_string(),
        }
    }

    pub fn current(&self) -> &str {
        &self.current
    }

    /// Whether a release key is configured: without one nothing is ever installed.
    pub fn has_keys(&self) -> bool {
        !self.trusted.is_empty()
    }

    /// What was downloaded, when it is newer than this program. A package of this version or
    /// older (the one just installed) is forgotten, and its bytes deleted.
    pub fn downloaded(&self) -> Option<Downloaded> {
        let text = std::fs::read(self.dir.join(STATE_FILE)).ok()?;
        let state: Downloaded = serde_json::from_slice(&text).ok()?;
        if update::is_newer(&state.version, &self.current) {
            Some(state)
        } else {
            self.forget();
            None
        }
    }

    fn package_file(&self, platform: &str, version: &str) -> PathBuf {
        self.dir.join(format!("zhisu-app-{platform}-{version}"))
    }

    fn forget(&self) {
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    fn keep_state(&self, state: &Downloaded) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let temp = self.dir.join(format!("{STATE_FILE}.tmp"));
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(&serde_json::to_vec_pretty(state).expect("plain data serialises"))?;
        file.sync_all()?;
        std::fs::rename(&temp, self.dir.join(STATE_FILE))
    }

    /// Checks the size, SHA-256 and signature of `bytes` for what `manifest` says: `None` when
    /// they are right, else why not (in plain words for the settings screen).
    fn refusal(&self, manifest: &UpdateManifest, bytes: &[u8]) -> Option<String> {
        if bytes.len() as u64 != manifest.size {
            return Some(format!(
                "the download has {} bytes, not the {} announced",
                bytes.len(),
                manifest.size
            ));
        }
        let sha = zhisu_protocol::media_hash(bytes);
        if !sha.eq_ignore_ascii_case(&manifest.sha256) {
            return Some("the download's SHA-256 is not the one announced".into());
        }
        if !update::is_newer(&manifest.version, &self.current) {
            return Some(format!(
                "version {} is not newer than this one",
                manifest.version
            ));
        }
        update::verify(
            &self.trusted,
            &manifest.platform,
            &manifest.version,
            manifest.size,
            &sha,
            &manifest.signature,
        )
        .err()
        .map(|e| e.to_string())
    }

    /// Asks the server for a newer version of this platform and downloads and checks it when it
    /// is not here yet. The state after (`None`: nothing newer).
    pub async fn check(&self, client: &SyncClient) -> Result<Option<Downloaded>, SyncError> {
        let Some(platform) = this_platform() else {
            return Ok(None);
        };
        let answer = client.update_check(platform, &self.current).await?;
        let Some(manifest) = answer.update else {
            return Ok(self.downloaded());
        };
        if let Some(known) = self.downloaded() {
            if known.version == manifest.version
                && known.sha256.eq_ignore_ascii_case(&manifest.sha256)
                && known.signature == manifest.signature
            {
                return Ok(Some(known));
            }
        }
        let described = |refused: Option<String>| Downloaded {
            version: manifest.version.clone(),
            platform: manifest.platform.clone(),
            size: manifest.size,
            sha256: manifest.sha256.to_ascii_lowercase(),
            signature: manifest.signature.clone(),
            notes_zh: manifest.notes_zh.clone(),
            notes_en: manifest.notes_en.clone(),
            refused,
        };
        self.forget();
        if !self.has_keys() {
            // never downloaded: it could not be installed
            let state = described(Some("no release key is configured on this device".into()));
            self.keep_state(&state).map_err(io)?;
            return Ok(Some(state));
        }
        if manifest.platform != platform
            || !manifest.url.starts_with(&format!("{APP_PACKAGES_PATH}/"))
        {
            return Err(SyncError::BadResponse(format!(
                "the update offered is for {} at {}",
                manifest.platform, manifest.url
            )));
        }
        let bytes = client.package(&manifest.url).await?;
        let refused = self.refusal(&manifest, &bytes);
        if refused.is_none() {
            std::fs::create_dir_all(&self.dir).map_err(io)?;
            let target = self.package_file(&manifest.platform, &manifest.version);
            let temp = target.with_extension("part");
            let mut file = std::fs::File::create(&temp).map_err(io)?;
            file.write_all(&bytes)
                .and_then(|()| file.sync_all())
                .map_err(io)?;
            std::fs::rename(&temp, &target).map_err(io)?;
        } else {
            tracing::warn!(version = %manifest.version, reason = ?refused, "update refused");
        }
        let state = described(refused);
        self.keep_state(&state).map_err(io)?;
        Ok(Some(state))
    }

    /// Whether `exe` is in a folder IT manages (installed from the Debian package): the app
    /// does not replace it.
    pub fn managed_install(exe: &Path) -> bool {
        exe.starts_with("/usr") || exe.starts_with("/opt") || exe.starts_with("/bin")
    }

    /// Replaces `exe` with the ready package, checked again as it is on disk now. The caller
    /// makes sure no interview is open, then starts the new program and exits.
    pub fn install(&self, exe: &Path) -> Result<Downloaded, InstallError> {
        if this_platform().is_none() {
            return Err(InstallError::Unsupported);
        }
        if Self::managed_install(exe) {
            return Err(InstallError::ManagedInstall(
                exe.parent().unwrap_or(exe).display().to_string(),
            ));
        }
        let state = self.downloaded().ok_or(InstallError::NothingReady)?;
        if let Some(why) = &state.refused {
            return Err(InstallError::Refused(why.clone()));
        }
        let bytes = std::fs::read(self.package_file(&state.platform, &state.version))
            .map_err(|_| InstallError::NothingReady)?;
        let manifest = UpdateManifest {
            id: 0,
            version: state.version.clone(),
            platform: state.platform.clone(),
            size: state.size,
            sha256: state.sha256.clone(),
            signature: state.signature.clone(),
            notes_zh: String::new(),
            notes_en: String::new(),
            url: String::new(),
        };
        if let Some(why) = self.refusal(&manifest, &bytes) {
            let mut refused = state.clone();
            refused.refused = Some(why.clone());
            self.forget();
            self.keep_state(&refused)?;
            return Err(InstallError::Refused(why));
        }
        replace_executable(exe, &bytes)?;
        Ok(state)
    }
}

/// Writes `bytes` to a new file beside `exe`, makes it executable, syncs it and renames it
/// over `exe` (atomic on one file system), then syncs the folder.
pub fn replace_executable(exe: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = exe
        .parent()
        .ok_or_else(|| std::io::Error::other("the program has no folder"))?;
    let name = exe.file_name().unwrap_or_default().to_string_lossy();
    let temp = folder.join(format!(".{name}.update-{}", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            file.set_permissions(std::fs::Permissions::from_mode(0o755))?;
        }
        file.sync_all()?;
        std::fs::rename(&temp, exe)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written?;
    #[cfg(unix)]
    std::fs::File::open(folder)?.sync_all()?;
    Ok(())
}

fn io(e: std::io::Error) -> SyncError {
    SyncError::BadResponse(format!("cannot keep the update in the data folder: {e}"))
}
