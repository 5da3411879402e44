//! Token buckets: per device for the sync API, per address and for failures as a whole for
//! enrolment. Memory stays bounded without forgetting anything that matters: a bucket that
//! has filled up again holds no information (a new one starts full), so only full buckets are
//! dropped when a map grows large.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;
use uuid::Uuid;

/// Buckets kept before full ones are dropped.
const PRUNE_ABOVE: usize = 10_000;

/// A token bucket per key: `rate` tokens a second on average, bursts up to `burst`.
pub struct Buckets<K> {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

impl<K: Eq + Hash + Copy> Buckets<K> {
    pub fn new(rate: f64, burst: f64) -> Self {
        Buckets {
            rate,
            burst,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key` at `now`: false when there is none.
    pub fn take(&self, key: K, now: Instant) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, (tokens, last)| {
                *tokens + now.saturating_duration_since(*last).as_secs_f64() * rate < burst
            });
        }
        let (tokens, last) = buckets.entry(key).or_insert((self.burst, now));
        *tokens = (*tokens + now.saturating_duration_since(*last).as_secs_f64() * self.rate)
            .min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether `key` has a token at `now`, without taking it.
    pub fn has_token(&self, key: K, now: Instant) -> bool {
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        buckets.get(&key).is_none_or(|(tokens, last)| {
            tokens + now.saturating_duration_since(*last).as_secs_f64() * self.rate >= 1.0
        })
    }

    /// Buckets held now (for tests of the bound).
    pub fn len(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A token bucket per device: `rate` requests a second on average, bursts up to `burst`.
pub struct RateLimit(Buckets<Uuid>);

impl RateLimit {
    pub fn per_device(rate: f64, burst: f64) -> Self {
        RateLimit(Buckets::new(rate, burst))
    }

    pub fn allow(&self, device: Uuid) -> bool {
        self.0.take(device, Instant::now())
    }
}

/// Guessing enrolment codes: each address may try 10 codes, then one every 6 seconds; and
/// failures from all addresses together are limited (300, then 2 a second), so that guessing
/// from many addresses is as slow as from one. A code has about 49.5 bits: at 2 wrong guesses
/// a second, guessing one of 100 live codes takes thousands of years.
pub struct EnrolGuard {
    per_address: Buckets<IpAddr>,
    failures: Buckets<()>,
}

impl Default for EnrolGuard {
    fn default() -> Self {
        EnrolGuard {
            per_address: Buckets::new(1.0 / 6.0, 10.0),
            failures: Buckets::new(2.0, 300.0),
        }
    }
}

impl EnrolGuard {
    /// May `address` try a code now? Counts the try.
    pub fn may_try(&self, address: Option<IpAddr>, now: Instant) -> bool {
        let failures_left = self.failures.has_token((), now);
        failures_left && address.is_none_or(|a| self.per_address.take(a, now))
    }

    /// A wrong, used or expired code was tried.
    pub fn failed(&self, now: Instant) {
        self.failures.take((), now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn buckets_refill_and_stay_bounded_without_forgetting_a_spent_one() {
        let b: Buckets<u32> = Buckets::new(1.0, 3.0);
        let t0 = Instant::now();
        assert!((0..3).all(|_| b.take(7, t0)));
        assert!(!b.take(7, t0));
        // a flood of other keys does not refill key 7: its empty bucket is kept
        for k in 0..(PRUNE_ABOVE as u32 + 10) {
            b.take(1_000 + k, t0);
        }
        assert!(!b.take(7, t0 + Duration::from_millis(500)));
        assert!(b.len() <= PRUNE_ABOVE + 20, "{}", b.len());
        // and a full bucket dropped is the same as one never seen
        assert!(b.take(7, t0 + Duration::from_secs(2)));
    }

    #[test]
    fn enrolment_guesses_are_slowed_per_address_and_in_all() {
        let g = EnrolGuard::default();
        let t0 = Instant::now();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        assert!((0..10).all(|_| g.may_try(Some(a), t0)));
        assert!(!g.may_try(Some(a), t0));
        assert!(g.may_try(Some(a), t0 + Duration::from_secs(6)));
        // 300 failures from many addresses stop everyone for a moment
        for n in 0..300u32 {
            let other = IpAddr::from([10, 1, (n / 256) as u8, (n % 256) as u8]);
            assert!(g.may_try(Some(other), t0));
            g.failed(t0);
        }
        assert!(!g.may_try(Some("10.9.9.9".parse().unwrap()), t0));
        assert!(g.may_try(
            Some("10.9.9.9".parse().unwrap()),
            t0 + Duration::from_secs(1)
        ));
    }
}
