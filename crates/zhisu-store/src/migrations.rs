//! Append-only schema migrations, tracked in SQLite's `user_version`.
//!
//! Rules: a migration that has shipped is never edited; a change is a new entry at the end.
//! A database whose `user_version` is above [`MIGRATIONS`]`.len()` was written by a newer app and is
//! refused untouched.

use rusqlite::{Connection, OptionalExtension};

use crate::StoreError;

/// Migration `i` takes the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: interviews, current answers, every answer change as an event.
    r#"
    CREATE TABLE interview (
        id                    TEXT PRIMARY KEY NOT NULL,   -- UUID made on the device
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        state                 TEXT NOT NULL CHECK (state IN ('in_progress', 'completed', 'acknowledged', 'rejected')),
        started_at            TEXT NOT NULL,               -- RFC 3339, UTC
        utc_offset_minutes    INTEGER NOT NULL,            -- device offset when started
        completed_at          TEXT,
        acknowledged_at       TEXT,
        payload               TEXT,                        -- the sealed upload, fixed at completion
        content_hash          TEXT,
        sync_code             TEXT,                        -- last receipt code for rejected/conflict
        sync_message          TEXT
    ) STRICT;
    CREATE INDEX interview_state ON interview (state, completed_at);

    CREATE TABLE answer (
        interview_id TEXT NOT NULL REFERENCES interview (id),
        item_id      TEXT NOT NULL,
        value        TEXT NOT NULL,                        -- AnswerValue as JSON
        answered_at  TEXT NOT NULL,
        PRIMARY KEY (interview_id, item_id)
    ) STRICT;

    CREATE TABLE answer_event (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        interview_id TEXT NOT NULL REFERENCES interview (id),
        item_id      TEXT NOT NULL,
        old_value    TEXT,                                 -- NULL for a first answer
        new_value    TEXT NOT NULL,
        recorded_at  TEXT NOT NULL
    ) STRICT;
    CREATE INDEX answer_event_interview ON answer_event (interview_id, seq);
    "#,
    // 2: the full lifecycle (queued, sent, discarded with a reason), site and surveyor, the
    //    monotonic time of each answer change, and the on-device sync log. SQLite cannot change a
    //    CHECK constraint in place, so the interview table is rebuilt (foreign keys are off while
    //    migrating; `migrate` checks them afterwards).
    r#"
    CREATE TABLE interview_v2 (
        id                    TEXT PRIMARY KEY NOT NULL,
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        state                 TEXT NOT NULL CHECK (state IN ('in_progress', 'completed', 'queued', 'sent', 'acknowledged', 'rejected', 'discarded')),
        started_at            TEXT NOT NULL,
        utc_offset_minutes    INTEGER NOT NULL,
        completed_at          TEXT,
        acknowledged_at       TEXT,
        payload               TEXT,
        content_hash          TEXT,
        sync_code             TEXT,
        sync_message          TEXT,
        site_id               TEXT,
        surveyor_id           TEXT,
        discarded_at          TEXT,
        discard_reason        TEXT
    ) STRICT;
    INSERT INTO interview_v2 (id, questionnaire_id, questionnaire_version, state, started_at,
        utc_offset_minutes, completed_at, acknowledged_at, payload, content_hash, sync_code, sync_message)
    SELECT id, questionnaire_id, questionnaire_version, state, started_at,
        utc_offset_minutes, completed_at, acknowledged_at, payload, content_hash, sync_code, sync_message
    FROM interview;
    DROP TABLE interview;
    ALTER TABLE interview_v2 RENAME TO interview;
    CREATE INDEX interview_state ON interview (state, completed_at);

    -- milliseconds since the interview started, from a monotonic clock: immune to clock changes
    ALTER TABLE answer_event ADD COLUMN elapsed_ms INTEGER;

    CREATE TABLE sync_log (
        attempt       INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at    TEXT NOT NULL,
        finished_at   TEXT,
        server_url    TEXT NOT NULL,
        interviews    TEXT NOT NULL,          -- JSON array of the interview ids sent
        outcome       TEXT NOT NULL CHECK (outcome IN ('sending', 'answered', 'failed')),
        http_status   INTEGER,
        error_code    TEXT,
        error_message TEXT,
        stored        INTEGER NOT NULL DEFAULT 0,
        already_stored INTEGER NOT NULL DEFAULT 0,
        conflicts     INTEGER NOT NULL DEFAULT 0,
        rejected      INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    "#,
    // 3: questionnaire versions delivered by the server, kept as published.
    r#"
    CREATE TABLE questionnaire (
        id          TEXT NOT NULL,
        version     TEXT NOT NULL,
        hash        TEXT NOT NULL,            -- sha256 of the file, as the server listed it
        source      TEXT NOT NULL,            -- the questionnaire file (TOML)
        received_at TEXT NOT NULL,
        PRIMARY KEY (id, version)
    ) STRICT;
    "#,
    // 4: the upload queue in its own order, so picking the next batch reads 100 rows instead of
    //    sorting every waiting interview (draining a large backlog was quadratic).
    r#"
    CREATE INDEX interview_waiting ON interview (completed_at, id)
        WHERE state IN ('completed', 'queued', 'sent');
    "#,
    // 5: who this device is (after enrolment) and the sites it is assigned.
    r#"
    CREATE TABLE device_identity (
        singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
        server_url  TEXT NOT NULL,
        device_id   TEXT NOT NULL,
        token       TEXT NOT NULL,            -- the bearer token; only this device holds it
        device_name TEXT NOT NULL,
        round       TEXT NOT NULL,
        district    TEXT NOT NULL,
        enrolled_at TEXT NOT NULL,
        revoked_at  TEXT
    ) STRICT;
    CREATE TABLE site (
        id   TEXT PRIMARY KEY NOT NULL,
        site TEXT NOT NULL                    -- the Site as delivered (JSON)
    ) STRICT;
    "#,
    // 6: the round's settings as delivered with the assignment (answer key shown or not, the
    //    quality-control thresholds). No row: the protocol's defaults.
    r#"
    CREATE TABLE round_settings (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        settings  TEXT NOT NULL               -- RoundSettings as delivered (JSON)
    ) STRICT;
    "#,
    // 7: paradata: each stay on a question screen, in milliseconds since the interview started
    //    by the same monotonic clock as answer_event.elapsed_ms.
    r#"
    CREATE TABLE screen_visit (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        interview_id TEXT NOT NULL REFERENCES interview (id),
        item_id      TEXT NOT NULL,
        shown_ms     INTEGER NOT NULL,
        left_ms      INTEGER                  -- NULL while shown (or when the app died there)
    ) STRICT;
    CREATE INDEX screen_visit_interview ON screen_visit (interview_id, seq);
    "#,
    // 8: the surveyor's choices kept on the device (screen language, …) and the language each
    //    interview is done in (NULL: the questionnaire's default language).
    r#"
    CREATE TABLE preference (
        key   TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL
    ) STRICT;
    ALTER TABLE interview ADD COLUMN language TEXT;
    "#,
    // 9: the surveyors who use this tablet, each with a short PIN kept only salted and hashed.
    r#"
    CREATE TABLE surveyor (
        id       TEXT PRIMARY KEY NOT NULL,
        name     TEXT NOT NULL,
        pin_salt TEXT NOT NULL,               -- 16 random bytes, hex
        pin_hash TEXT NOT NULL,               -- iterated SHA-256 of salt and PIN, hex
        added_at TEXT NOT NULL
    ) STRICT;
    "#,
    // 10: where the tablet was when an interview started and ended, when the platform said.
    r#"
    CREATE TABLE interview_location (
        interview_id TEXT NOT NULL REFERENCES interview (id),
        moment       TEXT NOT NULL CHECK (moment IN ('start', 'end')),
        latitude     REAL NOT NULL,           -- WGS-84 degrees
        longitude    REAL NOT NULL,
        accuracy_m   REAL NOT NULL,           -- radius of uncertainty, metres
        at_ms        INTEGER NOT NULL,        -- on the interview's monotonic clock
        PRIMARY KEY (interview_id, moment)
    ) STRICT;
    "#,
    // 11: wrong PINs in a row on this tablet and until when sign-in is refused, so that a
    //     restart does not forget them (one row; none: no wrong PIN yet).
    r#"
    CREATE TABLE pin_lockout (
        singleton    INTEGER PRIMARY KEY CHECK (singleton = 1),
        failures     INTEGER NOT NULL,        -- wrong PINs in a row, this try included
        locked_until TEXT                     -- RFC 3339, UTC; NULL: not locked
    ) STRICT;
    "#,
    // 12: recordings of questionnaires read aloud, delivered with their versions: the bytes by
    //     SHA-256 (received so far, so a broken download resumes; complete once the hash of
    //     the whole matched) and which question or answer each is the recording of.
    r#"
    CREATE TABLE media (
        sha256   TEXT PRIMARY KEY NOT NULL,   -- lowercase hex
        kind     TEXT NOT NULL,               -- wav, ogg, webm, mp3, m4a
        size     INTEGER NOT NULL,            -- bytes the whole has
        bytes    BLOB NOT NULL,               -- received so far (all of them once complete)
        complete INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1))
    ) STRICT;
    CREATE TABLE recording (
        questionnaire_id TEXT NOT NULL,
        version          TEXT NOT NULL,
        item_id          TEXT NOT NULL,
        option_key       TEXT NOT NULL,       -- '' for the question
        sha256           TEXT NOT NULL REFERENCES media (sha256),
        PRIMARY KEY (questionnaire_id, version, item_id, option_key)
    ) STRICT;
    "#,
    // 13 (issue 15): how each contact ended (completed, partial, refused, not_eligible,
    //     other; NULL while in progress, and for interviews completed before this migration,
    //     which read as completed) and the surveyor's reason for it. A closed contact is sealed
    //     into `payload` and queued like a completed interview.
    r#"
    ALTER TABLE interview ADD COLUMN disposition TEXT;
    ALTER TABLE interview ADD COLUMN disposition_reason TEXT;
    "#,
    // 14 (issue #18, sealed interviews): the round's public key from the assignment (one row;
    //     none: the server gave none, interviews go in the clear as before), and per interview
    //     the sealed upload that replaces its payload, answers and paradata at completion.
    r#"
    CREATE TABLE round_key (
        singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
        key_id     TEXT NOT NULL,
        public_key TEXT NOT NULL              -- X25519, standard base64
    ) STRICT;
    ALTER TABLE interview ADD COLUMN sealed TEXT;  -- JSON of zhisu_protocol::sealed::SealedInterview
    "#,
    // 15 (issue #15, repeat respondents at a station): per interview, the respondent fingerprint
    //     (zhisu_core::Questionnaire::respondent_fingerprint: a hash of the background answers
    //     and the site, no names, no answers; NULL while not every fingerprint item asked is
    //     answered, and for interviews ended before this migration) and its local day by the
    //     interview's UTC offset (of the start while in progress, of the end after). Kept when
    //     the answers are deleted at sealing.
    r#"
    ALTER TABLE interview ADD COLUMN fingerprint TEXT;
    ALTER TABLE interview ADD COLUMN local_day TEXT;  -- YYYY-MM-DD
    CREATE INDEX interview_fingerprint ON interview (fingerprint, local_day)
        WHERE fingerprint IS NOT NULL;
    "#,
    // 16 (issue #18, the feedback page after sealing): what the feedback page of a completed
    //     interview shows (its score report, the respondent's answers to the items answered
    //     wrong, whether the round shows the answer key), kept for a day after completion so
    //     the page can be shown again after a crash; NULL before completion, after a day, and
    //     for interviews completed before this migration.
    r#"
    ALTER TABLE interview ADD COLUMN feedback TEXT;  -- JSON of feedback::Kept
    "#,
    // 17 (issue 24, quiz mode): quiz sessions played to the end, each sealed with its content
    //     hash and queued for the server in a queue of its own (never an interview: not in
    //     progress, quotas or the interview queue); the district's outreach events and the
    //     server's weak knowledge points per questionnaire, as the assignment delivered them.
    r#"
    CREATE TABLE quiz_session (
        id              TEXT PRIMARY KEY NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('waiting', 'acknowledged', 'rejected')),
        ended_at        TEXT NOT NULL,
        payload         TEXT NOT NULL,   -- zhisu_protocol::QuizSession, sealed (JSON)
        content_hash    TEXT NOT NULL,
        acknowledged_at TEXT,
        sync_code       TEXT,
        sync_message    TEXT
    ) STRICT;
    CREATE INDEX quiz_session_waiting ON quiz_session (ended_at, id) WHERE state = 'waiting';
    CREATE TABLE outreach_event (
        id     TEXT PRIMARY KEY NOT NULL,
        event  TEXT NOT NULL             -- zhisu_protocol::OutreachEvent (JSON)
    ) STRICT;
    CREATE TABLE weak_item (
        questionnaire_id TEXT NOT NULL,
        position         INTEGER NOT NULL,
        item_id          TEXT NOT NULL,
        PRIMARY KEY (questionnaire_id, position)
    ) STRICT;
    "#,
    // 18 (issue 24, education library): the newest version of each piece the server delivers,
    //     replaced whole when the assignment's digest differs from this library's.
    r#"
    CREATE TABLE library_piece (
        id      TEXT PRIMARY KEY NOT NULL,
        version INTEGER NOT NULL,
        points  TEXT NOT NULL,  -- JSON array of knowledge points (item ids)
        title   TEXT NOT NULL,
        body    TEXT NOT NULL,
        source  TEXT NOT NULL
    ) STRICT;
    "#,
    // 19 (issue #24, surveyor training): a practice interview, run like a real one and uploaded
    //     with `practice: true`; the tablet's quota progress and repeat check leave it out.
    r#"
    ALTER TABLE interview ADD COLUMN practice INTEGER NOT NULL DEFAULT 0;
    "#,
    // 20 (issue 15): the district's surveyors managed on the server, as delivered at sync, with
    //     the Argon2id verifier of each one's PIN. A surveyor left out of a later list is kept,
    //     retired (`retired_at`), so the tablet can say why they cannot sign in.
    r#"
    CREATE TABLE delivered_surveyor (
        id           TEXT PRIMARY KEY NOT NULL,
        name         TEXT NOT NULL,
        pin_verifier TEXT NOT NULL,   -- Argon2id PHC string made by the server
        retired_at   TEXT
    ) STRICT;
    "#,
    // 21 (issue 24): a library piece's picture and recording read aloud as delivered (JSON:
    //     {"picture": {kind, data, alt}, "audio": {kind, data}}); NULL for a piece with neither.
    r#"
    ALTER TABLE library_piece ADD COLUMN media TEXT;
    "#,
    // 22 (issue 15, back-checks 复核): the district's open back-checks as the assignment
    //     delivered them (replaced whole at each assignment, so a task done elsewhere leaves
    //     with its contact), and the results done here, queued for the server until their
    //     receipt. Appended after the
    //     surveyors' and the library media's migrations.
    r#"
    CREATE TABLE backcheck_task (
        id    TEXT PRIMARY KEY NOT NULL,
        task  TEXT NOT NULL               -- zhisu_protocol::backcheck::BackcheckAssignment (JSON)
    ) STRICT;
    CREATE TABLE backcheck_result (
        task_id         TEXT PRIMARY KEY NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('waiting', 'acknowledged', 'rejected')),
        payload         TEXT NOT NULL,    -- zhisu_protocol::backcheck::BackcheckOutcome (JSON)
        acknowledged_at TEXT,
        sync_code       TEXT,
        sync_message    TEXT
    ) STRICT;
    "#,
    // 23 (issue 15, re-contact for back-checks): the respondent's answer to the feedback
    //     page's re-contact card, apart from the interview's answers (never in its payload or
    //     content hash): yes or no, the version of the card's words, and with a yes the phone
    //     number and how to address them, queued for the server after the interview's receipt.
    //     The number and the form of address are deleted (NULL) with the receipt; a no is
    //     never sent ('declined').
    r#"
    CREATE TABLE recontact (
        interview_id          TEXT PRIMARY KEY NOT NULL,
        consent               INTEGER NOT NULL CHECK (consent IN (0, 1)),
        consent_text_version  TEXT NOT NULL,
        phone                 TEXT,
        call_name             TEXT,
        answered_at           TEXT NOT NULL,
        state                 TEXT NOT NULL CHECK (state IN ('declined', 'waiting', 'acknowledged', 'rejected')),
        acknowledged_at       TEXT,
        sync_code             TEXT,
        sync_message          TEXT,
        CHECK (consent = 1 OR (phone IS NULL AND state = 'declined'))
    ) STRICT;
    "#,
];

pub(crate) fn schema_version(conn: &Connection) -> rusqlite::Result<usize> {
    conn.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))
        .map(|v| v as usize)
}

/// Brings the schema to the newest version, one transaction per migration.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    migrate_to(conn, MIGRATIONS.len())
}

pub(crate) fn migrate_to(conn: &mut Connection, target: usize) -> Result<(), StoreError> {
    let found = schema_version(conn)?;
    if found > MIGRATIONS.len() {
        return Err(StoreError::NewerSchema {
            found,
            supported: MIGRATIONS.len(),
        });
    }
    if found >= target {
        return Ok(());
    }
    // Table rebuilds need foreign keys off; the pragma has no effect inside a transaction.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let result = (|| {
        for (index, sql) in MIGRATIONS.iter().enumerate().take(target).skip(found) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (index + 1) as i64)?;
            let broken: Option<String> = tx
                .query_row("PRAGMA foreign_key_check", [], |row| row.get(0))
                .optional()?;
            if let Some(table) = broken {
                return Err(StoreError::Corrupt(format!(
                    "migration {} left a broken reference in table {table}",
                    index + 1
                )));
            }
            tx.commit()?;
        }
        Ok(())
    })();
    conn.pragma_update(None, "foreign_keys", "ON")?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema as SQLite reports it, for comparing two databases.
    fn schema(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_schema ORDER BY type, name")
            .unwrap();
        stmt.query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn every_historic_version_migrates_to_the_fresh_schema() {
        let mut fresh = Connection::open_in_memory().unwrap();
        migrate(&mut fresh).unwrap();
        assert_eq!(schema_version(&fresh).unwrap(), MIGRATIONS.len());
        for start in 0..=MIGRATIONS.len() {
            let mut old = Connection::open_in_memory().unwrap();
            migrate_to(&mut old, start).unwrap();
            assert_eq!(schema_version(&old).unwrap(), start);
            migrate(&mut old).unwrap();
            assert_eq!(schema(&old), schema(&fresh), "from version {start}");
        }
    }

    #[test]
    fn data_written_at_version_1_survives_every_later_migration() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 1).unwrap();
        conn.execute_batch(
            r#"
            INSERT INTO interview (id, questionnaire_id, questionnaire_version, state, started_at, utc_offset_minutes, completed_at, payload, content_hash)
            VALUES ('00000000-0000-0000-0000-000000000001', 'ohl_pilot', '2026.1', 'completed', '2026-11-29T08:00:00.000Z', 480, '2026-11-29T08:09:00.000Z', '{}', 'sha256:x');
            INSERT INTO answer VALUES ('00000000-0000-0000-0000-000000000001', 'age', '{"type":"integer","value":30}', '2026-11-29T08:01:00.000Z');
            INSERT INTO answer_event (interview_id, item_id, old_value, new_value, recorded_at)
            VALUES ('00000000-0000-0000-0000-000000000001', 'age', NULL, '{"type":"integer","value":30}', '2026-11-29T08:01:00.000Z');
            "#,
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let row: (String, String, Option<String>, Option<i64>) = conn
            .query_row(
                "SELECT i.state, a.value, i.site_id, e.elapsed_ms FROM interview i
                 JOIN answer a ON a.interview_id = i.id JOIN answer_event e ON e.interview_id = i.id",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(
            row,
            (
                "completed".to_string(),
                r#"{"type":"integer","value":30}"#.to_string(),
                None,
                None
            )
        );
        let fk: bool = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert!(fk, "foreign keys are back on after migrating");
    }

    #[test]
    fn an_enrolled_device_at_version_5_keeps_its_identity_and_sites_and_gets_default_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.sqlite3");
        {
            let mut conn = Connection::open(&path).unwrap();
            migrate_to(&mut conn, 5).unwrap();
            conn.execute_batch(
                r#"
                INSERT INTO device_identity (singleton, server_url, device_id, token, device_name, round, district, enrolled_at)
                VALUES (1, 'http://cdc.example', '00000000-0000-0000-0000-0000000000aa', 'secret', '渝中 1 号', '2026', 'yuzhong', '2026-11-29T08:00:00.000Z');
                INSERT INTO site VALUES ('yz-001', '{"id":"yz-001","district":"yuzhong","name":"某工地","site_type":"enterprise","quotas":{"construction":30}}');
                "#,
            )
            .unwrap();
        }
        let store = crate::DeviceStore::open(&path, &crate::test_key()).unwrap();
        assert_eq!(schema_version(&store.conn).unwrap(), MIGRATIONS.len());
        assert_eq!(store.identity().unwrap().unwrap().round, "2026");
        assert_eq!(store.sites().unwrap()[0].quotas["construction"], 30);
        assert_eq!(
            store.round_settings().unwrap(),
            zhisu_protocol::RoundSettings::default(),
            "no settings delivered yet: the defaults (answer key shown)"
        );
    }

    #[test]
    fn an_interview_in_progress_at_version_6_resumes_and_records_screen_visits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.sqlite3");
        let id = uuid::Uuid::from_u128(6);
        {
            let mut conn = Connection::open(&path).unwrap();
            migrate_to(&mut conn, 6).unwrap();
            conn.execute_batch(
                r#"
                INSERT INTO interview (id, questionnaire_id, questionnaire_version, state, started_at, utc_offset_minutes)
                VALUES ('00000000-0000-0000-0000-000000000006', 'ohl_pilot', '2026.1', 'in_progress', '2026-11-29T08:00:00.000Z', 480);
                INSERT INTO answer VALUES ('00000000-0000-0000-0000-000000000006', 'age', '{"type":"integer","value":30}', '2026-11-29T08:01:00.000Z');
                INSERT INTO answer_event (interview_id, item_id, old_value, new_value, recorded_at, elapsed_ms)
                VALUES ('00000000-0000-0000-0000-000000000006', 'age', NULL, '{"type":"integer","value":30}', '2026-11-29T08:01:00.000Z', 60000);
                "#,
            )
            .unwrap();
        }
        let mut store = crate::DeviceStore::open(&path, &crate::test_key()).unwrap();
        assert_eq!(schema_version(&store.conn).unwrap(), MIGRATIONS.len());
        assert!(store.screen_visits(id).unwrap().is_empty());
        store.screen_shown(id, Some("employer_duty")).unwrap();
        let visits = store.screen_visits(id).unwrap();
        assert_eq!(visits.len(), 1);
        assert!(
            visits[0].shown_ms >= 60_000,
            "the interview's clock resumes from its last answer: {visits:?}"
        );
    }

    #[test]
    fn interviews_from_version_7_have_no_language_and_preferences_start_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.sqlite3");
        let id = uuid::Uuid::from_u128(7);
        {
            let mut conn = Connection::open(&path).unwrap();
            migrate_to(&mut conn, 7).unwrap();
            conn.execute_batch(
                r#"
                INSERT INTO interview (id, questionnaire_id, questionnaire_version, state, started_at, utc_offset_minutes)
                VALUES ('00000000-0000-0000-0000-000000000007', 'ohl_pilot', '2026.1', 'in_progress', '2026-11-29T08:00:00.000Z', 480);
                INSERT INTO screen_visit (interview_id, item_id, shown_ms, left_ms)
                VALUES ('00000000-0000-0000-0000-000000000007', 'age', 0, 1500);
                "#,
            )
            .unwrap();
        }
        let mut store = crate::DeviceStore::open(&path, &crate::test_key()).unwrap();
        let interview = store.interview(id).unwrap();
        assert_eq!(interview.language, None);
        assert_eq!(store.screen_visits(id).unwrap()[0].left_ms, 1500);
        assert_eq!(store.preference("language").unwrap(), None);
        store.set_preference("language", "en").unwrap();
        assert_eq!(store.preference("language").unwrap().as_deref(), Some("en"));
    }

    #[test]
    fn a_device_at_version_8_keeps_its_preferences_and_starts_without_surveyors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.sqlite3");
        {
            let mut conn = Connection::open(&path).unwrap();
            migrate_to(&mut conn, 8).unwrap();
            conn.execute_batch(
                "INSERT INTO preference VALUES ('language', 'en'), ('site', 'yz-001');",
            )
            .unwrap();
        }
        let mut store = crate::DeviceStore::open(&path, &crate::test_key()).unwrap();
        assert_eq!(store.preference("language").unwrap().as_deref(), Some("en"));
        assert!(store.surveyors().unwrap().is_empty());
        store
            .add_surveyor("S01", "张三", "1234", chrono::Utc::now())
            .unwrap();
        assert!(store.check_pin("S01", "1234").unwrap());
    }

    #[test]
    fn an_interview_in_progress_at_version_9_gets_its_end_location() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.sqlite3");
        let id = uuid::Uuid::from_u128(9);
        {
            let mut conn = Connection::open(&path).unwrap();
            migrate_to(&mut conn, 9).unwrap();
            conn.execute_batch(
                r#"
                INSERT INTO interview (id, questionnaire_id, questionnaire_version, state, started_at, utc_offset_minutes)
                VALUES ('00000000-0000-0000-0000-000000000009', 'ohl_pilot', '2026.1', 'in_progress', '2026-11-29T08:00:00.000Z', 480);
                INSERT INTO surveyor VALUES ('S01', '张三', 'salt', 'hash', '2026-11-29T08:00:00.000Z');
                "#,
            )
            .unwrap();
        }
        let mut store = crate::DeviceStore::open(&path, &crate::test_key()).unwrap();
        assert_eq!(store.surveyors().unwrap()[0].name, "张三");
        store
            .record_location(id, crate::LocationMoment::End, 29.5563, 106.577, 15.0)
            .unwrap();
        let (start, end) = store.locations(id).unwrap();
        assert!(start.is_none());
        assert_eq!(end.unwrap().accuracy_m, 15.0);
    }

    #[test]
    fn surveyors_at_version_10_sign_in_and_wrong_pins_are_then_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.sqlite3");
        let now = chrono::Utc::now();
        {
            let mut conn = Connection::open(&path).unwrap();
            migrate_to(&mut conn, 10).unwrap();
            conn.execute(
                "INSERT INTO surveyor VALUES ('S01', '张三', 'salt', ?1, '2026-11-29T08:00:00.000Z')",
                [crate::surveyors::pin_hash("salt", "1234")],
            )
            .unwrap();
        }
        let mut store = crate::DeviceStore::open(&path, &crate::test_key()).unwrap();
        assert_eq!(
            store.sign_in_surveyor("S01", "1234", now).unwrap().name,
            "张三"
        );
        for _ in 0..crate::PIN_TRIES {
            assert_eq!(
                store
                    .sign_in_surveyor("S01", "0000", now)
                    .unwrap_err()
                    .code(),
                "wrong_pin"
            );
        }
        assert_eq!(
            store
                .sign_in_surveyor("S01", "1234", now)
                .unwrap_err()
                .code(),
            "too_many_attempts"
        );
    }

    #[test]
    fn interviews_from_version_14_get_a_fingerprint_when_checked_and_old_ended_ones_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.sqlite3");
        let (ended, open) = (uuid::Uuid::from_u128(14), uuid::Uuid::from_u128(15));
        {
            let mut conn = Connection::open(&path).unwrap();
            migrate_to(&mut conn, 14).unwrap();
            conn.execute_batch(
                r#"
                INSERT INTO interview (id, questionnaire_id, questionnaire_version, state, started_at, utc_offset_minutes, completed_at, site_id, sealed, disposition)
                VALUES ('00000000-0000-0000-0000-00000000000e', 'ohl_pilot', '2026.1', 'completed', '2026-11-29T08:00:00.000Z', 480, '2026-11-29T08:09:00.000Z', 'yz-001', '{}', 'completed');
                INSERT INTO interview (id, questionnaire_id, questionnaire_version, state, started_at, utc_offset_minutes, site_id)
                VALUES ('00000000-0000-0000-0000-00000000000f', 'ohl_pilot', '2026.1', 'in_progress', '2026-11-29T08:20:00.000Z', 480, 'yz-001');
                INSERT INTO answer VALUES ('00000000-0000-0000-0000-00000000000f', 'age', '{"type":"integer","value":30}', '2026-11-29T08:21:00.000Z');
                "#,
            )
            .unwrap();
        }
        let mut store = crate::DeviceStore::open(&path, &crate::test_key()).unwrap();
        assert_eq!(schema_version(&store.conn).unwrap(), MIGRATIONS.len());
        assert_eq!(store.kept_fingerprint(ended).unwrap(), (None, None));
        assert_eq!(store.kept_fingerprint(open).unwrap(), (None, None));
        let q = zhisu_core::Questionnaire::from_toml(
            "pilot.toml",
            include_str!("../../../questionnaires/pilot.toml"),
        )
        .unwrap();
        // sealed before fingerprints were kept: nothing to compare with, so no match
        assert_eq!(
            store.repeat_respondent(&q, open).unwrap(),
            crate::RepeatCheck::NoMatch
        );
        let (kept, day) = store.kept_fingerprint(open).unwrap();
        assert_eq!(kept.unwrap().len(), zhisu_core::FINGERPRINT_HEX_DIGITS);
        assert_eq!(day.as_deref(), Some("2026-11-29"));
    }

    #[test]
    fn a_device_at_version_22_keeps_its_interviews_and_starts_with_no_recontact_answers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.sqlite3");
        let id = uuid::Uuid::from_u128(22);
        {
            let mut conn = Connection::open(&path).unwrap();
            migrate_to(&mut conn, 22).unwrap();
            conn.execute_batch(
                r#"
                INSERT INTO interview (id, questionnaire_id, questionnaire_version, state, started_at, utc_offset_minutes, completed_at, site_id, payload, disposition)
                VALUES ('00000000-0000-0000-0000-000000000016', 'ohl_pilot', '2026.1', 'acknowledged', '2026-11-29T08:00:00.000Z', 480, '2026-11-29T08:09:00.000Z', 'yz-001', '{}', 'completed');
                INSERT INTO round_settings (singleton, settings) VALUES (1, '{"show_answer_key":true,"backcheck":{"share_percent":5.0,"min_per_surveyor_week":1,"items":["age"],"fail_below_percent":80}}');
                "#,
            )
            .unwrap();
        }
        let mut store = crate::DeviceStore::open(&path, &crate::test_key()).unwrap();
        assert_eq!(schema_version(&store.conn).unwrap(), MIGRATIONS.len());
        assert!(store.kept_recontact(id).unwrap().is_none());
        assert!(store.asks_recontact(id).unwrap());
        store
            .answer_recontact(id, true, "13800001234", "", chrono::Utc::now())
            .unwrap();
        assert_eq!(store.waiting_recontacts(10).unwrap().len(), 1);
        // a phone number without a yes cannot be stored, whatever writes the row
        assert!(store
            .conn
            .execute(
                "INSERT INTO recontact (interview_id, consent, consent_text_version, phone, answered_at, state)
                 VALUES ('x', 0, 'v', '13800001234', '2026-12-06T00:00:00.000Z', 'declined')",
                [],
            )
            .is_err());
    }

    #[test]
    fn newer_database_is_refused_and_left_alone() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let newer = MIGRATIONS.len() as i64 + 1;
        conn.pragma_update(None, "user_version", newer).unwrap();
        let before = schema(&conn);
        let err = migrate(&mut conn).unwrap_err();
        assert!(matches!(err, StoreError::NewerSchema { .. }), "{err}");
        assert!(err.to_string().contains("newer version of Zhisu"), "{err}");
        assert_eq!(schema(&conn), before);
        assert_eq!(schema_version(&conn).unwrap(), newer as usize);
    }
}
