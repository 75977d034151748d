-- Province × year sums over every record: the previous year's figures are the rows of the year
-- before, which a client pairs up itself.
SELECT left(region_code, 2), fiscal_year, count(*), sum(expenditure_total), sum(income_total)
FROM evaluations
GROUP BY 1, 2;
