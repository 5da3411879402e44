//! The schema: append-only migrations.

/// Append-only: migration `i` takes the version in `zhisu_schema` from `i` to `i + 1`.
/// Public so the migration test can replay history; never edit a shipped entry.
pub const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE interview (
        id                    UUID PRIMARY KEY,
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        content_hash          TEXT NOT NULL,
        started_at            TIMESTAMPTZ NOT NULL,
        completed_at          TIMESTAMPTZ NOT NULL,
        utc_offset_minutes    INTEGER NOT NULL,
        received_at           TIMESTAMPTZ NOT NULL,
        payload               JSONB NOT NULL,
        score                 INTEGER NOT NULL,
        max_score             INTEGER NOT NULL,
        has_literacy          BOOLEAN NOT NULL,
        score_report          JSONB NOT NULL
    );
    CREATE INDEX interview_questionnaire ON interview (questionnaire_id, questionnaire_version);
    CREATE INDEX interview_received ON interview (received_at, id);
    "#,
    // 2: devices and their enrolment, sites and quotas, the audit log; which device sent what.
    r#"
    ALTER TABLE interview ADD COLUMN device_id UUID;
    CREATE TABLE enrolment_code (
        code_hash  TEXT PRIMARY KEY,
        round      TEXT NOT NULL,
        district   TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        used_at    TIMESTAMPTZ,
        device_id  UUID
    );
    CREATE TABLE device (
        id           UUID PRIMARY KEY,
        name         TEXT NOT NULL,
        round        TEXT NOT NULL,
        district     TEXT NOT NULL,
        token_hash   TEXT NOT NULL UNIQUE,
        enrolled_at  TIMESTAMPTZ NOT NULL,
        revoked_at   TIMESTAMPTZ,
        last_seen_at TIMESTAMPTZ
    );
    CREATE TABLE site (
        id        TEXT PRIMARY KEY,
        district  TEXT NOT NULL,
        name      TEXT NOT NULL,
        site_type TEXT NOT NULL,
        industry  TEXT,
        ownership TEXT,
        size      TEXT,
        quotas    JSONB NOT NULL
    );
    CREATE INDEX site_district ON site (district, id);
    CREATE TABLE audit_log (
        seq    BIGSERIAL PRIMARY KEY,
        at     TIMESTAMPTZ NOT NULL,
        actor  TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    "#,
    // 3: people, roles and sessions; interviews keep their district and population for scoping.
    r#"
    ALTER TABLE interview ADD COLUMN district TEXT;
    ALTER TABLE interview ADD COLUMN population TEXT;
    CREATE INDEX interview_district ON interview (district, received_at);
    CREATE INDEX interview_population ON interview (population, received_at);
    CREATE TABLE person (
        id            UUID PRIMARY KEY,
        username      TEXT NOT NULL UNIQUE,
        display_name  TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        role          TEXT NOT NULL,
        district      TEXT,
        populations   JSONB NOT NULL,
        created_at    TIMESTAMPTZ NOT NULL,
        disabled_at   TIMESTAMPTZ
    );
    CREATE TABLE session (
        token_hash TEXT PRIMARY KEY,
        person_id  UUID NOT NULL REFERENCES person (id),
        created_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        ended_at   TIMESTAMPTZ
    );
    "#,
    // 4: a site's id is unique within its district, not across the city.
    r#"
    ALTER TABLE site DROP CONSTRAINT site_pkey;
    ALTER TABLE site ADD PRIMARY KEY (district, id);
    DROP INDEX site_district;
    "#,
    // 5: questionnaire versions published for a round.
    r#"
    CREATE TABLE questionnaire (
        id           TEXT NOT NULL,
        version      TEXT NOT NULL,
        round        TEXT NOT NULL,
        hash         TEXT NOT NULL,
        source       TEXT NOT NULL,
        published_at TIMESTAMPTZ NOT NULL,
        published_by TEXT NOT NULL,
        PRIMARY KEY (id, version)
    );
    "#,
    // 6: the verbatim payload and the (slimmer) score report as `json`, which stores the text
    // as given (the server only reads them back whole; `jsonb` parsed and re-encoded every row);
    // the facts the dashboard reads as plain columns; quality-control review; sample-plan fields
    // of a site. Rows stored before get their facts when the server next starts.
    r#"
    ALTER TABLE interview ALTER COLUMN payload TYPE json USING payload::json;
    ALTER TABLE interview ALTER COLUMN score_report TYPE json USING score_report::json;
    ALTER TABLE interview
        ADD COLUMN site_id TEXT,
        ADD COLUMN surveyor_id TEXT,
        ADD COLUMN sex TEXT,
        ADD COLUMN age INTEGER,
        ADD COLUMN education TEXT,
        ADD COLUMN industry TEXT,
        ADD COLUMN dimension_literacy INTEGER,
        ADD COLUMN items_correct TEXT,
        ADD COLUMN duration_s INTEGER,
        ADD COLUMN fingerprint TEXT,
        ADD COLUMN qc_flags JSONB NOT NULL DEFAULT '[]',
        ADD COLUMN qc_status TEXT NOT NULL DEFAULT 'unreviewed',
        ADD COLUMN qc_comment TEXT,
        ADD COLUMN qc_reviewer TEXT,
        ADD COLUMN qc_reviewed_at TIMESTAMPTZ;
    CREATE INDEX interview_qc ON interview (qc_status, district);
    CREATE INDEX interview_device ON interview (device_id, qc_status);
    CREATE INDEX interview_fingerprint ON interview (district, fingerprint);
    ALTER TABLE site
        ADD COLUMN stratum TEXT,
        ADD COLUMN weight DOUBLE PRECISION,
        ADD COLUMN latitude DOUBLE PRECISION,
        ADD COLUMN longitude DOUBLE PRECISION;
    ALTER TABLE device ADD COLUMN pending INTEGER;
    CREATE TABLE round_settings (
        round    TEXT PRIMARY KEY,
        settings JSONB NOT NULL
    );
    "#,
    // 7: literacy cells (crate::cells): counts per questionnaire, district, site, population and
    // breakdown key, and progress cells per district, site, population and day, kept with every
    // write that changes what the analyses count. Filled from the stored interviews once the
    // schema reaches `CELLS_SCHEMA` (`PostgresStorage::migrate`).
    r#"
    CREATE TABLE literacy_cell (
        questionnaire_id TEXT NOT NULL,
        district         TEXT NOT NULL,
        site_id          TEXT NOT NULL,
        population       TEXT NOT NULL,
        breakdown        TEXT NOT NULL,
        key              TEXT NOT NULL,
        n                BIGINT NOT NULL,
        successes        BIGINT NOT NULL,
        PRIMARY KEY (questionnaire_id, district, site_id, population, breakdown, key)
    );
    CREATE TABLE progress_cell (
        district   TEXT NOT NULL,
        site_id    TEXT NOT NULL,
        population TEXT NOT NULL,
        day        TEXT NOT NULL,
        n          BIGINT NOT NULL,
        PRIMARY KEY (district, site_id, population, day)
    );
    "#,
    // 8: sign-in attempts per username (by the hash of the username), shared by every server
    // process and never pushed out by other usernames (people::SignInAttempts).
    r#"
    CREATE TABLE sign_in_attempt (
        key          TEXT PRIMARY KEY,
        failures     INTEGER NOT NULL,
        last_at      TIMESTAMPTZ NOT NULL,
        paused_until TIMESTAMPTZ
    );
    CREATE INDEX sign_in_attempt_last ON sign_in_attempt (last_at);
    "#,
    // 9: one row the readiness check writes, so that "ready" means a write can commit.
    r#"
    CREATE TABLE readiness (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        checked_at TIMESTAMPTZ NOT NULL
    );
    "#,
    // 10: recordings of questionnaires read aloud (media): the bytes once per SHA-256, and which
    // item's question or answer of which questionnaire version each is the recording of.
    r#"
    CREATE TABLE media_blob (
        sha256    TEXT PRIMARY KEY,
        kind      TEXT NOT NULL,
        size      BIGINT NOT NULL,
        bytes     BYTEA NOT NULL,
        stored_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE recording (
        questionnaire_id TEXT NOT NULL,
        version          TEXT NOT NULL,
        item_id          TEXT NOT NULL,
        option_key       TEXT NOT NULL,
        sha256           TEXT NOT NULL REFERENCES media_blob (sha256),
        recorded_at      TIMESTAMPTZ NOT NULL,
        recorded_by      TEXT NOT NULL,
        PRIMARY KEY (questionnaire_id, version, item_id, option_key)
    );
    "#,
    // 11: token buckets (device requests, enrolment attempts) kept here so that every server
    // process on this database limits alike; a bucket full again (full_at passed) is forgotten.
    r#"
    CREATE TABLE rate_bucket (
        key     TEXT PRIMARY KEY,
        tokens  DOUBLE PRECISION NOT NULL,
        at      TIMESTAMPTZ NOT NULL,
        full_at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX rate_bucket_full ON rate_bucket (full_at);
    "#,
    // 12: reference levels and targets a city administrator enters per round (references):
    // figures from outside the survey shown beside its estimates.
    r#"
    CREATE TABLE reference_level (
        id               UUID PRIMARY KEY,
        round            TEXT NOT NULL,
        questionnaire_id TEXT NOT NULL,
        measure          TEXT NOT NULL,
        kind             TEXT NOT NULL,
        value_percent    DOUBLE PRECISION NOT NULL,
        source           TEXT NOT NULL,
        year             INTEGER NOT NULL,
        entered_by       TEXT NOT NULL,
        entered_at       TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX reference_level_questionnaire ON reference_level (questionnaire_id, round);
    "#,
    // 13: the facts of the estimate tables (facts::Facts): the further breakdowns' keys, each
    // population module's literacy and each measured item's outcome. Interviews stored before
    // wait for the backfill at start-up (measures IS NULL, found through the partial index).
    r#"
    ALTER TABLE interview
        ADD COLUMN employer_size TEXT,
        ADD COLUMN ownership TEXT,
        ADD COLUMN employment_form TEXT,
        ADD COLUMN migrant TEXT,
        ADD COLUMN modules TEXT,
        ADD COLUMN measures TEXT;
    CREATE INDEX interview_without_measures ON interview (id) WHERE measures IS NULL;
    -- The facts generation (facts_cache): moved by every statement that writes the interviews
    -- or the sample plan, in its transaction, whatever wrote it.
    CREATE TABLE facts_generation (n BIGINT NOT NULL);
    INSERT INTO facts_generation (n) VALUES (0);
    CREATE OR REPLACE FUNCTION zhisu_facts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN UPDATE facts_generation SET n = n + 1; RETURN NULL; END $$;
    CREATE OR REPLACE TRIGGER interview_changed
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON interview
        FOR EACH STATEMENT EXECUTE FUNCTION zhisu_facts_changed();
    CREATE OR REPLACE TRIGGER site_changed
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON site
        FOR EACH STATEMENT EXECUTE FUNCTION zhisu_facts_changed();
    "#,
    // 14 (#18, privacy): the ids of interviews erased at their respondent's request, so that a
    // tablet or backup sending one again does not store it again; nothing else of them is kept.
    r#"
    CREATE TABLE erased_interview (
        id        UUID PRIMARY KEY,
        erased_at TIMESTAMPTZ NOT NULL
    );
    "#,
    // 15 (#18, privacy): how to re-contact a respondent for a back-check, kept apart from the
    // answers (never in the payload, an export or the interview list), deleted after
    // delete_after by the retention purge or with its interview when that is erased.
    r#"
    CREATE TABLE recontact (
        interview_id          UUID PRIMARY KEY,
        contact               TEXT NOT NULL,
        consent_text_version  TEXT NOT NULL,
        stored_at             TIMESTAMPTZ NOT NULL,
        delete_after          TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX recontact_delete_after ON recontact (delete_after);
    "#,
    // 16 (#18, privacy): the respondent's consent and the version of the consent text they
    // answered, kept with each interview at ingest (facts::consent_text_version); NULL for
    // interviews stored before (the export then reads them from the payload and questionnaire).
    r#"
    ALTER TABLE interview ADD COLUMN consent BOOLEAN,
        ADD COLUMN consent_text_version TEXT;
    "#,
    // 17 (issue 15): contacts that ended otherwise than in a completed interview (partial,
    // refused, not_eligible, other), stored once by id and content hash like interviews.
    r#"
    CREATE TABLE contact (
        id                    UUID PRIMARY KEY,
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        content_hash          TEXT NOT NULL,
        disposition           TEXT NOT NULL,
        started_at            TIMESTAMPTZ NOT NULL,
        ended_at              TIMESTAMPTZ NOT NULL,
        received_at           TIMESTAMPTZ NOT NULL,
        device_id             UUID,
        district              TEXT,
        site_id               TEXT,
        surveyor_id           TEXT,
        population            TEXT,
        items_answered        INTEGER NOT NULL,
        reason                TEXT,
        excluded_by           JSONB NOT NULL,
        payload               JSON NOT NULL
    );
    CREATE INDEX contact_district ON contact (district, disposition);
    "#,
    // 18 (issue 24): outreach events district staff record, and the quiz sessions tablets run
    // at them, stored once by id and content hash; never read by an estimate or progress.
    r#"
    CREATE TABLE outreach_event (
        id          UUID PRIMARY KEY,
        district    TEXT NOT NULL,
        population  TEXT,
        date        DATE NOT NULL,
        entered_by  TEXT NOT NULL,
        entered_at  TIMESTAMPTZ NOT NULL,
        payload     JSON NOT NULL
    );
    CREATE INDEX outreach_event_district ON outreach_event (district, date);
    CREATE TABLE quiz_session (
        id                    UUID PRIMARY KEY,
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        content_hash          TEXT NOT NULL,
        started_at            TIMESTAMPTZ NOT NULL,
        received_at           TIMESTAMPTZ NOT NULL,
        device_id             UUID,
        district              TEXT,
        population            TEXT,
        event_id              UUID,
        site_id               TEXT,
        payload               JSON NOT NULL
    );
    CREATE INDEX quiz_session_district ON quiz_session (district, started_at);
    "#,
    // 19 (issue 24): the education library, every version of every piece kept (an edit adds
    // a version); the newest of each is delivered to tablets.
    r#"
    CREATE TABLE library_piece (
        id         TEXT NOT NULL,
        version    INTEGER NOT NULL,
        points     JSONB NOT NULL,
        title      TEXT NOT NULL,
        body       TEXT NOT NULL,
        source     TEXT NOT NULL,
        written_by TEXT NOT NULL,
        written_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (id, version)
    );
    "#,
    // 20 (issue 24, surveyor training): practice interviews, in a table of their own so that
    // no reader of the survey's interviews (estimates, cells, facts, progress, quality control,
    // exports, reports) can count one; stored once by id and content hash, without answers.
    r#"
    CREATE TABLE practice_interview (
        id                    UUID PRIMARY KEY,
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        content_hash          TEXT NOT NULL,
        device_id             UUID,
        district              TEXT,
        site_id               TEXT,
        surveyor_id           TEXT,
        population            TEXT,
        started_at            TIMESTAMPTZ NOT NULL,
        completed_at          TIMESTAMPTZ NOT NULL,
        received_at           TIMESTAMPTZ NOT NULL,
        duration_s            BIGINT NOT NULL,
        score                 BIGINT NOT NULL,
        max_score             BIGINT NOT NULL,
        qc_flags              JSONB NOT NULL
    );
    CREATE INDEX practice_interview_district ON practice_interview (district, surveyor_id);
    "#,
    // 21 (issue 15): surveyors managed on the server, delivered to their district's tablets.
    // The PIN is kept only as the Argon2id verifier the tablets receive; an id is never reused
    // (a retired surveyor keeps their row).
    r#"
    CREATE TABLE field_surveyor (
        id           TEXT PRIMARY KEY,
        district     TEXT NOT NULL,
        name         TEXT NOT NULL,
        pin_verifier TEXT NOT NULL,
        added_by     TEXT NOT NULL,
        added_at     TIMESTAMPTZ NOT NULL,
        pin_set_at   TIMESTAMPTZ NOT NULL,
        retired_at   TIMESTAMPTZ
    );
    CREATE INDEX field_surveyor_district ON field_surveyor (district, id);
    "#,
    // 22 (issue 15, intercept surveys at stations): the travel direction's key (facts::Facts::more, background role
    // travel_direction), NULL for interviews stored before and for questionnaires without the
    // item; a site's time-slot quotas for travel peaks (zhisu_protocol::TimeSlot, a JSON
    // array; NULL: none).
    r#"
    ALTER TABLE interview ADD COLUMN travel_direction TEXT;
    ALTER TABLE site ADD COLUMN time_slots JSONB;
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
        id          UUID PRIMARY KEY,
        round       TEXT NOT NULL,
        district    TEXT,
        seed        TEXT NOT NULL,
        drawn_at    TIMESTAMPTZ NOT NULL,
        drawn_by    TEXT NOT NULL,
        candidates  BIGINT NOT NULL,
        drawn       BIGINT NOT NULL
    );
    CREATE TABLE backcheck_task (
        id                    UUID PRIMARY KEY,
        draw_id               UUID NOT NULL REFERENCES backcheck_draw (id),
        interview_id          UUID NOT NULL UNIQUE,
        round                 TEXT NOT NULL,
        district              TEXT,
        population            TEXT,
        original_surveyor     TEXT,
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        items                 JSONB NOT NULL,
        original              JSONB NOT NULL,
        drawn_at              TIMESTAMPTZ NOT NULL,
        content_hash          TEXT,
        result                JSONB
    );
    CREATE INDEX backcheck_task_district ON backcheck_task (district, drawn_at);
    "#,
    // 25 (issue 22): app packages a city administrator uploads for tablets to update
    // themselves, with the release signature made offline; one per platform and version.
    r#"
    CREATE TABLE app_package (
        id          BIGSERIAL PRIMARY KEY,
        version     TEXT NOT NULL,
        platform    TEXT NOT NULL,
        size        BIGINT NOT NULL,
        sha256      TEXT NOT NULL,
        signature   TEXT NOT NULL,
        notes_zh    TEXT NOT NULL,
        notes_en    TEXT NOT NULL,
        uploaded_at TIMESTAMPTZ NOT NULL,
        uploaded_by TEXT NOT NULL,
        bytes       BYTEA NOT NULL,
        UNIQUE (platform, version)
    );
    "#,
    // 26 (issue 19): item cells (crate::cells): per questionnaire version, district, site and
    // population, the interviews asked each scored item and those that answered it correctly,
    // kept with every write that changes what the analyses count. The weakest items read these
    // instead of every interview's facts. Filled from the stored interviews right after this
    // migration (`PostgresStorage::migrate`).
    r#"
    CREATE TABLE item_cell (
        questionnaire_id      TEXT NOT NULL,
        questionnaire_version TEXT NOT NULL,
        district              TEXT NOT NULL,  -- '' when none, as in every key column here
        site_id               TEXT NOT NULL,
        population            TEXT NOT NULL,
        asked                 BIGINT[] NOT NULL, -- per scored item in the version's order
        correct               BIGINT[] NOT NULL, -- likewise, those answered correctly
        PRIMARY KEY (questionnaire_id, questionnaire_version, district, site_id, population)
    );
    "#,
    // 27 (issue 19): an interview's payload and score report, a few kilobytes each, are
    // compressed with lz4 rather than pglz when stored out of line: pglz was a tenth of
    // PostgreSQL's time under R6's uploads. Rows stored before keep pglz (both are read). A
    // server built without lz4 (or older than 14) keeps pglz: the change is skipped, not fatal.
    r#"
    DO $$
    BEGIN
        ALTER TABLE interview
            ALTER COLUMN payload SET COMPRESSION lz4,
            ALTER COLUMN score_report SET COMPRESSION lz4;
    EXCEPTION WHEN feature_not_supported OR syntax_error THEN
        RAISE NOTICE 'lz4 compression is not available: interviews stay compressed with pglz';
    END
    $$;
    "#,
];

/// The schema version that added the last kind of cells (the item cells): every database
/// older than it has its cells counted again from its interviews right after this migration
/// (those older than 7, the literacy and progress cells' version, had none).
pub(crate) const CELLS_SCHEMA: usize = 26;
