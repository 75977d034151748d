-- The record count of any filter the sums hold, read from an index alone: a list's exact total and
-- an aggregate's record count when the statement cuts its page (src/db/aggregates.rs). Summing
-- `records` over the sums' heap read all of its pages (92 MB for the national ten-year dataset,
-- 46-60 ms); this index is 7 MB. It leads with the year as the index it replaces did.
DROP INDEX evaluation_sums_year;
CREATE INDEX evaluation_sums_year ON evaluation_sums (fiscal_year, region_code, kind, status, grade) INCLUDE (records);
