//! The schema: append-only migrations.

/// Append-only: migration `i` takes `user_version` from `i` to `i + 1`. Never edit a shipped one.
pub const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE interview (
        id                    TEXT PRIMARY KEY NOT NULL,
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        content_hash          TEXT NOT NULL,
        started_at            TEXT NOT NULL,
        completed_at          TEXT NOT NULL,
        utc_offset_minutes    INTEGER NOT NULL,
        received_at           TEXT NOT NULL,
        payload               TEXT NOT NULL,     -- the interview exactly as uploaded (JSON)
        score                 INTEGER NOT NULL,  -- re-scored here with the core
        max_score             INTEGER NOT NULL,
        has_literacy          INTEGER NOT NULL,
        score_report          TEXT NOT NULL      -- ScoreReport as JSON
    ) STRICT;
    CREATE INDEX interview_questionnaire ON interview (questionnaire_id, questionnaire_version);
    "#,
    // 2: devices and their enrolment, sites and quotas, the audit log; which device sent what.
    r#"
    ALTER TABLE interview ADD COLUMN device_id TEXT;
    CREATE TABLE enrolment_code (
        code_hash  TEXT PRIMARY KEY NOT NULL,
        round      TEXT NOT NULL,
        district   TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at    TEXT,
        device_id  TEXT
    ) STRICT;
    CREATE TABLE device (
        id           TEXT PRIMARY KEY NOT NULL,
        name         TEXT NOT NULL,
        round        TEXT NOT NULL,
        district     TEXT NOT NULL,
        token_hash   TEXT NOT NULL UNIQUE,
        enrolled_at  TEXT NOT NULL,
        revoked_at   TEXT,
        last_seen_at TEXT
    ) STRICT;
    CREATE TABLE site (
        id        TEXT PRIMARY KEY NOT NULL,
        district  TEXT NOT NULL,
        name      TEXT NOT NULL,
        site_type TEXT NOT NULL,
        industry  TEXT,
        ownership TEXT,
        size      TEXT,
        quotas    TEXT NOT NULL              -- JSON object: population -> interviews wanted
    ) STRICT;
    CREATE INDEX site_district ON site (district, id);
    CREATE TABLE audit_log (
        seq    INTEGER PRIMARY KEY AUTOINCREMENT,
        at     TEXT NOT NULL,
        actor  TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    ) STRICT;
    "#,
    // 3: people, roles and sessions; interviews keep their district and population for scoping.
    r#"
    ALTER TABLE interview ADD COLUMN district TEXT;
    ALTER TABLE interview ADD COLUMN population TEXT;
    CREATE INDEX interview_district ON interview (district, received_at);
    CREATE INDEX interview_population ON interview (population, received_at);
    CREATE TABLE person (
        id            TEXT PRIMARY KEY NOT NULL,
        username      TEXT NOT NULL UNIQUE,
        display_name  TEXT NOT NULL,
        password_hash TEXT NOT NULL,          -- Argon2id, PHC string
        role          TEXT NOT NULL,
        district      TEXT,
        populations   TEXT NOT NULL,          -- JSON array, for department viewers
        created_at    TEXT NOT NULL,
        disabled_at   TEXT
    ) STRICT;
    CREATE TABLE session (
        token_hash TEXT PRIMARY KEY NOT NULL,
        person_id  TEXT NOT NULL REFERENCES person (id),
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        ended_at   TEXT
    ) STRICT;
    "#,
    // 4: a site's id is unique within its district, not across the city.
    r#"
    CREATE TABLE site_v4 (
        id        TEXT NOT NULL,
        district  TEXT NOT NULL,
        name      TEXT NOT NULL,
        site_type TEXT NOT NULL,
        industry  TEXT,
        ownership TEXT,
        size      TEXT,
        quotas    TEXT NOT NULL,
        PRIMARY KEY (district, id)
    ) STRICT;
    INSERT INTO site_v4 SELECT id, district, name, site_type, industry, ownership, size, quotas FROM site;
    DROP TABLE site;
    ALTER TABLE site_v4 RENAME TO site;
    "#,
    // 5: questionnaire versions published for a round.
    r#"
    CREATE TABLE questionnaire (
        id           TEXT NOT NULL,
        version      TEXT NOT NULL,
        round        TEXT NOT NULL,
        hash         TEXT NOT NULL,
        source       TEXT NOT NULL,
        published_at TEXT NOT NULL,
        published_by TEXT NOT NULL,
        PRIMARY KEY (id, version)
    ) STRICT;
    "#,
    // 6: the facts the dashboard reads, as plain columns; quality-control review; sample-plan
    // fields of a site (stratum, weight, position). Rows stored before this migration get their
    // facts when the server next starts (`ServerState::backfill_facts`).
    r#"
    ALTER TABLE interview ADD COLUMN site_id TEXT;
    ALTER TABLE interview ADD COLUMN surveyor_id TEXT;
    ALTER TABLE interview ADD COLUMN sex TEXT;
    ALTER TABLE interview ADD COLUMN age INTEGER;
    ALTER TABLE interview ADD COLUMN education TEXT;
    ALTER TABLE interview ADD COLUMN industry TEXT;
    ALTER TABLE interview ADD COLUMN dimension_literacy INTEGER;   -- bit i: literacy in dimension i
    ALTER TABLE interview ADD COLUMN items_correct TEXT;           -- per scored item: 1, 0 or -
    ALTER TABLE interview ADD COLUMN duration_s INTEGER;
    ALTER TABLE interview ADD COLUMN fingerprint TEXT;
    ALTER TABLE interview ADD COLUMN qc_flags TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE interview ADD COLUMN qc_status TEXT NOT NULL DEFAULT 'unreviewed';
    ALTER TABLE interview ADD COLUMN qc_comment TEXT;
    ALTER TABLE interview ADD COLUMN qc_reviewer TEXT;
    ALTER TABLE interview ADD COLUMN qc_reviewed_at TEXT;
    CREATE INDEX interview_qc ON interview (qc_status, district);
    CREATE INDEX interview_device ON interview (device_id, qc_status);
    CREATE INDEX interview_fingerprint ON interview (district, fingerprint);
    ALTER TABLE site ADD COLUMN stratum TEXT;
    ALTER TABLE site ADD COLUMN weight REAL;
    ALTER TABLE site ADD COLUMN latitude REAL;
    ALTER TABLE site ADD COLUMN longitude REAL;
    ALTER TABLE device ADD COLUMN pending INTEGER;       -- interviews waiting on it, as it last said
    CREATE TABLE round_settings (
        round    TEXT PRIMARY KEY NOT NULL,
        settings TEXT NOT NULL                          -- RoundSettings as JSON
    ) STRICT;
    "#,
    // 7: literacy cells (crate::cells): counts per questionnaire, district, site, population and
    // breakdown key, and progress cells per district, site, population and day, kept with every
    // write that changes what the analyses count. Filled from the stored interviews once the
    // schema reaches `CELLS_SCHEMA` (`SqliteStorage::open`).
    r#"
    CREATE TABLE literacy_cell (
        questionnaire_id TEXT NOT NULL,
        district         TEXT NOT NULL,  -- '' when none, as in every key column here
        site_id          TEXT NOT NULL,
        population       TEXT NOT NULL,
        breakdown        TEXT NOT NULL,  -- all, dimension, industry, sex, age_band, education
        key              TEXT NOT NULL,
        n                INTEGER NOT NULL,
        successes        INTEGER NOT NULL,
        PRIMARY KEY (questionnaire_id, district, site_id, population, breakdown, key)
    ) STRICT, WITHOUT ROWID;
    -- interviews per district, site, population and local day, every questionnaire, rejected
    -- ones left out (the progress view)
    CREATE TABLE progress_cell (
        district   TEXT NOT NULL,
        site_id    TEXT NOT NULL,
        population TEXT NOT NULL,
        day        TEXT NOT NULL,
        n          INTEGER NOT NULL,
        PRIMARY KEY (district, site_id, population, day)
    ) STRICT, WITHOUT ROWID;
    "#,
    // 8: sign-in attempts per username (by the hash of the username), shared by every server
    // process and never pushed out by other usernames (people::SignInAttempts).
    r#"
    CREATE TABLE sign_in_attempt (
        key          TEXT PRIMARY KEY,
        failures     INTEGER NOT NULL,
        last_at      TEXT NOT NULL,
        paused_until TEXT
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX sign_in_attempt_last ON sign_in_attempt (last_at);
    "#,
    // 9: one row the readiness check writes, so that "ready" means a write can commit.
    r#"
    CREATE TABLE readiness (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        checked_at TEXT NOT NULL
    ) STRICT;
    "#,
    // 10: recordings of questionnaires read aloud (media): the bytes once per SHA-256, and which
    // item's question or answer of which questionnaire version each is the recording of.
    r#"
    CREATE TABLE media_blob (
        sha256    TEXT PRIMARY KEY,
        kind      TEXT NOT NULL,
        size      INTEGER NOT NULL,
        bytes     BLOB NOT NULL,
        stored_at TEXT NOT NULL
    ) STRICT;
    CREATE TABLE recording (
        questionnaire_id TEXT NOT NULL,
        version          TEXT NOT NULL,
        item_id          TEXT NOT NULL,
        option_key       TEXT NOT NULL,  -- '' for the question
        sha256           TEXT NOT NULL REFERENCES media_blob (sha256),
        recorded_at      TEXT NOT NULL,
        recorded_by      TEXT NOT NULL,
        PRIMARY KEY (questionnaire_id, version, item_id, option_key)
    ) STRICT, WITHOUT ROWID;
    "#,
    // 11: token buckets (device requests, enrolment attempts) kept here so that every server
    // process on this database limits alike; a bucket full again (full_at passed) is forgotten.
    r#"
    CREATE TABLE rate_bucket (
        key     TEXT PRIMARY KEY,
        tokens  REAL NOT NULL,
        at      TEXT NOT NULL,
        full_at TEXT NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX rate_bucket_full ON rate_bucket (full_at);
    "#,
    // 12: reference levels and targets a city administrator enters per round (references):
    // figures from outside the survey shown beside its estimates.
    r#"
    CREATE TABLE reference_level (
        id               TEXT PRIMARY KEY NOT NULL,
        round            TEXT NOT NULL,
        questionnaire_id TEXT NOT NULL,
        measure          TEXT NOT NULL,  -- '' for overall literacy, else a dimension id
        kind             TEXT NOT NULL,  -- target, city, national, other
        value_percent    REAL NOT NULL,
        source           TEXT NOT NULL,
        year             INTEGER NOT NULL,
        entered_by       TEXT NOT NULL,
        entered_at       TEXT NOT NULL
    ) STRICT;
    CREATE INDEX reference_level_questionnaire ON reference_level (questionnaire_id, round);
    "#,
    // 13: the facts of the estimate tables (facts::Facts): the further breakdowns' keys, each
    // population module's literacy and each measured item's outcome, so that the tables read
    // narrow rows, never payloads. Interviews stored before wait for the backfill at start-up
    // (measures IS NULL; the partial index keeps finding them linear and empties as they fill).
    r#"
    ALTER TABLE interview ADD COLUMN employer_size TEXT;
    ALTER TABLE interview ADD COLUMN ownership TEXT;
    ALTER TABLE interview ADD COLUMN employment_form TEXT;
    ALTER TABLE interview ADD COLUMN migrant TEXT;
    ALTER TABLE interview ADD COLUMN modules TEXT;
    ALTER TABLE interview ADD COLUMN measures TEXT;
    CREATE INDEX interview_without_measures ON interview (id) WHERE measures IS NULL;
    -- interviews read page by page in order of receipt (interviews_page: exports, the API;
    -- PostgreSQL has had this index from its first schema)
    CREATE INDEX IF NOT EXISTS interview_received ON interview (received_at, id);
    -- The facts generation (facts_cache): moved by every write to the interviews or the
    -- sample plan, in its own transaction, whatever wrote it, so that a report never reads
    -- facts older than what was committed before it started.
    CREATE TABLE facts_generation (n INTEGER NOT NULL) STRICT;
    INSERT INTO facts_generation (n) VALUES (0);
    CREATE TRIGGER IF NOT EXISTS interview_inserted AFTER INSERT ON interview
        BEGIN UPDATE facts_generation SET n = n + 1; END;
    CREATE TRIGGER IF NOT EXISTS interview_updated AFTER UPDATE ON interview
        BEGIN UPDATE facts_generation SET n = n + 1; END;
    CREATE TRIGGER IF NOT EXISTS interview_deleted AFTER DELETE ON interview
        BEGIN UPDATE facts_generation SET n = n + 1; END;
    CREATE TRIGGER IF NOT EXISTS site_inserted AFTER INSERT ON site
        BEGIN UPDATE facts_generation SET n = n + 1; END;
    CREATE TRIGGER IF NOT EXISTS site_updated AFTER UPDATE ON site
        BEGIN UPDATE facts_generation SET n = n + 1; END;
    CREATE TRIGGER IF NOT EXISTS site_deleted AFTER DELETE ON site
        BEGIN UPDATE facts_generation SET n = n + 1; END;
    "#,
    // 14 (#18, privacy): the ids of interviews erased at their respondent's request, so that a
    // tablet or backup sending one again does not store it again; nothing else of them is kept.
    r#"
    CREATE TABLE erased_interview (
        id        TEXT PRIMARY KEY NOT NULL,
        erased_at TEXT NOT NULL
    ) STRICT;
    "#,
    // 15 (#18, privacy): how to re-contact a respondent for a back-check, kept apart from the
    // answers (never in the payload, an export or the interview list), deleted after
    // delete_after by the retention purge or with its interview when that is erased.
    r#"
    CREATE TABLE recontact (
        interview_id          TEXT PRIMARY KEY NOT NULL,
        contact               TEXT NOT NULL,
        consent_text_version  TEXT NOT NULL,
        stored_at             TEXT NOT NULL,
        delete_after          TEXT NOT NULL
    ) STRICT;
    CREATE INDEX recontact_delete_after ON recontact (delete_after);
    "#,
    // 16 (#18, privacy): the respondent's consent and the version of the consent text they
    // answered, kept with each interview at ingest (facts::consent_text_version); NULL for
    // interviews stored before (the export then reads them from the payload and questionnaire).
    r#"
    ALTER TABLE interview ADD COLUMN consent INTEGER;
    ALTER TABLE interview ADD COLUMN consent_text_version TEXT;
    "#,
    // 17 (issue 15): contacts that ended otherwise than in a completed interview (partial,
    // refused, not_eligible, other), stored once by id and content hash like interviews.
    r#"
    CREATE TABLE contact (
        id                    TEXT PRIMARY KEY NOT NULL,
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        content_hash          TEXT NOT NULL,
        disposition           TEXT NOT NULL,
        started_at            TEXT NOT NULL,
        ended_at              TEXT NOT NULL,
        received_at           TEXT NOT NULL,
        device_id             TEXT,
        district              TEXT,
        site_id               TEXT,
        surveyor_id           TEXT,
        population            TEXT,
        items_answered        INTEGER NOT NULL,
        reason                TEXT,
        excluded_by           TEXT NOT NULL,  -- JSON array of item ids
        payload               TEXT NOT NULL   -- the contact exactly as uploaded (JSON)
    ) STRICT;
    CREATE INDEX contact_district ON contact (district, disposition);
    "#,
    // 18 (issue 24): outreach events district staff record, and the quiz sessions tablets run
    // at them, stored once by id and content hash; never read by an estimate or progress.
    r#"
    CREATE TABLE outreach_event (
        id          TEXT PRIMARY KEY NOT NULL,
        district    TEXT NOT NULL,
        population  TEXT,
        date        TEXT NOT NULL,
        entered_by  TEXT NOT NULL,
        entered_at  TEXT NOT NULL,
        payload     TEXT NOT NULL   -- the event as delivered to tablets (JSON)
    ) STRICT;
    CREATE INDEX outreach_event_district ON outreach_event (district, date);
    CREATE TABLE quiz_session (
        id                    TEXT PRIMARY KEY NOT NULL,
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        content_hash          TEXT NOT NULL,
        started_at            TEXT NOT NULL,
        received_at           TEXT NOT NULL,
        device_id             TEXT,
        district              TEXT,
        population            TEXT,
        event_id              TEXT,
        site_id               TEXT,
        payload               TEXT NOT NULL   -- the session exactly as uploaded (JSON)
    ) STRICT;
    CREATE INDEX quiz_session_district ON quiz_session (district, started_at);
    "#,
    // 19 (issue 24): the education library, every version of every piece kept (an edit adds
    // a version); the newest of each is delivered to tablets.
    r#"
    CREATE TABLE library_piece (
        id         TEXT NOT NULL,
        version    INTEGER NOT NULL,
        points     TEXT NOT NULL,              -- JSON array of knowledge points (item ids)
        title      TEXT NOT NULL,
        body       TEXT NOT NULL,
        source     TEXT NOT NULL,
        written_by TEXT NOT NULL,
        written_at TEXT NOT NULL,
        PRIMARY KEY (id, version)
    ) STRICT;
    "#,
    // 20 (issue 24, surveyor training): practice interviews, in a table of their own so that
    // no reader of the survey's interviews (estimates, cells, facts, progress, quality control,
    // exports, reports) can count one; stored once by id and content hash, without answers.
    r#"
    CREATE TABLE practice_interview (
        id                    TEXT PRIMARY KEY NOT NULL,
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        content_hash          TEXT NOT NULL,
        device_id             TEXT,
        district              TEXT,
        site_id               TEXT,
        surveyor_id           TEXT,
        population            TEXT,
        started_at            TEXT NOT NULL,
        completed_at          TEXT NOT NULL,
        received_at           TEXT NOT NULL,
        duration_s            INTEGER NOT NULL,
        score                 INTEGER NOT NULL,
        max_score             INTEGER NOT NULL,
        qc_flags              TEXT NOT NULL      -- JSON array of zhisu_core::QcFlag
    ) STRICT;
    CREATE INDEX practice_interview_district ON practice_interview (district, surveyor_id);
    "#,
    // 21 (issue 15): surveyors managed on the server, delivered to their district's tablets.
    // The PIN is kept only as the Argon2id verifier the tablets receive; an id is never reused
    // (a retired surveyor keeps their row).
    r#"
    CREATE TABLE field_surveyor (
        id           TEXT PRIMARY KEY NOT NULL,
        district     TEXT NOT NULL,
        name         TEXT NOT NULL,
        pin_verifier TEXT NOT NULL,
        added_by     TEXT NOT NULL,
        added_at     TEXT NOT NULL,
        pin_set_at   TEXT NOT NULL,
        retired_at   TEXT
    ) STRICT;
    CREATE INDEX field_surveyor_district ON field_surveyor (district, id);
    "#,
    // 22 (issue 15, intercept surveys at stations): the travel direction's key (facts::Facts::more, background role
    // travel_direction), NULL for interviews stored before and for questionnaires without the
    // item; a site's time-slot quotas for travel peaks (zhisu_protocol::TimeSlot, a JSON
    // array; NULL: none).
    r#"
    ALTER TABLE interview ADD COLUMN travel_direction TEXT;
    ALTER TABLE site ADD COLUMN time_slots TEXT;
    "#,
    // 23 (issue 24): a library piece's picture and recording read aloud, carried in the piece
    // (JSON: {"picture": {kind, data, alt}, "audio": {kind, data}}); NULL for a piece with
    // neither, as every piece written before.
    r#"
    ALTER TABLE library_piece ADD COLUMN media TEXT;
    "#,
    // 24 (issue 15, back-checks 复核): each draw with its seed, and the tasks it drew (one per
    // interview), each with its result stored once by content hash. Appended after main's
    // migrations (21 surveyors, 23 intercept, 24 library media).
    r#"
    CREATE TABLE backcheck_draw (
        id          TEXT PRIMARY KEY NOT NULL,
        round       TEXT NOT NULL,
        district    TEXT,
        seed        TEXT NOT NULL,      -- a decimal u64
        drawn_at    TEXT NOT NULL,
        drawn_by    TEXT NOT NULL,
        candidates  INTEGER NOT NULL,
        drawn       INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE backcheck_task (
        id                    TEXT PRIMARY KEY NOT NULL,
        draw_id               TEXT NOT NULL REFERENCES backcheck_draw (id),
        interview_id          TEXT NOT NULL UNIQUE,
        round                 TEXT NOT NULL,
        district              TEXT,
        population            TEXT,
        original_surveyor     TEXT,
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        items                 TEXT NOT NULL,   -- JSON array of item ids
        original              TEXT NOT NULL,   -- JSON: the interview's answers to them
        drawn_at              TEXT NOT NULL,
        content_hash          TEXT,            -- the result's; NULL while open
        result                TEXT             -- BackcheckResult as JSON; NULL while open
    ) STRICT;
    CREATE INDEX backcheck_task_district ON backcheck_task (district, drawn_at);
    "#,
    // 25 (issue 22): app packages a city administrator uploads for tablets to update
    // themselves, with the release signature made offline; one per platform and version.
    r#"
    CREATE TABLE app_package (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        version     TEXT NOT NULL,
        platform    TEXT NOT NULL,
        size        INTEGER NOT NULL,
        sha256      TEXT NOT NULL,
        signature   TEXT NOT NULL,
        notes_zh    TEXT NOT NULL,
        notes_en    TEXT NOT NULL,
        uploaded_at TEXT NOT NULL,
        uploaded_by TEXT NOT NULL,
        bytes       BLOB NOT NULL,
        UNIQUE (platform, version)
    ) STRICT;
    "#,
    // 26 (issue 19): the quality-control queue and counts chosen from an index alone. Every
    // column they look at was added after the payload, so a scan of the table walked each
    // interview's payload: seconds at 80,000 interviews, most of the server's time under R6.
    r#"
    CREATE INDEX interview_qc_queue ON interview
        (completed_at DESC, id, district, population, qc_status, qc_flags, fingerprint);
    "#,
    // 27 (issue 19): item cells (crate::cells): per questionnaire version, district, site and
    // population, the interviews asked each scored item and those that answered it correctly,
    // kept with every write that changes what the analyses count. The weakest items read these
    // instead of every interview's facts. Filled from the stored interviews right after this
    // migration (`SqliteStorage::open`).
    r#"
    CREATE TABLE item_cell (
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        district              TEXT NOT NULL,  -- '' when none, as in every key column here
        site_id               TEXT NOT NULL,
        population            TEXT NOT NULL,
        asked                 TEXT NOT NULL,  -- per scored item in the version's order: '3,0,12'
        correct               TEXT NOT NULL,  -- likewise, those answered correctly
        PRIMARY KEY (questionnaire_id, questionnaire_version, district, site_id, population)
    ) STRICT, WITHOUT ROWID;
    "#,
];

/// The schema version that added the last kind of cells (the item cells): every database
/// older than it has its cells counted again from its interviews right after this migration
/// (those older than 7, the literacy and progress cells' version, had none).
pub(crate) const CELLS_SCHEMA: usize = 27;
