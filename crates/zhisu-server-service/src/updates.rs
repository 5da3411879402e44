//! App packages for tablets to update themselves (issue 22): a city administrator uploads a
//! package with the release signature made offline; devices ask whether a newer version is
//! there for their platform and download it. The server checks the form of what it is given
//! (version, platform, signature encoding, size) but holds no key: only the tablets can tell a
//! good signature (`zhisu_protocol::update`).

use chrono::Utc;
use zhisu_protocol::update::{
    self, UpdateCheck, UpdateError, UpdateManifest, APP_PACKAGES_PATH, MAX_PACKAGE_BYTES,
};
use zhisu_protocol::{codes, media_hash};
use zhisu_server_storage::StoredPackage;

use crate::{AuditEntry, ServerState, StorageError};

/// The longest release notes kept, in characters, per language.
pub const MAX_NOTES_CHARS: usize = 2000;

/// Why a package was not kept.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error(transparent)]
    Invalid(#[from] UpdateError),
    #[error("the package is empty")]
    Empty,
    #[error("the package is larger than {} MiB", MAX_PACKAGE_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("the release notes are longer than {MAX_NOTES_CHARS} characters")]
    NotesTooLong,
    #[error("there is already a package of version {version} for {platform}; give the new one a new version")]
    Duplicate { platform: String, version: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl PackageError {
    /// The API code of a refusal; `None` for a storage failure.
    pub fn code(&self) -> Option<&'static str> {
        Some(match self {
            PackageError::Invalid(_) | PackageError::Empty | PackageError::NotesTooLong => {
                codes::INVALID_PACKAGE
            }
            PackageError::TooLarge => codes::PACKAGE_TOO_LARGE,
            PackageError::Duplicate { .. } => codes::VERSION_TAKEN,
            PackageError::Storage(_) => return None,
        })
    }
}

/// A package as an administrator uploads it.
#[derive(Debug, Clone, Default)]
pub struct NewPackage {
    pub platform: String,
    pub version: String,
    pub signature: String,
    pub notes_zh: String,
    pub notes_en: String,
}

/// Where a device downloads package `id`.
pub fn package_url(id: i64) -> String {
    format!("{APP_PACKAGES_PATH}/{id}")
}

fn manifest(p: &StoredPackage) -> UpdateManifest {
    UpdateManifest {
        id: p.id,
        version: p.version.clone(),
        platform: p.platform.clone(),
        size: p.size,
        sha256: p.sha256.clone(),
        signature: p.signature.clone(),
        notes_zh: p.notes_zh.clone(),
        notes_en: p.notes_en.clone(),
        url: package_url(p.id),
    }
}

impl ServerState {
    /// Keeps an uploaded package with its audit entry, after checking its form.
    pub fn upload_package(
        &self,
        new: &NewPackage,
        bytes: &[u8],
        actor: &str,
    ) -> Result<StoredPackage, PackageError> {
        let platform = new.platform.trim();
        let version = new.version.trim();
        update::check_platform(platform)?;
        update::check_version(version)?;
        update::check_signature_encoding(&new.signature)?;
        if bytes.is_empty() {
            return Err(PackageError::Empty);
        }
        if bytes.len() as u64 > MAX_PACKAGE_BYTES {
            return Err(PackageError::TooLarge);
        }
        if new.notes_zh.chars().count() > MAX_NOTES_CHARS
            || new.notes_en.chars().count() > MAX_NOTES_CHARS
        {
            return Err(PackageError::NotesTooLong);
        }
        let mut package = StoredPackage {
            id: 0,
            version: version.into(),
            platform: platform.into(),
            size: bytes.len() as u64,
            sha256: media_hash(bytes),
            signature: new.signature.trim().into(),
            notes_zh: new.notes_zh.trim().into(),
            notes_en: new.notes_en.trim().into(),
            uploaded_at: Utc::now(),
            uploaded_by: actor.into(),
        };
        let audit = AuditEntry::now(
            actor,
            "upload_package",
            format!(
                "{platform} {version}: sha256 {} ({} bytes)",
                package.sha256, package.size
            ),
        );
        match self.storage.put_package(&package, bytes, &audit)? {
            Some(id) => {
                package.id = id;
                Ok(package)
            }
            None => Err(PackageError::Duplicate {
                platform: platform.into(),
                version: version.into(),
            }),
        }
    }

    /// Every package, the newest upload first.
    pub fn packages(&self) -> Result<Vec<StoredPackage>, StorageError> {
        self.storage.packages()
    }

    /// What a device on `platform` running `current` is told: the newest version for its
    /// platform when newer than its own. A malformed platform or version is refused.
    pub fn update_check(&self, platform: &str, current: &str) -> Result<UpdateCheck, PackageError> {
        update::check_platform(platform)?;
        update::check_version(current)?;
        let newest = self
            .storage
            .packages()?
            .into_iter()
            .filter(|p| p.platform == platform && update::is_newer(&p.version, current))
            .max_by(|a, b| zhisu_core::compare_versions(&a.version, &b.version));
        Ok(UpdateCheck {
            update: newest.as_ref().map(manifest),
        })
    }

    /// One package's description and bytes.
    pub fn package(&self, id: i64) -> Result<Option<(UpdateManifest, Vec<u8>)>, StorageError> {
        let Some(described) = self.storage.packages()?.into_iter().find(|p| p.id == id) else {
            return Ok(None);
        };
        Ok(self
            .storage
            .package_bytes(id)?
            .map(|bytes| (manifest(&described), bytes)))
    }
}
