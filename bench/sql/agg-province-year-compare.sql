-- Province × year sums over every record.
SELECT left(region_code, 2), fiscal_year, count(*), sum(expenditure_total), sum(income_total)
FROM evaluations
GROUP BY 1, 2;
