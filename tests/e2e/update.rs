//! The app updated from the Zhisu server through the real app (issue 22): a "next version"
//! (the app built with `next-version-for-update-test`, reporting its version's last part one
//! higher) is signed with a release key and uploaded on the dashboard by a city administrator;
//! a copy of this version, trusting the key in its `app.toml`, downloads it at sync, refuses
//! to install it while an interview is open, installs it once that interview is completed,
//! and the next start of the same program is the next version with every interview kept and
//! each uploaded exactly once.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use zhisu_e2e::{free_port, workspace_root, App, Server, ONE_APP_AT_A_TIME};
use zhisu_protocol::{media_hash, update};

const PLATFORM: &str = "linux-x86_64-bin";

/// Builds the app (with `features`) and returns its executable, from cargo's JSON messages.
fn build_app(features: &[&str]) -> PathBuf {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .current_dir(workspace_root())
        .args(["build", "-p", "zhisu-app", "--message-format=json"]);
    for feature in features {
        cargo.args(["--features", feature]);
    }
    let output = cargo.output().expect("cargo runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "zhisu-app")
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next_back()
        .expect("cargo names the app's executable")
}

fn copy_executable(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap();
}

fn next_version() -> String {
    let version = env!("CARGO_PKG_VERSION");
    let (head, last) = version.rsplit_once('.').unwrap();
    format!("{head}.{}", last.parse::<u64>().unwrap() + 1)
}

/// The dashboard's upload form, as a city administrator's browser sends it.
async fn upload_on_dashboard(base: &str, version: &str, signature: &str, file: &[u8]) {
    let cookie = zhisu_server_tests::dashboard_sign_in(base, "it-city", "it-city-password").await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let html = http
        .get(format!("{base}/dashboard/updates"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = zhisu_server_tests::csrf_of(&html);
    let boundary = "----zhisu-e2e-boundary";
    let mut form = Vec::new();
    for (name, value) in [
        ("csrf", csrf.as_str()),
        ("platform", PLATFORM),
        ("version", version),
        ("signature", signature),
        ("notes_zh", "更新测试"),
        ("notes_en", "Update test"),
    ] {
        form.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    form.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"zhisu-app\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    form.extend_from_slice(file);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = http
        .post(format!("{base}/dashboard/updates"))
        .header("cookie", &cookie)
        .header("origin", base)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("saved="), "{location}");
}

/// Opens the sync-log screen (which carries the app's version) until `#id` is on it. The
/// screen shows the version once the app has answered what it holds of updates; when it has
/// not within 10 s (CI saw it once in three runs, right after the relaunch, and never here),
/// what the screen showed is written out and the screen is opened again, so that a failure at
/// the deadline says what the app was showing.
async fn settings_until(app: &App, id: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        go_home(app).await;
        app.click("show-log").await;
        let shown = app
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("app-version"))
            .await;
        if shown.is_ok() && app.client.find(Locator::Id(id)).await.is_ok() {
            return;
        }
        let what = if shown.is_ok() {
            format!("#{id} is not on the sync-log screen yet")
        } else {
            "the sync-log screen shows no version".to_string()
        };
        if Instant::now() >= deadline {
            let source = app.client.source().await.unwrap_or_default();
            let shot = app
                .screenshot(&std::env::temp_dir().join("zhisu-update-e2e"), id)
                .await;
            panic!(
                "{what} at the deadline; screenshot {}; page:\n{source}",
                shot.display()
            );
        }
        if shown.is_err() {
            let source = app.client.source().await.unwrap_or_default();
            eprintln!("{what}; opening it again; page:\n{source}");
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Back to the home screen from wherever the app is (the home screen has no home button).
async fn go_home(app: &App) {
    if app.client.find(Locator::Id("home")).await.is_ok() {
        app.click("home").await;
    }
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Id("my-interviews"))
        .await
        .expect("the home screen");
}

async fn answer_pilot(app: &App) {
    app.wait_for_question("age").await;
    app.type_into("text-input", "35").await;
    app.click("next").await;
    app.wait_for_question("employer_duty").await;
    app.click("choice-true").await;
    app.wait_for_question("noise").await;
    app.click("choice-earplugs").await;
    app.wait_for_question("confined_space").await;
    app.click("choice-ventilate").await;
    app.click("next").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Id("review"))
        .await
        .expect("the review screen");
    app.click("complete").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if app.client.find(Locator::Id("score")).await.is_ok() {
            return;
        }
        if app.client.find(Locator::Id("qc-flags")).await.is_ok() {
            app.click("qc-complete").await;
            return;
        }
        assert!(Instant::now() < deadline, "the interview did not complete");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_updates_itself_from_the_server_and_keeps_every_interview() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();

    // the next version, set aside; then this version again (cargo keeps both builds)
    let next = dir.path().join("next/zhisu-app");
    copy_executable(&build_app(&["next-version-for-update-test"]), &next);
    let program = dir.path().join("tablet/zhisu-app");
    copy_executable(&build_app(&[]), &program);
    assert_ne!(
        std::fs::read(&next).unwrap(),
        std::fs::read(&program).unwrap()
    );

    // IT: a release key, the tablet trusting it, the next version signed and uploaded
    let (secret, public) = update::new_release_key().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    server
        .state
        .add_person(
            "it-city",
            "市管理员",
            "it-city-password",
            zhisu_server_storage::Role::CityAdmin,
            "e2e",
        )
        .unwrap();
    std::fs::write(
        dir.path().join("tablet/app.toml"),
        format!("update_public_key = \"{public}\"\n"),
    )
    .unwrap();
    let next_bytes = std::fs::read(&next).unwrap();
    let signature = update::sign(
        &secret,
        PLATFORM,
        &next_version(),
        next_bytes.len() as u64,
        &media_hash(&next_bytes),
    )
    .unwrap();
    upload_on_dashboard(&server.base_url, &next_version(), &signature, &next_bytes).await;

    // the tablet: enrolled, one interview completed, one left open
    let app_dir = dir.path().join("data");
    let no_relaunch = dir.path().join("no-relaunch");
    let env = [("ZHISU_UPDATE_NO_RELAUNCH", no_relaunch.as_path())];
    let app = App::launch_program(Some(&program), &app_dir, &server.base_url, &env).await;
    app.enrol(&server.enrolment_code()).await;
    app.click("start-ohl_pilot").await;
    answer_pilot(&app).await;
    server.wait_for_count(1, Duration::from_secs(60)).await;
    go_home(&app).await;
    app.click("start-ohl_pilot").await;
    app.wait_for_question("age").await;
    app.click("pause").await;

    // downloaded and checked at sync; install refused while the interview is open
    settings_until(&app, "update-ready", Duration::from_secs(120)).await;
    assert_eq!(
        app.attribute("update-ready", "data-version")
            .await
            .as_deref(),
        Some(next_version().as_str())
    );
    assert_eq!(
        app.attribute("app-version", "data-version")
            .await
            .as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert!(app.client.find(Locator::Id("update-blocked")).await.is_ok());
    let disabled = app.attribute("install-update", "disabled").await;
    assert!(disabled.is_some(), "the install button is disabled");
    assert_eq!(
        std::fs::read(&program).unwrap(),
        std::fs::read(dir.path().join("tablet/zhisu-app")).unwrap()
    );

    // the open interview completed: installed, and the app closes
    go_home(&app).await;
    let resume = app
        .attribute_css(".resume", "id")
        .await
        .expect("the open interview can be resumed");
    app.click(&resume).await;
    answer_pilot(&app).await;
    server.wait_for_count(2, Duration::from_secs(60)).await;
    settings_until(&app, "install-update", Duration::from_secs(30)).await;
    assert_eq!(app.attribute("install-update", "disabled").await, None);
    app.click("install-update").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read(&program).unwrap() != next_bytes {
        assert!(Instant::now() < deadline, "the program was not replaced");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(app);
    tokio::time::sleep(Duration::from_secs(2)).await;

    // the same program started again is the next version, with both interviews, each on the
    // server once
    let app = App::launch_program(Some(&program), &app_dir, &server.base_url, &env).await;
    settings_until(&app, "app-version", Duration::from_secs(30)).await;
    assert_eq!(
        app.attribute("app-version", "data-version")
            .await
            .as_deref(),
        Some(next_version().as_str())
    );
    assert!(app.client.find(Locator::Id("update-ready")).await.is_err());
    go_home(&app).await;
    app.click("my-interviews").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let listed = app
        .client
        .find_all(Locator::Css("#interview-list li"))
        .await
        .unwrap()
        .len();
    assert_eq!(listed, 2, "both interviews are in my interviews");
    app.close().await;
    let device = zhisu_e2e::open_device_store(&app_dir);
    let counts = device.state_counts().unwrap();
    assert_eq!(counts.in_progress, 0);
    assert_eq!(counts.acknowledged + counts.waiting, 2, "{counts:?}");
    assert!(device.integrity_ok().unwrap());
    assert_eq!(server.interviews().await.count, 2);
}
