DROP TRIGGER indicator_definitions_bump_data_version ON indicator_definitions;
DROP TRIGGER regions_bump_data_version ON regions;
DROP TRIGGER evaluations_bump_data_version ON evaluations;
DROP FUNCTION bump_data_version();
DROP TABLE data_version;
