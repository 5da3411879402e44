//! The interview reference a respondent is shown: the first eight hex digits of the interview's
//! id, as `3F1C-9A2B`. Short enough to write down or say on the phone, it lets a respondent ask
//! the CDC to delete their answers (PIPL art. 47) without the tablet keeping anything about them;
//! `zhisu-server erase-interview 3F1C-9A2B` finds the interview by it (and asks for the full id
//! in the rare case that two interviews share it).

/// Hex digits of an interview id a reference shows.
pub const REFERENCE_HEX_DIGITS: usize = 8;

/// The reference of the interview whose id is `id` (a UUID as text, hyphenated or not): the
/// first eight hex digits in capitals, split in two (`3F1C-9A2B`). `None` when `id` does not
/// start with eight hex digits.
pub fn interview_reference(id: &str) -> Option<String> {
    let digits: String = id
        .chars()
        .filter(|c| *c != '-')
        .take(REFERENCE_HEX_DIGITS)
        .collect();
    if digits.len() != REFERENCE_HEX_DIGITS || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let digits = digits.to_ascii_uppercase();
    Some(format!("{}-{}", &digits[..4], &digits[4..]))
}

/// The eight hex digits (lower case) of a reference as a person writes it: capitals or not,
/// with or without the hyphen or spaces (`3f1c 9a2b`, `3F1C-9A2B`). `None` for anything else.
pub fn parse_reference(text: &str) -> Option<String> {
    if text.len() > 32 {
        return None;
    }
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\u{3000}'))
        .collect();
    (digits.len() == REFERENCE_HEX_DIGITS && digits.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| digits.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_is_the_ids_first_eight_hex_digits_and_reads_back_however_written() {
        let id = "3f1c9a2b-0d4e-4f00-8a11-123456789abc";
        assert_eq!(interview_reference(id).as_deref(), Some("3F1C-9A2B"));
        assert_eq!(
            interview_reference("3f1c9a2b0d4e4f008a11123456789abc").as_deref(),
            Some("3F1C-9A2B")
        );
        for written in ["3F1C-9A2B", "3f1c9a2b", " 3f1c 9a2b ", "3F1C\u{3000}9A2B"] {
            assert_eq!(
                parse_reference(written).as_deref(),
                Some("3f1c9a2b"),
                "{written:?}"
            );
        }
        for bad in [
            "",
            "3F1C-9A2",
            "3F1C-9A2BX",
            "3G1C-9A2B",
            "3f1c9a2b0",
            "３F1C-9A2B",
        ] {
            assert_eq!(parse_reference(bad), None, "{bad:?}");
        }
        assert_eq!(interview_reference("3f1c-9a2"), None);
        assert_eq!(interview_reference("zzzzzzzz-0000"), None);
        // what is shown reads back as the id's own digits
        assert_eq!(
            parse_reference(&interview_reference(id).unwrap()).unwrap(),
            id[..8]
        );
    }
}
