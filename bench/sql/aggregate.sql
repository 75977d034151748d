-- GET /api/v1/aggregates?measures=expenditure.total,three_public.total&group_by=county,fiscal_year
--     &region=43&compare=previous_year
-- The four statements the endpoint sends, one after another (captured from PostgreSQL's log):
-- the row-cap estimate (counties under the region × years), the record count, and the
-- aggregate. Text parameters come from `-D` so they are bound, as the service binds them:
-- -D level=county -D pattern=43% -D lo=43 -D hi=43~ -D min_count=1
SELECT COUNT(*) FROM regions WHERE ((level = :level) AND (false OR (code LIKE :pattern)));
WITH RECURSIVE y(year) AS (SELECT min(fiscal_year) FROM evaluations UNION ALL SELECT (SELECT min(fiscal_year) FROM evaluations WHERE fiscal_year > y.year) FROM y WHERE y.year IS NOT NULL) SELECT count(year) AS years FROM y;
SELECT count(*) AS total FROM evaluations e WHERE true AND ((e.region_code >= :lo AND e.region_code < :hi));
SELECT json_build_array(g.d0, r0.name, g.d1, NULL, g.n, g.m0_0, g.m1_0)::text AS row
FROM (SELECT left(e.region_code, 6) AS d0, e.fiscal_year AS d1, count(*) AS n,
             sum(e.expenditure_total) AS m0_0, sum(e.three_public_total) AS m1_0
      FROM evaluations e WHERE true AND ((e.region_code >= :lo AND e.region_code < :hi))
      GROUP BY 1, 2 HAVING count(*) >= :min_count) g
LEFT JOIN regions r0 ON r0.code = g.d0;
