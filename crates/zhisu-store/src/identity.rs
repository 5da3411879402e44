//! Who this device is, once enrolled, the sites it is assigned to and its round's settings.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zhisu_protocol::{Enrolment, RoundSettings, Site};

use crate::{
    from_json, parse_timestamp, timestamp, to_json, DeviceStore, StoreError, TextSize, Theme,
    UiLanguage,
};

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

    /// Keeps the round's public key from the assignment (or forgets it when the server sent
    /// none): interviews completed from now on are sealed to it. A key that is not 32 bytes of
    /// base64 is not kept.
    pub fn save_round_key(
        &mut self,
        key: Option<&zhisu_protocol::sealed::RoundPublicKey>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM round_key", [])?;
        if let Some(key) = key.filter(|k| k.is_usable()) {
            tx.execute(
                "INSERT INTO round_key (singleton, key_id, public_key) VALUES (1, ?1, ?2)",
                params![key.key_id, key.public_key],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The round's public key interviews are sealed to, if the server gave one.
    pub fn round_key(&self) -> Result<Option<zhisu_protocol::sealed::RoundPublicKey>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT key_id, public_key FROM round_key WHERE singleton = 1",
                [],
                |row| {
                    Ok(zhisu_protocol::sealed::RoundPublicKey {
                        key_id: row.get(0)?,
                        public_key: row.get(1)?,
                    })
                },
            )
            .optional()?)
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

    /// The site chosen for new interviews ("today's work"), if it is still assigned.
    pub fn current_site(&self) -> Result<Option<String>, StoreError> {
        let chosen = self.preference(SITE)?;
        let sites = self.sites()?;
        Ok(chosen.filter(|id| sites.iter().any(|s| &s.id == id)))
    }

    /// Chooses the site new interviews are done at: one of the assigned sites.
    pub fn choose_site(&mut self, site_id: &str) -> Result<(), StoreError> {
        if !self.sites()?.iter().any(|s| s.id == site_id) {
            return Err(StoreError::UnknownSite(site_id.to_string()));
        }
        self.set_preference(SITE, site_id)
    }

    /// The language of the surveyor's screens: as chosen, Chinese before any choice.
    pub fn screen_language(&self) -> Result<UiLanguage, StoreError> {
        Ok(self
            .preference(LANGUAGE)?
            .and_then(|code| UiLanguage::from_code(&code))
            .unwrap_or_default())
    }

    pub fn set_screen_language(&mut self, language: UiLanguage) -> Result<(), StoreError> {
        self.set_preference(LANGUAGE, language.code())
    }

    /// How the screens look: as chosen, the standard look before any choice.
    pub fn screen_theme(&self) -> Result<Theme, StoreError> {
        Ok(self
            .preference(THEME)?
            .and_then(|code| Theme::from_code(&code))
            .unwrap_or_default())
    }

    pub fn set_screen_theme(&mut self, theme: Theme) -> Result<(), StoreError> {
        self.set_preference(THEME, theme.code())
    }

    /// How large the screens' text is: as chosen, normal before any choice.
    pub fn screen_text_size(&self) -> Result<TextSize, StoreError> {
        Ok(self
            .preference(TEXT_SIZE)?
            .and_then(|code| TextSize::from_code(&code))
            .unwrap_or_default())
    }

    pub fn set_screen_text_size(&mut self, size: TextSize) -> Result<(), StoreError> {
        self.set_preference(TEXT_SIZE, size.code())
    }

    /// Interviews done on this device per site and population: completed (waiting or
    /// acknowledged by the server) with a site, counted by their answer to the population item
    /// of their questionnaire version (`population_item(id, version)`, `None`: it has none;
    /// the interview counts with population `None`). Sorted.
    pub fn done_at_sites(
        &self,
        population_item: &dyn Fn(&str, &str) -> Option<String>,
    ) -> Result<Vec<SiteCount>, StoreError> {
        let versions: Vec<(String, String)> = {
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT DISTINCT questionnaire_id, questionnaire_version FROM interview
                 WHERE site_id IS NOT NULL AND state IN {DONE} AND practice = 0"
            ))?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut counts: BTreeMap<(String, Option<String>), u32> = BTreeMap::new();
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT i.site_id, a.value, count(*) FROM interview i
             LEFT JOIN answer a ON a.interview_id = i.id AND a.item_id = ?3
             WHERE i.questionnaire_id = ?1 AND i.questionnaire_version = ?2
               AND i.site_id IS NOT NULL AND i.state IN {DONE} AND i.practice = 0
             GROUP BY i.site_id, a.value"
        ))?;
        for (id, version) in &versions {
            let item = population_item(id, version);
            let rows = stmt.query_map(params![id, version, item], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?;
            for row in rows {
                let (site_id, value, n) = row?;
                let population = match value.as_deref().map(from_json).transpose()? {
                    Some(zhisu_core::AnswerValue::Choice(key)) => Some(key),
                    _ => None,
                };
                *counts.entry((site_id, population)).or_default() += n as u32;
            }
        }
        Ok(counts
            .into_iter()
            .map(|((site_id, population), done)| SiteCount {
                site_id,
                population,
                done,
            })
            .collect())
    }

    /// Each assigned site with its quotas and what this device has done towards them (see
    /// [`DeviceStore::done_at_sites`] for `population_item`).
    pub fn site_progress(
        &self,
        population_item: &dyn Fn(&str, &str) -> Option<String>,
    ) -> Result<Vec<SiteProgress>, StoreError> {
        let done = self.done_at_sites(population_item)?;
        Ok(self
            .sites()?
            .into_iter()
            .map(|site| {
                let here = || done.iter().filter(|d| d.site_id == site.id);
                SiteProgress {
                    quotas: site
                        .quotas
                        .iter()
                        .map(|(population, quota)| QuotaProgress {
                            population: population.clone(),
                            quota: *quota,
                            done: here()
                                .filter(|d| d.population.as_deref() == Some(population))
                                .map(|d| d.done)
                                .sum(),
                        })
                        .collect(),
                    done: here().map(|d| d.done).sum(),
                    site,
                }
            })
            .collect())
    }
}

impl DeviceStore {
    /// For each assigned site with a time slot running at `now` (the tablet's clock, at its
    /// offset from UTC `utc_offset_minutes`), the first such slot and the interviews done in it
    /// on this device (issue #15, travel peaks at stations): counted by the rule the server's
    /// progress uses ([`zhisu_protocol::TimeSlot::contains`], each interview by its own start
    /// and offset), practice interviews left out.
    pub fn current_slots(
        &self,
        now: DateTime<Utc>,
        utc_offset_minutes: i32,
    ) -> Result<BTreeMap<String, SlotDone>, StoreError> {
        let mut out = BTreeMap::new();
        let mut starts = self.conn.prepare_cached(&format!(
            "SELECT started_at, utc_offset_minutes FROM interview
             WHERE site_id = ?1 AND state IN {DONE} AND practice = 0"
        ))?;
        for site in self.sites()? {
            let Some(slot) = site
                .time_slots
                .iter()
                .find(|slot| slot.contains(now, utc_offset_minutes))
            else {
                continue;
            };
            let rows = starts.query_map([&site.id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i32>(1)?))
            })?;
            let mut done = 0;
            for row in rows {
                let (started_at, offset) = row?;
                if slot.contains(parse_timestamp(&started_at)?, offset) {
                    done += 1;
                }
            }
            out.insert(
                site.id.clone(),
                SlotDone {
                    slot: slot.clone(),
                    done,
                },
            );
        }
        Ok(out)
    }
}

/// A site's time slot running now and what this device has done in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotDone {
    pub slot: zhisu_protocol::TimeSlot,
    pub done: u32,
}

/// Preference keys.
const SITE: &str = "site";
const LANGUAGE: &str = "language";
const THEME: &str = "theme";
const TEXT_SIZE: &str = "text_size";

/// The states of an interview done on this device (completed, waiting or acknowledged).
const DONE: &str = "('completed', 'queued', 'sent', 'acknowledged')";
// practice interviews (issue #24) count towards no quota: every reader of DONE adds
// `AND practice = 0`.

/// A server address as the surveyor typed it, trimmed and without a trailing `/`; it must
/// start with `http://` or `https://`.
pub fn check_server_url(input: &str) -> Result<String, StoreError> {
    let url = input.trim().trim_end_matches('/');
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url.to_string())
    } else {
        Err(StoreError::BadServerUrl)
    }
}

/// A tablet's name as typed, trimmed; it must not be empty.
pub fn check_device_name(input: &str) -> Result<String, StoreError> {
    let name = input.trim();
    if name.is_empty() {
        return Err(StoreError::DeviceNameMissing);
    }
    Ok(name.to_string())
}

/// A site with its quotas and what this device has done there.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteProgress {
    pub site: Site,
    pub quotas: Vec<QuotaProgress>,
    /// Interviews done at this site on this device, any population.
    pub done: u32,
}

/// One population's quota at a site and how many are done on this device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaProgress {
    pub population: String,
    pub quota: u32,
    pub done: u32,
}

/// How many interviews of one population were done at one site on this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteCount {
    pub site_id: String,
    pub population: Option<String>,
    pub done: u32,
}
