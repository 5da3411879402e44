//! P5: the surveyor's app on this machine, release build, in its real webview (WebKitGTK under
//! Xvfb, driven through WebDriver) — a benchmark that prints figures, not a test:
//!
//! - cold start: from the app's start (`run`) to its first interactive screen (the enrolment
//!   form on a new tablet, home with its questionnaires on an enrolled one), as the app logs
//!   it; and, for comparison, from asking WebDriver for a session (which starts the app) to
//!   the screen's first button being found, which adds the driver's own start-up;
//! - tap to next question: from a tap on an answer (a click event on the button) to the next
//!   question in the DOM and the frame after it, measured in the webview with
//!   `performance.now()`; the path includes the IPC call, the SQLite commit with its fsync
//!   and the re-render; the full national questionnaire (ohl_2026), every tap-to-advance item;
//! - the wasm bundle, gzipped (`gzip -9`).
//!
//! Reproduce (see BENCHMARKS.md, P5):
//! `frontend/build.sh --release && cargo build -p zhisu-app --release &&
//!  ZHISU_APP_BIN=target/release/zhisu-app xvfb-run -a -s "-screen 0 1280x800x24" cargo bench -p zhisu-e2e --bench p5_app`

use std::time::{Duration, Instant};

use fantoccini::Locator;
use zhisu_core::{ItemKind, Questionnaire};
use zhisu_e2e::{free_port, workspace_root, App, Server};

const LAUNCHES: usize = 5;

async fn startup_ms(app: &App) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ms = app
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 window.__TAURI__.core.invoke('startup_ms').then(done, () => done(null));",
                vec![],
            )
            .await
            .unwrap();
        if let Some(ms) = ms.as_u64() {
            return ms;
        }
        assert!(
            Instant::now() < deadline,
            "the app never became interactive"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Launches the app and returns it with (ms to interactive as the app saw it, ms from the
/// WebDriver request to `ready` being found).
async fn launch(dir: &std::path::Path, server: &str, ready: &str) -> (App, u64, u64) {
    let t0 = Instant::now();
    let app = App::launch(dir, server).await;
    app.client
        .wait()
        .at_most(Duration::from_secs(30))
        .every(Duration::from_millis(5))
        .for_element(Locator::Id(ready))
        .await
        .expect("the first screen");
    let outside = t0.elapsed().as_millis() as u64;
    let inside = startup_ms(&app).await;
    (app, inside, outside)
}

fn summary(label: &str, mut values: Vec<f64>, unit: &str) {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let pick = |q: f64| values[((n as f64 - 1.0) * q).round() as usize];
    println!(
        "{label}: n={n} median {:.1} {unit}, p95 {:.1} {unit}, min {:.1}, max {:.1}",
        pick(0.5),
        pick(0.95),
        values[0],
        values[n - 1]
    );
}

/// Taps `#id` and returns the milliseconds until the next question is in the DOM and a frame
/// has passed.
async fn timed_tap(app: &App, id: &str) -> f64 {
    let ms = app
        .client
        .execute_async(
            "const [id, done] = [arguments[0], arguments[arguments.length - 1]];
             const shown = () => { const q = document.getElementById('question');
                                   return q ? q.dataset.item : (document.getElementById('review') ? '#review' : null); };
             const before = shown();
             const t0 = performance.now();
             const observer = new MutationObserver(() => {
               if (shown() !== before) {
                 observer.disconnect();
                 requestAnimationFrame(() => done(performance.now() - t0));
               }
             });
             observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
             document.getElementById(id).click();",
            vec![serde_json::json!(id)],
        )
        .await
        .unwrap();
    ms.as_f64().expect("a time")
}

async fn shown_item(app: &App) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if app.client.find(Locator::Id("review")).await.is_ok() {
            return None;
        }
        if let Ok(q) = app.client.find(Locator::Id("question")).await {
            if let Ok(Some(item)) = q.attr("data-item").await {
                return Some(item);
            }
        }
        assert!(Instant::now() < deadline, "no question and no review");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_for_change(app: &App, from: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while shown_item(app).await.as_deref() == Some(from) {
        assert!(Instant::now() < deadline, "stuck on {from}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let app_bin = std::env::var("ZHISU_APP_BIN")
        .expect("set ZHISU_APP_BIN to the release app (target/release/zhisu-app)");
    // relative to the workspace (cargo runs benchmarks in the package's folder)
    let app_bin = workspace_root().join(app_bin);
    std::env::set_var("ZHISU_APP_BIN", &app_bin);
    println!("P5 with {}", app_bin.display());
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;

    // cold start: a new tablet (enrolment form), then an enrolled one (home)
    let mut new_inside = Vec::new();
    let mut new_outside = Vec::new();
    for i in 0..LAUNCHES {
        let (app, inside, outside) = launch(
            &dir.path().join(format!("new-{i}")),
            &server.base_url,
            "enrol",
        )
        .await;
        new_inside.push(inside as f64);
        new_outside.push(outside as f64);
        app.close().await;
    }
    let enrolled = dir.path().join("enrolled");
    {
        let app = App::launch(&enrolled, &server.base_url).await;
        app.enrol(&server.enrolment_code()).await;
        app.close().await;
    }
    let mut home_inside = Vec::new();
    let mut home_outside = Vec::new();
    for _ in 0..LAUNCHES {
        let (app, inside, outside) = launch(&enrolled, &server.base_url, "start-ohl_pilot").await;
        home_inside.push(inside as f64);
        home_outside.push(outside as f64);
        app.close().await;
    }
    summary(
        "cold start to the enrolment form (app start -> interactive)",
        new_inside,
        "ms",
    );
    summary(
        "  same, from the WebDriver session request",
        new_outside,
        "ms",
    );
    summary(
        "cold start to home, enrolled (app start -> interactive)",
        home_inside,
        "ms",
    );
    summary(
        "  same, from the WebDriver session request",
        home_outside,
        "ms",
    );

    // tap to next question, through the national questionnaire
    let q = Questionnaire::from_toml(
        "ohl_2026.toml",
        &std::fs::read_to_string(workspace_root().join("questionnaires/ohl_2026.toml")).unwrap(),
    )
    .unwrap();
    let app = App::launch(&enrolled, &server.base_url).await;
    let mut taps = Vec::new();
    for _ in 0..2 {
        app.click("start-ohl_2026").await;
        while let Some(id) = shown_item(&app).await {
            let item = q.item(&id).expect("an item of the questionnaire");
            match &item.kind {
                ItemKind::TrueFalse => taps.push(timed_tap(&app, "choice-true").await),
                ItemKind::SingleChoice { .. } | ItemKind::Likert { .. } => {
                    let first = app
                        .client
                        .find(Locator::Css(".choices button.choice"))
                        .await
                        .unwrap()
                        .attr("id")
                        .await
                        .unwrap()
                        .unwrap();
                    taps.push(timed_tap(&app, &first).await);
                }
                ItemKind::MultipleChoice { .. } => {
                    app.click_css(".choices button.choice").await;
                    app.click("next").await;
                }
                ItemKind::Integer { .. } => {
                    let value = match id.as_str() {
                        "age" => "35",
                        "weekly_hours" => "40",
                        _ => "2",
                    };
                    app.type_into("text-input", value).await;
                    app.click("next").await;
                }
                ItemKind::Text { .. } => {
                    app.type_into("text-input", "无").await;
                    app.click("next").await;
                }
                _ => app.click("next").await,
            }
            wait_for_change(&app, &id).await;
        }
        app.click("complete").await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if app.client.find(Locator::Id("qc-complete")).await.is_ok() {
                app.click("qc-complete").await;
            }
            if app.client.find(Locator::Id("score")).await.is_ok() {
                break;
            }
            assert!(Instant::now() < deadline, "no feedback");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        app.click("home").await;
    }
    app.close().await;
    summary(
        "tap on an answer -> next question shown (ohl_2026, 2 interviews)",
        taps,
        "ms",
    );

    let wasm = workspace_root().join("frontend/dist/zhisu-frontend_bg.wasm");
    let raw = std::fs::metadata(&wasm).unwrap().len();
    let gzipped = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("gzip -9 -c '{}' | wc -c", wasm.display()))
        .output()
        .unwrap();
    let gzipped = String::from_utf8_lossy(&gzipped.stdout).trim().to_string();
    println!(
        "wasm bundle (frontend/dist, as embedded in the app): {raw} bytes, {gzipped} bytes gzipped (-9)"
    );
}
