//! PostgreSQL over TLS, against a real PostgreSQL that takes connections to its databases only
//! over TLS with a certificate signed by its own CA (as a CDC's CA would sign one): the server
//! connects with `sslmode=require` and `sslrootcert`, checks the certificate (an unknown CA is
//! refused), and cannot reach the database without TLS. Plain `#[test]`s: the synchronous
//! PostgreSQL client must not run inside an async runtime.

use std::process::Command;

use zhisu_server_postgres::PostgresStorage;
use zhisu_server_service::storage::PeopleStore;
use zhisu_server_tests::postgres::TestPostgres;

#[test]
fn the_server_reaches_postgresql_over_tls_and_checks_its_certificate() {
    let pg = TestPostgres::start_tls();
    let ca = pg.ca_file.clone().expect("a CA file");
    let url = pg.fresh_database("zhisu_tls");
    let with = |query: &str| format!("{url}?{query}");

    // the administrative command of an installed server, over TLS
    let tls_url = with(&format!("sslmode=require&sslrootcert={}", ca.display()));
    let output = Command::new(env!("CARGO_BIN_EXE_zhisu-server"))
        .env_remove("ZHISU_DATA_DIR")
        .env_remove("ZHISU_QUESTIONNAIRES")
        .env("ZHISU_DATABASE_URL", &tls_url)
        .env("ZHISU_PASSWORD", "a long password for the test")
        .args([
            "add-person",
            "--username",
            "admin",
            "--display-name",
            "市疾控",
            "--role",
            "city_admin",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let storage = PostgresStorage::open(&tls_url, 2).expect("TLS with the CA");
    assert_eq!(storage.people().unwrap().len(), 1, "stored over TLS");
    drop(storage);
    // prefer (the default) takes TLS when the database offers it
    let prefer = PostgresStorage::open(&with(&format!("sslrootcert={}", ca.display())), 2);
    assert!(prefer.is_ok(), "{:?}", prefer.err());
    drop(prefer);

    // a certificate from a CA the server does not trust is refused
    let untrusted = PostgresStorage::open(&with("sslmode=require"), 2)
        .err()
        .expect("an unknown CA is refused");
    let message = format!("{untrusted:?}");
    assert!(
        message.contains("TLS") || message.contains("certificate"),
        "{message}"
    );
    // without TLS the database does not let the server in
    assert!(PostgresStorage::open(&with("sslmode=disable"), 2).is_err());
    // a root file that is no certificate is said to be so
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "nothing here").unwrap();
    let refused = PostgresStorage::open(
        &with(&format!("sslmode=require&sslrootcert={}", bad.display())),
        2,
    )
    .err()
    .expect("a bad root file is refused");
    assert!(
        format!("{refused}").contains("holds no certificate"),
        "{refused}"
    );
}
