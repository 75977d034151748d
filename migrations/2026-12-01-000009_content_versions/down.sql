ALTER TABLE evaluation_revisions
    DROP CONSTRAINT evaluation_revisions_content_fkey,
    DROP CONSTRAINT evaluation_revisions_content;
UPDATE evaluation_revisions r SET record = c.record
FROM evaluation_revisions c
WHERE r.record IS NULL AND c.evaluation_id = r.evaluation_id AND c.revision = r.content_revision;
ALTER TABLE evaluation_revisions
    ALTER COLUMN record SET NOT NULL,
    DROP COLUMN content_revision;
