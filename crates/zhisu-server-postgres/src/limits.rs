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
    let mut tx = client.transaction().map_err(db)?;
    tx.execute("DELETE FROM rate_bucket WHERE full_at < $1", &[&now])
        .map_err(db)?;
    // the row exists before it is locked, so takes at once from several processes wait for
    // each other on it (a bucket just made is full, as one never seen)
    tx.execute(
        "INSERT INTO rate_bucket (key, tokens, at, full_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (key) DO NOTHING",
        &[&key, &limit.burst, &now],
    )
    .map_err(db)?;
    let row = tx
        .query_one(
            "SELECT tokens, at FROM rate_bucket WHERE key = $1 FOR UPDATE",
            &[&key],
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
