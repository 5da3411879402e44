//! The served OpenAPI document describes exactly the routes the server answers, and /metrics
//! counts what happens.
use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

#[tokio::test]
async fn the_openapi_document_matches_the_router() {
    let dir = tempfile::tempdir().unwrap();
    let questionnaires = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../questionnaires");
    let state = zhisu_server::open_sqlite(&dir.path().join("s.sqlite3"), &questionnaires).unwrap();
    let base = zhisu_server_tests::serve_on_loopback(state).await;
    let http = reqwest::Client::new();

    let served: Value = http
        .get(format!("{base}/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served["openapi"], "3.1.0");
    let documented: BTreeSet<(String, String)> = served["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |method| (path.clone(), method.to_uppercase()))
        })
        .collect();
    assert!(documented.len() >= 24, "{documented:?}");
    // every documented route exists with that method: anything but 404 (no route) or 405
    for (path, method) in &documented {
        let concrete = path
            .replace("{id}", "00000000-0000-0000-0000-000000000001")
            .replace("{version}", "1")
            .replace("{district}", "yuzhong")
            .replace("{username}", "nobody")
            .replace("{round}", "2026");
        let response = http
            .request(method.parse().unwrap(), format!("{base}{concrete}"))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!(
            status != 405,
            "{method} {path}: method not allowed: undocumented or wrong"
        );
        let body = response.text().await.unwrap();
        assert!(
            status != 404 || body.contains("\"code\""),
            "{method} {path}: no such route ({status} {body})"
        );
    }
    // and an undocumented route does not exist
    let response = http
        .get(format!("{base}/api/v1/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);

    // the metrics saw those requests, by route template
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("# TYPE zhisu_http_requests_total counter"),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"zhisu_http_requests_total{route="/api/v1/devices/{id}/revoke",method="POST",status="401"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("zhisu_interviews_stored 0"), "{metrics}");
}
