-- GET /api/v1/evaluations?region=<county>&fiscal_year=<year>&limit=50: the one statement
-- `db::evaluation_list::page` sends (captured from PostgreSQL's log), with the same four
-- parameters: year from/to, region-code range low/high. The service's upper bound is
-- '<county>~'; here it is the next county code, which selects the same rows (codes are all
-- digits) and the same plan, and lets pgbench compute it without an extra query. The service
-- binds the years as int8, hence the casts.
-- The county is drawn uniformly from the counties that hold records, as the wrk side does:
-- the script fills in @COUNTY_CASE@ (a CASE over their codes) and passes :year with -D.
\set n random(0, @COUNTY_COUNT@ - 1)
\set lo @COUNTY_CASE@
\set hi :lo + 1
SELECT e.id, e.region_code, r.name AS region_name, e.fiscal_year, e.kind, e.unit, e.status, e.revision,
       e.income_total, e.expenditure_total, e.three_public_total,
       coalesce(e.total_score, e.computed_total_score) AS total_score, coalesce(e.grade, e.computed_grade) AS grade,
       e.created_at, e.updated_at
FROM evaluations e JOIN regions r ON r.code = e.region_code
WHERE true AND e.fiscal_year BETWEEN :year::bigint AND :year::bigint AND ((e.region_code >= :lo AND e.region_code < :hi))
ORDER BY e.id ASC LIMIT 51;
