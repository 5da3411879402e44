//! Surveyors managed on the server (issue 15): the field people of a district, created, given a
//! PIN and retired by the district's staff on the dashboard, and delivered to every tablet of
//! the district so that any of them can sign in on any of its tablets, offline once delivered.
//!
//! A surveyor's id is a stable string the server makes (`sv-` and 10 hex digits) and never
//! changes or reuses; interviews and contact outcomes carry it as `surveyor_id`, like the ids of
//! surveyors added on a tablet before (which the server still accepts).
//!
//! The PIN reaches a tablet only as `pin_verifier`: a PHC string of Argon2id over the PIN with
//! its own random salt (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`). It is the only form the server
//! keeps either: a surveyor has no password for the server, so nothing taken from a tablet
//! signs in anywhere but on a tablet of the district. Its digest ([`surveyors_digest`]) rides on
//! the assignment; a tablet fetches [`SURVEYORS_PATH`] when it differs from the digest of what it
//! holds (added within protocol v1: a device that does not know it ignores it).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The district's surveyors for a device (GET, → [`SurveyorList`]), with the device token.
pub const SURVEYORS_PATH: &str = "/api/v1/device/surveyors";

/// Longest surveyor id, in bytes (`A-Z`, `a-z`, `0-9`, `-`, `_`).
pub const MAX_SURVEYOR_ID_CHARS: usize = 64;
/// Longest display name, in characters.
pub const MAX_SURVEYOR_NAME_CHARS: usize = 40;
/// Longest PIN verifier, in bytes.
pub const MAX_PIN_VERIFIER_CHARS: usize = 200;
/// Most surveyors one list carries (a tablet keeps the first ones of a longer list).
pub const MAX_DELIVERED_SURVEYORS: usize = 5000;

/// One active surveyor of the district, as a tablet receives them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveredSurveyor {
    pub id: String,
    pub name: String,
    /// Argon2id of the PIN as a PHC string, salted for this surveyor.
    pub pin_verifier: String,
}

impl std::fmt::Debug for DeliveredSurveyor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveredSurveyor")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("pin_verifier", &"[redacted]")
            .finish()
    }
}

/// The district's active surveyors (retired ones are left out), by id, with their digest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SurveyorList {
    pub digest: String,
    pub surveyors: Vec<DeliveredSurveyor>,
}

/// Whether `id` may name a surveyor: 1 to [`MAX_SURVEYOR_ID_CHARS`] of `A-Z a-z 0-9 - _`.
pub fn valid_surveyor_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_SURVEYOR_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl DeliveredSurveyor {
    /// What breaks the protocol's rules (a tablet leaves such a surveyor out).
    pub fn problems(&self) -> Vec<&'static str> {
        let mut problems = Vec::new();
        if !valid_surveyor_id(&self.id) {
            problems.push("surveyor id: 1 to 64 of A-Z, a-z, 0-9, '-', '_'");
        }
        let name = self.name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_SURVEYOR_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            problems.push("surveyor name: 1 to 40 characters, no control characters");
        }
        if !self.pin_verifier.starts_with("$argon2id$")
            || self.pin_verifier.len() > MAX_PIN_VERIFIER_CHARS
        {
            problems.push("pin verifier: an Argon2id PHC string");
        }
        problems
    }
}

/// The digest of a list: SHA-256 over each surveyor's id, name and verifier (tab-separated, a
/// line feed after each), in id order, as `sha256:` and 64 hex digits. A surveyor added, renamed,
/// given a new PIN or retired changes it.
pub fn surveyors_digest(surveyors: &[DeliveredSurveyor]) -> String {
    let mut sorted: Vec<&DeliveredSurveyor> = surveyors.iter().collect();
    sorted.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    let mut hasher = Sha256::new();
    for s in sorted {
        hasher.update(format!("{}\t{}\t{}\n", s.id, s.name, s.pin_verifier).as_bytes());
    }
    let mut hex = String::from("sha256:");
    for byte in hasher.finalize() {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(id: &str, verifier: &str) -> DeliveredSurveyor {
        DeliveredSurveyor {
            id: id.into(),
            name: "张三".into(),
            pin_verifier: verifier.into(),
        }
    }

    #[test]
    fn the_digest_follows_the_list_not_its_order() {
        let a = one("sv-a", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
        let b = one("sv-b", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$b3RoZXI");
        let ab = surveyors_digest(&[a.clone(), b.clone()]);
        assert_eq!(ab, surveyors_digest(&[b.clone(), a.clone()]));
        assert_eq!(ab.len(), "sha256:".len() + 64);
        // a new PIN (another verifier) or a retired surveyor changes it
        let new_pin = one("sv-b", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$bmV3");
        assert_ne!(ab, surveyors_digest(&[a.clone(), new_pin]));
        assert_ne!(ab, surveyors_digest(std::slice::from_ref(&a)));
        assert_eq!(
            surveyors_digest(&[]),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn a_surveyor_outside_the_rules_says_why_and_hides_its_verifier() {
        assert!(one("sv-0123456789", "$argon2id$x").problems().is_empty());
        assert_eq!(one("", "$argon2id$x").problems().len(), 1);
        assert_eq!(one("a b", "$argon2id$x").problems().len(), 1);
        assert_eq!(one("sv-1", "1234").problems().len(), 1);
        let mut nameless = one("sv-1", "$argon2id$x");
        nameless.name = " ".into();
        assert_eq!(nameless.problems().len(), 1);
        assert!(!format!("{:?}", one("sv-1", "$argon2id$secret")).contains("secret"));
    }
}
