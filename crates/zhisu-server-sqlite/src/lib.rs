//! Embedded SQLite backend: the default, nothing to set up.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use uuid::Uuid;
use zhisu_server_storage::zhisu_protocol::{self, Receipt, ReceiptStatus};

use zhisu_server_storage::cells::{CellChanges, CellRow, Counted};
use zhisu_server_storage::rows::{corrupt, lock_order, receipt, role_columns, role_from};
use zhisu_server_storage::{
    Accepted, AnalyticsStore, AuditEntry, AuditStore, Device, DeviceStore, EnrolRefusal, FactRow,
    Facts, InterviewStore, ListedPerson, PeopleStore, Person, PlanStore, ProgressCell,
    PublishedRecord, QcEntry, QcStatus, Review, Scope, Storage, StorageError, StoredInterview,
};

/// The backend's name in errors and logs.
const BACKEND: &str = "SQLite";

/// A driver error as the storage reports it.
fn db(e: rusqlite::Error) -> StorageError {
    StorageError::Database {
        backend: BACKEND,
        source: Box::new(e),
    }
}

/// Append-only: migration `i` takes `user_version` from `i` to `i + 1`. Never edit a shipped one.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE interview (
        id                    TEXT PRIMARY KEY NOT NULL,
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        content_hash          TEXT NOT NULL,
        started_at            TEXT NOT NULL,
        completed_at          TEXT NOT NULL,
        utc_offset_minutes    INTEGER NOT NULL,
        received_at           TEXT NOT NULL,
        payload               TEXT NOT NULL,     -- the interview exactly as uploaded (JSON)
        score                 INTEGER NOT NULL,  -- re-scored here with the core
        max_score             INTEGER NOT NULL,
        has_literacy          INTEGER NOT NULL,
        score_report          TEXT NOT NULL      -- ScoreReport as JSON
    ) STRICT;
    CREATE INDEX interview_questionnaire ON interview (questionnaire_id, questionnaire_version);
    "#,
    // 2: devices and their enrolment, sites and quotas, the audit log; which device sent what.
    r#"
    ALTER TABLE interview ADD COLUMN device_id TEXT;
    CREATE TABLE enrolment_code (
        code_hash  TEXT PRIMARY KEY NOT NULL,
        round      TEXT NOT NULL,
        district   TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at    TEXT,
        device_id  TEXT
    ) STRICT;
    CREATE TABLE device (
        id           TEXT PRIMARY KEY NOT NULL,
        name         TEXT NOT NULL,
        round        TEXT NOT NULL,
        district     TEXT NOT NULL,
        token_hash   TEXT NOT NULL UNIQUE,
        enrolled_at  TEXT NOT NULL,
        revoked_at   TEXT,
        last_seen_at TEXT
    ) STRICT;
    CREATE TABLE site (
        id        TEXT PRIMARY KEY NOT NULL,
        district  TEXT NOT NULL,
        name      TEXT NOT NULL,
        site_type TEXT NOT NULL,
        industry  TEXT,
        ownership TEXT,
        size      TEXT,
        quotas    TEXT NOT NULL              -- JSON object: population -> interviews wanted
    ) STRICT;
    CREATE INDEX site_district ON site (district, id);
    CREATE TABLE audit_log (
        seq    INTEGER PRIMARY KEY AUTOINCREMENT,
        at     TEXT NOT NULL,
        actor  TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    ) STRICT;
    "#,
    // 3: people, roles and sessions; interviews keep their district and population for scoping.
    r#"
    ALTER TABLE interview ADD COLUMN district TEXT;
    ALTER TABLE interview ADD COLUMN population TEXT;
    CREATE INDEX interview_district ON interview (district, received_at);
    CREATE INDEX interview_population ON interview (population, received_at);
    CREATE TABLE person (
        id            TEXT PRIMARY KEY NOT NULL,
        username      TEXT NOT NULL UNIQUE,
        display_name  TEXT NOT NULL,
        password_hash TEXT NOT NULL,          -- Argon2id, PHC string
        role          TEXT NOT NULL,
        district      TEXT,
        populations   TEXT NOT NULL,          -- JSON array, for department viewers
        created_at    TEXT NOT NULL,
        disabled_at   TEXT
    ) STRICT;
    CREATE TABLE session (
        token_hash TEXT PRIMARY KEY NOT NULL,
        person_id  TEXT NOT NULL REFERENCES person (id),
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        ended_at   TEXT
    ) STRICT;
    "#,
    // 4: a site's id is unique within its district, not across the city.
    r#"
    CREATE TABLE site_v4 (
        id        TEXT NOT NULL,
        district  TEXT NOT NULL,
        name      TEXT NOT NULL,
        site_type TEXT NOT NULL,
        industry  TEXT,
        ownership TEXT,
        size      TEXT,
        quotas    TEXT NOT NULL,
        PRIMARY KEY (district, id)
    ) STRICT;
    INSERT INTO site_v4 SELECT id, district, name, site_type, industry, ownership, size, quotas FROM site;
    DROP TABLE site;
    ALTER TABLE site_v4 RENAME TO site;
    "#,
    // 5: questionnaire versions published for a round.
    r#"
    CREATE TABLE questionnaire (
        id           TEXT NOT NULL,
        version      TEXT NOT NULL,
        round        TEXT NOT NULL,
        hash         TEXT NOT NULL,
        source       TEXT NOT NULL,
        published_at TEXT NOT NULL,
        published_by TEXT NOT NULL,
        PRIMARY KEY (id, version)
    ) STRICT;
    "#,
    // 6: the facts the dashboard reads, as plain columns; quality-control review; sample-plan
    // fields of a site (stratum, weight, position). Rows stored before this migration get their
    // facts when the server next starts (`ServerState::backfill_facts`).
    r#"
    ALTER TABLE interview ADD COLUMN site_id TEXT;
    ALTER TABLE interview ADD COLUMN surveyor_id TEXT;
    ALTER TABLE interview ADD COLUMN sex TEXT;
    ALTER TABLE interview ADD COLUMN age INTEGER;
    ALTER TABLE interview ADD COLUMN education TEXT;
    ALTER TABLE interview ADD COLUMN industry TEXT;
    ALTER TABLE interview ADD COLUMN dimension_literacy INTEGER;   -- bit i: literacy in dimension i
    ALTER TABLE interview ADD COLUMN items_correct TEXT;           -- per scored item: 1, 0 or -
    ALTER TABLE interview ADD COLUMN duration_s INTEGER;
    ALTER TABLE interview ADD COLUMN fingerprint TEXT;
    ALTER TABLE interview ADD COLUMN qc_flags TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE interview ADD COLUMN qc_status TEXT NOT NULL DEFAULT 'unreviewed';
    ALTER TABLE interview ADD COLUMN qc_comment TEXT;
    ALTER TABLE interview ADD COLUMN qc_reviewer TEXT;
    ALTER TABLE interview ADD COLUMN qc_reviewed_at TEXT;
    CREATE INDEX interview_qc ON interview (qc_status, district);
    CREATE INDEX interview_device ON interview (device_id, qc_status);
    CREATE INDEX interview_fingerprint ON interview (district, fingerprint);
    ALTER TABLE site ADD COLUMN stratum TEXT;
    ALTER TABLE site ADD COLUMN weight REAL;
    ALTER TABLE site ADD COLUMN latitude REAL;
    ALTER TABLE site ADD COLUMN longitude REAL;
    ALTER TABLE device ADD COLUMN pending INTEGER;       -- interviews waiting on it, as it last said
    CREATE TABLE round_settings (
        round    TEXT PRIMARY KEY NOT NULL,
        settings TEXT NOT NULL                          -- RoundSettings as JSON
    ) STRICT;
    "#,
    // 7: literacy cells (crate::cells): counts per questionnaire, district, site, population and
    // breakdown key, and progress cells per district, site, population and day, kept with every
    // write that changes what the analyses count. Filled from the stored interviews right after
    // this migration (`SqliteStorage::open`).
    r#"
    CREATE TABLE literacy_cell (
        questionnaire_id TEXT NOT NULL,
        district         TEXT NOT NULL,  -- '' when none, as in every key column here
        site_id          TEXT NOT NULL,
        population       TEXT NOT NULL,
        breakdown        TEXT NOT NULL,  -- all, dimension, industry, sex, age_band, education
        key              TEXT NOT NULL,
        n                INTEGER NOT NULL,
        successes        INTEGER NOT NULL,
        PRIMARY KEY (questionnaire_id, district, site_id, population, breakdown, key)
    ) STRICT, WITHOUT ROWID;
    -- interviews per district, site, population and local day, every questionnaire, rejected
    -- ones left out (the progress view)
    CREATE TABLE progress_cell (
        district   TEXT NOT NULL,
        site_id    TEXT NOT NULL,
        population TEXT NOT NULL,
        day        TEXT NOT NULL,
        n          INTEGER NOT NULL,
        PRIMARY KEY (district, site_id, population, day)
    ) STRICT, WITHOUT ROWID;
    "#,
];

pub struct SqliteStorage {
    path: std::path::PathBuf,
    conn: Mutex<Connection>,
    /// Batches waiting for the writer (group commit, see `ingest`).
    queue: Mutex<Vec<Arc<GroupRequest>>>,
    /// A second connection for the hot read on every device request (the token lookup), so it
    /// does not wait behind a batch being written: WAL lets readers run beside the writer.
    reader: Mutex<Connection>,
}

/// One interview row, every column prepared outside the writer's lock.
struct Row {
    /// Its place in the caller's batch.
    index: usize,
    uuid: Uuid,
    id: String,
    questionnaire_id: String,
    questionnaire_version: String,
    content_hash: String,
    started_at: String,
    completed_at: String,
    utc_offset_minutes: i32,
    received_at: String,
    payload: String,
    score: u32,
    max_score: u32,
    has_literacy: bool,
    score_report: String,
    device_id: Option<String>,
    district: Option<String>,
    site_id: Option<String>,
    surveyor_id: Option<String>,
    facts: Facts,
    qc_flags: String,
    counted: Counted,
}

impl Row {
    fn new(
        index: usize,
        a: &Accepted,
        device: Option<&Device>,
        received_at: &str,
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
            district: device.map(|d| d.district.clone()),
            site_id: i.site_id.clone(),
            surveyor_id: i.surveyor_id.clone(),
            facts: a.facts.clone(),
            qc_flags: a.facts.qc_flags_json(),
            counted: Counted::of(a, device.map(|d| d.district.as_str())),
        })
    }
}

/// What became of one caller's batch: receipts with their place in the batch, or the error.
type Outcome = Option<Result<Vec<(usize, Receipt)>, StorageError>>;

/// One caller's batch waiting for the writer, and what became of it.
struct GroupRequest {
    rows: Vec<Row>,
    /// The cells' changes if every row is stored (made before joining the queue).
    cells: CellChanges,
    outcome: Mutex<Outcome>,
}

impl GroupRequest {
    fn outcome(&self) -> std::sync::MutexGuard<'_, Outcome> {
        self.outcome.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Writes the queued requests in one transaction, each inside its own savepoint, and records
/// every request's outcome. If the commit fails, every request of the group gets the error and
/// nothing of any of them is stored.
fn write_group(conn: &mut Connection, group: &[Arc<GroupRequest>]) {
    let fail_all = |e: &dyn std::fmt::Display| {
        for request in group {
            *request.outcome() = Some(Err(StorageError::Write(e.to_string())));
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

fn write_rows(
    tx: &Connection,
    rows: &[Row],
    cells: &CellChanges,
) -> Result<Vec<(usize, Receipt)>, StorageError> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO interview (id, questionnaire_id, questionnaire_version, content_hash, started_at,
             completed_at, utc_offset_minutes, received_at, payload, score, max_score, has_literacy, score_report,
             device_id, district, population, site_id, surveyor_id, sex, age, education, industry,
             dimension_literacy, items_correct, duration_s, fingerprint, qc_flags)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
             ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)
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

/// The schema version that added the literacy cells.
const CELLS_SCHEMA: usize = 7;

/// The columns of an interview the cells count (`zhisu_server_storage::cells::Counted`), in that order.
const COUNTED_COLUMNS: &str = "questionnaire_id, district, site_id, population, industry, sex,
    education, age, has_literacy, dimension_literacy, completed_at, utc_offset_minutes,
    items_correct IS NOT NULL";

/// Which interviews the cells count: those not rejected in review (the literacy cells only
/// those among them with their facts, as `visit_facts`).
const COUNTED_CONDITION: &str = "qc_status != 'rejected'";

fn counted_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<Counted> {
    let completed: String = r.get(10)?;
    let completed = DateTime::parse_from_rfc3339(&completed)
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(10, rusqlite::types::Type::Text, Box::new(e))
        })?
        .with_timezone(&Utc);
    Ok(Counted {
        day: zhisu_server_storage::cells::local_day(completed, r.get(11)?),
        has_facts: r.get(12)?,
        questionnaire_id: r.get(0)?,
        district: r.get(1)?,
        site_id: r.get(2)?,
        population: r.get(3)?,
        industry: r.get(4)?,
        sex: r.get(5)?,
        education: r.get(6)?,
        age: r.get(7)?,
        has_literacy: r.get(8)?,
        dimension_literacy: r.get::<_, Option<i64>>(9)?.unwrap_or(0),
    })
}

/// What the cells count of one interview: `None` when they do not count it (rejected, no
/// facts, no such interview).
fn counted_interview(conn: &Connection, id: &str) -> Result<Option<Counted>, StorageError> {
    conn.prepare_cached(&format!(
        "SELECT {COUNTED_COLUMNS} FROM interview WHERE id = ?1 AND {COUNTED_CONDITION}"
    ))
    .map_err(db)?
    .query_row([id], counted_from)
    .optional()
    .map_err(db)
}

fn apply_cells(conn: &Connection, changes: &CellChanges) -> Result<(), StorageError> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut progress = conn
        .prepare_cached(
            "INSERT INTO progress_cell (district, site_id, population, day, n)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (district, site_id, population, day) DO UPDATE SET n = n + excluded.n",
        )
        .map_err(db)?;
    for (k, n) in changes.progress() {
        progress
            .execute(params![k.district, k.site_id, k.population, k.day, n])
            .map_err(db)?;
    }
    let mut upsert = conn.prepare_cached(
        "INSERT INTO literacy_cell (questionnaire_id, district, site_id, population, breakdown, key,
             n, successes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (questionnaire_id, district, site_id, population, breakdown, key)
         DO UPDATE SET n = n + excluded.n, successes = successes + excluded.successes",
    ).map_err(db)?;
    for (k, n, successes) in changes.iter() {
        upsert
            .execute(params![
                k.questionnaire_id,
                k.district,
                k.site_id,
                k.population,
                k.breakdown,
                k.key,
                n,
                successes
            ])
            .map_err(db)?;
    }
    Ok(())
}

/// Counts every interview the cells count again, replacing what the cells held.
/// Writes an audit entry with the connection (or transaction) of the action it records.
fn insert_audit(conn: &Connection, entry: &AuditEntry) -> Result<(), StorageError> {
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, detail) VALUES (?1, ?2, ?3, ?4)",
        params![timestamp(entry.at), entry.actor, entry.action, entry.detail],
    )
    .map_err(db)?;
    Ok(())
}

fn rebuild_cells(conn: &Connection) -> Result<(), StorageError> {
    let mut changes = CellChanges::new();
    {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {COUNTED_COLUMNS} FROM interview WHERE {COUNTED_CONDITION}"
            ))
            .map_err(db)?;
        let mut rows = stmt.query([]).map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            changes.add(&counted_from(r).map_err(db)?, 1);
        }
    }
    conn.execute_batch("DELETE FROM literacy_cell; DELETE FROM progress_cell;")
        .map_err(db)?;
    apply_cells(conn, &changes)
}

/// The SQL condition (on interview columns, prefixed `prefix`) for what `scope` may read, with
/// its one parameter `:scope`.
fn scope_condition(scope: &Scope, prefix: &str) -> Result<(String, Option<String>), StorageError> {
    Ok(match scope {
        Scope::All => (":scope IS NULL".to_string(), None),
        Scope::District(d) => (format!("{prefix}district = :scope"), Some(d.clone())),
        Scope::Populations(p) => (
            format!("{prefix}population IN (SELECT value FROM json_each(:scope))"),
            Some(serde_json::to_string(p).map_err(corrupt)?),
        ),
    })
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, StorageError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(corrupt)
}

fn parse_uuid(s: &str) -> Result<Uuid, StorageError> {
    Uuid::parse_str(s).map_err(corrupt)
}

const PERSON_COLUMNS: &str = "id, username, display_name, role, district, populations, created_at";

type PersonRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
);

fn person_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PersonRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn person_from(row: PersonRow) -> Result<Person, StorageError> {
    let (id, username, display_name, role, district, populations, created_at) = row;
    Ok(Person {
        id: parse_uuid(&id)?,
        username,
        display_name,
        role: role_from(&role, district, &populations)?,
        created_at: parse_time(&created_at)?,
    })
}

const DEVICE_COLUMNS: &str =
    "id, name, round, district, enrolled_at, revoked_at, last_seen_at, CAST(pending AS TEXT)";

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; 8]> {
    Ok([
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ])
}

fn device_from(row: [Option<String>; 8]) -> Result<Device, StorageError> {
    let [id, name, round, district, enrolled, revoked, seen, pending] = row;
    let need = |v: Option<String>| v.ok_or_else(|| corrupt("missing device column"));
    Ok(Device {
        id: parse_uuid(&need(id)?)?,
        name: need(name)?,
        round: need(round)?,
        district: need(district)?,
        enrolled_at: parse_time(&need(enrolled)?)?,
        revoked_at: revoked.as_deref().map(parse_time).transpose()?,
        last_seen_at: seen.as_deref().map(parse_time).transpose()?,
        pending: pending.and_then(|p| p.parse().ok()),
    })
}

impl SqliteStorage {
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let mut conn = Connection::open(path).map_err(db)?;
        // WAL: readers (dashboards, exports) never block ingest; FULL: an acknowledged
        // interview must survive a power cut, or the tablet would drop its only other copy.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(db)?;
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db)?;
        let found = found as usize;
        if found > MIGRATIONS.len() {
            return Err(StorageError::NewerSchema {
                found,
                supported: MIGRATIONS.len(),
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(found) {
            let tx = conn.transaction().map_err(db)?;
            tx.execute_batch(sql).map_err(db)?;
            if index + 1 == CELLS_SCHEMA {
                rebuild_cells(&tx)?;
            }
            tx.pragma_update(None, "user_version", (index + 1) as i64)
                .map_err(db)?;
            tx.commit().map_err(db)?;
        }
        let reader = Connection::open(path).map_err(db)?;
        reader.busy_timeout(Duration::from_secs(5)).map_err(db)?;
        Ok(SqliteStorage {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
            queue: Mutex::new(Vec::new()),
            reader: Mutex::new(reader),
        })
    }

    /// A connection of its own for a long read (a report, an export): WAL lets it run beside
    /// ingest without holding up the writer or the token look-ups.
    fn read_connection(&self) -> Result<Connection, StorageError> {
        let conn = Connection::open_with_flags(
            &self.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(db)?;
        Ok(conn)
    }

    /// The second connection, for short reads on the device path (WAL: beside the writer).
    fn read(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SqliteStorage {
    /// Runs an administrative `action` in one transaction with its audit entry, which is
    /// written only when `done` says the action changed something: the log and the data
    /// cannot disagree, whatever fails.
    fn audited<T>(
        &self,
        audit: &AuditEntry,
        done: impl Fn(&T) -> bool,
        action: impl FnOnce(&Connection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let outcome = action(&tx)?;
        if done(&outcome) {
            insert_audit(&tx, audit)?;
        }
        tx.commit().map_err(db)?;
        Ok(outcome)
    }
}

impl Storage for SqliteStorage {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn schema_version(&self) -> Result<usize, StorageError> {
        let v: i64 = self
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db)?;
        Ok(v as usize)
    }
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
            .map(|index| Row::new(index, &accepted[index], device, &received))
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
        let (condition, value): (&str, Option<String>) = match scope {
            Scope::All => ("?1 IS NULL", None),
            Scope::District(d) => ("district = ?1", Some(d.clone())),
            Scope::Populations(p) => (
                "population IN (SELECT value FROM json_each(?1))",
                Some(serde_json::to_string(p).map_err(corrupt)?),
            ),
        };
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT payload, received_at, score_report, district, population, qc_status FROM interview
             WHERE {condition} ORDER BY received_at, id"
        )).map_err(db)?;
        let rows = stmt
            .query_map([value], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (payload, received_at, score, district, population, qc_status) = row.map_err(db)?;
            Ok(StoredInterview {
                interview: serde_json::from_str(&payload).map_err(corrupt)?,
                received_at: parse_time(&received_at)?,
                score: serde_json::from_str(&score).map_err(corrupt)?,
                district,
                population,
                qc_status,
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
                "SELECT payload FROM interview WHERE items_correct IS NULL ORDER BY id LIMIT ?1",
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
                 qc_flags = ?11,
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

    fn qc_queue(
        &self,
        scope: &Scope,
        status: Option<QcStatus>,
        limit: usize,
    ) -> Result<Vec<QcEntry>, StorageError> {
        let (condition, value) = scope_condition(scope, "i.")?;
        let conn = self.read_connection()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT i.id, i.questionnaire_id, i.district, i.site_id, i.surveyor_id, i.device_id,
                 i.population, i.completed_at, i.duration_s, i.qc_flags,
                 (SELECT count(*) FROM interview o WHERE o.district IS i.district
                     AND o.fingerprint = i.fingerprint AND o.id != i.id) AS same,
                 i.qc_status, i.qc_comment, i.qc_reviewer, i.qc_reviewed_at
             FROM interview i
             WHERE {condition} AND (:status IS NULL OR i.qc_status = :status)
                 AND (i.qc_flags != '[]' OR i.qc_status != 'unreviewed' OR EXISTS (
                     SELECT 1 FROM interview o WHERE o.district IS i.district
                         AND o.fingerprint = i.fingerprint AND o.fingerprint != '' AND o.id != i.id))
             ORDER BY i.completed_at DESC, i.id LIMIT :limit"
        )).map_err(db)?;
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

impl PeopleStore for SqliteStorage {
    fn add_person(
        &self,
        person: &Person,
        password_hash: &str,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        self.audited(audit, |added| *added, |conn| {
            let (role, district, populations) = role_columns(&person.role);
            let inserted = conn.execute(
                "INSERT INTO person (id, username, display_name, password_hash, role, district, populations, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (username) DO NOTHING",
                params![
                    person.id.to_string(),
                    person.username,
                    person.display_name,
                    password_hash,
                    role,
                    district,
                    populations,
                    timestamp(person.created_at)
                ],
            ).map_err(db)?;
            Ok(inserted == 1)
        })
    }

    fn person_for_login(&self, username: &str) -> Result<Option<(Person, String)>, StorageError> {
        let row = self
            .conn()
            .query_row(
                &format!("SELECT {PERSON_COLUMNS}, password_hash FROM person WHERE username = ?1 AND disabled_at IS NULL"),
                [username],
                |r| Ok((person_row(r)?, r.get::<_, String>(7)?)),
            )
            .optional().map_err(db)?;
        row.map(|(p, hash)| Ok((person_from(p)?, hash))).transpose()
    }

    fn add_session(
        &self,
        token_hash: &str,
        person: Uuid,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.conn().execute(
            "INSERT INTO session (token_hash, person_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![token_hash, person.to_string(), timestamp(now), timestamp(expires_at)],
        ).map_err(db)?;
        Ok(())
    }

    fn session_person(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Person>, StorageError> {
        let columns = PERSON_COLUMNS
            .split(", ")
            .map(|c| format!("p.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let row = self
            .conn()
            .query_row(
                &format!(
                    "SELECT {columns} FROM session s JOIN person p ON p.id = s.person_id
                     WHERE s.token_hash = ?1 AND s.ended_at IS NULL AND s.expires_at > ?2 AND p.disabled_at IS NULL"
                ),
                params![token_hash, timestamp(now)],
                person_row,
            )
            .optional().map_err(db)?;
        row.map(person_from).transpose()
    }

    fn end_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), StorageError> {
        self.conn()
            .execute(
                "UPDATE session SET ended_at = coalesce(ended_at, ?2) WHERE token_hash = ?1",
                params![token_hash, timestamp(now)],
            )
            .map_err(db)?;
        Ok(())
    }

    fn people(&self) -> Result<Vec<ListedPerson>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {PERSON_COLUMNS}, disabled_at FROM person ORDER BY username"
            ))
            .map_err(db)?;
        let rows = stmt
            .query_map([], |r| Ok((person_row(r)?, r.get::<_, Option<String>>(7)?)))
            .map_err(db)?;
        rows.map(|row| {
            let (p, disabled) = row.map_err(db)?;
            Ok((
                person_from(p)?,
                disabled.as_deref().map(parse_time).transpose()?,
            ))
        })
        .collect()
    }

    fn set_person_disabled(
        &self,
        username: &str,
        disabled_at: Option<DateTime<Utc>>,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        self.audited(
            audit,
            |found| *found,
            |conn| {
                let changed = conn
                    .execute(
                        "UPDATE person SET disabled_at = ?2 WHERE username = ?1",
                        params![username, disabled_at.map(timestamp)],
                    )
                    .map_err(db)?;
                Ok(changed == 1)
            },
        )
    }
}

impl DeviceStore for SqliteStorage {
    fn add_enrolment_code(
        &self,
        code_hash: &str,
        round: &str,
        district: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        self.audited(audit, |_| true, |conn| {
            conn.execute(
                "INSERT INTO enrolment_code (code_hash, round, district, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![code_hash, round, district, timestamp(now), timestamp(expires_at)],
            ).map_err(db)?;
            Ok(())
        })
    }

    fn enrol(
        &self,
        code_hash: &str,
        device_id: Uuid,
        device_name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<Device, EnrolRefusal>, StorageError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let code: Option<(String, String, String, Option<String>)> = tx
            .query_row(
                "SELECT round, district, expires_at, used_at FROM enrolment_code WHERE code_hash = ?1",
                [code_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional().map_err(db)?;
        let Some((round, district, expires_at, used_at)) = code else {
            return Ok(Err(EnrolRefusal::Unknown));
        };
        if used_at.is_some() {
            return Ok(Err(EnrolRefusal::Used));
        }
        if parse_time(&expires_at)? <= now {
            return Ok(Err(EnrolRefusal::Expired));
        }
        tx.execute(
            "UPDATE enrolment_code SET used_at = ?2, device_id = ?3 WHERE code_hash = ?1",
            params![code_hash, timestamp(now), device_id.to_string()],
        )
        .map_err(db)?;
        tx.execute(
            "INSERT INTO device (id, name, round, district, token_hash, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![device_id.to_string(), device_name, round, district, token_hash, timestamp(now)],
        ).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Ok(Device {
            id: device_id,
            name: device_name.to_string(),
            round,
            district,
            enrolled_at: parse_time(&timestamp(now))?,
            revoked_at: None,
            last_seen_at: None,
            pending: None,
        }))
    }

    fn device_for_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Device>, StorageError> {
        let device = self.device_where("token_hash", token_hash)?;
        let stale_before = now - chrono::Duration::seconds(60);
        if let Some(d) = device
            .as_ref()
            .filter(|d| d.last_seen_at.is_none_or(|seen| seen < stale_before))
        {
            // at most one write a minute per device: last-seen is for people, not for audits
            let stale = timestamp(stale_before);
            self.conn().execute(
                "UPDATE device SET last_seen_at = ?2 WHERE id = ?1 AND (last_seen_at IS NULL OR last_seen_at < ?3)",
                params![d.id.to_string(), timestamp(now), stale],
            ).map_err(db)?;
        }
        Ok(device)
    }

    fn revoke_device(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        self.audited(
            audit,
            |found| *found,
            |conn| {
                let changed = conn
                    .execute(
                        "UPDATE device SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
                        params![id.to_string(), timestamp(now)],
                    )
                    .map_err(db)?;
                Ok(changed == 1)
            },
        )
    }

    fn devices(&self) -> Result<Vec<Device>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {DEVICE_COLUMNS} FROM device ORDER BY district, name, id"
            ))
            .map_err(db)?;
        let rows = stmt.query_map([], device_row).map_err(db)?;
        rows.map(|row| device_from(row.map_err(db)?)).collect()
    }

    fn device(&self, id: Uuid) -> Result<Option<Device>, StorageError> {
        self.device_where("id", &id.to_string())
    }

    fn note_pending(&self, device: Uuid, pending: u32) -> Result<(), StorageError> {
        self.conn()
            .execute(
                "UPDATE device SET pending = ?2 WHERE id = ?1",
                params![device.to_string(), pending],
            )
            .map_err(db)?;
        Ok(())
    }
}

impl PlanStore for SqliteStorage {
    fn replace_sites(
        &self,
        district: &str,
        sites: &[zhisu_protocol::Site],
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        self.audited(audit, |_| true, |conn| {
            conn.execute("DELETE FROM site WHERE district = ?1", [district])
                .map_err(db)?;
            for site in sites {
                conn.execute(
                    "INSERT INTO site (id, district, name, site_type, industry, ownership, size, quotas,
                         stratum, weight, latitude, longitude)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    params![
                        site.id,
                        district,
                        site.name,
                        site.site_type,
                        site.industry,
                        site.ownership,
                        site.size,
                        serde_json::to_string(&site.quotas).map_err(corrupt)?,
                        site.stratum,
                        site.weight,
                        site.latitude,
                        site.longitude,
                    ],
                ).map_err(db)?;
            }
            Ok(())
        })
    }

    fn sites(&self, district: &str) -> Result<Vec<zhisu_protocol::Site>, StorageError> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, district, name, site_type, industry, ownership, size, quotas,
                 stratum, weight, latitude, longitude FROM site
             WHERE district = ?1 ORDER BY id",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([district], |r| {
                Ok((
                    zhisu_protocol::Site {
                        id: r.get(0)?,
                        district: r.get(1)?,
                        name: r.get(2)?,
                        site_type: r.get(3)?,
                        industry: r.get(4)?,
                        ownership: r.get(5)?,
                        size: r.get(6)?,
                        quotas: Default::default(),
                        stratum: r.get(8)?,
                        weight: r.get(9)?,
                        latitude: r.get(10)?,
                        longitude: r.get(11)?,
                    },
                    r.get::<_, String>(7)?,
                ))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (mut site, quotas) = row.map_err(db)?;
            site.quotas = serde_json::from_str(&quotas).map_err(corrupt)?;
            Ok(site)
        })
        .collect()
    }

    fn all_sites(&self) -> Result<Vec<zhisu_protocol::Site>, StorageError> {
        let districts: Vec<String> = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare_cached("SELECT DISTINCT district FROM site ORDER BY 1")
                .map_err(db)?;
            let rows = stmt.query_map([], |r| r.get(0)).map_err(db)?;
            rows.collect::<Result<_, _>>().map_err(db)?
        };
        let mut all = Vec::new();
        for d in districts {
            all.extend(self.sites(&d)?);
        }
        Ok(all)
    }

    fn round_settings(
        &self,
        round: &str,
    ) -> Result<Option<zhisu_protocol::RoundSettings>, StorageError> {
        // read beside the writer: every upload asks for its round's settings
        let json: Option<String> = self
            .read()
            .query_row(
                "SELECT settings FROM round_settings WHERE round = ?1",
                [round],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        json.map(|j| serde_json::from_str(&j).map_err(corrupt))
            .transpose()
    }

    fn set_round_settings(
        &self,
        round: &str,
        settings: &zhisu_protocol::RoundSettings,
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        self.audited(
            audit,
            |_| true,
            |conn| {
                conn.execute(
                    "INSERT INTO round_settings (round, settings) VALUES (?1, ?2)
                 ON CONFLICT (round) DO UPDATE SET settings = excluded.settings",
                    params![round, serde_json::to_string(settings).map_err(corrupt)?],
                )
                .map_err(db)?;
                Ok(())
            },
        )
    }

    fn publish_questionnaire(
        &self,
        record: &PublishedRecord,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        self.audited(audit, |kept| *kept, |conn| {
            let inserted = conn.execute(
                "INSERT INTO questionnaire (id, version, round, hash, source, published_at, published_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id, version) DO NOTHING",
                params![
                    record.id,
                    record.version,
                    record.round,
                    record.hash,
                    record.source,
                    timestamp(record.published_at),
                    record.published_by
                ],
            ).map_err(db)?;
            Ok(inserted == 1)
        })
    }

    fn published_questionnaires(&self) -> Result<Vec<PublishedRecord>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, version, round, hash, source, published_at, published_by FROM questionnaire ORDER BY id, version",
        ).map_err(db)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (id, version, round, hash, source, at, by) = row.map_err(db)?;
            Ok(PublishedRecord {
                id,
                version,
                round,
                hash,
                source,
                published_at: parse_time(&at)?,
                published_by: by,
            })
        })
        .collect()
    }
}

impl AnalyticsStore for SqliteStorage {
    fn visit_facts(
        &self,
        scope: &Scope,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(&FactRow<'_>),
    ) -> Result<(), StorageError> {
        let (condition, value) = scope_condition(scope, "i.")?;
        let conn = self.read_connection()?;
        let mut stmt = conn
            .prepare(&format!(
            "SELECT i.questionnaire_version, i.district, i.site_id, i.population, i.industry, i.sex,
                 i.education, i.age, i.has_literacy, i.dimension_literacy, i.items_correct,
                 s.stratum, s.weight
             FROM interview i LEFT JOIN site s ON s.district = i.district AND s.id = i.site_id
             WHERE i.questionnaire_id = :questionnaire AND i.qc_status != 'rejected'
                 AND i.items_correct IS NOT NULL AND {condition}"
        ))
            .map_err(db)?;
        let mut rows = stmt
            .query(rusqlite::named_params! {
                ":questionnaire": questionnaire_id,
                ":scope": value,
            })
            .map_err(db)?;
        fn text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
            match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => Ok(None),
                v => v.as_str().map(Some).map_err(Into::into),
            }
        }
        while let Some(r) = rows.next().map_err(db)? {
            visit(&FactRow {
                questionnaire_version: text(r, 0).map_err(db)?.unwrap_or(""),
                district: text(r, 1).map_err(db)?,
                site_id: text(r, 2).map_err(db)?,
                population: text(r, 3).map_err(db)?,
                industry: text(r, 4).map_err(db)?,
                sex: text(r, 5).map_err(db)?,
                education: text(r, 6).map_err(db)?,
                age: r.get(7).map_err(db)?,
                has_literacy: r.get(8).map_err(db)?,
                dimension_literacy: r.get::<_, Option<i64>>(9).map_err(db)?.unwrap_or(0),
                items_correct: text(r, 10).map_err(db)?.unwrap_or(""),
                stratum: text(r, 11).map_err(db)?,
                weight: r.get(12).map_err(db)?,
            });
        }
        Ok(())
    }

    fn visit_cells(
        &self,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(&CellRow<'_>),
    ) -> Result<(), StorageError> {
        let conn = self.read_connection()?;
        let mut stmt = conn
            .prepare(
                "SELECT c.district, c.site_id, c.population, c.breakdown, c.key, c.n, c.successes,
                 s.stratum, s.weight
             FROM literacy_cell c LEFT JOIN site s ON s.district = c.district AND s.id = c.site_id
             WHERE c.questionnaire_id = ?1 AND c.n > 0",
            )
            .map_err(db)?;
        let mut rows = stmt.query([questionnaire_id]).map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            let text =
                |i: usize| -> rusqlite::Result<&str> { r.get_ref(i)?.as_str().map_err(Into::into) };
            visit(&CellRow {
                district: zhisu_server_storage::cells::none_if_empty(text(0).map_err(db)?),
                site_id: zhisu_server_storage::cells::none_if_empty(text(1).map_err(db)?),
                population: zhisu_server_storage::cells::none_if_empty(text(2).map_err(db)?),
                breakdown: text(3).map_err(db)?,
                key: text(4).map_err(db)?,
                n: r.get::<_, i64>(5).map_err(db)?.max(0) as u64,
                successes: r.get::<_, i64>(6).map_err(db)?.max(0) as u64,
                stratum: match r.get_ref(7).map_err(db)? {
                    rusqlite::types::ValueRef::Null => None,
                    v => Some(v.as_str().map_err(rusqlite::Error::from).map_err(db)?),
                },
                weight: r.get(8).map_err(db)?,
            });
        }
        Ok(())
    }

    fn rebuild_cells(&self, audit: &AuditEntry) -> Result<(), StorageError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        rebuild_cells(&tx)?;
        insert_audit(&tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(())
    }

    fn progress(&self, scope: &Scope) -> Result<Vec<ProgressCell>, StorageError> {
        let (condition, value) = scope_condition(scope, "")?;
        let conn = self.read_connection()?;
        let mut stmt = conn
            .prepare(&format!(
                "SELECT district, site_id, population, day, n FROM progress_cell
             WHERE n > 0 AND {condition} ORDER BY 1, 2, 3, 4"
            ))
            .map_err(db)?;
        let none = |s: String| (!s.is_empty()).then_some(s);
        let rows = stmt
            .query_map(rusqlite::named_params! { ":scope": value }, |r| {
                Ok(ProgressCell {
                    district: none(r.get(0)?),
                    site_id: none(r.get(1)?),
                    population: none(r.get(2)?),
                    day: r.get(3)?,
                    count: r.get::<_, i64>(4)? as u64,
                })
            })
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
    }
}

impl AuditStore for SqliteStorage {
    fn record_audit(&self, entry: &AuditEntry) -> Result<(), StorageError> {
        insert_audit(&self.conn(), entry)
    }

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT at, actor, action, detail FROM audit_log ORDER BY seq DESC LIMIT ?1",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (at, actor, action, detail) = row.map_err(db)?;
            Ok(AuditEntry {
                at: parse_time(&at)?,
                actor,
                action,
                detail,
            })
        })
        .collect()
    }
}

impl SqliteStorage {
    fn device_where(&self, condition: &str, value: &str) -> Result<Option<Device>, StorageError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let row = conn
            .query_row(
                &format!("SELECT {DEVICE_COLUMNS} FROM device WHERE {condition} = ?1"),
                [value],
                device_row,
            )
            .optional()
            .map_err(db)?;
        row.map(device_from).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_schema ORDER BY type, name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn every_historic_version_migrates_to_the_fresh_schema() {
        let dir = tempfile::tempdir().unwrap();
        let fresh_path = dir.path().join("fresh.sqlite3");
        SqliteStorage::open(&fresh_path).unwrap();
        let fresh = schema(&Connection::open(&fresh_path).unwrap());
        for start in 0..=MIGRATIONS.len() {
            let path = dir.path().join(format!("from-{start}.sqlite3"));
            {
                let conn = Connection::open(&path).unwrap();
                for (i, sql) in MIGRATIONS.iter().enumerate().take(start) {
                    conn.execute_batch(sql).unwrap();
                    conn.pragma_update(None, "user_version", (i + 1) as i64)
                        .unwrap();
                }
                if start >= 1 {
                    // a row written by that version must survive the later ones
                    conn.execute(
                        "INSERT INTO interview (id, questionnaire_id, questionnaire_version, content_hash, started_at,
                             completed_at, utc_offset_minutes, received_at, payload, score, max_score, has_literacy, score_report)
                         VALUES ('x', 'q', '1', 'h', '2026-11-28T23:50:00.000Z',
                             '2026-11-29T00:10:00.000Z', 480, '2026-11-29T00:11:00.000Z', '{}', 1, 2,
                             0, '{}')",
                        [],
                    )
                    .unwrap();
                }
            }
            let storage = SqliteStorage::open(&path).unwrap();
            assert_eq!(storage.schema_version().unwrap(), MIGRATIONS.len());
            let conn = storage.conn();
            assert_eq!(schema(&conn), fresh, "from version {start}");
            let rows: i64 = conn
                .query_row("SELECT count(*) FROM interview", [], |r| r.get(0))
                .unwrap();
            assert_eq!(rows, i64::from(start >= 1), "from version {start}");
            drop(conn);
            // the migration that added the cells counted it (on the local day, UTC+8)
            let progress = storage.progress(&Scope::All).unwrap();
            if (1..CELLS_SCHEMA).contains(&start) {
                assert_eq!(progress.len(), 1, "from version {start}");
                assert_eq!(
                    (progress[0].day.as_str(), progress[0].count),
                    ("2026-11-29", 1)
                );
            }
        }
    }
}
