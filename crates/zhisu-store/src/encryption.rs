//! The device database encrypted at rest with SQLCipher (AES-256 in CBC mode with an HMAC-SHA512
//! per 4 KiB page, the WAL too), under a 256-bit key drawn once per device.
//!
//! * **The key** is raw random bytes, handed to SQLCipher as a raw key (`x'…'`), so no password
//!   derivation runs at open. Where it is kept is the app's choice ([`DatabaseKey`] does not
//!   know); [`load_or_create_key_file`] is the store of last resort: a file `database.key`
//!   (mode 0600) in a directory of its own (mode 0700), which the caller must keep apart from
//!   the database's directory. What each platform uses is written in `docs/security.md`.
//! * **A plain database** left by an older app is encrypted in place on the first keyed open
//!   ([`DeviceStore::open`]), with nothing lost and safe against a kill at any moment: the WAL is
//!   checkpointed into the plain file, `sqlcipher_export` writes an encrypted copy beside it
//!   (`<db>.encrypting`), the copy is synced, and one `rename` replaces the plain file. Until the
//!   rename the plain file is whole and the next open starts the migration again; after it the
//!   encrypted file is whole. The replaced plain bytes are overwritten with zeros (through a
//!   hard link kept as `<db>.plain-old` across the rename) before they are unlinked.
//!
//! [`DeviceStore::open`]: crate::DeviceStore::open

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::{migrations, StoreError};

/// The first 16 bytes of every plain SQLite 3 database file. An SQLCipher file starts with its
/// random salt instead.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// The name of the key file in the directory given to [`load_or_create_key_file`].
pub const KEY_FILE_NAME: &str = "database.key";

/// The 256-bit key of the device database. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseKey([u8; 32]);

impl fmt::Debug for DatabaseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DatabaseKey(<redacted>)")
    }
}

impl DatabaseKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self, StoreError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| StoreError::Key(format!("no random bytes for a new key: {e}")))?;
        Ok(DatabaseKey(bytes))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        DatabaseKey(bytes)
    }

    /// The key as 64 lowercase hex digits (how a platform secret store or the key file keeps it).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads 64 hex digits (surrounding white space ignored).
    pub fn from_hex(text: &str) -> Result<Self, StoreError> {
        let text = text.trim();
        let bad = || StoreError::Key("a database key is 64 hex digits".into());
        if text.len() != 64 || !text.is_ascii() {
            return Err(bad());
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(DatabaseKey(bytes))
    }

    /// The value SQLCipher takes as a raw key: `x'<hex>'` (no key derivation).
    fn sqlcipher_literal(&self) -> String {
        format!("x'{}'", self.to_hex())
    }
}

/// The steps of encrypting a plain database, reported as they are reached (the kill test stops
/// the process at each of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncryptionStep {
    /// A plain database was found; nothing has been written yet.
    PlainFound,
    /// Its WAL is checkpointed into the plain file.
    Checkpointed,
    /// The encrypted copy `<db>.encrypting` is written and synced; the plain file is unchanged.
    CopyWritten,
    /// The encrypted copy has replaced the plain file.
    Replaced,
    /// The old plain bytes are overwritten and unlinked.
    PlainWiped,
}

impl EncryptionStep {
    pub fn name(self) -> &'static str {
        match self {
            EncryptionStep::PlainFound => "plain_found",
            EncryptionStep::Checkpointed => "checkpointed",
            EncryptionStep::CopyWritten => "copy_written",
            EncryptionStep::Replaced => "replaced",
            EncryptionStep::PlainWiped => "plain_wiped",
        }
    }
}

/// Reads the key from `dir/database.key`, or draws a new one and writes it there when there is
/// none. The directory is created with mode 0700 and the file with mode 0600 (on Unix); the new
/// key is written to a temporary file, synced, and renamed, so a kill never leaves half a key.
///
/// This is the key store for a device with no platform secret store (a Linux kiosk without a
/// keyring). `dir` must not be the database's directory: a copy of the data directory must not
/// carry the key.
pub fn load_or_create_key_file(dir: &Path) -> Result<DatabaseKey, StoreError> {
    let key_error = |what: &str, e: std::io::Error| {
        StoreError::Key(format!("{what} {}: {e}", dir.join(KEY_FILE_NAME).display()))
    };
    create_private_dir(dir).map_err(|e| key_error("cannot create the key directory for", e))?;
    let path = dir.join(KEY_FILE_NAME);
    match fs::read(&path) {
        Ok(bytes) => {
            let read = zhisu_keyguard::decode(&bytes)
                .map_err(|e| StoreError::Key(format!("{}: {e}", path.display())))?;
            let key = DatabaseKey::from_bytes(read.key);
            // an older app's plain file where the platform protects keys (Windows): wrapped now
            if read.needs_rewrap {
                write_key_file(dir, &key).map_err(|e| key_error("cannot protect", e))?;
            }
            return Ok(key);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(key_error("cannot read", e)),
    }
    let key = DatabaseKey::generate()?;
    write_key_file(dir, &key).map_err(|e| key_error("cannot write", e))?;
    Ok(key)
}

/// Writes `dir/database.key` as this platform protects it ([`zhisu_keyguard::encode`]): a
/// temporary file, synced, renamed over the old one, so a kill never leaves half a key.
fn write_key_file(dir: &Path, key: &DatabaseKey) -> std::io::Result<()> {
    let bytes = zhisu_keyguard::encode(&key.0).map_err(std::io::Error::other)?;
    let temporary = dir.join(format!("{KEY_FILE_NAME}.new"));
    let _ = fs::remove_file(&temporary);
    let mut file = private_file(&temporary)?;
    file.write_all(&bytes).and_then(|()| file.sync_all())?;
    drop(file);
    fs::rename(&temporary, dir.join(KEY_FILE_NAME))?;
    sync_dir(dir)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if !dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir)
    }
}

fn private_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Whether `path` holds a plain (unencrypted) SQLite database.
pub fn is_plain_database(path: &Path) -> std::io::Result<bool> {
    let mut header = [0u8; 16];
    match File::open(path) {
        Ok(mut file) => match file.read_exact(&mut header) {
            Ok(()) => Ok(&header == PLAIN_HEADER),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(e),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Opens `path` with `key`, encrypting a plain database first. A wrong key (or a file that is
/// no database) is [`StoreError::WrongKey`], and the file is left as it is.
pub(crate) fn open_encrypted(
    path: &Path,
    key: &DatabaseKey,
    on_step: &mut dyn FnMut(EncryptionStep),
) -> Result<Connection, StoreError> {
    // What a killed migration left: a half-written copy, or plain bytes still to wipe.
    for leftover in [
        sibling(path, ".encrypting"),
        sibling(path, ".encrypting-journal"),
    ] {
        remove_if_present(&leftover)?;
    }
    let old = sibling(path, ".plain-old");
    if old.exists() {
        if same_file(&old, path)? {
            // Killed between linking and the rename: the plain file is still the database.
            remove_if_present(&old)?;
        } else {
            wipe_and_remove(&old)?;
        }
    }
    if is_plain_database(path).map_err(io_error(path))? {
        encrypt_plain(path, key, on_step)?;
    }
    let conn = Connection::open(path)?;
    keyed(&conn, key)?;
    Ok(conn)
}

/// Gives `conn` the key and proves it opens the file.
pub(crate) fn keyed(conn: &Connection, key: &DatabaseKey) -> Result<(), StoreError> {
    conn.pragma_update(None, "key", key.sqlcipher_literal())?;
    // Temporary tables and sort files stay in memory: nothing decrypted goes to a temp file.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
        row.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Err(StoreError::WrongKey)
        }
        Err(e) => Err(e.into()),
    }
}

fn encrypt_plain(
    path: &Path,
    key: &DatabaseKey,
    on_step: &mut dyn FnMut(EncryptionStep),
) -> Result<(), StoreError> {
    on_step(EncryptionStep::PlainFound);
    let copy = sibling(path, ".encrypting");
    {
        let plain = Connection::open(path)?;
        plain.busy_timeout(std::time::Duration::from_secs(5))?;
        // Everything committed goes into the plain file (a hot WAL is recovered first).
        plain.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        on_step(EncryptionStep::Checkpointed);
        let version = migrations::schema_version(&plain)?;
        plain.execute(
            "ATTACH DATABASE ?1 AS encrypted KEY ?2",
            [copy.display().to_string(), key.sqlcipher_literal()],
        )?;
        plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        // sqlcipher_export copies the schema and the rows, not the header's user_version.
        plain.pragma_update(Some("encrypted"), "user_version", version as i64)?;
        plain.execute("DETACH DATABASE encrypted", [])?;
        plain.close().map_err(|(_, e)| StoreError::Sqlite(e))?;
    }
    File::open(&copy)
        .and_then(|f| f.sync_all())
        .map_err(io_error(&copy))?;
    on_step(EncryptionStep::CopyWritten);
    // The plain WAL was checkpointed and truncated, and closing the last connection removed it;
    // a leftover -wal or -shm must not be read against the new file.
    remove_if_present(&sibling(path, "-wal"))?;
    remove_if_present(&sibling(path, "-shm"))?;
    let old = sibling(path, ".plain-old");
    remove_if_present(&old)?;
    fs::hard_link(path, &old).map_err(io_error(&old))?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    sync_dir(dir).map_err(io_error(dir))?;
    fs::rename(&copy, path).map_err(io_error(path))?;
    sync_dir(dir).map_err(io_error(dir))?;
    on_step(EncryptionStep::Replaced);
    wipe_and_remove(&old)?;
    on_step(EncryptionStep::PlainWiped);
    Ok(())
}

/// Overwrites a replaced plain database with zeros, syncs it, and unlinks it. (On flash storage
/// the controller may keep old blocks: full-disk encryption of the tablet covers that.)
fn wipe_and_remove(path: &Path) -> Result<(), StoreError> {
    let len = fs::metadata(path).map_err(io_error(path))?.len();
    let mut file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io_error(path))?;
    let zeros = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        file.write_all(&zeros[..n]).map_err(io_error(path))?;
        left -= n as u64;
    }
    file.sync_all().map_err(io_error(path))?;
    drop(file);
    fs::remove_file(path).map_err(io_error(path))
}

/// Whether `a` and `b` are one file (two links to one inode).
fn same_file(a: &Path, b: &Path) -> Result<bool, StoreError> {
    let (Ok(ma), Ok(mb)) = (fs::metadata(a), fs::metadata(b)) else {
        return Ok(false);
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok(ma.dev() == mb.dev() && ma.ino() == mb.ino())
    }
    #[cfg(not(unix))]
    {
        // Without inode numbers: the link was made to a plain file, and the database is still
        // plain only when the rename has not happened.
        let _ = (ma, mb);
        is_plain_database(b).map_err(io_error(b))
    }
}

fn remove_if_present(path: &Path) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(path)(e)),
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |e| StoreError::Io {
        path: path.display().to_string(),
        source: e,
    }
}
