//! App packages for tablets' updates (issue 22), through the real HTTP boundary: a city
//! administrator uploads a signed package on the dashboard (refused when malformed, a second
//! time, without the form's CSRF token, or by anyone else); devices ask for a newer version of
//! their platform and download it, whole or by `Range`; an unknown device is refused.

use reqwest::redirect::Policy;
use serde_json::Value;
use zhisu_protocol::update::{self, UpdateCheck};
use zhisu_protocol::{media_hash, PROTOCOL_HEADER};
use zhisu_server_storage::Role;

const PASSWORD: &str = "a-long-password";
const PLATFORM: &str = "linux-x86_64-bin";

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

/// The dashboard's upload form as a browser sends it; the answer's status and `Location`.
async fn upload(
    server: &Server,
    cookie: &str,
    fields: &[(&str, &str)],
    file: &[u8],
) -> (u16, String) {
    let boundary = "----zhisu-test-boundary";
    let mut form = Vec::new();
    for (name, value) in fields {
        form.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    form.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"zhisu-app\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    form.extend_from_slice(file);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = client()
        .post(format!("{}/dashboard/updates", server.base))
        .header("cookie", cookie)
        .header("origin", &server.base)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location)
}

async fn page(server: &Server, cookie: &str, path: &str) -> (u16, String) {
    let response = client()
        .get(format!("{}{path}", server.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn binary(seed: u8, len: usize) -> Vec<u8> {
    let mut bytes = b"\x7fELF".to_vec();
    bytes.extend((0..len).map(|i| (i as u8).wrapping_mul(seed) ^ (i >> 8) as u8));
    bytes
}

#[tokio::test]
async fn a_city_administrator_uploads_signed_packages_and_devices_fetch_the_newest() {
    let server = start().await;
    let (secret, public) = update::new_release_key().unwrap();
    let trusted = [update::parse_public_key(&public).unwrap()];
    let cookie = zhisu_server_tests::dashboard_sign_in(&server.base, "city", PASSWORD).await;
    let (status, html) = page(&server, &cookie, "/dashboard/updates").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"no-packages\""), "nothing uploaded yet");
    assert!(
        html.contains("href=\"/dashboard/updates\""),
        "in the navigation"
    );
    let csrf = zhisu_server_tests::csrf_of(&html);

    let sign = |bytes: &[u8], version: &str| {
        update::sign(
            &secret,
            PLATFORM,
            version,
            bytes.len() as u64,
            &media_hash(bytes),
        )
        .unwrap()
    };
    let older = binary(3, 5000);
    let newer = binary(7, 90_000);
    let older_sig = sign(&older, "0.1.1");
    let newer_sig = sign(&newer, "0.1.2");
    let form = |version: &'static str, signature: &str, platform: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("platform", platform.to_string()),
            ("version", version.to_string()),
            ("signature", signature.to_string()),
            ("notes_zh", "修正了同步".to_string()),
            ("notes_en", "Sync fixed".to_string()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>, file: Vec<u8>| {
        let cookie = cookie.clone();
        let server = &server;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            upload(server, &cookie, &fields, &file).await
        }
    };

    // refused with a plain reason, nothing kept: a version that is not numbers, a platform not
    // on the list, a signature that is not 64 bytes of base64, no file
    for (fields, file, says) in [
        (
            form("1.2-beta", &older_sig, PLATFORM),
            older.clone(),
            "版本号",
        ),
        (
            form("0.1.1", &older_sig, "linux-sparc"),
            older.clone(),
            "平台",
        ),
        (
            form("0.1.1", "bm90IGEgc2lnbmF0dXJl", PLATFORM),
            older.clone(),
            "签名不对",
        ),
        (form("0.1.1", "###", PLATFORM), older.clone(), "签名不对"),
        (
            form("0.1.1", &older_sig, PLATFORM),
            Vec::new(),
            "没有选安装包文件",
        ),
    ] {
        let (status, location) = send(fields, file).await;
        assert_eq!(status, 303);
        assert!(
            location.starts_with("/dashboard/updates?error="),
            "{location}"
        );
        let (_, html) = page(&server, &cookie, &location).await;
        assert!(html.contains("id=\"package-error\""), "{location}");
        assert!(html.contains(says), "{says}: {location}");
    }
    assert_eq!(server.state.packages().unwrap(), vec![]);

    // without the form's CSRF token: refused
    let mut forged = form("0.1.1", &older_sig, PLATFORM);
    forged[0].1 = "forged".into();
    let (status, _) = send(forged, older.clone()).await;
    assert_eq!(status, 403);
    assert_eq!(server.state.packages().unwrap(), vec![]);

    // kept: two versions of the executable and one .deb; then the same version again refused
    let (status, location) = send(form("0.1.1", &older_sig, PLATFORM), older.clone()).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/dashboard/updates?saved=linux-x86_64-bin%200.1.1")
    );
    let (status, _) = send(form("0.1.2", &newer_sig, PLATFORM), newer.clone()).await;
    assert_eq!(status, 303);
    let deb = b"!<arch>\ndebian-binary".to_vec();
    let deb_sig = update::sign(
        &secret,
        "linux-x86_64-deb",
        "0.2.0",
        deb.len() as u64,
        &media_hash(&deb),
    )
    .unwrap();
    let (status, _) = send(form("0.2.0", &deb_sig, "linux-x86_64-deb"), deb.clone()).await;
    assert_eq!(status, 303);
    let (status, location) = send(form("0.1.2", &newer_sig, PLATFORM), newer.clone()).await;
    assert_eq!(status, 303);
    let (_, html) = page(&server, &cookie, &location).await;
    assert!(html.contains("已经有 0.1.2 版了"), "{location}");
    assert_eq!(server.state.packages().unwrap().len(), 3);
    let (_, html) = page(&server, &cookie, "/dashboard/updates").await;
    assert!(html.contains("id=\"packages\""));
    assert!(html.contains(&media_hash(&newer)[..16]));
    assert!(html.contains("修正了同步"));
    let audit = server.state.storage.audit_log(100).unwrap();
    let uploads: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "upload_package")
        .collect();
    assert_eq!(uploads.len(), 3);
    assert!(uploads.iter().all(|a| a.actor == "city"));

    // a district administrator sees neither the page nor may upload
    let district = zhisu_server_tests::dashboard_sign_in(&server.base, "district", PASSWORD).await;
    let (status, html) = page(&server, &district, "/dashboard/updates").await;
    assert_eq!(status, 403);
    assert!(html.contains("只有市级管理员"));
    let (_, html) = page(&server, &district, "/dashboard/progress").await;
    assert!(!html.contains("href=\"/dashboard/updates\""));
    let district_csrf = zhisu_server_tests::csrf_of(&html);
    let mut fields = form("0.1.3", &newer_sig, PLATFORM);
    fields[0].1 = district_csrf;
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _) = upload(&server, &district, &fields, &newer).await;
    assert_eq!(status, 403);
    assert_eq!(server.state.packages().unwrap().len(), 3);

    // devices: the newest newer version of their platform, or nothing
    let (_, token) = zhisu_server_tests::enrol(&server.state, "2026", "yuzhong", "平板 1");
    let http = client();
    let device = |path: &str| {
        http.get(format!("{}{path}", server.base))
            .header(PROTOCOL_HEADER, "1")
            .bearer_auth(&token)
    };
    let check = |current: &str, platform: &str| {
        device(&format!(
            "{}?platform={platform}&current={current}",
            update::APP_UPDATE_PATH
        ))
    };
    let answer: UpdateCheck = check("0.1.0", PLATFORM)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let manifest = answer.update.expect("0.1.2 is newer than 0.1.0");
    assert_eq!(manifest.version, "0.1.2", "the newest, not the first newer");
    assert_eq!(manifest.platform, PLATFORM);
    assert_eq!(manifest.size, newer.len() as u64);
    assert_eq!(manifest.sha256, media_hash(&newer));
    assert_eq!(manifest.signature, newer_sig);
    assert_eq!(
        (manifest.notes_zh.as_str(), manifest.notes_en.as_str()),
        ("修正了同步", "Sync fixed")
    );
    assert_eq!(
        manifest.url,
        format!("{}/{}", update::APP_PACKAGES_PATH, manifest.id)
    );
    let answer: UpdateCheck = check("0.1.1", PLATFORM)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer.update.unwrap().version, "0.1.2");
    for (current, platform) in [
        ("0.1.2", PLATFORM),
        ("0.10.0", PLATFORM),
        ("0.1.0", "linux-aarch64-bin"),
    ] {
        let raw: Value = check(current, platform)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            raw,
            serde_json::json!({"update": null}),
            "{current} {platform}"
        );
    }
    let deb_answer: UpdateCheck = check("0.1.9", "linux-x86_64-deb")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(deb_answer.update.unwrap().version, "0.2.0");
    // malformed asks are refused with their code
    for (current, platform) in [("0.1.0", "../etc"), ("latest", PLATFORM)] {
        let response = check(current, platform).send().await.unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "invalid_package", "{body}");
    }

    // the bytes: whole (and they verify under the release key), in part, out of range
    let whole = device(&manifest.url).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["etag"], format!("\"{}\"", manifest.sha256));
    let bytes = whole.bytes().await.unwrap().to_vec();
    assert_eq!(bytes, newer);
    assert_eq!(
        update::verify(
            &trusted,
            PLATFORM,
            &manifest.version,
            bytes.len() as u64,
            &media_hash(&bytes),
            &manifest.signature
        ),
        Ok(())
    );
    let part = device(&manifest.url)
        .header("range", "bytes=1000-")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 1000-{}/{}", newer.len() - 1, newer.len())
    );
    assert_eq!(part.bytes().await.unwrap().to_vec(), newer[1000..]);
    let outside = device(&manifest.url)
        .header("range", format!("bytes={}-", newer.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), 416);
    let missing = device(&format!(
        "{}/{}",
        update::APP_PACKAGES_PATH,
        manifest.id + 100
    ))
    .send()
    .await
    .unwrap();
    assert_eq!(missing.status(), 404);

    // an unknown device, or none, is refused both the check and the bytes
    for path in [
        format!(
            "{}?platform={PLATFORM}&current=0.1.0",
            update::APP_UPDATE_PATH
        ),
        manifest.url.clone(),
    ] {
        let unknown = http
            .get(format!("{}{path}", server.base))
            .header(PROTOCOL_HEADER, "1")
            .bearer_auth("not-a-device-token")
            .send()
            .await
            .unwrap();
        assert_eq!(unknown.status(), 401, "{path}");
        let body: Value = unknown.json().await.unwrap();
        assert_eq!(body["code"], "unauthorized");
        let anonymous = http
            .get(format!("{}{path}", server.base))
            .header(PROTOCOL_HEADER, "1")
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401, "{path}");
    }
}
