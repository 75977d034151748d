DROP INDEX evaluation_indicators_matched_code;
DROP INDEX evaluation_indicators_code;
ALTER TABLE evaluation_indicators DROP CONSTRAINT evaluation_indicators_code_fkey, DROP COLUMN matched_code;
DROP TABLE indicator_definitions;
DROP FUNCTION indicator_name_keys(text, text[]);
DROP FUNCTION indicator_name_key(text);
