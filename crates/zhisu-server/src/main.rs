use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use serde::Deserialize;
use tracing_subscriber::EnvFilter;
use uuid::Uuid;
use zhisu_protocol::{ReceiptStatus, Site};
use zhisu_server::config::{Config, FileConfig};
use zhisu_server::{HttpState, ServerState};
use zhisu_server_service::storage::AuditEntry;

/// Zhisu central server: enrols tablets, receives their interviews and stores them.
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    common: Common,
    /// Address to listen on [default: 127.0.0.1:8470].
    #[arg(long, env = "ZHISU_LISTEN")]
    listen: Option<SocketAddr>,
}

#[derive(Args, Debug)]
struct Common {
    /// A configuration file (TOML; `zhisu-server config-example` prints one with every setting)
    /// [default: server.toml beside the binary; for the installed package /etc/zhisu/server.toml].
    #[arg(long, env = "ZHISU_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Folder for the embedded SQLite database, created if missing [default: data/server].
    #[arg(long, env = "ZHISU_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// PostgreSQL instead of the embedded SQLite: postgres://user@host:port/database.
    #[arg(
        long,
        env = "ZHISU_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// A folder of questionnaire files the server accepts interviews for [default: the
    /// questionnaires built into the server].
    #[arg(long, env = "ZHISU_QUESTIONNAIRES", global = true)]
    questionnaires: Option<PathBuf>,
}

impl Cli {
    /// Defaults, then the configuration file, then environment and options.
    fn config(&self) -> anyhow::Result<Config> {
        let file = match self.common.config.clone().or_else(FileConfig::default_path) {
            Some(path) => FileConfig::load(&path)?,
            None => FileConfig::default(),
        };
        let explicit = FileConfig {
            listen: self.listen,
            data_dir: self.common.data_dir.clone(),
            database_url: self.common.database_url.clone(),
            questionnaires: self.common.questionnaires.clone(),
            ..FileConfig::default()
        };
        Ok(Config::merge(file, explicit))
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Print a configuration file with every setting, commented.
    ConfigExample,
    /// Make the key pair of a monitoring round: tablets seal completed interviews to its public
    /// key, and only this server, with the private key, opens them. Written to
    /// `<data-dir>/round-keys/<round>.key` (mode 0600); never replaced. Back the file up
    /// apart from the database before enrolling tablets: without it the round's sealed
    /// interviews can never be read.
    RoundKey {
        #[arg(long)]
        round: String,
    },
    /// Create a one-time code a tablet exchanges for its identity, for a round and district.
    /// Refused while the round has no key pair (`round-key`).
    EnrolmentCode {
        #[arg(long)]
        round: String,
        #[arg(long)]
        district: String,
        /// Days the code stays valid.
        #[arg(long, default_value_t = 7)]
        valid_days: i64,
        /// Also write the enrolment URI (the server's address and the code) as a QR code
        /// image (SVG) to this file: one scan sets a tablet up.
        #[arg(long)]
        qr: Option<PathBuf>,
        /// The address tablets reach this server at [default: public_url of the configuration].
        #[arg(long)]
        server_url: Option<String>,
    },
    /// Add a person who signs in to the server (the first city administrator, for one). The
    /// password is read from standard input (one line) or ZHISU_PASSWORD.
    AddPerson {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// city_admin, district_admin, supervisor or department_viewer.
        #[arg(long)]
        role: String,
        /// For district administrators and supervisors.
        #[arg(long)]
        district: Option<String>,
        /// For department viewers: population keys, comma-separated (teacher,medical).
        #[arg(long, value_delimiter = ',')]
        populations: Vec<String>,
    },
    /// Publish a questionnaire file for a monitoring round: checked, kept, and delivered to the
    /// devices of that round from then on.
    Publish {
        #[arg(long)]
        round: String,
        file: PathBuf,
    },
    /// Add the starter education library's pieces the server does not hold yet (`serve` does
    /// it at every start too; a piece edited in the dashboard is never replaced).
    LoadLibrary,
    /// List enrolled devices.
    Devices,
    /// Revoke a device: its next sync is refused and it is told why.
    RevokeDevice { device_id: Uuid },
    /// Replace a district's sites and quotas from a TOML file (see docs/sync-protocol.md).
    ImportSites {
        #[arg(long)]
        district: String,
        file: PathBuf,
    },
    /// Import device backup files (handed over on a USB stick) as if the tablet had synced:
    /// checked, re-scored and stored exactly once.
    ///
    /// A backup is encrypted with its tablet's database key: give the file holding that key
    /// (64 hex digits, the tablet's `database.key`) with `--key-file`. Backups written before
    /// tablets encrypted their database are read without it.
    ImportBackup {
        #[arg(long)]
        key_file: Option<PathBuf>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Count the dashboard's literacy, progress and item cells again from the stored interviews.
    /// The server keeps them with every write; this is for a database restored or edited by
    /// hand, or for peace of mind (one transaction; uploads wait meanwhile).
    RebuildCells,
    /// Find stored interviews that today's upload would refuse or flag (stored before the
    /// protocol's limits, or written by another tool), and list what is wrong with each. With
    /// --flag, each one is also flagged for quality review, so the QC page lists it.
    CheckData {
        #[arg(long)]
        flag: bool,
    },
    /// Write a consistent copy of the SQLite database to FILE (a new file, readable by the
    /// server's user only; safe while the server runs). PostgreSQL: use pg_dump.
    Backup { file: PathBuf },
    /// Erase one respondent's interview at their request, by the reference the tablet showed
    /// them (`3F1C-9A2B`) or the full interview id: the interview and its counts go in one
    /// transaction, audited with the reason; a tablet or backup sending it again does not
    /// store it again. A reference that two interviews share is refused, listing both.
    EraseInterview {
        /// The reference (eight hex digits, as the feedback page shows it) or the full id.
        id: String,
        /// Why (the request: who asked, when, its reference), kept in the audit log.
        #[arg(long)]
        reason: String,
    },
    /// Delete what the retention rules say has expired (the server also does this at start
    /// and every hour): old sessions, sign-in counts, enrolment codes and audit entries.
    PurgeExpired,
    /// The first sign-in of a new server: when nobody can sign in yet, creates the city
    /// administrator "admin" with a random password and prints both, once. Prints nothing
    /// (and changes nothing) when the server already has people.
    FirstSignIn,
    /// Loads a demonstration round (three districts, a sample plan, a tablet per district,
    /// about 375 synthetic interviews, some reviewed by the first city administrator), so that
    /// every dashboard page has something to show. Only into a server with no enrolled tablet.
    LoadDemo {
        /// The round [default: this year].
        #[arg(long)]
        round: Option<String>,
        /// The seed of the synthetic interviews (the same seed gives the same answers).
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
}

/// Where the rounds' private keys are kept.
fn round_keys_dir(config: &Config) -> PathBuf {
    config.data_dir.join("round-keys")
}

/// Every `<round>.key` in `dir`. A file that is not a usable key stops the server: sealed
/// interviews must never be refused for a key that is silently missing.
fn load_round_keys(dir: &Path) -> anyhow::Result<Vec<zhisu_protocol::sealed::RoundSecretKey>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut keys = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let (Some(round), Some("key")) = (
            path.file_stem().and_then(|s| s.to_str()),
            path.extension().and_then(|s| s.to_str()),
        ) else {
            continue;
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the round key {}", path.display()))?;
        keys.push(
            zhisu_protocol::sealed::RoundSecretKey::from_hex(round, &text).with_context(|| {
                format!(
                    "the round key {} is not usable; restore it from its backup",
                    path.display()
                )
            })?,
        );
    }
    Ok(keys)
}

/// Makes a round's key pair and writes the private key, refusing to replace one.
fn round_key(config: &Config, round: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !round.is_empty()
            && round
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "a round is letters, digits, '-' and '_'"
    );
    let dir = round_keys_dir(config);
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
    folder
        .create(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{round}.key"));
    let key =
        zhisu_protocol::sealed::RoundSecretKey::generate(round, &mut zhisu_protocol::sealed::OsRng);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).with_context(|| {
        format!(
            "round {round} already has a key pair ({}); it is never replaced",
            path.display()
        )
    })?;
    std::io::Write::write_all(&mut file, format!("{}\n", key.to_hex()).as_bytes())?;
    file.sync_all()?;
    println!("round {round}: public key {}", key.public_key().public_key);
    println!(
        "private key written to {}: copy it now to offline storage kept apart from the database \
         backups, and restart the server; without it this round's sealed interviews can never be read",
        path.display()
    );
    Ok(())
}

fn open_state(config: &Config) -> anyhow::Result<HttpState> {
    let questionnaires = zhisu_server::load_questionnaires(config.questionnaires.as_deref())?;
    let server = if let Some(url) = &config.database_url {
        zhisu_server::open_postgres_with(url, questionnaires)?
    } else {
        refuse_other_owner(&config.data_dir)?;
        // the folder of the personal data: the server's user only
        let mut folder = std::fs::DirBuilder::new();
        folder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
        folder
            .create(&config.data_dir)
            .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
        owner_only(&config.data_dir)?;
        zhisu_server::open_sqlite_with(
            &config.data_dir.join("zhisu-server.sqlite3"),
            questionnaires,
        )?
    };
    let mut state = HttpState::new(server);
    state.max_body_bytes = config.max_body_bytes;
    // several server processes share one PostgreSQL database (behind a load balancer): their
    // limits are kept in it so that they limit as one; one process on SQLite keeps them in memory
    let shared = config.database_url.is_some();
    state.rate_limit = std::sync::Arc::new(zhisu_server::rate_limit::RateLimit::new(
        config.device_requests_per_second,
        config.device_request_burst,
        shared,
    ));
    state.enrol_guard = std::sync::Arc::new(zhisu_server::rate_limit::EnrolGuard::new(shared));
    state.page_guard = std::sync::Arc::new(zhisu_server::rate_limit::PageGuard::new(shared));
    state.upload_permits =
        std::sync::Arc::new(tokio::sync::Semaphore::new(config.max_concurrent_uploads));
    state.utc_offset = config.utc_offset;
    state.min_cell_n = config.min_cell_n;
    state.retention = config.retention;
    for key in load_round_keys(&round_keys_dir(config))? {
        tracing::info!(round = %key.key_id, public_key = %key.public_key().public_key, "round key");
        state.add_round_key(key);
    }
    // no tablet starts a round whose sealed interviews this server could not open
    state.require_round_keys = true;
    state.secure_cookies = config.secure_cookies;
    state.behind_proxy = config.behind_proxy;
    state.metrics_token = config.metrics_token.clone();
    state.public_url = config.public_url.clone();
    Ok(state)
}

/// The data folder and the database files in it are the server's user's only: one found
/// readable or writable by others (made by hand, restored from a copy, an older server) is
/// tightened, and the log says so.
#[cfg(unix)]
fn owner_only(folder: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let tighten = |path: &Path, mode: u32| -> anyhow::Result<()> {
        let Ok(meta) = std::fs::metadata(path) else {
            return Ok(());
        };
        let found = meta.permissions().mode() & 0o777;
        if found & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .with_context(|| format!("cannot make {} private", path.display()))?;
            tracing::warn!(
                path = %path.display(),
                found = format!("{found:o}"),
                now = format!("{mode:o}"),
                "personal data was readable by other users of this machine: made private"
            );
        }
        Ok(())
    };
    tighten(folder, 0o700)?;
    for name in [
        "zhisu-server.sqlite3",
        "zhisu-server.sqlite3-wal",
        "zhisu-server.sqlite3-shm",
    ] {
        tighten(&folder.join(name), 0o600)?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

fn import_backups(
    state: &HttpState,
    key_file: Option<&std::path::Path>,
    files: &[PathBuf],
) -> anyhow::Result<()> {
    let key = match key_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(anyhow::Error::from)
                .and_then(|text| Ok(zhisu_store::DatabaseKey::from_hex(&text)?))
                .with_context(|| format!("cannot read the key file {}", path.display()))?,
        ),
        None => None,
    };
    for file in files {
        let mut interviews = zhisu_store::read_backup(file, key.as_ref())
            .with_context(|| format!("cannot read the backup {}", file.display()))?;
        // interviews sealed at completion open with their round's private key
        for sealed in zhisu_store::read_sealed_backup(file, key.as_ref())? {
            let round_key = state.round_keys.get(&sealed.key_id).with_context(|| {
                format!(
                    "interview {} in {} is sealed to the round key '{}', which this server does \
                     not hold: restore the key file from its backup; nothing of this file was imported",
                    sealed.id,
                    file.display(),
                    sealed.key_id
                )
            })?;
            interviews.push(round_key.open(&sealed).with_context(|| {
                format!(
                    "interview {} in {} does not open",
                    sealed.id,
                    file.display()
                )
            })?);
        }
        let total = interviews.len();
        let mut counts = [0usize; 4];
        for chunk in interviews.chunks(zhisu_protocol::MAX_BATCH_INTERVIEWS) {
            for receipt in zhisu_server_service::ingest::ingest(state, chunk.to_vec(), None)? {
                counts[match receipt.status {
                    ReceiptStatus::Stored => 0,
                    ReceiptStatus::AlreadyStored => 1,
                    ReceiptStatus::Conflict => 2,
                    ReceiptStatus::Rejected => 3,
                }] += 1;
                if let (Some(code), Some(message)) = (&receipt.code, &receipt.message) {
                    eprintln!(
                        "{}: {}: {code}: {message}",
                        file.display(),
                        receipt.interview_id
                    );
                }
            }
        }
        state.audit(
            "cli",
            "import_backup",
            &format!("{}: {total} interviews", file.display()),
        )?;
        println!(
            "{}: {total} interviews: {} stored, {} already stored, {} conflicts, {} rejected",
            file.display(),
            counts[0],
            counts[1],
            counts[2],
            counts[3]
        );
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SitesFile {
    sites: Vec<SiteEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteEntry {
    id: String,
    name: String,
    site_type: String,
    industry: Option<String>,
    ownership: Option<String>,
    size: Option<String>,
    #[serde(default)]
    quotas: std::collections::BTreeMap<String, u32>,
    stratum: Option<String>,
    weight: Option<f64>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    /// Time-slot quotas for travel peaks (`[[sites.time_slots]]`: label, first_day, last_day
    /// as quoted dates, from, to as `HH:MM`, target).
    #[serde(default)]
    time_slots: Vec<zhisu_protocol::TimeSlot>,
}

fn import_sites(state: &ServerState, district: &str, file: &Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let parsed: SitesFile = toml::from_str(&text)
        .with_context(|| format!("{} is not a valid sites file", file.display()))?;
    anyhow::ensure!(!district.trim().is_empty(), "the district is empty");
    let mut sites = Vec::new();
    for entry in parsed.sites {
        sites.push(Site {
            id: entry.id,
            district: district.to_string(),
            name: entry.name,
            site_type: entry.site_type,
            industry: entry.industry,
            ownership: entry.ownership,
            size: entry.size,
            quotas: entry.quotas,
            stratum: entry.stratum,
            weight: entry.weight,
            latitude: entry.latitude,
            longitude: entry.longitude,
            time_slots: entry.time_slots,
        });
    }
    let actor = format!("cli (import-sites {})", file.display());
    let stored = state
        .replace_sites(district, sites, &actor)
        .with_context(|| format!("{} is not stored", file.display()))?;
    println!("{district}: {stored} sites");
    Ok(())
}

fn enrolment_code(
    state: &ServerState,
    round: &str,
    district: &str,
    valid_days: i64,
    qr: Option<&Path>,
    server_url: Option<&str>,
) -> anyhow::Result<()> {
    if let Some(url) = server_url {
        zhisu_server::config::check_public_url(url)?;
    }
    anyhow::ensure!(
        !district.trim().is_empty() && !round.trim().is_empty(),
        "district and round must not be empty"
    );
    anyhow::ensure!(
        (1..=90).contains(&valid_days),
        "--valid-days must be 1 to 90"
    );
    let code =
        state.create_enrolment_code(round, district, chrono::Duration::days(valid_days), "cli")?;
    println!("{code}");
    let uri = server_url.map(|server| {
        zhisu_protocol::enrol_uri::EnrolUri {
            server_url: server.trim_end_matches('/').to_string(),
            code: code.clone(),
        }
        .to_uri()
    });
    if let Some(uri) = &uri {
        println!("{uri}");
    }
    if let Some(path) = qr {
        let svg = zhisu_server::api::enrolment::qr_svg(uri.as_deref().unwrap_or(&code))?;
        std::fs::write(path, svg).with_context(|| format!("cannot write {}", path.display()))?;
        match uri {
            Some(_) => eprintln!(
                "QR code (server address and code) written to {}",
                path.display()
            ),
            None => eprintln!(
                "QR code (the code only: set public_url in the configuration, or --server-url, \
                 so that it carries the server's address too) written to {}",
                path.display()
            ),
        }
    }
    Ok(())
}

/// The interview `given` names: a full id as it is, or the one stored interview whose id
/// starts with the reference the respondent was shown; none or several: an error saying which.
fn interview_to_erase(state: &zhisu_server::ServerState, given: &str) -> anyhow::Result<Uuid> {
    if let Ok(id) = Uuid::parse_str(given.trim()) {
        return Ok(id);
    }
    let Some(reference) = zhisu_core::parse_reference(given) else {
        anyhow::bail!(
            "{given:?} is neither an interview id nor a reference (eight hex digits, as 3F1C-9A2B)"
        );
    };
    let found = state.storage.interviews_with_reference(&reference)?;
    match found.as_slice() {
        [one] => Ok(one.id),
        [] => anyhow::bail!(
            "no stored interview has the reference {given} (erased already, or not yet uploaded?)"
        ),
        several => {
            let listed: Vec<String> = several
                .iter()
                .map(|m| {
                    format!(
                        "  {}  district {}  site {}  received {}",
                        m.id,
                        m.district.as_deref().unwrap_or("-"),
                        m.site_id.as_deref().unwrap_or("-"),
                        m.received_at.format("%Y-%m-%d %H:%M UTC")
                    )
                })
                .collect();
            anyhow::bail!(
                "{} interviews have the reference {given}; ask the respondent where and when they were interviewed and give the full id:\n{}",
                several.len(),
                listed.join("\n")
            )
        }
    }
}

/// Threads for blocking work (every database call): one for each upload that may be written at
/// once (`max_concurrent_uploads`), and as many again as four per core for everything else (a
/// device's token, its assignment, dashboard pages), so that uploads waiting on the writer never
/// hold every thread while a tablet's poll waits behind them (issue #19, R6: polls took
/// seconds at p99 when uploads had all eight). Never hundreds (tokio's default is 512), each
/// of which would keep its own allocator arena under a burst.
fn blocking_threads(uploads: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (cores * 4).clamp(8, 64) + uploads
}

/// glibc's allocator gives threads that allocate at once arenas of their own, up to eight per
/// core, and an arena's freed memory is rarely given back: the request threads and the blocking
/// pool's database threads each grow one, and under bursts of large uploads the server's
/// resident memory grows with the number of threads rather than with the work (issue #19: the
/// PostgreSQL backend peaked at 111 MiB with batches of 100). Two arenas keep contention low on
/// the machines a district runs (the handful of cores that serve requests take turns) and the
/// memory near what is in use. `MALLOC_ARENA_MAX` in the environment, when set, wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn cap_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a tunable of the allocator; called before any other thread
        // exists
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

fn main() -> anyhow::Result<()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    cap_malloc_arenas();
    // every file the server creates (database, WAL, backups, QR codes) is its user's only,
    // whatever the shell or service manager set
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let cli = Cli::parse();
    if let Some(Command::ConfigExample) = &cli.command {
        print!("{}", zhisu_server::config::EXAMPLE);
        return Ok(());
    }
    let config = cli.config()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(blocking_threads(config.max_concurrent_uploads))
        .build()?
        .block_on(server_main(cli, config))
}

async fn server_main(cli: Cli, config: Config) -> anyhow::Result<()> {
    // colours only for a person at a terminal: files and journald get plain lines
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log)),
        )
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    tracing::debug!(?config, "configuration");
    let state = tokio::task::block_in_place(|| open_state(&config))?;
    let cli_result = tokio::task::block_in_place(|| match &cli.command {
        Some(Command::ImportBackup { key_file, files }) => {
            import_backups(&state, key_file.as_deref(), files).map(|()| true)
        }
        Some(Command::RoundKey { round }) => round_key(&config, round).map(|()| true),
        Some(Command::EnrolmentCode {
            round,
            district,
            valid_days,
            qr,
            server_url,
        }) => {
            // a round starts when its tablets are enrolled: not without a usable key pair
            let keys = load_round_keys(&round_keys_dir(&config))?;
            anyhow::ensure!(
                keys.iter().any(|k| &k.key_id == round),
                "round {round} has no key pair: run `zhisu-server round-key --round {round}`, back \
                 the key file up, and restart the server before enrolling tablets"
            );
            enrolment_code(
                &state,
                round,
                district,
                *valid_days,
                qr.as_deref(),
                server_url.as_deref().or(config.public_url.as_deref()),
            )
            .map(|()| true)
        }
        Some(Command::AddPerson {
            username,
            display_name,
            role,
            district,
            populations,
        }) => {
            use zhisu_server_service::people::Role;
            let need_district = || {
                district
                    .clone()
                    .ok_or_else(|| anyhow::anyhow!("--district is needed for {role}"))
            };
            let role = match role.as_str() {
                "city_admin" => Role::CityAdmin,
                "district_admin" => Role::DistrictAdmin {
                    district: need_district()?,
                },
                "supervisor" => Role::Supervisor {
                    district: need_district()?,
                },
                "department_viewer" => {
                    anyhow::ensure!(!populations.is_empty(), "--populations is needed for department_viewer");
                    Role::DepartmentViewer {
                        populations: populations.clone(),
                    }
                }
                other => anyhow::bail!("unknown role {other}; use city_admin, district_admin, supervisor or department_viewer"),
            };
            let password = match std::env::var("ZHISU_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            anyhow::ensure!(
                state
                    .add_person(username, display_name, &password, role, "cli")?
                    .is_some(),
                "the username {username} is taken"
            );
            println!("added {username}");
            Ok(true)
        }
        Some(Command::Publish { round, file }) => {
            use zhisu_server_service::questionnaires::PublishOutcome;
            let source = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            match state.publish_questionnaire(round, &source, "cli")? {
                PublishOutcome::Published(r) => println!("published {} {} ({}) for round {round}", r.id, r.version, r.hash),
                PublishOutcome::AlreadyPublished(r) => println!("{} {} is already published with this content", r.id, r.version),
                PublishOutcome::VersionTaken => anyhow::bail!("another file is already published under this id and version; give it a new version"),
            }
            Ok(true)
        }
        Some(Command::LoadLibrary) => {
            let added = state.load_starter_library()?;
            println!("added {added} pieces of the starter library");
            Ok(true)
        }
        Some(Command::Devices) => {
            for d in state.storage.devices()? {
                let status = match d.revoked_at {
                    Some(at) => format!("revoked {at}"),
                    None => "active".to_string(),
                };
                let seen = d
                    .last_seen_at
                    .map_or("never".to_string(), |t| t.to_string());
                println!(
                    "{}\t{}\t{}\t{}\t{status}\tlast seen {seen}",
                    d.id, d.district, d.round, d.name
                );
            }
            Ok(true)
        }
        Some(Command::RevokeDevice { device_id }) => {
            anyhow::ensure!(
                state.revoke_device(*device_id, "cli")?,
                "no device {device_id}"
            );
            println!("revoked {device_id}");
            Ok(true)
        }
        Some(Command::ImportSites { district, file }) => {
            import_sites(&state, district, file).map(|()| true)
        }
        Some(Command::Backup { file }) => {
            state
                .storage
                .backup_into(file)
                .with_context(|| format!("cannot back up into {}", file.display()))?;
            state.audit("cli", "backup", &file.display().to_string())?;
            println!("backed up into {}", file.display());
            Ok(true)
        }
        Some(Command::EraseInterview { id, reason }) => {
            anyhow::ensure!(!reason.trim().is_empty(), "--reason must say why");
            let id = interview_to_erase(&state, id)?;
            anyhow::ensure!(
                state.erase_interview(id, "cli", reason.trim())?,
                "no stored interview {id}"
            );
            println!("erased {id}");
            Ok(true)
        }
        Some(Command::PurgeExpired) => {
            let purged = state.purge_expired(&config.retention, chrono::Utc::now())?;
            println!("purged {purged}");
            Ok(true)
        }
        Some(Command::RebuildCells) => {
            let started = std::time::Instant::now();
            state.storage.rebuild_cells(&AuditEntry::now(
                "cli",
                "rebuild_cells",
                "literacy, progress and item cells counted again",
            ))?;
            println!(
                "literacy, progress and item cells counted again from {} interviews in {:.1} s",
                state.storage.interview_count()?,
                started.elapsed().as_secs_f64()
            );
            Ok(true)
        }
        Some(Command::FirstSignIn) => {
            match state.create_first_administrator()? {
                Some((person, password)) => {
                    println!("用户名 username: {}", person.username);
                    println!("密码 password:   {password}");
                    eprintln!("请记下这个密码：它只显示这一次。Write this password down: it is shown only this once.");
                }
                None => eprintln!(
                    "这台服务器已经有登录账号，请用已有的账号登录。This server already has people who sign in: use one of them."
                ),
            }
            Ok(true)
        }
        Some(Command::LoadDemo { round, seed }) => {
            let round = round
                .clone()
                .unwrap_or_else(|| chrono::Utc::now().format("%Y").to_string());
            let reviewer = state
                .storage
                .people()?
                .into_iter()
                .map(|(person, _)| person)
                .find(|p| matches!(p.role, zhisu_server_service::people::Role::CityAdmin));
            let summary = state.load_demo(&round, reviewer.as_ref(), *seed)?;
            println!(
                "演示数据 demonstration round {round}: {} districts, {} sites, {} interviews, {} reviews, {} other contacts",
                summary.districts, summary.sites, summary.interviews, summary.reviews, summary.contacts
            );
            if let Some(previous) = &summary.previous_round {
                println!(
                    "演示数据 the round before, {previous}: {} interviews; a demonstration target for {round}",
                    summary.previous_interviews
                );
            }
            println!(
                "演示数据 outreach: {} events, {} quiz sessions, {} practice interviews, {} library pieces",
                summary.events, summary.quiz_sessions, summary.practice, summary.library_pieces
            );
            Ok(true)
        }
        Some(Command::CheckData { flag }) => {
            let found = state.check_data(flag.then_some("cli"))?;
            for problem in &found {
                println!(
                    "{} (received {}):",
                    problem.interview_id, problem.received_at
                );
                for what in &problem.problems {
                    // device text is quoted escaped: nothing it holds reaches the terminal raw
                    println!("  - {}", what.escape_debug());
                }
            }
            println!(
                "{} of {} stored interviews have problems{}",
                found.len(),
                state.storage.interview_count()?,
                if *flag && !found.is_empty() {
                    "; each is flagged for quality review"
                } else {
                    ""
                }
            );
            Ok(true)
        }
        Some(Command::Serve) | Some(Command::ConfigExample) | None => Ok(false),
    });
    if !matches!(cli_result, Ok(false)) {
        // PostgreSQL's synchronous clients close their connections when dropped, which must not
        // happen on the async runtime's thread (it panics there)
        tokio::task::block_in_place(move || drop(state));
        return cli_result.map(|_| ());
    }
    // SIGTERM is caught from before the port opens: a stop sent as soon as the server answers
    // is a clean stop, never the default (killed)
    let stop = stop_signal()?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(
        listen = %config.listen,
        database = %config
            .database_url
            .as_deref()
            .map(zhisu_server::config::redact_url)
            .unwrap_or_else(|| config.data_dir.join("zhisu-server.sqlite3").display().to_string()),
        storage = state.storage.backend(),
        questionnaires = state.questionnaires.len(),
        "zhisu-server ready"
    );
    // the starter library's pieces this server does not hold yet (an edit is never undone)
    if state.storage.read_only().is_none() {
        match tokio::task::block_in_place(|| state.load_starter_library()) {
            Ok(0) => {}
            Ok(added) => tracing::info!(added, "added the starter library's pieces"),
            Err(error) => tracing::warn!(%error, "could not add the starter library"),
        }
    }
    // looked for now, so a missing font is in the log at start, not found at the first report
    zhisu_server::report_docx::chart::font_available();
    purge_every_hour(&state, config.retention);
    let limits = config.connections;
    raise_open_files_limit(limits.max_connections);
    zhisu_server::serve::serve_with_limits(listener, state, limits, stop).await?;
    tracing::info!("zhisu-server stopped");
    Ok(())
}

/// Raises the soft limit of open files to the hard limit (systemd's default soft limit is 1,024,
/// fewer than the connections a busy round needs), and says so when it stays below what
/// `max_connections` needs (each connection is a file, plus the database's).
fn raise_open_files_limit(max_connections: usize) {
    let wanted = max_connections as u64 + 64;
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < wanted => tracing::warn!(
            open_files = limit,
            max_connections,
            "the open-files limit is below max_connections + 64: raise LimitNOFILE (docs/deployment.md)"
        ),
        Ok(limit) => tracing::info!(open_files = limit, "open-files limit"),
        Err(error) => tracing::warn!(%error, "cannot read or raise the open-files limit"),
    }
}

/// Applies the retention rules now and every hour after (docs/privacy.md), off the async
/// runtime; a failure is logged and tried again at the next hour.
fn purge_every_hour(state: &HttpState, policy: zhisu_server_service::privacy::RetentionPolicy) {
    if state.storage.read_only().is_some() {
        return;
    }
    let server = state.server.clone();
    tokio::spawn(async move {
        let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            hourly.tick().await;
            let server = server.clone();
            match tokio::task::spawn_blocking(move || {
                server.purge_expired(&policy, chrono::Utc::now())
            })
            .await
            {
                Ok(Ok(purged)) if purged.total() > 0 => {
                    tracing::info!(%purged, "expired personal data deleted")
                }
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::warn!(%error, "cannot delete expired data"),
                Err(error) => tracing::warn!(%error, "cannot delete expired data"),
            }
        }
    });
}

/// Refuses to open a data folder that belongs to another user when run as root (an
/// administrative command typed with `sudo` would otherwise create files the service's user
/// cannot write): run it as that user (`sudo -u zhisu zhisu-server …`).
fn refuse_other_owner(data_dir: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // the owner of /proc/self is this process's effective user
        let me = std::fs::metadata("/proc/self").map(|m| m.uid());
        let owner = std::fs::metadata(data_dir).map(|m| m.uid());
        if let (Ok(0), Ok(owner)) = (me, owner) {
            anyhow::ensure!(
                owner == 0,
                "{} belongs to another user (uid {owner}); run this as that user, e.g. \
                 sudo -u zhisu zhisu-server …, so that the service can still write what it creates",
                data_dir.display()
            );
        }
    }
    Ok(())
}

/// Completes on SIGTERM (systemd's stop) or Ctrl-C. The handler is in place when this returns
/// (before the server listens), so a stop that comes while it starts is graceful too.
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot handle SIGTERM")?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("asked to stop");
    })
}
