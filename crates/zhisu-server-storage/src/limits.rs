//! Token buckets kept in the database, so that every server process on one database limits
//! alike (two processes behind a load balancer are one server to a device). The arithmetic is
//! here, once; a backend only keeps a bucket per key, read and written in one transaction.

use chrono::{DateTime, Utc};

/// `rate` tokens a second on average, bursts up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenLimit {
    pub rate: f64,
    pub burst: f64,
}

/// A bucket as kept: its tokens when it was last used.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenBucket {
    pub tokens: f64,
    pub at: DateTime<Utc>,
}

impl TokenLimit {
    /// Tokens in `bucket` at `now`; a bucket never seen (or forgotten when full) is full. A
    /// clock that went back (another process's, a little behind) refills nothing.
    pub fn tokens(&self, bucket: Option<TokenBucket>, now: DateTime<Utc>) -> f64 {
        match bucket {
            None => self.burst,
            Some(b) => {
                let elapsed =
                    (now - b.at).num_microseconds().unwrap_or(i64::MAX).max(0) as f64 / 1_000_000.0;
                (b.tokens + elapsed * self.rate).min(self.burst)
            }
        }
    }

    /// Takes a token at `now`: whether there was one, and the bucket to keep.
    pub fn take(&self, bucket: Option<TokenBucket>, now: DateTime<Utc>) -> (bool, TokenBucket) {
        let tokens = self.tokens(bucket, now);
        let at = bucket.map_or(now, |b| b.at.max(now));
        if tokens >= 1.0 {
            (
                true,
                TokenBucket {
                    tokens: tokens - 1.0,
                    at,
                },
            )
        } else {
            (false, TokenBucket { tokens, at })
        }
    }

    /// When `bucket` is full again: from then on it holds nothing a new bucket would not, so a
    /// backend may forget it (which keeps the table small whatever the keys).
    pub fn full_at(&self, bucket: TokenBucket) -> DateTime<Utc> {
        let missing = (self.burst - bucket.tokens).max(0.0);
        let seconds = if self.rate > 0.0 {
            (missing / self.rate).min(86_400.0 * 365.0)
        } else {
            86_400.0 * 365.0
        };
        bucket.at + chrono::Duration::microseconds((seconds * 1_000_000.0).ceil() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_bucket_empties_refills_and_is_full_when_it_says() {
        let limit = TokenLimit {
            rate: 2.0,
            burst: 3.0,
        };
        let t0 = Utc.with_ymd_and_hms(2026, 12, 5, 8, 0, 0).unwrap();
        let mut bucket = None;
        for _ in 0..3 {
            let (taken, kept) = limit.take(bucket, t0);
            assert!(taken);
            bucket = Some(kept);
        }
        let (taken, kept) = limit.take(bucket, t0);
        assert!(!taken);
        assert_eq!(kept.tokens, 0.0);
        // half a second later: one token (2 a second)
        let half = t0 + chrono::Duration::milliseconds(500);
        let (taken, kept) = limit.take(Some(kept), half);
        assert!(taken);
        assert_eq!(
            limit.full_at(kept),
            half + chrono::Duration::milliseconds(1_500)
        );
        assert_eq!(
            limit.tokens(Some(kept), limit.full_at(kept) + chrono::Duration::hours(1)),
            3.0
        );
        // a clock behind the bucket's refills nothing and does not move it back
        let (taken, behind) = limit.take(Some(kept), t0);
        assert!(!taken);
        assert_eq!(behind.at, half);
    }
}
