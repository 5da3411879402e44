//! Fieldwork outcome rates after AAPOR's Standard Definitions, as far as an intercept survey
//! has them (`docs/statistics.md` §10, with a hand-worked example): the response rates RR1
//! and RR2, the cooperation rate COOP3, the refusal rate REF1, the contact rate CON1 and the
//! eligibility rate e. Pure arithmetic on counts of final dispositions.

use serde::{Deserialize, Serialize};

/// Counts of contacts by final disposition: AAPOR's I, P, R, NE, and our "not reached/other"
/// (AAPOR's NC and O together).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispositionCounts {
    /// I: completed interviews.
    pub completed: u64,
    /// P: partial interviews (eligible, consented, broke off).
    pub partial: u64,
    /// R: refused at consent.
    pub refused: u64,
    /// NE: screened out by the eligibility rule.
    pub not_eligible: u64,
    /// NC + O: not reached, or another reason.
    pub other: u64,
}

impl DispositionCounts {
    /// Every contact recorded.
    pub fn total(&self) -> u64 {
        self.completed + self.partial + self.refused + self.not_eligible + self.other
    }

    pub fn add(&mut self, other: &DispositionCounts) {
        self.completed += other.completed;
        self.partial += other.partial;
        self.refused += other.refused;
        self.not_eligible += other.not_eligible;
        self.other += other.other;
    }

    /// The rates; each `None` when its denominator is zero.
    pub fn rates(&self) -> OutcomeRates {
        let ratio = |num: u64, den: u64| (den > 0).then(|| num as f64 / den as f64);
        let (i, p, r, ne, o) = (
            self.completed,
            self.partial,
            self.refused,
            self.not_eligible,
            self.other,
        );
        OutcomeRates {
            rr1: ratio(i, i + p + r + o),
            rr2: ratio(i + p, i + p + r + o),
            coop3: ratio(i, i + p + r),
            ref1: ratio(r, i + p + r + o),
            con1: ratio(i + p + r, i + p + r + o),
            eligibility: ratio(i + p, i + p + ne),
        }
    }
}

/// The rates of one set of contacts (shares from 0 to 1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct OutcomeRates {
    /// Response rate 1: I / (I + P + R + O).
    pub rr1: Option<f64>,
    /// Response rate 2 (partials count as respondents): (I + P) / (I + P + R + O).
    pub rr2: Option<f64>,
    /// Cooperation rate 3: I / (I + P + R).
    pub coop3: Option<f64>,
    /// Refusal rate 1: R / (I + P + R + O).
    pub ref1: Option<f64>,
    /// Contact rate 1: (I + P + R) / (I + P + R + O).
    pub con1: Option<f64>,
    /// Eligibility rate e: (I + P) / (I + P + NE), among contacts whose eligibility was settled.
    pub eligibility: Option<f64>,
}
