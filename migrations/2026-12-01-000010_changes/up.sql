-- The change feed (GET /api/v1/changes) and webhooks.
--
-- Every create, replace, transition and delete is written to `changes` by triggers, in the
-- write's own transaction: the feed is also the webhooks' outbox. A change is numbered (`seq`)
-- when its transaction commits, under the lock of the one `change_counter` row, which the
-- transaction holds until its commit is visible. Numbers are therefore handed out in commit
-- order: once a reader sees number n, every number below n is already visible, so a cursor
-- never passes a change that commits later.
CREATE TABLE change_counter (
    only_row    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    last        bigint NOT NULL
);

CREATE TABLE changes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Commit order; NULL only until the writing transaction commits.
    seq             bigint UNIQUE,
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
    -- What anonymous callers see: publications, and the withdrawal of a published record.
    public          boolean GENERATED ALWAYS AS (
        action = 'publish' OR coalesce(previous_status = 'published' AND action <> 'publish', false)
    ) STORED
);
CREATE INDEX changes_unnumbered_idx ON changes (xid) WHERE seq IS NULL;
CREATE INDEX changes_region_idx ON changes (region_code, seq);
-- Anonymous readers' feed: publications and withdrawals only.
CREATE INDEX changes_public_idx ON changes (seq) WHERE public;

-- One row per writing transaction, whose deferred trigger numbers its changes at commit.
CREATE TABLE change_commits (
    xid xid8 PRIMARY KEY
);

-- Existing history becomes the start of the feed (deletions before this migration left no trace).
INSERT INTO changes (seq, evaluation_id, region_code, fiscal_year, kind, unit, project_name, revision, action, status, previous_status, actor, at)
SELECT row_number() OVER (ORDER BY r.created_at, r.evaluation_id, r.revision),
       r.evaluation_id, e.region_code, e.fiscal_year, e.kind, e.unit, e.project_name, r.revision, r.action, r.status,
       lag(r.status) OVER (PARTITION BY r.evaluation_id ORDER BY r.revision), r.actor, r.created_at
FROM evaluation_revisions r JOIN evaluations e ON e.id = r.evaluation_id;
INSERT INTO change_counter (last) SELECT coalesce(max(seq), 0) FROM changes;

CREATE FUNCTION changes_number() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE CONSTRAINT TRIGGER change_commits_number AFTER INSERT ON change_commits
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION changes_number();

-- Creates, replaces and transitions: each stores a revision.
CREATE FUNCTION changes_from_revisions() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER evaluation_revisions_changes AFTER INSERT ON evaluation_revisions
    REFERENCING NEW TABLE AS new_revisions FOR EACH STATEMENT EXECUTE FUNCTION changes_from_revisions();

-- Deletes leave a tombstone; the deleting request names its caller in `perfeval.actor`.
CREATE FUNCTION changes_from_deletes() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER evaluations_deletes_changes AFTER DELETE ON evaluations
    REFERENCING OLD TABLE AS old_evaluations FOR EACH STATEMENT EXECUTE FUNCTION changes_from_deletes();

-- Webhook endpoints registered by admins.
CREATE TABLE webhooks (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url             text NOT NULL,
    -- The actions sent; empty: every action.
    events          text[] NOT NULL DEFAULT '{}',
    -- A region code prefix; NULL: everywhere.
    region_code     text COLLATE "C",
    secret          text NOT NULL,
    -- The last change fanned out into deliveries.
    after_seq       bigint NOT NULL,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- One event for one endpoint: pending until delivered, or failed after the last attempt.
CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id      bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    change_seq      bigint NOT NULL,
    evaluation_id   bigint NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     smallint,
    last_error      text,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (webhook_id, change_seq)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_record_idx ON webhook_deliveries (webhook_id, evaluation_id, change_seq) WHERE state = 'pending';
