//! The education library (issue 24) through the real HTTP server: the starter library teaches
//! every scored item of the bundled questionnaires; a tablet receives the newest pieces its
//! assignment's digest names; a city administrator's edit is a new version (the old one kept,
//! audited, CSRF-checked); the public take-home page shows each point's piece (the
//! explanation alone without one); a printable handout of the weakest points in the viewer's
//! scope; and what the feedback pages offered, uploaded in the paradata, is kept and counted.

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use uuid::Uuid;
use zhisu_core::learn_link::LearnLink;
use zhisu_core::{MaterialOffered, Paradata, Questionnaire};
use zhisu_protocol::library::{library_digest, Library};
use zhisu_protocol::{CompletedInterview, PROTOCOL_HEADER, UPLOAD_PATH};
use zhisu_server::ServerState;
use zhisu_server_service::analysis::{self, Filter};
use zhisu_server_service::library::{
    handout_pieces, knowledge_points, points_without_piece, starter_pieces,
};
use zhisu_server_storage::{Role, Scope};
use zhisu_server_tests::generate::{self, Respondent, Rng};

const PASSWORD: &str = "a-long-password";

struct World {
    base: String,
    http: reqwest::Client,
    state: ServerState,
    token: String,
    interviews: Vec<CompletedInterview>,
    _dir: tempfile::TempDir,
}

fn ohl(state: &ServerState) -> Questionnaire {
    state
        .questionnaires
        .newest("ohl_2026")
        .unwrap()
        .questionnaire
        .clone()
}

/// What a feedback page offered for interview `n` (every third offered nothing; every other
/// one the QR code; pieces on some).
fn material(n: u128) -> Option<MaterialOffered> {
    (!n.is_multiple_of(3)).then(|| MaterialOffered {
        points: (n % 7) as u32 + 1,
        take_home_qr: n.is_multiple_of(2),
        pieces: if n.is_multiple_of(5) {
            vec![]
        } else {
            vec!["heat".into(), "dust_masks".into()]
        },
    })
}

/// A server with the starter library, a city administrator, a yuzhong administrator, a tablet
/// in yuzhong and one in jiangbei, and 30 generated interviews uploaded through the real
/// protocol, two thirds with what their feedback page offered.
async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let state = zhisu_server::open_sqlite(
        &dir.path().join("server.sqlite3"),
        &zhisu_server_tests::questionnaires_dir(),
    )
    .unwrap();
    assert!(state.load_starter_library().unwrap() > 40);
    for (name, role) in [
        ("city", Role::CityAdmin),
        (
            "yz_admin",
            Role::DistrictAdmin {
                district: "yuzhong".into(),
            },
        ),
    ] {
        state
            .add_person(name, name, PASSWORD, role, "test")
            .unwrap()
            .unwrap();
    }
    let (_, token) = zhisu_server_tests::enrol(&state, "2026", "yuzhong", "平板 1");
    let (_, other) = zhisu_server_tests::enrol(&state, "2026", "jiangbei", "平板 2");
    let base = zhisu_server_tests::serve_on_loopback(state.clone()).await;
    let q = ohl(&state);
    let mut rng = Rng::new(0x11b2_a2e5);
    let start = Utc.with_ymd_and_hms(2026, 11, 20, 1, 0, 0).unwrap();
    let http = reqwest::Client::new();
    let mut interviews = Vec::new();
    for n in 0..30u128 {
        let who = Respondent {
            population: ["construction", "sanitation", "teacher"][n as usize % 3],
            sex: "male",
            age: 25 + n as i64,
            education: "junior",
            industry: "construction",
            ability: 60,
            straight_line: false,
        };
        let answers = generate::answers(&q, &who, &mut rng);
        let mut interview =
            generate::interview(&q, Uuid::from_u128(500 + n), answers, start, 1500, None);
        interview.paradata = Some(Paradata {
            duration_ms: 1_500_000,
            material: material(n),
            ..Default::default()
        });
        let interview = interview.sealed();
        let token = if n < 20 { &token } else { &other };
        let response = http
            .post(format!("{base}{UPLOAD_PATH}"))
            .bearer_auth(token)
            .header(PROTOCOL_HEADER, "1")
            .json(&json!({ "interviews": [interview] }))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["receipts"][0]["status"], "stored", "{body}");
        interviews.push(interview);
    }
    World {
        base,
        http,
        state,
        token,
        interviews,
        _dir: dir,
    }
}

impl World {
    async fn get(&self, cookie: Option<&str>, path: &str) -> (u16, String) {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn device_get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header(PROTOCOL_HEADER, "1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }
}

/// The `data-piece` values of a page, in order.
fn pieces_on(html: &str) -> Vec<String> {
    html.split("data-piece=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect()
}

#[test]
fn the_starter_library_teaches_every_scored_item_of_every_bundled_questionnaire() {
    let registry = zhisu_server_service::QuestionnaireRegistry::load_dir(
        &zhisu_server_tests::questionnaires_dir(),
    )
    .unwrap();
    let pieces = starter_pieces().unwrap();
    assert!(pieces.len() > 40, "{}", pieces.len());
    let mut checked = 0;
    for r in registry.refs() {
        let q = &registry.get(&r.id, &r.version).unwrap().questionnaire;
        let missing = points_without_piece(q, &pieces);
        assert_eq!(missing, Vec::<String>::new(), "{} {}", r.id, r.version);
        checked += 1;
    }
    assert!(
        checked >= 5,
        "ohl_2026, ohl_intercept and the pilot, old versions too: {checked}"
    );
    for id in ["ohl_2026", "ohl_intercept"] {
        assert!(registry.newest(id).is_some(), "{id} is bundled");
    }
    // every point a piece names is asked somewhere, and every piece is short, sourced, plain
    let known = knowledge_points(&registry);
    for p in &pieces {
        assert_eq!(p.problems(), Vec::<String>::new(), "{}", p.id);
        for point in &p.points {
            assert!(known.contains(point), "{}: {point} is asked nowhere", p.id);
        }
        assert!(p.title.chars().count() <= 24, "{}: a short title", p.id);
        assert!(p.text.chars().count() <= 600, "{}: a short text", p.id);
        assert!(
            p.source.contains('《') || p.source.contains("GB") || p.source.contains("全国"),
            "{}: a named source: {}",
            p.id,
            p.source
        );
        // plain Chinese: no Latin words in the text but standard names and units
        let latin = p
            .text
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| w.len() > 3)
            .count();
        assert_eq!(latin, 0, "{}: {}", p.id, p.text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tablet_receives_the_newest_pieces_its_assignment_names() {
    let w = world().await;
    let assignment = w.device_get("/api/v1/device/assignment").await;
    let library: Library = serde_json::from_value(w.device_get("/api/v1/library").await).unwrap();
    assert_eq!(assignment["library"], json!(library.digest));
    assert_eq!(library.digest, library_digest(&library.pieces));
    assert_eq!(library.pieces, w.state.library().unwrap());
    assert!(library.pieces.iter().all(|p| p.version == 1));
    // without a device token: refused
    let response = w
        .http
        .get(format!("{}/api/v1/library", w.base))
        .header(PROTOCOL_HEADER, "1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // the city edits a piece in the dashboard: a new version, the old one kept
    let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, "city", PASSWORD).await;
    let (status, page) = w.get(Some(&cookie), "/dashboard/library?piece=heat").await;
    assert_eq!(status, 200);
    let csrf = zhisu_server_tests::csrf_of(&page);
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = no_redirect
        .post(format!("{}/dashboard/library", w.base))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("id", "heat"),
            ("points", "know_heat_stroke, con_heat_aid，san_heat_stop"),
            ("title", "天热干活防中暑"),
            (
                "text",
                "头晕、恶心，是中暑了。\r\n\r\n马上到阴凉处，喝淡盐水。",
            ),
            ("source", "《防暑降温措施管理办法》"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/dashboard/library?piece=heat"
    );
    let history = w.state.storage.piece_history("heat").unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].piece.version, 2);
    assert_eq!(history[0].written_by, "city");
    assert_eq!(
        history[0].piece.points,
        ["know_heat_stroke", "con_heat_aid", "san_heat_stop"]
    );
    assert_eq!(
        history[0].piece.text,
        "头晕、恶心，是中暑了。\n\n马上到阴凉处，喝淡盐水。"
    );
    assert_eq!(history[1].piece.title, "高温天干活，防中暑");
    let audit = w.state.storage.audit_log(100).unwrap();
    assert!(
        audit.iter().any(|e| e.action == "put_library_piece"
            && e.actor == "city"
            && e.detail.starts_with("heat:")),
        "{audit:?}"
    );
    // the piece's page shows both versions
    let (_, page) = w.get(Some(&cookie), "/dashboard/library?piece=heat").await;
    assert!(page.contains("data-version=\"2\"") && page.contains("data-version=\"1\""));
    assert!(page.contains("天热干活防中暑") && page.contains("高温天干活，防中暑"));

    // the next assignment names another digest; the library delivers version 2
    let assignment = w.device_get("/api/v1/device/assignment").await;
    assert_ne!(assignment["library"], json!(library.digest));
    let newer: Library = serde_json::from_value(w.device_get("/api/v1/library").await).unwrap();
    assert_eq!(assignment["library"], json!(newer.digest));
    let heat = newer.pieces.iter().find(|p| p.id == "heat").unwrap();
    assert_eq!((heat.version, heat.title.as_str()), (2, "天热干活防中暑"));
    assert_eq!(newer.pieces.len(), library.pieces.len());

    // a bad piece: nothing kept, every problem said
    let before = w.state.storage.audit_log(1000).unwrap().len();
    let response = no_redirect
        .post(format!("{}/dashboard/library", w.base))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("id", "new_piece"),
            ("points", "no_such_item"),
            ("title", " "),
            ("text", "正文"),
            ("source", "来源"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("no_such_item") && page.contains("title"),
        "{page}"
    );
    assert!(w
        .state
        .storage
        .piece_history("new_piece")
        .unwrap()
        .is_empty());
    assert_eq!(w.state.storage.audit_log(1000).unwrap().len(), before);
    // loading the starter library again replaces no edit
    assert_eq!(w.state.load_starter_library().unwrap(), 0);
    assert_eq!(w.state.storage.piece_history("heat").unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_take_home_page_shows_the_piece_of_each_point_or_its_explanation() {
    let w = world().await;
    let q = ohl(&w.state);
    let ids = ["know_heat_stroke", "law_rights", "san_heat_stop"];
    let link = LearnLink::for_items(&q, ids).unwrap();
    let (status, page) = w.get(None, &link.to_path()).await;
    assert_eq!(status, 200);
    // one piece per point in the questionnaire's order, each piece once
    let order: Vec<&str> = q
        .scored_items()
        .filter(|i| ids.contains(&i.id.as_str()))
        .map(|i| i.id.as_str())
        .collect();
    let library = w.state.library().unwrap();
    let expected: Vec<String> = zhisu_protocol::library::pieces_for(&library, order)
        .into_iter()
        .map(|(_, p)| p.id.clone())
        .collect();
    assert_eq!(expected, ["worker_rights", "heat"]);
    assert_eq!(pieces_on(&page), expected);
    let heat = library.iter().find(|p| p.id == "heat").unwrap();
    for paragraph in heat.paragraphs() {
        assert!(page.contains(paragraph), "{paragraph}");
    }
    assert!(page.contains(&heat.source));
    // the explanations stay
    for id in ids {
        let explanation = q.item(id).unwrap().explanation.as_ref().unwrap();
        assert!(page.contains(explanation.get("zh-CN", "zh-CN")), "{id}");
    }
    let (_, english) = w.get(None, &format!("{}&lang=en", link.to_path())).await;
    assert!(english.contains("Learn more (in Chinese)"));

    // a server without a library: the explanations alone
    let dir = tempfile::tempdir().unwrap();
    let bare = zhisu_server::open_sqlite(
        &dir.path().join("bare.sqlite3"),
        &zhisu_server_tests::questionnaires_dir(),
    )
    .unwrap();
    let bare = zhisu_server_tests::serve_on_loopback(bare).await;
    let page = reqwest::get(format!("{bare}{}", link.to_path()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(pieces_on(&page).is_empty(), "{page}");
    let explanation = q.item("law_rights").unwrap().explanation.as_ref().unwrap();
    assert!(page.contains(explanation.get("zh-CN", "zh-CN")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_handout_prints_the_pieces_of_the_weakest_points_in_the_viewers_scope() {
    let w = world().await;
    let library = w.state.library().unwrap();
    for (user, scope) in [
        ("city", Scope::All),
        ("yz_admin", Scope::District("yuzhong".into())),
    ] {
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, user, PASSWORD).await;
        let weakest = analysis::weakest_items(
            w.state.storage.as_ref(),
            &w.state.questionnaires,
            &scope,
            "ohl_2026",
            &Filter {
                district: match &scope {
                    Scope::District(d) => Some(d.clone()),
                    _ => None,
                },
                ..Default::default()
            },
            0,
            "zh-CN",
        )
        .unwrap();
        let points: Vec<String> = weakest.iter().take(5).map(|i| i.item_id.clone()).collect();
        let expected: Vec<String> = handout_pieces(&library, &points)
            .into_iter()
            .map(|p| p.id.clone())
            .collect();
        assert!(!expected.is_empty());
        let (status, page) = w
            .get(
                Some(&cookie),
                "/dashboard/library/handout?q=ohl_2026&weakest=5",
            )
            .await;
        assert_eq!(status, 200, "{user}");
        assert_eq!(pieces_on(&page), expected, "{user}");
        assert!(page.contains("@page { size: A4"), "{user}: printed on A4");
        // the weakest items' page links to the handout of its six weakest points
        let (_, items) = w.get(Some(&cookie), "/dashboard/items").await;
        let at = items.find("id=\"print-handout\" href=\"").unwrap() + 25;
        let href = items[at..].split('"').next().unwrap().replace("&amp;", "&");
        assert!(href.starts_with("/dashboard/library/handout?"), "{href}");
        let (status, linked) = w.get(Some(&cookie), &href).await;
        assert_eq!(status, 200);
        let six: Vec<String> = weakest.iter().take(6).map(|i| i.item_id.clone()).collect();
        let expected: Vec<String> = handout_pieces(&library, &six)
            .into_iter()
            .take(6)
            .map(|p| p.id.clone())
            .collect();
        assert_eq!(pieces_on(&linked), expected, "{user}: {href}");
        assert!(page.contains("12320"));
    }
    // chosen pieces, in the order chosen, each once; an unknown one left out
    let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, "yz_admin", PASSWORD).await;
    let (status, page) = w
        .get(
            Some(&cookie),
            "/dashboard/library/handout?piece=noise&piece=heat&piece=noise&piece=nothing",
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(pieces_on(&page), ["noise", "heat"]);
    // not signed in: the sign-in page, no piece
    let (_, page) = w.get(None, "/dashboard/library/handout?piece=noise").await;
    assert!(pieces_on(&page).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn what_the_feedback_pages_offered_is_kept_counted_in_scope_and_exported() {
    let w = world().await;
    // kept with each interview as uploaded
    let stored = w.state.storage.interviews(&Scope::All).unwrap();
    assert_eq!(stored.len(), w.interviews.len());
    for s in &stored {
        let n = s.interview.id.as_u128() - 500;
        assert_eq!(
            s.interview.paradata.as_ref().unwrap().material,
            material(n),
            "interview {n}"
        );
    }
    // counted in each viewer's scope, as the database has them
    for (user, scope, district) in [
        ("city", Scope::All, None),
        (
            "yz_admin",
            Scope::District("yuzhong".into()),
            Some("yuzhong"),
        ),
    ] {
        let mine: Vec<_> = stored
            .iter()
            .filter(|s| district.is_none() || s.district.as_deref() == district)
            .collect();
        let offered = mine
            .iter()
            .filter_map(|s| s.interview.paradata.as_ref()?.material.as_ref())
            .collect::<Vec<_>>();
        let counts = w.state.material_counts(&scope).unwrap();
        assert_eq!(counts.interviews as usize, mine.len(), "{user}");
        assert_eq!(counts.offered as usize, offered.len(), "{user}");
        assert_eq!(
            counts.take_home_qr as usize,
            offered.iter().filter(|m| m.take_home_qr).count(),
            "{user}"
        );
        assert_eq!(
            counts.with_pieces as usize,
            offered.iter().filter(|m| !m.pieces.is_empty()).count(),
            "{user}"
        );
        let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, user, PASSWORD).await;
        let (status, page) = w.get(Some(&cookie), "/dashboard/library").await;
        assert_eq!(status, 200);
        assert!(
            page.contains(&format!(
                "data-interviews=\"{}\" data-offered=\"{}\" data-qr=\"{}\" data-pieces=\"{}\"",
                counts.interviews, counts.offered, counts.take_home_qr, counts.with_pieces
            )),
            "{user}"
        );
        assert_eq!(counts.interviews, if district.is_some() { 20 } else { 30 });
    }
    // and exported, a column each
    let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, "city", PASSWORD).await;
    let (status, csv) = w.get(Some(&cookie), "/dashboard/export.csv?lang=en").await;
    assert_eq!(status, 200);
    let header = csv.lines().next().unwrap();
    assert!(
        header.contains(
            "Wrong knowledge points shown on the feedback page,Take-home QR code shown,Library pieces shown"
        ),
        "{header}"
    );
    let id = Uuid::from_u128(501).to_string();
    let row = csv.lines().find(|l| l.starts_with(&id)).unwrap();
    assert!(row.contains(",2,no,heat dust_masks,"), "{row}");
    let id = Uuid::from_u128(500).to_string();
    let row = csv.lines().find(|l| l.starts_with(&id)).unwrap();
    assert!(row.contains(",,,,"), "nothing offered: empty cells: {row}");
}

/// `zhisu-server load-library` on the binary: the starter library into a new database, then
/// nothing more the second time (an edit is never replaced), one audit entry.
#[test]
fn the_load_library_command_adds_the_starter_pieces_once() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_zhisu-server"))
            .env_remove("ZHISU_DATABASE_URL")
            .env("ZHISU_DATA_DIR", dir.path())
            .env(
                "ZHISU_QUESTIONNAIRES",
                zhisu_server_tests::questionnaires_dir(),
            )
            .arg("load-library")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let pieces = starter_pieces().unwrap().len();
    assert_eq!(
        run().trim(),
        format!("added {pieces} pieces of the starter library")
    );
    assert_eq!(run().trim(), "added 0 pieces of the starter library");
    let state = zhisu_server::open_sqlite(
        &dir.path().join("zhisu-server.sqlite3"),
        &zhisu_server_tests::questionnaires_dir(),
    )
    .unwrap();
    assert_eq!(state.library().unwrap().len(), pieces);
    let loads = state
        .storage
        .audit_log(100)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "load_library")
        .count();
    assert_eq!(loads, 1);
}

/// A `multipart/form-data` body of text fields and files, as a browser sends the piece form.
fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----zhisu-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                if bytes.is_empty() { "" } else { "upload" }
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A piece's picture and its reading aloud (issue 24): uploaded with the piece in the
/// dashboard's form, kept with the version (the audit says what changed, not the bytes),
/// delivered to tablets in the piece, shown on the piece's page, the public take-home page and
/// the printed handout; a new version keeps them unless replaced or removed; a file that is
/// not a picture or recording, or too large, is refused in plain words and nothing is kept.
#[tokio::test(flavor = "multi_thread")]
async fn a_piece_carries_its_picture_and_reading_to_the_tablet_the_phone_and_the_handout() {
    use zhisu_protocol::library::MAX_PIECE_PICTURE_BYTES;
    let w = world().await;
    let cookie = zhisu_server_tests::dashboard_sign_in(&w.base, "city", PASSWORD).await;
    let (_, page) = w.get(Some(&cookie), "/dashboard/library?piece=heat").await;
    assert!(page.contains("enctype=\"multipart/form-data\""));
    assert!(page.contains("id=\"piece-picture\"") && page.contains("id=\"piece-audio\""));
    let csrf = zhisu_server_tests::csrf_of(&page);
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let png: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52,
    ];
    let ogg: &[u8] = b"OggS\x00\x02 speech of the piece";
    let post = |extra: Vec<(&'static str, &'static str)>, files: Vec<(&'static str, Vec<u8>)>| {
        let mut fields = vec![
            ("csrf", csrf.clone()),
            ("id", "heat".to_string()),
            ("points", "know_heat_stroke, con_heat_aid".to_string()),
            ("title", "天热干活防中暑".to_string()),
            ("text", "头晕、恶心，是中暑了。".to_string()),
            ("source", "《防暑降温措施管理办法》".to_string()),
        ];
        fields.extend(extra.into_iter().map(|(k, v)| (k, v.to_string())));
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let files: Vec<(&str, &[u8])> = files.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        let (content_type, body) = multipart(&fields, &files);
        no_redirect
            .post(format!("{}/dashboard/library", w.base))
            .header("cookie", &cookie)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let response = post(
        vec![("picture_alt", "一个工人在树荫下喝水")],
        vec![("picture", png.to_vec()), ("audio", ogg.to_vec())],
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 303);
    let newest = || w.state.storage.piece_history("heat").unwrap();
    let kept = newest()[0].piece.clone();
    assert_eq!(kept.version, 2);
    let picture = kept.picture.clone().expect("the picture kept");
    assert_eq!(
        (picture.kind.as_str(), picture.alt.as_str()),
        ("png", "一个工人在树荫下喝水")
    );
    assert_eq!(kept.audio.as_ref().unwrap().kind, "ogg");
    let audit = w.state.storage.audit_log(5).unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == "put_library_piece")
        .unwrap();
    assert!(
        !entry.detail.contains(&picture.data),
        "the audit names the change, not the bytes"
    );
    assert!(entry.detail.contains("bytes of base64"), "{}", entry.detail);

    // delivered in the piece to the tablets
    let library: Library = serde_json::from_value(w.device_get("/api/v1/library").await).unwrap();
    let heat = library.pieces.iter().find(|p| p.id == "heat").unwrap();
    assert_eq!(
        (heat.picture.as_ref(), heat.audio.as_ref()),
        (Some(&picture), kept.audio.as_ref())
    );
    // the piece's page, the take-home page and the handout show it (nothing fetched elsewhere)
    let img = format!(
        "src=\"{}\" alt=\"一个工人在树荫下喝水\"",
        picture.data_url()
    );
    let (_, page) = w.get(Some(&cookie), "/dashboard/library?piece=heat").await;
    assert!(page.contains(&img) && page.contains("<audio class=\"piece-audio\" controls"));
    let q = ohl(&w.state);
    let link = LearnLink::for_items(&q, ["know_heat_stroke"]).unwrap();
    let (status, learn) = w.get(None, &link.to_path()).await;
    assert_eq!(status, 200);
    assert!(learn.contains(&img), "{learn}");
    assert!(learn.contains(&format!(
        "src=\"{}\"",
        kept.audio.as_ref().unwrap().data_url()
    )));
    let (_, handout) = w
        .get(Some(&cookie), "/dashboard/library/handout?piece=heat")
        .await;
    assert!(handout.contains(&img));

    // a new version without files keeps them (with a new description); removing one drops it
    let empty: Vec<u8> = Vec::new();
    let response = post(
        vec![("picture_alt", "树荫下喝淡盐水")],
        vec![("picture", empty.clone()), ("audio", empty.clone())],
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 303);
    let v3 = newest()[0].piece.clone();
    assert_eq!(v3.version, 3);
    assert_eq!(v3.picture.as_ref().unwrap().data, picture.data);
    assert_eq!(v3.picture.as_ref().unwrap().alt, "树荫下喝淡盐水");
    assert_eq!(v3.audio, kept.audio);
    let response = post(vec![("remove_picture", "1")], vec![]).await.unwrap();
    assert_eq!(response.status(), 303);
    let v4 = newest()[0].piece.clone();
    assert_eq!((v4.version, v4.picture.is_none()), (4, true));
    assert_eq!(v4.audio, kept.audio, "the reading stays");
    assert!(
        newest()[1].piece.picture.is_some(),
        "old versions keep theirs"
    );

    // not a picture, or too large, or without its description: refused, nothing kept
    let mut huge = png.to_vec();
    huge.resize(MAX_PIECE_PICTURE_BYTES + 1, 0);
    for (files, alt, said) in [
        (
            vec![("picture", b"GIF89a not ours".to_vec())],
            "图",
            "PNG、JPEG 或 WebP",
        ),
        (vec![("picture", huge)], "图", "at most 300 KiB"),
        (vec![("picture", png.to_vec())], "", "description"),
        (vec![("audio", b"plain text".to_vec())], "", "MP3"),
    ] {
        let response = post(vec![("picture_alt", alt)], files).await.unwrap();
        assert_eq!(response.status(), 400, "{said}");
        let page = response.text().await.unwrap();
        assert!(page.contains(said), "{said}: {page}");
        assert_eq!(newest().len(), 4, "{said}: nothing kept");
    }
}
