//! What `docs/sync-protocol.md` and `docs/deployment.md` say, checked against the code: the
//! document's table of endpoints and statuses equals the OpenAPI document's (which
//! `openapi.rs` checks against the router), every endpoint the prose names is in it, and the
//! deployment guide's sites file imports with its sample plan through the real binary.
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use zhisu_server_storage::PlanStore;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

type Endpoints = BTreeMap<(String, String), BTreeSet<u16>>;

/// The table under "## Endpoints and status codes": (method, path) → statuses.
fn documented_endpoints(document: &str) -> Endpoints {
    let section = document
        .split("## Endpoints and status codes")
        .nth(1)
        .expect("the document has its table of endpoints");
    let mut endpoints = Endpoints::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let [method, path, statuses] = cells.as_slice() else {
            panic!("a row of three cells: {line}");
        };
        let statuses = statuses
            .split(',')
            .map(|s| s.trim().parse::<u16>().unwrap_or_else(|_| panic!("{line}")))
            .collect();
        let old = endpoints.insert(
            (
                method.trim_matches('`').into(),
                path.trim_matches('`').into(),
            ),
            statuses,
        );
        assert!(old.is_none(), "listed twice: {line}");
    }
    endpoints
}

/// Every operation of the OpenAPI document with its statuses, 500 left out (any request may
/// get it).
fn openapi_endpoints() -> Endpoints {
    let openapi: Value = serde_json::from_str(&read("docs/openapi.json")).unwrap();
    let mut endpoints = Endpoints::new();
    for (path, operations) in openapi["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let statuses = operation["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(|s| s.parse::<u16>().unwrap())
                .filter(|&s| s != 500)
                .collect();
            endpoints.insert((method.to_uppercase(), path.clone()), statuses);
        }
    }
    endpoints
}

#[test]
fn the_protocol_document_and_the_openapi_list_the_same_endpoints_and_statuses() {
    let document = read("docs/sync-protocol.md");
    let documented = documented_endpoints(&document);
    let openapi = openapi_endpoints();
    assert!(documented.len() >= 25, "{documented:?}");
    let only_documented: Vec<_> = documented
        .iter()
        .filter(|(k, v)| openapi.get(*k) != Some(*v))
        .collect();
    let only_openapi: Vec<_> = openapi
        .iter()
        .filter(|(k, v)| documented.get(*k) != Some(*v))
        .collect();
    assert!(
        only_documented.is_empty() && only_openapi.is_empty(),
        "the document says {only_documented:?}\nthe OpenAPI says {only_openapi:?}"
    );

    // every endpoint the prose names (`GET /api/v1/…`) is one of them
    let mut named = BTreeSet::new();
    for method in ["GET", "POST", "PUT", "DELETE"] {
        for (at, _) in document.match_indices(&format!("`{method} /")) {
            let rest = &document[at + method.len() + 2..];
            let end = rest.find(['`', ' ', '?']).unwrap();
            named.insert((method.to_string(), rest[..end].to_string()));
        }
    }
    assert!(named.len() >= 8, "{named:?}");
    for endpoint in &named {
        assert!(
            documented.contains_key(endpoint),
            "the document names {endpoint:?}, which the server does not answer"
        );
    }
    for gone in ["--admin-token", "ZHISU_ADMIN_TOKEN", "damaged in transit"] {
        assert!(!document.contains(gone), "{gone}");
    }
}

#[test]
fn the_deployment_guides_sites_file_imports_with_its_sample_plan() {
    let guide = read("docs/deployment.md");
    let example = guide
        .split("A sites file")
        .nth(1)
        .and_then(|rest| rest.split("```toml\n").nth(1))
        .and_then(|block| block.split("```").next())
        .expect("the guide has a sites file");
    let dir = tempfile::tempdir().unwrap();
    let import = |text: &str| {
        let file = dir.path().join("sites.toml");
        std::fs::write(&file, text).unwrap();
        Command::new(env!("CARGO_BIN_EXE_zhisu-server"))
            .arg("import-sites")
            .arg("--district")
            .arg("yuzhong")
            .arg(&file)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--questionnaires")
            .arg(root().join("questionnaires"))
            .output()
            .unwrap()
    };
    let output = import(example);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let storage =
        zhisu_server_sqlite::SqliteStorage::open(&dir.path().join("data/zhisu-server.sqlite3"))
            .unwrap();
    let sites = storage.sites("yuzhong").unwrap();
    assert_eq!(sites.len(), 2);
    // the station's time-slot quotas for travel peaks (issue #15), as written
    let station = &sites[1];
    assert_eq!(station.site_type, "station");
    let slots: Vec<(&str, &str, &str, u32)> = station
        .time_slots
        .iter()
        .map(|s| (s.label.as_str(), s.from.as_str(), s.to.as_str(), s.target))
        .collect();
    assert_eq!(
        slots,
        [
            ("春运早高峰", "06:00", "10:00", 40),
            ("返程晚高峰", "17:00", "21:00", 30)
        ]
    );
    assert_eq!(station.time_slots[0].first_day.to_string(), "2027-01-25");
    assert!(sites[0].time_slots.is_empty());
    let site = &sites[0];
    assert_eq!(site.district, "yuzhong");
    assert!(site.stratum.is_some() && site.weight.is_some(), "{site:?}");
    assert!(
        site.latitude.is_some() && site.longitude.is_some(),
        "{site:?}"
    );
    assert_eq!(site.quotas.get("construction"), Some(&30));
    drop(storage);

    // a slot that can hold nothing is refused with its reason
    let output = import(&example.replace("to = \"10:00\"", "to = \"05:00\""));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("'to' must be later than 'from'"),
        "{stderr}"
    );

    // the district comes from --district: a `district` field is refused, as the guide says
    let output = import(&example.replace("[[sites]]\n", "[[sites]]\ndistrict = \"yuzhong\"\n"));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown field `district`"), "{stderr}");
}
