//! PostgreSQL backend: a small connection pool (r2d2) of synchronous clients.

use chrono::{DateTime, Utc};
use postgres::{Client, NoTls};
use r2d2_postgres::PostgresConnectionManager;
use uuid::Uuid;
use zhisu_protocol::{Receipt, ReceiptStatus};

use super::{corrupt, Accepted, Storage, StorageError};
use crate::api::StoredInterview;
use crate::devices::{AuditEntry, Device, EnrolRefusal};
use crate::people::{Person, Scope};

const PERSON_COLUMNS: &str =
    "p.id, p.username, p.display_name, p.role, p.district, p.populations::text, p.created_at";

fn person_from(row: &postgres::Row) -> Result<Person, StorageError> {
    let populations: String = row.get(5);
    Ok(Person {
        id: row.get(0),
        username: row.get(1),
        display_name: row.get(2),
        role: super::role_from(&row.get::<_, String>(3), row.get(4), &populations)?,
        created_at: row.get(6),
    })
}

const DEVICE_COLUMNS: &str = "id, name, round, district, enrolled_at, revoked_at, last_seen_at";

fn device_from(row: &postgres::Row) -> Device {
    Device {
        id: row.get(0),
        name: row.get(1),
        round: row.get(2),
        district: row.get(3),
        enrolled_at: row.get(4),
        revoked_at: row.get(5),
        last_seen_at: row.get(6),
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
];

pub struct PostgresStorage {
    pool: r2d2::Pool<PostgresConnectionManager<NoTls>>,
}

impl PostgresStorage {
    /// Connects to `url` (`postgres://user@host:port/db`) and brings the schema up to date.
    /// Concurrent starts are safe: migrations run under an advisory lock.
    pub fn open(url: &str, pool_size: u32) -> Result<Self, StorageError> {
        let config: postgres::Config = url.parse()?;
        let manager = PostgresConnectionManager::new(config, NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(manager)?;
        Self::migrate(&mut *pool.get()?)?;
        Ok(PostgresStorage { pool })
    }

    fn migrate(client: &mut Client) -> Result<(), StorageError> {
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock(8470)", &[])?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS zhisu_schema (version INTEGER NOT NULL);
             INSERT INTO zhisu_schema (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM zhisu_schema);",
        )?;
        let found: i32 = tx
            .query_one("SELECT version FROM zhisu_schema", &[])?
            .get(0);
        let found = found as usize;
        if found > MIGRATIONS.len() {
            return Err(StorageError::NewerSchema {
                found,
                supported: MIGRATIONS.len(),
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(found) {
            tx.batch_execute(sql)?;
            tx.execute(
                "UPDATE zhisu_schema SET version = $1",
                &[&((index + 1) as i32)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

impl Storage for PostgresStorage {
    fn backend(&self) -> &'static str {
        "postgresql"
    }

    fn schema_version(&self) -> Result<usize, StorageError> {
        let version: i32 = self
            .pool
            .get()?
            .query_one("SELECT version FROM zhisu_schema", &[])?
            .get(0);
        Ok(version as usize)
    }

    fn ingest(
        &self,
        accepted: &[Accepted],
        device: Option<&Device>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Receipt>, StorageError> {
        let mut client = self.pool.get()?;
        let mut tx = client.transaction()?;
        let insert = tx.prepare(
            "INSERT INTO interview (id, questionnaire_id, questionnaire_version, content_hash, started_at,
                 completed_at, utc_offset_minutes, received_at, payload, score, max_score, has_literacy, score_report,
                 device_id, district, population)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             ON CONFLICT (id) DO NOTHING",
        )?;
        let existing = tx.prepare("SELECT content_hash FROM interview WHERE id = $1")?;
        let mut receipts = vec![None; accepted.len()];
        let device_id = device.map(|d| d.id);
        let district = device.map(|d| d.district.clone());
        for index in super::lock_order(accepted) {
            let (interview, score) = &accepted[index];
            let payload = serde_json::to_value(interview).map_err(corrupt)?;
            let report = serde_json::to_value(score).map_err(corrupt)?;
            let inserted = tx.execute(
                &insert,
                &[
                    &interview.id,
                    &interview.questionnaire_id,
                    &interview.questionnaire_version,
                    &interview.content_hash,
                    &interview.started_at,
                    &interview.completed_at,
                    &interview.utc_offset_minutes,
                    &now,
                    &payload,
                    &(score.score as i32),
                    &(score.max as i32),
                    &score.has_literacy,
                    &report,
                    &device_id,
                    &district,
                    &super::population_of(interview),
                ],
            )?;
            let status = if inserted == 1 {
                ReceiptStatus::Stored
            } else {
                let hash: String = tx.query_one(&existing, &[&interview.id])?.get(0);
                if hash == interview.content_hash {
                    ReceiptStatus::AlreadyStored
                } else {
                    ReceiptStatus::Conflict
                }
            };
            receipts[index] = Some(super::receipt(interview.id, status));
        }
        tx.commit()?;
        Ok(receipts.into_iter().flatten().collect())
    }

    fn interview_count(&self) -> Result<u64, StorageError> {
        let n: i64 = self
            .pool
            .get()?
            .query_one("SELECT count(*) FROM interview", &[])?
            .get(0);
        Ok(n as u64)
    }

    fn interviews(&self, scope: &Scope) -> Result<Vec<StoredInterview>, StorageError> {
        let mut client = self.pool.get()?;
        let select =
            "SELECT payload, received_at, score_report, district, population FROM interview";
        let rows = match scope {
            Scope::All => client.query(&format!("{select} ORDER BY received_at, id"), &[])?,
            Scope::District(d) => client.query(
                &format!("{select} WHERE district = $1 ORDER BY received_at, id"),
                &[d],
            )?,
            Scope::Populations(p) => client.query(
                &format!("{select} WHERE population = ANY($1) ORDER BY received_at, id"),
                &[p],
            )?,
        };
        rows.iter()
            .map(|row| {
                Ok(StoredInterview {
                    interview: serde_json::from_value(row.get(0)).map_err(corrupt)?,
                    received_at: row.get(1),
                    score: serde_json::from_value(row.get(2)).map_err(corrupt)?,
                    district: row.get(3),
                    population: row.get(4),
                })
            })
            .collect()
    }

    fn contains(&self, id: Uuid) -> Result<bool, StorageError> {
        Ok(self
            .pool
            .get()?
            .query_opt("SELECT 1 FROM interview WHERE id = $1", &[&id])?
            .is_some())
    }

    fn add_enrolment_code(
        &self,
        code_hash: &str,
        round: &str,
        district: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.pool.get()?.execute(
            "INSERT INTO enrolment_code (code_hash, round, district, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            &[&code_hash, &round, &district, &now, &expires_at],
        )?;
        Ok(())
    }

    fn enrol(
        &self,
        code_hash: &str,
        device_id: Uuid,
        device_name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<Device, EnrolRefusal>, StorageError> {
        let mut client = self.pool.get()?;
        let mut tx = client.transaction()?;
        let Some(code) = tx.query_opt(
            "SELECT round, district, expires_at, used_at FROM enrolment_code WHERE code_hash = $1 FOR UPDATE",
            &[&code_hash],
        )?
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
        )?;
        let row = tx.query_one(
            &format!(
                "INSERT INTO device (id, name, round, district, token_hash, enrolled_at) VALUES ($1, $2, $3, $4, $5, $6)
                 RETURNING {DEVICE_COLUMNS}"
            ),
            &[&device_id, &device_name, &round, &district, &token_hash, &now],
        )?;
        tx.commit()?;
        Ok(Ok(device_from(&row)))
    }

    fn device_for_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Device>, StorageError> {
        let mut client = self.pool.get()?;
        let Some(row) = client.query_opt(
            &format!("SELECT {DEVICE_COLUMNS} FROM device WHERE token_hash = $1"),
            &[&token_hash],
        )?
        else {
            return Ok(None);
        };
        let device = device_from(&row);
        let stale = now - chrono::Duration::seconds(60);
        client.execute(
            "UPDATE device SET last_seen_at = $2 WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at < $3)",
            &[&device.id, &now, &stale],
        )?;
        Ok(Some(device))
    }

    fn revoke_device(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, StorageError> {
        let n = self.pool.get()?.execute(
            "UPDATE device SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1",
            &[&id, &now],
        )?;
        Ok(n == 1)
    }

    fn device(&self, id: Uuid) -> Result<Option<Device>, StorageError> {
        let row = self.pool.get()?.query_opt(
            &format!("SELECT {DEVICE_COLUMNS} FROM device WHERE id = $1"),
            &[&id],
        )?;
        Ok(row.as_ref().map(device_from))
    }

    fn devices(&self) -> Result<Vec<Device>, StorageError> {
        let rows = self.pool.get()?.query(
            &format!("SELECT {DEVICE_COLUMNS} FROM device ORDER BY district, name, id"),
            &[],
        )?;
        Ok(rows.iter().map(device_from).collect())
    }

    fn replace_sites(
        &self,
        district: &str,
        sites: &[zhisu_protocol::Site],
    ) -> Result<(), StorageError> {
        let mut client = self.pool.get()?;
        let mut tx = client.transaction()?;
        tx.execute("DELETE FROM site WHERE district = $1", &[&district])?;
        for site in sites {
            let quotas = serde_json::to_value(&site.quotas).map_err(corrupt)?;
            tx.execute(
                "INSERT INTO site (id, district, name, site_type, industry, ownership, size, quotas)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &site.id,
                    &district,
                    &site.name,
                    &site.site_type,
                    &site.industry,
                    &site.ownership,
                    &site.size,
                    &quotas,
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn sites(&self, district: &str) -> Result<Vec<zhisu_protocol::Site>, StorageError> {
        let rows = self.pool.get()?.query(
            "SELECT id, district, name, site_type, industry, ownership, size, quotas FROM site
             WHERE district = $1 ORDER BY id",
            &[&district],
        )?;
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
                })
            })
            .collect()
    }

    fn record_audit(&self, entry: &AuditEntry) -> Result<(), StorageError> {
        self.pool.get()?.execute(
            "INSERT INTO audit_log (at, actor, action, detail) VALUES ($1, $2, $3, $4)",
            &[&entry.at, &entry.actor, &entry.action, &entry.detail],
        )?;
        Ok(())
    }

    fn add_person(&self, person: &Person, password_hash: &str) -> Result<bool, StorageError> {
        let (role, district, populations) = super::role_columns(&person.role);
        let populations: serde_json::Value = serde_json::from_str(&populations).map_err(corrupt)?;
        let inserted = self.pool.get()?.execute(
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
        )?;
        Ok(inserted == 1)
    }

    fn person_for_login(&self, username: &str) -> Result<Option<(Person, String)>, StorageError> {
        let row = self.pool.get()?.query_opt(
            &format!("SELECT {PERSON_COLUMNS}, p.password_hash FROM person p WHERE p.username = $1 AND p.disabled_at IS NULL"),
            &[&username],
        )?;
        row.map(|r| Ok((person_from(&r)?, r.get(7)))).transpose()
    }

    fn add_session(
        &self,
        token_hash: &str,
        person: Uuid,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.pool.get()?.execute(
            "INSERT INTO session (token_hash, person_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            &[&token_hash, &person, &now, &expires_at],
        )?;
        Ok(())
    }

    fn session_person(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Person>, StorageError> {
        let row = self.pool.get()?.query_opt(
            &format!(
                "SELECT {PERSON_COLUMNS} FROM session s JOIN person p ON p.id = s.person_id
                 WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND p.disabled_at IS NULL"
            ),
            &[&token_hash, &now],
        )?;
        row.map(|r| person_from(&r)).transpose()
    }

    fn end_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), StorageError> {
        self.pool.get()?.execute(
            "UPDATE session SET ended_at = coalesce(ended_at, $2) WHERE token_hash = $1",
            &[&token_hash, &now],
        )?;
        Ok(())
    }

    fn publish_questionnaire(
        &self,
        record: &crate::questionnaires::PublishedRecord,
    ) -> Result<bool, StorageError> {
        let inserted = self.pool.get()?.execute(
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
        )?;
        Ok(inserted == 1)
    }

    fn published_questionnaires(
        &self,
    ) -> Result<Vec<crate::questionnaires::PublishedRecord>, StorageError> {
        let rows = self.pool.get()?.query(
            "SELECT id, version, round, hash, source, published_at, published_by FROM questionnaire ORDER BY id, version",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| crate::questionnaires::PublishedRecord {
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

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StorageError> {
        let rows = self.pool.get()?.query(
            "SELECT at, actor, action, detail FROM audit_log ORDER BY seq DESC LIMIT $1",
            &[&(limit as i64)],
        )?;
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
