-- One number that every committed write of what reads show moves: records (and so their
-- indicator rows, projects and workflow, which change only with their record), the division
-- table and the indicator library. Conditional reads and the response cache key their answers
-- by it (`ETag`, src/routes/conditional.rs), so a write is never answered from before it.
--
-- The bump runs once per transaction, at its commit: a deferred constraint trigger, fired for
-- each changed row but doing its update only for the transaction's first, holds the one row's
-- lock only while the transaction commits, so concurrent writers do not queue behind each
-- other's whole transaction. NOTIFY `perfeval_data` carries the new number to every service
-- process that listens, delivered when the transaction commits.
CREATE TABLE data_version (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version bigint NOT NULL
);
INSERT INTO data_version (version) VALUES (1);

CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    this_transaction text := txid_current()::text;
    bumped bigint;
BEGIN
    IF current_setting('perfeval.data_version_bumped_in', true) IS DISTINCT FROM this_transaction THEN
        PERFORM set_config('perfeval.data_version_bumped_in', this_transaction, true);
        UPDATE data_version SET version = version + 1 RETURNING version INTO bumped;
        PERFORM pg_notify('perfeval_data', bumped::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER evaluations_bump_data_version
    AFTER INSERT OR UPDATE OR DELETE ON evaluations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_data_version();
CREATE CONSTRAINT TRIGGER regions_bump_data_version
    AFTER INSERT OR UPDATE OR DELETE ON regions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_data_version();
CREATE CONSTRAINT TRIGGER indicator_definitions_bump_data_version
    AFTER INSERT OR UPDATE OR DELETE ON indicator_definitions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_data_version();
