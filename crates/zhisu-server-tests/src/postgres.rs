//! A real PostgreSQL server for tests, started from the system's binaries into a temporary
//! folder on a free port, and stopped when dropped. `ZHISU_TEST_DATABASE_URL` (a server URL
//! without database name, e.g. `postgres://user@host:5432`) uses an existing server instead.
//!
//! PostgreSQL refuses to run as root; when the tests run as root (CI) the server runs as the
//! `postgres` system user that Debian's package creates.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct TestPostgres {
    base_url: String,
    local: Option<LocalServer>,
    /// For a server started with TLS: the CA certificate (PEM) its certificate is signed by.
    pub ca_file: Option<PathBuf>,
}

struct LocalServer {
    bin: PathBuf,
    dir: PathBuf,
    as_postgres_user: bool,
}

fn find_bin() -> PathBuf {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .filter(|bin| bin.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    candidates.sort();
    candidates.pop().expect(
        "PostgreSQL server binaries not found under /usr/lib/postgresql: install the Debian package \
         postgresql (scripts/install-deps.sh does), or set ZHISU_TEST_DATABASE_URL",
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl LocalServer {
    fn run(&self, program: &str, args: &[&str]) -> std::process::Output {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        command
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()))
    }
}

/// A PostgreSQL client program (`psql`, `pg_dump`) of the version the harness runs, else the one
/// on the `PATH` (a server given by `ZHISU_TEST_DATABASE_URL` on a machine without the server
/// package).
pub fn client_program(name: &str) -> PathBuf {
    std::fs::read_dir("/usr/lib/postgresql")
        .is_ok()
        .then(find_bin)
        .map(|bin| bin.join(name))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

impl TestPostgres {
    /// A server for tests: `fsync` and `synchronous_commit` off (the databases are thrown away).
    pub fn start() -> TestPostgres {
        Self::start_with(false, false)
    }

    /// A server that takes connections to its databases only over TLS, with a certificate for
    /// `localhost` and `127.0.0.1` signed by a CA made for it ([`TestPostgres::ca_file`]), as a
    /// CDC's own CA would sign one. Only the administrative database `postgres` is also reached
    /// without TLS (to create the test databases). Needs the `openssl` command.
    pub fn start_tls() -> TestPostgres {
        Self::start_with(false, true)
    }

    /// A server with PostgreSQL's durable defaults (`fsync` and `synchronous_commit` on), for
    /// benchmarks: a commit returns only once its WAL is on disk, as in a deployment.
    #[allow(dead_code)] // used by benches/p2_load.rs, not by every test crate
    pub fn start_durable() -> TestPostgres {
        Self::start_with(true, false)
    }

    fn start_with(durable: bool, tls: bool) -> TestPostgres {
        if let (false, Ok(url)) = (tls, std::env::var("ZHISU_TEST_DATABASE_URL")) {
            return TestPostgres {
                base_url: url.trim_end_matches('/').to_string(),
                local: None,
                ca_file: None,
            };
        }
        let bin = find_bin();
        let dir = tempfile::Builder::new()
            .prefix("zhisu-pg-")
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        let as_postgres_user = is_root();
        let ca_file = tls.then(|| make_certificates(&dir));
        if as_postgres_user {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "cannot hand {} to the postgres user", dir.display());
        }
        let server = LocalServer {
            bin,
            dir: dir.clone(),
            as_postgres_user,
        };
        let data = dir.join("data");
        let data = data.to_str().unwrap();
        let out = server.run(
            "initdb",
            &[
                "-D",
                data,
                "-A",
                "trust",
                "-U",
                "zhisu",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Tests: fsync off, these databases are thrown away. Durable (benchmarks): PostgreSQL's
        // own defaults for everything.
        let mut options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            dir.display()
        );
        if !durable {
            options.push_str(" -c fsync=off -c synchronous_commit=off");
        }
        if tls {
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={0}/server.crt -c ssl_key_file={0}/server.key",
                dir.display()
            ));
            // TLS only, but for the administrative database
            std::fs::write(
                format!("{data}/pg_hba.conf"),
                "local all all trust\n\
                 host postgres all 127.0.0.1/32 trust\n\
                 hostssl all all 127.0.0.1/32 trust\n",
            )
            .unwrap();
        }
        let log = dir.join("server.log");
        let out = server.run(
            "pg_ctl",
            &[
                "-D",
                data,
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        let base_url = format!("postgres://zhisu@127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while postgres::Client::connect(&format!("{base_url}/postgres"), postgres::NoTls).is_err() {
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not accept connections"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        TestPostgres {
            base_url,
            local: Some(server),
            ca_file,
        }
    }

    /// A new, empty database; returns its URL.
    pub fn fresh_database(&self, name: &str) -> String {
        let mut admin =
            postgres::Client::connect(&format!("{}/postgres", self.base_url), postgres::NoTls)
                .expect("connect to the test server");
        for statement in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin
                .batch_execute(&statement)
                .expect("create a test database");
        }
        format!("{}/{name}", self.base_url)
    }
}

/// A CA and a server certificate signed by it for `localhost` and `127.0.0.1`, made with the
/// `openssl` command into `dir` (`ca.crt`, `server.crt`, `server.key` 0600); returns the CA's file.
fn make_certificates(dir: &std::path::Path) -> PathBuf {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("the openssl command (Debian package openssl)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Zhisu test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    dir.join("ca.crt")
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        if let Some(server) = &self.local {
            let data = server.dir.join("data");
            let _ = server.run(
                "pg_ctl",
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
            );
            let _ = std::fs::remove_dir_all(&server.dir);
        }
    }
}
