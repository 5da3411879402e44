//! The take-home page (`GET /learn/{id}/{version}?k=…`, issue 24) through the real HTTP
//! server: what a worker's phone shows for a link from the tablet, in both languages; a link
//! to nothing the server holds (404) or cut, altered or hostile (400), each as a page in plain
//! words; the server's security headers and no cookie on every answer.

use std::sync::Arc;

use zhisu_core::learn_link::LearnLink;
use zhisu_server_service::questionnaires::Published;

struct Server {
    base: String,
    ohl: Arc<Published>,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let state = zhisu_server::open_sqlite(
        &dir.path().join("server.sqlite3"),
        &zhisu_server_tests::questionnaires_dir(),
    )
    .unwrap();
    let ohl = state.questionnaires.newest("ohl_2026").unwrap();
    let base = zhisu_server_tests::serve_on_loopback(state).await;
    Server {
        base,
        ohl,
        _dir: dir,
    }
}

/// The page's status, headers and body.
async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let r = reqwest::Client::new().get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

fn assert_public_page_headers(headers: &reqwest::header::HeaderMap, url: &str) {
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{url}"
    );
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{url}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{url}: {csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff", "{url}");
    assert_eq!(headers["x-frame-options"], "DENY", "{url}");
    assert_eq!(headers["referrer-policy"], "same-origin", "{url}");
    assert_eq!(headers["cache-control"], "no-store", "{url}");
    assert!(headers.get("set-cookie").is_none(), "{url} sets a cookie");
}

fn explanation<'a>(q: &'a zhisu_core::Questionnaire, id: &str, lang: &str) -> &'a str {
    q.item(id)
        .unwrap()
        .explanation
        .as_ref()
        .unwrap()
        .get(lang, &q.default_language)
}

#[tokio::test]
async fn a_link_from_the_tablet_shows_its_questions_right_answers_and_explanations() {
    let s = start().await;
    let q = &s.ohl.questionnaire;
    let scored: Vec<&zhisu_core::Item> = q
        .scored_items()
        .filter(|i| i.explanation.is_some())
        .collect();
    assert!(scored.len() > 10);
    let wrong = [scored[0], scored[4], scored[9]];
    let link = LearnLink::for_items(q, wrong.iter().map(|i| i.id.as_str())).unwrap();
    let url = format!("{}{}", s.base, link.to_path());

    let (status, headers, body) = get(&url).await;
    assert_eq!(status, 200, "{body}");
    assert_public_page_headers(&headers, &url);
    assert!(body.contains("这是您在职业健康素养调查里答错的题目和正确答案。不含您的个人信息。"));
    assert!(body.contains("疾控中心"), "the footer points to the CDC");
    assert!(body.contains(r#"name="viewport" content="width=device-width, initial-scale=1""#));
    assert!(!body.contains("<script"), "the page needs no script");
    assert!(!body.contains("<form"), "nothing to send");
    for item in wrong {
        assert!(body.contains(&format!(r#"data-item="{}""#, item.id)));
        assert!(
            body.contains(item.label.get("zh-CN", "zh-CN")),
            "{}",
            item.id
        );
        assert!(
            body.contains(explanation(q, &item.id, "zh-CN")),
            "{}",
            item.id
        );
    }
    // the right answer is given in words: 对/错 for a statement, a choice by its label
    assert!(body.contains("正确答案："));
    // the items answered right are not there
    for item in scored
        .iter()
        .filter(|i| !wrong.iter().any(|w| w.id == i.id))
    {
        assert!(
            !body.contains(explanation(q, &item.id, "zh-CN")),
            "{} was not wrong",
            item.id
        );
    }
    assert_eq!(body.matches("data-item=").count(), 3);

    // in English with lang=en, and a link back to Chinese
    let (status, headers, english) = get(&format!("{url}&lang=en")).await;
    assert_eq!(status, 200);
    assert_public_page_headers(&headers, &url);
    assert!(english.contains(r#"<html lang="en">"#));
    assert!(english.contains("Nothing here is about you personally."));
    for item in wrong {
        assert!(
            english.contains(explanation(q, &item.id, "en")),
            "{}",
            item.id
        );
    }
    assert!(english.contains(&format!(r#"href="{}""#, link.to_path())));
}

#[tokio::test]
async fn links_to_nothing_here_are_404_and_bad_links_400_in_plain_words() {
    let s = start().await;
    let q = &s.ohl.questionnaire;
    let count = q.scored_items().count();
    let not_found = [
        "/learn/no_such_questionnaire/2026.2?k=B".to_string(),
        format!("/learn/{}/1999.9?k=B", q.id),
    ];
    for path in &not_found {
        let url = format!("{}{path}", s.base);
        let (status, headers, body) = get(&url).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_public_page_headers(&headers, &url);
        assert!(body.contains("找不到这份问卷"), "{path}: {body}");
        assert!(body.contains("疾控中心"), "{path}");
    }
    let prefix = format!("/learn/{}/{}", q.id, q.version);
    let hostile = format!(
        "{prefix}?k=B&x={}",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E".repeat(300)
    );
    let bad = [
        prefix.clone(),
        format!("{prefix}?k="),
        format!("{prefix}?k=AAAA"),
        format!("{prefix}?k=B%21"),
        format!("{prefix}?k=<script>"),
        format!("{prefix}?k=B&k=C"),
        // a point past this version's scored items
        format!(
            "{prefix}?k={}",
            zhisu_core::learn_link::encode_points(&[count])
        ),
        // more points than any link may name
        format!("{prefix}?k={}", "_".repeat(65)),
        // a long hostile query
        hostile,
    ];
    for path in &bad {
        let url = format!("{}{path}", s.base);
        let (status, headers, body) = get(&url).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_public_page_headers(&headers, &url);
        assert!(body.contains("这个链接不完整或者有错"), "{path}: {body}");
        assert!(
            !body.contains("<script"),
            "{path}: the page echoes the link"
        );
        assert!(
            !body.contains("alert(1)"),
            "{path}: the page echoes the link"
        );
    }
    // and in English
    let (status, _, body) = get(&format!("{}{prefix}?lang=en", s.base)).await;
    assert_eq!(status, 400);
    assert!(body.contains("This link is incomplete"), "{body}");
}

/// The page is public, so one address opening page after page is slowed down before anything
/// is read: a waiting room's burst (`PAGES_PER_ADDRESS`) opens, the flood after it gets 429 in
/// plain words with when to try again, and a moment later the page opens again.
#[tokio::test]
async fn one_address_flooding_the_page_is_slowed_down_after_a_waiting_rooms_burst() {
    use zhisu_server::rate_limit::PAGES_PER_ADDRESS;
    let s = start().await;
    let q = &s.ohl.questionnaire;
    let first = q.scored_items().next().unwrap();
    let link = LearnLink::for_items(q, [first.id.as_str()]).unwrap();
    let url = format!("{}{}", s.base, link.to_path());
    let http = reqwest::Client::new();
    let burst = PAGES_PER_ADDRESS.burst as usize;
    for n in 0..burst {
        let status = http.get(&url).send().await.unwrap().status();
        assert_eq!(status, 200, "page {n} of a burst of {burst}");
    }
    // refilled at PAGES_PER_ADDRESS.rate a second: a flood soon finds the bucket empty
    let mut refused = None;
    for _ in 0..100 {
        let r = http.get(&url).send().await.unwrap();
        if r.status() == 429 {
            refused = Some(r);
            break;
        }
    }
    let refused = refused.expect("a flood past the burst is slowed down");
    assert_eq!(refused.headers()["retry-after"], "2");
    assert_public_page_headers(&refused.headers().clone(), &url);
    let body = refused.text().await.unwrap();
    assert!(body.contains("请等一两秒再打开"), "{body}");
    assert!(
        !body.contains(first.label.get("zh-CN", "zh-CN")),
        "nothing read"
    );
    tokio::time::sleep(std::time::Duration::from_millis(
        (2_000.0 / PAGES_PER_ADDRESS.rate) as u64,
    ))
    .await;
    let (status, _, _) = get(&url).await;
    assert_eq!(status, 200, "open again after a moment");
}
