-- The county × year sums over Hunan, every year: the previous year's figures are the rows of
-- the year before, which a client pairs up itself.
SELECT left(region_code, 6), fiscal_year, count(*), sum(expenditure_total), sum(three_public_total)
FROM evaluations
WHERE region_code >= '43' AND region_code < '44'
GROUP BY 1, 2;
