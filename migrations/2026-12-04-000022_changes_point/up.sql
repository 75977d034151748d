-- A change of the feed points at what it changed instead of repeating it. Each create, replace
-- and transition is a revision, which already holds the action, the status reached, who and when;
-- the status it left is the revision before's; the record's identity (year, kind, unit, project)
-- is the record's own. The feed repeated all of it, a line per revision (1.54 GB of the national
-- ten-year database, about 1,080 bytes per record). Now `change_log` keeps a change's number, its
-- record and revision, the region (the feed's region filters read it through an index) and
-- whether anonymous callers see it, and the view `changes` reads the rest where it is.
--
-- A change states the rest itself only once its record stops saying it: a delete's tombstone, the
-- earlier changes of a record being deleted (before its revisions go with it), and the earlier
-- changes of a record whose region, year, kind, unit or project name is being changed (they keep the
-- identity they were made under). Those rows have `action` set; the others have it NULL.
CREATE TABLE change_log (
    seq             bigint PRIMARY KEY,
    evaluation_id   bigint NOT NULL,
    revision        integer NOT NULL,
    public          boolean NOT NULL,
    region_code     text COLLATE "C" NOT NULL,
    fiscal_year     smallint,
    kind            text,
    unit            text,
    project_name    text,
    action          text CHECK (action IN ('create', 'replace', 'submit', 'return', 'approve', 'publish', 'reopen', 'delete')),
    status          text,
    previous_status text,
    actor           text,
    at              timestamptz,
    CONSTRAINT change_log_stated CHECK (
        action IS NULL AND fiscal_year IS NULL AND kind IS NULL AND unit IS NULL AND project_name IS NULL
            AND status IS NULL AND previous_status IS NULL AND actor IS NULL AND at IS NULL
        OR action IS NOT NULL AND fiscal_year IS NOT NULL AND kind IS NOT NULL AND unit IS NOT NULL
            AND status IS NOT NULL AND actor IS NOT NULL AND at IS NOT NULL
    )
);

ALTER TABLE changes RENAME TO changes_whole;
ALTER INDEX changes_region_idx RENAME TO changes_whole_region_idx;
ALTER INDEX changes_public_idx RENAME TO changes_whole_public_idx;

-- A line keeps its own words unless its record and revisions say exactly the same.
INSERT INTO change_log (seq, evaluation_id, revision, public, region_code, fiscal_year, kind, unit, project_name,
                        action, status, previous_status, actor, at)
SELECT c.seq, c.evaluation_id, c.revision, c.public, c.region_code,
       CASE WHEN said THEN NULL ELSE c.fiscal_year END, CASE WHEN said THEN NULL ELSE c.kind END,
       CASE WHEN said THEN NULL ELSE c.unit END, CASE WHEN said THEN NULL ELSE c.project_name END,
       CASE WHEN said THEN NULL ELSE c.action END, CASE WHEN said THEN NULL ELSE c.status END,
       CASE WHEN said THEN NULL ELSE c.previous_status END, CASE WHEN said THEN NULL ELSE c.actor END,
       CASE WHEN said THEN NULL ELSE c.at END
FROM (
    SELECT c.*,
           coalesce(e.id IS NOT NULL AND r.evaluation_id IS NOT NULL
               AND (c.fiscal_year, c.kind, c.unit, c.project_name, c.action, c.status, c.previous_status, c.actor, c.at)
                   IS NOT DISTINCT FROM (e.fiscal_year, e.kind, e.unit, e.project_name, r.action, r.status, p.status, r.actor, r.created_at),
               false) AS said
    FROM changes_whole c
    LEFT JOIN evaluations e ON e.id = c.evaluation_id
    LEFT JOIN evaluation_revisions r ON r.evaluation_id = c.evaluation_id AND r.revision = c.revision
    LEFT JOIN evaluation_revisions p ON p.evaluation_id = c.evaluation_id AND p.revision = c.revision - 1
) c
ORDER BY c.seq;

CREATE INDEX change_log_region_idx ON change_log (region_code, seq);
-- Anonymous readers' feed: publications and withdrawals only.
CREATE INDEX change_log_public_idx ON change_log (seq) WHERE public;

CREATE VIEW changes AS
SELECT c.seq, c.evaluation_id, c.region_code,
       coalesce(c.fiscal_year, e.fiscal_year) AS fiscal_year,
       coalesce(c.kind, e.kind) AS kind,
       coalesce(c.unit, e.unit) AS unit,
       CASE WHEN c.action IS NULL THEN e.project_name ELSE c.project_name END AS project_name,
       c.revision,
       coalesce(c.action, r.action) AS action,
       coalesce(c.status, r.status) AS status,
       CASE WHEN c.action IS NULL THEN p.status ELSE c.previous_status END AS previous_status,
       coalesce(c.actor, r.actor) AS actor,
       coalesce(c.at, r.created_at) AS at,
       c.public
FROM change_log c
LEFT JOIN evaluations e ON c.action IS NULL AND e.id = c.evaluation_id
LEFT JOIN evaluation_revisions r ON c.action IS NULL AND r.evaluation_id = c.evaluation_id AND r.revision = c.revision
LEFT JOIN evaluation_revisions p ON c.action IS NULL AND p.evaluation_id = c.evaluation_id AND p.revision = c.revision - 1;

-- Nothing is lost: the view reads back every line the table held, the same.
DO $$
DECLARE
    differing bigint;
BEGIN
    SELECT count(*) INTO differing
    FROM changes_whole w
    FULL JOIN changes v ON v.seq = w.seq
    WHERE w.seq IS NULL OR v.seq IS NULL
       OR (w.evaluation_id, w.region_code, w.fiscal_year, w.kind, w.unit, w.project_name, w.revision, w.action,
           w.status, w.previous_status, w.actor, w.at, w.public)
          IS DISTINCT FROM
          (v.evaluation_id, v.region_code, v.fiscal_year, v.kind, v.unit, v.project_name, v.revision, v.action,
           v.status, v.previous_status, v.actor, v.at, v.public);
    IF differing > 0 THEN
        RAISE EXCEPTION '% changes of the feed would read back differently; nothing was changed', differing;
    END IF;
END $$;

DROP TABLE changes_whole;

-- The session's staging table (a new name: a session that staged with the old shape keeps its own).
CREATE FUNCTION change_log_staging() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF to_regclass('pg_temp.change_log_pending') IS NULL THEN
        CREATE TEMPORARY TABLE change_log_pending (
            position        bigint GENERATED ALWAYS AS IDENTITY,
            evaluation_id   bigint NOT NULL,
            revision        integer NOT NULL,
            public          boolean NOT NULL,
            region_code     text COLLATE "C" NOT NULL,
            fiscal_year     smallint,
            kind            text,
            unit            text,
            project_name    text,
            action          text,
            status          text,
            previous_status text,
            actor           text,
            at              timestamptz
        ) ON COMMIT DELETE ROWS;
    END IF;
END $$;

CREATE OR REPLACE FUNCTION changes_number() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pending bigint;
    top bigint;
BEGIN
    -- The staging table holds this transaction's changes only: every commit empties it.
    SELECT count(*) INTO pending FROM pg_temp.change_log_pending;
    UPDATE change_counter SET last = last + pending RETURNING last INTO top;
    INSERT INTO change_log (seq, evaluation_id, revision, public, region_code, fiscal_year, kind, unit, project_name,
                            action, status, previous_status, actor, at)
    SELECT top - pending + row_number() OVER (ORDER BY position), evaluation_id, revision, public, region_code,
           fiscal_year, kind, unit, project_name, action, status, previous_status, actor, at
    FROM pg_temp.change_log_pending
    ORDER BY position;
    DELETE FROM change_commits WHERE xid = NEW.xid;
    RETURN NULL;
END $$;

-- Creates, replaces and transitions: the revision says the rest.
CREATE OR REPLACE FUNCTION changes_from_revisions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM change_log_staging();
    INSERT INTO pg_temp.change_log_pending (evaluation_id, revision, public, region_code)
    SELECT n.evaluation_id, n.revision,
           n.action = 'publish' OR coalesce(p.status = 'published' AND n.action <> 'publish', false),
           e.region_code
    FROM new_revisions n
    JOIN evaluations e ON e.id = n.evaluation_id
    LEFT JOIN evaluation_revisions p ON p.evaluation_id = n.evaluation_id AND p.revision = n.revision - 1
    ORDER BY n.evaluation_id, n.revision;
    IF FOUND THEN
        INSERT INTO change_commits VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

-- A delete's tombstone states everything: its record is gone.
CREATE OR REPLACE FUNCTION changes_from_deletes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM change_log_staging();
    INSERT INTO pg_temp.change_log_pending (evaluation_id, revision, public, region_code, fiscal_year, kind, unit,
                                            project_name, action, status, previous_status, actor, at)
    SELECT o.id, o.revision, o.status = 'published', o.region_code, o.fiscal_year, o.kind, o.unit, o.project_name,
           'delete', o.status, o.status, coalesce(nullif(current_setting('perfeval.actor', true), ''), current_user), now()
    FROM old_evaluations o
    ORDER BY o.id;
    IF FOUND THEN
        INSERT INTO change_commits VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

-- A record about to stop saying what its changes were (deleted, or given another region, year,
-- kind, unit or project name): its changes that read it state it themselves from now on, committed and
-- staged alike. Its changes are found through the region index: every change that reads its
-- record has the record's region, as a region change is stated too.
CREATE FUNCTION changes_state_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE change_log c
    SET fiscal_year = OLD.fiscal_year, kind = OLD.kind, unit = OLD.unit, project_name = OLD.project_name,
        action = r.action, status = r.status, previous_status = p.status, actor = r.actor, at = r.created_at
    FROM evaluation_revisions r
    LEFT JOIN evaluation_revisions p ON p.evaluation_id = r.evaluation_id AND p.revision = r.revision - 1
    WHERE c.region_code = OLD.region_code AND c.evaluation_id = OLD.id AND c.action IS NULL
      AND r.evaluation_id = OLD.id AND r.revision = c.revision;
    IF to_regclass('pg_temp.change_log_pending') IS NOT NULL THEN
        UPDATE pg_temp.change_log_pending c
        SET fiscal_year = OLD.fiscal_year, kind = OLD.kind, unit = OLD.unit, project_name = OLD.project_name,
            action = r.action, status = r.status, previous_status = p.status, actor = r.actor, at = r.created_at
        FROM evaluation_revisions r
        LEFT JOIN evaluation_revisions p ON p.evaluation_id = r.evaluation_id AND p.revision = r.revision - 1
        WHERE c.evaluation_id = OLD.id AND c.action IS NULL AND r.evaluation_id = OLD.id AND r.revision = c.revision;
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER evaluations_deletes_state_changes BEFORE DELETE ON evaluations
    FOR EACH ROW EXECUTE FUNCTION changes_state_record();
CREATE TRIGGER evaluations_identity_states_changes BEFORE UPDATE ON evaluations
    FOR EACH ROW
    WHEN ((OLD.region_code, OLD.fiscal_year, OLD.kind, OLD.unit, OLD.project_name)
          IS DISTINCT FROM (NEW.region_code, NEW.fiscal_year, NEW.kind, NEW.unit, NEW.project_name))
    EXECUTE FUNCTION changes_state_record();

-- TRUNCATE takes records without a delete: every change that reads one states it first.
CREATE FUNCTION changes_state_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE change_log c
    SET fiscal_year = e.fiscal_year, kind = e.kind, unit = e.unit, project_name = e.project_name,
        action = r.action, status = r.status, previous_status = p.status, actor = r.actor, at = r.created_at
    FROM evaluations e
    JOIN evaluation_revisions r ON r.evaluation_id = e.id
    LEFT JOIN evaluation_revisions p ON p.evaluation_id = r.evaluation_id AND p.revision = r.revision - 1
    WHERE c.action IS NULL AND e.id = c.evaluation_id AND r.revision = c.revision;
    RETURN NULL;
END $$;
CREATE TRIGGER evaluations_truncate_states_changes BEFORE TRUNCATE ON evaluations
    FOR EACH STATEMENT EXECUTE FUNCTION changes_state_all();

DROP FUNCTION changes_staging();
