-- Prefecture sums for 2022 with their province subtotals and the grand total, in one pass
-- (ROLLUP); a client divides each row by its parent.
SELECT left(region_code, 4), count(*), sum(expenditure_total), sum(three_public_total)
FROM evaluations
WHERE fiscal_year = 2022
GROUP BY ROLLUP (left(region_code, 2), left(region_code, 4));
