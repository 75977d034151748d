-- The feed as migration 000010 made it: changes inserted unnumbered and numbered at commit.
CREATE OR REPLACE FUNCTION changes_number() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pending bigint;
    top bigint;
BEGIN
    SELECT count(*) INTO pending FROM changes WHERE seq IS NULL AND xid = NEW.xid;
    UPDATE change_counter SET last = last + pending RETURNING last INTO top;
    UPDATE changes c SET seq = top - pending + n.position
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS position
          FROM changes WHERE seq IS NULL AND xid = NEW.xid) n
    WHERE c.id = n.id;
    DELETE FROM change_commits WHERE xid = NEW.xid;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION changes_from_revisions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO changes (evaluation_id, region_code, fiscal_year, kind, unit, project_name, revision, action, status, previous_status, actor, at)
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
    INSERT INTO changes (evaluation_id, region_code, fiscal_year, kind, unit, project_name, revision, action, status, previous_status, actor, at)
    SELECT o.id, o.region_code, o.fiscal_year, o.kind, o.unit, o.project_name, o.revision, 'delete', o.status, o.status,
           coalesce(nullif(current_setting('perfeval.actor', true), ''), current_user), now()
    FROM old_evaluations o
    ORDER BY o.id;
    IF FOUND THEN
        INSERT INTO change_commits VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

DROP FUNCTION changes_staging();
CREATE INDEX changes_unnumbered_idx ON changes (xid) WHERE seq IS NULL;
ALTER TABLE changes ALTER COLUMN seq DROP NOT NULL;
