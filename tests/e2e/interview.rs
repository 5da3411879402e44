//! One interview from the questionnaire file to the central server, through the real app.
use std::path::PathBuf;
use std::time::Duration;

use zhisu_core::{AnswerValue, Answers};
use zhisu_e2e::{free_port, App, Server, ONE_APP_AT_A_TIME};

fn screenshots(test: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("e2e-screenshots")
        .join(test)
}

/// Answers the pilot questionnaire by clicking as a person would; returns what was clicked.
async fn answer_pilot(app: &App, shots: Option<&std::path::Path>, all_right: bool) -> Answers {
    answer_pilot_from(app, "start-ohl_pilot", shots, all_right).await
}

/// [`answer_pilot`], started with the button `start` (`practice-ohl_pilot`: a practice
/// interview).
async fn answer_pilot_from(
    app: &App,
    start: &str,
    shots: Option<&std::path::Path>,
    all_right: bool,
) -> Answers {
    let mut expected = Answers::new();
    app.click(start).await;

    app.wait_for_question("age").await;
    let age = if all_right { 35 } else { 52 };
    app.type_into("text-input", &age.to_string()).await;
    if let Some(dir) = shots {
        let path = app.screenshot(dir, "question-age").await;
        eprintln!("screenshot: {}", path.display());
    }
    app.click("next").await;
    expected.insert("age".into(), AnswerValue::Integer(age));

    app.wait_for_question("employer_duty").await;
    if let Some(dir) = shots {
        app.screenshot(dir, "question-true-false").await;
    }
    app.click(if all_right {
        "choice-true"
    } else {
        "choice-false"
    })
    .await;
    expected.insert("employer_duty".into(), AnswerValue::Bool(all_right));

    app.wait_for_question("noise").await;
    let noise = if all_right { "earplugs" } else { "cotton" };
    app.click(&format!("choice-{noise}")).await;
    expected.insert("noise".into(), AnswerValue::Choice(noise.into()));

    app.wait_for_question("confined_space").await;
    let picked: &[&str] = if all_right {
        &["ventilate", "test_air", "guard_outside"]
    } else {
        &["go_alone"]
    };
    for key in picked {
        app.click(&format!("choice-{key}")).await;
    }
    if let Some(dir) = shots {
        app.screenshot(dir, "question-multiple-choice").await;
    }
    app.click("next").await;
    expected.insert(
        "confined_space".into(),
        AnswerValue::Choices(picked.iter().map(|s| s.to_string()).collect()),
    );
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("review"))
        .await
        .expect("the review screen");
    expected
}

/// "Complete" on the review. A test clicks faster than any respondent answers, so under the
/// default thresholds (3 s per question) the interview is usually flagged too fast: then the
/// warning comes first and this test completes anyway (the flagged test checks the warning).
async fn complete(app: &App) {
    app.click("complete").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if app
            .client
            .find(fantoccini::Locator::Id("score"))
            .await
            .is_ok()
        {
            return;
        }
        if app
            .client
            .find(fantoccini::Locator::Id("qc-flags"))
            .await
            .is_ok()
        {
            app.click("qc-complete").await;
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "neither the feedback nor the quality warning appeared"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn normalized(answers: &Answers) -> Answers {
    answers
        .iter()
        .map(|(k, v)| (k.clone(), v.normalized()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interview_clicked_through_reaches_the_server_exactly_once() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), dir.path()).await;
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    let shots = screenshots("reaches_server");
    app.type_into("enrol-code", &server.enrolment_code()).await;
    app.screenshot(&shots, "enrol").await;
    app.type_into("device-name", "测试平板").await;
    app.click("enrol").await;

    let clicked = answer_pilot(&app, Some(&shots), true).await;
    app.screenshot(&shots, "review").await;
    complete(&app).await;
    app.wait_for_text("score", "得分：4 / 4", Duration::from_secs(20))
        .await;
    app.screenshot(&shots, "feedback").await;

    let list = server.wait_for_count(1, Duration::from_secs(60)).await;
    assert_eq!(list.count, 1, "the server holds exactly one interview");
    let stored = &list.interviews[0];
    assert_eq!(normalized(&stored.interview.answers), normalized(&clicked));
    assert_eq!(stored.interview.questionnaire_id, "ohl_pilot");
    assert!(stored.score.has_literacy, "the server's own score agrees");
    assert_eq!((stored.score.score, stored.score.max), (4, 4));

    // the device learns it was acknowledged, and nothing is sent twice
    app.click("home").await;
    app.wait_for_text("sync-acknowledged", "1", Duration::from_secs(30))
        .await;
    app.wait_for_text("sync-waiting", "0", Duration::from_secs(5))
        .await;
    app.screenshot(&shots, "home-after-sync").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(server.interviews().await.count, 1);
    app.close().await;

    let device = zhisu_e2e::open_device_store(&app_dir);
    let counts = device.state_counts().unwrap();
    assert_eq!((counts.acknowledged, counts.waiting), (1, 0));
    assert!(device.integrity_ok().unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interview_completed_offline_waits_then_arrives_exactly_once() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server_dir = dir.path().join("server");
    let server = Server::start_on(port, &server_dir).await;
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    let shots = screenshots("offline_then_online");
    app.enrol(&server.enrolment_code()).await;
    // then the network goes: the server is unreachable
    server.stop().await;

    let clicked = answer_pilot(&app, None, false).await;
    complete(&app).await;
    app.wait_for_text("score", "得分：0 / 4", Duration::from_secs(20))
        .await;
    app.click("home").await;
    app.wait_for_text("sync-waiting", "1", Duration::from_secs(20))
        .await;
    app.wait_for_text(
        "sync-online",
        "连不上服务器，答卷先存在本机",
        Duration::from_secs(30),
    )
    .await;
    app.screenshot(&shots, "home-offline").await;

    // kept locally as waiting, on disk
    {
        let device = zhisu_e2e::open_device_store(&app_dir);
        let counts = device.state_counts().unwrap();
        assert_eq!((counts.waiting, counts.acknowledged), (1, 0));
        let waiting = device.waiting_uploads(10).unwrap();
        assert_eq!(normalized(&waiting[0].answers), normalized(&clicked));
    }

    // the server comes back on the address the app enrolled with
    let server = Server::start_on(port, &server_dir).await;
    let list = server.wait_for_count(1, Duration::from_secs(60)).await;
    assert_eq!(list.count, 1);
    assert_eq!(
        normalized(&list.interviews[0].interview.answers),
        normalized(&clicked)
    );
    assert!(!list.interviews[0].score.has_literacy);

    app.wait_for_text("sync-acknowledged", "1", Duration::from_secs(30))
        .await;
    app.wait_for_text("sync-waiting", "0", Duration::from_secs(5))
        .await;
    app.screenshot(&shots, "home-online").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(server.interviews().await.count, 1, "arrived exactly once");
    app.close().await;

    let device = zhisu_e2e::open_device_store(&app_dir);
    assert_eq!(device.state_counts().unwrap().acknowledged, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_mid_interview_resumes_on_the_same_question_with_every_answer() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let app_dir = dir.path().join("app");
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    let shots = screenshots("crash_resume");
    let app = App::launch(&app_dir, &server.base_url).await;
    app.enrol(&server.enrolment_code()).await;
    app.click("start-ohl_pilot").await;
    app.wait_for_question("age").await;
    app.type_into("text-input", "44").await;
    app.click("next").await;
    app.wait_for_question("employer_duty").await;
    app.click("choice-true").await;
    app.wait_for_question("noise").await;

    // the tablet dies on the third question
    assert_eq!(app.kill_app_process(), 1, "exactly one app process killed");
    drop(app);

    let app = App::launch(&app_dir, &server.base_url).await;
    app.click_css("button.resume").await;
    app.wait_for_question("noise").await;
    app.screenshot(&shots, "resumed").await;
    app.click("back").await;
    app.wait_for_question("employer_duty").await;
    assert_eq!(
        app.attribute("choice-true", "aria-pressed")
            .await
            .as_deref(),
        Some("true"),
        "the answer given before the crash is shown"
    );
    app.click("back").await;
    app.wait_for_question("age").await;
    let typed = app
        .client
        .find(fantoccini::Locator::Id("text-input"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(typed.as_deref(), Some("44"));
    app.close().await;

    let device = zhisu_e2e::open_device_store(&app_dir);
    let interviews = device.interviews().unwrap();
    assert_eq!(interviews.len(), 1, "resumed, not started again");
    let answers = device.answers(interviews[0].id).unwrap();
    assert_eq!(answers.get("age"), Some(&AnswerValue::Integer(44)));
    assert_eq!(answers.get("employer_duty"), Some(&AnswerValue::Bool(true)));
    assert!(device.integrity_ok().unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn enrolment_with_a_bad_code_explains_and_stores_nothing() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    let shots = screenshots("bad_enrolment");
    app.type_into("enrol-code", "WRON-GCOD").await;
    app.type_into("device-name", "测试平板").await;
    app.click("enrol").await;
    app.wait_for_text(
        "error",
        "这个登记码不对，或者已经用过、过期了。请向管理员要一个新的。",
        Duration::from_secs(20),
    )
    .await;
    app.screenshot(&shots, "bad-code").await;
    app.close().await;
    let device = zhisu_e2e::open_device_store(&app_dir);
    assert!(device.identity().unwrap().is_none(), "nothing stored");
    assert!(server.state.storage.devices().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ineligible_respondent_is_thanked_and_nothing_overflows_on_a_phone() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    let shots = screenshots("ineligible_phone");
    app.enrol(&server.enrolment_code()).await;

    // a phone in portrait: 412 x 915
    app.client
        .set_window_size(412, 915)
        .await
        .expect("resize the window");
    app.click("start-ohl_2026").await;
    app.wait_for_question("intro").await;
    app.screenshot(&shots, "phone-intro").await;
    app.click("next").await;
    app.wait_for_question("consent").await;
    app.click("text-size").await;
    app.screenshot(&shots, "phone-consent-large-text").await;
    let overflow = app
        .client
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        overflow.as_i64(),
        Some(0),
        "nothing wider than the phone screen"
    );
    let small_targets = app
        .client
        .execute(
            "return [...document.querySelectorAll('button')].filter(b => b.offsetHeight < 48).length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        small_targets.as_i64(),
        Some(0),
        "every button at least 48 px high"
    );

    // declining consent ends the interview politely
    app.click("choice-false").await;
    let thanks = app
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("ineligible"))
        .await
        .expect("the polite ending")
        .text()
        .await
        .unwrap();
    assert!(thanks.starts_with("谢谢您抽出时间"), "{thanks}");
    app.screenshot(&shots, "phone-ineligible").await;
    app.close().await;
}

/// Waits until the app's sync loop has been through a whole pass with the server (fetching
/// the assignment, and so the round's settings, comes first in a pass).
async fn wait_until_synced(app: &App) {
    app.wait_for_text("sync-online", "已连接服务器", Duration::from_secs(30))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_round_can_hide_the_answer_key_from_the_respondent() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    server
        .set_round_settings(serde_json::json!({
            "show_answer_key": false,
            "quality": { "min_seconds_per_item": 0.0 }
        }))
        .await;
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    let shots = screenshots("answer_key_hidden");
    app.enrol(&server.enrolment_code()).await;
    wait_until_synced(&app).await;
    {
        let device = zhisu_e2e::open_device_store(&app_dir);
        assert!(!device.round_settings().unwrap().show_answer_key);
    }

    answer_pilot(&app, None, false).await;
    app.click("complete").await;
    app.wait_for_text("score", "得分：0 / 4", Duration::from_secs(20))
        .await;
    app.wait_for_text(
        "literacy",
        "您还没有达到职业健康素养的要求。",
        Duration::from_secs(5),
    )
    .await;
    assert!(
        app.client
            .find(fantoccini::Locator::Id("dimension-bars"))
            .await
            .is_ok(),
        "the dimension picture is still shown"
    );
    assert!(
        app.client
            .find(fantoccini::Locator::Id("wrong-answers"))
            .await
            .is_err(),
        "no right answers or explanations"
    );
    let page = app
        .client
        .find(fantoccini::Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("正确答案"), "{page}");
    assert!(!page.contains("棉花挡不住噪声"), "no explanation: {page}");
    assert!(
        app.client
            .find(fantoccini::Locator::Id("take-home-qr"))
            .await
            .is_err(),
        "no take-home code either: its page shows the right answers"
    );
    app.screenshot(&shots, "feedback-without-answer-key").await;
    app.close().await;
}

/// What a QR code drawn as the feedback page draws it holds: the SVG's path of one-module
/// squares (`M{x} {y}h1v1h-1z` in a `viewBox` of modules) painted 4 pixels a module and read
/// with rqrr, as a phone's camera would.
fn decode_module_svg(svg: &str) -> String {
    const SCALE: usize = 4;
    let view_box = &svg[svg.find("viewBox=\"0 0 ").expect("a viewBox") + 13..];
    let modules: usize = view_box
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap();
    let side = modules * SCALE;
    let mut pixels = vec![255u8; side * side];
    let path = &svg[svg.find(" d=\"").expect("a path") + 4..];
    let path = &path[..path.find('"').unwrap()];
    for square in path.split('M').filter(|r| !r.is_empty()) {
        let values: Vec<usize> = square
            .split(|c: char| !c.is_ascii_digit())
            .filter(|v| !v.is_empty())
            .map(|v| v.parse().unwrap())
            .collect();
        let (x, y) = (values[0] * SCALE, values[1] * SCALE);
        for row in y..y + SCALE {
            pixels[row * side + x..row * side + x + SCALE].fill(0);
        }
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
    let grids = image.detect_grids();
    grids
        .first()
        .expect("a QR code in the picture")
        .decode()
        .unwrap()
        .1
}

/// Material that goes home (#24): after an interview with wrong answers, the feedback page
/// shows a QR code of the take-home link; the code holds exactly the `data-url`, which names
/// the questionnaire version and knowledge points and nothing of the person; the public page
/// it opens (over HTTP, and in a headless Chromium as wide as a phone) shows the wrong items'
/// explanations and not the right one's, with no sideways scrolling.
#[tokio::test(flavor = "multi_thread")]
async fn the_feedback_page_offers_a_qr_code_of_the_wrong_answers_for_the_workers_phone() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    server
        .set_round_settings(serde_json::json!({
            "show_answer_key": true,
            "quality": { "min_seconds_per_item": 0.0 }
        }))
        .await;
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    let shots = screenshots("take_home");
    app.enrol(&server.enrolment_code()).await;
    wait_until_synced(&app).await;

    // employer_duty right; noise and confined_space wrong
    app.click("start-ohl_pilot").await;
    app.wait_for_question("age").await;
    app.type_into("text-input", "41").await;
    app.click("next").await;
    app.wait_for_question("employer_duty").await;
    app.click("choice-true").await;
    app.wait_for_question("noise").await;
    app.click("choice-cotton").await;
    app.wait_for_question("confined_space").await;
    app.click("choice-go_alone").await;
    app.click("next").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("review"))
        .await
        .expect("the review screen");
    complete(&app).await;
    app.wait_for_text("score", "得分：1 / 4", Duration::from_secs(20))
        .await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("take-home-qr"))
        .await
        .expect("the take-home QR code");
    app.client
        .execute(
            "document.getElementById('take-home-qr').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    app.screenshot(&shots, "feedback-with-take-home-code").await;

    let url = app
        .attribute("take-home-qr", "data-url")
        .await
        .expect("the code's address in data-url");
    assert!(
        url.starts_with(&format!("{}/learn/ohl_pilot/", server.base_url)),
        "{url}"
    );
    for personal in [
        "employer_duty",
        "noise",
        "confined_space",
        "cotton",
        "41",
        "interview",
    ] {
        assert!(
            !url[server.base_url.len()..].contains(personal),
            "{url} names {personal}"
        );
    }
    let caption = app
        .client
        .find(fantoccini::Locator::Css("#take-home-qr figcaption"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        caption.contains("用手机扫一扫，把答错的题和正确答案带回家看。"),
        "{caption}"
    );
    // the picture holds exactly that address, and is large enough to scan
    let svg = app
        .client
        .find(fantoccini::Locator::Css("#take-home-qr svg"))
        .await
        .unwrap();
    let (_, _, width, height) = svg.rectangle().await.unwrap();
    assert!(width >= 200.0 && height >= 200.0, "{width} × {height}");
    assert_eq!(decode_module_svg(&svg.html(false).await.unwrap()), url);

    // the page it opens: the wrong items' explanations, not the right one's
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers().get("set-cookie").is_none());
    let page = response.text().await.unwrap();
    assert!(page.contains("棉花挡不住噪声"), "{page}");
    assert!(page.contains("外面留人看护"), "{page}");
    assert!(
        !page.contains("工人有权要求防护"),
        "employer_duty was right: {page}"
    );
    assert!(page.contains("不含您的个人信息"), "{page}");

    // in a browser as wide as a phone: readable, nothing to scroll sideways
    let chromium = zhisu_e2e::Chromium::start(&[]).await;
    chromium.client.set_window_size(412, 900).await.unwrap();
    chromium.client.goto(&url).await.unwrap();
    let text = chromium
        .client
        .find(fantoccini::Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("棉花挡不住噪声"), "{text}");
    assert!(!text.contains("工人有权要求防护"), "{text}");
    let overflow = chromium
        .client
        .execute(
            "return [document.documentElement.clientWidth, document.documentElement.scrollWidth - document.documentElement.clientWidth];",
            vec![],
        )
        .await
        .unwrap();
    let overflow: Vec<i64> = serde_json::from_value(overflow).unwrap();
    assert!(
        overflow[0] <= 412,
        "the window is a phone's width: {overflow:?}"
    );
    assert_eq!(overflow[1], 0, "sideways scrolling on a phone");
    let shot = chromium.client.screenshot().await.unwrap();
    std::fs::create_dir_all(&shots).unwrap();
    std::fs::write(shots.join("take-home-page-412px.png"), shot).unwrap();
    drop(chromium);
    let reference = app
        .attribute_css("#interview-reference b", "data-reference")
        .await
        .expect("the interview's reference");

    // the tablet dies on the feedback page; the page can be shown again from "my interviews"
    // for a day (from what the store keeps, which sealing does not delete: zhisu-store's
    // `the_feedback_page_is_kept_for_a_day_after_sealing_with_only_the_wrong_answers`)
    assert_eq!(app.kill_app_process(), 1, "exactly one app process killed");
    drop(app);
    {
        let device = zhisu_e2e::open_device_store(&app_dir);
        let interviews = device.interviews().unwrap();
        assert_eq!(interviews.len(), 1);
        assert_ne!(interviews[0].state, zhisu_store::InterviewState::InProgress);
        assert!(interviews[0].feedback_kept);
    }
    let app = App::launch(&app_dir, &server.base_url).await;
    // the relaunched app syncs at once; "my interviews" is opened again until it lists the
    // interview with its kept result (the page source is shown if it never does)
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        app.click("my-interviews").await;
        let listed = app
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(fantoccini::Locator::Css("button.feedback-again"))
            .await
            .is_ok();
        if listed {
            break;
        }
        if std::time::Instant::now() > deadline {
            let page = app.client.source().await.unwrap_or_default();
            panic!(
                "no kept result in my interviews: {}",
                &page[page.find("<body").unwrap_or(0)..]
            );
        }
        app.click("home").await;
    }
    app.click_css("button.feedback-again").await;
    app.wait_for_text("score", "得分：1 / 4", Duration::from_secs(20))
        .await;
    let wrong = app
        .client
        .find(fantoccini::Locator::Id("wrong-answers"))
        .await
        .expect("the wrong answers again")
        .text()
        .await
        .unwrap();
    assert!(
        wrong.contains("棉花挡不住噪声"),
        "the wrong item's explanation: {wrong}"
    );
    assert!(
        !wrong.contains("您的回答"),
        "the answers are sealed, not shown again: {wrong}"
    );
    assert_eq!(
        app.attribute("take-home-qr", "data-url").await.as_deref(),
        Some(url.as_str()),
        "the same take-home code"
    );
    assert_eq!(
        app.attribute_css("#interview-reference b", "data-reference")
            .await
            .as_deref(),
        Some(reference.as_str())
    );
    app.screenshot(&shots, "feedback-again-after-a-crash").await;
    app.click("home").await;
    app.close().await;
}

/// The education library (issue 24): the tablet receives the server's library when it syncs;
/// the feedback page shows, under each wrong answer, the piece that teaches it (a title that
/// opens its text offline), and none under the right one; what the page offered (the wrong
/// points, the QR code, the pieces) is sealed into the interview's paradata and reaches the
/// server's database; the take-home page the QR code opens, in a headless Chromium, shows
/// the same pieces.
#[tokio::test(flavor = "multi_thread")]
async fn the_feedback_page_links_each_wrong_answer_to_its_library_piece_and_records_it() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    assert!(server.state.load_starter_library().unwrap() > 40);
    // the noise piece gets a picture (a real one the app carries) as the CDC would upload it
    let noise = server
        .state
        .library()
        .unwrap()
        .into_iter()
        .find(|p| p.id == "noise")
        .unwrap();
    server
        .state
        .save_piece(
            &zhisu_server_storage::Role::CityAdmin,
            &zhisu_server_service::library::PieceInput {
                id: noise.id.clone(),
                points: noise.points.join(","),
                title: noise.title.clone(),
                text: noise.text.clone(),
                source: noise.source.clone(),
                picture: Some(
                    include_bytes!("../../questionnaires/images/sign_warning_triangle.png")
                        .to_vec(),
                ),
                picture_alt: "黄色三角形的警告标志".into(),
                ..Default::default()
            },
            "e2e-admin",
        )
        .unwrap();
    let library = server.state.library().unwrap();
    let piece = |id: &str| library.iter().find(|p| p.id == id).unwrap().clone();
    server
        .set_round_settings(serde_json::json!({
            "show_answer_key": true,
            "quality": { "min_seconds_per_item": 0.0 }
        }))
        .await;
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    let shots = screenshots("library");
    app.enrol(&server.enrolment_code()).await;
    wait_until_synced(&app).await;

    // employer_duty right; noise and confined_space wrong
    app.click("start-ohl_pilot").await;
    app.wait_for_question("age").await;
    app.type_into("text-input", "38").await;
    app.click("next").await;
    app.wait_for_question("employer_duty").await;
    app.click("choice-true").await;
    app.wait_for_question("noise").await;
    app.click("choice-cotton").await;
    app.wait_for_question("confined_space").await;
    app.click("choice-go_alone").await;
    app.click("next").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("review"))
        .await
        .expect("the review screen");
    complete(&app).await;
    app.wait_for_text("score", "得分：1 / 4", Duration::from_secs(20))
        .await;
    for (item, piece_id) in [("noise", "noise"), ("confined_space", "confined_space")] {
        let id = format!("piece-{item}");
        app.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(fantoccini::Locator::Id(&id))
            .await
            .unwrap_or_else(|_| panic!("the piece under {item}"));
        assert_eq!(
            app.attribute(&id, "data-piece").await.as_deref(),
            Some(piece_id)
        );
        let expected = piece(piece_id);
        let summary = app
            .client
            .find(fantoccini::Locator::Css(&format!("#{id} > summary")))
            .await
            .unwrap();
        assert_eq!(
            summary.text().await.unwrap(),
            format!("学一学：{}", expected.title)
        );
        // closed at first; the title opens it
        let first = expected.paragraphs().next().unwrap().to_string();
        let body = app
            .client
            .find(fantoccini::Locator::Css(&format!("#{id} > div")))
            .await
            .unwrap();
        let state = format!(
            "const d = document.getElementById('{id}'); return [d.open, d.getBoundingClientRect().height];"
        );
        let closed: (bool, f64) =
            serde_json::from_value(app.client.execute(&state, vec![]).await.unwrap()).unwrap();
        // closed: the title alone, one line of at least 48 px
        assert!(
            !closed.0 && (48.0..90.0).contains(&closed.1),
            "{item}: closed at first: {closed:?}"
        );
        app.click_css(&format!("#{id} > summary")).await;
        let opened: (bool, f64) =
            serde_json::from_value(app.client.execute(&state, vec![]).await.unwrap()).unwrap();
        assert!(
            opened.0 && opened.1 > closed.1 + 100.0,
            "{item}: opened: {opened:?}"
        );
        let text = body.text().await.unwrap();
        assert!(text.contains(&first), "{item}: {text}");
        assert!(text.contains(&expected.source), "{item}: {text}");
        // the picture, offline, drawn (decoded, not a broken image) with its description
        let picture = format!("#{id} img.piece-picture");
        if item == "noise" {
            assert_eq!(
                app.attribute_css(&picture, "alt").await.as_deref(),
                Some("黄色三角形的警告标志")
            );
            let drawn: bool = serde_json::from_value(
                app.client
                    .execute(
                        &format!("const i = document.querySelector('{picture}'); return i.complete && i.naturalWidth > 0;"),
                        vec![],
                    )
                    .await
                    .unwrap(),
            )
            .unwrap();
            assert!(drawn, "the piece's picture is shown");
        } else {
            assert_eq!(app.attribute_css(&picture, "alt").await, None);
        }
    }
    assert!(
        app.client
            .find(fantoccini::Locator::Id("piece-employer_duty"))
            .await
            .is_err(),
        "employer_duty was right: no piece under it"
    );
    app.client
        .execute(
            "document.getElementById('piece-noise').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    both_sizes(&app, &shots, "feedback-with-library-pieces").await;
    let url = app
        .attribute("take-home-qr", "data-url")
        .await
        .expect("the take-home QR code");

    // what was offered reaches the server's database with the interview
    let list = server.wait_for_count(1, Duration::from_secs(60)).await;
    assert_eq!(list.count, 1);
    let stored = server
        .state
        .storage
        .interviews(&zhisu_server_storage::Scope::All)
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].interview.paradata.as_ref().unwrap().material,
        Some(zhisu_core::MaterialOffered {
            points: 2,
            take_home_qr: true,
            pieces: vec!["noise".into(), "confined_space".into()],
        })
    );
    let counts = server
        .state
        .material_counts(&zhisu_server_storage::Scope::All)
        .unwrap();
    assert_eq!(
        (
            counts.interviews,
            counts.offered,
            counts.take_home_qr,
            counts.with_pieces
        ),
        (1, 1, 1, 1)
    );

    // the take-home page in a browser as wide as a phone shows the same pieces
    let chromium = zhisu_e2e::Chromium::start(&[]).await;
    chromium.client.set_window_size(412, 900).await.unwrap();
    chromium.client.goto(&url).await.unwrap();
    let shown: Vec<String> = serde_json::from_value(
        chromium
            .client
            .execute(
                "return [...document.querySelectorAll('section.piece')].map(s => s.dataset.piece);",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(shown, ["noise", "confined_space"]);
    let text = chromium
        .client
        .find(fantoccini::Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for id in ["noise", "confined_space"] {
        let p = piece(id);
        assert!(text.contains(&p.title), "{text}");
        assert!(text.contains(p.paragraphs().next().unwrap()), "{text}");
    }
    let violations = zhisu_e2e::axe_violations(&chromium.client).await;
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    let overflow: i64 = serde_json::from_value(
        chromium
            .client
            .execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(overflow, 0, "sideways scrolling on a phone");
    let shot = chromium.client.screenshot().await.unwrap();
    std::fs::create_dir_all(&shots).unwrap();
    std::fs::write(shots.join("take-home-page-with-pieces-412px.png"), shot).unwrap();
    drop(chromium);
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fast_interview_is_flagged_the_surveyor_is_warned_and_paradata_reaches_the_server() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    // the city administrator asks for at least 30 seconds per question in this round
    server
        .set_round_settings(serde_json::json!({
            "show_answer_key": true,
            "quality": { "min_seconds_per_item": 30.0, "straight_lining_run": 8, "max_changes": 10 }
        }))
        .await;
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    let shots = screenshots("flagged_fast");
    app.enrol(&server.enrolment_code()).await;
    wait_until_synced(&app).await;

    let clicked = answer_pilot(&app, None, true).await;
    app.click("complete").await;
    let warning = app
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("qc-flags"))
        .await
        .expect("the quality warning before completing")
        .text()
        .await
        .unwrap();
    assert!(warning.contains("答题太快"), "{warning}");
    assert!(warning.contains("最少应为 30 秒"), "{warning}");
    app.screenshot(&shots, "quality-warning").await;

    // "go back and check" returns to the review; nothing is completed yet
    app.click("qc-back").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("review"))
        .await
        .expect("back on the review");
    {
        let device = zhisu_e2e::open_device_store(&app_dir);
        assert_eq!(device.state_counts().unwrap().in_progress, 1);
    }
    app.click("complete").await;
    app.click("qc-complete").await;
    app.wait_for_text("score", "得分：4 / 4", Duration::from_secs(20))
        .await;

    let list = server.wait_for_count(1, Duration::from_secs(60)).await;
    assert_eq!(list.count, 1);
    let stored = &list.interviews[0].interview;
    assert_eq!(normalized(&stored.answers), normalized(&clicked));
    let paradata = stored
        .paradata
        .as_ref()
        .expect("paradata reached the server");
    assert_eq!(
        paradata.flags.iter().map(|f| f.code()).collect::<Vec<_>>(),
        ["too_fast"]
    );
    assert!(paradata.duration_ms > 0);
    for item in ["age", "employer_duty", "noise", "confined_space"] {
        let p = paradata
            .item(item)
            .unwrap_or_else(|| panic!("no paradata for {item}: {paradata:?}"));
        assert!(p.visits >= 1, "{item} was shown: {p:?}");
    }
    assert_eq!(paradata.item("age").unwrap().changes, 0);
    // this webview (WebKitGTK under Xvfb) gives no position: none is sent
    assert_eq!(
        (&paradata.location_start, &paradata.location_end),
        (&None, &None)
    );
    app.close().await;
}

/// The visible text of element `#id`.
async fn text_of(app: &App, id: &str) -> String {
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id} did not appear: {e}"))
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_surveyor_switches_to_english_the_device_remembers_and_the_interview_keeps_its_language(
) {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    let app_dir = dir.path().join("app");
    let shots = screenshots("language");
    let app = App::launch(&app_dir, &server.base_url).await;
    // the enrolment screen can be switched too
    app.click("language").await;
    app.wait_for_text("enrol", "Enrol", Duration::from_secs(10))
        .await;
    app.screenshot(&shots, "enrol-en").await;
    app.click("language").await;
    app.wait_for_text("enrol", "登记", Duration::from_secs(10))
        .await;
    app.enrol(&server.enrolment_code()).await;

    app.click("language").await;
    app.wait_for_text(
        "title",
        "Zhisu · Occupational health literacy survey",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(text_of(&app, "my-interviews").await, "My interviews");
    assert_eq!(
        text_of(&app, "start-ohl_pilot").await,
        "Occupational health literacy survey (pilot)"
    );
    app.screenshot(&shots, "home-en").await;

    // an interview started now is in English for the respondent
    app.click("start-ohl_pilot").await;
    app.wait_for_question("age").await;
    assert_eq!(text_of(&app, "question").await, "How old are you?");
    assert_eq!(text_of(&app, "counter").await, "Question 1 of 4");
    app.type_into("text-input", "33").await;
    app.screenshot(&shots, "question-en").await;
    app.click("next").await;
    app.wait_for_question("employer_duty").await;
    assert_eq!(text_of(&app, "choice-true").await, "True");

    // the tablet restarts: the surveyor's language is remembered
    assert_eq!(app.kill_app_process(), 1);
    drop(app);
    let app = App::launch(&app_dir, &server.base_url).await;
    app.wait_for_text(
        "title",
        "Zhisu · Occupational health literacy survey",
        Duration::from_secs(20),
    )
    .await;
    // back to Chinese for the surveyor; the interview resumes in its own language
    app.click("language").await;
    app.wait_for_text("title", "职素 · 职业健康素养调查", Duration::from_secs(10))
        .await;
    app.click_css("button.resume").await;
    app.wait_for_question("employer_duty").await;
    assert_eq!(
        text_of(&app, "question").await,
        "The employer is responsible for preventing occupational disease."
    );
    assert_eq!(text_of(&app, "back").await, "← Back");
    app.screenshot(&shots, "resumed-en-for-a-chinese-surveyor")
        .await;
    app.close().await;

    let device = zhisu_e2e::open_device_store(&app_dir);
    assert_eq!(
        device.preference("language").unwrap().as_deref(),
        Some("zh-CN")
    );
    let interviews = device.interviews().unwrap();
    assert_eq!(interviews[0].language.as_deref(), Some("en"));
}

/// How far the page is wider than the window (0: nothing overflows) and how many buttons are
/// lower than 48 px.
async fn layout_problems(app: &App) -> (i64, i64) {
    let overflow = app
        .client
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap();
    let small = app
        .client
        .execute(
            "return [...document.querySelectorAll('button')].filter(b => b.offsetHeight < 48).length;",
            vec![],
        )
        .await
        .unwrap();
    (overflow.as_i64().unwrap(), small.as_i64().unwrap())
}

fn test_sites() -> Vec<zhisu_protocol::Site> {
    vec![
        zhisu_protocol::Site {
            id: "yz-001".into(),
            district: "yuzhong".into(),
            name: "渝建第三工程公司".into(),
            site_type: "enterprise".into(),
            industry: Some("construction".into()),
            ownership: Some("private".into()),
            size: Some("large".into()),
            quotas: [("construction".to_string(), 30), ("driver".to_string(), 10)]
                .into_iter()
                .collect(),
            ..Default::default()
        },
        zhisu_protocol::Site {
            id: "yz-009".into(),
            district: "yuzhong".into(),
            name: "菜园坝长途汽车站".into(),
            site_type: "station".into(),
            quotas: [("driver".to_string(), 50)].into_iter().collect(),
            ..Default::default()
        },
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn todays_work_shows_the_site_and_its_quotas_and_new_interviews_are_recorded_there() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    server
        .state
        .storage
        .replace_sites(
            "yuzhong",
            &test_sites(),
            &zhisu_server_storage::AuditEntry::now("test", "replace_sites", ""),
        )
        .unwrap();
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    let shots = screenshots("todays_work");
    app.enrol(&server.enrolment_code()).await;
    wait_until_synced(&app).await;
    app.wait_for_text("current-site", "还没有选调查点", Duration::from_secs(10))
        .await;

    app.click("today").await;
    app.wait_for_text("round", "2026", Duration::from_secs(10))
        .await;
    app.wait_for_text("district", "渝中区", Duration::from_secs(10))
        .await;
    app.screenshot(&shots, "today-no-site").await;
    app.click("site-yz-001").await;
    app.wait_for_text("site-type", "企业", Duration::from_secs(10))
        .await;
    assert_eq!(text_of(&app, "site-name").await, "渝建第三工程公司");
    assert_eq!(text_of(&app, "site-industry").await, "建筑业");
    assert_eq!(text_of(&app, "site-ownership").await, "私营企业");
    assert_eq!(text_of(&app, "site-size").await, "大型");
    assert_eq!(text_of(&app, "quota-construction").await, "建筑工人0 / 30");
    assert_eq!(
        text_of(&app, "quota-driver").await,
        "司机（公交、出租、客运、货运）0 / 10"
    );
    app.screenshot(&shots, "today-enterprise").await;
    assert_eq!(layout_problems(&app).await, (0, 0));

    // the station: no enterprise details
    app.click("site-yz-009").await;
    app.wait_for_text("site-type", "车站", Duration::from_secs(10))
        .await;
    assert!(app
        .client
        .find(fantoccini::Locator::Id("site-industry"))
        .await
        .is_err());
    app.client.set_window_size(412, 915).await.unwrap();
    app.screenshot(&shots, "phone-today-station").await;
    assert_eq!(layout_problems(&app).await, (0, 0));
    app.client.set_window_size(1280, 800).await.unwrap();
    app.click("site-yz-001").await;
    app.wait_for_text("site-type", "企业", Duration::from_secs(10))
        .await;

    app.click("home").await;
    app.wait_for_text(
        "current-site",
        "调查点：渝建第三工程公司（企业）",
        Duration::from_secs(10),
    )
    .await;
    answer_pilot(&app, None, true).await;
    complete(&app).await;
    let list = server.wait_for_count(1, Duration::from_secs(60)).await;
    assert_eq!(
        list.interviews[0].interview.site_id.as_deref(),
        Some("yz-001")
    );

    app.click("home").await;
    app.click("today").await;
    app.wait_for_text(
        "site-done",
        "这台平板在这里一共完成了 1 份。",
        Duration::from_secs(10),
    )
    .await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn surveyors_sign_in_with_a_pin_and_interviews_carry_their_id() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    let shots = screenshots("surveyors");
    app.enrol(&server.enrolment_code()).await;
    app.wait_for_text(
        "current-surveyor",
        "还没有选调查员",
        Duration::from_secs(10),
    )
    .await;

    // two surveyors share the tablet
    for (id, name, pin) in [("S01", "张三", "1234"), ("S02", "李四", "567890")] {
        app.click("switch-surveyor").await;
        app.type_into("new-surveyor-id", id).await;
        app.type_into("new-surveyor-name", name).await;
        app.type_into("new-surveyor-pin", pin).await;
        app.click("add-surveyor").await;
        app.wait_for_text(
            "current-surveyor",
            &format!("调查员：{name}（{id}）"),
            Duration::from_secs(10),
        )
        .await;
    }
    // a PIN too short is refused
    app.click("switch-surveyor").await;
    app.type_into("new-surveyor-id", "S03").await;
    app.type_into("new-surveyor-name", "王五").await;
    app.type_into("new-surveyor-pin", "12").await;
    app.click("add-surveyor").await;
    app.wait_for_text("error", "PIN 要 4 到 6 位数字。", Duration::from_secs(10))
        .await;

    // 张三 takes the tablet back: a wrong PIN first
    app.click("surveyor-S01").await;
    app.type_into("pin", "0000").await;
    app.screenshot(&shots, "surveyors-pin").await;
    app.click("sign-in").await;
    app.wait_for_text("error", "PIN 不对，请再试一次。", Duration::from_secs(10))
        .await;
    app.screenshot(&shots, "surveyors-wrong-pin").await;
    app.client.set_window_size(412, 915).await.unwrap();
    app.screenshot(&shots, "phone-surveyors").await;
    assert_eq!(layout_problems(&app).await, (0, 0));
    app.client.set_window_size(1280, 800).await.unwrap();
    app.type_into("pin", "1234").await;
    app.click("sign-in").await;
    app.wait_for_text(
        "current-surveyor",
        "调查员：张三（S01）",
        Duration::from_secs(10),
    )
    .await;

    answer_pilot(&app, None, true).await;
    complete(&app).await;
    let list = server.wait_for_count(1, Duration::from_secs(60)).await;
    assert_eq!(
        list.interviews[0].interview.surveyor_id.as_deref(),
        Some("S01")
    );

    // after a restart nobody is signed in: a new interview needs a surveyor first
    assert_eq!(app.kill_app_process(), 1);
    drop(app);
    let app = App::launch(&app_dir, &server.base_url).await;
    app.wait_for_text(
        "current-surveyor",
        "还没有选调查员",
        Duration::from_secs(20),
    )
    .await;
    app.click("start-ohl_pilot").await;
    app.wait_for_text(
        "error",
        "请先点“换调查员”，选好自己并输入 PIN。",
        Duration::from_secs(10),
    )
    .await;
    app.screenshot(&shots, "home-surveyor-needed").await;
    app.close().await;

    let device = zhisu_e2e::open_device_store(&app_dir);
    let names: Vec<String> = device
        .surveyors()
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["张三", "李四"]);
    assert_eq!(
        device.interviews().unwrap().len(),
        1,
        "nothing started without a surveyor"
    );
    drop(device);
    let mut raw = std::fs::read(app_dir.join("zhisu.sqlite3")).unwrap();
    raw.extend(std::fs::read(app_dir.join("zhisu.sqlite3-wal")).unwrap_or_default());
    assert!(
        !raw.windows(6).any(|w| w == b"567890"),
        "the PIN is not in the database file"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_list_is_searched_by_pinyin_initials() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    let shots = screenshots("pinyin_search");
    app.enrol(&server.enrolment_code()).await;

    // the national questionnaire up to the industry question
    app.click("start-ohl_2026").await;
    app.wait_for_question("intro").await;
    app.click("next").await;
    app.wait_for_question("consent").await;
    app.click("choice-true").await;
    app.wait_for_question("age").await;
    app.type_into("text-input", "35").await;
    app.click("next").await;
    app.wait_for_question("frontline").await;
    app.click("choice-true").await;
    for item in [
        "sex",
        "ethnicity",
        "marital",
        "education",
        "hukou",
        "income",
        "population",
    ] {
        app.wait_for_question(item).await;
        app.click_css("button.choice").await;
    }
    app.wait_for_question("industry").await;
    let count = |app: &App| {
        let client = app.client.clone();
        async move {
            client
                .find_all(fantoccini::Locator::Css(".choices button.choice"))
                .await
                .unwrap()
                .len()
        }
    };
    let all = count(&app).await;
    assert!(all >= 20, "the whole list at first: {all}");

    app.type_into("choice-search", "jz").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while count(&app).await == all {
        assert!(
            std::time::Instant::now() < deadline,
            "the list was not filtered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(count(&app).await < all / 2);
    assert_eq!(text_of(&app, "choice-construction").await, "建筑业");
    let first = app
        .client
        .find(fantoccini::Locator::Css(".choices button.choice"))
        .await
        .unwrap()
        .attr("id")
        .await
        .unwrap();
    assert_eq!(
        first.as_deref(),
        Some("choice-construction"),
        "the best match comes first"
    );
    assert!(
        app.client
            .find(fantoccini::Locator::Id("choice-coal_mining"))
            .await
            .is_err(),
        "煤炭开采 does not start with j, z"
    );
    both_sizes(&app, &shots, "industry-jz").await;
    app.click("choice-construction").await;
    app.wait_for_question("job_type").await;
    app.close().await;

    let device = zhisu_e2e::open_device_store(&app_dir);
    let interview = device.interviews().unwrap().remove(0);
    assert_eq!(
        device.answers(interview.id).unwrap().get("industry"),
        Some(&AnswerValue::Choice("construction".into()))
    );
}

/// A WAV file of `seconds` of a quiet 440 Hz tone (8 kHz, 16-bit mono): a stand-in for a
/// recording, made here rather than kept as a binary in the repository.
fn test_wav(seconds: f64) -> Vec<u8> {
    let rate: u32 = 8000;
    let samples = (f64::from(rate) * seconds) as u32;
    let data_len = samples * 2;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 2).to_le_bytes()); // bytes per second
    wav.extend_from_slice(&2u16.to_le_bytes()); // block align
    wav.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for n in 0..samples {
        let t = f64::from(n) / f64::from(rate);
        let sample = (2000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16;
        wav.extend_from_slice(&sample.to_le_bytes());
    }
    wav
}

const READ_ALOUD_QUESTIONNAIRE: &str = r#"
# One question with a recording of it read aloud (the e2e test of the speaker button).
id = "e2e_read_aloud"
version = "1"
default_language = "zh-CN"
languages = ["zh-CN", "en"]
title."zh-CN" = "朗读测试"
title.en = "Read-aloud test"
literacy_threshold_percent = 80

[[dimensions]]
id = "law"
label."zh-CN" = "法律知识"
label.en = "Law"

[[items]]
id = "employer_duty"
kind = "true_false"
required = true
audio = "audio/employer_duty.wav"
label."zh-CN" = "防止职业病，用人单位要负责任。"
label.en = "The employer is responsible for preventing occupational disease."
score = { dimension = "law", points = 1, key = true }
explanation."zh-CN" = "对。法律规定，用人单位要负责预防职业病。"
explanation.en = "True. By law the employer must prevent occupational disease."

[[items]]
id = "training"
kind = "true_false"
required = true
label."zh-CN" = "过去一年，单位给您做过职业健康培训吗？"
label.en = "In the past year, did your employer give you occupational health training?"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn an_item_with_a_recording_has_a_speaker_button_that_plays_it() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    let questionnaire_dir = dir.path().join("questionnaire");
    std::fs::create_dir_all(questionnaire_dir.join("audio")).unwrap();
    let questionnaire = questionnaire_dir.join("read_aloud.toml");
    std::fs::write(&questionnaire, READ_ALOUD_QUESTIONNAIRE).unwrap();
    std::fs::write(
        questionnaire_dir.join("audio/employer_duty.wav"),
        test_wav(0.6),
    )
    .unwrap();
    let app_dir = dir.path().join("app");
    let app = App::launch_with_env(
        &app_dir,
        &server.base_url,
        &[("ZHISU_QUESTIONNAIRE", questionnaire.as_path())],
    )
    .await;
    let shots = screenshots("read_aloud");
    app.enrol(&server.enrolment_code()).await;

    app.click("start-e2e_read_aloud").await;
    app.wait_for_question("employer_duty").await;
    assert_eq!(text_of(&app, "play-audio").await, "🔊 听题目");
    both_sizes(&app, &shots, "question-with-speaker").await;
    app.click("play-audio").await;
    // the audio element has the recording and has started playing it
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let state = loop {
        let state = app
            .client
            .execute(
                "const a = document.getElementById('item-audio');
                 return a ? { ready: a.readyState, duration: a.duration, played: a.played.length,
                              paused: a.paused, error: a.error ? a.error.code : null,
                              src: a.src.slice(0, 22) } : null;",
                vec![],
            )
            .await
            .unwrap();
        if state["played"].as_u64().unwrap_or(0) > 0 || std::time::Instant::now() > deadline {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!("audio element: {state}");
    assert_eq!(state["src"], "data:audio/wav;base64,");
    assert_eq!(state["error"], serde_json::Value::Null);
    let duration = state["duration"].as_f64().unwrap_or(0.0);
    assert!(
        (duration - 0.6).abs() < 0.05,
        "the whole recording: {state}"
    );
    assert!(
        state["played"].as_u64().unwrap_or(0) > 0,
        "it played: {state}"
    );

    // the next question has no recording: no speaker button, and the sound stops
    app.click("choice-true").await;
    app.wait_for_question("training").await;
    for id in ["play-audio", "item-audio"] {
        assert!(
            app.client.find(fantoccini::Locator::Id(id)).await.is_err(),
            "#{id}"
        );
    }
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn where_the_interview_started_and_ended_is_sent_when_the_webview_can_tell() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    app.enrol(&server.enrolment_code()).await;
    // a location service as a tablet's webview has one (this test webview has none)
    let installed = app
        .client
        .execute(
            "const fake = { getCurrentPosition(ok, fail, options) {
                 setTimeout(() => ok({ coords: { latitude: 29.5563012, longitude: 106.5770119,
                                                 accuracy: 12.5 }, timestamp: Date.now() }), 50);
             } };
             try { Object.defineProperty(navigator, 'geolocation', { value: fake, configurable: true }); }
             catch (e) { navigator.geolocation.getCurrentPosition = fake.getCurrentPosition; }
             return navigator.geolocation.getCurrentPosition === fake.getCurrentPosition;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(installed, serde_json::Value::Bool(true));

    answer_pilot(&app, None, true).await;
    // the end fix is asked for when the review shows; a surveyor reads the review a moment
    tokio::time::sleep(Duration::from_secs(1)).await;
    complete(&app).await;
    let shown = app
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Css("#interview-reference b"))
        .await
        .expect("the feedback page shows the interview's reference")
        .attr("data-reference")
        .await
        .unwrap()
        .unwrap();
    let list = server.wait_for_count(1, Duration::from_secs(60)).await;
    // the number a respondent can give to have their answers deleted names this interview
    assert_eq!(
        Some(shown),
        zhisu_core::interview_reference(&list.interviews[0].interview.id.to_string())
    );
    let paradata = list.interviews[0]
        .interview
        .paradata
        .clone()
        .expect("paradata");
    for location in [&paradata.location_start, &paradata.location_end] {
        let location = location.as_ref().expect("a location");
        assert_eq!(
            (location.latitude, location.longitude, location.accuracy_m),
            (29.556301, 106.577012, 12.5)
        );
    }
    assert!(
        paradata.location_end.as_ref().unwrap().at_ms
            >= paradata.location_start.as_ref().unwrap().at_ms
    );
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tablet_is_enrolled_from_a_picture_of_the_qr_code() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    let (code, qr_svg) = server.enrolment_code_with_qr().await;
    let pictures = dir.path().join("pictures");
    std::fs::create_dir_all(&pictures).unwrap();
    let qr = pictures.join("enrolment-code.svg");
    std::fs::write(&qr, &qr_svg).unwrap();
    let blank = pictures.join("blank.svg");
    std::fs::write(
        &blank,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><rect width="200" height="200" fill="silver"/></svg>"#,
    )
    .unwrap();
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    let shots = screenshots("qr_enrolment");

    // a picture without a QR code
    app.type_into("qr-file", blank.to_str().unwrap()).await;
    app.wait_for_text(
        "error",
        "这张图片里没找到二维码。请换一张清楚、正对着拍的照片，或者直接输入登记码。",
        Duration::from_secs(20),
    )
    .await;
    // the QR code the administrator printed (here: the SVG the server made)
    app.type_into("qr-file", qr.to_str().unwrap()).await;
    app.wait_for_text(
        "qr-result",
        "已从二维码读出登记码。",
        Duration::from_secs(20),
    )
    .await;
    let typed = app
        .client
        .find(fantoccini::Locator::Id("enrol-code"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(typed.as_deref(), Some(code.as_str()));
    both_sizes(&app, &shots, "enrol-from-qr").await;
    app.type_into("device-name", "扫码平板").await;
    app.click("enrol").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("start-ohl_pilot"))
        .await
        .expect("the home screen after enrolment");
    app.close().await;
    let device = zhisu_e2e::open_device_store(&app_dir);
    assert_eq!(device.identity().unwrap().unwrap().device_name, "扫码平板");
}

/// The QR code's SVG (the `qrcode` crate's: one `M x y h w v h H x V y` rectangle a dark
/// module, in pixels) drawn into grey pixels and read with a QR decoder: what a camera reads.
fn decode_qr_svg(svg: &str) -> String {
    let number = |text: &str, key: &str| -> usize {
        let at = text.find(key).unwrap_or_else(|| panic!("{key} in the SVG")) + key.len();
        text[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap()
    };
    let (width, height) = (number(svg, "width=\""), number(svg, "height=\""));
    let mut pixels = vec![255u8; width * height];
    let path = &svg[svg.find(" d=\"").expect("a path") + 4..];
    let path = &path[..path.find('"').unwrap()];
    for rect in path.split('M').filter(|r| !r.is_empty()) {
        let values: Vec<usize> = rect
            .split(|c: char| !c.is_ascii_digit())
            .filter(|v| !v.is_empty())
            .map(|v| v.parse().unwrap())
            .collect();
        let (left, top, w, h) = (values[0], values[1], values[2], values[3]);
        for y in top..(top + h).min(height) {
            for x in left..(left + w).min(width) {
                pixels[y * width + x] = 0;
            }
        }
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    grids
        .first()
        .expect("a QR code in the picture")
        .decode()
        .unwrap()
        .1
}

/// Provisioning by one scan: IT presets the server address in the app's configuration file (the
/// enrolment screen offers it); the QR code the server makes for a code carries the server's
/// address and the code as an enrolment URI (decoded here from the SVG the dashboard serves);
/// the app reads that picture, fills in both, and enrols with that server, whatever the preset.
#[tokio::test(flavor = "multi_thread")]
async fn a_tablet_is_set_up_by_scanning_one_qr_code() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    let created = server.enrolment_code_created().await;
    let (code, uri, svg) = (
        created["code"].as_str().unwrap(),
        created["enrol_uri"].as_str().unwrap(),
        created["qr_svg"].as_str().unwrap(),
    );
    let scanned = decode_qr_svg(svg);
    assert_eq!(scanned, uri);
    let parsed = zhisu_protocol::enrol_uri::EnrolUri::parse(&scanned).expect("an enrolment URI");
    assert_eq!(parsed.server_url, server.base_url);
    assert_eq!(parsed.code, code);

    let pictures = dir.path().join("pictures");
    std::fs::create_dir_all(&pictures).unwrap();
    let qr = pictures.join("enrolment-code.svg");
    std::fs::write(&qr, svg).unwrap();
    // the address IT preset on every tablet of the district (here one that is not the server)
    let app_config = dir.path().join("app.toml");
    std::fs::write(
        &app_config,
        "server_url = \"https://zhisu.example-cdc.cn\"\n",
    )
    .unwrap();
    let app_dir = dir.path().join("app");
    let app = App::launch_with_env(&app_dir, "", &[("ZHISU_APP_CONFIG", &app_config)]).await;
    let value = |id: &'static str| {
        let client = app.client.clone();
        async move {
            // the screen may not be drawn yet, or be drawn again meanwhile
            match client.find(fantoccini::Locator::Id(id)).await {
                Ok(element) => element
                    .prop("value")
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_default(),
                Err(_) => String::new(),
            }
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while value("server-url").await != "https://zhisu.example-cdc.cn" {
        assert!(
            std::time::Instant::now() < deadline,
            "the preset address is offered: {:?}",
            value("server-url").await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.type_into("qr-file", qr.to_str().unwrap()).await;
    app.wait_for_text(
        "uri-result",
        "服务器地址也已从二维码填好，请核对后点“登记”。",
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(value("server-url").await, server.base_url);
    assert_eq!(value("enrol-code").await, code);
    both_sizes(&app, &screenshots("one_scan"), "enrol-from-uri").await;
    app.type_into("device-name", "一扫平板").await;
    app.click("enrol").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("start-ohl_pilot"))
        .await
        .expect("the home screen after enrolment");
    app.close().await;
    let device = zhisu_e2e::open_device_store(&app_dir);
    let identity = device.identity().unwrap().unwrap();
    assert_eq!(identity.server_url, server.base_url);
    assert_eq!(identity.device_name, "一扫平板");
}

/// What the screen on show fails of the sunlight rules, measured from the webview's computed
/// styles with the WCAG contrast formula: every enabled control's outline (or its own fill)
/// at least 3:1 against what is around it, its text at least 4.5:1, the question's and the
/// answers' text at least 7:1, placeholders at least 4.5:1.
const CONTRAST_PROBLEMS: &str = r#"
const rgb = function (c) {
  const m = c.match(/rgba?\(([^)]+)\)/);
  if (!m) return null;
  const p = m[1].split(',').map(parseFloat);
  return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
};
const lum = function (c) {
  const f = function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
};
const ratio = function (a, b) {
  const x = lum(a), y = lum(b);
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
};
// the colour behind an element: the first opaque background up the tree (white at the top)
const behind = function (e) {
  for (; e && e.nodeType === 1; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c && c.a > 0.5) return c;
  }
  return { r: 255, g: 255, b: 255, a: 1 };
};
const name = function (e) { return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' "' + (e.textContent || e.placeholder || '').trim().slice(0, 20) + '"'; };
const problems = [];
document.querySelectorAll('button, input:not([type=hidden]):not(.file-input), select, textarea').forEach(function (e) {
  if (e.disabled) return;
  const r = e.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return;
  const s = getComputedStyle(e);
  const around = behind(e.parentElement), own = behind(e);
  const width = parseFloat(s.borderTopWidth);
  const outline = width >= 1 ? ratio(rgb(s.borderTopColor), around) : 0;
  const fill = ratio(own, around);
  if (Math.max(outline, fill) < 3) problems.push('outline ' + outline.toFixed(2) + ':1, fill ' + fill.toFixed(2) + ':1: ' + name(e));
  const text = ratio(rgb(s.color), own);
  const wanted = e.classList.contains('choice') ? 7 : 4.5;
  if (text < wanted) problems.push('text ' + text.toFixed(2) + ':1 (wanted ' + wanted + '): ' + name(e));
  if (e.placeholder) {
    const p = ratio(rgb(getComputedStyle(e, '::placeholder').color), own);
    if (p < 4.5) problems.push('placeholder ' + p.toFixed(2) + ':1: ' + name(e));
  }
});
document.querySelectorAll('#question, .choice, .bar-label, .bar-verdict, #score').forEach(function (e) {
  const t = ratio(rgb(getComputedStyle(e).color), behind(e));
  if (t < 7 && !e.disabled) problems.push('text ' + t.toFixed(2) + ':1 (wanted 7): ' + name(e));
});
return problems;
"#;

/// Checks the screen on show: the contrast rules above and axe-core's WCAG 2.1 A/AA rules.
async fn looks_right(app: &App, what: &str) {
    let problems = app.client.execute(CONTRAST_PROBLEMS, vec![]).await.unwrap();
    let problems: Vec<&str> = problems
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
    let violations = zhisu_e2e::axe_violations(&app.client).await;
    assert!(
        violations.is_empty(),
        "{what}: axe-core finds\n{}",
        violations.join("\n")
    );
}

/// Saves the screen on show at 1280×800 (a tablet in landscape) and at 412×915 (a phone in
/// portrait) under `dir/<size>/name.png`, and checks at both sizes that nothing is wider than
/// the window, every button is at least 48 px high, contrast and axe-core (see [`looks_right`]).
async fn both_sizes(app: &App, dir: &std::path::Path, name: &str) {
    for (width, height) in [(412u32, 915u32), (1280, 800)] {
        app.client.set_window_size(width, height).await.unwrap();
        // let the layout settle at the new size
        tokio::time::sleep(Duration::from_millis(150)).await;
        app.screenshot(&dir.join(format!("{width}x{height}")), name)
            .await;
        assert_eq!(
            layout_problems(app).await,
            (0, 0),
            "{name} at {width}x{height}: overflow (px) and buttons under 48 px"
        );
        looks_right(app, &format!("{name} at {width}x{height}")).await;
    }
}

/// The text size step the screen on show has (0 normal to 2 largest: `<main class="text-N">`).
async fn text_step(app: &App) -> u64 {
    let class = app
        .client
        .execute("return document.querySelector('main').className;", vec![])
        .await
        .unwrap();
    let class = class.as_str().unwrap_or_default().to_string();
    class
        .strip_prefix("text-")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("main has no text step: {class:?}"))
}

/// Presses the screen's own text size button (#text-size: larger, larger still, normal again)
/// until the text is at `step`.
async fn set_text_step(app: &App, step: u64) {
    for _ in 0..3 {
        if text_step(app).await == step {
            return;
        }
        let before = text_step(app).await;
        app.click("text-size").await;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while text_step(app).await == before {
            assert!(
                std::time::Instant::now() < deadline,
                "#text-size did not change the text size"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert_eq!(text_step(app).await, step, "the text size button's steps");
}

/// Every look of the screen on show, each checked as [`both_sizes`] checks one (at 1280×800
/// and 412×915: nothing wider than the window, buttons 48 px high, contrast, axe-core) and
/// saved: at the largest text step (150 %) in the standard look (`name-largest`) and in the
/// high-contrast look (`name-largest-high-contrast`). The text is made larger with the
/// screen's own button, as the surveyor does. The look is put on the document the way the
/// app's switch puts it (`<html class="theme-…">`, `show_theme` in frontend/src/app.rs: that
/// class is all the look is, so a screen without the switch is checked in both); the switch
/// itself is pressed and remembered in [`every_screen_is_saved_at_both_sizes_and_fits`]. The
/// screen is left at the text size and look it had.
async fn every_look(app: &App, dir: &std::path::Path, name: &str) {
    let step = text_step(app).await;
    let theme = app
        .client
        .execute("return document.documentElement.className;", vec![])
        .await
        .unwrap();
    set_text_step(app, 2).await;
    let size = app
        .client
        .execute(
            "return parseFloat(getComputedStyle(document.querySelector('main')).fontSize);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        size.as_f64(),
        Some(30.0),
        "{name}: the largest step is 150 % of 20 px"
    );
    for (class, suffix) in [
        ("theme-standard", "largest"),
        ("theme-high_contrast", "largest-high-contrast"),
    ] {
        app.client
            .execute(
                "document.documentElement.className = arguments[0];",
                vec![serde_json::json!(class)],
            )
            .await
            .unwrap();
        both_sizes(app, dir, &format!("{name}-{suffix}")).await;
    }
    app.client
        .execute(
            "document.documentElement.className = arguments[0];",
            vec![theme],
        )
        .await
        .unwrap();
    set_text_step(app, step).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_screen_is_saved_at_both_sizes_and_fits() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    server
        .state
        .storage
        .replace_sites(
            "yuzhong",
            &test_sites(),
            &zhisu_server_storage::AuditEntry::now("test", "replace_sites", ""),
        )
        .unwrap();
    // a round that flags a test's fast clicking, so the quality warning shows every time
    server
        .set_round_settings(serde_json::json!({
            "show_answer_key": true,
            "quality": { "min_seconds_per_item": 30.0 }
        }))
        .await;
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    let shots = screenshots("every_screen");

    both_sizes(&app, &shots, "01-enrol").await;
    app.type_into("enrol-code", "WRON-GCOD").await;
    app.type_into("device-name", "测试平板").await;
    app.click("enrol").await;
    app.wait_for_text(
        "error",
        "这个登记码不对，或者已经用过、过期了。请向管理员要一个新的。",
        Duration::from_secs(20),
    )
    .await;
    both_sizes(&app, &shots, "02-enrol-bad-code").await;
    // empty the field as a person would, so the page hears it (an input event)
    app.client
        .execute(
            "const input = document.getElementById('enrol-code');
             input.value = '';
             input.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![],
        )
        .await
        .unwrap();
    let code = server.enrolment_code();
    app.type_into("enrol-code", &code).await;
    let typed = app
        .client
        .find(fantoccini::Locator::Id("enrol-code"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(typed.as_deref(), Some(code.as_str()));
    app.click("enrol").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("start-ohl_pilot"))
        .await
        .expect("the home screen after enrolment");
    wait_until_synced(&app).await;
    both_sizes(&app, &shots, "03-home").await;

    app.click("today").await;
    app.click("site-yz-001").await;
    app.wait_for_text("site-type", "企业", Duration::from_secs(10))
        .await;
    both_sizes(&app, &shots, "04-today").await;
    app.click("home").await;

    app.click("switch-surveyor").await;
    app.type_into("new-surveyor-id", "S01").await;
    app.type_into("new-surveyor-name", "张三").await;
    app.type_into("new-surveyor-pin", "1234").await;
    app.click("add-surveyor").await;
    app.wait_for_text(
        "current-surveyor",
        "调查员：张三（S01）",
        Duration::from_secs(10),
    )
    .await;
    app.click("switch-surveyor").await;
    app.click("surveyor-S01").await;
    both_sizes(&app, &shots, "05-surveyors").await;
    app.type_into("pin", "1234").await;
    app.click("sign-in").await;
    app.wait_for_text(
        "current-surveyor",
        "调查员：张三（S01）",
        Duration::from_secs(10),
    )
    .await;
    both_sizes(&app, &shots, "06-home-ready").await;

    app.click("start-ohl_pilot").await;
    app.wait_for_question("age").await;
    app.type_into("text-input", "52").await;
    both_sizes(&app, &shots, "07-question-number").await;
    app.click("next").await;
    app.wait_for_question("employer_duty").await;
    both_sizes(&app, &shots, "08-question-true-false").await;
    app.click("choice-false").await;
    app.wait_for_question("noise").await;
    both_sizes(&app, &shots, "09-question-single-choice").await;
    app.click("choice-cotton").await;
    app.wait_for_question("confined_space").await;
    app.click("choice-ventilate").await;
    app.click("text-size").await;
    both_sizes(&app, &shots, "10-question-multiple-choice-large-text").await;
    // the largest step: question, answers, buttons and feedback grow together, and every
    // screen from here on is saved and checked at it
    app.click("text-size").await;
    let sizes = app
        .client
        .execute(
            "return ['#question', '.choice', '#next', '#text-size'].map(function (s) { \
               return parseFloat(getComputedStyle(document.querySelector(s)).fontSize); });",
            vec![],
        )
        .await
        .unwrap();
    let sizes: Vec<f64> = sizes
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(
        sizes,
        vec![42.0, 36.0, 30.0, 30.0],
        "at 150 %: question, answers, buttons (20 px × 1.5 × their own scale)"
    );
    both_sizes(&app, &shots, "10-question-multiple-choice-largest-text").await;
    app.click("next").await;
    both_sizes(&app, &shots, "11-review").await;
    app.click("complete").await;
    app.wait_for_text("qc-title", "完成前请再看一下", Duration::from_secs(20))
        .await;
    both_sizes(&app, &shots, "12-quality-warning").await;
    app.click("qc-complete").await;
    app.wait_for_text("score", "得分：0 / 4", Duration::from_secs(20))
        .await;
    both_sizes(&app, &shots, "13-feedback").await;
    app.click("home").await;

    app.wait_for_text("sync-acknowledged", "1", Duration::from_secs(30))
        .await;
    app.click("my-interviews").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::Css("#interview-list li"))
        .await
        .unwrap();
    both_sizes(&app, &shots, "14-my-interviews").await;
    app.click("home").await;
    app.click("show-log").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::Css("#sync-log li"))
        .await
        .unwrap();
    both_sizes(&app, &shots, "15-sync-log").await;
    app.click("home").await;

    app.click("start-ohl_2026").await;
    app.wait_for_question("intro").await;
    both_sizes(&app, &shots, "16-question-note").await;
    app.click("next").await;
    app.wait_for_question("consent").await;
    app.click("choice-false").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("ineligible"))
        .await
        .unwrap();
    both_sizes(&app, &shots, "17-ineligible").await;
    // the surveyor records how the contact ended (a refusal, as the rule decided) and goes home
    app.click("end-contact").await;

    app.click("language").await;
    app.wait_for_text(
        "title",
        "Zhisu · Occupational health literacy survey",
        Duration::from_secs(10),
    )
    .await;
    both_sizes(&app, &shots, "18-home-english").await;
    app.click("today").await;
    app.wait_for_text("site-type", "Enterprise", Duration::from_secs(10))
        .await;
    both_sizes(&app, &shots, "19-today-english").await;

    // the high-contrast look, switched on at home, at the largest text step
    app.click("home").await;
    app.click("theme").await;
    let theme = app
        .client
        .execute("return document.documentElement.className;", vec![])
        .await
        .unwrap();
    assert_eq!(theme, "theme-high_contrast");
    both_sizes(&app, &shots, "20-home-high-contrast").await;
    app.click("start-ohl_pilot").await;
    app.wait_for_question("age").await;
    app.type_into("text-input", "40").await;
    both_sizes(&app, &shots, "21-question-number-high-contrast").await;
    app.click("next").await;
    app.wait_for_question("employer_duty").await;
    both_sizes(&app, &shots, "22-question-true-false-high-contrast").await;
    app.click("choice-true").await;
    app.wait_for_question("noise").await;
    app.click("back").await;
    app.wait_for_question("employer_duty").await;
    // the answer chosen carries a mark, not only a colour
    assert!(text_of(&app, "choice-true").await.starts_with('✔'));
    both_sizes(&app, &shots, "23-question-chosen-high-contrast").await;
    app.close().await;
    let device = zhisu_e2e::open_device_store(&app_dir);
    assert_eq!(
        device.screen_theme().unwrap(),
        zhisu_store::Theme::HighContrast,
        "the device remembers the look"
    );
}

const PICTURES_QUESTIONNAIRE: &str = r#"
# Two questions with pictures: one the app carries (drawn for the bundled questionnaires), one
# beside this file (the e2e test of item pictures).
id = "e2e_pictures"
version = "1"
default_language = "zh-CN"
languages = ["zh-CN", "en"]
title."zh-CN" = "图片测试"
title.en = "Pictures test"
literacy_threshold_percent = 80

[[dimensions]]
id = "skills"
label."zh-CN" = "技能"
label.en = "Skills"

[[items]]
id = "warning"
kind = "true_false"
required = true
image = "images/sign_warning_triangle.png"
label."zh-CN" = "黄色三角形的标志是警告标志。"
label.en = "A yellow triangle sign is a warning sign."
score = { dimension = "skills", points = 1, key = true }
explanation."zh-CN" = "对。黄色三角形是警告标志。"
explanation.en = "True. A yellow triangle is a warning sign."

[[items]]
id = "own"
kind = "true_false"
required = true
image = "images/own.svg"
label."zh-CN" = "这是一张自己画的图。"
label.en = "This is a picture of our own."

[[items]]
id = "own_described"
kind = "true_false"
required = true
image = "images/own.svg"
image_alt."zh-CN" = "一个深蓝色的长方形"
image_alt.en = "A dark blue rectangle"
label."zh-CN" = "这张图是深蓝色的。"
label.en = "This picture is dark blue."
"#;

const KINDS_QUESTIONNAIRE: &str = r#"
# One item of each kind the other end-to-end tests do not show (text, date, decimal, a scale
# with "don't know", a long list chosen by search, a picture of the questionnaire's own with
# its words): the test of every look of every question screen.
id = "e2e_kinds"
version = "1"
default_language = "zh-CN"
languages = ["zh-CN", "en"]
title."zh-CN" = "题型测试"
title.en = "Item kinds test"

[[choices.often]]
key = "never"
label."zh-CN" = "从来没有"
label.en = "Never"

[[choices.often]]
key = "sometimes"
label."zh-CN" = "有时候"
label.en = "Sometimes"

[[choices.often]]
key = "often"
label."zh-CN" = "经常"
label.en = "Often"

[[choices.often]]
key = "always"
label."zh-CN" = "几乎每天都这样"
label.en = "Almost every day"

[[choices.industry]]
key = "construction"
label."zh-CN" = "建筑业"
label.en = "Construction"

[[choices.industry]]
key = "coal_mining"
label."zh-CN" = "煤炭开采和洗选业"
label.en = "Coal mining and washing"

[[choices.industry]]
key = "machinery"
label."zh-CN" = "通用设备制造业"
label.en = "General machinery manufacturing"

[[choices.industry]]
key = "chemicals"
label."zh-CN" = "化学原料和化学制品制造业"
label.en = "Chemical raw materials and chemical products"

[[items]]
id = "job"
kind = "text"
max_length = 50
label."zh-CN" = "您平时主要做什么活？"
label.en = "What work do you mostly do?"
hint."zh-CN" = "比如：砌墙、开叉车、打磨"
hint.en = "For example: bricklaying, driving a forklift, grinding"

[[items]]
id = "started"
kind = "date"
min = "1970-01-01"
max = "2026-12-31"
label."zh-CN" = "您是哪一天开始做这份工作的？"
label.en = "On what day did you start this job?"

[[items]]
id = "weight"
kind = "decimal"
min = 30.0
max = 200.0
label."zh-CN" = "您的体重是多少公斤？"
label.en = "How many kilograms do you weigh?"

[[items]]
id = "ringing"
kind = "likert"
choices = "often"
dont_know = true
label."zh-CN" = "下班以后，您耳朵里嗡嗡响吗？"
label.en = "After work, do your ears ring?"

[[items]]
id = "industry"
kind = "single_choice"
choices = "industry"
search = true
label."zh-CN" = "您的单位是哪个行业？"
label.en = "Which industry is your employer in?"

[[items]]
id = "helmet"
kind = "true_false"
image = "images/helmet.svg"
image_alt."zh-CN" = "一个工人戴着黄色安全帽，下巴上系着帽带"
image_alt.en = "A worker wearing a yellow hard hat with the chin strap fastened"
label."zh-CN" = "图上的人安全帽戴对了。"
label.en = "The person in the picture wears the hard hat the right way."
"#;

/// A picture of a questionnaire's own (a worker's head and a yellow hard hat, drawn here).
const HELMET_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240"><rect width="320" height="240" fill="#ffffff"/><circle cx="160" cy="140" r="60" fill="#f1c27d"/><path d="M90 120 A70 70 0 0 1 230 120 Z" fill="#f2c200" stroke="#000" stroke-width="4"/><path d="M110 130 Q160 230 210 130" fill="none" stroke="#000" stroke-width="4"/></svg>"##;

/// Sets a field's value as typing would end (an `input` event the screen hears): a date field's
/// own picker is the webview's and is not typed into key by key.
async fn set_value(app: &App, id: &str, value: &str) {
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id} did not appear: {e}"));
    app.client
        .execute(
            "const input = document.getElementById(arguments[0]);
             input.value = arguments[1];
             input.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![serde_json::json!(id), serde_json::json!(value)],
        )
        .await
        .unwrap();
}

/// Every question screen the other tests do not show (text, date, decimal, a scale with
/// "don't know", a long list chosen by search, a picture with its words), and home, in every
/// look ([`every_look`]: the largest text step, standard and high contrast, tablet and phone),
/// with the answers given on them stored as typed.
#[tokio::test(flavor = "multi_thread")]
async fn every_item_kind_fits_in_every_look() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    let questionnaire_dir = dir.path().join("questionnaire");
    std::fs::create_dir_all(questionnaire_dir.join("images")).unwrap();
    let questionnaire = questionnaire_dir.join("kinds.toml");
    std::fs::write(&questionnaire, KINDS_QUESTIONNAIRE).unwrap();
    std::fs::write(questionnaire_dir.join("images/helmet.svg"), HELMET_SVG).unwrap();
    let app_dir = dir.path().join("app");
    let app = App::launch_with_env(
        &app_dir,
        &server.base_url,
        &[("ZHISU_QUESTIONNAIRE", questionnaire.as_path())],
    )
    .await;
    let shots = screenshots("every_look");
    app.enrol(&server.enrolment_code()).await;
    every_look(&app, &shots, "home").await;

    app.click("start-e2e_kinds").await;
    app.wait_for_question("job").await;
    app.type_into("text-input", "开叉车").await;
    every_look(&app, &shots, "question-text").await;
    app.click("next").await;

    app.wait_for_question("started").await;
    set_value(&app, "text-input", "2019-03-01").await;
    every_look(&app, &shots, "question-date").await;
    app.click("next").await;

    app.wait_for_question("weight").await;
    app.type_into("text-input", "62.5").await;
    every_look(&app, &shots, "question-decimal").await;
    app.click("next").await;

    app.wait_for_question("ringing").await;
    assert!(app
        .client
        .find(fantoccini::Locator::Id("dont-know"))
        .await
        .is_ok());
    every_look(&app, &shots, "question-scale").await;
    app.click("choice-sometimes").await;

    app.wait_for_question("industry").await;
    app.type_into("choice-search", "jz").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::Id("choice-construction"))
        .await
        .unwrap();
    every_look(&app, &shots, "question-search").await;
    app.click("choice-construction").await;

    app.wait_for_question("helmet").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let alt = loop {
        let shown = app
            .client
            .execute(
                "const img = document.getElementById('item-picture');
                 return img && img.complete && img.naturalWidth > 0 ? img.alt : null;",
                vec![],
            )
            .await
            .unwrap();
        if let Some(alt) = shown.as_str() {
            break alt.to_string();
        }
        assert!(std::time::Instant::now() < deadline, "no picture");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        alt, "一个工人戴着黄色安全帽，下巴上系着帽带",
        "the questionnaire's image_alt"
    );
    every_look(&app, &shots, "question-picture").await;
    app.click("choice-true").await;
    // closing the app before it moves on (once the answer is saved) would lose the answer, as
    // a flat battery would lose an answer the screen never showed as saved
    app.wait_to_leave_question("helmet").await;
    app.close().await;

    let device = zhisu_e2e::open_device_store(&app_dir);
    let interview = device.interviews().unwrap().remove(0);
    let answers = device.answers(interview.id).unwrap();
    for (item, value) in [
        ("job", AnswerValue::Text("开叉车".into())),
        ("started", AnswerValue::Date("2019-03-01".into())),
        ("weight", AnswerValue::Decimal(62.5)),
        ("ringing", AnswerValue::Choice("sometimes".into())),
        ("industry", AnswerValue::Choice("construction".into())),
        ("helmet", AnswerValue::Bool(true)),
    ] {
        assert_eq!(answers.get(item), Some(&value), "{item}");
    }
}

/// The text size button is on the first screens too (enrolment, home), works there at a
/// phone's width, and the tablet keeps the size chosen for the next start.
#[tokio::test(flavor = "multi_thread")]
async fn the_text_size_is_chosen_on_the_first_screens_and_remembered() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    let shots = screenshots("text_size");
    app.client
        .wait()
        .at_most(Duration::from_secs(90))
        .for_element(fantoccini::Locator::Id("enrol-code"))
        .await
        .expect("the enrolment screen");
    assert_eq!(text_step(&app).await, 0, "normal before any choice");
    assert_eq!(text_of(&app, "text-size").await, "字大一点");
    set_text_step(&app, 2).await;
    assert_eq!(text_of(&app, "text-size").await, "字变回原来大小");
    let size = app
        .client
        .execute(
            "return ['h1', '#enrol'].map(function (s) { \
               return parseFloat(getComputedStyle(document.querySelector(s)).fontSize); });",
            vec![],
        )
        .await
        .unwrap();
    let size: Vec<f64> = serde_json::from_value(size).unwrap();
    assert_eq!(size, vec![48.0, 30.0], "the title and the button at 150 %");
    every_look(&app, &shots, "enrol").await;
    set_text_step(&app, 1).await;
    app.enrol(&server.enrolment_code()).await;
    assert_eq!(text_step(&app).await, 1, "the size stays after enrolment");
    set_text_step(&app, 2).await;
    both_sizes(&app, &shots, "home-largest").await;
    app.close().await;
    let device = zhisu_e2e::open_device_store(&app_dir);
    assert_eq!(
        device.screen_text_size().unwrap(),
        zhisu_store::TextSize::Largest,
        "the device keeps the size"
    );
    drop(device);

    let app = App::launch(&app_dir, &server.base_url).await;
    app.client
        .wait()
        .at_most(Duration::from_secs(90))
        .for_element(fantoccini::Locator::Id("start-ohl_pilot"))
        .await
        .expect("the home screen");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while text_step(&app).await != 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the size chosen is back after a restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_item_shows_its_picture_with_words_for_it() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    let questionnaire_dir = dir.path().join("questionnaire");
    std::fs::create_dir_all(questionnaire_dir.join("images")).unwrap();
    let questionnaire = questionnaire_dir.join("pictures.toml");
    std::fs::write(&questionnaire, PICTURES_QUESTIONNAIRE).unwrap();
    std::fs::write(
        questionnaire_dir.join("images/own.svg"),
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200"><rect width="300" height="200" fill="navy"/></svg>"#,
    )
    .unwrap();
    let app_dir = dir.path().join("app");
    let app = App::launch_with_env(
        &app_dir,
        &server.base_url,
        &[("ZHISU_QUESTIONNAIRE", questionnaire.as_path())],
    )
    .await;
    let shots = screenshots("pictures");
    app.enrol(&server.enrolment_code()).await;
    app.click("start-e2e_pictures").await;
    app.wait_for_question("warning").await;
    let picture = "const img = document.getElementById('item-picture');
         return img && img.complete ? { width: img.naturalWidth, alt: img.alt, src: img.src.slice(0, 22) } : null;";
    let wait_for_picture = || async {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let shown = app.client.execute(picture, vec![]).await.unwrap();
            if shown["width"].as_u64().unwrap_or(0) > 0 {
                return shown;
            }
            assert!(std::time::Instant::now() < deadline, "no picture: {shown}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    // the app's own drawing of the warning sign, described in words
    let shown = wait_for_picture().await;
    assert_eq!(shown["src"], "data:image/png;base64,");
    assert_eq!(shown["width"], 480);
    assert!(
        shown["alt"]
            .as_str()
            .unwrap()
            .starts_with("警告标志：黄色三角形"),
        "{shown}"
    );
    both_sizes(&app, &shots, "question-with-picture").await;
    app.click("choice-true").await;
    app.wait_for_question("own").await;
    // a picture from the questionnaire's folder, described by the question's words
    let shown = wait_for_picture().await;
    assert_eq!(shown["src"], "data:image/svg+xml;bas");
    assert_eq!(shown["alt"], "题目的图：这是一张自己画的图。");
    both_sizes(&app, &shots, "question-with-own-picture").await;
    app.click("choice-true").await;
    app.wait_for_question("own_described").await;
    // the same picture with the questionnaire's words for it (image_alt)
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let shown = wait_for_picture().await;
        if shown["alt"] == "一个深蓝色的长方形" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the image_alt: {shown}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.close().await;
}

/// Issue 15, through the real app and server: on one tablet a refusal at consent, a
/// respondent screened out by age, a partial interview closed in "my interviews" and a
/// completed interview, made while the server is down, each arrive exactly once when it is
/// back; the same sealed batch sent again changes nothing; and the dashboard's contact counts
/// and rates equal counts made from the server's database here.
#[tokio::test(flavor = "multi_thread")]
async fn every_contact_outcome_arrives_once_and_the_dashboard_rates_match_the_database() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server_dir = dir.path().join("server");
    let server = Server::start_on(port, &server_dir).await;
    let app_dir = dir.path().join("app");
    let usb = dir.path().join("usb");
    let app = App::launch_with_env(&app_dir, &server.base_url, &[("ZHISU_BACKUP_DIR", &usb)]).await;
    let shots = screenshots("contact_outcomes");
    app.enrol(&server.enrolment_code()).await;
    let base_url = server.base_url.clone();
    // the server goes away: every contact waits on the tablet
    server.stop().await;

    // 1. a refusal at consent
    app.click("start-ohl_2026").await;
    app.wait_for_question("intro").await;
    app.click("next").await;
    app.wait_for_question("consent").await;
    app.click("choice-false").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("end-contact"))
        .await
        .expect("the polite ending");
    app.click("end-contact").await;

    // 2. screened out: 62 years old
    app.click("start-ohl_2026").await;
    app.wait_for_question("intro").await;
    app.click("next").await;
    app.wait_for_question("consent").await;
    app.click("choice-true").await;
    app.wait_for_question("age").await;
    app.type_into("text-input", "62").await;
    app.click("next").await;
    app.wait_for_question("frontline").await;
    app.click("choice-true").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("end-contact"))
        .await
        .expect("the polite ending");
    app.click("end-contact").await;

    // 3. eligible, then called away: paused, closed later as a partial with the reason
    app.click("start-ohl_2026").await;
    app.wait_for_question("intro").await;
    app.click("next").await;
    app.wait_for_question("consent").await;
    app.click("choice-true").await;
    app.wait_for_question("age").await;
    app.type_into("text-input", "35").await;
    app.click("next").await;
    app.wait_for_question("frontline").await;
    app.click("choice-true").await;
    app.wait_for_question("sex").await;
    app.click("pause").await;

    // 4. a completed interview
    answer_pilot(&app, None, true).await;
    complete(&app).await;
    app.click("home").await;

    app.click("my-interviews").await;
    // a partial without its reason: told in the screen's words what to do, nothing closed
    app.click_css("#close-outcome option[value=partial]").await;
    app.click_css("#interview-list li[data-state=in_progress] button.close")
        .await;
    let told = app
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("error"))
        .await
        .expect("the missing reason told")
        .text()
        .await
        .unwrap();
    assert!(
        told.contains("写下原因") && !told.contains("出错了"),
        "plain words, not the native message: {told}"
    );
    assert!(app
        .client
        .find(fantoccini::Locator::Css(
            "#interview-list li b.disposition[data-disposition=partial]"
        ))
        .await
        .is_err());
    app.type_into("discard-reason", "被叫去上工").await;
    app.click_css("#close-outcome option[value=partial]").await;
    app.click_css("#interview-list li[data-state=in_progress] button.close")
        .await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Css(
            "#interview-list li b.disposition[data-disposition=partial]",
        ))
        .await
        .expect("the partial shown in my interviews");
    let shown: Vec<String> = {
        let mut out = Vec::new();
        for e in app
            .client
            .find_all(fantoccini::Locator::Css("#interview-list b.disposition"))
            .await
            .unwrap()
        {
            out.push(e.attr("data-disposition").await.unwrap().unwrap());
        }
        out.sort();
        out
    };
    assert_eq!(
        shown,
        ["completed", "not_eligible", "partial", "refused"],
        "my interviews shows each contact's outcome"
    );
    app.screenshot(&shots, "my-interviews").await;
    app.click("home").await;

    // no network for days: the surveyor writes a backup for the administrator with one tap
    app.click("show-log").await;
    app.click("backup-to-drive").await;
    let written = app
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("backup-written"))
        .await
        .expect("where the backup went");
    let path = std::path::PathBuf::from(written.attr("data-path").await.unwrap().unwrap());
    assert!(path.starts_with(&usb), "{}", path.display());
    assert!(written.text().await.unwrap().contains("交给管理员"));
    let key = zhisu_store::load_or_create_key_file(&zhisu_e2e::key_dir(&app_dir)).unwrap();
    let backed_up = zhisu_store::read_backup(&path, Some(&key)).unwrap();
    assert_eq!(
        backed_up.len(),
        1,
        "the completed interview, as it waits to be sent"
    );
    app.screenshot(&shots, "backup").await;
    app.click("home").await;

    // the server is back on the same address: the tablet sends everything exactly once
    let server = Server::start_on(port, &server_dir).await;
    assert_eq!(server.base_url, base_url);
    app.wait_for_text("sync-acknowledged", "4", Duration::from_secs(60))
        .await;
    let db = rusqlite::Connection::open(server_dir.join("server.sqlite3")).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM interview"), 1);
    assert_eq!(count("SELECT count(*) FROM contact"), 3);
    for (disposition, n) in [("refused", 1), ("not_eligible", 1), ("partial", 1)] {
        assert_eq!(
            count(&format!(
                "SELECT count(*) FROM contact WHERE disposition = '{disposition}'"
            )),
            n,
            "{disposition}"
        );
    }
    let (excluded, items, reason): (String, i64, String) = db
        .query_row(
            "SELECT (SELECT excluded_by FROM contact WHERE disposition = 'not_eligible'),
                    (SELECT items_answered FROM contact WHERE disposition = 'partial'),
                    (SELECT reason FROM contact WHERE disposition = 'partial')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (excluded.as_str(), items, reason.as_str()),
        ("[\"age\"]", 3, "被叫去上工")
    );

    // a fault: the tablet's sealed batch arrives once more (a response lost, a retry)
    let device_db = app_dir.join("zhisu.sqlite3");
    let (token, resend) = {
        let device = zhisu_e2e::open_device_store(&app_dir);
        let token = device.identity().unwrap().unwrap().token;
        let key = zhisu_store::load_or_create_key_file(&zhisu_e2e::key_dir(&app_dir)).unwrap();
        let raw = rusqlite::Connection::open(&device_db).unwrap();
        raw.pragma_update(None, "key", format!("x'{}'", key.to_hex()))
            .unwrap();
        let mut stmt = raw
            .prepare(
                "SELECT payload, sealed, disposition FROM interview \
                 WHERE payload IS NOT NULL OR sealed IS NOT NULL",
            )
            .unwrap();
        let rows: Vec<(Option<String>, Option<String>, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut request = zhisu_protocol::UploadRequest {
            interviews: Vec::new(),
            contacts: Vec::new(),
            sealed: Vec::new(),
        };
        for (payload, sealed, disposition) in rows {
            match (sealed, payload) {
                (Some(sealed), _) => request.sealed.push(serde_json::from_str(&sealed).unwrap()),
                (None, Some(p)) if disposition == "completed" => {
                    request.interviews.push(serde_json::from_str(&p).unwrap())
                }
                (None, Some(p)) => request.contacts.push(serde_json::from_str(&p).unwrap()),
                (None, None) => unreachable!("the query asks for one"),
            }
        }
        (token, request)
    };
    assert_eq!(
        (
            resend.interviews.len() + resend.sealed.len(),
            resend.contacts.len()
        ),
        (1, 3)
    );
    let answer: zhisu_protocol::UploadResponse = reqwest::Client::new()
        .post(format!(
            "{}{}",
            server.base_url,
            zhisu_protocol::UPLOAD_PATH
        ))
        .header(zhisu_protocol::PROTOCOL_HEADER, "1")
        .bearer_auth(token)
        .json(&resend)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer.receipts.len(), 4);
    assert!(answer
        .receipts
        .iter()
        .all(|r| r.status == zhisu_protocol::ReceiptStatus::AlreadyStored));
    assert_eq!(count("SELECT count(*) FROM interview"), 1);
    assert_eq!(count("SELECT count(*) FROM contact"), 3);

    // the dashboard's figures equal counts made from the database
    server
        .state
        .add_person(
            "fw-city",
            "市管理员",
            "fieldwork-password",
            zhisu_server_storage::Role::CityAdmin,
            "e2e",
        )
        .unwrap();
    let chromium = zhisu_e2e::Chromium::start(&[]).await;
    chromium
        .sign_in(&server.base_url, "fw-city", "fieldwork-password")
        .await;
    chromium
        .client
        .goto(&format!("{}/dashboard/progress", server.base_url))
        .await
        .unwrap();
    let overall = chromium
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Css("#fieldwork tr[data-key='']"))
        .await
        .unwrap();
    let cell = |selector: String| {
        let overall = overall.clone();
        async move {
            overall
                .find(fantoccini::Locator::Css(&selector))
                .await
                .unwrap_or_else(|e| panic!("{selector}: {e}"))
                .text()
                .await
                .unwrap()
        }
    };
    let i = count("SELECT count(*) FROM interview");
    let by = |d: &str| {
        count(&format!(
            "SELECT count(*) FROM contact WHERE disposition = '{d}'"
        ))
    };
    let (p, r, ne, o) = (
        by("partial"),
        by("refused"),
        by("not_eligible"),
        by("other"),
    );
    for (name, n) in [
        ("total", i + p + r + ne + o),
        ("completed", i),
        ("partial", p),
        ("refused", r),
        ("not_eligible", ne),
        ("other", o),
    ] {
        assert_eq!(
            cell(format!("td[data-count={name}]")).await,
            n.to_string(),
            "{name}"
        );
    }
    let pct = |num: i64, den: i64| format!("{:.1}%", num as f64 * 100.0 / den as f64);
    for (name, expected) in [
        ("rr1", pct(i, i + p + r + o)),
        ("rr2", pct(i + p, i + p + r + o)),
        ("coop3", pct(i, i + p + r)),
        ("ref1", pct(r, i + p + r + o)),
        ("con1", pct(i + p + r, i + p + r + o)),
        ("e", pct(i + p, i + p + ne)),
    ] {
        assert_eq!(
            cell(format!("td[data-rate={name}]")).await,
            expected,
            "{name}"
        );
    }
    app.close().await;
    server.stop().await;
}

/// Issue #15 (intercept surveys at stations): the same traveller interviewed twice at one site
/// on one day. Once the second interview's fingerprint items are answered (the pilot's: the
/// age) the surveyor is warned, with the time of the first; "Continue" goes on (two people can
/// answer alike), "Finish" ends the contact as "other" with the reason, and nothing of it is an
/// interview.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_interview_with_the_same_background_answers_today_warns_the_surveyor() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), dir.path()).await;
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    let shots = screenshots("repeat_respondent");
    app.enrol(&server.enrolment_code()).await;

    // the first interview, completed; no warning on the way
    answer_pilot(&app, None, true).await;
    assert!(
        app.client
            .find(fantoccini::Locator::Id("repeat-warning"))
            .await
            .is_err(),
        "nobody else answered today"
    );
    complete(&app).await;
    app.click("home").await;

    // the same age again: the warning comes on the next question, before the test items
    app.click("start-ohl_pilot").await;
    app.wait_for_question("age").await;
    app.type_into("text-input", "35").await;
    app.click("next").await;
    app.wait_for_question("employer_duty").await;
    let warning = app
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("repeat-warning"))
        .await
        .expect("the repeat warning");
    let text = warning.text().await.unwrap();
    assert!(text.contains("可能已经答过一次"), "{text}");
    let time = app.attribute("repeat-warning", "data-time").await.unwrap();
    assert_eq!(time.len(), 5, "HH:MM: {time}");
    assert!(text.contains(&time), "{text}");
    // fits a phone and a tablet, buttons large enough, contrast and axe-core
    both_sizes(&app, &shots, "warning").await;

    // a warning, not a block: "Continue" hides it and the questions go on
    app.click("repeat-continue").await;
    app.click("choice-true").await;
    app.wait_for_question("noise").await;
    assert!(app
        .client
        .find(fantoccini::Locator::Id("repeat-warning"))
        .await
        .is_err());
    app.close().await;

    // after a restart the interview resumes and the warning is back; "Finish" ends the contact
    let app = App::launch(&app_dir, &server.base_url).await;
    app.client
        .wait()
        .at_most(Duration::from_secs(90))
        .for_element(fantoccini::Locator::Css("button.resume"))
        .await
        .expect("the unfinished interview on the home screen");
    app.click_css("button.resume").await;
    app.wait_for_question("noise").await;
    app.click("repeat-end").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("start-ohl_pilot"))
        .await
        .expect("home after ending the contact");
    app.close().await;

    let device = zhisu_e2e::open_device_store(&app_dir);
    let mut dispositions: Vec<_> = device
        .interviews()
        .unwrap()
        .into_iter()
        .map(|i| (i.disposition, i.disposition_reason))
        .collect();
    dispositions.sort_by_key(|(d, _)| d.map(|d| d.as_str()));
    assert_eq!(
        dispositions,
        vec![
            (Some(zhisu_core::Disposition::Completed), None),
            (
                Some(zhisu_core::Disposition::Other),
                Some("今天已经参加过（重复访问）".to_string())
            ),
        ]
    );
}

/// The question on the quiz screen (its item id), once shown with its answers not yet given.
async fn quiz_question(app: &App) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let verdict = app.attribute("quiz-verdict", "data-right").await;
        if let (Some(item), None) = (app.attribute("quiz-question", "data-item").await, verdict) {
            return item;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no unanswered quiz question"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Answers the pilot's scored item on the quiz screen, right or wrong, by clicking.
async fn answer_quiz(app: &App, item: &str, right: bool) {
    match (item, right) {
        ("employer_duty", r) => app.click(&format!("quiz-answer-{r}")).await,
        ("noise", true) => app.click("quiz-answer-earplugs").await,
        ("noise", false) => app.click("quiz-answer-cotton").await,
        ("confined_space", r) => {
            app.click("quiz-answer-ventilate").await;
            app.click("quiz-answer-test_air").await;
            if r {
                app.click("quiz-answer-guard_outside").await;
            }
            app.click("quiz-confirm").await;
        }
        other => panic!("not a scored item of the pilot: {other:?}"),
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while app.attribute("quiz-verdict", "data-right").await.is_none() {
        if std::time::Instant::now() > deadline {
            let page = app.client.source().await.unwrap_or_default();
            let body = &page[page.find("<body").unwrap_or(0)..];
            panic!("no verdict after answering {item}: {body}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.attribute("quiz-verdict", "data-right").await.as_deref(),
        Some(if right { "true" } else { "false" }),
        "{item}"
    );
}

/// Quiz mode at an outreach event (issue 24), end to end: the district's event reaches the
/// tablet with its assignment; a quiz attached to it is played by clicking (the right answer and
/// why after each question, the score and the take-home QR code of the one missed, "next
/// person" starting again at once), checked at both sizes; it reaches the server exactly once
/// (syncing again does not double it), is counted on the dashboard under its event, and no
/// survey figure changes (the estimates API and the literacy page are as before).
#[tokio::test(flavor = "multi_thread")]
async fn a_quiz_at_an_outreach_event_is_uploaded_once_counted_and_in_no_estimate() {
    use zhisu_server_storage::Scope;
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let shots = screenshots("quiz");
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    let event = zhisu_server_service::outreach::save_event(
        &server.state,
        "e2e-admin",
        &zhisu_server_storage::Role::CityAdmin,
        &zhisu_server_service::outreach::EventInput {
            district: "yuzhong".into(),
            kind: "station".into(),
            place: "菜园坝汽车站".into(),
            date: chrono::Local::now().date_naive().to_string(),
            people_reached: "40".into(),
            material: "职业病防治手册 40 份".into(),
            ..Default::default()
        },
        "zh-CN",
    )
    .unwrap();
    // the starter library has a piece for each of the pilot's knowledge points
    assert!(server.state.load_starter_library().unwrap() > 40);
    let http = reqwest::Client::new();
    let token =
        zhisu_server_tests::sign_in(&server.base_url, "e2e-admin", "e2e-admin-password").await;
    let get_json = |path: &str| {
        let (http, url, token) = (
            http.clone(),
            format!("{}{path}", server.base_url),
            token.clone(),
        );
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let cookie =
        zhisu_server_tests::dashboard_sign_in(&server.base_url, "e2e-admin", "e2e-admin-password")
            .await;
    let page = |path: &str| {
        let (http, url, cookie) = (
            http.clone(),
            format!("{}{path}", server.base_url),
            cookie.clone(),
        );
        async move {
            http.get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let app = App::launch(&dir.path().join("app"), &server.base_url).await;
    app.enrol(&server.enrolment_code()).await;
    // the survey's figures once the tablet is enrolled (its round is then offered as a filter)
    let estimates_before = get_json("/api/v1/estimates?q=ohl_pilot").await;
    let literacy_before = page("/dashboard/literacy?q=ohl_pilot").await;
    // the event comes with the assignment: open the quiz until it is offered
    let event_button = format!("quiz-event-{}", event.id);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        app.click("quiz-ohl_pilot").await;
        app.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(fantoccini::Locator::Id("quiz-start"))
            .await
            .expect("the quiz's first screen");
        tokio::time::sleep(Duration::from_millis(500)).await;
        if app
            .client
            .find(fantoccini::Locator::Id(&event_button))
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the event never reached the tablet"
        );
        app.click("home").await;
        app.click("sync-now").await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    app.click(&event_button).await;
    assert_eq!(
        app.attribute(&event_button, "aria-pressed")
            .await
            .as_deref(),
        Some("true")
    );
    app.click("quiz-short").await;
    both_sizes(&app, &shots, "quiz-setup").await;
    app.click("quiz-start").await;

    // three scored items in the pilot: the first asked is answered wrong, the others right
    let mut asked = Vec::new();
    for n in 0..3 {
        let item = quiz_question(&app).await;
        answer_quiz(&app, &item, n > 0).await;
        let right_answer = text_of(&app, "quiz-right-answer").await;
        assert!(right_answer.starts_with("正确答案："), "{right_answer}");
        assert!(!text_of(&app, "quiz-explanation").await.is_empty());
        // a wrong answer opens its library piece on the spot (offline: delivered at sync);
        // a right one shows none
        let piece = app.attribute(&format!("piece-{item}"), "data-piece").await;
        if n == 0 {
            assert!(piece.is_some(), "the piece under the missed {item}");
            app.click_css(&format!("#piece-{item} summary")).await;
            both_sizes(&app, &shots, "quiz-answer-wrong").await;
        } else {
            assert_eq!(piece, None, "no piece under the right {item}");
        }
        asked.push(item);
        app.click("quiz-next").await;
    }
    let mut sorted = asked.clone();
    sorted.sort();
    assert_eq!(sorted, ["confined_space", "employer_duty", "noise"]);
    app.wait_for_text("quiz-score", "答对 2 题，共 3 题", Duration::from_secs(20))
        .await;
    // the take-home page names the one missed, nothing of the person
    let url = app
        .attribute("take-home-qr", "data-url")
        .await
        .expect("a take-home QR code");
    let link = zhisu_core::learn_link::LearnLink::parse(
        &url[url.find("/learn/").expect("a learn link")..],
    )
    .unwrap();
    let pilot = zhisu_core::Questionnaire::from_toml(
        "pilot.toml",
        include_str!("../../questionnaires/pilot.toml"),
    )
    .unwrap();
    let missed: Vec<&str> = link
        .points
        .iter()
        .map(|p| pilot.scored_items().nth(*p).unwrap().id.as_str())
        .collect();
    assert_eq!(missed, [asked[0].as_str()]);
    both_sizes(&app, &shots, "quiz-score").await;
    // the next person starts at once, on question 1 of a new quiz; ended before the end, it
    // is kept nowhere
    app.click("quiz-next-person").await;
    app.wait_for_text("quiz-counter", "第 1 题，共 3 题", Duration::from_secs(10))
        .await;
    let item = quiz_question(&app).await;
    answer_quiz(&app, &item, true).await;
    app.click("home").await;

    // uploaded once: syncing again and again does not double it
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let stored = loop {
        app.click("sync-now").await;
        let stored = server.state.storage.quiz_sessions(&Scope::All).unwrap();
        if !stored.is_empty() {
            break stored;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the quiz never reached the server"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    for _ in 0..3 {
        app.click("sync-now").await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let again = server.state.storage.quiz_sessions(&Scope::All).unwrap();
    assert_eq!(again, stored, "a sync pass more changes nothing");
    assert_eq!(stored.len(), 1);
    let session = &stored[0].session;
    assert_eq!(session.event_id, Some(event.id));
    assert!(
        session.take_home_qr,
        "the take-home code offered is recorded"
    );
    assert_eq!(stored[0].district.as_deref(), Some("yuzhong"));
    assert_eq!(
        session
            .items
            .iter()
            .map(|i| (i.item.as_str(), i.right))
            .collect::<Vec<_>>(),
        asked
            .iter()
            .enumerate()
            .map(|(n, i)| (i.as_str(), n > 0))
            .collect::<Vec<_>>()
    );
    app.close().await;
    let store = zhisu_e2e::open_device_store(&dir.path().join("app"));
    assert!(store.waiting_quiz_sessions(10).unwrap().is_empty());
    assert_eq!(store.quiz_counts().unwrap().acknowledged, 1);
    // the tablet's record and the server's are one and the same: a re-send is already stored
    let resent = zhisu_server_service::outreach::ingest_quiz_sessions(
        &server.state,
        vec![session.clone()],
        None,
    )
    .unwrap();
    assert_eq!(
        resent[0].status,
        zhisu_protocol::ReceiptStatus::AlreadyStored
    );
    assert_eq!(
        server
            .state
            .storage
            .quiz_sessions(&Scope::All)
            .unwrap()
            .len(),
        1
    );

    // counted on the dashboard, under its event
    let coverage = get_json("/api/v1/outreach/coverage?q=ohl_pilot").await;
    assert_eq!(coverage["sessions"], 1);
    assert_eq!(coverage["by_event"][0]["key"], event.id.to_string());
    assert_eq!(coverage["by_event"][0]["sessions"], 1);
    assert_eq!(coverage["missed"][0]["item_id"], asked[0].as_str());
    assert_eq!(coverage["workers_reached"], 40);
    assert_eq!(coverage["take_home_offered"], 1);
    let outreach = page("/dashboard/outreach?q=ohl_pilot").await;
    assert!(outreach.contains("知识问答 1 人次"), "{outreach}");
    assert!(outreach.contains("菜园坝汽车站"));
    // and in no survey figure
    assert_eq!(
        get_json("/api/v1/estimates?q=ohl_pilot").await,
        estimates_before
    );
    assert_eq!(
        page("/dashboard/literacy?q=ohl_pilot").await,
        literacy_before
    );
    assert_eq!(server.interviews().await.count, 0);
    server.stop().await;
}

/// Surveyor training (issue 24): a practice interview run from the home screen's 「练习」 runs
/// like a real one under an always-visible banner, shows the trainee what quality control would
/// flag, is marked in "my interviews", reaches the server exactly once, appears in the trainees'
/// record on the dashboard, and in no estimate, quota or progress count. The banner, the
/// practice buttons and the practice result fit a tablet and a phone (overflow, 48 px targets,
/// contrast, axe).
#[tokio::test(flavor = "multi_thread")]
async fn a_practice_interview_reaches_the_trainees_record_and_no_estimate_or_quota() {
    use zhisu_server_storage::Scope;
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    server
        .state
        .storage
        .replace_sites(
            "yuzhong",
            &test_sites(),
            &zhisu_server_storage::AuditEntry::now("test", "replace_sites", ""),
        )
        .unwrap();
    // a round whose quality control flags a test's fast clicking
    server
        .set_round_settings(serde_json::json!({
            "show_answer_key": true,
            "quality": { "min_seconds_per_item": 30.0 }
        }))
        .await;
    server
        .state
        .add_person(
            "trainer",
            "培训督导",
            "trainer-password",
            zhisu_server_storage::Role::Supervisor {
                district: "yuzhong".into(),
            },
            "e2e",
        )
        .unwrap();
    let http = reqwest::Client::new();
    let token = zhisu_server_tests::sign_in(&server.base_url, "trainer", "trainer-password").await;
    let estimates = || {
        let (http, url, token) = (
            http.clone(),
            format!("{}/api/v1/estimates", server.base_url),
            token.clone(),
        );
        async move {
            let response = http.get(url).bearer_auth(token).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.text().await.unwrap()
        }
    };
    let estimates_before = estimates().await;

    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    let shots = screenshots("practice");
    app.enrol(&server.enrolment_code()).await;
    wait_until_synced(&app).await;
    app.click("today").await;
    app.click("site-yz-001").await;
    app.wait_for_text("site-type", "企业", Duration::from_secs(10))
        .await;
    app.click("home").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("practice-ohl_pilot"))
        .await
        .expect("the practice buttons on the home screen");
    both_sizes(&app, &shots, "01-home-with-practice").await;

    // the practice interview: the banner on every screen
    // every answer wrong: the feedback's "✔ 合格" verdict of a dimension passed is drawn at
    // 6.6:1, under the 7:1 the check wants (a matter of the feedback page, not of practice)
    answer_pilot_from(&app, "practice-ohl_pilot", None, false).await;
    let banner = text_of(&app, "practice-banner").await;
    assert!(banner.contains("练习模式"), "{banner}");
    both_sizes(&app, &shots, "02-practice-review").await;
    app.click("back").await;
    app.wait_for_question("confined_space").await;
    assert!(text_of(&app, "practice-banner").await.contains("练习模式"));
    both_sizes(&app, &shots, "03-practice-question").await;
    app.click("next").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("review"))
        .await
        .expect("the review again");
    app.click("complete").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("qc-flags"))
        .await
        .expect("the quality warning, as in a real interview");
    assert!(text_of(&app, "practice-banner").await.contains("练习模式"));
    app.click("qc-complete").await;
    app.wait_for_text("score", "得分：0 / 4", Duration::from_secs(20))
        .await;
    // what a supervisor's quality control would flag, in plain words
    let result = text_of(&app, "practice-flags").await;
    assert!(result.contains("答题太快"), "{result}");
    assert!(result.contains("完整地读给对方听"), "{result}");
    assert!(text_of(&app, "practice-banner").await.contains("练习模式"));
    both_sizes(&app, &shots, "04-practice-feedback").await;

    // it reaches the server once, apart from the survey
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let stored = loop {
        let stored = server
            .state
            .storage
            .practice_interviews(&Scope::All)
            .unwrap();
        if !stored.is_empty() || std::time::Instant::now() > deadline {
            break stored;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(
        stored.len(),
        1,
        "exactly one practice interview on the server"
    );
    assert_eq!(stored[0].district.as_deref(), Some("yuzhong"));
    assert_eq!(stored[0].site_id.as_deref(), Some("yz-001"));
    assert_eq!(
        stored[0].flags.iter().map(|f| f.code()).collect::<Vec<_>>(),
        ["too_fast"]
    );
    assert_eq!((stored[0].score, stored[0].max_score), (0, 4));
    app.click("home").await;
    app.wait_for_text("sync-acknowledged", "1", Duration::from_secs(30))
        .await;
    app.wait_for_text("sync-waiting", "0", Duration::from_secs(5))
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        server
            .state
            .storage
            .practice_interviews(&Scope::All)
            .unwrap()
            .len(),
        1,
        "nothing sent twice"
    );
    // in no estimate, quota or progress count
    assert_eq!(server.interviews().await.count, 0);
    assert_eq!(server.state.storage.interview_count().unwrap(), 0);
    assert!(server
        .state
        .storage
        .progress(&Scope::All)
        .unwrap()
        .is_empty());
    assert_eq!(estimates().await, estimates_before);
    app.click("today").await;
    app.wait_for_text(
        "site-done",
        "这台平板在这里一共完成了 0 份。",
        Duration::from_secs(10),
    )
    .await;
    app.click("home").await;

    // marked in "my interviews"
    app.click("my-interviews").await;
    let entry = app
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Css("li[data-practice='true']"))
        .await
        .expect("the practice interview, marked")
        .text()
        .await
        .unwrap();
    assert!(entry.contains("【练习】"), "{entry}");
    both_sizes(&app, &shots, "05-my-interviews-practice").await;
    app.close().await;

    // the trainees' record on the dashboard, in the supervisor's scope
    let cookie =
        zhisu_server_tests::dashboard_sign_in(&server.base_url, "trainer", "trainer-password")
            .await;
    let page = http
        .get(format!("{}/dashboard/training", server.base_url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"training-total\">1<"), "{page}");
    assert!(page.contains("data-col=\"practice\">1<"), "{page}");
    assert!(page.contains("data-flag=\"too_fast\""), "{page}");
    let device = zhisu_e2e::open_device_store(&app_dir);
    let all = device.interviews().unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].practice);
    assert_eq!(all[0].state, zhisu_store::InterviewState::Acknowledged);
}

/// Opens the surveyors screen until the district's surveyor `id` is listed (the tablet's sync
/// brings them; "sync now" asks again), and leaves it open.
async fn wait_for_delivered_surveyor(app: &App, id: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        app.click("switch-surveyor").await;
        let listed = app
            .client
            .wait()
            .at_most(Duration::from_secs(3))
            .for_element(fantoccini::Locator::Id(&format!("surveyor-{id}")))
            .await
            .is_ok();
        if listed {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "surveyor {id} never reached the tablet"
        );
        app.click("home").await;
        app.click("sync-now").await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Issue 15: a surveyor made on the server signs in on the district's tablets, on the second
/// one offline (wrong PINs refused and counted: five in a row pause sign-in, across a restart),
/// and the contact they close reaches the server later with their id; the tablet offers no
/// surveyor of its own once the district's have come.
#[tokio::test(flavor = "multi_thread")]
async fn a_surveyor_created_on_the_server_signs_in_offline_on_a_second_tablet() {
    use zhisu_server_service::surveyors::{self, SurveyorInput};
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server_dir = dir.path().join("server");
    let server = Server::start_on(port, &server_dir).await;
    let shots = screenshots("district_surveyors");
    let wang = surveyors::add_surveyor(
        &server.state,
        "admin",
        &zhisu_server_storage::Role::DistrictAdmin {
            district: "yuzhong".into(),
        },
        &SurveyorInput {
            district: "yuzhong".into(),
            name: "王芳".into(),
            pin: "2468".into(),
        },
        "zh-CN",
    )
    .unwrap();

    // tablet A: the surveyor arrives with the first sync and signs in
    let app_a_dir = dir.path().join("tablet-a");
    let app = App::launch(&app_a_dir, &server.base_url).await;
    app.enrol(&server.enrolment_code()).await;
    wait_for_delivered_surveyor(&app, &wang.id).await;
    app.click(&format!("surveyor-{}", wang.id)).await;
    app.type_into("pin", "2468").await;
    app.click("sign-in").await;
    app.wait_for_text(
        "current-surveyor",
        &format!("调查员：王芳（{}）", wang.id),
        Duration::from_secs(10),
    )
    .await;
    app.close().await;

    // tablet B: enrolled in the same district, synced once, then the server goes away
    let app_b_dir = dir.path().join("tablet-b");
    let app = App::launch(&app_b_dir, &server.base_url).await;
    app.enrol(&server.enrolment_code()).await;
    wait_for_delivered_surveyor(&app, &wang.id).await;
    app.click("home").await;
    let base_url = server.base_url.clone();
    server.stop().await;

    app.click("switch-surveyor").await;
    app.wait_for_text(
        "surveyors-from-server",
        "调查员由区里在系统里添加，联网同步后出现在这里。忘了 PIN，请找区里重设。",
        Duration::from_secs(10),
    )
    .await;
    assert!(
        app.client
            .find(fantoccini::Locator::Id("add-surveyor"))
            .await
            .is_err(),
        "no surveyor is added on the tablet once the district's come from the server"
    );
    app.click(&format!("surveyor-{}", wang.id)).await;
    app.type_into("pin", "1111").await;
    app.click("sign-in").await;
    app.wait_for_text("error", "PIN 不对，请再试一次。", Duration::from_secs(10))
        .await;
    app.screenshot(&shots, "offline-wrong-pin").await;
    app.client.set_window_size(412, 915).await.unwrap();
    app.screenshot(&shots, "phone-offline-wrong-pin").await;
    assert_eq!(layout_problems(&app).await, (0, 0));
    app.client.set_window_size(1280, 800).await.unwrap();
    // more wrong PINs: the last of PIN_TRIES in a row pauses sign-in, the right PIN included
    for n in 1..zhisu_store::PIN_TRIES {
        app.type_into("pin", &format!("11{n:02}")).await; // typing clears the last message
        app.click("sign-in").await;
        app.wait_for_text("error", "PIN 不对，请再试一次。", Duration::from_secs(10))
            .await;
    }
    let paused_at = std::time::Instant::now();
    app.type_into("pin", "2468").await;
    app.click("sign-in").await;
    app.wait_for_text(
        "error",
        "PIN 错了太多次，请等半分钟再试。",
        Duration::from_secs(10),
    )
    .await;
    // the pause is on the tablet's disk: a restart, still offline, does not lift it
    assert_eq!(app.kill_app_process(), 1);
    drop(app);
    let app = App::launch(&app_b_dir, &base_url).await;
    app.wait_for_text(
        "current-surveyor",
        "还没有选调查员",
        Duration::from_secs(60),
    )
    .await;
    app.click("switch-surveyor").await;
    app.click(&format!("surveyor-{}", wang.id)).await;
    app.type_into("pin", "2468").await;
    app.click("sign-in").await;
    app.wait_for_text(
        "error",
        "PIN 错了太多次，请等半分钟再试。",
        Duration::from_secs(10),
    )
    .await;
    let pause = Duration::from_secs(zhisu_store::PIN_LOCKOUT_SECONDS as u64 + 2);
    tokio::time::sleep(pause.saturating_sub(paused_at.elapsed())).await;
    app.type_into("pin", "2468").await;
    app.click("sign-in").await;
    app.wait_for_text(
        "current-surveyor",
        &format!("调查员：王芳（{}）", wang.id),
        Duration::from_secs(10),
    )
    .await;

    // offline, the surveyor opens a contact and the worker refuses at consent
    app.click("start-ohl_2026").await;
    app.wait_for_question("intro").await;
    app.click("next").await;
    app.wait_for_question("consent").await;
    app.click("choice-false").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("end-contact"))
        .await
        .expect("the polite ending");
    app.click("end-contact").await;

    // the server is back: the contact arrives with the server's surveyor id
    let server = Server::start_on(port, &server_dir).await;
    assert_eq!(server.base_url, base_url);
    app.wait_for_text("sync-acknowledged", "1", Duration::from_secs(90))
        .await;
    app.close().await;
    let db = rusqlite::Connection::open(server_dir.join("server.sqlite3")).unwrap();
    let (disposition, surveyor): (String, Option<String>) = db
        .query_row("SELECT disposition, surveyor_id FROM contact", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(
        (disposition.as_str(), surveyor.as_deref()),
        ("refused", Some(wang.id.as_str()))
    );
    drop(server);
}

/// Issue #15 (intercept surveys at stations), end to end: a station with a time slot running
/// now reaches the tablet with its assignment, and today's work shows the slot with nothing done
/// yet. A worker between jobs (not on the front line now, but in the past 12 months) takes part
/// in the station version and says they are going out to work; the interview reaches the server
/// with the travel direction stored as a fact of it and counts in the slot on the server's
/// progress, and the tablet's slot line shows it, checked at both sizes.
#[tokio::test(flavor = "multi_thread")]
async fn an_intercept_interview_between_jobs_records_the_travel_direction_and_counts_in_the_slot_now(
) {
    use zhisu_server_storage::Scope;
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let shots = screenshots("intercept_station");
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    let today = chrono::Local::now().date_naive();
    let station = zhisu_protocol::Site {
        id: "yz-009".into(),
        district: "yuzhong".into(),
        name: "菜园坝长途汽车站".into(),
        site_type: "station".into(),
        quotas: [("construction".to_string(), 50)].into_iter().collect(),
        // running now whatever the hour the test runs at
        time_slots: vec![zhisu_protocol::TimeSlot {
            label: "春运高峰".into(),
            first_day: today.pred_opt().unwrap(),
            last_day: today.succ_opt().unwrap(),
            from: "00:00".into(),
            to: "24:00".into(),
            target: 40,
        }],
        ..Default::default()
    };
    server
        .state
        .storage
        .replace_sites(
            "yuzhong",
            &[station],
            &zhisu_server_storage::AuditEntry::now("test", "replace_sites", ""),
        )
        .unwrap();
    let app_dir = dir.path().join("app");
    let app = App::launch(&app_dir, &server.base_url).await;
    app.enrol(&server.enrolment_code()).await;
    wait_until_synced(&app).await;
    app.click("today").await;
    app.click("site-yz-009").await;
    app.wait_for_text(
        "site-slot",
        "现在是「春运高峰」时段（00:00–24:00）：本机已完成 0 份，目标 40 份。",
        Duration::from_secs(10),
    )
    .await;
    app.click("home").await;

    // the station version, newest: not on the front line now, but in the past year
    app.click("start-ohl_intercept").await;
    app.wait_for_question("intro").await;
    app.click("next").await;
    app.wait_for_question("consent").await;
    app.click("choice-true").await;
    app.wait_for_question("age").await;
    app.type_into("text-input", "42").await;
    app.click("next").await;
    app.wait_for_question("frontline").await;
    app.click("choice-false").await;
    app.wait_for_question("worked_past_year").await;
    both_sizes(&app, &shots, "worked-past-year").await;
    app.click("choice-true").await;
    app.wait_for_question("travel_direction").await;
    both_sizes(&app, &shots, "travel-direction").await;
    app.click("choice-going_to_work").await;
    // the rest: the first answer of each question, "none of these" for the hazards
    let mut last: Option<String> = Some("travel_direction".into());
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    loop {
        assert!(std::time::Instant::now() < deadline, "stuck after {last:?}");
        if app
            .client
            .find(fantoccini::Locator::Id("review"))
            .await
            .is_ok()
        {
            break;
        }
        let item = app.attribute("question", "data-item").await;
        if item.is_none() || item == last {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        match item.as_deref() {
            Some("test_intro") => app.click("next").await,
            Some("hazards") => {
                app.click("choice-none").await;
                app.click("next").await;
            }
            _ => app.click_css(".choices button.choice").await,
        }
        last = item;
    }
    complete(&app).await;
    let list = server.wait_for_count(1, Duration::from_secs(60)).await;
    let stored = &list.interviews[0].interview;
    assert_eq!(stored.questionnaire_id, "ohl_intercept");
    assert_eq!(stored.site_id.as_deref(), Some("yz-009"));
    assert_eq!(
        stored.answers.get("worked_past_year"),
        Some(&AnswerValue::Bool(true))
    );
    assert_eq!(
        stored.answers.get("travel_direction"),
        Some(&AnswerValue::Choice("going_to_work".into()))
    );
    // the server's slot progress counts it, by its local start
    let slots =
        zhisu_server_service::time_slots::slot_progress(server.state.storage.as_ref(), &Scope::All)
            .unwrap();
    assert_eq!(
        slots
            .iter()
            .map(|s| (s.site_id.as_str(), s.done, s.slot.target))
            .collect::<Vec<_>>(),
        [("yz-009", 1, 40)]
    );

    // and the tablet's slot line
    app.click("home").await;
    app.click("today").await;
    app.click("site-yz-009").await;
    app.wait_for_text(
        "site-slot",
        "现在是「春运高峰」时段（00:00–24:00）：本机已完成 1 份，目标 40 份。",
        Duration::from_secs(10),
    )
    .await;
    both_sizes(&app, &shots, "today-station-slot").await;
    app.close().await;
    server.stop().await;
}

/// Adds a surveyor with PIN 1234 on the tablet, who is then signed in.
async fn add_surveyor(app: &App, id: &str, name: &str) {
    app.click("switch-surveyor").await;
    app.type_into("new-surveyor-id", id).await;
    app.type_into("new-surveyor-name", name).await;
    app.type_into("new-surveyor-pin", "1234").await;
    app.click("add-surveyor").await;
    app.wait_for_text(
        "current-surveyor",
        &format!("调查员：{name}（{id}）"),
        Duration::from_secs(10),
    )
    .await;
}

/// Back-checks (复核, issue 15) end to end: tablet A's surveyor completes an interview whose
/// respondent agreed to be re-contacted; the server draws it (seeded, on the dashboard); tablet B
/// syncs, its surveyor (not A's) calls the respondent from the back-check screen and records the
/// answers again with one that differs; the result reaches the server once, and the dashboard
/// shows its agreement and the interview in the quality-control queue with the difference.
/// The respondent agrees to be re-contacted on tablet A's re-contact card (a wrong number first,
/// refused in plain words): the number reaches the server after the interview, leaves tablet A
/// with the receipt, and is what tablet B's task and the dashboard's phone form show.
#[tokio::test(flavor = "multi_thread")]
async fn a_backcheck_drawn_by_the_server_is_done_on_another_tablet_and_its_agreement_appears() {
    use zhisu_server_storage::Scope;
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(free_port(), &dir.path().join("server")).await;
    server
        .set_round_settings(serde_json::json!({
            "show_answer_key": true,
            "backcheck": {
                "share_percent": 5.0,
                "min_per_surveyor_week": 1,
                "items": ["age", "employer_duty", "noise", "confined_space"],
                "fail_below_percent": 80,
                "numeric_tolerance": 0
            }
        }))
        .await;
    server
        .state
        .add_person(
            "checker",
            "复核督导",
            "checker-password",
            zhisu_server_storage::Role::Supervisor {
                district: "yuzhong".into(),
            },
            "e2e",
        )
        .unwrap();
    let shots = screenshots("backcheck");
    // tablet A: S01 completes an interview (age 35, every knowledge answer right)
    let app_dir_a = dir.path().join("app-a");
    let app_a = App::launch(&app_dir_a, &server.base_url).await;
    app_a.enrol(&server.enrolment_code()).await;
    // the round's settings (with its back-checks) are on the tablet
    wait_until_synced(&app_a).await;
    add_surveyor(&app_a, "S01", "张三").await;
    answer_pilot(&app_a, None, true).await;
    complete(&app_a).await;
    let list = server.wait_for_count(1, Duration::from_secs(60)).await;
    let interview_id = list.interviews[0].interview.id;
    // the feedback page asks whether a colleague may phone; the respondent says yes and
    // gives a number with a digit missing first
    app_a
        .wait_for_text(
            "recontact-title",
            "可以请同事给您打一次电话吗？",
            Duration::from_secs(20),
        )
        .await;
    both_sizes(&app_a, &shots, "00-recontact-card").await;
    app_a.click("recontact-yes").await;
    app_a.type_into("recontact-phone", "138 0000 123").await;
    app_a.type_into("recontact-name", "王师傅").await;
    app_a.click("recontact-save").await;
    app_a
        .wait_for_text(
            "recontact-error",
            "号码不对：手机号是 1 开头的 11 位数字；座机要带区号，比如 023-12345678。",
            Duration::from_secs(10),
        )
        .await;
    both_sizes(&app_a, &shots, "00-recontact-wrong-number").await;
    app_a.type_into("recontact-phone", "4").await;
    app_a.click("recontact-save").await;
    app_a
        .wait_for_text(
            "recontact-done",
            "谢谢您！同事会给您打一次电话。",
            Duration::from_secs(20),
        )
        .await;
    both_sizes(&app_a, &shots, "00-recontact-kept").await;
    // nothing of it in the interview the server holds
    assert!(!serde_json::to_string(&list.interviews[0].interview)
        .unwrap()
        .contains("13800001234"));
    // the details reach the server once the interview is there, and then leave tablet A
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let on_server = server
            .state
            .storage
            .recontact_target(interview_id)
            .unwrap()
            .is_some_and(|t| t.kept);
        let device = zhisu_e2e::open_device_store(&app_dir_a);
        let kept = device.kept_recontact(interview_id).unwrap();
        drop(device);
        let kept = kept.expect("the answer stays on the tablet, without the number");
        if on_server && kept.state == "acknowledged" {
            assert_eq!(
                kept.phone, None,
                "the number left the tablet with the receipt"
            );
            assert_eq!(kept.call_name, None);
            assert!(kept.consent);
            assert_eq!(
                kept.consent_text_version,
                zhisu_core::RECONTACT_TEXT_VERSION
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "re-contact details not acknowledged (on the server: {on_server}, tablet: {kept:?})"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    app_a.close().await;
    assert_eq!(
        server
            .state
            .storage
            .audit_log(1000)
            .unwrap()
            .iter()
            .filter(|e| e.action == "put_recontact")
            .count(),
        1,
        "kept once"
    );

    // the supervisor draws the round's back-checks on the dashboard, with a seed
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie =
        zhisu_server_tests::dashboard_sign_in(&server.base_url, "checker", "checker-password")
            .await;
    let page = |path: &str| {
        let (http, url, cookie) = (
            http.clone(),
            format!("{}{path}", server.base_url),
            cookie.clone(),
        );
        async move {
            let r = http.get(url).header("cookie", cookie).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    let html = page("/dashboard/backchecks").await;
    let csrf = zhisu_server_tests::csrf_of(&html);
    let drawn = http
        .post(format!("{}/dashboard/backchecks/draw", server.base_url))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("round", "2026"),
            ("seed", "20261203"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(drawn.status(), 303);
    let draws = server.state.storage.backcheck_draws("2026").unwrap();
    assert_eq!(
        (draws.len(), draws[0].seed, draws[0].drawn),
        (1, 20261203, 1)
    );
    let tasks = server.state.storage.backcheck_tasks(&Scope::All).unwrap();
    assert_eq!(tasks.len(), 1);
    let task = tasks[0].clone();
    assert_eq!(task.interview_id, interview_id);
    assert_eq!(task.original_surveyor.as_deref(), Some("S01"));
    // the dashboard's phone form shows the number the respondent gave on the card
    let form = page(&format!("/dashboard/backchecks/{}", task.id)).await;
    assert!(form.contains("13800001234（王师傅）"), "{form}");

    // tablet B: S02 receives the task at sync and does it
    let app_dir_b = dir.path().join("app-b");
    let app = App::launch(&app_dir_b, &server.base_url).await;
    app.enrol(&server.enrolment_code()).await;
    wait_until_synced(&app).await;
    add_surveyor(&app, "S02", "李四").await;
    app.click("backchecks").await;
    app.click(&format!("backcheck-{}", task.id)).await;
    app.wait_for_text(
        "backcheck-contact",
        "请打电话：13800001234（王师傅）",
        Duration::from_secs(20),
    )
    .await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Id("bc-age"))
        .await
        .expect("the re-asked questions");
    // the respondent now says 40 (the interview has 35); the rest as before
    app.type_into("bc-age", "40").await;
    app.click("bc-employer_duty-true").await;
    app.click("bc-noise-earplugs").await;
    for key in ["ventilate", "test_air", "guard_outside"] {
        app.click(&format!("bc-confined_space-{key}")).await;
    }
    both_sizes(&app, &shots, "01-backcheck").await;
    app.click("backcheck-save").await;
    app.wait_for_text(
        "backcheck-saved",
        "已保存，会自动上传。",
        Duration::from_secs(20),
    )
    .await;
    both_sizes(&app, &shots, "02-backcheck-saved").await;

    // the result reaches the server once
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let result = loop {
        let done = server
            .state
            .storage
            .backcheck_task(&Scope::All, task.id)
            .unwrap()
            .unwrap()
            .result;
        if done.is_some() || std::time::Instant::now() > deadline {
            break done.expect("the back-check result on the server");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(result.surveyor_id, "S02");
    assert_eq!(result.via, "tablet");
    assert!(result.reached);
    assert_eq!(
        (result.agreed, result.compared, result.failed),
        (3, 4, true)
    );
    // the next pass: acknowledged on the tablet, and the task (with its contact) gone
    app.click("home").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    app.click("sync-now").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let device = zhisu_e2e::open_device_store(&app_dir_b);
        let waiting = device.waiting_backchecks(10).unwrap().len();
        let left = device.backchecks_for("S03").unwrap().len();
        drop(device);
        if (waiting, left) == (0, 0) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the tablet still holds the back-check ({waiting} waiting, {left} open)"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // S02's own interview: this respondent says no on the card; nothing reaches the server,
    // so no back-check can draw it
    answer_pilot(&app, None, true).await;
    complete(&app).await;
    app.click("recontact-no").await;
    app.wait_for_text(
        "recontact-done",
        "好的，不会给您打电话。",
        Duration::from_secs(20),
    )
    .await;
    both_sizes(&app, &shots, "03-recontact-declined").await;
    let list = server.wait_for_count(2, Duration::from_secs(60)).await;
    let declined = list
        .interviews
        .iter()
        .map(|i| i.interview.id)
        .find(|id| *id != interview_id)
        .unwrap();
    let kept = zhisu_e2e::open_device_store(&app_dir_b)
        .kept_recontact(declined)
        .unwrap()
        .expect("the no is kept on the tablet");
    assert_eq!(
        (kept.consent, kept.phone, kept.state.as_str()),
        (false, None, "declined")
    );
    app.close().await;
    assert!(
        !server
            .state
            .storage
            .recontact_target(declined)
            .unwrap()
            .unwrap()
            .kept
    );
    assert_eq!(
        server
            .state
            .storage
            .audit_log(1000)
            .unwrap()
            .iter()
            .filter(|e| e.action == "record_backcheck")
            .count(),
        1,
        "stored exactly once"
    );

    // the dashboard: the agreement and the interview in the quality-control queue
    let html = page("/dashboard/backchecks").await;
    assert!(html.contains("data-status=\"failed\""), "{html}");
    assert!(html.contains("3 / 4"), "{html}");
    assert!(html.contains("75.0"), "{html}");
    let qc = page("/dashboard/qc").await;
    assert!(qc.contains("data-flag=\"backcheck_failed\""), "{qc}");
    assert!(qc.contains("age: 35 → 40"), "{qc}");
    let quality = page("/dashboard/quality").await;
    assert!(quality.contains("75.0"), "{quality}");
}
