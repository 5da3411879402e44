//! A completed interview sealed to the round's public key: unreadable without the private key,
//! and after opening the very interview, content hash and all.
use std::path::PathBuf;

use crypto_box::aead::OsRng;
use zhisu_protocol::sealed::{RoundSecretKey, SealError};
use zhisu_protocol::CompletedInterview;

fn vector(name: &str) -> CompletedInterview {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/protocol-vectors")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_sealed_interview_is_unreadable_and_opens_to_the_same_interview_with_the_round_key() {
    let round = RoundSecretKey::generate("2026", &mut OsRng);
    let public = round.public_key();
    assert!(public.is_usable());
    for name in ["01-minimal.json", "02-chinese-python-escapes.json"] {
        let interview = vector(name);
        assert!(interview.hash_is_valid(), "{name}");
        let sealed = public.seal(&interview, &mut OsRng).unwrap();
        assert_eq!((sealed.id, sealed.key_id.as_str()), (interview.id, "2026"));
        // nothing of the content is in the envelope
        let wire = serde_json::to_vec(&sealed).unwrap();
        let clear = serde_json::to_vec(&interview).unwrap();
        for (item, answer) in interview.answers.iter() {
            let answer = serde_json::to_vec(answer).unwrap();
            assert!(
                contains(&clear, &answer) && !contains(&wire, &answer),
                "{name} {item}"
            );
            assert!(!contains(&wire, item.as_bytes()), "{name} {item}");
        }
        assert!(!contains(&wire, interview.content_hash.as_bytes()));
        // sealing twice gives different bytes (a fresh ephemeral key each time)
        assert_ne!(
            public.seal(&interview, &mut OsRng).unwrap().sealed,
            sealed.sealed
        );
        let opened = round.open(&sealed).unwrap();
        assert_eq!(opened, interview);
        assert!(opened.hash_is_valid());
        assert_eq!(opened.content_hash, interview.content_hash);
    }
}

#[test]
fn another_key_a_damaged_seal_or_a_swapped_id_is_refused() {
    let round = RoundSecretKey::generate("2026", &mut OsRng);
    let interview = vector("01-minimal.json");
    let sealed = round.public_key().seal(&interview, &mut OsRng).unwrap();

    let other = RoundSecretKey::generate("2026", &mut OsRng);
    assert_eq!(other.open(&sealed), Err(SealError::DoesNotOpen));
    let next_round = RoundSecretKey::generate("2027", &mut OsRng);
    assert!(matches!(
        next_round.open(&sealed),
        Err(SealError::UnknownKey { .. })
    ));

    let mut damaged = sealed.clone();
    let mut bytes = damaged.sealed.into_bytes();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    damaged.sealed = String::from_utf8(bytes).unwrap();
    assert_eq!(round.open(&damaged), Err(SealError::DoesNotOpen));

    let mut swapped = sealed.clone();
    swapped.id = uuid::Uuid::from_u128(7);
    assert!(matches!(
        round.open(&swapped),
        Err(SealError::IdMismatch { .. })
    ));

    // the private key survives its backup as hex
    let restored = RoundSecretKey::from_hex("2026", &round.to_hex()).unwrap();
    assert_eq!(restored.open(&sealed).unwrap(), interview);
    assert_eq!(restored.public_key(), round.public_key());
    assert!(format!("{restored:?}").contains("redacted"));
    assert!(RoundSecretKey::from_hex("2026", "abc").is_err());
}
