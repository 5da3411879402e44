//! Who this device is, once enrolled, the sites it is assigned to and its round's settings.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_protocol::{Enrolment, RoundSettings, Site};

use crate::{from_json, parse_timestamp, timestamp, to_json, DeviceStore, StoreError};

/// The device's identity with the server. The token is a secret: `Debug` does not show it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceIdentity {
    pub server_url: String,
    pub device_id: Uuid,
    pub token: String,
    pub device_name: String,
    pub round: String,
    pub district: String,
    pub enrolled_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for DeviceIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceIdentity")
            .field("server_url", &self.server_url)
            .field("device_id", &self.device_id)
            .field("token", &"<redacted>")
            .field("device_name", &self.device_name)
            .field("round", &self.round)
            .field("district", &self.district)
            .field("enrolled_at", &self.enrolled_at)
            .field("revoked_at", &self.revoked_at)
            .finish()
    }
}

impl DeviceStore {
    pub fn identity(&self) -> Result<Option<DeviceIdentity>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT server_url, device_id, token, device_name, round, district, enrolled_at, revoked_at
                 FROM device_identity WHERE singleton = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, Option<String>>(7)?,
                    ))
                },
            )
            .optional()?;
        row.map(
            |(server_url, id, token, device_name, round, district, enrolled, revoked)| {
                Ok(DeviceIdentity {
                    server_url,
                    device_id: Uuid::parse_str(&id)
                        .map_err(|e| StoreError::Corrupt(format!("device id: {e}")))?,
                    token,
                    device_name,
                    round,
                    district,
                    enrolled_at: parse_timestamp(&enrolled)?,
                    revoked_at: revoked.as_deref().map(parse_timestamp).transpose()?,
                })
            },
        )
        .transpose()
    }

    /// Records a new enrolment, replacing any earlier identity (a tablet moved to another
    /// district, or re-enrolled after revocation). Interviews on the device are kept.
    pub fn save_identity(
        &mut self,
        server_url: &str,
        device_name: &str,
        enrolment: &Enrolment,
        now: DateTime<Utc>,
    ) -> Result<DeviceIdentity, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM device_identity", [])?;
        tx.execute("DELETE FROM site", [])?;
        tx.execute("DELETE FROM round_settings", [])?;
        tx.execute(
            "INSERT INTO device_identity (singleton, server_url, device_id, token, device_name, round, district, enrolled_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                server_url.trim_end_matches('/'),
                enrolment.device_id.to_string(),
                enrolment.token,
                device_name,
                enrolment.round,
                enrolment.district,
                timestamp(now)
            ],
        )?;
        tx.commit()?;
        self.identity()?
            .ok_or_else(|| StoreError::Corrupt("identity vanished after saving".into()))
    }

    /// The server said this device is revoked: stop syncing until it is enrolled again.
    pub fn mark_revoked(&mut self, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE device_identity SET revoked_at = coalesce(revoked_at, ?1)",
            [timestamp(now)],
        )?;
        Ok(())
    }

    /// Replaces the assigned sites with what the server delivered.
    pub fn save_sites(&mut self, sites: &[Site]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM site", [])?;
        for site in sites {
            tx.execute(
                "INSERT INTO site (id, site) VALUES (?1, ?2)",
                params![site.id, to_json(site)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn sites(&self) -> Result<Vec<Site>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT site FROM site ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|row| from_json(&row?)).collect()
    }

    /// Keeps the round's settings delivered with the assignment (replacing earlier ones).
    pub fn save_round_settings(&mut self, settings: &RoundSettings) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO round_settings (singleton, settings) VALUES (1, ?1)
             ON CONFLICT (singleton) DO UPDATE SET settings = excluded.settings",
            [to_json(settings)],
        )?;
        Ok(())
    }

    /// The round's settings as last delivered; the defaults before any were.
    pub fn round_settings(&self) -> Result<RoundSettings, StoreError> {
        let stored: Option<String> = self
            .conn
            .query_row(
                "SELECT settings FROM round_settings WHERE singleton = 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        stored.map_or_else(|| Ok(RoundSettings::default()), |s| from_json(&s))
    }

    /// A choice the surveyor made on this device (screen language, current site, …).
    pub fn preference(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM preference WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_preference(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO preference (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Interviews done on this device per site and population: completed (waiting or
    /// acknowledged by the server) with a site, counted by their answer to the `population`
    /// item (`None`: not answered, as in questionnaires without one). Sorted.
    pub fn done_at_sites(&self) -> Result<Vec<SiteCount>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT i.site_id, a.value, count(*) FROM interview i
             LEFT JOIN answer a ON a.interview_id = i.id AND a.item_id = 'population'
             WHERE i.site_id IS NOT NULL AND i.state IN ('completed', 'queued', 'sent', 'acknowledged')
             GROUP BY i.site_id, a.value ORDER BY i.site_id, a.value",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (site_id, value, n) = row?;
            let population = match value.as_deref().map(from_json).transpose()? {
                Some(zhisu_core::AnswerValue::Choice(key)) => Some(key),
                _ => None,
            };
            Ok(SiteCount {
                site_id,
                population,
                done: n as u32,
            })
        })
        .collect()
    }
}

/// How many interviews of one population were done at one site on this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteCount {
    pub site_id: String,
    pub population: Option<String>,
    pub done: u32,
}
