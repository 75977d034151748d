DROP INDEX evaluation_sums_year;
CREATE INDEX evaluation_sums_year ON evaluation_sums (fiscal_year, region_code);
