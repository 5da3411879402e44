//! The server's Debian package on this machine (`scripts/test-server-deb.sh`): installed, the
//! server started as its systemd unit runs it, `/healthz` and an administrative command as the
//! service's user, a graceful stop, removal keeping the data and purge deleting it. It installs a
//! package, so it runs as root (CI does); elsewhere it says why it did not run, and fails in CI.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_server_package_installs_runs_as_a_service_and_goes() {
    let root = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&root.stdout).trim() != "0" {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root: the package test must run there"
        );
        eprintln!("not root: the package test (scripts/test-server-deb.sh) did not run");
        return;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/test-server-deb.sh");
    let output = Command::new(script)
        .arg(env!("CARGO_BIN_EXE_zhisu-server"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{:?}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("/healthz: ok sqlite"), "{stdout}");
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
}
