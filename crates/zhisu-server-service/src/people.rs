//! Signing people in: passwords hashed with Argon2id (memory-hard), the pause after wrong
//! passwords in a row, sessions that expire. Roles and scopes are in `zhisu-server-storage`.

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AuditEntry, Refusal, ServerState, StorageError};

pub use zhisu_server_storage::people::{ListedPerson, Person, Role, Scope};

/// How long a session lasts after login.
pub const SESSION_HOURS: i64 = 8;

type HashJob = Box<dyn FnOnce() + Send>;

/// Runs `job` on the one thread that computes every Argon2 hash, and waits for it. Argon2
/// needs 19 MiB of working memory per hash by design; that thread keeps one such buffer for
/// the life of the process ([`argon2id_into`]). Hashed on whichever blocking thread served the
/// sign-in, with a fresh buffer each time, twenty people signing in left the server holding
/// hundreds of MiB the allocator did not give back. Sign-ins wait their turn (tens of
/// milliseconds each), which also paces a flood of attempts.
fn on_hashing_thread<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> T {
    static JOBS: std::sync::OnceLock<std::sync::mpsc::Sender<HashJob>> = std::sync::OnceLock::new();
    let jobs = JOBS.get_or_init(|| {
        let (send, receive) = std::sync::mpsc::channel::<HashJob>();
        std::thread::Builder::new()
            .name("password-hashing".into())
            .spawn(move || {
                for job in receive {
                    job();
                }
            })
            .expect("the password-hashing thread starts");
        send
    });
    let (done, result) = std::sync::mpsc::sync_channel(1);
    jobs.send(Box::new(move || {
        let _ = done.send(job());
    }))
    .expect("the password-hashing thread runs for the life of the process");
    result
        .recv()
        .expect("the password-hashing thread answers every job")
}

/// Working memory a stored hash may ask for (blocks of 1 KiB): the default is 19,456; a hash
/// asking for more than 64 MiB is not ours and is not computed.
const MOST_BLOCKS: usize = 64 * 1024;

thread_local! {
    /// Argon2's working memory, allocated once per thread (in practice: the hashing thread).
    static WORKING_MEMORY: std::cell::RefCell<Vec<argon2::Block>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Argon2id (version 0x13) of `password` with `salt` under `params` into `out`, in this
/// thread's one working buffer.
fn argon2id_into(
    params: argon2::Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let needed = params.block_count();
    if needed > MOST_BLOCKS {
        return Err(argon2::Error::MemoryTooMuch);
    }
    WORKING_MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < needed {
            memory.resize(needed, argon2::Block::default());
        }
        Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password_into_with_memory(password, salt, out, &mut memory[..needed])
    })
}

/// A new password's hash, as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).
pub fn hash_password(password: &str) -> String {
    let password = password.to_string();
    on_hashing_thread(move || {
        let params = argon2::Params::default();
        let salt = SaltString::encode_b64(&crate::devices::random_bytes(16))
            .expect("16 bytes make a valid salt");
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt
            .decode_b64(&mut salt_bytes)
            .expect("a salt just encoded decodes");
        let mut out = [0u8; argon2::Params::DEFAULT_OUTPUT_LEN];
        argon2id_into(params.clone(), password.as_bytes(), salt_bytes, &mut out)
            .expect("Argon2 hashes any password with default parameters");
        PasswordHash {
            algorithm: argon2::Algorithm::Argon2id.ident(),
            version: Some(argon2::Version::V0x13.into()),
            params: argon2::password_hash::ParamsString::try_from(&params)
                .expect("default parameters are written"),
            salt: Some(salt.as_salt()),
            hash: Some(
                argon2::password_hash::Output::new(&out).expect("32 bytes are a valid output"),
            ),
        }
        .to_string()
    })
}

/// Whether `password` has the PHC string `hash` (Argon2id as [`hash_password`] writes it);
/// false for anything else.
pub fn verify_password(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_string(), hash.to_string());
    on_hashing_thread(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return false;
        };
        if argon2::Algorithm::try_from(parsed.algorithm) != Ok(argon2::Algorithm::Argon2id)
            || parsed
                .version
                .is_some_and(|v| v != u32::from(argon2::Version::V0x13))
        {
            return false;
        }
        let Ok(params) = argon2::Params::try_from(&parsed) else {
            return false;
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let mut out = vec![0u8; expected.len()];
        if argon2id_into(params, password.as_bytes(), salt_bytes, &mut out).is_err() {
            return false;
        }
        // every byte compared, whatever the first difference
        out.iter()
            .zip(expected.as_bytes())
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
    })
}

/// A password people can live with and attackers cannot guess quickly.
pub fn password_problem(password: &str) -> Option<&'static str> {
    if password.chars().count() < 10 {
        Some("a password needs at least 10 characters")
    } else {
        None
    }
}

pub use zhisu_server_storage::people::{sign_in_key, FREE_ATTEMPTS};

/// The username of the first administrator ([`ServerState::create_first_administrator`]).
pub const FIRST_ADMINISTRATOR: &str = "admin";

/// A password for the first administrator: 16 characters that cannot be mistaken for each other
/// (31 kinds, about 79 bits), in groups of four: `K7XM-QPAZ-93RT-WXYZ`.
pub fn new_first_password() -> String {
    let chars = crate::devices::random_code_chars(16);
    [&chars[..4], &chars[4..8], &chars[8..12], &chars[12..]].join("-")
}

impl ServerState {
    /// The first sign-in of a new server: when nobody can sign in yet, a city administrator
    /// [`FIRST_ADMINISTRATOR`] with a new random password, returned here once and kept only as
    /// its hash. `None` when the server already has people (nothing is changed or shown again).
    pub fn create_first_administrator(&self) -> Result<Option<(Person, String)>, Refusal> {
        if !self.storage.people()?.is_empty() {
            return Ok(None);
        }
        let password = new_first_password();
        let added = self.add_person(
            FIRST_ADMINISTRATOR,
            "市级管理员",
            &password,
            Role::CityAdmin,
            "first run",
        )?;
        Ok(added.map(|person| (person, password)))
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
        let key = sign_in_key(username);
        if let Err(wait) = self.storage.begin_sign_in(&key, Utc::now())? {
            return Err(SignInRefusal::Paused(wait.to_std().unwrap_or_default()));
        }
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
            let who = format!("{:?}", username.trim().chars().take(64).collect::<String>());
            self.storage.record_audit(&AuditEntry::now(
                &who,
                "sign_in_failed",
                "wrong username or password",
            ))?;
            if let Some(pause) = self.storage.sign_in_pause(&key, Utc::now())? {
                tracing::warn!(
                    username = %who,
                    pause_s = pause.num_seconds(),
                    "wrong passwords in a row: sign-in paused for this username"
                );
            }
            return Err(SignInRefusal::BadCredentials);
        };
        self.storage.sign_in_succeeded(&key)?;
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
        // the same PHC string the crate's own hasher and verifier read and write
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
        let theirs = Argon2::default()
            .hash_password(b"a password of old", &salt)
            .unwrap()
            .to_string();
        assert!(verify_password("a password of old", &theirs));
        assert!(!verify_password("a password of new", &theirs));
        // a hash asking for a gigabyte of memory is refused, not computed
        let greedy = theirs.replace("m=19456", "m=1048576");
        assert!(!verify_password("a password of old", &greedy));
    }

    #[test]
    fn passwords_hashed_from_many_threads_at_once_each_get_their_own_answer() {
        let hashes: Vec<(String, String)> = std::thread::scope(|threads| {
            let handles: Vec<_> = (0..8)
                .map(|n| {
                    threads.spawn(move || {
                        let password = format!("password number {n}");
                        let hash = hash_password(&password);
                        (password, hash)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (n, (password, hash)) in hashes.iter().enumerate() {
            assert!(verify_password(password, hash), "{n}");
            let other = &hashes[(n + 1) % hashes.len()].1;
            assert!(!verify_password(password, other), "{n}");
        }
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
}
