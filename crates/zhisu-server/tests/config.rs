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
