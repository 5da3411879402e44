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
//!
//! Surveyors managed on the server (issue 15) arrive at sync with the assignment's digest
//! (`delivered_surveyor`): each with an Argon2id verifier of their PIN that the server made, so
//! they sign in offline on any tablet of their district under the same count and pause. Once a
//! tablet has received a list from the server (even one whose surveyors were all retired since),
//! the district manages its surveyors there: the surveyors added on the tablet before can no
//! longer sign in (`surveyor_retired`) and none is added on the tablet (`surveyors_from_server`);
//! the interviews they did stay and upload as before. A surveyor the server leaves out of a later
//! list is kept as retired, and refused from the next sync on.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use zhisu_protocol::surveyors::{
    surveyors_digest, DeliveredSurveyor, SurveyorList, MAX_DELIVERED_SURVEYORS,
};

use crate::{parse_timestamp, timestamp, DeviceStore, StoreError, Surveyor};

/// Bounds on a delivered verifier's Argon2 cost, so a damaged or hostile list cannot make a
/// PIN check take the tablet's memory or minutes: 64 MiB, 10 passes, 4 lanes.
const MAX_VERIFIER_MEMORY_KIB: u32 = 64 * 1024;
const MAX_VERIFIER_PASSES: u32 = 10;
const MAX_VERIFIER_LANES: u32 = 4;

/// The verifier parsed and within the bounds, or `None`.
fn usable_verifier(verifier: &str) -> Option<argon2::password_hash::PasswordHash<'_>> {
    let hash = argon2::password_hash::PasswordHash::new(verifier).ok()?;
    if hash.algorithm != argon2::Algorithm::Argon2id.ident() {
        return None;
    }
    let params = argon2::Params::try_from(&hash).ok()?;
    (params.m_cost() <= MAX_VERIFIER_MEMORY_KIB
        && params.t_cost() <= MAX_VERIFIER_PASSES
        && params.p_cost() <= MAX_VERIFIER_LANES
        && hash.hash.is_some())
    .then_some(hash)
}

/// Whether `pin` is the PIN of the delivered `verifier` (Argon2id with the verifier's own salt
/// and cost).
fn verifier_matches(verifier: &str, pin: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    pin_is_well_formed(pin)
        && usable_verifier(verifier).is_some_and(|hash| {
            argon2::Argon2::default()
                .verify_password(pin.as_bytes(), &hash)
                .is_ok()
        })
}

/// How a surveyor's id is known on this tablet.
enum Known {
    /// Delivered by the server: name, verifier, retired.
    Delivered(String, String, bool),
    /// Added on the tablet: name, salt, hash.
    Local(String, String, String),
}

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
        if self.surveyors_from_server()? {
            return Err(StoreError::SurveyorsFromServer);
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

    /// The surveyors who can sign in on this tablet, by id: the district's delivered by the
    /// server and not retired, once the tablet has received a list from the server; before
    /// that, the surveyors added on the tablet.
    pub fn surveyors(&self) -> Result<Vec<Surveyor>, StoreError> {
        let sql = if self.surveyors_from_server()? {
            "SELECT id, name FROM delivered_surveyor WHERE retired_at IS NULL ORDER BY id"
        } else {
            "SELECT id, name FROM surveyor ORDER BY id"
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([], |r| {
            Ok(Surveyor {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether the district's surveyors come from the server: the tablet has received a list
    /// with at least one surveyor (retired ones included).
    pub fn surveyors_from_server(&self) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM delivered_surveyor)",
            [],
            |r| r.get(0),
        )?)
    }

    /// The surveyors added on this tablet that can no longer sign in because the district's
    /// come from the server, by id (shown with a word on why).
    pub fn retired_local_surveyors(&self) -> Result<Vec<Surveyor>, StoreError> {
        if !self.surveyors_from_server()? {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name FROM surveyor
             WHERE id NOT IN (SELECT id FROM delivered_surveyor) ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Surveyor {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The delivered surveyors not retired, as the server sent them, by id.
    fn delivered_surveyors(&self) -> Result<Vec<DeliveredSurveyor>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name, pin_verifier FROM delivered_surveyor
             WHERE retired_at IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DeliveredSurveyor {
                id: r.get(0)?,
                name: r.get(1)?,
                pin_verifier: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The digest of the delivered surveyors held (`zhisu_protocol::surveyors`), what the
    /// assignment's `surveyors` is compared with.
    pub fn delivered_surveyors_digest(&self) -> Result<String, StoreError> {
        Ok(surveyors_digest(&self.delivered_surveyors()?))
    }

    /// Keeps the district's surveyors as the server sent them, in one transaction: each one
    /// that keeps the protocol's rules (and whose verifier this tablet can check) is added or
    /// updated (name, new PIN); each held one the list leaves out is retired at `now`. Returns
    /// how many can sign in.
    pub fn replace_delivered_surveyors(
        &mut self,
        list: &SurveyorList,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut kept = std::collections::BTreeSet::new();
        for s in list.surveyors.iter().take(MAX_DELIVERED_SURVEYORS) {
            if !s.problems().is_empty()
                || usable_verifier(&s.pin_verifier).is_none()
                || kept.contains(&s.id)
            {
                continue;
            }
            tx.execute(
                "INSERT INTO delivered_surveyor (id, name, pin_verifier, retired_at)
                 VALUES (?1, ?2, ?3, NULL)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                     pin_verifier = excluded.pin_verifier, retired_at = NULL",
                params![s.id, s.name.trim(), s.pin_verifier],
            )?;
            kept.insert(s.id.clone());
        }
        let held: Vec<String> = {
            let mut stmt =
                tx.prepare("SELECT id FROM delivered_surveyor WHERE retired_at IS NULL")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        for id in held.iter().filter(|id| !kept.contains(*id)) {
            tx.execute(
                "UPDATE delivered_surveyor SET retired_at = ?2 WHERE id = ?1",
                params![id, timestamp(now)],
            )?;
        }
        tx.commit()?;
        Ok(kept.len())
    }

    /// How `id` is known here.
    fn known_surveyor(conn: &rusqlite::Connection, id: &str) -> Result<Option<Known>, StoreError> {
        let delivered = conn
            .query_row(
                "SELECT name, pin_verifier, retired_at IS NOT NULL FROM delivered_surveyor
                 WHERE id = ?1",
                [id],
                |r| Ok(Known::Delivered(r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        if delivered.is_some() {
            return Ok(delivered);
        }
        Ok(conn
            .query_row(
                "SELECT name, pin_salt, pin_hash FROM surveyor WHERE id = ?1",
                [id],
                |r| Ok(Known::Local(r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
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
        let from_server: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM delivered_surveyor)",
            [],
            |r| r.get(0),
        )?;
        let known = Self::known_surveyor(&tx, id)?;
        // a retired surveyor's try is counted and refused, whatever the PIN
        let retired = match &known {
            Some(Known::Delivered(_, _, retired)) => *retired,
            Some(Known::Local(..)) => from_server,
            None => false,
        };
        let right = !retired
            && match &known {
                Some(Known::Delivered(_, verifier, _)) => verifier_matches(verifier, pin),
                Some(Known::Local(_, salt, hash)) => {
                    pin_is_well_formed(pin) && same(&pin_hash(salt, pin), hash)
                }
                None => false,
            };
        if right {
            count(0, None)?;
        } else if tries >= PIN_TRIES {
            count(
                tries,
                Some(now + chrono::Duration::seconds(PIN_LOCKOUT_SECONDS)),
            )?;
        }
        tx.commit()?;
        match known {
            None => Err(StoreError::UnknownSurveyor(id.to_string())),
            Some(_) if retired => Err(StoreError::SurveyorRetired(id.to_string())),
            Some(_) if !right => Err(StoreError::WrongPin { tries }),
            Some(Known::Delivered(name, ..) | Known::Local(name, ..)) => Ok(Surveyor {
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
            // known here but no longer able to sign in: retired since they signed in
            Some(id) if Self::known_surveyor(&self.conn, id)?.is_some() => {
                Err(StoreError::SurveyorRetired(id.to_string()))
            }
            Some(id) => Err(StoreError::UnknownSurveyor(id.to_string())),
            None if surveyors.is_empty() => Ok(None),
            None => Err(StoreError::SurveyorNeeded),
        }
    }

    /// Whether `pin` is surveyor `id`'s PIN (delivered or added here, retired or not). Not
    /// counted: signing in goes through [`DeviceStore::sign_in_surveyor`].
    pub fn check_pin(&self, id: &str, pin: &str) -> Result<bool, StoreError> {
        match Self::known_surveyor(&self.conn, id)? {
            None => Err(StoreError::UnknownSurveyor(id.to_string())),
            Some(Known::Delivered(_, verifier, _)) => Ok(verifier_matches(&verifier, pin)),
            Some(Known::Local(_, salt, hash)) => {
                Ok(pin_is_well_formed(pin) && same(&pin_hash(&salt, pin), &hash))
            }
        }
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

    /// A verifier as the server makes one: Argon2id with default parameters and its own salt.
    fn verifier(pin: &str) -> String {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(Uuid::new_v4().as_bytes()).unwrap();
        argon2::Argon2::default()
            .hash_password(pin.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    fn delivered(id: &str, name: &str, pin: &str) -> DeliveredSurveyor {
        DeliveredSurveyor {
            id: id.into(),
            name: name.into(),
            pin_verifier: verifier(pin),
        }
    }

    fn list(surveyors: Vec<DeliveredSurveyor>) -> SurveyorList {
        SurveyorList {
            digest: surveyors_digest(&surveyors),
            surveyors,
        }
    }

    #[test]
    fn a_surveyor_from_the_server_signs_in_offline_and_tablet_surveyors_are_retired() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sqlite3");
        let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
        let now = Utc::now();
        // before the district's list: a surveyor added on the tablet works as ever
        store.add_surveyor("S01", "张三", "1234", now).unwrap();
        assert!(!store.surveyors_from_server().unwrap());
        assert_eq!(
            store.delivered_surveyors_digest().unwrap(),
            surveyors_digest(&[])
        );
        store.sign_in_surveyor("S01", "1234", now).unwrap();

        let sent = list(vec![
            delivered("sv-00000000a1", "王芳", "2468"),
            delivered("sv-00000000b2", "刘伟", "135790"),
        ]);
        assert_eq!(store.replace_delivered_surveyors(&sent, now).unwrap(), 2);
        assert_eq!(store.delivered_surveyors_digest().unwrap(), sent.digest);
        assert!(store.surveyors_from_server().unwrap());
        assert_eq!(
            store.surveyors().unwrap(),
            vec![
                Surveyor {
                    id: "sv-00000000a1".into(),
                    name: "王芳".into()
                },
                Surveyor {
                    id: "sv-00000000b2".into(),
                    name: "刘伟".into()
                }
            ],
            "only the district's surveyors can sign in now"
        );
        assert_eq!(
            store.retired_local_surveyors().unwrap(),
            vec![Surveyor {
                id: "S01".into(),
                name: "张三".into()
            }]
        );
        // the tablet's own surveyor: refused with the reason, even with the right PIN
        assert_eq!(
            store
                .sign_in_surveyor("S01", "1234", now)
                .unwrap_err()
                .code(),
            "surveyor_retired"
        );
        assert_eq!(
            store
                .add_surveyor("S02", "李四", "1234", now)
                .unwrap_err()
                .code(),
            "surveyors_from_server"
        );
        assert_eq!(
            store.interview_surveyor(Some("S01")).unwrap_err().code(),
            "surveyor_retired"
        );

        // a wrong PIN is counted; the right one signs in, offline: nothing here talks to a server
        assert_eq!(
            store
                .sign_in_surveyor("sv-00000000a1", "1357", now)
                .unwrap_err()
                .code(),
            "wrong_pin"
        );
        let signed = store
            .sign_in_surveyor("sv-00000000a1", "2468", now)
            .unwrap();
        assert_eq!(signed.name, "王芳");
        assert_eq!(
            store.interview_surveyor(Some("sv-00000000a1")).unwrap(),
            Some("sv-00000000a1".into())
        );
        assert!(store.check_pin("sv-00000000b2", "135790").unwrap());
        assert!(!store.check_pin("sv-00000000b2", "135791").unwrap());

        // the next list: 刘伟 retired, 王芳 with a new PIN
        let next = list(vec![delivered("sv-00000000a1", "王芳", "8642")]);
        assert_eq!(store.replace_delivered_surveyors(&next, now).unwrap(), 1);
        assert_eq!(store.delivered_surveyors_digest().unwrap(), next.digest);
        assert_eq!(
            store
                .sign_in_surveyor("sv-00000000b2", "135790", now)
                .unwrap_err()
                .code(),
            "surveyor_retired"
        );
        assert_eq!(
            store
                .sign_in_surveyor("sv-00000000a1", "2468", now)
                .unwrap_err()
                .code(),
            "wrong_pin",
            "the old PIN no longer works"
        );
        store
            .sign_in_surveyor("sv-00000000a1", "8642", now)
            .unwrap();
        assert_eq!(
            store
                .interview_surveyor(Some("sv-00000000b2"))
                .unwrap_err()
                .code(),
            "surveyor_retired",
            "a retired surveyor held as signed in starts nothing"
        );

        // the list survives a restart
        drop(store);
        let store = DeviceStore::open(&path, &crate::test_key()).unwrap();
        assert_eq!(store.delivered_surveyors_digest().unwrap(), next.digest);
        assert_eq!(store.surveyors().unwrap().len(), 1);
        // the verifier is what is stored: never the PIN
        let verifier: String = store
            .conn
            .query_row(
                "SELECT pin_verifier FROM delivered_surveyor WHERE id = 'sv-00000000a1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(verifier.starts_with("$argon2id$") && !verifier.contains("8642"));
    }

    #[test]
    fn wrong_pins_for_a_delivered_surveyor_lock_out_across_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sqlite3");
        let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
        let now = Utc::now();
        store
            .replace_delivered_surveyors(
                &list(vec![delivered("sv-0000000001", "王芳", "2468")]),
                now,
            )
            .unwrap();
        for n in 1..PIN_TRIES {
            assert!(matches!(
                store.sign_in_surveyor("sv-0000000001", "0000", now),
                Err(StoreError::WrongPin { tries }) if tries == n
            ));
        }
        // the fifth wrong try is counted before its check, and the pause is on the disk
        drop(store);
        let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
        assert!(matches!(
            store.sign_in_surveyor("sv-0000000001", "0000", now),
            Err(StoreError::WrongPin { tries }) if tries == PIN_TRIES
        ));
        drop(store);
        let mut store = DeviceStore::open(&path, &crate::test_key()).unwrap();
        assert_eq!(
            store
                .sign_in_surveyor("sv-0000000001", "2468", now)
                .unwrap_err()
                .code(),
            "too_many_attempts",
            "the right PIN waits out the pause after a restart"
        );
        let later = now + chrono::Duration::seconds(PIN_LOCKOUT_SECONDS + 1);
        store
            .sign_in_surveyor("sv-0000000001", "2468", later)
            .unwrap();
    }

    #[test]
    fn a_list_with_broken_or_costly_verifiers_keeps_only_the_usable_surveyors() {
        let dir = tempfile::tempdir().unwrap();
        let mut store =
            DeviceStore::open(&dir.path().join("d.sqlite3"), &crate::test_key()).unwrap();
        let now = Utc::now();
        let good = delivered("sv-0000000001", "王芳", "2468");
        let costly = DeliveredSurveyor {
            id: "sv-0000000002".into(),
            name: "贵".into(),
            pin_verifier: good.pin_verifier.replace("m=19456", "m=4000000"),
        };
        let not_argon = DeliveredSurveyor {
            id: "sv-0000000003".into(),
            name: "坏".into(),
            pin_verifier: "2468".into(),
        };
        let bad_id = DeliveredSurveyor {
            id: "sv 4".into(),
            ..good.clone()
        };
        let sent = list(vec![good, costly, not_argon, bad_id]);
        assert_eq!(store.replace_delivered_surveyors(&sent, now).unwrap(), 1);
        assert_ne!(
            store.delivered_surveyors_digest().unwrap(),
            sent.digest,
            "what was left out is asked for again at the next sync"
        );
        assert_eq!(
            store
                .sign_in_surveyor("sv-0000000002", "2468", now)
                .unwrap_err()
                .code(),
            "unknown_surveyor"
        );
        store
            .sign_in_surveyor("sv-0000000001", "2468", now)
            .unwrap();
    }
}
