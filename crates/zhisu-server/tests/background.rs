//! The server reads background answers by the roles a questionnaire declares, not by item ids
//! written into Rust: facts, the respondent fingerprint, breakdown labels, filter choices and
//! the export's filter all follow `[background]`. Questionnaire versions are ordered by their
//! numbers ("2026.10" is newer than "2026.9").

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use uuid::Uuid;
use zhisu_core::{QcThresholds, Questionnaire};
use zhisu_server_service::analysis::{By, Filter, Labels};
use zhisu_server_service::storage::{Facts, StoredInterview};
use zhisu_server_service::{QuestionnaireRegistry, ServerState};
use zhisu_server_tests::generate::{self, Respondent};
use zhisu_server_tests::{questionnaires_dir, Rng};

/// The intercept questionnaire with its sex item renamed `gender` (declared as the sex role)
/// and its version set to `version`.
fn renamed(version: &str) -> (Questionnaire, String) {
    let source = std::fs::read_to_string(questionnaires_dir().join("ohl_intercept.toml"))
        .unwrap()
        .replace("id = \"sex\"", "id = \"gender\"")
        // the file's own [background] table (2026.3) names the sex role and lists it in the
        // fingerprint under its new id
        .replacen("[background]\n", "[background]\nsex = \"gender\"\n", 1)
        .replacen("fingerprint = [\"sex\",", "fingerprint = [\"gender\",", 1);
    let original_version = Questionnaire::from_toml("ohl_intercept.toml", &source)
        .unwrap()
        .version;
    let source = source.replacen(
        &format!("version = \"{original_version}\""),
        &format!("version = \"{version}\""),
        1,
    );
    let q = Questionnaire::from_toml("ohl_intercept.toml", &source)
        .unwrap_or_else(|d| panic!("{}", d.lines()));
    assert!(q.item("sex").is_none() && q.item("gender").is_some());
    (q, source)
}

/// Keys of the intercept questionnaire.
const EDUCATION: &str = "none_primary";
const INDUSTRY: &str = "coal_mining";

fn respondent(sex: &str) -> Respondent<'static> {
    Respondent {
        population: "industrial",
        sex: if sex == "female" { "female" } else { "male" },
        age: 30,
        education: EDUCATION,
        industry: INDUSTRY,
        ability: 90,
        straight_line: false,
    }
}

fn stored(q: &Questionnaire, n: u128, sex: &str) -> (StoredInterview, Facts) {
    let mut rng = Rng::new(n as u64 + 1);
    let answers = generate::answers(q, &respondent(sex), &mut rng);
    let start = Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap();
    let interview = generate::interview(q, Uuid::from_u128(n), answers, start, 600, Some("s1"));
    let score = q.score(&interview.answers);
    let facts = Facts::of(q, &interview, &score, &QcThresholds::default());
    let stored = StoredInterview {
        interview,
        received_at: start,
        score,
        district: Some("yuzhong".into()),
        round: None,
        population: facts.population.clone(),
        qc_status: None,
        consent_text_version: facts.consent_text_version.clone(),
    };
    (stored, facts)
}

#[test]
fn facts_and_fingerprints_follow_the_declared_roles() {
    let (q, _) = renamed("2026.1");
    let (_, female) = stored(&q, 1, "female");
    let (_, male) = stored(&q, 2, "male");
    assert_eq!(female.sex.as_deref(), Some("female"));
    assert_eq!(male.sex.as_deref(), Some("male"));
    assert_eq!(female.population.as_deref(), Some("industrial"));
    assert_eq!(female.age, Some(30));
    // the renamed item is in the fingerprint: two respondents alike but for it differ
    assert!(!female.fingerprint.is_empty());
    assert_ne!(female.fingerprint, male.fingerprint);
}

#[test]
fn labels_and_the_export_filter_read_the_role_and_the_newest_version() {
    let registry = QuestionnaireRegistry::default();
    // "2026.9" is inserted after "2026.10" and would win as text; it must not
    let (newer, newer_source) = renamed("2026.10");
    let (_, older_source) = renamed("2026.9");
    let older_source = older_source.replace("label.en = \"Your sex\"", "label.en = \"Sex (old)\"");
    let older = Questionnaire::from_toml("ohl_intercept.toml", &older_source).unwrap();
    registry.insert(newer.clone(), newer_source, None);
    registry.insert(older, older_source, None);
    assert_eq!(
        registry.newest(&newer.id).unwrap().questionnaire.version,
        "2026.10"
    );
    let labels = Labels::new(&registry, &newer.id, "en");
    let keys: Vec<String> = labels
        .choices(By::Sex)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(keys.contains(&"female".to_string()), "{keys:?}");
    assert_ne!(
        labels.label(By::Sex, "female"),
        "female",
        "labelled from the gender item"
    );

    let dir = tempfile::tempdir().unwrap();
    let storage = zhisu_server_sqlite::SqliteStorage::open(&dir.path().join("s.sqlite3")).unwrap();
    let state = ServerState::new(Arc::new(storage), registry);
    let interviews: Vec<StoredInterview> = [(1, "female"), (2, "male"), (3, "female")]
        .into_iter()
        .map(|(n, sex)| stored(&newer, n, sex).0)
        .collect();
    let filter = Filter {
        sex: Some("female".into()),
        ..Filter::default()
    };
    let utc8 = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let table =
        zhisu_server_service::export::table(&state, &interviews, &newer.id, &filter, "en", utc8)
            .unwrap();
    assert_eq!(table.rows.len(), 2, "the export filters by the sex role");
    let all = zhisu_server_service::export::table(
        &state,
        &interviews,
        &newer.id,
        &Filter::default(),
        "en",
        utc8,
    )
    .unwrap();
    assert_eq!(all.rows.len(), 3);
}

#[test]
fn an_impossible_utc_offset_exports_in_the_fallback_zone() {
    let (q, source) = renamed("2026.1");
    let registry = QuestionnaireRegistry::default();
    registry.insert(q.clone(), source, None);
    let dir = tempfile::tempdir().unwrap();
    let storage = zhisu_server_sqlite::SqliteStorage::open(&dir.path().join("s.sqlite3")).unwrap();
    let state = ServerState::new(Arc::new(storage), registry);
    let (mut one, _) = stored(&q, 1, "female");
    one.interview.utc_offset_minutes = i32::MAX;
    let utc8 = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let table =
        zhisu_server_service::export::table(&state, &[one], &q.id, &Filter::default(), "en", utc8)
            .unwrap();
    let completed = table
        .headers
        .iter()
        .position(|h| h.starts_with("Completed"))
        .unwrap();
    // started 02:00 UTC, ten minutes long: 10:10 in UTC+8
    assert_eq!(table.rows[0][completed], "2026-12-01 10:10");
}
