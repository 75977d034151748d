-- The feed as migration 000018 left it: a table stating every change in full.
DROP TRIGGER evaluations_truncate_states_changes ON evaluations;
DROP TRIGGER evaluations_identity_states_changes ON evaluations;
DROP TRIGGER evaluations_deletes_state_changes ON evaluations;
DROP FUNCTION changes_state_all();
DROP FUNCTION changes_state_record();

CREATE TABLE changes_whole (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seq             bigint UNIQUE NOT NULL,
    xid             xid8 NOT NULL DEFAULT pg_current_xact_id(),
    evaluation_id   bigint NOT NULL,
    region_code     text COLLATE "C" NOT NULL,
    fiscal_year     smallint NOT NULL,
    kind            text NOT NULL,
    unit            text NOT NULL,
    project_name    text,
    revision        integer NOT NULL,
    action          text NOT NULL CHECK (action IN ('create', 'replace', 'submit', 'return', 'approve', 'publish', 'reopen', 'delete')),
    status          text NOT NULL,
    previous_status text,
    actor           text NOT NULL,
    at              timestamptz NOT NULL,
    public          boolean GENERATED ALWAYS AS (
        action = 'publish' OR coalesce(previous_status = 'published' AND action <> 'publish', false)
    ) STORED
);
INSERT INTO changes_whole (seq, evaluation_id, region_code, fiscal_year, kind, unit, project_name, revision, action, status, previous_status, actor, at)
SELECT seq, evaluation_id, region_code, fiscal_year, kind, unit, project_name, revision, action, status, previous_status, actor, at
FROM changes ORDER BY seq;
DROP VIEW changes;
DROP TABLE change_log;
ALTER TABLE changes_whole RENAME TO changes;
ALTER INDEX changes_whole_pkey RENAME TO changes_pkey;
ALTER INDEX changes_whole_seq_key RENAME TO changes_seq_key;
CREATE INDEX changes_region_idx ON changes (region_code, seq);
CREATE INDEX changes_public_idx ON changes (seq) WHERE public;

-- The session's staging table, made on its first write.
CREATE FUNCTION changes_staging() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF to_regclass('pg_temp.changes_pending') IS NULL THEN
        CREATE TEMPORARY TABLE changes_pending (
            position        bigint GENERATED ALWAYS AS IDENTITY,
            evaluation_id   bigint NOT NULL,
            region_code     text COLLATE "C" NOT NULL,
            fiscal_year     smallint NOT NULL,
            kind            text NOT NULL,
            unit            text NOT NULL,
            project_name    text,
            revision        integer NOT NULL,
            action          text NOT NULL,
            status          text NOT NULL,
            previous_status text,
            actor           text NOT NULL,
            at              timestamptz NOT NULL
        ) ON COMMIT DELETE ROWS;
    END IF;
END $$;

CREATE OR REPLACE FUNCTION changes_number() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pending bigint;
    top bigint;
BEGIN
    -- The staging table holds this transaction's changes only: every commit empties it.
    SELECT count(*) INTO pending FROM pg_temp.changes_pending;
    UPDATE change_counter SET last = last + pending RETURNING last INTO top;
    INSERT INTO changes (seq, evaluation_id, region_code, fiscal_year, kind, unit, project_name, revision, action, status, previous_status, actor, at)
    SELECT top - pending + row_number() OVER (ORDER BY position), evaluation_id, region_code, fiscal_year, kind, unit,
           project_name, revision, action, status, previous_status, actor, at
    FROM pg_temp.changes_pending
    ORDER BY position;
    DELETE FROM change_commits WHERE xid = NEW.xid;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION changes_from_revisions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM changes_staging();
    INSERT INTO pg_temp.changes_pending (evaluation_id, region_code, fiscal_year, kind, unit, project_name, revision, action, status, previous_status, actor, at)
    SELECT n.evaluation_id, e.region_code, e.fiscal_year, e.kind, e.unit, e.project_name, n.revision, n.action, n.status,
           p.status, n.actor, n.created_at
    FROM new_revisions n
    JOIN evaluations e ON e.id = n.evaluation_id
    LEFT JOIN evaluation_revisions p ON p.evaluation_id = n.evaluation_id AND p.revision = n.revision - 1
    ORDER BY n.evaluation_id, n.revision;
    IF FOUND THEN
        INSERT INTO change_commits VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION changes_from_deletes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM changes_staging();
    INSERT INTO pg_temp.changes_pending (evaluation_id, region_code, fiscal_year, kind, unit, project_name, revision, action, status, previous_status, actor, at)
    SELECT o.id, o.region_code, o.fiscal_year, o.kind, o.unit, o.project_name, o.revision, 'delete', o.status, o.status,
           coalesce(nullif(current_setting('perfeval.actor', true), ''), current_user), now()
    FROM old_evaluations o
    ORDER BY o.id;
    IF FOUND THEN
        INSERT INTO change_commits VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

DROP FUNCTION change_log_staging();
