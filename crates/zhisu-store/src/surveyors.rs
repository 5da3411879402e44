//! The surveyors who share this tablet. Each has a short PIN (4 to 6 digits) so that one cannot
//! start interviews in another's name; the PIN is kept only as an iterated, salted SHA-256.
//!
//! A PIN this short cannot resist someone who copies the database and tries all million: the
//! hash keeps the PIN out of backups and logs and slows such a search, it does not stop it.
//! What protects a shared tablet is that the app asks for the PIN and counts wrong tries: after
//! [`PIN_TRIES`] wrong PINs in a row, sign-in is refused for [`PIN_LOCKOUT_SECONDS`]. The count
//! is kept in the database (a restart does not reset it) and each try is counted before its
//! PIN is checked, in the transaction that checks it, so tries made at once are counted one
//! after the other.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{parse_timestamp, timestamp, DeviceStore, StoreError, Surveyor};

/// Rounds of SHA-256 per PIN check: a few milliseconds on a tablet.
const PIN_ROUNDS: u32 = 10_000;

/// After this many wrong PINs in a row, sign-in is refused for [`PIN_LOCKOUT_SECONDS`].
pub const PIN_TRIES: u32 = 5;
pub const PIN_LOCKOUT_SECONDS: i64 = 30;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn pin_hash(salt: &str, pin: &str) -> String {
    let mut digest = Sha256::new()
        .chain_update(salt.as_bytes())
        .chain_update(b":")
        .chain_update(pin.as_bytes())
        .finalize();
    for _ in 1..PIN_ROUNDS {
        digest = Sha256::new()
            .chain_update(salt.as_bytes())
            .chain_update(digest)
            .finalize();
    }
    hex(&digest)
}

/// 4 to 6 ASCII digits.
pub fn pin_is_well_formed(pin: &str) -> bool {
    (4..=6).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl DeviceStore {
    /// Adds a surveyor with their PIN (4 to 6 digits).
    pub fn add_surveyor(
        &mut self,
        id: &str,
        name: &str,
        pin: &str,
        now: DateTime<Utc>,
    ) -> Result<Surveyor, StoreError> {
        let (id, name) = (id.trim(), name.trim());
        if id.is_empty() || name.is_empty() {
            return Err(StoreError::SurveyorIncomplete);
        }
        if !pin_is_well_formed(pin) {
            return Err(StoreError::BadPin);
        }
        // 16 bytes from the operating system's generator (a v4 UUID is 122 random bits)
        let salt = hex(Uuid::new_v4().as_bytes());
        let hash = pin_hash(&salt, pin);
        let added = self.conn.execute(
            "INSERT INTO surveyor (id, name, pin_salt, pin_hash, added_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO NOTHING",
            params![id, name, salt, hash, timestamp(now)],
        )?;
        if added == 0 {
            return Err(StoreError::SurveyorExists(id.to_string()));
        }
        Ok(Surveyor {
            id: id.to_string(),
            name: name.to_string(),
        })
    }

    /// The surveyors on this tablet, by id.
    pub fn surveyors(&self) -> Result<Vec<Surveyor>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name FROM surveyor ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(Surveyor {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Signs surveyor `id` in with `pin`. Every try is counted before the PIN is checked, in
    /// one transaction with the check; a right PIN clears the count. After [`PIN_TRIES`] wrong
    /// PINs in a row (for any surveyor: the count is the tablet's), every try is refused with
    /// `TooManyPinAttempts` until [`PIN_LOCKOUT_SECONDS`] after the last one, then the count
    /// starts again. `now` is the wall clock: the count outlives a restart.
    pub fn sign_in_surveyor(
        &mut self,
        id: &str,
        pin: &str,
        now: DateTime<Utc>,
    ) -> Result<Surveyor, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (failures, locked_until): (u32, Option<String>) = tx
            .query_row(
                "SELECT failures, locked_until FROM pin_lockout WHERE singleton = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((0, None));
        let locked_until = locked_until.as_deref().map(parse_timestamp).transpose()?;
        let failures = match locked_until {
            Some(until) if now < until => return Err(StoreError::TooManyPinAttempts { until }),
            Some(_) => 0, // the pause is over: the count starts again
            None => failures,
        };
        let count = |failures: u32, until: Option<DateTime<Utc>>| {
            tx.execute(
                "INSERT INTO pin_lockout (singleton, failures, locked_until) VALUES (1, ?1, ?2)
                 ON CONFLICT (singleton) DO UPDATE SET failures = excluded.failures,
                     locked_until = excluded.locked_until",
                params![failures, until.map(timestamp)],
            )
        };
        // counted first: whatever happens below, this try is one of the tries
        let tries = failures + 1;
        count(tries, None)?;
        let stored: Option<(String, String, String)> = tx
            .query_row(
                "SELECT name, pin_salt, pin_hash FROM surveyor WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let right = stored.as_ref().is_some_and(|(_, salt, hash)| {
            pin_is_well_formed(pin) && same(&pin_hash(salt, pin), hash)
        });
        if right {
            count(0, None)?;
        } else if tries >= PIN_TRIES {
            count(
                tries,
                Some(now + chrono::Duration::seconds(PIN_LOCKOUT_SECONDS)),
            )?;
        }
        tx.commit()?;
        match stored {
            None => Err(StoreError::UnknownSurveyor(id.to_string())),
            Some(_) if !right => Err(StoreError::WrongPin { tries }),
            Some((name, _, _)) => Ok(Surveyor {
                id: id.to_string(),
                name,
            }),
        }
    }

    /// Who a new interview is done by: the surveyor signed in (`signed_in`, who the app holds
    /// for as long as it runs). A tablet with surveyors needs one signed in
    /// (`SurveyorNeeded`); a tablet without any runs without.
    pub fn interview_surveyor(
        &self,
        signed_in: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        let surveyors = self.surveyors()?;
        match signed_in {
            Some(id) if surveyors.iter().any(|s| s.id == id) => Ok(Some(id.to_string())),
            Some(id) => Err(StoreError::UnknownSurveyor(id.to_string())),
            None if surveyors.is_empty() => Ok(None),
            None => Err(StoreError::SurveyorNeeded),
        }
    }

    /// Whether `pin` is surveyor `id`'s PIN. Not counted: signing in goes through
    /// [`DeviceStore::sign_in_surveyor`].
    pub fn check_pin(&self, id: &str, pin: &str) -> Result<bool, StoreError> {
        let stored: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT pin_salt, pin_hash FROM surveyor WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (salt, hash) = stored.ok_or_else(|| StoreError::UnknownSurveyor(id.to_string()))?;
        Ok(pin_is_well_formed(pin) && same(&pin_hash(&salt, pin), &hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_checked_against_a_salted_hash_and_never_stored() {
        let dir = tempfile::tempdir().unwrap();
        let mut store =
            DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
        let now = Utc::now();
        store.add_surveyor(" S01 ", "张三", "1234", now).unwrap();
        store.add_surveyor("S02", "李四", "1234", now).unwrap();
        assert_eq!(
            store.surveyors().unwrap(),
            vec![
                Surveyor {
                    id: "S01".into(),
                    name: "张三".into()
                },
                Surveyor {
                    id: "S02".into(),
                    name: "李四".into()
                }
            ]
        );
        assert!(store.check_pin("S01", "1234").unwrap());
        assert!(!store.check_pin("S01", "1235").unwrap());
        assert!(!store.check_pin("S01", "12345").unwrap());
        assert_eq!(
            store.check_pin("S09", "1234").unwrap_err().code(),
            "unknown_surveyor"
        );
        // the same PIN, different salts: nothing in the table gives the PIN or links the two
        let rows: Vec<(String, String)> = {
            let mut stmt = store
                .conn
                .prepare("SELECT pin_salt, pin_hash FROM surveyor ORDER BY id")
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_ne!(rows[0], rows[1]);
        for (salt, hash) in &rows {
            assert_eq!((salt.len(), hash.len()), (32, 64));
            assert_ne!(
                hash,
                &hex(&Sha256::digest(b"1234")),
                "not a bare hash of the PIN"
            );
        }

        for (pin, code) in [
            ("123", "bad_pin"),
            ("1234567", "bad_pin"),
            ("12a4", "bad_pin"),
        ] {
            assert_eq!(
                store
                    .add_surveyor("S03", "王五", pin, now)
                    .unwrap_err()
                    .code(),
                code
            );
        }
        assert_eq!(
            store
                .add_surveyor("S01", "别人", "9999", now)
                .unwrap_err()
                .code(),
            "surveyor_exists"
        );
        assert_eq!(
            store
                .add_surveyor("", "王五", "9999", now)
                .unwrap_err()
                .code(),
            "surveyor_incomplete"
        );
        assert!(
            store.check_pin("S01", "1234").unwrap(),
            "unchanged by a refused add"
        );
    }
}
