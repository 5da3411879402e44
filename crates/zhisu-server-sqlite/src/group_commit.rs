//! Storing batches of interviews.

use super::*;

/// One interview row, every column prepared outside the writer's lock.
pub(crate) struct Row {
    /// Its place in the caller's batch.
    pub(crate) index: usize,
    pub(crate) uuid: Uuid,
    pub(crate) id: String,
    pub(crate) questionnaire_id: String,
    pub(crate) questionnaire_version: String,
    pub(crate) content_hash: String,
    pub(crate) started_at: String,
    pub(crate) completed_at: String,
    pub(crate) utc_offset_minutes: i32,
    pub(crate) received_at: String,
    pub(crate) payload: String,
    pub(crate) score: u32,
    pub(crate) max_score: u32,
    pub(crate) has_literacy: bool,
    pub(crate) score_report: String,
    pub(crate) device_id: Option<String>,
    pub(crate) district: Option<String>,
    pub(crate) site_id: Option<String>,
    pub(crate) surveyor_id: Option<String>,
    pub(crate) facts: Facts,
    pub(crate) qc_flags: String,
    pub(crate) counted: Counted,
}

impl Row {
    pub(crate) fn new(
        index: usize,
        a: &Accepted,
        device: Option<&Device>,
        received_at: &str,
        received: DateTime<Utc>,
    ) -> Result<Row, StorageError> {
        let i = &a.interview;
        Ok(Row {
            index,
            uuid: i.id,
            id: i.id.to_string(),
            questionnaire_id: i.questionnaire_id.clone(),
            questionnaire_version: i.questionnaire_version.clone(),
            content_hash: i.content_hash.clone(),
            started_at: timestamp(i.started_at),
            completed_at: timestamp(i.completed_at),
            utc_offset_minutes: i.utc_offset_minutes,
            received_at: received_at.to_string(),
            payload: serde_json::to_string(i).map_err(corrupt)?,
            score: a.score.score,
            max_score: a.score.max,
            has_literacy: a.score.has_literacy,
            score_report: zhisu_server_storage::facts::stored_score_report(&a.score),
            device_id: device.map(|d| d.id.to_string()),
            district: a.district(device).map(str::to_string),
            site_id: i.site_id.clone(),
            surveyor_id: i.surveyor_id.clone(),
            facts: a.facts.clone(),
            qc_flags: a.facts.qc_flags_json(),
            counted: Counted::of(a, a.district(device), received),
        })
    }
}

/// One caller's batch waiting for the writer, and what became of it.
pub(crate) struct GroupRequest {
    pub(crate) rows: Vec<Row>,
    /// The cells' changes if every row is stored (made before joining the queue).
    pub(crate) cells: CellChanges,
    pub(crate) outcome: Mutex<Outcome>,
}

impl GroupRequest {
    pub(crate) fn outcome(&self) -> std::sync::MutexGuard<'_, Outcome> {
        self.outcome.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What became of one caller's batch: receipts with their place in the batch, or the error.
pub(crate) type Outcome = Option<Result<Vec<(usize, Receipt)>, StorageError>>;

/// Writes the queued requests in one transaction, each inside its own savepoint, and records
/// every request's outcome. If the commit fails, every request of the group gets the error and
/// nothing of any of them is stored.
pub(crate) fn write_group(conn: &mut Connection, group: &[Arc<GroupRequest>]) {
    // every request of the group gets the error, classified like any other (a full disk is
    // `Full`, so devices hear "disk full, try later" rather than "internal")
    let fail_all = |e: &rusqlite::Error| {
        let code = match e {
            rusqlite::Error::SqliteFailure(f, _) => Some(f.code),
            _ => None,
        };
        let full = code == Some(rusqlite::ErrorCode::DiskFull);
        let read_only = code == Some(rusqlite::ErrorCode::ReadOnly);
        for request in group {
            *request.outcome() = Some(Err(if read_only {
                StorageError::ReadOnly(READ_ONLY_START.to_string())
            } else if full {
                StorageError::Full {
                    backend: BACKEND,
                    source: e.to_string().into(),
                }
            } else {
                StorageError::Write(e.to_string())
            }));
        }
    };
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return fail_all(&e),
    };
    let mut outcomes = Vec::with_capacity(group.len());
    for request in group {
        let outcome = match tx.savepoint() {
            Ok(mut sp) => match write_rows(&sp, &request.rows, &request.cells) {
                Ok(receipts) => sp.commit().map(|_| receipts).map_err(db),
                Err(e) => {
                    let _ = sp.rollback();
                    Err(e)
                }
            },
            Err(e) => Err(db(e)),
        };
        outcomes.push(outcome);
    }
    if let Err(e) = tx.commit() {
        return fail_all(&e);
    }
    for (request, outcome) in group.iter().zip(outcomes) {
        *request.outcome() = Some(outcome);
    }
}

pub(crate) fn write_rows(
    tx: &Connection,
    rows: &[Row],
    cells: &CellChanges,
) -> Result<Vec<(usize, Receipt)>, StorageError> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO interview (id, questionnaire_id, questionnaire_version, content_hash, started_at,
             completed_at, utc_offset_minutes, received_at, payload, score, max_score, has_literacy, score_report,
             device_id, district, population, site_id, surveyor_id, sex, age, education, industry,
             dimension_literacy, items_correct, duration_s, fingerprint, qc_flags,
             employer_size, ownership, employment_form, migrant, modules, measures, consent,
             consent_text_version, travel_direction)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
             ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33,
             ?34, ?35, ?36)
         ON CONFLICT (id) DO NOTHING",
    ).map_err(db)?;
    let mut existing = tx
        .prepare_cached("SELECT content_hash FROM interview WHERE id = ?1")
        .map_err(db)?;
    let mut receipts = Vec::with_capacity(rows.len());
    let mut not_stored = Vec::new();
    for row in rows {
        let f = &row.facts;
        let inserted = insert
            .execute(params![
                row.id,
                row.questionnaire_id,
                row.questionnaire_version,
                row.content_hash,
                row.started_at,
                row.completed_at,
                row.utc_offset_minutes,
                row.received_at,
                row.payload,
                row.score,
                row.max_score,
                row.has_literacy,
                row.score_report,
                row.device_id,
                row.district,
                f.population,
                row.site_id,
                row.surveyor_id,
                f.sex,
                f.age,
                f.education,
                f.industry,
                f.dimension_literacy,
                f.items_correct,
                f.duration_s,
                f.fingerprint,
                row.qc_flags,
                f.more[0],
                f.more[1],
                f.more[2],
                f.more[3],
                f.modules,
                f.measures,
                f.consent,
                f.consent_text_version,
                f.more[4],
            ])
            .map_err(db)?;
        let status = if inserted == 1 {
            ReceiptStatus::Stored
        } else {
            let hash: String = existing.query_row([&row.id], |r| r.get(0)).map_err(db)?;
            if hash == row.content_hash {
                ReceiptStatus::AlreadyStored
            } else {
                ReceiptStatus::Conflict
            }
        };
        if status != ReceiptStatus::Stored {
            not_stored.push(&row.counted);
        }
        receipts.push((row.index, receipt(row.uuid, status)));
    }
    if not_stored.is_empty() {
        apply_cells(tx, cells)?;
    } else {
        // re-sent or conflicting rows were counted when first stored
        let mut cells = cells.clone();
        for counted in not_stored {
            cells.add(counted, -1);
        }
        apply_cells(tx, &cells)?;
    }
    Ok(receipts)
}
