//! Voice (#21), end to end: a city administrator records a question and one of its answers on
//! the dashboard's Recordings page in a real headless Chromium (its fake microphone, through
//! MediaRecorder and the page's own script); the real app on a tablet enrols, syncs, and plays
//! exactly those bytes when the respondent presses the question's speaker button and the
//! answer's.

use std::time::{Duration, Instant};

use base64::Engine;
use fantoccini::{Client, Locator};
use serde_json::Value;
use zhisu_e2e::{axe_violations, free_port, App, Chromium, Server, ONE_APP_AT_A_TIME};
use zhisu_server_storage::Role;

const PASSWORD: &str = "voice-admin-password";
const QUESTIONNAIRE: (&str, &str) = ("ohl_pilot", "2026.1");

async fn missing_count(client: &Client) -> usize {
    let text = client
        .find(Locator::Id("missing-count"))
        .await
        .expect("the page says what is missing")
        .text()
        .await
        .unwrap();
    text.split_whitespace()
        .find_map(|word| word.parse().ok())
        .unwrap_or_else(|| panic!("a count in {text:?}"))
}

/// Presses the record button of a question (`option` empty) or an answer, lets the fake
/// microphone run, presses it again, and waits for the page to show the recording saved.
async fn record(client: &Client, page: &str, item: &str, option: &str) {
    client.goto(page).await.unwrap();
    let selector = format!("tr[data-item=\"{item}\"][data-option=\"{option}\"] button.record");
    let button = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"));
    assert!(
        button.is_displayed().await.unwrap(),
        "the script shows the record button where the browser can record"
    );
    button.click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while button.attr("aria-pressed").await.unwrap().as_deref() != Some("true") {
        assert!(Instant::now() < deadline, "recording did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    button.click().await.unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Id("recording-saved"))
        .await
        .unwrap_or_else(|e| panic!("the recording of {item} {option:?} was not saved: {e}"));
}

/// The app's `<audio id="item-audio">` once it holds the recording of `option` and has played
/// some of it (or after 20 s, as it is then).
async fn audio_state(app: &App, option: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let state = app
            .client
            .execute(
                "const a = document.getElementById('item-audio');
                 return a ? { option: a.dataset.option, src: a.src, played: a.played.length,
                              paused: a.paused, time: a.currentTime,
                              error: a.error ? a.error.code : null } : null;",
                vec![],
            )
            .await
            .unwrap();
        let done = state["option"] == option && state["played"].as_u64().unwrap_or(0) > 0;
        if done || Instant::now() > deadline {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recording_made_in_the_dashboard_plays_on_a_tablet_after_sync() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    server
        .state
        .add_person("voice", "录音管理员", PASSWORD, Role::CityAdmin, "e2e")
        .unwrap();

    // the dashboard: record the question of `noise` and its answer `earplugs`
    let browser = Chromium::start(&[
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
    ])
    .await;
    browser.sign_in(&server.base_url, "voice", PASSWORD).await;
    let page = format!(
        "{}/dashboard/recordings/{}/{}",
        server.base_url, QUESTIONNAIRE.0, QUESTIONNAIRE.1
    );
    browser.client.goto(&page).await.unwrap();
    let before = missing_count(&browser.client).await;
    let places = server
        .state
        .questionnaires
        .get(QUESTIONNAIRE.0, QUESTIONNAIRE.1)
        .unwrap()
        .questionnaire
        .recording_slots()
        .len();
    assert_eq!(before, places, "nothing recorded yet");
    let axe = axe_violations(&browser.client).await;
    assert!(axe.is_empty(), "the recordings page: {axe:#?}");
    record(&browser.client, &page, "noise", "").await;
    record(&browser.client, &page, "noise", "earplugs").await;
    assert_eq!(missing_count(&browser.client).await, before - 2);
    // on a phone: no sideways scrolling, 44 px targets, the list of what is missing opens
    browser.client.set_window_size(412, 900).await.unwrap();
    browser.client.goto(&page).await.unwrap();
    let problems = browser
        .client
        .execute(
            "const problems = [], root = document.documentElement;
             if (root.scrollWidth > root.clientWidth) problems.push('scrolls sideways: ' + root.scrollWidth);
             document.querySelectorAll('a[href], button, select, input:not([type=hidden]), summary').forEach(function (e) {
               const r = e.getBoundingClientRect();
               if ((r.width || r.height) && (r.width < 44 || r.height < 44))
                 problems.push(e.tagName + ' ' + (e.textContent || '').trim().slice(0, 20) + ': ' + Math.round(r.width) + ' x ' + Math.round(r.height));
             });
             return problems;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        problems,
        serde_json::json!([]),
        "the recordings page at 412 px"
    );
    let axe = axe_violations(&browser.client).await;
    assert!(axe.is_empty(), "the recordings page at 412 px: {axe:#?}");
    browser.client.clone().close().await.unwrap();

    let kept = server
        .state
        .storage
        .recordings(Some(QUESTIONNAIRE))
        .unwrap();
    assert_eq!(kept.len(), 2, "{kept:?}");
    let bytes_of = |option: &str| {
        let r = kept.iter().find(|r| r.option == option).unwrap();
        let (kind, bytes) = server.state.media(&r.sha256).unwrap().unwrap();
        assert_eq!(
            zhisu_protocol::media_hash(&bytes),
            r.sha256,
            "kept under its hash"
        );
        assert!(
            bytes.len() > 1000,
            "a real recording: {} bytes",
            bytes.len()
        );
        format!(
            "data:{};base64,{}",
            kind.mime(),
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        )
    };
    let (question, answer) = (bytes_of(""), bytes_of("earplugs"));
    assert!(
        question.starts_with("data:audio/webm;") || question.starts_with("data:audio/ogg;"),
        "as MediaRecorder makes it: {}",
        &question[..30]
    );
    assert_ne!(question, answer);

    // the tablet: enrol, and the first sync brings both recordings
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    app.enrol(&server.enrolment_code()).await;
    let database = app_dir.join("zhisu.sqlite3");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // the app's file is encrypted: read it with the key the app drew
        let key = zhisu_store::load_or_create_key_file(&zhisu_e2e::key_dir(&app_dir)).unwrap();
        let complete: i64 = rusqlite::Connection::open_with_flags(
            &database,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .and_then(|c| {
            c.pragma_update(None, "key", format!("x'{}'", key.to_hex()))?;
            c.query_row("SELECT count(*) FROM media WHERE complete = 1", [], |r| {
                r.get(0)
            })
        })
        .unwrap_or(0);
        if complete == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the recordings did not reach the tablet"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // the interview: the question's speaker button plays the question's recording
    app.click("start-ohl_pilot").await;
    app.wait_for_question("age").await;
    app.type_into("text-input", "35").await;
    app.click("next").await;
    app.wait_for_question("employer_duty").await;
    assert!(
        app.client.find(Locator::Id("play-audio")).await.is_err(),
        "a question without a recording has no speaker button"
    );
    app.click("choice-true").await;
    app.wait_for_question("noise").await;
    app.click("play-audio").await;
    let state = audio_state(&app, "").await;
    eprintln!(
        "question's audio: played {}, paused {}, time {}, error {}",
        state["played"], state["paused"], state["time"], state["error"]
    );
    assert_eq!(
        state["src"].as_str(),
        Some(question.as_str()),
        "the bytes recorded"
    );
    assert_eq!(state["error"], Value::Null);
    assert!(
        state["played"].as_u64().unwrap_or(0) > 0,
        "it played: {}",
        state["time"]
    );

    // the answer's own button plays the answer's; an answer without a recording has none
    let name = app
        .attribute("play-choice-earplugs", "aria-label")
        .await
        .unwrap();
    assert!(name.starts_with("播放选项 "), "{name}");
    assert!(app
        .client
        .find(Locator::Id("play-choice-cotton"))
        .await
        .is_err());
    let axe = axe_violations(&app.client).await;
    assert!(axe.is_empty(), "the question with recordings: {axe:#?}");
    app.click("play-choice-earplugs").await;
    let state = audio_state(&app, "earplugs").await;
    assert_eq!(state["option"], "earplugs");
    assert_eq!(
        state["src"].as_str(),
        Some(answer.as_str()),
        "the bytes recorded"
    );
    assert_eq!(state["error"], Value::Null);
    assert!(
        state["played"].as_u64().unwrap_or(0) > 0,
        "it played: {}",
        state["time"]
    );
    app.close().await;
}
