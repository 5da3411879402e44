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

impl TestPostgres {
    /// A server for tests: `fsync` and `synchronous_commit` off (the databases are thrown away).
    pub fn start() -> TestPostgres {
        Self::start_with(false)
    }

    /// A server with PostgreSQL's durable defaults (`fsync` and `synchronous_commit` on), for
    /// benchmarks: a commit returns only once its WAL is on disk, as in a deployment.
    #[allow(dead_code)] // used by benches/p2_load.rs, not by every test crate
    pub fn start_durable() -> TestPostgres {
        Self::start_with(true)
    }

    fn start_with(durable: bool) -> TestPostgres {
        if let Ok(url) = std::env::var("ZHISU_TEST_DATABASE_URL") {
            return TestPostgres {
                base_url: url.trim_end_matches('/').to_string(),
                local: None,
            };
        }
        let bin = find_bin();
        let dir = tempfile::Builder::new()
            .prefix("zhisu-pg-")
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        let as_postgres_user = is_root();
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
