-- Quartiles of the total score (stated, else computed) per prefecture and year, every record.
SELECT left(region_code, 4), fiscal_year, count(*),
       percentile_cont(ARRAY[0.5, 0.25, 0.75]) WITHIN GROUP (ORDER BY coalesce(total_score, computed_total_score))
FROM evaluations
GROUP BY 1, 2;
