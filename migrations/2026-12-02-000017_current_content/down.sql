-- The schema before holds every current content as a copy too. Those copies are assembled by the
-- service from the records' tables, so `perfeval migrate --revert-to VERSION` stores them
-- (db::revisions::store_current_copies) before it runs this.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM evaluation_revisions WHERE record IS NULL AND content_revision = revision) THEN
        RAISE EXCEPTION 'current contents are held only in the records'
            USING HINT = 'revert with `perfeval migrate --revert-to VERSION`, which copies them into their revisions first';
    END IF;
END $$;
ALTER TABLE evaluation_revisions
    DROP CONSTRAINT evaluation_revisions_content,
    ADD CONSTRAINT evaluation_revisions_content CHECK (
        content_revision <= revision AND (record IS NOT NULL) = (content_revision = revision)
    );
