//! Devices: one-time enrolment codes and device tokens. Secrets are random (from the
//! operating system's generator) and stored only as SHA-256 hashes: they are long random
//! strings, so a fast hash is enough (passwords, which people choose, need a memory-hard one).

use zhisu_protocol::sha256_hex;

pub use zhisu_server_storage::devices::{AuditEntry, Device, EnrolRefusal};

/// Letters and digits that cannot be mistaken for each other when read aloud or typed
/// (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// `n` random bytes from the operating system's generator (every bit random: a v4 UUID, used
/// here before, fixes six of its bits).
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    getrandom::fill(&mut out).expect("the operating system's random generator answers");
    out
}

/// Characters in an enrolment code: 10 of 31 kinds, about 49.5 bits.
pub const CODE_CHARS: usize = 10;

/// A new one-time enrolment code like `K7XM3-QPAZ9` (10 characters, about 49.5 bits: well
/// above the 40 a code used once, expiring within days and throttled per address, needs).
/// Each character is drawn without bias (bytes beyond the largest multiple of 31 are drawn
/// again).
pub fn new_enrolment_code() -> String {
    let chars = random_code_chars(CODE_CHARS);
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// `n` characters of the code alphabet, each drawn without bias from the operating system's
/// generator (bytes beyond the largest multiple of 31 are drawn again).
pub fn random_code_chars(n: usize) -> String {
    let fair = 256 - 256 % CODE_ALPHABET.len();
    let mut chars = String::with_capacity(n);
    while chars.len() < n {
        for b in random_bytes(16) {
            if (b as usize) < fair && chars.len() < n {
                chars.push(CODE_ALPHABET[b as usize % CODE_ALPHABET.len()] as char);
            }
        }
    }
    chars
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
        assert_eq!(code.len(), CODE_CHARS + 1);
        // at least 40 bits
        assert!((CODE_CHARS as f64) * (CODE_ALPHABET.len() as f64).log2() >= 40.0);
        assert!(code
            .chars()
            .all(|c| c == '-' || CODE_ALPHABET.contains(&(c as u8))));
        assert_eq!(
            hash_code(&code),
            hash_code(&code.to_lowercase().replace('-', " "))
        );
        assert_ne!(new_enrolment_code(), new_enrolment_code());
        // every character of the alphabet comes up, about equally often (no modulo bias)
        let mut counts = [0u32; 31];
        for _ in 0..31_000 {
            for c in new_enrolment_code().bytes().filter(|b| *b != b'-') {
                counts[CODE_ALPHABET.iter().position(|a| *a == c).unwrap()] += 1;
            }
        }
        // 10,000 expected each (sd 100); a draw biased by 256 % 31 gives 8 characters 11,100
        assert!(
            counts.iter().all(|n| (9_500..10_500).contains(n)),
            "{counts:?}"
        );
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_token());
        assert_ne!(hash_token(&a), a);
    }
}
