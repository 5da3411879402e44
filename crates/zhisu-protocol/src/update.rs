//! Updates of the app from the central server (protocol v1 addition, issue 22).
//!
//! A city administrator uploads a package (the app's executable, or a `.deb`) with a detached
//! Ed25519 signature made **offline** with the release key (`zhisu update sign`). The server
//! keeps and serves packages but holds no key: a tablet installs a package only when its
//! signature verifies under a public key the tablet was given by IT (compiled in, or in the
//! app's configuration file), so a server that is broken into cannot push code to tablets.
//!
//! The signature covers [`signed_message`]: the platform, the version, the size and the
//! SHA-256 of the package, so a signature cannot be replayed for another version or platform
//! (a downgrade to an old signed version is also refused by the device, which installs only a
//! version newer than its own).

use base64::Engine as _;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};

/// Whether a newer version is there (GET with `platform` and `current`, device token, →
/// [`UpdateCheck`]).
pub const APP_UPDATE_PATH: &str = "/api/v1/app/update";
/// One package's bytes (GET `/api/v1/app/packages/{id}`, device token), with `Range` support so
/// a broken download resumes. City administrators upload on the dashboard (`/dashboard/updates`).
pub const APP_PACKAGES_PATH: &str = "/api/v1/app/packages";
/// The largest package the server takes (a debug build of the app is about 70 MB; a release
/// `.deb` about 8 MB).
pub const MAX_PACKAGE_BYTES: u64 = 256 * 1024 * 1024;

/// The platforms a package is for: what the app asks with, what an administrator uploads for.
pub const PLATFORMS: &[&str] = &[
    // the app's executable alone, installed in a folder the surveyor's user may write
    "linux-x86_64-bin",
    "linux-aarch64-bin",
    // the Debian package, installed by IT (the app cannot write /usr/bin)
    "linux-x86_64-deb",
    "linux-aarch64-deb",
    "windows-x86_64",
];

/// What the server answers a device's check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateCheck {
    /// The newest version for the platform when it is newer than `current`; else `None`.
    pub update: Option<UpdateManifest>,
}

/// One package as the server describes it to a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateManifest {
    /// The server's id of the package, for the download path.
    pub id: i64,
    pub version: String,
    pub platform: String,
    pub size: u64,
    /// Lowercase hex SHA-256 of the package.
    pub sha256: String,
    /// Base64 of the 64-byte Ed25519 signature of [`signed_message`].
    pub signature: String,
    #[serde(default)]
    pub notes_zh: String,
    #[serde(default)]
    pub notes_en: String,
    /// Where the bytes are (`/api/v1/app/packages/{id}`).
    pub url: String,
}

/// Why a package is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    #[error("the release public key is not 32 bytes of base64: {0}")]
    BadPublicKey(String),
    #[error("the signature is not 64 bytes of base64")]
    BadSignatureEncoding,
    #[error("the signature does not verify under any release key this app trusts")]
    SignatureInvalid,
    #[error("the release secret key file is not an Ed25519 PKCS#8 key")]
    BadSecretKey,
    #[error("version {0:?} is not numbers separated by dots (such as 1.4.2)")]
    BadVersion(String),
    #[error("platform {0:?} is not one of {PLATFORMS:?}")]
    BadPlatform(String),
}

/// The bytes a release signature covers. One line per field, with a fixed first line naming
/// the format: nothing else can be made to look like it.
pub fn signed_message(platform: &str, version: &str, size: u64, sha256_hex: &str) -> Vec<u8> {
    format!(
        "zhisu-app-update-v1\nplatform={platform}\nversion={version}\nsize={size}\nsha256={}\n",
        sha256_hex.to_ascii_lowercase()
    )
    .into_bytes()
}

/// A version the updater accepts: numbers (at most 9 digits each) separated by dots, 1 to 4
/// parts, at most 40 characters.
pub fn check_version(version: &str) -> Result<(), UpdateError> {
    let parts: Vec<&str> = version.split('.').collect();
    let ok = version.len() <= 40
        && (1..=4).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(UpdateError::BadVersion(version.chars().take(60).collect()))
    }
}

pub fn check_platform(platform: &str) -> Result<(), UpdateError> {
    if PLATFORMS.contains(&platform) {
        Ok(())
    } else {
        Err(UpdateError::BadPlatform(
            platform.chars().take(60).collect(),
        ))
    }
}

/// Whether `candidate` is a newer version than `current` (numeric parts by value).
pub fn is_newer(candidate: &str, current: &str) -> bool {
    zhisu_core::compare_versions(candidate, current) == std::cmp::Ordering::Greater
}

/// A new release key pair: the secret as PKCS#8 bytes (to keep offline, never on the
/// server) and the public key as base64 (to give the tablets).
pub fn new_release_key() -> Result<(Vec<u8>, String), UpdateError> {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| UpdateError::BadSecretKey)?;
    let public = public_key_of(pkcs8.as_ref())?;
    Ok((pkcs8.as_ref().to_vec(), public))
}

/// The base64 public key of a PKCS#8 secret key.
pub fn public_key_of(pkcs8: &[u8]) -> Result<String, UpdateError> {
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| UpdateError::BadSecretKey)?;
    Ok(b64().encode(pair.public_key().as_ref()))
}

/// Signs a package described by its platform, version, size and SHA-256: base64 of the
/// signature.
pub fn sign(
    pkcs8: &[u8],
    platform: &str,
    version: &str,
    size: u64,
    sha256_hex: &str,
) -> Result<String, UpdateError> {
    check_platform(platform)?;
    check_version(version)?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| UpdateError::BadSecretKey)?;
    let signature = pair.sign(&signed_message(platform, version, size, sha256_hex));
    Ok(b64().encode(signature.as_ref()))
}

/// Reads a base64 public key (surrounding space ignored).
pub fn parse_public_key(text: &str) -> Result<[u8; 32], UpdateError> {
    let bytes = b64()
        .decode(text.trim())
        .map_err(|_| UpdateError::BadPublicKey(text.trim().chars().take(60).collect()))?;
    bytes
        .try_into()
        .map_err(|_| UpdateError::BadPublicKey(text.trim().chars().take(60).collect()))
}

/// Whether the manifest's signature verifies, for the size and SHA-256 the device measured,
/// under one of `trusted` public keys.
pub fn verify(
    trusted: &[[u8; 32]],
    platform: &str,
    version: &str,
    size: u64,
    sha256_hex: &str,
    signature_b64: &str,
) -> Result<(), UpdateError> {
    let signature = b64()
        .decode(signature_b64.trim())
        .ok()
        .filter(|s| s.len() == 64)
        .ok_or(UpdateError::BadSignatureEncoding)?;
    let message = signed_message(platform, version, size, sha256_hex);
    let good = trusted.iter().any(|key| {
        UnparsedPublicKey::new(&ED25519, key)
            .verify(&message, &signature)
            .is_ok()
    });
    if good {
        Ok(())
    } else {
        Err(UpdateError::SignatureInvalid)
    }
}

/// Whether a signature is well formed (64 bytes of base64): what the server can check.
pub fn check_signature_encoding(signature_b64: &str) -> Result<(), UpdateError> {
    b64()
        .decode(signature_b64.trim())
        .ok()
        .filter(|s| s.len() == 64)
        .map(|_| ())
        .ok_or(UpdateError::BadSignatureEncoding)
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn a_signature_verifies_only_for_its_own_platform_version_size_and_hash() {
        let (secret, public) = new_release_key().unwrap();
        let key = parse_public_key(&public).unwrap();
        let sig = sign(&secret, "linux-x86_64-bin", "0.1.1", 4, SHA).unwrap();
        assert_eq!(
            verify(&[key], "linux-x86_64-bin", "0.1.1", 4, SHA, &sig),
            Ok(())
        );
        // upper-case hex is the same hash
        let upper = SHA.to_ascii_uppercase();
        assert_eq!(
            verify(&[key], "linux-x86_64-bin", "0.1.1", 4, &upper, &sig),
            Ok(())
        );
        for (platform, version, size, sha) in [
            ("linux-x86_64-deb", "0.1.1", 4, SHA),
            ("linux-x86_64-bin", "0.1.2", 4, SHA),
            ("linux-x86_64-bin", "0.1.1", 5, SHA),
            (
                "linux-x86_64-bin",
                "0.1.1",
                4,
                "0f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            ),
        ] {
            assert_eq!(
                verify(&[key], platform, version, size, sha, &sig),
                Err(UpdateError::SignatureInvalid),
                "{platform} {version} {size} {sha}"
            );
        }
        // another key does not verify it; among several trusted keys the right one does
        let (_, other) = new_release_key().unwrap();
        let other = parse_public_key(&other).unwrap();
        assert_eq!(
            verify(&[other], "linux-x86_64-bin", "0.1.1", 4, SHA, &sig),
            Err(UpdateError::SignatureInvalid)
        );
        assert_eq!(
            verify(&[other, key], "linux-x86_64-bin", "0.1.1", 4, SHA, &sig),
            Ok(())
        );
        assert_eq!(public_key_of(&secret).unwrap(), public);
        // a truncated, lengthened, altered or garbage signature is refused
        use base64::Engine as _;
        let raw = b64().decode(&sig).unwrap();
        let truncated = b64().encode(&raw[..63]);
        let longer = b64().encode([&raw[..], &[0]].concat());
        let mut flipped = raw.clone();
        flipped[10] ^= 1;
        let flipped = b64().encode(flipped);
        for (bad, why) in [
            (truncated.as_str(), UpdateError::BadSignatureEncoding),
            (longer.as_str(), UpdateError::BadSignatureEncoding),
            (&sig[..sig.len() - 4], UpdateError::BadSignatureEncoding),
            ("###", UpdateError::BadSignatureEncoding),
            ("", UpdateError::BadSignatureEncoding),
            (flipped.as_str(), UpdateError::SignatureInvalid),
        ] {
            assert_eq!(
                verify(&[key], "linux-x86_64-bin", "0.1.1", 4, SHA, bad),
                Err(why),
                "{bad:?}"
            );
        }
        // no trusted key: nothing verifies
        assert_eq!(
            verify(&[], "linux-x86_64-bin", "0.1.1", 4, SHA, &sig),
            Err(UpdateError::SignatureInvalid)
        );
    }

    #[test]
    fn malformed_keys_signatures_versions_and_platforms_are_refused_clearly() {
        assert!(matches!(
            parse_public_key("not base64!"),
            Err(UpdateError::BadPublicKey(_))
        ));
        assert!(matches!(
            parse_public_key("AAAA"),
            Err(UpdateError::BadPublicKey(_))
        ));
        assert_eq!(
            verify(&[[0; 32]], "linux-x86_64-bin", "1", 1, SHA, "AAAA"),
            Err(UpdateError::BadSignatureEncoding)
        );
        assert_eq!(
            check_signature_encoding("AAAA"),
            Err(UpdateError::BadSignatureEncoding)
        );
        assert_eq!(
            sign(b"garbage", "linux-x86_64-bin", "1.0", 1, SHA),
            Err(UpdateError::BadSecretKey)
        );
        for bad in ["", "1..2", "v1.2", "1.2.3.4.5", "1.2-beta", "1234567890"] {
            assert!(check_version(bad).is_err(), "{bad:?}");
        }
        for good in ["1", "0.1.1", "2026.12.31.9"] {
            assert_eq!(check_version(good), Ok(()));
        }
        assert!(check_platform("linux-x86_64-bin").is_ok());
        assert!(check_platform("../../etc").is_err());
        assert!(is_newer("0.1.10", "0.1.9"));
        assert!(!is_newer("0.1.1", "0.1.1"));
        assert!(!is_newer("0.1.0", "0.1.1"));
    }
}
