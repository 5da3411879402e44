//! Server configuration: built-in defaults, then a TOML file (`--config`), then environment
//! variables and command-line options, each overriding the one before. `zhisu-server
//! config-example` prints [`EXAMPLE`], a commented file with every setting.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::FixedOffset;
use serde::{Deserialize, Deserializer};

/// UTC+8, the time of all China: the default local time of the dashboard.
pub const CHINA_STANDARD_TIME: FixedOffset = FixedOffset::east_opt(8 * 3600).expect("UTC+8");

/// Uploads read and stored at once by default: enough for the group commit to gather large
/// groups, few enough that batches of 100 from hundreds of tablets keep memory small.
pub const DEFAULT_MAX_CONCURRENT_UPLOADS: usize = 8;

/// Every setting, commented. A test loads it, so it always matches what the server reads.
pub const EXAMPLE: &str = r#"# zhisu-server configuration. Every setting is optional; the value shown is the default.
# Environment variables and command-line options override this file:
#   ZHISU_LISTEN / --listen, ZHISU_DATA_DIR / --data-dir, ZHISU_DATABASE_URL / --database-url,
#   ZHISU_QUESTIONNAIRES / --questionnaires.

# Address and port to listen on. Keep 127.0.0.1 behind a TLS reverse proxy (docs/deployment.md).
listen = "127.0.0.1:8470"

# Folder of the embedded SQLite database (zhisu-server.sqlite3), created if missing (0700).
# A relative folder here is taken from this file's folder, not from where the server starts.
data_dir = "data/server"

# PostgreSQL instead of the embedded SQLite, for deployments that outgrow one machine.
# The password is never written to the logs. TLS: sslmode=disable (never), prefer (when the
# database offers it; the default) or require (always); the database's certificate is always
# checked, against the public authorities and, with sslrootcert=FILE, the CA in that PEM file.
# database_url = "postgres://zhisu:secret@db.example-cdc.cn:5432/zhisu?sslmode=require&sslrootcert=/etc/zhisu/db-ca.pem"

# A folder of questionnaire files the server accepts interviews for (and earlier/ inside it).
# Without it the server uses the questionnaires built into it, the ones it was released with.
# questionnaires = "/usr/share/zhisu/questionnaires"

# The address tablets reach this server at, as they should type it (https://… behind the TLS
# proxy). Enrolment QR codes carry it, so that a tablet is set up by one scan. Without it the
# address the dashboard was opened at is used.
# public_url = "https://zhisu.example-cdc.cn"

# Largest request body, in bytes (413 batch_too_large above it).
max_body_bytes = 8388608

# Requests per second one device may make on average (429 rate_limited above it),
# and the burst it may send at once. On PostgreSQL they are counted in the database, so that
# several server processes on it limit as one.
device_requests_per_second = 50.0
device_request_burst = 100.0

# Uploads read and stored at once; more wait their turn with their bodies unread, so that the
# server's memory stays small however many tablets send batches at the same time.
max_concurrent_uploads = 8

# Log filter (tracing's EnvFilter syntax); RUST_LOG overrides it.
log = "info"

# The local time the dashboard shows, as an offset from UTC ("+08:00": China Standard Time).
utc_offset = "+08:00"

# The dashboard and reports mark estimates from fewer interviews than this as unreliable
# ("read with care"; they are still shown).
min_cell_n = 30

# Set when the server is reached over HTTPS (it sits behind a TLS proxy): the dashboard's
# cookies are then marked Secure, so a browser never sends them over plain HTTP.
secure_cookies = false

# Set when a reverse proxy on this machine forwards every request (docs/deployment.md): the
# address in its X-Forwarded-For is then the client's, for the enrolment throttle per address.
behind_proxy = false

# A bearer token for /metrics (for a monitoring system elsewhere). Without one, /metrics answers
# only requests from this machine that did not come through the proxy.
# metrics_token = "a long random string"

# Connections (docs/deployment.md, "Connections and stopping"): a client must send its request
# head within header_timeout_s (also how long an idle keep-alive connection is kept), and may
# not pause longer than body_timeout_s while sending a body; beyond max_connections a new
# connection is answered 503 and closed; on SIGTERM requests in flight get shutdown_grace_s.
header_timeout_s = 10
body_timeout_s = 30
max_connections = 1024
shutdown_grace_s = 20

# Retention (docs/privacy.md): the server deletes, at start and every hour, sessions this many
# days after they expired or ended, enrolment codes this many days after they expired, and
# audit entries older than audit_retention_days (0 keeps the audit log whole; less than 183,
# six months, is raised to 183). Interviews are kept until erased (zhisu-server erase-interview).
session_retention_days = 30
enrolment_code_retention_days = 90
audit_retention_days = 1825
# Re-contact details for back-checks are deleted this many days after their round ends.
recontact_retention_days = 30
"#;

/// The settings as a file states them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub questionnaires: Option<PathBuf>,
    pub public_url: Option<String>,
    pub max_body_bytes: Option<usize>,
    pub device_requests_per_second: Option<f64>,
    pub device_request_burst: Option<f64>,
    pub max_concurrent_uploads: Option<usize>,
    pub log: Option<String>,
    #[serde(default, deserialize_with = "utc_offset")]
    pub utc_offset: Option<FixedOffset>,
    pub min_cell_n: Option<u64>,
    pub secure_cookies: Option<bool>,
    pub behind_proxy: Option<bool>,
    pub metrics_token: Option<String>,
    pub header_timeout_s: Option<u64>,
    pub body_timeout_s: Option<u64>,
    pub max_connections: Option<usize>,
    pub shutdown_grace_s: Option<u64>,
    pub session_retention_days: Option<u32>,
    pub enrolment_code_retention_days: Option<u32>,
    pub audit_retention_days: Option<u32>,
    pub recontact_retention_days: Option<u32>,
}

/// An offset from UTC written as `+08:00` (or `+0800`, `-05:00`).
fn utc_offset<'de, D: Deserializer<'de>>(d: D) -> Result<Option<FixedOffset>, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "utc_offset {text:?} is not an offset from UTC such as \"+08:00\""
        ))
    })
}

impl FileConfig {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration {}", path.display()))?;
        let mut file: FileConfig = toml::from_str(&text)
            .with_context(|| format!("{} is not a valid configuration", path.display()))?;
        // folders in the file are taken from the file's folder, not from where the server starts
        let base = path.parent().unwrap_or(Path::new("."));
        for folder in [&mut file.data_dir, &mut file.questionnaires]
            .into_iter()
            .flatten()
        {
            if folder.is_relative() {
                *folder = base.join(&*folder);
            }
        }
        if let Some(url) = &file.public_url {
            check_public_url(url).with_context(|| format!("{}: public_url", path.display()))?;
        }
        Ok(file)
    }
}

/// A server address tablets can use: `http://` or `https://`, a host, no query or fragment.
pub fn check_public_url(url: &str) -> anyhow::Result<()> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| anyhow::anyhow!("{url:?} does not start with https:// or http://"))?;
    anyhow::ensure!(
        !rest.is_empty()
            && !rest.starts_with('/')
            && !rest.contains(['?', '#', ' '])
            && !rest.chars().any(char::is_control),
        "{url:?} is not a server address such as https://zhisu.example-cdc.cn"
    );
    Ok(())
}

impl FileConfig {
    /// The configuration file used when none is named: `server.toml` beside the binary, or,
    /// for a binary installed under `/usr` (the package's), `/etc/zhisu/server.toml`.
    pub fn default_path() -> Option<PathBuf> {
        let exe = std::env::current_exe().ok()?;
        let beside = exe.parent()?.join("server.toml");
        if beside.is_file() {
            return Some(beside);
        }
        let system = PathBuf::from("/etc/zhisu/server.toml");
        (exe.starts_with("/usr/") && system.is_file()).then_some(system)
    }
}

/// The settings in force.
#[derive(Clone, PartialEq)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    /// A folder of questionnaires; `None`: those built into the binary.
    pub questionnaires: Option<PathBuf>,
    pub public_url: Option<String>,
    pub max_body_bytes: usize,
    pub device_requests_per_second: f64,
    pub device_request_burst: f64,
    pub max_concurrent_uploads: usize,
    pub log: String,
    pub utc_offset: FixedOffset,
    pub min_cell_n: u64,
    pub secure_cookies: bool,
    pub behind_proxy: bool,
    pub metrics_token: Option<String>,
    pub connections: crate::serve::ConnectionLimits,
    pub retention: zhisu_server_service::privacy::RetentionPolicy,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8470)),
            data_dir: PathBuf::from("data/server"),
            database_url: None,
            questionnaires: None,
            public_url: None,
            max_body_bytes: 8 * 1024 * 1024,
            device_requests_per_second: 50.0,
            device_request_burst: 100.0,
            max_concurrent_uploads: DEFAULT_MAX_CONCURRENT_UPLOADS,
            log: "info".to_string(),
            utc_offset: CHINA_STANDARD_TIME,
            min_cell_n: zhisu_stats::DEFAULT_MIN_CELL_N,
            secure_cookies: false,
            behind_proxy: false,
            metrics_token: None,
            connections: crate::serve::ConnectionLimits::default(),
            retention: zhisu_server_service::privacy::RetentionPolicy::default(),
        }
    }
}

impl Config {
    /// Defaults, overridden by `file`, overridden by `explicit` (environment and options).
    pub fn merge(file: FileConfig, explicit: FileConfig) -> Config {
        let d = Config::default();
        Config {
            listen: explicit.listen.or(file.listen).unwrap_or(d.listen),
            data_dir: explicit.data_dir.or(file.data_dir).unwrap_or(d.data_dir),
            database_url: explicit.database_url.or(file.database_url),
            questionnaires: explicit.questionnaires.or(file.questionnaires),
            public_url: explicit
                .public_url
                .or(file.public_url)
                .map(|u| u.trim_end_matches('/').to_string()),
            max_body_bytes: explicit
                .max_body_bytes
                .or(file.max_body_bytes)
                .unwrap_or(d.max_body_bytes),
            device_requests_per_second: explicit
                .device_requests_per_second
                .or(file.device_requests_per_second)
                .unwrap_or(d.device_requests_per_second),
            device_request_burst: explicit
                .device_request_burst
                .or(file.device_request_burst)
                .unwrap_or(d.device_request_burst),
            max_concurrent_uploads: explicit
                .max_concurrent_uploads
                .or(file.max_concurrent_uploads)
                .unwrap_or(d.max_concurrent_uploads)
                .max(1),
            log: explicit.log.or(file.log).unwrap_or(d.log),
            utc_offset: explicit
                .utc_offset
                .or(file.utc_offset)
                .unwrap_or(d.utc_offset),
            min_cell_n: explicit
                .min_cell_n
                .or(file.min_cell_n)
                .unwrap_or(d.min_cell_n),
            secure_cookies: explicit
                .secure_cookies
                .or(file.secure_cookies)
                .unwrap_or(d.secure_cookies),
            behind_proxy: explicit
                .behind_proxy
                .or(file.behind_proxy)
                .unwrap_or(d.behind_proxy),
            metrics_token: explicit.metrics_token.or(file.metrics_token),
            connections: crate::serve::ConnectionLimits {
                header_timeout: explicit
                    .header_timeout_s
                    .or(file.header_timeout_s)
                    .map_or(d.connections.header_timeout, std::time::Duration::from_secs),
                body_timeout: explicit
                    .body_timeout_s
                    .or(file.body_timeout_s)
                    .map_or(d.connections.body_timeout, std::time::Duration::from_secs),
                max_connections: explicit
                    .max_connections
                    .or(file.max_connections)
                    .unwrap_or(d.connections.max_connections)
                    .max(1),
                shutdown_grace: explicit
                    .shutdown_grace_s
                    .or(file.shutdown_grace_s)
                    .map_or(d.connections.shutdown_grace, std::time::Duration::from_secs),
            },
            retention: zhisu_server_service::privacy::RetentionPolicy {
                session_days: explicit
                    .session_retention_days
                    .or(file.session_retention_days)
                    .unwrap_or(d.retention.session_days),
                sign_in_attempt_days: d.retention.sign_in_attempt_days,
                enrolment_code_days: explicit
                    .enrolment_code_retention_days
                    .or(file.enrolment_code_retention_days)
                    .unwrap_or(d.retention.enrolment_code_days),
                recontact_days: explicit
                    .recontact_retention_days
                    .or(file.recontact_retention_days)
                    .unwrap_or(d.retention.recontact_days),
                audit_days: match explicit.audit_retention_days.or(file.audit_retention_days) {
                    Some(0) => None,
                    Some(days) => Some(days),
                    None => d.retention.audit_days,
                },
            },
        }
    }
}

/// A database URL with its password replaced by `***`, for logs and `Debug`: in the user
/// part (`user:secret@host`) and as a query parameter (`?password=secret`).
pub fn redact_url(url: &str) -> String {
    let (url, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let base = redact_userinfo(url);
    match query {
        None => base,
        Some(query) => {
            let redacted: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}=***")
                    }
                    _ => pair.to_string(),
                })
                .collect();
            format!("{base}?{}", redacted.join("&"))
        }
    }
}

fn redact_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}")
            } else {
                format!("{scheme}://{user}@{host}")
            }
        }
        None => url.to_string(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("questionnaires", &self.questionnaires)
            .field("public_url", &self.public_url)
            .field("max_body_bytes", &self.max_body_bytes)
            .field(
                "device_requests_per_second",
                &self.device_requests_per_second,
            )
            .field("device_request_burst", &self.device_request_burst)
            .field("max_concurrent_uploads", &self.max_concurrent_uploads)
            .field("log", &self.log)
            .field("utc_offset", &self.utc_offset)
            .field("min_cell_n", &self.min_cell_n)
            .field("secure_cookies", &self.secure_cookies)
            .field("behind_proxy", &self.behind_proxy)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .field("connections", &self.connections)
            .field("retention", &self.retention)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_states_the_defaults() {
        let example: FileConfig = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(
            Config::merge(example, FileConfig::default()),
            Config::default()
        );
    }

    #[test]
    fn options_override_the_file_which_overrides_defaults() {
        let file: FileConfig =
            toml::from_str("listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/zhisu\"\nlog = \"debug\"")
                .unwrap();
        let explicit = FileConfig {
            listen: Some("127.0.0.1:9100".parse().unwrap()),
            ..FileConfig::default()
        };
        let config = Config::merge(file, explicit);
        assert_eq!(config.listen, "127.0.0.1:9100".parse().unwrap());
        assert_eq!(config.data_dir, PathBuf::from("/srv/zhisu"));
        assert_eq!(config.log, "debug");
        assert_eq!(config.max_body_bytes, 8 * 1024 * 1024);
        assert!(
            toml::from_str::<FileConfig>("colour = 1").is_err(),
            "unknown settings are refused"
        );
        let file: FileConfig = toml::from_str("utc_offset = \"-05:30\"\nmin_cell_n = 50").unwrap();
        let config = Config::merge(file, FileConfig::default());
        assert_eq!(
            config.utc_offset,
            FixedOffset::west_opt(5 * 3600 + 1800).unwrap()
        );
        assert_eq!(config.min_cell_n, 50);
        let file: FileConfig =
            toml::from_str("audit_retention_days = 0\nsession_retention_days = 7").unwrap();
        let config = Config::merge(file, FileConfig::default());
        assert_eq!(
            config.retention.audit_days, None,
            "0 keeps the audit log whole"
        );
        assert_eq!(config.retention.session_days, 7);
        let wrong = toml::from_str::<FileConfig>("utc_offset = \"Beijing\"").unwrap_err();
        assert!(
            wrong.to_string().contains("not an offset from UTC"),
            "{wrong}"
        );
    }

    #[test]
    fn secrets_do_not_reach_the_logs() {
        assert_eq!(
            redact_url("postgres://zhisu:s3cret@db:5432/zhisu"),
            "postgres://zhisu:***@db:5432/zhisu"
        );
        assert_eq!(
            redact_url("postgres://zhisu@db/zhisu"),
            "postgres://zhisu@db/zhisu"
        );
        let config = Config {
            database_url: Some("postgres://u:topsecret@h/d".into()),
            ..Config::default()
        };
        assert!(!format!("{config:?}").contains("topsecret"));
        assert_eq!(
            redact_url("postgres://zhisu@db/zhisu?sslmode=disable&password=s3cret"),
            "postgres://zhisu@db/zhisu?sslmode=disable&password=***"
        );
    }
}
