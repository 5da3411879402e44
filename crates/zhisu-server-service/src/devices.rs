//! Devices: one-time enrolment codes and device tokens. Secrets are random (from the
//! OS, by way of v4 UUIDs) and stored only as SHA-256 hashes: they are long random strings, so a
//! fast hash is enough (passwords, which people choose, need a memory-hard one).

use uuid::Uuid;
use zhisu_protocol::sha256_hex;

pub use zhisu_server_storage::devices::{AuditEntry, Device, EnrolRefusal};

/// Letters and digits that cannot be mistaken for each other when read aloud or typed
/// (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// `n` random bytes from the OS generator (by way of v4 UUIDs).
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 16);
    while out.len() < n {
        out.extend_from_slice(Uuid::new_v4().as_bytes());
    }
    out.truncate(n);
    out
}

/// A new one-time enrolment code like `K7XM-3QPA` (8 characters, about 40 bits: enough for a
/// code that is used once and expires within days).
pub fn new_enrolment_code() -> String {
    let chars: String = random_bytes(8)
        .into_iter()
        .map(|b| CODE_ALPHABET[b as usize % CODE_ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// A code as it is compared: upper case, without spaces or dashes.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub fn hash_code(code: &str) -> String {
    sha256_hex(normalize_code(code).as_bytes())
}

/// A new device token: 32 random bytes, hex.
pub fn new_token() -> String {
    random_bytes(32)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn hash_token(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_and_compare_loosely() {
        let code = new_enrolment_code();
        assert_eq!(code.len(), 9);
        assert!(code
            .chars()
            .all(|c| c == '-' || CODE_ALPHABET.contains(&(c as u8))));
        assert_eq!(
            hash_code(&code),
            hash_code(&code.to_lowercase().replace('-', " "))
        );
        assert_ne!(new_enrolment_code(), new_enrolment_code());
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_token());
        assert_ne!(hash_token(&a), a);
    }
}
