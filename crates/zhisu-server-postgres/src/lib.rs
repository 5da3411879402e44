//! PostgreSQL backend: a small connection pool (r2d2) of synchronous clients.

use chrono::{DateTime, Utc};
use postgres::{Client, NoTls};
use r2d2_postgres::PostgresConnectionManager;
use uuid::Uuid;
use zhisu_server_storage::zhisu_protocol::{self, Receipt, ReceiptStatus};

use zhisu_server_storage::cells::{CellChanges, CellRow, Counted};
use zhisu_server_storage::rows::{corrupt, lock_order, receipt, role_columns, role_from};
use zhisu_server_storage::{
    Accepted, AnalyticsStore, AuditEntry, AuditStore, Device, DeviceStore, EnrolRefusal, FactRow,
    Facts, InterviewStore, ListedPerson, PeopleStore, Person, PlanStore, ProgressCell,
    PublishedRecord, QcEntry, QcStatus, Review, Scope, Storage, StorageError, StoredInterview,
};

const PERSON_COLUMNS: &str =
    "p.id, p.username, p.display_name, p.role, p.district, p.populations::text, p.created_at";

fn person_from(row: &postgres::Row) -> Result<Person, StorageError> {
    let populations: String = row.get(5);
    Ok(Person {
        id: row.get(0),
        username: row.get(1),
        display_name: row.get(2),
        role: role_from(&row.get::<_, String>(3), row.get(4), &populations)?,
        created_at: row.get(6),
    })
}

const DEVICE_COLUMNS: &str =
    "id, name, round, district, enrolled_at, revoked_at, last_seen_at, pending";

fn device_from(row: &postgres::Row) -> Device {
    Device {
        id: row.get(0),
        name: row.get(1),
        round: row.get(2),
        district: row.get(3),
        enrolled_at: row.get(4),
        revoked_at: row.get(5),
        last_seen_at: row.get(6),
        pending: row.get::<_, Option<i32>>(7).map(|p| p.max(0) as u32),
    }
}

/// The backend's name in errors and logs.
const BACKEND: &str = "PostgreSQL";

/// A driver error as the storage reports it.
fn db(e: postgres::Error) -> StorageError {
    StorageError::Database {
        backend: BACKEND,
        source: Box::new(e),
    }
}

/// No connection from the pool.
fn unavailable(e: r2d2::Error) -> StorageError {
    StorageError::Unavailable {
        backend: BACKEND,
        source: Box::new(e),
    }
}

/// Append-only: migration `i` takes the version in `zhisu_schema` from `i` to `i + 1`.
/// Public so the migration test can replay history; never edit a shipped entry.
pub const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE interview (
        id                    UUID PRIMARY KEY,
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        content_hash          TEXT NOT NULL,
        started_at            TIMESTAMPTZ NOT NULL,
        completed_at          TIMESTAMPTZ NOT NULL,
        utc_offset_minutes    INTEGER NOT NULL,
        received_at           TIMESTAMPTZ NOT NULL,
        payload               JSONB NOT NULL,
        score                 INTEGER NOT NULL,
        max_score             INTEGER NOT NULL,
        has_literacy          BOOLEAN NOT NULL,
        score_report          JSONB NOT NULL
    );
    CREATE INDEX interview_questionnaire ON interview (questionnaire_id, questionnaire_version);
    CREATE INDEX interview_received ON interview (received_at, id);
    "#,
    // 2: devices and their enrolment, sites and quotas, the audit log; which device sent what.
    r#"
    ALTER TABLE interview ADD COLUMN device_id UUID;
    CREATE TABLE enrolment_code (
        code_hash  TEXT PRIMARY KEY,
        round      TEXT NOT NULL,
        district   TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        used_at    TIMESTAMPTZ,
        device_id  UUID
    );
    CREATE TABLE device (
        id           UUID PRIMARY KEY,
        name         TEXT NOT NULL,
        round        TEXT NOT NULL,
        district     TEXT NOT NULL,
        token_hash   TEXT NOT NULL UNIQUE,
        enrolled_at  TIMESTAMPTZ NOT NULL,
        revoked_at   TIMESTAMPTZ,
        last_seen_at TIMESTAMPTZ
    );
    CREATE TABLE site (
        id        TEXT PRIMARY KEY,
        district  TEXT NOT NULL,
        name      TEXT NOT NULL,
        site_type TEXT NOT NULL,
        industry  TEXT,
        ownership TEXT,
        size      TEXT,
        quotas    JSONB NOT NULL
    );
    CREATE INDEX site_district ON site (district, id);
    CREATE TABLE audit_log (
        seq    BIGSERIAL PRIMARY KEY,
        at     TIMESTAMPTZ NOT NULL,
        actor  TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    "#,
    // 3: people, roles and sessions; interviews keep their district and population for scoping.
    r#"
    ALTER TABLE interview ADD COLUMN district TEXT;
    ALTER TABLE interview ADD COLUMN population TEXT;
    CREATE INDEX interview_district ON interview (district, received_at);
    CREATE INDEX interview_population ON interview (population, received_at);
    CREATE TABLE person (
        id            UUID PRIMARY KEY,
        username      TEXT NOT NULL UNIQUE,
        display_name  TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        role          TEXT NOT NULL,
        district      TEXT,
        populations   JSONB NOT NULL,
        created_at    TIMESTAMPTZ NOT NULL,
        disabled_at   TIMESTAMPTZ
    );
    CREATE TABLE session (
        token_hash TEXT PRIMARY KEY,
        person_id  UUID NOT NULL REFERENCES person (id),
        created_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        ended_at   TIMESTAMPTZ
    );
    "#,
    // 4: a site's id is unique within its district, not across the city.
    r#"
    ALTER TABLE site DROP CONSTRAINT site_pkey;
    ALTER TABLE site ADD PRIMARY KEY (district, id);
    DROP INDEX site_district;
    "#,
    // 5: questionnaire versions published for a round.
    r#"
    CREATE TABLE questionnaire (
        id           TEXT NOT NULL,
        version      TEXT NOT NULL,
        round        TEXT NOT NULL,
        hash         TEXT NOT NULL,
        source       TEXT NOT NULL,
        published_at TIMESTAMPTZ NOT NULL,
        published_by TEXT NOT NULL,
        PRIMARY KEY (id, version)
    );
    "#,
    // 6: the verbatim payload and the (slimmer) score report as `json`, which stores the text
    // as given (the server only reads them back whole; `jsonb` parsed and re-encoded every row);
    // the facts the dashboard reads as plain columns; quality-control review; sample-plan fields
    // of a site. Rows stored before get their facts when the server next starts.
    r#"
    ALTER TABLE interview ALTER COLUMN payload TYPE json USING payload::json;
    ALTER TABLE interview ALTER COLUMN score_report TYPE json USING score_report::json;
    ALTER TABLE interview
        ADD COLUMN site_id TEXT,
        ADD COLUMN surveyor_id TEXT,
        ADD COLUMN sex TEXT,
        ADD COLUMN age INTEGER,
        ADD COLUMN education TEXT,
        ADD COLUMN industry TEXT,
        ADD COLUMN dimension_literacy INTEGER,
        ADD COLUMN items_correct TEXT,
        ADD COLUMN duration_s INTEGER,
        ADD COLUMN fingerprint TEXT,
        ADD COLUMN qc_flags JSONB NOT NULL DEFAULT '[]',
        ADD COLUMN qc_status TEXT NOT NULL DEFAULT 'unreviewed',
        ADD COLUMN qc_comment TEXT,
        ADD COLUMN qc_reviewer TEXT,
        ADD COLUMN qc_reviewed_at TIMESTAMPTZ;
    CREATE INDEX interview_qc ON interview (qc_status, district);
    CREATE INDEX interview_device ON interview (device_id, qc_status);
    CREATE INDEX interview_fingerprint ON interview (district, fingerprint);
    ALTER TABLE site
        ADD COLUMN stratum TEXT,
        ADD COLUMN weight DOUBLE PRECISION,
        ADD COLUMN latitude DOUBLE PRECISION,
        ADD COLUMN longitude DOUBLE PRECISION;
    ALTER TABLE device ADD COLUMN pending INTEGER;
    CREATE TABLE round_settings (
        round    TEXT PRIMARY KEY,
        settings JSONB NOT NULL
    );
    "#,
    // 7: literacy cells (crate::cells): counts per questionnaire, district, site, population and
    // breakdown key, and progress cells per district, site, population and day, kept with every
    // write that changes what the analyses count. Filled from the stored interviews right after
    // this migration (`PostgresStorage::migrate`).
    r#"
    CREATE TABLE literacy_cell (
        questionnaire_id TEXT NOT NULL,
        district         TEXT NOT NULL,
        site_id          TEXT NOT NULL,
        population       TEXT NOT NULL,
        breakdown        TEXT NOT NULL,
        key              TEXT NOT NULL,
        n                BIGINT NOT NULL,
        successes        BIGINT NOT NULL,
        PRIMARY KEY (questionnaire_id, district, site_id, population, breakdown, key)
    );
    CREATE TABLE progress_cell (
        district   TEXT NOT NULL,
        site_id    TEXT NOT NULL,
        population TEXT NOT NULL,
        day        TEXT NOT NULL,
        n          BIGINT NOT NULL,
        PRIMARY KEY (district, site_id, population, day)
    );
    "#,
];

/// The parameter of a scope condition.
enum ScopeValue {
    None,
    One(String),
    Many(Vec<String>),
}

impl ScopeValue {
    fn params(&self) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
        match self {
            ScopeValue::None => vec![],
            ScopeValue::One(v) => vec![v],
            ScopeValue::Many(v) => vec![v],
        }
    }
}

/// The SQL condition (on interview columns, prefixed `prefix`) for what `scope` may read; its
/// parameter, when it has one, is `$n`.
fn scope_condition(scope: &Scope, prefix: &str, n: usize) -> (String, ScopeValue) {
    match scope {
        Scope::All => ("TRUE".to_string(), ScopeValue::None),
        Scope::District(d) => (
            format!("{prefix}district = ${n}"),
            ScopeValue::One(d.clone()),
        ),
        Scope::Populations(p) => (
            format!("{prefix}population = ANY(${n})"),
            ScopeValue::Many(p.clone()),
        ),
    }
}

/// The schema version that added the literacy cells.
const CELLS_SCHEMA: usize = 7;

/// The columns of an interview the cells count (`zhisu_server_storage::cells::Counted`), in that order, and
/// which interviews they count: those not rejected (the literacy cells only those among them
/// with their facts, as `visit_facts`).
const COUNTED_COLUMNS: &str = "questionnaire_id, district, site_id, population, industry, sex,
    education, age, has_literacy, dimension_literacy, completed_at, utc_offset_minutes,
    items_correct IS NOT NULL";
const COUNTED_CONDITION: &str = "qc_status <> 'rejected'";

fn counted_from(r: &postgres::Row) -> Counted {
    Counted {
        day: zhisu_server_storage::cells::local_day(r.get(10), r.get(11)),
        has_facts: r.get(12),
        questionnaire_id: r.get(0),
        district: r.get(1),
        site_id: r.get(2),
        population: r.get(3),
        industry: r.get(4),
        sex: r.get(5),
        education: r.get(6),
        age: r.get::<_, Option<i32>>(7).map(i64::from),
        has_literacy: r.get(8),
        dimension_literacy: r.get::<_, Option<i32>>(9).map_or(0, i64::from),
    }
}

/// What the cells count of one interview: `None` when they do not count it. The row is locked
/// until the transaction ends whether or not it is counted (a rejected one too), so two
/// decisions on one interview are read and applied one after the other, never both from the
/// same "before".
fn counted_interview(
    tx: &mut postgres::Transaction<'_>,
    id: Uuid,
) -> Result<Option<Counted>, StorageError> {
    let row = tx
        .query_opt(
            &format!(
                "SELECT {COUNTED_COLUMNS}, {COUNTED_CONDITION} FROM interview WHERE id = $1
             FOR UPDATE"
            ),
            &[&id],
        )
        .map_err(db)?;
    Ok(row
        .filter(|r| r.get::<_, bool>(13))
        .as_ref()
        .map(counted_from))
}

/// Applies the changes with one multi-row upsert, in key order (concurrent batches lock the
/// cells in the same order, so they wait for each other but cannot deadlock).
fn apply_cells(
    tx: &mut postgres::Transaction<'_>,
    changes: &CellChanges,
) -> Result<(), StorageError> {
    let mut columns: [Vec<&str>; 6] = Default::default();
    let (mut n, mut successes) = (Vec::new(), Vec::new());
    for (k, dn, ds) in changes.iter() {
        for (column, value) in columns.iter_mut().zip([
            k.questionnaire_id,
            k.district,
            k.site_id,
            k.population,
            k.breakdown,
            k.key,
        ]) {
            column.push(value);
        }
        n.push(dn);
        successes.push(ds);
    }
    let mut progress: [Vec<&str>; 4] = Default::default();
    let mut progress_n = Vec::new();
    for (k, dn) in changes.progress() {
        for (column, value) in progress
            .iter_mut()
            .zip([k.district, k.site_id, k.population, k.day])
        {
            column.push(value);
        }
        progress_n.push(dn);
    }
    if progress_n.is_empty() && n.is_empty() {
        return Ok(());
    }
    // one statement, one round trip: progress cells first, then literacy cells, each in key
    // order (every writer takes them in this order)
    let [pd, psite, pp, pday] = &progress;
    let [q, d, site, p, b, key] = &columns;
    tx.execute(
        "WITH progress AS (
             INSERT INTO progress_cell (district, site_id, population, day, n)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[])
             ON CONFLICT (district, site_id, population, day)
             DO UPDATE SET n = progress_cell.n + excluded.n
         )
         INSERT INTO literacy_cell (questionnaire_id, district, site_id, population, breakdown, key,
             n, successes)
         SELECT * FROM unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
             $11::text[], $12::int8[], $13::int8[])
         ON CONFLICT (questionnaire_id, district, site_id, population, breakdown, key)
         DO UPDATE SET n = literacy_cell.n + excluded.n,
             successes = literacy_cell.successes + excluded.successes",
        &[
            pd,
            psite,
            pp,
            pday,
            &progress_n,
            q,
            d,
            site,
            p,
            b,
            key,
            &n,
            &successes,
        ],
    )
    .map_err(db)?;
    Ok(())
}

/// Counts every interview the cells count again, replacing what the cells held.
/// Writes an audit entry with the client (or transaction) of the action it records.
fn insert_audit(
    client: &mut impl postgres::GenericClient,
    entry: &AuditEntry,
) -> Result<(), StorageError> {
    client
        .execute(
            "INSERT INTO audit_log (at, actor, action, detail) VALUES ($1, $2, $3, $4)",
            &[&entry.at, &entry.actor, &entry.action, &entry.detail],
        )
        .map_err(db)?;
    Ok(())
}

fn rebuild_cells(tx: &mut postgres::Transaction<'_>) -> Result<(), StorageError> {
    // in the order every writer takes them (`apply_cells`: progress, then literacy)
    tx.batch_execute("LOCK TABLE progress_cell, literacy_cell IN EXCLUSIVE MODE")
        .map_err(db)?;
    let mut changes = CellChanges::new();
    {
        let mut rows = tx
            .query_raw(
                &format!("SELECT {COUNTED_COLUMNS} FROM interview WHERE {COUNTED_CONDITION}"),
                std::iter::empty::<&str>(),
            )
            .map_err(db)?;
        use postgres::fallible_iterator::FallibleIterator;
        while let Some(r) = rows.next().map_err(db)? {
            changes.add(&counted_from(&r), 1);
        }
    }
    tx.batch_execute("DELETE FROM literacy_cell; DELETE FROM progress_cell;")
        .map_err(db)?;
    apply_cells(tx, &changes)
}

/// One batch as column arrays, for `unnest`.
#[derive(Default)]
struct BatchColumns {
    id: Vec<Uuid>,
    questionnaire_id: Vec<String>,
    questionnaire_version: Vec<String>,
    content_hash: Vec<String>,
    started_at: Vec<DateTime<Utc>>,
    completed_at: Vec<DateTime<Utc>>,
    utc_offset: Vec<i32>,
    payload: Vec<String>,
    score: Vec<i32>,
    max_score: Vec<i32>,
    has_literacy: Vec<bool>,
    score_report: Vec<String>,
    population: Vec<Option<String>>,
    site_id: Vec<Option<String>>,
    surveyor_id: Vec<Option<String>>,
    sex: Vec<Option<String>>,
    age: Vec<Option<i32>>,
    education: Vec<Option<String>>,
    industry: Vec<Option<String>>,
    dimension_literacy: Vec<i32>,
    items_correct: Vec<String>,
    duration_s: Vec<i32>,
    fingerprint: Vec<String>,
    qc_flags: Vec<String>,
}

impl BatchColumns {
    fn with_capacity(_n: usize) -> Self {
        Self::default()
    }

    fn push(&mut self, a: &Accepted) -> Result<(), StorageError> {
        let (i, f) = (&a.interview, &a.facts);
        let small = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
        self.id.push(i.id);
        self.questionnaire_id.push(i.questionnaire_id.clone());
        self.questionnaire_version
            .push(i.questionnaire_version.clone());
        self.content_hash.push(i.content_hash.clone());
        self.started_at.push(i.started_at);
        self.completed_at.push(i.completed_at);
        self.utc_offset.push(i.utc_offset_minutes);
        self.payload
            .push(serde_json::to_string(i).map_err(corrupt)?);
        self.score.push(small(a.score.score.into()));
        self.max_score.push(small(a.score.max.into()));
        self.has_literacy.push(a.score.has_literacy);
        self.score_report
            .push(zhisu_server_storage::facts::stored_score_report(&a.score));
        self.population.push(f.population.clone());
        self.site_id.push(i.site_id.clone());
        self.surveyor_id.push(i.surveyor_id.clone());
        self.sex.push(f.sex.clone());
        self.age.push(f.age.map(small));
        self.education.push(f.education.clone());
        self.industry.push(f.industry.clone());
        self.dimension_literacy.push(small(f.dimension_literacy));
        self.items_correct.push(f.items_correct.clone());
        self.duration_s.push(small(f.duration_s));
        self.fingerprint.push(f.fingerprint.clone());
        self.qc_flags.push(f.qc_flags_json());
        Ok(())
    }
}

pub struct PostgresStorage {
    pool: r2d2::Pool<PostgresConnectionManager<NoTls>>,
}

impl PostgresStorage {
    /// Connects to `url` (`postgres://user@host:port/db`) and brings the schema up to date.
    /// Concurrent starts are safe: migrations run under an advisory lock.
    pub fn open(url: &str, pool_size: u32) -> Result<Self, StorageError> {
        let config: postgres::Config = url.parse().map_err(db)?;
        let manager = PostgresConnectionManager::new(config, NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(manager)
            .map_err(unavailable)?;
        Self::migrate(&mut *pool.get().map_err(unavailable)?)?;
        Ok(PostgresStorage { pool })
    }

    fn migrate(client: &mut Client) -> Result<(), StorageError> {
        let mut tx = client.transaction().map_err(db)?;
        tx.execute("SELECT pg_advisory_xact_lock(8470)", &[])
            .map_err(db)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS zhisu_schema (version INTEGER NOT NULL);
             INSERT INTO zhisu_schema (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM zhisu_schema);",
        ).map_err(db)?;
        let found: i32 = tx
            .query_one("SELECT version FROM zhisu_schema", &[])
            .map_err(db)?
            .get(0);
        let found = found as usize;
        if found > MIGRATIONS.len() {
            return Err(StorageError::NewerSchema {
                found,
                supported: MIGRATIONS.len(),
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(found) {
            tx.batch_execute(sql).map_err(db)?;
            if index + 1 == CELLS_SCHEMA {
                rebuild_cells(&mut tx)?;
            }
            tx.execute(
                "UPDATE zhisu_schema SET version = $1",
                &[&((index + 1) as i32)],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)?;
        Ok(())
    }
}

impl PostgresStorage {
    /// Runs an administrative `action` in one transaction with its audit entry, which is
    /// written only when `done` says the action changed something: the log and the data
    /// cannot disagree, whatever fails.
    fn audited<T>(
        &self,
        audit: &AuditEntry,
        done: impl Fn(&T) -> bool,
        action: impl FnOnce(&mut postgres::Transaction<'_>) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        let outcome = action(&mut tx)?;
        if done(&outcome) {
            insert_audit(&mut tx, audit)?;
        }
        tx.commit().map_err(db)?;
        Ok(outcome)
    }
}

impl Storage for PostgresStorage {
    fn backend(&self) -> &'static str {
        "postgresql"
    }

    fn schema_version(&self) -> Result<usize, StorageError> {
        let version: i32 = self
            .pool
            .get()
            .map_err(unavailable)?
            .query_one("SELECT version FROM zhisu_schema", &[])
            .map_err(db)?
            .get(0);
        Ok(version as usize)
    }
}

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
        let district = device.map(|d| d.district.as_str());
        let mut cells = CellChanges::new();
        for &index in &order {
            cells.add(&Counted::of(&accepted[index], district), 1);
        }
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        let inserted: std::collections::HashSet<Uuid> = tx
            .query(
                "INSERT INTO interview (id, questionnaire_id, questionnaire_version, content_hash, started_at,
                     completed_at, utc_offset_minutes, received_at, payload, score, max_score, has_literacy,
                     score_report, device_id, district, population, site_id, surveyor_id, sex, age, education,
                     industry, dimension_literacy, items_correct, duration_s, fingerprint, qc_flags)
                 SELECT id, qid, qversion, hash, started, completed, utc_offset, $23, payload::json, score, max_score,
                     literacy, report::json, $24, $25, population, site, surveyor, sex, age, education,
                     industry, dimensions, items, duration, fingerprint, flags::jsonb
                 FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                     $6::timestamptz[], $7::int4[], $8::text[], $9::int4[], $10::int4[], $11::bool[],
                     $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::int4[],
                     $18::text[], $19::text[], $20::int4[], $21::text[], $22::int4[], $26::text[], $27::text[])
                     WITH ORDINALITY AS t(id, qid, qversion, hash, started, completed, utc_offset, payload,
                     score, max_score, literacy, report, population, site, surveyor, sex, age, education,
                     industry, dimensions, items, duration, fingerprint, flags, ord)
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
                cells.add(&Counted::of(a, district), -1);
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
        let mut client = self.pool.get().map_err(unavailable)?;
        let select =
            "SELECT payload::text, received_at, score_report::text, district, population, qc_status FROM interview";
        let rows = match scope {
            Scope::All => client
                .query(&format!("{select} ORDER BY received_at, id"), &[])
                .map_err(db)?,
            Scope::District(d) => client
                .query(
                    &format!("{select} WHERE district = $1 ORDER BY received_at, id"),
                    &[d],
                )
                .map_err(db)?,
            Scope::Populations(p) => client
                .query(
                    &format!("{select} WHERE population = ANY($1) ORDER BY received_at, id"),
                    &[p],
                )
                .map_err(db)?,
        };
        rows.iter()
            .map(|row| {
                Ok(StoredInterview {
                    interview: serde_json::from_str(row.get(0)).map_err(corrupt)?,
                    received_at: row.get(1),
                    score: serde_json::from_str(row.get(2)).map_err(corrupt)?,
                    district: row.get(3),
                    population: row.get(4),
                    qc_status: row.get(5),
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
        let rows = self.pool.get().map_err(unavailable)?.query(
            "SELECT payload::text FROM interview WHERE items_correct IS NULL ORDER BY id LIMIT $1",
            &[&(limit as i64)],
        ).map_err(db)?;
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
                 qc_flags = $11::text::jsonb,
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

    fn qc_queue(
        &self,
        scope: &Scope,
        status: Option<QcStatus>,
        limit: usize,
    ) -> Result<Vec<QcEntry>, StorageError> {
        let (condition, value) = scope_condition(scope, "i.", 3);
        let sql = format!(
            "SELECT i.id, i.questionnaire_id, i.district, i.site_id, i.surveyor_id, i.device_id,
                 i.population, i.completed_at, i.duration_s, i.qc_flags::text,
                 (SELECT count(*) FROM interview o WHERE o.district IS NOT DISTINCT FROM i.district
                     AND o.fingerprint = i.fingerprint AND o.id <> i.id) AS same,
                 i.qc_status, i.qc_comment, i.qc_reviewer, i.qc_reviewed_at
             FROM interview i
             WHERE {condition} AND ($1::text IS NULL OR i.qc_status = $1)
                 AND (i.qc_flags <> '[]'::jsonb OR i.qc_status <> 'unreviewed' OR EXISTS (
                     SELECT 1 FROM interview o WHERE o.district IS NOT DISTINCT FROM i.district
                         AND o.fingerprint = i.fingerprint AND o.fingerprint <> '' AND o.id <> i.id))
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

impl PeopleStore for PostgresStorage {
    fn add_person(
        &self,
        person: &Person,
        password_hash: &str,
        audit: &AuditEntry,
    ) -> Result<bool, StorageError> {
        self.audited(audit, |added| *added, |tx| {
            let (role, district, populations) = role_columns(&person.role);
            let populations: serde_json::Value = serde_json::from_str(&populations).map_err(corrupt)?;
            let inserted = tx.execute(
                "INSERT INTO person (id, username, display_name, password_hash, role, district, populations, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (username) DO NOTHING",
                &[
                    &person.id,
                    &person.username,
                    &person.display_name,
                    &password_hash,
                    &role,
                    &district,
                    &populations,
                    &person.created_at,
                ],
            ).map_err(db)?;
            Ok(inserted == 1)
        })
    }

    fn person_for_login(&self, username: &str) -> Result<Option<(Person, String)>, StorageError> {
        let row = self.pool.get().map_err(unavailable)?.query_opt(
            &format!("SELECT {PERSON_COLUMNS}, p.password_hash FROM person p WHERE p.username = $1 AND p.disabled_at IS NULL"),
            &[&username],
        ).map_err(db)?;
        row.map(|r| Ok((person_from(&r)?, r.get(7)))).transpose()
    }

    fn add_session(
        &self,
        token_hash: &str,
        person: Uuid,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.pool.get().map_err(unavailable)?.execute(
            "INSERT INTO session (token_hash, person_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            &[&token_hash, &person, &now, &expires_at],
        ).map_err(db)?;
        Ok(())
    }

    fn session_person(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Person>, StorageError> {
        let row = self.pool.get().map_err(unavailable)?.query_opt(
            &format!(
                "SELECT {PERSON_COLUMNS} FROM session s JOIN person p ON p.id = s.person_id
                 WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND p.disabled_at IS NULL"
            ),
            &[&token_hash, &now],
        ).map_err(db)?;
        row.map(|r| person_from(&r)).transpose()
    }

    fn end_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), StorageError> {
        self.pool
            .get()
            .map_err(unavailable)?
            .execute(
                "UPDATE session SET ended_at = coalesce(ended_at, $2) WHERE token_hash = $1",
                &[&token_hash, &now],
            )
            .map_err(db)?;
        Ok(())
    }

    fn people(&self) -> Result<Vec<ListedPerson>, StorageError> {
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                &format!(
                    "SELECT {PERSON_COLUMNS}, p.disabled_at FROM person p ORDER BY p.username"
                ),
                &[],
            )
            .map_err(db)?;
        rows.iter()
            .map(|r| Ok((person_from(r)?, r.get(7))))
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
            |tx| {
                let changed = tx
                    .execute(
                        "UPDATE person SET disabled_at = $2 WHERE username = $1",
                        &[&username, &disabled_at],
                    )
                    .map_err(db)?;
                Ok(changed == 1)
            },
        )
    }
}

impl DeviceStore for PostgresStorage {
    fn add_enrolment_code(
        &self,
        code_hash: &str,
        round: &str,
        district: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        self.audited(audit, |_| true, |tx| {
            tx.execute(
                "INSERT INTO enrolment_code (code_hash, round, district, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                &[&code_hash, &round, &district, &now, &expires_at],
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
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        let Some(code) = tx.query_opt(
            "SELECT round, district, expires_at, used_at FROM enrolment_code WHERE code_hash = $1 FOR UPDATE",
            &[&code_hash],
        ).map_err(db)?
        else {
            return Ok(Err(EnrolRefusal::Unknown));
        };
        let (round, district): (String, String) = (code.get(0), code.get(1));
        let expires_at: DateTime<Utc> = code.get(2);
        let used_at: Option<DateTime<Utc>> = code.get(3);
        if used_at.is_some() {
            return Ok(Err(EnrolRefusal::Used));
        }
        if expires_at <= now {
            return Ok(Err(EnrolRefusal::Expired));
        }
        tx.execute(
            "UPDATE enrolment_code SET used_at = $2, device_id = $3 WHERE code_hash = $1",
            &[&code_hash, &now, &device_id],
        )
        .map_err(db)?;
        let row = tx.query_one(
            &format!(
                "INSERT INTO device (id, name, round, district, token_hash, enrolled_at) VALUES ($1, $2, $3, $4, $5, $6)
                 RETURNING {DEVICE_COLUMNS}"
            ),
            &[&device_id, &device_name, &round, &district, &token_hash, &now],
        ).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Ok(device_from(&row)))
    }

    fn device_for_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Device>, StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let Some(row) = client
            .query_opt(
                &format!("SELECT {DEVICE_COLUMNS} FROM device WHERE token_hash = $1"),
                &[&token_hash],
            )
            .map_err(db)?
        else {
            return Ok(None);
        };
        let device = device_from(&row);
        let stale = now - chrono::Duration::seconds(60);
        client.execute(
            "UPDATE device SET last_seen_at = $2 WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at < $3)",
            &[&device.id, &now, &stale],
        ).map_err(db)?;
        Ok(Some(device))
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
            |tx| {
                let n = tx
                    .execute(
                        "UPDATE device SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1",
                        &[&id, &now],
                    )
                    .map_err(db)?;
                Ok(n == 1)
            },
        )
    }

    fn devices(&self) -> Result<Vec<Device>, StorageError> {
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                &format!("SELECT {DEVICE_COLUMNS} FROM device ORDER BY district, name, id"),
                &[],
            )
            .map_err(db)?;
        Ok(rows.iter().map(device_from).collect())
    }

    fn device(&self, id: Uuid) -> Result<Option<Device>, StorageError> {
        let row = self
            .pool
            .get()
            .map_err(unavailable)?
            .query_opt(
                &format!("SELECT {DEVICE_COLUMNS} FROM device WHERE id = $1"),
                &[&id],
            )
            .map_err(db)?;
        Ok(row.as_ref().map(device_from))
    }

    fn note_pending(&self, device: Uuid, pending: u32) -> Result<(), StorageError> {
        self.pool
            .get()
            .map_err(unavailable)?
            .execute(
                "UPDATE device SET pending = $2 WHERE id = $1",
                &[&device, &(pending as i32)],
            )
            .map_err(db)?;
        Ok(())
    }
}

impl PlanStore for PostgresStorage {
    fn replace_sites(
        &self,
        district: &str,
        sites: &[zhisu_protocol::Site],
        audit: &AuditEntry,
    ) -> Result<(), StorageError> {
        self.audited(audit, |_| true, |tx| {
            tx.execute("DELETE FROM site WHERE district = $1", &[&district])
                .map_err(db)?;
            for site in sites {
                let quotas = serde_json::to_value(&site.quotas).map_err(corrupt)?;
                tx.execute(
                    "INSERT INTO site (id, district, name, site_type, industry, ownership, size, quotas,
                         stratum, weight, latitude, longitude)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    &[
                        &site.id,
                        &district,
                        &site.name,
                        &site.site_type,
                        &site.industry,
                        &site.ownership,
                        &site.size,
                        &quotas,
                        &site.stratum,
                        &site.weight,
                        &site.latitude,
                        &site.longitude,
                    ],
                ).map_err(db)?;
            }
            Ok(())
        })
    }

    fn sites(&self, district: &str) -> Result<Vec<zhisu_protocol::Site>, StorageError> {
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                "SELECT id, district, name, site_type, industry, ownership, size, quotas,
                 stratum, weight, latitude, longitude FROM site
             WHERE district = $1 ORDER BY id",
                &[&district],
            )
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(zhisu_protocol::Site {
                    id: r.get(0),
                    district: r.get(1),
                    name: r.get(2),
                    site_type: r.get(3),
                    industry: r.get(4),
                    ownership: r.get(5),
                    size: r.get(6),
                    quotas: serde_json::from_value(r.get(7)).map_err(corrupt)?,
                    stratum: r.get(8),
                    weight: r.get(9),
                    latitude: r.get(10),
                    longitude: r.get(11),
                })
            })
            .collect()
    }

    fn all_sites(&self) -> Result<Vec<zhisu_protocol::Site>, StorageError> {
        let districts: Vec<String> = self
            .pool
            .get()
            .map_err(unavailable)?
            .query("SELECT DISTINCT district FROM site ORDER BY 1", &[])
            .map_err(db)?
            .iter()
            .map(|r| r.get(0))
            .collect();
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
        let row = self
            .pool
            .get()
            .map_err(unavailable)?
            .query_opt(
                "SELECT settings::text FROM round_settings WHERE round = $1",
                &[&round],
            )
            .map_err(db)?;
        row.map(|r| serde_json::from_str(r.get(0)).map_err(corrupt))
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
            |tx| {
                let json = serde_json::to_string(settings).map_err(corrupt)?;
                tx.execute(
                    "INSERT INTO round_settings (round, settings) VALUES ($1, $2::text::jsonb)
                 ON CONFLICT (round) DO UPDATE SET settings = excluded.settings",
                    &[&round, &json],
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
        self.audited(audit, |kept| *kept, |tx| {
            let inserted = tx.execute(
                "INSERT INTO questionnaire (id, version, round, hash, source, published_at, published_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id, version) DO NOTHING",
                &[
                    &record.id,
                    &record.version,
                    &record.round,
                    &record.hash,
                    &record.source,
                    &record.published_at,
                    &record.published_by,
                ],
            ).map_err(db)?;
            Ok(inserted == 1)
        })
    }

    fn published_questionnaires(&self) -> Result<Vec<PublishedRecord>, StorageError> {
        let rows = self.pool.get().map_err(unavailable)?.query(
            "SELECT id, version, round, hash, source, published_at, published_by FROM questionnaire ORDER BY id, version",
            &[],
        ).map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| PublishedRecord {
                id: r.get(0),
                version: r.get(1),
                round: r.get(2),
                hash: r.get(3),
                source: r.get(4),
                published_at: r.get(5),
                published_by: r.get(6),
            })
            .collect())
    }
}

impl AnalyticsStore for PostgresStorage {
    fn visit_facts(
        &self,
        scope: &Scope,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(&FactRow<'_>),
    ) -> Result<(), StorageError> {
        let (condition, value) = scope_condition(scope, "i.", 2);
        let mut client = self.pool.get().map_err(unavailable)?;
        let sql = format!(
            "SELECT i.questionnaire_version, i.district, i.site_id, i.population, i.industry, i.sex,
                 i.education, i.age, i.has_literacy, i.dimension_literacy, i.items_correct,
                 s.stratum, s.weight
             FROM interview i LEFT JOIN site s ON s.district = i.district AND s.id = i.site_id
             WHERE i.questionnaire_id = $1 AND i.qc_status <> 'rejected'
                 AND i.items_correct IS NOT NULL AND {condition}"
        );
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = match &value {
            ScopeValue::None => vec![&questionnaire_id],
            ScopeValue::One(v) => vec![&questionnaire_id, v],
            ScopeValue::Many(v) => vec![&questionnaire_id, v],
        };
        let mut rows = client.query_raw(&sql, params).map_err(db)?;
        use postgres::fallible_iterator::FallibleIterator;
        while let Some(r) = rows.next().map_err(db)? {
            visit(&FactRow {
                questionnaire_version: r.get(0),
                district: r.get(1),
                site_id: r.get(2),
                population: r.get(3),
                industry: r.get(4),
                sex: r.get(5),
                education: r.get(6),
                age: r.get::<_, Option<i32>>(7).map(i64::from),
                has_literacy: r.get(8),
                dimension_literacy: r.get::<_, Option<i32>>(9).map_or(0, i64::from),
                items_correct: r.get::<_, Option<&str>>(10).unwrap_or(""),
                stratum: r.get(11),
                weight: r.get(12),
            });
        }
        Ok(())
    }

    fn visit_cells(
        &self,
        questionnaire_id: &str,
        visit: &mut dyn FnMut(&CellRow<'_>),
    ) -> Result<(), StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut rows = client
            .query_raw(
                "SELECT c.district, c.site_id, c.population, c.breakdown, c.key, c.n, c.successes,
                 s.stratum, s.weight
             FROM literacy_cell c LEFT JOIN site s ON s.district = c.district AND s.id = c.site_id
             WHERE c.questionnaire_id = $1 AND c.n > 0",
                [questionnaire_id],
            )
            .map_err(db)?;
        use postgres::fallible_iterator::FallibleIterator;
        while let Some(r) = rows.next().map_err(db)? {
            visit(&CellRow {
                district: zhisu_server_storage::cells::none_if_empty(r.get(0)),
                site_id: zhisu_server_storage::cells::none_if_empty(r.get(1)),
                population: zhisu_server_storage::cells::none_if_empty(r.get(2)),
                breakdown: r.get(3),
                key: r.get(4),
                n: r.get::<_, i64>(5).max(0) as u64,
                successes: r.get::<_, i64>(6).max(0) as u64,
                stratum: r.get(7),
                weight: r.get(8),
            });
        }
        Ok(())
    }

    fn rebuild_cells(&self, audit: &AuditEntry) -> Result<(), StorageError> {
        let mut client = self.pool.get().map_err(unavailable)?;
        let mut tx = client.transaction().map_err(db)?;
        rebuild_cells(&mut tx)?;
        insert_audit(&mut tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(())
    }

    fn progress(&self, scope: &Scope) -> Result<Vec<ProgressCell>, StorageError> {
        let (condition, value) = scope_condition(scope, "", 1);
        let sql = format!(
            "SELECT district, site_id, population, day, n FROM progress_cell
             WHERE n > 0 AND {condition} ORDER BY 1, 2, 3, 4"
        );
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(&sql, &value.params())
            .map_err(db)?;
        let none = |s: String| (!s.is_empty()).then_some(s);
        Ok(rows
            .iter()
            .map(|r| ProgressCell {
                district: none(r.get(0)),
                site_id: none(r.get(1)),
                population: none(r.get(2)),
                day: r.get(3),
                count: r.get::<_, i64>(4) as u64,
            })
            .collect())
    }
}

impl AuditStore for PostgresStorage {
    fn record_audit(&self, entry: &AuditEntry) -> Result<(), StorageError> {
        insert_audit(&mut *self.pool.get().map_err(unavailable)?, entry)
    }

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StorageError> {
        let rows = self
            .pool
            .get()
            .map_err(unavailable)?
            .query(
                "SELECT at, actor, action, detail FROM audit_log ORDER BY seq DESC LIMIT $1",
                &[&(limit as i64)],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                at: r.get(0),
                actor: r.get(1),
                action: r.get(2),
                detail: r.get(3),
            })
            .collect())
    }
}
