-- A second number beside the data version that only writes of the division table move. Each
-- service process keeps the division names in memory to name aggregate groups (a probe per group
-- row cost more than the grouping itself), and reloads them when this number moves, whichever
-- process (or `perfeval regions load`) wrote the table. It is read in the same one-row statement
-- as the data version, so it costs no statement of its own.
ALTER TABLE data_version ADD COLUMN regions_version bigint NOT NULL DEFAULT 1;

CREATE FUNCTION bump_regions_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    this_transaction text := txid_current()::text;
BEGIN
    IF current_setting('perfeval.regions_version_bumped_in', true) IS DISTINCT FROM this_transaction THEN
        PERFORM set_config('perfeval.regions_version_bumped_in', this_transaction, true);
        UPDATE data_version SET regions_version = regions_version + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER regions_bump_regions_version
    AFTER INSERT OR UPDATE OR DELETE ON regions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_regions_version();
