//! Interviews: storing batches, reading them by scope, review.

use super::*;

/// The fingerprints shared by more than one interview of a district, with how many others
/// share each: a suspected repeat respondent. Read from `interview_fingerprint`
/// alone, once per query, rather than a look-up per interview.
const SAME_FINGERPRINT: &str = "WITH same AS (
    SELECT district, fingerprint, count(*) - 1 AS others
    FROM interview INDEXED BY interview_fingerprint
    WHERE fingerprint IS NOT NULL
    GROUP BY district, fingerprint HAVING count(*) > 1)";

/// The quality-control queue's query under a scope `condition` (`:scope`, `:status`,
/// `:limit`). The queue is chosen from the index alone (every column it looks at lies after the
/// payload in the table's rows), in its order, so the scan stops at `:limit`; only the rows
/// shown are read whole.
pub(crate) fn qc_queue_sql(condition: &str) -> String {
    format!(
        "{SAME_FINGERPRINT},
         queue AS (
             SELECT i.id AS id, i.completed_at AS completed_at, coalesce(s.others, 0) AS others
             FROM interview i INDEXED BY interview_qc_queue
                 LEFT JOIN same s ON s.district IS i.district AND s.fingerprint = i.fingerprint
             WHERE {condition} AND (:status IS NULL OR i.qc_status = :status)
                 AND (i.qc_flags != '[]' OR i.qc_status != 'unreviewed'
                     OR (s.others IS NOT NULL AND i.fingerprint != ''))
             ORDER BY i.completed_at DESC, i.id LIMIT :limit)
         SELECT i.id, i.questionnaire_id, i.district, i.site_id, i.surveyor_id, i.device_id,
             i.population, i.completed_at, i.duration_s, i.qc_flags, q.others,
             i.qc_status, i.qc_comment, i.qc_reviewer, i.qc_reviewed_at
         FROM queue q JOIN interview i ON i.id = q.id
         ORDER BY q.completed_at DESC, q.id"
    )
}

impl InterviewStore for SqliteStorage {
    fn ingest(
        &self,
        accepted: &[Accepted],
        device: Option<&Device>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Receipt>, StorageError> {
        // Everything that needs no database is done before joining the writer's queue, so
        // concurrent uploads serialise only on the inserts and the commit.
        let received = timestamp(now);
        let rows = lock_order(accepted)
            .into_iter()
            .map(|index| Row::new(index, &accepted[index], device, &received, now))
            .collect::<Result<Vec<_>, StorageError>>()?;
        let request = Arc::new(GroupRequest {
            cells: {
                let mut cells = CellChanges::new();
                for row in &rows {
                    cells.add(&row.counted, 1);
                }
                cells
            },
            rows,
            outcome: Mutex::new(None),
        });
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::clone(&request));
        // Group commit: whoever holds the writer takes every request queued so far and writes
        // them in one transaction (a savepoint each, so one request's failure leaves the others
        // and stores nothing of its own), with one fsync for all. A request that another
        // writer already handled finds its outcome when it gets the lock.
        {
            let mut conn = self.conn();
            if request.outcome().is_none() {
                let group: Vec<Arc<GroupRequest>> =
                    std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()));
                write_group(&mut conn, &group);
            }
        }
        let outcome = request
            .outcome
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .expect("the writer that took a request records its outcome");
        let mut receipts = outcome?;
        // receipts were made in lock order; the caller wants batch order
        receipts.sort_by_key(|(index, _)| *index);
        Ok(receipts.into_iter().map(|(_, r)| r).collect())
    }

    fn interview_count(&self) -> Result<u64, StorageError> {
        let n: i64 = self
            .conn()
            .query_row("SELECT count(*) FROM interview", [], |r| r.get(0))
            .map_err(db)?;
        Ok(n as u64)
    }

    fn interviews(&self, scope: &Scope) -> Result<Vec<StoredInterview>, StorageError> {
        self.interviews_page(scope, None, usize::MAX)
    }

    fn interviews_page(
        &self,
        scope: &Scope,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: usize,
    ) -> Result<Vec<StoredInterview>, StorageError> {
        let (condition, value) = scope_condition(scope, "")?;
        let (after_clause, after_at, after_id) = match after {
            Some((at, id)) => (
                "AND (received_at, id) > (:after_at, :after_id)",
                Some(timestamp(at)),
                Some(id.to_string()),
            ),
            None => ("AND :after_at IS NULL AND :after_id IS NULL", None, None),
        };
        // a connection of its own: a long read never holds up the writer
        let conn = self.read_connection()?;
        let mut stmt = conn
            .prepare(&format!(
                "SELECT payload, received_at, score_report, district, population, qc_status,
                 consent_text_version,
                 (SELECT round FROM device WHERE device.id = interview.device_id) FROM interview
             WHERE {condition} {after_clause} ORDER BY received_at, id LIMIT :limit"
            ))
            .map_err(db)?;
        let rows = stmt
            .query_map(
                rusqlite::named_params! {
                    ":scope": value,
                    ":after_at": after_at,
                    ":after_id": after_id,
                    ":limit": i64::try_from(limit).unwrap_or(i64::MAX),
                },
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, Option<String>>(7)?,
                    ))
                },
            )
            .map_err(db)?;
        rows.map(|row| {
            let (
                payload,
                received_at,
                score,
                district,
                population,
                qc_status,
                consent_text_version,
                round,
            ) = row.map_err(db)?;
            Ok(StoredInterview {
                interview: serde_json::from_str(&payload).map_err(corrupt)?,
                received_at: parse_time(&received_at)?,
                score: serde_json::from_str(&score).map_err(corrupt)?,
                district,
                round,
                population,
                qc_status,
                consent_text_version,
            })
        })
        .collect()
    }

    fn contains(&self, id: Uuid) -> Result<bool, StorageError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM interview WHERE id = ?1",
                [id.to_string()],
                |_| Ok(()),
            )
            .optional()
            .map_err(db)?
            .is_some())
    }

    fn interviews_without_facts(
        &self,
        limit: usize,
    ) -> Result<Vec<zhisu_protocol::CompletedInterview>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT payload FROM interview WHERE measures IS NULL ORDER BY id LIMIT ?1",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([limit as i64], |r| r.get::<_, String>(0))
            .map_err(db)?;
        rows.map(|p| serde_json::from_str(&p.map_err(db)?).map_err(corrupt))
            .collect()
    }

    fn set_facts(&self, id: Uuid, f: &Facts) -> Result<(), StorageError> {
        let id = id.to_string();
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let before = counted_interview(&tx, &id)?;
        tx.execute(
            "UPDATE interview SET population = ?2, sex = ?3, age = ?4, education = ?5, industry = ?6,
                 dimension_literacy = ?7, items_correct = ?8, duration_s = ?9, fingerprint = ?10,
                 qc_flags = ?11, employer_size = ?12, ownership = ?13, employment_form = ?14,
                 migrant = ?15, modules = ?16, measures = ?17,
                 consent = ?18, consent_text_version = ?19, travel_direction = ?20,
                 site_id = json_extract(payload, '$.site_id'),
                 surveyor_id = json_extract(payload, '$.surveyor_id')
             WHERE id = ?1",
            params![
                id,
                f.population,
                f.sex,
                f.age,
                f.education,
                f.industry,
                f.dimension_literacy,
                f.items_correct,
                f.duration_s,
                f.fingerprint,
                f.qc_flags_json(),
                f.more[0],
                f.more[1],
                f.more[2],
                f.more[3],
                f.modules,
                f.measures,
                f.consent,
                f.consent_text_version,
                f.more[4],
            ],
        ).map_err(db)?;
        let after = counted_interview(&tx, &id)?;
        apply_cells(&tx, &CellChanges::between(before.as_ref(), after.as_ref()))?;
        tx.commit().map_err(db)?;
        Ok(())
    }

    fn rejected_for_device(
        &self,
        device: Uuid,
    ) -> Result<Vec<zhisu_protocol::RejectedInterview>, StorageError> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, coalesce(qc_comment, '') FROM interview
             WHERE device_id = ?1 AND qc_status = 'rejected' ORDER BY id",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([device.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (id, reason) = row.map_err(db)?;
            Ok(zhisu_protocol::RejectedInterview {
                interview_id: parse_uuid(&id)?,
                reason,
            })
        })
        .collect()
    }

    fn flag_for_review(
        &self,
        id: Uuid,
        flag: &QcFlag,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        let id = id.to_string();
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let stored: Option<String> = tx
            .query_row("SELECT qc_flags FROM interview WHERE id = ?1", [&id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)?;
        let Some(stored) = stored else {
            return Ok(false);
        };
        let flags = facts::with_flag(&stored, flag).map_err(corrupt)?;
        tx.execute(
            "UPDATE interview SET qc_flags = ?2 WHERE id = ?1",
            params![id, flags],
        )
        .map_err(db)?;
        insert_audit(&tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(true)
    }

    fn qc_counts(&self, scope: &Scope) -> Result<QcCounts, StorageError> {
        let (condition, value) = scope_condition(scope, "i.")?;
        let conn = self.read_connection()?;
        let (flagged, rejected): (i64, i64) = conn
            .query_row(
                &format!(
                    "{SAME_FINGERPRINT}
                 SELECT coalesce(sum(i.qc_flags != '[]'
                         OR (s.others IS NOT NULL AND i.fingerprint != '')), 0),
                     coalesce(sum(i.qc_status = 'rejected'), 0)
                 FROM interview i INDEXED BY interview_qc_queue
                     LEFT JOIN same s ON s.district IS i.district AND s.fingerprint = i.fingerprint
                 WHERE {condition}"
                ),
                rusqlite::named_params! { ":scope": value },
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(db)?;
        Ok(QcCounts {
            flagged: flagged as u64,
            rejected: rejected as u64,
        })
    }

    fn qc_queue(
        &self,
        scope: &Scope,
        status: Option<QcStatus>,
        limit: usize,
    ) -> Result<Vec<QcEntry>, StorageError> {
        let (condition, value) = scope_condition(scope, "i.")?;
        let conn = self.read_connection()?;
        let mut stmt = conn.prepare(&qc_queue_sql(&condition)).map_err(db)?;
        type Raw = (
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            Option<i64>,
            String,
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows = stmt
            .query_map(
                rusqlite::named_params! {
                    ":scope": value,
                    ":status": status.map(QcStatus::as_str),
                    ":limit": limit as i64,
                },
                |r| {
                    Ok::<Raw, _>((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                        r.get(10)?,
                        r.get(11)?,
                        r.get(12)?,
                        r.get(13)?,
                        r.get(14)?,
                    ))
                },
            )
            .map_err(db)?;
        rows.map(|row| {
            let r = row.map_err(db)?;
            Ok(QcEntry {
                id: parse_uuid(&r.0)?,
                questionnaire_id: r.1,
                district: r.2,
                site_id: r.3,
                surveyor_id: r.4,
                device_id: r.5.as_deref().map(parse_uuid).transpose()?,
                population: r.6,
                completed_at: parse_time(&r.7)?,
                duration_s: r.8,
                flags: serde_json::from_str(&r.9).map_err(corrupt)?,
                same_fingerprint: r.10 as u64,
                status: QcStatus::parse(&r.11)
                    .ok_or_else(|| corrupt(format!("unknown review state {}", r.11)))?,
                comment: r.12,
                reviewer: r.13,
                reviewed_at: r.14.as_deref().map(parse_time).transpose()?,
            })
        })
        .collect()
    }

    fn erase_interview(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        let id = id.to_string();
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let before = counted_interview(&tx, &id)?;
        let deleted = tx
            .execute("DELETE FROM interview WHERE id = ?1", [&id])
            .map_err(db)?;
        if deleted != 1 {
            return Ok(false);
        }
        tx.execute("DELETE FROM recontact WHERE interview_id = ?1", [&id])
            .map_err(db)?;
        tx.execute("DELETE FROM backcheck_task WHERE interview_id = ?1", [&id])
            .map_err(db)?;
        apply_cells(&tx, &CellChanges::between(before.as_ref(), None))?;
        tx.execute(
            "INSERT INTO erased_interview (id, erased_at) VALUES (?1, ?2)
             ON CONFLICT (id) DO NOTHING",
            params![id, timestamp(now)],
        )
        .map_err(db)?;
        insert_audit(&tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(true)
    }

    fn interviews_with_reference(
        &self,
        reference: &str,
    ) -> Result<Vec<ReferenceMatch>, StorageError> {
        let Some((low, high)) = zhisu_server_storage::reference_bounds(reference) else {
            return Ok(Vec::new());
        };
        let conn = self.read_connection()?;
        let mut stmt = conn
            .prepare(
                "SELECT id, district, site_id, received_at FROM interview
                 WHERE id BETWEEN ?1 AND ?2 ORDER BY received_at, id",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![low.to_string(), high.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (id, district, site_id, received_at) = row.map_err(db)?;
            Ok(ReferenceMatch {
                id: Uuid::parse_str(&id).map_err(corrupt)?,
                district,
                site_id,
                received_at: parse_time(&received_at)?,
            })
        })
        .collect()
    }

    fn erased(&self, ids: &[Uuid]) -> Result<Vec<Uuid>, StorageError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = serde_json::to_string(&ids.iter().map(Uuid::to_string).collect::<Vec<_>>())
            .map_err(corrupt)?;
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = conn
            .prepare_cached(
                "SELECT id FROM erased_interview WHERE id IN (SELECT value FROM json_each(?1))",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([list], |r| r.get::<_, String>(0))
            .map_err(db)?;
        rows.map(|id| Uuid::parse_str(&id.map_err(db)?).map_err(corrupt))
            .collect()
    }

    fn put_recontact(
        &self,
        details: &zhisu_server_storage::RecontactDetails,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        let id = details.interview_id.to_string();
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let stored = tx
            .query_row("SELECT 1 FROM interview WHERE id = ?1", [&id], |_| Ok(()))
            .optional()
            .map_err(db)?
            .is_some();
        if !stored {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO recontact (interview_id, contact, consent_text_version, stored_at, delete_after)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (interview_id) DO UPDATE SET contact = excluded.contact,
                 consent_text_version = excluded.consent_text_version,
                 stored_at = excluded.stored_at, delete_after = excluded.delete_after",
            params![
                id,
                details.contact,
                details.consent_text_version,
                timestamp(details.stored_at),
                timestamp(details.delete_after)
            ],
        )
        .map_err(db)?;
        insert_audit(&tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(true)
    }

    fn recontact_target(
        &self,
        id: Uuid,
    ) -> Result<Option<zhisu_server_storage::RecontactTarget>, StorageError> {
        let row = self
            .conn()
            .query_row(
                "SELECT i.device_id, EXISTS (SELECT 1 FROM recontact r WHERE r.interview_id = i.id)
                 FROM interview i WHERE i.id = ?1",
                [id.to_string()],
                |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, bool>(1)?)),
            )
            .optional()
            .map_err(db)?;
        row.map(|(device, kept)| {
            Ok(zhisu_server_storage::RecontactTarget {
                device_id: device
                    .map(|d| Uuid::parse_str(&d).map_err(corrupt))
                    .transpose()?,
                kept,
            })
        })
        .transpose()
    }

    fn recontact(
        &self,
        scope: &Scope,
        id: Uuid,
        audit: &AuditEntry,
    ) -> Result<Option<zhisu_server_storage::RecontactDetails>, StorageError> {
        let (condition, value) = scope_condition(scope, "i.")?;
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let row = tx
            .query_row(
                &format!(
                    "SELECT r.contact, r.consent_text_version, r.stored_at, r.delete_after
                     FROM recontact r JOIN interview i ON i.id = r.interview_id
                     WHERE r.interview_id = :id AND {condition}"
                ),
                rusqlite::named_params! { ":id": id.to_string(), ":scope": value },
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(db)?;
        let Some((contact, consent_text_version, stored_at, delete_after)) = row else {
            return Ok(None);
        };
        insert_audit(&tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(Some(zhisu_server_storage::RecontactDetails {
            interview_id: id,
            contact,
            consent_text_version,
            stored_at: parse_time(&stored_at)?,
            delete_after: parse_time(&delete_after)?,
        }))
    }

    fn review(
        &self,
        scope: &Scope,
        id: Uuid,
        decision: &Review,
        audit: &AuditEntry,
    ) -> Result<Option<()>, StorageError> {
        let (condition, value) = scope_condition(scope, "")?;
        let id = id.to_string();
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let before = counted_interview(&tx, &id)?;
        let changed = tx
            .execute(
                &format!(
                    "UPDATE interview SET qc_status = :status, qc_comment = :comment,
                     qc_reviewer = :reviewer, qc_reviewed_at = :at
                 WHERE id = :id AND {condition}"
                ),
                rusqlite::named_params! {
                    ":status": decision.status.as_str(),
                    ":comment": decision.comment,
                    ":reviewer": decision.reviewer,
                    ":at": timestamp(decision.at),
                    ":id": id,
                    ":scope": value,
                },
            )
            .map_err(db)?;
        if changed != 1 {
            return Ok(None);
        }
        // a rejection takes the interview out of the counts; taking it back puts it in again
        let after = counted_interview(&tx, &id)?;
        apply_cells(&tx, &CellChanges::between(before.as_ref(), after.as_ref()))?;
        insert_audit(&tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(Some(()))
    }
}
