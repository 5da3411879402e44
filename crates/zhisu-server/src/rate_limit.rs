//! Token buckets: per device for the sync API, per address and for failures as a whole for
//! enrolment. One server process keeps them in memory; several processes on one database
//! (PostgreSQL behind a load balancer) keep them in the database, so that N processes limit as
//! one (`Storage::take_token`). In memory they stay bounded without forgetting anything that
//! matters: a bucket that has filled up again holds no information (a new one starts full), so
//! only full buckets are dropped when a map grows large.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use uuid::Uuid;
use zhisu_server_service::storage::TokenLimit;
use zhisu_server_service::Storage;

use crate::error::{blocking, Failure};

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

/// Where the buckets are kept.
enum Keeper<K> {
    /// In this process: one server process.
    Memory(Buckets<K>),
    /// In the database, under keys starting with this prefix: every process on it shares them.
    Storage(&'static str),
}

impl<K: Eq + Hash + Copy + std::fmt::Display + Send + 'static> Keeper<K> {
    fn new(limit: TokenLimit, shared: Option<&'static str>) -> Self {
        match shared {
            None => Keeper::Memory(Buckets::new(limit.rate, limit.burst)),
            Some(prefix) => Keeper::Storage(prefix),
        }
    }

    async fn take(
        &self,
        limit: TokenLimit,
        key: K,
        storage: &Arc<dyn Storage>,
    ) -> Result<bool, Failure> {
        match self {
            Keeper::Memory(buckets) => Ok(buckets.take(key, Instant::now())),
            Keeper::Storage(prefix) => {
                let (storage, key) = (Arc::clone(storage), format!("{prefix}:{key}"));
                blocking(move || storage.take_token(&key, limit, chrono::Utc::now())).await
            }
        }
    }

    async fn has_token(
        &self,
        limit: TokenLimit,
        key: K,
        storage: &Arc<dyn Storage>,
    ) -> Result<bool, Failure> {
        match self {
            Keeper::Memory(buckets) => Ok(buckets.has_token(key, Instant::now())),
            Keeper::Storage(prefix) => {
                let (storage, key) = (Arc::clone(storage), format!("{prefix}:{key}"));
                blocking(move || storage.has_token(&key, limit, chrono::Utc::now())).await
            }
        }
    }
}

/// A token bucket per device: `rate` requests a second on average, bursts up to `burst`.
pub struct RateLimit {
    limit: TokenLimit,
    keeper: Keeper<Uuid>,
}

impl RateLimit {
    /// Kept in this process (one server process).
    pub fn per_device(rate: f64, burst: f64) -> Self {
        Self::new(rate, burst, false)
    }

    /// Kept in the database when `shared` (several processes on one database).
    pub fn new(rate: f64, burst: f64, shared: bool) -> Self {
        let limit = TokenLimit { rate, burst };
        RateLimit {
            limit,
            keeper: Keeper::new(limit, shared.then_some("device")),
        }
    }

    /// Whether `device` may make a request now; counts it.
    pub async fn allow(&self, device: Uuid, storage: &Arc<dyn Storage>) -> Result<bool, Failure> {
        self.keeper.take(self.limit, device, storage).await
    }
}

/// Guessing enrolment codes: each address may try 10 codes, then one every 6 seconds; and
/// failures from all addresses together are limited (300, then 2 a second), so that guessing
/// from many addresses is as slow as from one. A code has about 49.5 bits: at 2 wrong guesses
/// a second, guessing one of 100 live codes takes thousands of years.
pub struct EnrolGuard {
    per_address: Keeper<IpAddr>,
    failures: Keeper<Everyone>,
}

/// The one key of the failures of all addresses together.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Everyone;

impl std::fmt::Display for Everyone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("all")
    }
}

const PER_ADDRESS: TokenLimit = TokenLimit {
    rate: 1.0 / 6.0,
    burst: 10.0,
};
const FAILURES: TokenLimit = TokenLimit {
    rate: 2.0,
    burst: 300.0,
};

impl Default for EnrolGuard {
    fn default() -> Self {
        Self::new(false)
    }
}

impl EnrolGuard {
    /// Kept in the database when `shared` (several processes on one database).
    pub fn new(shared: bool) -> Self {
        EnrolGuard {
            per_address: Keeper::new(PER_ADDRESS, shared.then_some("enrol-address")),
            failures: Keeper::new(FAILURES, shared.then_some("enrol-failures")),
        }
    }

    /// May `address` try a code now? Counts the try.
    pub async fn may_try(
        &self,
        address: Option<IpAddr>,
        storage: &Arc<dyn Storage>,
    ) -> Result<bool, Failure> {
        if !self.failures.has_token(FAILURES, Everyone, storage).await? {
            return Ok(false);
        }
        match address {
            None => Ok(true),
            Some(a) => self.per_address.take(PER_ADDRESS, a, storage).await,
        }
    }

    /// A wrong, used or expired code was tried.
    pub async fn failed(&self, storage: &Arc<dyn Storage>) -> Result<(), Failure> {
        self.failures.take(FAILURES, Everyone, storage).await?;
        Ok(())
    }
}

/// The public take-home page (`/learn`, no sign-in): each address may open
/// [`PAGES_PER_ADDRESS`]'s burst of pages at once — a waiting room or a class on one Wi-Fi scans
/// its codes together — then 5 a second, so that a flood from one address costs the database
/// little. Without a known address (a test calling the router directly) the page is served.
pub struct PageGuard {
    per_address: Keeper<IpAddr>,
}

pub const PAGES_PER_ADDRESS: TokenLimit = TokenLimit {
    rate: 5.0,
    burst: 120.0,
};

impl Default for PageGuard {
    fn default() -> Self {
        Self::new(false)
    }
}

impl PageGuard {
    /// Kept in the database when `shared` (several processes on one database).
    pub fn new(shared: bool) -> Self {
        PageGuard {
            per_address: Keeper::new(PAGES_PER_ADDRESS, shared.then_some("page-address")),
        }
    }

    /// May `address` open a page now? Counts it.
    pub async fn may_read(
        &self,
        address: Option<IpAddr>,
        storage: &Arc<dyn Storage>,
    ) -> Result<bool, Failure> {
        match address {
            None => Ok(true),
            Some(a) => self.per_address.take(PAGES_PER_ADDRESS, a, storage).await,
        }
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
    fn enrolment_limits_are_what_the_guard_documents() {
        // 10 tries per address, then one every 6 s; 300 failures in all, then 2 a second
        let a: Buckets<u8> = Buckets::new(PER_ADDRESS.rate, PER_ADDRESS.burst);
        let t0 = Instant::now();
        assert!((0..10).all(|_| a.take(1, t0)));
        assert!(!a.take(1, t0));
        assert!(a.take(1, t0 + Duration::from_secs(6)));
        let f: Buckets<()> = Buckets::new(FAILURES.rate, FAILURES.burst);
        assert!((0..300).all(|_| f.take((), t0)));
        assert!(!f.has_token((), t0));
        assert!(f.has_token((), t0 + Duration::from_millis(500)));
    }
}
