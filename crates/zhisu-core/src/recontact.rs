//! Re-contact details (复核, issue 15): the phone number a respondent gives when they agree to
//! be phoned once for a back-check, and how to address them. One rule, run by the tablet's
//! card (for an instant message), the device store and the server, so they cannot disagree.

/// The version of the re-contact question's words (the card on the tablet's feedback page):
/// kept with each answer, like the interview consent's `consent_text_version`. A change of the
/// card's words is a new version here.
pub const RECONTACT_TEXT_VERSION: &str = "recontact-2026.1";

/// Longest way of addressing the respondent (称呼, e.g. 王师傅), in characters: a form of
/// address, not a full name.
pub const MAX_CALL_NAME_CHARS: usize = 12;

/// Why a phone number is not one the back-check can call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneProblem {
    /// Nothing was given.
    Empty,
    /// Something other than digits (spaces and hyphens are allowed between them, and a
    /// leading +86).
    NotDigits,
    /// Neither a mobile number (11 digits starting with 1) nor a landline with its area code
    /// (0, then 9 to 11 digits).
    WrongLength,
}

impl PhoneProblem {
    /// The problem in plain words, in `lang` (`zh-CN` or `en`).
    pub fn message(self, lang: &str) -> &'static str {
        let en = lang.starts_with("en");
        match (self, en) {
            (PhoneProblem::Empty, false) => "请写下电话号码。",
            (PhoneProblem::Empty, true) => "Please write the phone number.",
            (PhoneProblem::NotDigits, false) => "电话号码只能写数字。",
            (PhoneProblem::NotDigits, true) => "A phone number has only digits.",
            (PhoneProblem::WrongLength, false) => {
                "号码不对：手机号是 1 开头的 11 位数字；座机要带区号，比如 023-12345678。"
            }
            (PhoneProblem::WrongLength, true) => {
                "This number is not right: a mobile number has 11 digits starting with 1; a landline needs its area code, e.g. 023-12345678."
            }
        }
    }
}

impl std::fmt::Display for PhoneProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message("en"))
    }
}

/// A mainland phone number as the back-check will dial it: the digits only. Accepted: a mobile
/// number (11 digits starting with 1, second digit 3 to 9), or a landline with its area code
/// (0, a non-zero digit, 8 to 10 more digits: 010-12345678, 023-1234567, 0871-12345678).
/// Spaces and hyphens between digits and a leading `+86` or `0086` are dropped.
pub fn normalize_phone(given: &str) -> Result<String, PhoneProblem> {
    let trimmed = given.trim();
    if trimmed.is_empty() {
        return Err(PhoneProblem::Empty);
    }
    let without_country = trimmed
        .strip_prefix("+86")
        .or_else(|| trimmed.strip_prefix("0086"))
        .unwrap_or(trimmed);
    let mut digits = String::with_capacity(16);
    for c in without_country.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' => {}
            _ => return Err(PhoneProblem::NotDigits),
        }
        if digits.len() > 16 {
            return Err(PhoneProblem::WrongLength);
        }
    }
    let bytes = digits.as_bytes();
    let mobile = bytes.len() == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1]);
    let landline = (10..=12).contains(&bytes.len()) && bytes[0] == b'0' && bytes[1] != b'0';
    if mobile || landline {
        Ok(digits)
    } else if digits.is_empty() {
        Err(PhoneProblem::NotDigits)
    } else {
        Err(PhoneProblem::WrongLength)
    }
}

/// A way of addressing the respondent, trimmed: at most [`MAX_CALL_NAME_CHARS`] characters,
/// none of them control or invisible. `None` when it is too long or holds such a character.
pub fn normalize_call_name(given: &str) -> Option<String> {
    let name = given.trim();
    let fits = name.chars().count() <= MAX_CALL_NAME_CHARS
        && !name
            .chars()
            .any(|c| c.is_control() || crate::is_invisible(c));
    fits.then(|| name.to_string())
}

/// How the back-check reaches the respondent, as one line: the number, and how to address
/// them when they said (`13800001234（王师傅）`).
pub fn contact_line(phone: &str, call_name: &str) -> String {
    if call_name.is_empty() {
        phone.to_string()
    } else {
        format!("{phone}（{call_name}）")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles_and_landlines_with_an_area_code_are_taken_and_the_rest_refused() {
        for (given, digits) in [
            ("13800001234", "13800001234"),
            (" 138 0000 1234 ", "13800001234"),
            ("138-0000-1234", "13800001234"),
            ("+86 13800001234", "13800001234"),
            ("023-12345678", "02312345678"),
            ("010 1234 5678", "01012345678"),
            ("0871-1234567", "08711234567"),
        ] {
            assert_eq!(normalize_phone(given).as_deref(), Ok(digits), "{given}");
        }
        for (given, problem) in [
            ("", PhoneProblem::Empty),
            ("   ", PhoneProblem::Empty),
            ("138000O1234", PhoneProblem::NotDigits),
            ("1380000123", PhoneProblem::WrongLength),
            ("138000012345", PhoneProblem::WrongLength),
            ("12800001234", PhoneProblem::WrongLength),
            ("12345678", PhoneProblem::WrongLength),
            ("00012345678", PhoneProblem::WrongLength),
            ("1380000123\u{200b}4", PhoneProblem::NotDigits),
            ("1111111111111111111111111", PhoneProblem::WrongLength),
            ("--", PhoneProblem::NotDigits),
        ] {
            assert_eq!(normalize_phone(given), Err(problem), "{given:?}");
            assert!(!problem.message("zh-CN").is_empty());
        }
    }

    #[test]
    fn a_call_name_is_short_and_plain() {
        assert_eq!(normalize_call_name(" 王师傅 ").as_deref(), Some("王师傅"));
        assert_eq!(normalize_call_name("").as_deref(), Some(""));
        assert_eq!(normalize_call_name("王\u{202e}师傅"), None);
        assert_eq!(normalize_call_name(&"王".repeat(13)), None);
        assert_eq!(
            contact_line("13800001234", "王师傅"),
            "13800001234（王师傅）"
        );
        assert_eq!(contact_line("13800001234", ""), "13800001234");
    }
}
