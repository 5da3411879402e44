//! The server's configuration as an operator uses it: the printed example, a file, and
//! environment variables overriding the file.
use std::path::PathBuf;
use std::process::Command;

fn server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zhisu-server"));
    command
        .env_remove("ZHISU_DATA_DIR")
        .env_remove("ZHISU_DATABASE_URL");
    command.env(
        "ZHISU_QUESTIONNAIRES",
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires"),
    );
    command
}

#[test]
fn the_printed_example_is_a_working_configuration() {
    let output = server().arg("config-example").output().unwrap();
    assert!(output.status.success());
    let example = String::from_utf8(output.stdout).unwrap();
    assert_eq!(example, zhisu_server::config::EXAMPLE);
    assert!(example.contains("device_requests_per_second"));

    // a file that moves the data folder; then the environment moves it again
    let dir = tempfile::tempdir().unwrap();
    let from_file = dir.path().join("from-file");
    let config = dir.path().join("zhisu-server.toml");
    std::fs::write(
        &config,
        example.replace(
            "data_dir = \"data/server\"",
            &format!("data_dir = {:?}", from_file.display().to_string()),
        ),
    )
    .unwrap();
    let run = server()
        .arg("--config")
        .arg(&config)
        .arg("devices")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        from_file.join("zhisu-server.sqlite3").exists(),
        "the file's data_dir is used"
    );

    let from_env = dir.path().join("from-env");
    let run = server()
        .env("ZHISU_DATA_DIR", &from_env)
        .arg("--config")
        .arg(&config)
        .arg("devices")
        .output()
        .unwrap();
    assert!(run.status.success());
    assert!(
        from_env.join("zhisu-server.sqlite3").exists(),
        "the environment overrides the file"
    );

    std::fs::write(&config, "colour = \"red\"\n").unwrap();
    let run = server()
        .arg("--config")
        .arg(&config)
        .arg("devices")
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("is not a valid configuration"));
}

/// The binary as systemd runs it: SIGTERM stops it cleanly (exit 0, "stopped" in its log),
/// the open-files limit is raised at start and reported, and the data folder is the server
/// user's only.
#[cfg(unix)]
#[test]
fn sigterm_stops_the_server_cleanly() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.path().join("server.log");
    let mut child = server()
        .env("ZHISU_DATA_DIR", &data)
        .env("ZHISU_LISTEN", format!("127.0.0.1:{port}"))
        .stderr(std::fs::File::create(&log).unwrap())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        std::fs::metadata(&data).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{status:?}\n{log}");
    assert!(log.contains("open-files limit"), "{log}");
    assert!(log.contains("zhisu-server stopped"), "{log}");
}

/// The installed server, started from a folder that has nothing of Zhisu in it: every
/// administrative command finds its configuration (named by ZHISU_CONFIG, as the package's
/// /etc/zhisu/server.toml is found), the data folder the file names relative to itself, and the
/// questionnaires built into the binary (no `questionnaires` folder anywhere); and its log,
/// written to a file, carries no colour codes.
#[cfg(unix)]
#[test]
fn every_command_works_outside_a_clone() {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    let config = etc.join("server.toml");
    std::fs::write(
        &config,
        "data_dir = \"../data\"\npublic_url = \"https://zhisu.example-cdc.cn\"\n",
    )
    .unwrap();
    std::fs::write(
        elsewhere.join("sites.toml"),
        "[[sites]]\nid = \"yz-901\"\nname = \"某工地\"\nsite_type = \"enterprise\"\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_zhisu-server"))
            .env_remove("ZHISU_DATA_DIR")
            .env_remove("ZHISU_DATABASE_URL")
            .env_remove("ZHISU_QUESTIONNAIRES")
            .env_remove("RUST_LOG")
            .env("ZHISU_CONFIG", &config)
            .env("ZHISU_PASSWORD", "a long password for the test")
            .current_dir(&elsewhere)
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert!(output.status.success(), "{args:?}: {stdout}\n{stderr}");
        assert!(
            !stderr.contains('\u{1b}'),
            "{args:?}: colour codes: {stderr:?}"
        );
        stdout
    };
    let added = run(&[
        "add-person",
        "--username",
        "admin",
        "--display-name",
        "市疾控",
        "--role",
        "city_admin",
    ]);
    assert!(added.contains("added admin"), "{added}");
    // the demonstration round is scored against the built-in questionnaires
    let demo = run(&["load-demo", "--round", "2026"]);
    assert!(demo.contains("interviews"), "{demo}");
    // a round's tablets are enrolled only once it has a key pair (sealed interviews)
    assert!(!run(&["round-key", "--round", "2026"]).trim().is_empty());
    let code = run(&[
        "enrolment-code",
        "--round",
        "2026",
        "--district",
        "yuzhong",
        "--qr",
        "code.svg",
    ]);
    assert!(!code.trim().is_empty());
    assert!(elsewhere.join("code.svg").exists());
    let devices = run(&["devices"]);
    let device = devices
        .lines()
        .next()
        .and_then(|l| l.split('\t').next())
        .expect("a demonstration tablet")
        .to_string();
    assert!(run(&["revoke-device", &device]).contains("revoked"));
    assert!(run(&["import-sites", "--district", "yuzhong", "sites.toml"]).contains("1 sites"));
    assert!(run(&["check-data"]).contains("stored interviews have problems"));
    assert!(run(&["rebuild-cells"]).contains("counted again"));
    assert_eq!(run(&["first-sign-in"]), "", "people exist already");
    let database = dir.path().join("data/zhisu-server.sqlite3");
    assert!(
        database.exists(),
        "the data folder is the file's, taken from its folder"
    );

    // serving from there: the built-in questionnaires, a plain log
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.path().join("server.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_zhisu-server"))
        .env_remove("ZHISU_DATA_DIR")
        .env_remove("ZHISU_QUESTIONNAIRES")
        .env_remove("RUST_LOG")
        .env("ZHISU_CONFIG", &config)
        .current_dir(&elsewhere)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stderr(std::fs::File::create(&log).unwrap())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(!log.contains('\u{1b}'), "colour codes in the log: {log:?}");
    let built_in = zhisu_server::built_in::questionnaires().unwrap().len();
    assert!(built_in >= 3, "the shipped questionnaires are built in");
    assert!(log.contains(&format!("questionnaires={built_in}")), "{log}");
}
