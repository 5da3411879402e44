//! How a contact ended: every interview a surveyor opens ends in exactly one disposition
//! (AAPOR's final disposition codes, as far as an intercept survey has them; the rates are in
//! `docs/statistics.md` §9). Which disposition a screened-out contact has is read from the
//! eligibility rule ([`Questionnaire::screened_out`]).

use serde::{Deserialize, Serialize};

use crate::interview::EligibilityStatus;
use crate::{AnswerValue, Answers, Questionnaire};

/// The id of the consent item: the respondent refused when the eligibility rule fails on it.
pub const CONSENT_ITEM: &str = "consent";

/// How one contact ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// A completed interview (AAPOR I).
    Completed,
    /// Eligible, consented, broke off before the end (AAPOR P).
    Partial,
    /// Declined at consent (AAPOR R).
    Refused,
    /// Screened out by the eligibility rule (AAPOR NE).
    NotEligible,
    /// Not reached or another reason the interview did not happen (AAPOR NC and O).
    Other,
}

impl Disposition {
    pub const ALL: [Disposition; 5] = [
        Disposition::Completed,
        Disposition::Partial,
        Disposition::Refused,
        Disposition::NotEligible,
        Disposition::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Completed => "completed",
            Disposition::Partial => "partial",
            Disposition::Refused => "refused",
            Disposition::NotEligible => "not_eligible",
            Disposition::Other => "other",
        }
    }

    pub fn from_name(name: &str) -> Option<Disposition> {
        Self::ALL.into_iter().find(|d| d.as_str() == name)
    }

    /// Its name for people, in Chinese or English.
    pub fn label(self, lang: crate::Lang) -> &'static str {
        let (zh, en) = match self {
            Disposition::Completed => ("完成", "Completed"),
            Disposition::Partial => ("中途停止", "Partial"),
            Disposition::Refused => ("拒绝", "Refused"),
            Disposition::NotEligible => ("不符合条件", "Not eligible"),
            Disposition::Other => ("未接触到/其他", "Not reached/other"),
        };
        match lang {
            crate::Lang::ZhCn => zh,
            crate::Lang::En => en,
        }
    }
}

/// Why the eligibility rule ended an interview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScreenedOut {
    /// The respondent declined at consent.
    Refused,
    /// The screening items whose answers excluded the respondent (`age`, `frontline`…).
    NotEligible { items: Vec<String> },
}

impl Questionnaire {
    /// Why the eligibility rule ended the interview, or `None` while it has not: the parts of
    /// the rule (a chain of `and`) that are false name the items that excluded the respondent;
    /// a false part about [`CONSENT_ITEM`] means the respondent refused.
    pub fn screened_out(&self, answers: &Answers) -> Option<ScreenedOut> {
        if self.eligibility_status(answers) != EligibilityStatus::Ineligible {
            return None;
        }
        let rule = self.eligibility.as_ref()?;
        let failing = self.failing_conjunct_references(&rule.condition, answers);
        if failing.iter().any(|item| item == CONSENT_ITEM) {
            Some(ScreenedOut::Refused)
        } else {
            Some(ScreenedOut::NotEligible { items: failing })
        }
    }

    /// The consent answer, when the questionnaire asks for consent and it was given or refused.
    pub fn consent(&self, answers: &Answers) -> Option<bool> {
        self.item(CONSENT_ITEM)?;
        match answers.get(CONSENT_ITEM) {
            Some(AnswerValue::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// Which dispositions a surveyor may give an unfinished contact with these answers: none
    /// once the rule screened the respondent out (that decides it), `partial` only for an
    /// eligible respondent who consented, `refused` only before consent was given, `other`
    /// always.
    pub fn closing_dispositions(&self, answers: &Answers) -> Vec<Disposition> {
        if self.screened_out(answers).is_some() {
            return Vec::new();
        }
        let mut allowed = Vec::new();
        if self.eligibility_status(answers) == EligibilityStatus::Eligible
            && (self.item(CONSENT_ITEM).is_none() || self.consent(answers) == Some(true))
        {
            allowed.push(Disposition::Partial);
        }
        if self.consent(answers) != Some(true) {
            allowed.push(Disposition::Refused);
        }
        allowed.push(Disposition::Other);
        allowed
    }
}
