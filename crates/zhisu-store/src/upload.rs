//! The upload queue and the on-device sync log: every attempt, what was sent, what the server
//! answered, so a surveyor or supervisor can see why something is stuck.

use chrono::{DateTime, Utc};
use rusqlite::{params, TransactionBehavior};
use uuid::Uuid;
use zhisu_core::Disposition;
use zhisu_protocol::sealed::SealedInterview;
use zhisu_protocol::{CompletedInterview, ContactOutcome, Receipt, ReceiptStatus};

use crate::{
    from_json, parse_timestamp, timestamp, to_json, DeviceStore, StoreError, SyncLogEntry,
    SyncOutcome,
};

/// Interviews picked for one upload, and the sync-log row that records it.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadAttempt {
    pub attempt: i64,
    /// Interviews in the clear (completed before the server gave a round key).
    pub interviews: Vec<CompletedInterview>,
    /// Contacts closed without a completed interview, sent in the same request.
    pub contacts: Vec<ContactOutcome>,
    /// Interviews sealed to the round's key at completion.
    pub sealed: Vec<SealedInterview>,
}

impl UploadAttempt {
    /// The records of the attempt in the order of the receipts: the plain interviews, the
    /// sealed ones, then the contacts.
    pub fn ids(&self) -> Vec<Uuid> {
        (self.interviews.iter().map(|i| i.id))
            .chain(self.sealed.iter().map(|s| s.id))
            .chain(self.contacts.iter().map(|c| c.id))
            .collect()
    }

    /// How many records the attempt carries.
    pub fn len(&self) -> usize {
        self.interviews.len() + self.sealed.len() + self.contacts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How an upload attempt ended without receipts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    pub http_status: Option<u16>,
    pub error_code: String,
    pub error_message: String,
    /// False only when the request certainly never reached the server (connection refused).
    pub may_have_arrived: bool,
}

const WAITING: &str = "('completed', 'queued', 'sent')";

/// The upload queue in order; served by the partial index `interview_waiting` (migration 4).
pub(crate) const WAITING_SQL: &str = "SELECT payload, sealed, coalesce(disposition, 'completed') FROM interview INDEXED BY interview_waiting WHERE state IN ('completed', 'queued', 'sent') ORDER BY completed_at, id LIMIT ?1";

/// What waits for the server: interviews in the clear, interviews sealed, and contacts closed
/// otherwise.
type Waiting = (
    Vec<CompletedInterview>,
    Vec<SealedInterview>,
    Vec<ContactOutcome>,
);

impl DeviceStore {
    /// Up to `limit` interviews waiting for the server, oldest completion first, exactly as
    /// sealed at completion (so a re-send is byte-for-byte the same interview). Sealed ones
    /// and contacts closed otherwise wait in the same queue ([`DeviceStore::waiting_records`])
    /// and are left out here.
    pub fn waiting_uploads(&self, limit: usize) -> Result<Vec<CompletedInterview>, StoreError> {
        Ok(self.waiting_records(limit)?.0)
    }

    /// Up to `limit` records waiting for the server, oldest first: the completed interviews in
    /// the clear, those sealed to the round's key, and the contacts closed otherwise.
    pub fn waiting_records(&self, limit: usize) -> Result<Waiting, StoreError> {
        let mut stmt = self.conn.prepare_cached(WAITING_SQL)?;
        let rows = stmt.query_map([limit as i64], |row| {
            Ok((
                row.get::<_, Option<String>>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let (mut plain, mut sealed, mut contacts) = (Vec::new(), Vec::new(), Vec::new());
        for row in rows {
            match row? {
                (_, Some(s), _) => sealed.push(from_json(&s)?),
                (Some(p), None, d) if d == Disposition::Completed.as_str() => {
                    plain.push(from_json(&p)?)
                }
                (Some(p), None, _) => contacts.push(from_json(&p)?),
                (None, None, _) => {
                    return Err(StoreError::Corrupt(
                        "a waiting record has no payload".into(),
                    ))
                }
            }
        }
        Ok((plain, sealed, contacts))
    }

    /// Picks up to `limit` waiting interviews for an upload to `server_url`, marks them queued
    /// and opens a sync-log row, in one transaction. `None` when nothing is waiting.
    pub fn begin_upload(
        &mut self,
        limit: usize,
        server_url: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UploadAttempt>, StoreError> {
        let (interviews, sealed, contacts) = self.waiting_records(limit)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // An attempt still "sending" was cut off (the app was killed mid-sync).
        tx.execute(
            "UPDATE sync_log SET outcome = 'failed', error_code = 'interrupted',
                 error_message = 'the app stopped before the server answered', finished_at = ?1
             WHERE outcome = 'sending'",
            [timestamp(now)],
        )?;
        if interviews.is_empty() && sealed.is_empty() && contacts.is_empty() {
            tx.commit()?;
            return Ok(None);
        }
        let ids: Vec<Uuid> = (interviews.iter().map(|i| i.id))
            .chain(sealed.iter().map(|s| s.id))
            .chain(contacts.iter().map(|c| c.id))
            .collect();
        for id in &ids {
            tx.execute(
                &format!(
                    "UPDATE interview SET state = 'queued' WHERE id = ?1 AND state IN {WAITING}"
                ),
                [id.to_string()],
            )?;
        }
        tx.execute(
            "INSERT INTO sync_log (started_at, server_url, interviews, outcome) VALUES (?1, ?2, ?3, 'sending')",
            params![timestamp(now), server_url, to_json(&ids)],
        )?;
        let attempt = tx.last_insert_rowid();
        tx.commit()?;
        Ok(Some(UploadAttempt {
            attempt,
            interviews,
            contacts,
            sealed,
        }))
    }

    /// Records the server's receipts for an attempt, in one transaction. Only receipts for
    /// interviews of this attempt that are still waiting count, so a stray or replayed receipt
    /// is harmless; interviews of the attempt without a receipt become `sent`.
    pub fn finish_upload(
        &mut self,
        attempt: &UploadAttempt,
        http_status: u16,
        receipts: &[Receipt],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut counts = [0u32; 4];
        let sent = attempt.ids();
        for receipt in receipts.iter().filter(|r| sent.contains(&r.interview_id)) {
            let id = receipt.interview_id.to_string();
            counts[match receipt.status {
                ReceiptStatus::Stored => 0,
                ReceiptStatus::AlreadyStored => 1,
                ReceiptStatus::Conflict => 2,
                ReceiptStatus::Rejected => 3,
            }] += 1;
            if receipt.status.is_acknowledged() {
                tx.execute(
                    &format!("UPDATE interview SET state = 'acknowledged', acknowledged_at = ?2, sync_code = NULL, sync_message = NULL
                     WHERE id = ?1 AND state IN {WAITING}"),
                    params![id, timestamp(now)],
                )?;
            } else {
                tx.execute(
                    &format!(
                        "UPDATE interview SET state = 'rejected', sync_code = ?2, sync_message = ?3
                     WHERE id = ?1 AND state IN {WAITING}"
                    ),
                    params![id, receipt.code, receipt.message],
                )?;
            }
        }
        for id in &sent {
            tx.execute(
                "UPDATE interview SET state = 'sent' WHERE id = ?1 AND state = 'queued'",
                [id.to_string()],
            )?;
        }
        tx.execute(
            "UPDATE sync_log SET outcome = 'answered', finished_at = ?2, http_status = ?3,
                 stored = ?4, already_stored = ?5, conflicts = ?6, rejected = ?7
             WHERE attempt = ?1",
            params![
                attempt.attempt,
                timestamp(now),
                http_status,
                counts[0],
                counts[1],
                counts[2],
                counts[3]
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Applies the central quality review's rejections (delivered with the assignment): an
    /// interview the server had acknowledged becomes `rejected`, with the code
    /// `rejected_in_review` and the reviewer's reason, so the surveyor sees it in "my
    /// interviews". Idempotent; unknown ids are ignored. Returns how many changed.
    pub fn apply_review_rejections(
        &mut self,
        rejected: &[zhisu_protocol::RejectedInterview],
    ) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut changed = 0;
        for r in rejected {
            changed += tx.execute(
                "UPDATE interview SET state = 'rejected', sync_code = 'rejected_in_review', sync_message = ?2
                 WHERE id = ?1 AND state IN ('acknowledged', 'sent')",
                params![r.interview_id.to_string(), r.reason],
            )?;
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Records an attempt that got no receipts. Its interviews stay waiting: `sent` when the
    /// request may have reached the server, `completed` when it certainly did not.
    pub fn fail_upload(
        &mut self,
        attempt: &UploadAttempt,
        outcome: &AttemptOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let state = if outcome.may_have_arrived {
            "sent"
        } else {
            "completed"
        };
        for id in attempt.ids() {
            tx.execute(
                "UPDATE interview SET state = ?2 WHERE id = ?1 AND state = 'queued'",
                params![id.to_string(), state],
            )?;
        }
        tx.execute(
            "UPDATE sync_log SET outcome = 'failed', finished_at = ?2, http_status = ?3,
                 error_code = ?4, error_message = ?5
             WHERE attempt = ?1",
            params![
                attempt.attempt,
                timestamp(now),
                outcome.http_status,
                outcome.error_code,
                outcome.error_message
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Marks the interviews of an attempt `rejected`, with the server's code and message, when
    /// the server refused the request itself for what it carried (malformed, too large) and the
    /// attempt held that interview alone: the device cannot cure it by sending again, so it
    /// leaves the queue (the surveyor sees it as returned by the server, with the reason) and
    /// the interviews behind it go on. Call after [`fail_upload`](Self::fail_upload).
    pub fn set_aside_unsendable(
        &mut self,
        attempt: &UploadAttempt,
        code: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for id in attempt.ids() {
            tx.execute(
                &format!(
                    "UPDATE interview SET state = 'rejected', sync_code = ?2, sync_message = ?3
                     WHERE id = ?1 AND state IN {WAITING}"
                ),
                params![id.to_string(), code, message],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The newest `limit` sync attempts, newest first.
    pub fn sync_log(&self, limit: usize) -> Result<Vec<SyncLogEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT attempt, started_at, finished_at, server_url, interviews, outcome, http_status,
                    error_code, error_message, stored, already_stored, conflicts, rejected
             FROM sync_log ORDER BY attempt DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                (
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ),
                (
                    r.get::<_, Option<i64>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    [
                        r.get::<_, i64>(9)?,
                        r.get::<_, i64>(10)?,
                        r.get::<_, i64>(11)?,
                        r.get::<_, i64>(12)?,
                    ],
                ),
            ))
        })?;
        rows.map(|row| {
            let (
                (attempt, started, finished, server_url, ids, outcome),
                (status, code, message, n),
            ) = row?;
            Ok(SyncLogEntry {
                attempt,
                started_at: parse_timestamp(&started)?,
                finished_at: finished.as_deref().map(parse_timestamp).transpose()?,
                server_url,
                interviews: from_json(&ids)?,
                outcome: SyncOutcome::from_name(&outcome).ok_or_else(|| {
                    StoreError::Corrupt(format!("unknown sync outcome '{outcome}'"))
                })?,
                http_status: status.map(|s| s as u16),
                error_code: code,
                error_message: message,
                stored: n[0] as u32,
                already_stored: n[1] as u32,
                conflicts: n[2] as u32,
                rejected: n[3] as u32,
            })
        })
        .collect()
    }
}
