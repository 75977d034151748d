\set id random(1, 654)
BEGIN;
UPDATE evaluations SET revision = revision + 1, updated_at = now() WHERE id = :id RETURNING revision AS rev \gset
INSERT INTO evaluation_revisions (evaluation_id, revision, action, status, actor, content_revision) SELECT :id, :rev, 'replace', status, 'bench', (SELECT content_revision FROM evaluation_revisions WHERE evaluation_id = :id AND revision = :rev - 1) FROM evaluations WHERE id = :id;
COMMIT;
