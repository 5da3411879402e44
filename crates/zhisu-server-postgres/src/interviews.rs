//! Interviews: storing batches, reading them by scope, review.

use super::*;

/// The fingerprints shared by more than one interview of a district, with how many others
/// share each: a suspected repeat respondent. Counted once per query (an interview without a
/// district under ''), rather than a look-up per interview: `IS NOT DISTINCT FROM` uses no
/// index, and the look-up per interview made the queue quadratic.
const SAME_FINGERPRINT: &str = "WITH same AS (
    SELECT coalesce(district, '') AS district, fingerprint, count(*) - 1 AS others
    FROM interview
    WHERE fingerprint IS NOT NULL
    GROUP BY 1, 2 HAVING count(*) > 1)";

impl InterviewStore for PostgresStorage {
    fn ingest(
        &self,
        accepted: &[Accepted],
        device: Option<&Device>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Receipt>, StorageError> {
        // One multi-row INSERT per batch (arrays unnested on the server), in id order so that
        // concurrent batches lock rows in the same order; then one look-up of the rows that
        // were already there.
        let order = lock_order(accepted);
        let mut columns = BatchColumns::with_capacity(order.len());
        for &index in &order {
            columns.push(&accepted[index])?;
        }
        // the cells' changes if every row is stored, made before the transaction starts
        let mut cells = CellChanges::new();
        for &index in &order {
            let a = &accepted[index];
            cells.add(&Counted::of(a, a.district(device), now), 1);
        }
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        let inserted: std::collections::HashSet<Uuid> = tx
            .query(
                "INSERT INTO interview (id, questionnaire_id, questionnaire_version, content_hash, started_at,
                     completed_at, utc_offset_minutes, received_at, payload, score, max_score, has_literacy,
                     score_report, device_id, district, population, site_id, surveyor_id, sex, age, education,
                     industry, dimension_literacy, items_correct, duration_s, fingerprint, qc_flags,
                     employer_size, ownership, employment_form, migrant, modules, measures, consent,
                     consent_text_version, travel_direction)
                 SELECT id, qid, qversion, hash, started, completed, utc_offset, $23, payload::json, score, max_score,
                     literacy, report::json, $24, COALESCE(site_district, $25), population, site, surveyor, sex, age, education,
                     industry, dimensions, items, duration, fingerprint, flags::jsonb, employer_size, ownership,
                     employment_form, migrant, modules, measures, consent, consent_version, travel
                 FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                     $6::timestamptz[], $7::int4[], $8::text[], $9::int4[], $10::int4[], $11::bool[],
                     $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::int4[],
                     $18::text[], $19::text[], $20::int4[], $21::text[], $22::int4[], $26::text[], $27::text[],
                     $28::text[], $29::text[], $30::text[], $31::text[], $32::text[], $33::text[],
                     $34::text[], $35::bool[], $36::text[], $37::text[])
                     WITH ORDINALITY AS t(id, qid, qversion, hash, started, completed, utc_offset, payload,
                     score, max_score, literacy, report, population, site, surveyor, sex, age, education,
                     industry, dimensions, items, duration, fingerprint, flags, site_district,
                     employer_size, ownership, employment_form, migrant, modules, measures, consent,
                     consent_version, travel, ord)
                 ORDER BY ord
                 ON CONFLICT (id) DO NOTHING
                 RETURNING id",
                &[
                    &columns.id,
                    &columns.questionnaire_id,
                    &columns.questionnaire_version,
                    &columns.content_hash,
                    &columns.started_at,
                    &columns.completed_at,
                    &columns.utc_offset,
                    &columns.payload,
                    &columns.score,
                    &columns.max_score,
                    &columns.has_literacy,
                    &columns.score_report,
                    &columns.population,
                    &columns.site_id,
                    &columns.surveyor_id,
                    &columns.sex,
                    &columns.age,
                    &columns.education,
                    &columns.industry,
                    &columns.dimension_literacy,
                    &columns.items_correct,
                    &columns.duration_s,
                    &now,
                    &device.map(|d| d.id),
                    &device.map(|d| d.district.clone()),
                    &columns.fingerprint,
                    &columns.qc_flags,
                    &columns.site_district,
                    &columns.more[0],
                    &columns.more[1],
                    &columns.more[2],
                    &columns.more[3],
                    &columns.modules,
                    &columns.measures,
                    &columns.consent,
                    &columns.consent_text_version,
                    &columns.more[4],
                ],
            ).map_err(db)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let others: Vec<Uuid> = accepted
            .iter()
            .map(|a| a.interview.id)
            .filter(|id| !inserted.contains(id))
            .collect();
        let mut existing = std::collections::HashMap::new();
        if !others.is_empty() {
            for row in tx
                .query(
                    "SELECT id, content_hash FROM interview WHERE id = ANY($1)",
                    &[&others],
                )
                .map_err(db)?
            {
                existing.insert(row.get::<_, Uuid>(0), row.get::<_, String>(1));
            }
        }
        // the cells count the interviews this batch stored: not the re-sent or conflicting
        // ones, nor a repeat of an id within the batch (its first occurrence is stored, below)
        let mut counted = std::collections::HashSet::new();
        for &index in &order {
            let a = &accepted[index];
            if !(inserted.contains(&a.interview.id) && counted.insert(a.interview.id)) {
                cells.add(&Counted::of(a, a.district(device), now), -1);
            }
        }
        apply_cells(&mut tx, &cells)?;
        tx.commit().map_err(db)?;
        // An id repeated within the batch: its first occurrence (in id order, then batch order)
        // is the one stored.
        let mut claimed = std::collections::HashSet::new();
        let mut receipts = vec![None; accepted.len()];
        for index in order {
            let interview = &accepted[index].interview;
            let status = if inserted.contains(&interview.id) && claimed.insert(interview.id) {
                ReceiptStatus::Stored
            } else {
                let stored_hash = existing
                    .get(&interview.id)
                    .or_else(|| {
                        // repeated in this batch and stored by its first occurrence
                        accepted
                            .iter()
                            .find(|a| a.interview.id == interview.id)
                            .map(|a| &a.interview.content_hash)
                    })
                    .ok_or_else(|| {
                        corrupt(format!(
                            "interview {} neither stored nor found",
                            interview.id
                        ))
                    })?;
                if *stored_hash == interview.content_hash {
                    ReceiptStatus::AlreadyStored
                } else {
                    ReceiptStatus::Conflict
                }
            };
            receipts[index] = Some(receipt(interview.id, status));
        }
        Ok(receipts.into_iter().flatten().collect())
    }

    fn interview_count(&self) -> Result<u64, StorageError> {
        let n: i64 = self
            .pool
            .get()
            .map_err(unavailable)?
            .query_one("SELECT count(*) FROM interview", &[])
            .map_err(db)?
            .get(0);
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
        let mut client = self.pool.get().map_err(unavailable)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&limit];
        let mut conditions = Vec::new();
        match scope {
            Scope::All => {}
            Scope::District(d) => {
                params.push(d);
                conditions.push(format!("district = ${}", params.len()));
            }
            Scope::Populations(p) => {
                params.push(p);
                conditions.push(format!("population = ANY(${})", params.len()));
            }
        }
        let after_at;
        let after_id;
        if let Some((at, id)) = after {
            (after_at, after_id) = (at, id);
            params.push(&after_at);
            params.push(&after_id);
            conditions.push(format!(
                "(received_at, id) > (${}, ${})",
                params.len() - 1,
                params.len()
            ));
        }
        let condition = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let rows = client
            .query(
                &format!(
                    "SELECT payload::text, received_at, score_report::text, district, population, qc_status,
                     consent_text_version,
                     (SELECT round FROM device WHERE device.id = interview.device_id)
                     FROM interview {condition} ORDER BY received_at, id LIMIT $1"
                ),
                &params,
            )
            .map_err(db)?;
        rows.iter()
            .map(|row| {
                Ok(StoredInterview {
                    interview: serde_json::from_str(row.get(0)).map_err(corrupt)?,
                    received_at: row.get(1),
                    score: serde_json::from_str(row.get(2)).map_err(corrupt)?,
                    district: row.get(3),
                    round: row.get(7),
                    population: row.get(4),
                    qc_status: row.get(5),
                    consent_text_version: row.get(6),
                })
            })
            .collect()
    }

    fn contains(&self, id: Uuid) -> Result<bool, StorageError> {
        Ok(self
            .pool
            .get()
            .map_err(unavailable)?
            .query_opt("SELECT 1 FROM interview WHERE id = $1", &[&id])
            .map_err(db)?
            .is_some())
    }

    fn interviews_without_facts(
        &self,
        limit: usize,
    ) -> Result<Vec<zhisu_protocol::CompletedInterview>, StorageError> {
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                "SELECT payload::text FROM interview WHERE measures IS NULL ORDER BY id LIMIT $1",
                &[&(limit as i64)],
            )
            .map_err(db)?;
        rows.iter()
            .map(|r| serde_json::from_str(r.get(0)).map_err(corrupt))
            .collect()
    }

    fn set_facts(&self, id: Uuid, f: &Facts) -> Result<(), StorageError> {
        let small = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        let before = counted_interview(&mut tx, id)?;
        tx.execute(
            "UPDATE interview SET population = $2, sex = $3, age = $4, education = $5, industry = $6,
                 dimension_literacy = $7, items_correct = $8, duration_s = $9, fingerprint = $10,
                 qc_flags = $11::text::jsonb, employer_size = $12, ownership = $13,
                 employment_form = $14, migrant = $15, modules = $16, measures = $17,
                 consent = $18, consent_text_version = $19, travel_direction = $20,
                 site_id = payload->>'site_id', surveyor_id = payload->>'surveyor_id'
             WHERE id = $1",
            &[
                &id,
                &f.population,
                &f.sex,
                &f.age.map(small),
                &f.education,
                &f.industry,
                &small(f.dimension_literacy),
                &f.items_correct,
                &small(f.duration_s),
                &f.fingerprint,
                &f.qc_flags_json(),
                &f.more[0],
                &f.more[1],
                &f.more[2],
                &f.more[3],
                &f.modules,
                &f.measures,
                &f.consent,
                &f.consent_text_version,
                &f.more[4],
            ],
        ).map_err(db)?;
        let after = counted_interview(&mut tx, id)?;
        apply_cells(
            &mut tx,
            &CellChanges::between(before.as_ref(), after.as_ref()),
        )?;
        tx.commit().map_err(db)?;
        Ok(())
    }

    fn rejected_for_device(
        &self,
        device: Uuid,
    ) -> Result<Vec<zhisu_protocol::RejectedInterview>, StorageError> {
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                "SELECT id, coalesce(qc_comment, '') FROM interview
             WHERE device_id = $1 AND qc_status = 'rejected' ORDER BY id",
                &[&device],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| zhisu_protocol::RejectedInterview {
                interview_id: r.get(0),
                reason: r.get(1),
            })
            .collect())
    }

    fn qc_counts(&self, scope: &Scope) -> Result<QcCounts, StorageError> {
        let (condition, value) = scope_condition(scope, "i.", 1);
        let sql = format!(
            "{SAME_FINGERPRINT}
             SELECT count(*) FILTER (WHERE i.qc_flags <> '[]'::jsonb
                     OR (s.others IS NOT NULL AND i.fingerprint <> '')),
                 count(*) FILTER (WHERE i.qc_status = 'rejected')
             FROM interview i LEFT JOIN same s
                 ON s.district = coalesce(i.district, '') AND s.fingerprint = i.fingerprint
             WHERE {condition}"
        );
        let row = self
            .pool
            .get()
            .map_err(unavailable)?
            .query_one(&sql, &value.params())
            .map_err(db)?;
        Ok(QcCounts {
            flagged: row.get::<_, i64>(0) as u64,
            rejected: row.get::<_, i64>(1) as u64,
        })
    }

    fn qc_queue(
        &self,
        scope: &Scope,
        status: Option<QcStatus>,
        limit: usize,
    ) -> Result<Vec<QcEntry>, StorageError> {
        let (condition, value) = scope_condition(scope, "i.", 3);
        let sql = format!(
            "{SAME_FINGERPRINT}
             SELECT i.id, i.questionnaire_id, i.district, i.site_id, i.surveyor_id, i.device_id,
                 i.population, i.completed_at, i.duration_s, i.qc_flags::text,
                 coalesce(s.others, 0) AS same,
                 i.qc_status, i.qc_comment, i.qc_reviewer, i.qc_reviewed_at
             FROM interview i LEFT JOIN same s
                 ON s.district = coalesce(i.district, '') AND s.fingerprint = i.fingerprint
             WHERE {condition} AND ($1::text IS NULL OR i.qc_status = $1)
                 AND (i.qc_flags <> '[]'::jsonb OR i.qc_status <> 'unreviewed'
                     OR (s.others IS NOT NULL AND i.fingerprint <> ''))
             ORDER BY i.completed_at DESC, i.id LIMIT $2"
        );
        let status = status.map(QcStatus::as_str);
        let limit = limit as i64;
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&status, &limit];
        params.extend(value.params());
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(&sql, &params)
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                let state: String = r.get(11);
                Ok(QcEntry {
                    id: r.get(0),
                    questionnaire_id: r.get(1),
                    district: r.get(2),
                    site_id: r.get(3),
                    surveyor_id: r.get(4),
                    device_id: r.get(5),
                    population: r.get(6),
                    completed_at: r.get(7),
                    duration_s: r.get::<_, Option<i32>>(8).map(i64::from),
                    flags: serde_json::from_str(r.get(9)).map_err(corrupt)?,
                    same_fingerprint: r.get::<_, i64>(10) as u64,
                    status: QcStatus::parse(&state)
                        .ok_or_else(|| corrupt(format!("unknown review state {state}")))?,
                    comment: r.get(12),
                    reviewer: r.get(13),
                    reviewed_at: r.get(14),
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
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        let stored = tx
            .query_opt(
                "SELECT qc_flags::text FROM interview WHERE id = $1 FOR UPDATE",
                &[&id],
            )
            .map_err(db)?;
        let Some(stored) = stored else {
            return Ok(false);
        };
        let flags = facts::with_flag(stored.get(0), flag).map_err(corrupt)?;
        tx.execute(
            "UPDATE interview SET qc_flags = $2::text::jsonb WHERE id = $1",
            &[&id, &flags],
        )
        .map_err(db)?;
        insert_audit(&mut tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(true)
    }

    fn erase_interview(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        let before = counted_interview(&mut tx, id)?;
        let deleted = tx
            .execute("DELETE FROM interview WHERE id = $1", &[&id])
            .map_err(db)?;
        if deleted != 1 {
            return Ok(false);
        }
        tx.execute("DELETE FROM recontact WHERE interview_id = $1", &[&id])
            .map_err(db)?;
        tx.execute("DELETE FROM backcheck_task WHERE interview_id = $1", &[&id])
            .map_err(db)?;
        apply_cells(&mut tx, &CellChanges::between(before.as_ref(), None))?;
        tx.execute(
            "INSERT INTO erased_interview (id, erased_at) VALUES ($1, $2)
             ON CONFLICT (id) DO NOTHING",
            &[&id, &now],
        )
        .map_err(db)?;
        insert_audit(&mut tx, audit)?;
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
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                "SELECT id, district, site_id, received_at FROM interview
                 WHERE id BETWEEN $1 AND $2 ORDER BY received_at, id",
                &[&low, &high],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|row| ReferenceMatch {
                id: row.get(0),
                district: row.get(1),
                site_id: row.get(2),
                received_at: row.get(3),
            })
            .collect())
    }

    fn erased(&self, ids: &[Uuid]) -> Result<Vec<Uuid>, StorageError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                "SELECT id FROM erased_interview WHERE id = ANY($1)",
                &[&ids],
            )
            .map_err(db)?;
        Ok(rows.iter().map(|r| r.get::<_, Uuid>(0)).collect())
    }

    fn put_recontact(
        &self,
        details: &zhisu_server_storage::RecontactDetails,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        // the interview's row locked: an erasure of it waits, or ran first and it is gone
        let stored = tx
            .query_opt(
                "SELECT 1 FROM interview WHERE id = $1 FOR UPDATE",
                &[&details.interview_id],
            )
            .map_err(db)?
            .is_some();
        if !stored {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO recontact (interview_id, contact, consent_text_version, stored_at, delete_after)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (interview_id) DO UPDATE SET contact = excluded.contact,
                 consent_text_version = excluded.consent_text_version,
                 stored_at = excluded.stored_at, delete_after = excluded.delete_after",
            &[
                &details.interview_id,
                &details.contact,
                &details.consent_text_version,
                &details.stored_at,
                &details.delete_after,
            ],
        )
        .map_err(db)?;
        insert_audit(&mut tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(true)
    }

    fn recontact_target(
        &self,
        id: Uuid,
    ) -> Result<Option<zhisu_server_storage::RecontactTarget>, StorageError> {
        let row = self
            .pool
            .get()
            .map_err(unavailable)?
            .query_opt(
                "SELECT i.device_id, EXISTS (SELECT 1 FROM recontact r WHERE r.interview_id = i.id)
                 FROM interview i WHERE i.id = $1",
                &[&id],
            )
            .map_err(db)?;
        Ok(row.map(|r| zhisu_server_storage::RecontactTarget {
            device_id: r.get(0),
            kept: r.get(1),
        }))
    }

    fn recontact(
        &self,
        scope: &Scope,
        id: Uuid,
        audit: &AuditEntry,
    ) -> Result<Option<zhisu_server_storage::RecontactDetails>, StorageError> {
        let (condition, value) = scope_condition(scope, "i.", 2);
        let sql = format!(
            "SELECT r.contact, r.consent_text_version, r.stored_at, r.delete_after
             FROM recontact r JOIN interview i ON i.id = r.interview_id
             WHERE r.interview_id = $1 AND {condition}"
        );
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&id];
        params.extend(value.params());
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        let Some(row) = tx.query_opt(&sql, &params).map_err(db)? else {
            return Ok(None);
        };
        insert_audit(&mut tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(Some(zhisu_server_storage::RecontactDetails {
            interview_id: id,
            contact: row.get(0),
            consent_text_version: row.get(1),
            stored_at: row.get(2),
            delete_after: row.get(3),
        }))
    }

    fn review(
        &self,
        scope: &Scope,
        id: Uuid,
        decision: &Review,
        audit: &AuditEntry,
    ) -> Result<Option<()>, StorageError> {
        let (condition, value) = scope_condition(scope, "", 6);
        let sql = format!(
            "UPDATE interview SET qc_status = $1, qc_comment = $2, qc_reviewer = $3, qc_reviewed_at = $4
             WHERE id = $5 AND {condition}"
        );
        let status = decision.status.as_str();
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![
            &status,
            &decision.comment,
            &decision.reviewer,
            &decision.at,
            &id,
        ];
        params.extend(value.params());
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        let before = counted_interview(&mut tx, id)?;
        let changed = tx.execute(&sql, &params).map_err(db)?;
        if changed != 1 {
            return Ok(None);
        }
        // a rejection takes the interview out of the counts; taking it back puts it in again
        let after = counted_interview(&mut tx, id)?;
        apply_cells(
            &mut tx,
            &CellChanges::between(before.as_ref(), after.as_ref()),
        )?;
        insert_audit(&mut tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(Some(()))
    }
}
