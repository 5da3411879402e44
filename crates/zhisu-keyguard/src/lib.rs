//! The bytes of the tablet's database key file, protected by the platform where it has a
//! secret store that needs no one at the keyboard (issue #18).
//!
//! - **Windows**: the key is wrapped with DPAPI (`CryptProtectData`, bound to the Windows
//!   account that runs the app, no prompt), and the file holds [`DPAPI_HEADER`] and the
//!   wrapped blob. A copy of the file opens only under the same account on the same machine
//!   (or with the account's password on a domain). A file of an older app (the key in hex) is
//!   read and should be written again wrapped ([`KeyFile::needs_rewrap`]).
//! - **Linux and Android**: the key in hex in a 0600 file in a 0700 folder apart from the data
//!   (the caller does the folders); why no keyring is used is in `docs/security.md`.
//!
//! Pure functions of bytes except the DPAPI calls; the caller writes and reads the file. Total:
//! any bytes give a key or an error, never a panic.

use std::fmt;

/// What a DPAPI-wrapped key file starts with.
pub const DPAPI_HEADER: &[u8] = b"ZHISU-DPAPI-1\n";

/// How this build protects the key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// Windows DPAPI, bound to the user account.
    Dpapi,
    /// The file's permissions only (0600 in a 0700 folder).
    FileMode,
}

/// The protection of this platform.
pub const PROTECTION: Protection = if cfg!(windows) {
    Protection::Dpapi
} else {
    Protection::FileMode
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyGuardError {
    /// The file was wrapped by DPAPI and this is not Windows.
    WrappedElsewhere,
    /// DPAPI refused (another account or machine, or a damaged file); the Windows error code.
    Unwrap(u32),
    Wrap(u32),
    /// The file's text is not a key (64 hex digits).
    NotAKey(String),
}

impl fmt::Display for KeyGuardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyGuardError::WrappedElsewhere => f.write_str(
                "the key file was protected by Windows (DPAPI): it opens only under the Windows account that wrote it",
            ),
            KeyGuardError::Unwrap(code) => write!(
                f,
                "Windows (DPAPI) cannot open the key file (error {code}): it was written under another account or machine, or it is damaged"
            ),
            KeyGuardError::Wrap(code) => {
                write!(f, "Windows (DPAPI) cannot protect the key (error {code})")
            }
            KeyGuardError::NotAKey(why) => write!(f, "the key file holds no key: {why}"),
        }
    }
}

impl std::error::Error for KeyGuardError {}

/// A key read from its file.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyFile {
    pub key: [u8; 32],
    /// The file is not protected as this platform protects key files (an older app's plain
    /// file on Windows): write [`encode`] of the key over it.
    pub needs_rewrap: bool,
}

impl fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyFile")
            .field("key", &"<hidden>")
            .field("needs_rewrap", &self.needs_rewrap)
            .finish()
    }
}

/// The bytes of the key file for `key` on this platform.
pub fn encode(key: &[u8; 32]) -> Result<Vec<u8>, KeyGuardError> {
    let hex = to_hex(key);
    match PROTECTION {
        Protection::FileMode => Ok(hex.into_bytes()),
        Protection::Dpapi => {
            let mut out = DPAPI_HEADER.to_vec();
            out.extend(platform::protect(hex.as_bytes())?);
            Ok(out)
        }
    }
}

/// The key in the bytes of a key file.
pub fn decode(bytes: &[u8]) -> Result<KeyFile, KeyGuardError> {
    if let Some(blob) = bytes.strip_prefix(DPAPI_HEADER) {
        if PROTECTION != Protection::Dpapi {
            return Err(KeyGuardError::WrappedElsewhere);
        }
        let hex = platform::unprotect(blob)?;
        return Ok(KeyFile {
            key: from_hex(&hex)?,
            needs_rewrap: false,
        });
    }
    Ok(KeyFile {
        key: from_hex(bytes)?,
        needs_rewrap: PROTECTION == Protection::Dpapi,
    })
}

fn to_hex(key: &[u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(bytes: &[u8]) -> Result<[u8; 32], KeyGuardError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| KeyGuardError::NotAKey("not text".into()))?
        .trim();
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(KeyGuardError::NotAKey(format!(
            "{} characters, not 64 hex digits",
            text.chars().count()
        )));
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
            .map_err(|e| KeyGuardError::NotAKey(e.to_string()))?;
    }
    Ok(key)
}

#[cfg(windows)]
#[allow(unsafe_code)]
mod platform {
    //! DPAPI through windows-sys: the only unsafe code of the key's path.
    use super::KeyGuardError;
    use windows_sys::Win32::Foundation::{GetLastError, LocalFree};
    use windows_sys::Win32::Security::Cryptography::{
        CryptProtectData, CryptUnprotectData, CRYPTPROTECT_UI_FORBIDDEN, CRYPT_INTEGER_BLOB,
    };

    /// Extra entropy mixed in by DPAPI: another program of the same user that calls DPAPI
    /// without it cannot open the blob by accident.
    const ENTROPY: &[u8] = b"cn.zhisu.surveyor database key";

    fn blob(bytes: &[u8]) -> CRYPT_INTEGER_BLOB {
        CRYPT_INTEGER_BLOB {
            cbData: bytes.len() as u32,
            pbData: bytes.as_ptr() as *mut u8,
        }
    }

    /// Copies DPAPI's output and frees it.
    fn take(out: CRYPT_INTEGER_BLOB) -> Vec<u8> {
        // SAFETY: on success DPAPI hands over a LocalAlloc'd buffer of cbData bytes.
        let bytes = unsafe { std::slice::from_raw_parts(out.pbData, out.cbData as usize) }.to_vec();
        // SAFETY: the buffer was allocated by DPAPI with LocalAlloc and is freed once.
        unsafe { LocalFree(out.pbData as _) };
        bytes
    }

    pub(super) fn protect(secret: &[u8]) -> Result<Vec<u8>, KeyGuardError> {
        let input = blob(secret);
        let entropy = blob(ENTROPY);
        let mut out = CRYPT_INTEGER_BLOB {
            cbData: 0,
            pbData: std::ptr::null_mut(),
        };
        // SAFETY: every pointer is valid for the call; the input buffers outlive it.
        let ok = unsafe {
            CryptProtectData(
                &input,
                std::ptr::null(),
                &entropy,
                std::ptr::null(),
                std::ptr::null(),
                CRYPTPROTECT_UI_FORBIDDEN,
                &mut out,
            )
        };
        if ok == 0 {
            // SAFETY: reads the calling thread's last error.
            return Err(KeyGuardError::Wrap(unsafe { GetLastError() }));
        }
        Ok(take(out))
    }

    pub(super) fn unprotect(wrapped: &[u8]) -> Result<Vec<u8>, KeyGuardError> {
        let input = blob(wrapped);
        let entropy = blob(ENTROPY);
        let mut out = CRYPT_INTEGER_BLOB {
            cbData: 0,
            pbData: std::ptr::null_mut(),
        };
        // SAFETY: as in `protect`.
        let ok = unsafe {
            CryptUnprotectData(
                &input,
                std::ptr::null_mut(),
                &entropy,
                std::ptr::null(),
                std::ptr::null(),
                CRYPTPROTECT_UI_FORBIDDEN,
                &mut out,
            )
        };
        if ok == 0 {
            // SAFETY: reads the calling thread's last error.
            return Err(KeyGuardError::Unwrap(unsafe { GetLastError() }));
        }
        Ok(take(out))
    }
}

#[cfg(not(windows))]
mod platform {
    //! No secret store: never called (`PROTECTION` is `FileMode`).
    use super::KeyGuardError;

    pub(super) fn protect(_secret: &[u8]) -> Result<Vec<u8>, KeyGuardError> {
        Err(KeyGuardError::Wrap(0))
    }

    pub(super) fn unprotect(_wrapped: &[u8]) -> Result<Vec<u8>, KeyGuardError> {
        Err(KeyGuardError::WrappedElsewhere)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> [u8; 32] {
        let mut k = [0u8; 32];
        for (i, b) in k.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        k
    }

    #[test]
    fn a_key_file_gives_back_its_key_and_never_holds_it_in_the_clear_where_protected() {
        let file = encode(&key()).unwrap();
        let read = decode(&file).unwrap();
        assert_eq!(read.key, key());
        assert!(!read.needs_rewrap);
        let hex = to_hex(&key());
        let holds_hex = file.windows(hex.len()).any(|w| w == hex.as_bytes());
        let holds_raw = file.windows(32).any(|w| w == key());
        match PROTECTION {
            Protection::Dpapi => {
                assert!(file.starts_with(DPAPI_HEADER));
                assert!(!holds_hex && !holds_raw, "the key is wrapped");
            }
            Protection::FileMode => assert_eq!(file, hex.as_bytes()),
        }
    }

    #[test]
    fn an_older_apps_plain_file_is_read_and_rewrapped_where_protected() {
        let plain = format!("{}\n", to_hex(&key()));
        let read = decode(plain.as_bytes()).unwrap();
        assert_eq!(read.key, key());
        assert_eq!(read.needs_rewrap, PROTECTION == Protection::Dpapi);
    }

    #[test]
    fn a_damaged_or_foreign_file_is_refused_with_a_reason() {
        for bad in [
            &b""[..],
            b"not a key",
            &[0xff; 64][..],
            b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
            b"\xe4\xb8\xad0123456789abcdef0123456789abcdef0123456789abcdef0123456789abc",
        ] {
            assert!(
                matches!(decode(bad), Err(KeyGuardError::NotAKey(_))),
                "{bad:?}"
            );
        }
        let mut wrapped = DPAPI_HEADER.to_vec();
        wrapped.extend([1, 2, 3, 4, 5]);
        let err = decode(&wrapped).unwrap_err();
        match PROTECTION {
            Protection::Dpapi => assert!(matches!(err, KeyGuardError::Unwrap(_)), "{err}"),
            Protection::FileMode => assert_eq!(err, KeyGuardError::WrappedElsewhere),
        }
        assert!(!err.to_string().is_empty());
    }

    #[cfg(windows)]
    #[test]
    fn a_wrapped_file_with_one_byte_changed_does_not_open() {
        let mut file = encode(&key()).unwrap();
        let last = file.len() - 1;
        file[last] ^= 0x01;
        assert!(matches!(decode(&file), Err(KeyGuardError::Unwrap(_))));
    }

    #[test]
    fn decode_is_total_on_any_bytes() {
        // a cheap sweep: prefixes and one-byte changes of a valid file never panic and never
        // give another key (DPAPI leaves a few header fields of its blob unauthenticated: a
        // change there still opens, to the same key)
        let file = encode(&key()).unwrap();
        for n in 0..file.len() {
            assert!(decode(&file[..n]).is_err(), "a prefix of {n} bytes");
        }
        for i in 0..file.len() {
            let mut changed = file.clone();
            changed[i] = changed[i].wrapping_add(0x55);
            if let Ok(read) = decode(&changed) {
                assert_eq!(read.key, key(), "byte {i} changed gave another key");
            }
        }
    }
}
