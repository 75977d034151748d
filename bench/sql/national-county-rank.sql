-- County sums for 2022, ranked within their prefecture, largest first.
SELECT left(region_code, 6), count(*), sum(expenditure_total),
       rank() OVER (PARTITION BY left(left(region_code, 6), 4) ORDER BY sum(expenditure_total) DESC NULLS LAST)
FROM evaluations
WHERE fiscal_year = 2022
GROUP BY 1
ORDER BY 3 DESC NULLS LAST;
