-- Storage that grows with content, not with clicks: a revision stores the record only when its
-- content changed; a review transition (or a replace that changed nothing) stores who, when and
-- the status change, and points at the revision that holds the content it acted on.
ALTER TABLE evaluation_revisions
    ADD COLUMN content_revision integer,
    ALTER COLUMN record DROP NOT NULL;

-- Every existing revision keeps its content: runs of equal records collapse onto their first.
WITH ordered AS (
    SELECT evaluation_id, revision,
           CASE WHEN record IS DISTINCT FROM lag(record) OVER w THEN 1 ELSE 0 END AS changed
    FROM evaluation_revisions
    WINDOW w AS (PARTITION BY evaluation_id ORDER BY revision)
), grouped AS (
    SELECT evaluation_id, revision,
           sum(changed) OVER (PARTITION BY evaluation_id ORDER BY revision) AS content_group
    FROM ordered
), firsts AS (
    SELECT evaluation_id, revision,
           min(revision) OVER (PARTITION BY evaluation_id, content_group) AS content_revision
    FROM grouped
)
UPDATE evaluation_revisions r
SET content_revision = f.content_revision,
    record = CASE WHEN f.content_revision = r.revision THEN r.record END
FROM firsts f
WHERE f.evaluation_id = r.evaluation_id AND f.revision = r.revision;

ALTER TABLE evaluation_revisions
    ALTER COLUMN content_revision SET NOT NULL,
    ADD CONSTRAINT evaluation_revisions_content CHECK (
        content_revision <= revision AND (record IS NOT NULL) = (content_revision = revision)
    ),
    ADD CONSTRAINT evaluation_revisions_content_fkey
        FOREIGN KEY (evaluation_id, content_revision) REFERENCES evaluation_revisions (evaluation_id, revision)
        DEFERRABLE INITIALLY DEFERRED;
