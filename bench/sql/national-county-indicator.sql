-- Per county in 2022, the records and the sum of one library indicator's actual values over the
-- applicable indicator rows that give or were matched to its code.
SELECT left(e.region_code, 6), count(*), sum(i.actual)
FROM evaluations e
LEFT JOIN LATERAL (
    SELECT sum(x.actual) AS actual FROM evaluation_indicators x
    WHERE x.evaluation_id = e.id AND coalesce(x.code, x.matched_code) = '@INDICATOR@' AND x.applicable
) i ON true
WHERE e.fiscal_year = 2022
GROUP BY 1;
