//! Sealed interviews (protocol 1, minor addition; see `docs/sync-protocol.md`, "Sealed
//! interviews"): a completed interview sealed on the device to its round's public key, so that
//! neither the tablet after completion nor anyone on the way can read it; only the server,
//! which holds the round's private key, opens it, and then checks, re-scores and stores it as
//! any interview.
//!
//! The seal is libsodium's `crypto_box_seal` (X25519 with a fresh ephemeral key per interview,
//! XSalsa20-Poly1305, the nonce from BLAKE2b of the two public keys), through the pure-Rust
//! `crypto_box` crate: any client with libsodium can write it. The sealed bytes are the
//! interview's JSON exactly as the device would have sent it in the clear, content hash
//! included, so the hash and the exactly-once rules apply unchanged after opening.
//!
//! No I/O and no randomness of its own: sealing takes the caller's random source.

use std::fmt;

use base64::Engine as _;
use crypto_box::aead::rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::CompletedInterview;

/// The operating system's random source, for the callers that seal or make keys.
pub use crypto_box::aead::OsRng;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A round's public key as delivered to devices with the assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundPublicKey {
    /// Which key of the round this is (the round's name, or the name of a rotated key).
    pub key_id: String,
    /// 32 bytes, standard base64.
    pub public_key: String,
}

/// A round's private key, as the server keeps it. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct RoundSecretKey {
    pub key_id: String,
    secret: crypto_box::SecretKey,
}

impl fmt::Debug for RoundSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoundSecretKey({}, <redacted>)", self.key_id)
    }
}

/// A completed interview sealed to its round's public key, as a device uploads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedInterview {
    /// The interview's id, outside the seal so the receipt can name it; the server refuses a
    /// sealed interview whose content has another id.
    pub id: Uuid,
    /// The key it was sealed to ([`RoundPublicKey::key_id`]).
    pub key_id: String,
    /// `crypto_box_seal` of the interview's JSON, standard base64.
    pub sealed: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("a round key is 32 bytes in base64 or 64 hex digits")]
    BadKey,
    #[error("sealed to key '{found}', and this server holds no private key of that name")]
    UnknownKey { found: String },
    #[error("the sealed interview does not open with the round's key (damaged, or sealed to another key)")]
    DoesNotOpen,
    #[error("the sealed content is not an interview: {0}")]
    NotAnInterview(String),
    #[error("the sealed interview is {inside} inside but {outside} outside")]
    IdMismatch { outside: Uuid, inside: Uuid },
}

impl RoundSecretKey {
    /// A new key pair from `rng` (the server's random source).
    pub fn generate(key_id: &str, rng: &mut impl CryptoRngCore) -> Self {
        RoundSecretKey {
            key_id: key_id.to_string(),
            secret: crypto_box::SecretKey::generate(rng),
        }
    }

    /// Reads the private key from 64 hex digits (white space around ignored).
    pub fn from_hex(key_id: &str, text: &str) -> Result<Self, SealError> {
        let bytes = hex32(text.trim()).ok_or(SealError::BadKey)?;
        Ok(RoundSecretKey {
            key_id: key_id.to_string(),
            secret: crypto_box::SecretKey::from(bytes),
        })
    }

    /// The private key as 64 hex digits, for the key file and its backup.
    pub fn to_hex(&self) -> String {
        self.secret
            .to_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The public key devices seal to.
    pub fn public_key(&self) -> RoundPublicKey {
        RoundPublicKey {
            key_id: self.key_id.clone(),
            public_key: B64.encode(self.secret.public_key().as_bytes()),
        }
    }

    /// Opens a sealed interview and checks that it is the interview the envelope names.
    pub fn open(&self, sealed: &SealedInterview) -> Result<CompletedInterview, SealError> {
        if sealed.key_id != self.key_id {
            return Err(SealError::UnknownKey {
                found: sealed.key_id.clone(),
            });
        }
        let bytes = B64
            .decode(sealed.sealed.as_bytes())
            .map_err(|_| SealError::DoesNotOpen)?;
        let plain = self
            .secret
            .unseal(&bytes)
            .map_err(|_| SealError::DoesNotOpen)?;
        let interview: CompletedInterview =
            serde_json::from_slice(&plain).map_err(|e| SealError::NotAnInterview(e.to_string()))?;
        if interview.id != sealed.id {
            return Err(SealError::IdMismatch {
                outside: sealed.id,
                inside: interview.id,
            });
        }
        Ok(interview)
    }
}

impl RoundPublicKey {
    fn key(&self) -> Result<crypto_box::PublicKey, SealError> {
        let bytes: [u8; 32] = B64
            .decode(self.public_key.as_bytes())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(SealError::BadKey)?;
        Ok(crypto_box::PublicKey::from(bytes))
    }

    /// Whether the key is 32 bytes of base64 (a device checks before it keeps it).
    pub fn is_usable(&self) -> bool {
        self.key().is_ok() && !self.key_id.is_empty()
    }

    /// Seals `interview` (its JSON as it would be sent in the clear) with a fresh ephemeral key
    /// drawn from `rng`.
    pub fn seal(
        &self,
        interview: &CompletedInterview,
        rng: &mut impl CryptoRngCore,
    ) -> Result<SealedInterview, SealError> {
        let json = serde_json::to_vec(interview).expect("an interview serialises to JSON");
        let sealed = self
            .key()?
            .seal(rng, &json)
            .map_err(|_| SealError::BadKey)?;
        Ok(SealedInterview {
            id: interview.id,
            key_id: self.key_id.clone(),
            sealed: B64.encode(sealed),
        })
    }
}

fn hex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(bytes)
}
