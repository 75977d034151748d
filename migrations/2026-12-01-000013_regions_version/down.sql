DROP TRIGGER regions_bump_regions_version ON regions;
DROP FUNCTION bump_regions_version();
ALTER TABLE data_version DROP COLUMN regions_version;
