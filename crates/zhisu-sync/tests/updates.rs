//! Updates of the app through a real server on loopback (issue 22), without the UI: a package
//! signed with the release key is downloaded, checked and installed over a copy of a program; a
//! package signed with another key, or without a key on the device, is never installed and the
//! state says why; a package changed on disk after its download is refused at install.

use std::path::Path;

use zhisu_protocol::media_hash;
use zhisu_protocol::update;
use zhisu_server_service::updates::NewPackage;
use zhisu_sync::update::{this_platform, InstallError, Updater};
use zhisu_sync::SyncClient;

struct Setup {
    state: zhisu_server::ServerState,
    client: SyncClient,
}

async fn setup(dir: &Path) -> Setup {
    let state = zhisu_server::open_sqlite(
        &dir.join("server.sqlite3"),
        &zhisu_server_tests::questionnaires_dir(),
    )
    .unwrap();
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;
    let (_, token) = zhisu_server_tests::enrol(&state, "2026", "yuzhong", "平板");
    Setup {
        state,
        client: SyncClient::new(&base).with_token(&token),
    }
}

fn upload(
    state: &zhisu_server::ServerState,
    secret: &[u8],
    platform: &str,
    version: &str,
    bytes: &[u8],
) {
    let signature = update::sign(
        secret,
        platform,
        version,
        bytes.len() as u64,
        &media_hash(bytes),
    )
    .unwrap();
    state
        .upload_package(
            &NewPackage {
                platform: platform.into(),
                version: version.into(),
                signature,
                notes_zh: format!("{version} 版"),
                notes_en: format!("version {version}"),
            },
            bytes,
            "city",
        )
        .unwrap();
}

fn program(dir: &Path, bytes: &[u8]) -> std::path::PathBuf {
    let exe = dir.join("bin").join("zhisu-app");
    std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
    std::fs::write(&exe, bytes).unwrap();
    exe
}

#[tokio::test]
async fn a_signed_package_is_installed_and_a_badly_signed_one_never() {
    let Some(platform) = this_platform() else {
        eprintln!("this platform does not update itself; nothing to test");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path()).await;
    let (secret, public) = update::new_release_key().unwrap();
    let (other_secret, _) = update::new_release_key().unwrap();
    let trusted = vec![update::parse_public_key(&public).unwrap()];
    let data = dir.path().join("data");
    let old = b"\x7fELF version 0.1.0".to_vec();
    let exe = program(dir.path(), &old);

    // nothing newer on the server: nothing to do
    let updater = Updater::new(&data, trusted.clone(), "0.1.0");
    assert_eq!(updater.check(&s.client).await.unwrap(), None);
    assert!(matches!(
        updater.install(&exe),
        Err(InstallError::NothingReady)
    ));

    // a package signed with another key: downloaded, refused, never installed
    let forged = b"\x7fELF version 0.1.1, not from IT".to_vec();
    upload(&s.state, &other_secret, platform, "0.1.1", &forged);
    let refused = updater.check(&s.client).await.unwrap().unwrap();
    assert_eq!(refused.version, "0.1.1");
    let why = refused.refused.clone().expect("refused");
    assert!(why.contains("does not verify"), "{why}");
    assert_eq!(
        updater.downloaded(),
        Some(refused.clone()),
        "the state is kept"
    );
    match updater.install(&exe) {
        Err(InstallError::Refused(reason)) => assert_eq!(reason, why),
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(&exe).unwrap(), old);
    let kept: Vec<_> = std::fs::read_dir(data.join("updates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(kept, vec!["state.json"], "the refused bytes are not kept");

    // a device without a release key downloads nothing and says so
    let keyless = Updater::new(&dir.path().join("keyless"), vec![], "0.1.0");
    let state = keyless.check(&s.client).await.unwrap().unwrap();
    assert!(state.refused.unwrap().contains("no release key"));
    assert!(!dir
        .path()
        .join("keyless/updates")
        .read_dir()
        .unwrap()
        .any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("zhisu-app")));

    // a newer package signed with the release key: ready, then installed over the program
    let next: Vec<u8> = b"\x7fELF version 0.1.2"
        .iter()
        .copied()
        .chain((0..200_000u32).map(|i| (i % 253) as u8))
        .collect();
    upload(&s.state, &secret, platform, "0.1.2", &next);
    let ready = updater.check(&s.client).await.unwrap().unwrap();
    assert_eq!(
        (ready.version.as_str(), ready.refused.as_deref()),
        ("0.1.2", None)
    );
    assert_eq!(ready.notes_zh, "0.1.2 版");
    // asked again: the same, not fetched again
    assert_eq!(updater.check(&s.client).await.unwrap(), Some(ready.clone()));
    // an app installed by IT under /usr is not replaced
    assert!(matches!(
        updater.install(Path::new("/usr/bin/zhisu-app")),
        Err(InstallError::ManagedInstall(_))
    ));
    let installed = updater.install(&exe).unwrap();
    assert_eq!(installed.version, "0.1.2");
    assert_eq!(std::fs::read(&exe).unwrap(), next);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&exe).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
    }
    let leftovers: Vec<_> = std::fs::read_dir(exe.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
    // the new version forgets the package it came from
    let after = Updater::new(&data, trusted.clone(), "0.1.2");
    assert_eq!(after.downloaded(), None);
    assert_eq!(after.check(&s.client).await.unwrap(), None);

    // a ready package changed on disk before it is installed is refused
    let later: Vec<u8> = b"\x7fELF version 0.1.3".to_vec();
    upload(&s.state, &secret, platform, "0.1.3", &later);
    let ready = after.check(&s.client).await.unwrap().unwrap();
    assert_eq!(ready.refused, None);
    let file = data
        .join("updates")
        .join(format!("zhisu-app-{platform}-0.1.3"));
    std::fs::write(&file, b"\x7fELF version 0.1.3 with a change").unwrap();
    assert!(matches!(after.install(&exe), Err(InstallError::Refused(_))));
    assert_eq!(std::fs::read(&exe).unwrap(), next);
}
