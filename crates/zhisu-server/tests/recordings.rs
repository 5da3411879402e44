//! Recordings of a questionnaire read aloud, through the real HTTP boundary: made on the
//! dashboard (the record button's upload and the file form), refused when they are not audio,
//! too large or for no such item, listed for devices and fetched by hash with `Range`.

use reqwest::redirect::Policy;
use serde_json::Value;
use zhisu_protocol::{media_hash, MAX_RECORDING_BYTES, PROTOCOL_HEADER};
use zhisu_server_storage::Role;

const PASSWORD: &str = "a-long-password";
const PAGE: &str = "/dashboard/recordings/ohl_2026/2026.1";

struct Server {
    base: String,
    state: zhisu_server::ServerState,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let state = zhisu_server::open_sqlite(
        &dir.path().join("server.sqlite3"),
        &zhisu_server_tests::questionnaires_dir(),
    )
    .unwrap();
    state
        .add_person("city", "市管理员", PASSWORD, Role::CityAdmin, "test")
        .unwrap();
    let district = Role::DistrictAdmin {
        district: "yuzhong".into(),
    };
    state
        .add_person("district", "区管理员", PASSWORD, district, "test")
        .unwrap();
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;
    Server {
        base,
        state,
        _dir: dir,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// A short, valid RIFF WAVE file: 16-bit mono silence with a little noise.
fn wav(samples: usize, seed: u8) -> Vec<u8> {
    let data = samples * 2;
    let mut out = Vec::with_capacity(44 + data);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&((36 + data) as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&16000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data as u32).to_le_bytes());
    out.extend((0..data).map(|i| (i as u8).wrapping_mul(seed)));
    out
}

fn missing_count(html: &str) -> usize {
    let at = html
        .find("还缺 ")
        .expect("the page says how many are missing")
        + "还缺 ".len();
    html[at..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .expect("a number")
}

async fn record(
    server: &Server,
    cookie: &str,
    csrf: &str,
    item: &str,
    option: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let response = client()
        .post(format!(
            "{}{PAGE}/record?item={item}&option={option}",
            server.base
        ))
        .header("cookie", cookie)
        .header("origin", &server.base)
        .header("x-csrf-token", csrf)
        .header("content-type", "audio/webm")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn recordings_are_made_on_the_dashboard_and_fetched_by_devices_by_hash() {
    let server = start().await;
    let cookie = zhisu_server_tests::dashboard_sign_in(&server.base, "city", PASSWORD).await;
    let http = client();
    let page = http
        .get(format!("{}{PAGE}", server.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let csrf = zhisu_server_tests::csrf_of(&html);
    let before = missing_count(&html);
    let q = server
        .state
        .questionnaires
        .get("ohl_2026", "2026.1")
        .unwrap();
    assert_eq!(before, q.questionnaire.recording_slots().len());
    assert!(
        html.contains("data-item=\"consent\" data-option=\"true\""),
        "true/false answers are places too"
    );
    assert!(html.contains("id=\"upload-form\""));

    // the record button's upload: refused when it is not audio, too large, for no such place,
    // or without the session's CSRF token
    let (status, body) = record(
        &server,
        &cookie,
        &csrf,
        "sex",
        "",
        b"not a recording".to_vec(),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (415, Some("not_audio")),
        "{body}"
    );
    let (status, body) = record(&server, &cookie, &csrf, "no_such_item", "", wav(100, 3)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("unknown_item")),
        "{body}"
    );
    let (status, body) = record(
        &server,
        &cookie,
        &csrf,
        "sex",
        "no_such_choice",
        wav(100, 3),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("unknown_item")),
        "{body}"
    );
    let mut huge = wav(100, 3);
    huge.resize(MAX_RECORDING_BYTES as usize + 1, 0);
    let (status, body) = record(&server, &cookie, &csrf, "sex", "", huge).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("recording_too_large")),
        "{body}"
    );
    let (status, _) = record(&server, &cookie, "wrong", "sex", "", wav(100, 3)).await;
    assert_eq!(status, 403);
    assert_eq!(server.state.storage.recordings(None).unwrap(), vec![]);

    // a recording of the question of `sex`, and the same bytes for its first answer: kept once
    let question = wav(4000, 7);
    let (status, body) = record(&server, &cookie, &csrf, "sex", "", question.clone()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["sha256"], media_hash(&question));
    assert_eq!(body["kind"], "wav");
    let first_key = q.questionnaire.item("sex").unwrap().kind.choices()[0]
        .key
        .clone();
    let (status, _) = record(&server, &cookie, &csrf, "sex", &first_key, question.clone()).await;
    assert_eq!(status, 201);

    // the form without script: multipart with the place and the file (an Ogg file here)
    let mut ogg = b"OggS\0\x02".to_vec();
    ogg.extend((0..3000u32).map(|i| (i % 251) as u8));
    let boundary = "----zhisu-test-boundary";
    let mut form = Vec::new();
    for (name, value) in [("csrf", csrf.as_str()), ("slot", "consent|true")] {
        form.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    form.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"yes.ogg\"\r\nContent-Type: audio/ogg\r\n\r\n").as_bytes(),
    );
    form.extend_from_slice(&ogg);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = http
        .post(format!("{}{PAGE}", server.base))
        .header("cookie", &cookie)
        .header("origin", &server.base)
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
    assert!(location.contains("saved=consent"), "{location}");
    let html = http
        .get(format!("{}{location}", server.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(missing_count(&html), before - 3);
    assert!(html.contains(&format!("/dashboard/media/{}", media_hash(&question))));
    assert!(html.contains("id=\"recording-saved\""));
    let audit = server.state.storage.audit_log(100).unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.action == "save_recording")
            .count(),
        3
    );

    // a district administrator may not manage recordings
    let district = zhisu_server_tests::dashboard_sign_in(&server.base, "district", PASSWORD).await;
    let refused = http
        .get(format!("{}{PAGE}", server.base))
        .header("cookie", &district)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    // devices: the listing, then the bytes by hash, whole, in part, not modified, out of range
    let (_, token) = zhisu_server_tests::enrol(&server.state, "2026", "yuzhong", "平板 1");
    let device = |path: &str| {
        http.get(format!("{}{path}", server.base))
            .header(PROTOCOL_HEADER, "1")
            .bearer_auth(&token)
    };
    let listing: Value = device("/api/v1/recordings")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let recordings = listing["recordings"].as_array().unwrap();
    assert_eq!(recordings.len(), 3, "{listing}");
    let consent = recordings
        .iter()
        .find(|r| r["item_id"] == "consent")
        .unwrap();
    assert_eq!(consent["option"], "true");
    assert_eq!(consent["kind"], "ogg");
    assert_eq!(consent["size"], ogg.len());
    assert_eq!(consent["sha256"], media_hash(&ogg));

    let media = format!("/api/v1/media/{}", media_hash(&question));
    let whole = device(&media).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "audio/wav");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    let etag = whole.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{}\"", media_hash(&question)));
    assert!(whole.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert_eq!(whole.bytes().await.unwrap().as_ref(), question.as_slice());

    let part = device(&media)
        .header("range", "bytes=1000-")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 1000-{}/{}", question.len() - 1, question.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &question[1000..]);
    let middle = device(&media)
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(middle.status(), 206);
    assert_eq!(middle.bytes().await.unwrap().as_ref(), &question[10..20]);

    let past = device(&media)
        .header("range", format!("bytes={}-", question.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(past.status(), 416);
    assert_eq!(
        past.headers()["content-range"],
        format!("bytes */{}", question.len()).as_str()
    );
    let body: Value = past.json().await.unwrap();
    assert_eq!(body["code"], "range_not_satisfiable");

    let unchanged = device(&media)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);

    let unknown = device(&format!("/api/v1/media/{}", media_hash(b"nothing")))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let not_a_hash = device("/api/v1/media/..%2F..%2Fetc").send().await.unwrap();
    assert_eq!(not_a_hash.status(), 404);

    // an unknown device, or none, gets nothing
    for token in [Some("not-a-token"), None] {
        let mut request = http
            .get(format!("{}{media}", server.base))
            .header(PROTOCOL_HEADER, "1");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "unauthorized");
        let listing = http
            .get(format!("{}/api/v1/recordings", server.base))
            .header(PROTOCOL_HEADER, "1")
            .bearer_auth(token.unwrap_or(""))
            .send()
            .await
            .unwrap();
        assert_eq!(listing.status(), 401);
    }
}
