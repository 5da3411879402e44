//! The pure half of sync: no I/O, no clock, no randomness. Table-tested.

use std::collections::BTreeSet;
use std::time::Duration;

use uuid::Uuid;
use zhisu_protocol::{QuestionnaireRef, Receipt, UploadResponse};

/// The published questionnaire versions the device does not hold yet. A version held with a
/// different hash is not fetched again: published versions never change, and the store refuses
/// a changed one.
pub fn questionnaires_to_fetch<'a>(
    published: &'a [QuestionnaireRef],
    held: &[QuestionnaireRef],
) -> Vec<&'a QuestionnaireRef> {
    published
        .iter()
        .filter(|p| !held.iter().any(|h| h.id == p.id && h.version == p.version))
        .collect()
}

/// Keeps the receipts that answer interviews of the batch just sent, at most one per interview.
/// A receipt for an interview not in the batch is a server bug: ignore it rather than touch an
/// interview the server never saw. An interview with no receipt stays waiting and is sent again.
pub fn receipts_for_batch(sent: &[Uuid], response: &UploadResponse) -> Vec<Receipt> {
    let sent: BTreeSet<&Uuid> = sent.iter().collect();
    let mut seen = BTreeSet::new();
    response
        .receipts
        .iter()
        .filter(|r| sent.contains(&r.interview_id) && seen.insert(r.interview_id))
        .cloned()
        .collect()
}

/// When the surveyor allows uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPolicy {
    /// Whatever the connection (the default: interviews are small).
    #[default]
    AnyNetwork,
    /// Only on Wi-Fi or other unmetered networks, to spare a data plan.
    WifiOnly,
}

/// What the platform says about the current connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkKind {
    /// Wi-Fi, Ethernet.
    Unmetered,
    /// Mobile data.
    Metered,
    /// The platform cannot tell (desktop Linux): treated as unmetered.
    #[default]
    Unknown,
}

/// Whether to try uploading now.
pub fn may_sync(policy: SyncPolicy, network: NetworkKind) -> bool {
    match policy {
        SyncPolicy::AnyNetwork => true,
        SyncPolicy::WifiOnly => network != NetworkKind::Metered,
    }
}

/// Exponential backoff between failed attempts: `base`, `2 base`, `4 base`, ... up to `max`,
/// each drawn uniformly from its upper half so that many tablets coming back on the same Wi-Fi
/// do not retry in step. The random draw is passed in.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            failures: 0,
        }
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// The wait after one more failure; `unit` is a random number in `[0, 1)`.
    pub fn next_delay(&mut self, unit: f64) -> Duration {
        let exponent = self.failures.min(16);
        self.failures = self.failures.saturating_add(1);
        let ceiling = self.base.saturating_mul(1 << exponent).min(self.max);
        ceiling.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zhisu_protocol::ReceiptStatus;

    fn receipt(n: u128, status: ReceiptStatus) -> Receipt {
        Receipt {
            interview_id: Uuid::from_u128(n),
            status,
            code: None,
            message: None,
        }
    }

    #[test]
    fn receipts_table() {
        use ReceiptStatus::*;
        let sent = [Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3)];
        let cases: Vec<(Vec<Receipt>, Vec<u128>)> = vec![
            // every interview answered
            (
                vec![
                    receipt(1, Stored),
                    receipt(2, AlreadyStored),
                    receipt(3, Rejected),
                ],
                vec![1, 2, 3],
            ),
            // a receipt for something never sent is ignored
            (vec![receipt(1, Stored), receipt(9, Stored)], vec![1]),
            // a duplicated receipt counts once (the first)
            (vec![receipt(2, Stored), receipt(2, Conflict)], vec![2]),
            // no receipts: everything stays waiting
            (vec![], vec![]),
        ];
        for (receipts, expect) in cases {
            let kept = receipts_for_batch(&sent, &UploadResponse { receipts });
            let ids: Vec<u128> = kept.iter().map(|r| r.interview_id.as_u128()).collect();
            assert_eq!(ids, expect);
        }
        let kept = receipts_for_batch(
            &sent,
            &UploadResponse {
                receipts: vec![receipt(2, Stored), receipt(2, Conflict)],
            },
        );
        assert_eq!(kept[0].status, Stored);
    }

    #[test]
    fn questionnaires_to_fetch_table() {
        let r = |id: &str, version: &str, hash: &str| QuestionnaireRef {
            id: id.into(),
            version: version.into(),
            hash: hash.into(),
        };
        let published = [r("a", "1", "h1"), r("a", "2", "h2"), r("b", "1", "h3")];
        let cases: Vec<(Vec<QuestionnaireRef>, Vec<&str>)> = vec![
            (vec![], vec!["a1", "a2", "b1"]),
            (vec![r("a", "1", "h1")], vec!["a2", "b1"]),
            (vec![r("a", "2", "other")], vec!["a1", "b1"]),
            (published.to_vec(), vec![]),
        ];
        for (held, expect) in cases {
            let got: Vec<String> = questionnaires_to_fetch(&published, &held)
                .iter()
                .map(|q| format!("{}{}", q.id, q.version))
                .collect();
            assert_eq!(got, expect);
        }
    }

    #[test]
    fn network_policy_table() {
        use NetworkKind::*;
        use SyncPolicy::*;
        let cases = [
            (AnyNetwork, Unmetered, true),
            (AnyNetwork, Metered, true),
            (AnyNetwork, Unknown, true),
            (WifiOnly, Unmetered, true),
            (WifiOnly, Metered, false),
            (WifiOnly, Unknown, true),
        ];
        for (policy, network, expect) in cases {
            assert_eq!(may_sync(policy, network), expect, "{policy:?} {network:?}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_max_with_jitter_in_upper_half() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(10));
        let full: Vec<u64> = (0..6)
            .map(|_| b.next_delay(1.0).as_millis() as u64)
            .collect();
        assert_eq!(full, vec![1000, 2000, 4000, 8000, 10_000, 10_000]);
        b.reset();
        assert_eq!(b.next_delay(0.0), Duration::from_millis(500));
        assert_eq!(b.next_delay(0.5), Duration::from_millis(1500));
        let mut many = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        for _ in 0..100 {
            assert!(many.next_delay(0.99) <= Duration::from_secs(30));
        }
    }
}
