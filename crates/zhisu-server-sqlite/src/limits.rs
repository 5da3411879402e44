//! Token buckets in the database (`zhisu_server_storage::limits`).

use super::*;
use zhisu_server_storage::TokenBucket;

fn bucket(conn: &Connection, key: &str) -> Result<Option<TokenBucket>, StorageError> {
    conn.query_row(
        "SELECT tokens, at FROM rate_bucket WHERE key = ?1",
        [key],
        |r| Ok((r.get::<_, f64>(0)?, r.get::<_, String>(1)?)),
    )
    .optional()
    .map_err(db)?
    .map(|(tokens, at)| {
        Ok(TokenBucket {
            tokens,
            at: parse_time(&at)?,
        })
    })
    .transpose()
}

pub(crate) fn take_token(
    storage: &SqliteStorage,
    key: &str,
    limit: TokenLimit,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let mut conn = storage.conn();
    // IMMEDIATE: read and write under the write lock, so tokens are taken one by one
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db)?;
    tx.execute(
        "DELETE FROM rate_bucket WHERE full_at < ?1",
        [timestamp(now)],
    )
    .map_err(db)?;
    let (taken, kept) = limit.take(bucket(&tx, key)?, now);
    tx.execute(
        "INSERT INTO rate_bucket (key, tokens, at, full_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, at = excluded.at,
             full_at = excluded.full_at",
        params![
            key,
            kept.tokens,
            timestamp(kept.at),
            timestamp(limit.full_at(kept))
        ],
    )
    .map_err(db)?;
    tx.commit().map_err(db)?;
    Ok(taken)
}

pub(crate) fn has_token(
    storage: &SqliteStorage,
    key: &str,
    limit: TokenLimit,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let conn = storage.conn();
    Ok(limit.tokens(bucket(&conn, key)?, now) >= 1.0)
}
