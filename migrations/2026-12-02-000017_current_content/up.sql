-- A record's current content is held once, in its tables (`evaluations` and the child tables).
-- The revision that introduced it stores no copy (record NULL) while it is current; the write
-- that next changes the content first stores the content it replaces there, in its own
-- transaction. Older content versions keep their copies, and revisions that changed nothing keep
-- pointing at the one holding theirs. `GET …/revisions/{n}` reads a NULL content version from the
-- tables, in the same snapshot as the revision row.
--
-- The copies of current content that exist already are dropped by the service right after this
-- migration (db::revisions::drop_current_copies), and only where the record read from its tables
-- is exactly the copy: assembling a record is the service's code, not SQL.
ALTER TABLE evaluation_revisions
    DROP CONSTRAINT evaluation_revisions_content,
    ADD CONSTRAINT evaluation_revisions_content CHECK (
        content_revision <= revision AND (record IS NULL OR content_revision = revision)
    );
