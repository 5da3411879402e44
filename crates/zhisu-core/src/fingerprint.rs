//! The respondent fingerprint: a short hash of the answers to a questionnaire's fingerprint
//! items ([`Questionnaire::fingerprint_items`], declared in `[background]`) and the site, so
//! that two interviews of one respondent can be suspected without keeping who they were. The
//! server keeps it among an interview's facts and flags suspected repeats after upload; the
//! tablet keeps it per interview and warns before a second interview of the same respondent at
//! the same site on the same day. One function for both, so they cannot disagree.
//!
//! The form is fixed (the server has stored values): the lines `id=<answer as JSON>` of the
//! fingerprint items answered, in the declared order, then `site=<site id or empty>`, joined by
//! `\n`, hashed with SHA-256; the fingerprint is the first 16 hex digits. No fingerprint item
//! answered: the empty string (never a match).

use sha2::{Digest, Sha256};

use crate::{Answers, Questionnaire};

/// Hex digits a fingerprint has.
pub const FINGERPRINT_HEX_DIGITS: usize = 16;

impl Questionnaire {
    /// The respondent fingerprint of `answers` at `site_id` (see the [module](self)); the empty
    /// string when no fingerprint item is answered. `answers` are the answers that count
    /// ([`Questionnaire::effective_answers`]), as an upload carries them.
    pub fn respondent_fingerprint(&self, answers: &Answers, site_id: Option<&str>) -> String {
        let mut parts = Vec::new();
        for id in self.fingerprint_items().map(|item| &item.id) {
            if let Some(value) = answers.get(id) {
                parts.push(format!(
                    "{id}={}",
                    serde_json::to_string(value).unwrap_or_default()
                ));
            }
        }
        if parts.is_empty() {
            return String::new();
        }
        parts.push(format!("site={}", site_id.unwrap_or("")));
        let digest = Sha256::digest(parts.join("\n").as_bytes());
        let mut hex = String::with_capacity(FINGERPRINT_HEX_DIGITS);
        for byte in &digest[..FINGERPRINT_HEX_DIGITS / 2] {
            hex.push_str(&format!("{byte:02x}"));
        }
        hex
    }

    /// The fingerprint once it is known: every fingerprint item that is asked, given the
    /// answers so far, has its answer (and at least one is asked). `None` before: a repeat
    /// cannot be told yet. Answers to items no longer asked do not count, as at completion.
    pub fn known_fingerprint(&self, answers: &Answers, site_id: Option<&str>) -> Option<String> {
        let relevant = self.relevance(answers);
        let mut asked = 0;
        for item in self.fingerprint_items() {
            let index = self.item_index(&item.id)?;
            if !relevant[index] {
                continue;
            }
            if !answers.contains_key(&item.id) {
                return None;
            }
            asked += 1;
        }
        if asked == 0 {
            return None;
        }
        Some(self.respondent_fingerprint(&self.effective_answers(answers), site_id))
    }
}

#[cfg(test)]
mod tests {
    use crate::{AnswerValue, Answers, Questionnaire};

    const SOURCE: &str = r#"
id = "fp"
version = "1"
default_language = "zh-CN"
languages = ["zh-CN"]
title."zh-CN" = "指纹"

[background]
fingerprint = ["sex", "age", "industry"]

[[choices.sex]]
key = "female"
label."zh-CN" = "女"

[[choices.sex]]
key = "male"
label."zh-CN" = "男"

[[items]]
id = "sex"
kind = "single_choice"
choices = "sex"
label."zh-CN" = "性别"

[[items]]
id = "age"
kind = "integer"
label."zh-CN" = "年龄"

[[items]]
id = "industry"
kind = "text"
label."zh-CN" = "行业"
relevant = "${age} >= 18"
"#;

    fn questionnaire() -> Questionnaire {
        Questionnaire::from_toml("fp.toml", SOURCE).unwrap()
    }

    fn answers(pairs: &[(&str, AnswerValue)]) -> Answers {
        pairs
            .iter()
            .map(|(id, v)| (id.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn the_fingerprint_keeps_the_form_the_server_stored() {
        let q = questionnaire();
        let a = answers(&[
            ("sex", AnswerValue::Choice("female".into())),
            ("age", AnswerValue::Integer(30)),
        ]);
        // printf 'sex={"type":"choice","value":"female"}\nage={"type":"integer","value":30}\nsite=yz-001' | sha256sum
        assert_eq!(
            q.respondent_fingerprint(&a, Some("yz-001")),
            "cf890bdd0f9737fc"
        );
        assert_ne!(
            q.respondent_fingerprint(&a, Some("yz-002")),
            "cf890bdd0f9737fc"
        );
        assert_eq!(
            q.respondent_fingerprint(&Answers::new(), Some("yz-001")),
            ""
        );
    }

    #[test]
    fn the_fingerprint_is_known_once_every_asked_fingerprint_item_is_answered() {
        let q = questionnaire();
        let sex = ("sex", AnswerValue::Choice("female".into()));
        assert_eq!(q.known_fingerprint(&Answers::new(), None), None);
        assert_eq!(
            q.known_fingerprint(&answers(std::slice::from_ref(&sex)), None),
            None
        );
        // 16 years old: industry is not asked, so sex and age are the whole fingerprint
        let young = answers(&[sex.clone(), ("age", AnswerValue::Integer(16))]);
        assert_eq!(
            q.known_fingerprint(&young, Some("s")),
            Some(q.respondent_fingerprint(&young, Some("s")))
        );
        // 30: industry is asked and not answered yet
        let adult = answers(&[sex.clone(), ("age", AnswerValue::Integer(30))]);
        assert_eq!(q.known_fingerprint(&adult, Some("s")), None);
        let mut all = adult.clone();
        all.insert("industry".into(), AnswerValue::Text("建筑".into()));
        let known = q.known_fingerprint(&all, Some("s")).unwrap();
        assert_eq!(known.len(), super::FINGERPRINT_HEX_DIGITS);
        assert_eq!(known, q.respondent_fingerprint(&all, Some("s")));
    }
}
