//! Signing people in: passwords hashed with Argon2id (memory-hard), the pause after wrong
//! passwords in a row, sessions that expire. Roles and scopes are in `zhisu-server-storage`.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AuditEntry, Refusal, ServerState, StorageError};

pub use zhisu_server_storage::people::{ListedPerson, Person, Role, Scope};

/// How long a session lasts after login.
pub const SESSION_HOURS: i64 = 8;

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(&crate::devices::random_bytes(16))
        .expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 hashes any password with default parameters")
        .to_string()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A password people can live with and attackers cannot guess quickly.
pub fn password_problem(password: &str) -> Option<&'static str> {
    if password.chars().count() < 10 {
        Some("a password needs at least 10 characters")
    } else {
        None
    }
}

/// Wrong passwords allowed in a row for one username before sign-in pauses for it.
pub const FREE_ATTEMPTS: u32 = 5;
const FIRST_PAUSE: std::time::Duration = std::time::Duration::from_secs(60);
const LONGEST_PAUSE: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// A username's count of wrong passwords is forgotten after this long without one.
const FORGET_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Slows down password guessing: after [`FREE_ATTEMPTS`] wrong passwords in a row for one
/// username, sign-in for that username pauses for a minute, and each further wrong one doubles
/// the pause up to fifteen minutes; a right one starts again from zero. During a pause the
/// password is not even checked. Per username, not per address: guessers rotate addresses, and
/// a pause of minutes keeps the cost to the real person small. In memory, per server process.
#[derive(Debug, Default)]
pub struct SignInGuard {
    attempts: std::sync::Mutex<std::collections::HashMap<String, Attempts>>,
}

#[derive(Debug, Clone, Copy)]
struct Attempts {
    failures: u32,
    last: std::time::Instant,
    paused_until: Option<std::time::Instant>,
}

impl SignInGuard {
    fn key(username: &str) -> String {
        username.trim().to_lowercase()
    }

    fn attempts(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Attempts>> {
        self.attempts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Err(wait)` while sign-in for `username` is paused (changes nothing).
    pub fn check(
        &self,
        username: &str,
        now: std::time::Instant,
    ) -> Result<(), std::time::Duration> {
        match self.attempts().get(&Self::key(username)) {
            Some(Attempts {
                paused_until: Some(until),
                ..
            }) if *until > now => Err(*until - now),
            _ => Ok(()),
        }
    }

    /// Starts a sign-in attempt for `username`: `Err(wait)` while sign-in for it is paused;
    /// otherwise the attempt is counted as wrong until [`succeeded`](Self::succeeded) says it
    /// was right. Counting before the password is checked means attempts sent at the same
    /// moment cannot all pass the check before any of them is counted: a burst of guesses gets
    /// no more tries than guesses one after another.
    pub fn begin(
        &self,
        username: &str,
        now: std::time::Instant,
    ) -> Result<(), std::time::Duration> {
        let mut all = self.attempts();
        let key = Self::key(username);
        if let Some(until) = all.get(&key).and_then(|a| a.paused_until) {
            if until > now {
                return Err(until - now);
            }
        }
        if all.len() > 10_000 {
            // guesses at many names: keep only those paused or recently wrong
            all.retain(|_, a| {
                a.paused_until.is_some_and(|u| u > now) || now.duration_since(a.last) < FIRST_PAUSE
            });
        }
        let a = all.entry(key).or_insert(Attempts {
            failures: 0,
            last: now,
            paused_until: None,
        });
        if now.duration_since(a.last) > FORGET_AFTER {
            a.failures = 0;
        }
        a.failures += 1;
        a.last = now;
        if a.failures >= FREE_ATTEMPTS {
            let doublings = (a.failures - FREE_ATTEMPTS).min(10);
            a.paused_until = Some(now + (FIRST_PAUSE * 2u32.pow(doublings)).min(LONGEST_PAUSE));
        }
        Ok(())
    }

    /// Notes a right password: the count starts again.
    pub fn succeeded(&self, username: &str) {
        self.attempts().remove(&Self::key(username));
    }
}

/// A session opened by a right password: the token is shown once, only its hash is kept.
#[derive(Debug, Serialize, Deserialize)]
pub struct SessionCreated {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub person: Person,
}

/// Why a sign-in did not open a session.
#[derive(Debug, thiserror::Error)]
pub enum SignInRefusal {
    /// Too many wrong passwords in a row for this username: wait this long.
    #[error("too many wrong passwords for this username: try again in {} minute(s)", wait_minutes(*.0))]
    Paused(std::time::Duration),
    #[error("the username or password is wrong")]
    BadCredentials,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Whole minutes to wait, rounded up, at least one.
pub fn wait_minutes(wait: std::time::Duration) -> u64 {
    wait.as_secs().div_ceil(60).max(1)
}

impl ServerState {
    /// Checks a username and password and opens a session (the API's and the dashboard's
    /// sign-in). Blocking: Argon2 takes tens of milliseconds by design. The attempt is counted
    /// before the password is checked ([`SignInGuard::begin`]).
    pub fn sign_in(&self, username: &str, password: &str) -> Result<SessionCreated, SignInRefusal> {
        let guard = &self.sign_in_guard;
        guard
            .begin(username, std::time::Instant::now())
            .map_err(SignInRefusal::Paused)?;
        let found = self.storage.person_for_login(username.trim())?;
        // the same work whether or not the username exists: its answer time tells nothing
        let person = match found {
            Some((person, hash)) => verify_password(password, &hash).then_some(person),
            None => {
                verify_password(password, dummy_hash());
                None
            }
        };
        let Some(person) = person else {
            // who tried is written escaped (`?`): a username may hold anything, a line break too
            self.storage.record_audit(&AuditEntry::now(
                &format!("{:?}", username.trim().chars().take(64).collect::<String>()),
                "sign_in_failed",
                "wrong username or password",
            ))?;
            if let Err(pause) = guard.check(username, std::time::Instant::now()) {
                tracing::warn!(
                    username = %username.trim(),
                    pause_s = pause.as_secs(),
                    "wrong passwords in a row: sign-in paused for this username"
                );
            }
            return Err(SignInRefusal::BadCredentials);
        };
        guard.succeeded(username);
        let token = crate::devices::new_token();
        let now = Utc::now();
        let expires_at = now + chrono::Duration::hours(SESSION_HOURS);
        self.storage.add_session(
            &crate::devices::hash_token(&token),
            person.id,
            expires_at,
            now,
            &AuditEntry::now(&person.username, "sign_in", "session opened"),
        )?;
        Ok(SessionCreated {
            token,
            expires_at,
            person,
        })
    }
}

/// A real Argon2 hash of a password nobody has, made once: checked against when the username
/// does not exist, so that both answers take the same time.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no one has this password"))
}

impl ServerState {
    /// Ends a session (signing out), audited in the same transaction.
    pub fn sign_out(&self, token_hash: &str, username: &str) -> Result<(), StorageError> {
        self.storage.end_session(
            token_hash,
            chrono::Utc::now(),
            &AuditEntry::now(username, "sign_out", "session ended"),
        )
    }

    /// Disables (their sessions end at once) or enables again a person. One may not disable
    /// oneself, so that a city always keeps an administrator.
    pub fn set_person_disabled(
        &self,
        username: &str,
        disable: bool,
        actor: &str,
    ) -> Result<(), Refusal> {
        if disable && username == actor {
            return Err(Refusal::NotNow(
                "you cannot disable yourself; ask another city administrator".into(),
            ));
        }
        let action = if disable {
            "disable_person"
        } else {
            "enable_person"
        };
        let audit = AuditEntry::now(actor, action, username);
        let when = disable.then(chrono::Utc::now);
        if self.storage.set_person_disabled(username, when, &audit)? {
            Ok(())
        } else {
            Err(Refusal::NotFound(format!(
                "no person with the username {username}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = hash_password("correct horse battery");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("x", "not a hash"));
        assert_ne!(hash, hash_password("correct horse battery"), "salted");
    }

    #[test]
    fn roles_scope_and_manage() {
        let admin = Role::DistrictAdmin {
            district: "yuzhong".into(),
        };
        assert!(admin.manages("yuzhong") && !admin.manages("jiangbei"));
        assert!(Role::CityAdmin.manages("jiangbei"));
        assert!(!Role::Supervisor {
            district: "yuzhong".into()
        }
        .manages("yuzhong"));
        assert_eq!(
            Role::DepartmentViewer {
                populations: vec!["teacher".into()]
            }
            .scope(),
            Scope::Populations(vec!["teacher".into()])
        );
    }

    #[test]
    fn wrong_passwords_pause_sign_in_for_that_username_only() {
        let guard = SignInGuard::default();
        let t0 = std::time::Instant::now();
        let s = std::time::Duration::from_secs;
        // an attempt without `succeeded` is a wrong password
        for i in 1..FREE_ATTEMPTS {
            assert_eq!(guard.begin("Zhang", t0 + s(i.into())), Ok(()));
        }
        assert!(guard.check("zhang", t0 + s(9)).is_ok());
        // the fifth is still checked, and pauses a minute for that name in any case and spacing
        assert_eq!(guard.begin(" zhang ", t0 + s(10)), Ok(()));
        assert_eq!(guard.check("ZHANG", t0 + s(40)), Err(s(30)));
        assert_eq!(guard.begin("zhang", t0 + s(40)), Err(s(30)));
        assert!(guard.begin("li", t0 + s(40)).is_ok());
        // each further wrong one doubles the pause, up to fifteen minutes
        assert_eq!(guard.begin("zhang", t0 + s(71)), Ok(()));
        assert_eq!(guard.check("zhang", t0 + s(71)), Err(s(120)));
        assert_eq!(guard.begin("zhang", t0 + s(200)), Ok(()));
        assert_eq!(guard.check("zhang", t0 + s(200)), Err(s(240)));
        let mut at = 500;
        for _ in 0..6 {
            let wait = guard.check("zhang", t0 + s(at)).err().unwrap_or_default();
            at += wait.as_secs();
            assert_eq!(guard.begin("zhang", t0 + s(at)), Ok(()));
        }
        assert_eq!(guard.check("zhang", t0 + s(at)), Err(s(900)));
        // a right password starts again
        assert_eq!(guard.begin("zhang", t0 + s(at + 900)), Ok(()));
        guard.succeeded("zhang");
        assert!(guard.check("zhang", t0 + s(at + 901)).is_ok());
    }

    #[test]
    fn a_burst_of_guesses_gets_no_more_tries_than_guesses_in_turn() {
        let guard = std::sync::Arc::new(SignInGuard::default());
        let now = std::time::Instant::now();
        let passed: u32 = std::thread::scope(|threads| {
            let handles: Vec<_> = (0..40)
                .map(|_| {
                    let guard = &guard;
                    threads.spawn(move || u32::from(guard.begin("wang", now).is_ok()))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(passed, FREE_ATTEMPTS);
    }
}
