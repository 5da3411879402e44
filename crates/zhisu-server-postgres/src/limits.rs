//! Token buckets in the database (`zhisu_server_storage::limits`), shared by every server
//! process on it.

use super::*;
use zhisu_server_storage::TokenBucket;

pub(crate) fn take_token(
    storage: &PostgresStorage,
    key: &str,
    limit: TokenLimit,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let mut client = storage.pool.get().map_err(unavailable)?;
    // a bucket paces requests and records nothing (the buckets refill anyway)
    let mut tx = PostgresStorage::unhurried(&mut client)?;
    if storage.rate_buckets_sweep_due(now) {
        // full buckets are forgotten, by one take a minute rather than by every take (each
        // of which would delete most of the buckets of 500 tablets)
        tx.execute("DELETE FROM rate_bucket WHERE full_at < $1", &[&now])
            .map_err(db)?;
    }
    // made or locked in one statement: a bucket another process sweeps away in between is
    // made again, full, never found missing (issue 19: the sweep of one take and the look-up
    // of another answered 500 under R6)
    let row = tx
        .query_one(
            "INSERT INTO rate_bucket (key, tokens, at, full_at) VALUES ($1, $2, $3, $3)
             ON CONFLICT (key) DO UPDATE SET key = excluded.key
             RETURNING tokens, at",
            &[&key, &limit.burst, &now],
        )
        .map_err(db)?;
    let previous = TokenBucket {
        tokens: row.get(0),
        at: row.get(1),
    };
    let (taken, kept) = limit.take(Some(previous), now);
    tx.execute(
        "UPDATE rate_bucket SET tokens = $2, at = $3, full_at = $4 WHERE key = $1",
        &[&key, &kept.tokens, &kept.at, &limit.full_at(kept)],
    )
    .map_err(db)?;
    tx.commit().map_err(db)?;
    Ok(taken)
}

pub(crate) fn has_token(
    storage: &PostgresStorage,
    key: &str,
    limit: TokenLimit,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let mut client = storage.pool.get().map_err(unavailable)?;
    let bucket = client
        .query_opt("SELECT tokens, at FROM rate_bucket WHERE key = $1", &[&key])
        .map_err(db)?
        .map(|row| TokenBucket {
            tokens: row.get(0),
            at: row.get(1),
        });
    Ok(limit.tokens(bucket, now) >= 1.0)
}
