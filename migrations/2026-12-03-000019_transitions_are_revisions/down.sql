-- The review transitions as a table of their own again, each rebuilt from the revision it made.
CREATE TABLE evaluation_transitions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    evaluation_id   bigint NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    action          text NOT NULL CHECK (action IN ('submit', 'return', 'approve', 'publish', 'reopen')),
    from_status     text NOT NULL,
    to_status       text NOT NULL,
    actor           text NOT NULL,
    comment         text,
    revision        integer NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

INSERT INTO evaluation_transitions (evaluation_id, action, from_status, to_status, actor, comment, revision, created_at)
SELECT evaluation_id, action, from_status, status, actor, comment, revision, created_at
FROM (
    SELECT r.*, lag(r.status) OVER (PARTITION BY r.evaluation_id ORDER BY r.revision) AS from_status
    FROM evaluation_revisions r
) h
WHERE action IN ('submit', 'return', 'approve', 'publish', 'reopen')
ORDER BY evaluation_id, revision;

CREATE INDEX evaluation_transitions_evaluation_idx ON evaluation_transitions (evaluation_id, id);
